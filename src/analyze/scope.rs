//! How a vulnerable dependency is used, read from the manifests and lockfiles at head:
//! whether it is a development or test dependency, whether the project declares it itself
//! (direct) or another dependency pulls it in (transitive), and then which direct
//! dependency does.
//!
//! Development dependencies are recognised by where they are declared:
//!
//! | file | development when |
//! |---|---|
//! | `package.json` | under `devDependencies` |
//! | `composer.json` | under `require-dev` |
//! | `Cargo.toml` | in a `[dev-dependencies]` table (also per target) |
//! | `pyproject.toml` | `[tool.poetry.dev-dependencies]`, `[tool.poetry.group.NAME.dependencies]` or a PEP 735 `[dependency-groups]` / PEP 621 optional group named dev, test(s), lint, docs, typing |
//! | `requirements*.txt` | the file name says `dev` or `test` (`requirements-dev.txt`, `test-requirements.txt`) |
//! | `Gemfile` | inside `group :development`, `:test` (only those) or with `group:`/`groups:` naming only those |
//! | `pom.xml` | `<scope>test</scope>` in the `<dependency>` |
//! | `package-lock.json` | `"dev": true` |
//!
//! `go.mod` marks transitive requirements `// indirect`.

use super::lockfile::Graph;
use super::manifest::{self, is_lockfile};
use super::sources::Sources;
use super::upgrade::Declared;
use crate::model::{DependencyScope, Ecosystem, Package, Transitive};

/// Group names that mean "only for development".
const DEV_GROUPS: &[&str] = &[
    "dev",
    "develop",
    "development",
    "test",
    "tests",
    "testing",
    "lint",
    "docs",
    "typing",
];

/// The scope of `package`, declared at `declared` (direct manifest first).
pub fn scope(package: &Package, declared: &[Declared], sources: &Sources) -> DependencyScope {
    let direct_declaration = declared.iter().find(|d| !is_lockfile(&d.manifest));
    let lockfile_declaration = declared.iter().find(|d| is_lockfile(&d.manifest));
    let dev = match direct_declaration {
        Some(d) => sources
            .get(&d.manifest)
            .map(|file| is_dev(&d.manifest, file.text(), d.line)),
        None => None,
    }
    .or_else(|| {
        let lock = lockfile_declaration?;
        let graph = Graph::parse(&lock.manifest, sources.get(&lock.manifest)?.text())?;
        Some(graph.find(&package.name, package.version.as_deref()?)?.dev)
    });
    let direct = match direct_declaration {
        Some(d) if d.text.contains("// indirect") => Some(false),
        Some(_) => Some(true),
        None => lockfile_declaration
            .and_then(|lock| {
                let graph = Graph::parse(&lock.manifest, sources.get(&lock.manifest)?.text())?;
                Some(graph.is_direct(&package.name))
            })
            .or_else(|| {
                // A lockfile declares it and its direct manifest, read, does not.
                let lock = lockfile_declaration?;
                super::upgrade::manifest_candidates(package)
                    .iter()
                    .any(|m| !is_lockfile(m) && sources.get(m).is_some() && *m != lock.manifest)
                    .then_some(false)
            }),
    };
    DependencyScope { dev, direct }
}

