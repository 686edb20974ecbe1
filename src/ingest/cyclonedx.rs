//! CycloneDX 1.4–1.6 JSON documents with `vulnerabilities` (as Trivy, Grype, Dependency-Track
//! and other SCA tools write them, a VEX or VDR document) turned into dependency findings: one
//! per vulnerability and component it `affects`.
//!
//! The package is read from the affected component's `purl` (else its name and version; an
//! `affects.ref` that is itself a package URL, as Grype writes, also works). Packages of an
//! operating system (`pkg:deb`, `pkg:apk`, `pkg:rpm`) make container findings, others SCA
//! findings. The manifest is the `application` component that contains the package or lists
//! it in `dependencies` (Trivy's `package-lock.json`, …), when there is one. Ids in
//! `references` are the advisory's aliases; `affects[].versions` give the affected versions
//! and `vers:` ranges. A VEX `analysis.state` of `not_affected` or `false_positive` marks the
//! finding suppressed; other states (`exploitable`, `in_triage`, `resolved`, …) leave it
//! reported. The tool is the first named in `metadata.tools`, else `CycloneDX`.
//!
//! | CycloneDX `ratings` | severity |
//! |---|---|
//! | `severity` `critical` / `high` / `medium` / `low` / `info` / `none` (the highest over all ratings; `unknown` ignored) | critical / high / medium / low / info / info |
//! | no named severity, a CVSS score (or vector) | the score's CVSS rating: ≥ 9 critical, ≥ 7 high, ≥ 4 medium, > 0 low, else info |
//! | neither | medium |
//!
//! The score is that of a CVSS rating, preferring `CVSSv31`, then `CVSSv3`, `CVSSv4`,
//! `CVSSv2` (the highest within one method), computed from its `vector` when it has none.

use std::collections::HashMap;

use serde::Deserialize;

use super::Parsed;
use super::dependency::{cvss_base_score, preferred_id};
use super::json::{self, JsonError, Scalar, null_as_default};
use crate::model::{
    self, Advisory, AffectedRange, ComponentScope, Ecosystem, Finding, Kind, Licenses, Location,
    Package, RangeEvent, RangeKind, Severity,
};

/// The tool name when the document names none.
const DEFAULT_TOOL: &str = "CycloneDX";

#[derive(Debug, Deserialize)]
struct Bom {
    #[serde(default)]
    metadata: Option<Metadata>,
    #[serde(default, deserialize_with = "null_as_default")]
    components: Vec<Component>,
    #[serde(default, deserialize_with = "null_as_default")]
    dependencies: Vec<Dependency>,
    #[serde(default, deserialize_with = "null_as_default")]
    vulnerabilities: Vec<Vulnerability>,
}

#[derive(Debug, Deserialize)]
struct Metadata {
    #[serde(default)]
    tools: Option<Tools>,
    #[serde(default)]
    component: Option<Component>,
}

/// CycloneDX 1.4's array of tools, or 1.5's object of tool components and services.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Tools {
    List(Vec<Tool>),
    Object {
        #[serde(default, deserialize_with = "null_as_default")]
        components: Vec<Tool>,
        #[serde(default, deserialize_with = "null_as_default")]
        services: Vec<Tool>,
    },
}

