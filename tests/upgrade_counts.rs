//! The measure of upgrade advice on the fixtures: every scanner report under `fixtures/`
//! runs through the whole pipeline on its own, as the head of a change without a baseline
//! and without the repository's files, and the suggestions it yields are counted with the
//! distinct advisories (aliases counted once) they clear.
//!
//! `cargo test --test upgrade_counts -- --nocapture` prints one line per report.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use posture::analyze::{self, sources::Sources, upgrade};
use posture::config::Config;
use posture::model::{ChangeSet, Intel, Severity, Snapshot};

fn reports(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        if path.is_dir() {
            // Webhook payloads and feeds are not scanner reports.
            if !["github", "gitlab", "intel", "osv"].contains(&name.as_str()) {
                reports(&path, out);
            }
        } else if name.ends_with(".json") || name.ends_with(".sarif") {
            out.push(path);
        }
    }
}

/// What one report yields.
struct Counts {
    /// Vulnerable-dependency findings, and those with an upgrade.
    dependencies: usize,
    upgraded: usize,
    suggestions: usize,
    /// Distinct advisories the suggestions clear.
    advisories: usize,
}

fn count(path: &Path) -> Option<Counts> {
    let report =
        posture::ingest::read_report(path, &posture::ingest::SecretHasher::default()).ok()?;
    let changes = ChangeSet {
        base: "base".into(),
        head: "head".into(),
        files: Vec::new(),
    };
    let sources = Sources::default();
    let review = analyze::run(analyze::Input {
        base: "base",
        head: "head",
        base_snapshot: Snapshot::default(),
        head_snapshot: Snapshot {
            tools: report.tools.iter().cloned().collect(),
            findings: report.findings,
            components: report.components,
        },
        changes: &changes,
        baseline_diff: &changes,
        base_sources: std::borrow::Cow::Borrowed(&sources),
        head_sources: &sources,
        blame: &HashMap::new(),
        change_commits: None,
        config: &Config::default(),
        intel: &Intel::default(),
        triage: &Default::default(),
        fail_on: Severity::High.into(),
        today: NaiveDate::from_ymd_opt(2025, 1, 1).unwrap(),
        deployed: &Default::default(),
    });
    assert!(review.upgrades.iter().all(|u| !u.fixes.is_empty()));
    let dependencies = review
        .findings
        .iter()
        .filter(|f| f.finding.kind.is_dependency() && !f.finding.advisories.is_empty());
    Some(Counts {
        dependencies: dependencies.clone().count(),
        upgraded: dependencies.filter(|f| f.upgrade.is_some()).count(),
        suggestions: review.upgrades.len(),
        advisories: upgrade::cleared_advisories(&review),
    })
}

#[test]
fn upgrade_suggestions_on_the_fixtures() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let mut paths = Vec::new();
    reports(&root, &mut paths);
    let mut total = Counts {
        dependencies: 0,
        upgraded: 0,
        suggestions: 0,
        advisories: 0,
    };
    let mut read = 0;
    println!(
        "| report | vulnerable dependencies | with an upgrade | suggestions | advisories cleared |\n|---|---:|---:|---:|---:|"
    );
    for path in &paths {
        let Some(counts) = count(path) else {
            continue;
        };
        read += 1;
        // A suggestion clears at least one advisory (one advisory on two installed versions
        // of a package is two suggestions).
        assert!(
            counts.suggestions == 0 || counts.advisories > 0,
            "{}: suggestions that clear nothing",
            path.display()
        );
        assert!(counts.upgraded <= counts.dependencies);
        if counts.dependencies > 0 {
            let name = path.strip_prefix(&root).unwrap().display().to_string();
            println!(
                "| {name} | {} | {} | {} | {} |",
                counts.dependencies, counts.upgraded, counts.suggestions, counts.advisories
            );
        }
        total.dependencies += counts.dependencies;
        total.upgraded += counts.upgraded;
        total.suggestions += counts.suggestions;
        total.advisories += counts.advisories;
    }
    println!(
        "| **all {read} reports** | {} | {} | {} | {} |",
        total.dependencies, total.upgraded, total.suggestions, total.advisories
    );
    assert!(read >= 50, "{read} reports read");
    assert_eq!(
        (
            total.dependencies,
            total.upgraded,
            total.suggestions,
            total.advisories
        ),
        EXPECTED,
        "the README's numbers (section \"Upgrade advice\") are out of date"
    );
}

/// Vulnerable dependencies, those with an upgrade, suggestions, distinct advisories cleared:
/// the totals the README reports (section "Upgrade advice").
const EXPECTED: (usize, usize, usize, usize) = (153, 93, 39, 85);
