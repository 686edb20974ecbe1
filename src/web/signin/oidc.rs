//! Sign-in through any OpenID Connect provider (the `openidconnect` crate): discovery of
//! `{POSTURE_OIDC_ISSUER}/.well-known/openid-configuration` and its keys (cached for
//! [`DISCOVERY_TTL`]; a failure stands for seconds), the authorization-code flow with `state`,
//! PKCE and a nonce, and an ID token verified in full (signature by the provider's keys,
//! issuer, audience, expiry, nonce, and `at_hash` when present).
//!
//! Who signed in: `preferred_username`, else `email`, else `sub`, named `… (oidc)`. Their
//! groups: the claim `POSTURE_OIDC_GROUPS_CLAIM` (default `groups`, a list of names or one
//! name) of the ID token, else of the `userinfo` answer when the provider has that endpoint
//! (checked to be about the same subject). With `POSTURE_OIDC_FORGE` and
//! `POSTURE_OIDC_FORGE_LOGIN_CLAIM`, the claim naming their login on that forge (same
//! fallback), so the forge's permissions apply to them as to a forge sign-in.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use openidconnect::core::{
    CoreAuthDisplay, CoreAuthPrompt, CoreAuthenticationFlow, CoreClientAuthMethod,
    CoreErrorResponseType, CoreGenderClaim, CoreJsonWebKey, CoreJweContentEncryptionAlgorithm,
    CoreJwsSigningAlgorithm, CoreProviderMetadata, CoreRevocableToken, CoreRevocationErrorResponse,
    CoreTokenIntrospectionResponse, CoreTokenType,
};
use openidconnect::{
    AccessTokenHash, AdditionalClaims, AuthType, CsrfToken, EmptyExtraTokenFields,
    EndpointMaybeSet, EndpointNotSet, EndpointSet, IssuerUrl, Nonce, OAuth2TokenResponse,
    RedirectUrl, Scope, StandardErrorResponse, StandardTokenResponse, TokenResponse,
    UserInfoClaims,
};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use tokio::sync::Mutex;

use super::config::OidcSettings;
use super::oauth::{describe, token_error};
use super::{Authorize, Callback, Provider, SignInError, SignInProvider};
use crate::access::{ForgeLogin, Person};

/// How long a discovery document and its keys are believed.
pub const DISCOVERY_TTL: Duration = Duration::from_secs(15 * 60);

/// Groups kept of one person, at most; a longer list is cut (and said so in the log).
const MAX_GROUPS: usize = 500;
/// The longest group name kept.
const MAX_GROUP_LEN: usize = 256;

/// Every claim besides the standard ones, kept as JSON: the groups and login claims are
/// named by settings, not known at compile time.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct OtherClaims {
    #[serde(flatten)]
    claims: Map<String, Value>,
}

impl AdditionalClaims for OtherClaims {}

type IdTokenFields = openidconnect::IdTokenFields<
    OtherClaims,
    EmptyExtraTokenFields,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJwsSigningAlgorithm,
>;
type OidcTokenResponse = StandardTokenResponse<IdTokenFields, CoreTokenType>;

/// A client of the discovered provider: authorize endpoint set; token and userinfo
/// endpoints as the discovery document gives them.
type OidcClient = openidconnect::Client<
    OtherClaims,
    CoreAuthDisplay,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJsonWebKey,
    CoreAuthPrompt,
    StandardErrorResponse<CoreErrorResponseType>,
    OidcTokenResponse,
    CoreTokenIntrospectionResponse,
    CoreRevocableToken,
    CoreRevocationErrorResponse,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

pub struct Oidc {
    settings: OidcSettings,
    discovered: Mutex<Discovered>,
}

/// The last discovery: its client, or its failure (believed for [`FAILURE_TTL`], so that a
/// provider that is down is not asked by every sign-in, each waiting for its timeout).
enum Discovered {
    Nothing,
    Client(Instant, Arc<OidcClient>),
    Failure(Instant, SignInError),
}

/// How long a failed discovery stands before the provider is asked again.
const FAILURE_TTL: Duration = Duration::from_secs(10);

