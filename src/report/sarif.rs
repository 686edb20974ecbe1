//! `--format sarif`: the findings this change introduced, as SARIF 2.1.0 for code scanning
//! upload. Each result carries `partialFingerprints.primaryLocationLineHash` computed as
//! codeql-action does, so GitHub's alert identity and ours agree.
//!
//! The log validates against the SARIF 2.1.0 schema and follows GitHub's upload rules: every
//! rule has a `fullDescription` and a `help` text. The revisions are run properties, not
//! `versionControlProvenance`, which requires a repository URI the review does not know.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::RenderError;
use crate::model::{Review, ReviewedFinding, Severity, Status};

const INFORMATION_URI: &str = "https://github.com/posture-dev/posture";

pub(super) fn render(review: &Review) -> Result<String, RenderError> {
    let new: Vec<&ReviewedFinding> = review
        .findings
        .iter()
        .filter(|f| f.status == Status::New && f.ignored.is_none())
        .collect();
    let mut rule_index: BTreeMap<&str, usize> = BTreeMap::new();
    let mut rules = Vec::new();
    for f in &new {
        if !rule_index.contains_key(f.finding.rule.as_str()) {
            rule_index.insert(&f.finding.rule, rules.len());
            rules.push(rule(f));
        }
    }
    let results: Vec<Value> = new
        .iter()
        .map(|f| {
            result(
                f,
                rule_index
                    .get(f.finding.rule.as_str())
                    .copied()
                    .unwrap_or(0),
            )
        })
        .collect();
    let log = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "posture",
                "version": env!("CARGO_PKG_VERSION"),
                "informationUri": INFORMATION_URI,
                "rules": rules,
            }},
            "results": results,
            "properties": {"posture/base": review.base, "posture/head": review.head},
        }],
    });
    let mut out = serde_json::to_string_pretty(&log)?;
    out.push('\n');
    Ok(out)
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

fn result(f: &ReviewedFinding, rule_index: usize) -> Value {
    let finding = &f.finding;
    let text = if finding.message.is_empty() {
        &finding.title
    } else {
        &finding.message
    };
    let mut result = json!({
        "ruleId": finding.rule,
        "ruleIndex": rule_index,
        "level": level(finding.severity),
        "message": {"text": text},
        "properties": {
            "posture/id": f.id.0,
            "posture/risk": f.risk.score,
            "posture/tools": finding.tools,
        },
    });
    let location = match (&finding.location, &f.upgrade) {
        (Some(l), _) if !l.outside_repo => Some((l.path.clone(), l.lines())),
        (_, Some(u)) => u.manifest.clone().map(|m| (m, u.line.map(|l| (l, l)))),
        _ => None,
    };
    if let Some((path, lines)) = location {
        let mut physical = json!({"artifactLocation": {"uri": path, "uriBaseId": "%SRCROOT%"}});
        if let Some((start, end)) = lines {
            physical["region"] = json!({"startLine": start, "endLine": end});
        }
        result["locations"] = json!([{"physicalLocation": physical}]);
    }
    if let Some(hash) = &f.line_hash {
        result["partialFingerprints"] = json!({"primaryLocationLineHash": hash});
    }
    if let Some(state) = baseline_state(f) {
        result["baselineState"] = json!(state);
    }
    result
}

/// SARIF's `baselineState` of a finding: `new`, `unchanged`, or `updated` for an existing
/// finding whose code was rewritten. `None` for the statuses it has no word for here.
fn baseline_state(f: &ReviewedFinding) -> Option<&'static str> {
    match f.status {
        Status::New => Some("new"),
        Status::Existing if f.changed => Some("updated"),
        Status::Existing => Some("unchanged"),
        Status::Fixed | Status::NotScanned => None,
    }
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
    use super::super::markdown::tests::finding;
    use super::*;

    #[test]
    fn baseline_state_follows_status_and_change() {
        let mut changed = finding("ab12", Status::Existing);
        changed.changed = true;
        assert_eq!(baseline_state(&finding("ab12", Status::New)), Some("new"));
        assert_eq!(
            baseline_state(&finding("ab12", Status::Existing)),
            Some("unchanged")
        );
        assert_eq!(baseline_state(&changed), Some("updated"));
        assert_eq!(baseline_state(&finding("ab12", Status::Fixed)), None);
        let new = finding("ab12", Status::New);
        assert_eq!(result(&new, 0)["baselineState"], "new");
    }
}
