//! `--format markdown`: what the pull request comment says. Layout lives in the handlebars
//! templates under `templates/`; this module prepares a view of plain strings for them.

use handlebars::Handlebars;
use serde::Serialize;

use super::{RenderError, SUMMARY_MARKER, finding_marker};
use crate::ingest::IngestError;
use crate::model::{
    CodeFix, FailOn, GateOutcome, Review, ReviewedFinding, Severity, Status, Triage, TriageSource,
    TriageState, Upgrade, UpgradeSuggestion, Verdict,
};

const REVIEW_TEMPLATE: &str = include_str!("../../templates/review.md.hbs");
const FINDING_TEMPLATE: &str = include_str!("../../templates/finding.md.hbs");
/// Scanner messages can be long; the comment shows the start and links to the rule.
const MAX_MESSAGE_CHARS: usize = 600;

#[derive(Serialize)]
struct View {
    marker: &'static str,
    gate_icon: &'static str,
    headline: String,
    gate_text: String,
    table: Vec<Row>,
    new: Vec<Item>,
    existing: Vec<Item>,
    fixed: Vec<Item>,
    ignored: Vec<Item>,
    /// Dismissed, or accepted and not expired: off the gate and out of the new findings.
    triaged: Vec<Item>,
    /// Set when a scanner reported on one side only.
    not_scanned: Option<NotScanned>,
    /// What the change's own `.posture.yml` would alter (the review applied the base's).
    config_changes: Vec<ChangeLine>,
    /// Each upgrade suggestion, as markdown.
    upgrades: Vec<String>,
    /// Section sizes (handlebars cannot count in strict mode).
    counts: Counts,
    notes: Vec<String>,
}

#[derive(Serialize)]
struct Counts {
    existing: usize,
    fixed: usize,
    ignored: usize,
    triaged: usize,
    upgrades: usize,
    advisories: usize,
}

#[derive(Serialize)]
struct NotScanned {
    /// Which tools did not report where, and what that means for their findings.
    text: String,
    count: usize,
    items: Vec<Item>,
}

#[derive(Serialize)]
struct ChangeLine {
    setting: String,
    description: String,
    loosens: bool,
}

#[derive(Serialize)]
struct Row {
    label: &'static str,
    counts: Vec<usize>,
}

#[derive(Serialize)]
struct Item {
    marker: String,
    /// `P-` and six hex digits: how people name the finding in `/posture` commands.
    short_id: String,
    /// A person's decision about it, as one line (dismissed, accepted, pending).
    verdict: Option<String>,
    /// Inline comments end with how to triage by reply.
    hint: bool,
    severity_icon: &'static str,
    severity: &'static str,
    title: String,
    risk: u8,
    location: String,
    kind: &'static str,
    rule: String,
    tools: String,
    in_diff: bool,
    introduced: Option<String>,
    message: String,
    fix: Option<String>,
    factors: Vec<Factor>,
    ignored_reason: Option<String>,
}

#[derive(Serialize)]
struct Factor {
    points: String,
    name: String,
    detail: String,
}

pub(super) fn render(review: &Review, refused: &[IngestError]) -> Result<String, RenderError> {
    let mut registry = Handlebars::new();
    registry.set_strict_mode(true);
    registry.register_escape_fn(escape_markdown);
    registry
        .register_template_string("review", REVIEW_TEMPLATE)
        .map_err(Box::new)?;
    registry
        .register_partial("finding", FINDING_TEMPLATE)
        .map_err(Box::new)?;
    Ok(registry.render("review", &view(review, refused))?)
}

/// One finding as an inline review comment (the summary's entry for it, with its marker).
/// With `suggest`, an upgrade's edit is offered as a one-click suggestion of the commented
/// line instead of a diff.
pub(super) fn render_finding(
    finding: &ReviewedFinding,
    suggest: bool,
) -> Result<String, RenderError> {
    let mut registry = Handlebars::new();
    registry.set_strict_mode(true);
    registry.register_escape_fn(escape_markdown);
    registry
        .register_template_string("finding", FINDING_TEMPLATE)
        .map_err(Box::new)?;
    let mut item = item(finding);
    item.hint = true;
    if suggest
        && let Some(upgrade) = &finding.upgrade
        && let Some(after) = &upgrade.suggested_text
    {
        let fence = fence_for(after);
        item.fix = Some(format!(
            "{}\n\n{fence}suggestion\n{after}\n{fence}",
            fix_sentence(upgrade)
        ));
    }
    Ok(registry.render("finding", &item)?)
}

