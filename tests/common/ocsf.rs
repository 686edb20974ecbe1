//! A small OCSF validator over the raw ocsf-schema sources vendored in
//! `fixtures/schemas/ocsf` (see `fixtures/schemas/SOURCES.txt`), so the OCSF alert format is
//! checked against the published schema offline, without the OCSF server.
//!
//! It compiles what it needs the way the schema server does: a class or object folds in its
//! `extends` chain (the child's attribute fields override the parent's one by one, enums
//! merge), each attribute takes its type from `dictionary.json` unless the class or object
//! overrides it, and `$include`d profiles are left out (an attribute that belongs to a profile
//! is only allowed when `metadata.profiles` names it). It then checks an event recursively:
//! unknown and deprecated attributes, missing required ones, types (scalar types, the
//! dictionary's derived types with their `regex`, `max_len` and `range`, arrays, objects —
//! an object the vendored sources do not define is an error, as it cannot be checked), enum
//! values and their caption siblings, `at_least_one` / `just_one` constraints, and the
//! classification (`class_uid`, `category_uid`, `type_uid` and their names) and
//! `metadata.version`. Problems come back as `path: problem` lines, all of them at once.
//!
//! Limits, by what is vendored: `categories.json` is not, so the categories the vendored
//! classes use are listed in [`CATEGORIES`]; abstract bases (`object`, `_entity`,
//! `_resource`) are not, so they are empty roots (their children redeclare what they use).

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use serde_json::{Map, Value, json};

/// `categories.json` is not vendored: (name, uid, caption) of the categories in use.
const CATEGORIES: &[(&str, i64, &str)] = &[("findings", 2, "Findings")];

/// Attributes whose enums the schema server generates from the classes and categories; the
/// raw sources list only placeholders, so they are checked by [`Schema::check_classification`].
const GENERATED: [&str; 3] = ["class_uid", "category_uid", "type_uid"];

/// The vendored schema sources, indexed.
pub struct Schema {
    version: String,
    /// `dictionary.json`'s `attributes`.
    dictionary: Map<String, Value>,
    /// `dictionary.json`'s `types.attributes`.
    types: Map<String, Value>,
    /// Event classes by name (`events_*.json`).
    classes: BTreeMap<String, Value>,
    /// Objects by name (`objects_*.json`).
    objects: BTreeMap<String, Value>,
}

/// A class or object with its `extends` chain folded in.
struct Resolved {
    name: String,
    caption: String,
    /// The nearest `category` in the chain (classes only).
    category: Option<String>,
    attributes: Map<String, Value>,
    constraints: Map<String, Value>,
}

#[derive(Clone, Copy)]
enum Definition {
    Class,
    Object,
}

/// Where a check is, for messages and the rules that depend on it.
struct Context<'a> {
    profiles: &'a [String],
    errors: &'a mut Vec<String>,
}

impl Context<'_> {
    fn error(&mut self, path: &str, problem: impl std::fmt::Display) {
        let path = if path.is_empty() { "(event)" } else { path };
        self.errors.push(format!("{path}: {problem}"));
    }
}

