//! `--format json`: the `posture.review/v1` contract that other tools read.
//!
//! The view is built explicitly here rather than derived from the model, so that renaming a
//! model field can never silently break the contract.

use serde::Serialize;

use super::RenderError;
use crate::ingest::IngestError;
use chrono::{DateTime, NaiveDate, Utc};

use crate::model::{
    Advisory, CodeFix, ConfigChange, Dedup, DependencyScope, FindingId, Gate, Introduced, Package,
    Review, ReviewedFinding, Risk, Triage, Unattributed, Upgrade, UpgradeSuggestion,
};

pub const SCHEMA: &str = "posture.review/v1";

#[derive(Serialize)]
struct View<'a> {
    schema: &'static str,
    base: &'a str,
    head: &'a str,
    merge_base: &'a str,
    summary: SummaryView<'a>,
    findings: Findings<'a>,
    /// The upgrades, one per package and target version, each with every advisory it
    /// clears and every manifest it edits.
    upgrades: &'a [UpgradeSuggestion],
    warnings: &'a [String],
    refused_reports: Vec<String>,
    /// What the change's own `.posture.yml` would alter once merged (the review applied the
    /// base's); empty when it changes nothing or the config came from elsewhere.
    config_changes: Vec<ChangeView<'a>>,
}

#[derive(Serialize)]
struct ChangeView<'a> {
    setting: &'a str,
    description: &'a str,
    loosens: bool,
}

impl<'a> From<&'a ConfigChange> for ChangeView<'a> {
    fn from(c: &'a ConfigChange) -> Self {
        ChangeView {
            setting: &c.setting,
            description: &c.description,
            loosens: c.loosens,
        }
    }
}

#[derive(Serialize)]
struct SummaryView<'a> {
    new: usize,
    existing: usize,
    fixed: usize,
    ignored: usize,
    suppressed: usize,
    /// Findings dismissed or accepted by a person: in neither `new` nor `existing`.
    triaged: usize,
    /// Findings of a tool that reported on one side only.
    not_scanned: usize,
    /// The tools whose report is missing at base or at head.
    missing_tools: &'a [String],
    dedup: Dedup,
    /// `{passed, outcome (passed|failed|incomplete), fail_on, blocking}`.
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
    /// `P-` and the id's first six hex digits, as comments and `/posture` commands name it.
    short_id: String,
    /// `new`, `existing`, `fixed` or `not_scanned`.
    status: &'static str,
    /// Existing, but a formatter or moderniser rewrote its code (quote style, `super()`,
    /// f-strings, a call split over lines): the same problem, not a fix and a new one.
    changed: bool,
    /// Other ids comments and triage may have been recorded under: the id an earlier
    /// identity formula gave the finding, a changed finding's id for its new text, and the
    /// ids of other tools' findings merged into it.
    previous_ids: &'a [FindingId],
    in_diff: bool,
    kind: &'static str,
    tools: &'a [String],
    rule: &'a str,
    /// Every tool with the rule it reported the finding under: one pair per tool, or each
    /// tool's own rule when several reports were merged (Bandit's `B506` and Semgrep's
    /// `…avoid-pyyaml-load` on one line). `rule` is the lead's.
    rules: Vec<RuleView<'a>>,
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
    /// Why `introduced_by` is null although blame was read (`shallow_clone`,
    /// `before_change`).
    introduced_unknown: Option<Unattributed>,
    risk: &'a Risk,
    upgrade: Option<&'a Upgrade>,
    /// For a dependency: development-only or not, direct or transitive (when known).
    dependency: Option<&'a DependencyScope>,
    /// The scanner's proposed code change, if it made one.
    fix: Option<&'a CodeFix>,
    line_hash: Option<&'a str>,
    ignored: Option<&'a str>,
    help_uri: Option<&'a str>,
    /// A person's decision about the finding (a `/posture` command or a VEX statement).
    triage: Option<TriageView<'a>>,
}

