//! One finding's life read from its events: when it was on the default branch (presence),
//! how it was triaged, its severity over time and when it was first detected. Every other
//! figure of [`crate::history`] is computed from these point-in-time questions.
//!
//! Definitions:
//!
//! * Events after `as_of` are ignored, as if they had not happened yet. The rest are read
//!   oldest first; events at the same instant keep log order, and the state *at* an instant
//!   `t` is the state after every event at or before `t`.
//! * *Presence*: `detected` and `reintroduced` make the finding present, `fixed` ends its
//!   presence. Present at `t`: the last of these events at or before `t` is `detected` or
//!   `reintroduced`.
//! * *Triage*: `dismissed` → dismissed; `accepted` → accepted; `pending` → pending (still
//!   open); `approved` → accepted if its reason is `accepted_risk`, dismissed otherwise;
//!   `rejected`, `reopened` and `acceptance_expired` → no triage. A fix does not clear the
//!   triage: it applies again if the finding is reintroduced.
//! * *Open* at `t`: present at `t` and neither dismissed nor accepted at `t`.
//! * *Severity* at `t`: that of the last event carrying one at or before `t`; before the first
//!   such event, the first one's; [`Severity::Info`] when no event carries one.
//! * *First detection*: the first `detected` event; a reintroduction never resets it. A
//!   finding without a `detected` event has none.

use chrono::{DateTime, TimeDelta, Utc};

use super::HistoryEvent;
use crate::model::Severity;
use crate::store::EventKind;

/// The `approved` reason that accepts the risk; any other reason dismisses.
pub(super) const ACCEPTED_RISK: &str = "accepted_risk";

/// How a finding is triaged at some instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TriageStatus {
    /// Not triaged (or the triage was rejected, reopened or expired).
    Untriaged,
    /// A dismissal or acceptance waits for approval: the finding is still open.
    Pending,
    /// Dismissed (false positive, won't fix, …): closed while present.
    Dismissed,
    /// Risk accepted: closed while present, until the acceptance expires.
    Accepted,
}

impl TriageStatus {
    /// Whether this triage takes a present finding out of the open findings.
    pub fn closes(self) -> bool {
        matches!(self, TriageStatus::Dismissed | TriageStatus::Accepted)
    }

    /// The triage an event sets, `None` for events that do not touch triage.
    fn after(event: &HistoryEvent) -> Option<TriageStatus> {
        Some(match event.kind {
            EventKind::Dismissed => TriageStatus::Dismissed,
            EventKind::Accepted => TriageStatus::Accepted,
            EventKind::Pending => TriageStatus::Pending,
            EventKind::Approved if approves_acceptance(event) => TriageStatus::Accepted,
            EventKind::Approved => TriageStatus::Dismissed,
            EventKind::Rejected | EventKind::Reopened | EventKind::AcceptanceExpired => {
                TriageStatus::Untriaged
            }
            _ => return None,
        })
    }
}

/// An `approved` event's verdict: acceptance when its reason is `accepted_risk`.
fn approves_acceptance(event: &HistoryEvent) -> bool {
    event.reason.as_deref() == Some(ACCEPTED_RISK)
}

/// A state that changes at instants: each entry holds from its instant on (later entries at
/// the same instant win, as they come later in the log).
type Changes<T> = Vec<(DateTime<Utc>, T)>;

/// The state of `changes` at `t`: the last entry at or before `t`, `before` when none.
fn state_at<T: Copy>(changes: &Changes<T>, t: DateTime<Utc>, before: T) -> T {
    let after = changes.partition_point(|(at, _)| *at <= t);
    match after.checked_sub(1) {
        Some(index) => changes[index].1,
        None => before,
    }
}

/// One finding's events up to `as_of`, and the states they imply. See the module
/// documentation for the definitions.
#[derive(Debug, Clone, PartialEq)]
pub struct Timeline {
    as_of: DateTime<Utc>,
    /// The events at or before `as_of`, oldest first (ties in log order).
    events: Vec<HistoryEvent>,
    presence: Changes<bool>,
    triage: Changes<TriageStatus>,
    open: Changes<bool>,
    severity: Changes<Severity>,
    first_detected: Option<DateTime<Utc>>,
}

