//! Time series of one metric over the period, in day, week or month buckets, in all and by
//! group ([`timeseries`]).
//!
//! Definitions (the findings are those [`super::summarize`] counts: events after `as_of`
//! ignored, filters applied; `end = min(window.to, window.as_of)`):
//!
//! * **Buckets** cover `[window.from, end)`: `day` = 24-hour buckets from `from`; `week` =
//!   7-day buckets from `from`; `month` = calendar months: the first bucket starts at
//!   `from`, the later ones at the 1st of each month 00:00 UTC. The last bucket ends at `end`
//!   (it may be shorter). No bucket when `from ≥ end`.
//! * For each bucket `[s, e)`:
//!   * `open`: the findings open *at* `e`, the instant: the state after every event at or
//!     before `e`, as `summarize` reads `open` at `as_of` (so the last bucket's value is the
//!     summary's open total when `to ≥ as_of`);
//!   * `new`: findings whose first `detected` event is in `[s, e)`;
//!   * `fixed`: distinct findings with a `fixed` event in `[s, e)`;
//!   * `risk_days`: Σ risk score × days open within `[s, e)` ÷ 100 (the buckets add up to the
//!     summary's `risk_days`);
//!   * `sla_breached`: findings open at `e` whose due date (first detection + the SLA days of
//!     their severity at `e`) is before `e`: the summary's `breached_open` as of `e`.
//! * **Groups**: by the finding's severity at `as_of` (the one filters use), repository, or
//!   kind; keys are `Severity::as_str`, the repository, `Kind::as_str`. Every bucket lists
//!   every group that has a finding in the series (0 where it has nothing), so that series
//!   line up; the map is empty without a grouping.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Datelike, NaiveDate, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

use super::metrics::{Tracked, period_end, select};
use super::{Filters, FindingHistory, Point, SlaPolicy, Window};
use crate::store::EventKind;

