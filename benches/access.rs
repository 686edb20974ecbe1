//! What deciding a person's access costs per request, in an org of many repositories: the
//! first page view (every repository's permission asked of a forge that answers at once, 8
//! at a time) and every later one (all answers cached). Forge latency is the forge's and is
//! left out: multiply the cold figure's question count by it, divided by 8.
//!
//! ```text
//! cargo bench --bench access                          # 1,000 repositories
//! POSTURE_BENCH_REPOSITORIES=5000 cargo bench --bench access
//! ```
//!
//! Run as a test (`cargo test --benches`), 50 repositories.

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use posture::access::{Access, Directory, ForgeLogin, Person};
use posture::forge::ForgeResult;
use posture::settings::Settings;
use posture::store::{Forge, Store};

/// A forge that gives read on every other repository, and answers at once.
struct EveryOther;

#[async_trait]
impl Directory for EveryOther {
    async fn reads(&self, repository: &str, _: &ForgeLogin) -> ForgeResult<bool> {
        Ok(repository.bytes().last().is_some_and(|b| b % 2 == 0))
    }

    async fn is_member(&self, _: &str, _: &str, _: &ForgeLogin) -> ForgeResult<bool> {
        Ok(false)
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let benchmarking = args.iter().any(|a| a == "--bench") && !args.iter().any(|a| a == "--test");
    let repositories: usize = std::env::var("POSTURE_BENCH_REPOSITORIES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(if benchmarking { 1_000 } else { 50 });
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    runtime.block_on(async {
        let dir = tempfile::TempDir::new().expect("a temporary directory");
        let url = format!("sqlite://{}", dir.path().join("bench.db").display());
        let store = Store::connect(&url).await.expect("SQLite");
        store.migrate().await.expect("migrations");
        for i in 0..repositories {
            store
                .upsert_project(Forge::GitHub, &format!("acme/repo-{i:05}"), None)
                .await
                .expect("a project");
        }
        let person = Person {
            name: "octocat (github)".into(),
            forge: Some(ForgeLogin {
                forge: Forge::GitHub,
                login: "octocat".into(),
                id: None,
            }),
            groups: Vec::new(),
        };
        let access = Access::new(
            Arc::new(Settings::default()),
            store,
            Some(Arc::new(EveryOther)),
            Duration::from_secs(300),
        );
        let started = Instant::now();
        let first = access.org(&person, "acme").await.expect("access");
        let cold = started.elapsed();
        assert_eq!(first.asked.len(), repositories);
        let rounds = if benchmarking { 200 } else { 5 };
        let started = Instant::now();
        for _ in 0..rounds {
            let again = access.org(&person, "acme").await.expect("access");
            assert_eq!(again.reach, first.reach);
        }
        let warm = started.elapsed() / rounds;
        println!(
            "access of a viewer over {repositories} repositories: first view {cold:?} \
             ({repositories} questions), each later view {warm:?} (cached)"
        );
    });
}
