//! The HTTP API for security teams and CI: `/api/v1/…`, JSON, `Authorization: Bearer TOKEN`.
//!
//! - `POST /api/v1/scans` — reports without a forge ([`scans`]); scope `upload`.
//! - `GET /api/v1/orgs/{org}/summary`, `…/timeseries`, `…/findings` ([`orgs`]); scope `read`.
//! - `GET /api/v1/orgs/{org}/components`, `…/apis`, `…/drift`, and per repository
//!   `GET /api/v1/repos/{owner}/{name}/sbom`, `…/components`, `…/drift`, `…/apis`
//!   ([`inventory`]); scope `read`.
//!
//! Every request is authenticated (a bearer token, or the session cookie of the dashboard's
//! sign-in, [`session`]) and audited by [`access`]. Errors are
//! `{"error": {"code", "message"}}` with the status that says what went wrong: 400 a bad
//! query, 401 no or a bad token, 403 a missing scope, 404 an org or repository that is not
//! there *or not the caller's* (so nothing leaks), 413 too large, 422 an unreadable upload.

pub mod access;
mod inventory;
pub(crate) mod orgs;
pub(crate) mod query;
mod scans;
pub mod session;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::json;
use tracing::error;

use crate::jobs::MemoryBudget;
use crate::settings::Settings;
use crate::store::{Store, StoreError};

/// The largest upload (all its reports together) accepted; larger ones get 413.
pub const MAX_UPLOAD_BYTES: usize = 100 * 1024 * 1024;

/// What the API's handlers share.
#[derive(Clone)]
pub struct ApiState {
    pub store: Store,
    pub settings: Arc<Settings>,
    /// The process's memory budget for reading reports, shared with the job workers.
    pub memory: MemoryBudget,
    /// Keys the hashes that stand in for secrets in uploaded reports (`POSTURE_SECRET_KEY`).
    pub secrets: crate::ingest::SecretHasher,
    /// What people signed in through a forge or OIDC may read.
    pub access: Arc<crate::access::Access>,
}

/// The API's routes, to merge into the server's.
pub fn router(state: ApiState) -> Router {
    let api = Router::new()
        .route(
            "/scans",
            post(scans::upload).layer(DefaultBodyLimit::max(MAX_UPLOAD_BYTES)),
        )
        .route("/orgs/{org}/summary", get(orgs::summary))
        .route("/orgs/{org}/timeseries", get(orgs::timeseries))
        .route("/orgs/{org}/findings", get(orgs::findings))
        .route("/orgs/{org}/components", get(inventory::org_components))
        .route("/orgs/{org}/apis", get(inventory::org_apis))
        .route("/orgs/{org}/drift", get(inventory::org_drift))
        .route("/repos/{*path}", get(inventory::repository))
        .fallback(not_found)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            access::authenticate,
        ));
    Router::new().nest("/api/v1", api).with_state(state)
}

async fn not_found() -> ApiError {
    ApiError::not_found()
}

/// An error answer of the API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: StatusCode,
    /// A stable, machine-readable code: `bad_request`, `unauthorized`, `forbidden`,
    /// `not_found`, `payload_too_large`, `unprocessable`, `internal`.
    pub code: &'static str,
    pub message: String,
}

impl ApiError {
    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError {
            status: StatusCode::BAD_REQUEST,
            code: "bad_request",
            message: message.into(),
        }
    }

    pub fn unauthorized(message: impl Into<String>) -> ApiError {
        ApiError {
            status: StatusCode::UNAUTHORIZED,
            code: "unauthorized",
            message: message.into(),
        }
    }

    pub fn forbidden(message: impl Into<String>) -> ApiError {
        ApiError {
            status: StatusCode::FORBIDDEN,
            code: "forbidden",
            message: message.into(),
        }
    }

    /// The same answer whether the thing is missing or the caller may not see it.
    pub fn not_found() -> ApiError {
        ApiError {
            status: StatusCode::NOT_FOUND,
            code: "not_found",
            message: "not found".into(),
        }
    }

    /// 404 for something within the caller's reach that does not exist yet, saying why
    /// (never for what the caller may not see: that is [`ApiError::not_found`]).
    pub fn not_found_because(message: impl Into<String>) -> ApiError {
        ApiError {
            message: message.into(),
            ..ApiError::not_found()
        }
    }

    pub fn unprocessable(message: impl Into<String>) -> ApiError {
        ApiError {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            code: "unprocessable",
            message: message.into(),
        }
    }

    pub fn too_large(message: impl Into<String>) -> ApiError {
        ApiError {
            status: StatusCode::PAYLOAD_TOO_LARGE,
            code: "payload_too_large",
            message: message.into(),
        }
    }

    /// The database failed: logged here, and the caller told only that.
    pub fn internal(error: &dyn std::fmt::Display) -> ApiError {
        error!("API request failed: {error}");
        ApiError {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            code: "internal",
            message: "internal error; the server log has the details".into(),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> ApiError {
        ApiError::internal(&error)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({"error": {"code": self.code, "message": self.message}});
        (self.status, axum::Json(body)).into_response()
    }
}
