//! Properties of the diff line mapping and of finding identity, over random files, edits and
//! advisories.
//!
//! Diff mapping: a random file and a random script of line insertions and deletions become
//! a forge-style unified diff (random context, `,1` counts sometimes left out as git does),
//! which `forge::patch::parse` reads and `analyze::diff::DiffIndex` maps through. The script
//! says where every base line went, so the mapping is checked against it exactly.
//!
//! Identity (`analyze::identity`, as `analyze::correlate` applies it): its module promises
//! that inserting lines above a code finding, renaming its file or re-indenting it leaves
//! the identity unchanged, that the flagged text is part of it, and that a dependency
//! finding is identified by ecosystem, package and advisory, every alias naming the same
//! vulnerability (so neither the order of advisories and aliases nor the tool matters).

use posture::analyze::correlate::{Match, correlate};
use posture::analyze::diff::DiffIndex;
use posture::analyze::identity::{AliasIndex, code_key, dependency_key, normalized_content};
use posture::analyze::similarity::{Tokens, rewrite_score};
use posture::analyze::sources::Sources;
use posture::forge::patch;
use posture::model::{
    Advisory, ChangeSet, ChangeStatus, Ecosystem, Finding, FindingId, Kind, Location, Package,
    Status,
};
use proptest::prelude::*;

// ---- random edits and the unified diff they make ----

/// One step of an edit script, in head order.
#[derive(Debug, Clone, PartialEq)]
enum Op {
    Keep(String),
    Delete(String),
    Insert(String),
}

impl Op {
    fn text(&self) -> &str {
        match self {
            Op::Keep(t) | Op::Delete(t) | Op::Insert(t) => t,
        }
    }
    fn in_base(&self) -> bool {
        !matches!(self, Op::Insert(_))
    }
    fn in_head(&self) -> bool {
        !matches!(self, Op::Delete(_))
    }
}

/// What happens around base line `i`: lines inserted before it, and whether it stays.
#[derive(Debug, Clone)]
struct LineEdit {
    insert_before: Vec<String>,
    keep: bool,
}

/// A base file and an edit of it.
#[derive(Debug, Clone)]
struct Edit {
    base: Vec<String>,
    ops: Vec<Op>,
}

impl Edit {
    /// Builds the ops of `edits` (one per base line) and `tail` (inserted at the end), each
    /// run of changes ordered as git orders it: deletions first, then insertions.
    fn new(base: Vec<String>, edits: Vec<LineEdit>, tail: Vec<String>) -> Edit {
        let mut raw = Vec::new();
        for (line, edit) in base.iter().zip(edits) {
            raw.extend(edit.insert_before.into_iter().map(Op::Insert));
            raw.push(if edit.keep {
                Op::Keep(line.clone())
            } else {
                Op::Delete(line.clone())
            });
        }
        raw.extend(tail.into_iter().map(Op::Insert));
        let mut ops = Vec::with_capacity(raw.len());
        let mut run: Vec<Op> = Vec::new();
        let flush = |run: &mut Vec<Op>, ops: &mut Vec<Op>| {
            run.sort_by_key(|op| matches!(op, Op::Insert(_))); // stable: keeps each side's order
            ops.append(run);
        };
        for op in raw {
            if matches!(op, Op::Keep(_)) {
                flush(&mut run, &mut ops);
                ops.push(op);
            } else {
                run.push(op);
            }
        }
        flush(&mut run, &mut ops);
        Edit { base, ops }
    }

    fn head(&self) -> Vec<&str> {
        self.ops
            .iter()
            .filter(|op| op.in_head())
            .map(Op::text)
            .collect()
    }

    /// For each base line (index 0 = line 1), its 1-based head line, or `None` if deleted.
    fn expected_mapping(&self) -> Vec<Option<u32>> {
        let mut head_line = 0u32;
        let mut mapping = Vec::with_capacity(self.base.len());
        for op in &self.ops {
            match op {
                Op::Keep(_) => {
                    head_line += 1;
                    mapping.push(Some(head_line));
                }
                Op::Delete(_) => mapping.push(None),
                Op::Insert(_) => head_line += 1,
            }
        }
        mapping
    }

    /// The 1-based head lines the edit inserted, ascending.
    fn inserted_head_lines(&self) -> Vec<u32> {
        let mut head_line = 0u32;
        let mut inserted = Vec::new();
        for op in &self.ops {
            if op.in_head() {
                head_line += 1;
            }
            if matches!(op, Op::Insert(_)) {
                inserted.push(head_line);
            }
        }
        inserted
    }

