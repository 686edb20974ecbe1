//! osv-scanner's JSON output (`osv-scanner --format json`) turned into dependency findings:
//! one per vulnerability group (one problem known by several ids: GHSA, PYSEC, CVE, …) of each
//! package of each scanned lockfile, carrying the full OSV records as advisories with the
//! affected ranges of that package, so remediation can compute the upgrade.

use serde::Deserialize;

use super::Parsed;
use super::components;
use super::json::{self, JsonError, Scalar, null_as_default};
use super::text;
use crate::model::{
    Advisory, AffectedRange, Component, ComponentScope, Ecosystem, Finding, Kind, Location,
    Package, RangeEvent, RangeKind, Severity,
};

/// The tool name osv-scanner's findings carry.
pub(crate) const TOOL: &str = "osv-scanner";

#[derive(Debug, Deserialize)]
struct Output {
    #[serde(default, deserialize_with = "null_as_default")]
    results: Vec<SourceResult>,
}

#[derive(Debug, Deserialize)]
struct SourceResult {
    #[serde(default)]
    source: Source,
    #[serde(default, deserialize_with = "null_as_default")]
    packages: Vec<PackageVulns>,
}

#[derive(Debug, Default, Deserialize)]
struct Source {
    #[serde(default)]
    path: String,
}

#[derive(Debug, Deserialize)]
struct PackageVulns {
    #[serde(default)]
    package: PackageInfo,
    #[serde(default, deserialize_with = "null_as_default")]
    vulnerabilities: Vec<Osv>,
    #[serde(default, deserialize_with = "null_as_default")]
    groups: Vec<Group>,
}

#[derive(Debug, Default, Deserialize)]
struct PackageInfo {
    #[serde(default)]
    name: String,
    #[serde(default)]
    version: Option<String>,
    #[serde(default)]
    ecosystem: String,
    /// Set instead of name and version for a git repository scanned by commit.
    #[serde(default)]
    commit: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Group {
    #[serde(default, deserialize_with = "null_as_default")]
    ids: Vec<String>,
    /// A CVSS score as a string (`"7.5"`), when osv-scanner could compute one.
    #[serde(default)]
    max_severity: Option<Scalar>,
}

/// One OSV record (the fields posture reads).
#[derive(Debug, Deserialize)]
struct Osv {
    #[serde(default)]
    id: String,
    #[serde(default, deserialize_with = "null_as_default")]
    aliases: Vec<String>,
    #[serde(default)]
    summary: Option<String>,
    #[serde(default)]
    details: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    affected: Vec<Affected>,
    #[serde(default, deserialize_with = "null_as_default")]
    severity: Vec<OsvSeverity>,
    #[serde(default, deserialize_with = "null_as_default")]
    references: Vec<Reference>,
    #[serde(default)]
    database_specific: Option<DatabaseSpecific>,
}

#[derive(Debug, Default, Deserialize)]
struct DatabaseSpecific {
    #[serde(default)]
    severity: Option<Scalar>,
    #[serde(default)]
    url: Option<Scalar>,
    #[serde(default, deserialize_with = "null_as_default")]
    cwe_ids: Vec<Scalar>,
}

#[derive(Debug, Deserialize)]
struct OsvSeverity {
    #[serde(default, rename = "type")]
    kind: String,
    #[serde(default)]
    score: String,
}

#[derive(Debug, Deserialize)]
struct Reference {
    #[serde(default, rename = "type")]
    kind: String,
    #[serde(default)]
    url: String,
}

#[derive(Debug, Deserialize)]
struct Affected {
    #[serde(default)]
    package: Option<AffectedPackage>,
    #[serde(default, deserialize_with = "null_as_default")]
    ranges: Vec<Range>,
    #[serde(default, deserialize_with = "null_as_default")]
    versions: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct AffectedPackage {
    #[serde(default)]
    name: String,
    #[serde(default)]
    ecosystem: String,
}

#[derive(Debug, Deserialize)]
struct Range {
    #[serde(default, rename = "type")]
    kind: String,
    #[serde(default)]
    repo: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    events: Vec<Event>,
}

#[derive(Debug, Deserialize)]
struct Event {
    #[serde(default)]
    introduced: Option<String>,
    #[serde(default)]
    fixed: Option<String>,
    #[serde(default)]
    last_affected: Option<String>,
    #[serde(default)]
    limit: Option<String>,
}

pub(crate) fn parse(bytes: &[u8]) -> Result<Parsed, JsonError> {
    let output: Output = json::from_slice(bytes)?;
    let mut parsed = Parsed {
        tools: vec![TOOL.to_string()],
        ..Parsed::default()
    };
    let mut listed = Vec::new();
    for source in &output.results {
        for package in &source.packages {
            parsed
                .findings
                .extend(package_findings(&source.source.path, package));
            listed.extend(Component::new(
                self::package(&source.source.path, package),
                ComponentScope::Runtime,
            ));
        }
    }
    parsed.components = components::dedupe(listed);
    Ok(parsed)
}

/// One problem as osv-scanner grouped it: every id it is known by, and the OSV records
/// among them.
struct GroupView<'a> {
    ids: Vec<&'a str>,
    records: Vec<&'a Osv>,
    max_severity: Option<f64>,
}

/// The package's groups; a record no group names is a group of its own.
fn groups(vulns: &PackageVulns) -> Vec<GroupView<'_>> {
    let record = |id: &str| vulns.vulnerabilities.iter().find(|v| v.id == id);
    let mut groups: Vec<GroupView<'_>> = vulns
        .groups
        .iter()
        .map(|group| GroupView {
            ids: group.ids.iter().map(String::as_str).collect(),
            records: group.ids.iter().filter_map(|id| record(id)).collect(),
            max_severity: group.max_severity.as_ref().and_then(Scalar::as_f64),
        })
        .collect();
    for osv in &vulns.vulnerabilities {
        if !groups.iter().any(|g| g.ids.contains(&osv.id.as_str())) {
            groups.push(GroupView {
                ids: vec![osv.id.as_str()],
                records: vec![osv],
                max_severity: None,
            });
        }
    }
    groups
}