fn view(review: &Review, refused: &[IngestError]) -> View {
    let triaged_away = |f: &ReviewedFinding| f.ignored.is_none() && f.is_triaged_away();
    let counted = |f: &ReviewedFinding| f.ignored.is_none() && !f.is_triaged_away();
    let shown = |status: Status| -> Vec<Item> {
        review
            .findings
            .iter()
            .filter(|f| f.status == status && counted(f))
            .map(item)
            .collect()
    };
    let gate = &review.summary.gate;
    let threshold = gate.fail_on.map_or("—".to_string(), |s| s.to_string());
    let headline = match review.summary.new {
        0 => "no new findings".to_string(),
        1 => "1 new finding".to_string(),
        n => format!("{n} new findings"),
    };
    let missing = MissingTools::of(review);
    let gate_text = match gate.outcome {
        GateOutcome::Passed if gate.fail_on == Some(FailOn::Never) => {
            "Merge gate **passed**: it blocks nothing (`fail_on: none`).".to_string()
        }
        GateOutcome::Passed => {
            format!("Merge gate **passed**: no new finding at or above **{threshold}**.")
        }
        GateOutcome::Failed => format!(
            "Merge gate **failed**: {} new finding{} at or above **{threshold}**.",
            gate.blocking,
            if gate.blocking == 1 { "" } else { "s" }
        ),
        GateOutcome::Incomplete => format!(
            "Merge gate ⚠️ incomplete: {}; the gate fails until every scanner reports on both sides, or set `gate: {{on_missing_report: pass}}`.",
            missing.text()
        ),
    };
    let mut notes: Vec<String> = refused
        .iter()
        .map(|e| format!("Report refused, the review ran without it: {e}"))
        .collect();
    notes.extend(
        review
            .warnings
            .iter()
            .filter(|w| !missing.explains(w))
            .cloned(),
    );
    let dedup = review.summary.dedup;
    if dedup.results > dedup.findings {
        notes.push(format!(
            "{} results from the head reports were merged into {} findings (one problem reported by several tools or runs is listed once).",
            dedup.results, dedup.findings
        ));
    }
    if review.summary.suppressed > 0 {
        notes.push(format!(
            "{} finding(s) suppressed in the source (for example `nosemgrep`) are not shown.",
            review.summary.suppressed
        ));
    }
    let (new, existing, fixed) = (
        shown(Status::New),
        shown(Status::Existing),
        shown(Status::Fixed),
    );
    let not_scanned_items = shown(Status::NotScanned);
    let not_scanned = (!missing.is_empty() || !not_scanned_items.is_empty()).then(|| {
        let count = not_scanned_items.len();
        NotScanned {
            text: format!(
                "{}: {} of {} could not be compared with the baseline, so {} neither new nor fixed.",
                capitalise(&missing.text()),
                match count {
                    1 => "1 finding".to_string(),
                    n => format!("{n} findings"),
                },
                if missing.tools.len() == 1 {
                    "this tool"
                } else {
                    "these tools"
                },
                if count == 1 { "it is" } else { "they are" }
            ),
            count,
            items: not_scanned_items,
        }
    });
    let ignored: Vec<Item> = review
        .findings
        .iter()
        .filter(|f| f.ignored.is_some())
        .map(item)
        .collect();
    let triaged: Vec<Item> = review
        .findings
        .iter()
        .filter(|f| triaged_away(f))
        .map(item)
        .collect();
    let mut table_rows = vec![
        ("new", Status::New),
        ("existing", Status::Existing),
        ("fixed", Status::Fixed),
    ];
    if not_scanned.as_ref().is_some_and(|n| n.count > 0) {
        table_rows.push(("not scanned", Status::NotScanned));
    }
    View {
        counts: Counts {
            existing: existing.len(),
            fixed: fixed.len(),
            ignored: ignored.len(),
            triaged: triaged.len(),
            upgrades: review.upgrades.len(),
            advisories: crate::analyze::upgrade::cleared_advisories(review),
        },
        marker: SUMMARY_MARKER,
        gate_icon: match gate.outcome {
            GateOutcome::Passed => "✅",
            GateOutcome::Failed => "❌",
            GateOutcome::Incomplete => "⚠️",
        },
        headline,
        gate_text,
        table: table_rows
            .into_iter()
            .map(|(label, status)| Row {
                label,
                counts: Severity::ALL
                    .iter()
                    .map(|&s| {
                        review
                            .findings
                            .iter()
                            .filter(|f| f.status == status && counted(f))
                            .filter(|f| f.finding.severity == s)
                            .count()
                    })
                    .collect(),
            })
            .collect(),
        new,
        existing,
        fixed,
        ignored,
        triaged,
        not_scanned,
        config_changes: review
            .config_changes
            .iter()
            .map(|c| ChangeLine {
                setting: c.setting.clone(),
                description: c.description.clone(),
                loosens: c.loosens,
            })
            .collect(),
        upgrades: review.upgrades.iter().map(suggestion).collect(),
        notes,
    }
}

