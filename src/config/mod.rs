//! `.posture.yml`: the maintainer's configuration, validated strictly.
//!
//! A typo in a security tool's config must not silently widen what it ignores, so unknown
//! keys and bad values are errors that name the file, line and column. The YAML parser
//! bounds recursion and alias expansion, so a hostile file cannot exhaust memory.
//!
//! Besides the gate and ignore rules, the file states the business context the risk score
//! weighs: `context` for the whole application and `components` for parts of a monorepo,
//! each a list of path globs. A finding takes the first component (in file order) with a
//! glob matching its path — list specific components before broad ones — and every field
//! that component leaves out comes from `context`. `risk: weights:` overrides the weights
//! of [`crate::analyze::risk::weights`]. `policy` is the component policy: which licences
//! dependencies may carry and which packages are banned ([`policy`]).
//!
//! The gate's policy is the file at the target branch, never the change's own: the review
//! reads both, applies the base's, and lists what the head's would alter ([`change`]).

pub mod change;
pub mod nesting;
pub mod policy;
mod policy_change;

use std::path::Path;

use chrono::NaiveDate;
use globset::GlobMatcher;
use serde::Deserialize;

use crate::analyze::risk::weights::Weights;
use crate::model::{BusinessContext, DataClass, Environment, FailOn, Finding, Tier, Verdict};

/// The file posture reads at the repository root.
pub const FILE_NAME: &str = ".posture.yml";
/// The only schema version so far.
pub const SCHEMA_VERSION: u32 = 1;
/// Larger files are refused before parsing.
pub const MAX_CONFIG_BYTES: usize = 1024 * 1024;

/// A configuration error, positioned when the parser knows where.
#[derive(Debug, thiserror::Error)]
#[error("{file}{}: {message}", position.map(|(l, c)| format!(":{l}:{c}")).unwrap_or_default())]
pub struct ConfigError {
    pub file: String,
    /// 1-based line and column.
    pub position: Option<(usize, usize)>,
    pub message: String,
}

/// The validated configuration. `Config::default()` is what a repository without a file gets.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default = "default_version", deserialize_with = "version")]
    pub version: u32,
    /// New findings at or above this severity fail the gate; `none` never fails it.
    #[serde(default)]
    pub fail_on: Option<FailOn>,
    #[serde(default)]
    pub ignore: Vec<IgnoreRule>,
    /// Which files of CI artifacts are scanner reports (globs over the paths inside an
    /// artifact); empty means posture's defaults (`**/*.sarif`, `**/gl-*-report.json`, …).
    #[serde(default)]
    pub reports: Vec<PathGlob>,
    /// New inline comments per run at most; the rest are listed in the summary.
    #[serde(default)]
    pub max_inline_comments: Option<usize>,
    /// The application's context.
    #[serde(default)]
    pub context: ContextConfig,
    /// Parts of the repository with a context of their own.
    #[serde(default)]
    pub components: Vec<Component>,
    #[serde(default)]
    pub risk: RiskConfig,
    /// How the gate treats what the review cannot judge.
    #[serde(default)]
    pub gate: GateConfig,
    /// Who may triage from the conversation, and how.
    #[serde(default)]
    pub triage: TriageConfig,
    /// The component policy: licences and banned packages ([`policy`]).
    #[serde(default)]
    pub policy: policy::PolicyConfig,
}

/// `gate:` — what the gate does beyond `fail_on`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GateConfig {
    /// A scanner whose report exists on one side only makes the gate `incomplete`, which
    /// fails the check unless this says `pass`.
    #[serde(default)]
    pub on_missing_report: OnMissingReport,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OnMissingReport {
    #[default]
    Fail,
    Pass,
}

