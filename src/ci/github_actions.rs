//! A GitHub Actions job: the pull request from the event file (`GITHUB_EVENT_PATH`), the
//! repository from `GITHUB_REPOSITORY`, the API from `GITHUB_API_URL` (GitHub Enterprise
//! Server sets its own), and the job's `GITHUB_TOKEN`, which comments as
//! `github-actions[bot]` and sets the gate as a check run. A personal token in
//! `POSTURE_GITHUB_TOKEN` is used instead when set (its user then comments).

use std::sync::Arc;

use octocrab::secrecy::SecretString;
use serde::Deserialize;

use super::{CiError, Target, set};
use crate::forge::github::{
    DEFAULT_API_URL, ENV_TOKEN, GitHubClient, GitHubConfig, GitHubCredentials,
};

const EVENT_PATH: &str = "GITHUB_EVENT_PATH";
const EVENT_NAME: &str = "GITHUB_EVENT_NAME";
const REPOSITORY: &str = "GITHUB_REPOSITORY";
const API_URL: &str = "GITHUB_API_URL";
const TOKEN: &str = "GITHUB_TOKEN";

/// The part of a `pull_request` (or `pull_request_target`) event that names the pull request.
#[derive(Deserialize)]
struct Event {
    pull_request: Option<PullRequest>,
}

#[derive(Deserialize)]
struct PullRequest {
    number: i64,
}

pub(super) fn target(var: &dyn Fn(&str) -> Option<String>) -> Result<Target, CiError> {
    let repository = set(var, REPOSITORY).ok_or(CiError::Missing {
        name: REPOSITORY,
        hint: "run inside GitHub Actions, or set it to owner/name",
    })?;
    let number = pull_request_number(var)?;
    let api_url = set(var, API_URL).unwrap_or_else(|| DEFAULT_API_URL.to_owned());
    let credentials = match (set(var, ENV_TOKEN), set(var, TOKEN)) {
        (Some(token), _) => GitHubCredentials::Token(SecretString::from(token)),
        (None, Some(token)) => GitHubCredentials::Actions(SecretString::from(token)),
        (None, None) => {
            return Err(CiError::Missing {
                name: TOKEN,
                hint: "pass the job's token to the step: `env: GITHUB_TOKEN: ${{ github.token }}`, \
                       with `permissions: pull-requests: write, checks: write`",
            });
        }
    };
    let client = GitHubClient::new(GitHubConfig::new(api_url, credentials))?;
    Ok(Target {
        forge: Arc::new(client.for_installation(None)?),
        repository,
        number,
    })
}

/// The pull request's number, from the event file the runner wrote.
fn pull_request_number(var: &dyn Fn(&str) -> Option<String>) -> Result<i64, CiError> {
    let path = set(var, EVENT_PATH).ok_or(CiError::Missing {
        name: EVENT_PATH,
        hint: "run inside GitHub Actions (the runner sets it to the event's JSON file)",
    })?;
    let text = std::fs::read_to_string(&path).map_err(|e| CiError::Invalid {
        name: EVENT_PATH,
        reason: format!("cannot read {path}: {e}"),
    })?;
    let event: Event = serde_json::from_str(&text).map_err(|e| CiError::Invalid {
        name: EVENT_PATH,
        reason: format!("{path} is not an event of GitHub's shape: {e}"),
    })?;
    event
        .pull_request
        .map(|pr| pr.number)
        .ok_or_else(|| CiError::Invalid {
            name: EVENT_PATH,
            reason: format!(
                "the run's event ({}) is not about a pull request: run the job `on: pull_request`",
                set(var, EVENT_NAME).unwrap_or_else(|| "unknown".to_owned())
            ),
        })
}
