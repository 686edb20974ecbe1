//! `POST /api/v1/scans`: scanner reports without a forge (CI-only users, backfilling), as
//! DefectDojo's "import scan". A multipart form:
//!
//! | field | |
//! |---|---|
//! | `repository` | `owner/name` (GitLab: `group/…/project`) |
//! | `forge` | `github` (default) or `gitlab` |
//! | `commit` | the scanned commit, 40 hex digits |
//! | `branch` | the scanned branch |
//! | `default_branch` | `true` when this is a scan of the default branch |
//! | `environment` | `production` or `staging`: a scan of what a deployment runs (an SBOM or image scan of it) |
//! | `observed_at` | RFC 3339, not in the future; default now |
//! | `report` | one part per report, any format posture reads |
//!
//! A default-branch scan becomes the project's baseline snapshot and writes its events; a
//! scan of another branch is stored and compared with the default branch. The components
//! the reports list (SBOMs, scanners that inventory packages) become the default branch's
//! inventory, or with `environment` the deployment's: what runs there, compared with what
//! the branch declares (`/drift`), and a "deployed to production" factor in the risk of the
//! findings whose package it runs. The answer is
//! 201 `{snapshot, findings, new, reintroduced, fixed}`. Anything refused (a report posture
//! cannot read, a time in the future, a scan older than the latest) is 422 naming the
//! problem, and nothing is stored.

use axum::Extension;
use axum::Json;
use axum::extract::multipart::{Field, MultipartError};
use axum::extract::{Multipart, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::Serialize;
use tracing::info;

use super::access::{Caller, Scope};
use super::{ApiError, ApiState};
use crate::analyze;
use crate::inventory::Target;
use crate::model::{Intel, ReviewedFinding, Status};
use crate::review::{ingest_bytes, review_upload};
use crate::store::{Forge, Replace, ScanCounts, StoreError};

/// The longest text field accepted (a repository path, a branch name).
const MAX_FIELD_BYTES: usize = 1024;

/// The answer to an accepted scan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Stored {
    /// The snapshot's id; none for a deployment's scan, which is not a commit's snapshot.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub snapshot: Option<i64>,
    #[serde(flatten)]
    pub counts: ScanCounts,
    /// The deployment this scan is of, when it is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub environment: Option<Target>,
    /// How many components the reports listed (the inventory recorded).
    pub components: usize,
}

/// The form, once read.
struct Form {
    repository: String,
    forge: Forge,
    commit: String,
    branch: String,
    default_branch: bool,
    environment: Option<Target>,
    observed_at: DateTime<Utc>,
    reports: Vec<(String, Vec<u8>)>,
}

