//! Forge diffs: the unified-diff parser (`forge::patch::parse`, `file_change`) and the line
//! mapping built on its hunks (`analyze::diff::DiffIndex`). The first input byte picks the
//! change status; the rest is the patch text, as GitHub's `patch` / GitLab's `diff` field.

#![no_main]

use libfuzzer_sys::fuzz_target;
use posture::analyze::diff::DiffIndex;
use posture::forge::patch;
use posture::model::{ChangeSet, ChangeStatus};

fuzz_target!(|bytes: &[u8]| {
    let Some((&selector, rest)) = bytes.split_first() else {
        return;
    };
    let status = ChangeStatus::ALL[usize::from(selector) % ChangeStatus::ALL.len()];
    let text = String::from_utf8_lossy(rest);

    let parsed = patch::parse("src/fuzz.rs", &text);
    let change = patch::file_change(
        Some("src/old.rs".to_owned()),
        Some("src/fuzz.rs".to_owned()),
        status,
        Some(&text),
    );
    // Both read the same text: they agree on success and on the hunks.
    match (&parsed, &change) {
        (Ok((hunks, added)), Ok(file)) => {
            assert_eq!(hunks, &file.hunks);
            assert_eq!(added, &file.added_lines);
        }
        (Err(a), Err(b)) => assert_eq!(a.line, b.line),
        _ => panic!("parse and file_change disagree"),
    }
    let Ok(file) = change else {
        return;
    };

    // Probe the mapping around every hunk edge and at the extremes of the line range.
    let mut probes = vec![0, 1, 2, u32::MAX - 1, u32::MAX];
    for hunk in &file.hunks {
        for base in [
            hunk.old_start,
            hunk.old_start.saturating_add(hunk.old_lines),
        ] {
            probes.extend([base.saturating_sub(1), base, base.saturating_add(1)]);
        }
        probes.push(hunk.new_start);
        probes.push(hunk.new_start.saturating_add(hunk.new_lines));
    }
    probes.extend(file.added_lines.iter().take(16));
    probes.truncate(256);

    let changes = ChangeSet {
        files: vec![file],
        ..ChangeSet::default()
    };
    let index = DiffIndex::new(&changes);
    let _ = index.head_path("src/old.rs");
    let _ = index.is_new_file("src/fuzz.rs");
    for &line in &probes {
        let _ = index.map_line("src/old.rs", line);
        let _ = index.touches("src/fuzz.rs", line, line.saturating_add(3));
        // `touches_base` walks the range line by line: keep it short.
        let _ = index.touches_base("src/old.rs", line, line.saturating_add(3));
    }
});
