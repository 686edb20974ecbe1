//! Reading from GitLab: merge requests, their commits and diffs, files, the tree, blame, and
//! the scanner reports among a pipeline's job artifacts.

use std::collections::HashMap;

use chrono::Utc;
use gitlab::api::common::{NameOrId, SortOrder};
use gitlab::api::projects::merge_requests::{
    MergeRequest as MergeRequestEndpoint, MergeRequestCommits, MergeRequestDiffs,
    MergeRequestState, MergeRequests,
};
use gitlab::api::projects::pipelines::{PipelineJobs, PipelineOrderBy, Pipelines};
use gitlab::api::projects::repository::files::FileRaw;
use gitlab::api::{self, Pagination};

use super::client::{Api, Downloaded, FORGE, protocol, unavailable};
use super::endpoints::{FileBlame, MergeRequestChanges, RepositoryTree};
use super::types::{
    BlameRange, Changes, Diff, Job, MergeRequest, MergeRequestCommit, Pipeline, TreeEntry,
};
use crate::forge::ancestry::{self, ListedCommit};
use crate::forge::artifacts::extract_for;
use crate::forge::patch::file_change;
use crate::forge::{
    ArtifactLimits, ChangeCommitList, ChangeRequest, ForgeError, ForgeResult, ReportGlobs, Reports,
};
use crate::model::{ChangeSet, ChangeStatus, CommitInfo, FileBlame as Blame, FileChange};

/// GitLab's report artifact types: stored apart from the `artifacts:paths` archive, and not
/// downloadable through the API (GitLab's docs: add them to `artifacts:paths` too).
const REPORT_TYPES: &[&str] = &[
    "sast",
    "secret_detection",
    "dependency_scanning",
    "container_scanning",
    "cluster_image_scanning",
    "dast",
    "api_fuzzing",
    "coverage_fuzzing",
    "cyclonedx",
];

/// The most commits of one merge request posture lists; a list that long may be cut, and
/// attribution then ranks by dates as without one.
const MAX_LISTED_COMMITS: usize = 10_000;

/// A merge request iid as GitLab takes it.
pub(super) fn iid(repository: &str, number: i64) -> ForgeResult<u64> {
    u64::try_from(number).map_err(|_| ForgeError::NotFound {
        forge: FORGE,
        what: format!("merge request {repository}!{number}"),
    })
}

pub(super) async fn change_request(
    api: &Api,
    repository: &str,
    number: i64,
) -> ForgeResult<ChangeRequest> {
    let iid = iid(repository, number)?;
    let what = format!("reading merge request {repository}!{iid}");
    let endpoint = MergeRequestEndpoint::builder()
        .project(repository)
        .merge_request(iid)
        .build()
        .map_err(|e| protocol(&what, &e.to_string()))?;
    let mr: MergeRequest = api.call("merge_request", &what, false, endpoint).await?;
    to_change_request(repository, mr, &what)
}

/// A merge request as a [`ChangeRequest`]; its diff must be computed already.
fn to_change_request(repository: &str, mr: MergeRequest, what: &str) -> ForgeResult<ChangeRequest> {
    let refs = mr.diff_refs.as_ref();
    let (Some(merge_base), Some(target_sha), Some(head_sha)) = (
        refs.and_then(|r| r.base_sha.clone()),
        refs.and_then(|r| r.start_sha.clone()),
        refs.and_then(|r| r.head_sha.clone()).or(mr.sha.clone()),
    ) else {
        return Err(unavailable(
            what,
            "GitLab is still preparing the merge request's diff (diff_refs is null)",
        ));
    };
    Ok(ChangeRequest {
        repository: repository.to_owned(),
        number: i64::try_from(mr.iid).unwrap_or(i64::MAX),
        title: mr.title,
        head_sha,
        target_sha,
        merge_base,
        target_branch: mr.target_branch,
        draft: mr.draft.or(mr.work_in_progress).unwrap_or(false),
        open: mr.state == "opened",
    })
}

