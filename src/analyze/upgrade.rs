//! Where a vulnerable dependency is declared, and the upgrade that clears its advisories,
//! as the exact edit of the declaring line — then the upgrades grouped into suggestions:
//! one per package and target version, listing every advisory it clears and every manifest
//! of a monorepo that declares the package.

use std::collections::{BTreeMap, HashMap};

use super::manifest::{find_declaration, rewrite_declaration};
use super::remediation::FixAdvice;
use super::sources::Sources;
use crate::model::{
    Ecosystem, Finding, Package, Review, ReviewedFinding, Transitive, Upgrade, UpgradeLocation,
    UpgradeSuggestion,
};

/// A line of a manifest or lockfile that sets a package's version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Declared {
    pub manifest: String,
    /// 1-based.
    pub line: u32,
    pub text: String,
}

/// The files that may declare `package`: the direct manifest beside a lockfile first (where
/// a developer changes a version), then the file the scanner named, then the lockfiles
/// beside a direct manifest (which show how a transitive dependency comes in).
pub fn manifest_candidates(package: &Package) -> Vec<String> {
    let Some(reported) = &package.manifest else {
        return Vec::new();
    };
    let (dir, file) = match reported.rsplit_once('/') {
        Some((dir, file)) => (format!("{dir}/"), file),
        None => (String::new(), reported.as_str()),
    };
    let companions: &[&str] = match file {
        "package-lock.json" | "npm-shrinkwrap.json" | "yarn.lock" | "pnpm-lock.yaml" => {
            &["package.json"]
        }
        "Cargo.lock" => &["Cargo.toml"],
        "poetry.lock" | "Pipfile.lock" | "uv.lock" | "pdm.lock" => {
            &["pyproject.toml", "Pipfile", "requirements.txt"]
        }
        "go.sum" => &["go.mod"],
        "Gemfile.lock" => &["Gemfile"],
        "composer.lock" => &["composer.json"],
        _ => &[],
    };
    let lockfiles: &[&str] = match file {
        "package.json" => &["package-lock.json", "npm-shrinkwrap.json"],
        "Cargo.toml" => &["Cargo.lock"],
        _ => &[],
    };
    companions
        .iter()
        .map(|c| format!("{dir}{c}"))
        .chain(std::iter::once(reported.clone()))
        .chain(lockfiles.iter().map(|l| format!("{dir}{l}")))
        .collect()
}

/// Every line among the candidate manifests at head that declares the finding's package.
pub fn declarations(finding: &Finding, sources: &Sources) -> Vec<Declared> {
    let Some(package) = &finding.package else {
        return Vec::new();
    };
    let version = package.version.as_deref().unwrap_or("");
    manifest_candidates(package)
        .into_iter()
        .filter_map(|manifest| {
            let file = sources.get(&manifest)?;
            let found = find_declaration(
                &manifest,
                file.text(),
                &package.ecosystem,
                &package.name,
                version,
            )?;
            Some(Declared {
                manifest,
                line: found.line,
                text: found.text,
            })
        })
        .collect()
}

/// The upgrade of `finding`'s package to `fix.to`, with the edit of `declared` (the first
/// declaration) when the version can be rewritten there. A transitive dependency (`via`)
/// gets no edit of its lockfile line — lockfiles are regenerated, not edited — but the
/// advice on what to change instead.
pub fn advise(
    finding: &Finding,
    declared: Option<&Declared>,
    fix: &FixAdvice,
    via: Option<Transitive>,
) -> Option<Upgrade> {
    let package = finding.package.as_ref()?;
    let from = package.version.as_deref()?;
    let suggested = declared
        .filter(|_| via.is_none())
        .and_then(|d| rewrite_declaration(&d.text, from, &fix.to));
    Some(Upgrade {
        package: package.name.clone(),
        from: from.to_string(),
        to: fix.to.clone(),
        manifest: declared
            .map(|d| d.manifest.clone())
            .or_else(|| package.manifest.clone()),
        line: declared.map(|d| d.line),
        fixes: fix.fixes.clone(),
        breaking: fix.breaking,
        current_text: suggested.as_ref().and(declared.map(|d| d.text.clone())),
        suggested_text: suggested,
        via,
    })
}

