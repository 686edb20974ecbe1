//! Where a dependency's version is written, and how that line reads after an upgrade. Works
//! on the text of manifests and lockfiles line by line, without parsing each format, so that
//! a suggestion can point at (and rewrite) exactly the line a reviewer would edit.
//!
//! A declaration is found in two steps: lines naming the package (with name boundaries, so
//! `react` never matches `react-dom`), then the version they set — on the same line
//! (`"lodash": "^4.17.15"`, `requests==2.19.1`, `gem 'rails', '~> 5.2'`) or on the
//! `version` key of the entry the line opens (`"node_modules/x": {`, `name = "x"`,
//! `<artifactId>x</artifactId>`, yarn's `x@^1.0.0:`). When several lines name the package,
//! the one whose version best fits the installed version wins.

use std::ops::Range;

use crate::model::Ecosystem;

use super::versions::{self, Version};

/// File names of the manifests and lockfiles posture understands (`requirements*.txt` too).
const MANIFEST_NAMES: &[&str] = &[
    "package.json",
    "package-lock.json",
    "npm-shrinkwrap.json",
    "yarn.lock",
    "pnpm-lock.yaml",
    "pyproject.toml",
    "poetry.lock",
    "Pipfile",
    "Pipfile.lock",
    "Cargo.toml",
    "Cargo.lock",
    "go.mod",
    "go.sum",
    "pom.xml",
    "build.gradle",
    "build.gradle.kts",
    "Gemfile",
    "Gemfile.lock",
    "composer.json",
    "composer.lock",
];

/// How far below an entry's opening line its `version` key may be (Pipfile.lock lists many
/// hashes first).
const LOOKAHEAD_LINES: usize = 200;
/// How many lines at the opening line's own indentation may precede the `version` key
/// (pom.xml: `<artifactId>`, then maybe `<type>`, `<scope>`, then `<version>`).
const LOOKAHEAD_SIBLINGS: usize = 3;

/// Whether `path` names a manifest or lockfile posture understands.
pub fn is_manifest(path: &str) -> bool {
    let name = file_name(path);
    MANIFEST_NAMES.contains(&name) || (name.starts_with("requirements") && name.ends_with(".txt"))
}

/// Whether `path` names a lockfile (written by a package manager, not edited by hand).
pub fn is_lockfile(path: &str) -> bool {
    matches!(
        file_name(path),
        "package-lock.json"
            | "npm-shrinkwrap.json"
            | "yarn.lock"
            | "pnpm-lock.yaml"
            | "poetry.lock"
            | "Pipfile.lock"
            | "uv.lock"
            | "pdm.lock"
            | "Cargo.lock"
            | "go.sum"
            | "Gemfile.lock"
            | "composer.lock"
    )
}

/// The line of a manifest that sets a package's version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Declaration {
    /// 1-based.
    pub line: u32,
    /// The whole line, without its line ending.
    pub text: String,
}

/// The line that sets `name`'s version to `version` in this manifest or lockfile: the line
/// holding the version text (for multi-line entries, the `version` line below the name).
/// Among several candidates, an exact version beats an operator on the same version
/// (`^1.2.5`), which beats a compatible range (`^1.2.0` for 1.2.5), which beats a line
/// without a version, which beats a different version; ties go to `version` keys, then to
/// the first line.
pub fn find_declaration(
    manifest_path: &str,
    content: &str,
    ecosystem: &Ecosystem,
    name: &str,
    version: &str,
) -> Option<Declaration> {
    let lines: Vec<&str> = content.lines().collect();
    // yarn.lock entry keys list the requested ranges; the resolved version is below.
    let keys_list_ranges = file_name(manifest_path) == "yarn.lock";
    let installed = versions::parse(ecosystem, version);
    let spellings = name_spellings(ecosystem, name);
    let mut best: Option<Candidate> = None;
    for (index, line) in lines.iter().enumerate() {
        let Some(name_end) = spellings
            .iter()
            .find_map(|spelling| find_name(line, spelling, ecosystem))
        else {
            continue;
        };
        let candidate =
            Candidate::for_name_line(&lines, index, name_end, keys_list_ranges, |line, run| {
                fit(ecosystem, line, run, version, installed.as_ref())
            });
        if best.as_ref().is_none_or(|b| candidate.rank() > b.rank()) {
            best = Some(candidate);
        }
    }
    let best = best?;
    Some(Declaration {
        line: u32::try_from(best.index + 1).ok()?,
        text: lines.get(best.index)?.to_string(),
    })
}

/// `line` with its version text replaced by `to`, keeping the operator (`^`, `~`, `~>`,
/// `==`, `>=`, none), a `v` prefix and everything else. The version text is `from` if the
/// line holds it, else the first version on the line (a range such as `^1.2.0` declaring the
/// installed 1.2.5). `None` when the line holds no version.
pub fn rewrite_declaration(line: &str, from: &str, to: &str) -> Option<String> {
    let from = strip_v(from.trim());
    let to = strip_v(to.trim());
    let runs = version_runs(line, 0);
    let run = runs
        .iter()
        .find(|run| &line[(*run).clone()] == from)
        .or_else(|| runs.first())?;
    Some(format!("{}{to}{}", &line[..run.start], &line[run.end..]))
}

fn file_name(path: &str) -> &str {
    path.rsplit(['/', '\\']).next().unwrap_or(path)
}

fn strip_v(text: &str) -> &str {
    text.strip_prefix(['v', 'V'])
        .filter(|rest| rest.starts_with(|c: char| c.is_ascii_digit()))
        .unwrap_or(text)
}

