//! The edges alerts leave by: a signed webhook (CloudEvents 1.0 envelope, Standard Webhooks
//! signature), a Slack incoming webhook (Block Kit), Splunk's HTTP Event Collector, and a
//! JSON-lines file rotated by size.
//!
//! A [`Sink`] is a sink of the settings file with its secrets read from the environment.
//! Errors it returns are safe to store and log: they never hold a URL (Slack's holds its
//! secret), a token or a signing secret.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

use super::digest::Digest;
use super::event::AlertEvent;
use super::format::{Format, PRODUCT_VERSION};
use super::rules::{SinkConfig, SinkType};
use crate::store::SinkKey;

/// Slack accepts at most this many blocks per message.
pub const SLACK_MAX_BLOCKS: usize = 50;
/// Default size at which a file sink rotates.
pub const FILE_MAX_BYTES: u64 = 100 * 1024 * 1024;
/// Default number of rotated files kept.
pub const FILE_KEEP: u32 = 5;
/// How long one HTTP delivery may take.
const HTTP_TIMEOUT: Duration = Duration::from_secs(10);

/// A message to send: one event or a group, worst first, or a digest.
#[derive(Debug, Clone, PartialEq)]
pub struct Outgoing {
    /// Stable across retries: receivers de-duplicate on it (`webhook-id`, CloudEvents `id`).
    pub uid: String,
    pub rule: String,
    pub events: Vec<AlertEvent>,
    pub digest: Option<Box<Digest>>,
}

/// A sink that cannot be built from the settings and the environment.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SinkError {
    /// The settings name a variable that is not set (the name only, never a value).
    #[error("sink {sink}: {variable} is not set")]
    MissingVariable { sink: String, variable: String },
    #[error("sink {sink}: {message}")]
    Invalid { sink: String, message: String },
}

/// Where a sink sends, with its secrets.
#[derive(Clone)]
enum Target {
    Webhook {
        url: String,
        secret: Option<Vec<u8>>,
        source: String,
    },
    Slack {
        url: String,
    },
    SplunkHec {
        url: String,
        token: String,
    },
    File {
        path: PathBuf,
        max_bytes: u64,
        keep: u32,
    },
}

/// A configured sink, ready to send.
#[derive(Clone)]
pub struct Sink {
    pub key: SinkKey,
    pub format: Format,
    pub sink_type: SinkType,
    target: Target,
}

impl std::fmt::Debug for Sink {
    /// Names the sink, never its URL or secrets.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sink")
            .field("key", &self.key)
            .field("type", &self.sink_type.as_str())
            .field("format", &self.format)
            .finish()
    }
}

impl Sink {
    /// Builds org's sink from its settings, reading secrets with `env` (the process
    /// environment, in production). `public_url` makes the CloudEvents `source`.
    pub fn resolve(
        org: &str,
        config: &SinkConfig,
        env: &dyn Fn(&str) -> Option<String>,
        public_url: Option<&str>,
    ) -> Result<Sink, SinkError> {
        let name = config.name().to_owned();
        let key = SinkKey {
            org: org.to_owned(),
            sink: name.clone(),
        };
        let read = |variable: &str| {
            env(variable)
                .filter(|value| !value.is_empty())
                .ok_or_else(|| SinkError::MissingVariable {
                    sink: key.to_string(),
                    variable: variable.to_owned(),
                })
        };
        let url = || -> Result<String, SinkError> {
            let endpoint = config.endpoint().ok_or_else(|| SinkError::Invalid {
                sink: key.to_string(),
                message: "no URL".into(),
            })?;
            match (endpoint.url, endpoint.url_env) {
                (Some(url), _) => Ok(url.to_owned()),
                (None, Some(variable)) => {
                    let url = read(variable)?;
                    match url::Url::parse(&url) {
                        Ok(parsed) if matches!(parsed.scheme(), "http" | "https") => Ok(url),
                        _ => Err(SinkError::Invalid {
                            sink: key.to_string(),
                            message: format!("{variable} does not hold an http(s) URL"),
                        }),
                    }
                }
                (None, None) => Err(SinkError::Invalid {
                    sink: key.to_string(),
                    message: "no URL".into(),
                }),
            }
        };
        let target = match config {
            SinkConfig::Webhook { secret_env, .. } => Target::Webhook {
                url: url()?,
                secret: secret_env
                    .as_deref()
                    .map(|variable| {
                        let text = read(variable)?;
                        signing_key(&text).ok_or_else(|| SinkError::Invalid {
                            sink: key.to_string(),
                            message: format!(
                                "{variable} starts with whsec_ but the rest is not base64"
                            ),
                        })
                    })
                    .transpose()?,
                source: match public_url {
                    Some(base) => format!("{}/orgs/{org}", base.trim_end_matches('/')),
                    None => format!("urn:posture:org:{org}"),
                },
            },
            SinkConfig::Slack { .. } => Target::Slack { url: url()? },
            SinkConfig::SplunkHec { token_env, .. } => Target::SplunkHec {
                url: url()?,
                token: read(token_env)?,
            },
            SinkConfig::File {
                path,
                max_bytes,
                keep,
                ..
            } => Target::File {
                path: path.clone(),
                max_bytes: max_bytes.unwrap_or(FILE_MAX_BYTES).max(1),
                keep: keep.unwrap_or(FILE_KEEP),
            },
        };
        Ok(Sink {
            key,
            format: config.format(),
            sink_type: config.sink_type(),
            target,
        })
    }