pub(super) async fn open_change_requests(
    api: &Api,
    repository: &str,
    head_sha: Option<&str>,
) -> ForgeResult<Vec<ChangeRequest>> {
    let what = format!("listing the open merge requests of {repository}");
    let endpoint = MergeRequests::builder()
        .project(repository)
        .state(MergeRequestState::Opened)
        .build()
        .map_err(|e| protocol(&what, &e.to_string()))?;
    let listed: Vec<MergeRequest> = api
        .call(
            "merge_requests",
            &what,
            false,
            api::paged(endpoint, Pagination::All),
        )
        .await?;
    // The list carries no diff_refs: read each match in full.
    let mut out = Vec::new();
    for mr in listed {
        if head_sha.is_some_and(|head| mr.sha.as_deref() != Some(head)) {
            continue;
        }
        let number = i64::try_from(mr.iid).unwrap_or(i64::MAX);
        out.push(change_request(api, repository, number).await?);
    }
    out.sort_by_key(|c| c.number);
    Ok(out)
}

pub(super) async fn changes(api: &Api, change: &ChangeRequest) -> ForgeResult<ChangeSet> {
    let diffs = diffs(api, &change.repository, change.number).await?;
    let what = format!(
        "reading the diff of merge request {}!{}",
        change.repository, change.number
    );
    let files = diffs
        .into_iter()
        .map(|diff| to_file_change(diff).map_err(|e| protocol(&what, &e.to_string())))
        .collect::<ForgeResult<Vec<_>>>()?;
    Ok(ChangeSet {
        base: change.merge_base.clone(),
        head: change.head_sha.clone(),
        files,
    })
}

/// The merge request's commits (`…/commits`, newest first as GitLab lists them), ordered by
/// their `parent_ids` from the head reviewed.
pub(super) async fn change_commits(
    api: &Api,
    change: &ChangeRequest,
) -> ForgeResult<ChangeCommitList> {
    let repository = &change.repository;
    let iid = iid(repository, change.number)?;
    let what = format!("listing the commits of merge request {repository}!{iid}");
    let endpoint = MergeRequestCommits::builder()
        .project(repository.as_str())
        .merge_request(iid)
        .build()
        .map_err(|e| protocol(&what, &e.to_string()))?;
    let listed: Vec<MergeRequestCommit> = api
        .call(
            "merge_request_commits",
            &what,
            false,
            api::paged(endpoint, Pagination::Limit(MAX_LISTED_COMMITS)),
        )
        .await?;
    let capped = listed.len() >= MAX_LISTED_COMMITS;
    let listed = listed
        .into_iter()
        .map(|c| ListedCommit {
            sha: c.id,
            parents: c.parent_ids.unwrap_or_default(),
        })
        .collect();
    Ok(ancestry::order(&change.head_sha, listed, capped))
}

/// The merge request's per-file diffs: `…/diffs`, or `…/changes` where that is missing.
pub(super) async fn diffs(api: &Api, repository: &str, number: i64) -> ForgeResult<Vec<Diff>> {
    let iid = iid(repository, number)?;
    let what = format!("reading the diff of merge request {repository}!{iid}");
    let endpoint = MergeRequestDiffs::builder()
        .project(repository)
        .merge_request(iid)
        .build()
        .map_err(|e| protocol(&what, &e.to_string()))?;
    let paged = api::paged(endpoint, Pagination::All);
    match api.call("merge_request_diffs", &what, false, paged).await {
        Err(ForgeError::NotFound { .. }) => {
            let legacy = MergeRequestChanges {
                project: NameOrId::from(repository),
                iid,
            };
            let changes: Changes = api
                .call("merge_request_changes", &what, false, legacy)
                .await?;
            Ok(changes.changes)
        }
        other => other,
    }
}

