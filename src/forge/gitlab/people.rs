//! Who is who: posture's own username (whose notes alone are posture's), and what a person
//! may do in a project (a command acts only for someone who may write).

use gitlab::api::groups::members::GroupMember;
use gitlab::api::projects::members::AllProjectMember;
use gitlab::api::users::{CurrentUser, Users};

use super::client::{Api, protocol};
use super::types::{Member, User};
use crate::forge::{Actor, ForgeError, ForgeResult, Permission};

/// posture's username: the token's user (`GET /user`). Asked once per client.
pub(super) async fn identity(api: &Api) -> ForgeResult<String> {
    api.identity
        .get_or_try_init(|| async {
            let what = "finding the user of the GitLab token";
            let user: User = api
                .call("current_user", what, false, CurrentUser {})
                .await?;
            let username = user.username.trim();
            if username.is_empty() {
                return Err(protocol(what, "a user without a username"));
            }
            Ok(username.to_owned())
        })
        .await
        .cloned()
}

/// Whether a note by `author` is posture's (GitLab usernames are unique regardless of case).
pub(super) fn is_me(author: Option<&str>, me: &str) -> bool {
    author.is_some_and(|author| author.eq_ignore_ascii_case(me))
}

/// `GET /projects/:id/members/all/:user_id` (inherited and invited members included) →
/// `access_level`; someone who is not a member (404), not active, or whose membership awaits
/// approval has none. Without the webhook's user id, the user is looked up by username
/// first (`GET /users?username=…`).
pub(super) async fn permission(
    api: &Api,
    repository: &str,
    actor: &Actor,
) -> ForgeResult<Permission> {
    let login = actor.login.trim();
    let user = match actor.id {
        Some(id) => u64::try_from(id)
            .map_err(|_| ForgeError::Config(format!("{id} is not a GitLab user id")))?,
        None if login.is_empty() => return Ok(Permission::None),
        None => match user_id(api, login).await? {
            Some(id) => id,
            None => return Ok(Permission::None),
        },
    };
    let who = if login.is_empty() {
        format!("user {user}")
    } else {
        login.to_owned()
    };
    let what = format!("reading the membership of {who} in {repository}");
    let endpoint = AllProjectMember::builder()
        .project(repository)
        .user(user)
        .build()
        .map_err(|e| protocol(&what, &e.to_string()))?;
    match api
        .call::<Member, _>("project_member", &what, false, endpoint)
        .await
    {
        Ok(member) => Ok(member_permission(&member)),
        Err(ForgeError::NotFound { .. }) => Ok(Permission::None),
        Err(error) => Err(error),
    }
}

/// `GET /groups/:id/members/:user_id` (direct members): an active member with at least
/// guest access; 404 is no membership.
pub(super) async fn group_member(api: &Api, group: &str, actor: &Actor) -> ForgeResult<bool> {
    let login = actor.login.trim();
    let user = match actor.id {
        Some(id) => u64::try_from(id)
            .map_err(|_| ForgeError::Config(format!("{id} is not a GitLab user id")))?,
        None if login.is_empty() => return Ok(false),
        None => match user_id(api, login).await? {
            Some(id) => id,
            None => return Ok(false),
        },
    };
    let what = format!("reading whether {login} is in the group {group}");
    let endpoint = GroupMember::builder()
        .group(group)
        .user(user)
        .build()
        .map_err(|e| protocol(&what, &e.to_string()))?;
    match api
        .call::<Member, _>("group_member", &what, false, endpoint)
        .await
    {
        Ok(member) => Ok(member_permission(&member) >= Permission::Read),
        Err(ForgeError::NotFound { .. }) => Ok(false),
        Err(error) => Err(error),
    }
}

/// The id of the user named `username`, if there is one.
async fn user_id(api: &Api, username: &str) -> ForgeResult<Option<u64>> {
    let what = format!("looking up the GitLab user {username}");
    let endpoint = Users::builder()
        .username(username)
        .build()
        .map_err(|e| protocol(&what, &e.to_string()))?;
    let users: Vec<User> = api.call("users", &what, false, endpoint).await?;
    Ok(users
        .into_iter()
        .find(|user| user.username.eq_ignore_ascii_case(username))
        .map(|user| user.id))
}

fn member_permission(member: &Member) -> Permission {
    let inactive = member.state.as_deref().is_some_and(|s| s != "active")
        || member
            .membership_state
            .as_deref()
            .is_some_and(|s| s != "active");
    if inactive {
        return Permission::None;
    }
    access_level(member.access_level)
}

/// GitLab's access level as a permission: guest (10), planner (15) and reporter (20) read,
/// developer (30) writes, maintainer (40) maintains, owner (50) and admin (60) administer.
pub(super) fn access_level(level: u64) -> Permission {
    match level {
        0..10 => Permission::None,
        10..30 => Permission::Read,
        30..40 => Permission::Write,
        40..50 => Permission::Maintain,
        _ => Permission::Admin,
    }
}
