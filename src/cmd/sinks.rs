//! `posture sinks list|test|retry`: the alert sinks of the settings file, their health and
//! queues, a sample event sent at once, and dead messages queued again.

use std::process::ExitCode;

use anyhow::{Context, bail};
use posture::alerts::outbox::send_test;
use posture::alerts::rules::SinkConfig;
use posture::alerts::sinks::Sink;
use posture::settings::Settings;
use posture::store::{SinkKey, Store};

/// The sinks of the settings file, `org` first, with what the database knows of them.
/// Variables are reported set or missing, never shown.
pub async fn list(store: &Store, settings: &Settings) -> anyhow::Result<ExitCode> {
    let mut any = false;
    println!(
        "{:<28} {:<11} {:<8} {:<10} {:>6} {:>7} {:>6} {:>8}  LAST ERROR",
        "SINK", "TYPE", "FORMAT", "HEALTH", "QUEUED", "SENT", "DEAD", "BACKLOG"
    );
    for (org, org_settings) in &settings.orgs {
        for config in &org_settings.sinks {
            any = true;
            let key = SinkKey {
                org: org.clone(),
                sink: config.name().to_owned(),
            };
            let missing: Vec<&str> = config
                .variables()
                .into_iter()
                .filter(|name| std::env::var_os(name).is_none_or(|v| v.is_empty()))
                .collect();
            let state = store.sink_state(&key).await?;
            let health = match (&state, missing.is_empty()) {
                (_, false) => "not set".to_owned(),
                (None, true) => "new".to_owned(),
                (Some(state), true) if state.healthy() => "healthy".to_owned(),
                (Some(state), true) => format!("down ×{}", state.failures),
            };
            let state = state.unwrap_or_default();
            let error = if missing.is_empty() {
                state.last_error.clone().unwrap_or_default()
            } else {
                format!("missing {}", missing.join(", "))
            };
            println!(
                "{:<28} {:<11} {:<8} {:<10} {:>6} {:>7} {:>6} {:>8}  {}",
                key.to_string(),
                config.sink_type().as_str(),
                config.format().as_str(),
                health,
                state.queued,
                state.sent,
                state.dead,
                state.backlog,
                error.chars().take(120).collect::<String>()
            );
        }
    }
    if !any {
        eprintln!(
            "posture: no sinks configured (orgs.<org>.sinks in the file POSTURE_SETTINGS_FILE names)"
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Finds `name` among the settings' sinks (of `org`, when given).
fn find<'a>(
    settings: &'a Settings,
    name: &str,
    org: Option<&str>,
) -> anyhow::Result<(&'a str, &'a SinkConfig)> {
    let org = org.map(str::to_lowercase);
    let found: Vec<(&str, &SinkConfig)> = settings
        .orgs
        .iter()
        .filter(|(o, _)| org.as_deref().is_none_or(|org| org == o.as_str()))
        .flat_map(|(o, s)| s.sinks.iter().map(move |sink| (o.as_str(), sink)))
        .filter(|(_, sink)| sink.name() == name)
        .collect();
    match found.as_slice() {
        [one] => Ok(*one),
        [] => bail!("no sink named `{name}` in the settings file"),
        _ => bail!("several orgs have a sink named `{name}`: say which with --org"),
    }
}

/// Sends a sample event to one sink now, outside the outbox.
pub async fn test(settings: &Settings, name: &str, org: Option<&str>) -> anyhow::Result<ExitCode> {
    let (org, config) = find(settings, name, org)?;
    let public_url = std::env::var("POSTURE_PUBLIC_URL").ok();
    let sink = Sink::resolve(
        org,
        config,
        &|variable| std::env::var(variable).ok(),
        public_url.as_deref(),
    )?;
    match send_test(&sink, org).await {
        Ok(event) => {
            eprintln!(
                "posture: sample event {} delivered to {}",
                event.id, sink.key
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(error) => {
            eprintln!("posture: {} refused the sample event: {error}", sink.key);
            Ok(ExitCode::FAILURE)
        }
    }
}

/// Queues a sink's dead messages again.
pub async fn retry(
    store: &Store,
    settings: &Settings,
    name: &str,
    org: Option<&str>,
) -> anyhow::Result<ExitCode> {
    let (org, config) = find(settings, name, org)?;
    let key = SinkKey {
        org: org.to_owned(),
        sink: config.name().to_owned(),
    };
    let retried = store
        .retry_dead_alerts(&key)
        .await
        .with_context(|| format!("cannot queue {key}'s dead messages"))?;
    eprintln!("posture: {retried} dead message(s) of {key} queued again");
    Ok(ExitCode::SUCCESS)
}
