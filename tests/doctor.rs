//! `posture doctor` and `posture gitlab hook add` as processes, against GitHub and GitLab
//! played by wiremock: what each check says, the exit code, that no secret is ever printed,
//! and the exact webhook GitLab is asked to create.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{Value, json};
use tempfile::TempDir;
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

const GITHUB_TOKEN: &str = "ghp_doctorTestToken0123456789abcdefXYZ";
const GITHUB_SECRET: &str = "whsec-doctor-test-0123456789abcdef";
const GITLAB_TOKEN: &str = "glpat-doctorTestToken-0123456789";
const GITLAB_HOOK_TOKEN: &str = "gitlab-hook-token-0123456789abcdef";
const PUBLIC_URL: &str = "https://posture.example.com";

/// What a run of the binary left.
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    /// The `(symbol, message)` of the check named `name`; panics when there is none.
    fn check(&self, name: &str) -> (&str, &str) {
        self.stdout
            .lines()
            .find_map(|line| {
                let (symbol, rest) = line.split_once(' ')?;
                let (checked, message) = rest.split_once("  ")?;
                (checked.trim_end() == name).then_some((symbol, message.trim_start()))
            })
            .unwrap_or_else(|| panic!("no check {name} in:\n{}", self.stdout))
    }

    /// Asserts that none of `secrets` appears on stdout or stderr.
    fn assert_hides(&self, secrets: &[&str]) {
        for secret in secrets {
            assert!(
                !self.stdout.contains(secret) && !self.stderr.contains(secret),
                "{secret} was printed:\n{}\n{}",
                self.stdout,
                self.stderr
            );
        }
    }
}

/// Runs `posture ARGS` with exactly the variables `env` (nothing inherited).
async fn posture(args: &[&str], env: &[(&str, String)]) -> Run {
    let mut command = Command::new(assert_cmd::cargo::cargo_bin("posture"));
    command.env_clear().args(args);
    for (name, value) in env {
        command.env(name, value);
    }
    let output = tokio::task::spawn_blocking(move || command.output())
        .await
        .unwrap()
        .unwrap();
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8(output.stdout).unwrap(),
        stderr: String::from_utf8(output.stderr).unwrap(),
    }
}

/// A migrated SQLite database in `dir`, as its URL.
async fn migrated_database(dir: &Path) -> String {
    let url = format!("sqlite://{}", dir.join("posture.db").display());
    let store = posture::store::Store::connect(&url).await.unwrap();
    store.migrate().await.unwrap();
    store.close().await;
    url
}

fn fixture(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(path)
}

/// GitHub's `GET /user` for `GITHUB_TOKEN`, as a classic token with these scopes.
async fn github_user(server: &MockServer, scopes: &str) {
    Mock::given(method("GET"))
        .and(path("/user"))
        .and(header("authorization", format!("Bearer {GITHUB_TOKEN}")))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("x-oauth-scopes", scopes)
                .set_body_json(json!({"login": "octo-bot", "id": 1, "type": "User"})),
        )
        .expect(1)
        .mount(server)
        .await;
}

/// The variables of a GitHub token deployment; `secret` adds the webhook secret.
fn github_env(server: &MockServer, secret: bool) -> Vec<(&'static str, String)> {
    let mut env = vec![
        ("POSTURE_GITHUB_TOKEN", GITHUB_TOKEN.to_owned()),
        ("POSTURE_GITHUB_API_URL", server.uri()),
        ("POSTURE_PUBLIC_URL", PUBLIC_URL.to_owned()),
    ];
    if secret {
        env.push(("POSTURE_GITHUB_WEBHOOK_SECRET", GITHUB_SECRET.to_owned()));
    }
    env
}

/// GitLab's `GET /user` and `GET /personal_access_tokens/self` for `GITLAB_TOKEN`.
async fn gitlab_token(server: &MockServer, scopes: &[&str]) {
    Mock::given(method("GET"))
        .and(path("/api/v4/user"))
        .and(header("private-token", GITLAB_TOKEN))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"id": 7, "username": "project_7_bot", "bot": true})),
        )
        .expect(1)
        .mount(server)
        .await;
    let expires = chrono::Utc::now().date_naive() + chrono::Days::new(200);
    Mock::given(method("GET"))
        .and(path("/api/v4/personal_access_tokens/self"))
        .and(header("private-token", GITLAB_TOKEN))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "id": 3, "name": "posture", "revoked": false, "active": true, "user_id": 7,
            "scopes": scopes, "expires_at": expires.to_string(),
        })))
        .expect(1)
        .mount(server)
        .await;
}

