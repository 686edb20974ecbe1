//! CI artifacts are untrusted zip files: this module picks the scanner reports out of one
//! without ever trusting its headers. Nothing is written to disk; entries whose names could
//! escape a directory (`../`, absolute paths, symlinks) are refused, and every size is
//! enforced on the bytes actually inflated, so a zip bomb stops at the limit.

use std::io::{Cursor, Read};

use globset::{Glob, GlobSet, GlobSetBuilder};

use super::ReportFile;
use crate::ingest::MAX_REPORT_BYTES;

/// The report file names posture looks for when the config names none.
pub const DEFAULT_REPORT_GLOBS: &[&str] = &[
    "**/*.sarif",
    "**/*.sarif.json",
    "**/gl-*-report.json",
    "**/osv-scanner*.json",
    "**/osv*.json",
    "**/trivy*.json",
    "**/grype*.json",
    "**/gitleaks*.json",
    "**/npm-audit*.json",
    "**/pip-audit*.json",
    "**/cargo-audit*.json",
    "**/*.cdx.json",
    "**/bom.json",
    "**/sbom*.json",
];

/// Which files of an artifact are scanner reports (matched against the path inside it).
#[derive(Debug, Clone)]
pub struct ReportGlobs {
    set: GlobSet,
    patterns: Vec<String>,
}

impl ReportGlobs {
    pub fn new<S: AsRef<str>>(patterns: &[S]) -> Result<ReportGlobs, ArtifactError> {
        let mut builder = GlobSetBuilder::new();
        for pattern in patterns {
            let pattern = pattern.as_ref();
            let glob = Glob::new(pattern).map_err(|e| ArtifactError::Glob {
                pattern: pattern.to_owned(),
                message: e.kind().to_string(),
            })?;
            builder.add(glob);
        }
        let set = builder.build().map_err(|e| ArtifactError::Glob {
            pattern: patterns
                .iter()
                .map(|p| p.as_ref())
                .collect::<Vec<_>>()
                .join(", "),
            message: e.to_string(),
        })?;
        Ok(ReportGlobs {
            set,
            patterns: patterns.iter().map(|p| p.as_ref().to_owned()).collect(),
        })
    }

    pub fn matches(&self, path: &str) -> bool {
        self.set.is_match(path)
    }

    pub fn patterns(&self) -> &[String] {
        &self.patterns
    }
}

impl Default for ReportGlobs {
    fn default() -> ReportGlobs {
        ReportGlobs::new(DEFAULT_REPORT_GLOBS).expect("the default globs are valid")
    }
}

/// Bounds on what one artifact may cost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArtifactLimits {
    /// The zip as downloaded.
    pub max_archive_bytes: u64,
    /// Entries in the zip's directory.
    pub max_entries: usize,
    /// One report, inflated.
    pub max_file_bytes: u64,
    /// All reports taken for one commit, inflated, whatever the number of artifacts.
    pub max_total_bytes: u64,
}

