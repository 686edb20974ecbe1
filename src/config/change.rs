//! What a change to `.posture.yml` would alter, and whether it loosens the gate.
//!
//! The gate's policy comes from the target branch: a pull request that edits
//! `.posture.yml` is judged by the base's file, and its own edit is shown to reviewers
//! instead of applied. [`changes`] compares the two files setting by setting.
//!
//! A change **loosens** the gate when, once merged, it could let a finding through that the
//! base's config would block or rank higher. The rules, setting by setting:
//!
//! | setting | loosens when |
//! |---|---|
//! | `fail_on` | the threshold rises (unset is `high`; `none`, never failing, is the highest): fewer severities block |
//! | `ignore` | a rule is added that no base rule already covers (a base rule covers it when its `rule` is unset or equal, its `path` is unset, `**`, equal or a `dir/**` prefix of it, and it lasts at least as long), or a rule's `until` is pushed later or dropped |
//! | `reports` | a glob the base used is gone (an empty list means posture's defaults, so going from the defaults to an explicit list that leaves one out loosens, as does removing a glob) |
//! | `gate.on_missing_report` | `fail` → `pass` |
//! | `triage.allow` | maintainers only → writers |
//! | `triage.require_approval` | an entry is removed |
//! | `triage.max_accept_days` | it rises |
//! | `triage.vex` | a document is added (empty means `.posture/vex.json`) |
//! | `context.*` | the new value weighs fewer risk points than the old (with the base's weights; unset weighs 0): e.g. `internet_facing: true → false` |
//! | `components` | a component's context (completed by `context`) weighs fewer points than before; a new component weighs fewer than the application context its paths had; a removed one weighed more than the context its paths fall back to; globs are added to a component that weighs less than the application context, or removed from one that weighs more; reordering is listed, never loosening |
//! | `risk.weights.*` | a weight's points fall, or a probability threshold (`*_from`) rises |
//! | `max_inline_comments` | never: the findings over the cap are still listed in the summary |
//! | `policy.*` | a licence's verdict falls, licences are no longer judged (the section or a scope removed), an exception is added, a package ban is removed or narrowed (see [`super::policy_change`]) |
//!
//! `version` is not compared (there is one). A setting spelled differently with the same
//! effect (`fail_on: high` and no `fail_on`) is no change.

use std::collections::BTreeSet;

use serde_json::Value;

use super::{ApprovalScope, Component, Config, ContextConfig, IgnoreRule, OnMissingReport};
use crate::analyze::risk::weights::Weights;
use crate::forge::artifacts::DEFAULT_REPORT_GLOBS;
use crate::model::{ConfigChange, FailOn};
use crate::review::DEFAULT_FAIL_ON;

/// Every setting `head` changes relative to `base`, in the order the file documents them.
pub fn changes(base: &Config, head: &Config) -> Vec<ConfigChange> {
    let mut out = Vec::new();
    fail_on(base, head, &mut out);
    ignore(&base.ignore, &head.ignore, &mut out);
    reports(base, head, &mut out);
    if base.max_inline_comments != head.max_inline_comments {
        let show = |n: Option<usize>| n.map_or("the default".to_string(), |n| n.to_string());
        out.push(change(
            "max_inline_comments",
            format!(
                "{} → {} new inline comments per run",
                show(base.max_inline_comments),
                show(head.max_inline_comments)
            ),
            false,
        ));
    }
    context(
        "context",
        &base.context,
        &head.context,
        &base.risk.weights,
        &mut out,
    );
    components(base, head, &mut out);
    weights(&base.risk.weights, &head.risk.weights, &mut out);
    gate(base, head, &mut out);
    triage(base, head, &mut out);
    super::policy_change::changes(&base.policy, &head.policy, &mut out);
    out
}

fn change(
    setting: impl Into<String>,
    description: impl Into<String>,
    loosens: bool,
) -> ConfigChange {
    ConfigChange {
        setting: setting.into(),
        description: description.into(),
        loosens,
    }
}

