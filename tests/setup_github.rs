//! The GitHub App manifest flow end to end, through the real routes: `GET /setup/github`
//! (served only to holders of `POSTURE_SETUP_TOKEN`), GitHub's redirect to
//! `GET /setup/github/callback`, the code exchanged with a wiremock GitHub, the credentials
//! stored encrypted with `POSTURE_SECRET_KEY`, and the server using the App at once and after
//! a restart; in process (on SQLite and PostgreSQL: `POSTURE_TEST_DATABASE_URL`, default
//! `postgres://postgres@127.0.0.1:5432/test`, in a schema of its own dropped afterwards) and
//! as a `posture serve` process.

mod common;

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use hmac::{Hmac, Mac};
use http_body_util::BodyExt;
use octocrab::jsonwebtoken::{Algorithm, DecodingKey, Validation, decode};
use octocrab::secrecy::ExposeSecret;
use serde_json::{Value, json};
use sha2::Sha256;
use sqlx::Connection;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use tempfile::TempDir;
use tower::ServiceExt;
use wiremock::matchers::{header_exists, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use posture::forge::github::{GitHubClient, GitHubConfig, GitHubCredentials};
use posture::jobs::{ForgeProvider, Forges};
use posture::server::{self, AppState, Metrics, StoreIntake, WebhookSecrets};
use posture::setup::{CryptoError, SecretKey, Setup, SetupConfig};
use posture::store::{Forge, Store};

const TOKEN: &str = "setup-token-0123456789abcdef";
const PUBLIC_URL: &str = "https://posture.example.test";
const CODE: &str = "a180b1a3d263c81bc6e9";
const APP_ID: u64 = 1_234_567;
const APP_NAME: &str = "posture-acme";
const WEBHOOK_SECRET: &str = "e340154128314309424b7c8e90325147d99fdafa";
const CLIENT_SECRET: &str = "1726be1638095a19edd134c77bde3aa2ece1e5d8";

/// Base64 of 32 bytes, as `openssl rand -base64 32` prints one.
fn key_text(byte: u8) -> String {
    STANDARD.encode([byte; 32])
}

fn pem() -> String {
    std::fs::read_to_string(common::fixture("github/test-app-key.pem")).unwrap()
}

/// The body of the PEM: what must never be found in the database in clear.
fn pem_body_lines() -> Vec<String> {
    pem()
        .lines()
        .filter(|line| !line.starts_with("-----"))
        .map(str::to_owned)
        .collect()
}

/// What GitHub answers to `POST /app-manifests/{code}/conversions` (201).
fn conversion(pem: &str) -> Value {
    json!({
        "id": APP_ID,
        "slug": APP_NAME,
        "node_id": "A_kwHOAAsdfasdf",
        "client_id": "Iv23liAbCdEf012345",
        "owner": {
            "login": "acme",
            "id": 1,
            "node_id": "MDEyOk9yZ2FuaXphdGlvbjE=",
            "url": "https://api.github.com/users/acme",
            "html_url": "https://github.com/acme",
            "type": "Organization",
            "site_admin": false
        },
        "name": APP_NAME,
        "description": "Diff-aware, de-duplicated, prioritised security review of pull requests from your scanners' reports.",
        "external_url": PUBLIC_URL,
        "html_url": format!("https://github.com/apps/{APP_NAME}"),
        "created_at": "2025-06-01T10:00:00Z",
        "updated_at": "2025-06-01T10:00:00Z",
        "permissions": {
            "actions": "read", "checks": "write", "contents": "read", "metadata": "read",
            "pull_requests": "write", "statuses": "write"
        },
        "events": ["check_suite", "issue_comment", "pull_request", "push", "workflow_run"],
        "installations_count": 0,
        "client_secret": CLIENT_SECRET,
        "webhook_secret": WEBHOOK_SECRET,
        "pem": pem
    })
}

fn config(vars: &[(&str, &str)]) -> SetupConfig {
    try_config(vars).unwrap()
}

fn try_config(vars: &[(&str, &str)]) -> Result<SetupConfig, posture::setup::SetupError> {
    let vars: HashMap<String, String> = vars
        .iter()
        .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
        .collect();
    SetupConfig::from_vars(|name| vars.get(name).cloned())
}

/// Setup on, GitHub's API at `api_url`, encrypting with `key`.
fn setup_config(api_url: &str, key: &str) -> SetupConfig {
    config(&[
        ("POSTURE_SETUP_TOKEN", TOKEN),
        ("POSTURE_PUBLIC_URL", PUBLIC_URL),
        ("POSTURE_SECRET_KEY", key),
        ("POSTURE_GITHUB_API_URL", api_url),
    ])
}

// ---------------------------------------------------------------------------------------
// Databases

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Backend {
    Sqlite,
    Postgres,
}

/// A migrated, empty store, and what keeps it alive.
struct Db {
    store: Store,
    dir: Option<TempDir>,
    /// The PostgreSQL schema to drop when done.
    schema: Option<String>,
}

impl Db {
    async fn new(backend: Backend) -> Db {
        match backend {
            Backend::Sqlite => {
                let dir = TempDir::new().unwrap();
                let url = format!("sqlite://{}", dir.path().join("posture.db").display());
                let store = Store::connect(&url).await.unwrap();
                store.migrate().await.unwrap();
                Db {
                    store,
                    dir: Some(dir),
                    schema: None,
                }
            }
            Backend::Postgres => {
                let (schema, url) = common::postgres::create_schema("posture_setup").await;
                let db = Db {
                    store: Store::connect(&url).await.unwrap(),
                    dir: None,
                    schema: Some(schema),
                };
                db.store.migrate().await.unwrap();
                db
            }
        }
    }

    /// The sealed columns of the stored GitHub App, read with SQL of our own.
    async fn sealed_columns(&self) -> (Vec<u8>, Vec<u8>) {
        let sql =
            "SELECT private_key, webhook_secret FROM forge_credentials WHERE forge = 'github'";
        match (&self.dir, &self.schema) {
            (Some(dir), _) => {
                let url = format!("sqlite://{}", dir.path().join("posture.db").display());
                let mut connection = sqlx::sqlite::SqliteConnection::connect(&url).await.unwrap();
                let row = sqlx::query_as(sql)
                    .fetch_one(&mut connection)
                    .await
                    .unwrap();
                connection.close().await.unwrap();
                row
            }
            (None, Some(schema)) => {
                let pool = PgPoolOptions::new()
                    .max_connections(1)
                    .connect_with(
                        PgConnectOptions::from_str(&common::postgres::url())
                            .unwrap()
                            .options([("search_path", schema.as_str())]),
                    )
                    .await
                    .unwrap();
                let row = sqlx::query_as(sql).fetch_one(&pool).await.unwrap();
                pool.close().await;
                row
            }
            (None, None) => unreachable!(),
        }
    }

    /// Every byte SQLite keeps: the database file and its journals.
    fn sqlite_bytes(&self) -> Option<Vec<u8>> {
        let dir = self.dir.as_ref()?;
        let mut bytes = Vec::new();
        for entry in std::fs::read_dir(dir.path()).unwrap() {
            let entry = entry.unwrap();
            if entry
                .file_name()
                .to_string_lossy()
                .starts_with("posture.db")
            {
                bytes.extend(std::fs::read(entry.path()).unwrap());
            }
        }
        Some(bytes)
    }
}

impl Drop for Db {
    fn drop(&mut self) {
        let Some(schema) = self.schema.take() else {
            return;
        };
        common::postgres::drop_schema(schema);
    }
}

// ---------------------------------------------------------------------------------------
// The server in process

/// The server's routes with the setup routes merged, as `posture serve` makes them.
struct App {
    router: Router,
    setup: Setup,
    forges: Forges,
}

async fn app(store: &Store, config: SetupConfig) -> App {
    app_with(store, config, WebhookSecrets::default(), Forges::default())
        .await
        .unwrap()
}

async fn app_with(
    store: &Store,
    config: SetupConfig,
    secrets: WebhookSecrets,
    mut forges: Forges,
) -> Result<App, posture::setup::SetupError> {
    let setup = Setup::start(store, config, &secrets, &mut forges).await?;
    let intake = StoreIntake {
        store: store.clone(),
        wake: Arc::new(tokio::sync::Notify::new()),
    };
    let state = AppState::new(intake, secrets, Metrics::install().unwrap());
    Ok(App {
        router: server::router(state).merge(setup.router()),
        setup,
        forges,
    })
}

struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: String,
}

