//! `npm audit --json` reports of npm 7 and later (`auditReportVersion: 2`) turned into
//! dependency findings: one per package and advisory (each advisory object in the `via` of
//! the package's entry).
//!
//! An entry whose `via` only names other packages (`"via": ["debug"]`) is vulnerable only
//! through them; the advisory is reported on the package that has it, so such an entry makes
//! no finding of its own. What it says is kept in the message of the findings it leads to:
//! whether the package is a direct dependency, the direct dependencies that bring it in
//! (following `effects`), where it is installed (`nodes`) and the fix npm offers
//! (`fixAvailable`).
//!
//! The advisory id is the GHSA id in the advisory `url`
//! (`https://github.com/advisories/GHSA-…`), else `NPM-<source>`. The npm 6 report
//! (`advisories`/`actions`, no `auditReportVersion`) is refused with a message saying so.
//! npm audit names neither the installed version nor the lockfile: findings have no version
//! (so no upgrade advice from them) and `package-lock.json` as their manifest.
//!
//! | npm `severity` of the advisory (else of the package entry) | severity |
//! |---|---|
//! | `critical` | critical |
//! | `high` | high |
//! | `moderate` | medium |
//! | `low` | low |
//! | `info` | info |
//! | missing or other | medium |
//!
//! The score is the advisory's `cvss.score` when above 0, else computed from its
//! `cvss.vectorString`.

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;

use super::Parsed;
use super::dependency::{cvss_base_score, npm_affected};
use super::json::{self, JsonError, Scalar, null_as_default};
use super::text;
use crate::model::{Advisory, Ecosystem, Finding, Kind, Location, Package, Severity};

/// The tool name npm audit's findings carry.
pub(crate) const TOOL: &str = "npm audit";

