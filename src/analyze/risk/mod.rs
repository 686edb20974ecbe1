//! The risk score: 0–100, and every factor that moved it, so a reader sees why a finding
//! ranks where it does — and a security engineer can disagree with a weight and change it.
//!
//! The score adds, from the one table in [`weights`] (overridable in `.posture.yml`):
//!
//! - **severity**: the base. The CVSS base score × 10, from the finding's vectors when it has
//!   any (v4.0 preferred, then v3.1, v3.0, v2.0; see [`cvss`]), else the tool's numeric score
//!   (SARIF `security-severity`), else a value per normalised severity;
//! - **exploitation**: CISA KEV membership (and ransomware use), the EPSS probability band;
//! - **exposure and business context** of the component the path belongs to (`.posture.yml`
//!   `context` and `components`): internet-facing (when the CVSS attack vector is network or
//!   unknown), data classification, environment, tier;
//! - **code context**: test, example, vendored and generated paths; for dependencies, a
//!   development-only or transitive dependency;
//! - **the tools**: their confidence, and agreement of several tools;
//! - **this change**: a committed secret, a finding introduced on a line the change touched;
//! - **what runs**: a vulnerable package a production (or staging) deployment scan lists.
//!
//! The sum is clamped to 0–100; findings are ordered by the score, then by the unclamped sum.

pub mod cvss;
pub mod weights;

use crate::inventory::Target;
use crate::model::{
    BusinessContext, Confidence, DataClass, DependencyScope, Environment, Finding, Intel, Kind,
    Risk, RiskFactor, Severity, Status, Tier,
};
use cvss::{AttackVector, Cvss};
use weights::{Points, Weights};

/// What the score weighs besides the finding itself.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    pub weights: &'a Weights,
    /// The business context of the finding's path.
    pub business: &'a BusinessContext,
    pub intel: &'a Intel,
    /// For a dependency: how the project uses it.
    pub dependency: Option<&'a DependencyScope>,
    /// For a dependency: the deployment a scan shows running it, if any.
    pub deployed: Option<Target>,
}

/// Collects factors, dropping those worth zero points.
struct Factors(Vec<RiskFactor>);

impl Factors {
    fn add(&mut self, name: &'static str, points: Points, detail: String) {
        if points.0 != 0 {
            self.0.push(RiskFactor {
                name: name.into(),
                points: points.0,
                detail,
            });
        }
    }
}

/// Scores one finding.
pub fn score(finding: &Finding, status: Status, in_diff: bool, context: &Context<'_>) -> Risk {
    let weights = context.weights;
    let (base, cvss) = severity_factor(finding, weights);
    let mut factors = Factors(vec![base]);
    if finding.kind == Kind::Secret {
        factors.add(
            "secret",
            weights.secret,
            "a committed credential is usable by anyone who can read the repository".into(),
        );
    }
    if status == Status::New && in_diff {
        factors.add(
            "introduced here",
            weights.introduced_here,
            "this change introduced it, so it is cheapest to fix now".into(),
        );
    }
    exploitation(finding, context, &mut factors);
    let code = finding
        .path()
        .and_then(|path| Some((path, path_context(path, weights)?)));
    // Test and example code and development dependencies do not run where the internet
    // reaches; nor is a secret's exposure the application's.
    let runs_exposed = finding.kind != Kind::Secret
        && !code.is_some_and(|(_, (name, _, _))| name == "test code" || name == "example code")
        && context.dependency.is_none_or(|d| d.dev != Some(true));
    exposure(cvss.as_ref(), runs_exposed, context, &mut factors);
    if let Some((path, (name, points, detail))) = code {
        factors.add(name, points, format!("{path}: {detail}"));
    }
    if let Some(scope) = context.dependency {
        if scope.dev == Some(true) {
            factors.add(
                "dev dependency",
                weights.dependency.dev,
                "a development or test dependency does not ship to production".into(),
            );
        }
        if scope.direct == Some(false) {
            factors.add(
                "transitive dependency",
                weights.dependency.transitive,
                "pulled in by another dependency; the vulnerable code may not be reachable".into(),
            );
        }
    }
    if let (Some(target), Some(package)) = (context.deployed, &finding.package) {
        let points = match target {
            Target::Production => weights.deployed.production,
            Target::Staging => weights.deployed.staging,
            Target::DefaultBranch => Points(0),
        };
        let version = package.version.as_deref().unwrap_or("");
        factors.add(
            match target {
                Target::Production => "deployed to production",
                _ => "deployed to staging",
            },
            points,
            format!(
                "{} {version} runs in {target}: a deployment scan lists it",
                package.name
            ),
        );
    }
    tools(finding, weights, &mut factors);

    let mut factors = factors.0;
    let total: i32 = factors.iter().map(|f| f.points).sum();
    factors.sort_by_key(|f| std::cmp::Reverse(f.points.abs()));
    Risk {
        score: total.clamp(0, 100) as u8,
        factors,
    }
}

