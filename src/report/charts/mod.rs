//! Inline SVG charts for the dashboard and `posture report --format html`, rendered as text:
//! no JavaScript, no external asset, so a page is one self-contained document that a strict
//! CSP serves and a printer prints.
//!
//! Every chart is an `<svg role="img" aria-labelledby="…">` with a `<title>` and a `<desc>`
//! (one sentence stating the key figures), a fixed `viewBox` (it scales to its container),
//! colours of at least 3:1 contrast on white that are never the only cue (dash patterns,
//! hatching, direct labels), and its numbers as a [`DataTable`] the page renders next to it.
//! Every text is escaped here ([`escape`]): repository names are user-controlled.

mod bars;
mod lines;
mod ranking;
mod steps;

use serde::Serialize;

use crate::model::Severity;

pub use bars::new_vs_fixed;
pub use lines::open_by_severity;
pub use ranking::risk_ranking;
pub use steps::time_to_fix;

/// Width of every chart's `viewBox`; heights vary by chart but are fixed per chart.
pub(crate) const WIDTH: f64 = 720.0;

/// A rendered chart and its numbers.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Chart {
    /// The element id prefix (unique on the page): `{id}-title`, `{id}-desc`, patterns.
    pub id: String,
    pub title: String,
    /// The text alternative: one sentence with the key figures.
    pub desc: String,
    /// The `<svg>` element, escaped, ready to insert as is.
    pub svg: String,
    pub table: DataTable,
}

/// A chart's numbers: the caller renders a `<table>` with `<th scope="col">` for
/// `columns` and `<th scope="row">` for each row's first cell. Cells are plain text (the
/// page escapes them).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DataTable {
    pub caption: String,
    pub columns: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

pub use super::html::escape;

/// A number for people: integers without decimals, others with one.
pub fn number(value: f64) -> String {
    if !value.is_finite() {
        return "–".to_owned();
    }
    if (value - value.round()).abs() < 1e-9 {
        format!("{}", value.round() as i64)
    } else {
        format!("{value:.1}")
    }
}

/// How a severity is drawn: its colour (≥ 3:1 on white), its dash pattern (so that the
/// series differ without colour) and its label.
pub(crate) fn severity_style(severity: Severity) -> (&'static str, &'static str) {
    match severity {
        Severity::Critical => ("#8b0000", ""),
        Severity::High => ("#b93a06", "9 4"),
        Severity::Medium => ("#8a6100", "3 3"),
        Severity::Low => ("#1d4ed8", "12 4 2 4"),
        Severity::Info => ("#4b5563", "1 5"),
    }
}

/// The opening of a chart's `<svg>`: role, labels, viewBox, title and desc.
pub(crate) fn open_svg(id: &str, height: f64, title: &str, desc: &str) -> String {
    let id = escape(id);
    format!(
        "<svg class=\"chart\" role=\"img\" \
         aria-labelledby=\"{id}-title {id}-desc\" viewBox=\"0 0 {WIDTH} {height}\" \
         preserveAspectRatio=\"xMidYMid meet\" font-family=\"sans-serif\" font-size=\"12\">\
         <title id=\"{id}-title\">{}</title><desc id=\"{id}-desc\">{}</desc>",
        escape(title),
        escape(desc)
    )
}

/// A plot area and its scales.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Frame {
    pub left: f64,
    pub top: f64,
    pub width: f64,
    pub height: f64,
    /// The value at the top of the y axis (> 0).
    pub y_max: f64,
}

impl Frame {
    pub fn y(&self, value: f64) -> f64 {
        self.top + self.height - (value / self.y_max).clamp(0.0, 1.0) * self.height
    }

    pub fn bottom(&self) -> f64 {
        self.top + self.height
    }

    /// How many steps a count axis takes so that every tick is a whole number: one per
    /// unit up to 5, else 5 (`y_max` is then 10, 20 or 50 × 10ⁿ, see [`nice_max`]).
    pub fn count_ticks(&self) -> u32 {
        let max = self.y_max.round();
        if max <= 5.0 { (max as u32).max(1) } else { 5 }
    }

    /// The horizontal grid lines and the y axis labels (`ticks` + 1 of them), formatted by
    /// `label`.
    pub fn y_axis(&self, ticks: u32, label: impl Fn(f64) -> String) -> String {
        let ticks = ticks.max(1);
        let mut out = String::from("<g class=\"axis\" aria-hidden=\"true\">");
        for i in 0..=ticks {
            let value = self.y_max * f64::from(i) / f64::from(ticks);
            let y = self.y(value);
            out.push_str(&format!(
                "<line x1=\"{:.1}\" y1=\"{y:.1}\" x2=\"{:.1}\" y2=\"{y:.1}\" stroke=\"#d1d5db\"/>\
                 <text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\" fill=\"#374151\">{}</text>",
                self.left,
                self.left + self.width,
                self.left - 6.0,
                y + 4.0,
                escape(&label(value))
            ));
        }
        out.push_str("</g>");
        out
    }
}