/// One finding per group of the package.
fn package_findings(manifest: &str, vulns: &PackageVulns) -> Vec<Finding> {
    let package = package(manifest, vulns);
    groups(vulns)
        .iter()
        .filter_map(|group| group_finding(&package, manifest, group))
        .collect()
}

fn package(manifest: &str, vulns: &PackageVulns) -> Package {
    let info = &vulns.package;
    let git_repo = || {
        vulns
            .vulnerabilities
            .iter()
            .flat_map(|v| &v.affected)
            .flat_map(|a| &a.ranges)
            .find_map(|r| r.repo.clone())
    };
    let (ecosystem, name, version) = match (&info.commit, info.name.is_empty()) {
        (Some(commit), true) => (
            Ecosystem::Other("GIT".to_string()),
            git_repo().unwrap_or_else(|| manifest.to_string()),
            Some(commit.clone()),
        ),
        _ => (
            Ecosystem::parse(&info.ecosystem),
            info.name.clone(),
            info.version.clone().filter(|v| !v.is_empty()),
        ),
    };
    Package {
        ecosystem,
        name,
        version,
        manifest: (!manifest.is_empty()).then(|| manifest.to_string()),
    }
}

/// The finding for one group; none for a group without ids.
fn group_finding(package: &Package, manifest: &str, group: &GroupView<'_>) -> Option<Finding> {
    let rule = group
        .ids
        .iter()
        .find(|id| id.starts_with("GHSA-"))
        .or_else(|| group.ids.iter().find(|id| !id.is_empty()))?
        .to_string();
    let records = &group.records;
    let preferred = records
        .iter()
        .find(|r| r.id == rule)
        .or_else(|| records.first());

    let mut finding = Finding::new(Kind::Sca, TOOL, rule.clone());
    finding.title = preferred
        .and_then(|r| r.summary.as_deref())
        .and_then(text::first_line)
        .map(|summary| summary.to_string())
        .unwrap_or_else(|| format!("{rule} in {}", package.name));
    finding.message = preferred
        .and_then(|r| r.details.clone().or_else(|| r.summary.clone()))
        .filter(|m| !m.trim().is_empty())
        .unwrap_or_else(|| finding.title.clone());
    finding.advisories = group
        .ids
        .iter()
        .map(|id| match records.iter().find(|r| r.id == *id) {
            Some(record) => advisory(record, package),
            None => Advisory {
                id: id.to_string(),
                ..Advisory::default()
            },
        })
        .collect();
    (finding.severity, finding.score) = severity(records, group.max_severity);
    for record in records {
        for entry in &record.severity {
            let vector = entry.score.trim();
            if entry.kind.to_ascii_uppercase().starts_with("CVSS")
                && !vector.is_empty()
                && !finding.cvss_vectors.iter().any(|v| v == vector)
            {
                finding.cvss_vectors.push(vector.to_string());
            }
        }
    }
    finding.cwes = text::cwes(
        records
            .iter()
            .filter_map(|r| r.database_specific.as_ref())
            .flat_map(|d| &d.cwe_ids)
            .filter_map(Scalar::as_str),
    );
    finding.help_uri = finding
        .advisories
        .iter()
        .find(|a| a.id == rule)
        .and_then(|a| a.url.clone());
    if !manifest.is_empty() {
        finding.location = Some(Location::new(manifest));
    }
    finding.package = Some(Box::new(package.clone()));
    Some(finding)
}

