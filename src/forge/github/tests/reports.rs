//! Reports from Actions artifacts: runs → artifacts → the redirected download → safe
//! extraction, with what is skipped and why.

use std::io::{Cursor, Write};

use serde_json::json;
use wiremock::matchers::{header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};
use zip::write::SimpleFileOptions;

use super::*;
use crate::forge::{ArtifactLimits, Forge, ReportGlobs};

fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    for (name, bytes) in entries {
        writer.start_file(*name, options).unwrap();
        writer.write_all(bytes).unwrap();
    }
    writer.finish().unwrap().into_inner()
}

/// `GET /repos/{owner}/{repo}/actions/runs` in its documented shape, trimmed.
fn runs_json(ids: &[u64]) -> serde_json::Value {
    json!({
        "total_count": ids.len(),
        "workflow_runs": ids.iter().map(|id| json!({
            "id": id,
            "name": "Security scans",
            "node_id": "MDEyOldvcmtmbG93IFJ1bjI2OTI4OQ==",
            "head_branch": "new-topic",
            "head_sha": HEAD,
            "path": ".github/workflows/scan.yml",
            "run_number": 562,
            "event": "pull_request",
            "status": "completed",
            "conclusion": "success",
            "workflow_id": 159038,
            "url": format!("https://api.github.com/repos/{REPO}/actions/runs/{id}"),
            "artifacts_url": format!("https://api.github.com/repos/{REPO}/actions/runs/{id}/artifacts"),
        })).collect::<Vec<_>>()
    })
}

fn artifact_json(id: u64, name: &str, size: u64, expired: bool) -> serde_json::Value {
    json!({
        "id": id,
        "node_id": "MDg6QXJ0aWZhY3QxMQ==",
        "name": name,
        "size_in_bytes": size,
        "url": format!("https://api.github.com/repos/{REPO}/actions/artifacts/{id}"),
        "archive_download_url": format!("https://api.github.com/repos/{REPO}/actions/artifacts/{id}/zip"),
        "expired": expired,
        "created_at": "2020-01-10T14:59:22Z",
        "expires_at": "2020-03-21T14:59:22Z",
        "updated_at": "2020-02-21T14:59:22Z",
        "workflow_run": {"id": 2848, "head_branch": "new-topic", "head_sha": HEAD}
    })
}

#[tokio::test]
async fn reports_follow_the_download_redirect_without_authorization_and_extract_safely() {
    let api = MockServer::start().await;
    let storage = MockServer::start().await;

    let bomb = vec![0u8; 4 * 1024 * 1024];
    let archive = zip_of(&[
        ("results/semgrep.sarif", br#"{"version":"2.1.0","runs":[]}"#),
        ("osv-scanner.json", br#"{"results":[]}"#),
        ("../../etc/evil.sarif", b"{}"),
        ("bomb.sarif", &bomb),
        ("README.md", b"# not a report"),
    ]);
    assert!(archive.len() < 64 * 1024);

    Mock::given(method("GET"))
        .and(path(format!("/repos/{REPO}/actions/runs")))
        .and(query_param("head_sha", HEAD))
        .and(query_param("status", "completed"))
        .and(query_param("per_page", "100"))
        .and(header("authorization", format!("Bearer {TOKEN}").as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_json(runs_json(&[30433642, 30433643])))
        .expect(1)
        .mount(&api)
        .await;
    Mock::given(method("GET"))
        .and(path(format!(
            "/repos/{REPO}/actions/runs/30433642/artifacts"
        )))
        .and(query_param("per_page", "100"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "total_count": 3,
            "artifacts": [
                artifact_json(11, "scan-results", archive.len() as u64, false),
                artifact_json(12, "old-results", 1024, true),
                artifact_json(13, "coverage", 900 * 1024 * 1024, false),
            ]
        })))
        .expect(1)
        .mount(&api)
        .await;
    Mock::given(method("GET"))
        .and(path(format!(
            "/repos/{REPO}/actions/runs/30433643/artifacts"
        )))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"total_count": 0, "artifacts": []})),
        )
        .expect(1)
        .mount(&api)
        .await;
    let signed = format!(
        "{}/actions-results/bc5bf6a1/artifact.zip?sig=c2lnbmF0dXJl&se=2025-01-01T00%3A01%3A00Z",
        storage.uri()
    );
    Mock::given(method("GET"))
        .and(path(format!("/repos/{REPO}/actions/artifacts/11/zip")))
        .and(header("authorization", format!("Bearer {TOKEN}").as_str()))
        .respond_with(ResponseTemplate::new(302).insert_header("location", signed.as_str()))
        .expect(1)
        .mount(&api)
        .await;
    Mock::given(method("GET"))
        .and(path("/actions-results/bc5bf6a1/artifact.zip"))
        .and(query_param("sig", "c2lnbmF0dXJl"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("content-type", "application/zip")
                .set_body_bytes(archive.clone()),
        )
        .expect(1)
        .mount(&storage)
        .await;

    let limits = ArtifactLimits {
        max_archive_bytes: 512 * 1024 * 1024,
        max_file_bytes: 1024 * 1024,
        ..ArtifactLimits::default()
    };
    let reports = token_forge(&api)
        .reports(REPO, HEAD, &ReportGlobs::default(), &limits)
        .await
        .unwrap();

    // The storage host never saw the token.
    let downloads = storage.received_requests().await.unwrap();
    assert_eq!(downloads.len(), 1);
    assert!(
        downloads[0].headers.get("authorization").is_none(),
        "{:?}",
        downloads[0].headers
    );

    assert!(reports.ci_seen);
    let names: Vec<&str> = reports.files.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "scan-results/results/semgrep.sarif",
            "scan-results/osv-scanner.json"
        ]
    );
    assert_eq!(reports.files[1].bytes, br#"{"results":[]}"#);
    let skipped = reports.skipped.join("\n");
    assert_eq!(reports.skipped.len(), 4, "{skipped}");
    assert!(
        skipped.contains("../../etc/evil.sarif: refused, the path escapes"),
        "{skipped}"
    );
    assert!(
        skipped.contains("bomb.sarif: skipped, it inflates past 1048576 bytes"),
        "{skipped}"
    );
    assert!(
        skipped.contains("artifact 'old-results' of run 30433642 (Security scans): expired"),
        "{skipped}"
    );
    assert!(
        skipped.contains("artifact 'coverage' of run 30433642 (Security scans): 943718400 bytes, over the limit of 536870912"),
        "{skipped}"
    );
}