/// How well a declared version fits the installed one; declaration order is the ranking.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Fit {
    /// A version that cannot be the installed one.
    Mismatch,
    /// No version (`"*"`, `${property}`, an entry without a `version` key).
    Unknown,
    /// A range that admits the installed version (`^1.2.0`, `>=1.0`, `~> 5.2`).
    Compatible,
    /// The installed version behind a range operator (`^1.2.5`, `==1.2.5`).
    SameWithOperator,
    /// The installed version, pinned.
    Exact,
}

/// What the operator in front of a version makes of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Constraint {
    /// None, `=`, `==`, `===`.
    Pinned,
    /// `>`, `>=`.
    AtLeast,
    /// `^`, `~`, `~>`, `~=`.
    SameMajor,
    /// Anything else (`<`, `!=`, …).
    Other,
}

impl Constraint {
    /// The operator written just before the version starting at `start` (past any `v`).
    fn before(line: &str, start: usize) -> Constraint {
        let prefix = &line[..start];
        let prefix = prefix.strip_suffix(['v', 'V']).unwrap_or(prefix);
        let operator_start = prefix
            .trim_end_matches(|c: char| "^~=<>! ".contains(c))
            .len();
        match prefix[operator_start..].trim() {
            "" | "=" | "==" | "===" => Constraint::Pinned,
            op if op.starts_with('>') => Constraint::AtLeast,
            "^" | "~" | "~>" | "~=" => Constraint::SameMajor,
            _ => Constraint::Other,
        }
    }
}

/// How the version text at `run` of `line` fits the installed `version`.
fn fit(
    ecosystem: &Ecosystem,
    line: &str,
    run: &Range<usize>,
    version: &str,
    installed: Option<&Version>,
) -> Fit {
    let text = &line[run.clone()];
    let constraint = Constraint::before(line, run.start);
    let same = |fit_when_pinned: Fit| {
        if constraint == Constraint::Pinned {
            fit_when_pinned
        } else {
            Fit::SameWithOperator
        }
    };
    let (Some(declared), Some(installed)) = (versions::parse(ecosystem, text), installed) else {
        return if text == strip_v(version.trim()) {
            same(Fit::Exact)
        } else {
            Fit::Unknown
        };
    };
    let same_major = declared.breaking_component() == installed.breaking_component();
    match declared.cmp(installed) {
        std::cmp::Ordering::Equal => same(Fit::Exact),
        std::cmp::Ordering::Less
            if constraint == Constraint::AtLeast
                || matches!(constraint, Constraint::Pinned | Constraint::SameMajor)
                    && same_major =>
        {
            Fit::Compatible
        }
        _ => Fit::Mismatch,
    }
}

/// A line that may declare the package, and how well it fits.
struct Candidate {
    /// 0-based line index of the version text (or of the name when there is none).
    index: usize,
    fit: Fit,
    /// The version sits on a `version` key rather than next to the name.
    keyed: bool,
}

impl Candidate {
    fn rank(&self) -> (Fit, bool) {
        (self.fit, self.keyed)
    }

    /// The version a line naming the package (ending at `name_end`) sets: on the entry's
    /// `version` key when the line holds no version (or only ranges, `keys_list_ranges`),
    /// else the first version after the name.
    fn for_name_line(
        lines: &[&str],
        index: usize,
        name_end: usize,
        keys_list_ranges: bool,
        fit: impl Fn(&str, &Range<usize>) -> Fit,
    ) -> Candidate {
        let line = lines.get(index).copied().unwrap_or_default();
        let same_line = version_runs(line, name_end).into_iter().next();
        if keys_list_ranges || same_line.is_none() {
            if let Some(key_index) = version_key_below(lines, index) {
                let key_line = lines.get(key_index).copied().unwrap_or_default();
                let fit = version_runs(key_line, 0)
                    .first()
                    .map_or(Fit::Unknown, |run| fit(key_line, run));
                return Candidate {
                    index: key_index,
                    fit,
                    keyed: true,
                };
            }
        }
        Candidate {
            index,
            fit: same_line.map_or(Fit::Unknown, |run| fit(line, &run)),
            keyed: false,
        }
    }
}

/// The `version` key of the entry opened at `index`: the first such line among the deeper
/// indented lines below it and at most [`LOOKAHEAD_SIBLINGS`] lines at its own indentation,
/// before a blank line, a dedent or a closing `}`, `]`, `</…>`.
fn version_key_below(lines: &[&str], index: usize) -> Option<usize> {
    let key_indent = indentation(lines.get(index)?);
    let mut siblings = 0;
    for (offset, line) in lines
        .iter()
        .skip(index + 1)
        .take(LOOKAHEAD_LINES)
        .enumerate()
    {
        let trimmed = line.trim_start();
        let indent = indentation(line);
        if trimmed.is_empty() || indent < key_indent {
            return None;
        }
        if indent == key_indent {
            if trimmed.starts_with(['}', ']']) || trimmed.starts_with("</") {
                return None;
            }
            siblings += 1;
            if siblings > LOOKAHEAD_SIBLINGS {
                return None;
            }
        }
        if is_version_key(trimmed) {
            return Some(index + 1 + offset);
        }
    }
    None
}

fn indentation(line: &str) -> usize {
    line.len() - line.trim_start().len()
}

/// `"version": …`, `version = …`, `version: …`, yarn's `version "…"`, `<version>…`.
fn is_version_key(trimmed: &str) -> bool {
    if trimmed.starts_with("<version>") {
        return true;
    }
    let unquoted = trimmed.strip_prefix(['"', '\'']).unwrap_or(trimmed);
    unquoted
        .strip_prefix("version")
        .map(|rest| rest.strip_prefix(['"', '\'']).unwrap_or(rest))
        .is_some_and(|rest| rest.starts_with([':', '=', ' ']))
}

