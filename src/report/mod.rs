//! Renders a [`Review`] for people and tools: markdown (the PR comment), JSON
//! (`posture.review/v1`) and SARIF (the new findings, with GitHub's line hashes).
//!
//! Every finding shown to people carries its short id (`P-3f9a1c`, what `/posture` commands
//! name) and, in comments, its hidden marker; the markers' text never changes.

mod json;
mod markdown;
pub mod org;
mod sarif;

use crate::ingest::IngestError;
use crate::model::Review;

pub use json::SCHEMA;
pub use sarif::{MAX_RESULTS as MAX_SARIF_RESULTS, SarifScope};

/// The output formats of `posture review`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Markdown,
    Json,
    Sarif,
}

#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("template: {0}")]
    Template(#[from] handlebars::RenderError),
    #[error("template registration: {0}")]
    Registration(#[from] Box<handlebars::TemplateError>),
    #[error("json: {0}")]
    Json(#[from] serde_json::Error),
    #[error("writing: {0}")]
    Io(#[from] std::io::Error),
}

/// How a format renders, where it has a choice.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Options {
    /// Which findings a SARIF log lists.
    pub sarif_scope: SarifScope,
}

/// Renders `review` in `format`; `refused` names reports the review had to run without.
pub fn render(
    format: Format,
    review: &Review,
    refused: &[IngestError],
) -> Result<String, RenderError> {
    render_with(format, review, refused, &Options::default())
}

/// [`render`] with the format's options.
pub fn render_with(
    format: Format,
    review: &Review,
    refused: &[IngestError],
    options: &Options,
) -> Result<String, RenderError> {
    match format {
        Format::Markdown => markdown::render(review, refused),
        Format::Json => json::render(review, refused),
        Format::Sarif => sarif::render(review, options.sarif_scope),
    }
}

/// [`render_with`] straight into `out`; JSON is streamed, never held whole.
pub fn write(
    format: Format,
    review: &Review,
    refused: &[IngestError],
    options: &Options,
    out: &mut dyn std::io::Write,
) -> Result<(), RenderError> {
    match format {
        Format::Json => json::write(review, refused, out),
        other => Ok(out.write_all(render_with(other, review, refused, options)?.as_bytes())?),
    }
}

/// One finding as an inline review comment, marker included; `suggest` offers its upgrade
/// as a one-click suggestion of the commented line. A triaged finding's comment opens with
/// the decision; every comment names the finding's short id and ends with how to triage it
/// by reply.
pub fn finding_comment(
    finding: &crate::model::ReviewedFinding,
    suggest: bool,
) -> Result<String, RenderError> {
    markdown::render_finding(finding, suggest)
}

/// The hidden marker that lets a re-run find and update its own comment for a finding.
pub fn finding_marker(id: &crate::model::FindingId) -> String {
    format!("<!-- posture:finding:{id} -->")
}

/// The hidden marker of the one summary comment per pull request.
pub const SUMMARY_MARKER: &str = "<!-- posture:summary -->";

/// The finding id in a body carrying [`finding_marker`], if any.
pub fn parse_finding_marker(body: &str) -> Option<crate::model::FindingId> {
    let start = body.find("<!-- posture:finding:")? + "<!-- posture:finding:".len();
    let rest = &body[start..];
    let id = rest[..rest.find(" -->")?].trim();
    (!id.is_empty() && !id.contains(char::is_whitespace))
        .then(|| crate::model::FindingId(id.to_owned()))
}
