//! The forges hand out per-file unified diffs (GitHub's `patch`, GitLab's `diff`), with
//! context lines and without file headers. This module turns one into what
//! [`crate::git::LocalRepo`] computes locally: zero-context hunks and the head lines added.

use crate::model::{ChangeStatus, FileChange, Hunk};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: malformed diff at line {line}: {message}")]
pub struct PatchError {
    pub path: String,
    pub line: usize,
    pub message: String,
}

/// One file's change from a forge's fields. `patch` is `None` for binary files and for
/// diffs the forge would not show (too large): the file then has no hunks, and its lines
/// count as untouched.
pub fn file_change(
    old_path: Option<String>,
    new_path: Option<String>,
    status: ChangeStatus,
    patch: Option<&str>,
) -> Result<FileChange, PatchError> {
    let path = new_path
        .clone()
        .or_else(|| old_path.clone())
        .unwrap_or_default();
    let (hunks, added_lines) = match patch {
        Some(patch) => parse(&path, patch)?,
        None => (Vec::new(), Vec::new()),
    };
    Ok(FileChange {
        old_path,
        new_path,
        status,
        hunks,
        added_lines,
        binary: patch.is_none() && status != ChangeStatus::Renamed,
    })
}

/// Zero-context hunks and the added head lines of a unified diff body.
pub fn parse(path: &str, patch: &str) -> Result<(Vec<Hunk>, Vec<u32>), PatchError> {
    let error = |line: usize, message: &str| PatchError {
        path: path.to_owned(),
        line,
        message: message.to_owned(),
    };
    let mut hunks = Vec::new();
    let mut added = Vec::new();
    // The next old and new line numbers, and the run of changed lines being collected.
    let (mut old, mut new) = (0u32, 0u32);
    let mut in_hunk = false;
    let mut run: Option<Hunk> = None;
    // A header may name a line near `u32::MAX`; stepping past the last one is refused.
    let next = |line: u32, index: usize| {
        line.checked_add(1)
            .ok_or_else(|| error(index + 1, "line number out of range"))
    };
    for (index, line) in patch.lines().enumerate() {
        if let Some(header) = line.strip_prefix("@@ ") {
            close(&mut run, &mut hunks);
            (old, new) = header_starts(header).ok_or_else(|| error(index + 1, "bad @@ header"))?;
            in_hunk = true;
            continue;
        }
        if !in_hunk {
            // Tolerate the `diff --git`, `---` and `+++` headers some APIs include.
            continue;
        }
        let start = Hunk {
            old_start: old,
            old_lines: 0,
            new_start: new,
            new_lines: 0,
        };
        match line.as_bytes().first() {
            Some(b'+') => {
                run.get_or_insert(start).new_lines += 1;
                added.push(new);
                new = next(new, index)?;
            }
            Some(b'-') => {
                run.get_or_insert(start).old_lines += 1;
                old = next(old, index)?;
            }
            Some(b'\\') => {} // "\ No newline at end of file"
            Some(b' ') | None => {
                close(&mut run, &mut hunks);
                old = next(old, index)?;
                new = next(new, index)?;
            }
            Some(_) => {
                return Err(error(
                    index + 1,
                    "a diff line must start with ' ', '+' or '-'",
                ));
            }
        }
    }
    close(&mut run, &mut hunks);
    Ok((hunks, added))
}

/// Ends a run of changed lines. Git's convention: an empty side starts at the line before
/// (0 for an added or deleted file, whose `@@ -0,0` / `+0,0` header already says so).
fn close(run: &mut Option<Hunk>, hunks: &mut Vec<Hunk>) {
    if let Some(mut hunk) = run.take() {
        if hunk.old_lines == 0 {
            hunk.old_start = hunk.old_start.saturating_sub(1);
        }
        if hunk.new_lines == 0 {
            hunk.new_start = hunk.new_start.saturating_sub(1);
        }
        hunks.push(hunk);
    }
}

