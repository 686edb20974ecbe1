//! The org API's harness: a migrated database (SQLite or PostgreSQL in a schema of its
//! own), tokens made with `posture token`, a real `posture serve`, uploads with
//! `posture upload`, and an HTTP client that reads the answers.

use std::path::Path;
use std::process::Command;
use std::str::FromStr;

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::Value;
use sqlx::Connection;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::SqliteConnection;
use tempfile::TempDir;

use super::Run;
use super::posture_with_env as posture;
use super::server::Server;

pub const SECRET: &str = "it's a secret to everybody";

pub const COMMIT_1: &str = "1111111111111111111111111111111111111111";
pub const COMMIT_2: &str = "2222222222222222222222222222222222222222";
pub const COMMIT_3: &str = "3333333333333333333333333333333333333333";

// ---------------------------------------------------------------------------------------
// Databases

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub enum DbPool {
    /// A connection a query: the test also reads the file, and closing any descriptor of
    /// it drops the process's POSIX locks, those of open SQLite connections included.
    Sqlite(String),
    Postgres(PgPool),
}

/// Runs `$body` with `$pool` bound to an executor of a [`Db`].
macro_rules! on_pool {
    ($db:expr, |$pool:ident| $body:expr) => {
        match &$db.pool {
            DbPool::Sqlite(url) => {
                let mut connection = SqliteConnection::connect(url).await.unwrap();
                let $pool = &mut connection;
                let result = $body;
                connection.close().await.unwrap();
                result
            }
            DbPool::Postgres($pool) => $body,
        }
    };
}

/// A migrated, empty database: the URL `posture` is given, and a pool of our own to look
/// inside it.
pub struct Db {
    pub url: String,
    pub pool: DbPool,
    pub dir: Option<TempDir>,
    /// The PostgreSQL schema to drop when done.
    pub schema: Option<String>,
}

impl Db {
    pub async fn new(backend: Backend) -> Db {
        let db = match backend {
            Backend::Sqlite => {
                let dir = TempDir::new().unwrap();
                let url = format!("sqlite://{}", dir.path().join("posture.db").display());
                migrate(&url);
                Db {
                    pool: DbPool::Sqlite(url.clone()),
                    url,
                    dir: Some(dir),
                    schema: None,
                }
            }
            Backend::Postgres => {
                let base = super::postgres::url();
                let (schema, url) = super::postgres::create_schema("posture_org_api").await;
                // The drop guard exists before anything else can fail.
                let pool = PgPoolOptions::new().max_connections(2).connect_lazy_with(
                    PgConnectOptions::from_str(&base)
                        .unwrap()
                        .options([("search_path", schema.as_str())]),
                );
                let db = Db {
                    url,
                    pool: DbPool::Postgres(pool),
                    dir: None,
                    schema: Some(schema),
                };
                migrate(&db.url);
                db
            }
        };
        // The migrations ran where our own pool looks.
        assert_eq!(db.count("api_tokens").await, 0);
        db
    }

    pub async fn count(&self, table: &str) -> i64 {
        let sql = format!("SELECT COUNT(*) FROM {table}");
        let (count,): (i64,) = on_pool!(self, |pool| sqlx::query_as(&sql)
            .fetch_one(pool)
            .await
            .unwrap());
        count
    }

    pub async fn repositories(&self) -> Vec<String> {
        let rows: Vec<(String,)> = on_pool!(self, |pool| sqlx::query_as(
            "SELECT repository FROM projects ORDER BY repository"
        )
        .fetch_all(pool)
        .await
        .unwrap());
        rows.into_iter().map(|(r,)| r).collect()
    }

    /// Every text column of `api_tokens`, row by row.
    pub async fn token_rows(&self) -> Vec<(String, String, String, String)> {
        on_pool!(self, |pool| sqlx::query_as(
            "SELECT org, name, scopes, token_hash FROM api_tokens ORDER BY id"
        )
        .fetch_all(pool)
        .await
        .unwrap())
    }

    /// `(actor, org, action, status)` of the audit log, oldest first.
    pub async fn audit(&self) -> Vec<Audit> {
        on_pool!(self, |pool| sqlx::query_as(
            "SELECT actor, org, action, status FROM audit_log ORDER BY id"
        )
        .fetch_all(pool)
        .await
        .unwrap())
    }

    /// What nothing stored must leave unchanged.
    pub async fn stored(&self) -> [i64; 4] {
        [
            self.count("projects").await,
            self.count("snapshots").await,
            self.count("branch_findings").await,
            self.count("finding_events").await,
        ]
    }

    /// The bytes of the SQLite database and its journals.
    pub fn sqlite_bytes(&self) -> Vec<u8> {
        let dir = self.dir.as_ref().expect("a SQLite database");
        let mut bytes = Vec::new();
        for entry in std::fs::read_dir(dir.path()).unwrap() {
            let entry = entry.unwrap();
            if entry
                .file_name()
                .to_string_lossy()
                .starts_with("posture.db")
            {
                bytes.extend(std::fs::read(entry.path()).unwrap());
            }
        }
        assert!(!bytes.is_empty());
        bytes
    }
}