/// The names a package goes by in manifests: Maven's `group:artifact` also as the bare
/// artifact (`<artifactId>` in pom.xml).
fn name_spellings<'a>(ecosystem: &Ecosystem, name: &'a str) -> Vec<&'a str> {
    let name = name.trim();
    match (ecosystem, name.rsplit_once(':')) {
        (Ecosystem::Maven, Some((_, artifact))) if !artifact.is_empty() => vec![name, artifact],
        _ => vec![name],
    }
}

/// Characters that continue a package name leftwards (`@scope`, `pre-name`): a match must
/// not follow one.
fn is_name_char(c: char) -> bool {
    c.is_alphanumeric() || "-_.@".contains(c)
}

/// Characters that continue a package name rightwards (`name-suffix`, `module/v2`): a match
/// must not precede one. `@` may follow (`lodash@^4.17.0`), as may `:`, `[`, quotes, space.
fn continues_name(c: char) -> bool {
    c.is_alphanumeric() || "-_./".contains(c)
}

/// The byte offset just past the first whole-name occurrence of `name` in `line`.
fn find_name(line: &str, name: &str, ecosystem: &Ecosystem) -> Option<usize> {
    line.char_indices().find_map(|(start, _)| {
        let end = start + matches_at(&line[start..], name, ecosystem)?;
        let next_ok = line[end..]
            .chars()
            .next()
            .is_none_or(|c| !continues_name(c));
        (next_ok && starts_name(&line[..start])).then_some(end)
    })
}

/// Whether a name may start right after `prefix`: at a token start, after a
/// `node_modules/` path, or after a TOML `dependencies.` table prefix.
fn starts_name(prefix: &str) -> bool {
    match prefix.chars().next_back() {
        None => true,
        Some('/') => {
            let before = &prefix[..prefix.len() - 1];
            before.ends_with("node_modules")
                || before.chars().next_back().is_none_or(|c| !is_name_char(c))
        }
        Some('.') => prefix.ends_with("dependencies."),
        Some(c) => !is_name_char(c),
    }
}

/// The byte length of `name` at the start of `text` under the ecosystem's name rules.
fn matches_at(text: &str, name: &str, ecosystem: &Ecosystem) -> Option<usize> {
    let mut chars = text.char_indices();
    for expected in name.chars() {
        let (_, actual) = chars.next()?;
        if !same_name_char(ecosystem, actual, expected) {
            return None;
        }
    }
    Some(chars.next().map_or(text.len(), |(offset, _)| offset))
}

/// PyPI names compare case-insensitively with `-`, `_`, `.` equivalent (PEP 503); RubyGems,
/// NuGet and Packagist case-insensitively; the rest exactly.
fn same_name_char(ecosystem: &Ecosystem, a: char, b: char) -> bool {
    match ecosystem {
        Ecosystem::PyPI => a.eq_ignore_ascii_case(&b) || ("-_.".contains(a) && "-_.".contains(b)),
        Ecosystem::RubyGems | Ecosystem::NuGet | Ecosystem::Packagist => a.eq_ignore_ascii_case(&b),
        _ => a == b,
    }
}

/// The byte ranges of the version texts in `line` from byte `from` on: a digit at a token
/// start (or after a `v` at one) through the following letters, digits, `.`, `-`, `+`, `_`,
/// not ending on punctuation. Only texts that look like versions count: a number, or
/// numbers joined by dots before any suffix (`1to2` in a package name does not).
fn version_runs(line: &str, from: usize) -> Vec<Range<usize>> {
    let continues = |c: char| c.is_ascii_alphanumeric() || ".-+_".contains(c);
    let bytes = line.as_bytes();
    let mut runs = Vec::new();
    let mut index = from;
    while index < bytes.len() {
        let at_start = bytes[index].is_ascii_digit() && token_starts_at(bytes, index);
        if !at_start {
            index += 1;
            continue;
        }
        let length = line[index..]
            .find(|c: char| !continues(c))
            .unwrap_or(line.len() - index);
        let text = line[index..index + length].trim_end_matches(['.', '-', '+', '_']);
        if looks_like_version(text) {
            runs.push(index..index + text.len());
        }
        index += length.max(1);
    }
    runs
}

/// Whether a version may start at the digit at `index`: nothing name-like before it, or a
/// `v` with nothing name-like before that.
fn token_starts_at(bytes: &[u8], index: usize) -> bool {
    let separates = |i: Option<usize>| {
        i.and_then(|i| bytes.get(i))
            .is_none_or(|&b| !(b.is_ascii_alphanumeric() || b"._-".contains(&b)))
    };
    match index.checked_sub(1).and_then(|i| bytes.get(i)) {
        Some(b'v' | b'V') => separates(index.checked_sub(2)),
        _ => separates(index.checked_sub(1)),
    }
}

fn looks_like_version(text: &str) -> bool {
    let core_end = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    core_end == text.len() || text[..core_end].contains('.')
}

#[cfg(test)]
mod tests {
    use super::*;

