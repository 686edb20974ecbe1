//! GitHub behind [`Forge`]: pull requests, their files and blame, the scanner reports in
//! Actions artifacts, and publishing a review (review comments, the summary comment, the
//! check run or commit status that gates the merge).
//!
//! [`GitHubClient`] holds the credentials — a personal token, or a GitHub App (a JWT signed
//! with the App's key, exchanged by octocrab for installation tokens it caches until 30 s
//! before they expire) — and is made once per process. [`GitHubClient::for_installation`]
//! gives the [`GitHubForge`] a job uses. Every request goes through [`client`]: one place
//! that authenticates, throttles content creation, records metrics and maps GitHub's answers
//! to [`ForgeError`]. Secrets never reach `Debug`, logs or errors.
//!
//! Submodules: [`client`] (HTTP road and error mapping), `read` (pull requests, files,
//! contents, trees), `clone` (the blobless-clone fallback for diffs GitHub will not list),
//! `blame` (GraphQL), `artifacts` (reports from Actions), `people` (posture's own login, a
//! person's permission), `publish` (comments, replies, summary, gate).

mod artifacts;
mod blame;
mod client;
mod clone;
mod people;
mod publish;
mod read;
#[cfg(test)]
mod tests;

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use octocrab::Octocrab;
use octocrab::secrecy::{ExposeSecret, SecretString};
use tokio::sync::OnceCell;

use self::client::{Http, Mode, Session, Shared};
use super::throttle::Throttle;
use super::{
    Actor, ArtifactLimits, ChangeCommitList, ChangeRequest, CommentId, CommentOutcome, Forge,
    ForgeError, ForgeResult, GateStatus, InlineComment, Permission, PostedComment, Published,
    ReplyTo, ReportGlobs, Reports,
};
use crate::model::{ChangeSet, FileBlame};
use crate::store;

/// github.com's REST API.
pub const DEFAULT_API_URL: &str = "https://api.github.com";

/// The environment variables [`GitHubConfig::from_vars`] reads.
pub const ENV_APP_ID: &str = "POSTURE_GITHUB_APP_ID";
pub const ENV_PRIVATE_KEY_FILE: &str = "POSTURE_GITHUB_PRIVATE_KEY_FILE";
pub const ENV_TOKEN: &str = "POSTURE_GITHUB_TOKEN";
pub const ENV_API_URL: &str = "POSTURE_GITHUB_API_URL";

/// How posture proves who it is to GitHub. `Debug` shows no secret.
#[derive(Debug, Clone)]
pub enum GitHubCredentials {
    /// A personal access token (classic or fine-grained). It cannot create check runs: the
    /// gate is then a commit status.
    Token(SecretString),
    /// The `GITHUB_TOKEN` of a GitHub Actions job (`posture review --publish github`): it
    /// comments as `github-actions[bot]` and sets the gate as a check run.
    Actions(SecretString),
    /// A GitHub App: its id and its private key (PEM, as GitHub hands it out).
    App {
        app_id: u64,
        private_key_pem: SecretString,
    },
}

/// Everything a [`GitHubClient`] is made from.
#[derive(Debug, Clone)]
pub struct GitHubConfig {
    /// `https://api.github.com`, or `https://HOST/api/v3` for GitHub Enterprise Server.
    pub api_url: String,
    pub credentials: GitHubCredentials,
    /// The content-creation budget; a new [`Throttle::github_content`] when `None`. Pass one
    /// to share it with another client of the same account.
    pub throttle: Option<Arc<Throttle>>,
    /// Bound on one API request, its answer included.
    pub request_timeout: Duration,
    /// Bound on downloading one artifact.
    pub download_timeout: Duration,
}

impl GitHubConfig {
    pub fn new(api_url: impl Into<String>, credentials: GitHubCredentials) -> GitHubConfig {
        GitHubConfig {
            api_url: api_url.into(),
            credentials,
            throttle: None,
            request_timeout: Duration::from_secs(120),
            download_timeout: Duration::from_secs(600),
        }
    }

