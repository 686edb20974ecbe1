//! `posture review --publish github|gitlab`: the review made in a CI job, published on the
//! pull or merge request by the CLI alone, against wiremock forges, with the environment
//! GitHub Actions and GitLab CI set. A second run of the job updates what the first posted
//! and posts nothing twice. Also the files that ship this: `action.yml` and the GitLab CI
//! template.

mod common;

use common::github::{self as gh, ACTIONS_BOT, ACTIONS_TOKEN, FakeGitHub};
use common::gitlab::{self as gl, FakeGitLab};
use common::{Repo, Run, fixture, posture_command};
use serde_json::Value;

/// A local repository whose `main` and head hold what the fake forges serve at the change's
/// base and head (app.py gains lines 10–30); returns it with its head commit.
fn local_change(app_py: fn(bool) -> String) -> (Repo, String, String) {
    let mut repo = Repo::new();
    repo.write("app.py", &app_py(false))
        .write("go.mod", &gh::go_mod(false));
    let base = repo.commit("Base Author", "base");
    repo.git(&["checkout", "-q", "-b", "feature"]);
    repo.write("app.py", &app_py(true))
        .write("go.mod", &gh::go_mod(true));
    let head = repo.commit("Feature Author", "add the report endpoint");
    (repo, base, head)
}

/// `posture review … --publish FORGE` with exactly `env` (no variable of this process).
async fn review_and_publish(
    repo: &Repo,
    base: &str,
    head: &str,
    forge: &str,
    env: Vec<(String, String)>,
) -> Run {
    let args = vec![
        "review".to_owned(),
        "--repo".to_owned(),
        repo.path().display().to_string(),
        "--base".to_owned(),
        base.to_owned(),
        "--head".to_owned(),
        head.to_owned(),
        "--head-report".to_owned(),
        fixture("sarif/bandit_1.8.6_flask.sarif")
            .display()
            .to_string(),
        "--format".to_owned(),
        "json".to_owned(),
        "--publish".to_owned(),
        forge.to_owned(),
    ];
    tokio::task::spawn_blocking(move || {
        let mut command = posture_command();
        command
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap())
            .env("HOME", std::env::temp_dir());
        command.args(&args).envs(env);
        let output = command.output().unwrap();
        Run {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8(output.stdout).unwrap(),
            stderr: String::from_utf8(output.stderr).unwrap(),
        }
    })
    .await
    .unwrap()
}

