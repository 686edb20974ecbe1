//! The alert payload formats: every alert kind on code, dependency, container, secret and IaC
//! findings rendered as OCSF and validated against the published OCSF schema sources
//! (`fixtures/schemas/ocsf`, through the validator in `common/ocsf.rs`), with the values a
//! SIEM keys on asserted; the ECS rendering's main fields; and broken OCSF events, to show the
//! validator reports what it should.

#[path = "common/ocsf.rs"]
mod ocsf;

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use posture::alerts::format;
use posture::alerts::{AlertEvent, AlertKind, Links, PackageFacts};
use posture::model::{Kind, Severity};
use serde_json::{Value, json};

use ocsf::Schema;

/// The findings the events are about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    /// SAST, with CWEs.
    Code,
    /// SCA, with a CVE, a fix and a KEV entry.
    Dependency,
    /// A distribution package in an image, no fix known.
    Container,
    /// A committed credential, no CWE from the scanner.
    Secret,
    /// An IaC misconfiguration naming no CWE.
    Misconfiguration,
    /// SCA with only a malware advisory and no installed version.
    BareDependency,
}

const SHAPES: [Shape; 6] = [
    Shape::Code,
    Shape::Dependency,
    Shape::Container,
    Shape::Secret,
    Shape::Misconfiguration,
    Shape::BareDependency,
];

fn at() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 3, 4, 5, 6, 7).unwrap() + Duration::milliseconds(89)
}

fn event(shape: Shape, kind: AlertKind) -> AlertEvent {
    let mut event = AlertEvent::sample("acme", at());
    event.id = "evt-4242".into();
    event.kind = kind;
    event.repository = "acme/shop".into();
    event.links = Links {
        pull_request: Some("https://github.com/acme/shop/pull/7".into()),
        finding: Some("https://github.com/acme/shop/blob/abc123/src/search.js#L42".into()),
        dashboard: Some("https://posture.example/acme/shop".into()),
    };
    if kind.is_triage() {
        event.actor = Some("@alice".into());
        event.reason = Some(match kind {
            AlertKind::Accepted => "accepted_risk".into(),
            _ => "false_positive".into(),
        });
        event.comment = Some("only reachable from the admin console".into());
    }
    if matches!(
        kind,
        AlertKind::Accepted
            | AlertKind::AcceptanceExpired
            | AlertKind::AcceptanceExpiring
            | AlertKind::SlaDueSoon
            | AlertKind::SlaBreached
    ) {
        event.until = NaiveDate::from_ymd_opt(2025, 4, 1);
    }
    if kind == AlertKind::SeverityChanged {
        event.previous_severity = Some(Severity::Medium);
    }
    let finding = &mut event.finding;
    finding.id = "a1b2c3d4e5f60718".into();
    finding.short_id = "P-a1b2c3".into();
    finding.first_detected_at = Some(at() - Duration::days(10));
    finding.introduced_commit = Some("abc123".into());
    finding.introduced_author = Some("bob@example.com".into());
    match shape {
        Shape::Code => {
            finding.kind = Kind::Sast;
            finding.title = "Reflected cross-site scripting".into();
            finding.severity = Severity::High;
            finding.risk_score = Some(72);
            finding.rule = "js/reflected-xss".into();
            finding.cwes = vec![79, 116];
            finding.tools = vec!["codeql".into()];
            finding.package = None;
            finding.path = Some("src/routes/search.js".into());
            finding.line = Some(42);
        }
        Shape::Dependency => {
            finding.kind = Kind::Sca;
            finding.title = "lodash: command injection in template".into();
            finding.severity = Severity::Critical;
            finding.risk_score = Some(95);
            finding.rule = "GHSA-35jh-r3h4-6jhm".into();
            finding.cwes = vec![94];
            finding.tools = vec!["osv-scanner".into(), "trivy".into()];
            finding.advisories = vec!["GHSA-35jh-r3h4-6jhm".into(), "CVE-2021-23337".into()];
            finding.kev = true;
            finding.package = Some(PackageFacts {
                ecosystem: "npm".into(),
                name: "lodash".into(),
                version: Some("4.17.20".into()),
                fixed_in: Some("4.17.21".into()),
                purl: Some("pkg:npm/lodash@4.17.20".into()),
            });
            finding.path = Some("package-lock.json".into());
            finding.line = Some(120);
        }
        Shape::Container => {
            finding.kind = Kind::Container;
            finding.title = "openssl: excessive time spent checking DSA keys".into();
            finding.severity = Severity::Medium;
            finding.rule = "CVE-2024-5535".into();
            finding.cwes = Vec::new();
            finding.tools = vec!["grype".into()];
            finding.advisories = vec!["CVE-2024-5535".into()];
            finding.package = Some(PackageFacts {
                ecosystem: "Debian".into(),
                name: "openssl".into(),
                version: Some("3.0.11-1~deb12u1".into()),
                fixed_in: None,
                purl: Some("pkg:deb/debian/openssl@3.0.11-1~deb12u1".into()),
            });
            finding.path = Some("Dockerfile".into());
            finding.line = None;
        }
        Shape::Secret => {
            finding.kind = Kind::Secret;
            finding.title = "AWS access key".into();
            finding.severity = Severity::High;
            finding.rule = "aws-access-token".into();
            finding.cwes = Vec::new();
            finding.tools = vec!["gitleaks".into()];
            finding.package = None;
            finding.path = Some("config/.env.production".into());
            finding.line = Some(3);
        }
        Shape::Misconfiguration => {
            finding.kind = Kind::Iac;
            finding.title = "S3 bucket allows public read".into();
            finding.severity = Severity::Low;
            finding.risk_score = None;
            finding.rule = "CKV_AWS_20".into();
            finding.cwes = Vec::new();
            finding.tools = vec!["checkov".into()];
            finding.package = None;
            finding.path = Some("infra/s3.tf".into());
            finding.line = Some(7);
            finding.first_detected_at = None;
        }
        Shape::BareDependency => {
            finding.kind = Kind::Sca;
            finding.title = "Malicious code in evil-pkg".into();
            finding.severity = Severity::Critical;
            finding.rule = "MAL-2024-1234".into();
            finding.cwes = Vec::new();
            finding.advisories = vec!["MAL-2024-1234".into()];
            finding.package = Some(PackageFacts {
                ecosystem: "npm".into(),
                name: "evil-pkg".into(),
                version: None,
                fixed_in: None,
                purl: None,
            });
            finding.path = None;
            finding.line = None;
        }
    }
    event
}

