//! The API inventory: the HTTP endpoints a repository declares in its OpenAPI 3.x and
//! Swagger 2.0 documents (YAML or JSON), with the security each requires and the
//! sensitive-looking fields each returns, and the findings they raise ([`findings`]).
//!
//! Findings must point at the exact line of an operation, and serde_yaml_ng gives values
//! without positions. Rather than re-finding keys in the text with an indentation-aware scan
//! (fragile with flow style, JSON, anchors, multi-line strings and comments), documents are
//! read with `saphyr-parser`, the maintained YAML 1.2 event parser of the saphyr project
//! (successor of yaml-rust2), whose every event carries its line and column. JSON is YAML
//! 1.2, so one reader serves both; [`tree`] builds a positioned tree from the events with an
//! explicit stack and a depth limit, so bad input is an error, never a panic or unbounded
//! recursion. Documents over [`MAX_BYTES`] are refused.
//!
//! Pure: texts in, values out. Modules: [`tree`] (positioned YAML/JSON), [`document`] (the
//! API a tree describes), [`sensitive`] (which response properties look sensitive),
//! [`server`] (whether a server is public), [`rules`] (the findings).

pub mod document;
pub mod rules;
pub mod sensitive;
pub mod server;
pub mod tree;

use std::fmt;

pub use rules::findings;

/// The largest document read: real API descriptions run to a few hundred kilobytes (the
/// GitHub REST description, among the largest, is about 10 MB of JSON; such generated
/// documents are split or left to dedicated tools).
pub const MAX_BYTES: usize = 8 * 1024 * 1024;

/// Whether a path may hold an API description: `.yaml`, `.yml` or `.json`, outside
/// `node_modules/` and `vendor/`.
pub fn is_candidate(path: &str) -> bool {
    let lower = path.to_ascii_lowercase();
    let vendored = lower
        .split('/')
        .any(|segment| segment == "node_modules" || segment == "vendor");
    let extension = lower.rsplit_once('.').map(|(_, ext)| ext);
    !vendored && matches!(extension, Some("yaml" | "yml" | "json"))
}

/// The API a document describes; `Ok(None)` when the text is no OpenAPI or Swagger document
/// (no top-level `openapi: 3…` or `swagger: 2…`), an error naming the file and position when
/// it is one but is malformed.
pub fn read(path: &str, text: &str) -> Result<Option<ApiDocument>, ApiError> {
    // Most YAML and JSON files of a repository are not API descriptions: skip them unparsed.
    if !text.contains("openapi") && !text.contains("swagger") {
        return Ok(None);
    }
    if text.len() > MAX_BYTES {
        // A large lockfile that names `swagger-ui` is no API description to refuse.
        if !document::declares_api_in_text(text) {
            return Ok(None);
        }
        return Err(ApiError::TooLarge {
            file: path.to_string(),
            size: text.len(),
            limit: MAX_BYTES,
        });
    }
    let root = match tree::parse(text) {
        Ok(root) => root,
        Err(tree::TreeError::Empty) => return Ok(None),
        // Broken YAML that is not an API description is none of this module's business.
        Err(_) if !document::declares_api_in_text(text) => return Ok(None),
        Err(tree::TreeError::Syntax { at, message }) => {
            return Err(ApiError::Syntax {
                file: path.to_string(),
                line: at.line,
                column: at.column,
                message,
            });
        }
        Err(tree::TreeError::TooDeep { at }) => {
            return Err(ApiError::TooDeep {
                file: path.to_string(),
                line: at.line,
                column: at.column,
                limit: tree::MAX_DEPTH,
            });
        }
    };
    document::read(path, &root)
}

/// An API description: where it is, what it is called, where it is served and what it
/// offers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiDocument {
    /// Repository-relative path of the document.
    pub file: String,
    /// `info.title`.
    pub title: Option<String>,
    /// OpenAPI 3's top-level `servers`; for Swagger 2.0, `host` and `basePath` with each of
    /// `schemes` (scheme-relative `//host/base` when it names none).
    pub servers: Vec<Server>,
    /// Every operation under `paths`, in document order.
    pub endpoints: Vec<Endpoint>,
}

