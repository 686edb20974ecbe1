//! The weekly digest as a standing issue (`orgs.<org>.digest.issue` in the settings file):
//! [`queue_digest_issues`] stores one durable job per org and week at the first scheduled
//! tick after the digest is due, and [`digest_issue`] runs it: the org's history as of the
//! due time, the week before it summarised and rendered
//! ([`crate::report::digest`]), and the one issue per org edited in place.
//!
//! One issue per org, like Renovate's dependency dashboard: its number is kept in the store
//! (`digest_issues`), and each week's job edits its title and body. A new issue is opened
//! only when there is none yet, the stored one is gone (deleted: 404 or 410), or the
//! settings now name another forge or repository. Running a week's job again edits the same
//! issue again, so a retry or a second replica never opens a second one. (A crash between
//! opening an issue and storing its number is the one gap: the retry opens another.)
//!
//! The job carries what the settings said when it was queued (the SLA, the public URL), so
//! the worker needs no settings of its own; its repository is the issue's, which is how a
//! GitHub App finds the installation that may write there.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tracing::{info, warn};

use super::Outcome;
use super::review::{Context, JobError};
use crate::alerts::digest::week_key;
use crate::forge::ForgeError;
use crate::history::SlaPolicy;
use crate::report::digest::{DigestIssue, render_issue};
use crate::settings::Settings;
use crate::store::{Accepted, DeliveryId, Job, JobKind, NewDelivery, NewJob, Store, StoreError};

/// What a `digest_issue` job's payload holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DigestIssueJob {
    /// Lower-case, as in the settings file.
    pub org: String,
    /// `2026-W49`: the ISO week of `due`.
    pub week: String,
    /// When the digest was due: it covers the 7 days before.
    pub due: DateTime<Utc>,
    /// The org's SLA when the job was queued.
    pub sla: SlaPolicy,
    /// `POSTURE_PUBLIC_URL`, for the dashboard's links.
    #[serde(default)]
    pub public_url: Option<String>,
}

/// Queues this week's digest-issue job for every org whose settings name an issue and that
/// lacks it (the delivery id names org, week and repository, so however many replicas tick,
/// one job is stored). Returns how many this call queued.
pub async fn queue_digest_issues(
    store: &Store,
    settings: &Settings,
    now: DateTime<Utc>,
    public_url: Option<&str>,
) -> Result<usize, StoreError> {
    let mut queued = 0;
    for (org, org_settings) in &settings.orgs {
        let schedule = &org_settings.digest;
        let Some(target) = &schedule.issue else {
            continue;
        };
        let due = schedule.last_due(now);
        let week = week_key(due);
        let payload = DigestIssueJob {
            org: org.clone(),
            week: week.clone(),
            due,
            sla: settings.sla(org).clone(),
            public_url: public_url.map(str::to_owned),
        };
        let payload = serde_json::to_value(&payload).map_err(|source| StoreError::Json {
            what: "digest issue job",
            source,
        })?;
        let delivery = NewDelivery {
            forge: target.forge,
            delivery_id: DeliveryId(format!(
                "digest-issue:{org}:{week}:{}",
                target.repository.to_lowercase()
            )),
            event: "digest_issue".into(),
            action: None,
            repository: target.repository.clone(),
            payload: payload.clone(),
        };
        let job = NewJob {
            kind: JobKind::DigestIssue,
            repository: target.repository.clone(),
            pull_request: None,
            head_sha: None,
            // One org's issue is written by one job at a time, the newest week's.
            coalesce_key: Some(format!("digest_issue:{org}")),
            payload,
        };
        // One org's trouble is logged and the next org still gets its digest.
        match store.accept(delivery, vec![job]).await {
            Ok(Accepted::Stored { .. }) => queued += 1,
            Ok(_) => {}
            Err(error) => warn!(org, "cannot queue the digest issue: {error}"),
        }
    }
    Ok(queued)
}

/// Writes the job's week into the org's standing issue, opening it when needed.
pub(super) async fn digest_issue(context: &Context<'_>, job: &Job) -> Result<Outcome, JobError> {
    let request: DigestIssueJob = match serde_json::from_value(job.payload.clone()) {
        Ok(request) => request,
        Err(error) => {
            return Ok(Outcome::Refused(format!(
                "the digest issue job's payload does not parse: {error}"
            )));
        }
    };
    let store = context.store;
    let org = request.org.as_str();
    let stored = store.digest_issue(org).await?;
    if let Some(row) = &stored
        && row.week > request.week
    {
        return Ok(Outcome::Skipped(format!(
            "the digest issue of {org} shows {} already, newer than {}",
            row.week, request.week
        )));
    }
    if store.org_repositories(org).await?.is_empty() {
        return Ok(Outcome::Skipped(format!(
            "posture has no repository of org `{org}` yet: no digest to write"
        )));
    }
    let history = store.org_history(org, None, None, request.due).await?;
    let digest = DigestIssue::new(
        org,
        &request.week,
        request.due,
        &history,
        &request.sla,
        request.public_url.as_deref(),
    );
    let text = render_issue(&digest)?;
    let forge = context.forge.as_ref();
    let repository = job.repository.as_str();
    // The digest names every repository of the org and what is wrong with them: never in a
    // repository anyone may read.
    if forge.is_public(repository).await? {
        return Ok(Outcome::Refused(format!(
            "{repository} is public, and the digest names every repository of {org} and \
             their findings: name a private repository in orgs.{org}.digest.issue"
        )));
    }
    // Forges compare repository paths without case: `Acme/Security` is the same issue.
    let here = stored.as_ref().filter(|row| {
        row.forge == job.forge && row.repository.eq_ignore_ascii_case(&job.repository)
    });
    let edited = match here {
        Some(row) => match forge
            .edit_issue(repository, row.number, &text.title, &text.body)
            .await
        {
            Ok(()) => Some(row.number),
            // Deleted (or moved away) by someone: open it again.
            Err(ForgeError::NotFound { .. }) => None,
            Err(error) => return Err(error.into()),
        },
        None => None,
    };
    let number = match edited {
        Some(number) => number,
        None => {
            let number = forge
                .create_issue(repository, &text.title, &text.body)
                .await?;
            info!(org, repository, number, "digest issue opened");
            number
        }
    };
    store
        .save_digest_issue(org, job.forge, repository, number, &request.week)
        .await?;
    Ok(Outcome::Done)
}
