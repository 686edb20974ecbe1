//! The one road every GitHub request takes: authentication (personal token, or a GitHub
//! App's JWT and its installation tokens, through octocrab), the content-creation throttle,
//! per-call metrics, a cap on every answer's size, and the mapping of HTTP outcomes to
//! [`ForgeError`] — so no method of the forge decides for itself what a 403 means.
//!
//! octocrab is used as an authenticated HTTP transport (`build_request` + `execute`): it
//! mints and caches installation tokens (refreshed 30 s before they expire, and once more on
//! a 401), follows redirects without carrying `Authorization` to another origin, and in this
//! build has no retry layer (posture retries at the job level). Requests are made with paths
//! relative to the API URL, which is what octocrab authenticates.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http::{HeaderMap, HeaderValue, Method, header};
use http_body_util::BodyExt;
use octocrab::Octocrab;
use octocrab::secrecy::{ExposeSecret, SecretString};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde::de::DeserializeOwned;
use serde_json::Value;
use tokio::sync::OnceCell;

use crate::forge::metrics;
use crate::forge::throttle::Throttle;
use crate::forge::{ForgeError, ForgeResult};
use crate::store;

pub(crate) const FORGE: store::Forge = store::Forge::GitHub;

/// GitHub's JSON media type.
pub(crate) const JSON: &str = "application/vnd.github+json";
/// A file's bytes, as they are, from the contents API.
pub(crate) const RAW: &str = "application/vnd.github.raw";

/// The most posture reads of an ordinary JSON answer (a tree of a very large repository is
/// tens of MB).
pub(crate) const MAX_JSON_BYTES: u64 = 256 * 1024 * 1024;
/// The most read of an error answer: enough for GitHub's message.
const MAX_ERROR_BYTES: u64 = 64 * 1024;
/// Secondary rate limits that name no wait: GitHub says to wait at least a minute.
const DEFAULT_RATE_LIMIT_WAIT: Duration = Duration::from_secs(60);

/// Characters left as they are in a path segment or query value; everything else is
/// percent-encoded (RFC 3986 unreserved).
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Percent-encodes one path segment or query value.
pub(crate) fn encode(segment: &str) -> String {
    utf8_percent_encode(segment, SEGMENT).to_string()
}

/// Percent-encodes a repository path segment by segment, keeping the `/` between them.
pub(crate) fn encode_path(path: &str) -> String {
    path.split('/').map(encode).collect::<Vec<_>>().join("/")
}

/// `/repos/{owner}/{name}` for an `owner/name` repository.
pub(crate) fn repo_path(repository: &str) -> ForgeResult<String> {
    let (owner, name) = split_repository(repository)?;
    Ok(format!("/repos/{}/{}", encode(owner), encode(name)))
}

/// `owner/name` → (`owner`, `name`); anything else is posture's mistake, not GitHub's.
pub(crate) fn split_repository(repository: &str) -> ForgeResult<(&str, &str)> {
    let valid = |part: &str| {
        !part.is_empty()
            && part != "."
            && part != ".."
            && part
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    };
    match repository.split_once('/') {
        Some((owner, name)) if valid(owner) && valid(name) => Ok((owner, name)),
        _ => Err(ForgeError::Config(format!(
            "'{repository}' is not a GitHub repository name of the form owner/name"
        ))),
    }
}

/// Where GraphQL lives: `{api}/graphql` on github.com (and in tests); GitHub Enterprise
/// Server, whose REST API is `https://HOST/api/v3`, serves it at `https://HOST/api/graphql`.
/// This is GHES's `https://HOST/api`; `None` when GraphQL is under the REST API URL itself.
pub(crate) fn graphql_base(api_url: &str) -> Option<&str> {
    api_url
        .strip_suffix("/v3")
        .filter(|base| base.ends_with("/api"))
}

/// How the client authenticates.
pub(crate) enum Mode {
    Token(SecretString),
    /// The `GITHUB_TOKEN` of a GitHub Actions job: an installation token of the GitHub
    /// Actions App, which may create check runs (with `checks: write`) but cannot read
    /// `GET /user`; it comments as [`ACTIONS_LOGIN`].
    Actions(SecretString),
    App {
        app_id: u64,
    },
}

