//! The GitHub client of a server that has no GitHub credentials in its environment: empty
//! until the App stored by the setup flow is loaded (at start-up, or right after the
//! callback), then that App's. The workers reach it through [`ForgeProvider`], so a job
//! queued before the App existed runs with it once it does.

use std::sync::{Arc, RwLock};

use async_trait::async_trait;

use crate::forge::Forge;
use crate::forge::github::GitHubClient;
use crate::jobs::{ForgeProvider, NoForge};
use crate::store::Job;

/// What a job gets while no App is configured.
const NOT_CONFIGURED: &str = "GitHub is not configured: set POSTURE_GITHUB_APP_ID with \
     POSTURE_GITHUB_PRIVATE_KEY_FILE, or POSTURE_GITHUB_TOKEN, or create the App at /setup/github";

/// A GitHub client that can be set while the server runs. Clones share it.
#[derive(Clone, Default, Debug)]
pub struct LiveGitHub(Arc<RwLock<Option<GitHubClient>>>);

impl LiveGitHub {
    /// The client now, if there is one.
    pub fn get(&self) -> Option<GitHubClient> {
        self.0
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    /// Replaces the client: jobs started from now on use this one.
    pub fn set(&self, client: GitHubClient) {
        *self
            .0
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(client);
    }
}

#[async_trait]
impl ForgeProvider for LiveGitHub {
    async fn forge_for(&self, job: &Job) -> Result<Arc<dyn Forge>, NoForge> {
        match self.get() {
            Some(client) => client.forge_for(job).await,
            None => Err(NoForge::NotConfigured(NOT_CONFIGURED.to_owned())),
        }
    }

    async fn forge_for_owner(
        &self,
        forge: crate::store::Forge,
        owner: &str,
    ) -> Result<Arc<dyn Forge>, NoForge> {
        match self.get() {
            Some(client) => client.forge_for_owner(forge, owner).await,
            None => Err(NoForge::NotConfigured(NOT_CONFIGURED.to_owned())),
        }
    }
}
