//! Signing in through GitHub, GitLab and an OpenID Connect provider, against a real
//! `posture serve` and providers faked at their HTTP boundary (wiremock). The test plays the
//! browser with a client that follows no redirect and keeps no cookie: it reads the 303 to the
//! provider, checks the authorize URL (state, PKCE S256, nonce), and comes back to the
//! callback as the provider would send it.
//!
//! The fake token endpoints accept a code only with the verifier whose SHA-256 is the
//! challenge the authorize URL carried (and the client's credentials), so a session proves
//! PKCE was done right. What the person reads afterwards is what the settings' roles and the
//! forge give them ([`posture::access`]): nothing is a 403 page and no session, and a forge
//! that fails fails closed.

mod common;

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use common::org::*;
use common::server::Server;
use openidconnect::core::{
    CoreGenderClaim, CoreJsonWebKeySet, CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm,
    CoreRsaPrivateSigningKey,
};
use openidconnect::{
    AccessToken, AdditionalClaims, Audience, EndUserEmail, EndUserUsername, IdToken, IdTokenClaims,
    IssuerUrl, JsonWebKeyId, Nonce, PrivateSigningKey, StandardClaims, SubjectIdentifier,
};
use posture::store::Store;
use reqwest::header::HeaderMap;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tempfile::TempDir;
use url::Url;
use wiremock::matchers::{header, method, path, path_regex};
use wiremock::{Match, Mock, MockServer, Request, ResponseTemplate};

const SHOP: &str = "acme/shop";
const VAULT: &str = "acme/vault";

const GITHUB_CLIENT_ID: &str = "Iv23liPostureTest";
const GITHUB_CLIENT_SECRET: &str = "github-app-client-secret-never-logged";
const GITLAB_CLIENT_ID: &str = "posture-gitlab-application";
const GITLAB_CLIENT_SECRET: &str = "gloas-gitlab-client-secret-never-logged";
const OIDC_CLIENT_ID: &str = "posture-oidc-client";
const OIDC_CLIENT_SECRET: &str = "oidc-client-secret-never-logged";

// ---------------------------------------------------------------------------------------
// The browser

struct Reply {
    status: u16,
    headers: HeaderMap,
    body: String,
}

impl Reply {
    fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .unwrap_or_else(|| panic!("no {name}: {:?} {}", self.headers, self.body))
            .to_str()
            .unwrap()
    }

    fn cookies(&self) -> Vec<&str> {
        self.headers
            .get_all("set-cookie")
            .iter()
            .map(|value| value.to_str().unwrap())
            .collect()
    }

    /// The `Set-Cookie` of `name`, when given.
    fn cookie(&self, name: &str) -> Option<&str> {
        self.cookies()
            .into_iter()
            .find(|cookie| cookie.starts_with(&format!("{name}=")))
    }

    /// The session id the answer gives, when it gives one.
    fn session(&self) -> Option<String> {
        self.cookie("posture_session")
            .and_then(|cookie| cookie.strip_prefix("posture_session="))
            .and_then(|rest| rest.split(';').next())
            .filter(|id| id.len() == 64)
            .map(str::to_owned)
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

/// A sign-in started: where posture sent the browser, and the binding cookie it gave.
struct Started {
    location: Url,
    binding: String,
}

impl Started {
    fn param(&self, name: &str) -> String {
        self.location
            .query_pairs()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.into_owned())
            .unwrap_or_else(|| panic!("no {name} in {}", self.location))
    }
}

/// What the fake providers saw: the PKCE challenges of the authorize URLs the browser was
/// sent to, and the verifiers the token requests carried.
#[derive(Default)]
struct Seen {
    challenges: Vec<String>,
    verifiers: Vec<String>,
}

type Shared = Arc<Mutex<Seen>>;

struct Browser {
    http: reqwest::Client,
    base: String,
    seen: Shared,
    /// The binding cookie's name posture gave: `__Host-posture_signin` behind TLS.
    binding_name: Mutex<&'static str>,
}

impl Browser {
    fn new(server: &Server, seen: &Shared) -> Browser {
        Browser {
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .pool_max_idle_per_host(0)
                .build()
                .unwrap(),
            base: server.base.clone(),
            seen: Arc::clone(seen),
            binding_name: Mutex::new("posture_signin"),
        }
    }

    async fn get(&self, path: &str, cookies: &[(&str, &str)]) -> Reply {
        let mut request = self.http.get(format!("{}{path}", self.base));
        if !cookies.is_empty() {
            let cookie: Vec<String> = cookies
                .iter()
                .map(|(name, value)| format!("{name}={value}"))
                .collect();
            request = request.header("cookie", cookie.join("; "));
        }
        send(request).await
    }

    /// `GET /login/{provider}[?next=]`: a 303 to the provider with a binding cookie.
    async fn start(&self, provider: &str, next: Option<&str>) -> Started {
        let path = match next {
            Some(next) => format!(
                "/login/{provider}?next={}",
                url::form_urlencoded::byte_serialize(next.as_bytes()).collect::<String>()
            ),
            None => format!("/login/{provider}"),
        };
        let reply = self.get(&path, &[]).await;
        assert_eq!(reply.status, 303, "{}", reply.body);
        assert!(
            reply
                .header("content-security-policy")
                .contains("form-action 'self'")
        );
        // Behind TLS the binding is a `__Host-` cookie (Secure, Path=/, no Domain), which a
        // sibling subdomain cannot plant.
        let (name, binding) = ["__Host-posture_signin", "posture_signin"]
            .into_iter()
            .find_map(|name| reply.cookie(name).map(|cookie| (name, cookie)))
            .unwrap_or_else(|| panic!("a binding cookie: {:?}", reply.cookies()));
        for flag in ["HttpOnly", "SameSite=Lax", "Path=/;", "Max-Age=600"] {
            assert!(binding.contains(flag), "{flag} in {binding}");
        }
        assert_eq!(
            name == "__Host-posture_signin",
            binding.contains("Secure"),
            "{binding}"
        );
        *self.binding_name.lock().unwrap() = name;
        let binding = binding
            .strip_prefix(&format!("{name}="))
            .and_then(|rest| rest.split(';').next())
            .unwrap()
            .to_owned();
        let started = Started {
            location: Url::parse(reply.header("location")).unwrap(),
            binding,
        };
        assert_eq!(started.param("code_challenge_method"), "S256");
        assert_eq!(started.param("response_type"), "code");
        let challenge = started.param("code_challenge");
        assert_eq!(challenge.len(), 43, "{challenge}");
        self.seen.lock().unwrap().challenges.push(challenge);
        started
    }

