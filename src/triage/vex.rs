//! OpenVEX documents as triage-as-code, and VEX exports of triage decisions.
//!
//! **Import.** [`parse_openvex`] reads an OpenVEX 0.2.0 document committed to the repository
//! and turns the statements posture can act on into [`Statement`]s:
//!
//! | OpenVEX statement | posture triage |
//! |---|---|
//! | `not_affected` | dismissed, reason `not_affected`; comment: the justification and the impact statement |
//! | `affected` with an `action_statement` and a date | accepted until that date; comment: the action statement |
//! | `affected` without both, `fixed`, `under_investigation` | none: the statement is skipped |
//!
//! The date of an acceptance is the earliest `YYYY-MM-DD` written in the action statement
//! (`"upgrade by 2027-01-31"`; the earliest, so that a stray second date can only end an
//! acceptance sooner, never later), else the date of `action_statement_timestamp`.
//! `by` is the statement's `author` when it has one, else the document's; `at` the
//! statement's `timestamp`, else the document's.
//!
//! **Export.** [`export_openvex`] and [`export_cyclonedx`] write the decisions of a
//! repository as an OpenVEX 0.2.0 document and as a CycloneDX 1.6 VEX BOM. Pending
//! requests are not exported, nor records that name no vulnerability. The product of a
//! dependency finding is its package URL (with its version); that of any other finding is the
//! repository as `pkg:generic/<owner>/<name>`, with the finding's file as the purl's subpath
//! (`#src/app.py`), which [`Statement::matches`] reads back.

use std::collections::BTreeSet;

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use serde::Deserialize;
use serde::de::{DeserializeOwned, Deserializer};
use serde_json::{Map, Value, json};
use sha1::{Digest, Sha1};
use sha2::Sha256;

use super::{TriageRecord, short_id};
use crate::model::{DismissReason, Finding, Package, Triage, TriageSource, TriageState, Verdict};

/// The largest VEX document posture reads: 4 MiB.
pub const MAX_DOCUMENT_BYTES: usize = 4 * 1024 * 1024;

/// The JSON-LD context of OpenVEX 0.2.0, which exports name.
pub const OPENVEX_CONTEXT: &str = "https://openvex.dev/ns/v0.2.0";

/// The prefix every OpenVEX context shares (`https://openvex.dev/ns`, `…/ns/v0.2.0`).
const OPENVEX_CONTEXT_PREFIX: &str = "https://openvex.dev/ns";

/// Package URL types that name a repository rather than a dependency: a statement about one
/// (without a version) covers the findings that have no package — code, secrets, IaC.
const REPOSITORY_PURL_TYPES: [&str; 4] = ["generic", "github", "gitlab", "bitbucket"];

/// Package URL types whose namespace is a distribution (`pkg:deb/debian/openssl`), which
/// scanners leave out of the package's name.
const DISTRIBUTION_PURL_TYPES: [&str; 3] = ["deb", "apk", "rpm"];

/// One VEX statement: a vulnerability, the products it speaks of (package URLs; none means
/// every product of the repository) and the decision it amounts to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    /// The vulnerability id and its aliases, upper-case.
    pub vulnerabilities: Vec<String>,
    /// Package URLs of the products and their subcomponents, compared without their version
    /// unless the statement gives one.
    pub products: Vec<String>,
    pub triage: Triage,
}

impl Statement {
    /// Whether the statement covers `finding`: it names one of the finding's advisories (or
    /// its rule) and, when it lists products, one of them covers the finding:
    ///
    /// * a finding with a package is covered by a package URL of the same type, namespace
    ///   and name (compared as the ecosystem compares names; for `deb`, `apk` and `rpm` the
    ///   distribution namespace may be left out on either side) and, when the product gives a
    ///   version, that version only;
    /// * a finding without a package is covered by a repository's package URL
    ///   (`pkg:generic/…`, `pkg:github/…`, `pkg:gitlab/…`, `pkg:bitbucket/…`) without a
    ///   version; when it has a subpath (`#src/app.py`), only findings in that file or under
    ///   that directory.
    pub fn matches(&self, finding: &Finding) -> bool {
        let named = finding.advisory_ids().any(|id| {
            self.vulnerabilities
                .iter()
                .any(|v| v.eq_ignore_ascii_case(&id))
        });
        named && (self.products.is_empty() || self.products.iter().any(|p| covers(p, finding)))
    }
}

/// Whether package URL `product` covers the finding (see [`Statement::matches`]).
fn covers(product: &str, finding: &Finding) -> bool {
    let (Some(product_type), Some(wanted)) = (purl_type(product), Package::from_purl(product))
    else {
        return false;
    };
    let Some(package) = &finding.package else {
        return REPOSITORY_PURL_TYPES.contains(&product_type.as_str())
            && wanted.version.is_none()
            && match purl_subpath(product) {
                None => true,
                Some(subpath) => finding.path().is_some_and(|path| {
                    let path = path.trim_start_matches("./").trim_start_matches('/');
                    path == subpath
                        || path
                            .strip_prefix(subpath.as_str())
                            .is_some_and(|rest| rest.starts_with('/'))
                }),
            };
    };
    let Some(found_purl) = package.purl() else {
        return false;
    };
    let (Some(found_type), Some(found)) = (purl_type(&found_purl), Package::from_purl(&found_purl))
    else {
        return false;
    };
    if found_type != product_type {
        return false;
    }
    let ecosystem = &wanted.ecosystem;
    let wanted_name = ecosystem.normalize_name(&wanted.name);
    let found_name = ecosystem.normalize_name(&found.name);
    let name_ok = wanted_name == found_name
        || (DISTRIBUTION_PURL_TYPES.contains(&product_type.as_str())
            && (!wanted_name.contains('/') || !found_name.contains('/'))
            && wanted_name.rsplit('/').next() == found_name.rsplit('/').next());
    let version_ok = wanted
        .version
        .as_deref()
        .is_none_or(|version| package.version.as_deref().map(str::trim) == Some(version.trim()));
    name_ok && version_ok
}

