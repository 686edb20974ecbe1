//! The events nothing else writes: an SLA about to end (`sla_due_soon`, 3 days before the
//! due date), an SLA ended with the finding still open (`sla_breached`), and an accepted
//! risk about to end (`acceptance_expiring`, 7 days before its last day); and the weekly
//! digest (`org.digest`), queued straight into the outbox of each sink its rules name, and
//! as a job that edits the org's standing digest issue (`orgs.<org>.digest.issue`, see
//! [`crate::jobs::queue_digest_issues`]).
//!
//! Each is written to the event log once per finding, kind and date (the date is part of the
//! event's unique key), so every replica may tick; the outbox then delivers them like any
//! other event. Due dates are the history's: first detection plus the org's SLA days for the
//! finding's severity (shorter for KEV findings).

use std::collections::HashSet;
use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};
use tokio::sync::watch;
use tracing::{info, warn};

use super::AlertKind;
use super::digest::{Digest, week_key};
use super::rules::Trigger;
use crate::history::{Filters, SlaPolicy, Window};
use crate::settings::Settings;
use crate::store::{EventKind, OpenBranchFinding, ProjectId, SinkKey, Store, StoreError};

/// Days before the due date that `sla_due_soon` is sent.
pub const DUE_SOON_DAYS: i64 = 3;
/// Days before an acceptance's last day that `acceptance_expiring` is sent.
pub const EXPIRING_DAYS: i64 = 7;
/// How often the scheduled events are looked for.
pub const EVERY: Duration = Duration::from_secs(600);

/// The triggers this module serves.
pub const TRIGGERS: [Trigger; 4] = [
    Trigger::Finding(AlertKind::SlaDueSoon),
    Trigger::Finding(AlertKind::SlaBreached),
    Trigger::Finding(AlertKind::AcceptanceExpiring),
    Trigger::Digest,
];

/// The SLA events open findings call for at `now`: due soon (within [`DUE_SOON_DAYS`]) or
/// breached, each with its due date.
pub fn sla_events(
    findings: &[OpenBranchFinding],
    sla: &SlaPolicy,
    kev: &HashSet<String>,
    now: DateTime<Utc>,
) -> Vec<(ProjectId, String, EventKind, NaiveDate)> {
    let mut events = Vec::new();
    for finding in findings {
        let is_kev = finding.advisories.iter().any(|id| kev.contains(id));
        let Some(days) = sla.days(finding.severity, is_kev) else {
            continue;
        };
        let due = finding.first_detected_at + chrono::Duration::days(i64::from(days));
        let kind = if due < now {
            EventKind::SlaBreached
        } else if due < now + chrono::Duration::days(DUE_SOON_DAYS) {
            EventKind::SlaDueSoon
        } else {
            continue;
        };
        events.push((
            finding.project,
            finding.finding_id.clone(),
            kind,
            due.date_naive(),
        ));
    }
    events
}

/// Writes the scheduled events (and queues the digests) of every org whose rules listen to
/// one; returns how many this call wrote (0 when another replica already did).
pub async fn record(
    store: &Store,
    settings: &Settings,
    now: DateTime<Utc>,
    public_url: Option<&str>,
) -> Result<usize, StoreError> {
    let orgs = super::outbox::orgs_listening(settings, &TRIGGERS);
    if orgs.is_empty() {
        return Ok(0);
    }
    let kev = store.kev_ids().await?;
    let today = now.date_naive();
    let mut written = 0;
    for (org, rules) in orgs {
        written += queue_digests(store, settings, &org, &rules, now, public_url).await?;
        let wants = |kind: AlertKind| {
            rules
                .iter()
                .any(|rule| rule.on.contains(&Trigger::Finding(kind)))
        };
        let mut events = Vec::new();
        if wants(AlertKind::SlaDueSoon) || wants(AlertKind::SlaBreached) {
            let findings = store.open_branch_findings(&org).await?;
            events.extend(
                sla_events(&findings, settings.sla(&org), &kev, now)
                    .into_iter()
                    .filter(|(_, _, kind, _)| match kind {
                        EventKind::SlaBreached => wants(AlertKind::SlaBreached),
                        _ => wants(AlertKind::SlaDueSoon),
                    }),
            );
        }
        if wants(AlertKind::AcceptanceExpiring) {
            let until = today + chrono::Duration::days(EXPIRING_DAYS);
            for (project, finding, last_day) in store.acceptances_ending(&org, today, until).await?
            {
                events.push((project, finding, EventKind::AcceptanceExpiring, last_day));
            }
        }
        // Most are written already: one read instead of an insert attempt each.
        let recorded = store.scheduled_events_of(&org).await?;
        for (project, finding, kind, date) in events {
            if recorded.contains(&(project, finding.clone(), kind, date)) {
                continue;
            }
            if store
                .record_scheduled_event(project, &finding, kind, date)
                .await?
            {
                written += 1;
            }
        }
    }
    Ok(written)
}

