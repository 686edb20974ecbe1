//! Matches head findings against base findings: which are new, which existing, which fixed.
//!
//! Two passes. First, tool fingerprints that both sides carry and that are trustworthy
//! (unique within their snapshot and shaped like a hash: Semgrep 1.182 writes
//! `"requires login"` in every result). Then the line-independent identity of
//! [`super::identity`]: within one identity, a base finding pairs first with the head finding
//! at the line the diff maps it to, then the rest pair in line order, so a duplicated
//! identical line leaves the old finding existing and only the copy new. Last, what is left
//! on both sides where the diff rewrote it is compared token by token ([`super::rewrite`]): a
//! reformatted line is one finding, `existing` and `changed`, not a fix and a new problem.
//!
//! Ids are the identity key and an occurrence number. When the identity formula changes
//! (comment lines stopped counting), a finding also carries the id the former formula gave it
//! in `previous_ids`, computed here from the same matching, so comments and triage recorded
//! under it are still found; findings whose range holds no comment line keep their id as it
//! was and carry no alias.

use std::collections::{HashMap, HashSet, VecDeque};

use super::diff::DiffIndex;
use super::identity::{
    AliasIndex, IdentityKey, api_key, code_key, dependency_key, is_package_rule,
    normalized_content, package_rule_key,
};
use super::rewrite;
use super::sources::Sources;
use crate::model::{Finding, FindingId, Fingerprints, Status};

/// The outcome for one finding: which side(s) it came from and its stable id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Match {
    pub id: FindingId,
    pub status: Status,
    /// Index into the head findings (new and existing).
    pub head: Option<usize>,
    /// Index into the base findings (existing and fixed).
    pub base: Option<usize>,
    /// Existing, but its text was rewritten (a formatter, a moderniser): paired by
    /// [`rewrite::pair_rewrites`], not by identity.
    pub changed: bool,
    /// Other ids the finding may have been recorded under: the id identity v1 (comment lines
    /// counted) gave it, and for a changed finding the id its new text alone gives.
    pub previous_ids: Vec<FindingId>,
}

/// A finding prepared for matching.
struct Prepared<'a> {
    key: IdentityKey,
    /// The key identity v1 gave it, when that differs from `key`.
    legacy: Option<IdentityKey>,
    /// For head findings, the start line; for base findings, where the diff maps it at head.
    line: Option<u32>,
    /// The finding's own start line on its side, for ordering.
    own_line: Option<u32>,
    rule: &'a str,
    fingerprints: &'a Fingerprints,
}

impl<'a> Prepared<'a> {
    /// The tool fingerprints that look like hashes (see [`looks_like_fingerprint`]).
    fn fingerprints(&self) -> impl Iterator<Item = (&'a str, &'a str)> + use<'a> {
        self.fingerprints
            .iter()
            .filter(|(_, v)| looks_like_fingerprint(v))
            .map(|(k, v)| (k.as_str(), v.as_str()))
    }
}

