//! Renders a [`Review`] for people and tools: markdown (the PR comment), JSON
//! (`posture.review/v1`) and SARIF (the new findings, with GitHub's line hashes).
//!
//! Every finding shown to people carries its short id (`P-3f9a1c`, what `/posture` commands
//! name) and, in comments, its hidden marker; the markers' text never changes.

pub mod budget;
pub mod charts;
pub mod dashboard;
pub mod digest;
pub mod html;
mod json;
mod links;
mod markdown;
pub mod org;
mod sarif;
#[cfg(test)]
mod size_tests;

use crate::ingest::IngestError;
use crate::model::Review;

pub use budget::Limit;
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
    /// A page of something that does not exist (a repository the org does not have).
    #[error("no such {0}")]
    NotFound(String),
}

/// How a format renders, where it has a choice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    /// Which findings a SARIF log lists.
    pub sarif_scope: SarifScope,
    /// How large markdown may be (the highest-risk findings, then how many were left out);
    /// JSON and SARIF are for tools and are never cut.
    pub markdown_limit: Limit,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            sarif_scope: SarifScope::default(),
            markdown_limit: Limit::CLI_DEFAULT,
        }
    }
}

/// Renders `review` in `format`; `refused` names reports the review had to run without.
/// Markdown is held to the CLI's default size ([`Limit::CLI_DEFAULT`]).
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
        Format::Markdown => markdown::render(
            review,
            refused,
            &markdown::Options {
                limit: options.markdown_limit,
                markers: true,
                notes: &[],
            },
        ),
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

/// The review as a forge's summary comment (or check-run summary): no per-finding markers
/// (those belong to inline comments), `notes` added to the notes, within `limit`.
pub fn summary(
    review: &Review,
    refused: &[IngestError],
    notes: &[String],
    limit: Limit,
) -> Result<String, RenderError> {
    markdown::render(
        review,
        refused,
        &markdown::Options {
            limit,
            markers: false,
            notes,
        },
    )
}

/// The inline comment on one line: each of `findings` (highest risk first) with its marker,
/// then how to triage it by reply. A triaged finding's section opens with the decision;
/// `suggest` offers the first upgrade as a one-click suggestion of the commented line.
/// Within [`Limit::GITHUB_COMMENT`], the smaller of the forges' limits.
pub fn finding_comment(
    findings: &[&crate::model::ReviewedFinding],
    suggest: bool,
) -> Result<String, RenderError> {
    markdown::render_comment(findings, suggest, Limit::GITHUB_COMMENT)
}

/// The hidden marker that lets a re-run find and update its own comment for a finding.
pub fn finding_marker(id: &crate::model::FindingId) -> String {
    format!("<!-- posture:finding:{id} -->")
}

/// The hidden marker of the one summary comment per pull request.
pub const SUMMARY_MARKER: &str = "<!-- posture:summary -->";

/// The finding id in a body carrying [`finding_marker`], if any: the first, when a comment
/// is about several findings on one line.
pub fn parse_finding_marker(body: &str) -> Option<crate::model::FindingId> {
    parse_finding_markers(body).into_iter().next()
}

/// Every finding id a body's [`finding_marker`]s name, in order, without repeats: a comment
/// about several findings on one line carries one marker each (a comment by an older
/// version, one).
pub fn parse_finding_markers(body: &str) -> Vec<crate::model::FindingId> {
    const PREFIX: &str = "<!-- posture:finding:";
    let mut ids: Vec<crate::model::FindingId> = Vec::new();
    let mut rest = body;
    while let Some(start) = rest.find(PREFIX) {
        rest = &rest[start + PREFIX.len()..];
        let Some(end) = rest.find(" -->") else {
            break;
        };
        let id = rest[..end].trim();
        if !id.is_empty()
            && id.len() <= 128
            && !id.contains(char::is_whitespace)
            && !ids.iter().any(|known| known.0 == id)
        {
            ids.push(crate::model::FindingId(id.to_owned()));
        }
        rest = &rest[end..];
    }
    ids
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::FindingId;

    #[test]
    fn every_marker_of_a_comment_is_read_once_in_order() {
        let body = "x <!-- posture:finding:a --> y <!-- posture:finding:b -->\n<!-- posture:finding:a --> <!-- posture:finding:has space --> <!-- posture:finding:c";
        assert_eq!(
            parse_finding_markers(body),
            [FindingId("a".into()), FindingId("b".into())]
        );
        assert_eq!(parse_finding_marker(body), Some(FindingId("a".into())));
        assert_eq!(parse_finding_marker("no marker"), None);
    }
}
