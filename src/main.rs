//! The `posture` command line: a thin edge over the library. Errors become exit code 2 with
//! a message naming the file and position; the gate decides between 0 and 1.

mod cmd;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};
use posture::analyze::feeds;
use posture::config::{self, Config};
use posture::jobs::{self, ForgeRunner, Forges, ReviewSettings, WorkerConfig};
use posture::model::FailOn;
use posture::model::Intel;
use posture::report::{self, Format};
use posture::review;
use posture::server::{self, AppState, Metrics, StoreIntake, WebhookSecrets};
use posture::store::Store;
use posture::store::intel::{IntelSources, refresh_intel, refresh_periodically};
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Notify, watch};

/// Exit codes of `posture review`.
const EXIT_GATE_FAILED: u8 = 1;
const EXIT_BAD_INPUT: u8 = 2;

#[derive(Parser)]
#[command(
    name = "posture",
    version,
    about = "Diff-aware, de-duplicated, prioritised security review of a change"
)]
struct Cli {
    /// Log as JSON lines instead of text (logs go to stderr).
    #[arg(long, global = true)]
    log_json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Review the change from BASE to HEAD of a local repository with the scanners' reports.
    Review(ReviewArgs),
    /// Work with `.posture.yml`.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Run the webhook server and its job workers.
    Serve(ServeArgs),
    /// Inspect the job queue.
    #[command(subcommand)]
    Jobs(JobsCommand),
    /// Create or update the database schema.
    Migrate(DatabaseArg),
    /// Check the configuration: variables, settings file, database, forge credentials,
    /// webhook secrets and public URL; exit 1 when a check fails.
    Doctor(cmd::doctor::DoctorArgs),
    /// GitLab setup: `posture gitlab hook add` creates posture's webhook.
    #[command(subcommand)]
    Gitlab(cmd::gitlab::GitlabCommand),
    /// Exploitation intelligence: CISA KEV and EPSS.
    #[command(subcommand)]
    Intel(IntelCommand),
    /// Triage decisions made with `/posture` commands.
    #[command(subcommand)]
    Triage(TriageCommand),
    /// API tokens of the org-wide API (`/api/v1`).
    #[command(subcommand)]
    Token(TokenCommand),
    /// Who reads what: `posture auth check` explains the orgs and repositories a person or
    /// token can read, and why.
    #[command(subcommand)]
    Auth(AuthCommand),
    /// Alert sinks of the settings file (POSTURE_SETTINGS_FILE): health, tests, retries.
    #[command(subcommand)]
    Sinks(SinksCommand),
    /// Write the SBOM (CycloneDX 1.6 or SPDX 2.3 JSON) of a revision of a local repository,
    /// from its manifests and lockfiles and any reports given.
    Sbom(cmd::sbom::SbomArgs),
    /// Send scanner reports to a posture server (`POST /api/v1/scans`); the token comes
    /// from POSTURE_TOKEN.
    Upload(UploadArgs),
    /// Print an org's summary (open findings, time to remediate, SLA, grades, hotspots)
    /// straight from the database.
    Report {
        #[command(flatten)]
        database: DatabaseArg,
        /// The GitHub owner or GitLab top-level group.
        #[arg(long)]
        org: String,
        #[arg(long, value_enum, default_value = "md")]
        format: cmd::report::ReportFormat,
        /// The period: the last this many days.
        #[arg(long, default_value_t = 30)]
        days: i64,
        /// Write the report to this file instead of standard output.
        #[arg(long)]
        output: Option<std::path::PathBuf>,
    },
}

#[derive(Subcommand)]
enum SinksCommand {
    /// Every sink with its health, queued, sent and dead messages, and events not read yet.
    List {
        #[command(flatten)]
        database: DatabaseArg,
    },
    /// Send a sample event to a sink now (outside the outbox); exit 1 when it is refused.
    Test {
        /// The sink's name.
        name: String,
        /// The org, when several have a sink of that name.
        #[arg(long)]
        org: Option<String>,
    },
    /// Queue a sink's dead messages (out of attempts) again.
    Retry {
        #[command(flatten)]
        database: DatabaseArg,
        name: String,
        #[arg(long)]
        org: Option<String>,
    },
}

#[derive(Subcommand)]
enum AuthCommand {
    /// Print the orgs and repositories a person or token can read, and why (which token,
    /// team, OIDC group or forge permission), asking the forge afresh.
    Check {
        #[command(flatten)]
        database: DatabaseArg,
        /// The person's forge login.
        #[arg(long, conflicts_with = "token_id")]
        user: Option<String>,
        /// The forge of --user.
        #[arg(long, default_value = "github", value_parser = parse_forge)]
        forge: posture::store::Forge,
        /// GitLab's numeric user id of --user (saves a lookup by username).
        #[arg(long, requires = "user")]
        user_id: Option<i64>,
        /// An OIDC group the person is in (repeat for several).
        #[arg(long = "group", conflicts_with = "token_id")]
        groups: Vec<String>,
        /// An API token, by the id `posture token list` shows.
        #[arg(long)]
        token_id: Option<i64>,
        #[arg(long, value_enum, default_value = "text")]
        format: cmd::auth::CheckFormat,
    },
}

