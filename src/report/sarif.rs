//! `--format sarif`: a review as SARIF 2.1.0 for code scanning upload. Each result carries
//! `partialFingerprints.primaryLocationLineHash` computed as codeql-action does, so GitHub's
//! alert identity and ours agree.
//!
//! The log validates against the SARIF 2.1.0 schema and follows GitHub's upload rules: every
//! rule has a `fullDescription` and a `help` text, every result a physical location, and a
//! run holds at most [`MAX_RESULTS`] results (the highest-risk ones: the review is ordered by
//! risk), with a notification saying what was left out. The revisions are run properties,
//! not `versionControlProvenance`, which requires a repository URI the review does not know.
//!
//! [`SarifScope::New`] (the default) lists what this change introduced, for a pull request's
//! upload. [`SarifScope::All`] lists every finding at head with its `baselineState`, and the
//! fixed ones as `absent`, so code scanning can track them across uploads.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::RenderError;
use crate::model::{Review, ReviewedFinding, Severity, Status};

const INFORMATION_URI: &str = "https://github.com/posture-dev/posture";

/// GitHub code scanning's limit on the results of one run; it refuses larger uploads.
pub const MAX_RESULTS: usize = 25_000;

/// Which findings a SARIF log lists.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum SarifScope {
    /// The findings this change introduced.
    #[default]
    New,
    /// Every finding at head, with its `baselineState`, and the fixed ones as `absent`.
    All,
}

impl SarifScope {
    fn lists(self, status: Status) -> bool {
        match self {
            SarifScope::New => status == Status::New,
            // A finding whose tool did not run on one side is neither there nor gone.
            SarifScope::All => status != Status::NotScanned,
        }
    }
}

/// SARIF's `baselineState` of a finding: how it compares with the baseline.
fn baseline_state(f: &ReviewedFinding) -> &'static str {
    match f.status {
        Status::New => "new",
        // A formatter or moderniser rewrote its code: the same problem, changed.
        Status::Existing if f.changed => "updated",
        Status::Existing => "unchanged",
        Status::Fixed => "absent",
        // Not listed (see `SarifScope::lists`); SARIF has no word for "not compared".
        Status::NotScanned => "unchanged",
    }
}

pub(super) fn render(review: &Review, scope: SarifScope) -> Result<String, RenderError> {
    let listed: Vec<(&ReviewedFinding, Physical)> = review
        .findings
        .iter()
        .filter(|f| scope.lists(f.status) && f.ignored.is_none())
        .filter_map(|f| physical_location(f).map(|place| (f, place)))
        .collect();
    let unplaced = review
        .findings
        .iter()
        .filter(|f| scope.lists(f.status) && f.ignored.is_none())
        .count()
        - listed.len();
    let dropped = listed.len().saturating_sub(MAX_RESULTS);
    let listed = &listed[..listed.len().min(MAX_RESULTS)];
    let mut rule_index: BTreeMap<&str, usize> = BTreeMap::new();
    let mut rules = Vec::new();
    for (f, _) in listed {
        if !rule_index.contains_key(f.finding.rule.as_str()) {
            rule_index.insert(&f.finding.rule, rules.len());
            rules.push(rule(f));
        }
    }
    let results: Vec<Value> = listed
        .iter()
        .map(|(f, place)| {
            let index = rule_index[f.finding.rule.as_str()];
            result(f, place, index, scope)
        })
        .collect();
    let mut notifications = Vec::new();
    if dropped > 0 {
        notifications.push(notification(format!(
            "{dropped} more results left out: code scanning takes at most {MAX_RESULTS} per run; \
             these are the {MAX_RESULTS} highest-risk ones"
        )));
    }
    if unplaced > 0 {
        notifications.push(notification(format!(
            "{unplaced} findings left out: they have no location in the repository (see the \
             markdown or JSON review)"
        )));
    }
    let mut run = json!({
        "tool": {"driver": {
            "name": "posture",
            "version": env!("CARGO_PKG_VERSION"),
            "informationUri": INFORMATION_URI,
            "rules": rules,
        }},
        "results": results,
        "properties": {"posture/base": review.base, "posture/head": review.head},
    });
    if !notifications.is_empty() {
        run["invocations"] = json!([{
            "executionSuccessful": true,
            "toolExecutionNotifications": notifications,
        }]);
    }
    let log = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [run],
    });
    let mut out = serde_json::to_string_pretty(&log)?;
    out.push('\n');
    Ok(out)
}

