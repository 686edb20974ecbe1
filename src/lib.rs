//! posture: application security posture management for GitHub and GitLab.
//!
//! The crate is laid out as the pipeline it runs. In the middle, pure and I/O-free:
//! [`ingest`] turns scanner reports into [`model::Finding`]s and [`analyze`] correlates,
//! attributes, ranks and remediates them into a [`model::Review`]. At the edges: [`git`]
//! reads repositories, [`config`] reads `.posture.yml`, [`report`] renders the review, and
//! [`review`] wires them together for the CLI (and, later, the server).

pub mod analyze;
pub mod config;
pub mod git;
pub mod ingest;
pub mod model;
pub mod report;
pub mod review;
pub mod store;
pub mod server;
