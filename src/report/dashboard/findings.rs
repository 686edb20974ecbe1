//! The findings behind a figure: the findings page's query ([`FindingsQuery`], what every
//! figure's link carries), the rows it selects from the same history the figures are
//! computed from ([`FindingsView`]), so that a figure of `N` links to a page of `N` rows,
//! and their server-side sorting.
//!
//! Parameters (the API's names where it has them): `status` = `open` (open at `as_of`, the
//! default) | `new` (first detected in the period) | `fixed` (fixed in the period) | `all`;
//! `sla` = `breached` (open past due) | `due_soon` (open, due within 7 days); `repository`,
//! `severity`, `kind`, `tool` (the figures' filters); `from`, `to`, `as_of` (the period, as
//! the summary's: RFC 3339 or `YYYY-MM-DD`, default the last 30 days); `ecosystem` and
//! `package` (an upgrade hotspot: findings that upgrade clears); `sort` and `order`;
//! `format=csv` is for the web layer (the same rows as CSV).

use std::cmp::Ordering;

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use serde::Serialize;

use super::links::Paths;
use crate::history::{Filters, FindingHistory, SlaPolicy, TriageStatus, Window, select};
use crate::model::{Kind, Severity};

/// Which findings of the period a list shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Status {
    #[default]
    Open,
    New,
    Fixed,
    All,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Open => "open",
            Status::New => "new",
            Status::Fixed => "fixed",
            Status::All => "all",
        }
    }
}

/// The SLA state a list may be narrowed to (open findings only).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SlaState {
    Breached,
    DueSoon,
}

impl SlaState {
    pub fn as_str(self) -> &'static str {
        match self {
            SlaState::Breached => "breached",
            SlaState::DueSoon => "due_soon",
        }
    }
}

/// A column the list sorts by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SortKey {
    #[default]
    Severity,
    Risk,
    Repository,
    Kind,
    Rule,
    FirstDetected,
    Due,
}

impl SortKey {
    pub const ALL: [SortKey; 7] = [
        SortKey::Repository,
        SortKey::Severity,
        SortKey::Kind,
        SortKey::Rule,
        SortKey::Risk,
        SortKey::FirstDetected,
        SortKey::Due,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SortKey::Severity => "severity",
            SortKey::Risk => "risk",
            SortKey::Repository => "repository",
            SortKey::Kind => "kind",
            SortKey::Rule => "rule",
            SortKey::FirstDetected => "first_detected",
            SortKey::Due => "due",
        }
    }

    /// The column heading.
    pub fn heading(self) -> &'static str {
        match self {
            SortKey::Severity => "Severity",
            SortKey::Risk => "Risk",
            SortKey::Repository => "Repository",
            SortKey::Kind => "Kind",
            SortKey::Rule => "Rule",
            SortKey::FirstDetected => "First detected",
            SortKey::Due => "Due",
        }
    }
}

/// The findings page's query. See the module documentation.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FindingsQuery {
    pub status: Status,
    pub sla: Option<SlaState>,
    pub filters: Filters,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub as_of: Option<DateTime<Utc>>,
    pub ecosystem: Option<String>,
    pub package: Option<String>,
    pub sort: SortKey,
    /// `true`: descending (the default: most severe first).
    pub descending: bool,
}

/// An RFC 3339 time or a `YYYY-MM-DD` date (midnight UTC).
pub fn parse_time(text: &str) -> Result<DateTime<Utc>, String> {
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Ok(t.with_timezone(&Utc));
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc())
        .ok_or_else(|| format!("`{text}` is not an RFC 3339 time or a YYYY-MM-DD date"))
}

/// The query-string spelling of a time: seconds, UTC, so that links reproduce a window.
pub fn format_time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

impl FindingsQuery {
    /// Reads the query string's pairs; an unknown parameter or value is an error naming it.
    /// Empty values (an unset select of the filter form) are ignored.
    pub fn parse<K, V>(pairs: impl IntoIterator<Item = (K, V)>) -> Result<FindingsQuery, String>
    where
        K: AsRef<str>,
        V: AsRef<str>,
    {
        let mut query = FindingsQuery {
            descending: true,
            ..FindingsQuery::default()
        };
        let mut order = None;
        for (key, value) in pairs {
            let (key, value) = (key.as_ref(), value.as_ref().trim());
            if value.is_empty() {
                continue;
            }
            let bad = |what: &str| format!("`{key}`: unknown {what} `{value}`");
            match key {
                "status" => {
                    query.status = match value {
                        "open" => Status::Open,
                        "new" => Status::New,
                        "fixed" => Status::Fixed,
                        "all" => Status::All,
                        _ => return Err(bad("status")),
                    }
                }
                "sla" => {
                    query.sla = Some(match value {
                        "breached" => SlaState::Breached,
                        "due_soon" => SlaState::DueSoon,
                        _ => return Err(bad("SLA state")),
                    })
                }
                "repository" => query.filters.repository = Some(value.to_owned()),
                "severity" => {
                    query.filters.severity = Some(
                        Severity::ALL
                            .into_iter()
                            .find(|s| s.as_str() == value)
                            .ok_or_else(|| bad("severity"))?,
                    )
                }
                "kind" => {
                    query.filters.kind = Some(
                        Kind::ALL
                            .into_iter()
                            .find(|k| k.as_str() == value)
                            .ok_or_else(|| bad("kind"))?,
                    )
                }
                "tool" => query.filters.tool = Some(value.to_owned()),
                "from" => query.from = Some(parse_time(value).map_err(|e| format!("`from`: {e}"))?),
                "to" => query.to = Some(parse_time(value).map_err(|e| format!("`to`: {e}"))?),
                "as_of" => {
                    query.as_of = Some(parse_time(value).map_err(|e| format!("`as_of`: {e}"))?)
                }
                "ecosystem" => query.ecosystem = Some(value.to_owned()),
                "package" => query.package = Some(value.to_owned()),
                "sort" => {
                    query.sort = SortKey::ALL
                        .into_iter()
                        .find(|k| k.as_str() == value)
                        .ok_or_else(|| bad("sort column"))?
                }
                "order" => {
                    order = Some(match value {
                        "asc" => false,
                        "desc" => true,
                        _ => return Err(bad("order (asc or desc)")),
                    })
                }
                // The web layer answers CSV for it; the rows are the same.
                "format" => {}
                _ => return Err(format!("unknown parameter `{key}`")),
            }
        }
        query.descending = order.unwrap_or(true);
        Ok(query)
    }

