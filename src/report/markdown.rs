//! `--format markdown`: what the pull request comment says. Layout lives in the handlebars
//! templates under `templates/`; this module prepares a view of plain strings for them.

use handlebars::Handlebars;
use serde::Serialize;

use super::budget::{self, Limit, thousands};
use super::links;
use super::{RenderError, SUMMARY_MARKER, finding_marker};
use crate::ingest::IngestError;
use crate::model::{
    CodeFix, FailOn, GateOutcome, Kind, Review, ReviewedFinding, Severity, Status, Triage,
    TriageSource, TriageState, Upgrade, UpgradeSuggestion, Verdict,
};

const REVIEW_TEMPLATE: &str = include_str!("../../templates/review.md.hbs");
const FINDING_TEMPLATE: &str = include_str!("../../templates/finding.md.hbs");
/// Scanner messages can be long; the comment shows the start and links to the rule.
const MAX_MESSAGE_CHARS: usize = 600;
/// A heading longer than this wraps into a paragraph on a phone.
const MAX_TITLE_CHARS: usize = 100;
/// What a leaked credential needs, whatever the scanner says.
const SECRET_FIX: &str = "**Fix:** revoke and rotate this credential; removing it from the branch does not remove it from history.";
const REPLY_HINT: &str = "Reply `/posture dismiss <reason> [-- comment]`, `/posture accept --until YYYY-MM-DD` or `/posture explain`";
/// A reply to a comment about several findings must say which one it means.
const REPLY_HINT_SEVERAL: &str = "Reply `/posture dismiss <reason> P-… [-- comment]`, `/posture accept --until YYYY-MM-DD P-…` or `/posture explain P-…`, naming the finding by its id";

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
    /// Empty where markers are not wanted (the forge's summary comment: markers belong to
    /// inline comments only).
    marker: String,
    /// `P-` and six hex digits: how people name the finding in `/posture` commands.
    short_id: String,
    /// A person's decision about it, as one line (dismissed, accepted, pending).
    verdict: Option<String>,
    severity_icon: &'static str,
    severity: &'static str,
    title: String,
    risk: u8,
    location: String,
    kind: &'static str,
    rule: String,
    /// The rule id as code, linked to its help when posture knows where that is.
    rule_link: String,
    /// Each CWE, linked to MITRE's page.
    cwes: Vec<String>,
    /// The flagged lines at head, fenced.
    code: Option<String>,
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

/// What a rendering of the whole review holds besides the review itself.
pub(super) struct Options<'a> {
    pub limit: Limit,
    /// Each finding's hidden marker (the CLI's markdown keeps them; a forge's summary
    /// comment does not: a marker there would make it look like the finding's comment).
    pub markers: bool,
    /// Lines for the notes section (what the job could not comment inline, …).
    pub notes: &'a [String],
}

fn registry() -> Result<Handlebars<'static>, RenderError> {
    let mut registry = Handlebars::new();
    registry.set_strict_mode(true);
    registry.register_escape_fn(escape_markdown);
    registry
        .register_template_string("review", REVIEW_TEMPLATE)
        .map_err(Box::new)?;
    registry
        .register_partial("finding", FINDING_TEMPLATE)
        .map_err(Box::new)?;
    registry
        .register_template_string("finding", FINDING_TEMPLATE)
        .map_err(Box::new)?;
    Ok(registry)
}

/// The whole review within `options.limit`: the header, the notes and as many findings as
/// fit, highest risk first, then how many were left out.
pub(super) fn render(
    review: &Review,
    refused: &[IngestError],
    options: &Options<'_>,
) -> Result<String, RenderError> {
    let registry = registry()?;
    let fitted = budget::fit(review.findings.len(), options.limit, |kept| {
        registry.render("review", &view(review, refused, kept, options))
    })?;
    Ok(fitted.body)
}

