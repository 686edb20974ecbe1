//! The HTTP side of the GitLab forge: the `gitlab` crate's `AsyncGitlab`, built on first use,
//! seen through [`Observed`] so every call is counted with its real status and a 429's
//! `Retry-After` survives (the crate keeps rate-limit headers only for typed JSON endpoints,
//! not for `raw`, `ignore` or `paged` queries); GitLab's answers mapped to [`ForgeError`];
//! writes through the shared [`Throttle`]; and artifact downloads streamed under a size cap.
//!
//! Downloads use their own HTTP client (the crate buffers whole bodies and follows redirects
//! with the `PRIVATE-TOKEN` header still attached): redirects are followed by hand, and the
//! token goes only to the configured instance's origin, never to the object storage an
//! artifact download usually redirects to.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use chrono::Utc;
use gitlab::api::{ApiError, AsyncClient, AsyncQuery, RestClient};
use gitlab::{AsyncGitlab, GitlabBuilder, GitlabError, RestError};
use http::HeaderMap;
use reqwest_gitlab as reqwest;
use tokio::sync::OnceCell;
use url::Url;

use crate::forge::throttle::Throttle;
use crate::forge::{ForgeError, ForgeResult, metrics};
use crate::store;

pub(super) const FORGE: store::Forge = store::Forge::GitLab;

/// What a 429 without a usable `Retry-After` or `RateLimit-Reset` makes us wait.
pub(super) const DEFAULT_RETRY_AFTER: Duration = Duration::from_secs(60);
/// One API request (a page of a paged query counts as one).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);
/// One artifact download.
const DOWNLOAD_TIMEOUT: Duration = Duration::from_secs(600);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);
const MAX_REDIRECTS: usize = 5;
/// How much of an error body is read, and how much of it a message keeps.
const ERROR_BODY_BYTES: usize = 64 * 1024;
const MESSAGE_CHARS: usize = 300;
const USER_AGENT: &str = concat!("posture/", env!("CARGO_PKG_VERSION"));

/// One GitLab instance and token.
pub(super) struct Api {
    /// The configured URL, normalised, for messages.
    base_url: String,
    /// `host[:port][/prefix]`, as `GitlabBuilder` takes it.
    host: String,
    /// `https` (or `http`: tests and plain-HTTP instances).
    secure: bool,
    /// `scheme://host[:port][/prefix]/api/v4/`.
    rest_url: Url,
    token: String,
    gitlab: OnceCell<Arc<AsyncGitlab>>,
    download: OnceCell<reqwest::Client>,
    throttle: Arc<Throttle>,
    /// posture's own username, once asked (see `people::identity`).
    pub(super) identity: OnceCell<String>,
}

impl Api {
    pub(super) fn new(url: &str, token: &str, throttle: Arc<Throttle>) -> ForgeResult<Api> {
        let config = |message: &str| ForgeError::Config(format!("{}: {message}", super::URL_VAR));
        let parsed = Url::parse(url.trim()).map_err(|e| config(&format!("not a URL ({e})")))?;
        let secure = match parsed.scheme() {
            "https" => true,
            "http" => false,
            _ => return Err(config("the scheme must be https or http")),
        };
        if !parsed.username().is_empty() || parsed.password().is_some() {
            return Err(config(&format!(
                "must not carry credentials; the token goes in {}",
                super::TOKEN_VAR
            )));
        }
        if parsed.query().is_some() || parsed.fragment().is_some() {
            return Err(config("must not have a query or a fragment"));
        }
        let Some(host) = parsed.host_str() else {
            return Err(config("has no host"));
        };
        let mut authority = host.to_owned();
        if let Some(port) = parsed.port() {
            authority.push_str(&format!(":{port}"));
        }
        let prefix = parsed.path().trim_end_matches('/');
        let host = format!("{authority}{prefix}");
        let base_url = format!("{}://{host}", parsed.scheme());
        let rest_url = Url::parse(&format!("{base_url}/api/v4/"))
            .map_err(|e| config(&format!("not a URL ({e})")))?;
        if token.trim().is_empty() || http::HeaderValue::from_str(token).is_err() {
            return Err(ForgeError::Config(format!(
                "{} is empty or not usable in an HTTP header",
                super::TOKEN_VAR
            )));
        }
        Ok(Api {
            base_url,
            host,
            secure,
            rest_url,
            token: token.to_owned(),
            gitlab: OnceCell::new(),
            download: OnceCell::new(),
            throttle,
            identity: OnceCell::new(),
        })
    }

