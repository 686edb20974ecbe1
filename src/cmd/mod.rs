//! Subcommands of the `posture` binary that speak to the org-wide history: API tokens,
//! uploading scans to a server, and the org report. Binary-only: the library does the work.

pub mod doctor;
pub mod gitlab;
pub mod report;
pub mod token;
pub mod upload;
