//! GitLab security reports (security-report-schemas, `gl-*-report.json`, v2 to v15): SAST,
//! secret detection, dependency scanning, container scanning and DAST, from GitLab's analyzers
//! or any tool writing the format (Trivy's GitLab template, …).
//!
//! | scan type (`scan.type`, else the vulnerability's `category`) | finding |
//! |---|---|
//! | `sast` | `sast` at `location.file` and lines; `secret` when its primary identifier is a secret scanner's (`gitleaks_rule_id`, `trufflehog_rule_id`: old SAST reports carried secrets) |
//! | `secret_detection` | `secret`; `raw_source_code_extract` is never kept, only its keyed hash as `fingerprints.secretHash` ([`super::secret_hash`]) |
//! | `dependency_scanning` | `sca`: `location.dependency` in `location.file` (manifest); ecosystem from `dependency_files[].package_manager`, else the gemnasium advisory URL, else the file name |
//! | `container_scanning`, `cluster_image_scanning` | `container`: ecosystem from `location.operating_system` (`alpine 3.10.2` → Alpine) |
//! | `dast`, `api_fuzzing` | `dast` at the URL path (`location.path`) |
//! | none given | from the location's shape, in the order above |
//!
//! Severity (`severity`):
//!
//! | GitLab | posture |
//! |---|---|
//! | `Critical` / `High` / `Medium` / `Low` / `Info` | critical / high / medium / low / info |
//! | `Unknown` or missing | medium |
//!
//! The rule is the primary (first) identifier's value; for dependencies the CVE identifier
//! (else GHSA, else the first). Identifiers of type cve/ghsa/osv (and any other whose value is
//! an advisory id) are the advisory and its aliases; `cwe` identifiers the CWEs. The fixed
//! version is read from the solution (`Upgrade to version X or above.`, `Upgrade pkg to X`).
//! A vulnerability's `solution`, else the summary of the `remediations[]` entry that fixes it,
//! ends its message. Fingerprints: the vulnerability `id` (`id`) and the `tracking`
//! signatures (keyed by algorithm). `flags` of type `flagged-as-likely-false-positive` mark
//! it suppressed.

use std::collections::HashMap;

use serde::Deserialize;

use super::Parsed;
use super::json::{self, JsonError, Scalar, null_as_default};
use super::secret_hash::{SECRET_HASH, secret_digest};
use super::text;
use super::vulns;
use crate::model::{Advisory, Ecosystem, Finding, Kind, Location, Package, Severity};

/// The tool name of a report that names no scanner.
pub(crate) const TOOL: &str = "GitLab";

#[derive(Debug, Deserialize)]
struct Report {
    #[serde(default)]
    scan: Option<Scan>,
    #[serde(default, deserialize_with = "null_as_default")]
    vulnerabilities: Vec<Vulnerability>,
    #[serde(default, deserialize_with = "null_as_default")]
    remediations: Vec<Remediation>,
    #[serde(default, deserialize_with = "null_as_default")]
    dependency_files: Vec<DependencyFile>,
}

#[derive(Debug, Deserialize)]
struct Scan {
    #[serde(default, rename = "type")]
    kind: String,
    #[serde(default)]
    scanner: Option<Tool>,
    #[serde(default)]
    analyzer: Option<Tool>,
}

#[derive(Debug, Default, Deserialize)]
struct GlCvss {
    #[serde(default)]
    vector: String,
}

#[derive(Debug, Default, Deserialize)]
struct Tool {
    #[serde(default)]
    name: String,
}

