//! Paths as scanners write them (URIs, absolute paths of the machine that ran the scan,
//! `./`-prefixed, backslashes) mapped to repository-relative `/`-paths of files at head.
//! Scanners run in CI checkouts, containers or a developer's home directory, so an absolute
//! path is placed by the longest suffix of it that names a file of the repository.

use std::collections::{HashMap, HashSet};

use crate::model::Finding;

/// A path with `\` turned into `/`, without empty and `.` segments, `..` applied where it
/// can be; absolute paths (`/x`, `C:/x`) keep a leading `/`.
pub(crate) fn normalize(path: &str) -> String {
    let unified = path.trim().replace('\\', "/");
    let absolute = unified.starts_with('/') || has_drive_letter(&unified);
    let mut segments: Vec<&str> = Vec::new();
    for segment in unified.split('/') {
        match segment {
            "" | "." => {}
            ".." if segments.last().is_some_and(|last| *last != "..") => {
                segments.pop();
            }
            ".." if absolute => {}
            other => segments.push(other),
        }
    }
    let joined = segments.join("/");
    if absolute {
        format!("/{joined}")
    } else {
        joined
    }
}

fn has_drive_letter(path: &str) -> bool {
    let bytes = path.as_bytes();
    bytes.len() >= 2 && bytes[0].is_ascii_alphabetic() && bytes[1] == b':'
}

/// The local path a SARIF URI (already joined with its base) names, normalised.
/// `file://` URIs lose scheme and host; percent-escapes are decoded.
pub(crate) fn uri_to_path(uri: &str) -> String {
    let uri = uri.trim();
    let has_file_scheme = uri
        .get(..5)
        .is_some_and(|scheme| scheme.eq_ignore_ascii_case("file:"));
    if has_file_scheme {
        let path = match url::Url::parse(uri) {
            Ok(url) => url.path().to_string(),
            Err(_) => uri[5..].to_string(),
        };
        return normalize(&percent_decode(&path));
    }
    normalize(&percent_decode(uri))
}

/// `%XX` escapes decoded; malformed escapes kept as written; invalid UTF-8 replaced.
fn percent_decode(text: &str) -> String {
    percent_encoding::percent_decode_str(text)
        .decode_utf8_lossy()
        .into_owned()
}

/// Places ingested paths among the files of the repository at head.
#[derive(Debug, Clone, Default)]
pub struct PathResolver {
    files: HashSet<String>,
    /// File name → every repository path with that file name.
    by_name: HashMap<String, Vec<String>>,
}

impl PathResolver {
    /// `repo_files`: repository-relative `/`-paths of the files at head.
    pub fn new(repo_files: impl IntoIterator<Item = String>) -> Self {
        let mut resolver = PathResolver::default();
        for file in repo_files {
            let file = normalize(&file);
            let file = file.trim_start_matches('/').to_string();
            if file.is_empty() || resolver.files.contains(&file) {
                continue;
            }
            resolver
                .by_name
                .entry(file_name(&file).to_string())
                .or_default()
                .push(file.clone());
            resolver.files.insert(file);
        }
        resolver
    }

    /// Maps a path as ingested to a repo-relative one; None when it cannot be placed in the repo.
    ///
    /// A relative path naming a file is kept (normalised); otherwise the longest suffix of the
    /// path, in whole segments, that names a file of the repository.
    pub fn resolve(&self, path: &str) -> Option<String> {
        let normalized = normalize(path);
        if !normalized.starts_with('/') && self.files.contains(&normalized) {
            return Some(normalized);
        }
        self.by_name
            .get(file_name(&normalized))?
            .iter()
            .filter(|candidate| is_segment_suffix(&normalized, candidate))
            .max_by_key(|candidate| candidate.len())
            .cloned()
    }
}

fn file_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// `suffix` is `path` or a tail of it starting at a segment boundary.
fn is_segment_suffix(path: &str, suffix: &str) -> bool {
    path == suffix
        || path
            .strip_suffix(suffix)
            .is_some_and(|head| head.ends_with('/'))
}

