//! Who owns a path: a `CODEOWNERS` file read as GitHub and GitLab read it, so a finding can
//! be counted for the team that owned its file when it was introduced.
//!
//! Syntax: one rule a line, a pattern then its owners (`@org/team`, `@user`, an email, and
//! GitLab's roles `@@developer`); `#` starts a comment (a line's first character, or a
//! token after the pattern), `\#` and `\ ` escape a pattern's `#` and spaces. Patterns
//! follow gitignore: a leading `/` anchors to the root, as does a `/` inside the pattern; a
//! pattern without one matches at any depth; a trailing `/` matches a directory's whole
//! content; `*` and `?` stay within a path segment, `**` crosses them; a pattern naming a
//! directory covers everything below it, except one ending in `/*`, which GitHub documents
//! as covering only the directory's own files. Negation (`!`) is not supported by either
//! forge, and such a line is skipped with a warning.
//!
//! Precedence: the last matching rule wins (GitHub). GitLab's sections (`[Name]`,
//! `^[Optional]`, `[Name][2]`, with default owners after the header for the section's
//! rules that name none) are evaluated apart: in each section the last matching rule
//! wins, and every section contributes its owners, in the order the sections first appear
//! (rules before the first header form an unnamed section; sections of the same name,
//! case aside, are one). A GitHub file has no headers, so both readings agree on it.
//!
//! Pure: [`CodeOwners::parse`] takes the file's text; a malformed line is skipped with a
//! [`OwnersWarning`] naming the file and line, never an error. Where to look for the file
//! is [`LOCATIONS`].

use std::collections::HashMap;
use std::fmt;

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};

/// Where the forges look for the file, in the order posture tries them; the first found
/// applies (GitHub reads `.github/`, the root, then `docs/`; GitLab the root, `docs/`,
/// then `.gitlab/`).
pub const LOCATIONS: [&str; 4] = [
    ".github/CODEOWNERS",
    "CODEOWNERS",
    "docs/CODEOWNERS",
    ".gitlab/CODEOWNERS",
];

/// What `CODEOWNERS` says about a finding whose path has no rule, or whose rule names no
/// owner: the name the figures give findings without owner.
pub const UNOWNED: &str = "unowned";

/// One owner a rule names, as written.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Owner {
    /// `@org/team` (GitLab: `@group/subgroup`, nested groups included).
    Team(String),
    /// `@user` (GitLab: also a top-level group, which the file cannot tell apart).
    User(String),
    /// `someone@example.com`.
    Email(String),
    /// GitLab's `@@developer`, `@@maintainer`, `@@owner`.
    Role(String),
}

impl Owner {
    /// Reads one owner token; `None` when it is none of the forms.
    fn parse(token: &str) -> Option<Owner> {
        let valid = |name: &str| {
            !name.is_empty()
                && name
                    .chars()
                    .all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.'))
        };
        if let Some(role) = token.strip_prefix("@@") {
            return valid(role).then(|| Owner::Role(token.to_owned()));
        }
        if let Some(name) = token.strip_prefix('@') {
            let mut parts = name.split('/');
            let first = parts.next().unwrap_or_default();
            let rest: Vec<&str> = parts.collect();
            if !valid(first) || !rest.iter().all(|part| valid(part)) {
                return None;
            }
            return Some(if rest.is_empty() {
                Owner::User(token.to_owned())
            } else {
                Owner::Team(token.to_owned())
            });
        }
        match token.split_once('@') {
            Some((local, domain))
                if !local.is_empty() && domain.contains('.') && !domain.contains('@') =>
            {
                Some(Owner::Email(token.to_owned()))
            }
            _ => None,
        }
    }

    /// The owner as the file spells it (`@org/team`, `@user`, an email, `@@role`).
    pub fn as_str(&self) -> &str {
        match self {
            Owner::Team(s) | Owner::User(s) | Owner::Email(s) | Owner::Role(s) => s,
        }
    }
}

