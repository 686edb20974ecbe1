//! The forge's side of access: a person's permission on a repository and their membership
//! of a team, asked with posture's own credentials (the GitHub App installation or the
//! GitLab token), so it works for whoever signed in: through the forge, or through OIDC with
//! a claim naming their forge login.

use std::sync::Arc;

use async_trait::async_trait;

use super::ForgeLogin;
use crate::forge::{Actor, ForgeError, ForgeResult, Permission};
use crate::jobs::{Forges, NoForge};

/// What the forge says about people. Implemented over the forge clients
/// ([`ForgeDirectory`]); tests fake the forges at their HTTP boundary instead.
#[async_trait]
pub trait Directory: Send + Sync {
    /// `person`'s permission on `repository` (of `person.forge`).
    async fn permission(&self, repository: &str, person: &ForgeLogin) -> ForgeResult<Permission>;

    /// Whether `person` is an active member of `team`: a team slug of the GitHub org `org`,
    /// or a GitLab group path. `anchor` is a repository of the org, by which a GitHub App
    /// finds its installation there.
    async fn is_member(
        &self,
        anchor: &str,
        org: &str,
        team: &str,
        person: &ForgeLogin,
    ) -> ForgeResult<bool>;
}

/// The [`Directory`] of the forges this process is configured for.
pub struct ForgeDirectory {
    forges: Forges,
}

impl ForgeDirectory {
    pub fn new(forges: Forges) -> ForgeDirectory {
        ForgeDirectory { forges }
    }

    async fn forge(
        &self,
        person: &ForgeLogin,
        repository: &str,
    ) -> ForgeResult<Arc<dyn crate::forge::Forge>> {
        self.forges
            .for_repository(person.forge, repository)
            .await
            .map_err(|error| match error {
                NoForge::Forge(error) => error,
                NoForge::NotConfigured(message) => ForgeError::Config(message),
            })
    }
}

fn actor(person: &ForgeLogin) -> Actor {
    Actor {
        login: person.login.clone(),
        id: person.id,
    }
}

#[async_trait]
impl Directory for ForgeDirectory {
    async fn permission(&self, repository: &str, person: &ForgeLogin) -> ForgeResult<Permission> {
        let forge = self.forge(person, repository).await?;
        forge.permission(repository, &actor(person)).await
    }

    async fn is_member(
        &self,
        anchor: &str,
        org: &str,
        team: &str,
        person: &ForgeLogin,
    ) -> ForgeResult<bool> {
        let forge = self.forge(person, anchor).await?;
        forge.team_member(org, team, &actor(person)).await
    }
}