async fn send(router: &Router, request: Request<Body>) -> Answer {
    let response = router.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    Answer {
        status,
        headers,
        body: String::from_utf8(body.to_vec()).unwrap(),
    }
}

async fn get(router: &Router, uri: &str) -> Answer {
    send(router, Request::get(uri).body(Body::empty()).unwrap()).await
}

fn sign(secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// A `ping` delivery signed with `secret`: 200 when the server trusts the secret, 401 if not.
fn ping(secret: &str) -> Request<Body> {
    let body = std::fs::read(common::fixture("github/ping_with-app_id.json")).unwrap();
    Request::post("/webhooks/github")
        .header("content-type", "application/json")
        .header("x-github-event", "ping")
        .header("x-github-delivery", uuid_like())
        .header("x-hub-signature-256", sign(secret, &body))
        .body(Body::from(body))
        .unwrap()
}

fn uuid_like() -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    format!(
        "0000-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// Undoes the page's escaping.
fn unescape(text: &str) -> String {
    text.replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// The value of the first `NAME="…"` after `after` in `html`.
fn attribute<'a>(html: &'a str, after: &str, name: &str) -> &'a str {
    let start = html
        .find(after)
        .unwrap_or_else(|| panic!("no {after} in {html}"));
    let rest = &html[start..];
    let marker = format!("{name}=\"");
    let value = &rest[rest.find(&marker).unwrap() + marker.len()..];
    &value[..value.find('"').unwrap()]
}

/// The setup page's form: where it posts, and the manifest it carries.
struct Form {
    action: String,
    manifest: Value,
    state: String,
}

fn form(html: &str) -> Form {
    assert_eq!(attribute(html, "<form", "method"), "post");
    let action = unescape(attribute(html, "<form", "action"));
    assert_eq!(attribute(html, "<input", "type"), "hidden");
    assert_eq!(attribute(html, "<input", "name"), "manifest");
    let manifest = serde_json::from_str(&unescape(attribute(html, "<input", "value"))).unwrap();
    let state = url::Url::parse(&action)
        .unwrap()
        .query_pairs()
        .find(|(name, _)| name == "state")
        .map(|(_, value)| value.into_owned())
        .unwrap();
    Form {
        action,
        manifest,
        state,
    }
}

/// A state from the setup page of `router`.
async fn issued_state(router: &Router) -> String {
    let page = get(router, &format!("/setup/github?token={TOKEN}")).await;
    assert_eq!(page.status, StatusCode::OK);
    form(&page.body).state
}

// ---------------------------------------------------------------------------------------
// The page

#[tokio::test]
async fn the_setup_routes_are_404_to_anyone_without_the_token() {
    let db = Db::new(Backend::Sqlite).await;
    let key = key_text(1);
    // POSTURE_SETUP_TOKEN unset: no setup at all, even with the token that would be right.
    let off = app(
        &db.store,
        config(&[
            ("POSTURE_SECRET_KEY", &key),
            ("POSTURE_PUBLIC_URL", PUBLIC_URL),
        ]),
    )
    .await;
    for uri in [
        format!("/setup/github?token={TOKEN}"),
        "/setup/github".to_owned(),
        format!("/setup/github/callback?code={CODE}&state=v1.1.2.3"),
    ] {
        let answer = get(&off.router, &uri).await;
        assert_eq!(answer.status, StatusCode::NOT_FOUND, "{uri}");
        assert!(answer.body.is_empty());
    }
    let bearer = Request::get("/setup/github")
        .header("authorization", format!("Bearer {TOKEN}"))
        .body(Body::empty())
        .unwrap();
    assert_eq!(
        send(&off.router, bearer).await.status,
        StatusCode::NOT_FOUND
    );

    // Set: only the token opens the page.
    let on = app(&db.store, setup_config("https://api.github.com", &key)).await;
    for uri in [
        "/setup/github",
        "/setup/github?token=",
        "/setup/github?token=setup-token-0123456789abcdeF",
        "/setup/github?token=setup-token-0123456789abcde",
        "/setup/github?tokens=setup-token-0123456789abcdef",
        "/setup/github?org=acme",
    ] {
        let answer = get(&on.router, uri).await;
        assert_eq!(answer.status, StatusCode::NOT_FOUND, "{uri}");
        assert!(answer.body.is_empty(), "{uri}");
    }
    for authorization in ["Bearer wrong-token-0123456789", "Basic c2V0dXA=", TOKEN] {
        let request = Request::get("/setup/github")
            .header("authorization", authorization)
            .body(Body::empty())
            .unwrap();
        assert_eq!(
            send(&on.router, request).await.status,
            StatusCode::NOT_FOUND,
            "{authorization}"
        );
    }
    // Another method is 404 too, not 405: nothing tells the route exists.
    let post = Request::post(format!("/setup/github?token={TOKEN}"))
        .body(Body::empty())
        .unwrap();
    assert_eq!(send(&on.router, post).await.status, StatusCode::NOT_FOUND);
    assert_eq!(
        get(&on.router, &format!("/setup/github?token={TOKEN}"))
            .await
            .status,
        StatusCode::OK
    );
    let bearer = Request::get("/setup/github")
        .header("authorization", format!("Bearer {TOKEN}"))
        .body(Body::empty())
        .unwrap();
    assert_eq!(send(&on.router, bearer).await.status, StatusCode::OK);
}

#[tokio::test]
async fn the_page_posts_the_manifest_with_the_public_url_to_github() {
    let db = Db::new(Backend::Sqlite).await;
    let app = app(
        &db.store,
        setup_config("https://api.github.com", &key_text(1)),
    )
    .await;
    let page = get(&app.router, &format!("/setup/github?token={TOKEN}")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(page.headers["content-type"], "text/html; charset=utf-8");
    assert_eq!(page.headers["cache-control"], "no-store");
    assert_eq!(page.headers["referrer-policy"], "no-referrer");
    assert!(!page.body.contains("<script"), "no script is needed");
    assert!(
        !page.body.contains(TOKEN),
        "the page does not repeat the token"
    );

    let personal = form(&page.body);
    assert!(
        personal
            .action
            .starts_with("https://github.com/settings/apps/new?state="),
        "{}",
        personal.action
    );
    let manifest = &personal.manifest;
    assert_eq!(manifest["url"], PUBLIC_URL);
    assert_eq!(
        manifest["hook_attributes"]["url"],
        format!("{PUBLIC_URL}/webhooks/github")
    );
    assert_eq!(manifest["hook_attributes"]["active"], true);
    assert_eq!(
        manifest["redirect_url"],
        format!("{PUBLIC_URL}/setup/github/callback")
    );
    // The rest is deploy/github/app-manifest.json's.
    let shipped: Value = serde_json::from_slice(
        &std::fs::read(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("deploy/github/app-manifest.json"),
        )
        .unwrap(),
    )
    .unwrap();
    for field in [
        "name",
        "description",
        "public",
        "default_permissions",
        "default_events",
    ] {
        assert_eq!(manifest[field], shipped[field], "{field}");
    }

    // An organization's App; a name that cannot be one is refused.
    let page = get(
        &app.router,
        &format!("/setup/github?token={TOKEN}&org=acme-corp"),
    )
    .await;
    assert_eq!(page.status, StatusCode::OK);
    let org_form = form(&page.body);
    assert!(
        org_form
            .action
            .starts_with("https://github.com/organizations/acme-corp/settings/apps/new?state=v1."),
        "{}",
        org_form.action
    );
    assert!(page.body.contains("acme-corp"));
    let bad = get(
        &app.router,
        &format!("/setup/github?token={TOKEN}&org=..%2Fsettings"),
    )
    .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);

    // GitHub Enterprise Server: the form posts to the server's own web UI.
    let ghes = self::app(
        &db.store,
        setup_config("https://ghe.example.com/api/v3", &key_text(1)),
    )
    .await;
    let page = get(&ghes.router, &format!("/setup/github?token={TOKEN}")).await;
    assert!(
        form(&page.body)
            .action
            .starts_with("https://ghe.example.com/settings/apps/new?state=")
    );
}

// ---------------------------------------------------------------------------------------
// The callback

async fn mount_conversion(github: &MockServer, expect: u64) {
    Mock::given(method("POST"))
        .and(path(format!("/app-manifests/{CODE}/conversions")))
        .respond_with(ResponseTemplate::new(201).set_body_json(conversion(&pem())))
        .expect(expect)
        .mount(github)
        .await;
}

#[tokio::test]
async fn the_callback_stores_the_app_encrypted_and_the_server_uses_it_on_sqlite() {
    callback_stores_and_uses_the_app(Backend::Sqlite).await;
}

#[tokio::test]
async fn the_callback_stores_the_app_encrypted_and_the_server_uses_it_on_postgres() {
    callback_stores_and_uses_the_app(Backend::Postgres).await;
}

async fn callback_stores_and_uses_the_app(backend: Backend) {
    let db = Db::new(backend).await;
    let github = MockServer::start().await;
    mount_conversion(&github, 1).await;
    #[derive(serde::Deserialize)]
    struct Claims {
        iss: Value,
    }
    Mock::given(method("GET"))
        .and(path("/repos/acme/widgets/installation"))
        .and(header_exists("authorization"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": 42})))
        .mount(&github)
        .await;
    let key = key_text(7);
    let app = app(&db.store, setup_config(&github.uri(), &key)).await;
    assert!(app.setup.github().is_none());
    assert!(
        app.forges.github.is_some(),
        "jobs reach the App once it exists"
    );
    assert_eq!(
        send(&app.router, ping(WEBHOOK_SECRET)).await.status,
        StatusCode::UNAUTHORIZED,
        "no webhook secret yet"
    );

    // The person clicks, GitHub creates the App and sends them back.
    let state = issued_state(&app.router).await;
    let done = get(
        &app.router,
        &format!("/setup/github/callback?code={CODE}&state={state}"),
    )
    .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    assert!(done.body.contains(APP_NAME), "{}", done.body);
    assert!(done.body.contains(&APP_ID.to_string()), "{}", done.body);
    assert!(
        done.body.contains(&format!(
            "href=\"https://github.com/apps/{APP_NAME}/installations/new\""
        )),
        "{}",
        done.body
    );
    assert!(done.body.contains("no restart needed"), "{}", done.body);
    for secret in [WEBHOOK_SECRET, CLIENT_SECRET, CODE, TOKEN, "PRIVATE KEY"] {
        assert!(!done.body.contains(secret), "the page shows {secret}");
    }
    assert!(!done.body.contains(&pem_body_lines()[1]));
    // A replayed redirect is refused (and GitHub not asked again: the mock expects one call).
    let replay = get(
        &app.router,
        &format!("/setup/github/callback?code={CODE}&state={state}"),
    )
    .await;
    assert_eq!(replay.status, StatusCode::NOT_FOUND);

    // Stored sealed: neither the columns nor (SQLite) any byte of the database hold the
    // key or the secret in clear.
    let (sealed_key, sealed_secret) = db.sealed_columns().await;
    assert!(sealed_key.len() > pem().len(), "nonce, ciphertext and tag");
    for sealed in [&sealed_key, &sealed_secret] {
        assert!(!contains(sealed, b"PRIVATE KEY"));
        assert!(!contains(sealed, WEBHOOK_SECRET.as_bytes()));
        for line in pem_body_lines() {
            assert!(!contains(sealed, line.as_bytes()));
        }
    }
    if let Some(bytes) = db.sqlite_bytes() {
        assert!(
            contains(&bytes, APP_NAME.as_bytes()),
            "the file is readable as such"
        );
        for secret in [
            WEBHOOK_SECRET,
            CLIENT_SECRET,
            "PRIVATE KEY",
            &pem_body_lines()[3],
        ] {
            assert!(
                !contains(&bytes, secret.as_bytes()),
                "{secret} in the database file"
            );
        }
    }
    // They open with the key, and only with it.
    let row = db.store.credentials(Forge::GitHub).await.unwrap().unwrap();
    assert_eq!(row.app_id, APP_ID as i64);
    assert_eq!(row.slug, APP_NAME);
    let (opened_pem, opened_secret) =
        posture::setup::open_credentials(&SecretKey::parse(&key).unwrap(), &row).unwrap();
    assert_eq!(opened_pem.expose_secret(), pem());
    assert_eq!(format!("{opened_secret:?}"), "[redacted]");
    let wrong = SecretKey::parse(&key_text(8)).unwrap();
    assert!(matches!(
        posture::setup::open_credentials(&wrong, &row),
        Err(CryptoError::Decrypt { .. })
    ));

    // The running server uses the App at once: its webhooks are trusted, and its client
    // signs with the stored key.
    assert_eq!(
        send(&app.router, ping(WEBHOOK_SECRET)).await.status,
        StatusCode::OK
    );
    assert_eq!(
        send(&app.router, ping("another secret")).await.status,
        StatusCode::UNAUTHORIZED
    );
    let client = app.setup.github().expect("the App's client");
    assert_eq!(client.app_id(), Some(APP_ID));
    assert_eq!(client.installation_id("acme/widgets").await.unwrap(), 42);
    let requests = github.received_requests().await.unwrap();
    let lookup = requests
        .iter()
        .find(|request| request.url.path() == "/repos/acme/widgets/installation")
        .unwrap();
    let jwt = lookup.headers["authorization"]
        .to_str()
        .unwrap()
        .strip_prefix("Bearer ")
        .unwrap()
        .to_owned();
    let public = std::fs::read(common::fixture("github/test-app-key.pub.pem")).unwrap();
    let claims = decode::<Claims>(
        &jwt,
        &DecodingKey::from_rsa_pem(&public).unwrap(),
        &Validation::new(Algorithm::RS256),
    )
    .unwrap()
    .claims;
    assert_eq!(claims.iss.to_string().trim_matches('"'), APP_ID.to_string());
    // The conversion is sent without credentials of any kind.
    let conversion_request = requests
        .iter()
        .find(|request| request.url.path().starts_with("/app-manifests/"))
        .unwrap();
    assert!(!conversion_request.headers.contains_key("authorization"));
    // The workers' provider hands out the App too.
    let provider = app.forges.github.clone().unwrap();
    let job = job_for("acme/widgets");
    assert!(provider.forge_for(&job).await.is_ok());

    // After a restart: the stored App is loaded with the key.
    let restarted = app_with(
        &db.store,
        config(&[
            ("POSTURE_SECRET_KEY", &key),
            ("POSTURE_GITHUB_API_URL", &github.uri()),
        ]),
        WebhookSecrets::default(),
        Forges::default(),
    )
    .await
    .unwrap();
    assert_eq!(restarted.setup.github().unwrap().app_id(), Some(APP_ID));
    assert_eq!(
        send(&restarted.router, ping(WEBHOOK_SECRET)).await.status,
        StatusCode::OK
    );
    // … and cannot be loaded without it, or with another: clear errors, no panic, no value.
    let wrong_key = key_text(9);
    for vars in [vec![], vec![("POSTURE_SECRET_KEY", wrong_key.as_str())]] {
        let error = app_with(
            &db.store,
            config(&vars),
            WebhookSecrets::default(),
            Forges::default(),
        )
        .await
        .err()
        .expect("an error")
        .to_string();
        assert!(error.contains("POSTURE_SECRET_KEY"), "{error}");
        assert!(!error.contains(&wrong_key), "{error}");
    }
    // The environment's credentials win over the stored App.
    let env_client = GitHubClient::new(GitHubConfig::new(
        github.uri(),
        GitHubCredentials::Token("ghp_environment".to_owned().into()),
    ))
    .unwrap();
    let env = app_with(
        &db.store,
        config(&[("POSTURE_SECRET_KEY", &key)]),
        WebhookSecrets::from_values(Some("the environment's secret"), None),
        Forges {
            github: Some(Arc::new(env_client) as Arc<dyn ForgeProvider>),
            gitlab: None,
        },
    )
    .await
    .unwrap();
    assert!(env.setup.github().is_none());
    assert_eq!(
        send(&env.router, ping("the environment's secret"))
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        send(&env.router, ping(WEBHOOK_SECRET)).await.status,
        StatusCode::UNAUTHORIZED
    );
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle)
}

fn job_for(repository: &str) -> posture::store::Job {
    posture::store::Job {
        id: posture::store::JobId(1),
        kind: posture::store::JobKind::Review,
        forge: Forge::GitHub,
        repository: repository.to_owned(),
        pull_request: Some(1),
        head_sha: None,
        delivery_id: None,
        payload: json!({"installation_id": 42}),
        attempts: 1,
    }
}

#[tokio::test]
async fn a_missing_forged_or_altered_state_is_refused() {
    let db = Db::new(Backend::Sqlite).await;
    let github = MockServer::start().await;
    mount_conversion(&github, 0).await;
    let app = app(&db.store, setup_config(&github.uri(), &key_text(1))).await;
    let state = issued_state(&app.router).await;

    // A state from a server with another setup token.
    let other_db = Db::new(Backend::Sqlite).await;
    let other = self::app(
        &other_db.store,
        config(&[
            ("POSTURE_SETUP_TOKEN", "another-setup-token-0123456789"),
            ("POSTURE_PUBLIC_URL", PUBLIC_URL),
            ("POSTURE_SECRET_KEY", &key_text(1)),
        ]),
    )
    .await;
    let page = get(
        &other.router,
        "/setup/github?token=another-setup-token-0123456789",
    )
    .await;
    let foreign = form(&page.body).state;
    let mut altered = state.clone().into_bytes();
    let last = altered.len() - 1;
    altered[last] = if altered[last] == b'0' { b'1' } else { b'0' };
    let altered = String::from_utf8(altered).unwrap();
    let (_, rest) = state.split_once('.').unwrap();
    let (_, rest) = rest.split_once('.').unwrap();
    let extended = format!("v1.99999999999.{rest}");

    for query in [
        format!("code={CODE}"),
        format!("code={CODE}&state="),
        format!("code={CODE}&state={foreign}"),
        format!("code={CODE}&state={altered}"),
        format!("code={CODE}&state={extended}"),
        format!("code={CODE}&state=forged&token={TOKEN}"),
    ] {
        let answer = get(&app.router, &format!("/setup/github/callback?{query}")).await;
        assert_eq!(answer.status, StatusCode::NOT_FOUND, "{query}");
    }
    // The setup token in the URL is not needed (GitHub redirects the browser there) and does
    // not stand in for the state.
    let bearer = Request::get(format!("/setup/github/callback?code={CODE}"))
        .header("authorization", format!("Bearer {TOKEN}"))
        .body(Body::empty())
        .unwrap();
    assert_eq!(
        send(&app.router, bearer).await.status,
        StatusCode::NOT_FOUND
    );
    // A real state without a usable code.
    for query in [
        format!("state={state}"),
        format!("state={state}&code=..%2F..%2Fuser"),
    ] {
        let answer = get(&app.router, &format!("/setup/github/callback?{query}")).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{query}");
    }
    assert!(db.store.credentials(Forge::GitHub).await.unwrap().is_none());
    assert!(app.setup.github().is_none());
    // (The mock's `expect(0)`: GitHub was never asked.)
}

#[tokio::test]
async fn a_code_github_refuses_stores_nothing_and_says_why() {
    let db = Db::new(Backend::Sqlite).await;
    let github = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(format!("/app-manifests/{CODE}/conversions")))
        .respond_with(ResponseTemplate::new(404).set_body_json(json!({
            "message": "Not Found",
            "documentation_url": "https://docs.github.com/rest/apps/apps#create-a-github-app-from-a-manifest"
        })))
        .mount(&github)
        .await;
    Mock::given(method("POST"))
        .and(path("/app-manifests/b280b1a3d263c81bc6e9/conversions"))
        .respond_with(ResponseTemplate::new(422).set_body_json(json!({
            "message": "Validation Failed: Name is already in use",
        })))
        .mount(&github)
        .await;
    Mock::given(method("POST"))
        .and(path("/app-manifests/c380b1a3d263c81bc6e9/conversions"))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({
            "id": "not a number", "pem": pem(), "webhook_secret": WEBHOOK_SECRET
        })))
        .mount(&github)
        .await;
    Mock::given(method("POST"))
        .and(path("/app-manifests/d480b1a3d263c81bc6e9/conversions"))
        .respond_with(ResponseTemplate::new(201).set_body_json(conversion("not a private key")))
        .mount(&github)
        .await;
    let app = app(&db.store, setup_config(&github.uri(), &key_text(1))).await;
    for (code, says) in [
        (CODE, "already used"),
        ("b280b1a3d263c81bc6e9", "Name is already in use"),
        ("c380b1a3d263c81bc6e9", "at `id`"),
        ("d480b1a3d263c81bc6e9", "private key"),
    ] {
        // Each try needs a state of its own.
        let state = issued_state(&app.router).await;
        let answer = get(
            &app.router,
            &format!("/setup/github/callback?code={code}&state={state}"),
        )
        .await;
        assert_eq!(answer.status, StatusCode::BAD_GATEWAY, "{code}");
        let again = get(
            &app.router,
            &format!("/setup/github/callback?code={code}&state={state}"),
        )
        .await;
        assert_eq!(again.status, StatusCode::NOT_FOUND, "{code}: a used state");
        assert!(answer.body.contains(says), "{code}: {}", answer.body);
        for secret in [
            code,
            WEBHOOK_SECRET,
            CLIENT_SECRET,
            "not a number",
            "PRIVATE KEY",
        ] {
            assert!(!answer.body.contains(secret), "{code}: shows {secret}");
        }
    }
    assert!(db.store.credentials(Forge::GitHub).await.unwrap().is_none());
    assert!(app.setup.github().is_none());
    assert_eq!(
        send(&app.router, ping(WEBHOOK_SECRET)).await.status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn an_unreachable_github_leaves_the_callback_to_be_reloaded() {
    let db = Db::new(Backend::Sqlite).await;
    // A port nothing listens on.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let api_url = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let app = app(&db.store, setup_config(&api_url, &key_text(1))).await;
    let state = issued_state(&app.router).await;
    let uri = format!("/setup/github/callback?code={CODE}&state={state}");
    for _ in 0..2 {
        let answer = get(&app.router, &uri).await;
        assert_eq!(answer.status, StatusCode::BAD_GATEWAY);
        assert!(answer.body.contains("Reload this page"), "{}", answer.body);
        assert!(!answer.body.contains(CODE), "{}", answer.body);
    }
    assert!(db.store.credentials(Forge::GitHub).await.unwrap().is_none());
}

#[test]
fn bad_variables_are_errors_naming_the_variable_never_its_value() {
    for (vars, names) in [
        (
            vec![("POSTURE_SECRET_KEY", "aGVsbG8gd29ybGQ=")],
            "POSTURE_SECRET_KEY",
        ),
        (
            vec![("POSTURE_SECRET_KEY", "not base64 !!")],
            "POSTURE_SECRET_KEY",
        ),
        (
            vec![
                ("POSTURE_SETUP_TOKEN", TOKEN),
                ("POSTURE_PUBLIC_URL", PUBLIC_URL),
            ],
            "POSTURE_SECRET_KEY",
        ),
        (
            vec![("POSTURE_SETUP_TOKEN", TOKEN), ("POSTURE_SECRET_KEY", "")],
            "POSTURE_PUBLIC_URL",
        ),
        (
            vec![("POSTURE_SETUP_TOKEN", "too-short")],
            "POSTURE_SETUP_TOKEN",
        ),
        (
            vec![("POSTURE_PUBLIC_URL", "posture.example.test")],
            "POSTURE_PUBLIC_URL",
        ),
    ] {
        let error = try_config(&vars).expect_err("an error").to_string();
        assert!(error.contains(names), "{error}");
        for (_, value) in &vars {
            if value.len() > 3 && *value != PUBLIC_URL {
                assert!(!error.contains(value), "{error} quotes {value}");
            }
        }
    }
    // Base64 of 32 bytes in any alphabet is a key.
    assert!(try_config(&[("POSTURE_SECRET_KEY", &URL_SAFE_NO_PAD.encode([3u8; 32]))]).is_ok());
}

// ---------------------------------------------------------------------------------------
// `posture serve`

const SETUP_VARS: [&str; 9] = [
    "POSTURE_SETUP_TOKEN",
    "POSTURE_PUBLIC_URL",
    "POSTURE_SECRET_KEY",
    "POSTURE_GITHUB_API_URL",
    "POSTURE_GITHUB_APP_ID",
    "POSTURE_GITHUB_PRIVATE_KEY_FILE",
    "POSTURE_GITHUB_TOKEN",
    "POSTURE_GITHUB_WEBHOOK_SECRET",
    "POSTURE_SETTINGS_FILE",
];

fn serve(database: &str, vars: &[(&str, &str)]) -> Command {
    let mut command = Command::new(assert_cmd::cargo::cargo_bin("posture"));
    command.args([
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--database",
        database,
        "--workers",
        "0",
    ]);
    for var in SETUP_VARS {
        command.env_remove(var);
    }
    command.envs(vars.iter().copied());
    command
}

struct Server {
    child: Child,
    base: String,
}

impl Server {
    fn start(database: &str, vars: &[(&str, &str)]) -> Server {
        let mut child = serve(database, vars)
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        let address = loop {
            let line = lines
                .next()
                .expect("the server says where it listens")
                .unwrap();
            if let Some(address) = line.strip_prefix("posture: listening on ") {
                break address.to_owned();
            }
        };
        std::thread::spawn(move || for _ in lines {});
        Server {
            child,
            base: format!("http://{address}"),
        }
    }

    async fn get(&self, path: &str) -> (u16, String) {
        let response = reqwest::get(format!("{}{path}", self.base)).await.unwrap();
        (response.status().as_u16(), response.text().await.unwrap())
    }

    async fn ping(&self, secret: &str) -> u16 {
        let body = std::fs::read(common::fixture("github/ping_with-app_id.json")).unwrap();
        reqwest::Client::new()
            .post(format!("{}/webhooks/github", self.base))
            .header("content-type", "application/json")
            .header("x-github-event", "ping")
            .header("x-github-delivery", uuid_like())
            .header("x-hub-signature-256", sign(secret, &body))
            .body(body)
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test]
async fn posture_serve_creates_the_app_uses_it_and_keeps_it_across_restarts() {
    let dir = TempDir::new().unwrap();
    let database = format!("sqlite://{}", dir.path().join("posture.db").display());
    let github = MockServer::start().await;
    mount_conversion(&github, 1).await;
    let key = key_text(5);
    let api_url = github.uri();
    let setup = [
        ("POSTURE_SETUP_TOKEN", TOKEN),
        ("POSTURE_PUBLIC_URL", PUBLIC_URL),
        ("POSTURE_SECRET_KEY", key.as_str()),
        ("POSTURE_GITHUB_API_URL", api_url.as_str()),
    ];
    let server = Server::start(&database, &setup);
    assert_eq!(server.get("/setup/github").await.0, 404);
    let (status, page) = server.get(&format!("/setup/github?token={TOKEN}")).await;
    assert_eq!(status, 200);
    let page_form = form(&page);
    assert_eq!(
        page_form.manifest["redirect_url"],
        format!("{PUBLIC_URL}/setup/github/callback")
    );
    assert_eq!(server.ping(WEBHOOK_SECRET).await, 401);
    let (status, done) = server
        .get(&format!(
            "/setup/github/callback?code={CODE}&state={}",
            page_form.state
        ))
        .await;
    assert_eq!(status, 200, "{done}");
    assert!(done.contains(&format!(
        "https://github.com/apps/{APP_NAME}/installations/new"
    )));
    assert_eq!(
        server.ping(WEBHOOK_SECRET).await,
        200,
        "used without a restart"
    );
    drop(server);

    // Restarted without the setup token: no setup page, the stored App in use.
    let server = Server::start(
        &database,
        &[
            ("POSTURE_SECRET_KEY", key.as_str()),
            ("POSTURE_GITHUB_API_URL", api_url.as_str()),
        ],
    );
    assert_eq!(
        server.get(&format!("/setup/github?token={TOKEN}")).await.0,
        404
    );
    assert_eq!(server.ping(WEBHOOK_SECRET).await, 200);
    drop(server);

    // Without the key, or with another, posture refuses to start and says which variable.
    let wrong = key_text(6);
    for vars in [vec![], vec![("POSTURE_SECRET_KEY", wrong.as_str())]] {
        let output = serve(&database, &vars).output().unwrap();
        assert!(!output.status.success());
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains("POSTURE_SECRET_KEY"), "{stderr}");
        assert!(!stderr.contains(&wrong), "{stderr}");
    }
}

#[test]
fn posture_serve_refuses_a_bad_or_missing_key_naming_only_the_variable() {
    let dir = TempDir::new().unwrap();
    let database = format!("sqlite://{}", dir.path().join("posture.db").display());
    let bad = "bm90IDMyIGJ5dGVzIG9mIGtleQ==";
    for vars in [
        vec![("POSTURE_SECRET_KEY", bad)],
        vec![
            ("POSTURE_SETUP_TOKEN", TOKEN),
            ("POSTURE_PUBLIC_URL", PUBLIC_URL),
            ("POSTURE_SECRET_KEY", bad),
        ],
        vec![
            ("POSTURE_SETUP_TOKEN", TOKEN),
            ("POSTURE_PUBLIC_URL", PUBLIC_URL),
        ],
    ] {
        let output = serve(&database, &vars).output().unwrap();
        assert!(!output.status.success());
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains("POSTURE_SECRET_KEY"), "{stderr}");
        assert!(!stderr.contains(bad), "{stderr}");
        assert!(!stderr.contains(TOKEN), "{stderr}");
    }
}
