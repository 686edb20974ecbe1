//! The weekly digest as a Markdown issue (issue 12), the one posture keeps per org and edits
//! in place each week: the week's new, reintroduced and fixed findings with the notable new
//! ones, the SLA breaches and what falls due in the coming week, the upgrades that clear the
//! most, the repositories at most risk and the owning teams, with a link to the dashboard
//! page behind each figure when `POSTURE_PUBLIC_URL` is set. Its HTML twin is the
//! dashboard's org page (`posture report --format html`).
//!
//! Pure: [`DigestIssue::new`] gathers the week from the org's history — the figures are
//! [`crate::history::summarize`]'s and the lists are the findings pages' rows
//! ([`dashboard::rows`]), so a figure of N links to a page of N rows — and [`render_issue`]
//! turns it into a title and a body. The layout is `templates/digest/issue.md.hbs`.
//!
//! The body is always under [`MAX_BODY_CHARS`] (GitHub refuses an issue body over 65,536
//! characters): each list shows its first few items and ends with "… and N more" and the
//! link to all of them; when even that does not fit, every list is shortened alike until it
//! does.

use std::sync::OnceLock;

use chrono::{DateTime, Duration, Utc};
use handlebars::Handlebars;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde::Serialize;

use super::RenderError;
use super::budget::{self, Limit, thousands};
use super::dashboard::{
    self, FindingRow, FindingsQuery, Paths, SlaState, SortKey, Status, format_time,
};
use super::links::{inline_code, plain_link};
use crate::analyze::owners::UNOWNED;
use crate::history::{Filters, FindingHistory, OrgSummary, SlaPolicy, Window, summarize};
use crate::model::Severity;

const TEMPLATE: &str = include_str!("../../templates/digest/issue.md.hbs");

/// A digest issue's body stays under this many characters.
pub const MAX_BODY_CHARS: usize = 60_000;
const LIMIT: Limit = Limit::Chars(MAX_BODY_CHARS - 1);

/// How many items each list shows at most; the rest are counted and linked.
const NEW_SHOWN: usize = 10;
const BREACHED_SHOWN: usize = 15;
const DUE_SOON_SHOWN: usize = 15;
const HOTSPOTS_SHOWN: usize = 10;
const REPOSITORIES_SHOWN: usize = 10;
const TEAMS_SHOWN: usize = 15;
/// The longest list: the budget shortens every list to at most this many and fewer.
const MOST_SHOWN: usize = 15;
/// Names (rules, repositories, packages, teams) longer than this are clipped.
const MAX_NAME_CHARS: usize = 120;

/// One org's week, ready to render.
#[derive(Debug, Clone, PartialEq)]
pub struct DigestIssue {
    /// Lower-case, as in the settings file.
    pub org: String,
    /// `2026-W49`.
    pub week: String,
    /// The week `[due − 7 days, due)`, as of `due`; every list, whole.
    pub summary: OrgSummary,
    /// Findings first detected in the week, most severe (then riskiest) first.
    pub new: Vec<FindingRow>,
    /// Open past their due date, longest overdue first.
    pub breached: Vec<FindingRow>,
    /// Open and due within 7 days of `due`, soonest first.
    pub due_soon: Vec<FindingRow>,
    /// posture's public URL (`POSTURE_PUBLIC_URL`), for links; none without.
    pub public_url: Option<String>,
}

impl DigestIssue {
    /// The week before `due` of `org`'s `history` (its default branches' findings with their
    /// events), measured against `sla`.
    pub fn new(
        org: &str,
        week: &str,
        due: DateTime<Utc>,
        history: &[FindingHistory],
        sla: &SlaPolicy,
        public_url: Option<&str>,
    ) -> DigestIssue {
        let window = week_window(due);
        let summary = summarize(org, history, &window, &Filters::default(), sla);
        let rows = |status: Status, sla_state: Option<SlaState>, key: SortKey, desc: bool| {
            let query = FindingsQuery {
                status,
                sla: sla_state,
                ..FindingsQuery::default()
            };
            let mut rows = dashboard::rows(history, &query, &window, sla);
            dashboard::sort(&mut rows, key, desc);
            rows
        };
        DigestIssue {
            org: org.to_owned(),
            week: week.to_owned(),
            summary,
            new: rows(Status::New, None, SortKey::Severity, true),
            breached: rows(Status::Open, Some(SlaState::Breached), SortKey::Due, false),
            due_soon: rows(Status::Open, Some(SlaState::DueSoon), SortKey::Due, false),
            public_url: public_url
                .map(str::trim)
                .filter(|url| !url.is_empty())
                .map(str::to_owned),
        }
    }
}

