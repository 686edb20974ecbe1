//! A finding as ingested from a scanner report, before any correlation.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Normalised severity, ordered from least to most severe so that `>=` reads naturally.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub const ALL: [Severity; 5] = [
        Severity::Critical,
        Severity::High,
        Severity::Medium,
        Severity::Low,
        Severity::Info,
    ];

    /// The CVSS v3/v4 qualitative rating of a base score (FIRST's table).
    pub fn from_cvss(score: f64) -> Severity {
        match score {
            s if s >= 9.0 => Severity::Critical,
            s if s >= 7.0 => Severity::High,
            s if s >= 4.0 => Severity::Medium,
            s if s > 0.0 => Severity::Low,
            _ => Severity::Info,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Severity {
    type Err = String;

    /// Accepts the names scanners use for each level, case-insensitively.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "critical" => Ok(Severity::Critical),
            "high" | "error" => Ok(Severity::High),
            "medium" | "moderate" | "warning" => Ok(Severity::Medium),
            "low" | "note" => Ok(Severity::Low),
            "info" | "informational" | "none" | "negligible" | "unknown" => Ok(Severity::Info),
            other => Err(format!(
                "unknown severity `{other}` (expected critical, high, medium, low or info)"
            )),
        }
    }
}

/// What kind of problem a finding is; decides how it is identified and explained.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// Static analysis of the code (CodeQL, Semgrep, …).
    Sast,
    /// A vulnerable dependency (osv-scanner, Grype, …).
    Sca,
    /// A committed credential (gitleaks, …).
    Secret,
    /// Infrastructure-as-code misconfiguration (Checkov, Trivy config, …).
    Iac,
    /// A vulnerable package in a container image.
    Container,
    /// Dynamic testing of a running application.
    Dast,
    /// A dependency whose licence the repository's policy denies or wants reviewed.
    License,
    /// A dependency the repository's policy bans (a package, or some of its versions).
    Policy,
    /// An HTTP API endpoint declared without authentication, or exposing sensitive fields.
    Api,
}

impl Kind {
    pub const ALL: [Kind; 9] = [
        Kind::Sast,
        Kind::Sca,
        Kind::Secret,
        Kind::Iac,
        Kind::Container,
        Kind::Dast,
        Kind::License,
        Kind::Policy,
        Kind::Api,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Sast => "sast",
            Kind::Sca => "sca",
            Kind::Secret => "secret",
            Kind::Iac => "iac",
            Kind::Container => "container",
            Kind::Dast => "dast",
            Kind::License => "license",
            Kind::Policy => "policy",
            Kind::Api => "api",
        }
    }

    /// Dependency-like findings are identified by package and advisory, not by code.
    pub fn is_dependency(self) -> bool {
        matches!(self, Kind::Sca | Kind::Container)
    }
}

impl FromStr for Kind {
    type Err = String;

    /// Exactly posture's spelling (`sast`, `sca`, …), as JSON, the database and queries use.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Kind::ALL
            .into_iter()
            .find(|kind| kind.as_str() == s)
            .ok_or_else(|| {
                format!("unknown kind `{s}` (expected sast, sca, secret, iac, container, dast, license, policy or api)")
            })
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a finding points in the repository. Lines and columns are 1-based, inclusive.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Location {
    /// Repository-relative, `/`-separated path; when `outside_repo` is set, the path as the
    /// scanner wrote it (it could not be mapped into the repository and is never read).
    pub path: String,
    pub start_line: Option<u32>,
    pub end_line: Option<u32>,
    pub start_column: Option<u32>,
    pub end_column: Option<u32>,
    /// The flagged text if the scanner included it (`region.snippet.text`).
    pub snippet: Option<String>,
    /// The path could not be mapped into the repository.
    #[serde(default)]
    pub outside_repo: bool,
}

impl Location {
    pub fn new(path: impl Into<String>) -> Location {
        Location {
            path: path.into(),
            start_line: None,
            end_line: None,
            start_column: None,
            end_column: None,
            snippet: None,
            outside_repo: false,
        }
    }

    pub fn with_lines(mut self, start: u32, end: u32) -> Location {
        self.start_line = Some(start);
        self.end_line = Some(end.max(start));
        self
    }

