//! Who is who: posture's own login (whose comments alone are posture's), and what a person
//! may do on a repository (a command acts only for someone who may write).

use serde::Deserialize;

use super::client::{ACTIONS_LOGIN, Call, Http, Mode, Shared, encode, protocol, repo_path};
use crate::forge::{Actor, ForgeError, ForgeResult, Permission};

/// posture's login: a GitHub App comments as `<slug>[bot]` (`GET /app`, as the App), a
/// personal token as its user (`GET /user`). Asked once per client.
pub(crate) async fn identity(shared: &Shared) -> ForgeResult<String> {
    shared
        .identity
        .get_or_try_init(|| async {
            match shared.mode {
                Mode::App { .. } => {
                    #[derive(Deserialize)]
                    struct App {
                        slug: Option<String>,
                    }
                    let what = "finding the GitHub App's own name";
                    let app: App = shared.as_app().get_json("/app", "get_app", what).await?;
                    app.slug
                        .filter(|slug| !slug.trim().is_empty())
                        .map(|slug| format!("{}[bot]", slug.trim()))
                        .ok_or_else(|| protocol(what, "an App without a slug".to_owned()))
                }
                // `GET /user` answers 403 to a GITHUB_TOKEN.
                Mode::Actions(_) => Ok(ACTIONS_LOGIN.to_owned()),
                Mode::Token(_) => {
                    #[derive(Deserialize)]
                    struct User {
                        login: Option<String>,
                    }
                    let what = "finding the user of the GitHub token";
                    let user: User = shared.as_app().get_json("/user", "get_user", what).await?;
                    user.login
                        .filter(|login| !login.trim().is_empty())
                        .map(|login| login.trim().to_owned())
                        .ok_or_else(|| protocol(what, "a user without a login".to_owned()))
                }
            }
        })
        .await
        .cloned()
}

/// Whether a comment by `author` is posture's (GitHub logins ignore case).
pub(crate) fn is_me(author: Option<&str>, me: &str) -> bool {
    author.is_some_and(|author| author.eq_ignore_ascii_case(me))
}

/// `GET /repos/{owner}/{repo}/collaborators/{username}/permission`: `role_name` when it is
/// one of GitHub's roles (a custom role falls back to its base `permission`); someone GitHub
/// does not know there (404) has none.
pub(crate) async fn permission(
    http: &Http<'_>,
    repository: &str,
    actor: &Actor,
) -> ForgeResult<Permission> {
    #[derive(Deserialize)]
    struct Answer {
        permission: Option<String>,
        role_name: Option<String>,
    }
    let login = actor.login.trim();
    if login.is_empty() {
        return Ok(Permission::None);
    }
    let path = format!(
        "{}/collaborators/{}/permission",
        repo_path(repository)?,
        encode(login)
    );
    let what = format!("reading the permission of {login} on {repository}");
    match http
        .get_json::<Answer>(&path, "get_collaborator_permission", &what)
        .await
    {
        Ok(answer) => Ok(github_permission(
            answer.role_name.as_deref(),
            answer.permission.as_deref(),
        )),
        Err(ForgeError::NotFound { .. }) => Ok(Permission::None),
        Err(error) => Err(error),
    }
}

/// `GET /repos/{owner}/{repo}/collaborators/{username}`: 204 for a collaborator (directly,
/// through a team or the org's base permission, or an owner), 404 for anyone else.
pub(crate) async fn collaborator(
    http: &Http<'_>,
    repository: &str,
    actor: &Actor,
) -> ForgeResult<bool> {
    let login = actor.login.trim();
    if login.is_empty() {
        return Ok(false);
    }
    let path = format!("{}/collaborators/{}", repo_path(repository)?, encode(login));
    let what = format!("reading whether {login} is a collaborator on {repository}");
    match http
        .call(Call::get(path, "check_collaborator", &what))
        .await
    {
        Ok(_) => Ok(true),
        Err(ForgeError::NotFound { .. }) => Ok(false),
        Err(error) => Err(error),
    }
}

/// `GET /orgs/{org}/teams/{team_slug}/memberships/{username}`: an `active` membership (a
/// `pending` invitation is not one yet); 404 is no membership.
pub(crate) async fn team_member(
    http: &Http<'_>,
    org: &str,
    team: &str,
    actor: &Actor,
) -> ForgeResult<bool> {
    #[derive(Deserialize)]
    struct Membership {
        state: Option<String>,
    }
    let login = actor.login.trim();
    if login.is_empty() {
        return Ok(false);
    }
    let path = format!(
        "/orgs/{}/teams/{}/memberships/{}",
        encode(org),
        encode(team),
        encode(login)
    );
    let what = format!("reading whether {login} is in the team {org}/{team}");
    match http
        .get_json::<Membership>(&path, "get_team_membership", &what)
        .await
    {
        Ok(membership) => Ok(membership.state.as_deref() == Some("active")),
        Err(ForgeError::NotFound { .. }) => Ok(false),
        Err(error) => Err(error),
    }
}

/// GitHub's role (`admin`, `maintain`, `write`, `triage`, `read`) or, failing that, its
/// base permission (`admin`, `write`, `read`, `none`).
pub(crate) fn github_permission(role_name: Option<&str>, permission: Option<&str>) -> Permission {
    let known = |name: &str| match name.trim().to_ascii_lowercase().as_str() {
        "admin" => Some(Permission::Admin),
        "maintain" => Some(Permission::Maintain),
        "write" => Some(Permission::Write),
        "triage" => Some(Permission::Triage),
        "read" => Some(Permission::Read),
        "none" => Some(Permission::None),
        _ => None,
    };
    role_name
        .and_then(known)
        .or_else(|| permission.and_then(known))
        .unwrap_or(Permission::None)
}
