//! The web layer's settings, read from `POSTURE_*` variables: how long a session lasts
//! (`POSTURE_SESSION_HOURS`), the public URL browsers reach posture at (`POSTURE_PUBLIC_URL`,
//! which says whether cookies are `Secure` and which origin may post the sign-in form), and
//! the reverse proxies whose `X-Forwarded-Proto` / `X-Forwarded-For` are believed
//! (`POSTURE_TRUSTED_PROXIES`). Pure: the variables come in as a lookup function.

use std::net::IpAddr;
use std::time::Duration;

use axum::http::HeaderMap;

/// The variable of a session's lifetime, in hours.
pub const SESSION_HOURS_VAR: &str = "POSTURE_SESSION_HOURS";
/// The variable of the proxies posture believes forwarded headers from.
pub const TRUSTED_PROXIES_VAR: &str = "POSTURE_TRUSTED_PROXIES";
/// The variable of the public base URL.
pub const PUBLIC_URL_VAR: &str = "POSTURE_PUBLIC_URL";

/// A session's lifetime when `POSTURE_SESSION_HOURS` is unset.
pub const DEFAULT_SESSION_HOURS: u64 = 8;
/// The longest lifetime accepted: a month.
pub const MAX_SESSION_HOURS: u64 = 720;

/// A setting that cannot be used. Names the variable and why, never a secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebConfigError {
    #[error(
        "{SESSION_HOURS_VAR} must be a whole number of hours from 1 to {MAX_SESSION_HOURS}, not `{0}`"
    )]
    SessionHours(String),
    #[error("{TRUSTED_PROXIES_VAR} must list IP addresses separated by commas; `{0}` is not one")]
    TrustedProxy(String),
    #[error(
        "{PUBLIC_URL_VAR} must be an http or https URL without query or fragment, such as https://posture.example.com"
    )]
    PublicUrl,
}

/// What the web layer needs to know about how it is reached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebConfig {
    pub session_lifetime: Duration,
    /// The public base URL, when set.
    pub public_url: Option<url::Url>,
    pub trusted_proxies: Vec<IpAddr>,
}

impl Default for WebConfig {
    fn default() -> WebConfig {
        WebConfig {
            session_lifetime: Duration::from_secs(DEFAULT_SESSION_HOURS * 3600),
            public_url: None,
            trusted_proxies: Vec::new(),
        }
    }
}

impl WebConfig {
    /// The settings of the process's environment.
    pub fn from_env() -> Result<WebConfig, WebConfigError> {
        WebConfig::from_vars(|name| std::env::var(name).ok())
    }

    /// The settings `var` gives (empty counts as unset).
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Result<WebConfig, WebConfigError> {
        let var = |name: &str| var(name).filter(|value| !value.trim().is_empty());
        let mut config = WebConfig::default();
        if let Some(hours) = var(SESSION_HOURS_VAR) {
            let parsed = hours
                .trim()
                .parse::<u64>()
                .ok()
                .filter(|h| (1..=MAX_SESSION_HOURS).contains(h))
                .ok_or_else(|| WebConfigError::SessionHours(hours.clone()))?;
            config.session_lifetime = Duration::from_secs(parsed * 3600);
        }
        if let Some(url) = var(PUBLIC_URL_VAR) {
            let parsed = url::Url::parse(url.trim()).map_err(|_| WebConfigError::PublicUrl)?;
            // A query or fragment would land inside every callback URL built on it.
            if !matches!(parsed.scheme(), "http" | "https")
                || parsed.host_str().is_none()
                || parsed.query().is_some()
                || parsed.fragment().is_some()
            {
                return Err(WebConfigError::PublicUrl);
            }
            config.public_url = Some(parsed);
        }
        if let Some(proxies) = var(TRUSTED_PROXIES_VAR) {
            config.trusted_proxies = proxies
                .split(',')
                .map(str::trim)
                .filter(|p| !p.is_empty())
                .map(|p| {
                    p.parse::<IpAddr>()
                        .map_err(|_| WebConfigError::TrustedProxy(p.to_owned()))
                })
                .collect::<Result<_, _>>()?;
        }
        Ok(config)
    }

    fn trusts(&self, peer: Option<IpAddr>) -> bool {
        peer.is_some_and(|peer| self.trusted_proxies.contains(&peer))
    }

    /// Whether the browser reaches posture over TLS: the public URL is https, or a trusted
    /// proxy (the connection's `peer`) says `X-Forwarded-Proto: https`.
    pub fn behind_tls(&self, headers: &HeaderMap, peer: Option<IpAddr>) -> bool {
        self.public_url
            .as_ref()
            .is_some_and(|url| url.scheme() == "https")
            || (self.trusts(peer)
                && header(headers, "x-forwarded-proto")
                    .is_some_and(|proto| proto.trim().eq_ignore_ascii_case("https")))
    }

    /// The client's address: the connection's peer, or, when that is a trusted proxy, the
    /// address it appended last to `X-Forwarded-For`.
    pub fn client_address(&self, headers: &HeaderMap, peer: Option<IpAddr>) -> Option<IpAddr> {
        if self.trusts(peer) {
            let forwarded = header(headers, "x-forwarded-for")
                .and_then(|list| list.rsplit(',').next())
                .and_then(|last| last.trim().parse().ok());
            if forwarded.is_some() {
                return forwarded;
            }
        }
        peer
    }

