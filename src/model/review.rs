//! What the pipeline produces: each finding correlated, attributed, ranked and with its fix.

use std::borrow::Cow;
use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::finding::{Ecosystem, Finding, Severity};
use super::triage::Triage;

/// A finding's stable identity across runs: the same problem keeps the same id when lines
/// shift, files are renamed or code is re-indented. Hidden comment markers carry it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct FindingId(pub String);

impl fmt::Display for FindingId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// How a finding relates to the baseline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Introduced by this change.
    New,
    /// Present in the baseline too.
    Existing,
    /// In the baseline, gone at head.
    Fixed,
    /// Its tool reported on one side only: whether it is new, existing or fixed is unknown
    /// (a scan that did not run is not a fix).
    #[serde(rename = "not_scanned")]
    NotScanned,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::New => "new",
            Status::Existing => "existing",
            Status::Fixed => "fixed",
            Status::NotScanned => "not_scanned",
        }
    }
}

/// The commit that introduced a finding, from blame.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Introduced {
    pub commit: String,
    pub author: String,
    pub date: DateTime<Utc>,
    pub summary: String,
}

/// Why a finding names no introducing commit although its lines were blamed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Unattributed {
    /// Blame reached the boundary of a shallow clone: the commit it stops at stands for all
    /// the history that was not fetched.
    ShallowClone,
    /// A new finding on lines no commit of the change touched (the rule, the scanner or its
    /// data changed, not the code): no commit of the change introduced it, and naming an
    /// older one would blame someone outside the change.
    BeforeChange,
}

impl Unattributed {
    /// How reports say it.
    pub fn describe(self) -> &'static str {
        match self {
            Unattributed::ShallowClone => "unknown: shallow clone",
            Unattributed::BeforeChange => "unknown: the flagged lines predate this change",
        }
    }
}

/// One reason behind a risk score and how many points it moved it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RiskFactor {
    /// One of the scorer's fixed names, borrowed rather than copied into every finding.
    pub name: Cow<'static, str>,
    pub points: i32,
    pub detail: String,
}

/// A 0–100 score and the factors that produced it, largest first.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Risk {
    pub score: u8,
    pub factors: Vec<RiskFactor>,
}

/// The dependency upgrade that clears a finding's advisories.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Upgrade {
    pub package: String,
    pub from: String,
    pub to: String,
    /// The manifest or lockfile to edit, repository-relative.
    pub manifest: Option<String>,
    /// The 1-based line that declares the version.
    pub line: Option<u32>,
    /// The advisory ids this upgrade clears.
    pub fixes: Vec<String>,
    /// The fix leaves the current major version.
    pub breaking: bool,
    /// The declaring line as it is now, and as it should read (the one-click suggestion).
    pub current_text: Option<String>,
    pub suggested_text: Option<String>,
    /// Set when the package is not declared directly: the dependency that pulls it in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub via: Option<Transitive>,
}

/// How a transitive dependency comes in, from the lockfile, and what to change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transitive {
    /// The lockfile that shows the chain.
    pub lockfile: String,
    /// From the direct dependency down to the vulnerable package.
    pub chain: Vec<String>,
    /// The direct dependency, and where the project declares it.
    pub direct: String,
    pub direct_manifest: Option<String>,
    pub direct_line: Option<u32>,
    /// What to change, in words.
    pub advice: String,
}

/// How a vulnerable dependency is used, from the manifests and lockfiles at head.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DependencyScope {
    /// A development or test dependency; `None` when the manifests do not say.
    pub dev: Option<bool>,
    /// Declared by the project itself; `Some(false)` when only a lockfile has it.
    pub direct: Option<bool>,
}

/// One upgrade of one package, as a reviewer applies it: every advisory it clears and every
/// manifest that declares the package (a monorepo declares it in several).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpgradeSuggestion {
    pub ecosystem: Ecosystem,
    pub package: String,
    pub to: String,
    /// The upgrade leaves the current major version of at least one location.
    pub breaking: bool,
    /// The advisory ids it clears, across all locations.
    pub fixes: Vec<String>,
    pub locations: Vec<UpgradeLocation>,
    /// The findings it resolves.
    pub findings: Vec<FindingId>,
}

/// One place an [`UpgradeSuggestion`] edits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpgradeLocation {
    pub from: String,
    pub manifest: Option<String>,
    pub line: Option<u32>,
    pub current_text: Option<String>,
    pub suggested_text: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub via: Option<Transitive>,
}

