//! One problem reported several times becomes one finding listing every tool.
//!
//! Within one snapshot (one side of the change):
//! - dependency findings merge when ecosystem, package and version agree, their manifests
//!   are in one directory (one project of a monorepo; a finding without a manifest joins the
//!   first project's) and their advisories share any id or alias (a GHSA from one tool, its
//!   CVE from another);
//! - secrets merge on overlapping lines of one file, unless both carry a `secretHash`
//!   fingerprint and the hashes differ (two secrets on one line);
//! - code findings (SAST, secrets, IaC) merge on overlapping lines of one file when they
//!   have the same kind and rule, or come from different tools and their weaknesses agree
//!   (CodeQL's `py/sql-injection` and Semgrep's `formatted-sql-query` on one line are one
//!   problem). A finding's weaknesses are its specific CWEs and its rule's canonical one from
//!   [`super::weakness`]: Bandit's `B506` says only CWE-20, too broad to match anything, and
//!   the table names CWE-502, which Semgrep's `avoid-pyyaml-load` says too; gitleaks' rules
//!   and Checkov's `CKV_AWS_41` are CWE-798, so a hard-coded key both report is one problem.
//!   Two secrets are told apart by their `secretHash` (see [`crate::ingest::secret_hash`]),
//!   not by CWE.
//! - findings of the component policy (`license`, `policy`) never merge: posture reports each
//!   package and rule once already.
//!
//! Every overlap of one rule (or one secret hash) is joined, however many findings share a
//! line, by sweeping each key's findings in line order. The cross-rule matches (a secret
//! without a hash, one CWE from two tools) compare each finding with at most
//! [`CROSS_RULE_WINDOW`] overlapping neighbours: 100,000 results on one minified line cost
//! millions of comparisons, not billions.
//!
//! The merged finding keeps the most severe report's rule and wording, the highest severity
//! and score, and the union of tools, rules (in [`Finding::rules`]), advisories, CWEs and
//! fingerprints; a rule whose tool named no specific CWE gets its canonical one.

use std::collections::HashMap;

use super::identity::is_package_rule;
use super::weakness::{self, Weaknesses};
use crate::model::{Dedup, Finding, Kind, ToolRule};

/// How many overlapping findings one finding is compared with for the cross-rule matches.
pub const CROSS_RULE_WINDOW: usize = 64;

/// Splits the reports of one package version by the directory of their manifest (the
/// projects of a monorepo); reports without a manifest join the first project.
fn projects(findings: &[&Finding], members: &[usize]) -> Vec<Vec<usize>> {
    let directory = |i: usize| {
        let manifest = findings[i].package.as_ref()?.manifest.as_deref()?;
        Some(manifest.rsplit_once('/').map_or("", |(dir, _)| dir))
    };
    let mut projects: Vec<(Option<&str>, Vec<usize>)> = Vec::new();
    let mut unplaced = Vec::new();
    for &i in members {
        match directory(i) {
            Some(dir) => match projects.iter_mut().find(|(d, _)| *d == Some(dir)) {
                Some((_, project)) => project.push(i),
                None => projects.push((Some(dir), vec![i])),
            },
            None => unplaced.push(i),
        }
    }
    match projects.first_mut() {
        Some((_, first)) => first.extend(unplaced),
        None => projects.push((None, unplaced)),
    }
    projects.into_iter().map(|(_, members)| members).collect()
}

/// Merges the duplicates in `findings`, keeping the order of first appearance.
pub fn dedup(findings: Vec<Finding>) -> (Vec<Finding>, Dedup) {
    let results = findings.len();
    let groups = groups(&findings.iter().collect::<Vec<_>>());
    let mut slots: Vec<Option<Finding>> = findings.into_iter().map(Some).collect();
    let merged: Vec<Finding> = groups
        .into_iter()
        .filter_map(|group| merge(group.into_iter().filter_map(|i| slots[i].take())))
        .collect();
    let stats = Dedup {
        results,
        findings: merged.len(),
    };
    (merged, stats)
}

