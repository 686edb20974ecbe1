//! The fallback for changes and trees too large for GitHub's API: a blobless, shallow fetch of
//! exactly the commits needed into a scratch repository, then the blobs of the changed files
//! only, and [`LocalRepo`] computes the diff as it does for the CLI.
//!
//! The `git` CLI does the network part (libgit2 has no partial clone). Credentials go to git
//! as an `http.extraHeader` through `GIT_CONFIG_*` environment variables — never in the URL,
//! the process arguments or an error — and git is told never to prompt. Every git run has a
//! deadline; the scratch directory is removed when done.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use octocrab::secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use super::client::{Http, protocol, repo_path, unavailable};
use crate::forge::{ForgeError, ForgeResult};
use crate::git::{LocalRepo, SourceRepo};
use crate::model::ChangeSet;

/// Bound on all the git work for one change.
const DEADLINE: Duration = Duration::from_secs(15 * 60);

#[derive(Debug, thiserror::Error)]
pub(crate) enum CloneError {
    #[error("cannot run git: {0}")]
    Spawn(String),
    #[error("git {command} failed: {stderr}")]
    Failed { command: String, stderr: String },
    #[error("git {command} did not finish within {seconds}s")]
    Timeout { command: String, seconds: u64 },
    #[error("scratch directory: {0}")]
    Scratch(String),
    #[error("the clone URL '{0}' is not https, http or file")]
    Url(String),
    #[error("{0}")]
    Git(#[from] crate::git::GitError),
}

/// Where to fetch from, and with what.
pub(crate) struct Remote {
    pub url: String,
    pub token: Option<SecretString>,
}

/// The repository's `clone_url` and a token for it.
async fn remote(http: &Http<'_>, repository: &str) -> ForgeResult<Remote> {
    #[derive(Deserialize)]
    struct Repository {
        clone_url: String,
    }
    let what = format!("reading repository {repository}");
    let repo: Repository = http
        .get_json(&repo_path(repository)?, "get_repository", &what)
        .await?;
    Ok(Remote {
        url: repo.clone_url,
        token: Some(http.git_token().await?),
    })
}

fn to_forge_error(what: &str, error: CloneError) -> ForgeError {
    match error {
        CloneError::Spawn(_) | CloneError::Url(_) | CloneError::Scratch(_) => {
            ForgeError::Config(format!("{what}: {error}"))
        }
        CloneError::Git(_) => protocol(what, error.to_string()),
        CloneError::Failed { .. } | CloneError::Timeout { .. } => {
            unavailable(what, error.to_string())
        }
    }
}

async fn blocking<T: Send + 'static>(
    what: &str,
    work: impl FnOnce() -> Result<T, CloneError> + Send + 'static,
) -> ForgeResult<T> {
    match tokio::task::spawn_blocking(work).await {
        Ok(result) => result.map_err(|e| to_forge_error(what, e)),
        Err(e) => Err(ForgeError::Config(format!(
            "{what}: the git task failed: {e}"
        ))),
    }
}

/// The change from `base` to `head`, computed locally.
pub(crate) async fn changes(
    http: &Http<'_>,
    repository: &str,
    base: &str,
    head: &str,
) -> ForgeResult<ChangeSet> {
    let remote = remote(http, repository).await?;
    let what = format!("computing {base}..{head} of {repository} from a blobless clone");
    let (base, head) = (base.to_owned(), head.to_owned());
    blocking(&what, move || blobless_changes(remote, &base, &head)).await
}

/// Every file path at `sha`, from its trees alone.
pub(crate) async fn list_files(
    http: &Http<'_>,
    repository: &str,
    sha: &str,
) -> ForgeResult<Vec<String>> {
    let remote = remote(http, repository).await?;
    let what = format!("listing the files at {sha} of {repository} from a blobless clone");
    let sha = sha.to_owned();
    blocking(&what, move || {
        let git = Git::new(remote, Instant::now() + DEADLINE)?;
        git.fetch_commits(&[&sha])?;
        Ok(LocalRepo::open(git.dir())?.list_files(&sha)?)
    })
    .await
}