    /// The configuration the environment describes: `POSTURE_GITHUB_APP_ID` with
    /// `POSTURE_GITHUB_PRIVATE_KEY_FILE`, or `POSTURE_GITHUB_TOKEN`; `POSTURE_GITHUB_API_URL`
    /// for GitHub Enterprise Server. `None` when it names no credentials; an error naming the
    /// variable (never the secret) when they cannot be used. `var` looks a variable up (empty
    /// counts as unset).
    pub fn from_vars(
        var: impl Fn(&str) -> Option<String>,
    ) -> Result<Option<GitHubConfig>, ForgeError> {
        let var = |name: &str| var(name).filter(|v| !v.trim().is_empty());
        let api_url = var(ENV_API_URL).unwrap_or_else(|| DEFAULT_API_URL.to_owned());
        let credentials = match (var(ENV_APP_ID), var(ENV_PRIVATE_KEY_FILE)) {
            (Some(app_id), Some(file)) => {
                let app_id = app_id.trim().parse::<u64>().map_err(|_| {
                    ForgeError::Config(format!("{ENV_APP_ID} must be the App's numeric id"))
                })?;
                let path = PathBuf::from(file);
                let pem = std::fs::read_to_string(&path).map_err(|e| {
                    ForgeError::Config(format!(
                        "{ENV_PRIVATE_KEY_FILE}: cannot read '{}': {e}",
                        path.display()
                    ))
                })?;
                if let Err(reason) = check_private_key(pem.as_bytes()) {
                    return Err(ForgeError::Config(format!(
                        "{ENV_PRIVATE_KEY_FILE}: '{}' {reason}",
                        path.display()
                    )));
                }
                GitHubCredentials::App {
                    app_id,
                    private_key_pem: SecretString::from(pem),
                }
            }
            (Some(_), None) => {
                return Err(ForgeError::Config(format!(
                    "{ENV_APP_ID} is set but {ENV_PRIVATE_KEY_FILE} is not: a GitHub App needs both"
                )));
            }
            (None, Some(_)) => {
                return Err(ForgeError::Config(format!(
                    "{ENV_PRIVATE_KEY_FILE} is set but {ENV_APP_ID} is not: a GitHub App needs both"
                )));
            }
            (None, None) => match var(ENV_TOKEN) {
                Some(token) => {
                    GitHubCredentials::Token(SecretString::from(token.trim().to_owned()))
                }
                None => return Ok(None),
            },
        };
        Ok(Some(GitHubConfig::new(api_url, credentials)))
    }
}

/// A token must be usable in an `Authorization` header; the error never quotes it.
fn check_token(token: &SecretString) -> Result<(), ForgeError> {
    let token = token.expose_secret();
    if token.is_empty() || http::HeaderValue::try_from(format!("Bearer {token}")).is_err() {
        return Err(ForgeError::Config(
            "the GitHub token is empty or not printable ASCII".to_owned(),
        ));
    }
    Ok(())
}

/// Whether `pem` is an RSA private key that can sign the App's JWT (RS256). The reason
/// never quotes the key.
fn check_private_key(pem: &[u8]) -> Result<octocrab::jsonwebtoken::EncodingKey, String> {
    use octocrab::jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
    let key = EncodingKey::from_rsa_pem(pem)
        .map_err(|_| "is not an RSA private key in PEM form".to_owned())?;
    // Parsing the PEM does not parse the key: sign once to know it works.
    encode(
        &Header::new(Algorithm::RS256),
        &serde_json::json!({ "iss": "posture-key-check" }),
        &key,
    )
    .map_err(|_| "holds a key that cannot sign an RS256 JWT".to_owned())?;
    Ok(key)
}

/// The GitHub credentials and HTTP stack of the process. Cheap to clone.
#[derive(Clone)]
pub struct GitHubClient {
    shared: Arc<Shared>,
}

impl fmt::Debug for GitHubClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.shared.fmt(f)
    }
}

