//! New vs fixed findings per bucket: grouped bars, new solid and fixed hatched (so that they
//! differ without colour), with a legend in words.

use super::{Chart, DataTable, Frame, WIDTH, date, escape, nice_max, no_data, number, open_svg};
use crate::history::Point;

const HEIGHT: f64 = 300.0;
const NEW: &str = "#1d4ed8";
const FIXED: &str = "#0f766e";

/// The chart of the `new` and `fixed` time series over the same buckets (paired by
/// position; a missing bucket counts 0).
pub fn new_vs_fixed(id: &str, new: &[Point], fixed: &[Point]) -> Chart {
    let title = "New and fixed findings per period".to_owned();
    let buckets = new.len().max(fixed.len());
    let at = |series: &[Point], i: usize| series.get(i).map_or(0.0, |p| p.value);
    let bucket = |i: usize| new.get(i).or_else(|| fixed.get(i));
    let total_new: f64 = new.iter().map(|p| p.value).sum();
    let total_fixed: f64 = fixed.iter().map(|p| p.value).sum();

    let desc = match (bucket(0), buckets.checked_sub(1).and_then(bucket)) {
        (Some(first), Some(last)) => format!(
            "From {} to {}: {} new and {} fixed findings over {} periods; in the last, {} new and {} fixed.",
            date(first.start),
            date(last.end),
            number(total_new),
            number(total_fixed),
            buckets,
            number(at(new, buckets - 1)),
            number(at(fixed, buckets - 1)),
        ),
        _ => "New and fixed findings: no data in this period.".to_owned(),
    };
    let rows = (0..buckets)
        .filter_map(|i| {
            bucket(i).map(|p| {
                vec![
                    format!("{} to {}", date(p.start), date(p.end)),
                    number(at(new, i)),
                    number(at(fixed, i)),
                ]
            })
        })
        .collect();

    let eid = escape(id);
    let mut svg = open_svg(id, HEIGHT, &title, &desc);
    svg.push_str(&format!(
        "<defs><pattern id=\"{eid}-hatch\" width=\"6\" height=\"6\" patternUnits=\"userSpaceOnUse\" \
         patternTransform=\"rotate(45)\"><rect width=\"6\" height=\"6\" fill=\"#ffffff\"/>\
         <line x1=\"0\" y1=\"0\" x2=\"0\" y2=\"6\" stroke=\"{FIXED}\" stroke-width=\"3\"/></pattern></defs>"
    ));
    // The legend, in words and swatches.
    svg.push_str(&format!(
        "<g class=\"legend\"><rect x=\"48\" y=\"8\" width=\"14\" height=\"14\" fill=\"{NEW}\"/>\
         <text x=\"68\" y=\"19\">New (solid)</text>\
         <rect x=\"168\" y=\"8\" width=\"14\" height=\"14\" fill=\"url(#{eid}-hatch)\" stroke=\"{FIXED}\"/>\
         <text x=\"188\" y=\"19\">Fixed (hatched)</text></g>"
    ));
    if buckets == 0 {
        svg.push_str(&no_data(HEIGHT));
    } else {
        let max = (0..buckets)
            .map(|i| at(new, i).max(at(fixed, i)))
            .fold(0.0, f64::max);
        let frame = Frame {
            left: 48.0,
            top: 32.0,
            width: WIDTH - 48.0 - 16.0,
            height: HEIGHT - 32.0 - 40.0,
            y_max: nice_max(max),
        };
        svg.push_str(&frame.y_axis(frame.count_ticks(), number));
        let slot = frame.width / buckets as f64;
        let bar = (slot * 0.38).min(28.0);
        let every = buckets.div_ceil(6).max(1);
        for i in 0..buckets {
            let centre = frame.left + slot * (i as f64 + 0.5);
            for (series, fill, class, offset) in [
                (new, NEW.to_owned(), "new", -bar),
                (fixed, format!("url(#{eid}-hatch)"), "fixed", 0.0),
            ] {
                let value = at(series, i);
                let y = frame.y(value);
                svg.push_str(&format!(
                    "<rect class=\"bar {class}\" x=\"{:.1}\" y=\"{y:.1}\" width=\"{bar:.1}\" \
                     height=\"{:.1}\" fill=\"{fill}\" stroke=\"{}\"><title>{} {class}</title></rect>",
                    centre + offset,
                    frame.bottom() - y,
                    if class == "fixed" { FIXED } else { NEW },
                    number(value)
                ));
            }
            if i % every == 0
                && let Some(p) = bucket(i)
            {
                svg.push_str(&format!(
                    "<text x=\"{centre:.1}\" y=\"{:.1}\" text-anchor=\"middle\" fill=\"#374151\" \
                     aria-hidden=\"true\">{}</text>",
                    frame.bottom() + 18.0,
                    escape(&date(p.start))
                ));
            }
        }
    }
    svg.push_str("</svg>");
    Chart {
        id: id.to_owned(),
        title,
        desc,
        svg,
        table: DataTable {
            caption: "New and fixed findings per period".to_owned(),
            columns: vec!["Period".into(), "New".into(), "Fixed".into()],
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

    fn point(day: u32, value: f64) -> Point {
        Point {
            start: Utc.with_ymd_and_hms(2026, 11, day, 0, 0, 0).unwrap(),
            end: Utc.with_ymd_and_hms(2026, 11, day + 7, 0, 0, 0).unwrap(),
            value,
            groups: BTreeMap::new(),
        }
    }

    #[test]
    fn two_bars_per_period_and_the_totals_in_words() {
        let new = [point(1, 3.0), point(8, 0.0), point(15, 2.0), point(22, 1.0)];
        let fixed = [point(1, 1.0), point(8, 4.0), point(15, 0.0), point(22, 2.0)];
        let chart = new_vs_fixed("activity", &new, &fixed);
        let doc = parse(&chart);
        assert_eq!(count(&doc, "bar"), 8);
        assert_eq!(count(&doc, "new"), 4);
        assert_eq!(count(&doc, "fixed"), 4);
        assert_eq!(
            chart.desc,
            "From 2026-11-01 to 2026-11-29: 6 new and 7 fixed findings over 4 periods; in the \
             last, 1 new and 2 fixed."
        );
        assert_eq!(chart.table.rows[1], ["2026-11-08 to 2026-11-15", "0", "4"]);
        // The hatching is defined where the fixed bars use it.
        assert!(
            doc.descendants()
                .any(|n| n.attribute("id") == Some("activity-hatch"))
        );
        // The tallest bar (4) reaches the top of a 0–5 axis at 4/5 of the plot height.
        let heights: Vec<f64> = doc
            .descendants()
            .filter(|n| n.attribute("class") == Some("bar fixed"))
            .map(|n| n.attribute("height").unwrap().parse().unwrap())
            .collect();
        assert!((heights[1] - 228.0 * 0.8).abs() < 0.1, "{heights:?}");
    }

    #[test]
    fn no_buckets_no_bars() {
        let chart = new_vs_fixed("activity", &[], &[]);
        assert_eq!(count(&parse(&chart), "bar"), 0);
        assert!(chart.desc.contains("no data"));
    }
}
