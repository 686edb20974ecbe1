//! KEV and EPSS caching, on both databases.

use std::collections::BTreeSet;

use super::{count, stores};
use crate::analyze::feeds;
use crate::store::intel::{IntelError, IntelSources, refresh_intel};

fn fixture(name: &str) -> String {
    format!("{}/fixtures/intel/{name}", env!("CARGO_MANIFEST_DIR"))
}

fn cves(ids: &[&str]) -> BTreeSet<String> {
    ids.iter().map(|id| id.to_string()).collect()
}

#[tokio::test]
async fn feeds_load_from_files_and_answer_lookups() {
    let sources = IntelSources {
        kev: Some(fixture("known_exploited_vulnerabilities.json")),
        epss: Some(fixture("epss_scores-excerpt.csv")),
    };
    for db in stores().await {
        let loaded = refresh_intel(&db.store, &sources).await.expect("loaded");
        assert_eq!(loaded.len(), 2, "{}", db.name);
        assert_eq!(loaded[0].records, 6, "{}", db.name);
        assert_eq!(loaded[1].records, 16, "{}", db.name);
        assert_eq!(count(&db.store, "intel_kev").await, 6, "{}", db.name);
        assert_eq!(count(&db.store, "intel_epss").await, 16, "{}", db.name);

        let intel = db
            .store
            .intel_for(&cves(&[
                "CVE-2021-44228",
                "CVE-2020-28500",
                "CVE-2099-0001",
            ]))
            .await
            .expect("lookup");
        let log4shell = intel.kev.get("CVE-2021-44228").expect("in KEV");
        assert!(log4shell.known_ransomware, "{}", db.name);
        assert_eq!(log4shell.date_added.to_string(), "2021-12-10");
        assert_eq!(intel.kev.len(), 1, "{}", db.name);
        assert_eq!(intel.epss.len(), 2, "{}", db.name);
        assert!((intel.epss["CVE-2020-28500"].probability - 0.00321).abs() < 1e-9);
        assert_eq!(
            intel.epss_date.map(|d| d.to_string()).as_deref(),
            Some("2025-03-20"),
            "{}",
            db.name
        );
        assert_eq!(intel.kev_version.as_deref(), Some("2025.03.20"));

        // A reload replaces the feed whole.
        let smaller = feeds::parse_epss(
            "small.csv",
            b"cve,epss,percentile\nCVE-2021-44228,0.5,0.9\n",
        )
        .expect("parses");
        db.store
            .replace_epss(&smaller, "small.csv")
            .await
            .expect("replaced");
        assert_eq!(count(&db.store, "intel_epss").await, 1, "{}", db.name);
        let feeds = db.store.intel_feeds().await.expect("feeds");
        let sources: Vec<&str> = feeds.iter().map(|f| f.feed.as_str()).collect();
        assert_eq!(sources, ["epss", "kev"], "{}", db.name);
        assert_eq!(feeds[0].source, "small.csv");
        assert_eq!(feeds[0].published, None);
    }
}

#[tokio::test]
async fn a_bad_feed_leaves_the_stored_one_untouched() {
    let dir = tempfile::TempDir::new().expect("a temporary directory");
    let bad = dir.path().join("epss.csv");
    std::fs::write(
        &bad,
        "cve,epss,percentile\nCVE-2021-44228,0.9,0.99\nCVE-2021-45046,x,0.9\n",
    )
    .expect("written");
    for db in stores().await {
        let good = IntelSources {
            kev: None,
            epss: Some(fixture("epss_scores-excerpt.csv")),
        };
        refresh_intel(&db.store, &good).await.expect("loaded");
        let broken = IntelSources {
            kev: None,
            epss: Some(bad.display().to_string()),
        };
        let error = refresh_intel(&db.store, &broken)
            .await
            .expect_err("refused");
        assert!(matches!(error, IntelError::Feed(_)), "{error}");
        assert!(error.to_string().ends_with("epss.csv:3: not an EPSS score file: epss is not a number from 0 to 1: `CVE-2021-45046,x,0.9`"), "{error}");
        assert_eq!(count(&db.store, "intel_epss").await, 16, "{}", db.name);

        let missing = IntelSources {
            kev: Some(dir.path().join("missing.json").display().to_string()),
            epss: None,
        };
        let error = refresh_intel(&db.store, &missing)
            .await
            .expect_err("missing");
        assert!(error.to_string().contains("missing.json"), "{error}");
    }
}
