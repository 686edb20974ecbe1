//! Structural tests of the pages: parsed with an XML parser (the pages are
//! XHTML-compatible), their figures compared with the summary's and each figure's link
//! followed to the findings page it names.

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use roxmltree::{Document, Node};

use super::*;
use crate::history::{self, Filters, FindingHistory, FixTarget, HistoryEvent, SlaPolicy, Window};
use crate::model::{FindingId, Kind, Severity};
use crate::report::charts;
use crate::store::EventKind;

const HOSTILE: &str = "acme/<script>alert('x')</script>&\"q\"";

fn day(n: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap() + TimeDelta::days(n)
}

fn event(n: i64, kind: EventKind, severity: Option<Severity>) -> HistoryEvent {
    HistoryEvent {
        at: day(n),
        kind,
        severity,
        reason: None,
    }
}

#[allow(clippy::too_many_arguments)]
fn finding(
    repository: &str,
    id: &str,
    kind: Kind,
    tool: &str,
    risk: u8,
    upgrade: Option<(&str, &str)>,
    events: Vec<HistoryEvent>,
) -> FindingHistory {
    FindingHistory {
        repository: repository.to_owned(),
        finding_id: FindingId(id.to_owned()),
        kind,
        tools: vec![tool.to_owned()],
        rule: format!("rule-{id}"),
        risk_score: risk,
        advisories: vec![format!("GHSA-{id}")],
        kev: false,
        upgrade: upgrade.map(|(package, to)| FixTarget {
            ecosystem: "npm".into(),
            package: package.into(),
            to: to.into(),
        }),
        owner: None,
        events,
    }
}

/// An org of three repositories over November 2026 (as of day 30): open, fixed,
/// dismissed, old and new findings of every kind of figure.
fn history() -> Vec<FindingHistory> {
    use EventKind::*;
    let d = |n, s| event(n, Detected, Some(s));
    vec![
        finding(
            "acme/shop",
            "s1",
            Kind::Sca,
            "osv-scanner",
            90,
            Some(("lodash", "4.17.21")),
            vec![d(-40, Severity::Critical)],
        ),
        finding(
            "acme/shop",
            "s2",
            Kind::Sca,
            "osv-scanner",
            70,
            Some(("lodash", "4.17.21")),
            vec![d(2, Severity::High)],
        ),
        finding(
            "acme/shop",
            "s3",
            Kind::Sast,
            "semgrep",
            40,
            None,
            vec![d(3, Severity::Medium), event(10, Fixed, None)],
        ),
        finding(
            "acme/shop",
            "s4",
            Kind::Sast,
            "semgrep",
            30,
            None,
            vec![d(-5, Severity::High), event(20, Dismissed, None)],
        ),
        finding(
            "acme/api",
            "a1",
            Kind::Secret,
            "gitleaks",
            80,
            None,
            vec![d(5, Severity::High), event(9, Fixed, None)],
        ),
        finding(
            "acme/api",
            "a2",
            Kind::Sca,
            "osv-scanner",
            50,
            Some(("express", "4.19.2")),
            vec![d(26, Severity::Low)],
        ),
        finding(
            "acme/api",
            "a3",
            Kind::Iac,
            "checkov",
            20,
            None,
            vec![d(-100, Severity::Medium), event(-50, Fixed, None)],
        ),
        finding(
            HOSTILE,
            "h1",
            Kind::Sca,
            "osv-scanner",
            60,
            Some(("lodash", "4.17.21")),
            vec![d(1, Severity::Medium)],
        ),
        finding(
            HOSTILE,
            "h2",
            Kind::Sast,
            "semgrep",
            10,
            None,
            vec![d(12, Severity::Info), event(28, Fixed, None)],
        ),
    ]
}

fn window() -> Window {
    Window {
        from: day(0),
        to: day(30),
        as_of: day(30),
    }
}

fn view() -> OrgView {
    OrgView::new(
        "acme",
        "",
        history(),
        window(),
        Filters::default(),
        SlaPolicy::default(),
    )
}

fn parse(html: &str) -> Document<'_> {
    Document::parse_with_options(
        html,
        roxmltree::ParsingOptions {
            allow_dtd: true,
            ..roxmltree::ParsingOptions::default()
        },
    )
    .unwrap_or_else(|e| panic!("{e}\n{html}"))
}

