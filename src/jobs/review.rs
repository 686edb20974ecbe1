//! The forge jobs, end to end: review a change request and publish the result, record a
//! default-branch baseline, and reconcile open change requests that missed a webhook.
//!
//! Reading goes through the [`Forge`] (diff, config, reports, files, blame); the pure
//! engine runs on a blocking thread over a [`ForgeRepo`]; publishing follows a
//! [`plan`](crate::forge::plan) made from what exists, so running a job twice posts nothing
//! twice.

use std::sync::Arc;

use chrono::Utc;
use tracing::info;

use super::Outcome;
use super::runner::ReviewSettings;
use crate::config::{self, Config, ConfigError};
use crate::forge::publish;
use crate::forge::repo::ForgeRepo;
use crate::forge::{ChangeRequest, Forge, ForgeError, GateStatus, ReportGlobs, Reports};
use crate::ingest::IngestError;
use crate::inventory::Target;
use crate::model::{ChangeSet, Finding, Intel, Review, Snapshot};
use crate::report::{self, Limit, budget::CUT_NOTE};
use crate::review::{self as engine, Ingested, ReviewError};
use crate::store::{
    Accepted, DeliveryId, Job, JobKind, NewDelivery, NewJob, ProjectId, Replace, Store, StoreError,
};
use crate::triage::TriageBook;

/// What every forge job needs.
pub struct Context<'a> {
    pub store: &'a Store,
    pub forge: Arc<dyn Forge>,
    pub settings: &'a ReviewSettings,
}