/// The login of comments made with a GitHub Actions job's `GITHUB_TOKEN`.
pub(crate) const ACTIONS_LOGIN: &str = "github-actions[bot]";
/// The id of the GitHub Actions App, whose check runs a `GITHUB_TOKEN` creates.
pub(crate) const ACTIONS_APP_ID: u64 = 15368;

/// What every forge made by one [`super::GitHubClient`] shares: the HTTP stack, the
/// installation tokens, the content budget.
pub(crate) struct Shared {
    /// No trailing slash.
    pub api_url: String,
    /// GHES only: a client for `https://HOST/api`, where `/graphql` lives, without
    /// credentials (each request carries the session's token).
    pub graphql_crab: Option<Octocrab>,
    pub mode: Mode,
    /// Authenticated with the personal token, or as the App (JWT).
    pub crab: Octocrab,
    /// One octocrab per installation, so its token cache outlives a job.
    pub installations: Mutex<HashMap<u64, Arc<Octocrab>>>,
    pub throttle: Arc<Throttle>,
    /// Bound on one request, answer included.
    pub request_timeout: Duration,
    /// Bound on one artifact download.
    pub download_timeout: Duration,
    /// posture's own login, once asked (see [`super::people::identity`]).
    pub identity: OnceCell<String>,
}

impl fmt::Debug for Shared {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let auth = match &self.mode {
            Mode::Token(_) => "personal token".to_owned(),
            Mode::Actions(_) => "GitHub Actions token".to_owned(),
            Mode::App { app_id } => format!("GitHub App {app_id}"),
        };
        f.debug_struct("GitHubClient")
            .field("api_url", &self.api_url)
            .field("auth", &auth)
            .finish_non_exhaustive()
    }
}

impl Shared {
    /// The octocrab of an installation, made once per process and kept for its token.
    pub fn installation(&self, id: u64) -> ForgeResult<Arc<Octocrab>> {
        let mut installations = self
            .installations
            .lock()
            .map_err(|_| ForgeError::Config("the installation cache is poisoned".to_owned()))?;
        if let Some(crab) = installations.get(&id) {
            return Ok(crab.clone());
        }
        let crab = self.crab.installation(id.into()).map_err(|_| {
            ForgeError::Config("installation access needs GitHub App credentials".to_owned())
        })?;
        let crab = Arc::new(crab);
        installations.insert(id, crab.clone());
        Ok(crab)
    }

    /// The HTTP road with the client's own credentials: as the App itself (JWT) for the few
    /// App-level endpoints, or as the personal token.
    pub fn as_app(&self) -> Http<'_> {
        Http {
            shared: self,
            crab: &self.crab,
            installation: None,
        }
    }
}

/// Which credentials a forge uses.
pub(crate) enum Session {
    Token,
    Installation(u64, Arc<Octocrab>),
    /// App mode without an installation id: found from the first repository asked about.
    FromRepository(OnceCell<(u64, Arc<Octocrab>)>),
}

impl Session {
    pub async fn http<'a>(&'a self, shared: &'a Shared, repository: &str) -> ForgeResult<Http<'a>> {
        let (crab, installation) = match self {
            Session::Token => (&shared.crab, None),
            Session::Installation(id, crab) => (crab.as_ref(), Some(*id)),
            Session::FromRepository(cell) => {
                let (id, crab) = cell
                    .get_or_try_init(|| async {
                        let id = installation_id(shared, repository).await?;
                        Ok::<_, ForgeError>((id, shared.installation(id)?))
                    })
                    .await?;
                (crab.as_ref(), Some(*id))
            }
        };
        Ok(Http {
            shared,
            crab,
            installation,
        })
    }
}

/// `GET /repos/{owner}/{repo}/installation` as the App: which installation serves a
/// repository.
pub(crate) async fn installation_id(shared: &Shared, repository: &str) -> ForgeResult<u64> {
    #[derive(serde::Deserialize)]
    struct Installation {
        id: u64,
    }
    if !matches!(shared.mode, Mode::App { .. }) {
        return Err(ForgeError::Config(
            "installations exist only for GitHub App credentials".to_owned(),
        ));
    }
    let path = format!("{}/installation", repo_path(repository)?);
    let what = format!("finding the App installation of {repository}");
    let installation: Installation = shared
        .as_app()
        .get_json(&path, "get_installation", &what)
        .await?;
    Ok(installation.id)
}

