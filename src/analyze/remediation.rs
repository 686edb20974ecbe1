//! Upgrade advice for vulnerable dependencies: whether an installed version falls in an
//! advisory's affected ranges (OSV semantics), and the smallest upgrade that clears every
//! advisory at once — a fix of one advisory can still be affected by another, or by another
//! branch of the same advisory's ranges, so every candidate is checked against all of them.

use std::cmp::Ordering;

use crate::model::{Advisory, AffectedRange, Ecosystem, RangeEvent, RangeKind};

use super::versions::{Scheme, Version, compatibility};

/// The upgrade that clears the advisories affecting a package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FixAdvice {
    /// The version to upgrade to, as the advisory spells it.
    pub to: String,
    /// The ids of the advisories that affect the current version (all cleared by `to`).
    pub fixes: Vec<String>,
    /// `to` leaves the current breaking component (major, or minor below 1.0).
    pub breaking: bool,
}

/// Whether `version` falls in any affected range of `advisory`, or is listed in its
/// `affected_versions`. Ranges follow OSV: events are sorted by version, `introduced` opens
/// (`"0"` from the beginning), `fixed` closes exclusively, `last_affected` closes inclusively
/// and `limit` caps the whole range. GIT ranges name commits and are ignored; events whose
/// version does not parse are skipped. An unparseable `version` is only matched by listing.
pub fn is_affected(ecosystem: &Ecosystem, version: &str, advisory: &Advisory) -> bool {
    let scheme = Scheme::of(ecosystem);
    let parsed = scheme.parse(version);
    let listed = advisory.affected_versions.iter().any(|listed| {
        listed.trim() == version.trim()
            || parsed.is_some() && scheme.parse(listed).as_ref() == parsed.as_ref()
    });
    listed
        || advisory
            .affected
            .iter()
            .any(|range| range_contains(ecosystem, range, version))
}

/// The smallest version above `current` that none of `advisories` affects, chosen among the
/// versions their `fixed` events name (a `last_affected` bound names no fixed version).
/// Candidates in the current breaking component win, then stable over pre-release versions
/// (unless `current` is itself a pre-release), then the lowest. `None` when `current` does
/// not parse, no advisory affects it, or no candidate clears them all.
pub fn minimal_fix(
    ecosystem: &Ecosystem,
    current: &str,
    advisories: &[Advisory],
) -> Option<FixAdvice> {
    let scheme = Scheme::of(ecosystem);
    let current_version = scheme.parse(current)?;
    let fixes: Vec<String> = advisories
        .iter()
        .filter(|advisory| is_affected(ecosystem, current, advisory))
        .map(|advisory| advisory.id.clone())
        .collect();
    if fixes.is_empty() {
        return None;
    }
    let current_breaking = compatibility(ecosystem, &current_version);
    let accepts_prerelease = current_version.is_prerelease();
    let (to, version) = fixed_versions(ecosystem, advisories)
        .filter(|(_, version)| *version > current_version)
        .filter(|(text, _)| {
            !advisories
                .iter()
                .any(|advisory| is_affected(ecosystem, text, advisory))
        })
        .min_by(|(_, a), (_, b)| {
            let key = |v: &Version| {
                (
                    compatibility(ecosystem, v) != current_breaking,
                    v.is_prerelease() && !accepts_prerelease,
                )
            };
            key(a).cmp(&key(b)).then_with(|| a.cmp(b))
        })?;
    Some(FixAdvice {
        breaking: compatibility(ecosystem, &version) != current_breaking,
        to,
        fixes,
    })
}

/// Every `fixed` version the advisories' non-GIT ranges name, with its text, parsed the way
/// the ecosystem orders versions (so that it compares with the installed one).
fn fixed_versions(
    ecosystem: &Ecosystem,
    advisories: &[Advisory],
) -> impl Iterator<Item = (String, Version)> {
    let scheme = Scheme::of(ecosystem);
    advisories
        .iter()
        .flat_map(|advisory| &advisory.affected)
        .filter(|range| range.kind != RangeKind::Git)
        .flat_map(|range| &range.events)
        .filter_map(move |event| match event {
            RangeEvent::Fixed(text) => Some((text.clone(), scheme.parse(text)?)),
            _ => None,
        })
}

