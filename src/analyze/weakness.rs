//! The canonical weakness (CWE) of a scanner's rule, so that de-duplication can tell when
//! two tools report one problem under different names.
//!
//! Tools name weaknesses unevenly: Bandit's `B506` (unsafe `yaml.load`) says CWE-20, Improper
//! Input Validation, where Semgrep's `avoid-pyyaml-load` on the same line says CWE-502;
//! ESLint's security plugins, Brakeman, Checkov, gitleaks and Trivy name no CWE at all. The
//! maintained table `data/weaknesses.csv` (tool, rule, CWE, note; a data file, embedded at
//! build time) names the weakness each well-known rule finds, and `data/broad_cwes.csv`
//! lists the CWEs too broad to say what a problem is (CWE-20 and the CWE pillars).
//!
//! A finding's weaknesses, for matching, are its own specific CWEs plus its rule's canonical
//! one; a broad CWE alone never makes two findings one problem. Rules are matched
//! case-insensitively; Semgrep's check ids also by their trailing dotted segments (a local
//! copy of the registry prefixes them with its directory), Trivy's and tfsec's ids with or
//! without `AVD-`. A table row may name `*` for every rule of a tool (gitleaks: every
//! rule finds a credential).

use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;

use serde::Deserialize;

use crate::model::Finding;

/// The rule → weakness table, one row a line.
const TABLE: &str = include_str!("../../data/weaknesses.csv");
/// The CWEs too broad to identify a problem.
const BROAD: &str = include_str!("../../data/broad_cwes.csv");

/// The tools the table knows, by family (Semgrep OSS and Semgrep Pro are Semgrep).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Tool {
    Bandit,
    Semgrep,
    CodeQl,
    Gosec,
    Eslint,
    Brakeman,
    SpotBugs,
    Checkov,
    Trivy,
    Tfsec,
    Gitleaks,
}