/// The unclamped sum of a risk's factors: orders findings whose scores are clamped alike.
pub fn total(risk: &Risk) -> i32 {
    risk.factors.iter().map(|f| f.points).sum()
}

fn severity_factor(finding: &Finding, weights: &Weights) -> (RiskFactor, Option<Cvss>) {
    let cvss = Cvss::preferred(finding.all_cvss_vectors());
    if let Some(cvss) = &cvss {
        let factor = RiskFactor {
            name: "severity".into(),
            points: (cvss.score * 10.0).round() as i32,
            detail: format!(
                "{} {:.1} ({}): {} ({})",
                cvss.version,
                cvss.score,
                Severity::from_cvss(cvss.score),
                cvss.exploitability(),
                cvss.vector
            ),
        };
        return (factor, Some(cvss.clone()));
    }
    let factor = match finding.score {
        Some(score) if (0.0..=10.0).contains(&score) => RiskFactor {
            name: "severity".into(),
            points: (score * 10.0).round() as i32,
            detail: format!("score {score:.1} of 10 ({})", Severity::from_cvss(score)),
        },
        _ => {
            let table = &weights.severity;
            RiskFactor {
                name: "severity".into(),
                points: match finding.severity {
                    Severity::Critical => table.critical,
                    Severity::High => table.high,
                    Severity::Medium => table.medium,
                    Severity::Low => table.low,
                    Severity::Info => table.info,
                }
                .0,
                detail: format!(
                    "{} as reported by {}",
                    finding.severity,
                    finding.tools.join(", ")
                ),
            }
        }
    };
    (factor, None)
}

/// KEV membership and the EPSS band of the finding's CVEs.
fn exploitation(finding: &Finding, context: &Context<'_>, factors: &mut Factors) {
    let weights = context.weights;
    let ids: Vec<String> = finding.advisory_ids().collect();
    let ids = || ids.iter().map(String::as_str);
    let kev = context.intel.kev(ids());
    if let Some(entry) = kev {
        factors.add(
            "known exploited",
            weights.kev.listed,
            format!(
                "{} is in CISA's Known Exploited Vulnerabilities catalog since {}",
                entry.cve_id, entry.date_added
            ),
        );
        if entry.known_ransomware {
            factors.add(
                "ransomware",
                weights.kev.ransomware,
                format!(
                    "CISA lists {} as used in ransomware campaigns",
                    entry.cve_id
                ),
            );
        }
    }
    if let Some((cve, epss)) = context.intel.epss(ids()) {
        let band = &weights.epss;
        let date = context
            .intel
            .epss_date
            .map(|d| format!(" on {d}"))
            .unwrap_or_default();
        let detail = format!(
            "{cve}: EPSS {:.1}% chance of exploitation in the next 30 days (percentile {:.1}){date}",
            epss.probability * 100.0,
            epss.percentile * 100.0
        );
        if epss.probability >= band.high_from.0 {
            factors.add("EPSS", band.high, detail);
        } else if epss.probability >= band.medium_from.0 {
            factors.add("EPSS", band.medium, detail);
        } else if kev.is_none() {
            factors.add("EPSS", band.low, detail);
        }
    }
}