fn parse_forge(text: &str) -> Result<posture::store::Forge, String> {
    text.parse::<posture::store::Forge>()
        .map_err(|_| format!("unknown forge `{text}` (expected github or gitlab)"))
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Create a token; it is printed alone on standard output, once (only its hash is kept).
    Create {
        #[command(flatten)]
        database: DatabaseArg,
        /// The org it reads and uploads to: the GitHub owner or GitLab top-level group.
        #[arg(long)]
        org: String,
        /// Comma-separated: read, upload, admin.
        #[arg(long)]
        scopes: String,
        /// What it is for (shown in `token list` and the audit log).
        #[arg(long)]
        name: Option<String>,
    },
    /// List tokens (never the tokens themselves).
    List {
        #[command(flatten)]
        database: DatabaseArg,
        #[arg(long)]
        org: Option<String>,
    },
    /// Revoke a token by its id.
    Revoke {
        #[command(flatten)]
        database: DatabaseArg,
        id: i64,
    },
}

#[derive(clap::Args)]
struct UploadArgs {
    /// The server's base URL, e.g. https://posture.example.com.
    #[arg(long, env = "POSTURE_SERVER")]
    server: String,
    /// `owner/name` (GitLab: `group/…/project`).
    #[arg(long, value_name = "OWNER/NAME")]
    repository: String,
    #[arg(long, value_enum, default_value = "github")]
    forge: ForgeArg,
    /// The scanned commit (40 hex digits).
    #[arg(long)]
    commit: String,
    /// The scanned branch.
    #[arg(long)]
    branch: String,
    /// This is a scan of the default branch: it becomes the baseline.
    #[arg(long, conflicts_with = "environment")]
    default_branch: bool,
    /// This is a scan of what a deployment runs (an SBOM or image scan of it): the server
    /// compares it with the default branch and ranks what it carries higher.
    #[arg(long, value_enum)]
    environment: Option<EnvironmentArg>,
    /// When the scan ran (RFC 3339; default: when the server receives it).
    #[arg(long)]
    observed_at: Option<String>,
    /// The reports (SARIF, CycloneDX, Trivy, …).
    #[arg(required = true)]
    reports: Vec<PathBuf>,
}

/// A deployment environment of `posture upload --environment`.
#[derive(Clone, Copy, clap::ValueEnum)]
enum EnvironmentArg {
    Production,
    Staging,
}