pub type Audit = (String, Option<String>, String, Option<i32>);

impl Drop for Db {
    fn drop(&mut self) {
        let Some(schema) = self.schema.take() else {
            return;
        };
        super::postgres::drop_schema(schema);
    }
}

// ---------------------------------------------------------------------------------------
// The binary

/// Runs `posture` with `env` and none of the caller's `POSTURE_*` settings.
pub fn migrate(url: &str) {
    let run = posture(&["migrate", "--database", url], &[]);
    assert_eq!(run.code, 0, "posture migrate: {}", run.stderr);
}

pub struct Token {
    pub id: i64,
    pub secret: String,
    /// How the audit log names it.
    pub actor: String,
}

/// `posture token create`: the token alone on standard output, its id on standard error.
pub fn create_token(db: &Db, org: &str, scopes: &str, name: &str) -> Token {
    let run = posture(
        &[
            "token",
            "create",
            "--org",
            org,
            "--scopes",
            scopes,
            "--name",
            name,
            "--database",
            &db.url,
        ],
        &[],
    );
    assert_eq!(run.code, 0, "token create: {}", run.stderr);
    let secret = run.stdout.strip_suffix('\n').expect("a line").to_owned();
    assert!(!secret.contains('\n'), "one line: {:?}", run.stdout);
    let hex = secret.strip_prefix("pst_").expect("pst_ prefix");
    assert!(
        hex.len() == 64
            && hex
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)),
        "pst_ and 64 lower-case hex digits: {secret:?}"
    );
    assert!(!run.stderr.contains(&secret), "{}", run.stderr);
    let id = run
        .stderr
        .split("posture: token ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|id| id.parse().ok())
        .unwrap_or_else(|| panic!("the token's id on stderr: {}", run.stderr));
    Token {
        id,
        secret,
        actor: format!("token {id} ({name})"),
    }
}

/// `posture upload` of `reports` as `token`.
pub fn upload_cli(
    server: &Server,
    token: &str,
    repository: &str,
    commit: &str,
    observed_at: &str,
    reports: &[&Path],
) -> Run {
    upload_to_branch(
        server,
        token,
        repository,
        commit,
        None,
        observed_at,
        reports,
    )
}

/// `posture upload` of a scan of `branch`, or of the default branch (`main`) when `None`.
pub fn upload_to_branch(
    server: &Server,
    token: &str,
    repository: &str,
    commit: &str,
    branch: Option<&str>,
    observed_at: &str,
    reports: &[&Path],
) -> Run {
    let scanned = match branch {
        Some(branch) => Scanned::Branch(branch),
        None => Scanned::DefaultBranch,
    };
    upload(
        server,
        token,
        repository,
        commit,
        scanned,
        Some(observed_at),
        reports,
    )
}