    /// The edit as the forges send it: hunks with `context` lines around each run of
    /// changes, runs closer than twice the context merged, no file headers. With
    /// `short_counts`, a count of 1 is left out of the `@@` header (`-3 +3`), as git does.
    fn unified_diff(&self, context: usize, short_counts: bool) -> String {
        // Runs of changes, as half-open op index ranges.
        let mut runs: Vec<(usize, usize)> = Vec::new();
        for (k, op) in self.ops.iter().enumerate() {
            if matches!(op, Op::Keep(_)) {
                continue;
            }
            match runs.last_mut() {
                Some((_, end)) if *end == k => *end = k + 1,
                _ => runs.push((k, k + 1)),
            }
        }
        // Hunks: runs widened by the context, merged when their context would touch.
        let mut hunks: Vec<(usize, usize)> = Vec::new();
        for (start, end) in runs {
            let from = start.saturating_sub(context);
            let to = (end + context).min(self.ops.len());
            match hunks.last_mut() {
                Some((_, last_end)) if from <= *last_end => *last_end = to,
                _ => hunks.push((from, to)),
            }
        }
        let range = |before: usize, count: usize| {
            let start = if count == 0 { before } else { before + 1 };
            if short_counts && count == 1 {
                format!("{start}")
            } else {
                format!("{start},{count}")
            }
        };
        let mut text = String::new();
        for (from, to) in hunks {
            let before = &self.ops[..from];
            let span = &self.ops[from..to];
            let old_before = before.iter().filter(|op| op.in_base()).count();
            let new_before = before.iter().filter(|op| op.in_head()).count();
            let old_count = span.iter().filter(|op| op.in_base()).count();
            let new_count = span.iter().filter(|op| op.in_head()).count();
            text.push_str(&format!(
                "@@ -{} +{} @@ fn context()\n",
                range(old_before, old_count),
                range(new_before, new_count)
            ));
            for op in span {
                let mark = match op {
                    Op::Keep(_) => ' ',
                    Op::Delete(_) => '-',
                    Op::Insert(_) => '+',
                };
                text.push(mark);
                text.push_str(op.text());
                text.push('\n');
            }
        }
        text
    }

    /// The parsed diff as one changed file `old_path` → `new_path`.
    fn change_set(&self, old_path: &str, new_path: &str, context: usize, short: bool) -> ChangeSet {
        let status = if old_path == new_path {
            ChangeStatus::Modified
        } else {
            ChangeStatus::Renamed
        };
        let file = patch::file_change(
            Some(old_path.to_owned()),
            Some(new_path.to_owned()),
            status,
            Some(&self.unified_diff(context, short)),
        )
        .expect("a well-formed diff parses");
        ChangeSet {
            files: vec![file],
            ..ChangeSet::default()
        }
    }
}

/// Short lines from a small alphabet, so that files repeat lines (as real code does).
fn line() -> impl Strategy<Value = String> {
    "[ab(){} ]{0,4}"
}

fn lines(max: usize) -> impl Strategy<Value = Vec<String>> {
    prop::collection::vec(line(), 0..max)
}

/// A base file of up to 40 lines and a random edit of it.
fn edit() -> impl Strategy<Value = Edit> {
    lines(40)
        .prop_flat_map(|base| {
            let n = base.len();
            let line_edit = (
                prop::collection::vec(line(), 0..3),
                prop::bool::weighted(0.75),
            )
                .prop_map(|(insert_before, keep)| LineEdit {
                    insert_before,
                    keep,
                });
            (
                Just(base),
                prop::collection::vec(line_edit, n),
                prop::collection::vec(line(), 0..3),
            )
        })
        .prop_map(|(base, edits, tail)| Edit::new(base, edits, tail))
}

// ---- identity helpers ----

const RULE: &str = "python.lang.security.audit.eval-detected";

fn sast(tool: &str, path: &str, line: u32) -> Finding {
    let mut finding = Finding::new(Kind::Sast, tool, RULE);
    finding.message = "Detected the use of eval()".to_owned();
    finding.location = Some(Location::new(path).with_lines(line, line));
    finding
}

