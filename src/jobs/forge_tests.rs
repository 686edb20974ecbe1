//! The forge jobs against an in-memory forge: what a review publishes, and that running it
//! again publishes nothing twice. (The HTTP clients are tested against wiremock in
//! `tests/`; this checks the job's own logic.)

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use serde_json::json;

use super::review::{self, Context};
use super::{Outcome, ReviewSettings};
use crate::forge::{
    Actor, ArtifactLimits, ChangeCommitList, ChangeRequest, CommentId, CommentOutcome, Forge,
    ForgeError, ForgeResult, GateStatus, InlineComment, Permission, PostedComment, Published,
    ReplyTo, ReportFile, ReportGlobs, Reports,
};
use crate::model::{ChangeSet, ChangeStatus, CommitInfo, FileBlame, FileChange};
use crate::report::{parse_finding_marker, parse_finding_markers};
use crate::store::{self, Job, JobId, JobKind, Store};

const HEAD: &str = "1111111111111111111111111111111111111111";
const BASE: &str = "2222222222222222222222222222222222222222";
/// The fake forge's answer to `identity()`.
const IDENTITY: &str = "posture[bot]";

#[derive(Default)]
struct State {
    files: HashMap<(String, String), Vec<u8>>,
    reports: HashMap<String, Vec<ReportFile>>,
    published: Published,
    /// Inline comments posted, in order.
    posted: Vec<InlineComment>,
    summaries: Vec<String>,
    gates: Vec<GateStatus>,
    resolved: Vec<String>,
    /// Fail `post_comments` once with this error.
    fail_posting: Option<ForgeError>,
    draft: bool,
    /// `permission()`'s answers by login; anyone else has `Permission::None`.
    permissions: HashMap<String, Permission>,
    /// `reply()` calls, in order.
    replies: Vec<(ReplyTo, String)>,
    /// The comments whose threads `resolve_thread()` resolved, in order.
    resolved_threads: Vec<CommentId>,
    /// `change_request()` never answers (a forge, or a parse, that takes forever).
    hang: bool,
    /// Issues opened, numbered from 1: (repository, title, body).
    issues: Vec<(String, String, String)>,
}

#[derive(Default)]
struct FakeForge {
    state: Mutex<State>,
}

impl FakeForge {
    fn change(&self) -> ChangeRequest {
        ChangeRequest {
            repository: "octo/app".into(),
            number: 7,
            title: "Add a feature".into(),
            head_sha: HEAD.into(),
            target_sha: BASE.into(),
            merge_base: BASE.into(),
            target_branch: "main".into(),
            draft: self.state.lock().unwrap().draft,
            open: true,
        }
    }
}

