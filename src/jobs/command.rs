//! `/posture …` commands from the pull-request conversation: who may run them, which
//! findings they name, what they record, and the answer in the same thread.
//!
//! A decision is written to the store's event log (with the delivery id, so a retried job
//! records it once) and applies to the finding id across the repository: on every pull
//! request and on the default branch. After a decision the change is reviewed again at
//! once, which edits the finding's comment to show the verdict, resolves its thread and
//! recomputes the summary and the gate.

use chrono::{Duration, NaiveDate, Utc};
use serde::Deserialize;
use serde_json::json;
use tracing::info;

use super::Outcome;
use super::review::{Context, JobError, review_one};
use crate::config::{self, Config};
use crate::forge::{Actor, ChangeRequest, CommentId, Permission, Published, ReplyTo};
use crate::model::{FindingId, ReviewedFinding, Triage, TriageSource, TriageState, Verdict};
use crate::store::{
    Accepted, Applied, DeliveryId, EventSource, Job, JobKind, NewDelivery, NewJob, ProjectId,
    TriageChange,
};
use crate::triage::command::{self, Command, HELP};
use crate::triage::{Subject, TriageRecord, short_id};

/// The command job's payload, as the webhook routers write it.
#[derive(Debug, Deserialize)]
struct Invocation {
    /// The whole comment.
    command: String,
    author: String,
    /// GitLab's user id.
    #[serde(default)]
    author_id: Option<i64>,
    /// Where the comment is: a review thread (GitHub) or a discussion (GitLab).
    #[serde(default)]
    reply_to: Option<Thread>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Thread {
    ReviewComment(String),
    Discussion(String),
}

/// Runs the commands of one comment and answers them.
pub async fn command(context: &Context<'_>, job: &Job) -> Result<Outcome, JobError> {
    let invocation: Invocation = match serde_json::from_value(job.payload.clone()) {
        Ok(invocation) => invocation,
        Err(error) => return Ok(Outcome::Skipped(format!("unreadable command job: {error}"))),
    };
    let Some(number) = job.pull_request else {
        return Ok(Outcome::Skipped(
            "a command without a change request".into(),
        ));
    };
    let lines = command::parse(&invocation.command);
    if lines.is_empty() {
        return Ok(Outcome::Skipped(
            "no /posture command in the comment".into(),
        ));
    }
    let forge = &context.forge;
    if invocation
        .author
        .eq_ignore_ascii_case(&forge.identity().await?)
    {
        return Ok(Outcome::Skipped("posture's own comment".into()));
    }
    let change = forge.change_request(&job.repository, number).await?;
    let project = context
        .store
        .upsert_project(
            forge.kind(),
            &change.repository,
            Some(&change.target_branch),
        )
        .await?;
    let reply_to = match invocation.reply_to {
        Some(Thread::ReviewComment(id)) => ReplyTo::ReviewComment(CommentId(id)),
        Some(Thread::Discussion(id)) => ReplyTo::Discussion(id),
        None => ReplyTo::Conversation,
    };
    let published = forge.published(&change).await?;
    let mut session = Session {
        context,
        job,
        change: &change,
        project,
        policy: policy(context, &change).await?,
        actor: Actor {
            login: invocation.author,
            id: invocation.author_id,
        },
        permission: None,
        thread_finding: thread_finding(&reply_to, &published),
        findings: context
            .store
            .snapshot(project, &change.head_sha)
            .await?
            .unwrap_or_default(),
        decisions: context.store.triage_decisions(project).await?,
        changed: false,
    };
    let mut answers = Vec::new();
    for line in lines {
        let answer = match line.command {
            Ok(command) => session.run(&command).await?,
            Err(error) => vec![format!("❌ `{}`: {error}", line.text)],
        };
        answers.extend(answer);
    }
    let body = format!("@{}\n\n{}", session.actor.login, answers.join("\n"));
    forge.reply(&change, &reply_to, &body).await?;
    info!(
        change = %format!("{}#{}", change.repository, change.number),
        changed = session.changed,
        "command answered"
    );
    if session.changed {
        // The verdicts show at once: comments edited, threads resolved, summary and gate
        // recomputed.
        if let Some(note) = review_one(context, job, &change).await? {
            info!("review after triage: {note}");
        }
    }
    Ok(Outcome::Done)
}

/// The target branch's `.posture.yml`: the triage rules are policy, never the change's.
async fn policy(context: &Context<'_>, change: &ChangeRequest) -> Result<Config, JobError> {
    let bytes = context
        .forge
        .read_file(&change.repository, &change.merge_base, config::FILE_NAME)
        .await?;
    // A broken policy file is answered by every review; commands fall back to the defaults.
    Ok(super::review::parse_config(bytes.as_deref())
        .await?
        .unwrap_or_default())
}

/// The finding of posture's own comment that the command replies to; `None` when that
/// comment lists several findings on its line (the command must name one by id).
fn thread_finding(reply_to: &ReplyTo, published: &Published) -> Option<FindingId> {
    let comment = match reply_to {
        ReplyTo::ReviewComment(id) => published.comments.iter().find(|c| &c.id == id),
        ReplyTo::Discussion(id) => published
            .comments
            .iter()
            .find(|c| c.thread.as_deref() == Some(id.as_str())),
        ReplyTo::Conversation => None,
    };
    match comment?.findings.as_slice() {
        [only] => Some(only.clone()),
        _ => None,
    }
}

/// See [`Session::record_id`]: `decided` tells whether an id has a decision.
fn record_id(
    findings: &[ReviewedFinding],
    decided: impl Fn(&FindingId) -> bool,
    id: &FindingId,
) -> FindingId {
    let Some(finding) = findings.iter().find(|f| f.is_known_as(id)) else {
        return id.clone();
    };
    finding
        .ids()
        .find(|id| decided(id))
        .unwrap_or(&finding.id)
        .clone()
}

/// One comment's commands, run in order against what the store knows.
struct Session<'c, 'a> {
    context: &'c Context<'a>,
    job: &'c Job,
    change: &'c ChangeRequest,
    project: ProjectId,
    policy: Config,
    actor: Actor,
    /// Asked of the forge once, when a command needs it.
    permission: Option<Permission>,
    thread_finding: Option<FindingId>,
    /// The findings of the change's latest review at head.
    findings: Vec<ReviewedFinding>,
    decisions: std::collections::HashMap<FindingId, TriageRecord>,
    changed: bool,
}

impl Session<'_, '_> {
    async fn run(&mut self, command: &Command) -> Result<Vec<String>, JobError> {
        if command.decides() || *command == Command::Rerun {
            if let Some(refusal) = self.refusal(command).await? {
                return Ok(vec![refusal]);
            }
        }
        match command {
            Command::Help => return Ok(vec![HELP.to_string()]),
            Command::Rerun => return self.rerun().await.map(|answer| vec![answer]),
            _ => {}
        }
        let targets = match self.targets(command.targets()) {
            Ok(targets) => targets,
            Err(refusal) => {
                return Ok(vec![format!("❌ `/posture {}`: {refusal}", command.name())]);
            }
        };
        let mut answers = Vec::new();
        for id in targets {
            answers.push(self.run_on(command, &id).await?);
        }
        Ok(answers)
    }