/// The lockfile npm audit reads.
const MANIFEST: &str = "package-lock.json";

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Output {
    #[serde(default)]
    audit_report_version: Option<u64>,
    #[serde(default, deserialize_with = "null_as_default")]
    vulnerabilities: BTreeMap<String, Entry>,
    /// npm 6's advisories, only to recognise that report.
    #[serde(default)]
    advisories: Option<serde::de::IgnoredAny>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Entry {
    #[serde(default)]
    name: String,
    #[serde(default)]
    severity: String,
    #[serde(default)]
    is_direct: bool,
    #[serde(default, deserialize_with = "null_as_default")]
    via: Vec<Via>,
    #[serde(default, deserialize_with = "null_as_default")]
    effects: Vec<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    nodes: Vec<String>,
    #[serde(default)]
    fix_available: Option<FixAvailable>,
}

/// An advisory of the package itself, or anything else: the name of a vulnerable package it
/// depends on.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Via {
    Advisory(Box<ViaAdvisory>),
    Package(serde::de::IgnoredAny),
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ViaAdvisory {
    #[serde(default)]
    source: Option<Scalar>,
    #[serde(default)]
    name: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    url: String,
    #[serde(default)]
    severity: String,
    #[serde(default, deserialize_with = "null_as_default")]
    cwe: Vec<String>,
    #[serde(default)]
    cvss: Option<Cvss>,
    #[serde(default)]
    range: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Cvss {
    #[serde(default)]
    score: Option<Scalar>,
    #[serde(default)]
    vector_string: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum FixAvailable {
    Flag(bool),
    Fix {
        #[serde(default)]
        name: String,
        #[serde(default)]
        version: String,
        #[serde(default, rename = "isSemVerMajor")]
        is_semver_major: bool,
    },
}

pub(crate) fn parse(bytes: &[u8]) -> Result<Parsed, JsonError> {
    let output: Output = json::from_slice(bytes)?;
    match output.audit_report_version {
        Some(2) => {}
        None if output.advisories.is_some() => {
            return Err(JsonError {
                position: None,
                message: "npm audit v1 reports (npm 6 and older) are not supported; \
                          run `npm audit --json` with npm 7 or newer"
                    .to_string(),
            });
        }
        other => {
            let version = other.map_or_else(|| "none".to_string(), |v| v.to_string());
            return Err(JsonError {
                position: Some("$.auditReportVersion".to_string()),
                message: format!(
                    "unsupported npm audit report version {version} (expected 2, npm 7 or newer)"
                ),
            });
        }
    }
    let mut parsed = Parsed {
        tools: vec![TOOL.to_string()],
        ..Parsed::default()
    };
    for (key, entry) in &output.vulnerabilities {
        let context = context(&output.vulnerabilities, key, entry);
        let mut seen = BTreeSet::new();
        for via in &entry.via {
            let Via::Advisory(advisory) = via else {
                continue;
            };
            let finding = finding(key, entry, advisory, &context);
            if seen.insert(finding.rule.clone()) {
                parsed.findings.push(finding);
            }
        }
    }
    Ok(parsed)
}

fn finding(key: &str, entry: &Entry, via: &ViaAdvisory, context: &str) -> Finding {
    let name = [via.name.as_str(), entry.name.as_str(), key]
        .into_iter()
        .find(|n| !n.trim().is_empty())
        .unwrap_or(key)
        .to_string();
    let id = advisory_id(via).unwrap_or_else(|| format!("npm-audit/{name}"));
    let mut finding = Finding::new(Kind::Sca, TOOL, id.clone());
    finding.title = match via.title.trim() {
        "" => format!("{id} in {name}"),
        title => title.to_string(),
    };
    let mut message = finding.title.clone();
    if !via.range.trim().is_empty() {
        message.push_str(&format!("\n\nVulnerable versions: {}.", via.range.trim()));
    }
    message.push_str("\n\n");
    message.push_str(context);
    finding.message = message;
    finding.severity = [via.severity.as_str(), entry.severity.as_str()]
        .iter()
        .find_map(|s| s.parse::<Severity>().ok())
        .unwrap_or(Severity::Medium);
    let vector = via
        .cvss
        .as_ref()
        .and_then(|c| c.vector_string.clone())
        .filter(|v| !v.trim().is_empty());
    finding.score = via
        .cvss
        .as_ref()
        .and_then(|c| c.score.as_ref()?.as_f64())
        .filter(|s| *s > 0.0 && *s <= 10.0)
        .or_else(|| cvss_base_score(vector.as_deref()?));
    finding.cwes = text::cwes(via.cwe.iter().map(String::as_str));
    let url = Some(via.url.trim().to_string()).filter(|u| !u.is_empty());
    finding.advisories = vec![Advisory {
        id,
        aliases: Vec::new(),
        summary: Some(finding.title.clone()),
        url: url.clone(),
        cvss_score: finding.score,
        cvss_vector: vector,
        affected: npm_affected(&via.range).unwrap_or_default(),
        affected_versions: Vec::new(),
    }];
    finding.help_uri = url;
    finding.location = Some(Location::new(MANIFEST));
    finding.package = Some(Box::new(Package {
        ecosystem: Ecosystem::Npm,
        name,
        version: None,
        manifest: Some(MANIFEST.to_string()),
    }));
    finding
}

/// The GHSA id of the advisory's URL, else `NPM-<source>`.
fn advisory_id(via: &ViaAdvisory) -> Option<String> {
    let ghsa = text::advisory_ids(&via.url)
        .into_iter()
        .find(|id| id.starts_with("GHSA-"));
    ghsa.or_else(|| {
        let source = match via.source.as_ref()? {
            Scalar::Number(n) if n.fract() == 0.0 && *n >= 0.0 => format!("{n:.0}"),
            Scalar::Text(s) if !s.trim().is_empty() => s.trim().to_string(),
            _ => return None,
        };
        Some(format!("NPM-{source}"))
    })
}

/// How the package is depended on, where it is installed and what fixes it.
fn context(all: &BTreeMap<String, Entry>, key: &str, entry: &Entry) -> String {
    let mut out = if entry.is_direct {
        format!("{key} is a direct dependency.")
    } else {
        let direct = direct_dependents(all, key);
        if direct.is_empty() {
            format!("{key} is a transitive dependency.")
        } else {
            format!(
                "{key} is a transitive dependency, brought in by {}.",
                direct.join(", ")
            )
        }
    };
    if !entry.nodes.is_empty() {
        out.push_str(&format!(" Installed at {}.", entry.nodes.join(", ")));
    }
    match &entry.fix_available {
        Some(FixAvailable::Flag(true)) => out.push_str(" `npm audit fix` fixes it."),
        Some(FixAvailable::Flag(false)) => out.push_str(" No fix is available."),
        Some(FixAvailable::Fix {
            name,
            version,
            is_semver_major,
        }) => {
            out.push_str(&format!(" Fix: update {name} to {version}"));
            if *is_semver_major {
                out.push_str(" (a SemVer-major change)");
            }
            out.push('.');
        }
        None => {}
    }
    out
}

/// The direct dependencies whose entries the package's `effects` lead to, in name order.
fn direct_dependents(all: &BTreeMap<String, Entry>, key: &str) -> Vec<String> {
    let mut seen = BTreeSet::from([key.to_string()]);
    let mut queue = vec![key.to_string()];
    let mut direct = BTreeSet::new();
    while let Some(name) = queue.pop() {
        for effect in all.get(&name).map(|e| e.effects.as_slice()).unwrap_or(&[]) {
            if !seen.insert(effect.clone()) {
                continue;
            }
            if all.get(effect).is_some_and(|e| e.is_direct) {
                direct.insert(effect.clone());
            }
            queue.push(effect.clone());
        }
    }
    direct.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::{Format, detect};
    use crate::model::{RangeEvent, RangeKind};

    const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/sca/npm-audit/");

    fn bytes(name: &str) -> Vec<u8> {
        std::fs::read(format!("{FIXTURES}{name}")).unwrap()
    }

    #[test]
    fn one_package_two_advisories() {
        let parsed = parse(&bytes("dd_npm7plus_one_vuln.json")).unwrap();
        assert_eq!(parsed.tools, vec!["npm audit"]);
        assert_eq!(
            parsed.findings.len(),
            2,
            "two advisory objects, one package name"
        );
        let first = &parsed.findings[0];
        assert_eq!(first.kind, Kind::Sca);
        assert_eq!(first.rule, "GHSA-gxpj-cx7g-858c");
        assert_eq!(first.title, "Regular Expression Denial of Service in debug");
        assert_eq!(first.severity, Severity::Medium, "moderate");
        assert_eq!(first.score, Some(5.3));
        assert_eq!(first.cwes, vec![400]);
        assert_eq!(
            first.help_uri.as_deref(),
            Some("https://github.com/advisories/GHSA-gxpj-cx7g-858c")
        );
        assert_eq!(first.path(), Some("package-lock.json"));
        let package = first.package.as_ref().unwrap();
        assert_eq!(package.ecosystem, Ecosystem::Npm);
        assert_eq!(package.name, "debug");
        assert_eq!(package.version, None);
        assert_eq!(package.manifest.as_deref(), Some("package-lock.json"));
        let advisory = &first.advisories[0];
        assert_eq!(
            advisory.cvss_vector.as_deref(),
            Some("CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:L")
        );
        assert_eq!(
            advisory.affected[0].events,
            vec![
                RangeEvent::Introduced("0".into()),
                RangeEvent::Fixed("2.6.9".into())
            ]
        );
        assert_eq!(advisory.affected[0].kind, RangeKind::Semver);
        assert_eq!(
            first.message,
            "Regular Expression Denial of Service in debug\n\nVulnerable versions: <2.6.9.\n\n\
             debug is a direct dependency. Installed at node_modules/debug. \
             Fix: update express to 4.18.3."
        );
        let second = &parsed.findings[1];
        assert_eq!(second.rule, "GHSA-9vvw-cc9w-f27h");
        assert_eq!(second.severity, Severity::High);
        assert_eq!(second.cwes, vec![1333]);
    }

    #[test]
    fn transitive_entries_lead_to_their_direct_dependencies() {
        let parsed = parse(&bytes("dd_npm7plus_many_vulns.json")).unwrap();
        // 6 entries; @vercel/fun, @vercel/node and vercel only name other packages.
        let rules: Vec<(&str, &str)> = parsed
            .findings
            .iter()
            .map(|f| (f.package.as_ref().unwrap().name.as_str(), f.rule.as_str()))
            .collect();
        assert_eq!(
            rules,
            vec![
                ("debug", "GHSA-gxpj-cx7g-858c"),
                ("semver", "GHSA-c2qf-rxjj-qqgw"),
                ("undici", "GHSA-3787-6prv-h9w3"),
            ]
        );
        let undici = &parsed.findings[2];
        assert_eq!(undici.severity, Severity::Low);
        assert_eq!(undici.score, Some(3.9));
        assert!(
            undici.message.ends_with(
                "undici is a transitive dependency, brought in by vercel. \
                 Installed at node_modules/undici. \
                 Fix: update vercel to 32.3.0 (a SemVer-major change)."
            ),
            "{}",
            undici.message
        );
        assert_eq!(
            parsed.findings[0].advisories[0].affected[0].events,
            vec![
                RangeEvent::Introduced("4.0.0".into()),
                RangeEvent::Fixed("4.3.1".into())
            ]
        );
    }

    #[test]
    fn ids_severities_and_fix_flags_without_a_url() {
        let parsed = parse(
            br#"{"auditReportVersion":2,"vulnerabilities":{"a":{"name":"a","severity":"critical",
              "isDirect":true,"via":[{"source":1001,"title":"","url":"","severity":"bogus",
              "cwe":null,"cvss":{"score":0,"vectorString":"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"},
              "range":"weird range"},{"source":1001}],"effects":[],"nodes":[],"fixAvailable":false}}}"#,
        )
        .unwrap();
        assert_eq!(parsed.findings.len(), 1, "one advisory listed twice");
        let finding = &parsed.findings[0];
        assert_eq!(finding.rule, "NPM-1001");
        assert_eq!(finding.title, "NPM-1001 in a");
        assert_eq!(finding.severity, Severity::Critical, "the entry's severity");
        assert_eq!(finding.score, Some(9.8), "computed from the vector");
        assert!(finding.advisories[0].affected.is_empty());
        assert!(finding.message.ends_with("No fix is available."));
    }

    #[test]
    fn npm6_and_unknown_versions_are_refused() {
        let error = crate::ingest::parse(
            "audit.json",
            br#"{"actions":[],"advisories":{"1":{"id":1}},"muted":[],"metadata":{}}"#,
            &crate::ingest::SecretHasher::default(),
        )
        .unwrap_err();
        assert_eq!(error.format, Some(Format::NpmAudit));
        assert_eq!(
            error.to_string(),
            "audit.json: npm audit JSON: npm audit v1 reports (npm 6 and older) are not \
             supported; run `npm audit --json` with npm 7 or newer"
        );
        let error = parse(br#"{"auditReportVersion":3,"vulnerabilities":{}}"#).unwrap_err();
        assert_eq!(error.position.as_deref(), Some("$.auditReportVersion"));
        assert!(error.message.contains("version 3"), "{}", error.message);
    }

    #[test]
    fn fixtures_are_detected_as_npm_audit() {
        for name in ["dd_npm7plus_one_vuln.json", "dd_npm7plus_many_vulns.json"] {
            assert_eq!(detect(&bytes(name)), Some(Format::NpmAudit), "{name}");
        }
    }

    #[test]
    fn malformed_and_wrong_shape() {
        let bytes = bytes("dd_npm7plus_one_vuln.json");
        let error = crate::ingest::parse(
            "n.json",
            &bytes[..bytes.len() / 2],
            &crate::ingest::SecretHasher::default(),
        )
        .unwrap_err();
        assert_eq!(error.format, Some(Format::NpmAudit));
        assert!(error.position.unwrap().starts_with("line "));
        let error =
            parse(br#"{"auditReportVersion":2,"vulnerabilities":{"a":{"isDirect":"yes"}}}"#)
                .unwrap_err();
        assert_eq!(
            error.position.as_deref(),
            Some("$.vulnerabilities.a.isDirect")
        );
    }
}