    /// How many messages one send carries: Splunk and files take batches, webhooks and chat
    /// one message per request.
    pub fn batch(&self) -> usize {
        match self.target {
            Target::SplunkHec { .. } => 50,
            Target::File { .. } => 100,
            Target::Webhook { .. } | Target::Slack { .. } => 1,
        }
    }

    /// The least time between two sends, across replicas (Slack: one message a second).
    pub fn min_interval(&self) -> Option<Duration> {
        matches!(self.target, Target::Slack { .. }).then_some(Duration::from_secs(1))
    }

    /// Sends the messages (as many as [`Sink::batch`]); the error is safe to log.
    pub async fn send(
        &self,
        client: &reqwest::Client,
        messages: &[Outgoing],
        now: DateTime<Utc>,
    ) -> Result<(), String> {
        match &self.target {
            Target::Webhook {
                url,
                secret,
                source,
            } => {
                for message in messages {
                    let body = cloudevent(message, source, self.format, now).to_string();
                    let mut request = client
                        .post(url)
                        .timeout(HTTP_TIMEOUT)
                        .header("content-type", "application/cloudevents+json")
                        .header("webhook-id", &message.uid)
                        .header("webhook-timestamp", now.timestamp().to_string());
                    if let Some(secret) = secret {
                        request = request.header(
                            "webhook-signature",
                            sign(secret, &message.uid, now.timestamp(), &body),
                        );
                    }
                    check(request.body(body).send().await, &[url]).await?;
                }
                Ok(())
            }
            Target::Slack { url } => {
                for message in messages {
                    let body = slack_message(message).to_string();
                    let request = client
                        .post(url)
                        .timeout(HTTP_TIMEOUT)
                        .header("content-type", "application/json")
                        .body(body);
                    check(request.send().await, &[url]).await?;
                }
                Ok(())
            }
            Target::SplunkHec { url, token } => {
                let body = splunk_batch(messages, self.format);
                let request = client
                    .post(url)
                    .timeout(HTTP_TIMEOUT)
                    .header("authorization", format!("Splunk {token}"))
                    .header("content-type", "application/json")
                    .body(body);
                check(request.send().await, &[token]).await
            }
            Target::File {
                path,
                max_bytes,
                keep,
            } => {
                let mut lines = String::new();
                for digest in messages
                    .iter()
                    .filter_map(|message| message.digest.as_ref())
                {
                    lines.push_str(&digest.to_json().to_string());
                    lines.push('\n');
                }
                for event in messages.iter().flat_map(|message| &message.events) {
                    lines.push_str(&self.format.render(event).to_string());
                    lines.push('\n');
                }
                let (path, max_bytes, keep) = (path.clone(), *max_bytes, *keep);
                tokio::task::spawn_blocking(move || append_rotating(&path, &lines, max_bytes, keep))
                    .await
                    .map_err(|e| format!("file sink task failed: {e}"))?
            }
        }
    }
}

/// The bytes a Standard Webhooks secret stands for: `whsec_<base64>` decoded, anything
/// else as UTF-8. `None` for a `whsec_` secret that is not base64.
pub fn signing_key(secret: &str) -> Option<Vec<u8>> {
    match secret.strip_prefix("whsec_") {
        Some(encoded) => BASE64.decode(encoded).ok(),
        None => Some(secret.as_bytes().to_vec()),
    }
}

/// `v1,<base64 HMAC-SHA256 of id.timestamp.body>` (Standard Webhooks).
pub fn sign(key: &[u8], id: &str, timestamp: i64, body: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(format!("{id}.{timestamp}.{body}").as_bytes());
    format!("v1,{}", BASE64.encode(mac.finalize().into_bytes()))
}