fn text(node: Node<'_, '_>) -> String {
    node.descendants()
        .filter(|n| n.is_text())
        .filter_map(|n| n.text())
        .collect::<String>()
}

fn elements<'a, 'i>(doc: &'a Document<'i>, tag: &'a str) -> impl Iterator<Item = Node<'a, 'i>> {
    doc.descendants().filter(move |n| n.has_tag_name(tag))
}

/// The figure link `data-figure="key"`: its value and href.
fn figure(doc: &Document<'_>, key: &str) -> (String, String) {
    let node = doc
        .descendants()
        .find(|n| n.attribute("data-figure") == Some(key))
        .unwrap_or_else(|| panic!("no figure {key}"));
    let value = node
        .descendants()
        .find(|n| n.attribute("class") == Some("value"))
        .map_or_else(|| text(node), text);
    (value, node.attribute("href").unwrap().to_owned())
}

/// The findings page a link names, as the web layer would build it.
fn follow(href: &str) -> FindingsView {
    let (path, query) = href.split_once('?').unwrap_or((href, ""));
    assert_eq!(path, "/orgs/acme/findings", "{href}");
    let query = FindingsQuery::parse(url::form_urlencoded::parse(query.as_bytes()))
        .unwrap_or_else(|e| panic!("{href}: {e}"));
    FindingsView::new(
        "acme",
        "",
        &history(),
        query,
        &SlaPolicy::default(),
        day(30),
    )
}

/// What every page must be: one h1, headings in order, no script, no external URL, the
/// style the CSP hash names, every chart with its title, desc and table.
fn check_page(html: &str) -> Document<'_> {
    let doc = parse(html);
    assert_eq!(elements(&doc, "h1").count(), 1);
    // Headings never skip a level.
    let mut level = 0;
    for node in doc.descendants().filter(|n| n.is_element()) {
        let name = node.tag_name().name();
        if let Some(n) = name.strip_prefix('h').and_then(|n| n.parse::<u32>().ok()) {
            assert!(n <= level + 1, "<{name}> after h{level}");
            level = n;
        }
    }
    assert_eq!(elements(&doc, "script").count(), 0);
    for node in doc.descendants() {
        for attribute in ["src", "href", "action"] {
            if let Some(url) = node.attribute(attribute) {
                assert!(
                    !url.contains("://") && !url.starts_with("//"),
                    "{attribute}={url}"
                );
            }
        }
        assert!(node.attribute("style").is_none(), "inline style attribute");
    }
    let styles: Vec<Node> = elements(&doc, "style").collect();
    assert_eq!(styles.len(), 1);
    let digest = Sha256::digest(text(styles[0]).as_bytes());
    assert_eq!(
        style_hash(),
        format!(
            "'sha256-{}'",
            base64::engine::general_purpose::STANDARD.encode(digest)
        )
    );
    let csp = elements(&doc, "meta")
        .find(|m| m.attribute("http-equiv") == Some("Content-Security-Policy"))
        .and_then(|m| m.attribute("content"))
        .unwrap();
    assert!(csp.contains(&style_hash()) && csp.contains("default-src 'none'"));
    // The header the web layer sends is the same policy, never framed.
    assert_eq!(
        content_security_policy(),
        format!("{csp}; frame-ancestors 'none'")
    );
    for svg in elements(&doc, "svg") {
        assert_eq!(svg.attribute("role"), Some("img"));
        let ids: Vec<&str> = svg
            .attribute("aria-labelledby")
            .unwrap()
            .split(' ')
            .collect();
        assert!(ids[0].ends_with("-title") && ids[1].ends_with("-desc"));
        assert!(svg.children().any(|n| n.has_tag_name("title")));
        let desc = svg.children().find(|n| n.has_tag_name("desc")).unwrap();
        assert!(!text(desc).is_empty());
        let section = svg.ancestors().find(|n| n.has_tag_name("section")).unwrap();
        let table = section
            .descendants()
            .find(|n| n.has_tag_name("table"))
            .expect("a chart's table");
        assert!(table.ancestors().any(|n| n.has_tag_name("details")));
    }
    for table in elements(&doc, "table") {
        assert!(table.children().any(|n| n.has_tag_name("caption")));
        let headers: Vec<Node> = table
            .descendants()
            .filter(|n| n.has_tag_name("thead"))
            .flat_map(|h| h.descendants().filter(|n| n.has_tag_name("th")))
            .collect();
        assert!(!headers.is_empty());
        assert!(headers.iter().all(|h| h.attribute("scope") == Some("col")));
        for row in table.descendants().filter(|n| n.has_tag_name("tbody")) {
            for th in row.descendants().filter(|n| n.has_tag_name("th")) {
                assert_eq!(th.attribute("scope"), Some("row"));
            }
        }
    }
    doc
}

