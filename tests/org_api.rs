//! The org-wide API end to end, as a user drives it: tokens made with `posture token`, a
//! real `posture serve` process, scans sent with `posture upload`, figures read over HTTP
//! and with `posture report`; on SQLite and on PostgreSQL (`POSTURE_TEST_DATABASE_URL`,
//! default `postgres://postgres@127.0.0.1:5432/test`, in a schema of its own dropped
//! afterwards). PostgreSQL being unreachable fails the tests.

mod common;

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Duration, Utc};
use common::org::*;
use common::posture_with_env as posture;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tempfile::TempDir;

/// The columns of the findings CSV, in the order `src/api/orgs.rs` promises.
const FINDINGS_CSV_HEADER: [&str; 23] = [
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

// ---------------------------------------------------------------------------------------
// Reports and times

/// Bandit 1.8.6 on a Flask app: seven results, each a finding of its own.
fn bandit() -> PathBuf {
    common::fixture("sarif/bandit_1.8.6_flask.sarif")
}

fn bandit_results() -> usize {
    read_json(&bandit())["runs"][0]["results"]
        .as_array()
        .unwrap()
        .len()
}

fn read_json(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

/// The same Bandit run later: its last two results fixed, and the command injection of
/// `app.py` copied into a new file, `api.py`.
fn bandit_later(dir: &Path) -> PathBuf {
    let mut sarif = read_json(&bandit());
    let results = sarif["runs"][0]["results"].as_array_mut().unwrap();
    assert_eq!(results[5]["ruleId"], "B201");
    assert_eq!(results[6]["ruleId"], "B104");
    results.truncate(5);
    let mut copy = results[2].clone();
    assert_eq!(copy["ruleId"], "B602");
    copy["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] = json!("api.py");
    results.push(copy);
    let path = dir.join("bandit-later.sarif");
    std::fs::write(&path, serde_json::to_vec_pretty(&sarif).unwrap()).unwrap();
    path
}

/// A SARIF file cut short, as a failed CI step leaves it.
fn truncated_sarif(dir: &Path) -> PathBuf {
    let bytes = std::fs::read(bandit()).unwrap();
    let path = dir.join("bandit-truncated.sarif");
    std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
    path
}

/// Valid JSON of no format posture reads.
fn unknown_format(dir: &Path) -> PathBuf {
    let path = dir.join("coverage.json");
    std::fs::write(
        &path,
        r#"{"coverage": {"lines": 81.5, "files": ["app.py"]}}"#,
    )
    .unwrap();
    path
}

fn as_u64(value: &Value, what: &str) -> u64 {
    value
        .as_u64()
        .unwrap_or_else(|| panic!("{what} is a JSON number: {value}"))
}

/// The findings of a JSON page: `(repository, finding_id)`.
fn keys(findings: &Value) -> Vec<(String, String)> {
    findings
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["repository"].as_str().unwrap().to_owned(),
                f["finding_id"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn parse_csv(text: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(text.as_bytes());
    let mut records = reader
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect::<Vec<_>>());
    let header = records.next().expect("a header row");
    (header, records.collect())
}

// ---------------------------------------------------------------------------------------
// 1, 2, 5, 6: uploads, refusals, the report command, time series

async fn upload_history(backend: Backend) {
    let db = Db::new(backend).await;
    let reports = TempDir::new().unwrap();

    // A token: printed once, stored only as its SHA-256.
    let token = create_token(&db, "acme", "upload,read", "ci");
    let rows = db.token_rows().await;
    assert_eq!(rows.len(), 1);
    let (org, name, scopes, hash) = &rows[0];
    assert_eq!(
        (org.as_str(), name.as_str(), scopes.as_str()),
        ("acme", "ci", "read,upload")
    );
    assert_eq!(*hash, hex::encode(Sha256::digest(token.secret.as_bytes())));
    for column in [org, name, scopes, hash] {
        assert!(!column.contains(&token.secret[4..]), "{column}");
    }
    if backend == Backend::Sqlite {
        let bytes = db.sqlite_bytes();
        for needle in [&token.secret[..], &token.secret[4..]] {
            assert!(
                !bytes.windows(needle.len()).any(|w| w == needle.as_bytes()),
                "the token is in the database file"
            );
        }
    }
    let list = posture(&["token", "list", "--database", &db.url], &[]);
    assert_eq!(list.code, 0, "{}", list.stderr);
    assert!(!list.stdout.contains(&token.secret[4..]), "{}", list.stdout);
    assert!(!list.stdout.contains(hash), "{}", list.stdout);
    assert!(
        list.stdout.lines().any(|line| line.contains("acme")
            && line.contains("read,upload")
            && line.contains("never used")),
        "{}",
        list.stdout
    );

    let server = start_server(&db);
    let api = Api::new(&server);
    let t1 = seconds_ago(3 * 86_400);
    let t2 = t1 + Duration::days(2);

    // The first scan of the default branch: everything is new.
    let first = accepted(&upload_cli(
        &server,
        &token.secret,
        "acme/shop",
        COMMIT_1,
        &time(t1),
        &[&bandit()],
    ));
    let n1 = first[0];
    assert_eq!(n1, bandit_results() as u64, "one finding per Bandit result");
    assert_eq!(first, [n1, n1, 0, 0]);

    let summary = api
        .summary(
            &token.secret,
            &format!("as_of={}", time(t1 + Duration::hours(1))),
        )
        .await;
    assert_eq!(summary["org"], "acme");
    assert_eq!(as_u64(&summary["open"]["total"], "open.total"), n1);
    assert_eq!(as_u64(&summary["new"], "new"), n1);
    assert_eq!(as_u64(&summary["fixed"], "fixed"), 0);
    assert_eq!(as_u64(&summary["reintroduced"], "reintroduced"), 0);
    let severities: u64 = ["critical", "high", "medium", "low", "info"]
        .iter()
        .map(|s| as_u64(&summary["open"][s], s))
        .sum();
    assert_eq!(severities, n1);
    // Nothing fixed yet: the figures of fixes have no data.
    for figure in ["mttr_days", "ttr_p50_days", "ttr_p90_days"] {
        assert!(summary[figure].is_null(), "{figure}: {summary}");
    }
    assert!(summary["sla"]["compliance"].is_null(), "{summary}");
    assert_eq!(summary["net_resolve_rate"].as_f64(), Some(0.0), "{summary}");
    assert!(summary["risk_days"].is_number(), "{summary}");

    // Two days later: two results gone (fixed), one new one.
    let later = bandit_later(reports.path());
    let second = accepted(&upload_cli(
        &server,
        &token.secret,
        "acme/shop",
        COMMIT_2,
        &time(t2),
        &[&later],
    ));
    assert_eq!(second, [n1 - 1, 1, 0, 2]);
    let open = n1 - 1;

    let as_of = time(t2 + Duration::hours(1));
    let summary = api.summary(&token.secret, &format!("as_of={as_of}")).await;
    assert_eq!(as_u64(&summary["open"]["total"], "open.total"), open);
    assert_eq!(as_u64(&summary["new"], "new"), n1 + 1);
    assert_eq!(as_u64(&summary["fixed"], "fixed"), 2);
    let mttr = summary["mttr_days"].as_f64().expect("a mean time to fix");
    assert!(
        (mttr - 2.0).abs() < 1e-6,
        "fixed two days after found: {mttr}"
    );
    assert_eq!(
        summary["sla"]["compliance"].as_f64(),
        Some(1.0),
        "{summary}"
    );
    let repositories = summary["repositories"].as_array().unwrap();
    assert_eq!(repositories.len(), 1, "{summary}");
    assert_eq!(repositories[0]["repository"], "acme/shop");
    assert_eq!(as_u64(&repositories[0]["open"]["total"], "open"), open);
    // Only the second scan's period: one new, two fixed.
    let since_t1 = api
        .summary(
            &token.secret,
            &format!(
                "from={}&to={as_of}&as_of={as_of}",
                time(t1 + Duration::hours(1))
            ),
        )
        .await;
    assert_eq!(
        (since_t1["new"].as_u64(), since_t1["fixed"].as_u64()),
        (Some(1), Some(2))
    );
    // As of before the second scan, it has not happened yet.
    let before = api
        .summary(
            &token.secret,
            &format!("as_of={}", time(t2 - Duration::hours(1))),
        )
        .await;
    assert_eq!(before["open"]["total"].as_u64(), Some(n1));
    assert_eq!(before["fixed"].as_u64(), Some(0));

    // 2. Refused uploads store nothing.
    let now = time(seconds_ago(60));
    let pinned = format!("as_of={now}");
    let summary_before = api.summary(&token.secret, &pinned).await;
    let findings_before = api
        .get("/orgs/acme/findings?status=all", Some(&token.secret))
        .await
        .ok();
    let stored_before = db.stored().await;
    let nothing_stored = async |what: &str| {
        assert_eq!(db.stored().await, stored_before, "{what}");
        assert_eq!(
            api.summary(&token.secret, &pinned).await,
            summary_before,
            "{what}"
        );
        assert_eq!(
            api.get("/orgs/acme/findings?status=all", Some(&token.secret))
                .await
                .ok(),
            findings_before,
            "{what}"
        );
    };

    let truncated = truncated_sarif(reports.path());
    let run = upload_cli(
        &server,
        &token.secret,
        "acme/shop",
        COMMIT_3,
        &now,
        &[&later, &truncated],
    );
    refused(&run, "bandit-truncated.sarif");
    assert!(run.stderr.contains("nothing stored"), "{}", run.stderr);
    nothing_stored("a truncated SARIF file").await;

    // A fresh repository is not even created.
    let run = upload_cli(
        &server,
        &token.secret,
        "acme/fresh",
        COMMIT_3,
        &now,
        &[&bandit(), &unknown_format(reports.path())],
    );
    refused(&run, "coverage.json: unrecognised report format");
    nothing_stored("a report of no known format").await;
    assert_eq!(db.repositories().await, ["acme/shop"]);
    api.get(
        "/orgs/acme/findings?repository=acme/fresh",
        Some(&token.secret),
    )
    .await
    .error(404, "not_found");

    let future = time(Utc::now() + Duration::days(1));
    let run = upload_cli(
        &server,
        &token.secret,
        "acme/fresh",
        COMMIT_3,
        &future,
        &[&bandit()],
    );
    refused(&run, "is in the future");
    refused(&run, &future);
    nothing_stored("a scan from the future").await;
    assert_eq!(db.repositories().await, ["acme/shop"]);

    let run = upload_cli(
        &server,
        &token.secret,
        "acme/shop",
        COMMIT_3,
        &time(t2 - Duration::hours(1)),
        &[&bandit()],
    );
    refused(&run, "before the latest default-branch scan");
    nothing_stored("a scan older than the latest").await;

    // A scan of another branch is compared with the default branch and changes none of
    // its figures: the first scan's results are back (two of them fixed on `main`), and
    // `api.py`'s finding is absent.
    let feature = accepted(&upload_to_branch(
        &server,
        &token.secret,
        "acme/shop",
        COMMIT_3,
        Some("feature"),
        &now,
        &[&bandit()],
    ));
    assert_eq!(feature, [n1, 0, 2, 1]);
    assert_eq!(api.summary(&token.secret, &pinned).await, summary_before);
    let stored = db.stored().await;
    assert_eq!(
        [stored[0], stored[2], stored[3]],
        [stored_before[0], stored_before[2], stored_before[3]],
        "only a snapshot more"
    );
    assert_eq!(stored[1], stored_before[1] + 1);

    // 5. The report command prints the API's figures.
    let summary = api.summary(&token.secret, "").await;
    let total = as_u64(&summary["open"]["total"], "open.total");
    assert_eq!(total, open);
    let report = |format: &str, org: &str| {
        posture(
            &[
                "report",
                "--org",
                org,
                "--format",
                format,
                "--database",
                &db.url,
            ],
            &[],
        )
    };
    let json_report = report("json", "acme");
    assert_eq!(json_report.code, 0, "{}", json_report.stderr);
    let from_cli = json_report.json();
    assert_eq!(from_cli["open"], summary["open"]);
    assert_eq!(from_cli["new"], summary["new"]);
    assert_eq!(from_cli["fixed"], summary["fixed"]);
    assert_eq!(report("json", "ACME").json()["open"], summary["open"]);
    // Uploads carry no repository, so no CODEOWNERS: every finding is unowned.
    assert_eq!(summary["teams"][0]["team"], "unowned", "{summary}");
    assert_eq!(summary["teams"][0]["open"], summary["open"]["total"]);
    assert_eq!(from_cli["teams"], summary["teams"]);

    let csv_report = report("csv", "acme");
    assert_eq!(csv_report.code, 0, "{}", csv_report.stderr);
    let (header, rows) = parse_csv(&csv_report.stdout);
    assert_eq!(header, posture::report::org::CSV_HEADER);
    let column = header.iter().position(|c| c == "open_total").unwrap();
    let org_row = rows
        .iter()
        .find(|row| row[0] == posture::report::org::ORG_ROW)
        .expect("the org's row");
    assert_eq!(org_row[column], total.to_string());
    let shop_row = rows.iter().find(|row| row[0] == "acme/shop").unwrap();
    assert_eq!(shop_row[column], total.to_string());

    let md_report = report("md", "acme");
    assert_eq!(md_report.code, 0, "{}", md_report.stderr);
    let mut lines = md_report.stdout.lines();
    lines
        .find(|line| *line == "| Critical | High | Medium | Low | Info | Total |")
        .unwrap_or_else(|| panic!("the open findings table: {}", md_report.stdout));
    let row = lines.nth(1).unwrap();
    let cells: Vec<&str> = row.trim_matches('|').split('|').map(str::trim).collect();
    assert_eq!(cells.last(), Some(&total.to_string().as_str()), "{row}");
    assert!(
        md_report.stdout.contains(&format!("| unowned | {total} |")),
        "the teams table: {}",
        md_report.stdout
    );

    let unknown = report("json", "nosuch");
    assert_ne!(unknown.code, 0);
    assert!(unknown.stdout.is_empty(), "{}", unknown.stdout);
    assert!(
        unknown
            .stderr
            .contains("posture has no repository of org `nosuch`"),
        "{}",
        unknown.stderr
    );

    // 6. Time series.
    let message = api
        .get("/orgs/acme/timeseries", Some(&token.secret))
        .await
        .error(400, "bad_request");
    assert!(message.contains("`metric` is required"), "{message}");
    let message = api
        .get("/orgs/acme/timeseries?metric=vulns", Some(&token.secret))
        .await
        .error(400, "bad_request");
    assert!(
        message.contains("`metric`") && message.contains("vulns"),
        "{message}"
    );

    let to = seconds_ago(0);
    let window = format!(
        "from={}&to={}&as_of={}",
        time(t1 - Duration::days(1) - Duration::hours(1)),
        time(to),
        time(to)
    );
    let summary = api.summary(&token.secret, &window).await;
    let series = |metric: &str| {
        let path = format!("/orgs/acme/timeseries?metric={metric}&interval=day&{window}");
        let api = &api;
        let token = &token.secret;
        async move { api.get(&path, Some(token)).await.ok() }
    };
    let new = series("new").await;
    assert_eq!(new["metric"], "new");
    assert_eq!(new["interval"], "day");
    let points = new["points"].as_array().unwrap();
    assert_eq!(
        points.len(),
        5,
        "a point a day over 4 days and a bit: {new}"
    );
    let values: Vec<f64> = points
        .iter()
        .map(|p| p["value"].as_f64().unwrap())
        .collect();
    assert_eq!(
        values.iter().sum::<f64>(),
        summary["new"].as_f64().unwrap(),
        "{new}"
    );
    assert_eq!(values.iter().sum::<f64>(), (n1 + 1) as f64);
    assert_eq!(values.iter().filter(|v| **v > 0.0).count(), 2, "{values:?}");
    let fixed: f64 = series("fixed").await["points"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["value"].as_f64().unwrap())
        .sum();
    assert_eq!(fixed, summary["fixed"].as_f64().unwrap());
    let open_series = series("open").await;
    let last = open_series["points"].as_array().unwrap().last().unwrap();
    assert_eq!(last["value"].as_f64(), summary["open"]["total"].as_f64());

    // The token was never logged, not even at `info`.
    let log = server.kill();
    assert!(log.contains("scan uploaded"), "{log}");
    assert!(!log.contains(&token.secret[4..]), "{log}");
}

#[tokio::test(flavor = "multi_thread")]
async fn uploads_build_the_history_on_sqlite() {
    upload_history(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn uploads_build_the_history_on_postgres() {
    upload_history(Backend::Postgres).await;
}

// ---------------------------------------------------------------------------------------
// 3: who may do what

async fn access(backend: Backend) {
    let db = Db::new(backend).await;
    let owner = create_token(&db, "acme", "upload,read", "ci");
    let reader = create_token(&db, "acme", "read", "dashboard");
    let uploader = create_token(&db, "acme", "upload", "scanner");
    let stranger = create_token(&db, "other", "upload,read", "other-ci");
    let doomed = create_token(&db, "acme", "read,upload", "old");
    let server = start_server(&db);
    let api = Api::new(&server);
    let observed = time(seconds_ago(3_600));
    let report = bandit();
    let answer = api
        .upload(Some(&owner.secret), "acme/shop", &observed, &report)
        .await;
    assert_eq!(answer.status, 201, "{}", answer.body);
    assert_eq!(
        as_u64(&answer.json()["findings"], "findings"),
        bandit_results() as u64
    );
    // `other` has a repository too: its data must not help anyone guess at acme's.
    let answer = api
        .upload(Some(&stranger.secret), "other/app", &observed, &report)
        .await;
    assert_eq!(answer.status, 201, "{}", answer.body);
    api.get("/orgs/acme/summary", Some(&doomed.secret))
        .await
        .ok();
    let revoke = posture(
        &[
            "token",
            "revoke",
            "--database",
            &db.url,
            &doomed.id.to_string(),
        ],
        &[],
    );
    assert_eq!(revoke.code, 0, "{}", revoke.stderr);
    let again = posture(
        &[
            "token",
            "revoke",
            "--database",
            &db.url,
            &doomed.id.to_string(),
        ],
        &[],
    );
    assert_ne!(again.code, 0, "revoked twice");
    let stored = db.stored().await;

    let reads = [
        "/orgs/{org}/summary",
        "/orgs/{org}/timeseries?metric=open",
        "/orgs/{org}/findings",
        "/orgs/{org}/findings?format=csv",
    ];
    let bad_token = format!("pst_{}", "0".repeat(64));
    let unauthorized = |answer: &Answer, what: &str| {
        answer.error(401, "unauthorized");
        assert_eq!(
            answer.header("www-authenticate"),
            Some("Bearer realm=\"posture\""),
            "{what}"
        );
    };
    let missing = api.get("/orgs/nosuch/summary", Some(&owner.secret)).await;
    missing.error(404, "not_found");
    for read in reads {
        let path = read.replace("{org}", "acme");
        unauthorized(&api.get(&path, None).await, &path);
        unauthorized(&api.get(&path, Some(&bad_token)).await, &path);
        unauthorized(&api.get(&path, Some(&doomed.secret)).await, &path);
        unauthorized(
            &api.get_authorized(&path, &format!("Basic {}", owner.secret))
                .await,
            &path,
        );
        unauthorized(&api.get_authorized(&path, "Bearer ").await, &path);
        // Out of reach is exactly as absent.
        let foreign = api.get(&path, Some(&stranger.secret)).await;
        foreign.error(404, "not_found");
        assert_eq!(foreign.body, missing.body, "{path}");
        let absent = api
            .get(&read.replace("{org}", "nosuch"), Some(&owner.secret))
            .await;
        assert_eq!(
            (absent.status, &absent.body),
            (404, &missing.body),
            "{read}"
        );
        let absent = api
            .get(&read.replace("{org}", "nosuch"), Some(&stranger.secret))
            .await;
        assert_eq!(
            (absent.status, &absent.body),
            (404, &missing.body),
            "{read}"
        );
        // The org's own token reads it, whatever case the org is written in.
        let own = api.get(&path, Some(&owner.secret)).await;
        assert_eq!(own.status, 200, "{path}: {}", own.body);
        let shouted = api
            .get(&read.replace("{org}", "ACME"), Some(&owner.secret))
            .await;
        assert_eq!(shouted.status, 200, "{read}: {}", shouted.body);
        // A repository filter outside the org, or of no repository, is absent too.
        let separator = if path.contains('?') { '&' } else { '?' };
        for repository in ["other/app", "other/x", "acme/nope"] {
            let filtered = api
                .get(
                    &format!("{path}{separator}repository={repository}"),
                    Some(&owner.secret),
                )
                .await;
            assert_eq!(
                (filtered.status, &filtered.body),
                (404, &missing.body),
                "{path} {repository}"
            );
        }
        let filtered = api
            .get(
                &format!("{path}{separator}repository=acme/shop"),
                Some(&owner.secret),
            )
            .await;
        assert_eq!(filtered.status, 200, "{path}: {}", filtered.body);
        // Reading needs `read`.
        let message = api
            .get(&path, Some(&uploader.secret))
            .await
            .error(403, "forbidden");
        assert!(message.contains("`read`"), "{message}");
        // Out of reach is 404 whatever the scopes.
        let foreign = api
            .get(&read.replace("{org}", "other"), Some(&uploader.secret))
            .await;
        assert_eq!(
            (foreign.status, &foreign.body),
            (404, &missing.body),
            "{read}"
        );
    }

    // Uploads.
    let upload = async |token: Option<&str>, repository: &str| {
        api.upload(token, repository, &observed, &report).await
    };
    unauthorized(&upload(None, "acme/shop").await, "upload");
    unauthorized(&upload(Some(&bad_token), "acme/shop").await, "upload");
    unauthorized(&upload(Some(&doomed.secret), "acme/shop").await, "upload");
    let foreign = upload(Some(&stranger.secret), "acme/shop").await;
    assert_eq!((foreign.status, &foreign.body), (404, &missing.body));
    let foreign = upload(Some(&owner.secret), "other/app").await;
    assert_eq!((foreign.status, &foreign.body), (404, &missing.body));
    let absent = upload(Some(&owner.secret), "nosuch/x").await;
    assert_eq!((absent.status, &absent.body), (404, &missing.body));
    let message = upload(Some(&reader.secret), "acme/shop")
        .await
        .error(403, "forbidden");
    assert!(message.contains("`upload`"), "{message}");
    let foreign = upload(Some(&reader.secret), "other/app").await;
    assert_eq!((foreign.status, &foreign.body), (404, &missing.body));
    // `posture upload` says what the server said.
    let small = common::fixture("sarif/gitleaks_v8_simple.sarif");
    let cli = |token: &str, repository: &str| {
        upload_cli(&server, token, repository, COMMIT_3, &observed, &[&small])
    };
    for (token, repository, status, message) in [
        (
            &doomed.secret,
            "acme/shop",
            "401 Unauthorized",
            "unknown or revoked token",
        ),
        (
            &bad_token,
            "acme/shop",
            "401 Unauthorized",
            "unknown or revoked token",
        ),
        (
            &reader.secret,
            "acme/shop",
            "403 Forbidden",
            "this token lacks the `upload` scope",
        ),
        (&stranger.secret, "acme/shop", "404 Not Found", "not found"),
    ] {
        let run = cli(token, repository);
        assert_eq!(run.code, 2, "{repository}: {}", run.stderr);
        assert!(run.stdout.is_empty(), "{}", run.stdout);
        assert!(
            run.stderr.contains(&format!(
                "the server refused the upload ({status}): {message}"
            )),
            "{}",
            run.stderr
        );
    }
    let run = cli("", "acme/shop");
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("POSTURE_TOKEN is not set"),
        "{}",
        run.stderr
    );
    assert_eq!(
        db.stored().await,
        stored,
        "nothing stored by refused uploads"
    );
    // An unknown API path is absent, and still needs a token.
    api.get("/orgs/acme/nope", Some(&owner.secret))
        .await
        .error(404, "not_found");
    unauthorized(&api.get("/orgs/acme/nope", None).await, "fallback");

    // The audit log: every request with a live token, by whom, what and how it ended.
    let audit = db.audit().await;
    let has = |token: &Token, org: &str, method: &str, path: &str, status: i32| {
        audit.iter().any(|(actor, o, action, s)| {
            *actor == token.actor
                && o.as_deref() == Some(org)
                && action.starts_with(&format!("{method} {path}"))
                && *s == Some(status)
        })
    };
    // The revoked token's one use before it was revoked, and nothing after.
    let doomed_uses: Vec<&Audit> = audit.iter().filter(|row| row.0 == doomed.actor).collect();
    assert_eq!(doomed_uses.len(), 1, "{doomed_uses:?}");
    assert_eq!(doomed_uses[0].3, Some(200));
    // Requests without a live token have no actor to record.
    assert!(
        audit.iter().all(|(actor, ..)| actor.starts_with("token ")),
        "{audit:#?}"
    );
    // Nothing recorded the tokens.
    let tokens = [&owner, &reader, &uploader, &stranger, &doomed];
    for row in &audit {
        for token in tokens {
            assert!(!format!("{row:?}").contains(&token.secret[4..]), "{row:?}");
        }
    }
    let list = posture(&["token", "list", "--database", &db.url], &[]);
    assert_eq!(list.code, 0, "{}", list.stderr);
    let line = |token: &Token| {
        list.stdout
            .lines()
            .find(|line| line.trim_start().starts_with(&format!("{} ", token.id)))
            .unwrap_or_else(|| panic!("token {} listed: {}", token.id, list.stdout))
            .to_owned()
    };
    assert!(line(&doomed).contains("revoked"), "{}", list.stdout);
    assert!(line(&owner).contains("last used"), "{}", list.stdout);
    let log = server.kill();
    for token in tokens {
        assert!(!log.contains(&token.secret[4..]), "{log}");
        assert!(!list.stdout.contains(&token.secret[4..]));
    }
    // Last, the actions: the request as the client sent it, `/api/v1` included (as
    // `AuditEntry::action` documents).
    assert!(
        has(&owner, "acme", "POST", "/api/v1/scans", 201),
        "{audit:#?}"
    );
    assert!(has(&owner, "acme", "GET", "/api/v1/orgs/acme/summary", 200));
    assert!(has(
        &owner,
        "acme",
        "GET",
        "/api/v1/orgs/nosuch/summary",
        404
    ));
    assert!(has(
        &owner,
        "acme",
        "GET",
        "/api/v1/orgs/acme/findings?format=csv",
        200
    ));
    assert!(has(
        &owner,
        "acme",
        "GET",
        "/api/v1/orgs/acme/summary?repository=acme/nope",
        404
    ));
    assert!(has(
        &stranger,
        "other",
        "GET",
        "/api/v1/orgs/acme/summary",
        404
    ));
    assert!(has(&stranger, "other", "POST", "/api/v1/scans", 404));
    assert!(has(&reader, "acme", "POST", "/api/v1/scans", 403));
    assert!(has(
        &uploader,
        "acme",
        "GET",
        "/api/v1/orgs/acme/timeseries?metric=open",
        403
    ));
}

#[tokio::test(flavor = "multi_thread")]
async fn every_endpoint_checks_the_token_and_hides_other_orgs_on_sqlite() {
    access(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn every_endpoint_checks_the_token_and_hides_other_orgs_on_postgres() {
    access(Backend::Postgres).await;
}

// ---------------------------------------------------------------------------------------
// 4: the findings list

async fn findings_list(backend: Backend) {
    let db = Db::new(backend).await;
    let dir = TempDir::new().unwrap();
    let token = create_token(&db, "acme", "upload,read", "ci");
    let stranger = create_token(&db, "other", "upload,read", "other-ci");
    let server = start_server(&db);
    let api = Api::new(&server);
    let t1 = seconds_ago(2 * 86_400);
    let t2 = t1 + Duration::days(1);
    let upload =
        |token: &Token, repository: &str, commit: &str, t: DateTime<Utc>, report: &Path| {
            accepted(&upload_cli(
                &server,
                &token.secret,
                repository,
                commit,
                &time(t),
                &[report],
            ))
        };
    let n = bandit_results() as u64;
    assert_eq!(
        upload(&token, "acme/shop", COMMIT_1, t1, &bandit()),
        [n, n, 0, 0]
    );
    let shop = upload(&token, "acme/shop", COMMIT_2, t2, &bandit_later(dir.path()));
    assert_eq!(shop[3], 2, "two fixed");
    let trivy = common::fixture("sarif/trivy_demo_2021.sarif");
    let api_counts = upload(&token, "acme/api", COMMIT_1, t1, &trivy);
    let gitleaks = common::fixture("sarif/gitleaks_v8_simple.sarif");
    let web = upload(&token, "acme/web", COMMIT_1, t2, &gitleaks);
    upload(&stranger, "other/app", COMMIT_1, t1, &bandit());
    let open = shop[0] + api_counts[0] + web[0];
    let fixed = 2;

    let get = async |query: &str| {
        api.get(&format!("/orgs/acme/findings{query}"), Some(&token.secret))
            .await
    };

    // status=open (the default), fixed, all.
    let page = get("").await.ok();
    assert_eq!(page["org"], "acme");
    assert!(page["next_cursor"].is_null(), "{page}");
    let open_list = page["findings"].as_array().unwrap().clone();
    assert_eq!(open_list.len() as u64, open);
    assert!(open_list.iter().all(|f| f["status"] == "open"), "{page}");
    assert_eq!(get("?status=open").await.ok(), page);
    let fixed_page = get("?status=fixed").await.ok();
    let fixed_list = fixed_page["findings"].as_array().unwrap();
    assert_eq!(fixed_list.len() as u64, fixed);
    let mut fixed_rules: Vec<&str> = fixed_list
        .iter()
        .map(|f| f["rule"].as_str().unwrap())
        .collect();
    fixed_rules.sort();
    assert_eq!(fixed_rules, ["B104", "B201"]);
    for finding in fixed_list {
        assert_eq!(finding["status"], "fixed");
        assert_eq!(finding["repository"], "acme/shop");
        let fixed_at: DateTime<Utc> = finding["fixed_at"].as_str().unwrap().parse().unwrap();
        assert_eq!(fixed_at, t2, "{finding}");
        assert_eq!(finding["first_detected_commit"], COMMIT_1);
    }
    let all_page = get("?status=all").await.ok();
    let all = keys(&all_page["findings"]);
    assert_eq!(all.len() as u64, open + fixed);
    let unique: HashSet<&(String, String)> = all.iter().collect();
    assert_eq!(unique.len(), all.len(), "no finding twice");
    let mut sorted = all.clone();
    sorted.sort();
    assert_eq!(all, sorted, "ordered by repository and finding");
    assert!(all.iter().all(|(r, _)| r.starts_with("acme/")), "{all:?}");
    let repositories: HashSet<&str> = all.iter().map(|(r, _)| r.as_str()).collect();
    assert_eq!(
        repositories,
        HashSet::from(["acme/shop", "acme/api", "acme/web"])
    );
    let message = get("?status=closed").await.error(400, "bad_request");
    assert!(message.contains("`status`"), "{message}");

    // Filters narrow, and only narrow.
    let only_api = get("?status=all&repository=acme/api").await.ok();
    assert_eq!(
        only_api["findings"].as_array().unwrap().len() as u64,
        api_counts[0]
    );
    let by_tool = get("?tool=gitleaks").await.ok();
    assert_eq!(keys(&by_tool["findings"]).len() as u64, web[0]);
    let high = get("?status=all&severity=high").await.ok();
    let high = high["findings"].as_array().unwrap();
    assert!(!high.is_empty() && high.len() < all.len());
    assert!(high.iter().all(|f| f["severity"] == "high"));
    let message = get("?severity=error").await.error(400, "bad_request");
    assert!(message.contains("`severity`"), "{message}");

    // CSV: the stable header, then one row per finding, in the JSON's order.
    let answer = get("?format=csv").await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(
        answer.header("content-type"),
        Some("text/csv; charset=utf-8")
    );
    assert_eq!(answer.header("x-next-cursor"), None);
    let (header, rows) = parse_csv(&answer.body);
    assert_eq!(header, FINDINGS_CSV_HEADER);
    assert_eq!(
        rows.iter()
            .map(|row| (row[0].clone(), row[1].clone()))
            .collect::<Vec<_>>(),
        keys(&page["findings"])
    );
    assert!(
        rows.iter()
            .all(|row| row.len() == header.len() && row[2] == "open")
    );
    let answer = get("?format=csv&status=fixed").await;
    let (header, rows) = parse_csv(&answer.body);
    assert_eq!(header, FINDINGS_CSV_HEADER);
    let fixed_at = header.iter().position(|c| c == "fixed_at").unwrap();
    assert!(rows.iter().all(|row| row[fixed_at] == time(t2)), "{rows:?}");

    // NDJSON: one object per line, the JSON's findings.
    let answer = get("?format=ndjson&status=all").await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.header("content-type"), Some("application/x-ndjson"));
    assert!(answer.body.ends_with('\n'));
    let lines: Vec<Value> = answer
        .body
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert!(lines.iter().all(Value::is_object));
    assert_eq!(Value::from(lines), all_page["findings"]);

    // Paging with limit=1 walks every finding exactly once.
    let mut walked = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..=all.len() {
        let query = match &cursor {
            Some(cursor) => format!("?status=all&limit=1&cursor={cursor}"),
            None => "?status=all&limit=1".to_owned(),
        };
        let page = get(&query).await.ok();
        let found = keys(&page["findings"]);
        assert_eq!(found.len(), 1, "{page}");
        walked.extend(found);
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => {
                cursor = None;
                break;
            }
        }
    }
    assert!(cursor.is_none(), "the walk ends");
    assert_eq!(walked, all);

    let mut walked = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..=all.len() {
        let query = match &cursor {
            Some(cursor) => format!("?status=all&format=csv&limit=1&cursor={cursor}"),
            None => "?status=all&format=csv&limit=1".to_owned(),
        };
        let answer = get(&query).await;
        assert_eq!(answer.status, 200, "{}", answer.body);
        let (header, rows) = parse_csv(&answer.body);
        assert_eq!(header, FINDINGS_CSV_HEADER);
        assert_eq!(rows.len(), 1, "{}", answer.body);
        walked.push((rows[0][0].clone(), rows[0][1].clone()));
        match answer.header("x-next-cursor") {
            Some(next) => cursor = Some(next.to_owned()),
            None => {
                cursor = None;
                break;
            }
        }
    }
    assert!(cursor.is_none(), "the walk ends");
    assert_eq!(walked, all);

    // Pages of two in NDJSON, with the cursor in the header too.
    let first = get("?status=all&format=ndjson&limit=2").await;
    assert_eq!(first.body.lines().count(), 2);
    let next = first.header("x-next-cursor").expect("a next page");
    let second = get(&format!("?status=all&format=ndjson&limit=2&cursor={next}")).await;
    let second: Vec<Value> = second
        .body
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(second[0]["finding_id"].as_str(), Some(all[2].1.as_str()));

    // Bad paging and unknown parameters are 400s naming them.
    for cursor in ["zz", "not-a-cursor", &hex::encode("no newline")] {
        let message = get(&format!("?cursor={cursor}"))
            .await
            .error(400, "bad_request");
        assert!(message.contains("`cursor`"), "{message}");
    }
    for limit in ["0", "1001", "ten"] {
        let message = get(&format!("?limit={limit}"))
            .await
            .error(400, "bad_request");
        assert!(message.contains("`limit`"), "{message}");
    }
    let message = get("?format=xml").await.error(400, "bad_request");
    assert!(message.contains("`format`"), "{message}");
    for query in [
        "/findings?sevrity=high",
        "/summary?sevrity=high",
        "/timeseries?metric=open&sevrity=high",
        "/findings?metric=open",
    ] {
        let message = api
            .get(&format!("/orgs/acme{query}"), Some(&token.secret))
            .await
            .error(400, "bad_request");
        let name = query
            .rsplit('&')
            .next()
            .unwrap()
            .rsplit('?')
            .next()
            .unwrap();
        let name = name.split('=').next().unwrap();
        assert!(
            message.contains(&format!("unknown parameter `{name}`")),
            "{query}: {message}"
        );
    }
    let message = get("?sevrity=high").await.error(400, "bad_request");
    assert!(message.contains("`sevrity`"), "{message}");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_findings_list_filters_pages_and_exports_on_sqlite() {
    findings_list(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_findings_list_filters_pages_and_exports_on_postgres() {
    findings_list(Backend::Postgres).await;
}

/// Uploads are parsed under the process's memory budget, like review jobs: reports whose
/// findings could not fit are refused with the reason, smaller ones are stored.
#[tokio::test]
async fn uploads_stay_within_the_memory_budget() {
    let db = Db::new(Backend::Sqlite).await;
    let token = create_token(&db, "acme", "upload", "ci");
    // 1 MiB holds the findings of 64 KiB of reports.
    let server = start_server_with(&db, &[("POSTURE_MEMORY_BUDGET", "1")]);
    let api = Api::new(&server);
    let observed = time(seconds_ago(60));

    let large = common::fixture("sarif/codeql_2.5.4.sarif");
    let refused = api
        .upload(Some(&token.secret), "acme/app", &observed, &large)
        .await;
    let message = refused.error(413, "payload_too_large");
    assert!(message.contains("POSTURE_MEMORY_BUDGET"), "{message}");

    let small = api
        .upload(Some(&token.secret), "acme/app", &observed, &bandit())
        .await;
    assert_eq!(small.status, 201, "{}", small.body);
}
