//! An org's sinks and alert rules, as the settings file spells them, and the pure decisions
//! on them: which rules pick an event, for which sinks, and into which group.
//!
//! ```yaml
//! orgs:
//!   acme:
//!     sinks:
//!       - {name: secops-hook, type: webhook, url: "https://hooks.example/posture", secret_env: POSTURE_HOOK_SECRET}
//!       - {name: slack-secops, type: slack, url_env: POSTURE_SLACK_WEBHOOK}
//!       - {name: siem, type: file, path: /var/log/posture/alerts.jsonl, format: ocsf}
//!     alerts:
//!       - name: critical-on-main
//!         on: [finding.detected, finding.reintroduced]
//!         when: {severity_at_least: high, kev: true}
//!         to: [slack-secops, siem]
//!         group: {by: repository, window: 10m}
//! ```
//!
//! Secrets (webhook signing secrets, Slack URLs, Splunk tokens) are named by environment
//! variable only; nothing here reads the environment (see [`super::sinks`]).

use std::collections::BTreeSet;
use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use serde::{Deserialize, Deserializer};

use super::event::{AlertEvent, AlertKind};
use super::format::Format;
use crate::config::PathGlob;
use crate::model::{Kind, Severity};

/// Where alerts go.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum SinkConfig {
    /// A JSON POST: a CloudEvents 1.0 envelope signed per Standard Webhooks.
    Webhook {
        name: String,
        #[serde(default)]
        url: Option<String>,
        /// The variable holding the URL (for a URL that carries a secret).
        #[serde(default)]
        url_env: Option<String>,
        /// The variable holding the signing secret (`whsec_<base64>` or any text); unsigned
        /// without one.
        #[serde(default)]
        secret_env: Option<String>,
        #[serde(default)]
        format: Format,
    },
    /// A Slack incoming webhook (Block Kit). Its URL is a secret: only `url_env` is taken.
    Slack {
        name: String,
        #[serde(default)]
        url: Option<String>,
        /// The variable holding the webhook URL.
        #[serde(default)]
        url_env: Option<String>,
    },
    /// Splunk's HTTP Event Collector.
    SplunkHec {
        name: String,
        #[serde(default)]
        url: Option<String>,
        /// The variable holding the URL (for a URL that carries a secret).
        #[serde(default)]
        url_env: Option<String>,
        /// The variable holding the HEC token.
        token_env: String,
        #[serde(default)]
        format: Format,
    },
    /// JSON lines appended to a file, rotated by size.
    File {
        name: String,
        path: PathBuf,
        #[serde(default)]
        format: Format,
        /// Rotate when the file would grow past this many bytes (default 100 MiB).
        #[serde(default)]
        max_bytes: Option<u64>,
        /// Rotated files kept (`alerts.jsonl.1` … `.N`; default 5).
        #[serde(default)]
        keep: Option<u32>,
    },
}

/// A URL given as it is or by the variable that holds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Endpoint<'a> {
    pub url: Option<&'a str>,
    pub url_env: Option<&'a str>,
}

/// The most rotated files a file sink keeps.
pub const MAX_KEEP: u32 = 100;

/// The kinds of sink, for listings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SinkType {
    Webhook,
    Slack,
    SplunkHec,
    File,
}

impl SinkType {
    /// The spelling of `type:` in the settings file.
    pub fn as_str(self) -> &'static str {
        match self {
            SinkType::Webhook => "webhook",
            SinkType::Slack => "slack",
            SinkType::SplunkHec => "splunk_hec",
            SinkType::File => "file",
        }
    }
}

impl SinkConfig {
    /// The sink's name, unique in its org.
    pub fn name(&self) -> &str {
        match self {
            SinkConfig::Webhook { name, .. }
            | SinkConfig::Slack { name, .. }
            | SinkConfig::SplunkHec { name, .. }
            | SinkConfig::File { name, .. } => name,
        }
    }

    /// Its `type:`.
    pub fn sink_type(&self) -> SinkType {
        match self {
            SinkConfig::Webhook { .. } => SinkType::Webhook,
            SinkConfig::Slack { .. } => SinkType::Slack,
            SinkConfig::SplunkHec { .. } => SinkType::SplunkHec,
            SinkConfig::File { .. } => SinkType::File,
        }
    }