#[derive(Subcommand)]
enum TriageCommand {
    /// Write a repository's decisions as a VEX document (pending requests are left out).
    Export {
        #[command(flatten)]
        database: DatabaseArg,
        /// The repository: `owner/name` (GitHub) or `group/…/project` (GitLab).
        #[arg(long, value_name = "OWNER/NAME")]
        repo: String,
        #[arg(long, value_enum, default_value = "github")]
        forge: ForgeArg,
        #[arg(long, value_enum)]
        format: VexFormat,
        /// Write the document here instead of stdout.
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum ForgeArg {
    Github,
    Gitlab,
}

impl From<ForgeArg> for posture::store::Forge {
    fn from(forge: ForgeArg) -> Self {
        match forge {
            ForgeArg::Github => posture::store::Forge::GitHub,
            ForgeArg::Gitlab => posture::store::Forge::GitLab,
        }
    }
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum VexFormat {
    /// OpenVEX 0.2.0.
    Openvex,
    /// CycloneDX 1.6 with a `vulnerabilities` section (VEX).
    Cyclonedx,
}

#[derive(Subcommand)]
enum IntelCommand {
    /// Load the KEV catalog and EPSS scores into the database (a file path or a URL each;
    /// `--published` takes both from their publishers).
    Load {
        #[command(flatten)]
        database: DatabaseArg,
        /// `known_exploited_vulnerabilities.json`, as a path or URL.
        #[arg(long, value_name = "PATH|URL")]
        kev: Option<String>,
        /// `epss_scores-YYYY-MM-DD.csv.gz` (or uncompressed), as a path or URL.
        #[arg(long, value_name = "PATH|URL")]
        epss: Option<String>,
        /// Fetch both from CISA and FIRST (cyentia.com).
        #[arg(long, conflicts_with_all = ["kev", "epss"])]
        published: bool,
    },
    /// Show which feeds are loaded, from where and when.
    Status {
        #[command(flatten)]
        database: DatabaseArg,
    },
}

#[derive(clap::Args)]
struct DatabaseArg {
    /// `sqlite://FILE` (created if missing) or `postgres://USER@HOST/DB`.
    #[arg(
        long = "database",
        env = "POSTURE_DATABASE_URL",
        default_value = "sqlite://posture.db"
    )]
    url: String,
}

#[derive(clap::Args)]
struct ServeArgs {
    /// A file of `POSTURE_*=value` lines; the environment overrides it, flags override both.
    #[arg(long, env = "POSTURE_CONFIG")]
    config: Option<PathBuf>,
    /// Address to listen on (`127.0.0.1:0` picks a free port and prints it).
    #[arg(long, env = "POSTURE_LISTEN", default_value = "127.0.0.1:8080")]
    listen: String,
    #[command(flatten)]
    database: DatabaseArg,
    /// Job workers in this process (0: only receive webhooks; workers run elsewhere).
    #[arg(long, env = "POSTURE_WORKERS", default_value_t = 2)]
    workers: usize,
    /// Seconds a worker holds a job (or alert messages) before another process may take it
    /// over.
    #[arg(long, env = "POSTURE_JOB_LEASE_SECONDS", default_value_t = 300)]
    lease_seconds: u64,
    /// Minutes between reconciles of open change requests (0: never).
    #[arg(long, env = "POSTURE_RECONCILE_MINUTES", default_value_t = 30)]
    reconcile_minutes: u64,
    /// New inline comments per review at most (a repository's `.posture.yml` may say otherwise).
    #[arg(long, env = "POSTURE_MAX_INLINE_COMMENTS", default_value_t = 25)]
    max_inline_comments: usize,
    /// Reload the KEV catalog and EPSS scores every this many hours (0: never).
    #[arg(long, env = "POSTURE_INTEL_REFRESH_HOURS", default_value_t = 0)]
    intel_refresh_hours: u64,
    /// Where the refresh takes the KEV catalog from (path or URL).
    #[arg(long, env = "POSTURE_INTEL_KEV", default_value = posture::store::intel::KEV_URL)]
    intel_kev: String,
    /// Where the refresh takes the EPSS scores from (path or URL).
    #[arg(long, env = "POSTURE_INTEL_EPSS", default_value = posture::store::intel::EPSS_URL)]
    intel_epss: String,
    /// Serve `/metrics` on this address instead of the public one (e.g. `127.0.0.1:9090`).
    #[arg(long, env = "POSTURE_METRICS_LISTEN")]
    metrics_listen: Option<String>,
    /// Days webhook payloads, finished jobs and sent alerts are kept (0: forever). History is
    /// kept.
    #[arg(long, env = "POSTURE_RETAIN_DAYS", default_value_t = 30)]
    retain_days: u64,
    /// The first wait before an alert delivery is tried again; it doubles per attempt, up to
    /// an hour (a number and ms, s, m or h).
    #[arg(long, env = "POSTURE_ALERT_RETRY", default_value = "10s")]
    alert_retry: posture::alerts::rules::Window,
    /// Attempts before an alert message is dead (`posture sinks retry` queues it again).
    #[arg(long, env = "POSTURE_ALERT_MAX_ATTEMPTS", default_value_t = 12)]
    alert_max_attempts: i32,
    /// HTTP connections open at once; at the cap a new one evicts the oldest idle one.
    #[arg(long, env = "POSTURE_MAX_CONNECTIONS", default_value_t = 512)]
    max_connections: usize,
    /// How long a request's headers may take to arrive, and a connection may sit idle.
    #[arg(long, env = "POSTURE_HEADER_TIMEOUT", default_value = "10s")]
    header_timeout: posture::alerts::rules::Window,
    /// How long a webhook body may take to arrive.
    #[arg(long, env = "POSTURE_BODY_TIMEOUT", default_value = "30s")]
    body_timeout: posture::alerts::rules::Window,
    /// How long one review may run; past it the job ends with the reason, on the gate too.
    #[arg(long, env = "POSTURE_REVIEW_TIMEOUT", default_value = "10m")]
    review_timeout: posture::alerts::rules::Window,
    /// MiB that reading reports may hold at once in this process; larger reviews wait their
    /// turn, and reports needing more than all of it are refused with the reason.
    #[arg(long, env = "POSTURE_MEMORY_BUDGET", default_value_t = 4096)]
    memory_budget_mib: u64,
    /// How long, after SIGTERM, running jobs may take to finish before they are released
    /// for another process (keep it under the orchestrator's grace period).
    #[arg(long, env = "POSTURE_SHUTDOWN_GRACE", default_value = "20s")]
    shutdown_grace: posture::alerts::rules::Window,
}

#[derive(Subcommand)]
enum JobsCommand {
    /// List jobs, newest first, with their status and last error.
    List {
        #[command(flatten)]
        database: DatabaseArg,
        /// Only jobs in this status (queued, running, done, not_configured, superseded, dead).
        #[arg(long)]
        status: Option<posture::store::JobStatus>,
        #[arg(long, default_value_t = 50)]
        limit: i64,
        /// One JSON object per line instead of a table.
        #[arg(long)]
        json: bool,
    },
}

#[derive(clap::Args)]
struct ReviewArgs {
    /// The git repository (its root).
    #[arg(long, default_value = ".")]
    repo: PathBuf,
    /// The baseline revision (usually the target branch).
    #[arg(long)]
    base: String,
    /// The revision under review.
    #[arg(long)]
    head: String,
    /// Scanner reports produced at BASE (SARIF, osv-scanner JSON; format detected).
    #[arg(long = "base-report", value_name = "FILE", num_args = 1..)]
    base_reports: Vec<PathBuf>,
    /// Scanner reports produced at HEAD.
    #[arg(long = "head-report", value_name = "FILE", num_args = 1..)]
    head_reports: Vec<PathBuf>,
    /// Review without any scanner report: only what the repository's own files show (the
    /// component policy over its manifests and lockfiles, its OpenAPI documents).
    #[arg(long, conflicts_with_all = ["head_reports", "base_reports"])]
    no_reports: bool,
    /// Use this config file instead of `.posture.yml` (at base or head); no configuration
    /// change is reported.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Whose `.posture.yml` decides the gate: the target branch's (`base`, the default: a
    /// change cannot loosen its own gate) or the change's own (`head`, to try a config).
    #[arg(long, value_enum, value_name = "REV", default_value = "base")]
    config_from: review::ConfigFrom,
    #[arg(long, value_enum, default_value = "markdown")]
    format: Format,
    /// Markdown only: the most bytes to write; past it the highest-risk findings are kept
    /// and the rest counted (65,536 is GitHub's comment limit). JSON and SARIF are never cut.
    #[arg(long, value_name = "BYTES", default_value_t = 65_536)]
    max_bytes: usize,
    /// With `--format sarif`: the findings this change introduced (`new`), or every finding
    /// at head with its `baselineState` and the fixed ones as `absent` (`all`).
    #[arg(long, value_enum, value_name = "SCOPE", default_value = "new")]
    sarif_scope: report::SarifScope,
    /// Write the review here instead of stdout.
    #[arg(long)]
    output: Option<PathBuf>,
    /// Fail the gate on new findings at or above this severity, or `none` to never fail it
    /// (overrides the config; default high).
    #[arg(long, value_name = "SEVERITY")]
    fail_on: Option<FailOn>,
    /// CISA's KEV catalog (`known_exploited_vulnerabilities.json`) for the risk score.
    #[arg(long, value_name = "FILE", conflicts_with = "intel_db")]
    kev: Option<PathBuf>,
    /// FIRST's EPSS scores (`epss_scores-….csv.gz`, or uncompressed) for the risk score.
    #[arg(long, value_name = "FILE", conflicts_with = "intel_db")]
    epss: Option<PathBuf>,
    /// Take KEV and EPSS from this database (`posture intel load` fills it).
    #[arg(long, value_name = "URL")]
    intel_db: Option<String>,
    /// Also publish the review on the pull request (GitHub Actions: `GITHUB_TOKEN`, the
    /// event file) or merge request (GitLab CI: `POSTURE_GITLAB_TOKEN`,
    /// `CI_MERGE_REQUEST_IID`) this CI job runs for, as the server would.
    #[arg(long, value_enum, value_name = "FORGE")]
    publish: Option<posture::ci::PublishTo>,
    /// A file whose content keys the hash that stands in for each secret found (HMAC-SHA256),
    /// so that a published hash cannot be brute-forced. Default: POSTURE_SECRET_KEY, else a
    /// fixed public key (stable hashes, no protection against guessing).
    #[arg(long, value_name = "FILE")]
    secret_key_file: Option<PathBuf>,
}

#[derive(Subcommand)]
enum ConfigCommand {
    /// Validate a config file and print what it means.
    Check {
        #[arg(default_value = config::FILE_NAME)]
        file: PathBuf,
    },
}

fn main() -> ExitCode {
    let mut cli = Cli::parse();
    if let Command::Serve(ServeArgs {
        config: Some(file), ..
    }) = &cli.command
    {
        match posture::envfile::load(file) {
            Ok(settings) => {
                for (key, value) in settings {
                    if std::env::var_os(&key).is_none() {
                        // SAFETY: no other thread exists yet (the runtime starts below).
                        unsafe { std::env::set_var(key, value) };
                    }
                }
                // Parse again so that the file's values fill what flags and environment left.
                cli = Cli::parse();
            }
            Err(error) => {
                eprintln!("error: {error}");
                return ExitCode::from(EXIT_BAD_INPUT);
            }
        }
    }
    init_logging(cli.log_json);
    let result = match cli.command {
        Command::Review(args) => review_command(args),
        Command::Config(ConfigCommand::Check { file }) => config_check(&file),
        Command::Serve(args) => runtime().and_then(|rt| {
            let served = rt.block_on(serve(args));
            // A review's parsing may still be running on a blocking thread: it is abandoned
            // (its job was released) rather than waited for.
            rt.shutdown_timeout(Duration::from_secs(1));
            served
        }),
        Command::Jobs(JobsCommand::List {
            database,
            status,
            limit,
            json,
        }) => runtime().and_then(|rt| rt.block_on(jobs_list(&database.url, status, limit, json))),
        Command::Migrate(database) => runtime().and_then(|rt| rt.block_on(migrate(&database.url))),
        Command::Sbom(args) => cmd::sbom::sbom(args),
        Command::Doctor(args) => runtime().and_then(|rt| rt.block_on(cmd::doctor::doctor(args))),
        Command::Gitlab(command) => runtime().and_then(|rt| rt.block_on(cmd::gitlab::run(command))),
        Command::Intel(IntelCommand::Load {
            database,
            kev,
            epss,
            published,
        }) => {
            let sources = if published {
                IntelSources::published()
            } else {
                IntelSources { kev, epss }
            };
            runtime().and_then(|rt| rt.block_on(intel_load(&database.url, &sources)))
        }
        Command::Intel(IntelCommand::Status { database }) => {
            runtime().and_then(|rt| rt.block_on(intel_status(&database.url)))
        }
        Command::Triage(TriageCommand::Export {
            database,
            repo,
            forge,
            format,
            output,
        }) => runtime().and_then(|rt| {
            rt.block_on(triage_export(
                &database.url,
                forge.into(),
                &repo,
                format,
                output.as_deref(),
            ))
        }),
        Command::Token(command) => runtime().and_then(|rt| rt.block_on(token(command))),
        Command::Auth(command) => runtime().and_then(|rt| rt.block_on(auth(command))),
        Command::Sinks(command) => runtime().and_then(|rt| rt.block_on(sinks(command))),
        Command::Upload(args) => runtime().and_then(|rt| rt.block_on(upload(args))),
        Command::Report {
            database,
            org,
            format,
            days,
            output,
        } => runtime().and_then(|rt| {
            rt.block_on(async {
                let store = open_store(&database.url).await?;
                cmd::report::report(&store, &org, format, days, output.as_deref()).await
            })
        }),
    };
    match result {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::from(EXIT_BAD_INPUT)
        }
    }
}