impl Schema {
    /// The sources in the project's `fixtures/schemas/ocsf`.
    pub fn load() -> Schema {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/schemas/ocsf");
        let read = |name: &str| -> Value {
            let path = dir.join(name);
            let text = fs::read_to_string(&path)
                .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("parsing {name}: {e}"))
        };
        let dictionary = read("dictionary.json");
        let mut classes = BTreeMap::new();
        let mut objects = BTreeMap::new();
        let mut entries: Vec<String> = fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("listing {}: {e}", dir.display()))
            .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        entries.sort();
        for file in entries {
            let index = if file.starts_with("events_") {
                &mut classes
            } else if file.starts_with("objects_") {
                &mut objects
            } else {
                continue;
            };
            let definition = read(&file);
            let name = definition["name"]
                .as_str()
                .unwrap_or_else(|| panic!("{file} has no name"))
                .to_owned();
            index.insert(name, definition);
        }
        let object_of = |value: &Value| value.as_object().cloned().unwrap_or_default();
        Schema {
            version: read("version.json")["version"]
                .as_str()
                .expect("version.json has a version")
                .to_owned(),
            dictionary: object_of(&dictionary["attributes"]),
            types: object_of(&dictionary["types"]["attributes"]),
            classes,
            objects,
        }
    }

    /// The schema version of the sources (`version.json`).
    pub fn version(&self) -> &str {
        &self.version
    }

    /// Every problem with `event`, as `path: problem`; empty when it is valid.
    pub fn validate(&self, event: &Value) -> Vec<String> {
        let mut errors = Vec::new();
        let Some(fields) = event.as_object() else {
            return vec!["(event): not a JSON object".into()];
        };
        let profiles: Vec<String> = event["metadata"]["profiles"]
            .as_array()
            .map(|list| {
                list.iter()
                    .filter_map(|p| p.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        let mut cx = Context {
            profiles: &profiles,
            errors: &mut errors,
        };
        let Some(class_uid) = fields.get("class_uid") else {
            cx.error("class_uid", "required attribute missing");
            return errors;
        };
        let Some(class) = class_uid.as_i64().and_then(|uid| self.class_by_uid(uid)) else {
            cx.error(
                "class_uid",
                format!("{class_uid} is not the uid of a class in the vendored schema"),
            );
            return errors;
        };
        self.check_object(&class, fields, "", &mut cx);
        self.check_classification(&class, fields, &mut cx);
        self.check_version(fields, &mut cx);
        errors
    }

    fn class_by_uid(&self, class_uid: i64) -> Option<Resolved> {
        self.classes.iter().find_map(|(name, raw)| {
            let uid = raw.get("uid")?.as_i64()?;
            let class = self.resolve(Definition::Class, name).ok()?;
            let category = category(class.category.as_deref()?)?;
            (category.1 * 1000 + uid == class_uid).then_some(class)
        })
    }

    /// `name`'s definition with its `extends` chain folded in.
    fn resolve(&self, kind: Definition, name: &str) -> Result<Resolved, String> {
        let index = match kind {
            Definition::Class => &self.classes,
            Definition::Object => &self.objects,
        };
        let Some(raw) = index.get(name) else {
            return Err(match kind {
                Definition::Class => format!("class `{name}` is not in the vendored schema"),
                Definition::Object => format!("object `{name}` is not in the vendored schema"),
            });
        };
        let mut resolved = match raw.get("extends").and_then(Value::as_str) {
            Some(parent) if index.contains_key(parent) => self.resolve(kind, parent)?,
            // Abstract roots: not vendored, nothing to inherit.
            Some(parent) if parent == "object" || parent.starts_with('_') => Resolved::empty(),
            Some(parent) => return Err(format!("`{name}` extends unknown `{parent}`")),
            None => Resolved::empty(),
        };
        resolved.name = name.to_owned();
        if let Some(caption) = raw.get("caption").and_then(Value::as_str) {
            resolved.caption = caption.to_owned();
        }
        if let Some(category) = raw.get("category").and_then(Value::as_str) {
            resolved.category = Some(category.to_owned());
        }
        if let Some(attributes) = raw.get("attributes").and_then(Value::as_object) {
            for (attribute, fields) in attributes {
                // `$include` brings in profiles, which are not vendored.
                if attribute.starts_with('$') {
                    continue;
                }
                let Some(fields) = fields.as_object() else {
                    continue;
                };
                let merged = resolved
                    .attributes
                    .entry(attribute.clone())
                    .or_insert_with(|| json!({}));
                merge_fields(merged.as_object_mut().unwrap(), fields);
            }
        }
        if let Some(constraints) = raw.get("constraints").and_then(Value::as_object) {
            for (constraint, list) in constraints {
                resolved
                    .constraints
                    .insert(constraint.clone(), list.clone());
            }
        }
        Ok(resolved)
    }

    /// The dictionary's definition of `attribute` with `context`'s fields over it.
    fn definition(&self, attribute: &str, context: &Value) -> Option<Map<String, Value>> {
        let mut fields = self.dictionary.get(attribute)?.as_object()?.clone();
        if let Some(context) = context.as_object() {
            merge_fields(&mut fields, context);
        }
        Some(fields)
    }

    fn check_object(
        &self,
        definition: &Resolved,
        fields: &Map<String, Value>,
        path: &str,
        cx: &mut Context<'_>,
    ) {
        let mut definitions = BTreeMap::new();
        for (attribute, value) in fields {
            let at = join(path, attribute);
            let Some(context) = definition.attributes.get(attribute) else {
                cx.error(&at, format!("unknown attribute for `{}`", definition.name));
                continue;
            };
            let Some(fields) = self.definition(attribute, context) else {
                cx.error(&at, "attribute is not in the dictionary");
                continue;
            };
            if let Some(profile) = fields.get("profile").and_then(Value::as_str)
                && !cx.profiles.iter().any(|p| p == profile)
            {
                cx.error(
                    &at,
                    format!("belongs to profile `{profile}`, which metadata.profiles omits"),
                );
            }
            if let Some(deprecated) = fields.get("@deprecated") {
                cx.error(
                    &at,
                    format!(
                        "deprecated since {}: {}",
                        deprecated["since"].as_str().unwrap_or("?"),
                        deprecated["message"].as_str().unwrap_or("")
                    ),
                );
            }
            self.check_value(attribute, &fields, value, &at, cx);
            definitions.insert(attribute.as_str(), fields);
        }
        for (attribute, context) in &definition.attributes {
            let required = context["requirement"] == "required";
            let in_profile = context.get("profile").and_then(Value::as_str).is_some();
            if required && !in_profile && fields.get(attribute).is_none_or(Value::is_null) {
                cx.error(&join(path, attribute), "required attribute missing");
            }
        }
        self.check_siblings(fields, &definitions, path, cx);
        self.check_constraints(definition, fields, path, cx);
    }

    fn check_value(
        &self,
        attribute: &str,
        definition: &Map<String, Value>,
        value: &Value,
        path: &str,
        cx: &mut Context<'_>,
    ) {
        let Some(type_name) = definition.get("type").and_then(Value::as_str) else {
            cx.error(path, "the schema gives no type");
            return;
        };
        let is_array = definition.get("is_array") == Some(&Value::Bool(true));
        match (is_array, value) {
            (true, Value::Array(items)) => {
                for (index, item) in items.iter().enumerate() {
                    let at = format!("{path}[{index}]");
                    self.check_single(attribute, definition, type_name, item, &at, cx);
                }
            }
            (true, other) => cx.error(
                path,
                format!("expected an array of {type_name}, got {}", kind_of(other)),
            ),
            (false, Value::Array(_)) => {
                cx.error(path, format!("expected {type_name}, got an array"))
            }
            (false, single) => {
                self.check_single(attribute, definition, type_name, single, path, cx)
            }
        }
    }

    fn check_single(
        &self,
        attribute: &str,
        definition: &Map<String, Value>,
        type_name: &str,
        value: &Value,
        path: &str,
        cx: &mut Context<'_>,
    ) {
        let typed = match type_name {
            // Free-form JSON (`unmapped`, …): any object, not looked into.
            "object" if !value.is_object() => {
                Err(format!("expected an object, got {}", kind_of(value)))
            }
            "object" | "json_t" => Ok(()),
            scalar if self.types.contains_key(scalar) => self.check_scalar(scalar, value),
            object => match (value.as_object(), self.resolve(Definition::Object, object)) {
                (Some(fields), Ok(resolved)) => {
                    self.check_object(&resolved, fields, path, cx);
                    Ok(())
                }
                (None, _) => Err(format!(
                    "expected object `{object}`, got {}",
                    kind_of(value)
                )),
                (Some(_), Err(problem)) => Err(problem),
            },
        };
        if let Err(problem) = typed {
            cx.error(path, problem);
            return;
        }
        if GENERATED.contains(&attribute) {
            return;
        }
        if let Some(values) = definition.get("enum").and_then(Value::as_object) {
            let key = match value {
                Value::Number(n) => n.to_string(),
                Value::String(s) => s.clone(),
                _ => return,
            };
            if !values.contains_key(&key) {
                let allowed: Vec<&str> = values.keys().map(String::as_str).collect();
                cx.error(
                    path,
                    format!("{value} is not in the enum ({})", allowed.join(", ")),
                );
            }
        }
    }

    /// Checks a value of a dictionary type: the base types, then a derived type's base and
    /// its `regex`, `max_len`, `range` and `values`.
    fn check_scalar(&self, type_name: &str, value: &Value) -> Result<(), String> {
        let expected = |what: &str| Err(format!("expected {what}, got {}", kind_of(value)));
        match type_name {
            "string_t" if !value.is_string() => return expected("string_t"),
            "integer_t" if value.as_i64().and_then(|n| i32::try_from(n).ok()).is_none() => {
                return expected("integer_t (32-bit integer)");
            }
            "long_t" if value.as_i64().is_none() => return expected("long_t (64-bit integer)"),
            "float_t" if !value.is_number() => return expected("float_t"),
            "boolean_t" if !value.is_boolean() => return expected("boolean_t"),
            "string_t" | "integer_t" | "long_t" | "float_t" | "boolean_t" | "json_t" => {
                return Ok(());
            }
            _ => {}
        }
        let Some(definition) = self.types.get(type_name) else {
            return Err(format!("type `{type_name}` is not in the dictionary"));
        };
        if let Some(base) = definition.get("type").and_then(Value::as_str) {
            self.check_scalar(base, value)
                .map_err(|problem| format!("{problem} (for {type_name})"))?;
        }
        if let (Some(pattern), Some(text)) = (
            definition.get("regex").and_then(Value::as_str),
            value.as_str(),
        ) {
            let matcher = jsonschema::validator_for(&json!({ "pattern": pattern }))
                .map_err(|e| format!("{type_name}'s regex does not compile: {e}"))?;
            if !matcher.is_valid(value) {
                return Err(format!("{text:?} does not match the {type_name} pattern"));
            }
        }
        if let (Some(max), Some(text)) = (
            definition.get("max_len").and_then(Value::as_u64),
            value.as_str(),
        ) && text.chars().count() as u64 > max
        {
            return Err(format!("longer than {type_name}'s {max} characters"));
        }
        if let (Some(range), Some(n)) = (
            definition.get("range").and_then(Value::as_array),
            value.as_f64(),
        ) {
            let bound = |i: usize| range.get(i).and_then(Value::as_f64);
            if bound(0).is_some_and(|min| n < min) || bound(1).is_some_and(|max| n > max) {
                return Err(format!("{n} is outside {type_name}'s range {range:?}"));
            }
        }
        if let Some(values) = definition.get("values").and_then(Value::as_array)
            && !values.contains(value)
        {
            return Err(format!("{value} is not one of {type_name}'s values"));
        }
        // OCSF timestamps are milliseconds; a value this small is seconds (before 1973 in ms).
        if type_name == "timestamp_t"
            && value
                .as_i64()
                .is_some_and(|n| (0..100_000_000_000).contains(&n))
        {
            return Err(format!(
                "{value} looks like seconds: timestamp_t is milliseconds"
            ));
        }
        Ok(())
    }

    /// A caption sibling (`status` of `status_id`, …) must be its id's caption, unless the id
    /// is 99 (Other), where it carries the source's own label.
    fn check_siblings(
        &self,
        fields: &Map<String, Value>,
        definitions: &BTreeMap<&str, Map<String, Value>>,
        path: &str,
        cx: &mut Context<'_>,
    ) {
        for (attribute, definition) in definitions {
            if GENERATED.contains(attribute) {
                continue;
            }
            let Some(sibling) = definition.get("sibling").and_then(Value::as_str) else {
                continue;
            };
            let (Some(id), Some(label)) = (fields[*attribute].as_i64(), fields.get(sibling)) else {
                continue;
            };
            if id == 99 {
                continue;
            }
            let caption = &definition["enum"][id.to_string()]["caption"];
            if caption.is_string() && label != caption {
                cx.error(
                    &join(path, sibling),
                    format!("{label} is not the caption of {attribute} {id} ({caption})"),
                );
            }
        }
    }

    fn check_constraints(
        &self,
        definition: &Resolved,
        fields: &Map<String, Value>,
        path: &str,
        cx: &mut Context<'_>,
    ) {
        for (constraint, list) in &definition.constraints {
            let names: Vec<&str> = list
                .as_array()
                .map(|l| l.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            let present = names
                .iter()
                .filter(|name| fields.get(**name).is_some_and(|v| !v.is_null()))
                .count();
            let ok = match constraint.as_str() {
                "at_least_one" => present >= 1,
                "just_one" => present == 1,
                other => {
                    cx.error(path, format!("unknown constraint `{other}` in the schema"));
                    continue;
                }
            };
            if !ok {
                cx.error(
                    path,
                    format!(
                        "constraint {constraint} [{}] failed: {present} present",
                        names.join(", ")
                    ),
                );
            }
        }
    }

    /// `category_uid`, `type_uid` and the names must agree with the class of `class_uid`.
    fn check_classification(
        &self,
        class: &Resolved,
        fields: &Map<String, Value>,
        cx: &mut Context<'_>,
    ) {
        let class_uid = fields["class_uid"].as_i64().unwrap_or_default();
        if let Some(name) = fields.get("class_name")
            && name != class.caption.as_str()
        {
            cx.error("class_name", format!("{name} is not {:?}", class.caption));
        }
        if let Some((_, uid, caption)) = class.category.as_deref().and_then(category) {
            if let Some(category_uid) = fields.get("category_uid")
                && category_uid.as_i64() != Some(uid)
            {
                cx.error(
                    "category_uid",
                    format!("{category_uid} is not {uid}, the category of class {class_uid}"),
                );
            }
            if let Some(name) = fields.get("category_name")
                && name != caption
            {
                cx.error("category_name", format!("{name} is not {caption:?}"));
            }
        }
        let Some(activity_id) = fields.get("activity_id").and_then(Value::as_i64) else {
            return;
        };
        if let Some(type_uid) = fields.get("type_uid")
            && type_uid.as_i64() != Some(class_uid * 100 + activity_id)
        {
            cx.error(
                "type_uid",
                format!(
                    "{type_uid} is not class_uid * 100 + activity_id = {}",
                    class_uid * 100 + activity_id
                ),
            );
        }
        let activity = class
            .attributes
            .get("activity_id")
            .and_then(|context| self.definition("activity_id", context))
            .and_then(|d| {
                d["enum"][activity_id.to_string()]["caption"]
                    .as_str()
                    .map(str::to_owned)
            });
        if let (Some(name), Some(activity)) = (fields.get("type_name"), activity) {
            let expected = format!("{}: {activity}", class.caption);
            if name != expected.as_str() {
                cx.error("type_name", format!("{name} is not {expected:?}"));
            }
        }
    }

    /// `metadata.version` is a schema version (x.y.z, -dev or -rc.n) no newer than the
    /// sources.
    fn check_version(&self, fields: &Map<String, Value>, cx: &mut Context<'_>) {
        let Some(version) = fields
            .get("metadata")
            .and_then(|m| m.get("version"))
            .and_then(Value::as_str)
        else {
            return;
        };
        match (release(version), release(&self.version)) {
            (None, _) => cx.error(
                "metadata.version",
                format!("{version:?} is not a schema version (x.y.z, x.y.z-dev, x.y.z-rc.n)"),
            ),
            (Some(claimed), Some(ours)) if claimed > ours => cx.error(
                "metadata.version",
                format!("{version:?} is newer than the schema ({})", self.version),
            ),
            _ => {}
        }
    }
}

impl Resolved {
    fn empty() -> Resolved {
        Resolved {
            name: String::new(),
            caption: String::new(),
            category: None,
            attributes: Map::new(),
            constraints: Map::new(),
        }
    }
}

/// Overrides `base`'s fields with `over`'s, merging enums value by value.
fn merge_fields(base: &mut Map<String, Value>, over: &Map<String, Value>) {
    for (field, value) in over {
        match (base.get_mut(field), value) {
            (Some(Value::Object(values)), Value::Object(more)) if field == "enum" => {
                for (key, entry) in more {
                    values.insert(key.clone(), entry.clone());
                }
            }
            _ => {
                base.insert(field.clone(), value.clone());
            }
        }
    }
}

fn category(name: &str) -> Option<(&'static str, i64, &'static str)> {
    CATEGORIES.iter().copied().find(|(n, _, _)| *n == name)
}

/// `1.9.0-dev` → (1, 9, 0); `None` unless x.y.z with an optional `-dev` or `-rc.n`.
fn release(version: &str) -> Option<(u64, u64, u64)> {
    let (core, suffix) = match version.split_once('-') {
        Some((core, suffix)) => (core, Some(suffix)),
        None => (version, None),
    };
    let suffix_ok = match suffix {
        None | Some("dev") => true,
        Some(rc) => rc
            .strip_prefix("rc.")
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit())),
    };
    let parts: Vec<u64> = core
        .split('.')
        .map(|p| p.parse().ok())
        .collect::<Option<_>>()?;
    match (suffix_ok, parts.as_slice()) {
        (true, [major, minor, patch]) => Some((*major, *minor, *patch)),
        _ => None,
    }
}

fn join(path: &str, attribute: &str) -> String {
    if path.is_empty() {
        attribute.to_owned()
    } else {
        format!("{path}.{attribute}")
    }
}

fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(n) if n.is_f64() => "a fractional number",
        Value::Number(_) => "an integer",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}
