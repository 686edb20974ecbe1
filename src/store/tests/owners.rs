//! Owning teams end to end: a repository whose CODEOWNERS changes hands between commits,
//! reviewed on the default branch (blame names each finding's introducing commit), recorded,
//! and read back as the summary's teams.

use std::collections::BTreeSet;
use std::path::PathBuf;

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};

use super::history::{review, reviewed};
use super::stores;
use crate::git::testing::{ALICE, TestRepo};
use crate::history::{self, Filters, SlaPolicy, TeamSummary, Window};
use crate::ingest::SecretHasher;
use crate::inventory::Deployed;
use crate::model::Status;
use crate::review::{self, ConfigFrom, Request};
use crate::store::Forge;
use crate::triage::TriageBook;

fn t(day: i64) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z")
        .unwrap()
        .with_timezone(&Utc)
        + TimeDelta::days(day)
}

/// A SARIF report with one `eval` result on line 1 of each path, written into the repo.
fn report(repo: &TestRepo, name: &str, paths: &[&str]) -> PathBuf {
    let results: Vec<String> = paths
        .iter()
        .map(|path| {
            format!(
                r#"{{"ruleId":"eval","message":{{"text":"eval"}},"locations":[{{"physicalLocation":{{"artifactLocation":{{"uri":"{path}"}},"region":{{"startLine":1}}}}}}]}}"#
            )
        })
        .collect();
    let sarif = format!(
        r#"{{"version":"2.1.0","runs":[{{"tool":{{"driver":{{"name":"semgrep"}}}},"results":[{}]}}]}}"#,
        results.join(",")
    );
    let path = repo.path().join(name);
    std::fs::write(&path, sarif).unwrap();
    path
}

/// The default-branch review of `head` (against itself, as the baseline job runs it).
fn baseline(repo: &TestRepo, head: &str, report: PathBuf) -> crate::model::Review {
    review::run(&Request {
        repo: repo.path().to_path_buf(),
        base: head.to_owned(),
        head: head.to_owned(),
        base_reports: vec![report.clone()],
        head_reports: vec![report],
        config: None,
        config_from: ConfigFrom::Base,
        fail_on: None,
        today: NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(),
        triage: TriageBook::default(),
        secrets: SecretHasher::default(),
        deployed: Deployed::default(),
        read_inventory: false,
    })
    .unwrap()
    .review
}

fn team<'a>(teams: &'a [TeamSummary], name: &str) -> &'a TeamSummary {
    teams
        .iter()
        .find(|t| t.team == name)
        .unwrap_or_else(|| panic!("no team {name} in {teams:?}"))
}

#[tokio::test]
async fn findings_count_for_the_team_that_owned_their_file_when_they_came_in() {
    let repo = TestRepo::new();
    repo.write(".github/CODEOWNERS", "* @acme/platform\n/api/ @acme/api\n");
    repo.write("api/a.py", "eval(a)\n");
    repo.commit("api endpoint", ALICE);
    // `/api/` changes hands: what comes in from now on belongs to payments.
    repo.write(
        ".github/CODEOWNERS",
        "* @acme/platform\n/api/ @acme/payments\n",
    );
    repo.write("api/b.py", "eval(b)\n");
    repo.write("web/c.py", "eval(c)\n");
    let second = repo.commit("payments take the api", ALICE);
    let first_scan = baseline(
        &repo,
        &second,
        report(&repo, "one.sarif", &["api/a.py", "api/b.py", "web/c.py"]),
    );
    // a.py's finding is fixed later.
    repo.write("api/a.py", "print(a)\n");
    let third = repo.commit("no eval", ALICE);
    let second_scan = baseline(
        &repo,
        &third,
        report(&repo, "two.sarif", &["api/b.py", "web/c.py"]),
    );
    let owners: BTreeSet<(Option<&str>, Option<&str>)> = first_scan
        .findings
        .iter()
        .map(|f| (f.finding.path(), f.owner.as_deref()))
        .collect();
    assert_eq!(
        owners,
        BTreeSet::from([
            (Some("api/a.py"), Some("@acme/api")),
            (Some("api/b.py"), Some("@acme/payments")),
            (Some("web/c.py"), Some("@acme/platform")),
        ])
    );
    let tools = BTreeSet::from(["semgrep".to_owned()]);

    for db in stores().await {
        let store = &db.store;
        let shop = store
            .upsert_project(Forge::GitHub, "acme/shop", Some("main"))
            .await
            .unwrap();
        store
            .record_scan(shop, &second, Some(t(0)), &first_scan, &tools)
            .await
            .unwrap();
        store
            .record_scan(shop, &third, Some(t(4)), &second_scan, &tools)
            .await
            .unwrap();
        // Reports uploaded without their repository: no CODEOWNERS, no owner.
        let uploads = store
            .upsert_project(Forge::GitHub, "acme/uploads", Some("main"))
            .await
            .unwrap();
        let uploaded = review("u1", vec![reviewed("u-1", Status::Existing, None)]);
        store
            .record_scan(uploads, "u1", Some(t(1)), &uploaded, &tools)
            .await
            .unwrap();

        let findings = store.org_history("acme", None, None, t(10)).await.unwrap();
        let window = Window {
            from: t(0),
            to: t(10),
            as_of: t(10),
        };
        let summary = history::summarize(
            "acme",
            &findings,
            &window,
            &Filters::default(),
            &SlaPolicy::default(),
        );
        let teams = &summary.teams;
        assert_eq!(teams.len(), 4, "{}: {teams:?}", db.name);
        let api = team(teams, "@acme/api");
        assert_eq!(
            (api.open, api.introduced, api.fixed, api.mttr_days),
            (0, 1, 1, Some(4.0)),
            "{}",
            db.name
        );
        for name in ["@acme/payments", "@acme/platform", "unowned"] {
            let t = team(teams, name);
            assert_eq!(
                (t.open, t.introduced, t.fixed, t.mttr_days),
                (1, 1, 0, None),
                "{}: {name}",
                db.name
            );
        }
        // Most open first: the team with none is last.
        assert_eq!(teams[3].team, "@acme/api", "{}", db.name);

        // The same filters as the other figures: one repository.
        let uploads_only = history::summarize(
            "acme",
            &findings,
            &window,
            &Filters {
                repository: Some("acme/uploads".into()),
                ..Filters::default()
            },
            &SlaPolicy::default(),
        );
        let names: Vec<&str> = uploads_only.teams.iter().map(|t| t.team.as_str()).collect();
        assert_eq!(names, ["unowned"], "{}", db.name);
    }
}