#[async_trait]
impl Forge for FakeForge {
    fn kind(&self) -> store::Forge {
        store::Forge::GitHub
    }
    async fn change_request(&self, _: &str, _: i64) -> ForgeResult<ChangeRequest> {
        if self.state.lock().unwrap().hang {
            std::future::pending::<()>().await;
        }
        Ok(self.change())
    }
    async fn open_change_requests(
        &self,
        _: &str,
        _: Option<&str>,
    ) -> ForgeResult<Vec<ChangeRequest>> {
        Ok(vec![self.change()])
    }
    async fn changes(&self, _: &ChangeRequest) -> ForgeResult<ChangeSet> {
        Ok(ChangeSet {
            base: BASE.into(),
            head: HEAD.into(),
            files: vec![FileChange {
                old_path: Some("app.py".into()),
                new_path: Some("app.py".into()),
                status: ChangeStatus::Modified,
                hunks: Vec::new(),
                added_lines: vec![3],
                binary: false,
            }],
        })
    }
    /// The change is one commit, the head, which blame names for every line.
    async fn change_commits(&self, _: &ChangeRequest) -> ForgeResult<ChangeCommitList> {
        Ok(ChangeCommitList::Complete(vec![HEAD.into()]))
    }
    async fn read_file(&self, _: &str, sha: &str, path: &str) -> ForgeResult<Option<Vec<u8>>> {
        let state = self.state.lock().unwrap();
        Ok(state.files.get(&(sha.to_owned(), path.to_owned())).cloned())
    }
    async fn list_files(&self, _: &str, sha: &str) -> ForgeResult<Vec<String>> {
        let state = self.state.lock().unwrap();
        let mut files: Vec<String> = state
            .files
            .keys()
            .filter(|(rev, _)| rev == sha)
            .map(|(_, path)| path.clone())
            .collect();
        files.sort();
        Ok(files)
    }
    async fn blame(&self, _: &str, _: &str, _: &str) -> ForgeResult<FileBlame> {
        Ok(FileBlame {
            commits: vec![CommitInfo {
                sha: HEAD.into(),
                author: "Ada".into(),
                email: "ada@example.com".into(),
                date: chrono::Utc::now(),
                committed: chrono::Utc::now(),
                summary: "add eval".into(),
                shallow_boundary: false,
            }],
            lines: vec![0; 5],
        })
    }
    async fn reports(
        &self,
        _: &str,
        sha: &str,
        _: &ReportGlobs,
        _: &ArtifactLimits,
    ) -> ForgeResult<Reports> {
        let files = self.state.lock().unwrap().reports.get(sha).cloned();
        Ok(Reports {
            ci_seen: files.is_some(),
            files: files.unwrap_or_default(),
            skipped: Vec::new(),
        })
    }
    async fn identity(&self) -> ForgeResult<String> {
        Ok(IDENTITY.to_owned())
    }
    async fn permission(&self, _: &str, actor: &Actor) -> ForgeResult<Permission> {
        let state = self.state.lock().unwrap();
        Ok(state
            .permissions
            .get(&actor.login)
            .copied()
            .unwrap_or(Permission::None))
    }
    async fn reads(&self, repository: &str, actor: &Actor) -> ForgeResult<bool> {
        Ok(self.permission(repository, actor).await? >= Permission::Read)
    }
    async fn team_member(&self, _: &str, _: &str, _: &Actor) -> ForgeResult<bool> {
        Ok(false)
    }
    async fn reply(&self, _: &ChangeRequest, to: &ReplyTo, body: &str) -> ForgeResult<()> {
        let mut state = self.state.lock().unwrap();
        state.replies.push((to.clone(), body.to_owned()));
        Ok(())
    }
    async fn resolve_thread(&self, _: &ChangeRequest, comment: &PostedComment) -> ForgeResult<()> {
        let mut state = self.state.lock().unwrap();
        if comment.resolved {
            return Ok(());
        }
        state.resolved_threads.push(comment.id.clone());
        for posted in &mut state.published.comments {
            if posted.id == comment.id {
                posted.resolved = true;
            }
        }
        Ok(())
    }
    async fn published(&self, _: &ChangeRequest) -> ForgeResult<Published> {
        Ok(self.state.lock().unwrap().published.clone())
    }
    async fn post_comments(
        &self,
        _: &ChangeRequest,
        comments: &[InlineComment],
    ) -> ForgeResult<Vec<CommentOutcome>> {
        let mut state = self.state.lock().unwrap();
        if let Some(error) = state.fail_posting.take() {
            return Err(error);
        }
        let mut outcomes = Vec::new();
        for comment in comments {
            let id = CommentId(format!("c{}", state.posted.len() + 1));
            state.published.comments.push(PostedComment {
                id: id.clone(),
                thread: None,
                findings: parse_finding_markers(&comment.body),
                body: comment.body.clone(),
                resolved: false,
            });
            state.posted.push(comment.clone());
            outcomes.push(CommentOutcome::Posted(id));
        }
        Ok(outcomes)
    }
    async fn update_comment(
        &self,
        _: &ChangeRequest,
        comment: &PostedComment,
        body: &str,
    ) -> ForgeResult<()> {
        let mut state = self.state.lock().unwrap();
        for posted in &mut state.published.comments {
            if posted.id == comment.id {
                posted.body = body.to_owned();
                // As a forge reads it back: the markers the new text carries.
                posted.findings = parse_finding_markers(body);
            }
        }
        Ok(())
    }
    async fn resolve_comment(
        &self,
        _: &ChangeRequest,
        comment: &PostedComment,
        _: &str,
    ) -> ForgeResult<()> {
        let mut state = self.state.lock().unwrap();
        let ids = comment.findings.iter().map(|id| id.0.clone());
        state.resolved.extend(ids);
        for posted in &mut state.published.comments {
            if posted.id == comment.id {
                posted.resolved = true;
            }
        }
        Ok(())
    }
    async fn upsert_summary(
        &self,
        _: &ChangeRequest,
        existing: Option<&CommentId>,
        body: &str,
    ) -> ForgeResult<CommentId> {
        let mut state = self.state.lock().unwrap();
        if existing.is_none() {
            assert!(
                state.published.summary.is_none(),
                "a second summary comment"
            );
        }
        state.summaries.push(body.to_owned());
        state.published.summary = Some((CommentId("summary".into()), body.to_owned()));
        Ok(CommentId("summary".into()))
    }
    async fn set_gate(&self, _: &str, gate: &GateStatus) -> ForgeResult<()> {
        self.state.lock().unwrap().gates.push(gate.clone());
        Ok(())
    }
    async fn is_public(&self, _: &str) -> ForgeResult<bool> {
        Ok(false)
    }
    async fn create_issue(&self, repository: &str, title: &str, body: &str) -> ForgeResult<i64> {
        let mut state = self.state.lock().unwrap();
        state
            .issues
            .push((repository.into(), title.into(), body.into()));
        Ok(state.issues.len() as i64)
    }
    async fn edit_issue(
        &self,
        repository: &str,
        number: i64,
        title: &str,
        body: &str,
    ) -> ForgeResult<()> {
        let mut state = self.state.lock().unwrap();
        match usize::try_from(number - 1)
            .ok()
            .and_then(|i| state.issues.get_mut(i))
            .filter(|issue| issue.0 == repository)
        {
            Some(issue) => {
                *issue = (repository.into(), title.into(), body.into());
                Ok(())
            }
            None => Err(ForgeError::NotFound {
                forge: store::Forge::GitHub,
                what: format!("issue {repository}#{number}"),
            }),
        }
    }
}

