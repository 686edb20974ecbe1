//! `posture gitlab hook add`: creates posture's webhook on a GitLab project or group through
//! the API ([`posture::forge::gitlab::hooks`]) and hands its secret token to the operator,
//! once, on standard output.

use std::process::ExitCode;

use anyhow::{Context, bail};
use posture::forge::gitlab::hooks::{self, HookTarget, NewHook, WEBHOOK_PATH};
use posture::forge::gitlab::{GitLabClient, TOKEN_VAR};
use posture::server::secrets::GITLAB_TOKEN_VAR;

/// The variable naming where the forges reach posture.
const PUBLIC_URL_VAR: &str = "POSTURE_PUBLIC_URL";

#[derive(clap::Subcommand)]
pub enum GitlabCommand {
    /// posture's webhook on GitLab.
    #[command(subcommand)]
    Hook(HookCommand),
}

#[derive(clap::Subcommand)]
pub enum HookCommand {
    /// Create the webhook (merge request, pipeline, push and comment events, SSL verification
    /// on) with a new secret token, printed alone on standard output, once. Uses
    /// POSTURE_GITLAB_TOKEN and POSTURE_GITLAB_URL.
    Add(HookAddArgs),
}

#[derive(clap::Args)]
#[command(group(clap::ArgGroup::new("target").required(true).args(["project", "group"])))]
pub struct HookAddArgs {
    /// The project: its full path (`group/…/project`) or numeric id.
    #[arg(long, value_name = "ID_OR_PATH")]
    pub project: Option<String>,
    /// The group (GitLab Premium or Ultimate): its full path or numeric id. Every project in
    /// it and its subgroups sends to posture.
    #[arg(long, value_name = "PATH")]
    pub group: Option<String>,
    /// posture's public URL, or the whole webhook URL; `/webhooks/gitlab` is added unless it
    /// ends so already (default: POSTURE_PUBLIC_URL).
    #[arg(long, value_name = "PUBLIC_URL")]
    pub url: Option<String>,
    /// Make a new secret token even though POSTURE_GITLAB_WEBHOOK_TOKEN is set (posture
    /// accepts one GitLab token: hooks made with the old one must then be updated).
    #[arg(long)]
    pub new_token: bool,
}

pub async fn run(command: GitlabCommand) -> anyhow::Result<ExitCode> {
    match command {
        GitlabCommand::Hook(HookCommand::Add(args)) => hook_add(args).await,
    }
}

/// The variable's value, unless unset or blank.
fn var(name: &str) -> Option<String> {
    std::env::var(name)
        .ok()
        .map(|value| value.trim().to_owned())
        .filter(|value| !value.is_empty())
}

/// The webhook URL from `--url` or `POSTURE_PUBLIC_URL`: absolute http(s), ending in
/// `/webhooks/gitlab`. Plain http is allowed with a warning (tests, a local GitLab).
fn webhook_url(given: Option<&str>) -> anyhow::Result<String> {
    let (base, from) = match given.map(str::trim).filter(|u| !u.is_empty()) {
        Some(url) => (url.to_owned(), "--url"),
        None => (
            var(PUBLIC_URL_VAR).with_context(|| {
                format!(
                    "give --url or set {PUBLIC_URL_VAR} to the https URL GitLab reaches posture at"
                )
            })?,
            PUBLIC_URL_VAR,
        ),
    };
    let parsed = url::Url::parse(&base)
        .with_context(|| format!("{from}: `{base}` is not an absolute URL"))?;
    let Some(host) = parsed.host_str() else {
        bail!("{from}: `{base}` has no host");
    };
    if !parsed.username().is_empty() || parsed.password().is_some() {
        bail!("{from}: the URL must not carry credentials");
    }
    if parsed.query().is_some() || parsed.fragment().is_some() {
        bail!("{from}: the URL must not have a query or a fragment");
    }
    match parsed.scheme() {
        "https" => {}
        "http" => {
            let local = matches!(host, "localhost" | "127.0.0.1" | "[::1]");
            eprintln!(
                "posture: warning: {from} is plain http{}: the secret token will travel in clear",
                if local { " (this machine)" } else { "" }
            );
        }
        scheme => bail!("{from}: the scheme must be https, not {scheme}"),
    }
    let url = parsed.as_str().trim_end_matches('/').to_owned();
    Ok(if url.ends_with(WEBHOOK_PATH) {
        url
    } else {
        format!("{url}{WEBHOOK_PATH}")
    })
}

async fn hook_add(args: HookAddArgs) -> anyhow::Result<ExitCode> {
    let target = match (&args.project, &args.group) {
        (Some(project), None) => HookTarget::Project(project),
        (None, Some(group)) => HookTarget::Group(group),
        _ => bail!("give one of --project and --group"),
    };
    if let HookTarget::Project(id) | HookTarget::Group(id) = target
        && id.trim().trim_matches('/').is_empty()
    {
        bail!("the project or group is empty");
    }
    let url = webhook_url(args.url.as_deref())?;
    let client = GitLabClient::from_env()?.with_context(|| {
        format!(
            "{TOKEN_VAR} is not set: give a token with the `api` scope of a Maintainer of the \
             project (Owner of the group)"
        )
    })?;
    // posture accepts one GitLab webhook token: a second hook reuses the one set.
    let existing = var(GITLAB_TOKEN_VAR).filter(|_| !args.new_token);
    let token = match &existing {
        Some(token) => token.clone(),
        None => hooks::new_secret_token().context("cannot draw random bytes for the token")?,
    };
    let hook = client
        .add_hook(
            target,
            NewHook {
                url: &url,
                token: &token,
            },
        )
        .await?;
    eprintln!(
        "posture: webhook {} added to {target} at {}: {url} (merge request, pipeline, push and \
         comment events; SSL verification on)",
        hook.id,
        client.base_url()
    );
    if existing.is_some() {
        eprintln!(
            "posture: it sends the token already in {GITLAB_TOKEN_VAR} (not printed); nothing \
             to change where posture serve runs"
        );
    } else {
        println!("{token}");
        eprintln!(
            "posture: set {GITLAB_TOKEN_VAR} to the token printed above where posture serve \
             runs, and restart it; it is shown only now"
        );
        if args.new_token && var(GITLAB_TOKEN_VAR).is_some() {
            eprintln!(
                "posture: warning: hooks made with the previous {GITLAB_TOKEN_VAR} are refused \
                 once it changes: update their secret token too"
            );
        }
    }
    if matches!(target, HookTarget::Group(_)) {
        eprintln!(
            "posture: group webhooks need GitLab Premium or Ultimate; every project of the \
             group and its subgroups now sends its events to posture"
        );
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_webhook_path_is_added_once() {
        assert_eq!(
            webhook_url(Some("https://posture.example.com")).unwrap(),
            "https://posture.example.com/webhooks/gitlab"
        );
        assert_eq!(
            webhook_url(Some("https://example.com/posture/")).unwrap(),
            "https://example.com/posture/webhooks/gitlab"
        );
        assert_eq!(
            webhook_url(Some("https://posture.example.com/webhooks/gitlab")).unwrap(),
            "https://posture.example.com/webhooks/gitlab"
        );
        assert!(webhook_url(Some("posture.example.com")).is_err());
        assert!(webhook_url(Some("ftp://posture.example.com")).is_err());
        assert!(webhook_url(Some("https://u:p@posture.example.com")).is_err());
    }
}