/// The type of a package URL, lower-cased (`pkg:NPM/x` → `npm`).
fn purl_type(purl: &str) -> Option<String> {
    let rest = purl.trim().strip_prefix("pkg:")?.trim_start_matches('/');
    let purl_type = rest.split(['/', '@', '?', '#']).next()?;
    (!purl_type.is_empty()).then(|| purl_type.to_ascii_lowercase())
}

/// The subpath of a package URL (`…#src/app.py` → `src/app.py`), decoded, without empty,
/// `.` or `..` segments.
fn purl_subpath(purl: &str) -> Option<String> {
    let (_, subpath) = purl.split_once('#')?;
    let segments: Vec<String> = subpath
        .split('/')
        .map(|s| {
            percent_encoding::percent_decode_str(s)
                .decode_utf8_lossy()
                .into_owned()
        })
        .filter(|s| !s.is_empty() && s != "." && s != "..")
        .collect();
    (!segments.is_empty()).then(|| segments.join("/"))
}

/// Why a VEX document could not be read. Messages name the file, the position (a JSON path
/// such as `$.statements[2].status`, or a line and column) and what was expected; they never
/// quote the document's values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VexError {
    #[error("{file}: the VEX document is larger than the limit of {limit_mib} MiB")]
    TooLarge { file: String, limit_mib: usize },
    #[error("{file}: not valid JSON at {position}: {message}")]
    Syntax {
        file: String,
        /// `line L column C`.
        position: String,
        message: String,
    },
    #[error("{file}: at {path}: {message}")]
    Shape {
        file: String,
        /// The JSON path of the offending value, `$` for the document.
        path: String,
        message: String,
    },
}

impl VexError {
    /// The file the error is about.
    pub fn file(&self) -> &str {
        match self {
            VexError::TooLarge { file, .. }
            | VexError::Syntax { file, .. }
            | VexError::Shape { file, .. } => file,
        }
    }

    fn shape(file: &str, path: impl Into<String>, message: impl Into<String>) -> VexError {
        VexError::Shape {
            file: file.to_string(),
            path: path.into(),
            message: message.into(),
        }
    }
}

/// Reads an OpenVEX 0.2.0 document (`file` names it in errors and in each decision's
/// source) into the statements posture acts on, in document order: see the module
/// documentation for the mapping. A statement whose products include none posture can
/// identify by package URL is skipped, as it can cover nothing posture reports.
pub fn parse_openvex(file: &str, bytes: &[u8]) -> Result<Vec<Statement>, VexError> {
    if bytes.len() > MAX_DOCUMENT_BYTES {
        return Err(VexError::TooLarge {
            file: file.to_string(),
            limit_mib: MAX_DOCUMENT_BYTES / (1024 * 1024),
        });
    }
    let Obj(document): Obj<RawDocument> = from_slice(file, bytes)?;
    let mut statements = Vec::new();
    for (index, raw) in document.statements.iter().enumerate() {
        let path = format!("$.statements[{index}]");
        if let Some(statement) = statement(file, &path, &document, raw)? {
            statements.push(statement);
        }
    }
    Ok(statements)
}

fn statement(
    file: &str,
    path: &str,
    document: &RawDocument,
    raw: &RawStatement,
) -> Result<Option<Statement>, VexError> {
    let vulnerabilities = raw.vulnerability.ids();
    let named = [&raw.vulnerability.name, &raw.vulnerability.id]
        .into_iter()
        .any(|id| non_empty(id.as_deref()).is_some());
    if !named || vulnerabilities.is_empty() {
        return Err(VexError::shape(
            file,
            format!("{path}.vulnerability"),
            "expected a non-empty `name` or `@id`",
        ));
    }
    let mut products: Vec<String> = Vec::new();
    for purl in raw.products.iter().flat_map(|product| product.purls()) {
        if !products.contains(&purl) {
            products.push(purl);
        }
    }
    if !raw.products.is_empty() && products.is_empty() {
        return Ok(None);
    }
    let (verdict, comment) = match raw.status {
        Status::NotAffected => {
            let justification = raw.justification.map(Justification::as_str);
            let impact = non_empty(raw.impact_statement.as_deref());
            let comment = match (justification, impact) {
                (Some(j), Some(i)) => Some(format!("{j}: {i}")),
                (Some(j), None) => Some(j.to_string()),
                (None, Some(i)) => Some(i.to_string()),
                (None, None) => None,
            };
            let reason = DismissReason::NotAffected;
            (Verdict::Dismiss { reason }, comment)
        }
        Status::Affected => {
            let Some(action) = non_empty(raw.action_statement.as_deref()) else {
                return Ok(None);
            };
            let until = earliest_date(action)
                .or_else(|| raw.action_statement_timestamp.map(|t| t.date_naive()));
            let Some(until) = until else {
                return Ok(None);
            };
            (Verdict::Accept { until }, Some(action.to_string()))
        }
        Status::Fixed | Status::UnderInvestigation => return Ok(None),
    };
    let by = non_empty(raw.author.as_deref())
        .unwrap_or(document.author.trim())
        .to_string();
    Ok(Some(Statement {
        vulnerabilities,
        products,
        triage: Triage {
            state: verdict.state(),
            verdict,
            by,
            at: raw.timestamp.unwrap_or(document.timestamp),
            comment,
            source: TriageSource::Vex {
                document: file.to_string(),
            },
        },
    }))
}

