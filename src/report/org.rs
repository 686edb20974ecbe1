//! Renders an org summary ([`OrgSummary`]) for people (`markdown`: headline figures, SLA,
//! grade with its reason, a table of the repositories, one of the owning teams and the
//! hotspots) and spreadsheets (`csv`: one row for the org, one per repository, then one per
//! team).
//!
//! The summary keeps its figures unrounded; rounding happens here: days and risk-days to
//! two decimals in CSV (one for days in markdown), rates as fractions to four decimals in
//! CSV and as percentages to one decimal in markdown. A figure with no data is empty in
//! CSV and `—` in markdown.

use std::fmt::Write as _;

use chrono::{DateTime, Timelike, Utc};

use crate::history::{Hotspot, OpenCounts, OrgSummary, RepositorySummary, TeamSummary};

/// The CSV header, in column order.
pub const CSV_HEADER: [&str; 23] = [
    "repository",
    "grade",
    "grade_reason",
    "open_critical",
    "open_high",
    "open_medium",
    "open_low",
    "open_info",
    "open_total",
    "risk_days",
    "new",
    "reintroduced",
    "fixed",
    "dismissed",
    "accepted",
    "mttr_days",
    "ttr_p50_days",
    "ttr_p90_days",
    "net_resolve_rate",
    "sla_breached_open",
    "sla_due_within_7_days",
    "sla_compliance",
    // Set on the teams' rows only.
    "team",
];

/// The repository column of the org's row.
pub const ORG_ROW: &str = "*";

/// The summary as a markdown report.
pub fn markdown(summary: &OrgSummary) -> String {
    let mut out = String::new();
    // `write!` to a `String` cannot fail; its `fmt::Result` is ignored throughout.
    let _ = writeln!(out, "# Security posture of {}\n", summary.org);
    let _ = writeln!(
        out,
        "**Grade {}**: {}\n",
        summary.grade,
        without_grade(&summary.grade_reason, summary.grade.as_str())
    );
    let _ = writeln!(
        out,
        "Period {} to {}, as of {}.\n",
        date(summary.from),
        date(summary.to),
        date(summary.as_of)
    );

    out.push_str("## Open findings\n\n");
    out.push_str("| Critical | High | Medium | Low | Info | Total |\n");
    out.push_str("|---:|---:|---:|---:|---:|---:|\n");
    let o = &summary.open;
    let _ = writeln!(
        out,
        "| {} | {} | {} | {} | {} | {} |\n",
        o.critical, o.high, o.medium, o.low, o.info, o.total
    );

    out.push_str("## In the period\n\n");
    out.push_str("| New | Reintroduced | Fixed | Dismissed | Accepted |\n");
    out.push_str("|---:|---:|---:|---:|---:|\n");
    let _ = writeln!(
        out,
        "| {} | {} | {} | {} | {} |\n",
        summary.new, summary.reintroduced, summary.fixed, summary.dismissed, summary.accepted
    );
    let _ = writeln!(
        out,
        "- Mean time to remediate: {}",
        days_text(summary.mttr_days)
    );
    let _ = writeln!(
        out,
        "- Time to remediate (Kaplan–Meier, open findings included): median {}, 90th \
         percentile {}",
        days_text(summary.ttr_p50_days),
        days_text(summary.ttr_p90_days)
    );
    let _ = writeln!(
        out,
        "- Net resolve rate (resolved ÷ new and reintroduced): {}",
        percent(summary.net_resolve_rate)
    );
    let _ = writeln!(out, "- Risk-days: {:.2}\n", summary.risk_days);

    out.push_str("## SLA\n\n");
    let _ = writeln!(out, "- Open past their SLA: {}", summary.sla.breached_open);
    let _ = writeln!(
        out,
        "- Due within 7 days: {}",
        summary.sla.due_within_7_days
    );
    let _ = writeln!(
        out,
        "- Fixed within their SLA: {}\n",
        percent(summary.sla.compliance)
    );

    out.push_str("## Repositories\n\n");
    if summary.repositories.is_empty() {
        out.push_str("No repository has findings.\n\n");
    } else {
        out.push_str(
            "| Repository | Grade | Critical | High | Medium | Low | Info | Open | Risk-days | Why |\n",
        );
        out.push_str("|---|:-:|---:|---:|---:|---:|---:|---:|---:|---|\n");
        for r in &summary.repositories {
            let o = &r.open;
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} | {} | {} | {:.2} | {} |",
                cell(&r.repository),
                r.grade,
                o.critical,
                o.high,
                o.medium,
                o.low,
                o.info,
                o.total,
                r.risk_days,
                cell(without_grade(&r.grade_reason, r.grade.as_str()))
            );
        }
        out.push('\n');
    }

    out.push_str("## Teams\n\n");
    if summary.teams.is_empty() {
        out.push_str("No team has findings.\n\n");
    } else {
        out.push_str("| Team | Open | Introduced | Fixed | Mean time to remediate |\n");
        out.push_str("|---|---:|---:|---:|---:|\n");
        for t in &summary.teams {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} |",
                cell(&t.team),
                t.open,
                t.introduced,
                t.fixed,
                days_text(t.mttr_days)
            );
        }
        out.push('\n');
    }

    out.push_str("## Hotspots\n\n");
    if summary.hotspots.is_empty() {
        out.push_str("No open finding has a known upgrade.\n");
    } else {
        for (rank, hotspot) in summary.hotspots.iter().enumerate() {
            let _ = writeln!(out, "{}. {}", rank + 1, hotspot_line(hotspot));
        }
    }
    out
}