/// A server the API is served from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Server {
    pub url: String,
    /// Whether the host looks reachable from the internet ([`server::is_public`]); `None`
    /// when the URL cannot tell (relative, a `{variable}` host).
    pub public: Option<bool>,
}

/// One operation: a method on a path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    pub method: HttpMethod,
    /// The path template as written (`/pets/{petId}`), without any server's base path.
    pub path: String,
    /// The line declaring the operation (its method key), 1-based.
    pub line: u32,
    pub operation_id: Option<String>,
    pub security: Security,
    /// Response schema properties that look sensitive ([`sensitive::looks_sensitive`]).
    pub sensitive_fields: Vec<String>,
}

/// The authentication an operation requires.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Security {
    /// The security scheme names of its requirements (every alternative's), from the
    /// operation or inherited from the document's `security`. A list that also offers the
    /// anonymous `{}` among real requirements is `Required`: the API does authenticate, and
    /// whether anonymous access is meant is a design choice, not a missing declaration.
    Required(Vec<String>),
    /// No security declared, on the operation or for the whole document (a document-wide
    /// `security: []` declares none either).
    None,
    /// Turned off: `security: []` on the operation, or requirements that are all the empty
    /// (anonymous) requirement `{}`.
    Disabled,
}

/// An HTTP method an OpenAPI path item may declare.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum HttpMethod {
    Get,
    Put,
    Post,
    Delete,
    Options,
    Head,
    Patch,
    Trace,
}

impl HttpMethod {
    pub const ALL: [HttpMethod; 8] = [
        HttpMethod::Get,
        HttpMethod::Put,
        HttpMethod::Post,
        HttpMethod::Delete,
        HttpMethod::Options,
        HttpMethod::Head,
        HttpMethod::Patch,
        HttpMethod::Trace,
    ];

    /// The method as HTTP spells it (`GET`).
    pub fn as_str(self) -> &'static str {
        match self {
            HttpMethod::Get => "GET",
            HttpMethod::Put => "PUT",
            HttpMethod::Post => "POST",
            HttpMethod::Delete => "DELETE",
            HttpMethod::Options => "OPTIONS",
            HttpMethod::Head => "HEAD",
            HttpMethod::Patch => "PATCH",
            HttpMethod::Trace => "TRACE",
        }
    }

    /// The method a path item key names (`get`; OpenAPI spells them in lower case, other
    /// cases are accepted).
    pub fn from_key(key: &str) -> Option<HttpMethod> {
        HttpMethod::ALL
            .into_iter()
            .find(|m| m.as_str().eq_ignore_ascii_case(key))
    }
}

impl fmt::Display for HttpMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why an API description could not be read. Positions are 1-based.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApiError {
    #[error("{file}: {size} bytes, more than the {limit} bytes an API description may have")]
    TooLarge {
        file: String,
        size: usize,
        limit: usize,
    },
    #[error("{file}:{line}:{column}: nested more than {limit} levels deep")]
    TooDeep {
        file: String,
        line: u32,
        column: u32,
        limit: usize,
    },
    #[error("{file}:{line}:{column}: not valid YAML or JSON: {message}")]
    Syntax {
        file: String,
        line: u32,
        column: u32,
        message: String,
    },
    /// Valid YAML, but not shaped as an OpenAPI document (`paths` a list, an operation a
    /// string, …).
    #[error("{file}:{line}:{column}: {message}")]
    Invalid {
        file: String,
        line: u32,
        column: u32,
        message: String,
    },
}

impl ApiError {
    pub fn file(&self) -> &str {
        match self {
            ApiError::TooLarge { file, .. }
            | ApiError::TooDeep { file, .. }
            | ApiError::Syntax { file, .. }
            | ApiError::Invalid { file, .. } => file,
        }
    }

    /// The line and column the error is at, when it has one.
    pub fn position(&self) -> Option<(u32, u32)> {
        match self {
            ApiError::TooLarge { .. } => None,
            ApiError::TooDeep { line, column, .. }
            | ApiError::Syntax { line, column, .. }
            | ApiError::Invalid { line, column, .. } => Some((*line, *column)),
        }
    }
}

#[cfg(test)]
mod tests;
