//! The org summary ([`summarize`]): open counts, activity in the period, time to remediate,
//! SLA, risk-days, grades and hotspots, all computed from the findings' events.
//!
//! Definitions (`P` is the period, `end` its end):
//!
//! * **Preprocessing**: every event after `window.as_of` is ignored. A finding without any
//!   event at or before `as_of` did not exist yet and is left out.
//! * **Filters**: repository equal; severity equal to the finding's severity at `as_of`; kind
//!   equal; tool one of the tools that reported it. Only findings passing the filters count,
//!   anywhere.
//! * `end = min(window.to, window.as_of)`; `P = [window.from, end)` (empty when `from ≥ end`).
//! * **Open** at `t`: present at `t` (the last `detected`/`reintroduced`/`fixed` event at or
//!   before `t` is not `fixed`) and neither dismissed nor accepted at `t` (see
//!   [`super::Timeline`]).
//! * `open`: the findings open at `as_of`, by their severity at `as_of`, and in total.
//! * `new`: findings whose first `detected` event is in `P`. `reintroduced`: findings with a
//!   `reintroduced` event in `P`, each counted once; a finding first detected in `P` and
//!   reintroduced in `P` counts in both. `fixed`, `dismissed`, `accepted`: distinct findings
//!   with such an event in `P`; an `approved` event counts as accepted when its reason is
//!   `accepted_risk`, as dismissed otherwise.
//! * `mttr_days`: the mean, over the findings counted in `fixed`, of their last fix in `P`
//!   minus their first detection, in days (seconds ÷ 86 400, fractional). `None` when nothing
//!   was fixed (or no fixed finding has a `detected` event).
//! * `ttr_p50_days`, `ttr_p90_days`: the Kaplan–Meier estimate of time to fix. Population: the
//!   findings counted in `fixed` that are not present at `end` (observed: last fix in `P` minus
//!   first detection) and the findings open at `end` (censored at `end` minus first
//!   detection); findings without a `detected` event are left out. Product-limit estimator
//!   `S(t) = Π (1 − dᵢ/nᵢ)` over the observed durations `tᵢ ≤ t`, where `nᵢ` counts the
//!   durations `≥ tᵢ`: at tied times fixes are processed before censorings. `pXX` is the
//!   smallest observed duration `t` with `S(t) ≤ 1 − XX/100` (within 1e-9 for rounding);
//!   `None` when never reached or the population is empty.
//! * **SLA**: due date = first detection + `sla.days(severity at as_of, kev)` days (`None`:
//!   no due date, and a finding without a `detected` event has none). `breached_open`: open
//!   at `as_of` with due `< as_of`. `due_within_7_days`: open at `as_of` with
//!   `as_of ≤ due < as_of + 7 days`. `compliance`: among the findings counted in `fixed`, the
//!   share whose last fix in `P` is `≤` due (no due date counts as compliant); `None` when
//!   nothing was fixed.
//! * `net_resolve_rate`: the distinct findings with a `fixed` or `dismissed` event (or an
//!   `approved` one that dismisses) in `P` whose state at `end` is closed (not present, or
//!   dismissed or accepted), divided by `new + reintroduced`; `None` when that is 0.
//! * `risk_days`: Σ over the findings of risk score × days open within `P` ÷ 100 (unrounded).
//! * **Grades**: see [`super::grade`]; each repository is graded over its findings open at
//!   `as_of`, the org gets its worst repository's grade.
//! * `repositories`: one entry per repository with at least one finding passing the filters,
//!   worst grade first, then most risk-days (over `P`), then by name.
//! * `hotspots`: see [`super::hotspots`].
//! * `teams`: one entry per owner (the finding's recorded owner, `unowned` when it has
//!   none) with at least one finding passing the filters: `open` as `open`, `introduced` as
//!   `new`, `fixed` and `mttr_days` as the org's, over that owner's findings; most open
//!   first, then most introduced, then by name.

use std::collections::BTreeMap;

use chrono::{DateTime, TimeDelta, Utc};

use super::grade::{Grading, OpenFinding, org_grade};
use super::{
    Filters, FindingHistory, OpenCounts, OrgSummary, RepositorySummary, SlaFigures, SlaPolicy,
    TeamSummary, Timeline, Window, hotspots,
};
use crate::analyze::owners::UNOWNED;
use crate::model::Severity;
use crate::store::EventKind;

