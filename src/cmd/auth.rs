//! `posture auth check`: which orgs and repositories a person or an API token can read, and
//! why, worked out exactly as the server does (the settings file's roles, the forge's
//! answers through posture's own credentials, the database's repositories).

use std::collections::{BTreeMap, BTreeSet};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, bail};
use posture::access::{Access, ForgeDirectory, ForgeLogin, OrgAccess, Person, Reach, Why, explain};
use posture::jobs::Forges;
use posture::settings::Settings;
use posture::store::{Forge, Store, TokenId};

/// How the answer is printed.
#[derive(Clone, Copy, clap::ValueEnum)]
pub enum CheckFormat {
    Text,
    Json,
}

/// Whom to check.
pub enum Subject {
    /// An API token, by the id `posture token list` shows.
    Token(TokenId),
    /// A person: a forge login and/or OIDC groups.
    Person(Person),
}

impl Subject {
    /// The person the flags describe: a login on `forge`, OIDC `groups`, or both.
    pub fn person(
        forge: Forge,
        login: Option<String>,
        id: Option<i64>,
        groups: Vec<String>,
    ) -> anyhow::Result<Subject> {
        let login = login.map(|login| login.trim().to_owned());
        if login.as_deref().is_none_or(str::is_empty) && groups.is_empty() {
            bail!("give --user LOGIN (with --forge), --group GROUP, or --token-id ID");
        }
        let name = match &login {
            Some(login) => format!("{login} ({forge})"),
            None => format!("OIDC groups {}", groups.join(", ")),
        };
        Ok(Subject::Person(Person {
            name,
            forge: login.map(|login| ForgeLogin { forge, login, id }),
            groups,
        }))
    }
}

/// Prints what `subject` reads; exit 0 whatever it reads (an empty answer is an answer).
pub async fn check(
    store: Store,
    settings: Arc<Settings>,
    forges: Forges,
    subject: Subject,
    format: CheckFormat,
) -> anyhow::Result<ExitCode> {
    let (who, orgs) = match subject {
        Subject::Token(id) => token(&store, id).await?,
        Subject::Person(person) => {
            let directory = ForgeDirectory::new(forges);
            // Every answer is asked afresh: this is the question "why", not a page view.
            let access = Access::new(
                settings,
                store,
                Some(Arc::new(directory)),
                std::time::Duration::ZERO,
            );
            let orgs = access
                .every_org(&person)
                .await
                .context("cannot work out access")?;
            (person.name, orgs)
        }
    };
    match format {
        CheckFormat::Text => print!("{}", explain::text(&who, &orgs)),
        CheckFormat::Json => println!("{:#}", explain::json(&who, &orgs)),
    }
    Ok(ExitCode::SUCCESS)
}

/// A token reads every repository of its org, when it is live and holds `read`.
async fn token(store: &Store, id: TokenId) -> anyhow::Result<(String, Vec<OrgAccess>)> {
    let Some(token) = store.tokens(None).await?.into_iter().find(|t| t.id == id) else {
        bail!("there is no token {id} (see `posture token list`)");
    };
    let who = format!("token {} ({})", token.id, token.name);
    let readable = token.revoked_at.is_none()
        && token
            .scopes
            .parse::<posture::api::access::Scopes>()
            .is_ok_and(|scopes| scopes.allows(posture::api::access::Scope::Read));
    let mut access = OrgAccess {
        org: token.org.to_lowercase(),
        reach: Reach::Only(BTreeSet::new()),
        why: Vec::new(),
        asked: BTreeMap::new(),
        problems: Vec::new(),
    };
    if readable {
        access.reach = Reach::Everything;
        access.why.push(Why::Token {
            token: format!("{who} with scopes {}", token.scopes),
        });
    } else if token.revoked_at.is_some() {
        access.problems.push("the token is revoked".to_owned());
    } else {
        access
            .problems
            .push(format!("the token's scopes ({}) lack `read`", token.scopes));
    }
    Ok((who, vec![access]))
}
