//! posture: application security posture management for GitHub and GitLab.
//!
//! The crate is laid out as the pipeline it runs. In the middle, pure and I/O-free:
//! [`ingest`] turns scanner reports into [`model::Finding`]s and [`analyze`] correlates,
//! attributes, ranks and remediates them into a [`model::Review`]. At the edges: [`git`]
//! reads repositories, [`config`] reads `.posture.yml`, [`report`] renders the review, and
//! [`review`] wires them together for the CLI. The service: [`server`] receives webhooks,
//! [`store`] keeps deliveries, jobs and history (SQLite or PostgreSQL), [`jobs`] runs them.

pub mod access;
pub mod alerts;
pub mod analyze;
pub mod api;
pub mod ci;
pub mod config;
pub mod doctor;
pub mod envfile;
pub mod forge;
pub mod git;
pub mod history;
pub mod ingest;
pub mod inventory;
pub mod jobs;
pub mod model;
pub mod redact;
pub mod report;
pub mod review;
pub mod server;
pub mod settings;
pub mod setup;
pub mod store;
pub mod triage;
pub mod variables;
pub mod web;