impl Tool {
    /// The table's name for each tool (the `tool` column).
    const NAMES: [(&'static str, Tool); 11] = [
        ("bandit", Tool::Bandit),
        ("semgrep", Tool::Semgrep),
        ("codeql", Tool::CodeQl),
        ("gosec", Tool::Gosec),
        ("eslint", Tool::Eslint),
        ("brakeman", Tool::Brakeman),
        ("spotbugs", Tool::SpotBugs),
        ("checkov", Tool::Checkov),
        ("trivy", Tool::Trivy),
        ("tfsec", Tool::Tfsec),
        ("gitleaks", Tool::Gitleaks),
    ];

    /// The tool a finding's tool name (a SARIF driver name, a native format's tool) belongs
    /// to: its first word, case-insensitively (`Semgrep OSS`, `CodeQL command-line
    /// toolchain`, `LGTM.com` for CodeQL's hosted runs).
    pub fn from_report_name(name: &str) -> Option<Tool> {
        let first = name
            .trim()
            .split(|c: char| !c.is_ascii_alphanumeric() && c != '-')
            .next()
            .unwrap_or("")
            .to_ascii_lowercase();
        match first.as_str() {
            "lgtm" => Some(Tool::CodeQl),
            "findsecbugs" | "find-sec-bugs" => Some(Tool::SpotBugs),
            other => Tool::from_table_name(other),
        }
    }

    fn from_table_name(name: &str) -> Option<Tool> {
        Tool::NAMES
            .iter()
            .find(|(n, _)| *n == name)
            .map(|&(_, tool)| tool)
    }

    /// A rule id as the table keys it: lower case, and Trivy's and tfsec's `AVD-` dropped.
    fn key(self, rule: &str) -> String {
        let rule = rule.trim().to_ascii_lowercase();
        match self {
            Tool::Trivy | Tool::Tfsec => match rule.strip_prefix("avd-") {
                Some(rest) => rest.to_string(),
                None => rule,
            },
            _ => rule,
        }
    }
}

/// A row of the table that cannot be read: its line and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file} line {line}: {message}")]
pub struct TableError {
    pub file: &'static str,
    pub line: u64,
    pub message: String,
}

/// One row as written.
#[derive(Debug, Deserialize)]
struct Row {
    tool: String,
    rule: String,
    cwe: String,
    #[serde(default)]
    #[allow(dead_code)] // read for the format check only: the note is for maintainers
    note: String,
}

#[derive(Debug, Deserialize)]
struct BroadRow {
    cwe: String,
    #[allow(dead_code)]
    name: String,
}

/// The table, parsed: canonical weaknesses by tool and rule, and the broad CWEs.
#[derive(Debug, Default)]
pub struct Weaknesses {
    /// By tool, then by rule key: looked up by `&str`, without allocating.
    by_rule: HashMap<Tool, HashMap<String, u32>>,
    any_rule: HashMap<Tool, u32>,
    broad: HashSet<u32>,
}

/// `CWE-502` → 502.
fn cwe_number(text: &str) -> Option<u32> {
    text.trim()
        .strip_prefix("CWE-")
        .and_then(|n| n.parse().ok())
        .filter(|&n| n > 0)
}

/// The rows of an embedded table with their line numbers: `#` starts a comment line, fields
/// are trimmed, every row has the header's fields.
fn rows<T: serde::de::DeserializeOwned>(
    file: &'static str,
    text: &'static str,
) -> Result<Vec<(u64, T)>, TableError> {
    let mut reader = csv::ReaderBuilder::new()
        .comment(Some(b'#'))
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let unreadable = |error: csv::Error| TableError {
        file,
        line: error.position().map_or(0, csv::Position::line),
        message: format!("unreadable row: {error}"),
    };
    let headers = reader.headers().map_err(unreadable)?.clone();
    let mut out = Vec::new();
    for record in reader.records() {
        let record = record.map_err(unreadable)?;
        let line = record.position().map_or(0, csv::Position::line);
        let row = record.deserialize(Some(&headers)).map_err(unreadable)?;
        out.push((line, row));
    }
    Ok(out)
}

impl Weaknesses {
    /// Parses the tables: every row must name a known tool, a rule and a CWE, and no rule
    /// may be listed twice (after the matching normalisation).
    pub fn parse(table: &'static str, broad: &'static str) -> Result<Weaknesses, TableError> {
        let mut weaknesses = Weaknesses::default();
        for (line, row) in rows::<Row>("weaknesses.csv", table)? {
            let fail = |message: String| TableError {
                file: "weaknesses.csv",
                line,
                message,
            };
            let tool = Tool::from_table_name(&row.tool)
                .ok_or_else(|| fail(format!("unknown tool `{}`", row.tool)))?;
            let cwe =
                cwe_number(&row.cwe).ok_or_else(|| fail(format!("`{}` is no CWE-n", row.cwe)))?;
            if row.rule.is_empty() {
                return Err(fail("no rule".into()));
            }
            let duplicate = if row.rule == "*" {
                weaknesses.any_rule.insert(tool, cwe).is_some()
            } else {
                weaknesses
                    .by_rule
                    .entry(tool)
                    .or_default()
                    .insert(tool.key(&row.rule), cwe)
                    .is_some()
            };
            if duplicate {
                return Err(fail(format!(
                    "{} rule `{}` is listed twice",
                    row.tool, row.rule
                )));
            }
        }
        for (line, row) in rows::<BroadRow>("broad_cwes.csv", broad)? {
            let cwe = cwe_number(&row.cwe).ok_or_else(|| TableError {
                file: "broad_cwes.csv",
                line,
                message: format!("`{}` is no CWE-n", row.cwe),
            })?;
            weaknesses.broad.insert(cwe);
        }
        Ok(weaknesses)
    }

