//! A person's decision about a finding: dismissed, accepted until a date, or a request
//! waiting for a second person's approval. Decisions come from `/posture` commands in the
//! pull-request conversation (kept in the store's event log) and from VEX documents in the
//! repository; the review applies them and shows them.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

/// Where a finding stands after triage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TriageState {
    /// Not a problem (false positive, not affected, …) or deliberately not fixed.
    Dismissed,
    /// A known risk, accepted until a date.
    Accepted,
    /// A dismissal or acceptance that waits for a second person's approval.
    Pending,
}

impl TriageState {
    pub fn as_str(self) -> &'static str {
        match self {
            TriageState::Dismissed => "dismissed",
            TriageState::Accepted => "accepted",
            TriageState::Pending => "pending",
        }
    }
}

impl fmt::Display for TriageState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for TriageState {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "dismissed" => Ok(TriageState::Dismissed),
            "accepted" => Ok(TriageState::Accepted),
            "pending" => Ok(TriageState::Pending),
            other => Err(format!("unknown triage state `{other}`")),
        }
    }
}

/// Why a finding was dismissed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DismissReason {
    FalsePositive,
    UsedInTests,
    NotAffected,
    Mitigated,
    WontFix,
}

impl DismissReason {
    pub const ALL: [DismissReason; 5] = [
        DismissReason::FalsePositive,
        DismissReason::UsedInTests,
        DismissReason::NotAffected,
        DismissReason::Mitigated,
        DismissReason::WontFix,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DismissReason::FalsePositive => "false_positive",
            DismissReason::UsedInTests => "used_in_tests",
            DismissReason::NotAffected => "not_affected",
            DismissReason::Mitigated => "mitigated",
            DismissReason::WontFix => "wont_fix",
        }
    }
}

impl fmt::Display for DismissReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for DismissReason {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim().to_ascii_lowercase();
        DismissReason::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| {
                let known: Vec<&str> = DismissReason::ALL.iter().map(|r| r.as_str()).collect();
                format!("unknown reason `{s}` (one of {})", known.join(", "))
            })
    }
}

/// What a triage decision does: the verdict a command asks for. A pending request carries
/// the verdict it waits to apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "verdict", rename_all = "snake_case")]
pub enum Verdict {
    Dismiss { reason: DismissReason },
    Accept { until: NaiveDate },
}

impl Verdict {
    /// The state the verdict puts a finding in once it applies.
    pub fn state(self) -> TriageState {
        match self {
            Verdict::Dismiss { .. } => TriageState::Dismissed,
            Verdict::Accept { .. } => TriageState::Accepted,
        }
    }

    /// The reason as the JSON output and the event log spell it: the dismissal's reason,
    /// or `accepted_risk`.
    pub fn reason(self) -> &'static str {
        match self {
            Verdict::Dismiss { reason } => reason.as_str(),
            Verdict::Accept { .. } => "accepted_risk",
        }
    }

    pub fn until(self) -> Option<NaiveDate> {
        match self {
            Verdict::Dismiss { .. } => None,
            Verdict::Accept { until } => Some(until),
        }
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Verdict::Dismiss { reason } => write!(f, "dismissed as {reason}"),
            Verdict::Accept { until } => write!(f, "accepted until {until}"),
        }
    }
}

/// Where a decision came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum TriageSource {
    /// A `/posture` command on a pull or merge request.
    Command {
        pull_request: i64,
        delivery_id: Option<String>,
    },
    /// A VEX statement in the repository (the file it is in).
    Vex { document: String },
}

/// A finding's current triage: the JSON output's `triage` object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Triage {
    pub state: TriageState,
    /// The verdict that applies (or, when pending, that waits for approval).
    pub verdict: Verdict,
    /// Who decided (`@login` without the `@`; for VEX, the document's author).
    pub by: String,
    pub at: DateTime<Utc>,
    pub comment: Option<String>,
    pub source: TriageSource,
}

impl Triage {
    /// The reason as shown: the dismissal reason or `accepted_risk`.
    pub fn reason(&self) -> &'static str {
        self.verdict.reason()
    }

    pub fn until(&self) -> Option<NaiveDate> {
        self.verdict.until()
    }

    /// Whether the decision takes the finding off the gate and out of the comments on
    /// `today`: a dismissal, or an acceptance not yet expired (the `until` day included).
    /// A pending request does not.
    pub fn silences(&self, today: NaiveDate) -> bool {
        match self.state {
            TriageState::Dismissed => true,
            TriageState::Accepted => self.until().is_none_or(|until| today <= until),
            TriageState::Pending => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn triage(state: TriageState, verdict: Verdict) -> Triage {
        Triage {
            state,
            verdict,
            by: "alice".into(),
            at: "2026-01-01T00:00:00Z".parse().unwrap(),
            comment: None,
            source: TriageSource::Command {
                pull_request: 1,
                delivery_id: None,
            },
        }
    }

    #[test]
    fn reasons_parse_case_insensitively_and_name_the_choices() {
        assert_eq!(
            "False_Positive".parse::<DismissReason>(),
            Ok(DismissReason::FalsePositive)
        );
        let err = "bogus".parse::<DismissReason>().unwrap_err();
        assert!(err.contains("false_positive, used_in_tests"), "{err}");
    }

    #[test]
    fn acceptance_silences_through_its_last_day_and_pending_never() {
        let until: NaiveDate = "2026-03-01".parse().unwrap();
        let accepted = triage(TriageState::Accepted, Verdict::Accept { until });
        assert!(accepted.silences(until));
        assert!(!accepted.silences(until.succ_opt().unwrap()));
        let pending = triage(TriageState::Pending, Verdict::Accept { until });
        assert!(!pending.silences(until));
        let dismissed = triage(
            TriageState::Dismissed,
            Verdict::Dismiss {
                reason: DismissReason::WontFix,
            },
        );
        assert!(dismissed.silences(until));
        assert_eq!(dismissed.reason(), "wont_fix");
        assert_eq!(accepted.reason(), "accepted_risk");
    }
}