#[derive(Debug, Deserialize)]
struct Vulnerability {
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    category: Option<String>,
    /// The comparison key in schemas before v15 (what their remediations reference).
    #[serde(default)]
    cve: Option<String>,
    #[serde(default)]
    name: Option<String>,
    /// The title in schemas before v15.
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    severity: Option<String>,
    /// Deprecated in schema v15 but still written by many analyzers.
    #[serde(default)]
    confidence: Option<String>,
    /// Dependency scanning, schema v15: `[{vendor, vector}]`.
    #[serde(default, deserialize_with = "null_as_default")]
    cvss_vectors: Vec<GlCvss>,
    #[serde(default)]
    solution: Option<String>,
    #[serde(default)]
    scanner: Option<Tool>,
    #[serde(default, deserialize_with = "null_as_default")]
    identifiers: Vec<Identifier>,
    #[serde(default, deserialize_with = "null_as_default")]
    links: Vec<Link>,
    #[serde(default)]
    location: GlLocation,
    #[serde(default)]
    tracking: Option<Tracking>,
    #[serde(default, deserialize_with = "null_as_default")]
    flags: Vec<Flag>,
    /// The secret itself in secret-detection reports: hashed, never copied.
    #[serde(default)]
    raw_source_code_extract: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Identifier {
    #[serde(default, rename = "type")]
    kind: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    value: String,
    #[serde(default)]
    url: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Link {
    #[serde(default)]
    url: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct GlLocation {
    #[serde(default)]
    file: Option<String>,
    #[serde(default)]
    start_line: Option<Scalar>,
    #[serde(default)]
    end_line: Option<Scalar>,
    #[serde(default)]
    dependency: Option<Dependency>,
    #[serde(default)]
    image: Option<String>,
    #[serde(default)]
    operating_system: Option<String>,
    #[serde(default)]
    hostname: Option<String>,
    #[serde(default)]
    path: Option<String>,
    #[serde(default)]
    method: Option<String>,
    #[serde(default)]
    param: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct Dependency {
    #[serde(default)]
    package: Option<DependencyPackage>,
    #[serde(default)]
    version: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct DependencyPackage {
    #[serde(default)]
    name: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Tracking {
    #[serde(default, deserialize_with = "null_as_default")]
    items: Vec<TrackingItem>,
}

#[derive(Debug, Deserialize)]
struct TrackingItem {
    #[serde(default, deserialize_with = "null_as_default")]
    signatures: Vec<Signature>,
}

#[derive(Debug, Deserialize)]
struct Signature {
    #[serde(default)]
    algorithm: String,
    #[serde(default)]
    value: String,
}

#[derive(Debug, Deserialize)]
struct Flag {
    #[serde(default, rename = "type")]
    kind: String,
}

#[derive(Debug, Deserialize)]
struct Remediation {
    #[serde(default, deserialize_with = "null_as_default")]
    fixes: Vec<FixRef>,
    #[serde(default)]
    summary: Option<String>,
}

/// A vulnerability a remediation fixes: by `id`, or by `cve` in schemas before v15.
#[derive(Debug, Deserialize)]
struct FixRef {
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    cve: Option<String>,
}

#[derive(Debug, Deserialize)]
struct DependencyFile {
    #[serde(default)]
    path: String,
    #[serde(default)]
    package_manager: String,
}

pub(crate) fn parse(bytes: &[u8]) -> Result<Parsed, JsonError> {
    let report: Report = json::from_slice(bytes)?;
    let scan_type = report.scan.as_ref().map(|s| s.kind.as_str()).unwrap_or("");
    let scan_tool = report.scan.as_ref().and_then(|s| {
        [&s.scanner, &s.analyzer]
            .into_iter()
            .flatten()
            .map(|t| t.name.trim())
            .find(|n| !n.is_empty())
    });
    let remedies: HashMap<&str, &str> = report
        .remediations
        .iter()
        .filter_map(|r| Some((r, r.summary.as_deref()?)))
        .flat_map(|(r, summary)| {
            r.fixes
                .iter()
                .flat_map(|f| [f.id.as_deref(), f.cve.as_deref()])
                .flatten()
                .map(move |key| (key, summary))
        })
        .collect();
    let managers: HashMap<&str, &str> = report
        .dependency_files
        .iter()
        .map(|f| (f.path.as_str(), f.package_manager.as_str()))
        .collect();
    let context = Context {
        scan_type,
        scan_tool,
        remedies,
        managers,
    };
    let findings: Vec<Finding> = report
        .vulnerabilities
        .iter()
        .map(|v| finding(&context, v))
        .collect();
    let mut tools: Vec<String> = Vec::new();
    for tool in findings
        .iter()
        .flat_map(|f| &f.tools)
        .map(String::as_str)
        .chain(scan_tool)
    {
        if !tools.iter().any(|t| t == tool) {
            tools.push(tool.to_string());
        }
    }
    if tools.is_empty() {
        tools.push(TOOL.to_string());
    }
    Ok(Parsed {
        tools,
        findings,
        components: Vec::new(),
        warnings: Vec::new(),
    })
}

/// What every vulnerability of the report shares.
struct Context<'a> {
    scan_type: &'a str,
    scan_tool: Option<&'a str>,
    /// Vulnerability id (or old `cve` key) → the summary of the remediation that fixes it.
    remedies: HashMap<&'a str, &'a str>,
    /// Dependency file → its package manager.
    managers: HashMap<&'a str, &'a str>,
}

/// Identifier types of secret scanners (the primary identifier of a secret finding).
const SECRET_IDENTIFIERS: [&str; 2] = ["gitleaks_rule_id", "trufflehog_rule_id"];

fn kind(scan_type: &str, vulnerability: &Vulnerability) -> Kind {
    let location = &vulnerability.location;
    let secret_rule = vulnerability
        .identifiers
        .first()
        .is_some_and(|i| SECRET_IDENTIFIERS.contains(&i.kind.to_ascii_lowercase().as_str()));
    let category = match scan_type {
        "" => vulnerability.category.as_deref().unwrap_or(""),
        given => given,
    };
    match category.to_ascii_lowercase().as_str() {
        "sast" if secret_rule => Kind::Secret,
        "sast" | "coverage_fuzzing" => Kind::Sast,
        "secret_detection" => Kind::Secret,
        "dependency_scanning" => Kind::Sca,
        "container_scanning" | "cluster_image_scanning" => Kind::Container,
        "dast" | "api_fuzzing" => Kind::Dast,
        _ if location.image.is_some() || location.operating_system.is_some() => Kind::Container,
        _ if package_name(location).is_some() => Kind::Sca,
        _ if location.hostname.is_some() => Kind::Dast,
        _ if secret_rule || vulnerability.raw_source_code_extract.is_some() => Kind::Secret,
        _ => Kind::Sast,
    }
}

fn package_name(location: &GlLocation) -> Option<&str> {
    location
        .dependency
        .as_ref()?
        .package
        .as_ref()?
        .name
        .as_deref()
        .filter(|n| !n.trim().is_empty())
}

/// The tool of one vulnerability: the scan's scanner, else the vulnerability's, else the
/// tool its primary identifier names (`bandit_test_id` → bandit).
fn tool(context: &Context<'_>, vulnerability: &Vulnerability) -> String {
    context
        .scan_tool
        .or_else(|| {
            vulnerability
                .scanner
                .as_ref()
                .map(|s| s.name.trim())
                .filter(|n| !n.is_empty())
        })
        .map(str::to_string)
        .or_else(|| {
            let primary = vulnerability.identifiers.first()?.kind.to_ascii_lowercase();
            let (tool, _) = primary.split_once('_')?;
            (!ADVISORY_TYPES.contains(&tool)).then(|| tool.to_string())
        })
        .unwrap_or_else(|| TOOL.to_string())
}

/// Identifier types that name advisories.
const ADVISORY_TYPES: [&str; 3] = ["cve", "ghsa", "osv"];

/// The identifiers that name advisories, in order: CVE/GHSA/OSV types, and any identifier
/// whose value is shaped like an advisory id.
fn advisory_ids(vulnerability: &Vulnerability) -> Vec<&str> {
    let mut ids: Vec<&str> = Vec::new();
    for identifier in &vulnerability.identifiers {
        let value = identifier.value.trim();
        let is_advisory = ADVISORY_TYPES.contains(&identifier.kind.to_ascii_lowercase().as_str())
            || text::advisory_ids(value).first().map(String::as_str) == Some(value);
        if is_advisory && !value.is_empty() && !ids.contains(&value) {
            ids.push(value);
        }
    }
    ids
}

fn finding(context: &Context<'_>, vulnerability: &Vulnerability) -> Finding {
    let kind = kind(context.scan_type, vulnerability);
    let location = &vulnerability.location;
    let advisory_ids = advisory_ids(vulnerability);
    let primary = vulnerability.identifiers.first();
    let primary_value = primary.map(|i| i.value.trim()).filter(|v| !v.is_empty());
    let rule = if kind.is_dependency() {
        vulns::preferred_id(&advisory_ids).or(primary_value)
    } else {
        primary_value
    }
    .or(vulnerability.id.as_deref())
    .unwrap_or("gitlab-vulnerability")
    .to_string();

    let mut finding = Finding::new(kind, tool(context, vulnerability), rule.clone());
    finding.severity = severity(vulnerability.severity.as_deref());
    finding.confidence = vulnerability
        .confidence
        .as_deref()
        .and_then(crate::model::Confidence::parse);
    finding.cvss_vectors = vulnerability
        .cvss_vectors
        .iter()
        .map(|c| c.vector.trim().to_string())
        .filter(|v| !v.is_empty())
        .collect();
    if let Some(title) = [&vulnerability.name, &vulnerability.message]
        .into_iter()
        .flatten()
        .find_map(|t| text::first_line(t))
        .or_else(|| primary.map(|i| i.name.as_str()).filter(|n| !n.is_empty()))
    {
        finding.title = title.to_string();
    }
    let solution = vulnerability
        .solution
        .as_deref()
        .or_else(|| {
            [&vulnerability.id, &vulnerability.cve]
                .into_iter()
                .flatten()
                .find_map(|key| context.remedies.get(key.as_str()).copied())
        })
        .filter(|s| !s.trim().is_empty());
    finding.message = message(&finding.title, vulnerability, solution);
    finding.cwes = text::cwes(
        vulnerability
            .identifiers
            .iter()
            .filter(|i| i.kind.eq_ignore_ascii_case("cwe"))
            .flat_map(|i| [i.name.clone(), format!("CWE-{}", i.value.trim())])
            .collect::<Vec<_>>()
            .iter()
            .map(String::as_str),
    );
    let rule_url = vulnerability
        .identifiers
        .iter()
        .find(|i| i.value.trim() == rule)
        .and_then(|i| i.url.clone());
    finding.help_uri = rule_url
        .clone()
        .or_else(|| vulnerability.links.iter().find_map(|l| l.url.clone()));
    finding.fingerprints = fingerprints(vulnerability);
    finding.suppressed = vulnerability.flags.iter().any(|f| {
        f.kind
            .eq_ignore_ascii_case("flagged-as-likely-false-positive")
    });

    if kind.is_dependency() {
        let package = package(context, kind, vulnerability);
        if let Some(package) = &package {
            finding.advisories = advisory(&advisory_ids, package, solution, rule_url);
        }
        finding.location = match kind {
            Kind::Sca => file_location(location),
            _ => None,
        };
        finding.package = package.map(Box::new);
    } else if kind == Kind::Dast {
        finding.location = location
            .path
            .as_deref()
            .filter(|p| !p.is_empty())
            .map(Location::new);
    } else {
        finding.location = file_location(location);
    }
    finding
}

/// GitLab's names; `Unknown` (or none) is medium, as for a tool that gives no level.
fn severity(name: Option<&str>) -> Severity {
    vulns::severity(name.unwrap_or(""), None)
}

/// The description (else the title), where a DAST finding was seen, and the solution.
fn message(title: &str, vulnerability: &Vulnerability, solution: Option<&str>) -> String {
    let mut message = vulnerability
        .description
        .clone()
        .filter(|d| !d.trim().is_empty())
        .unwrap_or_else(|| title.to_string());
    let location = &vulnerability.location;
    if let Some(host) = location.hostname.as_deref() {
        message.push_str("\n\nRequest: ");
        if let Some(method) = location.method.as_deref() {
            message.push_str(method);
            message.push(' ');
        }
        message.push_str(host);
        message.push_str(location.path.as_deref().unwrap_or(""));
        if let Some(param) = location.param.as_deref().filter(|p| !p.is_empty()) {
            message.push_str(&format!(" (parameter `{param}`)"));
        }
    }
    if let Some(image) = location.image.as_deref() {
        message.push_str(&format!("\n\nImage: {image}"));
    }
    if let Some(solution) = solution {
        message.push_str("\n\nSolution: ");
        message.push_str(solution.trim());
    }
    message
}

fn fingerprints(vulnerability: &Vulnerability) -> crate::model::Fingerprints {
    let mut fingerprints = crate::model::Fingerprints::new();
    if let Some(id) = vulnerability.id.as_deref().filter(|i| !i.is_empty()) {
        fingerprints.insert("id".to_string(), id.to_string());
    }
    let signatures = vulnerability
        .tracking
        .iter()
        .flat_map(|t| &t.items)
        .flat_map(|i| &i.signatures);
    for signature in signatures {
        if !signature.algorithm.is_empty() && !signature.value.is_empty() {
            fingerprints
                .entry(signature.algorithm.clone())
                .or_insert_with(|| signature.value.clone());
        }
    }
    if let Some(digest) = vulnerability
        .raw_source_code_extract
        .as_deref()
        .and_then(secret_digest)
    {
        fingerprints.insert(SECRET_HASH.to_string(), digest);
    }
    fingerprints
}

fn file_location(location: &GlLocation) -> Option<Location> {
    let file = location.file.as_deref().filter(|f| !f.is_empty())?;
    let start = vulns::line(location.start_line.as_ref().and_then(Scalar::as_f64));
    let end = vulns::line(location.end_line.as_ref().and_then(Scalar::as_f64));
    Some(match start {
        Some(start) => Location::new(file).with_lines(start, end.unwrap_or(start)),
        None => Location::new(file),
    })
}

fn package(context: &Context<'_>, kind: Kind, vulnerability: &Vulnerability) -> Option<Package> {
    let location = &vulnerability.location;
    let name = package_name(location)?;
    let version = location
        .dependency
        .as_ref()
        .and_then(|d| d.version.clone())
        .filter(|v| !v.is_empty());
    let file = location.file.as_deref().filter(|f| !f.is_empty());
    let ecosystem = if kind == Kind::Container {
        vulns::os_ecosystem(location.operating_system.as_deref().unwrap_or(""))
    } else {
        dependency_ecosystem(context, file, vulnerability)
    };
    Some(Package {
        ecosystem,
        name: name.to_string(),
        version,
        manifest: if kind == Kind::Sca {
            file.map(str::to_string)
        } else {
            None
        },
    })
}

/// The dependency file's package manager, else the gemnasium advisory URL's ecosystem
/// folder, else the file's name.
fn dependency_ecosystem(
    context: &Context<'_>,
    file: Option<&str>,
    vulnerability: &Vulnerability,
) -> Ecosystem {
    let manager = file
        .and_then(|f| context.managers.get(f))
        .filter(|m| !m.is_empty())
        .map(|m| match m.to_ascii_lowercase().as_str() {
            "setuptools" => "pip".to_string(),
            "sbt" => "maven".to_string(),
            other => other.to_string(),
        });
    let from_url = || {
        vulnerability
            .identifiers
            .iter()
            .filter_map(|i| i.url.as_deref())
            .find_map(|url| {
                let (_, rest) = url.split_once("gemnasium-db/-/blob/")?;
                let mut segments = rest.split('/');
                segments.next()?;
                segments.next().map(str::to_string)
            })
    };
    let from_file = || {
        let name = file?.rsplit('/').next()?.to_ascii_lowercase();
        let ecosystem = match name.as_str() {
            "go.sum" | "go.mod" => "go",
            "package-lock.json"
            | "npm-shrinkwrap.json"
            | "yarn.lock"
            | "pnpm-lock.yaml"
            | "package.json" => "npm",
            "pipfile.lock" | "poetry.lock" | "setup.py" | "pipdeptree.json" => "pip",
            "gemfile.lock" => "bundler",
            "composer.lock" => "composer",
            "pom.xml" | "build.gradle" | "build.gradle.kts" | "build.sbt" | "gradle.lockfile" => {
                "maven"
            }
            "packages.lock.json" => "nuget",
            "cargo.lock" => "cargo",
            "pubspec.lock" => "pub",
            "mix.lock" => "hex",
            n if n.starts_with("requirements") && n.ends_with(".txt") => "pip",
            _ => return None,
        };
        Some(ecosystem.to_string())
    };
    manager
        .or_else(from_url)
        .or_else(from_file)
        .map_or(Ecosystem::Other(String::new()), |name| {
            Ecosystem::parse(&name)
        })
}

/// The advisory of a dependency finding: its preferred id, the other advisory ids as
/// aliases, and the fixed version the solution names; the primary identifier when no
/// identifier is an advisory id (gemnasium's own).
fn advisory(
    ids: &[&str],
    package: &Package,
    solution: Option<&str>,
    url: Option<String>,
) -> Vec<Advisory> {
    let Some(id) = vulns::preferred_id(ids) else {
        return Vec::new();
    };
    let fixed: Vec<&str> = solution.and_then(fixed_version).into_iter().collect();
    vec![Advisory {
        id: id.to_string(),
        aliases: ids
            .iter()
            .filter(|i| **i != id)
            .map(|i| i.to_string())
            .collect(),
        url,
        affected: vulns::fixed_range(&package.ecosystem, package.version.as_deref(), &fixed),
        ..Advisory::default()
    }]
}

/// The version an `Upgrade … to [version] X[ or above].` solution names.
fn fixed_version(solution: &str) -> Option<&str> {
    let first = text::first_line(solution)?;
    if !first.to_ascii_lowercase().starts_with("upgrade") {
        return None;
    }
    let (_, rest) = first.rsplit_once(" to ")?;
    let rest = rest.trim_start();
    let rest = rest
        .strip_prefix("versions ")
        .or_else(|| rest.strip_prefix("version "))
        .unwrap_or(rest);
    let version = rest
        .split_whitespace()
        .next()?
        .trim_end_matches(['.', ',', ';']);
    version
        .contains(|c: char| c.is_ascii_digit())
        .then_some(version)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{AffectedRange, RangeEvent, RangeKind};

    const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/sca/gitlab/");

    fn fixture(name: &str) -> Parsed {
        parse(&std::fs::read(format!("{FIXTURES}{name}")).unwrap()).unwrap()
    }

    fn fixed(version: &str) -> Vec<AffectedRange> {
        vec![AffectedRange {
            kind: RangeKind::Ecosystem,
            events: vec![
                RangeEvent::Introduced("0".into()),
                RangeEvent::Fixed(version.into()),
            ],
        }]
    }

    #[test]
    fn dependency_scanning_gemnasium() {
        let parsed = fixture("dd_gl-dependency-scanning-report-many-vuln_v15.json");
        assert_eq!(parsed.tools, vec!["Gemnasium"]);
        assert_eq!(parsed.findings.len(), 6);
        assert!(parsed.findings.iter().all(|f| f.kind == Kind::Sca));
        let crypto = &parsed.findings[0];
        assert_eq!(crypto.rule, "CVE-2020-29652");
        assert_eq!(crypto.title, "Nil Pointer Dereference");
        assert_eq!(crypto.severity, Severity::High);
        assert_eq!(crypto.path(), Some("service/go.sum"));
        let package = crypto.package.as_ref().unwrap();
        assert_eq!(package.ecosystem, Ecosystem::Go, "dependency_files: go");
        assert_eq!(package.name, "golang.org/x/crypto");
        assert_eq!(
            package.version.as_deref(),
            Some("v0.0.0-20190219172222-a4c6cb3142f2")
        );
        assert_eq!(package.manifest.as_deref(), Some("service/go.sum"));
        let advisory = &crypto.advisories[0];
        assert_eq!(advisory.id, "CVE-2020-29652");
        assert!(
            advisory.aliases.is_empty(),
            "the gemnasium uuid is no advisory id"
        );
        assert_eq!(
            advisory.affected,
            fixed("v0.0.0-20201216223049-8b5274cf687f")
        );
        assert_eq!(
            crypto.fingerprints.get("id").unwrap(),
            "8a562c9eec7059db9bda22cc3b58657c4bd1f4213e87fcae8876635c0d5803d8"
        );
        assert!(crypto.message.ends_with(
            "Solution: Upgrade to version v0.0.0-20201216223049-8b5274cf687f or above."
        ));

        let yaml = &parsed.findings[5];
        assert_eq!(
            yaml.rule, "7368f513-0aa9-4e34-a08d-40ea81f48e0e",
            "gemnasium id only"
        );
        assert_eq!(yaml.severity, Severity::Medium, "Unknown");
        assert!(yaml.advisories.is_empty());
    }

    #[test]
    fn old_sast_report_without_scan() {
        let parsed = fixture("dd_gl-sast-report-many-vuln_v15.json");
        assert_eq!(parsed.findings.len(), 467);
        assert_eq!(
            parsed.tools,
            vec!["trufflehog", "gitleaks", "bandit", "eslint"]
        );
        let secrets = parsed
            .findings
            .iter()
            .filter(|f| f.kind == Kind::Secret)
            .count();
        assert_eq!(secrets, 13, "12 trufflehog + 1 gitleaks");
        let sast = parsed
            .findings
            .iter()
            .filter(|f| f.kind == Kind::Sast)
            .count();
        assert_eq!(sast, 454);
        let unknown = parsed
            .findings
            .iter()
            .filter(|f| f.severity == Severity::Medium)
            .count();
        assert_eq!(unknown, 266 + 143, "Unknown and Medium");

        let key = parsed.findings.iter().find(|f| f.rule == "PKCS8").unwrap();
        assert_eq!(key.kind, Kind::Secret);
        assert_eq!(key.tools, vec!["gitleaks"]);
        assert_eq!(key.severity, Severity::Critical);
        assert_eq!(key.location.as_ref().unwrap().lines(), Some((1, 52)));
        assert!(key.package.is_none(), "an empty dependency package");

        let bandit = parsed.findings.iter().find(|f| f.rule == "B501").unwrap();
        assert_eq!(bandit.kind, Kind::Sast);
        assert_eq!(
            bandit.title, "Bandit Test ID B501",
            "no name: the identifier's"
        );
        assert_eq!(bandit.path(), Some("tests/check_status.py"));
        assert_eq!(
            bandit.help_uri.as_deref(),
            Some(
                "https://docs.openstack.org/bandit/latest/plugins/b501_request_with_no_cert_validation.html"
            )
        );
    }

    #[test]
    fn container_scanning_from_trivy_template() {
        let parsed = fixture("trivy_alpine-310_gitlab-template.json");
        assert_eq!(parsed.tools, vec!["Trivy"]);
        assert_eq!(parsed.findings.len(), 4);
        let openssl = &parsed.findings[0];
        assert_eq!(openssl.kind, Kind::Container);
        assert_eq!(openssl.rule, "CVE-2019-1549");
        assert_eq!(openssl.severity, Severity::Medium);
        assert_eq!(openssl.location, None);
        let package = openssl.package.as_ref().unwrap();
        assert_eq!(package.ecosystem, Ecosystem::Other("Alpine".into()));
        assert_eq!(package.name, "libcrypto1.1");
        assert_eq!(package.version.as_deref(), Some("1.1.1c-r0"));
        assert_eq!(package.manifest, None);
        assert_eq!(openssl.advisories[0].affected, fixed("1.1.1d-r0"));
        assert_eq!(
            openssl.help_uri.as_deref(),
            Some("https://avd.aquasec.com/nvd/cve-2019-1549")
        );
        assert!(
            openssl
                .message
                .contains("Image: testdata/fixtures/images/alpine-310.tar.gz")
        );
    }

    /// A secret-detection report following security-report-schemas v15 (no real one among
    /// the fixtures).
    const SECRET_DETECTION: &str = r#"{"version":"15.0.6",
      "scan":{"type":"secret_detection","status":"success","start_time":"2024-01-01T00:00:00","end_time":"2024-01-01T00:00:05",
        "analyzer":{"id":"secrets","name":"secrets","vendor":{"name":"GitLab"},"version":"6.0.0"},
        "scanner":{"id":"gitleaks","name":"Gitleaks","vendor":{"name":"GitLab"},"version":"8.18.2"}},
      "vulnerabilities":[{"id":"f4e8d7c6b5a4938271605f4e3d2c1b0a9f8e7d6c5b4a39281706f5e4d3c2b1a0",
        "category":"secret_detection","name":"AWS access token",
        "description":"AWS access token secret has been found in commit 0a1b2c3d.",
        "cve":"config/settings.py:9b2d...:AWS","severity":"Critical","confidence":"Unknown",
        "raw_source_code_extract":"AKIAQWERTYSECRET7777",
        "scanner":{"id":"gitleaks","name":"Gitleaks"},
        "location":{"file":"config/settings.py","commit":{"sha":"0a1b2c3d"},"start_line":12},
        "identifiers":[{"type":"gitleaks_rule_id","name":"Gitleaks rule ID AWS","value":"AWS"}]}]}"#;

    #[test]
    fn secret_detection_hashes_the_secret() {
        let parsed = parse(SECRET_DETECTION.as_bytes()).unwrap();
        assert_eq!(parsed.tools, vec!["Gitleaks"]);
        let secret = &parsed.findings[0];
        assert_eq!(secret.kind, Kind::Secret);
        assert_eq!(secret.rule, "AWS");
        assert_eq!(secret.title, "AWS access token");
        assert_eq!(secret.severity, Severity::Critical);
        assert_eq!(secret.location.as_ref().unwrap().lines(), Some((12, 12)));
        assert_eq!(
            secret.fingerprints.get(SECRET_HASH),
            secret_digest("AKIAQWERTYSECRET7777").as_ref(),
            "the digest the report's parse keys"
        );
        let report = super::super::parse(
            "gl-secret-detection-report.json",
            SECRET_DETECTION.as_bytes(),
            &super::super::SecretHasher::default(),
        )
        .unwrap();
        assert!(!format!("{report:?}").contains("AKIAQWERTYSECRET7777"));
    }

    /// A DAST report following security-report-schemas v15 (ZAP via GitLab's DAST analyzer).
    const DAST: &str = r#"{"version":"15.0.6",
      "scan":{"type":"dast","status":"success","start_time":"2024-01-01T00:00:00","end_time":"2024-01-01T00:10:00",
        "analyzer":{"id":"gitlab-dast","name":"GitLab DAST","vendor":{"name":"GitLab"},"version":"4.0.0"},
        "scanner":{"id":"zaproxy","name":"OWASP Zed Attack Proxy (ZAP)","vendor":{"name":"GitLab"},"version":"2.13.0"},
        "scanned_resources":[{"method":"GET","type":"url","url":"http://app.test/"}]},
      "vulnerabilities":[{"id":"6a4c2f2b-3b3a-4a3b-9f0e-1f2e3d4c5b6a","category":"dast",
        "name":"X-Content-Type-Options Header Missing",
        "description":"The Anti-MIME-Sniffing header X-Content-Type-Options was not set to 'nosniff'.",
        "severity":"Low","confidence":"Medium",
        "solution":"Ensure that the application/web server sets the Content-Type header appropriately.",
        "identifiers":[{"type":"ZAProxy_PluginId","name":"X-Content-Type-Options Header Missing","value":"10021",
            "url":"https://www.zaproxy.org/docs/alerts/10021/"},
          {"type":"CWE","name":"CWE-693","value":"693","url":"https://cwe.mitre.org/data/definitions/693.html"}],
        "links":[{"url":"https://owasp.org/www-community/Security_Headers"}],
        "location":{"hostname":"http://app.test","method":"GET","param":"X-Content-Type-Options","path":"/login"},
        "flags":[{"type":"flagged-as-likely-false-positive","origin":"vet","description":"test"}]}]}"#;

    #[test]
    fn dast_locates_the_url_path() {
        let parsed = parse(DAST.as_bytes()).unwrap();
        let finding = &parsed.findings[0];
        assert_eq!(finding.kind, Kind::Dast);
        assert_eq!(finding.tools, vec!["OWASP Zed Attack Proxy (ZAP)"]);
        assert_eq!(finding.rule, "10021");
        assert_eq!(finding.severity, Severity::Low);
        assert_eq!(finding.cwes, vec![693]);
        assert_eq!(finding.path(), Some("/login"));
        assert_eq!(
            finding.help_uri.as_deref(),
            Some("https://www.zaproxy.org/docs/alerts/10021/")
        );
        assert!(
            finding.message.contains(
                "Request: GET http://app.test/login (parameter `X-Content-Type-Options`)"
            )
        );
        assert!(finding.suppressed, "flagged as likely false positive");
    }

    #[test]
    fn sast_with_tracking_signatures() {
        let parsed = parse(
            br#"{"version":"15.1.4","scan":{"type":"sast","scanner":{"id":"semgrep","name":"Semgrep"},
                "analyzer":{"id":"semgrep","name":"Semgrep"}},
              "vulnerabilities":[
                {"id":"a1","name":"SQL injection","severity":"High",
                 "identifiers":[{"type":"semgrep_id","name":"bandit.B608","value":"bandit.B608"},
                   {"type":"cwe","name":"CWE-89","value":"89"}],
                 "location":{"file":"app/db.py","start_line":10,"end_line":12},
                 "tracking":{"type":"source","items":[{"file":"app/db.py","line_start":10,"line_end":12,
                   "signatures":[{"algorithm":"scope_offset","value":"app/db.py|query[0]:4"}]}]}}]}"#,
        )
        .unwrap();
        assert_eq!(parsed.tools, vec!["Semgrep"]);
        let sast = &parsed.findings[0];
        assert_eq!(sast.kind, Kind::Sast);
        assert_eq!(sast.rule, "bandit.B608");
        assert_eq!(sast.cwes, vec![89]);
        assert_eq!(sast.location.as_ref().unwrap().lines(), Some((10, 12)));
        assert_eq!(
            sast.fingerprints.get("scope_offset").unwrap(),
            "app/db.py|query[0]:4"
        );
        assert_eq!(sast.fingerprints.get("id").unwrap(), "a1");
        assert!(sast.package.is_none());
    }

    #[test]
    fn old_report_kinds_by_category_and_remediations() {
        let parsed = parse(
            br#"{"version":"2.0","vulnerabilities":[
                {"id":"b2","category":"dependency_scanning","message":"Prototype pollution","severity":"Info",
                 "scanner":{"id":"gemnasium","name":"Gemnasium"},
                 "identifiers":[{"type":"ghsa","name":"GHSA-p6mc-m468-83gw","value":"GHSA-p6mc-m468-83gw"},
                   {"type":"cve","name":"CVE-2020-8203","value":"CVE-2020-8203"}],
                 "location":{"file":"web/yarn.lock","dependency":{"package":{"name":"lodash"},"version":"4.17.15"}}},
                {"category":"container_scanning","cve":"debian:10:e2fsprogs:CVE-2019-5188",
                 "message":"CVE-2019-5188 in e2fsprogs","severity":"Unknown",
                 "identifiers":[{"type":"cve","name":"CVE-2019-5188","value":"CVE-2019-5188"}],
                 "location":{"image":"registry.example/app:1","operating_system":"debian:10",
                   "dependency":{"package":{"name":"e2fsprogs"},"version":"1.44.5-1"}}}],
              "remediations":[{"fixes":[{"id":"b2"}],"summary":"Upgrade lodash to 4.17.19","diff":"ZGlmZg=="},
                {"fixes":[{"cve":"debian:10:e2fsprogs:CVE-2019-5188"}],"summary":"Upgrade e2fsprogs to 1.44.5-1+deb10u3"}]}"#,
        )
        .unwrap();
        assert_eq!(parsed.tools, vec!["Gemnasium", "GitLab"]);
        let lodash = &parsed.findings[0];
        assert_eq!(lodash.kind, Kind::Sca);
        assert_eq!(lodash.title, "Prototype pollution", "the old `message`");
        assert_eq!(lodash.rule, "CVE-2020-8203", "CVE over GHSA");
        assert_eq!(lodash.severity, Severity::Info);
        let package = lodash.package.as_ref().unwrap();
        assert_eq!(package.ecosystem, Ecosystem::Npm, "yarn.lock");
        assert_eq!(lodash.advisories[0].aliases, vec!["GHSA-p6mc-m468-83gw"]);
        assert_eq!(
            lodash.advisories[0].affected,
            fixed("4.17.19"),
            "from the remediation"
        );
        assert!(
            lodash
                .message
                .ends_with("Solution: Upgrade lodash to 4.17.19")
        );

