//! RubyGems' version order, as `Gem::Version#<=>` defines it.
//!
//! A version is digits and letters separated by dots (`5.2.4.3`, `6.0.0.rc1`, `1.0.a`);
//! a `-` reads as `.pre.` (`1.0-beta` is `1.0.pre.beta`). It splits into numeric and
//! alphabetic segments (`rc1` → `rc`, `1`); any letter makes a pre-release. Trailing zeros
//! of the release part and of the pre-release part are dropped (`1.0.0` == `1`,
//! `1.0.a` == `1.a`). Segments compare in turn, a missing one counting as `0`: numbers
//! numerically, strings byte-wise, and a string below a number, so `1.0.a < 1.0 < 1.0.1`.

use std::cmp::Ordering;

/// A parsed RubyGems version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GemVersion {
    /// The canonical segments.
    segments: Vec<Segment>,
    prerelease: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    /// Digits without leading zeros (`""` is zero), so any length compares.
    Number(String),
    Text(String),
}

impl Segment {
    fn is_zero(&self) -> bool {
        matches!(self, Segment::Number(digits) if digits.is_empty())
    }
}

impl GemVersion {
    /// `Gem::Version.correct?` text: `\d+(\.[0-9A-Za-z]+)*(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?`,
    /// surrounding whitespace allowed. A leading `v` is accepted (scanners write it).
    pub fn parse(text: &str) -> Option<GemVersion> {
        let text = text.trim();
        let text = text.strip_prefix(['v', 'V']).unwrap_or(text);
        let (release, pre) = match text.split_once('-') {
            Some((release, pre)) => (release, Some(pre)),
            None => (text, None),
        };
        let mut parts = release.split('.');
        let first = parts.next()?;
        if first.is_empty() || !first.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        if !parts.all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_alphanumeric())) {
            return None;
        }
        if let Some(pre) = pre
            && !pre
                .split('.')
                .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
        {
            return None;
        }
        let normalised = text.replace('-', ".pre.");
        let raw = scan_segments(&normalised);
        let prerelease = normalised.bytes().any(|b| b.is_ascii_alphabetic());
        // canonical_segments: the numeric head and the rest, each without trailing zeros.
        let split = raw
            .iter()
            .position(|s| matches!(s, Segment::Text(_)))
            .unwrap_or(raw.len());
        let (numeric, rest) = raw.split_at(split);
        let mut segments = trim_zeros(numeric);
        segments.extend(trim_zeros(rest));
        Some(GemVersion {
            segments,
            prerelease,
        })
    }

    pub fn is_prerelease(&self) -> bool {
        self.prerelease
    }

    /// The first segment, the component a compatible upgrade (`~> 5.2`) keeps.
    pub fn first_number(&self) -> Option<u64> {
        match self.segments.first() {
            None => Some(0),
            Some(Segment::Number(digits)) if digits.is_empty() => Some(0),
            Some(Segment::Number(digits)) => digits.parse().ok(),
            Some(Segment::Text(_)) => None,
        }
    }
}

/// `scan(/[0-9]+|[a-z]+/i)`.
fn scan_segments(text: &str) -> Vec<Segment> {
    let mut segments = Vec::new();
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let digit = bytes[i].is_ascii_digit();
        if !digit && !bytes[i].is_ascii_alphabetic() {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len()
            && (bytes[i].is_ascii_digit() == digit)
            && bytes[i].is_ascii_alphanumeric()
        {
            i += 1;
        }
        let run = &text[start..i];
        segments.push(if digit {
            Segment::Number(run.trim_start_matches('0').to_string())
        } else {
            Segment::Text(run.to_string())
        });
    }
    segments
}

fn trim_zeros(segments: &[Segment]) -> Vec<Segment> {
    let keep = segments
        .iter()
        .rposition(|s| !s.is_zero())
        .map_or(0, |i| i + 1);
    segments[..keep].to_vec()
}

impl Ord for GemVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        let zero = Segment::Number(String::new());
        let len = self.segments.len().max(other.segments.len());
        for i in 0..len {
            let left = self.segments.get(i).unwrap_or(&zero);
            let right = other.segments.get(i).unwrap_or(&zero);
            let ordering = match (left, right) {
                (Segment::Number(a), Segment::Number(b)) => {
                    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
                }
                (Segment::Text(_), Segment::Number(_)) => Ordering::Less,
                (Segment::Number(_), Segment::Text(_)) => Ordering::Greater,
                (Segment::Text(a), Segment::Text(b)) => a.as_bytes().cmp(b.as_bytes()),
            };
            if ordering.is_ne() {
                return ordering;
            }
        }
        Ordering::Equal
    }
}

impl PartialOrd for GemVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(text: &str) -> GemVersion {
        GemVersion::parse(text).unwrap_or_else(|| panic!("{text} parses"))
    }

    /// Ascending, per `Gem::Version#<=>` (the cases of RubyGems' own `test_gem_version.rb`
    /// `test_spaceship` and `test_semver`, and real Rails releases).
    #[test]
    fn orders_as_rubygems_does() {
        let ascending = [
            "0.9",
            "1.0.a",
            "1.0.a.1",
            "1.0.b1",
            "1.0.rc1",
            "1.0",
            "1.0.1",
            "1.8.2",
            "1.9.3.pre",
            "1.9.3",
            "5.2.0.beta1",
            "5.2.0.rc1",
            "5.2.0",
            "5.2.4",
            "5.2.4.3",
            "5.2.4.4",
            "5.2.8.1",
            "6.0.0.rc1",
            "6.0.0",
            "6.1.7.10",
            "9.8.7",
            "10.0.0",
        ];
        for (i, a) in ascending.iter().enumerate() {
            for b in &ascending[i + 1..] {
                assert_eq!(v(a).cmp(&v(b)), Ordering::Less, "{a} < {b}");
                assert_eq!(v(b).cmp(&v(a)), Ordering::Greater, "{b} > {a}");
            }
        }
    }

    #[test]
    fn equal_spellings_and_prereleases() {
        for (a, b) in [
            ("1.0", "1"),
            ("1.0.0", "1"),
            ("1.0.a", "1.a"),
            ("1.0.0.a", "1.a"),
            ("1.0-beta", "1.0.pre.beta"),
            ("1.0.b1", "1.0.b.1"),
            ("01.02", "1.2"),
        ] {
            assert_eq!(v(a).cmp(&v(b)), Ordering::Equal, "{a} == {b}");
        }
        // A dash is `.pre.`: `1.0.0-rc1` sorts with other `pre` pre-releases.
        assert_eq!(v("1.0.0-rc1").cmp(&v("1.0.0.rc1")), Ordering::Less);
        assert!(v("1.0.0-rc1").is_prerelease());
        assert!(v("6.0.0.rc1").is_prerelease());
        assert!(!v("5.2.4.3").is_prerelease());
        assert_eq!(v("5.2.4.3").first_number(), Some(5));
    }

    #[test]
    fn malformed_versions_are_refused() {
        for text in [
            "",
            "a",
            "1..2",
            "1.2.",
            "1.0-",
            "junk",
            "1.2 3",
            "1.0+build",
        ] {
            assert_eq!(GemVersion::parse(text), None, "{text:?}");
        }
    }
}