    /// How many rules the table names (`*` rows count once).
    pub fn len(&self) -> usize {
        self.by_rule.values().map(HashMap::len).sum::<usize>() + self.any_rule.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether `cwe` is too broad to say what a problem is.
    pub fn is_broad(&self, cwe: u32) -> bool {
        self.broad.contains(&cwe)
    }

    /// The canonical weakness of `tool`'s rule `rule`, when the table names one.
    pub fn of_rule(&self, tool: &str, rule: &str) -> Option<u32> {
        let tool = Tool::from_report_name(tool)?;
        let key = tool.key(rule);
        let rules = self.by_rule.get(&tool);
        let exact = rules.and_then(|rules| rules.get(key.as_str())).copied();
        let suffix = || {
            // Semgrep: `rules.python.lang.…avoid-pyyaml-load` from a local copy of the
            // registry is the registry's `python.lang.…avoid-pyyaml-load`.
            let rules = rules?;
            let mut rest = key.as_str();
            while let Some((_, tail)) = rest.split_once('.') {
                if let Some(&cwe) = rules.get(tail) {
                    return Some(cwe);
                }
                rest = tail;
            }
            None
        };
        exact
            .or_else(|| (tool == Tool::Semgrep).then(suffix).flatten())
            .or_else(|| self.any_rule.get(&tool).copied())
    }

    /// The weaknesses by which `finding` is matched against other tools' findings: its own
    /// CWEs that are not too broad, then the canonical weakness of each of its rules.
    pub fn of_finding(&self, finding: &Finding) -> Vec<u32> {
        let mut out: Vec<u32> = Vec::new();
        let mut add = |cwe: u32| {
            if !self.is_broad(cwe) && !out.contains(&cwe) {
                out.push(cwe);
            }
        };
        finding.cwes.iter().copied().for_each(&mut add);
        if finding.rules.is_empty() {
            for tool in &finding.tools {
                if let Some(cwe) = self.of_rule(tool, &finding.rule) {
                    add(cwe);
                }
            }
        } else {
            for r in &finding.rules {
                if let Some(cwe) = self.of_rule(&r.tool, &r.rule) {
                    add(cwe);
                }
            }
        }
        out
    }

    /// Puts a finding's specific CWEs before its broad ones, and names the canonical
    /// weakness first on a finding whose tools gave none or only broad ones; the tools' own
    /// CWEs stay (Bandit's `B506`: CWE-502, then CWE-20).
    pub fn name_weakness(&self, finding: &mut Finding) {
        finding.cwes.sort_by_key(|&c| self.is_broad(c));
        if finding.cwes.first().is_some_and(|&c| !self.is_broad(c)) {
            return;
        }
        let canonical = match finding.rules.first() {
            Some(r) => self.of_rule(&r.tool, &r.rule),
            None => finding
                .tools
                .first()
                .and_then(|tool| self.of_rule(tool, &finding.rule)),
        };
        if let Some(cwe) = canonical.filter(|c| !finding.cwes.contains(c)) {
            finding.cwes.insert(0, cwe);
        }
    }
}

/// The table shipped with posture, parsed once. A table that does not parse (the test
/// below forbids it) leaves merging to the tools' own CWEs, with an error logged.
pub fn table() -> &'static Weaknesses {
    static TABLE_PARSED: LazyLock<Weaknesses> =
        LazyLock::new(|| match Weaknesses::parse(TABLE, BROAD) {
            Ok(table) => table,
            Err(error) => {
                tracing::error!("the weakness table is unusable, merging without it: {error}");
                Weaknesses::default()
            }
        });
    &TABLE_PARSED
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Kind;

    #[test]
    fn every_row_parses_and_no_rule_is_listed_twice() {
        let table = Weaknesses::parse(TABLE, BROAD).unwrap();
        // Dozens of rules for every tool the table names.
        assert!(table.len() > 250, "{}", table.len());
        for (name, tool) in Tool::NAMES {
            let rows = table.by_rule.get(&tool).map_or(0, HashMap::len)
                + usize::from(table.any_rule.contains_key(&tool));
            assert!(rows > 0, "{name} has no rows");
        }
        assert!(table.is_broad(20) && table.is_broad(693) && table.is_broad(710));
        assert!(!table.is_broad(502));
        assert!(!table.is_empty());
        assert_eq!(
            super::table().len(),
            table.len(),
            "the shared table is this one"
        );
    }

    #[test]
    fn bad_rows_are_named_by_line() {
        let header = "tool,rule,cwe,note\n";
        let broad = "cwe,name\n";
        let parse = |rows: &str| {
            let text: &'static str = Box::leak(format!("{header}{rows}").into_boxed_str());
            Weaknesses::parse(text, broad).map(|_| ()).unwrap_err()
        };
        let error = parse("bandit,B506,CWE-502,\nbandit,b506,CWE-20,\n");
        assert_eq!(error.line, 3, "{error}");
        assert!(error.message.contains("listed twice"), "{error}");
        assert!(
            parse("trivy,AVD-AWS-0088,CWE-311,\ntrivy,AWS-0088,CWE-311,\n")
                .message
                .contains("listed twice")
        );
        assert!(parse("nessus,x,CWE-1,\n").message.contains("unknown tool"));
        assert!(parse("bandit,B1,502,\n").message.contains("no CWE-n"));
        assert!(parse("bandit,,CWE-502,\n").message.contains("no rule"));
        assert!(parse("bandit,B1\n").message.contains("unreadable"));
    }

