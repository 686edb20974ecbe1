//! Exploitation intelligence in the store: the KEV catalog and EPSS scores, fetched from a
//! file or URL, parsed ([`crate::analyze::feeds`]), and cached one row per CVE so reviews
//! look up only the CVEs they name. [`refresh_intel`] reloads the configured feeds;
//! [`refresh_periodically`] does it on an interval until told to stop (`posture serve`).

use std::collections::BTreeSet;
use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};
use tokio::sync::watch;

use super::{BeginWrite, Store, StoreError, now, with_pool};
use crate::analyze::feeds::{self, EpssFile, FeedError, KevCatalog, MAX_FEED_BYTES};
use crate::model::{EpssScore, Intel, KevEntry};

/// The published feeds.
pub const KEV_URL: &str =
    "https://www.cisa.gov/sites/default/files/feeds/known_exploited_vulnerabilities.json";
pub const EPSS_URL: &str = "https://epss.cyentia.com/epss_scores-current.csv.gz";

/// Rows per multi-row INSERT (three or eight parameters each: under SQLite's 999).
const BATCH: usize = 100;
/// CVE ids per lookup query.
const LOOKUP_BATCH: usize = 500;
/// How long a download may take.
const FETCH_TIMEOUT: Duration = Duration::from_secs(120);

#[derive(Debug, thiserror::Error)]
pub enum IntelError {
    #[error("cannot read {source_name}: {message}")]
    Fetch {
        source_name: String,
        message: String,
    },
    #[error(transparent)]
    Feed(#[from] FeedError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Where the feeds come from: a file path or an `http(s)://` URL each; `None` skips it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IntelSources {
    pub kev: Option<String>,
    pub epss: Option<String>,
}

impl IntelSources {
    /// The published feeds.
    pub fn published() -> IntelSources {
        IntelSources {
            kev: Some(KEV_URL.to_string()),
            epss: Some(EPSS_URL.to_string()),
        }
    }
}

/// What one load stored.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FeedStatus {
    pub feed: String,
    pub source: String,
    pub version: Option<String>,
    pub published: Option<NaiveDate>,
    pub records: i64,
    pub loaded_at: DateTime<Utc>,
}

#[derive(sqlx::FromRow)]
struct KevRow {
    cve_id: String,
    vendor_project: String,
    product: String,
    vulnerability_name: String,
    date_added: NaiveDate,
    due_date: Option<NaiveDate>,
    known_ransomware: bool,
    required_action: String,
}

/// A row of `intel_feeds`: feed, source, version, published, records, loaded at.
type FeedRow = (
    String,
    String,
    Option<String>,
    Option<NaiveDate>,
    i64,
    DateTime<Utc>,
);

#[derive(sqlx::FromRow)]
struct EpssRow {
    cve_id: String,
    probability: f64,
    percentile: f64,
}