/// Slack for the Kaplan–Meier threshold: products of fractions such as 9/10 · 8/9 · … · 1/2
/// land a rounding error away from 0.1.
const KM_EPSILON: f64 = 1e-9;

/// One finding that passed the filters, read as of `as_of`.
pub struct Tracked<'a> {
    pub finding: &'a FindingHistory,
    pub timeline: Timeline,
    /// Its severity at `as_of`.
    pub severity: Severity,
}

/// The findings that count: those with an event at or before `as_of` passing `filters`
/// (every figure of the summary is computed over these; the dashboard lists them).
pub fn select<'a>(
    findings: &'a [FindingHistory],
    window: &Window,
    filters: &Filters,
) -> Vec<Tracked<'a>> {
    findings
        .iter()
        .filter(|f| {
            filters
                .repository
                .as_ref()
                .is_none_or(|r| *r == f.repository)
                && filters.kind.is_none_or(|k| k == f.kind)
                && filters
                    .tool
                    .as_ref()
                    .is_none_or(|tool| f.tools.iter().any(|t| t == tool))
        })
        .filter_map(|finding| {
            let timeline = Timeline::new(&finding.events, window.as_of);
            if timeline.events().is_empty() {
                return None;
            }
            let severity = timeline.severity_at(window.as_of);
            filters
                .severity
                .is_none_or(|s| s == severity)
                .then_some(Tracked {
                    finding,
                    timeline,
                    severity,
                })
        })
        .collect()
}

/// The end of the period: `min(to, as_of)`.
pub(super) fn period_end(window: &Window) -> DateTime<Utc> {
    window.to.min(window.as_of)
}

/// A duration in fractional days.
pub(super) fn days(duration: TimeDelta) -> f64 {
    duration.num_milliseconds() as f64 / 86_400_000.0
}

/// The due date of a finding first detected at `first_detected` with `severity`.
fn due_date(
    first_detected: Option<DateTime<Utc>>,
    severity: Severity,
    kev: bool,
    sla: &SlaPolicy,
) -> Option<DateTime<Utc>> {
    let days = sla.days(severity, kev)?;
    first_detected?.checked_add_signed(TimeDelta::days(i64::from(days)))
}

impl Tracked<'_> {
    /// Its due date, by its severity at `as_of`.
    pub fn due(&self, sla: &SlaPolicy) -> Option<DateTime<Utc>> {
        due_date(
            self.timeline.first_detected(),
            self.severity,
            self.finding.kev,
            sla,
        )
    }

    /// Risk score × days open within `[a, b)` ÷ 100.
    pub(super) fn risk_days(&self, a: DateTime<Utc>, b: DateTime<Utc>) -> f64 {
        f64::from(self.finding.risk_score) * days(self.timeline.open_duration(a, b)) / 100.0
    }

    /// Open at `t` and past its due date (by its severity at `t`) at `t`: at `t = as_of`,
    /// what `breached_open` counts.
    pub(super) fn breached_at(&self, t: DateTime<Utc>, sla: &SlaPolicy) -> bool {
        self.timeline.open_at(t)
            && due_date(
                self.timeline.first_detected(),
                self.timeline.severity_at(t),
                self.finding.kev,
                sla,
            )
            .is_some_and(|due| due < t)
    }
}

/// One repository's figures while they are gathered.
#[derive(Default)]
struct RepositoryFigures {
    open: OpenCounts,
    risk_days: f64,
    open_findings: Vec<OpenFinding>,
}

/// One owner's figures while they are gathered.
#[derive(Default)]
struct TeamFigures {
    open: u64,
    introduced: u64,
    fixed: u64,
    ttr_total: f64,
    ttr_count: u64,
}

impl TeamFigures {
    fn summary(self, team: &str) -> TeamSummary {
        TeamSummary {
            team: team.to_owned(),
            open: self.open,
            introduced: self.introduced,
            fixed: self.fixed,
            mttr_days: (self.ttr_count > 0).then(|| self.ttr_total / self.ttr_count as f64),
        }
    }
}