/// `GET /orgs/{owner}/installation`, else `GET /users/{owner}/installation`, as the App:
/// which installation serves an org (or a user's account) as a whole.
pub(crate) async fn owner_installation_id(shared: &Shared, owner: &str) -> ForgeResult<u64> {
    #[derive(serde::Deserialize)]
    struct Installation {
        id: u64,
    }
    if !matches!(shared.mode, Mode::App { .. }) {
        return Err(ForgeError::Config(
            "installations exist only for GitHub App credentials".to_owned(),
        ));
    }
    let what = format!("finding the App installation of {owner}");
    let app = shared.as_app();
    let org = format!("/orgs/{}/installation", encode(owner));
    let installation: Installation = match app.get_json(&org, "get_org_installation", &what).await {
        Err(ForgeError::NotFound { .. }) => {
            let user = format!("/users/{}/installation", encode(owner));
            app.get_json(&user, "get_user_installation", &what).await?
        }
        other => other?,
    };
    Ok(installation.id)
}

/// One request as posture describes it.
pub(crate) struct Call<'a> {
    pub method: Method,
    /// Relative to the client's base URL (`/repos/…`, `/graphql`): octocrab authenticates
    /// only requests to its own host.
    pub path: String,
    /// The metrics label: `get_pull`, `create_review`, …
    pub operation: &'static str,
    /// For errors: "reading pull request o/r#5".
    pub what: &'a str,
    pub accept: &'static str,
    pub body: Option<&'a Value>,
    /// The most bytes of the answer read; past it the answer is marked truncated.
    pub limit: u64,
    /// Counts against GitHub's content-creation budget.
    pub creates_content: bool,
    pub timeout: Option<Duration>,
}

impl<'a> Call<'a> {
    pub fn get(path: String, operation: &'static str, what: &'a str) -> Call<'a> {
        Call {
            method: Method::GET,
            path,
            operation,
            what,
            accept: JSON,
            body: None,
            limit: MAX_JSON_BYTES,
            creates_content: false,
            timeout: None,
        }
    }

    /// A POST, PATCH or PUT with a JSON body: content creation, throttled.
    pub fn send(
        method: Method,
        path: String,
        body: &'a Value,
        operation: &'static str,
        what: &'a str,
    ) -> Call<'a> {
        Call {
            method,
            path,
            operation,
            what,
            accept: JSON,
            body: Some(body),
            limit: MAX_JSON_BYTES,
            creates_content: true,
            timeout: None,
        }
    }
}

/// A successful answer.
#[derive(Debug)]
pub(crate) struct Answer {
    pub headers: HeaderMap,
    pub body: Vec<u8>,
    /// The body went past the call's limit; `body` holds the first `limit + 1` bytes.
    pub truncated: bool,
}

impl Answer {
    pub fn json<T: DeserializeOwned>(&self, what: &str) -> ForgeResult<T> {
        if self.truncated {
            return Err(protocol(
                what,
                "the answer is larger than posture reads".to_owned(),
            ));
        }
        serde_json::from_slice(&self.body).map_err(|e| protocol(what, format!("{e}")))
    }

    /// The `rel="next"` page of a paged answer, as a path relative to the API URL.
    pub fn next_page(&self, api_url: &str, what: &str) -> ForgeResult<Option<String>> {
        let Some(link) = self.headers.get(header::LINK) else {
            return Ok(None);
        };
        let link = link
            .to_str()
            .map_err(|_| protocol(what, "a Link header that is not text".to_owned()))?;
        match next_link(link) {
            Some(url) => relative_to(api_url, url)
                .map(Some)
                .ok_or_else(|| protocol(what, format!("a next page outside the API: {url}"))),
            None => Ok(None),
        }
    }
}

pub(crate) fn protocol(what: &str, message: String) -> ForgeError {
    ForgeError::Protocol {
        forge: FORGE,
        what: what.to_owned(),
        message,
    }
}

/// The `rel="next"` URL of an RFC 8288 Link header.
pub(crate) fn next_link(link: &str) -> Option<&str> {
    link.split(',').find_map(|part| {
        let (url, params) = part.trim().split_once(';')?;
        let is_next = params
            .split(';')
            .any(|p| matches!(p.trim(), "rel=\"next\"" | "rel=next"));
        let url = url.trim().strip_prefix('<')?.strip_suffix('>')?;
        is_next.then_some(url)
    })
}

