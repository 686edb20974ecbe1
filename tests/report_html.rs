//! `posture report --format html` end to end: scans sent with `posture upload` to a real
//! `posture serve` (as tests/org_api.rs seeds it; SQLite and PostgreSQL at
//! `POSTURE_TEST_DATABASE_URL`), then the report written as one self-contained HTML file
//! whose figures are those of `--format json`.

mod common;

use std::path::{Path, PathBuf};

use chrono::Duration;
use common::org::*;
use common::posture_with_env as posture;
use roxmltree::{Document, Node};
use serde_json::{Value, json};
use tempfile::TempDir;

/// Bandit 1.8.6 on a Flask app: seven results.
fn bandit() -> PathBuf {
    common::fixture("sarif/bandit_1.8.6_flask.sarif")
}

/// The same run later: the last two results fixed, one new (a copy in `api.py`).
fn bandit_later(dir: &Path) -> PathBuf {
    let mut sarif: Value = serde_json::from_slice(&std::fs::read(bandit()).unwrap()).unwrap();
    let results = sarif["runs"][0]["results"].as_array_mut().unwrap();
    results.truncate(5);
    let mut copy = results[2].clone();
    copy["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] = json!("api.py");
    results.push(copy);
    let path = dir.join("bandit-later.sarif");
    std::fs::write(&path, serde_json::to_vec_pretty(&sarif).unwrap()).unwrap();
    path
}

fn text(node: Node<'_, '_>) -> String {
    node.descendants()
        .filter(|n| n.is_text())
        .filter_map(|n| n.text())
        .collect()
}

/// The value of the figure `key` on the page.
fn figure(doc: &Document<'_>, key: &str) -> String {
    let node = doc
        .descendants()
        .find(|n| n.attribute("data-figure") == Some(key))
        .unwrap_or_else(|| panic!("no figure {key}"));
    node.descendants()
        .find(|n| n.attribute("class") == Some("value"))
        .map_or_else(|| text(node), text)
}

#[tokio::test(flavor = "multi_thread")]
async fn the_html_report_holds_the_json_reports_figures_on_sqlite() {
    html_report(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_html_report_holds_the_json_reports_figures_on_postgres() {
    html_report(Backend::Postgres).await;
}

async fn html_report(backend: Backend) {
    let db = Db::new(backend).await;
    let reports = TempDir::new().unwrap();
    let token = create_token(&db, "acme", "upload,read", "ci");
    let server = start_server(&db);
    let t1 = seconds_ago(3 * 86_400);
    let t2 = t1 + Duration::days(2);
    for (repository, commit, at, report) in [
        ("acme/shop", COMMIT_1, t1, bandit()),
        ("acme/shop", COMMIT_2, t2, bandit_later(reports.path())),
        ("acme/api", COMMIT_1, t1, bandit()),
    ] {
        accepted(&upload_cli(
            &server,
            &token.secret,
            repository,
            commit,
            &time(at),
            &[&report],
        ));
    }
    drop(server);

    let report = |format: &str, extra: &[&str]| {
        let mut args = vec![
            "report",
            "--org",
            "acme",
            "--format",
            format,
            "--database",
            &db.url,
        ];
        args.extend_from_slice(extra);
        posture(&args, &[])
    };
    let json_run = report("json", &[]);
    assert_eq!(json_run.code, 0, "{}", json_run.stderr);
    let summary = json_run.json();
    let out = reports.path().join("posture.html");
    let html_run = report("html", &["--output", out.to_str().unwrap()]);
    assert_eq!(html_run.code, 0, "{}", html_run.stderr);
    assert!(html_run.stdout.is_empty(), "written to the file only");
    let html = std::fs::read_to_string(&out).unwrap();
    // The same page on standard output without `--output`.
    let stdout_run = report("html", &[]);
    assert!(stdout_run.stdout.starts_with("<!DOCTYPE html>"));

    let doc = Document::parse_with_options(
        &html,
        roxmltree::ParsingOptions {
            allow_dtd: true,
            ..roxmltree::ParsingOptions::default()
        },
    )
    .unwrap_or_else(|e| panic!("{e}\n{html}"));
    let h1: Vec<String> = doc
        .descendants()
        .filter(|n| n.has_tag_name("h1"))
        .map(text)
        .collect();
    assert_eq!(h1, ["acme"]);

    let count = |path: &[&str]| -> String {
        let mut value = &summary;
        for key in path {
            value = &value[key];
        }
        value
            .as_u64()
            .unwrap_or_else(|| panic!("{path:?}: {summary}"))
            .to_string()
    };
    let total = count(&["open", "total"]);
    assert_ne!(total, "0", "the seeded findings are open: {summary}");
    assert_eq!(figure(&doc, "open-findings"), total);
    for severity in ["critical", "high", "medium", "low", "info"] {
        assert_eq!(
            figure(&doc, &format!("open-{severity}")),
            count(&["open", severity]),
            "{severity}"
        );
    }
    assert_eq!(figure(&doc, "new"), count(&["new"]));
    assert_eq!(figure(&doc, "fixed"), count(&["fixed"]));
    assert_eq!(figure(&doc, "fixed"), "2", "{summary}");
    assert_eq!(
        figure(&doc, "sla-breached"),
        count(&["sla", "breached_open"])
    );
    assert_eq!(
        figure(&doc, "due-within-7-days"),
        count(&["sla", "due_within_7_days"])
    );
    assert_eq!(figure(&doc, "grade"), summary["grade"].as_str().unwrap());

    // The repositories in the summary's order, linked to their pages.
    let names: Vec<String> = doc
        .descendants()
        .filter(|n| n.attribute("class") == Some("repositories"))
        .flat_map(|t| t.descendants().filter(|n| n.has_tag_name("tbody")))
        .flat_map(|b| b.descendants().filter(|n| n.has_tag_name("th")))
        .map(text)
        .collect();
    let expected: Vec<String> = summary["repositories"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["repository"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(names, expected);
    assert_eq!(names.len(), 2);

    // Self-contained: no script, no external URL, every chart with its text and table.
    assert!(!html.contains("<script"));
    for node in doc.descendants() {
        for attribute in ["src", "href", "action"] {
            if let Some(url) = node.attribute(attribute) {
                assert!(!url.contains("://") && !url.starts_with("//"), "{url}");
            }
        }
    }
    let svgs: Vec<Node> = doc
        .descendants()
        .filter(|n| n.has_tag_name("svg"))
        .collect();
    assert_eq!(svgs.len(), 4);
    for svg in svgs {
        assert!(svg.children().any(|n| n.has_tag_name("title")));
        assert!(svg.children().any(|n| n.has_tag_name("desc")));
        let section = svg.ancestors().find(|n| n.has_tag_name("section")).unwrap();
        assert!(section.descendants().any(|n| n.has_tag_name("table")));
    }
}