/// A finding after the whole pipeline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReviewedFinding {
    pub id: FindingId,
    pub status: Status,
    /// Touches a line this change added or modified (dependencies: this change set the
    /// package's version).
    pub in_diff: bool,
    pub finding: Finding,
    /// GitHub code scanning's `primaryLocationLineHash` of the flagged line.
    pub line_hash: Option<String>,
    pub introduced_by: Option<Introduced>,
    /// Why `introduced_by` is empty although blame was read, when there is a reason to give.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub introduced_unknown: Option<Unattributed>,
    pub risk: Risk,
    pub upgrade: Option<Box<Upgrade>>,
    /// Set when a `.posture.yml` ignore rule matched: the rule's reason.
    pub ignored: Option<String>,
    /// For a dependency: how the project uses it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dependency: Option<DependencyScope>,
    /// A person's decision about it (a `/posture` command or a VEX statement). Boxed: most
    /// findings have none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub triage: Option<Box<Triage>>,
    /// Existing, but a formatter or moderniser rewrote its code (SARIF `baselineState:
    /// updated`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub changed: bool,
    /// Other ids comments and triage may have been recorded under: an earlier identity
    /// formula's, a changed finding's new text's, and those of the other tools' findings
    /// merged into this one. Lookups by id honour them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub previous_ids: Vec<FindingId>,
    /// The flagged lines as they read at head (at most five), kept only for the findings an
    /// inline comment can show (new, on a line the change touched): a review of 100,000
    /// findings must not hold 100,000 copies of code. Never set for a secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snippet: Option<Box<str>>,
    /// The owner it is counted for (`@org/team`, else `@user` or an email): from the
    /// `CODEOWNERS` file at its introducing commit, or at head when none is known. `None`
    /// when the file names nobody for its path, it has no path, or the repository was not
    /// read (reports uploaded alone).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
}

impl ReviewedFinding {
    /// Whether `id` names this finding: its id or one of its previous ids.
    pub fn is_known_as(&self, id: &FindingId) -> bool {
        self.id == *id || self.previous_ids.contains(id)
    }

    /// Its id, then its previous ids.
    pub fn ids(&self) -> impl Iterator<Item = &FindingId> {
        std::iter::once(&self.id).chain(&self.previous_ids)
    }

    /// Dismissed or accepted (the pipeline keeps no expired acceptance): it blocks nothing
    /// and gets no new comment. A pending request does not count.
    pub fn is_triaged_away(&self) -> bool {
        self.triage
            .as_ref()
            .is_some_and(|t| t.state != super::triage::TriageState::Pending)
    }
}

/// How the gate came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum GateOutcome {
    Passed,
    /// A new finding at or above the threshold.
    Failed,
    /// A scanner reported on one side only, so the review cannot tell what changed.
    Incomplete,
}

impl GateOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            GateOutcome::Passed => "passed",
            GateOutcome::Failed => "failed",
            GateOutcome::Incomplete => "incomplete",
        }
    }
}

/// The gate's threshold (`--fail-on`, `.posture.yml`'s `fail_on`): block new findings at or
/// above a severity, or never block (`none`: report only, for a first rollout). A type of its
/// own rather than a [`Severity`], because `none` is a scanner's spelling of `info`: read as
/// a severity, "never fail" would fail on everything.
///
/// Ordered from strictest to loosest (`info` < … < `critical` < `none`), so a higher
/// threshold is a looser gate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(from = "FailOnName", into = "FailOnName")]
pub enum FailOn {
    AtOrAbove(Severity),
    Never,
}

impl FailOn {
    /// Whether a new finding of `severity` blocks the merge.
    pub fn blocks(self, severity: Severity) -> bool {
        match self {
            FailOn::AtOrAbove(threshold) => severity >= threshold,
            FailOn::Never => false,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            FailOn::AtOrAbove(severity) => severity.as_str(),
            FailOn::Never => "none",
        }
    }
}

impl fmt::Display for FailOn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for FailOn {
    type Err = String;

    /// `none`, or a severity by any name [`Severity`] accepts (`error`, `moderate`, …).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.trim().eq_ignore_ascii_case("none") {
            return Ok(FailOn::Never);
        }
        s.parse().map(FailOn::AtOrAbove).map_err(|_| {
            format!(
                "unknown threshold `{}` (expected none, critical, high, medium, low or info)",
                s.trim()
            )
        })
    }
}

impl From<Severity> for FailOn {
    fn from(severity: Severity) -> Self {
        FailOn::AtOrAbove(severity)
    }
}

/// `fail_on`'s spellings in files and JSON: exactly the lower-case names, so a config typo is
/// an error listing them.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
enum FailOnName {
    Info,
    Low,
    Medium,
    High,
    Critical,
    None,
}

impl From<FailOnName> for FailOn {
    fn from(name: FailOnName) -> Self {
        match name {
            FailOnName::Info => FailOn::AtOrAbove(Severity::Info),
            FailOnName::Low => FailOn::AtOrAbove(Severity::Low),
            FailOnName::Medium => FailOn::AtOrAbove(Severity::Medium),
            FailOnName::High => FailOn::AtOrAbove(Severity::High),
            FailOnName::Critical => FailOn::AtOrAbove(Severity::Critical),
            FailOnName::None => FailOn::Never,
        }
    }
}

