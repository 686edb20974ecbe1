//! Subcommands of the `posture` binary beyond review and serve: API tokens, uploading scans
//! to a server, the org report, `doctor`, and GitLab webhook setup. Binary-only: the
//! library does the work.

pub mod doctor;
pub mod gitlab;
pub mod report;
pub mod token;
pub mod upload;
