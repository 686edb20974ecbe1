//! Normalisation shared by the vulnerability scanners' native formats (Trivy, Grype, GitLab
//! security reports): severity names with a CVSS fallback, OS families as ecosystems, the
//! preferred advisory id and the affected range a fixed version implies.

use std::cmp::Ordering;

use crate::analyze::versions;
use crate::model::{AffectedRange, Ecosystem, RangeEvent, RangeKind, Severity};

/// A tool's severity name: `critical`, `high`, `medium`/`moderate`, `low` as written,
/// `info`/`informational`/`negligible` → info; anything else (`UNKNOWN`, empty) → the CVSS
/// rating of `score` when there is one, else medium.
pub(crate) fn severity(name: &str, score: Option<f64>) -> Severity {
    match name.trim().to_ascii_lowercase().as_str() {
        "critical" => Severity::Critical,
        "high" => Severity::High,
        "medium" | "moderate" => Severity::Medium,
        "low" => Severity::Low,
        "info" | "informational" | "negligible" => Severity::Info,
        _ => score.map_or(Severity::Medium, Severity::from_cvss),
    }
}

/// A CVSS base score, when it is one (finite, 0–10).
pub(crate) fn cvss_score(score: Option<f64>) -> Option<f64> {
    score.filter(|s| s.is_finite() && (0.0..=10.0).contains(s))
}

/// The ecosystem of an operating system's packages, from its family or name as scanners
/// write it (`alpine`, `debian 10.1`, `debian:10`, `rhel`…), spelled as OSV spells it.
pub(crate) fn os_ecosystem(family: &str) -> Ecosystem {
    let words: Vec<&str> = family
        .split(|c: char| c.is_whitespace() || c == ':')
        .filter(|w| !w.is_empty())
        .take_while(|w| !w.starts_with(|c: char| c.is_ascii_digit()))
        .collect();
    let family = words.join(" ");
    let name = match family.to_ascii_lowercase().as_str() {
        "alpine" => "Alpine",
        "debian" => "Debian",
        "ubuntu" => "Ubuntu",
        "redhat" | "rhel" | "red hat" => "Red Hat",
        "rocky" | "rockylinux" => "Rocky Linux",
        "alma" | "almalinux" => "AlmaLinux",
        "wolfi" => "Wolfi",
        "chainguard" => "Chainguard",
        "photon" => "Photon OS",
        "sles" | "suse linux enterprise server" => "SUSE",
        "opensuse" | "opensuse.leap" | "opensuse-leap" | "opensuse.tumbleweed" => "openSUSE",
        "mageia" => "Mageia",
        _ => return Ecosystem::Other(family),
    };
    Ecosystem::Other(name.to_string())
}

/// The id a dependency finding is named by: the first CVE, else the first GHSA, else the
/// first non-empty id.
pub(crate) fn preferred_id<'a>(ids: &[&'a str]) -> Option<&'a str> {
    let ids = || ids.iter().copied().filter(|id| !id.trim().is_empty());
    ids()
        .find(|id| id.starts_with("CVE-"))
        .or_else(|| ids().find(|id| id.starts_with("GHSA-")))
        .or_else(|| ids().next())
}

/// The affected range the tool's fixed versions imply for the installed version: introduced
/// `0`, fixed at the smallest listed version above the installed one (several fixed versions
/// are fixes on different release lines), else at the first listed. Empty without a fixed
/// version.
pub(crate) fn fixed_range(
    ecosystem: &Ecosystem,
    installed: Option<&str>,
    fixed: &[&str],
) -> Vec<AffectedRange> {
    let fixed: Vec<&str> = fixed
        .iter()
        .map(|f| f.trim())
        .filter(|f| !f.is_empty())
        .collect();
    let above = |f: &str| {
        installed.is_some_and(|v| versions::compare(ecosystem, f, v) == Some(Ordering::Greater))
    };
    let chosen = fixed
        .iter()
        .filter(|f| above(f))
        .min_by(|a, b| versions::compare(ecosystem, a, b).unwrap_or(Ordering::Equal))
        .or(fixed.first());
    chosen
        .map(|fixed| AffectedRange {
            kind: RangeKind::Ecosystem,
            events: vec![
                RangeEvent::Introduced("0".into()),
                RangeEvent::Fixed(fixed.to_string()),
            ],
        })
        .into_iter()
        .collect()
}

