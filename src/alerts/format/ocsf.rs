//! OCSF rendering of an alert event, for SIEMs that ingest OCSF (Security Lake, Splunk's OCSF
//! add-on, …). One event becomes one finding record: dependency findings a Vulnerability
//! Finding (class 2002), everything else an Application Security Posture Finding (class 2007).
//! Only attributes the schema defines for the class and its objects are written, and only
//! objects whose definitions the tests validate against (`fixtures/schemas/ocsf`, checked by
//! `tests/alert_formats.rs`); posture's facts OCSF has no attribute for go in `unmapped`.
//!
//! Lifecycle: `activity_id` says what happened to the finding record (Create for a detection,
//! Close when the finding stops being open — [`AlertKind::closes`] — Update otherwise, the
//! scheduled SLA and acceptance reminders included); `status_id` says where the finding stands
//! after the event (see `Status::after`).

use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};

use super::{PRODUCT, PRODUCT_VERSION};
use crate::alerts::event::{AlertEvent, AlertKind, FindingFacts, PackageFacts};
use crate::model::{Ecosystem, Kind, Severity};

/// The OCSF schema version the records are written for: the version of the schema sources
/// the tests validate them against (`fixtures/schemas/ocsf/version.json`).
const OCSF_VERSION: &str = "1.9.0-dev";

/// The Findings category (`category_uid` 2).
const FINDINGS_UID: u32 = 2;
const FINDINGS_NAME: &str = "Findings";

/// The CWE a dependency finding is when its advisories name no CVE and it carries no CWE:
/// "Dependency on Vulnerable Third-Party Component".
const CWE_VULNERABLE_DEPENDENCY: u32 = 1395;
/// The CWE a committed secret is when the scanner named none: "Use of Hard-coded Credentials".
const CWE_HARD_CODED_CREDENTIALS: u32 = 798;

/// The finding class an event is written as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    /// 2002: a vulnerable dependency (SCA, container packages).
    VulnerabilityFinding,
    /// 2007: code, secrets, IaC and DAST findings.
    ApplicationSecurityPostureFinding,
}

impl Class {
    fn of(kind: Kind) -> Class {
        if kind.is_dependency() {
            Class::VulnerabilityFinding
        } else {
            Class::ApplicationSecurityPostureFinding
        }
    }

    /// `category_uid * 1000 + uid` of the class in its category.
    fn uid(self) -> u32 {
        FINDINGS_UID * 1000
            + match self {
                Class::VulnerabilityFinding => 2,
                Class::ApplicationSecurityPostureFinding => 7,
            }
    }

    fn caption(self) -> &'static str {
        match self {
            Class::VulnerabilityFinding => "Vulnerability Finding",
            Class::ApplicationSecurityPostureFinding => "Application Security Posture Finding",
        }
    }
}

/// The finding activity (`activity_id`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Activity {
    Create = 1,
    Update = 2,
    Close = 3,
}

impl Activity {
    fn of(kind: AlertKind) -> Activity {
        match kind {
            AlertKind::Detected | AlertKind::Reintroduced => Activity::Create,
            // The finding is no longer open: fixed, or taken out by a triage decision.
            AlertKind::Fixed | AlertKind::Dismissed | AlertKind::Accepted | AlertKind::Approved => {
                Activity::Close
            }
            AlertKind::Pending
            | AlertKind::Rejected
            | AlertKind::Reopened
            | AlertKind::AcceptanceExpired
            | AlertKind::SeverityChanged
            | AlertKind::PolicyViolation
            | AlertKind::SlaDueSoon
            | AlertKind::SlaBreached
            | AlertKind::AcceptanceExpiring => Activity::Update,
        }
    }

    fn id(self) -> u32 {
        self as u32
    }

    fn caption(self) -> &'static str {
        match self {
            Activity::Create => "Create",
            Activity::Update => "Update",
            Activity::Close => "Close",
        }
    }
}

/// The finding's lifecycle status after the event (`status_id`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Status {
    /// The event alone does not tell the finding's triage state.
    Unknown = 0,
    New = 1,
    InProgress = 2,
    Suppressed = 3,
    Resolved = 4,
}

