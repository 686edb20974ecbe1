//! The HTTP receiver of `posture serve`: webhook endpoints for GitHub and GitLab, health and
//! readiness probes, and Prometheus metrics.
//!
//! A webhook is authenticated over its raw body, parsed into the few fields posture needs,
//! mapped to jobs ([`github`], [`gitlab`]), and handed to an [`Intake`] that stores the delivery
//! and its jobs durably. The answer comes only after that: 202 when stored, 200 for a
//! redelivery or an event posture ignores, 401 unauthenticated (nothing stored), 400 malformed,
//! 413 over [`MAX_BODY_BYTES`], 503 when storage failed (so the forge redelivers). No work is
//! done here beyond that: the worker runs the jobs.
//!
//! A body is read only once what can be checked without it is: GitLab's token, GitHub's
//! signature header. Bodies over [`SMALL_BODY_BYTES`] (or of unknown length) are read at most
//! [`MAX_LARGE_BODIES`] at a time before their signature is verified; one more gets 503 with
//! `Retry-After` rather than memory. How long a connection may take to send its headers and
//! how many may be open is [`listen`]'s business.

mod github;
mod gitlab;
pub mod intake;
pub mod listen;
pub mod metrics;
pub mod secrets;

#[cfg(test)]
mod tests;

use std::sync::Arc;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use tokio::sync::Semaphore;
use tracing::{Instrument, debug, error, info, warn};

pub use self::intake::{
    Accepted, Delivery, Forge, Intake, IntakeError, JobKind, NewJob, StoreIntake,
};
pub use self::metrics::{Metrics, MetricsError};
pub use self::secrets::{Secret, SecretsError, WebhookSecrets};

use self::metrics::Outcome;
use self::secrets::AuthError;

/// The largest webhook body accepted; larger ones get 413.
pub const MAX_BODY_BYTES: usize = 25 * 1024 * 1024;

/// Bodies up to this size (by `Content-Length`) are read without waiting for a turn.
pub const SMALL_BODY_BYTES: u64 = 1024 * 1024;

/// How many larger bodies are read at once, before their signature can be checked.
pub const MAX_LARGE_BODIES: usize = 4;

/// How long a webhook body may take to arrive by default.
pub const DEFAULT_BODY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// The longest delivery id accepted (forges send UUIDs).
const MAX_DELIVERY_ID_LEN: usize = 128;

/// What the routes share.
pub struct AppState<I> {
    pub intake: Arc<I>,
    pub secrets: Arc<WebhookSecrets>,
    pub metrics: Metrics,
    /// Turns to read a body over [`SMALL_BODY_BYTES`].
    large_bodies: Arc<Semaphore>,
    /// How long a body may take to arrive, whatever its size.
    body_timeout: std::time::Duration,
}

impl<I> AppState<I> {
    pub fn new(intake: I, secrets: WebhookSecrets, metrics: Metrics) -> Self {
        AppState {
            intake: Arc::new(intake),
            secrets: Arc::new(secrets),
            metrics,
            large_bodies: Arc::new(Semaphore::new(MAX_LARGE_BODIES)),
            body_timeout: DEFAULT_BODY_TIMEOUT,
        }
    }

    /// How long a webhook body may take to arrive (a slow sender holds a connection, and for
    /// a large body a turn, no longer than this).
    pub fn with_body_timeout(mut self, timeout: std::time::Duration) -> Self {
        self.body_timeout = timeout;
        self
    }
}

impl<I> Clone for AppState<I> {
    fn clone(&self) -> Self {
        AppState {
            intake: Arc::clone(&self.intake),
            secrets: Arc::clone(&self.secrets),
            metrics: self.metrics.clone(),
            large_bodies: Arc::clone(&self.large_bodies),
            body_timeout: self.body_timeout,
        }
    }
}

/// The server's public routes: `POST /webhooks/github`, `POST /webhooks/gitlab`,
/// `GET /healthz`, `GET /readyz`. `/metrics` is [`metrics_router`]'s, merged here or served
/// on a listener of its own.
pub fn router<I: Intake>(state: AppState<I>) -> Router {
    Router::new()
        .route("/webhooks/github", post(github_webhook::<I>))
        .route("/webhooks/gitlab", post(gitlab_webhook::<I>))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz::<I>))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(state)
}

