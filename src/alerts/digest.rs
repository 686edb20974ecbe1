//! The weekly digest an alert rule can send (`on: [org.digest]`): the org's summary of the
//! week before the scheduled time (open findings, new and fixed, SLA, the worst
//! repositories, the upgrades that clear the most), as one message per sink.
//!
//! When: `orgs.<org>.digest: {day: monday, hour: 8}` (UTC; these are the defaults). The
//! digest of a week is queued once per sink and rule, at the first tick after its time (so a
//! server that was down then sends it when it starts). Pure: the summary comes from
//! [`crate::history::summarize`].
//!
//! Where else: `orgs.<org>.digest.issue: {forge: github, repository: acme/security}` keeps
//! the digest in one issue of that repository, edited in place each week (see
//! [`crate::jobs::queue_digest_issues`] and [`crate::report::digest`]).

use chrono::{DateTime, Datelike, Duration, NaiveTime, Utc, Weekday};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::history::OrgSummary;
use crate::store::Forge;

/// How many repositories and hotspots a digest lists.
pub const TOP: usize = 5;

/// When an org's digest is due each week, and where its standing issue lives.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DigestSchedule {
    /// `monday` … `sunday` (or `mon` … `sun`).
    pub day: Weekday,
    /// The hour of that day, UTC (0–23).
    #[serde(deserialize_with = "hour")]
    pub hour: u32,
    /// The issue posture keeps the digest in, edited in place each week; none without.
    pub issue: Option<DigestIssueTarget>,
}

/// `orgs.<org>.digest.issue`: the repository whose issue holds the org's weekly digest.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DigestIssueTarget {
    /// `github` or `gitlab`.
    pub forge: Forge,
    /// `owner/name` on GitHub; the project's full path (`group/sub/project`) on GitLab.
    pub repository: String,
}

impl DigestIssueTarget {
    /// Why `repository` cannot name a repository of `forge`, if it cannot (checked when the
    /// settings are read, so a typo is named at start rather than by a failing job).
    pub fn check(&self) -> Result<(), String> {
        let repository = self.repository.as_str();
        let segments: Vec<&str> = repository.split('/').collect();
        let segment_ok = |segment: &&str| {
            !segment.is_empty()
                && *segment != "."
                && *segment != ".."
                && segment
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        };
        let ok = segments.iter().all(segment_ok)
            && match self.forge {
                Forge::GitHub => segments.len() == 2,
                Forge::GitLab => segments.len() >= 2,
            };
        if ok {
            return Ok(());
        }
        Err(match self.forge {
            Forge::GitHub => format!(
                "`{repository}` is not a GitHub repository: expected owner/name, such as acme/security"
            ),
            Forge::GitLab => format!(
                "`{repository}` is not a GitLab project path: expected group/project (subgroups allowed), such as acme/security"
            ),
        })
    }
}

fn hour<'de, D: serde::Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
    let hour = u32::deserialize(d)?;
    if hour > 23 {
        return Err(serde::de::Error::custom("an hour is 0 to 23"));
    }
    Ok(hour)
}

impl Default for DigestSchedule {
    fn default() -> DigestSchedule {
        DigestSchedule {
            day: Weekday::Mon,
            hour: 8,
            issue: None,
        }
    }
}

impl DigestSchedule {
    /// The latest scheduled time at or before `now`.
    pub fn last_due(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        let hour = NaiveTime::from_hms_opt(self.hour, 0, 0).unwrap_or_default();
        let back = (7 + now.weekday().num_days_from_monday() as i64
            - self.day.num_days_from_monday() as i64)
            % 7;
        let candidate = (now.date_naive() - Duration::days(back))
            .and_time(hour)
            .and_utc();
        if candidate <= now {
            candidate
        } else {
            candidate - Duration::days(7)
        }
    }
}

/// The ISO week a digest covers the end of: its once-per-week key (`2026-W49`).
pub fn week_key(due: DateTime<Utc>) -> String {
    let week = due.iso_week();
    format!("{}-W{:02}", week.year(), week.week())
}