/// The inline comment on one line: every finding posture reports there (highest risk first),
/// each with its marker, then how to triage by reply. With `suggest`, the first upgrade with
/// an edit is offered as a one-click suggestion of the commented line instead of a diff.
/// Findings that do not fit `limit` are left out of the text but keep their markers, so a
/// re-run still finds this comment for them.
pub(super) fn render_comment(
    findings: &[&ReviewedFinding],
    suggest: bool,
    limit: Limit,
) -> Result<String, RenderError> {
    let registry = registry()?;
    let mut sections = Vec::with_capacity(findings.len());
    let mut suggested = !suggest;
    for finding in findings {
        let mut item = item(finding);
        if !suggested
            && let Some(upgrade) = &finding.upgrade
            && let Some(after) = &upgrade.suggested_text
        {
            let fence = fence_for(after);
            item.fix = Some(format!(
                "{}\n\n{fence}suggestion\n{after}\n{fence}",
                fix_sentence(upgrade)
            ));
            suggested = true;
        }
        sections.push(registry.render("finding", &item)?.trim_end().to_owned());
    }
    let total = sections.len();
    let fitted = budget::fit(total, limit, |kept| {
        let mut body = String::new();
        if total > 1 {
            body.push_str(&format!(
                "**posture: {total} findings on this line**, highest risk first.\n\n"
            ));
        }
        body.push_str(&sections[..kept].join("\n\n---\n\n"));
        if kept < total {
            body.push_str(&format!(
                "\n\n… {} more finding{} on this line left out: the summary comment lists {}.\n",
                thousands(total - kept),
                if total - kept == 1 { "" } else { "s" },
                if total - kept == 1 { "it" } else { "them" },
            ));
            for finding in &findings[kept..] {
                body.push_str(&finding_marker(&finding.id));
                body.push('\n');
            }
        }
        let hint = if total > 1 {
            REPLY_HINT_SEVERAL
        } else {
            REPLY_HINT
        };
        body.push_str(&format!("\n\n{hint}\n"));
        Ok::<_, RenderError>(body)
    })?;
    Ok(fitted.body)
}