fn to_file_change(diff: Diff) -> Result<FileChange, crate::forge::patch::PatchError> {
    let status = if diff.new_file {
        ChangeStatus::Added
    } else if diff.deleted_file {
        ChangeStatus::Deleted
    } else if diff.renamed_file {
        ChangeStatus::Renamed
    } else {
        ChangeStatus::Modified
    };
    let withheld = diff.too_large == Some(true) || diff.collapsed == Some(true);
    let patch = diff
        .diff
        .as_deref()
        .filter(|text| !withheld && has_hunks(text));
    let old_path = (status != ChangeStatus::Added).then_some(diff.old_path);
    let new_path = (status != ChangeStatus::Deleted).then_some(diff.new_path);
    file_change(old_path, new_path, status, patch)
}

/// Whether a diff body has a hunk (binary files come as `Binary files … differ`, mode-only
/// changes and withheld diffs as nothing).
pub(super) fn has_hunks(text: &str) -> bool {
    text.lines().any(|line| line.starts_with("@@ "))
}

pub(super) async fn read_file(
    api: &Api,
    repository: &str,
    sha: &str,
    path: &str,
) -> ForgeResult<Option<Vec<u8>>> {
    let what = format!("reading {path} at {sha} in {repository}");
    let endpoint = FileRaw::builder()
        .project(repository)
        .file_path(path)
        .ref_(sha)
        .build()
        .map_err(|e| protocol(&what, &e.to_string()))?;
    match api.call("file_raw", &what, false, api::raw(endpoint)).await {
        Ok(bytes) => Ok(Some(bytes)),
        Err(ForgeError::NotFound { .. }) => Ok(None),
        Err(error) => Err(error),
    }
}

pub(super) async fn list_files(api: &Api, repository: &str, sha: &str) -> ForgeResult<Vec<String>> {
    let what = format!("listing the files at {sha} in {repository}");
    let endpoint = RepositoryTree {
        project: NameOrId::from(repository),
        sha,
    };
    let entries: Vec<TreeEntry> = api
        .call(
            "repository_tree",
            &what,
            false,
            api::paged(endpoint, Pagination::All),
        )
        .await?;
    let mut files: Vec<String> = entries
        .into_iter()
        .filter(|entry| entry.kind == "blob")
        .map(|entry| entry.path)
        .collect();
    files.sort();
    files.dedup();
    Ok(files)
}

pub(super) async fn blame(
    api: &Api,
    repository: &str,
    sha: &str,
    path: &str,
) -> ForgeResult<Blame> {
    let what = format!("blaming {path} at {sha} in {repository}");
    let endpoint = FileBlame {
        project: NameOrId::from(repository),
        path,
        sha,
    };
    let ranges: Vec<BlameRange> = api.call("file_blame", &what, false, endpoint).await?;
    let mut blame = Blame::default();
    let mut index: HashMap<String, usize> = HashMap::new();
    for range in ranges {
        let commit = range.commit;
        let at = match index.get(&commit.id) {
            Some(at) => *at,
            None => {
                index.insert(commit.id.clone(), blame.commits.len());
                blame.commits.push(CommitInfo {
                    summary: commit
                        .message
                        .lines()
                        .next()
                        .unwrap_or("")
                        .trim()
                        .to_owned(),
                    sha: commit.id,
                    author: commit.author_name,
                    email: commit.author_email,
                    date: commit.authored_date,
                    committed: commit.committed_date.unwrap_or(commit.authored_date),
                    // GitLab blames its own complete history.
                    shallow_boundary: false,
                });
                blame.commits.len() - 1
            }
        };
        blame
            .lines
            .extend(std::iter::repeat_n(at, range.lines.len()));
    }
    Ok(blame)
}