    /// The payload format (Slack always renders its own blocks from posture's events).
    pub fn format(&self) -> Format {
        match self {
            SinkConfig::Webhook { format, .. }
            | SinkConfig::SplunkHec { format, .. }
            | SinkConfig::File { format, .. } => *format,
            SinkConfig::Slack { .. } => Format::Posture,
        }
    }

    /// The URL of a network sink.
    pub fn endpoint(&self) -> Option<Endpoint<'_>> {
        match self {
            SinkConfig::Webhook { url, url_env, .. }
            | SinkConfig::Slack { url, url_env, .. }
            | SinkConfig::SplunkHec { url, url_env, .. } => Some(Endpoint {
                url: url.as_deref(),
                url_env: url_env.as_deref(),
            }),
            SinkConfig::File { .. } => None,
        }
    }

    /// The environment variables it reads.
    pub fn variables(&self) -> Vec<&str> {
        let secret = match self {
            SinkConfig::Webhook { secret_env, .. } => secret_env.as_deref(),
            SinkConfig::SplunkHec { token_env, .. } => Some(token_env.as_str()),
            SinkConfig::Slack { .. } | SinkConfig::File { .. } => None,
        };
        self.endpoint()
            .and_then(|endpoint| endpoint.url_env)
            .into_iter()
            .chain(secret)
            .collect()
    }

    /// What is wrong with it on its own (the org checks names and references).
    fn check(&self) -> Result<(), String> {
        if let SinkConfig::Slack { url: Some(_), .. } = self {
            return Err(
                "a Slack webhook URL is a secret: name the variable that holds it with `url_env`"
                    .into(),
            );
        }
        if let SinkConfig::File {
            keep: Some(keep), ..
        } = self
        {
            if *keep > MAX_KEEP {
                return Err(format!("`keep` is at most {MAX_KEEP}"));
            }
        }
        if let Some(endpoint) = self.endpoint() {
            match (endpoint.url, endpoint.url_env) {
                (Some(_), Some(_)) => return Err("give `url` or `url_env`, not both".into()),
                (None, None) => return Err("`url` or `url_env` is required".into()),
                (Some(url), None) => check_url(url)?,
                (None, Some(_)) => {}
            }
        }
        for variable in self.variables() {
            if variable.is_empty()
                || !variable
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_')
            {
                return Err(format!(
                    "`{variable}` is not an environment variable name (secrets are named by \
                     variable, never written in this file)"
                ));
            }
        }
        if let SinkConfig::File { path, .. } = self {
            if !path.is_absolute() {
                return Err(format!("path `{}` must be absolute", path.display()));
            }
        }
        Ok(())
    }
}

/// A URL must be http(s); the message never repeats it (it may hold a token).
fn check_url(url: &str) -> Result<(), String> {
    match url::Url::parse(url) {
        Ok(parsed) if matches!(parsed.scheme(), "http" | "https") => Ok(()),
        Ok(_) => Err("`url` must be http:// or https://".into()),
        Err(_) => Err("`url` is not a valid URL".into()),
    }
}

/// One alert rule.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertRule {
    pub name: String,
    /// The events it picks.
    pub on: Vec<Trigger>,
    /// Conditions that must all hold.
    #[serde(default)]
    pub when: Conditions,
    /// Sink names of the same org.
    pub to: Vec<String>,
    /// Without a group, each event is its own message, sent at once.
    #[serde(default)]
    pub group: Option<Grouping>,
}

/// What a rule listens to: an event of the log (`finding.detected`, …) or the weekly digest
/// (`org.digest`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Trigger {
    Finding(AlertKind),
    Digest,
}

impl Trigger {
    /// How rules name the digest.
    pub const DIGEST: &str = "org.digest";
}

impl FromStr for Trigger {
    type Err = String;

