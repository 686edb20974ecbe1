//! Reads the inventory of a revision through any [`SourceRepo`]: its manifests and
//! lockfiles, and the OpenAPI documents it holds. The reading is here, at the edge; what the
//! texts mean is [`crate::inventory`]'s.

use super::{GitError, SourceRepo};
use crate::inventory::{RepoInventory, lockfiles, openapi};

/// Files larger than this are skipped with a warning: the largest real lockfiles are a few
/// MiB, and a file of this size is not an API description anyone maintains by hand.
pub const MAX_INVENTORY_FILE_BYTES: usize = 32 * 1024 * 1024;

/// The inventory of `rev`, whose files are `files` (as [`SourceRepo::list_files`] gives
/// them). A file that cannot be read as text, or is too large, is a warning.
pub fn read(repo: &dyn SourceRepo, rev: &str, files: &[String]) -> Result<RepoInventory, GitError> {
    let mut warnings = Vec::new();
    let mut texts = |wanted: &dyn Fn(&str) -> bool| -> Result<Vec<(String, String)>, GitError> {
        let mut texts = Vec::new();
        for path in files.iter().filter(|path| wanted(path)) {
            let Some(bytes) = repo.read_file(rev, path)? else {
                continue;
            };
            if bytes.len() > MAX_INVENTORY_FILE_BYTES {
                warnings.push(format!(
                    "{path}: {} bytes, more than the {} MiB posture reads; its components are not listed",
                    bytes.len(),
                    MAX_INVENTORY_FILE_BYTES / (1024 * 1024)
                ));
                continue;
            }
            match String::from_utf8(bytes) {
                Ok(text) => texts.push((path.clone(), text)),
                Err(error) => warnings.push(format!(
                    "{path}: not UTF-8 (byte {}); skipped",
                    error.utf8_error().valid_up_to()
                )),
            }
        }
        Ok(texts)
    };
    let manifests = texts(&lockfiles::is_inventory_file)?;
    let documents = texts(&is_api_document)?;
    let found = lockfiles::read(&manifests);
    warnings.extend(found.warnings);
    let mut apis = Vec::new();
    for (path, text) in &documents {
        match openapi::read(path, text) {
            Ok(Some(document)) => apis.push(document),
            Ok(None) => {}
            Err(error) => warnings.push(error.to_string()),
        }
    }
    Ok(RepoInventory {
        components: found.components,
        apis,
        warnings,
    })
}

/// Whether posture reads `path` as a possible OpenAPI document: a YAML or JSON file whose
/// name says it describes an API (`openapi.yaml`, `swagger.json`, `api/v1.yaml`,
/// `petstore.openapi.yml`). Reading every YAML file of a repository through a forge's API
/// would cost a request each.
pub fn is_api_document(path: &str) -> bool {
    if !openapi::is_candidate(path) {
        return false;
    }
    let lower = path.to_ascii_lowercase();
    let name = lower.rsplit('/').next().unwrap_or(&lower);
    name.contains("openapi")
        || name.contains("swagger")
        || name.starts_with("api.")
        || name.starts_with("api-")
        || name.starts_with("api_")
        || lower.split('/').rev().skip(1).any(|dir| {
            matches!(
                dir,
                "api" | "apis" | "openapi" | "swagger" | "spec" | "specs"
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_documents_are_told_by_name_or_folder() {
        for path in [
            "openapi.yaml",
            "docs/swagger.json",
            "api/v1.yaml",
            "services/billing/petstore.openapi.yml",
            "spec/users.yaml",
            "api-public.json",
        ] {
            assert!(is_api_document(path), "{path}");
        }
        for path in [
            ".github/workflows/ci.yml",
            "docker-compose.yaml",
            "package.json",
            "api/README.md",
            "node_modules/x/openapi.yaml",
        ] {
            assert!(!is_api_document(path), "{path}");
        }
    }
}
