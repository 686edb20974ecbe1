//! Dependency graphs from lockfiles, to say how a transitive dependency comes in: npm's
//! `package-lock.json` / `npm-shrinkwrap.json` (lockfile versions 2 and 3, the `packages`
//! map; version 1, the nested `dependencies` tree) and `Cargo.lock`. Other readers (the
//! inventory's lockfile readers) build a [`Graph`] of their own with [`Graph::new`] and get
//! the same chains.
//!
//! The graph's roots are the project's direct dependencies: the root package's
//! `dependencies`, `devDependencies` and `optionalDependencies` for npm; the dependencies of
//! the workspace members (packages without a `source`) for Cargo. A chain is the shortest
//! path from a root to the package, found breadth-first with roots in name order, so it is
//! the same on every run.

use std::collections::{BTreeMap, HashMap, VecDeque};

use serde::Deserialize;

/// A package in a lockfile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    pub name: String,
    pub version: String,
    /// npm marks packages only development dependencies need (`"dev": true`).
    pub dev: bool,
    /// npm marks packages only optional dependencies need (`"optional": true`).
    pub optional: bool,
    /// The licence the lockfile states (npm's `license`).
    pub license: Option<String>,
    /// Where the lockfile keeps it: npm's install path (`node_modules/a/node_modules/b`),
    /// Cargo's `name version`.
    pub path: String,
    deps: Vec<usize>,
}

impl Node {
    /// A package `name`@`version` depending on the nodes at indices `deps` of its graph.
    pub fn new(name: &str, version: &str, deps: Vec<usize>) -> Node {
        Node {
            name: name.to_string(),
            version: version.to_string(),
            dev: false,
            optional: false,
            license: None,
            path: format!("{name} {version}"),
            deps,
        }
    }

    /// The indices of the nodes it depends on.
    pub fn deps(&self) -> &[usize] {
        &self.deps
    }
}

/// The packages of one lockfile and who depends on whom.
#[derive(Debug, Clone, Default)]
pub struct Graph {
    nodes: Vec<Node>,
    /// The direct dependencies, in name order.
    roots: Vec<usize>,
}

impl Graph {
    /// A graph of `nodes` whose direct dependencies are the nodes at `roots` (dependencies
    /// pointing past the end are dropped).
    pub fn new(mut nodes: Vec<Node>, roots: Vec<usize>) -> Graph {
        let len = nodes.len();
        for node in &mut nodes {
            node.deps.retain(|&d| d < len);
        }
        let mut graph = Graph {
            nodes,
            roots: Vec::new(),
        };
        graph.set_roots(roots);
        graph
    }

    /// The packages, in the lockfile's order.
    pub fn nodes(&self) -> &[Node] {
        &self.nodes
    }

    /// The indices of the direct dependencies, in name order.
    pub fn roots(&self) -> &[usize] {
        &self.roots
    }

    /// Makes the nodes at `roots` the direct dependencies (kept in name, then version order).
    pub fn set_roots(&mut self, mut roots: Vec<usize>) {
        roots.retain(|&i| i < self.nodes.len());
        roots.sort_by(|&a, &b| {
            let (a, b) = (&self.nodes[a], &self.nodes[b]);
            (&a.name, &a.version).cmp(&(&b.name, &b.version))
        });
        roots.dedup();
        self.roots = roots;
    }

    /// The shortest path from one of `from` down to the node at `target`, both ends
    /// included: breadth-first, starting points and dependencies in their order, so the
    /// same on every run. `None` when nothing of `from` reaches it.
    pub fn path(&self, from: &[usize], target: usize) -> Option<Vec<usize>> {
        Paths::new(self, from).to(target)
    }

    /// Reads a lockfile posture understands; `None` for other files or unreadable content.
    pub fn parse(path: &str, text: &str) -> Option<Graph> {
        match path.rsplit('/').next().unwrap_or(path) {
            "package-lock.json" | "npm-shrinkwrap.json" => Graph::parse_npm(text).ok().flatten(),
            "Cargo.lock" => Graph::parse_cargo(text).ok(),
            _ => None,
        }
    }

    /// The package `name` at `version` (any version when it does not match one).
    pub fn find(&self, name: &str, version: &str) -> Option<&Node> {
        let version = version.trim().trim_start_matches(['v', '=']);
        self.index_of(name, version).map(|i| &self.nodes[i])
    }

