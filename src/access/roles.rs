//! The org roles of the settings file and which of them a person's teams or groups give.
//! Pure: which teams a person belongs to is [`super::directory`]'s to ask the forge.
//!
//! ```yaml
//! orgs:
//!   acme:
//!     roles:
//!       security:                      # reads every repository of the org
//!         github_teams: [appsec]       # team slugs of the GitHub org `acme`
//!         gitlab_groups: [acme/appsec] # GitLab group paths
//!         oidc_groups: [secops]        # groups of the OIDC ID token or userinfo
//!       viewer:                        # reads what the forge allows; without this entry,
//!         oidc_groups: [engineering]   # every person with forge access is a viewer
//! ```

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::store::Forge;

/// A role within an org.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Every repository of the org.
    Security,
    /// The repositories the forge gives them access to ([`crate::forge::Forge::reads`]).
    Viewer,
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Role::Security => "security",
            Role::Viewer => "viewer",
        })
    }
}

/// An org's roles (`orgs.<org>.roles`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Roles {
    #[serde(default)]
    pub security: RoleSettings,
    /// `None`: every person the forge gives access is a viewer of what it gives.
    #[serde(default)]
    pub viewer: Option<RoleSettings>,
}

/// The teams and groups that hold one role.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoleSettings {
    /// Team slugs of the GitHub org (`appsec`, not `@acme/appsec`).
    #[serde(default)]
    pub github_teams: Vec<String>,
    /// GitLab group full paths (`acme/appsec`).
    #[serde(default)]
    pub gitlab_groups: Vec<String>,
    /// OIDC group names, compared exactly.
    #[serde(default)]
    pub oidc_groups: Vec<String>,
}

impl RoleSettings {
    /// The teams of `forge` that hold the role.
    pub fn teams(&self, forge: Forge) -> &[String] {
        match forge {
            Forge::GitHub => &self.github_teams,
            Forge::GitLab => &self.gitlab_groups,
        }
    }

    /// The first of `groups` that holds the role.
    pub fn oidc_group<'a>(&self, groups: &'a [String]) -> Option<&'a String> {
        groups.iter().find(|group| self.oidc_groups.contains(group))
    }

    /// Whether nothing is mapped to the role.
    pub fn is_empty(&self) -> bool {
        self.github_teams.is_empty() && self.gitlab_groups.is_empty() && self.oidc_groups.is_empty()
    }
}

impl Roles {
    /// A mistake in the roles, named by its path (`roles.security.github_teams[0]`).
    pub fn check(&self) -> Result<(), String> {
        let roles = [
            ("security", Some(&self.security)),
            ("viewer", self.viewer.as_ref()),
        ];
        for (role, settings) in roles {
            let Some(settings) = settings else { continue };
            let lists = [
                ("github_teams", &settings.github_teams),
                ("gitlab_groups", &settings.gitlab_groups),
                ("oidc_groups", &settings.oidc_groups),
            ];
            for (field, names) in lists {
                for (i, name) in names.iter().enumerate() {
                    let bad = name.trim().is_empty()
                        || name.trim() != name
                        || (field == "github_teams"
                            && (name.contains('/') || name.starts_with('@')));
                    if bad {
                        return Err(format!(
                            "roles.{role}.{field}[{i}]: `{name}` is not a {}",
                            match field {
                                "github_teams" => "team slug (write `appsec`, not `@acme/appsec`)",
                                "gitlab_groups" => "group path",
                                _ => "group name",
                            }
                        ));
                    }
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_and_teams_are_found_per_forge() {
        let role = RoleSettings {
            github_teams: vec!["appsec".into()],
            gitlab_groups: vec!["acme/appsec".into()],
            oidc_groups: vec!["secops".into()],
        };
        assert_eq!(role.teams(Forge::GitHub), ["appsec".to_owned()]);
        assert_eq!(role.teams(Forge::GitLab), ["acme/appsec".to_owned()]);
        let groups = vec!["engineering".to_owned(), "secops".to_owned()];
        assert_eq!(role.oidc_group(&groups).map(String::as_str), Some("secops"));
        assert_eq!(role.oidc_group(&["SecOps".to_owned()]), None);
        assert!(!role.is_empty() && RoleSettings::default().is_empty());
    }

    #[test]
    fn a_mistyped_team_is_named_by_its_path() {
        let roles = Roles {
            security: RoleSettings {
                github_teams: vec!["@acme/appsec".into()],
                ..RoleSettings::default()
            },
            viewer: None,
        };
        let error = roles.check().unwrap_err();
        assert!(
            error.starts_with("roles.security.github_teams[0]"),
            "{error}"
        );
        assert!(Roles::default().check().is_ok());
    }
}