#[derive(Serialize)]
struct RuleView<'a> {
    tool: &'a str,
    rule: &'a str,
}

impl<'a> RuleView<'a> {
    fn of(f: &'a crate::model::Finding) -> Vec<RuleView<'a>> {
        if f.rules.is_empty() {
            f.tools
                .iter()
                .map(|tool| RuleView {
                    tool,
                    rule: &f.rule,
                })
                .collect()
        } else {
            f.rules
                .iter()
                .map(|r| RuleView {
                    tool: &r.tool,
                    rule: &r.rule,
                })
                .collect()
        }
    }
}

#[derive(Serialize)]
struct TriageView<'a> {
    /// `dismissed`, `accepted` or `pending`.
    state: &'static str,
    /// The dismissal reason, or `accepted_risk`.
    reason: &'static str,
    by: &'a str,
    at: DateTime<Utc>,
    until: Option<NaiveDate>,
    comment: Option<&'a str>,
}

impl<'a> From<&'a Triage> for TriageView<'a> {
    fn from(t: &'a Triage) -> Self {
        TriageView {
            state: t.state.as_str(),
            reason: t.reason(),
            by: &t.by,
            at: t.at,
            until: t.until(),
            comment: t.comment.as_deref(),
        }
    }
}

impl<'a> From<&'a ReviewedFinding> for FindingView<'a> {
    fn from(r: &'a ReviewedFinding) -> Self {
        let f = &r.finding;
        let location = f.location.as_ref();
        FindingView {
            id: &r.id.0,
            short_id: crate::triage::short_id(&r.id),
            status: r.status.as_str(),
            changed: r.changed,
            previous_ids: &r.previous_ids,
            in_diff: r.in_diff,
            kind: f.kind.as_str(),
            tools: &f.tools,
            rule: &f.rule,
            rules: RuleView::of(f),
            title: &f.title,
            message: &f.message,
            severity: f.severity.as_str(),
            path: location.map(|l| l.path.as_str()),
            line: location.and_then(|l| l.start_line),
            end_line: location.and_then(|l| l.lines()).map(|(_, end)| end),
            outside_repo: location.is_some_and(|l| l.outside_repo),
            package: f.package.as_deref(),
            advisories: &f.advisories,
            cwes: &f.cwes,
            introduced_by: r.introduced_by.as_ref(),
            introduced_unknown: r.introduced_unknown,
            risk: &r.risk,
            upgrade: r.upgrade.as_deref(),
            dependency: r.dependency.as_ref(),
            fix: f.fix.as_deref(),
            line_hash: r.line_hash.as_deref(),
            ignored: r.ignored.as_deref(),
            help_uri: f.help_uri.as_deref(),
            triage: r.triage.as_deref().map(TriageView::from),
        }
    }
}

pub(super) fn render(review: &Review, refused: &[IngestError]) -> Result<String, RenderError> {
    let mut out = Vec::new();
    write(review, refused, &mut out)?;
    Ok(String::from_utf8(out).expect("serde_json writes UTF-8"))
}

/// Streams the document to `out`: a review of 100,000 findings is over 100 MB of JSON, never
/// held whole in memory.
pub(super) fn write(
    review: &Review,
    refused: &[IngestError],
    out: &mut dyn std::io::Write,
) -> Result<(), RenderError> {
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
            triaged: review.summary.triaged,
            not_scanned: review.summary.not_scanned,
            missing_tools: &review.summary.missing_tools,
            dedup: review.summary.dedup,
            gate: &review.summary.gate,
            upgrades: UpgradeCounts {
                suggestions: review.upgrades.len(),
                advisories: crate::analyze::upgrade::cleared_advisories(review),
            },
        },
        findings: Findings(&review.findings),
        upgrades: &review.upgrades,
        warnings: &review.warnings,
        refused_reports: refused.iter().map(ToString::to_string).collect(),
        config_changes: review.config_changes.iter().map(ChangeView::from).collect(),
    };
    serde_json::to_writer_pretty(&mut *out, &view)?;
    out.write_all(b"\n")?;
    Ok(())
}