fn gitlab_env(server: &MockServer) -> Vec<(&'static str, String)> {
    vec![
        ("POSTURE_GITLAB_TOKEN", GITLAB_TOKEN.to_owned()),
        ("POSTURE_GITLAB_URL", server.uri()),
        ("POSTURE_GITLAB_WEBHOOK_TOKEN", GITLAB_HOOK_TOKEN.to_owned()),
        ("POSTURE_PUBLIC_URL", PUBLIC_URL.to_owned()),
    ]
}

#[tokio::test]
async fn a_good_github_token_passes_and_its_login_is_named() {
    let server = MockServer::start().await;
    github_user(&server, "repo, read:org").await;
    let dir = TempDir::new().unwrap();
    let database = migrated_database(dir.path()).await;
    let run = posture(
        &["doctor", "--database", &database],
        &github_env(&server, true),
    )
    .await;
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let (symbol, message) = run.check("GitHub");
    assert_eq!(symbol, "✓", "{message}");
    assert!(message.contains("octo-bot"), "{message}");
    assert!(
        message.contains("classic; scopes: repo, read:org"),
        "{message}"
    );
    assert_eq!(run.check("GitHub webhook").0, "✓");
    assert_eq!(run.check("database").0, "✓");
    assert_eq!(run.check("public URL").0, "✓");
    assert!(run.stdout.contains("0 failed"), "{}", run.stdout);
    run.assert_hides(&[GITHUB_TOKEN, GITHUB_SECRET]);
}

#[tokio::test]
async fn a_classic_token_without_repo_fails() {
    let server = MockServer::start().await;
    github_user(&server, "read:org, gist").await;
    let dir = TempDir::new().unwrap();
    let database = migrated_database(dir.path()).await;
    let run = posture(
        &["doctor", "--database", &database],
        &github_env(&server, true),
    )
    .await;
    assert_eq!(run.code, 1, "{}", run.stdout);
    let (symbol, message) = run.check("GitHub");
    assert_eq!(symbol, "✗");
    assert!(message.contains("`repo`"), "{message}");
}

#[tokio::test]
async fn a_refused_github_token_fails_and_is_never_printed() {
    let server = MockServer::start().await;
    // A server that echoes the credential back must not make doctor print it.
    Mock::given(method("GET"))
        .and(path("/user"))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({
            "message": format!("Bad credentials: {GITHUB_TOKEN}"),
            "documentation_url": "https://docs.github.com/rest",
        })))
        .expect(1)
        .mount(&server)
        .await;
    let dir = TempDir::new().unwrap();
    let database = migrated_database(dir.path()).await;
    let run = posture(
        &["doctor", "--database", &database],
        &github_env(&server, true),
    )
    .await;
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    let (symbol, message) = run.check("GitHub");
    assert_eq!(symbol, "✗");
    assert!(message.contains("401"), "{message}");
    assert!(message.contains("POSTURE_GITHUB_TOKEN"), "{message}");
    assert!(message.contains("[redacted]"), "{message}");
    run.assert_hides(&[GITHUB_TOKEN, GITHUB_SECRET]);
}

#[tokio::test]
async fn a_missing_webhook_secret_is_flagged() {
    let server = MockServer::start().await;
    github_user(&server, "repo").await;
    let dir = TempDir::new().unwrap();
    let database = migrated_database(dir.path()).await;
    let run = posture(
        &["doctor", "--database", &database],
        &github_env(&server, false),
    )
    .await;
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert_eq!(run.check("GitHub").0, "✓");
    let (symbol, message) = run.check("GitHub webhook");
    assert_eq!(symbol, "✗");
    assert!(
        message.contains("POSTURE_GITHUB_WEBHOOK_SECRET"),
        "{message}"
    );
}

#[tokio::test]
async fn a_gitlab_token_with_the_api_scope_passes() {
    let server = MockServer::start().await;
    gitlab_token(&server, &["api", "read_repository"]).await;
    let dir = TempDir::new().unwrap();
    let database = migrated_database(dir.path()).await;
    let run = posture(&["doctor", "--database", &database], &gitlab_env(&server)).await;
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let (symbol, message) = run.check("GitLab");
    assert_eq!(symbol, "✓");
    assert!(message.contains("@project_7_bot"), "{message}");
    let (symbol, message) = run.check("GitLab token");
    assert_eq!(symbol, "✓", "{message}");
    assert!(message.contains("api, read_repository"), "{message}");
    assert_eq!(run.check("GitLab webhook").0, "✓");
    // GitHub is optional when GitLab is there.
    assert!(run.check("GitHub").1.contains("not configured"));
    run.assert_hides(&[GITLAB_TOKEN, GITLAB_HOOK_TOKEN]);
}

