//! Placeholder renderers of the dashboard's pages: minimal, valid HTML documents listing the
//! figures of [`crate::history::summarize`], so the web layer can be served and tested
//! before the real renderer lands (the integrator swaps these for it, keeping the
//! signatures or adapting the three calls in `dashboard.rs`). Pure: values in, HTML out.
//!
//! What the browser test relies on: each figure is an element with `data-figure="NAME"`
//! (`open.total`, `open.critical`, …, the JSON field of the summary) whose text is the
//! number; a link with `id="findings-link"` to the findings page; the sign-out form with
//! `id="logout"` posting the CSRF token in the hidden field `csrf`.

use std::fmt::Write as _;

use crate::history::OrgSummary;
use crate::store::BranchFinding;

/// The one inline style block of every page: the Content-Security-Policy allows it by its
/// SHA-256 (`headers.rs`), and nothing else.
pub const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:2rem;color:#1b1f24;background:#fff}\
table{border-collapse:collapse}td,th{border:1px solid #d0d7de;padding:.25rem .5rem;text-align:left}\
header{display:flex;gap:1rem;align-items:center;border-bottom:2px solid #0969da;margin-bottom:1rem}\
.figure{font-size:1.5rem;font-weight:600}.error{color:#cf222e}";

/// What every page of a signed-in caller shows around its content.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Chrome<'a> {
    /// The org the page is about.
    pub org: &'a str,
    /// Who is signed in, as the audit log names them.
    pub actor: &'a str,
    /// The session's CSRF token for the sign-out form; `None` for a bearer-token caller
    /// (no session to end).
    pub csrf_token: Option<&'a str>,
}

/// `text` safe inside HTML text and double-quoted attributes.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A path segment (or several, `/` kept) safe inside a URL path.
fn path_part(text: &str) -> String {
    const SET: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'/')
        .remove(b'-')
        .remove(b'_')
        .remove(b'.');
    percent_encoding::utf8_percent_encode(text, SET).to_string()
}

fn document(title: &str, chrome: Option<&Chrome<'_>>, body: &str) -> String {
    let mut header = String::new();
    if let Some(chrome) = chrome {
        let _ = write!(
            header,
            "<header><strong><a href=\"/orgs/{org_path}\">posture · {org}</a></strong>\
             <span>signed in as {actor}</span>",
            org_path = path_part(chrome.org),
            org = escape(chrome.org),
            actor = escape(chrome.actor),
        );
        if let Some(csrf) = chrome.csrf_token {
            let _ = write!(
                header,
                "<form id=\"logout\" method=\"post\" action=\"/logout\">\
                 <input type=\"hidden\" name=\"csrf\" value=\"{}\">\
                 <button type=\"submit\">Sign out</button></form>",
                escape(csrf)
            );
        }
        header.push_str("</header>");
    }
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title}</title><style>{STYLE}</style></head>\
         <body>{header}<main>{body}</main></body></html>\n",
        title = escape(title),
    )
}

fn figures(summary: &OrgSummary) -> String {
    let open = &summary.open;
    let mut out = String::from("<dl>");
    for (name, label, value) in [
        ("open.total", "Open findings", open.total.to_string()),
        ("open.critical", "Critical", open.critical.to_string()),
        ("open.high", "High", open.high.to_string()),
        ("open.medium", "Medium", open.medium.to_string()),
        ("open.low", "Low", open.low.to_string()),
        ("new", "New in the period", summary.new.to_string()),
        ("fixed", "Fixed in the period", summary.fixed.to_string()),
        (
            "sla.breached_open",
            "Past their SLA",
            summary.sla.breached_open.to_string(),
        ),
        (
            "risk_days",
            "Risk-days",
            format!("{:.1}", summary.risk_days),
        ),
        ("grade", "Grade", format!("{:?}", summary.grade)),
    ] {
        let _ = write!(
            out,
            "<dt>{label}</dt><dd class=\"figure\" data-figure=\"{name}\">{}</dd>",
            escape(&value)
        );
    }
    out.push_str("</dl>");
    out
}