fn sarif(results: &[(&str, u32)]) -> Vec<u8> {
    let results: Vec<_> = results
        .iter()
        .map(|(path, line)| {
            json!({
                "ruleId": "eval",
                "message": {"text": "eval of user input"},
                "locations": [{"physicalLocation": {
                    "artifactLocation": {"uri": path},
                    "region": {"startLine": line}
                }}]
            })
        })
        .collect();
    serde_json::to_vec(&json!({
        "version": "2.1.0",
        "runs": [{"tool": {"driver": {"name": "Semgrep OSS", "rules": [
            {"id": "eval", "shortDescription": {"text": "Use of eval"},
             "properties": {"security-severity": "8.0"}}
        ]}}, "results": results}]
    }))
    .unwrap()
}

async fn store(dir: &tempfile::TempDir) -> Store {
    let store = Store::connect(&format!("sqlite://{}", dir.path().join("p.db").display()))
        .await
        .unwrap();
    store.migrate().await.unwrap();
    store
}

fn job() -> Job {
    Job {
        id: JobId(1),
        kind: JobKind::Review,
        forge: store::Forge::GitHub,
        repository: "octo/app".into(),
        pull_request: Some(7),
        head_sha: Some(HEAD.into()),
        delivery_id: None,
        payload: json!({}),
        attempts: 1,
    }
}

/// A test's store, forge and settings, from which a job's [`Context`] is made.
struct Setup {
    _dir: tempfile::TempDir,
    store: Store,
    forge: Arc<FakeForge>,
    settings: ReviewSettings,
}

impl Setup {
    async fn new(base_reports: bool) -> Setup {
        let dir = tempfile::TempDir::new().unwrap();
        Setup {
            store: store(&dir).await,
            _dir: dir,
            forge: forge_with_reports(base_reports),
            settings: ReviewSettings::default(),
        }
    }

    fn context(&self) -> Context<'_> {
        Context {
            store: &self.store,
            forge: self.forge.clone(),
            settings: &self.settings,
        }
    }
}

/// A repository where head added `eval` on line 3 of app.py; line 1's `eval` is old.
fn forge_with_reports(base_reports: bool) -> Arc<FakeForge> {
    let forge = FakeForge::default();
    {
        let mut state = forge.state.lock().unwrap();
        let old = "eval(a)\nx = 1\n";
        let new = "eval(a)\nx = 1\neval(b)\n";
        state
            .files
            .insert((BASE.into(), "app.py".into()), old.into());
        state
            .files
            .insert((HEAD.into(), "app.py".into()), new.into());
        state.reports.insert(
            HEAD.into(),
            vec![ReportFile {
                name: "scans/semgrep.sarif".into(),
                bytes: sarif(&[("app.py", 1), ("app.py", 3)]),
            }],
        );
        if base_reports {
            state.reports.insert(
                BASE.into(),
                vec![ReportFile {
                    name: "scans/semgrep.sarif".into(),
                    bytes: sarif(&[("app.py", 1)]),
                }],
            );
        }
    }
    Arc::new(forge)
}

#[tokio::test]
async fn a_review_comments_on_the_new_finding_and_a_rerun_posts_nothing_new() {
    let setup = Setup::new(true).await;
    let (store, forge) = (&setup.store, &setup.forge);
    let context = setup.context();

    assert_eq!(
        review::review(&context, &job()).await.unwrap(),
        Outcome::Done
    );
    {
        let state = forge.state.lock().unwrap();
        assert_eq!(
            state.posted.len(),
            1,
            "only the new finding is commented on"
        );
        assert_eq!(
            (state.posted[0].path.as_str(), state.posted[0].line),
            ("app.py", 3)
        );
        assert_eq!(state.summaries.len(), 1);
        assert!(state.summaries[0].starts_with("<!-- posture:summary -->"));
        assert!(
            state.summaries[0].contains("1 new finding"),
            "{}",
            state.summaries[0]
        );
        assert!(
            parse_finding_marker(&state.summaries[0]).is_none(),
            "markers belong to inline comments"
        );
        assert_eq!(state.gates.len(), 1);
        assert!(!state.gates[0].passed, "a new high finding fails the gate");
    }
    // The head's findings are stored.
    let project = store
        .upsert_project(store::Forge::GitHub, "octo/app", None)
        .await
        .unwrap();
    assert!(store.snapshot(project, HEAD).await.unwrap().is_some());
    assert_eq!(store.comments(project, 7).await.unwrap().len(), 1);

    // Redelivered: nothing posted again, the summary is not rewritten when unchanged.
    assert_eq!(
        review::review(&context, &job()).await.unwrap(),
        Outcome::Done
    );
    let state = forge.state.lock().unwrap();
    assert_eq!(state.posted.len(), 1);
    assert_eq!(state.summaries.len(), 1);
    assert_eq!(
        state.gates.len(),
        2,
        "the gate is set again for the same head, replacing it"
    );
}