/// The week a digest due at `due` covers: `[due − 7 days, due)`, as of `due`.
pub fn week_window(due: DateTime<Utc>) -> Window {
    Window {
        from: due - Duration::days(7),
        to: due,
        as_of: due,
    }
}

/// A rendered digest issue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssueText {
    pub title: String,
    pub body: String,
}

/// The issue's title: the same every week, so the issue is found by eye.
pub fn title(org: &str) -> String {
    format!("posture: weekly security digest ({org})")
}

/// What an org name may show unencoded in a marker: nothing that could end the comment.
const MARKER_SAFE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'/');

/// The hidden marker that says which org and week an issue body shows.
pub fn marker(org: &str, week: &str) -> String {
    format!(
        "<!-- posture:digest org={} week={} -->",
        utf8_percent_encode(org, MARKER_SAFE),
        utf8_percent_encode(week, MARKER_SAFE)
    )
}

/// The issue's title and body, the body under [`MAX_BODY_CHARS`].
pub fn render_issue(digest: &DigestIssue) -> Result<IssueText, RenderError> {
    Ok(IssueText {
        title: title(&digest.org),
        body: render_within(digest, LIMIT)?,
    })
}

/// The body within `limit`: every list as long as its own maximum allows, or all of them
/// shortened alike until the body fits.
fn render_within(digest: &DigestIssue, limit: Limit) -> Result<String, RenderError> {
    let registry = registry()?;
    let links = Links::new(digest);
    let fitted = budget::fit(MOST_SHOWN, limit, |shown| {
        registry
            .render("issue", &view(digest, &links, shown))
            .map_err(RenderError::from)
    })?;
    Ok(fitted.body)
}

fn registry() -> Result<&'static Handlebars<'static>, RenderError> {
    static REGISTRY: OnceLock<Handlebars<'static>> = OnceLock::new();
    if let Some(registry) = REGISTRY.get() {
        return Ok(registry);
    }
    let mut registry = Handlebars::new();
    registry.set_strict_mode(true);
    // Everything but `{{org}}` and `{{week}}` arrives as Markdown made safe here.
    registry.register_escape_fn(|text| {
        text.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
    });
    registry
        .register_template_string("issue", TEMPLATE)
        .map_err(|e| RenderError::Registration(Box::new(e)))?;
    Ok(REGISTRY.get_or_init(|| registry))
}

/// The dashboard's links for one digest: the findings page's query for each figure, over
/// the digest's week. `None` without a public URL.
struct Links {
    paths: Option<Paths>,
    window: Window,
}

impl Links {
    fn new(digest: &DigestIssue) -> Links {
        Links {
            paths: digest
                .public_url
                .as_deref()
                .map(|base| Paths::new(base, &digest.org)),
            window: Window {
                from: digest.summary.from,
                to: digest.summary.to,
                as_of: digest.summary.as_of,
            },
        }
    }

    fn dashboard(&self) -> Option<String> {
        self.paths.as_ref().map(Paths::org_page)
    }

    /// The findings page of `query` over the digest's week.
    fn findings(&self, query: FindingsQuery) -> Option<String> {
        let query = FindingsQuery {
            from: Some(self.window.from),
            to: Some(self.window.to),
            as_of: Some(self.window.as_of),
            ..query
        };
        let paths = self.paths.as_ref()?;
        Some(paths.findings(&query.pairs(false)))
    }

    fn status(&self, status: Status) -> Option<String> {
        self.findings(FindingsQuery {
            status,
            ..FindingsQuery::default()
        })
    }

    fn sla(&self, state: SlaState) -> Option<String> {
        self.findings(FindingsQuery {
            sla: Some(state),
            ..FindingsQuery::default()
        })
    }

    fn open_severity(&self, severity: Option<Severity>) -> Option<String> {
        self.findings(FindingsQuery {
            filters: Filters {
                severity,
                ..Filters::default()
            },
            ..FindingsQuery::default()
        })
    }

    fn upgrade(&self, ecosystem: &str, package: &str) -> Option<String> {
        self.findings(FindingsQuery {
            ecosystem: Some(ecosystem.to_owned()),
            package: Some(package.to_owned()),
            ..FindingsQuery::default()
        })
    }

