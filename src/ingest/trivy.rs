//! Trivy's JSON report (`trivy … --format json`, `SchemaVersion` 2): per result (`Target`),
//! vulnerable packages, failed misconfiguration checks and secrets.
//!
//! | result | finding |
//! |---|---|
//! | `Class: os-pkgs` vulnerability | `container`, ecosystem = `Metadata.OS.Family` (Alpine, Debian, Ubuntu…) |
//! | `Class: lang-pkgs` vulnerability | `sca`, ecosystem from the PURL type, else `Type` (npm, pip, gomod, jar…); manifest and location = `Target` (in a container image, a path inside it: named in the message only) |
//! | `Misconfigurations[]` with `Status: FAIL` | `iac` at `Target`, `CauseMetadata` lines (`PASS`/`EXCEPTION` are not findings) |
//! | `Secrets[]` | `secret` at `Target` and lines; Trivy masks the secret in `Match`, so only the keyed hash of target, rule and `Match` is kept, as `fingerprints.secretLocationHash` ([`super::secret_hash`]): a secret gitleaks also reports merges with it by location |
//!
//! Severity (`Severity`, the same scale for all three):
//!
//! | Trivy | posture |
//! |---|---|
//! | `CRITICAL` / `HIGH` / `MEDIUM` / `LOW` | critical / high / medium / low |
//! | `UNKNOWN` or missing | the CVSS rating of the score, else medium |
//!
//! The score is the CVSS v3 (else v4) base score of the vendor Trivy took the severity from
//! (`SeveritySource`), else NVD's, else GHSA's, else any vendor's. The rule of a vulnerability
//! is its CVE (else GHSA, else Trivy's id); GHSA ids named by the references are aliases. A
//! comma-separated `FixedVersion` lists fixes on several release lines: the one above the
//! installed version becomes the affected range.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::Parsed;
use super::components;
use super::json::{self, JsonError, null_as_default};
use super::secret_hash::{SECRET_LOCATION_HASH, location_digest};
use super::text;
use super::vulns;
use crate::model::{
    Advisory, Component, ComponentScope, Ecosystem, Finding, Kind, Location, Package,
};

/// The tool name Trivy's findings carry.
pub(crate) const TOOL: &str = "Trivy";

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Output {
    #[serde(default)]
    artifact_type: String,
    #[serde(default)]
    metadata: Metadata,
    #[serde(default, deserialize_with = "null_as_default")]
    results: Vec<TrivyResult>,
}