impl fmt::Display for Owner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The owner a finding is counted for among a path's owners: the first team, else the
/// first person (a `@user` or an email); `None` when there is neither (no rule, a rule
/// without owners, or roles only).
pub fn accountable(owners: &[Owner]) -> Option<&Owner> {
    owners
        .iter()
        .find(|o| matches!(o, Owner::Team(_)))
        .or_else(|| {
            owners
                .iter()
                .find(|o| matches!(o, Owner::User(_) | Owner::Email(_)))
        })
}

/// A line of the file that was skipped, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnersWarning {
    pub file: String,
    /// 1-based.
    pub line: usize,
    pub message: String,
}

impl fmt::Display for OwnersWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}: {}; the line is skipped",
            self.file, self.line, self.message
        )
    }
}

/// One rule: its section and its owners (the section's defaults when it names none).
#[derive(Debug, Clone)]
struct Rule {
    section: usize,
    owners: Vec<Owner>,
}

/// A parsed `CODEOWNERS` file.
#[derive(Debug, Clone)]
pub struct CodeOwners {
    rules: Vec<Rule>,
    /// The rules' globs; `glob_rule[i]` is the rule of glob `i`.
    globs: GlobSet,
    glob_rule: Vec<usize>,
    sections: usize,
}

impl Default for CodeOwners {
    fn default() -> CodeOwners {
        CodeOwners {
            rules: Vec::new(),
            globs: GlobSet::empty(),
            glob_rule: Vec::new(),
            sections: 0,
        }
    }
}

impl CodeOwners {
    /// Parses the text of the file at `file` (the name warnings give).
    pub fn parse(file: &str, text: &str) -> (CodeOwners, Vec<OwnersWarning>) {
        let mut warnings = Vec::new();
        let mut rules = Vec::new();
        let mut builder = GlobSetBuilder::new();
        let mut glob_rule = Vec::new();
        // Section names (lower-cased) to their index; the unnamed section is 0.
        let mut section_ids: HashMap<String, usize> = HashMap::new();
        let mut sections = 1;
        let mut section = 0;
        let mut defaults: Vec<Owner> = Vec::new();
        for (index, raw) in text.lines().enumerate() {
            let line = raw.trim();
            let mut warn = |message: String| {
                warnings.push(OwnersWarning {
                    file: file.to_owned(),
                    line: index + 1,
                    message,
                })
            };
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            if line.starts_with('[') || line.starts_with("^[") {
                match section_header(line) {
                    Ok((name, owners)) => {
                        let next = sections;
                        section = *section_ids.entry(name.to_lowercase()).or_insert(next);
                        if section == next {
                            sections += 1;
                        }
                        defaults = owners;
                    }
                    Err(message) => warn(message),
                }
                continue;
            }
            let tokens = tokens(line);
            let Some((pattern, owner_tokens)) = tokens.split_first() else {
                continue;
            };
            if pattern.starts_with('!') {
                warn(format!(
                    "`{pattern}`: negated patterns are not supported by CODEOWNERS"
                ));
                continue;
            }
            let owners = match owner_tokens
                .iter()
                .map(|t| Owner::parse(t).ok_or(t))
                .collect::<Result<Vec<Owner>, _>>()
            {
                Ok(owners) => owners,
                Err(token) => {
                    warn(format!(
                        "`{token}` is not an owner (`@user`, `@org/team`, an email or `@@role`)"
                    ));
                    continue;
                }
            };
            let globs = match globs(pattern) {
                Ok(globs) => globs,
                Err(message) => {
                    warn(format!("pattern `{pattern}`: {message}"));
                    continue;
                }
            };
            let rule = rules.len();
            for glob in globs {
                builder.add(glob);
                glob_rule.push(rule);
            }
            rules.push(Rule {
                section,
                owners: if owners.is_empty() {
                    defaults.clone()
                } else {
                    owners
                },
            });
        }
        match builder.build() {
            Ok(globs) => (
                CodeOwners {
                    rules,
                    globs,
                    glob_rule,
                    sections,
                },
                warnings,
            ),
            Err(error) => {
                warnings.push(OwnersWarning {
                    file: file.to_owned(),
                    line: 0,
                    message: format!("the patterns cannot be compiled together: {error}"),
                });
                (CodeOwners::default(), warnings)
            }
        }
    }

