//! Business context: what a finding's code is exposed to and what it guards. Maintainers
//! state it in `.posture.yml` (`context`, and per path in `components`); the risk score
//! reads it.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The most sensitive data the application (or component) handles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DataClass {
    Public,
    Internal,
    Confidential,
    /// Personally identifiable information.
    Pii,
    /// Payment card data (PCI DSS scope).
    Pci,
    /// Protected health information.
    Phi,
}

impl DataClass {
    pub fn as_str(self) -> &'static str {
        match self {
            DataClass::Public => "public",
            DataClass::Internal => "internal",
            DataClass::Confidential => "confidential",
            DataClass::Pii => "pii",
            DataClass::Pci => "pci",
            DataClass::Phi => "phi",
        }
    }
}

/// Where the code runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Environment {
    Production,
    Staging,
    Development,
}

impl Environment {
    pub fn as_str(self) -> &'static str {
        match self {
            Environment::Production => "production",
            Environment::Staging => "staging",
            Environment::Development => "development",
        }
    }
}

/// Business criticality: tier 1 is the most critical service, tier 3 the least.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(into = "u8")]
pub enum Tier {
    One,
    Two,
    Three,
}

impl Tier {
    pub fn number(self) -> u8 {
        match self {
            Tier::One => 1,
            Tier::Two => 2,
            Tier::Three => 3,
        }
    }
}

impl From<Tier> for u8 {
    fn from(tier: Tier) -> u8 {
        tier.number()
    }
}

impl<'de> Deserialize<'de> for Tier {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match u64::deserialize(d)? {
            1 => Ok(Tier::One),
            2 => Ok(Tier::Two),
            3 => Ok(Tier::Three),
            other => Err(serde::de::Error::custom(format!(
                "tier {other} does not exist: 1 (business-critical), 2 or 3 (least critical)"
            ))),
        }
    }
}

impl fmt::Display for Tier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "tier {}", self.number())
    }
}

/// The context of one place in the repository; unset fields are unknown and move nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BusinessContext {
    /// The component (from `.posture.yml` `components`) the path belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub component: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub internet_facing: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_classification: Option<DataClass>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment: Option<Environment>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tier: Option<Tier>,
}

impl BusinessContext {
    /// `self`'s fields where set, else `fallback`'s.
    pub fn or(&self, fallback: &BusinessContext) -> BusinessContext {
        BusinessContext {
            component: self
                .component
                .clone()
                .or_else(|| fallback.component.clone()),
            internet_facing: self.internet_facing.or(fallback.internet_facing),
            data_classification: self.data_classification.or(fallback.data_classification),
            environment: self.environment.or(fallback.environment),
            tier: self.tier.or(fallback.tier),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn component_fields_fall_back_to_the_application() {
        let app = BusinessContext {
            internet_facing: Some(true),
            data_classification: Some(DataClass::Pii),
            environment: Some(Environment::Production),
            tier: Some(Tier::One),
            component: None,
        };
        let admin = BusinessContext {
            component: Some("admin".into()),
            internet_facing: Some(false),
            ..BusinessContext::default()
        };
        let resolved = admin.or(&app);
        assert_eq!(resolved.internet_facing, Some(false));
        assert_eq!(resolved.data_classification, Some(DataClass::Pii));
        assert_eq!(resolved.tier, Some(Tier::One));
        assert_eq!(resolved.component.as_deref(), Some("admin"));
        assert!(DataClass::Phi > DataClass::Internal);
    }
}