    fn index_of(&self, name: &str, version: &str) -> Option<usize> {
        let named = || {
            self.nodes
                .iter()
                .enumerate()
                .filter(|(_, n)| n.name == name)
        };
        named()
            .find(|(_, n)| n.version == version)
            .or_else(|| named().next())
            .map(|(i, _)| i)
    }

    /// Whether `name` is a direct dependency.
    pub fn is_direct(&self, name: &str) -> bool {
        self.roots.iter().any(|&i| self.nodes[i].name == name)
    }

    /// The names from a direct dependency down to `name`@`version`; one name when it is
    /// itself direct; `None` when the lockfile does not have it or nothing reaches it.
    pub fn chain(&self, name: &str, version: &str) -> Option<Vec<String>> {
        let version = version.trim().trim_start_matches(['v', '=']);
        let target = self.index_of(name, version)?;
        let path = self.path(&self.roots, target)?;
        Some(
            path.into_iter()
                .map(|i| self.nodes[i].name.clone())
                .collect(),
        )
    }
}

/// The shortest paths from a set of starting nodes to every node they reach, found in one
/// breadth-first walk (for many targets, cheaper than [`Graph::path`] for each).
#[derive(Debug, Clone)]
pub struct Paths {
    /// Per node: unreached (`None`), a starting point (`Some(None)`), or reached from its
    /// parent on a shortest path.
    parent: Vec<Option<Option<usize>>>,
}

impl Paths {
    pub fn new(graph: &Graph, from: &[usize]) -> Paths {
        let mut parent = vec![None; graph.nodes.len()];
        let mut queue = VecDeque::new();
        for &root in from {
            if root < parent.len() && parent[root].is_none() {
                parent[root] = Some(None);
                queue.push_back(root);
            }
        }
        while let Some(node) = queue.pop_front() {
            for &next in &graph.nodes[node].deps {
                if parent[next].is_none() {
                    parent[next] = Some(Some(node));
                    queue.push_back(next);
                }
            }
        }
        Paths { parent }
    }

    /// Whether a starting node reaches `node` (or is it).
    pub fn reaches(&self, node: usize) -> bool {
        self.parent.get(node).is_some_and(Option::is_some)
    }

    /// The path from a starting node down to `target`, both included.
    pub fn to(&self, target: usize) -> Option<Vec<usize>> {
        let mut at = target;
        let mut path = vec![at];
        loop {
            match *self.parent.get(at)? {
                None => return None,
                Some(None) => break,
                Some(Some(up)) => {
                    path.push(up);
                    at = up;
                }
            }
        }
        path.reverse();
        Some(path)
    }
}

#[derive(Deserialize)]
struct NpmLock {
    #[serde(default)]
    packages: BTreeMap<String, NpmPackage>,
    /// Lockfile version 1: the installed tree, nested.
    #[serde(default)]
    dependencies: BTreeMap<String, NpmV1Package>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct NpmPackage {
    /// The real name of an aliased package (`"node_modules/b": {"name": "a"}`).
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    version: Option<String>,
    #[serde(default)]
    dev: bool,
    #[serde(default)]
    optional: bool,
    /// A string (SPDX), or in old packages `{"type": "MIT"}`.
    #[serde(default)]
    license: Option<serde_json::Value>,
    #[serde(default)]
    dependencies: BTreeMap<String, serde_json::Value>,
    #[serde(default)]
    dev_dependencies: BTreeMap<String, serde_json::Value>,
    #[serde(default)]
    optional_dependencies: BTreeMap<String, serde_json::Value>,
    #[serde(default)]
    peer_dependencies: BTreeMap<String, serde_json::Value>,
}

/// The name of the package installed at a `packages` key (`node_modules/a/node_modules/@s/b`
/// → `@s/b`).
fn npm_name(key: &str) -> Option<&str> {
    key.rsplit_once("node_modules/").map(|(_, name)| name)
}

/// Where `name`, required by the package at `from`, is installed: the nearest
/// `node_modules` up the tree (Node's resolution).
fn npm_resolve<'a>(
    packages: &'a BTreeMap<String, NpmPackage>,
    from: &str,
    name: &str,
) -> Option<&'a str> {
    let mut base = from.to_string();
    loop {
        let candidate = if base.is_empty() {
            format!("node_modules/{name}")
        } else {
            format!("{base}/node_modules/{name}")
        };
        if let Some((key, _)) = packages.get_key_value(&candidate) {
            return Some(key);
        }
        if base.is_empty() {
            return None;
        }
        base = match base.rfind("/node_modules/") {
            Some(i) => base[..i].to_string(),
            None => String::new(),
        };
    }
}

