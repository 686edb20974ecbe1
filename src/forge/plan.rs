//! What to publish for a review, given what was published before: pure, no network. The
//! job hands the plan to a [`super::Forge`]; because the plan starts from the comments that
//! exist (found by their hidden markers), a re-run, a redelivered webhook or a force-push
//! updates what is there, posts only what is new, and resolves what was fixed.
//!
//! Inline comments go only on lines this change added (the forges refuse others), at most
//! `max_inline` new ones per run, highest risk first; the rest are in the summary.

use std::collections::{HashMap, HashSet};

use crate::model::{ChangeSet, FindingId, Review, ReviewedFinding, Status};
use crate::report::{self, RenderError};

use super::{Annotation, AnnotationLevel, GateStatus, InlineComment, PostedComment, Published};

/// GitHub's limit on a check run's summary and on a comment body.
pub const MAX_BODY_CHARS: usize = 65_535;

/// Everything one run publishes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub create: Vec<InlineComment>,
    /// Existing comments whose text changed, with the new text.
    pub update: Vec<(PostedComment, String)>,
    /// Comments of findings this change no longer has.
    pub resolve: Vec<PostedComment>,
    /// New findings in the diff that got no inline comment (over the cap).
    pub over_cap: Vec<FindingId>,
    pub gate: GateStatus,
}

/// Where a finding's comment goes.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Placement {
    path: String,
    old_path: String,
    start_line: Option<u32>,
    line: u32,
    /// The comment's range is exactly the upgrade's declaring line: offer a suggestion.
    suggest: bool,
}

/// Plans the publication of `review` on a change whose diff is `changes`.
pub fn plan(
    review: &Review,
    changes: &ChangeSet,
    published: &Published,
    max_inline: usize,
) -> Result<Plan, RenderError> {
    let posted: HashMap<&FindingId, &PostedComment> = published
        .comments
        .iter()
        .map(|comment| (&comment.finding, comment))
        .collect();
    let mut create = Vec::new();
    let mut update = Vec::new();
    let mut over_cap = Vec::new();
    let mut current: HashSet<&FindingId> = HashSet::new();
    for finding in review.findings.iter().filter(|f| wants_comment(f)) {
        let Some(place) = placement(finding, changes) else {
            continue;
        };
        current.insert(&finding.id);
        let body = report::finding_comment(finding, place.suggest)?;
        match posted.get(&finding.id) {
            Some(existing) => {
                if existing.body.trim() != body.trim() {
                    update.push(((*existing).clone(), body));
                }
            }
            None if create.len() < max_inline => create.push(InlineComment {
                finding: finding.id.clone(),
                path: place.path,
                old_path: place.old_path,
                line: place.line,
                start_line: place.start_line,
                body,
            }),
            None => over_cap.push(finding.id.clone()),
        }
    }
    let resolve = published
        .comments
        .iter()
        .filter(|comment| !comment.resolved && !current.contains(&comment.finding))
        .filter(|comment| !still_open(review, &comment.finding))
        .cloned()
        .collect();
    Ok(Plan {
        create,
        update,
        resolve,
        over_cap,
        gate: gate(review),
    })
}

/// New, shown findings are commented on; ignored and suppressed ones are not.
fn wants_comment(finding: &ReviewedFinding) -> bool {
    finding.status == Status::New
        && finding.in_diff
        && finding.ignored.is_none()
        && !finding.finding.suppressed
}

/// A finding still reported as new but no longer placeable (its line moved out of the diff)
/// keeps its comment: it is not fixed.
fn still_open(review: &Review, id: &FindingId) -> bool {
    review
        .findings
        .iter()
        .any(|f| &f.id == id && f.status == Status::New && f.ignored.is_none())
}

/// The lines to comment on: the upgrade's declaring line for a dependency, else the flagged
/// lines; only lines this change added, and a range only when all of it was added.
fn placement(finding: &ReviewedFinding, changes: &ChangeSet) -> Option<Placement> {
    let upgrade_line = finding
        .upgrade
        .as_ref()
        .and_then(|u| Some((u.manifest.clone()?, u.line?, u.suggested_text.is_some())));
    let (path, start, end, suggestible) = match upgrade_line {
        Some((manifest, line, suggestible)) => (manifest, line, line, suggestible),
        None => {
            let location = finding.finding.location.as_ref()?;
            let (start, end) = location.lines()?;
            (location.path.clone(), start, end.max(start), false)
        }
    };
    let file = changes
        .files
        .iter()
        .find(|f| f.new_path.as_deref() == Some(path.as_str()))?;
    let added = |line: u32| file.added_lines.binary_search(&line).is_ok();
    let old_path = file.old_path.clone().unwrap_or_else(|| path.clone());
    if (start..=end).all(added) {
        return Some(Placement {
            path,
            old_path,
            start_line: (end > start).then_some(start),
            line: end,
            suggest: suggestible && start == end,
        });
    }
    let line = (start..=end).rev().find(|&line| added(line))?;
    Some(Placement {
        path,
        old_path,
        start_line: None,
        line,
        suggest: false,
    })
}

/// The merge gate as the forge shows it, with every new finding that has a line as an
/// annotation (blocking ones as failures).
pub fn gate(review: &Review) -> GateStatus {
    let gate = &review.summary.gate;
    let threshold = gate.fail_on;
    let title = if gate.passed {
        match review.summary.new {
            0 => "No new findings".to_owned(),
            1 => "1 new finding, none blocking".to_owned(),
            n => format!("{n} new findings, none blocking"),
        }
    } else if gate.blocking == 1 {
        "1 new finding blocks the merge".to_owned()
    } else {
        format!("{} new findings block the merge", gate.blocking)
    };
    let annotations = review
        .findings
        .iter()
        .filter(|f| f.status == Status::New && f.ignored.is_none() && !f.finding.suppressed)
        .filter_map(|f| {
            let location = f.finding.location.as_ref()?;
            let (start, end) = location.lines()?;
            let blocking = threshold.is_some_and(|t| f.finding.severity >= t);
            Some(Annotation {
                path: location.path.clone(),
                start_line: start,
                end_line: end.max(start),
                level: if blocking {
                    AnnotationLevel::Failure
                } else {
                    AnnotationLevel::Warning
                },
                title: format!(
                    "{} ({}, risk {})",
                    f.finding.rule, f.finding.severity, f.risk.score
                ),
                message: truncate(&f.finding.title, 1000),
            })
        })
        .collect();
    let summary = format!(
        "posture reviewed {}…{}: {} new, {} existing, {} fixed.{}",
        short(&review.merge_base),
        short(&review.head),
        review.summary.new,
        review.summary.existing,
        review.summary.fixed,
        threshold
            .map(|t| format!(" New findings at or above **{t}** block the merge."))
            .unwrap_or_default()
    );
    GateStatus {
        head_sha: review.head.clone(),
        passed: gate.passed,
        title,
        summary,
        annotations,
    }
}

/// Cuts `text` to `max` characters on a character boundary, saying so.
pub fn truncate(text: &str, max: usize) -> String {
    const NOTE: &str = "\n\n… (cut: too long to show in full)";
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let keep = max.saturating_sub(NOTE.chars().count());
    let end = text.char_indices().nth(keep).map_or(text.len(), |(i, _)| i);
    format!("{}{NOTE}", &text[..end])
}

fn short(sha: &str) -> &str {
    sha.get(..10).unwrap_or(sha)
}
