//! The default branch's findings and the events a scan writes, org-wide reads, and API
//! tokens with the audit log, on both databases.

use std::collections::BTreeSet;

use chrono::{DateTime, Duration, Utc};

use super::history::{review, reviewed};
use super::{count, stores};
use crate::model::{
    DismissReason, Ecosystem, FindingId, Kind, Package, ReviewedFinding, Severity, Status,
    TriageState, Upgrade, Verdict,
};
use crate::store::{
    BranchStatus, EventKind, EventSource, FindingQuery, Forge, OutOfOrder, ScanCounts,
    StatusFilter, Store, StoreError, TriageChange, with_pool,
};

fn t(day: i64) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z")
        .unwrap()
        .with_timezone(&Utc)
        + Duration::days(day)
}

fn tools(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|n| n.to_string()).collect()
}

fn sast(id: &str, severity: Severity) -> ReviewedFinding {
    let mut finding = reviewed(id, Status::Existing, None);
    finding.finding.severity = severity;
    finding
}

/// A vulnerable npm dependency reported by trivy, with its upgrade.
fn sca(id: &str, cve: &str) -> ReviewedFinding {
    let mut finding = reviewed(id, Status::Existing, None);
    finding.finding.kind = Kind::Sca;
    finding.finding.tools = vec!["trivy".into()];
    finding.finding.rule = cve.into();
    finding.finding.package = Some(Box::new(Package {
        ecosystem: Ecosystem::Npm,
        name: "lodash".into(),
        version: Some("4.17.4".into()),
        manifest: None,
    }));
    finding.upgrade = Some(Box::new(Upgrade {
        package: "lodash".into(),
        from: "4.17.4".into(),
        to: "4.17.21".into(),
        manifest: None,
        line: None,
        fixes: vec![cve.into()],
        breaking: false,
        current_text: None,
        suggested_text: None,
        via: None,
    }));
    finding
}

/// The event kinds of a finding, oldest first.
async fn kinds(store: &Store, project: crate::store::ProjectId, id: &str) -> Vec<EventKind> {
    store
        .finding_events(project, &FindingId(id.into()))
        .await
        .expect("events")
        .into_iter()
        .map(|e| e.kind)
        .collect()
}

async fn scan(
    store: &Store,
    project: crate::store::ProjectId,
    commit: &str,
    at: DateTime<Utc>,
    findings: Vec<ReviewedFinding>,
    ran: &[&str],
) -> Result<ScanCounts, StoreError> {
    store
        .record_scan(
            project,
            commit,
            Some(at),
            &review(commit, findings),
            &tools(ran),
        )
        .await
        .map(|(_, counts)| counts.expect("a baseline has counts"))
}

#[tokio::test]
async fn a_default_branch_scan_writes_detections_fixes_reintroductions_and_severity_changes() {
    for db in stores().await {
        let store = &db.store;
        let project = store
            .upsert_project(Forge::GitHub, "Acme/shop", Some("main"))
            .await
            .unwrap();
        let first = scan(
            store,
            project,
            "c1",
            t(0),
            vec![sast("f1", Severity::High), sast("f2", Severity::High)],
            &["semgrep"],
        )
        .await
        .unwrap();
        assert_eq!(
            first,
            ScanCounts {
                findings: 2,
                new: 2,
                reintroduced: 0,
                fixed: 0
            },
            "{}",
            db.name
        );
        // f1 is now critical, f2 is gone.
        let second = scan(
            store,
            project,
            "c2",
            t(7),
            vec![sast("f1", Severity::Critical)],
            &["semgrep"],
        )
        .await
        .unwrap();
        assert_eq!((second.new, second.fixed), (0, 1), "{}", db.name);
        // f2 comes back.
        let third = scan(
            store,
            project,
            "c3",
            t(14),
            vec![sast("f1", Severity::Critical), sast("f2", Severity::High)],
            &["semgrep"],
        )
        .await
        .unwrap();
        assert_eq!((third.new, third.reintroduced), (0, 1), "{}", db.name);

        assert_eq!(
            kinds(store, project, "f1").await,
            [EventKind::Detected, EventKind::SeverityChanged],
            "{}",
            db.name
        );
        assert_eq!(
            kinds(store, project, "f2").await,
            [
                EventKind::Detected,
                EventKind::Fixed,
                EventKind::Reintroduced
            ],
            "{}",
            db.name
        );
        let events = store
            .finding_events(project, &FindingId("f2".into()))
            .await
            .unwrap();
        assert_eq!(
            events.iter().map(|e| e.at).collect::<Vec<_>>(),
            [t(0), t(7), t(14)],
            "{}: events are dated when the scans were observed",
            db.name
        );

        // The metrics' view: the org is the owner, lower-cased; the first detection stays.
        assert_eq!(store.orgs().await.unwrap(), ["acme"], "{}", db.name);
        let history = store.org_history("acme", None, None, t(30)).await.unwrap();
        assert_eq!(history.len(), 2, "{}", db.name);
        let f1 = history.iter().find(|h| h.finding_id.0 == "f1").unwrap();
        assert_eq!(f1.repository, "Acme/shop");
        assert_eq!(
            f1.events.iter().map(|e| e.severity).collect::<Vec<_>>(),
            [Some(Severity::High), Some(Severity::Critical)],
            "{}",
            db.name
        );
        let page = store
            .branch_findings(&FindingQuery {
                org: "acme".into(),
                status: StatusFilter::Open,
                limit: 10,
                ..FindingQuery::default()
            })
            .await
            .unwrap();
        let f2 = page.iter().find(|f| f.finding_id == "f2").unwrap();
        assert_eq!(f2.first_detected_at, t(0), "{}", db.name);
        assert_eq!(f2.fixed_at, None, "{}", db.name);
        // As of day 10, f2 was fixed: the later reintroduction is not there yet.
        let then = store.org_history("acme", None, None, t(10)).await.unwrap();
        let f2 = then.iter().find(|h| h.finding_id.0 == "f2").unwrap();
        assert_eq!(f2.events.len(), 2, "{}", db.name);
    }
}

