//! Scanner reports in, normalised findings out. The format of a report is detected from its
//! content (see [`Format`]), its findings (and the components it lists: an SBOM's packages,
//! what a scanner inventoried) are read into the shared model, and
//! their paths are later placed in the repository by [`PathResolver`]. Pure apart from
//! [`read_report`], which reads one file; bad input is an [`IngestError`] naming the file and
//! the position, never a panic. A secret is never kept: findings carry its hash, keyed by
//! the [`SecretHasher`] the caller passes (see [`secret_hash`]).

mod detect;
mod gitlab;
mod grype;
pub(crate) mod json;
mod osv_scanner;
mod paths;
mod sarif;
mod sarif_schema;
mod sarif_stream;
pub mod secret_hash;
mod spdx;
mod text;
mod trivy;
mod vulns;

mod cargo_audit;
mod components;
mod cyclonedx;
mod dependency;
mod gitleaks;
mod npm_audit;
mod pip_audit;

use std::fmt;
use std::io::Read;
use std::path::Path;

pub use paths::{PathResolver, resolve_paths};
pub use secret_hash::{SECRET_KEY_VAR, SecretHasher};

use crate::model::{Component, Finding};

/// More results than this in one report are refused: no real scan produces them, and a
/// report that does is broken or hostile.
pub const MAX_RESULTS: usize = 2_000_000;

/// Reports larger than this are refused before they are read.
pub const MAX_REPORT_BYTES: u64 = 256 * 1024 * 1024;

/// A report format posture reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    Sarif,
    OsvScanner,
    Trivy,
    Grype,
    GitLab,
    Gitleaks,
    NpmAudit,
    PipAudit,
    CargoAudit,
    CycloneDx,
    /// An SPDX 2 JSON document: components only, no findings.
    Spdx,
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Format::Sarif => "SARIF",
            Format::OsvScanner => "osv-scanner JSON",
            Format::Trivy => "Trivy JSON",
            Format::Grype => "Grype JSON",
            Format::GitLab => "GitLab security report",
            Format::Gitleaks => "gitleaks JSON",
            Format::NpmAudit => "npm audit JSON",
            Format::PipAudit => "pip-audit JSON",
            Format::CargoAudit => "cargo-audit JSON",
            Format::CycloneDx => "CycloneDX JSON",
            Format::Spdx => "SPDX JSON",
        })
    }
}

/// Everything one report said.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    /// Where the report came from (its file name), for messages.
    pub source: String,
    pub format: Format,
    /// The tools that ran, even those that found nothing.
    pub tools: Vec<String>,
    pub findings: Vec<Finding>,
    /// The components the report lists (an SBOM's, or what a scanner inventoried).
    pub components: Vec<Component>,
    /// Things worth telling the user that did not stop the report from being read.
    pub warnings: Vec<String>,
}

/// A report that could not be read, with the file and, when known, the format and position.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct IngestError {
    pub file: String,
    pub format: Option<Format>,
    /// `line 12 column 5` for malformed JSON, a JSON path (`$.runs[0].results`) for a report of
    /// the wrong shape.
    pub position: Option<String>,
    pub message: String,
}

impl fmt::Display for IngestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: ", self.file)?;
        if let Some(format) = self.format {
            write!(f, "{format}: ")?;
        }
        if let Some(position) = &self.position {
            write!(f, "at {position}: ")?;
        }
        f.write_str(&self.message)
    }
}

impl IngestError {
    fn new(file: &str, format: Option<Format>, message: impl Into<String>) -> Self {
        IngestError {
            file: file.to_string(),
            format,
            position: None,
            message: message.into(),
        }
    }

    fn from_json(file: &str, format: Option<Format>, error: json::JsonError) -> Self {
        IngestError {
            position: error.position,
            ..IngestError::new(file, format, error.message)
        }
    }
}

/// What a format parser found, before it is labelled with its source and format.
#[derive(Debug, Default)]
pub(crate) struct Parsed {
    pub tools: Vec<String>,
    pub findings: Vec<Finding>,
    pub components: Vec<Component>,
    pub warnings: Vec<String>,
}

/// The format of a report, from its content (not its file name).
pub fn detect(bytes: &[u8]) -> Option<Format> {
    detect::detect(bytes)
}

/// Reads the findings of one report; `source` names it in messages and errors. Secret
/// hashes are keyed with `secrets`.
pub fn parse(source: &str, bytes: &[u8], secrets: &SecretHasher) -> Result<Report, IngestError> {
    parse_limited(source, bytes, MAX_RESULTS, secrets)
}

