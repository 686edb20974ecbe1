//! The components a repository declares, read from the manifests and lockfiles it holds:
//! npm (`package-lock.json`, `npm-shrinkwrap.json`, `yarn.lock`, `pnpm-lock.yaml` with
//! `package.json`), Cargo, Poetry, uv, pip requirements, Go modules, Maven, Bundler and
//! Composer.
//!
//! Files in one directory belong together: a lockfile gives the versions and the graph
//! (chains), its manifest says which dependencies are direct and what they are for (runtime,
//! dev, test). Each format has a module of its own turning text into a [`Lock`] or a list of
//! [`Declared`] dependencies; this module joins them into [`Component`]s.
//!
//! Pure: texts in, values out. A file that cannot be read gives a warning naming it and the
//! position, never a panic, and the other files are still read.

mod bundler;
mod cargo;
mod composer;
mod gomod;
mod maven;
mod npm;
mod pnpm;
mod poetry;
mod pyproject;
mod requirements;
mod uv;
mod yarn;

#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, HashMap};

use crate::analyze::lockfile::{Graph, Paths};
use crate::analyze::manifest::find_declaration;
use crate::model::{Component, ComponentScope, Ecosystem, Package};

/// The components read from a tree's inventory files, and what could not be read.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Inventory {
    /// Sorted by manifest, then package URL; one per package URL and manifest.
    pub components: Vec<Component>,
    /// One per unreadable file: `path: line L, column C: what is wrong`.
    pub warnings: Vec<String>,
}

/// Whether `path` is a manifest or lockfile this module reads (any directory; paths with a
/// `node_modules/` or `vendor/` segment are skipped: installed copies, not the project's).
pub fn is_inventory_file(path: &str) -> bool {
    let path = path.replace('\\', "/");
    if path
        .split('/')
        .any(|segment| segment == "node_modules" || segment == "vendor")
    {
        return false;
    }
    Kind::of(file_name(&path)).is_some()
}

/// Components of a repository (or any tree) from the texts of its inventory files,
/// `(repository-relative path, text)`; other files are ignored.
pub fn read(files: &[(String, String)]) -> Inventory {
    let mut directories: BTreeMap<&str, Vec<(Kind, &str, &str)>> = BTreeMap::new();
    for (path, text) in files {
        if !is_inventory_file(path) {
            continue;
        }
        let Some(kind) = Kind::of(file_name(path)) else {
            continue;
        };
        directories
            .entry(directory(path))
            .or_default()
            .push((kind, path.as_str(), text.as_str()));
    }
    let locked_dirs: Vec<(&str, Family)> = directories
        .iter()
        .flat_map(|(dir, files)| {
            files
                .iter()
                .filter(|(kind, _, _)| kind.is_lockfile())
                .map(move |(kind, _, _)| (*dir, kind.family()))
        })
        .collect();
    let mut out = Output::default();
    for (dir, files) in &directories {
        read_directory(dir, files, &directories, &locked_dirs, &mut out);
    }
    let mut components = out.components;
    components.sort_by(|a, b| {
        (
            &a.package.manifest,
            &a.purl,
            a.direct != Some(true),
            a.scope,
        )
            .cmp(&(
                &b.package.manifest,
                &b.purl,
                b.direct != Some(true),
                b.scope,
            ))
    });
    components.dedup_by(|b, a| a.package.manifest == b.package.manifest && a.purl == b.purl);
    Inventory {
        components,
        warnings: out.warnings,
    }
}

/// The files this module reads, by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    PackageJson,
    PackageLock,
    YarnLock,
    PnpmLock,
    CargoToml,
    CargoLock,
    Pyproject,
    PoetryLock,
    UvLock,
    Requirements,
    GoMod,
    GoSum,
    Pom,
    Gemfile,
    GemfileLock,
    ComposerJson,
    ComposerLock,
}

/// Files that describe the same packages: a lockfile and its manifest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Family {
    Npm,
    Cargo,
    Python,
    Go,
    Maven,
    Ruby,
    Php,
}