impl Default for ArtifactLimits {
    fn default() -> ArtifactLimits {
        ArtifactLimits {
            max_archive_bytes: 512 * 1024 * 1024,
            max_entries: 10_000,
            max_file_bytes: MAX_REPORT_BYTES,
            max_total_bytes: 512 * 1024 * 1024,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ArtifactError {
    #[error("artifact '{artifact}' is {size} bytes, over the limit of {limit}")]
    ArchiveTooLarge {
        artifact: String,
        size: u64,
        limit: u64,
    },
    #[error("artifact '{artifact}' is not a readable zip: {message}")]
    NotAZip { artifact: String, message: String },
    #[error("artifact '{artifact}' has {entries} entries, over the limit of {limit}")]
    TooManyEntries {
        artifact: String,
        entries: usize,
        limit: usize,
    },
    #[error("artifact '{artifact}' could not be read: {message}")]
    Stopped { artifact: String, message: String },
    #[error("report glob '{pattern}' is invalid: {message}")]
    Glob { pattern: String, message: String },
}

/// The reports in one artifact, and what was skipped and why.
#[derive(Debug, Default)]
pub struct Extracted {
    pub files: Vec<ReportFile>,
    pub skipped: Vec<String>,
}

/// [`extract`] on the blocking pool, within what is left of the commit's budget after the
/// reports already taken: inflating is CPU work whose cost an artifact's author chooses.
pub async fn extract_for(
    reports: &mut super::Reports,
    artifact: &str,
    archive: Vec<u8>,
    globs: &ReportGlobs,
    limits: &ArtifactLimits,
) -> Result<(), ArtifactError> {
    let taken: u64 = reports.files.iter().map(|f| f.bytes.len() as u64).sum();
    let (name, globs, limits) = (artifact.to_owned(), globs.clone(), *limits);
    let extracted =
        tokio::task::spawn_blocking(move || extract_after(&name, &archive, &globs, &limits, taken))
            .await
            .map_err(|stopped| ArtifactError::Stopped {
                artifact: artifact.to_owned(),
                message: stopped.to_string(),
            })??;
    reports.files.extend(extracted.files);
    reports.skipped.extend(extracted.skipped);
    Ok(())
}

/// Reads the entries of `archive` that `globs` select. A bad entry is skipped with its reason;
/// an archive that breaks a limit as a whole is refused.
pub fn extract(
    artifact: &str,
    archive: &[u8],
    globs: &ReportGlobs,
    limits: &ArtifactLimits,
) -> Result<Extracted, ArtifactError> {
    extract_after(artifact, archive, globs, limits, 0)
}

/// [`extract`] when `taken` bytes of the commit's reports were inflated already.
fn extract_after(
    artifact: &str,
    archive: &[u8],
    globs: &ReportGlobs,
    limits: &ArtifactLimits,
    taken: u64,
) -> Result<Extracted, ArtifactError> {
    if archive.len() as u64 > limits.max_archive_bytes {
        return Err(ArtifactError::ArchiveTooLarge {
            artifact: artifact.to_owned(),
            size: archive.len() as u64,
            limit: limits.max_archive_bytes,
        });
    }
    let not_a_zip = |e: zip::result::ZipError| ArtifactError::NotAZip {
        artifact: artifact.to_owned(),
        message: e.to_string(),
    };
    let mut zip = zip::ZipArchive::new(Cursor::new(archive)).map_err(not_a_zip)?;
    if zip.len() > limits.max_entries {
        return Err(ArtifactError::TooManyEntries {
            artifact: artifact.to_owned(),
            entries: zip.len(),
            limit: limits.max_entries,
        });
    }
    let mut out = Extracted::default();
    let mut total = taken;
    for index in 0..zip.len() {
        let mut entry = match zip.by_index(index) {
            Ok(entry) => entry,
            Err(e) => {
                out.skipped
                    .push(format!("{artifact}: entry {index} unreadable: {e}"));
                continue;
            }
        };
        if entry.is_dir() {
            continue;
        }
        let raw_name = String::from_utf8_lossy(entry.name_raw()).into_owned();
        // An absolute name (`/etc/x`, `\\host\x`, `C:\x`) is refused like `../`: the zip
        // crate would read it relative, but a tool that wrote it meant somewhere else.
        let absolute =
            raw_name.starts_with(['/', '\\']) || raw_name.as_bytes().get(1) == Some(&b':');
        let Some(safe) = entry.enclosed_name().filter(|_| !absolute) else {
            out.skipped.push(format!(
                "{artifact}/{raw_name}: refused, the path escapes the artifact"
            ));
            continue;
        };
        if entry.is_symlink() {
            out.skipped
                .push(format!("{artifact}/{raw_name}: refused, a symbolic link"));
            continue;
        }
        let Some(name) = safe.to_str().map(|n| n.replace('\\', "/")) else {
            out.skipped
                .push(format!("{artifact}/{raw_name}: refused, not UTF-8"));
            continue;
        };
        if !globs.matches(&name) {
            continue;
        }
        // Trust no header: inflate at most one byte past the limit and look.
        let budget = limits
            .max_file_bytes
            .min(limits.max_total_bytes.saturating_sub(total));
        let mut bytes = Vec::new();
        if let Err(e) = (&mut entry).take(budget + 1).read_to_end(&mut bytes) {
            out.skipped
                .push(format!("{artifact}/{name}: unreadable: {e}"));
            continue;
        }
        if bytes.len() as u64 > budget {
            // That entry is refused; the others are still read (a smaller one may fit).
            out.skipped.push(if budget < limits.max_file_bytes {
                format!(
                    "{artifact}/{name}: skipped, the commit's reports would inflate past {} \
                     bytes in all",
                    limits.max_total_bytes
                )
            } else {
                format!(
                    "{artifact}/{name}: skipped, it inflates past {} bytes",
                    limits.max_file_bytes
                )
            });
            continue;
        }
        total += bytes.len() as u64;
        out.files.push(ReportFile {
            name: format!("{artifact}/{name}"),
            bytes,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use zip::write::SimpleFileOptions;

    use super::*;

    fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
        let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let options =
            SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
        for (name, bytes) in entries {
            writer.start_file(*name, options).unwrap();
            writer.write_all(bytes).unwrap();
        }
        writer.finish().unwrap().into_inner()
    }

    #[test]
    fn picks_reports_by_glob_and_names_them_by_artifact() {
        let archive = zip_of(&[
            ("results/semgrep.sarif", b"{}"),
            ("osv-scanner.json", b"[]"),
            ("README.md", b"# not a report"),
        ]);
        let out = extract(
            "scans",
            &archive,
            &ReportGlobs::default(),
            &ArtifactLimits::default(),
        )
        .unwrap();
        let names: Vec<&str> = out.files.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(
            names,
            ["scans/results/semgrep.sarif", "scans/osv-scanner.json"]
        );
        assert_eq!(out.files[0].bytes, b"{}");
        assert!(out.skipped.is_empty());
    }

    #[test]
    fn path_traversal_is_refused_and_named() {
        let archive = zip_of(&[("../../etc/evil.sarif", b"{}"), ("ok.sarif", b"{}")]);
        let out = extract(
            "a",
            &archive,
            &ReportGlobs::default(),
            &ArtifactLimits::default(),
        )
        .unwrap();
        assert_eq!(out.files.len(), 1);
        assert_eq!(out.files[0].name, "a/ok.sarif");
        assert_eq!(out.skipped.len(), 1);
        assert!(out.skipped[0].contains("escapes"), "{:?}", out.skipped);
    }

    #[test]
    fn absolute_names_are_refused_like_traversal() {
        let archive = zip_of(&[
            ("/etc/evil.sarif", b"{}"),
            ("C:\\reports\\evil.sarif", b"{}"),
            ("ok.sarif", b"{}"),
        ]);
        let out = extract(
            "a",
            &archive,
            &ReportGlobs::default(),
            &ArtifactLimits::default(),
        )
        .unwrap();
        let names: Vec<&str> = out.files.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["a/ok.sarif"]);
        assert_eq!(out.skipped.len(), 2, "{:?}", out.skipped);
        assert!(
            out.skipped.iter().all(|s| s.contains("escapes")),
            "{:?}",
            out.skipped
        );
    }

    #[test]
    fn a_zip_bomb_stops_at_the_limit_whatever_its_header_says() {
        let zeros = vec![0u8; 4 * 1024 * 1024];
        let archive = zip_of(&[("bomb.sarif", &zeros), ("small.sarif", b"{}")]);
        assert!(archive.len() < 64 * 1024, "compressed to {}", archive.len());
        let limits = ArtifactLimits {
            max_file_bytes: 1024 * 1024,
            ..ArtifactLimits::default()
        };
        let out = extract("bombs", &archive, &ReportGlobs::default(), &limits).unwrap();
        assert_eq!(out.files.len(), 1);
        assert!(
            out.skipped[0].contains("inflates past"),
            "{:?}",
            out.skipped
        );

        let limits = ArtifactLimits {
            max_total_bytes: 1024 * 1024,
            ..ArtifactLimits::default()
        };
        let archive = zip_of(&[
            ("a.sarif", &zeros[..800_000]),
            ("b.sarif", &zeros[..800_000]),
            ("c.sarif", b"{}"),
        ]);
        // The entry that does not fit is refused; the artifact's other reports are read.
        let out = extract("bombs", &archive, &ReportGlobs::default(), &limits).unwrap();
        let names: Vec<&str> = out.files.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["bombs/a.sarif", "bombs/c.sarif"]);
        assert_eq!(out.skipped.len(), 1, "{:?}", out.skipped);
        assert!(
            out.skipped[0].starts_with("bombs/b.sarif: skipped, the commit's reports"),
            "{:?}",
            out.skipped
        );
    }

    #[test]
    fn garbage_and_oversized_archives_are_refused_with_a_reason() {
        let error = extract(
            "junk",
            b"not a zip at all",
            &ReportGlobs::default(),
            &ArtifactLimits::default(),
        )
        .unwrap_err();
        assert!(
            error.to_string().contains("'junk' is not a readable zip"),
            "{error}"
        );

        let limits = ArtifactLimits {
            max_archive_bytes: 10,
            ..ArtifactLimits::default()
        };
        let archive = zip_of(&[("a.sarif", b"{}")]);
        let error = extract("big", &archive, &ReportGlobs::default(), &limits).unwrap_err();
        assert!(matches!(error, ArtifactError::ArchiveTooLarge { .. }));
    }

    #[test]
    fn invalid_globs_are_named() {
        let error = ReportGlobs::new(&["reports/[.json"]).unwrap_err();
        assert!(error.to_string().contains("reports/[.json"), "{error}");
    }
}