impl GitHubClient {
    /// Makes the client; inside a tokio runtime, which must outlive it.
    pub fn new(config: GitHubConfig) -> Result<GitHubClient, ForgeError> {
        let api_url = config.api_url.trim().trim_end_matches('/').to_owned();
        let parsed = url::Url::parse(&api_url).map_err(|e| {
            ForgeError::Config(format!(
                "the GitHub API URL '{api_url}' does not parse: {e}"
            ))
        })?;
        if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
            return Err(ForgeError::Config(format!(
                "the GitHub API URL '{api_url}' is not an http(s) URL"
            )));
        }
        // octocrab's client spawns its worker on the current runtime.
        if tokio::runtime::Handle::try_current().is_err() {
            return Err(ForgeError::Config(
                "a GitHub client must be made inside the tokio runtime that uses it".to_owned(),
            ));
        }
        let builder = |base: &str| {
            Octocrab::builder()
                .base_uri(base)
                .map_err(|_| ForgeError::Config(format!("octocrab refuses the API URL '{base}'")))
                .map(|builder| {
                    builder
                        .set_connect_timeout(Some(Duration::from_secs(15)))
                        .set_read_timeout(Some(Duration::from_secs(60)))
                        .set_write_timeout(Some(Duration::from_secs(60)))
                })
        };
        let cannot_build = |_| ForgeError::Config("cannot build the GitHub HTTP client".to_owned());
        let graphql_crab = match client::graphql_base(&api_url) {
            Some(base) => Some(builder(base)?.build().map_err(cannot_build)?),
            None => None,
        };
        let builder = builder(&api_url)?;
        let (builder, mode) = match config.credentials {
            GitHubCredentials::Token(token) => {
                check_token(&token)?;
                (builder.personal_token(token.clone()), Mode::Token(token))
            }
            GitHubCredentials::Actions(token) => {
                check_token(&token)?;
                (builder.personal_token(token.clone()), Mode::Actions(token))
            }
            GitHubCredentials::App {
                app_id,
                private_key_pem,
            } => {
                let key = check_private_key(private_key_pem.expose_secret().as_bytes()).map_err(
                    |reason| ForgeError::Config(format!("the GitHub App private key {reason}")),
                )?;
                (builder.app(app_id.into(), key), Mode::App { app_id })
            }
        };
        let crab = builder.build().map_err(cannot_build)?;
        Ok(GitHubClient {
            shared: Arc::new(Shared {
                graphql_crab,
                api_url,
                mode,
                crab,
                installations: Default::default(),
                throttle: config
                    .throttle
                    .unwrap_or_else(|| Arc::new(Throttle::github_content())),
                request_timeout: config.request_timeout,
                download_timeout: config.download_timeout,
                identity: OnceCell::new(),
            }),
        })
    }

    /// The REST API URL, without a trailing slash.
    pub fn api_url(&self) -> &str {
        &self.shared.api_url
    }

    /// The GitHub App's id, in App mode.
    pub fn app_id(&self) -> Option<u64> {
        match self.shared.mode {
            Mode::App { app_id } => Some(app_id),
            Mode::Token(_) | Mode::Actions(_) => None,
        }
    }

    /// A forge for one installation of the App (the id from the webhook's `installation`).
    /// A personal token ignores the id. An App without an id finds the installation from
    /// the repository of the forge's first call (see [`GitHubClient::installation_id`]).
    pub fn for_installation(
        &self,
        installation_id: Option<i64>,
    ) -> Result<GitHubForge, ForgeError> {
        let session = match (&self.shared.mode, installation_id) {
            (Mode::Token(_) | Mode::Actions(_), _) => Session::Token,
            (Mode::App { .. }, Some(id)) => {
                let id = u64::try_from(id).map_err(|_| {
                    ForgeError::Config(format!("{id} is not a GitHub installation id"))
                })?;
                Session::Installation(id, self.shared.installation(id)?)
            }
            (Mode::App { .. }, None) => Session::FromRepository(OnceCell::new()),
        };
        Ok(GitHubForge {
            shared: self.shared.clone(),
            session,
        })
    }

    /// The installation of the App that serves `repository` (`GET /repos/{owner}/{repo}/
    /// installation`, authenticated as the App). An error with a personal token.
    pub async fn installation_id(&self, repository: &str) -> ForgeResult<i64> {
        let id = client::installation_id(&self.shared, repository).await?;
        i64::try_from(id)
            .map_err(|_| ForgeError::Config(format!("installation id {id} is out of range")))
    }

    /// A forge for the org or user `owner` as a whole: its installation (looked up now) in
    /// App mode, the token otherwise.
    pub async fn for_owner(&self, owner: &str) -> ForgeResult<GitHubForge> {
        match self.shared.mode {
            Mode::Token(_) | Mode::Actions(_) => self.for_installation(None),
            Mode::App { .. } => {
                let id = client::owner_installation_id(&self.shared, owner).await?;
                let id = i64::try_from(id).map_err(|_| {
                    ForgeError::Config(format!("installation id {id} is out of range"))
                })?;
                self.for_installation(Some(id))
            }
        }
    }

    /// A forge for `repository`: its installation (looked up now) in App mode, the token
    /// otherwise.
    pub async fn for_repository(&self, repository: &str) -> ForgeResult<GitHubForge> {
        match self.shared.mode {
            Mode::Token(_) | Mode::Actions(_) => self.for_installation(None),
            Mode::App { .. } => {
                let id = self.installation_id(repository).await?;
                self.for_installation(Some(id))
            }
        }
    }
}