fn fail_on(base: &Config, head: &Config, out: &mut Vec<ConfigChange>) {
    let before = base.fail_on.unwrap_or(DEFAULT_FAIL_ON);
    let after = head.fail_on.unwrap_or(DEFAULT_FAIL_ON);
    if before == after {
        return;
    }
    let loosens = after > before;
    let effect = match (before, after) {
        (_, FailOn::Never) => "no new finding would fail the gate".to_owned(),
        (FailOn::Never, _) => format!("new findings at or above {after} would fail the gate"),
        _ if loosens => format!("new {before} findings would no longer fail the gate"),
        _ => format!("new {after} findings would fail the gate too"),
    };
    out.push(change(
        "fail_on",
        format!("{before} → {after}: {effect}"),
        loosens,
    ));
}

/// An ignore rule's identity: what it matches.
fn key(rule: &IgnoreRule) -> (Option<&str>, Option<&str>) {
    (
        rule.path.as_ref().map(|g| g.pattern.as_str()),
        rule.rule.as_deref(),
    )
}

/// How an ignore rule is named in a change: what it matches, its expiry and its reason.
fn describe_rule(rule: &IgnoreRule) -> String {
    let mut parts = Vec::new();
    if let Some(glob) = &rule.path {
        parts.push(format!("path `{}`", glob.pattern));
    }
    if let Some(id) = &rule.rule {
        parts.push(format!("rule `{id}`"));
    }
    let mut out = parts.join(" and ");
    if let Some(until) = rule.until {
        out.push_str(&format!(" until {until}"));
    }
    if let Some(reason) = &rule.reason {
        out.push_str(&format!(" (\"{reason}\")"));
    }
    out
}

/// Whether a path glob matches every path `narrow` matches, as far as can be told from the
/// patterns: the same pattern, `**`, or `dir/**` over a pattern inside `dir/`.
fn glob_covers(wide: &str, narrow: &str) -> bool {
    if wide == narrow || wide == "**" {
        return true;
    }
    match wide.strip_suffix("/**") {
        Some(dir) if !dir.contains(['*', '?', '[', '{']) => narrow
            .strip_prefix(dir)
            .is_some_and(|rest| rest.starts_with('/')),
        _ => false,
    }
}

/// Whether `wide` ignores everything `narrow` ignores, for at least as long.
fn rule_covers(wide: &IgnoreRule, narrow: &IgnoreRule) -> bool {
    let rule_ok = match (&wide.rule, &narrow.rule) {
        (None, _) => true,
        (Some(w), Some(n)) => w == n,
        (Some(_), None) => false,
    };
    let path_ok = match (&wide.path, &narrow.path) {
        (None, _) => true,
        (Some(w), Some(n)) => glob_covers(&w.pattern, &n.pattern),
        (Some(_), None) => false,
    };
    let lasts = match (wide.until, narrow.until) {
        (None, _) => true,
        (Some(w), Some(n)) => w >= n,
        (Some(_), None) => false,
    };
    rule_ok && path_ok && lasts
}

fn ignore(base: &[IgnoreRule], head: &[IgnoreRule], out: &mut Vec<ConfigChange>) {
    for rule in head {
        match base.iter().find(|b| key(b) == key(rule)) {
            Some(before) => {
                if before.until != rule.until {
                    let loosens = match (before.until, rule.until) {
                        (Some(b), Some(h)) => h > b,
                        (Some(_), None) => true,
                        _ => false,
                    };
                    let show = |d: Option<chrono::NaiveDate>| {
                        d.map_or("no expiry".to_string(), |d| d.to_string())
                    };
                    out.push(change(
                        "ignore",
                        format!(
                            "ignore rule {}: expiry {} → {}",
                            describe_rule(&IgnoreRule {
                                until: None,
                                reason: None,
                                ..rule.clone()
                            }),
                            show(before.until),
                            show(rule.until)
                        ),
                        loosens,
                    ));
                } else if before.reason != rule.reason {
                    out.push(change(
                        "ignore",
                        format!("ignore rule {}: new reason", describe_rule(rule)),
                        false,
                    ));
                }
            }
            None => {
                let covered = base.iter().any(|b| rule_covers(b, rule));
                let description = if covered {
                    format!(
                        "narrower ignore rule {} (a base rule already covers it)",
                        describe_rule(rule)
                    )
                } else {
                    format!("new ignore rule {}", describe_rule(rule))
                };
                out.push(change("ignore", description, !covered));
            }
        }
    }
    for rule in base {
        if !head.iter().any(|h| key(h) == key(rule)) {
            out.push(change(
                "ignore",
                format!("removes ignore rule {}", describe_rule(rule)),
                false,
            ));
        }
    }
}

