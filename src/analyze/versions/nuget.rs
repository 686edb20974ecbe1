//! NuGet's version order, as `NuGet.Versioning.VersionComparer.Default` defines it.
//!
//! `Major.Minor[.Patch[.Revision]][-Label(.Label)*][+Metadata]`: missing numbers are zero
//! (`1.0` == `1.0.0` == `1.0.0.0`); a release sorts above its pre-releases; labels compare
//! in turn, numeric labels numerically and below alphanumeric ones, which compare
//! case-insensitively; with an equal prefix, fewer labels sort first (SemVer 2.0 with the
//! fourth number and case-insensitivity NuGet adds). Metadata does not order.

use std::cmp::Ordering;

/// A parsed NuGet version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NuGetVersion {
    numbers: [u64; 4],
    /// Lower-cased pre-release labels.
    labels: Vec<String>,
}

impl NuGetVersion {
    /// Parses NuGet's version syntax; a leading `v` is accepted (scanners write it).
    pub fn parse(text: &str) -> Option<NuGetVersion> {
        let text = text.trim();
        let text = text.strip_prefix(['v', 'V']).unwrap_or(text);
        let text = match text.split_once('+') {
            Some((version, metadata)) => {
                if !valid_labels(metadata) {
                    return None;
                }
                version
            }
            None => text,
        };
        let (core, pre) = match text.split_once('-') {
            Some((core, pre)) => (core, Some(pre)),
            None => (text, None),
        };
        let parts: Vec<&str> = core.split('.').collect();
        if parts.is_empty() || parts.len() > 4 {
            return None;
        }
        let mut numbers = [0u64; 4];
        for (slot, part) in numbers.iter_mut().zip(&parts) {
            if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            *slot = part.parse().ok()?;
        }
        let labels = match pre {
            Some(pre) if valid_labels(pre) => {
                pre.split('.').map(|l| l.to_ascii_lowercase()).collect()
            }
            Some(_) => return None,
            None => Vec::new(),
        };
        Some(NuGetVersion { numbers, labels })
    }

    pub fn is_prerelease(&self) -> bool {
        !self.labels.is_empty()
    }

    pub fn major(&self) -> u64 {
        self.numbers[0]
    }
}

fn valid_labels(text: &str) -> bool {
    text.split('.')
        .all(|l| !l.is_empty() && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
}

fn compare_label(a: &str, b: &str) -> Ordering {
    fn number(s: &str) -> Option<&str> {
        s.bytes()
            .all(|b| b.is_ascii_digit())
            .then(|| s.trim_start_matches('0'))
    }
    match (number(a), number(b)) {
        (Some(x), Some(y)) => x.len().cmp(&y.len()).then_with(|| x.cmp(y)),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => a.cmp(b),
    }
}

impl Ord for NuGetVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        self.numbers.cmp(&other.numbers).then_with(|| {
            match (self.labels.is_empty(), other.labels.is_empty()) {
                (true, true) => Ordering::Equal,
                (true, false) => Ordering::Greater,
                (false, true) => Ordering::Less,
                (false, false) => {
                    for (a, b) in self.labels.iter().zip(&other.labels) {
                        let ordering = compare_label(a, b);
                        if ordering.is_ne() {
                            return ordering;
                        }
                    }
                    self.labels.len().cmp(&other.labels.len())
                }
            }
        })
    }
}

impl PartialOrd for NuGetVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(text: &str) -> NuGetVersion {
        NuGetVersion::parse(text).unwrap_or_else(|| panic!("{text} parses"))
    }

    /// Ascending, per NuGet.Versioning (SemVer 2.0 precedence, four numbers, case-insensitive
    /// labels); real Newtonsoft.Json and System.Text.Encodings.Web releases among them.
    #[test]
    fn orders_as_nuget_does() {
        let ascending = [
            "1.0.0-alpha",
            "1.0.0-alpha.1",
            "1.0.0-alpha.beta",
            "1.0.0-beta",
            "1.0.0-beta.2",
            "1.0.0-beta.11",
            "1.0.0-rc.1",
            "1.0.0",
            "1.0.0.1",
            "1.0.1",
            "4.5.0",
            "4.5.1",
            "12.0.3",
            "13.0.1",
            "13.0.2-beta1",
            "13.0.2-beta2",
            "13.0.2",
        ];
        for (i, a) in ascending.iter().enumerate() {
            for b in &ascending[i + 1..] {
                assert_eq!(v(a).cmp(&v(b)), Ordering::Less, "{a} < {b}");
                assert_eq!(v(b).cmp(&v(a)), Ordering::Greater, "{b} > {a}");
            }
        }
    }

    #[test]
    fn equal_spellings() {
        for (a, b) in [
            ("1.0", "1.0.0"),
            ("1.0.0.0", "1.0.0"),
            ("1.0.0-BETA", "1.0.0-beta"),
            ("1.0.0+build.7", "1.0.0"),
            ("v2.1", "2.1.0"),
        ] {
            assert_eq!(v(a).cmp(&v(b)), Ordering::Equal, "{a} == {b}");
        }
        assert!(v("13.0.2-beta1").is_prerelease());
        assert!(!v("13.0.2+sha.abc").is_prerelease());
        assert_eq!(v("13.0.2").major(), 13);
    }

    #[test]
    fn malformed_versions_are_refused() {
        for text in [
            "",
            "1.2.3.4.5",
            "1..2",
            "1.0-",
            "1.0-be_ta",
            "one",
            "1.0+",
            "[1.0,2.0)",
        ] {
            assert_eq!(NuGetVersion::parse(text), None, "{text:?}");
        }
    }
}
