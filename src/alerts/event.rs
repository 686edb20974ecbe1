//! What an alert says: one event of the log (or a scheduled one), with everything a reader
//! needs about its finding, read from the database when the event is dispatched. Formats
//! (`format/`) render it; nothing here talks to the network or the database.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::model::{Kind, Severity};

/// What happened, as alert rules name it (`on: [finding.detected, …]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum AlertKind {
    #[serde(rename = "finding.detected")]
    Detected,
    #[serde(rename = "finding.reintroduced")]
    Reintroduced,
    #[serde(rename = "finding.fixed")]
    Fixed,
    #[serde(rename = "finding.dismissed")]
    Dismissed,
    #[serde(rename = "finding.accepted")]
    Accepted,
    #[serde(rename = "finding.pending")]
    Pending,
    #[serde(rename = "finding.approved")]
    Approved,
    #[serde(rename = "finding.rejected")]
    Rejected,
    #[serde(rename = "finding.reopened")]
    Reopened,
    #[serde(rename = "finding.acceptance_expired")]
    AcceptanceExpired,
    #[serde(rename = "finding.severity_changed")]
    SeverityChanged,
    #[serde(rename = "finding.policy_violation")]
    PolicyViolation,
    /// Scheduled: the finding's SLA ends within the next days.
    #[serde(rename = "finding.sla_due_soon")]
    SlaDueSoon,
    /// Scheduled: the finding is still open after its SLA ended.
    #[serde(rename = "finding.sla_breached")]
    SlaBreached,
    /// Scheduled: an accepted risk's last day is near.
    #[serde(rename = "finding.acceptance_expiring")]
    AcceptanceExpiring,
}

impl AlertKind {
    pub const ALL: [AlertKind; 15] = [
        AlertKind::Detected,
        AlertKind::Reintroduced,
        AlertKind::Fixed,
        AlertKind::Dismissed,
        AlertKind::Accepted,
        AlertKind::Pending,
        AlertKind::Approved,
        AlertKind::Rejected,
        AlertKind::Reopened,
        AlertKind::AcceptanceExpired,
        AlertKind::SeverityChanged,
        AlertKind::PolicyViolation,
        AlertKind::SlaDueSoon,
        AlertKind::SlaBreached,
        AlertKind::AcceptanceExpiring,
    ];

    /// `finding.detected`, …
    pub fn as_str(self) -> &'static str {
        match self {
            AlertKind::Detected => "finding.detected",
            AlertKind::Reintroduced => "finding.reintroduced",
            AlertKind::Fixed => "finding.fixed",
            AlertKind::Dismissed => "finding.dismissed",
            AlertKind::Accepted => "finding.accepted",
            AlertKind::Pending => "finding.pending",
            AlertKind::Approved => "finding.approved",
            AlertKind::Rejected => "finding.rejected",
            AlertKind::Reopened => "finding.reopened",
            AlertKind::AcceptanceExpired => "finding.acceptance_expired",
            AlertKind::SeverityChanged => "finding.severity_changed",
            AlertKind::PolicyViolation => "finding.policy_violation",
            AlertKind::SlaDueSoon => "finding.sla_due_soon",
            AlertKind::SlaBreached => "finding.sla_breached",
            AlertKind::AcceptanceExpiring => "finding.acceptance_expiring",
        }
    }

    /// The event-log kind without the `finding.` prefix (`detected`, …).
    pub fn log_name(self) -> &'static str {
        &self.as_str()["finding.".len()..]
    }

    /// A person decided it (the event has an actor).
    pub fn is_triage(self) -> bool {
        matches!(
            self,
            AlertKind::Dismissed
                | AlertKind::Accepted
                | AlertKind::Pending
                | AlertKind::Approved
                | AlertKind::Rejected
                | AlertKind::Reopened
        )
    }

    /// The finding is no longer open after this event.
    pub fn closes(self) -> bool {
        matches!(
            self,
            AlertKind::Fixed | AlertKind::Dismissed | AlertKind::Accepted | AlertKind::Approved
        )
    }
}

impl fmt::Display for AlertKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for AlertKind {
    type Err = String;

    /// Takes `finding.detected` or the log's `detected`.
    fn from_str(text: &str) -> Result<AlertKind, String> {
        AlertKind::ALL
            .into_iter()
            .find(|kind| kind.as_str() == text || kind.log_name() == text)
            .ok_or_else(|| {
                let choices: Vec<&str> = AlertKind::ALL.iter().map(|k| k.as_str()).collect();
                format!("unknown event: expected one of {}", choices.join(", "))
            })
    }
}

/// One event, ready to render.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertEvent {
    /// Stable across redeliveries and processes (`evt-<log id>`): receivers de-duplicate on it.
    pub id: String,
    pub kind: AlertKind,
    /// When it happened (for scheduled events: when posture noticed).
    pub at: DateTime<Utc>,
    /// The GitHub owner or GitLab top-level group, lower-cased.
    pub org: String,
    /// `owner/name` (GitLab: the full project path).
    pub repository: String,
    /// `github` or `gitlab`.
    pub forge: String,
    pub finding: FindingFacts,
    /// Who decided a triage event (`@login`), when a person did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor: Option<String>,
    /// The triage reason (`false_positive`, `accepted_risk`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// An acceptance's last day, or the SLA's due date for SLA events.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<NaiveDate>,
    /// The severity before a `severity_changed` event.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_severity: Option<Severity>,
    pub links: Links,
}

