//! cargo-audit's JSON report (`cargo audit --json`) turned into dependency findings: one per
//! entry of `vulnerabilities.list`, and one per warning (`warnings.unmaintained`, `unsound`,
//! `yanked`, `notice`).
//!
//! An advisory's `versions` (`patched`, `unaffected`: Cargo requirements) become SEMVER
//! ranges of the versions outside them all (`unaffected: ["<0.24.0"]`, `patched:
//! [">=0.38.0"]` → introduced 0.24.0, fixed 0.38.0). A warning's rule is its informational
//! advisory's id (`RUSTSEC-…`), or `cargo-audit/<kind>` when it has none (`yanked`). Findings
//! point at `Cargo.lock`.
//!
//! | cargo-audit | severity |
//! |---|---|
//! | vulnerability with a CVSS vector (v2, v3.x or v4.0) | the base score's CVSS rating: ≥ 9 critical, ≥ 7 high, ≥ 4 medium, > 0 low |
//! | vulnerability without a usable vector | medium |
//! | warning (`unmaintained`, `unsound`, `yanked`, `notice`) | low |

use std::collections::BTreeMap;

use serde::Deserialize;

use super::Parsed;
use super::dependency::{cargo_affected, cvss_base_score, preferred_id};
use super::json::{self, JsonError, null_as_default};
use crate::model::{Advisory, Ecosystem, Finding, Kind, Location, Package, Severity};

/// The tool name cargo-audit's findings carry.
pub(crate) const TOOL: &str = "cargo-audit";

/// The lockfile cargo-audit reads.
const MANIFEST: &str = "Cargo.lock";

#[derive(Debug, Deserialize)]
struct Output {
    #[serde(default, deserialize_with = "null_as_default")]
    vulnerabilities: Vulnerabilities,
    /// Warnings by kind (`unmaintained`, `unsound`, `yanked`, `notice`).
    #[serde(default, deserialize_with = "null_as_default")]
    warnings: BTreeMap<String, Option<Vec<Entry>>>,
}

#[derive(Debug, Default, Deserialize)]
struct Vulnerabilities {
    #[serde(default, deserialize_with = "null_as_default")]
    list: Vec<Entry>,
}

/// A vulnerability or a warning.
#[derive(Debug, Deserialize)]
struct Entry {
    #[serde(default)]
    kind: Option<String>,
    #[serde(default)]
    advisory: Option<RustSec>,
    #[serde(default)]
    versions: Option<Versions>,
    #[serde(default)]
    package: CrateRef,
}

