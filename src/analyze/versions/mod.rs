//! Version ordering per ecosystem: which of two versions is newer, whether a version is a
//! pre-release, and which component breaks compatibility. Remediation and manifest matching
//! build on this, so every ecosystem gets the ordering its package manager uses:
//!
//! | ecosystem | scheme | implementation |
//! |---|---|---|
//! | npm, crates.io, Hex, Pub | SemVer 2.0 | the `semver` crate, accepting the loose forms people write (`v1.2`, `=1.2.3`, `1` → `1.0.0`); build metadata does not order |
//! | Go | Go module versions | SemVer with the `v` prefix; pseudo-versions (`v0.0.0-20210101…-abcdef`) are pre-releases of the next version, `+incompatible` is metadata |
//! | PyPI | PEP 440 | `pep440_rs`: epochs, pre-, post- and dev-releases, local versions |
//! | Maven | Maven's `ComparableVersion` | [`maven`], a port of Maven 3.8's algorithm |
//! | RubyGems | `Gem::Version` | [`rubygems`] |
//! | NuGet | `NuGet.Versioning` | [`nuget`]: SemVer 2.0 with a fourth number, case-insensitive labels |
//! | Packagist and others (OS packages) | generic | [`GenericVersion`], a Maven-like order of numbers and qualifiers |

pub mod maven;
pub mod nuget;
pub mod rubygems;

use std::cmp::Ordering;
use std::str::FromStr;

use crate::model::Ecosystem;

use maven::MavenVersion;
use nuget::NuGetVersion;
use rubygems::GemVersion;

/// The ordering rules a version string follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Scheme {
    Semver,
    Pep440,
    Maven,
    RubyGems,
    NuGet,
    Generic,
}

impl Scheme {
    /// The scheme an ecosystem's package manager orders versions by.
    pub fn of(ecosystem: &Ecosystem) -> Scheme {
        match ecosystem {
            Ecosystem::Npm
            | Ecosystem::CratesIo
            | Ecosystem::Go
            | Ecosystem::Hex
            | Ecosystem::Pub => Scheme::Semver,
            Ecosystem::PyPI => Scheme::Pep440,
            Ecosystem::Maven => Scheme::Maven,
            Ecosystem::RubyGems => Scheme::RubyGems,
            Ecosystem::NuGet => Scheme::NuGet,
            Ecosystem::Packagist | Ecosystem::Other(_) => Scheme::Generic,
        }
    }

    /// Parses `text` under this scheme; `None` when it is not a version of this scheme.
    pub fn parse(self, text: &str) -> Option<Version> {
        match self {
            Scheme::Semver => parse_semver(text).map(Version::Semver),
            Scheme::Pep440 => pep440_rs::Version::from_str(text.trim())
                .ok()
                .map(Version::Pep440),
            Scheme::Maven => MavenVersion::parse(text).map(Version::Maven),
            Scheme::RubyGems => GemVersion::parse(text).map(Version::RubyGems),
            Scheme::NuGet => NuGetVersion::parse(text).map(Version::NuGet),
            Scheme::Generic => GenericVersion::parse(text).map(Version::Generic),
        }
    }
}

/// A parsed version. Versions of one scheme are totally ordered; versions of different
/// schemes never meet in practice (the ecosystem picks the scheme) and order by scheme so
/// that `Ord` stays total.
#[derive(Debug, Clone)]
pub enum Version {
    Semver(semver::Version),
    Pep440(pep440_rs::Version),
    Maven(MavenVersion),
    RubyGems(GemVersion),
    NuGet(NuGetVersion),
    Generic(GenericVersion),
}

impl Version {
    pub fn scheme(&self) -> Scheme {
        match self {
            Version::Semver(_) => Scheme::Semver,
            Version::Pep440(_) => Scheme::Pep440,
            Version::Maven(_) => Scheme::Maven,
            Version::RubyGems(_) => Scheme::RubyGems,
            Version::NuGet(_) => Scheme::NuGet,
            Version::Generic(_) => Scheme::Generic,
        }
    }

