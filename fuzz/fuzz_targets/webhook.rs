//! The webhook router, end to end in process: a fuzzed body, correctly signed (GitHub's
//! `X-Hub-Signature-256`, GitLab's `X-Gitlab-Token`) so it reaches the payload parsers, sent
//! with `oneshot` to `server::router` over an in-memory `Intake`.
//!
//! Input layout: byte 0 picks the forge and event header, byte 1 holds flags (what the intake
//! answers, and rarer hostile variants: a bad signature, a form-encoded content type, no
//! delivery id), the rest is the body. The answer must be one of the documented statuses.

#![no_main]

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU8, Ordering};

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use hmac::{Hmac, Mac};
use libfuzzer_sys::fuzz_target;
use posture::server::{
    Accepted, AppState, Delivery, Intake, IntakeError, Metrics, NewJob, WebhookSecrets, router,
};
use sha2::Sha256;
use tower::ServiceExt;

const GITHUB_SECRET: &str = "fuzz-github-secret";
const GITLAB_TOKEN: &str = "fuzz-gitlab-token";

/// `(forge is GitHub, event header)`; the last of each forge is one posture ignores.
const EVENTS: [(bool, &str); 15] = [
    (true, "pull_request"),
    (true, "check_suite"),
    (true, "workflow_run"),
    (true, "issue_comment"),
    (true, "push"),
    (true, "pull_request_review_comment"),
    (true, "installation"),
    (true, "installation_repositories"),
    (true, "ping"),
    (true, "star"),
    (false, "Merge Request Hook"),
    (false, "Pipeline Hook"),
    (false, "Note Hook"),
    (false, "Push Hook"),
    (false, "Job Hook"),
];

/// The statuses the server documents: 202 stored, 200 duplicate or ignored, 401
/// unauthenticated, 400 malformed, 413 too large, 503 storage failed.
const DOCUMENTED: [StatusCode; 6] = [
    StatusCode::OK,
    StatusCode::ACCEPTED,
    StatusCode::BAD_REQUEST,
    StatusCode::UNAUTHORIZED,
    StatusCode::PAYLOAD_TOO_LARGE,
    StatusCode::SERVICE_UNAVAILABLE,
];

#[derive(Debug)]
struct StorageDown;

impl std::fmt::Display for StorageDown {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("storage is down")
    }
}

impl std::error::Error for StorageDown {}

/// Stores nothing; answers as the current input's flags say.
struct MemoryIntake {
    answer: &'static AtomicU8,
}

static ANSWER: AtomicU8 = AtomicU8::new(0);

impl Intake for MemoryIntake {
    async fn accept(&self, delivery: Delivery, jobs: Vec<NewJob>) -> Result<Accepted, IntakeError> {
        // What the receiver hands over is what it verified.
        assert!(!delivery.delivery_id.is_empty());
        std::hint::black_box(&jobs);
        match self.answer.load(Ordering::Relaxed) {
            1 => Ok(Accepted::Duplicate),
            2 => Err(IntakeError(Box::new(StorageDown))),
            _ => Ok(Accepted::Stored),
        }
    }

    async fn ready(&self) -> bool {
        true
    }

    async fn queue_depth(&self) -> Option<i64> {
        Some(0)
    }
}

struct Harness {
    runtime: tokio::runtime::Runtime,
    app: Router,
    /// `POSTURE_FUZZ_TRACE=1` prints each event and status (to check what a corpus reaches).
    trace: bool,
}

fn harness() -> &'static Harness {
    static HARNESS: OnceLock<Harness> = OnceLock::new();
    HARNESS.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("tokio runtime");
        // The recorder is process-wide: installed here, once.
        let metrics = Metrics::install().expect("metrics recorder");
        let secrets = WebhookSecrets::from_values(Some(GITHUB_SECRET), Some(GITLAB_TOKEN));
        let intake = MemoryIntake { answer: &ANSWER };
        let app = router(AppState::new(intake, secrets, metrics));
        let trace = std::env::var_os("POSTURE_FUZZ_TRACE").is_some();
        Harness {
            runtime,
            app,
            trace,
        }
    })
}

fn sign(body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(GITHUB_SECRET.as_bytes()).expect("any key");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

fuzz_target!(|bytes: &[u8]| {
    let [selector, flags, body @ ..] = bytes else {
        return;
    };
    let (github, event) = EVENTS[usize::from(*selector) % EVENTS.len()];
    ANSWER.store(flags & 0b11, Ordering::Relaxed);
    let bad_auth = flags & 0b1_1100 == 0b1_1100; // 1 in 8
    let form_encoded = flags & 0b110_0000 == 0b110_0000; // 1 in 4
    let no_delivery = flags & 0b1000_0100 == 0b1000_0100; // 1 in 4

    let mut request = Request::post(if github {
        "/webhooks/github"
    } else {
        "/webhooks/gitlab"
    })
    .header(
        "content-type",
        if form_encoded {
            "application/x-www-form-urlencoded"
        } else {
            "application/json"
        },
    );
    if github {
        let signature = if bad_auth {
            sign(b"something else")
        } else {
            sign(body)
        };
        request = request
            .header("x-github-event", event)
            .header("x-hub-signature-256", signature);
        if !no_delivery {
            request = request.header("x-github-delivery", "72d3162e-cc78-11e3-81ab-4c9367dc0958");
        }
    } else {
        request = request.header("x-gitlab-event", event).header(
            "x-gitlab-token",
            if bad_auth { "wrong" } else { GITLAB_TOKEN },
        );
        if !no_delivery {
            request = request.header(
                "x-gitlab-event-uuid",
                "9cdd3ff4-3b45-4a54-a5b7-b4c5b3d8a6ba",
            );
        }
    }
    // Forges send the length; the receiver sizes its reading by it.
    let request = request
        .header("content-length", body.len())
        .body(Body::from(body.to_vec()))
        .expect("a valid request");

    let harness = harness();
    let response = harness
        .runtime
        .block_on(harness.app.clone().oneshot(request))
        .expect("the router is infallible");
    let status = response.status();
    if harness.trace {
        eprintln!("{event}: {status}");
    }
    assert!(
        DOCUMENTED.contains(&status),
        "undocumented status {status} for {event}"
    );
    if bad_auth {
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{event}");
    }
});
