//! `--format json`: the `posture.review/v1` contract that other tools read.
//!
//! The view is built explicitly here rather than derived from the model, so that renaming a
//! model field can never silently break the contract.

use serde::Serialize;

use super::RenderError;
use crate::ingest::IngestError;
use crate::model::{
    Advisory, CodeFix, Dedup, DependencyScope, Gate, Introduced, Package, Review, ReviewedFinding,
    Risk, Upgrade, UpgradeSuggestion,
};

pub const SCHEMA: &str = "posture.review/v1";

#[derive(Serialize)]
struct View<'a> {
    schema: &'static str,
    base: &'a str,
    head: &'a str,
    merge_base: &'a str,
    summary: SummaryView<'a>,
    findings: Vec<FindingView<'a>>,
    /// The upgrades, one per package and target version, each with every advisory it
    /// clears and every manifest it edits.
    upgrades: &'a [UpgradeSuggestion],
    warnings: &'a [String],
    refused_reports: Vec<String>,
}

#[derive(Serialize)]
struct SummaryView<'a> {
    new: usize,
    existing: usize,
    fixed: usize,
    ignored: usize,
    suppressed: usize,
    dedup: Dedup,
    gate: &'a Gate,
    upgrades: UpgradeCounts,
}

/// How many upgrade suggestions the review makes and how many distinct vulnerabilities
/// (advisories, counting aliases once) they clear.
#[derive(Serialize)]
struct UpgradeCounts {
    suggestions: usize,
    advisories: usize,
}

#[derive(Serialize)]
struct FindingView<'a> {
    id: &'a str,
    status: &'static str,
    in_diff: bool,
    kind: &'static str,
    tools: &'a [String],
    rule: &'a str,
    title: &'a str,
    message: &'a str,
    severity: &'static str,
    path: Option<&'a str>,
    line: Option<u32>,
    end_line: Option<u32>,
    outside_repo: bool,
    package: Option<&'a Package>,
    advisories: &'a [Advisory],
    cwes: &'a [u32],
    introduced_by: Option<&'a Introduced>,
    risk: &'a Risk,
    upgrade: Option<&'a Upgrade>,
    /// For a dependency: development-only or not, direct or transitive (when known).
    dependency: Option<&'a DependencyScope>,
    /// The scanner's proposed code change, if it made one.
    fix: Option<&'a CodeFix>,
    line_hash: Option<&'a str>,
    ignored: Option<&'a str>,
    help_uri: Option<&'a str>,
}

impl<'a> From<&'a ReviewedFinding> for FindingView<'a> {
    fn from(r: &'a ReviewedFinding) -> Self {
        let f = &r.finding;
        let location = f.location.as_ref();
        FindingView {
            id: &r.id.0,
            status: r.status.as_str(),
            in_diff: r.in_diff,
            kind: f.kind.as_str(),
            tools: &f.tools,
            rule: &f.rule,
            title: &f.title,
            message: &f.message,
            severity: f.severity.as_str(),
            path: location.map(|l| l.path.as_str()),
            line: location.and_then(|l| l.start_line),
            end_line: location.and_then(|l| l.lines()).map(|(_, end)| end),
            outside_repo: location.is_some_and(|l| l.outside_repo),
            package: f.package.as_ref(),
            advisories: &f.advisories,
            cwes: &f.cwes,
            introduced_by: r.introduced_by.as_ref(),
            risk: &r.risk,
            upgrade: r.upgrade.as_ref(),
            dependency: r.dependency.as_ref(),
            fix: f.fix.as_ref(),
            line_hash: r.line_hash.as_deref(),
            ignored: r.ignored.as_deref(),
            help_uri: f.help_uri.as_deref(),
        }
    }
}

pub(super) fn render(review: &Review, refused: &[IngestError]) -> Result<String, RenderError> {
    let view = View {
        schema: SCHEMA,
        base: &review.base,
        head: &review.head,
        merge_base: &review.merge_base,
        summary: SummaryView {
            new: review.summary.new,
            existing: review.summary.existing,
            fixed: review.summary.fixed,
            ignored: review.summary.ignored,
            suppressed: review.summary.suppressed,
            dedup: review.summary.dedup,
            gate: &review.summary.gate,
            upgrades: UpgradeCounts {
                suggestions: review.upgrades.len(),
                advisories: crate::analyze::upgrade::cleared_advisories(review),
            },
        },
        findings: review.findings.iter().map(FindingView::from).collect(),
        upgrades: &review.upgrades,
        warnings: &review.warnings,
        refused_reports: refused.iter().map(ToString::to_string).collect(),
    };
    let mut out = serde_json::to_string_pretty(&view)?;
    out.push('\n');
    Ok(out)
}
