//! (stub: replaced by the remediation module)
