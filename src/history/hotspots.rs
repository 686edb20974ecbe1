//! Hotspots: the dependency upgrades that would clear the most open findings across the org
//! ("bump lodash to 4.17.21: clears 143 findings in 37 repositories").
//!
//! Over the findings open at `as_of` that carry an upgrade, grouped by (ecosystem, package
//! name as given):
//!
//! * `to`: the highest target version of the group, by the ecosystem's version order
//!   ([`versions::compare`] on [`Ecosystem::parse`]), string order when two versions do not
//!   compare;
//! * `findings`: how many findings; `repositories`: how many distinct repositories;
//!   `advisories`: how many distinct advisory ids (compared case-insensitively); `kev`: how
//!   many of the findings are KEV-listed.
//!
//! Ranked by findings, then repositories (both most first), then package and ecosystem; at
//! most [`MAX_HOTSPOTS`].

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};

use super::{FindingHistory, Hotspot};
use crate::analyze::versions;
use crate::model::Ecosystem;

/// How many hotspots a summary lists.
pub const MAX_HOTSPOTS: usize = 10;

#[derive(Default)]
struct Group<'a> {
    targets: BTreeSet<&'a str>,
    findings: u64,
    repositories: BTreeSet<&'a str>,
    advisories: BTreeSet<String>,
    kev: u64,
}

/// The hotspots of `open`, the findings open at `as_of` (those without an upgrade are
/// skipped).
pub(super) fn rank<'a>(open: impl IntoIterator<Item = &'a FindingHistory>) -> Vec<Hotspot> {
    let mut groups: BTreeMap<(&str, &str), Group> = BTreeMap::new();
    for finding in open {
        let Some(upgrade) = &finding.upgrade else {
            continue;
        };
        let group = groups
            .entry((upgrade.ecosystem.as_str(), upgrade.package.as_str()))
            .or_default();
        group.targets.insert(upgrade.to.as_str());
        group.findings += 1;
        group.repositories.insert(finding.repository.as_str());
        group.advisories.extend(
            finding
                .advisories
                .iter()
                .map(|id| id.trim().to_ascii_uppercase())
                .filter(|id| !id.is_empty()),
        );
        group.kev += u64::from(finding.kev);
    }
    let mut hotspots: Vec<Hotspot> = groups
        .into_iter()
        .map(|((ecosystem, package), group)| Hotspot {
            ecosystem: ecosystem.to_owned(),
            package: package.to_owned(),
            to: highest(&Ecosystem::parse(ecosystem), &group.targets).to_owned(),
            findings: group.findings,
            repositories: group.repositories.len() as u64,
            advisories: group.advisories.len() as u64,
            kev: group.kev,
        })
        .collect();
    hotspots.sort_by(|a, b| {
        b.findings
            .cmp(&a.findings)
            .then(b.repositories.cmp(&a.repositories))
            .then_with(|| a.package.cmp(&b.package))
            .then_with(|| a.ecosystem.cmp(&b.ecosystem))
    });
    hotspots.truncate(MAX_HOTSPOTS);
    hotspots
}

/// The highest of `targets` (sorted, so the result does not depend on input order when
/// versions do not compare); empty when there is none.
fn highest<'a>(ecosystem: &Ecosystem, targets: &BTreeSet<&'a str>) -> &'a str {
    let mut best: Option<&'a str> = None;
    for &candidate in targets {
        best = match best {
            None => Some(candidate),
            Some(current) => {
                let order = versions::compare(ecosystem, candidate, current)
                    .unwrap_or_else(|| candidate.cmp(current));
                Some(if order == Ordering::Greater {
                    candidate
                } else {
                    current
                })
            }
        };
    }
    best.unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::FixTarget;
    use crate::model::{FindingId, Kind};

    fn finding(
        repository: &str,
        package: &str,
        to: &str,
        advisory: &str,
        kev: bool,
    ) -> FindingHistory {
        FindingHistory {
            repository: repository.to_owned(),
            finding_id: FindingId(format!("{repository}:{package}:{advisory}")),
            kind: Kind::Sca,
            tools: vec!["osv-scanner".into()],
            rule: advisory.to_owned(),
            risk_score: 50,
            advisories: vec![advisory.to_owned()],
            kev,
            upgrade: Some(FixTarget {
                ecosystem: "npm".into(),
                package: package.to_owned(),
                to: to.to_owned(),
            }),
            owner: None,
            events: Vec::new(),
        }
    }

    #[test]
    fn the_highest_target_wins_by_version_order_not_string_order() {
        let findings = [
            finding("acme/a", "lodash", "4.17.9", "GHSA-1", false),
            finding("acme/b", "lodash", "4.17.21", "ghsa-1", true),
            finding("acme/b", "lodash", "4.17.12", "GHSA-2", false),
        ];
        let hotspots = rank(&findings);
        assert_eq!(
            hotspots,
            vec![Hotspot {
                ecosystem: "npm".into(),
                package: "lodash".into(),
                to: "4.17.21".into(),
                findings: 3,
                repositories: 2,
                advisories: 2,
                kev: 1,
            }]
        );
    }

    #[test]
    fn hotspots_rank_by_findings_then_repositories_then_package_and_stop_at_ten() {
        let mut findings = vec![
            finding("acme/a", "minimist", "1.2.6", "A", false),
            finding("acme/a", "minimist", "1.2.6", "B", false),
            finding("acme/a", "axios", "1.6.0", "C", false),
            finding("acme/b", "axios", "1.6.0", "D", false),
            finding("acme/a", "qs", "6.10.3", "E", false),
            finding("acme/b", "qs", "6.10.3", "F", false),
        ];
        for n in 0..12 {
            findings.push(finding(
                "acme/z",
                &format!("pkg{n:02}"),
                "1.0.0",
                "G",
                false,
            ));
        }
        let mut without = finding("acme/z", "nothing", "1", "H", false);
        without.upgrade = None;
        findings.push(without);
        let hotspots = rank(&findings);
        let packages: Vec<&str> = hotspots.iter().map(|h| h.package.as_str()).collect();
        assert_eq!(
            packages,
            [
                "axios", "qs", "minimist", "pkg00", "pkg01", "pkg02", "pkg03", "pkg04", "pkg05",
                "pkg06"
            ]
        );
    }

    #[test]
    fn incomparable_targets_fall_back_to_string_order() {
        let targets: BTreeSet<&str> = ["not-a-version", "zzz", "1.0.0"].into_iter().collect();
        assert_eq!(highest(&Ecosystem::Npm, &targets), "zzz");
        assert_eq!(highest(&Ecosystem::Npm, &BTreeSet::new()), "");
    }
}