/// Correlates `head` with `base`. Both are the de-duplicated findings of their side.
///
/// Grouping sorts indices rather than filling maps of vectors: at 100,000 findings a side
/// the maps cost an allocation per group and most of this function's memory.
pub fn correlate(
    base: &[Finding],
    head: &[Finding],
    diff: &DiffIndex<'_>,
    base_sources: &Sources,
    head_sources: &Sources,
) -> Vec<Match> {
    let aliases = AliasIndex::from_findings(base.iter().chain(head));
    let base_prepared: Vec<Prepared> = base
        .iter()
        .map(|f| prepare_base(f, diff, base_sources, &aliases))
        .collect();
    let head_prepared: Vec<Prepared> = head
        .iter()
        .map(|f| prepare_head(f, head_sources, &aliases))
        .collect();

    let mut base_ids = occurrence_ids(&base_prepared, |p| p.key);
    let mut base_match: Vec<Option<usize>> = vec![None; base.len()];
    let mut head_match: Vec<Option<usize>> = vec![None; head.len()];

    // Pass 1: trusted tool fingerprints on both sides.
    let base_trusted = trusted_fingerprints(&base_prepared);
    let head_trusted = trusted_fingerprints(&head_prepared);
    for (h, prepared) in head_prepared.iter().enumerate() {
        for fp in prepared.fingerprints() {
            if lookup(&head_trusted, fp).is_none() {
                continue;
            }
            let Some(b) = lookup(&base_trusted, fp) else {
                continue;
            };
            if base_match[b].is_none() && base_prepared[b].rule == prepared.rule {
                base_match[b] = Some(h);
                head_match[h] = Some(b);
                break;
            }
        }
    }
    drop((base_trusted, head_trusted));

    // Pass 2: identity, mapped line first, then line order.
    let base_free = sorted_by_key(&base_prepared, &base_match);
    let mut head_free = sorted_by_key(&head_prepared, &head_match);
    let mut base_groups = base_free
        .chunk_by(|&a, &b| base_prepared[a].key == base_prepared[b].key)
        .peekable();
    for heads in head_free.chunk_by(|&a, &b| head_prepared[a].key == head_prepared[b].key) {
        let key = head_prepared[heads[0]].key;
        while base_groups
            .next_if(|bases| base_prepared[bases[0]].key < key)
            .is_some()
        {}
        if let Some(bases) = base_groups.next_if(|bases| base_prepared[bases[0]].key == key) {
            pair_group(
                bases,
                heads,
                &base_prepared,
                &head_prepared,
                &mut base_match,
                &mut head_match,
            );
        }
    }

    // Pass 3: rewritten code, among what is left.
    let changed = rewrite::pair_rewrites(
        base,
        head,
        diff,
        base_sources,
        head_sources,
        &mut base_match,
        &mut head_match,
    );
    let is_changed = |h: usize| changed.binary_search(&h).is_ok();

    // Ids: matched findings keep the base id; new ones take the next free occurrence. A
    // changed finding's own text is given an id too, as new findings are: it is what the
    // finding was called while it was reported new, and what its text alone will give.
    head_free.retain(|&h| head_match[h].is_none() || is_changed(h));
    // In id order: the matches of new findings are listed as they always were.
    head_free.sort_by_key(|&h| (head_prepared[h].key, head_prepared[h].line, h));
    let key = |h: usize| head_prepared[h].key;
    let line = |h: usize| head_prepared[h].line;
    let minted = mint(&head_free, key, line, &base_ids);
    let legacy = (base_prepared
        .iter()
        .chain(&head_prepared)
        .any(|p| p.legacy.is_some()))
    .then(|| {
        let legacy_base = occurrence_ids(&base_prepared, |p| p.legacy.unwrap_or(p.key));
        let legacy_key = |h: usize| head_prepared[h].legacy.unwrap_or(head_prepared[h].key);
        let legacy_minted = mint(&head_free, legacy_key, line, &legacy_base);
        (legacy_base, legacy_minted)
    });
    let alias = |id: &FindingId, candidates: &[Option<&FindingId>]| -> Vec<FindingId> {
        let mut aliases: Vec<FindingId> = Vec::new();
        for candidate in candidates.iter().flatten() {
            if *candidate != id && !aliases.contains(candidate) {
                aliases.push((*candidate).clone());
            }
        }
        aliases
    };
    let mut own_ids: HashMap<usize, (FindingId, Option<&FindingId>)> = HashMap::new();
    let mut matches = Vec::with_capacity(head.len() + base.len());
    for (i, (&h, id)) in head_free.iter().zip(minted).enumerate() {
        let legacy_id = legacy.as_ref().map(|(_, minted)| &minted[i]);
        if head_match[h].is_some() {
            own_ids.insert(h, (id, legacy_id));
            continue;
        }
        matches.push(Match {
            previous_ids: alias(&id, &[legacy_id]),
            id,
            status: Status::New,
            head: Some(h),
            base: None,
            changed: false,
        });
    }
    // Each base finding is existing or fixed, once: its id moves into that match.
    for (h, b) in head_match.iter().enumerate() {
        if let Some(b) = *b {
            let id = FindingId(std::mem::take(&mut base_ids[b].0));
            let legacy_id = legacy.as_ref().map(|(base, _)| &base[b]);
            let own = own_ids.get(&h);
            let previous_ids = alias(
                &id,
                &[
                    legacy_id,
                    own.map(|(own, _)| own),
                    own.and_then(|(_, legacy)| *legacy),
                ],
            );
            matches.push(Match {
                id,
                status: Status::Existing,
                head: Some(h),
                base: Some(b),
                changed: own.is_some(),
                previous_ids,
            });
        }
    }
    for (b, h) in base_match.iter().enumerate() {
        if h.is_none() {
            let id = FindingId(std::mem::take(&mut base_ids[b].0));
            let legacy_id = legacy.as_ref().map(|(base, _)| &base[b]);
            matches.push(Match {
                previous_ids: alias(&id, &[legacy_id]),
                id,
                status: Status::Fixed,
                head: None,
                base: Some(b),
                changed: false,
            });
        }
    }
    matches
}