/// `GET /metrics` (Prometheus).
pub fn metrics_router<I: Intake>(state: AppState<I>) -> Router {
    Router::new()
        .route("/metrics", get(metrics_endpoint::<I>))
        .with_state(state)
}

async fn healthz() -> &'static str {
    "ok"
}

/// How long the edge waits on storage before answering without it: a database that stopped
/// answering must not hold probes, scrapes or forges for sqlx's 30 s acquire timeout.
pub const STORAGE_WAIT: std::time::Duration = std::time::Duration::from_secs(2);

async fn readyz<I: Intake>(State(state): State<AppState<I>>) -> Response {
    if matches!(
        tokio::time::timeout(STORAGE_WAIT, state.intake.ready()).await,
        Ok(true)
    ) {
        (StatusCode::OK, "ready").into_response()
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "not ready").into_response()
    }
}

async fn metrics_endpoint<I: Intake>(State(state): State<AppState<I>>) -> Response {
    // Unknown depth (storage unreachable or slow) leaves the gauge at its last value: the rest
    // is rendered from memory.
    if let Ok(Some(depth)) = tokio::time::timeout(STORAGE_WAIT, state.intake.queue_depth()).await {
        self::metrics::record_queue_depth(depth);
    }
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics.render(),
    )
        .into_response()
}

async fn github_webhook<I: Intake>(
    State(state): State<AppState<I>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let secrets = state.secrets.github_secrets();
    let signature = header_bytes(&headers, "x-hub-signature-256");
    // No signature to check (or no secret to check it with): refused unread.
    if let Err(refused) = secrets::github_signature(&secrets, signature) {
        return receive::<I, github::Event>(&state, Forge::GitHub, Err(refused), &headers, &[])
            .await;
    }
    let body =
        match read_body::<I, github::Event>(&state, Forge::GitHub, &headers, body, false).await {
            Ok(body) => body,
            Err(reply) => return reply,
        };
    let auth = secrets::verify_github(&secrets, signature, &body);
    receive::<I, github::Event>(&state, Forge::GitHub, auth, &headers, &body).await
}

async fn gitlab_webhook<I: Intake>(
    State(state): State<AppState<I>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    // GitLab's token is a header: checked before a byte of the body is read.
    let auth = secrets::verify_gitlab(
        state.secrets.gitlab.as_ref(),
        header_bytes(&headers, "x-gitlab-token"),
    );
    if auth.is_err() {
        return receive::<I, gitlab::Event>(&state, Forge::GitLab, auth, &headers, &[]).await;
    }
    let body =
        match read_body::<I, gitlab::Event>(&state, Forge::GitLab, &headers, body, true).await {
            Ok(body) => body,
            Err(reply) => return reply,
        };
    receive::<I, gitlab::Event>(&state, Forge::GitLab, auth, &headers, &body).await
}

/// Reads a webhook body of at most [`MAX_BODY_BYTES`]. One not `authenticated` yet (GitHub's
/// signature covers the body) over [`SMALL_BODY_BYTES`], or of unknown length, waits for no
/// turn: with [`MAX_LARGE_BODIES`] being read, it gets 503.
async fn read_body<I, E: WebhookEvent>(
    state: &AppState<I>,
    forge: Forge,
    headers: &HeaderMap,
    body: Body,
    authenticated: bool,
) -> Result<Bytes, Response> {
    let event = event_of::<E>(headers).1.map_or("other", E::name);
    let refuse = |outcome: Outcome, response: Response| {
        self::metrics::record_delivery(forge, event, outcome);
        response
    };
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|length| length > MAX_BODY_BYTES as u64) {
        return Err(refuse(Outcome::TooLarge, too_large()));
    }
    let _turn = if !authenticated && declared.is_none_or(|length| length > SMALL_BODY_BYTES) {
        match Arc::clone(&state.large_bodies).try_acquire_owned() {
            Ok(turn) => Some(turn),
            Err(_) => {
                warn!("refused a large delivery: {MAX_LARGE_BODIES} are being read already");
                let busy = (
                    StatusCode::SERVICE_UNAVAILABLE,
                    [(header::RETRY_AFTER, "5")],
                    axum::Json(json!({"status": "busy"})),
                );
                return Err(refuse(Outcome::Busy, busy.into_response()));
            }
        }
    } else {
        None
    };
    let read = tokio::time::timeout(
        state.body_timeout,
        axum::body::to_bytes(body, MAX_BODY_BYTES),
    );
    let Ok(read) = read.await else {
        warn!("refused a delivery whose body did not arrive in time");
        let late = (
            StatusCode::REQUEST_TIMEOUT,
            axum::Json(json!({"status": "timeout"})),
        );
        return Err(refuse(Outcome::Malformed, late.into_response()));
    };
    read.map_err(|error| {
        let over_limit = std::error::Error::source(&error)
            .is_some_and(|cause| cause.is::<http_body_util::LengthLimitError>());
        if over_limit {
            refuse(Outcome::TooLarge, too_large())
        } else {
            warn!(%error, "reading a delivery's body failed");
            let malformed = Reply::Malformed("the body could not be read".to_owned());
            refuse(Outcome::Malformed, malformed.into_response())
        }
    })
}

