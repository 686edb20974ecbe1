//! Which sign-in providers are configured, from `POSTURE_*` variables: a GitHub App's user
//! authorisation (`POSTURE_GITHUB_CLIENT_ID`, `POSTURE_GITHUB_CLIENT_SECRET`), a GitLab
//! application (`POSTURE_GITLAB_CLIENT_ID`, `POSTURE_GITLAB_CLIENT_SECRET`) and an OpenID
//! Connect provider (`POSTURE_OIDC_ISSUER`, `POSTURE_OIDC_CLIENT_ID`,
//! `POSTURE_OIDC_CLIENT_SECRET`, …). Each redirects back to
//! `{POSTURE_PUBLIC_URL}/login/{provider}/callback`, so a provider without a public URL is a
//! start-up error. Pure: the variables come in as a lookup function. Errors name the
//! variable, never a secret's value; the secrets are held as `ClientSecret`, whose `Debug`
//! shows nothing.

use oauth2::{ClientId, ClientSecret};
use url::Url;

use super::Provider;
use crate::store::Forge;

pub const GITHUB_CLIENT_ID_VAR: &str = "POSTURE_GITHUB_CLIENT_ID";
pub const GITHUB_CLIENT_SECRET_VAR: &str = "POSTURE_GITHUB_CLIENT_SECRET";
/// Where people sign in to GitHub: `https://github.com`, or a GitHub Enterprise Server.
pub const GITHUB_WEB_URL_VAR: &str = "POSTURE_GITHUB_WEB_URL";
pub const GITHUB_API_URL_VAR: &str = crate::forge::github::ENV_API_URL;
pub const DEFAULT_GITHUB_WEB_URL: &str = "https://github.com";

pub const GITLAB_CLIENT_ID_VAR: &str = "POSTURE_GITLAB_CLIENT_ID";
pub const GITLAB_CLIENT_SECRET_VAR: &str = "POSTURE_GITLAB_CLIENT_SECRET";
pub const GITLAB_URL_VAR: &str = crate::forge::gitlab::URL_VAR;

pub const OIDC_ISSUER_VAR: &str = "POSTURE_OIDC_ISSUER";
pub const OIDC_CLIENT_ID_VAR: &str = "POSTURE_OIDC_CLIENT_ID";
pub const OIDC_CLIENT_SECRET_VAR: &str = "POSTURE_OIDC_CLIENT_SECRET";
/// The claim that lists a person's groups (default `groups`).
pub const OIDC_GROUPS_CLAIM_VAR: &str = "POSTURE_OIDC_GROUPS_CLAIM";
/// Scopes asked for besides `openid` (default `profile email`).
pub const OIDC_SCOPES_VAR: &str = "POSTURE_OIDC_SCOPES";
/// The forge whose login [`OIDC_FORGE_LOGIN_CLAIM_VAR`] names.
pub const OIDC_FORGE_VAR: &str = "POSTURE_OIDC_FORGE";
pub const OIDC_FORGE_LOGIN_CLAIM_VAR: &str = "POSTURE_OIDC_FORGE_LOGIN_CLAIM";
pub const DEFAULT_OIDC_GROUPS_CLAIM: &str = "groups";
pub const DEFAULT_OIDC_SCOPES: &str = "profile email";