/// `url` as a path relative to `api_url`'s origin, when it is on that origin. Credentials
/// only ever go to the API's own host.
pub(crate) fn relative_to(api_url: &str, url: &str) -> Option<String> {
    let base = url::Url::parse(api_url).ok()?;
    let next = url::Url::parse(url).ok()?;
    if base.origin() != next.origin() {
        return None;
    }
    Some(match next.query() {
        Some(query) => format!("{}?{query}", next.path()),
        None => next.path().to_owned(),
    })
}

/// One octocrab, with the credentials of one session.
pub(crate) struct Http<'a> {
    pub shared: &'a Shared,
    pub crab: &'a Octocrab,
    /// The installation whose credentials (tokens minted by octocrab) are used.
    pub installation: Option<u64>,
}

impl Http<'_> {
    /// Sends one request and reads its answer; anything but a 2xx is an error.
    pub async fn call(&self, call: Call<'_>) -> ForgeResult<Answer> {
        self.call_with(call, None).await
    }

    /// [`Http::call`] through `crab` (GHES's GraphQL client, which has no credentials of
    /// its own) with an explicit `Authorization`.
    async fn call_with(
        &self,
        call: Call<'_>,
        through: Option<(&Octocrab, SecretString)>,
    ) -> ForgeResult<Answer> {
        let (crab, authorization) = match through {
            Some((crab, token)) => (crab, Some(token)),
            None => (self.crab, None),
        };
        if call.creates_content {
            let budget = match self.installation {
                Some(id) => format!("github:{}:installation:{id}", self.shared.api_url),
                None => format!("github:{}:token", self.shared.api_url),
            };
            self.shared.throttle.acquire(&budget).await;
        }
        let what = call.what;
        let mut builder = http::Request::builder()
            .method(call.method.clone())
            .uri(call.path.as_str())
            .header(header::ACCEPT, call.accept);
        if let Some(token) = authorization {
            let mut value = HeaderValue::try_from(format!("Bearer {}", token.expose_secret()))
                .map_err(|_| {
                    ForgeError::Config("the GitHub token is not a valid header value".to_owned())
                })?;
            value.set_sensitive(true);
            builder = builder.header(header::AUTHORIZATION, value);
        }
        let request = crab.build_request(builder, call.body).map_err(|e| {
            protocol(
                what,
                format!("cannot build the request: {}", first_line(&e)),
            )
        })?;
        let timeout = call.timeout.unwrap_or(self.shared.request_timeout);
        let operation = call.operation;
        let limit = call.limit;
        let exchange = async {
            let response = match crab.execute(request).await {
                Ok(response) => response,
                Err(error) => {
                    metrics::api_call(FORGE, operation, None);
                    return Err(transport_error(error, what));
                }
            };
            let status = response.status().as_u16();
            metrics::api_call(FORGE, operation, Some(status));
            let (parts, mut body) = response.into_parts();
            let success = (200..300).contains(&status);
            let limit = if success { limit } else { MAX_ERROR_BYTES };
            let mut bytes = Vec::new();
            let mut truncated = false;
            while let Some(frame) = body.frame().await {
                let frame = frame.map_err(|e| unavailable(what, first_line(&e)))?;
                if let Ok(data) = frame.into_data() {
                    let room = limit.saturating_add(1).saturating_sub(bytes.len() as u64) as usize;
                    bytes.extend_from_slice(&data[..data.len().min(room)]);
                    if bytes.len() as u64 > limit {
                        truncated = true;
                        break;
                    }
                }
            }
            if !success {
                return Err(status_error(status, &parts.headers, &bytes, what));
            }
            Ok(Answer {
                headers: parts.headers,
                body: bytes,
                truncated,
            })
        };
        match tokio::time::timeout(timeout, exchange).await {
            Ok(result) => result,
            Err(_) => {
                metrics::api_call(FORGE, operation, None);
                Err(unavailable(
                    what,
                    format!("no complete answer within {}s", timeout.as_secs()),
                ))
            }
        }
    }

    pub async fn get_json<T: DeserializeOwned>(
        &self,
        path: &str,
        operation: &'static str,
        what: &str,
    ) -> ForgeResult<T> {
        self.call(Call::get(path.to_owned(), operation, what))
            .await?
            .json(what)
    }

    /// Every page of a paged list, following `Link: rel="next"`. `items` picks the list out
    /// of one page (the page itself for plain arrays, `workflow_runs` for runs, …).
    pub async fn paged<T: DeserializeOwned>(
        &self,
        first: String,
        operation: &'static str,
        what: &str,
        items: impl Fn(Value) -> Option<Value>,
        max_items: usize,
    ) -> ForgeResult<Vec<T>> {
        let mut out = Vec::new();
        let mut next = Some(first);
        while let Some(path) = next.take() {
            let answer = self.call(Call::get(path, operation, what)).await?;
            let page: Value = answer.json(what)?;
            let list =
                items(page).ok_or_else(|| protocol(what, "a page without its list".to_owned()))?;
            let list: Vec<T> =
                serde_json::from_value(list).map_err(|e| protocol(what, format!("{e}")))?;
            out.extend(list);
            if out.len() >= max_items {
                out.truncate(max_items);
                break;
            }
            next = answer.next_page(&self.shared.api_url, what)?;
        }
        Ok(out)
    }

    /// A token for git over HTTPS with the same rights as the API calls.
    pub async fn git_token(&self) -> ForgeResult<SecretString> {
        if self.installation.is_some() {
            self.crab
                .installation_token()
                .await
                .map_err(|e| transport_error(e, "minting an installation token for git"))
        } else {
            match &self.shared.mode {
                Mode::Token(token) | Mode::Actions(token) => Ok(token.clone()),
                Mode::App { .. } => Err(ForgeError::Config(
                    "git access needs an installation of the GitHub App".to_owned(),
                )),
            }
        }
    }

    /// One GraphQL request; `errors` in the answer become [`ForgeError`]s.
    pub async fn graphql(
        &self,
        query: &str,
        variables: Value,
        operation: &'static str,
        what: &str,
        mutation: bool,
    ) -> ForgeResult<Value> {
        let body = serde_json::json!({ "query": query, "variables": variables });
        // GHES serves GraphQL outside the REST API's path, through a client of its own that
        // carries no credentials: the same token goes along explicitly.
        let through = match &self.shared.graphql_crab {
            Some(crab) => Some((crab, self.git_token().await?)),
            None => None,
        };
        let call = Call {
            method: Method::POST,
            path: "/graphql".to_owned(),
            operation,
            what,
            accept: JSON,
            body: Some(&body),
            limit: MAX_JSON_BYTES,
            // Queries create nothing; only mutations count against the content budget.
            creates_content: mutation,
            timeout: None,
        };
        let answer: Value = self.call_with(call, through).await?.json(what)?;
        if let Some(errors) = answer.get("errors").and_then(Value::as_array)
            && !errors.is_empty()
        {
            return Err(graphql_error(errors, what));
        }
        answer
            .get("data")
            .cloned()
            .filter(|data| !data.is_null())
            .ok_or_else(|| protocol(what, "a GraphQL answer without data".to_owned()))
    }
}

