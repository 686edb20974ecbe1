//! OpenVEX as triage-as-code and VEX export: a hand-written OpenVEX document becomes triage
//! decisions that cover the right findings; malformed documents get an error naming the
//! file and JSON path without quoting values, never a panic; exports validate against the
//! published OpenVEX 0.2.0 and CycloneDX 1.6 schemas (kept in fixtures/schemas, offline) and
//! an exported OpenVEX document reads back as the same dismissals.

mod common;

use chrono::{DateTime, NaiveDate, Utc};
use common::schemas::{validate, validate_cyclonedx};
use posture::model::{
    DismissReason, Finding, FindingId, Kind, Location, Package, Triage, TriageSource, TriageState,
    Verdict,
};
use posture::triage::vex::{
    MAX_DOCUMENT_BYTES, Statement, VexError, export_cyclonedx, export_openvex, parse_openvex,
};
use posture::triage::{Subject, TriageBook, TriageRecord};
use proptest::prelude::*;
use serde_json::{Value, json};

const FILE: &str = ".vex/posture.openvex.json";

/// A string that malformed documents carry in the wrong place; no error may repeat it.
const MARKER: &str = "LEAKED-VALUE";

fn date(text: &str) -> NaiveDate {
    text.parse().unwrap()
}

fn time(text: &str) -> DateTime<Utc> {
    text.parse().unwrap()
}

fn dependency(rule: &str, purl: &str) -> Finding {
    let mut finding = Finding::new(Kind::Sca, "osv-scanner", rule);
    finding.package = Package::from_purl(purl).map(Box::new);
    finding
}

fn code(rule: &str, path: &str) -> Finding {
    let mut finding = Finding::new(Kind::Sast, "semgrep", rule);
    finding.location = Some(Location::new(path));
    finding
}

fn document() -> Value {
    json!({
        "@context": "https://openvex.dev/ns/v0.2.0",
        "@id": "https://acme.example/vex/2026-01",
        "author": "security@acme.example",
        "timestamp": "2026-01-10T12:00:00Z",
        "version": 1,
        "statements": [
            {
                "vulnerability": {"name": "CVE-2024-0001", "aliases": ["GHSA-aaaa-bbbb-cccc"]},
                "products": [{"@id": "pkg:npm/lodash"}],
                "status": "not_affected",
                "justification": "vulnerable_code_not_in_execute_path",
                "impact_statement": "only used by the build scripts"
            },
            {
                "vulnerability": {
                    "@id": "https://nvd.nist.gov/vuln/detail/CVE-2024-0002",
                    "name": "CVE-2024-0002"
                },
                "timestamp": "2026-01-11T08:30:00+02:00",
                "products": [{
                    "@id": "pkg:github/acme/app",
                    "subcomponents": [{"@id": "pkg:pypi/requests@2.25.0"}]
                }],
                "status": "affected",
                "action_statement": "upgrade by 2027-01-31, tracked in JIRA-12"
            },
            {
                "vulnerability": {"name": "RUSTSEC-2021-0003"},
                "products": [{"identifiers": {"purl": "pkg:cargo/smallvec@1.6.0"}}],
                "status": "affected",
                "action_statement": "upgrade once the 2.0 series is out",
                "action_statement_timestamp": "2026-06-30T09:00:00Z"
            },
            {
                "vulnerability": {"name": "CVE-2024-0004"},
                "products": [{"@id": "pkg:npm/express"}],
                "status": "affected",
                "action_statement": "upgrade soon"
            },
            {
                "vulnerability": {"name": "CVE-2024-0005"},
                "products": [{"@id": "pkg:npm/express"}],
                "status": "under_investigation"
            },
            {
                "vulnerability": {"name": "CVE-2024-0006"},
                "products": [{"@id": "pkg:npm/express"}],
                "status": "fixed"
            },
            {
                "vulnerability": {"name": "CVE-2024-0007"},
                "products": [{"identifiers": {"cpe23": "cpe:2.3:a:acme:app:1.0:*:*:*:*:*:*:*"}}],
                "status": "not_affected",
                "justification": "component_not_present"
            },
            {
                "vulnerability": {"name": "python.lang.security.audit.eval-detected"},
                "status": "not_affected",
                "impact_statement": "the input is a constant"
            }
        ]
    })
}

fn parse(document: &Value) -> Vec<Statement> {
    parse_openvex(FILE, &serde_json::to_vec(document).unwrap()).unwrap()
}