fn init_logging(json: bool) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("POSTURE_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}

fn review_command(args: ReviewArgs) -> anyhow::Result<ExitCode> {
    // A forgotten report must not pass the gate unnoticed: reviewing only the repository's
    // own files (component policy, API documents) is asked for by name.
    if args.head_reports.is_empty() && !args.no_reports {
        anyhow::bail!(
            "give at least one --head-report: the scanners' reports at HEAD (or --no-reports to judge only the repository's own files: the component policy over its manifests and lockfiles, its API documents)"
        );
    }
    let secrets = match &args.secret_key_file {
        // The key itself is never shown: only the file that could not be read.
        Some(path) => posture::ingest::SecretHasher::new(
            &std::fs::read(path)
                .with_context(|| format!("cannot read the secret key file {}", path.display()))?,
        ),
        None => posture::ingest::SecretHasher::from_env(),
    };
    let request = review::Request {
        repo: args.repo,
        base: args.base,
        head: args.head,
        base_reports: args.base_reports,
        head_reports: args.head_reports,
        config: args.config,
        config_from: args.config_from,
        fail_on: args.fail_on,
        today: chrono::Utc::now().date_naive(),
        triage: Default::default(),
        secrets,
        deployed: Default::default(),
        read_inventory: false,
    };
    let outcome = match (&args.intel_db, &args.kev, &args.epss) {
        (Some(url), _, _) => {
            let runtime = runtime()?;
            let store = runtime.block_on(open_store(url))?;
            let lookup = StoreIntel { runtime, store };
            review::run_with_intel(&request, &lookup)?
        }
        (None, None, None) => review::run(&request)?,
        (None, kev, epss) => review::run_with_intel(&request, &intel_from_files(kev, epss)?)?,
    };
    let mut out: Box<dyn Write> = match &args.output {
        Some(path) => Box::new(
            std::fs::File::create(path)
                .with_context(|| format!("cannot write {}", path.display()))?,
        ),
        None => Box::new(std::io::stdout().lock()),
    };
    let mut out = std::io::BufWriter::new(&mut out);
    let options = report::Options {
        sarif_scope: args.sarif_scope,
        markdown_limit: report::Limit::Bytes(args.max_bytes),
    };
    report::write(
        args.format,
        &outcome.review,
        &outcome.refused,
        &options,
        &mut out,
    )?;
    out.flush()?;
    drop(out);
    for refused in &outcome.refused {
        eprintln!("error: report refused: {refused}");
    }
    if let Some(to) = args.publish {
        publish_review(to, &outcome)?;
    }
    let summary = &outcome.review.summary;
    eprintln!(
        "posture: {} new, {} existing, {} fixed, {} not scanned{}; gate {} ({} blocking at or above {})",
        summary.new,
        summary.existing,
        summary.fixed,
        summary.not_scanned,
        if summary.missing_tools.is_empty() {
            String::new()
        } else {
            format!(
                " (no report on one side from {})",
                summary.missing_tools.join(", ")
            )
        },
        summary.gate.outcome.as_str(),
        summary.gate.blocking,
        summary.gate.fail_on.map_or("-".into(), |s| s.to_string()),
    );
    Ok(if !outcome.refused.is_empty() {
        ExitCode::from(EXIT_BAD_INPUT)
    } else if summary.gate.passed {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_GATE_FAILED)
    })
}

