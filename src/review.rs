//! Orchestration (stub)
