//! The vocabulary every stage speaks: findings as scanners report them, the change under
//! review, and the review posture produces. Plain data only: no I/O lives here.

mod change;
mod component;
mod context;
mod finding;
pub mod intel;
mod review;
mod triage;

pub use change::{ChangeCommits, ChangeSet, ChangeStatus, CommitInfo, FileBlame, FileChange, Hunk};
pub use component::{Component, ComponentScope, Licenses, versionless_purl};
pub use context::{BusinessContext, DataClass, Environment, Tier};
pub use finding::{
    Advisory, AffectedRange, CodeFix, Confidence, Ecosystem, Finding, Fingerprints, Kind, Location,
    Package, RangeEvent, RangeKind, Severity, Snapshot, ToolRule,
};
pub use intel::{EpssScore, Intel, KevEntry};
pub use review::{
    ConfigChange, Dedup, DependencyScope, FailOn, FindingId, Gate, GateOutcome, Introduced, Review,
    ReviewedFinding, Risk, RiskFactor, Status, Summary, Transitive, Unattributed, Upgrade,
    UpgradeLocation, UpgradeSuggestion,
};
pub use triage::{DismissReason, Triage, TriageSource, TriageState, Verdict};