pub(super) async fn reports(
    api: &Api,
    repository: &str,
    sha: &str,
    globs: &ReportGlobs,
    limits: &ArtifactLimits,
) -> ForgeResult<Reports> {
    let what = format!("finding the pipeline of {sha} in {repository}");
    let endpoint = Pipelines::builder()
        .project(repository)
        .sha(sha)
        .order_by(PipelineOrderBy::Id)
        .sort(SortOrder::Descending)
        .build()
        .map_err(|e| protocol(&what, &e.to_string()))?;
    let pipelines: Vec<Pipeline> = api
        .call(
            "pipelines",
            &what,
            false,
            api::paged(endpoint, Pagination::Limit(1)),
        )
        .await?;
    let mut reports = Reports::default();
    let Some(pipeline) = pipelines.into_iter().next() else {
        return Ok(reports);
    };
    reports.ci_seen = true;

    let what = format!(
        "listing the jobs of pipeline {} in {repository}",
        pipeline.id
    );
    let endpoint = PipelineJobs::builder()
        .project(repository)
        .pipeline(pipeline.id)
        .include_retried(false)
        .build()
        .map_err(|e| protocol(&what, &e.to_string()))?;
    let mut jobs: Vec<Job> = api
        .call(
            "pipeline_jobs",
            &what,
            false,
            api::paged(endpoint, Pagination::All),
        )
        .await?;
    jobs.sort_by_key(|job| job.id);
    for job in &jobs {
        job_reports(api, repository, job, globs, limits, &mut reports).await?;
    }
    Ok(reports)
}

/// The reports in one job's artifacts archive, or why there are none to take.
async fn job_reports(
    api: &Api,
    repository: &str,
    job: &Job,
    globs: &ReportGlobs,
    limits: &ArtifactLimits,
    reports: &mut Reports,
) -> ForgeResult<()> {
    let label = format!("job '{}' (#{})", job.name, job.id);
    let Some(archive) = job.artifacts.iter().find(|a| a.file_type == "archive") else {
        for report in job
            .artifacts
            .iter()
            .filter(|a| REPORT_TYPES.contains(&a.file_type.as_str()))
        {
            reports.skipped.push(format!(
                "{label}: its {} report{} is kept apart from the artifacts archive and the \
                 API does not serve it; list it in artifacts:paths too",
                report.file_type,
                report
                    .filename
                    .as_deref()
                    .map(|f| format!(" ({f})"))
                    .unwrap_or_default(),
            ));
        }
        return Ok(());
    };
    if let Some(size) = archive.size
        && size > limits.max_archive_bytes
    {
        reports.skipped.push(format!(
            "{label}: artifacts archive is {size} bytes, over the limit of {}",
            limits.max_archive_bytes
        ));
        return Ok(());
    }
    let what = format!("downloading the artifacts of {label} in {repository}");
    let path = format!(
        "projects/{}/jobs/{}/artifacts",
        NameOrId::from(repository),
        job.id
    );
    let bytes = match api
        .download("job_artifacts", &what, &path, limits.max_archive_bytes)
        .await
    {
        Ok(Downloaded::Complete(bytes)) => bytes,
        Ok(Downloaded::TooLarge { at_least }) => {
            reports.skipped.push(format!(
                "{label}: artifacts archive is at least {at_least} bytes, over the limit of {}",
                limits.max_archive_bytes
            ));
            return Ok(());
        }
        Err(ForgeError::NotFound { .. }) => {
            let reason = match job.artifacts_expire_at {
                Some(at) if at <= Utc::now() => format!("expired at {}", at.to_rfc3339()),
                _ => "no longer available".to_owned(),
            };
            reports
                .skipped
                .push(format!("{label}: artifacts archive {reason}"));
            return Ok(());
        }
        Err(ForgeError::Rejected {
            status, message, ..
        }) => {
            reports.skipped.push(format!(
                "{label}: GitLab refused the artifacts archive ({status}): {message}"
            ));
            return Ok(());
        }
        Err(error) => return Err(error),
    };
    if let Err(error) = extract_for(reports, &job.name, bytes, globs, limits).await {
        reports.skipped.push(format!("{label}: {error}"));
    }
    Ok(())
}
