//! The API a positioned tree describes: title, servers, and each operation with its line,
//! effective security and sensitive-looking response fields. OpenAPI 3.x and Swagger 2.0
//! differ here only in where servers and response schemas are written.

use std::rc::Rc;

use super::sensitive::{DOCUMENT_VISITS, sensitive_fields};
use super::server::is_public;
use super::tree::{Node, Position, follow};
use super::{ApiDocument, ApiError, Endpoint, HttpMethod, Security, Server};

/// Which specification a document follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Spec {
    /// `swagger: "2.0"`.
    Swagger2,
    /// `openapi: 3.x`.
    OpenApi3,
}

/// The specification of a root: `openapi` with a 3.x version, or `swagger` with 2.x.
fn spec_of(root: &Node) -> Option<Spec> {
    let version = |key: &str, major: char| {
        root.get(key)
            .and_then(|v| v.as_str())
            .is_some_and(|v| v.trim().starts_with(major))
    };
    if version("openapi", '3') {
        Some(Spec::OpenApi3)
    } else if version("swagger", '2') {
        Some(Spec::Swagger2)
    } else {
        None
    }
}

/// Whether a text that failed to parse (or is too large to) still declares itself an API
/// description: a top-level `openapi: 3…` or `swagger: 2…` line, or in a JSON text such a
/// member anywhere (minified JSON is one line).
pub fn declares_api_in_text(text: &str) -> bool {
    let json = text.trim_start().starts_with('{');
    if json && json_member(text) {
        return true;
    }
    text.lines().any(|line| {
        let indented = line.starts_with([' ', '\t']);
        if indented && !json {
            return false;
        }
        let rest = line.trim_start_matches([' ', '\t', '{']);
        let rest = rest.trim_start_matches(['"', '\'']);
        let Some((key, value)) = rest.split_once(':') else {
            return false;
        };
        let key = key.trim_end_matches(['"', '\'']).trim_end();
        let value = value.trim_start().trim_start_matches(['"', '\'']);
        (key == "openapi" && value.starts_with('3')) || (key == "swagger" && value.starts_with('2'))
    })
}

/// A JSON member `"openapi": "3…` or `"swagger": "2…` anywhere in the text.
fn json_member(text: &str) -> bool {
    [("\"openapi\"", '3'), ("\"swagger\"", '2')]
        .into_iter()
        .any(|(key, major)| {
            text.match_indices(key).any(|(at, _)| {
                let rest = text[at + key.len()..].trim_start();
                rest.strip_prefix(':')
                    .map(|value| value.trim_start().trim_start_matches('"'))
                    .is_some_and(|value| value.starts_with(major))
            })
        })
}

fn invalid(file: &str, at: Position, message: String) -> ApiError {
    ApiError::Invalid {
        file: file.to_string(),
        line: at.line,
        column: at.column,
        message,
    }
}

/// The API the tree `root` of `file` describes; `Ok(None)` when it is no API description.
pub fn read(file: &str, root: &Rc<Node>) -> Result<Option<ApiDocument>, ApiError> {
    let Some(spec) = spec_of(root) else {
        return Ok(None);
    };
    let title = root
        .get("info")
        .and_then(|info| info.get("title"))
        .and_then(|t| t.as_str())
        .map(str::to_string);
    let global = match root.get("security") {
        Some(node) => Some(requirements(file, node)?),
        None => None,
    };
    let mut endpoints = Vec::new();
    let mut budget = DOCUMENT_VISITS;
    if let Some(paths) = root.get("paths") {
        let entries = paths.entries().ok_or_else(|| {
            invalid(
                file,
                paths.at,
                format!("`paths` is {}, not a mapping", paths.shape()),
            )
        })?;
        for entry in entries {
            let Some(path) = entry.key.as_deref().filter(|k| !k.starts_with("x-")) else {
                continue;
            };
            endpoints.extend(operations(
                file,
                root,
                spec,
                path,
                &entry.value,
                &global,
                &mut budget,
            )?);
        }
    }
    Ok(Some(ApiDocument {
        file: file.to_string(),
        title,
        servers: servers(root, spec),
        endpoints,
    }))
}

/// The operations of one path item.
fn operations(
    file: &str,
    root: &Rc<Node>,
    spec: Spec,
    path: &str,
    item: &Rc<Node>,
    global: &Option<Vec<Vec<String>>>,
    budget: &mut usize,
) -> Result<Vec<Endpoint>, ApiError> {
    let item = follow(root, item);
    let Some(entries) = item.entries() else {
        return Err(invalid(
            file,
            item.at,
            format!("path `{path}` is {}, not a mapping", item.shape()),
        ));
    };
    let mut endpoints = Vec::new();
    for entry in entries {
        let Some(method) = entry.key.as_deref().and_then(HttpMethod::from_key) else {
            continue;
        };
        let operation = &entry.value;
        if operation.entries().is_none() {
            return Err(invalid(
                file,
                operation.at,
                format!(
                    "operation `{method} {path}` is {}, not a mapping",
                    operation.shape()
                ),
            ));
        }
        let own = match operation.get("security") {
            Some(node) => Some(requirements(file, node)?),
            None => None,
        };
        let schemas = response_schemas(root, spec, operation);
        endpoints.push(Endpoint {
            method,
            path: path.to_string(),
            line: entry.at.line,
            operation_id: operation
                .get("operationId")
                .and_then(|id| id.as_str())
                .map(str::to_string),
            security: security(own.as_deref(), global.as_deref()),
            sensitive_fields: sensitive_fields(root, &schemas, budget),
        });
    }
    Ok(endpoints)
}

