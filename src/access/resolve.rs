//! [`Access`]: what a [`Person`] may read of each org, from the settings' roles and the
//! forge's answers ([`Directory`]), cached ([`Cache`]) and failing closed.
//!
//! In one org, in this order:
//! 1. `security`, from an OIDC group or a forge team the settings map to it: every
//!    repository.
//! 2. `viewer`, from a group or team mapped to it, or held by everyone when the org maps none:
//!    each repository posture knows of the person's forge that the forge says they may read
//!    ([`crate::forge::Forge::reads`]: a collaborator, a Reporter; never "anyone, because it
//!    is public"). A name posture also knows on the other forge is not granted: the answer
//!    of one forge says nothing of the other's project.
//! 3. Otherwise nothing. A forge error on a team or a repository grants nothing, stands for
//!    seconds ([`ERROR_TTL`]) before the forge is asked again, and is kept in
//!    [`OrgAccess::problems`] or [`OrgAccess::asked`], for `posture auth check`.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use super::cache::{Cache, ERROR_TTL};
use super::roles::{Role, RoleSettings};
use super::{Directory, ForgeLogin, OrgAccess, Person, Reach, Why};
use crate::forge::ForgeResult;
use crate::settings::Settings;
use crate::store::{Forge, Store, StoreError};

/// How many questions are asked of a forge at once, per person and org.
const CONCURRENT_QUESTIONS: usize = 8;

/// How long one question may take before it counts as a forge error (and grants nothing).
const QUESTION_TIMEOUT: Duration = Duration::from_secs(10);

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
    reads: Cache<PermissionKey, Answer<bool>>,
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
            reads: Cache::default(),
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
        let mut access = OrgAccess {
            org: org.clone(),
            reach: Reach::Only(BTreeSet::new()),
            why: Vec::new(),
            asked: BTreeMap::new(),
            problems: Vec::new(),
        };
        if let Some(why) = self
            .role(person, &org, Role::Security, &roles.security, &mut access)
            .await
        {
            access.why.push(why);
            access.reach = Reach::Everything;
            return Ok(access);
        }
        let viewer = match &roles.viewer {
            None => Some(Why::Viewer),
            Some(viewer) => {
                self.role(person, &org, Role::Viewer, viewer, &mut access)
                    .await
            }
        };
        let Some(why) = viewer else {
            return Ok(access);
        };
        access.why.push(why);
        let Some(login) = &person.forge else {
            access.problems.push(
                "the role viewer reads what the forge allows, but no forge login is known for \
                 this person (an OIDC sign-in needs POSTURE_OIDC_FORGE_LOGIN_CLAIM)"
                    .to_owned(),
            );
            return Ok(access);
        };
        let (mine, others): (Vec<_>, Vec<_>) = self
            .store
            .org_projects(&org)
            .await?
            .into_iter()
            .partition(|(forge, _)| *forge == login.forge);
        let elsewhere: BTreeSet<String> = others
            .into_iter()
            .map(|(_, repository)| repository.to_lowercase())
            .collect();
        let (shared, repositories): (Vec<String>, Vec<String>) = mine
            .into_iter()
            .map(|(_, repository)| repository)
            .partition(|repository| elsewhere.contains(&repository.to_lowercase()));
        for repository in shared {
            access.problems.push(format!(
                "{repository} is not granted: posture also knows a project of that name on \
                 the other forge"
            ));
        }
        access.asked = self.reads(login, repositories).await;
        access.reach = Reach::Only(
            access
                .asked
                .iter()
                .filter(|(_, answer)| matches!(answer, Ok(true)))
                .map(|(repository, _)| repository.to_lowercase())
                .collect(),
        );
        Ok(access)
    }

    /// The reason `person` holds `role` in `org`: an OIDC group, else a forge team (asked of
    /// the forge; an error grants nothing and is noted).
    async fn role(
        &self,
        person: &Person,
        org: &str,
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
            match self.is_member(org, team, login).await {
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

    async fn is_member(&self, org: &str, team: &str, login: &ForgeLogin) -> Answer<bool> {
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
        let answer = within_time(directory.is_member(org, team, login)).await;
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

    /// Whether `login` reads each of `repositories`, cached answers first, the rest asked a
    /// few at a time.
    async fn reads(
        &self,
        login: &ForgeLogin,
        repositories: Vec<String>,
    ) -> BTreeMap<String, Answer<bool>> {
        let mut answers = BTreeMap::new();
        let mut asked = JoinSet::new();
        let limit = Arc::new(Semaphore::new(CONCURRENT_QUESTIONS));
        for repository in &repositories {
            let repository = repository.clone();
            let key = (
                login.forge,
                login.login.to_lowercase(),
                repository.to_lowercase(),
            );
            if let Some(answer) = self.reads.get(&key, Instant::now()) {
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
                    Ok(_permit) => within_time(directory.reads(&repository, &login)).await,
                    Err(_) => Err("the question was cancelled".to_owned()),
                };
                (key, repository, answer)
            });
        }
        while let Some(done) = asked.join_next().await {
            // A question that panicked is answered below, as a failure.
            let Ok((key, repository, answer)) = done else {
                continue;
            };
            let lifetime = self.lifetime(&answer);
            self.reads
                .put(key, answer.clone(), Instant::now(), lifetime);
            answers.insert(repository, answer);
        }
        for repository in repositories {
            answers
                .entry(repository)
                .or_insert_with(|| Err("the question failed".to_owned()));
        }
        answers
    }
}