/// One org's digest: the summary of the 7 days before `due`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Digest {
    pub org: String,
    /// `2026-W49`.
    pub week: String,
    pub summary: OrgSummary,
    /// posture's page of the org (needs `POSTURE_PUBLIC_URL`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dashboard: Option<String>,
}

impl Digest {
    /// Keeps the [`TOP`] repositories (worst first, as the summary ranks them) and hotspots.
    pub fn new(summary: OrgSummary, week: String, public_url: Option<&str>) -> Digest {
        let mut summary = summary;
        summary.repositories.truncate(TOP);
        summary.hotspots.truncate(TOP);
        Digest {
            org: summary.org.clone(),
            week,
            dashboard: public_url
                .map(|base| format!("{}/orgs/{}", base.trim_end_matches('/'), summary.org)),
            summary,
        }
    }

    /// posture's JSON, with its schema marker (what webhooks, Splunk and files receive in
    /// every format: OCSF and ECS have no class for a summary).
    pub fn to_json(&self) -> Value {
        let mut value = serde_json::to_value(self).unwrap_or(Value::Null);
        if let Value::Object(map) = &mut value {
            map.insert("schema".into(), Value::from("posture.digest/1"));
        }
        value
    }

    /// The headline: `posture weekly digest: acme, 2026-W49`.
    pub fn headline(&self) -> String {
        format!("posture weekly digest: {}, {}", self.org, self.week)
    }

    /// Markdown-ish lines (Slack mrkdwn): open findings, the week, SLA, repositories,
    /// hotspots.
    pub fn lines(&self) -> Vec<String> {
        let s = &self.summary;
        let open = &s.open;
        let mut lines = vec![
            format!(
                "*Open:* {} ({} critical, {} high, {} medium, {} low) · grade {}: {}",
                open.total,
                open.critical,
                open.high,
                open.medium,
                open.low,
                s.grade.as_str(),
                s.grade_reason
            ),
            format!(
                "*This week:* {} new, {} reintroduced, {} fixed, {} dismissed, {} accepted{}",
                s.new,
                s.reintroduced,
                s.fixed,
                s.dismissed,
                s.accepted,
                s.mttr_days
                    .map(|days| format!(" · mean time to fix {days:.1} days"))
                    .unwrap_or_default()
            ),
            format!(
                "*SLA:* {} open past due · {} due within 7 days",
                s.sla.breached_open, s.sla.due_within_7_days
            ),
        ];
        if !s.repositories.is_empty() {
            let mut text = "*Repositories at most risk:*".to_owned();
            for repository in &s.repositories {
                text.push_str(&format!(
                    "\n• {}: grade {}, {} open",
                    repository.repository,
                    repository.grade.as_str(),
                    repository.open.total
                ));
            }
            lines.push(text);
        }
        if !s.hotspots.is_empty() {
            let mut text = "*Upgrades that clear the most:*".to_owned();
            for hotspot in &s.hotspots {
                text.push_str(&format!(
                    "\n• bump {} to {}: clears {} finding(s) in {} repositor{}",
                    hotspot.package,
                    hotspot.to,
                    hotspot.findings,
                    hotspot.repositories,
                    if hotspot.repositories == 1 {
                        "y"
                    } else {
                        "ies"
                    }
                ));
            }
            lines.push(text);
        }
        lines
    }