    fn from_str(text: &str) -> Result<Trigger, String> {
        if text == Trigger::DIGEST {
            return Ok(Trigger::Digest);
        }
        if !text.starts_with("finding.") {
            return Err(
                "unknown event: expected org.digest or a finding event (finding.detected, …)"
                    .into(),
            );
        }
        text.parse()
            .map(Trigger::Finding)
            .map_err(|e: String| format!("{e}, or org.digest"))
    }
}

impl<'de> Deserialize<'de> for Trigger {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

/// `when:`: every condition given must hold.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Conditions {
    #[serde(default)]
    pub severity_at_least: Option<Severity>,
    #[serde(default)]
    pub kind: Option<Kind>,
    /// `true`: only findings with an advisory in CISA's KEV catalog; `false`: only others.
    #[serde(default)]
    pub kev: Option<bool>,
    /// A glob over `owner/name` (`*` stays within one path segment; `**` crosses them).
    #[serde(default)]
    pub repository: Option<PathGlob>,
    /// One of the tools that reported the finding (case-insensitive).
    #[serde(default)]
    pub tool: Option<String>,
}

impl Conditions {
    pub fn hold(&self, event: &AlertEvent) -> bool {
        let finding = &event.finding;
        self.severity_at_least
            .is_none_or(|least| finding.severity >= least)
            && self.kind.is_none_or(|kind| finding.kind == kind)
            && self.kev.is_none_or(|kev| finding.kev == kev)
            && self
                .repository
                .as_ref()
                .is_none_or(|glob| glob.is_match(&event.repository))
            && self.tool.as_ref().is_none_or(|tool| {
                finding
                    .tools
                    .iter()
                    .any(|reported| reported.eq_ignore_ascii_case(tool))
            })
    }
}

/// `group: {by: repository, window: 10m}`: events of one group within the window make one
/// message per sink, sent when the window closes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Grouping {
    /// What the events of a group share.
    pub by: GroupBy,
    /// How long a group collects events after its first.
    pub window: Window,
}

/// What events of one group share.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GroupBy {
    /// Every event of the org in the window.
    Org,
    Repository,
    Rule,
    Kind,
    Severity,
    Finding,
}

/// A duration written as a whole number and `ms`, `s`, `m`, `h` or `d` (`10m`, `1d`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window(pub Duration);

impl FromStr for Window {
    type Err = String;

    fn from_str(text: &str) -> Result<Window, String> {
        let split = text
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(text.len());
        let (number, unit) = text.split_at(split);
        let scale = match unit {
            "ms" => 1,
            "s" => 1_000,
            "m" => 60_000,
            "h" => 3_600_000,
            "d" => 86_400_000,
            _ => 0,
        };
        match number.parse::<u64>() {
            Ok(n) if scale > 0 && !number.is_empty() => {
                Ok(Window(Duration::from_millis(n.saturating_mul(scale))))
            }
            _ => Err("not a duration: expected a whole number and ms, s, m, h or d (`10m`)".into()),
        }
    }
}

impl fmt::Display for Window {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ms = self.0.as_millis();
        let (n, unit) = [
            (86_400_000, "d"),
            (3_600_000, "h"),
            (60_000, "m"),
            (1_000, "s"),
        ]
        .into_iter()
        .find(|(scale, _)| ms > 0 && ms % scale == 0)
        .map(|(scale, unit)| (ms / scale, unit))
        .unwrap_or((ms, "ms"));
        write!(f, "{n}{unit}")
    }
}

impl<'de> Deserialize<'de> for Window {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

/// Where one event goes by one rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route<'a> {
    pub rule: &'a str,
    /// Events with the same rule and key share a message within the window.
    pub group_key: String,
    /// Zero: a message of its own, due at once.
    pub window: Duration,
}

impl AlertRule {
    /// Does the rule pick this event?
    pub fn picks(&self, event: &AlertEvent) -> bool {
        self.on.contains(&Trigger::Finding(event.kind)) && self.when.hold(event)
    }

