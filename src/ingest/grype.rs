//! Grype's JSON report (`grype -o json`): one dependency finding per match (a vulnerability of
//! one artifact), and the matches ignore rules removed (`ignoredMatches`) as suppressed ones.
//!
//! | match | finding |
//! |---|---|
//! | image scan (`source.type: image`), OS or binary artifact (no `language`) | `container`, ecosystem = `distro.name` (Alpine, Debian, Ubuntu…), else the PURL's |
//! | anything else | `sca`, ecosystem and name from the PURL (`group:artifact` for Maven), else the artifact `type`/`language` |
//!
//! Severity (`vulnerability.severity`):
//!
//! | Grype | posture |
//! |---|---|
//! | `Critical` / `High` / `Medium` / `Low` | critical / high / medium / low |
//! | `Negligible` | info |
//! | `Unknown` or missing | the CVSS rating of the score, else medium |
//!
//! The score is the first CVSS v3/v4 base score of the vulnerability, else of its related
//! vulnerabilities (the CVE behind a GHSA), else any CVSS version's. `relatedVulnerabilities`
//! ids are the advisory's aliases; the rule is the CVE among them (else GHSA, else Grype's id).
//! `fix.versions` of a `fixed` state become the affected range (the fix above the installed
//! version). In a directory scan the artifact's first location, which Syft roots at the
//! scanned directory (`/requirements.txt`), is the manifest and the location, made relative
//! (`requirements.txt`); in an image scan it is a path inside the image, named in the message
//! but neither manifest nor location (it is no repository file).

use serde::Deserialize;

use super::Parsed;
use super::components;
use super::json::{self, JsonError, null_as_default};
use super::text;
use super::vulns;
use crate::model::{Advisory, Component, Ecosystem, Finding, Kind, Location, Package};

/// The tool name Grype's findings carry.
pub(crate) const TOOL: &str = "Grype";

#[derive(Debug, Deserialize)]
struct Output {
    #[serde(default, deserialize_with = "null_as_default")]
    matches: Vec<Match>,
    #[serde(
        default,
        rename = "ignoredMatches",
        deserialize_with = "null_as_default"
    )]
    ignored_matches: Vec<Match>,
    #[serde(default)]
    source: Option<Source>,
    #[serde(default)]
    distro: Option<Distro>,
}

#[derive(Debug, Deserialize)]
struct Source {
    #[serde(default, rename = "type")]
    kind: String,
}

#[derive(Debug, Deserialize)]
struct Distro {
    #[serde(default)]
    name: String,
}

#[derive(Debug, Deserialize)]
struct Match {
    #[serde(default)]
    vulnerability: Vulnerability,
    #[serde(
        default,
        rename = "relatedVulnerabilities",
        deserialize_with = "null_as_default"
    )]
    related: Vec<Vulnerability>,
    #[serde(default)]
    artifact: Artifact,
}

#[derive(Debug, Default, Deserialize)]
struct Vulnerability {
    #[serde(default)]
    id: String,
    #[serde(default, rename = "dataSource")]
    data_source: String,
    #[serde(default)]
    severity: String,
    #[serde(default, deserialize_with = "null_as_default")]
    urls: Vec<String>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    cvss: Vec<Cvss>,
    #[serde(default)]
    fix: Fix,
}

#[derive(Debug, Deserialize)]
struct Cvss {
    #[serde(default)]
    version: String,
    #[serde(default)]
    vector: Option<String>,
    #[serde(default)]
    metrics: Metrics,
}

#[derive(Debug, Default, Deserialize)]
struct Metrics {
    #[serde(default, rename = "baseScore")]
    base_score: Option<f64>,
}

#[derive(Debug, Default, Deserialize)]
struct Fix {
    #[serde(default, deserialize_with = "null_as_default")]
    versions: Vec<String>,
    #[serde(default)]
    state: String,
}

#[derive(Debug, Default, Deserialize)]
struct Artifact {
    #[serde(default)]
    name: String,
    #[serde(default)]
    version: String,
    #[serde(default, rename = "type")]
    kind: String,
    #[serde(default, deserialize_with = "null_as_default")]
    locations: Vec<ArtifactLocation>,
    #[serde(default)]
    language: String,
    #[serde(default)]
    purl: String,
    #[serde(default, deserialize_with = "null_as_default")]
    licenses: Vec<License>,
}