    #[test]
    fn rules_are_found_by_tool_family_and_normalised_id() {
        let table = table();
        assert_eq!(table.of_rule("Bandit", "B506"), Some(502));
        assert_eq!(table.of_rule("bandit", "b506"), Some(502));
        assert_eq!(table.of_rule("Bandit", "B999"), None);
        // Another tool's rule of the same name is not Bandit's.
        assert_eq!(table.of_rule("Flawfinder", "B506"), None);
        let pyyaml = "python.lang.security.deserialization.avoid-pyyaml-load.avoid-pyyaml-load";
        assert_eq!(table.of_rule("Semgrep OSS", pyyaml), Some(502));
        assert_eq!(
            table.of_rule("semgrep", &format!("home.ci.rules.{pyyaml}")),
            Some(502),
            "a local copy of the registry"
        );
        assert_eq!(
            table.of_rule("semgrep", "avoid-pyyaml-load"),
            None,
            "a bare rule name is not enough"
        );
        assert_eq!(table.of_rule("CodeQL", "py/sql-injection"), Some(89));
        assert_eq!(table.of_rule("LGTM.com", "py/sql-injection"), Some(89));
        assert_eq!(table.of_rule("Trivy", "AVD-AWS-0088"), Some(311));
        assert_eq!(table.of_rule("Trivy", "AWS-0088"), Some(311));
        assert_eq!(table.of_rule("Checkov", "CKV_AWS_19"), Some(311));
        assert_eq!(table.of_rule("gitleaks", "any-rule-at-all"), Some(798));
        assert_eq!(table.of_rule("Trivy", "github-pat"), Some(798));
        assert_eq!(table.of_rule("Trivy", "CVE-2021-44228"), None);
        assert_eq!(
            table.of_rule("ESLint", "security/detect-child-process"),
            Some(78)
        );
        assert_eq!(table.of_rule("Brakeman", "BRAKE0000"), Some(89));
        assert_eq!(table.of_rule("SpotBugs", "SQL_INJECTION_JDBC"), Some(89));
        assert_eq!(table.of_rule("gosec", "G402"), Some(295));
    }

    #[test]
    fn a_finding_is_matched_by_specific_cwes_and_its_rules_weakness() {
        let table = table();
        let mut b506 = Finding::new(Kind::Sast, "Bandit", "B506");
        b506.cwes = vec![20];
        assert_eq!(table.of_finding(&b506), vec![502], "CWE-20 is too broad");
        let mut b105 = Finding::new(Kind::Sast, "Bandit", "B105");
        b105.cwes = vec![259];
        assert_eq!(table.of_finding(&b105), vec![259, 798]);
        let mut unknown = Finding::new(Kind::Sast, "Flawfinder", "x");
        unknown.cwes = vec![20, 120];
        assert_eq!(table.of_finding(&unknown), vec![120]);
        unknown.cwes = vec![20];
        assert!(table.of_finding(&unknown).is_empty());

        table.name_weakness(&mut b506);
        assert_eq!(b506.cwes, vec![502, 20], "named first, Bandit's kept");
        table.name_weakness(&mut b105);
        assert_eq!(
            b105.cwes,
            vec![259],
            "a specific CWE of the tool's own stays alone"
        );
        let mut merged = Finding::new(Kind::Sast, "Bandit", "B506");
        merged.cwes = vec![20, 502];
        table.name_weakness(&mut merged);
        assert_eq!(merged.cwes, vec![502, 20], "specific first");
        let mut eslint = Finding::new(Kind::Sast, "ESLint", "security/detect-child-process");
        table.name_weakness(&mut eslint);
        assert_eq!(eslint.cwes, vec![78]);
    }
}
