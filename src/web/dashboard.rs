//! The dashboard's pages: `GET /orgs/{org}`, `GET /orgs/{org}/repos/{*name}` and
//! `GET /orgs/{org}/findings` (`?format=csv` exports them), behind sign-in.
//!
//! [`require_sign_in`] authenticates them exactly as the API is authenticated
//! ([`access::identify`]: a session cookie or a bearer token), audits every view and export,
//! and sends a browser without a session to `/login?next=…`. Each handler asks the
//! [`Caller`] for the org or repository before it reads anything: out of reach is 404, as
//! for what does not exist.

use std::collections::HashMap;

use axum::Extension;
use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};

use super::WebState;
use super::headers::{html, protect};
use super::login::see_other;
use super::pages::{self, Chrome};
use crate::api::ApiError;
use crate::api::access::{self, Caller, Scope, Unauthenticated};
use crate::api::query::{FIGURE_PARAMS, Params};
use crate::api::session;
use crate::history::{self, OrgSummary};
use crate::store::{BranchFinding, FindingQuery, StatusFilter};

/// Findings a page lists at most (the CSV export has them all).
const PAGE_FINDINGS: u32 = 500;
/// Findings read from the database at a time for the export.
const EXPORT_BATCH: u32 = 1000;

/// Authenticates a page request (session cookie or bearer token), audits it, and redirects
/// a browser without a live session to the sign-in page, coming back here after.
pub async fn require_sign_in(
    State(state): State<WebState>,
    request: Request,
    next: Next,
) -> Response {
    match access::identify(&state.api.store, request.headers()).await {
        Ok(Ok(caller)) => access::run_audited(&state.api.store, caller, request, next).await,
        Ok(Err(why)) => {
            let here = request.uri().path_and_query().map_or("/", |p| p.as_str());
            let mut response = see_other(&format!(
                "/login?next={}",
                utf8_percent_encode(here, NON_ALPHANUMERIC)
            ));
            if why == Unauthenticated::SessionEnded {
                let secure = state
                    .config
                    .behind_tls(request.headers(), super::login::peer(&request));
                if let Ok(clear) = HeaderValue::from_str(&session::clear_cookie(secure)) {
                    response.headers_mut().insert(header::SET_COOKIE, clear);
                }
            }
            protect(response)
        }
        Err(error) => PageError(ApiError::from(error)).into_response(),
    }
}

/// An [`ApiError`] answered as an HTML page with the same status.
#[derive(Debug)]
pub struct PageError(pub ApiError);

impl From<ApiError> for PageError {
    fn from(error: ApiError) -> PageError {
        PageError(error)
    }
}

impl From<crate::store::StoreError> for PageError {
    fn from(error: crate::store::StoreError) -> PageError {
        PageError(ApiError::from(error))
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let title = self.0.status.canonical_reason().unwrap_or("Error");
        html(self.0.status, pages::error_page(title, &self.0.message))
    }
}

/// The figures of `org` (of one `repository` of it, when given) for the query's period.
async fn summary(
    state: &WebState,
    org: &str,
    repository: Option<String>,
    raw: HashMap<String, String>,
) -> Result<OrgSummary, ApiError> {
    let params = Params::new(raw, &FIGURE_PARAMS)?;
    let window = params.window(Utc::now())?;
    let mut filters = params.filters()?;
    if repository.is_some() {
        filters.repository = repository;
    } else if let Some(repository) = &filters.repository {
        known_repository(state, org, repository).await?;
    }
    let findings = state
        .api
        .store
        .org_history(org, filters.repository.as_deref(), window.as_of)
        .await?;
    let sla = state.api.settings.sla(org);
    Ok(history::summarize(org, &findings, &window, &filters, sla))
}

/// The repository as stored, when `org` has it; 404 otherwise.
async fn known_repository(
    state: &WebState,
    org: &str,
    repository: &str,
) -> Result<String, ApiError> {
    state
        .api
        .store
        .org_repositories(org)
        .await?
        .into_iter()
        .find(|known| known.eq_ignore_ascii_case(repository))
        .ok_or_else(ApiError::not_found)
}

