//! The dashboard's web layer over plain HTTP (no browser), against a real `posture serve`:
//! the session cookie's flags, the pages' headers, sessions expired, revoked or signed out
//! refused, CSRF and cross-site sign-ins refused, `next` never leaving the site, and another
//! org's pages answering 404. The session lifecycle runs on SQLite and PostgreSQL
//! (`POSTURE_TEST_DATABASE_URL`).

mod common;

use std::path::PathBuf;

use common::org::*;
use common::server::Server;
use posture::store::{NewSession, Store};
use reqwest::header::{HeaderMap, LOCATION, SET_COOKIE};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// Bandit 1.8.6 on a Flask app: seven results, each a finding of its own.
fn bandit() -> PathBuf {
    common::fixture("sarif/bandit_1.8.6_flask.sarif")
}

/// A client that follows no redirect and keeps no cookie: the test reads both itself.
fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .pool_max_idle_per_host(0)
        .build()
        .unwrap()
}

struct Reply {
    status: u16,
    headers: HeaderMap,
    body: String,
}

impl Reply {
    fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .unwrap_or_else(|| panic!("no {name}: {:?}", self.headers))
            .to_str()
            .unwrap()
    }

    /// The session id the answer's cookie gives.
    fn session(&self) -> String {
        let cookie = self.header("set-cookie");
        cookie
            .strip_prefix("posture_session=")
            .and_then(|rest| rest.split(';').next())
            .filter(|id| id.len() == 64)
            .unwrap_or_else(|| panic!("a session cookie: {cookie}"))
            .to_owned()
    }
}

async fn send(request: reqwest::RequestBuilder) -> Reply {
    let response = request.send().await.unwrap();
    Reply {
        status: response.status().as_u16(),
        headers: response.headers().clone(),
        body: response.text().await.unwrap(),
    }
}

/// A seeded server: `acme/shop` scanned, a `read` token of acme's.
struct Site {
    db: Db,
    server: Server,
    reader: Token,
    http: reqwest::Client,
}

impl Site {
    async fn new(backend: Backend, env: &[(&str, &str)]) -> Site {
        let db = Db::new(backend).await;
        let uploader = create_token(&db, "acme", "upload", "ci");
        let reader = create_token(&db, "acme", "read", "security-team");
        let server = start_server_with(&db, env);
        accepted(&upload_cli(
            &server,
            &uploader.secret,
            "acme/shop",
            COMMIT_1,
            &time(seconds_ago(3600)),
            &[&bandit()],
        ));
        Site {
            db,
            server,
            reader,
            http: client(),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.server.base)
    }

    /// `POST /login/token` as the form sends it.
    async fn sign_in_form(&self, fields: &[(&str, &str)], headers: &[(&str, &str)]) -> Reply {
        let mut request = self.http.post(self.url("/login/token")).form(fields);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        send(request).await
    }

    /// Signs in with the reader's token as JSON: the session id and its CSRF token.
    async fn sign_in(&self) -> (String, String) {
        let reply = send(
            self.http
                .post(self.url("/login/token"))
                .json(&json!({"token": self.reader.secret})),
        )
        .await;
        assert_eq!(reply.status, 200, "{}", reply.body);
        let body: Value = serde_json::from_str(&reply.body).unwrap();
        assert_eq!(body["org"], "acme");
        assert_eq!(body["method"], "token");
        assert_eq!(body["actor"], self.reader.actor.as_str());
        (
            reply.session(),
            body["csrf_token"].as_str().unwrap().to_owned(),
        )
    }

    async fn get(&self, path: &str, session: Option<&str>) -> Reply {
        let mut request = self.http.get(self.url(path));
        if let Some(id) = session {
            request = request.header("cookie", format!("posture_session={id}"));
        }
        send(request).await
    }

    async fn logout(&self, session: &str, csrf: Option<&str>) -> Reply {
        let fields: Vec<(&str, &str)> = csrf.map(|c| ("csrf", c)).into_iter().collect();
        send(
            self.http
                .post(self.url("/logout"))
                .header("cookie", format!("posture_session={session}"))
                .form(&fields),
        )
        .await
    }
}