fn all_events() -> Vec<(String, AlertEvent)> {
    SHAPES
        .into_iter()
        .flat_map(|shape| {
            AlertKind::ALL
                .into_iter()
                .map(move |kind| (format!("{shape:?} {kind}"), event(shape, kind)))
        })
        .collect()
}

/// The OCSF activity each kind is written as.
fn expected_activity(kind: AlertKind) -> i64 {
    match kind {
        AlertKind::Detected | AlertKind::Reintroduced => 1,
        AlertKind::Fixed | AlertKind::Dismissed | AlertKind::Accepted | AlertKind::Approved => 3,
        _ => 2,
    }
}

/// The OCSF finding status each kind leaves.
fn expected_status(kind: AlertKind) -> (i64, &'static str) {
    match kind {
        AlertKind::Detected
        | AlertKind::Reintroduced
        | AlertKind::Rejected
        | AlertKind::Reopened
        | AlertKind::AcceptanceExpired
        | AlertKind::SlaDueSoon
        | AlertKind::SlaBreached => (1, "New"),
        AlertKind::Pending => (2, "In Progress"),
        AlertKind::Dismissed
        | AlertKind::Accepted
        | AlertKind::Approved
        | AlertKind::AcceptanceExpiring => (3, "Suppressed"),
        AlertKind::Fixed => (4, "Resolved"),
        AlertKind::SeverityChanged | AlertKind::PolicyViolation => (0, "Unknown"),
    }
}

