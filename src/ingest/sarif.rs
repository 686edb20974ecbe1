//! SARIF 2.1.0 logs, as CodeQL, Semgrep, Trivy, Grype, gitleaks, Anchore, dependency-check,
//! SpotBugs, Snyk Code and others write them, turned into findings: rules looked up by id or
//! index (driver and extensions), URIs resolved through `originalUriBaseIds`, severities from
//! `security-severity` or levels, CWEs from tags, taxonomy relationships or a `cwe` property,
//! fingerprints, suppressions, results of kind `pass` dropped, and for dependency scanners the
//! package and advisory their messages describe.
//!
//! Severity, the first that applies: a `security-severity` score (its CVSS rating) or level
//! name; a CVSS v3 base score in the properties; the result's `level`, else its rule's
//! default: `error` high, `warning` medium, `note` low, `none` info; else medium (high for
//! a secret). Two tools whose levels are their severities:
//! - SpotBugs sets the level from the bug rank (scariest and scary: `error`, troubling:
//!   `warning`, of concern: `note`) and writes no other severity. Its URIs are bare file
//!   names (`Boot.java`), kept as they are; the bug category (`STYLE`, …) is its only tag,
//!   and newer versions name the CWE in a relationship to the `CWE` taxonomy by number alone.
//! - Snyk Code writes its high, medium and low as `error`, `warning` and `note`. Its
//!   `priorityScore` (0–1000) ranks issues by severity together with other factors (hot
//!   files, fix examples) and is no severity, so it is not read. Its CWEs are in the rule's
//!   `properties.cwe` (`["CWE-798", "CWE-259"]`).

use std::collections::HashMap;

use super::Parsed;
use super::json::{self, JsonError};
use super::paths::uri_to_path;
use super::sarif_schema::{
    ArtifactLocation, Log, Message, Properties, Region, ResultsOnly, Rule, Run, SarifResult,
};
use super::sarif_stream;
use super::text;
use crate::model::{
    Advisory, AffectedRange, CodeFix, Confidence, Ecosystem, Finding, Fingerprints, Kind, Location,
    Package, RangeEvent, RangeKind, Severity,
};

/// The most `uriBaseId` indirections followed before a base is taken as the repository root.
const MAX_BASE_DEPTH: usize = 8;

/// The tool name used when a run does not name its tool.
const UNNAMED_TOOL: &str = "unnamed SARIF tool";

/// Reads a SARIF log: run headers first, then each result streamed into a finding.
pub(crate) fn parse(bytes: &[u8], max_results: usize) -> Result<Parsed, JsonError> {
    let log: Log = json::from_slice(bytes)?;
    let mut parsed = Parsed::default();
    let mut contexts = Vec::with_capacity(log.runs.len());
    for (index, run) in log.runs.iter().enumerate() {
        let tool = match run.tool.driver.name.as_deref().map(str::trim) {
            Some(name) if !name.is_empty() => name.to_string(),
            _ => {
                parsed.warnings.push(format!(
                    "$.runs[{index}].tool.driver.name is missing; its results are attributed to `{UNNAMED_TOOL}`"
                ));
                UNNAMED_TOOL.to_string()
            }
        };
        if !parsed.tools.contains(&tool) {
            parsed.tools.push(tool.clone());
        }
        contexts.push(RunContext::new(run, tool));
    }
    let mut results = 0usize;
    let streamed = sarif_stream::for_each_result(bytes, &mut |run, result| {
        results += 1;
        if results > max_results {
            return Err(format!("more than {max_results} results in one report"));
        }
        // A result whose baseline state is `absent` records something that no longer occurs;
        // one of kind `pass` or `notApplicable` records a check that found nothing.
        if result.baseline_state.as_deref() == Some("absent") || !reports_a_problem(&result) {
            return Ok(());
        }
        if let Some(context) = contexts.get(run) {
            parsed.findings.push(context.finding(&result));
        }
        Ok(())
    });
    // The vector grew by doubling: up to half of it is spare room, 15 MB at 100,000 results.
    parsed.findings.shrink_to_fit();
    match streamed {
        Ok(()) => Ok(parsed),
        Err(error) if results > max_results => Err(JsonError {
            position: Some("$.runs".into()),
            message: json::bare_message(&error),
        }),
        // Read the results again as a whole to name the failing one's JSON path.
        Err(error) => Err(json::from_slice::<ResultsOnly>(bytes)
            .err()
            .unwrap_or_else(|| json::syntax_or_shape(error, "$.runs".into()))),
    }
}

/// Whether a result's `kind` (SARIF §3.27.9, `fail` when absent) says it found a problem.
fn reports_a_problem(result: &SarifResult) -> bool {
    !result.kind.as_deref().is_some_and(|kind| {
        kind.eq_ignore_ascii_case("pass") || kind.eq_ignore_ascii_case("notApplicable")
    })
}

/// What the tool's name says about the kind of its findings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ToolFamily {
    Secrets,
    Dependencies,
    Infrastructure,
    /// Trivy reports vulnerabilities, misconfigurations and secrets; its rules tell which.
    Trivy,
    /// Anything else: static analysis unless a rule is tagged as a secret.
    Code,
}

impl ToolFamily {
    fn of(tool: &str) -> ToolFamily {
        let name = tool.to_ascii_lowercase();
        let any = |needles: &[&str]| needles.iter().any(|n| name.contains(n));
        if any(&["gitleaks", "trufflehog", "detect-secrets"]) {
            ToolFamily::Secrets
        } else if any(&["checkov", "tfsec", "kics", "terrascan", "trivy-config"]) {
            ToolFamily::Infrastructure
        } else if name.contains("trivy") {
            ToolFamily::Trivy
        } else if any(&[
            "grype",
            "anchore",
            "dependency-check",
            "osv-scanner",
            "snyk open source",
        ]) {
            ToolFamily::Dependencies
        } else {
            ToolFamily::Code
        }
    }
}

/// One run's tool, rules and URI bases, shared by the findings of its results.
struct RunContext<'a> {
    run: &'a Run,
    tool: String,
    family: ToolFamily,
    /// Rule id → rule, over the driver then the extensions (the driver wins on a clash).
    rules_by_id: HashMap<&'a str, &'a Rule>,
    /// Each rule's help text, made once and shared by its findings (100,000 results of one
    /// rule hold one copy).
    help: std::cell::RefCell<HashMap<*const Rule, Option<std::sync::Arc<str>>>>,
}

impl<'a> RunContext<'a> {
    fn new(run: &'a Run, tool: String) -> Self {
        let mut rules_by_id = HashMap::new();
        let components = std::iter::once(&run.tool.driver).chain(&run.tool.extensions);
        for rule in components.flat_map(|component| &component.rules) {
            if let Some(id) = rule.id.as_deref() {
                rules_by_id.entry(id).or_insert(rule);
            }
        }
        RunContext {
            run,
            family: ToolFamily::of(&tool),
            tool,
            rules_by_id,
            help: Default::default(),
        }
    }

