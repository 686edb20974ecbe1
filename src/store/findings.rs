//! Installations, projects, the findings present at each reviewed commit, each finding's
//! history across commits, and the review comments posted for it.
//!
//! History follows the default branch: any review records a finding present at its head
//! (first seen, last seen, introducing commit), but only a baseline — a review of the
//! default branch — declares a finding fixed (open before, absent now) or reopens one.

use std::collections::{BTreeSet, HashSet};

use chrono::{DateTime, Utc};

use crate::model::{FindingId, Review, ReviewedFinding, Severity, Status};

use super::history::BranchDb;
use super::queue::{from_json, to_json};
use super::{
    BeginWrite, Forge, HistoryRow, HistoryStatus, ProjectId, ScanCounts, Store, StoreError,
    UnknownVariant, now, with_pool,
};

const UPSERT_HISTORY: &str = "INSERT INTO finding_history \
     (project_id, finding_id, status, severity, first_seen_commit, first_seen_at, \
      last_seen_commit, last_seen_at, introduced_commit) \
     VALUES ($1, $2, 'open', $3, $4, $5, $4, $5, $6) \
     ON CONFLICT (project_id, finding_id) DO UPDATE SET \
       severity = excluded.severity, \
       last_seen_commit = excluded.last_seen_commit, \
       last_seen_at = excluded.last_seen_at, \
       introduced_commit = COALESCE(excluded.introduced_commit, finding_history.introduced_commit), \
       status = CASE WHEN $7 THEN 'open' ELSE finding_history.status END, \
       fixed_commit = CASE WHEN $7 THEN NULL ELSE finding_history.fixed_commit END, \
       fixed_at = CASE WHEN $7 THEN NULL ELSE finding_history.fixed_at END";

/// A history row as stored.
#[derive(sqlx::FromRow)]
struct StoredHistory {
    finding_id: String,
    #[sqlx(try_from = "String")]
    status: HistoryStatus,
    severity: String,
    first_seen_commit: String,
    first_seen_at: chrono::DateTime<chrono::Utc>,
    last_seen_commit: String,
    last_seen_at: chrono::DateTime<chrono::Utc>,
    fixed_commit: Option<String>,
    fixed_at: Option<chrono::DateTime<chrono::Utc>>,
    introduced_commit: Option<String>,
}

impl TryFrom<StoredHistory> for HistoryRow {
    type Error = StoreError;

    fn try_from(row: StoredHistory) -> Result<HistoryRow, StoreError> {
        let severity = row
            .severity
            .parse::<Severity>()
            .map_err(|_| UnknownVariant {
                what: "severity",
                value: row.severity.clone(),
            })?;
        Ok(HistoryRow {
            finding_id: FindingId(row.finding_id),
            status: row.status,
            severity,
            first_seen_commit: row.first_seen_commit,
            first_seen_at: row.first_seen_at,
            last_seen_commit: row.last_seen_commit,
            last_seen_at: row.last_seen_at,
            fixed_commit: row.fixed_commit,
            fixed_at: row.fixed_at,
            introduced_commit: row.introduced_commit,
        })
    }
}

/// The org a repository belongs to: the GitHub owner, or the GitLab top-level group (the
/// first segment of the project's path), lower-cased as both forges compare them.
pub fn org_of(repository: &str) -> String {
    repository
        .split('/')
        .next()
        .unwrap_or(repository)
        .to_lowercase()
}

impl Store {
    /// Records (or renames the account of) a GitHub App installation or GitLab group hook.
    pub async fn upsert_installation(
        &self,
        forge: Forge,
        installation_id: i64,
        account: &str,
    ) -> Result<(), StoreError> {
        let now = now();
        with_pool!(self, |pool| {
            sqlx::query(
                "INSERT INTO installations (forge, installation_id, account, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $4) \
                 ON CONFLICT (forge, installation_id) DO UPDATE SET \
                   account = excluded.account, updated_at = excluded.updated_at",
            )
            .bind(forge.as_str())
            .bind(installation_id)
            .bind(account)
            .bind(now)
            .execute(pool)
            .await
            .map(drop)
        })?;
        Ok(())
    }

    /// The project of a repository, created on first sight. A known default branch is kept
    /// when `default_branch` is `None`.
    pub async fn upsert_project(
        &self,
        forge: Forge,
        repository: &str,
        default_branch: Option<&str>,
    ) -> Result<ProjectId, StoreError> {
        let now = now();
        let (id,): (ProjectId,) = with_pool!(self, |pool| {
            sqlx::query_as(
                "INSERT INTO projects (forge, repository, org, default_branch, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $5) \
                 ON CONFLICT (forge, repository) DO UPDATE SET \
                   org = excluded.org, \
                   default_branch = COALESCE(excluded.default_branch, projects.default_branch), \
                   updated_at = excluded.updated_at \
                 RETURNING id",
            )
            .bind(forge.as_str())
            .bind(repository)
            .bind(org_of(repository))
            .bind(default_branch)
            .bind(now)
            .fetch_one(pool)
            .await
        })?;
        Ok(id)
    }

