//! The deployment packaging: the Dockerfile, and every file under deploy/ (Compose,
//! Kubernetes manifests, the Helm chart, the systemd unit, the forge examples).
//!
//! Every file under deploy/ is parsed by the check for its kind, and a file of a kind
//! without a check fails the walk. Plain Kubernetes manifests are validated against the
//! Kubernetes 1.30 schemas (fixtures/schemas/kubernetes/v1.30.0, offline), the chart's
//! values.yaml against its values.schema.json, and the chart's templates are expanded by a
//! small stand-in for Helm (named templates and `toYaml .Values…` inlined, other actions
//! replaced by placeholders) so that they parse as YAML and validate against the same
//! schemas wherever a value is not templated.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::{Value, json};

const K8S_SCHEMAS: &str = "fixtures/schemas/kubernetes/v1.30.0";
const CHART: &str = "deploy/helm/posture";
/// What the expansion of a Helm template puts where a template action produced a value.
const PLACEHOLDER: &str = "tpl-placeholder-";
/// The image's user (Dockerfile) and every manifest's runAsUser.
const UID: u64 = 10001;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn read(relative: &str) -> String {
    std::fs::read_to_string(root().join(relative))
        .unwrap_or_else(|e| panic!("cannot read {relative}: {e}"))
}

/// The files under `dir` (relative to the crate), recursively, as sorted relative paths.
fn files_under(dir: &str) -> Vec<String> {
    fn walk(base: &Path, dir: &Path, out: &mut Vec<String>) {
        let entries =
            std::fs::read_dir(dir).unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()));
        for entry in entries {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(base, &path, out);
            } else {
                let relative = path.strip_prefix(base).unwrap();
                out.push(relative.to_string_lossy().replace('\\', "/"));
            }
        }
    }
    let mut out = Vec::new();
    walk(&root(), &root().join(dir), &mut out);
    out.sort();
    out
}

fn cargo_version() -> String {
    let manifest: toml::Value = toml::from_str(&read("Cargo.toml")).expect("Cargo.toml parses");
    manifest["package"]["version"]
        .as_str()
        .expect("a package version")
        .to_owned()
}

// ---------------------------------------------------------------------------------------
// YAML

/// Every document of a (multi-document) YAML text, as JSON values; empty documents (a
/// trailing `---`, a file of comments) are left out.
fn yaml_documents(name: &str, text: &str) -> Vec<Value> {
    let mut documents = Vec::new();
    for (index, document) in serde_yaml_ng::Deserializer::from_str(text).enumerate() {
        let mut value = serde_yaml_ng::Value::deserialize(document)
            .unwrap_or_else(|e| panic!("{name}: document {} is not YAML: {e}", index + 1));
        // `<<: *anchor` merge keys (docker-compose.yml's shared service settings).
        value
            .apply_merge()
            .unwrap_or_else(|e| panic!("{name}: document {}: {e}", index + 1));
        let value: Value = serde_json::to_value(&value)
            .unwrap_or_else(|e| panic!("{name}: document {} has no JSON form: {e}", index + 1));
        if !value.is_null() {
            documents.push(value);
        }
    }
    documents
}

fn yaml_file(relative: &str) -> Vec<Value> {
    yaml_documents(relative, &read(relative))
}

fn single_yaml(relative: &str) -> Value {
    let mut documents = yaml_file(relative);
    assert_eq!(documents.len(), 1, "{relative}: one YAML document");
    documents.remove(0)
}

// ---------------------------------------------------------------------------------------
// Kubernetes schemas

/// A validator per `kind`, from the local-strict Kubernetes schemas.
struct KubeSchemas {
    validators: BTreeMap<String, jsonschema::Validator>,
}

impl KubeSchemas {
    fn load() -> KubeSchemas {
        let load = |file: &str| -> Value {
            serde_json::from_str(&read(&format!("{K8S_SCHEMAS}/{file}")))
                .unwrap_or_else(|e| panic!("{file} is JSON: {e}"))
        };
        let definitions = load("_definitions.json");
        let id = definitions["$id"]
            .as_str()
            .expect("_definitions.json has an $id");
        let registry = jsonschema::Registry::new()
            .add(id, definitions.clone())
            .expect("a valid $id")
            .prepare()
            .expect("the registry prepares offline");
        let mut validators = BTreeMap::new();
        for file in files_under(K8S_SCHEMAS) {
            let name = file.rsplit('/').next().unwrap().to_owned();
            if !name.ends_with(".json") || name == "_definitions.json" {
                continue;
            }
            let schema = load(&name);
            let kind = schema["x-kubernetes-group-version-kind"][0]["kind"]
                .as_str()
                .unwrap_or_else(|| panic!("{name} names its kind"))
                .to_owned();
            let validator = jsonschema::options()
                .with_registry(&registry)
                .build(&schema)
                .unwrap_or_else(|e| panic!("{name} compiles: {e}"));
            validators.insert(kind, validator);
        }
        KubeSchemas { validators }
    }

    /// The schema errors of one object, each with its path; errors on a value that is a
    /// Helm placeholder are left out when `placeholders_allowed`.
    fn errors(&self, object: &Value, placeholders_allowed: bool) -> Vec<String> {
        let kind = object["kind"].as_str().unwrap_or("(no kind)");
        let Some(validator) = self.validators.get(kind) else {
            return vec![format!(
                "no schema for kind {kind} under {K8S_SCHEMAS} (add it, see SOURCES)"
            )];
        };
        validator
            .iter_errors(object)
            .filter(|error| {
                !(placeholders_allowed
                    && error
                        .instance()
                        .as_str()
                        .is_some_and(|s| s.starts_with(PLACEHOLDER)))
            })
            .map(|error| format!("{kind} {}: {error}", error.instance_path()))
            .collect()
    }
}

fn kind(object: &Value) -> &str {
    object["kind"].as_str().unwrap_or("")
}

fn plain_manifests() -> Vec<(String, Value)> {
    let mut objects = Vec::new();
    for file in files_under("deploy/kubernetes") {
        if file.ends_with(".yaml") || file.ends_with(".yml") {
            for object in yaml_file(&file) {
                objects.push((file.clone(), object));
            }
        }
    }
    objects
}

// ---------------------------------------------------------------------------------------
// A stand-in for Helm, enough for this chart

/// The `{{ … }}` actions of a template text with their byte ranges (comments included).
fn actions(text: &str) -> Vec<(usize, usize, &str)> {
    let mut found = Vec::new();
    let mut from = 0;
    while let Some(start) = text[from..].find("{{").map(|i| i + from) {
        let end = text[start..]
            .find("}}")
            .map(|i| i + start + 2)
            .unwrap_or_else(|| panic!("an unclosed {{{{ at byte {start}"));
        found.push((start, end, &text[start + 2..end - 2]));
        from = end;
    }
    found
}

/// An action's words without the whitespace-trimming dashes.
fn action_body(action: &str) -> &str {
    action
        .trim()
        .trim_start_matches('-')
        .trim_end_matches('-')
        .trim()
}

fn is_comment(action: &str) -> bool {
    action_body(action).starts_with("/*")
}

fn strip_comments(text: &str) -> String {
    let mut out = String::new();
    let mut last = 0;
    for (start, end, action) in actions(text) {
        if is_comment(action) {
            out.push_str(&text[last..start]);
            last = end;
        }
    }
    out.push_str(&text[last..]);
    out
}