fn too_large() -> Response {
    (
        StatusCode::PAYLOAD_TOO_LARGE,
        axum::Json(json!({"status": "too large", "limit": MAX_BODY_BYTES})),
    )
        .into_response()
}

fn header_bytes<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a [u8]> {
    headers.get(name).map(|value| value.as_bytes())
}

/// A forge's webhook events: how to recognise them and which jobs they ask for.
trait WebhookEvent: Copy {
    /// The header naming the event.
    const EVENT_HEADER: &'static str;
    /// The header carrying the delivery's unique id.
    const DELIVERY_HEADER: &'static str;

    /// The event named by the header, if posture handles it.
    fn parse(header: &str) -> Option<Self>;

    /// The event's canonical name, for storage and metrics.
    fn name(self) -> &'static str;

    /// What to do with a verified payload of this event.
    fn route(self, payload: &Value) -> Result<Route, PayloadError>;
}

/// What a forge module makes of a verified payload.
#[derive(Debug, PartialEq)]
enum Route {
    /// Store the delivery with these jobs (possibly none).
    Store {
        repository: Option<String>,
        action: Option<String>,
        jobs: Vec<NewJob>,
    },
    /// Acknowledge without storing, for this reason.
    Ignore(&'static str),
}

/// The payload is not what its event promises.
#[derive(Debug, thiserror::Error)]
enum PayloadError {
    #[error("invalid payload: {0}")]
    Shape(#[from] serde_path_to_error::Error<serde_json::Error>),
    #[error("invalid payload: missing {field}")]
    Missing { field: &'static str },
}

/// Deserializes the fields posture needs, naming the path of the first bad one.
fn typed<T: DeserializeOwned>(payload: &Value) -> Result<T, PayloadError> {
    Ok(serde_path_to_error::deserialize(payload)?)
}

/// The answer to a webhook.
#[derive(Debug)]
enum Reply {
    Accepted { jobs: usize },
    Duplicate,
    Ignored(&'static str),
    Unauthorized,
    Malformed(String),
    Unavailable,
}

impl Reply {
    fn outcome(&self) -> Outcome {
        match self {
            Reply::Accepted { .. } => Outcome::Accepted,
            Reply::Duplicate => Outcome::Duplicate,
            Reply::Ignored(_) => Outcome::Ignored,
            Reply::Unauthorized => Outcome::Unauthorized,
            Reply::Malformed(_) => Outcome::Malformed,
            Reply::Unavailable => Outcome::Error,
        }
    }
}

impl IntoResponse for Reply {
    fn into_response(self) -> Response {
        let (status, body) = match self {
            Reply::Accepted { jobs } => (
                StatusCode::ACCEPTED,
                json!({"status": "accepted", "jobs": jobs}),
            ),
            Reply::Duplicate => (StatusCode::OK, json!({"status": "duplicate"})),
            Reply::Ignored(reason) => (
                StatusCode::OK,
                json!({"status": "ignored", "reason": reason}),
            ),
            Reply::Unauthorized => (StatusCode::UNAUTHORIZED, json!({"status": "unauthorized"})),
            Reply::Malformed(error) => (
                StatusCode::BAD_REQUEST,
                json!({"status": "malformed", "error": error}),
            ),
            Reply::Unavailable => (StatusCode::SERVICE_UNAVAILABLE, json!({"status": "error"})),
        };
        (status, axum::Json(body)).into_response()
    }
}

/// Authenticates, parses, routes and stores one delivery, and counts it.
async fn receive<I: Intake, E: WebhookEvent>(
    state: &AppState<I>,
    forge: Forge,
    auth: Result<(), AuthError>,
    headers: &HeaderMap,
    body: &[u8],
) -> Response {
    let (event_header, event) = event_of::<E>(headers);
    let event_label = event.map_or("other", E::name);
    let span = tracing::info_span!(
        "webhook",
        %forge,
        event = event_label,
        delivery_id = tracing::field::Empty,
        repository = tracing::field::Empty,
    );
    let reply = async {
        let delivery_id = delivery_id(headers, E::DELIVERY_HEADER);
        if let Some(id) = &delivery_id {
            tracing::Span::current().record("delivery_id", id.as_str());
        }
        if let Err(reason) = auth {
            match reason {
                AuthError::NotConfigured(var) => {
                    warn!("rejected a delivery: no webhook secret is configured ({var} is unset)");
                }
                other => warn!(reason = %other, "rejected an unauthenticated delivery"),
            }
            return Reply::Unauthorized;
        }
        let (Some(event_name), Some(delivery_id)) = (event_header, delivery_id) else {
            warn!(
                "rejected a delivery without valid {} and {} headers",
                E::EVENT_HEADER,
                E::DELIVERY_HEADER
            );
            return Reply::Malformed(format!(
                "the {} and {} headers are required",
                E::EVENT_HEADER,
                E::DELIVERY_HEADER
            ));
        };
        let Some(event) = event else {
            debug!(
                event = event_name,
                "ignored an event posture does not handle"
            );
            return Reply::Ignored("event not handled");
        };
        let payload = match parse_json(headers, body) {
            Ok(payload) => payload,
            Err(reply) => return reply,
        };
        let route = match event.route(&payload) {
            Ok(route) => route,
            Err(error) => {
                warn!(%error, "rejected a malformed delivery");
                return Reply::Malformed(error.to_string());
            }
        };
        match route {
            Route::Ignore(reason) => {
                debug!(reason, "ignored a delivery");
                Reply::Ignored(reason)
            }
            Route::Store {
                repository,
                action,
                jobs,
            } => {
                if let Some(repository) = &repository {
                    tracing::Span::current().record("repository", repository.as_str());
                }
                let delivery = Delivery {
                    forge,
                    delivery_id,
                    event: event.name().to_owned(),
                    action,
                    repository,
                    payload,
                };
                store(state.intake.as_ref(), delivery, jobs).await
            }
        }
    }
    .instrument(span)
    .await;
    self::metrics::record_delivery(forge, event_label, reply.outcome());
    reply.into_response()
}

/// The event header as sent, and the event it names if posture handles it.
fn event_of<E: WebhookEvent>(headers: &HeaderMap) -> (Option<&str>, Option<E>) {
    let header = headers
        .get(E::EVENT_HEADER)
        .and_then(|value| value.to_str().ok());
    (header, header.and_then(E::parse))
}

fn delivery_id(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|value| value.to_str().ok())
        .filter(|id| !id.is_empty() && id.len() <= MAX_DELIVERY_ID_LEN)
        .map(str::to_owned)
}

fn parse_json(headers: &HeaderMap, body: &[u8]) -> Result<Value, Reply> {
    let form_encoded = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("application/x-www-form-urlencoded"));
    if form_encoded {
        warn!("rejected a form-encoded delivery");
        return Err(Reply::Malformed(
            "the webhook must send content type application/json".to_owned(),
        ));
    }
    serde_json::from_slice(body).map_err(|error| {
        warn!(%error, "rejected a delivery that is not JSON");
        Reply::Malformed(format!("invalid JSON: {error}"))
    })
}

async fn store<I: Intake>(intake: &I, delivery: Delivery, jobs: Vec<NewJob>) -> Reply {
    let count = jobs.len();
    let Ok(accepted) = tokio::time::timeout(STORAGE_WAIT, intake.accept(delivery, jobs)).await
    else {
        // Nothing was committed (the transaction is dropped): the forge may deliver again.
        error!("storing a delivery timed out: the database does not answer");
        return Reply::Unavailable;
    };
    match accepted {
        Ok(Accepted::Stored) => {
            info!(jobs = count, "stored a delivery");
            Reply::Accepted { jobs: count }
        }
        Ok(Accepted::Duplicate) => {
            info!("acknowledged a redelivery");
            Reply::Duplicate
        }
        Err(error) => {
            let cause = std::error::Error::source(&error)
                .map(ToString::to_string)
                .unwrap_or_default();
            error!(%error, %cause, "storing a delivery failed");
            Reply::Unavailable
        }
    }
}