/// A licence as Grype lists it: a string, or (from syft's newer models) an object.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum License {
    Text(String),
    Object {
        #[serde(default, rename = "spdxExpression")]
        spdx_expression: Option<String>,
        #[serde(default)]
        value: Option<String>,
    },
}

impl License {
    fn text(&self) -> Option<&str> {
        match self {
            License::Text(text) => Some(text),
            License::Object {
                spdx_expression,
                value,
            } => spdx_expression
                .as_deref()
                .filter(|e| !e.trim().is_empty())
                .or(value.as_deref()),
        }
    }
}

#[derive(Debug, Deserialize)]
struct ArtifactLocation {
    #[serde(default)]
    path: String,
}

pub(crate) fn parse(bytes: &[u8]) -> Result<Parsed, JsonError> {
    let output: Output = json::from_slice(bytes)?;
    let image = output
        .source
        .as_ref()
        .is_some_and(|s| s.kind.eq_ignore_ascii_case("image"));
    let distro = output
        .distro
        .as_ref()
        .map(|d| d.name.as_str())
        .filter(|name| !name.is_empty());
    let findings = output
        .matches
        .iter()
        .map(|m| (m, false))
        .chain(output.ignored_matches.iter().map(|m| (m, true)))
        .map(|(m, suppressed)| {
            let mut finding = match_finding(m, image, distro);
            finding.suppressed = suppressed;
            finding
        })
        .collect();
    let components = output
        .matches
        .iter()
        .chain(&output.ignored_matches)
        .filter_map(|m| artifact_component(&m.artifact))
        .collect();
    Ok(Parsed {
        tools: vec![TOOL.to_string()],
        findings,
        components: components::dedupe(components),
        warnings: Vec::new(),
    })
}

/// The matched artifact as a component: its package URL, licences, and the first of its
/// locations as the manifest. An artifact without a package URL (Grype's `generic` and
/// binary catalogers may give none) is left out.
fn artifact_component(artifact: &Artifact) -> Option<Component> {
    let manifest = artifact
        .locations
        .first()
        .map(|l| l.path.as_str())
        .filter(|p| !p.is_empty());
    let mut component = components::from_purl(&artifact.purl, manifest)?;
    component.licenses.declared =
        components::join_licenses(artifact.licenses.iter().filter_map(License::text));
    Some(component)
}

/// A language package: Grype names its language, or its type is a language ecosystem's.
fn is_language_package(artifact: &Artifact) -> bool {
    !artifact.language.is_empty() || !matches!(type_ecosystem(&artifact.kind), Ecosystem::Other(_))
}

/// The ecosystem of Grype's artifact types (`java-archive`, `go-module`, `python`, …).
fn type_ecosystem(kind: &str) -> Ecosystem {
    let name = match kind.to_ascii_lowercase().as_str() {
        "java-archive" | "jenkins-plugin" => "maven",
        "go-module" => "go",
        "rust-crate" => "cargo",
        "python" => "pypi",
        "php-composer" => "composer",
        "dotnet" => "nuget",
        "dart-pub" => "pub",
        "hex" => "hex",
        "gem" => "gem",
        "npm" => "npm",
        other => return Ecosystem::Other(other.to_string()),
    };
    Ecosystem::parse(name)
}

/// The artifact's first location, as Grype wrote it.
fn artifact_path(artifact: &Artifact) -> Option<&str> {
    artifact
        .locations
        .first()
        .map(|l| l.path.as_str())
        .filter(|p| !p.is_empty())
}

fn package(artifact: &Artifact, container: bool, distro: Option<&str>, image: bool) -> Package {
    let from_purl = Package::from_purl(&artifact.purl);
    let manifest = artifact_path(artifact)
        .filter(|_| !image)
        .map(|p| p.trim_start_matches('/').to_string())
        .filter(|p| !p.is_empty());
    let version = Some(artifact.version.clone()).filter(|v| !v.is_empty());
    if container || !is_language_package(artifact) {
        let ecosystem = match (distro, &from_purl) {
            (Some(distro), _) => vulns::os_ecosystem(distro),
            (None, Some(p)) => p.ecosystem.clone(),
            (None, None) => Ecosystem::Other(artifact.kind.clone()),
        };
        return Package {
            ecosystem,
            name: artifact.name.clone(),
            version,
            manifest,
        };
    }
    match from_purl.filter(|p| !matches!(p.ecosystem, Ecosystem::Other(_))) {
        Some(p) => Package {
            version: version.or(p.version),
            manifest,
            ..p
        },
        None => Package {
            ecosystem: match type_ecosystem(&artifact.kind) {
                Ecosystem::Other(_) if !artifact.language.is_empty() => {
                    Ecosystem::parse(&artifact.language)
                }
                ecosystem => ecosystem,
            },
            name: artifact.name.clone(),
            version,
            manifest,
        },
    }
}