    /// The Slack message: a header, a section per line, the dashboard link.
    pub fn slack(&self) -> Value {
        let mut blocks = vec![json!({
            "type": "header",
            "text": {"type": "plain_text", "text": self.headline()},
        })];
        for line in self.lines() {
            blocks.push(json!({
                "type": "section",
                "text": {"type": "mrkdwn", "text": line.chars().take(3000).collect::<String>()},
            }));
        }
        if let Some(dashboard) = &self.dashboard {
            blocks.push(json!({
                "type": "context",
                "elements": [{"type": "mrkdwn", "text": format!("<{dashboard}|dashboard>")}],
            }));
        }
        json!({"text": self.headline(), "blocks": blocks})
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    #[test]
    fn the_last_due_time_is_this_week_s_once_passed_else_last_week_s() {
        let monday_8 = DigestSchedule::default();
        // Friday 2026-12-04: Monday 2026-11-30 08:00.
        assert_eq!(
            monday_8.last_due(at("2026-12-04T12:00:00Z")),
            at("2026-11-30T08:00:00Z")
        );
        // Monday before 08:00: the Monday before.
        assert_eq!(
            monday_8.last_due(at("2026-11-30T07:59:59Z")),
            at("2026-11-23T08:00:00Z")
        );
        assert_eq!(
            monday_8.last_due(at("2026-11-30T08:00:00Z")),
            at("2026-11-30T08:00:00Z")
        );
        let friday_17 = DigestSchedule {
            day: Weekday::Fri,
            hour: 17,
            issue: None,
        };
        assert_eq!(
            friday_17.last_due(at("2026-12-04T12:00:00Z")),
            at("2026-11-27T17:00:00Z")
        );
        assert_eq!(week_key(at("2026-11-30T08:00:00Z")), "2026-W49");
        assert_eq!(week_key(at("2027-01-01T08:00:00Z")), "2026-W53");
    }

    #[test]
    fn schedules_parse_day_names() {
        let schedule: DigestSchedule = serde_yaml_ng::from_str("{day: friday, hour: 17}").unwrap();
        assert_eq!(schedule.day, Weekday::Fri);
        let short: DigestSchedule = serde_yaml_ng::from_str("{day: tue}").unwrap();
        assert_eq!((short.day, short.hour), (Weekday::Tue, 8));
        assert!(serde_yaml_ng::from_str::<DigestSchedule>("{day: someday}").is_err());
        assert!(serde_yaml_ng::from_str::<DigestSchedule>("{hour: 24}").is_err());
    }

    #[test]
    fn the_digest_issue_setting_names_a_forge_and_a_repository() {
        use crate::settings::Settings;
        let settings = Settings::parse(
            "s.yml",
            "orgs:\n  Acme:\n    digest:\n      day: friday\n      issue: {forge: github, repository: acme/security}\n  beta:\n    digest: {issue: {forge: gitlab, repository: beta/sec/ops}}\n",
        )
        .unwrap();
        let acme = &settings.orgs["acme"].digest;
        assert_eq!((acme.day, acme.hour), (Weekday::Fri, 8));
        assert_eq!(
            acme.issue,
            Some(DigestIssueTarget {
                forge: Forge::GitHub,
                repository: "acme/security".into(),
            })
        );
        let beta = settings.orgs["beta"].digest.issue.as_ref().unwrap();
        assert_eq!(beta.forge, Forge::GitLab);
        assert_eq!(
            settings.orgs.get("gamma").map(|o| o.digest.issue.is_some()),
            None
        );
    }

    #[test]
    fn a_bad_digest_issue_setting_is_named() {
        use crate::settings::Settings;
        let parse = |issue: &str| {
            Settings::parse(
                "s.yml",
                &format!("orgs:\n  acme:\n    digest:\n      issue: {issue}\n"),
            )
            .unwrap_err()
            .to_string()
        };
        let err = parse("{forge: github, repository: acme}");
        assert!(
            err.contains("orgs.acme.digest.issue.repository: `acme` is not a GitHub repository: expected owner/name"),
            "{err}"
        );
        let err = parse("{forge: github, repository: acme/sec/ops}");
        assert!(err.contains("orgs.acme.digest.issue.repository"), "{err}");
        let err = parse("{forge: gitlab, repository: 'acme/../x'}");
        assert!(err.contains("is not a GitLab project path"), "{err}");
        let err = parse("{forge: bitbucket, repository: acme/security}");
        assert!(err.starts_with("s.yml:4:"), "{err}");
        assert!(err.contains("github") && err.contains("gitlab"), "{err}");
        let err = parse("{forge: github, repo: acme/security}");
        assert!(err.starts_with("s.yml:4:"), "{err}");
        assert!(err.contains("unknown field `repo`"), "{err}");
        let err = parse("{repository: acme/security}");
        assert!(err.contains("missing field `forge`"), "{err}");
    }
}