        let e2fs = &parsed.findings[1];
        assert_eq!(e2fs.kind, Kind::Container);
        assert_eq!(e2fs.tools, vec!["GitLab"], "no scanner named");
        let package = e2fs.package.as_ref().unwrap();
        assert_eq!(package.ecosystem, Ecosystem::Other("Debian".into()));
        assert_eq!(package.manifest, None);
        assert_eq!(e2fs.severity, Severity::Medium, "Unknown");
        assert_eq!(
            e2fs.advisories[0].affected,
            fixed("1.44.5-1+deb10u3"),
            "remediation referenced by the old `cve` key"
        );
    }

    #[test]
    fn fixed_versions_from_solutions() {
        assert_eq!(
            fixed_version("Upgrade to version 0.3.3 or above."),
            Some("0.3.3")
        );
        assert_eq!(
            fixed_version("Upgrade libcrypto1.1 to 1.1.1d-r0"),
            Some("1.1.1d-r0")
        );
        assert_eq!(
            fixed_version("Upgrade to versions 1.2.3, 2.0.1 or above."),
            Some("1.2.3")
        );
        assert_eq!(fixed_version("Upgrade to latest version."), None);
        assert_eq!(fixed_version("Use a parameterized query"), None);
    }

    #[test]
    fn wrong_shape_names_the_path() {
        let error = parse(
            br#"{"version":"15.0.0","vulnerabilities":[{"identifiers":[{"type":"cve","value":7}]}]}"#,
        )
        .unwrap_err();
        assert_eq!(
            error.position.as_deref(),
            Some("$.vulnerabilities[0].identifiers[0].value")
        );
    }

    #[test]
    fn malformed_report_names_format_line_and_column() {
        let bytes = std::fs::read(format!(
            "{FIXTURES}dd_gl-dependency-scanning-report-many-vuln_v15.json"
        ))
        .unwrap();
        let error = super::super::parse(
            "gl.json",
            &bytes[..bytes.len() / 3],
            &crate::ingest::SecretHasher::default(),
        )
        .unwrap_err();
        assert_eq!(error.format, Some(super::super::Format::GitLab));
        assert!(
            error
                .to_string()
                .starts_with("gl.json: GitLab security report: at line "),
            "{error}"
        );
        for (format, name) in [
            (super::super::Format::Trivy, "Trivy JSON"),
            (super::super::Format::Grype, "Grype JSON"),
            (super::super::Format::GitLab, "GitLab security report"),
        ] {
            assert_eq!(format.to_string(), name);
        }
    }
}
