//! Load test of a running `posture serve`: sends signed `pull_request` deliveries (the real
//! payload from `fixtures/github`, one pull request each) to loopback only, bounded in count
//! and time, and prints acknowledged requests per second and latency percentiles. With a
//! RATE, requests are sent on a schedule (open loop, RATE a second) and latency counts from
//! the scheduled time, so a slow answer is not hidden by the sender waiting for it; without,
//! each of the CONCURRENCY senders sends as soon as its last request is answered.
//!
//! usage: POSTURE_GITHUB_WEBHOOK_SECRET=… cargo run --release --example loadtest -- \
//!          http://127.0.0.1:8080 [COUNT=2000] [CONCURRENCY=16] [MAX_SECONDS=60] [RATE]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use hmac::{Hmac, Mac};
use sha2::Sha256;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let base = args
        .next()
        .context("give the server's URL, e.g. http://127.0.0.1:8080")?;
    let host = url::Url::parse(&base)?
        .host_str()
        .unwrap_or_default()
        .to_string();
    if !(host == "localhost" || host.starts_with("127.") || host == "[::1]") {
        bail!("the load test only targets loopback addresses, not {host}");
    }
    let count: usize = args.next().map_or(Ok(2_000), |a| a.parse())?;
    let concurrency: usize = args.next().map_or(Ok(16), |a| a.parse())?;
    let max = Duration::from_secs(args.next().map_or(Ok(60), |a| a.parse())?);
    let rate: Option<f64> = args.next().map(|a| a.parse()).transpose()?;
    let secret = std::env::var("POSTURE_GITHUB_WEBHOOK_SECRET")
        .context("set POSTURE_GITHUB_WEBHOOK_SECRET to the server's secret")?;
    let template: serde_json::Value = serde_json::from_slice(&std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/github/pull_request_opened.json"
    ))?)?;
    let run = format!("{:x}", std::process::id());

    let client = reqwest::Client::new();
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..concurrency.max(1) {
        let (client, next, base, secret, template, run) = (
            client.clone(),
            next.clone(),
            base.clone(),
            secret.clone(),
            template.clone(),
            run.clone(),
        );
        tasks.spawn(async move {
            let mut results = Vec::new();
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                if n >= count || started.elapsed() > max {
                    return results;
                }
                let mut payload = template.clone();
                payload["number"] = (n + 1).into();
                payload["pull_request"]["number"] = (n + 1).into();
                let body = serde_json::to_vec(&payload).unwrap_or_default();
                let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes())
                    .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
                mac.update(&body);
                let signature = format!("sha256={}", hex::encode(mac.finalize().into_bytes()));
                let sent = match rate {
                    Some(rate) => {
                        let due = started + Duration::from_secs_f64(n as f64 / rate);
                        tokio::time::sleep_until(due.into()).await;
                        due
                    }
                    None => Instant::now(),
                };
                let status = client
                    .post(format!("{base}/webhooks/github"))
                    .header("X-GitHub-Event", "pull_request")
                    .header("X-GitHub-Delivery", format!("load-{run}-{n}"))
                    .header("X-Hub-Signature-256", signature)
                    .header("Content-Type", "application/json")
                    .body(body)
                    .send()
                    .await
                    .map(|r| r.status().as_u16())
                    .unwrap_or(0);
                results.push((status, sent.elapsed()));
            }
        });
    }
    let mut results = Vec::new();
    while let Some(done) = tasks.join_next().await {
        results.extend(done?);
    }
    let elapsed = started.elapsed();
    let acknowledged: Vec<Duration> = results
        .iter()
        .filter(|(status, _)| *status == 202)
        .map(|(_, latency)| *latency)
        .collect();
    let mut latencies: Vec<Duration> = results.iter().map(|(_, l)| *l).collect();
    latencies.sort();
    let percentile = |p: f64| {
        latencies
            .get(((latencies.len() as f64 * p).ceil() as usize).saturating_sub(1))
            .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    };
    println!(
        "{} requests in {:.2} s, {} acknowledged (202): {:.0} acknowledged/s; latency p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms; other statuses: {}",
        results.len(),
        elapsed.as_secs_f64(),
        acknowledged.len(),
        acknowledged.len() as f64 / elapsed.as_secs_f64(),
        percentile(0.50),
        percentile(0.99),
        percentile(1.0),
        results.iter().filter(|(s, _)| *s != 202).count(),
    );
    Ok(())
}