fn non_empty(text: Option<&str>) -> Option<&str> {
    text.map(str::trim).filter(|t| !t.is_empty())
}

/// The earliest valid `YYYY-MM-DD` date written in `text`, not part of a longer number.
fn earliest_date(text: &str) -> Option<NaiveDate> {
    let bytes = text.as_bytes();
    let digit = |i: usize| bytes.get(i).is_some_and(u8::is_ascii_digit);
    let shape = |i: usize| {
        (0..10).all(|k| {
            if k == 4 || k == 7 {
                bytes.get(i + k) == Some(&b'-')
            } else {
                digit(i + k)
            }
        })
    };
    (0..bytes.len())
        .filter(|&i| shape(i) && (i == 0 || !digit(i - 1)) && !digit(i + 10))
        .filter_map(|i| text.get(i..i + 10))
        .filter_map(|date| NaiveDate::parse_from_str(date, "%Y-%m-%d").ok())
        .min()
}

// ---------------------------------------------------------------------------------------
// The OpenVEX document as read.

/// A JSON object read as `T`: serde's derived structs would also take an array, and
/// answer it with errors about positions the document does not have.
#[derive(Debug)]
struct Obj<T>(T);

impl<T> std::ops::Deref for Obj<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Obj<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct ObjectVisitor<T>(std::marker::PhantomData<T>);

        impl<'de, T: Deserialize<'de>> serde::de::Visitor<'de> for ObjectVisitor<T> {
            type Value = T;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an object")
            }

            fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
                T::deserialize(serde::de::value::MapAccessDeserializer::new(map))
            }
        }

        d.deserialize_map(ObjectVisitor(std::marker::PhantomData))
            .map(Obj)
    }
}

#[derive(Debug, Deserialize)]
struct RawDocument {
    #[serde(rename = "@context", deserialize_with = "openvex_context")]
    _context: (),
    author: String,
    #[serde(deserialize_with = "rfc3339")]
    timestamp: DateTime<Utc>,
    statements: Vec<Obj<RawStatement>>,
}

#[derive(Debug, Deserialize)]
struct RawStatement {
    vulnerability: Obj<RawVulnerability>,
    #[serde(default, deserialize_with = "null_as_default")]
    products: Vec<Obj<RawComponent>>,
    status: Status,
    #[serde(default)]
    justification: Option<Justification>,
    #[serde(default)]
    impact_statement: Option<String>,
    #[serde(default)]
    action_statement: Option<String>,
    #[serde(default, deserialize_with = "optional_rfc3339")]
    action_statement_timestamp: Option<DateTime<Utc>>,
    #[serde(default, deserialize_with = "optional_rfc3339")]
    timestamp: Option<DateTime<Utc>>,
    /// Not in the 0.2.0 schema, but written by some tools: the statement's own author.
    #[serde(default)]
    author: Option<String>,
}

#[derive(Debug, Deserialize)]
struct RawVulnerability {
    #[serde(rename = "@id", default)]
    id: Option<String>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    aliases: Vec<String>,
}

impl RawVulnerability {
    /// The name, the last segment of an `@id` URL (`…/detail/CVE-2019-17571`) and the
    /// aliases, upper-case, without repeats.
    fn ids(&self) -> Vec<String> {
        let from_iri = self.id.as_deref().and_then(|iri| {
            let iri = iri.trim().trim_end_matches('/');
            let last = iri.rsplit(['/', ':']).next()?;
            let last = last.split(['?', '#']).next()?;
            Some(last)
        });
        let mut ids: Vec<String> = Vec::new();
        let candidates = self
            .name
            .as_deref()
            .into_iter()
            .chain(from_iri)
            .chain(self.aliases.iter().map(String::as_str));
        for id in candidates.map(str::trim).filter(|id| !id.is_empty()) {
            let id = id.to_ascii_uppercase();
            if !ids.contains(&id) {
                ids.push(id);
            }
        }
        ids
    }
}

#[derive(Debug, Deserialize)]
struct RawComponent {
    #[serde(rename = "@id", default)]
    id: Option<String>,
    #[serde(default)]
    identifiers: Option<Obj<RawIdentifiers>>,
    #[serde(default, deserialize_with = "null_as_default")]
    subcomponents: Vec<Obj<RawSubcomponent>>,
}

impl RawComponent {
    /// The package URLs of the product and of its subcomponents.
    fn purls(&self) -> Vec<String> {
        let mut purls = component_purls(self.id.as_deref(), self.identifiers.as_deref());
        for sub in &self.subcomponents {
            purls.extend(component_purls(
                sub.id.as_deref(),
                sub.identifiers.as_deref(),
            ));
        }
        purls
    }
}

#[derive(Debug, Deserialize)]
struct RawSubcomponent {
    #[serde(rename = "@id", default)]
    id: Option<String>,
    #[serde(default)]
    identifiers: Option<Obj<RawIdentifiers>>,
}

#[derive(Debug, Deserialize)]
struct RawIdentifiers {
    #[serde(default)]
    purl: Option<String>,
}