/// The tools that reported on one side only, and on which side, as far as the review's
/// warnings say (the summary lists the tools without their side).
struct MissingTools {
    /// Each tool and where its report is missing: `at head`, `at base` or `on one side`.
    tools: Vec<(String, &'static str)>,
}

impl MissingTools {
    const AT_HEAD: &'static str = "no report at head from ";
    const AT_BASE: &'static str = "no report at base from ";

    fn of(review: &Review) -> MissingTools {
        let listed = |prefix: &str| -> Vec<String> {
            review
                .warnings
                .iter()
                .filter_map(|w| w.strip_prefix(prefix))
                .flat_map(|rest| rest.split(':').next().unwrap_or("").split(", "))
                .map(str::to_string)
                .collect()
        };
        let (at_head, at_base) = (listed(Self::AT_HEAD), listed(Self::AT_BASE));
        let tools = review
            .summary
            .missing_tools
            .iter()
            .map(|tool| {
                let side = if at_head.contains(tool) {
                    "at head"
                } else if at_base.contains(tool) {
                    "at base"
                } else {
                    "on one side"
                };
                (tool.clone(), side)
            })
            .collect();
        MissingTools { tools }
    }

    fn is_empty(&self) -> bool {
        self.tools.is_empty()
    }

    /// Whether `warning` only says what [`MissingTools::text`] already says.
    fn explains(&self, warning: &str) -> bool {
        !self.is_empty()
            && (warning.starts_with(Self::AT_HEAD) || warning.starts_with(Self::AT_BASE))
    }

