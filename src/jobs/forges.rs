//! Which forge client serves a job: GitHub (an App installation or a token) or GitLab, as
//! configured. A job whose forge has no credentials ends `not_configured` with what to set.

use std::sync::Arc;

use async_trait::async_trait;

use crate::forge::{Forge, ForgeError};
use crate::store::{self, Job};

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
}