/// The findings, each viewed as it is written rather than all at once.
struct Findings<'a>(&'a [ReviewedFinding]);

impl Serialize for Findings<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.0.iter().map(FindingView::from))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::super::markdown::tests::{dismissed, finding, review};
    use crate::model::{ConfigChange, GateOutcome, Status, ToolRule};

    #[test]
    fn the_contract_s_new_fields() {
        let mut triaged = finding("3f9a1c77e0d1", Status::New);
        triaged.triage = Some(Box::new(dismissed(Some("fixture"))));
        let mut rewritten = finding("abcdef0123", Status::Existing);
        rewritten.changed = true;
        rewritten.previous_ids = vec![crate::model::FindingId("fedcba9876".into())];
        let mut r = review(
            vec![
                triaged,
                finding("0123456789", Status::NotScanned),
                rewritten,
            ],
            GateOutcome::Incomplete,
        );
        r.summary.missing_tools = vec!["semgrep".into()];
        r.config_changes = vec![ConfigChange {
            setting: "fail_on".into(),
            description: "high → critical".into(),
            loosens: true,
        }];
        let out: Value = serde_json::from_str(&super::render(&r, &[]).unwrap()).unwrap();
        assert_eq!(
            out["summary"]["gate"],
            json!({"passed": false, "outcome": "incomplete", "fail_on": "high", "blocking": 0})
        );
        assert_eq!(out["summary"]["triaged"], 1);
        assert_eq!(out["summary"]["not_scanned"], 1);
        assert_eq!(out["summary"]["missing_tools"], json!(["semgrep"]));
        assert_eq!(
            out["config_changes"],
            json!([{"setting": "fail_on", "description": "high → critical", "loosens": true}])
        );
        let first = &out["findings"][0];
        assert_eq!(first["short_id"], "P-3f9a1c");
        assert_eq!(
            first["triage"],
            json!({"state": "dismissed", "reason": "false_positive", "by": "alice",
                   "at": "2026-12-04T10:00:00Z", "until": null, "comment": "fixture"})
        );
        assert_eq!(first["changed"], false);
        assert_eq!(first["previous_ids"], json!([]));
        let second = &out["findings"][1];
        assert_eq!(second["status"], "not_scanned");
        assert_eq!(second["triage"], Value::Null);
        let third = &out["findings"][2];
        assert_eq!(third["status"], "existing");
        assert_eq!(third["changed"], true);
        assert_eq!(third["previous_ids"], json!(["fedcba9876"]));
        assert_eq!(first["rules"], json!([{"tool": "semgrep", "rule": "eval"}]));
    }

    #[test]
    fn a_merged_finding_lists_every_tool_and_rule() {
        let mut merged = finding("3f9a1c77e0d1", Status::New);
        merged.finding.tools = vec!["Semgrep OSS".into(), "Bandit".into()];
        merged.finding.rule = "avoid-pyyaml-load".into();
        merged.finding.rules = vec![
            ToolRule {
                tool: "Semgrep OSS".into(),
                rule: "avoid-pyyaml-load".into(),
            },
            ToolRule {
                tool: "Bandit".into(),
                rule: "B506".into(),
            },
        ];
        let r = review(vec![merged], GateOutcome::Failed);
        let out: Value = serde_json::from_str(&super::render(&r, &[]).unwrap()).unwrap();
        let f = &out["findings"][0];
        assert_eq!(f["rule"], "avoid-pyyaml-load", "the lead's, as before");
        assert_eq!(f["tools"], json!(["Semgrep OSS", "Bandit"]));
        assert_eq!(
            f["rules"],
            json!([{"tool": "Semgrep OSS", "rule": "avoid-pyyaml-load"},
                   {"tool": "Bandit", "rule": "B506"}])
        );
    }
}
