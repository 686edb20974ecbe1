//! The outbox loop: for each sink, read the event log after its cursor into messages
//! (grouped by the org's rules), and deliver the messages that are due, with retries,
//! dead-lettering and health.
//!
//! Every replica runs one task per sink. Reading is serialised per sink by the database
//! (see `store::alerts`), and messages are claimed with a lease, so replicas share the work
//! and a process killed mid-delivery leaves its messages to the next. Delivery is at least
//! once: a message whose sink answered but whose `sent` mark was lost is sent again, with the
//! same id.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use tokio::sync::watch;
use tracing::{info, warn};

use super::event::AlertEvent;
use super::rules::AlertRule;
use super::sinks::{Outgoing, Sink};
use crate::store::{
    Backoff, ClaimedMessage, LoggedEvent, Placement, Retry, Store, StoreError, UNHEALTHY_AFTER,
};

/// Counter: messages by `sink` (`org/name`) and `outcome` (`delivered`, `failed`, `dead`).
pub const SINK_DELIVERIES_TOTAL: &str = "posture_sink_deliveries_total";
/// Gauge: 1 while a sink answers, 0 once it failed [`crate::store::UNHEALTHY_AFTER`] times in
/// a row.
pub const SINK_HEALTHY: &str = "posture_sink_healthy";

/// Describes the metrics above to the recorder.
pub fn describe_metrics() {
    ::metrics::describe_counter!(
        SINK_DELIVERIES_TOTAL,
        "Alert messages by sink and outcome (delivered, failed, dead)"
    );
    ::metrics::describe_gauge!(SINK_HEALTHY, "1 while the alert sink answers, else 0");
}

/// How long a stopping process keeps sending what is due.
const SHUTDOWN_FLUSH: Duration = Duration::from_secs(10);

/// How the outbox behaves.
#[derive(Debug, Clone)]
pub struct OutboxConfig {
    /// How often each sink looks for new events and due messages.
    pub poll: Duration,
    /// How long a claimed message is held before another process may take it.
    pub lease: Duration,
    /// Attempts before a message is dead.
    pub max_attempts: i32,
    /// The wait after a failed attempt, doubling per attempt.
    pub backoff: Backoff,
    /// Names this process's claims.
    pub worker: String,
    pub links: LinkBase,
}

impl Default for OutboxConfig {
    fn default() -> OutboxConfig {
        OutboxConfig {
            poll: Duration::from_secs(1),
            lease: Duration::from_secs(60),
            max_attempts: 12,
            backoff: Backoff {
                base: Duration::from_secs(10),
                cap: Duration::from_secs(3600),
            },
            worker: worker_id(),
            links: LinkBase::default(),
        }
    }
}

/// Names this process's claims: host, process and a random part, since every replica in a
/// container is process 1.
fn worker_id() -> String {
    let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "posture".into());
    let mut random = [0u8; 4];
    // Without randomness the host and process still tell most replicas apart.
    let _ = getrandom::fill(&mut random);
    format!(
        "alerts-{host}-{}-{}",
        std::process::id(),
        hex::encode(random)
    )
}

/// What links are made of: the forges' web addresses and posture's public URL.
#[derive(Debug, Clone)]
pub struct LinkBase {
    /// GitHub's web address (`https://github.com`, or a GitHub Enterprise host).
    pub github: String,
    /// GitLab's web address.
    pub gitlab: String,
    /// posture's own address, for dashboard links.
    pub public_url: Option<String>,
}

impl Default for LinkBase {
    fn default() -> LinkBase {
        LinkBase {
            github: "https://github.com".into(),
            gitlab: "https://gitlab.com".into(),
            public_url: None,
        }
    }
}

impl LinkBase {
    /// From the forges' API URLs (`https://ghe.example/api/v3` → `https://ghe.example`).
    pub fn new(
        github_api: Option<&str>,
        gitlab: Option<&str>,
        public_url: Option<&str>,
    ) -> LinkBase {
        let github = match github_api.map(|api| api.trim_end_matches('/')) {
            None | Some("https://api.github.com") => "https://github.com".to_owned(),
            Some(api) => api.trim_end_matches("/api/v3").to_owned(),
        };
        LinkBase {
            github,
            gitlab: gitlab
                .unwrap_or("https://gitlab.com")
                .trim_end_matches('/')
                .to_owned(),
            public_url: public_url.map(|url| url.trim_end_matches('/').to_owned()),
        }
    }