/// The lines of the review's new findings on lines the change added: those that get an
/// inline comment.
fn new_lines_in_diff(review: &Value) -> Vec<u64> {
    review["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["status"] == "new" && f["in_diff"] == true)
        .map(|f| f["line"].as_u64().unwrap())
        .collect()
}

fn github_actions_env(server: &wiremock::MockServer) -> Vec<(String, String)> {
    [
        ("GITHUB_ACTIONS", "true".to_owned()),
        ("GITHUB_EVENT_NAME", "pull_request".to_owned()),
        (
            "GITHUB_EVENT_PATH",
            fixture("github/pull_request_opened.json")
                .display()
                .to_string(),
        ),
        ("GITHUB_REPOSITORY", gh::REPO.to_owned()),
        ("GITHUB_API_URL", server.uri()),
        ("GITHUB_TOKEN", ACTIONS_TOKEN.to_owned()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn github_actions_publishes_the_review_and_a_rerun_updates_it() {
    let (server, fake) = FakeGitHub::start().await;
    let (repo, base, head) = local_change(gh::app_py);
    fake.model().head = Some(head.clone());

    let run = review_and_publish(&repo, &base, &head, "github", github_actions_env(&server)).await;
    assert!(run.code == 0 || run.code == 1, "{}", run.stderr);
    assert!(run.stderr.contains("published:"), "{}", run.stderr);
    let review = run.json();
    let new_in_diff = new_lines_in_diff(&review);
    assert!(!new_in_diff.is_empty(), "{review:#}");
    {
        let model = fake.model();
        let comments = model.posture_comments();
        // Every new finding on an added line has its comment, written as the job's bot; the
        // line 14 comment is refused by the fake GitHub and listed in the summary instead.
        for line in new_in_diff.iter().filter(|l| **l != 14) {
            let comment = model.comment_at("app.py", *line);
            assert_eq!(comment["user"]["login"], ACTIONS_BOT);
            assert!(
                comment["body"]
                    .as_str()
                    .unwrap()
                    .contains("<!-- posture:finding:")
            );
        }
        assert!(comments.iter().all(|c| c["commit_id"] == head.as_str()));
        assert!(model.summary().contains("new"), "{}", model.summary());
        // The gate: a check run of the GitHub Actions App on the reviewed head.
        assert_eq!(model.check_run()["head_sha"], head.as_str());
        assert_eq!(model.check_run()["name"], "posture");
    }
    let comments_before = fake.model().posture_comments().len();
    let summaries_before = fake.model().issue_comments.len();

    // The job runs again (a re-run, or a push that changed nothing posture sees).
    let rerun =
        review_and_publish(&repo, &base, &head, "github", github_actions_env(&server)).await;
    assert_eq!(rerun.code, run.code, "{}", rerun.stderr);
    let model = fake.model();
    assert_eq!(model.posture_comments().len(), comments_before);
    assert_eq!(model.issue_comments.len(), summaries_before);
    assert!(
        rerun.stderr.contains("published: 0 new inline comments"),
        "{}",
        rerun.stderr
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn github_publish_refuses_a_review_of_another_commit_and_says_how_to_check_out() {
    let (server, fake) = FakeGitHub::start().await;
    let (repo, base, head) = local_change(gh::app_py);
    // The pull request's head is elsewhere: the job checked out the merge commit, say.
    fake.model().head = Some("0123456789abcdef0123456789abcdef01234567".to_owned());
    let run = review_and_publish(&repo, &base, &head, "github", github_actions_env(&server)).await;
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("github.event.pull_request.head.sha"),
        "{}",
        run.stderr
    );
    assert!(fake.model().posture_comments().is_empty());
    assert!(!run.stderr.contains(ACTIONS_TOKEN));
}

#[tokio::test(flavor = "multi_thread")]
async fn github_publish_outside_a_pull_request_names_what_is_missing() {
    let (server, _fake) = FakeGitHub::start().await;
    let (repo, base, head) = local_change(gh::app_py);
    let mut env = github_actions_env(&server);
    env.retain(|(k, _)| k != "GITHUB_TOKEN");
    let run = review_and_publish(&repo, &base, &head, "github", env).await;
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("GITHUB_TOKEN is not set"),
        "{}",
        run.stderr
    );

    let push = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(push.path(), r#"{"ref": "refs/heads/main", "commits": []}"#).unwrap();
    let mut env = github_actions_env(&server);
    for (key, value) in &mut env {
        match key.as_str() {
            "GITHUB_EVENT_PATH" => *value = push.path().display().to_string(),
            "GITHUB_EVENT_NAME" => *value = "push".to_owned(),
            _ => {}
        }
    }
    let run = review_and_publish(&repo, &base, &head, "github", env).await;
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("(push) is not about a pull request"),
        "{}",
        run.stderr
    );
}

fn gitlab_ci_env(server: &wiremock::MockServer) -> Vec<(String, String)> {
    [
        ("GITLAB_CI", "true".to_owned()),
        ("CI_PIPELINE_SOURCE", "merge_request_event".to_owned()),
        ("CI_MERGE_REQUEST_IID", "1".to_owned()),
        ("CI_PROJECT_ID", "14".to_owned()),
        ("CI_PROJECT_PATH", gl::PROJECT_PATH.to_owned()),
        ("CI_API_V4_URL", format!("{}/api/v4", server.uri())),
        ("POSTURE_GITLAB_TOKEN", gl::API_TOKEN.to_owned()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn gitlab_ci_publishes_the_review_and_a_rerun_updates_it() {
    let (server, fake) = FakeGitLab::start().await;
    let (repo, base, head) = local_change(gl::app_py);
    fake.model().head = Some(head.clone());

    let run = review_and_publish(&repo, &base, &head, "gitlab", gitlab_ci_env(&server)).await;
    assert!(run.code == 0 || run.code == 1, "{}", run.stderr);
    let review = run.json();
    let new_in_diff = new_lines_in_diff(&review);
    assert!(!new_in_diff.is_empty(), "{review:#}");
    {
        let model = fake.model();
        for line in &new_in_diff {
            let discussion = model.discussion_at("app.py", *line);
            let note = &discussion["notes"][0];
            assert!(
                note["body"]
                    .as_str()
                    .unwrap()
                    .contains("<!-- posture:finding:")
            );
        }
        assert!(model.summary().contains("new"));
        assert_eq!(model.status()["sha"], head.as_str());
    }
    let discussions_before = fake.model().discussions.len();

    let rerun = review_and_publish(&repo, &base, &head, "gitlab", gitlab_ci_env(&server)).await;
    assert_eq!(rerun.code, run.code, "{}", rerun.stderr);
    assert_eq!(fake.model().discussions.len(), discussions_before);
    assert!(
        rerun.stderr.contains("published: 0 new inline comments"),
        "{}",
        rerun.stderr
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn gitlab_publish_in_a_branch_pipeline_says_to_run_in_merge_request_pipelines() {
    let (server, _fake) = FakeGitLab::start().await;
    let (repo, base, head) = local_change(gl::app_py);
    let mut env = gitlab_ci_env(&server);
    env.retain(|(k, _)| k != "CI_MERGE_REQUEST_IID");
    let run = review_and_publish(&repo, &base, &head, "gitlab", env).await;
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("merge_request_event"), "{}", run.stderr);
    assert!(!run.stderr.contains(gl::API_TOKEN));
}

fn yaml(path: &str) -> Value {
    let text = std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(path))
        .unwrap();
    serde_yaml_ng::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The GitHub Action is a composite action whose steps use only inputs it declares, and it
/// runs `posture review … --publish github`.
#[test]
fn the_github_action_declares_what_its_steps_use() {
    let action = yaml("action.yml");
    assert_eq!(action["runs"]["using"], "composite");
    let inputs = action["inputs"].as_object().unwrap();
    assert_eq!(inputs["head-reports"]["required"], true);
    let steps = action["runs"]["steps"].as_array().unwrap();
    let text = serde_json::to_string(steps).unwrap();
    for used in text.split("inputs.").skip(1) {
        let name: String = used
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
            .collect();
        assert!(
            inputs.contains_key(&name),
            "the steps use undeclared input {name}"
        );
    }
    for name in inputs.keys() {
        assert!(
            text.contains(&format!("inputs.{name}")),
            "input {name} is unused"
        );
    }
    assert!(
        steps.iter().all(|s| s["shell"] == "bash"),
        "composite steps need a shell"
    );
    assert!(text.contains("--publish github"));
    assert!(text.contains("GITHUB_TOKEN"));
    // Its outputs come from a step that exists.
    for (name, output) in action["outputs"].as_object().unwrap() {
        let value = output["value"].as_str().unwrap();
        let step = value
            .split("steps.")
            .nth(1)
            .unwrap()
            .split('.')
            .next()
            .unwrap();
        assert!(
            steps.iter().any(|s| s["id"] == step),
            "output {name} names step {step}"
        );
    }
}

/// The GitLab CI template runs in merge request pipelines, with the full history, and
/// publishes with `--publish gitlab`.
#[test]
fn the_gitlab_template_runs_in_merge_request_pipelines_and_publishes() {
    let template = yaml("deploy/gitlab/posture-review.gitlab-ci.yml");
    let job = &template[".posture-review"];
    assert_eq!(
        job["rules"][0]["if"],
        "$CI_PIPELINE_SOURCE == \"merge_request_event\""
    );
    assert_eq!(job["variables"]["GIT_DEPTH"], "0");
    let script: Vec<&str> = job["script"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap())
        .collect();
    assert!(
        script.iter().any(|l| l.contains("--publish gitlab")),
        "{script:#?}"
    );
    // The example workflow for GitHub checks out the pull request's head with its history.
    let workflow = yaml("deploy/github/posture-review.yml");
    let checkout = &workflow["jobs"]["review"]["steps"][0];
    assert_eq!(checkout["with"]["fetch-depth"], 0);
    assert_eq!(
        checkout["with"]["ref"],
        "${{ github.event.pull_request.head.sha }}"
    );
    assert_eq!(workflow["permissions"]["checks"], "write");
}