pub async fn upload(
    State(state): State<ApiState>,
    Extension(caller): Extension<Caller>,
    multipart: Multipart,
) -> Result<(StatusCode, Json<Stored>), ApiError> {
    let mut form = read_form(multipart, Utc::now()).await?;
    caller.reach_repository(&form.repository)?;
    caller.require(Scope::Upload)?;

    // Parsing is CPU work and findings take several times their report's bytes: it runs on
    // the blocking pool under the process's memory budget, as a review job's does.
    let report_bytes = form
        .reports
        .iter()
        .map(|(_, bytes)| bytes.len() as u64)
        .sum();
    let memory = state
        .memory
        .reserve(report_bytes)
        .await
        .map_err(|error| ApiError::too_large(error.to_string()))?;
    let reports = std::mem::take(&mut form.reports);
    let secrets = state.secrets.clone();
    let (snapshot, refused) = tokio::task::spawn_blocking(move || {
        let (mut refused, mut warnings) = (Vec::new(), Vec::new());
        let snapshot = ingest_bytes(
            reports
                .iter()
                .map(|(name, bytes)| (name.as_str(), bytes.as_slice())),
            &secrets,
            &mut refused,
            &mut warnings,
        );
        (snapshot, refused)
    })
    .await
    .map_err(|e| ApiError::internal(&e))?;
    if !refused.is_empty() {
        let problems: Vec<String> = refused.iter().map(ToString::to_string).collect();
        return Err(ApiError::unprocessable(format!(
            "report refused, nothing stored: {}",
            problems.join("; ")
        )));
    }
    let tools = snapshot.tools.clone();
    let components = snapshot.components.clone();
    if form.environment.is_some() && components.is_empty() {
        return Err(ApiError::unprocessable(
            "a deployment scan (`environment`) needs a report that lists what runs: an SBOM \
             (CycloneDX, SPDX) or an image or filesystem scan (Trivy, Grype, osv-scanner); \
             nothing stored",
        ));
    }
    let mut deployed = state.store.deployed(&form.repository).await?;
    if let Some(target) = form.environment {
        deployed.add(target, &components);
    }
    let intel = state
        .store
        .intel_for(&analyze::cve_ids(&snapshot))
        .await
        .unwrap_or_else(|error| {
            tracing::warn!("exploitation data unavailable, ranked without it: {error}");
            Intel::default()
        });
    let commit = form.commit.clone();
    let today = form.observed_at.date_naive();
    let review = tokio::task::spawn_blocking(move || {
        review_upload(&commit, snapshot, &intel, &deployed, today)
    })
    .await
    .map_err(|e| ApiError::internal(&e))?;
    drop(memory);

    let store = &state.store;
    let project = store
        .upsert_project(
            form.forge,
            &form.repository,
            form.default_branch.then_some(form.branch.as_str()),
        )
        .await?;
    let refused = |error: StoreError| match error {
        StoreError::OutOfOrder(_) | StoreError::StaleInventory { .. } => {
            ApiError::unprocessable(format!("{error}; nothing stored"))
        }
        other => ApiError::from(other),
    };
    let (snapshot, counts) = match form.environment {
        // A deployment's scan says what runs there, and is kept as that only. Its findings
        // are ranked for the answer but never stored as the commit's snapshot: that stands
        // for the repository's own scan of the commit, which reviews compare against.
        Some(target) => {
            store
                .replace_components(
                    project,
                    target,
                    &form.commit,
                    form.observed_at,
                    &components,
                    Replace::Manifests,
                )
                .await
                .map_err(refused)?;
            let findings = review
                .findings
                .iter()
                .filter(|f| f.status != Status::Fixed)
                .count();
            let counts = ScanCounts {
                findings: findings as u64,
                ..ScanCounts::default()
            };
            (None, counts)
        }
        None => {
            let baseline_at = form.default_branch.then_some(form.observed_at);
            let compared = if form.default_branch {
                None
            } else {
                let present: Vec<&ReviewedFinding> = review
                    .findings
                    .iter()
                    .filter(|f| f.status != Status::Fixed)
                    .collect();
                Some(store.compare_with_branch(project, &present, &tools).await?)
            };
            let (snapshot, counts) = store
                .record_scan(project, &form.commit, baseline_at, &review, &tools)
                .await
                .map_err(refused)?;
            // A default-branch scan whose reports list no component keeps the inventory it
            // had; one that lists some replaces the rows of what it lists.
            if form.default_branch && !components.is_empty() {
                store
                    .replace_components(
                        project,
                        Target::DefaultBranch,
                        &form.commit,
                        form.observed_at,
                        &components,
                        Replace::Manifests,
                    )
                    .await
                    .map_err(refused)?;
            }
            (Some(snapshot), counts.or(compared).unwrap_or_default())
        }
    };
    info!(
        repository = %form.repository,
        commit = %form.commit,
        branch = %form.branch,
        default_branch = form.default_branch,
        findings = counts.findings,
        new = counts.new,
        fixed = counts.fixed,
        environment = form.environment.map(Target::as_str),
        components = components.len(),
        "scan uploaded"
    );
    Ok((
        StatusCode::CREATED,
        Json(Stored {
            snapshot,
            counts,
            environment: form.environment,
            components: components.len(),
        }),
    ))
}

