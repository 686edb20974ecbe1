//! The harness of the end-to-end forge tests: the real axum app over a SQLite store, and a
//! worker's runner pointed at a wiremock forge. Jobs are run one by one, as a worker would,
//! so tests wait on nothing.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use tower::ServiceExt;
use wiremock::{Respond, ResponseTemplate};

use posture::jobs::{ForgeRunner, Forges, Outcome, ReviewSettings, Runner};
use posture::server::{self, AppState, Metrics, StoreIntake, WebhookSecrets};
use posture::store::{JobStatus, Store};

pub struct Harness {
    pub store: Store,
    pub app: axum::Router,
    pub runner: ForgeRunner,
    _dir: tempfile::TempDir,
}

impl Harness {
    pub async fn new(secrets: WebhookSecrets, forges: Forges) -> Harness {
        let dir = tempfile::TempDir::new().unwrap();
        let store = Store::connect(&format!("sqlite://{}", dir.path().join("e2e.db").display()))
            .await
            .unwrap();
        store.migrate().await.unwrap();
        let intake = StoreIntake {
            store: store.clone(),
            wake: Arc::new(tokio::sync::Notify::new()),
        };
        let app = server::router(AppState::new(intake, secrets, Metrics::install().unwrap()));
        let runner = ForgeRunner {
            store: store.clone(),
            forges: Arc::new(forges),
            settings: ReviewSettings::default(),
        };
        Harness {
            store,
            app,
            runner,
            _dir: dir,
        }
    }

    pub async fn send(&self, request: Request<Body>) -> StatusCode {
        self.app.clone().oneshot(request).await.unwrap().status()
    }

    /// Claims and runs every queued job to its end; returns their outcomes.
    pub async fn run_jobs(&self) -> Vec<Outcome> {
        let mut outcomes = Vec::new();
        while let Some(job) = self
            .store
            .claim("e2e", Duration::from_secs(60))
            .await
            .unwrap()
        {
            let outcome = self.runner.run(&job).await;
            match &outcome {
                Outcome::Done | Outcome::Skipped(_) => {}
                other => panic!("job {} ended {other:?}", job.id),
            }
            self.store
                .finish(job.id, "e2e", JobStatus::Done, None)
                .await
                .unwrap();
            outcomes.push(outcome);
        }
        outcomes
    }
}

/// A wiremock answer computed from a shared fake forge.
pub struct Handler<M, F>(pub M, pub F);

impl<M, F> Respond for Handler<M, F>
where
    M: Send + Sync,
    F: Fn(&M, &wiremock::Request) -> ResponseTemplate + Send + Sync,
{
    fn respond(&self, request: &wiremock::Request) -> ResponseTemplate {
        (self.1)(&self.0, request)
    }
}

/// The numeric id at the end of a request's path (`…/comments/1234`).
pub fn trailing_id(request: &wiremock::Request) -> u64 {
    request
        .url
        .path()
        .rsplit('/')
        .next()
        .and_then(|id| id.parse().ok())
        .unwrap()
}
