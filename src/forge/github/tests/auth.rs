//! Credentials: the App's JWT and installation tokens, finding an installation, the
//! environment, and secrets kept out of `Debug` and errors.

use std::collections::HashMap;
use std::time::{SystemTime, UNIX_EPOCH};

use octocrab::jsonwebtoken::{Algorithm, DecodingKey, Validation, decode};
use serde_json::json;
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::*;
use crate::forge::github::{ENV_API_URL, ENV_APP_ID, ENV_PRIVATE_KEY_FILE, ENV_TOKEN};
use crate::forge::{Forge, ForgeError};

const INSTALLATION_TOKEN: &str = "ghs_16C7e42F292c6912E7710c838347Ae178B4a";

#[derive(Debug, serde::Deserialize)]
struct Claims {
    iss: u64,
    iat: u64,
    exp: u64,
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// The claims of the `Bearer <JWT>` a request carried, after checking its RS256 signature
/// with the App's public key.
fn jwt_claims(request: &wiremock::Request) -> Claims {
    let authorization = request
        .headers
        .get("authorization")
        .unwrap()
        .to_str()
        .unwrap();
    let jwt = authorization.strip_prefix("Bearer ").unwrap();
    let public = std::fs::read(fixture("test-app-key.pub.pem")).unwrap();
    let mut validation = Validation::new(Algorithm::RS256);
    validation.leeway = 0;
    decode::<Claims>(
        jwt,
        &DecodingKey::from_rsa_pem(&public).unwrap(),
        &validation,
    )
    .unwrap()
    .claims
}

fn access_token_answer() -> ResponseTemplate {
    // An hour from now, as GitHub mints them.
    let expires = chrono::Utc::now() + chrono::Duration::hours(1);
    ResponseTemplate::new(201).set_body_json(json!({
        "token": INSTALLATION_TOKEN,
        "expires_at": expires.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "permissions": {"pull_requests": "write", "checks": "write", "actions": "read", "contents": "read"},
        "repository_selection": "all"
    }))
}

async fn mount_pull(server: &MockServer, prefix: &str) {
    Mock::given(method("GET"))
        .and(path(format!("{prefix}/repos/{REPO}/pulls/1347")))
        .and(header(
            "authorization",
            format!("Bearer {INSTALLATION_TOKEN}").as_str(),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(pull_json(1347, HEAD, BASE)))
        .mount(server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!(
            "{prefix}/repos/{REPO}/compare/{BASE}...{HEAD}"
        )))
        .and(header(
            "authorization",
            format!("Bearer {INSTALLATION_TOKEN}").as_str(),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(compare_json(MERGE_BASE)))
        .mount(server)
        .await;
}

#[tokio::test]
async fn an_app_signs_a_jwt_mints_one_installation_token_and_reuses_it() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/app/installations/42/access_tokens"))
        .respond_with(access_token_answer())
        .expect(1)
        .mount(&server)
        .await;
    mount_pull(&server, "").await;

    let client = app_client_at(&server.uri());
    let before = now();
    // Two forges of one installation, four API calls: one token.
    for _ in 0..2 {
        let forge = client.for_installation(Some(42)).unwrap();
        assert_eq!(forge.change_request(REPO, 1347).await.unwrap(), change());
    }
    let after = now();

    let requests = server.received_requests().await.unwrap();
    let mint = requests
        .iter()
        .find(|r| r.url.path() == "/app/installations/42/access_tokens")
        .unwrap();
    let claims = jwt_claims(mint);
    assert_eq!(claims.iss, APP_ID);
    assert!(
        (before - 60..=after - 60).contains(&claims.iat),
        "iat {} not 60 s before {before}..{after}",
        claims.iat
    );
    assert!(
        claims.exp > after && claims.exp <= before + 600,
        "exp {}",
        claims.exp
    );
    let api_calls = requests
        .iter()
        .filter(|r| r.url.path().starts_with("/repos/"))
        .count();
    assert_eq!(api_calls, 4);
}

#[tokio::test]
async fn an_app_without_an_installation_id_finds_it_from_the_repository() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!("/repos/{REPO}/installation")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "id": 7,
            "account": {"login": "octo-org", "id": 2, "type": "Organization"},
            "app_id": APP_ID,
            "target_type": "Organization",
            "permissions": {"checks": "write"},
            "events": ["pull_request"]
        })))
        .expect(2)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/app/installations/7/access_tokens"))
        .respond_with(access_token_answer())
        .expect(1)
        .mount(&server)
        .await;
    mount_pull(&server, "").await;

    let client = app_client_at(&server.uri());
    let forge = client.for_installation(None).unwrap();
    forge.change_request(REPO, 1347).await.unwrap();
    forge.change_request(REPO, 1347).await.unwrap();
    assert_eq!(client.installation_id(REPO).await.unwrap(), 7);

    let requests = server.received_requests().await.unwrap();
    let lookup = requests
        .iter()
        .find(|r| r.url.path().ends_with("/installation"))
        .unwrap();
    assert_eq!(jwt_claims(lookup).iss, APP_ID);
}

