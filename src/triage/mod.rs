//! Triage: people's decisions about findings, and how a review applies them.
//!
//! Decisions come from two places: `/posture` commands in the pull-request conversation
//! (parsed in [`command`], kept in the store's append-only event log) and OpenVEX
//! documents committed to the repository ([`vex`]). A [`TriageBook`] holds both for one
//! repository; the pure pipeline asks it about each finding.

pub mod command;
pub mod vex;

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::model::{Finding, FindingId, Triage};

/// A decision as the store keeps it: the finding it is about, what the finding was when
/// decided (so exports can name vulnerability and product without the snapshot), and the
/// decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TriageRecord {
    pub finding_id: FindingId,
    pub subject: Subject,
    pub triage: Triage,
}

/// What a finding is, in the words a VEX document needs.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subject {
    pub rule: String,
    pub title: String,
    /// Advisory ids and aliases (CVE, GHSA, …), as the finding names them.
    pub advisories: Vec<String>,
    /// The package URL of a dependency finding, with its version.
    pub purl: Option<String>,
    pub path: Option<String>,
}

impl Subject {
    pub fn of(finding: &Finding) -> Subject {
        Subject {
            rule: finding.rule.clone(),
            title: finding.title.clone(),
            advisories: finding
                .advisories
                .iter()
                .flat_map(|a| a.ids())
                .map(str::to_string)
                .collect(),
            purl: finding.package.as_ref().and_then(|p| p.purl()),
            path: finding.path().map(str::to_string),
        }
    }
}

/// Every decision that applies to one repository's findings.
#[derive(Debug, Clone, Default)]
pub struct TriageBook {
    /// Decisions made by command, by finding id (the newest per finding).
    pub decisions: HashMap<FindingId, Triage>,
    /// Statements from the repository's VEX documents.
    pub vex: Vec<vex::Statement>,
}

impl TriageBook {
    /// The decision about `finding`: a command's decision about its id first (it is the
    /// newer, more specific word), then about one of its `previous_ids` (recorded before its
    /// id changed: see [`crate::analyze::correlate`]), else the first VEX statement that
    /// covers it.
    pub fn for_finding(
        &self,
        id: &FindingId,
        previous_ids: &[FindingId],
        finding: &Finding,
    ) -> Option<Triage> {
        if let Some(decision) = std::iter::once(id)
            .chain(previous_ids)
            .find_map(|id| self.decisions.get(id))
        {
            return Some(decision.clone());
        }
        self.vex
            .iter()
            .find(|statement| statement.matches(finding))
            .map(|statement| statement.triage.clone())
    }

    pub fn is_empty(&self) -> bool {
        self.decisions.is_empty() && self.vex.is_empty()
    }
}

/// The short id every posture comment shows: `P-` and the first 6 hex digits of the
/// finding id.
pub fn short_id(id: &FindingId) -> String {
    format!("P-{}", id.0.get(..6).unwrap_or(&id.0))
}