/// The `@id` when it is a package URL, and `identifiers.purl`: those posture can read.
fn component_purls(id: Option<&str>, identifiers: Option<&RawIdentifiers>) -> Vec<String> {
    id.into_iter()
        .chain(identifiers.and_then(|i| i.purl.as_deref()))
        .map(str::trim)
        .filter(|purl| purl.starts_with("pkg:") && Package::from_purl(purl).is_some())
        .map(str::to_string)
        .collect()
}

#[derive(Debug, Clone, Copy)]
enum Status {
    NotAffected,
    Affected,
    Fixed,
    UnderInvestigation,
}

impl<'de> Deserialize<'de> for Status {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        label(
            d,
            &[
                ("not_affected", Status::NotAffected),
                ("affected", Status::Affected),
                ("fixed", Status::Fixed),
                ("under_investigation", Status::UnderInvestigation),
            ],
        )
    }
}

/// OpenVEX's status justifications.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Justification {
    ComponentNotPresent,
    VulnerableCodeNotPresent,
    VulnerableCodeNotInExecutePath,
    VulnerableCodeCannotBeControlledByAdversary,
    InlineMitigationsAlreadyExist,
}

impl Justification {
    fn as_str(self) -> &'static str {
        match self {
            Justification::ComponentNotPresent => "component_not_present",
            Justification::VulnerableCodeNotPresent => "vulnerable_code_not_present",
            Justification::VulnerableCodeNotInExecutePath => "vulnerable_code_not_in_execute_path",
            Justification::VulnerableCodeCannotBeControlledByAdversary => {
                "vulnerable_code_cannot_be_controlled_by_adversary"
            }
            Justification::InlineMitigationsAlreadyExist => "inline_mitigations_already_exist",
        }
    }
}

impl Justification {
    const ALL: [Justification; 5] = [
        Justification::ComponentNotPresent,
        Justification::VulnerableCodeNotPresent,
        Justification::VulnerableCodeNotInExecutePath,
        Justification::VulnerableCodeCannotBeControlledByAdversary,
        Justification::InlineMitigationsAlreadyExist,
    ];
}

impl<'de> Deserialize<'de> for Justification {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let labels = Justification::ALL.map(|j| (j.as_str(), j));
        label(d, &labels)
    }
}

/// One of a fixed set of labels, read from a string. (serde's derived enums would answer a
/// number with a syntax error, and an unknown label by quoting it.)
fn label<'de, D: Deserializer<'de>, T: Copy>(d: D, labels: &[(&str, T)]) -> Result<T, D::Error> {
    let text = String::deserialize(d)?;
    match labels.iter().find(|(name, _)| *name == text) {
        Some((_, value)) => Ok(*value),
        None => {
            let names: Vec<String> = labels.iter().map(|(name, _)| format!("`{name}`")).collect();
            Err(serde::de::Error::custom(format!(
                "expected one of {}",
                names.join(", ")
            )))
        }
    }
}

fn openvex_context<'de, D: Deserializer<'de>>(d: D) -> Result<(), D::Error> {
    let context = String::deserialize(d)?;
    if context.trim().starts_with(OPENVEX_CONTEXT_PREFIX) {
        Ok(())
    } else {
        Err(serde::de::Error::custom(format!(
            "expected an OpenVEX context ({OPENVEX_CONTEXT})"
        )))
    }
}

fn rfc3339<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
    let text = String::deserialize(d)?;
    DateTime::parse_from_rfc3339(text.trim())
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| serde::de::Error::custom("expected an RFC 3339 date-time"))
}

fn optional_rfc3339<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DateTime<Utc>>, D::Error> {
    #[derive(Deserialize)]
    struct Wrapped(#[serde(deserialize_with = "rfc3339")] DateTime<Utc>);
    Ok(Option::<Wrapped>::deserialize(d)?.map(|Wrapped(t)| t))
}

fn null_as_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// Deserialises `T` from the whole of `bytes` (a leading byte order mark allowed), with
/// errors that name a position and the expected type, never a value.
fn from_slice<T: DeserializeOwned>(file: &str, bytes: &[u8]) -> Result<T, VexError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = crate::ingest::json::json_path(e.path());
        json_error(file, e.into_inner(), path)
    })?;
    de.end()
        .map_err(|e| json_error(file, e, String::from("$")))?;
    Ok(value)
}

fn json_error(file: &str, error: serde_json::Error, path: String) -> VexError {
    match error.classify() {
        serde_json::error::Category::Data => VexError::shape(file, path, describe(&error)),
        _ => VexError::Syntax {
            file: file.to_string(),
            position: format!("line {} column {}", error.line(), error.column()),
            // serde_json's syntax messages ("expected value", "EOF while parsing a string",
            // "trailing characters", …) name no part of the input.
            message: bare_message(&error),
        },
    }
}

/// serde_json's message without its trailing ` at line L column C`.
fn bare_message(error: &serde_json::Error) -> String {
    let full = error.to_string();
    let suffix = format!(" at line {} column {}", error.line(), error.column());
    full.strip_suffix(&suffix).unwrap_or(&full).to_string()
}

/// A shape error as "expected X, found Y", without the value serde's message quotes.
fn describe(error: &serde_json::Error) -> String {
    crate::redact::without_values(&bare_message(error))
}

// ---------------------------------------------------------------------------------------
// Export.