/// The groups of indices of `findings` that report one problem, in order of first
/// appearance; each group's first index is its lead, the most severe report.
pub fn groups(findings: &[&Finding]) -> Vec<Vec<usize>> {
    let table = weakness::table();
    let mut sets = DisjointSets::new(findings);
    let mut weaknesses: Vec<Vec<u32>> = vec![Vec::new(); findings.len()];
    let mut by_package: HashMap<(String, String, String), Vec<usize>> = HashMap::new();
    let mut by_path: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, f) in findings.iter().enumerate() {
        match (&f.package, f.location.as_ref()) {
            (Some(p), _) if f.kind.is_dependency() => {
                let key = (
                    p.ecosystem.to_string(),
                    p.ecosystem.normalize_name(&p.name),
                    p.version.clone().unwrap_or_default(),
                );
                by_package.entry(key).or_default().push(i);
            }
            // The component policy's findings are posture's own, one per package and rule
            // (see [`crate::inventory::policy`]): two packages declared on one line stay two.
            (_, Some(l)) if l.lines().is_some() && !is_package_rule(f.kind) => {
                weaknesses[i] = table.of_finding(f);
                by_path.entry(&l.path).or_default().push(i);
            }
            _ => {}
        }
    }
    for members in by_package.values() {
        for project in projects(findings, members) {
            let mut owner: HashMap<String, usize> = HashMap::new();
            for &i in &project {
                for id in findings[i].advisory_ids() {
                    match owner.get(&id) {
                        Some(&j) => sets.union(i, j),
                        None => {
                            owner.insert(id, i);
                        }
                    }
                }
            }
        }
    }
    for members in by_path.values_mut() {
        members.sort_by_key(|&i| lines(findings[i]));
        // Exact and linear: overlapping runs of one key are one problem. `reach` is the last
        // line of the run so far, `first` its first member.
        let mut runs: HashMap<(Kind, &str), (u32, usize)> = HashMap::new();
        for &i in members.iter() {
            let Some(key) = sweep_key(findings[i]) else {
                continue;
            };
            let (start, end) = lines(findings[i]);
            match runs.get_mut(&key) {
                Some((reach, first)) if start <= *reach => {
                    sets.union(i, *first);
                    *reach = (*reach).max(end);
                }
                _ => {
                    runs.insert(key, (end, i));
                }
            }
        }
        // Bounded: the cross-rule matches, among the nearest overlapping neighbours.
        for (n, &i) in members.iter().enumerate() {
            let end = lines(findings[i]).1;
            let neighbours = members[n + 1..]
                .iter()
                .take_while(|&&j| lines(findings[j]).0 <= end)
                .take(CROSS_RULE_WINDOW);
            for &j in neighbours {
                if same_problem((findings[i], &weaknesses[i]), (findings[j], &weaknesses[j])) {
                    sets.union(i, j);
                }
            }
        }
    }

    let mut by_root: HashMap<usize, usize> = HashMap::new();
    let mut out: Vec<Vec<usize>> = Vec::new();
    for i in 0..findings.len() {
        let root = sets.find(i);
        let slot = *by_root.entry(root).or_insert_with(|| {
            out.push(Vec::new());
            out.len() - 1
        });
        out[slot].push(i);
    }
    for group in &mut out {
        // The most severe report leads; among equals, the first.
        if let Some(lead) =
            (0..group.len()).max_by_key(|&n| (findings[group[n]].severity, std::cmp::Reverse(n)))
        {
            group.swap(0, lead);
            group[1..].sort_unstable();
        }
    }
    out
}

