//! Poetry: `poetry.lock` (each `[[package]]` with its `[package.dependencies]`: the graph;
//! old locks' `category = "dev"` the scope). Which are direct, and the groups of newer
//! locks, come from `pyproject.toml` beside it.

use serde::Deserialize;

use crate::analyze::lockfile::{Graph, Node};
use crate::model::{ComponentScope, Ecosystem};

use super::{Lock, NodeInfo, Unreadable, normalize};

#[derive(Deserialize)]
struct PoetryLock {
    #[serde(default)]
    package: Vec<Package>,
}

#[derive(Deserialize)]
struct Package {
    name: String,
    version: String,
    #[serde(default)]
    category: Option<String>,
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
            scope: match p.category.as_deref() {
                Some("dev") => Some(ComponentScope::Dev),
                Some("main") => Some(ComponentScope::Runtime),
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