impl Oidc {
    pub fn new(settings: OidcSettings) -> Oidc {
        Oidc {
            settings,
            discovered: Mutex::new(Discovered::Nothing),
        }
    }

    /// The provider's client, discovered at most every [`DISCOVERY_TTL`].
    async fn client(&self, http: &reqwest::Client) -> Result<Arc<OidcClient>, SignInError> {
        let mut discovered = self.discovered.lock().await;
        match &*discovered {
            Discovered::Client(at, client) if at.elapsed() < DISCOVERY_TTL => {
                return Ok(Arc::clone(client));
            }
            Discovered::Failure(at, error) if at.elapsed() < FAILURE_TTL => {
                return Err(error.clone());
            }
            _ => {}
        }
        match self.discover(http).await {
            Ok(client) => {
                let client = Arc::new(client);
                *discovered = Discovered::Client(Instant::now(), Arc::clone(&client));
                Ok(client)
            }
            Err(error) => {
                *discovered = Discovered::Failure(Instant::now(), error.clone());
                Err(error)
            }
        }
    }

    async fn discover(&self, http: &reqwest::Client) -> Result<OidcClient, SignInError> {
        let unavailable = |detail: String| SignInError::Unavailable {
            provider: Provider::Oidc,
            doing: "reading its discovery document",
            detail,
        };
        let issuer = IssuerUrl::new(self.settings.issuer.clone())
            .map_err(|error| unavailable(error.to_string()))?;
        let metadata = CoreProviderMetadata::discover_async(issuer, http)
            .await
            .map_err(|error| unavailable(describe(&error)))?;
        // The client authenticates as the provider says it may: `client_secret_basic` (the
        // default of the specification) unless only `client_secret_post` is offered.
        let post_only = metadata
            .token_endpoint_auth_methods_supported()
            .is_some_and(|methods| {
                methods.contains(&CoreClientAuthMethod::ClientSecretPost)
                    && !methods.contains(&CoreClientAuthMethod::ClientSecretBasic)
            });
        let client = OidcClient::from_provider_metadata(
            metadata,
            self.settings.app.client_id.clone(),
            Some(self.settings.app.client_secret.clone()),
        )
        .set_redirect_uri(RedirectUrl::from_url(
            self.settings.app.redirect_url.clone(),
        ))
        .set_auth_type(if post_only {
            AuthType::RequestBody
        } else {
            AuthType::BasicAuth
        });
        Ok(client)
    }

    /// Who signed in, from the verified ID token and, for what it lacks, `userinfo`.
    async fn person(
        &self,
        client: &OidcClient,
        http: &reqwest::Client,
        token: &OidcTokenResponse,
        nonce: &Nonce,
    ) -> Result<Person, SignInError> {
        let refused = |reason: String| SignInError::IdToken {
            provider: Provider::Oidc,
            reason,
        };
        let id_token = token
            .id_token()
            .ok_or_else(|| refused("the token endpoint sent none".to_owned()))?;
        let verifier = client.id_token_verifier();
        let claims = id_token
            .claims(&verifier, nonce)
            .map_err(|error| refused(describe(&error)))?;
        // The access token is the one the ID token was issued with (it asks userinfo).
        if let Some(expected) = claims.access_token_hash() {
            let actual = id_token
                .signing_alg()
                .map_err(|error| refused(describe(&error)))
                .and_then(|alg| {
                    let key = id_token
                        .signing_key(&verifier)
                        .map_err(|error| refused(describe(&error)))?;
                    AccessTokenHash::from_token(token.access_token(), alg, key)
                        .map_err(|error| refused(describe(&error)))
                })?;
            if actual != *expected {
                return Err(refused("its at_hash is not the access token's".to_owned()));
            }
        }
        let mut found = match serde_json::to_value(claims) {
            Ok(Value::Object(map)) => map,
            _ => Map::new(),
        };
        let wanted = self.wanted_claims();
        let lacking = wanted.iter().any(|claim| !found.contains_key(*claim));
        if lacking && client.user_info_url().is_some() {
            let subject = claims.subject().clone();
            let request = client
                .user_info(token.access_token().clone(), Some(subject))
                .map_err(|error| unavailable_userinfo(error.to_string()))?;
            let info: UserInfoClaims<OtherClaims, CoreGenderClaim> = request
                .request_async(http)
                .await
                .map_err(|error| unavailable_userinfo(describe(&error)))?;
            if let Ok(Value::Object(more)) = serde_json::to_value(&info) {
                for claim in wanted {
                    if !found.contains_key(claim) {
                        if let Some(value) = more.get(claim) {
                            found.insert(claim.to_owned(), value.clone());
                        }
                    }
                }
            }
        }
        Ok(self.person_of(&found))
    }

