//! Line-independent identity of a finding.
//!
//! Code findings are identified by rule, path (at head, through renames) and the
//! whitespace-insensitive text of the flagged lines without their comment-only lines
//! ([`super::comments`]), so inserting lines above, renaming the file, re-indenting or
//! editing a comment inside the range leaves the identity unchanged. Dependency findings are identified
//! by ecosystem, package and advisory, where every alias of an advisory (CVE, GHSA, OSV…)
//! names the same vulnerability. Findings of the component policy (`license`, `policy`) are
//! identified by ecosystem, package and rule ([`package_rule_key`]): neither the manifest
//! line nor the version counts, so a moved line or a bump that still breaks the rule is the
//! same finding. API findings (posture's own, from OpenAPI documents) are identified by
//! rule, path and endpoint: every operation's line reads alike (`get:`), and an endpoint
//! added above must not renumber the others.

use std::collections::HashMap;

use sha2::{Digest, Sha256};

use super::comments::{self, CommentSyntax};
use super::sources::Sources;
use crate::model::{Finding, FindingId, Kind};

/// A hash of what makes two findings "the same problem", without the occurrence number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct IdentityKey([u8; 16]);

impl IdentityKey {
    fn of(parts: &[&str]) -> IdentityKey {
        let mut hasher = Sha256::new();
        for part in parts {
            hasher.update((part.len() as u64).to_le_bytes());
            hasher.update(part.as_bytes());
        }
        let digest = hasher.finalize();
        let mut key = [0u8; 16];
        key.copy_from_slice(&digest[..16]);
        IdentityKey(key)
    }

    /// The id of the `occurrence`-th finding (0-based, in line order) with this key.
    pub fn id(&self, occurrence: usize) -> FindingId {
        let mut hasher = Sha256::new();
        hasher.update(self.0);
        hasher.update((occurrence as u64).to_le_bytes());
        let digest = hasher.finalize();
        FindingId(digest[..8].iter().map(|b| format!("{b:02x}")).collect())
    }
}

/// The text a code finding's identity is computed from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Content {
    /// The flagged lines without comment-only and blank lines, all whitespace removed.
    pub text: String,
    /// The text as identity v1 computed it (comment lines included), when it differs from
    /// [`Content::text`]: the key of the ids that comments and triage may have been recorded
    /// under before comment lines stopped counting.
    pub legacy: Option<String>,
}

/// The flagged lines, from the file when it can be read, else the report's snippet.
fn flagged_lines<'a>(finding: &'a Finding, sources: &'a Sources) -> Option<Vec<&'a str>> {
    let location = finding.location.as_ref()?;
    let from_file = location
        .lines()
        .filter(|_| !location.outside_repo)
        .and_then(|(start, end)| sources.get(&location.path)?.lines(start, end));
    from_file.or_else(|| location.snippet.as_deref().map(|s| s.lines().collect()))
}

/// The flagged lines that are code. A range that is nothing but comments (a secret in a
/// comment, a commented-out call) keeps all its lines: the comment is what was flagged, and
/// an empty text would make every such finding of a rule in a file the same problem.
fn code_of<'a>(finding: &Finding, lines: &[&'a str]) -> Vec<&'a str> {
    let syntax = CommentSyntax::for_path(finding.path().unwrap_or(""));
    let code = comments::code_lines(lines, syntax);
    if code.is_empty() {
        lines.to_vec()
    } else {
        code
    }
}

fn without_whitespace<'a>(lines: impl IntoIterator<Item = &'a str>) -> String {
    lines
        .into_iter()
        .flat_map(str::chars)
        .filter(|c| !c.is_whitespace())
        .collect()
}

/// The identity text of a code finding (see [`Content`]), or `None` when it cannot be read.
///
/// Comment-only and blank lines inside the range are left out, so adding or deleting a
/// `# TODO` between `except Exception:` and `pass` leaves the finding what it was. Blank
/// lines never counted (whitespace is removed), so the text, and with it the id, of every
/// finding whose range holds no comment line is exactly what identity v1 gave.
pub fn normalized_content(finding: &Finding, sources: &Sources) -> Option<Content> {
    let lines = flagged_lines(finding, sources)?;
    let code = code_of(finding, &lines);
    let text = without_whitespace(code.iter().copied());
    let legacy = (code.len() != lines.len())
        .then(|| without_whitespace(lines.iter().copied()))
        .filter(|legacy| *legacy != text);
    Some(Content { text, legacy })
}

