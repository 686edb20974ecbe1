//! The inventory endpoints:
//!
//! - `GET /api/v1/orgs/{org}/components?purl=&version=&license=&scope=&repository=&target=`
//!   — where a package is used ("log4j-core below 2.17.1": repository, manifest, version,
//!   scope, the commit that introduced it), JSON or CSV, paged;
//! - `GET /api/v1/orgs/{org}/apis` — the API endpoints the org's default branches declare;
//! - `GET /api/v1/orgs/{org}/drift` — per repository, what its deployments run that its
//!   default branch does not declare, or in older versions;
//! - `GET /api/v1/repos/{owner}/{name}/sbom?format=cyclonedx|spdx`, `…/drift`,
//!   `…/components` and `…/apis` (GitLab's nested groups work: the repository is every
//!   segment before the last).
//!
//! Under the org endpoints' access rules: the caller's org only, scope `read`, 404 for
//! anything out of reach.

use std::collections::HashMap;

use axum::Extension;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::access::{Caller, Scope};
use super::query::Params;
use super::{ApiError, ApiState};
use crate::inventory::Target;
use crate::inventory::drift::{Drift, drift};
use crate::inventory::range::VersionRange;
use crate::inventory::sbom::{self, SbomFormat, Subject};
use crate::model::{Component, ComponentScope, Package};
use crate::store::{ComponentKey, ComponentQuery, ComponentRow, EndpointRow, package_purl};

const DEFAULT_LIMIT: u32 = 100;
const MAX_LIMIT: u32 = 1000;
/// Rows read from the database at a time by the component search.
const BATCH: u32 = 2000;

/// `GET /api/v1/orgs/{org}/components`.
pub async fn org_components(
    State(state): State<ApiState>,
    Extension(caller): Extension<Caller>,
    Path(org): Path<String>,
    Query(raw): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let org = caller.read_org(&org)?;
    let params = Params::new(
        raw,
        &[
            "purl",
            "version",
            "license",
            "scope",
            "repository",
            "target",
            "format",
            "limit",
            "cursor",
        ],
    )?;
    let repository = match params.get("repository") {
        Some(repository) => Some(
            caller
                .readable_repository(&state.store, &org, repository)
                .await?,
        ),
        None => None,
    };
    let search = Search::read(&params)?;
    let csv_wanted = params
        .parse("format", |v| match v {
            "json" => Ok(false),
            "csv" => Ok(true),
            other => Err(format!("unknown format `{other}` (expected json or csv)")),
        })?
        .unwrap_or(false);
    let limit = params.limit(DEFAULT_LIMIT, MAX_LIMIT)? as usize;
    let mut query = ComponentQuery {
        org: org.clone(),
        package_purl: search.package_purl.clone(),
        license_contains: search.license.clone(),
        repository,
        within: caller.within(&org),
        target: params.parse("target", |v| v.parse::<Target>())?,
        scope: search.scope,
        after: params.parse("cursor", decode_cursor)?,
        limit: Some(BATCH),
    };
    // Pages are read from the database in batches, in key order, until the page is full:
    // a version range or a licence is checked here, never by loading the org.
    let mut page: Vec<ComponentRow> = Vec::with_capacity(limit);
    let mut more = false;
    'batches: loop {
        let batch = state.store.components(&query).await?;
        let exhausted = batch.len() < BATCH as usize;
        for row in batch {
            query.after = Some(row.key());
            if !search.matches(&row.component) {
                continue;
            }
            if page.len() == limit {
                more = true;
                break 'batches;
            }
            page.push(row);
        }
        if exhausted {
            break;
        }
    }
    let next_cursor = more
        .then(|| page.last().map(|row| encode_cursor(&row.key())))
        .flatten();
    let page = page.as_slice();
    if csv_wanted {
        let mut response = (
            [(header::CONTENT_TYPE, "text/csv; charset=utf-8")],
            components_csv(page)?,
        )
            .into_response();
        if let Some(cursor) = next_cursor.and_then(|c| HeaderValue::from_str(&c).ok()) {
            response
                .headers_mut()
                .insert(super::orgs::NEXT_CURSOR_HEADER, cursor);
        }
        return Ok(response);
    }
    Ok(Json(json!({
        "org": org,
        "components": page,
        "next_cursor": next_cursor,
    }))
    .into_response())
}