fn parse_limited(
    source: &str,
    bytes: &[u8],
    max_results: usize,
    secrets: &SecretHasher,
) -> Result<Report, IngestError> {
    let Some(format) = detect(bytes) else {
        return Err(unrecognised(source, bytes));
    };
    let parsed = match format {
        Format::Sarif => sarif::parse(bytes, max_results),
        Format::OsvScanner => osv_scanner::parse(bytes),
        Format::Trivy => trivy::parse(bytes),
        Format::Grype => grype::parse(bytes),
        Format::GitLab => gitlab::parse(bytes),
        Format::Gitleaks => gitleaks::parse(bytes),
        Format::NpmAudit => npm_audit::parse(bytes),
        Format::PipAudit => pip_audit::parse(bytes),
        Format::CargoAudit => cargo_audit::parse(bytes),
        Format::CycloneDx => cyclonedx::parse(bytes),
        Format::Spdx => spdx::parse(bytes),
    }
    .map_err(|e| IngestError::from_json(source, Some(format), e))?;
    if parsed.findings.len() > max_results {
        return Err(too_many_results(source, Some(format), max_results));
    }
    let mut parsed = parsed;
    secret_hash::key_fingerprints(&mut parsed.findings, secrets);
    Ok(Report {
        source: source.to_string(),
        format,
        tools: parsed.tools,
        findings: parsed.findings,
        components: parsed.components,
        warnings: parsed.warnings,
    })
}

/// The error for a report of no known format: its JSON syntax error when it is not JSON.
fn unrecognised(source: &str, bytes: &[u8]) -> IngestError {
    let as_json: Result<serde::de::IgnoredAny, _> = json::from_slice(bytes);
    match as_json {
        Err(error)
            if error
                .position
                .as_deref()
                .is_some_and(|p| p.starts_with("line ")) =>
        {
            IngestError::from_json(source, None, error)
        }
        _ => IngestError::new(
            source,
            None,
            "unrecognised report format (expected SARIF 2.1.0, osv-scanner, Trivy, Grype, GitLab security report, gitleaks, npm audit, pip-audit, cargo-audit, CycloneDX or SPDX JSON)",
        ),
    }
}

