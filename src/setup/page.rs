//! The HTML of the setup flow: the page whose button posts the manifest to GitHub, the page
//! after the App is created, and the page of a failure. Plain HTML, no script; every value
//! inserted is escaped for text and attributes alike. No page shows a secret.

pub use crate::report::html::escape;

/// What the setup page shows.
pub struct SetupPage<'a> {
    /// Where the form posts: GitHub's "new App" page with the `state`.
    pub action: &'a str,
    /// The manifest, JSON.
    pub manifest: &'a str,
    /// The organization that will own the App; the person's own account when `None`.
    pub org: Option<&'a str>,
    pub webhook_url: &'a str,
    pub redirect_url: &'a str,
    /// What is configured now, when something is.
    pub current: Option<String>,
}

/// The page with the button that creates the App on GitHub.
pub fn setup(page: &SetupPage<'_>) -> String {
    let owner = match page.org {
        Some(org) => format!("the organization <strong>{}</strong>", escape(org)),
        None => "your GitHub account".to_owned(),
    };
    let current = page
        .current
        .as_deref()
        .map(|note| format!("<p class=\"note\">{}</p>\n", escape(note)))
        .unwrap_or_default();
    let body = format!(
        "<h1>Create posture's GitHub App</h1>\n\
         <p>GitHub will create a GitHub App owned by {owner}, with the permissions and events \
         posture needs and its webhook at <code>{webhook}</code>. You can change its name on \
         GitHub before you confirm. GitHub then sends you back to <code>{redirect}</code>, \
         where posture stores the App's private key and webhook secret, encrypted, and shows \
         the link to install it.</p>\n\
         {current}\
         <form method=\"post\" action=\"{action}\">\n\
         <input type=\"hidden\" name=\"manifest\" value=\"{manifest}\">\n\
         <button type=\"submit\">Create the GitHub App on GitHub</button>\n\
         </form>\n\
         <p class=\"hint\">{hint} The button works for an hour.</p>\n",
        hint = match page.org {
            Some(_) => "For your own account instead, open this page without <code>org</code>.",
            None =>
                "To have an organization own the App, open this page with \
                     <code>org=NAME</code> added to its query.",
        },
        webhook = escape(page.webhook_url),
        redirect = escape(page.redirect_url),
        action = escape(page.action),
        manifest = escape(page.manifest),
    );
    document("posture: create the GitHub App", &body)
}

/// What the page after a successful creation shows.
pub struct CreatedPage<'a> {
    pub name: &'a str,
    pub app_id: u64,
    pub slug: &'a str,
    /// `{html_url}/installations/new`, when GitHub gave a usable `html_url`.
    pub install_url: Option<&'a str>,
    /// Whether this server now uses the App, or what to do so it does.
    pub status: &'a str,
}

/// The page after the App is created and stored.
pub fn created(page: &CreatedPage<'_>) -> String {
    let install = match page.install_url {
        Some(url) => format!(
            "<p><a class=\"button\" href=\"{url}\">Install {name} on your repositories</a></p>\n",
            url = escape(url),
            name = escape(page.name),
        ),
        None => "<p>Install it from the App's page on GitHub.</p>\n".to_owned(),
    };
    let body = format!(
        "<h1>The GitHub App {name} is created</h1>\n\
         <p>App id <strong>{id}</strong> (<code>{slug}</code>). Its private key and webhook \
         secret are stored in posture's database, encrypted with <code>POSTURE_SECRET_KEY</code>; \
         keep that key, posture needs it to read them.</p>\n\
         {install}\
         <p class=\"note\">{status}</p>\n\
         <p class=\"hint\">Setup is done: unset <code>POSTURE_SETUP_TOKEN</code> so nobody can \
         replace the App.</p>\n",
        name = escape(page.name),
        id = page.app_id,
        slug = escape(page.slug),
        status = escape(page.status),
    );
    document("posture: GitHub App created", &body)
}

/// A failure, said plainly (never with a secret).
pub fn failed(title: &str, message: &str) -> String {
    let body = format!("<h1>{}</h1>\n<p>{}</p>\n", escape(title), escape(message));
    document(&format!("posture: {title}"), &body)
}

fn document(title: &str, body: &str) -> String {
    format!(
        "<!doctype html>\n\
         <html lang=\"en\">\n\
         <head>\n\
         <meta charset=\"utf-8\">\n\
         <meta name=\"referrer\" content=\"no-referrer\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{title}</title>\n\
         <style>\n\
         body {{ font-family: system-ui, sans-serif; max-width: 42rem; margin: 3rem auto; \
         padding: 0 1rem; line-height: 1.5; color: #1f2328; }}\n\
         code {{ background: #f6f8fa; padding: 0 .2em; border-radius: 3px; }}\n\
         button, .button {{ display: inline-block; font: inherit; padding: .6em 1.2em; \
         border: 0; border-radius: 6px; background: #1f883d; color: #fff; cursor: pointer; \
         text-decoration: none; }}\n\
         .note {{ border-left: 3px solid #9a6700; padding-left: .8em; }}\n\
         .hint {{ color: #59636e; font-size: .9em; }}\n\
         </style>\n\
         </head>\n\
         <body>\n\
         {body}\
         </body>\n\
         </html>\n",
        title = escape(title),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_covers_text_and_both_quotes() {
        assert_eq!(
            escape(r#"<a href="x">'&'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
    }

    #[test]
    fn the_manifest_cannot_break_out_of_its_attribute() {
        let html = setup(&SetupPage {
            action: "https://github.com/settings/apps/new?state=s",
            manifest: r#"{"name":"\"><script>alert(1)</script>"}"#,
            org: Some("<acme>"),
            webhook_url: "https://h/webhooks/github",
            redirect_url: "https://h/setup/github/callback",
            current: None,
        });
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains("<acme>"), "{html}");
        assert!(html.contains("value=\"{&quot;name&quot;:"), "{html}");
    }
}