    /// The provider sends the browser back with `query`; the browser holds `binding`.
    async fn callback(
        &self,
        provider: &str,
        query: &[(&str, &str)],
        binding: Option<&str>,
    ) -> Reply {
        let query: String = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(query)
            .finish();
        let name = *self.binding_name.lock().unwrap();
        let cookies: Vec<(&str, &str)> = binding.map(|b| (name, b)).into_iter().collect();
        self.get(&format!("/login/{provider}/callback?{query}"), &cookies)
            .await
    }

    /// Started and called back with `code`, from the same browser.
    async fn sign_in(&self, provider: &str, code: &str) -> Reply {
        let started = self.start(provider, None).await;
        let state = started.param("state");
        self.callback(
            provider,
            &[("code", code), ("state", &state)],
            Some(&started.binding),
        )
        .await
    }
}

/// The token endpoint's check: the code the test handed out, the client's credentials, and
/// a verifier whose S256 is a challenge an authorize URL carried.
struct TokenRequest {
    seen: Shared,
    code: String,
    client_id: &'static str,
    client_secret: &'static str,
    /// `client_secret_basic` (else the credentials are in the body).
    basic: bool,
}

impl Match for TokenRequest {
    fn matches(&self, request: &Request) -> bool {
        let form: HashMap<String, String> = url::form_urlencoded::parse(&request.body)
            .into_owned()
            .collect();
        let Some(verifier) = form.get("code_verifier") else {
            return false;
        };
        let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
        let mut seen = self.seen.lock().unwrap();
        seen.verifiers.push(verifier.clone());
        let client = if self.basic {
            let expected = format!(
                "Basic {}",
                STANDARD.encode(format!("{}:{}", self.client_id, self.client_secret))
            );
            request
                .headers
                .get("authorization")
                .is_some_and(|value| value.to_str().unwrap() == expected)
        } else {
            form.get("client_id").map(String::as_str) == Some(self.client_id)
                && form.get("client_secret").map(String::as_str) == Some(self.client_secret)
        };
        form.get("grant_type").map(String::as_str) == Some("authorization_code")
            && form.get("code") == Some(&self.code)
            && form
                .get("redirect_uri")
                .is_some_and(|uri| uri.ends_with("/callback"))
            && seen.challenges.contains(&challenge)
            && client
    }
}

/// A token request for `code`, whatever else it carries.
struct CodeIs(&'static str);

impl Match for CodeIs {
    fn matches(&self, request: &Request) -> bool {
        url::form_urlencoded::parse(&request.body)
            .any(|(key, value)| key == "code" && value == self.0)
    }
}

fn sha256(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

fn settings(dir: &TempDir, yaml: &str) -> String {
    let file = dir.path().join("settings.yml");
    std::fs::write(&file, yaml).unwrap();
    file.to_str().unwrap().to_owned()
}

/// `posture upload` of `report` as a scan of `repository`'s default branch on `forge`.
fn upload_as(server: &Server, token: &str, forge: &str, repository: &str, report: &Path) {
    let run = common::posture_with_env(
        &[
            "upload",
            "--server",
            &server.base,
            "--repository",
            repository,
            "--forge",
            forge,
            "--commit",
            COMMIT_1,
            "--branch",
            "main",
            "--default-branch",
            "--observed-at",
            &time(seconds_ago(3600)),
            report.to_str().unwrap(),
        ],
        &[("POSTURE_TOKEN", token)],
    );
    accepted(&run);
}

/// A database with an upload token, and a server on it with `env`; `acme/shop` and
/// `acme/vault` scanned (on `forge`).
async fn site(env: &[(&str, &str)], forge: &str) -> (Db, Server) {
    let db = Db::new(Backend::Sqlite).await;
    let uploader = create_token(&db, "acme", "upload", "ci");
    let server = start_server_with(&db, env);
    let token = &uploader.secret;
    upload_as(
        &server,
        token,
        forge,
        SHOP,
        &common::fixture("sarif/bandit_1.8.6_flask.sarif"),
    );
    upload_as(
        &server,
        token,
        forge,
        VAULT,
        &common::fixture("sca/cyclonedx/dd_log4j.json"),
    );
    (db, server)
}

/// The session row of `id`.
async fn session_row(db: &Db, id: &str) -> posture::store::SessionRow {
    Store::connect(&db.url)
        .await
        .unwrap()
        .session(&sha256(id))
        .await
        .unwrap()
        .expect("the session is stored")
}

// ---------------------------------------------------------------------------------------
// GitHub

const GITHUB_SETTINGS: &str =
    "orgs:\n  acme:\n    roles:\n      security:\n        github_teams: [appsec]\n";

/// GitHub's web (authorize, token) and REST API: octocat may read acme/shop, not acme/vault;
/// alice is in the `appsec` team; GitHub fails on everything about bob; nobody else has
/// anything.
async fn github() -> MockServer {
    let github = MockServer::start().await;
    let not_found = ResponseTemplate::new(404).set_body_json(json!({
        "message": "Not Found",
        "documentation_url": "https://docs.github.com/rest/collaborators/collaborators#check-if-a-user-is-a-repository-collaborator",
        "status": "404",
    }));
    Mock::given(method("GET"))
        .and(path(format!("/repos/{SHOP}/collaborators/octocat")))
        .respond_with(ResponseTemplate::new(204))
        .mount(&github)
        .await;
    Mock::given(method("GET"))
        .and(path_regex(r"^/repos/acme/[^/]+/collaborators/bob$"))
        .respond_with(ResponseTemplate::new(502))
        .mount(&github)
        .await;
    Mock::given(method("GET"))
        .and(path("/orgs/acme/teams/appsec/memberships/alice"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "url": "https://api.github.com/teams/1/memberships/alice",
            "role": "member",
            "state": "active",
        })))
        .mount(&github)
        .await;
    Mock::given(method("GET"))
        .and(path_regex(r"^/repos/.+/collaborators/[^/]+$"))
        .respond_with(not_found.clone())
        .with_priority(10)
        .mount(&github)
        .await;
    Mock::given(method("GET"))
        .and(path_regex(r"^/orgs/acme/teams/appsec/memberships/[^/]+$"))
        .respond_with(not_found)
        .with_priority(10)
        .mount(&github)
        .await;
    github
}