/// The decisions of `repository` as an OpenVEX 0.2.0 document: one statement per record
/// that is not pending and names a vulnerability (its first advisory id, the others as
/// aliases; else, for code findings, its rule). `@id` is a `urn:uuid:` derived from the
/// repository and a hash of the statements, so the same decisions give the same id.
///
/// | posture decision | OpenVEX status | justification / action statement |
/// |---|---|---|
/// | dismissed `false_positive` | `not_affected` | `vulnerable_code_not_present`: the scanner flagged code that is not vulnerable |
/// | dismissed `used_in_tests` | `not_affected` | `vulnerable_code_not_in_execute_path`: test code does not run in the product |
/// | dismissed `not_affected` | `not_affected` | `vulnerable_code_not_in_execute_path`: the component is present (the scanner found it) and the person said the product is unaffected, the usual case being that the vulnerable code is never called; `component_not_present` would contradict the finding and the other labels claim more (absent code, attacker control, mitigations) |
/// | dismissed `mitigated` | `not_affected` | `inline_mitigations_already_exist` |
/// | dismissed `wont_fix` | `affected` | action statement `will not fix: <comment>` (no `action_statement_timestamp`, so that re-importing it does not turn it into an acceptance that expired the day it was made) |
/// | accepted until a date | `affected` | action statement `risk accepted until YYYY-MM-DD: <comment>`, `action_statement_timestamp` the decision's time |
///
/// The comment of a dismissal is the `impact_statement`; `status_notes` names the verdict,
/// who decided and the finding's short id. A document without statements (no exportable
/// record) is returned as such, though OpenVEX asks for at least one.
pub fn export_openvex(repository: &str, records: &[TriageRecord], now: DateTime<Utc>) -> Value {
    let mut statements: Vec<Value> = Vec::new();
    for record in records {
        if let Some(statement) = openvex_statement(repository, record)
            && !statements.contains(&statement)
        {
            statements.push(statement);
        }
    }
    let content = Value::Array(statements.clone());
    let id = urn_uuid(&format!(
        "posture:openvex:{repository}:{}",
        content_hash(&content)
    ));
    json!({
        "@context": OPENVEX_CONTEXT,
        "@id": id,
        "author": "posture",
        "role": "Security review bot",
        "timestamp": timestamp(now),
        "version": 1,
        "tooling": format!("posture {}", env!("CARGO_PKG_VERSION")),
        "statements": statements,
    })
}

fn openvex_statement(repository: &str, record: &TriageRecord) -> Option<Value> {
    let triage = &record.triage;
    if triage.state == TriageState::Pending {
        return None;
    }
    let (name, aliases) = vulnerability(record)?;
    let mut vulnerability = Map::new();
    vulnerability.insert("name".into(), name.into());
    if !aliases.is_empty() {
        vulnerability.insert("aliases".into(), aliases.into());
    }
    let mut statement = Map::new();
    statement.insert("vulnerability".into(), vulnerability.into());
    statement.insert("timestamp".into(), timestamp(triage.at).into());
    statement.insert(
        "products".into(),
        json!([{ "@id": product(repository, record) }]),
    );
    let comment = non_empty(triage.comment.as_deref());
    match triage.verdict {
        Verdict::Dismiss { reason } => match openvex_justification(reason) {
            Some(justification) => {
                statement.insert("status".into(), "not_affected".into());
                statement.insert("justification".into(), justification.as_str().into());
                if let Some(comment) = comment {
                    statement.insert("impact_statement".into(), comment.into());
                }
            }
            None => {
                statement.insert("status".into(), "affected".into());
                statement.insert(
                    "action_statement".into(),
                    with_comment("will not fix", comment).into(),
                );
            }
        },
        Verdict::Accept { until } => {
            statement.insert("status".into(), "affected".into());
            statement.insert(
                "action_statement".into(),
                with_comment(&format!("risk accepted until {until}"), comment).into(),
            );
            statement.insert(
                "action_statement_timestamp".into(),
                timestamp(triage.at).into(),
            );
        }
    }
    statement.insert("status_notes".into(), provenance(record).into());
    Some(statement.into())
}

/// The OpenVEX justification of a dismissal; `None` for `wont_fix`, which is no claim that
/// the product is unaffected (it is exported as `affected`).
fn openvex_justification(reason: DismissReason) -> Option<Justification> {
    match reason {
        DismissReason::FalsePositive => Some(Justification::VulnerableCodeNotPresent),
        DismissReason::UsedInTests | DismissReason::NotAffected => {
            Some(Justification::VulnerableCodeNotInExecutePath)
        }
        DismissReason::Mitigated => Some(Justification::InlineMitigationsAlreadyExist),
        DismissReason::WontFix => None,
    }
}

