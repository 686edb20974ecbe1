//! Who is calling and what they may read: API tokens, their scopes, and the audit log.
//!
//! A token belongs to one org and reaches every repository of it, nothing else. Handlers do
//! not compare orgs themselves: they ask the [`Caller`] ([`Caller::reach_org`],
//! [`Caller::reach_repository`]), which answers 404 for anything out of reach, exactly as for
//! something that does not exist. A request is authenticated by [`identify`], the same for
//! the API and the dashboard's pages: `Authorization: Bearer TOKEN`, or the session cookie a
//! sign-in gave ([`super::session`]); both yield a [`Caller`]. A person signed in through a
//! forge or OIDC reads, in the org a request is about, the repositories
//! [`crate::access::Access`] gives them now ([`Reach`]); every figure, list, export and page
//! of the org is computed from those only ([`Caller::org_history`], [`Caller::within`]).
//!
//! Tokens are `pst_` and 64 hex digits (256 random bits); only their SHA-256 is stored, and
//! neither the token nor its hash is ever logged.

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};
use tracing::{error, warn};

use super::session;
use super::{ApiError, ApiState};
use crate::access::{AccessError, OrgAccess, Person, Reach};
use crate::history::FindingHistory;
use crate::store::{SessionRow, Store, StoreError, TokenRow, org_of};

/// The prefix of posture's tokens (so secret scanners can recognise a leaked one).
pub const TOKEN_PREFIX: &str = "pst_";

/// What a token may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Scope {
    /// Read the org's summary, time series and findings.
    Read,
    /// Upload scans of the org's repositories.
    Upload,
    /// Everything, including what later administrative endpoints allow.
    Admin,
}

impl Scope {
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Read => "read",
            Scope::Upload => "upload",
            Scope::Admin => "admin",
        }
    }
}

impl FromStr for Scope {
    type Err = String;

    fn from_str(text: &str) -> Result<Scope, String> {
        match text.trim() {
            "read" => Ok(Scope::Read),
            "upload" => Ok(Scope::Upload),
            "admin" => Ok(Scope::Admin),
            other => Err(format!(
                "unknown scope `{other}` (expected read, upload or admin)"
            )),
        }
    }
}

/// A set of scopes, written `read,upload`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scopes(BTreeSet<Scope>);

impl Scopes {
    /// `admin` grants every scope.
    pub fn allows(&self, scope: Scope) -> bool {
        self.0.contains(&scope) || self.0.contains(&Scope::Admin)
    }
}

impl FromStr for Scopes {
    type Err = String;

    fn from_str(text: &str) -> Result<Scopes, String> {
        let scopes = text
            .split(',')
            .filter(|s| !s.trim().is_empty())
            .map(str::parse)
            .collect::<Result<BTreeSet<Scope>, String>>()?;
        if scopes.is_empty() {
            return Err("no scope given (expected read, upload and/or admin)".into());
        }
        Ok(Scopes(scopes))
    }
}

impl fmt::Display for Scopes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.0.iter().map(|s| s.as_str()).collect();
        f.write_str(&names.join(","))
    }
}

/// The authenticated caller of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// How the audit log names it: `token 3 (ci-upload)`, `octocat (github)`.
    pub actor: String,
    /// The orgs it reads (lower-case) and which of their repositories: a token's one org,
    /// whole; of a person's, the one the request is about, as the roles and the forge give
    /// it now.
    orgs: Vec<(String, Reach)>,
    /// The org the caller lands on and the audit log files its requests under.
    home: Option<String>,
    scopes: Scopes,
    /// Signed in through a session: its id, which the CSRF token of state-changing requests
    /// is checked against. `None` for `Authorization: Bearer`.
    session: Option<String>,
}

impl Caller {
    /// The caller a stored token stands for; a token whose scopes no longer parse has none.
    pub fn from_token(token: &TokenRow) -> Caller {
        Caller {
            actor: format!("token {} ({})", token.id, token.name),
            orgs: vec![(token.org.to_lowercase(), Reach::Everything)],
            home: Some(token.org.to_lowercase()),
            scopes: token.scopes.parse().unwrap_or_default(),
            session: None,
        }
    }

    /// The caller a live session made from a token (of id `id`) stands for: every
    /// repository of its orgs.
    pub fn from_session(row: &SessionRow, id: &str) -> Caller {
        let orgs: Vec<(String, Reach)> = session_orgs(row)
            .map(|org| (org, Reach::Everything))
            .collect();
        Caller {
            actor: row.actor.clone(),
            home: orgs.first().map(|(org, _)| org.clone()),
            orgs,
            scopes: row.scopes.parse().unwrap_or_default(),
            session: Some(id.to_owned()),
        }
    }