fn reports(base: &Config, head: &Config, out: &mut Vec<ConfigChange>) {
    let effective = |config: &Config| -> Vec<String> {
        if config.reports.is_empty() {
            DEFAULT_REPORT_GLOBS.iter().map(|g| g.to_string()).collect()
        } else {
            config.reports.iter().map(|g| g.pattern.clone()).collect()
        }
    };
    let (before, after) = (effective(base), effective(head));
    if before == after {
        return;
    }
    let removed: Vec<&String> = before.iter().filter(|g| !after.contains(g)).collect();
    let added: Vec<&String> = after.iter().filter(|g| !before.contains(g)).collect();
    let list = |globs: &[&String]| {
        globs
            .iter()
            .map(|g| format!("`{g}`"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut description = match (base.reports.is_empty(), head.reports.is_empty()) {
        (true, false) => "replaces posture's default report globs with an explicit list".into(),
        (false, true) => "goes back to posture's default report globs".into(),
        _ => String::from("changes the report globs"),
    };
    if !removed.is_empty() {
        description.push_str(&format!(
            "; no longer reads {} (those scanners' reports would be missed)",
            list(&removed)
        ));
    }
    if !added.is_empty() {
        description.push_str(&format!("; adds {}", list(&added)));
    }
    if removed.is_empty() && added.is_empty() {
        description.push_str("; same globs, new order");
    }
    out.push(change("reports", description, !removed.is_empty()));
}

/// One context field: its name, its value as written, and the risk points it weighs.
struct Field {
    name: &'static str,
    value: String,
    points: i32,
}

/// The fields of a context, each with the points `weights` give it (unset weighs 0).
fn fields(context: &ContextConfig, weights: &Weights) -> [Field; 4] {
    use crate::model::{DataClass, Environment, Tier};
    let unset = || "unset".to_string();
    [
        Field {
            name: "internet_facing",
            value: context
                .internet_facing
                .map_or_else(unset, |b| b.to_string()),
            points: match context.internet_facing {
                Some(true) => weights.exposure.internet_facing.0,
                Some(false) => weights.exposure.not_internet_facing.0,
                None => 0,
            },
        },
        Field {
            name: "data_classification",
            value: context
                .data_classification
                .map_or_else(unset, |c| c.as_str().to_string()),
            points: context.data_classification.map_or(0, |c| {
                let t = &weights.data_classification;
                match c {
                    DataClass::Public => t.public,
                    DataClass::Internal => t.internal,
                    DataClass::Confidential => t.confidential,
                    DataClass::Pii => t.pii,
                    DataClass::Pci => t.pci,
                    DataClass::Phi => t.phi,
                }
                .0
            }),
        },
        Field {
            name: "environment",
            value: context
                .environment
                .map_or_else(unset, |e| e.as_str().to_string()),
            points: context.environment.map_or(0, |e| {
                let t = &weights.environment;
                match e {
                    Environment::Production => t.production,
                    Environment::Staging => t.staging,
                    Environment::Development => t.development,
                }
                .0
            }),
        },
        Field {
            name: "tier",
            value: context.tier.map_or_else(unset, |t| t.number().to_string()),
            points: context.tier.map_or(0, |tier| {
                let t = &weights.tier;
                match tier {
                    Tier::One => t.tier1,
                    Tier::Two => t.tier2,
                    Tier::Three => t.tier3,
                }
                .0
            }),
        },
    ]
}

/// `own` completed by `application`, as [`Config::context_for`] completes a component.
fn completed(own: &ContextConfig, application: &ContextConfig) -> ContextConfig {
    ContextConfig {
        internet_facing: own.internet_facing.or(application.internet_facing),
        data_classification: own.data_classification.or(application.data_classification),
        environment: own.environment.or(application.environment),
        tier: own.tier.or(application.tier),
    }
}

/// The fields whose points fall from `before` to `after`.
fn lowered(before: &ContextConfig, after: &ContextConfig, weights: &Weights) -> Vec<&'static str> {
    fields(before, weights)
        .iter()
        .zip(fields(after, weights).iter())
        .filter(|(b, a)| a.points < b.points)
        .map(|(b, _)| b.name)
        .collect()
}

/// One change per context field that differs; `prefix` is `context` or `components.NAME`.
fn context(
    prefix: &str,
    before: &ContextConfig,
    after: &ContextConfig,
    weights: &Weights,
    out: &mut Vec<ConfigChange>,
) {
    for (b, a) in fields(before, weights)
        .into_iter()
        .zip(fields(after, weights))
    {
        if b.value == a.value {
            continue;
        }
        let loosens = a.points < b.points;
        out.push(change(
            format!("{prefix}.{}", b.name),
            format!(
                "{} → {}{}",
                b.value,
                a.value,
                if loosens {
                    format!(": lowers the risk score by {} points", b.points - a.points)
                } else {
                    String::new()
                }
            ),
            loosens,
        ));
    }
}

fn components(base: &Config, head: &Config, out: &mut Vec<ConfigChange>) {
    let weights = &base.risk.weights;
    let globs =
        |c: &Component| -> Vec<String> { c.paths.iter().map(|g| g.pattern.clone()).collect() };
    let lowers_note = |fields: &[&str]| {
        if fields.is_empty() {
            String::new()
        } else {
            format!(": lowers the risk score ({})", fields.join(", "))
        }
    };
    for component in &head.components {
        let setting = format!("components.{}", component.name);
        let mine = completed(&component.context, &head.context);
        match base.components.iter().find(|c| c.name == component.name) {
            None => {
                let lower = lowered(&base.context, &mine, weights);
                out.push(change(
                    setting,
                    format!(
                        "new component over {}{}",
                        globs(component).join(", "),
                        lowers_note(&lower)
                    ),
                    !lower.is_empty(),
                ));
            }
            Some(before) => {
                let was = completed(&before.context, &base.context);
                let lower = lowered(&was, &mine, weights);
                if was != mine {
                    let mut described = Vec::new();
                    context(&setting, &was, &mine, weights, &mut described);
                    let text: Vec<String> = described
                        .iter()
                        .map(|c| {
                            format!(
                                "{} {}",
                                c.setting.rsplit('.').next().unwrap_or(""),
                                c.description
                            )
                        })
                        .collect();
                    out.push(change(
                        setting.clone(),
                        format!("context: {}", text.join("; ")),
                        !lower.is_empty(),
                    ));
                }
                let (old, new) = (globs(before), globs(component));
                if old != new {
                    let added: Vec<&String> = new.iter().filter(|g| !old.contains(g)).collect();
                    let removed: Vec<&String> = old.iter().filter(|g| !new.contains(g)).collect();
                    // Paths that join a component take its context instead of the
                    // application's; paths that leave it fall back to the application's.
                    let loosens = (!added.is_empty()
                        && !lowered(&head.context, &mine, weights).is_empty())
                        || (!removed.is_empty()
                            && !lowered(&was, &head.context, weights).is_empty());
                    let show = |v: &[&String]| {
                        v.iter()
                            .map(|g| format!("`{g}`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    };
                    let mut parts = Vec::new();
                    if !added.is_empty() {
                        parts.push(format!("adds {}", show(&added)));
                    }
                    if !removed.is_empty() {
                        parts.push(format!("removes {}", show(&removed)));
                    }
                    if parts.is_empty() {
                        parts.push("reorders its globs".into());
                    }
                    let mut description = format!("paths: {}", parts.join("; "));
                    if loosens {
                        description.push_str(": moves paths to a lower-risk context");
                    }
                    out.push(change(setting, description, loosens));
                }
            }
        }
    }
    for component in &base.components {
        if head.components.iter().any(|c| c.name == component.name) {
            continue;
        }
        let was = completed(&component.context, &base.context);
        let lower = lowered(&was, &head.context, weights);
        out.push(change(
            format!("components.{}", component.name),
            format!(
                "component removed: its paths take the application context{}",
                lowers_note(&lower)
            ),
            !lower.is_empty(),
        ));
    }
    let order = |config: &Config| -> Vec<String> {
        config
            .components
            .iter()
            .filter(|c| {
                base.components.iter().any(|b| b.name == c.name)
                    && head.components.iter().any(|h| h.name == c.name)
            })
            .map(|c| c.name.clone())
            .collect()
    };
    if order(base) != order(head) {
        out.push(change(
            "components",
            format!(
                "reordered (the first matching component wins): {}",
                order(head).join(", ")
            ),
            false,
        ));
    }
}

/// Every weight that differs, by its dotted key.
fn weights(base: &Weights, head: &Weights, out: &mut Vec<ConfigChange>) {
    let (Ok(before), Ok(after)) = (serde_json::to_value(base), serde_json::to_value(head)) else {
        return;
    };
    let mut leaves = Vec::new();
    diff_leaves("risk.weights", &before, &after, &mut leaves);
    for (key, b, a) in leaves {
        let threshold = key.ends_with("_from");
        let (bn, an) = (b.as_f64().unwrap_or(0.0), a.as_f64().unwrap_or(0.0));
        let loosens = if threshold { an > bn } else { an < bn };
        out.push(change(
            key,
            format!(
                "{b} → {a}{}",
                if loosens { ": lowers risk scores" } else { "" }
            ),
            loosens,
        ));
    }
}

fn diff_leaves(prefix: &str, before: &Value, after: &Value, out: &mut Vec<(String, Value, Value)>) {
    match (before, after) {
        (Value::Object(b), Value::Object(a)) => {
            for (k, bv) in b {
                if let Some(av) = a.get(k) {
                    diff_leaves(&format!("{prefix}.{k}"), bv, av, out);
                }
            }
        }
        (b, a) if b != a => out.push((prefix.to_string(), b.clone(), a.clone())),
        _ => {}
    }
}

fn gate(base: &Config, head: &Config, out: &mut Vec<ConfigChange>) {
    let (before, after) = (base.gate.on_missing_report, head.gate.on_missing_report);
    if before == after {
        return;
    }
    let name = |o: OnMissingReport| match o {
        OnMissingReport::Fail => "fail",
        OnMissingReport::Pass => "pass",
    };
    let loosens = after == OnMissingReport::Pass;
    out.push(change(
        "gate.on_missing_report",
        format!(
            "{} → {}{}",
            name(before),
            name(after),
            if loosens {
                ": a scanner that did not report would no longer hold the gate"
            } else {
                ""
            }
        ),
        loosens,
    ));
}

fn triage(base: &Config, head: &Config, out: &mut Vec<ConfigChange>) {
    let (b, h) = (&base.triage, &head.triage);
    let who = |maintainers: bool| {
        if maintainers {
            "maintainers"
        } else {
            "writers"
        }
    };
    if b.maintainers_only() != h.maintainers_only() {
        let loosens = b.maintainers_only();
        out.push(change(
            "triage.allow",
            format!(
                "{} → {}{}",
                who(b.maintainers_only()),
                who(h.maintainers_only()),
                if loosens {
                    ": more people could dismiss or accept findings"
                } else {
                    ""
                }
            ),
            loosens,
        ));
    }
    let scopes =
        |v: &[ApprovalScope]| -> BTreeSet<&'static str> { v.iter().map(|s| s.as_str()).collect() };
    let (before, after) = (scopes(&b.require_approval), scopes(&h.require_approval));
    for removed in before.difference(&after) {
        out.push(change(
            "triage.require_approval",
            format!("`{removed}` would no longer need a second person's approval"),
            true,
        ));
    }
    for added in after.difference(&before) {
        out.push(change(
            "triage.require_approval",
            format!("`{added}` would need a second person's approval"),
            false,
        ));
    }
    if b.max_accept_days != h.max_accept_days {
        out.push(change(
            "triage.max_accept_days",
            format!("{} → {} days", b.max_accept_days, h.max_accept_days),
            h.max_accept_days > b.max_accept_days,
        ));
    }
    let (before, after) = (b.vex_paths(), h.vex_paths());
    for added in after.iter().filter(|p| !before.contains(p)) {
        out.push(change(
            "triage.vex",
            format!("new VEX document `{added}`: its statements would dismiss findings"),
            true,
        ));
    }
    for removed in before.iter().filter(|p| !after.contains(p)) {
        out.push(change(
            "triage.vex",
            format!("VEX document `{removed}` would no longer be read"),
            false,
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(text: &str) -> Config {
        Config::parse(".posture.yml", text).unwrap()
    }

    fn diff(base: &str, head: &str) -> Vec<ConfigChange> {
        changes(&config(base), &config(head))
    }

    fn only(base: &str, head: &str) -> ConfigChange {
        let changes = diff(base, head);
        assert_eq!(changes.len(), 1, "{changes:#?}");
        changes.into_iter().next().unwrap()
    }

    #[test]
    fn identical_or_equivalent_files_change_nothing() {
        assert!(diff("", "").is_empty());
        assert!(diff("fail_on: high\n", "# defaults\n").is_empty());
        assert!(diff("triage:\n  vex: [.posture/vex.json]\n", "").is_empty());
        assert!(diff("triage:\n  max_accept_days: 90\n", "version: 1\n").is_empty());
        let full = "fail_on: medium\nignore:\n  - path: \"tests/**\"\n    reason: fixtures\ncontext:\n  tier: 1\n";
        assert!(diff(full, full).is_empty());
    }

    #[test]
    fn fail_on_none_is_the_loosest_threshold() {
        let off = only("fail_on: critical\n", "fail_on: none\n");
        assert!(off.loosens);
        assert_eq!(
            off.description,
            "critical → none: no new finding would fail the gate"
        );
        assert!(only("", "fail_on: none\n").loosens);
        let on = only("fail_on: none\n", "");
        assert!(!on.loosens);
        assert_eq!(
            on.description,
            "none → high: new findings at or above high would fail the gate"
        );
    }

    #[test]
    fn fail_on_loosens_when_the_threshold_rises() {
        let c = only("fail_on: high\n", "fail_on: critical\n");
        assert_eq!(c.setting, "fail_on");
        assert!(c.loosens, "{c:?}");
        assert!(c.description.starts_with("high → critical"), "{c:?}");
        // Unset is high.
        assert!(only("", "fail_on: critical\n").loosens);
        assert!(!only("", "fail_on: medium\n").loosens);
        assert!(!only("fail_on: critical\n", "").loosens);
        assert!(only("fail_on: low\n", "").loosens);
    }

    #[test]
    fn a_new_ignore_rule_loosens_unless_a_base_rule_covers_it() {
        let c = only(
            "fail_on: high\n",
            "fail_on: high\nignore: [{path: \"**\"}]\n",
        );
        assert_eq!(c.setting, "ignore");
        assert!(c.loosens);
        assert!(c.description.contains("new ignore rule path `**`"), "{c:?}");
        // A wider rule replacing a narrow one: the new rule loosens, the removal does not.
        let changes = diff(
            "ignore: [{path: \"tests/fixtures/**\"}]\n",
            "ignore: [{path: \"tests/**\"}]\n",
        );
        assert_eq!(changes.len(), 2, "{changes:#?}");
        assert!(changes[0].loosens && changes[0].description.contains("tests/**"));
        assert!(!changes[1].loosens && changes[1].description.starts_with("removes"));
        // A narrower rule within a base rule does not.
        let changes = diff(
            "ignore: [{path: \"tests/**\"}]\n",
            "ignore: [{path: \"tests/fixtures/**\", rule: py/xss}]\n",
        );
        assert!(changes.iter().all(|c| !c.loosens), "{changes:#?}");
        // The same match by rule id on a path: covered by the rule alone.
        assert!(
            !only(
                "ignore: [{rule: CVE-1}, {path: a}]\n",
                "ignore: [{rule: CVE-1}, {path: a}, {rule: CVE-1, path: \"src/**\"}]\n"
            )
            .loosens
        );
        // `tests/**` does not cover `testsuite/**`.
        let changes = diff(
            "ignore: [{path: \"tests/**\"}]\n",
            "ignore: [{path: \"tests/**\"}, {path: \"testsuite/**\"}]\n",
        );
        assert!(changes[0].loosens, "{changes:#?}");
        // Removing a rule tightens.
        assert!(!only("ignore: [{rule: CVE-1}]\n", "").loosens);
    }

    #[test]
    fn extending_or_dropping_an_expiry_loosens() {
        let base = "ignore: [{rule: CVE-1, until: 2026-01-31}]\n";
        let c = only(base, "ignore: [{rule: CVE-1, until: 2027-01-31}]\n");
        assert!(
            c.loosens && c.description.contains("2026-01-31 → 2027-01-31"),
            "{c:?}"
        );
        assert!(only(base, "ignore: [{rule: CVE-1}]\n").loosens);
        assert!(!only(base, "ignore: [{rule: CVE-1, until: 2025-12-31}]\n").loosens);
        // A narrower expiry under a rule that lasts longer is covered.
        let c = only(
            "ignore: [{rule: CVE-1}]\n",
            "ignore: [{rule: CVE-1}, {rule: CVE-1, path: a, until: 2026-01-01}]\n",
        );
        assert!(!c.loosens, "{c:?}");
        let c = only(
            "ignore: [{rule: CVE-1, reason: old}]\n",
            "ignore: [{rule: CVE-1, reason: new}]\n",
        );
        assert!(!c.loosens && c.description.contains("new reason"), "{c:?}");
    }

    #[test]
    fn narrower_or_replaced_report_globs_loosen() {
        let c = only("", "reports: [\"reports/*.sarif\"]\n");
        assert_eq!(c.setting, "reports");
        assert!(c.loosens, "defaults → explicit list: {c:?}");
        assert!(
            c.description.contains("replaces posture's default"),
            "{c:?}"
        );
        let c = only(
            "reports: [\"a/*.sarif\", \"b/*.json\"]\n",
            "reports: [\"a/*.sarif\"]\n",
        );
        assert!(c.loosens && c.description.contains("`b/*.json`"), "{c:?}");
        let c = only(
            "reports: [\"a/*.sarif\"]\n",
            "reports: [\"a/*.sarif\", \"b/*.json\"]\n",
        );
        assert!(!c.loosens, "adding a glob: {c:?}");
        // Back to the defaults from a list they include: nothing is lost.
        assert!(!only("reports: [\"**/*.sarif\"]\n", "").loosens);
        assert!(only("reports: [\"custom/*.out\"]\n", "").loosens);
    }

    #[test]
    fn gate_and_triage_settings() {
        let c = only("", "gate: {on_missing_report: pass}\n");
        assert_eq!(c.setting, "gate.on_missing_report");
        assert!(c.loosens);
        assert!(!only("gate: {on_missing_report: pass}\n", "").loosens);

        let c = only(
            "triage: {allow: [maintainers]}\n",
            "triage: {allow: [writers]}\n",
        );
        assert_eq!(c.setting, "triage.allow");
        assert!(c.loosens);
        assert!(only("triage: {allow: [maintainers]}\n", "").loosens);
        assert!(!only("", "triage: {allow: [maintainers]}\n").loosens);
        assert!(diff("triage: {allow: [writers]}\n", "").is_empty());

        let c = only(
            "triage: {require_approval: [accept, wont_fix]}\n",
            "triage: {require_approval: [accept]}\n",
        );
        assert_eq!(c.setting, "triage.require_approval");
        assert!(c.loosens && c.description.contains("wont_fix"), "{c:?}");
        assert!(!only("", "triage: {require_approval: [dismiss]}\n").loosens);

        assert!(only("", "triage: {max_accept_days: 365}\n").loosens);
        assert!(!only("", "triage: {max_accept_days: 30}\n").loosens);

        let changes = diff("", "triage: {vex: [security/vex.json]}\n");
        assert_eq!(changes.len(), 2, "{changes:#?}");
        assert!(changes[0].loosens && changes[0].description.contains("security/vex.json"));
        assert!(!changes[1].loosens && changes[1].description.contains(".posture/vex.json"));
    }

    #[test]
    fn context_changes_that_lower_the_score_loosen() {
        let c = only(
            "context: {internet_facing: true}\n",
            "context: {internet_facing: false}\n",
        );
        assert_eq!(c.setting, "context.internet_facing");
        assert!(c.loosens, "{c:?}");
        assert!(c.description.contains("by 20 points"), "{c:?}");
        assert!(!only("context: {internet_facing: false}\n", "").loosens);
        assert!(only("context: {internet_facing: true}\n", "").loosens);
        assert!(only("context: {tier: 1}\n", "context: {tier: 3}\n").loosens);
        assert!(!only("context: {tier: 3}\n", "context: {tier: 2}\n").loosens);
        assert!(
            only(
                "context: {environment: production}\n",
                "context: {environment: staging}\n"
            )
            .loosens
        );
        assert!(
            only(
                "context: {data_classification: pii}\n",
                "context: {data_classification: internal}\n"
            )
            .loosens
        );
        // pii and pci weigh the same by default: listed, not loosening.
        assert!(
            !only(
                "context: {data_classification: pii}\n",
                "context: {data_classification: pci}\n"
            )
            .loosens
        );
        assert!(!only("", "max_inline_comments: 3\n").loosens);
    }

    #[test]
    fn component_changes() {
        let base = "context: {internet_facing: true}\ncomponents:\n  - name: web\n    paths: [\"web/**\"]\n    tier: 1\n";
        // A new component that declares its paths not internet-facing.
        let c = only(
            "context: {internet_facing: true}\n",
            "context: {internet_facing: true}\ncomponents:\n  - name: admin\n    paths: [\"admin/**\"]\n    internet_facing: false\n",
        );
        assert_eq!(c.setting, "components.admin");
        assert!(c.loosens, "{c:?}");
        // Lowering a component's tier.
        let c = only(base, &base.replace("tier: 1", "tier: 3"));
        assert_eq!(c.setting, "components.web");
        assert!(c.loosens && c.description.contains("tier 1 → 3"), "{c:?}");
        // Removing a tier-1 component: its paths fall back to the application's context.
        let c = only(base, "context: {internet_facing: true}\n");
        assert!(c.loosens && c.description.contains("removed"), "{c:?}");
        // More paths for a component that weighs more than the application: not loosening.
        let c = only(
            base,
            &base.replace("[\"web/**\"]", "[\"web/**\", \"api/**\"]"),
        );
        assert!(
            !c.loosens && c.description.contains("adds `api/**`"),
            "{c:?}"
        );
        // Fewer paths for it: they lose its weight.
        let two = base.replace("[\"web/**\"]", "[\"web/**\", \"api/**\"]");
        assert!(only(&two, base).loosens);
        // Reordering is listed, never loosening.
        let ab = "components:\n  - {name: a, paths: [\"x/**\"], tier: 1}\n  - {name: b, paths: [\"**\"], tier: 3}\n";
        let ba = "components:\n  - {name: b, paths: [\"**\"], tier: 3}\n  - {name: a, paths: [\"x/**\"], tier: 1}\n";
        let c = only(ab, ba);
        assert_eq!(c.setting, "components");
        assert!(!c.loosens);
    }

    #[test]
    fn weights_that_lower_scores_loosen() {
        let c = only("", "risk: {weights: {kev: {listed: 10}}}\n");
        assert_eq!(c.setting, "risk.weights.kev.listed");
        assert!(c.loosens && c.description.starts_with("25 → 10"), "{c:?}");
        assert!(!only("", "risk: {weights: {kev: {listed: 30}}}\n").loosens);
        assert!(only("", "risk: {weights: {dependency: {dev: -50}}}\n").loosens);
        // A higher threshold gives fewer findings the bonus.
        assert!(only("", "risk: {weights: {epss: {high_from: 0.5}}}\n").loosens);
        assert!(!only("", "risk: {weights: {epss: {high_from: 0.05}}}\n").loosens);
    }
}
