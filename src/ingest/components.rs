//! The components a report lists, as the SBOM and scanner parsers read them: from a package
//! URL (else a package), with the report's manifest, licence texts joined as one, and one
//! component per package URL and manifest.

use std::collections::HashMap;

use crate::inventory::sbom::is_spdx_expression;
use crate::model::{Component, ComponentScope, Package};

/// The component a package URL names, listed by `manifest`; `None` when `purl` is not a
/// package URL. The package URL is kept as the report gives it (qualifiers too).
pub(crate) fn from_purl(purl: &str, manifest: Option<&str>) -> Option<Component> {
    let purl = purl.trim();
    let mut package = Package::from_purl(purl)?;
    package.manifest = manifest
        .map(str::trim)
        .filter(|m| !m.is_empty())
        .map(str::to_string);
    if package.name.trim().is_empty() {
        return None;
    }
    Some(Component {
        package,
        purl: purl.to_string(),
        scope: ComponentScope::Runtime,
        direct: None,
        chain: Vec::new(),
        line: None,
        licenses: Default::default(),
    })
}

/// The component of `purl` when it is a package URL, else of `package` (its package URL
/// derived).
pub(crate) fn from_purl_or_package(purl: Option<&str>, package: Package) -> Option<Component> {
    let manifest = package.manifest.clone();
    purl.filter(|p| !p.trim().is_empty())
        .and_then(|p| from_purl(p, manifest.as_deref()))
        .or_else(|| Component::new(package, ComponentScope::Runtime))
}

/// Several licence texts of one package as one: joined by `AND` when each is a valid SPDX
/// expression (compound ones in parentheses), else listed with `, `. `None` when there are
/// none.
pub(crate) fn join_licenses<'a>(given: impl IntoIterator<Item = &'a str>) -> Option<String> {
    let mut texts: Vec<&str> = Vec::new();
    for text in given.into_iter().map(str::trim) {
        if !text.is_empty() && !texts.contains(&text) {
            texts.push(text);
        }
    }
    match texts.as_slice() {
        [] => None,
        [one] => Some(one.to_string()),
        many if many.iter().all(|t| is_spdx_expression(t)) => Some(
            many.iter()
                .map(|t| {
                    if t.contains(' ') {
                        format!("({t})")
                    } else {
                        t.to_string()
                    }
                })
                .collect::<Vec<_>>()
                .join(" AND "),
        ),
        many => Some(many.join(", ")),
    }
}

/// One component per package URL and manifest, in first-seen order; a later listing fills
/// in what the first left unknown (direct, licences, line).
pub(crate) fn dedupe(components: Vec<Component>) -> Vec<Component> {
    let mut index: HashMap<(String, Option<String>), usize> = HashMap::new();
    let mut unique: Vec<Component> = Vec::with_capacity(components.len());
    for component in components {
        let key = (component.purl.clone(), component.package.manifest.clone());
        match index.get(&key) {
            Some(&at) => {
                let kept = &mut unique[at];
                kept.direct = kept.direct.or(component.direct);
                kept.line = kept.line.or(component.line);
                if kept.licenses.declared.is_none() {
                    kept.licenses.declared = component.licenses.declared;
                }
                if kept.licenses.concluded.is_none() {
                    kept.licenses.concluded = component.licenses.concluded;
                }
                if kept.chain.is_empty() {
                    kept.chain = component.chain;
                }
            }
            None => {
                index.insert(key, unique.len());
                unique.push(component);
            }
        }
    }
    unique
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Ecosystem;

    #[test]
    fn components_from_package_urls() {
        let c = from_purl(
            "pkg:npm/%40babel/core@7.22.5",
            Some("web/package-lock.json"),
        )
        .unwrap();
        assert_eq!(c.package.name, "@babel/core");
        assert_eq!(c.package.ecosystem, Ecosystem::Npm);
        assert_eq!(c.package.manifest.as_deref(), Some("web/package-lock.json"));
        assert_eq!(c.purl, "pkg:npm/%40babel/core@7.22.5");
        assert!(from_purl("not a purl", None).is_none());
        assert!(from_purl("pkg:npm/", None).is_none());
    }

    #[test]
    fn licences_join_as_an_expression_or_a_list() {
        assert_eq!(join_licenses(["MIT"]), Some("MIT".into()));
        assert_eq!(
            join_licenses(["Apache-2.0", "MIT OR X11", "Apache-2.0"]),
            Some("Apache-2.0 AND (MIT OR X11)".into())
        );
        assert_eq!(
            join_licenses(["MIT", "Apache 2.0"]),
            Some("MIT, Apache 2.0".into())
        );
        assert_eq!(join_licenses([" ", ""]), None);
    }

    #[test]
    fn dedupe_keeps_the_first_and_fills_in() {
        let mut a = from_purl("pkg:npm/a@1", Some("p.json")).unwrap();
        a.licenses.declared = Some("MIT".into());
        let mut b = a.clone();
        b.licenses.declared = Some("ISC".into());
        b.direct = Some(true);
        let other_manifest = from_purl("pkg:npm/a@1", Some("q.json")).unwrap();
        let unique = dedupe(vec![a, b, other_manifest]);
        assert_eq!(unique.len(), 2);
        assert_eq!(unique[0].licenses.declared.as_deref(), Some("MIT"));
        assert_eq!(unique[0].direct, Some(true));
    }
}