impl Kind {
    fn of(name: &str) -> Option<Kind> {
        Some(match name {
            "package.json" => Kind::PackageJson,
            "package-lock.json" | "npm-shrinkwrap.json" => Kind::PackageLock,
            "yarn.lock" => Kind::YarnLock,
            "pnpm-lock.yaml" => Kind::PnpmLock,
            "Cargo.toml" => Kind::CargoToml,
            "Cargo.lock" => Kind::CargoLock,
            "pyproject.toml" => Kind::Pyproject,
            "poetry.lock" => Kind::PoetryLock,
            "uv.lock" => Kind::UvLock,
            "go.mod" => Kind::GoMod,
            "go.sum" => Kind::GoSum,
            "pom.xml" => Kind::Pom,
            "Gemfile" | "gems.rb" => Kind::Gemfile,
            "Gemfile.lock" | "gems.locked" => Kind::GemfileLock,
            "composer.json" => Kind::ComposerJson,
            "composer.lock" => Kind::ComposerLock,
            _ if name.starts_with("requirements") && name.ends_with(".txt") => Kind::Requirements,
            _ => return None,
        })
    }

    fn is_lockfile(self) -> bool {
        matches!(
            self,
            Kind::PackageLock
                | Kind::YarnLock
                | Kind::PnpmLock
                | Kind::CargoLock
                | Kind::PoetryLock
                | Kind::UvLock
                | Kind::GemfileLock
                | Kind::ComposerLock
        )
    }

    fn family(self) -> Family {
        match self {
            Kind::PackageJson | Kind::PackageLock | Kind::YarnLock | Kind::PnpmLock => Family::Npm,
            Kind::CargoToml | Kind::CargoLock => Family::Cargo,
            Kind::Pyproject | Kind::PoetryLock | Kind::UvLock | Kind::Requirements => {
                Family::Python
            }
            Kind::GoMod | Kind::GoSum => Family::Go,
            Kind::Pom => Family::Maven,
            Kind::Gemfile | Kind::GemfileLock => Family::Ruby,
            Kind::ComposerJson | Kind::ComposerLock => Family::Php,
        }
    }

    fn ecosystem(self) -> Ecosystem {
        match self.family() {
            Family::Npm => Ecosystem::Npm,
            Family::Cargo => Ecosystem::CratesIo,
            Family::Python => Ecosystem::PyPI,
            Family::Go => Ecosystem::Go,
            Family::Maven => Ecosystem::Maven,
            Family::Ruby => Ecosystem::RubyGems,
            Family::Php => Ecosystem::Packagist,
        }
    }
}

/// What a lockfile says: its packages and who depends on whom, what it records of each
/// package, and which are direct.
pub(super) struct Lock {
    pub graph: Graph,
    /// Parallel to the graph's nodes.
    pub info: Vec<NodeInfo>,
    /// The direct dependencies the lockfile itself records (npm's root entry, uv's project,
    /// pnpm's importers, Bundler's `DEPENDENCIES`), with their scope where it says.
    pub direct: Vec<(usize, Option<ComponentScope>)>,
    /// The lockfile does not record the direct dependencies and `direct` is a guess (npm
    /// lockfile version 1: the top-level packages nothing else requires); good enough for
    /// chains, not to say what is direct. A manifest beside it settles it.
    pub guessed: bool,
}

impl Lock {
    /// A lock over `graph` with nothing recorded beyond it; its roots are the direct
    /// dependencies.
    fn from_graph(graph: Graph) -> Lock {
        let info = vec![NodeInfo::default(); graph.nodes().len()];
        let direct = graph.roots().iter().map(|&i| (i, None)).collect();
        Lock {
            graph,
            info,
            direct,
            guessed: false,
        }
    }
}

/// What a lockfile records of one package besides name, version and dependencies.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct NodeInfo {
    /// The scope the lockfile gives it (npm's `dev`, Poetry's `category`, Composer's
    /// `packages-dev`).
    pub scope: Option<ComponentScope>,
    /// The licence the lockfile states.
    pub license: Option<String>,
    /// The project itself (a workspace member, uv's virtual package), not a dependency.
    pub project: bool,
    /// The 1-based line of its entry, when the reader knows it better than
    /// [`find_declaration`] would guess.
    pub line: Option<u32>,
}

