//! What a person signed in through GitHub, GitLab or OIDC may read, and why.
//!
//! A token reaches every repository of its one org ([`crate::api::access::Caller`]). A
//! person reaches what the org's roles (settings file, `orgs.<org>.roles`) and the forge
//! say: `security` reads every repository of the org; `viewer` reads the repositories the
//! forge gives them access to (a collaborator, a Reporter; not "anyone, as it is public").
//! Forge answers are cached for minutes
//! ([`cache`]) and a forge error fails closed: the repository (or, for a team, the role) is
//! not granted, and the error is kept to be shown, never guessed around.
//!
//! - [`Person`]: who signed in, as the session keeps them.
//! - [`roles`]: the settings' roles and which of them a person's teams or groups give (pure).
//! - [`directory`]: the forge side (repository access, team membership), one trait.
//! - [`resolve`]: the two together, as an [`OrgAccess`] per org with its reasons.
//! - [`explain`]: those reasons as `posture auth check` prints them.

pub mod cache;
pub mod directory;
pub mod explain;
pub mod resolve;
pub mod roles;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::store::Forge;

pub use self::directory::{Directory, ForgeDirectory};
pub use self::resolve::{Access, AccessError};
pub use self::roles::{Role, RoleSettings, Roles};

/// Who signed in, as their session keeps them (JSON in `sessions.person`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Person {
    /// How the pages and the audit log name them: `octocat (github)`.
    pub name: String,
    /// Their account on a forge, when posture knows it: the forge they signed in with, or
    /// the forge login an OIDC claim names (`POSTURE_OIDC_FORGE_LOGIN_CLAIM`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forge: Option<ForgeLogin>,
    /// The OIDC groups their ID token (or `userinfo`) listed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<String>,
}

/// A person's account on a forge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ForgeLogin {
    pub forge: Forge,
    pub login: String,
    /// GitLab's numeric user id (GitHub needs only the login).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<i64>,
}

/// Which repositories of an org someone reaches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reach {
    /// Every repository of the org (a token; the `security` role).
    Everything,
    /// These repositories only (full names, lower-case).
    Only(BTreeSet<String>),
}

impl Reach {
    /// Whether `repository` (a full name, any case) is within reach.
    pub fn allows(&self, repository: &str) -> bool {
        match self {
            Reach::Everything => true,
            Reach::Only(repositories) => repositories.contains(&repository.to_lowercase()),
        }
    }
}

/// Why someone reaches what they reach in one org.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "because", rename_all = "snake_case")]
pub enum Why {
    /// An API token of the org.
    Token { token: String },
    /// A role the settings file maps from a forge team.
    Team { role: Role, team: String },
    /// A role the settings file maps from an OIDC group.
    Group { role: Role, group: String },
    /// The `viewer` role, which every person with forge access holds when the org maps no
    /// team or group to it.
    Viewer,
}

impl fmt::Display for Why {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Why::Token { token } => write!(f, "API {token}"),
            Why::Team { role, team } => write!(f, "role {role} from team {team}"),
            Why::Group { role, group } => write!(f, "role {role} from OIDC group {group}"),
            Why::Viewer => f.write_str("role viewer (every person with forge access)"),
        }
    }
}

/// What someone may read of one org, with the reasons `posture auth check` prints.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgAccess {
    /// The org, lower-case.
    pub org: String,
    pub reach: Reach,
    /// The roles held and where they come from.
    pub why: Vec<Why>,
    /// With `viewer` only: each repository the forge was asked about and whether it reads
    /// it (`Err` keeps the forge's error: the repository is not granted).
    pub asked: BTreeMap<String, Result<bool, String>>,
    /// Teams that could not be asked about (a forge error): their role is not granted.
    pub problems: Vec<String>,
}

impl OrgAccess {
    /// Whether this grants anything at all.
    pub fn is_empty(&self) -> bool {
        matches!(&self.reach, Reach::Only(repositories) if repositories.is_empty())
    }
}