#[derive(Debug, Deserialize)]
struct RustSec {
    #[serde(default)]
    id: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    description: String,
    #[serde(default, deserialize_with = "null_as_default")]
    aliases: Vec<String>,
    #[serde(default)]
    url: Option<String>,
    #[serde(default)]
    cvss: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    categories: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
struct Versions {
    #[serde(default, deserialize_with = "null_as_default")]
    patched: Vec<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    unaffected: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
struct CrateRef {
    #[serde(default)]
    name: String,
    #[serde(default)]
    version: Option<String>,
}

pub(crate) fn parse(bytes: &[u8]) -> Result<Parsed, JsonError> {
    let output: Output = json::from_slice(bytes)?;
    let mut parsed = Parsed {
        tools: vec![TOOL.to_string()],
        ..Parsed::default()
    };
    for entry in &output.vulnerabilities.list {
        parsed
            .findings
            .push(finding(entry, None, &mut parsed.warnings));
    }
    for (kind, entries) in &output.warnings {
        for entry in entries.iter().flatten() {
            let kind = entry.kind.as_deref().unwrap_or(kind);
            parsed
                .findings
                .push(finding(entry, Some(kind), &mut parsed.warnings));
        }
    }
    Ok(parsed)
}

/// The finding of a vulnerability (`warning: None`) or of a warning of that kind.
fn finding(entry: &Entry, warning: Option<&str>, notes: &mut Vec<String>) -> Finding {
    let name = entry.package.name.clone();
    let version = entry.package.version.clone().filter(|v| !v.is_empty());
    let advisory = entry.advisory.as_ref().filter(|a| !a.id.trim().is_empty());
    let rule = match (advisory, warning) {
        (Some(a), _) => {
            let ids = std::iter::once(a.id.as_str()).chain(a.aliases.iter().map(String::as_str));
            preferred_id(ids).unwrap_or(&a.id).to_string()
        }
        (None, Some(kind)) => format!("cargo-audit/{kind}"),
        (None, None) => "cargo-audit/vulnerability".to_string(),
    };
    let mut finding = Finding::new(Kind::Sca, TOOL, rule.clone());
    finding.title = match (advisory.map(|a| a.title.trim()), warning) {
        (Some(title), _) if !title.is_empty() => title.to_string(),
        (_, Some(kind)) => match &version {
            Some(v) => format!("{name} {v} is {kind}"),
            None => format!("{name} is {kind}"),
        },
        _ => format!("{rule} in {name}"),
    };
    finding.message = advisory
        .map(|a| a.description.trim().to_string())
        .filter(|d| !d.is_empty())
        .unwrap_or_else(|| finding.title.clone());
    if let Some(versions) = entry.versions.as_ref().filter(|v| !v.patched.is_empty()) {
        finding.message.push_str(&format!(
            "\n\nPatched versions: {}.",
            versions.patched.join("; ")
        ));
    }
    if let Some(a) = advisory.filter(|a| !a.categories.is_empty()) {
        finding
            .message
            .push_str(&format!("\n\nCategories: {}.", a.categories.join(", ")));
    }
    let vector = advisory
        .and_then(|a| a.cvss.clone())
        .filter(|v| !v.trim().is_empty());
    finding.score = vector.as_deref().and_then(cvss_base_score);
    finding.severity = match (warning, finding.score) {
        (Some(_), _) => Severity::Low,
        (None, Some(score)) => Severity::from_cvss(score),
        (None, None) => Severity::Medium,
    };
    if let Some(a) = advisory {
        let page =
            a.id.starts_with("RUSTSEC-")
                .then(|| format!("https://rustsec.org/advisories/{}.html", a.id));
        let versions = entry.versions.as_ref();
        let (patched, unaffected) = versions.map_or((&[][..], &[][..]), |v| {
            (v.patched.as_slice(), v.unaffected.as_slice())
        });
        let affected = match cargo_affected(patched, unaffected) {
            Some(ranges) => ranges,
            None => {
                notes.push(format!(
                    "cargo-audit: {}: cannot read the version requirements {:?}; no affected \
                     ranges, so no upgrade advice",
                    a.id,
                    patched.iter().chain(unaffected).collect::<Vec<_>>()
                ));
                Vec::new()
            }
        };
        finding.advisories = vec![Advisory {
            id: a.id.clone(),
            aliases: a.aliases.clone(),
            summary: Some(a.title.clone()).filter(|t| !t.trim().is_empty()),
            url: a.url.clone().filter(|u| !u.is_empty()).or(page.clone()),
            cvss_score: finding.score,
            cvss_vector: vector,
            affected,
            affected_versions: Vec::new(),
        }];
        finding.help_uri = page.or_else(|| a.url.clone().filter(|u| !u.is_empty()));
    }
    finding.location = Some(Location::new(MANIFEST));
    finding.package = Some(Box::new(Package {
        ecosystem: Ecosystem::CratesIo,
        name,
        version,
        manifest: Some(MANIFEST.to_string()),
    }));
    finding
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::{Format, detect};
    use crate::model::{RangeEvent, RangeKind};

    /// Besides the real reports under `fixtures/sca/cargo-audit/`, this one is written after
    /// cargo-audit 0.21's JSON output (the `rustsec` crate's `Report` serialisation), its
    /// vulnerabilities taken from a real report (DefectDojo's
    /// `unittests/scans/cargo_audit/many_findings_cvss.json`, trimmed: `dependencies` lists
    /// and several entries dropped), its warnings in the shape cargo-audit writes them.
    const REPORT: &str = r#"{
  "database": {"advisory-count": 1098, "last-commit": "be6e70abbbc6be4aa1b768b234766d087731da2d",
               "last-updated": "2026-05-27T17:33:53+02:00"},
  "lockfile": {"dependency-count": 176},
  "settings": {"target_arch": [], "target_os": [], "severity": null, "ignore": [],
               "informational_warnings": ["unmaintained", "unsound", "notice"]},
  "vulnerabilities": {
    "found": true,
    "count": 3,
    "list": [
      {
        "advisory": {
          "id": "RUSTSEC-2026-0047", "package": "aws-lc-sys",
          "title": "PKCS7_verify Signature Validation Bypass in AWS-LC",
          "description": "Improper signature validation in `PKCS7_verify()` in AWS-LC allows an\nunauthenticated user to bypass signature verification.",
          "date": "2026-03-02",
          "aliases": ["CVE-2026-3338", "GHSA-hfpc-8r3f-gw53", "GHSA-jchq-39cv-q4wj"],
          "related": [], "collection": "crates", "categories": ["crypto-failure"],
          "keywords": ["pkcs7"], "cvss": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:H/A:N",
          "informational": null,
          "references": ["https://github.com/aws/aws-lc-rs/security/advisories/GHSA-hfpc-8r3f-gw53"],
          "source": null, "url": "https://aws.amazon.com/security/security-bulletins/2026-005-AWS",
          "withdrawn": null, "license": "CC0-1.0", "expect-deleted": false
        },
        "versions": {"patched": [">=0.38.0"], "unaffected": ["<0.24.0"]},
        "affected": null,
        "package": {"name": "aws-lc-sys", "version": "0.36.0",
                    "source": "registry+https://github.com/rust-lang/crates.io-index",
                    "checksum": "43a442ece363113bd4bd4c8b18977a7798dd4d3c3383f34fb61936960e8f4ad8",
                    "dependencies": [], "replace": null}
      },
      {
        "advisory": {
          "id": "RUSTSEC-2026-0141", "package": "lettre",
          "title": "TLS hostname verification disabled when using Boring TLS backend",
          "description": "An inverted-boolean bug in lettre's `boring-tls` integration silently\ndisables TLS hostname verification.",
          "aliases": ["GHSA-4pj9-g833-qx53"], "categories": ["crypto-failure"],
          "cvss": "CVSS:4.0/AV:N/AC:L/AT:P/PR:N/UI:N/VC:H/VI:H/VA:N/SC:L/SI:L/SA:N",
          "informational": null, "references": [], "source": null,
          "url": "https://github.com/lettre/lettre/security/advisories/GHSA-4pj9-g833-qx53",
          "withdrawn": null
        },
        "versions": {"patched": [">=0.11.22"], "unaffected": ["<0.10.1"]},
        "affected": null,
        "package": {"name": "lettre", "version": "0.11.19"}
      },
      {
        "advisory": {
          "id": "RUSTSEC-2026-0104", "package": "rustls-webpki",
          "title": "Reachable panic in certificate revocation list parsing",
          "description": "A panic was reachable when parsing certificate revocation lists.",
          "aliases": ["GHSA-82j2-j2ch-gfr8"], "categories": ["denial-of-service"],
          "cvss": null, "informational": null, "references": [], "url": null
        },
        "versions": {"patched": [">=0.103.13, <0.104.0-alpha.1", ">=0.104.0-alpha.7"],
                     "unaffected": []},
        "affected": null,
        "package": {"name": "rustls-webpki", "version": "0.103.9"}
      }
    ]
  },
  "warnings": {
    "unmaintained": [
      {
        "kind": "unmaintained",
        "package": {"name": "atty", "version": "0.2.14",
                    "source": "registry+https://github.com/rust-lang/crates.io-index"},
        "advisory": {"id": "RUSTSEC-2024-0375", "package": "atty",
                     "title": "`atty` is unmaintained",
                     "description": "The maintainer of `atty` has been unreachable since 2021.",
                     "aliases": [], "categories": [], "cvss": null,
                     "informational": "unmaintained", "url": "https://github.com/softprops/atty/issues/57"},
        "affected": null,
        "versions": {"patched": [], "unaffected": []}
      }
    ],
    "yanked": [
      {"kind": "yanked", "package": {"name": "half-baked", "version": "0.3.1"},
       "advisory": null, "affected": null, "versions": null}
    ]
  }
}"#;