/// `GET /api/v1/orgs/{org}/apis?repository=&security=&public=`.
pub async fn org_apis(
    State(state): State<ApiState>,
    Extension(caller): Extension<Caller>,
    Path(org): Path<String>,
    Query(raw): Query<HashMap<String, String>>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let org = caller.read_org(&org)?;
    let params = Params::new(raw, &["repository", "security", "public"])?;
    let repository = match params.get("repository") {
        Some(repository) => Some(
            caller
                .readable_repository(&state.store, &org, repository)
                .await?,
        ),
        None => None,
    };
    let security = params.parse("security", |v| match v {
        "required" | "none" | "disabled" => Ok(v.to_owned()),
        other => Err(format!(
            "unknown security `{other}` (expected required, none or disabled)"
        )),
    })?;
    let public = params.parse("public", parse_bool)?;
    let endpoints: Vec<EndpointRow> = state
        .store
        .endpoints(&org, repository.as_deref())
        .await?
        .into_iter()
        .filter(|e| caller.sees(&e.repository))
        .filter(|e| security.as_ref().is_none_or(|s| *s == e.security))
        .filter(|e| public.is_none_or(|p| e.public == Some(p)))
        .collect();
    Ok(Json(json!({ "org": org, "endpoints": endpoints })))
}

/// `GET /api/v1/orgs/{org}/drift`: the repositories whose deployments differ from their
/// default branch.
pub async fn org_drift(
    State(state): State<ApiState>,
    Extension(caller): Extension<Caller>,
    Path(org): Path<String>,
    Query(raw): Query<HashMap<String, String>>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let org = caller.read_org(&org)?;
    Params::new(raw, &[])?;
    // The repositories with a deployment, then each one's rows: never the whole org at once.
    let mut deployed = std::collections::BTreeSet::new();
    for target in [Target::Production, Target::Staging] {
        let rows = state
            .store
            .components(&ComponentQuery {
                org: org.clone(),
                target: Some(target),
                within: caller.within(&org),
                ..ComponentQuery::default()
            })
            .await?;
        deployed.extend(rows.into_iter().map(|row| row.repository));
    }
    let mut repositories = Vec::new();
    for repository in deployed {
        let rows = state
            .store
            .components(&ComponentQuery {
                org: org.clone(),
                repository: Some(repository.clone()),
                ..ComponentQuery::default()
            })
            .await?;
        let rows: Vec<&ComponentRow> = rows.iter().collect();
        repositories.push(json!({"repository": repository, "deployments": deployments(&rows)}));
    }
    Ok(Json(json!({ "org": org, "repositories": repositories })))
}

