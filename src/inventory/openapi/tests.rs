//! The API inventory against real documents: the OAI petstore examples (OpenAPI 3.0 YAML,
//! Swagger 2.0 JSON) and swagger-petstore's OpenAPI 3.0 description, all in
//! `fixtures/openapi/` (origins in its SOURCES.txt), and variations of them.

use super::*;
use crate::analyze::correlate::correlate;
use crate::analyze::diff::DiffIndex;
use crate::analyze::identity::ENDPOINT_FINGERPRINT;
use crate::analyze::sources::Sources;
use crate::model::{ChangeSet, ChangeStatus, FileChange, Finding, Hunk, Kind, Severity, Status};

fn fixture(name: &str) -> String {
    let path = format!("{}/fixtures/openapi/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn document(path: &str, text: &str) -> ApiDocument {
    read(path, text).unwrap().expect("an API description")
}

/// Each endpoint as `(method path, line, security)`.
fn summary(document: &ApiDocument) -> Vec<(String, u32, Security)> {
    document
        .endpoints
        .iter()
        .map(|e| {
            (
                format!("{} {}", e.method, e.path),
                e.line,
                e.security.clone(),
            )
        })
        .collect()
}

fn endpoint<'a>(document: &'a ApiDocument, method: HttpMethod, path: &str) -> &'a Endpoint {
    document
        .endpoints
        .iter()
        .find(|e| e.method == method && e.path == path)
        .unwrap_or_else(|| panic!("{method} {path}"))
}

fn required(names: &[&str]) -> Security {
    Security::Required(names.iter().map(|n| n.to_string()).collect())
}

#[test]
fn candidates_are_yaml_and_json_outside_vendored_trees() {
    assert!(is_candidate("api/openapi.yaml"));
    assert!(is_candidate("docs/swagger.JSON"));
    assert!(is_candidate("spec.yml"));
    assert!(!is_candidate("node_modules/pkg/openapi.yaml"));
    assert!(!is_candidate("web/node_modules/x/swagger.json"));
    assert!(!is_candidate("vendor/github.com/x/api.yaml"));
    assert!(!is_candidate("src/main.rs"));
    assert!(!is_candidate("yaml"));
    // A directory merely named like the vendored ones is not one.
    assert!(is_candidate("vendors/api.yaml"));
}

#[test]
fn the_openapi_3_petstore() {
    let doc = document("api/petstore.yaml", &fixture("petstore-3.0.yaml"));
    assert_eq!(doc.file, "api/petstore.yaml");
    assert_eq!(doc.title.as_deref(), Some("Swagger Petstore"));
    assert_eq!(
        doc.servers,
        [Server {
            url: "http://petstore.swagger.io/v1".into(),
            public: Some(true)
        }]
    );
    assert_eq!(
        summary(&doc),
        [
            ("GET /pets".to_string(), 11, Security::None),
            ("POST /pets".to_string(), 42, Security::None),
            ("GET /pets/{petId}".to_string(), 57, Security::None),
        ]
    );
    assert_eq!(doc.endpoints[0].operation_id.as_deref(), Some("listPets"));
    assert!(doc.endpoints.iter().all(|e| e.sensitive_fields.is_empty()));

    let findings = findings(&doc);
    assert_eq!(findings.len(), 3);
    let first = &findings[0];
    assert_eq!(first.kind, Kind::Api);
    assert_eq!(first.tools, ["posture"]);
    assert_eq!(first.rule, "api/no-security");
    // The server is public: high.
    assert_eq!(first.severity, Severity::High);
    assert_eq!(
        first.location.as_ref().and_then(|l| l.lines()),
        Some((11, 11))
    );
    assert_eq!(first.path(), Some("api/petstore.yaml"));
    assert!(first.message.contains("`GET /pets`"), "{}", first.message);
}