/// `--publish`: the review on the change request the CI job runs for.
fn publish_review(to: posture::ci::PublishTo, outcome: &review::Outcome) -> anyhow::Result<()> {
    let runtime = runtime()?;
    let publication = runtime.block_on(async {
        let target = posture::ci::target(to, &|name| std::env::var(name).ok())?;
        let max_inline = outcome
            .max_inline_comments
            .unwrap_or(jobs::ReviewSettings::default().max_inline_comments);
        posture::ci::publish(&target, &outcome.review, &outcome.refused, max_inline).await
    })?;
    eprintln!(
        "posture: published: {} new inline comments, {} updated, {} resolved{}",
        publication.posted.len(),
        publication.updated,
        publication.resolved,
        if publication.not_inline > 0 {
            format!(", {} listed in the summary only", publication.not_inline)
        } else {
            String::new()
        }
    );
    Ok(())
}

/// KEV and EPSS read from files given on the command line.
fn intel_from_files(kev: &Option<PathBuf>, epss: &Option<PathBuf>) -> anyhow::Result<Intel> {
    let mut intel = Intel::default();
    if let Some(path) = kev {
        let name = path.display().to_string();
        let bytes = std::fs::read(path).with_context(|| format!("cannot read {name}"))?;
        let catalog = feeds::parse_kev(&name, &bytes)?;
        intel.kev_version = catalog.version;
        intel.kev = catalog
            .entries
            .into_iter()
            .map(|e| (e.cve_id.clone(), e))
            .collect();
    }
    if let Some(path) = epss {
        let name = path.display().to_string();
        let bytes = std::fs::read(path).with_context(|| format!("cannot read {name}"))?;
        let scores = feeds::parse_epss(&name, &bytes)?;
        intel.epss_date = scores.score_date;
        intel.epss = scores.scores.into_iter().collect();
    }
    Ok(intel)
}

/// KEV and EPSS looked up in the database, for the CVEs a review names.
struct StoreIntel {
    runtime: tokio::runtime::Runtime,
    store: Store,
}

