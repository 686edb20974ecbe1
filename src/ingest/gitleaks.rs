//! gitleaks' JSON report (`gitleaks detect --report-format json`): a top-level array of leaks,
//! each one secret finding at its file, lines and columns.
//!
//! The secret itself (`Secret`) and the text around it (`Match`) are never copied: the
//! finding carries the keyed hash of `Secret` in `fingerprints["secretHash"]`, so the same
//! secret is recognised wherever it moves and whichever tool reports it; a report written
//! with `--redact`, whose secrets all read `REDACTED`, gets the hash of file, rule and lines
//! in `fingerprints["secretLocationHash"]` instead (see [`super::secret_hash`]). The commit
//! message, author and e-mail are not kept either; posture attributes findings from the
//! repository itself.
//!
//! | gitleaks | severity |
//! |---|---|
//! | every leak (gitleaks has no severity) | high |

use serde::Deserialize;

use super::Parsed;
use super::json::{self, JsonError, null_as_default};
use super::secret_hash::{SECRET_HASH, SECRET_LOCATION_HASH, location_digest, secret_digest};
use crate::model::{Finding, Kind, Location, Severity};

/// The tool name gitleaks' findings carry.
pub(crate) const TOOL: &str = "gitleaks";

/// What `--redact` writes instead of each secret.
const REDACTED: &str = "REDACTED";

/// One leak, the fields posture reads (`Match`, `Message`, `Author`, `Email` are skipped
/// unread).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Leak {
    #[serde(default, rename = "RuleID")]
    rule_id: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    start_line: i64,
    #[serde(default)]
    end_line: i64,
    #[serde(default)]
    start_column: i64,
    #[serde(default)]
    end_column: i64,
    #[serde(default)]
    secret: String,
    #[serde(default)]
    file: String,
    #[serde(default)]
    symlink_file: String,
    #[serde(default)]
    commit: String,
    #[serde(default)]
    fingerprint: String,
    #[serde(default, deserialize_with = "null_as_default")]
    tags: Vec<String>,
}

pub(crate) fn parse(bytes: &[u8]) -> Result<Parsed, JsonError> {
    let leaks: Vec<Leak> = json::from_slice(bytes)?;
    Ok(Parsed {
        tools: vec![TOOL.to_string()],
        findings: leaks.iter().map(finding).collect(),
        components: Vec::new(),
        warnings: Vec::new(),
    })
}

fn finding(leak: &Leak) -> Finding {
    let rule = if leak.rule_id.trim().is_empty() {
        "gitleaks"
    } else {
        leak.rule_id.trim()
    };
    let mut finding = Finding::new(Kind::Secret, TOOL, rule);
    let description = leak.description.trim();
    if !description.is_empty() {
        finding.title = description.to_string();
    }
    finding.message = message(leak, rule);
    finding.severity = Severity::High;
    if !leak.file.is_empty() {
        let mut location = Location::new(leak.file.clone());
        location.start_line = positive(leak.start_line);
        location.end_line = positive(leak.end_line)
            .zip(location.start_line)
            .map(|(end, start)| end.max(start));
        location.start_column = positive(leak.start_column);
        location.end_column = positive(leak.end_column);
        finding.location = Some(location);
    }
    match Some(leak.secret.as_str())
        .filter(|s| *s != REDACTED)
        .and_then(secret_digest)
    {
        Some(digest) => {
            finding.fingerprints.insert(SECRET_HASH.to_string(), digest);
        }
        None => {
            let lines = format!("lines {}-{}", leak.start_line, leak.end_line);
            finding.fingerprints.insert(
                SECRET_LOCATION_HASH.to_string(),
                location_digest(&leak.file, rule, &lines),
            );
        }
    }
    if !leak.fingerprint.is_empty() {
        finding
            .fingerprints
            .insert("gitleaks/fingerprint".to_string(), leak.fingerprint.clone());
    }
    finding
}

/// What was found where, without the secret and without line numbers (the message stands
/// in for the flagged text when that cannot be read, so it must not move with the code).
fn message(leak: &Leak, rule: &str) -> String {
    let mut message = match leak.description.trim() {
        "" => format!("A secret matched gitleaks rule `{rule}`"),
        description => format!("{description}: a secret matched gitleaks rule `{rule}`"),
    };
    if !leak.symlink_file.is_empty() {
        message.push_str(&format!(" (through the symlink {})", leak.symlink_file));
    }
    if !leak.commit.is_empty() {
        let short: String = leak.commit.chars().take(12).collect();
        message.push_str(&format!(" in commit {short}"));
    }
    message.push('.');
    if !leak.tags.is_empty() {
        message.push_str(&format!(" Tags: {}.", leak.tags.join(", ")));
    }
    message
}

