//! Elastic Common Schema (8.x) rendering of an alert event, for Elasticsearch and the SIEMs
//! that read ECS. Only ECS field names are used, except posture's own facts, which go under
//! the custom `posture.*` namespace (ECS leaves names outside its field sets to the producer).
//!
//! Categorisation: `event.category` is `["vulnerability"]` and `event.type` `["info"]` for
//! every event, the only type ECS expects for that category (the lifecycle is in
//! `event.action`); `event.kind` is `alert` while the finding stays open and `event` when the
//! event closes it ([`AlertKind::closes`]: fixed, dismissed, accepted, approved), since
//! nothing is left to act on.

use chrono::SecondsFormat;
use serde_json::{Value, json};

use super::ocsf::{kind_category, prune, severity_caption};
use super::{PRODUCT, PRODUCT_VERSION};
use crate::alerts::event::{AlertEvent, FindingFacts};
use crate::model::Severity;

/// The ECS version the documents follow.
const ECS_VERSION: &str = "8.17.0";

/// What `vulnerability.id` holds, best first: a CVE, another advisory, a CWE, the rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum VulnerabilityId<'a> {
    Cve(&'a str),
    Advisory(&'a str),
    Cwe(u32),
    Rule(&'a str),
}

impl<'a> VulnerabilityId<'a> {
    fn of(finding: &'a FindingFacts) -> VulnerabilityId<'a> {
        let is_cve = |id: &&String| id.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("CVE-"));
        if let Some(cve) = finding.advisories.iter().find(is_cve) {
            VulnerabilityId::Cve(cve)
        } else if let Some(advisory) = finding.advisories.first() {
            VulnerabilityId::Advisory(advisory)
        } else if let Some(&cwe) = finding.cwes.first() {
            VulnerabilityId::Cwe(cwe)
        } else {
            VulnerabilityId::Rule(&finding.rule)
        }
    }

    fn id(self) -> String {
        match self {
            VulnerabilityId::Cve(id) => id.to_ascii_uppercase(),
            VulnerabilityId::Advisory(id) | VulnerabilityId::Rule(id) => id.to_owned(),
            VulnerabilityId::Cwe(n) => format!("CWE-{n}"),
        }
    }

    /// `vulnerability.enumeration`: the identifier's scheme (`CVE`, `GHSA`, `CWE`, …); none
    /// for a scanner's rule id.
    fn enumeration(self) -> Option<String> {
        match self {
            VulnerabilityId::Cve(_) => Some("CVE".into()),
            VulnerabilityId::Advisory(id) => id
                .split_once('-')
                .map(|(scheme, _)| scheme.to_ascii_uppercase()),
            VulnerabilityId::Cwe(_) => Some("CWE".into()),
            VulnerabilityId::Rule(_) => None,
        }
    }

    /// `vulnerability.reference`, for the schemes with one canonical page.
    fn reference(self) -> Option<String> {
        match self {
            VulnerabilityId::Cve(id) => Some(format!(
                "https://www.cve.org/CVERecord?id={}",
                id.to_ascii_uppercase()
            )),
            VulnerabilityId::Advisory(id) if id.starts_with("GHSA-") => {
                Some(format!("https://github.com/advisories/{id}"))
            }
            VulnerabilityId::Cwe(n) => {
                Some(format!("https://cwe.mitre.org/data/definitions/{n}.html"))
            }
            VulnerabilityId::Advisory(_) | VulnerabilityId::Rule(_) => None,
        }
    }
}

/// `event.severity`: posture's levels as numbers, info 1 to critical 5 (as OCSF's
/// `severity_id`).
fn severity_number(severity: Severity) -> u8 {
    match severity {
        Severity::Info => 1,
        Severity::Low => 2,
        Severity::Medium => 3,
        Severity::High => 4,
        Severity::Critical => 5,
    }
}

/// One event as an ECS document.
pub fn ecs(event: &AlertEvent) -> Value {
    let finding = &event.finding;
    let vulnerability_id = VulnerabilityId::of(finding);
    let links = &event.links;
    let package = finding.package.as_ref();
    prune(json!({
        "@timestamp": event.at.to_rfc3339_opts(SecondsFormat::Millis, true),
        "ecs": { "version": ECS_VERSION },
        "message": event.headline(),
        "event": {
            "kind": if event.kind.closes() { "event" } else { "alert" },
            "category": ["vulnerability"],
            "type": ["info"],
            "action": event.kind.as_str(),
            "id": event.id,
            "dataset": "posture.alerts",
            "module": PRODUCT,
            "provider": PRODUCT,
            "severity": severity_number(finding.severity),
            "risk_score": finding.risk_score.map(f64::from),
            "reason": event.reason,
            "url": links.finding.as_ref().or(links.pull_request.as_ref()).or(links.dashboard.as_ref()),
        },
        "vulnerability": {
            "id": vulnerability_id.id(),
            "enumeration": vulnerability_id.enumeration(),
            "reference": vulnerability_id.reference(),
            "category": [kind_category(finding.kind)],
            "description": finding.title,
            "severity": severity_caption(finding.severity),
            "scanner": { "vendor": PRODUCT },
        },
        "package": package.map(|p| json!({
            "name": p.name,
            "version": p.version,
            // ECS wants the package type (npm, gem, deb, …): the purl's type says it best.
            "type": p.purl.as_deref().and_then(purl_type).unwrap_or(&p.ecosystem),
        })),
        "file": finding.path.as_ref().map(|path| json!({
            "path": path,
            "name": path.rsplit('/').next(),
        })),
        "rule": {
            "id": finding.rule,
            "name": finding.rule,
        },
        "user": event.actor.as_ref().map(|actor| json!({
            "name": actor.trim_start_matches('@'),
        })),
        "organization": { "name": event.org },
        "labels": {
            "org": event.org,
            "repository": event.repository,
        },
        "observer": {
            "vendor": PRODUCT,
            "product": PRODUCT,
            "version": PRODUCT_VERSION,
        },
        "posture": posture_fields(event),
    }))
}

/// posture's facts ECS has no field for.
fn posture_fields(event: &AlertEvent) -> Value {
    let finding = &event.finding;
    let cwes: Vec<String> = finding.cwes.iter().map(|n| format!("CWE-{n}")).collect();
    json!({
        "repository": event.repository,
        "forge": event.forge,
        "comment": event.comment,
        "until": event.until.map(|d| d.to_string()),
        "previous_severity": event.previous_severity.map(Severity::as_str),
        "finding": {
            "id": finding.id,
            "short_id": finding.short_id,
            "kind": finding.kind.as_str(),
            "severity": finding.severity.as_str(),
            "risk_score": finding.risk_score,
            "tools": finding.tools,
            "advisories": finding.advisories,
            "cwes": cwes,
            "kev": finding.kev,
            "line": finding.line,
            "package": finding.package.as_ref().map(|p| json!({
                "ecosystem": p.ecosystem,
                "purl": p.purl,
                "fixed_in": p.fixed_in,
            })),
            "introduced_commit": finding.introduced_commit,
            "introduced_author": finding.introduced_author,
            "first_detected_at": finding
                .first_detected_at
                .map(|t| t.to_rfc3339_opts(SecondsFormat::Millis, true)),
        },
        "links": event.links,
    })
}

/// The type of a package URL (`pkg:npm/…` → `npm`).
fn purl_type(purl: &str) -> Option<&str> {
    let rest = purl.strip_prefix("pkg:")?;
    let (kind, _) = rest.split_once('/')?;
    (!kind.is_empty()).then_some(kind)
}

#[cfg(test)]
mod tests {
    use chrono::Utc;

    use super::*;
    use crate::alerts::event::AlertKind;

    #[test]
    fn open_findings_alert_and_closed_ones_are_events() {
        let mut event = AlertEvent::sample("acme", Utc::now());
        for kind in AlertKind::ALL {
            event.kind = kind;
            let expected = if kind.closes() { "event" } else { "alert" };
            assert_eq!(ecs(&event)["event"]["kind"], expected, "{kind}");
        }
    }

    #[test]
    fn vulnerability_ids_prefer_cves_and_name_their_scheme() {
        let mut finding = AlertEvent::sample("acme", Utc::now()).finding;
        finding.advisories = vec!["GHSA-xxxx-yyyy-zzzz".into(), "CVE-2024-0001".into()];
        let id = VulnerabilityId::of(&finding);
        assert_eq!(
            (id.id(), id.enumeration()),
            ("CVE-2024-0001".into(), Some("CVE".into()))
        );
        finding.advisories.remove(1);
        let id = VulnerabilityId::of(&finding);
        assert_eq!(id.enumeration().as_deref(), Some("GHSA"));
        assert_eq!(
            id.reference().as_deref(),
            Some("https://github.com/advisories/GHSA-xxxx-yyyy-zzzz")
        );
        finding.advisories.clear();
        finding.cwes.clear();
        assert_eq!(
            VulnerabilityId::of(&finding),
            VulnerabilityId::Rule("POSTURE-TEST")
        );
        assert_eq!(purl_type("pkg:deb/debian/openssl@3"), Some("deb"));
    }
}
