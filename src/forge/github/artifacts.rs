//! Scanner reports from GitHub Actions: the completed workflow runs of a commit, their
//! artifacts, each downloaded (GitHub answers with a redirect to a signed storage URL, which
//! is followed without the `Authorization` header) and read by [`crate::forge::artifacts`]'s
//! safe extraction.
//!
//! A download is cut off at `max_archive_bytes` while it streams, so an oversized artifact
//! costs at most that much memory whatever its listed size said. Fork pull requests need
//! nothing special: their runs live in the base repository, under the head commit. Nothing
//! from an artifact is ever executed.

use serde::Deserialize;

use super::client::{Call, Http, encode, repo_path};
use crate::forge::artifacts::extract_for;
use crate::forge::{ArtifactLimits, ForgeError, ForgeResult, ReportGlobs, Reports};

/// The most workflow runs, and artifacts per run, posture looks at for one commit.
const MAX_RUNS: usize = 1000;
const MAX_ARTIFACTS_PER_RUN: usize = 500;

#[derive(Debug, Deserialize)]
struct Run {
    id: u64,
    #[serde(default)]
    name: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Artifact {
    id: u64,
    name: String,
    size_in_bytes: u64,
    #[serde(default)]
    expired: bool,
}

pub(crate) async fn reports(
    http: &Http<'_>,
    repository: &str,
    sha: &str,
    globs: &ReportGlobs,
    limits: &ArtifactLimits,
) -> ForgeResult<Reports> {
    let repo = repo_path(repository)?;
    let what = format!("listing the workflow runs of {sha} in {repository}");
    let runs: Vec<Run> = http
        .paged(
            format!(
                "{repo}/actions/runs?head_sha={}&status=completed&per_page=100",
                encode(sha)
            ),
            "list_workflow_runs",
            &what,
            |mut page| page.get_mut("workflow_runs").map(serde_json::Value::take),
            MAX_RUNS,
        )
        .await?;
    let mut reports = Reports {
        ci_seen: !runs.is_empty(),
        ..Reports::default()
    };
    for run in runs {
        let run_name = run.name.as_deref().unwrap_or("workflow run");
        let what = format!(
            "listing the artifacts of run {} ({run_name}) in {repository}",
            run.id
        );
        let artifacts: Vec<Artifact> = http
            .paged(
                format!("{repo}/actions/runs/{}/artifacts?per_page=100", run.id),
                "list_run_artifacts",
                &what,
                |mut page| page.get_mut("artifacts").map(serde_json::Value::take),
                MAX_ARTIFACTS_PER_RUN,
            )
            .await?;
        for artifact in artifacts {
            let label = format!(
                "artifact '{}' of run {} ({run_name})",
                artifact.name, run.id
            );
            if artifact.expired {
                reports.skipped.push(format!("{label}: expired"));
                continue;
            }
            if artifact.size_in_bytes > limits.max_archive_bytes {
                reports.skipped.push(format!(
                    "{label}: {} bytes, over the limit of {}",
                    artifact.size_in_bytes, limits.max_archive_bytes
                ));
                continue;
            }
            let what = format!("downloading {label} in {repository}");
            let mut call = Call::get(
                format!("{repo}/actions/artifacts/{}/zip", artifact.id),
                "download_artifact",
                &what,
            );
            call.limit = limits.max_archive_bytes;
            call.timeout = Some(http.shared.download_timeout);
            let answer = match http.call(call).await {
                Ok(answer) => answer,
                // Deleted or expired since it was listed.
                Err(ForgeError::NotFound { .. } | ForgeError::Rejected { status: 410, .. }) => {
                    reports
                        .skipped
                        .push(format!("{label}: gone before it could be downloaded"));
                    continue;
                }
                Err(error) => return Err(error),
            };
            if answer.truncated {
                reports.skipped.push(format!(
                    "{label}: the download passed the limit of {} bytes",
                    limits.max_archive_bytes
                ));
                continue;
            }
            if let Err(error) =
                extract_for(&mut reports, &artifact.name, answer.body, globs, limits).await
            {
                reports.skipped.push(format!("{label}: {error}"));
            }
        }
    }
    Ok(reports)
}
