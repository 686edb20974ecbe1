//! Subcommands of the `posture` binary beyond review and serve: API tokens, who reads what
//! (`auth check`), uploading scans
//! to a server, the org report, `doctor`, alert sinks, and GitLab webhook setup. Binary-only: the
//! library does the work.

pub mod auth;
pub mod doctor;
pub mod gitlab;
pub mod report;
pub mod sbom;
pub mod sinks;
pub mod token;
pub mod upload;

/// How the audit log names a person exporting from the command line: `cli USER`.
pub fn audit_actor() -> String {
    let user = std::env::var("USER").unwrap_or_else(|_| "unknown".into());
    format!("cli {user}")
}