struct GitHubSite {
    db: Db,
    server: Server,
    github: MockServer,
    seen: Shared,
    browser: Browser,
    _dir: TempDir,
}

impl GitHubSite {
    async fn new(public_url: &str) -> GitHubSite {
        let github = github().await;
        let dir = TempDir::new().unwrap();
        let settings = settings(&dir, GITHUB_SETTINGS);
        let uri = github.uri();
        let (db, server) = site(
            &[
                ("POSTURE_SETTINGS_FILE", &settings),
                ("POSTURE_GITHUB_TOKEN", "ghp_posture_test_token"),
                ("POSTURE_GITHUB_API_URL", &uri),
                ("POSTURE_GITHUB_WEB_URL", &uri),
                ("POSTURE_GITHUB_CLIENT_ID", GITHUB_CLIENT_ID),
                ("POSTURE_GITHUB_CLIENT_SECRET", GITHUB_CLIENT_SECRET),
                ("POSTURE_PUBLIC_URL", public_url),
            ],
            "github",
        )
        .await;
        let seen = Shared::default();
        let browser = Browser::new(&server, &seen);
        GitHubSite {
            db,
            server,
            github,
            seen,
            browser,
            _dir: dir,
        }
    }

    /// GitHub gives `login` a user token for `code` (checked as [`TokenRequest`] says), and
    /// `GET /user` with that token says who they are.
    async fn user(&self, code: &str, login: &str, id: i64) {
        Mock::given(method("POST"))
            .and(path("/login/oauth/access_token"))
            .and(header("accept", "application/json"))
            .and(TokenRequest {
                seen: Arc::clone(&self.seen),
                code: code.to_owned(),
                client_id: GITHUB_CLIENT_ID,
                client_secret: GITHUB_CLIENT_SECRET,
                basic: false,
            })
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "access_token": format!("ghu_{login}_16C7e42F292c6912E7710c838347Ae178B4a"),
                "expires_in": 28800,
                "refresh_token": format!("ghr_{login}_1B4a2e77838347a7E420ce178F2E7c6912E169246c34E1"),
                "refresh_token_expires_in": 15811200,
                "scope": "",
                "token_type": "bearer",
            })))
            .mount(&self.github)
            .await;
        Mock::given(method("GET"))
            .and(path("/user"))
            .and(header(
                "authorization",
                format!("Bearer ghu_{login}_16C7e42F292c6912E7710c838347Ae178B4a").as_str(),
            ))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "login": login, "id": id, "node_id": "MDQ6VXNlcjE=", "type": "User",
                "site_admin": false, "name": null, "company": null,
            })))
            .mount(&self.github)
            .await;
    }
}

#[tokio::test]
async fn github_sign_in_gives_a_session_that_reads_what_github_allows() {
    let site = GitHubSite::new("https://posture.example.com").await;
    let browser = &site.browser;

    // The sign-in page offers GitHub above the token form, as a plain link.
    let page = browser.get("/login?next=/orgs/acme/findings", &[]).await;
    assert_eq!(page.status, 200);
    assert!(
        page.body
            .contains("href=\"/login/github?next=%2Forgs%2Facme%2Ffindings\"")
            && page.body.contains("Sign in with GitHub"),
        "{}",
        page.body
    );
    assert!(!page.body.contains("/login/gitlab") && !page.body.contains("<script"));

    site.user("code-octocat", "octocat", 583231).await;
    let started = browser.start("github", Some("/orgs/acme/findings")).await;
    assert_eq!(
        format!(
            "{}{}",
            started.location.origin().ascii_serialization(),
            started.location.path()
        ),
        format!("{}/login/oauth/authorize", site.github.uri())
    );
    assert_eq!(started.param("client_id"), GITHUB_CLIENT_ID);
    assert_eq!(
        started.param("redirect_uri"),
        "https://posture.example.com/login/github/callback"
    );
    let state = started.param("state");
    assert!(state.len() >= 43, "{state}");
    assert_eq!(site.db.count("sign_in_attempts").await, 1);

    let signed_in = browser
        .callback(
            "github",
            &[("code", "code-octocat"), ("state", &state)],
            Some(&started.binding),
        )
        .await;
    assert_eq!(signed_in.status, 303, "{}", signed_in.body);
    assert_eq!(signed_in.header("location"), "/orgs/acme/findings");
    let cookie = signed_in.cookie("posture_session").unwrap();
    for flag in [
        "HttpOnly",
        "SameSite=Lax",
        "Path=/",
        "Secure",
        "Max-Age=28800",
    ] {
        assert!(cookie.contains(flag), "{flag} in {cookie}");
    }
    assert!(
        signed_in
            .cookie("__Host-posture_signin")
            .is_some_and(|c| c.contains("Max-Age=0")),
        "the binding is cleared: {:?}",
        signed_in.cookies()
    );
    let session = signed_in.session().unwrap();
    assert_eq!(site.db.count("sign_in_attempts").await, 0, "used up");

    // The session is octocat's, through GitHub, reading acme.
    let row = session_row(&site.db, &session).await;
    assert_eq!(
        (row.method.as_str(), row.actor.as_str(), row.orgs.as_str()),
        ("github", "octocat (github)", "acme")
    );
    assert_eq!(row.token_id, None);
    let person: Value = serde_json::from_str(row.person.as_deref().unwrap()).unwrap();
    assert_eq!(
        person["forge"],
        json!({"forge": "github", "login": "octocat", "id": 583231})
    );

    // It reads what GitHub gives octocat: acme/shop, not acme/vault.
    let cookies = [("posture_session", session.as_str())];
    let org = browser.get("/orgs/acme", &cookies).await;
    assert_eq!(org.status, 200, "{}", org.body);
    let api = browser
        .get("/api/v1/orgs/acme/findings?status=all", &cookies)
        .await;
    assert_eq!(api.status, 200, "{}", api.body);
    let findings: Value = serde_json::from_str(&api.body).unwrap();
    let rows = findings["findings"].as_array().unwrap();
    assert!(!rows.is_empty());
    assert!(rows.iter().all(|f| f["repository"] == SHOP), "{findings}");
    assert_eq!(
        browser.get("/orgs/acme/repos/vault", &cookies).await.status,
        404
    );

    // The same callback again (a replay) is refused: the attempt is used up.
    let replay = browser
        .callback(
            "github",
            &[("code", "code-octocat"), ("state", &state)],
            Some(&started.binding),
        )
        .await;
    assert_eq!(replay.status, 400, "{}", replay.body);
    assert!(replay.session().is_none());

    // Signing out ends the forge session like any other.
    let csrf = posture::api::session::csrf_token(&session);
    let out = send(
        browser
            .http
            .post(format!("{}/logout", browser.base))
            .header("cookie", format!("posture_session={session}"))
            .form(&[("csrf", csrf.as_str())]),
    )
    .await;
    assert_eq!(out.status, 303, "{}", out.body);
    let after = browser.get("/api/v1/orgs/acme/summary", &cookies).await;
    assert_eq!(after.status, 401, "{}", after.body);

    // The audit log names the person; the log holds no secret of the flow.
    let audit = site.db.audit().await;
    assert!(
        audit
            .iter()
            .any(|(actor, org, action, status)| actor == "octocat (github)"
                && org.as_deref() == Some("acme")
                && action == "GET /login/github/callback"
                && *status == Some(303)),
        "{audit:?}"
    );
    let verifiers = site.seen.lock().unwrap().verifiers.clone();
    assert!(!verifiers.is_empty());
    let log = site.server.kill();
    assert!(log.contains("signed in"), "{log}");
    for secret in [
        GITHUB_CLIENT_SECRET,
        "code-octocat",
        "ghu_octocat",
        state.as_str(),
        started.binding.as_str(),
        session.as_str(),
    ]
    .into_iter()
    .chain(verifiers.iter().map(String::as_str))
    {
        assert!(!log.contains(secret), "the log shows {secret}:\n{log}");
    }
}

