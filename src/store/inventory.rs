//! The org's inventory: the components of each project's default branch and deployments
//! ([`Target`]), and the API endpoints its default branch declares. A scan replaces its
//! target's rows in one transaction; a component keeps the commit and time it was first
//! seen at (its version included), which the component search reports as the introducing
//! commit.

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::{BeginWrite, ProjectId, Store, StoreError, with_pool};
use crate::inventory::openapi::{ApiDocument, Security};
use crate::inventory::{Deployed, Target};
use crate::model::{Component, ComponentScope, Ecosystem, Licenses, Package};

/// A stored component's purl, manifest, first commit and time, and latest observation.
type EarlierRow = (String, String, String, DateTime<Utc>, DateTime<Utc>);

/// Which rows of a target a scan replaces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Replace {
    /// Every row: the scan read the whole repository.
    Everything,
    /// The rows of the manifests, reports or images the scan's components name.
    Manifests,
}

/// The package URL without version that names a component's package in searches: derived
/// from the package (so `pkg:npm/@babel/core`, `pkg:npm/%40babel/core` and a report's
/// qualifiers all give one spelling), else the component's own without its version.
pub fn package_purl(component: &Component) -> String {
    Package {
        version: None,
        manifest: None,
        ..component.package.clone()
    }
    .purl()
    .unwrap_or_else(|| component.versionless_purl().to_owned())
}

/// A component as stored, with where it is and since when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ComponentRow {
    pub repository: String,
    pub target: Target,
    #[serde(flatten)]
    pub component: Component,
    /// The scan that first showed this version here: its commit and time.
    pub introduced_commit: String,
    pub first_seen_at: DateTime<Utc>,
    /// The latest scan that showed it.
    pub commit: String,
    pub observed_at: DateTime<Utc>,
}

/// Which components of an org to list; the filters the database can apply.
#[derive(Debug, Clone, Default)]
pub struct ComponentQuery {
    pub org: String,
    /// The package, as a package URL without version (`pkg:maven/org.apache.logging.log4j/log4j-core`).
    pub package_purl: Option<String>,
    /// Text the declared or concluded licence contains (case-insensitive); callers refine.
    pub license_contains: Option<String>,
    pub repository: Option<String>,
    /// Only these repositories (lower-case full names): what the caller may read. `None`:
    /// every repository of the org.
    pub within: Option<BTreeSet<String>>,
    pub target: Option<Target>,
    pub scope: Option<ComponentScope>,
    /// Resume after this row key (`repository, target, purl, manifest`), in byte order.
    pub after: Option<ComponentKey>,
    /// At most this many rows.
    pub limit: Option<u32>,
}

/// The key that orders components (by bytes, on both databases): repository, target,
/// package URL, manifest.
pub type ComponentKey = (String, String, String, String);

impl ComponentRow {
    pub fn key(&self) -> ComponentKey {
        (
            self.repository.clone(),
            self.target.as_str().to_owned(),
            self.component.purl.clone(),
            self.component.package.manifest.clone().unwrap_or_default(),
        )
    }
}

/// One operation of an OpenAPI document on a default branch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct EndpointRow {
    pub repository: String,
    pub file: String,
    pub method: String,
    pub path: String,
    pub line: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub operation: Option<String>,
    /// `required`, `none` (no security requirement) or `disabled` (`security: []`).
    pub security: String,
    pub schemes: Vec<String>,
    pub servers: Vec<ServerRow>,
    /// Whether a server of the document looks reachable from the internet; `None` when none
    /// can be told.
    pub public: Option<bool>,
    pub sensitive_fields: Vec<String>,
    pub commit: String,
}

impl EndpointRow {
    /// The rows of a document's endpoints (the repository is the project's).
    fn of(document: &ApiDocument, commit: &str) -> Vec<EndpointRow> {
        let servers: Vec<ServerRow> = document
            .servers
            .iter()
            .map(|server| ServerRow {
                url: server.url.clone(),
                public: server.public,
            })
            .collect();
        // Public when a server is; not when every server is known not to be.
        let public = if servers.iter().any(|s| s.public == Some(true)) {
            Some(true)
        } else if !servers.is_empty() && servers.iter().all(|s| s.public == Some(false)) {
            Some(false)
        } else {
            None
        };
        document
            .endpoints
            .iter()
            .map(|endpoint| {
                let (security, schemes) = match &endpoint.security {
                    Security::Required(schemes) => ("required", schemes.clone()),
                    Security::None => ("none", Vec::new()),
                    Security::Disabled => ("disabled", Vec::new()),
                };
                EndpointRow {
                    repository: String::new(),
                    file: document.file.clone(),
                    method: endpoint.method.as_str().to_owned(),
                    path: endpoint.path.clone(),
                    line: endpoint.line,
                    operation: endpoint.operation_id.clone(),
                    security: security.to_owned(),
                    schemes,
                    servers: servers.clone(),
                    public,
                    sensitive_fields: endpoint.sensitive_fields.clone(),
                    commit: commit.to_owned(),
                }
            })
            .collect()
    }
}