/// A package of a version 1 lockfile.
#[derive(Deserialize, Default)]
struct NpmV1Package {
    #[serde(default)]
    version: Option<String>,
    #[serde(default)]
    dev: bool,
    #[serde(default)]
    optional: bool,
    #[serde(default)]
    requires: BTreeMap<String, serde_json::Value>,
    #[serde(default)]
    dependencies: BTreeMap<String, NpmV1Package>,
}

/// Version 1's nested tree as version 2's `packages` map, keyed by install path, with an
/// empty root entry (version 1 does not record the root's dependencies).
fn npm_v1_packages(tree: BTreeMap<String, NpmV1Package>) -> BTreeMap<String, NpmPackage> {
    fn flatten(
        base: &str,
        tree: BTreeMap<String, NpmV1Package>,
        out: &mut BTreeMap<String, NpmPackage>,
    ) {
        for (name, package) in tree {
            let key = if base.is_empty() {
                format!("node_modules/{name}")
            } else {
                format!("{base}/node_modules/{name}")
            };
            flatten(&key, package.dependencies, out);
            out.insert(
                key,
                NpmPackage {
                    version: package.version,
                    dev: package.dev,
                    optional: package.optional,
                    dependencies: package.requires,
                    ..NpmPackage::default()
                },
            );
        }
    }
    let mut packages = BTreeMap::new();
    flatten("", tree, &mut packages);
    packages.insert(String::new(), NpmPackage::default());
    packages
}

impl Graph {
    /// Reads a `package-lock.json` / `npm-shrinkwrap.json` (versions 1 to 3); `Ok(None)` when
    /// it lists no packages at all.
    pub fn parse_npm(text: &str) -> Result<Option<Graph>, serde_json::Error> {
        let lock: NpmLock = serde_json::from_str(text)?;
        Ok(npm(lock))
    }

    /// Reads a `Cargo.lock`.
    pub fn parse_cargo(text: &str) -> Result<Graph, toml::de::Error> {
        let lock: CargoLock = toml::from_str(text)?;
        Ok(cargo(lock))
    }
}

fn npm(mut lock: NpmLock) -> Option<Graph> {
    let v1 = lock.packages.is_empty() && !lock.dependencies.is_empty();
    if v1 {
        lock.packages = npm_v1_packages(std::mem::take(&mut lock.dependencies));
    }
    let root = lock.packages.get("")?;
    let mut index: HashMap<&str, usize> = HashMap::new();
    let mut nodes = Vec::new();
    for (key, package) in &lock.packages {
        let (Some(installed), Some(version)) = (npm_name(key), package.version.as_deref()) else {
            continue;
        };
        let license = match &package.license {
            Some(serde_json::Value::String(text)) => Some(text.clone()),
            Some(serde_json::Value::Object(object)) => object
                .get("type")
                .and_then(serde_json::Value::as_str)
                .map(str::to_string),
            _ => None,
        };
        index.insert(key.as_str(), nodes.len());
        nodes.push(Node {
            name: package
                .name
                .clone()
                .unwrap_or_else(|| installed.to_string()),
            version: version.to_string(),
            dev: package.dev,
            optional: package.optional,
            license,
            path: key.clone(),
            deps: Vec::new(),
        });
    }
    for (key, package) in &lock.packages {
        let Some(&from) = index.get(key.as_str()) else {
            continue;
        };
        let names = package
            .dependencies
            .keys()
            .chain(package.optional_dependencies.keys())
            .chain(package.peer_dependencies.keys());
        let deps: Vec<usize> = names
            .filter_map(|name| index.get(npm_resolve(&lock.packages, key, name)?).copied())
            .collect();
        nodes[from].deps = deps;
    }
    let mut roots: Vec<usize> = root
        .dependencies
        .keys()
        .chain(root.dev_dependencies.keys())
        .chain(root.optional_dependencies.keys())
        .filter_map(|name| index.get(npm_resolve(&lock.packages, "", name)?).copied())
        .collect();
    if v1 {
        // Without a record of the root's dependencies: the top-level packages nothing
        // installed requires.
        let mut required = vec![false; nodes.len()];
        for node in &nodes {
            for &d in &node.deps {
                required[d] = true;
            }
        }
        roots = (0..nodes.len())
            .filter(|&i| !required[i] && nodes[i].path.matches("node_modules/").count() == 1)
            .collect();
    }
    Some(Graph::new(nodes, roots))
}

