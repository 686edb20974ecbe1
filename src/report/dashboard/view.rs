//! The dashboard's view model: [`OrgView`] holds an org's figures (the summary, the time
//! series, the time-to-fix estimate) computed from its filtered history, and turns them
//! into the template contexts, every figure with the link to the findings behind it.

use chrono::{DateTime, TimeDelta, Utc};
use serde::Serialize;

use super::findings::{FindingsQuery, SlaState, Status};
use super::links::Paths;
use crate::history::{
    self, Filters, FindingHistory, GroupBy, Interval, Metric, OrgSummary, Point, SeverityCurve,
    SlaPolicy, Window,
};
use crate::model::{Kind, Severity};
use crate::report::charts::{self, Chart};

/// How many repositories the risk chart shows (the table under it lists them all).
const RANKED: usize = 10;

/// An org's (or, with a repository filter, one repository's) dashboard figures.
#[derive(Debug, Clone, PartialEq)]
pub struct OrgView {
    pub paths: Paths,
    pub window: Window,
    pub filters: Filters,
    pub sla: SlaPolicy,
    /// The org's history (the store's `org_history`), unfiltered: pages filter it.
    pub history: Vec<FindingHistory>,
    pub summary: OrgSummary,
    /// Weekly `open` by severity, `new` and `fixed`.
    pub open: Vec<Point>,
    pub new: Vec<Point>,
    pub fixed: Vec<Point>,
    pub time_to_fix: Vec<SeverityCurve>,
    /// Links carry `as_of` (the page was asked for a past date); otherwise they read "now",
    /// so that a shared link stays current.
    pub pinned: bool,
    /// Who is signed in, for the sign-out form; `None` for a file or a bearer caller.
    pub session: Option<super::Session>,
}

impl OrgView {
    /// Computes the figures of `history` over `window` and `filters`; links start at
    /// `base_path` (`""` for the server's root).
    pub fn new(
        org: &str,
        base_path: &str,
        history: Vec<FindingHistory>,
        window: Window,
        filters: Filters,
        sla: SlaPolicy,
    ) -> OrgView {
        let summary = history::summarize(org, &history, &window, &filters, &sla);
        let series = |metric, group_by| {
            history::timeseries(
                &history,
                &window,
                &filters,
                &sla,
                metric,
                Interval::Week,
                group_by,
            )
        };
        let open = series(Metric::Open, Some(GroupBy::Severity));
        let new = series(Metric::New, None);
        let fixed = series(Metric::Fixed, None);
        let time_to_fix = history::time_to_fix(&history, &window, &filters);
        OrgView {
            paths: Paths::new(base_path, org),
            window,
            filters,
            sla,
            history,
            summary,
            open,
            new,
            fixed,
            time_to_fix,
            pinned: false,
            session: None,
        }
    }

    /// Links carry the view's `as_of`: for a page asked as of a past date.
    pub fn pinned(mut self) -> OrgView {
        self.pinned = true;
        self
    }

    /// The same figures for one repository; `None` when the org has no such repository.
    pub fn for_repository(&self, repository: &str) -> Option<OrgView> {
        let history: Vec<FindingHistory> = self
            .history
            .iter()
            .filter(|f| f.repository == repository)
            .cloned()
            .collect();
        if history.is_empty() {
            return None;
        }
        let filters = Filters {
            repository: Some(repository.to_owned()),
            ..self.filters.clone()
        };
        let mut view = OrgView::new(
            &self.paths.org,
            &self.paths.base,
            history,
            self.window.clone(),
            filters,
            self.sla.clone(),
        );
        view.pinned = self.pinned;
        view.session = self.session.clone();
        Some(view)
    }

    /// The findings query behind a figure: the view's filters and `status`.
    pub fn query(&self, status: Status) -> FindingsQuery {
        let mut query = FindingsQuery {
            status,
            filters: self.filters.clone(),
            descending: true,
            ..FindingsQuery::default()
        };
        // Figures of the period carry it; open findings are read as of `as_of`.
        if matches!(status, Status::New | Status::Fixed) {
            query.from = Some(self.window.from);
            query.to = Some(self.window.to);
        }
        if self.pinned {
            query.as_of = Some(self.window.as_of);
        }
        query
    }

    fn href(&self, query: &FindingsQuery) -> String {
        self.paths.findings(&query.pairs(false))
    }

