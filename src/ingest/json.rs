//! JSON plumbing shared by the format parsers: deserialising typed structs straight from the
//! report's bytes while tracking the JSON path, so a malformed report is answered with a line
//! and column and a report of the wrong shape with a path such as `$.runs[0].results`; plus
//! the lenient field helpers real-world reports need (`null` where an array is expected, …).

use serde::Deserialize;
use serde::de::{DeserializeOwned, Deserializer, IgnoredAny};

/// Where and why a report could not be read, before the file and format are attached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct JsonError {
    /// `line L column C` for syntax errors, a JSON path (`$.runs[0]`) for shape errors.
    pub position: Option<String>,
    pub message: String,
}

/// The UTF-8 byte order mark some Windows tools put before their JSON.
const BOM: &[u8] = b"\xEF\xBB\xBF";

/// The report's bytes without a leading byte order mark.
pub(crate) fn strip_bom(bytes: &[u8]) -> &[u8] {
    bytes.strip_prefix(BOM).unwrap_or(bytes)
}

/// Deserialises `T` from the whole of `bytes`, without an intermediate `Value`.
pub(crate) fn from_slice<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, JsonError> {
    let mut de = serde_json::Deserializer::from_slice(strip_bom(bytes));
    let value = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = json_path(e.path());
        syntax_or_shape(e.into_inner(), path)
    })?;
    de.end()
        .map_err(|e| syntax_or_shape(e, String::from("$")))?;
    Ok(value)
}

/// The position of a syntax error, or the JSON path of a shape error, and the bare message.
pub(crate) fn syntax_or_shape(error: serde_json::Error, path: String) -> JsonError {
    let message = bare_message(&error);
    let (position, message) = match error.classify() {
        // A shape error names the JSON path and the kind of what was found, never its
        // value: a secret scanner's snippet may be one.
        serde_json::error::Category::Data => (path, crate::redact::without_values(&message)),
        _ => (
            format!("line {} column {}", error.line(), error.column()),
            message,
        ),
    };
    JsonError {
        position: Some(position),
        message,
    }
}

/// serde_json's message without its trailing ` at line L column C`.
pub(crate) fn bare_message(error: &serde_json::Error) -> String {
    let full = error.to_string();
    let suffix = format!(" at line {} column {}", error.line(), error.column());
    full.strip_suffix(&suffix).unwrap_or(&full).to_string()
}

/// `$.runs[0].results` from serde_path_to_error's segments. A key that is not a short
/// plain name is shown as `[…]`, never quoted: keys of user maps may hold anything.
pub(crate) fn json_path(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut out = String::from("$");
    for segment in path.iter() {
        match segment {
            Segment::Seq { index } => out.push_str(&format!("[{index}]")),
            Segment::Map { key } if is_identifier(key) => {
                out.push('.');
                out.push_str(key);
            }
            Segment::Map { key } if is_plain_key(key) => out.push_str(&format!("[\"{key}\"]")),
            Segment::Map { .. } => out.push_str("[…]"),
            Segment::Enum { variant } if is_plain_key(variant) => {
                out.push('.');
                out.push_str(variant);
            }
            Segment::Enum { .. } | Segment::Unknown => out.push_str(".?"),
        }
    }
    out
}

fn is_identifier(key: &str) -> bool {
    is_plain_key(key)
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$')
}

fn is_plain_key(key: &str) -> bool {
    !key.is_empty()
        && key.len() <= 64
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '@' | '-' | '$'))
}

/// A field that may be absent or `null`, either meaning its default (an empty array or map).
pub(crate) fn null_as_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// A loosely typed scalar, for fields tools fill inconsistently (`"7.5"` or `7.5`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub(crate) enum Scalar {
    Number(f64),
    Text(String),
    Other(IgnoredAny),
}

impl Default for Scalar {
    fn default() -> Self {
        Scalar::Other(IgnoredAny)
    }
}

impl Scalar {
    /// The value as a number, when it is one or a string holding one.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Scalar::Number(n) => Some(*n),
            Scalar::Text(s) => s.trim().parse().ok(),
            Scalar::Other(_) => None,
        }
        .filter(|n: &f64| n.is_finite())
    }

    /// The value as text, when it is a string.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Scalar::Text(s) => Some(s),
            _ => None,
        }
    }
}
