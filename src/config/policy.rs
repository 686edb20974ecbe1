//! `policy:` of `.posture.yml`: which licences the repository's components may carry, and
//! which packages (or versions of them) it must not use.
//!
//! Every licence is validated against the SPDX list when the file is read, every package is
//! a package URL without a version, and every version range is checked against the
//! package's ecosystem, so a typo is an error naming the entry rather than a rule that never
//! matches. [`crate::inventory::policy`] evaluates the policy over components and
//! [`crate::inventory::license`] says how licence expressions are matched.
//!
//! Without a `licenses` section no licence is judged; without `packages` no package is banned:
//! the default is no policy at all.

use std::fmt;

use serde::Deserialize;

use crate::inventory::license::{LicenseExpression, LicenseTerm, Verdict};
use crate::inventory::range::VersionRange;
use crate::model::{Component, ComponentScope, Ecosystem, Package};

/// `policy:`
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyConfig {
    /// `None`: licences are not judged.
    #[serde(default)]
    pub licenses: Option<LicensePolicy>,
    #[serde(default)]
    pub packages: PackagePolicy,
}

impl PolicyConfig {
    /// Nothing to judge: no licence lists, no banned package.
    pub fn is_empty(&self) -> bool {
        self.licenses.is_none() && self.packages.deny.is_empty()
    }

    /// One line for `posture config check`: what the policy judges; `None` without a policy.
    pub fn describe(&self) -> Option<String> {
        if self.is_empty() {
            return None;
        }
        let licences = match &self.licenses {
            None => "licences not judged".to_string(),
            Some(l) => {
                let scopes: Vec<&str> = l.scopes.iter().map(|s| s.as_str()).collect();
                format!(
                    "licences of {} dependencies: {} allowed, {} to review, {} denied, others {}, {} exception(s)",
                    scopes.join(" and "),
                    l.allow.len(),
                    l.review.len(),
                    l.deny.len(),
                    l.unknown,
                    l.exceptions.len()
                )
            }
        };
        Some(format!(
            "policy: {licences}; {} banned package rule(s)",
            self.packages.deny.len()
        ))
    }
}

/// `policy.licenses:`
#[derive(Debug, Clone, Deserialize)]
#[serde(try_from = "RawLicensePolicy")]
pub struct LicensePolicy {
    pub allow: Vec<LicenseTerm>,
    pub review: Vec<LicenseTerm>,
    pub deny: Vec<LicenseTerm>,
    /// The verdict on a licence no list names (and on none, or an unreadable one).
    pub unknown: Verdict,
    /// Whose licences are judged; dependencies of other scopes are not.
    pub scopes: Vec<ComponentScope>,
    pub exceptions: Vec<LicenseException>,
}

impl LicensePolicy {
    /// The list `term` is in, exactly as written there (after normalisation).
    pub fn listed(&self, term: &LicenseTerm) -> Option<Verdict> {
        [
            (Verdict::Allow, &self.allow),
            (Verdict::Review, &self.review),
            (Verdict::Deny, &self.deny),
        ]
        .into_iter()
        .find(|(_, list)| list.contains(term))
        .map(|(verdict, _)| verdict)
    }

    /// Whether components of `scope` have their licences judged.
    pub fn judges(&self, scope: ComponentScope) -> bool {
        self.scopes.contains(&scope)
    }