/// Checks that `if`/`with`/`range`/`define`/`block` and `end` pair up; returns the
/// named templates the text defines, with their bodies.
fn blocks(name: &str, text: &str) -> BTreeMap<String, String> {
    let text = strip_comments(text);
    let mut depth: Vec<(&str, Option<(String, usize)>)> = Vec::new();
    let mut defines = BTreeMap::new();
    for (start, end, action) in actions(&text) {
        let body = action_body(action);
        let word = body.split_whitespace().next().unwrap_or("");
        match word {
            "if" | "with" | "range" | "block" => depth.push((word, None)),
            "define" => {
                let defined = body
                    .split('"')
                    .nth(1)
                    .unwrap_or_else(|| panic!("{name}: a define without a name"))
                    .to_owned();
                depth.push((word, Some((defined, end))));
            }
            "end" => {
                let (_, define) = depth
                    .pop()
                    .unwrap_or_else(|| panic!("{name}: an {{{{ end }}}} without a block"));
                if let Some((defined, body_start)) = define {
                    let previous =
                        defines.insert(defined.clone(), text[body_start..start].to_owned());
                    assert!(previous.is_none(), "{name}: {defined} is defined twice");
                }
            }
            _ => {}
        }
    }
    assert!(
        depth.is_empty(),
        "{name}: unclosed blocks: {:?}",
        depth.iter().map(|(word, _)| *word).collect::<Vec<_>>()
    );
    defines
}

/// The `.Values.a.b` paths a template text uses.
fn values_paths(text: &str) -> BTreeSet<String> {
    let mut paths = BTreeSet::new();
    for (index, _) in text.match_indices(".Values.") {
        let rest = &text[index + ".Values.".len()..];
        let path: String = rest
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '.')
            .collect();
        paths.insert(path.trim_end_matches('.').to_owned());
    }
    paths
}

fn lookup<'v>(values: &'v Value, path: &str) -> Option<&'v Value> {
    path.split('.')
        .try_fold(values, |value, key| value.get(key))
}

struct Chart {
    values: Value,
    defines: BTreeMap<String, String>,
    placeholders: std::cell::Cell<usize>,
}

impl Chart {
    fn load() -> Chart {
        let values = single_yaml(&format!("{CHART}/values.yaml"));
        let helpers = format!("{CHART}/templates/_helpers.tpl");
        let defines = blocks(&helpers, &read(&helpers));
        Chart {
            values,
            defines,
            placeholders: std::cell::Cell::new(0),
        }
    }

    fn placeholder(&self) -> String {
        let n = self.placeholders.get() + 1;
        self.placeholders.set(n);
        format!("{PLACEHOLDER}{n}")
    }

    /// The template with every branch taken: a line holding only
    /// `include "NAME" . [| nindent N]` becomes NAME's body (expanded in turn), one holding
    /// only `toYaml .Values.PATH [| nindent N]` becomes that value from values.yaml, other
    /// lines holding only actions (`if`, `end`, `with`, `toYaml .`…) are dropped, and an
    /// action within text becomes a unique placeholder.
    fn expand(&self, name: &str, text: &str, depth: usize) -> String {
        assert!(
            depth < 10,
            "{name}: named templates include each other endlessly"
        );
        let text = strip_comments(text);
        let mut out = String::new();
        for line in text.lines() {
            let indent = line.len() - line.trim_start().len();
            let trimmed = line.trim();
            let spans = actions(trimmed);
            let only_actions = !spans.is_empty() && {
                let mut rest = String::new();
                let mut last = 0;
                for (start, end, _) in &spans {
                    rest.push_str(&trimmed[last..*start]);
                    last = *end;
                }
                rest.push_str(&trimmed[last..]);
                rest.trim().is_empty()
            };
            if only_actions {
                if let [(_, _, action)] = spans.as_slice() {
                    if let Some(block) = self.inline(name, action_body(action), indent, depth) {
                        out.push_str(&block);
                    }
                }
                continue;
            }
            let mut expanded = String::new();
            let mut last = 0;
            for (start, end, _) in actions(line) {
                expanded.push_str(&line[last..start]);
                expanded.push_str(&self.placeholder());
                last = end;
            }
            expanded.push_str(&line[last..]);
            out.push_str(&expanded);
            out.push('\n');
        }
        out
    }

    /// What an action alone on its line puts there, if this stand-in knows it.
    fn inline(&self, name: &str, action: &str, indent: usize, depth: usize) -> Option<String> {
        let (call, pipe) = match action.split_once('|') {
            Some((call, pipe)) => (call.trim(), Some(pipe.trim())),
            None => (action, None),
        };
        let indent = match pipe {
            None => indent,
            Some(pipe) => pipe
                .strip_prefix("nindent ")
                .and_then(|n| n.trim().parse().ok())?,
        };
        let text = if let Some(rest) = call.strip_prefix("include ") {
            let included = rest.split('"').nth(1)?;
            let body = self
                .defines
                .get(included)
                .unwrap_or_else(|| panic!("{name}: includes undefined template {included}"));
            self.expand(included, body, depth + 1)
        } else if let Some(path) = call.strip_prefix("toYaml .Values.") {
            let value = lookup(&self.values, path.trim())
                .unwrap_or_else(|| panic!("{name}: .Values.{path} is not in values.yaml"));
            serde_yaml_ng::to_string(value).unwrap()
        } else {
            return None;
        };
        let pad = " ".repeat(indent);
        Some(
            text.lines()
                .filter(|line| !line.trim().is_empty())
                .map(|line| format!("{pad}{line}\n"))
                .collect(),
        )
    }
}

/// The objects of every chart template, expanded (see [`Chart::expand`]), by file.
fn chart_objects(chart: &Chart) -> Vec<(String, Value)> {
    let mut objects = Vec::new();
    for file in files_under(&format!("{CHART}/templates")) {
        if !file.ends_with(".yaml") {
            continue;
        }
        let expanded = chart.expand(&file, &read(&file), 0);
        for object in yaml_documents(&format!("{file} (expanded)"), &expanded) {
            objects.push((file.clone(), object));
        }
    }
    objects
}

// ---------------------------------------------------------------------------------------
// Checks shared by the plain manifests and the chart

/// The pod template of a workload object.
fn pod_template(object: &Value) -> Option<&Value> {
    match kind(object) {
        "Deployment" | "StatefulSet" | "Job" => Some(&object["spec"]["template"]),
        _ => None,
    }
}

fn has_drop_all(security: &Value) -> bool {
    security["capabilities"]["drop"]
        .as_array()
        .is_some_and(|drop| drop.contains(&json!("ALL")))
}