    /// An alpha, beta, release candidate, dev or (Go) pseudo-version.
    pub fn is_prerelease(&self) -> bool {
        match self {
            Version::Semver(v) => !v.pre.is_empty(),
            Version::Pep440(v) => v.any_prerelease(),
            Version::Maven(v) => v.is_prerelease(),
            Version::RubyGems(v) => v.is_prerelease(),
            Version::NuGet(v) => v.is_prerelease(),
            Version::Generic(v) => v.is_prerelease(),
        }
    }

    /// The components a compatible upgrade keeps: SemVer `(major, 0)`, or `(0, minor)` below
    /// 1.0 where the minor is the breaking component; the other schemes: the first number.
    pub fn breaking_component(&self) -> Option<(u64, u64)> {
        match self {
            Version::Semver(v) if v.major == 0 => Some((0, v.minor)),
            Version::Semver(v) => Some((v.major, 0)),
            Version::Pep440(v) => v.release().first().map(|&major| (major, 0)),
            Version::Maven(v) => v.first_number().map(|major| (major, 0)),
            Version::RubyGems(v) => v.first_number().map(|major| (major, 0)),
            Version::NuGet(v) => Some((v.major(), 0)),
            Version::Generic(v) => v.first_number().map(|major| (major, 0)),
        }
    }
}

impl Ord for Version {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self, other) {
            (Version::Semver(a), Version::Semver(b)) => a.cmp_precedence(b),
            (Version::Pep440(a), Version::Pep440(b)) => a.cmp(b),
            (Version::Maven(a), Version::Maven(b)) => a.cmp(b),
            (Version::RubyGems(a), Version::RubyGems(b)) => a.cmp(b),
            (Version::NuGet(a), Version::NuGet(b)) => a.cmp(b),
            (Version::Generic(a), Version::Generic(b)) => a.cmp(b),
            _ => self.scheme().cmp(&other.scheme()),
        }
    }
}

impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Version {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Version {}

/// Parses `text` as a version of `ecosystem`.
pub fn parse(ecosystem: &Ecosystem, text: &str) -> Option<Version> {
    Scheme::of(ecosystem).parse(text)
}

/// Orders two versions of `ecosystem`; `None` when either does not parse.
pub fn compare(ecosystem: &Ecosystem, a: &str, b: &str) -> Option<Ordering> {
    Some(parse(ecosystem, a)?.cmp(&parse(ecosystem, b)?))
}

/// The component an upgrade keeps to stay compatible, as `ecosystem` sees it: Go modules
/// change their import path only at a new major version (`/v2`), so below 1.0 Go keeps the
/// major alone, where npm's `^0.7` and Cargo's `0.7` stop at the minor.
pub fn compatibility(ecosystem: &Ecosystem, version: &Version) -> Option<(u64, u64)> {
    match (ecosystem, version) {
        (Ecosystem::Go, Version::Semver(v)) => Some((v.major, 0)),
        _ => version.breaking_component(),
    }
}

/// The component "stay in the current major" keeps, see [`Version::breaking_component`].
pub fn breaking_component(ecosystem: &Ecosystem, text: &str) -> Option<(u64, u64)> {
    parse(ecosystem, text)?.breaking_component()
}

/// Strict SemVer first; otherwise pads a one- or two-part core (`1.2-beta` → `1.2.0-beta`)
/// after dropping a leading `v` or `=`.
fn parse_semver(text: &str) -> Option<semver::Version> {
    let text = text.trim().trim_start_matches('=').trim_start();
    let text = text.strip_prefix(['v', 'V']).unwrap_or(text);
    if let Ok(version) = semver::Version::parse(text) {
        return Some(version);
    }
    let split = text.find(['-', '+']).unwrap_or(text.len());
    let (core, suffix) = text.split_at(split);
    let numbers = core
        .split('.')
        .map(|part| part.parse::<u64>().ok())
        .collect::<Option<Vec<u64>>>()?;
    let padded = match numbers.as_slice() {
        [major] => format!("{major}.0.0{suffix}"),
        [major, minor] => format!("{major}.{minor}.0{suffix}"),
        [major, minor, patch] => format!("{major}.{minor}.{patch}{suffix}"),
        _ => return None,
    };
    semver::Version::parse(&padded).ok()
}

/// A version ordered the way Maven's `ComparableVersion` roughly does, used for ecosystems
/// without a dedicated scheme (Packagist, OS packages):
///
/// - the text is lower-cased and split on `.`, `-`, `_`, `+` and at every switch between
///   digits and letters (`1.0rc1` → `1 . 0 . rc . 1`);
/// - numbers compare numerically and sort above qualifiers;
/// - qualifiers order `dev < alpha (a) < beta (b) < milestone (m) < rc (cr, pre, preview)
///   < snapshot < release (ga, final) < sp < anything else` (the rest alphabetically);
/// - trailing zeros and release qualifiers are dropped, so `1.0` == `1.0.0` == `1.0-final`;
///   a missing segment compares like `0` against a number and like `release` against a
///   qualifier, so `1.0-alpha < 1.0 < 1.0-sp < 1.0.1`.
///
/// It must start with a digit (after an optional `v`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GenericVersion {
    segments: Vec<Segment>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Number(u64),
    Qualifier(Qualifier),
}

