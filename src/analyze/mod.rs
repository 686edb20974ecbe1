//! The pure pipeline: correlate, attribute, prioritise, remediate, apply policy.

pub mod linehash;
pub mod manifest;
pub mod remediation;
pub mod versions;