#[derive(Debug, Deserialize)]
struct Tool {
    #[serde(default)]
    name: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Component {
    #[serde(default, rename = "bom-ref")]
    bom_ref: Option<String>,
    #[serde(default, rename = "type")]
    kind: Option<String>,
    #[serde(default)]
    group: Option<String>,
    #[serde(default)]
    name: String,
    #[serde(default)]
    version: Option<String>,
    #[serde(default)]
    purl: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    components: Vec<Component>,
    #[serde(default)]
    scope: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    licenses: Vec<LicenseChoice>,
    #[serde(default, deserialize_with = "null_as_default")]
    properties: Vec<Property>,
}

/// One entry of `licenses`: a licence (by SPDX id or name) or an SPDX expression, declared
/// or concluded (CycloneDX 1.6 `acknowledgement`; declared when not said).
#[derive(Debug, Deserialize)]
struct LicenseChoice {
    #[serde(default)]
    license: Option<LicenseObject>,
    #[serde(default)]
    expression: Option<String>,
    #[serde(default)]
    acknowledgement: Option<String>,
}

#[derive(Debug, Deserialize)]
struct LicenseObject {
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    acknowledgement: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Property {
    #[serde(default)]
    name: String,
    #[serde(default)]
    value: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Dependency {
    #[serde(default, rename = "ref")]
    reference: String,
    #[serde(default, rename = "dependsOn", deserialize_with = "null_as_default")]
    depends_on: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct Vulnerability {
    #[serde(default)]
    id: String,
    #[serde(default)]
    source: Option<Source>,
    #[serde(default, deserialize_with = "null_as_default")]
    references: Vec<Reference>,
    #[serde(default, deserialize_with = "null_as_default")]
    ratings: Vec<Rating>,
    #[serde(default, deserialize_with = "null_as_default")]
    cwes: Vec<Scalar>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    detail: Option<String>,
    #[serde(default)]
    recommendation: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    advisories: Vec<AdvisoryLink>,
    #[serde(default, deserialize_with = "null_as_default")]
    affects: Vec<Affects>,
    #[serde(default)]
    analysis: Option<Analysis>,
}

#[derive(Debug, Default, Deserialize)]
struct Source {
    #[serde(default)]
    url: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Reference {
    #[serde(default)]
    id: String,
}

#[derive(Debug, Deserialize)]
struct Rating {
    #[serde(default)]
    score: Option<Scalar>,
    #[serde(default)]
    severity: Option<String>,
    #[serde(default)]
    method: Option<String>,
    #[serde(default)]
    vector: Option<String>,
}

#[derive(Debug, Deserialize)]
struct AdvisoryLink {
    #[serde(default)]
    url: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Affects {
    #[serde(default, rename = "ref")]
    reference: String,
    #[serde(default, deserialize_with = "null_as_default")]
    versions: Vec<AffectedVersion>,
}

#[derive(Debug, Deserialize)]
struct AffectedVersion {
    #[serde(default)]
    version: Option<String>,
    #[serde(default)]
    range: Option<String>,
    #[serde(default)]
    status: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Analysis {
    #[serde(default)]
    state: Option<String>,
    #[serde(default)]
    justification: Option<String>,
    #[serde(default)]
    detail: Option<String>,
}

pub(crate) fn parse(bytes: &[u8]) -> Result<Parsed, JsonError> {
    let bom: Bom = json::from_slice(bytes)?;
    let tool = tool_name(&bom);
    let graph = Graph::new(&bom);
    let mut parsed = Parsed {
        tools: vec![tool.clone()],
        ..Parsed::default()
    };
    parsed.components = components(&bom, &graph);
    for vulnerability in &bom.vulnerabilities {
        if vulnerability.affects.is_empty() {
            parsed.warnings.push(format!(
                "CycloneDX: vulnerability {} names no affected component; skipped",
                vulnerability.id
            ));
            continue;
        }
        for affects in &vulnerability.affects {
            parsed
                .findings
                .push(finding(&tool, &graph, vulnerability, affects));
        }
    }
    Ok(parsed)
}

/// Every component with a package URL, nested ones too, with its manifest (the
/// `application` component that contains it or depends on it; posture's own
/// `posture:manifest` property first), scope, directness and licences.
fn components(bom: &Bom, graph: &Graph<'_>) -> Vec<model::Component> {
    // Direct: depended on by the subject or by a manifest; transitive: only by packages.
    let root = bom
        .metadata
        .as_ref()
        .and_then(|m| m.component.as_ref())
        .and_then(|c| c.bom_ref.as_deref());
    let mut direct: HashMap<&str, bool> = HashMap::new();
    for dependency in &bom.dependencies {
        let parent = dependency.reference.as_str();
        let top = Some(parent) == root
            || graph
                .component(parent)
                .is_some_and(|(_, c)| manifest_name(c).is_some());
        for child in &dependency.depends_on {
            let child = graph
                .component(child)
                .map_or(child.as_str(), |(key, _)| key);
            if top {
                direct.insert(child, true);
            } else {
                direct.entry(child).or_insert(false);
            }
        }
    }
    let mut listed = Vec::new();
    for component in &bom.components {
        collect(component, None, graph, &direct, &mut listed);
    }
    super::components::dedupe(listed)
}

fn collect<'a>(
    component: &'a Component,
    inherited: Option<&'a str>,
    graph: &Graph<'a>,
    direct: &HashMap<&str, bool>,
    listed: &mut Vec<model::Component>,
) {
    let bom_ref = component.bom_ref.as_deref();
    let property = |name: &str| {
        component
            .properties
            .iter()
            .find(|p| p.name == name)
            .and_then(|p| p.value.as_deref())
    };
    let manifest = property("posture:manifest")
        .or_else(|| bom_ref.and_then(|r| graph.manifests.get(r).copied()))
        .or(inherited);
    if let Some(mut read) = component
        .purl
        .as_deref()
        .and_then(|purl| super::components::from_purl(purl, manifest))
    {
        read.scope = match property("posture:scope").and_then(|s| s.parse().ok()) {
            Some(scope) => scope,
            None if component.scope.as_deref() == Some("excluded") => ComponentScope::Dev,
            None => ComponentScope::Runtime,
        };
        read.direct = match property("posture:direct") {
            Some("true") => Some(true),
            Some("false") => Some(false),
            _ => bom_ref.and_then(|r| direct.get(r).copied()),
        };
        read.licenses = licenses(&component.licenses);
        listed.push(read);
    }
    let inner = manifest_name(component).or(manifest);
    for child in &component.components {
        collect(child, inner, graph, direct, listed);
    }
}

/// Declared and concluded licences, each several joined as one.
fn licenses(choices: &[LicenseChoice]) -> Licenses {
    let mut declared = Vec::new();
    let mut concluded = Vec::new();
    for choice in choices {
        let (text, acknowledgement) = match (&choice.expression, &choice.license) {
            (Some(expression), _) => (Some(expression.as_str()), &choice.acknowledgement),
            (None, Some(license)) => (
                license.id.as_deref().or(license.name.as_deref()),
                &license.acknowledgement,
            ),
            (None, None) => (None, &None),
        };
        let Some(text) = text else { continue };
        match acknowledgement.as_deref() {
            Some("concluded") => concluded.push(text),
            _ => declared.push(text),
        }
    }
    Licenses {
        declared: super::components::join_licenses(declared),
        concluded: super::components::join_licenses(concluded),
    }
}

fn tool_name(bom: &Bom) -> String {
    let tools: Vec<&Tool> = match bom.metadata.as_ref().and_then(|m| m.tools.as_ref()) {
        Some(Tools::List(list)) => list.iter().collect(),
        Some(Tools::Object {
            components,
            services,
        }) => components.iter().chain(services).collect(),
        None => Vec::new(),
    };
    tools
        .iter()
        .filter_map(|t| t.name.as_deref())
        .map(str::trim)
        .find(|n| !n.is_empty())
        .unwrap_or(DEFAULT_TOOL)
        .to_string()
}

/// The components by `bom-ref`, and the manifest (`application` component) of each.
struct Graph<'a> {
    components: HashMap<&'a str, &'a Component>,
    manifests: HashMap<&'a str, &'a str>,
}

impl<'a> Graph<'a> {
    fn new(bom: &'a Bom) -> Graph<'a> {
        let mut graph = Graph {
            components: HashMap::new(),
            manifests: HashMap::new(),
        };
        // The subject of the document is the project, not a manifest in it.
        let root = bom.metadata.as_ref().and_then(|m| m.component.as_ref());
        if let Some(root) = root {
            graph.add(root, None, false);
        }
        for component in &bom.components {
            graph.add(component, None, true);
        }
        let root_ref = root.and_then(|r| r.bom_ref.as_deref());
        for dependency in &bom.dependencies {
            if Some(dependency.reference.as_str()) == root_ref {
                continue;
            }
            let Some(parent) = graph.components.get(dependency.reference.as_str()) else {
                continue;
            };
            if let Some(manifest) = manifest_name(parent) {
                for child in &dependency.depends_on {
                    graph.manifests.entry(child.as_str()).or_insert(manifest);
                }
            }
        }
        graph
    }

    fn add(&mut self, component: &'a Component, manifest: Option<&'a str>, may_be_manifest: bool) {
        if let Some(bom_ref) = component.bom_ref.as_deref() {
            self.components.entry(bom_ref).or_insert(component);
            if let Some(manifest) = manifest {
                self.manifests.entry(bom_ref).or_insert(manifest);
            }
        }
        let inner = may_be_manifest
            .then(|| manifest_name(component))
            .flatten()
            .or(manifest);
        for child in &component.components {
            self.add(child, inner, true);
        }
    }

    /// The component `reference` names, by `bom-ref` or BOM-Link (`urn:cdx:…/1#bom-ref`),
    /// with its `bom-ref`.
    fn component(&self, reference: &str) -> Option<(&'a str, &'a Component)> {
        let key = if self.components.contains_key(reference) {
            reference
        } else {
            reference.rsplit_once('#')?.1
        };
        let (key, component) = self.components.get_key_value(key)?;
        Some((*key, *component))
    }
}

/// The name of an `application` component that names a file (`package-lock.json`,
/// `app/requirements.txt`).
fn manifest_name(component: &Component) -> Option<&str> {
    let is_file = component.name.contains('.') || component.name.contains('/');
    (component.kind.as_deref() == Some("application") && is_file).then_some(&*component.name)
}

fn finding(tool: &str, graph: &Graph<'_>, vuln: &Vulnerability, affects: &Affects) -> Finding {
    let reference = affects.reference.as_str();
    let component = graph.component(reference);
    let mut package = package(component.map(|(_, c)| c), reference);
    package.manifest = component
        .and_then(|(key, _)| graph.manifests.get(key))
        .map(|m| m.to_string());

    let ids =
        std::iter::once(vuln.id.as_str()).chain(vuln.references.iter().map(|r| r.id.as_str()));
    let rule = preferred_id(ids)
        .unwrap_or("CycloneDX vulnerability")
        .to_string();
    let kind = match &package.ecosystem {
        Ecosystem::Other(os) if matches!(os.as_str(), "Debian" | "Alpine" | "RPM") => {
            Kind::Container
        }
        _ => Kind::Sca,
    };
    let mut finding = Finding::new(kind, tool, rule.clone());
    finding.title = format!("{rule} in {}", package.name);
    finding.message = message(vuln, &finding.title);
    let (score, vector) = score(&vuln.ratings);
    finding.score = score;
    for rating in &vuln.ratings {
        if let Some(vector) = rating.vector.as_deref().map(str::trim)
            && !vector.is_empty()
            && !finding.cvss_vectors.iter().any(|v| v == vector)
        {
            finding.cvss_vectors.push(vector.to_string());
        }
    }
    finding.severity = severity(&vuln.ratings, score);
    finding.cwes = vuln
        .cwes
        .iter()
        .filter_map(Scalar::as_f64)
        .filter(|n| n.fract() == 0.0 && *n > 0.0 && *n <= f64::from(u32::MAX))
        .map(|n| n as u32)
        .collect();
    let url = vuln
        .source
        .as_ref()
        .and_then(|s| s.url.clone())
        .or_else(|| vuln.advisories.iter().find_map(|a| a.url.clone()))
        .filter(|u| !u.trim().is_empty());
    let (affected, affected_versions) = affected(affects);
    let mut aliases: Vec<String> = Vec::new();
    for reference in &vuln.references {
        let id = reference.id.trim();
        if !id.is_empty() && id != vuln.id && !aliases.iter().any(|a| a == id) {
            aliases.push(id.to_string());
        }
    }
    finding.advisories = vec![Advisory {
        id: vuln.id.clone(),
        aliases,
        summary: None,
        url: url.clone(),
        cvss_score: score,
        cvss_vector: vector,
        affected,
        affected_versions,
    }];
    finding.help_uri = url;
    finding.suppressed = vuln
        .analysis
        .as_ref()
        .and_then(|a| a.state.as_deref())
        .is_some_and(|s| matches!(s, "not_affected" | "false_positive"));
    finding.location = package.manifest.as_deref().map(Location::new);
    finding.package = Some(Box::new(package));
    finding
}

/// The package a component (else the reference itself, when it is a package URL) names.
fn package(component: Option<&Component>, reference: &str) -> Package {
    let from_purl = component
        .and_then(|c| c.purl.as_deref())
        .and_then(Package::from_purl)
        .or_else(|| Package::from_purl(reference));
    let mut package = from_purl.unwrap_or_else(|| {
        let name = match component {
            Some(c) => match c.group.as_deref().filter(|g| !g.is_empty()) {
                Some(group) => format!("{group}/{}", c.name),
                None => c.name.clone(),
            },
            None => reference.to_string(),
        };
        Package {
            ecosystem: Ecosystem::Other("unknown".to_string()),
            name,
            version: None,
            manifest: None,
        }
    });
    if let Some(version) = component.and_then(|c| c.version.clone()) {
        if !version.trim().is_empty() {
            package.version = Some(version);
        }
    }
    package
}

/// Description, detail, recommendation and the VEX analysis.
fn message(vuln: &Vulnerability, title: &str) -> String {
    let mut parts: Vec<String> = [&vuln.description, &vuln.detail]
        .into_iter()
        .filter_map(|p| p.as_deref().map(str::trim))
        .filter(|p| !p.is_empty())
        .map(str::to_string)
        .collect();
    if let Some(recommendation) = vuln.recommendation.as_deref().map(str::trim) {
        if !recommendation.is_empty() {
            parts.push(format!("Recommendation: {recommendation}"));
        }
    }
    if let Some(analysis) = &vuln.analysis {
        if let Some(state) = analysis.state.as_deref() {
            let mut line = format!("Analysis: {state}");
            if let Some(justification) = analysis.justification.as_deref() {
                line.push_str(&format!(" ({justification})"));
            }
            if let Some(detail) = analysis.detail.as_deref().map(str::trim) {
                if !detail.is_empty() {
                    line.push_str(&format!(": {detail}"));
                }
            }
            parts.push(line);
        }
    }
    if parts.is_empty() {
        title.to_string()
    } else {
        parts.join("\n\n")
    }
}

/// CVSS methods, most preferred first.
const CVSS_METHODS: [&str; 4] = ["CVSSv31", "CVSSv3", "CVSSv4", "CVSSv2"];

/// The score and vector of the preferred CVSS rating.
fn score(ratings: &[Rating]) -> (Option<f64>, Option<String>) {
    for method in CVSS_METHODS {
        let best = ratings
            .iter()
            .filter(|r| r.method.as_deref() == Some(method))
            .filter_map(|r| {
                let vector = r.vector.clone().filter(|v| !v.trim().is_empty());
                let score = r
                    .score
                    .as_ref()
                    .and_then(Scalar::as_f64)
                    .filter(|s| (0.0..=10.0).contains(s))
                    .or_else(|| cvss_base_score(vector.as_deref()?))?;
                Some((score, vector))
            })
            .max_by(|a, b| a.0.total_cmp(&b.0));
        if let Some((score, vector)) = best {
            return (Some(score), vector);
        }
    }
    (None, None)
}

fn severity(ratings: &[Rating], score: Option<f64>) -> Severity {
    let named = ratings
        .iter()
        .filter_map(|r| r.severity.as_deref())
        .filter(|s| !s.trim().eq_ignore_ascii_case("unknown"))
        .filter_map(|s| s.parse::<Severity>().ok())
        .max();
    named
        .or_else(|| score.map(Severity::from_cvss))
        .unwrap_or(Severity::Medium)
}

/// The ranges and versions `affects[].versions` lists as affected (the default status).
fn affected(affects: &Affects) -> (Vec<AffectedRange>, Vec<String>) {
    let mut ranges = Vec::new();
    let mut versions = Vec::new();
    for entry in &affects.versions {
        if entry.status.as_deref().is_some_and(|s| s != "affected") {
            continue;
        }
        if let Some(version) = entry.version.as_deref().map(str::trim) {
            if !version.is_empty() {
                versions.push(version.to_string());
            }
        }
        if let Some((range, exact)) = entry.range.as_deref().and_then(vers_range) {
            ranges.extend(range);
            versions.extend(exact);
        }
    }
    (ranges, versions)
}

/// A `vers:` range (`vers:npm/>=1.0.0|<1.2.3`) as an ECOSYSTEM range and the versions it
/// names exactly (`=`). Constraints are read in order as the spec sorts them; `>v` is taken
/// as `>=v` (OSV cannot say "after v" in every ecosystem), `!=` is ignored.
fn vers_range(text: &str) -> Option<(Option<AffectedRange>, Vec<String>)> {
    let (_, constraints) = text.trim().strip_prefix("vers:")?.split_once('/')?;
    let mut events = Vec::new();
    let mut exact = Vec::new();
    let mut open = false;
    for constraint in constraints
        .split('|')
        .map(str::trim)
        .filter(|c| !c.is_empty())
    {
        let op_len = constraint
            .find(|c| !matches!(c, '<' | '>' | '=' | '!'))
            .unwrap_or(constraint.len());
        let (op, version) = constraint.split_at(op_len);
        let version = version.trim().to_string();
        match (op, version.as_str()) {
            (_, "*") => {
                events.push(RangeEvent::Introduced("0".to_string()));
                open = true;
            }
            (_, "") => return None,
            (">=" | ">", _) => {
                if !open {
                    events.push(RangeEvent::Introduced(version));
                    open = true;
                }
            }
            ("<" | "<=", _) => {
                if !open {
                    events.push(RangeEvent::Introduced("0".to_string()));
                }
                events.push(if op == "<" {
                    RangeEvent::Fixed(version)
                } else {
                    RangeEvent::LastAffected(version)
                });
                open = false;
            }
            ("" | "=", _) => exact.push(version),
            ("!=", _) => {}
            _ => return None,
        }
    }
    let range = (!events.is_empty()).then_some(AffectedRange {
        kind: RangeKind::Ecosystem,
        events,
    });
    Some((range, exact))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::{Format, detect};

    /// Besides the real documents under `fixtures/sca/cyclonedx/`, this one is written after
    /// what Trivy (`trivy fs --format cyclonedx --scanners vuln`) emits for a Node.js project —
    /// CycloneDX 1.5, tools as an object, the lockfile as an `application` component with the
    /// packages in `dependencies`, ratings from several sources — plus an OS package, a
    /// Dependency-Track style VEX analysis and a `vers:` range.
    const BOM: &str = r#"{
  "$schema": "http://cyclonedx.org/schema/bom-1.5.schema.json",
  "bomFormat": "CycloneDX",
  "specVersion": "1.5",
  "serialNumber": "urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79",
  "version": 1,
  "metadata": {
    "timestamp": "2024-05-02T09:12:44+00:00",
    "tools": {"components": [{"type": "application", "group": "aquasecurity", "name": "trivy", "version": "0.51.1"}]},
    "component": {"bom-ref": "9a2b4b4e-root", "type": "application", "name": "shop", "properties": []}
  },
  "components": [
    {"bom-ref": "3ff14136-e09f-4df9-80ea-lock", "type": "application", "name": "web/package-lock.json",
     "properties": [{"name": "aquasecurity:trivy:Class", "value": "lang-pkgs"}, {"name": "aquasecurity:trivy:Type", "value": "npm"}]},
    {"bom-ref": "pkg:npm/lodash@4.17.20", "type": "library", "name": "lodash", "version": "4.17.20",
     "purl": "pkg:npm/lodash@4.17.20"},
    {"bom-ref": "pkg:npm/%40babel/traverse@7.22.5", "type": "library", "group": "@babel", "name": "traverse",
     "version": "7.22.5", "purl": "pkg:npm/%40babel/traverse@7.22.5"},
    {"bom-ref": "pkg:deb/debian/openssl@1.1.1n-0%2Bdeb11u3?arch=amd64&distro=debian-11.6", "type": "library",
     "name": "openssl", "version": "1.1.1n-0+deb11u3",
     "purl": "pkg:deb/debian/openssl@1.1.1n-0%2Bdeb11u3?arch=amd64&distro=debian-11.6"}
  ],
  "dependencies": [
    {"ref": "9a2b4b4e-root", "dependsOn": ["3ff14136-e09f-4df9-80ea-lock"]},
    {"ref": "3ff14136-e09f-4df9-80ea-lock", "dependsOn": ["pkg:npm/lodash@4.17.20", "pkg:npm/%40babel/traverse@7.22.5"]},
    {"ref": "pkg:npm/lodash@4.17.20", "dependsOn": []}
  ],
  "vulnerabilities": [
    {
      "id": "CVE-2021-23337",
      "source": {"name": "ghsa", "url": "https://github.com/advisories/GHSA-35jh-r3h4-6jhm"},
      "references": [{"id": "GHSA-35jh-r3h4-6jhm", "source": {"name": "GitHub Security Advisories", "url": "https://github.com/advisories/GHSA-35jh-r3h4-6jhm"}}],
      "ratings": [
        {"source": {"name": "ghsa"}, "score": 7.2, "severity": "high", "method": "CVSSv31", "vector": "CVSS:3.1/AV:N/AC:L/PR:H/UI:N/S:U/C:H/I:H/A:H"},
        {"source": {"name": "nvd"}, "score": 6.5, "severity": "medium", "method": "CVSSv2", "vector": "AV:N/AC:L/Au:S/C:P/I:P/A:P"},
        {"source": {"name": "nvd"}, "score": 7.2, "severity": "high", "method": "CVSSv31", "vector": "CVSS:3.1/AV:N/AC:L/PR:H/UI:N/S:U/C:H/I:H/A:H"}
      ],
      "cwes": [77, 94],
      "description": "Lodash versions prior to 4.17.21 are vulnerable to Command Injection via the template function.",
      "recommendation": "Upgrade lodash to version 4.17.21",
      "advisories": [{"url": "https://nvd.nist.gov/vuln/detail/CVE-2021-23337"}],
      "published": "2021-02-15T13:15:00+00:00",
      "affects": [{"ref": "pkg:npm/lodash@4.17.20",
                   "versions": [{"version": "4.17.20", "status": "affected"},
                                {"range": "vers:npm/<4.17.21", "status": "affected"},
                                {"version": "4.17.21", "status": "unaffected"}]}]
    },
    {
      "id": "GHSA-67hx-6x53-jw92",
      "references": [{"id": "CVE-2023-45133"}],
      "ratings": [{"method": "CVSSv31", "vector": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"},
                  {"severity": "unknown", "method": "other"}],
      "description": "Babel vulnerable to arbitrary code execution when compiling specifically crafted malicious code",
      "affects": [{"ref": "urn:cdx:3e671687-395b-41f5-a30f-a58921a69b79/1#pkg:npm/%40babel/traverse@7.22.5",
                   "versions": [{"range": "vers:npm/>=8.0.0-alpha.0|<8.0.0-alpha.4"}, {"range": "vers:npm/<7.23.2"}]}],
      "analysis": {"state": "not_affected", "justification": "code_not_reachable", "detail": "Only used at build time."}
    },
    {
      "id": "CVE-2023-0464",
      "ratings": [{"source": {"name": "debian"}, "severity": "low"}, {"source": {"name": "nvd"}, "score": 7.5, "method": "CVSSv31"}],
      "affects": [{"ref": "pkg:deb/debian/openssl@1.1.1n-0%2Bdeb11u3?arch=amd64&distro=debian-11.6"}],
      "analysis": {"state": "in_triage"}
    },
    {
      "id": "CVE-2024-0001",
      "affects": [{"ref": "pkg:pypi/requests@2.25.0"}]
    },
    {
      "id": "CVE-2024-0002",
      "affects": []
    }
  ]
}"#;

    fn parsed() -> Parsed {
        parse(BOM.as_bytes()).unwrap()
    }

    #[test]
    fn one_finding_per_vulnerability_and_affected_component() {
        let parsed = parsed();
        assert_eq!(parsed.tools, vec!["trivy"]);
        assert_eq!(parsed.findings.len(), 4);
        assert_eq!(
            parsed.warnings,
            vec!["CycloneDX: vulnerability CVE-2024-0002 names no affected component; skipped"]
        );
        let lodash = &parsed.findings[0];
        assert_eq!(lodash.kind, Kind::Sca);
        assert_eq!(lodash.tools, vec!["trivy"]);
        assert_eq!(lodash.rule, "CVE-2021-23337");
        assert_eq!(lodash.title, "CVE-2021-23337 in lodash");
        assert_eq!(lodash.severity, Severity::High);
        assert_eq!(lodash.score, Some(7.2), "CVSSv31 preferred over CVSSv2");
        assert_eq!(lodash.cwes, vec![77, 94]);
        assert_eq!(
            lodash.message,
            "Lodash versions prior to 4.17.21 are vulnerable to Command Injection via the \
             template function.\n\nRecommendation: Upgrade lodash to version 4.17.21"
        );
        assert!(!lodash.suppressed);
        assert_eq!(
            lodash.help_uri.as_deref(),
            Some("https://github.com/advisories/GHSA-35jh-r3h4-6jhm")
        );
        assert_eq!(lodash.path(), Some("web/package-lock.json"));
        let package = lodash.package.as_ref().unwrap();
        assert_eq!(package.ecosystem, Ecosystem::Npm);
        assert_eq!(package.name, "lodash");
        assert_eq!(package.version.as_deref(), Some("4.17.20"));
        assert_eq!(package.manifest.as_deref(), Some("web/package-lock.json"));
        let advisory = &lodash.advisories[0];
        assert_eq!(advisory.id, "CVE-2021-23337");
        assert_eq!(advisory.aliases, vec!["GHSA-35jh-r3h4-6jhm"]);
        assert_eq!(
            advisory.cvss_vector.as_deref(),
            Some("CVSS:3.1/AV:N/AC:L/PR:H/UI:N/S:U/C:H/I:H/A:H")
        );
        assert_eq!(advisory.affected_versions, vec!["4.17.20"]);
        assert_eq!(
            advisory.affected,
            vec![AffectedRange {
                kind: RangeKind::Ecosystem,
                events: vec![
                    RangeEvent::Introduced("0".into()),
                    RangeEvent::Fixed("4.17.21".into())
                ]
            }]
        );
    }

    #[test]
    fn vex_analysis_bom_links_and_computed_scores() {
        let parsed = parsed();
        let babel = &parsed.findings[1];
        assert_eq!(
            babel.rule, "CVE-2023-45133",
            "CVE among the references preferred"
        );
        assert!(babel.suppressed, "not_affected");
        assert_eq!(babel.score, Some(9.8), "computed from the vector");
        assert_eq!(babel.severity, Severity::Critical, "`unknown` ignored");
        assert!(
            babel
                .message
                .ends_with("Analysis: not_affected (code_not_reachable): Only used at build time."),
            "{}",
            babel.message
        );
        let package = babel.package.as_ref().unwrap();
        assert_eq!(package.name, "@babel/traverse");
        assert_eq!(package.version.as_deref(), Some("7.22.5"));
        assert_eq!(
            package.manifest.as_deref(),
            Some("web/package-lock.json"),
            "through the BOM-Link"
        );
        let ranges = &babel.advisories[0].affected;
        assert_eq!(ranges.len(), 2);
        assert_eq!(
            ranges[0].events,
            vec![
                RangeEvent::Introduced("8.0.0-alpha.0".into()),
                RangeEvent::Fixed("8.0.0-alpha.4".into())
            ]
        );

        let openssl = &parsed.findings[2];
        assert_eq!(openssl.kind, Kind::Container, "an OS package");
        assert_eq!(openssl.severity, Severity::Low, "the named severity wins");
        assert_eq!(openssl.score, Some(7.5));
        assert!(!openssl.suppressed, "in_triage");
        assert_eq!(openssl.location, None);
        let package = openssl.package.as_ref().unwrap();
        assert_eq!(package.name, "debian/openssl");
        assert_eq!(package.version.as_deref(), Some("1.1.1n-0+deb11u3"));

        let requests = &parsed.findings[3];
        assert_eq!(requests.severity, Severity::Medium, "no rating");
        assert_eq!(requests.message, "CVE-2024-0001 in requests");
        let package = requests.package.as_ref().unwrap();
        assert_eq!(
            package.ecosystem,
            Ecosystem::PyPI,
            "the ref is a package URL"
        );
        assert_eq!(package.version.as_deref(), Some("2.25.0"));
    }

    #[test]
    fn tools_of_cyclonedx_1_4_and_none() {
        let parsed = parse(
            br#"{"bomFormat":"CycloneDX","specVersion":"1.4",
                 "metadata":{"tools":[{"vendor":"anchore","name":"grype","version":"0.74.0"}]},
                 "components":[{"bom-ref":"c1","type":"library","name":"left-pad","version":"1.0.0"}],
                 "vulnerabilities":[{"id":"X-1","affects":[{"ref":"c1"}],"ratings":[{"score":5.0,"method":"CVSSv3"}]}]}"#,
        )
        .unwrap();
        assert_eq!(parsed.tools, vec!["grype"]);
        let finding = &parsed.findings[0];
        assert_eq!(finding.severity, Severity::Medium, "from the score");
        let package = finding.package.as_ref().unwrap();
        assert_eq!(package.name, "left-pad");
        assert_eq!(package.ecosystem, Ecosystem::Other("unknown".into()));
        let sbom =
            parse(br#"{"bomFormat":"CycloneDX","specVersion":"1.6","components":[]}"#).unwrap();
        assert_eq!(sbom.tools, vec!["CycloneDX"]);
        assert!(sbom.findings.is_empty(), "an SBOM without vulnerabilities");
    }

    #[test]
    fn vers_ranges() {
        let (range, exact) = vers_range("vers:pypi/>=1.0|<=1.4|>=2.0|<2.1|=3.0|!=3.1").unwrap();
        assert_eq!(exact, vec!["3.0"]);
        assert_eq!(
            range.unwrap().events,
            vec![
                RangeEvent::Introduced("1.0".into()),
                RangeEvent::LastAffected("1.4".into()),
                RangeEvent::Introduced("2.0".into()),
                RangeEvent::Fixed("2.1".into())
            ]
        );
        assert_eq!(
            vers_range("vers:maven/*").unwrap().0.unwrap().events,
            vec![RangeEvent::Introduced("0".into())]
        );
        assert_eq!(
            vers_range("vers:npm/1.2.3").unwrap(),
            (None, vec!["1.2.3".into()])
        );
        assert!(vers_range(">=1.0").is_none());
        assert!(vers_range("vers:npm/>=").is_none());
    }

    #[test]
    fn detected_as_cyclonedx() {
        assert_eq!(detect(BOM.as_bytes()), Some(Format::CycloneDx));
        assert_eq!(
            detect(br#"{"bomFormat":"SPDX","dependencies":[]}"#),
            None,
            "another bomFormat"
        );
    }

    const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/sca/cyclonedx/");

    fn fixture(name: &str) -> Parsed {
        let bytes = std::fs::read(format!("{FIXTURES}{name}")).unwrap();
        assert_eq!(detect(&bytes), Some(Format::CycloneDx), "{name}");
        parse(&bytes).unwrap()
    }

    #[test]
    fn real_documents_are_detected_and_parse() {
        // Counted in the JSON: one finding per vulnerability and `affects` entry.
        for (name, tool, count) in [
            ("dd_log4j.json", "grype", 8),
            ("dd_nested-component-log4j.json", "grype", 8),
            ("dd_valid-vulnerability-1.4.json", "CycloneDX", 1),
            ("dd_cyclonedx_cwe.json", "CycloneDX", 1),
            ("dd_no-severity.json", "CycloneDX", 1),
        ] {
            let parsed = fixture(name);
            assert_eq!(parsed.tools, vec![tool], "{name}");
            assert_eq!(parsed.findings.len(), count, "{name}");
            assert!(parsed.warnings.is_empty(), "{name}: {:?}", parsed.warnings);
            assert!(
                parsed.findings.iter().all(|f| f.kind == Kind::Sca),
                "{name}"
            );
        }
    }

    /// Grype's CycloneDX 1.4 output for log4j-core 2.13.2: NVD CVEs (a named severity plus
    /// CVSSv2 and CVSSv31 scores) and GitHub advisories (a named severity only), all
    /// `in_triage`.
    #[test]
    fn dd_log4j_from_grype() {
        let parsed = fixture("dd_log4j.json");
        let summary: Vec<(&str, Severity, Option<f64>)> = parsed
            .findings
            .iter()
            .map(|f| (f.rule.as_str(), f.severity, f.score))
            .collect();
        assert_eq!(
            summary,
            vec![
                ("CVE-2021-44228", Severity::Critical, Some(10.0)),
                ("CVE-2021-44832", Severity::Medium, Some(6.6)),
                ("CVE-2021-45046", Severity::Critical, Some(9.0)),
                ("CVE-2021-45105", Severity::Medium, Some(5.9)),
                ("GHSA-7rjr-3q55-vv33", Severity::Critical, None),
                ("GHSA-8489-44mv-ggj8", Severity::Medium, None),
                ("GHSA-jfh8-c2jp-5v3q", Severity::Critical, None),
                ("GHSA-p6xc-xr62-6r2g", Severity::High, None),
            ]
        );
        for finding in &parsed.findings {
            assert!(!finding.suppressed, "in_triage is reported");
            assert_eq!(finding.location, None, "no application component");
            let package = finding.package.as_ref().unwrap();
            assert_eq!(package.ecosystem, Ecosystem::Maven);
            assert_eq!(package.name, "org.apache.logging.log4j:log4j-core");
            assert_eq!(package.version.as_deref(), Some("2.13.2"));
        }
        let log4shell = &parsed.findings[0];
        assert_eq!(
            log4shell.title,
            "CVE-2021-44228 in org.apache.logging.log4j:log4j-core"
        );
        assert_eq!(
            log4shell.advisories[0].cvss_vector.as_deref(),
            Some("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H"),
            "CVSSv31 preferred over CVSSv2"
        );
        assert_eq!(
            log4shell.help_uri.as_deref(),
            Some("http://cve.mitre.org/cgi-bin/cvename.cgi?name=CVE-2021-44228")
        );
        assert!(log4shell.message.ends_with("Analysis: in_triage"));
    }

    /// The same document with log4j-core nested inside a `container` component.
    #[test]
    fn dd_nested_component_reads_as_the_flat_one() {
        let nested = fixture("dd_nested-component-log4j.json");
        let flat = fixture("dd_log4j.json");
        assert_eq!(nested.findings, flat.findings);
    }

    /// The CycloneDX 1.4 specification's vulnerability example: a VEX `not_affected`
    /// analysis, a Snyk id with a CVE reference, an `affects` ref naming a version that no
    /// component has, `vers:` ranges.
    #[test]
    fn dd_valid_vulnerability_not_affected_is_suppressed() {
        let parsed = fixture("dd_valid-vulnerability-1.4.json");
        let finding = &parsed.findings[0];
        assert!(finding.suppressed, "not_affected");
        assert_eq!(finding.rule, "CVE-2018-7489", "the CVE reference preferred");
        assert_eq!(finding.severity, Severity::Critical);
        assert_eq!(finding.score, Some(9.8));
        assert_eq!(finding.cwes, vec![184, 502]);
        assert!(
            finding.message.ends_with(
                "Analysis: not_affected (code_not_reachable): An optional explanation of why \
                 the application is not affected by the vulnerable component."
            ),
            "{}",
            finding.message
        );
        assert!(finding.message.contains(
            "Recommendation: Upgrade com.fasterxml.jackson.core:jackson-databind to version \
             2.6.7.5, 2.8.11.1, 2.9.5 or higher."
        ));
        let package = finding.package.as_ref().unwrap();
        assert_eq!(package.ecosystem, Ecosystem::Maven);
        assert_eq!(package.name, "com.fasterxml.jackson.core:jackson-databind");
        assert_eq!(
            package.version.as_deref(),
            Some("2.9.9"),
            "from the ref's package URL, not the 2.9.4 component"
        );
        let advisory = &finding.advisories[0];
        assert_eq!(advisory.id, "SNYK-JAVA-COMFASTERXMLJACKSONCORE-32111");
        assert_eq!(advisory.aliases, vec!["CVE-2018-7489"]);
        // `2.7.0|<2.8.11.1` is, as the vers spec reads it, 2.7.0 exactly or below 2.8.11.1.
        assert_eq!(advisory.affected_versions, vec!["2.7.0", "2.9.0"]);
        let fixed: Vec<&[RangeEvent]> = advisory.affected.iter().map(|r| &r.events[..]).collect();
        assert_eq!(
            fixed,
            vec![
                &[
                    RangeEvent::Introduced("0".into()),
                    RangeEvent::Fixed("2.6.7.5".into())
                ][..],
                &[
                    RangeEvent::Introduced("0".into()),
                    RangeEvent::Fixed("2.8.11.1".into())
                ][..],
                &[
                    RangeEvent::Introduced("0".into()),
                    RangeEvent::Fixed("2.9.5".into())
                ][..],
            ]
        );
    }

    /// Minified, no components nor tools, affects refs that are not package URLs.
    #[test]
    fn dd_cwe_and_no_severity() {
        let cwe = fixture("dd_cyclonedx_cwe.json");
        let h2 = &cwe.findings[0];
        assert_eq!(h2.rule, "CVE-2018-10054");
        assert_eq!(h2.severity, Severity::High, "the highest named severity");
        assert_eq!(h2.score, Some(8.8), "CVSSv3 preferred over CVSSv2");
        assert_eq!(h2.cwes, vec![20]);
        assert!(!h2.suppressed);
        let package = h2.package.as_ref().unwrap();
        assert_eq!(package.ecosystem, Ecosystem::Other("unknown".into()));
        assert_eq!(package.name, "maven:com.h2database:h2:2.1.210:");
        assert_eq!(package.version, None);

        let no_severity = fixture("dd_no-severity.json");
        let log4shell = &no_severity.findings[0];
        assert_eq!(log4shell.rule, "CVE-2021-44228");
        assert_eq!(log4shell.score, Some(10.0));
        assert_eq!(log4shell.severity, Severity::Critical, "from the score");
        assert_eq!(
            log4shell.package.as_ref().unwrap().name,
            "gerbwetbqt",
            "a dangling ref"
        );
        assert_eq!(
            log4shell.help_uri.as_deref(),
            Some("https://nvd.nist.gov/vuln/detail/CVE-2021-44228")
        );
    }

    #[test]
    fn malformed_and_wrong_shape() {
        let error = crate::ingest::parse(
            "bom.json",
            &BOM.as_bytes()[..3000],
            &crate::ingest::SecretHasher::default(),
        )
        .unwrap_err();
        assert_eq!(error.format, Some(Format::CycloneDx));
        assert!(error.position.unwrap().starts_with("line "));
        let error = parse(
            br#"{"bomFormat":"CycloneDX","vulnerabilities":[{"id":"X","affects":[{"ref":7}]}]}"#,
        )
        .unwrap_err();
        assert_eq!(
            error.position.as_deref(),
            Some("$.vulnerabilities[0].affects[0].ref")
        );
    }

    #[test]
    fn components_with_manifests_and_directness() {
        let parsed = parsed();
        let summary: Vec<(&str, Option<&str>, Option<bool>)> = parsed
            .components
            .iter()
            .map(|c| (c.purl.as_str(), c.package.manifest.as_deref(), c.direct))
            .collect();
        assert_eq!(
            summary,
            vec![
                (
                    "pkg:npm/lodash@4.17.20",
                    Some("web/package-lock.json"),
                    Some(true)
                ),
                (
                    "pkg:npm/%40babel/traverse@7.22.5",
                    Some("web/package-lock.json"),
                    Some(true)
                ),
                (
                    "pkg:deb/debian/openssl@1.1.1n-0%2Bdeb11u3?arch=amd64&distro=debian-11.6",
                    None,
                    None
                ),
            ]
        );
        let nested = fixture("dd_nested-component-log4j.json");
        let purls: Vec<&str> = nested.components.iter().map(|c| c.purl.as_str()).collect();
        assert_eq!(
            purls,
            vec![
                "pkg:oci/testcontainer?repository_url=testregistry.test",
                "pkg:maven/org.apache.logging.log4j/log4j-core@2.13.2"
            ],
            "nested components too"
        );
    }

    #[test]
    fn component_licences_scopes_and_properties() {
        let parsed = parse(
            br#"{"bomFormat":"CycloneDX","specVersion":"1.6","components":[
              {"type":"library","name":"a","purl":"pkg:npm/a@1","scope":"excluded",
               "licenses":[{"license":{"id":"MIT","acknowledgement":"declared"}},
                           {"license":{"name":"Acme licence","acknowledgement":"concluded"}}]},
              {"type":"library","name":"b","purl":"pkg:npm/b@1",
               "licenses":[{"expression":"MIT OR Apache-2.0","acknowledgement":"concluded"}],
               "properties":[{"name":"posture:scope","value":"test"},{"name":"posture:manifest","value":"web/package.json"},
                             {"name":"posture:direct","value":"false"}]},
              {"type":"library","name":"c","purl":"pkg:npm/c@1","licenses":[{"license":{"id":"ISC"}},{"license":{"name":"BSD"}}]},
              {"type":"library","name":"no purl"}]}"#,
        )
        .unwrap();
        let [a, b, c] = &parsed.components[..] else {
            panic!("{:?}", parsed.components)
        };
        assert_eq!(a.scope, ComponentScope::Dev, "excluded");
        assert_eq!(a.licenses.declared.as_deref(), Some("MIT"));
        assert_eq!(a.licenses.concluded.as_deref(), Some("Acme licence"));
        assert_eq!(b.scope, ComponentScope::Test);
        assert_eq!(b.package.manifest.as_deref(), Some("web/package.json"));
        assert_eq!(b.direct, Some(false));
        assert_eq!(b.licenses.concluded.as_deref(), Some("MIT OR Apache-2.0"));
        assert_eq!(b.licenses.declared, None);
        assert_eq!(c.scope, ComponentScope::Runtime);
        assert_eq!(c.licenses.declared.as_deref(), Some("ISC, BSD"));
    }

    /// posture's own CycloneDX export read back.
    #[test]
    fn posture_export_reads_back() {
        use crate::inventory::sbom::{SbomFormat, Subject, write};
        use chrono::TimeZone;
        let make = |name: &str, scope: ComponentScope, direct: bool| {
            let mut c = model::Component::new(
                Package {
                    ecosystem: Ecosystem::Maven,
                    name: name.into(),
                    version: Some("2.0".into()),
                    manifest: Some("pom.xml".into()),
                },
                scope,
            )
            .unwrap();
            c.direct = Some(direct);
            c
        };
        let mut core = make("org.acme:core", ComponentScope::Runtime, true);
        core.licenses = Licenses {
            declared: Some("Apache License 2.0".into()),
            concluded: Some("Apache-2.0".into()),
        };
        let mut util = make("org.acme:util", ComponentScope::Runtime, false);
        util.chain = vec!["org.acme:core@2.0".into(), "org.acme:util@2.0".into()];
        util.licenses.declared = Some("MIT OR Apache-2.0".into());
        let junit = make("junit:junit", ComponentScope::Test, true);
        let written = vec![core, util, junit];
        let subject = Subject {
            name: "acme/app",
            revision: "deadbeef",
            created: chrono::Utc
                .with_ymd_and_hms(2026, 1, 2, 3, 4, 5)
                .single()
                .unwrap(),
        };
        let bom = write(SbomFormat::Cyclonedx, &subject, &written);
        let bytes = serde_json::to_vec(&bom).unwrap();
        assert_eq!(detect(&bytes), Some(Format::CycloneDx));
        let parsed = parse(&bytes).unwrap();
        assert_eq!(parsed.tools, vec!["posture"]);
        let mut read = parsed.components;
        for c in &mut read {
            c.chain.clear();
        }
        let mut expected = written;
        for c in &mut expected {
            c.chain.clear();
        }
        read.sort_by(|a, b| a.purl.cmp(&b.purl));
        expected.sort_by(|a, b| a.purl.cmp(&b.purl));
        assert_eq!(read, expected);
    }
}
