//! Org-history benchmark on PostgreSQL: 1,000 repositories × ~200 findings × 52 weekly
//! default-branch scans, then the org summary (`GET /api/v1/orgs/{org}/summary`), the first
//! page of the findings list, and the upload path (`Store::record_scan`).
//!
//! ```text
//! cargo bench --bench history                      # the whole thing, a few minutes
//! cargo bench --bench history -- org_summary       # one group (criterion's filter)
//! POSTURE_BENCH_REPOS=100 cargo bench --bench history
//! POSTURE_BENCH_KEEP_SCHEMA=1 cargo bench --bench history   # keep the data for EXPLAIN
//! ```
//!
//! PostgreSQL: `POSTURE_BENCH_DATABASE_URL`, else `POSTURE_TEST_DATABASE_URL`, else
//! `postgres://postgres@127.0.0.1:5432/test`. Everything is written to a schema of its own,
//! dropped at the end (even after a panic) unless `POSTURE_BENCH_KEEP_SCHEMA` is set.
//! Run as a test (`cargo test --benches`, or `-- --test`), the seed is 10 repositories.
//!
//! The history is seeded with a few set-based statements (generate_series and a hash of
//! (project, finding, purpose) for every random choice, so every run seeds the same data):
//! for each repository, 200 findings at the first scan and 4 new ones (2 %) at each of the
//! 51 later weekly scans; each finding lives a geometric number of weeks (2 % fixed per
//! week, ~200 present at the end), 6 % of the fixed ones come back 1–6 weeks later, 6 %
//! change severity once, 3 % are dismissed or accepted (with their `triage` row). Event
//! times and ids are in time order and agree with `branch_findings`, which is checked once
//! before anything is measured. Besides the medians criterion reports (of per-sample
//! means), the bench prints the median of every individual run.

use std::collections::BTreeSet;
use std::hint::black_box;
use std::str::FromStr;
use std::time::{Duration, Instant};

use chrono::{DateTime, SubsecRound, TimeDelta, Utc};
use criterion::{Criterion, SamplingMode, Throughput};
use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::{Connection, Row};
use tokio::runtime::Runtime;

use posture::history::{Filters, FindingHistory, SlaPolicy, Window, summarize};
use posture::model::{
    Advisory, Dedup, Ecosystem, Finding, FindingId, Gate, GateOutcome, Introduced, Kind, Location,
    Package, Review, ReviewedFinding, Risk, RiskFactor, Severity, Status, Summary, Upgrade,
};
use posture::store::{FindingQuery, Forge, ProjectId, StatusFilter, Store};

const DEFAULT_POSTGRES: &str = "postgres://postgres@127.0.0.1:5432/test";
/// The org of the seeded repositories.
const ORG: &str = "bench";
/// The org of the repositories the upload benchmarks write, kept out of `ORG`'s figures.
const UPLOAD_ORG: &str = "upload";
/// Weekly scans per repository (weeks 0 to 51).
const WEEKS: i64 = 52;
/// Findings of the first scan, and about as many at the last.
const FINDINGS: i64 = 200;
/// New findings per weekly scan (2 %), as many fixed on average.
const CHURN: i64 = 4;
/// The summary's period, as the API's default.
const SUMMARY_DAYS: i64 = 30;
/// The tools of every uploaded scan.
const TOOLS: [&str; 6] = [
    "checkov",
    "codeql",
    "gitleaks",
    "osv-scanner",
    "semgrep",
    "trivy",
];