/// A dependency a manifest declares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Declared {
    pub name: String,
    pub scope: ComponentScope,
    /// The exact version, when the manifest pins one (`==1.2.3`, go.mod's versions).
    pub version: Option<String>,
    /// Whether it is the project's own choice (go.mod's `// indirect` lines are not);
    /// `None` when the file does not say (go.sum).
    pub direct: Option<bool>,
    /// The 1-based line that declares it, when the reader knows it.
    pub line: Option<u32>,
}

impl Declared {
    fn new(name: &str, scope: ComponentScope) -> Declared {
        Declared {
            name: name.to_string(),
            scope,
            version: None,
            direct: Some(true),
            line: None,
        }
    }
}

/// A manifest that was read: where, its text, and what it declares.
struct Manifest<'a> {
    path: &'a str,
    text: &'a str,
    declared: Vec<Declared>,
}

/// Why a file could not be read, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Unreadable {
    /// 1-based line and column, when known.
    pub position: Option<(usize, usize)>,
    pub message: String,
}

impl Unreadable {
    fn at(line: usize, column: usize, message: impl Into<String>) -> Unreadable {
        Unreadable {
            position: Some((line, column)),
            message: message.into(),
        }
    }

    fn json(error: &serde_json::Error) -> Unreadable {
        let message = error.to_string();
        // serde_json appends " at line L column C"; the position is printed separately.
        let message = match message.rfind(" at line ") {
            Some(i) => message[..i].to_string(),
            None => message,
        };
        Unreadable::at(error.line(), error.column(), message)
    }

    fn toml(text: &str, error: &toml::de::Error) -> Unreadable {
        let position = error.span().map(|span| line_column(text, span.start));
        Unreadable {
            position,
            message: error.message().trim().to_string(),
        }
    }

    fn yaml(error: &serde_yaml_ng::Error) -> Unreadable {
        Unreadable {
            position: error.location().map(|l| (l.line(), l.column())),
            message: crate::config::strip_position(&error.to_string()),
        }
    }

    /// YAML that nests flow collections too deeply for the parser to be safe on.
    fn yaml_guard(text: &str) -> Result<(), Unreadable> {
        match crate::config::nesting::too_deep(text) {
            Some((line, column)) => Err(Unreadable::at(
                line,
                column,
                "flow collections nested too deeply",
            )),
            None => Ok(()),
        }
    }

    fn warning(&self, path: &str) -> String {
        match self.position {
            Some((line, column)) => {
                format!("{path}: line {line}, column {column}: {}", self.message)
            }
            None => format!("{path}: {}", self.message),
        }
    }
}

/// The 1-based line and column of byte `offset` in `text`.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let column = before.len() - before.rfind('\n').map_or(0, |n| n + 1) + 1;
    (line, column)
}

#[derive(Default)]
struct Output {
    components: Vec<Component>,
    warnings: Vec<String>,
}

/// One file of a directory: its kind, path and text.
type File<'a> = (Kind, &'a str, &'a str);