/// Text enums of the time series' query parameters: `as_str`, `Display`, and `FromStr` with
/// an error listing the choices.
macro_rules! choice {
    ($(#[$meta:meta])* $name:ident, $what:literal { $($(#[$vmeta:meta])* $variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum $name {
            $($(#[$vmeta])* #[serde(rename = $text)] $variant),+
        }

        impl $name {
            /// Every choice, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The query-string (and JSON) spelling.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = String;

            fn from_str(value: &str) -> Result<Self, String> {
                let wanted = value.trim().to_ascii_lowercase();
                $name::ALL
                    .iter()
                    .copied()
                    .find(|choice| choice.as_str() == wanted)
                    .ok_or_else(|| {
                        let choices: Vec<&str> = $name::ALL.iter().map(|c| c.as_str()).collect();
                        format!(
                            "unknown {} `{value}` (expected one of: {})",
                            $what,
                            choices.join(", ")
                        )
                    })
            }
        }
    };
}

choice! {
    /// What a time series measures.
    Metric, "metric" {
        /// Findings open at the end of each bucket.
        Open => "open",
        /// First detections in each bucket.
        New => "new",
        /// Findings fixed in each bucket.
        Fixed => "fixed",
        /// Risk-days accrued in each bucket.
        RiskDays => "risk_days",
        /// Findings open past their SLA at the end of each bucket.
        SlaBreached => "sla_breached",
    }
}

choice! {
    /// How long a time series' buckets are.
    Interval, "interval" {
        Day => "day",
        Week => "week",
        /// Calendar months (UTC).
        Month => "month",
    }
}

choice! {
    /// What a time series is broken down by.
    GroupBy, "group_by" {
        /// The finding's severity at `as_of`.
        Severity => "severity",
        Repository => "repository",
        Kind => "kind",
    }
}

/// The buckets `[s, e)` covering `[from, end)`.
fn buckets(
    from: DateTime<Utc>,
    end: DateTime<Utc>,
    interval: Interval,
) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
    let mut buckets = Vec::new();
    let mut start = from;
    while start < end {
        let next = match interval {
            Interval::Day => start.checked_add_signed(TimeDelta::days(1)),
            Interval::Week => start.checked_add_signed(TimeDelta::days(7)),
            Interval::Month => next_month(start),
        };
        // Past chrono's range there is no next bucket: the last one runs to `end`.
        let stop = next.map_or(end, |next| next.min(end));
        buckets.push((start, stop));
        start = stop;
    }
    buckets
}

/// The 1st of the month after `t`'s, 00:00 UTC.
fn next_month(t: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let (year, month) = match t.month() {
        12 => (t.year().checked_add(1)?, 1),
        month => (t.year(), month + 1),
    };
    Some(
        NaiveDate::from_ymd_opt(year, month, 1)?
            .and_hms_opt(0, 0, 0)?
            .and_utc(),
    )
}

/// A finding's group key.
fn group_key(tracked: &Tracked<'_>, group_by: GroupBy) -> String {
    match group_by {
        GroupBy::Severity => tracked.severity.as_str().to_owned(),
        GroupBy::Repository => tracked.finding.repository.clone(),
        GroupBy::Kind => tracked.finding.kind.as_str().to_owned(),
    }
}

/// `metric` over `window` in `interval` buckets, optionally by group. See the module
/// documentation for the definitions.
pub fn timeseries(
    findings: &[FindingHistory],
    window: &Window,
    filters: &Filters,
    sla: &SlaPolicy,
    metric: Metric,
    interval: Interval,
    group_by: Option<GroupBy>,
) -> Vec<Point> {
    let tracked: Vec<(Tracked<'_>, Option<String>)> = select(findings, window, filters)
        .into_iter()
        .map(|t| {
            let key = group_by.map(|g| group_key(&t, g));
            (t, key)
        })
        .collect();
    let keys: BTreeSet<&str> = tracked.iter().filter_map(|(_, k)| k.as_deref()).collect();
    let count = |yes: bool| if yes { 1.0 } else { 0.0 };

    buckets(window.from, period_end(window), interval)
        .into_iter()
        .map(|(start, end)| {
            let mut value = 0.0;
            let mut groups: BTreeMap<String, f64> =
                keys.iter().map(|k| ((*k).to_owned(), 0.0)).collect();
            for (finding, key) in &tracked {
                let timeline = &finding.timeline;
                let v = match metric {
                    Metric::Open => count(timeline.open_at(end)),
                    Metric::New => count(
                        timeline
                            .first_detected()
                            .is_some_and(|first| start <= first && first < end),
                    ),
                    Metric::Fixed => count(timeline.has_event_in(EventKind::Fixed, start, end)),
                    Metric::RiskDays => finding.risk_days(start, end),
                    Metric::SlaBreached => count(finding.breached_at(end, sla)),
                };
                value += v;
                if let Some(group) = key.as_deref().and_then(|k| groups.get_mut(k)) {
                    *group += v;
                }
            }
            Point {
                start,
                end,
                value,
                groups,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::super::timeline::tests::{day, event, with_severity};
    use super::*;
    use crate::history::{HistoryEvent, summarize};
    use crate::model::{FindingId, Kind, Severity};

    fn finding(
        repository: &str,
        id: &str,
        kind: Kind,
        events: Vec<HistoryEvent>,
    ) -> FindingHistory {
        FindingHistory {
            repository: repository.to_owned(),
            finding_id: FindingId(id.to_owned()),
            kind,
            tools: vec!["semgrep".into()],
            rule: id.to_owned(),
            risk_score: 40,
            advisories: Vec::new(),
            kev: false,
            upgrade: None,
            owner: None,
            events,
        }
    }

    fn findings() -> Vec<FindingHistory> {
        vec![
            // Critical on day 1, fixed on day 3.
            finding(
                "acme/a",
                "f1",
                Kind::Sast,
                vec![
                    with_severity(day(1), EventKind::Detected, Severity::Critical),
                    event(day(3), EventKind::Fixed),
                ],
            ),
            // High on day 2, still open; due on day 32.
            finding(
                "acme/a",
                "f2",
                Kind::Sca,
                vec![with_severity(day(2), EventKind::Detected, Severity::High)],
            ),
            // Critical on day 5, still open; due on day 12.
            finding(
                "acme/b",
                "f3",
                Kind::Sca,
                vec![with_severity(
                    day(5),
                    EventKind::Detected,
                    Severity::Critical,
                )],
            ),
        ]
    }

    fn window(from: i64, to: i64, as_of: i64) -> Window {
        Window {
            from: day(from),
            to: day(to),
            as_of: day(as_of),
        }
    }

    fn series(
        metric: Metric,
        interval: Interval,
        group_by: Option<GroupBy>,
        window: &Window,
    ) -> Vec<Point> {
        timeseries(
            &findings(),
            window,
            &Filters::default(),
            &SlaPolicy::default(),
            metric,
            interval,
            group_by,
        )
    }

    fn values(points: &[Point]) -> Vec<f64> {
        points.iter().map(|p| p.value).collect()
    }

    #[test]
    fn day_buckets_count_new_fixed_and_open() {
        let w = window(1, 7, 20);
        let new = series(Metric::New, Interval::Day, None, &w);
        assert_eq!(new.len(), 6);
        assert_eq!((new[0].start, new[0].end), (day(1), day(2)));
        assert_eq!((new[5].start, new[5].end), (day(6), day(7)));
        assert_eq!(values(&new), [1.0, 1.0, 0.0, 0.0, 1.0, 0.0]);
        assert!(new[0].groups.is_empty());
        let fixed = series(Metric::Fixed, Interval::Day, None, &w);
        assert_eq!(values(&fixed), [0.0, 0.0, 1.0, 0.0, 0.0, 0.0]);
        // Open at each bucket's end instant, events at that instant included: day 2 → f1
        // and f2 (detected on day 2); day 3 → f2 (f1 fixed on day 3); day 5 → f2, f3.
        let open = series(Metric::Open, Interval::Day, None, &w);
        assert_eq!(values(&open), [2.0, 1.0, 1.0, 2.0, 2.0, 2.0]);
    }

    #[test]
    fn week_buckets_end_at_the_period_end() {
        let w = window(1, 18, 18);
        let points = series(Metric::New, Interval::Week, None, &w);
        let bounds: Vec<_> = points.iter().map(|p| (p.start, p.end)).collect();
        assert_eq!(
            bounds,
            [(day(1), day(8)), (day(8), day(15)), (day(15), day(18))]
        );
        assert_eq!(values(&points), [3.0, 0.0, 0.0]);
        assert!(series(Metric::New, Interval::Week, None, &window(5, 5, 5)).is_empty());
    }

    #[test]
    fn month_buckets_follow_the_calendar() {
        let from = Utc.with_ymd_and_hms(2024, 11, 15, 12, 0, 0).unwrap();
        let end = Utc.with_ymd_and_hms(2025, 2, 10, 0, 0, 0).unwrap();
        let at = |y, m, d| Utc.with_ymd_and_hms(y, m, d, 0, 0, 0).unwrap();
        assert_eq!(
            buckets(from, end, Interval::Month),
            [
                (from, at(2024, 12, 1)),
                (at(2024, 12, 1), at(2025, 1, 1)),
                (at(2025, 1, 1), at(2025, 2, 1)),
                (at(2025, 2, 1), end),
            ]
        );
        let w = Window {
            from,
            to: end,
            as_of: end,
        };
        let points = series(Metric::New, Interval::Month, None, &w);
        assert_eq!(values(&points), [0.0, 0.0, 3.0, 0.0]);
    }

    #[test]
    fn groups_split_the_value_and_line_up_across_buckets() {
        let w = window(1, 7, 20);
        let points = series(Metric::Open, Interval::Day, Some(GroupBy::Severity), &w);
        // At the end of day 2 (day 3): f1 fixed, f3 not yet detected, f2 open.
        let second: Vec<(&str, f64)> = points[1]
            .groups
            .iter()
            .map(|(k, v)| (k.as_str(), *v))
            .collect();
        assert_eq!(second, [("critical", 0.0), ("high", 1.0)]);
        assert_eq!(points[0].groups["critical"], 1.0);
        assert_eq!(points[5].groups["critical"], 1.0);
        assert_eq!(points[5].groups["high"], 1.0);
        let by_repo = series(Metric::New, Interval::Week, Some(GroupBy::Repository), &w);
        assert_eq!(by_repo[0].groups["acme/a"], 2.0);
        assert_eq!(by_repo[0].groups["acme/b"], 1.0);
        let by_kind = series(Metric::New, Interval::Week, Some(GroupBy::Kind), &w);
        assert_eq!(by_kind[0].groups["sca"], 2.0);
        assert_eq!(by_kind[0].groups["sast"], 1.0);
    }

    #[test]
    fn risk_days_add_up_and_levels_match_the_summary() {
        let w = window(1, 40, 40);
        let sla = SlaPolicy::default();
        let summary = summarize("acme", &findings(), &w, &Filters::default(), &sla);
        let risk = series(Metric::RiskDays, Interval::Week, None, &w);
        let total: f64 = values(&risk).iter().sum();
        // f1: 2 days, f2: 38 days, f3: 35 days; × 40 / 100.
        assert!((total - 75.0 * 0.4).abs() < 1e-9, "{total}");
        assert!((total - summary.risk_days).abs() < 1e-9);
        // First week [1, 8): f1 2 days, f2 6 days, f3 3 days = 11 days × 0.4.
        assert!((risk[0].value - 4.4).abs() < 1e-9, "{}", risk[0].value);
        let open = series(Metric::Open, Interval::Week, None, &w);
        assert_eq!(
            open.last().map(|p| p.value),
            Some(summary.open.total as f64)
        );
        let breached = series(Metric::SlaBreached, Interval::Week, None, &w);
        // Week ends: day 8 (f3 due day 12: no), 15 (f3 past due), 22, 29 (f2 due 32: no),
        // 36 (both), 40 (both).
        assert_eq!(values(&breached), [0.0, 1.0, 1.0, 1.0, 2.0, 2.0]);
        assert_eq!(
            breached.last().map(|p| p.value),
            Some(summary.sla.breached_open as f64)
        );
    }

    #[test]
    fn choices_parse_and_serialize_as_documented() {
        assert_eq!("risk_days".parse::<Metric>(), Ok(Metric::RiskDays));
        assert_eq!(" Week ".parse::<Interval>(), Ok(Interval::Week));
        assert_eq!("kind".parse::<GroupBy>(), Ok(GroupBy::Kind));
        assert_eq!(
            "risk".parse::<Metric>(),
            Err(
                "unknown metric `risk` (expected one of: open, new, fixed, risk_days, \
                 sla_breached)"
                    .to_owned()
            )
        );
        assert_eq!(
            "year".parse::<Interval>().unwrap_err(),
            "unknown interval `year` (expected one of: day, week, month)"
        );
        assert!(
            "tool"
                .parse::<GroupBy>()
                .unwrap_err()
                .contains("severity, repository, kind")
        );
        assert_eq!(
            serde_json::to_string(&Metric::SlaBreached).unwrap(),
            "\"sla_breached\""
        );
        assert_eq!(
            serde_json::from_str::<Metric>("\"risk_days\"").unwrap(),
            Metric::RiskDays
        );
        assert_eq!(
            serde_json::to_string(&Interval::Month).unwrap(),
            "\"month\""
        );
        assert_eq!(GroupBy::Repository.as_str(), "repository");
        assert_eq!(Metric::SlaBreached.to_string(), "sla_breached");
    }
}