fn notification(text: String) -> Value {
    json!({"level": "warning", "message": {"text": text}})
}

/// Where a result points: a file of the repository and, when known, its lines.
struct Physical {
    path: String,
    lines: Option<(u32, u32)>,
}

/// A finding's place in the repository: its own location, or for a dependency the line of
/// the manifest the upgrade edits. `None` for a finding outside the repository (an image
/// layer, a file the scanner saw elsewhere): code scanning refuses results without one.
fn physical_location(f: &ReviewedFinding) -> Option<Physical> {
    match (&f.finding.location, &f.upgrade) {
        (Some(l), _) if !l.outside_repo => Some(Physical {
            path: l.path.clone(),
            lines: l.lines(),
        }),
        (_, Some(u)) => u.manifest.clone().map(|path| Physical {
            path,
            lines: u.line.map(|l| (l, l)),
        }),
        _ => None,
    }
}

fn rule(f: &ReviewedFinding) -> Value {
    let finding = &f.finding;
    let mut tags: Vec<String> = vec!["security".into(), finding.kind.as_str().into()];
    tags.extend(
        finding
            .cwes
            .iter()
            .map(|c| format!("external/cwe/cwe-{c:03}")),
    );
    let (help_text, help_markdown) = help(f);
    let mut rule = json!({
        "id": finding.rule,
        "name": finding.rule,
        "shortDescription": {"text": finding.title},
        "fullDescription": {"text": finding.title},
        "help": {"text": help_text, "markdown": help_markdown},
        "properties": {
            "tags": tags,
            "security-severity": format!("{:.1}", finding.score.unwrap_or_else(|| nominal_score(finding.severity))),
        },
    });
    if let Some(uri) = &finding.help_uri {
        rule["helpUri"] = json!(uri);
    }
    rule
}

/// The rule's help, as text and Markdown: what it is, which tools report it, its CWEs and
/// the tool's own documentation.
fn help(f: &ReviewedFinding) -> (String, String) {
    let finding = &f.finding;
    let (title, tools, rule) = (&finding.title, finding.tools.join(", "), &finding.rule);
    let mut text = format!("{title}\n\nReported by {tools} (rule {rule}).");
    let mut markdown = format!("**{title}**\n\nReported by {tools} (rule `{rule}`).");
    for cwe in &finding.cwes {
        let url = format!("https://cwe.mitre.org/data/definitions/{cwe}.html");
        text.push_str(&format!("\nCWE-{cwe}: {url}"));
        markdown.push_str(&format!("\n- [CWE-{cwe}]({url})"));
    }
    if let Some(uri) = &finding.help_uri {
        text.push_str(&format!("\nDocumentation: {uri}"));
        markdown.push_str(&format!("\n- [Documentation]({uri})"));
    }
    (text, markdown)
}

fn result(f: &ReviewedFinding, place: &Physical, rule_index: usize, scope: SarifScope) -> Value {
    let finding = &f.finding;
    let text = if finding.message.is_empty() {
        &finding.title
    } else {
        &finding.message
    };
    let mut physical = json!({"artifactLocation": {"uri": place.path, "uriBaseId": "%SRCROOT%"}});
    if let Some((start, end)) = place.lines {
        physical["region"] = json!({"startLine": start, "endLine": end});
    }
    let mut result = json!({
        "ruleId": finding.rule,
        "ruleIndex": rule_index,
        "level": level(finding.severity),
        "message": {"text": text},
        "locations": [{"physicalLocation": physical}],
        "properties": {
            "posture/id": f.id.0,
            "posture/risk": f.risk.score,
            "posture/tools": finding.tools,
        },
    });
    if scope == SarifScope::All {
        result["baselineState"] = json!(baseline_state(f));
    }
    // posture's own id always; GitHub's line hash where the flagged file was read (a
    // report's path that is not in the checkout has no text to hash).
    result["partialFingerprints"] = json!({"postureFindingId/v1": f.id.0});
    if let Some(hash) = &f.line_hash {
        result["partialFingerprints"]["primaryLocationLineHash"] = json!(hash);
    }
    if f.is_triaged_away()
        && let Some(triage) = &f.triage
    {
        // Code scanning shows a suppressed result as dismissed, with the reason.
        let justification = match &triage.comment {
            Some(comment) => format!("{} by {}: {comment}", triage.reason(), triage.by),
            None => format!("{} by {}", triage.reason(), triage.by),
        };
        result["suppressions"] = json!([{
            "kind": "external",
            "status": "accepted",
            "justification": justification,
        }]);
    }
    result
}

fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Info => "note",
    }
}

/// GitHub buckets `security-severity` into critical ≥ 9, high ≥ 7, medium ≥ 4, low.
fn nominal_score(severity: Severity) -> f64 {
    match severity {
        Severity::Critical => 9.5,
        Severity::High => 8.0,
        Severity::Medium => 5.5,
        Severity::Low => 2.0,
        Severity::Info => 0.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{GateOutcome, Location};
    use crate::report::markdown::tests::{dismissed, finding, review};

    fn log(review: &Review, scope: SarifScope) -> Value {
        serde_json::from_str(&render(review, scope).unwrap()).unwrap()
    }

    #[test]
    fn a_run_keeps_the_highest_risk_results_up_to_the_limit_and_says_how_many_went() {
        let findings: Vec<ReviewedFinding> = (0..MAX_RESULTS + 3)
            .map(|i| {
                let mut f = finding(&format!("{i:012x}"), Status::New);
                f.risk.score = 100 - u8::try_from(i * 100 / (MAX_RESULTS + 3)).unwrap();
                f
            })
            .collect();
        let sarif = log(&review(findings, GateOutcome::Failed), SarifScope::New);
        let run = &sarif["runs"][0];
        let results = run["results"].as_array().unwrap();
        assert_eq!(results.len(), MAX_RESULTS);
        assert_eq!(results[0]["properties"]["posture/id"], "000000000000");
        let notes = run["invocations"][0]["toolExecutionNotifications"]
            .as_array()
            .unwrap();
        assert_eq!(notes.len(), 1);
        let text = notes[0]["message"]["text"].as_str().unwrap();
        assert!(text.starts_with("3 more results left out"), "{text}");
    }

    #[test]
    fn a_finding_outside_the_repository_is_left_out_with_a_notification() {
        let mut outside = finding("aaaaaaaaaaaa", Status::New);
        outside.finding.location = Some(Location {
            outside_repo: true,
            ..Location::new("usr/lib/libssl.so")
        });
        let inside = finding("bbbbbbbbbbbb", Status::New);
        let sarif = log(
            &review(vec![outside, inside], GateOutcome::Failed),
            SarifScope::New,
        );
        let run = &sarif["runs"][0];
        assert_eq!(run["results"].as_array().unwrap().len(), 1);
        assert_eq!(
            run["results"][0]["properties"]["posture/id"],
            "bbbbbbbbbbbb"
        );
        let text = &run["invocations"][0]["toolExecutionNotifications"][0]["message"]["text"];
        assert!(text.as_str().unwrap().starts_with("1 findings left out"));
    }

    #[test]
    fn scope_all_gives_each_status_its_baseline_state_and_dismissals_their_suppression() {
        let mut dismissed_one = finding("cccccccccccc", Status::Existing);
        dismissed_one.triage = Some(Box::new(dismissed(Some("test fixture"))));
        let findings = vec![
            finding("aaaaaaaaaaaa", Status::New),
            dismissed_one,
            finding("bbbbbbbbbbbb", Status::Fixed),
            finding("dddddddddddd", Status::NotScanned),
        ];
        let review = review(findings, GateOutcome::Failed);
        let all = log(&review, SarifScope::All);
        let results = all["runs"][0]["results"].as_array().unwrap();
        let states: Vec<&str> = results
            .iter()
            .map(|r| r["baselineState"].as_str().unwrap())
            .collect();
        assert_eq!(states, ["new", "unchanged", "absent"]);
        assert_eq!(results[1]["suppressions"][0]["kind"], "external");
        let why = results[1]["suppressions"][0]["justification"]
            .as_str()
            .unwrap();
        assert!(
            why.contains("alice") && why.contains("test fixture"),
            "{why}"
        );
        let new = log(&review, SarifScope::New);
        let results = new["runs"][0]["results"].as_array().unwrap();
        assert_eq!(results.len(), 1);
        assert!(results[0].get("baselineState").is_none());
        assert!(new["runs"][0].get("invocations").is_none());
    }

    #[test]
    fn a_rewritten_existing_finding_is_updated() {
        let mut changed = finding("ab12", Status::Existing);
        changed.changed = true;
        assert_eq!(baseline_state(&changed), "updated");
        assert_eq!(
            baseline_state(&finding("ab12", Status::Existing)),
            "unchanged"
        );
        let all = log(&review(vec![changed], GateOutcome::Passed), SarifScope::All);
        assert_eq!(all["runs"][0]["results"][0]["baselineState"], "updated");
    }
}