#[test]
fn the_org_page_states_the_summary_figures_and_links_each_to_its_findings() {
    let view = view();
    let s = history::summarize(
        "acme",
        &history(),
        &window(),
        &Filters::default(),
        &SlaPolicy::default(),
    );
    assert_eq!(view.summary, s);
    let page = org_page(&view).unwrap();
    assert_eq!(page.title, "acme: security posture");
    let doc = check_page(&page.html);
    assert_eq!(text(elements(&doc, "h1").next().unwrap()), "acme");
    let h2: Vec<String> = elements(&doc, "h2").map(text).collect();
    assert_eq!(
        h2,
        [
            "Filters",
            "Summary",
            "Open findings over time",
            "New and fixed",
            "Time to fix",
            "Risk by repository",
            "Repositories by risk",
            "Upgrade hotspots"
        ]
    );
    // Four charts, each a figure.
    assert_eq!(elements(&doc, "svg").count(), 4);

    // The figures are the summary's, and each links to as many findings as it counts.
    let counts = [
        ("open-findings", s.open.total),
        ("open-critical", s.open.critical),
        ("open-high", s.open.high),
        ("open-medium", s.open.medium),
        ("open-low", s.open.low),
        ("open-info", s.open.info),
        ("new", s.new),
        ("fixed", s.fixed),
        ("sla-breached", s.sla.breached_open),
        ("due-within-7-days", s.sla.due_within_7_days),
    ];
    // Non-trivial data: these are what the history above gives by hand.
    assert_eq!(
        counts.map(|(_, n)| n),
        [4, 1, 1, 1, 1, 0, 6, 3, 1, 1],
        "{s:#?}"
    );
    for (key, expected) in counts {
        let (value, href) = figure(&doc, key);
        assert_eq!(value, expected.to_string(), "{key}");
        assert_eq!(follow(&href).rows.len() as u64, expected, "{key}: {href}");
    }
    let (_, href) = figure(&doc, "open-high");
    assert_eq!(href, "/orgs/acme/findings?status=open&severity=high");
    let (_, href) = figure(&doc, "sla-breached");
    assert_eq!(href, "/orgs/acme/findings?status=open&sla=breached");
    let (_, href) = figure(&doc, "new");
    assert_eq!(
        href,
        "/orgs/acme/findings?status=new&from=2026-11-01T00%3A00%3A00Z&to=2026-12-01T00%3A00%3A00Z"
    );
    let (value, _) = figure(&doc, "mean-time-to-remediate");
    assert_eq!(
        value,
        format!("{} days", charts::number(s.mttr_days.unwrap()))
    );
    let (grade, _) = figure(&doc, "grade");
    assert_eq!(grade, s.grade.to_string());
    assert!(text(doc.root()).contains(&s.grade_reason));

    // Repositories ranked with grade and reason; the hostile name is text, never markup.
    let rows: Vec<Vec<String>> = doc
        .descendants()
        .filter(|n| n.attribute("class") == Some("repositories"))
        .flat_map(|t| t.descendants().filter(|n| n.has_tag_name("tbody")))
        .flat_map(|b| b.children().filter(|n| n.has_tag_name("tr")))
        .map(|tr| tr.children().filter(|n| n.is_element()).map(text).collect())
        .collect();
    let expected: Vec<Vec<String>> = s
        .repositories
        .iter()
        .map(|r| {
            vec![
                r.repository.clone(),
                r.grade.to_string(),
                r.open.total.to_string(),
                charts::number(r.risk_days),
                r.grade_reason.clone(),
            ]
        })
        .collect();
    assert_eq!(rows, expected);
    assert!(rows.iter().any(|r| r[0] == HOSTILE));
    assert!(!page.html.contains("<script"), "unescaped markup");
    let hostile_link = elements(&doc, "a")
        .find(|a| text(*a) == HOSTILE)
        .and_then(|a| a.attribute("href"))
        .unwrap();
    assert_eq!(
        hostile_link,
        "/orgs/acme/repos/acme/%3Cscript%3Ealert%28%27x%27%29%3C/script%3E%26%22q%22"
    );

    // Hotspots in words, linked to the findings the upgrade clears.
    let (hotspot, href) = figure(&doc, "hotspot");
    assert_eq!(
        hotspot,
        "bump lodash to 4.17.21: clears 3 findings in 2 repositories"
    );
    assert_eq!(follow(&href).rows.len(), 3);

    // The filter bar: a GET form whose fields are the API's parameters.
    let form = elements(&doc, "form").next().unwrap();
    assert_eq!(form.attribute("method"), Some("get"));
    assert_eq!(form.attribute("action"), Some("/orgs/acme"));
    let mut names: Vec<&str> = form
        .descendants()
        .filter_map(|n| n.attribute("name"))
        .collect();
    names.sort();
    assert_eq!(
        names,
        ["from", "kind", "repository", "severity", "to", "tool"]
    );
    for field in form
        .descendants()
        .filter(|n| n.has_tag_name("select") || n.has_tag_name("input"))
    {
        let id = field.attribute("id").unwrap();
        assert!(
            form.descendants()
                .any(|l| l.has_tag_name("label") && l.attribute("for") == Some(id)),
            "{id} has no label"
        );
    }
}

