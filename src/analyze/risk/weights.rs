//! The one table of risk weights. Every number the risk score adds or subtracts lives here,
//! with its default; `.posture.yml` may override any of them under `risk: weights:` (a
//! partial table: what it leaves out keeps the default). Points must lie in −100..=100 and
//! thresholds in 0..=1; anything else is a positioned config error.
//!
//! | key | default | applies when |
//! |---|---:|---|
//! | `severity.critical` / `high` / `medium` / `low` / `info` | 90 / 70 / 45 / 20 / 5 | base, when no CVSS vector or score is known (else the CVSS base score × 10) |
//! | `secret` | +10 | a committed credential |
//! | `introduced_here` | +5 | new, on a line this change touched |
//! | `kev.listed` | +25 | a CVE of the finding is in CISA's KEV catalog |
//! | `kev.ransomware` | +5 | … and KEV says ransomware campaigns use it |
//! | `epss.high` (`epss.high_from` 0.1) | +15 | EPSS probability ≥ 0.1 |
//! | `epss.medium` (`epss.medium_from` 0.01) | +5 | EPSS probability ≥ 0.01 |
//! | `epss.low` | −10 | EPSS probability < 0.01 and not in KEV |
//! | `exposure.internet_facing` | +10 | the component is internet-facing and the CVSS attack vector is network (or unknown) |
//! | `exposure.not_internet_facing` | −10 | the component is declared not internet-facing |
//! | `data_classification.public` / `internal` / `confidential` / `pii` / `pci` / `phi` | −5 / 0 / +5 / +10 / +10 / +10 | the component's data |
//! | `environment.production` / `staging` / `development` | 0 / −10 / −25 | where the component runs |
//! | `tier.tier1` / `tier2` / `tier3` | +10 / 0 / −10 | the component's business tier |
//! | `deployed.production` / `staging` | +10 / +3 | a deployment scan shows the vulnerable package, in this version, running there |
//! | `code.test` / `example` / `vendored` / `generated` | −25 / −20 / −20 / −15 | the path is test, example, vendored or generated code |
//! | `dependency.dev` | −20 | a development or test dependency (`devDependencies`, `[dev-dependencies]`, `<scope>test</scope>`, …) |
//! | `dependency.transitive` | −5 | not declared directly: pulled in by another dependency |
//! | `confidence.high` / `medium` / `low` | +5 / 0 / −15 | the tool's confidence (SARIF `precision`, …) |
//! | `agreement.per_tool` (at most `agreement.max`) | +5 (max +10) | each further tool that reported the same problem |
//!
//! The score is the sum, clamped to 0–100.

use serde::{Deserialize, Serialize};

/// Points a factor moves the score by: −100..=100.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct Points(pub i32);

impl<'de> Deserialize<'de> for Points {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let value = i64::deserialize(d)?;
        if (-100..=100).contains(&value) {
            Ok(Points(value as i32))
        } else {
            Err(serde::de::Error::custom(format!(
                "{value} points is out of range: a weight is from -100 to 100"
            )))
        }
    }
}

/// A probability threshold: 0..=1.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Serialize)]
#[serde(transparent)]
pub struct Probability(pub f64);

impl<'de> Deserialize<'de> for Probability {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let value = f64::deserialize(d)?;
        if (0.0..=1.0).contains(&value) {
            Ok(Probability(value))
        } else {
            Err(serde::de::Error::custom(format!(
                "{value} is not a probability: a threshold is from 0 to 1"
            )))
        }
    }
}