/// Resolves every finding's location (and package.manifest) path in place; a location that
/// cannot be mapped is kept with `outside_repo = true` and one warning per distinct path names
/// it. Returns the warnings.
pub fn resolve_paths(findings: &mut [Finding], resolver: &PathResolver) -> Vec<String> {
    let mut cache: HashMap<String, Option<String>> = HashMap::new();
    let mut resolve = |path: &str| -> Option<String> {
        cache
            .entry(path.to_string())
            .or_insert_with(|| resolver.resolve(path))
            .clone()
    };
    let mut unmapped: HashSet<String> = HashSet::new();
    let mut warnings = Vec::new();
    for finding in findings.iter_mut() {
        if let Some(location) = finding.location.as_mut().filter(|l| !l.outside_repo) {
            match resolve(&location.path) {
                Some(path) => location.path = path,
                None => {
                    location.outside_repo = true;
                    if unmapped.insert(location.path.clone()) {
                        warnings.push(format!(
                            "`{}` (reported by {}) is not a file of the repository; its findings are kept but not placed on a line",
                            location.path,
                            finding.tools.join(", ")
                        ));
                    }
                }
            }
        }
        // A manifest outside the repository cannot be read or edited: forget it.
        if let Some(package) = finding.package.as_mut() {
            package.manifest = package.manifest.as_deref().and_then(&mut resolve);
        }
    }
    warnings
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Ecosystem, Kind, Location, Package};

    fn resolver() -> PathResolver {
        PathResolver::new(
            [
                "src/a.py",
                "./lib/b.py",
                "app/src/a.py",
                "go.mod",
                "docs/My File.md",
            ]
            .map(String::from),
        )
    }

    #[test]
    fn normalisation() {
        assert_eq!(normalize("./src//a.py"), "src/a.py");
        assert_eq!(normalize("src\\x\\..\\a.py"), "src/a.py");
        assert_eq!(normalize("/home/x/../y/a.py"), "/home/y/a.py");
        assert_eq!(normalize("C:\\work\\a.py"), "/C:/work/a.py");
        assert_eq!(normalize("../a.py"), "../a.py");
    }

    #[test]
    fn uris_become_paths() {
        assert_eq!(
            uri_to_path("file:///home/x/repo/src/a.py"),
            "/home/x/repo/src/a.py"
        );
        assert_eq!(
            uri_to_path("file:////src/.venv/lib/x.js"),
            "/src/.venv/lib/x.js"
        );
        assert_eq!(
            uri_to_path("file://build.example.com/work/src/a.c"),
            "/work/src/a.c"
        );
        assert_eq!(uri_to_path("docs/My%20File.md"), "docs/My File.md");
        assert_eq!(uri_to_path("file:///C:/w/a%2Bb.c"), "/C:/w/a+b.c");
        assert_eq!(uri_to_path("100%zz"), "100%zz");
    }

    #[test]
    fn existing_relative_paths_are_kept() {
        let r = resolver();
        assert_eq!(r.resolve("./src/a.py").as_deref(), Some("src/a.py"));
        assert_eq!(r.resolve("lib/b.py").as_deref(), Some("lib/b.py"));
        assert_eq!(
            r.resolve("docs/My File.md").as_deref(),
            Some("docs/My File.md")
        );
    }

    #[test]
    fn absolute_paths_map_by_longest_existing_suffix() {
        let r = resolver();
        assert_eq!(
            r.resolve("/home/runner/work/app/app/src/a.py").as_deref(),
            Some("app/src/a.py")
        );
        assert_eq!(r.resolve("/build/src/a.py").as_deref(), Some("src/a.py"));
        assert_eq!(
            r.resolve("/path/to/different-dir/go.mod").as_deref(),
            Some("go.mod")
        );
        assert_eq!(r.resolve("/build/xsrc/b.py"), None);
        assert_eq!(r.resolve("/build/other.py"), None);
        assert_eq!(r.resolve("vendor/lib/b.py").as_deref(), Some("lib/b.py"));
    }

    #[test]
    fn resolve_paths_marks_unmapped_locations_and_warns_once_per_path() {
        let mut findings: Vec<Finding> = ["/ci/app/src/a.py", "image.tar", "image.tar"]
            .iter()
            .map(|path| {
                let mut f = Finding::new(Kind::Sast, "tool", "rule");
                f.location = Some(Location::new(*path).with_lines(3, 3));
                f
            })
            .collect();
        let mut sca = Finding::new(Kind::Sca, "osv-scanner", "GHSA-x");
        sca.package = Some(Box::new(Package {
            ecosystem: Ecosystem::Go,
            name: "m".into(),
            version: None,
            manifest: Some("/tmp/scan/go.mod".into()),
        }));
        findings.push(sca);

        let warnings = resolve_paths(&mut findings, &resolver());

        assert_eq!(findings[0].path(), Some("app/src/a.py"));
        assert!(!findings[0].location.as_ref().unwrap().outside_repo);
        assert!(findings[1].location.as_ref().unwrap().outside_repo);
        assert_eq!(findings[1].path(), Some("image.tar"));
        assert!(findings[2].location.as_ref().unwrap().outside_repo);
        assert_eq!(warnings.len(), 1);
        assert!(warnings[0].contains("image.tar"));
        assert_eq!(
            findings[3].package.as_ref().unwrap().manifest.as_deref(),
            Some("go.mod")
        );
    }

    #[test]
    fn common_file_names_resolve_among_thousands_of_candidates() {
        let files: Vec<String> = (0..5000)
            .map(|i| format!("pkg{i}/mod{i}/__init__.py"))
            .collect();
        let r = PathResolver::new(files);
        for i in (0..5000).step_by(7) {
            let abs = format!("/home/ci/checkout/pkg{i}/mod{i}/__init__.py");
            assert_eq!(r.resolve(&abs), Some(format!("pkg{i}/mod{i}/__init__.py")));
        }
    }
}