/// `triage:` — the `/posture` commands' rules.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TriageConfig {
    /// Who may triage: `writers` (GitHub write, maintain, admin; GitLab Developer and up,
    /// the default) or `maintainers` (GitHub maintain, admin; GitLab Maintainer and up).
    #[serde(default)]
    pub allow: Vec<TriageRole>,
    /// Decisions that a second allowed person must approve: `accept`, `dismiss` (every
    /// dismissal), or one dismissal reason (`wont_fix`, …).
    #[serde(default)]
    pub require_approval: Vec<ApprovalScope>,
    /// How far ahead `/posture accept --until` may reach, in days.
    #[serde(default = "default_max_accept_days")]
    pub max_accept_days: u32,
    /// OpenVEX documents in the repository whose statements are honoured; empty means
    /// `.posture/vex.json`.
    #[serde(default)]
    pub vex: Vec<String>,
}

impl Default for TriageConfig {
    fn default() -> Self {
        TriageConfig {
            allow: Vec::new(),
            require_approval: Vec::new(),
            max_accept_days: default_max_accept_days(),
            vex: Vec::new(),
        }
    }
}

fn default_max_accept_days() -> u32 {
    90
}

/// The VEX document read when `triage.vex` lists none.
pub const DEFAULT_VEX_PATH: &str = ".posture/vex.json";

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TriageRole {
    Writers,
    Maintainers,
}

/// A decision that needs a second person: `accept`, every `dismiss`, or one reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ApprovalScope {
    Accept,
    Dismiss,
    FalsePositive,
    UsedInTests,
    NotAffected,
    Mitigated,
    WontFix,
}

impl ApprovalScope {
    pub fn as_str(self) -> &'static str {
        match self {
            ApprovalScope::Accept => "accept",
            ApprovalScope::Dismiss => "dismiss",
            ApprovalScope::FalsePositive => "false_positive",
            ApprovalScope::UsedInTests => "used_in_tests",
            ApprovalScope::NotAffected => "not_affected",
            ApprovalScope::Mitigated => "mitigated",
            ApprovalScope::WontFix => "wont_fix",
        }
    }

    fn covers(self, verdict: Verdict) -> bool {
        match (self, verdict) {
            (ApprovalScope::Accept, Verdict::Accept { .. }) => true,
            (ApprovalScope::Dismiss, Verdict::Dismiss { .. }) => true,
            (scope, Verdict::Dismiss { reason }) => scope.as_str() == reason.as_str(),
            _ => false,
        }
    }
}

impl TriageConfig {
    /// Whether only maintainers may triage (`allow: [maintainers]`).
    pub fn maintainers_only(&self) -> bool {
        !self.allow.is_empty() && !self.allow.contains(&TriageRole::Writers)
    }

    /// Whether `verdict` waits for a second person's approval.
    pub fn needs_approval(&self, verdict: Verdict) -> bool {
        self.require_approval.iter().any(|s| s.covers(verdict))
    }

    /// The VEX documents to read.
    pub fn vex_paths(&self) -> Vec<String> {
        if self.vex.is_empty() {
            vec![DEFAULT_VEX_PATH.to_string()]
        } else {
            self.vex.clone()
        }
    }
}

/// Exposure and business context; every field optional.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContextConfig {
    pub internet_facing: Option<bool>,
    pub data_classification: Option<DataClass>,
    pub environment: Option<Environment>,
    pub tier: Option<Tier>,
}

impl ContextConfig {
    fn to_context(&self, component: Option<&str>) -> BusinessContext {
        BusinessContext {
            component: component.map(str::to_string),
            internet_facing: self.internet_facing,
            data_classification: self.data_classification,
            environment: self.environment,
            tier: self.tier,
        }
    }
}

/// A part of the repository (a service of a monorepo) and its context.
#[derive(Debug, Clone, Deserialize)]
#[serde(try_from = "RawComponent")]
pub struct Component {
    pub name: String,
    pub paths: Vec<PathGlob>,
    pub context: ContextConfig,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawComponent {
    name: String,
    paths: Vec<PathGlob>,
    internet_facing: Option<bool>,
    data_classification: Option<DataClass>,
    environment: Option<Environment>,
    tier: Option<Tier>,
}

impl TryFrom<RawComponent> for Component {
    type Error = String;