#[tokio::test]
async fn github_callbacks_that_are_not_this_browsers_sign_in_are_refused() {
    let site = GitHubSite::new("https://posture.example.com").await;
    let browser = &site.browser;
    site.user("code-octocat", "octocat", 583231).await;

    // An unknown state.
    let started = browser.start("github", None).await;
    let unknown = browser
        .callback(
            "github",
            &[("code", "code-octocat"), ("state", "forged-state")],
            Some(&started.binding),
        )
        .await;
    assert_eq!(unknown.status, 400, "{}", unknown.body);
    assert!(unknown.body.contains("not valid"), "{}", unknown.body);
    assert!(unknown.session().is_none());

    // The right state, without the browser's binding cookie (a callback URL sent to
    // someone else), or with another browser's: refused, and the attempt is spent.
    let state = started.param("state");
    let elsewhere = browser
        .callback(
            "github",
            &[("code", "code-octocat"), ("state", &state)],
            None,
        )
        .await;
    assert_eq!(elsewhere.status, 400, "{}", elsewhere.body);
    assert!(elsewhere.session().is_none());
    let other = browser.start("github", None).await;
    let other_state = other.param("state");
    let crossed = browser
        .callback(
            "github",
            &[("code", "code-octocat"), ("state", &other_state)],
            Some(&"ab".repeat(32)),
        )
        .await;
    assert_eq!(crossed.status, 400, "{}", crossed.body);
    let after = browser
        .callback(
            "github",
            &[("code", "code-octocat"), ("state", &state)],
            Some(&started.binding),
        )
        .await;
    assert_eq!(after.status, 400, "spent: {}", after.body);

    // The person said no at GitHub.
    let denied_start = browser.start("github", None).await;
    let denied = browser
        .callback(
            "github",
            &[
                ("error", "access_denied"),
                (
                    "error_description",
                    "The user has denied your application access.",
                ),
                ("state", &denied_start.param("state")),
            ],
            Some(&denied_start.binding),
        )
        .await;
    assert_eq!(denied.status, 401, "{}", denied.body);
    assert!(denied.body.contains("access_denied"), "{}", denied.body);

    // A state of GitHub's is not GitLab's: GitLab is not even configured here.
    let gitlab = browser.get("/login/gitlab", &[]).await;
    assert_eq!(gitlab.status, 404, "{}", gitlab.body);

    assert_eq!(site.db.count("sessions").await, 0);
    // GitHub was never asked for a token: every refusal came first.
    let asked = site.github.received_requests().await.unwrap();
    assert!(
        !asked
            .iter()
            .any(|r| r.url.path() == "/login/oauth/access_token"),
        "{asked:?}"
    );
}