#[tokio::test]
async fn a_gitlab_token_without_the_api_scope_fails() {
    let server = MockServer::start().await;
    gitlab_token(&server, &["read_api", "read_repository"]).await;
    let dir = TempDir::new().unwrap();
    let database = migrated_database(dir.path()).await;
    let run = posture(&["doctor", "--database", &database], &gitlab_env(&server)).await;
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert_eq!(run.check("GitLab").0, "✓");
    let (symbol, message) = run.check("GitLab token");
    assert_eq!(symbol, "✗");
    assert!(message.contains("lacks the `api` scope"), "{message}");
    assert!(message.contains("read_api, read_repository"), "{message}");
    run.assert_hides(&[GITLAB_TOKEN, GITLAB_HOOK_TOKEN]);
}

#[tokio::test]
async fn unknown_variables_are_flagged_and_the_env_file_is_read() {
    let server = MockServer::start().await;
    // The token comes from the file: the mock answers only to it.
    github_user(&server, "repo").await;
    let dir = TempDir::new().unwrap();
    let database = migrated_database(dir.path()).await;
    let file = dir.path().join("posture.env");
    std::fs::write(
        &file,
        format!(
            "# posture\nPOSTURE_GITHUB_TOKEN={GITHUB_TOKEN}\nPOSTURE_GITHUB_API_URL={}\n\
             POSTURE_GITHUB_WEBHOOK_SECRET='{GITHUB_SECRET}'\nPOSTURE_WORKRS=4\n",
            server.uri()
        ),
    )
    .unwrap();
    let run = posture(
        &[
            "doctor",
            "--config",
            file.to_str().unwrap(),
            "--database",
            &database,
        ],
        &[
            ("POSTURE_LISTN", "0.0.0.0:8080".to_owned()),
            ("POSTURE_PUBLIC_URL", PUBLIC_URL.to_owned()),
        ],
    )
    .await;
    // Warnings only.
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let (symbol, message) = run.check("env file");
    assert_eq!(symbol, "✓");
    assert!(message.contains("4 setting(s)"), "{message}");
    let (symbol, message) = run.check("variables");
    assert_eq!(symbol, "!");
    assert!(
        message.contains("POSTURE_LISTN (did you mean POSTURE_LISTEN?)"),
        "{message}"
    );
    assert!(
        message.contains("POSTURE_WORKRS (did you mean POSTURE_WORKERS?)"),
        "{message}"
    );
    assert!(
        !message.contains("0.0.0.0"),
        "values are not shown: {message}"
    );
    assert_eq!(run.check("GitHub").0, "✓");
    assert_eq!(run.check("GitHub webhook").0, "✓");
    run.assert_hides(&[GITHUB_TOKEN, GITHUB_SECRET]);
}

#[tokio::test]
async fn a_broken_env_file_fails_naming_the_line_not_the_value() {
    let dir = TempDir::new().unwrap();
    let database = migrated_database(dir.path()).await;
    let file = dir.path().join("posture.env");
    std::fs::write(
        &file,
        format!("POSTURE_LISTEN=127.0.0.1:8080\nPOSTURE_GITHUB_TOKEN {GITHUB_TOKEN}\n"),
    )
    .unwrap();
    let run = posture(
        &[
            "doctor",
            "--config",
            file.to_str().unwrap(),
            "--database",
            &database,
        ],
        &[],
    )
    .await;
    assert_eq!(run.code, 1, "{}", run.stdout);
    let (symbol, message) = run.check("env file");
    assert_eq!(symbol, "✗");
    assert!(
        message.contains("posture.env:2: expected KEY=VALUE"),
        "{message}"
    );
    // Without any forge, doctor says how to add one.
    let (symbol, message) = run.check("forges");
    assert_eq!(symbol, "!");
    assert!(message.contains("POSTURE_GITLAB_TOKEN"), "{message}");
    run.assert_hides(&[GITHUB_TOKEN]);
}