/// One finding from a group whose first member leads; `None` for an empty group.
pub fn merge(group: impl IntoIterator<Item = Finding>) -> Option<Finding> {
    let mut members = group.into_iter();
    let mut kept = members.next()?;
    for other in members {
        merge_into(&mut kept, other);
    }
    if let [_] = kept.rules.as_slice() {
        // One rule of one tool, reported twice: `rule` and `tools` say it all.
        kept.rules.clear();
    }
    name_weakness(weakness::table(), &mut kept);
    Some(kept)
}

/// A finding that is not a dependency's gets its rule's canonical weakness when its tool
/// named none or only broad ones.
fn name_weakness(table: &Weaknesses, finding: &mut Finding) {
    if !finding.kind.is_dependency() {
        table.name_weakness(finding);
    }
}

/// The (tool, rule) pairs a finding stands for: its merged rules, else its tools' rule.
fn tool_rules(finding: &Finding) -> Vec<ToolRule> {
    if !finding.rules.is_empty() {
        return finding.rules.clone();
    }
    finding
        .tools
        .iter()
        .map(|tool| ToolRule {
            tool: tool.clone(),
            rule: finding.rule.clone(),
        })
        .collect()
}

fn lines(f: &Finding) -> (u32, u32) {
    f.location
        .as_ref()
        .and_then(|l| l.lines())
        .unwrap_or((0, 0))
}

/// The key under which overlapping findings are one problem whatever else they say: a
/// secret's hash (none is a key of its own), a code finding's rule.
fn sweep_key(f: &Finding) -> Option<(Kind, &str)> {
    match f.kind {
        Kind::Secret => Some((
            Kind::Secret,
            f.fingerprints.get("secretHash").map_or("", String::as_str),
        )),
        kind if !kind.is_dependency() => Some((kind, f.rule.as_str())),
        _ => None,
    }
}

/// Two findings on overlapping lines of one file, each with its weaknesses: are they one
/// problem?
fn same_problem(
    (a, a_weaknesses): (&Finding, &[u32]),
    (b, b_weaknesses): (&Finding, &[u32]),
) -> bool {
    match (a.kind, b.kind) {
        (Kind::Secret, Kind::Secret) => {
            match (
                a.fingerprints.get("secretHash"),
                b.fingerprints.get("secretHash"),
            ) {
                (Some(x), Some(y)) => x == y,
                _ => true,
            }
        }
        (x, y) if !x.is_dependency() && !y.is_dependency() => {
            (x == y && a.rule == b.rule)
                || (a.tools.iter().all(|t| !b.tools.contains(t))
                    && a_weaknesses.iter().any(|c| b_weaknesses.contains(c)))
        }
        _ => false,
    }
}

/// Folds `other` into `kept`: tools, evidence and the highest severity.
fn merge_into(kept: &mut Finding, other: Finding) {
    if kept.rules.is_empty() {
        kept.rules = tool_rules(kept);
    }
    for rule in tool_rules(&other) {
        if !kept.rules.contains(&rule) {
            kept.rules.push(rule);
        }
    }
    for tool in other.tools {
        if !kept.tools.contains(&tool) {
            kept.tools.push(tool);
        }
    }
    kept.severity = kept.severity.max(other.severity);
    kept.score = match (kept.score, other.score) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    };
    kept.suppressed &= other.suppressed;
    for cwe in other.cwes {
        if !kept.cwes.contains(&cwe) {
            kept.cwes.push(cwe);
        }
    }
    for advisory in other.advisories {
        if !kept.advisories.iter().any(|a| a.id == advisory.id) {
            kept.advisories.push(advisory);
        }
    }
    for (key, value) in other.fingerprints {
        kept.fingerprints.entry(key).or_insert(value);
    }
    if kept.package.is_none() {
        kept.package = other.package;
    }
    if kept.help_uri.is_none() {
        kept.help_uri = other.help_uri;
    }
    for vector in other.cvss_vectors {
        if !kept.cvss_vectors.contains(&vector) {
            kept.cvss_vectors.push(vector);
        }
    }
    kept.confidence = kept.confidence.max(other.confidence);
}