#[test]
fn filters_carry_into_every_link() {
    let view = OrgView::new(
        "acme",
        "/ui",
        history(),
        window(),
        Filters {
            kind: Some(Kind::Sca),
            tool: Some("osv-scanner".into()),
            ..Filters::default()
        },
        SlaPolicy::default(),
    );
    let page = org_page(&view).unwrap();
    let doc = check_page(&page.html);
    let (value, href) = figure(&doc, "open-findings");
    assert_eq!(value, view.summary.open.total.to_string());
    assert_eq!(
        href,
        "/ui/orgs/acme/findings?status=open&kind=sca&tool=osv-scanner"
    );
    let selected: Vec<&str> = doc
        .descendants()
        .filter(|n| n.attribute("selected").is_some())
        .filter_map(|n| n.attribute("value"))
        .collect();
    assert_eq!(selected, ["sca", "osv-scanner"]);
}

#[test]
fn the_repository_page_has_the_same_figures_for_one_repository() {
    let view = view();
    let page = repository_page(&view, HOSTILE).unwrap();
    let doc = check_page(&page.html);
    assert_eq!(text(elements(&doc, "h1").next().unwrap()), HOSTILE);
    let s = history::summarize(
        "acme",
        &history(),
        &window(),
        &Filters {
            repository: Some(HOSTILE.into()),
            ..Filters::default()
        },
        &SlaPolicy::default(),
    );
    for (key, expected) in [
        ("open-findings", s.open.total),
        ("new", s.new),
        ("fixed", s.fixed),
    ] {
        let (value, href) = figure(&doc, key);
        assert_eq!(value, expected.to_string(), "{key}");
        assert!(href.contains("repository=acme%2F%3Cscript"), "{href}");
        assert_eq!(follow(&href).rows.len() as u64, expected, "{key}");
    }
    assert_eq!((s.open.total, s.new, s.fixed), (1, 2, 1));
    // No ranking of one repository.
    assert_eq!(elements(&doc, "svg").count(), 3);
    let form = elements(&doc, "form").next().unwrap();
    assert!(
        form.descendants()
            .all(|n| n.attribute("name") != Some("repository"))
    );
    assert!(matches!(
        repository_page(&view, "acme/nosuch"),
        Err(RenderError::NotFound(_))
    ));
}