    pub(super) fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The crate's client, built (and the token checked with `GET /user`) on first use. A
    /// failed build is not kept: the next call tries again.
    async fn gitlab(&self) -> ForgeResult<Arc<AsyncGitlab>> {
        let gitlab = self
            .gitlab
            .get_or_try_init(|| async {
                let mut builder = GitlabBuilder::new(self.host.clone(), self.token.clone());
                if !self.secure {
                    builder.insecure();
                }
                builder.user_agent(USER_AGENT);
                let what = format!("connecting to {}", self.base_url);
                match tokio::time::timeout(REQUEST_TIMEOUT, builder.build_async()).await {
                    Ok(Ok(gitlab)) => {
                        metrics::api_call(FORGE, "connect", Some(200));
                        Ok(Arc::new(gitlab))
                    }
                    Ok(Err(error)) => {
                        let error = map_build_error(error, &what);
                        metrics::api_call(FORGE, "connect", status_of(&error));
                        Err(error)
                    }
                    Err(_) => {
                        metrics::api_call(FORGE, "connect", None);
                        Err(timed_out(what, REQUEST_TIMEOUT))
                    }
                }
            })
            .await?;
        Ok(Arc::clone(gitlab))
    }

    /// Runs one query (a crate endpoint, or `raw`/`ignore`/`paged` of one). `write` sends it
    /// through the write budget first.
    pub(super) async fn call<T, Q>(
        &self,
        operation: &'static str,
        what: &str,
        write: bool,
        query: Q,
    ) -> ForgeResult<T>
    where
        Q: AsyncQuery<T, Observed> + Sync,
        T: Send + 'static,
    {
        let gitlab = self.gitlab().await?;
        if write {
            self.throttle
                .acquire(&format!("gitlab:{}", self.base_url))
                .await;
        }
        let client = Observed::new(gitlab, operation);
        match query.query_async(&client).await {
            Ok(value) => Ok(value),
            Err(_) if client.timed_out.load(Ordering::Relaxed) => {
                Err(timed_out(what.to_owned(), REQUEST_TIMEOUT))
            }
            Err(error) => Err(map_api_error(error, what, client.last())),
        }
    }