fn match_finding(m: &Match, image: bool, distro: Option<&str>) -> Finding {
    let vulnerability = &m.vulnerability;
    let artifact = &m.artifact;
    let container = image && !is_language_package(artifact);
    let package = package(artifact, container, distro, image);

    let mut aliases: Vec<String> = Vec::new();
    for related in &m.related {
        if !related.id.is_empty()
            && related.id != vulnerability.id
            && !aliases.contains(&related.id)
        {
            aliases.push(related.id.clone());
        }
    }
    let ids: Vec<&str> = std::iter::once(vulnerability.id.as_str())
        .chain(aliases.iter().map(String::as_str))
        .collect();
    let rule = vulns::preferred_id(&ids).unwrap_or("grype-vulnerability");
    let kind = if container {
        Kind::Container
    } else {
        Kind::Sca
    };
    let mut finding = Finding::new(kind, TOOL, rule);

    let (score, vector) = cvss(m);
    finding.score = score;
    for c in std::iter::once(&m.vulnerability)
        .chain(&m.related)
        .flat_map(|v| &v.cvss)
    {
        if let Some(vector) = c.vector.as_deref().map(str::trim)
            && !vector.is_empty()
            && !finding.cvss_vectors.iter().any(|v| v == vector)
        {
            finding.cvss_vectors.push(vector.to_string());
        }
    }
    finding.severity = vulns::severity(&vulnerability.severity, score);
    let description = || {
        std::iter::once(vulnerability)
            .chain(&m.related)
            .find_map(|v| v.description.clone().filter(|d| !d.trim().is_empty()))
    };
    finding.title = format!("{rule} in {} {}", package.name, artifact.version)
        .trim_end()
        .to_string();
    finding.message = description().unwrap_or_else(|| finding.title.clone());
    if let Some(path) = artifact_path(artifact).filter(|_| image) {
        finding
            .message
            .push_str(&format!("\n\nFound in the image at {path}"));
    }
    let url = Some(vulnerability.data_source.clone())
        .filter(|u| u.starts_with("http"))
        .or_else(|| vulnerability.urls.first().cloned());
    finding.help_uri = url.clone();
    let fixed: Vec<&str> = if vulnerability.fix.state.eq_ignore_ascii_case("fixed") {
        vulnerability
            .fix
            .versions
            .iter()
            .map(String::as_str)
            .collect()
    } else {
        Vec::new()
    };
    finding.advisories = vec![Advisory {
        id: vulnerability.id.clone(),
        aliases,
        summary: description()
            .as_deref()
            .and_then(text::first_line)
            .map(str::to_string),
        url,
        cvss_score: score,
        cvss_vector: vector,
        affected: vulns::fixed_range(&package.ecosystem, package.version.as_deref(), &fixed),
        affected_versions: Vec::new(),
    }];
    finding.location = package.manifest.as_deref().map(Location::new);
    finding.package = Some(Box::new(package));
    finding
}