fn sources(path: &str, lines: &[&str]) -> Sources {
    let mut sources = Sources::default();
    let mut text = lines.join("\n");
    text.push('\n');
    sources.insert(path, text);
    sources
}

/// The id the engine gives `finding` as the only finding at head (a new finding).
fn head_id(finding: &Finding, diff: &DiffIndex<'_>, head_sources: &Sources) -> FindingId {
    let matches = correlate(
        &[],
        std::slice::from_ref(finding),
        diff,
        &Sources::default(),
        head_sources,
    );
    assert_eq!(matches.len(), 1);
    assert_eq!(matches[0].status, Status::New);
    matches[0].id.clone()
}

/// The id the engine gives `finding` as the only finding at base (a fixed finding).
fn base_id(finding: &Finding, diff: &DiffIndex<'_>, base_sources: &Sources) -> FindingId {
    let matches = correlate(
        std::slice::from_ref(finding),
        &[],
        diff,
        base_sources,
        &Sources::default(),
    );
    assert_eq!(matches.len(), 1);
    assert_eq!(matches[0].status, Status::Fixed);
    matches[0].id.clone()
}

fn statuses(matches: &[Match]) -> Vec<Status> {
    let mut statuses: Vec<Status> = matches.iter().map(|m| m.status).collect();
    statuses.sort_by_key(|s| format!("{s:?}"));
    statuses
}

/// Flagged code: a call with an argument, never blank once whitespace is removed.
fn flagged() -> impl Strategy<Value = String> {
    "[a-z_]{1,8}\\([a-z_]{0,8}\\)"
}

/// Lines unrelated to the finding (anything, really: only the flagged line is hashed).
fn unrelated() -> impl Strategy<Value = String> {
    "[a-z =#]{0,12}"
}

/// A file with a flagged line, and lines to insert above it.
#[derive(Debug, Clone)]
struct Shift {
    above: Vec<String>,
    flagged: String,
    below: Vec<String>,
    /// (insert before base line `index` of `above`, or at its end when `index == above.len()`).
    inserts: Vec<(prop::sample::Index, String)>,
    context: usize,
    short: bool,
}

fn shift() -> impl Strategy<Value = Shift> {
    (
        prop::collection::vec(unrelated(), 0..12),
        flagged(),
        prop::collection::vec(unrelated(), 0..6),
        prop::collection::vec((any::<prop::sample::Index>(), unrelated()), 1..6),
        0usize..4,
        any::<bool>(),
    )
        .prop_map(|(above, flagged, below, inserts, context, short)| Shift {
            above,
            flagged,
            below,
            inserts,
            context,
            short,
        })
}

impl Shift {
    fn base_lines(&self) -> Vec<String> {
        let mut lines = self.above.clone();
        lines.push(self.flagged.clone());
        lines.extend(self.below.iter().cloned());
        lines
    }

    /// The edit: the inserts go before some line of `above` or right before the flagged line.
    fn edit(&self, flagged_at_head: Option<String>) -> Edit {
        let base = self.base_lines();
        let mut edits: Vec<LineEdit> = base
            .iter()
            .map(|_| LineEdit {
                insert_before: Vec::new(),
                keep: true,
            })
            .collect();
        for (index, text) in &self.inserts {
            let at = index.index(self.above.len() + 1); // never after the flagged line
            edits[at].insert_before.push(text.clone());
        }
        if let Some(text) = flagged_at_head {
            let at = self.above.len();
            edits[at].keep = false;
            if at + 1 < edits.len() {
                edits[at + 1].insert_before.insert(0, text);
                return Edit::new(base, edits, Vec::new());
            }
            return Edit::new(base, edits, vec![text]);
        }
        Edit::new(base, edits, Vec::new())
    }

    /// The file left as it is.
    fn unchanged(&self) -> Edit {
        let base = self.base_lines();
        let edits = base
            .iter()
            .map(|_| LineEdit {
                insert_before: Vec::new(),
                keep: true,
            })
            .collect();
        Edit::new(base, edits, Vec::new())
    }

    fn base_line(&self) -> u32 {
        u32::try_from(self.above.len() + 1).unwrap()
    }

    fn head_line(&self) -> u32 {
        self.base_line() + u32::try_from(self.inserts.len()).unwrap()
    }
}