impl Timeline {
    /// Reads `events` (oldest first), ignoring those after `as_of`.
    pub fn new(events: &[HistoryEvent], as_of: DateTime<Utc>) -> Timeline {
        let mut events: Vec<HistoryEvent> =
            events.iter().filter(|e| e.at <= as_of).cloned().collect();
        // Already oldest first from the store; a stable sort keeps log order for ties and
        // guards against a caller that is not.
        events.sort_by_key(|e| e.at);

        let mut presence = Vec::new();
        let mut triage = Vec::new();
        let mut open = Vec::new();
        let mut severity = Vec::new();
        let mut present = false;
        let mut triaged = TriageStatus::Untriaged;
        for event in &events {
            match event.kind {
                EventKind::Detected | EventKind::Reintroduced => {
                    present = true;
                    presence.push((event.at, true));
                }
                EventKind::Fixed => {
                    present = false;
                    presence.push((event.at, false));
                }
                _ => {}
            }
            if let Some(status) = TriageStatus::after(event) {
                triaged = status;
                triage.push((event.at, status));
            }
            if let Some(level) = event.severity {
                severity.push((event.at, level));
            }
            open.push((event.at, present && !triaged.closes()));
        }
        let first_detected = events
            .iter()
            .find(|e| e.kind == EventKind::Detected)
            .map(|e| e.at);
        Timeline {
            as_of,
            events,
            presence,
            triage,
            open,
            severity,
            first_detected,
        }
    }

    /// The instant after which events were ignored.
    pub fn as_of(&self) -> DateTime<Utc> {
        self.as_of
    }

    /// The events at or before `as_of`, oldest first.
    pub fn events(&self) -> &[HistoryEvent] {
        &self.events
    }

    /// The instant of the first `detected` event.
    pub fn first_detected(&self) -> Option<DateTime<Utc>> {
        self.first_detected
    }

    /// The presence intervals `[start, end)`, oldest first; `end` is `None` while the finding
    /// is still present at `as_of`. An interval may be empty when a fix shares the instant of
    /// the detection it ends.
    pub fn presence_intervals(&self) -> Vec<(DateTime<Utc>, Option<DateTime<Utc>>)> {
        let mut intervals = Vec::new();
        let mut start: Option<DateTime<Utc>> = None;
        for &(at, present) in &self.presence {
            match (present, start) {
                (true, None) => start = Some(at),
                (false, Some(since)) => {
                    intervals.push((since, Some(at)));
                    start = None;
                }
                _ => {}
            }
        }
        if let Some(since) = start {
            intervals.push((since, None));
        }
        intervals
    }

    /// Whether the finding is on the default branch at `t`.
    pub fn present_at(&self, t: DateTime<Utc>) -> bool {
        state_at(&self.presence, t, false)
    }

    /// How the finding is triaged at `t`.
    pub fn triage_at(&self, t: DateTime<Utc>) -> TriageStatus {
        state_at(&self.triage, t, TriageStatus::Untriaged)
    }

    /// Present at `t` and neither dismissed nor accepted at `t`.
    pub fn open_at(&self, t: DateTime<Utc>) -> bool {
        state_at(&self.open, t, false)
    }

    /// The severity at `t` (see the module documentation).
    pub fn severity_at(&self, t: DateTime<Utc>) -> Severity {
        let first = self.severity.first().map_or(Severity::Info, |(_, s)| *s);
        state_at(&self.severity, t, first)
    }

    /// How long the finding was open within `[a, b)`.
    pub fn open_duration(&self, a: DateTime<Utc>, b: DateTime<Utc>) -> TimeDelta {
        let mut total = TimeDelta::zero();
        for (index, &(start, open)) in self.open.iter().enumerate() {
            if !open {
                continue;
            }
            let start = start.max(a);
            let end = self
                .open
                .get(index + 1)
                .map_or(b, |(next, _)| (*next).min(b));
            if end > start {
                total += end - start;
            }
        }
        total
    }

    /// The events of `kind` within `[a, b)`, oldest first.
    pub fn events_in(
        &self,
        kind: EventKind,
        a: DateTime<Utc>,
        b: DateTime<Utc>,
    ) -> impl Iterator<Item = &HistoryEvent> {
        self.events
            .iter()
            .filter(move |e| e.kind == kind && a <= e.at && e.at < b)
    }

