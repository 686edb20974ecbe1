//! The org endpoints: `summary`, `timeseries` and `findings` (JSON, NDJSON or CSV, paged).
//! Each answers 404 for an org or repository the caller may not read, before anything else.

use std::collections::HashMap;

use axum::Extension;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use serde::Serialize;
use serde_json::json;

use super::access::Caller;
use super::query::{FIGURE_PARAMS, Params};
use super::{ApiError, ApiState};
use crate::history::{self, Filters, FindingHistory, GroupBy, Interval, Metric, OrgSummary};
use crate::store::{BranchFinding, FindingQuery, StatusFilter};

/// A page of findings when `limit` is not given, and the most one may ask for.
const DEFAULT_LIMIT: u32 = 100;
const MAX_LIMIT: u32 = 1000;

/// The header that carries the next page's cursor of a CSV or NDJSON answer.
pub const NEXT_CURSOR_HEADER: &str = "x-next-cursor";

/// `GET /api/v1/orgs/{org}/summary`.
pub async fn summary(
    State(state): State<ApiState>,
    Extension(caller): Extension<Caller>,
    Path(org): Path<String>,
    Query(raw): Query<HashMap<String, String>>,
) -> Result<Json<OrgSummary>, ApiError> {
    let org = caller.read_org(&org)?;
    let params = Params::new(raw, &FIGURE_PARAMS)?;
    let window = params.window(Utc::now())?;
    let mut filters = params.filters()?;
    let findings = load(&state, &caller, &org, &mut filters, window.as_of).await?;
    let sla = state.settings.sla(&org);
    Ok(Json(history::summarize(
        &org, &findings, &window, &filters, sla,
    )))
}

/// `GET /api/v1/orgs/{org}/timeseries?metric=…&interval=…&group_by=…`.
pub async fn timeseries(
    State(state): State<ApiState>,
    Extension(caller): Extension<Caller>,
    Path(org): Path<String>,
    Query(raw): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let org = caller.read_org(&org)?;
    let known: Vec<&str> = FIGURE_PARAMS
        .iter()
        .copied()
        .chain(["metric", "interval", "group_by"])
        .collect();
    let params = Params::new(raw, &known)?;
    let window = params.window(Utc::now())?;
    let mut filters = params.filters()?;
    let metric = params
        .parse("metric", |v| v.parse::<Metric>())?
        .ok_or_else(|| {
            ApiError::bad_request(
                "`metric` is required (open, new, fixed, risk_days or sla_breached)",
            )
        })?;
    let interval = params
        .parse("interval", |v| v.parse::<Interval>())?
        .unwrap_or(Interval::Week);
    let group_by = params.parse("group_by", |v| v.parse::<GroupBy>())?;
    let findings = load(&state, &caller, &org, &mut filters, window.as_of).await?;
    let sla = state.settings.sla(&org);
    let points = history::timeseries(
        &findings, &window, &filters, sla, metric, interval, group_by,
    );
    Ok(Json(json!({
        "org": org,
        "metric": metric,
        "interval": interval,
        "group_by": group_by,
        "from": window.from,
        "to": window.to,
        "as_of": window.as_of,
        "points": points,
    }))
    .into_response())
}

/// The findings list's formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Json,
    Ndjson,
    Csv,
}

/// `GET /api/v1/orgs/{org}/findings?status=open|fixed|all&…&format=json|ndjson|csv`, in
/// pages of `limit` (at most 1,000) resumed with `cursor`.
pub async fn findings(
    State(state): State<ApiState>,
    Extension(caller): Extension<Caller>,
    Path(org): Path<String>,
    Query(raw): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let org = caller.read_org(&org)?;
    let params = Params::new(
        raw,
        &[
            "status",
            "repository",
            "severity",
            "kind",
            "tool",
            "format",
            "limit",
            "cursor",
        ],
    )?;
    let mut filters = params.filters()?;
    check_repository(&state, &caller, &org, &mut filters).await?;
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
    let format = params
        .parse("format", |v| match v {
            "json" => Ok(Format::Json),
            "ndjson" => Ok(Format::Ndjson),
            "csv" => Ok(Format::Csv),
            other => Err(format!(
                "unknown format `{other}` (expected json, ndjson or csv)"
            )),
        })?
        .unwrap_or(Format::Json);
    let limit = params.limit(DEFAULT_LIMIT, MAX_LIMIT)?;
    let after = params.parse("cursor", decode_cursor)?;
    let query = FindingQuery {
        org: org.clone(),
        status,
        repository: filters.repository,
        severity: filters.severity,
        kind: filters.kind,
        tool: filters.tool,
        within: caller.within(&org),
        after,
        // One more than asked: whether there is a next page.
        limit: limit + 1,
    };
    let mut page = state.store.branch_findings(&query).await?;
    let next_cursor = if page.len() > limit as usize {
        page.truncate(limit as usize);
        page.last()
            .map(|last| encode_cursor(&last.repository, &last.finding_id))
    } else {
        None
    };
    let (content_type, body) = match format {
        Format::Json => {
            return Ok(Json(json!({
                "org": org,
                "findings": page,
                "next_cursor": next_cursor,
            }))
            .into_response());
        }
        Format::Ndjson => ("application/x-ndjson", ndjson(&page)?),
        Format::Csv => ("text/csv; charset=utf-8", csv(&page)?),
    };
    let mut response = ([(header::CONTENT_TYPE, content_type)], body).into_response();
    if let Some(cursor) = next_cursor.and_then(|c| HeaderValue::from_str(&c).ok()) {
        response.headers_mut().insert(NEXT_CURSOR_HEADER, cursor);
    }
    Ok(response)
}