/// For a package no manifest declares directly: the chain from the lockfile, the direct
/// dependency's declaration, and what to change to reach `to`.
pub fn transitive(
    package: &Package,
    declared: &[Declared],
    sources: &Sources,
    to: &str,
) -> Option<Transitive> {
    let version = package.version.as_deref()?;
    let lockfiles = super::upgrade::manifest_candidates(package)
        .into_iter()
        .chain(declared.iter().map(|d| d.manifest.clone()))
        .filter(|m| is_lockfile(m));
    let (lockfile, chain) = lockfiles.into_iter().find_map(|lockfile| {
        let graph = Graph::parse(&lockfile, sources.get(&lockfile)?.text())?;
        let chain = graph.chain(&package.name, version)?;
        (chain.len() > 1).then_some((lockfile, chain))
    })?;
    let direct = chain.first()?.clone();
    let manifest_path = companion_manifest(&lockfile);
    let declaration = manifest_path.as_ref().and_then(|m| {
        let file = sources.get(m)?;
        manifest::find_declaration(m, file.text(), &package.ecosystem, &direct, "")
    });
    let path = chain.join(" → ");
    let at = match (&manifest_path, &declaration) {
        (Some(m), Some(d)) => format!(" ({m} line {})", d.line),
        _ => String::new(),
    };
    let name = &package.name;
    let advice = match package.ecosystem {
        Ecosystem::Npm => format!(
            "`{name}` {version} is not declared directly: {path} ({lockfile}). Upgrade `{direct}`{at} to a release that depends on `{name}` {to} or later, or pin it with an npm override: `\"overrides\": {{\"{name}\": \"{to}\"}}` in package.json, then `npm install`."
        ),
        Ecosystem::CratesIo => format!(
            "`{name}` {version} is not declared directly: {path} ({lockfile}). Run `cargo update -p {name}@{version} --precise {to}`; if the requirement of `{}` does not allow {to}, upgrade `{direct}`{at} first.",
            chain
                .get(chain.len().saturating_sub(2))
                .map_or(direct.as_str(), String::as_str)
        ),
        _ => format!(
            "`{name}` {version} is not declared directly: {path} ({lockfile}). Upgrade `{direct}`{at} to a release that requires `{name}` {to} or later."
        ),
    };
    Some(Transitive {
        lockfile,
        chain,
        direct,
        direct_manifest: declaration.as_ref().and(manifest_path),
        direct_line: declaration.map(|d| d.line),
        advice,
    })
}

fn companion_manifest(lockfile: &str) -> Option<String> {
    let (dir, file) = match lockfile.rsplit_once('/') {
        Some((dir, file)) => (format!("{dir}/"), file),
        None => (String::new(), lockfile),
    };
    let manifest = match file {
        "package-lock.json" | "npm-shrinkwrap.json" => "package.json",
        "Cargo.lock" => "Cargo.toml",
        _ => return None,
    };
    Some(format!("{dir}{manifest}"))
}

/// Whether line `line` (1-based) of the manifest at `path` declares a development-only
/// dependency.
pub fn is_dev(path: &str, text: &str, line: u32) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    let lines: Vec<&str> = text.lines().collect();
    let Some(index) = usize::try_from(line).ok().and_then(|l| l.checked_sub(1)) else {
        return false;
    };
    if index >= lines.len() {
        return false;
    }
    let before = &lines[..=index];
    match name {
        "package.json" => enclosing_json_key(before).as_deref() == Some("devDependencies"),
        "composer.json" => enclosing_json_key(before).as_deref() == Some("require-dev"),
        "Cargo.toml" => toml_header(before).is_some_and(|h| h.ends_with("dev-dependencies")),
        "pyproject.toml" => pyproject_dev(before),
        "Gemfile" => gemfile_dev(before),
        "pom.xml" => pom_test_scope(&lines, index),
        "package-lock.json" | "npm-shrinkwrap.json" => npm_lock_dev(&lines, index),
        _ if name.starts_with("requirements") || name.ends_with("requirements.txt") => {
            let lower = path.to_ascii_lowercase();
            lower.contains("dev") || lower.contains("test")
        }
        _ => false,
    }
}

/// The key of the innermost JSON object the last line sits in: the nearest line above it
/// with less indentation that opens `"key": {`.
fn enclosing_json_key(lines: &[&str]) -> Option<String> {
    let (last, above) = lines.split_last()?;
    let mut indent = indentation(last);
    for line in above.iter().rev() {
        let trimmed = line.trim();
        if trimmed.is_empty() || indentation(line) >= indent {
            continue;
        }
        indent = indentation(line);
        if let Some(key) = trimmed
            .strip_suffix('{')
            .map(str::trim_end)
            .and_then(|t| t.strip_suffix(':'))
        {
            return Some(key.trim().trim_matches('"').to_string());
        }
    }
    None
}

fn indentation(line: &str) -> usize {
    line.len() - line.trim_start().len()
}