#[tokio::test]
async fn an_app_on_github_enterprise_sends_its_installation_token_to_api_graphql() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/v3/app/installations/42/access_tokens"))
        .respond_with(access_token_answer())
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/graphql"))
        .and(header("authorization", format!("Bearer {INSTALLATION_TOKEN}").as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "data": {"repository": {"object": {"blame": {"ranges": [{
                "startingLine": 1, "endingLine": 1,
                "commit": {"oid": HEAD, "messageHeadline": "x", "committedDate": "2024-01-01T00:00:00Z",
                           "author": {"name": "A", "email": "a@example.com", "date": "2024-01-01T00:00:00Z"}}
            }]}}}}
        })))
        .expect(1)
        .mount(&server)
        .await;
    mount_pull(&server, "/api/v3").await;
    let forge = app_client_at(&format!("{}/api/v3", server.uri()))
        .for_installation(Some(42))
        .unwrap();
    forge.change_request(REPO, 1347).await.unwrap();
    let blame = forge.blame(REPO, HEAD, "a.py").await.unwrap();
    assert_eq!(blame.lines, [0]);
}

#[tokio::test]
async fn a_refused_installation_token_is_an_error_without_secrets() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/app/installations/42/access_tokens"))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({
            "message": "A JSON web token could not be decoded",
            "documentation_url": "https://docs.github.com/rest"
        })))
        .mount(&server)
        .await;
    let forge = app_client_at(&server.uri())
        .for_installation(Some(42))
        .unwrap();
    let error = forge.change_request(REPO, 1347).await.unwrap_err();
    assert!(
        matches!(error, ForgeError::Rejected { status: 401, .. }),
        "{error}"
    );
    let text = format!("{error} {error:?}");
    assert!(
        text.contains("A JSON web token could not be decoded"),
        "{text}"
    );
    assert!(
        !text.contains("PRIVATE KEY") && !text.contains("eyJ"),
        "{text}"
    );
}

#[tokio::test]
async fn debug_output_shows_no_secret() {
    let pem = private_key_pem();
    let key_line = pem.lines().nth(1).unwrap().to_owned();
    let token = GitHubConfig::new(
        "https://api.github.com",
        GitHubCredentials::Token(SecretString::from(TOKEN)),
    );
    let app = GitHubConfig::new(
        "https://ghe.example.com/api/v3",
        GitHubCredentials::App {
            app_id: APP_ID,
            private_key_pem: SecretString::from(pem.clone()),
        },
    );
    let token_client = GitHubClient::new(token.clone()).unwrap();
    let app_client = GitHubClient::new(app.clone()).unwrap();
    let texts = [
        format!("{token:?}"),
        format!("{app:?}"),
        format!("{token_client:?}"),
        format!("{app_client:?}"),
        format!("{:?}", token_client.for_installation(None).unwrap()),
        format!("{:?}", app_client.for_installation(Some(3)).unwrap()),
    ];
    for text in &texts {
        assert!(!text.contains(TOKEN), "{text}");
        assert!(
            !text.contains(&key_line) && !text.contains("PRIVATE KEY"),
            "{text}"
        );
    }
    assert!(texts[3].contains("GitHub App 1234567"), "{}", texts[3]);
    assert!(
        texts[3].contains("https://ghe.example.com/api/v3"),
        "{}",
        texts[3]
    );
}

fn vars(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let map: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    move |name| map.get(name).cloned()
}

#[tokio::test]
async fn the_environment_names_the_credentials() {
    assert!(GitHubConfig::from_vars(vars(&[])).unwrap().is_none());
    assert!(
        GitHubConfig::from_vars(vars(&[(ENV_TOKEN, "")]))
            .unwrap()
            .is_none()
    );

    let config = GitHubConfig::from_vars(vars(&[(ENV_TOKEN, TOKEN)]))
        .unwrap()
        .unwrap();
    assert_eq!(config.api_url, "https://api.github.com");
    assert!(matches!(config.credentials, GitHubCredentials::Token(_)));

    let key = fixture("test-app-key.pem");
    let config = GitHubConfig::from_vars(vars(&[
        (ENV_APP_ID, "1234567"),
        (ENV_PRIVATE_KEY_FILE, key.to_str().unwrap()),
        (ENV_API_URL, "https://ghe.example.com/api/v3/"),
    ]))
    .unwrap()
    .unwrap();
    let client = GitHubClient::new(config).unwrap();
    assert_eq!(client.api_url(), "https://ghe.example.com/api/v3");
    assert_eq!(client.app_id(), Some(APP_ID));
}

