//! Who is who: posture's own username (whose notes alone are posture's), and what a person
//! may do in a project (a command acts only for someone who may write).

use gitlab::api::groups::members::AllGroupMembers;
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
    Ok(project_member(api, repository, actor)
        .await?
        .map_or(Permission::None, |member| member_permission(&member)))
}

/// Whether `actor` may read `repository`'s findings: an active member of at least
/// Reporter (20), inherited included (Guests and Planners cannot read a private project's
/// code).
pub(super) async fn reporter(api: &Api, repository: &str, actor: &Actor) -> ForgeResult<bool> {
    Ok(project_member(api, repository, actor)
        .await?
        .is_some_and(|member| active(&member) && member.access_level >= REPORTER))
}

/// `actor`'s membership of `repository`, inherited included; `None` for nobody or a
/// non-member (404).
async fn project_member(api: &Api, repository: &str, actor: &Actor) -> ForgeResult<Option<Member>> {
    let Some(user) = user_of(api, actor).await? else {
        return Ok(None);
    };
    let what = format!(
        "reading the membership of {} in {repository}",
        who(actor, user)
    );
    let endpoint = AllProjectMember::builder()
        .project(repository)
        .user(user)
        .build()
        .map_err(|e| protocol(&what, &e.to_string()))?;
    match api
        .call::<Member, _>("project_member", &what, false, endpoint)
        .await
    {
        Ok(member) => Ok(Some(member)),
        Err(ForgeError::NotFound { .. }) => Ok(None),
        Err(error) => Err(error),
    }
}

/// The access level from which a member reads a project's code.
const REPORTER: u64 = 20;

/// `actor`'s user id: the webhook's, else looked up by username; `None` for nobody.
async fn user_of(api: &Api, actor: &Actor) -> ForgeResult<Option<u64>> {
    let login = actor.login.trim();
    match actor.id {
        Some(id) => u64::try_from(id)
            .map(Some)
            .map_err(|_| ForgeError::Config(format!("{id} is not a GitLab user id"))),
        None if login.is_empty() => Ok(None),
        None => user_id(api, login).await,
    }
}

/// How errors name `actor`: their username, else their id.
fn who(actor: &Actor, user: u64) -> String {
    match actor.login.trim() {
        "" => format!("user {user}"),
        login => login.to_owned(),
    }
}

/// `GET /groups/:id/members/all?user_ids[]=…` (inherited members included): an active
/// member with at least guest access. A group posture cannot see (404) is an error, not
/// "no member": a mistyped path must show, not quietly grant nothing.
pub(super) async fn group_member(api: &Api, group: &str, actor: &Actor) -> ForgeResult<bool> {
    let Some(user) = user_of(api, actor).await? else {
        return Ok(false);
    };
    let what = format!(
        "reading whether {} is in the group {group}",
        who(actor, user)
    );
    let endpoint = AllGroupMembers::builder()
        .group(group)
        .user_id(user)
        .build()
        .map_err(|e| protocol(&what, &e.to_string()))?;
    let members: Vec<Member> = api
        .call(
            "group_members",
            &what,
            false,
            gitlab::api::paged(endpoint, gitlab::api::Pagination::Limit(20)),
        )
        .await?;
    Ok(members
        .iter()
        .any(|member| member.id == user && member_permission(member) >= Permission::Read))
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
    if !active(member) {
        return Permission::None;
    }
    access_level(member.access_level)
}

/// Neither the user blocked nor the membership awaiting approval.
fn active(member: &Member) -> bool {
    member.state.as_deref().is_none_or(|s| s == "active")
        && member
            .membership_state
            .as_deref()
            .is_none_or(|s| s == "active")
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
