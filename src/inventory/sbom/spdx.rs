//! The SPDX 2.3 JSON writer.
//!
//! | posture | SPDX |
//! |---|---|
//! | subject | a package `SPDXRef-Subject` (version = the commit id) the document `DESCRIBES` |
//! | component | a package `SPDXRef-Package-<name>-<hash>`: the hash (of package URL and manifest) keeps it unique and the same across documents; `downloadLocation: NOASSERTION`, `filesAnalyzed: false`, an `externalRefs` `PACKAGE-MANAGER` `purl`, the manifest in `sourceInfo` |
//! | licence text, a valid SPDX expression | `licenseDeclared` / `licenseConcluded` as is |
//! | licence text, free | a `LicenseRef-<hash>` with its text in `hasExtractedLicensingInfos` |
//! | no licence text | `NOASSERTION` |
//! | direct runtime / dev / test component | subject `DEPENDS_ON` it / it `DEV_DEPENDENCY_OF` subject / it `TEST_DEPENDENCY_OF` subject |
//! | a chain's consecutive packages | parent `DEPENDS_ON` child |
//!
//! The namespace ends in a UUID from the SHA-256 of the document without it.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};

use super::{
    Inventory, LicenseText, Subject, TOOL_NAME, TOOL_VERSION, content_uuid, sha256_hex, timestamp,
};
use crate::model::{Component, ComponentScope};

const DOCUMENT_ID: &str = "SPDXRef-DOCUMENT";
const SUBJECT_ID: &str = "SPDXRef-Subject";

/// Where posture's document namespaces live; the namespace only has to be unique.
const NAMESPACE_BASE: &str = "https://spdx.org/spdxdocs/posture";

pub(super) fn document(subject: &Subject, inventory: &Inventory) -> Value {
    let ids: Vec<String> = inventory.components.iter().map(|c| package_id(c)).collect();
    let mut extracted: BTreeMap<String, String> = BTreeMap::new();
    let mut packages = vec![json!({
        "SPDXID": SUBJECT_ID,
        "name": subject.name,
        "versionInfo": subject.revision,
        "downloadLocation": "NOASSERTION",
        "filesAnalyzed": false,
        "primaryPackagePurpose": "APPLICATION",
    })];
    for (component, id) in inventory.components.iter().zip(&ids) {
        packages.push(package(component, id, &mut extracted));
    }

    let mut relationships: BTreeSet<(String, &str, String)> = BTreeSet::new();
    relationships.insert((DOCUMENT_ID.into(), "DESCRIBES", SUBJECT_ID.into()));
    for &root in &inventory.roots {
        let id = ids[root].clone();
        relationships.insert(match inventory.components[root].scope {
            ComponentScope::Runtime => (SUBJECT_ID.into(), "DEPENDS_ON", id),
            ComponentScope::Dev => (id, "DEV_DEPENDENCY_OF", SUBJECT_ID.into()),
            ComponentScope::Test => (id, "TEST_DEPENDENCY_OF", SUBJECT_ID.into()),
        });
    }
    for &(parent, child) in &inventory.edges {
        relationships.insert((ids[parent].clone(), "DEPENDS_ON", ids[child].clone()));
    }
    let relationships: Vec<Value> = relationships
        .into_iter()
        .map(|(element, kind, related)| {
            json!({
                "spdxElementId": element,
                "relationshipType": kind,
                "relatedSpdxElement": related,
            })
        })
        .collect();

    let mut document = json!({
        "spdxVersion": "SPDX-2.3",
        "dataLicense": "CC0-1.0",
        "SPDXID": DOCUMENT_ID,
        "name": format!("{}@{}", subject.name, subject.revision),
        "creationInfo": {
            "created": timestamp(subject),
            "creators": [format!("Tool: {TOOL_NAME}-{TOOL_VERSION}")],
        },
        "packages": packages,
        "relationships": relationships,
    });
    let Some(object) = document.as_object_mut() else {
        return document;
    };
    if !extracted.is_empty() {
        let infos: Vec<Value> = extracted
            .into_iter()
            .map(|(id, text)| json!({ "licenseId": id, "extractedText": text, "name": text }))
            .collect();
        object.insert("hasExtractedLicensingInfos".into(), Value::Array(infos));
    }
    let uuid = content_uuid(document.to_string().as_bytes());
    let namespace = format!(
        "{NAMESPACE_BASE}/{}-{uuid}",
        id_safe(subject.name).trim_matches('-')
    );
    if let Some(object) = document.as_object_mut() {
        object.insert("documentNamespace".into(), Value::String(namespace));
    }
    document
}

/// `SPDXRef-Package-<name>-<hash>`: letters, digits, `.` and `-` only, as SPDX requires.
fn package_id(component: &Component) -> String {
    let key = format!(
        "{}\n{}",
        component.purl,
        component.package.manifest.as_deref().unwrap_or("")
    );
    let hash = sha256_hex(key.as_bytes());
    format!(
        "SPDXRef-Package-{}-{}",
        id_safe(&component.package.name),
        &hash[..16]
    )
}

/// `text` with every character SPDX ids do not allow replaced by `-`.
fn id_safe(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect()
}

fn package(component: &Component, id: &str, extracted: &mut BTreeMap<String, String>) -> Value {
    let mut license = |text: Option<&str>| match LicenseText::read(text) {
        Some(LicenseText::Expression(expression)) => expression,
        Some(LicenseText::Free(text)) => {
            let id = format!("LicenseRef-{}", &sha256_hex(text.as_bytes())[..16]);
            extracted.insert(id.clone(), text);
            id
        }
        None => "NOASSERTION".to_string(),
    };
    let declared = license(component.licenses.declared.as_deref());
    let concluded = license(component.licenses.concluded.as_deref());
    let mut value = json!({
        "SPDXID": id,
        "name": component.package.name,
        "downloadLocation": "NOASSERTION",
        "filesAnalyzed": false,
        "primaryPackagePurpose": "LIBRARY",
        "licenseDeclared": declared,
        "licenseConcluded": concluded,
        "externalRefs": [{
            "referenceCategory": "PACKAGE-MANAGER",
            "referenceType": "purl",
            "referenceLocator": component.purl,
        }],
    });
    let Some(object) = value.as_object_mut() else {
        return value;
    };
    if let Some(version) = component
        .package
        .version
        .as_deref()
        .map(str::trim)
        .filter(|v| !v.is_empty())
    {
        object.insert("versionInfo".into(), json!(version));
    }
    if let Some(manifest) = component.package.manifest.as_deref() {
        object.insert(
            "sourceInfo".into(),
            json!(format!(
                "{} dependency listed in {manifest}",
                component.scope
            )),
        );
    }
    value
}
