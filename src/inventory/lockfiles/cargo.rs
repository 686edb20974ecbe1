//! Cargo: `Cargo.toml` (direct dependencies: `[dependencies]` run, `[dev-dependencies]` and
//! `[build-dependencies]` are dev, the same under `[target.'cfg(…)'.…]`;
//! `[workspace.dependencies]` run) and `Cargo.lock` (read by [`Graph::parse_cargo`]; the
//! workspace's own packages, those without a `source`, are the project, not components).

use crate::analyze::lockfile::Graph;
use crate::model::ComponentScope;

use super::{Declared, Lock, Unreadable};

const SECTIONS: [(&str, ComponentScope); 3] = [
    ("dependencies", ComponentScope::Runtime),
    ("dev-dependencies", ComponentScope::Dev),
    ("build-dependencies", ComponentScope::Dev),
];

pub(super) fn manifest(text: &str) -> Result<Vec<Declared>, Unreadable> {
    let table: toml::Table = toml::from_str(text).map_err(|e| Unreadable::toml(text, &e))?;
    let mut declared = Vec::new();
    let mut section = |table: Option<&toml::Value>, scope: ComponentScope| {
        let Some(table) = table.and_then(toml::Value::as_table) else {
            return;
        };
        for (key, value) in table {
            // `alias = { package = "real-name", … }` depends on `real-name`.
            let name = value
                .get("package")
                .and_then(toml::Value::as_str)
                .unwrap_or(key);
            declared.push(Declared::new(name, scope));
        }
    };
    for (name, scope) in SECTIONS {
        section(table.get(name), scope);
    }
    if let Some(targets) = table.get("target").and_then(toml::Value::as_table) {
        for target in targets.values() {
            for (name, scope) in SECTIONS {
                section(target.get(name), scope);
            }
        }
    }
    section(
        table.get("workspace").and_then(|w| w.get("dependencies")),
        ComponentScope::Runtime,
    );
    Ok(declared)
}

pub(super) fn lock(text: &str) -> Result<Lock, Unreadable> {
    let graph = Graph::parse_cargo(text).map_err(|e| Unreadable::toml(text, &e))?;
    let mut lock = Lock::from_graph(graph);
    // The workspace's members have no `source`: Graph keeps them out of the roots, but they
    // are nodes; find them again by what the lock says of them.
    let members = members(text);
    for (info, node) in lock.info.iter_mut().zip(lock.graph.nodes()) {
        info.project = members
            .iter()
            .any(|(name, version)| *name == node.name && *version == node.version);
    }
    Ok(lock)
}

/// `(name, version)` of the packages without a `source`: the workspace's own.
fn members(text: &str) -> Vec<(String, String)> {
    let Ok(table) = toml::from_str::<toml::Table>(text) else {
        return Vec::new();
    };
    table
        .get("package")
        .and_then(toml::Value::as_array)
        .into_iter()
        .flatten()
        .filter(|p| p.get("source").is_none())
        .filter_map(|p| {
            Some((
                p.get("name")?.as_str()?.to_string(),
                p.get("version")?.as_str()?.to_string(),
            ))
        })
        .collect()
}
