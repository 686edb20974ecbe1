//! Repositories ranked by risk: a horizontal bar list in the summary's order (worst grade,
//! then most risk-days), each bar labelled with the repository, its grade and its figures.

use super::{Chart, DataTable, escape, no_data, number, open_svg};
use crate::history::RepositorySummary;

const ROW: f64 = 28.0;
const BAR: &str = "#7c2d12";
/// Where bars start: the repository names take the left.
const BARS_LEFT: f64 = 230.0;
/// Bars and their labels fit the width: 230 + 300 + ~180 for the label < 720.
const BARS_WIDTH: f64 = 300.0;

/// "acme/shop" cut to fit its column, with an ellipsis.
fn fit(name: &str) -> String {
    const MAX: usize = 34;
    if name.chars().count() <= MAX {
        name.to_owned()
    } else {
        let mut cut: String = name.chars().take(MAX - 1).collect();
        cut.push('…');
        cut
    }
}

/// The chart of the first `limit` of `repositories` (already ranked, as
/// [`crate::history::OrgSummary::repositories`] is).
pub fn risk_ranking(id: &str, repositories: &[RepositorySummary], limit: usize) -> Chart {
    let title = "Repositories ranked by risk".to_owned();
    let shown = &repositories[..repositories.len().min(limit)];
    let desc = if shown.is_empty() {
        "Repositories ranked by risk: no repository has findings.".to_owned()
    } else {
        let parts: Vec<String> = shown
            .iter()
            .take(3)
            .map(|r| {
                format!(
                    "{} grade {} with {} open and {} risk-days",
                    r.repository,
                    r.grade,
                    r.open.total,
                    number(r.risk_days)
                )
            })
            .collect();
        format!(
            "{} of {} repositories ranked by risk; first {}.",
            shown.len(),
            repositories.len(),
            parts.join(", then ")
        )
    };
    let rows = shown
        .iter()
        .map(|r| {
            vec![
                r.repository.clone(),
                r.grade.to_string(),
                r.open.total.to_string(),
                number(r.risk_days),
                r.grade_reason.clone(),
            ]
        })
        .collect();

    let height = 16.0 + ROW * shown.len().max(3) as f64;
    let mut svg = open_svg(id, height, &title, &desc);
    if shown.is_empty() {
        svg.push_str(&no_data(height));
    }
    let max = shown.iter().map(|r| r.risk_days).fold(0.0, f64::max);
    for (i, r) in shown.iter().enumerate() {
        let y = 8.0 + ROW * i as f64;
        let width = if max > 0.0 {
            (r.risk_days / max * BARS_WIDTH).max(1.0)
        } else {
            1.0
        };
        svg.push_str(&format!(
            "<g class=\"repository\"><text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\" fill=\"#111827\">{}</text>\
             <rect class=\"bar\" x=\"{BARS_LEFT:.1}\" y=\"{:.1}\" width=\"{width:.1}\" height=\"{:.1}\" fill=\"{BAR}\"/>\
             <text x=\"{:.1}\" y=\"{:.1}\" fill=\"#111827\">{}</text></g>",
            BARS_LEFT - 8.0,
            y + 15.0,
            escape(&fit(&r.repository)),
            y + 2.0,
            ROW - 10.0,
            BARS_LEFT + width + 6.0,
            y + 15.0,
            escape(&format!(
                "grade {} · {} open · {} risk-days",
                r.grade,
                r.open.total,
                number(r.risk_days)
            ))
        ));
    }
    svg.push_str("</svg>");
    Chart {
        id: id.to_owned(),
        title,
        desc,
        svg,
        table: DataTable {
            caption: "Repositories ranked by risk".to_owned(),
            columns: ["Repository", "Grade", "Open", "Risk-days", "Reason"]
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
    use crate::history::{Grade, OpenCounts};

    fn repository(name: &str, grade: Grade, risk_days: f64, open: u64) -> RepositorySummary {
        RepositorySummary {
            repository: name.to_owned(),
            open: OpenCounts {
                high: open,
                total: open,
                ..OpenCounts::default()
            },
            grade,
            grade_reason: format!("{name} has {open} open"),
            risk_days,
        }
    }

    #[test]
    fn one_bar_per_repository_up_to_the_limit_with_hostile_names_escaped() {
        let hostile = "acme/<script>alert(1)</script>&\"x\"";
        let repositories = [
            repository(hostile, Grade::F, 40.0, 3),
            repository("acme/shop", Grade::D, 10.0, 2),
            repository("acme/api", Grade::A, 0.0, 0),
        ];
        let chart = risk_ranking("risk", &repositories, 2);
        let doc = parse(&chart);
        assert_eq!(count(&doc, "bar"), 2);
        assert!(!chart.svg.contains("<script>"), "{}", chart.svg);
        let names: Vec<&str> = doc
            .descendants()
            .filter(|n| n.has_tag_name("text") && n.attribute("text-anchor") == Some("end"))
            .filter_map(|n| n.text())
            .collect();
        // The XML parser gives back the text as it was: escaped, not interpreted.
        assert_eq!(names, ["acme/<script>alert(1)</script>&\"x\"", "acme/shop"]);
        assert_eq!(
            chart.desc,
            format!(
                "2 of 3 repositories ranked by risk; first {hostile} grade F with 3 open and 40 \
                 risk-days, then acme/shop grade D with 2 open and 10 risk-days."
            )
        );
        assert_eq!(
            chart.table.rows[1],
            ["acme/shop", "D", "2", "10", "acme/shop has 2 open"]
        );
        // Bars are proportional to risk-days.
        let widths: Vec<f64> = doc
            .descendants()
            .filter(|n| n.attribute("class") == Some("bar"))
            .map(|n| n.attribute("width").unwrap().parse().unwrap())
            .collect();
        assert_eq!(widths, [300.0, 75.0]);
    }

    #[test]
    fn long_names_are_cut() {
        let long = "acme/".to_owned() + &"x".repeat(60);
        assert_eq!(fit(&long).chars().count(), 34);
        assert!(fit(&long).ends_with('…'));
    }
}