    const PACKAGE_JSON: &str = r#"{
  "name": "shop",
  "version": "1.0.0",
  "dependencies": {
    "react-dom": "^16.8.0",
    "react": "^16.8.0",
    "@babel/core": "~7.4.0",
    "lodash": "^4.17.15"
  },
  "devDependencies": {
    "mocha": ">=5.0"
  }
}"#;

    const PACKAGE_LOCK: &str = r#"{
  "name": "shop",
  "lockfileVersion": 2,
  "packages": {
    "": {
      "dependencies": {
        "lodash": "^4.17.15"
      }
    },
    "node_modules/lodash": {
      "version": "4.17.15",
      "resolved": "https://registry.npmjs.org/lodash/-/lodash-4.17.15.tgz"
    },
    "node_modules/tool/node_modules/lodash": {
      "version": "3.10.1"
    }
  }
}"#;

    const YARN_LOCK: &str = r#"# yarn lockfile v1


lodash@^3.10.0:
  version "3.10.1"
  resolved "https://registry.yarnpkg.com/lodash/-/lodash-3.10.1.tgz#5bf45e8e"

lodash@^4.17.0, lodash@^4.17.15:
  version "4.17.15"
  resolved "https://registry.yarnpkg.com/lodash/-/lodash-4.17.15.tgz#b447f6670a"
  dependencies:
    lodash-es "^4.17.0"
"#;

    const PNPM_LOCK: &str = "lockfileVersion: '9.0'
importers:
  .:
    dependencies:
      lodash:
        specifier: ^4.17.15
        version: 4.17.15
packages:
  lodash@4.17.15:
    resolution: {integrity: sha512-abc}
";

    const REQUIREMENTS: &str = "# pinned
Flask==1.0.2
requests[security]==2.19.1 ; python_version >= \"3\"
requests-toolbelt==0.9.1
";

    const PYPROJECT: &str = r#"[project]
name = "shop"
dependencies = [
    "Jinja2>=2.10",
    "PyYAML~=5.1",
]

[tool.poetry.dependencies]
werkzeug = { version = "^2.2.0", extras = ["watchdog"] }
"#;

    const POETRY_LOCK: &str = r#"[[package]]
name = "flask"
version = "1.0.2"
description = "A simple framework"

[package.dependencies]
Werkzeug = ">=0.14"

[[package]]
name = "werkzeug"
version = "2.2.3"
description = "The comprehensive WSGI web application library."
"#;

    const PIPFILE_LOCK: &str = r#"{
    "default": {
        "requests": {
            "hashes": [
                "sha256:63b52e3c866428a224f97cab011de738c36aec0185aa91cfacd418b5d58911d1",
                "sha256:ec22d826a36ed72a7358ff3fe56cbd4ba69dd7a6718ffd450ff0e9df7a47ce6a"
            ],
            "index": "pypi",
            "version": "==2.19.1"
        }
    }
}"#;

    const CARGO_TOML: &str = r#"[dependencies]
serde_json = "1.0"
serde = { version = "1.0.100", features = ["derive"] }

[dependencies.smallvec]
version = "0.6.9"
"#;

    const CARGO_LOCK: &str = r#"[[package]]
name = "bincode"
version = "1.3.3"
dependencies = [
 "serde 1.0.130",
]

[[package]]
name = "serde"
version = "1.0.130"
source = "registry+https://github.com/rust-lang/crates.io-index"
"#;

    const GO_MOD: &str = "module example.com/shop

go 1.21

require (
\tgithub.com/gin-gonic/gin v1.9.0
\tgolang.org/x/net v0.7.0 // indirect
\tgithub.com/go-redis/redis/v8 v8.11.5
)
";

    const GO_SUM: &str = "golang.org/x/net v0.7.0 h1:rJrUqqhjsgNp7KqAIc25s9pZnjU7TUcSY7HcVZjdn1g=
golang.org/x/net v0.7.0/go.mod h1:2Tu9+aMcznHK/AK1HMvgo6xiTLG5rD5rZLDS+rp2Bjs=
";

    const POM: &str = r#"<project>
  <artifactId>shop</artifactId>
  <version>1.0.0</version>
  <dependencies>
    <dependency>
      <groupId>org.apache.logging.log4j</groupId>
      <artifactId>log4j-core</artifactId>
      <version>2.14.1</version>
    </dependency>
    <dependency>
      <groupId>org.apache.logging.log4j</groupId>
      <artifactId>log4j-api</artifactId>
      <version>2.14.1</version>
    </dependency>
  </dependencies>
</project>"#;

    const GRADLE: &str = "dependencies {
    implementation 'org.apache.logging.log4j:log4j-core:2.14.1'
    implementation \"com.google.guava:guava:31.1-jre\"
}
";

    const GEMFILE: &str = "source 'https://rubygems.org'
gem 'rails', '~> 5.2'
gem 'rails-html-sanitizer'
";

    const GEMFILE_LOCK: &str = "GEM
  remote: https://rubygems.org/
  specs:
    actionpack (5.2.4.3)
      rails-html-sanitizer (~> 1.0, >= 1.0.2)
    rails (5.2.4.3)
      actionpack (= 5.2.4.3)
    rails-html-sanitizer (1.3.0)

DEPENDENCIES
  rails (~> 5.2)
