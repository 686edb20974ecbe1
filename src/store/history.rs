//! The default branch's findings and their event log: what a default-branch scan changes
//! (`detected`, `reintroduced`, `fixed`, `severity_changed`), written in the transaction that
//! records the scan, and what org-wide queries read back.
//!
//! `branch_findings` holds one row per finding a project's default branch ever had, present
//! now or fixed since; the events say when each thing happened, so figures for a past date
//! are computed from them ([`crate::history`]).

use std::collections::{BTreeSet, HashMap, HashSet};

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::QueryBuilder;

use crate::history::{FindingHistory, FixTarget, HistoryEvent};
use crate::model::{FindingId, Kind, ReviewedFinding, Severity};

use super::{EventKind, Forge, ProjectId, Store, StoreError, UnknownVariant, with_pool};

/// Rows per multi-row statement: well under SQLite's 32,766 bound parameters.
const BATCH_ROWS: usize = 500;

/// What a scan changed on the default branch, or (for another branch) how it compares with
/// the default branch: counts of findings.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ScanCounts {
    /// Findings in the scan.
    pub findings: u64,
    /// Never seen on the default branch before.
    pub new: u64,
    /// Seen there before, fixed since, back now.
    pub reintroduced: u64,
    /// Present on the default branch, reported by tools this scan ran, and absent from it.
    pub fixed: u64,
}

/// A default-branch scan arrived with an `observed_at` before the project's latest one:
/// events are kept in time order, so history is filled in oldest first.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "observed_at {observed_at} is before the latest default-branch scan of this repository ({latest}); upload older scans first"
)]
pub struct OutOfOrder {
    pub observed_at: DateTime<Utc>,
    pub latest: DateTime<Utc>,
}

/// The state of one finding of the default branch, as the diff of a scan needs it.
#[derive(Debug, Clone, sqlx::FromRow)]
struct BranchState {
    finding_id: String,
    present: bool,
    severity: String,
    tools: String,
}

/// A project's [`BranchState`]s.
const BRANCH_STATE_SQL: &str =
    "SELECT finding_id, present, severity, tools FROM branch_findings WHERE project_id = $1";

/// One event a scan writes.
struct NewEvent {
    finding_id: String,
    kind: EventKind,
    severity: Option<Severity>,
    /// For `severity_changed`: the severity before.
    reason: Option<&'static str>,
}

/// What a scan does to the default branch, computed before anything is written.
#[derive(Default)]
struct BaselinePlan {
    events: Vec<NewEvent>,
    fixed: Vec<String>,
    counts: ScanCounts,
}

/// Compares a scan with the branch's current findings. A finding absent from the scan is
/// fixed only when every tool that reported it ran in this scan: a scan that did not run a
/// tool says nothing about that tool's findings.
fn plan_baseline(
    current: &[BranchState],
    present: &[&ReviewedFinding],
    tools: &BTreeSet<String>,
) -> BaselinePlan {
    let known: HashMap<&str, &BranchState> = current
        .iter()
        .map(|row| (row.finding_id.as_str(), row))
        .collect();
    let mut plan = BaselinePlan {
        counts: ScanCounts {
            findings: present.len() as u64,
            ..ScanCounts::default()
        },
        ..BaselinePlan::default()
    };
    for finding in present {
        let id = finding.id.0.as_str();
        let severity = finding.finding.severity;
        let event = |kind, reason| NewEvent {
            finding_id: id.to_owned(),
            kind,
            severity: Some(severity),
            reason,
        };
        match known.get(id) {
            None => {
                plan.counts.new += 1;
                plan.events.push(event(EventKind::Detected, None));
            }
            Some(row) if !row.present => {
                plan.counts.reintroduced += 1;
                plan.events.push(event(EventKind::Reintroduced, None));
            }
            Some(row) if row.severity != severity.as_str() => {
                let before = row.severity.parse::<Severity>().ok().map(Severity::as_str);
                plan.events.push(event(EventKind::SeverityChanged, before));
            }
            Some(_) => {}
        }
    }
    let seen: HashSet<&str> = present.iter().map(|f| f.id.0.as_str()).collect();
    for row in current
        .iter()
        .filter(|row| row.present && !seen.contains(row.finding_id.as_str()))
    {
        let row_tools: Vec<String> = serde_json::from_str(&row.tools).unwrap_or_default();
        if row_tools.iter().all(|tool| tools.contains(tool)) {
            plan.fixed.push(row.finding_id.clone());
        }
    }
    plan.counts.fixed = plan.fixed.len() as u64;
    for id in &plan.fixed {
        plan.events.push(NewEvent {
            finding_id: id.clone(),
            kind: EventKind::Fixed,
            severity: None,
            reason: None,
        });
    }
    plan
}