/// Internet exposure, data, environment and tier of the finding's component.
fn exposure(cvss: Option<&Cvss>, runs_exposed: bool, context: &Context<'_>, factors: &mut Factors) {
    let weights = context.weights;
    let business = context.business;
    let component = business
        .component
        .as_deref()
        .map(|c| format!("component `{c}`"))
        .unwrap_or_else(|| "the application".to_string());
    if runs_exposed {
        match business.internet_facing {
            Some(true) => match cvss.and_then(|c| c.attack_vector) {
                None | Some(AttackVector::Network) => factors.add(
                    "internet-facing",
                    weights.exposure.internet_facing,
                    format!(
                        "{component} is internet-facing{}",
                        if cvss.is_some() {
                            " and the vulnerability is exploitable over the network"
                        } else {
                            ""
                        }
                    ),
                ),
                Some(_) => {}
            },
            Some(false) => factors.add(
                "not internet-facing",
                weights.exposure.not_internet_facing,
                format!("{component} is not internet-facing"),
            ),
            None => {}
        }
    }
    if let Some(class) = business.data_classification {
        let table = &weights.data_classification;
        let points = match class {
            DataClass::Public => table.public,
            DataClass::Internal => table.internal,
            DataClass::Confidential => table.confidential,
            DataClass::Pii => table.pii,
            DataClass::Pci => table.pci,
            DataClass::Phi => table.phi,
        };
        factors.add(
            "data",
            points,
            format!("{component} handles {} data", class.as_str()),
        );
    }
    if let Some(environment) = business.environment {
        let table = &weights.environment;
        let points = match environment {
            Environment::Production => table.production,
            Environment::Staging => table.staging,
            Environment::Development => table.development,
        };
        factors.add(
            "environment",
            points,
            format!("{component} runs in {}", environment.as_str()),
        );
    }
    if let Some(tier) = business.tier {
        let table = &weights.tier;
        let points = match tier {
            Tier::One => table.tier1,
            Tier::Two => table.tier2,
            Tier::Three => table.tier3,
        };
        factors.add("tier", points, format!("{component} is {tier}"));
    }
}

/// The tools' confidence and agreement.
fn tools(finding: &Finding, weights: &Weights, factors: &mut Factors) {
    if let Some(confidence) = finding.confidence {
        let table = &weights.confidence;
        let points = match confidence {
            Confidence::High => table.high,
            Confidence::Medium => table.medium,
            Confidence::Low => table.low,
        };
        factors.add(
            "confidence",
            points,
            format!(
                "{} rates its confidence {confidence}",
                finding.tools.join(", ")
            ),
        );
    }
    let others = finding.tools.len().saturating_sub(1);
    if others > 0 {
        let per_tool = weights.agreement.per_tool.0;
        let points = (per_tool.saturating_mul(i32::try_from(others).unwrap_or(i32::MAX)))
            .min(weights.agreement.max.0);
        factors.add(
            "several tools",
            Points(points),
            format!("reported by {}", finding.tools.join(", ")),
        );
    }
}

