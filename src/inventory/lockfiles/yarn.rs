//! Yarn: `yarn.lock`, classic (v1, yarn's own format) and Berry (v2+, YAML with
//! `__metadata`). An entry's key lists the requested ranges (`lodash@^4.17.0,
//! lodash@^4.17.21`), its body the resolved `version` and the ranges it requests of
//! others (the graph). Berry lists the workspace itself (`@workspace:`) with its direct
//! dependencies; for classic, the `package.json` beside it says which entries are direct.

use std::collections::{BTreeMap, HashMap};

use crate::analyze::lockfile::{Graph, Node};
use crate::model::ComponentScope;

use super::{Lock, NodeInfo, Unreadable};

/// An entry of the lock, before the graph is built.
#[derive(Default)]
struct Entry {
    keys: Vec<String>,
    name: String,
    version: String,
    deps: Vec<(String, String)>,
    workspace: bool,
}

/// A `yarn.lock`; `package_json` (the text of the `package.json` beside it, if any) names
/// the direct entries of a classic lock.
pub(super) fn lock(text: &str, package_json: Option<&str>) -> Result<Lock, Unreadable> {
    let berry = text.lines().any(|l| l.starts_with("__metadata:"));
    let entries = if berry {
        berry_entries(text)?
    } else {
        classic_entries(text)?
    };
    let mut by_key: HashMap<&str, usize> = HashMap::new();
    for (i, entry) in entries.iter().enumerate() {
        for key in &entry.keys {
            by_key.insert(key.as_str(), i);
        }
    }
    let resolve = |name: &str, range: &str| -> Option<usize> {
        by_key
            .get(format!("{name}@{range}").as_str())
            .or_else(|| by_key.get(format!("{name}@npm:{range}").as_str()))
            .copied()
            .or_else(|| entries.iter().position(|e| e.name == name && !e.workspace))
    };
    let nodes = entries
        .iter()
        .map(|e| {
            let deps = e.deps.iter().filter_map(|(n, r)| resolve(n, r)).collect();
            Node::new(&e.name, &e.version, deps)
        })
        .collect();
    let mut direct: Vec<(usize, Option<ComponentScope>)> = entries
        .iter()
        .filter(|e| e.workspace)
        .flat_map(|e| e.deps.iter().filter_map(|(n, r)| resolve(n, r)))
        .map(|i| (i, None))
        .collect();
    if let Some(manifest) = package_json.and_then(|t| serde_json::from_str::<PackageJson>(t).ok()) {
        for (list, scope) in [
            (&manifest.dependencies, ComponentScope::Runtime),
            (&manifest.optional_dependencies, ComponentScope::Runtime),
            (&manifest.dev_dependencies, ComponentScope::Dev),
        ] {
            for (name, range) in list {
                let range = range.as_str().unwrap_or_default();
                if let Some(i) = resolve(name, range) {
                    direct.push((i, Some(scope)));
                }
            }
        }
    }
    direct.retain(|(i, _)| !entries[*i].workspace);
    let info = entries
        .iter()
        .map(|e| NodeInfo {
            project: e.workspace,
            ..NodeInfo::default()
        })
        .collect();
    let roots = direct.iter().map(|(i, _)| *i).collect();
    Ok(Lock {
        graph: Graph::new(nodes, roots),
        info,
        direct,
        guessed: false,
    })
}

#[derive(serde::Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct PackageJson {
    #[serde(default)]
    dependencies: BTreeMap<String, serde_json::Value>,
    #[serde(default)]
    dev_dependencies: BTreeMap<String, serde_json::Value>,
    #[serde(default)]
    optional_dependencies: BTreeMap<String, serde_json::Value>,
}

/// The name in a key (`@babel/core@^7.0.0` → `@babel/core`).
fn key_name(key: &str) -> &str {
    let from = usize::from(key.starts_with('@'));
    match key[from..].find('@') {
        Some(at) => &key[..from + at],
        None => key,
    }
}

fn unquote(text: &str) -> &str {
    text.trim().trim_matches('"')
}

fn classic_entries(text: &str) -> Result<Vec<Entry>, Unreadable> {
    let mut entries: Vec<Entry> = Vec::new();
    let mut header_line = 0;
    let mut in_deps = false;
    let finish = |entries: &Vec<Entry>, header_line: usize| -> Result<(), Unreadable> {
        match entries.last() {
            Some(e) if e.version.is_empty() => Err(Unreadable::at(
                header_line,
                1,
                format!("the entry `{}` has no version", e.keys.join(", ")),
            )),
            _ => Ok(()),
        }
    };
    for (index, raw) in text.lines().enumerate() {
        let number = index + 1;
        let trimmed = raw.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let indent = raw.len() - raw.trim_start().len();
        if indent == 0 {
            let Some(keys) = trimmed.strip_suffix(':') else {
                return Err(Unreadable::at(
                    number,
                    1,
                    format!("expected an entry (`name@range:`), found `{trimmed}`"),
                ));
            };
            finish(&entries, header_line)?;
            header_line = number;
            in_deps = false;
            let keys: Vec<String> = keys.split(", ").map(|k| unquote(k).to_string()).collect();
            let name = keys
                .first()
                .map(|k| key_name(k).to_string())
                .unwrap_or_default();
            entries.push(Entry {
                keys,
                name,
                ..Entry::default()
            });
            continue;
        }
        let Some(entry) = entries.last_mut() else {
            return Err(Unreadable::at(
                number,
                indent + 1,
                "indented text before any entry",
            ));
        };
        if indent <= 2 {
            in_deps = matches!(trimmed, "dependencies:" | "optionalDependencies:");
            if let Some(version) = trimmed.strip_prefix("version ") {
                entry.version = unquote(version).to_string();
            }
        } else if in_deps {
            let (name, range) = trimmed.split_once(' ').unwrap_or((trimmed, ""));
            entry
                .deps
                .push((unquote(name).to_string(), unquote(range).to_string()));
        }
    }
    finish(&entries, header_line)?;
    Ok(entries)
}

fn berry_entries(text: &str) -> Result<Vec<Entry>, Unreadable> {
    Unreadable::yaml_guard(text)?;
    let doc: BTreeMap<String, serde_yaml_ng::Value> =
        serde_yaml_ng::from_str(text).map_err(|e| Unreadable::yaml(&e))?;
    let mut entries = Vec::new();
    for (keys, body) in doc {
        if keys == "__metadata" {
            continue;
        }
        let keys: Vec<String> = keys.split(", ").map(|k| k.trim().to_string()).collect();
        let name = keys
            .first()
            .map(|k| key_name(k).to_string())
            .unwrap_or_default();
        let field = |f: &str| body.get(f).and_then(serde_yaml_ng::Value::as_str);
        let version = field("version").unwrap_or_default().to_string();
        let workspace = keys.iter().any(|k| k.contains("@workspace:"))
            || field("resolution").is_some_and(|r| r.contains("@workspace:"));
        let mut deps = Vec::new();
        for list in ["dependencies", "optionalDependencies"] {
            if let Some(map) = body.get(list).and_then(serde_yaml_ng::Value::as_mapping) {
                for (dep, range) in map {
                    if let (Some(dep), Some(range)) = (dep.as_str(), range.as_str()) {
                        deps.push((dep.to_string(), range.to_string()));
                    }
                }
            }
        }
        entries.push(Entry {
            keys,
            name,
            version,
            deps,
            workspace,
        });
    }
    Ok(entries)
}