    fn repository(&self, repository: &str) -> Option<String> {
        self.paths.as_ref().map(|p| p.repository_page(repository))
    }
}

#[derive(Serialize)]
struct View {
    marker: String,
    org: String,
    week: String,
    /// `2026-11-23 to 2026-11-30 (UTC)`.
    period: String,
    grade: String,
    dashboard: Option<String>,
    /// Critical, high, medium, low, info, total: each linked to its findings.
    open: Vec<String>,
    /// New, reintroduced, fixed, dismissed, accepted, mean time to fix.
    week_figures: Vec<String>,
    new: List,
    sla: String,
    breached: List,
    due_soon: List,
    hotspots: List,
    repositories: List,
    /// Table rows.
    teams: List,
    footer: String,
}

/// A list's first items, and what was left out of it.
#[derive(Serialize)]
struct List {
    items: Vec<String>,
    /// `… and 12 more: [all 22](…)`.
    more: Option<String>,
}

/// The first `shown` of `items`, each made by `item`, and the line that announces the rest
/// (linked to all of them when posture has a page of them).
fn list<T>(items: &[T], shown: usize, link: Option<String>, item: impl Fn(&T) -> String) -> List {
    let shown = shown.min(items.len());
    let left = items.len() - shown;
    let more = (left > 0).then(|| {
        let all = format!("all {}", thousands(items.len()));
        let target = match link {
            Some(url) => plain_link(&all, &url),
            None => format!("{all}: `posture report --org ORG --format html`"),
        };
        format!("… and {} more ({target})", thousands(left))
    });
    List {
        items: items[..shown].iter().map(item).collect(),
        more,
    }
}

/// `text` as inline code, clipped to [`MAX_NAME_CHARS`].
fn name(text: &str) -> String {
    let clipped = match text.char_indices().nth(MAX_NAME_CHARS) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_owned(),
    };
    inline_code(&clipped)
}

/// `n`, linked to its findings when there is a page of them.
fn figure(n: u64, link: Option<String>) -> String {
    let text = thousands(n as usize);
    match link {
        Some(url) if n > 0 => plain_link(&text, &url),
        _ => text,
    }
}

fn plural(n: u64, one: &str, many: &str) -> String {
    format!(
        "{} {}",
        thousands(n as usize),
        if n == 1 { one } else { many }
    )
}

fn date(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d").to_string()
}

