//! Payload formats a sink can carry: OCSF 1.x findings (for SIEMs that speak OCSF: Security
//! Lake, Splunk's OCSF add-on, …), Elastic Common Schema, or posture's own JSON (the
//! [`AlertEvent`] as it is). Pure: one event in, one JSON document out.

mod ecs;
mod ocsf;

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::event::AlertEvent;

pub use ecs::ecs;
pub use ocsf::ocsf;

/// The name and version posture stamps on what it emits (OCSF `metadata.product`, ECS
/// `observer`).
pub const PRODUCT: &str = "posture";
pub const PRODUCT_VERSION: &str = env!("CARGO_PKG_VERSION");

/// A sink's payload format (`format:` in the settings file; `posture` by default).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Ocsf,
    Ecs,
    #[default]
    Posture,
}

impl Format {
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Ocsf => "ocsf",
            Format::Ecs => "ecs",
            Format::Posture => "posture",
        }
    }

    /// One event in this format.
    pub fn render(self, event: &AlertEvent) -> Value {
        match self {
            Format::Ocsf => ocsf(event),
            Format::Ecs => ecs(event),
            Format::Posture => posture(event),
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Format {
    type Err = String;

    fn from_str(text: &str) -> Result<Format, String> {
        [Format::Ocsf, Format::Ecs, Format::Posture]
            .into_iter()
            .find(|format| format.as_str() == text)
            .ok_or_else(|| format!("unknown format `{text}`: expected ocsf, ecs or posture"))
    }
}

/// posture's own JSON: the event as it is, with a schema marker so readers can tell
/// versions apart.
pub fn posture(event: &AlertEvent) -> Value {
    let mut value = serde_json::to_value(event).unwrap_or(Value::Null);
    if let Value::Object(map) = &mut value {
        map.insert("schema".into(), Value::from("posture.alert/1"));
    }
    value
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn posture_json_is_the_event_with_its_schema() {
        let event = AlertEvent::sample("acme", chrono::Utc::now());
        let value = posture(&event);
        assert_eq!(value["schema"], "posture.alert/1");
        assert_eq!(value["kind"], "finding.detected");
        assert_eq!(value["finding"]["severity"], "info");
        let mut back = value.clone();
        back.as_object_mut().unwrap().remove("schema");
        assert_eq!(serde_json::from_value::<AlertEvent>(back).unwrap(), event);
    }

    #[test]
    fn formats_parse_and_print_alike() {
        for format in [Format::Ocsf, Format::Ecs, Format::Posture] {
            assert_eq!(format.as_str().parse::<Format>(), Ok(format));
        }
        assert!("cef".parse::<Format>().is_err());
    }
}