    /// The caller a live session of a person (of id `id`) stands for, reading what
    /// `orgs` (worked out for this request: the org it is about) give.
    pub fn for_person(row: &SessionRow, id: &str, orgs: Vec<OrgAccess>) -> Caller {
        Caller {
            orgs: orgs
                .into_iter()
                .filter(|access| !access.is_empty())
                .map(|access| (access.org, access.reach))
                .collect(),
            ..Caller::from_session(row, id)
        }
    }

    /// Which repositories of `org` (lower-case) the caller reads; `None` out of reach.
    pub fn reach(&self, org: &str) -> Option<&Reach> {
        self.orgs
            .iter()
            .find(|(name, _)| name == org)
            .map(|(_, reach)| reach)
    }

    /// The repositories of `org` the caller is limited to (lower-case), for the store's
    /// queries; `None` when it reads every one.
    pub fn within(&self, org: &str) -> Option<BTreeSet<String>> {
        match self.reach(org) {
            Some(Reach::Everything) => None,
            Some(Reach::Only(repositories)) => Some(repositories.clone()),
            None => Some(BTreeSet::new()),
        }
    }

    /// Whether the caller reads `repository` (a full name, any case).
    pub fn sees(&self, repository: &str) -> bool {
        self.reach(&org_of(repository).to_lowercase())
            .is_some_and(|reach| reach.allows(repository))
    }

    /// The org a signed-in person lands on, and the org the audit log files requests under.
    pub fn home_org(&self) -> Option<&str> {
        self.home.as_deref()
    }

    /// The CSRF token a page of this caller carries in its forms: `None` without a session.
    pub fn csrf_token(&self) -> Option<String> {
        self.session.as_deref().map(session::csrf_token)
    }

    /// Whether a state-changing request of this caller may go ahead: always with a bearer
    /// token (a browser never adds one by itself), with a session only when `offered` is
    /// its CSRF token.
    pub fn csrf_allows(&self, offered: Option<&str>) -> bool {
        match &self.session {
            None => true,
            Some(id) => offered.is_some_and(|offered| session::csrf_matches(id, offered)),
        }
    }

    /// The org as stored (lower-case) when the caller may read it; 404 otherwise, as if it
    /// did not exist.
    pub fn reach_org(&self, org: &str) -> Result<String, ApiError> {
        let org = org.to_lowercase();
        if self.reach(&org).is_some() {
            Ok(org)
        } else {
            Err(ApiError::not_found())
        }
    }

    /// [`Caller::reach_org`], then 403 without the `read` scope: what every figure, list
    /// and page of an org asks first.
    pub fn read_org(&self, org: &str) -> Result<String, ApiError> {
        let org = self.reach_org(org)?;
        self.require(Scope::Read)?;
        Ok(org)
    }

    /// The repository's org when the caller may read (and, with the scope, upload to) the
    /// repository: 404 otherwise, as if it did not exist.
    pub fn reach_repository(&self, repository: &str) -> Result<String, ApiError> {
        let org = self.reach_org(&org_of(repository))?;
        if self.sees(repository) {
            Ok(org)
        } else {
            Err(ApiError::not_found())
        }
    }

    /// `repository` as the org stores it, when the org has it and the caller reads it; 404
    /// otherwise (names compare without case).
    pub async fn readable_repository(
        &self,
        store: &Store,
        org: &str,
        repository: &str,
    ) -> Result<String, ApiError> {
        store
            .org_repositories(org)
            .await?
            .into_iter()
            .find(|known| known.eq_ignore_ascii_case(repository) && self.sees(known))
            .ok_or_else(ApiError::not_found)
    }

    /// The findings history of `org` (of `repository` only, when given) that the caller
    /// reads: what every figure, chart and table of the org is computed from.
    pub async fn org_history(
        &self,
        store: &Store,
        org: &str,
        repository: Option<&str>,
        as_of: chrono::DateTime<chrono::Utc>,
    ) -> Result<Vec<FindingHistory>, ApiError> {
        let within = self.within(org);
        let mut history = store
            .org_history(org, repository, within.as_ref(), as_of)
            .await?;
        // The query already kept only these; checked again here, where it matters most.
        history.retain(|finding| self.sees(&finding.repository));
        Ok(history)
    }

    /// 403 unless the caller holds `scope`. Check reach first: out of reach is 404 whatever
    /// the scopes.
    pub fn require(&self, scope: Scope) -> Result<(), ApiError> {
        if self.scopes.allows(scope) {
            Ok(())
        } else {
            Err(ApiError::forbidden(format!(
                "this {} lacks the `{}` scope",
                if self.session.is_some() {
                    "session"
                } else {
                    "token"
                },
                scope.as_str()
            )))
        }
    }
}

/// A new random token.
pub fn new_token() -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)?;
    Ok(format!("{TOKEN_PREFIX}{}", hex::encode(bytes)))
}

