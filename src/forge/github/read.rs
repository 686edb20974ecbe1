//! Reading a pull request and its repository: the pull request itself and its merge-base,
//! the open pull requests of a head, the changed files with their patches, a file's bytes
//! and the list of files at a commit.
//!
//! `GET /pulls/{n}/files` lists at most 3,000 files and leaves out the patch of a file whose
//! diff is too large; either way the change would be incomplete, so posture then computes it
//! from a blobless clone instead ([`super::clone`]). A truncated recursive tree does the same.
//!
//! `GET /pulls/{n}/commits` lists at most 250 commits: a list that long may be cut, so it is
//! [partial](ChangeCommitList::Partial) and attribution ranks by dates, as without a list.

use serde::Deserialize;

use super::client::{Call, Http, RAW, encode, encode_path, protocol, repo_path};
use super::clone;
use crate::forge::ancestry::{self, ListedCommit};
use crate::forge::patch::file_change;
use crate::forge::{ChangeCommitList, ChangeRequest, ForgeError, ForgeResult};
use crate::model::{ChangeSet, ChangeStatus, FileChange};

/// GitHub lists at most this many files of a pull request.
pub(crate) const MAX_LISTED_FILES: usize = 3000;
/// GitHub lists at most this many commits of a pull request (its REST docs: "a maximum of
/// 250 commits"; the rest only through the repository's commit list).
pub(crate) const MAX_LISTED_COMMITS: usize = 250;
/// The most open pull requests posture looks at in one repository.
const MAX_OPEN_PULLS: usize = 10_000;
/// GitHub's largest file, which the contents API still serves raw.
const MAX_FILE_BYTES: u64 = 100 * 1024 * 1024;

#[derive(Debug, Deserialize)]
struct Pull {
    number: i64,
    state: String,
    title: String,
    #[serde(default)]
    draft: bool,
    head: Branch,
    base: Branch,
}

#[derive(Debug, Deserialize)]
struct Branch {
    sha: String,
    #[serde(rename = "ref")]
    name: String,
}

pub(crate) async fn change_request(
    http: &Http<'_>,
    repository: &str,
    number: i64,
) -> ForgeResult<ChangeRequest> {
    let what = format!("reading pull request {repository}#{number}");
    let path = format!("{}/pulls/{number}", repo_path(repository)?);
    let pull: Pull = http.get_json(&path, "get_pull", &what).await?;
    with_merge_base(http, repository, pull).await
}

pub(crate) async fn open_change_requests(
    http: &Http<'_>,
    repository: &str,
    head_sha: Option<&str>,
) -> ForgeResult<Vec<ChangeRequest>> {
    let what = format!("listing the open pull requests of {repository}");
    let path = format!("{}/pulls?state=open&per_page=100", repo_path(repository)?);
    let pulls: Vec<Pull> = http
        .paged(path, "list_pulls", &what, Some, MAX_OPEN_PULLS)
        .await?;
    let mut out = Vec::new();
    for pull in pulls {
        if head_sha.is_none_or(|sha| pull.head.sha == sha) {
            out.push(with_merge_base(http, repository, pull).await?);
        }
    }
    Ok(out)
}

async fn with_merge_base(
    http: &Http<'_>,
    repository: &str,
    pull: Pull,
) -> ForgeResult<ChangeRequest> {
    let merge_base = merge_base(http, repository, &pull.base.sha, &pull.head.sha).await?;
    Ok(ChangeRequest {
        repository: repository.to_owned(),
        number: pull.number,
        title: pull.title,
        head_sha: pull.head.sha,
        target_sha: pull.base.sha,
        merge_base,
        target_branch: pull.base.name,
        draft: pull.draft,
        open: pull.state == "open",
    })
}

/// `GET /compare/{base}...{head}`'s `merge_base_commit` (one commit per page: only the
/// merge-base is wanted).
async fn merge_base(
    http: &Http<'_>,
    repository: &str,
    base: &str,
    head: &str,
) -> ForgeResult<String> {
    #[derive(Deserialize)]
    struct Compare {
        merge_base_commit: Commit,
    }
    #[derive(Deserialize)]
    struct Commit {
        sha: String,
    }
    let what = format!("finding the merge-base of {base} and {head} in {repository}");
    let path = format!(
        "{}/compare/{}...{}?per_page=1",
        repo_path(repository)?,
        encode(base),
        encode(head)
    );
    let compare: Compare = http.get_json(&path, "compare", &what).await?;
    Ok(compare.merge_base_commit.sha)
}

/// The pull request's commits (`GET /pulls/{n}/commits`, oldest first as GitHub lists them),
/// ordered by their parents from the head reviewed.
pub(crate) async fn change_commits(
    http: &Http<'_>,
    change: &ChangeRequest,
) -> ForgeResult<ChangeCommitList> {
    #[derive(Deserialize)]
    struct PullCommit {
        sha: String,
        #[serde(default)]
        parents: Vec<Parent>,
    }
    #[derive(Deserialize)]
    struct Parent {
        sha: String,
    }
    let repository = &change.repository;
    let what = format!(
        "listing the commits of pull request {repository}#{}",
        change.number
    );
    let path = format!(
        "{}/pulls/{}/commits?per_page=100",
        repo_path(repository)?,
        change.number
    );
    let listed: Vec<PullCommit> = http
        .paged(path, "list_pull_commits", &what, Some, MAX_LISTED_COMMITS)
        .await?;
    // At the cap, commits may be missing (GitHub says nothing of which).
    let capped = listed.len() >= MAX_LISTED_COMMITS;
    let newest_listed_first = listed
        .into_iter()
        .rev()
        .map(|c| ListedCommit {
            sha: c.sha,
            parents: c.parents.into_iter().map(|p| p.sha).collect(),
        })
        .collect();
    Ok(ancestry::order(
        &change.head_sha,
        newest_listed_first,
        capped,
    ))
}

