//! [`SourceRepo`] over a local clone, through libgit2 (`git2`). Only committed history is
//! read, so a dirty working tree does not matter. git2 types stay inside this file.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use chrono::{DateTime, Utc};
use git2::{
    BlameOptions, Commit, Delta, Diff, DiffFile, DiffFindOptions, DiffLineType, DiffOptions,
    ErrorCode, ObjectType, Oid, Patch, Repository, Sort, Tree,
};

use super::{GitError, SourceRepo};
use crate::model::{ChangeSet, ChangeStatus, CommitInfo, FileBlame, FileChange, Hunk};

/// `git diff --find-renames` default similarity, in percent.
const RENAME_THRESHOLD: u16 = 50;
/// git's default `diff.renameLimit`.
const RENAME_LIMIT: usize = 1000;

/// A repository on disk.
pub struct LocalRepo {
    repo: Repository,
    /// A shallow clone's boundary commits (`.git/shallow`): their parents were not fetched,
    /// so blame stops at them. Empty when the clone is complete.
    shallow: HashSet<Oid>,
}

impl LocalRepo {
    /// Opens the repository whose working tree (or `.git` directory) is `path`.
    pub fn open(path: &Path) -> Result<Self, GitError> {
        // libgit2 hashes every object it reads again to check it (git itself does not):
        // 6 % of a large review's time went there. The repository is a clone of the forge's.
        static TRUST_OBJECT_HASHES: std::sync::Once = std::sync::Once::new();
        TRUST_OBJECT_HASHES.call_once(|| git2::opts::strict_hash_verification(false));
        let repo = Repository::open(path).map_err(|error| GitError::NotARepository {
            path: path.to_path_buf(),
            message: error.message().to_owned(),
        })?;
        let shallow = shallow_boundary(&repo)?;
        Ok(Self { repo, shallow })
    }

    fn commit(&self, rev: &str) -> Result<Commit<'_>, GitError> {
        // A shallow checkout often lacks the base branch altogether: say so with the error.
        let hint = if self.shallow.is_empty() {
            ""
        } else {
            " (the clone is shallow: fetch the history, e.g. `fetch-depth: 0` on actions/checkout)"
        };
        let unknown = |error: git2::Error| GitError::UnknownRevision {
            rev: rev.to_owned(),
            message: format!("{}{hint}", error.message()),
        };
        self.repo
            .revparse_single(rev)
            .map_err(unknown)?
            .peel_to_commit()
            .map_err(unknown)
    }

    fn tree(&self, rev: &str) -> Result<Tree<'_>, GitError> {
        self.commit(rev)?
            .tree()
            .map_err(|error| git_error(&format!("reading the tree of '{rev}'"), &error))
    }

    fn diff(&self, base: &str, head: &str) -> Result<Diff<'_>, GitError> {
        let context = || format!("diffing '{base}'..'{head}'");
        let old_tree = self.tree(base)?;
        let new_tree = self.tree(head)?;
        let mut options = DiffOptions::new();
        options.context_lines(0).interhunk_lines(0);
        let mut diff = self
            .repo
            .diff_tree_to_tree(Some(&old_tree), Some(&new_tree), Some(&mut options))
            .map_err(|error| git_error(&context(), &error))?;
        let mut find = DiffFindOptions::new();
        find.renames(true)
            .copies(false)
            .rename_threshold(RENAME_THRESHOLD)
            .rename_limit(RENAME_LIMIT);
        diff.find_similar(Some(&mut find))
            .map_err(|error| git_error(&context(), &error))?;
        Ok(diff)
    }

    /// The blob at `path` in `rev`; `None` when there is none (or it is a directory).
    fn blob_id(&self, rev: &str, path: &str) -> Result<Option<Oid>, GitError> {
        let tree = self.tree(rev)?;
        match tree.get_path(Path::new(path)) {
            Ok(entry) if entry.kind() == Some(ObjectType::Blob) => Ok(Some(entry.id())),
            Ok(_) => Ok(None),
            Err(error) if error.code() == ErrorCode::NotFound => Ok(None),
            Err(error) => Err(git_error(
                &format!("looking up '{path}' at '{rev}'"),
                &error,
            )),
        }
    }

    /// When commit `sha` was committed; a stable time for what describes the commit.
    pub fn commit_time(&self, sha: &str) -> Result<DateTime<Utc>, GitError> {
        let id = Oid::from_str(sha)
            .map_err(|error| git_error(&format!("reading commit {sha}"), &error))?;
        Ok(self.commit_info(id)?.committed)
    }

    fn commit_info(&self, id: Oid) -> Result<CommitInfo, GitError> {
        let sha = id.to_string();
        let commit = self
            .repo
            .find_commit(id)
            .map_err(|error| git_error(&format!("reading commit {sha}"), &error))?;
        let author = commit.author();
        let time = |seconds: i64| {
            DateTime::<Utc>::from_timestamp(seconds, 0).ok_or_else(|| GitError::InvalidCommitTime {
                sha: sha.clone(),
                seconds,
            })
        };
        let date = time(author.when().seconds())?;
        let committed = time(commit.time().seconds())?;
        let message = String::from_utf8_lossy(commit.message_bytes());
        let summary = message.trim_start().lines().next().unwrap_or("").to_owned();
        Ok(CommitInfo {
            author: String::from_utf8_lossy(author.name_bytes()).into_owned(),
            email: String::from_utf8_lossy(author.email_bytes()).into_owned(),
            sha,
            date,
            committed,
            summary,
            shallow_boundary: self.shallow.contains(&id),
        })
    }
}