/// What the database keeps of a token: its SHA-256, in hex. Tokens are 256 random bits, so a
/// fast hash is enough (no password stretching needed).
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Why a request has no caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unauthenticated {
    /// Neither `Authorization: Bearer` nor a session cookie.
    Missing,
    /// A bearer token posture does not know, or one revoked.
    UnknownToken,
    /// A session cookie of no session, or of one expired, ended or whose token was revoked.
    SessionEnded,
}

impl Unauthenticated {
    /// What the 401 says.
    pub fn message(self) -> &'static str {
        match self {
            Unauthenticated::Missing => {
                "missing `Authorization: Bearer TOKEN` (or a session: sign in at /login)"
            }
            Unauthenticated::UnknownToken => "unknown or revoked token",
            Unauthenticated::SessionEnded => "the session has expired or ended; sign in again",
        }
    }
}

/// The orgs a session reads (lower-case), as signed in.
fn session_orgs(row: &SessionRow) -> impl Iterator<Item = String> + '_ {
    row.orgs
        .split(',')
        .map(|org| org.trim().to_lowercase())
        .filter(|org| !org.is_empty())
}

/// The org a request's path is about: `/orgs/{org}/…` or `/repos/{owner}/…`, under
/// `/api/v1` or not.
pub fn org_in_path(path: &str) -> Option<String> {
    let path = path.strip_prefix("/api/v1").unwrap_or(path);
    let mut parts = path.trim_start_matches('/').split('/');
    match (parts.next(), parts.next()) {
        (Some("orgs" | "repos"), Some(org)) if !org.is_empty() => {
            let org = percent_encoding::percent_decode_str(org)
                .decode_utf8()
                .ok()?;
            Some(org.to_lowercase())
        }
        _ => None,
    }
}

/// Who is calling: the one way both the API and the dashboard's pages authenticate a
/// request. `Authorization: Bearer` wins over a session cookie when both are sent. A
/// person's session reads what [`Access`] gives them now in the org the request's `path`
/// is about ([`org_in_path`]; the forge's answers are cached for minutes), so a permission
/// taken away on the forge is soon taken away here, and a request costs the forge
/// questions of one org at most.
pub async fn identify(
    state: &ApiState,
    headers: &HeaderMap,
    path: &str,
) -> Result<Result<Caller, Unauthenticated>, StoreError> {
    let store = &state.store;
    if let Some(token) = bearer(headers) {
        return Ok(match store.use_token(&token_hash(token)).await? {
            Some(row) => Ok(Caller::from_token(&row)),
            None => Err(Unauthenticated::UnknownToken),
        });
    }
    let Some(id) = session::session_cookie(headers) else {
        return Ok(Err(Unauthenticated::Missing));
    };
    let row = match store.session(&session::session_hash(id)).await? {
        Some(row) if row.live_at(chrono::Utc::now()) => row,
        _ => return Ok(Err(Unauthenticated::SessionEnded)),
    };
    let Some(person) = &row.person else {
        return Ok(Ok(Caller::from_session(&row, id)));
    };
    // A person the server can no longer read is signed out rather than guessed at.
    let Ok(person) = serde_json::from_str::<Person>(person) else {
        error!(
            session = row.id,
            "a session's person does not parse; it is refused"
        );
        return Ok(Err(Unauthenticated::SessionEnded));
    };
    let wanted = org_in_path(path);
    let mut orgs = Vec::new();
    for org in session_orgs(&row).filter(|org| Some(org) == wanted.as_ref()) {
        match state.access.org(&person, &org).await {
            Ok(access) => orgs.push(access),
            Err(AccessError::Store(error)) => return Err(error),
        }
    }
    Ok(Ok(Caller::for_person(&row, id, orgs)))
}

/// Runs the request as `caller` (a [`Caller`] extension for the handler) and records it
/// and its answer in the audit log, whatever the answer.
pub async fn run_audited(
    store: &Store,
    caller: Caller,
    mut request: Request,
    next: Next,
) -> Response {
    let action = format!(
        "{} {}",
        request.method(),
        original_uri(&request)
            .path_and_query()
            .map_or("/", |p| p.as_str())
    );
    request.extensions_mut().insert(caller.clone());
    let response = next.run(request).await;
    if let Err(error) = store
        .audit(
            &caller.actor,
            caller.home_org(),
            &action,
            None,
            Some(response.status().as_u16()),
        )
        .await
    {
        error!("cannot write the audit log: {error}");
    }
    response
}

