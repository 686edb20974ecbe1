//! Questions about the change, answered from its hunks: which head path a base path became,
//! where a base line moved to, and whether a head line was added or modified.

use std::collections::HashMap;

use crate::model::{ChangeSet, ChangeStatus, FileChange};

/// An index over a [`ChangeSet`] for fast per-path lookups.
pub struct DiffIndex<'a> {
    by_new: HashMap<&'a str, &'a FileChange>,
    by_old: HashMap<&'a str, &'a FileChange>,
}

impl<'a> DiffIndex<'a> {
    pub fn new(changes: &'a ChangeSet) -> Self {
        let mut by_new = HashMap::new();
        let mut by_old = HashMap::new();
        for file in &changes.files {
            if let Some(p) = &file.new_path {
                by_new.insert(p.as_str(), file);
            }
            if let Some(p) = &file.old_path {
                by_old.insert(p.as_str(), file);
            }
        }
        DiffIndex { by_new, by_old }
    }

    /// The change to the file at `head_path`, if it changed.
    pub fn file_at_head(&self, head_path: &str) -> Option<&'a FileChange> {
        self.by_new.get(head_path).copied()
    }

    /// The path a base file has at head: itself when untouched, its new name when renamed,
    /// `None` when deleted.
    pub fn head_path<'p>(&self, base_path: &'p str) -> Option<&'p str>
    where
        'a: 'p,
    {
        match self.by_old.get(base_path) {
            None => Some(base_path),
            Some(file) if file.status == ChangeStatus::Deleted => None,
            Some(file) => file.new_path.as_deref(),
        }
    }

    /// Where base line `line` of `base_path` sits at head; `None` when this change deleted
    /// or modified it (or deleted the file).
    pub fn map_line(&self, base_path: &str, line: u32) -> Option<u32> {
        match self.by_old.get(base_path) {
            None => Some(line),
            Some(file) if file.status == ChangeStatus::Deleted => None,
            Some(file) => map_through_hunks(file, line),
        }
    }

    /// The head lines that took the place of base line `line` of `base_path` when this change
    /// deleted or modified it: the hunk's new lines, and the one at the same offset into the
    /// hunk (the last when the hunk shrank). `None` when the line is untouched (see
    /// [`DiffIndex::map_line`]), the hunk only deleted, or the file is gone.
    pub fn replacement(&self, base_path: &str, line: u32) -> Option<Replacement> {
        let file = self.by_old.get(base_path)?;
        if file.status == ChangeStatus::Deleted {
            return None;
        }
        let hunk = file
            .hunks
            .iter()
            .find(|h| h.old_lines > 0 && h.old_start <= line && line - h.old_start < h.old_lines)?;
        if hunk.new_lines == 0 {
            return None;
        }
        let last = hunk.new_start + (hunk.new_lines - 1);
        Some(Replacement {
            first: hunk.new_start,
            last,
            aligned: (hunk.new_start + (line - hunk.old_start)).min(last),
        })
    }

    /// Whether this change added or modified any head line in `start..=end` of `head_path`.
    /// A file the change added counts as touched throughout.
    pub fn touches(&self, head_path: &str, start: u32, end: u32) -> bool {
        let Some(file) = self.file_at_head(head_path) else {
            return false;
        };
        if file.status == ChangeStatus::Added {
            return true;
        }
        let from = file.added_lines.partition_point(|&l| l < start);
        file.added_lines.get(from).is_some_and(|&l| l <= end)
    }

    /// Whether the change added the file at `head_path` (or copied it into place).
    pub fn is_new_file(&self, head_path: &str) -> bool {
        self.file_at_head(head_path)
            .is_some_and(|f| matches!(f.status, ChangeStatus::Added | ChangeStatus::Copied))
    }

    /// Whether this change deleted or modified base lines `start..=end` of `base_path`. Looks
    /// at the hunks, never at each line of the range: a report may claim lines up to
    /// `u32::MAX`.
    pub fn touches_base(&self, base_path: &str, start: u32, end: u32) -> bool {
        match self.by_old.get(base_path) {
            None => false,
            Some(file) if file.status == ChangeStatus::Deleted => true,
            Some(file) => file.hunks.iter().any(|hunk| {
                hunk.old_lines > 0
                    && hunk.old_start <= end
                    && hunk.old_start.saturating_add(hunk.old_lines) > start
            }),
        }
    }
}

/// The head lines a deleted or modified base line was replaced with (see
/// [`DiffIndex::replacement`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Replacement {
    pub first: u32,
    pub last: u32,
    /// The head line at the base line's offset into the hunk.
    pub aligned: u32,
}