/// The CloudEvents 1.0 structured envelope of a message; its `data` lists the events in the
/// sink's format, worst first.
pub fn cloudevent(message: &Outgoing, source: &str, format: Format, now: DateTime<Utc>) -> Value {
    // `time` is when it happened (the newest event), the same on every retry.
    let time = message
        .events
        .iter()
        .map(|event| event.at)
        .max()
        .or_else(|| message.digest.as_ref().map(|digest| digest.summary.to))
        .unwrap_or(now)
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    if let Some(digest) = &message.digest {
        return json!({
            "specversion": "1.0",
            "id": message.uid,
            "source": source,
            "type": "dev.posture.org.digest",
            "subject": digest.org,
            "time": time,
            "datacontenttype": "application/json",
            "data": digest.to_json(),
        });
    }
    let first = message.events.first();
    let same_kind = first.filter(|first| message.events.iter().all(|e| e.kind == first.kind));
    let event_type = match same_kind {
        Some(event) => format!("dev.posture.{}", event.kind.as_str()),
        None => "dev.posture.alert.group".to_owned(),
    };
    let repositories: std::collections::BTreeSet<&str> = message
        .events
        .iter()
        .map(|e| e.repository.as_str())
        .collect();
    let mut envelope = json!({
        "specversion": "1.0",
        "id": message.uid,
        "source": source,
        "type": event_type,
        "time": now.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        "datacontenttype": "application/json",
        "data": {
            "rule": message.rule,
            "format": format.as_str(),
            "count": message.events.len(),
            "events": message.events.iter().map(|e| format.render(e)).collect::<Vec<_>>(),
        },
    });
    if let ([repository], Some(envelope)) = (
        repositories.into_iter().collect::<Vec<_>>().as_slice(),
        envelope.as_object_mut(),
    ) {
        envelope.insert("subject".into(), Value::from(*repository));
    }
    envelope
}

/// A Slack Block Kit message: a header, one section per event (worst first), and a context
/// line saying how many did not fit in Slack's 50 blocks.
pub fn slack_message(message: &Outgoing) -> Value {
    if let Some(digest) = &message.digest {
        return digest.slack();
    }
    let events = &message.events;
    let headline = match events.as_slice() {
        [one] => one.headline(),
        many => {
            let repositories: std::collections::BTreeSet<&str> =
                many.iter().map(|e| e.repository.as_str()).collect();
            let place = if repositories.len() == 1 {
                repositories
                    .into_iter()
                    .next()
                    .unwrap_or_default()
                    .to_owned()
            } else {
                format!("{} repositories", repositories.len())
            };
            format!("{} events in {place} ({})", many.len(), message.rule)
        }
    };
    let header: String = format!("posture: {headline}").chars().take(150).collect();
    let mut blocks = vec![json!({
        "type": "header",
        "text": {"type": "plain_text", "text": header},
    })];
    // Room for the header and the closing context line.
    let room = SLACK_MAX_BLOCKS - 2;
    for event in events.iter().take(room) {
        blocks.push(json!({
            "type": "section",
            "text": {"type": "mrkdwn", "text": slack_line(event)},
        }));
    }
    let left_out = events.len().saturating_sub(room);
    let mut context = format!("rule `{}`", slack_escape(&message.rule));
    if left_out > 0 {
        context = format!("…and {left_out} more · {context}");
    }
    if let Some(dashboard) = events.iter().find_map(|e| e.links.dashboard.as_deref()) {
        context.push_str(&format!(" · <{}|dashboard>", slack_escape(dashboard)));
    }
    blocks.push(json!({
        "type": "context",
        "elements": [{"type": "mrkdwn", "text": context}],
    }));
    json!({"text": header, "blocks": blocks})
}

