//! The weekly digest as a standing issue, end to end: history seeded in a real store
//! (default-branch scans of two repositories), the scheduled tick queueing the week's job,
//! and the worker running it against a wiremock GitHub or GitLab whose in-memory issues
//! posture's calls create and edit. The fakes answer in the shape of the real APIs (GitHub's
//! issue object from the webhook fixture, GitLab's issue as its API documents it; 410 for a
//! deleted GitHub issue, 404 on GitLab).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use serde_json::{Value, json};
use wiremock::matchers::{method, path, path_regex};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use posture::forge::github::{GitHubClient, GitHubConfig, GitHubCredentials};
use posture::forge::gitlab::GitLabClient;
use posture::jobs::{ForgeRunner, Forges, Outcome, ReviewSettings, Runner, queue_digest_issues};
use posture::model::{
    Dedup, Ecosystem, Finding, FindingId, Gate, GateOutcome, Kind, Package, Review,
    ReviewedFinding, Risk, Severity, Status, Summary, Upgrade,
};
use posture::settings::Settings;
use posture::store::{Forge, Job, JobKind, JobStatus, Store};

const PUBLIC_URL: &str = "https://posture.example.com";
const MARKER_W49: &str = "<!-- posture:digest org=acme week=2026-W49 -->";
const TITLE: &str = "posture: weekly security digest (acme)";

/// Tuesday 2026-12-01: the digest due Monday 2026-11-30 08:00 (week 49) is the last one.
fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 1, 10, 0, 0).unwrap()
}

fn at(month: u32, day: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, month, day, 12, 0, 0).unwrap()
}

// ---------------------------------------------------------------------------------------
// History

fn finding(id: &str, severity: Severity, rule: &str, lodash: bool) -> ReviewedFinding {
    let mut finding = Finding::new(Kind::Sca, "osv-scanner", rule);
    finding.severity = severity;
    let mut upgrade = None;
    if lodash {
        finding.package = Some(Box::new(Package {
            ecosystem: Ecosystem::Npm,
            name: "lodash".into(),
            version: Some("4.17.20".into()),
            manifest: None,
        }));
        upgrade = Some(Box::new(Upgrade {
            package: "lodash".into(),
            from: "4.17.20".into(),
            to: "4.17.21".into(),
            manifest: None,
            line: None,
            fixes: vec![rule.to_owned()],
            breaking: false,
            current_text: None,
            suggested_text: None,
            via: None,
        }));
    }
    ReviewedFinding {
        id: FindingId(id.to_owned()),
        status: Status::Existing,
        in_diff: false,
        finding,
        line_hash: None,
        introduced_by: None,
        introduced_unknown: None,
        risk: Risk::default(),
        upgrade,
        ignored: None,
        dependency: None,
        triage: None,
        changed: false,
        previous_ids: Vec::new(),
        snippet: None,
        owner: None,
    }
}

fn scan(findings: Vec<ReviewedFinding>) -> Review {
    Review {
        base: "base".into(),
        head: "head".into(),
        merge_base: "base".into(),
        summary: Summary {
            new: 0,
            existing: 0,
            fixed: 0,
            ignored: 0,
            suppressed: 0,
            triaged: 0,
            not_scanned: 0,
            missing_tools: Vec::new(),
            dedup: Dedup::default(),
            gate: Gate {
                passed: true,
                outcome: GateOutcome::Passed,
                fail_on: None,
                blocking: 0,
            },
        },
        findings,
        warnings: Vec::new(),
        upgrades: Vec::new(),
        config_changes: Vec::new(),
    }
}

