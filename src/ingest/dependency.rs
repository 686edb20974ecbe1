//! Helpers shared by the dependency-scanner formats (npm audit, pip-audit, cargo-audit,
//! CycloneDX): the preferred rule id of an advisory, CVSS base scores computed from vector
//! strings, and version requirements turned into OSV affected ranges.
//!
//! Requirements are read with the `semver` crate's comparators (`>=1.2.3`, `<2`, `^0.9.1`,
//! `~1.2`, `1.*`, `=1.0.0`), npm's range syntax on top of them (space-separated comparators,
//! `a - b` hyphen ranges, `||` alternatives, a bare version meaning exactly that version), and
//! each becomes an interval `[lower, upper)` or `[lower, upper]`. An exclusive lower bound
//! `>1.2.3` is the inclusive `>=1.2.4-0`, the smallest SemVer version above `1.2.3`, so OSV's
//! `introduced` (always inclusive) states it exactly.

use std::cmp::Ordering;

use semver::{Comparator, Op, Prerelease, Version, VersionReq};

use crate::model::{AffectedRange, RangeEvent, RangeKind};

/// The rule id of a dependency finding among an advisory's ids: a CVE first, then a GHSA,
/// else the first non-empty id.
pub(crate) fn preferred_id<'a>(ids: impl IntoIterator<Item = &'a str> + Clone) -> Option<&'a str> {
    let find = |prefix: &str| {
        ids.clone()
            .into_iter()
            .find(|id| id.to_ascii_uppercase().starts_with(prefix))
    };
    find("CVE-")
        .or_else(|| find("GHSA-"))
        .or_else(|| ids.clone().into_iter().find(|id| !id.trim().is_empty()))
}

/// The base score of a CVSS v2, v3.0, v3.1 or v4.0 vector string; `None` when it does not
/// parse.
pub(crate) fn cvss_base_score(vector: &str) -> Option<f64> {
    let parsed: cvss::Cvss = vector.trim().parse().ok()?;
    Some(parsed.score()).filter(|s| (0.0..=10.0).contains(s))
}

/// The upper end of an interval.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Upper {
    Unbounded,
    Exclusive(Version),
    Inclusive(Version),
}

/// A set of versions `[lower, upper)`; `lower` is inclusive, `None` from the beginning.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Interval {
    lower: Option<Version>,
    upper: Upper,
}

impl Interval {
    const ALL: Interval = Interval {
        lower: None,
        upper: Upper::Unbounded,
    };

    fn is_empty(&self) -> bool {
        let Some(lower) = &self.lower else {
            // `<0.0.0-0`, npm's way of writing "no version".
            return matches!(&self.upper, Upper::Exclusive(v)
                if (v.major, v.minor, v.patch, v.pre.as_str()) == (0, 0, 0, "0"));
        };
        match &self.upper {
            Upper::Unbounded => false,
            Upper::Exclusive(v) => lower >= v,
            Upper::Inclusive(v) => lower > v,
        }
    }

    fn intersect(self, other: Interval) -> Interval {
        let lower = match (self.lower, other.lower) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        let upper = if cmp_upper(&self.upper, &other.upper) == Ordering::Greater {
            other.upper
        } else {
            self.upper
        };
        Interval { lower, upper }
    }

    /// The interval as one OSV range: `introduced` (`"0"` from the beginning), then `fixed`
    /// for an exclusive upper bound or `last_affected` for an inclusive one.
    fn to_range(&self, kind: RangeKind) -> AffectedRange {
        let introduced = self
            .lower
            .as_ref()
            .map_or_else(|| "0".to_string(), Version::to_string);
        let mut events = vec![RangeEvent::Introduced(introduced)];
        match &self.upper {
            Upper::Unbounded => {}
            Upper::Exclusive(v) => events.push(RangeEvent::Fixed(v.to_string())),
            Upper::Inclusive(v) => events.push(RangeEvent::LastAffected(v.to_string())),
        }
        AffectedRange { kind, events }
    }
}

fn cmp_upper(a: &Upper, b: &Upper) -> Ordering {
    match (a, b) {
        (Upper::Unbounded, Upper::Unbounded) => Ordering::Equal,
        (Upper::Unbounded, _) => Ordering::Greater,
        (_, Upper::Unbounded) => Ordering::Less,
        (Upper::Exclusive(x) | Upper::Inclusive(x), Upper::Exclusive(y) | Upper::Inclusive(y))
            if x != y =>
        {
            x.cmp(y)
        }
        (Upper::Exclusive(_), Upper::Inclusive(_)) => Ordering::Less,
        (Upper::Inclusive(_), Upper::Exclusive(_)) => Ordering::Greater,
        _ => Ordering::Equal,
    }
}