    /// The exception that lets `component` with licence `effective` pass, if one does.
    pub fn exception_for(
        &self,
        component: &Component,
        effective: Option<&str>,
    ) -> Option<&LicenseException> {
        let expression = effective.and_then(LicenseExpression::read);
        self.exceptions.iter().find(|e| {
            e.package.matches(component)
                && match &e.license {
                    None => true,
                    Some(license) => expression.as_ref() == Some(license),
                }
        })
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLicensePolicy {
    #[serde(default)]
    allow: Vec<LicenseTerm>,
    #[serde(default)]
    review: Vec<LicenseTerm>,
    #[serde(default)]
    deny: Vec<LicenseTerm>,
    #[serde(default)]
    unknown: Verdict,
    #[serde(default = "default_scopes", deserialize_with = "scopes")]
    scopes: Vec<ComponentScope>,
    #[serde(default)]
    exceptions: Vec<LicenseException>,
}

fn default_scopes() -> Vec<ComponentScope> {
    vec![ComponentScope::Runtime]
}

fn scopes<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<ComponentScope>, D::Error> {
    let scopes = Vec::<ComponentScope>::deserialize(d)?;
    if scopes.is_empty() {
        return Err(serde::de::Error::custom(
            "`scopes` needs at least one of runtime, dev, test (leave it out for runtime)",
        ));
    }
    Ok(scopes)
}

impl TryFrom<RawLicensePolicy> for LicensePolicy {
    type Error = String;

    fn try_from(raw: RawLicensePolicy) -> Result<Self, Self::Error> {
        let lists = [
            ("allow", &raw.allow),
            ("review", &raw.review),
            ("deny", &raw.deny),
        ];
        for (i, (name, list)) in lists.iter().enumerate() {
            for (other, other_list) in &lists[i + 1..] {
                if let Some(term) = list.iter().find(|t| other_list.contains(t)) {
                    return Err(format!(
                        "`{term}` is listed in both `{name}` and `{other}`; a licence belongs to one list"
                    ));
                }
            }
        }
        Ok(LicensePolicy {
            allow: raw.allow,
            review: raw.review,
            deny: raw.deny,
            unknown: raw.unknown,
            scopes: raw.scopes,
            exceptions: raw.exceptions,
        })
    }
}

impl<'de> Deserialize<'de> for LicenseTerm {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        LicenseTerm::parse(&text).map_err(serde::de::Error::custom)
    }
}

impl<'de> Deserialize<'de> for LicenseExpression {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        LicenseExpression::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// `policy.licenses.exceptions[]`: a package whose licence passes whatever the lists say,
/// optionally only while its licence is the one given.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LicenseException {
    pub package: PackageRef,
    #[serde(default)]
    pub license: Option<LicenseExpression>,
    #[serde(default)]
    pub reason: Option<String>,
}

/// A package named by a package URL without version (`pkg:npm/event-stream`,
/// `pkg:maven/com.mysql/mysql-connector-j`), matching it in every version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackageRef {
    /// As written in the file.
    pub purl: String,
    pub ecosystem: Ecosystem,
    /// As the ecosystem compares names ([`Ecosystem::normalize_name`]).
    pub name: String,
}

impl PackageRef {
    pub fn parse(text: &str) -> Result<PackageRef, String> {
        let trimmed = text.trim();
        // An npm scope written literally (`pkg:npm/@babel/core`) is `%40` in a purl.
        let encoded = trimmed.replace("/@", "/%40");
        let package = Package::from_purl(&encoded)
            .filter(|_| trimmed.starts_with("pkg:"))
            .ok_or_else(|| {
                format!(
                    "`{trimmed}` is not a package URL (`pkg:<type>/<namespace>/<name>`, e.g. `pkg:npm/lodash`)"
                )
            })?;
        if package.version.is_some() {
            return Err(format!(
                "`{trimmed}` names a version; give the package alone (versions go in `versions`)"
            ));
        }
        let name = package.ecosystem.normalize_name(&package.name);
        Ok(PackageRef {
            purl: trimmed.to_string(),
            ecosystem: package.ecosystem,
            name,
        })
    }

    /// Whether `component` is this package, in any version.
    pub fn matches(&self, component: &Component) -> bool {
        Package::from_purl(&component.purl).is_some_and(|p| {
            p.ecosystem == self.ecosystem && p.ecosystem.normalize_name(&p.name) == self.name
        })
    }
}

impl fmt::Display for PackageRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.purl)
    }
}