/// Declaration order is the ordering.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Qualifier {
    Dev,
    Alpha,
    Beta,
    Milestone,
    Rc,
    Snapshot,
    Release,
    Sp,
    Other(String),
}

impl Qualifier {
    fn from_word(word: &str) -> Qualifier {
        match word {
            "dev" => Qualifier::Dev,
            "alpha" | "a" => Qualifier::Alpha,
            "beta" | "b" => Qualifier::Beta,
            "milestone" | "m" => Qualifier::Milestone,
            "rc" | "cr" | "pre" | "preview" => Qualifier::Rc,
            "snapshot" => Qualifier::Snapshot,
            "ga" | "final" | "release" => Qualifier::Release,
            "sp" => Qualifier::Sp,
            other => Qualifier::Other(other.to_string()),
        }
    }
}

impl GenericVersion {
    pub fn parse(text: &str) -> Option<GenericVersion> {
        let text = text.trim().to_ascii_lowercase();
        let text = text.strip_prefix('v').unwrap_or(&text);
        if !text.starts_with(|c: char| c.is_ascii_digit()) {
            return None;
        }
        let mut segments = Vec::new();
        for piece in text.split(['.', '-', '_', '+']) {
            for run in split_digit_runs(piece) {
                segments.push(if run.starts_with(|c: char| c.is_ascii_digit()) {
                    Segment::Number(run.parse().ok()?)
                } else {
                    Segment::Qualifier(Qualifier::from_word(run))
                });
            }
        }
        while matches!(
            segments.last(),
            Some(Segment::Number(0) | Segment::Qualifier(Qualifier::Release))
        ) {
            segments.pop();
        }
        Some(GenericVersion { segments })
    }

    fn first_number(&self) -> Option<u64> {
        match self.segments.first() {
            Some(Segment::Number(n)) => Some(*n),
            // All segments were trailing zeros: the version is 0.
            None => Some(0),
            Some(Segment::Qualifier(_)) => None,
        }
    }

    fn is_prerelease(&self) -> bool {
        self.segments
            .iter()
            .any(|s| matches!(s, Segment::Qualifier(q) if *q < Qualifier::Release))
    }
}

/// Splits `1rc2` into `1`, `rc`, `2`; empty pieces yield nothing.
fn split_digit_runs(piece: &str) -> Vec<&str> {
    let mut runs = Vec::new();
    let mut start = 0;
    let mut previous_digit = None;
    for (index, c) in piece.char_indices() {
        let digit = c.is_ascii_digit();
        if previous_digit.is_some_and(|d| d != digit) {
            runs.push(&piece[start..index]);
            start = index;
        }
        previous_digit = Some(digit);
    }
    if start < piece.len() {
        runs.push(&piece[start..]);
    }
    runs
}