#[tokio::test]
async fn a_rate_limit_mid_publication_loses_nothing_and_doubles_nothing() {
    let setup = Setup::new(true).await;
    let forge = &setup.forge;
    forge.state.lock().unwrap().fail_posting = Some(ForgeError::RateLimited {
        forge: store::Forge::GitHub,
        what: "creating a review".into(),
        retry_after: std::time::Duration::from_secs(30),
    });
    let context = setup.context();
    let error = review::review(&context, &job()).await.unwrap_err();
    assert!(
        matches!(
            error,
            review::JobError::Forge(ForgeError::RateLimited { .. })
        ),
        "{error}"
    );
    assert!(forge.state.lock().unwrap().posted.is_empty());
    // The retry posts the comment once.
    assert_eq!(
        review::review(&context, &job()).await.unwrap(),
        Outcome::Done
    );
    assert_eq!(forge.state.lock().unwrap().posted.len(), 1);
}

#[tokio::test]
async fn without_a_baseline_only_the_diff_counts_and_the_summary_says_so() {
    let setup = Setup::new(false).await;
    let forge = &setup.forge;
    let context = setup.context();
    assert_eq!(
        review::review(&context, &job()).await.unwrap(),
        Outcome::Done
    );
    let state = forge.state.lock().unwrap();
    assert_eq!(
        state.posted.len(),
        1,
        "line 1 is outside the diff: not called new"
    );
    assert!(
        state.summaries[0].contains("baseline unknown"),
        "{}",
        state.summaries[0]
    );
}

#[tokio::test]
async fn a_fixed_finding_has_its_comment_resolved() {
    let setup = Setup::new(true).await;
    let forge = &setup.forge;
    let context = setup.context();
    review::review(&context, &job()).await.unwrap();
    // A later push removes the new eval: head's report has only the old one.
    forge.state.lock().unwrap().reports.insert(
        HEAD.into(),
        vec![ReportFile {
            name: "scans/semgrep.sarif".into(),
            bytes: sarif(&[("app.py", 1)]),
        }],
    );
    review::review(&context, &job()).await.unwrap();
    let state = forge.state.lock().unwrap();
    assert_eq!(state.resolved.len(), 1);
    assert!(state.gates.last().unwrap().passed);
}

/// Semgrep's report with one result per rule, each on its line.
fn sarif_rules(results: &[(&str, u32)]) -> Vec<u8> {
    let rules: Vec<_> = results
        .iter()
        .map(|(rule, _)| {
            json!({"id": rule, "shortDescription": {"text": format!("Problem {rule}")},
                   "properties": {"security-severity": "8.0"}})
        })
        .collect();
    let results: Vec<_> = results
        .iter()
        .map(|(rule, line)| {
            json!({
                "ruleId": rule,
                "message": {"text": format!("{rule} of user input")},
                "locations": [{"physicalLocation": {
                    "artifactLocation": {"uri": "app.py"},
                    "region": {"startLine": line}
                }}]
            })
        })
        .collect();
    serde_json::to_vec(&json!({
        "version": "2.1.0",
        "runs": [{"tool": {"driver": {"name": "Semgrep OSS", "rules": rules}}, "results": results}]
    }))
    .unwrap()
}

