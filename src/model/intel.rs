//! Exploitation intelligence: which vulnerabilities are known to be exploited (CISA's Known
//! Exploited Vulnerabilities catalog) and how likely exploitation is in the next 30 days
//! (FIRST's Exploit Prediction Scoring System). Keyed by CVE id, upper-case.

use std::collections::HashMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// One entry of CISA's KEV catalog.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KevEntry {
    pub cve_id: String,
    pub vendor_project: String,
    pub product: String,
    pub vulnerability_name: String,
    pub date_added: NaiveDate,
    /// The remediation deadline CISA set for US federal agencies.
    pub due_date: Option<NaiveDate>,
    /// `knownRansomwareCampaignUse` is `Known`.
    pub known_ransomware: bool,
    pub required_action: String,
}

/// One CVE's EPSS score.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct EpssScore {
    /// Probability of exploitation activity in the next 30 days, 0–1.
    pub probability: f64,
    /// The share of all scored CVEs with a lower or equal probability, 0–1.
    pub percentile: f64,
}

/// What is known about exploitation, for the CVEs a review looks up.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Intel {
    pub kev: HashMap<String, KevEntry>,
    pub epss: HashMap<String, EpssScore>,
    /// The EPSS scores' date (`score_date` of the file), when known.
    pub epss_date: Option<NaiveDate>,
    /// The KEV catalog's `catalogVersion`, when known.
    pub kev_version: Option<String>,
}

impl Intel {
    pub fn is_empty(&self) -> bool {
        self.kev.is_empty() && self.epss.is_empty()
    }

    /// The KEV entry of the first of `ids` that is in the catalog.
    pub fn kev<'a>(&self, ids: impl IntoIterator<Item = &'a str>) -> Option<&KevEntry> {
        ids.into_iter()
            .find_map(|id| self.kev.get(&id.trim().to_ascii_uppercase()))
    }

    /// The highest EPSS score among `ids`, with the CVE it belongs to.
    pub fn epss<'a>(&self, ids: impl IntoIterator<Item = &'a str>) -> Option<(String, EpssScore)> {
        ids.into_iter()
            .filter_map(|id| {
                let key = id.trim().to_ascii_uppercase();
                let score = *self.epss.get(&key)?;
                Some((key, score))
            })
            .max_by(|a, b| a.1.probability.total_cmp(&b.1.probability))
    }

    /// Keeps only the records of `ids` (what a review needs of a full feed).
    pub fn restricted_to<'a>(&self, ids: impl IntoIterator<Item = &'a str>) -> Intel {
        let mut out = Intel {
            epss_date: self.epss_date,
            kev_version: self.kev_version.clone(),
            ..Intel::default()
        };
        for id in ids {
            let key = id.trim().to_ascii_uppercase();
            if let Some(entry) = self.kev.get(&key) {
                out.kev.insert(key.clone(), entry.clone());
            }
            if let Some(score) = self.epss.get(&key) {
                out.epss.insert(key, *score);
            }
        }
        out
    }
}

/// Whether `id` is a CVE id (`CVE-YYYY-NNNN…`, any case).
pub fn is_cve(id: &str) -> bool {
    let id = id.trim();
    if !id.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("CVE-")) {
        return false;
    }
    let mut parts = id[4..].split('-');
    matches!(
        (parts.next(), parts.next(), parts.next()),
        (Some(year), Some(number), None)
            if year.len() == 4
                && year.bytes().all(|b| b.is_ascii_digit())
                && number.len() >= 4
                && number.bytes().all(|b| b.is_ascii_digit())
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookups_are_case_insensitive_and_take_the_highest_epss() {
        let mut intel = Intel::default();
        intel.epss.insert(
            "CVE-2021-44228".into(),
            EpssScore {
                probability: 0.94,
                percentile: 0.99,
            },
        );
        intel.epss.insert(
            "CVE-2021-45046".into(),
            EpssScore {
                probability: 0.5,
                percentile: 0.9,
            },
        );
        let (cve, score) = intel.epss(["cve-2021-45046", "CVE-2021-44228"]).unwrap();
        assert_eq!(cve, "CVE-2021-44228");
        assert_eq!(score.probability, 0.94);
        assert!(intel.epss(["GHSA-jfh8-c2jp-5v3q"]).is_none());
        let restricted = intel.restricted_to(["CVE-2021-45046"]);
        assert_eq!(restricted.epss.len(), 1);
    }

    #[test]
    fn cve_ids() {
        assert!(is_cve("CVE-2021-44228"));
        assert!(is_cve("cve-2014-0160"));
        assert!(is_cve("CVE-2023-1234567"));
        assert!(!is_cve("CVE-21-44228"));
        assert!(!is_cve("GHSA-jfh8-c2jp-5v3q"));
        assert!(!is_cve("CVE-2021-442"));
        assert!(!is_cve("CVE-2021-44228-x"));
        assert!(!is_cve("ÇVE-2021-44228"));
    }
}