/// The flagged code lines (comment-only and blank lines left out) joined by newlines, with
/// their whitespace: what [`super::similarity`] tokenises.
pub fn code_text(finding: &Finding, sources: &Sources) -> Option<String> {
    let lines = flagged_lines(finding, sources)?;
    Some(code_of(finding, &lines).join("\n"))
}

/// The identity of a code finding (SAST, secret, IaC, DAST) whose path at head is
/// `head_path`.
pub fn code_key(finding: &Finding, head_path: Option<&str>, content: Option<&str>) -> IdentityKey {
    match content {
        Some(content) => IdentityKey::of(&[
            finding.kind.as_str(),
            &finding.rule,
            head_path.unwrap_or(""),
            "content",
            content,
        ]),
        // Without the text, the scanner's message is the best line-independent evidence.
        None => IdentityKey::of(&[
            finding.kind.as_str(),
            &finding.rule,
            head_path.unwrap_or(""),
            "message",
            finding.message.trim(),
        ]),
    }
}

/// The fingerprint under which an API finding carries its endpoint (`GET /pets/{petId}`).
pub const ENDPOINT_FINGERPRINT: &str = "posture/endpoint";

/// The identity of an API finding whose path at head is `head_path`: kind, rule, path and
/// endpoint. `None` for any other finding, or an API finding without its endpoint.
pub fn api_key(finding: &Finding, head_path: Option<&str>) -> Option<IdentityKey> {
    if finding.kind != Kind::Api {
        return None;
    }
    let endpoint = finding.fingerprints.get(ENDPOINT_FINGERPRINT)?;
    Some(IdentityKey::of(&[
        finding.kind.as_str(),
        &finding.rule,
        head_path.unwrap_or(""),
        "endpoint",
        endpoint,
    ]))
}

/// Groups advisory ids that name the same vulnerability, across both snapshots.
#[derive(Debug, Default)]
pub struct AliasIndex {
    parent: HashMap<String, String>,
}

impl AliasIndex {
    pub fn from_findings<'a>(findings: impl IntoIterator<Item = &'a Finding>) -> AliasIndex {
        let mut index = AliasIndex::default();
        for finding in findings {
            if !finding.kind.is_dependency() {
                continue;
            }
            let mut first: Option<String> = None;
            for id in finding.advisory_ids() {
                match &first {
                    None => {
                        index.find(&id);
                        first = Some(id);
                    }
                    Some(f) => index.union(f, &id),
                }
            }
        }
        index
    }

    fn find(&mut self, id: &str) -> String {
        let parent = match self.parent.get(id) {
            None => {
                self.parent.insert(id.to_string(), id.to_string());
                return id.to_string();
            }
            Some(p) if p == id => return id.to_string(),
            Some(p) => p.clone(),
        };
        let root = self.find(&parent);
        self.parent.insert(id.to_string(), root.clone());
        root
    }

    /// Keeps the preferred id as the root: CVE first, then GHSA, then the smallest.
    fn union(&mut self, a: &str, b: &str) {
        let (ra, rb) = (self.find(a), self.find(b));
        if ra == rb {
            return;
        }
        let (root, child) = if preference(&ra) <= preference(&rb) {
            (ra, rb)
        } else {
            (rb, ra)
        };
        self.parent.insert(child, root);
    }

    /// The canonical id of the vulnerability `id` belongs to.
    pub fn canonical(&self, id: &str) -> String {
        let mut current = id.to_ascii_uppercase();
        while let Some(parent) = self.parent.get(&current) {
            if *parent == current {
                break;
            }
            current = parent.clone();
        }
        current
    }
}

fn preference(id: &str) -> (u8, &str) {
    let rank = if id.starts_with("CVE-") {
        0
    } else if id.starts_with("GHSA-") {
        1
    } else {
        2
    };
    (rank, id)
}

/// The identity of a dependency finding.
pub fn dependency_key(finding: &Finding, aliases: &AliasIndex) -> IdentityKey {
    let (ecosystem, name) = match &finding.package {
        Some(p) => (
            p.ecosystem.as_str().to_string(),
            p.ecosystem.normalize_name(&p.name),
        ),
        None => (String::new(), String::new()),
    };
    let canonical = aliases.canonical(&finding.rule);
    IdentityKey::of(&[finding.kind.as_str(), &ecosystem, &name, &canonical])
}