    /// The claims the person is made of that may come from `userinfo`.
    fn wanted_claims(&self) -> Vec<&str> {
        let mut wanted = vec![self.settings.groups_claim.as_str()];
        if let Some((_, claim)) = &self.settings.forge_login {
            wanted.push(claim.as_str());
        }
        wanted
    }

    /// The person the (verified) claims describe.
    fn person_of(&self, claims: &Map<String, Value>) -> Person {
        let text = |name: &str| {
            claims
                .get(name)
                .and_then(Value::as_str)
                .map(str::trim)
                .filter(|value| !value.is_empty() && !value.chars().any(char::is_control))
        };
        // A display name may be anyone's (people edit their `preferred_username`, an
        // unverified `email` proves nothing): the audit log's name carries the subject,
        // which the provider alone assigns, so two people never share one.
        let verified = claims.get("email_verified").and_then(Value::as_bool) == Some(true);
        let subject = text("sub").unwrap_or("unknown");
        let who = text("preferred_username")
            .or_else(|| text("email").filter(|_| verified))
            .unwrap_or(subject);
        let forge = self
            .settings
            .forge_login
            .as_ref()
            .and_then(|(forge, claim)| {
                text(claim)
                    .filter(|login| super::oauth::usable_login(login))
                    .map(|login| ForgeLogin {
                        forge: *forge,
                        login: login.to_owned(),
                        id: None,
                    })
            });
        let short: String = subject.chars().take(40).collect();
        Person {
            name: if who == subject {
                format!("{who} (oidc)")
            } else {
                format!("{who} (oidc:{short})")
            },
            forge,
            groups: groups(claims.get(&self.settings.groups_claim)),
        }
    }
}

/// The group names of a groups claim: a list of names, or one name; anything else (a
/// number, an object) is no group. Sorted, without duplicates, bounded.
fn groups(claim: Option<&Value>) -> Vec<String> {
    let names: Vec<&str> = match claim {
        Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).collect(),
        Some(Value::String(name)) => vec![name.as_str()],
        _ => Vec::new(),
    };
    let names: BTreeSet<String> = names
        .into_iter()
        .map(str::trim)
        .filter(|name| {
            !name.is_empty() && name.len() <= MAX_GROUP_LEN && !name.chars().any(char::is_control)
        })
        .map(str::to_owned)
        .collect();
    if names.len() > MAX_GROUPS {
        tracing::warn!(
            groups = names.len(),
            "an OIDC groups claim lists more than {MAX_GROUPS} groups; the rest are ignored"
        );
    }
    names.into_iter().take(MAX_GROUPS).collect()
}

fn unavailable_userinfo(detail: String) -> SignInError {
    SignInError::Unavailable {
        provider: Provider::Oidc,
        doing: "asking its userinfo endpoint",
        detail,
    }
}

#[async_trait]
impl SignInProvider for Oidc {
    fn provider(&self) -> Provider {
        Provider::Oidc
    }