#[test]
fn the_swagger_2_petstore_in_json() {
    let doc = document("petstore.json", &fixture("petstore-2.0.json"));
    assert_eq!(doc.title.as_deref(), Some("Swagger Petstore"));
    // host + basePath, with each scheme.
    assert_eq!(
        doc.servers,
        [Server {
            url: "http://petstore.swagger.io/v1".into(),
            public: Some(true)
        }]
    );
    assert_eq!(
        summary(&doc),
        [
            ("GET /pets".to_string(), 23, Security::None),
            ("POST /pets".to_string(), 60, Security::None),
            ("GET /pets/{petId}".to_string(), 80, Security::None),
        ]
    );
    assert_eq!(
        doc.endpoints[2].operation_id.as_deref(),
        Some("showPetById")
    );
}

#[test]
fn the_swagger_petstore_with_operation_security_and_a_user_schema() {
    let doc = document("openapi.yaml", &fixture("swagger-petstore-3.0.yaml"));
    assert_eq!(doc.title.as_deref(), Some("Swagger Petstore - OpenAPI 3.0"));
    // A relative server cannot tell where the API runs.
    assert_eq!(
        doc.servers,
        [Server {
            url: "/v3".into(),
            public: None
        }]
    );
    assert_eq!(doc.endpoints.len(), 19);
    let auth = required(&["petstore_auth"]);
    let expected = [
        (HttpMethod::Post, "/pet", 37, auth.clone()),
        (HttpMethod::Put, "/pet", 72, auth.clone()),
        (
            HttpMethod::Get,
            "/pet/{petId}",
            189,
            required(&["api_key", "petstore_auth"]),
        ),
        (HttpMethod::Delete, "/pet/{petId}", 253, auth.clone()),
        (
            HttpMethod::Get,
            "/store/inventory",
            319,
            required(&["api_key"]),
        ),
        (HttpMethod::Post, "/store/order", 339, Security::None),
        (HttpMethod::Get, "/user/login", 477, Security::None),
        (HttpMethod::Get, "/user/{username}", 531, Security::None),
        (HttpMethod::Delete, "/user/{username}", 587, Security::None),
    ];
    for (method, path, line, security) in expected {
        let e = endpoint(&doc, method, path);
        assert_eq!((e.line, &e.security), (line, &security), "{method} {path}");
    }
    // `User.password` is returned by the user endpoints, through `$ref`s.
    let user = endpoint(&doc, HttpMethod::Get, "/user/{username}");
    assert_eq!(user.sensitive_fields, ["password"]);
    assert_eq!(user.operation_id.as_deref(), Some("getUserByName"));
    // `password` as a login *parameter* is no response field; the response is a string.
    assert!(
        endpoint(&doc, HttpMethod::Get, "/user/login")
            .sensitive_fields
            .is_empty()
    );
    // `PUT /user/{username}` takes a User but returns none.
    assert!(
        endpoint(&doc, HttpMethod::Put, "/user/{username}")
            .sensitive_fields
            .is_empty()
    );

    let findings = findings(&doc);
    let no_security: Vec<&Finding> = findings
        .iter()
        .filter(|f| f.rule == "api/no-security")
        .collect();
    assert_eq!(no_security.len(), 10);
    // No server looks public: medium.
    assert!(no_security.iter().all(|f| f.severity == Severity::Medium));
    let sensitive: Vec<(u32, Severity)> = findings
        .iter()
        .filter(|f| f.rule == "api/sensitive-response")
        .map(|f| (f.location.as_ref().unwrap().start_line.unwrap(), f.severity))
        .collect();
    // POST /user, POST /user/createWithList, GET /user/{username}.
    assert_eq!(
        sensitive,
        [
            (421, Severity::Low),
            (450, Severity::Low),
            (531, Severity::Low)
        ]
    );
    let message = &findings
        .iter()
        .find(|f| f.rule == "api/sensitive-response")
        .unwrap()
        .message;
    assert!(
        message.contains("`password`") && message.contains("review"),
        "{message}"
    );
}

