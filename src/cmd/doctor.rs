//! `posture doctor`: prints the library's checks ([`posture::doctor`]) one line each, `✓`,
//! `!` or `✗` with what to fix, and exits 1 when one failed.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use posture::doctor::{self, Options, Status};

#[derive(clap::Args)]
pub struct DoctorArgs {
    /// The file of `POSTURE_*=value` lines `posture serve --config` reads; the environment
    /// overrides it.
    #[arg(long, env = "POSTURE_CONFIG")]
    pub config: Option<PathBuf>,
    /// The database to check (default: POSTURE_DATABASE_URL, else sqlite://posture.db).
    #[arg(long, value_name = "URL")]
    pub database: Option<String>,
}

pub async fn doctor(args: DoctorArgs) -> anyhow::Result<ExitCode> {
    let checks = doctor::run(&Options {
        env_file: args.config,
        database_url: args.database,
    })
    .await;
    let width = checks.iter().map(|c| c.name.len()).max().unwrap_or(0);
    let mut out = std::io::stdout().lock();
    for check in &checks {
        writeln!(
            out,
            "{} {:<width$}  {}",
            check.status.symbol(),
            check.name,
            check.message
        )?;
    }
    let count = |status| checks.iter().filter(|c| c.status == status).count();
    let (failed, warned) = (count(Status::Fail), count(Status::Warn));
    writeln!(
        out,
        "\n{} check(s): {} failed, {} warning(s)",
        checks.len(),
        failed,
        warned
    )?;
    Ok(if doctor::failed(&checks) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