/// Hardening, resources and probes of one workload's pod; the problems found.
fn workload_problems(origin: &str, object: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    let Some(template) = pod_template(object) else {
        return problems;
    };
    let what = format!("{origin}: {}", kind(object));
    let pod = &template["spec"];
    let mut problem = |ok: bool, message: &str| {
        if !ok {
            problems.push(format!("{what}: {message}"));
        }
    };
    problem(
        pod["automountServiceAccountToken"] == json!(false),
        "automountServiceAccountToken must be false",
    );
    let pod_security = &pod["securityContext"];
    problem(
        pod_security["runAsNonRoot"] == json!(true),
        "pod runAsNonRoot must be true",
    );
    problem(
        pod_security["runAsUser"] == json!(UID),
        "pod runAsUser must be the image's user",
    );
    problem(
        pod_security["seccompProfile"]["type"] == json!("RuntimeDefault"),
        "pod seccompProfile must be RuntimeDefault",
    );
    let containers = pod["containers"].as_array().cloned().unwrap_or_default();
    problem(!containers.is_empty(), "no containers");
    for container in &containers {
        let name = container["name"].as_str().unwrap_or("?");
        let security = &container["securityContext"];
        let mut check =
            |ok: bool, message: &str| problem(ok, &format!("container {name}: {message}"));
        check(
            security["runAsNonRoot"] == json!(true),
            "runAsNonRoot must be true",
        );
        check(
            security["readOnlyRootFilesystem"] == json!(true),
            "readOnlyRootFilesystem must be true",
        );
        check(
            security["allowPrivilegeEscalation"] == json!(false),
            "allowPrivilegeEscalation must be false",
        );
        check(has_drop_all(security), "capabilities must drop ALL");
        check(
            security["seccompProfile"]["type"] == json!("RuntimeDefault"),
            "seccompProfile must be RuntimeDefault",
        );
        check(
            container["resources"]["requests"]["cpu"].is_string()
                && container["resources"]["requests"]["memory"].is_string(),
            "resources.requests must set cpu and memory",
        );
        check(
            container["resources"]["limits"]["memory"].is_string(),
            "resources.limits must set memory",
        );
        if kind(object) == "Job" {
            check(
                container["args"] == json!(["migrate"]),
                "the Job runs `posture migrate`",
            );
            continue;
        }
        check(
            container["args"] == json!(["serve", "--listen", "0.0.0.0:8080"]),
            "the server runs `posture serve --listen 0.0.0.0:8080`",
        );
        check(
            container["ports"][0]["containerPort"] == json!(8080)
                && container["ports"][0]["name"] == json!("http"),
            "port 8080 is named http",
        );
        for (probe, path) in [
            ("livenessProbe", "/healthz"),
            ("readinessProbe", "/readyz"),
            ("startupProbe", "/healthz"),
        ] {
            check(
                container[probe]["httpGet"]["path"] == json!(path)
                    && container[probe]["httpGet"]["port"] == json!("http"),
                &format!("{probe} must GET {path} on port http"),
            );
        }
        let mounts: Vec<&str> = container["volumeMounts"]
            .as_array()
            .map(|mounts| {
                mounts
                    .iter()
                    .filter_map(|m| m["mountPath"].as_str())
                    .collect()
            })
            .unwrap_or_default();
        check(
            mounts.contains(&"/tmp"),
            "/tmp must be a writable volume (the root filesystem is read-only)",
        );
    }
    problems
}

fn env_var<'v>(container: &'v Value, name: &str) -> Option<&'v Value> {
    container["env"]
        .as_array()?
        .iter()
        .find(|entry| entry["name"] == json!(name))
}

/// The TCP/UDP ports of a NetworkPolicy's egress rules, after checking that no rule is
/// open to every destination or every port.
fn egress_ports(origin: &str, policy: &Value) -> BTreeSet<u64> {
    let spec = &policy["spec"];
    let types = spec["policyTypes"].as_array().expect("policyTypes");
    assert!(
        types.contains(&json!("Ingress")) && types.contains(&json!("Egress")),
        "{origin}: the policy must restrict both directions"
    );
    let ingress = spec["ingress"].as_array().expect("ingress rules");
    for rule in ingress {
        let ports: Vec<&Value> = rule["ports"]
            .as_array()
            .expect("ingress ports")
            .iter()
            .collect();
        assert!(
            ports.iter().all(|p| p["port"] == json!(8080)),
            "{origin}: ingress only to 8080"
        );
    }
    let mut found = BTreeSet::new();
    for rule in spec["egress"].as_array().expect("egress rules") {
        let to = rule["to"].as_array();
        assert!(
            to.is_some_and(|to| !to.is_empty()),
            "{origin}: an egress rule without `to` allows every destination"
        );
        let ports = rule["ports"]
            .as_array()
            .unwrap_or_else(|| panic!("{origin}: an egress rule without ports allows every port"));
        for port in ports {
            if let Some(port) = port["port"].as_u64() {
                found.insert(port);
            } else {
                // A templated port (the chart's databasePort).
                assert!(
                    port["port"]
                        .as_str()
                        .is_some_and(|p| p.starts_with(PLACEHOLDER)),
                    "{origin}: egress port {port}"
                );
                found.insert(5432);
            }
        }
    }
    found
}

// ---------------------------------------------------------------------------------------
// Kinds of files under deploy/

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum FileKind {
    Yaml,
    Json,
    HelmTemplate,
    HelmHelpers,
    HelmNotes,
    SystemdUnit,
    EnvExample,
    NginxConf,
    Markdown,
}

fn file_kind(path: &str) -> Option<FileKind> {
    let name = path.rsplit('/').next().unwrap_or(path);
    let in_templates = path.starts_with(&format!("{CHART}/templates/"));
    Some(match name.rsplit_once('.').map(|(_, ext)| ext) {
        Some("yaml") if in_templates => FileKind::HelmTemplate,
        Some("tpl") if in_templates => FileKind::HelmHelpers,
        Some("txt") if in_templates && name == "NOTES.txt" => FileKind::HelmNotes,
        Some("yaml" | "yml") => FileKind::Yaml,
        Some("json") => FileKind::Json,
        Some("service") => FileKind::SystemdUnit,
        Some("example") if name.ends_with(".env.example") => FileKind::EnvExample,
        Some("conf") => FileKind::NginxConf,
        Some("md") => FileKind::Markdown,
        _ => return None,
    })
}

/// A systemd unit as section → key → values (keys may repeat).
fn ini(text: &str) -> BTreeMap<String, BTreeMap<String, Vec<String>>> {
    let mut sections: BTreeMap<String, BTreeMap<String, Vec<String>>> = BTreeMap::new();
    let mut section = None;
    for (number, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            section = Some(name.to_owned());
            sections.entry(name.to_owned()).or_default();
            continue;
        }
        let section = section
            .as_ref()
            .unwrap_or_else(|| panic!("line {}: a setting before any [section]", number + 1));
        let (key, value) = line
            .split_once('=')
            .unwrap_or_else(|| panic!("line {}: expected Key=value", number + 1));
        sections
            .get_mut(section)
            .unwrap()
            .entry(key.trim().to_owned())
            .or_default()
            .push(value.trim().to_owned());
    }
    sections
}

/// `KEY=value` lines of an env file (comments and blank lines skipped).
fn env_lines(name: &str, text: &str) -> BTreeMap<String, String> {
    text.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map(|line| {
            let (key, value) = line
                .split_once('=')
                .unwrap_or_else(|| panic!("{name}: '{line}' is not KEY=value"));
            assert!(
                key.chars()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_'),
                "{name}: '{key}' is not an environment variable name"
            );
            (key.to_owned(), value.to_owned())
        })
        .collect()
}

/// The `POSTURE_*` names a text mentions.
fn posture_names(text: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for (index, _) in text.match_indices("POSTURE_") {
        let before = text[..index].chars().next_back();
        if before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_') {
            continue;
        }
        let name: String = text[index..]
            .chars()
            .take_while(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || *c == '_')
            .collect();
        let name = name.trim_end_matches('_');
        // `POSTURE_*` and the like name a family, not a variable.
        if name != "POSTURE" {
            names.insert(name.to_owned());
        }
    }
    names
}

