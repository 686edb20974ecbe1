//! The risk score: 0–100 from severity, kind, novelty and path context, with every factor
//! that moved it, so a reader sees why a finding ranks where it does.
//!
//! | factor | points |
//! |---|---|
//! | severity: CVSS/`security-severity` score × 10, else critical 90, high 70, medium 45, low 20, info 5 | base |
//! | kind: committed secret | +10 |
//! | introduced by this change, on a line it touched | +5 |
//! | test code (`test/`, `tests/`, `spec/`, `__tests__/`, `*_test.*`, `*.spec.*`, `test_*.py`) | −25 |
//! | example, sample or documentation code | −20 |
//! | vendored or third-party code | −20 |
//! | generated or minified code | −15 |

use crate::model::{Finding, Kind, Risk, RiskFactor, Severity, Status};

/// Scores one finding.
pub fn score(finding: &Finding, status: Status, in_diff: bool) -> Risk {
    let mut factors = vec![severity_factor(finding)];
    if finding.kind == Kind::Secret {
        factors.push(RiskFactor {
            name: "secret".into(),
            points: 10,
            detail: "a committed credential is usable by anyone who can read the repository".into(),
        });
    }
    if status == Status::New && in_diff {
        factors.push(RiskFactor {
            name: "introduced here".into(),
            points: 5,
            detail: "this change introduced it, so it is cheapest to fix now".into(),
        });
    }
    if let Some(path) = finding.path() {
        factors.extend(path_context(path));
    }
    let total: i32 = factors.iter().map(|f| f.points).sum();
    factors.sort_by_key(|f| std::cmp::Reverse(f.points.abs()));
    Risk {
        score: total.clamp(0, 100) as u8,
        factors,
    }
}

fn severity_factor(finding: &Finding) -> RiskFactor {
    match finding.score {
        Some(score) if (0.0..=10.0).contains(&score) => RiskFactor {
            name: "severity".into(),
            points: (score * 10.0).round() as i32,
            detail: format!("score {score:.1} of 10 ({})", Severity::from_cvss(score)),
        },
        _ => RiskFactor {
            name: "severity".into(),
            points: match finding.severity {
                Severity::Critical => 90,
                Severity::High => 70,
                Severity::Medium => 45,
                Severity::Low => 20,
                Severity::Info => 5,
            },
            detail: format!(
                "{} as reported by {}",
                finding.severity,
                finding.tools.join(", ")
            ),
        },
    }
}

/// Where the code lives says how likely it is to run in production.
fn path_context(path: &str) -> Option<RiskFactor> {
    let lower = path.to_ascii_lowercase();
    let segments: Vec<&str> = lower.split('/').collect();
    let (dirs, file) = segments.split_at(segments.len().saturating_sub(1));
    let file = file.first().copied().unwrap_or("");
    let in_dir = |names: &[&str]| dirs.iter().any(|d| names.contains(d));
    let (name, points, detail) = if in_dir(&[
        "test",
        "tests",
        "spec",
        "specs",
        "__tests__",
        "testdata",
        "__mocks__",
    ]) || file.starts_with("test_")
        || file.contains("_test.")
        || file.contains(".test.")
        || file.contains(".spec.")
    {
        ("test code", -25, "test code does not ship to production")
    } else if in_dir(&[
        "examples", "example", "samples", "sample", "docs", "doc", "demo",
    ]) {
        (
            "example code",
            -20,
            "example and documentation code rarely runs in production",
        )
    } else if in_dir(&[
        "vendor",
        "third_party",
        "third-party",
        "node_modules",
        "external",
    ]) {
        (
            "vendored code",
            -20,
            "vendored code is fixed upstream, not in this repository",
        )
    } else if in_dir(&["generated", "gen", "dist", "build"])
        || file.contains(".min.")
        || file.ends_with("_pb2.py")
        || file.ends_with(".pb.go")
    {
        (
            "generated code",
            -15,
            "generated or built files are fixed at their source",
        )
    } else {
        return None;
    };
    Some(RiskFactor {
        name: name.into(),
        points,
        detail: format!("{path}: {detail}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Location;

    fn finding(severity: Severity, score: Option<f64>, path: &str) -> Finding {
        let mut f = Finding::new(Kind::Sast, "codeql", "r");
        f.severity = severity;
        f.score = score;
        f.location = Some(Location::new(path).with_lines(1, 1));
        f
    }

    #[test]
    fn cvss_score_drives_the_base_and_factors_explain_it() {
        let risk = score(
            &finding(Severity::High, Some(8.8), "src/app.py"),
            Status::New,
            true,
        );
        assert_eq!(risk.score, 93);
        assert_eq!(risk.factors[0].name, "severity");
        assert_eq!(risk.factors[0].points, 88);
        assert!(risk.factors.iter().any(|f| f.name == "introduced here"));
    }

    #[test]
    fn path_context_lowers_and_is_clamped() {
        let prod = score(
            &finding(Severity::High, None, "src/app.py"),
            Status::Existing,
            false,
        );
        let test = score(
            &finding(Severity::High, None, "tests/test_app.py"),
            Status::Existing,
            false,
        );
        let vendor = score(
            &finding(Severity::High, None, "vendor/lib/x.go"),
            Status::Existing,
            false,
        );
        let low_test = score(
            &finding(Severity::Info, None, "a/b.spec.ts"),
            Status::Existing,
            false,
        );
        assert_eq!(prod.score, 70);
        assert_eq!(test.score, 45);
        assert_eq!(vendor.score, 50);
        assert_eq!(low_test.score, 0);
        assert_eq!(test.factors[1].name, "test code");
    }

    #[test]
    fn secrets_rank_above_equal_severity_code_findings() {
        let mut secret = finding(Severity::High, None, "config/settings.py");
        secret.kind = Kind::Secret;
        let code = finding(Severity::High, None, "config/settings.py");
        assert!(
            score(&secret, Status::Existing, false).score
                > score(&code, Status::Existing, false).score
        );
    }
}
