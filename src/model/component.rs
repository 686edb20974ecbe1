//! A component: one package a repository declares (manifest, lockfile), ships (an SBOM) or
//! runs (an SBOM or image scan of a deployment). The inventory, the SBOM export and the
//! component policy all speak this.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::Package;

/// What a dependency is needed for. Optional and peer dependencies count as runtime: they
/// run when present.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum ComponentScope {
    #[default]
    Runtime,
    /// Build and development tooling (npm `devDependencies`, Cargo `dev-dependencies`, …).
    Dev,
    /// Needed only by the tests (Maven `test` scope, a Poetry `test` group, …).
    Test,
}

impl ComponentScope {
    pub const ALL: [ComponentScope; 3] = [
        ComponentScope::Runtime,
        ComponentScope::Dev,
        ComponentScope::Test,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ComponentScope::Runtime => "runtime",
            ComponentScope::Dev => "dev",
            ComponentScope::Test => "test",
        }
    }
}

impl fmt::Display for ComponentScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ComponentScope {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        ComponentScope::ALL
            .into_iter()
            .find(|scope| scope.as_str() == text)
            .ok_or_else(|| format!("unknown scope `{text}` (expected runtime, dev or test)"))
    }
}

/// A component's licences as its source states them: SPDX expressions (or whatever text the
/// source gives), never interpreted here.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Licenses {
    /// What the package says of itself (package.json `license`, an SBOM's declared licence).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub declared: Option<String>,
    /// What someone concluded after looking (SPDX `licenseConcluded`, CycloneDX
    /// `acknowledgement: concluded`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub concluded: Option<String>,
}

impl Licenses {
    /// The licence that applies: a concluded one wins over a declared one. SPDX's
    /// `NOASSERTION` and empty text count as absent.
    pub fn effective(&self) -> Option<&str> {
        fn given(text: &Option<String>) -> Option<&str> {
            text.as_deref()
                .map(str::trim)
                .filter(|t| !t.is_empty() && *t != "NOASSERTION")
        }
        given(&self.concluded).or_else(|| given(&self.declared))
    }

    pub fn is_empty(&self) -> bool {
        self.declared.is_none() && self.concluded.is_none()
    }
}

/// One component.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Component {
    /// Ecosystem, name, version, and the manifest, lockfile or report that lists it
    /// (repository-relative for files of the repository).
    #[serde(flatten)]
    pub package: Package,
    /// The package URL (`pkg:npm/lodash@4.17.21`); derived from the package when the source
    /// gives none.
    pub purl: String,
    pub scope: ComponentScope,
    /// Declared by the project itself; `None` when the source does not say.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub direct: Option<bool>,
    /// For a transitive dependency, the chain from a direct dependency down to it
    /// (`["express@4.18.2", "body-parser@1.20.1", "qs@6.11.0"]`), where a lockfile shows it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub chain: Vec<String>,
    /// The 1-based line of `package.manifest` that declares it, where known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
    #[serde(default, skip_serializing_if = "Licenses::is_empty")]
    pub licenses: Licenses,
}

impl Component {
    /// A component of `package` with its derived package URL; `None` when the package has no
    /// package URL (an ecosystem without a purl type, an empty name).
    pub fn new(package: Package, scope: ComponentScope) -> Option<Component> {
        let purl = package.purl()?;
        Some(Component {
            package,
            purl,
            scope,
            direct: None,
            chain: Vec::new(),
            line: None,
            licenses: Licenses::default(),
        })
    }

    /// The package URL without its version, qualifiers or subpath: what names the package
    /// across versions (`pkg:npm/lodash`).
    pub fn versionless_purl(&self) -> &str {
        versionless_purl(&self.purl)
    }
}

/// `purl` without `@version`, `?qualifiers` and `#subpath`.
pub fn versionless_purl(purl: &str) -> &str {
    let end = purl.find(['?', '#']).unwrap_or(purl.len());
    let purl = &purl[..end];
    // The version's `@` is the last one; an npm scope's `@` is percent-encoded.
    match purl.rfind('@') {
        Some(at) if purl[..at].contains('/') => &purl[..at],
        _ => purl,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Ecosystem;

    #[test]
    fn a_concluded_licence_wins_and_noassertion_is_none() {
        let mut licenses = Licenses {
            declared: Some("MIT".into()),
            concluded: Some("NOASSERTION".into()),
        };
        assert_eq!(licenses.effective(), Some("MIT"));
        licenses.concluded = Some("Apache-2.0".into());
        assert_eq!(licenses.effective(), Some("Apache-2.0"));
        assert_eq!(Licenses::default().effective(), None);
    }

    #[test]
    fn versionless_purls_drop_version_qualifiers_and_subpath() {
        assert_eq!(
            versionless_purl("pkg:npm/%40babel/core@7.0.0"),
            "pkg:npm/%40babel/core"
        );
        assert_eq!(
            versionless_purl("pkg:maven/org.apache/log4j-core@2.14.1?type=jar#x"),
            "pkg:maven/org.apache/log4j-core"
        );
        assert_eq!(versionless_purl("pkg:npm/lodash"), "pkg:npm/lodash");
        let component = Component::new(
            Package {
                ecosystem: Ecosystem::Npm,
                name: "lodash".into(),
                version: Some("4.17.21".into()),
                manifest: Some("package-lock.json".into()),
            },
            ComponentScope::Dev,
        )
        .unwrap();
        assert_eq!(component.purl, "pkg:npm/lodash@4.17.21");
        assert_eq!(component.versionless_purl(), "pkg:npm/lodash");
    }
}
