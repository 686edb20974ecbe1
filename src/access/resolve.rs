//! [`Access`]: what a [`Person`] may read of each org, from the settings' roles and the
//! forge's answers ([`Directory`]), cached ([`Cache`]) and failing closed.
//!
//! In one org, in this order:
//! 1. `security`, from an OIDC group or a forge team the settings map to it: every
//!    repository.
//! 2. `viewer`, from a group or team mapped to it, or held by everyone when the org maps none:
//!    each repository posture knows of the person's forge on which the forge gives them at
//!    least read permission.
//! 3. Otherwise nothing. A forge error on a team or a repository grants nothing, stands for
//!    seconds ([`ERROR_TTL`]) before the forge is asked again, and is kept in
//!    [`OrgAccess::problems`] or [`OrgAccess::permissions`], for `posture auth check`.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use super::cache::{Cache, ERROR_TTL};
use super::roles::{Role, RoleSettings};
use super::{Directory, ForgeLogin, OrgAccess, Person, Reach, Why};
use crate::forge::Permission;
use crate::settings::Settings;
use crate::store::{Forge, Store, StoreError};

/// How many permission questions are asked of a forge at once, per person and org.
const CONCURRENT_QUESTIONS: usize = 8;

/// The environment variable of how long the forge's answers are believed, in seconds.
pub const CACHE_SECONDS_VAR: &str = "POSTURE_ACCESS_CACHE_SECONDS";

/// Why access could not be worked out at all (a forge error is not one: it fails closed).
#[derive(Debug, thiserror::Error)]
pub enum AccessError {
    #[error(transparent)]
    Store(#[from] StoreError),
}

type PermissionKey = (Forge, String, String);
type MembershipKey = (Forge, String, String, String);
/// A forge's answer, or its error (kept as text: it is shown, never acted on).
type Answer<T> = Result<T, String>;

/// Works out what people may read; one per process, shared by every request.
pub struct Access {
    settings: Arc<Settings>,
    store: Store,
    directory: Option<Arc<dyn Directory>>,
    ttl: Duration,
    permissions: Cache<PermissionKey, Answer<Permission>>,
    memberships: Cache<MembershipKey, Answer<bool>>,
}

impl Access {
    /// Access by `settings`' roles and `directory`'s answers (`None`: no forge is configured,
    /// so only OIDC groups mapped to `security` grant anything), believed for `ttl`.
    pub fn new(
        settings: Arc<Settings>,
        store: Store,
        directory: Option<Arc<dyn Directory>>,
        ttl: Duration,
    ) -> Access {
        Access {
            settings,
            store,
            directory,
            ttl,
            permissions: Cache::default(),
            memberships: Cache::default(),
        }
    }

    /// The lifetime of the forge's answers that `POSTURE_ACCESS_CACHE_SECONDS` sets (5
    /// minutes by default; 0 asks every time).
    pub fn ttl_from_env() -> Result<Duration, String> {
        match std::env::var(CACHE_SECONDS_VAR) {
            Ok(text) if !text.trim().is_empty() => text
                .trim()
                .parse::<u64>()
                .ok()
                .filter(|seconds| *seconds <= 3600)
                .map(Duration::from_secs)
                .ok_or_else(|| {
                    format!("{CACHE_SECONDS_VAR} must be a number of seconds from 0 to 3600")
                }),
            _ => Ok(super::cache::DEFAULT_TTL),
        }
    }

    /// Every org `person` may read something of, with what and why, by name.
    pub async fn orgs(&self, person: &Person) -> Result<Vec<OrgAccess>, AccessError> {
        let mut orgs = self.every_org(person).await?;
        orgs.retain(|access| !access.is_empty());
        Ok(orgs)
    }

    /// What `person` may read of every org posture knows or the settings name, by name,
    /// including those that give nothing (to explain why).
    pub async fn every_org(&self, person: &Person) -> Result<Vec<OrgAccess>, AccessError> {
        let mut candidates: BTreeSet<String> = self.settings.orgs.keys().cloned().collect();
        candidates.extend(
            self.store
                .orgs()
                .await?
                .into_iter()
                .map(|org| org.to_lowercase()),
        );
        let mut found = Vec::new();
        for org in candidates {
            found.push(self.org(person, &org).await?);
        }
        Ok(found)
    }

