//! Throughput benchmarks of posture's hot paths: reading real scanner reports, correlating
//! 100k base findings with 100k head findings, and the whole pure pipeline.
//!
//! Ingest is measured next to `serde_json::Value` on the same bytes, so the cost of building
//! findings is read as a ratio to merely parsing the JSON. The correlation data is synthetic
//! and deterministic; its outcome is checked once, outside the timed loops, so a broken
//! generator or a broken correlator cannot report a meaningless time.

use std::cell::OnceCell;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::hint::black_box;
use std::time::Duration;

use chrono::NaiveDate;
use criterion::{
    BatchSize, BenchmarkId, Criterion, SamplingMode, Throughput, criterion_group, criterion_main,
};
use posture::analyze::correlate::{Match, correlate};
use posture::analyze::diff::DiffIndex;
use posture::analyze::sources::Sources;
use posture::analyze::{self, Input};
use posture::config::Config;
use posture::model::{
    Advisory, AffectedRange, ChangeSet, ChangeStatus, Ecosystem, FileBlame, FileChange, Finding,
    Hunk, Kind, Location, Package, RangeEvent, RangeKind, Severity, Snapshot, Status,
};

/// Real reports, read at compile time so the bench measures parsing, not the disk.
const REPORTS: [(&str, &[u8]); 10] = [
    (
        "semgrep_0.17.0_owasp_benchmark.sarif",
        include_bytes!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/fixtures/sarif/semgrep_0.17.0_owasp_benchmark.sarif"
        )),
    ),
    (
        "codeql_2.5.4.sarif",
        include_bytes!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/fixtures/sarif/codeql_2.5.4.sarif"
        )),
    ),
    (
        "lgtm_export_2runs.sarif",
        include_bytes!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/fixtures/sarif/lgtm_export_2runs.sarif"
        )),
    ),
    (
        "osv-scanner_dd_many_findings.json",
        include_bytes!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/fixtures/sca/osv-scanner/dd_many_findings.json"
        )),
    ),
    (
        "gitlab_dd_gl-sast-report-many-vuln_v15.json",
        include_bytes!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/fixtures/sca/gitlab/dd_gl-sast-report-many-vuln_v15.json"
        )),
    ),
    (
        "trivy_npm.json",
        include_bytes!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/fixtures/sca/trivy/npm.json"
        )),
    ),
    (
        "grype_dd_fix_available.json",
        include_bytes!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/fixtures/sca/grype/dd_fix_available.json"
        )),
    ),
    (
        "gitleaks_dd_gitleaks8_many.json",
        include_bytes!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/fixtures/sca/gitleaks/dd_gitleaks8_many.json"
        )),
    ),
    (
        "npm-audit_dd_npm7plus_many_vulns.json",
        include_bytes!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/fixtures/sca/npm-audit/dd_npm7plus_many_vulns.json"
        )),
    ),
    (
        "pip-audit_dd_many_vulns_new.json",
        include_bytes!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/fixtures/sca/pip-audit/dd_many_vulns_new.json"
        )),
    ),
];

/// No deployment inventory: the benchmark ranks as the CLI does.
static DEPLOYED: std::sync::LazyLock<posture::inventory::Deployed> =
    std::sync::LazyLock::new(Default::default);

/// 100k results as several tools report them: 60k code results (40k problems, every other
/// one reported again by a second tool on the same line with the same CWE) and 40k
/// dependency results (20k problems, each reported again by a second tool under its alias).
fn dedup_input() -> (Vec<Finding>, usize) {
    let mut findings = Vec::with_capacity(100_000);
    let mut expected = 0;
    for i in 0..40_000u32 {
        let path = format!("src/module_{}/views.py", i % 1_000);
        let line = i / 1_000 * 3 + 1;
        let mut f = sast(rule_of(i), &path, line, i);
        f.cwes = vec![79 + i % 7];
        findings.push(f.clone());
        expected += 1;
        if i % 2 == 0 {
            let mut other = f;
            other.tools = vec!["CodeQL".into()];
            other.rule = format!("codeql/{}", rule_of(i));
            findings.push(other);
        }
    }
    for i in 0..20_000u32 {
        let id = format!("GHSA-{i:04x}-aaaa-bbbb");
        let cve = format!("CVE-2024-{i:05}");
        findings.push(dependency(format!("package-{}", i % 2_000), i, &id, &cve));
        expected += 1;
        let mut other = dependency(format!("package-{}", i % 2_000), i, &cve, "");
        other.tools = vec!["trivy".into()];
        findings.push(other);
    }
    (findings, expected)
}