fn graphql_error(errors: &[Value], what: &str) -> ForgeError {
    let kinds: Vec<&str> = errors
        .iter()
        .filter_map(|e| e.get("type").and_then(Value::as_str))
        .collect();
    let message = errors
        .iter()
        .filter_map(|e| e.get("message").and_then(Value::as_str))
        .collect::<Vec<_>>()
        .join("; ");
    if kinds.contains(&"NOT_FOUND") {
        ForgeError::NotFound {
            forge: FORGE,
            what: what.to_owned(),
        }
    } else if kinds.contains(&"RATE_LIMITED") {
        metrics::rate_limited(FORGE, DEFAULT_RATE_LIMIT_WAIT);
        ForgeError::RateLimited {
            forge: FORGE,
            what: what.to_owned(),
            retry_after: DEFAULT_RATE_LIMIT_WAIT,
        }
    } else {
        ForgeError::Rejected {
            forge: FORGE,
            what: what.to_owned(),
            status: 200,
            message,
        }
    }
}

pub(crate) fn unavailable(what: &str, message: String) -> ForgeError {
    ForgeError::Unavailable {
        forge: FORGE,
        what: what.to_owned(),
        message,
    }
}

/// The first line of an error's text: octocrab appends backtraces to some.
fn first_line(error: &dyn fmt::Display) -> String {
    error
        .to_string()
        .lines()
        .next()
        .unwrap_or_default()
        .to_owned()
}