#[tokio::test]
async fn two_findings_on_one_line_get_one_comment_that_a_fix_edits_and_the_last_fix_resolves() {
    let setup = Setup::new(true).await;
    let (store, forge) = (&setup.store, &setup.forge);
    let context = setup.context();
    let head_reports = |results: &[(&str, u32)]| {
        vec![ReportFile {
            name: "scans/semgrep.sarif".into(),
            bytes: sarif_rules(results),
        }]
    };
    forge
        .state
        .lock()
        .unwrap()
        .reports
        .insert(HEAD.into(), head_reports(&[("eval", 3), ("exec", 3)]));
    review::review(&context, &job()).await.unwrap();
    let ids = {
        let state = forge.state.lock().unwrap();
        assert_eq!(state.posted.len(), 1, "one comment for line 3");
        assert_eq!(state.posted[0].findings.len(), 2);
        assert_eq!(state.published.comments[0].findings.len(), 2);
        state.posted[0].findings.clone()
    };
    // Each finding's comment is recorded: commands and history find it by either.
    let project = store
        .upsert_project(store::Forge::GitHub, "octo/app", None)
        .await
        .unwrap();
    let recorded = store.comments(project, 7).await.unwrap();
    assert_eq!(recorded.len(), 2, "{recorded:?}");

    // A re-run: nothing new, nothing edited.
    review::review(&context, &job()).await.unwrap();
    {
        let state = forge.state.lock().unwrap();
        assert_eq!(state.posted.len(), 1);
        assert_eq!(state.published.comments[0].findings, ids);
        assert!(state.resolved.is_empty());
    }
    // `exec` fixed: the comment is edited to list `eval` alone, not resolved.
    forge
        .state
        .lock()
        .unwrap()
        .reports
        .insert(HEAD.into(), head_reports(&[("eval", 3)]));
    review::review(&context, &job()).await.unwrap();
    {
        let state = forge.state.lock().unwrap();
        assert_eq!(state.posted.len(), 1, "edited, not reposted");
        let comment = &state.published.comments[0];
        assert_eq!(comment.findings.len(), 1);
        assert!(
            comment.body.contains("eval of user input"),
            "{}",
            comment.body
        );
        assert!(
            !comment.body.contains("exec of user input"),
            "{}",
            comment.body
        );
        assert!(state.resolved.is_empty());
    }
    // Both fixed: now it is resolved.
    forge
        .state
        .lock()
        .unwrap()
        .reports
        .insert(HEAD.into(), head_reports(&[("other", 1)]));
    review::review(&context, &job()).await.unwrap();
    let state = forge.state.lock().unwrap();
    assert_eq!(state.resolved.len(), 1, "{:?}", state.resolved);
}

#[tokio::test]
async fn a_ci_run_without_a_readable_report_still_sets_the_gate() {
    let setup = Setup::new(true).await;
    let forge = &setup.forge;
    // CI ran, and its artifacts hold no report.
    forge
        .state
        .lock()
        .unwrap()
        .reports
        .insert(HEAD.into(), Vec::new());
    let context = setup.context();
    let outcome = review::review(&context, &job()).await.unwrap();
    assert!(
        matches!(&outcome, Outcome::Skipped(why) if why.contains("no reports")),
        "{outcome:?}"
    );
    {
        let state = forge.state.lock().unwrap();
        assert_eq!(state.gates.len(), 1, "the gate is set, not left empty");
        assert!(!state.gates[0].passed);
        assert_eq!(
            state.gates[0].title,
            "Incomplete: no scanner report in CI's artifacts"
        );
        assert!(state.summaries[0].contains("no scanner reports"));
    }
    // The target branch's config may let a missing report pass.
    forge.state.lock().unwrap().files.insert(
        (BASE.into(), ".posture.yml".into()),
        b"gate:\n  on_missing_report: pass\n".to_vec(),
    );
    review::review(&context, &job()).await.unwrap();
    assert!(forge.state.lock().unwrap().gates[1].passed);
}

/// Serves every job with one fake forge.
struct OneForge(Arc<FakeForge>);

#[async_trait]
impl super::ForgeProvider for OneForge {
    async fn forge_for(&self, _: &Job) -> Result<Arc<dyn Forge>, super::NoForge> {
        Ok(self.0.clone())
    }
    async fn forge_for_owner(
        &self,
        _: crate::store::Forge,
        _: &str,
    ) -> Result<Arc<dyn Forge>, super::NoForge> {
        Ok(self.0.clone())
    }
}

#[tokio::test]
async fn a_review_past_its_time_budget_ends_with_the_reason() {
    let setup = Setup::new(true).await;
    setup.forge.state.lock().unwrap().hang = true;
    let runner = super::ForgeRunner {
        store: setup.store.clone(),
        forges: Arc::new(OneForge(setup.forge.clone())),
        settings: ReviewSettings {
            time_budget: std::time::Duration::from_millis(200),
            ..ReviewSettings::default()
        },
    };
    // The forge never answers: the budget ends the job.
    let outcome = super::Runner::run(&runner, &job()).await;
    let Outcome::Failed(reason) = &outcome else {
        panic!("{outcome:?}");
    };
    assert!(reason.contains("time budget of 0.2 s"), "{reason}");
}

#[tokio::test]
async fn drafts_wait_and_a_broken_config_is_answered_on_the_change() {
    let setup = Setup::new(true).await;
    let forge = &setup.forge;
    forge.state.lock().unwrap().draft = true;
    let context = setup.context();
    let outcome = review::review(&context, &job()).await.unwrap();
    assert!(
        matches!(&outcome, Outcome::Skipped(why) if why.contains("draft")),
        "{outcome:?}"
    );
    assert!(forge.state.lock().unwrap().summaries.is_empty());

    {
        let mut state = forge.state.lock().unwrap();
        state.draft = false;
        state.files.insert(
            (HEAD.into(), ".posture.yml".into()),
            b"version: 1\nfail_on: [oops\n".to_vec(),
        );
    }
    let outcome = review::review(&context, &job()).await.unwrap();
    assert!(
        matches!(&outcome, Outcome::Skipped(why) if why.contains(".posture.yml")),
        "{outcome:?}"
    );
    let state = forge.state.lock().unwrap();
    assert!(state.posted.is_empty());
    assert!(
        state.summaries[0].contains(".posture.yml` is invalid"),
        "{}",
        state.summaries[0]
    );
    assert!(
        state.summaries[0].contains(".posture.yml:2:10: fail_on"),
        "{}",
        state.summaries[0]
    );
    assert!(!state.gates[0].passed);
}

