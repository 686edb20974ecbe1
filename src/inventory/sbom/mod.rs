//! TEMPORARY stand-in until the sbom branch lands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SbomFormat {
    Cyclonedx,
    Spdx,
}
impl std::str::FromStr for SbomFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "cyclonedx" => Ok(SbomFormat::Cyclonedx),
            "spdx" => Ok(SbomFormat::Spdx),
            o => Err(format!("unknown format `{o}`")),
        }
    }
}
pub struct Subject<'a> {
    pub name: &'a str,
    pub revision: &'a str,
    pub created: chrono::DateTime<chrono::Utc>,
}
pub fn write(
    _format: SbomFormat,
    _subject: &Subject,
    components: &[crate::model::Component],
) -> serde_json::Value {
    serde_json::json!({ "components": components })
}
