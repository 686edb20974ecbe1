//! uv: `uv.lock`. Each `[[package]]` lists its `dependencies` (the graph); the project's own
//! packages (source `virtual` or `editable`) are not components, and their `dependencies`
//! and `optional-dependencies` are the direct runtime ones, their `dev-dependencies` groups
//! the direct dev (or test, by the group's name) ones.

use serde::Deserialize;

use crate::analyze::lockfile::{Graph, Node};
use crate::model::{ComponentScope, Ecosystem};

use super::{Lock, NodeInfo, Unreadable, group_scope, normalize};

#[derive(Deserialize)]
struct UvLock {
    #[serde(default)]
    package: Vec<Package>,
}

#[derive(Deserialize)]
#[serde(rename_all = "kebab-case")]
struct Package {
    name: String,
    #[serde(default)]
    version: Option<String>,
    #[serde(default)]
    source: Option<toml::Table>,
    #[serde(default)]
    dependencies: Vec<Dependency>,
    #[serde(default)]
    optional_dependencies: std::collections::BTreeMap<String, Vec<Dependency>>,
    #[serde(default)]
    dev_dependencies: std::collections::BTreeMap<String, Vec<Dependency>>,
}

#[derive(Deserialize)]
struct Dependency {
    name: String,
    /// Set when the lock holds several versions of the package.
    #[serde(default)]
    version: Option<String>,
}

impl Package {
    fn is_project(&self) -> bool {
        self.source
            .as_ref()
            .is_some_and(|s| s.contains_key("virtual") || s.contains_key("editable"))
    }
}

pub(super) fn lock(text: &str) -> Result<Lock, Unreadable> {
    let lock: UvLock = toml::from_str(text).map_err(|e| Unreadable::toml(text, &e))?;
    let key = |name: &str| normalize(&Ecosystem::PyPI, name);
    let resolve = |dep: &Dependency| {
        let name = key(&dep.name);
        lock.package.iter().position(|p| {
            key(&p.name) == name
                && dep
                    .version
                    .as_ref()
                    .is_none_or(|v| p.version.as_ref() == Some(v))
        })
    };
    let mut nodes = Vec::new();
    let mut direct = Vec::new();
    for package in &lock.package {
        let all = package
            .dependencies
            .iter()
            .chain(package.optional_dependencies.values().flatten())
            .chain(package.dev_dependencies.values().flatten());
        let deps: Vec<usize> = all.filter_map(resolve).collect();
        if package.is_project() {
            let runtime = package
                .dependencies
                .iter()
                .chain(package.optional_dependencies.values().flatten())
                .filter_map(resolve)
                .map(|i| (i, Some(ComponentScope::Runtime)));
            direct.extend(runtime);
            for (group, list) in &package.dev_dependencies {
                let scope = group_scope(group);
                direct.extend(list.iter().filter_map(resolve).map(|i| (i, Some(scope))));
            }
        }
        let version = package.version.as_deref().unwrap_or_default();
        nodes.push(Node::new(&package.name, version, deps));
    }
    let info = lock
        .package
        .iter()
        .map(|p| NodeInfo {
            project: p.is_project(),
            ..NodeInfo::default()
        })
        .collect();
    direct.retain(|(i, _)| !lock.package[*i].is_project());
    let roots = direct.iter().map(|(i, _)| *i).collect();
    Ok(Lock {
        graph: Graph::new(nodes, roots),
        info,
        direct,
        guessed: false,
    })
}