fn map_through_hunks(file: &FileChange, line: u32) -> Option<u32> {
    let mut offset: i64 = 0;
    for hunk in &file.hunks {
        if hunk.old_lines == 0 {
            // A pure insertion after `old_start`: lines after it shift down.
            if line <= hunk.old_start {
                break;
            }
        } else {
            if line < hunk.old_start {
                break;
            }
            if line < hunk.old_start + hunk.old_lines {
                return None;
            }
        }
        offset += i64::from(hunk.new_lines) - i64::from(hunk.old_lines);
    }
    u32::try_from(i64::from(line) + offset).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Hunk;

    fn change(status: ChangeStatus, old: &str, new: &str, hunks: Vec<Hunk>) -> FileChange {
        let added_lines = hunks
            .iter()
            .flat_map(|h| h.new_start..h.new_start + h.new_lines)
            .collect();
        FileChange {
            old_path: Some(old.into()),
            new_path: Some(new.into()),
            status,
            hunks,
            added_lines,
            binary: false,
        }
    }

    fn hunk(old_start: u32, old_lines: u32, new_start: u32, new_lines: u32) -> Hunk {
        Hunk {
            old_start,
            old_lines,
            new_start,
            new_lines,
        }
    }

    #[test]
    fn maps_lines_through_insertions_deletions_and_modifications() {
        // 40 lines inserted at the top, line 50 modified, lines 60-61 deleted.
        let changes = ChangeSet {
            files: vec![change(
                ChangeStatus::Modified,
                "a.py",
                "a.py",
                vec![hunk(0, 0, 1, 40), hunk(50, 1, 90, 1), hunk(60, 2, 99, 0)],
            )],
            ..ChangeSet::default()
        };
        let index = DiffIndex::new(&changes);
        assert_eq!(index.map_line("a.py", 1), Some(41));
        assert_eq!(index.map_line("a.py", 49), Some(89));
        assert_eq!(index.map_line("a.py", 50), None);
        assert_eq!(index.map_line("a.py", 59), Some(99));
        assert_eq!(index.map_line("a.py", 60), None);
        assert_eq!(index.map_line("a.py", 62), Some(100));
        assert_eq!(index.map_line("other.py", 7), Some(7));
        assert!(index.touches("a.py", 30, 45));
        assert!(index.touches("a.py", 90, 90));
        assert!(!index.touches("a.py", 41, 89));
        // Line 50 was rewritten as line 90; lines 60-61 were deleted outright.
        let at_50 = Some(Replacement {
            first: 90,
            last: 90,
            aligned: 90,
        });
        assert_eq!(index.replacement("a.py", 50), at_50);
        assert_eq!(index.replacement("a.py", 60), None);
        assert_eq!(index.replacement("a.py", 49), None);
        assert_eq!(index.replacement("other.py", 50), None);
        assert!(index.touches_base("a.py", 49, 50));
        assert!(!index.touches_base("a.py", 51, 59));
        // A claimed range to the end of numbers is answered from the hunks, at once.
        assert!(index.touches_base("a.py", 61, u32::MAX));
        assert!(!index.touches_base("a.py", 62, u32::MAX));
        assert!(!index.touches_base("other.py", 1, u32::MAX));
        // Each answer agrees with mapping every line (over a range small enough to walk).
        for start in 1..70 {
            for end in start..70 {
                let walked = (start..=end).any(|line| index.map_line("a.py", line).is_none());
                assert_eq!(
                    index.touches_base("a.py", start, end),
                    walked,
                    "{start}..={end}"
                );
            }
        }
        // A hunk that grew (line 10-11 became 20-24) and one that shrank (30-34 became 40).
        let resized = ChangeSet {
            files: vec![change(
                ChangeStatus::Modified,
                "b.py",
                "b.py",
                vec![hunk(10, 2, 20, 5), hunk(30, 5, 40, 1)],
            )],
            ..ChangeSet::default()
        };
        let index = DiffIndex::new(&resized);
        let grown = |aligned| {
            Some(Replacement {
                first: 20,
                last: 24,
                aligned,
            })
        };
        assert_eq!(index.replacement("b.py", 10), grown(20));
        assert_eq!(index.replacement("b.py", 11), grown(21));
        assert_eq!(index.replacement("b.py", 12), None);
        let shrunk = Some(Replacement {
            first: 40,
            last: 40,
            aligned: 40,
        });
        assert_eq!(index.replacement("b.py", 34), shrunk);
    }

    #[test]
    fn follows_renames_and_deletions() {
        let mut deleted = change(ChangeStatus::Deleted, "gone.py", "gone.py", vec![]);
        deleted.new_path = None;
        let changes = ChangeSet {
            files: vec![
                change(
                    ChangeStatus::Renamed,
                    "old/x.py",
                    "new/x.py",
                    vec![hunk(3, 0, 4, 1)],
                ),
                deleted,
            ],
            ..ChangeSet::default()
        };
        let index = DiffIndex::new(&changes);
        assert_eq!(index.head_path("old/x.py"), Some("new/x.py"));
        assert_eq!(index.head_path("gone.py"), None);
        assert_eq!(index.head_path("same.py"), Some("same.py"));
        assert_eq!(index.map_line("old/x.py", 3), Some(3));
        assert_eq!(index.map_line("old/x.py", 4), Some(5));
        assert_eq!(index.map_line("gone.py", 1), None);
        assert!(index.touches("new/x.py", 4, 4));
        assert!(!index.touches("new/x.py", 5, 9));
    }
}