    /// The inclusive line range, when the finding has one.
    pub fn lines(&self) -> Option<(u32, u32)> {
        let start = self.start_line?;
        Some((start, self.end_line.unwrap_or(start).max(start)))
    }
}

/// A package ecosystem, spelled as OSV spells it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Ecosystem {
    Npm,
    PyPI,
    CratesIo,
    Go,
    Maven,
    RubyGems,
    NuGet,
    Packagist,
    Pub,
    Hex,
    /// Any other ecosystem (OS packages, …), kept verbatim.
    Other(String),
}

impl Ecosystem {
    /// Parses OSV's ecosystem names and the common spellings other scanners use.
    pub fn parse(name: &str) -> Ecosystem {
        match name.trim().to_ascii_lowercase().as_str() {
            "npm" | "node" | "javascript" | "yarn" | "pnpm" => Ecosystem::Npm,
            "pypi" | "pip" | "python" | "poetry" | "pipenv" => Ecosystem::PyPI,
            "crates.io" | "cargo" | "rust" | "crates" => Ecosystem::CratesIo,
            "go" | "golang" | "gomod" => Ecosystem::Go,
            "maven" | "java" | "gradle" | "jar" => Ecosystem::Maven,
            "rubygems" | "gem" | "bundler" | "ruby" => Ecosystem::RubyGems,
            "nuget" | ".net" | "dotnet" => Ecosystem::NuGet,
            "packagist" | "composer" | "php" => Ecosystem::Packagist,
            "pub" | "dart" => Ecosystem::Pub,
            "hex" | "erlang" | "elixir" => Ecosystem::Hex,
            _ => Ecosystem::Other(name.trim().to_string()),
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            Ecosystem::Npm => "npm",
            Ecosystem::PyPI => "PyPI",
            Ecosystem::CratesIo => "crates.io",
            Ecosystem::Go => "Go",
            Ecosystem::Maven => "Maven",
            Ecosystem::RubyGems => "RubyGems",
            Ecosystem::NuGet => "NuGet",
            Ecosystem::Packagist => "Packagist",
            Ecosystem::Pub => "Pub",
            Ecosystem::Hex => "Hex",
            Ecosystem::Other(s) => s,
        }
    }

    /// The package name as the ecosystem compares it (PyPI: PEP 503 normalisation;
    /// npm, crates.io, Go and Maven names are case-sensitive and kept).
    pub fn normalize_name(&self, name: &str) -> String {
        match self {
            Ecosystem::PyPI => {
                let mut out = String::with_capacity(name.len());
                let mut last_sep = false;
                for c in name.trim().chars() {
                    if matches!(c, '-' | '_' | '.') {
                        if !last_sep {
                            out.push('-');
                        }
                        last_sep = true;
                    } else {
                        out.extend(c.to_lowercase());
                        last_sep = false;
                    }
                }
                out
            }
            Ecosystem::RubyGems | Ecosystem::NuGet | Ecosystem::Packagist => {
                name.trim().to_ascii_lowercase()
            }
            _ => name.trim().to_string(),
        }
    }
}

impl Ecosystem {
    /// The ecosystem of a package URL type (`pkg:npm/…` → npm); `None` for types posture
    /// does not know.
    pub fn from_purl_type(purl_type: &str) -> Option<Ecosystem> {
        Some(match purl_type.to_ascii_lowercase().as_str() {
            "npm" => Ecosystem::Npm,
            "pypi" => Ecosystem::PyPI,
            "cargo" => Ecosystem::CratesIo,
            "golang" => Ecosystem::Go,
            "maven" => Ecosystem::Maven,
            "gem" => Ecosystem::RubyGems,
            "nuget" => Ecosystem::NuGet,
            "composer" => Ecosystem::Packagist,
            "pub" => Ecosystem::Pub,
            "hex" => Ecosystem::Hex,
            "deb" => Ecosystem::Other("Debian".into()),
            "apk" => Ecosystem::Other("Alpine".into()),
            "rpm" => Ecosystem::Other("RPM".into()),
            _ => return None,
        })
    }
}