    /// The period, as the summary reads it: `as_of` defaults to `now`, `to` to `as_of`,
    /// `from` to 30 days before `to`.
    pub fn window(&self, now: DateTime<Utc>) -> Window {
        let as_of = self.as_of.unwrap_or(now);
        let to = self.to.unwrap_or(as_of);
        let from = self.from.unwrap_or(to - TimeDelta::days(30));
        Window { from, to, as_of }
    }

    /// The query's pairs, in a stable order, `sort` and `order` left out unless asked.
    pub fn pairs(&self, with_sort: bool) -> Vec<(&'static str, String)> {
        let text = |v: &Option<String>| v.clone().unwrap_or_default();
        let time = |t: Option<DateTime<Utc>>| t.map(format_time).unwrap_or_default();
        let mut pairs = vec![
            ("status", self.status.as_str().to_owned()),
            (
                "sla",
                self.sla.map(|s| s.as_str().to_owned()).unwrap_or_default(),
            ),
            ("repository", text(&self.filters.repository)),
            (
                "severity",
                self.filters
                    .severity
                    .map(|s| s.as_str().to_owned())
                    .unwrap_or_default(),
            ),
            (
                "kind",
                self.filters
                    .kind
                    .map(|k| k.as_str().to_owned())
                    .unwrap_or_default(),
            ),
            ("tool", text(&self.filters.tool)),
            ("from", time(self.from)),
            ("to", time(self.to)),
            ("as_of", time(self.as_of)),
            ("ecosystem", text(&self.ecosystem)),
            ("package", text(&self.package)),
        ];
        if with_sort {
            pairs.push(("sort", self.sort.as_str().to_owned()));
            pairs.push((
                "order",
                if self.descending { "desc" } else { "asc" }.to_owned(),
            ));
        }
        pairs
    }
}

/// One finding of the list.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FindingRow {
    pub repository: String,
    pub finding_id: String,
    pub severity: Severity,
    pub kind: Kind,
    pub rule: String,
    pub tools: Vec<String>,
    pub advisories: Vec<String>,
    pub risk_score: u8,
    pub kev: bool,
    pub first_detected: Option<DateTime<Utc>>,
    pub due: Option<DateTime<Utc>>,
    /// `open`, `fixed`, `dismissed`, `accepted` (at `as_of`).
    pub state: &'static str,
    /// `package → version` when an upgrade clears it.
    pub upgrade: Option<String>,
}

/// The findings page: the org, the query and its rows, sorted.
#[derive(Debug, Clone, PartialEq)]
pub struct FindingsView {
    pub paths: Paths,
    pub query: FindingsQuery,
    pub window: Window,
    pub rows: Vec<FindingRow>,
    /// The org's repositories and tools, for the filter bar.
    pub repositories: Vec<String>,
    pub tools: Vec<String>,
    /// Who is signed in, for the sign-out form; `None` for a bearer caller.
    pub session: Option<super::Session>,
}

impl FindingsView {
    /// The rows `query` selects from `history` (the org's findings, as the summary reads
    /// them), sorted; links start at `base_path`.
    pub fn new(
        org: &str,
        base_path: &str,
        history: &[FindingHistory],
        query: FindingsQuery,
        sla: &SlaPolicy,
        now: DateTime<Utc>,
    ) -> FindingsView {
        let window = query.window(now);
        let mut rows = rows(history, &query, &window, sla);
        sort(&mut rows, query.sort, query.descending);
        FindingsView {
            paths: Paths::new(base_path, org),
            query,
            window,
            rows,
            repositories: super::view::repositories(history),
            tools: super::view::tools(history),
            session: None,
        }
    }
}

