//! SPDX 2.x JSON documents (SPDX 2.3 as syft, Trivy, the GitHub dependency graph export and
//! posture itself write them): their packages as components. An SPDX document carries no
//! findings.
//!
//! | SPDX | component |
//! |---|---|
//! | a package with an `externalRefs` `PACKAGE-MANAGER` `purl` (not the document's subject) | a component of that package URL; `versionInfo` when the package URL has no version; packages without one are left out |
//! | `licenseDeclared` / `licenseConcluded` | declared / concluded licence (`NOASSERTION` is none) |
//! | the subject (`DESCRIBES`, `documentDescribes`) `DEPENDS_ON` it (or it is a `…DEPENDENCY_OF` the subject) | direct |
//! | only other packages depend on it | transitive |
//! | it is a `DEV_DEPENDENCY_OF` or `BUILD_DEPENDENCY_OF` / `TEST_DEPENDENCY_OF` something | scope dev / test |
//! | `sourceInfo` `<scope> dependency listed in <manifest>` (posture's export) | scope and manifest |
//!
//! The tool is the last `Tool:` creator of `creationInfo` without its version (GitHub's
//! export names protobom, the library that wrote it, first), else `SPDX`.

use std::collections::{HashMap, HashSet};

use serde::Deserialize;

use super::Parsed;
use super::components;
use super::json::{self, JsonError, null_as_default};
use crate::model::{Component, ComponentScope};

/// The tool name when the document names none.
const DEFAULT_TOOL: &str = "SPDX";

const DOCUMENT_ID: &str = "SPDXRef-DOCUMENT";

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Document {
    #[serde(default)]
    spdx_version: String,
    #[serde(default)]
    creation_info: Option<CreationInfo>,
    #[serde(default, deserialize_with = "null_as_default")]
    document_describes: Vec<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    packages: Vec<Package>,
    #[serde(default, deserialize_with = "null_as_default")]
    relationships: Vec<Relationship>,
}