/// The template's view of `review` listing only its first `kept` findings (the highest
/// risk: the review is ordered so); every count still covers them all.
fn view(review: &Review, refused: &[IngestError], kept: usize, options: &Options<'_>) -> View {
    let triaged_away = |f: &ReviewedFinding| f.ignored.is_none() && f.is_triaged_away();
    let counted = |f: &ReviewedFinding| f.ignored.is_none() && !f.is_triaged_away();
    let listed = &review.findings[..kept.min(review.findings.len())];
    let total = |keep: &dyn Fn(&ReviewedFinding) -> bool| -> usize {
        review.findings.iter().filter(|f| keep(f)).count()
    };
    let item = |f: &ReviewedFinding| {
        let mut item = item(f);
        if !options.markers {
            item.marker.clear();
        }
        item
    };
    let shown = |status: Status| -> Vec<Item> {
        listed
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
    let left_out = review.findings.len() - listed.len();
    let mut notes: Vec<String> = Vec::new();
    if left_out > 0 {
        notes.push(format!(
            "… {} more finding{} left out to keep this comment within the forge's size limit: the {} highest-risk are listed.",
            thousands(left_out),
            if left_out == 1 { "" } else { "s" },
            thousands(listed.len()),
        ));
    }
    notes.extend(
        refused
            .iter()
            .map(|e| format!("Report refused, the review ran without it: {e}")),
    );
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
    let not_scanned_count = total(&|f| f.status == Status::NotScanned && counted(f));
    let not_scanned = (!missing.is_empty() || not_scanned_count > 0).then(|| {
        let count = not_scanned_count;
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
    let ignored: Vec<Item> = listed
        .iter()
        .filter(|f| f.ignored.is_some())
        .map(item)
        .collect();
    let triaged: Vec<Item> = listed
        .iter()
        .filter(|f| triaged_away(f))
        .map(item)
        .collect();
    let listed_ids: std::collections::HashSet<&crate::model::FindingId> =
        listed.iter().map(|f| &f.id).collect();
    let upgrades: Vec<String> = review
        .upgrades
        .iter()
        .filter(|u| left_out == 0 || u.findings.iter().any(|id| listed_ids.contains(id)))
        .map(suggestion)
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
            existing: total(&|f| f.status == Status::Existing && counted(f)),
            fixed: total(&|f| f.status == Status::Fixed && counted(f)),
            ignored: total(&|f| f.ignored.is_some()),
            triaged: total(&triaged_away),
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
        upgrades,
        notes: {
            notes.extend(options.notes.iter().cloned());
            notes
        },
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
    let title = title(f);
    let message = truncate(
        &f.message
            .split("\n\n")
            .next()
            .unwrap_or("")
            .replace('\n', " "),
        MAX_MESSAGE_CHARS,
    );
    // The upgrade for a dependency, the tool's edit or else its help text for code, and
    // for a secret what a leak needs.
    let fix = if f.kind == Kind::Secret {
        Some(SECRET_FIX.to_owned())
    } else {
        r.upgrade
            .as_deref()
            .map(fix)
            .or_else(|| f.fix.as_ref().map(|c| code_fix(c, &f.tools)))
            .or_else(|| {
                let help = f.help.as_deref()?.replace('\n', " ");
                let help = help.trim();
                (!help.is_empty() && help != message.trim() && help != title).then(|| {
                    format!(
                        "**Fix** ({}'s help): {}",
                        f.tools.join(", "),
                        escape_markdown(help)
                    )
                })
            })
    };
    Item {
        marker: finding_marker(&r.id),
        short_id: crate::triage::short_id(&r.id),
        verdict: r.triage.as_deref().map(verdict),
        severity_icon: severity_icon(f.severity),
        severity: f.severity.as_str(),
        // The message, unless the heading already says it.
        message: if message.trim() == title {
            String::new()
        } else {
            message
        },
        title,
        risk: r.risk.score,
        location: location(r),
        kind: f.kind.as_str(),
        rule: f.rule.clone(),
        rule_link: links::code_link(&f.rule, links::rule_help(f).as_deref()),
        cwes: f
            .cwes
            .iter()
            .map(|&cwe| links::plain_link(&format!("CWE-{cwe}"), &links::cwe_page(cwe)))
            .collect(),
        code: r.snippet.as_deref().map(|code| {
            let code = defuse_markers(code);
            let fence = fence_for(&code);
            format!(
                "{fence}{}\n{code}\n{fence}",
                language(f.path().unwrap_or(""))
            )
        }),
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
        fix,
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

/// The heading: the tool's title, unless it is only a slug (Bandit's
/// `subprocess_popen_with_shell_equals_true`, a rule id) and the message says more; at most
/// [`MAX_TITLE_CHARS`].
fn title(f: &crate::model::Finding) -> String {
    let title = f.title.lines().next().unwrap_or("").trim();
    let slug = !title.contains(char::is_whitespace);
    let message = f.message.lines().next().unwrap_or("").trim();
    let chosen = if (slug || title.is_empty()) && message.contains(char::is_whitespace) {
        message
    } else {
        title
    };
    truncate(chosen, MAX_TITLE_CHARS)
}

/// The code fence's language, from the file's extension (GitHub and GitLab highlight it).
fn language(path: &str) -> &'static str {
    let name = path.rsplit('/').next().unwrap_or(path);
    if name == "Dockerfile" || name.starts_with("Dockerfile.") {
        return "dockerfile";
    }
    match name
        .rsplit_once('.')
        .map(|(_, ext)| ext.to_ascii_lowercase())
        .as_deref()
    {
        Some("py") => "python",
        Some("js" | "mjs" | "cjs" | "jsx") => "javascript",
        Some("ts" | "tsx") => "typescript",
        Some("go") => "go",
        Some("rs") => "rust",
        Some("java") => "java",
        Some("kt") => "kotlin",
        Some("rb") => "ruby",
        Some("php") => "php",
        Some("cs") => "csharp",
        Some("c" | "h") => "c",
        Some("cpp" | "cc" | "hpp") => "cpp",
        Some("sh" | "bash") => "shell",
        Some("yml" | "yaml") => "yaml",
        Some("json") => "json",
        Some("toml") => "toml",
        Some("tf" | "hcl") => "hcl",
        Some("xml" | "pom") => "xml",
        Some("sql") => "sql",
        _ => "",
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

pub(super) fn severity_icon(severity: Severity) -> &'static str {
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

/// Code quoted raw (a fenced block shows entities literally) with posture's marker prefix
/// broken by a zero-width space: a line of the change cannot plant a marker in posture's
/// comment and so claim it for another finding.
fn defuse_markers(code: &str) -> String {
    code.replace("<!-- posture:", "<!-- posture\u{200b}:")
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

    fn render_all(review: &Review) -> String {
        let options = Options {
            limit: Limit::CLI_DEFAULT,
            markers: true,
            notes: &[],
        };
        render(review, &[], &options).unwrap()
    }

    fn render_finding(finding: &ReviewedFinding, suggest: bool) -> Result<String, RenderError> {
        render_comment(&[finding], suggest, Limit::GITHUB_COMMENT)
    }

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
            changed: false,
            previous_ids: Vec::new(),
            snippet: None,
            owner: None,
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
                "#### 🟠 Use of eval · risk 0/100 · P-3f9a1c\n<!-- posture:finding:3f9a1c77e0d1 -->\n"
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
        assert!(single.contains("`eval` · found by semgrep"), "{single}");
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
        let md = render_all(&review(vec![gone, pending], GateOutcome::Failed));
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
        let md = render_all(&r);
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
        let md = render_all(&r);
        assert!(md.contains("no report from semgrep on one side;"), "{md}");
    }

    #[test]
    fn configuration_changes_are_listed_and_loosening_ones_marked() {
        let mut r = review(vec![], GateOutcome::Passed);
        let md = render_all(&r);
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
        let md = render_all(&r);
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
    fn a_comment_links_the_rule_and_cwe_quotes_the_code_and_says_how_to_fix() {
        let mut f = finding("3f9a1c77e0d1", Status::New);
        f.finding.tools = vec!["Bandit".into()];
        f.finding.rule = "B602".into();
        f.finding.title = "subprocess_popen_with_shell_equals_true".into();
        f.finding.message = "subprocess call with shell=True identified, security issue.".into();
        f.finding.help_uri =
            Some("https://bandit.readthedocs.io/en/1.8.6/plugins/b602.html".into());
        f.finding.cwes = vec![78];
        f.finding.help = Some("Pass <args> as a list & drop shell=True.".into());
        f.risk.score = 85;
        f.snippet =
            Some("subprocess.call(cmd, shell=True)  # <!-- posture:finding:ffff -->".into());
        let body = render_finding(&f, false).unwrap();
        assert!(
            body.starts_with("#### 🟠 subprocess call with shell=True identified, security issue. · risk 85/100 · P-3f9a1c\n"),
            "a slug is no heading: {body}"
        );
        assert!(
            body.contains("· [`B602`](https://bandit.readthedocs.io/en/1.8.6/plugins/b602.html) · [CWE-78](https://cwe.mitre.org/data/definitions/78.html) · found by Bandit"),
            "{body}"
        );
        assert!(
            body.contains("```python\nsubprocess.call(cmd, shell=True)"),
            "{body}"
        );
        assert_eq!(
            crate::report::parse_finding_markers(&body),
            [FindingId("3f9a1c77e0d1".into())],
            "a line of code cannot plant a marker: {body}"
        );
        assert!(
            body.contains(
                "**Fix** (Bandit's help): Pass &lt;args&gt; as a list &amp; drop shell=True."
            ),
            "{body}"
        );
        assert!(
            !body.contains("\n> subprocess call"),
            "the heading says it already: {body}"
        );
        assert!(
            body.contains("<summary>Why this rank (risk 85/100)</summary>"),
            "{body}"
        );

        let mut secret = finding("aaaa0001", Status::New);
        secret.finding.kind = Kind::Secret;
        secret.finding.title = "x".repeat(300);
        let body = render_finding(&secret, false).unwrap();
        assert!(
            body.contains("**Fix:** revoke and rotate this credential; removing it from the branch does not remove it from history."),
            "{body}"
        );
        let heading = body.lines().next().unwrap();
        assert!(
            heading.contains(&format!("{}…", "x".repeat(100))),
            "{heading}"
        );
        assert!(!heading.contains(&"x".repeat(101)), "{heading}");
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