impl From<FailOn> for FailOnName {
    fn from(fail_on: FailOn) -> Self {
        match fail_on {
            FailOn::AtOrAbove(Severity::Info) => FailOnName::Info,
            FailOn::AtOrAbove(Severity::Low) => FailOnName::Low,
            FailOn::AtOrAbove(Severity::Medium) => FailOnName::Medium,
            FailOn::AtOrAbove(Severity::High) => FailOnName::High,
            FailOn::AtOrAbove(Severity::Critical) => FailOnName::Critical,
            FailOn::Never => FailOnName::None,
        }
    }
}

/// The merge gate: fails when a new, unignored, untriaged finding is at or above the
/// threshold; incomplete when a scanner's report is missing on one side (unless the base
/// config says `gate: {on_missing_report: pass}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Gate {
    /// `outcome == passed`.
    pub passed: bool,
    pub outcome: GateOutcome,
    pub fail_on: Option<FailOn>,
    /// How many findings block the merge.
    pub blocking: usize,
}

/// One setting a change to `.posture.yml` would alter (it applies after merge, never to
/// the change itself).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfigChange {
    /// The setting, as the file spells it (`fail_on`, `ignore`, `reports`, …).
    pub setting: String,
    /// What changes, in words.
    pub description: String,
    /// The change makes the gate more permissive (a new ignore, a higher `fail_on`, a
    /// narrower `reports` glob, …).
    pub loosens: bool,
}

/// How many scanner results went into de-duplication and how many findings came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Dedup {
    pub results: usize,
    pub findings: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    pub new: usize,
    pub existing: usize,
    pub fixed: usize,
    pub ignored: usize,
    pub suppressed: usize,
    /// Findings dismissed or accepted by a person (not counted in new or existing).
    #[serde(default)]
    pub triaged: usize,
    /// Findings of a tool that reported on one side only.
    #[serde(default)]
    pub not_scanned: usize,
    /// The tools whose report is missing at head or at base.
    #[serde(default)]
    pub missing_tools: Vec<String>,
    /// De-duplication of the head reports.
    pub dedup: Dedup,
    pub gate: Gate,
}

/// The outcome of reviewing one change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Review {
    /// The base and head revisions as given, resolved to commit ids.
    pub base: String,
    pub head: String,
    pub merge_base: String,
    pub summary: Summary,
    /// Ordered by risk, highest first.
    pub findings: Vec<ReviewedFinding>,
    /// Things the reader should know (unmapped paths, missing baselines, …).
    pub warnings: Vec<String>,
    /// The upgrades that fix the vulnerable dependencies at head, one per package and
    /// target version, most advisories cleared first.
    #[serde(default)]
    pub upgrades: Vec<UpgradeSuggestion>,
    /// What the change's own `.posture.yml` would alter; the review applies the base's.
    #[serde(default)]
    pub config_changes: Vec<ConfigChange>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fail_on_none_never_blocks_and_is_not_a_spelling_of_info() {
        // `none` is how some scanners say `info`: as a threshold it must mean never.
        assert_eq!("none".parse::<Severity>(), Ok(Severity::Info));
        for text in ["none", "None", " NONE "] {
            assert_eq!(text.parse::<FailOn>(), Ok(FailOn::Never), "{text}");
        }
        for severity in Severity::ALL {
            assert!(!FailOn::Never.blocks(severity), "{severity}");
        }
        let high: FailOn = "error".parse().unwrap();
        assert_eq!(high, FailOn::AtOrAbove(Severity::High));
        assert!(high.blocks(Severity::Critical) && high.blocks(Severity::High));
        assert!(!high.blocks(Severity::Medium));
        let error = "hgh".parse::<FailOn>().unwrap_err();
        assert!(error.contains("expected none, critical"), "{error}");
    }

    #[test]
    fn fail_on_orders_strictest_first_and_none_loosest() {
        let info = FailOn::AtOrAbove(Severity::Info);
        let critical = FailOn::AtOrAbove(Severity::Critical);
        assert!(info < critical && critical < FailOn::Never);
    }

    #[test]
    fn fail_on_is_written_and_read_by_its_lower_case_name() {
        assert_eq!(serde_json::to_value(FailOn::Never).unwrap(), "none");
        let critical = FailOn::AtOrAbove(Severity::Critical);
        assert_eq!(serde_json::to_value(critical).unwrap(), "critical");
        assert_eq!(FailOn::Never.to_string(), "none");
        let read: FailOn = serde_json::from_str("\"none\"").unwrap();
        assert_eq!(read, FailOn::Never);
        // Files take exact names only: an alias in a config is a typo to report.
        assert!(serde_json::from_str::<FailOn>("\"error\"").is_err());
    }
}
