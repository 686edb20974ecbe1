//! `posture report`: the org summary straight from the database, for cron jobs and people
//! without the server. The same figures as `GET /api/v1/orgs/{org}/summary`; `--format html`
//! is the dashboard's org page as one self-contained file (inline SVG and style, no script,
//! no external URL), which is also the digest's HTML.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, bail};
use chrono::{Duration, Utc};
use posture::history::{self, Filters, Window};
use posture::report::dashboard;
use posture::settings::Settings;
use posture::store::Store;

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum ReportFormat {
    Md,
    Json,
    Csv,
    /// The dashboard's org page: one self-contained HTML document.
    Html,
}

pub async fn report(
    store: &Store,
    org: &str,
    format: ReportFormat,
    days: i64,
    output: Option<&Path>,
) -> anyhow::Result<ExitCode> {
    let settings = Settings::from_env()?;
    let org = org.to_lowercase();
    if !store.orgs().await?.contains(&org) {
        bail!("posture has no repository of org `{org}`");
    }
    let now = Utc::now();
    let window = Window {
        from: now - Duration::days(days),
        to: now,
        as_of: now,
    };
    let findings = store.org_history(&org, None, None, now).await?;
    let summary = history::summarize(
        &org,
        &findings,
        &window,
        &Filters::default(),
        settings.sla(&org),
    );
    let text = match format {
        ReportFormat::Md => posture::report::org::markdown(&summary),
        ReportFormat::Json => serde_json::to_string_pretty(&summary)? + "\n",
        ReportFormat::Csv => posture::report::org::csv(&summary),
        ReportFormat::Html => {
            let view = dashboard::OrgView::new(
                &org,
                "",
                findings,
                window,
                Filters::default(),
                settings.sla(&org).clone(),
            );
            dashboard::org_page(&view)?.html
        }
    };
    match output {
        Some(path) => std::fs::write(path, text.as_bytes())
            .with_context(|| format!("cannot write {}", path.display()))?,
        None => std::io::stdout().write_all(text.as_bytes())?,
    }
    store
        .audit(
            &super::audit_actor(),
            Some(&org),
            "posture report",
            None,
            None,
        )
        .await?;
    Ok(ExitCode::SUCCESS)
}
