//! Which format a report is in, from its content: one streaming pass over the top-level keys
//! that stores nothing but a few flags. What was seen before a syntax error still counts, so a
//! truncated report is recognised and then answered with the position of its error.

use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::Format;
use super::json::strip_bom;

/// What the top level of the document showed.
#[derive(Debug, Default)]
struct Probe {
    /// `runs` is an array (SARIF).
    runs_array: bool,
    /// `$schema` names a SARIF schema.
    sarif_schema: bool,
    /// `spdxVersion` is `SPDX-…` (an SPDX JSON document).
    spdx_version: bool,
    /// The first item of a `results` array has `source` (osv-scanner).
    first_result_source: bool,
    /// The first item of a `results` array has `packages` (osv-scanner).
    first_result_packages: bool,
    /// `results` is an empty array.
    empty_results: bool,
    /// `experimental_config`, which osv-scanner writes even when it found nothing.
    experimental_config: bool,
    /// `SchemaVersion` (Trivy).
    schema_version: bool,
    /// `Results` or `ArtifactName` (Trivy).
    trivy_results: bool,
    /// The first item of a `matches` array has `vulnerability` (Grype).
    first_match_vulnerability: bool,
    /// The first item of a `matches` array has `artifact` (Grype).
    first_match_artifact: bool,
    /// `matches` is an empty array (a clean Grype run).
    empty_matches: bool,
    /// `descriptor`, Grype's description of itself.
    descriptor: bool,
    /// `vulnerabilities` is an array (GitLab security report).
    vulnerabilities_array: bool,
    /// `version`, `scan` or `remediations` (GitLab security report).
    gitlab_keys: bool,
    /// `auditReportVersion` (npm audit, npm 7 and later).
    audit_report_version: bool,
    /// `advisories` and `actions` (npm audit of npm 6, refused with a message).
    npm6_advisories: bool,
    npm6_actions: bool,
    /// `bomFormat` is `CycloneDX`.
    cyclonedx: bool,
    /// `database` and `lockfile` (cargo-audit, even when it found nothing).
    database: bool,
    lockfile: bool,
    /// `dependencies` is an array (pip-audit, also CycloneDX).
    dependencies_array: bool,
    /// The first item of `dependencies` has `vulns` or `skip_reason` (pip-audit).
    first_dependency_pip: bool,
    /// `fixes` is an array (pip-audit).
    fixes_array: bool,
    /// The document is an empty array (a clean gitleaks run).
    empty_array: bool,
    /// The first item of a top-level array has `vulns` (pip-audit before 2.0).
    first_item_vulns: bool,
    /// The first item of a top-level array has a key only gitleaks writes (`RuleID`, …).
    first_item_gitleaks: bool,
}

pub(crate) fn detect(bytes: &[u8]) -> Option<Format> {
    let mut probe = Probe::default();
    let mut de = serde_json::Deserializer::from_slice(strip_bom(bytes));
    // A syntax or shape error ends the probe; what it saw before still decides.
    let _ = de.deserialize_any(TopLevel(&mut probe));
    if probe.runs_array || probe.sarif_schema {
        Some(Format::Sarif)
    } else if probe.spdx_version {
        Some(Format::Spdx)
    } else if (probe.first_result_source && probe.first_result_packages)
        || (probe.empty_results && probe.experimental_config)
    {
        Some(Format::OsvScanner)
    } else if probe.schema_version && probe.trivy_results {
        Some(Format::Trivy)
    } else if (probe.first_match_vulnerability && probe.first_match_artifact)
        || (probe.empty_matches && probe.descriptor)
    {
        Some(Format::Grype)
    } else if probe.audit_report_version || (probe.npm6_advisories && probe.npm6_actions) {
        Some(Format::NpmAudit)
    } else if probe.cyclonedx {
        Some(Format::CycloneDx)
    } else if probe.database && probe.lockfile {
        Some(Format::CargoAudit)
    } else if probe.first_dependency_pip
        || (probe.dependencies_array && probe.fixes_array)
        || probe.first_item_vulns
    {
        Some(Format::PipAudit)
    } else if probe.first_item_gitleaks || probe.empty_array {
        Some(Format::Gitleaks)
    // Last: CycloneDX also has a `vulnerabilities` array and a `version`.
    } else if probe.vulnerabilities_array && probe.gitlab_keys {
        Some(Format::GitLab)
    } else {
        None
    }
}