/// Runs the check of one file under deploy/ by its kind.
fn check_file(path: &str, kind: FileKind, schemas: &KubeSchemas, chart: &Chart) {
    let text = read(path);
    assert!(!text.trim().is_empty(), "{path} is empty");
    match kind {
        FileKind::Yaml => {
            let documents = yaml_documents(path, &text);
            assert!(!documents.is_empty(), "{path}: no YAML document");
            if path.starts_with("deploy/kubernetes/") {
                for object in &documents {
                    let errors = schemas.errors(object, false);
                    assert!(errors.is_empty(), "{path}:\n{}", errors.join("\n"));
                }
            }
        }
        FileKind::Json => {
            let value: Value =
                serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path} is not JSON: {e}"));
            assert!(value.is_object(), "{path}: a JSON object");
        }
        FileKind::HelmTemplate => {
            blocks(path, &text);
            let expanded = chart.expand(path, &text, 0);
            for object in yaml_documents(&format!("{path} (expanded)"), &expanded) {
                assert!(
                    object["apiVersion"].is_string() && object["kind"].is_string(),
                    "{path}: every object has apiVersion and kind"
                );
                let errors = schemas.errors(&object, true);
                assert!(
                    errors.is_empty(),
                    "{path} (expanded):\n{}",
                    errors.join("\n")
                );
            }
        }
        FileKind::HelmHelpers => {
            assert!(!blocks(path, &text).is_empty(), "{path}: defines templates");
        }
        FileKind::HelmNotes => {
            blocks(path, &text);
            assert!(text.contains("/readyz"), "{path}: tells how to check it");
        }
        FileKind::SystemdUnit => {
            let unit = ini(&text);
            for section in ["Unit", "Service", "Install"] {
                assert!(unit.contains_key(section), "{path}: [{section}]");
            }
        }
        FileKind::EnvExample => {
            let name = path.rsplit('/').next().unwrap();
            if name.starts_with("posture") {
                let settings = posture::envfile::parse(path, &text)
                    .unwrap_or_else(|e| panic!("posture refuses {path}: {e}"));
                assert!(!settings.is_empty(), "{path}: no settings");
            } else {
                assert!(!env_lines(path, &text).is_empty(), "{path}: no settings");
            }
        }
        FileKind::NginxConf => {
            let mut depth = 0i32;
            for (number, line) in text.lines().enumerate() {
                let line = line.split('#').next().unwrap().trim();
                if line.is_empty() {
                    continue;
                }
                depth += line.matches('{').count() as i32 - line.matches('}').count() as i32;
                assert!(depth >= 0, "{path}:{}: unbalanced braces", number + 1);
                assert!(
                    line.ends_with(';') || line.ends_with('{') || line.ends_with('}'),
                    "{path}:{}: a directive must end with ';'",
                    number + 1
                );
            }
            assert_eq!(depth, 0, "{path}: unbalanced braces");
        }
        FileKind::Markdown => {
            // Relative links must point at files that exist.
            let dir = Path::new(path).parent().unwrap();
            for (index, _) in text.match_indices("](") {
                let target = text[index + 2..].split(')').next().unwrap();
                let target = target.split('#').next().unwrap();
                if target.is_empty() || target.contains("://") {
                    continue;
                }
                assert!(
                    root().join(dir).join(target).exists(),
                    "{path}: the link {target} leads nowhere"
                );
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// Tests

#[test]
fn every_file_under_deploy_is_checked_by_its_kind() {
    let schemas = KubeSchemas::load();
    let chart = Chart::load();
    let files = files_under("deploy");
    let unchecked: Vec<&String> = files.iter().filter(|f| file_kind(f).is_none()).collect();
    assert!(
        unchecked.is_empty(),
        "files under deploy/ of a kind this test does not check (add a check to \
         tests/deploy_files.rs): {unchecked:?}"
    );
    let mut kinds = BTreeSet::new();
    for file in &files {
        let kind = file_kind(file).unwrap();
        check_file(file, kind, &schemas, &chart);
        kinds.insert(kind);
    }
    // The walk saw the packaging, not an empty or moved tree.
    for kind in [
        FileKind::Yaml,
        FileKind::Json,
        FileKind::HelmTemplate,
        FileKind::HelmHelpers,
        FileKind::HelmNotes,
        FileKind::SystemdUnit,
        FileKind::EnvExample,
        FileKind::NginxConf,
        FileKind::Markdown,
    ] {
        assert!(kinds.contains(&kind), "no {kind:?} file under deploy/");
    }
    for expected in [
        "deploy/compose/docker-compose.yml",
        "deploy/kubernetes/README.md",
        "deploy/kubernetes/sqlite/statefulset.yaml",
        "deploy/kubernetes/postgres/deployment.yaml",
        "deploy/kubernetes/postgres/migrate-job.yaml",
        "deploy/helm/posture/Chart.yaml",
        "deploy/helm/posture/values.schema.json",
        "deploy/systemd/posture.service",
    ] {
        assert!(files.iter().any(|f| f == expected), "{expected} is missing");
    }
}

#[test]
fn a_file_of_an_unknown_kind_has_no_check() {
    assert_eq!(file_kind("deploy/terraform/main.tf"), None);
    assert_eq!(file_kind("deploy/compose/.env"), None);
    assert_eq!(
        file_kind("deploy/helm/posture/templates/ingress.yaml"),
        Some(FileKind::HelmTemplate)
    );
    assert_eq!(
        file_kind("deploy/kubernetes/sqlite/service.yaml"),
        Some(FileKind::Yaml)
    );
}

#[test]
fn kubernetes_manifests_follow_the_kubernetes_schemas() {
    let schemas = KubeSchemas::load();
    let objects = plain_manifests();
    let mut kinds: BTreeMap<(String, String), usize> = BTreeMap::new();
    for (file, object) in &objects {
        let errors = schemas.errors(object, false);
        assert!(errors.is_empty(), "{file}:\n{}", errors.join("\n"));
        let mode = file.split('/').nth(2).unwrap_or("").to_owned();
        *kinds.entry((mode, kind(object).to_owned())).or_default() += 1;
    }
    let count = |mode: &str, kind: &str| {
        kinds
            .get(&(mode.to_owned(), kind.to_owned()))
            .copied()
            .unwrap_or(0)
    };
    assert_eq!(count("sqlite", "StatefulSet"), 1);
    assert_eq!(
        count("sqlite", "Service"),
        2,
        "the Service and the headless one"
    );
    assert_eq!(count("sqlite", "NetworkPolicy"), 1);
    assert_eq!(count("sqlite", "Deployment"), 0);
    assert_eq!(count("postgres", "Deployment"), 1);
    assert_eq!(count("postgres", "Job"), 1);
    assert_eq!(count("postgres", "Service"), 1);
    assert_eq!(count("postgres", "NetworkPolicy"), 1);
    assert_eq!(count("postgres", "StatefulSet"), 0);
    // The Secrets are an example beside the two directories, never applied with them.
    assert_eq!(count("secret.example.yaml", "Secret"), 3);
}

#[test]
fn the_kubernetes_schemas_reject_a_broken_manifest() {
    let schemas = KubeSchemas::load();
    let (_, deployment) = plain_manifests()
        .into_iter()
        .find(|(_, o)| kind(o) == "Deployment")
        .expect("a Deployment");
    assert!(schemas.errors(&deployment, false).is_empty());

    // A misspelt field deep in the pod spec (resolved through _definitions.json).
    let mut typo = deployment.clone();
    let security = &mut typo["spec"]["template"]["spec"]["containers"][0]["securityContext"];
    let value = security
        .as_object_mut()
        .unwrap()
        .remove("readOnlyRootFilesystem")
        .unwrap();
    security["readOnlyRootFilesytem"] = value;
    let errors = schemas.errors(&typo, false);
    assert!(
        errors.iter().any(|e| e.contains("readOnlyRootFilesytem")),
        "{errors:?}"
    );

    // A wrong type, and a placeholder that is only forgiven in templates.
    let mut wrong = deployment.clone();
    wrong["spec"]["replicas"] = json!("two");
    assert!(!schemas.errors(&wrong, false).is_empty());
    wrong["spec"]["replicas"] = json!(format!("{PLACEHOLDER}1"));
    assert!(!schemas.errors(&wrong, false).is_empty());
    assert!(schemas.errors(&wrong, true).is_empty());

    // A kind without a schema is an error, not a pass.
    let unknown = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "x"}});
    assert!(!schemas.errors(&unknown, false).is_empty());
}

