//! pip-audit's JSON report (`pip-audit -f json`) turned into dependency findings: one per
//! package and vulnerability. Both shapes are read: the current one,
//! `{"dependencies": [{name, version, vulns}], "fixes": [...]}`, and the top-level array of
//! dependencies of pip-audit before 2.0. Dependencies pip-audit skipped (`skip_reason`) are
//! reported as warnings.
//!
//! pip-audit names no manifest, so findings point at `requirements.txt`. Its `fix_versions`
//! become OSV ECOSYSTEM ranges, one per release branch: the lowest fix closes a range from
//! `0`; each higher fix closes a range opened at its `major.minor` branch (`3.2.10` → from
//! `3.2`), when that branch lies above the previous fix. Should the installed version fall
//! outside them all (a branch without a fix of its own), a range from the installed version
//! to the next fix above it is added, so upgrade advice always sees the version pip-audit
//! flagged as affected. No fix version: every version is affected.
//!
//! | pip-audit | severity |
//! |---|---|
//! | every vulnerability (pip-audit reports no severity) | medium |

use std::str::FromStr;

use pep440_rs::Version;
use serde::Deserialize;

use super::Parsed;
use super::dependency::preferred_id;
use super::json::{self, JsonError, null_as_default, strip_bom};
use crate::model::{
    Advisory, AffectedRange, Ecosystem, Finding, Kind, Location, Package, RangeEvent, RangeKind,
    Severity,
};

/// The tool name pip-audit's findings carry.
pub(crate) const TOOL: &str = "pip-audit";

/// The manifest findings point at; pip-audit's report does not name the one it read.
const MANIFEST: &str = "requirements.txt";

#[derive(Debug, Deserialize)]
struct Output {
    #[serde(default, deserialize_with = "null_as_default")]
    dependencies: Vec<Dependency>,
}

#[derive(Debug, Deserialize)]
struct Dependency {
    #[serde(default)]
    name: String,
    #[serde(default)]
    version: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    vulns: Vec<Vuln>,
    #[serde(default)]
    skip_reason: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Vuln {
    #[serde(default)]
    id: String,
    #[serde(default, deserialize_with = "null_as_default")]
    fix_versions: Vec<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    aliases: Vec<String>,
    #[serde(default)]
    description: Option<String>,
}

pub(crate) fn parse(bytes: &[u8]) -> Result<Parsed, JsonError> {
    let legacy = strip_bom(bytes)
        .iter()
        .find(|b| !b.is_ascii_whitespace())
        .is_some_and(|b| *b == b'[');
    let dependencies = if legacy {
        json::from_slice::<Vec<Dependency>>(bytes)?
    } else {
        json::from_slice::<Output>(bytes)?.dependencies
    };
    let mut parsed = Parsed {
        tools: vec![TOOL.to_string()],
        ..Parsed::default()
    };
    for dependency in &dependencies {
        if let Some(reason) = dependency.skip_reason.as_deref() {
            parsed
                .warnings
                .push(format!("pip-audit skipped {}: {reason}", dependency.name));
        }
        parsed.findings.extend(
            dependency
                .vulns
                .iter()
                .filter(|v| !v.id.trim().is_empty())
                .map(|v| finding(dependency, v)),
        );
    }
    Ok(parsed)
}

fn finding(dependency: &Dependency, vuln: &Vuln) -> Finding {
    let id = vuln.id.trim();
    let ids = std::iter::once(id).chain(vuln.aliases.iter().map(String::as_str));
    let rule = preferred_id(ids).unwrap_or(id).to_string();
    let version = dependency.version.clone().filter(|v| !v.trim().is_empty());
    let mut finding = Finding::new(Kind::Sca, TOOL, rule.clone());
    finding.title = format!("{rule} in {}", dependency.name);
    finding.message = vuln
        .description
        .clone()
        .filter(|d| !d.trim().is_empty())
        .unwrap_or_else(|| finding.title.clone());
    if !vuln.fix_versions.is_empty() {
        finding
            .message
            .push_str(&format!("\n\nFixed in: {}.", vuln.fix_versions.join(", ")));
    }
    finding.severity = Severity::Medium;
    let url = format!("https://osv.dev/vulnerability/{id}");
    finding.advisories = vec![Advisory {
        id: id.to_string(),
        aliases: vuln
            .aliases
            .iter()
            .filter(|a| a.as_str() != id && !a.trim().is_empty())
            .cloned()
            .collect(),
        summary: None,
        url: Some(url.clone()),
        cvss_score: None,
        cvss_vector: None,
        affected: fix_ranges(version.as_deref(), &vuln.fix_versions),
        affected_versions: Vec::new(),
    }];
    finding.help_uri = Some(url);
    finding.location = Some(Location::new(MANIFEST));
    finding.package = Some(Box::new(Package {
        ecosystem: Ecosystem::PyPI,
        name: dependency.name.clone(),
        version,
        manifest: Some(MANIFEST.to_string()),
    }));
    finding
}

/// One affected stretch `[from, fixed)`; `from: None` is `0`, `fixed: None` open-ended.
struct Stretch<'a> {
    from: Option<(Version, String)>,
    fixed: Option<(&'a Version, &'a str)>,
}

