//! `posture upload`: sends scanner reports to a server's `POST /api/v1/scans`, for CI jobs
//! that run without a forge integration and for backfilling history.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use reqwest::multipart::{Form, Part};

/// What to upload and where.
pub struct Upload {
    pub server: String,
    /// From `POSTURE_TOKEN`; never printed.
    pub token: String,
    pub repository: String,
    pub forge: &'static str,
    pub commit: String,
    pub branch: String,
    pub default_branch: bool,
    /// `production` or `staging`: a scan of a deployment.
    pub environment: Option<&'static str>,
    pub observed_at: Option<String>,
    pub reports: Vec<PathBuf>,
}

pub async fn upload(upload: Upload) -> anyhow::Result<ExitCode> {
    let mut form = Form::new()
        .text("repository", upload.repository.clone())
        .text("forge", upload.forge)
        .text("commit", upload.commit)
        .text("branch", upload.branch)
        .text("default_branch", upload.default_branch.to_string());
    if let Some(environment) = upload.environment {
        form = form.text("environment", environment);
    }
    if let Some(time) = upload.observed_at {
        form = form.text("observed_at", time);
    }
    for path in &upload.reports {
        let bytes =
            std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| path.display().to_string());
        form = form.part("report", Part::bytes(bytes).file_name(name));
    }
    let url = format!("{}/api/v1/scans", upload.server.trim_end_matches('/'));
    let response = reqwest::Client::new()
        .post(&url)
        .bearer_auth(&upload.token)
        .multipart(form)
        .send()
        .await
        .with_context(|| format!("cannot reach {url}"))?;
    let status = response.status();
    let body = response.text().await.unwrap_or_default();
    if !status.is_success() {
        let message = serde_json::from_str::<serde_json::Value>(&body)
            .ok()
            .and_then(|v| v["error"]["message"].as_str().map(str::to_owned))
            .unwrap_or(body);
        bail!("the server refused the upload ({status}): {message}");
    }
    println!("{body}");
    eprintln!("posture: scan of {} stored", upload.repository);
    Ok(ExitCode::SUCCESS)
}
