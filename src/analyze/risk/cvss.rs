//! CVSS vectors, parsed: the base score and the exploitability metrics the risk score reads.
//!
//! The `cvss` crate (3.x) validates and scores v2.0, v3.0, v3.1 and v4.0 vectors; the
//! exploitability metrics (attack vector, complexity, privileges, user interaction) are then
//! read from the validated vector's `KEY:VALUE` components, which every version writes the
//! same way. When a finding carries several vectors, the newest CVSS version wins
//! (v4.0, then v3.1, v3.0, v2.0), and within one version the first given (each ingester lists
//! its preferred source first).

use std::fmt;

/// The CVSS version of a vector.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum CvssVersion {
    V2,
    V30,
    V31,
    V40,
}

impl fmt::Display for CvssVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CvssVersion::V2 => "CVSS 2.0",
            CvssVersion::V30 => "CVSS 3.0",
            CvssVersion::V31 => "CVSS 3.1",
            CvssVersion::V40 => "CVSS 4.0",
        })
    }
}

/// Where an attacker must be (`AV`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttackVector {
    Network,
    Adjacent,
    Local,
    Physical,
}

/// A validated, scored vector and its exploitability metrics.
#[derive(Debug, Clone, PartialEq)]
pub struct Cvss {
    pub version: CvssVersion,
    pub vector: String,
    /// The base score, 0–10.
    pub score: f64,
    pub attack_vector: Option<AttackVector>,
    /// `AC:L`.
    pub low_complexity: Option<bool>,
    /// `PR:N` (v2: `Au:N`).
    pub no_privileges: Option<bool>,
    /// `UI:N`.
    pub no_user_interaction: Option<bool>,
}

impl Cvss {
    /// Parses and scores `vector`; `None` when the `cvss` crate refuses it.
    pub fn parse(vector: &str) -> Option<Cvss> {
        let vector = vector.trim();
        let parsed: cvss::Cvss = vector.parse().ok()?;
        let version = match &parsed {
            cvss::Cvss::CvssV20(_) => CvssVersion::V2,
            cvss::Cvss::CvssV30(_) => CvssVersion::V30,
            cvss::Cvss::CvssV31(_) => CvssVersion::V31,
            cvss::Cvss::CvssV40(_) => CvssVersion::V40,
            _ => return None,
        };
        let score = parsed.score();
        if !(0.0..=10.0).contains(&score) {
            return None;
        }
        let metric = |key: &str| {
            vector
                .split('/')
                .find_map(|part| part.strip_prefix(key)?.strip_prefix(':'))
        };
        Some(Cvss {
            version,
            vector: vector.to_string(),
            score,
            attack_vector: metric("AV").and_then(|v| match v {
                "N" => Some(AttackVector::Network),
                "A" => Some(AttackVector::Adjacent),
                "L" => Some(AttackVector::Local),
                "P" => Some(AttackVector::Physical),
                _ => None,
            }),
            low_complexity: metric("AC").map(|v| v == "L"),
            no_privileges: metric("PR")
                .map(|v| v == "N")
                .or_else(|| metric("Au").map(|v| v == "N")),
            no_user_interaction: metric("UI").map(|v| v == "N"),
        })
    }

    /// The vector a finding is ranked by: the newest version, then the first given.
    pub fn preferred<'a>(vectors: impl IntoIterator<Item = &'a str>) -> Option<Cvss> {
        let mut best: Option<Cvss> = None;
        for parsed in vectors.into_iter().filter_map(Cvss::parse) {
            if best.as_ref().is_none_or(|b| parsed.version > b.version) {
                best = Some(parsed);
            }
        }
        best
    }

    /// What the vector says about exploitation, in words: `network, low complexity, no
    /// privileges, no user interaction`.
    pub fn exploitability(&self) -> String {
        let mut words = Vec::new();
        if let Some(av) = self.attack_vector {
            words.push(match av {
                AttackVector::Network => "network",
                AttackVector::Adjacent => "adjacent network",
                AttackVector::Local => "local access",
                AttackVector::Physical => "physical access",
            });
        }
        let pairs = [
            (self.low_complexity, "low complexity", "high complexity"),
            (self.no_privileges, "no privileges", "privileges required"),
            (
                self.no_user_interaction,
                "no user interaction",
                "user interaction",
            ),
        ];
        for (value, yes, no) in pairs {
            if let Some(value) = value {
                words.push(if value { yes } else { no });
            }
        }
        words.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_version_parses_with_its_metrics() {
        let log4shell = Cvss::parse("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H").unwrap();
        assert_eq!(log4shell.version, CvssVersion::V31);
        assert_eq!(log4shell.score, 10.0);
        assert_eq!(log4shell.attack_vector, Some(AttackVector::Network));
        assert_eq!(
            log4shell.exploitability(),
            "network, low complexity, no privileges, no user interaction"
        );

        let v4 =
            Cvss::parse("CVSS:4.0/AV:L/AC:L/AT:N/PR:L/UI:P/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N").unwrap();
        assert_eq!(v4.version, CvssVersion::V40);
        assert_eq!(v4.attack_vector, Some(AttackVector::Local));
        assert_eq!(v4.no_user_interaction, Some(false));
        assert!(v4.score > 0.0 && v4.score < 10.0, "{}", v4.score);

        let v2 = Cvss::parse("AV:N/AC:L/Au:N/C:P/I:P/A:P").unwrap();
        assert_eq!(v2.version, CvssVersion::V2);
        assert_eq!(v2.score, 7.5);
        assert_eq!(v2.no_privileges, Some(true));

        let v30 = Cvss::parse("CVSS:3.0/AV:P/AC:H/PR:H/UI:R/S:U/C:L/I:N/A:N").unwrap();
        assert_eq!(v30.attack_vector, Some(AttackVector::Physical));
        assert_eq!(
            v30.exploitability(),
            "physical access, high complexity, privileges required, user interaction"
        );
    }

    #[test]
    fn malformed_vectors_are_skipped() {
        for vector in [
            "",
            "CVSS:3.1/AV:X",
            "CVSS:9.9/AV:N",
            "7.5",
            "CVSS:3.1/garbage",
        ] {
            assert_eq!(Cvss::parse(vector), None, "{vector}");
        }
        assert_eq!(Cvss::preferred(["junk", "also junk"]), None);
    }

    #[test]
    fn the_newest_version_wins_then_the_first_given() {
        let preferred = Cvss::preferred([
            "AV:N/AC:L/Au:N/C:P/I:P/A:P",
            "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
            "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:L/I:N/A:N",
        ])
        .unwrap();
        assert_eq!(preferred.score, 9.8);
        let with_v4 = Cvss::preferred([
            "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
            "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",
        ])
        .unwrap();
        assert_eq!(with_v4.version, CvssVersion::V40);
    }
}