#[tokio::test]
async fn a_baseline_records_the_default_branch_and_reviews_compare_against_it() {
    let setup = Setup::new(false).await;
    let (store, forge) = (&setup.store, &setup.forge);
    // The default branch's CI left reports for BASE.
    forge.state.lock().unwrap().reports.insert(
        BASE.into(),
        vec![ReportFile {
            name: "scans/semgrep.sarif".into(),
            bytes: sarif(&[("app.py", 1)]),
        }],
    );
    let context = setup.context();
    let baseline = Job {
        kind: JobKind::Baseline,
        pull_request: None,
        head_sha: Some(BASE.into()),
        ..job()
    };
    assert_eq!(
        review::baseline(&context, &baseline).await.unwrap(),
        Outcome::Done
    );
    let project = store
        .upsert_project(store::Forge::GitHub, "octo/app", None)
        .await
        .unwrap();
    assert_eq!(
        store.snapshot(project, BASE).await.unwrap().unwrap().len(),
        1
    );
    // Without BASE's reports at hand, the stored baseline is what the review compares with.
    forge.state.lock().unwrap().reports.remove(BASE);
    review::review(&context, &job()).await.unwrap();
    let state = forge.state.lock().unwrap();
    assert!(
        !state.summaries[0].contains("baseline unknown"),
        "{}",
        state.summaries[0]
    );
    assert_eq!(state.posted.len(), 1);
}