/// `-12,3 +14,5 @@ fn x` → (12, 14), the first line of each side. An empty side (`-0,0` of
/// an added file, `+0,0` of a deleted one) names the line before it: its next line is one on.
fn header_starts(header: &str) -> Option<(u32, u32)> {
    let mut parts = header.split_whitespace();
    let old = parts.next()?.strip_prefix('-')?;
    let new = parts.next()?.strip_prefix('+')?;
    let start = |range: &str| {
        let mut fields = range.split(',');
        let start = fields.next()?.parse::<u32>().ok()?;
        let empty = fields.next() == Some("0");
        start.checked_add(u32::from(empty))
    };
    Some((start(old)?, start(new)?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::git::testing::{ALICE, TestRepo};
    use crate::git::{LocalRepo, SourceRepo};

    #[test]
    fn context_is_dropped_and_runs_become_hunks() {
        let patch =
            "@@ -1,6 +1,7 @@\n a\n-b\n+B\n+B2\n c\n d\n e\n+f\n@@ -20,2 +21,1 @@ fn x\n x\n-y\n";
        let (hunks, added) = parse("f", patch).unwrap();
        assert_eq!(added, [2, 3, 7]);
        assert_eq!(
            hunks,
            [
                Hunk {
                    old_start: 2,
                    old_lines: 1,
                    new_start: 2,
                    new_lines: 2
                },
                Hunk {
                    old_start: 5,
                    old_lines: 0,
                    new_start: 7,
                    new_lines: 1
                },
                Hunk {
                    old_start: 21,
                    old_lines: 1,
                    new_start: 21,
                    new_lines: 0
                },
            ]
        );
    }

    #[test]
    fn added_and_deleted_files_start_at_line_zero() {
        let (hunks, added) = parse("new.py", "@@ -0,0 +1,2 @@\n+a\n+b\n").unwrap();
        assert_eq!(added, [1, 2]);
        let expected = Hunk {
            old_start: 0,
            old_lines: 0,
            new_start: 1,
            new_lines: 2,
        };
        assert_eq!(hunks, [expected]);
        let (hunks, added) = parse("old.py", "@@ -1,2 +0,0 @@\n-a\n-b\n").unwrap();
        assert!(added.is_empty());
        let expected = Hunk {
            old_start: 1,
            old_lines: 2,
            new_start: 0,
            new_lines: 0,
        };
        assert_eq!(hunks, [expected]);
    }

    #[test]
    fn garbage_is_an_error_naming_the_file_and_line() {
        let error = parse("src/a.rs", "@@ -1 +1 @@\n a\n?what\n").unwrap_err();
        assert_eq!(
            error.to_string(),
            "src/a.rs: malformed diff at line 3: a diff line must start with ' ', '+' or '-'"
        );
        assert!(parse("a", "@@ nonsense @@\n").is_err());
    }

    /// The forge's patch, parsed, agrees with libgit2's zero-context diff of the same change.
    #[test]
    fn agrees_with_local_git_on_a_real_diff() {
        let repo = TestRepo::new();
        let before: String = (1..=40).map(|n| format!("line {n}\n")).collect();
        repo.write("f.txt", &before);
        let base = repo.commit("base", ALICE);
        let after = before
            .replace("line 3\n", "line three\nline 3b\n")
            .replace("line 20\n", "")
            .replace("line 39\n", "line 39\nline 39b\n");
        repo.write("f.txt", &after);
        let head = repo.commit("head", ALICE);
        let output = std::process::Command::new("git")
            .args(["diff", "-U3", &base, &head, "--", "f.txt"])
            .current_dir(repo.path())
            .output()
            .unwrap();
        let text = String::from_utf8(output.stdout).unwrap();
        let (hunks, added) = parse("f.txt", &text).unwrap();
        let local = LocalRepo::open(repo.path()).unwrap();
        let expected = local.changes(&base, &head).unwrap();
        assert_eq!(hunks, expected.files[0].hunks);
        assert_eq!(added, expected.files[0].added_lines);
    }

    /// Whole-file patches (`@@ -0,0 +1,2 @@`, `@@ -1,2 +0,0 @@`), as the forges send for added
    /// and deleted files, agree with libgit2 too.
    #[test]
    fn added_and_deleted_files_agree_with_local_git() {
        let repo = TestRepo::new();
        repo.write("gone.txt", "a\nb\n");
        let base = repo.commit("base", ALICE);
        std::fs::remove_file(repo.path().join("gone.txt")).unwrap();
        repo.write("new.txt", "x\ny\nz\n");
        let head = repo.commit("head", ALICE);
        let local = LocalRepo::open(repo.path()).unwrap();
        let expected = local.changes(&base, &head).unwrap();
        for file in &expected.files {
            let path = file
                .new_path
                .as_deref()
                .or(file.old_path.as_deref())
                .unwrap();
            let output = std::process::Command::new("git")
                .args(["diff", "-U3", &base, &head, "--", path])
                .current_dir(repo.path())
                .output()
                .unwrap();
            let text = String::from_utf8(output.stdout).unwrap();
            let (hunks, added) = parse(path, &text).unwrap();
            assert_eq!(hunks, file.hunks, "{path}");
            assert_eq!(added, file.added_lines, "{path}");
        }
        assert_eq!(expected.files.len(), 2);
    }
}