    /// The project of a repository, if posture has seen it.
    pub async fn find_project(
        &self,
        forge: Forge,
        repository: &str,
    ) -> Result<Option<ProjectId>, StoreError> {
        let row: Option<(ProjectId,)> = with_pool!(self, |pool| {
            sqlx::query_as("SELECT id FROM projects WHERE forge = $1 AND repository = $2")
                .bind(forge.as_str())
                .bind(repository)
                .fetch_optional(pool)
                .await
        })?;
        Ok(row.map(|(id,)| id))
    }

    /// Every project posture has seen: forge and repository, by id.
    pub async fn projects(&self) -> Result<Vec<(ProjectId, Forge, String)>, StoreError> {
        let rows: Vec<(ProjectId, String, String)> = with_pool!(self, |pool| {
            sqlx::query_as("SELECT id, forge, repository FROM projects ORDER BY id")
                .fetch_all(pool)
                .await
        })?;
        rows.into_iter()
            .map(|(id, forge, repository)| Ok((id, Forge::try_from(forge)?, repository)))
            .collect()
    }

    /// Stores the findings present at `commit` and the tools whose reports were read there,
    /// and updates the findings' history; with `is_baseline` (a review of the default
    /// branch) also the default branch's findings and their events, as of now. See
    /// [`Store::record_scan`].
    pub async fn record_review(
        &self,
        project: ProjectId,
        commit: &str,
        is_baseline: bool,
        review: &Review,
        tools: &BTreeSet<String>,
    ) -> Result<(), StoreError> {
        self.record_scan(project, commit, is_baseline.then(now), review, tools)
            .await
            .map(drop)
    }

    /// Stores the findings present at `commit` (all but those the review calls fixed) and
    /// the tools whose reports were read there, and updates the findings' history.
    ///
    /// A commit scanned before keeps the findings of the tools this scan did not run (CI
    /// jobs may upload one tool's report each); those of the tools it ran are replaced.
    ///
    /// With `baseline_at` (a scan of the default branch, observed then), in the same
    /// transaction: open findings absent at `commit` become fixed there and present ones
    /// that were fixed reopen, and the default branch's findings and events are updated
    /// (the counts returned). A scan observed before the latest one is refused
    /// ([`StoreError::OutOfOrder`]) and nothing is written. Returns the snapshot's id.
    pub async fn record_scan(
        &self,
        project: ProjectId,
        commit: &str,
        baseline_at: Option<DateTime<Utc>>,
        review: &Review,
        tools: &BTreeSet<String>,
    ) -> Result<(i64, Option<ScanCounts>), StoreError> {
        let present: Vec<&ReviewedFinding> = review
            .findings
            .iter()
            // A not_scanned finding is at head when its tools ran there (they were missing
            // at base); the others are the base's, from tools that did not run at head.
            .filter(|finding| match finding.status {
                Status::Fixed => false,
                Status::NotScanned => finding.finding.tools.iter().all(|t| tools.contains(t)),
                _ => true,
            })
            .collect();
        let is_baseline = baseline_at.is_some();
        let now = now();
        with_pool!(self, |pool| {
            let mut tx = pool.begin_write().await?;
            let counts = match baseline_at {
                Some(at) => Some(
                    BranchDb::apply_baseline(&mut tx, project, commit, at, &present, tools).await?,
                ),
                None => None,
            };
            let earlier: Option<(Vec<u8>, Option<Vec<u8>>)> = sqlx::query_as(
                "SELECT findings, tools FROM snapshots WHERE project_id = $1 AND commit_sha = $2",
            )
            .bind(project)
            .bind(commit)
            .fetch_optional(&mut *tx)
            .await?;
            let (kept, all_tools) = match earlier {
                Some((findings, Some(earlier_tools))) if !tools.is_empty() => {
                    let findings: Vec<ReviewedFinding> = from_json("findings", &findings)?;
                    let earlier_tools: BTreeSet<String> = from_json("tools", &earlier_tools)?;
                    let kept: Vec<ReviewedFinding> = findings
                        .into_iter()
                        .filter(|f| !f.finding.tools.iter().any(|t| tools.contains(t)))
                        .filter(|f| !present.iter().any(|p| p.id == f.id))
                        .collect();
                    (kept, earlier_tools.union(tools).cloned().collect())
                }
                _ => (Vec::new(), tools.clone()),
            };
            let stored: Vec<&ReviewedFinding> = present.iter().copied().chain(&kept).collect();
            let (snapshot,): (i64,) = sqlx::query_as(
                "INSERT INTO snapshots (project_id, commit_sha, is_baseline, findings, tools, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $6) \
                 ON CONFLICT (project_id, commit_sha) DO UPDATE SET \
                   is_baseline = (snapshots.is_baseline OR excluded.is_baseline), \
                   findings = excluded.findings, tools = excluded.tools, \
                   updated_at = excluded.updated_at \
                 RETURNING id",
            )
            .bind(project)
            .bind(commit)
            .bind(is_baseline)
            .bind(to_json("findings", &stored)?)
            .bind(to_json("tools", &all_tools)?)
            .bind(now)
            .fetch_one(&mut *tx)
            .await?;
            for finding in &present {
                sqlx::query(UPSERT_HISTORY)
                    .bind(project)
                    .bind(&finding.id.0)
                    .bind(finding.finding.severity.as_str())
                    .bind(commit)
                    .bind(now)
                    .bind(finding.introduced_by.as_ref().map(|by| by.commit.as_str()))
                    .bind(is_baseline)
                    .execute(&mut *tx)
                    .await?;
            }
            if is_baseline {
                let open: Vec<(String,)> = sqlx::query_as(
                    "SELECT finding_id FROM finding_history WHERE project_id = $1 AND status = 'open'",
                )
                .bind(project)
                .fetch_all(&mut *tx)
                .await?;
                let seen: HashSet<&str> =
                    stored.iter().map(|finding| finding.id.0.as_str()).collect();
                for (finding_id,) in open {
                    if seen.contains(finding_id.as_str()) {
                        continue;
                    }
                    sqlx::query(
                        "UPDATE finding_history SET status = 'fixed', fixed_commit = $1, fixed_at = $2 \
                         WHERE project_id = $3 AND finding_id = $4",
                    )
                    .bind(commit)
                    .bind(now)
                    .bind(project)
                    .bind(&finding_id)
                    .execute(&mut *tx)
                    .await?;
                }
            }
            tx.commit().await?;
            Ok::<_, StoreError>((snapshot, counts))
        })
    }