    fn try_from(raw: RawComponent) -> Result<Self, Self::Error> {
        if raw.name.trim().is_empty() {
            return Err("a component needs a `name`".into());
        }
        if raw.paths.is_empty() {
            return Err(format!(
                "component `{}` needs at least one glob in `paths`",
                raw.name
            ));
        }
        Ok(Component {
            name: raw.name,
            paths: raw.paths,
            context: ContextConfig {
                internet_facing: raw.internet_facing,
                data_classification: raw.data_classification,
                environment: raw.environment,
                tier: raw.tier,
            },
        })
    }
}

/// How findings are ranked.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RiskConfig {
    /// Overrides of the default weights; keys left out keep their default.
    #[serde(default)]
    pub weights: Weights,
}

fn default_version() -> u32 {
    SCHEMA_VERSION
}

fn version<'de, D: serde::Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
    let v = u32::deserialize(d)?;
    if v == SCHEMA_VERSION {
        Ok(v)
    } else {
        Err(serde::de::Error::custom(format!(
            "unsupported version {v}: this posture reads version {SCHEMA_VERSION}"
        )))
    }
}

/// Findings this rule matches are reported as ignored and never block the gate.
#[derive(Debug, Clone, Deserialize)]
#[serde(try_from = "RawIgnoreRule")]
pub struct IgnoreRule {
    /// Glob over repository-relative paths (`tests/**`, `**/*.min.js`).
    pub path: Option<PathGlob>,
    /// A rule id or advisory id (`py/sql-injection`, `GHSA-…`, `CVE-…`).
    pub rule: Option<String>,
    pub reason: Option<String>,
    /// The last day the rule applies; afterwards it is reported as expired.
    pub until: Option<NaiveDate>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawIgnoreRule {
    path: Option<PathGlob>,
    rule: Option<String>,
    reason: Option<String>,
    until: Option<NaiveDate>,
}

impl TryFrom<RawIgnoreRule> for IgnoreRule {
    type Error = String;

    fn try_from(raw: RawIgnoreRule) -> Result<Self, Self::Error> {
        if raw.path.is_none() && raw.rule.is_none() {
            return Err("an ignore rule needs `path`, `rule` or both".into());
        }
        Ok(IgnoreRule {
            path: raw.path,
            rule: raw.rule,
            reason: raw.reason,
            until: raw.until,
        })
    }
}

impl IgnoreRule {
    pub fn is_expired(&self, today: NaiveDate) -> bool {
        self.until.is_some_and(|until| until < today)
    }

    /// Whether the rule covers `finding` (every condition given must hold).
    pub fn matches(&self, finding: &Finding) -> bool {
        let path_ok = match &self.path {
            Some(glob) => finding.path().is_some_and(|p| glob.is_match(p)),
            None => true,
        };
        let rule_ok = match &self.rule {
            Some(rule) => {
                finding.rule == *rule
                    || finding
                        .advisories
                        .iter()
                        .any(|a| a.ids().any(|id| id == rule))
            }
            None => true,
        };
        path_ok && rule_ok
    }

    /// How the rule is named in output: its reason, else what it matches.
    pub fn describe(&self) -> String {
        if let Some(reason) = &self.reason {
            return reason.clone();
        }
        let mut parts = Vec::new();
        if let Some(glob) = &self.path {
            parts.push(format!("path {}", glob.pattern));
        }
        if let Some(rule) = &self.rule {
            parts.push(format!("rule {rule}"));
        }
        format!("ignored by {}", parts.join(" and "))
    }
}

/// A compiled path glob that remembers how it was written.
#[derive(Debug, Clone)]
pub struct PathGlob {
    pub pattern: String,
    matcher: GlobMatcher,
}

impl PathGlob {
    pub fn new(pattern: &str) -> Result<PathGlob, globset::Error> {
        let glob = globset::GlobBuilder::new(pattern)
            .literal_separator(true)
            .build()?;
        Ok(PathGlob {
            pattern: pattern.to_string(),
            matcher: glob.compile_matcher(),
        })
    }