fn main() {
    let mut criterion = Criterion::default().configure_from_args();
    let args: Vec<String> = std::env::args().collect();
    let benchmarking = args.iter().any(|a| a == "--bench") && !args.iter().any(|a| a == "--test");
    let repos: i64 = match std::env::var("POSTURE_BENCH_REPOS") {
        Ok(value) => value.parse().expect("POSTURE_BENCH_REPOS: a number"),
        Err(_) if benchmarking => 1000,
        Err(_) => 10,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let db = runtime.block_on(BenchDb::create());
    let store = runtime.block_on(async {
        let store = Store::connect(&db.store_url())
            .await
            .expect("a store on the bench schema");
        store.migrate().await.expect("migrations");
        store
    });
    let now = Utc::now().trunc_subsecs(0);
    runtime.block_on(db.seed(repos, now));

    let mut figures = Vec::new();
    org_summary(&mut criterion, &runtime, &store, now, &mut figures);
    findings_page(&mut criterion, &runtime, &store, repos, &mut figures);
    upload(&mut criterion, &runtime, &store, now, &mut figures);
    criterion.final_summary();

    if !figures.is_empty() {
        println!("\nmedians of individual runs ({repos} repositories):");
        for line in &figures {
            println!("  {line}");
        }
    }
    runtime.block_on(store.close());
    drop(runtime);
    drop(db);
}

/// The bench's schema: created empty, dropped when this is dropped.
struct BenchDb {
    url: String,
    schema: String,
    keep: bool,
}

fn database_url() -> String {
    std::env::var("POSTURE_BENCH_DATABASE_URL")
        .or_else(|_| std::env::var("POSTURE_TEST_DATABASE_URL"))
        .unwrap_or_else(|_| DEFAULT_POSTGRES.to_owned())
}

impl BenchDb {
    async fn create() -> BenchDb {
        let url = database_url();
        let schema = format!(
            "posture_bench_{}_{}",
            std::process::id(),
            Utc::now().timestamp_micros()
        );
        let mut admin = PgConnection::connect(&url)
            .await
            .unwrap_or_else(|error| panic!("PostgreSQL (see POSTURE_BENCH_DATABASE_URL): {error}"));
        sqlx::query(&format!("CREATE SCHEMA \"{schema}\""))
            .execute(&mut admin)
            .await
            .expect("the bench schema");
        admin.close().await.expect("close the admin connection");
        BenchDb {
            url,
            schema,
            keep: std::env::var_os("POSTURE_BENCH_KEEP_SCHEMA").is_some(),
        }
    }

    /// The database URL with the bench schema as search path, as `Store::connect` takes it.
    fn store_url(&self) -> String {
        let separator = if self.url.contains('?') { '&' } else { '?' };
        format!(
            "{}{separator}options=-c%20search_path%3D{}",
            self.url, self.schema
        )
    }

    async fn connection(&self) -> PgConnection {
        let options = PgConnectOptions::from_str(&self.url)
            .expect("a PostgreSQL URL")
            .options([("search_path", self.schema.as_str())]);
        PgConnection::connect_with(&options)
            .await
            .expect("a connection to the bench schema")
    }

    /// Seeds `repos` repositories of [`ORG`] with a year of weekly scans, the last a day
    /// before `now`; checks the events agree with `branch_findings`.
    async fn seed(&self, repos: i64, now: DateTime<Utc>) {
        let mut conn = self.connection().await;
        let last_scan = now - TimeDelta::days(1);
        let started = Instant::now();
        for statement in seed_sql(repos, last_scan, now) {
            let step = Instant::now();
            let done = sqlx::raw_sql(&statement.sql)
                .execute(&mut conn)
                .await
                .unwrap_or_else(|error| panic!("seeding, {}: {error}", statement.name));
            println!(
                "seed: {:<16} {:>9} rows  {:>7.2} s",
                statement.name,
                done.rows_affected(),
                step.elapsed().as_secs_f64()
            );
        }
        let seeded = started.elapsed();
        for table in ["branch_findings", "finding_events", "triage", "projects"] {
            sqlx::raw_sql(&format!("VACUUM ANALYZE {table}"))
                .execute(&mut conn)
                .await
                .expect("vacuum");
        }
        let row = sqlx::query(
            "SELECT (SELECT count(*) FROM branch_findings), \
                    (SELECT count(*) FROM branch_findings WHERE present), \
                    (SELECT count(*) FROM finding_events), \
                    (SELECT count(*) FROM triage), \
                    (SELECT count(*) FROM intel_kev), \
                    (SELECT pg_total_relation_size('branch_findings')), \
                    (SELECT pg_total_relation_size('finding_events'))",
        )
        .fetch_one(&mut conn)
        .await
        .expect("counts");
        let count = |i: usize| row.get::<i64, _>(i);
        println!(
            "seeded {repos} repositories: {} findings ({} present), {} events, {} triage rows, \
             {} KEV entries in {:.1} s (+{:.1} s VACUUM ANALYZE); branch_findings {} MiB, \
             finding_events {} MiB (with indexes)",
            count(0),
            count(1),
            count(2),
            count(3),
            count(4),
            seeded.as_secs_f64(),
            (started.elapsed() - seeded).as_secs_f64(),
            count(5) >> 20,
            count(6) >> 20,
        );
        let kinds: Vec<(String, i64)> = sqlx::query_as(
            "SELECT kind, count(*) FROM finding_events GROUP BY kind ORDER BY count(*) DESC",
        )
        .fetch_all(&mut conn)
        .await
        .expect("events by kind");
        let kinds: Vec<String> = kinds.iter().map(|(k, n)| format!("{k} {n}")).collect();
        println!("events: {}", kinds.join(", "));
        self.check(&mut conn).await;
        conn.close().await.expect("close the seeding connection");
    }

    /// The seeded events say what `branch_findings` says, and ids follow time.
    async fn check(&self, conn: &mut PgConnection) {
        let row = sqlx::query(
            "WITH ev AS ( \
               SELECT project_id, finding_id, \
                 min(at) FILTER (WHERE kind = 'detected') AS first_detected, \
                 max(at) FILTER (WHERE kind = 'fixed') AS last_fixed, \
                 (array_agg(kind ORDER BY at DESC, id DESC) \
                    FILTER (WHERE kind IN ('detected', 'reintroduced', 'fixed')))[1] AS presence, \
                 (array_agg(severity ORDER BY at DESC, id DESC) \
                    FILTER (WHERE severity IS NOT NULL))[1] AS severity \
               FROM finding_events GROUP BY project_id, finding_id) \
             SELECT \
               count(*) FILTER (WHERE ev.first_detected IS DISTINCT FROM f.first_detected_at), \
               count(*) FILTER (WHERE (ev.presence <> 'fixed') IS DISTINCT FROM f.present), \
               count(*) FILTER (WHERE f.fixed_at IS DISTINCT FROM \
                   CASE WHEN f.present THEN NULL ELSE ev.last_fixed END), \
               count(*) FILTER (WHERE ev.severity IS DISTINCT FROM f.severity), \
               count(*) FILTER (WHERE ev.project_id IS NULL), \
               (SELECT count(*) FROM triage t LEFT JOIN branch_findings b USING (project_id, finding_id) \
                  WHERE b.project_id IS NULL), \
               (SELECT count(*) FROM (SELECT at < lag(at) OVER (ORDER BY id) AS back \
                  FROM finding_events) o WHERE back) \
             FROM branch_findings f LEFT JOIN ev USING (project_id, finding_id)",
        )
        .fetch_one(&mut *conn)
        .await
        .expect("the consistency check");
        let mismatches: Vec<i64> = (0..7).map(|i| row.get::<i64, _>(i)).collect();
        assert_eq!(
            mismatches,
            vec![0; 7],
            "seeded history inconsistent: first detection, presence, fixed_at, severity, \
             findings without events, triage without finding, events out of time order"
        );
    }
}

impl Drop for BenchDb {
    fn drop(&mut self) {
        if self.keep {
            println!("kept schema {} (POSTURE_BENCH_KEEP_SCHEMA)", self.schema);
            return;
        }
        let (url, schema) = (self.url.clone(), self.schema.clone());
        // Possibly unwinding out of a runtime: drop the schema from a thread of its own.
        let cleanup = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime for cleanup");
            runtime.block_on(async {
                let mut conn = PgConnection::connect(&url)
                    .await
                    .expect("PostgreSQL for cleanup");
                sqlx::query(&format!("DROP SCHEMA \"{schema}\" CASCADE"))
                    .execute(&mut conn)
                    .await
                    .expect("the bench schema dropped");
            });
        });
        if cleanup.join().is_err() {
            eprintln!("dropping schema {} failed", self.schema);
        }
    }
}