/// Reads and checks the form: 400 for a missing or malformed field, 413 over the size
/// limit, 422 for an `observed_at` in the future.
async fn read_form(mut multipart: Multipart, now: DateTime<Utc>) -> Result<Form, ApiError> {
    let mut repository = None;
    let mut forge = Forge::GitHub;
    let mut commit = None;
    let mut branch = None;
    let mut default_branch = false;
    let mut environment = None;
    let mut observed_at = None;
    let mut reports = Vec::new();
    while let Some(field) = multipart.next_field().await.map_err(multipart_error)? {
        let name = field.name().unwrap_or_default().to_owned();
        match name.as_str() {
            "report" => {
                let file = field
                    .file_name()
                    .map(str::to_owned)
                    .unwrap_or_else(|| format!("report-{}", reports.len() + 1));
                let bytes = field.bytes().await.map_err(multipart_error)?;
                reports.push((file, bytes.to_vec()));
            }
            "repository" => repository = Some(parse_repository(&text(field).await?)?),
            "forge" => {
                forge = match text(field).await?.as_str() {
                    "github" => Forge::GitHub,
                    "gitlab" => Forge::GitLab,
                    other => {
                        return Err(ApiError::bad_request(format!(
                            "`forge`: unknown forge `{other}` (expected github or gitlab)"
                        )));
                    }
                }
            }
            "commit" => {
                let sha = text(field).await?.to_ascii_lowercase();
                if sha.len() != 40 || !sha.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return Err(ApiError::bad_request(
                        "`commit`: expected a full commit id, 40 hex digits",
                    ));
                }
                commit = Some(sha);
            }
            "branch" => branch = Some(text(field).await?),
            "default_branch" => {
                default_branch = match text(field).await?.as_str() {
                    "true" => true,
                    "false" => false,
                    other => {
                        return Err(ApiError::bad_request(format!(
                            "`default_branch`: expected true or false, not `{other}`"
                        )));
                    }
                }
            }
            "environment" => {
                environment = Some(
                    Target::deployment(&text(field).await?)
                        .map_err(|e| ApiError::bad_request(format!("`environment`: {e}")))?,
                );
            }
            "observed_at" => {
                let value = text(field).await?;
                let time = DateTime::parse_from_rfc3339(&value)
                    .map_err(|_| {
                        ApiError::bad_request(format!(
                            "`observed_at`: `{value}` is not an RFC 3339 time"
                        ))
                    })?
                    .with_timezone(&Utc);
                if time > now {
                    return Err(ApiError::unprocessable(format!(
                        "`observed_at` {value} is in the future; nothing stored"
                    )));
                }
                observed_at = Some(time);
            }
            other => {
                return Err(ApiError::bad_request(format!(
                    "unknown field `{other}` (expected repository, forge, commit, branch, default_branch, environment, observed_at, report)"
                )));
            }
        }
    }
    let missing = |name: &str| ApiError::bad_request(format!("`{name}` is required"));
    if reports.is_empty() {
        return Err(ApiError::bad_request(
            "at least one `report` file part is required",
        ));
    }
    if default_branch && environment.is_some() {
        return Err(ApiError::bad_request(
            "a scan is of the default branch or of a deployment (`environment`), not both",
        ));
    }
    Ok(Form {
        repository: repository.ok_or_else(|| missing("repository"))?,
        forge,
        commit: commit.ok_or_else(|| missing("commit"))?,
        branch: branch.ok_or_else(|| missing("branch"))?,
        default_branch,
        environment,
        observed_at: observed_at.unwrap_or(now),
        reports,
    })
}

/// A short text field, trimmed.
async fn text(field: Field<'_>) -> Result<String, ApiError> {
    let name = field.name().unwrap_or_default().to_owned();
    let bytes = field.bytes().await.map_err(multipart_error)?;
    if bytes.len() > MAX_FIELD_BYTES {
        return Err(ApiError::bad_request(format!(
            "`{name}` is longer than {MAX_FIELD_BYTES} bytes"
        )));
    }
    let value = String::from_utf8(bytes.to_vec())
        .map_err(|_| ApiError::bad_request(format!("`{name}` is not UTF-8")))?;
    let value = value.trim().to_owned();
    if value.is_empty() {
        return Err(ApiError::bad_request(format!("`{name}` is empty")));
    }
    Ok(value)
}

/// `owner/name` or `group/sub/project`: at least two non-empty segments of letters, digits,
/// `.`, `_` and `-`, none of them `.` or `..`.
fn parse_repository(text: &str) -> Result<String, ApiError> {
    let segments: Vec<&str> = text.split('/').collect();
    let valid = segments.len() >= 2
        && segments.iter().all(|s| {
            !s.is_empty()
                && *s != "."
                && *s != ".."
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
        });
    if valid {
        Ok(text.to_owned())
    } else {
        Err(ApiError::bad_request(format!(
            "`repository`: `{text}` is not owner/name"
        )))
    }
}

/// A body over the limit is 413; anything else wrong with the form is 400.
fn multipart_error(error: MultipartError) -> ApiError {
    if error.status() == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::too_large(format!(
            "the upload is larger than {} MiB",
            super::MAX_UPLOAD_BYTES / (1024 * 1024)
        ))
    } else {
        ApiError::bad_request(format!("malformed multipart form: {}", error.body_text()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repositories_are_owner_and_name_without_traversal() {
        assert_eq!(parse_repository("acme/shop").unwrap(), "acme/shop");
        assert!(parse_repository("group/sub/project").is_ok());
        for bad in [
            "shop",
            "acme/",
            "/shop",
            "acme/../etc",
            "acme/sh op",
            "acme//x",
        ] {
            assert!(parse_repository(bad).is_err(), "{bad}");
        }
    }
}