fn slack_line(event: &AlertEvent) -> String {
    let finding = &event.finding;
    let title = slack_escape(&finding.title);
    let title = match &event.links.finding {
        Some(link) => format!("<{}|{title}>", slack_escape(link)),
        None => title,
    };
    let mut line = format!(
        "*{}* {} · {} · {title}",
        finding.severity.as_str(),
        finding.kind.as_str(),
        event.kind.log_name().replace('_', " "),
    );
    if let Some(path) = &finding.path {
        match finding.line {
            Some(n) => line.push_str(&format!(" · `{}:{n}`", slack_escape(path))),
            None => line.push_str(&format!(" · `{}`", slack_escape(path))),
        }
    }
    if let Some(package) = &finding.package {
        line.push_str(&format!(" · {}", slack_escape(&package.name)));
        if let Some(fixed) = &package.fixed_in {
            line.push_str(&format!(" → {}", slack_escape(fixed)));
        }
    }
    if let Some(score) = finding.risk_score {
        line.push_str(&format!(" · risk {score}/100"));
    }
    if finding.kev {
        line.push_str(" · *KEV*");
    }
    if let Some(actor) = &event.actor {
        line.push_str(&format!(" · by {}", slack_escape(actor)));
    }
    line.push_str(&format!(
        " · {} `{}`",
        slack_escape(&event.repository),
        finding.short_id
    ));
    line.chars().take(3000).collect()
}

/// Slack's mrkdwn escapes: `&`, `<` and `>`.
fn slack_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// HEC's batch body: one event object per alert event, concatenated.
pub fn splunk_batch(messages: &[Outgoing], format: Format) -> String {
    let sourcetype = match format {
        Format::Ocsf => "posture:ocsf",
        Format::Ecs => "posture:ecs",
        Format::Posture => "posture:alert",
    };
    let mut body = String::new();
    for digest in messages
        .iter()
        .filter_map(|message| message.digest.as_ref())
    {
        let entry = json!({
            "time": Utc::now().timestamp_millis() as f64 / 1000.0,
            "source": "posture",
            "sourcetype": "posture:digest",
            "event": digest.to_json(),
        });
        body.push_str(&entry.to_string());
        body.push('\n');
    }
    for event in messages.iter().flat_map(|message| &message.events) {
        let entry = json!({
            "time": event.at.timestamp_millis() as f64 / 1000.0,
            "source": "posture",
            "sourcetype": sourcetype,
            "event": format.render(event),
        });
        body.push_str(&entry.to_string());
        body.push('\n');
    }
    body
}

/// A 2xx is delivered; anything else is an error naming the status and the start of the
/// answer, with `secrets` blotted out; transport errors lose their URL.
async fn check(
    sent: Result<reqwest::Response, reqwest::Error>,
    secrets: &[&String],
) -> Result<(), String> {
    let response = sent.map_err(|error| {
        let error = error.without_url();
        let mut message = format!("request failed: {error}");
        let mut source = std::error::Error::source(&error);
        while let Some(cause) = source {
            message.push_str(&format!(": {cause}"));
            source = cause.source();
        }
        scrub(message, secrets)
    })?;
    let status = response.status();
    if status.is_success() {
        return Ok(());
    }
    let body = response.text().await.unwrap_or_default();
    let body: String = body.chars().take(200).collect();
    Err(scrub(format!("HTTP {status}: {}", body.trim()), secrets))
}

fn scrub(mut text: String, secrets: &[&String]) -> String {
    for secret in secrets {
        if !secret.is_empty() {
            text = text.replace(secret.as_str(), "***");
        }
    }
    text
}

/// Appends `lines` to `path`, first rotating it (`path.1` … `path.keep`) when they would
/// take it past `max_bytes`.
fn append_rotating(path: &Path, lines: &str, max_bytes: u64, keep: u32) -> Result<(), String> {
    let describe =
        |what: &str, error: std::io::Error| format!("{what} {}: {error}", path.display());
    let size = match std::fs::metadata(path) {
        Ok(metadata) => metadata.len(),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => 0,
        Err(error) => return Err(describe("cannot read", error)),
    };
    if size > 0 && size + lines.len() as u64 > max_bytes {
        let numbered = |n: u32| {
            let mut name = path.as_os_str().to_owned();
            name.push(format!(".{n}"));
            PathBuf::from(name)
        };
        if keep == 0 {
            std::fs::remove_file(path).map_err(|e| describe("cannot remove", e))?;
        } else {
            for n in (1..keep).rev() {
                let from = numbered(n);
                if from.exists() {
                    std::fs::rename(&from, numbered(n + 1))
                        .map_err(|e| describe("cannot rotate", e))?;
                }
            }
            std::fs::rename(path, numbered(1)).map_err(|e| describe("cannot rotate", e))?;
        }
    }
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|e| describe("cannot create the folder of", e))?;
    }
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|e| describe("cannot open", e))?;
    file.write_all(lines.as_bytes())
        .and_then(|()| file.flush())
        .map_err(|e| describe("cannot write", e))
}

