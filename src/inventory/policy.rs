//! The component policy of `.posture.yml` ([`PolicyConfig`]) evaluated over a repository's
//! components, and the findings its violations become.
//!
//! Licences are judged ([`super::license::judge`]) for components whose scope the policy
//! lists (`scopes`, runtime by default), on their effective licence (a concluded licence
//! wins over a declared one); an exception for the package (and, if it names one, its
//! licence) lets a licence pass. Banned packages are matched by package URL without version
//! and an optional version range, in every scope. A component violates each kind at most
//! once (the first banning rule), and a package listed twice in one manifest at one version
//! (nested `node_modules`) violates once.
//!
//! The findings are `license` and `policy` findings of the tool `posture` with the rule as
//! their rule id; [`crate::analyze::identity`] identifies them by package and rule, so they
//! keep their id when lines move or the package is bumped to a version that still violates.

use std::collections::HashSet;

use super::license::{self, Verdict};
use crate::config::policy::PolicyConfig;
use crate::model::{Component, Finding, Kind, Location, Severity};

/// The tool findings of the policy are reported under.
pub const TOOL: &str = "posture";
/// A licence a list denies.
pub const RULE_LICENSE_DENY: &str = "license/deny";
/// A licence a list puts up for review.
pub const RULE_LICENSE_REVIEW: &str = "license/review";
/// A licence no list names (or none, or an unreadable one), judged by `unknown`.
pub const RULE_LICENSE_UNKNOWN: &str = "license/unknown";
/// A banned package or version.
pub const RULE_PACKAGE_DENY: &str = "package/deny";

/// What a violation is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ViolationKind {
    License,
    Package,
}

/// One component breaking one rule of the policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    pub component: Component,
    pub kind: ViolationKind,
    /// `Review` or `Deny`.
    pub verdict: Verdict,
    /// One of the `RULE_*` ids.
    pub rule: String,
    pub reason: String,
}

/// Every violation of `policy` among `components`, in component order (package rules
/// before the licence of the same component).
pub fn evaluate(policy: &PolicyConfig, components: &[Component]) -> Vec<Violation> {
    let mut out = Vec::new();
    let mut seen: HashSet<(Option<&str>, &str, &'static str)> = HashSet::new();
    for component in components {
        let mut push = |violation: Violation, rule: &'static str| {
            if seen.insert((component.package.manifest.as_deref(), &component.purl, rule)) {
                out.push(violation);
            }
        };
        if let Some(rule) = policy.packages.deny.iter().find(|r| r.matches(component)) {
            let mut reason = rule
                .reason
                .clone()
                .unwrap_or_else(|| "banned by the policy".to_string());
            if !rule.versions.is_every() {
                reason.push_str(&format!(" (versions {})", rule.versions));
            }
            push(
                Violation {
                    component: component.clone(),
                    kind: ViolationKind::Package,
                    verdict: Verdict::Deny,
                    rule: RULE_PACKAGE_DENY.to_string(),
                    reason,
                },
                RULE_PACKAGE_DENY,
            );
        }
        let Some(licenses) = &policy.licenses else {
            continue;
        };
        if !licenses.judges(component.scope) {
            continue;
        }
        let effective = component.licenses.effective();
        let judged = license::judge(effective, licenses);
        if judged.verdict == Verdict::Allow
            || licenses.exception_for(component, effective).is_some()
        {
            continue;
        }
        let rule = match (judged.unknown, judged.verdict) {
            (true, _) => RULE_LICENSE_UNKNOWN,
            (false, Verdict::Deny) => RULE_LICENSE_DENY,
            (false, _) => RULE_LICENSE_REVIEW,
        };
        push(
            Violation {
                component: component.clone(),
                kind: ViolationKind::License,
                verdict: judged.verdict,
                rule: rule.to_string(),
                reason: judged.reason,
            },
            rule,
        );
    }
    out
}

/// The findings of `violations`: `license` or `policy` findings of the tool `posture`, at the
/// line of the manifest that declares the component.
pub fn findings(violations: &[Violation]) -> Vec<Finding> {
    violations.iter().map(finding).collect()
}

