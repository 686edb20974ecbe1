//! The org settings file, named by `POSTURE_SETTINGS_FILE`: structured settings that are an
//! organisation's rather than a repository's (SLA days, alert sinks and rules, the digest,
//! roles). It is validated when the process starts, with errors naming line and
//! column (or the setting's path), and it names secrets only by environment variable, never
//! by value.
//!
//! ```yaml
//! sla:                 # every org's, unless the org says otherwise
//!   critical: 7
//!   high: 30
//! orgs:
//!   acme:                                 # org names are compared lower-cased
//!     sla: { critical: 5, kev_days: 7 }   # unset fields take posture's defaults
//!     sinks: [...]                        # see alerts::rules
//!     alerts: [...]
//!     digest:                             # the weekly digest (see alerts::digest)
//!       day: monday
//!       hour: 8
//!       issue: {forge: github, repository: acme/security}
//!     roles: {security: {github_teams: [appsec]}}   # see access::roles
//! ```

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use crate::access::Roles;
use crate::alerts::digest::DigestSchedule;
use crate::alerts::rules::{AlertRule, SinkConfig, check_org};
use crate::config::{ConfigError, strip_position};
use crate::history::SlaPolicy;

/// The environment variable that names the settings file.
pub const SETTINGS_FILE_VAR: &str = "POSTURE_SETTINGS_FILE";

/// The whole settings file. `Settings::default()` is what posture runs with without one.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// Days to fix, by severity, for every org without its own.
    #[serde(default)]
    pub sla: SlaPolicy,
    #[serde(default)]
    pub orgs: BTreeMap<String, OrgSettings>,
}

/// One org's settings.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrgSettings {
    /// Replaces the file's `sla` for this org; fields it leaves out take posture's defaults.
    #[serde(default)]
    pub sla: Option<SlaPolicy>,
    /// Where this org's alerts go.
    #[serde(default)]
    pub sinks: Vec<SinkConfig>,
    /// Which events go to which sinks, grouped how.
    #[serde(default)]
    pub alerts: Vec<AlertRule>,
    /// When the weekly digest (`on: [org.digest]`, and the standing issue) is due, and the
    /// repository whose issue holds it.
    #[serde(default)]
    pub digest: DigestSchedule,
    /// Who reads what of the org when signed in through a forge or OIDC.
    #[serde(default)]
    pub roles: Roles,
}

impl Settings {
    /// Parses settings text; `file` names it in errors.
    pub fn parse(file: &str, text: &str) -> Result<Settings, ConfigError> {
        if let Some(position) = crate::config::nesting::too_deep(text) {
            return Err(ConfigError {
                file: file.to_owned(),
                position: Some(position),
                message: format!(
                    "brackets nest deeper than {} levels",
                    crate::config::nesting::MAX_FLOW_DEPTH
                ),
            });
        }
        let mut settings = serde_yaml_ng::from_str::<Option<Settings>>(text)
            .map(Option::unwrap_or_default)
            .map_err(|e| ConfigError {
                file: file.to_owned(),
                position: e.location().map(|l| (l.line(), l.column())),
                message: crate::redact::without_values(&strip_position(&e.to_string())),
            })?;
        let error = |message: String| ConfigError {
            file: file.to_owned(),
            position: None,
            message,
        };
        let mut orgs = BTreeMap::new();
        for (name, org) in std::mem::take(&mut settings.orgs) {
            check_org(&org.sinks, &org.alerts).map_err(|e| error(format!("orgs.{name}.{e}")))?;
            org.roles
                .check()
                .map_err(|e| error(format!("orgs.{name}.{e}")))?;
            if let Some(issue) = &org.digest.issue {
                issue
                    .check()
                    .map_err(|e| error(format!("orgs.{name}.digest.issue.repository: {e}")))?;
            }
            if orgs.insert(name.to_lowercase(), org).is_some() {
                return Err(error(format!(
                    "orgs.{name}: another entry names the same org (org names are compared \
                     lower-cased)"
                )));
            }
        }
        settings.orgs = orgs;
        Ok(settings)
    }