#[tokio::test]
async fn github_failures_fail_closed() {
    let site = GitHubSite::new("https://posture.example.com").await;
    let browser = &site.browser;

    // GitHub's token endpoint fails: a 502 page, no session.
    Mock::given(method("POST"))
        .and(path("/login/oauth/access_token"))
        .and(CodeIs("code-broken"))
        .respond_with(ResponseTemplate::new(500))
        .mount(&site.github)
        .await;
    let broken = browser.sign_in("github", "code-broken").await;
    assert_eq!(broken.status, 502, "{}", broken.body);
    assert!(
        broken.body.contains("GitHub is unavailable"),
        "{}",
        broken.body
    );
    assert!(broken.session().is_none());

    // GitHub refuses the code (it answers 200 with an error).
    Mock::given(method("POST"))
        .and(path("/login/oauth/access_token"))
        .and(CodeIs("code-stale"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "error": "bad_verification_code",
            "error_description": "The code passed is incorrect or expired.",
            "error_uri": "https://docs.github.com/apps/managing-oauth-apps/troubleshooting-oauth-app-access-token-request-errors/#bad-verification-code",
        })))
        .mount(&site.github)
        .await;
    let stale = browser.sign_in("github", "code-stale").await;
    assert_eq!(stale.status, 401, "{}", stale.body);
    assert!(
        stale.body.contains("bad_verification_code"),
        "{}",
        stale.body
    );

    // GitHub fails while saying who signed in.
    Mock::given(method("POST"))
        .and(path("/login/oauth/access_token"))
        .and(CodeIs("code-nobody"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": "ghu_nobody", "token_type": "bearer", "scope": "",
        })))
        .mount(&site.github)
        .await;
    Mock::given(method("GET"))
        .and(path("/user"))
        .and(header("authorization", "Bearer ghu_nobody"))
        .respond_with(ResponseTemplate::new(503))
        .mount(&site.github)
        .await;
    let nobody = browser.sign_in("github", "code-nobody").await;
    assert_eq!(nobody.status, 502, "{}", nobody.body);

    // mallory is known to GitHub but may read nothing of acme: a 403 page that says who
    // they are and how to find out why, and no session.
    site.user("code-mallory", "mallory", 9001).await;
    let mallory = browser.sign_in("github", "code-mallory").await;
    assert_eq!(mallory.status, 403, "{}", mallory.body);
    assert!(
        mallory.body.contains("signed in as mallory (github)")
            && mallory.body.contains("posture auth check --user mallory"),
        "{}",
        mallory.body
    );
    assert!(mallory.session().is_none());

    // GitHub fails on every question about bob: nothing is granted on a guess.
    site.user("code-bob", "bob", 9002).await;
    let bob = browser.sign_in("github", "code-bob").await;
    assert_eq!(bob.status, 403, "{}", bob.body);
    assert!(bob.session().is_none());

    assert_eq!(site.db.count("sessions").await, 0);

    // alice, in the team mapped to `security`, does get in: the fakes above were not
    // refusing everyone.
    site.user("code-alice", "alice", 9003).await;
    let alice = browser.sign_in("github", "code-alice").await;
    assert_eq!(alice.status, 303, "{}", alice.body);
    let session = alice.session().unwrap();
    let vault = browser
        .get("/orgs/acme/repos/vault", &[("posture_session", &session)])
        .await;
    assert_eq!(vault.status, 200, "{}", vault.body);
}

// ---------------------------------------------------------------------------------------
// GitLab

#[tokio::test]
async fn gitlab_sign_in_reads_what_gitlab_membership_gives() {
    let gitlab = MockServer::start().await;
    let seen = Shared::default();
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .and(TokenRequest {
            seen: Arc::clone(&seen),
            code: "gitlab-code".into(),
            client_id: GITLAB_CLIENT_ID,
            client_secret: GITLAB_CLIENT_SECRET,
            basic: false,
        })
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": "glo_jsmith_de6780bc506a0446309bd9362820ba8aed28aa506c71eeb",
            "token_type": "Bearer",
            "expires_in": 7200,
            "refresh_token": "8257e65c97202ed1726cf9571600918f3bffb2544b26e00a61df9897668c33a1",
            "scope": "read_user",
            "created_at": 1607635748,
        })))
        .mount(&gitlab)
        .await;
    // Who signed in, with their token; posture's own token is the project bot.
    Mock::given(method("GET"))
        .and(path("/api/v4/user"))
        .and(header(
            "authorization",
            "Bearer glo_jsmith_de6780bc506a0446309bd9362820ba8aed28aa506c71eeb",
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "id": 42, "username": "jsmith", "name": "John Smith", "state": "active",
            "locked": false, "avatar_url": null, "web_url": "https://gitlab.example.com/jsmith",
        })))
        .with_priority(1)
        .mount(&gitlab)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v4/user"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"id": 7, "username": "project_7_bot", "bot": true})),
        )
        .mount(&gitlab)
        .await;
    // jsmith is a developer of acme/shop (inherited or not), not a member of acme/vault.
    Mock::given(method("GET"))
        .and(path_regex(
            r"^/api/v4/projects/acme(%2F|/)shop/members/all/42$",
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "id": 42, "username": "jsmith", "name": "John Smith", "state": "active",
            "access_level": 30, "created_at": "2026-01-01T00:00:00.000Z", "expires_at": null,
            "membership_state": "active",
        })))
        .mount(&gitlab)
        .await;
    Mock::given(method("GET"))
        .and(path_regex(
            r"^/api/v4/projects/acme(%2F|/)vault/members/all/42$",
        ))
        .respond_with(ResponseTemplate::new(404).set_body_json(json!({"message": "404 Not found"})))
        .mount(&gitlab)
        .await;
    let uri = gitlab.uri();
    let (db, server) = site(
        &[
            ("POSTURE_GITLAB_TOKEN", "glpat-posture-test-token"),
            ("POSTURE_GITLAB_URL", &uri),
            ("POSTURE_GITLAB_CLIENT_ID", GITLAB_CLIENT_ID),
            ("POSTURE_GITLAB_CLIENT_SECRET", GITLAB_CLIENT_SECRET),
            ("POSTURE_PUBLIC_URL", "http://posture.test"),
        ],
        "gitlab",
    )
    .await;
    let browser = Browser::new(&server, &seen);
    assert_eq!(browser.get("/login/github", &[]).await.status, 404);

    let started = browser.start("gitlab", None).await;
    assert_eq!(started.location.path(), "/oauth/authorize");
    assert_eq!(started.param("scope"), "read_user");
    assert_eq!(started.param("client_id"), GITLAB_CLIENT_ID);
    assert_eq!(
        started.param("redirect_uri"),
        "http://posture.test/login/gitlab/callback"
    );
    let signed_in = browser
        .callback(
            "gitlab",
            &[("code", "gitlab-code"), ("state", &started.param("state"))],
            Some(&started.binding),
        )
        .await;
    assert_eq!(signed_in.status, 303, "{}", signed_in.body);
    assert_eq!(signed_in.header("location"), "/orgs/acme");
    let cookie = signed_in.cookie("posture_session").unwrap();
    assert!(
        cookie.contains("HttpOnly")
            && cookie.contains("SameSite=Lax")
            && !cookie.contains("Secure"),
        "plain http: {cookie}"
    );
    let session = signed_in.session().unwrap();
    let row = session_row(&db, &session).await;
    assert_eq!(
        (row.method.as_str(), row.actor.as_str()),
        ("gitlab", "jsmith (gitlab)")
    );

    let cookies = [("posture_session", session.as_str())];
    let findings = browser
        .get("/api/v1/orgs/acme/findings?status=all&format=csv", &cookies)
        .await;
    assert_eq!(findings.status, 200, "{}", findings.body);
    assert!(findings.body.contains(SHOP), "{}", findings.body);
    assert!(!findings.body.contains(VAULT), "{}", findings.body);
    assert_eq!(
        browser.get("/orgs/acme/repos/vault", &cookies).await.status,
        404
    );
    assert_eq!(
        browser.get("/orgs/acme/repos/shop", &cookies).await.status,
        200
    );
}

