//! The CycloneDX 1.6 JSON writer.
//!
//! | posture | CycloneDX |
//! |---|---|
//! | subject | `metadata.component` (`application`, version = the commit id) |
//! | component | `components[]` of type `library`: `bom-ref` = package URL, then ` \| manifest` when there is one (unique: components are unique by both) |
//! | Maven `group:artifact`, npm `@scope/name` | `group` + `name` |
//! | scope `runtime` / `dev` / `test` | `scope` `required` / `excluded` / `excluded`: the specification keeps `optional` for components that may be absent at runtime and `excluded` for those used only for tests and development, never reachable at runtime |
//! | scope, manifest, direct | `properties` `posture:scope`, `posture:manifest`, `posture:direct` |
//! | one licence text, a valid SPDX expression | `licenses: [{expression, acknowledgement}]` |
//! | one licence text, free | `licenses: [{license: {name, acknowledgement}}]` |
//! | declared and concluded texts that differ | `licenses: [{license: {id or name, acknowledgement}}, …]` (CycloneDX allows one expression only, so each is a licence: a single SPDX identifier as `id`, anything else as `name`) |
//! | chains | `dependencies` |
//!
//! The serial number is a UUID from the SHA-256 of the document without it.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::{Inventory, LicenseText, Subject, TOOL_NAME, TOOL_VERSION, content_uuid, timestamp};
use crate::model::{Component, ComponentScope, Ecosystem};

pub(super) fn document(subject: &Subject, inventory: &Inventory) -> Value {
    let refs: Vec<String> = inventory.components.iter().map(|c| bom_ref(c)).collect();
    let subject_ref = format!("{}@{}", subject.name, subject.revision);
    let components: Vec<Value> = inventory
        .components
        .iter()
        .zip(&refs)
        .map(|(c, r)| component(c, r))
        .collect();

    let mut depends: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    depends.insert(
        &subject_ref,
        inventory.roots.iter().map(|&i| refs[i].as_str()).collect(),
    );
    for &(parent, child) in &inventory.edges {
        depends
            .entry(refs[parent].as_str())
            .or_default()
            .push(refs[child].as_str());
    }
    let dependencies: Vec<Value> = depends
        .into_iter()
        .map(|(reference, mut on)| {
            on.sort_unstable();
            on.dedup();
            json!({ "ref": reference, "dependsOn": on })
        })
        .collect();

    let mut bom = json!({
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "version": 1,
        "metadata": {
            "timestamp": timestamp(subject),
            "tools": {
                "components": [{
                    "type": "application",
                    "name": TOOL_NAME,
                    "version": TOOL_VERSION,
                }],
            },
            "component": {
                "type": "application",
                "bom-ref": subject_ref,
                "name": subject.name,
                "version": subject.revision,
            },
        },
        "components": components,
        "dependencies": dependencies,
    });
    let serial = format!("urn:uuid:{}", content_uuid(bom.to_string().as_bytes()));
    if let Some(object) = bom.as_object_mut() {
        object.insert("serialNumber".into(), Value::String(serial));
    }
    bom
}

/// The component's `bom-ref`: its package URL, and its manifest when it has one.
fn bom_ref(component: &Component) -> String {
    match component.package.manifest.as_deref() {
        Some(manifest) => format!("{} | {manifest}", component.purl),
        None => component.purl.clone(),
    }
}

fn component(component: &Component, reference: &str) -> Value {
    let (group, name) = group_and_name(component);
    let mut value = json!({
        "type": "library",
        "bom-ref": reference,
        "name": name,
        "purl": component.purl,
        "scope": match component.scope {
            ComponentScope::Runtime => "required",
            ComponentScope::Dev | ComponentScope::Test => "excluded",
        },
    });
    let Some(object) = value.as_object_mut() else {
        return value;
    };
    if let Some(group) = group {
        object.insert("group".into(), json!(group));
    }
    if let Some(version) = component
        .package
        .version
        .as_deref()
        .map(str::trim)
        .filter(|v| !v.is_empty())
    {
        object.insert("version".into(), json!(version));
    }
    let licenses = licenses(component);
    if !licenses.is_empty() {
        object.insert("licenses".into(), Value::Array(licenses));
    }
    let mut properties = vec![property("posture:scope", component.scope.as_str())];
    if let Some(direct) = component.direct {
        properties.push(property(
            "posture:direct",
            if direct { "true" } else { "false" },
        ));
    }
    if let Some(manifest) = component.package.manifest.as_deref() {
        properties.push(property("posture:manifest", manifest));
    }
    properties.sort_by(|a, b| a["name"].as_str().cmp(&b["name"].as_str()));
    object.insert("properties".into(), Value::Array(properties));
    value
}

fn property(name: &str, value: &str) -> Value {
    json!({ "name": name, "value": value })
}

/// Maven's `group:artifact` and npm's `@scope/name` split into CycloneDX's group and name;
/// other names whole.
fn group_and_name(component: &Component) -> (Option<&str>, &str) {
    let name = component.package.name.as_str();
    let split = match component.package.ecosystem {
        Ecosystem::Maven => name.split_once(':'),
        Ecosystem::Npm if name.starts_with('@') => name.split_once('/'),
        _ => None,
    };
    match split {
        Some((group, rest)) if !group.is_empty() && !rest.is_empty() => (Some(group), rest),
        _ => (None, name),
    }
}

fn licenses(component: &Component) -> Vec<Value> {
    let concluded = LicenseText::read(component.licenses.concluded.as_deref());
    let declared = LicenseText::read(component.licenses.declared.as_deref());
    let entries: Vec<(LicenseText, &str)> = match (concluded, declared) {
        (Some(c), Some(d)) if c == d => vec![(c, "concluded")],
        (Some(c), Some(d)) => vec![(c, "concluded"), (d, "declared")],
        (Some(c), None) => vec![(c, "concluded")],
        (None, Some(d)) => vec![(d, "declared")],
        (None, None) => Vec::new(),
    };
    if let [(text, acknowledgement)] = entries.as_slice() {
        return vec![match text {
            LicenseText::Expression(expression) => {
                json!({ "expression": expression, "acknowledgement": acknowledgement })
            }
            LicenseText::Free(name) => {
                json!({ "license": { "name": name, "acknowledgement": acknowledgement } })
            }
        }];
    }
    entries
        .into_iter()
        .map(|(text, acknowledgement)| match text {
            LicenseText::Expression(id) if ::spdx::license_id(&id).is_some() => {
                json!({ "license": { "id": id, "acknowledgement": acknowledgement } })
            }
            LicenseText::Expression(text) | LicenseText::Free(text) => {
                json!({ "license": { "name": text, "acknowledgement": acknowledgement } })
            }
        })
        .collect()
}