    /// `rule`'s help text, first paragraph and at most 600 characters.
    fn help(&self, rule: &Rule) -> Option<std::sync::Arc<str>> {
        const MAX_HELP_CHARS: usize = 600;
        self.help
            .borrow_mut()
            .entry(std::ptr::from_ref(rule))
            .or_insert_with(|| {
                let help = rule.help.as_ref()?;
                let text = help.text.as_deref().or(help.markdown.as_deref())?;
                let first = text.trim().split("\n\n").next()?.trim();
                if first.is_empty() {
                    return None;
                }
                let cut = match first.char_indices().nth(MAX_HELP_CHARS) {
                    Some((end, _)) => format!("{}…", &first[..end]),
                    None => first.to_owned(),
                };
                Some(std::sync::Arc::from(cut))
            })
            .clone()
    }

    fn finding(&self, result: &SarifResult) -> Finding {
        let rule = self.rule(result);
        let message = message_text(&result.message, rule);
        let rule_id = result
            .rule_id
            .as_deref()
            .or_else(|| result.rule.as_ref()?.id.as_deref())
            .or_else(|| rule?.id.as_deref())
            .or_else(|| text::first_line(message.as_deref()?))
            .unwrap_or("unknown rule")
            .to_string();
        let title = title(rule, message.as_deref(), &rule_id);
        let tags: Vec<&str> = rule
            .map(|r| r.properties.tags())
            .into_iter()
            .flatten()
            .chain(result.properties.tags())
            .collect();
        let kind = self.kind(rule, &tags);
        let (severity, score) = severity(result, rule);
        // A leaked credential with no stated severity is exploitable as it stands.
        let severity = severity.unwrap_or(if kind == Kind::Secret {
            Severity::High
        } else {
            Severity::Medium
        });

        let mut finding = Finding::new(kind, self.tool.clone(), rule_id);
        finding.message = message
            .or_else(|| description(rule?.full_description.as_ref()?))
            .unwrap_or_else(|| title.clone());
        finding.title = title;
        finding.severity = severity;
        finding.score = score;
        finding.location = self.location(result);
        finding.cwes = text::distinct(
            tags.iter()
                .filter_map(|tag| text::cwe_number(tag))
                .chain(named_cwes(rule, result).filter_map(text::cwe_id)),
        );
        // Sized exactly: collecting one fingerprint reserved room for four, 29 MB over
        // 200,000 results.
        let mut fingerprints = Fingerprints::with_capacity(
            result.partial_fingerprints.len() + result.fingerprints.len(),
        );
        for (key, value) in result
            .partial_fingerprints
            .iter()
            .chain(&result.fingerprints)
        {
            fingerprints.insert(key.clone(), value.clone());
        }
        finding.fingerprints = fingerprints;
        finding.help_uri = rule.and_then(|r| r.help_uri.clone());
        finding.help = rule.and_then(|r| self.help(r));
        finding.suppressed = result.suppressions.iter().any(|s| s.is_in_force());
        finding.fix = code_fix(result).map(Box::new);
        finding.confidence = confidence(result, rule, &tags);
        if let Some(vector) = result
            .properties
            .cvss_v3_vector
            .as_ref()
            .or_else(|| rule?.properties.cvss_v3_vector.as_ref())
            .and_then(|v| v.as_str())
            .map(str::trim)
            .filter(|v| !v.is_empty())
        {
            finding.cvss_vectors.push(vector.to_string());
        }
        if kind.is_dependency() {
            add_dependency_details(&mut finding, result, rule);
            if finding.package.is_none() {
                finding.package = purl_package(result, rule).map(Box::new);
            }
        }
        if kind == Kind::Secret {
            hide_secret(&mut finding, self.family == ToolFamily::Trivy);
        }
        finding
    }

    /// The rule a result refers to: by index into the driver or the extension its reference
    /// names, else by id. An index whose rule has another id than the result names is wrong
    /// (Anchore writes `ruleIndex: 0` on every result) and loses to the id.
    fn rule(&self, result: &SarifResult) -> Option<&'a Rule> {
        let reference = result.rule.as_ref();
        let id = result
            .rule_id
            .as_deref()
            .or_else(|| reference?.id.as_deref());
        let tool = &self.run.tool;
        let component = match reference.and_then(|r| r.tool_component.as_ref()) {
            Some(component) => match component.index.and_then(to_index) {
                Some(index) => tool.extensions.get(index),
                None => tool
                    .extensions
                    .iter()
                    .find(|e| e.name.is_some() && e.name == component.name),
            },
            None => Some(&tool.driver),
        };
        let by_index = reference
            .and_then(|r| r.index)
            .or(result.rule_index)
            .and_then(to_index)
            .zip(component)
            .and_then(|(index, component)| component.rules.get(index))
            .filter(|rule| id.is_none() || rule.id.as_deref() == id);
        by_index.or_else(|| self.rules_by_id.get(id?).copied())
    }

    fn kind(&self, rule: Option<&Rule>, tags: &[&str]) -> Kind {
        let tagged = |wanted: &[&str]| {
            tags.iter()
                .any(|tag| wanted.iter().any(|w| tag.eq_ignore_ascii_case(w)))
        };
        let rule_named = |wanted: &str| {
            rule.and_then(|r| r.name.as_deref())
                .is_some_and(|name| name.eq_ignore_ascii_case(wanted))
        };
        match self.family {
            ToolFamily::Secrets => Kind::Secret,
            ToolFamily::Dependencies => Kind::Sca,
            ToolFamily::Infrastructure => Kind::Iac,
            ToolFamily::Trivy
                if rule_named("Misconfiguration") || tagged(&["misconfiguration"]) =>
            {
                Kind::Iac
            }
            ToolFamily::Trivy if rule_named("Secret") || tagged(&["secret"]) => Kind::Secret,
            ToolFamily::Trivy => Kind::Sca,
            ToolFamily::Code if tagged(&["secret", "secrets"]) => Kind::Secret,
            ToolFamily::Code => Kind::Sast,
        }
    }

    /// The primary (first physical) location of a result, its path not yet resolved.
    fn location(&self, result: &SarifResult) -> Option<Location> {
        let physical = result
            .locations
            .iter()
            .find_map(|l| l.physical_location.as_ref())?;
        let path = self.artifact_path(physical.artifact_location.as_ref()?)?;
        let mut location = Location::new(path);
        if let Some(region) = &physical.region {
            apply_region(&mut location, region);
        }
        Some(location)
    }

    /// The path an artifact location names, its `uriBaseId` expanded; its URI may instead
    /// be given by the run's `artifacts[index]`.
    fn artifact_path(&self, artifact: &ArtifactLocation) -> Option<String> {
        let listed = || {
            let index = artifact.index.and_then(to_index)?;
            self.run.artifacts.get(index)?.location.as_ref()
        };
        let source = match artifact.uri {
            Some(_) => artifact,
            None => listed()?,
        };
        let uri = source.uri.as_deref()?;
        let path = uri_to_path(&self.expand(uri, source.uri_base_id.as_deref(), 0));
        (!path.is_empty()).then_some(path)
    }

    /// `uri` joined to the base `base_id` names in `originalUriBaseIds`, recursively. A base
    /// the run does not define (`%SRCROOT%`, `ROOTPATH`) is the repository root.
    fn expand(&self, uri: &str, base_id: Option<&str>, depth: usize) -> String {
        let uri = uri.trim();
        if has_scheme(uri) || uri.starts_with('/') || depth > MAX_BASE_DEPTH {
            return uri.to_string();
        }
        let base = base_id.and_then(|id| self.run.original_uri_base_ids.get(id));
        match base.and_then(|b| Some((b.uri.as_deref()?, b.uri_base_id.as_deref()))) {
            Some((base_uri, parent)) => {
                let base = self.expand(base_uri, parent, depth + 1);
                if base.is_empty() || base.ends_with('/') {
                    format!("{base}{uri}")
                } else {
                    format!("{base}/{uri}")
                }
            }
            None => uri.to_string(),
        }
    }
}