impl Status {
    fn after(kind: AlertKind) -> Status {
        match kind {
            // Open and untriaged: new, back, or its triage undone (rejected, reopened,
            // expired); SLA reminders are about open findings.
            AlertKind::Detected
            | AlertKind::Reintroduced
            | AlertKind::Rejected
            | AlertKind::Reopened
            | AlertKind::AcceptanceExpired
            | AlertKind::SlaDueSoon
            | AlertKind::SlaBreached => Status::New,
            // A dismissal or acceptance waits for a second person.
            AlertKind::Pending => Status::InProgress,
            // Dismissed or accepted, and still so while an acceptance nears its end.
            AlertKind::Dismissed
            | AlertKind::Accepted
            | AlertKind::Approved
            | AlertKind::AcceptanceExpiring => Status::Suppressed,
            AlertKind::Fixed => Status::Resolved,
            // Scan and policy events happen whatever the finding's triage is.
            AlertKind::SeverityChanged | AlertKind::PolicyViolation => Status::Unknown,
        }
    }

    fn id(self) -> u32 {
        self as u32
    }

    fn caption(self) -> &'static str {
        match self {
            Status::Unknown => "Unknown",
            Status::New => "New",
            Status::InProgress => "In Progress",
            Status::Suppressed => "Suppressed",
            Status::Resolved => "Resolved",
        }
    }
}

/// OCSF `severity_id` and its caption.
fn severity(severity: Severity) -> (u32, &'static str) {
    match severity {
        Severity::Info => (1, "Informational"),
        Severity::Low => (2, "Low"),
        Severity::Medium => (3, "Medium"),
        Severity::High => (4, "High"),
        Severity::Critical => (5, "Critical"),
    }
}

/// The severity's caption, shared with the ECS rendering.
pub(super) fn severity_caption(value: Severity) -> &'static str {
    severity(value).1
}

/// What the finding is about, in the words vulnerability tools use for a category
/// (OCSF `vulnerability.category`, ECS `vulnerability.category`).
pub(super) fn kind_category(kind: Kind) -> &'static str {
    match kind {
        Kind::Sast => "Static Application Security Testing",
        Kind::Sca => "Open Source Security",
        Kind::Secret => "Secret Detection",
        Kind::Iac => "Infrastructure as Code",
        Kind::Container => "Container Security",
        Kind::Dast => "Dynamic Application Security Testing",
        Kind::License => "License Compliance",
        Kind::Policy => "Component Policy",
        Kind::Api => "API Security",
    }
}

/// The weakness a vulnerability object names: the schema allows exactly one of `advisory`,
/// `cve` and `cwe` (the advisory object is not written: posture's advisories are ids only).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Weakness<'a> {
    Cve(&'a str),
    Cwe(u32),
}

impl<'a> Weakness<'a> {
    /// A CVE among the advisories, else the first CWE, else the CWE the kind implies.
    fn of(finding: &'a FindingFacts) -> Option<Weakness<'a>> {
        if let Some(cve) = finding
            .advisories
            .iter()
            .find(|id| id.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("CVE-")))
        {
            return Some(Weakness::Cve(cve));
        }
        if let Some(&cwe) = finding.cwes.first() {
            return Some(Weakness::Cwe(cwe));
        }
        match finding.kind {
            Kind::Sca | Kind::Container => Some(Weakness::Cwe(CWE_VULNERABLE_DEPENDENCY)),
            Kind::Secret => Some(Weakness::Cwe(CWE_HARD_CODED_CREDENTIALS)),
            Kind::Sast | Kind::Iac | Kind::Dast | Kind::License | Kind::Policy | Kind::Api => None,
        }
    }
}

/// The package type (`affected_packages[].type_id`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PackageType {
    Application = 1,
    OperatingSystem = 2,
}

impl PackageType {
    /// Language ecosystems hold applications' packages; other ecosystems in an image are the
    /// distribution's. `None` when posture cannot tell.
    fn of(kind: Kind, package: &PackageFacts) -> Option<PackageType> {
        match (Ecosystem::parse(&package.ecosystem), kind) {
            (Ecosystem::Other(_), Kind::Container) => Some(PackageType::OperatingSystem),
            (Ecosystem::Other(_), _) => None,
            _ => Some(PackageType::Application),
        }
    }

    fn caption(self) -> &'static str {
        match self {
            PackageType::Application => "Application",
            PackageType::OperatingSystem => "Operating System",
        }
    }
}