    /// The template context of the org (or repository) page.
    pub(super) fn context(&self, repository: Option<&str>) -> PageContext {
        let s = &self.summary;
        let org = &self.paths.org;
        let open_figure = |label: String, severity: Option<Severity>, value: u64| {
            let mut query = self.query(Status::Open);
            if severity.is_some() {
                query.filters.severity = severity;
            }
            Figure::count(label, value, self.href(&query))
        };
        let mut open = vec![open_figure("Open findings".into(), None, s.open.total)];
        for (severity, value) in [
            (Severity::Critical, s.open.critical),
            (Severity::High, s.open.high),
            (Severity::Medium, s.open.medium),
            (Severity::Low, s.open.low),
            (Severity::Info, s.open.info),
        ] {
            open.push(open_figure(
                format!("Open {}", severity.as_str()),
                Some(severity),
                value,
            ));
        }
        let fixed_href = self.href(&self.query(Status::Fixed));
        let sla_href = |state| {
            let mut query = self.query(Status::Open);
            query.sla = Some(state);
            self.href(&query)
        };
        let median_all = s.ttr_p50_days;
        let activity = vec![
            Figure::count("New".into(), s.new, self.href(&self.query(Status::New))),
            Figure::count("Fixed".into(), s.fixed, fixed_href.clone()),
            Figure::days(
                "Mean time to remediate".into(),
                s.mttr_days,
                fixed_href.clone(),
            ),
            Figure::days("Median time to fix".into(), median_all, fixed_href),
            Figure::count(
                "SLA breached".into(),
                s.sla.breached_open,
                sla_href(SlaState::Breached),
            ),
            Figure::count(
                "Due within 7 days".into(),
                s.sla.due_within_7_days,
                sla_href(SlaState::DueSoon),
            ),
        ];

        let repositories = s
            .repositories
            .iter()
            .map(|r| {
                let mut query = self.query(Status::Open);
                query.filters.repository = Some(r.repository.clone());
                RepositoryRow {
                    name: r.repository.clone(),
                    href: self.paths.repository_page(&r.repository),
                    grade: r.grade.to_string(),
                    reason: r.grade_reason.clone(),
                    open: r.open.total,
                    open_href: self.href(&query),
                    risk_days: charts::number(r.risk_days),
                }
            })
            .collect();
        let hotspots = s
            .hotspots
            .iter()
            .map(|h| {
                let mut query = self.query(Status::Open);
                query.ecosystem = Some(h.ecosystem.clone());
                query.package = Some(h.package.clone());
                HotspotRow {
                    text: format!(
                        "bump {} to {}: clears {} {} in {} {}",
                        h.package,
                        h.to,
                        h.findings,
                        plural(h.findings, "finding", "findings"),
                        h.repositories,
                        plural(h.repositories, "repository", "repositories"),
                    ),
                    ecosystem: h.ecosystem.clone(),
                    findings: h.findings,
                    href: self.href(&query),
                }
            })
            .collect();

        let mut charts = vec![
            ChartSection::new(
                "Open findings over time",
                charts::open_by_severity("chart-open", &self.open),
            ),
            ChartSection::new(
                "New and fixed",
                charts::new_vs_fixed("chart-activity", &self.new, &self.fixed),
            ),
            ChartSection::new(
                "Time to fix",
                charts::time_to_fix("chart-ttf", &self.time_to_fix),
            ),
        ];
        if repository.is_none() {
            charts.push(ChartSection::new(
                "Risk by repository",
                charts::risk_ranking("chart-risk", &s.repositories, RANKED),
            ));
        }

        let heading = match repository {
            Some(name) => name.to_owned(),
            None => org.clone(),
        };
        let action = match repository {
            Some(name) => self.paths.repository_page(name),
            None => self.paths.org_page(),
        };
        PageContext {
            heading,
            org: org.clone(),
            org_href: self.paths.org_page(),
            findings_href: self.href(&self.query(Status::Open)),
            is_repository: repository.is_some(),
            period: format!(
                "{} to {}",
                self.window.from.format("%Y-%m-%d %H:%M UTC"),
                self.window.to.format("%Y-%m-%d %H:%M UTC")
            ),
            as_of: self.window.as_of.format("%Y-%m-%d %H:%M UTC").to_string(),
            grade: s.grade.to_string(),
            grade_reason: s.grade_reason.clone(),
            grade_href: self.href(&self.query(Status::Open)),
            open,
            activity,
            charts,
            repositories,
            hotspots,
            form: self.form(action, repository.is_none(), None),
        }
    }

    /// The filter bar: the view's filters as the form's values.
    pub(super) fn form(
        &self,
        action: String,
        with_repository: bool,
        status: Option<Status>,
    ) -> Form {
        form(
            action,
            &self.filters,
            Some(self.window.from),
            Some(self.window.to),
            with_repository.then(|| repositories(&self.history)),
            tools(&self.history),
            status,
        )
    }
}

fn plural(n: u64, one: &'static str, many: &'static str) -> &'static str {
    if n == 1 { one } else { many }
}

/// The org's repositories, sorted.
pub(super) fn repositories(history: &[FindingHistory]) -> Vec<String> {
    let mut names: Vec<String> = history.iter().map(|f| f.repository.clone()).collect();
    names.sort();
    names.dedup();
    names
}

/// The tools of the org's findings, sorted.
pub(super) fn tools(history: &[FindingHistory]) -> Vec<String> {
    let mut names: Vec<String> = history.iter().flat_map(|f| f.tools.clone()).collect();
    names.sort();
    names.dedup();
    names
}