    /// The origin a form of posture's is posted from: the public URL's, else the `Host` the
    /// request names (over https when [`WebConfig::behind_tls`]).
    pub fn expected_origin(
        &self,
        headers: &HeaderMap,
        peer: Option<IpAddr>,
    ) -> Option<url::Origin> {
        if let Some(url) = &self.public_url {
            return Some(url.origin());
        }
        let host = header(headers, "host")?;
        let scheme = if self.behind_tls(headers, peer) {
            "https"
        } else {
            "http"
        };
        url::Url::parse(&format!("{scheme}://{host}"))
            .ok()
            .map(|url| url.origin())
    }

    /// Whether a state-changing request comes from posture's own pages: its `Origin` (else
    /// its `Referer`) is posture's origin. A request with neither (not from a browser, or one
    /// that strips both) is let through: SameSite=Lax keeps other sites' posts cookie-less.
    pub fn same_origin(&self, headers: &HeaderMap, peer: Option<IpAddr>) -> bool {
        let sent = header(headers, "origin").or_else(|| header(headers, "referer"));
        let Some(sent) = sent else {
            return true;
        };
        let Ok(sent) = url::Url::parse(sent.trim()) else {
            // `Origin: null` (a sandboxed frame, a redirect across sites) and garbage.
            return false;
        };
        self.expected_origin(headers, peer)
            .is_some_and(|expected| expected == sent.origin())
    }
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|value| value.to_str().ok())
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn config(vars: &[(&str, &str)]) -> Result<WebConfig, WebConfigError> {
        WebConfig::from_vars(|name| {
            vars.iter()
                .find(|(var, _)| *var == name)
                .map(|(_, value)| (*value).to_owned())
        })
    }

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_static(value));
        }
        map
    }

    #[test]
    fn settings_parse_and_bad_ones_are_named() {
        assert_eq!(config(&[]).unwrap().session_lifetime.as_secs(), 8 * 3600);
        let set = config(&[
            (SESSION_HOURS_VAR, "2"),
            (TRUSTED_PROXIES_VAR, "10.0.0.1, ::1"),
        ])
        .unwrap();
        assert_eq!(set.session_lifetime.as_secs(), 7200);
        assert_eq!(set.trusted_proxies.len(), 2);
        for bad in ["0", "-1", "eight", "721"] {
            let error = config(&[(SESSION_HOURS_VAR, bad)]).unwrap_err().to_string();
            assert!(
                error.contains(SESSION_HOURS_VAR) && error.contains(bad),
                "{error}"
            );
        }
        assert!(matches!(
            config(&[(TRUSTED_PROXIES_VAR, "10.0.0.1,proxy.local")]),
            Err(WebConfigError::TrustedProxy(p)) if p == "proxy.local"
        ));
        for bad in [
            "ftp://x",
            "https://posture.example/?a=b",
            "https://posture.example/#x",
        ] {
            assert_eq!(
                config(&[(PUBLIC_URL_VAR, bad)]),
                Err(WebConfigError::PublicUrl),
                "{bad}"
            );
        }
        assert!(config(&[(PUBLIC_URL_VAR, "https://example.com/posture/")]).is_ok());
    }

    #[test]
    fn tls_and_client_address_believe_only_trusted_proxies() {
        let proxy: IpAddr = "10.0.0.1".parse().unwrap();
        let stranger: IpAddr = "203.0.113.9".parse().unwrap();
        let forwarded = headers(&[
            ("x-forwarded-proto", "https"),
            ("x-forwarded-for", "198.51.100.7, 192.0.2.1"),
        ]);
        let plain = config(&[(TRUSTED_PROXIES_VAR, "10.0.0.1")]).unwrap();
        assert!(plain.behind_tls(&forwarded, Some(proxy)));
        assert!(!plain.behind_tls(&forwarded, Some(stranger)));
        assert_eq!(
            plain.client_address(&forwarded, Some(proxy)),
            "192.0.2.1".parse().ok()
        );
        assert_eq!(
            plain.client_address(&forwarded, Some(stranger)),
            Some(stranger)
        );
        let https = config(&[(PUBLIC_URL_VAR, "https://posture.example.com")]).unwrap();
        assert!(https.behind_tls(&HeaderMap::new(), None));
    }

    #[test]
    fn origins_are_compared_with_the_public_url_or_the_host() {
        let https = config(&[(PUBLIC_URL_VAR, "https://posture.example.com/")]).unwrap();
        assert!(https.same_origin(&headers(&[("origin", "https://posture.example.com")]), None));
        assert!(https.same_origin(
            &headers(&[("referer", "https://posture.example.com/login?next=/x")]),
            None
        ));
        assert!(!https.same_origin(&headers(&[("origin", "https://evil.example")]), None));
        assert!(!https.same_origin(&headers(&[("origin", "http://posture.example.com")]), None));
        assert!(!https.same_origin(&headers(&[("origin", "null")]), None));
        assert!(https.same_origin(&HeaderMap::new(), None));
        let local = WebConfig::default();
        assert!(local.same_origin(
            &headers(&[
                ("host", "127.0.0.1:8080"),
                ("origin", "http://127.0.0.1:8080")
            ]),
            None
        ));
        assert!(!local.same_origin(
            &headers(&[
                ("host", "127.0.0.1:8080"),
                ("origin", "http://127.0.0.1:9090")
            ]),
            None
        ));
    }
}