// ---------------------------------------------------------------------------------------
// OpenID Connect

const OIDC_SETTINGS: &str =
    "orgs:\n  acme:\n    roles:\n      security:\n        oidc_groups: [secops]\n";
const KEY_ID: &str = "posture-test-key";
const SUBJECT: &str = "248289761001";

/// The claims of the test's ID tokens besides the standard ones: the groups, and a claim
/// naming jane's GitHub login, when they carry them.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Extra {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    groups: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    github_login: Option<String>,
}

impl AdditionalClaims for Extra {}

fn signing_key(file: &str) -> CoreRsaPrivateSigningKey {
    let pem = std::fs::read_to_string(common::fixture(&format!("oidc/{file}"))).unwrap();
    CoreRsaPrivateSigningKey::from_pem(&pem, Some(JsonWebKeyId::new(KEY_ID.into()))).unwrap()
}

/// A provider: discovery, keys, a userinfo endpoint, and token answers the test mounts.
struct Idp {
    server: MockServer,
    seen: Shared,
}

impl Idp {
    async fn new() -> Idp {
        let server = MockServer::start().await;
        let uri = server.uri();
        Mock::given(method("GET"))
            .and(path("/.well-known/openid-configuration"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "issuer": uri,
                "authorization_endpoint": format!("{uri}/protocol/openid-connect/auth"),
                "token_endpoint": format!("{uri}/protocol/openid-connect/token"),
                "userinfo_endpoint": format!("{uri}/protocol/openid-connect/userinfo"),
                "jwks_uri": format!("{uri}/protocol/openid-connect/certs"),
                "response_types_supported": ["code", "id_token", "code id_token"],
                "subject_types_supported": ["public", "pairwise"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "scopes_supported": ["openid", "profile", "email", "groups"],
                "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
                "claims_supported": ["sub", "iss", "aud", "exp", "iat", "nonce", "preferred_username", "email", "groups"],
                "code_challenge_methods_supported": ["plain", "S256"],
                "grant_types_supported": ["authorization_code", "refresh_token"],
            })))
            .mount(&server)
            .await;
        let keys =
            CoreJsonWebKeySet::new(vec![signing_key("provider-key.pem").as_verification_key()]);
        Mock::given(method("GET"))
            .and(path("/protocol/openid-connect/certs"))
            .respond_with(ResponseTemplate::new(200).set_body_json(&keys))
            .mount(&server)
            .await;
        Idp {
            server,
            seen: Shared::default(),
        }
    }

    /// An ID token for jane, signed with the key in `key_file`, carrying `nonce` and
    /// `groups`, issued with `access_token`.
    fn id_token(
        &self,
        key_file: &str,
        nonce: &str,
        groups: Option<&[&str]>,
        access_token: &str,
    ) -> String {
        let extra = Extra {
            groups: groups.map(|g| g.iter().map(|s| (*s).to_owned()).collect()),
            github_login: None,
        };
        self.id_token_with(key_file, nonce, extra, access_token)
    }

    /// [`Idp::id_token`] with any extra claims.
    fn id_token_with(
        &self,
        key_file: &str,
        nonce: &str,
        extra: Extra,
        access_token: &str,
    ) -> String {
        let now = chrono::Utc::now();
        let claims = IdTokenClaims::new(
            IssuerUrl::new(self.server.uri()).unwrap(),
            vec![Audience::new(OIDC_CLIENT_ID.into())],
            now + chrono::Duration::minutes(5),
            now,
            StandardClaims::new(SubjectIdentifier::new(SUBJECT.into()))
                .set_preferred_username(Some(EndUserUsername::new("jane".into())))
                .set_email(Some(EndUserEmail::new("jane@example.com".into()))),
            extra,
        )
        .set_nonce(Some(Nonce::new(nonce.into())));
        IdToken::<Extra, CoreGenderClaim, CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm>::new(
            claims,
            &signing_key(key_file),
            CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
            Some(&AccessToken::new(access_token.into())),
            None,
        )
        .unwrap()
        .to_string()
    }

    /// The token endpoint answers `code` (with the right verifier and client) with
    /// `access_token` and `id_token`.
    async fn token(&self, code: &str, access_token: &str, id_token: String) {
        Mock::given(method("POST"))
            .and(path("/protocol/openid-connect/token"))
            .and(TokenRequest {
                seen: Arc::clone(&self.seen),
                code: code.to_owned(),
                client_id: OIDC_CLIENT_ID,
                client_secret: OIDC_CLIENT_SECRET,
                basic: true,
            })
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "access_token": access_token,
                "token_type": "Bearer",
                "expires_in": 300,
                "id_token": id_token,
                "scope": "openid profile email",
            })))
            .mount(&self.server)
            .await;
    }

    async fn userinfo_requests(&self) -> usize {
        self.server
            .received_requests()
            .await
            .unwrap()
            .iter()
            .filter(|r| r.url.path() == "/protocol/openid-connect/userinfo")
            .count()
    }
}