#[derive(Deserialize)]
struct CargoLock {
    #[serde(default)]
    package: Vec<CargoPackage>,
}

#[derive(Deserialize)]
struct CargoPackage {
    name: String,
    version: String,
    #[serde(default)]
    source: Option<String>,
    #[serde(default)]
    dependencies: Vec<String>,
}

fn cargo(lock: CargoLock) -> Graph {
    let mut nodes: Vec<Node> = lock
        .package
        .iter()
        .map(|p| Node::new(&p.name, &p.version, Vec::new()))
        .collect();
    // `name`, `name version` or `name version (source)`.
    let resolve = |entry: &str| -> Option<usize> {
        let mut parts = entry.split_whitespace();
        let name = parts.next()?;
        let version = parts.next();
        lock.package
            .iter()
            .position(|p| p.name == name && version.is_none_or(|v| p.version == v))
    };
    let mut roots = Vec::new();
    for (i, package) in lock.package.iter().enumerate() {
        let deps: Vec<usize> = package
            .dependencies
            .iter()
            .filter_map(|d| resolve(d))
            .collect();
        if package.source.is_none() {
            roots.extend(deps.iter().copied());
        }
        nodes[i].deps = deps;
    }
    let members: Vec<bool> = lock.package.iter().map(|p| p.source.is_none()).collect();
    roots.retain(|&i| !members[i]);
    Graph::new(nodes, roots)
}

#[cfg(test)]
mod tests {
    use super::*;

    const PACKAGE_LOCK_V3: &str = r#"{
  "name": "web",
  "version": "1.0.0",
  "lockfileVersion": 3,
  "requires": true,
  "packages": {
    "": {
      "name": "web",
      "version": "1.0.0",
      "dependencies": {"express": "^4.17.1"},
      "devDependencies": {"webpack-dev-server": "^3.11.0"}
    },
    "node_modules/express": {
      "version": "4.17.1",
      "dependencies": {"body-parser": "1.19.0", "qs": "6.7.0"}
    },
    "node_modules/body-parser": {
      "version": "1.19.0",
      "dependencies": {"qs": "6.7.0"}
    },
    "node_modules/qs": {"version": "6.7.0"},
    "node_modules/webpack-dev-server": {
      "version": "3.11.0",
      "dev": true,
      "dependencies": {"http-proxy-middleware": "0.19.1"}
    },
    "node_modules/http-proxy-middleware": {
      "version": "0.19.1",
      "dev": true,
      "dependencies": {"lodash": "^4.17.11"}
    },
    "node_modules/webpack-dev-server/node_modules/lodash": {
      "version": "4.17.15",
      "dev": true
    },
    "node_modules/lodash": {"version": "4.17.11", "dev": true}
  }
}"#;

    const CARGO_LOCK: &str = r#"version = 3

[[package]]
name = "app"
version = "0.1.0"
dependencies = [
 "chrono",
 "hyper 0.14.10",
]

[[package]]
name = "chrono"
version = "0.4.19"
source = "registry+https://github.com/rust-lang/crates.io-index"
dependencies = [
 "time 0.1.43",
]

[[package]]
name = "time"
version = "0.1.43"
source = "registry+https://github.com/rust-lang/crates.io-index"

[[package]]
name = "time"
version = "0.3.5"
source = "registry+https://github.com/rust-lang/crates.io-index"

