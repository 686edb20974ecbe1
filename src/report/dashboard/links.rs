//! The dashboard's URLs: `{base}/orgs/{org}` (the org page), `{base}/orgs/{org}/repos/{repository}`
//! (a repository page; the repository keeps its slashes, each segment percent-encoded, so
//! the web layer routes `/orgs/{org}/repos/{*repository}`) and `{base}/orgs/{org}/findings?…`
//! (the findings behind a figure). Query strings are form-encoded; the page escapes them.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

/// What a path segment may hold unencoded (RFC 3986 unreserved).
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

fn segment(text: &str) -> String {
    utf8_percent_encode(text, SEGMENT).to_string()
}

/// Where a dashboard's pages live.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paths {
    /// Prefix of every link (`""` for the server's root), without a trailing slash.
    pub base: String,
    pub org: String,
}

impl Paths {
    pub fn new(base: &str, org: &str) -> Paths {
        Paths {
            base: base.trim_end_matches('/').to_owned(),
            org: org.to_owned(),
        }
    }

    pub fn org_page(&self) -> String {
        format!("{}/orgs/{}", self.base, segment(&self.org))
    }

    pub fn repository_page(&self, repository: &str) -> String {
        let segments: Vec<String> = repository.split('/').map(segment).collect();
        format!("{}/repos/{}", self.org_page(), segments.join("/"))
    }

    pub fn findings_page(&self) -> String {
        format!("{}/findings", self.org_page())
    }

    /// The findings page with `pairs` as its query (empty values left out).
    pub fn findings(&self, pairs: &[(&str, String)]) -> String {
        with_query(&self.findings_page(), pairs)
    }
}

/// `path?query` from `pairs` (empty values left out); `path` alone without any.
pub fn with_query(path: &str, pairs: &[(&str, String)]) -> String {
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    let mut any = false;
    for (key, value) in pairs {
        if !value.is_empty() {
            query.append_pair(key, value);
            any = true;
        }
    }
    if any {
        format!("{path}?{}", query.finish())
    } else {
        path.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_encode_segments_and_queries() {
        let paths = Paths::new("/", "acme");
        assert_eq!(paths.org_page(), "/orgs/acme");
        assert_eq!(
            paths.repository_page("group/sub group/app?x"),
            "/orgs/acme/repos/group/sub%20group/app%3Fx"
        );
        assert_eq!(
            paths.findings(&[
                ("status", "open".into()),
                ("repository", "a&b/c d".into()),
                ("tool", String::new()),
            ]),
            "/orgs/acme/findings?status=open&repository=a%26b%2Fc+d"
        );
        assert_eq!(with_query("/x", &[]), "/x");
    }
}