    #[test]
    fn vulnerabilities_and_warnings() {
        let parsed = parse(REPORT.as_bytes()).unwrap();
        assert_eq!(parsed.tools, vec!["cargo-audit"]);
        assert_eq!(parsed.findings.len(), 5, "3 vulnerabilities, 2 warnings");
        assert!(parsed.warnings.is_empty());

        let aws = &parsed.findings[0];
        assert_eq!(aws.kind, Kind::Sca);
        assert_eq!(aws.rule, "CVE-2026-3338", "CVE preferred");
        assert_eq!(
            aws.title,
            "PKCS7_verify Signature Validation Bypass in AWS-LC"
        );
        assert_eq!(aws.score, Some(7.5));
        assert_eq!(aws.severity, Severity::High);
        assert!(
            aws.message
                .ends_with("\n\nPatched versions: >=0.38.0.\n\nCategories: crypto-failure.")
        );
        assert_eq!(
            aws.help_uri.as_deref(),
            Some("https://rustsec.org/advisories/RUSTSEC-2026-0047.html")
        );
        assert_eq!(aws.path(), Some("Cargo.lock"));
        let package = aws.package.as_ref().unwrap();
        assert_eq!(package.ecosystem, Ecosystem::CratesIo);
        assert_eq!(package.name, "aws-lc-sys");
        assert_eq!(package.version.as_deref(), Some("0.36.0"));
        assert_eq!(package.manifest.as_deref(), Some("Cargo.lock"));
        let advisory = &aws.advisories[0];
        assert_eq!(advisory.id, "RUSTSEC-2026-0047");
        assert_eq!(advisory.aliases.len(), 3);
        assert_eq!(
            advisory.url.as_deref(),
            Some("https://aws.amazon.com/security/security-bulletins/2026-005-AWS")
        );
        assert_eq!(advisory.affected.len(), 1);
        assert_eq!(advisory.affected[0].kind, RangeKind::Semver);
        assert_eq!(
            advisory.affected[0].events,
            vec![
                RangeEvent::Introduced("0.24.0".into()),
                RangeEvent::Fixed("0.38.0".into())
            ]
        );

        let lettre = &parsed.findings[1];
        assert_eq!(lettre.rule, "GHSA-4pj9-g833-qx53");
        assert_eq!(lettre.score, Some(9.1), "CVSS v4.0");
        assert_eq!(lettre.severity, Severity::Critical);

        let webpki = &parsed.findings[2];
        assert_eq!(webpki.severity, Severity::Medium, "no CVSS vector");
        assert_eq!(webpki.score, None);
        assert_eq!(
            webpki.advisories[0].url.as_deref(),
            Some("https://rustsec.org/advisories/RUSTSEC-2026-0104.html")
        );
        assert_eq!(
            webpki.advisories[0].affected[1].events,
            vec![
                RangeEvent::Introduced("0.104.0-alpha.1".into()),
                RangeEvent::Fixed("0.104.0-alpha.7".into())
            ]
        );

        let atty = &parsed.findings[3];
        assert_eq!(atty.rule, "RUSTSEC-2024-0375");
        assert_eq!(atty.title, "`atty` is unmaintained");
        assert_eq!(atty.severity, Severity::Low);
        assert_eq!(
            atty.advisories[0].affected[0].events,
            vec![RangeEvent::Introduced("0".into())],
            "every version is unmaintained"
        );

        let yanked = &parsed.findings[4];
        assert_eq!(yanked.rule, "cargo-audit/yanked");
        assert_eq!(yanked.title, "half-baked 0.3.1 is yanked");
        assert_eq!(yanked.message, yanked.title);
        assert_eq!(yanked.severity, Severity::Low);
        assert!(yanked.advisories.is_empty());
        assert_eq!(yanked.help_uri, None);
    }