    /// What `person` may read of `org`, and why.
    pub async fn org(&self, person: &Person, org: &str) -> Result<OrgAccess, AccessError> {
        let org = org.to_lowercase();
        let roles = self.settings.roles(&org);
        let projects = self.store.org_projects(&org).await?;
        let mut access = OrgAccess {
            org: org.clone(),
            reach: Reach::Only(BTreeSet::new()),
            why: Vec::new(),
            permissions: BTreeMap::new(),
            problems: Vec::new(),
        };
        let anchor = person.forge.as_ref().and_then(|login| {
            projects
                .iter()
                .find(|(forge, _)| *forge == login.forge)
                .map(|(_, repository)| repository.as_str())
        });
        if let Some(why) = self
            .role(
                person,
                &org,
                anchor,
                Role::Security,
                &roles.security,
                &mut access,
            )
            .await
        {
            access.why.push(why);
            access.reach = Reach::Everything;
            return Ok(access);
        }
        let viewer = match &roles.viewer {
            None => Some(Why::Viewer),
            Some(viewer) => {
                self.role(person, &org, anchor, Role::Viewer, viewer, &mut access)
                    .await
            }
        };
        let (Some(why), Some(login)) = (viewer, &person.forge) else {
            return Ok(access);
        };
        let repositories: Vec<String> = projects
            .into_iter()
            .filter(|(forge, _)| *forge == login.forge)
            .map(|(_, repository)| repository)
            .collect();
        access.permissions = self.permissions(login, repositories).await;
        let readable: BTreeSet<String> = access
            .permissions
            .iter()
            .filter(
                |(_, answer)| matches!(answer, Ok(permission) if *permission >= Permission::Read),
            )
            .map(|(repository, _)| repository.to_lowercase())
            .collect();
        if !readable.is_empty() {
            access.why.push(why);
        }
        access.reach = Reach::Only(readable);
        Ok(access)
    }

    /// The reason `person` holds `role` in `org`: an OIDC group, else a forge team (asked of
    /// the forge; an error grants nothing and is noted).
    async fn role(
        &self,
        person: &Person,
        org: &str,
        anchor: Option<&str>,
        role: Role,
        settings: &RoleSettings,
        access: &mut OrgAccess,
    ) -> Option<Why> {
        if let Some(group) = settings.oidc_group(&person.groups) {
            return Some(Why::Group {
                role,
                group: group.clone(),
            });
        }
        let login = person.forge.as_ref()?;
        for team in settings.teams(login.forge) {
            let Some(anchor) = anchor else {
                access.problems.push(format!(
                    "team {team} was not asked about: posture knows no {} repository of {org}",
                    login.forge
                ));
                break;
            };
            match self.is_member(anchor, org, team, login).await {
                Ok(true) => {
                    return Some(Why::Team {
                        role,
                        team: team_name(login.forge, org, team),
                    });
                }
                Ok(false) => {}
                Err(problem) => access.problems.push(format!(
                    "team {} (role {role}) not granted: {problem}",
                    team_name(login.forge, org, team)
                )),
            }
        }
        None
    }

    async fn is_member(
        &self,
        anchor: &str,
        org: &str,
        team: &str,
        login: &ForgeLogin,
    ) -> Answer<bool> {
        let key = (
            login.forge,
            login.login.to_lowercase(),
            org.to_owned(),
            team.to_lowercase(),
        );
        if let Some(answer) = self.memberships.get(&key, Instant::now()) {
            return answer;
        }
        let directory = self.directory.as_ref().ok_or_else(not_configured)?;
        let answer = directory
            .is_member(anchor, org, team, login)
            .await
            .map_err(|error| error.to_string());
        self.memberships
            .put(key, answer.clone(), Instant::now(), self.lifetime(&answer));
        answer
    }

    /// How long `answer` is kept: an error for seconds, an answer for the cache's lifetime.
    fn lifetime<T>(&self, answer: &Answer<T>) -> Duration {
        match answer {
            Ok(_) => self.ttl,
            Err(_) => self.ttl.min(ERROR_TTL),
        }
    }

    /// `login`'s permission on each of `repositories`, cached answers first, the rest asked
    /// a few at a time.
    async fn permissions(
        &self,
        login: &ForgeLogin,
        repositories: Vec<String>,
    ) -> BTreeMap<String, Answer<Permission>> {
        let mut answers = BTreeMap::new();
        let mut asked = JoinSet::new();
        let limit = Arc::new(Semaphore::new(CONCURRENT_QUESTIONS));
        for repository in repositories {
            let key = (
                login.forge,
                login.login.to_lowercase(),
                repository.to_lowercase(),
            );
            if let Some(answer) = self.permissions.get(&key, Instant::now()) {
                answers.insert(repository, answer);
                continue;
            }
            let Some(directory) = self.directory.clone() else {
                answers.insert(repository, Err(not_configured()));
                continue;
            };
            let (login, limit) = (login.clone(), Arc::clone(&limit));
            asked.spawn(async move {
                let answer = match limit.acquire_owned().await {
                    Ok(_permit) => directory
                        .permission(&repository, &login)
                        .await
                        .map_err(|error| error.to_string()),
                    Err(_) => Err("the question was cancelled".to_owned()),
                };
                (key, repository, answer)
            });
        }
        while let Some(done) = asked.join_next().await {
            let Ok((key, repository, answer)) = done else {
                continue;
            };
            let lifetime = self.lifetime(&answer);
            self.permissions
                .put(key, answer.clone(), Instant::now(), lifetime);
            answers.insert(repository, answer);
        }
        answers
    }
}

fn not_configured() -> String {
    "no forge is configured to ask".to_owned()
}

/// How a team is named to people: `acme/appsec` on GitHub, the group path on GitLab.
fn team_name(forge: Forge, org: &str, team: &str) -> String {
    match forge {
        Forge::GitHub => format!("{org}/{team}"),
        Forge::GitLab => team.to_owned(),
    }
}