/// The group's `max_severity` score; else the highest `database_specific.severity` name of
/// its records; else medium.
fn severity(records: &[&Osv], max_severity: Option<f64>) -> (Severity, Option<f64>) {
    if let Some(score) = max_severity.map(|s| s.clamp(0.0, 10.0)) {
        return (Severity::from_cvss(score), Some(score));
    }
    let named = records
        .iter()
        .filter_map(|r| r.database_specific.as_ref()?.severity.as_ref()?.as_str())
        .filter_map(|name| name.parse::<Severity>().ok())
        .max();
    (named.unwrap_or(Severity::Medium), None)
}

fn advisory(record: &Osv, package: &Package) -> Advisory {
    let url = record
        .references
        .iter()
        .find(|r| r.kind.eq_ignore_ascii_case("ADVISORY"))
        .or_else(|| {
            record
                .references
                .iter()
                .find(|r| r.kind.eq_ignore_ascii_case("WEB"))
        })
        .map(|r| r.url.clone())
        .or_else(|| {
            let url = record.database_specific.as_ref()?.url.as_ref()?.as_str()?;
            Some(url.to_string())
        });
    let vector = record
        .severity
        .iter()
        .find(|s| s.kind.to_ascii_uppercase().starts_with("CVSS"))
        .map(|s| s.score.clone());
    let affected: Vec<&Affected> = record
        .affected
        .iter()
        .filter(|a| affects(a, package))
        .collect();
    Advisory {
        id: record.id.clone(),
        aliases: record.aliases.clone(),
        summary: record.summary.clone(),
        url,
        cvss_score: None,
        cvss_vector: vector,
        affected: affected
            .iter()
            .flat_map(|a| &a.ranges)
            .filter_map(affected_range)
            .collect(),
        affected_versions: affected
            .iter()
            .flat_map(|a| a.versions.iter().cloned())
            .collect(),
    }
}

/// The affected entry is about the finding's package (an entry without a package, as for
/// git repositories, is about whatever was scanned).
fn affects(affected: &Affected, package: &Package) -> bool {
    match &affected.package {
        None => true,
        Some(p) => {
            let ecosystem = Ecosystem::parse(&p.ecosystem);
            ecosystem.normalize_name(&p.name) == package.ecosystem.normalize_name(&package.name)
        }
    }
}