[[package]]
name = "hyper"
version = "0.14.10"
source = "registry+https://github.com/rust-lang/crates.io-index"
"#;

    #[test]
    fn npm_chains_follow_node_resolution() {
        let graph = Graph::parse("web/package-lock.json", PACKAGE_LOCK_V3).unwrap();
        assert!(graph.is_direct("express"));
        assert!(!graph.is_direct("qs"));
        assert_eq!(
            graph.chain("qs", "6.7.0"),
            Some(vec!["express".to_string(), "qs".to_string()])
        );
        // http-proxy-middleware resolves lodash to the hoisted 4.17.11, not the nested copy.
        assert_eq!(
            graph.chain("lodash", "4.17.11"),
            Some(vec![
                "webpack-dev-server".to_string(),
                "http-proxy-middleware".to_string(),
                "lodash".to_string()
            ])
        );
        assert_eq!(
            graph.chain("lodash", "4.17.15"),
            None,
            "nothing requires it"
        );
        assert_eq!(
            graph.chain("express", "4.17.1"),
            Some(vec!["express".to_string()])
        );
        assert!(graph.find("lodash", "4.17.11").unwrap().dev);
        assert!(!graph.find("qs", "6.7.0").unwrap().dev);
        assert_eq!(graph.chain("left-pad", "1.0.0"), None);
    }

    #[test]
    fn cargo_chains_start_at_the_workspace_members_dependencies() {
        let graph = Graph::parse("Cargo.lock", CARGO_LOCK).unwrap();
        assert!(graph.is_direct("chrono"));
        assert!(!graph.is_direct("app"));
        assert_eq!(
            graph.chain("time", "0.1.43"),
            Some(vec!["chrono".to_string(), "time".to_string()])
        );
        assert_eq!(graph.chain("time", "0.3.5"), None);
        assert_eq!(
            graph.chain("hyper", "0.14.10"),
            Some(vec!["hyper".to_string()])
        );
    }

    #[test]
    fn npm_v1_nested_trees_resolve_like_installed_trees() {
        let lock = r#"{
  "lockfileVersion": 1,
  "dependencies": {
    "express": {"version": "4.17.1", "requires": {"qs": "6.7.0", "debug": "2.6.9"},
      "dependencies": {"debug": {"version": "2.6.9", "requires": {"ms": "2.0.0"}}}},
    "debug": {"version": "4.3.4", "dev": true, "requires": {"ms": "2.1.2"}},
    "ms": {"version": "2.1.2", "dev": true},
    "qs": {"version": "6.7.0"}
  }
}"#;
        let graph = Graph::parse("package-lock.json", lock).unwrap();
        // Roots are guessed: the top-level packages nothing requires.
        let roots: Vec<&str> = graph
            .roots()
            .iter()
            .map(|&i| graph.nodes()[i].name.as_str())
            .collect();
        assert_eq!(roots, ["debug", "express"]);
        assert_eq!(
            graph.chain("qs", "6.7.0"),
            Some(vec!["express".to_string(), "qs".to_string()])
        );
        // express's nested debug 2.6.9 requires ms, found up the tree at the top level.
        let nested = graph
            .nodes()
            .iter()
            .position(|n| n.path == "node_modules/express/node_modules/debug")
            .unwrap();
        let ms = graph.nodes()[nested].deps()[0];
        assert_eq!(graph.nodes()[ms].version, "2.1.2");
        assert!(graph.find("debug", "4.3.4").unwrap().dev);
        assert!(!graph.find("debug", "2.6.9").unwrap().dev);
    }

    #[test]
    fn built_graphs_give_shortest_paths_in_a_fixed_order() {
        // a → b → d, a → c → d, e → d; roots e and a (sorted to a, e).
        let nodes = vec![
            Node::new("a", "1", vec![1, 2]),
            Node::new("b", "1", vec![3]),
            Node::new("c", "1", vec![3, 99]),
            Node::new("d", "1", vec![]),
            Node::new("e", "1", vec![3]),
        ];
        let graph = Graph::new(nodes, vec![4, 0]);
        assert_eq!(graph.roots(), [0, 4]);
        assert_eq!(
            graph.nodes()[2].deps(),
            [3],
            "out-of-range dependencies are dropped"
        );
        assert_eq!(graph.path(graph.roots(), 3), Some(vec![4, 3]));
        assert_eq!(graph.path(&[0], 3), Some(vec![0, 1, 3]));
        let paths = Paths::new(&graph, &[0]);
        assert!(paths.reaches(2) && !paths.reaches(4));
        assert_eq!(paths.to(4), None);
        assert_eq!(paths.to(0), Some(vec![0]));
    }

    #[test]
    fn other_files_and_broken_content_give_no_graph() {
        assert!(Graph::parse("yarn.lock", "lodash@^4:\n  version \"4.17.21\"\n").is_none());
        assert!(Graph::parse("package-lock.json", "{not json").is_none());
        assert!(Graph::parse("package-lock.json", "{\"lockfileVersion\": 1}").is_none());
        assert!(Graph::parse("Cargo.lock", "[[package]]\nname = 1\n").is_none());
    }
}