    pub fn is_match(&self, path: &str) -> bool {
        self.matcher.is_match(path)
    }
}

impl<'de> Deserialize<'de> for PathGlob {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let pattern = String::deserialize(d)?;
        // The kind of mistake only: the pattern is the input, and errors never repeat it.
        PathGlob::new(&pattern)
            .map_err(|e| serde::de::Error::custom(format!("bad glob: {}", e.kind())))
    }
}

impl Config {
    /// Parses the text of a config file; `file` names it in errors.
    pub fn parse(file: &str, text: &str) -> Result<Config, ConfigError> {
        if text.len() > MAX_CONFIG_BYTES {
            return Err(ConfigError {
                file: file.to_string(),
                position: None,
                message: format!("file is larger than {MAX_CONFIG_BYTES} bytes"),
            });
        }
        if let Some(position) = nesting::too_deep(text) {
            return Err(ConfigError {
                file: file.to_string(),
                position: Some(position),
                message: format!(
                    "brackets nest deeper than {} levels; no setting needs that",
                    nesting::MAX_FLOW_DEPTH
                ),
            });
        }
        // An empty file (or one holding only comments) means "all defaults".
        if text
            .lines()
            .all(|l| l.trim().is_empty() || l.trim_start().starts_with('#'))
        {
            return Ok(Config::default());
        }
        serde_yaml_ng::from_str(text).map_err(|e| ConfigError {
            file: file.to_string(),
            position: e.location().map(|l| (l.line(), l.column())),
            message: crate::redact::without_values(&strip_position(&e.to_string())),
        })
    }

    /// Reads and parses a config file from disk.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let file = path.display().to_string();
        let bytes = std::fs::read(path).map_err(|e| ConfigError {
            file: file.clone(),
            position: None,
            message: format!("cannot read: {e}"),
        })?;
        let text = String::from_utf8(bytes).map_err(|e| ConfigError {
            file: file.clone(),
            position: None,
            message: format!("not UTF-8 (byte {})", e.utf8_error().valid_up_to()),
        })?;
        Config::parse(&file, &text)
    }

    /// The context of `path` (repository-relative): the first component with a matching
    /// glob, completed by the application's `context`; the application's alone for a
    /// finding without a path.
    pub fn context_for(&self, path: Option<&str>) -> BusinessContext {
        let application = self.context.to_context(None);
        let Some(path) = path else {
            return application;
        };
        self.components
            .iter()
            .find(|c| c.paths.iter().any(|glob| glob.is_match(path)))
            .map(|c| c.context.to_context(Some(&c.name)).or(&application))
            .unwrap_or(application)
    }

    /// The first unexpired ignore rule that covers `finding`.
    pub fn ignore_rule_for(&self, finding: &Finding, today: NaiveDate) -> Option<&IgnoreRule> {
        self.ignore
            .iter()
            .find(|rule| !rule.is_expired(today) && rule.matches(finding))
    }

    /// Warnings for rules that have expired, so maintainers renew or drop them.
    pub fn expired_rules(&self, today: NaiveDate) -> Vec<String> {
        self.ignore
            .iter()
            .filter(|r| r.is_expired(today))
            .map(|r| {
                let until = r.until.map(|d| d.to_string()).unwrap_or_default();
                format!(
                    "{FILE_NAME}: ignore rule \"{}\" expired on {until} and no longer applies",
                    r.describe()
                )
            })
            .collect()
    }
}