fn finding(violation: &Violation) -> Finding {
    let component = &violation.component;
    let package = &component.package;
    let kind = match violation.kind {
        ViolationKind::License => Kind::License,
        ViolationKind::Package => Kind::Policy,
    };
    let mut f = Finding::new(kind, TOOL, violation.rule.clone());
    f.severity = match violation.verdict {
        Verdict::Deny => Severity::High,
        Verdict::Review | Verdict::Allow => Severity::Low,
    };
    let named = match package.version.as_deref() {
        Some(version) => format!("{} {version}", package.name),
        None => package.name.clone(),
    };
    let licence = component
        .licenses
        .effective()
        .unwrap_or("no licence stated");
    f.title = match (violation.kind, violation.verdict) {
        (ViolationKind::Package, _) => format!("Banned package {}", package.name),
        (ViolationKind::License, Verdict::Deny) => format!("Denied licence: {}", package.name),
        (ViolationKind::License, _) => format!("Licence to review: {}", package.name),
    };
    f.message = match violation.kind {
        ViolationKind::Package => format!(
            "{named} ({}, licence {licence}) is banned by the component policy ({}): {}",
            component.scope, violation.rule, violation.reason
        ),
        ViolationKind::License => format!(
            "{named} ({}) is licensed {licence}; the component policy says {} ({}): {}",
            component.scope, violation.verdict, violation.rule, violation.reason
        ),
    };
    f.location = package.manifest.as_ref().map(|manifest| {
        let location = Location::new(manifest.clone());
        match component.line {
            Some(line) => location.with_lines(line, line),
            None => location,
        }
    });
    f.package = Some(Box::new(package.clone()));
    f
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::model::{ComponentScope, Ecosystem, Licenses, Package};

    const POLICY: &str = r#"policy:
  licenses:
    allow: [MIT, Apache-2.0, BSD-2-Clause, BSD-3-Clause, ISC, 0BSD]
    review: ["LGPL-2.1-or-later", "MPL-2.0"]
    deny: [AGPL-3.0-only, SSPL-1.0]
    unknown: review
    scopes: [runtime]
    exceptions: [{package: "pkg:maven/com.mysql/mysql-connector-j", license: "GPL-2.0-only WITH Universal-FOSS-exception-1.0", reason: "vendor exception"}]
  packages:
    deny: [{package: "pkg:npm/event-stream", versions: "=3.3.6", reason: "compromised release"}, {package: "pkg:npm/left-pad"}]
"#;

    fn policy() -> PolicyConfig {
        Config::parse(".posture.yml", POLICY).unwrap().policy
    }

    fn component(
        ecosystem: Ecosystem,
        name: &str,
        version: &str,
        scope: ComponentScope,
        declared: Option<&str>,
        line: u32,
    ) -> Component {
        let manifest = match ecosystem {
            Ecosystem::Maven => "pom.xml",
            _ => "package-lock.json",
        };
        let mut c = Component::new(
            Package {
                ecosystem,
                name: name.into(),
                version: Some(version.into()),
                manifest: Some(manifest.into()),
            },
            scope,
        )
        .unwrap();
        c.line = Some(line);
        c.licenses = Licenses {
            declared: declared.map(str::to_string),
            concluded: None,
        };
        c
    }

    fn npm(name: &str, version: &str, scope: ComponentScope, license: Option<&str>) -> Component {
        component(Ecosystem::Npm, name, version, scope, license, 10)
    }

    #[test]
    fn licences_and_packages_are_judged() {
        use ComponentScope::*;
        let components = vec![
            npm("express", "4.18.2", Runtime, Some("MIT")),
            npm("mongo-thing", "1.0.0", Runtime, Some("SSPL-1.0")),
            npm("dev-tool", "1.0.0", Dev, Some("AGPL-3.0-only")),
            npm("event-stream", "3.3.6", Dev, Some("MIT")),
            npm("event-stream", "3.3.5", Runtime, Some("MIT")),
            npm("left-pad", "1.3.0", Runtime, Some("WTFPL")),
            npm("mystery", "0.1.0", Runtime, None),
            npm("mpl", "2.0.0", Runtime, Some("MPL-2.0 OR AGPL-3.0-only")),
            component(
                Ecosystem::Maven,
                "com.mysql:mysql-connector-j",
                "8.4.0",
                Runtime,
                Some("GPL-2.0-only WITH Universal-FOSS-exception-1.0"),
                40,
            ),
        ];
        let violations = evaluate(&policy(), &components);
        let got: Vec<(&str, &str, Verdict)> = violations
            .iter()
            .map(|v| {
                (
                    v.component.package.name.as_str(),
                    v.rule.as_str(),
                    v.verdict,
                )
            })
            .collect();
        assert_eq!(
            got,
            vec![
                ("mongo-thing", RULE_LICENSE_DENY, Verdict::Deny),
                // Package rules apply in every scope; the dev licence is not judged.
                ("event-stream", RULE_PACKAGE_DENY, Verdict::Deny),
                ("left-pad", RULE_PACKAGE_DENY, Verdict::Deny),
                ("left-pad", RULE_LICENSE_UNKNOWN, Verdict::Review),
                ("mystery", RULE_LICENSE_UNKNOWN, Verdict::Review),
                ("mpl", RULE_LICENSE_REVIEW, Verdict::Review),
            ]
        );
        assert_eq!(violations[0].reason, "SSPL-1.0 is denied");
        assert_eq!(
            violations[1].reason,
            "compromised release (versions =3.3.6)"
        );
        assert_eq!(violations[2].reason, "banned by the policy");
        assert_eq!(violations[4].reason, "no licence stated");
        assert_eq!(violations[3].kind, ViolationKind::License);
        assert_eq!(violations[2].kind, ViolationKind::Package);
    }

    #[test]
    fn scopes_and_exceptions_decide_what_is_judged() {
        let mut config = policy();
        let dev = npm(
            "dev-tool",
            "1.0.0",
            ComponentScope::Dev,
            Some("AGPL-3.0-only"),
        );
        assert!(evaluate(&config, std::slice::from_ref(&dev)).is_empty());
        if let Some(licenses) = config.licenses.as_mut() {
            licenses.scopes.push(ComponentScope::Dev);
        }
        assert_eq!(evaluate(&config, std::slice::from_ref(&dev)).len(), 1);
        // The exception names a licence: another licence of the package is judged.
        let mut connector = component(
            Ecosystem::Maven,
            "com.mysql:mysql-connector-j",
            "8.4.0",
            ComponentScope::Runtime,
            Some("GPL-2.0-only"),
            40,
        );
        assert_eq!(evaluate(&config, std::slice::from_ref(&connector)).len(), 1);
        // A concluded licence wins over the declared one.
        connector.licenses.concluded =
            Some("GPL-2.0-only WITH Universal-FOSS-exception-1.0".into());
        assert!(evaluate(&config, std::slice::from_ref(&connector)).is_empty());
        assert!(evaluate(&PolicyConfig::default(), &[connector, dev]).is_empty());
    }

    #[test]
    fn a_package_listed_twice_in_one_manifest_violates_once() {
        let a = npm("left-pad", "1.3.0", ComponentScope::Runtime, Some("MIT"));
        let mut b = a.clone();
        b.line = Some(99);
        let mut other = a.clone();
        other.package.manifest = Some("web/package-lock.json".into());
        assert_eq!(evaluate(&policy(), &[a, b, other]).len(), 2);
    }

    #[test]
    fn findings_carry_kind_severity_location_and_message() {
        let components = vec![
            npm(
                "event-stream",
                "3.3.6",
                ComponentScope::Runtime,
                Some("MIT"),
            ),
            npm("mpl", "2.0.0", ComponentScope::Runtime, Some("MPL-2.0")),
        ];
        let findings = findings(&evaluate(&policy(), &components));
        assert_eq!(findings.len(), 2);
        let banned = &findings[0];
        assert_eq!(
            (banned.kind, banned.rule.as_str(), banned.severity),
            (Kind::Policy, RULE_PACKAGE_DENY, Severity::High)
        );
        assert_eq!(banned.tools, vec![TOOL]);
        assert_eq!(banned.path(), Some("package-lock.json"));
        assert_eq!(banned.location.as_ref().unwrap().lines(), Some((10, 10)));
        assert_eq!(banned.package.as_ref().unwrap().name, "event-stream");
        assert_eq!(
            banned.message,
            "event-stream 3.3.6 (runtime, licence MIT) is banned by the component policy (package/deny): compromised release (versions =3.3.6)"
        );
        let review = &findings[1];
        assert_eq!(
            (review.kind, review.rule.as_str(), review.severity),
            (Kind::License, RULE_LICENSE_REVIEW, Severity::Low)
        );
        assert_eq!(
            review.message,
            "mpl 2.0.0 (runtime) is licensed MPL-2.0; the component policy says review (license/review): MPL-2.0 needs review"
        );
    }

    /// The packages of the SPDX 2.3 specification's example document as components (its
    /// purl where it gives one, else a generic one), read with serde_json: the licences are
    /// the document's own expressions.
    fn spdx_example() -> Vec<Component> {
        let text = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/fixtures/sbom/spdx/SPDXJSONExample-v2.3.spdx.json"
        ))
        .unwrap();
        let document: serde_json::Value = serde_json::from_str(&text).unwrap();
        let text_of = |p: &serde_json::Value, key: &str| p[key].as_str().map(str::to_string);
        document["packages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                let name = text_of(p, "name").unwrap();
                let version = text_of(p, "versionInfo");
                let purl = p["externalRefs"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .find(|r| r["referenceType"] == "purl")
                    .and_then(|r| text_of(r, "referenceLocator"));
                let (package, purl) = match purl {
                    Some(purl) => {
                        let mut package = Package::from_purl(&purl).unwrap();
                        package.manifest = Some("sbom.spdx.json".into());
                        (package, purl)
                    }
                    None => (
                        Package {
                            ecosystem: Ecosystem::Other("generic".into()),
                            name: name.clone(),
                            version: version.clone(),
                            manifest: Some("sbom.spdx.json".into()),
                        },
                        format!("pkg:generic/{}", name.replace(' ', "%20")),
                    ),
                };
                Component {
                    package,
                    purl,
                    scope: ComponentScope::Runtime,
                    direct: None,
                    chain: Vec::new(),
                    line: None,
                    licenses: Licenses {
                        declared: text_of(p, "licenseDeclared"),
                        concluded: text_of(p, "licenseConcluded"),
                    },
                }
            })
            .collect()
    }

    #[test]
    fn the_spdx_specification_example_is_judged() {
        let components = spdx_example();
        assert_eq!(components.len(), 4);
        let config = Config::parse(
            ".posture.yml",
            "policy:\n  licenses:\n    allow: [Apache-2.0, LicenseRef-3]\n    review: [MPL-1.0]\n    deny: [LGPL-2.0-only, GPL-2.0-only]\n    unknown: deny\n",
        )
        .unwrap();
        let judged: Vec<(String, String, Verdict, String)> = evaluate(&config.policy, &components)
            .into_iter()
            .map(|v| (v.component.package.name, v.rule, v.verdict, v.reason))
            .collect();
        assert_eq!(
            judged,
            vec![
                // glibc: concluded `(LGPL-2.0-only OR LicenseRef-3)` wins over the declared
                // `(LGPL-2.0-only AND LicenseRef-3)`, and its OR passes.
                (
                    "Apache Commons Lang".to_string(),
                    RULE_LICENSE_UNKNOWN.to_string(),
                    Verdict::Deny,
                    "no licence stated".to_string()
                ),
                (
                    "org.apache.jena:apache-jena".to_string(),
                    RULE_LICENSE_UNKNOWN.to_string(),
                    Verdict::Deny,
                    "no licence stated".to_string()
                ),
                (
                    "Saxon".to_string(),
                    RULE_LICENSE_REVIEW.to_string(),
                    Verdict::Review,
                    "MPL-1.0 needs review".to_string()
                ),
            ]
        );
        // Judged on the declared licence alone, glibc's AND fails.
        let mut glibc = components[0].clone();
        glibc.licenses.concluded = None;
        let violations = evaluate(&config.policy, &[glibc]);
        assert_eq!(violations.len(), 1);
        assert_eq!(violations[0].rule, RULE_LICENSE_DENY);
        assert_eq!(violations[0].reason, "LGPL-2.0-only is denied");
        // An exception for Jena's package URL (any licence) lets it pass.
        let excepted = Config::parse(
            ".posture.yml",
            "policy:\n  licenses:\n    unknown: deny\n    exceptions: [{package: \"pkg:maven/org.apache.jena/apache-jena\", reason: \"reviewed\"}]\n",
        )
        .unwrap();
        let names: Vec<String> = evaluate(&excepted.policy, &components)
            .into_iter()
            .map(|v| v.component.package.name)
            .collect();
        assert!(
            !names.contains(&"org.apache.jena:apache-jena".to_string()),
            "{names:?}"
        );
        assert_eq!(names.len(), 3);
    }
}