    /// Fills the event's links: its pull request, its line on the forge, the dashboard.
    pub fn fill(&self, logged: &mut LoggedEvent) {
        let event = &mut logged.event;
        let (web, pull, blob) = match event.forge.as_str() {
            "gitlab" => (&self.gitlab, "-/merge_requests", "-/blob"),
            _ => (&self.github, "pull", "blob"),
        };
        let repository = format!("{web}/{}", event.repository);
        event.links.pull_request = logged
            .pull_request
            .map(|number| format!("{repository}/{pull}/{number}"));
        event.links.finding = match (&logged.commit, &event.finding.path) {
            (Some(commit), Some(path)) => Some(match event.finding.line {
                Some(line) => format!("{repository}/{blob}/{commit}/{path}#L{line}"),
                None => format!("{repository}/{blob}/{commit}/{path}"),
            }),
            _ => None,
        };
        let name = event
            .repository
            .split_once('/')
            .map_or(event.repository.as_str(), |(_, name)| name);
        event.links.dashboard = self
            .public_url
            .as_ref()
            .map(|base| format!("{base}/orgs/{}/repos/{name}", event.org));
    }
}

/// One sink with its org's rules: what a sink task needs.
#[derive(Debug, Clone)]
pub struct SinkPlan {
    pub sink: Sink,
    /// The org's rules (those naming other sinks are skipped when placing).
    pub rules: Arc<Vec<AlertRule>>,
}

impl SinkPlan {
    /// Where each event goes: by the first rule (in the file's order) that picks it for this
    /// sink, so an event reaches a sink once however many rules pick it.
    pub fn place(&self, events: &[LoggedEvent]) -> Vec<Placement> {
        events
            .iter()
            .enumerate()
            .filter_map(|(index, logged)| {
                let route = self
                    .rules
                    .iter()
                    .find_map(|rule| rule.route(&self.sink.key.sink, &logged.event))?;
                Some(Placement {
                    event: index,
                    rule: route.rule.to_owned(),
                    group_key: route.group_key,
                    window: route.window,
                })
            })
            .collect()
    }
}

/// Builds the sink plans of the settings, reading secrets from `env`.
pub fn plans(
    settings: &crate::settings::Settings,
    env: &dyn Fn(&str) -> Option<String>,
    public_url: Option<&str>,
) -> Result<Vec<SinkPlan>, super::sinks::SinkError> {
    let mut plans = Vec::new();
    for (org, org_settings) in &settings.orgs {
        let rules = Arc::new(org_settings.alerts.clone());
        for config in &org_settings.sinks {
            plans.push(SinkPlan {
                sink: Sink::resolve(org, config, env, public_url)?,
                rules: rules.clone(),
            });
        }
    }
    Ok(plans)
}

/// Runs one task per sink until `shutdown` turns true; then each closes its open windows and
/// delivers what is due once more before returning.
pub async fn run(
    store: Store,
    plans: Vec<SinkPlan>,
    config: OutboxConfig,
    shutdown: watch::Receiver<bool>,
) {
    let client = reqwest::Client::builder()
        .user_agent(super::sinks::user_agent())
        .build()
        .unwrap_or_default();
    let mut tasks = tokio::task::JoinSet::new();
    for plan in plans {
        let task = SinkTask {
            store: store.clone(),
            plan,
            config: config.clone(),
            client: client.clone(),
        };
        tasks.spawn(task.run(shutdown.clone()));
    }
    while tasks.join_next().await.is_some() {}
}

struct SinkTask {
    store: Store,
    plan: SinkPlan,
    config: OutboxConfig,
    client: reqwest::Client,
}

impl SinkTask {
    async fn run(self, mut shutdown: watch::Receiver<bool>) {
        let key = &self.plan.sink.key;
        let mut ready = false;
        loop {
            if !ready {
                match self.store.ensure_alert_sink(key).await {
                    Ok(()) => ready = true,
                    Err(error) => warn!(sink = %key, "cannot set up the alert sink: {error}"),
                }
            }
            if let Err(error) = self.round().await {
                warn!(sink = %key, "alert outbox: {error}");
            }
            tokio::select! {
                _ = shutdown.changed() => break,
                _ = tokio::time::sleep(self.config.poll) => {}
            }
        }
        // Shutdown: what was read is sent now rather than when a window would have closed,
        // for as long as the sink takes it and at most SHUTDOWN_FLUSH.
        let closed = async {
            self.dispatch().await?;
            self.store.close_alert_windows(key).await?;
            let mut sent = 0;
            loop {
                let round = self.deliver().await?;
                if round == 0 {
                    return Ok::<_, StoreError>(sent);
                }
                sent += round;
            }
        };
        let closed = async {
            tokio::time::timeout(SHUTDOWN_FLUSH, closed)
                .await
                .unwrap_or_else(|_| {
                    warn!(sink = %key, "alert messages left for the next process: the sink is slow");
                    Ok(0)
                })
        };
        match closed.await {
            Ok(sent) if sent > 0 => info!(sink = %key, sent, "alert windows closed at shutdown"),
            Ok(_) => {}
            Err(error) => warn!(sink = %key, "alert outbox at shutdown: {error}"),
        }
    }