/// The smallest version above `v`: `1.2.3` → `1.2.4-0`, `1.2.3-rc.1` → `1.2.3-rc.1.0`.
fn successor(v: &Version) -> Option<Version> {
    if v.pre.is_empty() {
        let mut next = Version::new(v.major, v.minor, v.patch.checked_add(1)?);
        next.pre = Prerelease::new("0").ok()?;
        Some(next)
    } else {
        let mut next = Version::new(v.major, v.minor, v.patch);
        next.pre = Prerelease::new(&format!("{}.0", v.pre)).ok()?;
        Some(next)
    }
}

/// The versions one comparator admits.
fn comparator_interval(c: &Comparator) -> Option<Interval> {
    let mut base = Version::new(c.major, c.minor.unwrap_or(0), c.patch.unwrap_or(0));
    base.pre = c.pre.clone();
    let next_major = || Some(Version::new(c.major.checked_add(1)?, 0, 0));
    let next_minor = |minor: u64| Some(Version::new(c.major, minor.checked_add(1)?, 0));
    // The first version after the components the comparator gives (`1.2` → `1.3.0`).
    let after_partial = || match (c.minor, c.patch) {
        (None, _) => next_major(),
        (Some(minor), None) => next_minor(minor),
        (Some(_), Some(_)) => None,
    };
    let full = c.minor.is_some() && c.patch.is_some();
    let from = |lower: Version, upper: Upper| {
        Some(Interval {
            lower: Some(lower),
            upper,
        })
    };
    match c.op {
        Op::Exact | Op::Wildcard if full => from(base.clone(), Upper::Inclusive(base)),
        Op::Exact | Op::Wildcard => from(base, Upper::Exclusive(after_partial()?)),
        Op::Greater if full => from(successor(&base)?, Upper::Unbounded),
        Op::Greater => from(after_partial()?, Upper::Unbounded),
        Op::GreaterEq => from(base, Upper::Unbounded),
        Op::Less => Some(Interval {
            lower: None,
            upper: Upper::Exclusive(base),
        }),
        Op::LessEq => Some(Interval {
            lower: None,
            upper: if full {
                Upper::Inclusive(base)
            } else {
                Upper::Exclusive(after_partial()?)
            },
        }),
        Op::Tilde => {
            let upper = match c.minor {
                Some(minor) => next_minor(minor)?,
                None => next_major()?,
            };
            from(base, Upper::Exclusive(upper))
        }
        Op::Caret => {
            let upper = match (c.major, c.minor, c.patch) {
                (0, Some(0), Some(patch)) => Version::new(0, 0, patch.checked_add(1)?),
                (0, Some(minor), _) => next_minor(minor)?,
                _ => next_major()?,
            };
            from(base, Upper::Exclusive(upper))
        }
        _ => None,
    }
}

/// The versions a Cargo requirement admits (`>=0.103.13, <0.104.0-alpha.1`, `^0.9.1`);
/// `None` when it does not parse.
fn cargo_requirement(requirement: &str) -> Option<Interval> {
    let requirement = VersionReq::parse(requirement.trim()).ok()?;
    requirement
        .comparators
        .iter()
        .try_fold(Interval::ALL, |acc, c| {
            Some(acc.intersect(comparator_interval(c)?))
        })
}

/// The affected ranges of a RustSec advisory: every version outside its `patched` and
/// `unaffected` requirements, as SEMVER ranges (`unaffected: ["<0.24.0"]`, `patched:
/// [">=0.38.0"]` → introduced 0.24.0, fixed 0.38.0). `None` when a requirement does not parse.
pub(crate) fn cargo_affected(
    patched: &[String],
    unaffected: &[String],
) -> Option<Vec<AffectedRange>> {
    let mut safe: Vec<Interval> = patched
        .iter()
        .chain(unaffected)
        .map(|r| cargo_requirement(r))
        .collect::<Option<_>>()?;
    safe.retain(|i| !i.is_empty());
    safe.sort_by(|a, b| a.lower.cmp(&b.lower));
    let mut ranges = Vec::new();
    // Where the next affected stretch may start; `None` once a safe interval is unbounded.
    let mut cursor: Option<Option<Version>> = Some(None);
    for interval in safe {
        let Some(start) = cursor.clone() else {
            break;
        };
        if let Some(safe_from) = &interval.lower {
            if start.as_ref().is_none_or(|s| s < safe_from) {
                ranges.push(Interval {
                    lower: start.clone(),
                    upper: Upper::Exclusive(safe_from.clone()),
                });
            }
        }
        let after = match &interval.upper {
            Upper::Unbounded => None,
            Upper::Exclusive(v) => Some(Some(v.clone())),
            Upper::Inclusive(v) => Some(Some(successor(v)?)),
        };
        cursor = match (&after, &start) {
            (None, _) => None,
            (Some(a), s) if a > s => after,
            _ => Some(start),
        };
    }
    if let Some(start) = cursor {
        ranges.push(Interval {
            lower: start,
            upper: Upper::Unbounded,
        });
    }
    Some(
        ranges
            .iter()
            .filter(|i| !i.is_empty())
            .map(|i| i.to_range(RangeKind::Semver))
            .collect(),
    )
}