impl review::IntelLookup for StoreIntel {
    fn lookup(&self, cves: &BTreeSet<String>) -> Result<Intel, String> {
        self.runtime
            .block_on(self.store.intel_for(cves))
            .map_err(|e| e.to_string())
    }
}

async fn intel_load(url: &str, sources: &IntelSources) -> anyhow::Result<ExitCode> {
    if sources.kev.is_none() && sources.epss.is_none() {
        anyhow::bail!("give --kev, --epss (a path or URL each) or --published");
    }
    let store = open_store(url).await?;
    for feed in refresh_intel(&store, sources).await? {
        eprintln!(
            "posture: loaded {} {} records from {}{}",
            feed.records,
            feed.feed,
            feed.source,
            feed.version
                .map(|v| format!(" (version {v})"))
                .unwrap_or_default()
        );
    }
    store.close().await;
    Ok(ExitCode::SUCCESS)
}

async fn intel_status(url: &str) -> anyhow::Result<ExitCode> {
    let store = open_store(url).await?;
    let feeds = store.intel_feeds().await?;
    if feeds.is_empty() {
        println!("no feed loaded yet: posture intel load --published");
    }
    for feed in feeds {
        println!(
            "{:<5} {:>7} records  version {:<12} published {:<10}  loaded {}  from {}",
            feed.feed,
            feed.records,
            feed.version.as_deref().unwrap_or("-"),
            feed.published.map_or("-".to_string(), |d| d.to_string()),
            feed.loaded_at.format("%Y-%m-%d %H:%M:%S"),
            feed.source
        );
    }
    store.close().await;
    Ok(ExitCode::SUCCESS)
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?)
}

/// `posture triage export`: the decisions recorded for one repository, as VEX.
async fn triage_export(
    url: &str,
    forge: posture::store::Forge,
    repository: &str,
    format: VexFormat,
    output: Option<&std::path::Path>,
) -> anyhow::Result<ExitCode> {
    let store = open_store(url).await?;
    let project = store
        .find_project(forge, repository)
        .await?
        .with_context(|| format!("{forge} repository {repository} is not in the database"))?;
    let mut records: Vec<_> = store
        .triage_decisions(project)
        .await?
        .into_values()
        .collect();
    records.sort_by(|a, b| a.finding_id.cmp(&b.finding_id));
    let now = chrono::Utc::now();
    let document = match format {
        VexFormat::Openvex => posture::triage::vex::export_openvex(repository, &records, now),
        VexFormat::Cyclonedx => posture::triage::vex::export_cyclonedx(repository, &records, now),
    };
    let mut text = serde_json::to_string_pretty(&document)?;
    text.push('\n');
    match output {
        Some(path) => std::fs::write(path, text)
            .with_context(|| format!("cannot write {}", path.display()))?,
        None => std::io::stdout().write_all(text.as_bytes())?,
    }
    store
        .audit(
            &cmd::audit_actor(),
            Some(&posture::store::org_of(repository)),
            "posture triage export",
            Some(repository),
            None,
        )
        .await?;
    eprintln!(
        "posture: {} decision(s) of {repository} exported",
        records.len()
    );
    Ok(ExitCode::SUCCESS)
}

async fn auth(command: AuthCommand) -> anyhow::Result<ExitCode> {
    let AuthCommand::Check {
        database,
        user,
        forge,
        user_id,
        groups,
        token_id,
        format,
    } = command;
    let settings = Arc::new(posture::settings::Settings::from_env()?);
    let store = open_store(&database.url).await?;
    let subject = match token_id {
        Some(id) => cmd::auth::Subject::Token(posture::store::TokenId(id)),
        None => cmd::auth::Subject::person(forge, user, user_id, groups)?,
    };
    let forges = Forges::from_env(&store)?;
    cmd::auth::check(store, settings, forges, subject, format).await
}

async fn token(command: TokenCommand) -> anyhow::Result<ExitCode> {
    match command {
        TokenCommand::Create {
            database,
            org,
            scopes,
            name,
        } => {
            cmd::token::create(
                &open_store(&database.url).await?,
                &org,
                &scopes,
                name.as_deref(),
            )
            .await
        }
        TokenCommand::List { database, org } => {
            cmd::token::list(&open_store(&database.url).await?, org.as_deref()).await
        }
        TokenCommand::Revoke { database, id } => {
            cmd::token::revoke(&open_store(&database.url).await?, id).await
        }
    }
}

async fn sinks(command: SinksCommand) -> anyhow::Result<ExitCode> {
    let settings = posture::settings::Settings::from_env()?;
    match command {
        SinksCommand::List { database } => {
            cmd::sinks::list(&open_store(&database.url).await?, &settings).await
        }
        SinksCommand::Test { name, org } => {
            cmd::sinks::test(&settings, &name, org.as_deref()).await
        }
        SinksCommand::Retry {
            database,
            name,
            org,
        } => {
            cmd::sinks::retry(
                &open_store(&database.url).await?,
                &settings,
                &name,
                org.as_deref(),
            )
            .await
        }
    }
}

async fn upload(args: UploadArgs) -> anyhow::Result<ExitCode> {
    let token = std::env::var("POSTURE_TOKEN")
        .ok()
        .filter(|t| !t.is_empty())
        .context(
            "POSTURE_TOKEN is not set (create one with `posture token create --scopes upload`)",
        )?;
    cmd::upload::upload(cmd::upload::Upload {
        server: args.server,
        token,
        repository: args.repository,
        forge: match args.forge {
            ForgeArg::Github => "github",
            ForgeArg::Gitlab => "gitlab",
        },
        commit: args.commit,
        branch: args.branch,
        default_branch: args.default_branch,
        environment: args.environment.map(|environment| match environment {
            EnvironmentArg::Production => "production",
            EnvironmentArg::Staging => "staging",
        }),
        observed_at: args.observed_at,
        reports: args.reports,
    })
    .await
}