struct Statement {
    name: &'static str,
    sql: String,
}

/// The seeding statements, in order. Week `w` (0 to 51) is scanned at
/// `last_scan - (51 - w) weeks`; every random choice is `bench_u(project, slot, purpose)`,
/// a hash in (0, 1).
fn seed_sql(repos: i64, last_scan: DateTime<Utc>, now: DateTime<Utc>) -> Vec<Statement> {
    let last_week = WEEKS - 1;
    let slots = FINDINGS + CHURN * last_week;
    let last_scan = last_scan.to_rfc3339();
    let today = now.date_naive();
    let statement = |name, sql: String| Statement { name, sql };
    vec![
        statement(
            "functions",
            format!(
                "CREATE FUNCTION bench_u(a bigint, b bigint, salt bigint) RETURNS double precision \
                 LANGUAGE sql IMMUTABLE PARALLEL SAFE AS \
                 $$ SELECT ((hashint8((a << 32) | (b << 8) | salt)::bigint & 2147483647) + 0.5::float8) \
                    / 2147483648.0::float8 $$; \
                 CREATE FUNCTION bench_t(w int) RETURNS timestamptz \
                 LANGUAGE sql IMMUTABLE PARALLEL SAFE AS \
                 $$ SELECT TIMESTAMPTZ '{last_scan}' - ({last_week} - w) * INTERVAL '7 days' $$; \
                 CREATE FUNCTION bench_c(p bigint, w int) RETURNS text \
                 LANGUAGE sql IMMUTABLE PARALLEL SAFE AS \
                 $$ SELECT md5(p || ':' || w) || substr(md5(w || ':' || p), 1, 8) $$; \
                 CREATE FUNCTION bench_sev(s int) RETURNS text \
                 LANGUAGE sql IMMUTABLE PARALLEL SAFE AS \
                 $$ SELECT (ARRAY['info', 'low', 'medium', 'high', 'critical'])[s + 1] $$"
            ),
        ),
        statement(
            "projects",
            format!(
                "INSERT INTO projects (forge, repository, org, default_branch, created_at, \
                 updated_at, baseline_at) \
                 SELECT 'github', '{ORG}/repo-' || n, '{ORG}', 'main', bench_t(0), \
                 bench_t({last_week}), bench_t({last_week}) \
                 FROM generate_series(1, {repos}) n"
            ),
        ),
        // One row per finding a default branch ever had: its weeks (detected `dw`, fixed
        // `fw`, reintroduced `rw`, severity changed `scw`, triaged `tw`) and attributes.
        statement(
            "plan",
            format!(
                "CREATE UNLOGGED TABLE bench_seed AS \
                 WITH f AS MATERIALIZED ( \
                   SELECT p.id AS project_id, s.i, \
                     substr(md5(p.id || '/' || s.i), 1, 16) AS finding_id, \
                     CASE WHEN s.i < {FINDINGS} THEN 0 ELSE 1 + (s.i - {FINDINGS}) / {CHURN} END AS dw, \
                     bench_u(p.id, s.i, 1) AS u_life, bench_u(p.id, s.i, 2) AS u_re, \
                     bench_u(p.id, s.i, 3) AS u_sev, bench_u(p.id, s.i, 4) AS u_sc, \
                     bench_u(p.id, s.i, 5) AS u_tr, bench_u(p.id, s.i, 6) AS u_kind, \
                     bench_u(p.id, s.i, 7) AS u_pkg, bench_u(p.id, s.i, 8) AS u_misc, \
                     bench_u(p.id, s.i, 9) AS u_fix, bench_u(p.id, s.i, 10) AS u_rw, \
                     bench_u(p.id, s.i, 11) AS u_scw, bench_u(p.id, s.i, 12) AS u_tw \
                   FROM projects p CROSS JOIN generate_series(0, {slots} - 1) AS s(i) \
                   WHERE p.org = '{ORG}'), \
                 g AS MATERIALIZED ( \
                   SELECT f.*, \
                     dw + greatest(1, ceil(ln(u_life) / ln(0.98))::int) AS fw_any, \
                     CASE WHEN u_sev < 0.05 THEN 4 WHEN u_sev < 0.25 THEN 3 \
                          WHEN u_sev < 0.65 THEN 2 WHEN u_sev < 0.90 THEN 1 ELSE 0 END AS sev0, \
                     floor(u_pkg * u_pkg * 300)::int AS pk, \
                     CASE WHEN u_kind < 0.40 THEN 'sast' WHEN u_kind < 0.75 THEN 'sca' \
                          WHEN u_kind < 0.80 THEN 'secret' WHEN u_kind < 0.90 THEN 'iac' \
                          ELSE 'container' END AS kind \
                   FROM f), \
                 h AS MATERIALIZED ( \
                   SELECT g.*, CASE WHEN fw_any <= {last_week} THEN fw_any END AS fw, \
                     least(fw_any, {WEEKS}) AS fend \
                   FROM g), \
                 k AS MATERIALIZED ( \
                   SELECT h.*, \
                     CASE WHEN fw IS NOT NULL AND u_re < 0.06 \
                           AND fw + 1 + floor(u_rw * 6)::int <= {last_week} \
                          THEN fw + 1 + floor(u_rw * 6)::int END AS rw, \
                     CASE WHEN u_sc < 0.06 AND fend - dw >= 2 \
                          THEN dw + 1 + floor(u_scw * (fend - dw - 1))::int END AS scw, \
                     CASE WHEN u_tr < 0.03 THEN dw + floor(u_tw * (fend - dw))::int END AS tw, \
                     CASE WHEN kind = 'sca' THEN 'CVE-2024-' || (10000 + pk * 4 + floor(u_misc * 4)::int) \
                          WHEN kind = 'container' THEN 'CVE-2023-' || (20000 + pk * 4 + floor(u_misc * 4)::int) \
                     END AS cve, \
                     CASE WHEN kind = 'sca' THEN \
                            (ARRAY['js-lib-', 'py-lib-', 'org.example:lib-'])[1 + pk % 3] || pk \
                          WHEN kind = 'container' THEN (ARRAY['openssl', 'libxml2', 'zlib', 'curl', \
                            'glibc', 'libpng', 'expat', 'sqlite3'])[1 + pk % 8] \
                     END AS package \
                   FROM h), \
                 m AS MATERIALIZED ( \
                   SELECT k.*, \
                     CASE WHEN scw IS NULL THEN NULL WHEN u_sc < 0.03 \
                          THEN CASE WHEN sev0 = 4 THEN 3 ELSE sev0 + 1 END \
                          ELSE CASE WHEN sev0 = 0 THEN 1 ELSE sev0 - 1 END END AS sev1, \
                     CASE WHEN tw IS NULL THEN NULL WHEN u_misc < 0.6 THEN 'dismissed' \
                          ELSE 'accepted' END AS tkind \
                   FROM k) \
                 SELECT m.*, fw IS NULL OR rw IS NOT NULL AS present, \
                   coalesce(sev1, sev0) AS sev, \
                   CASE WHEN tkind = 'dismissed' \
                        THEN (ARRAY['false_positive', 'used_in_tests', 'wont_fix'])[1 + floor(u_fix * 3)::int] \
                        WHEN tkind = 'accepted' THEN 'accepted_risk' END AS treason, \
                   CASE WHEN tkind = 'accepted' \
                        THEN DATE '{today}' + 30 + floor(u_fix * 150)::int END AS tuntil, \
                   CASE WHEN kind = 'sca' THEN (ARRAY['npm', 'PyPI', 'Maven'])[1 + pk % 3] \
                        WHEN kind = 'container' THEN 'Debian' END AS ecosystem, \
                   CASE WHEN cve IS NOT NULL THEN '1.' || (pk % 10) || '.' || floor(u_misc * 4)::int \
                   END AS version, \
                   CASE WHEN kind = 'sca' AND u_fix < 0.8 \
                          THEN '1.' || (pk % 10) || '.' || (4 + floor(u_misc * 4)::int) \
                        WHEN kind = 'container' AND u_fix < 0.6 THEN '2.' || (pk % 10) || '.1' \
                   END AS fix_version, \
                   CASE kind WHEN 'sast' THEN 'python.lang.security.rule-' || (pk % 150) \
                        WHEN 'secret' THEN 'generic-api-key' WHEN 'iac' THEN 'CKV_AWS_' || (pk % 100) \
                        ELSE cve END AS rule, \
                   CASE kind WHEN 'sast' THEN 'Possible injection (rule ' || (pk % 150) || ')' \
                        WHEN 'secret' THEN 'Generic API key' \
                        WHEN 'iac' THEN 'AWS resource misconfigured (' || (pk % 100) || ')' \
                        ELSE package || ': ' || cve END AS title, \
                   CASE kind WHEN 'sast' THEN CASE WHEN u_fix < 0.6 THEN '[\"semgrep\"]' \
                          WHEN u_fix < 0.9 THEN '[\"codeql\"]' ELSE '[\"codeql\",\"semgrep\"]' END \
                        WHEN 'sca' THEN CASE WHEN u_misc < 0.2 THEN '[\"grype\",\"osv-scanner\"]' \
                          ELSE '[\"osv-scanner\"]' END \
                        WHEN 'container' THEN '[\"trivy\"]' WHEN 'secret' THEN '[\"gitleaks\"]' \
                        ELSE '[\"checkov\"]' END AS tools, \
                   CASE WHEN cve IS NULL THEN '[]' ELSE '[\"' || cve || '\",\"GHSA-' \
                        || upper(substr(md5(cve), 1, 4)) || '-' || upper(substr(md5(cve), 5, 4)) \
                        || '-' || upper(substr(md5(cve), 9, 4)) || '\"]' END AS advisories, \
                   CASE kind WHEN 'sast' THEN 'src/module_' || (i % 40) || '/file_' || (i % 7) || '.py' \
                        WHEN 'secret' THEN 'config/settings_' || (i % 20) || '.yaml' \
                        WHEN 'iac' THEN 'infra/main_' || (i % 10) || '.tf' \
                        WHEN 'container' THEN 'Dockerfile' \
                        ELSE (ARRAY['package-lock.json', 'requirements.txt', 'pom.xml'])[1 + pk % 3] \
                   END AS path, \
                   CASE WHEN cve IS NULL THEN 1 + (i * 37) % 500 END AS line, \
                   (ARRAY[5, 20, 40, 65, 85])[coalesce(sev1, sev0) + 1] + floor(u_misc * 15)::int \
                     AS risk_score, \
                   CASE WHEN dw > 0 AND u_fix < 0.7 THEN bench_c(project_id, dw) END \
                     AS introduced_commit, \
                   CASE WHEN dw > 0 AND u_fix < 0.7 THEN 'dev-' || floor(u_misc * 50)::int END \
                     AS introduced_author \
                 FROM m"
            ),
        ),
        statement(
            "branch_findings",
            format!(
                "INSERT INTO branch_findings (project_id, finding_id, present, kind, severity, \
                 rule, title, tools, advisories, path, line, ecosystem, package, version, \
                 fix_version, risk_score, first_detected_at, first_detected_commit, \
                 last_seen_at, last_seen_commit, fixed_at, fixed_commit, introduced_commit, \
                 introduced_author) \
                 SELECT project_id, finding_id, present, kind, bench_sev(sev), rule, title, \
                 tools, advisories, path, line, ecosystem, package, version, fix_version, \
                 risk_score, bench_t(dw), bench_c(project_id, dw), \
                 bench_t(CASE WHEN present THEN {last_week} ELSE fw - 1 END), \
                 bench_c(project_id, CASE WHEN present THEN {last_week} ELSE fw - 1 END), \
                 CASE WHEN NOT present THEN bench_t(fw) END, \
                 CASE WHEN NOT present THEN bench_c(project_id, fw) END, \
                 introduced_commit, introduced_author \
                 FROM bench_seed ORDER BY project_id, finding_id"
            ),
        ),
        // As scans write them: per scan, detections, reintroductions and severity changes,
        // then fixes; triage half a day after a scan; ids in time order.
        statement(
            "finding_events",
            "INSERT INTO finding_events (project_id, finding_id, at, kind, severity, reason, \
             commit_sha, actor, until, pull_request, delivery_id) \
             SELECT project_id, finding_id, at, kind, severity, reason, commit_sha, actor, \
             until, pull_request, delivery_id FROM ( \
               SELECT project_id, finding_id, bench_t(dw) AS at, 0 AS ord, 'detected' AS kind, \
                 bench_sev(sev0) AS severity, NULL AS reason, bench_c(project_id, dw) AS commit_sha, \
                 NULL AS actor, NULL::date AS until, NULL::bigint AS pull_request, \
                 NULL AS delivery_id FROM bench_seed \
               UNION ALL \
               SELECT project_id, finding_id, bench_t(scw), 0, 'severity_changed', bench_sev(sev1), \
                 bench_sev(sev0), bench_c(project_id, scw), NULL, NULL, NULL, NULL \
                 FROM bench_seed WHERE scw IS NOT NULL \
               UNION ALL \
               SELECT project_id, finding_id, bench_t(tw) + INTERVAL '12 hours', 0, tkind, NULL, \
                 treason, NULL, 'reviewer-' || (project_id % 7), tuntil, 1000 + tw, \
                 'bench-' || project_id || '-' || finding_id \
                 FROM bench_seed WHERE tw IS NOT NULL \
               UNION ALL \
               SELECT project_id, finding_id, bench_t(fw), 1, 'fixed', NULL, NULL, \
                 bench_c(project_id, fw), NULL, NULL, NULL, NULL \
                 FROM bench_seed WHERE fw IS NOT NULL \
               UNION ALL \
               SELECT project_id, finding_id, bench_t(rw), 0, 'reintroduced', bench_sev(sev), \
                 NULL, bench_c(project_id, rw), NULL, NULL, NULL, NULL \
                 FROM bench_seed WHERE rw IS NOT NULL \
             ) e ORDER BY at, project_id, ord, finding_id"
                .to_owned(),
        ),
        // The decision as `Store::apply_triage` keeps it (posture's TriageRecord as JSON).
        statement(
            "triage",
            "INSERT INTO triage (project_id, finding_id, state, until, record, updated_at) \
             SELECT project_id, finding_id, tkind, tuntil, convert_to(jsonb_build_object( \
               'finding_id', finding_id, \
               'subject', jsonb_build_object('rule', rule, 'title', title, \
                 'advisories', advisories::jsonb, 'purl', NULL, 'path', path), \
               'triage', jsonb_build_object('state', tkind, \
                 'verdict', CASE WHEN tkind = 'dismissed' \
                   THEN jsonb_build_object('verdict', 'dismiss', 'reason', treason) \
                   ELSE jsonb_build_object('verdict', 'accept', 'until', tuntil) END, \
                 'by', 'reviewer-' || (project_id % 7), \
                 'at', bench_t(tw) + INTERVAL '12 hours', 'comment', NULL, \
                 'source', jsonb_build_object('type', 'command', 'pull_request', 1000 + tw, \
                   'delivery_id', 'bench-' || project_id || '-' || finding_id)))::text, 'UTF8'), \
               bench_t(tw) + INTERVAL '12 hours' \
             FROM bench_seed WHERE tw IS NOT NULL"
                .to_owned(),
        ),
        // The seeded CVEs of every 25th package are KEV-listed, among ~1,300 others (the
        // size of CISA's catalog), all of which `org_history` reads.
        statement(
            "intel_kev",
            "INSERT INTO intel_kev (cve_id, vendor_project, product, vulnerability_name, \
             date_added, due_date, known_ransomware, required_action) \
             SELECT cve, 'vendor', package, 'Exploited ' || cve, DATE '2024-06-01', \
               DATE '2024-06-22', false, 'Apply updates per vendor instructions.' \
             FROM (SELECT DISTINCT cve, package FROM bench_seed \
                   WHERE cve IS NOT NULL AND pk % 25 = 0) kev \
             UNION ALL \
             SELECT 'CVE-2021-' || (40000 + n), 'vendor', 'product', 'Exploited', \
               DATE '2022-01-01', NULL, n % 10 = 0, 'Apply updates per vendor instructions.' \
             FROM generate_series(1, 1300) n"
                .to_owned(),
        ),
        statement("drop plan", "DROP TABLE bench_seed".to_owned()),
    ]
}

