//! Whether a server an API document names is reachable from the internet, judged from its
//! URL alone (no lookups): what raises an unauthenticated endpoint from medium to high.
//!
//! Public: an `http`/`https` URL (or a scheme-relative `//host`, as Swagger 2.0's `host`
//! gives) whose host is a public IP address or a dotted name outside the names reserved for
//! private use. Not public: `localhost`, loopback, private (RFC 1918, unique-local `fc00::/7`),
//! link-local, unspecified and shared (`100.64.0.0/10`) addresses; names under `.local`,
//! `.internal`, `.corp`, `.lan`, `.localhost`, `.test`, `.example`, `.invalid`, `.home.arpa`;
//! `example.com`/`.org`/`.net` and their subdomains (RFC 2606); and single-label names
//! (`http://api:8080`, a container or intranet host). Unknown (`None`): a relative URL, a
//! host holding a `{variable}`, any other scheme, or a URL that does not parse.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Private top-level names, and the reserved example domains (with their subdomains).
const PRIVATE_SUFFIXES: &[&str] = &[
    "local",
    "internal",
    "corp",
    "lan",
    "localhost",
    "test",
    "example",
    "invalid",
    "home.arpa",
    "example.com",
    "example.org",
    "example.net",
];

/// Whether the server at `url` looks public; `None` when the URL cannot tell.
pub fn is_public(url: &str) -> Option<bool> {
    let url = url.trim();
    let absolute = if url.starts_with("//") {
        format!("https:{url}")
    } else {
        url.to_string()
    };
    let scheme_end = absolute.find("://")?;
    let scheme = absolute[..scheme_end].to_ascii_lowercase();
    if scheme != "http" && scheme != "https" {
        return None;
    }
    // The authority, before any path, query or fragment: a `{variable}` there hides the host.
    let authority = absolute[scheme_end + 3..]
        .split(['/', '?', '#'])
        .next()
        .unwrap_or_default();
    if authority.contains('{') {
        return None;
    }
    let parsed = url::Url::parse(&absolute).ok()?;
    Some(match parsed.host()? {
        url::Host::Ipv4(ip) => is_public_ip(IpAddr::V4(ip)),
        url::Host::Ipv6(ip) => is_public_ip(IpAddr::V6(ip)),
        url::Host::Domain(name) => is_public_name(name),
    })
}

fn is_public_name(name: &str) -> bool {
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    if name == "localhost" || !name.contains('.') {
        return false;
    }
    !PRIVATE_SUFFIXES
        .iter()
        .any(|suffix| name == *suffix || name.ends_with(&format!(".{suffix}")))
}

fn is_public_ip(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(ip) => !is_private_v4(ip),
        IpAddr::V6(ip) => match ip.to_ipv4_mapped() {
            Some(v4) => !is_private_v4(v4),
            None => !is_private_v6(ip),
        },
    }
}

fn is_private_v4(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        // Shared address space (carrier-grade NAT), RFC 6598.
        || (a == 100 && (64..128).contains(&b))
}

fn is_private_v6(ip: Ipv6Addr) -> bool {
    let first = ip.segments()[0];
    ip.is_loopback()
        || ip.is_unspecified()
        // Unique local fc00::/7 and link-local fe80::/10.
        || (first & 0xfe00) == 0xfc00
        || (first & 0xffc0) == 0xfe80
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_hosts_are_told_from_private_ones() {
        let cases = [
            ("http://petstore.swagger.io/v1", Some(true)),
            ("https://api.github.com", Some(true)),
            ("//petstore.swagger.io/v1", Some(true)),
            ("https://8.8.8.8:443/", Some(true)),
            ("http://localhost:8080/api", Some(false)),
            ("http://127.0.0.1:3000", Some(false)),
            ("http://10.1.2.3", Some(false)),
            ("http://172.20.0.5/v1", Some(false)),
            ("http://192.168.1.10", Some(false)),
            ("http://169.254.169.254/latest", Some(false)),
            ("http://[::1]:8080", Some(false)),
            ("http://[fd12:3456::1]/", Some(false)),
            ("http://[fe80::1]/", Some(false)),
            ("https://api.internal/v2", Some(false)),
            ("https://billing.corp", Some(false)),
            ("https://printer.local", Some(false)),
            ("https://app.localhost", Some(false)),
            ("https://api.example.com/v1", Some(false)),
            ("https://example.com", Some(false)),
            ("http://api:8080", Some(false)),
            ("/v3", None),
            ("v1/api", None),
            ("https://{region}.api.acme.io/v1", None),
            ("https://api.acme.io/{basePath}", Some(true)),
            ("wss://stream.acme.io", None),
            ("", None),
        ];
        for (url, expected) in cases {
            assert_eq!(is_public(url), expected, "{url}");
        }
    }
}