fn dedup(c: &mut Criterion) {
    let (findings, expected) = dedup_input();
    let (merged, stats) = analyze::dedup::dedup(findings.clone());
    assert_eq!(stats.results, findings.len());
    assert_eq!(
        merged.len(),
        expected,
        "the synthetic duplicates must all merge"
    );
    let mut group = c.benchmark_group("dedup");
    group
        .sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .measurement_time(Duration::from_secs(8))
        .throughput(Throughput::Elements(findings.len() as u64));
    group.bench_function(BenchmarkId::new("dedup", findings.len()), |b| {
        b.iter_batched(
            || findings.clone(),
            |f| analyze::dedup::dedup(black_box(f)),
            BatchSize::LargeInput,
        )
    });
    group.finish();
}

fn ingest(c: &mut Criterion) {
    let mut group = c.benchmark_group("ingest");
    group
        .sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(4));
    for (name, bytes) in REPORTS {
        let report = posture::ingest::parse(name, bytes, &posture::ingest::SecretHasher::default())
            .unwrap_or_else(|e| panic!("fixture {name} must parse: {e}"));
        assert!(!report.findings.is_empty(), "{name} has findings");
        group.throughput(Throughput::Bytes(bytes.len() as u64));
        group.bench_with_input(BenchmarkId::new("posture", name), bytes, |b, bytes| {
            b.iter(|| {
                posture::ingest::parse(
                    name,
                    black_box(bytes),
                    &posture::ingest::SecretHasher::default(),
                )
            })
        });
        group.bench_with_input(
            BenchmarkId::new("serde_json_value", name),
            bytes,
            |b, bytes| b.iter(|| serde_json::from_slice::<serde_json::Value>(black_box(bytes))),
        );
    }
    group.finish();
}

/// The shape of one synthetic base/head pair.
struct Shape {
    files: u32,
    findings_per_file: u32,
    dependencies: u32,
}

impl Shape {
    /// Base and head have as many findings: as many are fixed as are new.
    fn findings_per_side(&self) -> usize {
        (self.files * self.findings_per_file + self.dependencies) as usize
    }
}

/// 1,000 files × 90 SAST findings + 10k SCA findings = 100k findings per side.
const LARGE: Shape = Shape {
    files: 1_000,
    findings_per_file: 90,
    dependencies: 10_000,
};

/// A tenth of [`LARGE`], for the whole pipeline.
const SMALL: Shape = Shape {
    files: 100,
    findings_per_file: 90,
    dependencies: 1_000,
};

/// Lines inserted at the top of every file with `f % 10 == 0`.
const INSERTED_AT_TOP: u32 = 5;
/// New findings appended to every file with `f % 10 == 5`.
const NEW_PER_FILE: u32 = 10;
/// In every file with `f % 10 == 7`, the findings with `i % REMOVED_EVERY == 0` are fixed.
const REMOVED_EVERY: u32 = 9;

/// What a file goes through between base and head.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Edit {
    Untouched,
    InsertAtTop,
    AppendNewFindings,
    FixSomeFindings,
    Rename,
}

fn edit_of(file: u32) -> Edit {
    match (file % 100, file % 10) {
        (1, _) => Edit::Rename,
        (_, 0) => Edit::InsertAtTop,
        (_, 5) => Edit::AppendNewFindings,
        (_, 7) => Edit::FixSomeFindings,
        _ => Edit::Untouched,
    }
}

/// A base and head revision with their findings, sources and diff.
struct Scenario {
    base: Snapshot,
    head: Snapshot,
    base_sources: Sources,
    head_sources: Sources,
    changes: ChangeSet,
    /// Head indices of the findings that only head has.
    new_heads: HashSet<usize>,
    /// Base indices of the findings head no longer has.
    fixed_bases: HashSet<usize>,
}