/// The first CVSS v3/v4 score of the vulnerability, else of its related ones, else any
/// version's; with its vector.
fn cvss(m: &Match) -> (Option<f64>, Option<String>) {
    let all = || {
        std::iter::once(&m.vulnerability)
            .chain(&m.related)
            .flat_map(|v| &v.cvss)
            .filter(|c| vulns::cvss_score(c.metrics.base_score).is_some())
    };
    all()
        .find(|c| c.version.starts_with('3') || c.version.starts_with('4'))
        .or_else(|| all().next())
        .map_or((None, None), |c| {
            (vulns::cvss_score(c.metrics.base_score), c.vector.clone())
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{AffectedRange, RangeEvent, RangeKind, Severity};

    const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/sca/grype/");

    fn fixture(name: &str) -> Parsed {
        parse(&std::fs::read(format!("{FIXTURES}{name}")).unwrap()).unwrap()
    }

    #[test]
    fn directory_golden() {
        let parsed = fixture("grype_dirs_golden.json");
        assert_eq!(parsed.tools, vec!["Grype"]);
        assert_eq!(parsed.findings.len(), 2);
        let first = &parsed.findings[0];
        assert_eq!(first.kind, Kind::Sca, "a directory scan");
        assert_eq!(first.rule, "CVE-1999-0001");
        assert_eq!(
            first.severity,
            Severity::Low,
            "Grype's name wins over CVSS 8.2"
        );
        assert_eq!(first.score, Some(8.2));
        let package = first.package.as_ref().unwrap();
        assert_eq!(
            package.ecosystem,
            Ecosystem::Other("centos".into()),
            "distro"
        );
        assert_eq!(package.name, "package-1");
        assert_eq!(package.version.as_deref(), Some("1.1.1"));
        assert_eq!(
            package.manifest.as_deref(),
            Some("foo/bar/somefile-1.txt"),
            "rooted at the scanned directory"
        );
        assert_eq!(first.path(), Some("foo/bar/somefile-1.txt"));
        assert_eq!(
            first.advisories[0].affected,
            vec![AffectedRange {
                kind: RangeKind::Ecosystem,
                events: vec![
                    RangeEvent::Introduced("0".into()),
                    RangeEvent::Fixed("1.2.1".into())
                ],
            }],
            "of 1.2.1, 2.1.3 and 3.4.0 the one above 1.1.1"
        );
        assert_eq!(
            first.advisories[0].cvss_vector.as_deref(),
            Some("CVSS:3.1/AV:N/AC:L/PR:L/UI:R/S:C/C:L/I:L/A:H")
        );
        let second = &parsed.findings[1];
        assert_eq!(second.severity, Severity::Critical);
        assert!(second.advisories[0].affected.is_empty(), "no fix");
    }

    #[test]
    fn image_binary_is_a_container_finding() {
        let parsed = fixture("dd_fix_available.json");
        assert_eq!(parsed.findings.len(), 1);
        let java = &parsed.findings[0];
        assert_eq!(java.kind, Kind::Container);
        assert_eq!(java.rule, "CVE-2009-3882");
        assert_eq!(java.severity, Severity::High);
        assert_eq!(java.score, Some(7.5), "CVSS 2.0 when nothing newer");
        assert_eq!(java.location, None, "a path inside the image");
        let package = java.package.as_ref().unwrap();
        assert_eq!(package.name, "java");
        assert_eq!(package.manifest, None, "a path inside the image");
        assert!(
            java.message
                .ends_with("Found in the image at /opt/java/openjdk/bin/java")
        );
        assert_eq!(
            java.help_uri.as_deref(),
            Some("https://nvd.nist.gov/vuln/detail/CVE-2009-3882")
        );
        assert!(
            java.message
                .starts_with("Multiple unspecified vulnerabilities")
        );
    }

    #[test]
    fn language_packages_aliases_and_ignored_matches() {
        let parsed = parse(
            br#"{"matches":[{"vulnerability":{"id":"GHSA-p6mc-m468-83gw","severity":"High",
                "fix":{"versions":["4.17.19"],"state":"fixed"},"urls":["https://github.com/advisories/GHSA-p6mc-m468-83gw"]},
              "relatedVulnerabilities":[{"id":"CVE-2020-8203","description":"Prototype pollution in lodash",
                "cvss":[{"version":"2.0","metrics":{"baseScore":5.8}},{"version":"3.1","vector":"CVSS:3.1/AV:N","metrics":{"baseScore":7.4}}]}],
              "artifact":{"name":"lodash","version":"4.17.15","type":"npm","language":"javascript",
                "purl":"pkg:npm/lodash@4.17.15","locations":[{"path":"/app/package-lock.json"}]}}],
             "ignoredMatches":[{"vulnerability":{"id":"CVE-2022-1","severity":"Negligible"},
              "artifact":{"name":"commons-text","version":"1.9","type":"java-archive","language":"java",
                "purl":"pkg:maven/org.apache.commons/commons-text@1.9"},"appliedIgnoreRules":[{"vulnerability":"CVE-2022-1"}]}],
             "source":{"type":"image","target":{"userInput":"app:1"}},"distro":{"name":"debian","version":"11"},
             "descriptor":{"name":"grype"}}"#,
        )
        .unwrap();
        assert_eq!(parsed.findings.len(), 2);
        let lodash = &parsed.findings[0];
        assert_eq!(lodash.kind, Kind::Sca, "a language package of an image");
        assert_eq!(lodash.rule, "CVE-2020-8203");
        assert_eq!(lodash.advisories[0].id, "GHSA-p6mc-m468-83gw");
        assert_eq!(lodash.advisories[0].aliases, vec!["CVE-2020-8203"]);
        assert_eq!(lodash.score, Some(7.4), "v3.1 of the related CVE");
        assert_eq!(
            lodash.message,
            "Prototype pollution in lodash\n\nFound in the image at /app/package-lock.json"
        );
        assert_eq!(
            lodash.help_uri.as_deref(),
            Some("https://github.com/advisories/GHSA-p6mc-m468-83gw")
        );
        let package = lodash.package.as_ref().unwrap();
        assert_eq!(package.ecosystem, Ecosystem::Npm);
        assert_eq!(package.manifest, None);
        assert_eq!(lodash.location, None);
        assert!(!lodash.suppressed);
        let ignored = &parsed.findings[1];
        assert!(ignored.suppressed);
        assert_eq!(ignored.severity, Severity::Info, "Negligible");
        let package = ignored.package.as_ref().unwrap();
        assert_eq!(package.ecosystem, Ecosystem::Maven);
        assert_eq!(package.name, "org.apache.commons:commons-text");
    }

    #[test]
    fn os_package_of_an_image_uses_the_distro() {
        let parsed = parse(
            br#"{"matches":[{"vulnerability":{"id":"CVE-2023-1","severity":"Unknown",
                "cvss":[{"version":"3.1","metrics":{"baseScore":9.8}}]},
              "artifact":{"name":"openssl","version":"3.0.2-0ubuntu1","type":"deb",
                "purl":"pkg:deb/ubuntu/openssl@3.0.2-0ubuntu1?distro=ubuntu-22.04"}}],
             "source":{"type":"image"},"distro":{"name":"ubuntu","version":"22.04"}}"#,
        )
        .unwrap();
        let finding = &parsed.findings[0];
        assert_eq!(finding.kind, Kind::Container);
        assert_eq!(finding.severity, Severity::Critical, "Unknown: CVSS 9.8");
        let package = finding.package.as_ref().unwrap();
        assert_eq!(package.ecosystem, Ecosystem::Other("Ubuntu".into()));
        assert_eq!(package.name, "openssl");
    }

    #[test]
    fn wrong_shape_names_the_path() {
        let error = parse(br#"{"matches":[{"artifact":{"locations":[{"path":1}]}}]}"#).unwrap_err();
        assert_eq!(
            error.position.as_deref(),
            Some("$.matches[0].artifact.locations[0].path")
        );
        let error = parse(br#"{"matches":[{"vulnerability":"#).unwrap_err();
        assert!(error.position.unwrap().starts_with("line 1 column "));
    }

    #[test]
    fn components_are_the_matched_artifacts() {
        let parsed = fixture("grype_dirs_golden.json");
        assert_eq!(parsed.components.len(), 1, "package-1 has no package URL");
        let package = &parsed.components[0];
        assert_eq!(package.purl, "pkg:deb/package-2@2.2.2");
        assert_eq!(package.package.name, "package-2");
        assert_eq!(
            package.package.manifest.as_deref(),
            Some("/foo/bar/somefile-2.txt")
        );
        assert_eq!(
            package.licenses.declared.as_deref(),
            Some("Apache-2.0 AND MIT")
        );

        let java = fixture("dd_fix_available.json");
        assert_eq!(java.components.len(), 1);
        assert_eq!(java.components[0].package.name, "java");
        assert_eq!(
            java.components[0].package.manifest.as_deref(),
            Some("/opt/java/openjdk/bin/java")
        );
    }

    #[test]
    fn component_licences_as_objects() {
        let parsed = parse(
            br#"{"matches":[{"vulnerability":{"id":"CVE-1"},"artifact":{"name":"a","version":"1",
                "purl":"pkg:npm/a@1","locations":[{"path":"/app/package-lock.json"}],
                "licenses":[{"value":"MIT","spdxExpression":"MIT"},{"value":"Custom licence"}]}},
                {"vulnerability":{"id":"CVE-2"},"artifact":{"name":"a","version":"1",
                "purl":"pkg:npm/a@1","locations":[{"path":"/app/package-lock.json"}]}}]}"#,
        )
        .unwrap();
        assert_eq!(parsed.findings.len(), 2);
        assert_eq!(parsed.components.len(), 1, "one artifact matched twice");
        assert_eq!(
            parsed.components[0].licenses.declared.as_deref(),
            Some("MIT, Custom licence")
        );
    }
}