fn cmp_segments(a: Option<&Segment>, b: Option<&Segment>) -> Ordering {
    match (a, b) {
        (Some(Segment::Number(x)), Some(Segment::Number(y))) => x.cmp(y),
        (Some(Segment::Number(_)), Some(Segment::Qualifier(_))) => Ordering::Greater,
        (Some(Segment::Qualifier(_)), Some(Segment::Number(_))) => Ordering::Less,
        (Some(Segment::Qualifier(x)), Some(Segment::Qualifier(y))) => x.cmp(y),
        (Some(Segment::Number(x)), None) => x.cmp(&0),
        (Some(Segment::Qualifier(x)), None) => x.cmp(&Qualifier::Release),
        (None, Some(_)) => cmp_segments(b, a).reverse(),
        (None, None) => Ordering::Equal,
    }
}

impl Ord for GenericVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        let len = self.segments.len().max(other.segments.len());
        (0..len)
            .map(|i| cmp_segments(self.segments.get(i), other.segments.get(i)))
            .find(|ordering| ordering.is_ne())
            .unwrap_or(Ordering::Equal)
    }
}

impl PartialOrd for GenericVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Ordering::{Equal, Greater, Less};

    fn check(ecosystem: Ecosystem, cases: &[(&str, &str, Ordering)]) {
        for (a, b, expected) in cases {
            assert_eq!(
                compare(&ecosystem, a, b),
                Some(*expected),
                "{ecosystem}: {a} vs {b}"
            );
            assert_eq!(
                compare(&ecosystem, b, a),
                Some(expected.reverse()),
                "{ecosystem}: {b} vs {a}"
            );
        }
    }

    #[test]
    fn semver_ordering() {
        check(
            Ecosystem::Npm,
            &[
                ("1.2.3", "1.2.4", Less),
                ("1.10.0", "1.9.9", Greater),
                ("1.0.0-alpha", "1.0.0", Less),
                ("1.0.0-alpha", "1.0.0-alpha.1", Less),
                ("1.0.0-beta.11", "1.0.0-beta.2", Greater),
                ("1.0.0-rc.1", "1.0.0-beta.11", Greater),
                ("v1.2.3", "1.2.3", Equal),
                ("=1.2.3", "1.2.3", Equal),
                ("1.2", "1.2.0", Equal),
                ("1", "1.0.0", Equal),
                ("1.2-beta", "1.2.0", Less),
                ("1.0.0+build.1", "1.0.0", Equal),
            ],
        );
    }

    #[test]
    fn go_versions_and_pseudo_versions() {
        check(
            Ecosystem::Go,
            &[
                ("v0.0.0-20210101120000-abcdef123456", "v0.0.0", Less),
                (
                    "v0.0.0-20210101120000-abcdef123456",
                    "v0.0.0-20220101120000-123456abcdef",
                    Less,
                ),
                ("v1.2.4-0.20220101120000-abcdef123456", "v1.2.3", Greater),
                ("v2.0.0+incompatible", "v1.9.0", Greater),
            ],
        );
    }

    #[test]
    fn pep440_ordering() {
        check(
            Ecosystem::PyPI,
            &[
                ("2.10", "2.9.6", Greater),
                ("2.10", "2.10.0", Equal),
                ("2.10.1", "2.10", Greater),
                ("1.0.dev1", "1.0a1", Less),
                ("1.0a1", "1.0b1", Less),
                ("1.0rc1", "1.0", Less),
                ("1.0", "1.0.post1", Less),
                ("1.0.post1", "1.0.1", Less),
                ("1!0.1", "2.0", Greater),
                ("v1.0", "1.0", Equal),
            ],
        );
    }

    #[test]
    fn dedicated_and_generic_ordering() {
        check(
            Ecosystem::Maven,
            &[
                ("1.0", "1.0.0", Equal),
                ("1.0.final", "1", Equal),
                ("1.0-alpha-1", "1.0-beta-1", Less),
                ("1.0-beta", "1.0-rc1", Less),
                ("1.0-rc1", "1.0-SNAPSHOT", Less),
                ("1.0-SNAPSHOT", "1.0", Less),
                ("1.0", "1.0-sp1", Less),
                ("1.0-sp1", "1.0.1", Less),
                ("1.0rc2", "1.0-rc-10", Less),
                ("2.9.10.8", "2.10", Less),
                ("32.0.0-jre", "31.1-jre", Greater),
            ],
        );
        check(
            Ecosystem::RubyGems,
            &[
                ("5.2.0.pre1", "5.2.0", Less),
                ("5.2.4.3", "5.2.4", Greater),
                ("6.0.0.rc1", "5.2.8.1", Greater),
                ("1.0.a", "1.0", Less),
            ],
        );
        check(
            Ecosystem::NuGet,
            &[
                ("13.0.1", "13.0.2-beta1", Less),
                ("4.5.0", "4.5", Equal),
                ("1.0.0.1", "1.0.0", Greater),
                ("1.0.0-RC.1", "1.0.0-rc.2", Less),
            ],
        );
        check(
            Ecosystem::Packagist,
            &[
                ("7.4.1", "7.4.5", Less),
                ("2.0.0-RC1", "2.0.0", Less),
                ("v1.2.3", "1.2.3", Equal),
            ],
        );
    }

    #[test]
    fn unparseable_versions_do_not_compare() {
        assert_eq!(compare(&Ecosystem::Npm, "latest", "1.0.0"), None);
        assert_eq!(compare(&Ecosystem::PyPI, "1.0", "not a version"), None);
        assert_eq!(
            compare(&Ecosystem::Maven, "${project.version}", "1.0"),
            None
        );
        assert_eq!(compare(&Ecosystem::Go, "v1.2.3.4", "v1.2.3"), None);
    }

    #[test]
    fn breaking_components() {
        let cases = [
            (Ecosystem::Npm, "4.17.15", Some((4, 0))),
            (Ecosystem::Npm, "^0.5.1", None),
            (Ecosystem::CratesIo, "0.5.1", Some((0, 5))),
            (Ecosystem::Go, "v2.1.0+incompatible", Some((2, 0))),
            (Ecosystem::PyPI, "0.9.1", Some((0, 0))),
            (Ecosystem::PyPI, "2.10.1", Some((2, 0))),
            (Ecosystem::Maven, "2.14.1", Some((2, 0))),
            (Ecosystem::Maven, "0.0", Some((0, 0))),
        ];
        for (ecosystem, text, expected) in cases {
            assert_eq!(breaking_component(&ecosystem, text), expected, "{text}");
        }
    }

    #[test]
    fn prereleases() {
        let cases = [
            (Ecosystem::Npm, "1.0.0-rc.1", true),
            (Ecosystem::Go, "v0.0.0-20210101120000-abcdef123456", true),
            (Ecosystem::Npm, "1.0.0", false),
            (Ecosystem::PyPI, "1.0.dev3", true),
            (Ecosystem::PyPI, "1.0.post1", false),
            (Ecosystem::Maven, "1.0-beta-2", true),
            (Ecosystem::Maven, "1.0.Final", false),
            (Ecosystem::Maven, "1.0-sp1", false),
        ];
        for (ecosystem, text, expected) in cases {
            let version = parse(&ecosystem, text).unwrap();
            assert_eq!(version.is_prerelease(), expected, "{text}");
        }
    }

    proptest::proptest! {
        #[test]
        fn ordering_is_antisymmetric_and_parsing_never_panics(
            a in "v?[0-9]{1,3}([.-]([0-9]{1,3}|alpha|beta|rc|sp|final|jre|dev)){0,4}",
            b in "v?[0-9]{1,3}([.-]([0-9]{1,3}|alpha|beta|rc|sp|final|jre|dev)){0,4}",
            noise in "(?s).{0,40}",
        ) {
            for ecosystem in [Ecosystem::Maven, Ecosystem::Npm, Ecosystem::PyPI] {
                let _ = parse(&ecosystem, &noise);
                if let (Some(ab), Some(ba)) = (compare(&ecosystem, &a, &b), compare(&ecosystem, &b, &a)) {
                    proptest::prop_assert_eq!(ab, ba.reverse(), "{} vs {}", a, b);
                }
            }
            proptest::prop_assert!(compare(&Ecosystem::Maven, &a, &b).is_some());
        }
    }
}