    /// The owners of `path` (relative to the repository's root; a leading `/` or `./` is
    /// ignored): the last matching rule's in each section, sections in order, each owner
    /// once. Empty when no rule matches or the matching rule names no owner.
    pub fn owners_of(&self, path: &str) -> Vec<Owner> {
        let path = path.trim_start_matches("./").trim_start_matches('/');
        let mut last: Vec<Option<usize>> = vec![None; self.sections];
        for glob in self.globs.matches(path) {
            let rule = self.glob_rule[glob];
            let slot = &mut last[self.rules[rule].section];
            *slot = Some(slot.map_or(rule, |other| other.max(rule)));
        }
        let mut owners: Vec<Owner> = Vec::new();
        for rule in last.into_iter().flatten() {
            for owner in &self.rules[rule].owners {
                if !owners.contains(owner) {
                    owners.push(owner.clone());
                }
            }
        }
        owners
    }

    /// The owner a finding on `path` is counted for ([`accountable`]).
    pub fn accountable_of(&self, path: &str) -> Option<Owner> {
        accountable(&self.owners_of(path)).cloned()
    }
}

/// Reads a section header: `[Name]`, `^[Name]`, `[Name][2]`, then default owners.
fn section_header(line: &str) -> Result<(String, Vec<Owner>), String> {
    let rest = line.strip_prefix('^').unwrap_or(line);
    let rest = rest.strip_prefix('[').unwrap_or(rest);
    let Some((name, after)) = rest.split_once(']') else {
        return Err(format!("section header `{line}` has no closing `]`"));
    };
    let name = name.trim();
    if name.is_empty() {
        return Err("section header without a name".to_owned());
    }
    let after = match after.strip_prefix('[') {
        Some(count) => match count.split_once(']') {
            Some((digits, after)) if digits.chars().all(|c| c.is_ascii_digit()) => after,
            _ => {
                return Err(format!(
                    "section `{name}`: the approval count must be digits in `[…]`"
                ));
            }
        },
        None => after,
    };
    let owners = tokens(after)
        .iter()
        .map(|t| {
            Owner::parse(t).ok_or_else(|| {
                format!("section `{name}`: `{t}` is not an owner (`@user`, `@org/team`, an email or `@@role`)")
            })
        })
        .collect::<Result<Vec<Owner>, String>>()?;
    Ok((name.to_owned(), owners))
}

/// Splits a line at unescaped whitespace, up to a token starting with an unescaped `#` (an
/// inline comment). Escapes are kept: the pattern's are globset's to read.
fn tokens(line: &str) -> Vec<String> {
    let mut tokens = Vec::new();
    let mut current = String::new();
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                current.push(c);
                if let Some(next) = chars.next() {
                    current.push(next);
                }
            }
            '#' if current.is_empty() => break,
            c if c.is_whitespace() => {
                if !current.is_empty() {
                    tokens.push(std::mem::take(&mut current));
                }
            }
            c => current.push(c),
        }
    }
    if !current.is_empty() {
        tokens.push(current);
    }
    tokens
}

