//! `posture doctor`: the checks that tell an operator whether a deployment is set up right,
//! each a [`Check`] (a [`Status`], the thing checked, and what was found or what to fix):
//! the configuration file parses, no `POSTURE_*` variable is misspelt, the settings file
//! validates, the database answers and has its migrations, the GitHub and GitLab
//! credentials work (and have what posture needs; a GitHub App stored by the setup flow
//! counts), the webhook secrets are there, `POSTURE_PUBLIC_URL` is a URL the forges can
//! reach, and the dashboard's sign-in settings parse.
//!
//! Nothing is changed anywhere: the database is only read (a missing SQLite file is not
//! created), and the forges are only asked who the credentials are. Secrets never appear
//! in a check's message: they travel in headers, are never formatted, and every message is
//! scrubbed of every secret value before it is returned, in case a server echoes one.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use chrono::{NaiveDate, Utc};
use octocrab::secrecy::{ExposeSecret, SecretString};
use reqwest::header::{HeaderMap, HeaderValue};
use serde_json::Value;
use sqlx::Connection;
use sqlx::migrate::{Migrate, Migrator};

use crate::envfile;
use crate::forge::github::{self, GitHubConfig, GitHubCredentials};
use crate::forge::gitlab::{self, GitLabClient};
use crate::server::secrets::{GITHUB_SECRET_VAR, GITLAB_TOKEN_VAR, WebhookSecrets};
use crate::settings::{SETTINGS_FILE_VAR, Settings};
use crate::variables;

/// The database `serve`, `migrate` and the others use when neither `--database` nor
/// `POSTURE_DATABASE_URL` names one.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://posture.db";
/// The variable naming the database.
pub const DATABASE_URL_VAR: &str = "POSTURE_DATABASE_URL";
/// The variable naming where the forges reach posture.
pub const PUBLIC_URL_VAR: &str = "POSTURE_PUBLIC_URL";
/// The variable holding the key that unseals the App the setup flow stored.
const SECRET_KEY_VAR: &str = "POSTURE_SECRET_KEY";
/// A token expiring within this many days is warned about.
pub const EXPIRY_WARNING_DAYS: i64 = 14;
/// Webhook secrets shorter than this are warned about.
const SHORT_SECRET: usize = 16;
/// Bound on one forge request, and on connecting to the database.
const TIMEOUT: Duration = Duration::from_secs(15);
/// Pages of `GET /app/installations` read at most (100 each).
const MAX_INSTALLATION_PAGES: usize = 20;
/// How much of a forge's error message is kept.
const MESSAGE_CHARS: usize = 200;
const USER_AGENT: &str = concat!("posture/", env!("CARGO_PKG_VERSION"), " (doctor)");

/// How a check came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Status {
    Ok,
    /// Works, but something deserves attention.
    Warn,
    /// posture will not work as configured.
    Fail,
}

impl Status {
    /// `✓`, `!` or `✗`.
    pub fn symbol(self) -> &'static str {
        match self {
            Status::Ok => "✓",
            Status::Warn => "!",
            Status::Fail => "✗",
        }
    }
}

/// One check's result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    pub status: Status,
    /// What was checked (`database`, `GitHub`, …).
    pub name: &'static str,
    /// What was found and, unless all is well, what to do about it.
    pub message: String,
}

impl Check {
    fn new(status: Status, name: &'static str, message: impl Into<String>) -> Check {
        Check {
            status,
            name,
            message: message.into(),
        }
    }
    fn ok(name: &'static str, message: impl Into<String>) -> Check {
        Check::new(Status::Ok, name, message)
    }
    fn warn(name: &'static str, message: impl Into<String>) -> Check {
        Check::new(Status::Warn, name, message)
    }
    fn fail(name: &'static str, message: impl Into<String>) -> Check {
        Check::new(Status::Fail, name, message)
    }
}

/// What `posture doctor` was asked to look at.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// The configuration file (`serve --config`): its settings fill what the environment
    /// leaves unset.
    pub env_file: Option<PathBuf>,
    /// The database URL given on the command line (else `POSTURE_DATABASE_URL`, else
    /// [`DEFAULT_DATABASE_URL`]).
    pub database_url: Option<String>,
}

/// The `POSTURE_*` variables the checks read: the process's over the configuration file's,
/// as `posture serve --config` layers them. `Debug` shows names only.
#[derive(Clone, Default)]
pub struct Environment {
    vars: BTreeMap<String, String>,
}

impl fmt::Debug for Environment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.vars.keys()).finish()
    }
}

impl Environment {
    /// Exactly these variables (tests, or a caller with its own source).
    pub fn from_pairs<I, K, V>(pairs: I) -> Environment
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        Environment {
            vars: pairs
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        }
    }

    /// The file's settings with this process's `POSTURE_*` variables over them.
    pub fn layered(file: Vec<(String, String)>) -> Environment {
        let mut vars: BTreeMap<String, String> = file.into_iter().collect();
        for (name, value) in std::env::vars_os() {
            if let (Ok(name), Ok(value)) = (name.into_string(), value.into_string())
                && name.starts_with("POSTURE_")
            {
                vars.insert(name, value);
            }
        }
        Environment { vars }
    }

    /// A variable's value; blank counts as unset.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.vars
            .get(name)
            .map(String::as_str)
            .filter(|value| !value.trim().is_empty())
    }

    fn owned(&self, name: &str) -> Option<String> {
        self.get(name).map(str::to_owned)
    }

    /// The values no message may show: tokens, secrets, keys, and database passwords.
    fn secrets(&self) -> Vec<String> {
        let mut secrets = Vec::new();
        for (name, value) in &self.vars {
            let secret_name = name.contains("TOKEN")
                || name.contains("SECRET")
                || name.ends_with("_KEY")
                || name.ends_with("_PASSWORD");
            if secret_name {
                secrets.push(value.clone());
                secrets.push(value.trim().to_owned());
                secrets.extend(value.split(',').map(|part| part.trim().to_owned()));
            }
            if name.ends_with("DATABASE_URL") {
                secrets.extend(url_password(value));
            }
        }
        // Very short values would blank out ordinary words; longest first so that a secret
        // containing another is replaced whole.
        secrets.retain(|secret| secret.chars().count() >= 4);
        secrets.sort_by_key(|secret| std::cmp::Reverse(secret.len()));
        secrets.dedup();
        secrets
    }
}

/// The password of a URL, as written and decoded; none when it has none.
fn url_password(url: &str) -> Vec<String> {
    let Some(password) = url::Url::parse(url)
        .ok()
        .and_then(|url| url.password().map(str::to_owned))
    else {
        return Vec::new();
    };
    let decoded = percent_encoding::percent_decode_str(&password)
        .decode_utf8()
        .map(|decoded| decoded.into_owned())
        .ok();
    [Some(password), decoded].into_iter().flatten().collect()
}