fn read_directory(
    dir: &str,
    files: &[File],
    directories: &BTreeMap<&str, Vec<File>>,
    locked_dirs: &[(&str, Family)],
    out: &mut Output,
) {
    let first = |kind: Kind| files.iter().find(|(k, _, _)| *k == kind);
    // The directory of the lockfile that covers `below` for `family`: the nearest above it.
    let nearest_lock = |below: &str, family: Family| {
        locked_dirs
            .iter()
            .filter(|(locked, f)| *f == family && is_within(below, locked))
            .map(|(locked, _)| *locked)
            .max_by_key(|locked| locked.len())
    };

    for (manifest_kind, lock_kinds) in [
        (
            Kind::PackageJson,
            &[Kind::PackageLock, Kind::PnpmLock, Kind::YarnLock][..],
        ),
        (Kind::CargoToml, &[Kind::CargoLock][..]),
        (Kind::Pyproject, &[Kind::PoetryLock, Kind::UvLock][..]),
        (Kind::Gemfile, &[Kind::GemfileLock][..]),
        (Kind::ComposerJson, &[Kind::ComposerLock][..]),
    ] {
        let family = manifest_kind.family();
        let ecosystem = manifest_kind.ecosystem();
        let locks: Vec<&File> = files
            .iter()
            .filter(|(k, _, _)| lock_kinds.contains(k))
            .collect();
        if locks.is_empty() {
            // A manifest without a lockfile lists only what it declares; when a lockfile
            // above it covers it (a workspace member), that lockfile speaks for it.
            if nearest_lock(dir, family).is_none()
                && let Some(&(_, path, text)) = first(manifest_kind)
                && let Some(manifest) = read_manifest(manifest_kind, path, text, out)
            {
                out.components
                    .extend(from_manifest(&ecosystem, path, text, &manifest.declared));
            }
            continue;
        }
        let mut manifests: Vec<Manifest> = first(manifest_kind)
            .and_then(|&(kind, path, text)| read_manifest(kind, path, text, out))
            .into_iter()
            .collect();
        for (member, member_files) in directories {
            if *member == dir
                || !is_within(member, dir)
                || nearest_lock(member, family) != Some(dir)
            {
                continue;
            }
            if let Some(&(kind, path, text)) =
                member_files.iter().find(|(k, _, _)| *k == manifest_kind)
                && let Some(manifest) = read_manifest(kind, path, text, out)
            {
                manifests.push(manifest);
            }
        }
        for &&(kind, path, text) in &locks {
            let lock = match kind {
                Kind::PackageLock => npm::lock(text),
                Kind::YarnLock => yarn::lock(text, first(Kind::PackageJson).map(|f| f.2)),
                Kind::PnpmLock => pnpm::lock(text),
                Kind::CargoLock => cargo::lock(text),
                Kind::PoetryLock => poetry::lock(text),
                Kind::UvLock => uv::lock(text),
                Kind::GemfileLock => bundler::lock(text),
                Kind::ComposerLock => composer::lock(text),
                _ => continue,
            };
            match lock {
                Ok(lock) => {
                    out.components
                        .extend(from_lock(&ecosystem, (path, text, &lock), &manifests))
                }
                Err(e) => out.warnings.push(e.warning(path)),
            }
        }
    }

    // Manifests that are their own lock.
    for &(kind, path, text) in files {
        let parsed = match kind {
            Kind::Requirements => {
                let (declared, problem) = requirements::read(path, text);
                if let Some(problem) = problem {
                    out.warnings.push(problem.warning(path));
                }
                Ok(declared)
            }
            Kind::GoMod => gomod::go_mod(text),
            Kind::GoSum if first(Kind::GoMod).is_none() => Ok(gomod::go_sum(text)),
            Kind::Pom => maven::pom(text),
            _ => continue,
        };
        match parsed {
            Ok(declared) => {
                out.components
                    .extend(from_manifest(&kind.ecosystem(), path, text, &declared));
            }
            Err(e) => out.warnings.push(e.warning(path)),
        }
    }
}

/// A manifest read for a lockfile (or on its own); `None`, with a warning, when it cannot
/// be read.
fn read_manifest<'a>(
    kind: Kind,
    path: &'a str,
    text: &'a str,
    out: &mut Output,
) -> Option<Manifest<'a>> {
    let parsed = match kind {
        Kind::PackageJson => npm::manifest(text),
        Kind::CargoToml => cargo::manifest(text),
        Kind::Pyproject => pyproject::manifest(text),
        Kind::Gemfile => Ok(bundler::gemfile(text)),
        Kind::ComposerJson => composer::manifest(text),
        _ => return None,
    };
    match parsed {
        Ok(declared) => Some(Manifest {
            path,
            text,
            declared,
        }),
        Err(e) => {
            out.warnings.push(e.warning(path));
            None
        }
    }
}