/// Whether findings of `kind` are about a package under a rule of the component policy,
/// identified by [`package_rule_key`].
pub fn is_package_rule(kind: Kind) -> bool {
    matches!(kind, Kind::License | Kind::Policy)
}

/// The identity of a component policy finding: kind, ecosystem, package and rule
/// (`license/deny`, `package/deny`, …), without version or location.
pub fn package_rule_key(finding: &Finding) -> IdentityKey {
    let (ecosystem, name) = match &finding.package {
        Some(p) => (
            p.ecosystem.as_str().to_string(),
            p.ecosystem.normalize_name(&p.name),
        ),
        None => (String::new(), String::new()),
    };
    IdentityKey::of(&[finding.kind.as_str(), &ecosystem, &name, &finding.rule])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Advisory, Ecosystem, Location, Package};

    fn dep(rule: &str, aliases: &[&str], name: &str) -> Finding {
        let mut f = Finding::new(Kind::Sca, "osv-scanner", rule);
        f.package = Some(Box::new(Package {
            ecosystem: Ecosystem::PyPI,
            name: name.into(),
            version: Some("1.0".into()),
            manifest: None,
        }));
        f.advisories = vec![Advisory {
            id: rule.into(),
            aliases: aliases.iter().map(|s| s.to_string()).collect(),
            ..Advisory::default()
        }];
        f
    }

    fn api(rule: &str, endpoint: Option<&str>, line: u32) -> Finding {
        let mut f = Finding::new(Kind::Api, "posture", rule);
        f.location = Some(Location::new("openapi.yaml").with_lines(line, line));
        if let Some(endpoint) = endpoint {
            f.fingerprints
                .insert(ENDPOINT_FINGERPRINT.into(), endpoint.into());
        }
        f
    }

    #[test]
    fn api_findings_are_identified_by_path_endpoint_and_rule_not_line() {
        let key = |f: &Finding, path: &str| api_key(f, Some(path)).unwrap();
        let pets = api("api/no-security", Some("GET /pets"), 11);
        let moved = api("api/no-security", Some("GET /pets"), 40);
        assert_eq!(key(&pets, "a.yaml"), key(&moved, "a.yaml"));
        let other = api("api/no-security", Some("POST /pets"), 11);
        assert_ne!(key(&pets, "a.yaml"), key(&other, "a.yaml"));
        let rule = api("api/sensitive-response", Some("GET /pets"), 11);
        assert_ne!(key(&pets, "a.yaml"), key(&rule, "a.yaml"));
        assert_ne!(key(&pets, "a.yaml"), key(&pets, "b.yaml"));
        // Without its endpoint, or of another kind, a finding keeps the code identity.
        assert_eq!(
            api_key(&api("api/no-security", None, 11), Some("a.yaml")),
            None
        );
        let mut sast = pets.clone();
        sast.kind = Kind::Sast;
        assert_eq!(api_key(&sast, Some("a.yaml")), None);
    }

    #[test]
    fn aliases_name_one_vulnerability() {
        let a = dep("GHSA-aaaa", &["CVE-2020-1"], "Jinja2");
        let b = dep("PYSEC-2020-9", &["CVE-2020-1"], "jinja2");
        let c = dep("GHSA-bbbb", &[], "jinja2");
        let index = AliasIndex::from_findings([&a, &b, &c]);
        assert_eq!(index.canonical("ghsa-aaaa"), "CVE-2020-1");
        assert_eq!(dependency_key(&a, &index), dependency_key(&b, &index));
        assert_ne!(dependency_key(&a, &index), dependency_key(&c, &index));
    }

    fn licence_finding(name: &str, version: &str, rule: &str, line: u32) -> Finding {
        let mut f = Finding::new(Kind::License, "posture", rule);
        f.package = Some(Box::new(Package {
            ecosystem: Ecosystem::PyPI,
            name: name.into(),
            version: Some(version.into()),
            manifest: Some("poetry.lock".into()),
        }));
        f.location = Some(Location::new("poetry.lock").with_lines(line, line));
        f.message = format!("{name} {version} is licensed …");
        f
    }

    #[test]
    fn policy_findings_are_identified_by_package_and_rule() {
        let before = licence_finding("PyYAML", "6.0.1", "license/deny", 120);
        // Moved down the lockfile and bumped: the same finding.
        let after = licence_finding("pyyaml", "6.0.2", "license/deny", 131);
        assert!(is_package_rule(before.kind));
        assert_eq!(package_rule_key(&before), package_rule_key(&after));
        // Another rule, package or kind is another finding.
        let review = licence_finding("pyyaml", "6.0.2", "license/review", 131);
        assert_ne!(package_rule_key(&before), package_rule_key(&review));
        let other = licence_finding("ruamel.yaml", "0.18.6", "license/deny", 120);
        assert_ne!(package_rule_key(&before), package_rule_key(&other));
        let mut banned = before.clone();
        banned.kind = Kind::Policy;
        assert_ne!(package_rule_key(&before), package_rule_key(&banned));
        assert!(!is_package_rule(Kind::Sca) && !is_package_rule(Kind::Sast));
    }

    #[test]
    fn code_identity_ignores_whitespace_and_lines() {
        let mut sources = Sources::default();
        sources.insert("a.py", "x = 1\n    eval( data )\n".to_string());
        sources.insert("b.py", "\n\n\neval(data)\n".to_string());
        let mut f = Finding::new(Kind::Sast, "semgrep", "eval");
        f.location = Some(Location::new("a.py").with_lines(2, 2));
        let mut g = f.clone();
        g.location = Some(Location::new("b.py").with_lines(4, 4));
        let cf = normalized_content(&f, &sources).unwrap().text;
        let cg = normalized_content(&g, &sources).unwrap().text;
        assert_eq!(cf, "eval(data)");
        assert_eq!(
            code_key(&f, Some("a.py"), Some(&cf)),
            code_key(&g, Some("a.py"), Some(&cg))
        );
        assert_ne!(
            code_key(&f, Some("a.py"), Some(&cf)),
            code_key(&g, Some("b.py"), Some(&cg))
        );
        let key = code_key(&f, Some("a.py"), Some(&cf));
        assert_ne!(key.id(0), key.id(1));
        assert_eq!(key.id(0).0.len(), 16);
    }

    fn flagged(path: &str, text: &str, lines: (u32, u32)) -> Option<Content> {
        let mut sources = Sources::default();
        sources.insert(path, text.to_string());
        let mut f = Finding::new(Kind::Sast, "semgrep", "except-pass");
        f.location = Some(Location::new(path).with_lines(lines.0, lines.1));
        normalized_content(&f, &sources)
    }

    #[test]
    fn comment_lines_leave_the_identity_and_keep_the_former_text() {
        let with = "except Exception:\n    # TODO\n\n    pass\n";
        let without = "except Exception:\n    pass\n";
        let commented = flagged("a.py", with, (1, 4)).unwrap();
        let plain = flagged("a.py", without, (1, 2)).unwrap();
        assert_eq!(commented.text, "exceptException:pass");
        assert_eq!(commented.text, plain.text);
        assert_eq!(
            commented.legacy.as_deref(),
            Some("exceptException:#TODOpass")
        );
        // No comment line: the text is v1's, with nothing to remember.
        assert_eq!(plain.legacy, None);
        assert_eq!(
            flagged("a.py", "x = 1\n\n\ny = 2\n", (1, 4))
                .unwrap()
                .legacy,
            None
        );
        // In a language without `#` comments, the line is code.
        let c = flagged("a.c", "if (x)\n# define Y\n", (1, 2)).unwrap();
        assert_eq!((c.text.as_str(), c.legacy), ("if(x)#defineY", None));
    }

    #[test]
    fn a_range_of_nothing_but_comments_keeps_them() {
        // A secret in a comment: the comment is what was flagged.
        let a = flagged("a.py", "# password = hunter2\n", (1, 1)).unwrap();
        let b = flagged("a.py", "# password = swordfish\n", (1, 1)).unwrap();
        assert_eq!(a.text, "#password=hunter2");
        assert_ne!(a.text, b.text);
        assert_eq!(a.legacy, None);
    }

    #[test]
    fn snippets_lose_their_comment_lines_too() {
        let mut f = Finding::new(Kind::Sast, "semgrep", "r");
        let mut location = Location::new("gone.js").with_lines(3, 5);
        location.snippet = Some("try {\n  // note\n} catch (e) {}".into());
        f.location = Some(location);
        let content = normalized_content(&f, &Sources::default()).unwrap();
        assert_eq!(content.text, "try{}catch(e){}");
        assert_eq!(
            code_text(&f, &Sources::default()).as_deref(),
            Some("try {\n} catch (e) {}")
        );
    }
}
