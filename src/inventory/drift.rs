//! Drift: the difference between what a deployment runs and what the default branch
//! declares. Packages are compared across manifests by package URL without version
//! (`pkg:npm/lodash`); versions by the ecosystem's ordering, so "older still deployed" is
//! what a reader means by older (`1.10.0` is newer than `1.9.0`).

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::analyze::versions;
use crate::model::{Component, Ecosystem};

/// How a deployment differs from the default branch.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Drift {
    /// Packages the deployment runs that the default branch does not declare at all.
    pub only_deployed: Vec<Package>,
    /// Packages the deployment runs in a version older than the newest the default branch
    /// declares (those versions): a fix merged but not yet shipped.
    pub older_deployed: Vec<VersionDrift>,
    /// Packages the deployment runs in a version newer than any the default branch declares.
    pub newer_deployed: Vec<VersionDrift>,
    /// Runtime packages the default branch declares that the deployment does not run (not
    /// shipped yet, or not seen by the deployment's scanner).
    pub only_declared: Vec<Package>,
}

impl Drift {
    pub fn is_empty(&self) -> bool {
        self.only_deployed.is_empty()
            && self.older_deployed.is_empty()
            && self.newer_deployed.is_empty()
            && self.only_declared.is_empty()
    }
}

/// A package and the versions seen of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Package {
    /// The package URL without version.
    pub package: String,
    pub ecosystem: Ecosystem,
    pub name: String,
    pub versions: Vec<String>,
}

/// A package deployed in other versions than declared.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VersionDrift {
    pub package: String,
    pub ecosystem: Ecosystem,
    pub name: String,
    pub deployed: Vec<String>,
    pub declared: Vec<String>,
}

/// Compares what runs (`deployed`) with what the default branch declares (`declared`).
/// Components without a version count as present in no particular version: they never
/// drift by version.
pub fn drift(declared: &[Component], deployed: &[Component]) -> Drift {
    let declared = by_package(declared);
    let deployed = by_package(deployed);
    let mut drift = Drift::default();
    for (key, running) in &deployed {
        let Some(wanted) = declared.get(key) else {
            drift.only_deployed.push(running.package(key));
            continue;
        };
        let ecosystem = &running.ecosystem;
        // Against the newest version the branch declares: a deployment running 1.0 and 2.0
        // where the branch says 2.0 still runs an older one.
        let Some(newest) = wanted
            .versions
            .iter()
            .max_by(|a, b| versions::compare(ecosystem, a, b).unwrap_or_else(|| a.cmp(b)))
        else {
            continue;
        };
        let running_versions = |order: Ordering| -> Vec<String> {
            running
                .versions
                .iter()
                .filter(|r| versions::compare(ecosystem, r, newest) == Some(order))
                .cloned()
                .collect()
        };
        let version_drift = |deployed: Vec<String>| VersionDrift {
            package: key.clone(),
            ecosystem: ecosystem.clone(),
            name: running.name.clone(),
            deployed,
            declared: wanted.versions.iter().cloned().collect(),
        };
        let older = running_versions(Ordering::Less);
        if !older.is_empty() {
            drift.older_deployed.push(version_drift(older));
        }
        let newer = running_versions(Ordering::Greater);
        if !newer.is_empty() {
            drift.newer_deployed.push(version_drift(newer));
        }
    }
    for (key, wanted) in &declared {
        if wanted.runtime && !deployed.contains_key(key) {
            drift.only_declared.push(wanted.package(key));
        }
    }
    drift
}

/// What is known of one package across manifests.
struct Seen {
    ecosystem: Ecosystem,
    name: String,
    versions: BTreeSet<String>,
    /// Some manifest lists it as a runtime dependency.
    runtime: bool,
}

impl Seen {
    fn package(&self, key: &str) -> Package {
        Package {
            package: key.to_owned(),
            ecosystem: self.ecosystem.clone(),
            name: self.name.clone(),
            versions: self.versions.iter().cloned().collect(),
        }
    }
}

