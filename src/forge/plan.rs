//! What to publish for a review, given what was published before: pure, no network. The
//! job hands the plan to a [`super::Forge`]; because the plan starts from the comments that
//! exist (found by their hidden markers), a re-run, a redelivered webhook or a force-push
//! updates what is there, posts only what is new, and resolves what was fixed.
//!
//! Inline comments go only on lines this change added (the forges refuse others), at most
//! `max_inline` new ones per run, highest risk first; the rest are in the summary.

use std::collections::{HashMap, HashSet};

use crate::model::{ChangeSet, FindingId, GateOutcome, Review, ReviewedFinding, Status};
use crate::report::{self, Limit, RenderError};

use super::{Annotation, AnnotationLevel, GateStatus, InlineComment, PostedComment, Published};

/// The most one comment may hold on `forge`: GitHub's comments take 65,536 characters,
/// GitLab's notes 1,000,000.
pub fn comment_limit(forge: crate::store::Forge) -> Limit {
    match forge {
        crate::store::Forge::GitHub => Limit::GITHUB_COMMENT,
        crate::store::Forge::GitLab => Limit::GITLAB_NOTE,
    }
}

/// Everything one run publishes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub create: Vec<InlineComment>,
    /// Existing comments whose text changed, with the new text.
    pub update: Vec<(PostedComment, String)>,
    /// Comments of findings this change no longer has.
    pub resolve: Vec<PostedComment>,
    /// Comments of findings a person dismissed or accepted: their threads are resolved
    /// (their text, updated above, shows the verdict).
    pub settle: Vec<PostedComment>,
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

/// One comment to write: on one line (head side), about every finding placed there.
struct Slot<'r> {
    /// The comment posted before, as an index into [`Published::comments`].
    comment: Option<usize>,
    /// Each finding with its position in the review (risk order) and its placement.
    members: Vec<(usize, &'r ReviewedFinding, Placement)>,
}