/// A 1-based line number from a tool's number, when it is one.
pub(crate) fn line(value: Option<f64>) -> Option<u32> {
    value
        .filter(|v| v.is_finite() && *v >= 1.0 && v.fract() == 0.0 && *v <= f64::from(u32::MAX))
        .map(|v| v as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn severity_names_and_unknown_fallback() {
        assert_eq!(severity("CRITICAL", None), Severity::Critical);
        assert_eq!(severity("Moderate", None), Severity::Medium);
        assert_eq!(severity("Negligible", Some(9.8)), Severity::Info);
        assert_eq!(severity("UNKNOWN", Some(7.5)), Severity::High);
        assert_eq!(severity("Unknown", None), Severity::Medium);
        assert_eq!(severity("", Some(2.0)), Severity::Low);
    }

    #[test]
    fn os_families() {
        assert_eq!(os_ecosystem("alpine"), Ecosystem::Other("Alpine".into()));
        assert_eq!(
            os_ecosystem("alpine 3.10.2"),
            Ecosystem::Other("Alpine".into())
        );
        assert_eq!(os_ecosystem("debian:10"), Ecosystem::Other("Debian".into()));
        assert_eq!(os_ecosystem("rhel"), Ecosystem::Other("Red Hat".into()));
        assert_eq!(os_ecosystem("centos"), Ecosystem::Other("centos".into()));
    }

    #[test]
    fn preferred_ids() {
        assert_eq!(
            preferred_id(&["GHSA-a", "CVE-2020-1", "CVE-2020-2"]),
            Some("CVE-2020-1")
        );
        assert_eq!(preferred_id(&["x", "GHSA-a"]), Some("GHSA-a"));
        assert_eq!(preferred_id(&["", "x"]), Some("x"));
        assert_eq!(preferred_id(&[]), None);
    }

    #[test]
    fn the_fix_on_the_installed_release_line() {
        let range = |fixed: &str| {
            vec![AffectedRange {
                kind: RangeKind::Ecosystem,
                events: vec![
                    RangeEvent::Introduced("0".into()),
                    RangeEvent::Fixed(fixed.into()),
                ],
            }]
        };
        let npm = Ecosystem::Npm;
        assert_eq!(
            fixed_range(&npm, Some("2.0.0"), &["2.0.1", "1.2.8"]),
            range("2.0.1")
        );
        assert_eq!(
            fixed_range(&npm, Some("1.1.1"), &["3.4.0", "1.2.1", "2.1.3"]),
            range("1.2.1")
        );
        assert_eq!(fixed_range(&npm, None, &[" 4.0 "]), range("4.0"));
        assert!(fixed_range(&npm, Some("1"), &[" "]).is_empty());
    }

    #[test]
    fn lines() {
        assert_eq!(line(Some(3.0)), Some(3));
        assert_eq!(line(Some(0.0)), None);
        assert_eq!(line(Some(1.5)), None);
        assert_eq!(line(None), None);
    }

    /// Every file under `dir`, recursively.
    fn files(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
        let mut out = Vec::new();
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                out.extend(files(&path));
            } else {
                out.push(path);
            }
        }
        out
    }

    /// Detection of Trivy, Grype and GitLab reports over every fixture: each of theirs is
    /// recognised as its format, no other fixture as any of them.
    #[test]
    fn detection_over_every_fixture() {
        use super::super::{Format, detect};
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
        let mut counts = [0; 3];
        for path in files(&root) {
            let relative = path
                .strip_prefix(&root)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            let detected = detect(&std::fs::read(&path).unwrap());
            let expected = [
                ("sca/trivy/", Format::Trivy),
                ("sca/grype/", Format::Grype),
                ("sca/gitlab/", Format::GitLab),
            ]
            .iter()
            .position(|(dir, _)| relative.starts_with(dir));
            match expected {
                Some(i) => {
                    counts[i] += 1;
                    assert_eq!(
                        detected,
                        Some([Format::Trivy, Format::Grype, Format::GitLab][i]),
                        "{relative}"
                    );
                }
                None => assert!(
                    !matches!(
                        detected,
                        Some(Format::Trivy | Format::Grype | Format::GitLab)
                    ),
                    "{relative} detected as {detected:?}"
                ),
            }
        }
        assert_eq!(counts, [4, 2, 3], "fixtures of each format");
    }

    #[test]
    fn detection_by_shape() {
        use super::super::{Format, detect};
        let cases: [(&[u8], Option<Format>); 12] = [
            (
                br#"{"SchemaVersion":2,"ArtifactName":"."}"#,
                Some(Format::Trivy),
            ),
            (
                br#"{"SchemaVersion":2,"Results":[{"Target":"a","Vulner"#,
                Some(Format::Trivy),
            ),
            (br#"{"Results":[]}"#, None),
            (
                br#"{"matches":[{"vulnerability":{},"artifact":{"na"#,
                Some(Format::Grype),
            ),
            (
                br#"{"matches":[],"source":{},"descriptor":{"name":"grype"}}"#,
                Some(Format::Grype),
            ),
            (br#"{"matches":[]}"#, None),
            (
                br#"{"version":"15.0.6","vulnerabilities":[{"id":"x"#,
                Some(Format::GitLab),
            ),
            (
                br#"{"scan":{"type":"sast"},"vulnerabilities":[]}"#,
                Some(Format::GitLab),
            ),
            (br#"{"vulnerabilities":[{"id":"x"}]}"#, None),
            (
                br#"{"auditReportVersion":2,"vulnerabilities":{"a":{}},"version":"1"}"#,
                Some(Format::NpmAudit),
            ),
            (
                br#"{"vulnerabilities":{},"results":[{"source":{},"packages":[]}]}"#,
                Some(Format::OsvScanner),
            ),
            (
                br#"{"version":"2.1.0","runs":[],"vulnerabilities":[]}"#,
                Some(Format::Sarif),
            ),
        ];
        for (bytes, expected) in cases {
            assert_eq!(
                detect(bytes),
                expected,
                "{}",
                String::from_utf8_lossy(bytes)
            );
        }
    }
}