/// Org `acme` over November 2026, by default-branch scans:
/// * `acme/shop`: a critical lodash finding since October 20 (past its 7 days), and a high
///   one on the same upgrade first seen November 25 (new in week 49);
/// * `acme/api`: a medium finding since November 1 fixed November 26, and a critical one
///   first seen November 26 (new, due December 3: within 7 days of the digest).
async fn seed(store: &Store) {
    let tools = ["osv-scanner".to_owned()].into_iter().collect();
    let shop = store
        .upsert_project(Forge::GitHub, "acme/shop", Some("main"))
        .await
        .unwrap();
    let old = || finding("shop-old", Severity::Critical, "GHSA-old-crit", true);
    store
        .record_scan(shop, "s1", Some(at(10, 20)), &scan(vec![old()]), &tools)
        .await
        .unwrap();
    let new_high = finding("shop-new", Severity::High, "GHSA-new-high", true);
    store
        .record_scan(
            shop,
            "s2",
            Some(at(11, 25)),
            &scan(vec![old(), new_high]),
            &tools,
        )
        .await
        .unwrap();
    let api = store
        .upsert_project(Forge::GitHub, "acme/api", Some("main"))
        .await
        .unwrap();
    let medium = finding("api-med", Severity::Medium, "GHSA-api-med", false);
    store
        .record_scan(api, "a1", Some(at(11, 1)), &scan(vec![medium]), &tools)
        .await
        .unwrap();
    let critical = finding("api-crit", Severity::Critical, "GHSA-api-crit", false);
    store
        .record_scan(api, "a2", Some(at(11, 26)), &scan(vec![critical]), &tools)
        .await
        .unwrap();
}

struct Setup {
    store: Store,
    _dir: tempfile::TempDir,
}

async fn setup() -> Setup {
    let dir = tempfile::TempDir::new().unwrap();
    let store = Store::connect(&format!("sqlite://{}", dir.path().join("d.db").display()))
        .await
        .unwrap();
    store.migrate().await.unwrap();
    seed(&store).await;
    Setup { store, _dir: dir }
}

fn settings(forge: &str, repository: &str) -> Settings {
    Settings::parse(
        "settings.yml",
        &format!(
            "orgs:\n  acme:\n    digest:\n      day: monday\n      hour: 8\n      issue: {{forge: {forge}, repository: {repository}}}\n  beta: {{}}\n"
        ),
    )
    .unwrap()
}

fn runner(store: &Store, forges: Forges) -> ForgeRunner {
    ForgeRunner {
        store: store.clone(),
        forges: Arc::new(forges),
        settings: ReviewSettings::default(),
    }
}

/// Claims the one queued job, which must be a digest issue job.
async fn claim(store: &Store) -> Job {
    let job = store
        .claim("test", Duration::from_secs(60))
        .await
        .unwrap()
        .expect("a queued job");
    assert_eq!(job.kind, JobKind::DigestIssue);
    assert!(
        store
            .claim("test", Duration::from_secs(60))
            .await
            .unwrap()
            .is_none(),
        "one job"
    );
    job
}

async fn finish(store: &Store, job: &Job) {
    store
        .finish(job.id, "test", JobStatus::Done, None)
        .await
        .unwrap();
}

// ---------------------------------------------------------------------------------------
// A fake GitHub: the issues of any repository, as GitHub answers them.

#[derive(Default)]
struct GitHubIssues {
    /// (repository, number) → the issue object.
    issues: BTreeMap<(String, i64), Value>,
    next: BTreeMap<String, i64>,
    /// Answer the next write with this status instead.
    fail_next: Option<u16>,
}

#[derive(Clone, Default)]
struct FakeGitHub(Arc<Mutex<GitHubIssues>>);

/// GitHub's issue object, from the `issue_comment` webhook fixture, with posture's fields.
fn github_issue(repository: &str, number: i64, title: &str, body: &str) -> Value {
    let fixture: Value = serde_json::from_str(include_str!(
        "../fixtures/github/issue_comment_created.json"
    ))
    .unwrap();
    let mut issue = fixture["issue"].clone();
    issue["number"] = json!(number);
    issue["id"] = json!(444_500_000 + number);
    issue["title"] = json!(title);
    issue["body"] = json!(body);
    issue["url"] = json!(format!(
        "https://api.github.com/repos/{repository}/issues/{number}"
    ));
    issue["html_url"] = json!(format!("https://github.com/{repository}/issues/{number}"));
    issue["user"]["login"] = json!("posture-dev[bot]");
    issue["labels"] = json!([]);
    issue
}

