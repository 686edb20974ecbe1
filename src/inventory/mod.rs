//! The inventory: what a repository declares (manifests, lockfiles), ships (SBOMs) and runs
//! (SBOMs and image scans of a deployment), as [`Component`]s; the SBOM documents posture
//! writes from it; the component policy of `.posture.yml` (licences, banned packages)
//! judged over it; and the HTTP APIs a repository declares in its OpenAPI documents.
//!
//! Pure, like [`crate::analyze`]: texts and rows in, values out. The edges that read
//! repositories ([`crate::review`], `posture sbom`) and keep the org's inventory
//! ([`crate::store`]) call in here.
//!
//! [`Component`]: crate::model::Component

pub mod drift;
pub mod license;
pub mod lockfiles;
pub mod openapi;
pub mod policy;
pub mod range;
pub mod sbom;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::model::{Component, Ecosystem, Package};

/// The tool name of the findings posture raises itself (component policy, API inventory).
pub const TOOL: &str = "posture";

/// What a revision of a repository holds: the components its manifests and lockfiles
/// declare, and the APIs its OpenAPI documents describe.
#[derive(Debug, Clone, Default)]
pub struct RepoInventory {
    pub components: Vec<Component>,
    pub apis: Vec<openapi::ApiDocument>,
    /// Files that could not be read, each named with the problem.
    pub warnings: Vec<String>,
}

/// The components of a repository's files and of reports about it, as one list. The
/// repository's files say where a package is declared and how it is used; a report adds
/// what the files do not know: a licence (SBOMs carry them, lockfiles rarely do), and
/// packages no manifest lists (an image's OS packages). A report's component of the same
/// package (ecosystem, name as the ecosystem compares it, version) as a file's is folded
/// into it, whatever the spelling or qualifiers of its package URL; the rest are added.
pub fn merge(mut declared: Vec<Component>, reported: &[Component]) -> Vec<Component> {
    let known: BTreeSet<PackageKey> = declared.iter().map(package_key).collect();
    add_licenses(&mut declared, reported);
    let mut added: BTreeSet<(PackageKey, Option<String>)> = BTreeSet::new();
    for component in reported {
        let key = package_key(component);
        if !known.contains(&key) && added.insert((key, component.package.manifest.clone())) {
            declared.push(component.clone());
        }
    }
    declared
}

/// Fills the licences `components` do not state from `known` components of the same
/// package and version: a version's licence is the same whichever revision or report names
/// it.
pub fn add_licenses(components: &mut [Component], known: &[Component]) {
    let mut licensed: HashMap<PackageKey, &crate::model::Licenses> = HashMap::new();
    for component in known.iter().filter(|c| !c.licenses.is_empty()) {
        licensed
            .entry(package_key(component))
            .or_insert(&component.licenses);
    }
    for component in components.iter_mut() {
        let Some(licenses) = licensed.get(&package_key(component)) else {
            continue;
        };
        if component.licenses.declared.is_none() {
            component.licenses.declared.clone_from(&licenses.declared);
        }
        if component.licenses.concluded.is_none() {
            component.licenses.concluded.clone_from(&licenses.concluded);
        }
    }
}

/// A package version as its ecosystem compares names.
type PackageKey = (Ecosystem, String, Option<String>);

fn package_key(component: &Component) -> PackageKey {
    let package = &component.package;
    (
        package.ecosystem.clone(),
        package.ecosystem.normalize_name(&package.name),
        package.version.as_deref().map(|v| v.trim().to_owned()),
    )
}

/// Whose inventory: what the default branch declares, or what a deployment runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Target {
    DefaultBranch,
    Production,
    Staging,
}

impl Target {
    pub const ALL: [Target; 3] = [Target::DefaultBranch, Target::Production, Target::Staging];

    pub fn as_str(self) -> &'static str {
        match self {
            Target::DefaultBranch => "default_branch",
            Target::Production => "production",
            Target::Staging => "staging",
        }
    }

    /// A deployment environment (`environment=` of an upload): production or staging.
    pub fn deployment(text: &str) -> Result<Target, String> {
        match text {
            "production" => Ok(Target::Production),
            "staging" => Ok(Target::Staging),
            other => Err(format!(
                "unknown environment `{other}` (expected production or staging)"
            )),
        }
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Target {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Target::ALL
            .into_iter()
            .find(|target| target.as_str() == text)
            .ok_or_else(|| {
                format!("unknown target `{text}` (expected default_branch, production or staging)")
            })
    }
}

