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
use super::pages;
use crate::api::ApiError;
use crate::api::access::{self, Caller, Scope, Unauthenticated};
use crate::api::query::{FIGURE_PARAMS, Params};
use crate::api::session;
use crate::report::RenderError;
use crate::report::dashboard::{self, FindingsQuery, FindingsView, OrgView, Page, Session};

/// Authenticates a page request (session cookie or bearer token), audits it, and redirects
/// a browser without a live session to the sign-in page, coming back here after.
pub async fn require_sign_in(
    State(state): State<WebState>,
    request: Request,
    next: Next,
) -> Response {
    match access::identify(&state.api, request.headers(), request.uri().path()).await {
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

/// The view of `org`'s pages for the query's period and filters (the API's parameters).
async fn org_view(
    state: &WebState,
    org: &str,
    caller: &Caller,
    raw: HashMap<String, String>,
) -> Result<OrgView, ApiError> {
    let params = Params::new(raw, &FIGURE_PARAMS)?;
    let window = params.window(Utc::now())?;
    let mut filters = params.filters()?;
    if let Some(repository) = &filters.repository {
        let known = caller
            .readable_repository(&state.api.store, org, repository)
            .await?;
        filters.repository = Some(known);
    }
    let history = caller
        .org_history(&state.api.store, org, None, window.as_of)
        .await?;
    let sla = state.api.settings.sla(org).clone();
    let mut view = OrgView::new(org, "", history, window, filters, sla);
    if params.get("as_of").is_some() {
        view = view.pinned();
    }
    view.session = session_of(caller);
    Ok(view)
}

/// The sign-out form's data for a caller signed in with a session.
fn session_of(caller: &Caller) -> Option<Session> {
    caller.csrf_token().map(|csrf_token| Session {
        actor: caller.actor.clone(),
        csrf_token,
    })
}

fn rendered(page: Result<Page, RenderError>) -> Result<Response, PageError> {
    match page {
        Ok(page) => Ok(html(StatusCode::OK, page.html)),
        Err(RenderError::NotFound(_)) => Err(PageError(ApiError::not_found())),
        Err(error) => Err(PageError(ApiError::internal(&error))),
    }
}

/// `GET /orgs/{org}`.
pub async fn org(
    State(state): State<WebState>,
    Extension(caller): Extension<Caller>,
    Path(org): Path<String>,
    Query(raw): Query<HashMap<String, String>>,
) -> Result<Response, PageError> {
    let org = caller.read_org(&org)?;
    let view = org_view(&state, &org, &caller, raw).await?;
    rendered(dashboard::org_page(&view))
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
    let repository = caller
        .readable_repository(&state.api.store, &org, &wanted)
        .await?;
    let view = org_view(&state, &org, &caller, raw).await?;
    rendered(dashboard::repository_page(&view, &repository))
}

/// `GET /orgs/{org}/findings?…` (the figures' links), `&format=csv` to export them.
pub async fn findings(
    State(state): State<WebState>,
    Extension(caller): Extension<Caller>,
    Path(org): Path<String>,
    Query(raw): Query<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let org = caller.read_org(&org)?;
    let csv = raw.iter().any(|(k, v)| k == "format" && v == "csv");
    let mut query = FindingsQuery::parse(raw.into_iter().filter(|(k, _)| k != "format"))
        .map_err(ApiError::bad_request)?;
    if let Some(repository) = &query.filters.repository {
        let known = caller
            .readable_repository(&state.api.store, &org, repository)
            .await?;
        query.filters.repository = Some(known);
    }
    let now = Utc::now();
    let history = caller
        .org_history(&state.api.store, &org, None, now)
        .await?;
    let sla = state.api.settings.sla(&org).clone();
    let mut view = FindingsView::new(&org, "", &history, query, &sla, now);
    view.session = session_of(&caller);
    if !csv {
        return rendered(dashboard::findings_page(&view));
    }
    let body = dashboard::findings_csv(&view).map_err(|e| ApiError::internal(&e))?;
    let mut response = ([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], body).into_response();
    let disposition = format!("attachment; filename=\"{org}-findings.csv\"");
    if let Ok(value) = HeaderValue::from_str(&disposition) {
        response
            .headers_mut()
            .insert(header::CONTENT_DISPOSITION, value);
    }
    Ok(protect(response))
}