#[test]
fn the_findings_page_is_a_sortable_table_with_its_csv_link() {
    let query =
        FindingsQuery::parse([("status", "all"), ("sort", "risk"), ("order", "asc")]).unwrap();
    let view = FindingsView::new(
        "acme",
        "",
        &history(),
        query,
        &SlaPolicy::default(),
        day(30),
    );
    let page = findings_page(&view).unwrap();
    let doc = check_page(&page.html);
    let table = doc
        .descendants()
        .find(|n| n.attribute("class") == Some("findings"))
        .unwrap();
    let risks: Vec<u8> = table
        .descendants()
        .filter(|n| n.has_tag_name("tr"))
        .skip(1)
        .map(|tr| {
            text(tr.children().filter(|n| n.is_element()).nth(5).unwrap())
                .parse()
                .unwrap()
        })
        .collect();
    assert_eq!(risks.len(), 9);
    assert!(risks.windows(2).all(|w| w[0] <= w[1]), "{risks:?}");
    // The sorted column says so and toggles; the others start descending.
    let risk = table
        .descendants()
        .find(|n| n.attribute("aria-sort") == Some("ascending"))
        .unwrap();
    let link = risk.descendants().find(|n| n.has_tag_name("a")).unwrap();
    assert_eq!(
        link.attribute("href"),
        Some("/orgs/acme/findings?status=all&sort=risk&order=desc")
    );
    assert_eq!(
        table
            .descendants()
            .filter(|n| n.attribute("aria-sort") == Some("none"))
            .count(),
        SortKey::ALL.len() - 1
    );
    let csv = elements(&doc, "a")
        .find(|a| text(*a).contains("CSV"))
        .and_then(|a| a.attribute("href"))
        .unwrap();
    assert_eq!(
        csv,
        "/orgs/acme/findings?status=all&sort=risk&order=asc&format=csv"
    );
    assert_eq!(follow(csv).rows.len(), 9);
    // Unknown parameters and values are refused by name.
    assert!(
        FindingsQuery::parse([("sevrity", "high")])
            .unwrap_err()
            .contains("sevrity")
    );
    assert!(
        FindingsQuery::parse([("sort", "colour")])
            .unwrap_err()
            .contains("colour")
    );
}

#[test]
fn the_csv_export_has_the_pages_rows_in_its_order_and_defuses_formulas() {
    let mut findings = history();
    findings[0].repository = "=HYPERLINK(\"x\")".into();
    let query = FindingsQuery::parse([("status", "open"), ("sort", "risk")]).unwrap();
    let view = FindingsView::new("acme", "", &findings, query, &SlaPolicy::default(), day(30));
    let text = findings_csv(&view).unwrap();
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    assert_eq!(
        reader.headers().unwrap().iter().collect::<Vec<_>>(),
        CSV_HEADER
    );
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), view.rows.len());
    let ids: Vec<&str> = rows.iter().map(|r| &r[1]).collect();
    assert_eq!(ids, ["s1", "s2", "h1", "a2"], "by risk, highest first");
    assert_eq!(&rows[0][0], "'=HYPERLINK(\"x\")");
    assert_eq!(&rows[0][12], "lodash → 4.17.21");
}

#[test]
fn an_org_without_findings_renders_with_no_data() {
    let view = OrgView::new(
        "acme",
        "",
        Vec::new(),
        window(),
        Filters::default(),
        SlaPolicy::default(),
    );
    let page = org_page(&view).unwrap();
    let doc = check_page(&page.html);
    assert_eq!(figure(&doc, "open-findings").0, "0");
    assert!(text(doc.root()).contains("No repository has findings."));
    assert!(text(doc.root()).contains("No upgrade clears an open finding."));
    assert_eq!(elements(&doc, "svg").count(), 4);
}

#[test]
fn a_pinned_view_links_as_of_its_date() {
    let view = OrgView::new(
        "acme",
        "",
        history(),
        Window {
            from: day(0),
            to: day(27),
            as_of: day(27),
        },
        Filters::default(),
        SlaPolicy::default(),
    )
    .pinned();
    let page = org_page(&view).unwrap();
    let doc = check_page(&page.html);
    let (value, href) = figure(&doc, "open-findings");
    assert_eq!(
        href,
        "/orgs/acme/findings?status=open&as_of=2026-11-28T00%3A00%3A00Z"
    );
    // Followed at day 30, the link still lists the findings open at day 27.
    assert_eq!(follow(&href).rows.len().to_string(), value);
    assert_eq!(value, "5");
    // Unpinned, the same link would read day 30's.
    assert_eq!(follow("/orgs/acme/findings?status=open").rows.len(), 4);
}
