//! A GitLab CI merge request pipeline: the merge request from `CI_MERGE_REQUEST_IID`, the
//! project from `CI_PROJECT_PATH` (or `CI_PROJECT_ID`), the instance from `CI_API_V4_URL`, and a project access
//! token (role Developer, scope `api`) in `POSTURE_GITLAB_TOKEN`: the job's own
//! `CI_JOB_TOKEN` may not write notes.

use std::sync::Arc;

use super::{CiError, Target, set};
use crate::forge::gitlab::GitLabClient;

const TOKEN: &str = "POSTURE_GITLAB_TOKEN";
const MERGE_REQUEST: &str = "CI_MERGE_REQUEST_IID";
const PROJECT: &str = "CI_PROJECT_ID";
const PROJECT_PATH: &str = "CI_PROJECT_PATH";
const API_URL: &str = "CI_API_V4_URL";

pub(super) fn target(var: &dyn Fn(&str) -> Option<String>) -> Result<Target, CiError> {
    let token = set(var, TOKEN).ok_or(CiError::Missing {
        name: TOKEN,
        hint: "create a project access token (role Developer, scope api) and add it as a \
               masked CI/CD variable",
    })?;
    let number = set(var, MERGE_REQUEST).ok_or(CiError::Missing {
        name: MERGE_REQUEST,
        hint: "run the job in merge request pipelines: \
               `rules: [{if: $CI_PIPELINE_SOURCE == \"merge_request_event\"}]`",
    })?;
    let number = number.parse::<i64>().map_err(|_| CiError::Invalid {
        name: MERGE_REQUEST,
        reason: format!("'{number}' is not a merge request iid"),
    })?;
    // The path names the project as the server does (so messages read `group/project!7`);
    // GitLab's API takes the id as well.
    let repository =
        set(var, PROJECT_PATH)
            .or_else(|| set(var, PROJECT))
            .ok_or(CiError::Missing {
                name: PROJECT,
                hint: "run inside GitLab CI, or set it to the project's id",
            })?;
    let api_url = set(var, API_URL).ok_or(CiError::Missing {
        name: API_URL,
        hint: "run inside GitLab CI, or set it to https://HOST/api/v4",
    })?;
    let instance = api_url
        .trim_end_matches('/')
        .strip_suffix("/api/v4")
        .ok_or_else(|| CiError::Invalid {
            name: API_URL,
            reason: format!("'{api_url}' does not end in /api/v4"),
        })?;
    let client = GitLabClient::new(instance, &token)?;
    Ok(Target {
        forge: Arc::new(client.forge()),
        repository,
        number,
    })
}