/// What deployments run, by package: the risk score's "deployed to production" factor.
#[derive(Debug, Clone, Default)]
pub struct Deployed {
    /// Ecosystem and normalised name → the deployment (production or staging) → versions.
    packages: HashMap<(Ecosystem, String), BTreeMap<Target, BTreeSet<String>>>,
}

impl Deployed {
    /// Adds what the deployment `target` runs.
    pub fn add(&mut self, target: Target, components: &[Component]) {
        for component in components {
            let package = &component.package;
            let key = (
                package.ecosystem.clone(),
                package.ecosystem.normalize_name(&package.name),
            );
            let versions = self
                .packages
                .entry(key)
                .or_default()
                .entry(target)
                .or_default();
            if let Some(version) = &package.version {
                versions.insert(version.trim().to_owned());
            }
        }
    }

    pub fn is_empty(&self) -> bool {
        self.packages.is_empty()
    }

    /// The deployment running `package` in its version (production before staging); a
    /// deployment that lists the package without a version counts, one that lists only
    /// other versions does not.
    pub fn running(&self, package: &Package) -> Option<Target> {
        let key = (
            package.ecosystem.clone(),
            package.ecosystem.normalize_name(&package.name),
        );
        let deployments = self.packages.get(&key)?;
        [Target::Production, Target::Staging]
            .into_iter()
            .find(|target| {
                deployments.get(target).is_some_and(|versions| {
                    versions.is_empty()
                        || package
                            .version
                            .as_deref()
                            .is_none_or(|v| versions.contains(v.trim()))
                })
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ComponentScope;

    fn package(name: &str, version: &str) -> Package {
        Package {
            ecosystem: Ecosystem::PyPI,
            name: name.into(),
            version: Some(version.into()),
            manifest: None,
        }
    }

    #[test]
    fn reports_add_licences_and_packages_the_files_do_not_know() {
        let declared =
            vec![Component::new(package("PyYAML", "5.3"), ComponentScope::Runtime).unwrap()];
        let mut from_sbom =
            Component::new(package("pyyaml", "5.3"), ComponentScope::Runtime).unwrap();
        from_sbom.licenses.declared = Some("MIT".into());
        from_sbom.package.manifest = Some("sbom.cdx.json".into());
        let os = Component::new(
            Package {
                ecosystem: Ecosystem::Other("Debian".into()),
                name: "openssl".into(),
                version: Some("3.0.11-1~deb12u2".into()),
                manifest: Some("image".into()),
            },
            ComponentScope::Runtime,
        )
        .unwrap();
        let merged = merge(declared, &[from_sbom, os.clone(), os]);
        assert_eq!(merged.len(), 2, "{merged:?}");
        assert_eq!(merged[0].licenses.declared.as_deref(), Some("MIT"));
        assert_eq!(merged[0].package.manifest, None, "the file's place is kept");
        assert_eq!(merged[1].package.name, "openssl");
    }

    #[test]
    fn a_package_runs_where_a_deployment_lists_its_version() {
        let mut deployed = Deployed::default();
        let component = |name, version| {
            Component::new(package(name, version), ComponentScope::Runtime).unwrap()
        };
        deployed.add(Target::Staging, &[component("Jinja2", "2.10")]);
        deployed.add(Target::Production, &[component("PyYAML", "5.3")]);
        assert_eq!(
            deployed.running(&package("pyyaml", "5.3")),
            Some(Target::Production)
        );
        assert_eq!(
            deployed.running(&package("jinja2", "2.10")),
            Some(Target::Staging)
        );
        assert_eq!(
            deployed.running(&package("pyyaml", "5.4")),
            None,
            "another version"
        );
        assert_eq!(deployed.running(&package("lxml", "4.6.2")), None);
        assert!(Target::deployment("development").is_err());
    }
}