/// A 1-based line or column; gitleaks writes 0 (or nothing) when it has none.
fn positive(n: i64) -> Option<u32> {
    u32::try_from(n).ok().filter(|&n| n > 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::{Format, detect};

    const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/sca/gitleaks/");

    fn bytes(name: &str) -> Vec<u8> {
        std::fs::read(format!("{FIXTURES}{name}")).unwrap()
    }

    #[test]
    fn many_leaks_with_lines_columns_and_hashed_secrets() {
        let parsed = parse(&bytes("dd_gitleaks8_many.json")).unwrap();
        assert_eq!(parsed.tools, vec!["gitleaks"]);
        assert_eq!(parsed.findings.len(), 4);
        let aws = &parsed.findings[0];
        assert_eq!(aws.kind, Kind::Secret);
        assert_eq!(aws.rule, "aws-access-token");
        assert_eq!(aws.title, "AWS");
        assert_eq!(aws.severity, Severity::High);
        let location = aws.location.as_ref().unwrap();
        assert_eq!(location.path, "/conf/aws.tf");
        assert_eq!(location.lines(), Some((2, 2)));
        assert_eq!(
            (location.start_column, location.end_column),
            (Some(24038), Some(24057))
        );
        assert_eq!(location.snippet, None);
        assert_eq!(
            aws.message,
            "AWS: a secret matched gitleaks rule `aws-access-token` in commit 74d53286c550."
        );
        assert_eq!(aws.fingerprints.get("secretHash").unwrap().len(), 64);
        assert_eq!(
            aws.fingerprints.get("secretHash").unwrap(),
            parsed.findings[1].fingerprints.get("secretHash").unwrap(),
            "the same secret in two commits"
        );
        assert_ne!(
            aws.fingerprints.get("secretHash").unwrap(),
            parsed.findings[3].fingerprints.get("secretHash").unwrap()
        );
        let rsa = &parsed.findings[2];
        assert_eq!(
            rsa.message,
            "RSA private key: a secret matched gitleaks rule `RSA-PK`. Tags: tag1, tag2."
        );
        assert_eq!(rsa.path(), Some("conf/rsa.pk"));
    }

    #[test]
    fn secret_hash_is_the_keyed_hash_of_the_secret() {
        let parsed = parse(&bytes("gitleaks_json_simple.json")).unwrap();
        assert_eq!(parsed.findings.len(), 1);
        let digest = secret_digest("a secret").unwrap();
        assert_eq!(
            parsed.findings[0].fingerprints.get(SECRET_HASH),
            Some(&digest)
        );
        let hasher = crate::ingest::SecretHasher::new(b"a key");
        let report =
            crate::ingest::parse("g.json", &bytes("gitleaks_json_simple.json"), &hasher).unwrap();
        let finding = &report.findings[0];
        assert_eq!(
            finding.fingerprints.get(SECRET_HASH),
            Some(&hasher.key(&digest)),
            "keyed before the report leaves ingest"
        );
        assert_eq!(finding.title, "test-rule", "no description: the rule id");
        assert_eq!(finding.location.as_ref().unwrap().lines(), Some((1, 2)));
        assert!(
            !finding.fingerprints.contains_key("gitleaks/fingerprint"),
            "empty Fingerprint"
        );
    }

    #[test]
    fn secrets_and_matches_never_reach_the_findings() {
        for (name, secrets) in [
            (
                "dd_gitleaks8_many.json",
                &[
                    "secretAWSsecret",
                    "-----BEGIN RSA PRIVATE KEY-----",
                    "dfjksdjfs3294dfjlsdaf213",
                    "apikey = ",
                ][..],
            ),
            (
                "gitleaks_json_simple.json",
                &["a secret", "line containing secret"][..],
            ),
        ] {
            let report =
                crate::ingest::parse(name, &bytes(name), &crate::ingest::SecretHasher::default())
                    .unwrap();
            let shown = format!("{report:?}");
            for secret in secrets {
                assert!(!shown.contains(secret), "{name}: {secret} leaked");
            }
            assert!(!shown.contains("first.last@gmail.com"), "{name}: e-mail");
            assert!(!shown.contains("Lorem ipsum"), "{name}: commit message");
        }
    }

    #[test]
    fn redacted_reports_and_fingerprints() {
        let parsed = parse(
            br#"[{"RuleID":"generic-api-key","Description":"Generic API Key","StartLine":3,
                 "EndLine":3,"StartColumn":0,"EndColumn":0,"Match":"REDACTED","Secret":"REDACTED",
                 "File":"src/app.py","SymlinkFile":"link.py","Commit":"","Entropy":3.2,
                 "Tags":null,"Fingerprint":"src/app.py:generic-api-key:3"}]"#,
        )
        .unwrap();
        let finding = &parsed.findings[0];
        assert!(!finding.fingerprints.contains_key("secretHash"));
        assert_eq!(
            finding.fingerprints.get(SECRET_LOCATION_HASH),
            Some(&location_digest(
                "src/app.py",
                "generic-api-key",
                "lines 3-3"
            )),
            "where the secret is, for lack of the secret"
        );
        assert_eq!(
            finding.fingerprints.get("gitleaks/fingerprint").unwrap(),
            "src/app.py:generic-api-key:3"
        );
        let location = finding.location.as_ref().unwrap();
        assert_eq!((location.start_column, location.end_column), (None, None));
        assert_eq!(
            finding.message,
            "Generic API Key: a secret matched gitleaks rule `generic-api-key` (through the symlink link.py)."
        );
    }

    #[test]
    fn fixtures_are_detected_as_gitleaks() {
        for name in ["dd_gitleaks8_many.json", "gitleaks_json_simple.json"] {
            assert_eq!(detect(&bytes(name)), Some(Format::Gitleaks), "{name}");
        }
        assert_eq!(detect(b"[]"), Some(Format::Gitleaks), "a clean run");
        assert_eq!(
            detect(br#"[{"Description":"AWS","StartLine":2,"EndLi"#),
            Some(Format::Gitleaks),
            "truncated"
        );
    }

    #[test]
    fn malformed_and_wrong_shape() {
        let bytes = bytes("dd_gitleaks8_many.json");
        let error = crate::ingest::parse(
            "g.json",
            &bytes[..bytes.len() - 20],
            &crate::ingest::SecretHasher::default(),
        )
        .unwrap_err();
        assert_eq!(error.format, Some(Format::Gitleaks));
        assert!(
            error.position.as_deref().unwrap().starts_with("line "),
            "{error}"
        );
        let error = crate::ingest::parse(
            "g.json",
            br#"[{"RuleID":"r"},{"StartLine":"2"}]"#,
            &crate::ingest::SecretHasher::default(),
        )
        .unwrap_err();
        assert_eq!(error.position.as_deref(), Some("$[1].StartLine"));
    }
}
