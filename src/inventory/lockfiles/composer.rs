//! Composer: `composer.json` (`require` runs, `require-dev` is dev) and `composer.lock`
//! (`packages` run, `packages-dev` are dev; each package's `require` gives the graph, its
//! `license` list the declared licence, joined with ` OR ` as Composer means it).

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::analyze::lockfile::{Graph, Node};
use crate::model::ComponentScope;

use super::{Declared, Lock, NodeInfo, Unreadable};

#[derive(Deserialize)]
struct ComposerJson {
    #[serde(default)]
    require: Option<BTreeMap<String, serde_json::Value>>,
    #[serde(default, rename = "require-dev")]
    require_dev: Option<BTreeMap<String, serde_json::Value>>,
}

/// Platform requirements (`php`, `ext-json`, `lib-curl`, `composer-plugin-api`) are not
/// packages.
fn is_platform(name: &str) -> bool {
    !name.contains('/')
}

pub(super) fn manifest(text: &str) -> Result<Vec<Declared>, Unreadable> {
    let json: ComposerJson = serde_json::from_str(text).map_err(|e| Unreadable::json(&e))?;
    let mut declared = Vec::new();
    for (list, scope) in [
        (&json.require, ComponentScope::Runtime),
        (&json.require_dev, ComponentScope::Dev),
    ] {
        for name in list.iter().flat_map(BTreeMap::keys) {
            if !is_platform(name) {
                declared.push(Declared::new(name, scope));
            }
        }
    }
    Ok(declared)
}

#[derive(Deserialize)]
struct ComposerLock {
    #[serde(default)]
    packages: Option<Vec<LockedPackage>>,
    /// `null` when installed with `--no-dev`.
    #[serde(default, rename = "packages-dev")]
    packages_dev: Option<Vec<LockedPackage>>,
}

#[derive(Deserialize)]
struct LockedPackage {
    name: String,
    version: String,
    #[serde(default)]
    require: BTreeMap<String, serde_json::Value>,
    /// A list (Composer's own), or a single string in some hand-made locks.
    #[serde(default)]
    license: Option<serde_json::Value>,
}

impl LockedPackage {
    /// The licences, joined with ` OR `: a list in Composer means any of them.
    fn license(&self) -> Option<String> {
        let names: Vec<&str> = match self.license.as_ref()? {
            serde_json::Value::String(one) => vec![one.as_str()],
            serde_json::Value::Array(list) => {
                list.iter().filter_map(serde_json::Value::as_str).collect()
            }
            _ => Vec::new(),
        };
        (!names.is_empty()).then(|| names.join(" OR "))
    }
}

pub(super) fn lock(text: &str) -> Result<Lock, Unreadable> {
    let lock: ComposerLock = serde_json::from_str(text).map_err(|e| Unreadable::json(&e))?;
    let all: Vec<(&LockedPackage, ComponentScope)> = lock
        .packages
        .iter()
        .flatten()
        .map(|p| (p, ComponentScope::Runtime))
        .chain(
            lock.packages_dev
                .iter()
                .flatten()
                .map(|p| (p, ComponentScope::Dev)),
        )
        .collect();
    let by_name = |name: &str| {
        all.iter()
            .position(|(p, _)| p.name.eq_ignore_ascii_case(name))
    };
    let nodes = all
        .iter()
        .map(|(p, _)| {
            let deps = p
                .require
                .keys()
                .filter(|n| !is_platform(n))
                .filter_map(|n| by_name(n))
                .collect();
            Node::new(&p.name, &p.version, deps)
        })
        .collect();
    let info = all
        .iter()
        .map(|(p, scope)| NodeInfo {
            scope: Some(*scope),
            license: p.license(),
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