impl fmt::Display for Ecosystem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Ecosystem {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Ecosystem {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Ok(Ecosystem::parse(&s))
    }
}

/// A dependency a finding is about.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Package {
    pub ecosystem: Ecosystem,
    pub name: String,
    pub version: Option<String>,
    /// The manifest or lockfile that declares it, repository-relative when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub manifest: Option<String>,
}

impl Package {
    /// Reads a package URL (`pkg:type/namespace/name@version?qualifiers#subpath`), naming the
    /// package as its ecosystem does: `@scope/name` for npm, `group:artifact` for Maven,
    /// `namespace/name` for Go and others. `None` when it is not a package URL.
    pub fn from_purl(purl: &str) -> Option<Package> {
        let rest = purl.trim().strip_prefix("pkg:")?.trim_start_matches('/');
        let rest = rest.split('#').next().unwrap_or(rest);
        let rest = rest.split('?').next().unwrap_or(rest);
        let (path, version) = match rest.rsplit_once('@') {
            // An npm scope's `@` is percent-encoded (`%40`), so a literal `@` is the version's.
            Some((path, version)) if !path.is_empty() => (path, Some(decode(version))),
            _ => (rest, None),
        };
        let (purl_type, path) = path.split_once('/')?;
        let ecosystem = Ecosystem::from_purl_type(purl_type)
            .unwrap_or_else(|| Ecosystem::Other(purl_type.to_string()));
        let segments: Vec<String> = path
            .split('/')
            .filter(|s| !s.is_empty())
            .map(decode)
            .collect();
        let (name, namespace) = segments.split_last()?;
        let name = match (&ecosystem, namespace) {
            (_, []) => name.clone(),
            (Ecosystem::Maven, ns) => format!("{}:{name}", ns.join(".")),
            (_, ns) => format!("{}/{name}", ns.join("/")),
        };
        Some(Package {
            ecosystem,
            name,
            version,
            manifest: None,
        })
    }

    /// The package URL (`pkg:type/namespace/name@version`) of the package, the inverse of
    /// [`Package::from_purl`]: npm's `@scope/name` and Maven's `group:artifact` become
    /// namespace and name, PyPI names are lower-cased with `-` for `_` as the purl spec asks,
    /// and every segment is percent-encoded. OS ecosystems map to `deb`, `apk` and `rpm`
    /// without inventing a distribution namespace. `None` for an ecosystem without a purl
    /// type posture knows, or an empty name.
    pub fn purl(&self) -> Option<String> {
        const SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
            .remove(b'.')
            .remove(b'-')
            .remove(b'_')
            .remove(b'~')
            .remove(b':');
        let encode = |text: &str| percent_encoding::utf8_percent_encode(text, SEGMENT).to_string();
        let purl_type = match &self.ecosystem {
            Ecosystem::Npm => "npm",
            Ecosystem::PyPI => "pypi",
            Ecosystem::CratesIo => "cargo",
            Ecosystem::Go => "golang",
            Ecosystem::Maven => "maven",
            Ecosystem::RubyGems => "gem",
            Ecosystem::NuGet => "nuget",
            Ecosystem::Packagist => "composer",
            Ecosystem::Pub => "pub",
            Ecosystem::Hex => "hex",
            Ecosystem::Other(name) => {
                // OSV spells OS ecosystems `Debian:11`, `Alpine:v3.18`, `Red Hat`, ….
                let family = name.split(':').next().unwrap_or_default().trim();
                match family.to_ascii_lowercase().as_str() {
                    "debian" | "ubuntu" | "deb" => "deb",
                    "alpine" | "apk" | "wolfi" | "chainguard" => "apk",
                    "rpm" | "red hat" | "redhat" | "rhel" | "centos" | "rocky linux"
                    | "almalinux" | "amazon linux" | "oracle linux" | "opensuse" | "suse" => "rpm",
                    _ => return None,
                }
            }
        };
        let name = self.name.trim();
        let name = match self.ecosystem {
            Ecosystem::PyPI => name.to_ascii_lowercase().replace('_', "-"),
            _ => name.to_string(),
        };
        let segments: Vec<&str> = match (&self.ecosystem, name.split_once(':')) {
            (Ecosystem::Maven, Some((group, artifact))) => vec![group, artifact],
            _ => name.split('/').collect(),
        };
        if segments.iter().any(|s| s.is_empty()) {
            return None;
        }
        let path: Vec<String> = segments.iter().map(|s| encode(s)).collect();
        let mut purl = format!("pkg:{purl_type}/{}", path.join("/"));
        if let Some(version) = self.version.as_deref().map(str::trim)
            && !version.is_empty()
        {
            purl.push('@');
            purl.push_str(&encode(version));
        }
        Some(purl)
    }
}