/// A `security` list: each requirement (an alternative) as its scheme names.
fn requirements(file: &str, node: &Node) -> Result<Vec<Vec<String>>, ApiError> {
    let items = node.items().ok_or_else(|| {
        invalid(
            file,
            node.at,
            format!(
                "`security` is {}, not a list of security requirements",
                node.shape()
            ),
        )
    })?;
    items
        .iter()
        .map(|requirement| {
            let entries = requirement.entries().ok_or_else(|| {
                invalid(
                    file,
                    requirement.at,
                    format!(
                        "a security requirement is {}, not a mapping of scheme names",
                        requirement.shape()
                    ),
                )
            })?;
            Ok(entries.iter().filter_map(|e| e.key.clone()).collect())
        })
        .collect()
}

/// The operation's own requirements when it has a `security`, else the document's.
fn security(own: Option<&[Vec<String>]>, global: Option<&[Vec<String>]>) -> Security {
    let effective = match (own, global) {
        (Some([]), _) => return Security::Disabled,
        (Some(own), _) => own,
        (None, Some(global)) if !global.is_empty() => global,
        (None, _) => return Security::None,
    };
    let mut names: Vec<String> = Vec::new();
    for name in effective.iter().flatten() {
        if !names.contains(name) {
            names.push(name.clone());
        }
    }
    if names.is_empty() {
        Security::Disabled
    } else {
        Security::Required(names)
    }
}

/// The schemas of an operation's responses: OpenAPI 3's `content.*.schema`, Swagger 2.0's
/// `schema`, through `$ref`s to shared responses.
fn response_schemas(root: &Rc<Node>, spec: Spec, operation: &Node) -> Vec<Rc<Node>> {
    let Some(responses) = operation.get("responses").and_then(|r| r.entries()) else {
        return Vec::new();
    };
    let mut schemas = Vec::new();
    for entry in responses {
        if entry.key.as_deref().is_some_and(|k| k.starts_with("x-")) {
            continue;
        }
        let response = follow(root, &entry.value);
        match spec {
            Spec::Swagger2 => schemas.extend(response.get("schema").cloned()),
            Spec::OpenApi3 => {
                let media = response.get("content").and_then(|c| c.entries());
                for media in media.into_iter().flatten() {
                    schemas.extend(media.value.get("schema").cloned());
                }
            }
        }
    }
    schemas
}

/// The servers the document names.
fn servers(root: &Node, spec: Spec) -> Vec<Server> {
    let server = |url: String| Server {
        public: is_public(&url),
        url,
    };
    match spec {
        Spec::OpenApi3 => root
            .get("servers")
            .and_then(|s| s.items())
            .into_iter()
            .flatten()
            .filter_map(|s| s.get("url")?.as_str().map(str::to_string))
            .map(server)
            .collect(),
        Spec::Swagger2 => {
            // Without `host`, the API is served from wherever the document is: unknown.
            let Some(host) = root.get("host").and_then(|h| h.as_str()) else {
                return Vec::new();
            };
            let base = root
                .get("basePath")
                .and_then(|b| b.as_str())
                .unwrap_or_default();
            let schemes: Vec<&str> = root
                .get("schemes")
                .and_then(|s| s.items())
                .into_iter()
                .flatten()
                .filter_map(|s| s.as_str())
                .collect();
            if schemes.is_empty() {
                return vec![server(format!("//{host}{base}"))];
            }
            schemes
                .into_iter()
                .map(|scheme| server(format!("{scheme}://{host}{base}")))
                .collect()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_that_declare_an_api_description() {
        assert!(declares_api_in_text("openapi: 3.0.0\ninfo: [\n"));
        assert!(declares_api_in_text("'swagger': '2.0'\n"));
        assert!(declares_api_in_text("{\n  \"openapi\": \"3.1.0\",\n"));
        assert!(declares_api_in_text(
            "{\"info\":{},\"swagger\":\"2.0\",\"paths\":{"
        ));
        assert!(!declares_api_in_text("  openapi: 3.0.0\n"));
        assert!(!declares_api_in_text("swagger:\n  enabled: true\n"));
        assert!(!declares_api_in_text(
            "{\"packages\": {\"node_modules/swagger-ui\": {\"version\": \"5.0.0\"}}}"
        ));
    }
}
