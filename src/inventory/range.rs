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
    /// As written; `*` for every version.
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
    /// Every version.
    pub fn every() -> VersionRange {
        VersionRange {
            bounds: Vec::new(),
            text: "*".into(),
        }
    }

    /// Parses `text`: comma-separated comparisons (`<`, `<=`, `=`/`==`, `>=`, `>`, or a bare
    /// version for equality); `*` or empty text is every version. A range operator of some
    /// ecosystem posture does not read (`^1.2`, `~>1.2`) is refused, never taken literally.
    pub fn parse(text: &str) -> Result<VersionRange, String> {
        let text = text.trim();
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
            let starts_well = version.chars().next().is_some_and(char::is_alphanumeric);
            if !starts_well
                || version
                    .chars()
                    .any(|c| c.is_whitespace() || "<>=,*".contains(c))
            {
                return Err(format!(
                    "version range `{text}`: `{part}` needs one of =, <, <=, >=, > before a version (e.g. `<2.17.1` or `>=1.0, <1.4`; `*` for every version)"
                ));
            }
            bounds.push((operator, version.to_owned()));
        }
        if bounds.is_empty() {
            return Ok(VersionRange::every());
        }
        Ok(VersionRange {
            bounds,
            text: text.to_owned(),
        })
    }

    /// Refuses a bound that is not a version of `ecosystem` (a range that would never match).
    pub fn check(&self, ecosystem: &Ecosystem) -> Result<(), String> {
        match self
            .bounds
            .iter()
            .find(|(_, bound)| versions::parse(ecosystem, bound).is_none())
        {
            Some((_, bound)) => Err(format!(
                "version range `{}`: `{bound}` is not a {ecosystem} version",
                self.text
            )),
            None => Ok(()),
        }
    }

    /// Whether `version` of a package of `ecosystem` is in the range. A package without a
    /// version, or with one its ecosystem's ordering cannot read, is only in every version.
    pub fn contains(&self, ecosystem: &Ecosystem, version: Option<&str>) -> bool {
        if self.is_every() {
            return true;
        }
        let Some(version) = version else {
            return false;
        };
        self.bounds.iter().all(|(operator, bound)| {
            match (operator, versions::compare(ecosystem, version, bound)) {
                // A version the ordering cannot read still equals itself (`dev-main`).
                (Operator::Equal, None) => version.trim() == bound,
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
    pub fn is_every(&self) -> bool {
        self.bounds.is_empty()
    }
}

impl fmt::Display for VersionRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_compare_by_the_ecosystems_ordering() {
        let maven = Ecosystem::Maven;
        let below = VersionRange::parse("<2.17.1").unwrap();
        assert!(
            below.contains(&maven, Some("2.9.0")),
            "2.9.0 is older than 2.17.1"
        );
        assert!(below.contains(&maven, Some("2.14.1")));
        assert!(!below.contains(&maven, Some("2.17.1")));
        assert!(!below.contains(&maven, Some("2.20.0")));
        assert!(!below.contains(&maven, None));
        // Maven orders qualifiers: 2.15.0-rc1 < 2.15.0.
        let log4j = VersionRange::parse(">=2.0-beta9, <2.15.0").unwrap();
        assert!(log4j.contains(&maven, Some("2.15.0-rc1")));
        assert!(!log4j.contains(&maven, Some("2.15.0")));
        let npm = Ecosystem::Npm;
        let window = VersionRange::parse(">=1.0, <1.4").unwrap();
        assert!(window.contains(&npm, Some("1.3.9")));
        assert!(!window.contains(&npm, Some("1.4.0")));
        assert!(!window.contains(&npm, Some("0.9.0")));
        let exact = VersionRange::parse("=3.3.6").unwrap();
        assert!(exact.contains(&npm, Some("3.3.6")));
        assert!(!exact.contains(&npm, Some("3.3.5")));
        assert!(
            VersionRange::parse("3.3.6")
                .unwrap()
                .contains(&npm, Some("3.3.6"))
        );
        // PEP 440: 1.0.post1 > 1.0, 1.0rc1 < 1.0.
        let pypi = Ecosystem::PyPI;
        let le = VersionRange::parse("<=1.0").unwrap();
        assert!(le.contains(&pypi, Some("1.0rc1")));
        assert!(!le.contains(&pypi, Some("1.0.post1")));
        let every = VersionRange::parse("*").unwrap();
        assert!(every.is_every() && every.contains(&npm, None));
        assert_eq!(every, VersionRange::every());
        assert_eq!(exact.to_string(), "=3.3.6");
        let branch = VersionRange::parse("=dev-main").unwrap();
        assert!(branch.contains(&Ecosystem::Packagist, Some("dev-main")));
        assert!(!branch.contains(&Ecosystem::Packagist, Some("dev-next")));
    }

    #[test]
    fn nonsense_is_refused_with_an_example() {
        for text in ["<", ">= 1 2", "<<1", "1.0 || 2.0,", "^3.3.6", "~>1.2"] {
            let error = VersionRange::parse(text).unwrap_err();
            assert!(error.contains("e.g."), "{text}: {error}");
        }
        let two = VersionRange::parse(">=1.0, <two").unwrap();
        let error = two.check(&Ecosystem::PyPI).unwrap_err();
        assert!(error.contains("`two` is not a PyPI version"), "{error}");
        assert!(
            VersionRange::parse(">=1.0")
                .unwrap()
                .check(&Ecosystem::PyPI)
                .is_ok()
        );
    }
}