/// The columns of `branch_findings` a scan writes for one finding.
struct Columns<'a> {
    finding: &'a ReviewedFinding,
    tools: String,
    advisories: String,
    cwes: String,
}

impl<'a> Columns<'a> {
    fn of(finding: &'a ReviewedFinding) -> Columns<'a> {
        let mut tools = finding.finding.tools.clone();
        tools.sort();
        tools.dedup();
        Columns {
            finding,
            tools: serde_json::Value::from(tools).to_string(),
            advisories: serde_json::Value::from(
                advisories(finding).into_iter().collect::<Vec<_>>(),
            )
            .to_string(),
            cwes: serde_json::Value::from(finding.finding.cwes.clone()).to_string(),
        }
    }
}

/// The advisory ids (CVE, GHSA, …) a finding carries, upper-cased: its advisories' ids and
/// aliases, and for a dependency its rule (the advisory it was reported under).
fn advisories(finding: &ReviewedFinding) -> BTreeSet<String> {
    let f = &finding.finding;
    let rule = f.kind.is_dependency().then_some(f.rule.as_str());
    f.advisories
        .iter()
        .flat_map(|a| a.ids())
        .chain(rule)
        .filter(|id| !id.is_empty())
        .map(str::to_ascii_uppercase)
        .collect()
}

/// A row of `branch_findings` joined with its project and triage, for lists and exports.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct BranchFinding {
    pub repository: String,
    pub finding_id: String,
    #[sqlx(try_from = "String")]
    pub status: BranchStatus,
    pub kind: String,
    pub severity: String,
    pub rule: String,
    pub title: String,
    #[sqlx(try_from = "String")]
    pub tools: JsonList,
    #[sqlx(try_from = "String")]
    pub advisories: JsonList,
    pub path: Option<String>,
    pub line: Option<i64>,
    pub ecosystem: Option<String>,
    pub package: Option<String>,
    pub version: Option<String>,
    pub fix_version: Option<String>,
    pub risk_score: i32,
    pub first_detected_at: DateTime<Utc>,
    pub first_detected_commit: String,
    pub last_seen_at: DateTime<Utc>,
    pub fixed_at: Option<DateTime<Utc>>,
    pub introduced_commit: Option<String>,
    pub introduced_author: Option<String>,
    /// `dismissed`, `accepted` or `pending` when someone triaged it.
    pub triage: Option<String>,
}

/// A list of text kept as a JSON array in a TEXT column (the same on both databases).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct JsonList(pub Vec<String>);

impl TryFrom<String> for JsonList {
    type Error = UnknownVariant;

    fn try_from(value: String) -> Result<Self, UnknownVariant> {
        serde_json::from_str(&value)
            .map(JsonList)
            .map_err(|_| UnknownVariant {
                what: "JSON list",
                value,
            })
    }
}

/// A finding's status on the default branch, as lists show it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum BranchStatus {
    /// Present and not dismissed or accepted.
    Open,
    /// Present, but dismissed or accepted.
    Triaged,
    /// No longer present.
    Fixed,
}

impl TryFrom<String> for BranchStatus {
    type Error = UnknownVariant;

    fn try_from(value: String) -> Result<Self, UnknownVariant> {
        match value.as_str() {
            "open" => Ok(BranchStatus::Open),
            "triaged" => Ok(BranchStatus::Triaged),
            "fixed" => Ok(BranchStatus::Fixed),
            _ => Err(UnknownVariant {
                what: "branch status",
                value,
            }),
        }
    }
}

/// Which findings a list shows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum StatusFilter {
    /// Present and not dismissed or accepted.
    #[default]
    Open,
    Fixed,
    All,
}

/// What selects the findings of a list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FindingQuery {
    pub org: String,
    pub status: StatusFilter,
    pub repository: Option<String>,
    pub severity: Option<Severity>,
    pub kind: Option<Kind>,
    pub tool: Option<String>,
    /// Only these repositories (lower-case full names): what the caller may read. `None`:
    /// every repository of the org.
    pub within: Option<BTreeSet<String>>,
    /// Resume after this (repository, finding id).
    pub after: Option<(String, String)>,
    pub limit: u32,
}