/// One event as an OCSF finding.
pub fn ocsf(event: &AlertEvent) -> Value {
    let finding = &event.finding;
    let class = Class::of(finding.kind);
    let activity = Activity::of(event.kind);
    let status = Status::after(event.kind);
    let (severity_id, severity_name) = severity(finding.severity);
    let vulnerability = vulnerability(finding);
    let application = (class == Class::ApplicationSecurityPostureFinding).then(|| {
        json!({
            "name": event.repository,
            "uid": format!("{}:{}", event.forge, event.repository),
            "type": forge_caption(&event.forge),
        })
    });
    prune(json!({
        "activity_id": activity.id(),
        "activity_name": activity.caption(),
        "category_uid": FINDINGS_UID,
        "category_name": FINDINGS_NAME,
        "class_uid": class.uid(),
        "class_name": class.caption(),
        "type_uid": class.uid() * 100 + activity.id(),
        "type_name": format!("{}: {}", class.caption(), activity.caption()),
        "severity_id": severity_id,
        "severity": severity_name,
        "status_id": status.id(),
        "status": status.caption(),
        "status_detail": status_detail(event),
        // When posture wrote this finding record; the finding's first detection is in
        // `finding_info.created_time`.
        "time": millis(event.at),
        "message": event.headline(),
        "metadata": {
            "version": OCSF_VERSION,
            "product": {
                "name": PRODUCT,
                "vendor_name": PRODUCT,
                "version": PRODUCT_VERSION,
            },
            "uid": event.id,
            "event_code": event.kind.as_str(),
            "tenant_uid": event.org,
        },
        "finding_info": finding_info(event, activity),
        "vulnerabilities": vulnerability.map(|v| vec![v]),
        "application": application,
        "unmapped": unmapped(event),
    }))
}

fn finding_info(event: &AlertEvent, activity: Activity) -> Value {
    let finding = &event.finding;
    let first_seen = finding.first_detected_at.map(millis);
    // Scheduled reminders do not change the finding; triage and scans do.
    let scheduled = matches!(
        event.kind,
        AlertKind::SlaDueSoon | AlertKind::SlaBreached | AlertKind::AcceptanceExpiring
    );
    let modified = (activity != Activity::Create && !scheduled).then(|| millis(event.at));
    json!({
        "uid": finding.id,
        "uid_alt": finding.short_id,
        "title": finding.title,
        "types": [finding.kind.as_str()],
        "data_sources": finding.tools,
        "created_time": first_seen,
        "first_seen_time": first_seen,
        "modified_time": modified,
        "src_url": event.links.finding,
    })
}

/// The one vulnerability object, when the finding names a weakness (the schema requires one).
fn vulnerability(finding: &FindingFacts) -> Option<Value> {
    let weakness = Weakness::of(finding)?;
    let (cve, cwe) = match weakness {
        Weakness::Cve(id) => {
            let related: Vec<Value> = finding.cwes.iter().map(|&n| cwe_object(n)).collect();
            let uid = id.to_ascii_uppercase();
            (Some(json!({ "uid": uid, "related_cwes": related })), None)
        }
        Weakness::Cwe(n) => (None, Some(cwe_object(n))),
    };
    let package = finding.package.as_ref();
    let affected_code = match (finding.kind.is_dependency(), &finding.path) {
        (false, Some(path)) => Some(vec![json!({
            "file": {
                "name": file_name(path),
                "path": path,
                "type_id": 1,
                "type": "Regular File",
            },
            "start_line": finding.line,
        })]),
        _ => None,
    };
    // The schema requires a version; a package without one stays in `unmapped`.
    let affected_packages = package
        .filter(|p| p.version.is_some())
        .map(|p| vec![affected_package(finding.kind, p)]);
    let fixed_in = package.and_then(|p| Some((p, p.fixed_in.as_ref()?)));
    Some(json!({
        "title": finding.title,
        "severity": finding.severity.as_str(),
        "category": kind_category(finding.kind),
        "cve": cve,
        "cwe": cwe,
        "first_seen_time": finding.first_detected_at.map(millis),
        // Only what posture knows: a fixed version it found, an advisory in CISA's KEV.
        "is_fix_available": fixed_in.map(|_| true),
        "is_exploit_available": finding.kev.then_some(true),
        "affected_code": affected_code,
        "affected_packages": affected_packages,
        "remediation": fixed_in.map(|(p, version)| json!({
            "desc": format!("Upgrade {} to {version} or later.", p.name),
        })),
    }))
}

fn affected_package(kind: Kind, package: &PackageFacts) -> Value {
    let package_type = PackageType::of(kind, package);
    json!({
        "name": package.name,
        "version": package.version,
        "purl": package.purl,
        "package_manager": package.ecosystem,
        "fixed_in_version": package.fixed_in,
        "type_id": package_type.map(|t| t as u32),
        "type": package_type.map(PackageType::caption),
    })
}