impl SourceRepo for LocalRepo {
    fn resolve(&self, rev: &str) -> Result<String, GitError> {
        Ok(self.commit(rev)?.id().to_string())
    }

    fn merge_base(&self, a: &str, b: &str) -> Result<String, GitError> {
        let a_id = self.commit(a)?.id();
        let b_id = self.commit(b)?.id();
        match self.repo.merge_base(a_id, b_id) {
            Ok(id) => Ok(id.to_string()),
            Err(error) if error.code() == ErrorCode::NotFound && !self.shallow.is_empty() => {
                Err(GitError::ShallowNoMergeBase {
                    base: a.to_owned(),
                    head: b.to_owned(),
                })
            }
            Err(error) if error.code() == ErrorCode::NotFound => Err(GitError::NoMergeBase {
                base: a.to_owned(),
                head: b.to_owned(),
            }),
            Err(error) => Err(git_error(
                &format!("finding the merge-base of '{a}' and '{b}'"),
                &error,
            )),
        }
    }

    fn change_commits(
        &self,
        merge_base: &str,
        head: &str,
    ) -> Result<Option<Vec<String>>, GitError> {
        let failed = |error: git2::Error| {
            git_error(
                &format!("listing the commits of '{merge_base}'..'{head}'"),
                &error,
            )
        };
        let mut walk = self.repo.revwalk().map_err(failed)?;
        walk.set_sorting(Sort::TOPOLOGICAL | Sort::TIME)
            .map_err(failed)?;
        walk.push(self.commit(head)?.id()).map_err(failed)?;
        walk.hide(self.commit(merge_base)?.id()).map_err(failed)?;
        let commits = walk
            .map(|id| id.map(|id| id.to_string()))
            .collect::<Result<Vec<_>, _>>()
            .map_err(failed)?;
        Ok(Some(commits))
    }

    fn changes(&self, base: &str, head: &str) -> Result<ChangeSet, GitError> {
        let diff = self.diff(base, head)?;
        let files = (0..diff.deltas().len())
            .map(|index| file_change(&diff, index))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(ChangeSet {
            base: self.resolve(base)?,
            head: self.resolve(head)?,
            files,
        })
    }

    fn read_file(&self, rev: &str, path: &str) -> Result<Option<Vec<u8>>, GitError> {
        let Some(id) = self.blob_id(rev, path)? else {
            return Ok(None);
        };
        let blob = self
            .repo
            .find_blob(id)
            .map_err(|error| git_error(&format!("reading '{path}' at '{rev}'"), &error))?;
        Ok(Some(blob.content().to_vec()))
    }

    fn list_files(&self, rev: &str) -> Result<Vec<String>, GitError> {
        let tree = self.tree(rev)?;
        let mut files = Vec::new();
        collect_files(&self.repo, &tree, "", &mut files)?;
        files.sort();
        Ok(files)
    }