#[tokio::test]
async fn a_scan_that_did_not_run_a_tool_fixes_none_of_its_findings() {
    for db in stores().await {
        let store = &db.store;
        let project = store
            .upsert_project(Forge::GitHub, "acme/shop", Some("main"))
            .await
            .unwrap();
        scan(
            store,
            project,
            "c1",
            t(0),
            vec![sast("f1", Severity::High)],
            &["semgrep"],
        )
        .await
        .unwrap();
        let trivy_only = scan(
            store,
            project,
            "c2",
            t(1),
            vec![sca("d1", "CVE-2021-23337")],
            &["trivy"],
        )
        .await
        .unwrap();
        assert_eq!((trivy_only.new, trivy_only.fixed), (1, 0), "{}", db.name);
        assert_eq!(
            kinds(store, project, "f1").await,
            [EventKind::Detected],
            "{}",
            db.name
        );
        // Semgrep runs and no longer finds f1: now it is fixed.
        let semgrep = scan(store, project, "c3", t(2), vec![], &["semgrep"])
            .await
            .unwrap();
        assert_eq!(semgrep.fixed, 1, "{}", db.name);
    }
}

#[tokio::test]
async fn an_older_scan_is_refused_and_writes_nothing() {
    for db in stores().await {
        let store = &db.store;
        let project = store
            .upsert_project(Forge::GitHub, "acme/shop", Some("main"))
            .await
            .unwrap();
        scan(
            store,
            project,
            "c2",
            t(7),
            vec![sast("f1", Severity::High)],
            &["semgrep"],
        )
        .await
        .unwrap();
        let (events, snapshots) = (
            count(store, "finding_events").await,
            count(store, "snapshots").await,
        );
        let err = scan(store, project, "c1", t(0), vec![], &["semgrep"])
            .await
            .unwrap_err();
        assert!(
            matches!(err, StoreError::OutOfOrder(OutOfOrder { observed_at, latest }) if observed_at == t(0) && latest == t(7)),
            "{}: {err}",
            db.name
        );
        assert_eq!(count(store, "finding_events").await, events, "{}", db.name);
        assert_eq!(count(store, "snapshots").await, snapshots, "{}", db.name);
    }
}