/// SEMVER ranges are SemVer whatever the ecosystem; ECOSYSTEM ranges use the ecosystem's.
fn range_scheme(ecosystem: &Ecosystem, range: &AffectedRange) -> Scheme {
    match range.kind {
        RangeKind::Semver => Scheme::Semver,
        RangeKind::Ecosystem | RangeKind::Git => Scheme::of(ecosystem),
    }
}

/// A range event placed on the version line.
enum Bound {
    Introduced(Option<Version>),
    Fixed(Version),
    LastAffected(Version),
}

impl Bound {
    /// `None` (introduced `"0"`) sorts before every version.
    fn position(&self) -> Option<&Version> {
        match self {
            Bound::Introduced(v) => v.as_ref(),
            Bound::Fixed(v) | Bound::LastAffected(v) => Some(v),
        }
    }
}

/// OSV's evaluation: walk the sorted events and track whether `version` is inside.
fn range_contains(ecosystem: &Ecosystem, range: &AffectedRange, version: &str) -> bool {
    if range.kind == RangeKind::Git {
        return false;
    }
    let scheme = range_scheme(ecosystem, range);
    let Some(version) = scheme.parse(version) else {
        return false;
    };
    let version = &version;
    let mut bounds = Vec::new();
    let mut limits = Vec::new();
    for event in &range.events {
        match event {
            RangeEvent::Introduced(text) if text.trim() == "0" => {
                bounds.push(Bound::Introduced(None));
            }
            RangeEvent::Introduced(text) => {
                bounds.extend(scheme.parse(text).map(|v| Bound::Introduced(Some(v))));
            }
            RangeEvent::Fixed(text) => bounds.extend(scheme.parse(text).map(Bound::Fixed)),
            RangeEvent::LastAffected(text) => {
                bounds.extend(scheme.parse(text).map(Bound::LastAffected));
            }
            RangeEvent::Limit(text) if text.trim() == "*" => {}
            RangeEvent::Limit(text) => limits.extend(scheme.parse(text)),
        }
    }
    if !limits.is_empty() && !limits.iter().any(|limit| version < limit) {
        return false;
    }
    bounds.sort_by(|a, b| match (a.position(), b.position()) {
        (Some(x), Some(y)) => x.cmp(y),
        (None, Some(_)) => Ordering::Less,
        (Some(_), None) => Ordering::Greater,
        (None, None) => Ordering::Equal,
    });
    let mut affected = false;
    for bound in &bounds {
        match bound {
            Bound::Introduced(None) => affected = true,
            Bound::Introduced(Some(introduced)) if version >= introduced => affected = true,
            Bound::Fixed(fixed) if version >= fixed => affected = false,
            Bound::LastAffected(last) if version > last => affected = false,
            _ => {}
        }
    }
    affected
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    /// The part of an OSV record remediation reads.
    #[derive(Deserialize)]
    struct OsvRecord {
        id: String,
        #[serde(default)]
        aliases: Vec<String>,
        affected: Vec<OsvAffected>,
    }

    #[derive(Deserialize)]
    struct OsvAffected {
        #[serde(default)]
        ranges: Vec<OsvRange>,
        #[serde(default)]
        versions: Vec<String>,
    }

    #[derive(Deserialize)]
    struct OsvRange {
        #[serde(rename = "type")]
        kind: RangeKind,
        events: Vec<OsvEvent>,
    }

    /// serde_yaml_ng reads enums from tags, so events come in as optional keys.
    #[derive(Deserialize)]
    struct OsvEvent {
        introduced: Option<String>,
        fixed: Option<String>,
        last_affected: Option<String>,
        limit: Option<String>,
    }

    impl OsvEvent {
        fn to_event(&self) -> RangeEvent {
            match self {
                OsvEvent {
                    introduced: Some(v),
                    ..
                } => introduced(v),
                OsvEvent { fixed: Some(v), .. } => fixed(v),
                OsvEvent {
                    last_affected: Some(v),
                    ..
                } => last_affected(v),
                OsvEvent { limit: Some(v), .. } => limit(v),
                _ => panic!("OSV event without a version"),
            }
        }
    }

    fn osv(file: &str) -> Advisory {
        let path = format!("{}/fixtures/osv/{file}", env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(&path).unwrap();
        let record: OsvRecord = serde_yaml_ng::from_str(&text).unwrap();
        Advisory {
            id: record.id,
            aliases: record.aliases,
            affected: record
                .affected
                .iter()
                .flat_map(|a| &a.ranges)
                .map(|r| AffectedRange {
                    kind: r.kind,
                    events: r.events.iter().map(OsvEvent::to_event).collect(),
                })
                .collect(),
            affected_versions: record
                .affected
                .into_iter()
                .flat_map(|a| a.versions)
                .collect(),
            ..Advisory::default()
        }
    }

    fn range(kind: RangeKind, events: &[RangeEvent]) -> AffectedRange {
        AffectedRange {
            kind,
            events: events.to_vec(),
        }
    }

    fn advisory(id: &str, ranges: Vec<AffectedRange>) -> Advisory {
        Advisory {
            id: id.to_string(),
            affected: ranges,
            ..Advisory::default()
        }
    }

    fn introduced(v: &str) -> RangeEvent {
        RangeEvent::Introduced(v.to_string())
    }
    fn fixed(v: &str) -> RangeEvent {
        RangeEvent::Fixed(v.to_string())
    }
    fn last_affected(v: &str) -> RangeEvent {
        RangeEvent::LastAffected(v.to_string())
    }
    fn limit(v: &str) -> RangeEvent {
        RangeEvent::Limit(v.to_string())
    }

    #[test]
    fn is_affected_follows_osv_range_semantics() {
        let npm = Ecosystem::Npm;
        let cases: Vec<(Vec<RangeEvent>, &str, bool)> = vec![
            (vec![introduced("0"), fixed("1.2.0")], "0.0.1", true),
            (vec![introduced("0"), fixed("1.2.0")], "1.1.9", true),
            (vec![introduced("0"), fixed("1.2.0")], "1.2.0", false),
            (vec![introduced("0"), fixed("1.2.0")], "1.2.0-rc.1", true),
            (vec![introduced("1.0.0"), fixed("1.2.0")], "0.9.0", false),
            (vec![introduced("1.0.0"), fixed("1.2.0")], "1.0.0", true),
            (
                vec![introduced("0"), last_affected("1.11.0")],
                "1.11.0",
                true,
            ),
            (
                vec![introduced("0"), last_affected("1.11.0")],
                "1.11.1",
                false,
            ),
            (vec![introduced("1.0.0")], "99.0.0", true),
            (vec![introduced("1.0.0"), limit("2.0.0")], "1.5.0", true),
            (vec![introduced("1.0.0"), limit("2.0.0")], "2.0.0", false),
            (vec![introduced("1.0.0"), limit("*")], "7.0.0", true),
            // Unsorted events with two branches (a backported fix).
            (
                vec![
                    introduced("2.0.0"),
                    fixed("2.1.3"),
                    introduced("0"),
                    fixed("1.4.2"),
                ],
                "1.5.0",
                false,
            ),
            (
                vec![
                    introduced("2.0.0"),
                    fixed("2.1.3"),
                    introduced("0"),
                    fixed("1.4.2"),
                ],
                "2.1.0",
                true,
            ),
            (
                vec![
                    introduced("2.0.0"),
                    fixed("2.1.3"),
                    introduced("0"),
                    fixed("1.4.2"),
                ],
                "1.4.1",
                true,
            ),
            // Loose spellings of the installed version.
            (vec![introduced("0"), fixed("1.2.0")], "v1.1", true),
            // An unparseable version is affected only by listing.
            (vec![introduced("0")], "not-a-version", false),
        ];
        for (events, version, expected) in cases {
            let advisory = advisory("A", vec![range(RangeKind::Ecosystem, &events)]);
            assert_eq!(
                is_affected(&npm, version, &advisory),
                expected,
                "{version} in {events:?}"
            );
        }
    }

    #[test]
    fn git_ranges_are_ignored_and_listed_versions_count() {
        let git_only = advisory(
            "G",
            vec![range(
                RangeKind::Git,
                &[
                    introduced("0"),
                    fixed("f2330237440df7e8f39c3ad1b1aa8852be3b27c0"),
                ],
            )],
        );
        assert!(!is_affected(&Ecosystem::PyPI, "1.0", &git_only));
        let listed = Advisory {
            affected_versions: vec!["1.0".to_string(), "1.1".to_string()],
            ..git_only
        };
        assert!(is_affected(&Ecosystem::PyPI, "1.0.0", &listed));
        assert!(!is_affected(&Ecosystem::PyPI, "1.2", &listed));
    }

    #[test]
    fn semver_ranges_use_semver_in_any_ecosystem() {
        let a = advisory(
            "S",
            vec![range(
                RangeKind::Semver,
                &[introduced("0"), fixed("1.10.0")],
            )],
        );
        assert!(is_affected(&Ecosystem::Maven, "1.9.0", &a));
        assert!(!is_affected(&Ecosystem::Maven, "1.10.0", &a));
        let advice = minimal_fix(&Ecosystem::Maven, "1.9.0", &[a]).unwrap();
        assert_eq!(advice.to, "1.10.0");
    }

    #[test]
    fn osv_fixtures_is_affected() {
        let cases = [
            ("jinja2_PYSEC-2019-217.yaml", "2.10", true),
            ("jinja2_PYSEC-2019-217.yaml", "2.10.1", false),
            ("jinja2_PYSEC-2019-217.yaml", "2.0rc1", true),
            ("lxml_PYSEC-2021-852.yaml", "4.6.4", true),
            ("lxml_PYSEC-2021-852.yaml", "4.6.5", false),
            ("lxml_PYSEC-2021-852.yaml", "1.0.beta", true),
            ("oslo-middleware_PYSEC-2018-104.yaml", "3.8.0", true),
            ("oslo-middleware_PYSEC-2018-104.yaml", "3.8.1", false),
            ("oslo-middleware_PYSEC-2018-104.yaml", "3.9.0", true),
            ("oslo-middleware_PYSEC-2018-104.yaml", "3.19.1", false),
            ("oslo-middleware_PYSEC-2018-104.yaml", "3.21.0", true),
            ("oslo-middleware_PYSEC-2018-104.yaml", "3.23.1", false),
            ("py_PYSEC-2022-42969.yaml", "1.11.0", true),
            ("py_PYSEC-2022-42969.yaml", "1.11.1", false),
            ("pyyaml_PYSEC-2020-96.yaml", "5.0", false),
            ("pyyaml_PYSEC-2020-96.yaml", "5.1", true),
            ("pyyaml_PYSEC-2020-96.yaml", "5.3.1", false),
            ("werkzeug_PYSEC-2023-221.yaml", "2.3.7", true),
            ("werkzeug_PYSEC-2023-221.yaml", "2.3.8", false),
            ("werkzeug_PYSEC-2023-221.yaml", "3.0.0", true),
            ("werkzeug_PYSEC-2023-221.yaml", "3.0.1", false),
        ];
        for (file, version, expected) in cases {
            assert_eq!(
                is_affected(&Ecosystem::PyPI, version, &osv(file)),
                expected,
                "{file} {version}"
            );
        }
    }

    #[test]
    fn minimal_fix_on_osv_fixtures() {
        let cases = [
            ("jinja2_PYSEC-2019-217.yaml", "2.10", Some("2.10.1")),
            ("jinja2_PYSEC-2019-217.yaml", "2.10.1", None),
            ("lxml_PYSEC-2021-852.yaml", "4.2.0", Some("4.6.5")),
            (
                "oslo-middleware_PYSEC-2018-104.yaml",
                "3.0.0",
                Some("3.8.1"),
            ),
            (
                "oslo-middleware_PYSEC-2018-104.yaml",
                "3.10.0",
                Some("3.19.1"),
            ),
            (
                "oslo-middleware_PYSEC-2018-104.yaml",
                "3.20.0",
                Some("3.23.1"),
            ),
            // last_affected names no fixed version.
            ("py_PYSEC-2022-42969.yaml", "1.10.0", None),
            ("pyyaml_PYSEC-2020-96.yaml", "5.2", Some("5.3.1")),
            ("pyyaml_PYSEC-2020-96.yaml", "5.0", None),
            ("werkzeug_PYSEC-2023-221.yaml", "2.2.0", Some("2.3.8")),
            // 2.3.8 is below 3.0.0: only the 3.0 branch's own fix applies.
            ("werkzeug_PYSEC-2023-221.yaml", "3.0.0", Some("3.0.1")),
        ];
        for (file, current, expected) in cases {
            let advisory = osv(file);
            let advice = minimal_fix(&Ecosystem::PyPI, current, std::slice::from_ref(&advisory));
            assert_eq!(
                advice.as_ref().map(|a| a.to.as_str()),
                expected,
                "{file} {current}"
            );
            if let Some(advice) = advice {
                assert_eq!(advice.fixes, vec![advisory.id.clone()]);
                assert!(!advice.breaking, "{file} {current}");
            }
        }
    }

    #[test]
    fn a_backported_fix_below_another_branch_is_not_picked() {
        // Branch 1: fixed in 2.10.1; branch 2 re-opens at 2.11.0 and closes at 2.11.3.
        let a = advisory(
            "GHSA-branches",
            vec![range(
                RangeKind::Ecosystem,
                &[
                    introduced("0"),
                    fixed("2.10.1"),
                    introduced("2.11.0"),
                    fixed("2.11.3"),
                ],
            )],
        );
        let advice = minimal_fix(&Ecosystem::PyPI, "2.11.1", std::slice::from_ref(&a));
        assert_eq!(advice.map(|a| a.to), Some("2.11.3".to_string()));
        let advice = minimal_fix(&Ecosystem::PyPI, "2.9", &[a]);
        assert_eq!(advice.map(|a| a.to), Some("2.10.1".to_string()));
    }

    #[test]
    fn overlapping_advisories_pick_the_version_clearing_both() {
        let first = advisory(
            "FIRST",
            vec![range(RangeKind::Semver, &[introduced("0"), fixed("1.2.0")])],
        );
        let second = advisory(
            "SECOND",
            vec![range(
                RangeKind::Semver,
                &[introduced("1.1.0"), fixed("1.3.0")],
            )],
        );
        let unrelated = advisory(
            "UNRELATED",
            vec![range(
                RangeKind::Semver,
                &[introduced("5.0.0"), fixed("5.0.1")],
            )],
        );
        let advice = minimal_fix(&Ecosystem::Npm, "1.1.5", &[first, second, unrelated]).unwrap();
        assert_eq!(
            advice,
            FixAdvice {
                to: "1.3.0".to_string(),
                fixes: vec!["FIRST".to_string(), "SECOND".to_string()],
                breaking: false,
            }
        );
    }

    #[test]
    fn a_fix_only_in_a_new_major_is_breaking() {
        let a = advisory(
            "MAJOR",
            vec![range(RangeKind::Semver, &[introduced("0"), fixed("2.0.0")])],
        );
        let advice = minimal_fix(&Ecosystem::Npm, "1.4.2", std::slice::from_ref(&a)).unwrap();
        assert_eq!(advice.to, "2.0.0");
        assert!(advice.breaking);
        // Below 1.0 the minor is the breaking component.
        let b = advisory(
            "MINOR",
            vec![range(RangeKind::Semver, &[introduced("0"), fixed("0.6.0")])],
        );
        let advice = minimal_fix(&Ecosystem::CratesIo, "0.5.3", &[b]).unwrap();
        assert!(advice.breaking);
    }

    #[test]
    fn the_current_major_then_stable_releases_are_preferred() {
        // Staying in the major beats avoiding a pre-release.
        let a = advisory(
            "BACKPORT",
            vec![range(
                RangeKind::Semver,
                &[introduced("0"), fixed("1.9.5-rc.1"), fixed("2.0.0")],
            )],
        );
        let advice = minimal_fix(&Ecosystem::Npm, "1.9.0", std::slice::from_ref(&a)).unwrap();
        assert_eq!((advice.to.as_str(), advice.breaking), ("1.9.5-rc.1", false));

        let b = advisory(
            "PRE",
            vec![range(
                RangeKind::Semver,
                &[introduced("0"), fixed("3.1.0-beta.1"), fixed("3.1.0")],
            )],
        );
        let advice = minimal_fix(&Ecosystem::Npm, "3.0.0", std::slice::from_ref(&b)).unwrap();
        assert_eq!(advice.to, "3.1.0");
        let advice = minimal_fix(&Ecosystem::Npm, "3.1.0-alpha.1", &[b]).unwrap();
        assert_eq!(advice.to, "3.1.0-beta.1");
    }

    #[test]
    fn no_fix_when_nothing_clears_everything() {
        let fixed_only_in_major_two = advisory(
            "A",
            vec![range(RangeKind::Semver, &[introduced("0"), fixed("2.0.0")])],
        );
        let never_fixed = advisory("B", vec![range(RangeKind::Semver, &[introduced("1.5.0")])]);
        assert_eq!(
            minimal_fix(
                &Ecosystem::Npm,
                "1.6.0",
                &[fixed_only_in_major_two, never_fixed]
            ),
            None
        );
    }

    /// One row: the ecosystem, the installed version, its advisories (id, ranges as
    /// `introduced..fixed` / `introduced..=last_affected` pairs, explicitly listed versions),
    /// and the expected upgrade (`None`: none clears them all), breaking flag and fixes.
    struct Row {
        ecosystem: Ecosystem,
        current: &'static str,
        advisories: Vec<Advisory>,
        to: Option<&'static str>,
        breaking: bool,
        fixes: &'static [&'static str],
    }

    /// `"2.13.0..2.15.0"` is introduced 2.13.0, fixed 2.15.0; `"0..=1.11.0"` ends with a
    /// last_affected; `"5.0.0.."` is never fixed; several ranges are several branches.
    fn adv(id: &str, ranges: &[&str], listed: &[&str]) -> Advisory {
        let ranges = ranges
            .iter()
            .map(|r| {
                let (from, to) = r.split_once("..").expect("a range");
                let mut events = vec![introduced(from)];
                if let Some(last) = to.strip_prefix('=') {
                    events.push(last_affected(last));
                } else if !to.is_empty() {
                    events.push(fixed(to));
                }
                range(RangeKind::Ecosystem, &events)
            })
            .collect();
        Advisory {
            id: id.to_string(),
            affected: ranges,
            affected_versions: listed.iter().map(|v| v.to_string()).collect(),
            ..Advisory::default()
        }
    }

    #[rustfmt::skip]
    fn rows() -> Vec<Row> {
        use Ecosystem::{CratesIo, Go, Maven, NuGet, Npm, PyPI, RubyGems};
        let log4j = || vec![
            adv("CVE-2021-44228", &["2.13.0..2.15.0", "2.4..2.12.2", "2.0-beta9..2.3.1"], &[]),
            adv("CVE-2021-45046", &["2.13.0..2.16.0", "2.4..2.12.2", "2.0-beta9..2.3.1"], &[]),
            adv("CVE-2021-45105", &["2.13.0..2.17.0", "2.4..2.12.3", "2.0-beta9..2.3.1"], &[]),
            adv("CVE-2021-44832", &["2.13.0..2.17.1", "2.4..2.12.4", "2.0-alpha7..2.3.2"], &[]),
        ];
        let row = |ecosystem, current, advisories, to, breaking, fixes| Row { ecosystem, current, advisories, to, breaking, fixes };
        vec![
            // Maven: four overlapping Log4j advisories, one upgrade; backports on 2.12 and 2.3.
            row(Maven, "2.14.1", log4j(), Some("2.17.1"), false, &["CVE-2021-44228", "CVE-2021-45046", "CVE-2021-45105", "CVE-2021-44832"]),
            row(Maven, "2.12.1", log4j(), Some("2.12.4"), false, &["CVE-2021-44228", "CVE-2021-45046", "CVE-2021-45105", "CVE-2021-44832"]),
            row(Maven, "2.3", log4j(), Some("2.3.2"), false, &["CVE-2021-44228", "CVE-2021-45046", "CVE-2021-45105", "CVE-2021-44832"]),
            row(Maven, "2.0-beta9", log4j(), Some("2.3.2"), false, &["CVE-2021-44228", "CVE-2021-45046", "CVE-2021-45105", "CVE-2021-44832"]),
            row(Maven, "2.17.1", log4j(), None, false, &[]),
            // npm: three lodash advisories, the highest fix clears all.
            row(Npm, "4.17.15", vec![
                adv("CVE-2020-8203", &["0..4.17.19"], &[]),
                adv("CVE-2021-23337", &["0..4.17.21"], &[]),
                adv("CVE-2020-28500", &["4.0.0..4.17.21"], &[]),
            ], Some("4.17.21"), false, &["CVE-2020-8203", "CVE-2021-23337", "CVE-2020-28500"]),
            // npm pre-releases: a stable fix beats a pre-release; a pre-release install may take one.
            row(Npm, "2.9.0", vec![adv("PRE", &["0..3.0.0-rc.1", "0..3.0.0"], &[])], Some("3.0.0"), true, &["PRE"]),
            row(Npm, "3.0.0-beta.2", vec![adv("PRE", &["0..3.0.0-rc.1"], &[])], Some("3.0.0-rc.1"), false, &["PRE"]),
            // crates.io: below 1.0 the minor breaks.
            row(CratesIo, "0.1.43", vec![adv("RUSTSEC-2020-0071", &["0..0.2.23"], &[])], Some("0.2.23"), true, &["RUSTSEC-2020-0071"]),
            row(CratesIo, "1.0.130", vec![adv("A", &["1.0.0..1.0.136", "0..0.9.9"], &[])], Some("1.0.136"), false, &["A"]),
            // Go: v0 minor upgrades keep the import path; three x/net advisories.
            row(Go, "v0.7.0", vec![
                adv("CVE-2023-3978", &["0..0.13.0"], &[]),
                adv("CVE-2023-39325", &["0..0.17.0"], &[]),
                adv("CVE-2023-44487", &["0..0.17.0"], &[]),
            ], Some("0.17.0"), false, &["CVE-2023-3978", "CVE-2023-39325", "CVE-2023-44487"]),
            row(Go, "v1.9.0", vec![adv("GO-MAJOR", &["0..2.0.0"], &[])], Some("2.0.0"), true, &["GO-MAJOR"]),
            // PyPI: a last_affected range is cleared by another advisory's later fix.
            row(PyPI, "1.10.0", vec![
                adv("PYSEC-2022-42969", &["0..=1.11.0"], &[]),
                adv("LATER", &["0..1.12.0"], &[]),
            ], Some("1.12.0"), false, &["PYSEC-2022-42969", "LATER"]),
            row(PyPI, "1.10.0", vec![adv("PYSEC-2022-42969", &["0..=1.11.0"], &[])], None, false, &[]),
            row(PyPI, "2.0rc1", vec![adv("J", &["0..2.10.1"], &[])], Some("2.10.1"), false, &["J"]),
            // RubyGems: a yanked-looking release (5.2.4.5, listed as affected by another
            // advisory) is skipped for the next fix in the series.
            row(RubyGems, "5.2.4.3", vec![
                adv("CVE-2021-22885", &["0..5.2.4.5", "6.0.0..6.0.3.6"], &[]),
                adv("YANKED", &["0..5.2.4.4"], &["5.2.4.5"]),
                adv("CVE-2021-22904", &["0..5.2.4.6", "6.0.0..6.0.3.7"], &[]),
            ], Some("5.2.4.6"), false, &["CVE-2021-22885", "YANKED", "CVE-2021-22904"]),
            row(RubyGems, "6.0.0.rc1", vec![adv("CVE-2021-22885", &["6.0.0.a..6.0.3.6"], &[])], Some("6.0.3.6"), false, &["CVE-2021-22885"]),
            // NuGet: the fix in the installed major wins over the newer major's.
            row(NuGet, "4.5.0", vec![adv("CVE-2021-26701", &["0..4.5.1", "5.0.0..5.0.1"], &[])], Some("4.5.1"), false, &["CVE-2021-26701"]),
            row(NuGet, "5.0.0", vec![adv("CVE-2021-26701", &["0..4.5.1", "5.0.0..5.0.1"], &[])], Some("5.0.1"), false, &["CVE-2021-26701"]),
            row(NuGet, "4.7.0-preview1", vec![adv("N", &["0..4.7.0"], &[])], Some("4.7.0"), false, &["N"]),
        ]
    }

    #[test]
    fn minimal_fix_per_ecosystem() {
        for row in rows() {
            let label = format!("{} {}", row.ecosystem, row.current);
            let advice = minimal_fix(&row.ecosystem, row.current, &row.advisories);
            assert_eq!(
                advice.as_ref().map(|a| a.to.as_str()),
                row.to,
                "{label}: {advice:?}"
            );
            if let Some(advice) = advice {
                assert_eq!(advice.breaking, row.breaking, "{label}");
                assert_eq!(advice.fixes, row.fixes, "{label}");
                // The chosen version is outside every advisory.
                for advisory in &row.advisories {
                    assert!(
                        !is_affected(&row.ecosystem, &advice.to, advisory),
                        "{label}: {}",
                        advisory.id
                    );
                }
            }
        }
    }
}