/// A server of an OpenAPI document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct ServerRow {
    pub url: String,
    pub public: Option<bool>,
}

/// A `components` row joined with its project's repository.
#[derive(sqlx::FromRow)]
struct StoredComponent {
    repository: String,
    target: String,
    purl: String,
    manifest: String,
    ecosystem: String,
    name: String,
    version: Option<String>,
    scope: String,
    direct: Option<bool>,
    line: Option<i64>,
    license_declared: Option<String>,
    license_concluded: Option<String>,
    chain: String,
    first_seen_commit: String,
    first_seen_at: DateTime<Utc>,
    commit_sha: String,
    observed_at: DateTime<Utc>,
}

const COMPONENT_COLUMNS: &str = "p.repository, c.target, c.purl, c.manifest, c.ecosystem, c.name, \
     c.version, c.scope, c.direct, c.line, c.license_declared, c.license_concluded, c.chain, \
     c.first_seen_commit, c.first_seen_at, c.commit_sha, c.observed_at";

impl Store {
    /// Records `components` as `target`'s of `project`, as seen at `commit` at `at`.
    /// [`Replace::Everything`] replaces every row of the target (a full read of the
    /// repository); [`Replace::Manifests`] only the rows of the manifests (or reports, or
    /// images) `components` name, so that one image's scan leaves another's rows, and a
    /// report about one lockfile leaves the others. A component already there (same package
    /// URL, version included, and manifest) keeps when it was first seen. A scan older than
    /// the rows it would replace is refused ([`StoreError::StaleInventory`]): a delayed job
    /// must not roll a deployment back. Returns how many rows were written.
    pub async fn replace_components(
        &self,
        project: ProjectId,
        target: Target,
        commit: &str,
        at: DateTime<Utc>,
        components: &[Component],
        replace: Replace,
    ) -> Result<usize, StoreError> {
        // One row per package URL and manifest: the first listed wins.
        let mut unique: HashMap<(&str, &str), &Component> = HashMap::new();
        for component in components {
            let manifest = component.package.manifest.as_deref().unwrap_or("");
            unique
                .entry((component.purl.as_str(), manifest))
                .or_insert(component);
        }
        let mut rows: Vec<(&(&str, &str), &&Component)> = unique.iter().collect();
        rows.sort_by_key(|(key, _)| **key);
        let manifests: BTreeSet<&str> = rows.iter().map(|((_, manifest), _)| *manifest).collect();
        with_pool!(self, |pool, pg| {
            let mut tx = pool.begin_write().await?;
            if pg {
                // Writers of one project's inventory take turns (SQLite's write lock does
                // this by itself): two concurrent scans must not interleave their rows.
                sqlx::query("SELECT id FROM projects WHERE id = $1 FOR UPDATE")
                    .bind(project)
                    .execute(&mut *tx)
                    .await?;
            }
            let earlier: Vec<EarlierRow> = sqlx::query_as(
                "SELECT purl, manifest, first_seen_commit, first_seen_at, observed_at \
                     FROM components WHERE project_id = $1 AND target = $2",
            )
            .bind(project)
            .bind(target.as_str())
            .fetch_all(&mut *tx)
            .await?;
            let replaced = |manifest: &str| match replace {
                Replace::Everything => true,
                Replace::Manifests => manifests.contains(manifest),
            };
            if let Some(latest) = earlier
                .iter()
                .filter(|row| replaced(&row.1))
                .map(|row| row.4)
                .max()
                .filter(|latest| *latest > at)
            {
                return Err(StoreError::StaleInventory {
                    target,
                    observed_at: at,
                    latest,
                });
            }
            let first_seen: HashMap<(String, String), (String, DateTime<Utc>)> = earlier
                .into_iter()
                .map(|(purl, manifest, commit, at, _)| ((purl, manifest), (commit, at)))
                .collect();
            match replace {
                Replace::Everything => {
                    sqlx::query("DELETE FROM components WHERE project_id = $1 AND target = $2")
                        .bind(project)
                        .bind(target.as_str())
                        .execute(&mut *tx)
                        .await?;
                }
                Replace::Manifests => {
                    for manifest in &manifests {
                        sqlx::query(
                            "DELETE FROM components \
                             WHERE project_id = $1 AND target = $2 AND manifest = $3",
                        )
                        .bind(project)
                        .bind(target.as_str())
                        .bind(*manifest)
                        .execute(&mut *tx)
                        .await?;
                    }
                }
            }
            for ((purl, manifest), component) in &rows {
                let (first_commit, first_at) = first_seen
                    .get(&(purl.to_string(), manifest.to_string()))
                    .cloned()
                    .unwrap_or_else(|| (commit.to_owned(), at));
                let package = &component.package;
                sqlx::query(
                    "INSERT INTO components (project_id, target, purl, package_purl, manifest, \
                     ecosystem, name, version, scope, direct, line, license_declared, \
                     license_concluded, chain, first_seen_commit, first_seen_at, commit_sha, \
                     observed_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, \
                     $16, $17, $18)",
                )
                .bind(project)
                .bind(target.as_str())
                .bind(*purl)
                .bind(package_purl(component))
                .bind(*manifest)
                .bind(package.ecosystem.as_str())
                .bind(&package.name)
                .bind(package.version.as_deref())
                .bind(component.scope.as_str())
                .bind(component.direct)
                .bind(component.line.map(i64::from))
                .bind(component.licenses.declared.as_deref())
                .bind(component.licenses.concluded.as_deref())
                .bind(text_json("chain", &component.chain)?)
                .bind(first_commit)
                .bind(first_at)
                .bind(commit)
                .bind(at)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
            Ok::<_, StoreError>(())
        })?;
        Ok(rows.len())
    }

    /// The components of an org that `query` selects, ordered by repository, target,
    /// package URL and manifest.
    pub async fn components(
        &self,
        query: &ComponentQuery,
    ) -> Result<Vec<ComponentRow>, StoreError> {
        let rows: Vec<StoredComponent> = with_pool!(self, |pool, pg| {
            // Byte order on both: PostgreSQL's collation would order `a-z` and `ab` unlike
            // SQLite and unlike the cursor's comparison.
            let bytes = if pg { " COLLATE \"C\"" } else { "" };
            let mut sql = sqlx::QueryBuilder::new(format!(
                "SELECT {COMPONENT_COLUMNS} FROM components c \
                 JOIN projects p ON p.id = c.project_id WHERE p.org = "
            ));
            sql.push_bind(query.org.clone());
            if let Some(purl) = &query.package_purl {
                sql.push(" AND c.package_purl = ").push_bind(purl.clone());
            }
            if let Some(within) = &query.within {
                // '/' names no repository: an empty reach matches nothing.
                sql.push(" AND lower(p.repository) IN ('/'");
                for repository in within {
                    sql.push(", ").push_bind(repository.clone());
                }
                sql.push(")");
            }
            if let Some(repository) = &query.repository {
                sql.push(" AND p.repository = ")
                    .push_bind(repository.clone());
            }
            if let Some(target) = query.target {
                sql.push(" AND c.target = ").push_bind(target.as_str());
            }
            if let Some(license) = &query.license_contains {
                let pattern = format!("%{}%", license.to_lowercase());
                sql.push(" AND (lower(c.license_declared) LIKE ")
                    .push_bind(pattern.clone())
                    .push(" OR lower(c.license_concluded) LIKE ")
                    .push_bind(pattern)
                    .push(")");
            }
            if let Some(scope) = query.scope {
                sql.push(" AND c.scope = ").push_bind(scope.as_str());
            }
            let key =
                format!("p.repository{bytes}, c.target{bytes}, c.purl{bytes}, c.manifest{bytes}");
            if let Some((repository, target, purl, manifest)) = &query.after {
                sql.push(format!(" AND ({key}) > ("))
                    .push_bind(repository.clone())
                    .push(", ")
                    .push_bind(target.clone())
                    .push(", ")
                    .push_bind(purl.clone())
                    .push(", ")
                    .push_bind(manifest.clone())
                    .push(")");
            }
            sql.push(format!(" ORDER BY {key}"));
            if let Some(limit) = query.limit {
                sql.push(" LIMIT ").push_bind(i64::from(limit));
            }
            sql.build_query_as().fetch_all(pool).await
        })?;
        rows.into_iter().map(component_row).collect()
    }

    /// What the deployments of `repository` run, for the risk score.
    pub async fn deployed(&self, repository: &str) -> Result<Deployed, StoreError> {
        let mut deployed = Deployed::default();
        for target in [Target::Production, Target::Staging] {
            let rows = self
                .components(&ComponentQuery {
                    org: super::org_of(repository),
                    repository: Some(repository.to_owned()),
                    target: Some(target),
                    ..ComponentQuery::default()
                })
                .await?;
            let components: Vec<Component> = rows.into_iter().map(|row| row.component).collect();
            deployed.add(target, &components);
        }
        Ok(deployed)
    }

    /// Replaces the API endpoints of `project`'s default branch with those of `documents`.
    pub async fn replace_endpoints(
        &self,
        project: ProjectId,
        commit: &str,
        at: DateTime<Utc>,
        documents: &[ApiDocument],
    ) -> Result<(), StoreError> {
        let endpoints: Vec<EndpointRow> = documents
            .iter()
            .flat_map(|document| EndpointRow::of(document, commit))
            .collect();
        with_pool!(self, |pool| {
            let mut tx = pool.begin_write().await?;
            sqlx::query("DELETE FROM api_endpoints WHERE project_id = $1")
                .bind(project)
                .execute(&mut *tx)
                .await?;
            for endpoint in &endpoints {
                sqlx::query(
                    "INSERT INTO api_endpoints (project_id, file, method, path, line, operation, \
                     security, schemes, servers, public, sensitive, commit_sha, observed_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) \
                     ON CONFLICT (project_id, file, method, path) DO NOTHING",
                )
                .bind(project)
                .bind(&endpoint.file)
                .bind(&endpoint.method)
                .bind(&endpoint.path)
                .bind(i64::from(endpoint.line))
                .bind(endpoint.operation.as_deref())
                .bind(&endpoint.security)
                .bind(text_json("schemes", &endpoint.schemes)?)
                .bind(text_json("servers", &endpoint.servers)?)
                .bind(endpoint.public)
                .bind(text_json("sensitive fields", &endpoint.sensitive_fields)?)
                .bind(commit)
                .bind(at)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
            Ok::<_, StoreError>(())
        })
    }

    /// The API endpoints of an org's default branches (of one repository when given),
    /// ordered by repository, file, path and method.
    pub async fn endpoints(
        &self,
        org: &str,
        repository: Option<&str>,
    ) -> Result<Vec<EndpointRow>, StoreError> {
        type Row = (
            String,
            String,
            String,
            String,
            i64,
            Option<String>,
            String,
            String,
            String,
            Option<bool>,
            String,
            String,
        );
        let rows: Vec<Row> = with_pool!(self, |pool| {
            let mut sql = sqlx::QueryBuilder::new(
                "SELECT p.repository, e.file, e.method, e.path, e.line, e.operation, e.security, \
                 e.schemes, e.servers, e.public, e.sensitive, e.commit_sha \
                 FROM api_endpoints e JOIN projects p ON p.id = e.project_id WHERE p.org = ",
            );
            sql.push_bind(org.to_owned());
            if let Some(repository) = repository {
                sql.push(" AND p.repository = ")
                    .push_bind(repository.to_owned());
            }
            sql.push(" ORDER BY p.repository, e.file, e.path, e.method");
            sql.build_query_as().fetch_all(pool).await
        })?;
        rows.into_iter()
            .map(
                |(
                    repository,
                    file,
                    method,
                    path,
                    line,
                    operation,
                    security,
                    schemes,
                    servers,
                    public,
                    sensitive,
                    commit,
                )| {
                    Ok(EndpointRow {
                        repository,
                        file,
                        method,
                        path,
                        line: u32::try_from(line).unwrap_or(0),
                        operation,
                        security,
                        schemes: parse_json("schemes", &schemes)?,
                        servers: parse_json("servers", &servers)?,
                        public,
                        sensitive_fields: parse_json("sensitive fields", &sensitive)?,
                        commit,
                    })
                },
            )
            .collect()
    }
}

fn component_row(row: StoredComponent) -> Result<ComponentRow, StoreError> {
    let corrupt = |what: &'static str, value: String| {
        StoreError::Corrupt(super::UnknownVariant { what, value })
    };
    let StoredComponent {
        repository,
        target,
        purl,
        manifest,
        ecosystem,
        name,
        version,
        scope,
        direct,
        line,
        license_declared: declared,
        license_concluded: concluded,
        chain,
        first_seen_commit: introduced_commit,
        first_seen_at,
        commit_sha: commit,
        observed_at,
    } = row;
    Ok(ComponentRow {
        repository,
        target: target.parse().map_err(|_| corrupt("target", target))?,
        component: Component {
            package: Package {
                ecosystem: Ecosystem::parse(&ecosystem),
                name,
                version,
                manifest: Some(manifest).filter(|m| !m.is_empty()),
            },
            purl,
            scope: scope
                .parse::<ComponentScope>()
                .map_err(|_| corrupt("scope", scope))?,
            direct,
            chain: parse_json("chain", &chain)?,
            line: line.and_then(|l| u32::try_from(l).ok()),
            licenses: Licenses {
                declared,
                concluded,
            },
        },
        introduced_commit,
        first_seen_at,
        commit,
        observed_at,
    })
}

/// JSON text for a TEXT column.
fn text_json<T: Serialize + ?Sized>(what: &'static str, value: &T) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|source| StoreError::Json { what, source })
}

fn parse_json<T: serde::de::DeserializeOwned>(
    what: &'static str,
    text: &str,
) -> Result<T, StoreError> {
    serde_json::from_str(text).map_err(|source| StoreError::Json { what, source })
}