    /// The findings recorded at `commit`, if it was reviewed.
    pub async fn snapshot(
        &self,
        project: ProjectId,
        commit: &str,
    ) -> Result<Option<Vec<ReviewedFinding>>, StoreError> {
        let row: Option<(Vec<u8>,)> = with_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT findings FROM snapshots WHERE project_id = $1 AND commit_sha = $2",
            )
            .bind(project)
            .bind(commit)
            .fetch_optional(pool)
            .await
        })?;
        row.map(|(findings,)| from_json("findings", &findings))
            .transpose()
    }

    /// The tools whose reports were read at `commit`, when it was reviewed and the review
    /// recorded them (snapshots from before posture kept them say `None`).
    pub async fn snapshot_tools(
        &self,
        project: ProjectId,
        commit: &str,
    ) -> Result<Option<BTreeSet<String>>, StoreError> {
        let row: Option<(Option<Vec<u8>>,)> = with_pool!(self, |pool| {
            sqlx::query_as("SELECT tools FROM snapshots WHERE project_id = $1 AND commit_sha = $2")
                .bind(project)
                .bind(commit)
                .fetch_optional(pool)
                .await
        })?;
        row.and_then(|(tools,)| tools)
            .map(|tools| from_json("tools", &tools))
            .transpose()
    }

    /// Every finding the project has had, oldest first.
    pub async fn finding_history(&self, project: ProjectId) -> Result<Vec<HistoryRow>, StoreError> {
        let rows: Vec<StoredHistory> = with_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT finding_id, status, severity, first_seen_commit, first_seen_at, \
                 last_seen_commit, last_seen_at, fixed_commit, fixed_at, introduced_commit \
                 FROM finding_history WHERE project_id = $1 ORDER BY first_seen_at, finding_id",
            )
            .bind(project)
            .fetch_all(pool)
            .await
        })?;
        rows.into_iter().map(HistoryRow::try_from).collect()
    }

    /// Remembers the forge's id of the comment posted for `finding` on a pull request,
    /// replacing an earlier one.
    pub async fn record_comment(
        &self,
        project: ProjectId,
        pull_request: i64,
        finding: &FindingId,
        forge_comment_id: &str,
    ) -> Result<(), StoreError> {
        let now = now();
        with_pool!(self, |pool| {
            sqlx::query(
                "INSERT INTO comments (project_id, pull_request, finding_id, forge_comment_id, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $5) \
                 ON CONFLICT (project_id, pull_request, finding_id) DO UPDATE SET \
                   forge_comment_id = excluded.forge_comment_id, updated_at = excluded.updated_at",
            )
            .bind(project)
            .bind(pull_request)
            .bind(&finding.0)
            .bind(forge_comment_id)
            .bind(now)
            .execute(pool)
            .await
            .map(drop)
        })?;
        Ok(())
    }

    /// The comments posted on a pull request: finding id and the forge's comment id, by
    /// finding id.
    pub async fn comments(
        &self,
        project: ProjectId,
        pull_request: i64,
    ) -> Result<Vec<(FindingId, String)>, StoreError> {
        let rows: Vec<(String, String)> = with_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT finding_id, forge_comment_id FROM comments \
                 WHERE project_id = $1 AND pull_request = $2 ORDER BY finding_id",
            )
            .bind(project)
            .bind(pull_request)
            .fetch_all(pool)
            .await
        })?;
        Ok(rows
            .into_iter()
            .map(|(finding, comment)| (FindingId(finding), comment))
            .collect())
    }
}