fn assert_strict_headers(reply: &Reply) {
    let csp = reply.header("content-security-policy");
    for directive in [
        "default-src 'none'",
        "style-src 'sha256-",
        "img-src 'self' data:",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
    ] {
        assert!(csp.contains(directive), "{directive} in {csp}");
    }
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    assert_eq!(reply.header("x-content-type-options"), "nosniff");
    assert_eq!(reply.header("referrer-policy"), "same-origin");
    assert_eq!(reply.header("cache-control"), "no-store");
}

fn sha256(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

#[tokio::test]
async fn the_form_sign_in_sets_a_guarded_cookie_and_pages_carry_strict_headers() {
    let site = Site::new(Backend::Sqlite, &[]).await;

    let door = site.get("/", None).await;
    assert_eq!((door.status, door.header("location")), (303, "/login"));
    let login = site.get("/login", None).await;
    assert_eq!(login.status, 200);
    assert!(login.header("content-type").starts_with("text/html"));
    assert!(login.body.contains("type=\"password\"") && !login.body.contains("<script"));
    assert_strict_headers(&login);

    let origin = site.server.base.clone();
    let signed_in = site
        .sign_in_form(
            &[("token", site.reader.secret.as_str())],
            &[("origin", origin.as_str())],
        )
        .await;
    assert_eq!(signed_in.status, 303, "{}", signed_in.body);
    assert_eq!(signed_in.header("location"), "/orgs/acme");
    let cookie = signed_in.header("set-cookie");
    for flag in ["HttpOnly", "SameSite=Lax", "Path=/", "Max-Age=28800"] {
        assert!(cookie.contains(flag), "{flag} in {cookie}");
    }
    assert!(
        !cookie.contains("Secure"),
        "plain http on loopback: {cookie}"
    );
    let session = signed_in.session();
    // Only the session's hash is stored.
    let bytes = site.db.sqlite_bytes();
    let text = String::from_utf8_lossy(&bytes);
    assert!(!text.contains(&session) && text.contains(&sha256(&session)));

    // The page, its headers, and the API with the same cookie give the same figure.
    let page = site.get("/orgs/acme", Some(&session)).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert_strict_headers(&page);
    let api = site.get("/api/v1/orgs/acme/summary", Some(&session)).await;
    assert_eq!(api.status, 200, "{}", api.body);
    let summary: Value = serde_json::from_str(&api.body).unwrap();
    let total = summary["open"]["total"].as_u64().unwrap();
    assert!(total > 0);
    assert!(
        page.body
            .split("data-figure=\"open-findings\"")
            .nth(1)
            .and_then(|rest| rest.split("</a>").next())
            .is_some_and(|figure| figure.contains(&format!("<span class=\"value\">{total}</span>"))),
        "{}",
        page.body
    );

    // The repository's page and the export.
    let repository = site.get("/orgs/acme/repos/shop", Some(&session)).await;
    assert_eq!(repository.status, 200, "{}", repository.body);
    assert_strict_headers(&repository);
    let csv = site
        .get("/orgs/acme/findings?format=csv", Some(&session))
        .await;
    assert_eq!(csv.status, 200, "{}", csv.body);
    assert!(csv.header("content-type").starts_with("text/csv"));
    assert_eq!(csv.header("cache-control"), "no-store");
    assert!(
        csv.body.starts_with("repository,finding_id,severity,"),
        "{}",
        csv.body
    );
    assert_eq!(csv.body.lines().count() as u64, total + 1);

    // Views and the export are audited under the token's name.
    let audit = site.db.audit().await;
    for action in [
        "POST /login/token",
        "GET /orgs/acme",
        "GET /orgs/acme/repos/shop",
        "GET /orgs/acme/findings?format=csv",
        "GET /api/v1/orgs/acme/summary",
    ] {
        assert!(
            audit.iter().any(|a| a.0 == site.reader.actor
                && a.2 == action
                && a.1.as_deref() == Some("acme")),
            "{action} in {audit:?}"
        );
    }
}

#[tokio::test]
async fn behind_tls_the_cookie_is_secure_and_lasts_as_configured() {
    let site = Site::new(
        Backend::Sqlite,
        &[
            ("POSTURE_PUBLIC_URL", "https://posture.example.com"),
            ("POSTURE_SESSION_HOURS", "2"),
        ],
    )
    .await;
    let reply = site
        .sign_in_form(
            &[("token", site.reader.secret.as_str())],
            &[("origin", "https://posture.example.com")],
        )
        .await;
    assert_eq!(reply.status, 303, "{}", reply.body);
    let cookie = reply.header("set-cookie");
    assert!(
        cookie.contains("; Secure") && cookie.contains("Max-Age=7200"),
        "{cookie}"
    );
    // Another origin may not post the form.
    let forged = site
        .sign_in_form(
            &[("token", site.reader.secret.as_str())],
            &[("origin", site.server.base.as_str())],
        )
        .await;
    assert_eq!(forged.status, 403, "{}", forged.body);
    assert!(forged.headers.get(SET_COOKIE).is_none());
}

#[tokio::test]
async fn bad_sign_ins_are_refused_clearly_and_then_rate_limited() {
    let site = Site::new(Backend::Sqlite, &[]).await;
    let uploader = create_token(&site.db, "acme", "upload", "ci-2");

    let wrong = site.sign_in_form(&[("token", "pst_nope")], &[]).await;
    assert_eq!(wrong.status, 401);
    assert!(
        wrong.body.contains("unknown or revoked token"),
        "{}",
        wrong.body
    );
    assert!(
        wrong.body.contains("type=\"password\""),
        "the form again: {}",
        wrong.body
    );
    assert!(wrong.headers.get(SET_COOKIE).is_none());

    let scope = send(
        site.http
            .post(site.url("/login/token"))
            .json(&json!({"token": uploader.secret})),
    )
    .await;
    assert_eq!(scope.status, 401, "{}", scope.body);
    let error: Value = serde_json::from_str(&scope.body).unwrap();
    assert_eq!(error["error"]["code"], "unauthorized");
    assert!(
        error["error"]["message"]
            .as_str()
            .unwrap()
            .contains("`read`")
    );

    // Ten failures in all, then even the right token waits.
    for _ in 2..10 {
        assert_eq!(
            site.sign_in_form(&[("token", "pst_nope")], &[])
                .await
                .status,
            401
        );
    }
    let limited = site
        .sign_in_form(&[("token", site.reader.secret.as_str())], &[])
        .await;
    assert_eq!(limited.status, 429, "{}", limited.body);
    assert!(limited.header("retry-after").parse::<u64>().unwrap() > 0);
    assert!(limited.headers.get(SET_COOKIE).is_none());
}

async fn session_lifecycle(backend: Backend) {
    let site = Site::new(backend, &[]).await;
    let (session, csrf) = site.sign_in().await;
    assert_eq!(site.get("/orgs/acme", Some(&session)).await.status, 200);

    // A state-changing API request from a session needs its CSRF token.
    let upload = send(
        site.http
            .post(site.url("/api/v1/scans"))
            .header("cookie", format!("posture_session={session}"))
            .body("x"),
    )
    .await;
    assert_eq!(upload.status, 403, "{}", upload.body);
    assert!(upload.body.contains("CSRF"), "{}", upload.body);

    // Signing out without the CSRF token is refused, and the session lives on.
    let forged = site.logout(&session, None).await;
    assert_eq!(forged.status, 403, "{}", forged.body);
    let forged = site.logout(&session, Some(&"0".repeat(64))).await;
    assert_eq!(forged.status, 403, "{}", forged.body);
    assert_eq!(site.get("/orgs/acme", Some(&session)).await.status, 200);

    // Signing out ends it server-side: the old cookie no longer opens anything.
    let out = site.logout(&session, Some(&csrf)).await;
    assert_eq!(out.status, 303, "{}", out.body);
    assert_eq!(out.header("location"), "/login");
    assert!(out.header("set-cookie").contains("Max-Age=0"));
    let page = site.get("/orgs/acme", Some(&session)).await;
    assert_eq!(page.status, 303);
    assert_eq!(page.header("location"), "/login?next=%2Forgs%2Facme");
    let api = site.get("/api/v1/orgs/acme/summary", Some(&session)).await;
    assert_eq!(api.status, 401, "{}", api.body);
    assert!(api.body.contains("\"unauthorized\""), "{}", api.body);

    // An expired session is refused, however well-formed.
    let store = Store::connect(&site.db.url).await.unwrap();
    let expired = "e".repeat(64);
    store
        .create_session(&NewSession {
            session_hash: &sha256(&expired),
            actor: &site.reader.actor,
            method: "token",
            orgs: "acme",
            scopes: "read",
            token_id: Some(posture::store::TokenId(site.reader.id)),
            expires_at: chrono::Utc::now() - chrono::Duration::minutes(1),
            person: None,
        })
        .await
        .unwrap();
    let page = site.get("/orgs/acme", Some(&expired)).await;
    assert_eq!(page.status, 303);
    assert!(page.header("set-cookie").contains("Max-Age=0"));
    assert_eq!(
        site.get("/api/v1/orgs/acme/summary", Some(&expired))
            .await
            .status,
        401
    );

    // Revoking the token ends the sessions made from it.
    let (session, _) = site.sign_in().await;
    assert_eq!(site.get("/orgs/acme", Some(&session)).await.status, 200);
    assert!(
        store
            .revoke_token(posture::store::TokenId(site.reader.id))
            .await
            .unwrap()
    );
    assert_eq!(site.get("/orgs/acme", Some(&session)).await.status, 303);
    store.close().await;
}

#[tokio::test]
async fn sessions_end_when_expired_revoked_or_signed_out_on_sqlite() {
    session_lifecycle(Backend::Sqlite).await;
}

#[tokio::test]
async fn sessions_end_when_expired_revoked_or_signed_out_on_postgres() {
    session_lifecycle(Backend::Postgres).await;
}

#[tokio::test]
async fn next_stays_on_the_site_and_another_orgs_pages_are_not_found() {
    let site = Site::new(Backend::Sqlite, &[]).await;

    // Without a session a page sends the browser to sign in, and back after.
    let away = site.get("/orgs/acme/findings?format=csv", None).await;
    assert_eq!(away.status, 303);
    assert_eq!(
        away.header("location"),
        "/login?next=%2Forgs%2Facme%2Ffindings%3Fformat%3Dcsv"
    );
    let back = site
        .sign_in_form(
            &[
                ("token", site.reader.secret.as_str()),
                ("next", "/orgs/acme/findings"),
            ],
            &[],
        )
        .await;
    assert_eq!(back.header("location"), "/orgs/acme/findings");
    for evil in [
        "//evil.example/",
        "https://evil.example/",
        "/\\evil.example",
        "evil.example",
    ] {
        let reply = site
            .sign_in_form(
                &[("token", site.reader.secret.as_str()), ("next", evil)],
                &[],
            )
            .await;
        assert_eq!(reply.status, 303);
        assert_eq!(reply.headers[LOCATION], "/orgs/acme", "{evil}");
    }
    let form = site.get("/login?next=https://evil.example/", None).await;
    assert!(!form.body.contains("evil.example"), "{}", form.body);

    // Another org's token, as a session or a bearer token: acme's pages are not found.
    let other = create_token(&site.db, "other", "read", "other-team");
    let signed_in = site
        .sign_in_form(&[("token", other.secret.as_str())], &[])
        .await;
    assert_eq!(signed_in.header("location"), "/orgs/other");
    let session = signed_in.session();
    for path in [
        "/orgs/acme",
        "/orgs/ACME",
        "/orgs/acme/findings",
        "/orgs/acme/findings?format=csv",
        "/orgs/acme/repos/shop",
    ] {
        let page = site.get(path, Some(&session)).await;
        assert_eq!(page.status, 404, "{path}: {}", page.body);
        assert!(page.body.contains("<!DOCTYPE html>") && !page.body.contains("shop"));
        assert_strict_headers(&page);
        let bearer = send(site.http.get(site.url(path)).bearer_auth(&other.secret)).await;
        assert_eq!(bearer.status, 404, "{path}");
    }
    // Its own org is there; acme's unknown repository is as absent as a stranger's.
    assert_eq!(site.get("/orgs/other", Some(&session)).await.status, 200);
    let reader = send(
        site.http
            .get(site.url("/orgs/acme/repos/nothing"))
            .bearer_auth(&site.reader.secret),
    )
    .await;
    assert_eq!(reader.status, 404);
}
