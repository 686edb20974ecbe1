//! The vocabulary every stage speaks: findings as scanners report them, the change under
//! review, and the review posture produces. Plain data only: no I/O lives here.

mod change;
mod finding;
mod review;

pub use change::{ChangeSet, ChangeStatus, CommitInfo, FileBlame, FileChange, Hunk};
pub use finding::{
    Advisory, AffectedRange, CodeFix, Ecosystem, Finding, Kind, Location, Package, RangeEvent,
    RangeKind, Severity, Snapshot,
};
pub use review::{
    Dedup, FindingId, Gate, Introduced, Review, ReviewedFinding, Risk, RiskFactor, Status, Summary,
    Upgrade,
};