    /// Whether an event of `kind` happened within `[a, b)`.
    pub fn has_event_in(&self, kind: EventKind, a: DateTime<Utc>, b: DateTime<Utc>) -> bool {
        self.events_in(kind, a, b).next().is_some()
    }

    /// Whether the finding was dismissed within `[a, b)`: a `dismissed` event, or an
    /// `approved` one whose reason is not `accepted_risk`.
    pub fn dismissed_in(&self, a: DateTime<Utc>, b: DateTime<Utc>) -> bool {
        self.has_event_in(EventKind::Dismissed, a, b)
            || self
                .events_in(EventKind::Approved, a, b)
                .any(|e| !approves_acceptance(e))
    }

    /// Whether the finding's risk was accepted within `[a, b)`: an `accepted` event, or an
    /// `approved` one whose reason is `accepted_risk`.
    pub fn accepted_in(&self, a: DateTime<Utc>, b: DateTime<Utc>) -> bool {
        self.has_event_in(EventKind::Accepted, a, b)
            || self
                .events_in(EventKind::Approved, a, b)
                .any(approves_acceptance)
    }

    /// The last `fixed` event within `[a, b)`.
    pub fn last_fix_in(&self, a: DateTime<Utc>, b: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.events_in(EventKind::Fixed, a, b).last().map(|e| e.at)
    }
}

#[cfg(test)]
pub(super) mod tests {
    use chrono::TimeZone;

    use super::*;