struct OidcSite {
    idp: Idp,
    db: Db,
    browser: Browser,
    _server: Server,
    _dir: TempDir,
}

impl OidcSite {
    async fn new() -> OidcSite {
        OidcSite::with(&[]).await
    }

    /// A site with `more` settings besides the provider's.
    async fn with(more: &[(&str, &str)]) -> OidcSite {
        let idp = Idp::new().await;
        let dir = TempDir::new().unwrap();
        let settings = settings(&dir, OIDC_SETTINGS);
        let issuer = idp.server.uri();
        let mut env = vec![
            ("POSTURE_SETTINGS_FILE", settings.as_str()),
            ("POSTURE_OIDC_ISSUER", issuer.as_str()),
            ("POSTURE_OIDC_CLIENT_ID", OIDC_CLIENT_ID),
            ("POSTURE_OIDC_CLIENT_SECRET", OIDC_CLIENT_SECRET),
            ("POSTURE_OIDC_SCOPES", "profile email groups"),
            ("POSTURE_PUBLIC_URL", "https://posture.example.com"),
        ];
        env.extend_from_slice(more);
        let (db, server) = site(&env, "github").await;
        let browser = Browser::new(&server, &idp.seen);
        OidcSite {
            idp,
            db,
            browser,
            _server: server,
            _dir: dir,
        }
    }

    /// Starts a sign-in; the provider answers the code with an ID token `make` builds from
    /// the nonce; the browser comes back.
    async fn sign_in(
        &self,
        code: &str,
        access_token: &str,
        make: impl Fn(&str) -> String,
    ) -> Reply {
        let started = self.browser.start("oidc", None).await;
        assert_eq!(
            started.location.path(),
            "/protocol/openid-connect/auth",
            "{}",
            started.location
        );
        assert_eq!(started.param("client_id"), OIDC_CLIENT_ID);
        let scopes = started.param("scope");
        for scope in ["openid", "profile", "email", "groups"] {
            assert!(scopes.split(' ').any(|s| s == scope), "{scope} in {scopes}");
        }
        let nonce = started.param("nonce");
        assert!(nonce.len() >= 32, "{nonce}");
        self.idp.token(code, access_token, make(&nonce)).await;
        self.browser
            .callback(
                "oidc",
                &[("code", code), ("state", &started.param("state"))],
                Some(&started.binding),
            )
            .await
    }

    /// Every finding the session reads, by repository.
    async fn repositories(&self, session: &str) -> Vec<String> {
        let reply = self
            .browser
            .get(
                "/api/v1/orgs/acme/findings?status=all",
                &[("posture_session", session)],
            )
            .await;
        assert_eq!(reply.status, 200, "{}", reply.body);
        let body: Value = serde_json::from_str(&reply.body).unwrap();
        let mut repositories: Vec<String> = body["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["repository"].as_str().unwrap().to_owned())
            .collect();
        repositories.sort();
        repositories.dedup();
        repositories
    }
}

#[tokio::test]
async fn oidc_groups_in_the_id_token_give_the_security_role() {
    let site = OidcSite::new().await;
    // userinfo fails: the ID token's groups must be enough.
    Mock::given(method("GET"))
        .and(path("/protocol/openid-connect/userinfo"))
        .respond_with(ResponseTemplate::new(500))
        .mount(&site.idp.server)
        .await;
    let page = site.browser.get("/login", &[]).await;
    assert!(page.body.contains("href=\"/login/oidc\""), "{}", page.body);

    let access = "oidc-access-token-jane";
    let signed_in = site
        .sign_in("oidc-code-1", access, |nonce| {
            site.idp.id_token(
                "provider-key.pem",
                nonce,
                Some(&["secops", "everyone"]),
                access,
            )
        })
        .await;
    assert_eq!(signed_in.status, 303, "{}", signed_in.body);
    assert_eq!(signed_in.header("location"), "/orgs/acme");
    assert!(
        signed_in
            .cookie("posture_session")
            .unwrap()
            .contains("Secure")
    );
    let session = signed_in.session().unwrap();
    let row = session_row(&site.db, &session).await;
    assert_eq!(
        (row.method.as_str(), row.actor.as_str()),
        ("oidc", "jane (oidc:248289761001)")
    );
    let person: Value = serde_json::from_str(row.person.as_deref().unwrap()).unwrap();
    assert_eq!(person["groups"], json!(["everyone", "secops"]));
    assert_eq!(site.repositories(&session).await, [SHOP, VAULT]);
    assert_eq!(site.idp.userinfo_requests().await, 0);
}

#[tokio::test]
async fn oidc_groups_come_from_userinfo_when_the_id_token_has_none() {
    let site = OidcSite::new().await;
    let access = "oidc-access-token-userinfo";
    Mock::given(method("GET"))
        .and(path("/protocol/openid-connect/userinfo"))
        .and(header("authorization", format!("Bearer {access}").as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "sub": SUBJECT,
            "preferred_username": "jane",
            "groups": ["secops"],
        })))
        .mount(&site.idp.server)
        .await;
    let signed_in = site
        .sign_in("oidc-code-2", access, |nonce| {
            site.idp.id_token("provider-key.pem", nonce, None, access)
        })
        .await;
    assert_eq!(signed_in.status, 303, "{}", signed_in.body);
    let session = signed_in.session().unwrap();
    assert_eq!(site.repositories(&session).await, [SHOP, VAULT]);
    assert_eq!(site.idp.userinfo_requests().await, 1);

    // Without the group (userinfo has none for this token either), jane reads nothing: a
    // 403 page, no session.
    let other = "oidc-access-token-no-groups";
    Mock::given(method("GET"))
        .and(path("/protocol/openid-connect/userinfo"))
        .and(header("authorization", format!("Bearer {other}").as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"sub": SUBJECT})))
        .mount(&site.idp.server)
        .await;
    let nothing = site
        .sign_in("oidc-code-3", other, |nonce| {
            site.idp.id_token("provider-key.pem", nonce, None, other)
        })
        .await;
    assert_eq!(nothing.status, 403, "{}", nothing.body);
    assert!(
        nothing
            .body
            .contains("signed in as jane (oidc:248289761001)"),
        "{}",
        nothing.body
    );
    assert!(nothing.session().is_none());
    assert_eq!(site.db.count("sessions").await, 1);
}