#[test]
fn every_kind_and_finding_shape_is_valid_ocsf() {
    let schema = Schema::load();
    let mut failures = Vec::new();
    let events = all_events();
    assert_eq!(events.len(), SHAPES.len() * AlertKind::ALL.len());
    for (label, event) in &events {
        let errors = schema.validate(&format::ocsf(event));
        if !errors.is_empty() {
            failures.push(format!("{label}:\n  {}", errors.join("\n  ")));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn ocsf_classification_lifecycle_and_identity() {
    let schema = Schema::load();
    for (label, event) in all_events() {
        let value = format::ocsf(&event);
        let class_uid = if event.finding.kind.is_dependency() {
            2002
        } else {
            2007
        };
        let activity = expected_activity(event.kind);
        let (status_id, status) = expected_status(event.kind);
        assert_eq!(value["class_uid"], class_uid, "{label}");
        assert_eq!(value["category_uid"], 2, "{label}");
        assert_eq!(value["category_name"], "Findings", "{label}");
        assert_eq!(value["activity_id"], activity, "{label}");
        assert_eq!(value["type_uid"], class_uid * 100 + activity, "{label}");
        assert_eq!(value["status_id"], status_id, "{label}");
        assert_eq!(value["status"], status, "{label}");
        let severity_id = match event.finding.severity {
            Severity::Info => 1,
            Severity::Low => 2,
            Severity::Medium => 3,
            Severity::High => 4,
            Severity::Critical => 5,
        };
        assert_eq!(value["severity_id"], severity_id, "{label}");
        assert_eq!(
            value["time"], 1_741_064_767_089_i64,
            "{label}: milliseconds"
        );
        assert_eq!(value["metadata"]["uid"], "evt-4242", "{label}");
        assert_eq!(value["metadata"]["version"], schema.version(), "{label}");
        assert_eq!(
            value["metadata"]["event_code"],
            event.kind.as_str(),
            "{label}"
        );
        assert_eq!(value["metadata"]["tenant_uid"], "acme", "{label}");
        assert_eq!(value["metadata"]["product"]["name"], "posture", "{label}");
        assert_eq!(value["message"], event.headline(), "{label}");
        assert_eq!(value["finding_info"]["uid"], "a1b2c3d4e5f60718", "{label}");
        assert_eq!(value["finding_info"]["uid_alt"], "P-a1b2c3", "{label}");
        assert_eq!(value["unmapped"]["repository"], "acme/shop", "{label}");
        if event.kind.is_triage() {
            assert_eq!(value["unmapped"]["actor"], "@alice", "{label}");
            assert!(value["status_detail"].is_string(), "{label}");
        }
        // Application Security Posture Findings name the repository as the application.
        if class_uid == 2007 {
            assert_eq!(value["application"]["name"], "acme/shop", "{label}");
            assert_eq!(value["application"]["type"], "GitHub", "{label}");
        } else {
            assert!(value.get("application").is_none(), "{label}");
            assert_eq!(
                value["vulnerabilities"].as_array().unwrap().len(),
                1,
                "{label}"
            );
        }
    }
}

#[test]
fn ocsf_dependency_finding_names_package_cve_and_fix() {
    let value = format::ocsf(&event(Shape::Dependency, AlertKind::Detected));
    let vulnerability = &value["vulnerabilities"][0];
    assert_eq!(
        vulnerability["affected_packages"],
        json!([{
            "name": "lodash",
            "version": "4.17.20",
            "purl": "pkg:npm/lodash@4.17.20",
            "package_manager": "npm",
            "fixed_in_version": "4.17.21",
            "type_id": 1,
            "type": "Application",
        }])
    );
    assert_eq!(vulnerability["cve"]["uid"], "CVE-2021-23337");
    assert_eq!(vulnerability["cve"]["related_cwes"][0]["uid"], "CWE-94");
    assert!(
        vulnerability.get("cwe").is_none(),
        "just one of cve and cwe"
    );
    assert_eq!(vulnerability["is_fix_available"], true);
    assert_eq!(vulnerability["is_exploit_available"], true, "in KEV");
    assert_eq!(
        vulnerability["remediation"]["desc"],
        "Upgrade lodash to 4.17.21 or later."
    );
    assert_eq!(vulnerability["severity"], "critical");
    assert!(vulnerability.get("affected_code").is_none());
    let first_seen = (at() - Duration::days(10)).timestamp_millis();
    assert_eq!(value["finding_info"]["created_time"], first_seen);
    assert_eq!(value["finding_info"]["first_seen_time"], first_seen);
    assert!(value["finding_info"].get("modified_time").is_none());
    assert_eq!(value["finding_info"]["types"], json!(["sca"]));
    assert_eq!(
        value["finding_info"]["data_sources"],
        json!(["osv-scanner", "trivy"])
    );
    assert_eq!(
        value["finding_info"]["src_url"],
        "https://github.com/acme/shop/blob/abc123/src/search.js#L42"
    );
    assert_eq!(
        value["unmapped"]["finding"]["advisories"],
        json!(["GHSA-35jh-r3h4-6jhm", "CVE-2021-23337"])
    );
    assert_eq!(value["type_name"], "Vulnerability Finding: Create");
}

#[test]
fn ocsf_code_and_secret_findings_point_at_the_code() {
    let value = format::ocsf(&event(Shape::Code, AlertKind::Dismissed));
    let vulnerability = &value["vulnerabilities"][0];
    assert_eq!(
        vulnerability["affected_code"],
        json!([{
            "file": {
                "name": "search.js",
                "path": "src/routes/search.js",
                "type_id": 1,
                "type": "Regular File",
            },
            "start_line": 42,
        }])
    );
    assert_eq!(vulnerability["cwe"]["uid"], "CWE-79");
    assert!(vulnerability.get("affected_packages").is_none());
    assert!(vulnerability.get("is_fix_available").is_none());
    assert_eq!(
        value["unmapped"]["finding"]["cwes"],
        json!(["CWE-79", "CWE-116"])
    );
    assert_eq!(value["status_detail"], "false_positive");
    assert_eq!(
        value["finding_info"]["modified_time"],
        at().timestamp_millis()
    );
    assert_eq!(
        value["type_name"],
        "Application Security Posture Finding: Close"
    );

    let secret = format::ocsf(&event(Shape::Secret, AlertKind::Detected));
    assert_eq!(
        secret["vulnerabilities"][0]["cwe"]["uid"], "CWE-798",
        "a secret without a CWE is a hard-coded credential"
    );
    assert_eq!(
        secret["vulnerabilities"][0]["affected_code"][0]["file"]["path"],
        "config/.env.production"
    );
}

#[test]
fn ocsf_findings_without_a_weakness_or_version_keep_their_facts_unmapped() {
    // No CVE and no CWE: no vulnerability object (the schema wants exactly one of them); the
    // repository as application satisfies the class's constraint.
    let iac = format::ocsf(&event(Shape::Misconfiguration, AlertKind::Detected));
    assert!(iac.get("vulnerabilities").is_none());
    assert_eq!(iac["application"]["uid"], "github:acme/shop");
    assert_eq!(iac["unmapped"]["finding"]["path"], "infra/s3.tf");
    assert_eq!(iac["unmapped"]["finding"]["line"], 7);
    assert!(iac["finding_info"].get("created_time").is_none());

    // A dependency always has one: CWE-1395 when its advisories name no CVE nor CWE; a
    // package without a version cannot be an affected package.
    let bare = format::ocsf(&event(Shape::BareDependency, AlertKind::Detected));
    let vulnerability = &bare["vulnerabilities"][0];
    assert_eq!(vulnerability["cwe"]["uid"], "CWE-1395");
    assert!(vulnerability.get("affected_packages").is_none());
    assert_eq!(bare["unmapped"]["finding"]["package"]["name"], "evil-pkg");

    // A distribution package in an image, no fix known.
    let container = format::ocsf(&event(Shape::Container, AlertKind::SlaBreached));
    let vulnerability = &container["vulnerabilities"][0];
    assert_eq!(
        vulnerability["affected_packages"][0]["type"],
        "Operating System"
    );
    assert_eq!(vulnerability["affected_packages"][0]["type_id"], 2);
    assert!(vulnerability.get("is_fix_available").is_none());
    assert!(vulnerability.get("remediation").is_none());
    assert_eq!(container["status_detail"], "SLA breached, due 2025-04-01");
    assert!(container["finding_info"].get("modified_time").is_none());
}

#[test]
fn ecs_main_fields() {
    let value = format::ecs(&event(Shape::Dependency, AlertKind::Detected));
    assert_eq!(value["@timestamp"], "2025-03-04T05:06:07.089Z");
    assert_eq!(value["ecs"]["version"], "8.17.0");
    assert_eq!(
        value["event"],
        json!({
            "kind": "alert",
            "category": ["vulnerability"],
            "type": ["info"],
            "action": "finding.detected",
            "id": "evt-4242",
            "dataset": "posture.alerts",
            "module": "posture",
            "provider": "posture",
            "severity": 5,
            "risk_score": 95.0,
            "url": "https://github.com/acme/shop/blob/abc123/src/search.js#L42",
        })
    );
    assert_eq!(
        value["vulnerability"],
        json!({
            "id": "CVE-2021-23337",
            "enumeration": "CVE",
            "reference": "https://www.cve.org/CVERecord?id=CVE-2021-23337",
            "category": ["Open Source Security"],
            "description": "lodash: command injection in template",
            "severity": "Critical",
            "scanner": {"vendor": "posture"},
        })
    );
    assert_eq!(
        value["package"],
        json!({"name": "lodash", "version": "4.17.20", "type": "npm"})
    );
    assert_eq!(value["file"]["path"], "package-lock.json");
    assert_eq!(value["rule"]["id"], "GHSA-35jh-r3h4-6jhm");
    assert_eq!(value["organization"]["name"], "acme");
    assert_eq!(
        value["labels"],
        json!({"org": "acme", "repository": "acme/shop"})
    );
    assert_eq!(value["observer"]["vendor"], "posture");
    assert_eq!(value["observer"]["product"], "posture");
    assert!(value["observer"]["version"].is_string());
    assert_eq!(
        value["message"],
        event(Shape::Dependency, AlertKind::Detected).headline()
    );
    assert_eq!(value["posture"]["finding"]["id"], "a1b2c3d4e5f60718");
    assert_eq!(
        value["posture"]["finding"]["package"]["fixed_in"],
        "4.17.21"
    );
    assert!(value.get("user").is_none(), "no actor on a detection");
    assert_no_nulls(&value, "");

    let fixed = format::ecs(&event(Shape::Code, AlertKind::Fixed));
    assert_eq!(fixed["event"]["kind"], "event", "nothing left to act on");
    assert_eq!(fixed["event"]["type"], json!(["info"]));
    assert_eq!(fixed["vulnerability"]["id"], "CWE-79");
    assert_eq!(fixed["vulnerability"]["enumeration"], "CWE");
    assert_eq!(
        fixed["file"],
        json!({"path": "src/routes/search.js", "name": "search.js"})
    );
    assert!(fixed.get("package").is_none());

    let dismissed = format::ecs(&event(Shape::Container, AlertKind::Dismissed));
    assert_eq!(dismissed["user"]["name"], "alice");
    assert_eq!(dismissed["event"]["reason"], "false_positive");
    assert_eq!(dismissed["package"]["type"], "deb", "the purl's type");

    let iac = format::ecs(&event(Shape::Misconfiguration, AlertKind::Detected));
    assert_eq!(
        iac["vulnerability"]["id"], "CKV_AWS_20",
        "the rule, lacking an advisory"
    );
    assert!(iac["vulnerability"].get("enumeration").is_none());
}

fn assert_no_nulls(value: &Value, path: &str) {
    match value {
        Value::Null => panic!("{path} is null"),
        Value::Object(map) => map
            .iter()
            .for_each(|(k, v)| assert_no_nulls(v, &format!("{path}.{k}"))),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .for_each(|(i, v)| assert_no_nulls(v, &format!("{path}[{i}]"))),
        _ => {}
    }
}

// The validator itself: a valid event broken one way at a time is reported, at the right
// path, and nothing else is.

fn valid(shape: Shape) -> Value {
    let value = format::ocsf(&event(shape, AlertKind::Detected));
    assert_eq!(Schema::load().validate(&value), Vec::<String>::new());
    value
}

/// `value` with `change` applied has exactly the `expected` problems (path, words).
fn assert_reports(value: &Value, change: impl FnOnce(&mut Value), expected: &[(&str, &str)]) {
    let mut broken = value.clone();
    change(&mut broken);
    let errors = Schema::load().validate(&broken);
    for (path, words) in expected {
        assert!(
            errors
                .iter()
                .any(|e| e.starts_with(&format!("{path}: ")) && e.contains(words)),
            "expected `{path}: …{words}…` among:\n{}",
            errors.join("\n")
        );
    }
    assert_eq!(errors.len(), expected.len(), "{}", errors.join("\n"));
}

fn at_mut<'a>(value: &'a mut Value, pointer: &str) -> &'a mut Value {
    value
        .pointer_mut(pointer)
        .unwrap_or_else(|| panic!("no {pointer}"))
}

fn remove(value: &mut Value, pointer: &str, key: &str) {
    at_mut(value, pointer).as_object_mut().unwrap().remove(key);
}

#[test]
fn validator_reports_missing_required_attributes() {
    let dependency = valid(Shape::Dependency);
    assert_reports(
        &dependency,
        |v| remove(v, "/metadata", "version"),
        &[("metadata.version", "required attribute missing")],
    );
    assert_reports(
        &dependency,
        |v| remove(v, "", "vulnerabilities"),
        &[("vulnerabilities", "required attribute missing")],
    );
    assert_reports(
        &dependency,
        |v| {
            remove(v, "/finding_info", "uid");
            remove(v, "/vulnerabilities/0/affected_packages/0", "version");
        },
        &[
            ("finding_info.uid", "required attribute missing"),
            (
                "vulnerabilities[0].affected_packages[0].version",
                "required attribute missing",
            ),
        ],
    );
}

#[test]
fn validator_reports_wrong_types() {
    let code = valid(Shape::Code);
    assert_reports(
        &code,
        |v| {
            v["time"] = json!("2025-03-04T05:06:07Z");
            v["severity_id"] = json!("high");
            v["finding_info"]["types"] = json!("sast");
            v["vulnerabilities"][0]["affected_code"][0]["start_line"] = json!(4.5);
            v["vulnerabilities"][0]["is_exploit_available"] = json!("yes");
            v["finding_info"]["uid"] = json!(["a1b2c3d4e5f60718"]);
        },
        &[
            ("time", "expected long_t"),
            ("severity_id", "expected integer_t"),
            ("finding_info.types", "expected an array of string_t"),
            (
                "vulnerabilities[0].affected_code[0].start_line",
                "expected integer_t",
            ),
            (
                "vulnerabilities[0].is_exploit_available",
                "expected boolean_t",
            ),
            ("finding_info.uid", "expected string_t, got an array"),
        ],
    );
    assert_reports(
        &code,
        |v| v["metadata"] = json!("posture"),
        &[("metadata", "expected object `metadata`")],
    );
    assert_reports(
        &code,
        |v| v["time"] = json!(at().timestamp()),
        &[("time", "looks like seconds")],
    );
}

#[test]
fn validator_reports_values_outside_enums() {
    let dependency = valid(Shape::Dependency);
    assert_reports(
        &dependency,
        |v| v["status_id"] = json!(42),
        &[("status_id", "not in the enum")],
    );
    assert_reports(
        &dependency,
        |v| v["vulnerabilities"][0]["affected_packages"][0]["type_id"] = json!(7),
        &[(
            "vulnerabilities[0].affected_packages[0].type_id",
            "not in the enum",
        )],
    );
    // An activity the class does not define also breaks type_uid.
    assert_reports(
        &dependency,
        |v| v["activity_id"] = json!(7),
        &[
            ("activity_id", "not in the enum"),
            ("type_uid", "is not class_uid * 100 + activity_id"),
        ],
    );
    assert_reports(
        &dependency,
        |v| {
            v["status"] = json!("Closed");
            v["severity"] = json!("Severe");
        },
        &[
            ("status", "is not the caption of status_id 1"),
            ("severity", "is not the caption of severity_id 5"),
        ],
    );
}

#[test]
fn validator_reports_unknown_and_deprecated_attributes() {
    let dependency = valid(Shape::Dependency);
    assert_reports(
        &dependency,
        |v| {
            v["colour"] = json!("red");
            v["metadata"]["product"]["colour"] = json!("red");
            v["vulnerabilities"][0]["affected_packages"][0]["licence"] = json!("MIT");
        },
        &[
            ("colour", "unknown attribute for `vulnerability_finding`"),
            ("metadata.product.colour", "unknown attribute for `product`"),
            (
                "vulnerabilities[0].affected_packages[0].licence",
                "unknown attribute for `affected_package`",
            ),
        ],
    );
    // `application` is defined for posture findings, not for vulnerability findings.
    assert_reports(
        &dependency,
        |v| v["application"] = json!({"name": "acme/shop"}),
        &[(
            "application",
            "unknown attribute for `vulnerability_finding`",
        )],
    );
    assert_reports(
        &dependency,
        |v| v["vulnerabilities"][0]["fix_available"] = json!(true),
        &[("vulnerabilities[0].fix_available", "deprecated since 1.1.0")],
    );
    // Objects the vendored sources do not define cannot be checked, so they are errors.
    assert_reports(
        &dependency,
        |v| v["finding_info"]["analytic"] = json!({"name": "x"}),
        &[(
            "finding_info.analytic",
            "object `analytic` is not in the vendored schema",
        )],
    );
    // `unmapped` takes anything, but only as an object.
    assert_reports(
        &dependency,
        |v| v["unmapped"]["anything"] = json!({"deep": [1, null, {"x": true}]}),
        &[],
    );
    assert_reports(
        &dependency,
        |v| v["unmapped"] = json!("text"),
        &[("unmapped", "expected an object")],
    );
}

#[test]
fn validator_reports_failed_constraints() {
    let dependency = valid(Shape::Dependency);
    assert_reports(
        &dependency,
        |v| v["vulnerabilities"][0]["cwe"] = json!({"uid": "CWE-94"}),
        &[(
            "vulnerabilities[0]",
            "constraint just_one [advisory, cve, cwe] failed: 2 present",
        )],
    );
    assert_reports(
        &dependency,
        |v| remove(v, "/vulnerabilities/0", "cve"),
        &[(
            "vulnerabilities[0]",
            "just_one [advisory, cve, cwe] failed: 0 present",
        )],
    );
    let code = valid(Shape::Code);
    assert_reports(
        &code,
        |v| {
            remove(v, "", "vulnerabilities");
            remove(v, "", "application");
        },
        &[(
            "(event)",
            "at_least_one [application, compliance, remediation, vulnerabilities] failed",
        )],
    );
}

#[test]
fn validator_checks_the_classification() {
    let code = valid(Shape::Code);
    assert_reports(
        &code,
        |v| {
            v["type_uid"] = json!(200702);
            v["class_name"] = json!("Vulnerability Finding");
            v["category_uid"] = json!(3);
            v["category_name"] = json!("Identity");
            v["type_name"] = json!("Application Security Posture Finding: Update");
        },
        &[
            ("type_uid", "is not class_uid * 100 + activity_id = 200701"),
            (
                "class_name",
                "is not \"Application Security Posture Finding\"",
            ),
            ("category_uid", "is not 2"),
            ("category_name", "is not \"Findings\""),
            (
                "type_name",
                "is not \"Application Security Posture Finding: Create\"",
            ),
        ],
    );
    assert_reports(
        &code,
        |v| v["class_uid"] = json!(2099),
        &[("class_uid", "not the uid of a class")],
    );
    assert_reports(
        &code,
        |v| v["metadata"]["version"] = json!("1.x"),
        &[("metadata.version", "is not a schema version")],
    );
    assert_reports(
        &code,
        |v| v["metadata"]["version"] = json!("99.0.0"),
        &[("metadata.version", "is newer than the schema")],
    );
    assert_reports(&code, |v| v["metadata"]["version"] = json!("1.5.0"), &[]);
}

#[test]
fn validator_checks_profiles_and_derived_types() {
    let code = valid(Shape::Code);
    // `application.region` belongs to the cloud profile.
    assert_reports(
        &code,
        |v| v["application"]["region"] = json!("eu-west-1"),
        &[(
            "application.region",
            "belongs to profile `cloud`, which metadata.profiles omits",
        )],
    );
    assert_reports(
        &code,
        |v| {
            v["application"]["region"] = json!("eu-west-1");
            v["metadata"]["profiles"] = json!(["cloud"]);
        },
        &[],
    );
    // ip_t carries a regex.
    let dependency = valid(Shape::Dependency);
    assert_reports(
        &dependency,
        |v| v["resources"] = json!([{"ip": "not-an-ip", "name": "shop"}]),
        &[("resources[0].ip", "does not match the ip_t pattern")],
    );
    assert_reports(
        &dependency,
        |v| v["resources"] = json!([{"ip": "10.1.2.3", "name": "shop"}]),
        &[],
    );
}