#[derive(Debug, Deserialize)]
struct CreationInfo {
    #[serde(default, deserialize_with = "null_as_default")]
    creators: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Package {
    #[serde(default, rename = "SPDXID")]
    spdx_id: String,
    #[serde(default)]
    version_info: Option<String>,
    #[serde(default)]
    license_declared: Option<String>,
    #[serde(default)]
    license_concluded: Option<String>,
    #[serde(default)]
    source_info: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    external_refs: Vec<ExternalRef>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ExternalRef {
    #[serde(default)]
    reference_category: String,
    #[serde(default)]
    reference_type: String,
    #[serde(default)]
    reference_locator: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Relationship {
    #[serde(default)]
    spdx_element_id: String,
    #[serde(default)]
    relationship_type: String,
    #[serde(default)]
    related_spdx_element: String,
}

pub(crate) fn parse(bytes: &[u8]) -> Result<Parsed, JsonError> {
    let document: Document = json::from_slice(bytes)?;
    let mut parsed = Parsed {
        tools: vec![tool_name(&document)],
        ..Parsed::default()
    };
    if !document.spdx_version.starts_with("SPDX-2.") {
        parsed.warnings.push(format!(
            "SPDX: version `{}` is not SPDX 2; read as SPDX 2.3",
            document.spdx_version
        ));
    }
    let graph = Graph::new(&document);
    let mut listed = Vec::new();
    let mut without_purl = 0;
    for package in &document.packages {
        if graph.subjects.contains(package.spdx_id.as_str()) {
            continue;
        }
        match component(package, &graph) {
            Some(component) => listed.push(component),
            None => without_purl += 1,
        }
    }
    if without_purl > 0 {
        parsed.warnings.push(format!(
            "SPDX: {without_purl} package(s) without a package URL skipped"
        ));
    }
    parsed.components = components::dedupe(listed);
    Ok(parsed)
}

/// What the relationships say of each package.
struct Graph<'d> {
    /// What the document describes: the project, not one of its components.
    subjects: HashSet<&'d str>,
    /// Package → whether a subject depends on it (else only other packages do).
    direct: HashMap<&'d str, bool>,
    /// Package → the scope a `DEV_…`/`TEST_DEPENDENCY_OF` gives it.
    scopes: HashMap<&'d str, ComponentScope>,
}

impl<'d> Graph<'d> {
    fn new(document: &'d Document) -> Graph<'d> {
        let mut subjects: HashSet<&str> = document
            .document_describes
            .iter()
            .map(String::as_str)
            .collect();
        for r in &document.relationships {
            match r.relationship_type.as_str() {
                "DESCRIBES" if r.spdx_element_id == DOCUMENT_ID => {
                    subjects.insert(&r.related_spdx_element);
                }
                "DESCRIBED_BY" if r.related_spdx_element == DOCUMENT_ID => {
                    subjects.insert(&r.spdx_element_id);
                }
                _ => {}
            }
        }
        // A document that describes itself (syft for a directory) has no subject package.
        subjects.remove(DOCUMENT_ID);

        let mut direct: HashMap<&str, bool> = HashMap::new();
        let mut scopes: HashMap<&str, ComponentScope> = HashMap::new();
        let mut runtime: std::collections::HashSet<&str> = std::collections::HashSet::new();
        for r in &document.relationships {
            let (parent, child) = match r.relationship_type.as_str() {
                "DEPENDS_ON" => (&r.spdx_element_id, &r.related_spdx_element),
                "DEPENDENCY_OF"
                | "DEV_DEPENDENCY_OF"
                | "TEST_DEPENDENCY_OF"
                | "BUILD_DEPENDENCY_OF"
                | "OPTIONAL_DEPENDENCY_OF"
                | "PROVIDED_DEPENDENCY_OF"
                | "RUNTIME_DEPENDENCY_OF" => (&r.related_spdx_element, &r.spdx_element_id),
                _ => continue,
            };
            match r.relationship_type.as_str() {
                "DEV_DEPENDENCY_OF" | "BUILD_DEPENDENCY_OF" => {
                    scopes.insert(child, ComponentScope::Dev);
                }
                "TEST_DEPENDENCY_OF" => {
                    scopes.entry(child).or_insert(ComponentScope::Test);
                }
                _ => {}
            }
            if subjects.contains(parent.as_str()) {
                direct.insert(child, true);
                if matches!(
                    r.relationship_type.as_str(),
                    "DEPENDS_ON" | "DEPENDENCY_OF" | "RUNTIME_DEPENDENCY_OF"
                ) {
                    runtime.insert(child);
                }
            } else {
                direct.entry(child).or_insert(false);
            }
        }
        // What the subject needs at runtime runs, whatever else needs it for development.
        scopes.retain(|id, _| !runtime.contains(id));
        Graph {
            subjects,
            direct,
            scopes,
        }
    }
}

fn component(package: &Package, graph: &Graph<'_>) -> Option<Component> {
    let purl = package.external_refs.iter().find(|r| {
        r.reference_type == "purl"
            && matches!(
                r.reference_category.as_str(),
                "PACKAGE-MANAGER" | "PACKAGE_MANAGER"
            )
    })?;
    let (scope, manifest) = posture_source(package.source_info.as_deref()).unzip();
    let mut component = components::from_purl(&purl.reference_locator, manifest)?;
    if component.package.version.is_none() {
        component.package.version = package
            .version_info
            .as_deref()
            .map(str::trim)
            .filter(|v| !v.is_empty() && *v != "NOASSERTION")
            .map(str::to_string);
        // The package URL names the version too: it is what keys the inventory's rows.
        if let Some(purl) = component
            .package
            .version
            .is_some()
            .then(|| component.package.purl())
            .flatten()
        {
            component.purl = purl;
        }
    }
    let id = package.spdx_id.as_str();
    component.scope = scope
        .or_else(|| graph.scopes.get(id).copied())
        .unwrap_or_default();
    component.direct = graph.direct.get(id).copied();
    let given = |text: &Option<String>| {
        text.as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty() && *t != "NOASSERTION")
            .map(str::to_string)
    };
    component.licenses.declared = given(&package.license_declared);
    component.licenses.concluded = given(&package.license_concluded);
    Some(component)
}

/// The scope and manifest of posture's own `sourceInfo` (`dev dependency listed in
/// web/package-lock.json`).
fn posture_source(source_info: Option<&str>) -> Option<(ComponentScope, &str)> {
    let (scope, manifest) = source_info?.split_once(" dependency listed in ")?;
    let manifest = manifest.trim();
    (!manifest.is_empty()).then_some((scope.trim().parse().ok()?, manifest))
}

fn tool_name(document: &Document) -> String {
    document
        .creation_info
        .iter()
        .flat_map(|info| &info.creators)
        .filter_map(|creator| creator.trim().strip_prefix("Tool:"))
        .map(|tool| without_version(tool.trim()))
        .rfind(|tool| !tool.is_empty())
        .unwrap_or(DEFAULT_TOOL)
        .to_string()
}

/// `syft-0.83.0` → `syft`, `protobom-v0.0.0-2025…` → `protobom`; a name without a version
/// (`GitHub.com-Dependency-Graph`) whole.
fn without_version(tool: &str) -> &str {
    let starts_version = |rest: &str| {
        let rest = rest.strip_prefix(['v', 'V']).unwrap_or(rest);
        rest.starts_with(|c: char| c.is_ascii_digit())
    };
    tool.match_indices('-')
        .find(|(at, _)| starts_version(&tool[at + 1..]))
        .map_or(tool, |(at, _)| &tool[..at])
}

#[cfg(test)]
mod tests;