fn decode(text: &str) -> String {
    percent_encoding::percent_decode_str(text)
        .decode_utf8_lossy()
        .into_owned()
}

/// One OSV range event.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RangeEvent {
    Introduced(String),
    Fixed(String),
    LastAffected(String),
    Limit(String),
}

/// How the versions of an OSV range are ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum RangeKind {
    Semver,
    Ecosystem,
    Git,
}

/// An affected range of an advisory, as OSV's `affected[].ranges[]` gives it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct AffectedRange {
    pub kind: RangeKind,
    pub events: Vec<RangeEvent>,
}

/// A published advisory (CVE, GHSA, OSV, …) and what it says about the affected package.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Advisory {
    pub id: String,
    #[serde(default)]
    pub aliases: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// CVSS base score when the advisory carries one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cvss_score: Option<f64>,
    /// The CVSS vector string, when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cvss_vector: Option<String>,
    /// Affected ranges for the finding's package (ranges of other packages are dropped).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub affected: Vec<AffectedRange>,
    /// Explicitly enumerated affected versions (OSV `affected[].versions`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub affected_versions: Vec<String>,
}

impl Advisory {
    /// Every identifier this advisory is known by: its id first, then its aliases.
    pub fn ids(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.id.as_str()).chain(self.aliases.iter().map(String::as_str))
    }
}

/// One problem reported by one or more scanners, normalised.
/// A finding's fingerprints by name, sorted: a vector, since most findings carry one or two.
pub type Fingerprints = litemap::LiteMap<String, String>;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    pub kind: Kind,
    /// The tools that reported it (several after de-duplication).
    pub tools: Vec<String>,
    /// The rule or check id (for dependency findings: the advisory id).
    pub rule: String,
    /// A one-line title.
    pub title: String,
    /// The scanner's full message.
    pub message: String,
    pub severity: Severity,
    /// A numeric severity on CVSS's 0–10 scale (SARIF `security-severity`, CVSS base score).
    pub score: Option<f64>,
    pub location: Option<Location>,
    /// Boxed, like `fix`: most findings have neither, and a finding's size counts 200,000
    /// times over in a large review.
    pub package: Option<Box<Package>>,
    pub advisories: Vec<Advisory>,
    /// CWE numbers (`CWE-79` → 79).
    pub cwes: Vec<u32>,
    /// Fingerprints the tool computed (SARIF `partialFingerprints`/`fingerprints`).
    pub fingerprints: Fingerprints,
    pub help_uri: Option<String>,
    /// The rule's help text (SARIF `rule.help`), first paragraph: what a comment offers as
    /// the fix when the tool proposes no edit. Shared by every finding of the rule, and not
    /// stored: only a comment rendered from a fresh review shows it.
    #[serde(skip)]
    pub help: Option<std::sync::Arc<str>>,
    /// Suppressed in the source (`nosemgrep`, SARIF `suppressions`): kept, never reported.
    pub suppressed: bool,
    /// A code change the scanner proposes (SARIF `fixes`, Semgrep autofix).
    pub fix: Option<Box<CodeFix>>,
    /// Every CVSS vector the tool gave for the finding (v2, v3.0, v3.1, v4.0), besides the one
    /// each advisory keeps: Trivy's v3 and v4.0 per vendor, Grype's `cvss[]`, OSV's
    /// `severity[]`, GitLab's `cvss_vectors`, CycloneDX `ratings[]`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cvss_vectors: Vec<String>,
    /// How sure the tool is that the finding is real (SARIF `precision`, Bandit's
    /// `issue_confidence`, `… CONFIDENCE` rule tags, GitLab `confidence`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confidence: Option<Confidence>,
    /// Every tool's rule when reports under several rules or tools were merged into this
    /// finding, the lead's first (Bandit's `B506` and Semgrep's `avoid-pyyaml-load` on one
    /// `yaml.load`). Empty when `tools` and `rule` say it all.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<ToolRule>,
}