/// Whether a request changes state (and so, from a session, needs its CSRF token).
pub fn changes_state(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// Authenticates every API request (401 without a valid token or session), hands the
/// [`Caller`] to the handler, and records the request and its answer in the audit log. A
/// state-changing request from a session must carry its CSRF token in [`session::CSRF_HEADER`].
pub async fn authenticate(State(state): State<ApiState>, request: Request, next: Next) -> Response {
    let path = original_uri(&request).path().to_owned();
    let caller = match identify(&state, request.headers(), &path).await {
        Ok(Ok(caller)) => caller,
        Ok(Err(why)) => {
            if why != Unauthenticated::Missing {
                warn!(path = %original_uri(&request).path(), "API request refused: {}", why.message());
            }
            return ApiError::unauthorized(why.message())
                .into_response()
                .with_challenge();
        }
        Err(error) => return ApiError::from(error).into_response(),
    };
    if changes_state(request.method()) {
        let offered = request
            .headers()
            .get(session::CSRF_HEADER)
            .and_then(|value| value.to_str().ok());
        if !caller.csrf_allows(offered) {
            return ApiError::forbidden(format!(
                "a request from a session must carry its CSRF token in `{}`",
                session::CSRF_HEADER
            ))
            .into_response();
        }
    }
    run_audited(&state.store, caller, request, next).await
}

/// The URI as the client sent it: `nest` strips `/api/v1` from `request.uri()`.
fn original_uri(request: &Request) -> &axum::http::Uri {
    request
        .extensions()
        .get::<axum::extract::OriginalUri>()
        .map_or(request.uri(), |original| &original.0)
}

/// The token of `Authorization: Bearer TOKEN`.
fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

trait WithChallenge {
    fn with_challenge(self) -> Response;
}

impl WithChallenge for Response {
    /// RFC 6750: a 401 names the scheme it wants.
    fn with_challenge(mut self) -> Response {
        self.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            header::HeaderValue::from_static("Bearer realm=\"posture\""),
        );
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_parse_and_admin_allows_everything() {
        let scopes: Scopes = "upload, read".parse().unwrap();
        assert!(scopes.allows(Scope::Read) && scopes.allows(Scope::Upload));
        assert!(!scopes.allows(Scope::Admin));
        assert_eq!(scopes.to_string(), "read,upload");
        assert!("admin".parse::<Scopes>().unwrap().allows(Scope::Upload));
        assert!(
            "read,write"
                .parse::<Scopes>()
                .unwrap_err()
                .contains("`write`")
        );
        assert!("".parse::<Scopes>().is_err());
    }

    #[test]
    fn tokens_are_random_and_stored_as_hashes() {
        let (a, b) = (new_token().unwrap(), new_token().unwrap());
        assert_ne!(a, b);
        assert!(a.starts_with(TOKEN_PREFIX) && a.len() == TOKEN_PREFIX.len() + 64);
        assert_eq!(token_hash(&a), token_hash(&a));
        assert!(!token_hash(&a).contains(&a[TOKEN_PREFIX.len()..]));
    }

    #[test]
    fn a_token_reaches_its_own_org_only_and_out_of_reach_is_not_found() {
        let caller = Caller {
            actor: "token 1 (t)".into(),
            orgs: vec![("acme".into(), Reach::Everything)],
            home: Some("acme".into()),
            scopes: "read".parse().unwrap(),
            session: None,
        };
        assert!(caller.csrf_allows(None));
        let signed_in = Caller {
            session: Some("ab".repeat(32)),
            ..caller.clone()
        };
        assert!(!signed_in.csrf_allows(None));
        assert!(!signed_in.csrf_allows(Some("forged")));
        assert!(signed_in.csrf_allows(Some(&signed_in.csrf_token().unwrap())));
        assert_eq!(caller.reach_org("Acme").unwrap(), "acme");
        assert_eq!(caller.reach_repository("acme/shop").unwrap(), "acme");
        assert_eq!(
            caller.reach_repository("other/shop").unwrap_err().status,
            axum::http::StatusCode::NOT_FOUND
        );
        assert_eq!(
            caller.require(Scope::Upload).unwrap_err().status,
            axum::http::StatusCode::FORBIDDEN
        );
    }

    #[test]
    fn the_org_a_request_is_about_is_found_in_its_path() {
        assert_eq!(
            org_in_path("/api/v1/orgs/Acme/summary").as_deref(),
            Some("acme")
        );
        assert_eq!(
            org_in_path("/api/v1/repos/acme/shop/sbom").as_deref(),
            Some("acme")
        );
        assert_eq!(
            org_in_path("/orgs/acme%2Dx/repos/shop").as_deref(),
            Some("acme-x")
        );
        assert_eq!(org_in_path("/orgs/acme").as_deref(), Some("acme"));
        assert_eq!(org_in_path("/api/v1/scans"), None);
        assert_eq!(org_in_path("/orgs/"), None);
        assert_eq!(org_in_path("/login"), None);
    }
}