/// The affected ranges of an npm range string (`>=4.0.0 <4.3.1`, `<=2.6.8`,
/// `2.14.0 || 29.0.1 - 29.0.3 || >=32.0.2`), one SEMVER range per alternative. `None` when
/// any part does not parse.
pub(crate) fn npm_affected(range: &str) -> Option<Vec<AffectedRange>> {
    let mut out = Vec::new();
    for alternative in range.split("||") {
        let interval = npm_alternative(alternative.trim())?;
        if !interval.is_empty() {
            out.push(interval.to_range(RangeKind::Semver));
        }
    }
    Some(out)
}

fn npm_alternative(text: &str) -> Option<Interval> {
    if let Some((from, to)) = text.split_once(" - ") {
        let lower = npm_comparator(&format!(">={}", from.trim()))?;
        let upper = npm_comparator(&format!("<={}", to.trim()))?;
        return Some(lower.intersect(upper));
    }
    let mut interval = Interval::ALL;
    let mut pending_op = String::new();
    for token in text.split_whitespace() {
        if token
            .chars()
            .all(|c| matches!(c, '<' | '>' | '=' | '^' | '~'))
        {
            // `>= 1.2.3`: an operator written apart from its version.
            pending_op.push_str(token);
            continue;
        }
        let token = format!("{}{token}", std::mem::take(&mut pending_op));
        interval = interval.intersect(npm_comparator(&token)?);
    }
    pending_op.is_empty().then_some(interval)
}