#[tokio::test]
async fn a_baseline_records_the_default_branchs_inventory_read_through_the_forge() {
    let setup = Setup::new(false).await;
    let (store, forge) = (&setup.store, &setup.forge);
    {
        let mut state = forge.state.lock().unwrap();
        state.reports.insert(
            BASE.into(),
            vec![ReportFile {
                name: "scans/semgrep.sarif".into(),
                bytes: sarif(&[("app.py", 1)]),
            }],
        );
        let lock = json!({
            "name": "app", "lockfileVersion": 3, "requires": true,
            "packages": {
                "": {"name": "app", "dependencies": {"lodash": "^4.17.21"}},
                "node_modules/lodash": {"version": "4.17.21", "license": "MIT"}
            }
        });
        state.files.insert(
            (BASE.into(), "package-lock.json".into()),
            serde_json::to_vec_pretty(&lock).unwrap(),
        );
        state.files.insert(
            (BASE.into(), "api/openapi.yaml".into()),
            b"openapi: 3.0.3\ninfo: {title: app, version: '1'}\npaths:\n  /health:\n    get:\n      responses: {'200': {description: ok}}\n".to_vec(),
        );
    }
    let context = setup.context();
    let baseline = Job {
        kind: JobKind::Baseline,
        pull_request: None,
        head_sha: Some(BASE.into()),
        ..job()
    };
    assert_eq!(
        review::baseline(&context, &baseline).await.unwrap(),
        Outcome::Done
    );
    let components = store
        .components(&store::ComponentQuery {
            org: "octo".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(components.len(), 1, "{components:?}");
    let lodash = &components[0];
    assert_eq!(lodash.component.purl, "pkg:npm/lodash@4.17.21");
    assert_eq!(lodash.component.licenses.declared.as_deref(), Some("MIT"));
    assert_eq!(lodash.introduced_commit, BASE);
    let endpoints = store.endpoints("octo", Some("octo/app")).await.unwrap();
    assert_eq!(endpoints.len(), 1, "{endpoints:?}");
    assert_eq!(
        (
            endpoints[0].method.as_str(),
            endpoints[0].path.as_str(),
            endpoints[0].line
        ),
        ("GET", "/health", 5)
    );
    assert_eq!(endpoints[0].security, "none");
    // The endpoint without security is a finding of the default branch.
    let findings = store.snapshot(
        store
            .upsert_project(store::Forge::GitHub, "octo/app", None)
            .await
            .unwrap(),
        BASE,
    );
    let findings = findings.await.unwrap().unwrap();
    assert!(
        findings
            .iter()
            .any(|f| f.finding.kind == crate::model::Kind::Api),
        "{findings:?}"
    );

    // A change against that baseline judges its base once: the endpoint is still there, so
    // it is existing, neither new nor fixed.
    {
        let mut state = forge.state.lock().unwrap();
        state.reports.remove(BASE);
        let at_base: Vec<(String, Vec<u8>)> = state
            .files
            .iter()
            .filter(|((sha, _), _)| sha == BASE)
            .map(|((_, path), bytes)| (path.clone(), bytes.clone()))
            .collect();
        for (path, bytes) in at_base {
            state.files.insert((HEAD.into(), path), bytes);
        }
        state.reports.insert(
            HEAD.into(),
            vec![ReportFile {
                name: "scans/semgrep.sarif".into(),
                bytes: sarif(&[("app.py", 1)]),
            }],
        );
    }
    review::review(&context, &job()).await.unwrap();
    let summary = forge.state.lock().unwrap().summaries[0].clone();
    assert!(
        summary.contains("| **fixed** | 0 | 0 | 0 | 0 | 0 |"),
        "{summary}"
    );
    assert!(
        summary.contains("| **existing** | 0 | 1 | 1 | 0 | 0 |"),
        "{summary}"
    );
}

#[tokio::test]
async fn reconcile_queues_a_review_of_each_open_change_never_reviewed_once() {
    let setup = Setup::new(true).await;
    let store = &setup.store;
    let context = setup.context();
    let reconcile = Job {
        kind: JobKind::Reconcile,
        pull_request: None,
        head_sha: None,
        ..job()
    };
    assert_eq!(
        review::reconcile(&context, &reconcile).await.unwrap(),
        Outcome::Done
    );
    let queued = store
        .list_jobs(Some(store::JobStatus::Queued), 10)
        .await
        .unwrap();
    assert_eq!(queued.len(), 1);
    assert_eq!(
        (
            queued[0].kind,
            queued[0].pull_request,
            queued[0].head_sha.as_deref()
        ),
        (JobKind::Review, Some(7), Some(HEAD))
    );
    // Again: the same head is not queued twice; once reviewed, it is not queued at all.
    review::reconcile(&context, &reconcile).await.unwrap();
    review::review(&context, &job()).await.unwrap();
    review::reconcile(&context, &reconcile).await.unwrap();
    assert_eq!(store.list_jobs(None, 10).await.unwrap().len(), 1);
}

// ---- /posture commands ----

/// A command job for a comment by `author`; `in_thread` names posture's comment it replies to.
fn command_job(body: &str, author: &str, delivery: &str, in_thread: Option<&str>) -> Job {
    Job {
        id: JobId(2),
        kind: JobKind::Command,
        forge: store::Forge::GitHub,
        repository: "octo/app".into(),
        pull_request: Some(7),
        head_sha: None,
        delivery_id: Some(store::DeliveryId(delivery.into())),
        payload: json!({
            "command": body,
            "author": author,
            "reply_to": in_thread.map(|id| json!({"review_comment": id})),
        }),
        attempts: 1,
    }
}

/// Runs a command and returns posture's reply to it.
async fn answer(setup: &Setup, job: &Job) -> String {
    let outcome = super::command::command(&setup.context(), job)
        .await
        .unwrap();
    assert_eq!(outcome, Outcome::Done);
    let state = setup.forge.state.lock().unwrap();
    state.replies.last().expect("a reply").1.clone()
}

/// A reviewed change with one new finding, and its short id.
async fn reviewed(setup: &Setup, writers: &[(&str, Permission)]) -> String {
    {
        let mut state = setup.forge.state.lock().unwrap();
        for (login, permission) in writers {
            state.permissions.insert((*login).into(), *permission);
        }
    }
    review::review(&setup.context(), &job()).await.unwrap();
    let state = setup.forge.state.lock().unwrap();
    let id = parse_finding_marker(&state.posted[0].body).unwrap();
    crate::triage::short_id(&id)
}

#[tokio::test]
async fn a_writers_dismissal_is_recorded_answered_and_shown_at_once() {
    let setup = Setup::new(true).await;
    let short = reviewed(&setup, &[("alice", Permission::Write)]).await;
    assert!(!setup.forge.state.lock().unwrap().gates[0].passed);

    let reply = answer(
        &setup,
        &command_job(
            "/posture dismiss false_positive -- test data",
            "alice",
            "d-1",
            Some("c1"),
        ),
    )
    .await;
    assert!(reply.starts_with("@alice"), "{reply}");
    assert!(
        reply.contains(&format!("✅ {short} dismissed as false_positive by @alice")),
        "{reply}"
    );
    {
        let state = setup.forge.state.lock().unwrap();
        assert_eq!(
            state.replies[0].0,
            ReplyTo::ReviewComment(CommentId("c1".into()))
        );
        assert!(state.gates.last().unwrap().passed, "no longer blocking");
        assert_eq!(state.resolved_threads, vec![CommentId("c1".into())]);
        let comment = &state.published.comments[0];
        assert!(comment.body.contains("false_positive"), "{}", comment.body);
        assert_eq!(state.posted.len(), 1, "nothing new is posted");
    }
    // The same delivery again (a retried job) records nothing twice.
    let again = answer(
        &setup,
        &command_job(
            "/posture dismiss false_positive",
            "alice",
            "d-1",
            Some("c1"),
        ),
    )
    .await;
    assert!(again.contains("already recorded"), "{again}");
    let project = setup
        .store
        .upsert_project(store::Forge::GitHub, "octo/app", None)
        .await
        .unwrap();
    let decisions = setup.store.triage_decisions(project).await.unwrap();
    let events = setup
        .store
        .finding_events(project, decisions.keys().next().unwrap())
        .await
        .unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].comment.as_deref(), Some("test data"));
}

