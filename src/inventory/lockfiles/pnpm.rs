//! pnpm: `pnpm-lock.yaml`, lockfile versions 5 and 6 (`packages` keyed `/name/1.0.0` or
//! `/name@1.0.0`, with their dependencies and `dev` flag) and 9 (`packages` for the
//! packages, `snapshots` for their dependencies). The direct dependencies and their scope
//! are in `importers` (one per workspace project; `.` is the root) or, without workspaces,
//! at the top level: `dependencies` and `optionalDependencies` run, `devDependencies` are
//! dev.

use std::collections::HashMap;

use serde_yaml_ng::Value;

use crate::analyze::lockfile::{Graph, Node};
use crate::model::ComponentScope;

use super::{Lock, NodeInfo, Unreadable};

const SECTIONS: [(&str, ComponentScope); 3] = [
    ("dependencies", ComponentScope::Runtime),
    ("optionalDependencies", ComponentScope::Runtime),
    ("devDependencies", ComponentScope::Dev),
];

pub(super) fn lock(text: &str) -> Result<Lock, Unreadable> {
    Unreadable::yaml_guard(text)?;
    let doc: Value = serde_yaml_ng::from_str(text).map_err(|e| Unreadable::yaml(&e))?;
    let version = match doc.get("lockfileVersion") {
        Some(Value::String(v)) => v.parse::<f64>().ok(),
        Some(Value::Number(n)) => n.as_f64(),
        _ => None,
    }
    .ok_or_else(|| Unreadable::at(1, 1, "no `lockfileVersion`: not a pnpm lockfile"))?;
    // Before version 6, ids are `/name/1.0.0`; since, `/name@1.0.0` (and `name@1.0.0` in 9).
    let slashes = version < 6.0;
    let id_of = |name: &str, reference: &str| -> Option<String> {
        if reference.starts_with("link:") || reference.starts_with("file:") {
            return None;
        }
        // A reference may already be a whole id (`/@scope/x@1.0.0`, an alias).
        if reference.starts_with('/') {
            return Some(reference.trim_start_matches('/').to_string());
        }
        Some(if slashes {
            format!("{name}/{reference}")
        } else {
            format!("{name}@{reference}")
        })
    };

    let table = |key: &str| doc.get(key).and_then(Value::as_mapping);
    let graph_table = table("snapshots").or_else(|| table("packages"));
    let mut ids: Vec<String> = Vec::new();
    let mut bodies: Vec<&Value> = Vec::new();
    for (key, body) in graph_table.into_iter().flatten() {
        if let Some(key) = key.as_str() {
            ids.push(key.trim_start_matches('/').to_string());
            bodies.push(body);
        }
    }
    let index: HashMap<&str, usize> = ids
        .iter()
        .enumerate()
        .map(|(i, id)| (id.as_str(), i))
        .collect();
    let find = |name: &str, reference: &str| -> Option<usize> {
        index.get(id_of(name, reference)?.as_str()).copied()
    };

    // Before version 6 the version is in the key after a `/`, which the generic line finder
    // does not read as a version: the entry's own line is found here.
    let key_lines: HashMap<&str, usize> = if slashes {
        text.lines()
            .enumerate()
            .filter(|(_, line)| line.starts_with("  /") && line.ends_with(':'))
            .map(|(i, line)| {
                (
                    line.trim().trim_end_matches(':').trim_start_matches('/'),
                    i + 1,
                )
            })
            .collect()
    } else {
        HashMap::new()
    };
    let mut nodes = Vec::new();
    let mut info = Vec::new();
    for (id, body) in ids.iter().zip(&bodies) {
        let (name, version) = split_id(id, slashes);
        let deps = ["dependencies", "optionalDependencies"]
            .into_iter()
            .filter_map(|list| body.get(list).and_then(Value::as_mapping))
            .flatten()
            .filter_map(|(n, r)| find(n.as_str()?, r.as_str()?))
            .collect();
        nodes.push(Node::new(name, version, deps));
        info.push(NodeInfo {
            scope: match body.get("dev").and_then(Value::as_bool) {
                Some(true) => Some(ComponentScope::Dev),
                Some(false) => Some(ComponentScope::Runtime),
                None => None,
            },
            line: key_lines
                .get(id.as_str())
                .and_then(|&line| u32::try_from(line).ok()),
            ..NodeInfo::default()
        });
    }

    let importers: Vec<&Value> = match table("importers") {
        Some(importers) => importers.values().collect(),
        None => vec![&doc],
    };
    let mut direct = Vec::new();
    for importer in importers {
        for (section, scope) in SECTIONS {
            for (name, entry) in importer
                .get(section)
                .and_then(Value::as_mapping)
                .into_iter()
                .flatten()
            {
                // `name: 1.0.0` (5) or `name: {specifier: ^1.0.0, version: 1.0.0}` (6, 9).
                let reference = entry.as_str().or_else(|| entry.get("version")?.as_str());
                if let (Some(name), Some(reference)) = (name.as_str(), reference)
                    && let Some(i) = find(name, reference)
                {
                    direct.push((i, Some(scope)));
                }
            }
        }
    }
    let roots = direct.iter().map(|(i, _)| *i).collect();
    Ok(Lock {
        graph: Graph::new(nodes, roots),
        info,
        direct,
        guessed: false,
    })
}

/// Name and version of a package id: `@scope/name@1.0.0(peer@2.0.0)` → (`@scope/name`,
/// `1.0.0`); before version 6 `@scope/name/1.0.0_peer@2.0.0` → (`@scope/name`, `1.0.0`).
fn split_id(id: &str, slashes: bool) -> (&str, &str) {
    let id = id.split('(').next().unwrap_or(id);
    if slashes {
        let (name, version) = id.rsplit_once('/').unwrap_or((id, ""));
        (name, version.split('_').next().unwrap_or(version))
    } else {
        let from = usize::from(id.starts_with('@'));
        match id[from..].find('@') {
            Some(at) => (&id[..from + at], &id[from + at + 1..]),
            None => (id, ""),
        }
    }
}