    /// Midnight UTC of day `day` of January 2025 (`day` may exceed 31 to run into February…).
    pub(in crate::history) fn day(day: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0).unwrap() + TimeDelta::days(day - 1)
    }

    pub(in crate::history) fn event(at: DateTime<Utc>, kind: EventKind) -> HistoryEvent {
        HistoryEvent {
            at,
            kind,
            severity: None,
            reason: None,
        }
    }

    pub(in crate::history) fn with_severity(
        at: DateTime<Utc>,
        kind: EventKind,
        severity: Severity,
    ) -> HistoryEvent {
        HistoryEvent {
            severity: Some(severity),
            ..event(at, kind)
        }
    }

    pub(in crate::history) fn with_reason(
        at: DateTime<Utc>,
        kind: EventKind,
        reason: &str,
    ) -> HistoryEvent {
        HistoryEvent {
            reason: Some(reason.to_owned()),
            ..event(at, kind)
        }
    }

    #[test]
    fn a_reintroduction_opens_a_new_presence_interval_but_keeps_the_first_detection() {
        let events = [
            with_severity(day(1), EventKind::Detected, Severity::High),
            event(day(5), EventKind::Fixed),
            with_severity(day(10), EventKind::Reintroduced, Severity::High),
            event(day(12), EventKind::Fixed),
        ];
        let timeline = Timeline::new(&events, day(30));
        assert_eq!(timeline.first_detected(), Some(day(1)));
        assert_eq!(
            timeline.presence_intervals(),
            vec![(day(1), Some(day(5))), (day(10), Some(day(12)))]
        );
        assert!(timeline.present_at(day(1)));
        assert!(timeline.present_at(day(4)));
        assert!(
            !timeline.present_at(day(5)),
            "a fix ends presence at its instant"
        );
        assert!(!timeline.present_at(day(7)));
        assert!(timeline.present_at(day(11)));
        assert!(!timeline.present_at(day(20)));
        assert!(!timeline.present_at(day(0)), "not present before detection");
        assert_eq!(timeline.open_duration(day(1), day(30)), TimeDelta::days(6));
        assert_eq!(timeline.open_duration(day(3), day(11)), TimeDelta::days(3));
        assert_eq!(timeline.last_fix_in(day(1), day(30)), Some(day(12)));
        assert_eq!(timeline.last_fix_in(day(1), day(12)), Some(day(5)));
        assert_eq!(
            timeline
                .events_in(EventKind::Fixed, day(1), day(30))
                .count(),
            2
        );
    }

    #[test]
    fn events_after_as_of_are_ignored() {
        let events = [
            with_severity(day(1), EventKind::Detected, Severity::Low),
            with_severity(day(3), EventKind::SeverityChanged, Severity::Critical),
            event(day(5), EventKind::Fixed),
        ];
        let timeline = Timeline::new(&events, day(4));
        assert_eq!(timeline.events().len(), 2);
        assert!(timeline.present_at(day(10)), "the fix has not happened yet");
        assert_eq!(timeline.last_fix_in(day(1), day(30)), None);
        assert_eq!(timeline.severity_at(day(2)), Severity::Low);
        assert_eq!(timeline.severity_at(day(10)), Severity::Critical);
        assert_eq!(timeline.presence_intervals(), vec![(day(1), None)]);
    }

    #[test]
    fn severity_before_the_first_event_is_the_first_ones_and_info_without_any() {
        let events = [
            event(day(2), EventKind::Detected),
            with_severity(day(3), EventKind::SeverityChanged, Severity::Medium),
            with_severity(day(6), EventKind::SeverityChanged, Severity::High),
        ];
        let timeline = Timeline::new(&events, day(30));
        assert_eq!(timeline.severity_at(day(1)), Severity::Medium);
        assert_eq!(timeline.severity_at(day(2)), Severity::Medium);
        assert_eq!(timeline.severity_at(day(6)), Severity::High);
        let bare = Timeline::new(&[event(day(2), EventKind::Detected)], day(30));
        assert_eq!(bare.severity_at(day(5)), Severity::Info);
    }

    #[test]
    fn triage_closes_and_reopens_the_finding() {
        let events = [
            event(day(1), EventKind::Detected),
            with_reason(day(2), EventKind::Pending, "accepted_risk"),
            with_reason(day(3), EventKind::Approved, "accepted_risk"),
            event(day(6), EventKind::AcceptanceExpired),
            event(day(8), EventKind::Dismissed),
            event(day(9), EventKind::Reopened),
            with_reason(day(10), EventKind::Approved, "false_positive"),
        ];
        let timeline = Timeline::new(&events, day(30));
        assert_eq!(timeline.triage_at(day(1)), TriageStatus::Untriaged);
        assert_eq!(timeline.triage_at(day(2)), TriageStatus::Pending);
        assert!(timeline.open_at(day(2)), "pending is still open");
        assert_eq!(timeline.triage_at(day(4)), TriageStatus::Accepted);
        assert!(!timeline.open_at(day(4)));
        assert!(timeline.present_at(day(4)));
        assert!(
            timeline.open_at(day(6)),
            "open again once the acceptance expired"
        );
        assert_eq!(timeline.triage_at(day(8)), TriageStatus::Dismissed);
        assert!(timeline.open_at(day(9)));
        assert_eq!(timeline.triage_at(day(11)), TriageStatus::Dismissed);
        // Open on days 1–2 (2 days), 6–7 (2 days) and 9 (1 day).
        assert_eq!(timeline.open_duration(day(1), day(30)), TimeDelta::days(5));
        assert!(timeline.accepted_in(day(1), day(30)));
        assert!(!timeline.accepted_in(day(4), day(30)));
        assert!(
            timeline.dismissed_in(day(9), day(30)),
            "approved as a false positive"
        );
        assert!(!timeline.dismissed_in(day(1), day(8)));
    }

    #[test]
    fn ties_keep_log_order() {
        let events = [
            event(day(1), EventKind::Detected),
            event(day(1), EventKind::Fixed),
            event(day(3), EventKind::Fixed),
            event(day(3), EventKind::Reintroduced),
        ];
        let timeline = Timeline::new(&events, day(30));
        assert!(!timeline.present_at(day(1)));
        assert!(!timeline.present_at(day(2)));
        assert!(timeline.present_at(day(3)));
        assert_eq!(timeline.open_duration(day(1), day(5)), TimeDelta::days(2));
        assert_eq!(timeline.first_detected(), Some(day(1)));
    }

    #[test]
    fn a_finding_only_ever_reintroduced_has_no_first_detection() {
        let timeline = Timeline::new(&[event(day(4), EventKind::Reintroduced)], day(30));
        assert_eq!(timeline.first_detected(), None);
        assert!(timeline.open_at(day(4)));
    }
}