/// Plans the publication of `review` on a change whose diff is `changes`.
///
/// Findings are grouped by the line (and side) their comment goes on: one comment per line
/// lists each finding and carries each one's marker. A finding that already has a comment
/// stays in it; one without joins the comment on its line, if there is one, else a new
/// comment. A comment is edited when what it lists changes (a finding fixed, triaged or
/// added), resolved "fixed" when none of its findings remains, and settled (resolved
/// silently) when every one left is triaged away.
pub fn plan(
    review: &Review,
    changes: &ChangeSet,
    published: &Published,
    max_inline: usize,
) -> Result<Plan, RenderError> {
    let posted: HashMap<&FindingId, usize> = published
        .comments
        .iter()
        .enumerate()
        .flat_map(|(i, comment)| comment.findings.iter().map(move |id| (id, i)))
        .collect();
    let mut slots: Vec<Slot<'_>> = Vec::new();
    let mut slot_of_comment: HashMap<usize, usize> = HashMap::new();
    let mut slot_of_line: HashMap<(String, u32), usize> = HashMap::new();
    let mut waiting = Vec::new();
    for (index, finding) in review.findings.iter().enumerate() {
        if !wants_comment(finding) {
            continue;
        }
        let Some(place) = placement(finding, changes) else {
            continue;
        };
        // A comment posted under a previous id (an earlier identity formula's) is this
        // finding's: updated with the current marker, never posted twice.
        match finding.ids().find_map(|id| posted.get(id)) {
            Some(&comment) => {
                let slot = *slot_of_comment.entry(comment).or_insert_with(|| {
                    slots.push(Slot {
                        comment: Some(comment),
                        members: Vec::new(),
                    });
                    slots.len() - 1
                });
                slot_of_line
                    .entry((place.path.clone(), place.line))
                    .or_insert(slot);
                slots[slot].members.push((index, finding, place));
            }
            // A triaged finding keeps (and updates) a comment it has, but gets no new one.
            None if finding.is_triaged_away() => {}
            None => waiting.push((index, finding, place)),
        }
    }
    for (index, finding, place) in waiting {
        let slot = *slot_of_line
            .entry((place.path.clone(), place.line))
            .or_insert_with(|| {
                slots.push(Slot {
                    comment: None,
                    members: Vec::new(),
                });
                slots.len() - 1
            });
        slots[slot].members.push((index, finding, place));
    }
    // New comments in the order of their riskiest finding, so the cap keeps the riskiest.
    slots.sort_by_key(|slot| slot.members.iter().map(|(i, ..)| *i).min());

    let mut create = Vec::new();
    let mut update = Vec::new();
    let mut over_cap = Vec::new();
    let mut settle = Vec::new();
    let open = still_open(review);
    for mut slot in slots {
        slot.members.sort_by_key(|(i, ..)| *i);
        let findings: Vec<&ReviewedFinding> = slot.members.iter().map(|(_, f, _)| *f).collect();
        let ids: Vec<FindingId> = findings.iter().map(|f| f.id.clone()).collect();
        let (_, _, first) = &slot.members[0];
        // Ranges ending on one line, each wholly added: their union is too.
        let start = slot
            .members
            .iter()
            .map(|(_, _, p)| p.start_line.unwrap_or(p.line))
            .min()
            .filter(|start| *start < first.line);
        // A suggestion replaces the commented lines: only when that is exactly one line.
        let suggest = start.is_none() && slot.members.iter().any(|(_, _, p)| p.suggest);
        let mut body = report::finding_comment(&findings, suggest)?;
        match slot.comment {
            Some(comment) => {
                let existing = &published.comments[comment];
                // A finding of this comment still open but no longer placeable (its line
                // left the diff) keeps its marker here: it stays this comment's, so replies
                // reach it and it is never commented on twice.
                for id in &existing.findings {
                    if open.contains(id) && !findings.iter().any(|f| f.is_known_as(id)) {
                        body.push_str(&format!("\n{}", report::finding_marker(id)));
                    }
                }
                if existing.body.trim() != body.trim() {
                    update.push((existing.clone(), body));
                }
                if findings.iter().all(|f| f.is_triaged_away()) && !existing.resolved {
                    settle.push(existing.clone());
                }
            }
            None if create.len() < max_inline => create.push(InlineComment {
                findings: ids,
                path: first.path.clone(),
                old_path: first.old_path.clone(),
                line: first.line,
                start_line: start,
                body,
            }),
            None => over_cap.extend(ids),
        }
    }
    let resolve = published
        .comments
        .iter()
        .enumerate()
        .filter(|(i, comment)| !comment.resolved && !slot_of_comment.contains_key(i))
        .filter(|(_, comment)| !comment.findings.iter().any(|id| open.contains(id)))
        .map(|(_, comment)| comment.clone())
        .collect();
    Ok(Plan {
        create,
        update,
        resolve,
        settle,
        over_cap,
        gate: gate(review),
    })
}

/// New, shown findings are commented on; ignored and suppressed ones are not. Triaged
/// ones keep (and update) a comment they already have, but get no new one.
fn wants_comment(finding: &ReviewedFinding) -> bool {
    finding.status == Status::New
        && finding.in_diff
        && finding.ignored.is_none()
        && !finding.finding.suppressed
}