fn chrome<'a>(org: &'a str, caller: &'a Caller, csrf: Option<&'a str>) -> Chrome<'a> {
    Chrome {
        org,
        actor: &caller.actor,
        csrf_token: csrf,
    }
}

/// `GET /orgs/{org}`.
pub async fn org(
    State(state): State<WebState>,
    Extension(caller): Extension<Caller>,
    Path(org): Path<String>,
    Query(raw): Query<HashMap<String, String>>,
) -> Result<Response, PageError> {
    let org = caller.reach_org(&org)?;
    caller.require(Scope::Read)?;
    let summary = summary(&state, &org, None, raw).await?;
    let csrf = caller.csrf_token();
    let page = pages::org_page(&summary, &chrome(&org, &caller, csrf.as_deref()));
    Ok(html(StatusCode::OK, page))
}

/// `GET /orgs/{org}/repos/{*name}`: `name` within the org (`shop` of `acme/shop`).
pub async fn repository(
    State(state): State<WebState>,
    Extension(caller): Extension<Caller>,
    Path((org, name)): Path<(String, String)>,
    Query(raw): Query<HashMap<String, String>>,
) -> Result<Response, PageError> {
    let org = caller.reach_org(&org)?;
    let wanted = format!("{org}/{}", name.trim_matches('/'));
    caller.reach_repository(&wanted)?;
    caller.require(Scope::Read)?;
    let repository = known_repository(&state, &org, &wanted).await?;
    let summary = summary(&state, &org, Some(repository.clone()), raw).await?;
    let csrf = caller.csrf_token();
    let page = pages::repository_page(
        &repository,
        &summary,
        &chrome(&org, &caller, csrf.as_deref()),
    );
    Ok(html(StatusCode::OK, page))
}

/// `GET /orgs/{org}/findings[?format=csv][&status=open|fixed|all][&repository=…]…`.
pub async fn findings(
    State(state): State<WebState>,
    Extension(caller): Extension<Caller>,
    Path(org): Path<String>,
    Query(raw): Query<HashMap<String, String>>,
) -> Result<Response, PageError> {
    let org = caller.reach_org(&org)?;
    caller.require(Scope::Read)?;
    let params = Params::new(
        raw,
        &["format", "status", "repository", "severity", "kind", "tool"],
    )?;
    let filters = params.filters()?;
    if let Some(repository) = &filters.repository {
        known_repository(&state, &org, repository).await?;
    }
    let status = params
        .parse("status", |v| match v {
            "open" => Ok(StatusFilter::Open),
            "fixed" => Ok(StatusFilter::Fixed),
            "all" => Ok(StatusFilter::All),
            other => Err(format!(
                "unknown status `{other}` (expected open, fixed or all)"
            )),
        })?
        .unwrap_or_default();
    let csv = params
        .parse("format", |v| match v {
            "html" => Ok(false),
            "csv" => Ok(true),
            other => Err(format!("unknown format `{other}` (expected html or csv)")),
        })?
        .unwrap_or(false);
    let mut query = FindingQuery {
        org: org.clone(),
        status,
        repository: filters.repository,
        severity: filters.severity,
        kind: filters.kind,
        tool: filters.tool,
        after: None,
        limit: if csv { EXPORT_BATCH } else { PAGE_FINDINGS },
    };
    if !csv {
        let findings = state.api.store.branch_findings(&query).await?;
        let csrf = caller.csrf_token();
        let page = pages::findings_page(&org, &findings, &chrome(&org, &caller, csrf.as_deref()));
        return Ok(html(StatusCode::OK, page));
    }
    let mut all: Vec<BranchFinding> = Vec::new();
    loop {
        let batch = state.api.store.branch_findings(&query).await?;
        let full = batch.len() == EXPORT_BATCH as usize;
        query.after = batch
            .last()
            .map(|last| (last.repository.clone(), last.finding_id.clone()));
        all.extend(batch);
        if !full {
            break;
        }
    }
    let body = crate::api::orgs::csv(&all)?;
    let mut response = ([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], body).into_response();
    let disposition = format!("attachment; filename=\"{org}-findings.csv\"");
    if let Ok(value) = HeaderValue::from_str(&disposition) {
        response
            .headers_mut()
            .insert(header::CONTENT_DISPOSITION, value);
    }
    Ok(protect(response))
}