impl Respond for FakeGitHub {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let mut model = self.0.lock().unwrap();
        if let Some(status) = model.fail_next.take() {
            return ResponseTemplate::new(status).set_body_json(json!({"message": "Server Error"}));
        }
        let segments: Vec<&str> = request.url.path().split('/').collect();
        // ["", "repos", owner, name, "issues", number?]
        let repository = format!("{}/{}", segments[2], segments[3]);
        let sent: Value = serde_json::from_slice(&request.body).unwrap();
        let (title, body) = (
            sent["title"].as_str().unwrap(),
            sent["body"].as_str().unwrap(),
        );
        if request.method.as_str() == "POST" {
            let next = model.next.entry(repository.clone()).or_insert(0);
            *next += 1;
            let number = *next;
            let issue = github_issue(&repository, number, title, body);
            model.issues.insert((repository, number), issue.clone());
            return ResponseTemplate::new(201).set_body_json(issue);
        }
        let number: i64 = segments[5].parse().unwrap();
        match model.issues.get_mut(&(repository.clone(), number)) {
            Some(issue) => {
                issue["title"] = json!(title);
                issue["body"] = json!(body);
                ResponseTemplate::new(200).set_body_json(issue.clone())
            }
            // What GitHub answers for an issue deleted from a repository posture can read.
            None => ResponseTemplate::new(410).set_body_json(json!({
                "message": "This issue was deleted",
                "documentation_url": "https://docs.github.com/rest/issues/issues#update-an-issue",
                "status": "410"
            })),
        }
    }
}

impl FakeGitHub {
    async fn start() -> (MockServer, FakeGitHub) {
        let server = MockServer::start().await;
        let fake = FakeGitHub::default();
        // Every repository is private, but `acme/website`.
        Mock::given(method("GET"))
            .and(path("/repos/acme/website"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "id": 7, "full_name": "acme/website", "private": false, "visibility": "public",
            })))
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path_regex(r"^/repos/[^/]+/[^/]+$"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "id": 8, "full_name": "acme/security", "private": true, "visibility": "private",
            })))
            .mount(&server)
            .await;
        Mock::given(method("POST"))
            .and(path_regex(r"^/repos/[^/]+/[^/]+/issues$"))
            .respond_with(fake.clone())
            .mount(&server)
            .await;
        Mock::given(method("PATCH"))
            .and(path_regex(r"^/repos/[^/]+/[^/]+/issues/[0-9]+$"))
            .respond_with(fake.clone())
            .mount(&server)
            .await;
        (server, fake)
    }

    fn issue(&self, repository: &str, number: i64) -> Value {
        self.0.lock().unwrap().issues[&(repository.to_owned(), number)].clone()
    }

    fn count(&self) -> usize {
        self.0.lock().unwrap().issues.len()
    }
}

fn github_forges(server: &MockServer) -> Forges {
    let client = GitHubClient::new(GitHubConfig::new(
        server.uri(),
        GitHubCredentials::Token("ghp_digesttesttoken".to_owned().into()),
    ))
    .unwrap();
    Forges {
        github: Some(Arc::new(client)),
        gitlab: None,
    }
}

/// The `(method, path)` of every request the server received, in order.
async fn requests(server: &MockServer) -> Vec<(String, String)> {
    server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(|r| (r.method.to_string(), r.url.path().to_owned()))
        .collect()
}

fn calls(all: &[(String, String)], verb: &str) -> Vec<String> {
    all.iter()
        .filter(|(m, _)| m == verb)
        .map(|(_, p)| p.clone())
        .collect()
}

// ---------------------------------------------------------------------------------------
// GitHub

