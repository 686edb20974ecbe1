//! The forge's side of access: whether a person may read a repository, and whether they
//! are in a team, asked with posture's own credentials (the GitHub App's installation on
//! the org, or the GitLab token), so it works for whoever signed in: through the forge, or
//! through OIDC with a claim naming their forge login.

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;

use super::ForgeLogin;
use super::cache::Cache;
use crate::forge::{Actor, Forge, ForgeError, ForgeResult};
use crate::jobs::{ForgeProvider, Forges, NoForge};
use crate::store;

/// What the forge says about people. Implemented over the forge clients
/// ([`ForgeDirectory`]); tests fake the forges at their HTTP boundary instead.
#[async_trait]
pub trait Directory: Send + Sync {
    /// Whether `person` may read `repository` (of `person.forge`): see [`Forge::reads`].
    async fn reads(&self, repository: &str, person: &ForgeLogin) -> ForgeResult<bool>;

    /// Whether `person` is an active member of `team`: a team slug of the GitHub org `org`,
    /// or a GitLab group path.
    async fn is_member(&self, org: &str, team: &str, person: &ForgeLogin) -> ForgeResult<bool>;
}

/// How long the client of an org's installation is kept (an App reinstalled on an org gets
/// a new installation, found again after this).
const CLIENT_TTL: Duration = Duration::from_secs(3600);

/// The [`Directory`] of the forges this process is configured for.
pub struct ForgeDirectory {
    forges: Forges,
    /// The client of each (forge, owner): an App's installation is looked up once an hour,
    /// not once a question.
    clients: Cache<(store::Forge, String), Arc<dyn Forge>>,
}

impl ForgeDirectory {
    pub fn new(forges: Forges) -> ForgeDirectory {
        ForgeDirectory {
            forges,
            clients: Cache::default(),
        }
    }

    async fn forge(&self, forge: store::Forge, owner: &str) -> ForgeResult<Arc<dyn Forge>> {
        let key = (forge, owner.to_lowercase());
        if let Some(client) = self.clients.get(&key, Instant::now()) {
            return Ok(client);
        }
        let client =
            self.forges
                .forge_for_owner(forge, owner)
                .await
                .map_err(|error| match error {
                    NoForge::Forge(error) => error,
                    NoForge::NotConfigured(message) => ForgeError::Config(message),
                })?;
        self.clients
            .put(key, client.clone(), Instant::now(), CLIENT_TTL);
        Ok(client)
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
    async fn reads(&self, repository: &str, person: &ForgeLogin) -> ForgeResult<bool> {
        let owner = store::org_of(repository);
        let forge = self.forge(person.forge, &owner).await?;
        forge.reads(repository, &actor(person)).await
    }

    async fn is_member(&self, org: &str, team: &str, person: &ForgeLogin) -> ForgeResult<bool> {
        let forge = self.forge(person.forge, org).await?;
        forge.team_member(org, team, &actor(person)).await
    }
}