#[test]
fn openvex_statements_become_dismissals_and_dated_acceptances() {
    let statements = parse(&document());
    assert_eq!(statements.len(), 4, "{statements:#?}");

    let [not_affected, until_text, until_timestamp, code_rule] = &statements[..] else {
        unreachable!()
    };
    assert_eq!(
        not_affected.vulnerabilities,
        ["CVE-2024-0001", "GHSA-AAAA-BBBB-CCCC"]
    );
    assert_eq!(not_affected.products, ["pkg:npm/lodash"]);
    assert_eq!(
        not_affected.triage,
        Triage {
            state: TriageState::Dismissed,
            verdict: Verdict::Dismiss {
                reason: DismissReason::NotAffected
            },
            by: "security@acme.example".into(),
            at: time("2026-01-10T12:00:00Z"),
            comment: Some(
                "vulnerable_code_not_in_execute_path: only used by the build scripts".into()
            ),
            source: TriageSource::Vex {
                document: FILE.into()
            },
        }
    );

    assert_eq!(until_text.triage.state, TriageState::Accepted);
    assert_eq!(
        until_text.triage.verdict,
        Verdict::Accept {
            until: date("2027-01-31")
        }
    );
    assert_eq!(until_text.triage.at, time("2026-01-11T06:30:00Z"));
    assert_eq!(
        until_text.triage.comment.as_deref(),
        Some("upgrade by 2027-01-31, tracked in JIRA-12")
    );
    assert_eq!(
        until_text.products,
        ["pkg:github/acme/app", "pkg:pypi/requests@2.25.0"]
    );

    assert_eq!(until_timestamp.triage.until(), Some(date("2026-06-30")));
    assert_eq!(until_timestamp.products, ["pkg:cargo/smallvec@1.6.0"]);

    assert!(code_rule.products.is_empty());
    assert_eq!(
        code_rule.triage.comment.as_deref(),
        Some("the input is a constant")
    );
}

#[test]
fn statements_cover_the_findings_they_name() {
    let statements = parse(&document());
    let book = TriageBook {
        vex: statements.clone(),
        ..TriageBook::default()
    };
    let covered_by =
        |finding: &Finding| -> Option<usize> { statements.iter().position(|s| s.matches(finding)) };
    let id = FindingId("0123456789abcdef".into());

    // By alias, lower-case, any version of an unversioned product.
    let lodash = dependency("ghsa-aaaa-bbbb-cccc", "pkg:npm/lodash@4.17.20");
    assert_eq!(covered_by(&lodash), Some(0));
    assert_eq!(
        book.for_finding(&id, &[], &lodash).map(|t| t.state),
        Some(TriageState::Dismissed)
    );
    // Another package, or none at all, is not covered by a statement that lists products.
    assert_eq!(
        covered_by(&dependency("CVE-2024-0001", "pkg:npm/lodash-es@4.17.20")),
        None
    );
    assert_eq!(
        covered_by(&code("CVE-2024-0001", "package-lock.json")),
        None
    );
    // A version-pinned subcomponent covers that version only.
    assert_eq!(
        covered_by(&dependency("CVE-2024-0002", "pkg:pypi/requests@2.25.0")),
        Some(1)
    );
    assert_eq!(
        covered_by(&dependency("CVE-2024-0002", "pkg:pypi/requests@2.26.0")),
        None
    );
    assert_eq!(
        covered_by(&dependency("RUSTSEC-2021-0003", "pkg:cargo/smallvec@1.6.0")),
        Some(2)
    );
    // A statement without products covers every finding it names, with or without package.
    let eval = code("python.lang.security.audit.eval-detected", "src/app.py");
    assert_eq!(covered_by(&eval), Some(3));
    assert!(book.for_finding(&id, &[], &eval).is_some());
    // Skipped statements cover nothing.
    assert_eq!(
        covered_by(&dependency("CVE-2024-0004", "pkg:npm/express@4.0.0")),
        None
    );
    assert_eq!(
        covered_by(&dependency("CVE-2024-0005", "pkg:npm/express@4.0.0")),
        None
    );
}

/// The error for `document`, checked to name the file and to quote no value.
fn error_for(document: &[u8]) -> VexError {
    let error = parse_openvex(FILE, document).expect_err("a malformed document is refused");
    let text = error.to_string();
    assert_eq!(error.file(), FILE);
    assert!(text.starts_with(FILE), "{text}");
    assert!(!text.contains(MARKER), "the error quotes a value: {text}");
    error
}