/// "bump lodash to 4.17.21: clears 143 findings in 37 repositories (npm; 12 advisories, 3
/// KEV-listed)".
fn hotspot_line(h: &Hotspot) -> String {
    let mut line = format!(
        "bump {} to {}: clears {} in {} ({}; {}",
        h.package,
        h.to,
        plural(h.findings, "finding", "findings"),
        plural(h.repositories, "repository", "repositories"),
        h.ecosystem,
        plural(h.advisories, "advisory", "advisories"),
    );
    if h.kev > 0 {
        let _ = write!(line, ", {} KEV-listed", h.kev);
    }
    line.push(')');
    line
}

/// The summary as CSV: [`CSV_HEADER`], the org's row (repository [`ORG_ROW`]), then one row
/// per repository in the summary's order, leaving the org-only columns empty, then one row
/// per team (repository [`ORG_ROW`], `team` set) with `open_total`, `new` (the findings it
/// introduced), `fixed` and `mttr_days`.
pub fn csv(summary: &OrgSummary) -> String {
    let mut rows: Vec<Vec<String>> = Vec::with_capacity(summary.repositories.len() + 1);
    let mut org = leading_columns(
        ORG_ROW,
        summary.grade.as_str(),
        &summary.grade_reason,
        &summary.open,
        summary.risk_days,
    );
    org.extend([
        summary.new.to_string(),
        summary.reintroduced.to_string(),
        summary.fixed.to_string(),
        summary.dismissed.to_string(),
        summary.accepted.to_string(),
        decimals(summary.mttr_days, 2),
        decimals(summary.ttr_p50_days, 2),
        decimals(summary.ttr_p90_days, 2),
        decimals(summary.net_resolve_rate, 4),
        summary.sla.breached_open.to_string(),
        summary.sla.due_within_7_days.to_string(),
        decimals(summary.sla.compliance, 4),
        String::new(),
    ]);
    rows.push(org);
    rows.extend(summary.repositories.iter().map(repository_row));
    rows.extend(summary.teams.iter().map(team_row));

    // Writing to memory cannot fail (no I/O) and every field is a `String`, so the bytes
    // are UTF-8: the empty fallback is never taken.
    write_csv(&rows).unwrap_or_default()
}