/// The findings `query` selects. See the module documentation.
pub fn rows(
    history: &[FindingHistory],
    query: &FindingsQuery,
    window: &Window,
    sla: &SlaPolicy,
) -> Vec<FindingRow> {
    let as_of = window.as_of;
    let (from, end) = (window.from, window.to.min(as_of));
    let soon = as_of + TimeDelta::days(7);
    select(history, window, &query.filters)
        .into_iter()
        .filter(|t| {
            let timeline = &t.timeline;
            let in_status = match query.status {
                Status::Open => timeline.open_at(as_of),
                Status::New => timeline
                    .first_detected()
                    .is_some_and(|first| from <= first && first < end),
                Status::Fixed => timeline.last_fix_in(from, end).is_some(),
                Status::All => true,
            };
            let due = t.due(sla);
            let in_sla = match query.sla {
                None => true,
                Some(SlaState::Breached) => {
                    timeline.open_at(as_of) && due.is_some_and(|due| due < as_of)
                }
                Some(SlaState::DueSoon) => {
                    timeline.open_at(as_of) && due.is_some_and(|due| as_of <= due && due < soon)
                }
            };
            let in_upgrade = (query.ecosystem.is_none() && query.package.is_none())
                || t.finding.upgrade.as_ref().is_some_and(|u| {
                    query.ecosystem.as_ref().is_none_or(|e| *e == u.ecosystem)
                        && query.package.as_ref().is_none_or(|p| *p == u.package)
                });
            in_status && in_sla && in_upgrade
        })
        .map(|t| {
            let timeline = &t.timeline;
            let state = if timeline.open_at(as_of) {
                "open"
            } else if !timeline.present_at(as_of) {
                "fixed"
            } else if timeline.triage_at(as_of) == TriageStatus::Accepted {
                "accepted"
            } else {
                "dismissed"
            };
            FindingRow {
                repository: t.finding.repository.clone(),
                finding_id: t.finding.finding_id.0.clone(),
                severity: t.severity,
                kind: t.finding.kind,
                rule: t.finding.rule.clone(),
                tools: t.finding.tools.clone(),
                advisories: t.finding.advisories.clone(),
                risk_score: t.finding.risk_score,
                kev: t.finding.kev,
                first_detected: timeline.first_detected(),
                due: t.due(sla),
                state,
                upgrade: t
                    .finding
                    .upgrade
                    .as_ref()
                    .map(|u| format!("{} → {}", u.package, u.to)),
            }
        })
        .collect()
}

/// Sorts `rows` by `key` (ties: most severe, then highest risk, then repository and id, so
/// the order is total and stable across requests).
pub fn sort(rows: &mut [FindingRow], key: SortKey, descending: bool) {
    let by = |a: &FindingRow, b: &FindingRow| -> Ordering {
        match key {
            SortKey::Severity => a.severity.cmp(&b.severity),
            SortKey::Risk => a.risk_score.cmp(&b.risk_score),
            SortKey::Repository => a.repository.cmp(&b.repository),
            SortKey::Kind => a.kind.as_str().cmp(b.kind.as_str()),
            SortKey::Rule => a.rule.cmp(&b.rule),
            SortKey::FirstDetected => a.first_detected.cmp(&b.first_detected),
            SortKey::Due => a.due.cmp(&b.due),
        }
    };
    rows.sort_by(|a, b| {
        let primary = if descending { by(b, a) } else { by(a, b) };
        primary
            .then(b.severity.cmp(&a.severity))
            .then(b.risk_score.cmp(&a.risk_score))
            .then_with(|| a.repository.cmp(&b.repository))
            .then_with(|| a.finding_id.cmp(&b.finding_id))
    });
}

/// The columns of [`findings_csv`].
pub const CSV_HEADER: [&str; 13] = [
    "repository",
    "finding_id",
    "severity",
    "kind",
    "rule",
    "risk_score",
    "kev",
    "first_detected_at",
    "due_at",
    "state",
    "tools",
    "advisories",
    "upgrade",
];

/// A cell a spreadsheet would run as a formula gets a leading `'` (repository names and
/// rules come from outside).
fn cell(text: &str) -> String {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_owned()
    }
}

/// The rows of a findings page as CSV (its `format=csv` link), in the page's order.
pub fn findings_csv(view: &FindingsView) -> Result<String, std::io::Error> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer
        .write_record(CSV_HEADER)
        .map_err(std::io::Error::other)?;
    let time = |t: Option<DateTime<Utc>>| t.map(format_time).unwrap_or_default();
    for r in &view.rows {
        writer
            .write_record([
                cell(&r.repository),
                cell(&r.finding_id),
                r.severity.as_str().to_owned(),
                r.kind.as_str().to_owned(),
                cell(&r.rule),
                r.risk_score.to_string(),
                r.kev.to_string(),
                time(r.first_detected),
                time(r.due),
                r.state.to_owned(),
                cell(&r.tools.join(";")),
                cell(&r.advisories.join(";")),
                cell(r.upgrade.as_deref().unwrap_or_default()),
            ])
            .map_err(std::io::Error::other)?;
    }
    let bytes = writer.into_inner().map_err(|e| e.into_error())?;
    String::from_utf8(bytes).map_err(std::io::Error::other)
}
