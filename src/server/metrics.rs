//! Prometheus metrics for the server: the process-wide recorder, installed once, and the names
//! and labels posture records under.
//!
//! Recording goes through the `metrics` facade (so the worker and forge clients can record too,
//! with the same macros); [`Metrics`] holds the handle that renders `/metrics`. The recorder is
//! global, so in tests several routers share it: counters only grow, and tests assert on
//! labelled series they caused, never on exact totals.

use std::sync::Mutex;

use metrics_exporter_prometheus::{BuildError, PrometheusBuilder, PrometheusHandle};

use super::intake::Forge;

/// Counter: deliveries by `forge`, `event` and `outcome`.
pub const DELIVERIES_TOTAL: &str = "posture_deliveries_total";
/// Gauge: jobs waiting to run, refreshed on each scrape.
pub const QUEUE_DEPTH: &str = "posture_queue_depth";

/// The one recorder of this process, once installed.
static HANDLE: Mutex<Option<PrometheusHandle>> = Mutex::new(None);

/// Installing the recorder failed (another global `metrics` recorder was set first).
#[derive(Debug, thiserror::Error)]
#[error("installing the Prometheus metrics recorder failed")]
pub struct MetricsError(#[from] BuildError);

/// Renders the process's metrics in the Prometheus text format.
#[derive(Clone)]
pub struct Metrics {
    handle: PrometheusHandle,
}

impl Metrics {
    /// Installs posture's Prometheus recorder as the global `metrics` recorder on the first call;
    /// later calls share it.
    pub fn install() -> Result<Self, MetricsError> {
        let mut installed = HANDLE
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(handle) = installed.as_ref() {
            return Ok(Metrics {
                handle: handle.clone(),
            });
        }
        let handle = PrometheusBuilder::new().install_recorder()?;
        ::metrics::describe_counter!(
            DELIVERIES_TOTAL,
            "Webhook deliveries received, by forge, event and outcome"
        );
        ::metrics::describe_gauge!(QUEUE_DEPTH, "Jobs waiting to run");
        crate::forge::metrics::describe();
        crate::alerts::outbox::describe_metrics();
        super::listen::describe_metrics();
        *installed = Some(handle.clone());
        Ok(Metrics { handle })
    }

    /// The current metrics, after draining histograms (there is no background upkeep task).
    pub fn render(&self) -> String {
        self.handle.run_upkeep();
        self.handle.render()
    }
}

/// How a delivery ended, as the `outcome` label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Accepted,
    Duplicate,
    Ignored,
    Unauthorized,
    Malformed,
    /// Over [`super::MAX_BODY_BYTES`].
    TooLarge,
    /// Refused unread: too many large bodies were being read.
    Busy,
    Error,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Accepted => "accepted",
            Outcome::Duplicate => "duplicate",
            Outcome::Ignored => "ignored",
            Outcome::Unauthorized => "unauthorized",
            Outcome::Malformed => "malformed",
            Outcome::TooLarge => "too_large",
            Outcome::Busy => "busy",
            Outcome::Error => "error",
        }
    }
}

/// Counts one delivery. `event` must come from a fixed set (never a raw header) to bound the
/// number of series.
pub fn record_delivery(forge: Forge, event: &'static str, outcome: Outcome) {
    ::metrics::counter!(
        DELIVERIES_TOTAL,
        "forge" => forge.as_str(),
        "event" => event,
        "outcome" => outcome.as_str()
    )
    .increment(1);
}

/// Sets the queue depth gauge.
pub fn record_queue_depth(depth: i64) {
    // Precision loss only above 2^53 jobs.
    #[allow(clippy::cast_precision_loss)]
    ::metrics::gauge!(QUEUE_DEPTH).set(depth as f64);
}