    /// Why the author may not run `command`, if they may not.
    async fn refusal(&mut self, command: &Command) -> Result<Option<String>, JobError> {
        let have = match self.permission {
            Some(have) => have,
            None => {
                let have = self
                    .context
                    .forge
                    .permission(&self.change.repository, &self.actor)
                    .await?;
                self.permission = Some(have);
                have
            }
        };
        let (need, why) = if self.policy.triage.maintainers_only() {
            (
                Permission::Maintain,
                " (the target branch's `.posture.yml` sets `triage.allow: [maintainers]`)",
            )
        } else {
            (Permission::Write, "")
        };
        Ok((have < need).then(|| {
            format!(
                "❌ `/posture {}`: needs {} permission on {}{why}; @{} has {}",
                command.name(),
                need.as_str(),
                self.change.repository,
                self.actor.login,
                have.as_str()
            )
        }))
    }

    /// The findings a command names: its short ids, else the thread's finding. An id a
    /// finding had before (its comment's marker, an older short id) names that finding.
    fn targets(&self, ids: &[String]) -> Result<Vec<FindingId>, String> {
        if ids.is_empty() {
            return self
                .thread_finding
                .as_ref()
                .map(|id| vec![self.record_id(id)])
                .ok_or_else(|| {
                    "name the finding: reply to posture's comment on it, or give its id (`P-3f9a1c`)"
                        .to_string()
                });
        }
        let known: std::collections::BTreeSet<&FindingId> = self
            .findings
            .iter()
            .flat_map(ReviewedFinding::ids)
            .chain(self.decisions.keys())
            .collect();
        ids.iter()
            .map(|short| {
                let matching: std::collections::BTreeSet<FindingId> = known
                    .iter()
                    .filter(|id| short_id(id).starts_with(short.as_str()))
                    .map(|id| self.record_id(id))
                    .collect();
                let matching: Vec<FindingId> = matching.into_iter().collect();
                match matching.as_slice() {
                    [id] => Ok(id.clone()),
                    [] => Err(format!(
                        "unknown id `{short}`: no finding of this change has it"
                    )),
                    _ => Err(format!(
                        "`{short}` names several findings: give more of its digits"
                    )),
                }
            })
            .collect()
    }

