//! Scanner reports in, normalised findings out. (stub: replaced by the ingest module)

use crate::model::Finding;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Sarif,
    OsvScanner,
}

#[derive(Debug, Clone, Default)]
pub struct Report {
    pub source: String,
    pub tools: Vec<String>,
    pub findings: Vec<Finding>,
    pub warnings: Vec<String>,
}