#[tokio::test]
async fn a_database_without_migrations_says_posture_migrate_and_is_left_alone() {
    let dir = TempDir::new().unwrap();
    let file = dir.path().join("new.db");
    let run = posture(
        &[
            "doctor",
            "--database",
            &format!("sqlite://{}", file.display()),
        ],
        &[("POSTURE_PUBLIC_URL", PUBLIC_URL.to_owned())],
    )
    .await;
    let (symbol, message) = run.check("database");
    assert_eq!(symbol, "!");
    assert!(message.contains("`posture migrate`"), "{message}");
    assert!(!file.exists(), "doctor created the database");
    // From the environment, with a password that is never shown.
    let run = posture(
        &["doctor"],
        &[(
            "POSTURE_DATABASE_URL",
            "mysql://posture:hunter2-db-password@db/posture".to_owned(),
        )],
    )
    .await;
    assert_eq!(run.code, 1);
    let (symbol, message) = run.check("database");
    assert_eq!(symbol, "✗");
    assert!(message.contains("postgres://"), "{message}");
    run.assert_hides(&["hunter2-db-password"]);
    // From the command line, likewise.
    let run = posture(
        &[
            "doctor",
            "--database",
            "mysql://posture:flag-db-password@db/posture",
        ],
        &[],
    )
    .await;
    assert_eq!(run.check("database").0, "✗");
    run.assert_hides(&["flag-db-password"]);
}

#[tokio::test]
async fn a_github_app_names_its_slug_and_counts_installations() {
    let server = MockServer::start().await;
    let public = std::fs::read(fixture("github/test-app-key.pub.pem")).unwrap();
    // Only a JWT signed with the App's key, issued by the App, is answered.
    let signed_by_the_app = move |request: &Request| {
        use octocrab::jsonwebtoken::{Algorithm, DecodingKey, Validation, decode};
        let Some(jwt) = request
            .headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
        else {
            return false;
        };
        let Ok(key) = DecodingKey::from_rsa_pem(&public) else {
            return false;
        };
        decode::<Value>(jwt, &key, &Validation::new(Algorithm::RS256))
            .is_ok_and(|token| token.claims["iss"] == json!(4242))
    };
    Mock::given(method("GET"))
        .and(path("/app"))
        .and(signed_by_the_app.clone())
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "id": 4242, "slug": "posture-test", "html_url": "https://github.com/apps/posture-test",
        })))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/app/installations"))
        .and(signed_by_the_app)
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([
            {"id": 1, "account": {"login": "acme"}},
            {"id": 2, "account": {"login": "octo-org"}},
        ])))
        .expect(1)
        .mount(&server)
        .await;
    let dir = TempDir::new().unwrap();
    let database = migrated_database(dir.path()).await;
    let key = fixture("github/test-app-key.pem");
    let run = posture(
        &["doctor", "--database", &database],
        &[
            ("POSTURE_GITHUB_APP_ID", "4242".to_owned()),
            ("POSTURE_GITHUB_PRIVATE_KEY_FILE", key.display().to_string()),
            ("POSTURE_GITHUB_API_URL", server.uri()),
            ("POSTURE_GITHUB_WEBHOOK_SECRET", GITHUB_SECRET.to_owned()),
            ("POSTURE_PUBLIC_URL", PUBLIC_URL.to_owned()),
        ],
    )
    .await;
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let (symbol, message) = run.check("GitHub");
    assert_eq!(symbol, "✓");
    assert!(message.contains("App posture-test (id 4242)"), "{message}");
    assert!(
        message.contains("2 installation(s): acme, octo-org"),
        "{message}"
    );
    let pem = std::fs::read_to_string(&key).unwrap();
    let key_line = pem.lines().nth(1).unwrap();
    run.assert_hides(&[key_line, GITHUB_SECRET]);
}

/// GitLab's `GET /user`, which the API client asks first.
async fn gitlab_connect(server: &MockServer) {
    Mock::given(method("GET"))
        .and(path("/api/v4/user"))
        .and(header("private-token", GITLAB_TOKEN))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"id": 7, "username": "project_7_bot"})),
        )
        .mount(server)
        .await;
}

/// The project's hooks: none yet, and a create that answers as GitLab does.
async fn project_hooks(server: &MockServer) {
    Mock::given(method("GET"))
        .and(path("/api/v4/projects/group%2Fapp/hooks"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([])))
        .expect(1)
        .mount(server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/v4/projects/group%2Fapp/hooks"))
        .and(header("private-token", GITLAB_TOKEN))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({
            "id": 17, "url": "https://posture.example.com/webhooks/gitlab", "project_id": 3,
            "push_events": true, "merge_requests_events": true, "pipeline_events": true,
            "note_events": true, "enable_ssl_verification": true,
        })))
        .expect(1)
        .mount(server)
        .await;
}