fn write_csv(rows: &[Vec<String>]) -> Result<String, Box<dyn std::error::Error>> {
    let mut writer = ::csv::Writer::from_writer(Vec::new());
    writer.write_record(CSV_HEADER)?;
    for row in rows {
        writer.write_record(row)?;
    }
    let bytes = writer.into_inner().map_err(|e| e.into_error())?;
    Ok(String::from_utf8(bytes)?)
}

fn repository_row(r: &RepositorySummary) -> Vec<String> {
    let mut row = leading_columns(
        &r.repository,
        r.grade.as_str(),
        &r.grade_reason,
        &r.open,
        r.risk_days,
    );
    row.resize(CSV_HEADER.len(), String::new());
    row
}

fn team_row(t: &TeamSummary) -> Vec<String> {
    let mut row = vec![String::new(); CSV_HEADER.len()];
    let mut set = |column: &str, value: String| {
        if let Some(i) = CSV_HEADER.iter().position(|c| *c == column) {
            row[i] = value;
        }
    };
    set("repository", ORG_ROW.to_owned());
    set("open_total", t.open.to_string());
    set("new", t.introduced.to_string());
    set("fixed", t.fixed.to_string());
    set("mttr_days", decimals(t.mttr_days, 2));
    set("team", t.team.clone());
    row
}

/// The columns every row fills: repository to risk_days.
fn leading_columns(
    repository: &str,
    grade: &str,
    reason: &str,
    open: &OpenCounts,
    risk_days: f64,
) -> Vec<String> {
    let mut row = Vec::with_capacity(CSV_HEADER.len());
    row.extend([
        repository.to_owned(),
        grade.to_owned(),
        reason.to_owned(),
        open.critical.to_string(),
        open.high.to_string(),
        open.medium.to_string(),
        open.low.to_string(),
        open.info.to_string(),
        open.total.to_string(),
        format!("{risk_days:.2}"),
    ]);
    row
}

/// `value` to `places` decimals, empty when `None`.
fn decimals(value: Option<f64>, places: usize) -> String {
    value.map_or_else(String::new, |v| format!("{v:.places$}"))
}

/// "12.5 days", "—".
fn days_text(value: Option<f64>) -> String {
    value.map_or_else(|| "—".to_owned(), |days| format!("{days:.1} days"))
}

/// "66.7%", "—".
fn percent(value: Option<f64>) -> String {
    value.map_or_else(|| "—".to_owned(), |v| format!("{:.1}%", v * 100.0))
}

fn plural(n: u64, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

/// A reason without its leading "F: ".
pub(super) fn without_grade<'a>(reason: &'a str, grade: &str) -> &'a str {
    reason
        .strip_prefix(grade)
        .and_then(|rest| rest.strip_prefix(": "))
        .unwrap_or(reason)
}

/// Text safe inside a markdown table cell.
fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace(['\r', '\n'], " ")
}

