//! The part of the SARIF 2.1.0 object model posture reads, as typed serde structs that
//! deserialise straight from the report's bytes. Every field is optional or defaulted
//! (`null` included), because real tools leave out or null what the spec calls required;
//! everything posture does not read is skipped without being stored.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer};

use super::json::{Scalar, null_as_default};

/// A log without its results (they are streamed: see `sarif_stream`).
#[derive(Debug, Deserialize)]
pub(crate) struct Log {
    #[serde(default, deserialize_with = "null_as_default")]
    pub runs: Vec<Run>,
}

/// A run without its results.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Run {
    #[serde(default)]
    pub tool: Tool,
    #[serde(default, deserialize_with = "null_as_default")]
    pub original_uri_base_ids: BTreeMap<String, ArtifactLocation>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub artifacts: Vec<Artifact>,
}

/// Only the results of a log: read when streaming failed, to name the failing result's JSON
/// path in the error.
#[derive(Debug, Deserialize)]
#[allow(dead_code, reason = "deserialized only to locate a shape error")]
pub(crate) struct ResultsOnly {
    #[serde(default, deserialize_with = "null_as_default")]
    pub runs: Vec<RunResultsOnly>,
}

#[derive(Debug, Deserialize)]
#[allow(dead_code, reason = "deserialized only to locate a shape error")]
pub(crate) struct RunResultsOnly {
    #[serde(default, deserialize_with = "null_as_default")]
    pub results: Vec<SarifResult>,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct Tool {
    #[serde(default)]
    pub driver: ToolComponent,
    #[serde(default, deserialize_with = "null_as_default")]
    pub extensions: Vec<ToolComponent>,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct ToolComponent {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub rules: Vec<Rule>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Rule {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub short_description: Option<Message>,
    #[serde(default)]
    pub full_description: Option<Message>,
    #[serde(default)]
    pub help: Option<Message>,
    #[serde(default)]
    pub help_uri: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub message_strings: BTreeMap<String, Message>,
    #[serde(default)]
    pub default_configuration: Option<Configuration>,
    #[serde(default)]
    pub properties: Properties,
    /// Links to taxonomy entries; Flawfinder names its CWEs only here.
    #[serde(default, deserialize_with = "null_as_default")]
    pub relationships: Vec<Relationship>,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct Relationship {
    #[serde(default)]
    pub target: Option<ReportingDescriptorReference>,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct Configuration {
    #[serde(default)]
    pub level: Option<String>,
}

/// The property bag entries posture reads; tools put these on rules or on results.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct Properties {
    #[serde(default, deserialize_with = "null_as_default")]
    pub tags: Vec<Scalar>,
    /// GitHub's CVSS-like 0–10 score (`"7.5"`), or for some Semgrep versions a level name.
    #[serde(default, rename = "security-severity")]
    pub security_severity: Option<Scalar>,
    /// Trivy and dependency-check: the CVSS v3 base score and vector.
    #[serde(default, rename = "cvssv3_baseScore")]
    pub cvss_v3_score: Option<Scalar>,
    #[serde(default, rename = "cvssv3_vector")]
    pub cvss_v3_vector: Option<Scalar>,
    /// Package URLs of SCA-style results (Grype: `purls`; dependency-check: `id1`, …).
    #[serde(default, deserialize_with = "null_as_default")]
    pub purls: Vec<Scalar>,
    #[serde(default)]
    pub purl: Option<Scalar>,
    #[serde(default)]
    pub id1: Option<Scalar>,
    /// CodeQL, Semgrep, Bandit: how often the rule's results are true positives
    /// (`very-high`, `high`, `medium`, `low`).
    #[serde(default)]
    pub precision: Option<Scalar>,
    /// Bandit, on each result: `HIGH`, `MEDIUM`, `LOW`.
    #[serde(default)]
    pub issue_confidence: Option<Scalar>,
    /// Other tools: a confidence level name.
    #[serde(default)]
    pub confidence: Option<Scalar>,
    /// Snyk Code: the rule's CWEs, `["CWE-79"]`; a single string is read as a list of one.
    #[serde(default, deserialize_with = "one_or_many")]
    pub cwe: Vec<Scalar>,
}

impl Properties {
    pub fn tags(&self) -> impl Iterator<Item = &str> {
        self.tags.iter().filter_map(Scalar::as_str)
    }

    pub fn cwes(&self) -> impl Iterator<Item = &str> {
        self.cwe.iter().filter_map(Scalar::as_str)
    }
}

/// A value or a list of values (`null` is an empty list).
fn one_or_many<'de, D>(d: D) -> Result<Vec<Scalar>, D::Error>
where
    D: Deserializer<'de>,
{
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        Many(Vec<Scalar>),
        One(Scalar),
    }
    Ok(match Option::<OneOrMany>::deserialize(d)? {
        Some(OneOrMany::Many(values)) => values,
        Some(OneOrMany::One(value)) => vec![value],
        None => Vec::new(),
    })
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct Message {
    #[serde(default)]
    pub text: Option<String>,
    #[serde(default)]
    pub markdown: Option<String>,
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub arguments: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SarifResult {
    #[serde(default)]
    pub rule_id: Option<String>,
    #[serde(default)]
    pub rule_index: Option<i64>,
    #[serde(default)]
    pub rule: Option<ReportingDescriptorReference>,
    #[serde(default)]
    pub level: Option<String>,
    /// `fail` when absent; `pass` and `notApplicable` report no problem.
    #[serde(default)]
    pub kind: Option<String>,
    #[serde(default)]
    pub message: Message,
    #[serde(default, deserialize_with = "null_as_default")]
    pub locations: Vec<ResultLocation>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub partial_fingerprints: BTreeMap<String, String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub fingerprints: BTreeMap<String, String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub suppressions: Vec<Suppression>,
    #[serde(default)]
    pub properties: Properties,
    /// `new`, `unchanged`, `updated` or `absent` (a result that no longer occurs).
    #[serde(default)]
    pub baseline_state: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub fixes: Vec<Fix>,
}

/// A proposed fix: replacements in one or more files.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Fix {
    #[serde(default)]
    pub description: Option<Message>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub artifact_changes: Vec<ArtifactChange>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ArtifactChange {
    #[serde(default, deserialize_with = "null_as_default")]
    pub replacements: Vec<Replacement>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Replacement {
    #[serde(default)]
    pub deleted_region: Option<Region>,
    #[serde(default)]
    pub inserted_content: Option<ArtifactContent>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ReportingDescriptorReference {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub index: Option<i64>,
    #[serde(default)]
    pub tool_component: Option<ToolComponentReference>,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct ToolComponentReference {
    #[serde(default)]
    pub index: Option<i64>,
    #[serde(default)]
    pub name: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct Suppression {
    #[serde(default)]
    pub status: Option<String>,
}

impl Suppression {
    /// A suppression is in force unless it is `underReview` or `rejected`.
    pub fn is_in_force(&self) -> bool {
        self.status
            .as_deref()
            .is_none_or(|status| status.eq_ignore_ascii_case("accepted"))
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ResultLocation {
    #[serde(default)]
    pub physical_location: Option<PhysicalLocation>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PhysicalLocation {
    #[serde(default)]
    pub artifact_location: Option<ArtifactLocation>,
    #[serde(default)]
    pub region: Option<Region>,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ArtifactLocation {
    #[serde(default)]
    pub uri: Option<String>,
    #[serde(default)]
    pub uri_base_id: Option<String>,
    #[serde(default)]
    pub index: Option<i64>,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct Artifact {
    #[serde(default)]
    pub location: Option<ArtifactLocation>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Region {
    #[serde(default)]
    pub start_line: Option<i64>,
    #[serde(default)]
    pub end_line: Option<i64>,
    #[serde(default)]
    pub start_column: Option<i64>,
    #[serde(default)]
    pub end_column: Option<i64>,
    #[serde(default)]
    pub snippet: Option<ArtifactContent>,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct ArtifactContent {
    #[serde(default)]
    pub text: Option<String>,
}