/// The globs (globset syntax) a gitignore-style pattern stands for (see the module doc).
fn globs(pattern: &str) -> Result<Vec<globset::Glob>, String> {
    let rooted = pattern.strip_prefix('/');
    let rest = rooted.unwrap_or(pattern);
    let directory = rest.ends_with('/') && !rest.ends_with("\\/");
    let body = rest.trim_end_matches('/');
    if body.is_empty() {
        return Err("matches nothing".to_owned());
    }
    if body.contains("***") {
        return Err("three consecutive `*`".to_owned());
    }
    let anchored = rooted.is_some() || body.contains('/');
    let base = if anchored || body.starts_with("**") {
        body.to_owned()
    } else {
        format!("**/{body}")
    };
    let last = base.rsplit('/').next().unwrap_or_default();
    let texts = if directory {
        vec![format!("{base}/**")]
    } else if last == "*" || last == "**" {
        vec![base]
    } else {
        vec![format!("{base}/**"), base]
    };
    texts
        .iter()
        .map(|text| {
            GlobBuilder::new(text)
                .literal_separator(true)
                .backslash_escape(true)
                .build()
                .map_err(|error| error.kind().to_string())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> String {
        std::fs::read_to_string(format!(
            "{}/fixtures/codeowners/{name}",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap()
    }

    fn owners(file: &CodeOwners, path: &str) -> Vec<String> {
        file.owners_of(path)
            .iter()
            .map(|o| o.as_str().to_owned())
            .collect()
    }

    #[test]
    fn githubs_documented_example() {
        let (file, warnings) =
            CodeOwners::parse("CODEOWNERS", &fixture("github-docs-example.CODEOWNERS"));
        assert_eq!(warnings, vec![]);
        let cases: &[(&str, &[&str])] = &[
            // `*` is everyone's default.
            ("README.md", &["@global-owner1", "@global-owner2"]),
            ("src/deep/main.rs", &["@global-owner1", "@global-owner2"]),
            // The inline comment is not an owner.
            ("src/app.js", &["@js-owner"]),
            ("cmd/main.go", &["docs@example.com"]),
            ("notes/todo.txt", &["@octo-org/octocats"]),
            // `/build/logs/` is overridden by the later `**/logs`, which matches at any
            // depth.
            ("build/logs/2024/01/run.log", &["@octocat"]),
            ("src/build/logs/run.log", &["@octocat"]),
            (
                "build/output/run.log",
                &["@global-owner1", "@global-owner2"],
            ),
            // `docs/*` then `/docs/`: the later rule wins for both depths.
            ("docs/getting-started.md", &["@doctocat"]),
            ("docs/build-app/troubleshooting.md", &["@doctocat"]),
            // `**/logs` comes after `/scripts/`: the later rule wins.
            ("scripts/run.sh", &["@doctocat", "@octocat"]),
            ("scripts/logs/x.log", &["@octocat"]),
            ("deeply/nested/logs/x.log", &["@octocat"]),
            ("deeply/nested/logs", &["@octocat"]),
            // `apps/` anywhere; `/apps/github` last.
            ("lib/apps/index.html", &["@octocat"]),
            ("apps/index.html", &["@octocat"]),
            ("apps/github/index.html", &["@doctocat"]),
            ("apps/github", &["@doctocat"]),
        ];
        for (path, expected) in cases {
            assert_eq!(owners(&file, path), *expected, "{path}");
        }
    }

    #[test]
    fn a_directory_pattern_ending_in_star_covers_only_its_own_files() {
        let text = "* @all\ndocs/*  docs@example.com\n";
        let (file, _) = CodeOwners::parse("CODEOWNERS", text);
        assert_eq!(
            owners(&file, "docs/getting-started.md"),
            ["docs@example.com"]
        );
        assert_eq!(owners(&file, "docs/build-app/troubleshooting.md"), ["@all"]);
        // Anchored by its inner `/`: not a `docs` directory deeper down.
        assert_eq!(owners(&file, "web/docs/index.md"), ["@all"]);
    }

    #[test]
    fn a_later_rule_without_owners_leaves_the_path_unowned() {
        let text = "/apps/ @octocat\n/apps/github\n";
        let (file, warnings) = CodeOwners::parse("CODEOWNERS", text);
        assert!(warnings.is_empty());
        assert_eq!(owners(&file, "apps/web/x.js"), ["@octocat"]);
        assert!(owners(&file, "apps/github/x.js").is_empty());
        assert_eq!(file.accountable_of("apps/github/x.js"), None);
        assert!(owners(&file, "other/x.js").is_empty());
    }

    #[test]
    fn hashicorp_vault() {
        let (file, warnings) = CodeOwners::parse("CODEOWNERS", &fixture("vault.CODEOWNERS"));
        assert_eq!(warnings, vec![]);
        let cases: &[(&str, &[&str])] = &[
            ("command/server.go", &["@hashicorp/vault"]),
            (
                "builtin/credential/aws/backend.go",
                &["@hashicorp/vault-ecosystem"],
            ),
            // `/vault/identity_store_oidc*`: a prefix within the segment.
            (
                "vault/identity_store_oidc_provider.go",
                &["@hashicorp/vault-ecosystem"],
            ),
            ("vault/identity_store.go", &["@hashicorp/vault"]),
            // A pattern naming a directory covers its content: `/vault/seal*` and `/vault/seal/`.
            ("vault/seal/seal.go", &["@hashicorp/vault-crypto"]),
            ("vault/sealunwrapper.go", &["@hashicorp/vault-crypto"]),
            (
                "ui/app/components/auth-jwt.js",
                &["@hashicorp/vault-ui", "@hashicorp/vault-ecosystem"],
            ),
            (
                "ui/app/routes/vault/cluster/oidc-callback.js",
                &["@hashicorp/vault-ui", "@hashicorp/vault-ecosystem"],
            ),
            (
                "ui/app/routes/vault/cluster/index.js",
                &["@hashicorp/vault-ui"],
            ),
            (
                ".github/workflows/build.yml",
                &["@hashicorp/team-vault-quality"],
            ),
            (
                "website/templates/x.erb",
                &["@hashicorp/vault-education-approvers"],
            ),
            ("website/package.json", &["@hashicorp/web-presence"]),
            // Without a trailing slash, `/website/content/docs/platform/k8s` is a
            // directory too, but the later `/website/content/` wins.
            (
                "website/content/docs/platform/k8s/index.mdx",
                &[
                    "@hashicorp/vault-customer-engineering",
                    "@hashicorp/vault-education-approvers",
                ],
            ),
            (
                "website/content/docs/secrets/pki/index.mdx",
                &[
                    "@hashicorp/vault-customer-engineering",
                    "@hashicorp/vault-education-approvers",
                ],
            ),
            (".go-version", &["@hashicorp/vault-crypto"]),
        ];
        for (path, expected) in cases {
            assert_eq!(owners(&file, path), *expected, "{path}");
        }
        assert_eq!(
            file.accountable_of("ui/app/components/auth-jwt.js"),
            Some(Owner::Team("@hashicorp/vault-ui".into()))
        );
    }

    #[test]
    fn gitlab_sections_each_contribute_their_last_match() {
        let (file, warnings) =
            CodeOwners::parse(".gitlab/CODEOWNERS", &fixture("warp.gitlab.CODEOWNERS"));
        assert_eq!(warnings, vec![]);
        let cases: &[(&str, &[&str])] = &[
            // Rules without owners take their section's defaults.
            ("warp/builtins.py", &["@mmacklin"]),
            ("docs/index.rst", &["@mmacklin"]),
            // Two sections match: both contribute, in section order, each owner once.
            (
                "warp/thirdparty/unittest_parallel.py",
                &["@mmacklin", "@ershi", "@ncapens"],
            ),
            (
                "warp/tests/test_fem.py",
                &["@ershi", "@ncapens", "@gdaviet"],
            ),
            (
                "warp/native/volume.cu",
                &["@mmacklin", "@lwawrzyniak", "@ncapens", "@gklar"],
            ),
            // `.gitignore` has no `/`: any depth.
            (
                "exts/omni.warp/.gitignore",
                &["@ershi", "@ncapens", "@ccrouzet", "@zcorse"],
            ),
            ("warp/context.py", &[]),
        ];
        for (path, expected) in cases {
            assert_eq!(owners(&file, path), *expected, "{path}");
        }
    }

    #[test]
    fn gitlab_headers_approvals_optional_and_repeated_sections() {
        let text = "\
* @default
[Docs][2] @org/docs-team
docs/
^[Backend] @org/backend @lead
/app/ @org/api
[docs]
*.md @writer
";
        let (file, warnings) = CodeOwners::parse("CODEOWNERS", text);
        assert!(warnings.is_empty(), "{warnings:?}");
        // `[docs]` is `[Docs]` again: within it the later `*.md` wins.
        assert_eq!(owners(&file, "docs/a.md"), ["@default", "@writer"]);
        assert_eq!(owners(&file, "docs/a.txt"), ["@default", "@org/docs-team"]);
        assert_eq!(owners(&file, "app/main.rs"), ["@default", "@org/api"]);
        assert_eq!(
            file.accountable_of("app/main.rs"),
            Some(Owner::Team("@org/api".into()))
        );
        assert_eq!(
            file.accountable_of("lib.rs"),
            Some(Owner::User("@default".into()))
        );
    }

    #[test]
    fn escapes_wildcards_and_inline_comments() {
        let text = "\
\\#notes.md @hash
path\\ with\\ spaces/ @spaces # a comment
src/?.rs @one-char
/**/generated/** @org/gen
*.lock @@maintainer
";
        let (file, warnings) = CodeOwners::parse("CODEOWNERS", text);
        assert!(warnings.is_empty(), "{warnings:?}");
        assert_eq!(owners(&file, "#notes.md"), ["@hash"]);
        assert_eq!(owners(&file, "a/#notes.md"), ["@hash"]);
        assert_eq!(owners(&file, "path with spaces/x"), ["@spaces"]);
        assert_eq!(owners(&file, "src/a.rs"), ["@one-char"]);
        assert!(owners(&file, "src/ab.rs").is_empty());
        assert!(owners(&file, "src/a/b.rs").is_empty());
        assert_eq!(owners(&file, "x/generated/y/z.go"), ["@org/gen"]);
        assert_eq!(owners(&file, "/generated/z.go"), ["@org/gen"]);
        // A role is an owner, but nobody to count a finding for.
        assert_eq!(owners(&file, "Cargo.lock"), ["@@maintainer"]);
        assert_eq!(file.accountable_of("Cargo.lock"), None);
    }

    #[test]
    fn malformed_lines_are_skipped_with_a_warning_naming_them() {
        let text = "\
* @org/all
!vendor/ @nobody
src/ owner-without-at
[Unclosed @x
lib/[ @broken
/ @root
[Approvals][two] @x
docs/ @org/docs
";
        let (file, warnings) = CodeOwners::parse("docs/CODEOWNERS", text);
        let lines: Vec<usize> = warnings.iter().map(|w| w.line).collect();
        assert_eq!(lines, [2, 3, 4, 5, 6, 7]);
        assert!(
            warnings[1]
                .to_string()
                .starts_with("docs/CODEOWNERS:3: `owner-without-at` is not an owner"),
            "{}",
            warnings[1]
        );
        // The good lines still apply.
        assert_eq!(owners(&file, "src/main.rs"), ["@org/all"]);
        assert_eq!(owners(&file, "docs/x.md"), ["@org/docs"]);
    }

    #[test]
    fn accountable_prefers_a_team_then_a_person() {
        let parse = |t: &str| Owner::parse(t).unwrap();
        let owners = [parse("@@owner"), parse("@alice"), parse("@org/sec")];
        assert_eq!(accountable(&owners), Some(&owners[2]));
        let owners = [parse("@@owner"), parse("bob@example.com"), parse("@alice")];
        assert_eq!(accountable(&owners), Some(&owners[1]));
        assert_eq!(accountable(&[parse("@@owner")]), None);
        assert_eq!(accountable(&[]), None);
        assert_eq!(Owner::parse("@org/"), None);
        assert_eq!(Owner::parse("plain"), None);
        assert_eq!(
            Owner::parse("@group/sub/team"),
            Some(Owner::Team("@group/sub/team".into()))
        );
    }
}