/// The median of `times`.
fn median(times: &mut [Duration]) -> Duration {
    times.sort();
    times.get(times.len() / 2).copied().unwrap_or_default()
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

/// Runs `iters` times, timing each run, and returns the total (for `iter_custom`).
fn timed<F: Future>(
    runtime: &Runtime,
    iters: u64,
    times: &mut Vec<Duration>,
    mut run: impl FnMut() -> F,
) -> Duration {
    runtime.block_on(async {
        let mut total = Duration::ZERO;
        for _ in 0..iters {
            let start = Instant::now();
            black_box(run().await);
            let took = start.elapsed();
            times.push(took);
            total += took;
        }
        total
    })
}

/// The summary as `GET /api/v1/orgs/bench/summary` computes it (default 30-day window, no
/// filters, default SLA), and its two halves: loading the history, computing the figures.
fn org_summary(
    c: &mut Criterion,
    runtime: &Runtime,
    store: &Store,
    now: DateTime<Utc>,
    figures: &mut Vec<String>,
) {
    let window = Window {
        from: now - TimeDelta::days(SUMMARY_DAYS),
        to: now,
        as_of: now,
    };
    let filters = Filters::default();
    let sla = SlaPolicy::default();
    let load = || store.org_history(ORG, None, None, now);

    let history: Vec<FindingHistory> = runtime.block_on(load()).expect("the org history");
    let events: usize = history.iter().map(|f| f.events.len()).sum();
    let summary = summarize(ORG, &history, &window, &filters, &sla);
    println!(
        "summary: {} findings with {events} events loaded; open {} (critical {}, high {}), \
         new {}, fixed {}, reintroduced {}, dismissed {}, accepted {}, MTTR {:.1?} days, \
         SLA breached {}, {} repositories, {} hotspots (top: {:?}), grade {:?}",
        history.len(),
        summary.open.total,
        summary.open.critical,
        summary.open.high,
        summary.new,
        summary.fixed,
        summary.reintroduced,
        summary.dismissed,
        summary.accepted,
        summary.mttr_days,
        summary.sla.breached_open,
        summary.repositories.len(),
        summary.hotspots.len(),
        summary
            .hotspots
            .first()
            .map(|h| (&h.package, &h.to, h.findings, h.kev)),
        summary.grade,
    );
    assert!(summary.open.total > 0 && summary.fixed > 0 && !summary.hotspots.is_empty());

    let mut group = c.benchmark_group("org_summary");
    group
        .sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(10))
        .throughput(Throughput::Elements(history.len() as u64));

    let mut times = Vec::new();
    group.bench_function("load_and_summarize", |b| {
        b.iter_custom(|iters| {
            timed(runtime, iters, &mut times, || async {
                let history = load().await.expect("the org history");
                summarize(ORG, &history, &window, &filters, &sla)
            })
        })
    });
    if !times.is_empty() {
        figures.push(format!(
            "summary (org_history + summarize):  {:>9.1} ms over {} runs (target < 200 ms)",
            ms(median(&mut times)),
            times.len()
        ));
    }

    let mut times = Vec::new();
    group.bench_function("load_org_history", |b| {
        b.iter_custom(|iters| {
            timed(runtime, iters, &mut times, || async {
                load().await.expect("the org history")
            })
        })
    });
    if !times.is_empty() {
        figures.push(format!(
            "  load (Store::org_history):        {:>9.1} ms over {} runs",
            ms(median(&mut times)),
            times.len()
        ));
    }

    let mut times = Vec::new();
    group.bench_function("summarize", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let start = Instant::now();
                black_box(summarize(ORG, black_box(&history), &window, &filters, &sla));
                let took = start.elapsed();
                times.push(took);
                total += took;
            }
            total
        })
    });
    if !times.is_empty() {
        figures.push(format!(
            "  compute (history::summarize):     {:>9.1} ms over {} runs",
            ms(median(&mut times)),
            times.len()
        ));
    }
    group.finish();
}