/// Reads a feed from a file or downloads it, at most [`MAX_FEED_BYTES`].
pub async fn fetch(source: &str) -> Result<Vec<u8>, IntelError> {
    let error = |message: String| IntelError::Fetch {
        source_name: source.to_string(),
        message,
    };
    if source.starts_with("http://") || source.starts_with("https://") {
        let client = reqwest::Client::builder()
            .timeout(FETCH_TIMEOUT)
            .user_agent(concat!("posture/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| error(e.to_string()))?;
        let mut response = client
            .get(source)
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .map_err(|e| error(e.to_string()))?;
        let mut bytes = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| error(e.to_string()))? {
            bytes.extend_from_slice(&chunk);
            if bytes.len() as u64 > MAX_FEED_BYTES {
                return Err(error(format!("larger than {MAX_FEED_BYTES} bytes")));
            }
        }
        Ok(bytes)
    } else {
        let path = source.strip_prefix("file://").unwrap_or(source);
        let metadata = tokio::fs::metadata(path)
            .await
            .map_err(|e| error(e.to_string()))?;
        if metadata.len() > MAX_FEED_BYTES {
            return Err(error(format!("larger than {MAX_FEED_BYTES} bytes")));
        }
        tokio::fs::read(path)
            .await
            .map_err(|e| error(e.to_string()))
    }
}

/// Fetches, parses and stores the configured feeds; returns what was loaded. A feed that
/// fails leaves the stored one untouched.
pub async fn refresh_intel(
    store: &Store,
    sources: &IntelSources,
) -> Result<Vec<FeedStatus>, IntelError> {
    let mut loaded = Vec::new();
    if let Some(source) = &sources.kev {
        let catalog = feeds::parse_kev(source, &fetch(source).await?)?;
        loaded.push(store.replace_kev(&catalog, source).await?);
    }
    if let Some(source) = &sources.epss {
        let scores = feeds::parse_epss(source, &fetch(source).await?)?;
        loaded.push(store.replace_epss(&scores, source).await?);
    }
    Ok(loaded)
}

/// Refreshes the feeds now and then every `interval`, until `stop` turns true. Failures
/// are logged and retried at the next tick: stale data beats no data.
pub async fn refresh_periodically(
    store: Store,
    sources: IntelSources,
    interval: Duration,
    mut stop: watch::Receiver<bool>,
) {
    let mut ticks = tokio::time::interval(interval.max(Duration::from_secs(60)));
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = ticks.tick() => {
                match refresh_intel(&store, &sources).await {
                    Ok(loaded) => {
                        for feed in loaded {
                            tracing::info!(feed = %feed.feed, records = feed.records, source = %feed.source, "intel refreshed");
                        }
                    }
                    Err(error) => tracing::warn!("intel refresh failed: {error}"),
                }
            }
            changed = stop.changed() => {
                if changed.is_err() || *stop.borrow() {
                    return;
                }
            }
        }
    }
}

impl Store {
    /// Replaces the stored KEV catalog with `catalog`, in one transaction.
    pub async fn replace_kev(
        &self,
        catalog: &KevCatalog,
        source: &str,
    ) -> Result<FeedStatus, StoreError> {
        let status = FeedStatus {
            feed: "kev".into(),
            source: source.to_string(),
            version: catalog.version.clone(),
            published: None,
            records: i64::try_from(catalog.entries.len()).unwrap_or(i64::MAX),
            loaded_at: now(),
        };
        with_pool!(self, |pool| {
            let mut tx = pool.begin_write().await?;
            sqlx::query("DELETE FROM intel_kev")
                .execute(&mut *tx)
                .await?;
            for chunk in catalog.entries.chunks(BATCH) {
                let mut insert = sqlx::QueryBuilder::new(
                    "INSERT INTO intel_kev (cve_id, vendor_project, product, vulnerability_name, \
                     date_added, due_date, known_ransomware, required_action) ",
                );
                insert.push_values(chunk, |mut row, e| {
                    row.push_bind(&e.cve_id)
                        .push_bind(&e.vendor_project)
                        .push_bind(&e.product)
                        .push_bind(&e.vulnerability_name)
                        .push_bind(e.date_added)
                        .push_bind(e.due_date)
                        .push_bind(e.known_ransomware)
                        .push_bind(&e.required_action);
                });
                // A catalog listing a CVE twice keeps the later entry.
                insert.push(
                    " ON CONFLICT (cve_id) DO UPDATE SET vendor_project = excluded.vendor_project, \
                     product = excluded.product, vulnerability_name = excluded.vulnerability_name, \
                     date_added = excluded.date_added, due_date = excluded.due_date, \
                     known_ransomware = excluded.known_ransomware, \
                     required_action = excluded.required_action",
                );
                insert.build().execute(&mut *tx).await?;
            }
            sqlx::query(RECORD_FEED)
                .bind(&status.feed)
                .bind(&status.source)
                .bind(&status.version)
                .bind(status.published)
                .bind(status.records)
                .bind(status.loaded_at)
                .execute(&mut *tx)
                .await?;
            tx.commit().await
        })?;
        Ok(status)
    }