fn cwe_object(number: u32) -> Value {
    json!({
        "uid": format!("CWE-{number}"),
        "src_url": format!("https://cwe.mitre.org/data/definitions/{number}.html"),
    })
}

/// Why the status is what it is, in a few words, when the event says.
fn status_detail(event: &AlertEvent) -> Option<String> {
    let until = event.until.map(|d| d.to_string());
    match event.kind {
        AlertKind::SeverityChanged => event.previous_severity.map(|before| {
            format!(
                "severity changed from {before} to {}",
                event.finding.severity
            )
        }),
        AlertKind::SlaDueSoon => until.map(|d| format!("SLA due {d}")),
        AlertKind::SlaBreached => until.map(|d| format!("SLA breached, due {d}")),
        AlertKind::AcceptanceExpiring => until.map(|d| format!("acceptance ends {d}")),
        _ => event.reason.clone(),
    }
}

/// posture's facts OCSF has no attribute for (or none the class allows).
fn unmapped(event: &AlertEvent) -> Value {
    let finding = &event.finding;
    let cwes: Vec<String> = finding.cwes.iter().map(|n| format!("CWE-{n}")).collect();
    json!({
        "event": event.kind.as_str(),
        "org": event.org,
        "repository": event.repository,
        "forge": event.forge,
        "actor": event.actor,
        "reason": event.reason,
        "comment": event.comment,
        "until": event.until.map(|d| d.to_string()),
        "previous_severity": event.previous_severity.map(Severity::as_str),
        "finding": {
            "kind": finding.kind.as_str(),
            "rule": finding.rule,
            "risk_score": finding.risk_score,
            "advisories": finding.advisories,
            "cwes": cwes,
            "kev": finding.kev,
            "path": finding.path,
            "line": finding.line,
            "package": finding.package,
            "introduced_commit": finding.introduced_commit,
            "introduced_author": finding.introduced_author,
        },
        "links": event.links,
    })
}

fn forge_caption(forge: &str) -> &str {
    match forge {
        "github" => "GitHub",
        "gitlab" => "GitLab",
        other => other,
    }
}

fn file_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// OCSF `timestamp_t`: milliseconds since the epoch.
fn millis(at: DateTime<Utc>) -> i64 {
    at.timestamp_millis()
}

/// Drops nulls, empty arrays and empty objects, so absent facts leave no attribute behind.
pub(super) fn prune(value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(key, value)| (key, prune(value)))
                .filter(|(_, value)| !is_empty(value))
                .collect::<Map<String, Value>>(),
        ),
        Value::Array(items) => Value::Array(
            items
                .into_iter()
                .map(prune)
                .filter(|v| !is_empty(v))
                .collect(),
        ),
        other => other,
    }
}

fn is_empty(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::Array(items) => items.is_empty(),
        Value::Object(map) => map.is_empty(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn close_is_exactly_the_kinds_that_close_the_finding() {
        for kind in AlertKind::ALL {
            assert_eq!(
                Activity::of(kind) == Activity::Close,
                kind.closes(),
                "{kind}"
            );
            if Activity::of(kind) == Activity::Close {
                let status = Status::after(kind);
                assert!(
                    matches!(status, Status::Resolved | Status::Suppressed),
                    "{kind}"
                );
            }
        }
    }

    #[test]
    fn weakness_prefers_a_cve_then_a_cwe_then_the_kind() {
        let mut finding = AlertEvent::sample("acme", Utc::now()).finding;
        finding.advisories = vec!["GHSA-aaaa-bbbb-cccc".into(), "cve-2024-0001".into()];
        assert_eq!(Weakness::of(&finding), Some(Weakness::Cve("cve-2024-0001")));
        finding.advisories.clear();
        assert_eq!(Weakness::of(&finding), Some(Weakness::Cwe(1395)));
        finding.cwes.clear();
        finding.kind = Kind::Secret;
        assert_eq!(Weakness::of(&finding), Some(Weakness::Cwe(798)));
        finding.kind = Kind::Iac;
        assert_eq!(Weakness::of(&finding), None);
    }

    #[test]
    fn prune_drops_absent_facts_only() {
        let value = prune(json!({"a": null, "b": [], "c": {"d": null}, "e": 0, "f": [null, 1]}));
        assert_eq!(value, json!({"e": 0, "f": [1]}));
    }
}
