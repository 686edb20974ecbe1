//! npm: `package.json` (what is direct, and for what) and `package-lock.json` /
//! `npm-shrinkwrap.json` (lockfile versions 1 to 3, read by [`Graph::parse_npm`]: versions,
//! the graph, `dev`, `optional` and `license`).

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::analyze::lockfile::Graph;
use crate::model::ComponentScope;

use super::{Declared, Lock, NodeInfo, Unreadable};

/// The dependency lists of a `package.json`.
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct PackageJson {
    #[serde(default)]
    dependencies: Option<BTreeMap<String, serde_json::Value>>,
    #[serde(default)]
    dev_dependencies: Option<BTreeMap<String, serde_json::Value>>,
    #[serde(default)]
    optional_dependencies: Option<BTreeMap<String, serde_json::Value>>,
    #[serde(default)]
    peer_dependencies: Option<BTreeMap<String, serde_json::Value>>,
}

/// The dependencies a `package.json` declares: `dependencies`, `optionalDependencies` and
/// `peerDependencies` run (runtime), `devDependencies` are dev.
pub(super) fn manifest(text: &str) -> Result<Vec<Declared>, Unreadable> {
    let package: PackageJson = serde_json::from_str(text).map_err(|e| Unreadable::json(&e))?;
    let mut declared = Vec::new();
    for (list, scope) in [
        (&package.dependencies, ComponentScope::Runtime),
        (&package.optional_dependencies, ComponentScope::Runtime),
        (&package.peer_dependencies, ComponentScope::Runtime),
        (&package.dev_dependencies, ComponentScope::Dev),
    ] {
        for name in list.iter().flat_map(BTreeMap::keys) {
            declared.push(Declared::new(name, scope));
        }
    }
    Ok(declared)
}

/// Whether a lockfile has the `packages` map of versions 2 and 3.
#[derive(Deserialize)]
struct Packages {
    #[serde(default)]
    packages: Option<serde::de::IgnoredAny>,
}

/// A `package-lock.json` or `npm-shrinkwrap.json`. npm's `dev` flag is exact (set on what
/// only development needs), so it gives every package's scope.
pub(super) fn lock(text: &str) -> Result<Lock, Unreadable> {
    let graph = Graph::parse_npm(text)
        .map_err(|e| Unreadable::json(&e))?
        .ok_or_else(|| Unreadable {
            position: None,
            message: "neither `packages` nor `dependencies`: not a package-lock".to_string(),
        })?;
    let mut lock = Lock::from_graph(graph);
    // Version 1 has no `packages` map, and no record of the direct dependencies.
    lock.guessed = serde_json::from_str::<Packages>(text).is_ok_and(|p| p.packages.is_none());
    for (info, node) in lock.info.iter_mut().zip(lock.graph.nodes()) {
        *info = NodeInfo {
            scope: Some(if node.dev {
                ComponentScope::Dev
            } else {
                ComponentScope::Runtime
            }),
            license: node.license.clone(),
            ..NodeInfo::default()
        };
    }
    Ok(lock)
}
