//! Open findings by severity over time: one line per severity (its own colour and dash
//! pattern, labelled at its end with name and last value), one marker per bucket.

use super::{
    Chart, DataTable, Frame, WIDTH, date, escape, nice_max, no_data, number, open_svg,
    severity_style, spread,
};
use crate::history::Point;
use crate::model::Severity;

const HEIGHT: f64 = 320.0;

/// The chart of `series`, the `open` time series grouped by severity (groups keyed by
/// `Severity::as_str`); a bucket's value is read at its end.
pub fn open_by_severity(id: &str, series: &[Point]) -> Chart {
    let title = "Open findings by severity".to_owned();
    let severities: Vec<Severity> = Severity::ALL
        .into_iter()
        .filter(|s| series.iter().any(|p| p.groups.contains_key(s.as_str())))
        .collect();
    let value = |point: &Point, severity: Severity| -> f64 {
        point.groups.get(severity.as_str()).copied().unwrap_or(0.0)
    };

    let desc = match (series.first(), series.last()) {
        (Some(first), Some(last)) => {
            let by_severity: Vec<String> = severities
                .iter()
                .map(|&s| format!("{} {}", number(value(last, s)), s.as_str()))
                .collect();
            // The first bucket with the most.
            let peak = series
                .iter()
                .fold(first, |peak, p| if p.value > peak.value { p } else { peak });
            format!(
                "Open findings from {} to {}: {} open at the end ({}); the most, {}, on {}.",
                date(first.start),
                date(last.end),
                number(last.value),
                if by_severity.is_empty() {
                    "none".to_owned()
                } else {
                    by_severity.join(", ")
                },
                number(peak.value),
                date(peak.end)
            )
        }
        _ => "Open findings by severity: no data in this period.".to_owned(),
    };

    let mut columns = vec!["Date".to_owned()];
    columns.extend(severities.iter().map(|s| s.as_str().to_owned()));
    columns.push("Total".to_owned());
    let rows = series
        .iter()
        .map(|p| {
            let mut row = vec![date(p.end)];
            row.extend(severities.iter().map(|&s| number(value(p, s))));
            row.push(number(p.value));
            row
        })
        .collect();

    let mut svg = open_svg(id, HEIGHT, &title, &desc);
    if series.is_empty() {
        svg.push_str(&no_data(HEIGHT));
    } else {
        let max = series
            .iter()
            .flat_map(|p| severities.iter().map(move |&s| value(p, s)))
            .fold(0.0, f64::max);
        let frame = Frame {
            left: 48.0,
            top: 16.0,
            width: WIDTH - 48.0 - 130.0,
            height: HEIGHT - 16.0 - 44.0,
            y_max: nice_max(max),
        };
        svg.push_str(&frame.y_axis(frame.count_ticks(), number));
        let step = if series.len() > 1 {
            frame.width / (series.len() - 1) as f64
        } else {
            0.0
        };
        let x = |i: usize| frame.left + step * i as f64;
        // Dates under the axis: at most 6, evenly spaced.
        let every = series.len().div_ceil(6).max(1);
        svg.push_str("<g class=\"axis\" aria-hidden=\"true\">");
        for (i, point) in series.iter().enumerate().step_by(every) {
            svg.push_str(&format!(
                "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" fill=\"#374151\">{}</text>",
                x(i),
                frame.bottom() + 18.0,
                escape(&date(point.end))
            ));
        }
        svg.push_str("</g>");
        let ends: Vec<f64> = severities
            .iter()
            .map(|&s| frame.y(series.last().map_or(0.0, |p| value(p, s))))
            .collect();
        let labels = spread(&ends, 14.0, frame.top + 4.0, frame.bottom());
        for (k, &severity) in severities.iter().enumerate() {
            let (colour, dash) = severity_style(severity);
            let coords: Vec<String> = series
                .iter()
                .enumerate()
                .map(|(i, p)| format!("{:.1},{:.1}", x(i), frame.y(value(p, severity))))
                .collect();
            svg.push_str(&format!(
                "<g class=\"series\" data-severity=\"{name}\"><polyline fill=\"none\" \
                 stroke=\"{colour}\" stroke-width=\"2.5\" stroke-dasharray=\"{dash}\" points=\"{}\"/>",
                coords.join(" "),
                name = severity.as_str()
            ));
            for (i, p) in series.iter().enumerate() {
                svg.push_str(&format!(
                    "<circle class=\"point\" cx=\"{:.1}\" cy=\"{:.1}\" r=\"3\" fill=\"{colour}\"/>",
                    x(i),
                    frame.y(value(p, severity))
                ));
            }
            let last = series.last().map_or(0.0, |p| value(p, severity));
            svg.push_str(&format!(
                "<text class=\"label\" x=\"{:.1}\" y=\"{:.1}\" fill=\"{colour}\">{} {}</text></g>",
                frame.left + frame.width + 8.0,
                labels[k] + 4.0,
                severity.as_str(),
                number(last)
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
            caption: "Open findings by severity at the end of each period".to_owned(),
            columns,
            rows,
        },
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use chrono::{TimeZone, Utc};

    use super::super::tests::{count, parse};
    use super::*;

    fn point(day: u32, groups: &[(&str, f64)]) -> Point {
        Point {
            start: Utc.with_ymd_and_hms(2026, 11, day, 0, 0, 0).unwrap(),
            end: Utc.with_ymd_and_hms(2026, 11, day + 7, 0, 0, 0).unwrap(),
            value: groups.iter().map(|(_, v)| v).sum(),
            groups: groups
                .iter()
                .map(|(k, v)| ((*k).to_owned(), *v))
                .collect::<BTreeMap<_, _>>(),
        }
    }

    #[test]
    fn one_line_per_severity_one_marker_per_bucket_and_the_figures_in_words() {
        let series = [
            point(1, &[("critical", 1.0), ("high", 4.0)]),
            point(8, &[("critical", 2.0), ("high", 3.0)]),
            point(15, &[("critical", 0.0), ("high", 5.0)]),
        ];
        let chart = open_by_severity("open", &series);
        let doc = parse(&chart);
        assert_eq!(count(&doc, "series"), 2);
        assert_eq!(count(&doc, "point"), 6);
        assert_eq!(count(&doc, "label"), 2);
        assert_eq!(
            chart.desc,
            "Open findings from 2026-11-01 to 2026-11-22: 5 open at the end (0 critical, 5 high); \
             the most, 5, on 2026-11-08."
        );
        assert_eq!(chart.table.columns, ["Date", "critical", "high", "Total"]);
        assert_eq!(chart.table.rows[1], ["2026-11-15", "2", "3", "5"]);
        // Without colour: each line has its own dash pattern.
        let dashes: Vec<&str> = doc
            .descendants()
            .filter(|n| n.has_tag_name("polyline"))
            .filter_map(|n| n.attribute("stroke-dasharray"))
            .collect();
        assert_eq!(dashes.len(), 2);
        assert_ne!(dashes[0], dashes[1]);
    }

    #[test]
    fn an_empty_series_says_so() {
        let chart = open_by_severity("open", &[]);
        let doc = parse(&chart);
        assert_eq!(count(&doc, "point"), 0);
        assert!(chart.desc.contains("no data"), "{}", chart.desc);
        assert!(chart.table.rows.is_empty());
    }
}