fn affected_range(range: &Range) -> Option<AffectedRange> {
    let kind = match range.kind.to_ascii_uppercase().as_str() {
        "SEMVER" => RangeKind::Semver,
        "ECOSYSTEM" => RangeKind::Ecosystem,
        "GIT" => RangeKind::Git,
        _ => return None,
    };
    let events = range
        .events
        .iter()
        .flat_map(|e| {
            [
                e.introduced.clone().map(RangeEvent::Introduced),
                e.fixed.clone().map(RangeEvent::Fixed),
                e.last_affected.clone().map(RangeEvent::LastAffected),
                e.limit.clone().map(RangeEvent::Limit),
            ]
        })
        .flatten()
        .collect();
    Some(AffectedRange { kind, events })
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/sca/osv-scanner/");

    fn fixture(name: &str) -> Parsed {
        parse(&std::fs::read(format!("{FIXTURES}{name}")).unwrap()).unwrap()
    }

    #[test]
    fn ci_results_some() {
        let parsed = fixture("ci_results-some.json");
        assert_eq!(parsed.tools, vec!["osv-scanner"]);
        assert_eq!(parsed.findings.len(), 1);
        let finding = &parsed.findings[0];
        assert_eq!(finding.kind, Kind::Sca);
        assert_eq!(
            finding.rule, "GO-2021-0053",
            "no GHSA among the group's ids"
        );
        assert_eq!(
            finding.title,
            "Panic due to improper input validation in github.com/gogo/protobuf"
        );
        assert_eq!(finding.severity, Severity::Medium);
        assert_eq!(finding.path(), Some("/path/to/different-dir/go.mod"));
        let package = finding.package.as_ref().unwrap();
        assert_eq!(package.ecosystem, Ecosystem::Go);
        assert_eq!(package.name, "github.com/gogo/protobuf");
        assert_eq!(package.version.as_deref(), Some("1.3.1"));
        assert_eq!(
            package.manifest.as_deref(),
            Some("/path/to/different-dir/go.mod")
        );
        let advisory = &finding.advisories[0];
        assert_eq!(
            advisory.aliases,
            vec!["CVE-2021-3121", "GHSA-c3h9-896r-86jm"]
        );
        assert_eq!(
            advisory.url.as_deref(),
            Some("https://pkg.go.dev/vuln/GO-2021-0053"),
            "no ADVISORY/WEB reference: database_specific.url"
        );
        assert_eq!(
            advisory.affected,
            vec![AffectedRange {
                kind: RangeKind::Semver,
                events: vec![
                    RangeEvent::Introduced("0".into()),
                    RangeEvent::Fixed("1.3.2".into())
                ],
            }]
        );
    }

    #[test]
    fn dd_many_findings_one_per_group() {
        let parsed = fixture("dd_many_findings.json");
        assert_eq!(parsed.findings.len(), 37, "37 groups over 66 records");
        let urllib3 = parsed
            .findings
            .iter()
            .find(|f| f.package.as_ref().unwrap().name == "urllib3")
            .unwrap();
        assert_eq!(urllib3.rule, "GHSA-g4mx-q9vg-27p4");
        let ids: Vec<&str> = urllib3.advisories.iter().map(|a| a.id.as_str()).collect();
        assert_eq!(ids, vec!["GHSA-g4mx-q9vg-27p4", "PYSEC-2023-212"]);
        assert_eq!(urllib3.severity, Severity::Medium, "MODERATE");

        let guzzle = &parsed.findings[0];
        assert_eq!(guzzle.rule, "GHSA-25mq-v84q-4j7r");
        assert_eq!(guzzle.severity, Severity::High);
        assert_eq!(
            guzzle.package.as_ref().unwrap().ecosystem,
            Ecosystem::Packagist
        );
        let advisory = &guzzle.advisories[0];
        assert_eq!(
            advisory.affected.len(),
            2,
            "both affected entries of the package"
        );
        assert_eq!(
            advisory.affected[1].events,
            vec![
                RangeEvent::Introduced("7.0.0".into()),
                RangeEvent::Fixed("7.4.5".into())
            ]
        );
        assert!(advisory.affected_versions.contains(&"6.3.3".to_string()));
        assert_eq!(
            advisory.cvss_vector.as_deref(),
            Some("CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:C/C:H/I:N/A:N")
        );

        let django_critical = parsed
            .findings
            .iter()
            .find(|f| f.rule == "GHSA-2gwj-7jmv-h26r")
            .unwrap();
        assert_eq!(django_critical.severity, Severity::Critical);
    }

    #[test]
    fn git_sources_name_the_repository_and_commit() {
        let parsed = fixture("dd_many_findings.json");
        let git = parsed
            .findings
            .iter()
            .find(|f| f.rule == "CVE-2023-50094")
            .unwrap();
        let package = git.package.as_ref().unwrap();
        assert_eq!(package.name, "https://github.com/yogeshojha/rengine");
        assert_eq!(
            package.version.as_deref(),
            Some("f5f3c22f3ed5a6804a2a8d9ee9fa43044cfa24a6")
        );
        let range = &git.advisories[0].affected[0];
        assert_eq!(range.kind, RangeKind::Git);
        assert!(matches!(range.events[1], RangeEvent::LastAffected(_)));
    }

    #[test]
    fn max_severity_and_ungrouped_records() {
        let parsed = parse(
            br#"{"results":[{"source":{"path":"requirements.txt","type":"lockfile"},"packages":[
              {"package":{"name":"Jinja2","version":"2.10","ecosystem":"PyPI"},
               "vulnerabilities":[
                 {"id":"PYSEC-2019-217","aliases":["CVE-2019-10906","GHSA-462w-v97r-4m45"],
                  "affected":[{"package":{"name":"jinja2","ecosystem":"PyPI"},
                     "ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"2.10.1"}]}]},
                     {"package":{"name":"other","ecosystem":"PyPI"},
                     "ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"9"}]}]}],
                  "database_specific":{"cwe_ids":["CWE-693"]}},
                 {"id":"OSV-2","summary":"ungrouped"}],
               "groups":[{"ids":["PYSEC-2019-217","GHSA-462w-v97r-4m45"],"max_severity":"8.6"}]}]}]}"#,
        )
        .unwrap();
        assert_eq!(parsed.findings.len(), 2);
        let grouped = &parsed.findings[0];
        assert_eq!(grouped.rule, "GHSA-462w-v97r-4m45", "GHSA preferred");
        assert_eq!(grouped.score, Some(8.6));
        assert_eq!(grouped.severity, Severity::High);
        assert_eq!(grouped.cwes, vec![693]);
        assert_eq!(grouped.advisories.len(), 2);
        assert_eq!(
            grouped.advisories[0].affected.len(),
            1,
            "only jinja2's ranges"
        );
        assert_eq!(grouped.advisories[1].id, "GHSA-462w-v97r-4m45");
        let ungrouped = &parsed.findings[1];
        assert_eq!(ungrouped.rule, "OSV-2");
        assert_eq!(ungrouped.title, "ungrouped");
    }

    #[test]
    fn components_are_the_scanned_packages() {
        let parsed = fixture("ci_results-some.json");
        assert_eq!(parsed.components.len(), 1);
        let protobuf = &parsed.components[0];
        assert_eq!(protobuf.purl, "pkg:golang/github.com/gogo/protobuf@1.3.1");
        assert_eq!(
            protobuf.package.manifest.as_deref(),
            Some("/path/to/different-dir/go.mod")
        );
        let many = fixture("dd_many_findings.json");
        assert_eq!(
            many.components.len(),
            10,
            "eleven packages, one a git commit without a package URL"
        );
        let guzzle = many
            .components
            .iter()
            .find(|c| c.package.name == "guzzlehttp/guzzle")
            .unwrap();
        assert_eq!(guzzle.purl, "pkg:composer/guzzlehttp/guzzle@6.3.3");
        assert_eq!(
            guzzle.package.manifest.as_deref(),
            Some("/tmpcardmarket-api/composer.lock")
        );
    }
}