#[tokio::test]
async fn scans_of_one_commit_by_different_tools_add_up() {
    for db in stores().await {
        let store = &db.store;
        let project = store
            .upsert_project(Forge::GitHub, "acme/shop", Some("main"))
            .await
            .unwrap();
        scan(
            store,
            project,
            "c1",
            t(0),
            vec![sast("f1", Severity::High)],
            &["semgrep"],
        )
        .await
        .unwrap();
        scan(
            store,
            project,
            "c1",
            t(0),
            vec![sca("d1", "CVE-2021-23337")],
            &["trivy"],
        )
        .await
        .unwrap();
        let snapshot = store.snapshot(project, "c1").await.unwrap().unwrap();
        let ids: BTreeSet<&str> = snapshot.iter().map(|f| f.id.0.as_str()).collect();
        assert_eq!(ids, BTreeSet::from(["d1", "f1"]), "{}", db.name);
        assert_eq!(
            store.snapshot_tools(project, "c1").await.unwrap(),
            Some(tools(&["semgrep", "trivy"])),
            "{}",
            db.name
        );
        // The same tool again replaces its own findings.
        scan(store, project, "c1", t(0), vec![], &["trivy"])
            .await
            .unwrap();
        let snapshot = store.snapshot(project, "c1").await.unwrap().unwrap();
        assert_eq!(snapshot.len(), 1, "{}", db.name);
        assert_eq!(snapshot[0].id.0, "f1", "{}", db.name);
    }
}

#[tokio::test]
async fn org_reads_carry_kev_upgrades_triage_and_page_by_cursor() {
    for db in stores().await {
        let store = &db.store;
        with_pool!(store, |pool| {
            sqlx::query(
                "INSERT INTO intel_kev (cve_id, vendor_project, product, vulnerability_name, \
                 date_added, known_ransomware, required_action) \
                 VALUES ('CVE-2021-23337', 'lodash', 'lodash', 'injection', '2022-01-01', false, 'patch')",
            )
            .execute(pool)
            .await
            .map(drop)
        })
        .unwrap();
        let shop = store
            .upsert_project(Forge::GitHub, "acme/shop", Some("main"))
            .await
            .unwrap();
        let api = store
            .upsert_project(Forge::GitHub, "acme/api", Some("main"))
            .await
            .unwrap();
        let other = store
            .upsert_project(Forge::GitHub, "other/app", Some("main"))
            .await
            .unwrap();
        scan(
            store,
            shop,
            "s1",
            t(0),
            vec![sca("d1", "CVE-2021-23337"), sast("f1", Severity::Low)],
            &["trivy", "semgrep"],
        )
        .await
        .unwrap();
        scan(
            store,
            api,
            "a1",
            t(0),
            vec![sast("f2", Severity::Medium), sast("f3", Severity::High)],
            &["semgrep"],
        )
        .await
        .unwrap();
        scan(
            store,
            other,
            "o1",
            t(0),
            vec![sast("x1", Severity::High)],
            &["semgrep"],
        )
        .await
        .unwrap();
        let dismiss = crate::triage::TriageRecord {
            finding_id: FindingId("f3".into()),
            subject: Default::default(),
            triage: crate::model::Triage {
                state: TriageState::Dismissed,
                verdict: Verdict::Dismiss {
                    reason: DismissReason::FalsePositive,
                },
                by: "alice".into(),
                at: t(1),
                comment: None,
                source: crate::model::TriageSource::Command {
                    pull_request: 1,
                    delivery_id: None,
                },
            },
        };
        store
            .apply_triage(
                api,
                &TriageChange::Decide(Box::new(dismiss)),
                &EventSource {
                    at: t(1),
                    actor: Some("alice".into()),
                    comment: None,
                    pull_request: Some(1),
                    delivery_id: None,
                },
            )
            .await
            .unwrap();

        let history = store.org_history("acme", None, None, t(2)).await.unwrap();
        assert_eq!(history.len(), 4, "{}: other's findings stay out", db.name);
        let d1 = history.iter().find(|h| h.finding_id.0 == "d1").unwrap();
        assert!(d1.kev, "{}", db.name);
        assert_eq!(d1.advisories, ["CVE-2021-23337"], "{}", db.name);
        assert_eq!(
            d1.upgrade.as_ref().map(|u| u.to.as_str()),
            Some("4.17.21"),
            "{}",
            db.name
        );
        let f3 = history.iter().find(|h| h.finding_id.0 == "f3").unwrap();
        assert_eq!(
            f3.events.last().map(|e| e.kind),
            Some(EventKind::Dismissed),
            "{}",
            db.name
        );
        let only_api = store
            .org_history("acme", Some("acme/api"), None, t(2))
            .await
            .unwrap();
        assert_eq!(only_api.len(), 2, "{}", db.name);

        // Open excludes the dismissed f3; all shows it as triaged.
        let query = |status, after| FindingQuery {
            org: "acme".into(),
            status,
            after,
            limit: 2,
            ..FindingQuery::default()
        };
        let open = store
            .branch_findings(&query(StatusFilter::All, None))
            .await
            .unwrap();
        assert_eq!(
            open.iter()
                .map(|f| (f.repository.as_str(), f.finding_id.as_str()))
                .collect::<Vec<_>>(),
            [("acme/api", "f2"), ("acme/api", "f3")],
            "{}",
            db.name
        );
        assert_eq!(open[1].status, BranchStatus::Triaged, "{}", db.name);
        assert_eq!(open[1].triage.as_deref(), Some("dismissed"), "{}", db.name);
        let last = open.last().unwrap();
        let next = store
            .branch_findings(&query(
                StatusFilter::All,
                Some((last.repository.clone(), last.finding_id.clone())),
            ))
            .await
            .unwrap();
        assert_eq!(
            next.iter()
                .map(|f| f.finding_id.as_str())
                .collect::<Vec<_>>(),
            ["d1", "f1"],
            "{}",
            db.name
        );
        let open: Vec<String> = store
            .branch_findings(&FindingQuery {
                limit: 10,
                ..query(StatusFilter::Open, None)
            })
            .await
            .unwrap()
            .into_iter()
            .map(|f| f.finding_id)
            .collect();
        assert_eq!(open, ["f2", "d1", "f1"], "{}", db.name);
        let by_tool = store
            .branch_findings(&FindingQuery {
                tool: Some("trivy".into()),
                limit: 10,
                ..query(StatusFilter::All, None)
            })
            .await
            .unwrap();
        assert_eq!(by_tool.len(), 1, "{}", db.name);
        assert_eq!(by_tool[0].tools.0, ["trivy"], "{}", db.name);
    }
}