#[test]
fn operation_security_overrides_the_global_one_and_empty_lists_disable_it() {
    let text = fixture("swagger-petstore-3.0.yaml")
        .replacen("servers:\n", "security:\n  - api_key: []\nservers:\n", 1)
        .replacen(
            "      operationId: loginUser\n",
            "      operationId: loginUser\n      security: []\n",
            1,
        )
        .replacen(
            "      operationId: logoutUser\n",
            "      operationId: logoutUser\n      security:\n        - {}\n",
            1,
        );
    let doc = document("openapi.yaml", &text);
    let security = |method, path| endpoint(&doc, method, path).security.clone();
    // Its own requirement replaces the global one rather than adding to it.
    assert_eq!(
        security(HttpMethod::Post, "/pet"),
        required(&["petstore_auth"])
    );
    // Inherited.
    assert_eq!(
        security(HttpMethod::Post, "/store/order"),
        required(&["api_key"])
    );
    assert_eq!(security(HttpMethod::Get, "/user/login"), Security::Disabled);
    assert_eq!(
        security(HttpMethod::Get, "/user/logout"),
        Security::Disabled
    );
    let flagged: Vec<String> = findings(&doc)
        .iter()
        .filter(|f| f.rule == "api/no-security")
        .map(|f| f.fingerprints.get(ENDPOINT_FINGERPRINT).unwrap().clone())
        .collect();
    assert_eq!(flagged, ["GET /user/login", "GET /user/logout"]);

    // A document-wide `security: []` declares nothing; an anonymous alternative keeps the
    // real ones required.
    let text = fixture("petstore-3.0.yaml")
        .replacen("servers:\n", "security: []\nservers:\n", 1)
        .replacen(
            "      operationId: createPets\n",
            "      operationId: createPets\n      security: [{}, {bearer: []}]\n",
            1,
        );
    let doc = document("petstore.yaml", &text);
    assert_eq!(doc.endpoints[0].security, Security::None);
    assert_eq!(doc.endpoints[1].security, required(&["bearer"]));
}

#[test]
fn malformed_documents_are_errors_with_their_position() {
    let broken = fixture("petstore-3.0.yaml").replacen(
        "      summary: Create a pet\n",
        "      summary: [Create a pet\n",
        1,
    );
    let error = read("api/petstore.yaml", &broken).unwrap_err();
    assert!(matches!(error, ApiError::Syntax { .. }), "{error:?}");
    assert_eq!(error.file(), "api/petstore.yaml");
    let (line, _) = error.position().unwrap();
    assert!((43..=45).contains(&line), "{error}");
    assert!(
        error.to_string().starts_with("api/petstore.yaml:"),
        "{error}"
    );

    // A JSON document missing a comma.
    let broken = fixture("petstore-2.0.json").replacen(
        "\"operationId\": \"createPets\",",
        "\"operationId\": \"createPets\"",
        1,
    );
    let error = read("petstore.json", &broken).unwrap_err();
    assert!(matches!(error, ApiError::Syntax { .. }), "{error:?}");
    assert_eq!(error.position().map(|p| p.0), Some(63), "{error}");

    // Valid YAML, not shaped as OpenAPI.
    let error = read("a.yaml", "openapi: 3.0.0\npaths:\n  - /pets\n").unwrap_err();
    assert_eq!(error.position(), Some((3, 3)), "{error}");
    let error = read(
        "a.yaml",
        "openapi: 3.0.0\npaths:\n  /pets:\n    get:\n      security: api_key\n",
    )
    .unwrap_err();
    assert_eq!(error.position(), Some((5, 17)), "{error}");
    assert!(error.to_string().contains("`security`"), "{error}");
}

#[test]
fn size_and_depth_are_bounded() {
    let deep = format!(
        "openapi: 3.0.0\nx: {}{}\n",
        "[".repeat(500),
        "]".repeat(500)
    );
    let error = read("deep.yaml", &deep).unwrap_err();
    assert!(
        matches!(error, ApiError::TooDeep { line: 2, .. }),
        "{error:?}"
    );
    // Block nesting, which the scanner leaves to the tree builder.
    let block: String = (0..300)
        .map(|depth| format!("{}k:\n", " ".repeat(depth)))
        .collect();
    let error = read("deep.yaml", &format!("openapi: 3.0.0\n{block}")).unwrap_err();
    assert_eq!(
        error,
        ApiError::TooDeep {
            file: "deep.yaml".into(),
            // The root mapping opens on line 1; the one too many on line 130, column 129.
            line: tree::MAX_DEPTH as u32 + 2,
            column: tree::MAX_DEPTH as u32 + 1,
            limit: tree::MAX_DEPTH,
        }
    );

    let large = format!(
        "openapi: 3.0.0\ninfo:\n  description: '{}'\n",
        "a".repeat(MAX_BYTES)
    );
    let error = read("large.yaml", &large).unwrap_err();
    assert!(matches!(error, ApiError::TooLarge { .. }), "{error:?}");
    assert!(error.to_string().contains("large.yaml"), "{error}");
    // A large file that merely mentions swagger (a lockfile) is not refused, just skipped.
    let lockfile = format!(
        "{{\"packages\": {{\"node_modules/swagger-ui\": {{\"resolved\": \"{}\"}}}}}}",
        "a".repeat(MAX_BYTES)
    );
    assert_eq!(read("package-lock.json", &lockfile), Ok(None));
}