impl Scenario {
    fn generate(shape: &Shape) -> Scenario {
        let tools: BTreeSet<String> = ["semgrep", "osv-scanner"].map(String::from).into();
        let mut scenario = Scenario {
            base: Snapshot {
                tools: tools.clone(),
                ..Snapshot::default()
            },
            head: Snapshot {
                tools,
                ..Snapshot::default()
            },
            base_sources: Sources::default(),
            head_sources: Sources::default(),
            changes: ChangeSet {
                base: "b".repeat(40),
                head: "h".repeat(40),
                files: Vec::new(),
            },
            new_heads: HashSet::new(),
            fixed_bases: HashSet::new(),
        };
        for file in 0..shape.files {
            scenario.add_file(file, shape.findings_per_file);
        }
        scenario.add_dependencies(shape.dependencies);
        scenario
    }

    fn add_file(&mut self, file: u32, findings: u32) {
        let edit = edit_of(file);
        let base_path = format!("src/pkg{:02}/module_{file:04}.py", file % 37);
        let head_path = if edit == Edit::Rename {
            format!("src/renamed/module_{file:04}.py")
        } else {
            base_path.clone()
        };
        // Line 1 is a header; finding i sits on line 3 + 2i after a filler line.
        let flagged_line = |i: u32| 3 + 2 * i;
        let base_len = 1 + 2 * findings;
        let shift = if edit == Edit::InsertAtTop {
            INSERTED_AT_TOP
        } else {
            0
        };
        let fixed = |i: u32| edit == Edit::FixSomeFindings && i % REMOVED_EVERY == 0;

        let mut base_text = format!("# module {file}\n");
        let mut head_text = String::new();
        for k in 0..shift {
            head_text.push_str(&format!("import helper_{k}\n"));
        }
        head_text.push_str(&base_text);
        let mut hunks = Vec::new();
        if shift > 0 {
            hunks.push(Hunk {
                old_start: 0,
                old_lines: 0,
                new_start: 1,
                new_lines: shift,
            });
        }
        for i in 0..findings {
            let filler = format!("    step_{i}(context)\n");
            let flagged = format!("    value_{i} = eval(request.args[\"p{file}_{i}\"])\n");
            base_text.push_str(&filler);
            base_text.push_str(&flagged);
            head_text.push_str(&filler);
            let line = flagged_line(i);
            let finding = sast(rule_of(i), &base_path, line, i);
            if fixed(i) {
                head_text.push_str(&format!("    value_{i} = safe_{file}_{i}()\n"));
                hunks.push(Hunk {
                    old_start: line,
                    old_lines: 1,
                    new_start: line,
                    new_lines: 1,
                });
                self.fixed_bases.insert(self.base.findings.len());
            } else {
                head_text.push_str(&flagged);
                let mut at_head = finding.clone();
                at_head.location =
                    Some(Location::new(&head_path).with_lines(line + shift, line + shift));
                self.head.findings.push(at_head);
            }
            self.base.findings.push(finding);
        }
        if edit == Edit::AppendNewFindings {
            hunks.push(Hunk {
                old_start: base_len,
                old_lines: 0,
                new_start: base_len + 1,
                new_lines: NEW_PER_FILE,
            });
            for k in 0..NEW_PER_FILE {
                head_text.push_str(&format!("    exec(payload_{file}_{k})\n"));
                let line = base_len + 1 + k;
                self.new_heads.insert(self.head.findings.len());
                self.head.findings.push(sast(
                    "python.lang.security.audit.exec-detected",
                    &head_path,
                    line,
                    k,
                ));
            }
        }
        if edit != Edit::Untouched {
            self.changes.files.push(FileChange {
                old_path: Some(base_path.clone()),
                new_path: Some(head_path.clone()),
                status: if edit == Edit::Rename {
                    ChangeStatus::Renamed
                } else {
                    ChangeStatus::Modified
                },
                added_lines: hunks
                    .iter()
                    .flat_map(|h| h.new_start..h.new_start + h.new_lines)
                    .collect(),
                hunks,
                binary: false,
            });
        }
        self.base_sources.insert(base_path, base_text);
        self.head_sources.insert(head_path, head_text);
    }