/// Loads the org's history for the figures (what the caller reads of it), 404 when a
/// `repository` filter names one the org does not have or the caller may not read.
async fn load(
    state: &ApiState,
    caller: &Caller,
    org: &str,
    filters: &mut Filters,
    as_of: chrono::DateTime<Utc>,
) -> Result<Vec<FindingHistory>, ApiError> {
    check_repository(state, caller, org, filters).await?;
    caller
        .org_history(&state.store, org, filters.repository.as_deref(), as_of)
        .await
}

/// Replaces a `repository` filter by the name the org stores; 404 for one it does not have
/// or the caller may not read.
async fn check_repository(
    state: &ApiState,
    caller: &Caller,
    org: &str,
    filters: &mut Filters,
) -> Result<(), ApiError> {
    if let Some(repository) = &filters.repository {
        let known = caller
            .readable_repository(&state.store, org, repository)
            .await?;
        filters.repository = Some(known);
    }
    Ok(())
}

/// The cursor of the page after `(repository, finding)`: opaque to clients.
fn encode_cursor(repository: &str, finding: &str) -> String {
    hex::encode(format!("{repository}\n{finding}"))
}

fn decode_cursor(cursor: &str) -> Result<(String, String), String> {
    hex::decode(cursor)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .and_then(|text| {
            text.split_once('\n')
                .map(|(r, f)| (r.to_owned(), f.to_owned()))
        })
        .ok_or_else(|| "not a cursor this API gave".to_owned())
}

fn ndjson(page: &[BranchFinding]) -> Result<String, ApiError> {
    let mut out = String::new();
    for finding in page {
        out.push_str(&serde_json::to_string(finding).map_err(|e| ApiError::internal(&e))?);
        out.push('\n');
    }
    Ok(out)
}

/// The CSV columns of a finding, in their stable order.
pub const FINDINGS_CSV_HEADER: [&str; 23] = [
    "repository",
    "finding_id",
    "status",
    "kind",
    "severity",
    "rule",
    "title",
    "tools",
    "advisories",
    "path",
    "line",
    "ecosystem",
    "package",
    "version",
    "fix_version",
    "risk_score",
    "first_detected_at",
    "first_detected_commit",
    "last_seen_at",
    "fixed_at",
    "introduced_commit",
    "introduced_author",
    "triage",
];

pub(crate) fn csv(page: &[BranchFinding]) -> Result<String, ApiError> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    let fail = |e: csv::Error| ApiError::internal(&e);
    writer.write_record(FINDINGS_CSV_HEADER).map_err(fail)?;
    for f in page {
        let time = |t: &chrono::DateTime<Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        writer
            .write_record([
                f.repository.clone(),
                f.finding_id.clone(),
                text(&f.status),
                f.kind.clone(),
                f.severity.clone(),
                f.rule.clone(),
                f.title.clone(),
                f.tools.0.join(";"),
                f.advisories.0.join(";"),
                f.path.clone().unwrap_or_default(),
                f.line.map(|l| l.to_string()).unwrap_or_default(),
                f.ecosystem.clone().unwrap_or_default(),
                f.package.clone().unwrap_or_default(),
                f.version.clone().unwrap_or_default(),
                f.fix_version.clone().unwrap_or_default(),
                f.risk_score.to_string(),
                time(&f.first_detected_at),
                f.first_detected_commit.clone(),
                time(&f.last_seen_at),
                f.fixed_at.as_ref().map(time).unwrap_or_default(),
                f.introduced_commit.clone().unwrap_or_default(),
                f.introduced_author.clone().unwrap_or_default(),
                f.triage.clone().unwrap_or_default(),
            ])
            .map_err(fail)?;
    }
    let bytes = writer
        .into_inner()
        .map_err(|e| ApiError::internal(&e.error().to_string()))?;
    String::from_utf8(bytes).map_err(|e| ApiError::internal(&e))
}

/// A serde enum's JSON spelling.
fn text<T: Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_garbage_is_refused() {
        let cursor = encode_cursor("acme/shop", "abc123");
        assert_eq!(
            decode_cursor(&cursor).unwrap(),
            ("acme/shop".to_owned(), "abc123".to_owned())
        );
        assert!(decode_cursor("zz").is_err());
        assert!(decode_cursor(&hex::encode("no newline")).is_err());
    }
}