    #[test]
    fn unreadable_requirements_are_a_warning() {
        let parsed = parse(
            br#"{"database":{},"lockfile":{},"vulnerabilities":{"list":[{"advisory":{"id":"RUSTSEC-2020-0001"},
               "versions":{"patched":["?? 1"]},"package":{"name":"x","version":"1.0.0"}}]},"warnings":{"notice":null}}"#,
        )
        .unwrap();
        assert_eq!(parsed.findings.len(), 1);
        assert!(parsed.findings[0].advisories[0].affected.is_empty());
        assert_eq!(parsed.warnings.len(), 1);
        assert!(
            parsed.warnings[0].contains("RUSTSEC-2020-0001"),
            "{:?}",
            parsed.warnings
        );
    }

    #[test]
    fn detected_as_cargo_audit_even_when_clean() {
        assert_eq!(detect(REPORT.as_bytes()), Some(Format::CargoAudit));
        let clean = br#"{"database":{"advisory-count":302},"lockfile":{"dependency-count":1},
            "settings":{},"vulnerabilities":{"found":false,"count":0,"list":[]},"warnings":{}}"#;
        assert_eq!(detect(clean), Some(Format::CargoAudit));
        assert!(parse(clean).unwrap().findings.is_empty());
    }

    const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/sca/cargo-audit/");

    fn fixture(name: &str) -> Parsed {
        let bytes = std::fs::read(format!("{FIXTURES}{name}")).unwrap();
        assert_eq!(detect(&bytes), Some(Format::CargoAudit), "{name}");
        parse(&bytes).unwrap()
    }

    fn range(introduced: &str, fixed: Option<&str>) -> Vec<RangeEvent> {
        let mut events = vec![RangeEvent::Introduced(introduced.into())];
        events.extend(fixed.map(|f| RangeEvent::Fixed(f.into())));
        events
    }

    fn events(finding: &Finding) -> Vec<Vec<RangeEvent>> {
        finding.advisories[0]
            .affected
            .iter()
            .map(|r| {
                assert_eq!(r.kind, RangeKind::Semver);
                r.events.clone()
            })
            .collect()
    }

    #[test]
    fn real_reports_are_detected_and_parse() {
        // Counted in the JSON: vulnerabilities.list + every warnings.<kind> entry.
        for (name, count) in [
            ("dd_many_findings.json", 4 + 3 + 6),
            ("dd_many_findings_cvss.json", 10),
            ("dd_no_findings.json", 0),
        ] {
            let parsed = fixture(name);
            assert_eq!(parsed.tools, vec!["cargo-audit"], "{name}");
            assert_eq!(parsed.findings.len(), count, "{name}");
            assert!(parsed.warnings.is_empty(), "{name}: {:?}", parsed.warnings);
            for finding in &parsed.findings {
                assert_eq!(finding.kind, Kind::Sca);
                assert_eq!(finding.path(), Some("Cargo.lock"));
            }
        }
    }

    /// DefectDojo's `many_findings.json` (cargo-audit 0.14 era): 4 vulnerabilities (one
    /// advisory on two smallvec versions), 3 unmaintained and 6 yanked warnings.
    #[test]
    fn dd_many_findings() {
        let parsed = fixture("dd_many_findings.json");
        let findings = &parsed.findings;

        let arc_swap = &findings[0];
        assert_eq!(arc_swap.rule, "CVE-2020-35711", "the CVE alias preferred");
        assert_eq!(arc_swap.advisories[0].id, "RUSTSEC-2020-0091");
        assert_eq!(arc_swap.severity, Severity::Medium, "cvss null");
        assert_eq!(arc_swap.score, None);
        let package = arc_swap.package.as_ref().unwrap();
        assert_eq!(package.ecosystem, Ecosystem::CratesIo);
        assert_eq!(package.name, "arc-swap");
        assert_eq!(package.version.as_deref(), Some("0.4.7"));
        // patched >=1.1.0, >=0.4.8; unaffected <0.4.2.
        assert_eq!(events(arc_swap), vec![range("0.4.2", Some("0.4.8"))]);
        assert_eq!(
            arc_swap.advisories[0].url.as_deref(),
            Some("https://github.com/vorner/arc-swap/issues/45")
        );

        let hyper = &findings[1];
        assert_eq!(hyper.rule, "CVE-2021-21299");
        assert_eq!(hyper.package.as_ref().unwrap().name, "hyper");
        assert_eq!(
            events(hyper),
            vec![
                range("0.12.0", Some("0.12.36")),
                range("0.13.0", Some("0.13.10")),
                range("0.14.0", Some("0.14.3")),
            ]
        );

        for (finding, version) in [(&findings[2], "0.6.13"), (&findings[3], "1.5.0")] {
            assert_eq!(finding.rule, "CVE-2021-25900");
            assert_eq!(finding.advisories[0].id, "RUSTSEC-2021-0003");
            let package = finding.package.as_ref().unwrap();
            assert_eq!(package.name, "smallvec");
            assert_eq!(package.version.as_deref(), Some(version));
            assert_eq!(
                events(finding),
                vec![
                    range("0.6.3", Some("0.6.14")),
                    range("1.0.0", Some("1.6.1"))
                ]
            );
        }

        let unmaintained: Vec<&str> = findings[4..7].iter().map(|f| f.rule.as_str()).collect();
        assert_eq!(
            unmaintained,
            vec![
                "RUSTSEC-2021-0064",
                "RUSTSEC-2020-0016",
                "RUSTSEC-2020-0056"
            ]
        );
        assert!(findings[4..].iter().all(|f| f.severity == Severity::Low));
        let stdweb = &findings[6];
        assert_eq!(stdweb.title, "stdweb is unmaintained");
        assert_eq!(
            stdweb.package.as_ref().unwrap().version.as_deref(),
            Some("0.4.20")
        );
        // unaffected >0.4.20: everything up to and including 0.4.20.
        assert_eq!(events(stdweb), vec![range("0", Some("0.4.21-0"))]);
        assert_eq!(events(&findings[4]), vec![range("0", None)]);

        let yanked: Vec<&str> = findings[7..].iter().map(|f| f.title.as_str()).collect();
        assert_eq!(
            yanked,
            vec![
                "arc-swap 0.4.7 is yanked",
                "bytecount 0.6.1 is yanked",
                "miow 0.2.1 is yanked",
                "net2 0.2.35 is yanked",
                "pin-project-lite 0.1.11 is yanked",
                "pin-project-lite 0.2.0 is yanked",
            ]
        );
        for finding in &findings[7..] {
            assert_eq!(finding.rule, "cargo-audit/yanked");
            assert!(finding.advisories.is_empty(), "advisory null");
        }
    }

    /// DefectDojo's `many_findings_cvss.json`: 10 vulnerabilities, CVSS 3.1 and 4.0 vectors,
    /// several without a vector or a URL, prerelease requirements.
    #[test]
    fn dd_many_findings_cvss() {
        let parsed = fixture("dd_many_findings_cvss.json");
        let summary: Vec<(&str, &str, Severity, Option<f64>)> = parsed
            .findings
            .iter()
            .map(|f| {
                (
                    f.rule.as_str(),
                    f.package.as_ref().unwrap().name.as_str(),
                    f.severity,
                    f.score,
                )
            })
            .collect();
        assert_eq!(
            summary,
            vec![
                ("CVE-2026-3338", "aws-lc-sys", Severity::High, Some(7.5)),
                ("CVE-2026-3336", "aws-lc-sys", Severity::High, Some(7.5)),
                ("GHSA-394x-vwmw-crm3", "aws-lc-sys", Severity::Medium, None),
                ("CVE-2026-3337", "aws-lc-sys", Severity::Medium, Some(5.9)),
                ("CVE-2026-4428", "aws-lc-sys", Severity::High, Some(7.4)),
                (
                    "GHSA-4pj9-g833-qx53",
                    "lettre",
                    Severity::Critical,
                    Some(9.1)
                ),
                (
                    "GHSA-pwjx-qhcg-rvj4",
                    "rustls-webpki",
                    Severity::Medium,
                    None
                ),
                (
                    "GHSA-82j2-j2ch-gfr8",
                    "rustls-webpki",
                    Severity::Medium,
                    None
                ),
                (
                    "GHSA-xgp8-3hg3-c2mh",
                    "rustls-webpki",
                    Severity::Medium,
                    None
                ),
                (
                    "GHSA-965h-392x-2mh5",
                    "rustls-webpki",
                    Severity::Medium,
                    None
                ),
            ]
        );

        let name_constraints = &parsed.findings[2];
        assert_eq!(name_constraints.advisories[0].id, "RUSTSEC-2026-0044");
        assert_eq!(
            name_constraints.advisories[0].url.as_deref(),
            Some("https://rustsec.org/advisories/RUSTSEC-2026-0044.html"),
            "url null: the RustSec page"
        );
        assert_eq!(
            events(name_constraints),
            vec![range("0.32.0", Some("0.39.0"))]
        );
        assert_eq!(
            parsed.findings[4].advisories[0].cvss_vector.as_deref(),
            Some("CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:H/A:N")
        );
        assert_eq!(
            parsed.findings[5]
                .package
                .as_ref()
                .unwrap()
                .version
                .as_deref(),
            Some("0.11.19")
        );
        assert_eq!(
            events(&parsed.findings[6]),
            vec![range("0.102.0-alpha.0", Some("0.103.10"))]
        );
        assert_eq!(
            events(&parsed.findings[7]),
            vec![
                range("0", Some("0.103.13")),
                range("0.104.0-alpha.1", Some("0.104.0-alpha.7"))
            ]
        );
    }

    #[test]
    fn malformed_and_wrong_shape() {
        let error = crate::ingest::parse(
            "c.json",
            &REPORT.as_bytes()[..2000],
            &crate::ingest::SecretHasher::default(),
        )
        .unwrap_err();
        assert_eq!(error.format, Some(Format::CargoAudit));
        assert!(error.position.unwrap().starts_with("line "));
        let error = parse(
            br#"{"database":{},"lockfile":{},"vulnerabilities":{"list":[{"package":{"name":1}}]}}"#,
        )
        .unwrap_err();
        assert_eq!(
            error.position.as_deref(),
            Some("$.vulnerabilities.list[0].package.name")
        );
    }
}