impl Stretch<'_> {
    fn contains(&self, version: &Version) -> bool {
        self.from.as_ref().is_none_or(|(from, _)| from <= version)
            && self.fixed.is_none_or(|(fixed, _)| version < fixed)
    }

    fn to_range(&self) -> AffectedRange {
        let introduced = self
            .from
            .as_ref()
            .map_or_else(|| "0".to_string(), |(_, text)| text.clone());
        let mut events = vec![RangeEvent::Introduced(introduced)];
        if let Some((_, fixed)) = self.fixed {
            events.push(RangeEvent::Fixed(fixed.to_string()));
        }
        AffectedRange {
            kind: RangeKind::Ecosystem,
            events,
        }
    }
}

/// The affected ranges `fix_versions` imply, one per release branch (see the module doc).
fn fix_ranges(installed: Option<&str>, fix_versions: &[String]) -> Vec<AffectedRange> {
    let mut fixes: Vec<(Version, &str)> = fix_versions
        .iter()
        .filter_map(|text| Some((Version::from_str(text.trim()).ok()?, text.trim())))
        .collect();
    fixes.sort_by(|a, b| a.0.cmp(&b.0));
    fixes.dedup_by(|a, b| a.0 == b.0);
    let mut stretches: Vec<Stretch<'_>> = Vec::new();
    for (i, (fix, text)) in fixes.iter().enumerate() {
        let from = match i.checked_sub(1).map(|p| &fixes[p].0) {
            None => None,
            Some(previous) => {
                let Some(branch) = branch(fix) else { continue };
                if branch <= *previous || branch >= *fix {
                    continue;
                }
                let text = branch.to_string();
                Some((branch, text))
            }
        };
        stretches.push(Stretch {
            from,
            fixed: Some((fix, *text)),
        });
    }
    if fixes.is_empty() {
        stretches.push(Stretch {
            from: None,
            fixed: None,
        });
    }
    let installed = installed.and_then(|text| Some((Version::from_str(text.trim()).ok()?, text)));
    if let Some((version, text)) = installed {
        if !stretches.iter().any(|s| s.contains(&version)) {
            let next = fixes
                .iter()
                .find(|(fix, _)| *fix > version)
                .map(|(fix, text)| (fix, *text));
            stretches.push(Stretch {
                from: Some((version, text.trim().to_string())),
                fixed: next,
            });
        }
    }
    stretches.iter().map(Stretch::to_range).collect()
}