#[tokio::test]
async fn tokens_are_found_by_hash_until_revoked_and_uses_are_audited() {
    for db in stores().await {
        let store = &db.store;
        let row = store
            .create_token("acme", "ci", "read,upload", "hash-1")
            .await
            .unwrap();
        assert_eq!(row.last_used_at, None, "{}", db.name);
        let used = store.use_token("hash-1").await.unwrap().unwrap();
        assert_eq!(used.id, row.id, "{}", db.name);
        assert!(used.last_used_at.is_some(), "{}", db.name);
        assert_eq!(
            store.use_token("hash-2").await.unwrap(),
            None,
            "{}",
            db.name
        );
        assert!(store.revoke_token(row.id).await.unwrap(), "{}", db.name);
        assert!(!store.revoke_token(row.id).await.unwrap(), "{}", db.name);
        assert_eq!(
            store.use_token("hash-1").await.unwrap(),
            None,
            "{}",
            db.name
        );
        assert_eq!(
            store.tokens(Some("acme")).await.unwrap().len(),
            1,
            "{}",
            db.name
        );
        assert!(
            store.tokens(Some("other")).await.unwrap().is_empty(),
            "{}",
            db.name
        );

        store
            .audit(
                "token 1 (ci)",
                Some("acme"),
                "GET /api/v1/orgs/acme/summary",
                None,
                Some(200),
            )
            .await
            .unwrap();
        store
            .audit(
                "token 2 (x)",
                Some("other"),
                "GET /api/v1/orgs/other/summary",
                None,
                Some(200),
            )
            .await
            .unwrap();
        let log = store.audit_log(Some("acme"), 10).await.unwrap();
        assert_eq!(log.len(), 1, "{}", db.name);
        assert_eq!(log[0].status, Some(200), "{}", db.name);
        assert_eq!(log[0].actor, "token 1 (ci)", "{}", db.name);
    }
}

/// Scans of several repositories written at once all land. On SQLite a scan's
/// transaction reads before it writes; begun deferred, it failed with "database is
/// locked" whenever another connection committed in between (the busy timeout does not
/// cover that), and the upload answered 500.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_scans_all_land() {
    for db in stores().await {
        let mut writers = tokio::task::JoinSet::new();
        for repo in 0..8 {
            let store = db.store.clone();
            writers.spawn(async move {
                let project = store
                    .upsert_project(Forge::GitHub, &format!("acme/app{repo}"), Some("main"))
                    .await?;
                for day in 0..10 {
                    let id = format!("f{repo}-{day}");
                    scan(
                        &store,
                        project,
                        &format!("c{day}"),
                        t(day),
                        vec![sast(&id, Severity::High)],
                        &["semgrep"],
                    )
                    .await?;
                }
                Ok::<_, StoreError>(())
            });
        }
        while let Some(written) = writers.join_next().await {
            written.unwrap().unwrap();
        }
        assert_eq!(count(&db.store, "snapshots").await, 80);
    }
}