/// What an upload is a scan of.
pub enum Scanned<'a> {
    DefaultBranch,
    Branch(&'a str),
    /// A deployment (`--environment`) of `main`.
    Deployment(&'a str),
}

/// `posture upload` of `reports` as `token`, a scan of what `scanned` says.
pub fn upload(
    server: &Server,
    token: &str,
    repository: &str,
    commit: &str,
    scanned: Scanned,
    observed_at: Option<&str>,
    reports: &[&Path],
) -> Run {
    let mut args = vec![
        "upload".to_owned(),
        "--server".into(),
        server.base.clone(),
        "--repository".into(),
        repository.into(),
        "--commit".into(),
        commit.into(),
        "--branch".into(),
    ];
    match scanned {
        Scanned::DefaultBranch => args.extend(["main".into(), "--default-branch".into()]),
        Scanned::Branch(branch) => args.push(branch.into()),
        Scanned::Deployment(environment) => {
            args.extend(["main".into(), "--environment".into(), environment.into()])
        }
    }
    if let Some(time) = observed_at {
        args.extend(["--observed-at".into(), time.into()]);
    }
    args.extend(reports.iter().map(|p| p.display().to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    posture(&args, &[("POSTURE_TOKEN", token)])
}

/// An accepted upload's counts: `[findings, new, reintroduced, fixed]`.
pub fn accepted(run: &Run) -> [u64; 4] {
    assert_eq!(run.code, 0, "upload refused: {}", run.stderr);
    assert_eq!(run.stdout.lines().count(), 1, "{}", run.stdout);
    let answer = run.json();
    assert!(answer["snapshot"].is_i64(), "{answer}");
    let keys: Vec<&String> = answer.as_object().unwrap().keys().collect();
    // snapshot, findings, new, reintroduced, fixed, components.
    assert_eq!(keys.len(), 6, "{answer}");
    ["findings", "new", "reintroduced", "fixed"].map(|key| {
        answer[key]
            .as_u64()
            .unwrap_or_else(|| panic!("`{key}` a number: {answer}"))
    })
}

/// A refused upload: exit code 2 and the server's 422 with the problem named on stderr.
pub fn refused(run: &Run, problem: &str) {
    assert_eq!(run.code, 2, "refused: {} {}", run.stdout, run.stderr);
    assert!(run.stdout.is_empty(), "{}", run.stdout);
    assert!(
        run.stderr.contains("422 Unprocessable Entity"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains(problem),
        "`{problem}` in {}",
        run.stderr
    );
}

/// A running `posture serve`, killed when dropped.
/// `posture serve` on `db` (workers elsewhere), its logs as talkative as an operator may
/// make them: no token may show in them.
pub fn start_server(db: &Db) -> Server {
    start_server_with(db, &[])
}

/// [`start_server`] with more settings.
pub fn start_server_with(db: &Db, env: &[(&str, &str)]) -> Server {
    let mut command = Command::new(env!("CARGO_BIN_EXE_posture"));
    for (key, _) in std::env::vars() {
        if key.starts_with("POSTURE_") {
            command.env_remove(key);
        }
    }
    command
        .args([
            "serve",
            "--database",
            &db.url,
            "--workers",
            "0",
            "--listen",
            "127.0.0.1:0",
        ])
        .env("POSTURE_GITHUB_WEBHOOK_SECRET", SECRET)
        .env("POSTURE_LOG", "info")
        .envs(env.iter().copied());
    Server::spawn(command)
}

// ---------------------------------------------------------------------------------------
// HTTP

pub struct Answer {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: String,
}

impl Answer {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {} {}", self.status, self.body))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(|v| v.to_str().unwrap())
    }

    /// Asserts a 200 and returns the JSON body.
    pub fn ok(&self) -> Value {
        assert_eq!(self.status, 200, "{}", self.body);
        self.json()
    }

    /// Asserts an error answer and returns its message.
    pub fn error(&self, status: u16, code: &str) -> String {
        assert_eq!(self.status, status, "{}", self.body);
        let body = self.json();
        assert_eq!(body["error"]["code"], code, "{body}");
        let keys: Vec<&String> = body.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["error"], "{body}");
        body["error"]["message"]
            .as_str()
            .unwrap_or_else(|| panic!("a message: {body}"))
            .to_owned()
    }
}

pub struct Api {
    pub client: reqwest::Client,
    pub base: String,
}

impl Api {
    pub fn new(server: &Server) -> Api {
        Api {
            // A connection a request: the server closes one whose upload it refused
            // unread, and a pooled one could be reused just as it goes.
            client: reqwest::Client::builder()
                .pool_max_idle_per_host(0)
                .build()
                .unwrap(),
            base: server.base.clone(),
        }
    }

    pub async fn answer(request: reqwest::RequestBuilder) -> Answer {
        let response = request.send().await.unwrap();
        Answer {
            status: response.status().as_u16(),
            headers: response.headers().clone(),
            body: response.text().await.unwrap(),
        }
    }

    /// `GET /api/v1{path}` with `Authorization: Bearer TOKEN` when given.
    pub async fn get(&self, path: &str, token: Option<&str>) -> Answer {
        let mut request = self.client.get(format!("{}/api/v1{path}", self.base));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        Api::answer(request).await
    }

    /// `GET` with a raw `Authorization` header.
    pub async fn get_authorized(&self, path: &str, authorization: &str) -> Answer {
        let request = self
            .client
            .get(format!("{}/api/v1{path}", self.base))
            .header("Authorization", authorization);
        Api::answer(request).await
    }

    /// `POST /api/v1/scans` of one report to the default branch of `repository`.
    pub async fn upload(
        &self,
        token: Option<&str>,
        repository: &str,
        observed_at: &str,
        report: &Path,
    ) -> Answer {
        let bytes = std::fs::read(report).unwrap();
        let name = report.file_name().unwrap().to_string_lossy().into_owned();
        let form = reqwest::multipart::Form::new()
            .text("repository", repository.to_owned())
            .text("commit", COMMIT_3)
            .text("branch", "main")
            .text("default_branch", "true")
            .text("observed_at", observed_at.to_owned())
            .part(
                "report",
                reqwest::multipart::Part::bytes(bytes).file_name(name),
            );
        let mut request = self
            .client
            .post(format!("{}/api/v1/scans", self.base))
            .multipart(form);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        Api::answer(request).await
    }

    pub async fn summary(&self, token: &str, query: &str) -> Value {
        self.get(&format!("/orgs/acme/summary?{query}"), Some(token))
            .await
            .ok()
    }
}

pub fn time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// Whole seconds, as the command line sends them.
pub fn seconds_ago(seconds: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(Utc::now().timestamp() - seconds, 0).unwrap()
}