#[test]
fn unusable_app_credentials_are_named_without_the_secret() {
    let dir = tempfile::TempDir::new().unwrap();
    let missing = dir.path().join("missing.pem");
    let error = GitHubConfig::from_vars(vars(&[
        (ENV_APP_ID, "1"),
        (ENV_PRIVATE_KEY_FILE, missing.to_str().unwrap()),
    ]))
    .unwrap_err()
    .to_string();
    assert!(error.starts_with(ENV_PRIVATE_KEY_FILE), "{error}");
    assert!(
        error.contains("missing.pem") && error.contains("cannot read"),
        "{error}"
    );

    // A public key, and a truncated private key: neither can sign.
    let broken = dir.path().join("broken.pem");
    let pem = private_key_pem();
    std::fs::write(&broken, &pem[..pem.len() / 2]).unwrap();
    for file in [fixture("test-app-key.pub.pem"), broken] {
        let error = GitHubConfig::from_vars(vars(&[
            (ENV_APP_ID, "1"),
            (ENV_PRIVATE_KEY_FILE, file.to_str().unwrap()),
        ]))
        .unwrap_err()
        .to_string();
        assert!(error.starts_with(ENV_PRIVATE_KEY_FILE), "{error}");
        assert!(!error.contains(pem.lines().nth(1).unwrap()), "{error}");
    }

    let error = GitHubConfig::from_vars(vars(&[(ENV_APP_ID, "1")]))
        .unwrap_err()
        .to_string();
    assert!(error.contains(ENV_PRIVATE_KEY_FILE), "{error}");
    let error =
        GitHubConfig::from_vars(vars(&[(ENV_APP_ID, "my-app"), (ENV_PRIVATE_KEY_FILE, "x")]))
            .unwrap_err()
            .to_string();
    assert!(error.contains("numeric"), "{error}");

    let bad_url = GitHubClient::new(GitHubConfig::new(
        "ftp://example.com",
        GitHubCredentials::Token(SecretString::from(TOKEN)),
    ))
    .unwrap_err()
    .to_string();
    assert!(!bad_url.contains(TOKEN), "{bad_url}");
}

#[tokio::test]
async fn a_token_client_ignores_installation_ids() {
    let client = token_client_at("https://api.github.com");
    assert!(client.for_installation(Some(5)).is_ok());
    assert_eq!(client.app_id(), None);
    let error = app_client_at("https://api.github.com")
        .for_installation(Some(-1))
        .unwrap_err();
    assert!(matches!(error, ForgeError::Config(_)), "{error}");
}

#[test]
fn outside_a_runtime_the_client_is_refused_not_a_panic() {
    let error = GitHubClient::new(GitHubConfig::new(
        "https://api.github.com",
        GitHubCredentials::Token(SecretString::from(TOKEN)),
    ))
    .unwrap_err();
    assert!(error.to_string().contains("tokio runtime"), "{error}");
}

#[tokio::test]
async fn an_apps_identity_is_its_slug_as_a_bot_asked_once_with_the_jwt() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/app"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "id": APP_ID,
            "slug": "posture-dev",
            "node_id": "MDExOkludGVncmF0aW9uMQ==",
            "owner": {"login": "octo-org", "id": 1, "type": "Organization"},
            "name": "posture (dev)",
            "external_url": "https://posture.example.com",
            "html_url": "https://github.com/apps/posture-dev",
            "created_at": "2017-07-08T16:18:44-04:00",
            "updated_at": "2017-07-08T16:18:44-04:00",
            "permissions": {"checks": "write", "pull_requests": "write"},
            "events": ["pull_request"]
        })))
        .expect(1)
        .mount(&server)
        .await;
    let client = app_client_at(&server.uri());
    // Two forges of one client share the answer; no installation token is minted for it.
    for installation in [Some(42), None] {
        let forge = client.for_installation(installation).unwrap();
        assert_eq!(forge.identity().await.unwrap(), "posture-dev[bot]");
        assert_eq!(forge.identity().await.unwrap(), "posture-dev[bot]");
    }
    let requests = server.received_requests().await.unwrap();
    assert_eq!(requests.len(), 1);
    assert_eq!(jwt_claims(&requests[0]).iss, APP_ID);
}

#[tokio::test]
async fn a_tokens_identity_is_its_users_login() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/user"))
        .and(header("authorization", format!("Bearer {TOKEN}").as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "login": "posture-bot", "id": 583231, "type": "User", "site_admin": false
        })))
        .expect(1)
        .mount(&server)
        .await;
    let forge = token_forge(&server);
    assert_eq!(forge.identity().await.unwrap(), "posture-bot");
    assert_eq!(forge.identity().await.unwrap(), "posture-bot");
}

#[tokio::test]
async fn an_identity_that_cannot_be_read_is_an_error_and_asked_again() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/user"))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({
            "message": "Bad credentials",
            "documentation_url": "https://docs.github.com/rest"
        })))
        .expect(2)
        .mount(&server)
        .await;
    let forge = token_forge(&server);
    for _ in 0..2 {
        let error = forge.identity().await.unwrap_err();
        assert!(
            matches!(error, ForgeError::Rejected { status: 401, .. }),
            "{error}"
        );
        assert!(!format!("{error} {error:?}").contains(TOKEN));
    }
}