    /// The group this event falls in, and the window, when the rule picks it for `sink`.
    pub fn route(&self, sink: &str, event: &AlertEvent) -> Option<Route<'_>> {
        if !self.to.iter().any(|to| to == sink) || !self.picks(event) {
            return None;
        }
        let Some(group) = self.group else {
            return Some(Route {
                rule: &self.name,
                group_key: event.id.clone(),
                window: Duration::ZERO,
            });
        };
        let group_key = match group.by {
            GroupBy::Org => event.org.clone(),
            GroupBy::Repository => event.repository.clone(),
            GroupBy::Rule => format!("{}:{}", event.repository, event.finding.rule),
            GroupBy::Kind => event.kind.as_str().to_owned(),
            GroupBy::Severity => event.finding.severity.as_str().to_owned(),
            GroupBy::Finding => format!("{}:{}", event.repository, event.finding.id),
        };
        Some(Route {
            rule: &self.name,
            group_key,
            window: group.window.0,
        })
    }
}

/// An org's sinks and rules, checked against each other.
pub fn check_org(sinks: &[SinkConfig], rules: &[AlertRule]) -> Result<(), String> {
    let mut names = BTreeSet::new();
    for (n, sink) in sinks.iter().enumerate() {
        if sink.name().is_empty() {
            return Err(format!("sinks[{n}]: `name` is empty"));
        }
        if !names.insert(sink.name()) {
            return Err(format!("sinks[{n}]: a second sink named `{}`", sink.name()));
        }
        sink.check()
            .map_err(|e| format!("sinks[{n}] ({}): {e}", sink.name()))?;
    }
    let mut rule_names = BTreeSet::new();
    for (n, rule) in rules.iter().enumerate() {
        if !rule_names.insert(rule.name.as_str()) {
            return Err(format!("alerts[{n}]: a second rule named `{}`", rule.name));
        }
        if rule.on.is_empty() {
            return Err(format!("alerts[{n}] ({}): `on` names no event", rule.name));
        }
        if rule.to.is_empty() {
            return Err(format!("alerts[{n}] ({}): `to` names no sink", rule.name));
        }
        for to in &rule.to {
            if !names.contains(to.as_str()) {
                let known: Vec<&str> = names.iter().copied().collect();
                return Err(format!(
                    "alerts[{n}] ({}): no sink named `{to}` in this org (its sinks: {})",
                    rule.name,
                    if known.is_empty() {
                        "none".to_owned()
                    } else {
                        known.join(", ")
                    }
                ));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(yaml: &str) -> AlertRule {
        serde_yaml_ng::from_str(yaml).unwrap()
    }

    fn event() -> AlertEvent {
        let mut event = AlertEvent::sample("acme", chrono::Utc::now());
        event.repository = "acme/app".into();
        event.finding.severity = Severity::High;
        event.finding.kev = true;
        event
    }

    #[test]
    fn every_condition_given_must_hold() {
        let r = rule(
            "{name: r, on: [finding.detected], to: [s], when: {severity_at_least: high, \
             kev: true, repository: 'acme/*', tool: POSTURE, kind: sca}}",
        );
        let e = event();
        assert!(r.picks(&e));
        let mut medium = e.clone();
        medium.finding.severity = Severity::Medium;
        assert!(!r.picks(&medium));
        let mut not_kev = e.clone();
        not_kev.finding.kev = false;
        assert!(!r.picks(&not_kev));
        let mut other_repo = e.clone();
        other_repo.repository = "acme/group/app".into();
        assert!(!r.picks(&other_repo), "* stays within a segment");
        let mut other_tool = e.clone();
        other_tool.finding.tools = vec!["trivy".into()];
        assert!(!r.picks(&other_tool));
        let mut fixed = e.clone();
        fixed.kind = AlertKind::Fixed;
        assert!(!r.picks(&fixed), "only the events of `on`");
    }

    #[test]
    fn routes_group_by_the_key_and_only_for_listed_sinks() {
        let r = rule(
            "{name: crit, on: [finding.detected], to: [chat], group: {by: repository, window: 10m}}",
        );
        let e = event();
        let route = r.route("chat", &e).unwrap();
        assert_eq!(route.group_key, "acme/app");
        assert_eq!(route.window, Duration::from_secs(600));
        assert_eq!(r.route("siem", &e), None);
        let single = rule("{name: one, on: [finding.detected], to: [chat]}");
        let route = single.route("chat", &e).unwrap();
        assert_eq!(
            (route.group_key.as_str(), route.window),
            (e.id.as_str(), Duration::ZERO)
        );
    }

    #[test]
    fn triggers_are_finding_events_or_the_digest() {
        assert_eq!("org.digest".parse(), Ok(Trigger::Digest));
        assert_eq!(
            "finding.sla_breached".parse(),
            Ok(Trigger::Finding(AlertKind::SlaBreached))
        );
        // The log's short spelling is not a rule's.
        assert!("detected".parse::<Trigger>().is_err());
        assert!(
            "org.weekly"
                .parse::<Trigger>()
                .unwrap_err()
                .contains("org.digest")
        );
    }

    #[test]
    fn windows_parse_and_print() {
        for (text, ms) in [
            ("10m", 600_000),
            ("1d", 86_400_000),
            ("250ms", 250),
            ("30s", 30_000),
        ] {
            let window: Window = text.parse().unwrap();
            assert_eq!(window.0, Duration::from_millis(ms));
            assert_eq!(window.to_string(), text);
        }
        for bad in ["", "10", "m", "1.5h", "-1m", "10 m", "3w"] {
            assert!(bad.parse::<Window>().is_err(), "{bad}");
        }
    }

    #[test]
    fn sinks_are_checked_without_repeating_secrets() {
        let sinks: Vec<SinkConfig> = serde_yaml_ng::from_str(
            "[{name: a, type: webhook, url: 'ftp://u:hunter2@x/'}, {name: b, type: slack, url_env: S}]",
        )
        .unwrap();
        let err = check_org(&sinks, &[]).unwrap_err();
        assert!(
            err.contains("sinks[0] (a)") && !err.contains("hunter2"),
            "{err}"
        );
        let both: Vec<SinkConfig> = serde_yaml_ng::from_str(
            "[{name: a, type: splunk_hec, url: 'https://s/', url_env: U, token_env: T}]",
        )
        .unwrap();
        assert!(check_org(&both, &[]).unwrap_err().contains("not both"));
        let bad_var: Vec<SinkConfig> = serde_yaml_ng::from_str(
            "[{name: a, type: webhook, url: 'https://h/', secret_env: 'abc def'}]",
        )
        .unwrap();
        assert!(
            check_org(&bad_var, &[])
                .unwrap_err()
                .contains("not an environment variable")
        );
        let relative: Vec<SinkConfig> =
            serde_yaml_ng::from_str("[{name: f, type: file, path: alerts.jsonl}]").unwrap();
        assert!(check_org(&relative, &[]).unwrap_err().contains("absolute"));
    }

    #[test]
    fn slack_urls_come_from_the_environment_only() {
        let literal: Vec<SinkConfig> = serde_yaml_ng::from_str(
            "[{name: chat, type: slack, url: 'https://hooks.slack.com/services/T/B/zq9path'}]",
        )
        .unwrap();
        let err = check_org(&literal, &[]).unwrap_err();
        assert!(err.contains("url_env") && !err.contains("zq9path"), "{err}");
        let many: Vec<SinkConfig> =
            serde_yaml_ng::from_str("[{name: f, type: file, path: /a, keep: 4000000000}]").unwrap();
        assert!(check_org(&many, &[]).unwrap_err().contains("at most 100"));
    }

    #[test]
    fn rules_must_name_sinks_of_their_org() {
        let sinks: Vec<SinkConfig> =
            serde_yaml_ng::from_str("[{name: siem, type: file, path: /tmp/a.jsonl}]").unwrap();
        let rules = vec![rule("{name: r, on: [finding.fixed], to: [slack]}")];
        let err = check_org(&sinks, &rules).unwrap_err();
        assert!(
            err.contains("no sink named `slack`") && err.contains("siem"),
            "{err}"
        );
        let twice: Vec<SinkConfig> = serde_yaml_ng::from_str(
            "[{name: s, type: file, path: /a}, {name: s, type: file, path: /b}]",
        )
        .unwrap();
        assert!(check_org(&twice, &[]).unwrap_err().contains("second sink"));
    }
}