/// Where the code lives says how likely it is to run in production.
fn path_context(path: &str, weights: &Weights) -> Option<(&'static str, Points, &'static str)> {
    let lower = path.to_ascii_lowercase();
    let segments: Vec<&str> = lower.split('/').collect();
    let (dirs, file) = segments.split_at(segments.len().saturating_sub(1));
    let file = file.first().copied().unwrap_or("");
    let in_dir = |names: &[&str]| dirs.iter().any(|d| names.contains(d));
    let code = &weights.code;
    if in_dir(&[
        "test",
        "tests",
        "spec",
        "specs",
        "__tests__",
        "testdata",
        "__mocks__",
        "fixtures",
    ]) || file.starts_with("test_")
        || file.contains("_test.")
        || file.contains(".test.")
        || file.contains(".spec.")
    {
        Some((
            "test code",
            code.test,
            "test code does not ship to production",
        ))
    } else if in_dir(&[
        "examples", "example", "samples", "sample", "docs", "doc", "demo",
    ]) {
        Some((
            "example code",
            code.example,
            "example and documentation code rarely runs in production",
        ))
    } else if in_dir(&[
        "vendor",
        "third_party",
        "third-party",
        "node_modules",
        "external",
    ]) {
        Some((
            "vendored code",
            code.vendored,
            "vendored code is fixed upstream, not in this repository",
        ))
    } else if in_dir(&["generated", "gen", "dist", "build"])
        || file.contains(".min.")
        || file.ends_with("_pb2.py")
        || file.ends_with(".pb.go")
    {
        Some((
            "generated code",
            code.generated,
            "generated or built files are fixed at their source",
        ))
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::feeds;
    use crate::model::{Advisory, Ecosystem, EpssScore, KevEntry, Location, Package};

    fn finding(severity: Severity, score: Option<f64>, path: &str) -> Finding {
        let mut f = Finding::new(Kind::Sast, "codeql", "r");
        f.severity = severity;
        f.score = score;
        f.location = Some(Location::new(path).with_lines(1, 1));
        f
    }

    fn plain(finding: &Finding, status: Status, in_diff: bool) -> Risk {
        let weights = Weights::default();
        let business = BusinessContext::default();
        let intel = Intel::default();
        score(
            finding,
            status,
            in_diff,
            &Context {
                weights: &weights,
                business: &business,
                intel: &intel,
                dependency: None,
                deployed: None,
            },
        )
    }

    /// The real-format KEV and EPSS excerpts under `fixtures/intel`.
    fn intel() -> Intel {
        let dir = format!("{}/fixtures/intel", env!("CARGO_MANIFEST_DIR"));
        let kev = std::fs::read(format!("{dir}/known_exploited_vulnerabilities.json")).unwrap();
        let epss = std::fs::read(format!("{dir}/epss_scores-excerpt.csv")).unwrap();
        let kev = feeds::parse_kev("kev", &kev).unwrap();
        let epss = feeds::parse_epss("epss", &epss).unwrap();
        Intel {
            kev: kev
                .entries
                .into_iter()
                .map(|e| (e.cve_id.clone(), e))
                .collect::<std::collections::HashMap<String, KevEntry>>(),
            epss: epss
                .scores
                .into_iter()
                .collect::<std::collections::HashMap<String, EpssScore>>(),
            epss_date: epss.score_date,
            kev_version: kev.version,
        }
    }

    fn dependency(cve: &str, vector: &str, manifest: &str) -> Finding {
        let mut f = Finding::new(Kind::Sca, "osv-scanner", format!("GHSA-{cve}"));
        f.package = Some(Box::new(Package {
            ecosystem: Ecosystem::Maven,
            name: "org.example:lib".into(),
            version: Some("1.0.0".into()),
            manifest: Some(manifest.into()),
        }));
        f.location = Some(Location::new(manifest));
        f.advisories = vec![Advisory {
            id: format!("GHSA-{cve}"),
            aliases: vec![cve.to_string()],
            cvss_vector: Some(vector.to_string()),
            ..Advisory::default()
        }];
        f
    }

    fn points(risk: &Risk, name: &str) -> Option<i32> {
        risk.factors
            .iter()
            .find(|f| f.name == name)
            .map(|f| f.points)
    }

    #[test]
    fn cvss_score_drives_the_base_and_factors_explain_it() {
        let risk = plain(
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
    fn a_vector_is_parsed_and_beats_the_reported_number() {
        let mut f = finding(Severity::Medium, Some(5.0), "src/app.py");
        f.cvss_vectors = vec![
            "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H".into(),
            "not a vector".into(),
        ];
        let risk = plain(&f, Status::Existing, false);
        assert_eq!(risk.score, 98);
        let detail = &risk.factors[0].detail;
        assert!(
            detail.starts_with("CVSS 3.1 9.8 (critical): network, low complexity"),
            "{detail}"
        );
    }

    #[test]
    fn path_context_lowers_and_is_clamped() {
        let prod = plain(
            &finding(Severity::High, None, "src/app.py"),
            Status::Existing,
            false,
        );
        let test = plain(
            &finding(Severity::High, None, "tests/test_app.py"),
            Status::Existing,
            false,
        );
        let vendor = plain(
            &finding(Severity::High, None, "vendor/lib/x.go"),
            Status::Existing,
            false,
        );
        let low_test = plain(
            &finding(Severity::Info, None, "a/b.spec.ts"),
            Status::Existing,
            false,
        );
        let fixture = plain(
            &finding(Severity::High, None, "app/fixtures/seed.py"),
            Status::Existing,
            false,
        );
        assert_eq!(prod.score, 70);
        assert_eq!(test.score, 45);
        assert_eq!(vendor.score, 50);
        assert_eq!(low_test.score, 0);
        assert_eq!(fixture.score, 45);
        assert_eq!(test.factors[1].name, "test code");
        assert_eq!(total(&low_test), 5 - 25);
    }

    #[test]
    fn secrets_rank_above_equal_severity_code_findings() {
        let mut secret = finding(Severity::High, None, "config/settings.py");
        secret.kind = Kind::Secret;
        let code = finding(Severity::High, None, "config/settings.py");
        assert!(
            plain(&secret, Status::Existing, false).score
                > plain(&code, Status::Existing, false).score
        );
    }

    #[test]
    fn kev_and_epss_raise_or_lower_from_the_real_feeds() {
        let intel = intel();
        let weights = Weights::default();
        let business = BusinessContext::default();
        let context = Context {
            weights: &weights,
            business: &business,
            intel: &intel,
            dependency: None,
            deployed: None,
        };
        // Log4Shell: CVSS 10.0, in KEV with ransomware use, EPSS 94%.
        let log4shell = dependency(
            "CVE-2021-44228",
            "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H",
            "pom.xml",
        );
        let risk = score(&log4shell, Status::Existing, false, &context);
        assert_eq!(points(&risk, "known exploited"), Some(25));
        assert_eq!(points(&risk, "ransomware"), Some(5));
        assert_eq!(points(&risk, "EPSS"), Some(15));
        assert_eq!(risk.score, 100);
        assert_eq!(total(&risk), 100 + 25 + 5 + 15);
        // lodash's CVE-2020-28500: CVSS 5.3, EPSS 0.3%: rarely exploited, lowered.
        let redos = dependency(
            "CVE-2020-28500",
            "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:L",
            "package-lock.json",
        );
        let risk = score(&redos, Status::Existing, false, &context);
        assert_eq!(points(&risk, "EPSS"), Some(-10));
        assert_eq!(points(&risk, "known exploited"), None);
        assert_eq!(risk.score, 53 - 10);
        // PyYAML's CVE-2020-1747: EPSS 1.6%, the medium band.
        let pyyaml = dependency(
            "CVE-2020-1747",
            "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
            "requirements.txt",
        );
        assert_eq!(
            points(&score(&pyyaml, Status::Existing, false, &context), "EPSS"),
            Some(5)
        );
    }

    #[test]
    fn business_context_and_the_attack_vector() {
        let weights = Weights::default();
        let intel = Intel::default();
        let exposed = BusinessContext {
            component: Some("web".into()),
            internet_facing: Some(true),
            data_classification: Some(DataClass::Pii),
            environment: Some(Environment::Production),
            tier: Some(Tier::One),
        };
        let context = |business| Context {
            weights: &weights,
            business,
            intel: &intel,
            dependency: None,
            deployed: None,
        };
        let network = dependency(
            "CVE-2099-0001",
            "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:L/I:L/A:N",
            "web/package.json",
        );
        let risk = score(&network, Status::Existing, false, &context(&exposed));
        assert_eq!(points(&risk, "internet-facing"), Some(10));
        assert_eq!(points(&risk, "data"), Some(10));
        assert_eq!(points(&risk, "tier"), Some(10));
        assert_eq!(points(&risk, "environment"), None, "production weighs 0");
        assert!(
            risk.factors
                .iter()
                .any(|f| f.detail == "component `web` is internet-facing and the vulnerability is exploitable over the network")
        );
        // A local attack vector is not made worse by internet exposure.
        let local = dependency(
            "CVE-2099-0002",
            "CVSS:3.1/AV:L/AC:L/PR:N/UI:N/S:U/C:L/I:L/A:N",
            "web/package.json",
        );
        let risk = score(&local, Status::Existing, false, &context(&exposed));
        assert_eq!(points(&risk, "internet-facing"), None);
        let internal = BusinessContext {
            internet_facing: Some(false),
            environment: Some(Environment::Development),
            tier: Some(Tier::Three),
            data_classification: Some(DataClass::Public),
            component: None,
        };
        let risk = score(&network, Status::Existing, false, &context(&internal));
        assert_eq!(points(&risk, "not internet-facing"), Some(-10));
        assert_eq!(points(&risk, "environment"), Some(-25));
        assert_eq!(points(&risk, "tier"), Some(-10));
        assert_eq!(points(&risk, "data"), Some(-5));
    }

    #[test]
    fn dependency_scope_tools_and_overridden_weights() {
        let intel = Intel::default();
        let business = BusinessContext::default();
        let mut weights = Weights::default();
        let scope = DependencyScope {
            dev: Some(true),
            direct: Some(false),
        };
        let mut f = dependency(
            "CVE-2099-0003",
            "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N",
            "package-lock.json",
        );
        f.tools = vec![
            "osv-scanner".into(),
            "Trivy".into(),
            "Grype".into(),
            "Snyk".into(),
        ];
        f.confidence = Some(Confidence::Low);
        let risk = score(
            &f,
            Status::Existing,
            false,
            &Context {
                weights: &weights,
                business: &business,
                intel: &intel,
                dependency: Some(&scope),
                deployed: None,
            },
        );
        assert_eq!(points(&risk, "dev dependency"), Some(-20));
        assert_eq!(points(&risk, "transitive dependency"), Some(-5));
        assert_eq!(
            points(&risk, "several tools"),
            Some(10),
            "capped at agreement.max"
        );
        assert_eq!(points(&risk, "confidence"), Some(-15));
        assert_eq!(risk.score, 75 - 20 - 5 + 10 - 15);
        weights.dependency.dev = Points(-50);
        weights.agreement.max = Points(0);
        let risk = score(
            &f,
            Status::Existing,
            false,
            &Context {
                weights: &weights,
                business: &business,
                intel: &intel,
                dependency: Some(&scope),
                deployed: None,
            },
        );
        assert_eq!(points(&risk, "dev dependency"), Some(-50));
        assert_eq!(
            points(&risk, "several tools"),
            None,
            "a zero weight adds no factor"
        );
    }

    #[test]
    fn a_package_a_deployment_runs_ranks_higher_with_the_reason() {
        let intel = Intel::default();
        let business = BusinessContext::default();
        let weights = Weights::default();
        let f = dependency(
            "CVE-2099-0004",
            "CVSS:3.1/AV:N/AC:H/PR:L/UI:N/S:U/C:L/I:N/A:N",
            "package-lock.json",
        );
        let with = |deployed| {
            score(
                &f,
                Status::Existing,
                false,
                &Context {
                    weights: &weights,
                    business: &business,
                    intel: &intel,
                    dependency: None,
                    deployed,
                },
            )
        };
        let repo_only = with(None);
        let production = with(Some(Target::Production));
        let staging = with(Some(Target::Staging));
        assert_eq!(points(&production, "deployed to production"), Some(10));
        assert_eq!(points(&staging, "deployed to staging"), Some(3));
        assert_eq!(points(&repo_only, "deployed to production"), None);
        assert_eq!(production.score, repo_only.score + 10);
        let factor = production
            .factors
            .iter()
            .find(|f| f.name == "deployed to production")
            .unwrap();
        assert!(
            factor.detail.contains("runs in production"),
            "{}",
            factor.detail
        );
    }
}
