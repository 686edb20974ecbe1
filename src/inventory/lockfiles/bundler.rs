//! Bundler: `Gemfile.lock` (the `GEM`, `GIT` and `PATH` specs with the gems each depends on:
//! the graph; `DEPENDENCIES`: the direct ones; `PATH` gems are the project's own code) and
//! the `Gemfile` beside it (the groups: `:development` is dev, `:test` alone is test).

use std::collections::HashMap;

use crate::analyze::lockfile::{Graph, Node};
use crate::model::ComponentScope;

use super::{Declared, Lock, NodeInfo, Unreadable};

/// The gems a `Gemfile` declares, with the scope of their groups. Never fails: lines it does
/// not understand are Ruby it need not.
pub(super) fn gemfile(text: &str) -> Vec<Declared> {
    // Groups of the open `do … end` blocks (empty for blocks that are not `group`).
    let mut blocks: Vec<Vec<String>> = Vec::new();
    let mut declared = Vec::new();
    for (index, raw) in text.lines().enumerate() {
        let line = raw.split(" #").next().unwrap_or(raw).trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let opens = line.ends_with(" do") || line.contains(" do |");
        let first_word = line.split_whitespace().next().unwrap_or_default();
        if line == "end" {
            blocks.pop();
            continue;
        }
        if let Some(rest) = line
            .strip_prefix("group ")
            .or_else(|| line.strip_prefix("group("))
            && opens
        {
            blocks.push(symbols(rest.trim_end_matches(" do")));
            continue;
        }
        if opens || matches!(first_word, "if" | "unless" | "case" | "begin" | "while") {
            blocks.push(Vec::new());
            continue;
        }
        let Some(rest) = line
            .strip_prefix("gem ")
            .or_else(|| line.strip_prefix("gem("))
        else {
            continue;
        };
        let mut arguments = rest.split(',');
        let Some(name) = arguments
            .next()
            .map(|n| n.trim().trim_matches(['\'', '"', '(', ')']))
            .filter(|n| !n.is_empty())
        else {
            continue;
        };
        let mut groups: Vec<String> = blocks.iter().flatten().cloned().collect();
        for (i, part) in rest.split(',').enumerate().skip(1) {
            let part = part.trim();
            let value = part
                .strip_prefix("group:")
                .or_else(|| part.strip_prefix("groups:"))
                .or_else(|| part.strip_prefix(":group =>"))
                .or_else(|| part.strip_prefix(":groups =>"));
            if let Some(value) = value {
                // `groups: [:development, :test]` spans the following commas too.
                let tail: Vec<&str> = rest.split(',').skip(i).collect();
                let joined = tail.join(",");
                let list = if value.trim_start().starts_with('[') {
                    joined.split(']').next().unwrap_or(&joined).to_string()
                } else {
                    value.to_string()
                };
                groups.extend(symbols(&list));
            }
        }
        let mut d = Declared::new(name, scope_of(&groups));
        d.line = u32::try_from(index + 1).ok();
        declared.push(d);
    }
    declared
}

/// `:development, :test` → `["development", "test"]`.
fn symbols(text: &str) -> Vec<String> {
    text.split([',', ' ', '[', ']', '(', ')'])
        .filter_map(|s| s.trim().strip_prefix(':'))
        .map(|s| s.trim_matches(['\'', '"']).to_ascii_lowercase())
        .filter(|s| !s.is_empty() && s != "group" && s != "groups")
        .collect()
}

fn scope_of(groups: &[String]) -> ComponentScope {
    let is_dev = |g: &str| matches!(g, "development" | "dev");
    let is_test = |g: &str| g.contains("test");
    if groups.is_empty() || groups.iter().any(|g| !is_dev(g) && !is_test(g)) {
        ComponentScope::Runtime
    } else if groups.iter().all(|g| is_test(g)) {
        ComponentScope::Test
    } else {
        ComponentScope::Dev
    }
}

/// A spec of the lock, before the graph is built.
struct Spec {
    name: String,
    version: String,
    deps: Vec<String>,
    local: bool,
}

pub(super) fn lock(text: &str) -> Result<Lock, Unreadable> {
    let mut specs: Vec<Spec> = Vec::new();
    let mut dependencies: Vec<String> = Vec::new();
    let mut section = "";
    let mut sections = 0;
    for (index, raw) in text.lines().enumerate() {
        let number = index + 1;
        if raw.trim().is_empty() {
            continue;
        }
        let indent = raw.len() - raw.trim_start().len();
        let line = raw.trim();
        if indent == 0 {
            section = line;
            sections += 1;
            continue;
        }
        match section {
            "GEM" | "GIT" | "PATH" | "PLUGIN SOURCE" => {
                if indent == 4 {
                    let (name, version) = name_and_version(line).ok_or_else(|| {
                        Unreadable::at(number, 5, format!("not a spec: `{line}`"))
                    })?;
                    // `nokogiri (1.15.4-x86_64-linux)`: the platform is not the version.
                    let version = version.split('-').next().unwrap_or(version);
                    specs.push(Spec {
                        name: name.to_string(),
                        version: version.to_string(),
                        deps: Vec::new(),
                        local: section == "PATH",
                    });
                } else if indent == 6 {
                    let name = line.split_whitespace().next().unwrap_or(line);
                    let Some(spec) = specs.last_mut() else {
                        return Err(Unreadable::at(number, 7, "a dependency before any spec"));
                    };
                    spec.deps.push(name.to_string());
                }
            }
            "DEPENDENCIES" => {
                let name = line
                    .split_whitespace()
                    .next()
                    .unwrap_or(line)
                    .trim_end_matches('!');
                dependencies.push(name.to_string());
            }
            _ => {}
        }
    }
    if sections == 0 {
        return Err(Unreadable::at(
            1,
            1,
            "no sections (GEM, DEPENDENCIES): not a Gemfile.lock",
        ));
    }

    // One node per name and version (platform variants are one gem).
    let mut index_of: HashMap<(String, String), usize> = HashMap::new();
    let mut merged: Vec<Spec> = Vec::new();
    for spec in specs {
        let key = (spec.name.clone(), spec.version.clone());
        match index_of.get(&key) {
            Some(&i) => merged[i].deps.extend(spec.deps),
            None => {
                index_of.insert(key, merged.len());
                merged.push(spec);
            }
        }
    }
    let by_name = |name: &str| merged.iter().position(|s| s.name == name);
    let nodes: Vec<Node> = merged
        .iter()
        .map(|spec| {
            let deps = spec.deps.iter().filter_map(|d| by_name(d)).collect();
            Node::new(&spec.name, &spec.version, deps)
        })
        .collect();
    let mut direct: Vec<usize> = dependencies.iter().filter_map(|d| by_name(d)).collect();
    for spec in merged.iter().filter(|s| s.local) {
        direct.extend(spec.deps.iter().filter_map(|d| by_name(d)));
    }
    direct.retain(|&i| !merged[i].local);
    let info = merged
        .iter()
        .map(|s| NodeInfo {
            project: s.local,
            ..NodeInfo::default()
        })
        .collect();
    let graph = Graph::new(nodes, direct.clone());
    Ok(Lock {
        graph,
        info,
        direct: direct.into_iter().map(|i| (i, None)).collect(),
        guessed: false,
    })
}

/// `rails (7.0.4)` → `("rails", "7.0.4")`.
fn name_and_version(line: &str) -> Option<(&str, &str)> {
    let (name, rest) = line.split_once(" (")?;
    let version = rest.strip_suffix(')')?;
    (!name.is_empty() && !version.is_empty()).then_some((name, version))
}