fn shape(document: Value) -> (String, String) {
    match error_for(&serde_json::to_vec(&document).unwrap()) {
        VexError::Shape { path, message, .. } => (path, message),
        other => panic!("expected a shape error, got {other:?}"),
    }
}

fn with_statement(statement: Value) -> Value {
    let mut document = document();
    document["statements"] = json!([statement]);
    document
}

#[test]
fn malformed_documents_name_the_path_and_the_expected_type() {
    let mut doc = document();
    doc["statements"] = json!({ "x": MARKER });
    assert_eq!(
        shape(doc),
        (
            "$.statements".into(),
            "expected an array, found an object".into()
        )
    );

    let mut doc = document();
    doc.as_object_mut().unwrap().remove("statements");
    assert_eq!(
        shape(doc),
        ("$".into(), "missing field `statements`".into())
    );

    let mut doc = document();
    doc["statements"][1]["status"] = json!(MARKER);
    let (path, message) = shape(doc);
    assert_eq!(path, "$.statements[1].status");
    assert!(
        message.starts_with("expected one of `not_affected`, `affected`, `fixed`"),
        "{message}"
    );

    let mut doc = document();
    doc["statements"][0]["status"] = json!(7);
    assert_eq!(shape(doc).1, "expected a string, found an integer");

    let (path, message) = shape(with_statement(json!({
        "vulnerability": {"name": ["CVE-1", MARKER]}, "status": "fixed"
    })));
    assert_eq!(
        (path.as_str(), message.as_str()),
        (
            "$.statements[0].vulnerability.name",
            "expected a string, found an array"
        )
    );

    let (path, message) = shape(with_statement(json!({
        "vulnerability": {"name": "CVE-1"}, "status": "fixed",
        "products": [{"@id": 1.5}]
    })));
    assert_eq!(path, "$.statements[0].products[0][\"@id\"]");
    assert_eq!(message, "expected a string, found a number");

    let (path, message) = shape(with_statement(json!({
        "vulnerability": {"name": "CVE-1"}, "status": "not_affected",
        "justification": MARKER
    })));
    assert_eq!(path, "$.statements[0].justification");
    assert!(message.contains("vulnerable_code_not_present"), "{message}");

    let (path, message) = shape(with_statement(json!({
        "vulnerability": {"aliases": [MARKER]}, "status": "fixed"
    })));
    assert_eq!(path, "$.statements[0].vulnerability");
    assert_eq!(message, "expected a non-empty `name` or `@id`");

    let (path, message) = shape(with_statement(json!({
        "vulnerability": {"name": "CVE-1"}, "status": "affected",
        "action_statement": "x", "action_statement_timestamp": MARKER
    })));
    assert_eq!(path, "$.statements[0].action_statement_timestamp");
    assert_eq!(message, "expected an RFC 3339 date-time");

    let mut doc = document();
    doc["@context"] = json!(format!("https://{MARKER}.example/ns"));
    let (path, message) = shape(doc);
    assert_eq!(path, "$[\"@context\"]");
    assert!(
        message.starts_with("expected an OpenVEX context"),
        "{message}"
    );

    let (path, message) = shape(json!([MARKER]));
    assert_eq!(path, "$");
    assert_eq!(message, "expected an object, found an array");
}