    fn blame(&self, rev: &str, path: &str) -> Result<FileBlame, GitError> {
        if self.blob_id(rev, path)?.is_none() {
            return Err(GitError::PathNotFound {
                rev: rev.to_owned(),
                path: path.to_owned(),
            });
        }
        let mut options = BlameOptions::new();
        options.newest_commit(self.commit(rev)?.id());
        let blame = self
            .repo
            .blame_file(Path::new(path), Some(&mut options))
            .map_err(|error| git_error(&format!("blaming '{path}' at '{rev}'"), &error))?;
        let mut result = FileBlame::default();
        let mut indices: HashMap<Oid, usize> = HashMap::new();
        for hunk in blame.iter() {
            let id = hunk.final_commit_id();
            let index = match indices.get(&id) {
                Some(index) => *index,
                None => {
                    result.commits.push(self.commit_info(id)?);
                    let index = result.commits.len() - 1;
                    indices.insert(id, index);
                    index
                }
            };
            result
                .lines
                .extend(std::iter::repeat_n(index, hunk.lines_in_hunk()));
        }
        Ok(result)
    }
}

/// The boundary commits of a shallow clone, from the `shallow` file git keeps beside the
/// objects (libgit2 reads it to cut history there, but does not expose the list).
fn shallow_boundary(repo: &Repository) -> Result<HashSet<Oid>, GitError> {
    if !repo.is_shallow() {
        return Ok(HashSet::new());
    }
    let file = repo.commondir().join("shallow");
    let text = std::fs::read_to_string(&file)
        .map_err(|error| GitError::Git(format!("reading {}: {error}", file.display())))?;
    text.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .map(|line| {
            Oid::from_str(line).map_err(|error| {
                git_error(&format!("reading {}: '{line}'", file.display()), &error)
            })
        })
        .collect()
}

/// The `index`th delta of `diff` as a [`FileChange`], with its hunks.
fn file_change(diff: &Diff<'_>, index: usize) -> Result<FileChange, GitError> {
    let patch = Patch::from_diff(diff, index)
        .map_err(|error| git_error(&format!("computing the patch of file #{index}"), &error))?;
    let delta = match &patch {
        Some(patch) => patch.delta(),
        None => diff
            .get_delta(index)
            .ok_or_else(|| GitError::Git(format!("diff has no file #{index}")))?,
    };
    let status = change_status(delta.status())?;
    let old_path = match status {
        ChangeStatus::Added => None,
        _ => Some(file_path(&delta.old_file(), index)?),
    };
    let new_path = match status {
        ChangeStatus::Deleted => None,
        _ => Some(file_path(&delta.new_file(), index)?),
    };
    let binary = delta.flags().is_binary();
    let (hunks, added_lines) = match (&patch, binary) {
        (Some(patch), false) => hunks_and_added_lines(patch)?,
        _ => (Vec::new(), Vec::new()),
    };
    Ok(FileChange {
        old_path,
        new_path,
        status,
        hunks,
        added_lines,
        binary,
    })
}

fn change_status(status: Delta) -> Result<ChangeStatus, GitError> {
    match status {
        Delta::Added => Ok(ChangeStatus::Added),
        Delta::Deleted => Ok(ChangeStatus::Deleted),
        Delta::Modified | Delta::Typechange => Ok(ChangeStatus::Modified),
        Delta::Renamed => Ok(ChangeStatus::Renamed),
        Delta::Copied => Ok(ChangeStatus::Copied),
        other => Err(GitError::Git(format!(
            "unexpected file status {other:?} in a commit-to-commit diff"
        ))),
    }
}