/// The TOML table header the last line belongs to (`dev-dependencies`,
/// `tool.poetry.group.dev.dependencies`), quotes removed.
fn toml_header(lines: &[&str]) -> Option<String> {
    lines.iter().rev().find_map(|line| {
        let trimmed = line.trim();
        let header = trimmed.strip_prefix('[')?.split(']').next()?;
        Some(
            header
                .trim()
                .trim_start_matches('[')
                .replace(['"', '\''], ""),
        )
    })
}

fn pyproject_dev(lines: &[&str]) -> bool {
    let Some(header) = toml_header(lines) else {
        return false;
    };
    if header == "tool.poetry.dev-dependencies" {
        return true;
    }
    if let Some(group) = header
        .strip_prefix("tool.poetry.group.")
        .and_then(|rest| rest.strip_suffix(".dependencies"))
    {
        return DEV_GROUPS.contains(&group);
    }
    if header == "dependency-groups" || header == "project.optional-dependencies" {
        // The array the line sits in: the nearest `name = [` above it.
        return lines
            .iter()
            .rev()
            .take_while(|l| !l.trim_start().starts_with('['))
            .find_map(|l| {
                let (key, value) = l.split_once('=')?;
                value
                    .trim_start()
                    .starts_with('[')
                    .then(|| key.trim().trim_matches('"'))
            })
            .is_some_and(|group| DEV_GROUPS.contains(&group.to_ascii_lowercase().as_str()));
    }
    false
}

