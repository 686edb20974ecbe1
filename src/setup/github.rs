//! GitHub's side of the manifest flow: the manifest posture asks GitHub to create (built from
//! `deploy/github/app-manifest.json` and the server's public URL), where the browser posts it,
//! and the exchange of the code GitHub hands back for the App's credentials
//! (`POST /app-manifests/{code}/conversions`).
//!
//! The conversion's secrets (private key, webhook secret) are held only in types whose
//! `Debug` redacts them; the client id and client secret are not even read. Errors never
//! quote the code, GitHub's answer, or a secret.

use std::fmt;
use std::time::Duration;

use http::header;
use octocrab::secrecy::SecretString;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde::Deserialize;
use serde_json::Value;

/// The manifest shipped with posture; `url`, `hook_attributes.url`, `redirect_url` and
/// `callback_urls` (where sign-in through the App comes back, [`crate::web::signin`]) are
/// replaced with the server's own.
const MANIFEST: &str = include_str!("../../deploy/github/app-manifest.json");

/// The most of GitHub's answer read (a conversion is a few KB).
const MAX_ANSWER_BYTES: usize = 1024 * 1024;
/// Bound on the conversion request, answer included.
pub const CONVERSION_TIMEOUT: Duration = Duration::from_secs(30);
/// The longest code accepted (GitHub's are 20 hex digits).
const MAX_CODE_LEN: usize = 256;
/// The longest GitHub login (user or organization).
const MAX_LOGIN_LEN: usize = 39;

/// The path under the public URL where GitHub sends webhooks.
pub const WEBHOOK_PATH: &str = "/webhooks/github";
/// The path under the public URL where GitHub sends the person back with the code.
pub const CALLBACK_PATH: &str = "/setup/github/callback";
/// The path under the public URL where GitHub sends a person back from signing in.
pub const SIGN_IN_CALLBACK_PATH: &str = "/login/github/callback";

/// The manifest for a server reachable at `public_url` (no trailing slash), as JSON.
pub fn manifest(public_url: &str) -> Result<Value, serde_json::Error> {
    let mut manifest: Value = serde_json::from_str(MANIFEST)?;
    if let Some(object) = manifest.as_object_mut() {
        object.insert("url".to_owned(), Value::from(public_url));
        object.insert(
            "redirect_url".to_owned(),
            Value::from(format!("{public_url}{CALLBACK_PATH}")),
        );
        object.insert(
            "callback_urls".to_owned(),
            Value::from(vec![format!("{public_url}{SIGN_IN_CALLBACK_PATH}")]),
        );
        let hook = object
            .entry("hook_attributes")
            .or_insert_with(|| Value::Object(Default::default()));
        if !hook.is_object() {
            *hook = Value::Object(Default::default());
        }
        if let Some(hook) = hook.as_object_mut() {
            hook.insert(
                "url".to_owned(),
                Value::from(format!("{public_url}{WEBHOOK_PATH}")),
            );
        }
    }
    Ok(manifest)
}

/// GitHub's web URL for an API URL: `https://HOST` for GitHub Enterprise Server's
/// `https://HOST/api/v3`, github.com otherwise.
pub fn web_url(api_url: &str) -> String {
    let api_url = api_url.trim().trim_end_matches('/');
    match api_url.strip_suffix("/api/v3") {
        Some(base) if !base.is_empty() => base.to_owned(),
        _ => "https://github.com".to_owned(),
    }
}

/// Where the form posts: the person's new-App page, or an organization's.
pub fn new_app_url(web_url: &str, org: Option<&str>, state: &str) -> String {
    match org {
        Some(org) => format!(
            "{web_url}/organizations/{}/settings/apps/new?state={}",
            encode(org),
            encode(state)
        ),
        None => format!("{web_url}/settings/apps/new?state={}", encode(state)),
    }
}