/// The decisions of `repository` as a CycloneDX 1.6 VEX BOM: the repository as
/// `metadata.component`, a component per package URL (or per file of a code finding) and a
/// vulnerability per exported record (as for [`export_openvex`]) whose `affects` refers to
/// it. `serialNumber` is a `urn:uuid:` derived from the repository, `now` and a hash of the
/// content, so every export is its own BOM and the same inputs give the same output.
///
/// | posture decision | `analysis.state` | `justification` / `response` |
/// |---|---|---|
/// | dismissed `false_positive` | `false_positive` | — |
/// | dismissed `used_in_tests` | `not_affected` | `code_not_reachable` |
/// | dismissed `not_affected` | `not_affected` | `code_not_reachable` (as in OpenVEX) |
/// | dismissed `mitigated` | `not_affected` | `protected_by_mitigating_control` |
/// | dismissed `wont_fix` | `exploitable` | response `will_not_fix` |
/// | accepted until a date | `exploitable` | — (the date is in `detail`) |
///
/// `detail` gives the verdict, who decided and the comment; `firstIssued` and
/// `lastUpdated` the decision's time.
pub fn export_cyclonedx(repository: &str, records: &[TriageRecord], now: DateTime<Utc>) -> Value {
    let repository_ref = repository_purl(repository, None);
    let mut components: Vec<Value> = Vec::new();
    let mut refs: BTreeSet<String> = BTreeSet::from([repository_ref.clone()]);
    let mut vulnerabilities: Vec<Value> = Vec::new();
    for record in records {
        if record.triage.state == TriageState::Pending {
            continue;
        }
        let Some((id, aliases)) = vulnerability(record) else {
            continue;
        };
        let product = product(repository, record);
        if refs.insert(product.clone()) {
            components.push(cyclonedx_component(&product, record));
        }
        let vulnerability = cyclonedx_vulnerability(&id, &aliases, &product, record);
        if !vulnerabilities.contains(&vulnerability) {
            vulnerabilities.push(vulnerability);
        }
    }
    let content = json!([components, vulnerabilities]);
    let serial = urn_uuid(&format!(
        "posture:cyclonedx:{repository}:{}:{}",
        timestamp(now),
        content_hash(&content)
    ));
    json!({
        "$schema": "http://cyclonedx.org/schema/bom-1.6.schema.json",
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "serialNumber": serial,
        "version": 1,
        "metadata": {
            "timestamp": timestamp(now),
            "tools": {
                "components": [{
                    "type": "application",
                    "name": "posture",
                    "version": env!("CARGO_PKG_VERSION"),
                }],
            },
            "component": {
                "type": "application",
                "bom-ref": repository_ref,
                "name": repository,
                "purl": repository_ref,
            },
        },
        "components": components,
        "vulnerabilities": vulnerabilities,
    })
}

fn cyclonedx_component(product: &str, record: &TriageRecord) -> Value {
    match (&record.subject.purl, Package::from_purl(product)) {
        (Some(_), Some(package)) => {
            let mut component = json!({
                "type": "library",
                "bom-ref": product,
                "name": package.name,
                "purl": product,
            });
            if let Some(version) = package.version {
                component["version"] = version.into();
            }
            component
        }
        _ => json!({
            "type": "file",
            "bom-ref": product,
            "name": purl_subpath(product).unwrap_or_else(|| product.to_string()),
        }),
    }
}

fn cyclonedx_vulnerability(
    id: &str,
    aliases: &[String],
    product: &str,
    record: &TriageRecord,
) -> Value {
    let triage = &record.triage;
    let mut analysis = Map::new();
    let (state, justification, response) = match triage.verdict {
        Verdict::Dismiss { reason } => match reason {
            DismissReason::FalsePositive => ("false_positive", None, None),
            DismissReason::UsedInTests | DismissReason::NotAffected => {
                ("not_affected", Some("code_not_reachable"), None)
            }
            DismissReason::Mitigated => (
                "not_affected",
                Some("protected_by_mitigating_control"),
                None,
            ),
            DismissReason::WontFix => ("exploitable", None, Some("will_not_fix")),
        },
        Verdict::Accept { .. } => ("exploitable", None, None),
    };
    analysis.insert("state".into(), state.into());
    if let Some(justification) = justification {
        analysis.insert("justification".into(), justification.into());
    }
    if let Some(response) = response {
        analysis.insert("response".into(), json!([response]));
    }
    analysis.insert("detail".into(), provenance(record).into());
    analysis.insert("firstIssued".into(), timestamp(triage.at).into());
    analysis.insert("lastUpdated".into(), timestamp(triage.at).into());

    let mut vulnerability = Map::new();
    vulnerability.insert("id".into(), id.into());
    if let Some(source) = advisory_source(id) {
        vulnerability.insert("source".into(), source);
    }
    let references: Vec<Value> = aliases
        .iter()
        .filter_map(|alias| {
            advisory_source(alias).map(|source| json!({ "id": alias, "source": source }))
        })
        .collect();
    if !references.is_empty() {
        vulnerability.insert("references".into(), references.into());
    }
    vulnerability.insert("analysis".into(), analysis.into());
    vulnerability.insert("affects".into(), json!([{ "ref": product }]));
    vulnerability.into()
}

/// The database that publishes an advisory id, for CycloneDX's `source`.
fn advisory_source(id: &str) -> Option<Value> {
    if !id
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_' | ':'))
    {
        return None;
    }
    let upper = id.to_ascii_uppercase();
    let (name, url) = if upper.starts_with("CVE-") {
        ("NVD", format!("https://nvd.nist.gov/vuln/detail/{id}"))
    } else if upper.starts_with("GHSA-") {
        (
            "GitHub Advisories",
            format!("https://github.com/advisories/{id}"),
        )
    } else if ["RUSTSEC-", "PYSEC-", "GO-", "OSV-", "GSD-", "MAL-"]
        .iter()
        .any(|prefix| upper.starts_with(prefix))
    {
        ("OSV", format!("https://osv.dev/vulnerability/{id}"))
    } else {
        return None;
    };
    Some(json!({ "name": name, "url": url }))
}

/// The vulnerability a record is about: its first advisory id and the others as aliases,
/// else its rule. `None` when it names none.
fn vulnerability(record: &TriageRecord) -> Option<(String, Vec<String>)> {
    let subject = &record.subject;
    let mut ids: Vec<String> = Vec::new();
    for id in subject.advisories.iter().map(|id| id.trim()) {
        if !id.is_empty() && !ids.iter().any(|known| known.eq_ignore_ascii_case(id)) {
            ids.push(id.to_string());
        }
    }
    if ids.is_empty() {
        let rule = subject.rule.trim();
        if rule.is_empty() {
            return None;
        }
        ids.push(rule.to_string());
    }
    let name = ids.remove(0);
    Some((name, ids))
}