    /// Replaces the stored EPSS scores with `file`'s, in one transaction.
    pub async fn replace_epss(
        &self,
        file: &EpssFile,
        source: &str,
    ) -> Result<FeedStatus, StoreError> {
        let status = FeedStatus {
            feed: "epss".into(),
            source: source.to_string(),
            version: file.model_version.clone(),
            published: file.score_date,
            records: i64::try_from(file.scores.len()).unwrap_or(i64::MAX),
            loaded_at: now(),
        };
        with_pool!(self, |pool| {
            let mut tx = pool.begin_write().await?;
            sqlx::query("DELETE FROM intel_epss")
                .execute(&mut *tx)
                .await?;
            for chunk in file.scores.chunks(BATCH * 3) {
                let mut insert = sqlx::QueryBuilder::new(
                    "INSERT INTO intel_epss (cve_id, probability, percentile) ",
                );
                insert.push_values(chunk, |mut row, (cve, score)| {
                    row.push_bind(cve)
                        .push_bind(score.probability)
                        .push_bind(score.percentile);
                });
                insert.push(
                    " ON CONFLICT (cve_id) DO UPDATE SET probability = excluded.probability, \
                     percentile = excluded.percentile",
                );
                insert.build().execute(&mut *tx).await?;
            }
            sqlx::query(RECORD_FEED)
                .bind(&status.feed)
                .bind(&status.source)
                .bind(&status.version)
                .bind(status.published)
                .bind(status.records)
                .bind(status.loaded_at)
                .execute(&mut *tx)
                .await?;
            tx.commit().await
        })?;
        Ok(status)
    }

    /// The stored KEV and EPSS records of `cves` (upper-case CVE ids).
    pub async fn intel_for(&self, cves: &BTreeSet<String>) -> Result<Intel, StoreError> {
        let mut intel = Intel::default();
        let ids: Vec<&String> = cves.iter().collect();
        for chunk in ids.chunks(LOOKUP_BATCH) {
            let placeholders: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
            let list = placeholders.join(", ");
            let kev_sql = format!(
                "SELECT cve_id, vendor_project, product, vulnerability_name, date_added, due_date, \
                 known_ransomware, required_action FROM intel_kev WHERE cve_id IN ({list})"
            );
            let epss_sql = format!(
                "SELECT cve_id, probability, percentile FROM intel_epss WHERE cve_id IN ({list})"
            );
            let (kev, epss): (Vec<KevRow>, Vec<EpssRow>) = with_pool!(self, |pool| {
                let mut kev = sqlx::query_as::<_, KevRow>(&kev_sql);
                let mut epss = sqlx::query_as::<_, EpssRow>(&epss_sql);
                for id in chunk {
                    kev = kev.bind(id.as_str());
                    epss = epss.bind(id.as_str());
                }
                match kev.fetch_all(pool).await {
                    Ok(kev) => epss.fetch_all(pool).await.map(|epss| (kev, epss)),
                    Err(error) => Err(error),
                }
            })?;
            for row in kev {
                intel.kev.insert(
                    row.cve_id.clone(),
                    KevEntry {
                        cve_id: row.cve_id,
                        vendor_project: row.vendor_project,
                        product: row.product,
                        vulnerability_name: row.vulnerability_name,
                        date_added: row.date_added,
                        due_date: row.due_date,
                        known_ransomware: row.known_ransomware,
                        required_action: row.required_action,
                    },
                );
            }
            for row in epss {
                intel.epss.insert(
                    row.cve_id,
                    EpssScore {
                        probability: row.probability,
                        percentile: row.percentile,
                    },
                );
            }
        }
        for feed in self.intel_feeds().await? {
            match feed.feed.as_str() {
                "kev" => intel.kev_version = feed.version,
                "epss" => intel.epss_date = feed.published,
                _ => {}
            }
        }
        Ok(intel)
    }

    /// The feeds loaded so far.
    pub async fn intel_feeds(&self) -> Result<Vec<FeedStatus>, StoreError> {
        let rows: Vec<FeedRow> = with_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT feed, source, version, published, records, loaded_at \
                     FROM intel_feeds ORDER BY feed",
            )
            .fetch_all(pool)
            .await
        })?;
        Ok(rows
            .into_iter()
            .map(
                |(feed, source, version, published, records, loaded_at)| FeedStatus {
                    feed,
                    source,
                    version,
                    published,
                    records,
                    loaded_at,
                },
            )
            .collect())
    }
}

/// Records a load in `intel_feeds`, inside the load's transaction.
const RECORD_FEED: &str = "INSERT INTO intel_feeds (feed, source, version, published, records, loaded_at) \
     VALUES ($1, $2, $3, $4, $5, $6) \
     ON CONFLICT (feed) DO UPDATE SET source = excluded.source, version = excluded.version, \
     published = excluded.published, records = excluded.records, loaded_at = excluded.loaded_at";
