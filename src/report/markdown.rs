//! `--format markdown`: what the pull request comment says. Layout lives in the handlebars
//! templates under `templates/`; this module prepares a view of plain strings for them.

use handlebars::Handlebars;
use serde::Serialize;

use super::{RenderError, SUMMARY_MARKER, finding_marker};
use crate::ingest::IngestError;
use crate::model::{
    CodeFix, Review, ReviewedFinding, Severity, Status, Upgrade, UpgradeSuggestion,
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
    upgrades: usize,
    advisories: usize,
}

#[derive(Serialize)]
struct Row {
    label: &'static str,
    counts: Vec<usize>,
}

#[derive(Serialize)]
struct Item {
    marker: String,
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
    let shown = |status: Status| -> Vec<Item> {
        review
            .findings
            .iter()
            .filter(|f| f.status == status && f.ignored.is_none())
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
    let gate_text = if gate.passed {
        format!("Merge gate **passed**: no new finding at or above **{threshold}**.")
    } else {
        format!(
            "Merge gate **failed**: {} new finding{} at or above **{threshold}**.",
            gate.blocking,
            if gate.blocking == 1 { "" } else { "s" }
        )
    };
    let mut notes: Vec<String> = refused
        .iter()
        .map(|e| format!("Report refused, the review ran without it: {e}"))
        .collect();
    notes.extend(review.warnings.iter().cloned());
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
    let ignored: Vec<Item> = review
        .findings
        .iter()
        .filter(|f| f.ignored.is_some())
        .map(item)
        .collect();
    View {
        counts: Counts {
            existing: existing.len(),
            fixed: fixed.len(),
            ignored: ignored.len(),
            upgrades: review.upgrades.len(),
            advisories: crate::analyze::upgrade::cleared_advisories(review),
        },
        marker: SUMMARY_MARKER,
        gate_icon: if gate.passed { "✅" } else { "❌" },
        headline,
        gate_text,
        table: [
            ("new", Status::New),
            ("existing", Status::Existing),
            ("fixed", Status::Fixed),
        ]
        .into_iter()
        .map(|(label, status)| Row {
            label,
            counts: Severity::ALL
                .iter()
                .map(|&s| {
                    review
                        .findings
                        .iter()
                        .filter(|f| f.status == status && f.ignored.is_none())
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
        upgrades: review.upgrades.iter().map(suggestion).collect(),
        notes,
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

fn item(r: &ReviewedFinding) -> Item {
    let f = &r.finding;
    Item {
        marker: finding_marker(&r.id),
        severity_icon: severity_icon(f.severity),
        severity: f.severity.as_str(),
        title: one_line(&f.title),
        risk: r.risk.score,
        location: location(r),
        kind: f.kind.as_str(),
        rule: f.rule.clone(),
        tools: f.tools.join(", "),
        in_diff: r.in_diff,
        introduced: r.introduced_by.as_ref().map(|c| {
            format!(
                "{} ({}, {}): {}",
                c.commit.get(..10).unwrap_or(&c.commit),
                c.author,
                c.date.format("%Y-%m-%d"),
                c.summary
            )
        }),
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
            .as_ref()
            .map(fix)
            .or_else(|| f.fix.as_ref().map(|c| code_fix(c, &f.tools))),
        factors: r
            .risk
            .factors
            .iter()
            .map(|factor| Factor {
                points: format!("{:+}", factor.points),
                name: factor.name.clone(),
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
mod tests {
    use super::*;

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