/// One entry of `GET /pulls/{n}/files`.
#[derive(Debug, Deserialize)]
pub(crate) struct PullFile {
    pub filename: String,
    pub status: String,
    #[serde(default)]
    pub additions: u64,
    #[serde(default)]
    pub deletions: u64,
    pub patch: Option<String>,
    pub previous_filename: Option<String>,
}

impl PullFile {
    /// Lines changed, but no patch: GitHub left out a diff too large to show. (A binary
    /// file has no patch and counts no lines.)
    fn patch_withheld(&self) -> bool {
        self.patch.is_none() && self.additions + self.deletions > 0
    }
}

pub(crate) async fn changes(http: &Http<'_>, change: &ChangeRequest) -> ForgeResult<ChangeSet> {
    let repository = &change.repository;
    let what = format!(
        "listing the files of pull request {repository}#{}",
        change.number
    );
    let path = format!(
        "{}/pulls/{}/files?per_page=100",
        repo_path(repository)?,
        change.number
    );
    let listed: ForgeResult<Vec<PullFile>> = http
        .paged(path, "list_pull_files", &what, Some, MAX_LISTED_FILES)
        .await;
    let files = match listed {
        Ok(files)
            if files.len() < MAX_LISTED_FILES && !files.iter().any(PullFile::patch_withheld) =>
        {
            files
        }
        // Too many files, a withheld patch, or a diff GitHub refuses to list (406/422).
        Ok(_)
        | Err(ForgeError::Rejected {
            status: 406 | 422, ..
        }) => {
            tracing::info!(
                repository = %repository,
                number = change.number,
                "the pull request's diff is too large for the API: computing it from a blobless clone"
            );
            return clone::changes(http, repository, &change.merge_base, &change.head_sha).await;
        }
        Err(error) => return Err(error),
    };
    let mut out = Vec::with_capacity(files.len());
    for file in files {
        if let Some(change) = to_file_change(file).map_err(|m| protocol(&what, m))? {
            out.push(change);
        }
    }
    Ok(ChangeSet {
        base: change.merge_base.clone(),
        head: change.head_sha.clone(),
        files: out,
    })
}

/// A listed file as posture's [`FileChange`]; `None` for a file GitHub lists as unchanged.
pub(crate) fn to_file_change(file: PullFile) -> Result<Option<FileChange>, String> {
    let PullFile {
        filename,
        status,
        patch,
        previous_filename,
        ..
    } = file;
    let (old, new, status) = match status.as_str() {
        "added" => (None, Some(filename), ChangeStatus::Added),
        "removed" => (Some(filename), None, ChangeStatus::Deleted),
        // `changed`: the mode or type changed, maybe the content too.
        "modified" | "changed" => (
            Some(filename.clone()),
            Some(filename),
            ChangeStatus::Modified,
        ),
        "renamed" => (
            Some(previous_filename.unwrap_or_else(|| filename.clone())),
            Some(filename),
            ChangeStatus::Renamed,
        ),
        "copied" => (
            Some(previous_filename.unwrap_or_else(|| filename.clone())),
            Some(filename),
            ChangeStatus::Copied,
        ),
        "unchanged" => return Ok(None),
        other => return Err(format!("'{filename}' has an unknown status '{other}'")),
    };
    file_change(old, new, status, patch.as_deref())
        .map(Some)
        .map_err(|e| e.to_string())
}

pub(crate) async fn read_file(
    http: &Http<'_>,
    repository: &str,
    sha: &str,
    path: &str,
) -> ForgeResult<Option<Vec<u8>>> {
    let path = path.trim_start_matches('/');
    if path.is_empty() {
        return Ok(None);
    }
    let what = format!("reading {path} at {sha} in {repository}");
    let mut call = Call::get(
        format!(
            "{}/contents/{}?ref={}",
            repo_path(repository)?,
            encode_path(path),
            encode(sha)
        ),
        "get_contents",
        &what,
    );
    call.accept = RAW;
    call.limit = MAX_FILE_BYTES;
    match http.call(call).await {
        Ok(answer) if answer.truncated => Err(protocol(
            &what,
            format!("the file is larger than {MAX_FILE_BYTES} bytes"),
        )),
        Ok(answer) => Ok(Some(answer.body)),
        Err(ForgeError::NotFound { .. }) => Ok(None),
        Err(error) => Err(error),
    }
}

pub(crate) async fn list_files(
    http: &Http<'_>,
    repository: &str,
    sha: &str,
) -> ForgeResult<Vec<String>> {
    #[derive(Deserialize)]
    struct Tree {
        tree: Vec<Entry>,
        #[serde(default)]
        truncated: bool,
    }
    #[derive(Deserialize)]
    struct Entry {
        path: String,
        #[serde(rename = "type")]
        kind: String,
    }
    let what = format!("listing the files at {sha} in {repository}");
    let path = format!(
        "{}/git/trees/{}?recursive=1",
        repo_path(repository)?,
        encode(sha)
    );
    let tree: Tree = http.get_json(&path, "get_tree", &what).await?;
    if tree.truncated {
        tracing::info!(
            repository = %repository,
            sha = %sha,
            "the tree is too large for the API: listing it from a blobless clone"
        );
        return clone::list_files(http, repository, sha).await;
    }
    let mut files: Vec<String> = tree
        .tree
        .into_iter()
        .filter(|entry| entry.kind == "blob")
        .map(|entry| entry.path)
        .collect();
    files.sort();
    Ok(files)
}