/// Values that name CWEs by where they stand: the ids of the CWE taxonomy entries a rule's
/// relationships point to (`CWE-120`; SpotBugs: `502`), and the `cwe` property of the rule
/// and of the result (Snyk Code).
fn named_cwes<'a>(
    rule: Option<&'a Rule>,
    result: &'a SarifResult,
) -> impl Iterator<Item = &'a str> {
    let related = rule
        .into_iter()
        .flat_map(|r| &r.relationships)
        .filter_map(|relationship| relationship.target.as_ref())
        .filter(|target| {
            target
                .tool_component
                .as_ref()
                .and_then(|c| c.name.as_deref())
                .is_some_and(|name| name.eq_ignore_ascii_case("CWE"))
        })
        .filter_map(|target| target.id.as_deref());
    let properties = rule.map(|r| r.properties.cwes()).into_iter().flatten();
    related.chain(properties).chain(result.properties.cwes())
}

/// `scheme:` at the start of a URI (two letters at least, so `C:` stays a drive).
fn has_scheme(uri: &str) -> bool {
    uri.split_once(':').is_some_and(|(scheme, _)| {
        scheme.len() >= 2
            && scheme.starts_with(|c: char| c.is_ascii_alphabetic())
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
    })
}

fn to_index(index: i64) -> Option<usize> {
    usize::try_from(index).ok()
}

fn positive(value: Option<i64>) -> Option<u32> {
    value.and_then(|v| u32::try_from(v).ok()).filter(|v| *v > 0)
}

/// Lines and columns of a region; SARIF's exclusive `endColumn` becomes inclusive.
fn apply_region(location: &mut Location, region: &Region) {
    location.snippet = region.snippet.as_ref().and_then(|s| s.text.clone());
    let Some(start) = positive(region.start_line) else {
        return;
    };
    let end = positive(region.end_line).unwrap_or(start).max(start);
    *location = location.clone().with_lines(start, end);
    location.start_column = positive(region.start_column);
    location.end_column = region
        .end_column
        .and_then(|c| positive(Some(c.saturating_sub(1))))
        .map(|c| match location.start_column {
            Some(s) if start == end => c.max(s),
            _ => c,
        });
}

/// The result's message: its text (or markdown), else the rule's message string it names,
/// with `{0}`-style arguments substituted.
fn message_text(message: &Message, rule: Option<&Rule>) -> Option<String> {
    let from_rule = || {
        let string = rule?.message_strings.get(message.id.as_deref()?)?;
        string.text.as_deref().or(string.markdown.as_deref())
    };
    let template = message
        .text
        .as_deref()
        .or(message.markdown.as_deref())
        .or_else(from_rule)?;
    let text = if message.arguments.is_empty() {
        template.to_string()
    } else {
        text::substitute(template, &message.arguments)
    };
    (!text.trim().is_empty()).then_some(text)
}

fn description(message: &Message) -> Option<String> {
    let text = message.text.as_deref().or(message.markdown.as_deref())?;
    (!text.trim().is_empty()).then(|| text.to_string())
}

/// The rule's short description (when it says more than the id), else its name (likewise),
/// else the first line of the message, else the rule id.
fn title(rule: Option<&Rule>, message: Option<&str>, rule_id: &str) -> String {
    let short = rule
        .and_then(|r| r.short_description.as_ref())
        .and_then(description);
    let name = rule
        .and_then(|r| r.name.as_deref())
        .filter(|name| !name.trim().is_empty() && *name != rule_id);
    // Semgrep's registry rules say only "Semgrep Finding: <rule id>": no title at all.
    short
        .as_deref()
        .and_then(text::first_line)
        .filter(|short| !short.contains(rule_id))
        .or(name)
        .or_else(|| text::first_line(message?))
        .unwrap_or(rule_id)
        .to_string()
}

/// `security-severity` (result, then rule) as a score or level name; else a CVSS v3 base
/// score tools put in properties; else the result's or rule's level; `None` when the report
/// states none (SARIF then means warning, which the caller refines by kind).
fn severity(result: &SarifResult, rule: Option<&Rule>) -> (Option<Severity>, Option<f64>) {
    let rule_properties = rule.map(|r| &r.properties);
    let security_severity = result
        .properties
        .security_severity
        .as_ref()
        .or_else(|| rule_properties?.security_severity.as_ref());
    if let Some(value) = security_severity {
        if let Some(score) = value.as_f64() {
            let score = score.clamp(0.0, 10.0);
            return (Some(Severity::from_cvss(score)), Some(score));
        }
        if let Some(severity) = value.as_str().and_then(|s| s.parse().ok()) {
            return (Some(severity), None);
        }
    }
    let cvss = result
        .properties
        .cvss_v3_score
        .as_ref()
        .or_else(|| rule_properties?.cvss_v3_score.as_ref())
        .and_then(|s| s.as_f64())
        .map(|s| s.clamp(0.0, 10.0));
    if let Some(score) = cvss {
        return (Some(Severity::from_cvss(score)), Some(score));
    }
    let level = result
        .level
        .as_deref()
        .or_else(|| rule?.default_configuration.as_ref()?.level.as_deref());
    (level_severity(level), None)
}

/// The tool's confidence: the result's own (Bandit's `issue_confidence`, a `confidence`
/// property), else the rule's `precision`, else a `HIGH CONFIDENCE` / `confidence:high` tag.
fn confidence(result: &SarifResult, rule: Option<&Rule>, tags: &[&str]) -> Option<Confidence> {
    let named = |p: &Properties| {
        [&p.issue_confidence, &p.confidence, &p.precision]
            .into_iter()
            .flatten()
            .find_map(|v| Confidence::parse(v.as_str()?))
    };
    named(&result.properties)
        .or_else(|| named(&rule?.properties))
        .or_else(|| {
            tags.iter().find_map(|tag| {
                let tag = tag.trim().to_ascii_lowercase();
                let level = tag
                    .strip_suffix(" confidence")
                    .or_else(|| tag.strip_prefix("confidence:"))?;
                Confidence::parse(level.trim())
            })
        })
}

fn level_severity(level: Option<&str>) -> Option<Severity> {
    match level?.trim().to_ascii_lowercase().as_str() {
        "error" => Some(Severity::High),
        "note" => Some(Severity::Low),
        "none" => Some(Severity::Info),
        _ => Some(Severity::Medium),
    }
}