#[tokio::test]
async fn a_reader_is_refused_with_the_permission_needed() {
    let setup = Setup::new(true).await;
    let short = reviewed(&setup, &[("bob", Permission::Read)]).await;
    let reply = answer(
        &setup,
        &command_job(
            &format!("/posture dismiss wont_fix {short}"),
            "bob",
            "d-1",
            None,
        ),
    )
    .await;
    assert!(
        reply.contains("❌ `/posture dismiss`: needs write permission on octo/app; @bob has read"),
        "{reply}"
    );
    {
        let state = setup.forge.state.lock().unwrap();
        assert_eq!(state.replies[0].0, ReplyTo::Conversation);
        assert!(state.resolved_threads.is_empty());
    }
    // Anyone may ask for an explanation or the help.
    let explained = answer(
        &setup,
        &command_job(&format!("/posture explain {short}"), "bob", "d-2", None),
    )
    .await;
    assert!(explained.contains("Risk "), "{explained}");
    assert!(explained.contains("because:"), "{explained}");
}

#[tokio::test]
async fn a_second_person_approves_and_nobody_approves_their_own_request() {
    let setup = Setup::new(true).await;
    setup.forge.state.lock().unwrap().files.insert(
        (BASE.into(), crate::config::FILE_NAME.into()),
        b"triage:\n  require_approval: [accept]\n".to_vec(),
    );
    let short = reviewed(
        &setup,
        &[
            ("alice", Permission::Write),
            ("carol", Permission::Maintain),
        ],
    )
    .await;
    let until = chrono::Utc::now().date_naive() + chrono::Duration::days(30);
    let asked = answer(
        &setup,
        &command_job(
            &format!("/posture accept --until {until} {short}"),
            "alice",
            "d-1",
            None,
        ),
    )
    .await;
    assert!(
        asked.contains(&format!(
            "⏳ {short}: @alice asks for it to be accepted until {until}"
        )),
        "{asked}"
    );
    assert!(
        !setup
            .forge
            .state
            .lock()
            .unwrap()
            .gates
            .last()
            .unwrap()
            .passed,
        "pending still blocks"
    );

    let own = answer(
        &setup,
        &command_job(&format!("/posture approve {short}"), "alice", "d-2", None),
    )
    .await;
    assert!(
        own.contains("nobody approves or rejects their own request"),
        "{own}"
    );
    let approved = answer(
        &setup,
        &command_job(&format!("/posture approve {short}"), "carol", "d-3", None),
    )
    .await;
    assert!(
        approved.contains(&format!(
            "✅ {short} accepted until {until} by @alice, approved by @carol"
        )),
        "{approved}"
    );
    assert!(
        setup
            .forge
            .state
            .lock()
            .unwrap()
            .gates
            .last()
            .unwrap()
            .passed
    );
}

#[tokio::test]
async fn bad_commands_are_answered_with_what_is_wrong() {
    let setup = Setup::new(true).await;
    let short = reviewed(&setup, &[("alice", Permission::Admin)]).await;
    let today = chrono::Utc::now().date_naive();
    let far = today + chrono::Duration::days(91);
    let past = today - chrono::Duration::days(1);
    let reply = answer(
        &setup,
        &command_job(
            &format!(
                "/posture dismiss whatever {short}\n/posture accept --until {far} {short}\n/posture accept --until {past} {short}\n/posture reopen {short}\n/posture dismiss mitigated P-ffffff\n/posture dismiss mitigated\n/posture help"
            ),
            "alice",
            "d-1",
            None,
        ),
    )
    .await;
    for expected in [
        "unknown reason `whatever`",
        "is too far ahead: at most 90 days",
        &format!("`--until {past}` is in the past"),
        &format!("{short} is neither dismissed nor accepted"),
        "unknown id `P-ffffff`",
        "name the finding: reply to posture's comment on it",
        "| `/posture rerun` |",
    ] {
        assert!(reply.contains(expected), "{expected:?} not in {reply}");
    }
    // Posture's own comments are not commands to it.
    let own = super::command::command(
        &setup.context(),
        &command_job("/posture help", IDENTITY, "d-2", None),
    )
    .await
    .unwrap();
    assert_eq!(own, Outcome::Skipped("posture's own comment".into()));
}
