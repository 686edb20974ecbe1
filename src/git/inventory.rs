//! Reads the inventory of a revision through any [`SourceRepo`]: its manifests and
//! lockfiles, and the OpenAPI documents it holds. The reading is here, at the edge; what the
//! texts mean is [`crate::inventory`]'s.

use super::SourceRepo;
use crate::inventory::{RepoInventory, lockfiles, openapi};

/// Files larger than this are skipped with a warning: the largest real lockfiles are a few
/// MiB, and a file of this size is not an API description anyone maintains by hand.
pub const MAX_INVENTORY_FILE_BYTES: usize = 32 * 1024 * 1024;
/// At most this many files of each kind are read per revision, and at most this many bytes
/// in all: through a forge every file is a request, and a change could add thousands.
pub const MAX_INVENTORY_FILES: usize = 300;
pub const MAX_INVENTORY_BYTES: usize = 96 * 1024 * 1024;

/// What to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Wanted {
    /// Manifests and lockfiles (for the component policy and the inventory).
    pub components: bool,
    /// OpenAPI documents.
    pub apis: bool,
}

/// The inventory of `rev`, whose files are `files` (as [`SourceRepo::list_files`] gives
/// them). A file that cannot be read, is not text, or is over a limit is a warning, never
/// the end of the review.
pub fn read(repo: &dyn SourceRepo, rev: &str, files: &[String], wanted: Wanted) -> RepoInventory {
    let mut warnings = Vec::new();
    let mut budget = MAX_INVENTORY_BYTES;
    let mut texts = |kind: &str, wanted: &dyn Fn(&str) -> bool| -> Vec<(String, String)> {
        let mut texts = Vec::new();
        let candidates: Vec<&String> = files.iter().filter(|path| wanted(path)).collect();
        if candidates.len() > MAX_INVENTORY_FILES {
            warnings.push(format!(
                "{} {kind} at {rev}: only the first {MAX_INVENTORY_FILES} were read",
                candidates.len()
            ));
        }
        for path in candidates.into_iter().take(MAX_INVENTORY_FILES) {
            let bytes = match repo.read_file(rev, path) {
                Ok(Some(bytes)) => bytes,
                Ok(None) => continue,
                Err(error) => {
                    warnings.push(format!(
                        "{path}: cannot be read, so it was skipped: {error}"
                    ));
                    continue;
                }
            };
            if bytes.len() > MAX_INVENTORY_FILE_BYTES || bytes.len() > budget {
                warnings.push(format!(
                    "{path}: {} bytes, more than posture reads (a file: {} MiB; all of them: {} MiB); skipped",
                    bytes.len(),
                    MAX_INVENTORY_FILE_BYTES / (1024 * 1024),
                    MAX_INVENTORY_BYTES / (1024 * 1024)
                ));
                continue;
            }
            budget -= bytes.len();
            match String::from_utf8(bytes) {
                Ok(text) => texts.push((path.clone(), text)),
                Err(error) => warnings.push(format!(
                    "{path}: not UTF-8 (byte {}); skipped",
                    error.utf8_error().valid_up_to()
                )),
            }
        }
        texts
    };
    let manifests = if wanted.components {
        texts("manifests and lockfiles", &lockfiles::is_inventory_file)
    } else {
        Vec::new()
    };
    let documents = if wanted.apis {
        texts("API documents", &is_api_document)
    } else {
        Vec::new()
    };
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
    RepoInventory {
        components: found.components,
        apis,
        warnings,
    }
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