/// Text that must show as written: no HTML, no Markdown emphasis, links or tables.
fn plain(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\\' | '`' | '*' | '_' | '[' | ']' | '#' | '|' | '~' => {
                out.push('\\');
                out.push(c);
            }
            '\n' | '\r' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// One finding of a list: severity, rule, repository, risk, KEV, its due date told by
/// `due`, the upgrade that clears it.
fn finding(row: &FindingRow, due: impl Fn(DateTime<Utc>) -> String) -> String {
    let mut parts = vec![
        format!(
            "{} **{}** {}",
            super::markdown::severity_icon(row.severity),
            row.severity.as_str(),
            name(&row.rule)
        ),
        format!("in {}", name(&row.repository)),
        format!("risk {}", row.risk_score),
    ];
    if row.kev {
        parts.push("**KEV**".to_owned());
    }
    if let Some(at) = row.due {
        parts.push(due(at));
    }
    if let Some(upgrade) = &row.upgrade {
        parts.push(format!("fix: {}", name(upgrade)));
    }
    parts.join(" · ")
}

/// The template's view with at most `shown` items per list.
fn view(digest: &DigestIssue, links: &Links, shown: usize) -> View {
    let s = &digest.summary;
    let as_of = s.as_of;
    let o = &s.open;
    let open = [
        (o.critical, Some(Severity::Critical)),
        (o.high, Some(Severity::High)),
        (o.medium, Some(Severity::Medium)),
        (o.low, Some(Severity::Low)),
        (o.info, Some(Severity::Info)),
    ]
    .into_iter()
    .map(|(n, severity)| figure(n, links.open_severity(severity)))
    .chain([format!(
        "**{}**",
        figure(o.total, links.open_severity(None))
    )])
    .collect();
    let week_figures = vec![
        figure(s.new, links.status(Status::New)),
        thousands(s.reintroduced as usize),
        figure(s.fixed, links.status(Status::Fixed)),
        thousands(s.dismissed as usize),
        thousands(s.accepted as usize),
        s.mttr_days
            .map(|d| format!("{d:.1} days"))
            .unwrap_or_else(|| "—".to_owned()),
    ];

    let mut sla = format!(
        "**{}** past due · **{}** due in the next 7 days",
        figure(s.sla.breached_open, links.sla(SlaState::Breached)),
        figure(s.sla.due_within_7_days, links.sla(SlaState::DueSoon)),
    );
    if let Some(compliance) = s.sla.compliance {
        sla.push_str(&format!(
            " · {:.1}% of this week's fixes within their SLA",
            compliance * 100.0
        ));
    }
    if s.sla.breached_open == 0 && s.sla.due_within_7_days == 0 {
        sla.push_str(". Nothing is past due.");
    }

    let new = list(
        &digest.new,
        shown.min(NEW_SHOWN),
        links.status(Status::New),
        |row| finding(row, |at| format!("due {}", date(at))),
    );
    let breached = list(
        &digest.breached,
        shown.min(BREACHED_SHOWN),
        links.sla(SlaState::Breached),
        |row| {
            finding(row, |at| {
                let late = (as_of - at).num_days();
                format!(
                    "due {} ({})",
                    date(at),
                    if late < 1 {
                        "less than a day overdue".to_owned()
                    } else {
                        format!("{} overdue", plural(late as u64, "day", "days"))
                    }
                )
            })
        },
    );
    let due_soon = list(
        &digest.due_soon,
        shown.min(DUE_SOON_SHOWN),
        links.sla(SlaState::DueSoon),
        |row| {
            finding(row, |at| {
                let left = (at - as_of).num_days();
                format!(
                    "due {} ({})",
                    date(at),
                    if left < 1 {
                        "within a day".to_owned()
                    } else {
                        format!("in {}", plural(left as u64, "day", "days"))
                    }
                )
            })
        },
    );
    let hotspots = list(
        &s.hotspots,
        shown.min(HOTSPOTS_SHOWN),
        links.dashboard(),
        |h| {
            let mut text = format!(
                "bump {} ({}) to {}: clears {} in {}",
                name(&h.package),
                plain(&h.ecosystem),
                name(&h.to),
                plural(h.findings, "finding", "findings"),
                plural(h.repositories, "repository", "repositories"),
            );
            if h.kev > 0 {
                text.push_str(&format!(" ({} KEV)", thousands(h.kev as usize)));
            }
            if let Some(url) = links.upgrade(&h.ecosystem, &h.package) {
                text.push_str(&format!(" · {}", plain_link("findings", &url)));
            }
            text
        },
    );
    let repositories = list(
        &s.repositories,
        shown.min(REPOSITORIES_SHOWN),
        links.dashboard(),
        |r| {
            let o = &r.open;
            let mut text = format!(
                "{}: grade **{}**, {} open ({} critical, {} high)",
                name(&r.repository),
                r.grade.as_str(),
                thousands(o.total as usize),
                thousands(o.critical as usize),
                thousands(o.high as usize),
            );
            if let Some(url) = links.repository(&r.repository) {
                text.push_str(&format!(" · {}", plain_link("page", &url)));
            }
            text
        },
    );
    // Teams only when `CODEOWNERS` names someone: a table of "unowned" alone says nothing.
    let owned = s.teams.iter().any(|t| t.team != UNOWNED);
    let teams = list(
        if owned { &s.teams[..] } else { &[] },
        shown.min(TEAMS_SHOWN),
        links.dashboard(),
        |t| {
            format!(
                "| {} | {} | {} | {} | {} |",
                // A pipe ends a table cell even inside code.
                name(&t.team).replace('|', "\\|"),
                thousands(t.open as usize),
                thousands(t.introduced as usize),
                thousands(t.fixed as usize),
                t.mttr_days
                    .map(|d| format!("{d:.1} days"))
                    .unwrap_or_else(|| "—".to_owned())
            )
        },
    );

    let mut footer = String::new();
    if let Some(url) = links.dashboard() {
        footer.push_str(&plain_link("Dashboard", &url));
        footer.push_str(" · ");
    }
    footer.push_str(&format!(
        "The same as HTML: `posture report --org {} --format html --days 7`. posture edits this \
         issue every week: changes made by hand are overwritten.",
        digest.org.replace('`', "")
    ));

    View {
        marker: marker(&digest.org, &digest.week),
        org: digest.org.clone(),
        week: digest.week.clone(),
        period: format!(
            "{} to {} (UTC), as of {}",
            date(s.from),
            date(s.to),
            format_time(s.as_of)
        ),
        grade: format!(
            "Grade **{}**: {}",
            s.grade.as_str(),
            plain(super::org::without_grade(&s.grade_reason, s.grade.as_str()))
        ),
        dashboard: links
            .dashboard()
            .map(|url| plain_link("open the dashboard", &url)),
        open,
        week_figures,
        new,
        sla,
        breached,
        due_soon,
        hotspots,
        repositories,
        teams,
        footer,
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::history::{FixTarget, HistoryEvent};
    use crate::model::{FindingId, Kind};
    use crate::store::EventKind;

    const URL: &str = "https://posture.example.com/";

    /// Monday 2026-11-30 08:00 UTC: the digest of ISO week 49.
    fn due() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 30, 8, 0, 0).unwrap()
    }

    /// `n` days after 2026-11-01 (noon, UTC).
    fn day(n: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 1, 12, 0, 0).unwrap() + Duration::days(n)
    }

    fn event(at: i64, kind: EventKind, severity: Option<Severity>) -> HistoryEvent {
        HistoryEvent {
            at: day(at),
            kind,
            severity,
            reason: None,
        }
    }

    fn finding(repository: &str, id: &str, events: Vec<HistoryEvent>) -> FindingHistory {
        FindingHistory {
            repository: repository.to_owned(),
            finding_id: FindingId(id.to_owned()),
            kind: Kind::Sca,
            tools: vec!["osv-scanner".to_owned()],
            rule: format!("GHSA-{id}"),
            risk_score: 50,
            advisories: vec![format!("GHSA-{id}")],
            kev: false,
            upgrade: None,
            owner: None,
            events,
        }
    }

    fn lodash() -> Option<FixTarget> {
        Some(FixTarget {
            ecosystem: "npm".into(),
            package: "lodash".into(),
            to: "4.17.21".into(),
        })
    }

    /// Three repositories: two new findings this week (one due within 7 days), one
    /// reintroduced and past due, one fixed, one critical KEV past due for a month.
    fn history() -> Vec<FindingHistory> {
        use EventKind::*;
        let mut s1 = finding(
            "acme/shop",
            "s1",
            vec![event(-10, Detected, Some(Severity::Critical))],
        );
        s1.kev = true;
        s1.risk_score = 95;
        s1.upgrade = lodash();
        s1.owner = Some("@acme/payments".into());
        let mut s2 = finding(
            "acme/shop",
            "s2",
            vec![event(24, Detected, Some(Severity::High))],
        );
        s2.upgrade = lodash();
        s2.owner = Some("@acme/payments".into());
        let mut a1 = finding(
            "acme/api",
            "a1",
            vec![event(24, Detected, Some(Severity::Critical))],
        );
        a1.risk_score = 80;
        a1.owner = Some("@acme/platform".into());
        let a2 = finding(
            "acme/api",
            "a2",
            vec![
                event(0, Detected, Some(Severity::Medium)),
                event(26, Fixed, None),
            ],
        );
        let w1 = finding(
            "acme/web",
            "w1",
            vec![
                event(-31, Detected, Some(Severity::High)),
                event(-20, Fixed, None),
                event(25, Reintroduced, Some(Severity::High)),
            ],
        );
        vec![s1, s2, a1, a2, w1]
    }

    fn digest(public_url: Option<&str>) -> DigestIssue {
        DigestIssue::new(
            "acme",
            "2026-W49",
            due(),
            &history(),
            &SlaPolicy::default(),
            public_url,
        )
    }

    /// The rows of the findings page `url` names, as the web layer would list them.
    fn follow(url: &str) -> Vec<FindingRow> {
        let parsed = url::Url::parse(url).unwrap();
        assert_eq!(parsed.path().trim_end_matches("/findings"), "/orgs/acme");
        let query = FindingsQuery::parse(parsed.query_pairs()).unwrap();
        let window = query.window(due());
        dashboard::rows(&history(), &query, &window, &SlaPolicy::default())
    }

    /// Every `[text](url)` of `body` whose text is a number, with its URL.
    fn linked_figures(body: &str) -> Vec<(u64, String)> {
        let mut found = Vec::new();
        let mut rest = body;
        while let Some(start) = rest.find('[') {
            rest = &rest[start + 1..];
            let Some(close) = rest.find("](") else { break };
            let text = &rest[..close];
            let after = &rest[close + 2..];
            let Some(end) = after.find(')') else { break };
            if let Ok(n) = text.replace(',', "").parse::<u64>() {
                found.push((n, after[..end].to_owned()));
            }
            rest = after;
        }
        found
    }

    #[test]
    fn the_issue_tells_the_week_and_links_each_figure_to_its_findings() {
        let text = render_issue(&digest(Some(URL))).unwrap();
        assert_eq!(text.title, "posture: weekly security digest (acme)");
        let body = &text.body;
        assert!(
            body.starts_with("<!-- posture:digest org=acme week=2026-W49 -->\n"),
            "{body}"
        );
        assert!(
            body.contains("Week **2026-W49**: 2026-11-23 to 2026-11-30 (UTC)"),
            "{body}"
        );
        let s = &digest(Some(URL)).summary;
        assert_eq!(
            (s.new, s.reintroduced, s.fixed, s.open.total),
            (2, 1, 1, 4),
            "{s:#?}"
        );
        assert_eq!((s.sla.breached_open, s.sla.due_within_7_days), (2, 1));
        // The week's figures in their table: new and fixed link to their findings.
        assert!(
            body.contains("| [2](https://posture.example.com/orgs/acme/findings?status=new&"),
            "{body}"
        );
        assert!(
            body.contains(
                " | 1 | [1](https://posture.example.com/orgs/acme/findings?status=fixed&"
            ),
            "{body}"
        );
        // The notable new ones, most severe first.
        let critical = body
            .find("🔴 **critical** `GHSA-a1` · in `acme/api`")
            .unwrap();
        let high = body.find("🟠 **high** `GHSA-s2` · in `acme/shop`").unwrap();
        assert!(critical < high, "{body}");
        // Past due, longest overdue first, and what falls due this week.
        assert!(
            body.contains(
                "**[2](https://posture.example.com/orgs/acme/findings?status=open&sla=breached&"
            ),
            "{body}"
        );
        let s1 = body
            .find("`GHSA-s1` · in `acme/shop` · risk 95 · **KEV** · due 2026-10-29 (31 days overdue) · fix: `lodash → 4.17.21`")
            .unwrap_or_else(|| panic!("{body}"));
        let w1 = body.find("`GHSA-w1` · in `acme/web`").unwrap();
        assert!(s1 < w1, "{body}");
        assert!(
            body.contains("`GHSA-a1` · in `acme/api` · risk 80 · due 2026-12-02 (in 2 days)"),
            "{body}"
        );
        // The hotspot, as the issue words it, linked to the findings it clears.
        assert!(
            body.contains(
                "- bump `lodash` (npm) to `4.17.21`: clears 2 findings in 1 repository (1 KEV) · [findings](https://posture.example.com/orgs/acme/findings?status=open&from="
            ),
            "{body}"
        );
        assert!(body.contains("&ecosystem=npm&package=lodash)"), "{body}");
        // Teams, their mentions inert.
        assert!(
            body.contains("| `@acme/payments` | 2 | 1 | 0 | — |"),
            "{body}"
        );
        assert!(!body.contains(" @acme/"), "no mention pings a team: {body}");
        assert!(body.contains("[open the dashboard](https://posture.example.com/orgs/acme)"));
        assert!(body.contains("[page](https://posture.example.com/orgs/acme/repos/acme/shop)"));
        assert!(!body.contains("… and"), "nothing left out: {body}");

        // Each linked figure is the number of rows of the page it links to.
        let figures = linked_figures(body);
        assert_eq!(figures.len(), 7, "{figures:?}");
        for (n, url) in figures {
            assert_eq!(follow(&url).len() as u64, n, "{url}");
        }
    }

    #[test]
    fn without_a_public_url_there_are_no_links() {
        let body = render_issue(&digest(None)).unwrap().body;
        assert!(!body.contains("](http"), "{body}");
        assert!(body.contains("| 2 | 1 | 1 | 0 | 0 |"), "{body}");
        assert!(body.contains("`posture report --org acme --format html --days 7`"));
    }

    /// An org of `repositories` repositories with `per` findings each, every one critical,
    /// new this week and already past due, with long names and an upgrade of its own.
    fn huge(repositories: usize, per: usize) -> DigestIssue {
        let mut history = Vec::new();
        for r in 0..repositories {
            for f in 0..per {
                let repository = format!("acme/{}-{r:05}", "service".repeat(12));
                let mut finding = finding(
                    &repository,
                    &format!("{r}-{f}"),
                    vec![event(22, EventKind::Detected, Some(Severity::Critical))],
                );
                finding.rule = format!("{}-{r}-{f}", "very-long-rule-name".repeat(20));
                finding.owner = Some(format!("@acme/team-{}", r % 400));
                finding.upgrade = Some(FixTarget {
                    ecosystem: "npm".into(),
                    package: format!("package-{r}"),
                    to: "1.0.1".into(),
                });
                history.push(finding);
            }
        }
        let sla = SlaPolicy {
            critical: 1,
            ..SlaPolicy::default()
        };
        DigestIssue::new("acme", "2026-W49", due(), &history, &sla, Some(URL))
    }

    #[test]
    fn a_huge_org_stays_under_the_budget_and_says_what_it_left_out() {
        let digest = huge(3_000, 2);
        assert_eq!(digest.summary.open.total, 6_000);
        assert_eq!(digest.breached.len(), 6_000);
        let body = render_issue(&digest).unwrap().body;
        let chars = body.chars().count();
        assert!(chars < MAX_BODY_CHARS, "{chars} characters");
        assert!(
            body.contains("- … and 5,990 more ([all 6,000](https://posture.example.com/orgs/acme/findings?status=new&"),
            "{body}"
        );
        assert!(
            body.contains("- … and 5,985 more ([all 6,000](https://posture.example.com/orgs/acme/findings?status=open&sla=breached&"),
            "{body}"
        );
        assert!(
            body.contains(
                "- … and 2,990 more ([all 3,000](https://posture.example.com/orgs/acme))"
            ),
            "{body}"
        );
        assert!(body.contains("… and 385 more ([all 400]"), "teams: {body}");
        // Long names are clipped, not the body.
        assert!(!body.contains(&"very-long-rule-name".repeat(20)), "{body}");
        assert!(body.contains("very-l…` · in `acme/service"), "{body}");
        assert!(
            body.trim_end()
                .ends_with("changes made by hand are overwritten.")
        );
    }

    #[test]
    fn a_tight_budget_shortens_every_list_alike_and_still_announces_the_rest() {
        let digest = huge(50, 1);
        let whole = render_within(&digest, Limit::Chars(usize::MAX)).unwrap();
        let limit = Limit::Chars(whole.chars().count() / 2);
        let body = render_within(&digest, limit).unwrap();
        assert!(limit.fits(&body), "{} characters", body.chars().count());
        let shown = body.matches("🔴 **critical**").count();
        let shown_whole = whole.matches("🔴 **critical**").count();
        assert!(shown > 0 && shown < shown_whole, "{shown} of {shown_whole}");
        assert!(body.contains(" more ([all 50](https://"), "{body}");
        assert!(body.contains("### SLA"), "the skeleton stays: {body}");
        assert!(body.starts_with("<!-- posture:digest org=acme week=2026-W49 -->"));
    }

    #[test]
    fn hostile_names_stay_text() {
        let mut history = history();
        history[1].rule =
            "x` <!-- posture:digest org=evil week=1 --> [a](javascript:alert(1))".into();
        history[1].repository = "acme/<img src=x onerror=alert(1)>".into();
        history[1].owner = Some("@acme/*team*|x".into());
        let digest = DigestIssue::new(
            "acme",
            "2026-W49",
            due(),
            &history,
            &SlaPolicy::default(),
            Some(URL),
        );
        let body = render_issue(&digest).unwrap().body;
        assert_eq!(body.matches("<!--").count(), 1, "{body}");
        assert!(!body.contains("<img"), "{body}");
        assert!(
            body.contains(
                "``x` &lt;!-- posture:digest org=evil week=1 --&gt; [a](javascript:alert(1))``"
            ),
            "the rule is inert code: {body}"
        );
        assert!(body.contains("| `@acme/*team*\\|x` |"), "{body}");
        assert_eq!(
            marker("ac-->me <x>", "2026-W49"),
            "<!-- posture:digest org=ac--%3Eme%20%3Cx%3E week=2026-W49 -->"
        );
    }
}