/// Groups named by `:symbol`s, `"strings"` or `'strings'` in `text`.
fn gem_groups(text: &str) -> Vec<String> {
    text.split(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
        .filter_map(|t| t.strip_prefix(':'))
        .filter(|t| !t.is_empty())
        .map(str::to_string)
        .collect()
}

fn only_dev(groups: &[String]) -> bool {
    !groups.is_empty() && groups.iter().all(|g| DEV_GROUPS.contains(&g.as_str()))
}

fn gemfile_dev(lines: &[&str]) -> bool {
    let Some((last, above)) = lines.split_last() else {
        return false;
    };
    if let Some((_, groups)) = last
        .split_once("group:")
        .or_else(|| last.split_once("groups:"))
    {
        let named: Vec<String> = groups
            .split(|c: char| !(c.is_alphanumeric() || c == '_'))
            .filter(|t| !t.is_empty())
            .map(str::to_string)
            .collect();
        return only_dev(&named);
    }
    // The open `… do` blocks above the line, innermost last.
    let mut open: Vec<&str> = Vec::new();
    for line in above {
        let trimmed = line.trim();
        if trimmed == "end" {
            open.pop();
        } else if trimmed.ends_with(" do") || trimmed.contains(" do |") {
            open.push(trimmed);
        }
    }
    open.iter().any(|block| {
        block
            .strip_prefix("group ")
            .is_some_and(|rest| only_dev(&gem_groups(rest)))
    })
}

fn pom_test_scope(lines: &[&str], index: usize) -> bool {
    let start = lines[..=index]
        .iter()
        .rposition(|l| l.trim_start().starts_with("<dependency>"));
    let end = lines[index..]
        .iter()
        .position(|l| l.contains("</dependency>"))
        .map(|offset| index + offset);
    match (start, end) {
        (Some(start), Some(end)) => lines[start..=end]
            .iter()
            .any(|l| l.replace(' ', "").contains("<scope>test</scope>")),
        _ => false,
    }
}

/// A `"version"` line of a package-lock entry whose entry says `"dev": true`.
fn npm_lock_dev(lines: &[&str], index: usize) -> bool {
    let indent = indentation(lines[index]);
    let same_entry = |l: &&&str| indentation(l) == indent;
    let up = lines[..index]
        .iter()
        .rev()
        .take_while(|l| indentation(l) >= indent)
        .filter(same_entry);
    let down = lines[index + 1..]
        .iter()
        .take_while(|l| indentation(l) >= indent)
        .filter(same_entry);
    up.chain(down)
        .any(|l| l.replace(' ', "").starts_with("\"dev\":true"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dev_at(path: &str, text: &str, needle: &str) -> bool {
        let line = text
            .lines()
            .position(|l| l.contains(needle))
            .unwrap_or_else(|| panic!("{needle} in {path}")) as u32
            + 1;
        is_dev(path, text, line)
    }

    #[test]
    fn development_dependencies_per_manifest() {
        let package_json = "{\n  \"dependencies\": {\n    \"express\": \"^4.17.1\"\n  },\n  \"devDependencies\": {\n    \"mocha\": \"^6.2.0\"\n  }\n}\n";
        assert!(!dev_at("package.json", package_json, "express"));
        assert!(dev_at("web/package.json", package_json, "mocha"));

        let composer = "{\n    \"require\": {\n        \"guzzlehttp/guzzle\": \"7.4.1\"\n    },\n    \"require-dev\": {\n        \"phpunit/phpunit\": \"^9.5\"\n    }\n}\n";
        assert!(!dev_at("composer.json", composer, "guzzle"));
        assert!(dev_at("composer.json", composer, "phpunit"));

        let cargo = "[dependencies]\nserde = \"1\"\n\n[dev-dependencies]\nproptest = \"1\"\n\n[target.'cfg(unix)'.dev-dependencies]\nnix = \"0.26\"\n";
        assert!(!dev_at("Cargo.toml", cargo, "serde"));
        assert!(dev_at("Cargo.toml", cargo, "proptest"));
        assert!(dev_at("Cargo.toml", cargo, "nix"));

        let pyproject = "[project]\ndependencies = [\n    \"Jinja2>=2.10\",\n]\n\n[project.optional-dependencies]\ntest = [\n    \"pytest>=7\",\n]\nserver = [\n    \"gunicorn>=20\",\n]\n\n[tool.poetry.group.dev.dependencies]\nblack = \"^23.1\"\n\n[tool.poetry.dependencies]\nwerkzeug = \"^2.2.0\"\n";
        assert!(!dev_at("pyproject.toml", pyproject, "Jinja2"));
        assert!(dev_at("pyproject.toml", pyproject, "pytest"));
        assert!(!dev_at("pyproject.toml", pyproject, "gunicorn"));
        assert!(dev_at("pyproject.toml", pyproject, "black"));
        assert!(!dev_at("pyproject.toml", pyproject, "werkzeug"));

        let gemfile = "source 'https://rubygems.org'\ngem 'rails', '~> 5.2'\ngroup :development, :test do\n  gem 'rspec-rails', '~> 4.0'\nend\ngroup :production, :development do\n  gem 'pg'\nend\ngem 'byebug', group: :development\n";
        assert!(!dev_at("Gemfile", gemfile, "rails'"));
        assert!(dev_at("Gemfile", gemfile, "rspec-rails"));
        assert!(!dev_at("Gemfile", gemfile, "'pg'"));
        assert!(dev_at("Gemfile", gemfile, "byebug"));

        let pom = "<dependencies>\n  <dependency>\n    <artifactId>log4j-core</artifactId>\n    <version>2.14.1</version>\n  </dependency>\n  <dependency>\n    <artifactId>junit</artifactId>\n    <version>4.12</version>\n    <scope>test</scope>\n  </dependency>\n</dependencies>\n";
        assert!(!dev_at("pom.xml", pom, "2.14.1"));
        assert!(dev_at("pom.xml", pom, "4.12"));

        let requirements = "pytest==7.0.0\n";
        assert!(dev_at("requirements-dev.txt", requirements, "pytest"));
        assert!(!dev_at("requirements.txt", requirements, "pytest"));

        let lock = "{\n  \"packages\": {\n    \"node_modules/lodash\": {\n      \"version\": \"4.17.11\",\n      \"dev\": true\n    },\n    \"node_modules/qs\": {\n      \"version\": \"6.7.0\"\n    }\n  }\n}\n";
        assert!(dev_at("package-lock.json", lock, "4.17.11"));
        assert!(!dev_at("package-lock.json", lock, "6.7.0"));
        assert!(!is_dev("package.json", package_json, 0));
        assert!(!is_dev("package.json", package_json, 999));
    }
}