/// One tool's rule among those merged into a finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToolRule {
    pub tool: String,
    pub rule: String,
}

/// A tool's confidence in a finding, ordered from least to most sure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Confidence {
    Low,
    Medium,
    High,
}

impl Confidence {
    /// Reads the names tools use: SARIF `precision` (`very-high`, `high`, `medium`, `low`),
    /// Bandit and GitLab levels (`HIGH`, `Confirmed`, `Experimental`, …); `None` for
    /// `unknown`, `ignore` and anything else.
    pub fn parse(text: &str) -> Option<Confidence> {
        match text.trim().to_ascii_lowercase().as_str() {
            "very-high" | "very high" | "veryhigh" | "high" | "confirmed" | "certain" => {
                Some(Confidence::High)
            }
            "medium" | "moderate" => Some(Confidence::Medium),
            "low" | "experimental" | "tentative" => Some(Confidence::Low),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Confidence::Low => "low",
            Confidence::Medium => "medium",
            Confidence::High => "high",
        }
    }
}

impl fmt::Display for Confidence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A scanner's proposed code change: lines `start_line..=end_line` of the finding's file,
/// with the columns the scanner marked, become `replacement`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CodeFix {
    pub description: Option<String>,
    pub start_line: u32,
    pub end_line: u32,
    pub replacement: String,
}

impl Finding {
    /// A secret, or a finding whose flagged line may be one: a secret scanner's hash, or a
    /// hard-coded credential weakness (CWE-798, 259, 321) from a code or IaC rule. Its line
    /// is never quoted back.
    pub fn may_hold_a_credential(&self) -> bool {
        const CREDENTIAL_CWES: [u32; 3] = [798, 259, 321];
        self.kind == Kind::Secret
            || self.fingerprints.contains_key("secretHash")
            || self.fingerprints.contains_key("secretLocationHash")
            || self.cwes.iter().any(|c| CREDENTIAL_CWES.contains(c))
    }

    /// A finding with only the required fields set; the rest empty.
    pub fn new(kind: Kind, tool: impl Into<String>, rule: impl Into<String>) -> Finding {
        let rule = rule.into();
        Finding {
            kind,
            tools: vec![tool.into()],
            title: rule.clone(),
            rule,
            message: String::new(),
            severity: Severity::Medium,
            score: None,
            location: None,
            package: None,
            advisories: Vec::new(),
            cwes: Vec::new(),
            fingerprints: Fingerprints::new(),
            help_uri: None,
            help: None,
            suppressed: false,
            fix: None,
            cvss_vectors: Vec::new(),
            confidence: None,
            rules: Vec::new(),
        }
    }

    /// Every CVSS vector known for the finding: its own, then each advisory's, without
    /// repeats.
    pub fn all_cvss_vectors(&self) -> Vec<&str> {
        let mut vectors: Vec<&str> = Vec::new();
        let advisories = self
            .advisories
            .iter()
            .filter_map(|a| a.cvss_vector.as_deref());
        for vector in self
            .cvss_vectors
            .iter()
            .map(String::as_str)
            .chain(advisories)
        {
            let vector = vector.trim();
            if !vector.is_empty() && !vectors.contains(&vector) {
                vectors.push(vector);
            }
        }
        vectors
    }

    pub fn path(&self) -> Option<&str> {
        self.location.as_ref().map(|l| l.path.as_str())
    }

    /// Every id the finding's vulnerability is known by (its rule, each advisory's id and
    /// aliases), upper-cased so that `ghsa-…` and `GHSA-…` compare equal.
    pub fn advisory_ids(&self) -> impl Iterator<Item = String> + '_ {
        std::iter::once(self.rule.as_str())
            .chain(self.advisories.iter().flat_map(Advisory::ids))
            .filter(|id| !id.is_empty())
            .map(str::to_ascii_uppercase)
    }
}