/// The first page of the org's open findings, and a page from the middle (by cursor).
fn findings_page(
    c: &mut Criterion,
    runtime: &Runtime,
    store: &Store,
    repos: i64,
    figures: &mut Vec<String>,
) {
    let first = FindingQuery {
        org: ORG.to_owned(),
        status: StatusFilter::Open,
        limit: 100,
        ..FindingQuery::default()
    };
    let middle = FindingQuery {
        after: Some((format!("{ORG}/repo-{}", repos / 2), String::new())),
        ..first.clone()
    };
    for query in [&first, &middle] {
        let page = runtime
            .block_on(store.branch_findings(query))
            .expect("a page of findings");
        assert_eq!(page.len(), 100, "a full page");
    }

    let mut group = c.benchmark_group("findings_page");
    group
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5));
    for (name, query) in [("first_100_open", &first), ("middle_100_open", &middle)] {
        let mut times = Vec::new();
        group.bench_function(name, |b| {
            b.iter_custom(|iters| {
                timed(runtime, iters, &mut times, || async {
                    store.branch_findings(query).await.expect("a page")
                })
            })
        });
        if !times.is_empty() {
            figures.push(format!(
                "findings page ({name}):     {:>9.2} ms over {} runs",
                ms(median(&mut times)),
                times.len()
            ));
        }
    }
    group.finish();
}

