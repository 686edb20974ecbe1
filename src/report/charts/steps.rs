//! Time to fix by severity: the Kaplan–Meier step curves (share still unfixed against days
//! since first detection), one per severity with its own colour and dash pattern, a tick
//! where findings were censored and a direct label with the median.

use super::{
    Chart, DataTable, Frame, WIDTH, escape, nice_max, no_data, number, open_svg, severity_style,
    spread,
};
use crate::history::SeverityCurve;

const HEIGHT: f64 = 320.0;

/// "median 12 days" or "median not reached".
fn median(curve: &SeverityCurve) -> String {
    match curve.curve.median_days {
        Some(days) => format!("median {} days", number(days)),
        None => "median not reached".to_owned(),
    }
}

/// The chart of `curves` (from [`crate::history::time_to_fix`]).
pub fn time_to_fix(id: &str, curves: &[SeverityCurve]) -> Chart {
    let title = "Time to fix by severity (Kaplan–Meier)".to_owned();
    let desc = if curves.is_empty() {
        "Time to fix: no finding to estimate it from in this period.".to_owned()
    } else {
        let parts: Vec<String> = curves
            .iter()
            .map(|c| {
                format!(
                    "{} {} ({} of {} fixed)",
                    c.severity.as_str(),
                    median(c),
                    c.curve.fixed,
                    c.curve.findings
                )
            })
            .collect();
        format!(
            "Share of findings still unfixed by days since detection: {}.",
            parts.join("; ")
        )
    };
    let rows = curves
        .iter()
        .flat_map(|c| {
            c.curve.points.iter().map(move |p| {
                vec![
                    c.severity.as_str().to_owned(),
                    number(p.day),
                    format!("{}%", number(p.survival * 100.0)),
                    p.at_risk.to_string(),
                    p.fixed.to_string(),
                    p.censored.to_string(),
                ]
            })
        })
        .collect();

    let mut svg = open_svg(id, HEIGHT, &title, &desc);
    if curves.is_empty() {
        svg.push_str(&no_data(HEIGHT));
    } else {
        let last_day = curves
            .iter()
            .flat_map(|c| c.curve.points.iter().map(|p| p.day))
            .fold(0.0, f64::max);
        let x_max = nice_max(last_day);
        let frame = Frame {
            left: 48.0,
            top: 16.0,
            width: WIDTH - 48.0 - 190.0,
            height: HEIGHT - 16.0 - 48.0,
            y_max: 1.0,
        };
        let x = |day: f64| frame.left + (day / x_max).clamp(0.0, 1.0) * frame.width;
        svg.push_str(&frame.y_axis(4, |v| format!("{}%", number(v * 100.0))));
        svg.push_str("<g class=\"axis\" aria-hidden=\"true\">");
        for i in 0..=4 {
            let day = x_max * f64::from(i) / 4.0;
            svg.push_str(&format!(
                "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" fill=\"#374151\">{}</text>",
                x(day),
                frame.bottom() + 18.0,
                number(day)
            ));
        }
        svg.push_str(&format!(
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" fill=\"#374151\">days since first detection</text></g>",
            frame.left + frame.width / 2.0,
            frame.bottom() + 38.0
        ));
        let ends: Vec<f64> = curves
            .iter()
            .map(|c| frame.y(c.curve.points.last().map_or(1.0, |p| p.survival)))
            .collect();
        let labels = spread(&ends, 14.0, frame.top + 4.0, frame.bottom());
        for (k, c) in curves.iter().enumerate() {
            let (colour, dash) = severity_style(c.severity);
            let mut path = format!("M{:.1},{:.1}", x(0.0), frame.y(1.0));
            for p in &c.curve.points {
                path.push_str(&format!(" H{:.1} V{:.1}", x(p.day), frame.y(p.survival)));
            }
            svg.push_str(&format!(
                "<g class=\"curve\" data-severity=\"{name}\"><path class=\"steps\" fill=\"none\" \
                 stroke=\"{colour}\" stroke-width=\"2.5\" stroke-dasharray=\"{dash}\" d=\"{path}\"/>",
                name = c.severity.as_str()
            ));
            for p in c.curve.points.iter().filter(|p| p.censored > 0) {
                let (cx, cy) = (x(p.day), frame.y(p.survival));
                svg.push_str(&format!(
                    "<line class=\"censor\" x1=\"{cx:.1}\" y1=\"{:.1}\" x2=\"{cx:.1}\" y2=\"{:.1}\" \
                     stroke=\"{colour}\" stroke-width=\"2\"/>",
                    cy - 5.0,
                    cy + 5.0
                ));
            }
            svg.push_str(&format!(
                "<text class=\"label\" x=\"{:.1}\" y=\"{:.1}\" fill=\"{colour}\">{}</text></g>",
                frame.left + frame.width + 8.0,
                labels[k] + 4.0,
                escape(&format!("{} {}", c.severity.as_str(), median(c)))
            ));
        }
    }
    svg.push_str("</svg>");
    Chart {
        id: id.to_owned(),
        title,
        desc,
        svg,
        table: DataTable {
            caption: "Kaplan–Meier estimate of the share still unfixed (open, dismissed and \
                      accepted findings censored)"
                .to_owned(),
            columns: [
                "Severity",
                "Day",
                "Still unfixed",
                "At risk",
                "Fixed",
                "Censored",
            ]
            .map(str::to_owned)
            .to_vec(),
            rows,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{count, parse};
    use super::*;
    use crate::history::survival::{Sample, kaplan_meier};
    use crate::model::Severity;

    fn curve(severity: Severity, samples: &[(f64, bool)]) -> SeverityCurve {
        let samples: Vec<Sample> = samples
            .iter()
            .map(|&(days, fixed)| Sample { days, fixed })
            .collect();
        SeverityCurve {
            severity,
            curve: kaplan_meier(&samples),
        }
    }

    #[test]
    fn one_step_curve_per_severity_with_censor_ticks_and_medians_in_words() {
        let curves = [
            curve(
                Severity::Critical,
                &[(2.0, true), (3.0, true), (9.0, false)],
            ),
            curve(Severity::High, &[(4.0, true), (20.0, false), (20.0, false)]),
        ];
        let chart = time_to_fix("ttf", &curves);
        let doc = parse(&chart);
        assert_eq!(count(&doc, "curve"), 2);
        assert_eq!(count(&doc, "steps"), 2);
        assert_eq!(count(&doc, "censor"), 2, "one tick per censoring day");
        assert_eq!(
            chart.desc,
            "Share of findings still unfixed by days since detection: critical median 3 days \
             (2 of 3 fixed); high median not reached (1 of 3 fixed)."
        );
        // Day 0 and three durations for critical, day 0 and two for high.
        assert_eq!(chart.table.rows.len(), 7);
        assert_eq!(
            chart.table.rows[2],
            ["critical", "3", "33.3%", "2", "1", "0"]
        );
        // The critical curve drops to a third: one H/V pair per point after the start.
        let d = doc
            .descendants()
            .find(|n| n.attribute("class") == Some("steps"))
            .and_then(|n| n.attribute("d"))
            .unwrap();
        assert_eq!(d.matches('H').count(), 4);
    }

    #[test]
    fn no_curve_no_steps() {
        let chart = time_to_fix("ttf", &[]);
        assert_eq!(count(&parse(&chart), "steps"), 0);
        assert!(chart.desc.contains("no finding"));
    }
}
