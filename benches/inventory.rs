//! Inventory benchmark: a monorepo's worth of lockfiles read into components, the component
//! policy judged over them, and the SBOM written, as a review and `posture sbom` do.
//!
//! ```text
//! cargo bench --bench inventory
//! POSTURE_BENCH_PACKAGES=20000 cargo bench --bench inventory
//! ```
//!
//! The lockfile is an npm lockfile v3 of N packages (default 5,000, the size of a large
//! front-end application's), each depending on the next two (so chains run up to N/2 deep,
//! far deeper than real ones: a worst case for chain handling), with licences drawn from the
//! ones real registries carry; the policy is the README's example.

use std::hint::black_box;

use chrono::TimeZone;
use criterion::{Criterion, Throughput};
use posture::config::Config;
use posture::inventory::sbom::{self, SbomFormat, Subject};
use posture::inventory::{lockfiles, policy};

const LICENSES: [&str; 6] = [
    "MIT",
    "ISC",
    "Apache-2.0",
    "BSD-3-Clause",
    "(MIT OR Apache-2.0)",
    "MPL-2.0",
];

fn packages() -> usize {
    std::env::var("POSTURE_BENCH_PACKAGES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(5_000)
}

/// `package.json` and `package-lock.json` of `n` packages: the first 50 direct.
fn project(n: usize) -> Vec<(String, String)> {
    let direct: Vec<String> = (0..50.min(n))
        .map(|i| format!("    \"pkg-{i}\": \"^1.{i}.0\""))
        .collect();
    let manifest = format!(
        "{{\n  \"name\": \"app\",\n  \"version\": \"1.0.0\",\n  \"dependencies\": {{\n{}\n  }}\n}}\n",
        direct.join(",\n")
    );
    let mut packages = vec![format!(
        "    \"\": {{\n      \"name\": \"app\",\n      \"version\": \"1.0.0\",\n      \"dependencies\": {{\n{}\n      }}\n    }}",
        direct
            .iter()
            .map(|line| format!("    {line}"))
            .collect::<Vec<_>>()
            .join(",\n")
    )];
    for i in 0..n {
        let deps: Vec<String> = [i + 1, i + 2]
            .into_iter()
            .filter(|&d| d < n)
            .map(|d| format!("        \"pkg-{d}\": \"^1.{d}.0\""))
            .collect();
        packages.push(format!(
            "    \"node_modules/pkg-{i}\": {{\n      \"version\": \"1.{i}.0\",\n      \"resolved\": \"https://registry.npmjs.org/pkg-{i}/-/pkg-{i}-1.{i}.0.tgz\",\n      \"license\": \"{}\",\n      \"dependencies\": {{\n{}\n      }}\n    }}",
            LICENSES[i % LICENSES.len()],
            deps.join(",\n")
        ));
    }
    let lock = format!(
        "{{\n  \"name\": \"app\",\n  \"version\": \"1.0.0\",\n  \"lockfileVersion\": 3,\n  \"requires\": true,\n  \"packages\": {{\n{}\n  }}\n}}\n",
        packages.join(",\n")
    );
    vec![
        ("web/package.json".to_owned(), manifest),
        ("web/package-lock.json".to_owned(), lock),
    ]
}

const POLICY: &str = "policy:
  licenses:
    allow: [MIT, Apache-2.0, BSD-2-Clause, BSD-3-Clause, ISC]
    review: [LGPL-2.1-or-later, MPL-2.0]
    deny: [AGPL-3.0-only, SSPL-1.0]
    unknown: review
    scopes: [runtime]
  packages:
    deny: [{package: \"pkg:npm/event-stream\", versions: \"=3.3.6\", reason: \"compromised release\"}]
";

fn main() {
    let n = packages();
    let files = project(n);
    let bytes: usize = files.iter().map(|(_, text)| text.len()).sum();
    let config = Config::parse(".posture.yml", POLICY).expect("the README's policy parses");
    let components = lockfiles::read(&files).components;
    assert_eq!(components.len(), n, "every package is a component");
    let subject = Subject {
        name: "acme/app",
        revision: "0123456789abcdef0123456789abcdef01234567",
        created: chrono::Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap(),
    };

    let mut criterion = Criterion::default().configure_from_args().sample_size(10);
    let mut group = criterion.benchmark_group("inventory");
    group.throughput(Throughput::Bytes(bytes as u64));
    group.bench_function(format!("lockfiles::read {n} packages"), |b| {
        b.iter(|| black_box(lockfiles::read(black_box(&files))))
    });
    group.throughput(Throughput::Elements(n as u64));
    group.bench_function(format!("policy::evaluate {n} components"), |b| {
        b.iter(|| {
            let violations = policy::evaluate(&config.policy, black_box(&components));
            black_box(policy::findings(&violations))
        })
    });
    for format in [SbomFormat::Cyclonedx, SbomFormat::Spdx] {
        group.bench_function(format!("sbom::write {format} {n} components"), |b| {
            b.iter(|| black_box(sbom::write(format, &subject, black_box(&components))))
        });
    }
    group.finish();
    criterion.final_summary();
}