    /// `count` dependency findings, five advisories per package. Head names every other
    /// advisory by its CVE alias and spells package names differently (PEP 503), so both
    /// alias resolution and name normalisation decide the match.
    fn add_dependencies(&mut self, count: u32) {
        let mut requirements = String::new();
        for n in 0..count {
            let package = n / 5;
            if n % 5 == 0 {
                requirements.push_str(&format!("package-{package}==1.{}.0\n", package % 10));
            }
            let ghsa = format!(
                "GHSA-{n:04x}-bench-{:04x}",
                n.wrapping_mul(2_654_435_761) >> 16
            );
            let cve = format!("CVE-2024-{:05}", 10_000 + n);
            let base = dependency(format!("Package_{package}"), package, &ghsa, &cve);
            let head = if n % 2 == 1 {
                dependency(format!("package-{package}"), package, &cve, &ghsa)
            } else {
                base.clone()
            };
            self.base.findings.push(base);
            self.head.findings.push(head);
        }
        self.base_sources
            .insert("requirements.txt", requirements.clone());
        self.head_sources.insert("requirements.txt", requirements);
    }
}

fn rule_of(i: u32) -> &'static str {
    const RULES: [&str; 6] = [
        "python.lang.security.audit.eval-detected",
        "python.flask.security.injection.user-eval",
        "python.lang.security.dangerous-code-run",
        "python.django.security.injection.code.user-eval",
        "python.lang.security.audit.non-literal-eval",
        "python.flask.security.audit.tainted-code-exec",
    ];
    RULES[i as usize % RULES.len()]
}

fn sast(rule: &str, path: &str, line: u32, i: u32) -> Finding {
    let mut finding = Finding::new(Kind::Sast, "semgrep", rule);
    finding.message = "Detected the use of eval() on user input".into();
    finding.severity = [Severity::Low, Severity::Medium, Severity::High][i as usize % 3];
    finding.cwes = vec![95];
    finding.location = Some(Location::new(path).with_lines(line, line));
    finding
}

fn dependency(name: String, package: u32, id: &str, alias: &str) -> Finding {
    let mut finding = Finding::new(Kind::Sca, "osv-scanner", id);
    finding.severity = Severity::High;
    finding.score = Some(7.5);
    finding.package = Some(Box::new(Package {
        ecosystem: Ecosystem::PyPI,
        name,
        version: Some(format!("1.{}.0", package % 10)),
        manifest: Some("requirements.txt".into()),
    }));
    finding.advisories = vec![Advisory {
        id: id.into(),
        aliases: vec![alias.into()],
        affected: vec![AffectedRange {
            kind: RangeKind::Ecosystem,
            events: vec![
                RangeEvent::Introduced("0".into()),
                RangeEvent::Fixed(format!("2.{}.1", package % 3)),
            ],
        }],
        ..Advisory::default()
    }];
    finding
}

/// Panics unless exactly the generated new findings are new and the removed ones fixed.
fn check_matches(scenario: &Scenario, matches: &[Match]) {
    let new: HashSet<usize> = matches
        .iter()
        .filter(|m| m.status == Status::New)
        .filter_map(|m| m.head)
        .collect();
    let fixed: HashSet<usize> = matches
        .iter()
        .filter(|m| m.status == Status::Fixed)
        .filter_map(|m| m.base)
        .collect();
    let existing = matches
        .iter()
        .filter(|m| m.status == Status::Existing)
        .count();
    assert_eq!(new, scenario.new_heads, "new findings");
    assert_eq!(fixed, scenario.fixed_bases, "fixed findings");
    assert_eq!(
        existing,
        scenario.head.findings.len() - scenario.new_heads.len(),
        "existing findings"
    );
    let ids: HashSet<_> = matches.iter().map(|m| &m.id).collect();
    assert_eq!(ids.len(), matches.len(), "ids are unique");
}

