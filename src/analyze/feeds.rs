//! The published exploitation feeds, parsed: CISA's Known Exploited Vulnerabilities catalog
//! (`known_exploited_vulnerabilities.json`) and FIRST's EPSS scores
//! (`epss_scores-YYYY-MM-DD.csv.gz`, gzip-compressed or not). Bytes in, records out: fetching
//! and caching live in [`crate::store::intel`].
//!
//! A malformed file is an error naming the file and the line (and column, for JSON), never
//! a panic and never a silently shorter feed.

use std::io::Read;

use chrono::NaiveDate;
use serde::Deserialize;

use crate::model::intel::is_cve;
use crate::model::{EpssScore, KevEntry};

/// Larger feeds (after decompression) are refused: the real KEV catalog is about 1.5 MB and
/// the EPSS file about 10 MB.
pub const MAX_FEED_BYTES: u64 = 256 * 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum FeedError {
    #[error("{file}:{line}:{column}: not a KEV catalog: {message}")]
    Kev {
        file: String,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{file}:{line}: not an EPSS score file: {message}")]
    Epss {
        file: String,
        line: usize,
        message: String,
    },
    #[error("{file}: cannot decompress: {source}")]
    Gzip {
        file: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{file}: larger than {MAX_FEED_BYTES} bytes")]
    TooLarge { file: String },
}

/// A parsed KEV catalog.
#[derive(Debug, Clone, PartialEq)]
pub struct KevCatalog {
    pub version: Option<String>,
    pub entries: Vec<KevEntry>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawCatalog {
    #[serde(default)]
    catalog_version: Option<String>,
    vulnerabilities: Vec<RawKev>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawKev {
    #[serde(rename = "cveID")]
    cve_id: CveId,
    #[serde(default)]
    vendor_project: String,
    #[serde(default)]
    product: String,
    #[serde(default)]
    vulnerability_name: String,
    date_added: NaiveDate,
    #[serde(default)]
    due_date: Option<NaiveDate>,
    #[serde(default)]
    known_ransomware_campaign_use: Option<String>,
    #[serde(default)]
    required_action: String,
}

/// A CVE id, checked and upper-cased while parsing so a bad one is positioned.
struct CveId(String);

impl<'de> Deserialize<'de> for CveId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        if is_cve(&text) {
            Ok(CveId(text.trim().to_ascii_uppercase()))
        } else {
            Err(serde::de::Error::custom(format!(
                "`{text}` is not a CVE id"
            )))
        }
    }
}

/// Parses CISA's KEV catalog JSON (`{catalogVersion, vulnerabilities: [{cveID, …}]}`).
pub fn parse_kev(file: &str, bytes: &[u8]) -> Result<KevCatalog, FeedError> {
    let bytes = decompressed(file, bytes)?;
    let raw: RawCatalog = serde_json::from_slice(&bytes).map_err(|e| FeedError::Kev {
        file: file.to_string(),
        line: e.line(),
        column: e.column(),
        message: crate::redact::without_values(&strip_position(&e.to_string())),
    })?;
    let entries = raw
        .vulnerabilities
        .into_iter()
        .map(|v| KevEntry {
            cve_id: v.cve_id.0,
            vendor_project: v.vendor_project,
            product: v.product,
            vulnerability_name: v.vulnerability_name,
            date_added: v.date_added,
            due_date: v.due_date,
            known_ransomware: v
                .known_ransomware_campaign_use
                .is_some_and(|k| k.trim().eq_ignore_ascii_case("known")),
            required_action: v.required_action,
        })
        .collect();
    Ok(KevCatalog {
        version: raw.catalog_version,
        entries,
    })
}

/// A parsed EPSS score file.
#[derive(Debug, Clone, PartialEq)]
pub struct EpssFile {
    pub model_version: Option<String>,
    pub score_date: Option<NaiveDate>,
    pub scores: Vec<(String, EpssScore)>,
}

/// Parses an EPSS scores file: an optional `#model_version:…,score_date:…` comment, the
/// header `cve,epss,percentile`, then one row per CVE. Gzip-compressed input is detected
/// by its magic bytes.
pub fn parse_epss(file: &str, bytes: &[u8]) -> Result<EpssFile, FeedError> {
    let bytes = decompressed(file, bytes)?;
    let error = |line: usize, message: String| FeedError::Epss {
        file: file.to_string(),
        line,
        message,
    };
    let text = std::str::from_utf8(&bytes).map_err(|e| {
        let line = bytes[..e.valid_up_to()]
            .iter()
            .filter(|&&b| b == b'\n')
            .count()
            + 1;
        error(line, "not UTF-8".into())
    })?;
    let mut parsed = EpssFile {
        model_version: None,
        score_date: None,
        scores: Vec::new(),
    };
    let mut columns: Option<(usize, usize, usize)> = None;
    for (index, line) in text.lines().enumerate() {
        let number = index + 1;
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() {
            continue;
        }
        if let Some(comment) = line.strip_prefix('#') {
            for pair in comment.split(',') {
                match pair.split_once(':') {
                    Some(("model_version", value)) => {
                        parsed.model_version = Some(value.trim().to_string());
                    }
                    Some(("score_date", value)) => {
                        // `2025-03-14T00:00:00+0000`: the date is what matters.
                        let date = value.trim().get(..10).unwrap_or(value);
                        parsed.score_date = Some(date.parse().map_err(|_| {
                            error(number, format!("score_date `{value}` is not a date"))
                        })?);
                    }
                    _ => {}
                }
            }
            continue;
        }
        let fields: Vec<&str> = line.split(',').map(str::trim).collect();
        let Some((cve, epss, percentile)) = columns else {
            let position = |name: &str| fields.iter().position(|f| f.eq_ignore_ascii_case(name));
            columns = Some(
                match (position("cve"), position("epss"), position("percentile")) {
                    (Some(c), Some(e), Some(p)) => (c, e, p),
                    _ => {
                        return Err(error(
                            number,
                            format!("expected the header `cve,epss,percentile`, found `{line}`"),
                        ));
                    }
                },
            );
            continue;
        };
        let field = |i: usize, name: &str| {
            fields
                .get(i)
                .copied()
                .ok_or_else(|| error(number, format!("no {name} column in `{line}`")))
        };
        let id = field(cve, "cve")?;
        if !is_cve(id) {
            return Err(error(number, format!("`{id}` is not a CVE id")));
        }
        let epss_value = probability(field(epss, "epss")?).ok_or_else(|| {
            error(
                number,
                format!("epss is not a number from 0 to 1: `{line}`"),
            )
        })?;
        let percentile = probability(field(percentile, "percentile")?).ok_or_else(|| {
            error(
                number,
                format!("percentile is not a number from 0 to 1: `{line}`"),
            )
        })?;
        parsed.scores.push((
            id.to_ascii_uppercase(),
            EpssScore {
                probability: epss_value,
                percentile,
            },
        ));
    }
    if columns.is_none() {
        return Err(error(1, "empty: no `cve,epss,percentile` header".into()));
    }
    Ok(parsed)
}

fn probability(text: &str) -> Option<f64> {
    text.parse::<f64>()
        .ok()
        .filter(|p| p.is_finite() && (0.0..=1.0).contains(p))
}

/// The bytes, gunzipped when they start with gzip's magic number; bounded either way.
fn decompressed(file: &str, bytes: &[u8]) -> Result<Vec<u8>, FeedError> {
    if bytes.len() as u64 > MAX_FEED_BYTES {
        return Err(FeedError::TooLarge {
            file: file.to_string(),
        });
    }
    if !bytes.starts_with(&[0x1f, 0x8b]) {
        return Ok(bytes.to_vec());
    }
    let mut out = Vec::new();
    flate2::read::MultiGzDecoder::new(bytes)
        .take(MAX_FEED_BYTES + 1)
        .read_to_end(&mut out)
        .map_err(|source| FeedError::Gzip {
            file: file.to_string(),
            source,
        })?;
    if out.len() as u64 > MAX_FEED_BYTES {
        return Err(FeedError::TooLarge {
            file: file.to_string(),
        });
    }
    Ok(out)
}

/// serde_json appends " at line L column C"; the error prints the position itself.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    fn fixture(name: &str) -> Vec<u8> {
        let path = format!("{}/fixtures/intel/{name}", env!("CARGO_MANIFEST_DIR"));
        std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    #[test]
    fn the_kev_excerpt_parses() {
        let catalog = parse_kev("kev.json", &fixture("known_exploited_vulnerabilities.json"))
            .expect("the KEV excerpt parses");
        assert!(catalog.version.is_some());
        let log4shell = catalog
            .entries
            .iter()
            .find(|e| e.cve_id == "CVE-2021-44228")
            .expect("Log4Shell is in KEV");
        assert_eq!(log4shell.vendor_project, "Apache");
        assert_eq!(log4shell.date_added.to_string(), "2021-12-10");
        assert_eq!(
            log4shell.due_date.map(|d| d.to_string()).as_deref(),
            Some("2021-12-24")
        );
        assert!(log4shell.known_ransomware);
        assert!(catalog.entries.iter().any(|e| !e.known_ransomware));
    }

    #[test]
    fn the_epss_excerpt_parses_plain_and_gzipped() {
        let csv = fixture("epss_scores-excerpt.csv");
        let plain = parse_epss("epss.csv", &csv).expect("the EPSS excerpt parses");
        assert!(plain.model_version.is_some());
        assert!(plain.score_date.is_some());
        assert!(plain.scores.len() >= 5);
        let (_, log4shell) = plain
            .scores
            .iter()
            .find(|(cve, _)| cve == "CVE-2021-44228")
            .expect("Log4Shell is scored");
        assert!(log4shell.probability > 0.9);

        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(&csv).unwrap();
        let gzipped = parse_epss("epss.csv.gz", &gz.finish().unwrap()).unwrap();
        assert_eq!(gzipped, plain);
    }

    #[test]
    fn malformed_kev_names_file_line_and_column() {
        let cases = [
            ("{\"vulnerabilities\": [", 1, "EOF"),
            ("{\"title\": \"x\"}", 1, "missing field `vulnerabilities`"),
            (
                "{\"vulnerabilities\": [\n  {\"cveID\": \"CVE-2021-44228\", \"dateAdded\": \"2021-13-40\"}\n]}",
                2,
                "input is out of range",
            ),
            (
                "{\"vulnerabilities\": [\n\n  {\"cveID\": \"not-a-cve\", \"dateAdded\": \"2021-12-10\"}]}",
                3,
                "`not-a-cve` is not a CVE id",
            ),
        ];
        for (text, line, needle) in cases {
            let error = parse_kev("feeds/kev.json", text.as_bytes()).unwrap_err();
            let message = error.to_string();
            assert!(
                message.starts_with(&format!("feeds/kev.json:{line}:")),
                "{message}"
            );
            assert!(message.contains(needle), "{message}");
        }
    }

    #[test]
    fn malformed_epss_names_file_and_line() {
        let cases = [
            ("", 1, "no `cve,epss,percentile` header"),
            ("cve,score\nCVE-2021-44228,0.9\n", 1, "expected the header"),
            (
                "#model_version:v1,score_date:soon\ncve,epss,percentile\n",
                1,
                "score_date",
            ),
            (
                "cve,epss,percentile\nCVE-2021-44228,0.9,0.99\nCVE-2021-1,0.1,0.2\n",
                3,
                "is not a CVE id",
            ),
            (
                "cve,epss,percentile\nCVE-2021-44228,1.7,0.99\n",
                2,
                "epss is not a number",
            ),
            (
                "cve,epss,percentile\nCVE-2021-44228,0.5,NaN\n",
                2,
                "percentile is not a number",
            ),
            ("cve,epss,percentile\nCVE-2021-44228\n", 2, "no epss column"),
        ];
        for (text, line, needle) in cases {
            let error = parse_epss("epss.csv", text.as_bytes()).unwrap_err();
            let message = error.to_string();
            assert!(
                message.starts_with(&format!("epss.csv:{line}:")),
                "{message}"
            );
            assert!(message.contains(needle), "{message}");
        }
        let truncated = [0x1f, 0x8b, 0x08, 0x00, 0x01];
        let error = parse_epss("epss.csv.gz", &truncated).unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with("epss.csv.gz: cannot decompress"),
            "{error}"
        );
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..200)) {
            let _ = parse_kev("k", &bytes);
            let _ = parse_epss("e", &bytes);
        }
    }
}