/// The SQL expression of a finding's list status (open, triaged, fixed).
const STATUS_SQL: &str = "CASE WHEN NOT f.present THEN 'fixed' \
     WHEN t.state IN ('dismissed', 'accepted') THEN 'triaged' ELSE 'open' END";

/// The two databases' versions of the baseline writes (the SQL is the same; sqlx needs the
/// concrete types).
pub(super) trait BranchDb: sqlx::Database {
    /// In the scan's transaction: applies a default-branch scan to `branch_findings` and
    /// appends its events at `observed_at`; refuses a scan older than the latest.
    async fn apply_baseline(
        tx: &mut sqlx::Transaction<'_, Self>,
        project: ProjectId,
        commit: &str,
        observed_at: DateTime<Utc>,
        present: &[&ReviewedFinding],
        tools: &BTreeSet<String>,
    ) -> Result<ScanCounts, StoreError>;
}

macro_rules! impl_branch_db {
    ($db:ty) => {
        impl BranchDb for $db {
            async fn apply_baseline(
                tx: &mut sqlx::Transaction<'_, Self>,
                project: ProjectId,
                commit: &str,
                observed_at: DateTime<Utc>,
                present: &[&ReviewedFinding],
                tools: &BTreeSet<String>,
            ) -> Result<ScanCounts, StoreError> {
                let latest: Option<(Option<DateTime<Utc>>,)> =
                    sqlx::query_as("SELECT baseline_at FROM projects WHERE id = $1")
                        .bind(project)
                        .fetch_optional(&mut **tx)
                        .await?;
                if let Some((Some(latest),)) = latest {
                    if observed_at < latest {
                        return Err(StoreError::OutOfOrder(OutOfOrder {
                            observed_at,
                            latest,
                        }));
                    }
                }
                let current: Vec<BranchState> = sqlx::query_as(
                    BRANCH_STATE_SQL,
                )
                .bind(project)
                .fetch_all(&mut **tx)
                .await?;
                let plan = plan_baseline(&current, present, tools);
                let columns: Vec<Columns<'_>> = present.iter().map(|f| Columns::of(f)).collect();
                for chunk in columns.chunks(BATCH_ROWS) {
                    let mut upsert = QueryBuilder::<$db>::new(
                        "INSERT INTO branch_findings (project_id, finding_id, present, kind, \
                         severity, rule, title, tools, advisories, path, line, ecosystem, \
                         package, version, fix_version, risk_score, first_detected_at, \
                         first_detected_commit, last_seen_at, last_seen_commit, \
                         introduced_commit, introduced_author, cwes, owner) ",
                    );
                    upsert.push_values(chunk, |mut row, c| {
                        let f = &c.finding.finding;
                        let package = f.package.as_ref();
                        let line = f
                            .location
                            .as_ref()
                            .and_then(|l| l.lines())
                            .map(|(start, _)| i64::from(start));
                        row.push_bind(project)
                            .push_bind(c.finding.id.0.clone())
                            .push_bind(true)
                            .push_bind(f.kind.as_str())
                            .push_bind(f.severity.as_str())
                            .push_bind(f.rule.clone())
                            .push_bind(f.title.clone())
                            .push_bind(c.tools.clone())
                            .push_bind(c.advisories.clone())
                            .push_bind(f.path().map(str::to_owned))
                            .push_bind(line)
                            .push_bind(package.map(|p| p.ecosystem.as_str().to_owned()))
                            .push_bind(package.map(|p| p.name.clone()))
                            .push_bind(package.and_then(|p| p.version.clone()))
                            .push_bind(c.finding.upgrade.as_ref().map(|u| u.to.clone()))
                            .push_bind(i32::from(c.finding.risk.score))
                            .push_bind(observed_at)
                            .push_bind(commit.to_owned())
                            .push_bind(observed_at)
                            .push_bind(commit.to_owned())
                            .push_bind(
                                c.finding
                                    .introduced_by
                                    .as_ref()
                                    .map(|by| by.commit.clone()),
                            )
                            .push_bind(
                                c.finding
                                    .introduced_by
                                    .as_ref()
                                    .map(|by| by.author.clone()),
                            )
                            .push_bind(c.cwes.clone())
                            .push_bind(c.finding.owner.clone());
                    });
                    upsert.push(
                        " ON CONFLICT (project_id, finding_id) DO UPDATE SET \
                         present = excluded.present, kind = excluded.kind, \
                         severity = excluded.severity, rule = excluded.rule, \
                         title = excluded.title, tools = excluded.tools, \
                         advisories = excluded.advisories, path = excluded.path, \
                         line = excluded.line, ecosystem = excluded.ecosystem, \
                         package = excluded.package, version = excluded.version, \
                         fix_version = excluded.fix_version, risk_score = excluded.risk_score, \
                         last_seen_at = excluded.last_seen_at, \
                         last_seen_commit = excluded.last_seen_commit, \
                         cwes = excluded.cwes, fixed_at = NULL, fixed_commit = NULL, \
                         introduced_commit = COALESCE(excluded.introduced_commit, \
                             branch_findings.introduced_commit), \
                         introduced_author = COALESCE(excluded.introduced_author, \
                             branch_findings.introduced_author), \
                         owner = CASE WHEN excluded.introduced_commit IS NOT NULL \
                             THEN excluded.owner \
                             WHEN branch_findings.introduced_commit IS NOT NULL \
                             THEN branch_findings.owner \
                             ELSE COALESCE(branch_findings.owner, excluded.owner) END",
                    );
                    upsert.build().execute(&mut **tx).await?;
                }
                for id in &plan.fixed {
                    sqlx::query(
                        "UPDATE branch_findings SET present = $1, fixed_at = $2, fixed_commit = $3 \
                         WHERE project_id = $4 AND finding_id = $5",
                    )
                    .bind(false)
                    .bind(observed_at)
                    .bind(commit)
                    .bind(project)
                    .bind(id)
                    .execute(&mut **tx)
                    .await?;
                }
                for chunk in plan.events.chunks(BATCH_ROWS) {
                    let mut insert = QueryBuilder::<$db>::new(
                        "INSERT INTO finding_events (project_id, finding_id, at, kind, severity, \
                         reason, commit_sha) ",
                    );
                    insert.push_values(chunk, |mut row, event| {
                        row.push_bind(project)
                            .push_bind(event.finding_id.clone())
                            .push_bind(observed_at)
                            .push_bind(event.kind.as_str())
                            .push_bind(event.severity.map(Severity::as_str))
                            .push_bind(event.reason)
                            .push_bind(commit.to_owned());
                    });
                    insert.build().execute(&mut **tx).await?;
                }
                sqlx::query("UPDATE projects SET baseline_at = $1 WHERE id = $2")
                    .bind(observed_at)
                    .bind(project)
                    .execute(&mut **tx)
                    .await?;
                Ok(plan.counts)
            }
        }
    };
}

