//! .posture.yml (stub)