/// Runs every check: reads the configuration file, layers the environment over it, and
/// checks the result. Never fails: a problem is a failed [`Check`].
pub async fn run(options: &Options) -> Vec<Check> {
    let mut checks = Vec::new();
    let file = match &options.env_file {
        Some(path) => match envfile::load(path) {
            Ok(settings) => {
                checks.push(Check::ok(
                    "env file",
                    format!("{}: {} setting(s)", path.display(), settings.len()),
                ));
                settings
            }
            Err(error) => {
                checks.push(Check::fail(
                    "env file",
                    format!("{error} (posture serve --config would refuse to start)"),
                ));
                Vec::new()
            }
        },
        None => Vec::new(),
    };
    let env = Environment::layered(file);
    checks.extend(check_environment(&env, options.database_url.as_deref()).await);
    scrub(checks, &env)
}

/// Every check but the configuration file's, over `env`.
pub async fn check_environment(env: &Environment, database_url: Option<&str>) -> Vec<Check> {
    let mut checks = vec![unknown_variables(env), settings_file(env)];
    let url = database_url
        .map(str::to_owned)
        .or_else(|| env.owned(DATABASE_URL_VAR))
        .unwrap_or_else(|| DEFAULT_DATABASE_URL.to_owned());
    let (database_check, stored) = database(&url).await;
    checks.push(database_check);

    let http = match reqwest::Client::builder()
        .user_agent(USER_AGENT)
        .timeout(TIMEOUT)
        .connect_timeout(TIMEOUT)
        // A redirect is reported, not followed: a token header must not travel elsewhere.
        .redirect(reqwest::redirect::Policy::none())
        .build()
    {
        Ok(http) => Some(http),
        Err(error) => {
            checks.push(Check::fail(
                "HTTP client",
                format!("cannot set up an HTTP client: {error}"),
            ));
            None
        }
    };
    let github_config = GitHubConfig::from_vars(|name| env.owned(name));
    let github_in_env = !matches!(github_config, Ok(None));
    let github_configured = github_in_env || stored.is_some();
    let gitlab_configured = env.get(gitlab::TOKEN_VAR).is_some();
    if !github_configured && !gitlab_configured {
        checks.push(Check::warn(
            "forges",
            format!(
                "no forge credentials: posture serve only receives uploads and webhooks it \
                 cannot act on; for GitHub set {} (or {} with {}, see \"Run as a GitHub App\"), \
                 for GitLab {} (see \"Run for GitLab\")",
                github::ENV_TOKEN,
                github::ENV_APP_ID,
                github::ENV_PRIVATE_KEY_FILE,
                gitlab::TOKEN_VAR
            ),
        ));
    }
    if let Some(http) = &http {
        match (github_config, &stored) {
            (Ok(Some(config)), _) => checks.push(github_credentials(http, config).await),
            (Err(error), _) => checks.push(Check::fail("GitHub", error.to_string())),
            (Ok(None), Some(app)) => checks.push(stored_github_app(env, app)),
            (Ok(None), None) if gitlab_configured => checks.push(Check::ok(
                "GitHub",
                format!(
                    "not configured (optional: set {} or {} with {})",
                    github::ENV_TOKEN,
                    github::ENV_APP_ID,
                    github::ENV_PRIVATE_KEY_FILE
                ),
            )),
            (Ok(None), None) => {}
        }
        if gitlab_configured {
            checks.extend(gitlab_credentials(http, env).await);
        } else if github_configured {
            checks.push(Check::ok(
                "GitLab",
                format!("not configured (optional: set {})", gitlab::TOKEN_VAR),
            ));
        }
    }
    let stored_secret = stored.is_some() && env.get(SECRET_KEY_VAR).is_some();
    checks.extend(webhook_secrets(
        env,
        github_configured,
        stored_secret,
        gitlab_configured,
    ));
    checks.push(public_url(env));
    checks.push(dashboard_sign_in(env));
    let mut checks = scrub(checks, env);
    // A password in a `--database` URL, which the environment does not know.
    for password in url_password(&url) {
        for check in &mut checks {
            check.message = check.message.replace(&password, "[redacted]");
        }
    }
    checks
}

/// Whether anything failed.
pub fn failed(checks: &[Check]) -> bool {
    checks.iter().any(|check| check.status == Status::Fail)
}

/// The checks with every secret value of `env` replaced by `[redacted]`.
pub fn scrub(mut checks: Vec<Check>, env: &Environment) -> Vec<Check> {
    let secrets = env.secrets();
    for check in &mut checks {
        for secret in &secrets {
            if check.message.contains(secret.as_str()) {
                check.message = check.message.replace(secret.as_str(), "[redacted]");
            }
        }
    }
    checks
}

/// `POSTURE_*` names posture does not read (names only: values may be secrets).
fn unknown_variables(env: &Environment) -> Check {
    let unknown = variables::unknown(env.vars.keys().cloned());
    if unknown.is_empty() {
        return Check::ok("variables", "every POSTURE_* variable is one posture reads");
    }
    let named: Vec<String> = unknown
        .into_iter()
        .map(|(name, guess)| match guess {
            Some(guess) => format!("{name} (did you mean {guess}?)"),
            None => name,
        })
        .collect();
    Check::warn(
        "variables",
        format!(
            "unknown, so ignored: {}; rename or remove them",
            named.join(", ")
        ),
    )
}

fn settings_file(env: &Environment) -> Check {
    let Some(path) = env.get(SETTINGS_FILE_VAR) else {
        return Check::ok(
            "settings file",
            format!("{SETTINGS_FILE_VAR} is not set: posture's default SLA days apply"),
        );
    };
    match Settings::load(Path::new(path.trim())) {
        Ok(settings) => Check::ok(
            "settings file",
            format!(
                "{}: valid ({} org(s) with settings of their own)",
                path.trim(),
                settings.orgs.len()
            ),
        ),
        Err(error) => Check::fail(
            "settings file",
            format!("{error} (fix the file or unset {SETTINGS_FILE_VAR})"),
        ),
    }
}

/// A database URL fit to show: no password, no query.
fn shown_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) => {
            if parsed.password().is_some() {
                let _ = parsed.set_password(Some("***"));
            }
            if parsed.query().is_some() {
                parsed.set_query(Some("***"));
            }
            parsed.to_string()
        }
        Err(_) => "the database URL".to_owned(),
    }
}

/// The GitHub App the setup flow (`/setup/github`) stored in the database, which
/// `posture serve` uses when the environment configures no GitHub credentials. Its key and
/// webhook secret stay sealed: doctor reads only who it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredApp {
    pub app_id: i64,
    pub slug: String,
    pub html_url: String,
}