/// Whether `name` can be a GitHub organization's login: letters, digits and single inner
/// hyphens, at most 39 characters.
pub fn valid_login(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_LOGIN_LEN
        && !name.starts_with('-')
        && !name.ends_with('-')
        && !name.contains("--")
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

/// Whether `code` looks like a manifest code (letters, digits, `-`, `_`).
pub fn valid_code(code: &str) -> bool {
    !code.is_empty()
        && code.len() <= MAX_CODE_LEN
        && code
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Left as they are in a path segment or query value (RFC 3986 unreserved); everything else
/// is percent-encoded.
const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

fn encode(value: &str) -> String {
    utf8_percent_encode(value, UNRESERVED).to_string()
}

/// What the conversion gives posture: the App and its two secrets.
#[derive(Deserialize)]
pub struct Conversion {
    pub id: u64,
    pub slug: String,
    pub name: String,
    pub html_url: String,
    #[serde(default)]
    pub owner: Option<Owner>,
    #[serde(deserialize_with = "secret")]
    pem: SecretString,
    #[serde(default, deserialize_with = "optional_secret")]
    webhook_secret: Option<SecretString>,
}

fn secret<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<SecretString, D::Error> {
    String::deserialize(deserializer).map(SecretString::from)
}

fn optional_secret<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<SecretString>, D::Error> {
    Option::<String>::deserialize(deserializer).map(|value| value.map(SecretString::from))
}

#[derive(Debug, Deserialize)]
pub struct Owner {
    pub login: String,
}

impl fmt::Debug for Conversion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Conversion")
            .field("id", &self.id)
            .field("slug", &self.slug)
            .field("name", &self.name)
            .field("html_url", &self.html_url)
            .field("owner", &self.owner)
            .finish_non_exhaustive()
    }
}

impl Conversion {
    /// The App's private key (PEM).
    pub fn pem(&self) -> &SecretString {
        &self.pem
    }

    /// The webhook secret GitHub generated; `None` if it made none.
    pub fn webhook_secret(&self) -> Option<&SecretString> {
        self.webhook_secret.as_ref()
    }
}

/// Why the code was not exchanged. The messages quote neither the code nor a secret.
#[derive(Debug, thiserror::Error)]
pub enum ConversionError {
    #[error("cannot reach GitHub at {api_url}: {message}")]
    Transport { api_url: String, message: String },
    #[error(
        "GitHub does not know this code: it was already used, or it is more than an hour old. Open the setup link again."
    )]
    UnknownCode,
    #[error("GitHub refused to create the App ({status}): {message}")]
    Refused { status: u16, message: String },
    #[error("GitHub's answer is not the documented conversion ({detail})")]
    Protocol { detail: String },
}

/// `POST {api_url}/app-manifests/{code}/conversions` (no authentication: the code is the
/// credential).
pub async fn convert(
    http: &reqwest::Client,
    api_url: &str,
    code: &str,
) -> Result<Conversion, ConversionError> {
    let transport = |error: reqwest::Error| {
        // The request URL holds the code: never shown.
        let error = error.without_url();
        let mut message = error.to_string();
        if let Some(source) = std::error::Error::source(&error) {
            message = format!("{message}: {source}");
        }
        ConversionError::Transport {
            api_url: api_url.to_owned(),
            message,
        }
    };
    let url = format!("{api_url}/app-manifests/{}/conversions", encode(code));
    let mut response = http
        .post(url)
        .header(header::ACCEPT, "application/vnd.github+json")
        .header("X-GitHub-Api-Version", "2022-11-28")
        .send()
        .await
        .map_err(transport)?;
    let status = response.status();
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(transport)? {
        body.extend_from_slice(&chunk);
        if body.len() > MAX_ANSWER_BYTES {
            return Err(ConversionError::Protocol {
                detail: format!("an answer over {MAX_ANSWER_BYTES} bytes"),
            });
        }
    }
    if status == reqwest::StatusCode::NOT_FOUND {
        return Err(ConversionError::UnknownCode);
    }
    if !status.is_success() {
        return Err(ConversionError::Refused {
            status: status.as_u16(),
            message: error_message(&body),
        });
    }
    let deserializer = &mut serde_json::Deserializer::from_slice(&body);
    // Only the path of a bad field is reported: serde's message may quote the value.
    let conversion: Conversion =
        serde_path_to_error::deserialize(deserializer).map_err(|error| {
            ConversionError::Protocol {
                detail: match error.path().to_string().as_str() {
                    "." | "" => "not a JSON object".to_owned(),
                    path => format!("at `{path}`"),
                },
            }
        })?;
    Ok(conversion)
}

