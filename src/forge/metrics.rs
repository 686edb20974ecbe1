//! The forge clients' share of `/metrics`: every API call by forge, operation and outcome,
//! and every wait a rate limit imposed. Recorded through the `metrics` facade; the server's
//! Prometheus recorder renders them.

use std::time::Duration;

use crate::store;

/// Counter: forge API calls by `forge`, `operation` and `status` (HTTP status, or `error`).
pub const API_CALLS_TOTAL: &str = "posture_forge_api_calls_total";
/// Counter: rate-limit answers by `forge`; histogram of the waits they asked for.
pub const RATE_LIMITED_TOTAL: &str = "posture_forge_rate_limited_total";
pub const RATE_LIMIT_WAIT_SECONDS: &str = "posture_forge_rate_limit_wait_seconds";

/// Records one API call. `status` is the HTTP status, or `None` when no answer came.
pub fn api_call(forge: store::Forge, operation: &'static str, status: Option<u16>) {
    let status = status.map_or_else(|| "error".to_owned(), |s| s.to_string());
    ::metrics::counter!(
        API_CALLS_TOTAL,
        "forge" => forge.as_str(),
        "operation" => operation,
        "status" => status,
    )
    .increment(1);
}

/// Records a rate-limit answer and the wait it asked for.
pub fn rate_limited(forge: store::Forge, wait: Duration) {
    ::metrics::counter!(RATE_LIMITED_TOTAL, "forge" => forge.as_str()).increment(1);
    ::metrics::histogram!(RATE_LIMIT_WAIT_SECONDS, "forge" => forge.as_str())
        .record(wait.as_secs_f64());
}

/// Describes the series (once, when the recorder is installed).
pub fn describe() {
    ::metrics::describe_counter!(API_CALLS_TOTAL, "Forge API calls by operation and status");
    ::metrics::describe_counter!(RATE_LIMITED_TOTAL, "Rate-limit answers from the forges");
    ::metrics::describe_histogram!(
        RATE_LIMIT_WAIT_SECONDS,
        "Waits the forges' rate limits asked for"
    );
}