/// [`Forge`] over GitHub's REST and GraphQL APIs, with one set of credentials.
pub struct GitHubForge {
    shared: Arc<Shared>,
    session: Session,
}

impl fmt::Debug for GitHubForge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let session = match &self.session {
            Session::Token => "personal token",
            Session::Installation(..) => "App installation",
            Session::FromRepository(_) => "App installation of the first repository used",
        };
        f.debug_struct("GitHubForge")
            .field("api_url", &self.shared.api_url)
            .field("session", &session)
            .finish_non_exhaustive()
    }
}

impl GitHubForge {
    async fn http(&self, repository: &str) -> ForgeResult<Http<'_>> {
        self.session.http(&self.shared, repository).await
    }
}

#[async_trait]
impl Forge for GitHubForge {
    fn kind(&self) -> store::Forge {
        store::Forge::GitHub
    }

    async fn change_request(&self, repository: &str, number: i64) -> ForgeResult<ChangeRequest> {
        let http = self.http(repository).await?;
        read::change_request(&http, repository, number).await
    }

    async fn open_change_requests(
        &self,
        repository: &str,
        head_sha: Option<&str>,
    ) -> ForgeResult<Vec<ChangeRequest>> {
        let http = self.http(repository).await?;
        read::open_change_requests(&http, repository, head_sha).await
    }

    async fn changes(&self, change: &ChangeRequest) -> ForgeResult<ChangeSet> {
        let http = self.http(&change.repository).await?;
        read::changes(&http, change).await
    }

    async fn change_commits(&self, change: &ChangeRequest) -> ForgeResult<ChangeCommitList> {
        let http = self.http(&change.repository).await?;
        read::change_commits(&http, change).await
    }

    async fn read_file(
        &self,
        repository: &str,
        sha: &str,
        path: &str,
    ) -> ForgeResult<Option<Vec<u8>>> {
        let http = self.http(repository).await?;
        read::read_file(&http, repository, sha, path).await
    }

    async fn list_files(&self, repository: &str, sha: &str) -> ForgeResult<Vec<String>> {
        let http = self.http(repository).await?;
        read::list_files(&http, repository, sha).await
    }

    async fn blame(&self, repository: &str, sha: &str, path: &str) -> ForgeResult<FileBlame> {
        let http = self.http(repository).await?;
        blame::blame(&http, repository, sha, path).await
    }

    async fn reports(
        &self,
        repository: &str,
        sha: &str,
        globs: &ReportGlobs,
        limits: &ArtifactLimits,
    ) -> ForgeResult<Reports> {
        let http = self.http(repository).await?;
        artifacts::reports(&http, repository, sha, globs, limits).await
    }

