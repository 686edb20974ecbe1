//! Time to fix as a Kaplan–Meier (product-limit) estimate, per severity ([`time_to_fix`]):
//! the share of findings still unfixed so many days after their first detection, with the
//! findings still open counted for as long as they have been observed.
//!
//! Definitions (the findings are those [`super::summarize`] counts: events after `as_of`
//! ignored, filters applied; `P = [window.from, end)` with `end = min(window.to, as_of)`,
//! which is `as_of` for a period ending now):
//!
//! * **Origin**: the finding's first `detected` event; a finding without one is left out.
//! * **Fixed (observed)**: a finding with a fix in `P` that is not present at `end`: its
//!   duration is its last fix in `P` minus its first detection.
//! * **Still open (censored)**: a finding open at `end`: censored at `end` minus its first
//!   detection (we know only that it took at least that long).
//! * **Dismissed or accepted (censored)**: a finding present at `end` but closed by triage,
//!   whose closing triage happened in `P`: censored at that triage minus its first detection.
//!   A dismissal is not a fix, and counting it as one would flatter time to fix; dropping it
//!   would bias the estimate the other way, so it leaves the risk set when it was triaged.
//! * Everything else (fixed before `P`, triaged before `P`) is not in the population, as for
//!   the summary's `ttr_p50_days`; without dismissed or accepted findings the median over all
//!   severities equals that figure.
//! * **Estimator**: `S(t) = Π (1 − dᵢ/nᵢ)` over the distinct fix durations `tᵢ ≤ t`, `dᵢ` the
//!   fixes at `tᵢ`, `nᵢ` the findings at risk just before `tᵢ` (durations `≥ tᵢ`); at tied
//!   durations fixes are processed before censorings (a finding censored at `tᵢ` was at risk).
//! * **Median**: the smallest fix duration with `S(t) ≤ 0.5` (within 1e-9); `None` when the
//!   curve never gets there.
//! * **Severity**: the finding's severity at `as_of`, as the filters read it.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::metrics::{days, period_end, select};
use super::{Filters, FindingHistory, Window};
use crate::model::Severity;
use crate::store::EventKind;

/// Slack for the median threshold: products such as 9/10 · 8/9 · … land a rounding error
/// away from 0.5.
const EPSILON: f64 = 1e-9;

/// One finding's time in the estimate.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Sample {
    /// Days from first detection to the fix (observed) or to when observation stopped.
    pub days: f64,
    /// `true`: fixed at `days`; `false`: censored (still open, dismissed or accepted).
    pub fixed: bool,
}

/// One step of the curve: at `day`, after its fixes, the estimated share still unfixed.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct StepPoint {
    pub day: f64,
    /// `S(day)`, from 1 down to 0.
    pub survival: f64,
    /// Findings at risk just before `day`.
    pub at_risk: u64,
    /// Fixes at `day`.
    pub fixed: u64,
    /// Censorings at `day`.
    pub censored: u64,
}

/// A Kaplan–Meier curve: its steps (the first at day 0 with survival 1 and everything at
/// risk, then one per distinct duration) and its median when reached.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Curve {
    pub points: Vec<StepPoint>,
    pub median_days: Option<f64>,
    /// Findings in the estimate.
    pub findings: u64,
    /// Of which fixed.
    pub fixed: u64,
}

/// The curve of one severity.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SeverityCurve {
    pub severity: Severity,
    pub curve: Curve,
}

/// The product-limit estimate over `samples`. See the module documentation.
pub fn kaplan_meier(samples: &[Sample]) -> Curve {
    let mut sorted = samples.to_vec();
    // Shortest first; at tied durations fixes before censorings.
    sorted.sort_by(|a, b| a.days.total_cmp(&b.days).then(b.fixed.cmp(&a.fixed)));
    let total = sorted.len() as u64;
    let mut points = vec![StepPoint {
        day: 0.0,
        survival: 1.0,
        at_risk: total,
        fixed: 0,
        censored: 0,
    }];
    let mut at_risk = total;
    let mut survival = 1.0;
    let mut median_days = None;
    let mut rest = sorted.as_slice();
    while let Some(first) = rest.first() {
        let t = first.days;
        let tied = rest.iter().take_while(|s| s.days == t).count();
        let (now, later) = rest.split_at(tied);
        let fixed = now.iter().filter(|s| s.fixed).count() as u64;
        let censored = tied as u64 - fixed;
        if fixed > 0 {
            survival *= 1.0 - fixed as f64 / at_risk as f64;
            if median_days.is_none() && survival <= 0.5 + EPSILON {
                median_days = Some(t);
            }
        }
        // A censoring at day 0 (detected at `end`) changes nothing but the risk set: it
        // joins the first point rather than repeating it.
        match points.last_mut() {
            Some(last) if last.day == t => {
                last.fixed += fixed;
                last.censored += censored;
                last.survival = survival;
            }
            _ => points.push(StepPoint {
                day: t,
                survival,
                at_risk,
                fixed,
                censored,
            }),
        }
        at_risk -= tied as u64;
        rest = later;
    }
    Curve {
        points,
        median_days,
        findings: total,
        fixed: samples.iter().filter(|s| s.fixed).count() as u64,
    }
}

