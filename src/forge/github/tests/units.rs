//! The small pure pieces: links, URLs, markers, cuts, encodings, rate-limit arithmetic.

use std::time::{Duration, UNIX_EPOCH};

use http::{HeaderMap, HeaderValue};

use crate::forge::github::client::{
    encode_path, error_message, graphql_base, next_link, rate_limit_wait, relative_to,
};
use crate::forge::github::clone::{base64, blobs_of_raw_diff};
use crate::forge::github::publish::{cut_chars, findings_of, fixed_marker, markers};
use crate::model::FindingId;
use crate::report::finding_marker;

#[test]
fn the_next_link_is_found_among_the_others() {
    let link = "<https://api.github.com/repositories/1300192/issues?page=2>; rel=\"prev\", \
                <https://api.github.com/repositories/1300192/issues?page=4>; rel=\"next\", \
                <https://api.github.com/repositories/1300192/issues?page=515>; rel=\"last\"";
    assert_eq!(
        next_link(link),
        Some("https://api.github.com/repositories/1300192/issues?page=4")
    );
    assert_eq!(next_link("<https://x/?page=1>; rel=\"first\""), None);
}

#[test]
fn only_links_on_the_api_origin_are_followed() {
    assert_eq!(
        relative_to(
            "https://api.github.com",
            "https://api.github.com/repositories/1/pulls?page=2"
        ),
        Some("/repositories/1/pulls?page=2".to_owned())
    );
    assert_eq!(
        relative_to(
            "https://ghe.example.com/api/v3",
            "https://ghe.example.com/api/v3/repos/a/b/pulls?page=3"
        ),
        Some("/api/v3/repos/a/b/pulls?page=3".to_owned())
    );
    assert_eq!(
        relative_to(
            "https://api.github.com",
            "https://evil.example.com/x?page=2"
        ),
        None
    );
    assert_eq!(
        relative_to("https://api.github.com", "http://api.github.com/x"),
        None
    );
}

#[test]
fn graphql_lives_beside_the_rest_api() {
    assert_eq!(graphql_base("https://api.github.com"), None);
    assert_eq!(
        graphql_base("https://ghe.example.com/api/v3"),
        Some("https://ghe.example.com/api")
    );
    assert_eq!(graphql_base("http://127.0.0.1:8080"), None);
    assert_eq!(graphql_base("http://127.0.0.1:8080/v3"), None);
}

#[test]
fn paths_are_encoded_segment_by_segment() {
    assert_eq!(encode_path("src/a b/c#d?.rs"), "src/a%20b/c%23d%3F.rs");
    assert_eq!(encode_path("naïve/100%.txt"), "na%C3%AFve/100%25.txt");
}

#[test]
fn markers_are_read_back_as_they_are_written() {
    let id = FindingId("4e4a72ae384102ba".to_owned());
    let body = format!("text\n{}\nmore {}", finding_marker(&id), fixed_marker(&id));
    assert_eq!(findings_of(&body), std::slice::from_ref(&id));
    assert_eq!(markers(&body, "<!-- posture:fixed:"), [id]);
    assert!(findings_of("<!-- posture:finding: -->").is_empty());
    assert!(findings_of("<!-- posture:finding:a b -->").is_empty());
    assert!(findings_of("<!-- posture:finding:unterminated").is_empty());
    assert!(findings_of("no marker").is_empty());
}

#[test]
fn cuts_respect_characters() {
    assert_eq!(cut_chars("short", 10, "…"), "short");
    assert_eq!(cut_chars("ééééé", 4, "…"), "ééé…");
    let long = "😀".repeat(70_000);
    let cut = cut_chars(&long, 65_535, "\n(cut)");
    assert_eq!(cut.chars().count(), 65_535);
    assert!(cut.ends_with("\n(cut)"));
}

#[test]
fn base64_matches_rfc_4648() {
    for (input, output) in [
        ("", ""),
        ("f", "Zg=="),
        ("fo", "Zm8="),
        ("foo", "Zm9v"),
        ("foob", "Zm9vYg=="),
        ("fooba", "Zm9vYmE="),
        ("foobar", "Zm9vYmFy"),
        ("x-access-token:ghs_abc", "eC1hY2Nlc3MtdG9rZW46Z2hzX2FiYw=="),
    ] {
        assert_eq!(base64(input.as_bytes()), output, "{input}");
    }
}

#[test]
fn the_blobs_of_a_raw_diff_are_both_sides_but_not_submodules_or_null_ids() {
    let zero = "0".repeat(40);
    let (a, b, c, s) = (
        "a".repeat(40),
        "b".repeat(40),
        "c".repeat(40),
        "d".repeat(40),
    );
    let raw = format!(
        ":100644 100644 {a} {b} M\0src/x.rs\0:000000 100644 {zero} {c} A\0new.rs\0:160000 160000 {s} {s} M\0vendor/sub\0"
    );
    assert_eq!(blobs_of_raw_diff(raw.as_bytes()), [a, b, c]);
}

#[test]
fn rate_limit_waits() {
    let now = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    let headers = |pairs: &[(&'static str, &str)]| {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.insert(*k, HeaderValue::from_str(v).unwrap());
        }
        map
    };
    let wait = |status, pairs: &[(&'static str, &str)], message| {
        rate_limit_wait(status, &headers(pairs), message, now)
    };
    assert_eq!(
        wait(403, &[("retry-after", "30")], ""),
        Some(Duration::from_secs(30))
    );
    assert_eq!(
        wait(
            403,
            &[
                ("x-ratelimit-remaining", "0"),
                ("x-ratelimit-reset", "1700000100")
            ],
            ""
        ),
        Some(Duration::from_secs(100))
    );
    assert_eq!(
        wait(429, &[("x-ratelimit-reset", "1700000042")], ""),
        Some(Duration::from_secs(42))
    );
    // A reset already past still waits a moment.
    assert_eq!(
        wait(429, &[("x-ratelimit-reset", "1600000000")], ""),
        Some(Duration::from_secs(1))
    );
    assert_eq!(wait(429, &[], ""), Some(Duration::from_secs(60)));
    assert_eq!(
        wait(403, &[], "You have exceeded a secondary rate limit"),
        Some(Duration::from_secs(60))
    );
    assert_eq!(
        wait(
            403,
            &[("x-ratelimit-remaining", "12")],
            "Resource not accessible by integration"
        ),
        None
    );
    assert_eq!(wait(500, &[("retry-after", "30")], ""), None);
}

#[test]
fn error_messages_carry_githubs_details() {
    assert_eq!(
        error_message(
            422,
            br#"{"message":"Validation Failed","errors":[{"resource":"Issue","field":"title","code":"missing_field"}]}"#
        ),
        "Validation Failed: Issue title missing_field"
    );
    assert_eq!(error_message(404, b""), "Not Found");
    assert_eq!(
        error_message(502, b"<html>bad gateway</html>"),
        "Bad Gateway"
    );
    assert_eq!(error_message(400, b"plain words"), "plain words");
}