/// The findings' upgrades grouped into suggestions: one per ecosystem, package and target
/// version, with every location (manifest and line) and every advisory it clears; the
/// suggestions clearing most advisories first.
pub fn suggestions(findings: &[ReviewedFinding]) -> Vec<UpgradeSuggestion> {
    let mut groups: BTreeMap<(String, String, String), UpgradeSuggestion> = BTreeMap::new();
    for reviewed in findings {
        let (Some(upgrade), Some(package)) = (&reviewed.upgrade, &reviewed.finding.package) else {
            continue;
        };
        if reviewed.ignored.is_some() {
            continue;
        }
        let key = (
            package.ecosystem.to_string(),
            package.ecosystem.normalize_name(&package.name),
            upgrade.to.clone(),
        );
        let suggestion = groups.entry(key).or_insert_with(|| UpgradeSuggestion {
            ecosystem: package.ecosystem.clone(),
            package: package.name.clone(),
            to: upgrade.to.clone(),
            breaking: false,
            fixes: Vec::new(),
            locations: Vec::new(),
            findings: Vec::new(),
        });
        suggestion.breaking |= upgrade.breaking;
        for id in &upgrade.fixes {
            if !suggestion.fixes.contains(id) {
                suggestion.fixes.push(id.clone());
            }
        }
        if !suggestion.findings.contains(&reviewed.id) {
            suggestion.findings.push(reviewed.id.clone());
        }
        let location = UpgradeLocation {
            from: upgrade.from.clone(),
            manifest: upgrade.manifest.clone(),
            line: upgrade.line,
            current_text: upgrade.current_text.clone(),
            suggested_text: upgrade.suggested_text.clone(),
            via: upgrade.via.clone(),
        };
        if !suggestion
            .locations
            .iter()
            .any(|l| l.manifest == location.manifest && l.line == location.line)
        {
            suggestion.locations.push(location);
        }
    }
    let mut out: Vec<UpgradeSuggestion> = groups.into_values().collect();
    for suggestion in &mut out {
        suggestion
            .locations
            .sort_by(|a, b| (a.manifest.as_deref(), a.line).cmp(&(b.manifest.as_deref(), b.line)));
    }
    out.sort_by(|a, b| {
        b.fixes
            .len()
            .cmp(&a.fixes.len())
            .then_with(|| a.package.cmp(&b.package))
    });
    out
}

/// How many distinct vulnerabilities the review's upgrade suggestions clear: advisory ids
/// that are aliases of one another (by the findings' advisories) count once.
pub fn cleared_advisories(review: &Review) -> usize {
    // Union-find over ids: each advisory joins its id and aliases.
    let mut parent: HashMap<String, String> = HashMap::new();
    fn root(parent: &HashMap<String, String>, id: &str) -> String {
        let mut at = id.to_string();
        while let Some(up) = parent.get(&at).filter(|up| **up != at) {
            at = up.clone();
        }
        at
    }
    for reviewed in &review.findings {
        for advisory in &reviewed.finding.advisories {
            let ids: Vec<String> = advisory.ids().map(str::to_ascii_uppercase).collect();
            for id in &ids {
                parent.entry(id.clone()).or_insert_with(|| id.clone());
            }
            if let Some(first) = ids.first() {
                let first_root = root(&parent, first);
                for id in &ids[1..] {
                    let other = root(&parent, id);
                    if other != first_root {
                        parent.insert(other, first_root.clone());
                    }
                }
            }
        }
    }
    let mut cleared = std::collections::HashSet::new();
    for suggestion in &review.upgrades {
        for id in &suggestion.fixes {
            let id = id.to_ascii_uppercase();
            cleared.insert(if parent.contains_key(&id) {
                root(&parent, &id)
            } else {
                id
            });
        }
    }
    cleared.len()
}

/// The key a package's advisories are pooled under: the same package at the same version
/// is one upgrade whichever finding or manifest reports it.
pub fn package_key(package: &Package) -> Option<(Ecosystem, String, String)> {
    Some((
        package.ecosystem.clone(),
        package.ecosystem.normalize_name(&package.name),
        package
            .version
            .clone()?
            .trim()
            .trim_start_matches(['v', '='])
            .to_string(),
    ))
}
