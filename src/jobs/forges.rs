//! Which forge client serves a job: GitHub (an App installation or a token) or GitLab, as
//! configured. A job whose forge has no credentials ends `not_configured` with what to set.

use std::sync::Arc;

use async_trait::async_trait;

use crate::forge::github::{GitHubClient, GitHubConfig};
use crate::forge::gitlab::GitLabClient;
use crate::forge::throttle::Throttle;
use crate::forge::{Forge, ForgeError};
use crate::store::{self, Job, Store};

/// Why a job has no forge client.
#[derive(Debug, thiserror::Error)]
pub enum NoForge {
    #[error("{0}")]
    NotConfigured(String),
    #[error(transparent)]
    Forge(#[from] ForgeError),
}

/// Gives each job the client of its forge.
#[async_trait]
pub trait ForgeProvider: Send + Sync {
    async fn forge_for(&self, job: &Job) -> Result<Arc<dyn Forge>, NoForge>;

    /// The client of the org (or user) `owner` on `forge` outside any job: a GitHub App's
    /// installation there, the token otherwise.
    async fn forge_for_owner(
        &self,
        forge: store::Forge,
        owner: &str,
    ) -> Result<Arc<dyn Forge>, NoForge>;
}

/// What to set for a forge that has no credentials.
pub fn how_to_configure(forge: store::Forge) -> String {
    match forge {
        store::Forge::GitHub => "GitHub is not configured: set POSTURE_GITHUB_APP_ID with POSTURE_GITHUB_PRIVATE_KEY_FILE, or POSTURE_GITHUB_TOKEN".to_owned(),
        store::Forge::GitLab => {
            "GitLab is not configured: set POSTURE_GITLAB_TOKEN (and POSTURE_GITLAB_URL)".to_owned()
        }
    }
}

/// The clients configured for this process; either may be absent.
#[derive(Clone, Default)]
pub struct Forges {
    pub github: Option<Arc<dyn ForgeProvider>>,
    pub gitlab: Option<Arc<dyn ForgeProvider>>,
}

impl Forges {
    /// The forges the environment configures (`POSTURE_GITHUB_*`, `POSTURE_GITLAB_*`), their
    /// write budgets kept in `store` for every replica.
    pub fn from_env(store: &Store) -> Result<Forges, ForgeError> {
        let var = |name: &str| std::env::var(name).ok();
        let github = match GitHubConfig::from_vars(var)? {
            Some(mut config) => {
                let throttle = Throttle::github_content().shared(store.clone());
                config.throttle = Some(Arc::new(throttle));
                Some(Arc::new(GitHubClient::new(config)?) as Arc<dyn ForgeProvider>)
            }
            None => None,
        };
        let throttle = Arc::new(crate::forge::gitlab::default_throttle().shared(store.clone()));
        let gitlab = GitLabClient::from_vars_with_throttle(var, throttle)?
            .map(|client| Arc::new(client) as Arc<dyn ForgeProvider>);
        Ok(Forges { github, gitlab })
    }
}

/// A GitHub App serves each job with the installation the webhook named; a scheduled job
/// names none, so its installation is looked up from the repository.
#[async_trait]
impl ForgeProvider for GitHubClient {
    async fn forge_for(&self, job: &Job) -> Result<Arc<dyn Forge>, NoForge> {
        let installation = job
            .payload
            .get("installation_id")
            .and_then(|id| id.as_i64());
        let forge = match installation {
            Some(id) => self.for_installation(Some(id))?,
            None => self.for_repository(&job.repository).await?,
        };
        Ok(Arc::new(forge))
    }

    async fn forge_for_owner(
        &self,
        forge: store::Forge,
        owner: &str,
    ) -> Result<Arc<dyn Forge>, NoForge> {
        match forge {
            store::Forge::GitHub => Ok(Arc::new(self.for_owner(owner).await?)),
            store::Forge::GitLab => Err(NoForge::NotConfigured(how_to_configure(forge))),
        }
    }
}

#[async_trait]
impl ForgeProvider for GitLabClient {
    async fn forge_for(&self, _: &Job) -> Result<Arc<dyn Forge>, NoForge> {
        Ok(Arc::new(self.forge()))
    }

    async fn forge_for_owner(
        &self,
        forge: store::Forge,
        _: &str,
    ) -> Result<Arc<dyn Forge>, NoForge> {
        match forge {
            store::Forge::GitLab => Ok(Arc::new(self.forge())),
            store::Forge::GitHub => Err(NoForge::NotConfigured(how_to_configure(forge))),
        }
    }
}

#[async_trait]
impl ForgeProvider for Forges {
    async fn forge_for(&self, job: &Job) -> Result<Arc<dyn Forge>, NoForge> {
        let provider = match job.forge {
            store::Forge::GitHub => &self.github,
            store::Forge::GitLab => &self.gitlab,
        };
        match provider {
            Some(provider) => provider.forge_for(job).await,
            None => Err(NoForge::NotConfigured(how_to_configure(job.forge))),
        }
    }

    async fn forge_for_owner(
        &self,
        forge: store::Forge,
        owner: &str,
    ) -> Result<Arc<dyn Forge>, NoForge> {
        let provider = match forge {
            store::Forge::GitHub => &self.github,
            store::Forge::GitLab => &self.gitlab,
        };
        match provider {
            Some(provider) => provider.forge_for_owner(forge, owner).await,
            None => Err(NoForge::NotConfigured(how_to_configure(forge))),
        }
    }
}