/// `GET /api/v1/repos/{owner}/{name}/{sbom|drift|components|apis}`.
pub async fn repository(
    State(state): State<ApiState>,
    Extension(caller): Extension<Caller>,
    Path(path): Path<String>,
    Query(raw): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let (repository, resource) = path
        .trim_matches('/')
        .rsplit_once('/')
        .filter(|(repository, _)| repository.contains('/'))
        .ok_or_else(ApiError::not_found)?;
    let org = caller.reach_repository(repository)?;
    caller.require(Scope::Read)?;
    let repository = caller
        .readable_repository(&state.store, &org, repository)
        .await?;
    let repository = repository.as_str();
    let components = |target: Option<Target>| {
        let query = ComponentQuery {
            org: org.clone(),
            repository: Some(repository.to_owned()),
            target,
            ..ComponentQuery::default()
        };
        let store = state.store.clone();
        async move { store.components(&query).await }
    };
    match resource {
        "sbom" => {
            let params = Params::new(raw, &["format"])?;
            let format = params
                .parse("format", |v| v.parse::<SbomFormat>())?
                .unwrap_or(SbomFormat::Cyclonedx);
            let rows = components(Some(Target::DefaultBranch)).await?;
            let Some(latest) = rows.iter().max_by_key(|row| row.observed_at) else {
                return Err(ApiError::not_found_because(format!(
                    "no inventory of {repository}'s default branch yet: upload a default-branch scan with an SBOM or a scanner report that lists packages"
                )));
            };
            let subject = Subject {
                name: repository,
                revision: &latest.commit,
                created: latest.observed_at,
            };
            let list: Vec<Component> = rows.iter().map(|row| row.component.clone()).collect();
            let document = sbom::write(format, &subject, &list);
            Ok(Json(document).into_response())
        }
        "components" => {
            let params = Params::new(raw, &["target"])?;
            let target = params.parse("target", |v| v.parse::<Target>())?;
            let rows = components(target).await?;
            Ok(Json(json!({"repository": repository, "components": rows})).into_response())
        }
        "drift" => {
            Params::new(raw, &[])?;
            let rows = components(None).await?;
            let refs: Vec<&ComponentRow> = rows.iter().collect();
            Ok(Json(json!({
                "repository": repository,
                "deployments": deployments(&refs),
            }))
            .into_response())
        }
        "apis" => {
            Params::new(raw, &[])?;
            let endpoints = state.store.endpoints(&org, Some(repository)).await?;
            Ok(Json(json!({"repository": repository, "endpoints": endpoints})).into_response())
        }
        _ => Err(ApiError::not_found()),
    }
}

/// Each deployment of a repository's rows, with its drift from the default branch.
fn deployments(rows: &[&ComponentRow]) -> Vec<serde_json::Value> {
    let of = |target: Target| -> Vec<Component> {
        rows.iter()
            .filter(|row| row.target == target)
            .map(|row| row.component.clone())
            .collect()
    };
    let declared = of(Target::DefaultBranch);
    [Target::Production, Target::Staging]
        .into_iter()
        .filter_map(|target| {
            let running = of(target);
            if running.is_empty() {
                return None;
            }
            let observed = rows
                .iter()
                .filter(|row| row.target == target)
                .map(|row| row.observed_at)
                .max();
            let drift: Drift = drift(&declared, &running);
            Some(json!({
                "environment": target,
                "observed_at": observed,
                "components": running.len(),
                "drift": drift,
            }))
        })
        .collect()
}

/// The search filters applied to the database's rows.
struct Search {
    package_purl: Option<String>,
    /// A version in the purl, or `version=`.
    range: Option<VersionRange>,
    license: Option<String>,
    scope: Option<ComponentScope>,
}

impl Search {
    fn read(params: &Params) -> Result<Search, ApiError> {
        // One spelling for every way of writing the package: `pkg:npm/@babel/core` and
        // `pkg:npm/%40babel/core`, `pkg:pypi/Django` and `pkg:pypi/django`, qualifiers.
        let package = params.parse("purl", |v| {
            Package::from_purl(&v.replacen("/@", "/%40", 1))
                .filter(|p| !p.name.is_empty())
                .ok_or_else(|| format!("`{v}` is not a package URL (pkg:type/namespace/name)"))
        })?;
        let mut range = params.parse("version", VersionRange::parse)?;
        let package_purl = match &package {
            Some(package) => Some(
                Component::new(package.clone(), ComponentScope::Runtime)
                    .map(|component| package_purl(&component))
                    .ok_or_else(|| {
                        ApiError::bad_request("`purl`: a package URL of an unknown type")
                    })?,
            ),
            None => None,
        };
        if let Some(version) = package.and_then(|p| p.version) {
            if range.is_some() {
                return Err(ApiError::bad_request(
                    "give the version in `purl` or in `version`, not both",
                ));
            }
            range =
                Some(VersionRange::parse(&format!("={version}")).map_err(ApiError::bad_request)?);
        }
        Ok(Search {
            package_purl,
            range,
            license: params.get("license").map(str::to_owned),
            scope: params.parse("scope", |v| v.parse::<ComponentScope>())?,
        })
    }