/// `GET /orgs/{org}`: the org's figures and its repositories.
pub fn org_page(summary: &OrgSummary, chrome: &Chrome<'_>) -> String {
    let org = escape(&summary.org);
    let mut body = format!("<h1>{org}</h1>{}", figures(summary));
    let _ = write!(
        body,
        "<p><a id=\"findings-link\" href=\"/orgs/{}/findings\">Open findings</a></p>\
         <h2>Repositories</h2><table><tr><th>Repository</th><th>Open</th><th>Grade</th></tr>",
        path_part(&summary.org)
    );
    for repository in &summary.repositories {
        let name = repository
            .repository
            .split_once('/')
            .map_or(repository.repository.as_str(), |(_, name)| name);
        let _ = write!(
            body,
            "<tr><td><a href=\"/orgs/{}/repos/{}\">{}</a></td><td>{}</td><td>{:?}</td></tr>",
            path_part(&summary.org),
            path_part(name),
            escape(&repository.repository),
            repository.open.total,
            repository.grade
        );
    }
    body.push_str("</table>");
    document(&format!("{} · posture", summary.org), Some(chrome), &body)
}

/// `GET /orgs/{org}/repos/{name}`: one repository's figures (`summary` filtered to it).
pub fn repository_page(repository: &str, summary: &OrgSummary, chrome: &Chrome<'_>) -> String {
    let body = format!(
        "<h1>{}</h1>{}<p><a id=\"findings-link\" href=\"/orgs/{}/findings\">Open findings</a></p>",
        escape(repository),
        figures(summary),
        path_part(&summary.org)
    );
    document(&format!("{repository} · posture"), Some(chrome), &body)
}

/// `GET /orgs/{org}/findings`: the open findings, with the CSV export's link.
pub fn findings_page(org: &str, findings: &[BranchFinding], chrome: &Chrome<'_>) -> String {
    let mut body = format!(
        "<h1>Findings of {}</h1><p><span data-figure=\"findings.count\">{}</span> shown · \
         <a id=\"csv-link\" href=\"/orgs/{}/findings?format=csv\">Export CSV</a></p>\
         <table><tr><th>Repository</th><th>Severity</th><th>Title</th><th>Where</th></tr>",
        escape(org),
        findings.len(),
        path_part(org)
    );
    for finding in findings {
        let place = match (&finding.path, finding.line) {
            (Some(path), Some(line)) => format!("{path}:{line}"),
            (Some(path), None) => path.clone(),
            _ => finding.package.clone().unwrap_or_default(),
        };
        let _ = write!(
            body,
            "<tr class=\"finding\"><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(&finding.repository),
            escape(&finding.severity),
            escape(&finding.title),
            escape(&place)
        );
    }
    body.push_str("</table>");
    document(&format!("Findings of {org} · posture"), Some(chrome), &body)
}

/// `GET /login`: the token form (no script), with `next` carried along and `error` shown.
pub fn login_page(next: Option<&str>, error: Option<&str>) -> String {
    let mut body = String::from("<h1>Sign in to posture</h1>");
    if let Some(error) = error {
        let _ = write!(
            body,
            "<p class=\"error\" role=\"alert\">{}</p>",
            escape(error)
        );
    }
    body.push_str(
        "<form id=\"login\" method=\"post\" action=\"/login/token\">\
         <p><label for=\"token\">API token (scope <code>read</code>)</label><br>\
         <input id=\"token\" name=\"token\" type=\"password\" autocomplete=\"off\" required size=\"70\"></p>",
    );
    if let Some(next) = next {
        let _ = write!(
            body,
            "<input type=\"hidden\" name=\"next\" value=\"{}\">",
            escape(next)
        );
    }
    body.push_str("<p><button type=\"submit\">Sign in</button></p></form>");
    document("Sign in · posture", None, &body)
}

/// An error page: the status's words and what went wrong.
pub fn error_page(title: &str, message: &str) -> String {
    let body = format!(
        "<h1>{}</h1><p>{}</p><p><a href=\"/login\">Sign in</a></p>",
        escape(title),
        escape(message)
    );
    document(&format!("{title} · posture"), None, &body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped_everywhere_it_lands() {
        assert_eq!(
            escape("<a href=\"x\">'&"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;"
        );
        let page = login_page(Some("/orgs/acme\"><script>"), Some("<b>bad</b>"));
        assert!(
            !page.contains("<script>") && !page.contains("<b>"),
            "{page}"
        );
        assert!(page.contains("type=\"password\""));
        assert!(page.starts_with("<!DOCTYPE html>"));
        assert_eq!(page.matches("<style>").count(), 1);
        assert_eq!(path_part("shop api/x"), "shop%20api/x");
    }
}