async fn open_store(url: &str) -> anyhow::Result<Store> {
    let store = Store::connect(url).await?;
    store.migrate().await?;
    Ok(store)
}

async fn migrate(url: &str) -> anyhow::Result<ExitCode> {
    open_store(url).await?;
    eprintln!("posture: database schema is up to date");
    Ok(ExitCode::SUCCESS)
}

async fn serve(args: ServeArgs) -> anyhow::Result<ExitCode> {
    let settings = Arc::new(posture::settings::Settings::from_env()?);
    let public_url = std::env::var("POSTURE_PUBLIC_URL")
        .ok()
        .filter(|url| !url.is_empty());
    // Sinks are checked before anything starts: a missing secret is named, never shown.
    let sink_plans = posture::alerts::outbox::plans(
        &settings,
        &|variable| std::env::var(variable).ok(),
        public_url.as_deref(),
    )?;
    let settings_variables: Vec<&str> = settings
        .orgs
        .values()
        .flat_map(|org| org.sinks.iter().flat_map(|sink| sink.variables()))
        .collect();
    for warning in posture::variables::warnings(&settings_variables) {
        tracing::warn!("{warning}");
        eprintln!("posture: warning: {warning}");
    }
    let store = open_store(&args.database.url).await?;
    // A new sink's cursor starts here, before anything is received: it is sent every event
    // committed from now on.
    for plan in &sink_plans {
        store.ensure_alert_sink(&plan.sink.key).await?;
    }
    let secrets = WebhookSecrets::from_env()?;
    let mut forges = Forges::from_env(&store)?;
    // The GitHub App of /setup/github, where the environment configures none.
    let setup = posture::setup::Setup::from_env(&store, &secrets, &mut forges).await?;
    let metrics = Metrics::install()?;
    let wake = Arc::new(Notify::new());
    let intake = StoreIntake {
        store: store.clone(),
        wake: wake.clone(),
    };
    let memory = jobs::MemoryBudget::new(args.memory_budget_mib.saturating_mul(1024 * 1024));
    let access = posture::access::Access::new(
        settings.clone(),
        store.clone(),
        Some(Arc::new(posture::access::ForgeDirectory::new(
            forges.clone(),
        ))),
        posture::access::Access::ttl_from_env().map_err(anyhow::Error::msg)?,
    );
    let api_state = posture::api::ApiState {
        store: store.clone(),
        settings: settings.clone(),
        memory: memory.clone(),
        secrets: posture::ingest::SecretHasher::from_env(),
        access: Arc::new(access),
    };
    let web_config = posture::web::WebConfig::from_env()?;
    let sign_in = posture::web::SignIn::new(&posture::web::SignInConfig::from_env(
        web_config.public_url.as_ref(),
    )?)?;
    let web = posture::web::router(api_state.clone(), web_config, sign_in);
    let api = posture::api::router(api_state);
    let state = AppState::new(intake, secrets, metrics).with_body_timeout(args.body_timeout.0);
    let mut app = server::router(state.clone())
        .merge(api)
        .merge(web)
        .merge(setup.router());
    let metrics_listener = match &args.metrics_listen {
        Some(address) => {
            let listener = tokio::net::TcpListener::bind(address)
                .await
                .with_context(|| format!("cannot listen on {address} for metrics"))?;
            eprintln!("posture: metrics on {}", listener.local_addr()?);
            Some(listener)
        }
        None => {
            app = app.merge(server::metrics_router(state.clone()));
            None
        }
    };
    let listener = tokio::net::TcpListener::bind(&args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    let shutdown = shutdown_signal();
    eprintln!("posture: listening on {}", listener.local_addr()?);
    let metrics_server = metrics_listener.map(|listener| {
        let app = server::metrics_router(state);
        let limits = server::listen::Limits::default();
        tokio::spawn(server::listen::serve(
            listener,
            app,
            limits,
            std::future::pending(),
        ))
    });

    let (stop, stopped) = watch::channel(false);
    let config = WorkerConfig {
        workers: args.workers,
        lease: Duration::from_secs(args.lease_seconds.max(1)),
        shutdown_grace: args.shutdown_grace.0,
        ..WorkerConfig::default()
    };
    let intel_refresh = (args.intel_refresh_hours > 0).then(|| {
        tokio::spawn(refresh_periodically(
            store.clone(),
            IntelSources {
                kev: Some(args.intel_kev.clone()),
                epss: Some(args.intel_epss.clone()),
            },
            Duration::from_secs(args.intel_refresh_hours.saturating_mul(3600)),
            stop.subscribe(),
        ))
    });
    let workers = tokio::spawn(jobs::run_workers(
        store.clone(),
        Arc::new(ForgeRunner {
            store: store.clone(),
            forges: Arc::new(forges),
            settings: ReviewSettings {
                max_inline_comments: args.max_inline_comments,
                time_budget: args.review_timeout.0,
                memory,
                secrets: posture::ingest::SecretHasher::from_env(),
                ..ReviewSettings::default()
            },
        }),
        config,
        wake,
        stopped.clone(),
    ));
    let retention = (args.retain_days > 0).then(|| {
        let retain = Duration::from_secs(args.retain_days.saturating_mul(86_400));
        tokio::spawn(jobs::run_retention(store.clone(), retain, stop.subscribe()))
    });
    let reconciles = (args.workers > 0 && args.reconcile_minutes > 0).then(|| {
        let interval = Duration::from_secs(args.reconcile_minutes * 60);
        tokio::spawn(jobs::run_reconciles(store.clone(), interval, stopped))
    });
    if !sink_plans.is_empty() {
        eprintln!("posture: {} alert sink(s)", sink_plans.len());
    }
    let outbox = (!sink_plans.is_empty()).then(|| {
        let config = posture::alerts::outbox::OutboxConfig {
            lease: Duration::from_secs(args.lease_seconds.max(1)),
            max_attempts: args.alert_max_attempts.max(1),
            backoff: posture::store::Backoff {
                base: args.alert_retry.0,
                cap: Duration::from_secs(3600),
            },
            links: posture::alerts::outbox::LinkBase::new(
                std::env::var("POSTURE_GITHUB_API_URL").ok().as_deref(),
                std::env::var("POSTURE_GITLAB_URL").ok().as_deref(),
                public_url.as_deref(),
            ),
            ..Default::default()
        };
        tokio::spawn(posture::alerts::outbox::run(
            store.clone(),
            sink_plans,
            config,
            stop.subscribe(),
        ))
    });
    let scheduled = tokio::spawn(posture::alerts::scheduled::run(
        store.clone(),
        settings.clone(),
        public_url.clone(),
        stop.subscribe(),
    ));
    // Every route answers within five minutes or says why (408), whatever it waits on.
    let app = app.layer(tower_http::timeout::TimeoutLayer::with_status_code(
        axum::http::StatusCode::REQUEST_TIMEOUT,
        Duration::from_secs(300),
    ));
    let limits = server::listen::Limits {
        max_connections: args.max_connections,
        header_timeout: args.header_timeout.0,
    };
    server::listen::serve(listener, app, limits, shutdown).await;
    // No more deliveries: let the workers finish or release what they hold, and the outbox
    // send what its windows hold.
    stop.send_replace(true);
    workers.await?;
    scheduled.await?;
    if let Some(outbox) = outbox {
        outbox.await?;
    }
    if let Some(reconciles) = reconciles {
        reconciles.await?;
    }
    if let Some(refresh) = intel_refresh {
        refresh.await?;
    }
    if let Some(retention) = retention {
        retention.await?;
    }
    if let Some(metrics) = metrics_server {
        metrics.abort();
    }
    store.close().await;
    eprintln!("posture: stopped");
    Ok(ExitCode::SUCCESS)
}

/// Ctrl-C or SIGTERM (what Kubernetes and systemd send). The handlers are installed when
/// this is called, not when the future is first polled: a SIGTERM right after the server says
/// it listens stops it gracefully rather than killing it.
fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    use tokio::signal::unix::{SignalKind, signal};
    let listen = |kind: SignalKind, name: &str| match signal(kind) {
        Ok(stream) => Some(stream),
        Err(error) => {
            tracing::warn!("cannot listen for {name}: {error}");
            None
        }
    };
    let interrupt = listen(SignalKind::interrupt(), "Ctrl-C");
    let terminate = listen(SignalKind::terminate(), "SIGTERM");
    async move {
        let wait = |stream: Option<tokio::signal::unix::Signal>| async move {
            match stream {
                Some(mut stream) => {
                    stream.recv().await;
                }
                None => std::future::pending::<()>().await,
            }
        };
        tokio::select! {
            _ = wait(interrupt) => {}
            _ = wait(terminate) => {}
        }
    }
}

