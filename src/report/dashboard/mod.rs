//! The dashboard's pages as complete HTML documents (issue 12), rendered with handlebars
//! (HTML escaping on) from `templates/dashboard/`: the org page, a repository page and the
//! findings behind any figure. The web layer serves them; `posture report --format html`
//! prints the org page, and the digest's HTML is the same.
//!
//! The documents are XHTML-compatible HTML5 (void elements closed, no named entities), so a
//! plain XML parser reads them; they hold no script, no external URL and one inline
//! `<style>` whose CSP hash is [`style_hash`] (each page also carries the policy in a
//! `<meta>`, so a saved file keeps it). Every chart comes with its numbers as a table.

mod findings;
mod links;
mod view;

use std::sync::OnceLock;

use base64::Engine;
use handlebars::Handlebars;
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::RenderError;

pub use findings::{
    CSV_HEADER, FindingRow, FindingsQuery, FindingsView, SlaState, SortKey, Status, findings_csv,
    format_time, parse_time, rows, sort,
};
pub use links::{Paths, with_query};
pub use view::{OrgView, last_days};

const STYLE: &str = include_str!("../../../templates/dashboard/style.css");
const LAYOUT: &str = include_str!("../../../templates/dashboard/layout.hbs");
const ORG: &str = include_str!("../../../templates/dashboard/org.hbs");
const FINDINGS: &str = include_str!("../../../templates/dashboard/findings.hbs");
const FILTERS: &str = include_str!("../../../templates/dashboard/filters.hbs");
const CHART: &str = include_str!("../../../templates/dashboard/chart.hbs");
const TABLE: &str = include_str!("../../../templates/dashboard/table.hbs");

/// The signed-in person a page shows, with the form that signs them out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Session {
    /// As the audit log names them.
    pub actor: String,
    /// The session's CSRF token, posted by the sign-out form.
    pub csrf_token: String,
}

/// A rendered page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    pub title: String,
    pub html: String,
}

/// The CSP source of the pages' one inline style: `'sha256-…'` (quotes included), for
/// `style-src`.
pub fn style_hash() -> String {
    let digest = Sha256::digest(STYLE.as_bytes());
    format!(
        "'sha256-{}'",
        base64::engine::general_purpose::STANDARD.encode(digest)
    )
}

/// The Content-Security-Policy header the pages need: nothing but the inline style and
/// forms to the same origin, never framed.
pub fn content_security_policy() -> String {
    format!("{}; frame-ancestors 'none'", meta_policy())
}

/// The policy a page declares in its `<meta>` (where `frame-ancestors` is not allowed).
fn meta_policy() -> String {
    format!(
        "default-src 'none'; style-src {}; form-action 'self'; base-uri 'none'",
        style_hash()
    )
}

/// The templates, registered once (strict: a missing field is an error, not a blank).
fn registry() -> Result<&'static Handlebars<'static>, RenderError> {
    static REGISTRY: OnceLock<Handlebars<'static>> = OnceLock::new();
    if let Some(registry) = REGISTRY.get() {
        return Ok(registry);
    }
    let mut registry = Handlebars::new();
    registry.set_strict_mode(true);
    for (name, text) in [
        ("layout", LAYOUT),
        ("org", ORG),
        ("findings", FINDINGS),
        ("filters", FILTERS),
        ("chart", CHART),
        ("table", TABLE),
    ] {
        registry
            .register_template_string(name, text)
            .map_err(|e| RenderError::Registration(Box::new(e)))?;
    }
    Ok(REGISTRY.get_or_init(|| registry))
}

#[derive(Serialize)]
struct Layout<'a> {
    title: &'a str,
    style: &'static str,
    csp: String,
    body: &'a str,
    session: Option<&'a Session>,
}

/// Wraps `body` in the document.
fn document(title: String, body: &str, session: Option<&Session>) -> Result<Page, RenderError> {
    let html = registry()?.render(
        "layout",
        &Layout {
            title: &title,
            style: STYLE,
            csp: meta_policy(),
            body,
            session,
        },
    )?;
    Ok(Page { title, html })
}

/// The org page.
pub fn org_page(view: &OrgView) -> Result<Page, RenderError> {
    let body = registry()?.render("org", &view.context(None))?;
    document(
        format!("{}: security posture", view.paths.org),
        &body,
        view.session.as_ref(),
    )
}

