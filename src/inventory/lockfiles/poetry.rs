//! Poetry: `poetry.lock` (each `[[package]]` with its `[package.dependencies]`: the graph;
//! old locks' `category = "dev"` and Poetry 2's `groups = [...]` the scope). Which are direct, and the groups of newer
//! locks, come from `pyproject.toml` beside it.

use serde::Deserialize;

use crate::analyze::lockfile::{Graph, Node};
use crate::model::{ComponentScope, Ecosystem};

use super::{Lock, NodeInfo, Unreadable, group_scope, normalize};

/// The scope of a package Poetry 2 lists under `groups`: runtime when `main` needs it, else
/// the loosest of its groups' (dev over test).
fn groups_scope(groups: &[String]) -> Option<ComponentScope> {
    if groups.iter().any(|g| g == "main") {
        return Some(ComponentScope::Runtime);
    }
    groups.iter().map(|g| group_scope(g)).min()
}

#[derive(Deserialize)]
struct PoetryLock {
    #[serde(default)]
    package: Vec<Package>,
}

#[derive(Deserialize)]
struct Package {
    name: String,
    version: String,
    /// Before Poetry 1.5 (lock version 2.0): `main` or `dev`.
    #[serde(default)]
    category: Option<String>,
    /// Poetry 2: the groups that need it (`["main"]`, `["dev", "test"]`).
    #[serde(default)]
    groups: Option<Vec<String>>,
    #[serde(default)]
    dependencies: toml::Table,
}

pub(super) fn lock(text: &str) -> Result<Lock, Unreadable> {
    let lock: PoetryLock = toml::from_str(text).map_err(|e| Unreadable::toml(text, &e))?;
    let key = |name: &str| normalize(&Ecosystem::PyPI, name);
    let names: Vec<String> = lock.package.iter().map(|p| key(&p.name)).collect();
    let nodes = lock
        .package
        .iter()
        .map(|p| {
            let deps = p
                .dependencies
                .keys()
                .filter_map(|d| names.iter().position(|n| *n == key(d)))
                .collect();
            Node::new(&p.name, &p.version, deps)
        })
        .collect();
    let info = lock
        .package
        .iter()
        .map(|p| NodeInfo {
            scope: match (p.category.as_deref(), &p.groups) {
                (Some("dev"), _) => Some(ComponentScope::Dev),
                (Some("main"), _) => Some(ComponentScope::Runtime),
                (_, Some(groups)) => groups_scope(groups),
                _ => None,
            },
            ..NodeInfo::default()
        })
        .collect();
    Ok(Lock {
        graph: Graph::new(nodes, Vec::new()),
        info,
        direct: Vec::new(),
        guessed: false,
    })
}