    /// `no report from semgrep at head and from gitleaks at base`.
    fn text(&self) -> String {
        let mut sides: Vec<(&str, Vec<&str>)> = Vec::new();
        for (tool, side) in &self.tools {
            match sides.iter_mut().find(|(s, _)| s == side) {
                Some((_, tools)) => tools.push(tool),
                None => sides.push((side, vec![tool])),
            }
        }
        let parts: Vec<String> = sides
            .iter()
            .map(|(side, tools)| format!("{} {side}", tools.join(", ")))
            .collect();
        format!("no report from {}", parts.join(" and from "))
    }
}

fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// A decision as one line: `✅ Dismissed as false_positive by @alice on 2026-12-04: why`.
fn verdict(triage: &Triage) -> String {
    let by = match &triage.source {
        TriageSource::Vex { document } if triage.by.trim().is_empty() => {
            format!("VEX document `{document}`")
        }
        TriageSource::Vex { document } => {
            format!("VEX document `{document}` ({})", one_line(&triage.by))
        }
        TriageSource::Command { .. } => format!("@{}", triage.by),
    };
    let on = triage.at.format("%Y-%m-%d");
    let comment = triage
        .comment
        .as_deref()
        .map(one_line)
        .filter(|c| !c.is_empty())
        .map(|c| format!(": {c}"))
        .unwrap_or_default();
    match (triage.state, triage.verdict) {
        (TriageState::Pending, verdict) => {
            let asked = match verdict {
                Verdict::Dismiss { reason } => format!("Dismissal as {reason}"),
                Verdict::Accept { until } => format!("Acceptance until {until}"),
            };
            format!(
                "⏳ {asked} requested by {by} on {on}, waiting for a second person's approval{comment}"
            )
        }
        (_, Verdict::Accept { until }) => {
            format!("✅ Accepted until {until} by {by} on {on}{comment}")
        }
        (_, Verdict::Dismiss { reason }) => {
            format!("✅ Dismissed as {reason} by {by} on {on}{comment}")
        }
    }
}

/// One upgrade suggestion: the package, the version, what it clears, and each edit.
fn suggestion(s: &UpgradeSuggestion) -> String {
    let mut out = format!(
        "**`{}` → {}**{} clears {}",
        s.package,
        s.to,
        if s.breaking {
            " (breaking upgrade: a new major version)"
        } else {
            ""
        },
        s.fixes.join(", ")
    );
    for location in &s.locations {
        let at = match (&location.manifest, location.line) {
            (Some(m), Some(l)) => format!("`{m}` line {l}"),
            (Some(m), None) => format!("`{m}`"),
            _ => "the manifest".to_string(),
        };
        out.push_str(&format!("\n  - {at} (from {})", location.from));
        if let (Some(before), Some(after)) = (&location.current_text, &location.suggested_text) {
            let body = format!("-{before}\n+{after}");
            let fence = fence_for(&body);
            out.push_str(&format!(
                "\n\n    {fence}diff\n    {}\n    {fence}\n",
                body.replace('\n', "\n    ")
            ));
        } else if let Some(via) = &location.via {
            out.push_str(&format!(": {}", via.advice));
        }
    }
    out
}

/// Who found it: the tools, each with its own rule when several rules were merged.
fn tools(f: &crate::model::Finding) -> String {
    if f.rules.is_empty() {
        return f.tools.join(", ");
    }
    let named: Vec<String> = f
        .rules
        .iter()
        .map(|r| format!("{} ({})", r.tool, r.rule))
        .collect();
    named.join(", ")
}

fn item(r: &ReviewedFinding) -> Item {
    let f = &r.finding;
    Item {
        marker: finding_marker(&r.id),
        short_id: crate::triage::short_id(&r.id),
        verdict: r.triage.as_deref().map(verdict),
        hint: false,
        severity_icon: severity_icon(f.severity),
        severity: f.severity.as_str(),
        title: one_line(&f.title),
        risk: r.risk.score,
        location: location(r),
        kind: f.kind.as_str(),
        rule: f.rule.clone(),
        tools: tools(f),
        in_diff: r.in_diff,
        introduced: r
            .introduced_by
            .as_ref()
            .map(|c| {
                format!(
                    "{} ({}, {}): {}",
                    c.commit.get(..10).unwrap_or(&c.commit),
                    c.author,
                    c.date.format("%Y-%m-%d"),
                    c.summary
                )
            })
            .or_else(|| r.introduced_unknown.map(|u| u.describe().to_owned())),
        message: truncate(
            &f.message
                .split("\n\n")
                .next()
                .unwrap_or("")
                .replace('\n', " "),
            MAX_MESSAGE_CHARS,
        ),
        fix: r
            .upgrade
            .as_deref()
            .map(fix)
            .or_else(|| f.fix.as_ref().map(|c| code_fix(c, &f.tools))),
        factors: r
            .risk
            .factors
            .iter()
            .map(|factor| Factor {
                points: format!("{:+}", factor.points),
                name: factor.name.to_string(),
                detail: factor.detail.clone(),
            })
            .collect(),
        ignored_reason: r.ignored.clone(),
    }
}

fn location(r: &ReviewedFinding) -> String {
    let f = &r.finding;
    if let Some(package) = &f.package {
        let version = package.version.as_deref().unwrap_or("?");
        let at = r
            .upgrade
            .as_ref()
            .and_then(|u| Some(format!(" in {}:{}", u.manifest.as_deref()?, u.line?)))
            .or_else(|| package.manifest.as_ref().map(|m| format!(" in {m}")))
            .unwrap_or_default();
        return format!("{} {}@{version}{at}", package.ecosystem, package.name);
    }
    match &f.location {
        Some(l) => match l.lines() {
            Some((start, end)) if end > start => format!("{}:{start}-{end}", l.path),
            Some((start, _)) => format!("{}:{start}", l.path),
            None => l.path.clone(),
        },
        None => "(no location)".into(),
    }
}

/// The fix as markdown: what to change, and the exact edit as a diff when known.
fn fix(u: &Upgrade) -> String {
    let mut out = fix_sentence(u);
    if let Some(via) = &u.via {
        out.push_str(&format!("\n\n{}", via.advice));
    }
    if let (Some(manifest), Some(line), Some(before), Some(after)) =
        (&u.manifest, u.line, &u.current_text, &u.suggested_text)
    {
        let body = format!("-{before}\n+{after}");
        let fence = fence_for(&body);
        out.push_str(&format!(
            "\n\nIn `{manifest}` line {line}:\n{fence}diff\n{body}\n{fence}"
        ));
    }
    out
}

fn fix_sentence(u: &Upgrade) -> String {
    format!(
        "**Fix:** upgrade `{}` from {} to **{}**{}, which clears {}.",
        u.package,
        u.from,
        u.to,
        if u.breaking {
            " (breaking upgrade: a new major version)"
        } else {
            ""
        },
        u.fixes.join(", ")
    )
}

/// The scanner's proposed change, shown for the developer to apply (scanners' column
/// arithmetic is too unreliable to offer it as a one-click edit).
fn code_fix(fix: &CodeFix, tools: &[String]) -> String {
    let lines = if fix.end_line > fix.start_line {
        format!("lines {}–{}", fix.start_line, fix.end_line)
    } else {
        format!("line {}", fix.start_line)
    };
    let fence = fence_for(&fix.replacement);
    format!(
        "**Suggested fix** ({}, {lines}){}:\n{fence}\n{}\n{fence}",
        tools.join(", "),
        fix.description
            .as_deref()
            .map(|d| format!(": {d}"))
            .unwrap_or_default(),
        fix.replacement
    )
}

/// A code fence longer than any run of backticks in `body`, so the body cannot close it.
pub(crate) fn fence_for(body: &str) -> String {
    let longest = body.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    "`".repeat(longest.max(2) + 1)
}

fn severity_icon(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical => "🔴",
        Severity::High => "🟠",
        Severity::Medium => "🟡",
        Severity::Low => "🔵",
        Severity::Info => "⚪",
    }
}