    fn matches(&self, component: &Component) -> bool {
        let package = &component.package;
        self.range
            .as_ref()
            .is_none_or(|range| range.contains(&package.ecosystem, package.version.as_deref()))
            && self.scope.is_none_or(|scope| component.scope == scope)
            && self.license.as_deref().is_none_or(|license| {
                component
                    .licenses
                    .effective()
                    .is_some_and(|expression| mentions(expression, license))
            })
    }
}

/// Whether an SPDX expression names `id` (case-insensitively, as a whole identifier).
fn mentions(expression: &str, id: &str) -> bool {
    expression
        .split(|c: char| c.is_whitespace() || c == '(' || c == ')')
        .any(|token| token.eq_ignore_ascii_case(id))
}

fn parse_bool(text: &str) -> Result<bool, String> {
    match text {
        "true" => Ok(true),
        "false" => Ok(false),
        other => Err(format!("expected true or false, not `{other}`")),
    }
}

fn encode_cursor(key: &ComponentKey) -> String {
    hex::encode(format!("{}\n{}\n{}\n{}", key.0, key.1, key.2, key.3))
}

fn decode_cursor(cursor: &str) -> Result<ComponentKey, String> {
    let text = hex::decode(cursor)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .ok_or("not a cursor this API gave")?;
    let mut parts = text.splitn(4, '\n').map(str::to_owned);
    match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some(a), Some(b), Some(c), Some(d)) => Ok((a, b, c, d)),
        _ => Err("not a cursor this API gave".into()),
    }
}

/// The CSV columns of a component, in their stable order.
pub const COMPONENTS_CSV_HEADER: [&str; 15] = [
    "repository",
    "target",
    "purl",
    "ecosystem",
    "name",
    "version",
    "scope",
    "direct",
    "manifest",
    "line",
    "license",
    "chain",
    "introduced_commit",
    "first_seen_at",
    "commit",
];

fn components_csv(page: &[ComponentRow]) -> Result<String, ApiError> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    let fail = |e: csv::Error| ApiError::internal(&e);
    writer.write_record(COMPONENTS_CSV_HEADER).map_err(fail)?;
    for row in page {
        let c = &row.component;
        writer
            .write_record([
                row.repository.clone(),
                row.target.to_string(),
                c.purl.clone(),
                c.package.ecosystem.to_string(),
                c.package.name.clone(),
                c.package.version.clone().unwrap_or_default(),
                c.scope.to_string(),
                c.direct.map(|d| d.to_string()).unwrap_or_default(),
                c.package.manifest.clone().unwrap_or_default(),
                c.line.map(|l| l.to_string()).unwrap_or_default(),
                c.licenses.effective().unwrap_or_default().to_owned(),
                c.chain.join(" > "),
                row.introduced_commit.clone(),
                row.first_seen_at
                    .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                row.commit.clone(),
            ])
            .map_err(fail)?;
    }
    let bytes = writer
        .into_inner()
        .map_err(|e| ApiError::internal(&e.error().to_string()))?;
    String::from_utf8(bytes).map_err(|e| ApiError::internal(&e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn licence_search_matches_whole_identifiers_only() {
        assert!(mentions("(MIT OR AGPL-3.0-only)", "agpl-3.0-only"));
        assert!(!mentions("AGPL-3.0-or-later", "AGPL-3.0-only"));
        assert!(!mentions("LGPL-2.1-only", "GPL-2.1-only"));
    }

    #[test]
    fn cursors_round_trip_and_garbage_is_refused() {
        let key = (
            "acme/shop".to_owned(),
            "default_branch".to_owned(),
            "pkg:npm/lodash@4.17.21".to_owned(),
            "package-lock.json".to_owned(),
        );
        assert_eq!(decode_cursor(&encode_cursor(&key)).unwrap(), key);
        assert!(decode_cursor("zz").is_err());
        assert!(decode_cursor(&hex::encode("a\nb")).is_err());
    }
}