    async fn round(&self) -> Result<(), StoreError> {
        self.dispatch().await?;
        self.deliver().await?;
        Ok(())
    }

    /// Reads the log after the cursor into messages until it is caught up.
    async fn dispatch(&self) -> Result<(), StoreError> {
        loop {
            let read = self
                .store
                .dispatch_alerts(&self.plan.sink.key, |events| {
                    for logged in events.iter_mut() {
                        self.config.links.fill(logged);
                    }
                    self.plan.place(events)
                })
                .await?;
            if read < crate::store::DISPATCH_BATCH as usize {
                return Ok(());
            }
        }
    }

    /// Sends the due messages; returns how many were delivered.
    async fn deliver(&self) -> Result<usize, StoreError> {
        let sink = &self.plan.sink;
        let key = &sink.key;
        let label = key.to_string();
        // A sink that is down is tried one message at a time until it answers.
        let down = self.store.sink_failures(key).await? >= UNHEALTHY_AFTER;
        let limit = if down { 1 } else { sink.batch().max(10) };
        let claimed = self
            .store
            .claim_alert_messages(key, &self.config.worker, limit as i64, self.config.lease)
            .await?;
        let mut delivered = 0;
        for (n, chunk) in claimed.chunks(sink.batch()).enumerate() {
            if let Some(every) = sink.min_interval() {
                self.wait_for_slot(every).await?;
            }
            let outgoing: Vec<Outgoing> = chunk.iter().map(outgoing).collect();
            let result = sink.send(&self.client, &outgoing, Utc::now()).await;
            self.store
                .record_sink_outcome(key, result.as_ref().err().map(String::as_str))
                .await?;
            let error = match result {
                Ok(()) => {
                    ::metrics::gauge!(SINK_HEALTHY, "sink" => label.clone()).set(1.0);
                    for message in chunk {
                        if !self
                            .store
                            .alert_message_sent(message.id, &self.config.worker)
                            .await?
                        {
                            // Sent, but its lease ran out meanwhile: another process may send
                            // it again (at least once), with the same id.
                            warn!(sink = %key, message = message.id, "alert message delivered after its lease ran out");
                        }
                        ::metrics::counter!(SINK_DELIVERIES_TOTAL, "sink" => label.clone(), "outcome" => "delivered").increment(1);
                        delivered += 1;
                    }
                    continue;
                }
                Err(error) => error,
            };
            warn!(sink = %key, "alert delivery failed: {error}");
            if self.store.sink_failures(key).await? >= UNHEALTHY_AFTER {
                ::metrics::gauge!(SINK_HEALTHY, "sink" => label.clone()).set(0.0);
            }
            for message in chunk {
                let retry = self
                    .store
                    .alert_message_failed(
                        message.id,
                        &self.config.worker,
                        &error,
                        self.config.max_attempts,
                        self.config.backoff,
                    )
                    .await?;
                let outcome = match retry {
                    Some(Retry::After(_)) => "failed",
                    Some(Retry::Dead) => {
                        warn!(sink = %key, message = message.id, "alert message is dead after {} attempts", self.config.max_attempts);
                        "dead"
                    }
                    // Another process holds it now and accounts for it.
                    None => continue,
                };
                ::metrics::counter!(SINK_DELIVERIES_TOTAL, "sink" => label.clone(), "outcome" => outcome).increment(1);
            }
            // The rest waits for the next round: the sink is likely still failing.
            for later in claimed.chunks(sink.batch()).skip(n + 1).flatten() {
                self.store
                    .release_alert_message(later.id, &self.config.worker)
                    .await?;
            }
            break;
        }
        Ok(delivered)
    }

    async fn wait_for_slot(&self, every: Duration) -> Result<(), StoreError> {
        while let Some(free_at) = self
            .store
            .take_send_slot(&self.plan.sink.key, every)
            .await?
        {
            let wait = (free_at - Utc::now())
                .to_std()
                .unwrap_or(Duration::ZERO)
                .min(every);
            tokio::time::sleep(wait.max(Duration::from_millis(20))).await;
        }
        Ok(())
    }
}

