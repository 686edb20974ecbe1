//! The published JSON schemas in `fixtures/schemas/`, validated offline: the schemas a
//! schema refers to are registered by their `$id`, so nothing is fetched.

use serde_json::Value;

fn load_schema(name: &str) -> Value {
    let path = super::fixture("schemas").join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    serde_json::from_str(&text).unwrap()
}

/// The errors of `instance` against `schema_file`, each with its JSON path.
pub fn validate(schema_file: &str, instance: &Value, related: &[&str]) -> Vec<String> {
    let mut registry = jsonschema::Registry::new();
    for name in related {
        let schema = load_schema(name);
        let id = schema["$id"]
            .as_str()
            .expect("a related schema has an $id")
            .to_string();
        registry = registry.add(id, schema).expect("a valid $id");
    }
    let registry = registry.prepare().expect("the registry prepares offline");
    let validator = jsonschema::options()
        .with_registry(&registry)
        .should_validate_formats(true)
        .build(&load_schema(schema_file))
        .unwrap_or_else(|e| panic!("{schema_file} compiles: {e}"));
    validator
        .iter_errors(instance)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect()
}

/// The errors of a CycloneDX 1.6 document.
pub fn validate_cyclonedx(bom: &Value) -> Vec<String> {
    validate(
        "cyclonedx-bom-1.6.schema.json",
        bom,
        &[
            "cyclonedx-spdx.schema.json",
            "cyclonedx-jsf-0.82.schema.json",
        ],
    )
}

/// The errors of an SPDX 2.3 document.
pub fn validate_spdx(document: &Value) -> Vec<String> {
    validate("spdx-2.3.schema.json", document, &[])
}
