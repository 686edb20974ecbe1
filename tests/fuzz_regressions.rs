//! Inputs the fuzzers (fuzz/, see fuzz/run.sh) crashed on, replayed through the same public
//! functions as their fuzz target: each must come back as `Ok` or as an error naming the
//! input, never a panic. The inputs live in `fixtures/fuzz/<target>-<n>` (copies of
//! `fuzz/regressions/`), byte for byte as the fuzz target received them: for `diff`, the
//! first byte picks the change status and the rest is the patch text.

use std::path::{Path, PathBuf};

use posture::analyze::diff::DiffIndex;
use posture::forge::patch;
use posture::model::{ChangeSet, ChangeStatus};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/fuzz")
}

fn input(name: &str) -> Vec<u8> {
    let path = fixtures().join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// What the `diff` fuzz target does with `bytes`, with its outcome checked: the parser
/// either reads the patch or names the file and line it stopped at, and the line mapping
/// over what it read answers for every line.
fn replay_diff(bytes: &[u8]) {
    let (&selector, rest) = bytes
        .split_first()
        .expect("a diff input has a selector byte");
    let status = ChangeStatus::ALL[usize::from(selector) % ChangeStatus::ALL.len()];
    let text = String::from_utf8_lossy(rest);

    match patch::parse("src/fuzz.rs", &text) {
        Ok(_) => {}
        Err(error) => {
            assert_eq!(error.path, "src/fuzz.rs");
            assert!(error.line >= 1, "{error}");
            assert!(
                error
                    .to_string()
                    .starts_with("src/fuzz.rs: malformed diff at line "),
                "{error}"
            );
        }
    }
    let Ok(file) = patch::file_change(
        Some("src/old.rs".to_owned()),
        Some("src/fuzz.rs".to_owned()),
        status,
        Some(&text),
    ) else {
        return;
    };
    let changes = ChangeSet {
        files: vec![file],
        ..ChangeSet::default()
    };
    let index = DiffIndex::new(&changes);
    for line in [0, 1, 2, u32::MAX - 1, u32::MAX] {
        let _ = index.map_line("src/old.rs", line);
        let _ = index.touches("src/fuzz.rs", line, line.saturating_add(3));
        let _ = index.touches_base("src/old.rs", line, line.saturating_add(3));
    }
}

/// Found by the fuzzer: a `+` line after a hunk header whose new start is `u32::MAX`
/// (`@@ -22 +4294967295 …`) overflowed the head line counter (src/forge/patch.rs, `new += 1`).
#[test]
fn diff_1_added_line_past_the_largest_line_number() {
    replay_diff(&input("diff-1"));
}

/// Crafted: `@@ -4294967295,0 +1 @@`, an empty side at `u32::MAX`, overflowed in
/// `header_starts` (src/forge/patch.rs, `start + u32::from(empty)`).
#[test]
fn diff_2_empty_side_at_the_largest_line_number() {
    replay_diff(&input("diff-2"));
}

/// Crafted: `@@ -4294967295 +1 @@` then a context line: the base line counter steps past
/// `u32::MAX` (src/forge/patch.rs, context `old += 1`).
#[test]
fn diff_3_context_line_past_the_largest_line_number() {
    replay_diff(&input("diff-3"));
}

/// Crafted: `@@ -4294967295 +1 @@` then two `-` lines: the base line counter steps past
/// `u32::MAX` (src/forge/patch.rs, `-` line `old += 1`).
#[test]
fn diff_4_deleted_lines_past_the_largest_line_number() {
    replay_diff(&input("diff-4"));
}

/// Found by the fuzzer (fork mode): `@@ -46,17 +4294967295 …` then context lines: the head
/// line counter steps past `u32::MAX` (src/forge/patch.rs, context `new += 1`).
#[test]
fn diff_5_context_line_past_the_largest_head_line() {
    replay_diff(&input("diff-5"));
}

/// Every saved input, including ones added later without a test of their own.
#[test]
fn every_saved_input_replays_without_panicking() {
    let mut names: Vec<String> = std::fs::read_dir(fixtures())
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name != "SOURCES.txt")
        .collect();
    names.sort();
    assert!(!names.is_empty());
    let mut failures = Vec::new();
    for name in &names {
        let bytes = input(name);
        let replay = match name.split_once('-').map(|(target, _)| target) {
            Some("diff") => replay_diff,
            _ => panic!("fixtures/fuzz/{name}: no replay for this target"),
        };
        if std::panic::catch_unwind(|| replay(&bytes)).is_err() {
            failures.push(name.clone());
        }
    }
    assert!(failures.is_empty(), "panicked on {failures:?}");
}