#[test]
fn non_json_and_oversized_documents_are_refused() {
    for bytes in [
        format!("{{\"statements\": [{MARKER}]}}").into_bytes(),
        b"".to_vec(),
        b"\xff\xfe{}".to_vec(),
        br#"{"@context": "https://openvex.dev/ns/v0.2.0", "author": "a"#.to_vec(),
        br#"{"@context": "https://openvex.dev/ns/v0.2.0", "author": "a", "timestamp": "2026-01-01T00:00:00Z", "statements": []} trailing"#.to_vec(),
    ] {
        match error_for(&bytes) {
            VexError::Syntax { position, .. } => {
                assert!(position.starts_with("line "), "{position}")
            }
            other => panic!("expected a syntax error, got {other:?}"),
        }
    }

    // Deep nesting stops at serde_json's recursion limit, not the stack.
    let deep = format!("{{\"x\": {}{}}}", "[".repeat(100_000), "]".repeat(100_000));
    error_for(deep.as_bytes());

    // 5 MiB of otherwise valid JSON is refused unread.
    let mut big = serde_json::to_vec(&document()).unwrap();
    big.pop();
    big.extend_from_slice(b", \"padding\": \"");
    big.resize(5 * 1024 * 1024, b'x');
    big.extend_from_slice(b"\"}");
    assert!(big.len() > MAX_DOCUMENT_BYTES);
    let error = error_for(&big);
    assert!(
        matches!(error, VexError::TooLarge { limit_mib: 4, .. }),
        "{error:?}"
    );
    assert!(error.to_string().contains("4 MiB"), "{error}");

    // Just under the limit is read.
    let mut fits = serde_json::to_vec(&document()).unwrap();
    fits.pop();
    fits.extend_from_slice(b", \"padding\": \"");
    fits.resize(MAX_DOCUMENT_BYTES - 2, b'x');
    fits.extend_from_slice(b"\"}");
    assert_eq!(parse_openvex(FILE, &fits).unwrap().len(), 4);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn parsing_never_panics_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = parse_openvex(FILE, &bytes);
    }

    #[test]
    fn parsing_never_panics_on_edited_documents(
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
    ) {
        let mut bytes = serde_json::to_vec(&document()).unwrap();
        for (index, byte) in edits {
            let at = index.index(bytes.len());
            bytes[at] = byte;
        }
        if let Err(error) = parse_openvex(FILE, &bytes) {
            prop_assert!(error.to_string().starts_with(FILE));
        }
    }
}

fn triage(verdict: Verdict, by: &str, at: &str, comment: Option<&str>) -> Triage {
    Triage {
        state: verdict.state(),
        verdict,
        by: by.into(),
        at: time(at),
        comment: comment.map(str::to_string),
        source: TriageSource::Command {
            pull_request: 7,
            delivery_id: None,
        },
    }
}

fn dismiss(reason: DismissReason) -> Verdict {
    Verdict::Dismiss { reason }
}

fn record(id: &str, finding: &Finding, triage: Triage) -> TriageRecord {
    TriageRecord {
        finding_id: FindingId(id.into()),
        subject: Subject::of(finding),
        triage,
    }
}

fn lodash() -> Finding {
    let mut finding = dependency("GHSA-aaaa-bbbb-cccc", "pkg:npm/lodash@4.17.20");
    finding.advisories = vec![posture::model::Advisory {
        id: "GHSA-aaaa-bbbb-cccc".into(),
        aliases: vec!["CVE-2024-0001".into()],
        ..Default::default()
    }];
    finding
}

/// One record of every kind: each dismissal reason, an acceptance, a pending request and a
/// record that names no vulnerability.
fn records() -> Vec<TriageRecord> {
    let at = "2026-01-15T10:00:00Z";
    let mut pending = triage(
        dismiss(DismissReason::FalsePositive),
        "mallory",
        at,
        Some("pending"),
    );
    pending.state = TriageState::Pending;
    let mut nameless = code("", "src/x.py");
    nameless.rule = String::new();
    vec![
        record(
            "a1",
            &lodash(),
            triage(
                dismiss(DismissReason::FalsePositive),
                "alice",
                at,
                Some("not the affected function"),
            ),
        ),
        record(
            "a2",
            &code(
                "python.lang.security.audit.eval-detected",
                "tests/test_app.py",
            ),
            triage(dismiss(DismissReason::UsedInTests), "bob", at, None),
        ),
        record(
            "a3",
            &dependency("CVE-2024-0002", "pkg:pypi/requests@2.25.0"),
            triage(
                dismiss(DismissReason::NotAffected),
                "alice",
                "2026-01-16T10:00:00Z",
                Some("we never follow redirects"),
            ),
        ),
        record(
            "a4",
            &dependency("CVE-2024-0003", "pkg:maven/org.apache.cxf/cxf-core@3.4.6"),
            triage(
                dismiss(DismissReason::Mitigated),
                "carol",
                at,
                Some("WAF rule 12"),
            ),
        ),
        record(
            "a5",
            &dependency("CVE-2024-0004", "pkg:npm/express@4.0.0"),
            triage(
                dismiss(DismissReason::WontFix),
                "dave",
                at,
                Some("service retired in March"),
            ),
        ),
        record(
            "a6",
            &dependency("RUSTSEC-2021-0003", "pkg:cargo/smallvec@1.6.0"),
            triage(
                Verdict::Accept {
                    until: date("2027-01-31"),
                },
                "erin",
                at,
                Some("upgrade with the next release"),
            ),
        ),
        record("a7", &lodash(), pending),
        record(
            "a8",
            &nameless,
            triage(dismiss(DismissReason::FalsePositive), "x", at, None),
        ),
    ]
}