/// The large scenario, checked once: exactly 1% of head is new and 1% of base fixed.
fn checked_large_scenario() -> Scenario {
    let scenario = Scenario::generate(&LARGE);
    assert_eq!(scenario.base.findings.len(), LARGE.findings_per_side());
    assert_eq!(scenario.head.findings.len(), LARGE.findings_per_side());
    assert_eq!(scenario.new_heads.len(), 1_000);
    assert_eq!(scenario.fixed_bases.len(), 1_000);
    let diff = DiffIndex::new(&scenario.changes);
    let matches = correlate(
        &scenario.base.findings,
        &scenario.head.findings,
        &diff,
        &scenario.base_sources,
        &scenario.head_sources,
    );
    check_matches(&scenario, &matches);
    scenario
}

fn correlation(c: &mut Criterion) {
    // Generated on first use, so a filter that skips this benchmark skips the generation.
    let scenario = OnceCell::new();
    let mut group = c.benchmark_group("correlate");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .sampling_mode(SamplingMode::Flat)
        .measurement_time(Duration::from_secs(12))
        .throughput(Throughput::Elements(2 * LARGE.findings_per_side() as u64));
    group.bench_function("100k_base_x_100k_head", |b| {
        let scenario = scenario.get_or_init(checked_large_scenario);
        let diff = DiffIndex::new(&scenario.changes);
        b.iter(|| {
            correlate(
                black_box(&scenario.base.findings),
                black_box(&scenario.head.findings),
                &diff,
                &scenario.base_sources,
                &scenario.head_sources,
            )
        })
    });
    group.finish();
}

/// What [`analyze::run`] needs besides the scenario.
struct Context {
    config: Config,
    intel: posture::model::Intel,
    blame: HashMap<String, FileBlame>,
    triage: posture::triage::TriageBook,
    today: NaiveDate,
}

fn input<'a>(
    scenario: &'a Scenario,
    context: &'a Context,
    base: Snapshot,
    head: Snapshot,
) -> Input<'a> {
    Input {
        base: &scenario.changes.base,
        head: &scenario.changes.head,
        base_snapshot: base,
        head_snapshot: head,
        changes: &scenario.changes,
        baseline_diff: &scenario.changes,
        base_sources: std::borrow::Cow::Borrowed(&scenario.base_sources),
        head_sources: &scenario.head_sources,
        blame: &context.blame,
        change_commits: None,
        config: &context.config,
        intel: &context.intel,
        triage: &context.triage,
        fail_on: Severity::High.into(),
        today: context.today,
        deployed: &DEPLOYED,
    }
}

/// The small scenario, checked once through the whole pipeline.
fn checked_small_scenario(context: &Context) -> Scenario {
    let scenario = Scenario::generate(&SMALL);
    let review = analyze::run(input(
        &scenario,
        context,
        scenario.base.clone(),
        scenario.head.clone(),
    ));
    assert_eq!(review.summary.new, scenario.new_heads.len());
    assert_eq!(review.summary.fixed, scenario.fixed_bases.len());
    assert_eq!(
        review.summary.existing,
        scenario.head.findings.len() - scenario.new_heads.len()
    );
    assert!(
        review.findings.iter().any(|f| f.upgrade.is_some()),
        "dependency findings get upgrade advice"
    );
    scenario
}

fn pipeline(c: &mut Criterion) {
    let context = Context {
        config: Config::default(),
        intel: posture::model::Intel::default(),
        blame: HashMap::new(),
        triage: Default::default(),
        today: NaiveDate::from_ymd_opt(2025, 1, 1).expect("a valid date"),
    };
    let scenario = OnceCell::new();
    let mut group = c.benchmark_group("pipeline");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .sampling_mode(SamplingMode::Flat)
        .measurement_time(Duration::from_secs(5))
        .throughput(Throughput::Elements(2 * SMALL.findings_per_side() as u64));
    group.bench_function("run_10k_base_x_10k_head", |b| {
        let scenario = scenario.get_or_init(|| checked_small_scenario(&context));
        b.iter_batched(
            || (scenario.base.clone(), scenario.head.clone()),
            |(base, head)| analyze::run(input(scenario, &context, base, head)),
            BatchSize::LargeInput,
        )
    });
    group.finish();
}

criterion_group!(benches, ingest, correlation, pipeline, dedup);
criterion_main!(benches);