/// Ids for the head findings `heads`, which have no base id: within each key, the next
/// occurrences no base finding has taken, in line order. Returned in `heads`' order.
fn mint(
    heads: &[usize],
    key: impl Fn(usize) -> IdentityKey,
    line: impl Fn(usize) -> Option<u32>,
    base_ids: &[FindingId],
) -> Vec<FindingId> {
    let taken: HashSet<&str> = base_ids.iter().map(|id| id.0.as_str()).collect();
    let mut minted: HashSet<FindingId> = HashSet::new();
    let mut order: Vec<usize> = (0..heads.len()).collect();
    order.sort_by_key(|&i| (key(heads[i]), line(heads[i]), heads[i]));
    let mut ids = vec![FindingId(String::new()); heads.len()];
    for group in order.chunk_by(|&a, &b| key(heads[a]) == key(heads[b])) {
        let key = key(heads[group[0]]);
        let mut occurrence = 0;
        for &i in group {
            ids[i] = loop {
                let candidate = key.id(occurrence);
                occurrence += 1;
                if !taken.contains(candidate.0.as_str()) && minted.insert(candidate.clone()) {
                    break candidate;
                }
            };
        }
    }
    ids
}

/// The indices of the still unmatched findings, ordered by identity key, then index.
fn sorted_by_key(prepared: &[Prepared], matched: &[Option<usize>]) -> Vec<usize> {
    let mut free: Vec<usize> = (0..prepared.len())
        .filter(|&i| matched[i].is_none())
        .collect();
    free.sort_unstable_by_key(|&i| (prepared[i].key, i));
    free
}

/// A finding's identity key, and the key identity v1 gave it when that differs.
/// Dependency and component policy findings have one key only.
fn code_or_dependency_keys(
    finding: &Finding,
    head_path: Option<&str>,
    sources: &Sources,
    aliases: &AliasIndex,
) -> (IdentityKey, Option<IdentityKey>) {
    if finding.kind.is_dependency() {
        return (dependency_key(finding, aliases), None);
    }
    if is_package_rule(finding.kind) {
        return (package_rule_key(finding), None);
    }
    if let Some(key) = api_key(finding, head_path) {
        return (key, None);
    }
    let content = normalized_content(finding, sources);
    let key = code_key(
        finding,
        head_path,
        content.as_ref().map(|c| c.text.as_str()),
    );
    let legacy = content
        .as_ref()
        .and_then(|c| c.legacy.as_deref())
        .map(|legacy| code_key(finding, head_path, Some(legacy)));
    (key, legacy)
}

fn prepare_head<'a>(finding: &'a Finding, sources: &Sources, aliases: &AliasIndex) -> Prepared<'a> {
    let (key, legacy) = code_or_dependency_keys(finding, finding.path(), sources, aliases);
    let own_line = finding.location.as_ref().and_then(|l| l.start_line);
    Prepared {
        key,
        legacy,
        line: own_line,
        own_line,
        rule: &finding.rule,
        fingerprints: &finding.fingerprints,
    }
}