/// Components of what a manifest declares, on its own.
fn from_manifest(
    ecosystem: &Ecosystem,
    path: &str,
    text: &str,
    declared: &[Declared],
) -> Vec<Component> {
    declared
        .iter()
        .filter_map(|d| {
            let package = Package {
                ecosystem: ecosystem.clone(),
                name: d.name.clone(),
                version: d.version.clone(),
                manifest: Some(path.to_string()),
            };
            let mut component = Component::new(package, d.scope)?;
            component.direct = d.direct;
            component.line = d.line.or_else(|| {
                find_declaration(
                    path,
                    text,
                    ecosystem,
                    &d.name,
                    d.version.as_deref().unwrap_or(""),
                )
                .map(|found| found.line)
            });
            Some(component)
        })
        .collect()
}

/// Components of a lockfile, with its manifests saying which are direct and what they are
/// for: the directory's own first, then those of the workspace members below it that the
/// lockfile covers. A direct dependency's manifest is the first that declares it.
fn from_lock(
    ecosystem: &Ecosystem,
    (lock_path, lock_text, lock): (&str, &str, &Lock),
    manifests: &[Manifest],
) -> Vec<Component> {
    let graph = &lock.graph;
    let nodes = graph.nodes();
    let key = |name: &str| normalize(ecosystem, name);
    let mut by_name: HashMap<String, Vec<usize>> = HashMap::new();
    for (i, node) in nodes.iter().enumerate() {
        if !lock.info[i].project {
            by_name.entry(key(&node.name)).or_default().push(i);
        }
    }
    let mut lock_direct: HashMap<usize, Option<ComponentScope>> = HashMap::new();
    for &(i, scope) in &lock.direct {
        let known = lock_direct.entry(i).or_insert(scope);
        // Listed as runtime and as dev: it runs.
        *known = match (*known, scope) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
    }

    // The direct dependencies and their scopes: the manifest's word first, then the lock's.
    let mut roots: BTreeMap<usize, ComponentScope> = BTreeMap::new();
    let mut declared_in_manifest: HashMap<usize, (&Manifest, &Declared)> = HashMap::new();
    let declarations = manifests
        .iter()
        .flat_map(|m| m.declared.iter().map(move |d| (m, d)));
    for (manifest, declared) in declarations {
        let Some(candidates) = by_name.get(&key(&declared.name)) else {
            continue;
        };
        let chosen = candidates
            .iter()
            .copied()
            .find(|i| lock_direct.contains_key(i))
            .or_else(|| {
                candidates
                    .iter()
                    .copied()
                    .find(|i| graph.roots().contains(i))
            })
            .or_else(|| {
                // npm keeps nested copies too; the top-level one is the direct dependency.
                candidates
                    .iter()
                    .copied()
                    .min_by_key(|&i| (nodes[i].path.len(), i))
            });
        let Some(chosen) = chosen else {
            continue;
        };
        let scope = roots.entry(chosen).or_insert(declared.scope);
        *scope = (*scope).min(declared.scope);
        declared_in_manifest
            .entry(chosen)
            .or_insert((manifest, declared));
    }
    let named_in_manifest = |i: usize| {
        declared_in_manifest
            .keys()
            .any(|&d| key(&nodes[d].name) == key(&nodes[i].name))
    };
    let guess_overruled = lock.guessed && !declared_in_manifest.is_empty();
    for (&i, &scope) in &lock_direct {
        if guess_overruled || lock.info[i].project || named_in_manifest(i) {
            continue;
        }
        roots
            .entry(i)
            .or_insert(scope.or(lock.info[i].scope).unwrap_or_default());
    }
    let knows_direct = !roots.is_empty() && (!lock.guessed || !declared_in_manifest.is_empty());
    let roots_of = |scope: ComponentScope| -> Vec<usize> {
        let mut of: Vec<usize> = roots
            .iter()
            .filter(|(_, s)| **s == scope)
            .map(|(i, _)| *i)
            .collect();
        sort_by_name(graph, &mut of);
        of
    };
    let scoped_roots: Vec<(ComponentScope, Vec<usize>)> = ComponentScope::ALL
        .into_iter()
        .map(|scope| (scope, roots_of(scope)))
        .collect();
    let mut all_roots: Vec<usize> = roots.keys().copied().collect();
    sort_by_name(graph, &mut all_roots);
    let paths_by_scope: Vec<(ComponentScope, Paths)> = scoped_roots
        .iter()
        .map(|(scope, from)| (*scope, Paths::new(graph, from)))
        .collect();
    let all_paths = Paths::new(graph, &all_roots);

    let lock_lines = LineIndex::new(lock_text);
    let mut components = Vec::new();
    for (i, node) in nodes.iter().enumerate() {
        let info = &lock.info[i];
        if info.project || node.version.is_empty() {
            continue;
        }
        let direct = roots.get(&i).copied();
        let scope = match direct {
            Some(scope) => scope,
            None => info.scope.unwrap_or_else(|| {
                paths_by_scope
                    .iter()
                    .find(|(_, paths)| paths.reaches(i))
                    .map(|(scope, _)| *scope)
                    .unwrap_or_default()
            }),
        };
        let (path, line) = match declared_in_manifest.get(&i) {
            Some((manifest, declared)) => (
                manifest.path,
                declared.line.or_else(|| {
                    find_declaration(
                        manifest.path,
                        manifest.text,
                        ecosystem,
                        &declared.name,
                        &node.version,
                    )
                    .map(|d| d.line)
                }),
            ),
            None => (
                lock_path,
                info.line.or_else(|| {
                    lock_lines.declaration(lock_path, ecosystem, &node.name, &node.version)
                }),
            ),
        };
        let package = Package {
            ecosystem: ecosystem.clone(),
            name: node.name.clone(),
            version: Some(node.version.clone()),
            manifest: Some(path.to_string()),
        };
        let Some(mut component) = Component::new(package, scope) else {
            continue;
        };
        component.direct = knows_direct.then_some(direct.is_some());
        component.line = line;
        component.licenses.declared = info.license.clone();
        if direct.is_none() && !roots.is_empty() {
            let path = paths_by_scope
                .iter()
                .find(|(s, _)| *s == scope)
                .and_then(|(_, paths)| paths.to(i))
                .or_else(|| all_paths.to(i));
            if let Some(path) = path {
                component.chain = path
                    .into_iter()
                    .map(|n| format!("{}@{}", nodes[n].name, nodes[n].version))
                    .collect();
            }
        }
        components.push(component);
    }
    components
}