    /// The id a command about `id` is recorded under: for a finding of the latest review, the
    /// one of its ids (current first, then previous) that already has a decision, else its
    /// current id. A decision made under a finding's former id stays the one that is
    /// approved, reopened or replaced, rather than a second one shadowing it.
    fn record_id(&self, id: &FindingId) -> FindingId {
        record_id(&self.findings, |id| self.decisions.contains_key(id), id)
    }

    async fn run_on(&mut self, command: &Command, id: &FindingId) -> Result<String, JobError> {
        let short = short_id(id);
        let current = self.decisions.get(id).cloned();
        let change = match command {
            Command::Dismiss {
                reason, comment, ..
            } => self.decide(id, Verdict::Dismiss { reason: *reason }, comment),
            Command::Accept { until, comment, .. } => {
                if let Some(refusal) = self.check_until(*until) {
                    return Ok(format!("❌ {short}: {refusal}"));
                }
                self.decide(id, Verdict::Accept { until: *until }, comment)
            }
            Command::Approve { .. } | Command::Reject { .. } => {
                let Some(pending) = current
                    .as_ref()
                    .filter(|r| r.triage.state == TriageState::Pending)
                else {
                    return Ok(format!("❌ {short} has no request waiting for approval"));
                };
                if pending.triage.by.eq_ignore_ascii_case(&self.actor.login) {
                    return Ok(format!(
                        "❌ {short}: nobody approves or rejects their own request; another person allowed to triage must"
                    ));
                }
                if matches!(command, Command::Approve { .. }) {
                    TriageChange::Approve {
                        finding: id.clone(),
                    }
                } else {
                    TriageChange::Reject {
                        finding: id.clone(),
                    }
                }
            }
            Command::Reopen { .. } => {
                if current.is_none() {
                    return Ok(format!("❌ {short} is neither dismissed nor accepted"));
                }
                TriageChange::Reopen {
                    finding: id.clone(),
                }
            }
            Command::Explain { .. } => return Ok(self.explain(id)),
            // Answered by `run` before findings are looked up.
            Command::Rerun | Command::Help => {
                return Ok(format!("`/posture {}` names no finding", command.name()));
            }
        };
        let source = EventSource {
            at: Utc::now(),
            actor: Some(self.actor.login.clone()),
            comment: match command {
                Command::Dismiss { comment, .. } | Command::Accept { comment, .. } => {
                    comment.clone()
                }
                _ => None,
            },
            pull_request: Some(self.change.number),
            delivery_id: self.job.delivery_id.as_ref().map(|d| d.0.clone()),
        };
        let applied = self
            .context
            .store
            .apply_triage(self.project, &change, &source)
            .await?;
        Ok(match applied {
            Applied::Recorded(next) => {
                self.changed = true;
                let answer = self.answer(command, &short, current.as_ref(), next.as_deref());
                match next {
                    Some(record) => self.decisions.insert(id.clone(), *record),
                    None => self.decisions.remove(id),
                };
                answer
            }
            Applied::AlreadyRecorded => format!("{short}: already recorded for this comment"),
            Applied::NotApplicable => format!("❌ {short}: nothing to {}", command.name()),
        })
    }