#[test]
fn plain_workloads_are_hardened_limited_and_probed() {
    let objects = plain_manifests();
    let mut workloads = 0;
    let mut problems = Vec::new();
    for (file, object) in &objects {
        if pod_template(object).is_some() {
            workloads += 1;
            problems.extend(workload_problems(file, object));
        }
    }
    assert_eq!(
        workloads, 3,
        "StatefulSet, Deployment and the migration Job"
    );
    assert!(problems.is_empty(), "{}", problems.join("\n"));

    // The check itself fails a writable root filesystem and a missing probe.
    let (file, statefulset) = objects
        .iter()
        .find(|(_, o)| kind(o) == "StatefulSet")
        .unwrap();
    let mut weak = statefulset.clone();
    let container = &mut weak["spec"]["template"]["spec"]["containers"][0];
    container["securityContext"]["readOnlyRootFilesystem"] = json!(false);
    container.as_object_mut().unwrap().remove("readinessProbe");
    let problems = workload_problems(file, &weak);
    assert_eq!(problems.len(), 2, "{problems:?}");
}

#[test]
fn sqlite_mode_runs_one_replica_on_a_claimed_volume() {
    let objects = plain_manifests();
    let (_, statefulset) = objects
        .iter()
        .find(|(f, o)| f.contains("/sqlite/") && kind(o) == "StatefulSet")
        .expect("the sqlite StatefulSet");
    let spec = &statefulset["spec"];
    assert_eq!(spec["replicas"], json!(1), "SQLite has one writer");
    let claims = spec["volumeClaimTemplates"].as_array().expect("a claim");
    assert_eq!(claims[0]["metadata"]["name"], json!("data"));
    let container = &spec["template"]["spec"]["containers"][0];
    let mounts = container["volumeMounts"].as_array().unwrap();
    assert!(
        mounts
            .iter()
            .any(|m| m["name"] == json!("data") && m["mountPath"] == json!("/var/lib/posture"))
    );
    let url = env_var(container, "POSTURE_DATABASE_URL").expect("the database URL");
    assert_eq!(url["value"], json!("sqlite:///var/lib/posture/posture.db"));
    assert_eq!(
        spec["template"]["spec"]["securityContext"]["fsGroup"],
        json!(UID)
    );
    // The governing Service exists and is headless.
    let service_name = spec["serviceName"].as_str().unwrap();
    assert!(objects.iter().any(|(_, o)| kind(o) == "Service"
        && o["metadata"]["name"] == json!(service_name)
        && o["spec"]["clusterIP"] == json!("None")));
}

#[test]
fn postgres_mode_takes_the_database_url_from_a_secret_and_migrates_first() {
    let objects = plain_manifests();
    let find = |k: &str| {
        &objects
            .iter()
            .find(|(f, o)| f.contains("/postgres/") && kind(o) == k)
            .unwrap_or_else(|| panic!("a {k} in postgres/"))
            .1
    };
    let deployment = find("Deployment");
    assert!(deployment["spec"]["replicas"].as_u64().unwrap() >= 2);
    let job = find("Job");
    for object in [deployment, job] {
        let container = &object["spec"]["template"]["spec"]["containers"][0];
        let url = env_var(container, "POSTURE_DATABASE_URL").expect("the database URL");
        let reference = &url["valueFrom"]["secretKeyRef"];
        assert_eq!(
            reference["name"],
            json!("posture-database"),
            "{}",
            kind(object)
        );
        assert_eq!(reference["key"], json!("url"));
        assert!(url.get("value").is_none(), "never the URL itself");
    }
    assert_eq!(
        job["spec"]["template"]["spec"]["restartPolicy"],
        json!("Never")
    );
    // The Secret the manifests name is shown in the example, under the same key.
    let example = yaml_file("deploy/kubernetes/secret.example.yaml");
    let secret = example
        .iter()
        .find(|s| s["metadata"]["name"] == json!("posture-database"))
        .expect("the database Secret in the example");
    assert!(
        secret["stringData"]["url"]
            .as_str()
            .unwrap()
            .starts_with("postgres://")
    );
    // Selectors select the pods.
    let selector = &deployment["spec"]["selector"]["matchLabels"];
    let labels = &deployment["spec"]["template"]["metadata"]["labels"];
    for (key, value) in selector.as_object().unwrap() {
        assert_eq!(
            &labels[key], value,
            "the Deployment's selector matches its pods"
        );
    }
    let service = find("Service");
    for (key, value) in service["spec"]["selector"].as_object().unwrap() {
        assert_eq!(&labels[key], value, "the Service selects the pods");
    }
}

#[test]
fn network_policies_let_in_8080_and_out_only_dns_https_and_the_database() {
    let mut seen = 0;
    for (file, object) in plain_manifests() {
        if kind(&object) != "NetworkPolicy" {
            continue;
        }
        seen += 1;
        let ports = egress_ports(&file, &object);
        let expected: BTreeSet<u64> = if file.contains("/postgres/") {
            [53, 443, 5432].into()
        } else {
            [53, 443].into()
        };
        assert_eq!(ports, expected, "{file}");
        // It selects the posture pods (the server's and the migration Job's).
        let selector = &object["spec"]["podSelector"]["matchLabels"];
        assert_eq!(
            selector["app.kubernetes.io/name"],
            json!("posture"),
            "{file}"
        );
        assert!(
            selector.get("app.kubernetes.io/component").is_none(),
            "{file}"
        );
    }
    assert_eq!(seen, 2);

    // An allow-all egress rule is refused.
    let open = json!({"spec": {
        "policyTypes": ["Ingress", "Egress"],
        "ingress": [{"ports": [{"port": 8080}]}],
        "egress": [{"ports": [{"port": 443}]}],
    }});
    let refused = std::panic::catch_unwind(|| egress_ports("open", &open));
    assert!(refused.is_err());
}

#[test]
fn helm_values_follow_values_schema_json() {
    let schema: Value = serde_json::from_str(&read(&format!("{CHART}/values.schema.json")))
        .expect("values.schema.json is JSON");
    assert_eq!(
        schema["$schema"],
        json!("http://json-schema.org/draft-07/schema#")
    );
    let validator = jsonschema::options()
        .with_draft(jsonschema::Draft::Draft7)
        .build(&schema)
        .expect("values.schema.json compiles");
    let values = single_yaml(&format!("{CHART}/values.yaml"));
    let errors: Vec<String> = validator
        .iter_errors(&values)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "values.yaml:\n{}", errors.join("\n"));

    // Every key of values.yaml is described (the schema forbids others at the top).
    for key in values.as_object().unwrap().keys() {
        assert!(
            schema["properties"].get(key).is_some(),
            "values.schema.json does not describe {key}"
        );
    }

    let rejects = |change: &dyn Fn(&mut Value), why: &str| {
        let mut changed = values.clone();
        change(&mut changed);
        assert!(!validator.is_valid(&changed), "the schema accepts {why}");
    };
    rejects(&|v| v["mode"] = json!("mysql"), "an unknown mode");
    rejects(
        &|v| v["mode"] = json!("postgres"),
        "postgres mode without a database",
    );
    rejects(&|v| v["replicaCount"] = json!(0), "zero replicas");
    rejects(&|v| v["replcaCount"] = json!(3), "a misspelt key");
    rejects(
        &|v| v["securityContext"]["readOnlyRootFilesystem"] = json!(false),
        "a writable root filesystem",
    );
    rejects(
        &|v| v["podSecurityContext"]["runAsNonRoot"] = json!(false),
        "running as root",
    );
    rejects(
        &|v| v["env"]["WORKERS"] = json!("2"),
        "a variable that is not POSTURE_*",
    );
    rejects(
        &|v| v["networkPolicy"]["httpsTo"] = json!([]),
        "an egress rule open to everything",
    );
    rejects(
        &|v| v["githubApp"]["existingSecret"] = json!("gh-app"),
        "a GitHub App key without the App id",
    );

    let mut postgres = values.clone();
    postgres["mode"] = json!("postgres");
    postgres["database"]["existingSecret"] = json!("posture-database");
    assert!(validator.is_valid(&postgres), "postgres mode with a Secret");
}

