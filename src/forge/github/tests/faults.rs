//! How GitHub's refusals and failures reach the job: rate limits with their waits, 5xx and
//! dropped connections as retryable, the rest with GitHub's message.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::*;
use crate::forge::{Forge, ForgeError};

async fn answer_pull_with(server: &MockServer, response: ResponseTemplate) {
    Mock::given(method("GET"))
        .and(path(format!("/repos/{REPO}/pulls/1347")))
        .respond_with(response)
        .mount(server)
        .await;
}

#[tokio::test]
async fn a_403_with_retry_after_is_a_rate_limit_of_that_many_seconds() {
    let server = MockServer::start().await;
    answer_pull_with(
        &server,
        ResponseTemplate::new(403)
            .insert_header("retry-after", "30")
            .insert_header("x-ratelimit-remaining", "4000")
            .set_body_json(json!({
                "message": "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",
                "documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits"
            })),
    )
    .await;
    let error = token_forge(&server)
        .change_request(REPO, 1347)
        .await
        .unwrap_err();
    match &error {
        ForgeError::RateLimited { retry_after, .. } => {
            assert_eq!(*retry_after, Duration::from_secs(30))
        }
        other => panic!("{other}"),
    }
    assert_eq!(error.retry_after(), Some(Duration::from_secs(30)));
}

#[tokio::test]
async fn a_429_waits_until_the_rate_limit_resets() {
    let server = MockServer::start().await;
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    answer_pull_with(
        &server,
        ResponseTemplate::new(429)
            .insert_header("x-ratelimit-limit", "5000")
            .insert_header("x-ratelimit-remaining", "0")
            .insert_header("x-ratelimit-used", "5000")
            .insert_header("x-ratelimit-reset", (now + 120).to_string().as_str())
            .set_body_json(json!({"message": "API rate limit exceeded for installation ID 99."})),
    )
    .await;
    let error = token_forge(&server)
        .change_request(REPO, 1347)
        .await
        .unwrap_err();
    let ForgeError::RateLimited { retry_after, .. } = error else {
        panic!("{error}");
    };
    // The clock moved by at most a few seconds while the test ran.
    assert!(
        (Duration::from_secs(115)..=Duration::from_secs(120)).contains(&retry_after),
        "{retry_after:?}"
    );
}

#[tokio::test]
async fn a_403_with_the_primary_limit_exhausted_is_a_rate_limit_too() {
    let server = MockServer::start().await;
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    answer_pull_with(
        &server,
        ResponseTemplate::new(403)
            .insert_header("x-ratelimit-remaining", "0")
            .insert_header("x-ratelimit-reset", (now + 600).to_string().as_str())
            .set_body_json(json!({"message": "API rate limit exceeded for user ID 1."})),
    )
    .await;
    let error = token_forge(&server)
        .change_request(REPO, 1347)
        .await
        .unwrap_err();
    let ForgeError::RateLimited { retry_after, .. } = error else {
        panic!("{error}");
    };
    assert!(retry_after > Duration::from_secs(590), "{retry_after:?}");
}

#[tokio::test]
async fn a_502_is_unavailable_and_worth_retrying() {
    let server = MockServer::start().await;
    answer_pull_with(
        &server,
        ResponseTemplate::new(502)
            .set_body_string("<html><body><h1>502 Bad Gateway</h1></body></html>"),
    )
    .await;
    let error = token_forge(&server)
        .change_request(REPO, 1347)
        .await
        .unwrap_err();
    assert!(matches!(error, ForgeError::Unavailable { .. }), "{error}");
    assert_eq!(
        error.to_string(),
        format!("github unavailable while reading pull request {REPO}#1347: 502: Bad Gateway")
    );
    assert_eq!(error.retry_after(), Some(Duration::ZERO));
}

#[tokio::test]
async fn a_dropped_connection_is_unavailable() {
    // A server that hangs up on every connection.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            drop(socket);
        }
    });
    let forge = token_client_at(&format!("http://{address}"))
        .for_installation(None)
        .unwrap();
    let error = forge.change_request(REPO, 1347).await.unwrap_err();
    assert!(matches!(error, ForgeError::Unavailable { .. }), "{error}");
}

#[tokio::test]
async fn other_refusals_carry_githubs_message_and_are_not_retried() {
    let server = MockServer::start().await;
    answer_pull_with(
        &server,
        ResponseTemplate::new(403).set_body_json(json!({
            "message": "Resource not accessible by integration",
            "documentation_url": "https://docs.github.com/rest/pulls/pulls#get-a-pull-request",
            "status": "403"
        })),
    )
    .await;
    Mock::given(method("GET"))
        .and(path(format!("/repos/{REPO}/pulls/1")))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({
            "message": "Bad credentials",
            "documentation_url": "https://docs.github.com/rest",
            "status": "401"
        })))
        .mount(&server)
        .await;
    let forge = token_forge(&server);
    let error = forge.change_request(REPO, 1347).await.unwrap_err();
    assert_eq!(
        error.to_string(),
        format!(
            "github refused reading pull request {REPO}#1347 (403): Resource not accessible by integration"
        )
    );
    assert_eq!(error.retry_after(), None);
    let error = forge.change_request(REPO, 1).await.unwrap_err();
    assert!(
        matches!(error, ForgeError::Rejected { status: 401, .. }),
        "{error}"
    );
    assert!(!error.to_string().contains(TOKEN));

    let error = forge.change_request(REPO, 2).await.unwrap_err();
    assert!(matches!(error, ForgeError::NotFound { .. }), "{error}");
}

#[tokio::test]
async fn an_answer_in_the_wrong_shape_is_a_protocol_error() {
    let server = MockServer::start().await;
    answer_pull_with(
        &server,
        ResponseTemplate::new(200).set_body_json(json!({"number": "x"})),
    )
    .await;
    let error = token_forge(&server)
        .change_request(REPO, 1347)
        .await
        .unwrap_err();
    assert!(matches!(error, ForgeError::Protocol { .. }), "{error}");
}

#[tokio::test]
async fn a_repository_that_is_not_owner_slash_name_is_refused_before_any_request() {
    let server = MockServer::start().await;
    let forge = token_forge(&server);
    for bad in ["octo", "octo/../etc", "a/b/c", "/x", "octo/x?y"] {
        let error = forge.change_request(bad, 1).await.unwrap_err();
        assert!(matches!(error, ForgeError::Config(_)), "{bad}: {error}");
    }
    assert!(seen(&server).await.is_empty());
}