/// Union-find over finding indices.
/// Union-find over the findings, which also keeps, per set, the secret hash its members
/// carry: two sets holding different secrets are never joined, however a third finding
/// overlaps both (a hashless Trivy secret, a CWE-798 code finding on a line with two keys).
struct DisjointSets<'a> {
    parent: Vec<usize>,
    secret: Vec<Option<&'a str>>,
}

impl<'a> DisjointSets<'a> {
    fn new(findings: &[&'a Finding]) -> Self {
        DisjointSets {
            parent: (0..findings.len()).collect(),
            secret: findings
                .iter()
                .map(|f| f.fingerprints.get("secretHash").map(String::as_str))
                .collect(),
        }
    }

    fn find(&mut self, mut i: usize) -> usize {
        while self.parent[i] != i {
            self.parent[i] = self.parent[self.parent[i]];
            i = self.parent[i];
        }
        i
    }

    fn union(&mut self, a: usize, b: usize) {
        let (ra, rb) = (self.find(a), self.find(b));
        if ra == rb {
            return;
        }
        let secret = match (self.secret[ra], self.secret[rb]) {
            (Some(x), Some(y)) if x != y => return,
            (x, y) => x.or(y),
        };
        // The earlier finding stays the root, so output order is first appearance.
        let (root, child) = if ra < rb { (ra, rb) } else { (rb, ra) };
        self.parent[child] = root;
        self.secret[root] = secret;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Advisory, Ecosystem, Location, Package, Severity};

    fn code(tool: &str, rule: &str, path: &str, start: u32, end: u32, cwes: &[u32]) -> Finding {
        let mut f = Finding::new(Kind::Sast, tool, rule);
        f.location = Some(Location::new(path).with_lines(start, end));
        f.cwes = cwes.to_vec();
        f
    }

    fn dep(tool: &str, id: &str, aliases: &[&str], version: &str, severity: Severity) -> Finding {
        let mut f = Finding::new(Kind::Sca, tool, id);
        f.severity = severity;
        f.package = Some(Box::new(Package {
            ecosystem: Ecosystem::Npm,
            name: "lodash".into(),
            version: Some(version.into()),
            manifest: None,
        }));
        f.advisories = vec![Advisory {
            id: id.into(),
            aliases: aliases.iter().map(|s| s.to_string()).collect(),
            ..Advisory::default()
        }];
        f
    }

    #[test]
    fn policy_findings_of_two_packages_on_one_line_stay_two() {
        let licence = |name: &str| {
            let mut f = Finding::new(Kind::License, "posture", "license/deny");
            f.location = Some(Location::new("package.json").with_lines(12, 12));
            f.package = Some(Box::new(Package {
                ecosystem: Ecosystem::Npm,
                name: name.into(),
                version: Some("1.0.0".into()),
                manifest: Some("package.json".into()),
            }));
            f
        };
        let (merged, stats) = dedup(vec![licence("a"), licence("b")]);
        assert_eq!((merged.len(), stats.findings), (2, 2));
        // Code findings of one rule on one line do merge.
        let (merged, _) = dedup(vec![
            code("semgrep", "r", "a.py", 3, 3, &[]),
            code("semgrep", "r", "a.py", 3, 3, &[]),
        ]);
        assert_eq!(merged.len(), 1);
    }

    #[test]
    fn one_rule_on_one_line_merges_however_many_reports_there_are() {
        // Far more than the cross-rule window: the same-rule sweep joins them all.
        let many = 3 * CROSS_RULE_WINDOW;
        let mut findings: Vec<Finding> = (0..many)
            .map(|n| {
                code(
                    &format!("tool-{}", n % 3),
                    "minified-eval",
                    "app.min.js",
                    1,
                    1,
                    &[],
                )
            })
            .collect();
        findings.push(code("tool-0", "other-rule", "app.min.js", 1, 1, &[]));
        let refs: Vec<&Finding> = findings.iter().collect();
        let groups = groups(&refs);
        assert_eq!(groups.len(), 2);
        assert_eq!(groups[0].len(), many);
        // A run of overlapping ranges is one problem even where the first and last do not
        // overlap each other.
        let chain: Vec<Finding> = (0..many as u32)
            .map(|n| code("t", "r", "a.py", n + 1, n + 2, &[]))
            .collect();
        let refs: Vec<&Finding> = chain.iter().collect();
        assert_eq!(super::groups(&refs).len(), 1);
    }

    #[test]
    fn a_claimed_range_to_the_end_of_numbers_costs_nothing_more() {
        let findings = [
            code("a", "r1", "x.py", 1, u32::MAX, &[89]),
            code("b", "r2", "x.py", 4_000_000_000, 4_000_000_000, &[89]),
        ];
        let refs: Vec<&Finding> = findings.iter().collect();
        assert_eq!(groups(&refs), vec![vec![0, 1]]);
    }

    #[test]
    fn one_vulnerability_from_several_tools_is_one_finding() {
        let (merged, stats) = dedup(vec![
            dep(
                "osv-scanner",
                "GHSA-jf85-cpcp-j695",
                &["CVE-2019-10744"],
                "4.17.11",
                Severity::High,
            ),
            dep(
                "trivy",
                "CVE-2019-10744",
                &[],
                "4.17.11",
                Severity::Critical,
            ),
            dep(
                "npm audit",
                "GHSA-jf85-cpcp-j695",
                &[],
                "4.17.11",
                Severity::High,
            ),
            // Another installed version is another finding.
            dep("trivy", "CVE-2019-10744", &[], "4.17.4", Severity::Critical),
        ]);
        assert_eq!(
            stats,
            Dedup {
                results: 4,
                findings: 2
            }
        );
        let lead = &merged[0];
        assert_eq!(lead.severity, Severity::Critical);
        assert_eq!(lead.rule, "CVE-2019-10744", "the most severe report speaks");
        assert_eq!(lead.tools, vec!["trivy", "osv-scanner", "npm audit"]);
        assert_eq!(lead.advisories.len(), 2);
    }

    #[test]
    fn one_package_in_several_projects_of_a_monorepo_stays_apart() {
        let at = |manifest: Option<&str>, tool: &str| {
            let mut f = dep(tool, "CVE-2019-10744", &[], "4.17.11", Severity::High);
            if let Some(package) = f.package.as_mut() {
                package.manifest = manifest.map(str::to_string);
            }
            f
        };
        let (merged, stats) = dedup(vec![
            at(Some("web/package-lock.json"), "osv-scanner"),
            at(Some("web/package.json"), "trivy"),
            at(Some("admin/package-lock.json"), "osv-scanner"),
            // No manifest (an image scan): joins the first project.
            at(None, "grype"),
        ]);
        assert_eq!(stats.findings, 2, "{merged:#?}");
        assert_eq!(merged[0].tools, vec!["osv-scanner", "trivy", "grype"]);
        assert_eq!(merged[1].tools, vec!["osv-scanner"]);
        assert_eq!(
            merged[1]
                .package
                .as_ref()
                .and_then(|p| p.manifest.as_deref()),
            Some("admin/package-lock.json")
        );
    }

    #[test]
    fn code_findings_merge_on_overlap_and_shared_cwe_across_tools() {
        let (merged, stats) = dedup(vec![
            code("CodeQL", "py/sql-injection", "app.py", 10, 10, &[89]),
            code("Semgrep OSS", "formatted-sql-query", "app.py", 9, 11, &[89]),
            // Same tool, other rule, same CWE: two checks, two findings.
            code("Semgrep OSS", "sqlalchemy-raw", "app.py", 11, 11, &[89]),
            // Other tool, same line, unrelated CWE.
            code("Bandit", "B307", "app.py", 10, 10, &[95]),
            // Same rule twice (two runs): merged.
            code("CodeQL", "py/sql-injection", "app.py", 10, 10, &[89]),
            // Not overlapping.
            code("CodeQL", "py/sql-injection", "app.py", 30, 30, &[89]),
        ]);
        assert_eq!(stats.findings, 4, "{merged:#?}");
        assert_eq!(merged[0].tools, vec!["CodeQL", "Semgrep OSS"]);
    }

    #[test]
    fn one_weakness_under_two_tools_names_is_one_finding_naming_both_rules() {
        let pyyaml = "python.lang.security.deserialization.avoid-pyyaml-load.avoid-pyyaml-load";
        let mut bandit = code("Bandit", "B506", "load.py", 4, 4, &[20]);
        bandit.severity = Severity::Medium;
        let mut semgrep = code("Semgrep OSS", pyyaml, "load.py", 4, 4, &[502]);
        semgrep.severity = Severity::High;
        let (merged, stats) = dedup(vec![
            bandit,
            semgrep,
            // CWE-20 alone is too broad to make another tool's report the same problem.
            code("Semgrep OSS", "some-input-check", "load.py", 4, 4, &[20]),
        ]);
        assert_eq!(stats.findings, 2, "{merged:#?}");
        let yaml = &merged[0];
        assert_eq!(yaml.tools, vec!["Semgrep OSS", "Bandit"]);
        assert_eq!(yaml.rule, pyyaml, "the most severe report speaks");
        assert_eq!(
            yaml.rules,
            vec![
                ToolRule {
                    tool: "Semgrep OSS".into(),
                    rule: pyyaml.into()
                },
                ToolRule {
                    tool: "Bandit".into(),
                    rule: "B506".into()
                },
            ]
        );
        assert_eq!(yaml.cwes, vec![502, 20]);
        let json = serde_json::to_value(yaml).unwrap();
        assert_eq!(json["rules"][1]["rule"], "B506");
        // Alone, Bandit's finding is named by its canonical weakness; one rule, no `rules`.
        let (alone, _) = dedup(vec![code("Bandit", "B506", "load.py", 4, 4, &[20])]);
        assert_eq!(alone[0].cwes, vec![502, 20]);
        assert!(alone[0].rules.is_empty());
        assert!(
            serde_json::to_value(&alone[0])
                .unwrap()
                .get("rules")
                .is_none()
        );
    }

    #[test]
    fn the_table_pairs_the_popular_tools_rules() {
        // (tool, rule, the tool's own CWEs) pairs that report one problem on one line.
        let same: [[(&str, &str, &[u32]); 2]; 6] = [
            [
                ("Checkov", "CKV_AWS_19", &[]),
                ("Trivy", "AVD-AWS-0088", &[]),
            ],
            [
                ("ESLint", "security/detect-child-process", &[]),
                (
                    "Semgrep OSS",
                    "javascript.lang.security.detect-child-process.detect-child-process",
                    &[78],
                ),
            ],
            [
                ("gosec", "G401", &[326]),
                ("CodeQL", "go/weak-sensitive-data-hashing", &[328]),
            ],
            [
                ("SpotBugs", "HARD_CODE_PASSWORD", &[259]),
                ("CodeQL", "java/hardcoded-credential-api-call", &[798]),
            ],
            [
                ("Brakeman", "BRAKE0000", &[]),
                ("CodeQL", "rb/sql-injection", &[89]),
            ],
            [
                ("Bandit", "B201", &[94]),
                ("CodeQL", "py/flask-debug", &[215, 489]),
            ],
        ];
        for [(tool_a, rule_a, cwes_a), (tool_b, rule_b, cwes_b)] in same {
            let (merged, _) = dedup(vec![
                code(tool_a, rule_a, "main.x", 3, 9, cwes_a),
                code(tool_b, rule_b, "main.x", 5, 5, cwes_b),
            ]);
            assert_eq!(merged.len(), 1, "{tool_a} {rule_a} / {tool_b} {rule_b}");
            assert_eq!(merged[0].rules.len(), 2);
        }
        // Another weakness of the same resource stays apart: encryption is not logging.
        let (merged, _) = dedup(vec![
            code("Checkov", "CKV_AWS_18", "main.tf", 3, 9, &[]),
            code("Trivy", "AVD-AWS-0088", "main.tf", 3, 9, &[]),
        ]);
        assert_eq!(merged.len(), 2);
        assert_eq!(
            (merged[0].cwes.clone(), merged[1].cwes.clone()),
            (vec![778], vec![311])
        );
    }

    #[test]
    fn a_hard_coded_key_reported_as_code_and_as_a_secret_is_one_finding() {
        let mut leak = code("gitleaks", "generic-api-key", "cfg.py", 3, 3, &[]);
        leak.kind = Kind::Secret;
        leak.severity = Severity::High;
        let (merged, stats) = dedup(vec![
            code("Bandit", "B105", "cfg.py", 3, 3, &[259]),
            leak,
            // Another problem on the line stays apart.
            code("Bandit", "B608", "cfg.py", 3, 3, &[89]),
        ]);
        assert_eq!(stats.findings, 2, "{merged:#?}");
        assert_eq!(merged[0].kind, Kind::Secret, "the most severe report leads");
        assert_eq!(merged[0].tools, vec!["gitleaks", "Bandit"]);
        assert_eq!(merged[0].rules.len(), 2);
    }

    #[test]
    fn secrets_merge_by_location_unless_their_hashes_differ() {
        let secret = |tool: &str, hash: Option<&str>| {
            let mut f = code(tool, "aws-key", "cfg.py", 3, 3, &[]);
            f.kind = Kind::Secret;
            if let Some(h) = hash {
                f.fingerprints.insert("secretHash".into(), h.into());
            }
            f
        };
        let (_, stats) = dedup(vec![secret("gitleaks", Some("aa")), secret("trivy", None)]);
        assert_eq!(stats.findings, 1);
        let (_, stats) = dedup(vec![
            secret("gitleaks", Some("aa")),
            secret("trivy", Some("bb")),
        ]);
        assert_eq!(stats.findings, 2);
    }

    #[test]
    fn two_secrets_on_one_line_stay_two_whatever_overlaps_both() {
        let secret = |tool: &str, hash: Option<&str>| {
            let mut f = code(tool, "generic-api-key", "cfg.py", 3, 3, &[798]);
            f.kind = Kind::Secret;
            if let Some(h) = hash {
                f.fingerprints.insert("secretHash".into(), h.into());
            }
            f
        };
        // `KEY=… SECRET=…`: gitleaks names both secrets; Trivy (which hides the value) and a
        // CWE-798 code rule each overlap both, and would join them transitively.
        for third in [
            secret("trivy", None),
            code("bandit", "B105", "cfg.py", 3, 3, &[798]),
        ] {
            let (merged, stats) = dedup(vec![
                secret("gitleaks", Some("aa")),
                secret("gitleaks", Some("bb")),
                third,
            ]);
            assert_eq!(stats.findings, 2, "{merged:#?}");
            let hashes: Vec<&str> = merged
                .iter()
                .filter_map(|f| f.fingerprints.get("secretHash").map(String::as_str))
                .collect();
            assert_eq!(hashes, ["aa", "bb"]);
        }
    }

    #[test]
    fn a_credential_rule_s_line_is_one_that_may_hold_a_credential() {
        let (merged, _) = dedup(vec![code("bandit", "B105", "cfg.py", 3, 3, &[259])]);
        assert!(merged[0].may_hold_a_credential());
        let (merged, _) = dedup(vec![code("bandit", "B602", "run.py", 3, 3, &[78])]);
        assert!(!merged[0].may_hold_a_credential());
    }
}