impl_branch_db!(sqlx::Sqlite);
impl_branch_db!(sqlx::Postgres);

impl Store {
    /// How a scan of another branch compares with the default branch (nothing is written):
    /// which findings the default branch never had, had and lost, or has and the scan does
    /// not (among the tools the scan ran).
    pub async fn compare_with_branch(
        &self,
        project: ProjectId,
        present: &[&ReviewedFinding],
        tools: &BTreeSet<String>,
    ) -> Result<ScanCounts, StoreError> {
        let current: Vec<BranchState> = with_pool!(self, |pool| {
            sqlx::query_as(BRANCH_STATE_SQL)
                .bind(project)
                .fetch_all(pool)
                .await
        })?;
        Ok(plan_baseline(&current, present, tools).counts)
    }

    /// The orgs posture has projects of, sorted.
    pub async fn orgs(&self) -> Result<Vec<String>, StoreError> {
        let rows: Vec<(String,)> = with_pool!(self, |pool| {
            sqlx::query_as("SELECT DISTINCT org FROM projects WHERE org IS NOT NULL ORDER BY org")
                .fetch_all(pool)
                .await
        })?;
        Ok(rows.into_iter().map(|(org,)| org).collect())
    }

    /// The repositories of an org posture has seen, with their forge, by name.
    pub async fn org_projects(&self, org: &str) -> Result<Vec<(Forge, String)>, StoreError> {
        let rows: Vec<(String, String)> = with_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT forge, repository FROM projects WHERE org = $1 ORDER BY repository",
            )
            .bind(org)
            .fetch_all(pool)
            .await
        })?;
        rows.into_iter()
            .map(|(forge, repository)| Ok((forge.parse::<Forge>()?, repository)))
            .collect()
    }

    /// The repositories of an org posture has seen.
    pub async fn org_repositories(&self, org: &str) -> Result<BTreeSet<String>, StoreError> {
        let rows: Vec<(String,)> = with_pool!(self, |pool| {
            sqlx::query_as("SELECT repository FROM projects WHERE org = $1")
                .bind(org)
                .fetch_all(pool)
                .await
        })?;
        Ok(rows.into_iter().map(|(repository,)| repository).collect())
    }

    /// Every finding the default branches of `org`'s projects ever had (of `repository`
    /// only, when given), with its events up to `as_of`, for the metrics.
    ///
    /// `within`: only these repositories (lower-case full names), what the caller reads;
    /// one JSON parameter however many, so a viewer's page never loads what it may not show.
    pub async fn org_history(
        &self,
        org: &str,
        repository: Option<&str>,
        within: Option<&BTreeSet<String>>,
        as_of: DateTime<Utc>,
    ) -> Result<Vec<FindingHistory>, StoreError> {
        #[derive(sqlx::FromRow)]
        struct Row {
            project_id: i64,
            repository: String,
            finding_id: String,
            kind: String,
            rule: String,
            tools: String,
            advisories: String,
            ecosystem: Option<String>,
            package: Option<String>,
            fix_version: Option<String>,
            risk_score: i32,
            owner: Option<String>,
        }
        #[derive(sqlx::FromRow)]
        struct Event {
            id: i64,
            project_id: i64,
            finding_id: String,
            at: DateTime<Utc>,
            kind: String,
            severity: Option<String>,
            reason: Option<String>,
        }
        let within = within
            .map(serde_json::to_string)
            .transpose()
            .map_err(|source| StoreError::Json {
                what: "repositories",
                source,
            })?;
        let (rows, events, kev): (Vec<Row>, Vec<Event>, Vec<(String,)>) =
            with_pool!(self, |pool, pg| {
                let within_sql = if pg {
                    "($3::text IS NULL OR lower(p.repository) IN \
                     (SELECT jsonb_array_elements_text($3::jsonb)))"
                } else {
                    "($3 IS NULL OR lower(p.repository) IN (SELECT value FROM json_each($3)))"
                };
                let rows = sqlx::query_as(&format!(
                    "SELECT f.project_id, p.repository, f.finding_id, f.kind, f.rule, f.tools, \
                     f.advisories, f.ecosystem, f.package, f.fix_version, f.risk_score, f.owner \
                     FROM branch_findings f JOIN projects p ON p.id = f.project_id \
                     WHERE p.org = $1 AND ($2 IS NULL OR p.repository = $2) AND {within_sql}"
                ))
                .bind(org)
                .bind(repository)
                .bind(within.as_deref())
                .fetch_all(pool)
                .await?;
                let events = sqlx::query_as(&format!(
                    "SELECT e.id, e.project_id, e.finding_id, e.at, e.kind, e.severity, e.reason \
                     FROM finding_events e JOIN projects p ON p.id = e.project_id \
                     WHERE p.org = $1 AND ($2 IS NULL OR p.repository = $2) AND {within_sql} \
                     AND e.at <= $4"
                ))
                .bind(org)
                .bind(repository)
                .bind(within.as_deref())
                .bind(as_of)
                .fetch_all(pool)
                .await?;
                let kev = sqlx::query_as("SELECT cve_id FROM intel_kev")
                    .fetch_all(pool)
                    .await?;
                Ok::<_, sqlx::Error>((rows, events, kev))
            })?;
        let kev: HashSet<String> = kev.into_iter().map(|(cve,)| cve).collect();
        let mut by_finding: HashMap<(i64, String), FindingHistory> =
            HashMap::with_capacity(rows.len());
        for row in rows {
            let advisories: Vec<String> =
                serde_json::from_str(&row.advisories).map_err(|source| StoreError::Json {
                    what: "advisories",
                    source,
                })?;
            let tools: Vec<String> =
                serde_json::from_str(&row.tools).map_err(|source| StoreError::Json {
                    what: "tools",
                    source,
                })?;
            let upgrade = match (row.ecosystem, row.package, row.fix_version) {
                (Some(ecosystem), Some(package), Some(to)) => Some(FixTarget {
                    ecosystem,
                    package,
                    to,
                }),
                _ => None,
            };
            let history = FindingHistory {
                repository: row.repository,
                finding_id: FindingId(row.finding_id.clone()),
                kind: parse_column("finding kind", &row.kind)?,
                tools,
                rule: row.rule,
                risk_score: u8::try_from(row.risk_score.clamp(0, 100)).unwrap_or(100),
                kev: advisories.iter().any(|id| kev.contains(id)),
                advisories,
                upgrade,
                owner: row.owner,
                events: Vec::new(),
            };
            by_finding.insert((row.project_id, row.finding_id), history);
        }
        // Time order (log order within the same instant), sorted here: PostgreSQL's sort of
        // an org's whole log spills to disk and costs a second at 650k events.
        let mut events = events;
        events.sort_unstable_by_key(|event| (event.at, event.id));
        for event in events {
            // Events of findings the default branch never had (triage in a pull request)
            // are not the branch's history.
            let Some(history) = by_finding.get_mut(&(event.project_id, event.finding_id)) else {
                continue;
            };
            history.events.push(HistoryEvent {
                at: event.at,
                kind: event.kind.parse()?,
                severity: event
                    .severity
                    .map(|s| parse_column("severity", &s))
                    .transpose()?,
                reason: event.reason,
            });
        }
        let mut findings: Vec<FindingHistory> = by_finding.into_values().collect();
        findings
            .sort_by(|a, b| (&a.repository, &a.finding_id).cmp(&(&b.repository, &b.finding_id)));
        Ok(findings)
    }

    /// A page of the default branches' findings of an org, ordered by repository and
    /// finding id. The WHERE clause holds only the filters given: catch-all
    /// `$n IS NULL OR …` conditions mislead PostgreSQL's row estimates into full scans.
    pub async fn branch_findings(
        &self,
        query: &FindingQuery,
    ) -> Result<Vec<BranchFinding>, StoreError> {
        let tool = query
            .tool
            .as_ref()
            .map(|tool| serde_json::Value::from(tool.as_str()).to_string());
        Ok(with_pool!(self, |pool, pg| {
            let mut sql = sqlx::QueryBuilder::new(format!(
                "SELECT p.repository, f.finding_id, {STATUS_SQL} AS status, f.kind, f.severity, \
                 f.rule, f.title, f.tools, f.advisories, f.path, f.line, f.ecosystem, f.package, \
                 f.version, f.fix_version, f.risk_score, f.first_detected_at, \
                 f.first_detected_commit, f.last_seen_at, f.fixed_at, f.introduced_commit, \
                 f.introduced_author, t.state AS triage \
                 FROM branch_findings f JOIN projects p ON p.id = f.project_id \
                 LEFT JOIN triage t ON t.project_id = f.project_id AND t.finding_id = f.finding_id \
                 WHERE p.org = "
            ));
            sql.push_bind(query.org.clone());
            match query.status {
                StatusFilter::Open => {
                    sql.push(
                        " AND f.present AND (t.state IS NULL OR t.state NOT IN ('dismissed', 'accepted'))",
                    );
                }
                StatusFilter::Fixed => {
                    sql.push(" AND NOT f.present");
                }
                StatusFilter::All => {}
            }
            if let Some(within) = &query.within {
                // '/' names no repository: an empty reach matches nothing.
                sql.push(" AND lower(p.repository) IN ('/'");
                for repository in within {
                    sql.push(", ").push_bind(repository.clone());
                }
                sql.push(")");
            }
            if let Some(repository) = &query.repository {
                sql.push(" AND p.repository = ")
                    .push_bind(repository.clone());
            }
            if let Some(severity) = query.severity {
                sql.push(" AND f.severity = ").push_bind(severity.as_str());
            }
            if let Some(kind) = query.kind {
                sql.push(" AND f.kind = ").push_bind(kind.as_str());
            }
            if let Some(tool) = &tool {
                // SQLite spells strpos instr.
                sql.push(if pg {
                    " AND strpos(f.tools, "
                } else {
                    " AND instr(f.tools, "
                })
                .push_bind(tool.clone())
                .push(") > 0");
            }
            if let Some((repository, finding)) = &query.after {
                sql.push(" AND p.repository >= ")
                    .push_bind(repository.clone())
                    .push(" AND (p.repository > ")
                    .push_bind(repository.clone())
                    .push(" OR f.finding_id > ")
                    .push_bind(finding.clone())
                    .push(")");
            }
            sql.push(" ORDER BY p.repository, f.finding_id LIMIT ")
                .push_bind(i64::from(query.limit));
            sql.build_query_as().fetch_all(pool).await
        })?)
    }
}

/// Parses a column's text, a value no variant spells being a corrupt row.
fn parse_column<T: std::str::FromStr>(what: &'static str, text: &str) -> Result<T, StoreError> {
    text.parse().map_err(|_| {
        StoreError::Corrupt(UnknownVariant {
            what,
            value: text.to_owned(),
        })
    })
}