";

    const COMPOSER_JSON: &str = r#"{
    "require": {
        "monolog/monolog": "^2.0",
        "guzzlehttp/guzzle": "7.4.1"
    }
}"#;

    const COMPOSER_LOCK: &str = r#"{
    "packages": [
        {
            "name": "guzzlehttp/guzzle",
            "version": "7.4.1",
            "require": {
                "guzzlehttp/psr7": "^1.8.3 || ^2.1"
            }
        },
        {
            "name": "guzzlehttp/psr7",
            "version": "2.1.0"
        }
    ]
}"#;

    struct Case {
        path: &'static str,
        content: &'static str,
        ecosystem: Ecosystem,
        name: &'static str,
        version: &'static str,
        /// The expected 1-based line, or `None` when nothing declares the package.
        line: Option<u32>,
        to: &'static str,
        /// The expected rewritten line (when `line` is set).
        rewritten: &'static str,
    }

    #[rustfmt::skip]
    fn cases() -> Vec<Case> {
        use Ecosystem::{CratesIo, Go, Maven, Npm, Packagist, PyPI, RubyGems};
        let case = |path, content, ecosystem, name, version, line, to, rewritten| Case {
            path,
            content,
            ecosystem,
            name,
            version,
            line,
            to,
            rewritten,
        };
        vec![
            case("package.json", PACKAGE_JSON, Npm, "react", "16.8.6", Some(6), "16.14.0", r#"    "react": "^16.14.0","#),
            case("package.json", PACKAGE_JSON, Npm, "react-dom", "16.8.0", Some(5), "16.9.0", r#"    "react-dom": "^16.9.0","#),
            case("package.json", PACKAGE_JSON, Npm, "@babel/core", "7.4.5", Some(7), "7.5.0", r#"    "@babel/core": "~7.5.0","#),
            case("package.json", PACKAGE_JSON, Npm, "lodash", "4.17.15", Some(8), "4.17.21", r#"    "lodash": "^4.17.21""#),
            case("package.json", PACKAGE_JSON, Npm, "mocha", "6.2.0", Some(11), "6.2.3", r#"    "mocha": ">=6.2.3""#),
            case("package.json", PACKAGE_JSON, Npm, "core", "1.0.0", None, "", ""),
            case("web/package-lock.json", PACKAGE_LOCK, Npm, "lodash", "4.17.15", Some(11), "4.17.21", r#"      "version": "4.17.21","#),
            case("package-lock.json", PACKAGE_LOCK, Npm, "lodash", "3.10.1", Some(15), "3.10.2", r#"      "version": "3.10.2""#),
            case("yarn.lock", YARN_LOCK, Npm, "lodash", "4.17.15", Some(9), "4.17.21", r#"  version "4.17.21""#),
            case("yarn.lock", YARN_LOCK, Npm, "lodash", "3.10.1", Some(5), "3.10.2", r#"  version "3.10.2""#),
            case("pnpm-lock.yaml", PNPM_LOCK, Npm, "lodash", "4.17.15", Some(7), "4.17.21", "        version: 4.17.21"),
            case("requirements.txt", REQUIREMENTS, PyPI, "flask", "1.0.2", Some(2), "1.0.3", "Flask==1.0.3"),
            case("requirements-dev.txt", REQUIREMENTS, PyPI, "requests", "2.19.1", Some(3), "2.20.0", "requests[security]==2.20.0 ; python_version >= \"3\""),
            case("requirements.txt", REQUIREMENTS, PyPI, "requests_toolbelt", "0.9.1", Some(4), "0.10.0", "requests-toolbelt==0.10.0"),
            case("pyproject.toml", PYPROJECT, PyPI, "jinja2", "2.10", Some(4), "2.10.1", r#"    "Jinja2>=2.10.1","#),
            case("pyproject.toml", PYPROJECT, PyPI, "pyyaml", "5.2", Some(5), "5.3.1", r#"    "PyYAML~=5.3.1","#),
            case("pyproject.toml", PYPROJECT, PyPI, "Werkzeug", "2.2.3", Some(9), "2.3.8", r#"werkzeug = { version = "^2.3.8", extras = ["watchdog"] }"#),
            case("poetry.lock", POETRY_LOCK, PyPI, "werkzeug", "2.2.3", Some(11), "2.3.8", r#"version = "2.3.8""#),
            case("Pipfile.lock", PIPFILE_LOCK, PyPI, "requests", "2.19.1", Some(9), "2.20.0", r#"            "version": "==2.20.0""#),
            case("Cargo.toml", CARGO_TOML, CratesIo, "serde", "1.0.130", Some(3), "1.0.136", r#"serde = { version = "1.0.136", features = ["derive"] }"#),
            case("Cargo.toml", CARGO_TOML, CratesIo, "serde_json", "1.0.64", Some(2), "1.0.108", r#"serde_json = "1.0.108""#),
            case("Cargo.toml", CARGO_TOML, CratesIo, "smallvec", "0.6.9", Some(6), "0.6.14", r#"version = "0.6.14""#),
            case("Cargo.lock", CARGO_LOCK, CratesIo, "serde", "1.0.130", Some(10), "1.0.136", r#"version = "1.0.136""#),
            case("go.mod", GO_MOD, Go, "golang.org/x/net", "v0.7.0", Some(7), "v0.17.0", "\tgolang.org/x/net v0.17.0 // indirect"),
            case("go.mod", GO_MOD, Go, "github.com/go-redis/redis/v8", "8.11.5", Some(8), "8.11.6", "\tgithub.com/go-redis/redis/v8 v8.11.6"),
            case("go.mod", GO_MOD, Go, "github.com/go-redis/redis", "8.11.5", None, "", ""),
            case("go.sum", GO_SUM, Go, "golang.org/x/net", "0.7.0", Some(1), "0.17.0", "golang.org/x/net v0.17.0 h1:rJrUqqhjsgNp7KqAIc25s9pZnjU7TUcSY7HcVZjdn1g="),
            case("pom.xml", POM, Maven, "org.apache.logging.log4j:log4j-core", "2.14.1", Some(8), "2.17.1", "      <version>2.17.1</version>"),
            case("pom.xml", POM, Maven, "org.apache.logging.log4j:log4j-api", "2.14.1", Some(13), "2.17.1", "      <version>2.17.1</version>"),
            case("build.gradle", GRADLE, Maven, "org.apache.logging.log4j:log4j-core", "2.14.1", Some(2), "2.17.1", "    implementation 'org.apache.logging.log4j:log4j-core:2.17.1'"),
            case("build.gradle", GRADLE, Maven, "com.google.guava:guava", "31.1-jre", Some(3), "32.0.0-jre", "    implementation \"com.google.guava:guava:32.0.0-jre\""),
            case("Gemfile", GEMFILE, RubyGems, "rails", "5.2.4.3", Some(2), "5.2.4.6", "gem 'rails', '~> 5.2.4.6'"),
            case("Gemfile.lock", GEMFILE_LOCK, RubyGems, "rails", "5.2.4.3", Some(6), "5.2.4.6", "    rails (5.2.4.6)"),
            case("Gemfile.lock", GEMFILE_LOCK, RubyGems, "rails-html-sanitizer", "1.3.0", Some(8), "1.4.4", "    rails-html-sanitizer (1.4.4)"),
            case("composer.json", COMPOSER_JSON, Packagist, "monolog/monolog", "2.3.5", Some(3), "2.9.1", r#"        "monolog/monolog": "^2.9.1","#),
            case("composer.lock", COMPOSER_LOCK, Packagist, "guzzlehttp/guzzle", "7.4.1", Some(5), "7.4.5", r#"            "version": "7.4.5","#),
            case("composer.lock", COMPOSER_LOCK, Packagist, "guzzlehttp/psr7", "2.1.0", Some(12), "2.4.5", r#"            "version": "2.4.5""#),
        ]
    }

    #[test]
    fn finds_and_rewrites_declarations_per_format() {
        for case in cases() {
            let label = format!("{} {} {}", case.path, case.name, case.version);
            let found = find_declaration(
                case.path,
                case.content,
                &case.ecosystem,
                case.name,
                case.version,
            );
            assert_eq!(
                found.as_ref().map(|d| d.line),
                case.line,
                "{label}: {found:?}"
            );
            let Some(found) = found else { continue };
            let expected_text = case.content.lines().nth(found.line as usize - 1).unwrap();
            assert_eq!(found.text, expected_text, "{label}");
            assert_eq!(
                rewrite_declaration(&found.text, case.version, case.to).as_deref(),
                Some(case.rewritten),
                "{label}"
            );
        }
    }

    /// `content` with line `line` (1-based) replaced by `text`.
    fn with_line(content: &str, line: u32, text: &str) -> String {
        content
            .lines()
            .enumerate()
            .map(|(i, l)| if i + 1 == line as usize { text } else { l })
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// The requirement a PEP 508 line states: after the name and extras, before a marker.
    fn pep508_specifiers(line: &str) -> Option<pep440_rs::VersionSpecifiers> {
        let line = line.trim().trim_matches(['"', ',']);
        let line = line.split(';').next()?.trim();
        let start = line.find(|c: char| "<>=!~".contains(c))?;
        line[start..].trim().parse().ok()
    }

    /// Checks a go.mod the way `go mod edit` would refuse one: every requirement is a module
    /// path and a canonical `vMAJOR.MINOR.PATCH` version, `// indirect` allowed.
    fn go_mod_requirements(content: &str) -> Vec<(String, semver::Version)> {
        let mut out = Vec::new();
        let mut in_block = false;
        for line in content.lines() {
            let code = line.split("//").next().unwrap_or("").trim();
            if code == "require (" {
                in_block = true;
                continue;
            }
            if in_block && code == ")" {
                in_block = false;
                continue;
            }
            let requirement = if in_block {
                code
            } else if let Some(rest) = code.strip_prefix("require ") {
                rest.trim()
            } else {
                continue;
            };
            let (path, version) = requirement.split_once(' ').expect("path and version");
            let version = version.trim().strip_prefix('v').expect("a v prefix");
            out.push((
                path.to_string(),
                semver::Version::parse(version).expect("a canonical version"),
            ));
        }
        out
    }

    /// Gem::Requirement syntax: `[op] version`, `op` one of `= != > < >= <= ~>`.
    fn gem_requirement(text: &str) -> Option<super::super::versions::rubygems::GemVersion> {
        let text = text.trim();
        let rest = ["~>", ">=", "<=", "!=", "=", ">", "<"]
            .iter()
            .find_map(|op| text.strip_prefix(op))
            .unwrap_or(text);
        super::super::versions::rubygems::GemVersion::parse(rest.trim())
    }

    /// Every manifest edit of the table above, applied to its file: the edited file still
    /// parses with its ecosystem's format and states the new version where the old one was.
    #[test]
    fn edited_manifests_round_trip_through_their_formats() {
        let edit =
            |path: &str, content: &str, ecosystem: Ecosystem, name: &str, from: &str, to: &str| {
                let found = find_declaration(path, content, &ecosystem, name, from)
                    .unwrap_or_else(|| panic!("{path}: {name} declared"));
                let rewritten = rewrite_declaration(&found.text, from, to)
                    .unwrap_or_else(|| panic!("{path}: {name} rewritten"));
                with_line(content, found.line, &rewritten)
            };

        let json: serde_json::Value = serde_json::from_str(&edit(
            "package.json",
            PACKAGE_JSON,
            Ecosystem::Npm,
            "@babel/core",
            "7.4.5",
            "7.5.0",
        ))
        .unwrap();
        assert_eq!(json["dependencies"]["@babel/core"], "~7.5.0");
        let json: serde_json::Value = serde_json::from_str(&edit(
            "package.json",
            PACKAGE_JSON,
            Ecosystem::Npm,
            "mocha",
            "6.2.0",
            "6.2.3",
        ))
        .unwrap();
        assert_eq!(json["devDependencies"]["mocha"], ">=6.2.3");
        let json: serde_json::Value = serde_json::from_str(&edit(
            "composer.json",
            COMPOSER_JSON,
            Ecosystem::Packagist,
            "guzzlehttp/guzzle",
            "7.4.1",
            "7.4.5",
        ))
        .unwrap();
        assert_eq!(json["require"]["guzzlehttp/guzzle"], "7.4.5");
        assert_eq!(json["require"]["monolog/monolog"], "^2.0");

        let cargo: toml::Table = toml::from_str(&edit(
            "Cargo.toml",
            CARGO_TOML,
            Ecosystem::CratesIo,
            "serde",
            "1.0.130",
            "1.0.136",
        ))
        .unwrap();
        assert_eq!(
            cargo["dependencies"]["serde"]["version"].as_str(),
            Some("1.0.136")
        );
        assert_eq!(
            cargo["dependencies"]["serde"]["features"][0].as_str(),
            Some("derive")
        );
        let cargo: toml::Table = toml::from_str(&edit(
            "Cargo.toml",
            CARGO_TOML,
            Ecosystem::CratesIo,
            "smallvec",
            "0.6.9",
            "0.6.14",
        ))
        .unwrap();
        assert_eq!(
            cargo["dependencies"]["smallvec"]["version"].as_str(),
            Some("0.6.14")
        );

        // PEP 621: the requirement string still parses as a PEP 440 specifier set.
        let pyproject: toml::Table = toml::from_str(&edit(
            "pyproject.toml",
            PYPROJECT,
            Ecosystem::PyPI,
            "pyyaml",
            "5.2",
            "5.3.1",
        ))
        .unwrap();
        let dependencies = pyproject["project"]["dependencies"].as_array().unwrap();
        let pyyaml = dependencies[1].as_str().unwrap();
        assert_eq!(pyyaml, "PyYAML~=5.3.1");
        assert_eq!(pep508_specifiers(pyyaml).unwrap().to_string(), "~=5.3.1");
        // Poetry: the inline table keeps its other keys.
        let pyproject: toml::Table = toml::from_str(&edit(
            "pyproject.toml",
            PYPROJECT,
            Ecosystem::PyPI,
            "Werkzeug",
            "2.2.3",
            "2.3.8",
        ))
        .unwrap();
        let werkzeug = &pyproject["tool"]["poetry"]["dependencies"]["werkzeug"];
        assert_eq!(werkzeug["version"].as_str(), Some("^2.3.8"));
        assert_eq!(werkzeug["extras"][0].as_str(), Some("watchdog"));

        let requirements = edit(
            "requirements.txt",
            REQUIREMENTS,
            Ecosystem::PyPI,
            "requests",
            "2.19.1",
            "2.20.0",
        );
        for line in requirements.lines().filter(|l| !l.starts_with('#')) {
            assert!(pep508_specifiers(line).is_some(), "{line}");
        }
        assert!(requirements.contains("requests[security]==2.20.0 ; python_version >= \"3\""));

        let go_mod = edit(
            "go.mod",
            GO_MOD,
            Ecosystem::Go,
            "golang.org/x/net",
            "v0.7.0",
            "v0.17.0",
        );
        let requirements = go_mod_requirements(&go_mod);
        assert_eq!(requirements.len(), 3);
        assert!(requirements.contains(&(
            "golang.org/x/net".to_string(),
            semver::Version::new(0, 17, 0)
        )));

        let pom = edit(
            "pom.xml",
            POM,
            Ecosystem::Maven,
            "org.apache.logging.log4j:log4j-core",
            "2.14.1",
            "2.17.1",
        );
        let document = roxmltree::Document::parse(&pom).unwrap();
        let versions: Vec<(&str, &str)> = document
            .descendants()
            .filter(|n| n.has_tag_name("dependency"))
            .map(|d| {
                let child = |tag: &str| {
                    d.children()
                        .find(|c| c.has_tag_name(tag))
                        .and_then(|c| c.text())
                        .unwrap_or("")
                };
                (child("artifactId"), child("version"))
            })
            .collect();
        assert_eq!(
            versions,
            [("log4j-core", "2.17.1"), ("log4j-api", "2.14.1")]
        );

        let gemfile = edit(
            "Gemfile",
            GEMFILE,
            Ecosystem::RubyGems,
            "rails",
            "5.2.4.3",
            "5.2.4.6",
        );
        let rails = gemfile
            .lines()
            .find(|l| l.starts_with("gem 'rails'"))
            .unwrap();
        let requirement = rails.split('\'').nth(3).unwrap();
        assert_eq!(requirement, "~> 5.2.4.6");
        assert!(gem_requirement(requirement).is_some());
    }

    #[test]
    fn rewritten_package_json_still_parses() {
        let found = find_declaration(
            "package.json",
            PACKAGE_JSON,
            &Ecosystem::Npm,
            "lodash",
            "4.17.15",
        )
        .unwrap();
        let rewritten = rewrite_declaration(&found.text, "4.17.15", "4.17.21").unwrap();
        let content: Vec<&str> = PACKAGE_JSON
            .lines()
            .enumerate()
            .map(|(i, line)| {
                if i + 1 == found.line as usize {
                    rewritten.as_str()
                } else {
                    line
                }
            })
            .collect();
        let json: serde_json::Value = serde_json::from_str(&content.join("\n")).unwrap();
        assert_eq!(json["dependencies"]["lodash"], "^4.17.21");
        assert_eq!(json["dependencies"]["react"], "^16.8.0");
    }

    #[test]
    fn rewritten_toml_line_keeps_its_shape() {
        let line = r#"serde = { version = "1.0.100", features = ["derive"] }"#;
        let rewritten = rewrite_declaration(line, "1.0.100", "1.0.136").unwrap();
        let shape = |s: &str| {
            s.chars()
                .filter(|c| !c.is_ascii_digit())
                .collect::<String>()
        };
        assert_eq!(shape(&rewritten), shape(line));
        assert_eq!(rewritten.len(), line.len());
    }

    #[test]
    fn rewrite_cases() {
        let cases = [
            // The installed version is not on the line: the declared range moves.
            (
                r#""lodash": "^4.17.0","#,
                "4.17.15",
                "4.17.21",
                Some(r#""lodash": "^4.17.21","#),
            ),
            ("requests>=1.0", "1.1", "1.2.5", Some("requests>=1.2.5")),
            (
                "\tgithub.com/x/y v1.2.3",
                "v1.2.3",
                "v1.2.5",
                Some("\tgithub.com/x/y v1.2.5"),
            ),
            (
                "\tgithub.com/x/y v1.2.3",
                "1.2.3",
                "1.2.5",
                Some("\tgithub.com/x/y v1.2.5"),
            ),
            (
                r#""version": "v2.0.0","#,
                "2.0.0",
                "v2.1.0",
                Some(r#""version": "v2.1.0","#),
            ),
            // `1.2.3` must not match inside `11.2.3` or `1.2.30`.
            (
                "a 11.2.3 1.2.30 1.2.3",
                "1.2.3",
                "1.2.4",
                Some("a 11.2.3 1.2.30 1.2.4"),
            ),
            // Digits inside a package name are not a version.
            (
                r#""es5-ext": "^0.10.53","#,
                "0.10.53",
                "0.10.64",
                Some(r#""es5-ext": "^0.10.64","#),
            ),
            (r#""2to3": "*""#, "1.0.0", "1.0.1", None),
            (r#""node_modules/lodash": {"#, "4.17.15", "4.17.21", None),
        ];
        for (line, from, to, expected) in cases {
            assert_eq!(
                rewrite_declaration(line, from, to).as_deref(),
                expected,
                "{line}"
            );
        }
    }

    #[test]
    fn names_match_whole_names_only() {
        let content =
            "\"react-dom\": \"^16.8.0\",\n\"preact\": \"^10.0.0\",\n\"react.js\": \"1.0.0\"\n";
        assert_eq!(
            find_declaration("package.json", content, &Ecosystem::Npm, "react", "16.8.0"),
            None
        );
        let scoped = "\"@types/node\": \"^14.0.0\"\n";
        assert_eq!(
            find_declaration("package.json", scoped, &Ecosystem::Npm, "node", "14.0.0"),
            None
        );
        assert_eq!(
            find_declaration("package.json", scoped, &Ecosystem::Npm, "types", "14.0.0"),
            None
        );
        let zope = "zope.interface==5.0\n";
        assert_eq!(
            find_declaration("requirements.txt", zope, &Ecosystem::PyPI, "zope", "5.0"),
            None
        );
        // npm names are case-sensitive; PyPI names are not.
        assert_eq!(
            find_declaration(
                "package.json",
                "\"React\": \"16.8.0\"\n",
                &Ecosystem::Npm,
                "react",
                "16.8.0"
            ),
            None
        );
        assert_eq!(
            find_declaration(
                "requirements.txt",
                zope,
                &Ecosystem::PyPI,
                "Zope_Interface",
                "5.0"
            )
            .map(|d| d.line),
            Some(1)
        );
    }

    #[test]
    fn a_line_without_a_version_is_still_the_declaration() {
        let pipfile = "[packages]\nrequests = \"*\"\n";
        let found =
            find_declaration("Pipfile", pipfile, &Ecosystem::PyPI, "requests", "2.19.1").unwrap();
        assert_eq!(found.line, 2);
        assert_eq!(rewrite_declaration(&found.text, "2.19.1", "2.20.0"), None);
    }

    #[test]
    fn recognises_manifest_names() {
        let cases = [
            ("package.json", true),
            ("web/yarn.lock", true),
            ("requirements.txt", true),
            ("requirements/requirements-dev.txt", true),
            ("backend\\Pipfile.lock", true),
            ("services/api/go.sum", true),
            ("pom.xml", true),
            ("build.gradle", true),
            ("composer.lock", true),
            ("src/main.rs", false),
            ("requirements.in", false),
            ("package.json.bak", false),
            ("docs/requirements.md", false),
        ];
        for (path, expected) in cases {
            assert_eq!(is_manifest(path), expected, "{path}");
        }
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_text_never_panics(
            content in "(?s).{0,300}",
            name in "[a-z@/._-]{1,12}",
            from in "v?[0-9]{1,3}(\\.[0-9]{1,3}){0,3}",
            to in "[0-9]{1,3}(\\.[0-9]{1,3}){0,2}",
        ) {
            for ecosystem in [Ecosystem::Npm, Ecosystem::PyPI, Ecosystem::Maven] {
                let found = find_declaration("yarn.lock", &content, &ecosystem, &name, &from);
                if let Some(found) = found {
                    proptest::prop_assert!(content.lines().any(|line| line == found.text));
                }
            }
            for line in content.lines() {
                if let Some(rewritten) = rewrite_declaration(line, &from, &to) {
                    proptest::prop_assert!(rewritten.contains(to.as_str()));
                }
            }
        }
    }
}