/// A hash of `n` (splitmix64): the generator's every choice.
fn mix(n: u64) -> u64 {
    let mut z = n.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Finding number `n` of an uploaded scan, with the mix of kinds the seed has: a dependency
/// finding has its package, advisory and upgrade, a code finding its location.
fn uploaded_finding(n: u64) -> ReviewedFinding {
    let h = mix(n);
    let severity = match h % 20 {
        0 => Severity::Critical,
        1..=4 => Severity::High,
        5..=12 => Severity::Medium,
        13..=17 => Severity::Low,
        _ => Severity::Info,
    };
    let pk = (h >> 8) % 300;
    let mut upgrade = None;
    let mut finding = match (h >> 20) % 20 {
        0..=7 => {
            let mut f = Finding::new(
                Kind::Sast,
                "semgrep",
                format!("python.lang.security.rule-{}", pk % 150),
            );
            f.location = Some(
                Location::new(format!("src/module_{}/file_{}.py", n % 40, n % 7))
                    .with_lines((n % 500) as u32 + 1, (n % 500) as u32 + 3),
            );
            f.message = "User input flows into a SQL query.".to_owned();
            f.cwes = vec![89];
            f
        }
        8..=14 | 18..=19 => {
            let container = (h >> 20) % 20 >= 18;
            let cve = format!("CVE-2024-{}", 10000 + pk * 4 + (h >> 40) % 4);
            let (kind, tool, ecosystem, name, manifest) = if container {
                (
                    Kind::Container,
                    "trivy",
                    Ecosystem::Other("Debian".to_owned()),
                    ["openssl", "libxml2", "zlib", "curl"][(pk % 4) as usize].to_owned(),
                    "Dockerfile",
                )
            } else {
                (
                    Kind::Sca,
                    "osv-scanner",
                    Ecosystem::Npm,
                    format!("js-lib-{pk}"),
                    "package-lock.json",
                )
            };
            let mut f = Finding::new(kind, tool, cve.clone());
            f.title = format!("{name}: {cve}");
            f.location = Some(Location::new(manifest));
            f.package = Some(Box::new(Package {
                ecosystem,
                name: name.clone(),
                version: Some(format!("1.{}.0", pk % 10)),
                manifest: Some(manifest.to_owned()),
            }));
            f.advisories = vec![Advisory {
                id: format!("GHSA-{:04x}-{:04x}-{:04x}", pk, h % 0xffff, n % 0xffff),
                aliases: vec![cve.clone()],
                summary: Some(format!("A vulnerability in {name}")),
                cvss_score: Some(7.5),
                ..Advisory::default()
            }];
            upgrade = Some(Upgrade {
                package: name,
                from: format!("1.{}.0", pk % 10),
                to: format!("1.{}.4", pk % 10),
                manifest: Some(manifest.to_owned()),
                line: None,
                fixes: vec![cve],
                breaking: false,
                current_text: None,
                suggested_text: None,
                via: None,
            });
            f
        }
        15 => {
            let mut f = Finding::new(Kind::Secret, "gitleaks", "generic-api-key");
            f.location =
                Some(Location::new(format!("config/settings_{}.yaml", n % 20)).with_lines(3, 3));
            f
        }
        _ => {
            let mut f = Finding::new(Kind::Iac, "checkov", format!("CKV_AWS_{}", pk % 100));
            f.location =
                Some(Location::new(format!("infra/main_{}.tf", n % 10)).with_lines(10, 20));
            f
        }
    };
    finding.severity = severity;
    let score = [5u8, 20, 40, 65, 85][severity as usize] + (h % 15) as u8;
    ReviewedFinding {
        id: FindingId(format!("{:016x}", mix(h))),
        status: Status::Existing,
        in_diff: false,
        finding,
        line_hash: None,
        introduced_by: (n % 3 == 0).then(|| Introduced {
            commit: format!("{:040x}", u128::from(h)),
            author: format!("dev-{}", h % 50),
            date: Utc::now(),
            summary: "a change".to_owned(),
        }),
        introduced_unknown: None,
        risk: Risk {
            score,
            factors: vec![RiskFactor {
                name: "severity".into(),
                points: i32::from(score),
                detail: severity.as_str().to_owned(),
            }],
        },
        upgrade: upgrade.map(Box::new),
        ignored: None,
        dependency: None,
        triage: None,
        changed: false,
        previous_ids: Vec::new(),
        snippet: None,
        owner: None,
    }
}

fn scan(commit: &str, findings: Vec<ReviewedFinding>) -> Review {
    Review {
        base: commit.to_owned(),
        head: commit.to_owned(),
        merge_base: commit.to_owned(),
        summary: Summary {
            new: 0,
            existing: findings.len(),
            fixed: 0,
            ignored: 0,
            suppressed: 0,
            triaged: 0,
            not_scanned: 0,
            missing_tools: Vec::new(),
            dedup: Dedup {
                results: findings.len(),
                findings: findings.len(),
            },
            gate: Gate {
                passed: true,
                outcome: GateOutcome::Passed,
                fail_on: None,
                blocking: 0,
            },
        },
        findings,
        warnings: Vec::new(),
        upgrades: Vec::new(),
        config_changes: Vec::new(),
    }
}

fn commit_sha(n: u64) -> String {
    format!("{:016x}{:016x}{:08x}", mix(n), mix(n + 1), n as u32)
}

/// Default-branch uploads of 200 findings through `Store::record_scan` (what
/// `POST /api/v1/scans` stores once the review is computed): the first scan of a new
/// repository (200 detections), and weekly rescans of one repository (4 fixed, 4 new).
fn upload(
    c: &mut Criterion,
    runtime: &Runtime,
    store: &Store,
    now: DateTime<Utc>,
    figures: &mut Vec<String>,
) {
    let tools: BTreeSet<String> = TOOLS.iter().map(|t| (*t).to_owned()).collect();
    let per_scan = FINDINGS as u64;
    let mut group = c.benchmark_group("upload");
    group
        .sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(8))
        .throughput(Throughput::Elements(per_scan));

    // First scans: a new project each (created untimed), 200 detections.
    let mut next_repository = 0u64;
    let mut times = Vec::new();
    group.bench_function("first_scan_200", |b| {
        b.iter_custom(|iters| {
            runtime.block_on(async {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    next_repository += 1;
                    let n = next_repository;
                    let project = store
                        .upsert_project(
                            Forge::GitHub,
                            &format!("{UPLOAD_ORG}/new-{n}"),
                            Some("main"),
                        )
                        .await
                        .expect("a project");
                    let commit = commit_sha(n);
                    let review = scan(
                        &commit,
                        (0..per_scan)
                            .map(|i| uploaded_finding((n << 20) + i))
                            .collect(),
                    );
                    let start = Instant::now();
                    let (_, counts) = store
                        .record_scan(project, &commit, Some(now), &review, &tools)
                        .await
                        .expect("a first scan");
                    let took = start.elapsed();
                    times.push(took);
                    total += took;
                    assert_eq!(counts.map(|c| c.new), Some(per_scan));
                }
                total
            })
        })
    });
    if !times.is_empty() {
        let median = median(&mut times);
        figures.push(format!(
            "upload, first scan of 200:          {:>9.2} ms over {} runs = {:.0} scans/s, {:.0} findings/s",
            ms(median),
            times.len(),
            1.0 / median.as_secs_f64(),
            per_scan as f64 / median.as_secs_f64()
        ));
    }

    // Weekly rescans of one project: scan k has findings 4k .. 4k + 200.
    let project: ProjectId = runtime
        .block_on(store.upsert_project(
            Forge::GitHub,
            &format!("{UPLOAD_ORG}/weekly"),
            Some("main"),
        ))
        .expect("a project");
    let first_at = now - TimeDelta::days(3650);
    let weekly = |k: u64| {
        let commit = commit_sha(1 << 40 | k);
        let review = scan(
            &commit,
            (CHURN as u64 * k..CHURN as u64 * k + per_scan)
                .map(|i| uploaded_finding((1 << 40) + i))
                .collect(),
        );
        (commit, review, first_at + TimeDelta::hours(k as i64))
    };
    let (commit, review, at) = weekly(0);
    runtime
        .block_on(store.record_scan(project, &commit, Some(at), &review, &tools))
        .expect("the first weekly scan");
    let mut week = 0u64;
    let mut times = Vec::new();
    group.bench_function("weekly_rescan_200", |b| {
        b.iter_custom(|iters| {
            runtime.block_on(async {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    week += 1;
                    let (commit, review, at) = weekly(week);
                    let start = Instant::now();
                    let (_, counts) = store
                        .record_scan(project, &commit, Some(at), &review, &tools)
                        .await
                        .expect("a weekly scan");
                    let took = start.elapsed();
                    times.push(took);
                    total += took;
                    let counts = counts.unwrap_or_default();
                    assert_eq!(
                        (counts.new, counts.fixed),
                        (CHURN as u64, CHURN as u64),
                        "{counts:?}"
                    );
                }
                total
            })
        })
    });
    if !times.is_empty() {
        let median = median(&mut times);
        figures.push(format!(
            "upload, weekly rescan of 200:       {:>9.2} ms over {} runs = {:.0} scans/s, {:.0} findings/s",
            ms(median),
            times.len(),
            1.0 / median.as_secs_f64(),
            per_scan as f64 / median.as_secs_f64()
        ));
    }
    group.finish();
}
