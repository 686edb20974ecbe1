//! Where a vulnerable dependency is declared, and the upgrade that clears its advisories,
//! as the exact edit of the declaring line.

use super::manifest::{find_declaration, rewrite_declaration};
use super::remediation::minimal_fix;
use super::sources::Sources;
use crate::model::{Finding, Package, Upgrade};

/// A line of a manifest or lockfile that sets a package's version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Declared {
    pub manifest: String,
    /// 1-based.
    pub line: u32,
    pub text: String,
}

/// The files that may declare `package`: the direct manifest beside a lockfile first (where
/// a developer changes a version), then the file the scanner named.
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
    companions
        .iter()
        .map(|c| format!("{dir}{c}"))
        .chain(std::iter::once(reported.clone()))
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

/// The minimal upgrade clearing every advisory that affects the installed version, with the
/// edit of `declared` (the first declaration) when the version can be rewritten there.
pub fn advise(finding: &Finding, declared: Option<&Declared>) -> Option<Upgrade> {
    let package = finding.package.as_ref()?;
    let from = package.version.as_deref()?;
    let fix = minimal_fix(&package.ecosystem, from, &finding.advisories)?;
    let suggested = declared.and_then(|d| rewrite_declaration(&d.text, from, &fix.to));
    Some(Upgrade {
        package: package.name.clone(),
        from: from.to_string(),
        to: fix.to,
        manifest: declared
            .map(|d| d.manifest.clone())
            .or_else(|| package.manifest.clone()),
        line: declared.map(|d| d.line),
        fixes: fix.fixes,
        breaking: fix.breaking,
        current_text: suggested.as_ref().and(declared.map(|d| d.text.clone())),
        suggested_text: suggested,
    })
}