#[test]
fn helm_chart_metadata_matches_the_crate() {
    let chart = single_yaml(&format!("{CHART}/Chart.yaml"));
    assert_eq!(chart["apiVersion"], json!("v2"));
    assert_eq!(chart["name"], json!("posture"));
    assert_eq!(chart["type"], json!("application"));
    assert_eq!(
        chart["appVersion"],
        json!(cargo_version()),
        "appVersion is the crate's version (and the default image tag)"
    );
    let version = chart["version"].as_str().expect("a chart version");
    assert!(
        semver::Version::parse(version).is_ok(),
        "{version} is SemVer"
    );
}

#[test]
fn helm_templates_expand_to_valid_hardened_objects() {
    // Every branch is taken (see `Chart::expand`): both modes' objects are here at once.
    let schemas = KubeSchemas::load();
    let chart = Chart::load();
    let objects = chart_objects(&chart);
    let mut kinds = BTreeSet::new();
    let mut problems = Vec::new();
    for (file, object) in &objects {
        let errors = schemas.errors(object, true);
        assert!(
            errors.is_empty(),
            "{file} (expanded):\n{}",
            errors.join("\n")
        );
        kinds.insert(kind(object).to_owned());
        problems.extend(workload_problems(file, object));
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    for expected in [
        "StatefulSet",
        "Deployment",
        "Service",
        "Job",
        "NetworkPolicy",
        "PodDisruptionBudget",
        "Secret",
        "ConfigMap",
    ] {
        assert!(kinds.contains(expected), "no {expected} in the chart");
    }

    // The migration Job is a hook that runs before upgrades.
    let (_, job) = objects.iter().find(|(_, o)| kind(o) == "Job").unwrap();
    let hook = job["metadata"]["annotations"]["helm.sh/hook"]
        .as_str()
        .expect("the Job is a Helm hook");
    assert!(hook.split(',').any(|h| h == "pre-upgrade"), "{hook}");

    // The database URL comes from a Secret in postgres mode.
    let (_, deployment) = objects
        .iter()
        .find(|(_, o)| kind(o) == "Deployment")
        .unwrap();
    let container = &deployment["spec"]["template"]["spec"]["containers"][0];
    let url = env_var(container, "POSTURE_DATABASE_URL").unwrap();
    assert!(url["valueFrom"]["secretKeyRef"]["key"].is_string());

    // The NetworkPolicy: DNS, HTTPS and the database out.
    let (file, policy) = objects
        .iter()
        .find(|(_, o)| kind(o) == "NetworkPolicy")
        .unwrap();
    assert_eq!(
        egress_ports(file, policy),
        [53, 443, 5432].into_iter().collect::<BTreeSet<u64>>()
    );
}

#[test]
fn helm_templates_use_only_defined_values_and_templates() {
    let chart = Chart::load();
    let mut used = BTreeSet::new();
    for file in files_under(&format!("{CHART}/templates")) {
        let text = read(&file);
        blocks(&file, &text);
        for path in values_paths(&text) {
            assert!(
                lookup(&chart.values, &path).is_some(),
                "{file}: .Values.{path} is not in values.yaml"
            );
            used.insert(path.split('.').next().unwrap().to_owned());
        }
        for (_, _, action) in actions(&text) {
            if let Some(rest) = action_body(action).strip_prefix("include ") {
                let name = rest.split('"').nth(1).unwrap();
                assert!(
                    chart.defines.contains_key(name),
                    "{file}: includes undefined {name}"
                );
            }
        }
    }
    // And every top-level value is used by some template.
    for key in chart.values.as_object().unwrap().keys() {
        assert!(
            used.contains(key),
            "values.yaml's {key} is used by no template"
        );
    }
    // The checks fail what they should.
    assert!(lookup(&chart.values, "image.repositry").is_none());
    let unbalanced = std::panic::catch_unwind(|| blocks("t", "{{- if .Values.mode }}\nx: 1\n"));
    assert!(unbalanced.is_err());
    assert_eq!(
        values_paths("a: {{ .Values.image.tag }} {{ .Values.mode }}."),
        ["image.tag".to_owned(), "mode".to_owned()].into()
    );
}

#[test]
fn the_helm_stand_in_inlines_includes_and_values() {
    let chart = Chart::load();
    let text = "metadata:\n  labels:\n    {{- include \"posture.selectorLabels\" . | nindent 4 }}\n  name: {{ include \"posture.fullname\" . }}\nspec:\n  {{- if .Values.x }}\n  resources:\n    {{- toYaml .Values.resources | nindent 4 }}\n  {{- end }}\n";
    let expanded = chart.expand("test", text, 0);
    let documents = yaml_documents("test", &expanded);
    let object = &documents[0];
    assert!(
        object["metadata"]["labels"]["app.kubernetes.io/name"]
            .as_str()
            .unwrap()
            .starts_with(PLACEHOLDER)
    );
    assert!(
        object["metadata"]["name"]
            .as_str()
            .unwrap()
            .starts_with(PLACEHOLDER)
    );
    assert_eq!(
        object["spec"]["resources"], chart.values["resources"],
        "toYaml .Values.resources is inlined"
    );
}

#[test]
fn compose_runs_two_replicas_behind_one_port_after_a_migration() {
    let dir = "deploy/compose";
    let compose = single_yaml(&format!("{dir}/docker-compose.yml"));
    let services = compose["services"].as_object().expect("services");

    let db = &services["db"];
    assert!(
        db["image"].as_str().unwrap().starts_with("postgres:16"),
        "PostgreSQL 16"
    );
    assert!(
        db["volumes"][0].as_str().unwrap().starts_with("pgdata:"),
        "the database on a named volume"
    );
    assert!(compose["volumes"].get("pgdata").is_some());

    let migrate = &services["migrate"];
    assert_eq!(migrate["command"], json!(["migrate"]));
    assert_eq!(migrate["restart"], json!("no"), "a one-shot");

    let posture = &services["posture"];
    assert_eq!(
        posture["command"],
        json!(["serve", "--listen", "0.0.0.0:8080"])
    );
    assert_eq!(posture["deploy"]["replicas"], json!(2));
    assert_eq!(
        posture["depends_on"]["migrate"]["condition"],
        json!("service_completed_successfully")
    );
    assert_eq!(
        posture["depends_on"]["db"]["condition"],
        json!("service_healthy")
    );
    assert!(
        posture["ports"].is_null(),
        "replicas publish no port themselves"
    );
    let proxy = &services["proxy"];
    assert_eq!(proxy["ports"].as_array().map(Vec::len), Some(1), "one port");
    assert_eq!(
        proxy["depends_on"]["posture"]["condition"],
        json!("service_healthy")
    );

    // The long-running services have healthchecks; the one-shot has none.
    for name in ["db", "posture", "proxy"] {
        let test = &services[name]["healthcheck"]["test"];
        assert!(
            test.as_array().is_some_and(|t| t.len() >= 2),
            "{name} has a healthcheck"
        );
    }
    let readiness = services["posture"]["healthcheck"]["test"].to_string();
    assert!(readiness.contains("/readyz"), "{readiness}");
    assert_eq!(migrate["healthcheck"]["disable"], json!(true));

    // posture runs unprivileged on a read-only root filesystem.
    for name in ["migrate", "posture"] {
        let service = &services[name];
        assert_eq!(service["user"], json!(format!("{UID}:{UID}")), "{name}");
        assert_eq!(service["read_only"], json!(true), "{name}");
        assert_eq!(service["cap_drop"], json!(["ALL"]), "{name}");
        assert_eq!(service["env_file"], json!(["posture.env"]), "{name}");
        assert_eq!(
            service["image"],
            json!(format!("${{APP_IMAGE:-posture:{}}}", cargo_version())),
            "{name}"
        );
    }

    // Every env file and bind-mounted file exists (env files as their .example).
    for (name, service) in services {
        for file in service["env_file"].as_array().into_iter().flatten() {
            let file = file.as_str().unwrap();
            assert!(
                root().join(dir).join(format!("{file}.example")).exists(),
                "{name}: {file}.example"
            );
        }
        for volume in service["volumes"].as_array().into_iter().flatten() {
            let source = volume.as_str().unwrap().split(':').next().unwrap();
            if source.starts_with("./") {
                assert!(root().join(dir).join(source).exists(), "{name}: {source}");
            }
        }
    }

    // The database URL posture gets matches the database the db service creates.
    let posture_env = env_lines(
        "posture.env.example",
        &read(&format!("{dir}/posture.env.example")),
    );
    let postgres_env = env_lines(
        "postgres.env.example",
        &read(&format!("{dir}/postgres.env.example")),
    );
    let url = url::Url::parse(&posture_env["POSTURE_DATABASE_URL"]).unwrap();
    assert_eq!(url.scheme(), "postgres");
    assert_eq!(url.host_str(), Some("db"), "the db service");
    assert_eq!(url.username(), postgres_env["POSTGRES_USER"]);
    assert_eq!(
        url.password(),
        Some(postgres_env["POSTGRES_PASSWORD"].as_str())
    );
    assert_eq!(url.path(), format!("/{}", postgres_env["POSTGRES_DB"]));

    // The proxy forwards to the posture service's port.
    let nginx = read(&format!("{dir}/nginx.conf"));
    assert!(nginx.contains("http://posture:8080"));
}

#[test]
fn systemd_unit_is_sandboxed() {
    let unit = ini(&read("deploy/systemd/posture.service"));
    let service = &unit["Service"];
    let get = |key: &str| -> Vec<&str> {
        service
            .get(key)
            .map(|values| values.iter().map(String::as_str).collect())
            .unwrap_or_default()
    };
    for (key, value) in [
        ("DynamicUser", "yes"),
        ("StateDirectory", "posture"),
        ("ProtectSystem", "strict"),
        ("ProtectHome", "yes"),
        ("PrivateTmp", "yes"),
        ("PrivateDevices", "yes"),
        ("NoNewPrivileges", "yes"),
        ("CapabilityBoundingSet", ""),
        ("RestrictAddressFamilies", "AF_INET AF_INET6 AF_UNIX"),
        ("SystemCallFilter", "@system-service"),
        ("EnvironmentFile", "/etc/posture/posture.env"),
        ("Restart", "on-failure"),
        ("MemoryDenyWriteExecute", "yes"),
        ("RestrictNamespaces", "yes"),
        ("LockPersonality", "yes"),
    ] {
        assert!(
            get(key).contains(&value),
            "posture.service: {key}={value} (has {:?})",
            get(key)
        );
    }
    let exec = get("ExecStart");
    assert_eq!(exec.len(), 1);
    assert!(
        exec[0].starts_with("/usr/local/bin/posture serve"),
        "{exec:?}"
    );
    // The default database lives in the state directory, the only writable place.
    assert!(
        get("Environment").contains(&"POSTURE_DATABASE_URL=sqlite:///var/lib/posture/posture.db")
    );
    assert_eq!(
        unit["Install"]["WantedBy"],
        vec!["multi-user.target".to_owned()]
    );
    // The INI reader fails what it should.
    assert!(std::panic::catch_unwind(|| ini("Key=value\n")).is_err());
    assert!(ini("[Service]\nDynamicUser=no\n")["Service"]["DynamicUser"] != vec!["yes".to_owned()]);
}

/// The Dockerfile's instructions: continuation lines joined, comments and parser
/// directives dropped, each as (INSTRUCTION, arguments).
fn dockerfile() -> Vec<(String, String)> {
    let text = read("Dockerfile");
    let mut instructions = Vec::new();
    let mut current = String::new();
    for line in text.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with('#') || (trimmed.is_empty() && current.is_empty()) {
            continue;
        }
        if let Some(head) = trimmed.strip_suffix('\\') {
            current.push_str(head);
            current.push(' ');
            continue;
        }
        current.push_str(trimmed);
        let (instruction, arguments) = current.split_once(' ').unwrap_or((&current, ""));
        instructions.push((
            instruction.to_ascii_uppercase(),
            arguments.trim().to_owned(),
        ));
        current.clear();
    }
    instructions
}