#[tokio::test]
async fn the_digest_issue_is_opened_once_then_edited_in_place_each_week() {
    let setup = setup().await;
    let store = &setup.store;
    let (server, github) = FakeGitHub::start().await;
    let runner = runner(store, github_forges(&server));
    let settings = settings("github", "acme/security");

    // The tick queues one job for the week; another tick (or replica) none.
    assert_eq!(
        queue_digest_issues(store, &settings, now(), Some(PUBLIC_URL))
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        queue_digest_issues(store, &settings, now(), Some(PUBLIC_URL))
            .await
            .unwrap(),
        0
    );
    let job = claim(store).await;
    assert_eq!(
        (job.forge, job.repository.as_str()),
        (Forge::GitHub, "acme/security")
    );
    assert_eq!(job.payload["week"], "2026-W49");
    assert_eq!(runner.run(&job).await, Outcome::Done);

    let all = requests(&server).await;
    assert_eq!(calls(&all, "POST"), ["/repos/acme/security/issues"]);
    assert!(calls(&all, "PATCH").is_empty());
    let issue = github.issue("acme/security", 1);
    assert_eq!(issue["title"], TITLE);
    let body = issue["body"].as_str().unwrap().to_owned();
    assert!(body.starts_with(MARKER_W49), "{body}");
    assert!(body.chars().count() < 60_000);
    assert!(
        body.contains("Grade **F**: 1 critical finding open past its SLA in acme/shop"),
        "{body}"
    );
    // The week's figures from the seeded history, each linked to its findings page.
    let findings = format!("{PUBLIC_URL}/orgs/acme/findings");
    assert!(
        body.contains(&format!("| [2]({findings}?status=new&from=2026-11-23T08%3A00%3A00Z&to=2026-11-30T08%3A00%3A00Z&as_of=2026-11-30T08%3A00%3A00Z) | 0 | [1]({findings}?status=fixed&")),
        "new 2, reintroduced 0, fixed 1: {body}"
    );
    assert!(
        body.contains(&format!("| [2]({findings}?status=open&severity=critical&")),
        "2 critical open: {body}"
    );
    assert!(body.contains("**[3]("), "3 open: {body}");
    assert!(
        body.contains("🔴 **critical** `GHSA-api-crit` · in `acme/api`"),
        "the notable new: {body}"
    );
    assert!(
        body.contains("🟠 **high** `GHSA-new-high` · in `acme/shop`"),
        "{body}"
    );
    assert!(
        body.contains(&format!("**[1]({findings}?status=open&sla=breached&")),
        "one past due: {body}"
    );
    assert!(
        body.contains("`GHSA-old-crit` · in `acme/shop` · risk 0 · due 2026-10-27 (33 days overdue) · fix: `lodash → 4.17.21`"),
        "{body}"
    );
    assert!(
        body.contains("`GHSA-api-crit` · in `acme/api` · risk 0 · due 2026-12-03 (in 3 days)"),
        "due this week: {body}"
    );
    assert!(
        body.contains(
            "- bump `lodash` (npm) to `4.17.21`: clears 2 findings in 1 repository · [findings]("
        ),
        "the hotspot: {body}"
    );
    assert!(body.contains(&format!("[open the dashboard]({PUBLIC_URL}/orgs/acme)")));
    let stored = store.digest_issue("acme").await.unwrap().unwrap();
    assert_eq!(
        (
            stored.forge,
            stored.repository.as_str(),
            stored.number,
            stored.week.as_str()
        ),
        (Forge::GitHub, "acme/security", 1, "2026-W49")
    );

    // The same job run again (a retry, a second worker): the issue is edited, not opened.
    assert_eq!(runner.run(&job).await, Outcome::Done);
    finish(store, &job).await;
    let all = requests(&server).await;
    assert_eq!(calls(&all, "POST").len(), 1, "no second issue");
    assert_eq!(calls(&all, "PATCH"), ["/repos/acme/security/issues/1"]);
    assert_eq!(github.issue("acme/security", 1)["body"], body.as_str());
    assert_eq!(github.count(), 1);

    // Next week: the same issue shows week 50.
    let next_week = now() + chrono::Duration::days(7);
    assert_eq!(
        queue_digest_issues(store, &settings, next_week, Some(PUBLIC_URL))
            .await
            .unwrap(),
        1
    );
    let job = claim(store).await;
    assert_eq!(runner.run(&job).await, Outcome::Done);
    finish(store, &job).await;
    let all = requests(&server).await;
    assert_eq!(calls(&all, "POST").len(), 1, "still one issue");
    assert_eq!(calls(&all, "PATCH").len(), 2);
    let body = github.issue("acme/security", 1)["body"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        body.starts_with("<!-- posture:digest org=acme week=2026-W50 -->"),
        "{body}"
    );
    assert_eq!(
        store.digest_issue("acme").await.unwrap().unwrap().week,
        "2026-W50"
    );
}