/// Summarizes the findings of `org` over `window`. See the module documentation for every
/// definition.
pub fn summarize(
    org: &str,
    findings: &[FindingHistory],
    window: &Window,
    filters: &Filters,
    sla: &SlaPolicy,
) -> OrgSummary {
    let as_of = window.as_of;
    let from = window.from;
    let end = period_end(window);
    let soon = as_of + TimeDelta::days(7);

    let mut open = OpenCounts::default();
    let (mut new, mut reintroduced, mut fixed, mut dismissed, mut accepted) = (0, 0, 0, 0, 0);
    let (mut ttr_total, mut ttr_count) = (0.0, 0u64);
    let mut compliant = 0u64;
    let mut survival: Vec<(f64, bool)> = Vec::new();
    let mut resolved = 0u64;
    let mut risk_days = 0.0;
    let (mut breached_open, mut due_within_7_days) = (0, 0);
    let mut repositories: BTreeMap<&str, RepositoryFigures> = BTreeMap::new();
    let mut teams: BTreeMap<&str, TeamFigures> = BTreeMap::new();

    let selected = select(findings, window, filters);
    for tracked in &selected {
        let timeline = &tracked.timeline;
        let first = timeline.first_detected();
        let due = tracked.due(sla);
        let repository = repositories
            .entry(tracked.finding.repository.as_str())
            .or_default();
        let team = teams
            .entry(tracked.finding.owner.as_deref().unwrap_or(UNOWNED))
            .or_default();

        let risk = tracked.risk_days(from, end);
        risk_days += risk;
        repository.risk_days += risk;

        if timeline.open_at(as_of) {
            open.add(tracked.severity);
            repository.open.add(tracked.severity);
            team.open += 1;
            let past_due = due.is_some_and(|due| due < as_of);
            if past_due {
                breached_open += 1;
            } else if due.is_some_and(|due| due < soon) {
                due_within_7_days += 1;
            }
            repository.open_findings.push(OpenFinding {
                severity: tracked.severity,
                kev: tracked.finding.kev,
                past_due,
            });
        }

        if first.is_some_and(|first| from <= first && first < end) {
            new += 1;
            team.introduced += 1;
        }
        if timeline.has_event_in(EventKind::Reintroduced, from, end) {
            reintroduced += 1;
        }
        let last_fix = timeline.last_fix_in(from, end);
        if let Some(fix) = last_fix {
            fixed += 1;
            team.fixed += 1;
            if due.is_none_or(|due| fix <= due) {
                compliant += 1;
            }
            if let Some(first) = first {
                ttr_total += days(fix - first);
                ttr_count += 1;
                team.ttr_total += days(fix - first);
                team.ttr_count += 1;
                if !timeline.present_at(end) {
                    survival.push((days(fix - first), true));
                }
            }
        }
        let open_at_end = timeline.open_at(end);
        if open_at_end && let Some(first) = first {
            survival.push((days(end - first), false));
        }
        let was_dismissed = timeline.dismissed_in(from, end);
        if was_dismissed {
            dismissed += 1;
        }
        if timeline.accepted_in(from, end) {
            accepted += 1;
        }
        if (last_fix.is_some() || was_dismissed) && !open_at_end {
            resolved += 1;
        }
    }

    let mut gradings: Vec<(&str, Grading, RepositorySummary)> = repositories
        .into_iter()
        .map(|(name, figures)| {
            let grading = Grading::of(figures.open_findings);
            let summary = RepositorySummary {
                repository: name.to_owned(),
                open: figures.open,
                grade: grading.grade,
                grade_reason: grading.reason(name),
                risk_days: figures.risk_days,
            };
            (name, grading, summary)
        })
        .collect();
    gradings.sort_by(|(_, _, a), (_, _, b)| {
        b.grade
            .cmp(&a.grade)
            .then(b.risk_days.total_cmp(&a.risk_days))
            .then_with(|| a.repository.cmp(&b.repository))
    });
    let named: Vec<(&str, Grading)> = gradings.iter().map(|(n, g, _)| (*n, *g)).collect();
    let (grade, grade_reason) = org_grade(&named);

    let hotspots = hotspots::rank(
        selected
            .iter()
            .filter(|t| t.timeline.open_at(as_of))
            .map(|t| t.finding),
    );

    let mut teams: Vec<TeamSummary> = teams
        .into_iter()
        .map(|(name, figures)| figures.summary(name))
        .collect();
    teams.sort_by(|a, b| {
        b.open
            .cmp(&a.open)
            .then(b.introduced.cmp(&a.introduced))
            .then_with(|| a.team.cmp(&b.team))
    });

    let ratio = |part: u64, whole: u64| (whole > 0).then(|| part as f64 / whole as f64);
    OrgSummary {
        org: org.to_owned(),
        from: window.from,
        to: window.to,
        as_of,
        open,
        new,
        reintroduced,
        fixed,
        dismissed,
        accepted,
        mttr_days: (ttr_count > 0).then(|| ttr_total / ttr_count as f64),
        ttr_p50_days: km_quantile(&survival, 0.5),
        ttr_p90_days: km_quantile(&survival, 0.9),
        net_resolve_rate: ratio(resolved, new + reintroduced),
        risk_days,
        sla: SlaFigures {
            breached_open,
            due_within_7_days,
            compliance: ratio(compliant, fixed),
        },
        grade,
        grade_reason,
        repositories: gradings.into_iter().map(|(_, _, s)| s).collect(),
        hotspots,
        teams,
    }
}