/// For dependency scanners: the package (from `Package:`/`Version:`/`Type:` lines of the
/// result's message or the rule's help), the `Severity:` they state when there is no score
/// (it is more precise than the level these tools set), and the advisory (CVE/GHSA id from
/// the rule id or texts), which then becomes the finding's rule.
fn add_dependency_details(finding: &mut Finding, result: &SarifResult, rule: Option<&Rule>) {
    let texts: Vec<&str> = [
        result.message.text.as_deref(),
        rule.and_then(|r| r.help.as_ref()?.text.as_deref()),
        rule.and_then(|r| r.full_description.as_ref()?.text.as_deref()),
    ]
    .into_iter()
    .flatten()
    .collect();

    let described = texts
        .iter()
        .find(|text| text::field(text, &["package"]).is_some());
    if let Some(text) = described {
        finding.package = package_from(text).map(Box::new);
    }
    let stated_severity = texts
        .iter()
        .find_map(|text| text::field(text, &["severity"])?.parse::<Severity>().ok());
    if let (None, Some(severity)) = (finding.score, stated_severity) {
        finding.severity = severity;
    }

    let ids = std::iter::once(finding.rule.as_str())
        .chain(texts.iter().copied())
        .map(text::advisory_ids)
        .find(|ids| !ids.is_empty())
        .unwrap_or_default();
    let Some((id, aliases)) = ids.split_first() else {
        return;
    };
    let properties = rule.map(|r| &r.properties);
    let advisory = Advisory {
        id: id.clone(),
        aliases: aliases.to_vec(),
        summary: rule
            .and_then(|r| r.short_description.as_ref())
            .and_then(description),
        url: finding
            .help_uri
            .clone()
            .filter(|uri| uri.to_ascii_lowercase().contains(&id.to_ascii_lowercase())),
        cvss_score: properties
            .and_then(|p| p.cvss_v3_score.as_ref()?.as_f64())
            .or(finding.score),
        cvss_vector: properties
            .and_then(|p| p.cvss_v3_vector.as_ref()?.as_str())
            .map(str::to_string),
        affected: described
            .and_then(|text| fixed_range(text))
            .into_iter()
            .collect(),
        affected_versions: Vec::new(),
    };
    finding.rule = advisory.id.clone();
    finding.advisories = vec![advisory];
}

fn package_from(text: &str) -> Option<Package> {
    let name = text::field(text, &["package"])?;
    let ecosystem = text::field(text, &["type"]).map_or_else(
        || Ecosystem::Other("unknown".to_string()),
        ecosystem_from_type,
    );
    Some(Package {
        ecosystem,
        name: name.to_string(),
        version: text::field(text, &["installed version", "version"]).map(str::to_string),
        manifest: None,
    })
}

/// Grype's and Anchore's package types, then the names `Ecosystem::parse` knows.
fn ecosystem_from_type(package_type: &str) -> Ecosystem {
    match package_type.trim().to_ascii_lowercase().as_str() {
        "java-archive" | "jenkins-plugin" => Ecosystem::Maven,
        "wheel" | "egg" => Ecosystem::PyPI,
        "go-module" => Ecosystem::Go,
        "rust-crate" => Ecosystem::CratesIo,
        "php-composer" => Ecosystem::Packagist,
        _ => Ecosystem::parse(package_type),
    }
}

/// `Fixed Version: 1.1.1d-r0` as an affected range; several fixed versions (one per release
/// line) do not make one range and are left out.
fn fixed_range(text: &str) -> Option<AffectedRange> {
    let fixed = text::field(text, &["fixed version", "fix version"])?;
    let single = !fixed.contains(',') && !fixed.eq_ignore_ascii_case("none");
    single.then(|| AffectedRange {
        kind: RangeKind::Ecosystem,
        events: vec![
            RangeEvent::Introduced("0".to_string()),
            RangeEvent::Fixed(fixed.to_string()),
        ],
    })
}

/// The first fix that is one replacement of whole lines' region, as lines and new text.
fn code_fix(result: &SarifResult) -> Option<CodeFix> {
    result.fixes.iter().find_map(|fix| {
        let [change] = fix.artifact_changes.as_slice() else {
            return None;
        };
        let [replacement] = change.replacements.as_slice() else {
            return None;
        };
        let region = replacement.deleted_region.as_ref()?;
        let start_line = region.start_line.and_then(|l| u32::try_from(l).ok())?;
        let end_line = region
            .end_line
            .and_then(|l| u32::try_from(l).ok())
            .unwrap_or(start_line)
            .max(start_line);
        Some(CodeFix {
            description: fix
                .description
                .as_ref()
                .and_then(|m| m.text.as_deref())
                .and_then(text::first_line)
                .map(str::to_string),
            start_line,
            end_line,
            replacement: replacement
                .inserted_content
                .as_ref()
                .and_then(|c| c.text.clone())
                .unwrap_or_default(),
        })
    })
}

/// The package a dependency result names by package URL in its (or its rule's) properties.
fn purl_package(result: &SarifResult, rule: Option<&Rule>) -> Option<Package> {
    [Some(&result.properties), rule.map(|r| &r.properties)]
        .into_iter()
        .flatten()
        .flat_map(|p| p.purls.iter().chain(&p.purl).chain(&p.id1))
        .filter_map(|s| s.as_str())
        .find_map(Package::from_purl)
}