/// The patch's hunks (as their `@@` headers say) and the head line numbers it adds.
fn hunks_and_added_lines(patch: &Patch<'_>) -> Result<(Vec<Hunk>, Vec<u32>), GitError> {
    let failed = |error: git2::Error| git_error("reading diff hunks", &error);
    let mut hunks = Vec::with_capacity(patch.num_hunks());
    let mut added_lines = Vec::new();
    for hunk_index in 0..patch.num_hunks() {
        let (hunk, line_count) = patch.hunk(hunk_index).map_err(failed)?;
        hunks.push(Hunk {
            old_start: hunk.old_start(),
            old_lines: hunk.old_lines(),
            new_start: hunk.new_start(),
            new_lines: hunk.new_lines(),
        });
        for line_index in 0..line_count {
            let line = patch.line_in_hunk(hunk_index, line_index).map_err(failed)?;
            if line.origin_value() == DiffLineType::Addition {
                added_lines.extend(line.new_lineno());
            }
        }
    }
    added_lines.sort_unstable();
    added_lines.dedup();
    Ok((hunks, added_lines))
}

/// Appends the path of every blob under `tree` (whose own path is `prefix`) to `files`.
fn collect_files(
    repo: &Repository,
    tree: &Tree<'_>,
    prefix: &str,
    files: &mut Vec<String>,
) -> Result<(), GitError> {
    for entry in tree.iter() {
        let path = format!("{prefix}{}", utf8_path(entry.name_bytes())?);
        match entry.kind() {
            Some(ObjectType::Blob) => files.push(path),
            Some(ObjectType::Tree) => {
                let subtree = repo
                    .find_tree(entry.id())
                    .map_err(|error| git_error(&format!("reading directory '{path}'"), &error))?;
                collect_files(repo, &subtree, &format!("{path}/"), files)?;
            }
            _ => {}
        }
    }
    Ok(())
}

fn file_path(file: &DiffFile<'_>, index: usize) -> Result<String, GitError> {
    let bytes = file
        .path_bytes()
        .ok_or_else(|| GitError::Git(format!("file #{index} of the diff has no path")))?;
    utf8_path(bytes)
}

fn utf8_path(bytes: &[u8]) -> Result<String, GitError> {
    std::str::from_utf8(bytes)
        .map(str::to_owned)
        .map_err(|_| GitError::NonUtf8Path {
            path: String::from_utf8_lossy(bytes).into_owned(),
        })
}

fn git_error(context: &str, error: &git2::Error) -> GitError {
    GitError::Git(format!("{context}: {}", error.message()))
}

#[cfg(test)]
mod tests {
    use super::super::testing::{ALICE, BOB, TestRepo};
    use super::*;

    fn numbered(range: std::ops::RangeInclusive<u32>) -> String {
        range.map(|n| format!("line {n}\n")).collect()
    }

    fn hunk(old_start: u32, old_lines: u32, new_start: u32, new_lines: u32) -> Hunk {
        Hunk {
            old_start,
            old_lines,
            new_start,
            new_lines,
        }
    }