/// The Kaplan–Meier `q` quantile of `samples` (duration, observed; `false`: censored): the
/// smallest observed duration at which the product-limit survival drops to `1 − q` or below.
fn km_quantile(samples: &[(f64, bool)], q: f64) -> Option<f64> {
    let mut sorted = samples.to_vec();
    // Shortest first; at tied durations fixes (`true`) before censorings.
    sorted.sort_by(|a, b| a.0.total_cmp(&b.0).then(b.1.cmp(&a.1)));
    let threshold = 1.0 - q + KM_EPSILON;
    let mut at_risk = sorted.len() as f64;
    let mut survival = 1.0;
    let mut rest = sorted.as_slice();
    while let Some(&(t, _)) = rest.first() {
        let tied = rest.iter().take_while(|(d, _)| *d == t).count();
        let (now, later) = rest.split_at(tied);
        let fixes = now.iter().filter(|(_, observed)| *observed).count() as f64;
        if fixes > 0.0 {
            survival *= 1.0 - fixes / at_risk;
            if survival <= threshold {
                return Some(t);
            }
        }
        at_risk -= tied as f64;
        rest = later;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::super::timeline::tests::{day, event, with_reason, with_severity};
    use super::*;
    use crate::history::{FixTarget, Grade, HistoryEvent};
    use crate::model::{FindingId, Kind};

    fn finding(repository: &str, id: &str, events: Vec<HistoryEvent>) -> FindingHistory {
        FindingHistory {
            repository: repository.to_owned(),
            finding_id: FindingId(id.to_owned()),
            kind: Kind::Sca,
            tools: vec!["osv-scanner".into()],
            rule: format!("GHSA-{id}"),
            risk_score: 50,
            advisories: vec![format!("GHSA-{id}")],
            kev: false,
            upgrade: None,
            owner: None,
            events,
        }
    }

    fn window(from: i64, to: i64, as_of: i64) -> Window {
        Window {
            from: day(from),
            to: day(to),
            as_of: day(as_of),
        }
    }

    fn summary(findings: &[FindingHistory], window: &Window) -> OrgSummary {
        summarize(
            "acme",
            findings,
            window,
            &Filters::default(),
            &SlaPolicy::default(),
        )
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    #[test]
    fn a_finding_fixed_reintroduced_and_fixed_again_counts_once_from_its_first_detection() {
        let findings = [finding(
            "acme/shop",
            "f1",
            vec![
                with_severity(day(1), EventKind::Detected, Severity::High),
                event(day(5), EventKind::Fixed),
                with_severity(day(10), EventKind::Reintroduced, Severity::High),
                event(day(20), EventKind::Fixed),
            ],
        )];
        let s = summary(&findings, &window(1, 32, 32));
        assert_eq!(s.new, 1);
        assert_eq!(s.reintroduced, 1);
        assert_eq!(s.fixed, 1, "two fixes, one finding");
        // Last fix (day 20) − first detection (day 1) = 19 days, not 20 − 10.
        assert_eq!(s.mttr_days, Some(19.0));
        assert_eq!(s.ttr_p50_days, Some(19.0));
        // Open 4 + 10 days at risk 50: 14 × 50 / 100.
        assert!(close(s.risk_days, 7.0), "{}", s.risk_days);
        assert_eq!(s.open.total, 0);
        // Due at day 31 (high: 30 days from day 1); fixed day 20.
        assert_eq!(s.sla.compliance, Some(1.0));
        // Fixed and closed at the end; new + reintroduced = 2.
        assert_eq!(s.net_resolve_rate, Some(0.5));
        // Only the first fix is in a period ending on day 15.
        let s = summary(&findings, &window(1, 15, 32));
        assert_eq!(s.mttr_days, Some(4.0));
        assert_eq!(
            s.ttr_p50_days, None,
            "only censored: present again (and open) at day 15"
        );
        assert_eq!(s.reintroduced, 1);
    }

    #[test]
    fn teams_count_their_own_findings_under_the_same_filters() {
        let owned = |id: &str, owner: Option<&str>, events| {
            let mut f = finding("acme/shop", id, events);
            f.owner = owner.map(str::to_owned);
            f
        };
        let high = |d| with_severity(day(d), EventKind::Detected, Severity::High);
        let low = |d| with_severity(day(d), EventKind::Detected, Severity::Low);
        let findings = [
            owned(
                "a1",
                Some("@acme/api"),
                vec![high(2), event(day(6), EventKind::Fixed)],
            ),
            owned("a2", Some("@acme/api"), vec![high(3)]),
            // Detected before the period: open, not introduced in it.
            owned("w1", Some("@acme/web"), vec![low(1)]),
            owned("w2", Some("@acme/web"), vec![high(4)]),
            owned("u1", None, vec![low(5), event(day(9), EventKind::Fixed)]),
        ];
        let s = summary(&findings, &window(2, 11, 11));
        let team = |name: &str| s.teams.iter().find(|t| t.team == name).unwrap();
        let names: Vec<&str> = s.teams.iter().map(|t| t.team.as_str()).collect();
        // Most open first.
        assert_eq!(names, ["@acme/web", "@acme/api", "unowned"]);
        assert_eq!(
            (
                team("@acme/api").open,
                team("@acme/api").introduced,
                team("@acme/api").fixed
            ),
            (1, 2, 1)
        );
        assert_eq!(team("@acme/api").mttr_days, Some(4.0));
        assert_eq!(
            (
                team("@acme/web").open,
                team("@acme/web").introduced,
                team("@acme/web").fixed
            ),
            (2, 1, 0)
        );
        assert_eq!(team("@acme/web").mttr_days, None);
        assert_eq!(
            (
                team("unowned").open,
                team("unowned").introduced,
                team("unowned").fixed
            ),
            (0, 1, 1)
        );
        // The teams add up to the org's figures.
        let sum = |f: fn(&TeamSummary) -> u64| s.teams.iter().map(f).sum::<u64>();
        assert_eq!(sum(|t| t.open), s.open.total);
        assert_eq!(sum(|t| t.introduced), s.new);
        assert_eq!(sum(|t| t.fixed), s.fixed);

        // A severity filter applies to the teams too.
        let highs = summarize(
            "acme",
            &findings,
            &window(2, 11, 11),
            &Filters {
                severity: Some(Severity::High),
                ..Filters::default()
            },
            &SlaPolicy::default(),
        );
        let names: Vec<&str> = highs.teams.iter().map(|t| t.team.as_str()).collect();
        // One open each: more introduced first.
        assert_eq!(names, ["@acme/api", "@acme/web"]);
        assert_eq!(highs.teams[1].open, 1);
    }

    #[test]
    fn an_expiring_acceptance_closes_then_reopens_the_finding() {
        let findings = [finding(
            "acme/shop",
            "f1",
            vec![
                with_severity(day(1), EventKind::Detected, Severity::Medium),
                with_reason(day(3), EventKind::Accepted, "accepted_risk"),
                event(day(8), EventKind::AcceptanceExpired),
            ],
        )];
        let during = summary(&findings, &window(1, 6, 6));
        assert_eq!(during.open.total, 0, "accepted: closed while present");
        assert_eq!(during.accepted, 1);
        assert_eq!(
            during.net_resolve_rate,
            Some(0.0),
            "acceptance does not resolve"
        );
        // Open on days 1–2 only: 2 days × 50 / 100.
        assert!(close(during.risk_days, 1.0), "{}", during.risk_days);

        let after = summary(&findings, &window(1, 11, 11));
        assert_eq!(after.open.total, 1);
        assert_eq!(after.open.medium, 1);
        assert_eq!(after.accepted, 1);
        // Open days 1–2 and 8–10: 5 days × 50 / 100.
        assert!(close(after.risk_days, 2.5), "{}", after.risk_days);
        assert_eq!(after.ttr_p50_days, None, "only a censored finding");
    }

    #[test]
    fn approvals_count_as_dismissed_or_accepted_by_their_reason() {
        let findings = [
            finding(
                "acme/a",
                "f1",
                vec![
                    event(day(1), EventKind::Detected),
                    with_reason(day(2), EventKind::Pending, "false_positive"),
                    with_reason(day(3), EventKind::Approved, "false_positive"),
                ],
            ),
            finding(
                "acme/a",
                "f2",
                vec![
                    event(day(1), EventKind::Detected),
                    with_reason(day(2), EventKind::Pending, "accepted_risk"),
                    with_reason(day(3), EventKind::Approved, "accepted_risk"),
                ],
            ),
            finding(
                "acme/a",
                "f3",
                vec![
                    event(day(1), EventKind::Detected),
                    with_reason(day(2), EventKind::Pending, "accepted_risk"),
                ],
            ),
        ];
        let s = summary(&findings, &window(1, 10, 10));
        assert_eq!((s.dismissed, s.accepted), (1, 1));
        assert_eq!(s.open.total, 1, "pending stays open");
        assert_eq!(
            s.net_resolve_rate,
            Some(1.0 / 3.0),
            "only the dismissal resolves"
        );
    }

    #[test]
    fn a_kev_finding_is_due_in_14_days_and_fails_the_grade_past_due() {
        let mut kev = finding(
            "acme/api",
            "k1",
            vec![with_severity(day(1), EventKind::Detected, Severity::Low)],
        );
        kev.kev = true;
        let findings = [kev];
        // Day 10: due on day 15, within 7 days.
        let s = summary(&findings, &window(1, 10, 10));
        assert_eq!(s.sla.breached_open, 0);
        assert_eq!(s.sla.due_within_7_days, 1);
        assert_eq!(s.grade, Grade::A);
        // Day 15: due exactly now, not yet past.
        let s = summary(&findings, &window(1, 15, 15));
        assert_eq!((s.sla.breached_open, s.sla.due_within_7_days), (0, 1));
        // Day 16: past due.
        let s = summary(&findings, &window(1, 16, 16));
        assert_eq!(s.sla.breached_open, 1);
        assert_eq!(s.grade, Grade::F);
        assert_eq!(
            s.grade_reason,
            "F: 1 KEV-listed finding open past its SLA in acme/api"
        );
        assert_eq!(s.repositories[0].grade, Grade::F);
    }

    #[test]
    fn as_of_in_the_past_ignores_later_events() {
        let findings = [
            finding(
                "acme/a",
                "f1",
                vec![
                    with_severity(day(1), EventKind::Detected, Severity::High),
                    with_severity(day(5), EventKind::SeverityChanged, Severity::Critical),
                    event(day(20), EventKind::Fixed),
                ],
            ),
            // Did not exist yet on day 10.
            finding(
                "acme/b",
                "f2",
                vec![with_severity(day(15), EventKind::Detected, Severity::Low)],
            ),
        ];
        let s = summary(&findings, &window(1, 32, 10));
        assert_eq!(s.open.total, 1);
        assert_eq!(s.open.critical, 1, "severity at as_of");
        assert_eq!(s.fixed, 0);
        assert_eq!(s.new, 1);
        assert_eq!(s.repositories.len(), 1, "acme/b had no finding yet");
        // Period ends at as_of (day 10): open 9 days × 50 / 100.
        assert!(close(s.risk_days, 4.5), "{}", s.risk_days);
        assert_eq!(s.grade, Grade::F, "critical due on day 8, open on day 10");
        let now = summary(&findings, &window(1, 32, 32));
        assert_eq!((now.open.total, now.fixed, now.new), (1, 1, 2));
    }

    #[test]
    fn filters_restrict_every_figure() {
        let mut secret = finding(
            "acme/b",
            "s1",
            vec![with_severity(day(2), EventKind::Detected, Severity::High)],
        );
        secret.kind = Kind::Secret;
        secret.tools = vec!["gitleaks".into()];
        let findings = [
            finding(
                "acme/a",
                "f1",
                vec![
                    with_severity(day(1), EventKind::Detected, Severity::Low),
                    with_severity(day(3), EventKind::SeverityChanged, Severity::Critical),
                ],
            ),
            finding(
                "acme/a",
                "f2",
                vec![with_severity(
                    day(1),
                    EventKind::Detected,
                    Severity::Critical,
                )],
            ),
            secret,
        ];
        let w = window(1, 10, 10);
        let sla = SlaPolicy::default();
        let with = |filters: Filters| summarize("acme", &findings, &w, &filters, &sla);
        let s = with(Filters {
            severity: Some(Severity::Critical),
            ..Filters::default()
        });
        assert_eq!((s.open.total, s.open.critical), (2, 2), "severity at as_of");
        let s = with(Filters {
            severity: Some(Severity::Low),
            ..Filters::default()
        });
        assert_eq!(s.open.total, 0);
        assert!(s.repositories.is_empty());
        let s = with(Filters {
            repository: Some("acme/b".into()),
            ..Filters::default()
        });
        assert_eq!((s.open.total, s.new), (1, 1));
        assert_eq!(s.repositories.len(), 1);
        let s = with(Filters {
            kind: Some(Kind::Sca),
            ..Filters::default()
        });
        assert_eq!(s.open.total, 2);
        let s = with(Filters {
            tool: Some("gitleaks".into()),
            ..Filters::default()
        });
        assert_eq!((s.open.total, s.open.high), (1, 1));
        assert_eq!(s.repositories[0].repository, "acme/b");
    }

    #[test]
    fn kaplan_meier_quantiles_account_for_censoring() {
        // Four findings detected on day 1, period [day 1, day 31):
        //   a fixed at day 3 (2 days), b fixed at day 5 (4 days), c still open at the end
        //   (censored at 30 days), d fixed at day 11 (10 days).
        // Durations sorted: 2 (fix), 4 (fix), 10 (fix), 30 (censored).
        //   t=2: n=4, S = 1 × 3/4 = 0.75
        //   t=4: n=3, S = 0.75 × 2/3 = 0.5   → p50 = 4 days
        //   t=10: n=2, S = 0.5 × 1/2 = 0.25
        //   S never drops to 0.1 (the last one is censored) → p90 = None.
        // Without censoring p90 would be the 30 days of c.
        let detected = || with_severity(day(1), EventKind::Detected, Severity::Medium);
        let findings = [
            finding(
                "acme/a",
                "a",
                vec![detected(), event(day(3), EventKind::Fixed)],
            ),
            finding(
                "acme/a",
                "b",
                vec![detected(), event(day(5), EventKind::Fixed)],
            ),
            finding("acme/a", "c", vec![detected()]),
            finding(
                "acme/a",
                "d",
                vec![detected(), event(day(11), EventKind::Fixed)],
            ),
        ];
        let s = summary(&findings, &window(1, 31, 40));
        assert_eq!(s.ttr_p50_days, Some(4.0));
        assert_eq!(s.ttr_p90_days, None);
        // MTTR only averages the fixed ones: (2 + 4 + 10) / 3.
        assert!(close(s.mttr_days.unwrap(), 16.0 / 3.0));
        assert_eq!(s.fixed, 3);
        assert_eq!(s.net_resolve_rate, Some(0.75));
    }

    #[test]
    fn kaplan_meier_processes_fixes_before_censorings_at_tied_times() {
        // Durations: 5 (fix), 5 (censored), 8 (fix).
        // t=5: n=3 (the censored one still at risk), S = 2/3 ≈ 0.667
        // t=8: n=1, S = 0 → p50 = p90 = 8.
        // Censoring first would give n=2 at t=5 and S = 0.5 → p50 = 5.
        let samples = [(5.0, true), (5.0, false), (8.0, true)];
        assert_eq!(km_quantile(&samples, 0.5), Some(8.0));
        assert_eq!(km_quantile(&samples, 0.9), Some(8.0));
        // Ten fixes at 1..=10 days: S(9) = 0.1 up to rounding → p90 = 9.
        let ten: Vec<(f64, bool)> = (1..=10).map(|d| (f64::from(d), true)).collect();
        assert_eq!(km_quantile(&ten, 0.9), Some(9.0));
        assert_eq!(km_quantile(&ten, 0.5), Some(5.0));
        assert_eq!(km_quantile(&[], 0.5), None);
    }

    #[test]
    fn sla_compliance_and_breaches() {
        let findings = [
            // Critical, due day 8, fixed day 5: compliant.
            finding(
                "acme/a",
                "c1",
                vec![
                    with_severity(day(1), EventKind::Detected, Severity::Critical),
                    event(day(5), EventKind::Fixed),
                ],
            ),
            // Critical, due day 8, fixed day 12: late.
            finding(
                "acme/a",
                "c2",
                vec![
                    with_severity(day(1), EventKind::Detected, Severity::Critical),
                    event(day(12), EventKind::Fixed),
                ],
            ),
            // Info: no due date, fixed: compliant.
            finding(
                "acme/a",
                "i1",
                vec![
                    with_severity(day(1), EventKind::Detected, Severity::Info),
                    event(day(40), EventKind::Fixed),
                ],
            ),
            // High, due day 31: open past due on day 45.
            finding(
                "acme/b",
                "h1",
                vec![with_severity(day(1), EventKind::Detected, Severity::High)],
            ),
            // High, due day 50: due within 7 days of day 45.
            finding(
                "acme/b",
                "h2",
                vec![with_severity(day(20), EventKind::Detected, Severity::High)],
            ),
            // Medium, due day 110: neither.
            finding(
                "acme/c",
                "m1",
                vec![with_severity(
                    day(20),
                    EventKind::Detected,
                    Severity::Medium,
                )],
            ),
        ];
        let s = summary(&findings, &window(1, 45, 45));
        assert_eq!(s.fixed, 3);
        assert!(close(s.sla.compliance.unwrap(), 2.0 / 3.0));
        assert_eq!(s.sla.breached_open, 1);
        assert_eq!(s.sla.due_within_7_days, 1);
        assert_eq!(s.grade, Grade::D);
        assert_eq!(
            s.grade_reason,
            "D: 1 high finding open past its SLA in acme/b"
        );
        let names: Vec<(&str, Grade)> = s
            .repositories
            .iter()
            .map(|r| (r.repository.as_str(), r.grade))
            .collect();
        assert_eq!(
            names,
            [
                ("acme/b", Grade::D),
                ("acme/a", Grade::A),
                ("acme/c", Grade::A)
            ],
            "worst first, then by risk-days (acme/a: 27, acme/c: 12.5)"
        );
        let empty = summary(&[], &window(1, 45, 45));
        assert_eq!(empty.sla.compliance, None);
        assert_eq!(empty.mttr_days, None);
        assert_eq!(empty.net_resolve_rate, None);
        assert_eq!(empty.grade, Grade::A);
    }

    #[test]
    fn the_org_grade_is_its_worst_repositorys() {
        let findings = [
            finding(
                "acme/web",
                "h1",
                vec![with_severity(day(1), EventKind::Detected, Severity::High)],
            ),
            finding(
                "acme/api",
                "c1",
                vec![with_severity(
                    day(1),
                    EventKind::Detected,
                    Severity::Critical,
                )],
            ),
            finding(
                "acme/docs",
                "l1",
                vec![with_severity(day(1), EventKind::Detected, Severity::Low)],
            ),
        ];
        let s = summary(&findings, &window(1, 5, 5));
        let grades: Vec<Grade> = s.repositories.iter().map(|r| r.grade).collect();
        assert_eq!(grades, [Grade::C, Grade::B, Grade::A]);
        assert_eq!(s.grade, Grade::C);
        assert_eq!(
            s.grade_reason,
            "C: 1 critical finding open within its SLA in acme/api"
        );
        assert_eq!(
            s.repositories[2].grade_reason,
            "A: no critical or high findings open and none past its SLA in acme/docs"
        );
    }

    #[test]
    fn hotspots_cover_only_open_findings() {
        let upgrade = |to: &str| {
            Some(FixTarget {
                ecosystem: "npm".into(),
                package: "lodash".into(),
                to: to.into(),
            })
        };
        let mut a = finding("acme/a", "a", vec![event(day(1), EventKind::Detected)]);
        a.upgrade = upgrade("4.17.9");
        let mut b = finding("acme/b", "b", vec![event(day(1), EventKind::Detected)]);
        b.upgrade = upgrade("4.17.21");
        let mut fixed = finding(
            "acme/c",
            "c",
            vec![
                event(day(1), EventKind::Detected),
                event(day(2), EventKind::Fixed),
            ],
        );
        fixed.upgrade = upgrade("4.18.0");
        let s = summary(&[a, b, fixed], &window(1, 5, 5));
        assert_eq!(s.hotspots.len(), 1);
        assert_eq!(s.hotspots[0].to, "4.17.21");
        assert_eq!((s.hotspots[0].findings, s.hotspots[0].repositories), (2, 2));
    }
}