/// `2025-01-31`, or with the time when it is not midnight UTC.
fn date(t: DateTime<Utc>) -> String {
    if t.num_seconds_from_midnight() == 0 && t.nanosecond() == 0 {
        t.format("%Y-%m-%d").to_string()
    } else {
        t.format("%Y-%m-%d %H:%M:%S UTC").to_string()
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::history::{Grade, SlaFigures};

    fn summary() -> OrgSummary {
        let at = |d| Utc.with_ymd_and_hms(2025, 1, d, 0, 0, 0).unwrap();
        OrgSummary {
            org: "acme".into(),
            from: at(1),
            to: at(31),
            as_of: Utc.with_ymd_and_hms(2025, 1, 31, 12, 30, 0).unwrap(),
            open: OpenCounts {
                critical: 1,
                high: 2,
                medium: 0,
                low: 3,
                info: 0,
                total: 6,
            },
            new: 4,
            reintroduced: 1,
            fixed: 3,
            dismissed: 1,
            accepted: 0,
            mttr_days: Some(12.346),
            ttr_p50_days: Some(10.0),
            ttr_p90_days: None,
            net_resolve_rate: Some(0.8),
            risk_days: 123.456,
            sla: SlaFigures {
                breached_open: 1,
                due_within_7_days: 2,
                compliance: Some(2.0 / 3.0),
            },
            grade: Grade::F,
            grade_reason: "F: 1 critical finding open past its SLA in acme/api".into(),
            repositories: vec![
                RepositorySummary {
                    repository: "acme/api".into(),
                    open: OpenCounts {
                        critical: 1,
                        high: 0,
                        medium: 0,
                        low: 1,
                        info: 0,
                        total: 2,
                    },
                    grade: Grade::F,
                    grade_reason: "F: 1 critical finding open past its SLA in acme/api".into(),
                    risk_days: 100.0,
                },
                RepositorySummary {
                    repository: "acme/shop".into(),
                    open: OpenCounts {
                        critical: 0,
                        high: 2,
                        medium: 0,
                        low: 2,
                        info: 0,
                        total: 4,
                    },
                    grade: Grade::B,
                    grade_reason: "B: 2 high findings open within their SLA in acme/shop".into(),
                    risk_days: 23.456,
                },
            ],
            hotspots: vec![Hotspot {
                ecosystem: "npm".into(),
                package: "lodash".into(),
                to: "4.17.21".into(),
                findings: 143,
                repositories: 37,
                advisories: 12,
                kev: 3,
            }],
            teams: vec![
                TeamSummary {
                    team: "@acme/api".into(),
                    open: 4,
                    introduced: 3,
                    fixed: 2,
                    mttr_days: Some(6.5),
                },
                TeamSummary {
                    team: "unowned".into(),
                    open: 2,
                    introduced: 1,
                    fixed: 1,
                    mttr_days: None,
                },
            ],
        }
    }

    #[test]
    fn markdown_reads_as_a_report() {
        let text = markdown(&summary());
        assert!(text.starts_with("# Security posture of acme\n"), "{text}");
        assert!(
            text.contains("**Grade F**: 1 critical finding open past its SLA in acme/api"),
            "{text}"
        );
        assert!(
            text.contains("Period 2025-01-01 to 2025-01-31, as of 2025-01-31 12:30:00 UTC."),
            "{text}"
        );
        assert!(text.contains("| 1 | 2 | 0 | 3 | 0 | 6 |"), "{text}");
        assert!(text.contains("| 4 | 1 | 3 | 1 | 0 |"), "{text}");
        assert!(text.contains("Mean time to remediate: 12.3 days"), "{text}");
        assert!(
            text.contains("median 10.0 days, 90th percentile —"),
            "{text}"
        );
        assert!(text.contains("new and reintroduced): 80.0%"), "{text}");
        assert!(text.contains("Risk-days: 123.46"), "{text}");
        assert!(text.contains("Open past their SLA: 1"), "{text}");
        assert!(text.contains("Fixed within their SLA: 66.7%"), "{text}");
        assert!(
            text.contains(
                "| acme/shop | B | 0 | 2 | 0 | 2 | 0 | 4 | 23.46 | 2 high findings open \
                 within their SLA in acme/shop |"
            ),
            "{text}"
        );
        assert!(
            text.contains(
                "1. bump lodash to 4.17.21: clears 143 findings in 37 repositories (npm; 12 \
                 advisories, 3 KEV-listed)"
            ),
            "{text}"
        );
        assert!(
            text.contains(
                "## Teams\n\n| Team | Open | Introduced | Fixed | Mean time to remediate |\n\
                 |---|---:|---:|---:|---:|\n| @acme/api | 4 | 3 | 2 | 6.5 days |\n\
                 | unowned | 2 | 1 | 1 | — |\n"
            ),
            "{text}"
        );
        let api = text.find("| acme/api |").unwrap();
        let shop = text.find("| acme/shop |").unwrap();
        assert!(api < shop, "repositories keep the summary's order");
    }

    #[test]
    fn markdown_handles_an_empty_summary() {
        let mut empty = summary();
        empty.repositories.clear();
        empty.hotspots.clear();
        empty.teams.clear();
        empty.mttr_days = None;
        empty.sla.compliance = None;
        let text = markdown(&empty);
        assert!(text.contains("No repository has findings."), "{text}");
        assert!(
            text.contains("No open finding has a known upgrade."),
            "{text}"
        );
        assert!(text.contains("Mean time to remediate: —"), "{text}");
        assert!(text.contains("Fixed within their SLA: —"), "{text}");
    }

    #[test]
    fn hotspot_lines_pluralize() {
        let line = hotspot_line(&Hotspot {
            ecosystem: "PyPI".into(),
            package: "jinja2".into(),
            to: "3.1.4".into(),
            findings: 1,
            repositories: 1,
            advisories: 1,
            kev: 0,
        });
        assert_eq!(
            line,
            "bump jinja2 to 3.1.4: clears 1 finding in 1 repository (PyPI; 1 advisory)"
        );
    }

    #[test]
    fn markdown_table_cells_escape_pipes() {
        let mut s = summary();
        s.repositories[1].repository = "acme/a|b".into();
        assert!(markdown(&s).contains("| acme/a\\|b |"));
    }

    #[test]
    fn csv_has_a_stable_header_an_org_row_and_a_row_per_repository() {
        let text = csv(&summary());
        let mut reader = ::csv::Reader::from_reader(text.as_bytes());
        let header: Vec<String> = reader
            .headers()
            .unwrap()
            .iter()
            .map(str::to_owned)
            .collect();
        assert_eq!(header, CSV_HEADER);
        assert!(text.starts_with(
            "repository,grade,grade_reason,open_critical,open_high,open_medium,open_low,\
             open_info,open_total,risk_days,new,reintroduced,fixed,dismissed,accepted,\
             mttr_days,ttr_p50_days,ttr_p90_days,net_resolve_rate,sla_breached_open,\
             sla_due_within_7_days,sla_compliance,team\n"
        ));
        let rows: Vec<Vec<String>> = reader
            .records()
            .map(|r| r.unwrap().iter().map(str::to_owned).collect())
            .collect();
        assert_eq!(rows.len(), 5);
        assert_eq!(
            rows[0],
            [
                "*",
                "F",
                "F: 1 critical finding open past its SLA in acme/api",
                "1",
                "2",
                "0",
                "3",
                "0",
                "6",
                "123.46",
                "4",
                "1",
                "3",
                "1",
                "0",
                "12.35",
                "10.00",
                "",
                "0.8000",
                "1",
                "2",
                "0.6667",
                "",
            ]
        );
        assert_eq!(rows[1][0], "acme/api");
        assert_eq!(
            rows[2],
            [
                "acme/shop",
                "B",
                "B: 2 high findings open within their SLA in acme/shop",
                "0",
                "2",
                "0",
                "2",
                "0",
                "4",
                "23.46",
                "",
                "",
                "",
                "",
                "",
                "",
                "",
                "",
                "",
                "",
                "",
                "",
                "",
            ]
        );
        let column = |name: &str| CSV_HEADER.iter().position(|c| *c == name).unwrap();
        let team = &rows[3];
        assert_eq!(team[column("repository")], ORG_ROW);
        assert_eq!(team[column("team")], "@acme/api");
        assert_eq!(team[column("open_total")], "4");
        assert_eq!(team[column("new")], "3");
        assert_eq!(team[column("fixed")], "2");
        assert_eq!(team[column("mttr_days")], "6.50");
        assert_eq!(team[column("grade")], "");
        assert_eq!(rows[4][column("team")], "unowned");
        assert_eq!(rows[4][column("mttr_days")], "");
    }
}