    /// Downloads `path` (relative to `/api/v4/`) into memory, stopping as soon as it passes
    /// `limit` bytes.
    pub(super) async fn download(
        &self,
        operation: &'static str,
        what: &str,
        path: &str,
        limit: u64,
    ) -> ForgeResult<Downloaded> {
        let client = self
            .download
            .get_or_try_init(|| async {
                reqwest::Client::builder()
                    .user_agent(USER_AGENT)
                    .redirect(reqwest::redirect::Policy::none())
                    .connect_timeout(CONNECT_TIMEOUT)
                    .build()
                    .map_err(|e| ForgeError::Config(format!("cannot set up an HTTP client: {e}")))
            })
            .await?;
        let mut url = self
            .rest_url
            .join(path)
            .map_err(|e| ForgeError::Config(format!("{what}: bad URL: {e}")))?;
        let origin = self.rest_url.origin();
        let mut token = reqwest::header::HeaderValue::from_str(&self.token).map_err(|_| {
            ForgeError::Config(format!(
                "{} is not usable in an HTTP header",
                super::TOKEN_VAR
            ))
        })?;
        token.set_sensitive(true);
        for _ in 0..=MAX_REDIRECTS {
            let mut request = client.get(url.clone()).timeout(DOWNLOAD_TIMEOUT);
            if url.origin() == origin {
                request = request.header("PRIVATE-TOKEN", token.clone());
            }
            let mut response = match request.send().await {
                Ok(response) => response,
                Err(e) => {
                    metrics::api_call(FORGE, operation, None);
                    // Without the URL: after a redirect it is object storage's presigned one.
                    return Err(unavailable(what, &error_chain(&e.without_url())));
                }
            };
            let status = response.status().as_u16();
            metrics::api_call(FORGE, operation, Some(status));
            if (300..400).contains(&status) {
                let Some(location) = response
                    .headers()
                    .get(reqwest::header::LOCATION)
                    .and_then(|l| l.to_str().ok())
                else {
                    return Err(protocol(what, &format!("a {status} without a Location")));
                };
                url = url
                    .join(location)
                    .map_err(|e| protocol(what, &format!("a redirect to a bad URL: {e}")))?;
                continue;
            }
            if !(200..300).contains(&status) {
                let retry_after = retry_after(response.headers());
                let mut body = Vec::new();
                while body.len() < ERROR_BODY_BYTES {
                    match response.chunk().await {
                        Ok(Some(chunk)) => body.extend_from_slice(&chunk),
                        _ => break,
                    }
                }
                let answer = Answer {
                    status,
                    retry_after,
                };
                return Err(by_status(status, gitlab_message(&body), what, Some(answer)));
            }
            if let Some(size) = response.content_length()
                && size > limit
            {
                return Ok(Downloaded::TooLarge { at_least: size });
            }
            let mut bytes = Vec::new();
            loop {
                match response.chunk().await {
                    Ok(Some(chunk)) => {
                        let size = (bytes.len() + chunk.len()) as u64;
                        if size > limit {
                            return Ok(Downloaded::TooLarge { at_least: size });
                        }
                        bytes.extend_from_slice(&chunk);
                    }
                    Ok(None) => return Ok(Downloaded::Complete(bytes)),
                    Err(e) => return Err(unavailable(what, &error_chain(&e.without_url()))),
                }
            }
        }
        Err(protocol(
            what,
            &format!("more than {MAX_REDIRECTS} redirects"),
        ))
    }
}

/// A download's result.
#[derive(Debug)]
pub(super) enum Downloaded {
    Complete(Vec<u8>),
    /// Stopped at the limit; the body is at least this long.
    TooLarge {
        at_least: u64,
    },
}

/// One HTTP answer, as [`Observed`] saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Answer {
    pub status: u16,
    pub retry_after: Option<Duration>,
}

/// The crate's client seen for one operation: counts every request in the metrics, keeps the
/// status and rate-limit headers of the latest answer for error mapping, and bounds each
/// request in time (the crate's client has no timeout).
pub(super) struct Observed {
    gitlab: Arc<AsyncGitlab>,
    operation: &'static str,
    last: Mutex<Option<Answer>>,
    /// A request got no answer in time (the error the query then returns is a stand-in).
    timed_out: AtomicBool,
}

impl Observed {
    fn new(gitlab: Arc<AsyncGitlab>, operation: &'static str) -> Observed {
        Observed {
            gitlab,
            operation,
            last: Mutex::new(None),
            timed_out: AtomicBool::new(false),
        }
    }

    fn last(&self) -> Option<Answer> {
        self.last.lock().ok().and_then(|last| *last)
    }
}

impl RestClient for Observed {
    type Error = RestError;

    fn rest_endpoint(&self, endpoint: &str) -> Result<Url, ApiError<RestError>> {
        self.gitlab.rest_endpoint(endpoint)
    }

    fn instance_endpoint(&self, endpoint: &str) -> Result<Url, ApiError<RestError>> {
        self.gitlab.instance_endpoint(endpoint)
    }
}