/// The population's samples by severity. See the module documentation.
pub fn samples(
    findings: &[FindingHistory],
    window: &Window,
    filters: &Filters,
) -> Vec<(Severity, Sample)> {
    let from = window.from;
    let end = period_end(window);
    let mut samples = Vec::new();
    for tracked in select(findings, window, filters) {
        let timeline = &tracked.timeline;
        let Some(first) = timeline.first_detected() else {
            continue;
        };
        let sample = if let Some(fix) = timeline.last_fix_in(from, end)
            && !timeline.present_at(end)
        {
            Some(Sample {
                days: days(fix - first),
                fixed: true,
            })
        } else if timeline.open_at(end) {
            Some(Sample {
                days: days(end - first),
                fixed: false,
            })
        } else if timeline.present_at(end) && timeline.triage_at(end).closes() {
            closing_triage(timeline.events(), from, end).map(|at| Sample {
                days: days(at - first).max(0.0),
                fixed: false,
            })
        } else {
            None
        };
        if let Some(sample) = sample {
            samples.push((tracked.severity, sample));
        }
    }
    samples
}

/// The last triage event in `[from, end)` that closes a finding (dismissal or acceptance).
fn closing_triage(
    events: &[super::HistoryEvent],
    from: DateTime<Utc>,
    end: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    events
        .iter()
        .filter(|e| from <= e.at && e.at < end)
        .filter(|e| {
            matches!(
                e.kind,
                EventKind::Dismissed | EventKind::Accepted | EventKind::Approved
            )
        })
        .map(|e| e.at)
        .next_back()
}