#[tokio::test]
async fn oidc_a_wrong_nonce_or_a_bad_signature_is_refused() {
    let site = OidcSite::new().await;
    let access = "oidc-access-token-bad";

    // The ID token of another sign-in (its nonce is not this one's).
    let replayed = site
        .sign_in("oidc-code-nonce", access, |_| {
            site.idp.id_token(
                "provider-key.pem",
                "some-other-nonce",
                Some(&["secops"]),
                access,
            )
        })
        .await;
    assert_eq!(replayed.status, 401, "{}", replayed.body);
    assert!(replayed.body.contains("nonce"), "{}", replayed.body);
    assert!(replayed.session().is_none());

    // Signed by a key the provider does not publish, under the provider's key id.
    let forged = site
        .sign_in("oidc-code-forged", access, |nonce| {
            site.idp
                .id_token("impostor-key.pem", nonce, Some(&["secops"]), access)
        })
        .await;
    assert_eq!(forged.status, 401, "{}", forged.body);
    assert!(
        forged.body.contains("ID token was refused"),
        "{}",
        forged.body
    );
    assert!(forged.session().is_none());

    // An ID token issued with another access token (its at_hash does not match).
    let swapped = site
        .sign_in("oidc-code-swapped", access, |nonce| {
            site.idp.id_token(
                "provider-key.pem",
                nonce,
                Some(&["secops"]),
                "another-access-token",
            )
        })
        .await;
    assert_eq!(swapped.status, 401, "{}", swapped.body);
    assert!(swapped.session().is_none());

    assert_eq!(site.db.count("sessions").await, 0);
    // The same fakes sign in a well-formed token: the refusals were the tokens' doing.
    let good = site
        .sign_in("oidc-code-good", access, |nonce| {
            site.idp
                .id_token("provider-key.pem", nonce, Some(&["secops"]), access)
        })
        .await;
    assert_eq!(good.status, 303, "{}", good.body);
}

#[tokio::test]
async fn oidc_a_forge_login_claim_makes_a_viewer_of_what_the_forge_gives() {
    // GitHub, asked with posture's own token: octocat reads acme/shop, not acme/vault.
    let github = github().await;
    let uri = github.uri();
    let site = OidcSite::with(&[
        ("POSTURE_OIDC_FORGE", "github"),
        ("POSTURE_OIDC_FORGE_LOGIN_CLAIM", "github_login"),
        ("POSTURE_GITHUB_TOKEN", "ghp_posture_test_token"),
        ("POSTURE_GITHUB_API_URL", &uri),
    ])
    .await;
    let access = "oidc-access-token-octocat";
    let signed_in = site
        .sign_in("oidc-code-octocat", access, |nonce| {
            let extra = Extra {
                groups: Some(vec!["engineering".into()]),
                github_login: Some("octocat".into()),
            };
            site.idp
                .id_token_with("provider-key.pem", nonce, extra, access)
        })
        .await;
    assert_eq!(signed_in.status, 303, "{}", signed_in.body);
    let session = signed_in.session().unwrap();
    let row = session_row(&site.db, &session).await;
    let person: Value = serde_json::from_str(row.person.as_deref().unwrap()).unwrap();
    assert_eq!(person["name"], "jane (oidc:248289761001)");
    assert_eq!(
        person["forge"],
        json!({"forge": "github", "login": "octocat"})
    );
    assert_eq!(site.repositories(&session).await, [SHOP]);
    let asked = github.received_requests().await.unwrap();
    assert!(
        asked
            .iter()
            .any(|r| r.url.path() == "/repos/acme/shop/collaborators/octocat"),
        "{asked:?}"
    );
}

#[tokio::test]
async fn oidc_a_provider_that_cannot_be_discovered_is_a_502_page() {
    let down = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/.well-known/openid-configuration"))
        .respond_with(ResponseTemplate::new(503))
        .mount(&down)
        .await;
    let issuer = down.uri();
    let (_db, server) = site(
        &[
            ("POSTURE_OIDC_ISSUER", &issuer),
            ("POSTURE_OIDC_CLIENT_ID", OIDC_CLIENT_ID),
            ("POSTURE_OIDC_CLIENT_SECRET", OIDC_CLIENT_SECRET),
            ("POSTURE_PUBLIC_URL", "https://posture.example.com"),
        ],
        "github",
    )
    .await;
    let browser = Browser::new(&server, &Shared::default());
    // The sign-in page itself does not depend on the provider.
    let page = browser.get("/login", &[]).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("href=\"/login/oidc\""), "{}", page.body);
    let start = browser.get("/login/oidc", &[]).await;
    assert_eq!(start.status, 502, "{}", start.body);
    assert!(start.body.contains("discovery document"), "{}", start.body);
    assert!(
        start
            .cookies()
            .iter()
            .all(|c| !c.contains("posture_signin"))
    );
    assert_eq!(down.received_requests().await.unwrap().len(), 1);
}

#[tokio::test]
async fn a_provider_without_a_public_url_stops_the_server_saying_why() {
    let db = Db::new(Backend::Sqlite).await;
    let run = common::posture_with_env(
        &[
            "serve",
            "--database",
            &db.url,
            "--workers",
            "0",
            "--listen",
            "127.0.0.1:0",
        ],
        &[
            ("POSTURE_GITHUB_WEBHOOK_SECRET", SECRET),
            ("POSTURE_GITLAB_CLIENT_ID", GITLAB_CLIENT_ID),
            ("POSTURE_GITLAB_CLIENT_SECRET", GITLAB_CLIENT_SECRET),
        ],
    );
    assert_ne!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr.contains("POSTURE_PUBLIC_URL") && run.stderr.contains("/login/gitlab/callback"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains(GITLAB_CLIENT_SECRET), "{}", run.stderr);
    assert!(!run.stderr.contains("listening on"), "{}", run.stderr);
}
