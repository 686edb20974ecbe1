//! Rendering (stub)