fn by_package(components: &[Component]) -> BTreeMap<String, Seen> {
    let mut seen: BTreeMap<String, Seen> = BTreeMap::new();
    for component in components {
        let entry = seen
            .entry(component.versionless_purl().to_owned())
            .or_insert_with(|| Seen {
                ecosystem: component.package.ecosystem.clone(),
                name: component.package.name.clone(),
                versions: BTreeSet::new(),
                runtime: false,
            });
        if let Some(version) = &component.package.version {
            entry.versions.insert(version.clone());
        }
        entry.runtime |= component.scope == crate::model::ComponentScope::Runtime;
    }
    seen
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ComponentScope, Package as ModelPackage};

    fn component(
        ecosystem: Ecosystem,
        name: &str,
        version: &str,
        scope: ComponentScope,
    ) -> Component {
        Component::new(
            ModelPackage {
                ecosystem,
                name: name.into(),
                version: Some(version.into()),
                manifest: Some("package-lock.json".into()),
            },
            scope,
        )
        .unwrap()
    }

    #[test]
    fn drift_names_packages_only_deployed_older_newer_and_only_declared() {
        use ComponentScope::*;
        let declared = [
            component(Ecosystem::Npm, "lodash", "4.17.21", Runtime),
            component(Ecosystem::Npm, "express", "4.18.2", Runtime),
            component(Ecosystem::Npm, "left-pad", "1.3.0", Runtime),
            component(Ecosystem::Npm, "jest", "29.0.0", Dev),
            component(
                Ecosystem::Maven,
                "org.apache.logging.log4j:log4j-core",
                "2.17.1",
                Runtime,
            ),
        ];
        let deployed = [
            component(Ecosystem::Npm, "lodash", "4.17.15", Runtime),
            component(Ecosystem::Npm, "express", "4.18.2", Runtime),
            // Two replicas on different versions: the older one still runs.
            component(Ecosystem::Npm, "express", "4.17.1", Runtime),
            component(Ecosystem::Npm, "debug", "2.6.9", Runtime),
            // 2.9.0 is older than 2.17.1 by the ecosystem's ordering, not by text.
            component(
                Ecosystem::Maven,
                "org.apache.logging.log4j:log4j-core",
                "2.9.0",
                Runtime,
            ),
        ];
        let drift = drift(&declared, &deployed);
        let names = |list: &[Package]| list.iter().map(|p| p.name.clone()).collect::<Vec<_>>();
        assert_eq!(names(&drift.only_deployed), ["debug"]);
        assert_eq!(
            names(&drift.only_declared),
            ["left-pad"],
            "a dev tool is not expected to run"
        );
        let older: Vec<(&str, &[String])> = drift
            .older_deployed
            .iter()
            .map(|d| (d.name.as_str(), d.deployed.as_slice()))
            .collect();
        assert_eq!(
            older,
            [
                (
                    "org.apache.logging.log4j:log4j-core",
                    &["2.9.0".to_string()][..]
                ),
                ("express", &["4.17.1".to_string()][..]),
                ("lodash", &["4.17.15".to_string()][..]),
            ]
        );
        assert!(drift.newer_deployed.is_empty());
        assert!(!drift.is_empty());
    }

    #[test]
    fn the_same_inventory_has_no_drift_and_newer_deployments_are_told_apart() {
        let declared = [component(
            Ecosystem::PyPI,
            "requests",
            "2.31.0",
            ComponentScope::Runtime,
        )];
        assert!(drift(&declared, &declared).is_empty());
        let deployed = [component(
            Ecosystem::PyPI,
            "requests",
            "2.32.3",
            ComponentScope::Runtime,
        )];
        let drift = drift(&declared, &deployed);
        assert_eq!(drift.newer_deployed.len(), 1);
        assert_eq!(drift.newer_deployed[0].declared, ["2.31.0"]);
    }
}