#[test]
fn other_files_are_not_api_descriptions() {
    let none = |text: &str| read("x.yaml", text).unwrap();
    assert_eq!(none("name: ci\non: push\njobs: {}\n"), None);
    assert_eq!(none("{\"name\": \"pkg\", \"version\": \"1.0.0\"}"), None);
    // A Helm values file with a `swagger` switch.
    assert_eq!(none("swagger:\n  enabled: true\nreplicas: 2\n"), None);
    assert_eq!(none("openapi: true\n"), None);
    // Broken YAML (a template) that does not declare itself an API description.
    assert_eq!(none("swagger: {{ .Values.swagger }}\nports: [\n"), None);
    assert_eq!(none(""), None);
    assert_eq!(none("# openapi\n"), None);
}

fn api_findings(text: &str) -> Vec<Finding> {
    findings(&document("api/petstore.yaml", text))
}

#[test]
fn adding_an_endpoint_above_makes_exactly_one_new_finding() {
    let base_text = fixture("petstore-3.0.yaml");
    let added =
        "  /health:\n    get:\n      responses:\n        '200':\n          description: ok\n";
    let head_text = base_text.replacen("paths:\n", &format!("paths:\n{added}"), 1);
    let base = api_findings(&base_text);
    let head = api_findings(&head_text);
    assert_eq!((base.len(), head.len()), (3, 4));
    // Every line moved down by five.
    assert_eq!(head[1].location.as_ref().unwrap().start_line, Some(16));

    let changes = ChangeSet {
        files: vec![FileChange {
            old_path: Some("api/petstore.yaml".into()),
            new_path: Some("api/petstore.yaml".into()),
            status: ChangeStatus::Modified,
            hunks: vec![Hunk {
                old_start: 9,
                old_lines: 0,
                new_start: 10,
                new_lines: 5,
            }],
            added_lines: (10..15).collect(),
            binary: false,
        }],
        ..ChangeSet::default()
    };
    let mut base_sources = Sources::default();
    base_sources.insert("api/petstore.yaml", base_text);
    let mut head_sources = Sources::default();
    head_sources.insert("api/petstore.yaml", head_text);
    let endpoint = |f: &Finding| f.fingerprints.get(ENDPOINT_FINGERPRINT).cloned();
    let alone = correlate(
        &base,
        &base,
        &DiffIndex::new(&ChangeSet::default()),
        &base_sources,
        &base_sources,
    );
    // With the diff, and without one (a comparison with a stored snapshot): every line
    // of the file moved, and only the endpoint identifies its findings.
    for changes in [changes, ChangeSet::default()] {
        let diff = DiffIndex::new(&changes);
        let matches = correlate(&base, &head, &diff, &base_sources, &head_sources);
        let new: Vec<usize> = matches
            .iter()
            .filter(|m| m.status == Status::New)
            .filter_map(|m| m.head)
            .collect();
        assert_eq!(new, [0], "only GET /health is new");
        assert_eq!(endpoint(&head[0]).as_deref(), Some("GET /health"));
        for m in &matches {
            assert_eq!(m.base.is_some(), m.status == Status::Existing, "{m:?}");
            let (Some(b), Some(h)) = (m.base, m.head) else {
                continue;
            };
            // Paired with the same endpoint, under the id it had before.
            assert_eq!(endpoint(&base[b]), endpoint(&head[h]));
            let before = alone.iter().find(|a| a.head == Some(b)).unwrap();
            assert_eq!(m.id, before.id);
        }
    }
}