/// A setting that cannot be used: names the variable and why, never a value that may be a
/// secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignInConfigError {
    #[error("{present} is set but {missing} is not: sign-in with {provider} needs both")]
    Incomplete {
        provider: Provider,
        present: &'static str,
        missing: &'static str,
    },
    #[error(
        "sign-in with {0} is configured but {public} is not: set it to the URL browsers reach posture at (the provider sends them back to {public}/login/{1}/callback)",
        public = crate::web::config::PUBLIC_URL_VAR
    )]
    NoPublicUrl(Provider, &'static str),
    #[error("{0} must be an http or https URL, not `{1}`")]
    Url(&'static str, String),
    #[error("{0} must be github or gitlab, not `{1}`")]
    Forge(&'static str, String),
    #[error("cannot build the HTTP client of the sign-in providers")]
    HttpClient,
    #[error("{0} must name a claim (letters, digits, `_`, `-`, `.`, `:` or `/`), not `{1}`")]
    Claim(&'static str, String),
}

/// An OAuth application (GitHub App or GitLab application): its client id and secret, and
/// where it sends people back.
#[derive(Debug, Clone)]
pub struct OAuthApp {
    pub client_id: ClientId,
    pub client_secret: ClientSecret,
    /// `{POSTURE_PUBLIC_URL}/login/{provider}/callback`.
    pub redirect_url: Url,
}

/// Sign-in through a GitHub App's user authorisation.
#[derive(Debug, Clone)]
pub struct GitHubSettings {
    pub app: OAuthApp,
    /// `https://github.com` (authorize and token endpoints under `/login/oauth/`).
    pub web_url: Url,
    /// The REST API (`GET /user`).
    pub api_url: Url,
}

/// Sign-in through a GitLab application (scope `read_user`).
#[derive(Debug, Clone)]
pub struct GitLabSettings {
    pub app: OAuthApp,
    /// The instance, maybe under a path: `https://gitlab.example.com/gitlab`.
    pub url: Url,
}

/// Sign-in through an OpenID Connect provider.
#[derive(Debug, Clone)]
pub struct OidcSettings {
    pub app: OAuthApp,
    /// The issuer, exactly as the provider's discovery document and ID tokens spell it (a
    /// parsed URL would gain a trailing `/` and no longer match).
    pub issuer: String,
    /// Scopes asked for besides `openid`.
    pub scopes: Vec<String>,
    /// The claim listing the person's groups.
    pub groups_claim: String,
    /// The forge and the claim naming the person's login on it, when configured.
    pub forge_login: Option<(Forge, String)>,
}

/// The providers configured; none by default (then only the token form is offered).
#[derive(Debug, Clone, Default)]
pub struct SignInConfig {
    pub github: Option<GitHubSettings>,
    pub gitlab: Option<GitLabSettings>,
    pub oidc: Option<OidcSettings>,
}

impl SignInConfig {
    /// The providers of the process's environment, calling back to `public_url`.
    pub fn from_env(public_url: Option<&Url>) -> Result<SignInConfig, SignInConfigError> {
        SignInConfig::from_vars(|name| std::env::var(name).ok(), public_url)
    }

    /// The providers `var` configures (empty counts as unset), calling back to `public_url`.
    pub fn from_vars(
        var: impl Fn(&str) -> Option<String>,
        public_url: Option<&Url>,
    ) -> Result<SignInConfig, SignInConfigError> {
        let var = |name: &str| {
            var(name)
                .map(|value| value.trim().to_owned())
                .filter(|value| !value.is_empty())
        };
        let mut config = SignInConfig::default();
        if let Some(app) = app(
            &var,
            Provider::GitHub,
            GITHUB_CLIENT_ID_VAR,
            GITHUB_CLIENT_SECRET_VAR,
            public_url,
        )? {
            config.github = Some(GitHubSettings {
                app,
                web_url: url(&var, GITHUB_WEB_URL_VAR, DEFAULT_GITHUB_WEB_URL)?,
                api_url: url(
                    &var,
                    GITHUB_API_URL_VAR,
                    crate::forge::github::DEFAULT_API_URL,
                )?,
            });
        }
        if let Some(app) = app(
            &var,
            Provider::GitLab,
            GITLAB_CLIENT_ID_VAR,
            GITLAB_CLIENT_SECRET_VAR,
            public_url,
        )? {
            config.gitlab = Some(GitLabSettings {
                app,
                url: url(&var, GITLAB_URL_VAR, crate::forge::gitlab::DEFAULT_URL)?,
            });
        }
        let issuer = var(OIDC_ISSUER_VAR);
        let oidc_app = app(
            &var,
            Provider::Oidc,
            OIDC_CLIENT_ID_VAR,
            OIDC_CLIENT_SECRET_VAR,
            public_url,
        )?;
        match (issuer, oidc_app) {
            (None, None) => {}
            (Some(_), None) => {
                return Err(SignInConfigError::Incomplete {
                    provider: Provider::Oidc,
                    present: OIDC_ISSUER_VAR,
                    missing: OIDC_CLIENT_ID_VAR,
                });
            }
            (None, Some(_)) => {
                return Err(SignInConfigError::Incomplete {
                    provider: Provider::Oidc,
                    present: OIDC_CLIENT_ID_VAR,
                    missing: OIDC_ISSUER_VAR,
                });
            }
            (Some(issuer), Some(app)) => {
                parse_url(OIDC_ISSUER_VAR, &issuer)?;
                let groups_claim = claim(
                    OIDC_GROUPS_CLAIM_VAR,
                    var(OIDC_GROUPS_CLAIM_VAR)
                        .unwrap_or_else(|| DEFAULT_OIDC_GROUPS_CLAIM.to_owned()),
                )?;
                let scopes = var(OIDC_SCOPES_VAR)
                    .unwrap_or_else(|| DEFAULT_OIDC_SCOPES.to_owned())
                    .split([' ', ','])
                    .filter(|scope| !scope.is_empty() && *scope != "openid")
                    .map(str::to_owned)
                    .collect();
                let forge_login = match (var(OIDC_FORGE_VAR), var(OIDC_FORGE_LOGIN_CLAIM_VAR)) {
                    (None, None) => None,
                    (Some(_), None) => {
                        return Err(SignInConfigError::Incomplete {
                            provider: Provider::Oidc,
                            present: OIDC_FORGE_VAR,
                            missing: OIDC_FORGE_LOGIN_CLAIM_VAR,
                        });
                    }
                    (None, Some(_)) => {
                        return Err(SignInConfigError::Incomplete {
                            provider: Provider::Oidc,
                            present: OIDC_FORGE_LOGIN_CLAIM_VAR,
                            missing: OIDC_FORGE_VAR,
                        });
                    }
                    (Some(forge), Some(login)) => {
                        let forge = match forge.to_ascii_lowercase().as_str() {
                            "github" => Forge::GitHub,
                            "gitlab" => Forge::GitLab,
                            _ => return Err(SignInConfigError::Forge(OIDC_FORGE_VAR, forge)),
                        };
                        Some((forge, claim(OIDC_FORGE_LOGIN_CLAIM_VAR, login)?))
                    }
                };
                config.oidc = Some(OidcSettings {
                    app,
                    issuer,
                    scopes,
                    groups_claim,
                    forge_login,
                });
            }
        }
        Ok(config)
    }

    /// The configured providers, in the order the sign-in page offers them.
    pub fn providers(&self) -> Vec<Provider> {
        let mut providers = Vec::new();
        if self.github.is_some() {
            providers.push(Provider::GitHub);
        }
        if self.gitlab.is_some() {
            providers.push(Provider::GitLab);
        }
        if self.oidc.is_some() {
            providers.push(Provider::Oidc);
        }
        providers
    }
}

/// The OAuth application of `provider`: both variables or neither, and a public URL.
fn app(
    var: &impl Fn(&str) -> Option<String>,
    provider: Provider,
    id_var: &'static str,
    secret_var: &'static str,
    public_url: Option<&Url>,
) -> Result<Option<OAuthApp>, SignInConfigError> {
    let (id, secret) = match (var(id_var), var(secret_var)) {
        (None, None) => return Ok(None),
        (Some(id), Some(secret)) => (id, secret),
        (Some(_), None) => {
            return Err(SignInConfigError::Incomplete {
                provider,
                present: id_var,
                missing: secret_var,
            });
        }
        (None, Some(_)) => {
            return Err(SignInConfigError::Incomplete {
                provider,
                present: secret_var,
                missing: id_var,
            });
        }
    };
    let Some(public_url) = public_url else {
        return Err(SignInConfigError::NoPublicUrl(provider, provider.as_str()));
    };
    let redirect = format!(
        "{}/login/{}/callback",
        public_url.as_str().trim_end_matches('/'),
        provider.as_str()
    );
    let redirect_url = Url::parse(&redirect).map_err(|_| {
        SignInConfigError::Url(crate::web::config::PUBLIC_URL_VAR, public_url.to_string())
    })?;
    Ok(Some(OAuthApp {
        client_id: ClientId::new(id),
        client_secret: ClientSecret::new(secret),
        redirect_url,
    }))
}

fn url(
    var: &impl Fn(&str) -> Option<String>,
    name: &'static str,
    default: &str,
) -> Result<Url, SignInConfigError> {
    parse_url(name, &var(name).unwrap_or_else(|| default.to_owned()))
}

fn parse_url(name: &'static str, value: &str) -> Result<Url, SignInConfigError> {
    Url::parse(value)
        .ok()
        .filter(|url| matches!(url.scheme(), "http" | "https") && url.host_str().is_some())
        .ok_or_else(|| SignInConfigError::Url(name, value.to_owned()))
}

fn claim(name: &'static str, value: String) -> Result<String, SignInConfigError> {
    let usable = value.len() <= 200
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-.:/".contains(c));
    if usable {
        Ok(value)
    } else {
        Err(SignInConfigError::Claim(name, value))
    }
}

/// `base` with `path` (which starts with `/`) appended to its own path: GitLab and GitHub
/// Enterprise may live under a path (`https://example.com/gitlab`).
pub fn join(base: &Url, path: &str) -> String {
    format!("{}{path}", base.as_str().trim_end_matches('/'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(
        vars: &[(&str, &str)],
        public: Option<&str>,
    ) -> Result<SignInConfig, SignInConfigError> {
        let public = public.map(|url| Url::parse(url).unwrap());
        SignInConfig::from_vars(
            |name| {
                vars.iter()
                    .find(|(var, _)| *var == name)
                    .map(|(_, value)| (*value).to_owned())
            },
            public.as_ref(),
        )
    }

    #[test]
    fn nothing_configured_offers_no_provider() {
        let none = config(&[], None).unwrap();
        assert!(none.providers().is_empty());
    }

    #[test]
    fn each_provider_needs_both_halves_and_a_public_url() {
        let github = config(
            &[
                (GITHUB_CLIENT_ID_VAR, "Iv1.abc"),
                (GITHUB_CLIENT_SECRET_VAR, "shh-github"),
            ],
            Some("https://posture.example.com/"),
        )
        .unwrap();
        let settings = github.github.as_ref().unwrap();
        assert_eq!(
            settings.app.redirect_url.as_str(),
            "https://posture.example.com/login/github/callback"
        );
        assert_eq!(settings.web_url.as_str(), "https://github.com/");
        assert_eq!(settings.api_url.as_str(), "https://api.github.com/");
        assert_eq!(github.providers(), [Provider::GitHub]);
        assert!(!format!("{github:?}").contains("shh-github"));

        let half = config(&[(GITLAB_CLIENT_ID_VAR, "app")], Some("https://p.example"))
            .unwrap_err()
            .to_string();
        assert!(
            half.contains(GITLAB_CLIENT_ID_VAR) && half.contains(GITLAB_CLIENT_SECRET_VAR),
            "{half}"
        );
        let secret_only = config(
            &[(OIDC_CLIENT_SECRET_VAR, "shh-oidc")],
            Some("https://p.example"),
        )
        .unwrap_err()
        .to_string();
        assert!(
            secret_only.contains(OIDC_CLIENT_ID_VAR) && !secret_only.contains("shh-oidc"),
            "{secret_only}"
        );

        let no_public = config(
            &[
                (GITLAB_CLIENT_ID_VAR, "app"),
                (GITLAB_CLIENT_SECRET_VAR, "shh"),
            ],
            None,
        )
        .unwrap_err()
        .to_string();
        assert!(
            no_public.contains("POSTURE_PUBLIC_URL")
                && no_public.contains("/login/gitlab/callback"),
            "{no_public}"
        );
    }

    #[test]
    fn oidc_settings_parse_and_mistakes_are_named() {
        let base = [
            (OIDC_ISSUER_VAR, "https://id.example.com/realms/acme"),
            (OIDC_CLIENT_ID_VAR, "posture"),
            (OIDC_CLIENT_SECRET_VAR, "shh"),
        ];
        let oidc = config(&base, Some("http://127.0.0.1:8080")).unwrap();
        let settings = oidc.oidc.unwrap();
        assert_eq!(settings.groups_claim, "groups");
        assert_eq!(settings.scopes, ["profile", "email"]);
        assert_eq!(settings.forge_login, None);
        assert_eq!(
            settings.app.redirect_url.as_str(),
            "http://127.0.0.1:8080/login/oidc/callback"
        );

        let with = |more: &[(&'static str, &'static str)]| {
            let mut vars = base.to_vec();
            vars.extend_from_slice(more);
            config(&vars, Some("https://p.example"))
        };
        let forge = with(&[
            (OIDC_FORGE_VAR, "GitHub"),
            (OIDC_FORGE_LOGIN_CLAIM_VAR, "preferred_username"),
            (OIDC_SCOPES_VAR, "openid profile groups"),
            (OIDC_GROUPS_CLAIM_VAR, "roles"),
        ])
        .unwrap()
        .oidc
        .unwrap();
        assert_eq!(
            forge.forge_login,
            Some((Forge::GitHub, "preferred_username".to_owned()))
        );
        assert_eq!(forge.scopes, ["profile", "groups"]);
        assert_eq!(forge.groups_claim, "roles");
        assert!(matches!(
            with(&[
                (OIDC_FORGE_VAR, "bitbucket"),
                (OIDC_FORGE_LOGIN_CLAIM_VAR, "x")
            ]),
            Err(SignInConfigError::Forge(OIDC_FORGE_VAR, _))
        ));
        assert!(matches!(
            with(&[(OIDC_FORGE_VAR, "github")]),
            Err(SignInConfigError::Incomplete {
                missing: OIDC_FORGE_LOGIN_CLAIM_VAR,
                ..
            })
        ));
        assert!(matches!(
            with(&[(OIDC_GROUPS_CLAIM_VAR, "groups; drop")]),
            Err(SignInConfigError::Claim(OIDC_GROUPS_CLAIM_VAR, _))
        ));
        assert!(matches!(
            config(
                &[
                    (OIDC_ISSUER_VAR, "id.example.com"),
                    (OIDC_CLIENT_ID_VAR, "p"),
                    (OIDC_CLIENT_SECRET_VAR, "s")
                ],
                Some("https://p.example")
            ),
            Err(SignInConfigError::Url(OIDC_ISSUER_VAR, _))
        ));
        assert!(matches!(
            config(
                &[(OIDC_ISSUER_VAR, "https://id.example.com")],
                Some("https://p.example")
            ),
            Err(SignInConfigError::Incomplete {
                missing: OIDC_CLIENT_ID_VAR,
                ..
            })
        ));
    }

    #[test]
    fn paths_are_joined_under_the_base_path() {
        let base = Url::parse("https://example.com/gitlab/").unwrap();
        assert_eq!(
            join(&base, "/oauth/token"),
            "https://example.com/gitlab/oauth/token"
        );
        let root = Url::parse("https://gitlab.com").unwrap();
        assert_eq!(
            join(&root, "/api/v4/user"),
            "https://gitlab.com/api/v4/user"
        );
    }
}