/// The product a record is about: its package URL, else the repository's with the file as
/// subpath.
fn product(repository: &str, record: &TriageRecord) -> String {
    record
        .subject
        .purl
        .as_deref()
        .map(str::trim)
        .filter(|purl| purl.starts_with("pkg:"))
        .map(str::to_string)
        .unwrap_or_else(|| repository_purl(repository, record.subject.path.as_deref()))
}

/// `pkg:generic/<owner>/<name>` for a repository (`group/sub/name` on GitLab), with
/// `#<path>` for a file in it; every segment percent-encoded.
fn repository_purl(repository: &str, path: Option<&str>) -> String {
    const SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'.')
        .remove(b'-')
        .remove(b'_')
        .remove(b'~');
    let encode = |segments: &str| -> Vec<String> {
        segments
            .split('/')
            .map(str::trim)
            .filter(|s| !s.is_empty() && *s != "." && *s != "..")
            .map(|s| percent_encoding::utf8_percent_encode(s, SEGMENT).to_string())
            .collect()
    };
    let mut name = encode(repository);
    if name.is_empty() {
        name.push("repository".to_string());
    }
    let mut purl = format!("pkg:generic/{}", name.join("/"));
    if let Some(path) = path {
        let path = encode(path);
        if !path.is_empty() {
            purl.push('#');
            purl.push_str(&path.join("/"));
        }
    }
    purl
}

/// `dismissed as used_in_tests by alice (P-1a2b3c): comment`.
fn provenance(record: &TriageRecord) -> String {
    let triage = &record.triage;
    let by = triage.by.trim();
    let by = if by.is_empty() { "someone" } else { by };
    with_comment(
        &format!(
            "{} by {by} ({})",
            triage.verdict,
            short_id(&record.finding_id)
        ),
        non_empty(triage.comment.as_deref()),
    )
}

fn with_comment(text: &str, comment: Option<&str>) -> String {
    match comment {
        Some(comment) => format!("{text}: {comment}"),
        None => text.to_string(),
    }
}

fn timestamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

fn content_hash(content: &Value) -> String {
    let bytes = serde_json::to_vec(content).unwrap_or_default();
    hex::encode(Sha256::digest(&bytes))
}