/// The findings still reported as new but no longer placeable (their line moved out of the
/// diff) keep their comment: they are not fixed. Nor are those whose scanner did not run
/// this time.
fn still_open(review: &Review) -> HashSet<&FindingId> {
    review
        .findings
        .iter()
        .filter(|f| f.ignored.is_none() && matches!(f.status, Status::New | Status::NotScanned))
        .flat_map(ReviewedFinding::ids)
        .collect()
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
    // The last added line within the range, found in the sorted added lines rather than by
    // walking a range that a report may claim up to `u32::MAX`.
    let below = file.added_lines.partition_point(|&line| line <= end);
    let line = *file.added_lines[..below]
        .last()
        .filter(|&&line| line >= start)?;
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
    let title = match gate.outcome {
        GateOutcome::Passed => match review.summary.new {
            0 => "No new findings".to_owned(),
            1 => "1 new finding, none blocking".to_owned(),
            n => format!("{n} new findings, none blocking"),
        },
        GateOutcome::Failed if gate.blocking == 1 => "1 new finding blocks the merge".to_owned(),
        GateOutcome::Failed => format!("{} new findings block the merge", gate.blocking),
        GateOutcome::Incomplete => format!(
            "Incomplete: no report from {} on one side",
            review.summary.missing_tools.join(", ")
        ),
    };
    let annotations = review
        .findings
        .iter()
        .filter(|f| f.status == Status::New && f.ignored.is_none() && !f.finding.suppressed)
        .filter(|f| !f.is_triaged_away())
        .filter_map(|f| {
            let location = f.finding.location.as_ref()?;
            let (start, end) = location.lines()?;
            let blocking = threshold.is_some_and(|t| t.blocks(f.finding.severity));
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::forge::CommentId;
    use crate::model::{
        ChangeStatus, Dedup, FileChange, Finding, Gate, Kind, Location, Risk, Severity, Summary,
        Upgrade,
    };

    fn sast(id: &str, path: &str, lines: (u32, u32), status: Status) -> ReviewedFinding {
        let mut finding = Finding::new(Kind::Sast, "semgrep", format!("rule-{id}"));
        finding.severity = Severity::High;
        finding.title = format!("problem {id}");
        finding.location = Some(Location::new(path).with_lines(lines.0, lines.1));
        ReviewedFinding {
            id: FindingId(id.to_owned()),
            status,
            in_diff: status == Status::New,
            finding,
            line_hash: None,
            introduced_by: None,
            introduced_unknown: None,
            risk: Risk::default(),
            upgrade: None,
            ignored: None,
            dependency: None,
            triage: None,
            changed: false,
            previous_ids: Vec::new(),
            snippet: None,
            owner: None,
        }
    }

    fn review(findings: Vec<ReviewedFinding>) -> Review {
        let new = findings.iter().filter(|f| f.status == Status::New).count();
        Review {
            base: "b".repeat(40),
            head: "h".repeat(40),
            merge_base: "b".repeat(40),
            summary: Summary {
                new,
                existing: 0,
                fixed: 0,
                ignored: 0,
                suppressed: 0,
                triaged: 0,
                not_scanned: 0,
                missing_tools: Vec::new(),
                dedup: Dedup::default(),
                gate: Gate {
                    passed: new == 0,
                    outcome: if new == 0 {
                        GateOutcome::Passed
                    } else {
                        GateOutcome::Failed
                    },
                    fail_on: Some(Severity::High.into()),
                    blocking: new,
                },
            },
            findings,
            upgrades: Vec::new(),
            warnings: Vec::new(),
            config_changes: Vec::new(),
        }
    }

    /// `app.py` renamed from `old.py` with lines 10–12 and 20 added; `deps.txt` line 3 added.
    fn changes() -> ChangeSet {
        let file = |old: &str, new: &str, added: Vec<u32>| FileChange {
            old_path: Some(old.to_owned()),
            new_path: Some(new.to_owned()),
            status: ChangeStatus::Modified,
            hunks: Vec::new(),
            added_lines: added,
            binary: false,
        };
        ChangeSet {
            base: "b".repeat(40),
            head: "h".repeat(40),
            files: vec![
                file("old.py", "app.py", vec![10, 11, 12, 20]),
                file("requirements.txt", "requirements.txt", vec![3]),
            ],
        }
    }

    fn posted(id: &str, body: &str, resolved: bool) -> PostedComment {
        PostedComment {
            id: CommentId(format!("c-{id}")),
            thread: None,
            findings: vec![FindingId(id.to_owned())],
            body: body.to_owned(),
            resolved,
        }
    }

    #[test]
    fn new_findings_on_added_lines_get_comments_with_markers_and_ranges() {
        let review = review(vec![
            sast("a", "app.py", (10, 12), Status::New),
            sast("b", "app.py", (19, 20), Status::New),
            sast("c", "app.py", (30, 30), Status::New),
            sast("d", "app.py", (11, 11), Status::Existing),
        ]);
        let plan = plan(&review, &changes(), &Published::default(), 25).unwrap();
        let placed: Vec<_> = plan
            .create
            .iter()
            .map(|c| {
                (
                    c.findings[0].0.as_str(),
                    c.path.as_str(),
                    c.old_path.as_str(),
                    c.start_line,
                    c.line,
                )
            })
            .collect();
        // a: all three lines added → a range; b: only line 20 added → that line alone;
        // c: not in the diff and d: not new → no comment.
        assert_eq!(
            placed,
            [
                ("a", "app.py", "old.py", Some(10), 12),
                ("b", "app.py", "old.py", None, 20),
            ]
        );
        assert!(plan.create[0].body.contains("<!-- posture:finding:a -->"));
        assert!(plan.create[0].body.contains("problem a"));
        assert!(plan.update.is_empty() && plan.resolve.is_empty());
        assert!(!plan.gate.passed);
        assert_eq!(plan.gate.annotations.len(), 3);
        assert_eq!(plan.gate.annotations[0].level, AnnotationLevel::Failure);
    }

    #[test]
    fn a_range_claimed_to_the_end_of_numbers_lands_on_its_last_added_line() {
        let review = review(vec![
            sast("wide", "app.py", (11, u32::MAX), Status::New),
            sast("past", "app.py", (21, u32::MAX), Status::New),
        ]);
        let plan = plan(&review, &changes(), &Published::default(), 25).unwrap();
        let placed: Vec<_> = plan
            .create
            .iter()
            .map(|c| (c.findings[0].0.as_str(), c.start_line, c.line))
            .collect();
        assert_eq!(placed, [("wide", None, 20)]);
    }

    #[test]
    fn a_rerun_posts_nothing_twice_updates_what_changed_and_resolves_what_is_gone() {
        let review = review(vec![
            sast("a", "app.py", (10, 10), Status::New),
            sast("b", "app.py", (11, 11), Status::New),
        ]);
        let first = plan(&review, &changes(), &Published::default(), 25).unwrap();
        let published = Published {
            summary: None,
            comments: vec![
                posted("a", &first.create[0].body, false),
                posted("b", "an older text <!-- posture:finding:b -->", false),
                posted("gone", "<!-- posture:finding:gone -->", false),
                posted("gone-too", "<!-- posture:finding:gone-too -->", true),
            ],
        };
        let again = plan(&review, &changes(), &published, 25).unwrap();
        assert!(again.create.is_empty(), "{:?}", again.create);
        assert_eq!(again.update.len(), 1);
        assert_eq!(again.update[0].0.findings[0].0, "b");
        assert_eq!(again.update[0].1, first.create[1].body);
        let resolved: Vec<&str> = again
            .resolve
            .iter()
            .map(|c| c.findings[0].0.as_str())
            .collect();
        assert_eq!(resolved, ["gone"]);
    }

    #[test]
    fn a_comment_posted_under_a_previous_id_is_the_finding_s() {
        let mut renamed = sast("new-id", "app.py", (10, 10), Status::New);
        renamed.previous_ids = vec![FindingId("old-id".into())];
        let review = review(vec![renamed]);
        let published = Published {
            summary: None,
            comments: vec![posted("old-id", "<!-- posture:finding:old-id -->", false)],
        };
        let plan = plan(&review, &changes(), &published, 25).unwrap();
        assert!(plan.create.is_empty(), "{:?}", plan.create);
        assert!(plan.resolve.is_empty(), "{:?}", plan.resolve);
        // Updated in place: its marker now carries the current id.
        assert_eq!(plan.update.len(), 1);
        assert_eq!(plan.update[0].0.findings[0].0, "old-id");
        assert!(plan.update[0].1.contains("<!-- posture:finding:new-id -->"));
    }

    #[test]
    fn the_cap_leaves_the_rest_to_the_summary_highest_risk_first() {
        let review = review(
            (10..=12)
                .map(|line| sast(&format!("f{line}"), "app.py", (line, line), Status::New))
                .collect(),
        );
        let plan = plan(&review, &changes(), &Published::default(), 2).unwrap();
        assert_eq!(plan.create.len(), 2);
        assert_eq!(plan.over_cap, [FindingId("f12".into())]);
    }

    #[test]
    fn an_upgrade_on_an_added_manifest_line_is_a_one_click_suggestion() {
        let mut finding = sast("dep", "requirements.txt", (3, 3), Status::New);
        finding.finding.kind = Kind::Sca;
        finding.upgrade = Some(Box::new(Upgrade {
            package: "jinja2".into(),
            from: "2.10".into(),
            to: "2.10.1".into(),
            manifest: Some("requirements.txt".into()),
            line: Some(3),
            fixes: vec!["PYSEC-2019-217".into()],
            breaking: false,
            current_text: Some("jinja2==2.10".into()),
            suggested_text: Some("jinja2==2.10.1 # ```".into()),
            via: None,
        }));
        let plan = plan(
            &review(vec![finding]),
            &changes(),
            &Published::default(),
            25,
        )
        .unwrap();
        let comment = &plan.create[0];
        assert_eq!(
            (comment.path.as_str(), comment.start_line, comment.line),
            ("requirements.txt", None, 3)
        );
        // The text holds three backticks, so the fence is four.
        assert!(
            comment
                .body
                .contains("````suggestion\njinja2==2.10.1 # ```\n````"),
            "{}",
            comment.body
        );
    }

    /// What a forge reads back after posting or editing `body`: its markers.
    fn read_back(id: &str, body: &str) -> PostedComment {
        PostedComment {
            id: CommentId(id.to_owned()),
            thread: None,
            findings: report::parse_finding_markers(body),
            body: body.to_owned(),
            resolved: false,
        }
    }

    fn dismissed() -> Box<crate::model::Triage> {
        use crate::model::{DismissReason, Triage, TriageSource, TriageState, Verdict};
        Box::new(Triage {
            state: TriageState::Dismissed,
            verdict: Verdict::Dismiss {
                reason: DismissReason::FalsePositive,
            },
            by: "alice".into(),
            at: "2026-12-04T10:00:00Z".parse().unwrap(),
            comment: None,
            source: TriageSource::Command {
                pull_request: 7,
                delivery_id: None,
            },
        })
    }

    #[test]
    fn findings_on_one_line_share_one_comment_that_lists_and_marks_each() {
        let mut low = sast("low", "app.py", (12, 12), Status::New);
        low.risk.score = 10;
        let mut high = sast("high", "app.py", (11, 12), Status::New);
        high.risk.score = 90;
        let other = sast("other", "app.py", (20, 20), Status::New);
        // The review is ordered by risk, highest first.
        let review = review(vec![high, other, low]);
        let plan = plan(&review, &changes(), &Published::default(), 25).unwrap();
        assert_eq!(plan.create.len(), 2, "{:?}", plan.create);
        let shared = &plan.create[0];
        assert_eq!(
            shared.findings,
            [FindingId("high".into()), FindingId("low".into())]
        );
        // Both ranges end on line 12, and all of 11–12 was added.
        assert_eq!((shared.start_line, shared.line), (Some(11), 12));
        assert_eq!(
            report::parse_finding_markers(&shared.body),
            shared.findings,
            "{}",
            shared.body
        );
        assert!(
            shared.body.contains("2 findings on this line"),
            "{}",
            shared.body
        );
        let (first, second) = (
            shared.body.find("problem high").unwrap(),
            shared.body.find("problem low").unwrap(),
        );
        assert!(first < second, "highest risk first: {}", shared.body);
        assert_eq!(plan.create[1].findings, [FindingId("other".into())]);
        // One comment counts once against the cap.
        let capped = super::plan(&review, &changes(), &Published::default(), 1).unwrap();
        assert_eq!(capped.create.len(), 1);
        assert_eq!(capped.create[0].findings.len(), 2);
        assert_eq!(capped.over_cap, [FindingId("other".into())]);
    }

    #[test]
    fn a_shared_comment_is_updated_not_reposted_edited_when_one_is_fixed_and_resolved_when_all_are()
    {
        let both = review(vec![
            sast("a", "app.py", (10, 10), Status::New),
            sast("b", "app.py", (10, 10), Status::New),
        ]);
        let first = plan(&both, &changes(), &Published::default(), 25).unwrap();
        assert_eq!(first.create.len(), 1);
        let published = Published {
            summary: None,
            comments: vec![read_back("c1", &first.create[0].body)],
        };
        // A re-run: nothing to post, nothing to edit.
        let again = plan(&both, &changes(), &published, 25).unwrap();
        assert!(again.create.is_empty() && again.update.is_empty() && again.resolve.is_empty());
        // `b` fixed: the comment is edited to list `a` alone, and stays open.
        let mut fixed_b = both.clone();
        fixed_b.findings[1].status = Status::Fixed;
        let edited = plan(&fixed_b, &changes(), &published, 25).unwrap();
        assert!(edited.create.is_empty() && edited.resolve.is_empty());
        assert_eq!(edited.update.len(), 1);
        assert_eq!(edited.update[0].0.id, CommentId("c1".into()));
        assert_eq!(
            report::parse_finding_markers(&edited.update[0].1),
            [FindingId("a".into())]
        );
        // `b` still open but out of the diff (its line moved): the comment keeps its marker.
        let mut moved_b = both.clone();
        moved_b.findings[1].in_diff = false;
        let kept = plan(&moved_b, &changes(), &published, 25).unwrap();
        assert!(kept.create.is_empty() && kept.resolve.is_empty());
        assert_eq!(kept.update.len(), 1);
        for (_, body) in &kept.update {
            assert_eq!(
                report::parse_finding_markers(body),
                [FindingId("a".into()), FindingId("b".into())]
            );
        }
        // A new finding on that line joins the comment rather than opening another.
        let mut joined = both.clone();
        joined
            .findings
            .push(sast("c", "app.py", (10, 10), Status::New));
        let joining = plan(&joined, &changes(), &published, 25).unwrap();
        assert!(joining.create.is_empty(), "{:?}", joining.create);
        assert_eq!(report::parse_finding_markers(&joining.update[0].1).len(), 3);
        // Both fixed: resolved, once.
        let mut gone = both.clone();
        for f in &mut gone.findings {
            f.status = Status::Fixed;
        }
        let resolved = plan(&gone, &changes(), &published, 25).unwrap();
        assert_eq!(resolved.resolve.len(), 1);
        assert_eq!(resolved.resolve[0].findings.len(), 2);
        assert!(resolved.update.is_empty());
    }

    #[test]
    fn a_shared_comment_is_settled_only_when_every_finding_left_is_triaged_away() {
        let both = review(vec![
            sast("a", "app.py", (10, 10), Status::New),
            sast("b", "app.py", (10, 10), Status::New),
        ]);
        let first = plan(&both, &changes(), &Published::default(), 25).unwrap();
        let published = Published {
            summary: None,
            comments: vec![read_back("c1", &first.create[0].body)],
        };
        let mut one_dismissed = both.clone();
        one_dismissed.findings[0].triage = Some(dismissed());
        let plan_one = plan(&one_dismissed, &changes(), &published, 25).unwrap();
        assert!(plan_one.settle.is_empty(), "b is still open");
        assert_eq!(plan_one.update.len(), 1, "a's section shows the verdict");
        assert!(plan_one.update[0].1.contains("Dismissed as false_positive"));
        // `b` fixed as well: only a dismissed finding is left, so the thread is settled.
        let mut rest = one_dismissed.clone();
        rest.findings[1].status = Status::Fixed;
        let settled = plan(&rest, &changes(), &published, 25).unwrap();
        assert_eq!(settled.settle.len(), 1);
        assert!(settled.resolve.is_empty());
    }

    #[test]
    fn comments_of_an_older_version_keep_their_own_findings() {
        // Before grouping, each finding on line 10 had a comment of its own.
        let both = review(vec![
            sast("a", "app.py", (10, 10), Status::New),
            sast("b", "app.py", (10, 10), Status::New),
        ]);
        let alone = |id: &str| {
            let one = review(vec![sast(id, "app.py", (10, 10), Status::New)]);
            plan(&one, &changes(), &Published::default(), 25)
                .unwrap()
                .create[0]
                .body
                .clone()
        };
        let published = Published {
            summary: None,
            comments: vec![read_back("c1", &alone("a")), read_back("c2", &alone("b"))],
        };
        let again = plan(&both, &changes(), &published, 25).unwrap();
        assert!(again.create.is_empty(), "{:?}", again.create);
        assert!(again.update.is_empty(), "{:?}", again.update);
        assert!(again.resolve.is_empty(), "neither is fixed");
        // A third finding there joins the first of them.
        let mut three = both.clone();
        three
            .findings
            .push(sast("c", "app.py", (10, 10), Status::New));
        let joined = plan(&three, &changes(), &published, 25).unwrap();
        assert!(joined.create.is_empty());
        assert_eq!(joined.update.len(), 1);
        assert_eq!(joined.update[0].0.id, CommentId("c1".into()));
    }

    #[test]
    fn truncation_keeps_character_boundaries_and_says_so() {
        let text = "é".repeat(100);
        let cut = truncate(&text, 60);
        assert!(cut.chars().count() <= 60);
        assert!(cut.ends_with("(cut: too long to show in full)"));
        assert_eq!(truncate("short", 60), "short");
    }
}