/// GitHub's `message` from an error answer, cut short; never the raw body.
fn error_message(body: &[u8]) -> String {
    #[derive(Deserialize)]
    struct ErrorBody {
        message: Option<String>,
    }
    serde_json::from_slice::<ErrorBody>(body)
        .ok()
        .and_then(|body| body.message)
        .map(|message| message.chars().take(300).collect())
        .unwrap_or_else(|| "no message".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_manifest_points_at_this_server_and_keeps_the_rest() {
        let shipped: Value = serde_json::from_str(MANIFEST).unwrap();
        let manifest = manifest("https://posture.example.org/base").unwrap();
        assert_eq!(manifest["url"], "https://posture.example.org/base");
        assert_eq!(
            manifest["hook_attributes"]["url"],
            "https://posture.example.org/base/webhooks/github"
        );
        assert_eq!(manifest["hook_attributes"]["active"], true);
        assert_eq!(
            manifest["redirect_url"],
            "https://posture.example.org/base/setup/github/callback"
        );
        assert_eq!(
            manifest["callback_urls"],
            serde_json::json!(["https://posture.example.org/base/login/github/callback"])
        );
        assert_eq!(manifest["request_oauth_on_install"], false);
        for field in [
            "name",
            "description",
            "public",
            "default_permissions",
            "default_events",
        ] {
            assert_eq!(manifest[field], shipped[field], "{field}");
        }
    }

    #[test]
    fn web_urls_follow_the_api_url() {
        assert_eq!(web_url("https://api.github.com"), "https://github.com");
        assert_eq!(
            web_url("https://ghe.example.com/api/v3/"),
            "https://ghe.example.com"
        );
        assert_eq!(web_url("http://127.0.0.1:4000"), "https://github.com");
        assert_eq!(
            new_app_url("https://github.com", Some("acme-corp"), "v1.1.ab.cd"),
            "https://github.com/organizations/acme-corp/settings/apps/new?state=v1.1.ab.cd"
        );
    }

    #[test]
    fn logins_and_codes_are_checked() {
        for good in ["acme", "acme-corp", "a", "A1-b2"] {
            assert!(valid_login(good), "{good}");
        }
        for bad in [
            "",
            "-acme",
            "acme-",
            "ac--me",
            "acme/x",
            "a b",
            &"a".repeat(40),
        ] {
            assert!(!valid_login(bad), "{bad}");
        }
        assert!(valid_code("a180b1a3d263c81bc6e9"));
        for bad in ["", "../x", "a b", "a%2F", &"a".repeat(257)] {
            assert!(!valid_code(bad), "{bad}");
        }
    }

    #[test]
    fn debug_shows_no_secret() {
        let conversion: Conversion = serde_json::from_value(serde_json::json!({
            "id": 1, "slug": "s", "name": "n", "html_url": "https://github.com/apps/s",
            "pem": "-----BEGIN RSA PRIVATE KEY-----", "webhook_secret": "hook-secret",
            "client_secret": "client-secret"
        }))
        .unwrap();
        let debug = format!("{conversion:?}");
        for secret in ["PRIVATE", "hook-secret", "client-secret"] {
            assert!(!debug.contains(secret), "{debug}");
        }
    }
}