/// serde_yaml_ng appends " at line L column C"; we print the position ourselves.
pub(crate) fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Kind, Location, Severity};

    fn finding(path: &str, rule: &str) -> Finding {
        let mut f = Finding::new(Kind::Sast, "semgrep", rule);
        f.location = Some(Location::new(path).with_lines(3, 3));
        f
    }

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn parses_a_full_config() {
        let config = Config::parse(
            ".posture.yml",
            "version: 1\nfail_on: medium\nignore:\n  - path: \"tests/**\"\n    reason: fixtures\n  - rule: CVE-2020-1\n    until: 2027-01-31\n",
        )
        .unwrap();
        assert_eq!(config.fail_on, Some(FailOn::AtOrAbove(Severity::Medium)));
        assert_eq!(config.ignore.len(), 2);
        assert_eq!(config.ignore[1].until, Some(day("2027-01-31")));
    }

    #[test]
    fn context_components_and_weights() {
        let config = Config::parse(
            ".posture.yml",
            "context:\n  internet_facing: true\n  data_classification: pii\n  environment: production\n  tier: 1\ncomponents:\n  - name: admin\n    paths: [\"services/admin/**\"]\n    internet_facing: false\n  - name: services\n    paths: [\"services/**\"]\n    data_classification: pci\n    tier: 2\nrisk:\n  weights:\n    kev:\n      listed: 30\n",
        )
        .unwrap();
        let admin = config.context_for(Some("services/admin/app.py"));
        assert_eq!(admin.component.as_deref(), Some("admin"));
        assert_eq!(admin.internet_facing, Some(false));
        assert_eq!(admin.data_classification, Some(DataClass::Pii));
        assert_eq!(admin.tier, Some(Tier::One));
        let billing = config.context_for(Some("services/billing/pom.xml"));
        assert_eq!(billing.component.as_deref(), Some("services"));
        assert_eq!(billing.internet_facing, Some(true));
        assert_eq!(billing.data_classification, Some(DataClass::Pci));
        assert_eq!(billing.tier, Some(Tier::Two));
        let other = config.context_for(Some("README.md"));
        assert_eq!(other.component, None);
        assert_eq!(other.environment, Some(Environment::Production));
        assert_eq!(config.context_for(None), other);
        assert_eq!(config.risk.weights.kev.listed.0, 30);
        assert_eq!(config.risk.weights.kev.ransomware.0, 5);
    }

    #[test]
    fn gate_and_triage_sections() {
        let config = Config::parse(
            "c",
            "gate:\n  on_missing_report: pass\ntriage:\n  allow: [maintainers]\n  require_approval: [accept, wont_fix]\n  max_accept_days: 30\n  vex: [security/vex.json]\n",
        )
        .unwrap();
        assert_eq!(config.gate.on_missing_report, OnMissingReport::Pass);
        assert!(config.triage.maintainers_only());
        assert_eq!(config.triage.max_accept_days, 30);
        assert_eq!(config.triage.vex_paths(), vec!["security/vex.json"]);
        let until = day("2026-02-01");
        assert!(config.triage.needs_approval(Verdict::Accept { until }));
        assert!(config.triage.needs_approval(Verdict::Dismiss {
            reason: crate::model::DismissReason::WontFix
        }));
        assert!(!config.triage.needs_approval(Verdict::Dismiss {
            reason: crate::model::DismissReason::FalsePositive
        }));
        let default = Config::default();
        assert_eq!(default.gate.on_missing_report, OnMissingReport::Fail);
        assert!(!default.triage.maintainers_only());
        assert_eq!(default.triage.max_accept_days, 90);
        assert_eq!(default.triage.vex_paths(), vec![DEFAULT_VEX_PATH]);
        let err = Config::parse("c", "triage:\n  require_approval: [everything]\n").unwrap_err();
        assert!(
            err.message.contains("found an unknown value") && !err.message.contains("everything"),
            "{err}"
        );
    }

    #[test]
    fn empty_or_comment_only_file_is_the_default() {
        let config = Config::parse("c", "# nothing yet\n\n").unwrap();
        assert_eq!(config.fail_on, None);
        assert!(config.ignore.is_empty());
    }

    #[test]
    fn fail_on_none_turns_the_gate_off() {
        let config = Config::parse(".posture.yml", "version: 1\nfail_on: none\n").unwrap();
        assert_eq!(config.fail_on, Some(FailOn::Never));
    }

    #[test]
    fn unknown_key_names_line_and_column() {
        let err = Config::parse(".posture.yml", "version: 1\nfail_onn: high\n").unwrap_err();
        assert_eq!(err.position, Some((2, 1)));
        assert!(err.message.contains("unknown field `fail_onn`"), "{err}");
        assert!(err.to_string().starts_with(".posture.yml:2:1: "), "{err}");
    }

    #[test]
    fn bad_values_are_positioned_errors() {
        let cases = [
            (
                "fail_on: hgh\n",
                1,
                "expected one of `info`, `low`, `medium`, `high`, `critical`, `none`, found an unknown value",
            ),
            ("version: 2\n", 1, "unsupported version 2"),
            ("ignore:\n  - path: \"src/[\"\n", 2, "bad glob"),
            (
                "ignore:\n  - reason: why\n",
                2,
                "needs `path`, `rule` or both",
            ),
            (
                "ignore:\n  - path: a\n    until: someday\n",
                3,
                "input contains invalid characters",
            ),
            (
                "ignore:\n  - path: a\n    paths: b\n",
                3,
                "unknown field `paths`",
            ),
            (
                "context:\n  data_classification: secret\n",
                2,
                "found an unknown value",
            ),
            ("context:\n  tier: 4\n", 2, "tier 4 does not exist"),
            ("context:\n  exposed: true\n", 2, "unknown field `exposed`"),
            (
                "components:\n  - name: web\n    paths: []\n",
                2,
                "needs at least one glob",
            ),
            (
                "components:\n  - name: web\n    paths: [\"a/[\"]\n",
                3,
                "bad glob",
            ),
            (
                "risk:\n  weights:\n    kev:\n      listed: 500\n",
                4,
                "out of range",
            ),
            (
                "risk:\n  weights:\n    epss:\n      high_from: 2\n",
                4,
                "not a probability",
            ),
            ("risk:\n  weigths: {}\n", 2, "unknown field `weigths`"),
        ];
        for (text, line, needle) in cases {
            let err = Config::parse("c", text).unwrap_err();
            assert!(err.message.contains(needle), "{text:?}: {err}");
            assert_eq!(err.position.map(|p| p.0), Some(line), "{text:?}: {err}");
        }
    }

    #[test]
    fn broken_yaml_is_an_error_not_a_panic() {
        for text in [
            "ignore: [",
            "fail_on: {a: b",
            "\t- x",
            ":\n:\n",
            "ignore: *nope",
        ] {
            assert!(Config::parse("c", text).is_err(), "{text:?}");
        }
    }

    #[test]
    fn alias_bombs_are_refused() {
        let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..12 {
            let p = i - 1;
            text.push_str(&format!(
                "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
            ));
        }
        assert!(Config::parse("c", &text).is_err());
    }

    #[test]
    fn ignore_rules_match_by_path_and_rule_and_expire() {
        let config = Config::parse(
            "c",
            "ignore:\n  - path: \"tests/**\"\n  - rule: py/xss\n    path: \"src/*.py\"\n    until: 2026-01-01\n",
        )
        .unwrap();
        let today = day("2025-06-01");
        assert!(
            config
                .ignore_rule_for(&finding("tests/a/b.py", "x"), today)
                .is_some()
        );
        assert!(
            config
                .ignore_rule_for(&finding("src/app.py", "py/xss"), today)
                .is_some()
        );
        assert!(
            config
                .ignore_rule_for(&finding("src/app.py", "py/sqli"), today)
                .is_none()
        );
        // `*` does not cross directories.
        assert!(
            config
                .ignore_rule_for(&finding("src/a/app.py", "py/xss"), today)
                .is_none()
        );
        let later = day("2026-01-02");
        assert!(
            config
                .ignore_rule_for(&finding("src/app.py", "py/xss"), later)
                .is_none()
        );
        assert_eq!(config.expired_rules(later).len(), 1);
        assert!(config.expired_rules(today).is_empty());
    }
}