    fn file<'a>(changes: &'a ChangeSet, path: &str) -> &'a FileChange {
        changes
            .files
            .iter()
            .find(|file| {
                file.new_path.as_deref() == Some(path) || file.old_path.as_deref() == Some(path)
            })
            .unwrap()
    }

    /// The hunk headers `git diff -U0 --find-renames` prints for `path`.
    fn cli_hunks(repo: &TestRepo, base: &str, head: &str, path: &str) -> Vec<Hunk> {
        let output = repo.git(
            &["diff", "-U0", "--find-renames", base, head, "--", path],
            ALICE,
        );
        output
            .lines()
            .filter_map(|line| line.strip_prefix("@@ -"))
            .map(|header| {
                let ranges: Vec<(u32, u32)> = header
                    .split(" @@")
                    .next()
                    .unwrap()
                    .split(" +")
                    .map(|range| match range.split_once(',') {
                        Some((start, count)) => (start.parse().unwrap(), count.parse().unwrap()),
                        None => (range.parse().unwrap(), 1),
                    })
                    .collect();
                hunk(ranges[0].0, ranges[0].1, ranges[1].0, ranges[1].1)
            })
            .collect()
    }

    #[test]
    fn open_rejects_a_directory_that_is_not_a_repository() {
        let dir = tempfile::TempDir::new().unwrap();

        let error = LocalRepo::open(dir.path()).err().unwrap();

        assert!(matches!(error, GitError::NotARepository { .. }), "{error}");
        assert!(
            error
                .to_string()
                .contains(&dir.path().display().to_string())
        );
    }

    #[test]
    fn resolve_accepts_shas_branches_tags_and_ancestry() {
        let repo = TestRepo::new();
        repo.write("a.txt", "one\n");
        let first = repo.commit("first", ALICE);
        repo.git(&["tag", "v1"], ALICE);
        repo.write("a.txt", "two\n");
        let second = repo.commit("second", ALICE);
        let local = repo.open();

        assert_eq!(local.resolve("main").unwrap(), second);
        assert_eq!(local.resolve("HEAD~1").unwrap(), first);
        assert_eq!(local.resolve("v1").unwrap(), first);
        assert_eq!(local.resolve(&first[..10]).unwrap(), first);
    }

    #[test]
    fn unknown_revisions_are_named_in_the_error() {
        let repo = TestRepo::new();
        repo.write("a.txt", "one\n");
        let head = repo.commit("first", ALICE);
        let local = repo.open();

        let errors = [
            local.resolve("no-such-branch").unwrap_err(),
            local.changes(&head, "no-such-branch").unwrap_err(),
            local.read_file("no-such-branch", "a.txt").unwrap_err(),
            local.list_files("no-such-branch").unwrap_err(),
            local.blame("no-such-branch", "a.txt").unwrap_err(),
            local.merge_base("no-such-branch", &head).unwrap_err(),
        ];

        for error in errors {
            assert!(matches!(error, GitError::UnknownRevision { .. }), "{error}");
            assert!(error.to_string().contains("no-such-branch"), "{error}");
        }
    }

    #[test]
    fn merge_base_of_two_branches_is_their_fork_point() {
        let repo = TestRepo::new();
        repo.write("a.txt", "one\n");
        let fork = repo.commit("fork point", ALICE);
        repo.git(&["checkout", "--quiet", "-b", "feature"], ALICE);
        repo.write("b.txt", "feature\n");
        repo.commit("feature work", BOB);
        repo.git(&["checkout", "--quiet", "main"], ALICE);
        repo.write("a.txt", "main moved on\n");
        repo.commit("main work", ALICE);
        let local = repo.open();

        assert_eq!(local.merge_base("main", "feature").unwrap(), fork);
        assert_eq!(local.merge_base("feature", "main").unwrap(), fork);
    }

    #[test]
    fn unrelated_histories_have_no_merge_base() {
        let repo = TestRepo::new();
        repo.write("a.txt", "one\n");
        repo.commit("first", ALICE);
        repo.git(&["checkout", "--quiet", "--orphan", "other"], ALICE);
        repo.write("a.txt", "unrelated\n");
        repo.commit("unrelated root", BOB);
        let local = repo.open();

        let error = local.merge_base("main", "other").unwrap_err();

        assert!(matches!(error, GitError::NoMergeBase { .. }), "{error}");
        assert!(error.to_string().contains("'main'"), "{error}");
        assert!(error.to_string().contains("'other'"), "{error}");
    }

    #[test]
    fn modified_file_has_exact_zero_context_hunks_and_added_lines() {
        let repo = TestRepo::new();
        repo.write("a.txt", numbered(1..=10));
        let base = repo.commit("base", ALICE);
        let edited = "line 1\nline 2\nline 3 changed\nline 4\nline 5\nline 6\nline 7\n\
                      new a\nnew b\nline 8\nline 10\n";
        repo.write("a.txt", edited);
        let head = repo.commit("edit", BOB);

        let changes = repo.open().changes(&base, &head).unwrap();

        assert_eq!(changes.base, base);
        assert_eq!(changes.head, head);
        assert_eq!(
            changes.files,
            vec![FileChange {
                old_path: Some("a.txt".into()),
                new_path: Some("a.txt".into()),
                status: ChangeStatus::Modified,
                hunks: vec![hunk(3, 1, 3, 1), hunk(7, 0, 8, 2), hunk(9, 1, 10, 0)],
                added_lines: vec![3, 8, 9],
                binary: false,
            }]
        );
        assert_eq!(
            changes.files[0].hunks,
            cli_hunks(&repo, &base, &head, "a.txt")
        );
    }

    #[test]
    fn lines_inserted_at_the_top_form_one_hunk_after_line_zero() {
        let repo = TestRepo::new();
        repo.write("a.txt", numbered(41..=50));
        let base = repo.commit("base", ALICE);
        repo.write("a.txt", numbered(1..=50));
        let head = repo.commit("prepend", BOB);

        let changes = repo.open().changes(&base, &head).unwrap();

        let change = file(&changes, "a.txt");
        assert_eq!(change.hunks, vec![hunk(0, 0, 1, 40)]);
        assert_eq!(change.added_lines, (1..=40).collect::<Vec<u32>>());
        assert_eq!(change.hunks, cli_hunks(&repo, &base, &head, "a.txt"));
    }

    #[test]
    fn added_and_deleted_files_have_one_side_only() {
        let repo = TestRepo::new();
        repo.write("keep.txt", "keep\n");
        repo.write("gone.txt", "a\nb\nc\n");
        let base = repo.commit("base", ALICE);
        repo.write("src/new.rs", "fn a() {}\nfn b() {}\n");
        std::fs::remove_file(repo.path().join("gone.txt")).unwrap();
        let head = repo.commit("add and delete", BOB);

        let changes = repo.open().changes(&base, &head).unwrap();

        assert_eq!(changes.files.len(), 2);
        assert_eq!(
            file(&changes, "src/new.rs"),
            &FileChange {
                old_path: None,
                new_path: Some("src/new.rs".into()),
                status: ChangeStatus::Added,
                hunks: vec![hunk(0, 0, 1, 2)],
                added_lines: vec![1, 2],
                binary: false,
            }
        );
        assert_eq!(
            file(&changes, "gone.txt"),
            &FileChange {
                old_path: Some("gone.txt".into()),
                new_path: None,
                status: ChangeStatus::Deleted,
                hunks: vec![hunk(1, 3, 0, 0)],
                added_lines: vec![],
                binary: false,
            }
        );
    }

    #[test]
    fn renamed_file_with_small_edits_keeps_both_paths_and_only_edited_lines() {
        let repo = TestRepo::new();
        repo.write("old/name.txt", numbered(1..=20));
        let base = repo.commit("base", ALICE);
        std::fs::remove_file(repo.path().join("old/name.txt")).unwrap();
        repo.write(
            "new/name.txt",
            numbered(1..=20).replace("line 5\n", "line five\n"),
        );
        let head = repo.commit("move", BOB);

        let changes = repo.open().changes(&base, &head).unwrap();

        assert_eq!(
            changes.files,
            vec![FileChange {
                old_path: Some("old/name.txt".into()),
                new_path: Some("new/name.txt".into()),
                status: ChangeStatus::Renamed,
                hunks: vec![hunk(5, 1, 5, 1)],
                added_lines: vec![5],
                binary: false,
            }]
        );
    }

    #[test]
    fn rewritten_file_under_the_similarity_threshold_is_a_delete_and_an_add() {
        let repo = TestRepo::new();
        repo.write("before.txt", numbered(1..=10));
        let base = repo.commit("base", ALICE);
        std::fs::remove_file(repo.path().join("before.txt")).unwrap();
        repo.write("after.txt", numbered(101..=110));
        let head = repo.commit("rewrite", BOB);

        let changes = repo.open().changes(&base, &head).unwrap();

        assert_eq!(file(&changes, "before.txt").status, ChangeStatus::Deleted);
        assert_eq!(file(&changes, "after.txt").status, ChangeStatus::Added);
    }

    #[test]
    fn binary_files_are_flagged_without_hunks() {
        let repo = TestRepo::new();
        repo.write("image.bin", b"\x89PNG\0\0\x01\x02");
        let base = repo.commit("base", ALICE);
        repo.write("image.bin", b"\x89PNG\0\0\x03\x04\x05");
        repo.write("other.bin", b"\0\x01");
        let head = repo.commit("binary edits", BOB);

        let changes = repo.open().changes(&base, &head).unwrap();

        let modified = file(&changes, "image.bin");
        assert_eq!(modified.status, ChangeStatus::Modified);
        assert!(modified.binary);
        assert!(modified.hunks.is_empty());
        assert!(modified.added_lines.is_empty());
        let added = file(&changes, "other.bin");
        assert_eq!(added.status, ChangeStatus::Added);
        assert!(added.binary);
        assert!(added.hunks.is_empty());
    }

    #[test]
    fn read_file_returns_committed_bytes_or_none() {
        let repo = TestRepo::new();
        repo.write("dir/a.txt", "first\n");
        let first = repo.commit("first", ALICE);
        repo.write("dir/a.txt", "second\n");
        let second = repo.commit("second", ALICE);
        repo.write("dir/a.txt", "uncommitted\n");
        let local = repo.open();

        assert_eq!(
            local.read_file(&first, "dir/a.txt").unwrap(),
            Some(b"first\n".to_vec())
        );
        assert_eq!(
            local.read_file("HEAD", "dir/a.txt").unwrap(),
            Some(b"second\n".to_vec())
        );
        assert_eq!(local.read_file(&second, "dir/missing.txt").unwrap(), None);
        assert_eq!(local.read_file(&second, "dir").unwrap(), None);
    }

    #[test]
    fn list_files_walks_nested_directories() {
        let repo = TestRepo::new();
        repo.write("README.md", "hi\n");
        repo.write("src/main.rs", "fn main() {}\n");
        repo.write("src/git/deep/mod.rs", "\n");
        repo.write("web/package.json", "{}\n");
        let head = repo.commit("tree", ALICE);
        repo.write("untracked.txt", "not committed\n");

        let files = repo.open().list_files(&head).unwrap();

        assert_eq!(
            files,
            vec![
                "README.md",
                "src/git/deep/mod.rs",
                "src/main.rs",
                "web/package.json"
            ]
        );
    }

    #[test]
    fn blame_names_the_commit_that_last_touched_each_line() {
        let repo = TestRepo::new();
        repo.write("a.txt", "one\ntwo\nthree\n");
        let first = repo.commit("Initial import\n\nWith a body.", ALICE);
        repo.write("a.txt", "one\nTWO\nthree\n");
        let second = repo.commit("Shout line two", BOB);
        let local = repo.open();

        let blame = local.blame(&second, "a.txt").unwrap();

        assert_eq!(blame.lines.len(), 3);
        assert_eq!(blame.commits.len(), 2);
        let alice = blame.commit_at(1).unwrap();
        assert_eq!(
            alice,
            &CommitInfo {
                sha: first.clone(),
                author: ALICE.name.into(),
                email: ALICE.email.into(),
                date: DateTime::<Utc>::from_timestamp(ALICE.time, 0).unwrap(),
                committed: DateTime::<Utc>::from_timestamp(ALICE.time, 0).unwrap(),
                summary: "Initial import".into(),
                shallow_boundary: false,
            }
        );
        let bob = blame.commit_at(2).unwrap();
        assert_eq!(bob.sha, second);
        assert_eq!(bob.author, BOB.name);
        assert_eq!(
            bob.date,
            DateTime::<Utc>::from_timestamp(BOB.time, 0).unwrap()
        );
        assert_eq!(bob.summary, "Shout line two");
        assert_eq!(blame.commit_at(3).unwrap().sha, first);
        assert_eq!(blame.commit_at(4), None);

        let older = local.blame(&first, "a.txt").unwrap();
        assert_eq!(older.commits.len(), 1);
        assert_eq!(older.lines, vec![0, 0, 0]);
    }

    #[test]
    fn blame_follows_a_file_across_a_rename() {
        let repo = TestRepo::new();
        repo.write("old.txt", numbered(1..=10));
        let first = repo.commit("create", ALICE);
        repo.git(&["mv", "old.txt", "new.txt"], BOB);
        repo.write("new.txt", numbered(1..=11));
        let second = repo.commit("rename and append", BOB);

        let blame = repo.open().blame(&second, "new.txt").unwrap();

        assert_eq!(blame.commit_at(1).unwrap().sha, first);
        assert_eq!(blame.commit_at(10).unwrap().sha, first);
        assert_eq!(blame.commit_at(11).unwrap().sha, second);
    }

    #[test]
    fn change_commits_are_listed_newest_first_in_ancestry_whatever_their_dates() {
        let repo = TestRepo::new();
        repo.write("a.txt", "one\n");
        let base = repo.commit("base", ALICE);
        repo.git(&["checkout", "--quiet", "-b", "feature"], ALICE);
        repo.write("a.txt", "two\n");
        let later_date = repo.commit("first of the change", BOB);
        // Committed on top, with an older date: what a rebase or a skewed clock leaves.
        repo.write("a.txt", "three\n");
        let earlier_date = repo.commit("second of the change", ALICE);
        let local = repo.open();

        let commits = local.change_commits(&base, "feature").unwrap();

        assert_eq!(commits, Some(vec![earlier_date, later_date]));
        assert_eq!(local.change_commits(&base, &base).unwrap(), Some(vec![]));
    }

    /// `git clone ARGS file://REPO` into a new directory.
    fn clone(repo: &TestRepo, args: &[&str]) -> tempfile::TempDir {
        let dir = tempfile::TempDir::new().unwrap();
        let url = format!("file://{}", repo.path().display());
        let mut command = vec!["clone", "--quiet"];
        command.extend(args);
        command.extend([url.as_str(), dir.path().to_str().unwrap()]);
        repo.git(&command, ALICE);
        dir
    }

    #[test]
    fn blame_in_a_shallow_clone_flags_the_boundary_commit() {
        let repo = TestRepo::new();
        repo.write("a.txt", "one\ntwo\n");
        repo.commit("first", ALICE);
        repo.write("b.txt", "b\n");
        let boundary = repo.commit("second", ALICE);
        repo.write("a.txt", "one\nTWO\n");
        let head = repo.commit("third", BOB);
        let shallow = clone(&repo, &["--depth", "2"]);

        let blame = LocalRepo::open(shallow.path())
            .unwrap()
            .blame(&head, "a.txt")
            .unwrap();

        // Line 1 was written by "first", which was not fetched: blame stops at "second".
        let stopped = blame.commit_at(1).unwrap();
        assert_eq!(stopped.sha, boundary);
        assert!(stopped.shallow_boundary);
        let changed = blame.commit_at(2).unwrap();
        assert_eq!(changed.sha, head);
        assert!(!changed.shallow_boundary);
        let complete = repo.open().blame(&head, "a.txt").unwrap();
        assert!(complete.commits.iter().all(|c| !c.shallow_boundary));
    }

    #[test]
    fn no_merge_base_in_a_shallow_clone_says_how_to_fetch_the_history() {
        let repo = TestRepo::new();
        repo.write("a.txt", "one\n");
        repo.commit("fork point", ALICE);
        repo.git(&["checkout", "--quiet", "-b", "feature"], ALICE);
        repo.write("b.txt", "feature\n");
        repo.commit("feature work", BOB);
        let shallow = clone(&repo, &["--depth", "1", "--no-single-branch"]);
        let local = LocalRepo::open(shallow.path()).unwrap();

        let error = local
            .merge_base("origin/main", "origin/feature")
            .unwrap_err();

        assert!(
            matches!(error, GitError::ShallowNoMergeBase { .. }),
            "{error}"
        );
        let message = error.to_string();
        assert!(message.contains("'origin/main'"), "{message}");
        assert!(message.contains("fetch-depth: 0"), "{message}");
        assert!(message.contains("git fetch --deepen"), "{message}");
        // A base the shallow checkout never fetched: the same advice.
        let missing = local.resolve("origin/release").unwrap_err().to_string();
        assert!(missing.contains("'origin/release'"), "{missing}");
        assert!(missing.contains("shallow"), "{missing}");
        assert!(missing.contains("fetch-depth: 0"), "{missing}");
        let complete = repo.open().resolve("release").unwrap_err().to_string();
        assert!(!complete.contains("shallow"), "{complete}");
    }

    #[test]
    fn blame_of_a_missing_file_names_path_and_revision() {
        let repo = TestRepo::new();
        repo.write("a.txt", "one\n");
        repo.commit("first", ALICE);

        let error = repo.open().blame("main", "nope.txt").unwrap_err();

        assert!(matches!(error, GitError::PathNotFound { .. }), "{error}");
        assert!(error.to_string().contains("nope.txt"), "{error}");
        assert!(error.to_string().contains("main"), "{error}");
    }
}