/// An error before or instead of an HTTP answer. The installation-token request octocrab
/// makes on posture's behalf answers through here too.
fn transport_error(error: octocrab::Error, what: &str) -> ForgeError {
    match error {
        octocrab::Error::GitHub { source, .. } => {
            let headers = source.headers.clone().unwrap_or_default();
            let body = serde_json::json!({ "message": source.message }).to_string();
            status_error(
                source.status_code.as_u16(),
                &headers,
                body.as_bytes(),
                &format!("{what} (installation token)"),
            )
        }
        octocrab::Error::JWT { .. } => {
            ForgeError::Config("the GitHub App private key cannot sign a JWT".to_owned())
        }
        other => unavailable(what, first_line(&other)),
    }
}

/// Maps a non-2xx answer to the error that says whether retrying helps.
pub(crate) fn status_error(
    status: u16,
    headers: &HeaderMap,
    body: &[u8],
    what: &str,
) -> ForgeError {
    let message = error_message(status, body);
    if let Some(wait) = rate_limit_wait(status, headers, &message, SystemTime::now()) {
        metrics::rate_limited(FORGE, wait);
        return ForgeError::RateLimited {
            forge: FORGE,
            what: what.to_owned(),
            retry_after: wait,
        };
    }
    match status {
        404 => ForgeError::NotFound {
            forge: FORGE,
            what: what.to_owned(),
        },
        500..=599 => unavailable(what, format!("{status}: {message}")),
        _ => ForgeError::Rejected {
            forge: FORGE,
            what: what.to_owned(),
            status,
            message,
        },
    }
}

/// GitHub's `message`, with the details of `errors` (422s put the reason there).
pub(crate) fn error_message(status: u16, body: &[u8]) -> String {
    #[derive(serde::Deserialize)]
    struct ErrorBody {
        message: Option<String>,
        #[serde(default)]
        errors: Vec<Value>,
    }
    let fallback = || {
        http::StatusCode::from_u16(status)
            .ok()
            .and_then(|s| s.canonical_reason())
            .unwrap_or("error")
            .to_owned()
    };
    let Ok(parsed) = serde_json::from_slice::<ErrorBody>(body) else {
        let text = String::from_utf8_lossy(body);
        let text = text.trim();
        return if text.is_empty() || text.starts_with('<') {
            fallback()
        } else {
            text.chars().take(500).collect()
        };
    };
    let mut message = parsed.message.unwrap_or_else(fallback);
    let details: Vec<String> = parsed
        .errors
        .iter()
        .map(|e| match e {
            Value::String(s) => s.clone(),
            Value::Object(o) => match o.get("message").and_then(Value::as_str) {
                Some(m) => m.to_owned(),
                None => ["resource", "field", "code"]
                    .iter()
                    .filter_map(|k| o.get(*k).and_then(Value::as_str))
                    .collect::<Vec<_>>()
                    .join(" "),
            },
            other => other.to_string(),
        })
        .filter(|d| !d.is_empty())
        .collect();
    if !details.is_empty() {
        message = format!("{message}: {}", details.join("; "));
    }
    message
}

/// How long a rate-limit answer asks posture to wait; `None` when it is not one.
///
/// 429, or 403 with `retry-after` or `x-ratelimit-remaining: 0`, are rate limits
/// (`retry-after` seconds, else until `x-ratelimit-reset`); a 403 or 429 whose message names a
/// secondary rate limit without saying how long waits a minute, as GitHub advises.
pub(crate) fn rate_limit_wait(
    status: u16,
    headers: &HeaderMap,
    message: &str,
    now: SystemTime,
) -> Option<Duration> {
    if status != 403 && status != 429 {
        return None;
    }
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
    };
    if let Some(seconds) = header("retry-after").and_then(|v| v.parse::<u64>().ok()) {
        return Some(Duration::from_secs(seconds));
    }
    let exhausted = header("x-ratelimit-remaining") == Some("0");
    if exhausted || status == 429 {
        if let Some(reset) = header("x-ratelimit-reset").and_then(|v| v.parse::<u64>().ok()) {
            let now = now.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs();
            return Some(Duration::from_secs(reset.saturating_sub(now).max(1)));
        }
        return Some(DEFAULT_RATE_LIMIT_WAIT);
    }
    if message.to_ascii_lowercase().contains("rate limit") {
        return Some(DEFAULT_RATE_LIMIT_WAIT);
    }
    None
}