#[async_trait]
impl AsyncClient for Observed {
    async fn rest_async(
        &self,
        request: http::request::Builder,
        body: Vec<u8>,
    ) -> Result<http::Response<Bytes>, ApiError<RestError>> {
        let Ok(result) =
            tokio::time::timeout(REQUEST_TIMEOUT, self.gitlab.rest_async(request, body)).await
        else {
            metrics::api_call(FORGE, self.operation, None);
            self.timed_out.store(true, Ordering::Relaxed);
            // Only a stand-in: `Api::call` reports the timeout itself.
            return Err(ApiError::GitlabService {
                status: http::StatusCode::GATEWAY_TIMEOUT,
                data: Vec::new(),
            });
        };
        let answer = result.as_ref().ok().map(|response| Answer {
            status: response.status().as_u16(),
            retry_after: retry_after(response.headers()),
        });
        metrics::api_call(FORGE, self.operation, answer.map(|a| a.status));
        if let Ok(mut last) = self.last.lock() {
            *last = answer;
        }
        result
    }
}

/// The wait a 429 asks for: `Retry-After` seconds, else until `RateLimit-Reset` (a Unix time).
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let number = |name: &str| headers.get(name)?.to_str().ok()?.trim().parse::<i64>().ok();
    if let Some(seconds) = number("retry-after") {
        return Some(Duration::from_secs(seconds.max(1) as u64));
    }
    let reset = number("ratelimit-reset")?;
    Some(Duration::from_secs(
        (reset - Utc::now().timestamp()).max(1) as u64
    ))
}

/// Maps the crate's error for `what` to a [`ForgeError`]; `last` is the answer that caused
/// it, when one came.
pub(super) fn map_api_error(
    error: ApiError<RestError>,
    what: &str,
    last: Option<Answer>,
) -> ForgeError {
    match error {
        ApiError::GitlabRateLimited {
            retry_after,
            rl_reset,
            ..
        } => {
            let until_reset = (rl_reset - Utc::now()).to_std().ok();
            let wait = Some(retry_after)
                .filter(|w| !w.is_zero())
                .or(last.and_then(|a| a.retry_after))
                .or(until_reset.filter(|w| !w.is_zero() && rl_reset.timestamp() > 0))
                .unwrap_or(DEFAULT_RETRY_AFTER);
            rate_limited(what, wait)
        }
        ApiError::GitlabWithStatus { status, msg } => {
            by_status(status.as_u16(), clip(&msg), what, last)
        }
        ApiError::GitlabObjectWithStatus { status, obj } => {
            by_status(status.as_u16(), clip(&obj.to_string()), what, last)
        }
        ApiError::GitlabUnrecognizedWithStatus { status, obj } => {
            by_status(status.as_u16(), clip(&obj.to_string()), what, last)
        }
        ApiError::GitlabService { status, data } => {
            by_status(status.as_u16(), gitlab_message(&data), what, last)
        }
        ApiError::Client { source } => match source {
            RestError::AuthError { .. } => ForgeError::Config(format!(
                "{} is not usable in an HTTP header",
                super::TOKEN_VAR
            )),
            RestError::Communication { source } => unavailable(what, &error_chain(&source)),
            other => unavailable(what, &other.to_string()),
        },
        ApiError::Auth { .. } => ForgeError::Config(format!(
            "{} is not usable in an HTTP header",
            super::TOKEN_VAR
        )),
        ApiError::MovedPermanently { location } => ForgeError::Rejected {
            forge: FORGE,
            what: what.to_owned(),
            status: 301,
            message: format!(
                "moved permanently to {}",
                location.as_deref().unwrap_or("an unnamed place")
            ),
        },
        ApiError::UrlParse { source } => {
            ForgeError::Config(format!("{what}: cannot build the URL: {source}"))
        }
        ApiError::Json { source } => protocol(what, &format!("not JSON: {source}")),
        ApiError::DataType { source, typename } => {
            protocol(what, &format!("not a {}: {source}", short_type(typename)))
        }
        other => protocol(what, &clip(&other.to_string())),
    }
}