/// One npm comparator; a bare version means exactly that version, `*`/`x` anything.
fn npm_comparator(token: &str) -> Option<Interval> {
    let op_len = token
        .find(|c: char| !matches!(c, '<' | '>' | '=' | '^' | '~'))
        .unwrap_or(token.len());
    let (op, version) = token.split_at(op_len);
    let version = version.strip_prefix(['v', 'V']).unwrap_or(version);
    if matches!(version, "" | "*" | "x" | "X") && (op.is_empty() || op == ">=") {
        return Some(Interval::ALL);
    }
    let wildcard = version.split('.').any(|p| matches!(p, "*" | "x" | "X"));
    let op = if op.is_empty() && !wildcard { "=" } else { op };
    let comparator = Comparator::parse(&format!("{op}{version}")).ok()?;
    comparator_interval(&comparator)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn events(range: &AffectedRange) -> Vec<String> {
        range
            .events
            .iter()
            .map(|e| match e {
                RangeEvent::Introduced(v) => format!("introduced {v}"),
                RangeEvent::Fixed(v) => format!("fixed {v}"),
                RangeEvent::LastAffected(v) => format!("last_affected {v}"),
                RangeEvent::Limit(v) => format!("limit {v}"),
            })
            .collect()
    }

    fn cargo(patched: &[&str], unaffected: &[&str]) -> Vec<Vec<String>> {
        let owned = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        cargo_affected(&owned(patched), &owned(unaffected))
            .unwrap()
            .iter()
            .map(events)
            .collect()
    }

    fn npm(range: &str) -> Vec<Vec<String>> {
        npm_affected(range).unwrap().iter().map(events).collect()
    }

    #[test]
    fn preferred_ids() {
        assert_eq!(
            preferred_id(["RUSTSEC-2026-0047", "GHSA-hfpc-8r3f-gw53", "CVE-2026-3338"]),
            Some("CVE-2026-3338")
        );
        assert_eq!(
            preferred_id(["PYSEC-2021-76", "ghsa-aaaa-bbbb-cccc"]),
            Some("ghsa-aaaa-bbbb-cccc")
        );
        assert_eq!(preferred_id(["", "PYSEC-1"]), Some("PYSEC-1"));
        assert_eq!(preferred_id(Vec::<&str>::new()), None);
    }

    #[test]
    fn cvss_scores_of_every_version() {
        assert_eq!(
            cvss_base_score("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:H/A:N"),
            Some(7.5)
        );
        assert_eq!(
            cvss_base_score("CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:L"),
            Some(5.3)
        );
        assert_eq!(cvss_base_score("AV:N/AC:L/Au:N/C:P/I:P/A:P"), Some(7.5));
        let v4 = cvss_base_score("CVSS:4.0/AV:N/AC:L/AT:P/PR:N/UI:N/VC:H/VI:H/VA:N/SC:L/SI:L/SA:N");
        assert!(v4.is_some_and(|s| s > 7.0 && s < 10.0), "{v4:?}");
        assert_eq!(cvss_base_score("CVSS:3.1/garbage"), None);
        assert_eq!(cvss_base_score(""), None);
    }

    #[test]
    fn cargo_patched_and_unaffected_become_the_affected_gaps() {
        assert_eq!(
            cargo(&[">=0.38.0"], &["<0.24.0"]),
            vec![vec!["introduced 0.24.0", "fixed 0.38.0"]]
        );
        assert_eq!(
            cargo(&[">=0.103.13, <0.104.0-alpha.1", ">=0.104.0-alpha.7"], &[]),
            vec![
                vec!["introduced 0", "fixed 0.103.13"],
                vec!["introduced 0.104.0-alpha.1", "fixed 0.104.0-alpha.7"]
            ]
        );
        assert_eq!(
            cargo(&["^0.9.1", ">=1.2.3"], &[]),
            vec![
                vec!["introduced 0", "fixed 0.9.1"],
                vec!["introduced 0.10.0", "fixed 1.2.3"]
            ],
            "^0.9.1 is >=0.9.1, <0.10.0"
        );
        assert_eq!(cargo(&[], &[]), vec![vec!["introduced 0"]], "no fix");
        assert_eq!(
            cargo(&[], &["<=1.0.0"]),
            vec![vec!["introduced 1.0.1-0"]],
            "unaffected through 1.0.0: affected from the next version"
        );
        assert_eq!(
            cargo(&["~1.2.3", ">=1.4"], &["=1.0.0"]),
            vec![
                vec!["introduced 0", "fixed 1.0.0"],
                vec!["introduced 1.0.1-0", "fixed 1.2.3"],
                vec!["introduced 1.3.0", "fixed 1.4.0"]
            ]
        );
        assert_eq!(
            cargo(&[">=2.0.0", ">=2.1.0, <3"], &[]),
            vec![vec!["introduced 0", "fixed 2.0.0"]],
            "nested safe intervals"
        );
        assert!(cargo_affected(&["not a version".to_string()], &[]).is_none());
    }

    #[test]
    fn npm_ranges_per_alternative() {
        assert_eq!(npm("<2.6.9"), vec![vec!["introduced 0", "fixed 2.6.9"]]);
        assert_eq!(
            npm(">=4.0.0 <4.3.1"),
            vec![vec!["introduced 4.0.0", "fixed 4.3.1"]]
        );
        assert_eq!(
            npm("<=5.28.2"),
            vec![vec!["introduced 0", "last_affected 5.28.2"]]
        );
        assert_eq!(
            npm("28.12.3 || 29.0.1 - 29.0.3 || >=32.0.2"),
            vec![
                vec!["introduced 28.12.3", "last_affected 28.12.3"],
                vec!["introduced 29.0.1", "last_affected 29.0.3"],
                vec!["introduced 32.0.2"]
            ]
        );
        assert_eq!(
            npm(">= 1.2.0 < 1.3"),
            vec![vec!["introduced 1.2.0", "fixed 1.3.0"]]
        );
        assert_eq!(npm("*"), vec![vec!["introduced 0"]]);
        assert_eq!(npm("1.x"), vec![vec!["introduced 1.0.0", "fixed 2.0.0"]]);
        assert_eq!(
            npm(">1.2.3 <2"),
            vec![vec!["introduced 1.2.4-0", "fixed 2.0.0"]]
        );
        assert!(npm("<0.0.0-0").is_empty(), "npm's empty range");
        assert!(npm_affected("<=").is_none());
        assert!(npm_affected("banana").is_none());
    }

    proptest! {
        #[test]
        fn conversions_never_panic(
            text in "[0-9<>=^~*xv.,| -]{0,24}",
            vector in "(CVSS:(3\\.[01]|4\\.0)/)?(A[VCT]|PR|UI|S|[CIA]|V[CIA]|S[CIA]|Au|E|RL)(:[NLHPRAUCX])?(/(A[VCT]|PR|UI|S|[CIA]|V[CIA]|S[CIA]|Au):[NLHPRAUCX]){0,11}",
        ) {
            let _ = npm_affected(&text);
            let _ = cargo_affected(std::slice::from_ref(&text), &[text.replace('<', ">")]);
            if let Some(score) = cvss_base_score(&vector) {
                prop_assert!((0.0..=10.0).contains(&score));
            }
        }
    }
}