async fn jobs_list(
    url: &str,
    status: Option<posture::store::JobStatus>,
    limit: i64,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let store = open_store(url).await?;
    let rows = store.list_jobs(status, limit).await?;
    let mut out = std::io::stdout().lock();
    if json {
        for row in &rows {
            writeln!(out, "{}", serde_json::to_string(row)?)?;
        }
    } else {
        writeln!(
            out,
            "{:>6}  {:<9} {:<15} {:>3}  {:<40} {:<20} note",
            "id", "kind", "status", "try", "repository", "updated"
        )?;
        for row in &rows {
            let target = match row.pull_request {
                Some(n) => format!("{}#{n}", row.repository),
                None => row.repository.clone(),
            };
            let note = row
                .last_error
                .as_deref()
                .or(row.message.as_deref())
                .unwrap_or("");
            writeln!(
                out,
                "{:>6}  {:<9} {:<15} {:>3}  {:<40} {:<20} {note}",
                row.id.0,
                row.kind.as_str(),
                row.status.as_str(),
                row.attempts,
                target,
                row.updated_at.format("%Y-%m-%d %H:%M:%S"),
            )?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn config_check(file: &Path) -> anyhow::Result<ExitCode> {
    let config = Config::load(file)?;
    println!(
        "{}: valid (version {}, fail_on {}, {} ignore rule(s))",
        file.display(),
        config.version,
        config.fail_on.unwrap_or(review::DEFAULT_FAIL_ON),
        config.ignore.len()
    );
    if let Some(policy) = config.policy.describe() {
        println!("{policy}");
    }
    for warning in config.expired_rules(chrono::Utc::now().date_naive()) {
        println!("warning: {warning}");
    }
    Ok(ExitCode::SUCCESS)
}