struct TopLevel<'p>(&'p mut Probe);

impl<'de> Visitor<'de> for TopLevel<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "runs" => map.next_value_seed(ArrayFlag(&mut self.0.runs_array))?,
                "results" => map.next_value_seed(FirstItem(self.0, ItemOf::Results))?,
                "$schema" => {
                    let schema = map.next_value::<serde_json::Value>()?;
                    self.0.sarif_schema = schema
                        .as_str()
                        .is_some_and(|s| s.to_ascii_lowercase().contains("sarif"));
                }
                "spdxVersion" => {
                    let version = map.next_value::<serde_json::Value>()?;
                    self.0.spdx_version = version.as_str().is_some_and(|v| v.starts_with("SPDX-"));
                }
                "experimental_config" => {
                    self.0.experimental_config = true;
                    map.next_value::<IgnoredAny>()?;
                }
                "SchemaVersion" | "Results" | "ArtifactName" | "descriptor" | "version"
                | "scan" | "remediations" => {
                    let probe = &mut *self.0;
                    let flag = match key.as_str() {
                        "SchemaVersion" => &mut probe.schema_version,
                        "Results" | "ArtifactName" => &mut probe.trivy_results,
                        "descriptor" => &mut probe.descriptor,
                        _ => &mut probe.gitlab_keys,
                    };
                    *flag = true;
                    map.next_value::<IgnoredAny>()?;
                }
                "matches" => map.next_value_seed(FirstItem(self.0, ItemOf::Matches))?,
                "vulnerabilities" => {
                    map.next_value_seed(FirstItem(self.0, ItemOf::Vulnerabilities))?;
                }
                "bomFormat" => {
                    let format = map.next_value::<serde_json::Value>()?;
                    self.0.cyclonedx = format.as_str() == Some("CycloneDX");
                }
                "dependencies" => {
                    map.next_value_seed(FirstItem(self.0, ItemOf::Dependencies))?;
                }
                "fixes" => map.next_value_seed(ArrayFlag(&mut self.0.fixes_array))?,
                "auditReportVersion" => present(&mut self.0.audit_report_version, &mut map)?,
                "advisories" => present(&mut self.0.npm6_advisories, &mut map)?,
                "actions" => present(&mut self.0.npm6_actions, &mut map)?,
                "database" => present(&mut self.0.database, &mut map)?,
                "lockfile" => present(&mut self.0.lockfile, &mut map)?,
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(())
    }

    /// A top-level array: gitleaks, or pip-audit before 2.0.
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<(), A::Error> {
        FirstItem(self.0, ItemOf::Document).visit_seq(seq)
    }
}

/// Sets its flag when the value is an array, whose items it then skips.
struct ArrayFlag<'f>(&'f mut bool);

impl<'de> DeserializeSeed<'de> for ArrayFlag<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ArrayFlag<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        *self.0 = true;
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(())
    }
}

/// Sets `flag` for a key that is present, whatever its value, which it skips.
fn present<'de, A: MapAccess<'de>>(flag: &mut bool, map: &mut A) -> Result<(), A::Error> {
    *flag = true;
    map.next_value::<IgnoredAny>()?;
    Ok(())
}

/// The arrays whose first item's keys identify a format.
#[derive(Clone, Copy)]
enum ItemOf {
    /// The document itself is an array (gitleaks; pip-audit before 2.0).
    Document,
    /// osv-scanner's `results`: the first has `source` and `packages`.
    Results,
    /// Grype's `matches`: the first has `vulnerability` and `artifact`.
    Matches,
    /// GitLab's `vulnerabilities` (an object in npm audit and cargo-audit: skipped).
    Vulnerabilities,
    /// pip-audit's `dependencies` (CycloneDX's dependency graph has other keys).
    Dependencies,
}