/// A round axis maximum at or above `max` (1, 2, 5 × 10ⁿ), at least 1.
pub(crate) fn nice_max(max: f64) -> f64 {
    if max.is_nan() || max <= 1.0 {
        return 1.0;
    }
    let magnitude = 10f64.powf(max.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * magnitude)
        .find(|&candidate| candidate >= max)
        .unwrap_or(10.0 * magnitude)
}

/// Spreads label positions (sorted by the caller's order) at least `gap` apart within
/// `[low, high]`, keeping each as close to its wish as it can.
pub(crate) fn spread(wishes: &[f64], gap: f64, low: f64, high: f64) -> Vec<f64> {
    let mut order: Vec<usize> = (0..wishes.len()).collect();
    order.sort_by(|&a, &b| wishes[a].total_cmp(&wishes[b]));
    let mut placed = vec![0.0; wishes.len()];
    let mut previous = f64::NEG_INFINITY;
    for &i in &order {
        let y = wishes[i].max(previous + gap).max(low);
        placed[i] = y;
        previous = y;
    }
    // Pushed past the bottom: shift the whole run up.
    let overflow = previous - high;
    if overflow > 0.0 {
        for y in &mut placed {
            *y -= overflow;
        }
    }
    placed
}

/// `YYYY-MM-DD`.
pub(crate) fn date(t: chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%d").to_string()
}

/// "No data" in the middle of an empty plot.
pub(crate) fn no_data(height: f64) -> String {
    format!(
        "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" fill=\"#374151\">No data in this period</text>",
        WIDTH / 2.0,
        height / 2.0
    )
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Parses `svg` as XML and checks what every chart must have.
    pub fn parse(chart: &Chart) -> roxmltree::Document<'_> {
        let doc =
            roxmltree::Document::parse(&chart.svg).unwrap_or_else(|e| panic!("{e}\n{}", chart.svg));
        let root = doc.root_element();
        assert_eq!(root.tag_name().name(), "svg");
        assert_eq!(root.attribute("role"), Some("img"));
        assert!(root.attribute("viewBox").is_some());
        let labelled = root.attribute("aria-labelledby").unwrap();
        for id in labelled.split(' ') {
            assert!(
                doc.descendants().any(|n| n.attribute("id") == Some(id)),
                "{id} labels nothing"
            );
        }
        let title = doc.descendants().find(|n| n.has_tag_name("title")).unwrap();
        assert_eq!(title.text(), Some(chart.title.as_str()));
        let desc = doc.descendants().find(|n| n.has_tag_name("desc")).unwrap();
        assert_eq!(desc.text(), Some(chart.desc.as_str()));
        assert!(!chart.svg.contains("<script"), "{}", chart.svg);
        assert!(!chart.table.columns.is_empty());
        doc
    }

    /// The elements of `doc` whose class list holds `class`.
    pub fn count(doc: &roxmltree::Document<'_>, class: &str) -> usize {
        doc.descendants()
            .filter(|n| {
                n.attribute("class")
                    .is_some_and(|c| c.split(' ').any(|c| c == class))
            })
            .count()
    }

    #[test]
    fn escaping_covers_markup_quotes_and_controls() {
        assert_eq!(
            escape("<a href=\"x\">O'Neil & co</a>\u{7}"),
            "&lt;a href=&quot;x&quot;&gt;O&#39;Neil &amp; co&lt;/a&gt;\u{fffd}"
        );
    }

    #[test]
    fn numbers_axes_and_labels() {
        assert_eq!(number(3.0), "3");
        assert_eq!(number(2.25), "2.2");
        assert_eq!(number(f64::NAN), "–");
        assert_eq!(nice_max(0.0), 1.0);
        assert_eq!(nice_max(7.0), 10.0);
        assert_eq!(nice_max(13.0), 20.0);
        assert_eq!(nice_max(41.0), 50.0);
        let placed = spread(&[100.0, 101.0, 50.0], 14.0, 0.0, 300.0);
        assert_eq!(placed, vec![100.0, 114.0, 50.0]);
        let frame = |y_max| Frame {
            left: 0.0,
            top: 0.0,
            width: 1.0,
            height: 1.0,
            y_max,
        };
        let ticks: Vec<u32> = [1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 200.0]
            .map(|m| frame(m).count_ticks())
            .to_vec();
        assert_eq!(ticks, [1, 2, 5, 5, 5, 5, 5]);
        let placed = spread(&[300.0, 300.0], 14.0, 0.0, 300.0);
        assert_eq!(placed, vec![286.0, 300.0]);
    }
}