/// The `major.minor` release branch of a version (`3.2.10` → `3.2`).
fn branch(version: &Version) -> Option<Version> {
    let release = version.release();
    if release.is_empty() {
        return None;
    }
    Some(Version::new(release.iter().take(2)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::{Format, detect};

    const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/sca/pip-audit/");

    fn bytes(name: &str) -> Vec<u8> {
        std::fs::read(format!("{FIXTURES}{name}")).unwrap()
    }

    fn ranges(installed: &str, fixes: &[&str]) -> Vec<Vec<RangeEvent>> {
        let fixes: Vec<String> = fixes.iter().map(|s| s.to_string()).collect();
        fix_ranges(Some(installed), &fixes)
            .into_iter()
            .map(|r| {
                assert_eq!(r.kind, RangeKind::Ecosystem);
                r.events
            })
            .collect()
    }

    fn range(introduced: &str, fixed: Option<&str>) -> Vec<RangeEvent> {
        let mut events = vec![RangeEvent::Introduced(introduced.into())];
        events.extend(fixed.map(|f| RangeEvent::Fixed(f.into())));
        events
    }

    #[test]
    fn many_vulns_new_format() {
        let parsed = parse(&bytes("dd_many_vulns_new.json")).unwrap();
        assert_eq!(parsed.tools, vec!["pip-audit"]);
        // aiohttp 1, django 1, lxml 1, twisted 4.
        assert_eq!(parsed.findings.len(), 7);
        assert_eq!(
            parsed.warnings,
            vec![
                "pip-audit skipped azure-devops: Dependency not found on PyPI and could not be \
                 audited: azure-devops (0.17.0)"
            ]
        );
        let aiohttp = &parsed.findings[0];
        assert_eq!(aiohttp.kind, Kind::Sca);
        assert_eq!(aiohttp.rule, "PYSEC-2021-76");
        assert_eq!(aiohttp.title, "PYSEC-2021-76 in aiohttp");
        assert_eq!(aiohttp.severity, Severity::Medium);
        assert_eq!(aiohttp.score, None);
        assert!(
            aiohttp
                .message
                .starts_with("aiohttp is an asynchronous HTTP")
        );
        assert!(aiohttp.message.ends_with("\n\nFixed in: 3.7.4."));
        assert_eq!(aiohttp.path(), Some("requirements.txt"));
        assert_eq!(
            aiohttp.help_uri.as_deref(),
            Some("https://osv.dev/vulnerability/PYSEC-2021-76")
        );
        let package = aiohttp.package.as_ref().unwrap();
        assert_eq!(package.ecosystem, Ecosystem::PyPI);
        assert_eq!(package.name, "aiohttp");
        assert_eq!(package.version.as_deref(), Some("3.6.2"));
        assert_eq!(package.manifest.as_deref(), Some("requirements.txt"));
        assert_eq!(
            aiohttp.advisories[0].affected[0].events,
            range("0", Some("3.7.4"))
        );

        let django = &parsed.findings[1];
        assert_eq!(
            django.advisories[0]
                .affected
                .iter()
                .map(|r| r.events.clone())
                .collect::<Vec<_>>(),
            vec![
                range("0", Some("2.2.25")),
                range("3.1", Some("3.1.14")),
                range("3.2", Some("3.2.10"))
            ]
        );
        let lxml = &parsed.findings[2];
        assert_eq!(lxml.advisories[0].affected[0].events, range("0", None));
        assert!(!lxml.message.contains("Fixed in"));
    }

    #[test]
    fn fix_versions_become_one_range_per_branch() {
        assert_eq!(
            ranges("3.0.5", &["3.2.10", "2.2.25", "3.1.14"]),
            vec![
                range("0", Some("2.2.25")),
                range("3.1", Some("3.1.14")),
                range("3.2", Some("3.2.10")),
                range("3.0.5", Some("3.1.14")),
            ],
            "3.0 has no fix of its own: the installed version still counts as affected"
        );
        assert_eq!(
            ranges("19.10.0", &["20.3.0rc1"]),
            vec![range("0", Some("20.3.0rc1"))]
        );
        assert_eq!(
            ranges("1.0", &["1.2.3", "1.2.5"]),
            vec![range("0", Some("1.2.3"))],
            "a second fix in the same branch adds nothing"
        );
        assert_eq!(
            ranges("2.5", &["1.0", "2.0.0"]),
            vec![range("0", Some("1.0")), range("2.5", None)],
            "2.0.0 opens its branch: no range of its own; installed above every fix"
        );
        assert_eq!(ranges("1.0", &["not a version"]), vec![range("0", None)]);
    }

    #[test]
    fn legacy_list_format_and_aliases() {
        let parsed = parse(
            br#"[{"name":"jinja2","version":"2.10","vulns":[{"id":"PYSEC-2019-217",
                 "fix_versions":["2.10.1"],"aliases":["GHSA-462w-v97r-4m45","CVE-2019-10906"]}]},
                 {"name":"six","version":"1.16.0","vulns":[]}]"#,
        )
        .unwrap();
        assert_eq!(parsed.findings.len(), 1);
        let finding = &parsed.findings[0];
        assert_eq!(finding.rule, "CVE-2019-10906", "CVE preferred");
        assert_eq!(finding.title, "CVE-2019-10906 in jinja2");
        assert_eq!(
            finding.message,
            "CVE-2019-10906 in jinja2\n\nFixed in: 2.10.1."
        );
        let advisory = &finding.advisories[0];
        assert_eq!(advisory.id, "PYSEC-2019-217");
        assert_eq!(
            advisory.aliases,
            vec!["GHSA-462w-v97r-4m45", "CVE-2019-10906"]
        );
        assert_eq!(
            detect(br#"[{"name":"jinja2","version":"2.10","vulns":[]}]"#),
            Some(Format::PipAudit)
        );
    }

    #[test]
    fn fixtures_and_empty_reports_are_detected_as_pip_audit() {
        assert_eq!(
            detect(&bytes("dd_many_vulns_new.json")),
            Some(Format::PipAudit)
        );
        assert_eq!(
            detect(br#"{"dependencies":[],"fixes":[]}"#),
            Some(Format::PipAudit)
        );
        assert_eq!(
            detect(br#"{"dependencies":[{"name":"azure-devops","skip_reason":"x"}]}"#),
            Some(Format::PipAudit)
        );
        assert_eq!(
            detect(br#"{"dependencies":[{"ref":"a","dependsOn":[]}]}"#),
            None,
            "a CycloneDX-like dependency graph is not pip-audit"
        );
    }

    #[test]
    fn malformed_and_wrong_shape() {
        let bytes = bytes("dd_many_vulns_new.json");
        let error = crate::ingest::parse(
            "p.json",
            &bytes[..bytes.len() / 2],
            &crate::ingest::SecretHasher::default(),
        )
        .unwrap_err();
        assert_eq!(error.format, Some(Format::PipAudit));
        assert!(error.position.unwrap().starts_with("line "));
        let error = parse(
            br#"{"dependencies":[{"name":"a","version":"1","vulns":[{"id":"X","fix_versions":"1.0"}]}]}"#,
        )
        .unwrap_err();
        assert_eq!(
            error.position.as_deref(),
            Some("$.dependencies[0].vulns[0].fix_versions")
        );
        let error = parse(br#"[{"name":"a","vulns":{}}]"#).unwrap_err();
        assert_eq!(error.position.as_deref(), Some("$[0].vulns"));
    }
}
