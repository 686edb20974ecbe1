//! SBOM export: a repository's (or a directory's) components as a CycloneDX 1.6 or an SPDX
//! 2.3 JSON document.
//!
//! Both writers share what is decided here: which components are written (one per package
//! URL and manifest, the first by scope when a source listed one twice), in which order
//! (package URL, then manifest), how a licence text is read (a valid SPDX expression, or
//! free text), the dependency edges the components' chains show, and the document's
//! identity. The serial number (CycloneDX) and namespace (SPDX) are derived from a SHA-256
//! hash of the document's content, so the same input always gives byte-identical output and a
//! different input a different identity.
//!
//! Dependency edges: the subject depends on every direct component (and on those whose
//! source does not say whether they are direct and show no chain); each chain
//! (`express@4.18.2 → body-parser@1.20.1 → qs@6.11.0`) adds the edges between its
//! consecutive packages, resolved among the components of the same manifest first.

mod cyclonedx;
mod spdx;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::str::FromStr;

use sha2::{Digest, Sha256};

use crate::model::Component;

/// The SBOM formats posture writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SbomFormat {
    /// CycloneDX 1.6 JSON.
    Cyclonedx,
    /// SPDX 2.3 JSON.
    Spdx,
}

impl SbomFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            SbomFormat::Cyclonedx => "cyclonedx",
            SbomFormat::Spdx => "spdx",
        }
    }
}

impl fmt::Display for SbomFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for SbomFormat {
    type Err = String;

    /// `cyclonedx` or `spdx` (case-insensitive), as the HTTP API's `?format=` gives it.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text.trim().to_ascii_lowercase().as_str() {
            "cyclonedx" => Ok(SbomFormat::Cyclonedx),
            "spdx" => Ok(SbomFormat::Spdx),
            _ => Err(format!(
                "unknown SBOM format `{text}` (expected cyclonedx or spdx)"
            )),
        }
    }
}

/// What the SBOM describes.
#[derive(Debug, Clone, Copy)]
pub struct Subject<'a> {
    /// `owner/name` of a repository, or a directory's name.
    pub name: &'a str,
    /// The commit id the components were read at.
    pub revision: &'a str,
    /// When the document is created; written as given (whole seconds, UTC).
    pub created: chrono::DateTime<chrono::Utc>,
}

/// The SBOM of `components` in `format`, as a JSON value (serialise it with `serde_json`).
pub fn write(format: SbomFormat, subject: &Subject, components: &[Component]) -> serde_json::Value {
    let inventory = Inventory::new(components);
    match format {
        SbomFormat::Cyclonedx => cyclonedx::document(subject, &inventory),
        SbomFormat::Spdx => spdx::document(subject, &inventory),
    }
}

/// The components to write, sorted and unique by package URL and manifest, with the
/// dependency edges between them (indexes into `components`).
struct Inventory<'c> {
    components: Vec<&'c Component>,
    /// Components the subject depends on directly.
    roots: BTreeSet<usize>,
    /// `(parent, child)` edges from the chains.
    edges: BTreeSet<(usize, usize)>,
}

