//! The sign-in page and the error pages: small HTML documents outside the dashboard (whose
//! pages [`crate::report::dashboard`] renders). Pure: values in, HTML out.

use std::fmt::Write as _;

use super::signin::Provider;

/// The one inline style block of every page: the Content-Security-Policy allows it by its
/// SHA-256 (`headers.rs`), and nothing else.
pub const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:2rem;color:#1b1f24;background:#fff}\
table{border-collapse:collapse}td,th{border:1px solid #d0d7de;padding:.25rem .5rem;text-align:left}\
header{display:flex;gap:1rem;align-items:center;border-bottom:2px solid #0969da;margin-bottom:1rem}\
.figure{font-size:1.5rem;font-weight:600}.error{color:#cf222e}\
.provider{display:inline-block;margin:.25rem .5rem .25rem 0;padding:.5rem 1rem;border:1px solid #0969da;\
border-radius:6px;color:#0969da;text-decoration:none;font-weight:600}";

pub use crate::report::html::escape;

fn document(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title}</title><style>{STYLE}</style></head>\
         <body><main>{body}</main></body></html>\n",
        title = escape(title),
    )
}

/// `GET /login`: a link per sign-in provider (plain links to `/login/{provider}`, which
/// answer 303 to the provider: no form, so the CSP's `form-action 'self'` is not involved),
/// then the token form (no script), with `next` carried along and `error` shown.
pub fn login_page(providers: &[Provider], next: Option<&str>, error: Option<&str>) -> String {
    let mut body = String::from("<h1>Sign in to posture</h1>");
    if let Some(error) = error {
        let _ = write!(
            body,
            "<p class=\"error\" role=\"alert\">{}</p>",
            escape(error)
        );
    }
    if !providers.is_empty() {
        body.push_str("<nav aria-label=\"Sign-in providers\"><p>");
        for provider in providers {
            let mut href = format!("/login/{}", provider.as_str());
            if let Some(next) = next {
                href.push_str("?next=");
                href.extend(url::form_urlencoded::byte_serialize(next.as_bytes()));
            }
            let _ = write!(
                body,
                "<a class=\"provider\" href=\"{}\">Sign in with {}</a>",
                escape(&href),
                match provider {
                    Provider::GitHub => "GitHub",
                    Provider::GitLab => "GitLab",
                    Provider::Oidc => "single sign-on (OpenID Connect)",
                }
            );
        }
        body.push_str("</p></nav><p>Or with an API token:</p>");
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
    document("Sign in · posture", &body)
}

/// An error page: the status's words and what went wrong.
pub fn error_page(title: &str, message: &str) -> String {
    let body = format!(
        "<h1>{}</h1><p>{}</p><p><a href=\"/login\">Sign in</a></p>",
        escape(title),
        escape(message)
    );
    document(&format!("{title} · posture"), &body)
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
        let page = login_page(&[], Some("/orgs/acme\"><script>"), Some("<b>bad</b>"));
        assert!(
            !page.contains("<script>") && !page.contains("<b>"),
            "{page}"
        );
        assert!(page.contains("type=\"password\""));
        assert!(page.starts_with("<!DOCTYPE html>"));
        assert_eq!(page.matches("<style>").count(), 1);
        assert!(!page.contains("Sign in with"), "no provider, no link");
    }

    #[test]
    fn each_provider_is_a_link_that_carries_next() {
        let page = login_page(
            &[Provider::GitHub, Provider::Oidc],
            Some("/orgs/acme/findings?severity=high&kind=sca"),
            None,
        );
        assert!(
            page.contains(
                "<a class=\"provider\" href=\"/login/github?next=%2Forgs%2Facme%2Ffindings%3Fseverity%3Dhigh%26kind%3Dsca\">Sign in with GitHub</a>"
            ),
            "{page}"
        );
        assert!(page.contains("href=\"/login/oidc?next="), "{page}");
        assert!(!page.contains("/login/gitlab"));
        assert!(page.find("Sign in with GitHub") < page.find("id=\"token\""));
        assert!(!page.contains("<script"));
    }
}