/// A forge's answer within [`QUESTION_TIMEOUT`], its error (or the timeout) as text.
async fn within_time<T>(question: impl Future<Output = ForgeResult<T>>) -> Answer<T> {
    match tokio::time::timeout(QUESTION_TIMEOUT, question).await {
        Ok(answer) => answer.map_err(|error| error.to_string()),
        Err(_) => Err(format!(
            "the forge did not answer within {} seconds",
            QUESTION_TIMEOUT.as_secs()
        )),
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

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::sync::Mutex;

    use async_trait::async_trait;
    use tempfile::TempDir;

    use super::*;
    use crate::forge::{ForgeError, ForgeResult};

    /// A forge's answers by (repository or team, login); anything else is an error.
    #[derive(Default)]
    struct Answers {
        reads: HashMap<(String, String), bool>,
        teams: HashMap<(String, String), bool>,
        asked: Mutex<usize>,
    }

    #[async_trait]
    impl Directory for Answers {
        async fn reads(&self, repository: &str, person: &ForgeLogin) -> ForgeResult<bool> {
            *self.asked.lock().unwrap() += 1;
            let key = (repository.to_owned(), person.login.clone());
            self.reads
                .get(&key)
                .copied()
                .ok_or_else(|| ForgeError::Unavailable {
                    forge: Forge::GitHub,
                    what: format!("reading whether {} reads {repository}", person.login),
                    message: "502 Bad Gateway".into(),
                })
        }

        async fn is_member(&self, _: &str, team: &str, person: &ForgeLogin) -> ForgeResult<bool> {
            *self.asked.lock().unwrap() += 1;
            let key = (team.to_owned(), person.login.clone());
            self.teams
                .get(&key)
                .copied()
                .ok_or_else(|| ForgeError::Config("down".into()))
        }
    }

    fn person(login: Option<&str>, groups: &[&str]) -> Person {
        Person {
            name: "someone".into(),
            forge: login.map(|login| ForgeLogin {
                forge: Forge::GitHub,
                login: login.into(),
                id: None,
            }),
            groups: groups.iter().map(|g| g.to_string()).collect(),
        }
    }

    async fn access(settings: &str, answers: Answers) -> (Access, Arc<Answers>, TempDir) {
        let dir = TempDir::new().unwrap();
        let url = format!("sqlite://{}", dir.path().join("posture.db").display());
        let store = Store::connect(&url).await.unwrap();
        store.migrate().await.unwrap();
        for repository in ["acme/shop", "acme/vault", "acme/ledger"] {
            store
                .upsert_project(Forge::GitHub, repository, None)
                .await
                .unwrap();
        }
        store
            .upsert_project(Forge::GitLab, "acme/mirror", None)
            .await
            .unwrap();
        // One name on both forges: no single forge's answer grants it.
        for forge in [Forge::GitHub, Forge::GitLab] {
            store
                .upsert_project(forge, "acme/shared", None)
                .await
                .unwrap();
        }
        let settings = Arc::new(Settings::parse("s.yml", settings).unwrap());
        let answers = Arc::new(answers);
        let directory: Arc<dyn Directory> = answers.clone();
        let access = Access::new(settings, store, Some(directory), Duration::from_secs(300));
        (access, answers, dir)
    }

    fn answers() -> Answers {
        let mut answers = Answers::default();
        let mut reads = |repository: &str, login: &str, reads| {
            answers
                .reads
                .insert((repository.into(), login.into()), reads);
        };
        reads("acme/shop", "octocat", true);
        reads("acme/vault", "octocat", false);
        reads("acme/shop", "hubot", true);
        reads("acme/vault", "hubot", true);
        reads("acme/ledger", "hubot", true);
        reads("acme/shared", "hubot", true);
        answers.teams.insert(("eng".into(), "octocat".into()), true);
        answers.teams.insert(("eng".into(), "hubot".into()), false);
        answers
    }

    fn only(access: &OrgAccess) -> Vec<&str> {
        match &access.reach {
            Reach::Everything => vec!["*"],
            Reach::Only(repositories) => repositories.iter().map(String::as_str).collect(),
        }
    }

    #[tokio::test]
    async fn a_viewer_reads_what_the_forge_gives_and_an_error_grants_nothing() {
        let (access, answers, _dir) = access("orgs: {acme: {}}", answers()).await;
        let octocat = access
            .org(&person(Some("octocat"), &[]), "Acme")
            .await
            .unwrap();
        assert_eq!(only(&octocat), ["acme/shop"]);
        assert_eq!(octocat.why, [Why::Viewer]);
        // The GitLab project is not asked about with a GitHub login; the ledger's error
        // is kept.
        assert_eq!(octocat.asked.len(), 3);
        assert!(
            octocat.problems[0].starts_with("acme/shared is not granted"),
            "{:?}",
            octocat.problems
        );
        assert!(
            octocat.asked["acme/ledger"]
                .as_ref()
                .unwrap_err()
                .contains("502")
        );
        let asked = *answers.asked.lock().unwrap();
        // Asked again within the cache's lifetime: nothing new is asked, errors included.
        access
            .org(&person(Some("octocat"), &[]), "acme")
            .await
            .unwrap();
        assert_eq!(*answers.asked.lock().unwrap(), asked);
    }

    #[tokio::test]
    async fn roles_come_from_oidc_groups_or_teams_and_a_mapped_viewer_is_exclusive() {
        let settings = "orgs:\n  acme:\n    roles:\n      security: {oidc_groups: [secops]}\n      viewer: {github_teams: [eng]}\n";
        let (access, _, _dir) = access(settings, answers()).await;
        let secops = access
            .org(&person(None, &["secops"]), "acme")
            .await
            .unwrap();
        assert_eq!(only(&secops), ["*"]);
        assert_eq!(
            secops.why,
            [Why::Group {
                role: Role::Security,
                group: "secops".into()
            }]
        );
        // octocat is in `eng`: a viewer of what the forge gives.
        let octocat = access
            .org(&person(Some("octocat"), &[]), "acme")
            .await
            .unwrap();
        assert_eq!(only(&octocat), ["acme/shop"]);
        assert_eq!(
            octocat.why,
            [Why::Team {
                role: Role::Viewer,
                team: "acme/eng".into()
            }]
        );
        // hubot may read everything on the forge, but is not in `eng`: nothing.
        let hubot = access
            .org(&person(Some("hubot"), &[]), "acme")
            .await
            .unwrap();
        assert!(hubot.is_empty() && hubot.why.is_empty(), "{hubot:?}");
        // Someone whose team membership the forge cannot tell: nothing, and why.
        let stranger = access
            .org(&person(Some("stranger"), &[]), "acme")
            .await
            .unwrap();
        assert!(stranger.is_empty());
        assert!(
            stranger.problems[0].contains("team acme/eng (role viewer) not granted"),
            "{:?}",
            stranger.problems
        );
        // Orgs: only those that give something.
        let orgs = access.orgs(&person(Some("octocat"), &[])).await.unwrap();
        assert_eq!(
            orgs.iter().map(|o| o.org.as_str()).collect::<Vec<_>>(),
            ["acme"]
        );
        assert!(
            access
                .orgs(&person(Some("hubot"), &[]))
                .await
                .unwrap()
                .is_empty()
        );
    }
}