fn one_line(text: &str) -> String {
    truncate(text.lines().next().unwrap_or("").trim(), 160)
}

fn truncate(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", &text[..i]),
        None => text.to_string(),
    }
}

/// Scanner text must not open HTML (hidden markers, tags) or break the layout.
fn escape_markdown(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::model::{
        ConfigChange, Dedup, DismissReason, Finding, FindingId, Gate, Kind, Location, Risk, Summary,
    };

    pub(in crate::report) fn finding(id: &str, status: Status) -> ReviewedFinding {
        let mut f = Finding::new(Kind::Sast, "semgrep", "eval");
        f.title = "Use of eval".into();
        f.severity = Severity::High;
        f.location = Some(Location::new("app.py").with_lines(2, 2));
        ReviewedFinding {
            id: FindingId(id.into()),
            status,
            in_diff: true,
            finding: f,
            line_hash: None,
            introduced_by: None,
            introduced_unknown: None,
            risk: Risk::default(),
            upgrade: None,
            ignored: None,
            dependency: None,
            triage: None,
        }
    }

    pub(in crate::report) fn dismissed(comment: Option<&str>) -> Triage {
        Triage {
            state: TriageState::Dismissed,
            verdict: Verdict::Dismiss {
                reason: DismissReason::FalsePositive,
            },
            by: "alice".into(),
            at: "2026-12-04T10:00:00Z".parse().unwrap(),
            comment: comment.map(str::to_string),
            source: TriageSource::Command {
                pull_request: 7,
                delivery_id: None,
            },
        }
    }

    pub(in crate::report) fn review(
        findings: Vec<ReviewedFinding>,
        outcome: GateOutcome,
    ) -> Review {
        let count = |s: Status| {
            findings
                .iter()
                .filter(|f| f.status == s && !f.is_triaged_away())
                .count()
        };
        Review {
            base: "b".into(),
            head: "h".into(),
            merge_base: "b".into(),
            summary: Summary {
                new: count(Status::New),
                existing: count(Status::Existing),
                fixed: count(Status::Fixed),
                ignored: 0,
                suppressed: 0,
                triaged: findings.iter().filter(|f| f.is_triaged_away()).count(),
                not_scanned: count(Status::NotScanned),
                missing_tools: Vec::new(),
                dedup: Dedup::default(),
                gate: Gate {
                    passed: outcome == GateOutcome::Passed,
                    outcome,
                    fail_on: Some(Severity::High.into()),
                    blocking: usize::from(outcome == GateOutcome::Failed),
                },
            },
            findings,
            warnings: Vec::new(),
            upgrades: Vec::new(),
            config_changes: Vec::new(),
        }
    }

    #[test]
    fn inline_comments_name_the_short_id_and_how_to_triage() {
        let f = finding("3f9a1c77e0d1", Status::New);
        let body = render_finding(&f, false).unwrap();
        assert!(
            body.starts_with(
                "#### 🟠 Use of eval · risk 0 · P-3f9a1c\n<!-- posture:finding:3f9a1c77e0d1 -->\n"
            ),
            "{body}"
        );
        assert!(
            body.trim_end().ends_with(
                "Reply `/posture dismiss <reason> [-- comment]`, `/posture accept --until YYYY-MM-DD` or `/posture explain`"
            ),
            "{body}"
        );
    }

    #[test]
    fn a_merged_finding_names_each_tool_with_its_rule() {
        let mut f = finding("3f9a1c77e0d1", Status::New);
        f.finding.tools = vec!["Semgrep OSS".into(), "Bandit".into()];
        f.finding.rules = vec![
            crate::model::ToolRule {
                tool: "Semgrep OSS".into(),
                rule: "avoid-pyyaml-load".into(),
            },
            crate::model::ToolRule {
                tool: "Bandit".into(),
                rule: "B506".into(),
            },
        ];
        let body = render_finding(&f, false).unwrap();
        assert!(
            body.contains("found by Semgrep OSS (avoid-pyyaml-load), Bandit (B506)"),
            "{body}"
        );
        let single = render_finding(&finding("3f9a1c77e0d1", Status::New), false).unwrap();
        assert!(single.contains("eval · found by semgrep"), "{single}");
    }

    #[test]
    fn a_triaged_finding_s_comment_opens_with_the_verdict_and_keeps_its_marker() {
        let mut f = finding("3f9a1c77e0d1", Status::New);
        f.triage = Some(Box::new(dismissed(Some("only in <tests>\nreally"))));
        let body = render_finding(&f, false).unwrap();
        assert!(
            body.starts_with(
                "✅ Dismissed as false_positive by @alice on 2026-12-04: only in &lt;tests&gt;\n\n#### "
            ),
            "{body}"
        );
        assert_eq!(
            super::super::parse_finding_marker(&body),
            Some(FindingId("3f9a1c77e0d1".into()))
        );
        let mut accepted = dismissed(None);
        accepted.state = TriageState::Accepted;
        accepted.verdict = Verdict::Accept {
            until: "2027-01-31".parse().unwrap(),
        };
        assert_eq!(
            verdict(&accepted),
            "✅ Accepted until 2027-01-31 by @alice on 2026-12-04"
        );
        accepted.state = TriageState::Pending;
        assert!(
            verdict(&accepted).starts_with("⏳ Acceptance until 2027-01-31 requested by @alice"),
            "{}",
            verdict(&accepted)
        );
        let vex = Triage {
            by: "Security Team".into(),
            source: TriageSource::Vex {
                document: ".posture/vex.json".into(),
            },
            ..dismissed(None)
        };
        assert_eq!(
            verdict(&vex),
            "✅ Dismissed as false_positive by VEX document `.posture/vex.json` (Security Team) on 2026-12-04"
        );
    }

    #[test]
    fn triaged_findings_leave_the_new_ones_for_a_collapsed_section() {
        let mut gone = finding("aaaaaa0001", Status::New);
        gone.triage = Some(Box::new(dismissed(Some("fixture"))));
        let mut pending = finding("bbbbbb0002", Status::New);
        pending.triage = Some(Box::new(Triage {
            state: TriageState::Pending,
            ..dismissed(None)
        }));
        let md = render(&review(vec![gone, pending], GateOutcome::Failed), &[]).unwrap();
        let (summary, _) = md.split_once("<summary>Triaged (1)</summary>").expect(&md);
        assert!(summary.contains("### New in this change"), "{md}");
        assert!(!summary.contains("P-aaaaaa"), "not among the new: {md}");
        assert!(
            summary.contains("⏳ Dismissal as false_positive requested by @alice"),
            "{md}"
        );
        assert!(summary.contains("| **new** | 0 | 1 | 0 | 0 | 0 |"), "{md}");
        assert!(
            md.contains("- 🟠 **Use of eval** · `app.py:2` · P-aaaaaa: ✅ Dismissed as false_positive by @alice on 2026-12-04: fixture\n"),
            "{md}"
        );
        // Summary entries carry no reply hint; only inline comments do.
        assert!(!md.contains("Reply `/posture"), "{md}");
    }

    #[test]
    fn an_incomplete_gate_names_the_missing_tools_and_their_side() {
        let mut r = review(
            vec![finding("cccccc0003", Status::NotScanned)],
            GateOutcome::Incomplete,
        );
        r.summary.missing_tools = vec!["semgrep".into()];
        r.warnings = vec![
            "no report at head from semgrep: its base findings are not_scanned, not fixed".into(),
        ];
        let md = render(&r, &[]).unwrap();
        assert!(md.contains("## ⚠️ posture: no new findings"), "{md}");
        assert!(
            md.contains("⚠️ incomplete: no report from semgrep at head; the gate fails until every scanner reports on both sides, or set `gate: {on_missing_report: pass}`"),
            "{md}"
        );
        assert!(
            md.contains(
                "\n### Not scanned\nNo report from semgrep at head: 1 finding of this tool"
            ),
            "{md}"
        );
        assert!(
            md.contains("| **not scanned** | 0 | 1 | 0 | 0 | 0 |"),
            "{md}"
        );
        assert!(
            md.contains("<summary>Findings not scanned (1)</summary>"),
            "{md}"
        );
        assert!(
            !md.contains("#### Notes"),
            "the warning is the section: {md}"
        );
        // A tool whose side no warning names.
        r.warnings.clear();
        let md = render(&r, &[]).unwrap();
        assert!(md.contains("no report from semgrep on one side;"), "{md}");
    }

    #[test]
    fn configuration_changes_are_listed_and_loosening_ones_marked() {
        let mut r = review(vec![], GateOutcome::Passed);
        let md = render(&r, &[]).unwrap();
        assert!(!md.contains("Configuration change"), "{md}");
        r.config_changes = vec![
            ConfigChange {
                setting: "ignore".into(),
                description: "new ignore rule path `**`".into(),
                loosens: true,
            },
            ConfigChange {
                setting: "max_inline_comments".into(),
                description: "25 → 10 new inline comments per run".into(),
                loosens: false,
            },
        ];
        let md = render(&r, &[]).unwrap();
        assert!(md.contains("\n### Configuration change\n"), "{md}");
        assert!(
            md.contains("take effect after merge: this review applied the target branch's config"),
            "{md}"
        );
        assert!(
            md.contains("- ⚠️ loosens the gate · `ignore`: new ignore rule path `**`\n"),
            "{md}"
        );
        assert!(
            md.contains("- `max_inline_comments`: 25 → 10 new inline comments per run\n"),
            "{md}"
        );
    }

    #[test]
    fn fences_outgrow_backticks_in_the_body() {
        assert_eq!(fence_for("plain"), "```");
        assert_eq!(fence_for("a ``` b"), "````");
        assert_eq!(fence_for("`````"), "``````");
    }

    #[test]
    fn scanner_text_cannot_inject_html() {
        assert_eq!(
            escape_markdown("<!-- x --> & <b>"),
            "&lt;!-- x --&gt; &amp; &lt;b&gt;"
        );
        assert_eq!(truncate("abcdef", 3), "abc…");
        assert_eq!(truncate("abc", 3), "abc");
    }
}