#[tokio::test]
async fn a_deleted_issue_is_opened_again_and_a_new_repository_gets_its_own() {
    let setup = setup().await;
    let store = &setup.store;
    let (server, github) = FakeGitHub::start().await;
    let runner = runner(store, github_forges(&server));
    let settings = settings("github", "acme/security");
    queue_digest_issues(store, &settings, now(), None)
        .await
        .unwrap();
    let job = claim(store).await;
    assert_eq!(runner.run(&job).await, Outcome::Done);
    // Without a public URL the issue has no links.
    let body = github.issue("acme/security", 1)["body"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(!body.contains("](http"), "{body}");

    // Someone deletes it: the next run's edit answers 410, and a new issue is opened.
    github.0.lock().unwrap().issues.clear();
    assert_eq!(runner.run(&job).await, Outcome::Done);
    finish(store, &job).await;
    let all = requests(&server).await;
    assert_eq!(
        calls(&all, "POST"),
        ["/repos/acme/security/issues", "/repos/acme/security/issues"]
    );
    assert_eq!(calls(&all, "PATCH"), ["/repos/acme/security/issues/1"]);
    assert_eq!(store.digest_issue("acme").await.unwrap().unwrap().number, 2);
    assert!(
        github.issue("acme/security", 2)["body"]
            .as_str()
            .unwrap()
            .starts_with(MARKER_W49)
    );

    // The settings now name another repository: its own issue, the old one left alone.
    let moved = settings_for("acme/posture-digest");
    assert_eq!(
        queue_digest_issues(store, &moved, now(), None)
            .await
            .unwrap(),
        1
    );
    let job = claim(store).await;
    assert_eq!(job.repository, "acme/posture-digest");
    assert_eq!(runner.run(&job).await, Outcome::Done);
    finish(store, &job).await;
    let all = requests(&server).await;
    assert_eq!(
        calls(&all, "POST").last().unwrap(),
        "/repos/acme/posture-digest/issues"
    );
    assert_eq!(calls(&all, "PATCH").len(), 1, "the old issue is not edited");
    let stored = store.digest_issue("acme").await.unwrap().unwrap();
    assert_eq!(
        (stored.repository.as_str(), stored.number),
        ("acme/posture-digest", 1)
    );
}

fn settings_for(repository: &str) -> Settings {
    settings("github", repository)
}

#[tokio::test]
async fn a_forge_that_fails_is_retried_and_one_not_configured_says_what_to_set() {
    let setup = setup().await;
    let store = &setup.store;
    let (server, github) = FakeGitHub::start().await;
    queue_digest_issues(store, &settings("github", "acme/security"), now(), None)
        .await
        .unwrap();
    let job = claim(store).await;

    // No GitHub credentials: the job ends not_configured with what to set.
    let unconfigured = runner(store, Forges::default());
    match unconfigured.run(&job).await {
        Outcome::NotConfigured(why) => assert!(why.contains("POSTURE_GITHUB_TOKEN"), "{why}"),
        other => panic!("{other:?}"),
    }

    // GitHub answers 502: the attempt fails (retried with backoff), nothing is stored.
    let runner = runner(store, github_forges(&server));
    github.0.lock().unwrap().fail_next = Some(502);
    match runner.run(&job).await {
        Outcome::Failed(why) => assert!(why.contains("502"), "{why}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(store.digest_issue("acme").await.unwrap(), None);
    // GitHub refuses (403, not a rate limit): ended at once with the reason.
    github.0.lock().unwrap().fail_next = Some(403);
    assert!(matches!(runner.run(&job).await, Outcome::Refused(_)));
    // The retry succeeds and opens the one issue.
    assert_eq!(runner.run(&job).await, Outcome::Done);
    assert_eq!(github.count(), 1);
}

#[tokio::test]
async fn the_digest_is_never_written_into_a_public_repository() {
    let setup = setup().await;
    let store = &setup.store;
    let (server, github) = FakeGitHub::start().await;
    queue_digest_issues(store, &settings("github", "acme/website"), now(), None)
        .await
        .unwrap();
    let job = claim(store).await;
    match runner(store, github_forges(&server)).run(&job).await {
        Outcome::Refused(why) => {
            assert!(why.contains("acme/website is public"), "{why}");
            assert!(why.contains("orgs.acme.digest.issue"), "{why}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(github.count(), 0);
    assert!(calls(&requests(&server).await, "POST").is_empty());
}

#[tokio::test]
async fn an_org_without_repositories_gets_no_issue() {
    let setup = setup().await;
    let store = &setup.store;
    let (server, github) = FakeGitHub::start().await;
    let settings = Settings::parse(
        "s.yml",
        "orgs:\n  nobody:\n    digest: {issue: {forge: github, repository: nobody/security}}\n",
    )
    .unwrap();
    assert_eq!(
        queue_digest_issues(store, &settings, now(), None)
            .await
            .unwrap(),
        1
    );
    let job = claim(store).await;
    let outcome = runner(store, github_forges(&server)).run(&job).await;
    assert!(
        matches!(&outcome, Outcome::Skipped(why) if why.contains("no repository of org `nobody`")),
        "{outcome:?}"
    );
    assert_eq!(github.count(), 0);
}

// ---------------------------------------------------------------------------------------
// GitLab

const GITLAB_TOKEN: &str = "glpat-digesttesttoken";
const GITLAB_PROJECT: &str = "/api/v4/projects/acme%2Fsecurity";

#[derive(Default)]
struct GitLabIssues {
    /// iid → the issue object.
    issues: BTreeMap<i64, Value>,
    next: i64,
}

#[derive(Clone, Default)]
struct FakeGitLab(Arc<Mutex<GitLabIssues>>);

/// A form body's fields (the `gitlab` crate sends issues as `application/x-www-form-urlencoded`).
fn form(request: &Request) -> BTreeMap<String, String> {
    url::form_urlencoded::parse(&request.body)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

/// GitLab's issue object, as `POST /projects/:id/issues` answers it.
fn gitlab_issue(iid: i64, title: &str, description: &str) -> Value {
    json!({
        "id": 84_000 + iid,
        "iid": iid,
        "project_id": 14,
        "title": title,
        "description": description,
        "state": "opened",
        "created_at": "2026-11-30T08:05:12.000Z",
        "updated_at": "2026-11-30T08:05:12.000Z",
        "closed_at": null,
        "closed_by": null,
        "labels": [],
        "milestone": null,
        "assignees": [],
        "author": {
            "id": 42,
            "username": "project_14_bot",
            "name": "posture",
            "state": "active",
            "web_url": "https://gitlab.example.com/project_14_bot"
        },
        "type": "ISSUE",
        "assignee": null,
        "user_notes_count": 0,
        "upvotes": 0,
        "downvotes": 0,
        "due_date": null,
        "confidential": false,
        "discussion_locked": null,
        "issue_type": "issue",
        "web_url": format!("https://gitlab.example.com/acme/security/-/issues/{iid}"),
        "references": {"short": format!("#{iid}"), "relative": format!("#{iid}"), "full": format!("acme/security#{iid}")},
        "subscribed": true
    })
}

impl Respond for FakeGitLab {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let mut model = self.0.lock().unwrap();
        let fields = form(request);
        let (title, description) = (&fields["title"], &fields["description"]);
        if request.method.as_str() == "POST" {
            model.next += 1;
            let iid = model.next;
            let issue = gitlab_issue(iid, title, description);
            model.issues.insert(iid, issue.clone());
            return ResponseTemplate::new(201).set_body_json(issue);
        }
        let iid: i64 = request
            .url
            .path()
            .rsplit('/')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        match model.issues.get_mut(&iid) {
            Some(issue) => {
                issue["title"] = json!(title);
                issue["description"] = json!(description);
                ResponseTemplate::new(200).set_body_json(issue.clone())
            }
            None => {
                ResponseTemplate::new(404).set_body_json(json!({"message": "404 Issue Not Found"}))
            }
        }
    }
}

#[tokio::test]
async fn on_gitlab_the_issue_is_opened_edited_and_opened_again_when_deleted() {
    let setup = setup().await;
    let store = &setup.store;
    let server = MockServer::start().await;
    let gitlab = FakeGitLab::default();
    Mock::given(method("GET"))
        .and(path("/api/v4/user"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"id": 42, "username": "project_14_bot", "bot": true})),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(GITLAB_PROJECT))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "id": 14, "path_with_namespace": "acme/security", "visibility": "private",
        })))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(format!("{GITLAB_PROJECT}/issues")))
        .respond_with(gitlab.clone())
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .and(path_regex(format!("^{GITLAB_PROJECT}/issues/[0-9]+$")))
        .respond_with(gitlab.clone())
        .mount(&server)
        .await;
    let client = GitLabClient::new(&server.uri(), GITLAB_TOKEN).unwrap();
    let runner = runner(
        store,
        Forges {
            github: None,
            gitlab: Some(Arc::new(client)),
        },
    );

    queue_digest_issues(
        store,
        &settings("gitlab", "acme/security"),
        now(),
        Some(PUBLIC_URL),
    )
    .await
    .unwrap();
    let job = claim(store).await;
    assert_eq!(job.forge, Forge::GitLab);
    assert_eq!(runner.run(&job).await, Outcome::Done);
    let issue = gitlab.0.lock().unwrap().issues[&1].clone();
    assert_eq!(issue["title"], TITLE);
    let description = issue["description"].as_str().unwrap().to_owned();
    assert!(description.starts_with(MARKER_W49), "{description}");
    assert!(description.contains("### SLA"), "{description}");
    assert!(
        description.contains("`GHSA-api-crit` · in `acme/api`"),
        "{description}"
    );

    // Again: one PUT of the same iid, no second issue.
    assert_eq!(runner.run(&job).await, Outcome::Done);
    let all = requests(&server).await;
    assert_eq!(calls(&all, "POST"), [format!("{GITLAB_PROJECT}/issues")]);
    assert_eq!(calls(&all, "PUT"), [format!("{GITLAB_PROJECT}/issues/1")]);
    let put = server
        .received_requests()
        .await
        .unwrap()
        .into_iter()
        .find(|r| r.method.as_str() == "PUT")
        .unwrap();
    assert_eq!(form(&put)["description"], description);
    assert_eq!(
        put.headers.get("private-token").unwrap().to_str().unwrap(),
        GITLAB_TOKEN
    );

    // Deleted: 404 on the edit, a new issue.
    gitlab.0.lock().unwrap().issues.clear();
    assert_eq!(runner.run(&job).await, Outcome::Done);
    finish(store, &job).await;
    let stored = store.digest_issue("acme").await.unwrap().unwrap();
    assert_eq!((stored.forge, stored.number), (Forge::GitLab, 2));
    assert_eq!(calls(&requests(&server).await, "POST").len(), 2);
}
