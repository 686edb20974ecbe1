//! Org-wide history: what the event log says about each finding of the default branches,
//! and the figures security teams read from it (open counts, time to remediate, SLA,
//! grades, hotspots, time series).
//!
//! Pure: the store loads every finding of the projects the caller may read with its events
//! ([`FindingHistory`]), and everything here is computed from them at query time, so any
//! figure can be recomputed for a past date (`as_of`): events after `as_of` are ignored as
//! if they had not happened yet.

mod grade;
mod hotspots;
mod metrics;
pub mod survival;
mod timeline;
mod timeseries;

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::model::{FindingId, Kind, Severity};
use crate::store::EventKind;

pub use grade::Grade;
pub use metrics::{Tracked, select, summarize};
pub use survival::{Curve, SeverityCurve, StepPoint, time_to_fix};
pub use timeline::{Timeline, TriageStatus};
pub use timeseries::{GroupBy, Interval, Metric, timeseries};

/// One finding of one project's default branch, with everything that happened to it.
#[derive(Debug, Clone, PartialEq)]
pub struct FindingHistory {
    /// `owner/name` (GitLab: the full project path).
    pub repository: String,
    pub finding_id: FindingId,
    pub kind: Kind,
    /// The tools that reported it.
    pub tools: Vec<String>,
    pub rule: String,
    /// The current 0–100 risk score (the latest scan's).
    pub risk_score: u8,
    /// Advisory ids (CVE, GHSA, …) the finding carries.
    pub advisories: Vec<String>,
    /// One of its advisories is in CISA's Known Exploited Vulnerabilities catalog.
    pub kev: bool,
    /// The dependency upgrade that clears it, when posture knows one.
    pub upgrade: Option<FixTarget>,
    /// The owner it is counted for: `@org/team`, else `@user` or an email, from the
    /// `CODEOWNERS` file at its introducing commit; `None`: unowned.
    pub owner: Option<String>,
    /// Its events, oldest first (ties keep log order).
    pub events: Vec<HistoryEvent>,
}

/// The package version that clears a dependency finding.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FixTarget {
    /// posture's ecosystem spelling (`npm`, `PyPI`, `Maven`, …), as `Ecosystem::as_str`.
    pub ecosystem: String,
    pub package: String,
    pub to: String,
}

/// One row of the event log, as metrics need it.
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryEvent {
    pub at: DateTime<Utc>,
    pub kind: EventKind,
    /// The finding's severity from this event on: set on `detected`, `reintroduced` and
    /// `severity_changed`.
    pub severity: Option<Severity>,
    /// The triage reason (`false_positive`, …, `accepted_risk`): tells an `approved`
    /// request's verdict (`accepted_risk` accepts, anything else dismisses).
    pub reason: Option<String>,
}

/// Which findings a figure counts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filters {
    pub repository: Option<String>,
    /// The finding's severity at `as_of`.
    pub severity: Option<Severity>,
    pub kind: Option<Kind>,
    /// One of the tools that reported it.
    pub tool: Option<String>,
}

/// The period `[from, to)` a figure covers and the date it is computed as of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Window {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub as_of: DateTime<Utc>,
}

/// Days to fix a finding, by severity, from its first detection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SlaPolicy {
    pub critical: u32,
    pub high: u32,
    pub medium: u32,
    pub low: u32,
    /// `None`: informational findings have no due date.
    pub info: Option<u32>,
    /// A finding with an advisory in the KEV catalog is due at most this many days after
    /// first detection.
    pub kev_days: u32,
}

impl Default for SlaPolicy {
    fn default() -> SlaPolicy {
        SlaPolicy {
            critical: 7,
            high: 30,
            medium: 90,
            low: 180,
            info: None,
            kev_days: 14,
        }
    }
}

impl SlaPolicy {
    /// Days allowed for a finding of `severity`, KEV or not; `None` when it has no due date.
    pub fn days(&self, severity: Severity, kev: bool) -> Option<u32> {
        let days = match severity {
            Severity::Critical => Some(self.critical),
            Severity::High => Some(self.high),
            Severity::Medium => Some(self.medium),
            Severity::Low => Some(self.low),
            Severity::Info => self.info,
        };
        match (days, kev) {
            (Some(days), true) => Some(days.min(self.kev_days)),
            (None, true) => Some(self.kev_days),
            (days, false) => days,
        }
    }
}

/// Open findings by severity.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenCounts {
    pub critical: u64,
    pub high: u64,
    pub medium: u64,
    pub low: u64,
    pub info: u64,
    pub total: u64,
}

impl OpenCounts {
    pub fn add(&mut self, severity: Severity) {
        match severity {
            Severity::Critical => self.critical += 1,
            Severity::High => self.high += 1,
            Severity::Medium => self.medium += 1,
            Severity::Low => self.low += 1,
            Severity::Info => self.info += 1,
        }
        self.total += 1;
    }
}

/// The SLA figures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SlaFigures {
    pub breached_open: u64,
    pub due_within_7_days: u64,
    /// `None` when nothing was fixed in the period.
    pub compliance: Option<f64>,
}

/// One repository's line of the summary.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RepositorySummary {
    pub repository: String,
    pub open: OpenCounts,
    pub grade: Grade,
    pub grade_reason: String,
    pub risk_days: f64,
}

/// One owning team's line of the summary: its findings, by the owner `CODEOWNERS` gave
/// each at its introducing commit ([`crate::analyze::owners::UNOWNED`] for those without).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TeamSummary {
    /// `@org/team`, `@user`, an email, or `unowned`.
    pub team: String,
    /// Open at `as_of`.
    pub open: u64,
    /// First detected in the period.
    pub introduced: u64,
    /// Fixed in the period.
    pub fixed: u64,
    /// Mean days from first detection to fix over `fixed`; `None` when nothing was fixed.
    pub mttr_days: Option<f64>,
}

/// An upgrade and what it clears, over the open findings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Hotspot {
    pub ecosystem: String,
    pub package: String,
    /// The lowest version that clears every one of these findings.
    pub to: String,
    pub findings: u64,
    pub repositories: u64,
    pub advisories: u64,
    /// How many of the findings are KEV-listed.
    pub kev: u64,
}

/// The org summary: `GET /api/v1/orgs/{org}/summary` and `posture report`. A figure with no
/// data is `None` (JSON `null`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrgSummary {
    pub org: String,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub as_of: DateTime<Utc>,
    pub open: OpenCounts,
    pub new: u64,
    pub reintroduced: u64,
    pub fixed: u64,
    pub dismissed: u64,
    pub accepted: u64,
    pub mttr_days: Option<f64>,
    pub ttr_p50_days: Option<f64>,
    pub ttr_p90_days: Option<f64>,
    pub net_resolve_rate: Option<f64>,
    pub risk_days: f64,
    pub sla: SlaFigures,
    pub grade: Grade,
    pub grade_reason: String,
    pub repositories: Vec<RepositorySummary>,
    pub hotspots: Vec<Hotspot>,
    /// By owning team, most open findings first.
    #[serde(default)]
    pub teams: Vec<TeamSummary>,
}

/// One bucket of a time series: the metric over `[start, end)` (or at `end` for a level
/// such as `open`), in all and by group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Point {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub value: f64,
    pub groups: BTreeMap<String, f64>,
}