/// The lines of a lockfile by the names they mention, so that finding each package's line
/// looks at the few lines that name it rather than at the whole file (a lockfile of
/// thousands of packages would otherwise take minutes).
struct LineIndex<'a> {
    text: &'a str,
    lines: Vec<&'a str>,
    by_name: HashMap<&'a str, Vec<usize>>,
    /// Lines the lookups may still read ([`LineIndex::LINE_BUDGET`]).
    budget: std::cell::Cell<usize>,
}

impl<'a> LineIndex<'a> {
    /// How many lines below a line naming a package its version may be (npm puts it first
    /// in the entry, old Poetry locks after three other keys).
    const WINDOW: usize = 16;
    /// The most lines naming one package a lookup reads (real lockfiles name a package on a
    /// few dozen lines at most).
    const MAX_CANDIDATES: usize = 256;
    /// Lines all the lookups of one file may read: a real lockfile of 10,000 packages needs
    /// well under a tenth of it.
    const LINE_BUDGET: usize = 50_000_000;

    fn new(text: &'a str) -> LineIndex<'a> {
        let lines: Vec<&str> = text.lines().collect();
        let mut by_name: HashMap<&str, Vec<usize>> = HashMap::new();
        let is_name_char =
            |c: char| c.is_ascii_alphanumeric() || matches!(c, '@' | '/' | '.' | '_' | '-');
        for (index, line) in lines.iter().enumerate() {
            for token in line
                .split(|c: char| !is_name_char(c))
                .filter(|t| !t.is_empty())
            {
                // `node_modules/@s/a` also names `@s/a` and `a`; `a@1.0.0` names `a`.
                let suffixes = std::iter::once(token)
                    .chain(token.match_indices('/').map(|(at, _)| &token[at + 1..]));
                for name in suffixes {
                    let before_version = name
                        .get(1..)
                        .and_then(|rest| rest.find('@'))
                        .map(|at| &name[..at + 1]);
                    for name in std::iter::once(name).chain(before_version) {
                        let list = by_name.entry(name).or_default();
                        if list.last() != Some(&index) {
                            list.push(index);
                        }
                    }
                }
            }
        }
        LineIndex {
            text,
            lines,
            by_name,
            budget: std::cell::Cell::new(Self::LINE_BUDGET),
        }
    }

    /// The 1-based line declaring `name`@`version` ([`find_declaration`] over the lines
    /// that name it and those just below).
    fn declaration(
        &self,
        path: &str,
        ecosystem: &Ecosystem,
        name: &str,
        version: &str,
    ) -> Option<u32> {
        let Some(candidates) = self.by_name.get(name) else {
            return find_declaration(path, self.text, ecosystem, name, version).map(|d| d.line);
        };
        // A name on very many lines (a hostile lockfile nesting one package thousands of
        // times) is looked at only where its version is written near it: otherwise every
        // lookup would read every copy, quadratic in the copies.
        // And a file's lookups together read a bounded number of lines: past that, packages
        // keep no line rather than hold the review.
        let cost = candidates.len().saturating_mul(Self::WINDOW);
        if cost > self.budget.get() {
            return None;
        }
        self.budget.set(self.budget.get() - cost);
        let near_version: Vec<usize>;
        let candidates = if candidates.len() > Self::MAX_CANDIDATES {
            near_version = candidates
                .iter()
                .copied()
                .filter(|&start| {
                    let end = (start + Self::WINDOW).min(self.lines.len());
                    self.lines[start..end]
                        .iter()
                        .any(|line| line.contains(version))
                })
                .take(Self::MAX_CANDIDATES)
                .collect();
            &near_version
        } else {
            candidates
        };
        let mut excerpt = String::new();
        let mut origin: Vec<usize> = Vec::new();
        for &start in candidates {
            let from = origin.last().map_or(start, |&last| start.max(last + 1));
            let end = (start + Self::WINDOW).min(self.lines.len());
            for index in from..end {
                excerpt.push_str(self.lines[index]);
                excerpt.push('\n');
                origin.push(index);
            }
        }
        let found = find_declaration(path, &excerpt, ecosystem, name, version)?;
        let index = origin.get(usize::try_from(found.line).ok()?.checked_sub(1)?)?;
        u32::try_from(index + 1).ok()
    }
}

fn sort_by_name(graph: &Graph, indices: &mut [usize]) {
    let nodes = graph.nodes();
    indices.sort_by(|&a, &b| {
        (&nodes[a].name, &nodes[a].version, a).cmp(&(&nodes[b].name, &nodes[b].version, b))
    });
}

/// A package name as the ecosystem compares names: PyPI ignores case and treats runs of
/// `-`, `_` and `.` alike (PEP 503); the others compare as written.
pub(super) fn normalize(ecosystem: &Ecosystem, name: &str) -> String {
    match ecosystem {
        Ecosystem::PyPI => {
            let mut out = String::with_capacity(name.len());
            for c in name.trim().chars() {
                if matches!(c, '-' | '_' | '.') {
                    if !out.ends_with('-') {
                        out.push('-');
                    }
                } else {
                    out.push(c.to_ascii_lowercase());
                }
            }
            out
        }
        Ecosystem::Packagist => name.trim().to_ascii_lowercase(),
        _ => name.trim().to_string(),
    }
}

/// The scope a dependency group's name suggests: `test`/`tests`/`testing` → test, anything
/// else (dev, lint, docs, …) → dev.
pub(super) fn group_scope(group: &str) -> ComponentScope {
    if group.to_ascii_lowercase().contains("test") {
        ComponentScope::Test
    } else {
        ComponentScope::Dev
    }
}

fn file_name(path: &str) -> &str {
    path.rsplit(['/', '\\']).next().unwrap_or(path)
}

fn directory(path: &str) -> &str {
    path.rfind(['/', '\\']).map_or("", |i| &path[..i])
}

/// Whether directory `dir` is `ancestor` or below it (`""` is the root).
fn is_within(dir: &str, ancestor: &str) -> bool {
    ancestor.is_empty()
        || dir == ancestor
        || dir
            .strip_prefix(ancestor)
            .is_some_and(|rest| rest.starts_with('/'))
}
