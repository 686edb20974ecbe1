//! `posture sbom`: the SBOM of one revision of a local repository, from its manifests and
//! lockfiles and from any scanner reports or SBOMs given, as CycloneDX 1.6 or SPDX 2.3 JSON.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use posture::git::{LocalRepo, SourceRepo, inventory};
use posture::ingest::{self, SecretHasher};
use posture::inventory::sbom::{self, SbomFormat, Subject};

#[derive(clap::Args)]
pub struct SbomArgs {
    /// The local git repository.
    #[arg(long, default_value = ".")]
    repo: PathBuf,
    /// The revision to describe (a commit, branch or tag).
    #[arg(long, default_value = "HEAD")]
    rev: String,
    /// A scanner report or SBOM whose components to add: licences the lockfiles do not
    /// state, packages no manifest lists (an image's). Repeatable.
    #[arg(long = "report", value_name = "FILE")]
    reports: Vec<PathBuf>,
    #[arg(long, value_enum, default_value = "cyclonedx")]
    format: SbomFormat,
    /// What the document describes (default: the repository directory's name).
    #[arg(long)]
    name: Option<String>,
    /// Write here instead of standard output.
    #[arg(long, short)]
    output: Option<PathBuf>,
}

/// Exit 0 with the document written; 2 when the repository, the revision or a report
/// cannot be read (the message names it).
pub fn sbom(args: SbomArgs) -> anyhow::Result<ExitCode> {
    let repo = LocalRepo::open(&args.repo)?;
    let commit = repo.resolve(&args.rev)?;
    let files = repo.list_files(&commit)?;
    let wanted = inventory::Wanted {
        components: true,
        apis: false,
    };
    let found = inventory::read(&repo, &commit, &files, wanted);
    for warning in &found.warnings {
        eprintln!("posture: warning: {warning}");
    }
    let mut reported = Vec::new();
    let secrets = SecretHasher::default();
    for path in &args.reports {
        let report = ingest::read_report(path, &secrets)?;
        eprintln!(
            "posture: {}: {} components ({})",
            report.source,
            report.components.len(),
            report.format
        );
        reported.extend(report.components);
    }
    let from_files = found.components.len();
    let components = posture::inventory::merge(found.components, &reported);
    let name = match &args.name {
        Some(name) => name.clone(),
        None => std::fs::canonicalize(&args.repo)
            .ok()
            .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
            .unwrap_or_else(|| "repository".into()),
    };
    // The commit's time, not the clock's: the same revision gives the same document.
    let created = repo.commit_time(&commit)?;
    let subject = Subject {
        name: &name,
        revision: &commit,
        created,
    };
    let document = sbom::write(args.format, &subject, &components);
    let mut text = serde_json::to_string_pretty(&document)?;
    text.push('\n');
    match &args.output {
        Some(path) => std::fs::write(path, &text)
            .with_context(|| format!("cannot write {}", path.display()))?,
        None => std::io::stdout().write_all(text.as_bytes())?,
    }
    eprintln!(
        "posture: {} components of {} at {} ({from_files} from its manifests and lockfiles)",
        components.len(),
        name,
        &commit[..12.min(commit.len())]
    );
    Ok(ExitCode::SUCCESS)
}
