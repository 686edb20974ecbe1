//! Version ranges as people write them in a query or a policy: `<2.17.1`, `>=1.0, <1.4`,
//! `=3.3.6`, a bare version (exactly it) or `*` (every version). Versions compare by their
//! ecosystem's ordering ([`crate::analyze::versions`]), so `2.9.0 < 2.17.1` holds.

use std::cmp::Ordering;
use std::fmt;

use crate::analyze::versions;
use crate::model::Ecosystem;

/// A conjunction of comparisons; empty matches every version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionRange {
    bounds: Vec<(Operator, String)>,
    text: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Operator {
    Less,
    LessOrEqual,
    Equal,
    GreaterOrEqual,
    Greater,
}

impl VersionRange {
    /// Parses `text`: comma-separated comparisons (`<`, `<=`, `=`/`==`, `>=`, `>`, or none
    /// for equality); `*` or empty text is every version.
    pub fn parse(text: &str) -> Result<VersionRange, String> {
        let mut bounds = Vec::new();
        for part in text.split(',').map(str::trim) {
            if part.is_empty() || part == "*" {
                continue;
            }
            let (operator, version) = [
                ("<=", Operator::LessOrEqual),
                (">=", Operator::GreaterOrEqual),
                ("==", Operator::Equal),
                ("<", Operator::Less),
                (">", Operator::Greater),
                ("=", Operator::Equal),
            ]
            .into_iter()
            .find_map(|(prefix, op)| part.strip_prefix(prefix).map(|rest| (op, rest.trim())))
            .unwrap_or((Operator::Equal, part));
            if version.is_empty()
                || version
                    .chars()
                    .any(|c| c.is_whitespace() || "<>=,*".contains(c))
            {
                return Err(format!(
                    "`{part}` is not a version comparison (write e.g. `<2.17.1` or `>=1.0, <1.4`)"
                ));
            }
            bounds.push((operator, version.to_owned()));
        }
        Ok(VersionRange {
            bounds,
            text: text.trim().to_owned(),
        })
    }

    /// Whether `version` of a package of `ecosystem` is in the range. A version the
    /// ecosystem's ordering cannot compare with a bound matches only an equal text.
    pub fn matches(&self, ecosystem: &Ecosystem, version: &str) -> bool {
        self.bounds.iter().all(|(operator, bound)| {
            let order = versions::compare(ecosystem, version, bound)
                .or_else(|| (version.trim() == bound).then_some(Ordering::Equal));
            match (operator, order) {
                (_, None) => false,
                (Operator::Less, Some(o)) => o == Ordering::Less,
                (Operator::LessOrEqual, Some(o)) => o != Ordering::Greater,
                (Operator::Equal, Some(o)) => o == Ordering::Equal,
                (Operator::GreaterOrEqual, Some(o)) => o != Ordering::Less,
                (Operator::Greater, Some(o)) => o == Ordering::Greater,
            }
        })
    }

    /// Every version matches.
    pub fn is_any(&self) -> bool {
        self.bounds.is_empty()
    }
}

impl fmt::Display for VersionRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.text.is_empty() {
            "*"
        } else {
            &self.text
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_compare_by_the_ecosystems_ordering() {
        let maven = Ecosystem::Maven;
        let below = VersionRange::parse("<2.17.1").unwrap();
        assert!(below.matches(&maven, "2.9.0"), "2.9.0 is older than 2.17.1");
        assert!(below.matches(&maven, "2.14.1"));
        assert!(!below.matches(&maven, "2.17.1"));
        assert!(!below.matches(&maven, "2.20.0"));
        let window = VersionRange::parse(">=1.0, <1.4").unwrap();
        assert!(window.matches(&Ecosystem::Npm, "1.3.9"));
        assert!(!window.matches(&Ecosystem::Npm, "1.4.0"));
        assert!(!window.matches(&Ecosystem::Npm, "0.9.0"));
        let exact = VersionRange::parse("=3.3.6").unwrap();
        assert!(exact.matches(&Ecosystem::Npm, "3.3.6"));
        assert!(!exact.matches(&Ecosystem::Npm, "3.3.5"));
        assert!(
            VersionRange::parse("3.3.6")
                .unwrap()
                .matches(&Ecosystem::Npm, "3.3.6")
        );
        let any = VersionRange::parse("*").unwrap();
        assert!(any.is_any() && any.matches(&Ecosystem::Npm, "0.0.1"));
    }

    #[test]
    fn nonsense_is_refused_with_an_example() {
        for text in ["<", ">= 1 2", "<<1", "1.0 || 2.0,"] {
            let error = VersionRange::parse(text).unwrap_err();
            assert!(error.contains("e.g."), "{text}: {error}");
        }
    }
}