    /// A dismissal or acceptance; pending when the policy wants a second person.
    fn decide(&self, id: &FindingId, verdict: Verdict, comment: &Option<String>) -> TriageChange {
        let state = if self.policy.triage.needs_approval(verdict) {
            TriageState::Pending
        } else {
            verdict.state()
        };
        let subject = self
            .findings
            .iter()
            .find(|f| f.is_known_as(id))
            .map(|f| Subject::of(&f.finding))
            .or_else(|| self.decisions.get(id).map(|r| r.subject.clone()))
            .unwrap_or_default();
        TriageChange::Decide(Box::new(TriageRecord {
            finding_id: id.clone(),
            subject,
            triage: Triage {
                state,
                verdict,
                by: self.actor.login.clone(),
                at: Utc::now(),
                comment: comment.clone(),
                source: TriageSource::Command {
                    pull_request: self.change.number,
                    delivery_id: self.job.delivery_id.as_ref().map(|d| d.0.clone()),
                },
            },
        }))
    }

    /// Why `until` is refused: in the past, or further ahead than the policy allows.
    fn check_until(&self, until: NaiveDate) -> Option<String> {
        let today = Utc::now().date_naive();
        let days = self.policy.triage.max_accept_days;
        let latest = today + Duration::days(i64::from(days));
        if until < today {
            Some(format!("`--until {until}` is in the past"))
        } else if until > latest {
            Some(format!(
                "`--until {until}` is too far ahead: at most {days} days (until {latest}; `triage.max_accept_days`)"
            ))
        } else {
            None
        }
    }

    fn answer(
        &self,
        command: &Command,
        short: &str,
        before: Option<&TriageRecord>,
        after: Option<&TriageRecord>,
    ) -> String {
        let who = &self.actor.login;
        match (command, after) {
            (_, Some(record)) if record.triage.state == TriageState::Pending => format!(
                "⏳ {short}: @{who} asks for it to be {}; a second person allowed to triage must `/posture approve {short}` (or `/posture reject {short}`)",
                record.triage.verdict
            ),
            (Command::Approve { .. }, Some(record)) => format!(
                "✅ {short} {} by @{}, approved by @{who}",
                record.triage.verdict, record.triage.by
            ),
            (_, Some(record)) => format!("✅ {short} {} by @{who}", record.triage.verdict),
            (Command::Reject { .. }, None) => format!(
                "✅ {short}: @{who} rejected the request to be {}; it stays open",
                before.map_or_else(String::new, |r| r.triage.verdict.to_string())
            ),
            (_, None) => format!("✅ {short} reopened by @{who}: it is reported again"),
        }
    }

