//! Alerts and the SIEM stream: the event log delivered, once per event and sink, to the
//! security team's tools.
//!
//! The flow, from the log outwards:
//! - [`rules`]: which events an org's alert rules pick, for which sinks, grouped how (pure);
//! - [`event`]: what an alert says about its finding; [`format`] renders it as OCSF, ECS or
//!   posture's own JSON (pure);
//! - [`outbox`]: reads the log after each sink's cursor into grouped messages, and delivers
//!   due messages with retries, dead-lettering and sink health (the only part that runs);
//! - [`sinks`]: the webhook, Slack, Splunk HEC and file edges;
//! - [`scheduled`]: the SLA and acceptance events nothing else writes, and the weekly
//!   [`digest`].

pub mod digest;
pub mod event;
pub mod format;
pub mod outbox;
pub mod rules;
pub mod scheduled;
pub mod sinks;

pub use event::{AlertEvent, AlertKind, FindingFacts, Links, PackageFacts};
pub use format::Format;