/// What the finding is, as the default branch (or the triaged pull request) knows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FindingFacts {
    /// posture's finding id (stable across scans).
    pub id: String,
    /// The `P-xxxxxx` id shown on review comments.
    pub short_id: String,
    pub title: String,
    pub kind: Kind,
    pub severity: Severity,
    /// 0–100, when the finding was ranked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub risk_score: Option<u8>,
    pub rule: String,
    /// CWE numbers (`CWE-79` → 79).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cwes: Vec<u32>,
    /// The tools that reported it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tools: Vec<String>,
    /// Advisory ids (CVE, GHSA, …).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub advisories: Vec<String>,
    /// One of its advisories is in CISA's Known Exploited Vulnerabilities catalog.
    pub kev: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub package: Option<PackageFacts>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
    /// The commit that introduced it (blame), when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub introduced_commit: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub introduced_author: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_detected_at: Option<DateTime<Utc>>,
}

/// The dependency a finding is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PackageFacts {
    /// posture's ecosystem spelling (`npm`, `PyPI`, …).
    pub ecosystem: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// The version that clears the finding, when posture knows one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fixed_in: Option<String>,
    /// Package URL, when the ecosystem has a purl type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purl: Option<String>,
}

/// Where to look.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Links {
    /// The pull or merge request the event happened in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pull_request: Option<String>,
    /// The flagged line on the forge, at the commit last seen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finding: Option<String>,
    /// posture's page of the repository (needs `POSTURE_PUBLIC_URL`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dashboard: Option<String>,
}

impl AlertEvent {
    /// Worst first: severity, then risk, then time and id for a stable order.
    pub fn worst_first(a: &AlertEvent, b: &AlertEvent) -> std::cmp::Ordering {
        b.finding
            .severity
            .cmp(&a.finding.severity)
            .then(b.finding.risk_score.cmp(&a.finding.risk_score))
            .then(a.at.cmp(&b.at))
            .then(a.id.cmp(&b.id))
    }

    /// A short line for chat and logs: `critical sast finding detected in acme/app: Title`.
    pub fn headline(&self) -> String {
        format!(
            "{} {} {} in {}: {}",
            self.finding.severity.as_str(),
            self.finding.kind.as_str(),
            self.kind.log_name().replace('_', " "),
            self.repository,
            self.finding.title
        )
    }

    /// A sample event for `posture sinks test`.
    pub fn sample(org: &str, at: DateTime<Utc>) -> AlertEvent {
        AlertEvent {
            id: format!("evt-test-{}", at.timestamp_micros()),
            kind: AlertKind::Detected,
            at,
            org: org.to_owned(),
            repository: format!("{org}/posture-sink-test"),
            forge: "github".into(),
            finding: FindingFacts {
                id: "0000000000000000".into(),
                short_id: "P-000000".into(),
                title: "posture test event: this sink is wired up".into(),
                kind: Kind::Sca,
                severity: Severity::Info,
                risk_score: Some(0),
                rule: "POSTURE-TEST".into(),
                cwes: vec![1395],
                tools: vec!["posture".into()],
                advisories: Vec::new(),
                kev: false,
                package: Some(PackageFacts {
                    ecosystem: "npm".into(),
                    name: "posture-test".into(),
                    version: Some("1.0.0".into()),
                    fixed_in: Some("1.0.1".into()),
                    purl: Some("pkg:npm/posture-test@1.0.0".into()),
                }),
                path: Some("package-lock.json".into()),
                line: Some(1),
                introduced_commit: None,
                introduced_author: None,
                first_detected_at: Some(at),
            },
            actor: None,
            reason: None,
            comment: None,
            until: None,
            previous_severity: None,
            links: Links::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_parse_from_both_spellings_and_round_trip() {
        for kind in AlertKind::ALL {
            assert_eq!(kind.as_str().parse::<AlertKind>(), Ok(kind));
            assert_eq!(kind.log_name().parse::<AlertKind>(), Ok(kind));
            let json = serde_json::to_string(&kind).unwrap();
            assert_eq!(json, format!("\"{}\"", kind.as_str()));
        }
        let err = "finding.deleted".parse::<AlertKind>().unwrap_err();
        assert!(err.contains("finding.sla_breached"), "{err}");
        assert!(!err.contains("deleted"), "{err}");
    }

    #[test]
    fn worst_first_orders_by_severity_then_risk() {
        let now = Utc::now();
        let mut low = AlertEvent::sample("acme", now);
        low.finding.severity = Severity::Low;
        let mut critical = low.clone();
        critical.finding.severity = Severity::Critical;
        let mut critical_riskier = critical.clone();
        critical_riskier.finding.risk_score = Some(90);
        let mut events = [low.clone(), critical.clone(), critical_riskier.clone()];
        events.sort_by(AlertEvent::worst_first);
        assert_eq!(events, [critical_riskier, critical, low]);
    }
}
