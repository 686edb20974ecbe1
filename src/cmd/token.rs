//! `posture token create|list|revoke`: API tokens, straight in the database.

use std::process::ExitCode;

use anyhow::{Context, bail};
use posture::api::access::{Scopes, new_token, token_hash};
use posture::store::{Store, TokenId};

/// Creates a token and prints it alone on standard output, once: only its hash is kept.
pub async fn create(
    store: &Store,
    org: &str,
    scopes: &str,
    name: Option<&str>,
) -> anyhow::Result<ExitCode> {
    let scopes: Scopes = scopes
        .parse()
        .map_err(anyhow::Error::msg)
        .context("--scopes")?;
    let org = org.trim().to_lowercase();
    if org.is_empty() || org.contains('/') {
        bail!(
            "--org: expected an org name (the GitHub owner or GitLab top-level group), got `{org}`"
        );
    }
    let token = new_token().context("cannot draw random bytes for a token")?;
    let name = name.unwrap_or("unnamed");
    let row = store
        .create_token(&org, name, &scopes.to_string(), &token_hash(&token))
        .await?;
    println!("{token}");
    eprintln!(
        "posture: token {} ({name}) for org {org} with scopes {scopes}; it is shown only now",
        row.id
    );
    Ok(ExitCode::SUCCESS)
}

/// Lists tokens (never the tokens themselves), revoked ones marked.
pub async fn list(store: &Store, org: Option<&str>) -> anyhow::Result<ExitCode> {
    let org = org.map(str::to_lowercase);
    let tokens = store.tokens(org.as_deref()).await?;
    println!(
        "{:>5}  {:<20} {:<20} {:<18} {:<20} STATE",
        "ID", "ORG", "NAME", "SCOPES", "CREATED"
    );
    for token in &tokens {
        let state = match (token.revoked_at, token.last_used_at) {
            (Some(at), _) => format!("revoked {}", at.format("%Y-%m-%d %H:%M")),
            (None, Some(at)) => format!("last used {}", at.format("%Y-%m-%d %H:%M")),
            (None, None) => "never used".to_owned(),
        };
        println!(
            "{:>5}  {:<20} {:<20} {:<18} {:<20} {state}",
            token.id,
            token.org,
            token.name,
            token.scopes,
            token.created_at.format("%Y-%m-%d %H:%M")
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Revokes a token: requests carrying it get 401 from now on.
pub async fn revoke(store: &Store, id: i64) -> anyhow::Result<ExitCode> {
    if !store.revoke_token(TokenId(id)).await? {
        bail!("no live token with id {id} (see `posture token list`)");
    }
    eprintln!("posture: token {id} revoked");
    Ok(ExitCode::SUCCESS)
}