/// Queues this week's digest for every sink of the org's digest rules that lacks it; the
/// summary is computed only when one does. Returns how many were queued.
async fn queue_digests(
    store: &Store,
    settings: &Settings,
    org: &str,
    rules: &[super::rules::AlertRule],
    now: DateTime<Utc>,
    public_url: Option<&str>,
) -> Result<usize, StoreError> {
    let schedule = settings
        .orgs
        .get(org)
        .map(|org| org.digest.clone())
        .unwrap_or_default();
    let due = schedule.last_due(now);
    let week = week_key(due);
    let mut missing = Vec::new();
    for rule in rules
        .iter()
        .filter(|rule| rule.on.contains(&Trigger::Digest))
    {
        for sink in &rule.to {
            let key = SinkKey {
                org: org.to_owned(),
                sink: sink.clone(),
            };
            if !store.digest_queued(&key, &rule.name, &week).await? {
                missing.push((key, rule.name.as_str()));
            }
        }
    }
    if missing.is_empty() {
        return Ok(0);
    }
    let findings = store.org_history(org, None, None, due).await?;
    let window = Window {
        from: due - chrono::Duration::days(7),
        to: due,
        as_of: due,
    };
    let summary = crate::history::summarize(
        org,
        &findings,
        &window,
        &Filters::default(),
        settings.sla(org),
    );
    let digest = Digest::new(summary, week, public_url);
    let mut queued = 0;
    for (key, rule) in missing {
        if store.queue_digest(&key, rule, &digest).await? {
            queued += 1;
        }
    }
    Ok(queued)
}

/// Ticks every [`EVERY`] until `shutdown` turns true.
pub async fn run(
    store: Store,
    settings: std::sync::Arc<Settings>,
    public_url: Option<String>,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut ticker = tokio::time::interval(EVERY);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = shutdown.changed() => return,
            _ = ticker.tick() => {}
        }
        let now = Utc::now();
        match record(&store, &settings, now, public_url.as_deref()).await {
            Ok(0) => {}
            Ok(written) => info!(written, "scheduled alert events recorded"),
            Err(error) => warn!("cannot record scheduled alert events: {error}"),
        }
        match crate::jobs::queue_digest_issues(&store, &settings, now, public_url.as_deref()).await
        {
            Ok(0) => {}
            Ok(queued) => info!(queued, "digest issue jobs queued"),
            Err(error) => warn!("cannot queue the digest issue jobs: {error}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Severity;

    fn finding(
        severity: Severity,
        detected_days_ago: i64,
        now: DateTime<Utc>,
    ) -> OpenBranchFinding {
        OpenBranchFinding {
            project: ProjectId(1),
            finding_id: format!("{severity:?}-{detected_days_ago}"),
            severity,
            advisories: vec!["CVE-2021-44228".into()],
            first_detected_at: now - chrono::Duration::days(detected_days_ago),
        }
    }

    #[test]
    fn due_soon_and_breached_follow_the_org_sla_and_kev() {
        let now = "2026-12-04T12:00:00Z".parse::<DateTime<Utc>>().unwrap();
        let sla = SlaPolicy::default();
        let findings = [
            finding(Severity::Critical, 5, now), // due in 2 days: soon
            finding(Severity::Critical, 8, now), // due a day ago: breached
            finding(Severity::High, 10, now),    // due in 20 days: nothing
            finding(Severity::Info, 400, now),   // no due date
        ];
        let events = sla_events(&findings, &sla, &HashSet::new(), now);
        let kinds: Vec<(String, EventKind, String)> = events
            .iter()
            .map(|(_, id, kind, due)| (id.clone(), *kind, due.to_string()))
            .collect();
        assert_eq!(
            kinds,
            [
                (
                    "Critical-5".into(),
                    EventKind::SlaDueSoon,
                    "2026-12-06".into()
                ),
                (
                    "Critical-8".into(),
                    EventKind::SlaBreached,
                    "2026-12-03".into()
                ),
            ]
        );
        // A KEV advisory shortens the high finding's 30 days to 14: due 2026-12-08, soon…
        let kev: HashSet<String> = ["CVE-2021-44228".to_owned()].into();
        let high = [finding(Severity::High, 12, now)];
        assert_eq!(
            sla_events(&high, &sla, &kev, now)[0].2,
            EventKind::SlaDueSoon
        );
        // … and gives the info finding a due date.
        let info = [finding(Severity::Info, 400, now)];
        assert_eq!(
            sla_events(&info, &sla, &kev, now)[0].2,
            EventKind::SlaBreached
        );
    }
}