fn prepare_base<'a>(
    finding: &'a Finding,
    diff: &DiffIndex<'_>,
    sources: &Sources,
    aliases: &AliasIndex,
) -> Prepared<'a> {
    let head_path = finding.path().map(|p| diff.head_path(p).unwrap_or(p));
    let (key, legacy) = code_or_dependency_keys(finding, head_path, sources, aliases);
    let line = finding.location.as_ref().and_then(|l| {
        let start = l.start_line?;
        diff.map_line(&l.path, start)
    });
    Prepared {
        key,
        legacy,
        line,
        own_line: finding.location.as_ref().and_then(|l| l.start_line),
        rule: &finding.rule,
        fingerprints: &finding.fingerprints,
    }
}

/// A fingerprint is a hash-like token: no spaces, long enough to be distinctive.
fn looks_like_fingerprint(value: &str) -> bool {
    value.len() >= 8 && !value.chars().any(char::is_whitespace)
}

/// A fingerprint: the tool's key and value.
type Fingerprint<'a> = (&'a str, &'a str);

/// Fingerprints carried by exactly one finding of a snapshot, with that finding, sorted
/// for [`lookup`].
fn trusted_fingerprints<'a>(prepared: &[Prepared<'a>]) -> Vec<(Fingerprint<'a>, usize)> {
    let mut all: Vec<(Fingerprint<'a>, usize)> = prepared
        .iter()
        .enumerate()
        .flat_map(|(i, p)| p.fingerprints().map(move |fp| (fp, i)))
        .collect();
    all.sort_unstable();
    let mut trusted = Vec::with_capacity(all.len());
    for run in all.chunk_by(|a, b| a.0 == b.0) {
        if let [only] = run {
            trusted.push(*only);
        }
    }
    trusted
}

/// The finding that alone carries `fp`, in a list from [`trusted_fingerprints`].
fn lookup(trusted: &[(Fingerprint<'_>, usize)], fp: Fingerprint<'_>) -> Option<usize> {
    trusted
        .binary_search_by(|(probe, _)| probe.cmp(&fp))
        .ok()
        .map(|at| trusted[at].1)
}

/// Base ids: the occurrence index of each finding among those with its `key`, in line order.
fn occurrence_ids(prepared: &[Prepared], key: impl Fn(&Prepared) -> IdentityKey) -> Vec<FindingId> {
    let mut order: Vec<usize> = (0..prepared.len()).collect();
    order.sort_unstable_by_key(|&i| (key(&prepared[i]), prepared[i].own_line, i));
    let mut ids = vec![FindingId(String::new()); prepared.len()];
    for members in order.chunk_by(|&a, &b| key(&prepared[a]) == key(&prepared[b])) {
        for (occurrence, &i) in members.iter().enumerate() {
            ids[i] = key(&prepared[i]).id(occurrence);
        }
    }
    ids
}

fn pair_group(
    bases: &[usize],
    heads: &[usize],
    base_prepared: &[Prepared],
    head_prepared: &[Prepared],
    base_match: &mut [Option<usize>],
    head_match: &mut [Option<usize>],
) {
    // Two unmatched findings of one identity pair whatever their lines: the common case,
    // taken without building an index.
    if let ([b], [h]) = (bases, heads) {
        base_match[*b] = Some(*h);
        head_match[*h] = Some(*b);
        return;
    }
    // Exact: the base finding's line, carried through the diff, is the head finding's line.
    // Heads are indexed by line (in order), so a thousand copies on one line pair in linear
    // time.
    let mut heads_at: HashMap<u32, VecDeque<usize>> = HashMap::new();
    for &h in heads.iter().filter(|&&h| head_match[h].is_none()) {
        if let Some(line) = head_prepared[h].line {
            heads_at.entry(line).or_default().push_back(h);
        }
    }
    for &b in bases {
        let Some(mapped) = base_prepared[b].line else {
            continue;
        };
        if let Some(h) = heads_at.get_mut(&mapped).and_then(VecDeque::pop_front) {
            base_match[b] = Some(h);
            head_match[h] = Some(b);
        }
    }
    // The rest in line order (moved or re-indented code, whose lines the diff rewrote).
    let mut free_bases: Vec<usize> = bases
        .iter()
        .copied()
        .filter(|&b| base_match[b].is_none())
        .collect();
    let mut free_heads: Vec<usize> = heads
        .iter()
        .copied()
        .filter(|&h| head_match[h].is_none())
        .collect();
    free_bases.sort_by_key(|&b| (base_prepared[b].own_line, b));
    free_heads.sort_by_key(|&h| (head_prepared[h].line, h));
    for (b, h) in free_bases.into_iter().zip(free_heads) {
        base_match[b] = Some(h);
        head_match[h] = Some(b);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ChangeSet, ChangeStatus, FileChange, Hunk, Kind, Location};

    fn sast(path: &str, line: u32) -> Finding {
        let mut f = Finding::new(Kind::Sast, "semgrep", "eval-use");
        f.location = Some(Location::new(path).with_lines(line, line));
        f
    }

    fn sources(path: &str, text: &str) -> Sources {
        let mut s = Sources::default();
        s.insert(path, text.to_string());
        s
    }

    fn status_of(matches: &[Match], head: usize) -> Status {
        matches
            .iter()
            .find(|m| m.head == Some(head))
            .unwrap()
            .status
    }

    #[test]
    fn duplicated_line_makes_only_the_copy_new() {
        let base_src = sources("a.py", "x = 1\neval(y)\n");
        let head_src = sources("a.py", "eval(y)\nx = 1\neval(y)\n");
        let changes = ChangeSet {
            files: vec![FileChange {
                old_path: Some("a.py".into()),
                new_path: Some("a.py".into()),
                status: ChangeStatus::Modified,
                hunks: vec![Hunk {
                    old_start: 0,
                    old_lines: 0,
                    new_start: 1,
                    new_lines: 1,
                }],
                added_lines: vec![1],
                binary: false,
            }],
            ..ChangeSet::default()
        };
        let diff = DiffIndex::new(&changes);
        let base = [sast("a.py", 2)];
        let head = [sast("a.py", 1), sast("a.py", 3)];
        let matches = correlate(&base, &head, &diff, &base_src, &head_src);
        assert_eq!(matches.len(), 2);
        assert_eq!(status_of(&matches, 0), Status::New);
        assert_eq!(status_of(&matches, 1), Status::Existing);
        let existing = matches.iter().find(|m| m.head == Some(1)).unwrap();
        let new = matches.iter().find(|m| m.head == Some(0)).unwrap();
        assert_eq!(existing.base, Some(0));
        assert_ne!(existing.id, new.id);
    }

    #[test]
    fn untrustworthy_fingerprints_are_ignored_and_fixed_findings_reported() {
        let base_src = sources("a.py", "eval(a)\neval(b)\n");
        let head_src = sources("a.py", "eval(a)\nexec(b)\n");
        let diff_set = ChangeSet::default();
        let diff = DiffIndex::new(&diff_set);
        let mut base = vec![sast("a.py", 1), sast("a.py", 2)];
        let mut head = vec![sast("a.py", 2)];
        for f in base.iter_mut().chain(head.iter_mut()) {
            f.fingerprints
                .insert("matchBasedId/v1".into(), "requires login".into());
        }
        // The same hash-like fingerprint on a different line: trusted, so they match.
        base[1].fingerprints.insert(
            "primaryLocationLineHash".into(),
            "1234abcd5678ef90:1".into(),
        );
        head[0].fingerprints.insert(
            "primaryLocationLineHash".into(),
            "1234abcd5678ef90:1".into(),
        );
        let matches = correlate(&base, &head, &diff, &base_src, &head_src);
        assert_eq!(status_of(&matches, 0), Status::Existing);
        let existing = matches.iter().find(|m| m.head == Some(0)).unwrap();
        assert_eq!(existing.base, Some(1));
        let fixed: Vec<_> = matches
            .iter()
            .filter(|m| m.status == Status::Fixed)
            .collect();
        assert_eq!(fixed.len(), 1);
        assert_eq!(fixed[0].base, Some(0));
    }

    /// A package-lock.json with `name` at `version` declared at the line of its entry.
    fn lockfile(shift: usize, packages: &[(&str, &str, &str)]) -> String {
        let mut text =
            String::from("{\n  \"name\": \"app\",\n  \"lockfileVersion\": 3,\n  \"packages\": {\n");
        text.push_str(&"\n".repeat(shift));
        for (name, version, license) in packages {
            text.push_str(&format!(
                "    \"node_modules/{name}\": {{\n      \"version\": \"{version}\",\n      \"license\": \"{license}\"\n    }},\n"
            ));
        }
        text.push_str("  }\n}\n");
        text
    }

    /// The policy findings of the packages of a lockfile, at their declaring lines.
    fn policy_findings(text: &str, packages: &[(&str, &str, &str)]) -> Vec<Finding> {
        use crate::model::{Component, ComponentScope, Ecosystem, Licenses, Package};
        let config = crate::config::Config::parse(
            ".posture.yml",
            "policy:\n  licenses:\n    allow: [MIT]\n    deny: [AGPL-3.0-only]\n  packages:\n    deny: [{package: pkg:npm/event-stream, versions: \">=3.3.6\"}]\n",
        )
        .unwrap();
        let components: Vec<Component> = packages
            .iter()
            .map(|(name, version, license)| {
                let package = Package {
                    ecosystem: Ecosystem::Npm,
                    name: name.to_string(),
                    version: Some(version.to_string()),
                    manifest: Some("package-lock.json".into()),
                };
                let mut c = Component::new(package, ComponentScope::Runtime).unwrap();
                let needle = format!("\"node_modules/{name}\"");
                c.line = text
                    .lines()
                    .position(|l| l.contains(&needle))
                    .map(|i| i as u32 + 1);
                c.licenses = Licenses {
                    declared: Some(license.to_string()),
                    concluded: None,
                };
                c
            })
            .collect();
        let violations = crate::inventory::policy::evaluate(&config.policy, &components);
        crate::inventory::policy::findings(&violations)
    }

    #[test]
    fn policy_findings_survive_a_line_shift_and_a_version_bump() {
        let base_packages = [
            ("event-stream", "3.3.6", "MIT"),
            ("agpl-thing", "1.0.0", "AGPL-3.0-only"),
        ];
        let head_packages = [
            ("left-pad", "1.3.0", "MIT"),
            ("event-stream", "4.0.1", "MIT"),
            ("agpl-thing", "1.2.0", "AGPL-3.0-only"),
            ("agpl-other", "2.0.0", "AGPL-3.0-only"),
        ];
        let base_text = lockfile(0, &base_packages);
        let head_text = lockfile(3, &head_packages);
        let base = policy_findings(&base_text, &base_packages);
        let head = policy_findings(&head_text, &head_packages);
        assert_eq!((base.len(), head.len()), (2, 3));
        assert_ne!(base[0].location, head[0].location);
        let changes = ChangeSet {
            files: vec![FileChange {
                old_path: Some("package-lock.json".into()),
                new_path: Some("package-lock.json".into()),
                status: ChangeStatus::Modified,
                hunks: vec![Hunk {
                    old_start: 4,
                    old_lines: 0,
                    new_start: 5,
                    new_lines: 8,
                }],
                added_lines: (5..13).collect(),
                binary: false,
            }],
            ..ChangeSet::default()
        };
        let diff = DiffIndex::new(&changes);
        let matches = correlate(
            &base,
            &head,
            &diff,
            &sources("package-lock.json", &base_text),
            &sources("package-lock.json", &head_text),
        );
        assert_eq!(matches.len(), 3, "{matches:#?}");
        for (b, h) in [(0, 0), (1, 1)] {
            let m = matches.iter().find(|m| m.head == Some(h)).unwrap();
            assert_eq!((m.status, m.base), (Status::Existing, Some(b)), "{m:?}");
        }
        assert_eq!(status_of(&matches, 2), Status::New);
        // The id is the package and rule's, whatever the version or line.
        let id = |findings: &[Finding], i: usize, other: &[Finding]| {
            let matches = correlate(
                findings,
                other,
                &diff,
                &Sources::default(),
                &Sources::default(),
            );
            matches
                .iter()
                .find(|m| m.base == Some(i))
                .unwrap()
                .id
                .clone()
        };
        assert_eq!(id(&base, 0, &head), id(&base, 0, &[]));
    }
}