/// Everything the reports of one side (base or head) said.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Snapshot {
    pub findings: Vec<Finding>,
    /// The tools whose reports were given for this side, even those that found nothing.
    pub tools: std::collections::BTreeSet<String>,
    /// The components the reports list (SBOMs, and scanners that inventory what they
    /// scanned): the inventory of this side, as far as the reports know it.
    pub components: Vec<super::Component>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn package_urls_name_packages_as_their_ecosystems_do() {
        let cases = [
            (
                "pkg:npm/%40babel/core@7.0.0",
                Ecosystem::Npm,
                "@babel/core",
                Some("7.0.0"),
            ),
            (
                "pkg:maven/org.apache.cxf/cxf-core@3.4.6?type=jar",
                Ecosystem::Maven,
                "org.apache.cxf:cxf-core",
                Some("3.4.6"),
            ),
            (
                "pkg:golang/github.com/gogo/protobuf@v1.3.1",
                Ecosystem::Go,
                "github.com/gogo/protobuf",
                Some("v1.3.1"),
            ),
            (
                "pkg:pypi/Jinja2@2.10",
                Ecosystem::PyPI,
                "Jinja2",
                Some("2.10"),
            ),
            ("pkg:cargo/smallvec", Ecosystem::CratesIo, "smallvec", None),
            (
                "pkg:deb/debian/openssl@1.1.1n-0+deb11u3?arch=amd64",
                Ecosystem::Other("Debian".into()),
                "debian/openssl",
                Some("1.1.1n-0+deb11u3"),
            ),
        ];
        for (purl, ecosystem, name, version) in cases {
            let package = Package::from_purl(purl).unwrap();
            assert_eq!(package.ecosystem, ecosystem, "{purl}");
            assert_eq!(package.name, name, "{purl}");
            assert_eq!(package.version.as_deref(), version, "{purl}");
        }
        assert_eq!(Package::from_purl("npm/lodash@1"), None);
        assert_eq!(Package::from_purl("pkg:npm"), None);
    }

    #[test]
    fn package_urls_are_written_as_from_purl_reads_them() {
        let package = |ecosystem: Ecosystem, name: &str, version: Option<&str>| Package {
            ecosystem,
            name: name.to_string(),
            version: version.map(str::to_string),
            manifest: None,
        };
        let cases = [
            (
                package(Ecosystem::Npm, "@babel/core", Some("7.0.0")),
                Some("pkg:npm/%40babel/core@7.0.0"),
            ),
            (
                package(Ecosystem::Maven, "org.apache.cxf:cxf-core", Some("3.4.6")),
                Some("pkg:maven/org.apache.cxf/cxf-core@3.4.6"),
            ),
            (
                package(Ecosystem::Go, "github.com/gogo/protobuf", Some("v1.3.1")),
                Some("pkg:golang/github.com/gogo/protobuf@v1.3.1"),
            ),
            (
                package(Ecosystem::PyPI, "Typing_Extensions", Some("4.0")),
                Some("pkg:pypi/typing-extensions@4.0"),
            ),
            (
                package(Ecosystem::CratesIo, "smallvec", None),
                Some("pkg:cargo/smallvec"),
            ),
            (
                package(
                    Ecosystem::Other("Debian:11".into()),
                    "openssl",
                    Some("1.1.1n-0+deb11u3"),
                ),
                Some("pkg:deb/openssl@1.1.1n-0%2Bdeb11u3"),
            ),
            (package(Ecosystem::Other("unknown".into()), "x", None), None),
            (package(Ecosystem::Npm, "", Some("1")), None),
        ];
        for (package, purl) in cases {
            assert_eq!(package.purl().as_deref(), purl, "{package:?}");
            let Some(purl) = purl else { continue };
            let back = Package::from_purl(purl).unwrap();
            assert_eq!(back.version, package.version, "{purl}");
            assert_eq!(
                back.ecosystem.normalize_name(&back.name),
                package.ecosystem.normalize_name(&package.name),
                "{purl}"
            );
        }
    }
}