/// What stops a job's attempt.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    #[error(transparent)]
    Forge(#[from] ForgeError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("review: {0}")]
    Review(#[from] ReviewError),
    #[error("rendering: {0}")]
    Render(#[from] report::RenderError),

    #[error("the review thread stopped: {0}")]
    Join(#[from] tokio::task::JoinError),
    #[error(transparent)]
    OverBudget(#[from] super::budget::OverBudget),
}

/// A forge error keeps its own variant: the runner retries by it.
impl From<publish::PublishError> for JobError {
    fn from(error: publish::PublishError) -> JobError {
        match error {
            publish::PublishError::Forge(error) => JobError::Forge(error),
            publish::PublishError::Render(error) => JobError::Render(error),
        }
    }
}

/// Reviews the job's change request (or, for a CI run that named none, every open one
/// with the run's head) and publishes the review on it.
pub async fn review(context: &Context<'_>, job: &Job) -> Result<Outcome, JobError> {
    let forge = &context.forge;
    let changes = match job.pull_request {
        Some(number) => vec![forge.change_request(&job.repository, number).await?],
        None => {
            let head = job.head_sha.as_deref();
            forge.open_change_requests(&job.repository, head).await?
        }
    };
    if changes.is_empty() {
        return Ok(Outcome::Skipped(
            "no open change request has this head".into(),
        ));
    }
    let mut notes = Vec::new();
    for change in &changes {
        notes.push(review_one(context, job, change).await?);
    }
    Ok(if notes.iter().all(Option::is_none) {
        Outcome::Done
    } else {
        Outcome::Skipped(notes.into_iter().flatten().collect::<Vec<_>>().join("; "))
    })
}

/// Reviews one change request for `job`; `Some(reason)` when it was left alone.
pub(super) async fn review_one(
    context: &Context<'_>,
    job: &Job,
    change: &ChangeRequest,
) -> Result<Option<String>, JobError> {
    let forge = &context.forge;
    let name = format!("{}#{}", change.repository, change.number);
    if !change.open {
        return Ok(Some(format!("{name} is closed")));
    }
    if change.draft {
        return Ok(Some(format!(
            "{name} is a draft: reviewed when it is ready"
        )));
    }
    let project = context
        .store
        .upsert_project(
            forge.kind(),
            &change.repository,
            Some(&change.target_branch),
        )
        .await?;

    // The change's own config is validated (and its effect shown); the policy that
    // decides the gate is the target branch's, at the merge-base.
    let head_config = forge
        .read_file(&change.repository, &change.head_sha, config::FILE_NAME)
        .await?;
    if let Err(error) = parse_config(head_config.as_deref()).await? {
        publish_config_error(context, change, &error).await?;
        return Ok(Some(format!("{name}: broken {}", config::FILE_NAME)));
    }
    let base_config = forge
        .read_file(&change.repository, &change.merge_base, config::FILE_NAME)
        .await?;
    // A broken file on the target branch must not block the change that repairs it: the
    // defaults apply, and the engine says so in the review's warnings.
    let config = parse_config(base_config.as_deref())
        .await?
        .unwrap_or_default();
    let globs = report_globs(&config)?;
    let head_reports = forge
        .reports(
            &change.repository,
            &change.head_sha,
            &globs,
            &context.settings.artifact_limits,
        )
        .await?;
    if head_reports.files.is_empty() {
        if !head_reports.ci_seen {
            return Ok(Some(format!(
                "{name}: no CI run for {} yet; the review runs when one completes",
                short(&change.head_sha)
            )));
        }
        let body = format!(
            "{}\n## posture: no scanner reports\n\nCI ran for {} but none of its artifacts holds a report matching {}.{}",
            report::SUMMARY_MARKER,
            short(&change.head_sha),
            globs.patterns().join(", "),
            skipped_note(&head_reports)
        );
        let published = forge.published(change).await?;
        let existing = published.summary.as_ref().map(|(id, _)| id);
        forge.upsert_summary(change, existing, &body).await?;
        // The gate is set all the same: a change whose scans did not run is not silently
        // mergeable. It fails unless the target branch's config says a missing report passes.
        let passed = config.gate.on_missing_report == config::OnMissingReport::Pass;
        forge
            .set_gate(
                &change.repository,
                &GateStatus {
                    head_sha: change.head_sha.clone(),
                    passed,
                    title: "Incomplete: no scanner report in CI's artifacts".into(),
                    summary: Limit::GITHUB_CHECK_SUMMARY.cut(&body, CUT_NOTE),
                    annotations: Vec::new(),
                },
            )
            .await?;
        return Ok(Some(format!("{name}: no reports among the artifacts")));
    }

    let mut ingested = Ingested::default();
    let skipped = head_reports.skipped.clone();
    ingested.head = ingest(context, head_reports, &mut ingested).await?;
    ingested.warnings.extend(skipped);
    ingested.base = merge_base_findings(context, project, change, &globs, &mut ingested).await?;
    let head_tools = ingested.head.tools.clone();
    let triage = TriageBook {
        decisions: context
            .store
            .triage_decisions(project)
            .await?
            .into_iter()
            .map(|(id, record)| (id, record.triage))
            .collect(),
        vex: Vec::new(),
    };

    let diff = forge.changes(change).await?;
    let configs = [
        (change.head_sha.as_str(), head_config),
        (change.merge_base.as_str(), base_config),
    ];
    let (outcome, diff) =
        run_engine(context, change, diff, configs, ingested, triage, false).await?;
    let review = outcome.review;
    context
        .store
        .record_review(project, &change.head_sha, false, &review, &head_tools)
        .await?;
    if let Some(reason) = superseded(context, job, change).await? {
        return Ok(Some(format!("{name}: {reason}; nothing published")));
    }
    publish(
        context,
        &config,
        project,
        change,
        &diff,
        &review,
        &outcome.refused,
    )
    .await?;
    info!(
        change = %name,
        new = review.summary.new,
        fixed = review.summary.fixed,
        outcome = review.summary.gate.outcome.as_str(),
        "published"
    );
    Ok(None)
}

/// Why a finished review must not publish: the change moved on to another head, or a
/// newer job of the same change is running (it will publish).
async fn superseded(
    context: &Context<'_>,
    job: &Job,
    change: &ChangeRequest,
) -> Result<Option<String>, JobError> {
    let now = context
        .forge
        .change_request(&change.repository, change.number)
        .await?;
    if now.head_sha != change.head_sha {
        return Ok(Some(format!(
            "its head moved from {} to {}",
            short(&change.head_sha),
            short(&now.head_sha)
        )));
    }
    let newer = context
        .store
        .newer_job_running(
            context.forge.kind(),
            &change.repository,
            change.number,
            job.id,
        )
        .await?;
    Ok(newer.then(|| "a newer job of the same change is running".to_string()))
}

/// The merge-base's findings: its stored snapshot, else its CI reports, else none
/// ("baseline unknown": then only what the diff touched counts as new).
async fn merge_base_findings(
    context: &Context<'_>,
    project: ProjectId,
    change: &ChangeRequest,
    globs: &ReportGlobs,
    ingested: &mut Ingested,
) -> Result<Snapshot, JobError> {
    if let Some(stored) = context.store.snapshot(project, &change.merge_base).await? {
        let findings: Vec<Finding> = stored.into_iter().map(|f| f.finding).collect();
        // Snapshots recorded before posture kept their tools: the tools that found something.
        let tools = match context
            .store
            .snapshot_tools(project, &change.merge_base)
            .await?
        {
            Some(tools) => tools,
            None => findings.iter().flat_map(|f| f.tools.clone()).collect(),
        };
        return Ok(Snapshot {
            findings,
            tools,
            components: Vec::new(),
        });
    }
    let reports = context
        .forge
        .reports(
            &change.repository,
            &change.merge_base,
            globs,
            &context.settings.artifact_limits,
        )
        .await?;
    if reports.files.is_empty() {
        ingested.warnings.push(format!(
            "baseline unknown: no findings are stored for the merge-base {} and its CI left no reports, so only findings on lines this change touched are called new",
            short(&change.merge_base)
        ));
        return Ok(Snapshot::default());
    }
    ingest(context, reports, ingested).await
}

/// One commit's CI reports as findings; unreadable reports go to `ingested.refused`. Parsed
/// on the blocking pool, like everything a change's author controls that costs CPU: intake
/// and health checks keep their threads.
///
/// The parse holds its estimate of the process's [memory budget](super::budget) meanwhile.
async fn ingest(
    context: &Context<'_>,
    reports: Reports,
    ingested: &mut Ingested,
) -> Result<Snapshot, JobError> {
    let size = reports.files.iter().map(|f| f.bytes.len() as u64).sum();
    let memory = context.settings.memory.reserve(size).await?;
    let secrets = context.settings.secrets.clone();
    let (snapshot, refused, warnings) = tokio::task::spawn_blocking(move || {
        // Held by the parse itself: if the job is abandoned (its time budget), the memory
        // stays counted until the parse is done with it.
        let _memory = memory;
        let (mut refused, mut warnings) = (Vec::new(), Vec::new());
        let files = reports
            .files
            .iter()
            .map(|f| (f.name.as_str(), f.bytes.as_slice()));
        let snapshot = engine::ingest_bytes(files, &secrets, &mut refused, &mut warnings);
        (snapshot, refused, warnings)
    })
    .await?;
    ingested.refused.extend(refused);
    ingested.warnings.extend(warnings);
    Ok(snapshot)
}

/// Runs the pure engine on a blocking thread, reading through the forge; `configs` are
/// `.posture.yml`'s bytes at commits already read.
async fn run_engine(
    context: &Context<'_>,
    change: &ChangeRequest,
    diff: ChangeSet,
    configs: [(&str, Option<Vec<u8>>); 2],
    ingested: Ingested,
    triage: TriageBook,
    read_inventory: bool,
) -> Result<(engine::Outcome, ChangeSet), JobError> {
    let repo = ForgeRepo::new(
        context.forge.clone(),
        tokio::runtime::Handle::current(),
        change.clone(),
        diff.clone(),
    );
    for (sha, bytes) in configs {
        repo.seed(sha, config::FILE_NAME, bytes);
    }
    // What the repository's deployments run ranks what they still carry higher; without it
    // the review runs, ranked as if nothing were deployed.
    let deployed = context
        .store
        .deployed(&change.repository)
        .await
        .unwrap_or_else(|error| {
            tracing::warn!("deployment inventory unavailable, ranked without it: {error}");
            Default::default()
        });
    let request = engine::Request {
        repo: Default::default(),
        deployed,
        read_inventory,
        base: change.merge_base.clone(),
        head: change.head_sha.clone(),
        base_reports: Vec::new(),
        head_reports: Vec::new(),
        config: None,
        config_from: engine::ConfigFrom::Base,
        fail_on: None,
        today: Utc::now().date_naive(),
        triage,
        secrets: context.settings.secrets.clone(),
    };
    // Exploitation data (KEV, EPSS) from the store's cached feeds, for the CVEs at head.
    let mut ingested = ingested;
    let intel = match context
        .store
        .intel_for(&crate::analyze::cve_ids(&ingested.head))
        .await
    {
        Ok(intel) => intel,
        Err(error) => {
            ingested.warnings.push(format!(
                "exploitation data (KEV, EPSS) unavailable, ranked without it: {error}"
            ));
            Intel::default()
        }
    };
    let result = tokio::task::spawn_blocking(move || {
        let outcome = engine::review_snapshots(&repo, &request, ingested, &intel);
        (outcome, repo.take_failure())
    })
    .await?;
    match result {
        // A forge failure under a git error: report the forge's, so rate limits postpone.
        (Err(_), Some(failure)) => Err(failure.into()),
        (Err(error), None) => Err(error.into()),
        (Ok(outcome), _) => Ok((outcome, diff)),
    }
}

/// Publishes `review` (see [`publish::publish`]) and records the inline comments posted.
async fn publish(
    context: &Context<'_>,
    config: &Config,
    project: ProjectId,
    change: &ChangeRequest,
    diff: &ChangeSet,
    review: &Review,
    refused: &[IngestError],
) -> Result<(), JobError> {
    let max_inline = config
        .max_inline_comments
        .unwrap_or(context.settings.max_inline_comments);
    let publication = publish::publish(
        context.forge.as_ref(),
        change,
        diff,
        review,
        refused,
        max_inline,
    )
    .await?;
    for (findings, comment) in &publication.posted {
        for finding in findings {
            context
                .store
                .record_comment(project, change.number, finding, &comment.0)
                .await?;
        }
    }
    Ok(())
}

/// A broken `.posture.yml` is answered on the change request, and fails the gate.
async fn publish_config_error(
    context: &Context<'_>,
    change: &ChangeRequest,
    error: &ConfigError,
) -> Result<(), JobError> {
    let body = format!(
        "{}\n## ❌ posture: `{}` is invalid\n\n```\n{error}\n```\n\nFix the file and push again; no review runs until it is valid.",
        report::SUMMARY_MARKER,
        config::FILE_NAME
    );
    let published = context.forge.published(change).await?;
    let existing = published.summary.as_ref().map(|(id, _)| id);
    context
        .forge
        .upsert_summary(change, existing, &body)
        .await?;
    context
        .forge
        .set_gate(
            &change.repository,
            &GateStatus {
                head_sha: change.head_sha.clone(),
                passed: false,
                title: format!("{} is invalid", config::FILE_NAME),
                summary: Limit::GITHUB_CHECK_SUMMARY.cut(&body, CUT_NOTE),
                annotations: Vec::new(),
            },
        )
        .await?;
    Ok(())
}

/// `.posture.yml` parsed on the blocking pool (the outer error: the pool's thread stopped).
pub(super) async fn parse_config(
    bytes: Option<&[u8]>,
) -> Result<Result<Config, ConfigError>, JobError> {
    let bytes = bytes.map(<[u8]>::to_vec);
    Ok(tokio::task::spawn_blocking(move || parse_config_now(bytes.as_deref())).await?)
}

fn parse_config_now(bytes: Option<&[u8]>) -> Result<Config, ConfigError> {
    let Some(bytes) = bytes else {
        return Ok(Config::default());
    };
    let text = std::str::from_utf8(bytes).map_err(|e| ConfigError {
        file: config::FILE_NAME.into(),
        position: None,
        message: format!("not UTF-8 (byte {})", e.valid_up_to()),
    })?;
    Config::parse(config::FILE_NAME, text)
}

fn report_globs(config: &Config) -> Result<ReportGlobs, JobError> {
    if config.reports.is_empty() {
        return Ok(ReportGlobs::default());
    }
    let patterns: Vec<&str> = config.reports.iter().map(|g| g.pattern.as_str()).collect();
    Ok(ReportGlobs::new(&patterns).map_err(ForgeError::from)?)
}

fn skipped_note(reports: &Reports) -> String {
    if reports.skipped.is_empty() {
        return String::new();
    }
    let mut note = String::from("\n\nPassed over:\n");
    for skipped in &reports.skipped {
        note.push_str(&format!("- {skipped}\n"));
    }
    note
}

/// Records the findings of a default-branch commit as the baseline later reviews compare
/// against, and marks the findings it no longer has as fixed.
pub async fn baseline(context: &Context<'_>, job: &Job) -> Result<Outcome, JobError> {
    let Some(head) = job.head_sha.clone() else {
        return Ok(Outcome::Skipped("a baseline job without a commit".into()));
    };
    let forge = &context.forge;
    let globs = ReportGlobs::default();
    let reports = forge
        .reports(
            &job.repository,
            &head,
            &globs,
            &context.settings.artifact_limits,
        )
        .await?;
    if reports.files.is_empty() {
        return Ok(Outcome::Skipped(format!(
            "no reports for {} yet; the baseline is recorded when CI leaves some",
            short(&head)
        )));
    }
    let project = context
        .store
        .upsert_project(forge.kind(), &job.repository, None)
        .await?;
    let mut ingested = Ingested::default();
    ingested.head = ingest(context, reports, &mut ingested).await?;
    // The commit against itself: every finding is present, none is new.
    ingested.base.tools = ingested.head.tools.clone();
    let tools = ingested.head.tools.clone();
    let change = ChangeRequest {
        repository: job.repository.clone(),
        number: 0,
        title: String::new(),
        head_sha: head.clone(),
        target_sha: head.clone(),
        merge_base: head.clone(),
        target_branch: String::new(),
        draft: false,
        open: true,
    };
    let diff = ChangeSet {
        base: head.clone(),
        head: head.clone(),
        files: Vec::new(),
    };
    let config = forge
        .read_file(&job.repository, &head, config::FILE_NAME)
        .await?;
    let configs = [(head.as_str(), config.clone()), (head.as_str(), config)];
    let (outcome, _) = run_engine(
        context,
        &change,
        diff,
        configs,
        ingested,
        TriageBook::default(),
        true,
    )
    .await?;
    context
        .store
        .record_review(project, &head, true, &outcome.review, &tools)
        .await?;
    // The default branch's inventory, from its files and its reports: what the component
    // search, the SBOM export and drift read.
    let now = Utc::now();
    let inventory = &outcome.inventory;
    context
        .store
        .replace_components(
            project,
            Target::DefaultBranch,
            &head,
            now,
            &inventory.components,
            Replace::Everything,
        )
        .await?;
    context
        .store
        .replace_endpoints(project, &head, now, &inventory.apis)
        .await?;
    info!(commit = %short(&head), findings = outcome.review.findings.len(), "baseline recorded");
    Ok(Outcome::Done)
}

/// Queues a review of every open change request whose head was never reviewed: GitHub
/// does not redeliver webhooks on its own, so a missed one would otherwise be lost.
pub async fn reconcile(context: &Context<'_>, job: &Job) -> Result<Outcome, JobError> {
    let forge = &context.forge;
    let open = forge.open_change_requests(&job.repository, None).await?;
    let project = context
        .store
        .upsert_project(forge.kind(), &job.repository, None)
        .await?;
    let mut queued = 0;
    for change in open.iter().filter(|c| !c.draft) {
        if context
            .store
            .snapshot(project, &change.head_sha)
            .await?
            .is_some()
        {
            continue;
        }
        let delivery = NewDelivery {
            forge: forge.kind(),
            // One reconcile delivery per head: a later reconcile does not queue it again.
            delivery_id: DeliveryId(format!(
                "reconcile:{}#{}@{}",
                change.repository, change.number, change.head_sha
            )),
            event: "reconcile".into(),
            action: None,
            repository: change.repository.clone(),
            payload: job.payload.clone(),
        };
        let review = NewJob {
            kind: JobKind::Review,
            repository: change.repository.clone(),
            pull_request: Some(change.number),
            head_sha: Some(change.head_sha.clone()),
            coalesce_key: Some(format!(
                "{}:{}#{}",
                forge.kind(),
                change.repository,
                change.number
            )),
            payload: job.payload.clone(),
        };
        if let Accepted::Stored { .. } = context.store.accept(delivery, vec![review]).await? {
            queued += 1;
        }
    }
    info!(open = open.len(), queued, "reconciled");
    Ok(Outcome::Done)
}

fn short(sha: &str) -> &str {
    sha.get(..10).unwrap_or(sha)
}
