//! posture's hidden markers in GitHub comment bodies: reading every finding a comment names
//! (a comment lists each finding on its line), the "fixed" reply's marker, and putting a
//! missing marker back on a body handed in without it, so a re-run always finds its own
//! comments.

use crate::model::FindingId;
use crate::report::finding_marker;

pub(super) const FIXED_PREFIX: &str = "<!-- posture:fixed:";
const MARKER_SUFFIX: &str = " -->";

/// The marker of a reply that says a finding is fixed.
pub(crate) fn fixed_marker(id: &FindingId) -> String {
    format!("{FIXED_PREFIX}{id}{MARKER_SUFFIX}")
}

/// The "fixed" markers of every finding a comment lists, one reply for them all.
pub(crate) fn fixed_markers(findings: &[FindingId]) -> String {
    findings
        .iter()
        .map(fixed_marker)
        .collect::<Vec<_>>()
        .join(" ")
}

/// The finding ids of every `prefix…ID -->` marker in `body`, in order.
pub(crate) fn markers(body: &str, prefix: &str) -> Vec<FindingId> {
    let mut out = Vec::new();
    let mut rest = body;
    while let Some(start) = rest.find(prefix) {
        rest = &rest[start + prefix.len()..];
        let Some(end) = rest.find(MARKER_SUFFIX) else {
            break;
        };
        let id = &rest[..end];
        if !id.is_empty() && id.len() <= 128 && !id.chars().any(char::is_whitespace) {
            out.push(FindingId(id.to_owned()));
        }
        rest = &rest[end..];
    }
    out
}

/// The findings a comment body names, in order (one, from a comment of an older version).
pub(crate) fn findings_of(body: &str) -> Vec<FindingId> {
    crate::report::parse_finding_markers(body)
}

/// `body` with `marker` at its end when it does not carry it already.
pub(super) fn with_marker(body: &str, marker: &str) -> String {
    if body.contains(marker) {
        body.to_owned()
    } else {
        format!("{}\n\n{marker}", body.trim_end())
    }
}

/// `body` carrying the marker of each of `findings`.
pub(super) fn with_markers(body: &str, findings: &[FindingId]) -> String {
    findings.iter().fold(body.to_owned(), |body, id| {
        with_marker(&body, &finding_marker(id))
    })
}
