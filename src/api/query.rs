//! Query strings of the org endpoints: the period and date (`from`, `to`, `as_of`), the
//! filters, and paging, each read with a 400 that names the parameter when it is wrong.

use std::collections::HashMap;

use chrono::{DateTime, Duration, NaiveDate, Utc};

use super::ApiError;
use crate::history::{Filters, Window};
use crate::model::{Kind, Severity};

/// The period when `from` is not given: the 30 days before `to`.
pub const DEFAULT_PERIOD_DAYS: i64 = 30;

/// The parameters of a request, checked against those the endpoint knows.
pub struct Params(HashMap<String, String>);

impl Params {
    /// Refuses a parameter the endpoint does not know (a typo would silently widen a
    /// figure otherwise).
    pub fn new(params: HashMap<String, String>, known: &[&str]) -> Result<Params, ApiError> {
        let mut unknown: Vec<&String> = params
            .keys()
            .filter(|key| !known.contains(&key.as_str()))
            .collect();
        unknown.sort();
        match unknown.first() {
            Some(key) => Err(ApiError::bad_request(format!(
                "unknown parameter `{key}` (this endpoint takes {})",
                known.join(", ")
            ))),
            None => Ok(Params(params)),
        }
    }

    /// A parameter's value; empty counts as absent.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    /// A parameter parsed with `parse`, whose error is named in the 400.
    pub fn parse<T>(
        &self,
        name: &str,
        parse: impl FnOnce(&str) -> Result<T, String>,
    ) -> Result<Option<T>, ApiError> {
        self.get(name)
            .map(|value| parse(value).map_err(|e| ApiError::bad_request(format!("`{name}`: {e}"))))
            .transpose()
    }

    /// `limit`: a page size from 1 to `max`, `default` when absent.
    pub fn limit(&self, default: u32, max: u32) -> Result<u32, ApiError> {
        Ok(self
            .parse("limit", |v| match v.parse::<u32>() {
                Ok(n) if (1..=max).contains(&n) => Ok(n),
                _ => Err(format!("expected a number from 1 to {max}")),
            })?
            .unwrap_or(default))
    }

    /// `from`, `to` and `as_of`: `as_of` defaults to now, `to` to `as_of`, `from` to 30 days
    /// before `to`.
    pub fn window(&self, now: DateTime<Utc>) -> Result<Window, ApiError> {
        let as_of = self.parse("as_of", parse_time)?.unwrap_or(now);
        let to = self.parse("to", parse_time)?.unwrap_or(as_of);
        let from = self
            .parse("from", parse_time)?
            .unwrap_or(to - Duration::days(DEFAULT_PERIOD_DAYS));
        if from >= to {
            return Err(ApiError::bad_request(format!(
                "`from` ({}) must be before `to` ({})",
                from.to_rfc3339(),
                to.to_rfc3339()
            )));
        }
        Ok(Window { from, to, as_of })
    }

    /// `repository`, `severity`, `kind`, `tool`.
    pub fn filters(&self) -> Result<Filters, ApiError> {
        Ok(Filters {
            repository: self.get("repository").map(str::to_owned),
            severity: self.parse("severity", parse_severity)?,
            kind: self.parse("kind", str::parse::<Kind>)?,
            tool: self.get("tool").map(str::to_owned),
        })
    }
}

/// The parameters every org figure takes.
pub const FIGURE_PARAMS: [&str; 7] = [
    "from",
    "to",
    "as_of",
    "repository",
    "severity",
    "kind",
    "tool",
];

/// RFC 3339 (`2026-11-01T00:00:00Z`) or a date (`2026-11-01`, midnight UTC).
pub fn parse_time(text: &str) -> Result<DateTime<Utc>, String> {
    if let Ok(time) = DateTime::parse_from_rfc3339(text) {
        return Ok(time.with_timezone(&Utc));
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .and_then(|date| date.and_hms_opt(0, 0, 0))
        .map(|time| time.and_utc())
        .ok_or_else(|| format!("`{text}` is not an RFC 3339 time or a YYYY-MM-DD date"))
}

/// Exactly one of posture's severity names (no scanner synonyms in a query).
fn parse_severity(text: &str) -> Result<Severity, String> {
    Severity::ALL
        .into_iter()
        .find(|s| s.as_str() == text)
        .ok_or_else(|| {
            format!("unknown severity `{text}` (expected critical, high, medium, low or info)")
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> Result<Params, ApiError> {
        let map = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Params::new(map, &FIGURE_PARAMS)
    }

    #[test]
    fn the_window_defaults_to_the_last_30_days_as_of_now() {
        let now = parse_time("2026-12-04T12:00:00Z").unwrap();
        let window = params(&[]).unwrap().window(now).unwrap();
        assert_eq!(window.as_of, now);
        assert_eq!(window.to, now);
        assert_eq!(window.from, parse_time("2026-11-04T12:00:00Z").unwrap());
        let window = params(&[("as_of", "2026-06-01")])
            .unwrap()
            .window(now)
            .unwrap();
        assert_eq!(window.to, parse_time("2026-06-01T00:00:00Z").unwrap());
    }

    #[test]
    fn bad_values_and_unknown_parameters_are_400s_naming_them() {
        let now = Utc::now();
        let err = params(&[("sevrity", "high")]).err().unwrap();
        assert!(err.message.contains("`sevrity`"), "{}", err.message);
        let err = params(&[("from", "yesterday")])
            .unwrap()
            .window(now)
            .unwrap_err();
        assert!(err.message.starts_with("`from`"), "{}", err.message);
        let err = params(&[("from", "2026-02-01"), ("to", "2026-01-01")])
            .unwrap()
            .window(now)
            .unwrap_err();
        assert!(err.message.contains("before"), "{}", err.message);
        let err = params(&[("severity", "error")])
            .unwrap()
            .filters()
            .unwrap_err();
        assert!(err.message.contains("critical, high"), "{}", err.message);
        let filters = params(&[("kind", "sca"), ("tool", "trivy")])
            .unwrap()
            .filters()
            .unwrap();
        assert_eq!(filters.kind, Some(Kind::Sca));
        assert_eq!(filters.tool.as_deref(), Some("trivy"));
    }
}