#[test]
fn dockerfile_runs_posture_unprivileged_with_a_healthcheck() {
    let instructions = dockerfile();
    let stages: Vec<usize> = instructions
        .iter()
        .enumerate()
        .filter(|(_, (i, _))| i == "FROM")
        .map(|(n, _)| n)
        .collect();
    assert!(stages.len() >= 2, "a multi-stage build");
    let (builder, runtime) = instructions.split_at(*stages.last().unwrap());
    assert!(
        builder
            .iter()
            .any(|(i, a)| i == "FROM" && a.starts_with("rust:")),
        "a Rust builder stage"
    );
    assert!(
        builder
            .iter()
            .any(|(i, a)| i == "RUN" && a.contains("cargo build --release --locked")),
        "a locked release build"
    );
    let all = |name: &str| -> Vec<&str> {
        runtime
            .iter()
            .filter(|(i, _)| i == name)
            .map(|(_, a)| a.as_str())
            .collect()
    };
    assert!(all("FROM")[0].starts_with("debian:"), "{:?}", all("FROM"));

    // The last USER of the final stage is a fixed, non-root UID.
    let user = *all("USER").last().expect("a USER in the final stage");
    let uid: u64 = user
        .split(':')
        .next()
        .unwrap()
        .parse()
        .unwrap_or_else(|_| panic!("USER {user} is numeric (runAsNonRoot needs a UID)"));
    assert_eq!(uid, UID);

    let healthcheck = all("HEALTHCHECK");
    assert_eq!(healthcheck.len(), 1);
    assert!(healthcheck[0].contains("CMD") && healthcheck[0].contains("/healthz"));
    assert_eq!(all("EXPOSE"), ["8080"]);
    assert_eq!(all("ENTRYPOINT"), [r#"["posture"]"#]);
    assert_eq!(all("CMD"), [r#"["serve", "--listen", "0.0.0.0:8080"]"#]);
    assert!(
        all("RUN")
            .iter()
            .any(|r| r.contains("ca-certificates") && r.contains("git") && r.contains("curl")),
        "CA certificates, git for the clone fallback, curl for the HEALTHCHECK"
    );
    let volume = all("VOLUME");
    assert!(volume.iter().any(|v| v.contains("/var/lib/posture")));
    let env = all("ENV").join(" ");
    assert!(env.contains("POSTURE_DATABASE_URL=sqlite:///var/lib/posture/posture.db"));

    // OCI labels, and the version label's default is the crate's.
    let labels = all("LABEL").join(" ");
    for label in [
        "org.opencontainers.image.title",
        "org.opencontainers.image.source",
        "org.opencontainers.image.licenses",
        "org.opencontainers.image.version",
        "org.opencontainers.image.revision",
    ] {
        assert!(labels.contains(label), "LABEL {label}");
    }
    assert!(
        all("ARG").contains(&format!("VERSION={}", cargo_version()).as_str()),
        "ARG VERSION defaults to the crate's version"
    );

    // Everything the build reads is COPYed (migrations and templates are compiled in).
    let copied = builder_copies();
    for needed in ["Cargo.toml", "Cargo.lock", "src", "migrations", "templates"] {
        assert!(copied.iter().any(|c| c == needed), "COPY {needed}");
    }
}

/// The sources of the COPY instructions of the Dockerfile's stages before the last.
fn builder_copies() -> Vec<String> {
    let instructions = dockerfile();
    let last = instructions
        .iter()
        .rposition(|(i, _)| i == "FROM")
        .expect("a FROM");
    instructions[..last]
        .iter()
        .filter(|(i, _)| i == "COPY")
        .flat_map(|(_, arguments)| {
            let words: Vec<&str> = arguments.split_whitespace().collect();
            words[..words.len() - 1]
                .iter()
                .filter(|w| !w.starts_with("--"))
                .map(|w| w.to_string())
                .collect::<Vec<_>>()
        })
        .collect()
}

/// Whether `.dockerignore` keeps `path` out of the build context (the patterns used here:
/// `*`, plain names, `!name`; the last match wins).
fn docker_ignored(patterns: &[String], path: &str) -> bool {
    let mut ignored = false;
    for pattern in patterns {
        let (negated, pattern) = match pattern.strip_prefix('!') {
            Some(rest) => (true, rest),
            None => (false, pattern.as_str()),
        };
        let pattern = pattern.trim_end_matches('/');
        let top = path.split('/').next().unwrap();
        let matches = pattern == "*" || pattern == top || pattern == path;
        if matches {
            ignored = !negated;
        }
    }
    ignored
}

fn dockerignore_patterns() -> Vec<String> {
    read(".dockerignore")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_owned)
        .collect()
}

#[test]
fn dockerignore_sends_only_what_the_build_reads() {
    let patterns = dockerignore_patterns();
    for kept in [
        "Cargo.toml",
        "Cargo.lock",
        "src/main.rs",
        "migrations/sqlite",
        "templates/review.md.hbs",
        "benches/pipeline.rs",
    ] {
        assert!(
            !docker_ignored(&patterns, kept),
            "{kept} must reach the build"
        );
    }
    for left_out in [
        "target/debug/posture",
        ".git/HEAD",
        "fixtures/demo",
        "posture.db",
        "deploy/compose/posture.env",
        "tests/deploy_files.rs",
    ] {
        assert!(docker_ignored(&patterns, left_out), "{left_out} stays out");
    }
    // Every bench Cargo.toml declares must be in the context, or the build fails.
    let manifest: toml::Value = toml::from_str(&read("Cargo.toml")).unwrap();
    for bench in manifest["bench"].as_array().into_iter().flatten() {
        let name = bench["name"].as_str().unwrap();
        let path = format!("benches/{name}.rs");
        assert!(root().join(&path).exists() && !docker_ignored(&patterns, &path));
    }
}

#[test]
fn posture_variables_in_the_packaging_are_ones_posture_reads() {
    // Every POSTURE_* name that appears as a string in src/ (clap's env = "…", constants).
    let mut known = BTreeSet::new();
    for file in files_under("src") {
        if file.ends_with(".rs") {
            let text = read(&file);
            for name in posture_names(&text) {
                if text.contains(&format!("\"{name}\"")) {
                    known.insert(name);
                }
            }
        }
    }
    assert!(known.contains("POSTURE_DATABASE_URL") && known.contains("POSTURE_LISTEN"));
    let mut files = files_under("deploy");
    files.push("Dockerfile".to_owned());
    let mut used = BTreeSet::new();
    for file in &files {
        for name in posture_names(&read(file)) {
            assert!(
                known.contains(&name),
                "{file}: {name} is not a variable posture reads"
            );
            used.insert(name);
        }
    }
    for name in [
        "POSTURE_DATABASE_URL",
        "POSTURE_GITHUB_WEBHOOK_SECRET",
        "POSTURE_GITHUB_APP_ID",
        "POSTURE_GITHUB_PRIVATE_KEY_FILE",
        "POSTURE_GITLAB_TOKEN",
        "POSTURE_GITLAB_WEBHOOK_TOKEN",
        "POSTURE_WORKERS",
        "POSTURE_SETTINGS_FILE",
    ] {
        assert!(used.contains(name), "the packaging never mentions {name}");
    }
    assert_eq!(
        posture_names("X_POSTURE_Y POSTURE_LOG=info ${POSTURE_WORKERS}"),
        ["POSTURE_LOG".to_owned(), "POSTURE_WORKERS".to_owned()].into()
    );
}

#[test]
fn images_and_versions_agree() {
    let version = cargo_version();
    let image = format!("ghcr.io/posture-dev/posture:{version}");
    let mut workloads = 0;
    for (file, object) in plain_manifests() {
        if let Some(template) = pod_template(&object) {
            workloads += 1;
            for container in template["spec"]["containers"].as_array().unwrap() {
                assert_eq!(container["image"], json!(image), "{file}");
            }
            assert_eq!(
                object["metadata"]["labels"]["app.kubernetes.io/version"],
                json!(version),
                "{file}"
            );
        }
    }
    assert_eq!(workloads, 3);
    let values = single_yaml(&format!("{CHART}/values.yaml"));
    assert_eq!(
        format!(
            "{}:{version}",
            values["image"]["repository"].as_str().unwrap()
        ),
        image
    );
}

/// `path` with `.` and `..` resolved, `/`-separated.
fn normalize(path: &Path) -> String {
    let mut parts: Vec<String> = Vec::new();
    for component in path.components() {
        match component {
            std::path::Component::ParentDir => {
                parts.pop();
            }
            std::path::Component::Normal(part) => parts.push(part.to_string_lossy().into_owned()),
            _ => {}
        }
    }
    parts.join("/")
}

/// The files the sources embed at compile time (`include_str!`, `include_bytes!`,
/// `sqlx::migrate!`), relative to the crate. Test data (under fixtures/ or tests/) is left
/// out: only tests embed it, and the image builds no tests.
fn embedded_files() -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    for file in files_under("src") {
        if !file.ends_with(".rs") {
            continue;
        }
        let text = read(&file);
        for (call, relative_to_the_file) in [
            ("include_str!(\"", true),
            ("include_bytes!(\"", true),
            ("migrate!(\"", false),
        ] {
            for (index, _) in text.match_indices(call) {
                let literal = text[index + call.len()..].split('"').next().unwrap();
                let path = if relative_to_the_file {
                    Path::new(&file).parent().unwrap().join(literal)
                } else {
                    PathBuf::from(literal)
                };
                let path = normalize(&path);
                if !(path.starts_with("fixtures/") || path.starts_with("tests/")) {
                    found.insert(path);
                }
            }
        }
    }
    found
}

#[test]
fn the_image_build_gets_every_file_the_sources_embed() {
    let embedded = embedded_files();
    for expected in [
        "migrations/sqlite",
        "migrations/postgres",
        "templates/review.md.hbs",
    ] {
        assert!(embedded.contains(expected), "{expected} in {embedded:?}");
    }
    let copied = builder_copies();
    let patterns = dockerignore_patterns();
    for path in &embedded {
        assert!(root().join(path).exists(), "{path} is embedded but missing");
        assert!(
            copied
                .iter()
                .any(|c| path == c || path.starts_with(&format!("{c}/"))),
            "the Dockerfile's build stage does not COPY {path}, which the sources embed"
        );
        assert!(
            !docker_ignored(&patterns, path),
            ".dockerignore keeps out {path}, which the sources embed"
        );
    }
    assert_eq!(
        normalize(Path::new("src/report/../../templates/a.hbs")),
        "templates/a.hbs"
    );
}