/// The user agent of posture's outgoing requests.
pub fn user_agent() -> String {
    format!("posture/{PRODUCT_VERSION}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alerts::AlertKind;
    use crate::model::Severity;

    fn outgoing(n: usize) -> Outgoing {
        let now = Utc::now();
        let events = (0..n)
            .map(|i| {
                let mut event = AlertEvent::sample("acme", now);
                event.id = format!("evt-{i}");
                event.finding.title = format!("finding <{i}> & co");
                event
            })
            .collect();
        Outgoing {
            uid: "msg_1".into(),
            rule: "r".into(),
            events,
            digest: None,
        }
    }

    #[test]
    fn signatures_follow_standard_webhooks() {
        // The example of the Standard Webhooks specification's reference libraries.
        let key = signing_key("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let body = r#"{"test": 2432232314}"#;
        assert_eq!(
            sign(&key, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
        assert_eq!(signing_key("plain").unwrap(), b"plain");
        assert_eq!(signing_key("whsec_***"), None);
    }

    #[test]
    fn slack_messages_stay_within_fifty_blocks_and_say_what_is_left_out() {
        let message = slack_message(&outgoing(100));
        let blocks = message["blocks"].as_array().unwrap();
        assert_eq!(blocks.len(), SLACK_MAX_BLOCKS);
        let context = blocks.last().unwrap()["elements"][0]["text"]
            .as_str()
            .unwrap();
        assert!(context.starts_with("…and 52 more"), "{context}");
        let first = blocks[1]["text"]["text"].as_str().unwrap();
        assert!(first.contains("finding &lt;0&gt; &amp; co"), "{first}");
        assert!(
            message["text"]
                .as_str()
                .unwrap()
                .contains("100 events in acme/posture-sink-test")
        );
    }

    #[test]
    fn cloudevents_carry_the_kind_and_the_events() {
        let mut message = outgoing(2);
        message.events[1].finding.severity = Severity::Critical;
        let now = Utc::now();
        let envelope = cloudevent(&message, "urn:posture:org:acme", Format::Posture, now);
        assert_eq!(envelope["specversion"], "1.0");
        assert_eq!(envelope["type"], "dev.posture.finding.detected");
        assert_eq!(envelope["subject"], "acme/posture-sink-test");
        assert_eq!(envelope["data"]["count"], 2);
        message.events[1].kind = AlertKind::Fixed;
        let envelope = cloudevent(&message, "urn:posture:org:acme", Format::Posture, now);
        assert_eq!(envelope["type"], "dev.posture.alert.group");
    }

    #[test]
    fn files_rotate_by_size_and_keep_so_many() {
        let dir = tempfile::TempDir::new().unwrap();
        let path = dir.path().join("alerts.jsonl");
        for n in 0..5 {
            append_rotating(&path, &format!("{n}23456789\n"), 25, 2).unwrap();
        }
        // 10 bytes a line, 25 at most: two lines per file, the oldest file dropped.
        let read = |p: &Path| std::fs::read_to_string(p).unwrap();
        assert_eq!(read(&path), "423456789\n");
        assert_eq!(
            read(&dir.path().join("alerts.jsonl.1")),
            "223456789\n323456789\n"
        );
        assert_eq!(
            read(&dir.path().join("alerts.jsonl.2")),
            "023456789\n123456789\n"
        );
        assert!(!dir.path().join("alerts.jsonl.3").exists());
    }

    #[test]
    fn missing_variables_are_named_and_values_never_shown() {
        let config: SinkConfig = serde_yaml_ng::from_str(
            "{name: hook, type: webhook, url_env: HOOK_URL, secret_env: HOOK_SECRET}",
        )
        .unwrap();
        let env = |name: &str| (name == "HOOK_URL").then(|| "https://x.example/h".to_owned());
        let err = Sink::resolve("acme", &config, &env, None).unwrap_err();
        assert_eq!(err.to_string(), "sink acme/hook: HOOK_SECRET is not set");
        let env = |name: &str| match name {
            "HOOK_URL" => Some("https://x.example/h?token=s3cr3t".to_owned()),
            _ => Some("whsec_s3cr3t!".to_owned()),
        };
        let err = Sink::resolve("acme", &config, &env, None).unwrap_err();
        assert!(!err.to_string().contains("s3cr3t"), "{err}");
        let sink = Sink::resolve(
            "acme",
            &config,
            &|name: &str| {
                (name == "HOOK_URL")
                    .then(|| "https://x.example/h?token=s3cr3t".into())
                    .or(Some("k".into()))
            },
            None,
        )
        .unwrap();
        assert!(!format!("{sink:?}").contains("s3cr3t"));
    }
}