/// The body of the one POST the server received.
async fn posted_body(server: &MockServer) -> Value {
    let posts: Vec<Request> = server
        .received_requests()
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.method == wiremock::http::Method::POST)
        .collect();
    assert_eq!(posts.len(), 1);
    assert_eq!(
        posts[0]
            .headers
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("application/json")
    );
    serde_json::from_slice(&posts[0].body).unwrap()
}

fn hook_env(server: &MockServer) -> Vec<(&'static str, String)> {
    vec![
        ("POSTURE_GITLAB_TOKEN", GITLAB_TOKEN.to_owned()),
        ("POSTURE_GITLAB_URL", server.uri()),
        ("POSTURE_PUBLIC_URL", PUBLIC_URL.to_owned()),
    ]
}

#[tokio::test]
async fn hook_add_creates_the_project_webhook_and_prints_its_token_once() {
    let server = MockServer::start().await;
    gitlab_connect(&server).await;
    project_hooks(&server).await;
    let run = posture(
        &["gitlab", "hook", "add", "--project", "group/app"],
        &hook_env(&server),
    )
    .await;
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let token = run.stdout.trim();
    assert_eq!(run.stdout, format!("{token}\n"), "the token alone");
    assert_eq!(token.len(), 64);
    assert!(token.chars().all(|c| c.is_ascii_hexdigit()), "{token}");
    assert_eq!(
        posted_body(&server).await,
        json!({
            "url": "https://posture.example.com/webhooks/gitlab",
            "token": token,
            "push_events": true,
            "merge_requests_events": true,
            "pipeline_events": true,
            "note_events": true,
            "enable_ssl_verification": true,
        })
    );
    assert!(
        run.stderr.contains("POSTURE_GITLAB_WEBHOOK_TOKEN"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("webhook 17"), "{}", run.stderr);
    assert!(!run.stderr.contains(token), "the token is on stdout only");
    assert!(!run.stderr.contains("Premium"), "{}", run.stderr);
    run.assert_hides(&[GITLAB_TOKEN]);
}

#[tokio::test]
async fn hook_add_reuses_the_webhook_token_already_set() {
    let server = MockServer::start().await;
    gitlab_connect(&server).await;
    project_hooks(&server).await;
    let mut env = hook_env(&server);
    env.push(("POSTURE_GITLAB_WEBHOOK_TOKEN", GITLAB_HOOK_TOKEN.to_owned()));
    let run = posture(
        &[
            "gitlab",
            "hook",
            "add",
            "--project",
            "group/app",
            "--url",
            "https://posture.example.com/",
        ],
        &env,
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let body = posted_body(&server).await;
    assert_eq!(body["token"], GITLAB_HOOK_TOKEN);
    assert_eq!(body["url"], "https://posture.example.com/webhooks/gitlab");
    assert_eq!(run.stdout, "", "nothing new to hand out");
    run.assert_hides(&[GITLAB_TOKEN, GITLAB_HOOK_TOKEN]);
}

#[tokio::test]
async fn hook_add_on_a_group_without_premium_explains_and_fails() {
    let server = MockServer::start().await;
    gitlab_connect(&server).await;
    Mock::given(method("GET"))
        .and(path("/api/v4/groups/acme/hooks"))
        .respond_with(ResponseTemplate::new(404).set_body_json(json!({"message": "404 Not Found"})))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/v4/groups/acme/hooks"))
        .respond_with(ResponseTemplate::new(404).set_body_json(json!({"message": "404 Not Found"})))
        .expect(0)
        .mount(&server)
        .await;
    let run = posture(
        &["gitlab", "hook", "add", "--group", "acme"],
        &hook_env(&server),
    )
    .await;
    assert_ne!(run.code, 0);
    assert!(
        run.stderr
            .contains("group webhooks need GitLab Premium or Ultimate"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("--project"), "{}", run.stderr);
    assert_eq!(run.stdout, "", "no token for a hook that was not made");
    run.assert_hides(&[GITLAB_TOKEN]);
}

#[tokio::test]
async fn hook_add_refuses_a_second_hook_to_the_same_url() {
    let server = MockServer::start().await;
    gitlab_connect(&server).await;
    Mock::given(method("GET"))
        .and(path("/api/v4/projects/42/hooks"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([
            {"id": 5, "url": "https://posture.example.com/webhooks/gitlab"},
        ])))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(201))
        .expect(0)
        .mount(&server)
        .await;
    let run = posture(
        &["gitlab", "hook", "add", "--project", "42"],
        &hook_env(&server),
    )
    .await;
    assert_ne!(run.code, 0);
    assert!(
        run.stderr.contains("already has a webhook"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("(id 5)"), "{}", run.stderr);
    assert_eq!(run.stdout, "");
}