/// Declares a group of weights: a struct that deserialises partially (missing keys keep
/// their default) and refuses unknown keys.
macro_rules! weight_group {
    ($(#[$meta:meta])* $name:ident { $($(#[$field_meta:meta])* $field:ident : $ty:ident = $default:expr),* $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
        #[serde(default, deny_unknown_fields)]
        pub struct $name {
            $($(#[$field_meta])* pub $field: $ty,)*
        }

        impl Default for $name {
            fn default() -> Self {
                $name { $($field: $ty($default),)* }
            }
        }
    };
}

weight_group!(
    /// Base points by normalised severity, when no CVSS score is known.
    SeverityWeights {
        critical: Points = 90,
        high: Points = 70,
        medium: Points = 45,
        low: Points = 20,
        info: Points = 5,
    }
);

weight_group!(
    /// CISA KEV membership.
    KevWeights {
        listed: Points = 25,
        ransomware: Points = 5,
    }
);

weight_group!(
    /// EPSS probability bands.
    EpssWeights {
        high: Points = 15,
        high_from: Probability = 0.1,
        medium: Points = 5,
        medium_from: Probability = 0.01,
        /// Below `medium_from` and not in KEV: evidence that it is rarely exploited.
        low: Points = -10,
    }
);

weight_group!(
    /// Internet exposure of the component.
    ExposureWeights {
        internet_facing: Points = 10,
        not_internet_facing: Points = -10,
    }
);

weight_group!(
    /// The most sensitive data the component handles.
    DataWeights {
        public: Points = -5,
        internal: Points = 0,
        confidential: Points = 5,
        pii: Points = 10,
        pci: Points = 10,
        phi: Points = 10,
    }
);

weight_group!(
    /// Where the component runs.
    EnvironmentWeights {
        production: Points = 0,
        staging: Points = -10,
        development: Points = -25,
    }
);

weight_group!(
    /// Business tier of the component.
    TierWeights {
        tier1: Points = 10,
        tier2: Points = 0,
        tier3: Points = -10,
    }
);

weight_group!(
    /// Code that does not ship as it is.
    CodeWeights {
        test: Points = -25,
        example: Points = -20,
        vendored: Points = -20,
        generated: Points = -15,
    }
);

weight_group!(
    /// How a vulnerable dependency is used.
    DependencyWeights {
        dev: Points = -20,
        transitive: Points = -5,
    }
);

weight_group!(
    /// A vulnerable package that a deployment scan shows running (`environment=` uploads).
    DeploymentWeights {
        production: Points = 10,
        staging: Points = 3,
    }
);

weight_group!(
    /// The reporting tool's confidence.
    ConfidenceWeights {
        high: Points = 5,
        medium: Points = 0,
        low: Points = -15,
    }
);

weight_group!(
    /// Several tools reporting one problem.
    AgreementWeights {
        per_tool: Points = 5,
        max: Points = 10,
    }
);

/// Every weight of the risk score; see the module documentation for the table.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Weights {
    pub severity: SeverityWeights,
    pub secret: Points,
    pub introduced_here: Points,
    pub kev: KevWeights,
    pub epss: EpssWeights,
    pub exposure: ExposureWeights,
    pub data_classification: DataWeights,
    pub environment: EnvironmentWeights,
    pub deployed: DeploymentWeights,
    pub tier: TierWeights,
    pub code: CodeWeights,
    pub dependency: DependencyWeights,
    pub confidence: ConfidenceWeights,
    pub agreement: AgreementWeights,
}

impl Default for Weights {
    fn default() -> Self {
        Weights {
            severity: SeverityWeights::default(),
            secret: Points(10),
            introduced_here: Points(5),
            kev: KevWeights::default(),
            epss: EpssWeights::default(),
            exposure: ExposureWeights::default(),
            data_classification: DataWeights::default(),
            environment: EnvironmentWeights::default(),
            deployed: DeploymentWeights::default(),
            tier: TierWeights::default(),
            code: CodeWeights::default(),
            dependency: DependencyWeights::default(),
            confidence: ConfidenceWeights::default(),
            agreement: AgreementWeights::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_partial_table_keeps_the_other_defaults() {
        let weights: Weights =
            serde_yaml_ng::from_str("kev:\n  listed: 40\ndata_classification:\n  pii: 20\n")
                .unwrap();
        assert_eq!(weights.kev.listed, Points(40));
        assert_eq!(weights.kev.ransomware, Points(5));
        assert_eq!(weights.data_classification.pii, Points(20));
        assert_eq!(weights.data_classification.pci, Points(10));
        assert_eq!(weights.secret, Points(10));
    }

    #[test]
    fn the_documented_table_is_the_default() {
        let doc = include_str!("weights.rs");
        let weights = Weights::default();
        let json = serde_json::to_value(weights).unwrap();
        // Every top-level key appears in the module's table.
        for key in json.as_object().unwrap().keys() {
            assert!(doc.contains(&format!("| `{key}")), "{key} is documented");
        }
        assert_eq!(weights.epss.high_from, Probability(0.1));
        assert_eq!(weights.code.test, Points(-25));
    }

    #[test]
    fn out_of_range_values_and_unknown_keys_are_refused() {
        for (text, needle) in [
            ("secret: 101\n", "out of range"),
            ("epss:\n  high_from: 1.5\n", "not a probability"),
            ("kev:\n  listd: 3\n", "unknown field `listd`"),
            ("severty: {}\n", "unknown field `severty`"),
        ] {
            let error = serde_yaml_ng::from_str::<Weights>(text).unwrap_err();
            assert!(error.to_string().contains(needle), "{text}: {error}");
        }
    }
}
