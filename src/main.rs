//! The `posture` command line: a thin edge over the library. Errors become exit code 2 with
//! a message naming the file and position; the gate decides between 0 and 1.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};
use posture::config::{self, Config};
use posture::model::Severity;
use posture::report::{self, Format};
use posture::review;

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
    /// Use this config instead of `.posture.yml` at HEAD.
    #[arg(long)]
    config: Option<PathBuf>,
    #[arg(long, value_enum, default_value = "markdown")]
    format: Format,
    /// Write the review here instead of stdout.
    #[arg(long)]
    output: Option<PathBuf>,
    /// Fail the gate on new findings at or above this severity (overrides the config;
    /// default high).
    #[arg(long, value_name = "SEVERITY")]
    fail_on: Option<Severity>,
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
    let cli = Cli::parse();
    init_logging(cli.log_json);
    let result = match cli.command {
        Command::Review(args) => review_command(args),
        Command::Config(ConfigCommand::Check { file }) => config_check(&file),
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
    if args.head_reports.is_empty() {
        anyhow::bail!("give at least one --head-report: the scanners' reports at HEAD");
    }
    let request = review::Request {
        repo: args.repo,
        base: args.base,
        head: args.head,
        base_reports: args.base_reports,
        head_reports: args.head_reports,
        config: args.config,
        fail_on: args.fail_on,
        today: chrono::Utc::now().date_naive(),
    };
    let outcome = review::run(&request)?;
    let rendered = report::render(args.format, &outcome.review, &outcome.refused)?;
    match &args.output {
        Some(path) => std::fs::write(path, rendered)
            .with_context(|| format!("cannot write {}", path.display()))?,
        None => std::io::stdout().write_all(rendered.as_bytes())?,
    }
    for refused in &outcome.refused {
        eprintln!("error: report refused: {refused}");
    }
    let summary = &outcome.review.summary;
    eprintln!(
        "posture: {} new, {} existing, {} fixed; gate {} ({} blocking at or above {})",
        summary.new,
        summary.existing,
        summary.fixed,
        if summary.gate.passed {
            "passed"
        } else {
            "failed"
        },
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

fn config_check(file: &Path) -> anyhow::Result<ExitCode> {
    let config = Config::load(file)?;
    println!(
        "{}: valid (version {}, fail_on {}, {} ignore rule(s))",
        file.display(),
        config.version,
        config.fail_on.unwrap_or(review::DEFAULT_FAIL_ON),
        config.ignore.len()
    );
    for warning in config.expired_rules(chrono::Utc::now().date_naive()) {
        println!("warning: {warning}");
    }
    Ok(ExitCode::SUCCESS)
}