#[derive(Debug, Default, Deserialize)]
struct Metadata {
    #[serde(default, rename = "OS")]
    os: Option<Os>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Os {
    #[serde(default)]
    family: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct TrivyResult {
    #[serde(default)]
    target: String,
    #[serde(default)]
    class: String,
    #[serde(default, rename = "Type")]
    kind: String,
    #[serde(default, deserialize_with = "null_as_default")]
    packages: Vec<PackageInfo>,
    #[serde(default, deserialize_with = "null_as_default")]
    vulnerabilities: Vec<Vulnerability>,
    #[serde(default, deserialize_with = "null_as_default")]
    misconfigurations: Vec<Misconfiguration>,
    #[serde(default, deserialize_with = "null_as_default")]
    secrets: Vec<Secret>,
}

/// An installed package (listed with `--list-all-pkgs`), for the lines that declare it.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct PackageInfo {
    #[serde(default, rename = "ID")]
    id: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    version: String,
    #[serde(default, deserialize_with = "null_as_default")]
    locations: Vec<Lines>,
    #[serde(default)]
    identifier: PkgIdentifier,
    #[serde(default, deserialize_with = "null_as_default")]
    licenses: Vec<String>,
    /// `direct`, `indirect`, `root`, `workspace` (Trivy 0.50 and later).
    #[serde(default)]
    relationship: String,
    /// Before `Relationship`: a transitive dependency.
    #[serde(default)]
    indirect: Option<bool>,
    /// A development dependency (npm, Yarn, pnpm with `--include-dev-deps`).
    #[serde(default)]
    dev: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Lines {
    #[serde(default)]
    start_line: Option<f64>,
    #[serde(default)]
    end_line: Option<f64>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Vulnerability {
    #[serde(default, rename = "VulnerabilityID")]
    id: String,
    #[serde(default, rename = "PkgID")]
    pkg_id: String,
    #[serde(default)]
    pkg_name: String,
    #[serde(default)]
    pkg_path: Option<String>,
    #[serde(default)]
    pkg_identifier: PkgIdentifier,
    #[serde(default)]
    installed_version: Option<String>,
    #[serde(default)]
    fixed_version: Option<String>,
    #[serde(default)]
    status: String,
    #[serde(default)]
    severity_source: String,
    #[serde(default, rename = "PrimaryURL")]
    primary_url: Option<String>,
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    severity: String,
    #[serde(default, rename = "CweIDs", deserialize_with = "null_as_default")]
    cwe_ids: Vec<String>,
    #[serde(default, rename = "CVSS", deserialize_with = "null_as_default")]
    cvss: BTreeMap<String, Cvss>,
    #[serde(default, deserialize_with = "null_as_default")]
    references: Vec<String>,
    #[serde(default)]
    fingerprint: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct PkgIdentifier {
    #[serde(default, rename = "PURL")]
    purl: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Cvss {
    #[serde(default)]
    v3_score: Option<f64>,
    #[serde(default)]
    v3_vector: Option<String>,
    #[serde(default)]
    v40_score: Option<f64>,
    #[serde(default)]
    v40_vector: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Misconfiguration {
    #[serde(default, rename = "ID")]
    id: String,
    #[serde(default, rename = "AVDID")]
    avd_id: String,
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    resolution: Option<String>,
    #[serde(default)]
    severity: String,
    #[serde(default, rename = "PrimaryURL")]
    primary_url: Option<String>,
    #[serde(default)]
    status: String,
    #[serde(default)]
    cause_metadata: Lines,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Secret {
    #[serde(default, rename = "RuleID")]
    rule_id: String,
    #[serde(default)]
    category: String,
    #[serde(default)]
    severity: String,
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    start_line: Option<f64>,
    #[serde(default)]
    end_line: Option<f64>,
    /// The matched line, the secret in it masked with `*` by Trivy: hashed with the
    /// location, never copied into a finding.
    #[serde(default, rename = "Match")]
    matched: Option<String>,
}

pub(crate) fn parse(bytes: &[u8]) -> Result<Parsed, JsonError> {
    let output: Output = json::from_slice(bytes)?;
    let image = output.artifact_type.eq_ignore_ascii_case("container_image");
    let os_family = output.metadata.os.as_ref().map(|os| os.family.as_str());
    let mut findings = Vec::new();
    for result in &output.results {
        for vulnerability in &result.vulnerabilities {
            findings.push(vulnerability_finding(
                result,
                vulnerability,
                os_family,
                image,
            ));
        }
        findings.extend(
            result
                .misconfigurations
                .iter()
                .filter(|m| m.status.eq_ignore_ascii_case("FAIL"))
                .map(|m| misconfiguration_finding(&result.target, m)),
        );
        findings.extend(
            result
                .secrets
                .iter()
                .map(|s| secret_finding(&result.target, s)),
        );
    }
    let components = output
        .results
        .iter()
        .flat_map(|result| result_components(result, os_family))
        .collect();
    Ok(Parsed {
        tools: vec![TOOL.to_string()],
        findings,
        components: components::dedupe(components),
        warnings: Vec::new(),
    })
}

/// The packages of a result: all of them when Trivy listed them (`--list-all-pkgs`), else the
/// vulnerable ones. The manifest is the result's `Target`, except for an image's OS packages
/// (whose target names the image, not a file).
fn result_components(result: &TrivyResult, os_family: Option<&str>) -> Vec<Component> {
    let os = is_os_packages(result, os_family);
    let manifest = (!os && !result.target.is_empty()).then_some(result.target.as_str());
    let ecosystem = |purl: Option<&str>| {
        if os {
            vulns::os_ecosystem(os_family.unwrap_or(&result.kind))
        } else {
            language_ecosystem(purl, &result.kind)
        }
    };
    let package = |name: &str, version: &str, purl: Option<&str>| Package {
        ecosystem: ecosystem(purl),
        name: name.to_string(),
        version: (!version.is_empty()).then(|| version.to_string()),
        manifest: manifest.map(str::to_string),
    };
    if !result.packages.is_empty() {
        return result
            .packages
            .iter()
            .filter(|p| !matches!(p.relationship.as_str(), "root" | "workspace"))
            .filter_map(|info| {
                let purl = info.identifier.purl.as_deref();
                let mut component = components::from_purl_or_package(
                    purl,
                    package(&info.name, &info.version, purl),
                )?;
                component.direct = match info.relationship.as_str() {
                    "direct" => Some(true),
                    "indirect" => Some(false),
                    _ => info.indirect.map(|indirect| !indirect),
                };
                if info.dev {
                    component.scope = ComponentScope::Dev;
                }
                component.licenses.declared =
                    components::join_licenses(info.licenses.iter().map(String::as_str));
                component.line = info
                    .locations
                    .first()
                    .and_then(|lines| vulns::line(lines.start_line));
                Some(component)
            })
            .collect();
    }
    result
        .vulnerabilities
        .iter()
        .filter_map(|vulnerability| {
            let purl = vulnerability.pkg_identifier.purl.as_deref();
            let version = vulnerability.installed_version.as_deref().unwrap_or("");
            components::from_purl_or_package(purl, package(&vulnerability.pkg_name, version, purl))
        })
        .collect()
}

/// OS packages are the image's; everything else is a language package.
fn is_os_packages(result: &TrivyResult, os_family: Option<&str>) -> bool {
    result.class.eq_ignore_ascii_case("os-pkgs")
        || (result.class.is_empty()
            && os_family.is_some_and(|family| family.eq_ignore_ascii_case(&result.kind)))
}

fn vulnerability_finding(
    result: &TrivyResult,
    vulnerability: &Vulnerability,
    os_family: Option<&str>,
    image: bool,
) -> Finding {
    let os = is_os_packages(result, os_family);
    let installed = vulnerability
        .installed_version
        .clone()
        .filter(|v| !v.is_empty());
    let manifest = vulnerability
        .pkg_path
        .as_deref()
        .filter(|p| !p.is_empty())
        .unwrap_or(&result.target);
    let package = Package {
        ecosystem: if os {
            vulns::os_ecosystem(os_family.unwrap_or(&result.kind))
        } else {
            language_ecosystem(vulnerability.pkg_identifier.purl.as_deref(), &result.kind)
        },
        name: vulnerability.pkg_name.clone(),
        version: installed.clone(),
        manifest: (!os && !image && !manifest.is_empty()).then(|| manifest.to_string()),
    };

    let aliases = reference_aliases(&vulnerability.id, &vulnerability.references);
    let ids: Vec<&str> = std::iter::once(vulnerability.id.as_str())
        .chain(aliases.iter().map(String::as_str))
        .collect();
    let rule = vulns::preferred_id(&ids).unwrap_or("trivy-vulnerability");
    let kind = if os { Kind::Container } else { Kind::Sca };
    let mut finding = Finding::new(kind, TOOL, rule);
    let (score, vector) = cvss(vulnerability);
    finding.score = score;
    finding.cvss_vectors = cvss_vectors(vulnerability);
    finding.severity = vulns::severity(&vulnerability.severity, score);
    finding.title = vulnerability
        .title
        .as_deref()
        .and_then(text::first_line)
        .map(str::to_string)
        .unwrap_or_else(|| format!("{} in {}", vulnerability.id, package.name));
    finding.message = vulnerability
        .description
        .clone()
        .filter(|d| !d.trim().is_empty())
        .unwrap_or_else(|| finding.title.clone());
    if image && !os && !manifest.is_empty() {
        finding
            .message
            .push_str(&format!("\n\nFound in the image at {manifest}"));
    }
    finding.cwes = text::cwes(vulnerability.cwe_ids.iter().map(String::as_str));
    finding.help_uri = vulnerability.primary_url.clone();
    let fixed: Vec<&str> = vulnerability
        .fixed_version
        .as_deref()
        .unwrap_or("")
        .split(',')
        .collect();
    finding.advisories = vec![Advisory {
        id: vulnerability.id.clone(),
        aliases,
        summary: vulnerability.title.clone(),
        url: vulnerability.primary_url.clone(),
        cvss_score: score,
        cvss_vector: vector,
        affected: vulns::fixed_range(&package.ecosystem, installed.as_deref(), &fixed),
        affected_versions: Vec::new(),
    }];
    if let Some(fingerprint) = vulnerability.fingerprint.clone() {
        finding
            .fingerprints
            .insert("fingerprint".into(), fingerprint);
    }
    finding.suppressed = vulnerability.status.eq_ignore_ascii_case("not_affected");
    if !os && !image && !result.target.is_empty() {
        let mut location = Location::new(&result.target);
        if let Some((start, end)) = package_lines(result, vulnerability) {
            location = location.with_lines(start, end);
        }
        finding.location = Some(location);
    }
    finding.package = Some(Box::new(package));
    finding
}

/// The ecosystem of a language package: its PURL's type, else Trivy's result `Type`.
fn language_ecosystem(purl: Option<&str>, trivy_type: &str) -> Ecosystem {
    if let Some(ecosystem) = purl
        .and_then(Package::from_purl)
        .map(|p| p.ecosystem)
        .filter(|e| !matches!(e, Ecosystem::Other(_)))
    {
        return ecosystem;
    }
    let name = match trivy_type.to_ascii_lowercase().as_str() {
        "node-pkg" | "bun" => "npm",
        "uv" | "python-pkg" => "pip",
        "rustbinary" => "cargo",
        "gobinary" => "gomod",
        "pom" | "sbt" => "maven",
        "gemspec" => "bundler",
        "dotnet-core" | "packages-props" => "nuget",
        "composer-vendor" => "composer",
        _ => trivy_type,
    };
    Ecosystem::parse(name)
}

/// Advisory ids the references name besides `id`: GitHub advisories' GHSA ids, and NVD's
/// CVE id for a non-CVE id.
fn reference_aliases(id: &str, references: &[String]) -> Vec<String> {
    let mut aliases: Vec<String> = Vec::new();
    for url in references {
        let ids = text::advisory_ids(url);
        let alias = if url.contains("/advisories/GHSA-") {
            ids.into_iter().find(|i| i.starts_with("GHSA-"))
        } else if url.contains("nvd.nist.gov/vuln/detail/CVE-") && !id.starts_with("CVE-") {
            ids.into_iter().find(|i| i.starts_with("CVE-"))
        } else {
            None
        };
        if let Some(alias) = alias.filter(|a| a != id && !aliases.contains(a)) {
            aliases.push(alias);
        }
    }
    aliases
}

/// The CVSS base score and vector of the preferred vendor.
fn cvss(vulnerability: &Vulnerability) -> (Option<f64>, Option<String>) {
    let preferred = [vulnerability.severity_source.as_str(), "nvd", "ghsa"];
    let ordered = preferred
        .iter()
        .filter_map(|source| vulnerability.cvss.get(*source))
        .chain(vulnerability.cvss.values());
    for entry in ordered {
        if let Some(score) = vulns::cvss_score(entry.v3_score) {
            return (Some(score), entry.v3_vector.clone());
        }
        if let Some(score) = vulns::cvss_score(entry.v40_score) {
            return (Some(score), entry.v40_vector.clone());
        }
    }
    (None, None)
}

/// Every v3 and v4.0 vector, the preferred vendor's first.
fn cvss_vectors(vulnerability: &Vulnerability) -> Vec<String> {
    let preferred = [vulnerability.severity_source.as_str(), "nvd", "ghsa"];
    let mut vectors: Vec<String> = Vec::new();
    let ordered = preferred
        .iter()
        .filter_map(|source| vulnerability.cvss.get(*source))
        .chain(vulnerability.cvss.values());
    for entry in ordered {
        for vector in [&entry.v40_vector, &entry.v3_vector].into_iter().flatten() {
            let vector = vector.trim();
            if !vector.is_empty() && !vectors.iter().any(|v| v == vector) {
                vectors.push(vector.to_string());
            }
        }
    }
    vectors
}

/// The lines of the target that declare the vulnerable package, when Trivy listed them.
fn package_lines(result: &TrivyResult, vulnerability: &Vulnerability) -> Option<(u32, u32)> {
    let package = result.packages.iter().find(|p| {
        if vulnerability.pkg_id.is_empty() {
            p.name == vulnerability.pkg_name
                && Some(p.version.as_str()) == vulnerability.installed_version.as_deref()
        } else {
            p.id == vulnerability.pkg_id
        }
    })?;
    let lines = package.locations.first()?;
    let start = vulns::line(lines.start_line)?;
    Some((start, vulns::line(lines.end_line).unwrap_or(start)))
}

fn misconfiguration_finding(target: &str, check: &Misconfiguration) -> Finding {
    let rule = [check.id.as_str(), check.avd_id.as_str()]
        .into_iter()
        .find(|id| !id.is_empty())
        .unwrap_or("trivy-misconfiguration");
    let mut finding = Finding::new(Kind::Iac, TOOL, rule);
    finding.severity = vulns::severity(&check.severity, None);
    if let Some(title) = check.title.as_deref().and_then(text::first_line) {
        finding.title = title.to_string();
    }
    let mut message = check
        .message
        .clone()
        .or_else(|| check.description.clone())
        .filter(|m| !m.trim().is_empty())
        .unwrap_or_else(|| finding.title.clone());
    if let Some(resolution) = check.resolution.as_deref().filter(|r| !r.trim().is_empty()) {
        message.push_str("\n\nResolution: ");
        message.push_str(resolution);
    }
    finding.message = message;
    finding.help_uri = check.primary_url.clone();
    finding.location = located(target, &check.cause_metadata);
    finding
}

fn secret_finding(target: &str, secret: &Secret) -> Finding {
    let rule = if secret.rule_id.is_empty() {
        "trivy-secret"
    } else {
        &secret.rule_id
    };
    let mut finding = Finding::new(Kind::Secret, TOOL, rule);
    finding.severity = vulns::severity(&secret.severity, None);
    if let Some(title) = secret.title.as_deref().and_then(text::first_line) {
        finding.title = title.to_string();
    }
    finding.message = if secret.category.is_empty() {
        format!("{} committed to the repository", finding.title)
    } else {
        format!(
            "{} ({}) committed to the repository",
            finding.title, secret.category
        )
    };
    // The masked line says where the secret is, not what it is: it cannot be `secretHash`.
    let shown = match secret.matched.as_deref().map(str::trim) {
        Some(matched) if !matched.is_empty() => matched.to_string(),
        _ => format!(
            "lines {}-{}",
            vulns::line(secret.start_line).unwrap_or(0),
            vulns::line(secret.end_line).unwrap_or(0)
        ),
    };
    finding.fingerprints.insert(
        SECRET_LOCATION_HASH.into(),
        location_digest(target, rule, &shown),
    );
    finding.location = located(
        target,
        &Lines {
            start_line: secret.start_line,
            end_line: secret.end_line,
        },
    );
    finding
}

/// `target` with the lines, when it names something.
fn located(target: &str, lines: &Lines) -> Option<Location> {
    if target.is_empty() {
        return None;
    }
    let location = Location::new(target);
    Some(match vulns::line(lines.start_line) {
        Some(start) => location.with_lines(start, vulns::line(lines.end_line).unwrap_or(start)),
        None => location,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{AffectedRange, RangeEvent, RangeKind, Severity};

    const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/sca/trivy/");

    fn fixture_bytes(name: &str) -> Vec<u8> {
        std::fs::read(format!("{FIXTURES}{name}")).unwrap()
    }

    fn fixture(name: &str) -> Parsed {
        parse(&fixture_bytes(name)).unwrap()
    }

    #[test]
    fn every_cvss_vector_is_kept_preferred_vendor_first() {
        let parsed = fixture("pip.json");
        let flask = parsed
            .findings
            .iter()
            .find(|f| {
                f.rule == "CVE-2020-28724" || f.advisory_ids().any(|id| id == "CVE-2020-28724")
            })
            .unwrap();
        assert_eq!(
            flask.cvss_vectors,
            vec![
                "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N".to_string(),
                "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:U/C:L/I:L/A:N".to_string(),
            ]
        );
    }

    #[test]
    fn every_fixture_parses() {
        for name in [
            "npm.json",
            "pip.json",
            "dd_misconfigurations_and_secrets.json",
        ] {
            let parsed = fixture(name);
            assert_eq!(parsed.tools, vec!["Trivy"], "{name}");
            assert!(!parsed.findings.is_empty(), "{name}");
        }
    }

    #[test]
    fn npm_vulnerability_with_package_lines() {
        let parsed = fixture("npm.json");
        assert_eq!(parsed.findings.len(), 1);
        let finding = &parsed.findings[0];
        assert_eq!(finding.kind, Kind::Sca);
        assert_eq!(finding.rule, "CVE-2019-11358");
        assert_eq!(finding.severity, Severity::Medium, "MEDIUM");
        assert_eq!(finding.score, Some(6.1), "ghsa has no CVSS: nvd's");
        assert_eq!(finding.cwes, vec![79]);
        assert_eq!(
            finding.help_uri.as_deref(),
            Some("https://avd.aquasec.com/nvd/cve-2019-11358")
        );
        assert!(finding.title.starts_with("jquery: Prototype pollution"));
        let package = finding.package.as_ref().unwrap();
        assert_eq!(package.ecosystem, Ecosystem::Npm);
        assert_eq!(package.name, "jquery");
        assert_eq!(package.version.as_deref(), Some("3.3.9"));
        assert_eq!(package.manifest.as_deref(), Some("package-lock.json"));
        let location = finding.location.as_ref().unwrap();
        assert_eq!(location.path, "package-lock.json");
        assert_eq!(location.lines(), Some((11, 15)), "Packages[].Locations");
        let advisory = &finding.advisories[0];
        assert_eq!(advisory.id, "CVE-2019-11358");
        assert_eq!(advisory.aliases, vec!["GHSA-6c3j-c64m-qhgq"]);
        assert_eq!(
            advisory.cvss_vector.as_deref(),
            Some("CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N")
        );
        assert_eq!(
            advisory.affected,
            vec![AffectedRange {
                kind: RangeKind::Ecosystem,
                events: vec![
                    RangeEvent::Introduced("0".into()),
                    RangeEvent::Fixed("3.4.0".into())
                ],
            }]
        );
        assert_eq!(
            finding.fingerprints.get("fingerprint").unwrap(),
            "sha256:3952ef90d8606b4067901c413142af693504f820972f5b017a6fdb627ba56af0"
        );
    }

    #[test]
    fn pip_ecosystem_from_purl() {
        let parsed = fixture("pip.json");
        assert_eq!(parsed.findings.len(), 2);
        let werkzeug = &parsed.findings[0];
        assert_eq!(werkzeug.rule, "CVE-2019-14806");
        assert_eq!(werkzeug.severity, Severity::High);
        assert_eq!(werkzeug.score, Some(7.5));
        let package = werkzeug.package.as_ref().unwrap();
        assert_eq!(package.ecosystem, Ecosystem::PyPI);
        assert_eq!(package.name, "Werkzeug");
        assert_eq!(werkzeug.path(), Some("requirements.txt"));
    }

    #[test]
    fn misconfigurations_and_secrets() {
        let parsed = fixture("dd_misconfigurations_and_secrets.json");
        // 2 vulnerabilities, 1 failed check (22 passes are not listed), 2 secrets.
        assert_eq!(parsed.findings.len(), 5);
        let kinds: Vec<Kind> = parsed.findings.iter().map(|f| f.kind).collect();
        assert_eq!(
            kinds,
            [Kind::Sca, Kind::Sca, Kind::Iac, Kind::Secret, Kind::Secret]
        );
        let urllib3 = &parsed.findings[0];
        assert_eq!(
            urllib3.package.as_ref().unwrap().ecosystem,
            Ecosystem::PyPI,
            "no PURL: Type pip"
        );
        assert_eq!(urllib3.advisories[0].aliases, vec!["GHSA-q2q7-5pp4-w6pg"]);

        let check = &parsed.findings[2];
        assert_eq!(check.rule, "DS002");
        assert_eq!(check.title, "Image user should not be 'root'");
        assert_eq!(check.severity, Severity::High);
        assert_eq!(check.path(), Some("Dockerfile"));
        assert!(check.message.starts_with("Specify at least 1 USER command"));
        assert!(
            check
                .message
                .ends_with("Resolution: Add 'USER <non root user name>' line to the Dockerfile")
        );
        assert_eq!(
            check.help_uri.as_deref(),
            Some("https://avd.aquasec.com/misconfig/ds002")
        );

        let secret = &parsed.findings[3];
        assert_eq!(secret.rule, "github-pat");
        assert_eq!(secret.severity, Severity::Critical);
        assert_eq!(secret.title, "GitHub Personal Access Token");
        assert_eq!(secret.location.as_ref().unwrap().lines(), Some((24, 24)));
        assert_eq!(
            secret.fingerprints.get(SECRET_LOCATION_HASH),
            Some(&location_digest(
                "Dockerfile",
                "github-pat",
                "ENV GITHUB_PAT=*****"
            )),
            "the masked line says where, not what"
        );
        assert!(!secret.fingerprints.contains_key("secretHash"));
    }

    /// An image scan of Alpine packages, trimmed from Trivy's alpine-310 golden, with an
    /// unredacted secret and a passed check.
    const IMAGE: &str = r#"{"SchemaVersion":2,"ArtifactName":"alpine:3.10","ArtifactType":"container_image",
      "Metadata":{"OS":{"Family":"alpine","Name":"3.10.2"}},
      "Results":[
        {"Target":"alpine:3.10 (alpine 3.10.2)","Class":"os-pkgs","Type":"alpine","Vulnerabilities":[
          {"VulnerabilityID":"CVE-2019-1549","PkgID":"libcrypto1.1@1.1.1c-r0","PkgName":"libcrypto1.1",
           "PkgIdentifier":{"PURL":"pkg:apk/alpine/libcrypto1.1@1.1.1c-r0?arch=x86_64&distro=3.10.2"},
           "InstalledVersion":"1.1.1c-r0","FixedVersion":"1.1.1d-r0","Status":"fixed","SeveritySource":"nvd",
           "Severity":"MEDIUM","CVSS":{"nvd":{"V3Vector":"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:L/I:N/A:N","V3Score":5.3}}},
          {"VulnerabilityID":"CVE-2020-0001","PkgName":"musl","InstalledVersion":"1.1.22-r3",
           "FixedVersion":"1.1.20-r5, 1.1.22-r4","Severity":"UNKNOWN","CVSS":{"redhat":{"V3Score":9.1}}},
          {"VulnerabilityID":"CVE-2020-0002","PkgName":"musl","InstalledVersion":"1.1.22-r3",
           "Status":"not_affected","Severity":"LOW"}]},
        {"Target":"app/package-lock.json","Class":"lang-pkgs","Type":"npm","Vulnerabilities":[
          {"VulnerabilityID":"GHSA-aaaa-bbbb-cccc","PkgName":"@scope/pkg","InstalledVersion":"1.0.0",
           "References":["https://nvd.nist.gov/vuln/detail/CVE-2021-1234"],"Severity":"HIGH"}]},
        {"Target":"main.tf","Class":"config","Type":"terraform","Misconfigurations":[
          {"ID":"AVD-AWS-0086","Title":"S3 public access block","Severity":"HIGH","Status":"PASS"},
          {"AVDID":"AVD-AWS-0088","Title":"Unencrypted bucket","Severity":"MEDIUM","Status":"FAIL",
           "CauseMetadata":{"StartLine":3,"EndLine":9}}]},
        {"Target":"/app/.env","Class":"secret","Secrets":[
          {"RuleID":"aws-access-key-id","Category":"AWS","Severity":"CRITICAL","Title":"AWS Access Key ID",
           "StartLine":2,"EndLine":2,"Match":"AWS_ACCESS_KEY_ID=AKIAZZZZSECRETVALUE1",
           "Code":{"Lines":[{"Number":2,"Content":"AWS_ACCESS_KEY_ID=AKIAZZZZSECRETVALUE1"}]}}]}]}"#;

    #[test]
    fn os_packages_of_an_image_are_container_findings() {
        let parsed = parse(IMAGE.as_bytes()).unwrap();
        assert_eq!(
            parsed.findings.len(),
            6,
            "3 OS + 1 npm + 1 failed check + 1 secret"
        );
        let openssl = &parsed.findings[0];
        assert_eq!(openssl.kind, Kind::Container);
        let package = openssl.package.as_ref().unwrap();
        assert_eq!(package.ecosystem, Ecosystem::Other("Alpine".into()));
        assert_eq!(
            package.name, "libcrypto1.1",
            "PkgName, not the PURL's namespace"
        );
        assert_eq!(package.manifest, None);
        assert_eq!(openssl.location, None);
        assert_eq!(openssl.score, Some(5.3));

        let musl = &parsed.findings[1];
        assert_eq!(musl.severity, Severity::Critical, "UNKNOWN: CVSS 9.1");
        assert_eq!(
            musl.advisories[0].affected[0].events[1],
            RangeEvent::Fixed("1.1.22-r4".into()),
            "the fix on the installed release line"
        );
        assert!(parsed.findings[2].suppressed, "Status not_affected");
        assert!(!musl.suppressed);

        let npm = &parsed.findings[3];
        assert_eq!(npm.kind, Kind::Sca);
        assert_eq!(npm.rule, "CVE-2021-1234", "CVE preferred over the GHSA id");
        assert_eq!(npm.advisories[0].id, "GHSA-aaaa-bbbb-cccc");
        assert_eq!(npm.advisories[0].aliases, vec!["CVE-2021-1234"]);
        assert!(npm.advisories[0].affected.is_empty(), "no fixed version");
        let package = npm.package.as_ref().unwrap();
        assert_eq!(package.ecosystem, Ecosystem::Npm);
        assert_eq!(package.manifest, None, "a path inside the image");
        assert_eq!(npm.location, None);
        assert!(
            npm.message
                .ends_with("Found in the image at app/package-lock.json")
        );

        let check = &parsed.findings[4];
        assert_eq!(check.rule, "AVD-AWS-0088");
        assert_eq!(check.severity, Severity::Medium);
        assert_eq!(check.location.as_ref().unwrap().lines(), Some((3, 9)));
    }

    #[test]
    fn secret_values_are_never_kept() {
        let parsed = parse(IMAGE.as_bytes()).unwrap();
        let secret = parsed.findings.last().unwrap();
        assert_eq!(secret.kind, Kind::Secret);
        assert_eq!(
            secret.fingerprints.get(SECRET_LOCATION_HASH),
            Some(&location_digest(
                "/app/.env",
                "aws-access-key-id",
                "AWS_ACCESS_KEY_ID=AKIAZZZZSECRETVALUE1"
            ))
        );
        let report = super::super::parse(
            "image.json",
            IMAGE.as_bytes(),
            &super::super::SecretHasher::default(),
        )
        .unwrap();
        assert_ne!(
            report
                .findings
                .last()
                .unwrap()
                .fingerprints
                .get(SECRET_LOCATION_HASH),
            secret.fingerprints.get(SECRET_LOCATION_HASH),
            "keyed before the report leaves ingest"
        );
        assert!(!format!("{report:?}").contains("AKIAZZZZSECRETVALUE1"));
    }

    #[test]
    fn wrong_shape_names_the_path() {
        let error =
            parse(br#"{"SchemaVersion":2,"Results":[{"Vulnerabilities":[{"CVSS":{"nvd":{"V3Score":"x"}}}]}]}"#)
                .unwrap_err();
        assert_eq!(
            error.position.as_deref(),
            Some("$.Results[0].Vulnerabilities[0].CVSS.nvd.V3Score")
        );
        let truncated = fixture_bytes("pip.json");
        let error = parse(&truncated[..truncated.len() / 2]).unwrap_err();
        assert!(error.position.unwrap().starts_with("line "));
    }

    /// `--list-all-pkgs`: every package of the lockfile, with its licences and lines.
    #[test]
    fn components_are_the_listed_packages() {
        let parsed = fixture("npm.json");
        assert_eq!(parsed.components.len(), 12);
        assert!(
            parsed
                .components
                .iter()
                .all(|c| c.package.manifest.as_deref() == Some("package-lock.json"))
        );
        let jquery = parsed
            .components
            .iter()
            .find(|c| c.package.name == "jquery")
            .unwrap();
        assert_eq!(jquery.purl, "pkg:npm/jquery@3.3.9");
        assert_eq!(jquery.package.ecosystem, Ecosystem::Npm);
        assert_eq!(jquery.licenses.declared.as_deref(), Some("MIT"));
        assert_eq!(jquery.direct, None, "this Trivy does not say");
        let asap = parsed
            .components
            .iter()
            .find(|c| c.package.name == "asap")
            .unwrap();
        assert!(asap.licenses.is_empty());

        let pip = fixture("pip.json");
        let names: Vec<&str> = pip
            .components
            .iter()
            .map(|c| c.package.name.as_str())
            .collect();
        assert_eq!(
            names,
            vec![
                "flask",
                "jinja2",
                "werkzeug",
                "click",
                "itsdangerous",
                "oauth2-client",
                "python-gitlab"
            ],
            "named by the package URL"
        );
        assert_eq!(pip.components[2].line, Some(6), "Werkzeug's line");
    }

    /// Without `--list-all-pkgs`: the vulnerable packages, once each.
    #[test]
    fn components_fall_back_to_the_vulnerable_packages() {
        let parsed = fixture("dd_misconfigurations_and_secrets.json");
        assert_eq!(parsed.components.len(), 1, "urllib3, vulnerable twice");
        let urllib3 = &parsed.components[0];
        assert_eq!(urllib3.purl, "pkg:pypi/urllib3@1.26.3");
        assert_eq!(
            urllib3.package.manifest.as_deref(),
            Some("requirements.txt")
        );
    }

    #[test]
    fn components_relationship_and_dev_flags() {
        let parsed = parse(
            br#"{"SchemaVersion":2,"ArtifactType":"repository","Results":[{"Target":"web/package-lock.json",
                "Class":"lang-pkgs","Type":"npm","Packages":[
                {"ID":"shop@1.0.0","Name":"shop","Version":"1.0.0","Relationship":"root"},
                {"ID":"express@4.18.2","Name":"express","Version":"4.18.2","Relationship":"direct",
                 "Identifier":{"PURL":"pkg:npm/express@4.18.2"},"Licenses":["MIT","Apache-2.0"]},
                {"ID":"qs@6.11.0","Name":"qs","Version":"6.11.0","Relationship":"indirect",
                 "Identifier":{"PURL":"pkg:npm/qs@6.11.0"}},
                {"ID":"jest@29.7.0","Name":"jest","Version":"29.7.0","Indirect":false,"Dev":true}]}]}"#,
        )
        .unwrap();
        let summary: Vec<(&str, Option<bool>, ComponentScope)> = parsed
            .components
            .iter()
            .map(|c| (c.purl.as_str(), c.direct, c.scope))
            .collect();
        assert_eq!(
            summary,
            vec![
                (
                    "pkg:npm/express@4.18.2",
                    Some(true),
                    ComponentScope::Runtime
                ),
                ("pkg:npm/qs@6.11.0", Some(false), ComponentScope::Runtime),
                ("pkg:npm/jest@29.7.0", Some(true), ComponentScope::Dev),
            ],
            "the root project is no component"
        );
        assert_eq!(
            parsed.components[0].licenses.declared.as_deref(),
            Some("MIT AND Apache-2.0")
        );
    }
}