/// Reads and parses one report file; files over [`MAX_REPORT_BYTES`] are refused unread.
pub fn read_report(path: &Path, secrets: &SecretHasher) -> Result<Report, IngestError> {
    let source = path.display().to_string();
    let unreadable =
        |e: std::io::Error| IngestError::new(&source, None, format!("cannot read: {e}"));
    let file = std::fs::File::open(path).map_err(unreadable)?;
    let size = file.metadata().map_err(unreadable)?.len();
    if size > MAX_REPORT_BYTES {
        return Err(too_large(&source));
    }
    let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
    file.take(MAX_REPORT_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(unreadable)?;
    if bytes.len() as u64 > MAX_REPORT_BYTES {
        return Err(too_large(&source));
    }
    parse(&source, &bytes, secrets)
}

fn too_many_results(source: &str, format: Option<Format>, max: usize) -> IngestError {
    IngestError::new(
        source,
        format,
        format!("more than {max} results in one report"),
    )
}

fn too_large(source: &str) -> IngestError {
    IngestError::new(
        source,
        None,
        format!(
            "report is larger than the limit of {} MiB",
            MAX_REPORT_BYTES / (1024 * 1024)
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    // The entry points under the default key: these tests are about reading, not hashing.
    fn parse(source: &str, bytes: &[u8]) -> Result<Report, IngestError> {
        super::parse(source, bytes, &SecretHasher::default())
    }

    fn parse_limited(source: &str, bytes: &[u8], max: usize) -> Result<Report, IngestError> {
        super::parse_limited(source, bytes, max, &SecretHasher::default())
    }

    fn read_report(path: &Path) -> Result<Report, IngestError> {
        super::read_report(path, &SecretHasher::default())
    }

    fn fixture(path: &str) -> Vec<u8> {
        std::fs::read(format!("{}/fixtures/{path}", env!("CARGO_MANIFEST_DIR"))).unwrap()
    }

    #[test]
    fn formats_are_detected_and_named() {
        let sarif = parse("x.sarif", &fixture("sarif/codeql_2.5.4.sarif")).unwrap();
        assert_eq!(sarif.format, Format::Sarif);
        assert_eq!(sarif.source, "x.sarif");
        let osv = parse("osv.json", &fixture("sca/osv-scanner/ci_results-some.json")).unwrap();
        assert_eq!(osv.format, Format::OsvScanner);
        assert_eq!(osv.tools, vec!["osv-scanner"]);
        assert_eq!(Format::Sarif.to_string(), "SARIF");
        assert_eq!(Format::OsvScanner.to_string(), "osv-scanner JSON");
    }

    #[test]
    fn reports_with_too_many_results_are_refused() {
        let sarif = fixture("sarif/codeql_2.5.4.sarif");
        assert!(parse_limited("c.sarif", &sarif, 72).is_ok());
        let error = parse_limited("c.sarif", &sarif, 71).unwrap_err();
        assert_eq!(
            error.to_string(),
            "c.sarif: SARIF: at $.runs: more than 71 results in one report"
        );
        let osv = fixture("sca/osv-scanner/dd_many_findings.json");
        let error = parse_limited("o.json", &osv, 10).unwrap_err();
        assert_eq!(
            error.to_string(),
            "o.json: osv-scanner JSON: more than 10 results in one report"
        );
    }

    #[test]
    fn deep_nesting_never_overflows_the_stack() {
        let deep = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n));
        // In a field posture reads: refused at serde_json's recursion limit.
        let typed = format!(
            r#"{{"version":"2.1.0","runs":[{{"tool":{{"driver":{{"name":"t"}}}},"results":[{{"ruleId":"r","message":{{"text":"m"}},"properties":{{"security-severity":{}}}}}]}}]}}"#,
            deep(100_000)
        );
        let error = parse("deep.sarif", typed.as_bytes()).unwrap_err();
        assert!(error.message.contains("recursion limit"), "{error}");
        // In fields posture skips, and at the top level of every format: read or refused,
        // never a crash.
        for report in [
            format!(
                r#"{{"version":"2.1.0","runs":[{{"results":[],"x":{}}}]}}"#,
                deep(100_000)
            ),
            format!(r#"{{"SchemaVersion":2,"Results":{}}}"#, deep(100_000)),
            format!(
                r#"{{"bomFormat":"CycloneDX","vulnerabilities":{}}}"#,
                deep(100_000)
            ),
            deep(100_000),
        ] {
            if let Err(error) = parse("deep.json", report.as_bytes()) {
                assert!(error.to_string().starts_with("deep.json: "), "{error}");
            }
        }
    }

    #[test]
    fn truncated_report_names_file_format_line_and_column() {
        let bytes = fixture("sarif/codeql-action_valid_2runs.sarif");
        let truncated = &bytes[..bytes.len() / 2];
        let error = parse("reports/x.sarif", truncated).unwrap_err();
        assert_eq!(error.file, "reports/x.sarif");
        assert_eq!(error.format, Some(Format::Sarif));
        let position = error.position.clone().unwrap();
        assert!(
            position.starts_with("line ") && position.contains(" column "),
            "{position}"
        );
        let shown = error.to_string();
        assert!(
            shown.starts_with("reports/x.sarif: SARIF: at line "),
            "{shown}"
        );
        assert!(shown.contains("EOF"), "{shown}");
    }

    #[test]
    fn wrong_shape_names_the_json_path() {
        let error = parse(
            "r.sarif",
            br#"{"runs":[{"results":[{}, {}, {"ruleId":7}]}]}"#,
        )
        .unwrap_err();
        assert_eq!(
            error.position.as_deref(),
            Some("$.runs[0].results[2].ruleId")
        );
        assert_eq!(
            error.to_string(),
            "r.sarif: SARIF: at $.runs[0].results[2].ruleId: expected a string, found an integer"
        );
        let osv = parse(
            "o.json",
            br#"{"results":[{"source":{"path":"a"},"packages":[{"package":{},"groups":{"ids":[]}}]}]}"#,
        )
        .unwrap_err();
        assert_eq!(osv.format, Some(Format::OsvScanner));
        assert_eq!(
            osv.position.as_deref(),
            Some("$.results[0].packages[0].groups")
        );
    }

    #[test]
    fn unrecognised_and_non_json_input() {
        let error = parse("a.json", br#"{"Results":[]}"#).unwrap_err();
        assert_eq!(error.format, None);
        assert!(
            error.message.starts_with("unrecognised report format"),
            "{error}"
        );
        let error = parse("b.txt", b"hello").unwrap_err();
        assert_eq!(error.position.as_deref(), Some("line 1 column 1"));
        assert!(
            error.to_string().starts_with("b.txt: at line 1 column 1: "),
            "{error}"
        );
    }

    #[test]
    fn trailing_garbage_is_an_error() {
        let error = parse("t.sarif", br#"{"runs":[]} x"#).unwrap_err();
        assert_eq!(error.position.as_deref(), Some("line 1 column 13"));
    }

    #[test]
    fn read_report_reads_a_file_and_reports_missing_ones() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.sarif");
        std::fs::write(
            &path,
            br#"{"runs":[{"tool":{"driver":{"name":"t"}},"results":[]}]}"#,
        )
        .unwrap();
        let report = read_report(&path).unwrap();
        assert_eq!(report.tools, vec!["t"]);
        assert!(report.findings.is_empty());
        let missing = read_report(&dir.path().join("missing.sarif")).unwrap_err();
        assert!(missing.message.starts_with("cannot read: "), "{missing}");
        assert!(missing.file.ends_with("missing.sarif"));
    }

    #[test]
    fn paths_are_resolved_against_the_repository() {
        let mut report = parse(
            "r.sarif",
            br#"{"runs":[{"tool":{"driver":{"name":"CodeQL"}},
              "originalUriBaseIds":{"%SRCROOT%":{"uri":"file:///home/runner/work/app/app/"}},
              "results":[{"ruleId":"r","message":{"text":"m"},"locations":[{"physicalLocation":
                {"artifactLocation":{"uri":"src/a.py","uriBaseId":"%SRCROOT%"},"region":{"startLine":3}}}]},
                {"ruleId":"r","message":{"text":"m"},"locations":[{"physicalLocation":
                {"artifactLocation":{"uri":"file:///opt/venv/lib/site.py"}}}]}]}]}"#,
        )
        .unwrap();
        let resolver = PathResolver::new(["src/a.py".to_string(), "README.md".to_string()]);
        let warnings = resolve_paths(&mut report.findings, &resolver);
        assert_eq!(report.findings[0].path(), Some("src/a.py"));
        assert_eq!(
            report.findings[0].location.as_ref().unwrap().lines(),
            Some((3, 3))
        );
        let outside = report.findings[1].location.as_ref().unwrap();
        assert!(outside.outside_repo);
        assert_eq!(outside.path, "/opt/venv/lib/site.py");
        assert_eq!(warnings.len(), 1);
    }

    /// A small SARIF log whose bytes the property test mutates.
    const SEED_SARIF: &str = r#"{"version":"2.1.0","runs":[{"tool":{"driver":{"name":"t","rules":[{"id":"r","properties":{"security-severity":"7.5","tags":["CWE-79"]}}]}},"originalUriBaseIds":{"A":{"uri":"file:///x/","uriBaseId":"A"}},"results":[{"ruleId":"r","ruleIndex":0,"level":"error","message":{"text":"{0} m","arguments":["a"]},"locations":[{"physicalLocation":{"artifactLocation":{"uri":"src/%41.py","uriBaseId":"A","index":0},"region":{"startLine":3,"endLine":1,"startColumn":9,"endColumn":2,"snippet":{"text":"s"}}}}],"suppressions":[{"status":"accepted"}],"partialFingerprints":{"k":"v"}}]}]}"#;

    const SEED_OSV: &str = r#"{"results":[{"source":{"path":"/a/go.mod"},"packages":[{"package":{"name":"m","version":"1","ecosystem":"Go"},"vulnerabilities":[{"id":"GHSA-aaaa-bbbb-cccc","affected":[{"package":{"name":"m","ecosystem":"Go"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"2"}]}]}]}],"groups":[{"ids":["GHSA-aaaa-bbbb-cccc"],"max_severity":"9"}]}]}]}"#;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn parse_never_panics_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            if let Err(error) = parse("fuzz", &bytes) {
                prop_assert_eq!(error.file, "fuzz");
                prop_assert!(!error.message.is_empty());
            }
        }

        #[test]
        fn parse_never_panics_on_mutated_reports(
            seed in prop_oneof![Just(SEED_SARIF), Just(SEED_OSV)],
            edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
        ) {
            let mut bytes = seed.as_bytes().to_vec();
            for (index, byte) in edits {
                let at = index.index(bytes.len());
                bytes[at] = byte;
            }
            if let Err(error) = parse("mutated", &bytes) {
                prop_assert_eq!(error.file, "mutated");
                prop_assert!(!error.message.is_empty());
            }
        }

        #[test]
        fn parse_never_panics_on_sarif_with_arbitrary_values(
            line in any::<i64>(), column in any::<i64>(), index in any::<i64>(),
            uri in ".{0,40}", level in ".{0,8}", severity in any::<f64>(),
        ) {
            let json = serde_json::json!({"runs": [{"tool": {"driver": {"name": "t", "rules": [{"id": "r"}]}},
                "results": [{"ruleIndex": index, "level": level, "message": {"text": "{0}{1}"},
                  "properties": {"security-severity": severity.to_string()},
                  "locations": [{"physicalLocation": {"artifactLocation": {"uri": uri, "index": index},
                    "region": {"startLine": line, "endLine": line.wrapping_neg(), "startColumn": column, "endColumn": column}}}]}]}]});
            let report = parse("gen.sarif", json.to_string().as_bytes());
            prop_assert!(report.is_ok(), "{:?}", report);
            let finding = &report.unwrap().findings[0];
            if let Some(score) = finding.score {
                prop_assert!((0.0..=10.0).contains(&score));
            }
        }
    }
}