/// Any value; when it is an array, records that and its first item's keys, and skips the
/// rest. Other values are skipped: another format may use the same key for an object.
struct FirstItem<'p>(&'p mut Probe, ItemOf);

impl<'de> DeserializeSeed<'de> for FirstItem<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for FirstItem<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any value")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let FirstItem(probe, of) = self;
        match of {
            ItemOf::Vulnerabilities => probe.vulnerabilities_array = true,
            ItemOf::Dependencies => probe.dependencies_array = true,
            _ => {}
        }
        if seq.next_element_seed(ItemKeys(&mut *probe, of))?.is_none() {
            match of {
                ItemOf::Document => probe.empty_array = true,
                ItemOf::Results => probe.empty_results = true,
                ItemOf::Matches => probe.empty_matches = true,
                _ => {}
            }
        }
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<(), A::Error> {
        IgnoredAny.visit_map(map).map(|_| ())
    }

    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }

    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }

    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }

    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }

    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
}

/// Records the keys of an array's first item that identify a format.
struct ItemKeys<'p>(&'p mut Probe, ItemOf);

impl<'de> DeserializeSeed<'de> for ItemKeys<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for ItemKeys<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let probe = self.0;
        while let Some(key) = map.next_key::<String>()? {
            match (self.1, key.as_str()) {
                (ItemOf::Document, "vulns") => probe.first_item_vulns = true,
                (
                    ItemOf::Document,
                    "RuleID" | "StartLine" | "StartColumn" | "Secret" | "SymlinkFile" | "Entropy"
                    | "Fingerprint",
                ) => probe.first_item_gitleaks = true,
                (ItemOf::Results, "source") => probe.first_result_source = true,
                (ItemOf::Results, "packages") => probe.first_result_packages = true,
                (ItemOf::Matches, "vulnerability") => probe.first_match_vulnerability = true,
                (ItemOf::Matches, "artifact") => probe.first_match_artifact = true,
                (ItemOf::Dependencies, "vulns" | "skip_reason") => {
                    probe.first_dependency_pip = true;
                }
                _ => {}
            }
            map.next_value::<IgnoredAny>()?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sarif_by_runs_or_schema() {
        assert_eq!(
            detect(br#"{"version":"2.1.0","runs":[]}"#),
            Some(Format::Sarif)
        );
        assert_eq!(
            detect(br#"{"$schema":"https://json.schemastore.org/sarif-2.1.0.json"}"#),
            Some(Format::Sarif)
        );
        assert_eq!(
            detect(b"\xEF\xBB\xBF{\"runs\":[{}]}"),
            Some(Format::Sarif),
            "BOM"
        );
    }

    #[test]
    fn osv_scanner_by_results_shape() {
        assert_eq!(
            detect(br#"{"results":[{"source":{"path":"go.mod"},"packages":[]}]}"#),
            Some(Format::OsvScanner)
        );
        assert_eq!(
            detect(br#"{"results":[],"experimental_config":{}}"#),
            Some(Format::OsvScanner),
            "a clean osv-scanner run"
        );
    }

    #[test]
    fn other_json_is_not_recognised() {
        assert_eq!(
            detect(br#"{"results":[]}"#),
            None,
            "semgrep JSON with no results"
        );
        assert_eq!(detect(br#"{"results":[{"check_id":"x"}]}"#), None);
        assert_eq!(detect(br#"{"runs":{}}"#), None);
        assert_eq!(detect(br#"[{"runs":[]}]"#), None);
        assert_eq!(detect(b""), None);
        assert_eq!(detect(b"not json"), None);
    }

    #[test]
    fn truncated_reports_are_still_recognised() {
        assert_eq!(detect(br#"{"runs":[{"tool":{"dri"#), Some(Format::Sarif));
        assert_eq!(
            detect(br#"{"results":[{"source":{"path":"a"},"packages":[{"pack"#),
            Some(Format::OsvScanner)
        );
    }

    /// Every report under `fixtures/`: those in the directory of a dependency or secret
    /// scanner format are detected as that format, every other one as none of them.
    #[test]
    fn fixtures_are_detected_as_their_own_format_only() {
        let own = [
            ("sca/gitleaks/", Format::Gitleaks),
            ("sca/npm-audit/", Format::NpmAudit),
            ("sca/pip-audit/", Format::PipAudit),
            ("sca/cargo-audit/", Format::CargoAudit),
            ("sca/cyclonedx/", Format::CycloneDx),
            ("sbom/spdx/", Format::Spdx),
        ];
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
        let mut stack = vec![root.clone()];
        let mut checked = 0;
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    stack.push(path);
                    continue;
                }
                let name = path.to_string_lossy().into_owned();
                if !(name.ends_with(".json") || name.ends_with(".sarif")) {
                    continue;
                }
                let relative = path.strip_prefix(&root).unwrap().to_string_lossy();
                let relative = relative.replace('\\', "/");
                let detected = detect(&std::fs::read(&path).unwrap());
                match own.iter().find(|(dir, _)| relative.starts_with(dir)) {
                    Some((_, format)) => assert_eq!(detected, Some(*format), "{relative}"),
                    None => assert!(
                        !own.iter().any(|(_, format)| detected == Some(*format)),
                        "{relative} detected as {detected:?}"
                    ),
                }
                checked += 1;
            }
        }
        assert!(checked >= 20, "only {checked} reports under fixtures/");
    }

    #[test]
    fn spdx_by_its_version() {
        assert_eq!(
            detect(br#"{"SPDXID":"SPDXRef-DOCUMENT","spdxVersion":"SPDX-2.3","packages":[]}"#),
            Some(Format::Spdx)
        );
        assert_eq!(
            detect(br#"{"spdxVersion":"SPDX-2.2","packages":[{"SPDXID":"x""#),
            Some(Format::Spdx),
            "truncated"
        );
        assert_eq!(detect(br#"{"spdxVersion":"2.3"}"#), None);
        assert_eq!(detect(br#"{"spdxVersion":7}"#), None);
    }

    #[test]
    fn top_level_arrays_by_their_first_item() {
        assert_eq!(
            detect(b"[]"),
            Some(Format::Gitleaks),
            "a clean gitleaks run"
        );
        assert_eq!(
            detect(br#"[{"Description":"AWS","StartLine":2}]"#),
            Some(Format::Gitleaks)
        );
        assert_eq!(
            detect(br#"[{"name":"six","version":"1.16.0","vulns":[]}]"#),
            Some(Format::PipAudit)
        );
        assert_eq!(detect(br#"[{"name":"six"}]"#), None);
        assert_eq!(detect(br#"[1]"#), None);
    }

    #[test]
    fn dependency_report_keys() {
        assert_eq!(
            detect(br#"{"auditReportVersion":2,"vulnerabilities":{}}"#),
            Some(Format::NpmAudit)
        );
        assert_eq!(
            detect(br#"{"actions":[],"advisories":{}}"#),
            Some(Format::NpmAudit),
            "npm 6, refused when parsed"
        );
        assert_eq!(detect(br#"{"advisories":{}}"#), None);
        assert_eq!(
            detect(br#"{"bomFormat":"CycloneDX","specVersion":"1.5"}"#),
            Some(Format::CycloneDx)
        );
        assert_eq!(
            detect(
                br#"{"bomFormat":"CycloneDX","dependencies":[{"ref":"a"}],"vulnerabilities":[]}"#
            ),
            Some(Format::CycloneDx)
        );
        assert_eq!(
            detect(br#"{"database":{},"lockfile":{},"vulnerabilities":{"list":[]}}"#),
            Some(Format::CargoAudit)
        );
        assert_eq!(detect(br#"{"database":{}}"#), None);
        assert_eq!(
            detect(br#"{"version":"15.0.4","vulnerabilities":[],"dependency_files":[]}"#),
            Some(Format::GitLab),
            "a GitLab report is not a dependency report of these"
        );
    }
}