#[tokio::test]
async fn a_download_is_cut_off_at_the_limit_whatever_the_listed_size() {
    let api = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!("/repos/{REPO}/actions/runs")))
        .respond_with(ResponseTemplate::new(200).set_body_json(runs_json(&[7])))
        .mount(&api)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("/repos/{REPO}/actions/runs/7/artifacts")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "total_count": 1,
            // Claims to be small.
            "artifacts": [artifact_json(21, "liar", 100, false)]
        })))
        .mount(&api)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("/repos/{REPO}/actions/artifacts/21/zip")))
        .respond_with(ResponseTemplate::new(200).set_body_bytes(vec![b'x'; 256 * 1024]))
        .mount(&api)
        .await;
    let limits = ArtifactLimits {
        max_archive_bytes: 64 * 1024,
        ..ArtifactLimits::default()
    };
    let reports = token_forge(&api)
        .reports(REPO, HEAD, &ReportGlobs::default(), &limits)
        .await
        .unwrap();
    assert!(reports.files.is_empty());
    assert_eq!(
        reports.skipped,
        ["artifact 'liar' of run 7 (Security scans): the download passed the limit of 65536 bytes"]
    );
}

#[tokio::test]
async fn no_run_means_no_ci_and_no_further_calls() {
    let api = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!("/repos/{REPO}/actions/runs")))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"total_count": 0, "workflow_runs": []})),
        )
        .expect(1)
        .mount(&api)
        .await;
    let reports = token_forge(&api)
        .reports(
            REPO,
            HEAD,
            &ReportGlobs::default(),
            &ArtifactLimits::default(),
        )
        .await
        .unwrap();
    assert!(!reports.ci_seen);
    assert!(reports.files.is_empty() && reports.skipped.is_empty());
    assert_eq!(seen(&api).await.len(), 1);
}

#[tokio::test]
async fn an_artifact_that_is_not_a_zip_is_skipped_with_the_reason() {
    let api = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!("/repos/{REPO}/actions/runs")))
        .respond_with(ResponseTemplate::new(200).set_body_json(runs_json(&[8])))
        .mount(&api)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("/repos/{REPO}/actions/runs/8/artifacts")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "total_count": 2,
            "artifacts": [artifact_json(31, "junk", 16, false), artifact_json(32, "deleted", 16, false)]
        })))
        .mount(&api)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("/repos/{REPO}/actions/artifacts/31/zip")))
        .respond_with(ResponseTemplate::new(200).set_body_bytes(b"not a zip at all".to_vec()))
        .mount(&api)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("/repos/{REPO}/actions/artifacts/32/zip")))
        .respond_with(
            ResponseTemplate::new(410).set_body_json(json!({"message": "Artifact has expired"})),
        )
        .mount(&api)
        .await;
    let reports = token_forge(&api)
        .reports(
            REPO,
            HEAD,
            &ReportGlobs::default(),
            &ArtifactLimits::default(),
        )
        .await
        .unwrap();
    assert!(reports.ci_seen);
    assert_eq!(reports.skipped.len(), 2, "{:?}", reports.skipped);
    assert!(
        reports.skipped[0].contains("'junk' is not a readable zip"),
        "{:?}",
        reports.skipped
    );
    assert!(
        reports.skipped[1].contains("'deleted' of run 8 (Security scans): gone"),
        "{:?}",
        reports.skipped
    );
}