/// Maps the crate's error while building the client.
fn map_build_error(error: GitlabError, what: &str) -> ForgeError {
    match error {
        GitlabError::Api { source } => map_api_error(source, what, None),
        GitlabError::Communication { source } => unavailable(what, &error_chain(&source)),
        GitlabError::AuthError { .. } => ForgeError::Config(format!(
            "{} is not usable in an HTTP header",
            super::TOKEN_VAR
        )),
        GitlabError::UrlParse { source } => {
            ForgeError::Config(format!("{}: {source}", super::URL_VAR))
        }
        other => unavailable(what, &clip(&other.to_string())),
    }
}

/// An HTTP error status for `what`, with GitLab's message.
pub(super) fn by_status(
    status: u16,
    message: String,
    what: &str,
    last: Option<Answer>,
) -> ForgeError {
    let what = what.to_owned();
    match status {
        429 => rate_limited(
            &what,
            last.and_then(|a| a.retry_after)
                .unwrap_or(DEFAULT_RETRY_AFTER),
        ),
        404 => ForgeError::NotFound { forge: FORGE, what },
        408 | 500..=599 => ForgeError::Unavailable {
            forge: FORGE,
            what,
            message: format!("{status}: {message}"),
        },
        200..=299 => ForgeError::Protocol {
            forge: FORGE,
            what,
            message: format!("not JSON: {message}"),
        },
        _ => ForgeError::Rejected {
            forge: FORGE,
            what,
            status,
            message,
        },
    }
}

fn rate_limited(what: &str, wait: Duration) -> ForgeError {
    metrics::rate_limited(FORGE, wait);
    ForgeError::RateLimited {
        forge: FORGE,
        what: what.to_owned(),
        retry_after: wait,
    }
}

pub(super) fn unavailable(what: &str, message: &str) -> ForgeError {
    ForgeError::Unavailable {
        forge: FORGE,
        what: what.to_owned(),
        message: message.to_owned(),
    }
}

pub(super) fn protocol(what: &str, message: &str) -> ForgeError {
    ForgeError::Protocol {
        forge: FORGE,
        what: what.to_owned(),
        message: message.to_owned(),
    }
}

fn timed_out(what: String, after: Duration) -> ForgeError {
    ForgeError::Unavailable {
        forge: FORGE,
        what,
        message: format!("no answer within {}s", after.as_secs()),
    }
}

/// The HTTP status an error came with, for the metrics.
fn status_of(error: &ForgeError) -> Option<u16> {
    match error {
        ForgeError::RateLimited { .. } => Some(429),
        ForgeError::NotFound { .. } => Some(404),
        ForgeError::Rejected { status, .. } => Some(*status),
        _ => None,
    }
}

/// GitLab's `message` (or `error`) from an error body; else the body's text, clipped.
pub(super) fn gitlab_message(body: &[u8]) -> String {
    if let Ok(value) = serde_json::from_slice::<serde_json::Value>(body) {
        let message = value.get("message").or_else(|| value.get("error"));
        return match message {
            Some(serde_json::Value::String(text)) => clip(text),
            Some(other) => clip(&other.to_string()),
            None => clip(&value.to_string()),
        };
    }
    let text = String::from_utf8_lossy(body);
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if text.is_empty() {
        "no message".to_owned()
    } else {
        clip(&text)
    }
}

/// At most [`MESSAGE_CHARS`] characters of `text`.
fn clip(text: &str) -> String {
    match text.char_indices().nth(MESSAGE_CHARS) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_owned(),
    }
}

/// A transport error with its causes. The API's URLs carry no credentials (the token travels
/// in a header); a download's error is stripped of its URL first, which after a redirect is
/// object storage's presigned one.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    clip(&message)
}

/// `alloc::vec::Vec<posture::forge::gitlab::types::Diff>` → `Vec<Diff>`.
fn short_type(typename: &str) -> String {
    let mut out = String::new();
    let mut word = String::new();
    for c in typename.chars() {
        if c.is_alphanumeric() || c == '_' || c == ':' {
            word.push(c);
        } else {
            out.push_str(word.rsplit("::").next().unwrap_or(&word));
            word.clear();
            out.push(c);
        }
    }
    out.push_str(word.rsplit("::").next().unwrap_or(&word));
    out
}