/// Reads the stored GitHub App; none when there is no such row or table.
const STORED_APP_SQL: &str =
    "SELECT app_id, slug, html_url FROM forge_credentials WHERE forge = 'github'";

fn stored_app(row: Result<Option<(i64, String, String)>, sqlx::Error>) -> Option<StoredApp> {
    row.ok()
        .flatten()
        .map(|(app_id, slug, html_url)| StoredApp {
            app_id,
            slug,
            html_url,
        })
}

/// Connects without creating anything, compares the applied migrations with this
/// posture's, and reads the GitHub App the setup flow stored, if any.
async fn database(url: &str) -> (Check, Option<StoredApp>) {
    const NAME: &str = "database";
    let shown = shown_url(url);
    let cannot = |error: &dyn fmt::Display| {
        Check::fail(
            NAME,
            format!("cannot connect to {shown}: {error} (check --database or {DATABASE_URL_VAR})"),
        )
    };
    if url.starts_with("sqlite:") {
        let options = match sqlx::sqlite::SqliteConnectOptions::from_str(url) {
            Ok(options) => options,
            Err(error) => return (cannot(&error), None),
        };
        if url.contains(":memory:") || url.contains("mode=memory") {
            let check = Check::warn(
                NAME,
                format!("{shown} is in memory: nothing survives a restart"),
            );
            return (check, None);
        }
        let file = options.get_filename().to_path_buf();
        if !file.exists() {
            let check = Check::warn(
                NAME,
                format!(
                    "{shown}: {} does not exist yet; run `posture migrate` to create it \
                     (`posture serve` does too)",
                    file.display()
                ),
            );
            return (check, None);
        }
        let options = options
            .create_if_missing(false)
            .busy_timeout(Duration::from_secs(5));
        let mut connection =
            match tokio::time::timeout(TIMEOUT, sqlx::SqliteConnection::connect_with(&options))
                .await
            {
                Ok(Ok(connection)) => connection,
                Ok(Err(error)) => return (cannot(&error), None),
                Err(_) => return (cannot(&"no answer in time"), None),
            };
        let table = sqlx::query_scalar::<_, i64>(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations'",
        )
        .fetch_one(&mut connection)
        .await
        .map(|count| count > 0);
        let check = migrations(
            &mut connection,
            table,
            &sqlx::migrate!("./migrations/sqlite"),
            &shown,
        )
        .await;
        let app = stored_app(
            sqlx::query_as(STORED_APP_SQL)
                .fetch_optional(&mut connection)
                .await,
        );
        let _ = connection.close().await;
        (check, app)
    } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
        let options = match sqlx::postgres::PgConnectOptions::from_str(url) {
            Ok(options) => options,
            Err(error) => return (cannot(&error), None),
        };
        let mut connection =
            match tokio::time::timeout(TIMEOUT, sqlx::PgConnection::connect_with(&options)).await {
                Ok(Ok(connection)) => connection,
                Ok(Err(error)) => return (cannot(&error), None),
                Err(_) => return (cannot(&"no answer in time"), None),
            };
        let table =
            sqlx::query_scalar::<_, bool>("SELECT to_regclass('_sqlx_migrations') IS NOT NULL")
                .fetch_one(&mut connection)
                .await;
        let check = migrations(
            &mut connection,
            table,
            &sqlx::migrate!("./migrations/postgres"),
            &shown,
        )
        .await;
        let app = stored_app(
            sqlx::query_as(STORED_APP_SQL)
                .fetch_optional(&mut connection)
                .await,
        );
        let _ = connection.close().await;
        (check, app)
    } else {
        let check = Check::fail(
            NAME,
            format!(
                "{shown} is not a database URL posture speaks: expected sqlite://PATH or \
                 postgres://USER@HOST/DB"
            ),
        );
        (check, None)
    }
}

/// The database's migrations against `migrator`'s. `table`: whether sqlx's bookkeeping
/// table exists (no migration ever ran when it does not).
async fn migrations<C: Migrate>(
    connection: &mut C,
    table: Result<bool, sqlx::Error>,
    migrator: &Migrator,
    shown: &str,
) -> Check {
    const NAME: &str = "database";
    let known: Vec<_> = migrator
        .iter()
        .filter(|m| !m.migration_type.is_down_migration())
        .collect();
    match table {
        Err(error) => return Check::fail(NAME, format!("{shown}: cannot read it: {error}")),
        Ok(false) => {
            return Check::warn(
                NAME,
                format!(
                    "{shown}: connected, but no migration is applied yet ({} to apply): run \
                     `posture migrate` (`posture serve` applies them when it starts)",
                    known.len()
                ),
            );
        }
        Ok(true) => {}
    }
    match connection.dirty_version().await {
        Ok(Some(version)) => {
            return Check::fail(
                NAME,
                format!(
                    "{shown}: migration {version} failed halfway; repair the schema by hand, \
                     delete its row from _sqlx_migrations, then run `posture migrate`"
                ),
            );
        }
        Ok(None) => {}
        Err(error) => return Check::fail(NAME, format!("{shown}: cannot read it: {error}")),
    }
    let applied = match connection.list_applied_migrations().await {
        Ok(applied) => applied,
        Err(error) => return Check::fail(NAME, format!("{shown}: cannot read it: {error}")),
    };
    let unknown: Vec<String> = applied
        .iter()
        .filter(|a| !known.iter().any(|m| m.version == a.version))
        .map(|a| a.version.to_string())
        .collect();
    if !unknown.is_empty() {
        return Check::fail(
            NAME,
            format!(
                "{shown}: migration(s) {} were applied by a newer posture than this one: \
                 upgrade posture",
                unknown.join(", ")
            ),
        );
    }
    let changed: Vec<String> = applied
        .iter()
        .filter(|a| {
            known
                .iter()
                .any(|m| m.version == a.version && m.checksum != a.checksum)
        })
        .map(|a| a.version.to_string())
        .collect();
    if !changed.is_empty() {
        return Check::fail(
            NAME,
            format!(
                "{shown}: migration(s) {} differ from the ones applied: this posture and the \
                 database do not belong together",
                changed.join(", ")
            ),
        );
    }
    let pending: Vec<String> = known
        .iter()
        .filter(|m| !applied.iter().any(|a| a.version == m.version))
        .map(|m| format!("{} {}", m.version, m.description))
        .collect();
    if pending.is_empty() {
        Check::ok(
            NAME,
            format!(
                "{shown}: connected; schema up to date ({} migrations)",
                known.len()
            ),
        )
    } else {
        Check::warn(
            NAME,
            format!(
                "{shown}: connected; {} migration(s) not applied yet ({}): run `posture migrate` \
                 (`posture serve` applies them when it starts)",
                pending.len(),
                pending.join(", ")
            ),
        )
    }
}

/// One answer from a forge.
struct Answer {
    status: u16,
    headers: HeaderMap,
    body: String,
}