/// A secret scanner's snippet is the secret: keep only its hash, for de-duplication.
/// Trivy's is the line with the secret masked, which says where the secret is, not what.
fn hide_secret(finding: &mut Finding, masked: bool) {
    use super::secret_hash::{SECRET_HASH, SECRET_LOCATION_HASH, location_digest, secret_digest};
    let Some(location) = finding.location.as_mut() else {
        return;
    };
    let Some(snippet) = location.snippet.take() else {
        return;
    };
    if masked {
        let digest = location_digest(&location.path, &finding.rule, snippet.trim());
        finding
            .fingerprints
            .insert(SECRET_LOCATION_HASH.into(), digest);
    } else if let Some(digest) = secret_digest(&snippet) {
        finding.fingerprints.insert(SECRET_HASH.into(), digest);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_all(bytes: &[u8]) -> Result<Parsed, JsonError> {
        parse(bytes, crate::ingest::MAX_RESULTS)
    }

    const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/sarif/");

    fn fixture(name: &str) -> Parsed {
        let bytes = std::fs::read(format!("{FIXTURES}{name}")).unwrap();
        parse_all(&bytes).unwrap()
    }

    fn inline(json: &str) -> Parsed {
        parse_all(json.as_bytes()).unwrap()
    }

    #[test]
    fn every_fixture_parses() {
        let mut names: Vec<_> = std::fs::read_dir(FIXTURES)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .filter(|n| n.ends_with(".sarif"))
            .collect();
        names.sort();
        assert_eq!(names.len(), 25);
        for name in names {
            let bytes = std::fs::read(format!("{FIXTURES}{name}")).unwrap();
            assert_eq!(
                super::super::detect::detect(&bytes),
                Some(super::super::Format::Sarif),
                "{name}"
            );
            let parsed = fixture(&name);
            assert!(!parsed.tools.is_empty(), "{name}: no tool");
            for finding in &parsed.findings {
                assert!(!finding.rule.is_empty(), "{name}: empty rule");
                assert!(!finding.title.is_empty(), "{name}: empty title");
            }
        }
    }

    #[test]
    fn result_counts_match_the_logs() {
        let counts = [
            ("codeql_2.5.4.sarif", 72),
            ("lgtm_export_2runs.sarif", 510),
            ("codeql-action_valid_2runs.sarif", 3),
            ("semgrep_1.69.0_real.sarif", 77),
            ("semgrep_0.17.0_owasp_benchmark.sarif", 1768),
            ("anchore_0.7.3_demo.sarif", 429),
            ("grype_0.34.7_cxf.sarif", 22),
            ("dependency-check_6.1.2.sarif", 13),
            ("checkov_2.2.316_azure.sarif", 16),
            ("bandit_1.8.6_flask.sarif", 7),
            ("eslint_8.57.0_codacy.sarif", 4),
            ("flawfinder_2.0.19_xgboost.sarif", 53),
            ("spotbugs_4.4.0_defectdojo.sarif", 56),
            ("snyk-code_secureauth-demo.sarif", 8),
        ];
        for (name, count) in counts {
            assert_eq!(fixture(name).findings.len(), count, "{name}");
        }
    }

    #[test]
    fn tools_are_the_distinct_driver_names() {
        assert_eq!(fixture("lgtm_export_2runs.sarif").tools, vec!["LGTM.com"]);
        assert_eq!(
            fixture("codeql-action_valid_2runs.sarif").tools,
            vec!["LGTM.com", "CodeQL command-line toolchain"]
        );
    }

    #[test]
    fn codeql_rules_by_index_with_cwe_fingerprints_and_srcroot() {
        let parsed = fixture("codeql_2.5.4.sarif");
        let first = &parsed.findings[0];
        assert_eq!(first.kind, Kind::Sast);
        assert_eq!(first.tools, vec!["CodeQL"]);
        assert_eq!(first.rule, "py/empty-except");
        assert_eq!(first.title, "Empty except");
        assert_eq!(first.severity, Severity::Low, "defaultConfiguration note");
        assert_eq!(first.cwes, vec![390]);
        assert_eq!(
            first
                .fingerprints
                .get("primaryLocationLineHash")
                .map(String::as_str),
            Some("9cbc869fbfffeb60:1")
        );
        let location = first.location.as_ref().unwrap();
        assert_eq!(
            location.path, "good/db_init.py",
            "undefined %SRCROOT% is the repo root"
        );
        assert_eq!(location.lines(), Some((39, 39)));
        assert_eq!(location.start_column, Some(5));
        assert_eq!(
            location.end_column,
            Some(29),
            "SARIF endColumn 30 is exclusive"
        );
    }

    #[test]
    fn original_uri_base_ids_are_followed_recursively() {
        let parsed = fixture("sarif-spec_appendix_k.sarif");
        let finding = &parsed.findings[0];
        assert_eq!(finding.path(), Some("/work/src/collections/list.h"));
        assert_eq!(
            finding.message,
            "Variable \"ptr\" was used without being initialized. It was declared [here](0)."
        );
        assert_eq!(finding.severity, Severity::High);
        assert!(finding.suppressed);
    }

    #[test]
    fn srcroot_defined_as_a_file_uri_gives_an_absolute_path() {
        let parsed = inline(
            r#"{"runs":[{"tool":{"driver":{"name":"CodeQL"}},
            "originalUriBaseIds":{"%SRCROOT%":{"uri":"file:///home/x/my%20repo/"}},
            "results":[{"ruleId":"r","message":{"text":"m"},"locations":[{"physicalLocation":
              {"artifactLocation":{"uri":"./src/a.py","uriBaseId":"%SRCROOT%"}}}]}]}]}"#,
        );
        assert_eq!(parsed.findings[0].path(), Some("/home/x/my repo/src/a.py"));
    }

    #[test]
    fn absolute_file_uris_and_no_region() {
        let parsed = fixture("dependency-check_6.1.2.sarif");
        let finding = &parsed.findings[0];
        let location = finding.location.as_ref().unwrap();
        assert_eq!(
            location.path,
            "/src/.venv/lib/python3.9/site-packages/tastypie_swagger/static/tastypie_swagger/js/lib/handlebars-1.0.0.js"
        );
        assert_eq!(location.lines(), None);
        assert_eq!(finding.kind, Kind::Sca);
        assert_eq!(finding.severity, Severity::High, "level error, no score");
        let cve = parsed
            .findings
            .iter()
            .find(|f| f.rule == "CVE-2012-6708")
            .unwrap();
        assert_eq!(cve.score, Some(6.1));
        assert_eq!(cve.severity, Severity::Medium);
        assert_eq!(cve.advisories[0].id, "CVE-2012-6708");
    }

    #[test]
    fn results_without_locations_are_kept() {
        let parsed = inline(
            r#"{"version":"2.1.0","runs":[{"tool":{"driver":{"name":"t","rules":[
              {"id":"R1","shortDescription":{"text":"Short"},"helpUri":"https://h/R1"}]}},
              "results":[{"ruleIndex":0,"message":{"text":"first line\nsecond"}},
                         {"ruleId":"R2","level":"none","locations":null,"message":{"text":"x"}}]}]}"#,
        );
        assert_eq!(parsed.findings.len(), 2);
        let first = &parsed.findings[0];
        assert_eq!(first.rule, "R1");
        assert_eq!(first.title, "Short");
        assert_eq!(first.help_uri.as_deref(), Some("https://h/R1"));
        assert!(first.location.is_none());
        assert_eq!(
            first.severity,
            Severity::Medium,
            "SARIF default level warning"
        );
        let second = &parsed.findings[1];
        assert_eq!(second.title, "x", "no rule: first message line");
        assert_eq!(second.severity, Severity::Info);
    }

    #[test]
    fn nosemgrep_suppressions_are_kept_and_marked() {
        let parsed = fixture("semgrep_nosemgrep_suppressed.sarif");
        let suppressed: Vec<bool> = parsed.findings.iter().map(|f| f.suppressed).collect();
        assert_eq!(suppressed, vec![true, false]);
        let first = parsed.findings[0].location.as_ref().unwrap();
        assert_eq!(
            first.snippet.as_deref(),
            Some("aws_account_id = 123456789012  # nosemgrep")
        );
    }

    #[test]
    fn rejected_suppressions_do_not_suppress() {
        let parsed = inline(
            r#"{"runs":[{"tool":{"driver":{"name":"t"}},"results":[
              {"ruleId":"a","message":{"text":"m"},"suppressions":[{"kind":"inSource","status":"rejected"}]},
              {"ruleId":"b","message":{"text":"m"},"suppressions":[{"kind":"external","status":"accepted"}]}]}]}"#,
        );
        assert!(!parsed.findings[0].suppressed);
        assert!(parsed.findings[1].suppressed);
    }

    #[test]
    fn security_severity_scores_and_level_names() {
        let grype = fixture("grype_0.34.7_cxf.sarif");
        let first = &grype.findings[0];
        assert_eq!(first.score, Some(2.1));
        assert_eq!(first.severity, Severity::Low);

        let semgrep = fixture("semgrep_1.69.0_real.sarif");
        let cors = semgrep
            .findings
            .iter()
            .find(|f| f.rule.ends_with("rule-generic-cors"))
            .unwrap();
        assert_eq!(
            cors.severity,
            Severity::Medium,
            "security-severity \"MEDIUM\""
        );
        assert_eq!(cors.score, None);
        assert_eq!(cors.cwes, vec![346]);

        let numeric = inline(
            r#"{"runs":[{"tool":{"driver":{"name":"t","rules":[{"id":"r","properties":{"security-severity":9.8}}]}},
              "results":[{"ruleId":"r","level":"note","message":{"text":"m"}}]}]}"#,
        );
        assert_eq!(numeric.findings[0].severity, Severity::Critical);
        assert_eq!(numeric.findings[0].score, Some(9.8));
    }

    #[test]
    fn fingerprints_are_passed_through_untrusted() {
        let parsed = inline(
            r#"{"runs":[{"tool":{"driver":{"name":"Semgrep OSS"}},"results":[
              {"ruleId":"a","message":{"text":"m"},"fingerprints":{"matchBasedId/v1":"requires login"},
               "partialFingerprints":{"primaryLocationLineHash":"abc"}}]}]}"#,
        );
        let fingerprints = &parsed.findings[0].fingerprints;
        assert_eq!(fingerprints.len(), 2);
        assert_eq!(
            fingerprints.get("matchBasedId/v1").unwrap(),
            "requires login"
        );
        assert_eq!(fingerprints.get("primaryLocationLineHash").unwrap(), "abc");
    }

    #[test]
    fn rules_in_extensions_and_message_strings() {
        let parsed = inline(
            r#"{"runs":[{"tool":{"driver":{"name":"CodeQL","rules":[{"id":"d"}]},
              "extensions":[{"name":"pack","rules":[{"id":"x/sqli","shortDescription":{"text":"SQL injection"},
                "messageStrings":{"default":{"text":"Query built from {0}."}},
                "properties":{"tags":["security","external/cwe/cwe-089"]}}]}]},
              "results":[{"rule":{"id":"x/sqli","index":0,"toolComponent":{"index":0}},
                "message":{"id":"default","arguments":["user input"]}}]}]}"#,
        );
        let finding = &parsed.findings[0];
        assert_eq!(finding.rule, "x/sqli");
        assert_eq!(finding.title, "SQL injection");
        assert_eq!(finding.message, "Query built from user input.");
        assert_eq!(finding.cwes, vec![89]);
    }

    #[test]
    fn gitleaks_results_are_secrets() {
        let v8 = fixture("gitleaks_v8_simple.sarif");
        let finding = &v8.findings[0];
        assert_eq!(finding.kind, Kind::Secret);
        assert_eq!(finding.rule, "test-rule");
        assert_eq!(finding.location.as_ref().unwrap().lines(), Some((1, 2)));
        let v7 = fixture("gitleaks_7.4.0.sarif");
        assert!(v7.findings.iter().all(|f| f.kind == Kind::Secret));
        assert_eq!(v7.findings[0].rule, "AWS Access Key secret detected");
    }

    #[test]
    fn trivy_packages_and_advisories() {
        let parsed = fixture("trivy_alpine-310_golden.sarif");
        let finding = &parsed.findings[0];
        assert_eq!(finding.kind, Kind::Sca);
        assert_eq!(finding.rule, "CVE-2019-1549");
        assert_eq!(
            finding.path(),
            Some("testdata/fixtures/images/alpine-310.tar.gz"),
            "undefined ROOTPATH is the repo root"
        );
        let package = finding.package.as_ref().unwrap();
        assert_eq!(
            package.name, "libcrypto1.1",
            "from the result, not the shared rule"
        );
        assert_eq!(package.version.as_deref(), Some("1.1.1c-r0"));
        let advisory = &finding.advisories[0];
        assert_eq!(advisory.id, "CVE-2019-1549");
        assert_eq!(advisory.cvss_score, Some(5.3));
        assert_eq!(
            advisory.cvss_vector.as_deref(),
            Some("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:L/I:N/A:N")
        );
        assert_eq!(
            advisory.affected[0].events,
            vec![
                RangeEvent::Introduced("0".into()),
                RangeEvent::Fixed("1.1.1d-r0".into())
            ]
        );
        assert_eq!(finding.score, Some(5.3));

        let demo = fixture("trivy_demo_2021.sarif");
        assert_eq!(
            demo.findings[0].rule, "CVE-2019-1549",
            "from `[MEDIUM] CVE-2019-1549`"
        );
        assert_eq!(demo.findings[0].package.as_ref().unwrap().name, "openssl");
        assert_eq!(
            demo.findings[0].severity,
            Severity::Medium,
            "`Severity: MEDIUM`, not level error"
        );
    }

    #[test]
    fn grype_and_anchore_packages() {
        let grype = fixture("grype_0.34.7_cxf.sarif");
        let finding = &grype.findings[0];
        assert_eq!(finding.rule, "CVE-2008-0732");
        let package = finding.package.as_ref().unwrap();
        assert_eq!(package.name, "geronimo-j2ee-management_1.1_spec");
        assert_eq!(package.version.as_deref(), Some("1.0.1"));
        assert_eq!(package.ecosystem, Ecosystem::Maven);

        let anchore = fixture("anchore_0.7.3_demo.sarif");
        let finding = &anchore.findings[0];
        assert_eq!(finding.kind, Kind::Sca);
        assert_eq!(finding.rule, "CVE-2019-18276");
        assert_eq!(finding.package.as_ref().unwrap().name, "bash");
        assert!(
            finding.suppressed,
            "Anchore marks every result with an external suppression"
        );
        assert_eq!(
            finding.severity,
            Severity::Low,
            "`Severity: Low` in the rule's help"
        );
        let second = &anchore.findings[1];
        assert_eq!(
            second.rule, "CVE-2016-2226",
            "ruleIndex 0 on every result is ignored"
        );
        assert_eq!(second.package.as_ref().unwrap().name, "binutils");
        assert!(
            second.title.starts_with("CVE-2016-2226 "),
            "{}",
            second.title
        );
    }

    #[test]
    fn wrong_shape_names_the_json_path() {
        let error = parse_all(
            br#"{"runs":[{"tool":{"driver":{"name":"t"}},"results":[{"locations":{}}]}]}"#,
        )
        .unwrap_err();
        assert_eq!(
            error.position.as_deref(),
            Some("$.runs[0].results[0].locations")
        );
        assert!(
            error.message.contains("expected an array, found an object"),
            "{}",
            error.message
        );
    }
    #[test]
    fn scanner_fixes_are_kept_as_code_fixes() {
        let parsed = fixture("semgrep_autofix.sarif");
        let fixed: Vec<_> = parsed
            .findings
            .iter()
            .filter_map(|f| f.fix.as_ref())
            .collect();
        assert!(!fixed.is_empty());
        let fix = fixed[0];
        assert_eq!((fix.start_line, fix.end_line), (5, 5));
        assert_eq!(fix.replacement, "  inputs.get(x) = 1");
        assert_eq!(
            fix.description.as_deref(),
            Some("Use `.get()` method to avoid a KeyNotFound error")
        );
    }

    #[test]
    fn secret_snippets_are_replaced_by_their_hash() {
        let parsed = fixture("gitleaks_v8_simple.sarif");
        let finding = &parsed.findings[0];
        assert_eq!(finding.kind, Kind::Secret);
        assert_eq!(
            finding.location.as_ref().and_then(|l| l.snippet.as_deref()),
            None
        );
        assert_eq!(
            finding.fingerprints.get("secretHash").map(String::len),
            Some(64)
        );
        assert!(!format!("{parsed:?}").contains("a secret"));
    }

    #[test]
    fn absent_results_are_dropped_and_purls_name_packages() {
        let log = br#"{"version":"2.1.0","runs":[{"tool":{"driver":{"name":"grype"}},"results":[
            {"ruleId":"CVE-2020-1","message":{"text":"m"},"baselineState":"absent"},
            {"ruleId":"CVE-2020-2","message":{"text":"m"},"baselineState":"new",
             "properties":{"purls":["pkg:npm/%40scope/pkg@1.2.3"]}}]}]}"#;
        let parsed = parse_all(log).unwrap();
        assert_eq!(parsed.findings.len(), 1);
        let package = parsed.findings[0].package.as_ref().unwrap();
        assert_eq!(package.name, "@scope/pkg");
        assert_eq!(package.version.as_deref(), Some("1.2.3"));
    }
    #[test]
    fn checkov_results_are_infrastructure() {
        let parsed = fixture("checkov_2.2.316_azure.sarif");
        assert_eq!(parsed.tools, vec!["Checkov"]);
        assert!(parsed.findings.iter().all(|f| f.kind == Kind::Iac));
        let first = &parsed.findings[0];
        assert_eq!(first.rule, "CKV_AZURE_179");
        assert_eq!(first.title, "Ensure VM agent is installed");
        assert_eq!(first.severity, Severity::High, "level error");
        let location = first.location.as_ref().unwrap();
        assert_eq!(location.path, "Develop Env/main.tf");
        assert_eq!(location.lines(), Some((107, 149)));
        assert_eq!(
            parsed.findings[1].help_uri.as_deref(),
            Some("https://docs.bridgecrew.io/docs/bc_azr_general_14")
        );
        assert!(first.cwes.is_empty());
    }

    #[test]
    fn confidence_from_results_rules_and_tags() {
        let bandit = fixture("bandit_1.8.6_flask.sarif");
        // Bandit's result-level issue_confidence wins over the rule's precision.
        assert!(bandit.findings.iter().all(|f| f.confidence.is_some()));
        let semgrep = fixture("semgrep_1.69.0_real.sarif");
        assert!(
            semgrep
                .findings
                .iter()
                .all(|f| f.confidence == Some(Confidence::High)),
            "precision very-high"
        );
        let tagged = inline(
            r#"{"version":"2.1.0","runs":[{"tool":{"driver":{"name":"t","rules":[{"id":"r","properties":{"tags":["LOW CONFIDENCE"]}}]}},
              "results":[{"ruleId":"r","message":{"text":"m"}},{"ruleId":"x","message":{"text":"m"},"properties":{"confidence":"medium"}}]}]}"#,
        );
        assert_eq!(tagged.findings[0].confidence, Some(Confidence::Low));
        assert_eq!(tagged.findings[1].confidence, Some(Confidence::Medium));
    }

    #[test]
    fn a_rule_s_help_is_kept_once_for_all_its_findings() {
        let parsed = fixture("semgrep_1.69.0_real.sarif");
        let with_help: Vec<&Finding> = parsed
            .findings
            .iter()
            .filter(|f| f.help.is_some())
            .collect();
        assert!(!with_help.is_empty());
        for a in &with_help {
            for b in &with_help {
                if a.rule == b.rule {
                    assert!(std::sync::Arc::ptr_eq(
                        a.help.as_ref().unwrap(),
                        b.help.as_ref().unwrap()
                    ));
                }
            }
        }
        assert!(
            with_help
                .iter()
                .all(|f| !f.help.as_deref().unwrap().contains("\n\n"))
        );
    }

    #[test]
    fn bandit_levels_follow_issue_severity_and_rules_tag_cwes() {
        let parsed = fixture("bandit_1.8.6_flask.sarif");
        assert_eq!(parsed.tools, vec!["Bandit"]);
        assert!(parsed.findings.iter().all(|f| f.kind == Kind::Sast));
        let by_rule = |rule: &str| parsed.findings.iter().find(|f| f.rule == rule).unwrap();
        let shell = by_rule("B602");
        assert_eq!(
            shell.severity,
            Severity::High,
            "issue_severity HIGH, level error"
        );
        assert_eq!(shell.cwes, vec![78]);
        assert_eq!(shell.title, "subprocess_popen_with_shell_equals_true");
        let location = shell.location.as_ref().unwrap();
        assert_eq!(location.path, "app.py");
        assert_eq!(location.lines(), Some((25, 25)));
        assert_eq!(
            (location.start_column, location.end_column),
            (Some(14), Some(92))
        );
        assert_eq!(
            by_rule("B608").severity,
            Severity::Medium,
            "issue_severity MEDIUM: level left out"
        );
        assert_eq!(by_rule("B404").severity, Severity::Low, "level note");
        let password = by_rule("B105");
        assert_eq!(
            password.kind,
            Kind::Sast,
            "a rule about secrets, not a secret scanner"
        );
        assert_eq!(password.cwes, vec![259]);
    }

    #[test]
    fn eslint_absolute_file_uris() {
        let parsed = fixture("eslint_8.57.0_codacy.sarif");
        assert_eq!(parsed.tools, vec!["ESLint"]);
        let first = &parsed.findings[0];
        assert_eq!(first.kind, Kind::Sast);
        assert_eq!(first.rule, "no-unused-vars");
        assert_eq!(first.title, "Disallow unused variables");
        assert_eq!(first.message, "'regex' is assigned a value but never used.");
        assert_eq!(first.severity, Severity::High, "level error");
        let location = first.location.as_ref().unwrap();
        assert_eq!(
            location.path,
            "/Users/stefan/Documents/Projects/repositories/eslint-test-examples/with-config-file.js"
        );
        assert_eq!(
            (location.start_column, location.end_column),
            (Some(7), Some(11))
        );
        assert!(parsed.findings.iter().all(|f| f.cwes.is_empty()));
    }

    #[test]
    fn flawfinder_cwes_from_relationships_and_passes_dropped() {
        let parsed = fixture("flawfinder_2.0.19_xgboost.sarif");
        assert_eq!(parsed.tools, vec!["Flawfinder"]);
        assert!(parsed.findings.iter().all(|f| f.kind == Kind::Sast));
        assert!(
            parsed.findings.iter().all(|f| f.location.is_some()),
            "the `pass` result has none"
        );
        let first = &parsed.findings[0];
        assert_eq!(first.rule, "FF1048");
        assert_eq!(
            first.severity,
            Severity::High,
            "kind fail, rule default level error"
        );
        assert_eq!(first.cwes, vec![327]);
        assert_eq!(first.path(), Some("src/tree/param.cc"), "undefined SRCROOT");
        assert_eq!(
            first.fingerprints.get("contextHash/v1").map(String::len),
            Some(64)
        );
        assert_eq!(
            parsed.findings[1].severity,
            Severity::Medium,
            "level warning"
        );
        let sscanf = &parsed.findings[2];
        assert_eq!(sscanf.rule, "FF1021");
        assert_eq!(
            sscanf.severity,
            Severity::Low,
            "level note beats the rule's error"
        );
        assert_eq!(sscanf.cwes, vec![120, 20]);
        let char_array = parsed.findings.iter().find(|f| f.rule == "FF1013").unwrap();
        assert_eq!(char_array.cwes, vec![119, 120]);
        let last = parsed.findings.last().unwrap();
        assert_eq!(last.severity, Severity::High);
        assert_eq!(last.location.as_ref().unwrap().lines(), Some((482, 482)));
    }

    #[test]
    fn results_of_kind_pass_or_not_applicable_are_dropped() {
        let parsed = inline(
            r#"{"runs":[{"tool":{"driver":{"name":"t"}},"results":[
              {"ruleId":"a","kind":"pass","message":{"text":"m"}},
              {"ruleId":"b","kind":"notApplicable","message":{"text":"m"}},
              {"ruleId":"c","kind":"review","message":{"text":"m"}},
              {"ruleId":"d","message":{"text":"m"}}]}]}"#,
        );
        let rules: Vec<&str> = parsed.findings.iter().map(|f| f.rule.as_str()).collect();
        assert_eq!(rules, vec!["c", "d"]);
    }

    #[test]
    fn only_cwe_taxonomy_relationships_name_cwes() {
        let parsed = inline(
            r#"{"runs":[{"tool":{"driver":{"name":"t","rules":[{"id":"r","relationships":[
              {"target":{"id":"CWE-79","toolComponent":{"name":"CWE"}}},
              {"target":{"id":"CWE-1","toolComponent":{"name":"OWASP"}}},
              {"target":{"id":"CWE-2"}},
              {"target":{"id":"502","toolComponent":{"name":"CWE"}}}],
              "properties":{"tags":["CORRECTNESS","7"]}}]}},
              "results":[{"ruleId":"r","message":{"text":"m"}}]}]}"#,
        );
        assert_eq!(
            parsed.findings[0].cwes,
            vec![79, 502],
            "SpotBugs names its CWE taxonomy entries by number alone; a bare number tag is none"
        );
    }

    #[test]
    fn spotbugs_bare_file_names_and_levels_from_bug_rank() {
        let parsed = fixture("spotbugs_4.4.0_defectdojo.sarif");
        assert_eq!(parsed.tools, vec!["SpotBugs"]);
        assert!(parsed.findings.iter().all(|f| f.kind == Kind::Sast));
        assert!(
            parsed.findings.iter().all(|f| f.cwes.is_empty()),
            "4.4.0 names no CWE; its only tag is the bug category"
        );
        let first = &parsed.findings[0];
        assert_eq!(first.rule, "DMI_HARDCODED_ABSOLUTE_FILENAME");
        assert_eq!(
            first.title,
            "Code contains a hard coded reference to an absolute pathname."
        );
        assert_eq!(
            first.message,
            "Hard coded reference to an absolute pathname in Boot.main(String[])."
        );
        assert_eq!(
            first.severity,
            Severity::Low,
            "level note: bug rank of concern"
        );
        assert_eq!(first.score, None);
        let location = first.location.as_ref().unwrap();
        assert_eq!(location.path, "Boot.java", "bare file name, kept as it is");
        assert_eq!(location.lines(), Some((23, 23)));
        assert_eq!(location.start_column, None);
        assert_eq!(
            first.help_uri.as_deref(),
            Some(
                "https://spotbugs.readthedocs.io/en/latest/bugDescriptions.html#DMI_HARDCODED_ABSOLUTE_FILENAME"
            )
        );
        let switch = parsed
            .findings
            .iter()
            .find(|f| f.message.contains("XonoticParser.frag_someone()"))
            .unwrap();
        assert_eq!(switch.rule, "SF_SWITCH_NO_DEFAULT");
        assert_eq!(switch.path(), Some("XonoticParser.java"));
        assert_eq!(switch.location.as_ref().unwrap().lines(), Some((928, 1023)));
        let naming = parsed
            .findings
            .iter()
            .find(|f| f.rule == "NM_METHOD_NAMING_CONVENTION")
            .unwrap();
        assert_eq!(
            naming.message,
            "The method name XonoticParser$Frag_betrayedContext.Word() doesn't start with a lower case letter."
        );
    }

    #[test]
    fn snyk_code_cwes_from_properties_and_levels_as_severities() {
        let parsed = fixture("snyk-code_secureauth-demo.sarif");
        assert_eq!(parsed.tools, vec!["SnykCode"]);
        assert!(parsed.findings.iter().all(|f| f.kind == Kind::Sast));
        assert!(
            parsed.findings.iter().all(|f| f.score.is_none()),
            "priorityScore is no severity score"
        );
        let first = &parsed.findings[0];
        assert_eq!(first.rule, "javascript/PT");
        assert_eq!(first.title, "Path Traversal");
        assert!(
            first
                .message
                .starts_with("Unsanitized input from an HTTP parameter flows into sendFile,"),
            "{}",
            first.message
        );
        assert_eq!(first.severity, Severity::High, "level error");
        assert_eq!(first.cwes, vec![23]);
        let location = first.location.as_ref().unwrap();
        assert_eq!(
            location.path, "src/routes/profile.ts",
            "undefined %SRCROOT%"
        );
        assert_eq!(location.lines(), Some((83, 83)));
        assert_eq!(
            (location.start_column, location.end_column),
            (Some(9), Some(16))
        );
        assert_eq!(
            first.fingerprints.get("identity").map(String::as_str),
            Some("0f37ccfb-a04d-4b0a-b531-844a374b2ccc")
        );
        let cwes_of = |rule: &str| {
            parsed
                .findings
                .iter()
                .find(|f| f.rule == rule)
                .map(|f| f.cwes.clone())
        };
        assert_eq!(cwes_of("javascript/Sqli"), Some(vec![89]));
        assert_eq!(cwes_of("javascript/XSS"), Some(vec![79]));
        assert_eq!(
            cwes_of("javascript/HardcodedNonCryptoSecret"),
            Some(vec![547])
        );
        let secret = parsed.findings.last().unwrap();
        assert_eq!(
            secret.kind,
            Kind::Sast,
            "a code rule about secrets, not a secret scanner"
        );
        assert_eq!(secret.path(), Some("src/config/secrets.ts"));
    }

    #[test]
    fn cwe_properties_of_rules_and_results_as_lists_or_strings() {
        let parsed = inline(
            r#"{"runs":[{"tool":{"driver":{"name":"SnykCode","rules":[
              {"id":"a","properties":{"cwe":["CWE-798","CWE-259"]}},
              {"id":"b","properties":{"cwe":null}}]}},
              "results":[{"ruleId":"a","message":{"text":"m"},"properties":{"cwe":"CWE-259"}},
                         {"ruleId":"b","message":{"text":"m"},"properties":{"cwe":"CWE-79"}},
                         {"ruleId":"b","message":{"text":"m"},"properties":{"cwe":{"id":1}}}]}]}"#,
        );
        let cwes: Vec<&[u32]> = parsed.findings.iter().map(|f| f.cwes.as_slice()).collect();
        assert_eq!(cwes, vec![&[798, 259][..], &[79][..], &[][..]]);
    }
}