/// Advisory ids of the kinds the scanners name the same vulnerability by.
fn advisory_id() -> impl Strategy<Value = String> {
    prop_oneof![
        (2015u32..2026, 1000u32..99_999).prop_map(|(y, n)| format!("CVE-{y}-{n}")),
        "[2-9a-z]{4}-[2-9a-z]{4}-[2-9a-z]{4}".prop_map(|s| format!("GHSA-{s}")),
        (2015u32..2026, 1u32..999).prop_map(|(y, n)| format!("PYSEC-{y}-{n}")),
        "[A-Z0-9]{6}".prop_map(|s| format!("OSV-{s}")),
    ]
}

/// Distinct ids naming one vulnerability.
fn alias_set() -> impl Strategy<Value = Vec<String>> {
    prop::collection::btree_set(advisory_id(), 1..6).prop_map(|set| set.into_iter().collect())
}

/// A dependency finding that carries all of `ids`: the first is its rule, and the advisories
/// are `ids` cut into `chunks` pieces, each piece's first id the advisory's id.
fn dependency(tool: &str, kind: Kind, package: &str, ids: &[String], chunks: usize) -> Finding {
    let mut finding = Finding::new(kind, tool, ids[0].clone());
    finding.package = Some(Box::new(Package {
        ecosystem: Ecosystem::PyPI,
        name: package.to_owned(),
        version: Some("1.0.0".to_owned()),
        manifest: None,
    }));
    let size = ids.len().div_ceil(chunks.max(1));
    finding.advisories = ids
        .chunks(size)
        .map(|piece| Advisory {
            id: piece[0].clone(),
            aliases: piece[1..].to_vec(),
            ..Advisory::default()
        })
        .collect();
    finding
}