/// One repository's page; [`RenderError::NotFound`] when the org has no such repository.
pub fn repository_page(view: &OrgView, repository: &str) -> Result<Page, RenderError> {
    let view = view
        .for_repository(repository)
        .ok_or_else(|| RenderError::NotFound(format!("repository `{repository}`")))?;
    let body = registry()?.render("org", &view.context(Some(repository)))?;
    document(
        format!("{repository}: security posture ({})", view.paths.org),
        &body,
        view.session.as_ref(),
    )
}

#[derive(Serialize)]
struct Column {
    heading: &'static str,
    href: String,
    /// `ascending`, `descending` or `none` (`aria-sort`).
    sort: &'static str,
}

#[derive(Serialize)]
struct FindingsContext<'a> {
    org: &'a str,
    org_href: String,
    description: String,
    count: usize,
    csv_href: String,
    columns: Vec<Column>,
    rows: Vec<RowContext<'a>>,
    form: view::Form,
}

#[derive(Serialize)]
struct RowContext<'a> {
    finding_id: &'a str,
    repository: &'a str,
    severity: &'static str,
    kind: &'static str,
    rule: &'a str,
    risk: u8,
    first_detected: String,
    due: String,
    state: &'static str,
    tools: String,
    upgrade: String,
}

/// The findings page: a table sortable by its column headings, with the CSV link of the
/// same query.
pub fn findings_page(view: &FindingsView) -> Result<Page, RenderError> {
    let page = view.paths.findings_page();
    let query = &view.query;
    let columns = SortKey::ALL
        .into_iter()
        .map(|key| {
            let current = key == query.sort;
            // The current column toggles; another starts descending.
            let descending = if current { !query.descending } else { true };
            let mut pairs = query.pairs(false);
            pairs.push(("sort", key.as_str().to_owned()));
            pairs.push(("order", if descending { "desc" } else { "asc" }.to_owned()));
            Column {
                heading: key.heading(),
                href: with_query(&page, &pairs),
                sort: match (current, query.descending) {
                    (false, _) => "none",
                    (true, true) => "descending",
                    (true, false) => "ascending",
                },
            }
        })
        .collect();
    let mut csv = query.pairs(true);
    csv.push(("format", "csv".to_owned()));
    let date = |t: Option<chrono::DateTime<chrono::Utc>>| {
        t.map(|t| t.format("%Y-%m-%d").to_string())
            .unwrap_or_default()
    };
    let rows = view
        .rows
        .iter()
        .map(|r| RowContext {
            finding_id: &r.finding_id,
            repository: &r.repository,
            severity: r.severity.as_str(),
            kind: r.kind.as_str(),
            rule: &r.rule,
            risk: r.risk_score,
            first_detected: date(r.first_detected),
            due: date(r.due),
            state: r.state,
            tools: r.tools.join(", "),
            upgrade: r.upgrade.clone().unwrap_or_default(),
        })
        .collect();
    let mut description = vec![format!("status {}", query.status.as_str())];
    if let Some(sla) = query.sla {
        description.push(format!("SLA {}", sla.as_str().replace('_', " ")));
    }
    let filters = &query.filters;
    for (name, value) in [
        ("repository", filters.repository.clone()),
        ("severity", filters.severity.map(|s| s.as_str().to_owned())),
        ("kind", filters.kind.map(|k| k.as_str().to_owned())),
        ("tool", filters.tool.clone()),
        ("ecosystem", query.ecosystem.clone()),
        ("package", query.package.clone()),
    ] {
        if let Some(value) = value {
            description.push(format!("{name} {value}"));
        }
    }
    if matches!(query.status, Status::New | Status::Fixed) {
        description.push(format!(
            "from {} to {}",
            format_time(view.window.from),
            format_time(view.window.to)
        ));
    }
    let mut form = view::form(
        page.clone(),
        filters,
        query.from,
        query.to,
        Some(view.repositories.clone()),
        view.tools.clone(),
        Some(query.status),
    );
    // What the bar has no field for travels along.
    form.hidden = query
        .pairs(true)
        .into_iter()
        .filter(|(name, value)| {
            matches!(
                *name,
                "sla" | "ecosystem" | "package" | "as_of" | "sort" | "order"
            ) && !value.is_empty()
        })
        .map(|(name, value)| view::Hidden { name, value })
        .collect();
    let context = FindingsContext {
        org: &view.paths.org,
        org_href: view.paths.org_page(),
        description: description.join(", "),
        count: view.rows.len(),
        csv_href: with_query(&page, &csv),
        columns,
        rows,
        form,
    };
    let body = registry()?.render("findings", &context)?;
    document(
        format!("Findings of {}", view.paths.org),
        &body,
        view.session.as_ref(),
    )
}

#[cfg(test)]
mod tests;