fn outgoing(message: &ClaimedMessage) -> Outgoing {
    Outgoing {
        uid: message.uid(),
        rule: message.rule.clone(),
        events: message.events.clone(),
        digest: message.digest.clone(),
    }
}

/// Every org's rules that listen to one of `triggers`, by org: which orgs need scheduled
/// events.
pub fn orgs_listening(
    settings: &crate::settings::Settings,
    triggers: &[super::rules::Trigger],
) -> BTreeMap<String, Vec<AlertRule>> {
    settings
        .orgs
        .iter()
        .filter_map(|(org, org_settings)| {
            let rules: Vec<AlertRule> = org_settings
                .alerts
                .iter()
                .filter(|rule| rule.on.iter().any(|trigger| triggers.contains(trigger)))
                .cloned()
                .collect();
            (!rules.is_empty()).then(|| (org.clone(), rules))
        })
        .collect()
}

/// A one-off message for `posture sinks test`: a sample event, sent at once, outside the
/// outbox.
pub async fn send_test(sink: &Sink, org: &str) -> Result<AlertEvent, String> {
    let now = Utc::now();
    let event = AlertEvent::sample(org, now);
    let client = reqwest::Client::builder()
        .user_agent(super::sinks::user_agent())
        .build()
        .map_err(|e| e.to_string())?;
    let message = Outgoing {
        uid: format!("msg_test_{}", now.timestamp_micros()),
        rule: "posture sinks test".into(),
        events: vec![event.clone()],
        digest: None,
    };
    sink.send(&client, &[message], now).await?;
    Ok(event)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_picked_by_two_rules_reaches_a_sink_once_by_the_first() {
        let rules: Vec<AlertRule> = serde_yaml_ng::from_str(
            "[{name: critical, on: [finding.detected], when: {severity_at_least: critical}, \
               to: [chat], group: {by: repository, window: 10m}},
              {name: everything, on: [finding.detected], to: [chat, siem]}]",
        )
        .unwrap();
        let sink = |name: &str| {
            let config: crate::alerts::rules::SinkConfig =
                serde_yaml_ng::from_str(&format!("{{name: {name}, type: file, path: /tmp/x}}"))
                    .unwrap();
            Sink::resolve("acme", &config, &|_| None, None).unwrap()
        };
        let mut critical = AlertEvent::sample("acme", Utc::now());
        critical.finding.severity = crate::model::Severity::Critical;
        let low = AlertEvent::sample("acme", Utc::now());
        let events: Vec<LoggedEvent> = [critical, low]
            .into_iter()
            .enumerate()
            .map(|(n, event)| LoggedEvent {
                event,
                id: n as i64,
                pull_request: None,
                commit: None,
            })
            .collect();
        let rules = Arc::new(rules);
        let chat = SinkPlan {
            sink: sink("chat"),
            rules: rules.clone(),
        };
        let placed: Vec<(usize, String)> = chat
            .place(&events)
            .into_iter()
            .map(|p| (p.event, p.rule))
            .collect();
        assert_eq!(
            placed,
            [(0, "critical".to_owned()), (1, "everything".to_owned())]
        );
        let siem = SinkPlan {
            sink: sink("siem"),
            rules,
        };
        assert_eq!(siem.place(&events).len(), 2);
    }

    #[test]
    fn links_point_at_the_forge_and_the_dashboard() {
        let mut logged = LoggedEvent {
            event: AlertEvent::sample("acme", Utc::now()),
            id: 7,
            pull_request: Some(12),
            commit: Some("abc123".into()),
        };
        logged.event.repository = "acme/app".into();
        let links = LinkBase::new(
            Some("https://ghe.example/api/v3"),
            None,
            Some("https://posture.example/"),
        );
        links.fill(&mut logged);
        let l = &logged.event.links;
        assert_eq!(
            l.pull_request.as_deref(),
            Some("https://ghe.example/acme/app/pull/12")
        );
        assert_eq!(
            l.finding.as_deref(),
            Some("https://ghe.example/acme/app/blob/abc123/package-lock.json#L1")
        );
        assert_eq!(
            l.dashboard.as_deref(),
            Some("https://posture.example/orgs/acme/repos/app")
        );
        logged.event.forge = "gitlab".into();
        LinkBase::default().fill(&mut logged);
        assert_eq!(
            logged.event.links.pull_request.as_deref(),
            Some("https://gitlab.com/acme/app/-/merge_requests/12")
        );
        assert_eq!(logged.event.links.dashboard, None);
    }
}