fn no_change() -> ChangeSet {
    ChangeSet::default()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    // ---- diff line mapping ----

    /// Kept lines map to the same text at head, in order and within the head file; deleted
    /// lines map to nothing; the added lines are exactly the inserted ones.
    #[test]
    fn base_lines_map_through_a_forge_diff_as_the_edit_moved_them(
        edit in edit(),
        context in 0usize..5,
        short in any::<bool>(),
        renamed in any::<bool>(),
    ) {
        let new_path = if renamed { "lib/renamed.py" } else { "src/file.py" };
        let changes = edit.change_set("src/file.py", new_path, context, short);
        let index = DiffIndex::new(&changes);
        let head = edit.head();
        let head_len = u32::try_from(head.len()).unwrap();
        let expected = edit.expected_mapping();

        let mut previous: Option<u32> = None;
        for (i, (base_text, want)) in edit.base.iter().zip(&expected).enumerate() {
            let line = u32::try_from(i + 1).unwrap();
            let got = index.map_line("src/file.py", line);
            prop_assert_eq!(
                got,
                *want,
                "base line {} of\n{}",
                line,
                edit.unified_diff(context, short)
            );
            if let Some(at) = got {
                prop_assert!(
                    (1..=head_len).contains(&at),
                    "line {} maps to {} of {}",
                    line,
                    at,
                    head_len
                );
                prop_assert_eq!(head[(at - 1) as usize], base_text.as_str());
                if let Some(before) = previous {
                    prop_assert!(before < at, "not monotonic: {} then {}", before, at);
                }
                previous = Some(at);
                prop_assert!(!index.touches_base("src/file.py", line, line));
            } else {
                prop_assert!(index.touches_base("src/file.py", line, line));
            }
        }

        let inserted = edit.inserted_head_lines();
        prop_assert_eq!(&changes.files[0].added_lines, &inserted);
        for at in 1..=head_len {
            prop_assert_eq!(
                index.touches(new_path, at, at),
                inserted.contains(&at),
                "head line {}",
                at
            );
        }
        prop_assert_eq!(index.head_path("src/file.py"), Some(new_path));
    }

    /// A file the diff does not name maps every line to itself.
    #[test]
    fn untouched_files_map_lines_to_themselves(edit in edit(), line in 1u32..10_000) {
        let changes = edit.change_set("src/file.py", "src/file.py", 3, false);
        let index = DiffIndex::new(&changes);
        prop_assert_eq!(index.map_line("src/other.py", line), Some(line));
        prop_assert!(!index.touches("src/other.py", 1, u32::MAX));
    }

    // ---- identity of code findings ----

    /// Lines inserted above a finding move it, but its id stays, and the engine pairs the
    /// two sides as one existing finding.
    #[test]
    fn code_identity_survives_lines_inserted_above(shift in shift()) {
        let edit = shift.edit(None);
        let base_text = edit.base.iter().map(String::as_str).collect::<Vec<_>>();
        let head_text = edit.head();
        prop_assert_eq!(head_text[(shift.head_line() - 1) as usize], shift.flagged.as_str());

        let changes = edit.change_set("app/views.py", "app/views.py", shift.context, shift.short);
        let diff = DiffIndex::new(&changes);
        let base_sources = sources("app/views.py", &base_text);
        let head_sources = sources("app/views.py", &head_text);
        let base = sast("semgrep", "app/views.py", shift.base_line());
        let head = sast("semgrep", "app/views.py", shift.head_line());

        let id = base_id(&base, &diff, &base_sources);
        prop_assert_eq!(head_id(&head, &diff, &head_sources), id.clone());
        let matches = correlate(&[base], &[head], &diff, &base_sources, &head_sources);
        prop_assert_eq!(matches.len(), 1);
        prop_assert_eq!(matches[0].status, Status::Existing);
        prop_assert_eq!(&matches[0].id, &id);
    }

    /// Renaming the file (with or without lines inserted above) keeps the identity: the base
    /// finding is identified by its path at head.
    #[test]
    fn code_identity_survives_a_rename(shift in shift(), also_shift in any::<bool>()) {
        let edit = if also_shift {
            shift.edit(None)
        } else {
            shift.unchanged()
        };
        let head_line = if also_shift { shift.head_line() } else { shift.base_line() };
        let base_text = edit.base.iter().map(String::as_str).collect::<Vec<_>>();
        let head_text = edit.head();
        let changes =
            edit.change_set("app/old_name.py", "lib/new_name.py", shift.context, shift.short);
        let diff = DiffIndex::new(&changes);
        let base_sources = sources("app/old_name.py", &base_text);
        let head_sources = sources("lib/new_name.py", &head_text);
        let base = sast("semgrep", "app/old_name.py", shift.base_line());
        let head = sast("semgrep", "lib/new_name.py", head_line);

        let id = base_id(&base, &diff, &base_sources);
        prop_assert_eq!(head_id(&head, &diff, &head_sources), id.clone());
        let matches = correlate(
            std::slice::from_ref(&base),
            &[head],
            &diff,
            &base_sources,
            &head_sources,
        );
        prop_assert_eq!(matches.len(), 1);
        prop_assert_eq!(matches[0].status, Status::Existing);
        prop_assert_eq!(&matches[0].id, &id);

        // Without the rename in the diff, the same file under another name is another finding.
        let unrelated = no_change();
        let unrelated = DiffIndex::new(&unrelated);
        prop_assert_ne!(base_id(&base, &unrelated, &base_sources), id);
    }

    /// Changing the flagged text (beyond whitespace) changes the identity: the old finding is
    /// fixed and the new one new, unless the new text is a rewrite of the old (then it is one
    /// finding, changed). Re-indenting it does not.
    #[test]
    fn code_identity_follows_the_flagged_text(
        shift in shift(),
        replacement in flagged(),
        indent in "[ \t]{1,8}",
    ) {
        let strip = |s: &str| s.chars().filter(|c| !c.is_whitespace()).collect::<String>();
        prop_assume!(strip(&replacement) != strip(&shift.flagged));

        for (new_text, same) in [
            (replacement.clone(), false),
            (format!("{indent}{}", shift.flagged.replace('(', " ( ")), true),
        ] {
            let edit = shift.edit(Some(new_text.clone()));
            let base_text = edit.base.iter().map(String::as_str).collect::<Vec<_>>();
            let head_text = edit.head();
            prop_assert_eq!(head_text[(shift.head_line() - 1) as usize], new_text.as_str());
            let changes =
                edit.change_set("app/views.py", "app/views.py", shift.context, shift.short);
            let diff = DiffIndex::new(&changes);
            prop_assert_eq!(diff.map_line("app/views.py", shift.base_line()), None);
            let base_sources = sources("app/views.py", &base_text);
            let head_sources = sources("app/views.py", &head_text);
            let base = sast("semgrep", "app/views.py", shift.base_line());
            let head = sast("semgrep", "app/views.py", shift.head_line());

            // The key itself, from the text the engine reads.
            let base_content = normalized_content(&base, &base_sources).map(|c| c.text);
            let head_content = normalized_content(&head, &head_sources).map(|c| c.text);
            let expected = strip(&shift.flagged);
            prop_assert_eq!(base_content.as_deref(), Some(expected.as_str()));
            prop_assert_eq!(
                code_key(&base, Some("app/views.py"), base_content.as_deref())
                    == code_key(&head, Some("app/views.py"), head_content.as_deref()),
                same
            );
            // A different text at the rewritten line is the same finding changed only when
            // it is a rewrite of the old one (no word replaced, similar enough).
            let rewritten =
                rewrite_score(&Tokens::of(&shift.flagged), &Tokens::of(&new_text)).is_some();

            let id = base_id(&base, &diff, &base_sources);
            prop_assert_eq!(head_id(&head, &diff, &head_sources) == id, same, "{:?}", new_text);
            let matches = correlate(&[base], &[head], &diff, &base_sources, &head_sources);
            if same || rewritten {
                prop_assert_eq!(statuses(&matches), vec![Status::Existing]);
                prop_assert_eq!(&matches[0].id, &id);
                prop_assert_eq!(matches[0].changed, !same);
            } else {
                prop_assert_eq!(statuses(&matches), vec![Status::Fixed, Status::New]);
            }
        }
    }

    // ---- identity of dependency findings ----

    /// The same vulnerability of the same package is one identity whichever alias is the rule,
    /// however the aliases are spread over advisories and in whatever order (or case), and
    /// whichever tool reported it.
    #[test]
    fn dependency_identity_ignores_alias_order_and_tool(
        (ids, mut shuffled) in alias_set()
            .prop_flat_map(|ids| (Just(ids.clone()), Just(ids).prop_shuffle())),
        chunks_a in 1usize..4,
        chunks_b in 1usize..4,
        lowercase in any::<prop::sample::Index>(),
        kind in prop::sample::select(vec![Kind::Sca, Kind::Container]),
    ) {
        // The other report names the ids in another order, one of them lower-cased.
        let lower = lowercase.index(shuffled.len());
        shuffled[lower] = shuffled[lower].to_ascii_lowercase();

        let a = dependency("osv-scanner", kind, "jinja2", &ids, chunks_a);
        let b = dependency("grype", kind, "jinja2", &shuffled, chunks_b);

        // Each finding alone, and both together, name one canonical vulnerability.
        let alone_a = AliasIndex::from_findings([&a]);
        let alone_b = AliasIndex::from_findings([&b]);
        let together = AliasIndex::from_findings([&a, &b]);
        let reversed = AliasIndex::from_findings([&b, &a]);
        let key = dependency_key(&a, &alone_a);
        prop_assert_eq!(dependency_key(&b, &alone_b), key);
        prop_assert_eq!(dependency_key(&a, &together), key);
        prop_assert_eq!(dependency_key(&b, &together), key);
        prop_assert_eq!(dependency_key(&b, &reversed), key);
        for id in &ids {
            prop_assert_eq!(together.canonical(id), together.canonical(&ids[0]));
        }

        let empty = no_change();
        let diff = DiffIndex::new(&empty);
        let id = base_id(&a, &diff, &Sources::default());
        prop_assert_eq!(head_id(&b, &diff, &Sources::default()), id.clone());
        let matches = correlate(&[a], &[b], &diff, &Sources::default(), &Sources::default());
        prop_assert_eq!(statuses(&matches), vec![Status::Existing]);
        prop_assert_eq!(&matches[0].id, &id);
    }

    /// Another package, or another vulnerability, is another identity.
    #[test]
    fn dependency_identity_names_package_and_vulnerability(
        ids in alias_set(),
        other_ids in alias_set(),
        chunks in 1usize..4,
    ) {
        prop_assume!(ids.iter().all(|id| !other_ids.contains(id)));
        let a = dependency("osv-scanner", Kind::Sca, "jinja2", &ids, chunks);
        let other_package = dependency("osv-scanner", Kind::Sca, "werkzeug", &ids, chunks);
        let other_vulnerability =
            dependency("osv-scanner", Kind::Sca, "jinja2", &other_ids, chunks);
        let index = AliasIndex::from_findings([&a, &other_package, &other_vulnerability]);
        let key = dependency_key(&a, &index);
        prop_assert_ne!(dependency_key(&other_package, &index), key);
        prop_assert_ne!(dependency_key(&other_vulnerability, &index), key);
    }
}