impl Answer {
    fn json(&self) -> Option<Value> {
        serde_json::from_str(&self.body).ok()
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The forge's own words: `message` (or `error`) of a JSON body, else the text, clipped.
    fn message(&self) -> String {
        let text = match self.json() {
            Some(value) => match value.get("message").or_else(|| value.get("error")) {
                Some(Value::String(text)) => text.clone(),
                Some(other) => other.to_string(),
                None => value.to_string(),
            },
            None => self.body.split_whitespace().collect::<Vec<_>>().join(" "),
        };
        let text = if text.is_empty() {
            "no message".to_owned()
        } else {
            text
        };
        match text.char_indices().nth(MESSAGE_CHARS) {
            Some((end, _)) => format!("{}…", &text[..end]),
            None => text,
        }
    }

    /// `401 Bad credentials`, or where a redirect leads.
    fn describe(&self) -> String {
        if (300..400).contains(&self.status) {
            return format!(
                "{} redirect to {}",
                self.status,
                self.header("location").unwrap_or("nowhere")
            );
        }
        format!("{}: {}", self.status, self.message())
    }
}

/// How a request proves who it is.
enum Credential<'a> {
    /// `Authorization: Bearer …` (GitHub tokens and JWTs).
    Bearer(&'a str),
    /// `PRIVATE-TOKEN: …` (GitLab).
    PrivateToken(&'a str),
}

/// `GET url` with the credential in a header marked sensitive. The error is the transport's,
/// with its causes (no secret is in a URL).
async fn get(
    http: &reqwest::Client,
    url: &str,
    credential: Credential<'_>,
) -> Result<Answer, String> {
    let (name, value) = match credential {
        Credential::Bearer(token) => ("authorization", format!("Bearer {token}")),
        Credential::PrivateToken(token) => ("private-token", token.to_owned()),
    };
    let mut value = HeaderValue::from_str(&value)
        .map_err(|_| "the credential is not usable in an HTTP header".to_owned())?;
    value.set_sensitive(true);
    let response = http
        .get(url)
        .header(name, value)
        .header("accept", "application/json")
        .header("x-github-api-version", "2022-11-28")
        .send()
        .await
        .map_err(|error| {
            let mut message = error.to_string();
            let mut source = std::error::Error::source(&error);
            while let Some(cause) = source {
                message.push_str(": ");
                message.push_str(&cause.to_string());
                source = cause.source();
            }
            message
        })?;
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response.text().await.unwrap_or_default();
    Ok(Answer {
        status,
        headers,
        body,
    })
}

/// The date a `YYYY-MM-DD…` text starts with.
fn date_prefix(text: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(text.trim().get(..10)?, "%Y-%m-%d").ok()
}

/// How an expiry date reads, and whether it is near.
fn expiry(expires: NaiveDate, today: NaiveDate) -> (Status, String) {
    let days = (expires - today).num_days();
    if days < 0 {
        (Status::Fail, format!("expired on {expires}"))
    } else if days <= EXPIRY_WARNING_DAYS {
        (
            Status::Warn,
            format!("expires on {expires}, in {days} day(s): rotate it soon"),
        )
    } else {
        (Status::Ok, format!("expires on {expires}"))
    }
}

async fn github_credentials(http: &reqwest::Client, config: GitHubConfig) -> Check {
    let api = config.api_url.trim().trim_end_matches('/').to_owned();
    match config.credentials {
        GitHubCredentials::Token(token) => github_token(http, &api, &token).await,
        // The server's settings never name one: it serves `posture review --publish` only.
        GitHubCredentials::Actions(_) => Check::warn(
            "GitHub",
            "a GitHub Actions job token works only inside its job (posture review --publish)",
        ),
        GitHubCredentials::App {
            app_id,
            private_key_pem,
        } => github_app(http, &api, app_id, &private_key_pem).await,
    }
}

/// `GET /user` with the token: whose it is and, for a classic token, its scopes.
async fn github_token(http: &reqwest::Client, api: &str, token: &SecretString) -> Check {
    const NAME: &str = "GitHub";
    let answer = match get(
        http,
        &format!("{api}/user"),
        Credential::Bearer(token.expose_secret()),
    )
    .await
    {
        Ok(answer) => answer,
        Err(error) => {
            return Check::fail(
                NAME,
                format!(
                    "cannot reach {api}: {error} (check {})",
                    github::ENV_API_URL
                ),
            );
        }
    };
    match answer.status {
        200 => {}
        401 => {
            return Check::fail(
                NAME,
                format!(
                    "GitHub refused {} ({}): the token is wrong, expired or revoked; create \
                     a new one",
                    github::ENV_TOKEN,
                    answer.describe()
                ),
            );
        }
        _ => {
            return Check::fail(
                NAME,
                format!(
                    "GET {api}/user with {}: {}",
                    github::ENV_TOKEN,
                    answer.describe()
                ),
            );
        }
    }
    let login = answer
        .json()
        .and_then(|user| user.get("login")?.as_str().map(str::to_owned))
        .unwrap_or_else(|| "an unnamed user".to_owned());
    let (mut status, mut message) = match answer.header("x-oauth-scopes") {
        Some(scopes) => {
            let scopes: Vec<&str> = scopes
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .collect();
            let listed = if scopes.is_empty() {
                "none".to_owned()
            } else {
                scopes.join(", ")
            };
            if scopes.contains(&"repo") {
                (
                    Status::Ok,
                    format!("token of {login} at {api} (classic; scopes: {listed})"),
                )
            } else if scopes.contains(&"public_repo") {
                (
                    Status::Warn,
                    format!(
                        "classic token of {login} at {api} without the `repo` scope (scopes: \
                         {listed}): public repositories only; give it `repo` for private ones"
                    ),
                )
            } else {
                (
                    Status::Fail,
                    format!(
                        "classic token of {login} at {api} without the `repo` scope (scopes: \
                         {listed}): posture cannot read pull requests or set statuses; give \
                         it `repo`"
                    ),
                )
            }
        }
        None => (
            Status::Ok,
            format!(
                "token of {login} at {api} (fine-grained: GitHub does not tell its permissions; \
                 it needs contents read, pull requests write, commit statuses write, actions read)"
            ),
        ),
    };
    if let Some(expires) = answer
        .header("github-authentication-token-expiration")
        .and_then(date_prefix)
    {
        let (expiry_status, text) = expiry(expires, Utc::now().date_naive());
        status = status.max(expiry_status);
        message.push_str(&format!("; {text}"));
    }
    Check::new(status, NAME, message)
}

/// The App's JWT: RS256, issued a minute ago (clock drift), valid nine minutes.
fn app_jwt(app_id: u64, private_key_pem: &SecretString) -> Result<String, String> {
    use octocrab::jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
    let key = EncodingKey::from_rsa_pem(private_key_pem.expose_secret().as_bytes())
        .map_err(|_| format!("{} is not an RSA private key", github::ENV_PRIVATE_KEY_FILE))?;
    let now = Utc::now().timestamp();
    let claims = serde_json::json!({ "iat": now - 60, "exp": now + 540, "iss": app_id });
    encode(&Header::new(Algorithm::RS256), &claims, &key)
        .map_err(|_| format!("cannot sign a JWT with {}", github::ENV_PRIVATE_KEY_FILE))
}

/// `GET /app` with the App's JWT (its slug), then `GET /app/installations` (how many).
async fn github_app(
    http: &reqwest::Client,
    api: &str,
    app_id: u64,
    private_key_pem: &SecretString,
) -> Check {
    const NAME: &str = "GitHub";
    let jwt = match app_jwt(app_id, private_key_pem) {
        Ok(jwt) => jwt,
        Err(error) => return Check::fail(NAME, error),
    };
    let answer = match get(http, &format!("{api}/app"), Credential::Bearer(&jwt)).await {
        Ok(answer) => answer,
        Err(error) => {
            return Check::fail(
                NAME,
                format!(
                    "cannot reach {api}: {error} (check {})",
                    github::ENV_API_URL
                ),
            );
        }
    };
    if answer.status != 200 {
        return Check::fail(
            NAME,
            format!(
                "GitHub refused the App's JWT ({}): check that {} ({app_id}) is the App whose \
                 private key {} holds, and that this machine's clock is right",
                answer.describe(),
                github::ENV_APP_ID,
                github::ENV_PRIVATE_KEY_FILE
            ),
        );
    }
    let app = answer.json().unwrap_or(Value::Null);
    let slug = app
        .get("slug")
        .and_then(Value::as_str)
        .unwrap_or("unnamed")
        .to_owned();
    let page_url = app
        .get("html_url")
        .and_then(Value::as_str)
        .map(str::to_owned);
    let mut accounts = Vec::new();
    let mut url = Some(format!("{api}/app/installations?per_page=100"));
    let mut pages = 0;
    while let Some(next) = url.take() {
        pages += 1;
        let answer = match get(http, &next, Credential::Bearer(&jwt)).await {
            Ok(answer) if answer.status == 200 => answer,
            Ok(answer) => {
                return Check::fail(
                    NAME,
                    format!(
                        "App {slug} (id {app_id}): listing its installations: {}",
                        answer.describe()
                    ),
                );
            }
            Err(error) => {
                return Check::fail(
                    NAME,
                    format!("App {slug} (id {app_id}): listing its installations: {error}"),
                );
            }
        };
        for installation in answer
            .json()
            .and_then(|v| v.as_array().cloned())
            .unwrap_or_default()
        {
            accounts.push(
                installation
                    .pointer("/account/login")
                    .and_then(Value::as_str)
                    .unwrap_or("?")
                    .to_owned(),
            );
        }
        if pages < MAX_INSTALLATION_PAGES {
            url = answer.header("link").and_then(next_link);
        }
    }
    if accounts.is_empty() {
        let install = page_url
            .map(|page| format!(" ({page}/installations/new)"))
            .unwrap_or_default();
        return Check::warn(
            NAME,
            format!(
                "App {slug} (id {app_id}) at {api} is installed nowhere: install it on the \
                 repositories posture should review{install}"
            ),
        );
    }
    let shown: Vec<&str> = accounts.iter().take(5).map(String::as_str).collect();
    let more = if accounts.len() > shown.len() {
        ", …"
    } else {
        ""
    };
    Check::ok(
        NAME,
        format!(
            "App {slug} (id {app_id}) at {api}, {} installation(s): {}{more}",
            accounts.len(),
            shown.join(", ")
        ),
    )
}

/// The `rel="next"` URL of a `Link` header.
fn next_link(link: &str) -> Option<String> {
    link.split(',').find_map(|part| {
        let (url, params) = part.split_once(';')?;
        params
            .split(';')
            .any(|p| p.trim() == "rel=\"next\"")
            .then(|| {
                url.trim()
                    .trim_start_matches('<')
                    .trim_end_matches('>')
                    .to_owned()
            })
    })
}

/// `GET /user` (whose token) and `GET /personal_access_tokens/self` (its scopes and
/// expiry).
async fn gitlab_credentials(http: &reqwest::Client, env: &Environment) -> Vec<Check> {
    const NAME: &str = "GitLab";
    let client = match GitLabClient::from_vars(|name| env.owned(name)) {
        Ok(Some(client)) => client,
        Ok(None) => return Vec::new(),
        Err(error) => return vec![Check::fail(NAME, error.to_string())],
    };
    let base = client.base_url().to_owned();
    let token = env.get(gitlab::TOKEN_VAR).unwrap_or_default().trim();
    let answer = match get(
        http,
        &format!("{base}/api/v4/user"),
        Credential::PrivateToken(token),
    )
    .await
    {
        Ok(answer) => answer,
        Err(error) => {
            return vec![Check::fail(
                NAME,
                format!("cannot reach {base}: {error} (check {})", gitlab::URL_VAR),
            )];
        }
    };
    match answer.status {
        200 => {}
        401 => {
            return vec![Check::fail(
                NAME,
                format!(
                    "GitLab at {base} refused {} ({}): the token is wrong, expired or revoked; \
                     create a project or group access token with the `api` scope",
                    gitlab::TOKEN_VAR,
                    answer.describe()
                ),
            )];
        }
        403 => {
            return vec![Check::fail(
                NAME,
                format!(
                    "GitLab at {base} answered GET /user with {} ({}): the token lacks the \
                     `api` scope",
                    answer.describe(),
                    gitlab::TOKEN_VAR
                ),
            )];
        }
        _ => {
            return vec![Check::fail(
                NAME,
                format!(
                    "GET {base}/api/v4/user with {}: {} (is {} the instance's URL?)",
                    gitlab::TOKEN_VAR,
                    answer.describe(),
                    gitlab::URL_VAR
                ),
            )];
        }
    }
    let username = answer
        .json()
        .and_then(|user| user.get("username")?.as_str().map(str::to_owned))
        .unwrap_or_else(|| "an unnamed user".to_owned());
    let mut checks = vec![Check::ok(NAME, format!("token of @{username} at {base}"))];
    checks.push(
        match get(
            http,
            &format!("{base}/api/v4/personal_access_tokens/self"),
            Credential::PrivateToken(token),
        )
        .await
        {
            Ok(answer) if answer.status == 200 => gitlab_token(
                &answer.json().unwrap_or(Value::Null),
                Utc::now().date_naive(),
            ),
            Ok(answer) => Check::warn(
                "GitLab token",
                format!(
                    "cannot read the token's scopes ({}; GitLab 15.5 or later tells them): make \
                     sure it has the `api` scope",
                    answer.describe()
                ),
            ),
            Err(error) => Check::warn(
                "GitLab token",
                format!("cannot read the token's scopes: {error}"),
            ),
        },
    );
    checks
}

/// The answer of `GET /personal_access_tokens/self`, judged on `today`.
fn gitlab_token(token: &Value, today: NaiveDate) -> Check {
    const NAME: &str = "GitLab token";
    let name = token
        .get("name")
        .and_then(Value::as_str)
        .map(|name| format!("\"{name}\" "))
        .unwrap_or_default();
    let scopes: Vec<&str> = token
        .get("scopes")
        .and_then(Value::as_array)
        .map(|scopes| scopes.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let listed = if scopes.is_empty() {
        "none".to_owned()
    } else {
        scopes.join(", ")
    };
    if token.get("revoked").and_then(Value::as_bool) == Some(true)
        || token.get("active").and_then(Value::as_bool) == Some(false)
    {
        return Check::fail(
            NAME,
            format!("token {name}is revoked or inactive: create a new one with the `api` scope"),
        );
    }
    if !scopes.contains(&"api") {
        return Check::fail(
            NAME,
            format!(
                "token {name}lacks the `api` scope (scopes: {listed}): posture needs it to \
                 comment and set commit statuses; create a token with `api`"
            ),
        );
    }
    let expires = token
        .get("expires_at")
        .and_then(Value::as_str)
        .and_then(date_prefix);
    match expires {
        Some(expires) => {
            let (status, text) = expiry(expires, today);
            Check::new(
                status,
                NAME,
                format!("token {name}(scopes: {listed}) {text}"),
            )
        }
        None => Check::ok(
            NAME,
            format!("token {name}(scopes: {listed}) does not expire"),
        ),
    }
}

/// The GitHub App the setup flow stored, used when the environment configures none: it
/// needs the key that unseals it.
fn stored_github_app(env: &Environment, app: &StoredApp) -> Check {
    if env.get(SECRET_KEY_VAR).is_none() {
        return Check::fail(
            "GitHub",
            format!(
                "the database holds the GitHub App {} (id {}) created by /setup/github, but \
                 {SECRET_KEY_VAR} is not set: set it to the key the App was stored with, or \
                 configure GitHub in the environment",
                app.slug, app.app_id
            ),
        );
    }
    Check::ok(
        "GitHub",
        format!(
            "App {} (id {}) created by /setup/github, stored sealed in the database (install it \
             from {}/installations/new)",
            app.slug,
            app.app_id,
            app.html_url.trim_end_matches('/')
        ),
    )
}

/// The secrets of the webhooks of the configured forges (counted, never shown).
/// `stored`: the App stored by the setup flow brings its own GitHub webhook secret.
fn webhook_secrets(env: &Environment, github: bool, stored: bool, gitlab: bool) -> Vec<Check> {
    let secrets =
        WebhookSecrets::from_values(env.get(GITHUB_SECRET_VAR), env.get(GITLAB_TOKEN_VAR));
    let short = |secret: &str| secret.trim().chars().count() < SHORT_SECRET;
    let mut checks = Vec::new();
    let github_short = env
        .get(GITHUB_SECRET_VAR)
        .is_some_and(|all| all.split(',').any(|s| !s.trim().is_empty() && short(s)));
    match (github, secrets.github.len()) {
        (true, 0) if stored => checks.push(Check::ok(
            "GitHub webhook",
            format!(
                "{GITHUB_SECRET_VAR} is not set: the secret of the App stored by /setup/github \
                 is used"
            ),
        )),
        (true, 0) => checks.push(Check::fail(
            "GitHub webhook",
            format!(
                "{GITHUB_SECRET_VAR} is not set: posture refuses every delivery to \
                 /webhooks/github (401); set it to the webhook's secret"
            ),
        )),
        (false, 0) => {}
        (configured, count) => {
            let mut check = Check::ok(
                "GitHub webhook",
                format!("{GITHUB_SECRET_VAR} is set ({count} secret(s))"),
            );
            if github_short {
                check = Check::warn(
                    "GitHub webhook",
                    format!(
                        "{GITHUB_SECRET_VAR} holds a secret shorter than {SHORT_SECRET} \
                         characters: use a long random one (`openssl rand -hex 32`)"
                    ),
                );
            } else if !configured {
                check = Check::warn(
                    "GitHub webhook",
                    format!(
                        "{GITHUB_SECRET_VAR} is set but GitHub has no credentials: deliveries \
                         are accepted and their jobs end as not_configured"
                    ),
                );
            }
            checks.push(check);
        }
    }
    match (gitlab, &secrets.gitlab) {
        (true, None) => checks.push(Check::fail(
            "GitLab webhook",
            format!(
                "{GITLAB_TOKEN_VAR} is not set: posture refuses every delivery to \
                 /webhooks/gitlab (401); `posture gitlab hook add` makes a hook and its token"
            ),
        )),
        (false, None) => {}
        (configured, Some(_)) => {
            let value = env.get(GITLAB_TOKEN_VAR).unwrap_or_default();
            checks.push(if short(value) {
                Check::warn(
                    "GitLab webhook",
                    format!(
                        "{GITLAB_TOKEN_VAR} is shorter than {SHORT_SECRET} characters: use a \
                         long random one (`posture gitlab hook add` makes one)"
                    ),
                )
            } else if !configured {
                Check::warn(
                    "GitLab webhook",
                    format!(
                        "{GITLAB_TOKEN_VAR} is set but GitLab has no credentials: deliveries \
                         are accepted and their jobs end as not_configured"
                    ),
                )
            } else {
                Check::ok("GitLab webhook", format!("{GITLAB_TOKEN_VAR} is set"))
            });
        }
    }
    checks
}

/// `POSTURE_PUBLIC_URL`: an absolute https URL (plain http only for this machine).
/// The dashboard's sign-in settings: `POSTURE_SESSION_HOURS` and `POSTURE_TRUSTED_PROXIES`
/// parse, whether session cookies will be `Secure`, and which sign-in providers are
/// configured (each whole, with the public URL they call back to).
fn dashboard_sign_in(env: &Environment) -> Check {
    const NAME: &str = "dashboard sign-in";
    match crate::web::WebConfig::from_vars(|name| env.get(name).map(str::to_owned)) {
        Err(error) => Check::fail(NAME, error.to_string()),
        Ok(config) => {
            let providers = match crate::web::SignInConfig::from_vars(
                |name| env.get(name).map(str::to_owned),
                config.public_url.as_ref(),
            ) {
                Ok(signin) => signin.providers(),
                Err(error) => return Check::fail(NAME, error.to_string()),
            };
            let providers = if providers.is_empty() {
                "API tokens only".to_owned()
            } else {
                let names: Vec<&str> = providers.iter().map(|p| p.as_str()).collect();
                format!("API tokens and {}", names.join(", "))
            };
            let hours = config.session_lifetime.as_secs() / 3600;
            let secure = config
                .public_url
                .as_ref()
                .is_some_and(|url| url.scheme() == "https");
            let tls = match (secure, config.trusted_proxies.len()) {
                (true, _) => "cookies are Secure (https public URL)".to_owned(),
                (false, 0) => {
                    "cookies are Secure only behind an https POSTURE_PUBLIC_URL or a trusted proxy"
                        .to_owned()
                }
                (false, n) => {
                    format!("cookies are Secure when one of {n} trusted proxies says https")
                }
            };
            Check::ok(
                NAME,
                format!("sessions last {hours} h; {tls}; sign-in with {providers}"),
            )
        }
    }
}

fn public_url(env: &Environment) -> Check {
    const NAME: &str = "public URL";
    let Some(value) = env.get(PUBLIC_URL_VAR) else {
        return Check::warn(
            NAME,
            format!(
                "{PUBLIC_URL_VAR} is not set: set it to the https URL the forges reach posture \
                 at (e.g. https://posture.example.com); `posture gitlab hook add` builds the \
                 webhook URL from it"
            ),
        );
    };
    let url = match url::Url::parse(value.trim()) {
        Ok(url) => url,
        Err(error) => {
            return Check::fail(
                NAME,
                format!(
                    "{PUBLIC_URL_VAR} is not an absolute URL ({error}): give one like \
                     https://posture.example.com"
                ),
            );
        }
    };
    if !url.username().is_empty() || url.password().is_some() {
        return Check::fail(NAME, format!("{PUBLIC_URL_VAR} must not carry credentials"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Check::fail(
            NAME,
            format!("{PUBLIC_URL_VAR} ({url}) must not have a query or a fragment"),
        );
    }
    let Some(host) = url.host_str() else {
        return Check::fail(NAME, format!("{PUBLIC_URL_VAR} ({url}) has no host"));
    };
    let local =
        matches!(host, "localhost" | "127.0.0.1" | "[::1]" | "::1") || host.ends_with(".localhost");
    let base = url.as_str().trim_end_matches('/');
    match url.scheme() {
        "https" => Check::ok(
            NAME,
            format!("{base}: webhooks go to {base}/webhooks/github and {base}/webhooks/gitlab"),
        ),
        "http" if local => Check::warn(
            NAME,
            format!(
                "{base} is plain http on this machine: fine to try posture, but forges need an \
                 https URL to reach a real deployment"
            ),
        ),
        "http" => Check::fail(
            NAME,
            format!(
                "{base} is plain http: webhook secrets would cross the network in clear; use \
                 https (http is only for localhost)"
            ),
        ),
        scheme => Check::fail(
            NAME,
            format!("{PUBLIC_URL_VAR} has the scheme {scheme}: it must be https"),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Environment {
        Environment::from_pairs(pairs.iter().copied())
    }

    fn date(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn dashboard_sign_in_settings_are_checked() {
        let check = dashboard_sign_in(&env(&[("POSTURE_SESSION_HOURS", "12")]));
        assert_eq!(check.status, Status::Ok);
        assert!(check.message.contains("12 h"), "{}", check.message);
        assert!(
            check.message.contains("API tokens only"),
            "{}",
            check.message
        );
        let check = dashboard_sign_in(&env(&[("POSTURE_TRUSTED_PROXIES", "proxy")]));
        assert_eq!(check.status, Status::Fail);
        assert!(
            check.message.contains("POSTURE_TRUSTED_PROXIES"),
            "{}",
            check.message
        );
        let check = dashboard_sign_in(&env(&[
            ("POSTURE_GITHUB_CLIENT_ID", "Iv1.x"),
            ("POSTURE_GITHUB_CLIENT_SECRET", "shh-do-not-show"),
            ("POSTURE_PUBLIC_URL", "https://posture.example.com"),
        ]));
        assert_eq!(check.status, Status::Ok);
        assert!(
            check.message.contains("API tokens and github"),
            "{}",
            check.message
        );
        let check = dashboard_sign_in(&env(&[
            ("POSTURE_GITHUB_CLIENT_ID", "Iv1.x"),
            ("POSTURE_GITHUB_CLIENT_SECRET", "shh-do-not-show"),
        ]));
        assert_eq!(check.status, Status::Fail);
        assert!(
            check.message.contains("POSTURE_PUBLIC_URL") && !check.message.contains("shh"),
            "{}",
            check.message
        );
    }

    #[test]
    fn public_url_https_passes_local_http_warns_other_http_fails() {
        let status = |value: &str| public_url(&env(&[(PUBLIC_URL_VAR, value)])).status;
        assert_eq!(status("https://posture.example.com/"), Status::Ok);
        assert_eq!(status("https://example.com/posture"), Status::Ok);
        assert_eq!(status("http://localhost:8080"), Status::Warn);
        assert_eq!(status("http://127.0.0.1:8080"), Status::Warn);
        assert_eq!(status("http://posture.example.com"), Status::Fail);
        assert_eq!(status("posture.example.com"), Status::Fail);
        assert_eq!(status("ftp://posture.example.com"), Status::Fail);
        assert_eq!(status("https://u:p@posture.example.com"), Status::Fail);
        assert_eq!(public_url(&env(&[])).status, Status::Warn);
        let check = public_url(&env(&[(PUBLIC_URL_VAR, "https://p.example.com/")]));
        assert!(
            check
                .message
                .contains("https://p.example.com/webhooks/gitlab"),
            "{}",
            check.message
        );
    }

    #[test]
    fn a_gitlab_token_needs_api_and_near_expiry_is_warned() {
        let today = date("2025-03-01");
        let token = |scopes: &[&str], expires: Option<&str>| {
            gitlab_token(
                &serde_json::json!({"name": "posture", "scopes": scopes, "expires_at": expires,
                    "active": true, "revoked": false}),
                today,
            )
        };
        assert_eq!(token(&["api"], Some("2025-12-01")).status, Status::Ok);
        assert_eq!(token(&["api"], None).status, Status::Ok);
        let soon = token(&["api"], Some("2025-03-08"));
        assert_eq!(soon.status, Status::Warn);
        assert!(soon.message.contains("in 7 day(s)"), "{}", soon.message);
        assert_eq!(token(&["api"], Some("2025-02-28")).status, Status::Fail);
        let narrow = token(&["read_api", "read_repository"], Some("2025-12-01"));
        assert_eq!(narrow.status, Status::Fail);
        assert!(
            narrow.message.contains("read_api, read_repository"),
            "{}",
            narrow.message
        );
        // A timestamp, as some versions answer, reads as its date.
        assert_eq!(
            token(&["api"], Some("2025-03-02T00:00:00.000Z")).status,
            Status::Warn
        );
    }

    #[test]
    fn webhook_secrets_are_required_for_configured_forges_and_never_shown() {
        let checks = webhook_secrets(&env(&[]), true, false, true);
        assert_eq!(checks.len(), 2);
        assert!(checks.iter().all(|c| c.status == Status::Fail));
        let value = "a-long-webhook-secret-value-123";
        let checks = webhook_secrets(
            &env(&[(GITHUB_SECRET_VAR, value), (GITLAB_TOKEN_VAR, value)]),
            true,
            false,
            true,
        );
        assert!(checks.iter().all(|c| c.status == Status::Ok), "{checks:?}");
        assert!(checks.iter().all(|c| !c.message.contains(value)));
        let checks = webhook_secrets(&env(&[(GITHUB_SECRET_VAR, "short")]), true, false, false);
        assert_eq!(checks[0].status, Status::Warn);
        // No forge, no secret: nothing to say.
        assert!(webhook_secrets(&env(&[]), false, false, false).is_empty());
    }

    #[test]
    fn scrub_replaces_every_secret_value_and_database_password() {
        let env = env(&[
            ("POSTURE_GITHUB_TOKEN", "ghp_abcdef123456"),
            (
                "POSTURE_GITHUB_WEBHOOK_SECRET",
                "first-secret, second-secret",
            ),
            ("POSTURE_DATABASE_URL", "postgres://u:pa%24ss@db/posture"),
            ("POSTURE_LISTEN", "0.0.0.0:8080"),
        ]);
        let checks = scrub(
            vec![Check::fail(
                "x",
                "ghp_abcdef123456 second-secret pa$ss pa%24ss 0.0.0.0:8080",
            )],
            &env,
        );
        assert_eq!(
            checks[0].message,
            "[redacted] [redacted] [redacted] [redacted] 0.0.0.0:8080"
        );
        assert!(!format!("{env:?}").contains("ghp_"));
    }

    #[test]
    fn unknown_variables_are_named_with_their_likely_meaning() {
        // Spelt in two pieces: the crate's scan for variable names must not see a typo here.
        let typo = concat!("POSTURE_", "LISTN");
        let check = unknown_variables(&env(&[(typo, "x"), ("POSTURE_LISTEN", "y")]));
        assert_eq!(check.status, Status::Warn);
        assert!(
            check
                .message
                .contains(&format!("{typo} (did you mean POSTURE_LISTEN?)")),
            "{}",
            check.message
        );
        assert_eq!(
            unknown_variables(&env(&[("POSTURE_LISTEN", "y")])).status,
            Status::Ok
        );
    }

    #[test]
    fn next_link_finds_the_next_page() {
        let link = "<https://api.github.com/app/installations?page=2>; rel=\"next\", \
                    <https://api.github.com/app/installations?page=5>; rel=\"last\"";
        assert_eq!(
            next_link(link).as_deref(),
            Some("https://api.github.com/app/installations?page=2")
        );
        assert_eq!(next_link("<https://x/?page=1>; rel=\"prev\""), None);
    }

    #[tokio::test]
    async fn a_missing_sqlite_file_is_not_created_and_says_posture_migrate() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("posture.db");
        let (check, _) = database(&format!("sqlite://{}", file.display())).await;
        assert_eq!(check.status, Status::Warn);
        assert!(
            check.message.contains("posture migrate"),
            "{}",
            check.message
        );
        assert!(!file.exists());
        let (check, _) = database("mysql://db/posture").await;
        assert_eq!(check.status, Status::Fail);
    }

    #[tokio::test]
    async fn pending_migrations_warn_and_a_migrated_database_passes() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("posture.db").display());
        // An empty database: connected, nothing applied.
        let options = sqlx::sqlite::SqliteConnectOptions::from_str(&url)
            .unwrap()
            .create_if_missing(true);
        let connection = sqlx::SqliteConnection::connect_with(&options)
            .await
            .unwrap();
        connection.close().await.unwrap();
        let (check, _) = database(&url).await;
        assert_eq!(check.status, Status::Warn, "{}", check.message);
        assert!(
            check.message.contains("posture migrate"),
            "{}",
            check.message
        );
        let store = crate::store::Store::connect(&url).await.unwrap();
        store.migrate().await.unwrap();
        store.close().await;
        let (check, _) = database(&url).await;
        assert_eq!(check.status, Status::Ok, "{}", check.message);
        assert!(check.message.contains("up to date"), "{}", check.message);
    }
    #[tokio::test]
    async fn the_app_stored_by_the_setup_flow_counts_as_github_and_needs_its_key() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("posture.db").display());
        let store = crate::store::Store::connect(&url).await.unwrap();
        store.migrate().await.unwrap();
        store.close().await;
        let options = sqlx::sqlite::SqliteConnectOptions::from_str(&url).unwrap();
        let mut connection = sqlx::SqliteConnection::connect_with(&options)
            .await
            .unwrap();
        sqlx::query(
            "INSERT INTO forge_credentials \
             (forge, app_id, slug, html_url, private_key, webhook_secret, created_at) \
             VALUES ('github', 99, 'posture-acme', 'https://github.com/apps/posture-acme', \
             x'00', x'00', '2025-01-01T00:00:00Z')",
        )
        .execute(&mut connection)
        .await
        .unwrap();
        connection.close().await.unwrap();
        let (_, stored) = database(&url).await;
        assert_eq!(
            stored,
            Some(StoredApp {
                app_id: 99,
                slug: "posture-acme".into(),
                html_url: "https://github.com/apps/posture-acme".into(),
            })
        );
        let find = |checks: &[Check], name: &str| {
            checks
                .iter()
                .find(|c| c.name == name)
                .cloned()
                .unwrap_or_else(|| panic!("no {name} in {checks:?}"))
        };
        // Without the key that unseals it, posture serve would refuse to start.
        let checks = check_environment(&env(&[]), Some(&url)).await;
        let github = find(&checks, "GitHub");
        assert_eq!(github.status, Status::Fail, "{}", github.message);
        assert!(
            github.message.contains(SECRET_KEY_VAR),
            "{}",
            github.message
        );
        assert!(checks.iter().all(|c| c.name != "forges"));
        let checks = check_environment(
            &env(&[(SECRET_KEY_VAR, "a-key-of-enough-length-for-this")]),
            Some(&url),
        )
        .await;
        let github = find(&checks, "GitHub");
        assert_eq!(github.status, Status::Ok, "{}", github.message);
        assert!(
            github.message.contains("posture-acme"),
            "{}",
            github.message
        );
        // Its webhook secret is stored with it.
        assert_eq!(find(&checks, "GitHub webhook").status, Status::Ok);
    }
}