    async fn identity(&self) -> ForgeResult<String> {
        people::identity(&self.shared).await
    }

    async fn permission(&self, repository: &str, actor: &Actor) -> ForgeResult<Permission> {
        let http = self.http(repository).await?;
        people::permission(&http, repository, actor).await
    }

    async fn reads(&self, repository: &str, actor: &Actor) -> ForgeResult<bool> {
        let http = self.http(repository).await?;
        people::collaborator(&http, repository, actor).await
    }

    async fn team_member(&self, org: &str, team: &str, actor: &Actor) -> ForgeResult<bool> {
        // Asked of a client made for the org's installation ([`GitHubClient::for_owner`]);
        // one still to look its installation up finds it by any repository name of the org.
        let http = self.http(&format!("{org}/.github")).await?;
        people::team_member(&http, org, team, actor).await
    }

    async fn reply(&self, change: &ChangeRequest, to: &ReplyTo, body: &str) -> ForgeResult<()> {
        let http = self.http(&change.repository).await?;
        publish::reply(&http, change, to, body).await
    }

    async fn resolve_thread(
        &self,
        change: &ChangeRequest,
        comment: &PostedComment,
    ) -> ForgeResult<()> {
        if comment.resolved {
            return Ok(());
        }
        let http = self.http(&change.repository).await?;
        publish::resolve_thread(&http, change, comment).await
    }

    async fn published(&self, change: &ChangeRequest) -> ForgeResult<Published> {
        let http = self.http(&change.repository).await?;
        publish::published(&http, change).await
    }

    async fn post_comments(
        &self,
        change: &ChangeRequest,
        comments: &[InlineComment],
    ) -> ForgeResult<Vec<CommentOutcome>> {
        if comments.is_empty() {
            return Ok(Vec::new());
        }
        let http = self.http(&change.repository).await?;
        publish::post_comments(&http, change, comments).await
    }

    async fn update_comment(
        &self,
        change: &ChangeRequest,
        comment: &PostedComment,
        body: &str,
    ) -> ForgeResult<()> {
        let http = self.http(&change.repository).await?;
        publish::update_comment(&http, change, comment, body).await
    }

    async fn resolve_comment(
        &self,
        change: &ChangeRequest,
        comment: &PostedComment,
        fixed_in: &str,
    ) -> ForgeResult<()> {
        let http = self.http(&change.repository).await?;
        publish::resolve_comment(&http, change, comment, fixed_in).await
    }

    async fn upsert_summary(
        &self,
        change: &ChangeRequest,
        existing: Option<&CommentId>,
        body: &str,
    ) -> ForgeResult<CommentId> {
        let http = self.http(&change.repository).await?;
        publish::upsert_summary(&http, change, existing, body).await
    }

    async fn set_gate(&self, repository: &str, gate: &GateStatus) -> ForgeResult<()> {
        let http = self.http(repository).await?;
        publish::set_gate(&http, repository, gate).await
    }

    async fn is_public(&self, repository: &str) -> ForgeResult<bool> {
        #[derive(serde::Deserialize)]
        struct Repository {
            #[serde(default)]
            private: bool,
            visibility: Option<String>,
        }
        let http = self.http(repository).await?;
        let what = format!("reading whether {repository} is public");
        let found: Repository = http
            .get_json(&client::repo_path(repository)?, "get_repository", &what)
            .await?;
        Ok(match found.visibility.as_deref() {
            Some(visibility) => visibility == "public",
            None => !found.private,
        })
    }

    async fn create_issue(&self, repository: &str, title: &str, body: &str) -> ForgeResult<i64> {
        let http = self.http(repository).await?;
        publish::create_issue(&http, repository, title, body).await
    }

    async fn edit_issue(
        &self,
        repository: &str,
        number: i64,
        title: &str,
        body: &str,
    ) -> ForgeResult<()> {
        let http = self.http(repository).await?;
        publish::edit_issue(&http, repository, number, title, body).await
    }
}