pub(crate) fn blobless_changes(
    remote: Remote,
    base: &str,
    head: &str,
) -> Result<ChangeSet, CloneError> {
    let git = Git::new(remote, Instant::now() + DEADLINE)?;
    git.fetch_commits(&[base, head])?;
    // The blobs the diff reads: both sides of every changed file (no rename detection here,
    // so every added and deleted file is listed and rename detection finds them local).
    let raw = git.run(
        &[
            "diff",
            "--raw",
            "--no-renames",
            "-z",
            "--abbrev=40",
            base,
            head,
        ],
        None,
    )?;
    let blobs = blobs_of_raw_diff(&raw);
    if !blobs.is_empty() {
        let mut stdin = blobs.join("\n");
        stdin.push('\n');
        // What git's own lazy fetch runs for missing objects, in one batch.
        git.run(
            &[
                "-c",
                "fetch.negotiationAlgorithm=noop",
                "fetch",
                "--quiet",
                "--no-tags",
                "--no-write-fetch-head",
                "--recurse-submodules=no",
                "--filter=blob:none",
                "--stdin",
                "origin",
            ],
            Some(stdin.as_bytes()),
        )?;
    }
    Ok(LocalRepo::open(git.dir())?.changes(base, head)?)
}

/// The blob ids of a `git diff --raw -z` (both sides; not the null id, not submodules).
pub(crate) fn blobs_of_raw_diff(raw: &[u8]) -> Vec<String> {
    let mut blobs = Vec::new();
    let text = String::from_utf8_lossy(raw);
    for field in text.split('\0') {
        let Some(meta) = field.strip_prefix(':') else {
            continue;
        };
        let parts: Vec<&str> = meta.split(' ').collect();
        if parts.len() < 5 {
            continue;
        }
        let (modes, ids) = (&parts[0..2], &parts[2..4]);
        for (mode, id) in modes.iter().zip(ids) {
            if *mode != "160000" && id.bytes().any(|b| b != b'0') {
                blobs.push((*id).to_owned());
            }
        }
    }
    blobs.sort();
    blobs.dedup();
    blobs
}

/// A scratch bare repository with `origin` set up as a blobless promisor remote.
struct Git {
    dir: Scratch,
    remote: Remote,
    deadline: Instant,
}

impl Git {
    fn new(remote: Remote, deadline: Instant) -> Result<Git, CloneError> {
        let scheme = remote
            .url
            .split_once("://")
            .map(|(s, _)| s.to_ascii_lowercase());
        if !matches!(scheme.as_deref(), Some("https" | "http" | "file")) {
            return Err(CloneError::Url(remote.url.clone()));
        }
        let git = Git {
            dir: Scratch::new()?,
            remote,
            deadline,
        };
        git.run(&["init", "--quiet", "--bare"], None)?;
        let url = git.remote.url.clone();
        git.run(&["remote", "add", "origin", &url], None)?;
        git.run(&["config", "remote.origin.promisor", "true"], None)?;
        git.run(
            &["config", "remote.origin.partialclonefilter", "blob:none"],
            None,
        )?;
        Ok(git)
    }

    fn dir(&self) -> &Path {
        &self.dir.0
    }

    /// Commits and their trees, no history, no blobs.
    fn fetch_commits(&self, shas: &[&str]) -> Result<(), CloneError> {
        let mut args = vec![
            "fetch",
            "--quiet",
            "--no-tags",
            "--no-write-fetch-head",
            "--depth=1",
            "--filter=blob:none",
            "origin",
        ];
        args.extend_from_slice(shas);
        self.run(&args, None).map(drop)
    }