/// Time to fix per severity, most severe first, for the severities with at least one
/// finding in the population.
pub fn time_to_fix(
    findings: &[FindingHistory],
    window: &Window,
    filters: &Filters,
) -> Vec<SeverityCurve> {
    let all = samples(findings, window, filters);
    Severity::ALL
        .iter()
        .filter_map(|&severity| {
            let of: Vec<Sample> = all
                .iter()
                .filter(|(s, _)| *s == severity)
                .map(|(_, sample)| *sample)
                .collect();
            (!of.is_empty()).then(|| SeverityCurve {
                severity,
                curve: kaplan_meier(&of),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::timeline::tests::{day, event, with_reason, with_severity};
    use super::*;
    use crate::history::HistoryEvent;
    use crate::model::{FindingId, Kind};

    fn sample(days: f64, fixed: bool) -> Sample {
        Sample { days, fixed }
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-4
    }

    /// Freireich et al. (1963), the 6-MP arm, as every survival textbook reworks it (Kleinbaum
    /// & Klein, *Survival Analysis*, table 2.1): weeks in remission, `+` censored.
    /// 6 6 6 6+ 7 9+ 10 10+ 11+ 13 16 17+ 19+ 20+ 22 23 25+ 32+ 32+ 34+ 35+.
    fn freireich() -> Vec<Sample> {
        let fixed = [6.0, 6.0, 6.0, 7.0, 10.0, 13.0, 16.0, 22.0, 23.0];
        let censored = [
            6.0, 9.0, 10.0, 11.0, 17.0, 19.0, 20.0, 25.0, 32.0, 32.0, 34.0, 35.0,
        ];
        fixed
            .iter()
            .map(|&d| sample(d, true))
            .chain(censored.iter().map(|&d| sample(d, false)))
            .collect()
    }

    #[test]
    fn the_textbook_example_gives_the_textbook_estimates() {
        let curve = kaplan_meier(&freireich());
        assert_eq!(curve.findings, 21);
        assert_eq!(curve.fixed, 9);
        // (day, n at risk, S(t)) at each fix, hand-computed:
        // 6: 21, 18/21 = .8571; 7: 17, ×16/17 = .8067; 10: 15, ×14/15 = .7529;
        // 13: 12, ×11/12 = .6902; 16: 11, ×10/11 = .6275; 22: 7, ×6/7 = .5378;
        // 23: 6, ×5/6 = .4482.
        let expected = [
            (6.0, 21, 0.8571),
            (7.0, 17, 0.8067),
            (10.0, 15, 0.7529),
            (13.0, 12, 0.6902),
            (16.0, 11, 0.6275),
            (22.0, 7, 0.5378),
            (23.0, 6, 0.4482),
        ];
        for (t, n, s) in expected {
            let point = curve
                .points
                .iter()
                .find(|p| p.day == t)
                .unwrap_or_else(|| panic!("no step at {t}"));
            assert_eq!(point.at_risk, n, "at risk at {t}");
            assert!(close(point.survival, s), "S({t}) = {}", point.survival);
        }
        // Day 0, then one point per distinct duration (16 of them).
        assert_eq!(curve.points.len(), 17);
        assert_eq!(curve.points[0].survival, 1.0);
        assert_eq!(curve.points[0].at_risk, 21);
        // Censorings keep the level: S(35) = S(23).
        let last = curve.points.last().unwrap();
        assert_eq!((last.day, last.censored, last.at_risk), (35.0, 1, 1));
        assert!(close(last.survival, 0.4482));
        assert_eq!(curve.median_days, Some(23.0));
    }

    #[test]
    fn ties_count_fixes_before_censorings_and_an_unreached_median_is_none() {
        // 6: three fixes and one censoring share the day: n = 4 at risk, S = 1/4.
        let curve = kaplan_meier(&[
            sample(6.0, false),
            sample(6.0, true),
            sample(6.0, true),
            sample(6.0, true),
        ]);
        assert_eq!(curve.points.len(), 2);
        assert_eq!(curve.points[1].at_risk, 4);
        assert!(close(curve.points[1].survival, 0.25));
        assert_eq!(curve.median_days, Some(6.0));
        // One fix in four: S = 3/4 and no median.
        let curve = kaplan_meier(&[
            sample(1.0, true),
            sample(2.0, false),
            sample(3.0, false),
            sample(4.0, false),
        ]);
        assert!(close(curve.points[1].survival, 0.75));
        assert_eq!(curve.median_days, None);
        // Nothing: one point at 1 with nobody at risk.
        let curve = kaplan_meier(&[]);
        assert_eq!(curve.points.len(), 1);
        assert_eq!((curve.findings, curve.median_days), (0, None));
        // Exactly one half: 1/2 is reached at the first fix.
        let curve = kaplan_meier(&[sample(2.0, true), sample(5.0, false)]);
        assert_eq!(curve.median_days, Some(2.0));
    }

    fn finding(id: &str, events: Vec<HistoryEvent>) -> FindingHistory {
        FindingHistory {
            repository: "acme/shop".into(),
            finding_id: FindingId(id.to_owned()),
            kind: Kind::Sca,
            tools: vec!["osv-scanner".into()],
            rule: format!("GHSA-{id}"),
            risk_score: 50,
            advisories: vec![],
            kev: false,
            upgrade: None,
            owner: None,
            events,
        }
    }

    #[test]
    fn open_dismissed_and_accepted_findings_are_censored_and_fixes_observed() {
        let high = |d| with_severity(day(d), EventKind::Detected, Severity::High);
        let findings = [
            // Fixed after 4 days: observed 4.
            finding("fixed", vec![high(1), event(day(5), EventKind::Fixed)]),
            // Still open at as_of (day 21): censored at 20.
            finding("open", vec![high(1)]),
            // Dismissed on day 11: censored at 10, not a fix.
            finding(
                "dismissed",
                vec![high(1), event(day(11), EventKind::Dismissed)],
            ),
            // Accepted through an approval on day 4: censored at 2.
            finding(
                "accepted",
                vec![
                    high(2),
                    with_reason(day(4), EventKind::Approved, "accepted_risk"),
                ],
            ),
            // Fixed before the period: not in the population.
            finding("old", vec![high(-10), event(day(-5), EventKind::Fixed)]),
            // Reintroduced and present at the end: open, censored from first detection.
            finding(
                "back",
                vec![
                    high(3),
                    event(day(6), EventKind::Fixed),
                    with_severity(day(8), EventKind::Reintroduced, Severity::High),
                ],
            ),
            // A critical one, fixed after 2 days.
            finding(
                "critical",
                vec![
                    with_severity(day(1), EventKind::Detected, Severity::Critical),
                    event(day(3), EventKind::Fixed),
                ],
            ),
        ];
        let window = Window {
            from: day(0),
            to: day(21),
            as_of: day(21),
        };
        let mut got: Vec<(Severity, f64, bool)> = samples(&findings, &window, &Filters::default())
            .into_iter()
            .map(|(s, x)| (s, x.days, x.fixed))
            .collect();
        got.sort_by(|a, b| a.1.total_cmp(&b.1).then(b.2.cmp(&a.2)));
        assert_eq!(
            got,
            [
                (Severity::Critical, 2.0, true),
                (Severity::High, 2.0, false),
                (Severity::High, 4.0, true),
                (Severity::High, 10.0, false),
                (Severity::High, 18.0, false),
                (Severity::High, 20.0, false),
            ]
        );
        let curves = time_to_fix(&findings, &window, &Filters::default());
        let severities: Vec<Severity> = curves.iter().map(|c| c.severity).collect();
        assert_eq!(severities, [Severity::Critical, Severity::High]);
        assert_eq!(curves[0].curve.median_days, Some(2.0));
        // High: 5 findings; the fix at 4 has 4 at risk (the one censored at 2 left): S = 3/4.
        let high = &curves[1].curve;
        assert_eq!((high.findings, high.fixed), (5, 1));
        let step = high.points.iter().find(|p| p.day == 4.0).unwrap();
        assert_eq!(step.at_risk, 4);
        assert!(close(step.survival, 0.75));
        assert_eq!(high.median_days, None);
        // Filters apply: only the critical one.
        let filters = Filters {
            severity: Some(Severity::Critical),
            ..Filters::default()
        };
        assert_eq!(time_to_fix(&findings, &window, &filters).len(), 1);
    }
}