impl<'de> Deserialize<'de> for PackageRef {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        PackageRef::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// `policy.packages:`
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PackagePolicy {
    /// Packages, or some of their versions, the repository must not use (in any scope).
    #[serde(default)]
    pub deny: Vec<PackageRule>,
}

/// `policy.packages.deny[]`
#[derive(Debug, Clone, Deserialize)]
#[serde(try_from = "RawPackageRule")]
pub struct PackageRule {
    pub package: PackageRef,
    pub versions: VersionRange,
    pub reason: Option<String>,
}

impl PackageRule {
    /// Whether `component` is the package in a banned version.
    pub fn matches(&self, component: &Component) -> bool {
        self.package.matches(component)
            && self.versions.contains(
                &self.package.ecosystem,
                component.package.version.as_deref(),
            )
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPackageRule {
    package: PackageRef,
    #[serde(default)]
    versions: Option<String>,
    #[serde(default)]
    reason: Option<String>,
}

impl TryFrom<RawPackageRule> for PackageRule {
    type Error = String;

    fn try_from(raw: RawPackageRule) -> Result<Self, Self::Error> {
        let versions = match raw.versions.as_deref() {
            None => VersionRange::every(),
            Some(text) => VersionRange::parse(text)
                .and_then(|range| range.check(&raw.package.ecosystem).map(|()| range))
                .map_err(|e| format!("{}: {e}", raw.package))?,
        };
        Ok(PackageRule {
            package: raw.package,
            versions,
            reason: raw.reason,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    const EXAMPLE: &str = r#"policy:
  licenses:
    allow: [MIT, Apache-2.0, BSD-2-Clause, BSD-3-Clause, ISC]
    review: ["LGPL-2.1-or-later", "MPL-2.0"]
    deny: [AGPL-3.0-only, SSPL-1.0]
    unknown: review
    scopes: [runtime]
    exceptions: [{package: "pkg:maven/com.mysql/mysql-connector-j", license: "GPL-2.0-only WITH Universal-FOSS-exception-1.0", reason: "vendor exception"}]
  packages:
    deny: [{package: "pkg:npm/event-stream", versions: "=3.3.6", reason: "compromised release"}]
"#;

    fn component(purl: &str, scope: ComponentScope) -> Component {
        let package = Package::from_purl(purl).unwrap();
        let mut c = Component::new(package, scope).unwrap();
        c.purl = purl.to_string();
        c
    }

    #[test]
    fn parses_the_documented_example() {
        let config = Config::parse(".posture.yml", EXAMPLE).unwrap();
        let licenses = config.policy.licenses.as_ref().unwrap();
        assert_eq!(licenses.allow.len(), 5);
        assert_eq!(licenses.unknown, Verdict::Review);
        assert_eq!(licenses.scopes, vec![ComponentScope::Runtime]);
        let exception = &licenses.exceptions[0];
        assert_eq!(exception.package.ecosystem, Ecosystem::Maven);
        assert_eq!(exception.package.name, "com.mysql:mysql-connector-j");
        let rule = &config.policy.packages.deny[0];
        assert_eq!(rule.versions.to_string(), "=3.3.6");
        assert!(rule.matches(&component(
            "pkg:npm/event-stream@3.3.6",
            ComponentScope::Dev
        )));
        assert!(!rule.matches(&component(
            "pkg:npm/event-stream@3.3.5",
            ComponentScope::Runtime
        )));
        assert!(!rule.matches(&component(
            "pkg:npm/event-stream-x@3.3.6",
            ComponentScope::Runtime
        )));
        let connector = component(
            "pkg:maven/com.mysql/mysql-connector-j@8.4.0",
            ComponentScope::Runtime,
        );
        assert!(
            licenses
                .exception_for(
                    &connector,
                    Some("GPL-2.0 WITH Universal-FOSS-exception-1.0")
                )
                .is_some()
        );
        assert!(
            licenses
                .exception_for(&connector, Some("GPL-2.0-only"))
                .is_none()
        );
        assert!(Config::default().policy.is_empty());
        assert_eq!(Config::default().policy.describe(), None);
        assert_eq!(
            config.policy.describe().as_deref(),
            Some(
                "policy: licences of runtime dependencies: 5 allowed, 2 to review, 2 denied, others review, 1 exception(s); 1 banned package rule(s)"
            )
        );
        assert!(!config.policy.is_empty());
    }

    #[test]
    fn defaults_of_a_licenses_section() {
        let config = Config::parse("c", "policy:\n  licenses:\n    allow: [MIT]\n").unwrap();
        let licenses = config.policy.licenses.unwrap();
        assert_eq!(licenses.unknown, Verdict::Review);
        assert_eq!(licenses.scopes, vec![ComponentScope::Runtime]);
        assert!(licenses.judges(ComponentScope::Runtime));
        assert!(!licenses.judges(ComponentScope::Test));
        assert!(config.policy.packages.deny.is_empty());
    }

    #[test]
    fn bad_entries_are_positioned_errors_naming_them() {
        let cases = [
            (
                "policy:\n  licenses:\n    allow: [MIT, Apache2]\n",
                3,
                "`Apache2` is not a valid SPDX licence: unknown term",
            ),
            (
                "policy:\n  licenses:\n    deny:\n      - \"GPL-2.0-only WITH Nope\"\n",
                4,
                "at `Nope`",
            ),
            (
                "policy:\n  licenses:\n    allow: [MIT]\n    deny: [MIT]\n",
                2,
                "`MIT` is listed in both `allow` and `deny`",
            ),
            (
                "policy:\n  licenses:\n    unknown: maybe\n",
                3,
                "found an unknown value",
            ),
            (
                "policy:\n  licenses:\n    scopes: [prod]\n",
                3,
                "found an unknown value",
            ),
            (
                "policy:\n  licenses:\n    scopes: []\n",
                3,
                "`scopes` needs at least one",
            ),
            (
                "policy:\n  licenses:\n    exceptions:\n      - package: lodash\n",
                4,
                "`lodash` is not a package URL",
            ),
            (
                "policy:\n  licenses:\n    exceptions:\n      - package: pkg:npm/x\n        license: MIT OR\n",
                4,
                "`MIT OR` is not a valid SPDX licence",
            ),
            (
                "policy:\n  packages:\n    deny:\n      - package: \"pkg:npm/event-stream@3.3.6\"\n",
                4,
                "names a version",
            ),
            (
                "policy:\n  packages:\n    deny:\n      - package: pkg:npm/event-stream\n        versions: \"^3.3.6\"\n",
                4,
                "pkg:npm/event-stream: version range `^3.3.6`: `^3.3.6` needs one of",
            ),
            (
                "policy:\n  packages:\n    deny:\n      - package: pkg:pypi/django\n        versions: \">=1.0, <two\"\n",
                4,
                "`two` is not a PyPI version",
            ),
            (
                "policy:\n  packages:\n    ban: []\n",
                3,
                "unknown field `ban`",
            ),
            ("policy:\n  license: {}\n", 2, "unknown field `license`"),
        ];
        for (text, line, needle) in cases {
            let err = Config::parse("c", text).unwrap_err();
            assert!(err.message.contains(needle), "{text:?}: {err}");
            assert_eq!(err.position.map(|p| p.0), Some(line), "{text:?}: {err}");
        }
    }

    #[test]
    fn package_refs_match_across_spellings() {
        let scoped = PackageRef::parse("pkg:npm/@babel/core").unwrap();
        assert!(scoped.matches(&component(
            "pkg:npm/%40babel/core@7.0.0",
            ComponentScope::Runtime
        )));
        let django = PackageRef::parse("pkg:pypi/Django").unwrap();
        assert!(django.matches(&component("pkg:pypi/django@4.2", ComponentScope::Runtime)));
        assert!(!django.matches(&component("pkg:npm/django@4.2", ComponentScope::Runtime)));
    }
}