/// The filter bar's context.
pub(super) fn form(
    action: String,
    filters: &Filters,
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
    repositories: Option<Vec<String>>,
    tools: Vec<String>,
    status: Option<Status>,
) -> Form {
    let options = |values: Vec<String>, selected: Option<&str>| -> Vec<Choice> {
        values
            .into_iter()
            .map(|value| Choice {
                selected: selected == Some(value.as_str()),
                value,
            })
            .collect()
    };
    Form {
        action,
        // The date inputs hold days; a whole-day period reads back the same.
        from: from
            .map(|t| t.format("%Y-%m-%d").to_string())
            .unwrap_or_default(),
        to: to
            .map(|t| t.format("%Y-%m-%d").to_string())
            .unwrap_or_default(),
        severities: options(
            Severity::ALL
                .iter()
                .map(|s| s.as_str().to_owned())
                .collect(),
            filters.severity.map(Severity::as_str),
        ),
        kinds: options(
            Kind::ALL.iter().map(|k| k.as_str().to_owned()).collect(),
            filters.kind.map(Kind::as_str),
        ),
        tools: options(tools, filters.tool.as_deref()),
        repositories: repositories.map(|r| options(r, filters.repository.as_deref())),
        statuses: status.map(|current| {
            [Status::Open, Status::New, Status::Fixed, Status::All]
                .into_iter()
                .map(|s| Choice {
                    value: s.as_str().to_owned(),
                    selected: s == current,
                })
                .collect()
        }),
        hidden: Vec::new(),
    }
}

/// One `<option>`.
#[derive(Debug, Clone, Serialize)]
pub(super) struct Choice {
    pub value: String,
    pub selected: bool,
}

/// The filter bar (`<form method="get">`): field names are the API's query parameters.
#[derive(Debug, Clone, Serialize)]
pub(super) struct Form {
    pub action: String,
    pub from: String,
    pub to: String,
    pub severities: Vec<Choice>,
    pub kinds: Vec<Choice>,
    pub tools: Vec<Choice>,
    /// `None` on a repository page (the repository is in its path).
    pub repositories: Option<Vec<Choice>>,
    /// The findings page's status select.
    pub statuses: Option<Vec<Choice>>,
    /// Parameters the bar keeps without showing them.
    pub hidden: Vec<Hidden>,
}

/// An `<input type="hidden">`.
#[derive(Debug, Clone, Serialize)]
pub(super) struct Hidden {
    pub name: &'static str,
    pub value: String,
}

/// A figure and the link to the findings behind it.
#[derive(Debug, Clone, Serialize)]
pub(super) struct Figure {
    pub label: String,
    pub value: String,
    pub href: String,
    /// A machine-readable key tests and styles can find it by.
    pub key: String,
}

impl Figure {
    fn key(label: &str) -> String {
        label.to_ascii_lowercase().replace(' ', "-")
    }

    fn count(label: String, value: u64, href: String) -> Figure {
        Figure {
            key: Figure::key(&label),
            label,
            value: value.to_string(),
            href,
        }
    }

    fn days(label: String, value: Option<f64>, href: String) -> Figure {
        Figure {
            key: Figure::key(&label),
            label,
            value: value.map_or_else(
                || "no data".to_owned(),
                |d| format!("{} days", charts::number(d)),
            ),
            href,
        }
    }
}

/// A chart under its heading.
#[derive(Debug, Clone, Serialize)]
pub(super) struct ChartSection {
    pub heading: String,
    pub chart: Chart,
}

impl ChartSection {
    fn new(heading: &str, chart: Chart) -> ChartSection {
        ChartSection {
            heading: heading.to_owned(),
            chart,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub(super) struct RepositoryRow {
    pub name: String,
    pub href: String,
    pub grade: String,
    pub reason: String,
    pub open: u64,
    pub open_href: String,
    pub risk_days: String,
}

#[derive(Debug, Clone, Serialize)]
pub(super) struct HotspotRow {
    pub text: String,
    pub ecosystem: String,
    pub findings: u64,
    pub href: String,
}

/// The org and repository pages' context.
#[derive(Debug, Clone, Serialize)]
pub(super) struct PageContext {
    pub heading: String,
    pub org: String,
    pub org_href: String,
    pub findings_href: String,
    pub is_repository: bool,
    pub period: String,
    pub as_of: String,
    pub grade: String,
    pub grade_reason: String,
    pub grade_href: String,
    pub open: Vec<Figure>,
    pub activity: Vec<Figure>,
    pub charts: Vec<ChartSection>,
    pub repositories: Vec<RepositoryRow>,
    pub hotspots: Vec<HotspotRow>,
    pub form: Form,
}

/// The default dashboard window: the last `days` days as of `now`.
pub fn last_days(now: DateTime<Utc>, days: i64) -> Window {
    Window {
        from: now - TimeDelta::days(days),
        to: now,
        as_of: now,
    }
}