    /// Reads and parses the settings file.
    pub fn load(path: &Path) -> Result<Settings, ConfigError> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
            file: file.clone(),
            position: None,
            message: format!("cannot read: {e}"),
        })?;
        Settings::parse(&file, &text)
    }

    /// The file `POSTURE_SETTINGS_FILE` names, or the defaults when it is unset.
    pub fn from_env() -> Result<Settings, ConfigError> {
        match std::env::var_os(SETTINGS_FILE_VAR) {
            Some(path) if !path.is_empty() => Settings::load(Path::new(&path)),
            _ => Ok(Settings::default()),
        }
    }

    /// An org's roles (none mapped when the file does not name the org).
    pub fn roles(&self, org: &str) -> Roles {
        self.orgs
            .get(&org.to_lowercase())
            .map(|settings| settings.roles.clone())
            .unwrap_or_default()
    }

    /// The SLA an org's figures are measured against.
    pub fn sla(&self, org: &str) -> &SlaPolicy {
        self.orgs
            .get(&org.to_lowercase())
            .and_then(|settings| settings.sla.as_ref())
            .unwrap_or(&self.sla)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_org_sla_replaces_the_default_and_unset_days_are_posture_s() {
        let settings = Settings::parse(
            "settings.yml",
            "sla:\n  critical: 3\norgs:\n  acme:\n    sla: {high: 10, kev_days: 7}\n  beta: {}\n",
        )
        .unwrap();
        assert_eq!(settings.sla("other").critical, 3);
        assert_eq!(settings.sla("beta").critical, 3);
        let acme = settings.sla("acme");
        assert_eq!((acme.critical, acme.high, acme.kev_days), (7, 10, 7));
    }

    #[test]
    fn an_empty_file_is_the_defaults() {
        let settings = Settings::parse("s.yml", "").unwrap();
        assert!(settings.orgs.is_empty());
        assert_eq!(settings.sla, SlaPolicy::default());
    }

    #[test]
    fn the_issue_s_alert_settings_parse() {
        let settings = Settings::parse(
            "s.yml",
            r#"
orgs:
  Acme:
    sinks:
      - {name: secops-hook, type: webhook, url: "https://hooks.example/posture", secret_env: POSTURE_HOOK_SECRET}
      - {name: slack-secops, type: slack, url_env: POSTURE_SLACK_WEBHOOK}
      - {name: splunk, type: splunk_hec, url: "https://splunk:8088/services/collector/event", token_env: POSTURE_SPLUNK_TOKEN, format: ocsf}
      - {name: siem, type: file, path: /var/log/posture/alerts.jsonl, format: ocsf}
    alerts:
      - name: critical-on-main
        on: [finding.detected, finding.reintroduced]
        when: {severity_at_least: high, kev: true}
        to: [slack-secops, siem]
        group: {by: repository, window: 10m}
      - {name: sla, on: [finding.sla_due_soon, finding.sla_breached], to: [siem], group: {by: repository, window: 1d}}
"#,
        )
        .unwrap();
        let acme = &settings.orgs["acme"];
        assert_eq!(acme.sinks.len(), 4);
        assert_eq!(acme.alerts[1].group.unwrap().window.to_string(), "1d");
        assert_eq!(acme.sinks[3].format(), crate::alerts::Format::Ocsf);
    }

    #[test]
    fn alert_mistakes_name_where_they_are() {
        let err = Settings::parse(
            "s.yml",
            "orgs:\n  acme:\n    sinks: [{name: s, type: file, path: /a}]\n    alerts:\n      \
             - {name: r, on: [finding.detected], to: [chat]}\n",
        )
        .unwrap_err();
        assert!(
            err.to_string()
                .contains("orgs.acme.alerts[0] (r): no sink named `chat`"),
            "{err}"
        );
        let err = Settings::parse(
            "s.yml",
            "orgs:\n  acme:\n    alerts:\n      - {name: r, on: [finding.deleted], to: [x]}\n",
        )
        .unwrap_err();
        assert!(err.to_string().contains("unknown event"), "{err}");
        assert!(!err.to_string().contains("deleted"), "{err}");
        let err = Settings::parse(
            "s.yml",
            "orgs:\n  acme:\n    sinks:\n      - {name: h, type: webhook, url: 'https://h/', secret: hunter2}\n",
        )
        .unwrap_err();
        assert!(!err.to_string().contains("hunter2"), "{err}");
    }

    #[test]
    fn errors_name_line_and_column() {
        let err = Settings::parse("s.yml", "orgs:\n  acme:\n    sla: {critcal: 3}\n").unwrap_err();
        assert_eq!(err.position.map(|(line, _)| line), Some(3));
        assert!(err.to_string().contains("critcal"), "{err}");
        let err = Settings::parse("s.yml", "sla:\n  high: soon\n").unwrap_err();
        assert!(err.to_string().starts_with("s.yml:2:"), "{err}");
    }
}