impl<'c> Inventory<'c> {
    fn new(components: &'c [Component]) -> Inventory<'c> {
        let mut sorted: Vec<&Component> = components.iter().collect();
        sorted.sort_by(|a, b| {
            (&a.purl, &a.package.manifest, a.scope, a.direct, &a.chain).cmp(&(
                &b.purl,
                &b.package.manifest,
                b.scope,
                b.direct,
                &b.chain,
            ))
        });
        sorted.dedup_by(|b, a| a.purl == b.purl && a.package.manifest == b.package.manifest);

        // `name@version` (or the bare name) → components, per manifest and overall.
        let mut by_key: BTreeMap<(Option<&str>, String), usize> = BTreeMap::new();
        let mut by_name: BTreeMap<String, usize> = BTreeMap::new();
        for (index, component) in sorted.iter().enumerate() {
            let key = chain_key(component);
            by_key
                .entry((component.package.manifest.as_deref(), key.clone()))
                .or_insert(index);
            by_name.entry(key).or_insert(index);
        }
        let resolve = |manifest: Option<&str>, entry: &str| {
            by_key
                .get(&(manifest, entry.to_string()))
                .or_else(|| by_name.get(entry))
                .copied()
        };

        let mut roots = BTreeSet::new();
        let mut edges = BTreeSet::new();
        for (index, component) in sorted.iter().enumerate() {
            let manifest = component.package.manifest.as_deref();
            if component.chain.is_empty() {
                if component.direct != Some(false) {
                    roots.insert(index);
                }
                continue;
            }
            let mut links: Vec<Option<usize>> = component
                .chain
                .iter()
                .map(|entry| resolve(manifest, entry))
                .collect();
            // The chain ends at the component itself.
            if let Some(last) = links.last_mut() {
                *last = Some(index);
            }
            if let Some(Some(first)) = links.first() {
                roots.insert(*first);
            }
            for pair in links.windows(2) {
                if let [Some(parent), Some(child)] = pair
                    && parent != child
                {
                    edges.insert((*parent, *child));
                }
            }
        }
        Inventory {
            components: sorted,
            roots,
            edges,
        }
    }
}

/// How a chain names a component: `name@version`, or the bare name without a version.
fn chain_key(component: &Component) -> String {
    match component.package.version.as_deref() {
        Some(version) if !version.trim().is_empty() => {
            format!("{}@{}", component.package.name, version.trim())
        }
        _ => component.package.name.clone(),
    }
}

/// A licence text as a document can carry it.
#[derive(Debug, Clone, PartialEq, Eq)]
enum LicenseText {
    /// A valid SPDX licence expression (`MIT`, `Apache-2.0 OR MIT`, `LicenseRef-x`).
    Expression(String),
    /// Anything else (`Apache 2.0`, `SEE LICENSE IN LICENSE.md`).
    Free(String),
}

impl LicenseText {
    /// `None` for an absent, empty or `NOASSERTION`/`NONE` text. Expressions are checked
    /// strictly (SPDX licence list identifiers, case-sensitive; deprecated ones allowed),
    /// never guessed: `apache2` stays free text.
    fn read(text: Option<&str>) -> Option<LicenseText> {
        let text = text.map(str::trim).filter(|t| !t.is_empty())?;
        if matches!(text, "NOASSERTION" | "NONE") {
            return None;
        }
        Some(if is_spdx_expression(text) {
            LicenseText::Expression(text.to_string())
        } else {
            LicenseText::Free(text.to_string())
        })
    }
}

/// A valid SPDX licence expression: known identifiers (deprecated ones too) or
/// `LicenseRef-…`, joined by `AND`, `OR` and `WITH`.
pub fn is_spdx_expression(text: &str) -> bool {
    let mode = ::spdx::ParseMode {
        allow_deprecated: true,
        ..::spdx::ParseMode::STRICT
    };
    ::spdx::Expression::parse_mode(text, mode).is_ok()
}

/// The lowercase hex SHA-256 of `bytes`.
fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A UUID shaped as RFC 9562 version 5 (name-based) from the first 16 bytes of the SHA-256
/// of `content`: the same content, the same UUID.
fn content_uuid(content: &[u8]) -> String {
    let digest = Sha256::digest(content);
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    bytes[6] = (bytes[6] & 0x0f) | 0x50;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

/// The subject's creation time as both formats write it: RFC 3339, whole seconds, `Z`.
fn timestamp(subject: &Subject) -> String {
    subject
        .created
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// The tool as both formats name it.
const TOOL_NAME: &str = "posture";
const TOOL_VERSION: &str = env!("CARGO_PKG_VERSION");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn licence_texts_are_checked_not_guessed() {
        assert!(is_spdx_expression("MIT OR Apache-2.0"));
        assert!(is_spdx_expression(
            "GPL-2.0-only WITH Classpath-exception-2.0"
        ));
        assert!(is_spdx_expression("LicenseRef-acme"));
        assert!(is_spdx_expression("GPL-2.0"), "deprecated, still an id");
        assert!(!is_spdx_expression("apache2"));
        assert!(!is_spdx_expression("MIT/Apache-2.0"));
        assert!(!is_spdx_expression("mit"));
        assert_eq!(LicenseText::read(Some(" NOASSERTION ")), None);
        assert_eq!(
            LicenseText::read(Some("Apache 2.0")),
            Some(LicenseText::Free("Apache 2.0".into()))
        );
    }
}