fn validate_openvex(document: &Value) -> Vec<String> {
    validate("openvex-0.2.0.schema.json", document, &[])
}

#[test]
fn openvex_export_follows_the_schema_and_maps_each_decision() {
    let now = time("2026-02-01T00:00:00Z");
    let document = export_openvex("acme/app", &records(), now);
    let errors = validate_openvex(&document);
    assert!(errors.is_empty(), "{errors:#?}\n{document:#}");

    assert_eq!(document["@context"], "https://openvex.dev/ns/v0.2.0");
    assert_eq!(document["author"], "posture");
    assert_eq!(document["version"], 1);
    assert_eq!(document["timestamp"], "2026-02-01T00:00:00Z");
    let id = document["@id"].as_str().unwrap();
    assert!(id.starts_with("urn:uuid:"), "{id}");
    // The same decisions give the same id, whenever exported; other decisions another.
    let later = export_openvex("acme/app", &records(), time("2026-03-01T00:00:00Z"));
    assert_eq!(later["@id"], document["@id"]);
    assert_ne!(
        export_openvex("acme/other", &records(), now)["@id"],
        document["@id"]
    );

    let statements = document["statements"].as_array().unwrap();
    assert_eq!(statements.len(), 6, "{document:#}");
    let summary: Vec<(&str, &str, &str, Value)> = statements
        .iter()
        .map(|s| {
            (
                s["vulnerability"]["name"].as_str().unwrap(),
                s["products"][0]["@id"].as_str().unwrap(),
                s["status"].as_str().unwrap(),
                s.get("justification")
                    .or_else(|| s.get("action_statement"))
                    .cloned()
                    .unwrap(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            (
                "GHSA-aaaa-bbbb-cccc",
                "pkg:npm/lodash@4.17.20",
                "not_affected",
                json!("vulnerable_code_not_present")
            ),
            (
                "python.lang.security.audit.eval-detected",
                "pkg:generic/acme/app#tests/test_app.py",
                "not_affected",
                json!("vulnerable_code_not_in_execute_path")
            ),
            (
                "CVE-2024-0002",
                "pkg:pypi/requests@2.25.0",
                "not_affected",
                json!("vulnerable_code_not_in_execute_path")
            ),
            (
                "CVE-2024-0003",
                "pkg:maven/org.apache.cxf/cxf-core@3.4.6",
                "not_affected",
                json!("inline_mitigations_already_exist")
            ),
            (
                "CVE-2024-0004",
                "pkg:npm/express@4.0.0",
                "affected",
                json!("will not fix: service retired in March")
            ),
            (
                "RUSTSEC-2021-0003",
                "pkg:cargo/smallvec@1.6.0",
                "affected",
                json!("risk accepted until 2027-01-31: upgrade with the next release")
            ),
        ]
    );
    assert_eq!(
        statements[0]["vulnerability"]["aliases"],
        json!(["CVE-2024-0001"])
    );
    assert_eq!(
        statements[0]["impact_statement"],
        "not the affected function"
    );
    assert_eq!(statements[0]["timestamp"], "2026-01-15T10:00:00Z");
    assert!(
        statements[0]["status_notes"]
            .as_str()
            .unwrap()
            .contains("by alice"),
        "{:#}",
        statements[0]
    );
    assert!(statements[4].get("action_statement_timestamp").is_none());
    assert_eq!(
        statements[5]["action_statement_timestamp"],
        "2026-01-15T10:00:00Z"
    );
}

#[test]
fn the_schemas_do_reject_what_they_should() {
    // The validators are not vacuous: a document without its context, a BOM with an
    // unknown analysis state, fail.
    let mut document = export_openvex("acme/app", &records(), time("2026-02-01T00:00:00Z"));
    document.as_object_mut().unwrap().remove("@context");
    assert!(!validate_openvex(&document).is_empty());
    let mut bom = export_cyclonedx("acme/app", &records(), time("2026-02-01T00:00:00Z"));
    bom["vulnerabilities"][0]["analysis"]["state"] = json!("dismissed");
    assert!(!validate_cyclonedx(&bom).is_empty());
}

#[test]
fn cyclonedx_export_follows_the_schema_and_maps_each_decision() {
    let now = time("2026-02-01T00:00:00Z");
    let bom = export_cyclonedx("acme/app", &records(), now);
    let errors = validate_cyclonedx(&bom);
    assert!(errors.is_empty(), "{errors:#?}\n{bom:#}");

    assert_eq!(bom["bomFormat"], "CycloneDX");
    assert_eq!(bom["specVersion"], "1.6");
    assert_eq!(bom["version"], 1);
    assert_eq!(bom["metadata"]["timestamp"], "2026-02-01T00:00:00Z");
    let serial = bom["serialNumber"].as_str().unwrap();
    assert_eq!(
        export_cyclonedx("acme/app", &records(), now)["serialNumber"],
        serial
    );
    assert_ne!(
        export_cyclonedx("acme/app", &records(), time("2026-02-02T00:00:00Z"))["serialNumber"],
        serial
    );

    let refs: Vec<&str> = bom["components"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["bom-ref"].as_str().unwrap())
        .collect();
    let vulnerabilities = bom["vulnerabilities"].as_array().unwrap();
    assert_eq!(vulnerabilities.len(), 6, "{bom:#}");
    let summary: Vec<(&str, Value, Value, Value)> = vulnerabilities
        .iter()
        .map(|v| {
            let affected = v["affects"][0]["ref"].as_str().unwrap();
            assert!(refs.contains(&affected), "{affected} is a component");
            let analysis = &v["analysis"];
            (
                v["id"].as_str().unwrap(),
                analysis["state"].clone(),
                analysis.get("justification").cloned().unwrap_or_default(),
                analysis.get("response").cloned().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            (
                "GHSA-aaaa-bbbb-cccc",
                json!("false_positive"),
                Value::Null,
                Value::Null
            ),
            (
                "python.lang.security.audit.eval-detected",
                json!("not_affected"),
                json!("code_not_reachable"),
                Value::Null
            ),
            (
                "CVE-2024-0002",
                json!("not_affected"),
                json!("code_not_reachable"),
                Value::Null
            ),
            (
                "CVE-2024-0003",
                json!("not_affected"),
                json!("protected_by_mitigating_control"),
                Value::Null
            ),
            (
                "CVE-2024-0004",
                json!("exploitable"),
                Value::Null,
                json!(["will_not_fix"])
            ),
            (
                "RUSTSEC-2021-0003",
                json!("exploitable"),
                Value::Null,
                Value::Null
            ),
        ]
    );
    assert_eq!(vulnerabilities[0]["source"]["name"], "GitHub Advisories");
    assert_eq!(vulnerabilities[0]["references"][0]["id"], "CVE-2024-0001");
    assert!(
        vulnerabilities[5]["analysis"]["detail"]
            .as_str()
            .unwrap()
            .starts_with("accepted until 2027-01-31 by erin"),
        "{:#}",
        vulnerabilities[5]
    );
    let lodash = bom["components"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["bom-ref"] == "pkg:npm/lodash@4.17.20")
        .unwrap();
    assert_eq!(lodash["type"], "library");
    assert_eq!(lodash["name"], "lodash");
    assert_eq!(lodash["version"], "4.17.20");
}

#[test]
fn exported_openvex_reads_back_as_the_same_decisions() {
    let records = records();
    let document = export_openvex("acme/app", &records, time("2026-02-01T00:00:00Z"));
    let bytes = serde_json::to_vec_pretty(&document).unwrap();
    let statements = parse_openvex("posture.openvex.json", &bytes).unwrap();

    // Four dismissals come back as dismissals; the acceptance as an acceptance with its
    // date; `wont_fix` (affected, no date) is not read back.
    let dismissed: Vec<&Statement> = statements
        .iter()
        .filter(|s| s.triage.state == TriageState::Dismissed)
        .collect();
    assert_eq!(dismissed.len(), 4, "{statements:#?}");
    for statement in &dismissed {
        assert_eq!(
            statement.triage.verdict,
            Verdict::Dismiss {
                reason: DismissReason::NotAffected
            }
        );
        assert_eq!(statement.triage.by, "posture");
        assert_eq!(
            statement.triage.source,
            TriageSource::Vex {
                document: "posture.openvex.json".into()
            }
        );
    }
    assert_eq!(
        dismissed[0].triage.comment.as_deref(),
        Some("vulnerable_code_not_present: not the affected function")
    );
    assert_eq!(dismissed[0].triage.at, time("2026-01-15T10:00:00Z"));
    assert_eq!(dismissed[2].triage.at, time("2026-01-16T10:00:00Z"));
    let accepted: Vec<&Statement> = statements
        .iter()
        .filter(|s| s.triage.state == TriageState::Accepted)
        .collect();
    assert_eq!(accepted.len(), 1);
    assert_eq!(accepted[0].triage.until(), Some(date("2027-01-31")));
    assert_eq!(statements.len(), 5);

    // And they cover the findings they were made about, not their neighbours.
    let covers = |finding: &Finding| statements.iter().any(|s| s.matches(finding));
    assert!(covers(&lodash()));
    assert!(!covers(&dependency(
        "GHSA-aaaa-bbbb-cccc",
        "pkg:npm/lodash@4.17.21"
    )));
    assert!(covers(&code(
        "python.lang.security.audit.eval-detected",
        "tests/test_app.py"
    )));
    assert!(!covers(&code(
        "python.lang.security.audit.eval-detected",
        "src/app.py"
    )));
    assert!(covers(&dependency(
        "CVE-2024-0002",
        "pkg:pypi/requests@2.25.0"
    )));
    assert!(covers(&dependency(
        "RUSTSEC-2021-0003",
        "pkg:cargo/smallvec@1.6.0"
    )));
    assert!(!covers(&dependency(
        "CVE-2024-0004",
        "pkg:npm/express@4.0.0"
    )));
}

/// `posture triage export` reads the decisions a store recorded and writes both formats,
/// each valid against its schema; a repository the store never saw is a clear error.
#[test]
fn triage_export_writes_the_recorded_decisions() {
    use posture::store::{EventSource, Forge, Store, TriageChange};

    let dir = tempfile::TempDir::new().unwrap();
    let url = format!("sqlite://{}", dir.path().join("posture.db").display());
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let store = Store::connect(&url).await.unwrap();
        store.migrate().await.unwrap();
        let project = store
            .upsert_project(Forge::GitHub, "acme/shop", Some("main"))
            .await
            .unwrap();
        for (i, record) in records().into_iter().enumerate() {
            let source = EventSource {
                at: record.triage.at,
                actor: Some(record.triage.by.clone()),
                comment: record.triage.comment.clone(),
                pull_request: Some(7),
                delivery_id: Some(format!("d-{i}")),
            };
            store
                .apply_triage(project, &TriageChange::Decide(Box::new(record)), &source)
                .await
                .unwrap();
        }
        store.close().await;
    });
    let export = |format: &str, repo: &str| {
        assert_cmd::Command::cargo_bin("posture")
            .unwrap()
            .args([
                "triage",
                "export",
                "--database",
                &url,
                "--repo",
                repo,
                "--format",
                format,
            ])
            .output()
            .unwrap()
    };

    let openvex = export("openvex", "acme/shop");
    assert!(openvex.status.success(), "{openvex:?}");
    let document: Value = serde_json::from_slice(&openvex.stdout).unwrap();
    assert_eq!(validate_openvex(&document), Vec::<String>::new());
    let statements = document["statements"].as_array().unwrap();
    assert!(!statements.is_empty());
    // Pending requests are not decisions yet.
    assert!(
        statements
            .iter()
            .all(|s| !s.to_string().contains("mallory")),
        "{document:#}"
    );
    assert!(
        statements
            .iter()
            .any(|s| s["vulnerability"]["name"] == "GHSA-aaaa-bbbb-cccc"),
        "{document:#}"
    );

    let cyclonedx = export("cyclonedx", "acme/shop");
    assert!(cyclonedx.status.success(), "{cyclonedx:?}");
    let bom: Value = serde_json::from_slice(&cyclonedx.stdout).unwrap();
    assert_eq!(validate_cyclonedx(&bom), Vec::<String>::new());
    assert!(!bom["vulnerabilities"].as_array().unwrap().is_empty());

    let unknown = export("openvex", "acme/other");
    assert_eq!(unknown.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&unknown.stderr);
    assert!(
        stderr.contains("github repository acme/other is not in the database"),
        "{stderr}"
    );
}
