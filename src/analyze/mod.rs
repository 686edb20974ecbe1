//! The pure pipeline: correlate, attribute, prioritise, remediate, apply policy.
//!
//! Everything here takes plain data and returns plain data: no git, no network, no disk.
//! [`crate::review`] gathers the inputs at the edges and calls [`run`].

pub mod correlate;
pub mod diff;
pub mod identity;
pub mod linehash;
pub mod manifest;
pub mod remediation;
pub mod sources;
pub mod versions;