    /// Runs git in the scratch repository; its stdout, or an error with its stderr.
    fn run(&self, args: &[&str], stdin: Option<&[u8]>) -> Result<Vec<u8>, CloneError> {
        let command = args
            .iter()
            .find(|a| !a.starts_with('-') && !a.contains('='))
            .copied()
            .unwrap_or("")
            .to_owned();
        let mut cmd = Command::new("git");
        cmd.arg("--git-dir")
            .arg(self.dir())
            .args(args)
            .env("GIT_TERMINAL_PROMPT", "0")
            .env("GIT_ASKPASS", "true")
            .env("LC_ALL", "C")
            .stdin(if stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let header = self.auth_header();
        if let Some(header) = &header {
            cmd.env("GIT_CONFIG_COUNT", "1")
                .env("GIT_CONFIG_KEY_0", "http.extraHeader")
                .env("GIT_CONFIG_VALUE_0", header.expose_secret());
        }
        let mut child = cmd.spawn().map_err(|e| CloneError::Spawn(e.to_string()))?;
        let input = stdin.map(<[u8]>::to_vec);
        let mut child_stdin = child.stdin.take();
        let writer = std::thread::spawn(move || {
            if let (Some(pipe), Some(input)) = (child_stdin.as_mut(), input) {
                let _ = pipe.write_all(&input);
            }
        });
        let mut out_pipe = child.stdout.take();
        let reader = std::thread::spawn(move || {
            let mut out = Vec::new();
            if let Some(pipe) = out_pipe.as_mut() {
                let _ = pipe.read_to_end(&mut out);
            }
            out
        });
        let mut err_pipe = child.stderr.take();
        let err_reader = std::thread::spawn(move || {
            let mut err = Vec::new();
            if let Some(pipe) = err_pipe.as_mut() {
                let _ = pipe.take(64 * 1024).read_to_end(&mut err);
            }
            err
        });
        let status = loop {
            match child.try_wait() {
                Ok(Some(status)) => break status,
                Ok(None) if Instant::now() >= self.deadline => {
                    let _ = child.kill();
                    let _ = child.wait();
                    return Err(CloneError::Timeout {
                        command,
                        seconds: DEADLINE.as_secs(),
                    });
                }
                Ok(None) => std::thread::sleep(Duration::from_millis(20)),
                Err(e) => return Err(CloneError::Spawn(e.to_string())),
            }
        };
        let _ = writer.join();
        let out = reader.join().unwrap_or_default();
        let err = err_reader.join().unwrap_or_default();
        if !status.success() {
            let stderr = self.redact(String::from_utf8_lossy(&err).trim());
            return Err(CloneError::Failed { command, stderr });
        }
        Ok(out)
    }

    /// `Authorization: Basic base64(x-access-token:TOKEN)`, as GitHub takes tokens over git
    /// HTTPS; only for http(s) remotes.
    fn auth_header(&self) -> Option<SecretString> {
        let token = self.remote.token.as_ref()?;
        if !self.remote.url.to_ascii_lowercase().starts_with("http") {
            return None;
        }
        let basic = base64(format!("x-access-token:{}", token.expose_secret()).as_bytes());
        Some(SecretString::from(format!("Authorization: Basic {basic}")))
    }

    /// git does not print extra headers, but a message is never trusted with a secret.
    fn redact(&self, text: &str) -> String {
        let mut text = text.to_owned();
        if let Some(token) = &self.remote.token {
            let secret = token.expose_secret();
            if !secret.is_empty() {
                text = text.replace(secret, "***");
                let basic = base64(format!("x-access-token:{secret}").as_bytes());
                text = text.replace(&basic, "***");
            }
        }
        text
    }
}

/// A directory that is removed with everything in it when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new() -> Result<Scratch, CloneError> {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .subsec_nanos();
        let name = format!(
            "posture-clone-{}-{}-{nanos}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        let dir = std::env::temp_dir().join(name);
        std::fs::create_dir(&dir)
            .map_err(|e| CloneError::Scratch(format!("{}: {e}", dir.display())))?;
        Ok(Scratch(dir))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Standard base64 with padding (RFC 4648 §4).
pub(crate) fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for (i, shift) in [18, 12, 6, 0].into_iter().enumerate() {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[(n >> shift) as usize & 63]));
            } else {
                out.push('=');
            }
        }
    }
    out
}