    async fn authorize_url(
        &self,
        http: &reqwest::Client,
        request: Authorize<'_>,
    ) -> Result<url::Url, SignInError> {
        let client = self.client(http).await?;
        let state = request.state.to_owned();
        let nonce = request.nonce.unwrap_or_default().to_owned();
        let mut authorize = client
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                move || CsrfToken::new(state),
                move || Nonce::new(nonce),
            )
            .set_pkce_challenge(request.challenge);
        for scope in &self.settings.scopes {
            authorize = authorize.add_scope(Scope::new(scope.clone()));
        }
        Ok(authorize.url().0)
    }

    async fn identify(
        &self,
        http: &reqwest::Client,
        callback: Callback,
    ) -> Result<Person, SignInError> {
        let client = self.client(http).await?;
        let nonce = Nonce::new(callback.nonce.unwrap_or_default());
        let token = client
            .exchange_code(callback.code)
            .map_err(|error| SignInError::Unavailable {
                provider: Provider::Oidc,
                doing: "exchanging the code for a token",
                detail: error.to_string(),
            })?
            .set_pkce_verifier(callback.verifier)
            .request_async(http)
            .await
            .map_err(|error| token_error(Provider::Oidc, error))?;
        self.person(&client, http, &token, &nonce).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Forge;
    use serde_json::json;

    fn oidc(forge_login: Option<(Forge, &str)>) -> Oidc {
        Oidc::new(OidcSettings {
            app: super::super::config::OAuthApp {
                client_id: openidconnect::ClientId::new("posture".into()),
                client_secret: openidconnect::ClientSecret::new("shh".into()),
                redirect_url: url::Url::parse("https://p.example/login/oidc/callback").unwrap(),
            },
            issuer: "https://id.example.com".into(),
            scopes: vec!["profile".into()],
            groups_claim: "groups".into(),
            forge_login: forge_login.map(|(forge, claim)| (forge, claim.to_owned())),
        })
    }

    fn claims(value: Value) -> Map<String, Value> {
        value.as_object().unwrap().clone()
    }

    #[test]
    fn a_person_is_named_by_the_best_claim_and_keeps_their_groups() {
        let person = oidc(None).person_of(&claims(json!({
            "sub": "248289761001", "email": "jane@example.com",
            "preferred_username": "jane", "groups": ["secops", "engineering", "secops", " "],
        })));
        // The subject, which only the provider assigns, keeps two janes apart.
        assert_eq!(person.name, "jane (oidc:248289761001)");
        assert_eq!(person.groups, ["engineering", "secops"]);
        assert_eq!(person.forge, None);
        let by_email = oidc(None).person_of(&claims(
            json!({"sub": "1", "email": "a@b.c", "email_verified": true, "groups": "one"}),
        ));
        assert_eq!(by_email.name, "a@b.c (oidc:1)");
        assert_eq!(by_email.groups, ["one"]);
        // An unverified address names nobody.
        let unverified = oidc(None).person_of(&claims(json!({"sub": "2", "email": "admin@b.c"})));
        assert_eq!(unverified.name, "2 (oidc)");
        let by_sub = oidc(None).person_of(&claims(json!({"sub": "1", "groups": {"a": 1}})));
        assert_eq!(by_sub.name, "1 (oidc)");
        assert!(by_sub.groups.is_empty());
    }

    #[test]
    fn the_forge_login_claim_makes_a_forge_login() {
        let with = oidc(Some((Forge::GitHub, "github_login")));
        let person = with.person_of(&claims(json!({"sub": "1", "github_login": "octocat"})));
        assert_eq!(
            person.forge,
            Some(ForgeLogin {
                forge: Forge::GitHub,
                login: "octocat".into(),
                id: None
            })
        );
        let bad = with.person_of(&claims(json!({"sub": "1", "github_login": "two words"})));
        assert_eq!(bad.forge, None);
        assert_eq!(with.wanted_claims(), ["groups", "github_login"]);
    }

    #[test]
    fn groups_are_bounded() {
        let many: Vec<String> = (0..MAX_GROUPS + 10).map(|i| format!("g{i:04}")).collect();
        assert_eq!(groups(Some(&json!(many))).len(), MAX_GROUPS);
        assert!(groups(Some(&json!(["x".repeat(MAX_GROUP_LEN + 1)]))).is_empty());
        assert!(groups(None).is_empty());
    }
}