/// `urn:uuid:` and a name-based (version 5, RFC 4122) UUID of `name` in the URL namespace.
fn urn_uuid(name: &str) -> String {
    const URL_NAMESPACE: [u8; 16] = [
        0x6b, 0xa7, 0xb8, 0x11, 0x9d, 0xad, 0x11, 0xd1, 0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30,
        0xc8,
    ];
    let mut hasher = Sha1::new();
    hasher.update(URL_NAMESPACE);
    hasher.update(name.as_bytes());
    let digest = hasher.finalize();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    bytes[6] = (bytes[6] & 0x0f) | 0x50;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex = hex::encode(bytes);
    format!(
        "urn:uuid:{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Ecosystem, FindingId, Kind, Location};
    use crate::triage::Subject;

    fn finding(rule: &str, package: Option<&str>) -> Finding {
        let mut finding = Finding::new(Kind::Sca, "test", rule);
        finding.package = package.and_then(Package::from_purl).map(Box::new);
        finding
    }

    fn statement(products: &[&str]) -> Statement {
        Statement {
            vulnerabilities: vec!["CVE-2024-1".into()],
            products: products.iter().map(|p| p.to_string()).collect(),
            triage: Triage {
                state: TriageState::Dismissed,
                verdict: Verdict::Dismiss {
                    reason: DismissReason::NotAffected,
                },
                by: "alice".into(),
                at: "2026-01-01T00:00:00Z".parse().unwrap(),
                comment: None,
                source: TriageSource::Vex {
                    document: "vex.json".into(),
                },
            },
        }
    }

    #[test]
    fn products_compare_type_namespace_name_and_a_pinned_version() {
        let lodash = finding("cve-2024-1", Some("pkg:npm/lodash@4.17.20"));
        assert!(statement(&[]).matches(&lodash));
        assert!(statement(&["pkg:npm/lodash"]).matches(&lodash));
        assert!(statement(&["pkg:npm/lodash@4.17.20"]).matches(&lodash));
        assert!(!statement(&["pkg:npm/lodash@4.17.21"]).matches(&lodash));
        assert!(!statement(&["pkg:pypi/lodash"]).matches(&lodash));
        assert!(!statement(&["pkg:npm/%40evil/lodash"]).matches(&lodash));
        assert!(!statement(&["pkg:npm/not-lodash"]).matches(&lodash));
        assert!(!statement(&["lodash"]).matches(&lodash));
        assert!(
            !statement(&["pkg:npm/lodash"]).matches(&finding("CVE-2024-2", Some("pkg:npm/lodash")))
        );

        let scoped = finding("CVE-2024-1", Some("pkg:npm/%40babel/core@7.0.0"));
        assert!(statement(&["pkg:npm/%40babel/core"]).matches(&scoped));
        assert!(!statement(&["pkg:npm/core"]).matches(&scoped));

        let jinja = finding("CVE-2024-1", Some("pkg:pypi/Jinja2@2.10"));
        assert!(statement(&["pkg:pypi/jinja2@2.10"]).matches(&jinja));

        let maven = finding(
            "CVE-2024-1",
            Some("pkg:maven/org.apache.cxf/cxf-core@3.4.6"),
        );
        assert!(statement(&["pkg:maven/org.apache.cxf/cxf-core?type=jar"]).matches(&maven));
        assert!(!statement(&["pkg:maven/org.other/cxf-core"]).matches(&maven));

        let mut openssl = finding("CVE-2024-1", None);
        openssl.package = Some(Box::new(Package {
            ecosystem: Ecosystem::Other("Debian:11".into()),
            name: "openssl".into(),
            version: Some("1.1.1n-0+deb11u3".into()),
            manifest: None,
        }));
        assert!(
            statement(&["pkg:deb/debian/openssl@1.1.1n-0%2Bdeb11u3?arch=amd64"]).matches(&openssl)
        );
        assert!(!statement(&["pkg:apk/alpine/openssl"]).matches(&openssl));
    }

    #[test]
    fn findings_without_package_are_covered_by_the_repository() {
        let mut code = Finding::new(Kind::Sast, "semgrep", "python.eval");
        code.location = Some(Location::new("src/app/views.py"));
        let rule = |products: &[&str]| Statement {
            vulnerabilities: vec!["PYTHON.EVAL".into()],
            ..statement(products)
        };
        assert!(rule(&[]).matches(&code));
        assert!(rule(&["pkg:generic/acme/app"]).matches(&code));
        assert!(rule(&["pkg:github/acme/app#src/app/views.py"]).matches(&code));
        assert!(rule(&["pkg:generic/acme/app#src/app"]).matches(&code));
        assert!(!rule(&["pkg:generic/acme/app#src/ap"]).matches(&code));
        assert!(!rule(&["pkg:generic/acme/app#src/other.py"]).matches(&code));
        assert!(!rule(&["pkg:generic/acme/app@1.0"]).matches(&code));
        assert!(!rule(&["pkg:npm/lodash"]).matches(&code));
        // The repository does not cover a dependency.
        let lodash = finding("CVE-2024-1", Some("pkg:npm/lodash@4.17.20"));
        assert!(!statement(&["pkg:generic/acme/app"]).matches(&lodash));
    }

    #[test]
    fn the_earliest_well_formed_date_is_the_deadline() {
        let date = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        assert_eq!(
            earliest_date("upgrade by 2027-01-31"),
            Some(date("2027-01-31"))
        );
        assert_eq!(
            earliest_date("by 2027-03-01, decided 2026-12-01"),
            Some(date("2026-12-01"))
        );
        assert_eq!(
            earliest_date("2027-02-30 or 12027-01-01 or 2027-01-011"),
            None
        );
        assert_eq!(earliest_date("é2027-01-31é"), Some(date("2027-01-31")));
        assert_eq!(earliest_date("2027-01-3"), None);
        assert_eq!(earliest_date(""), None);
    }

    #[test]
    fn shape_errors_say_what_was_expected_without_the_value() {
        let doc = br#"{"@context": "https://openvex.dev/ns/v0.2.0", "author": "a",
            "timestamp": "2026-01-01T00:00:00Z",
            "statements": [{"vulnerability": {"name": "CVE-1"}, "status": "SECRET-VALUE"}]}"#;
        let error = parse_openvex("v.json", doc).unwrap_err();
        let text = error.to_string();
        assert!(
            text.starts_with("v.json: at $.statements[0].status: expected one of `not_affected`"),
            "{text}"
        );
        assert!(!text.contains("SECRET"), "{text}");

        let doc = br#"{"@context": "https://openvex.dev/ns/v0.2.0", "author": "a",
            "timestamp": "SECRET", "statements": []}"#;
        let text = parse_openvex("v.json", doc).unwrap_err().to_string();
        assert_eq!(
            text,
            "v.json: at $.timestamp: expected an RFC 3339 date-time"
        );
    }

    #[test]
    fn uuids_are_version_5_and_stable() {
        let a = urn_uuid("x");
        assert_eq!(a, urn_uuid("x"));
        assert_ne!(a, urn_uuid("y"));
        let uuid = a.strip_prefix("urn:uuid:").unwrap();
        let parts: Vec<&str> = uuid.split('-').collect();
        assert_eq!(
            parts.iter().map(|p| p.len()).collect::<Vec<_>>(),
            [8, 4, 4, 4, 12]
        );
        assert!(parts[2].starts_with('5'));
        assert!(matches!(&parts[3][..1], "8" | "9" | "a" | "b"));
    }

    #[test]
    fn repository_purls_encode_each_segment_and_the_file() {
        assert_eq!(repository_purl("acme/app", None), "pkg:generic/acme/app");
        assert_eq!(
            repository_purl("group/sub group/app", Some("./src/a b.py")),
            "pkg:generic/group/sub%20group/app#src/a%20b.py"
        );
        assert_eq!(repository_purl("", None), "pkg:generic/repository");
        assert_eq!(
            purl_subpath("pkg:generic/acme/app#src/a%20b.py").as_deref(),
            Some("src/a b.py")
        );
    }

    #[test]
    fn pending_records_and_records_without_vulnerability_are_not_exported() {
        let mut record = TriageRecord {
            finding_id: FindingId("abcdef0123".into()),
            subject: Subject {
                rule: "CVE-2024-1".into(),
                ..Subject::default()
            },
            triage: statement(&[]).triage,
        };
        record.triage.state = TriageState::Pending;
        let now = "2026-02-01T00:00:00Z".parse().unwrap();
        let doc = export_openvex("acme/app", std::slice::from_ref(&record), now);
        assert_eq!(doc["statements"], json!([]));
        record.triage.state = TriageState::Dismissed;
        record.subject.rule = " ".into();
        let doc = export_cyclonedx("acme/app", &[record], now);
        assert_eq!(doc["vulnerabilities"], json!([]));
    }
}