    /// The finding's rank explained: factors, introducing commit, fix.
    fn explain(&self, id: &FindingId) -> String {
        let short = short_id(id);
        let Some(finding) = self.findings.iter().find(|f| f.is_known_as(id)) else {
            return format!("❌ {short} is not among the findings of this change's latest review");
        };
        let f = &finding.finding;
        let mut text = format!(
            "**{short}** `{}` ({}): {}\n\nRisk {}/100, because:\n",
            f.rule, f.severity, f.title, finding.risk.score
        );
        for factor in &finding.risk.factors {
            text.push_str(&format!(
                "- {} ({:+}): {}\n",
                factor.name, factor.points, factor.detail
            ));
        }
        match &finding.introduced_by {
            Some(by) => text.push_str(&format!(
                "\nIntroduced by {} ({}, {}): {}\n",
                by.commit.get(..10).unwrap_or(&by.commit),
                by.author,
                by.date.date_naive(),
                by.summary
            )),
            None => match finding.introduced_unknown {
                Some(reason) => {
                    text.push_str(&format!("\nIntroduced by: {}.\n", reason.describe()))
                }
                None => text.push_str("\nThe introducing commit is unknown.\n"),
            },
        }
        if let Some(upgrade) = &finding.upgrade {
            text.push_str(&format!(
                "\nFix: upgrade {} from {} to {}{}.\n",
                upgrade.package,
                upgrade.from,
                upgrade.to,
                upgrade
                    .manifest
                    .as_ref()
                    .map(|m| format!(" in `{m}`"))
                    .unwrap_or_default()
            ));
        } else if let Some(description) = f.fix.as_ref().and_then(|fix| fix.description.as_ref()) {
            text.push_str(&format!("\nFix: {description}\n"));
        }
        if let Some(triage) = &finding.triage {
            text.push_str(&format!(
                "\nTriage: {} ({}) by @{}\n",
                triage.verdict, triage.state, triage.by
            ));
        }
        text
    }

    /// Queues a fresh review of the change's head.
    async fn rerun(&self) -> Result<String, JobError> {
        let forge = self.context.forge.kind();
        let delivery = self
            .job
            .delivery_id
            .clone()
            .unwrap_or_else(|| DeliveryId(format!("job-{}", self.job.id)));
        let stored = self
            .context
            .store
            .accept(
                NewDelivery {
                    forge,
                    delivery_id: DeliveryId(format!("rerun:{}", delivery.0)),
                    event: "rerun".into(),
                    action: None,
                    repository: self.change.repository.clone(),
                    payload: json!({ "trigger": "rerun" }),
                },
                vec![NewJob {
                    kind: JobKind::Review,
                    repository: self.change.repository.clone(),
                    pull_request: Some(self.change.number),
                    head_sha: Some(self.change.head_sha.clone()),
                    coalesce_key: Some(format!(
                        "{forge}:{}#{}",
                        self.change.repository, self.change.number
                    )),
                    payload: self.job.payload.clone(),
                }],
            )
            .await?;
        Ok(match stored {
            Accepted::Stored { .. } => format!(
                "🔁 a fresh review of {} is queued",
                &self
                    .change
                    .head_sha
                    .get(..10)
                    .unwrap_or(&self.change.head_sha)
            ),
            Accepted::Duplicate => "🔁 the review is already queued".to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Finding, Kind, Risk, Status};

    fn reviewed(id: &str, previous: &[&str]) -> ReviewedFinding {
        ReviewedFinding {
            id: FindingId(id.into()),
            status: Status::New,
            in_diff: true,
            finding: Finding::new(Kind::Sast, "semgrep", "r"),
            line_hash: None,
            introduced_by: None,
            risk: Risk::default(),
            upgrade: None,
            ignored: None,
            dependency: None,
            triage: None,
            changed: false,
            previous_ids: previous.iter().map(|p| FindingId((*p).into())).collect(),
            introduced_unknown: None,
            snippet: None,
            owner: None,
        }
    }

    #[test]
    fn a_command_about_a_previous_id_is_recorded_where_the_decision_lives() {
        let findings = [reviewed("new", &["old"]), reviewed("other", &[])];
        let id = |s: &str| FindingId(s.into());
        let none = |_: &FindingId| false;
        let under_old = |i: &FindingId| i.0 == "old";
        // A thread whose marker carries the old id names the finding: a first decision goes
        // under its current id, a later one (reopen, approve) where the first was recorded.
        assert_eq!(record_id(&findings, none, &id("old")), id("new"));
        assert_eq!(record_id(&findings, under_old, &id("old")), id("old"));
        assert_eq!(record_id(&findings, under_old, &id("new")), id("old"));
        assert_eq!(record_id(&findings, under_old, &id("other")), id("other"));
        // An id no finding of the review has is kept as it is (a decision to reopen).
        assert_eq!(record_id(&findings, none, &id("gone")), id("gone"));
    }
}
