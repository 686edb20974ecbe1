//! The findings an API description raises, kind `api`, tool `posture`:
//!
//! - `api/no-security`: an operation that requires no authentication (none declared, or
//!   turned off with `security: []`). Medium; high when a server of the document looks
//!   public ([`super::server`]). CWE-306, missing authentication.
//! - `api/sensitive-response`: an operation whose responses hold properties that look like
//!   credentials or personal data ([`super::sensitive`]). Low: flagged for review, since a
//!   login endpoint returning a `token` is what it is for. CWE-200.
//!
//! Both point at the operation's method key and carry the endpoint (`GET /pets`) under
//! [`ENDPOINT_FINGERPRINT`], which [`crate::analyze::identity::api_key`] identifies them
//! by, with the file and rule: adding an endpoint above leaves every other id as it was.

use super::{ApiDocument, Endpoint, Security};
use crate::analyze::identity::ENDPOINT_FINGERPRINT;
use crate::model::{Finding, Kind, Location, Severity};

pub const TOOL: &str = "posture";
pub const NO_SECURITY: &str = "api/no-security";
pub const SENSITIVE_RESPONSE: &str = "api/sensitive-response";

/// The findings of one document, in endpoint order.
pub fn findings(document: &ApiDocument) -> Vec<Finding> {
    let public = document.servers.iter().any(|s| s.public == Some(true));
    let mut findings = Vec::new();
    for endpoint in &document.endpoints {
        let name = format!("{} {}", endpoint.method, endpoint.path);
        let unauthenticated = match endpoint.security {
            Security::Required(_) => None,
            Security::None => {
                Some("declares no security requirement, and the document has no global `security`")
            }
            Security::Disabled => Some(
                "turns authentication off (`security: []` or only the anonymous `{}` requirement)",
            ),
        };
        if let Some(why) = unauthenticated {
            let mut finding = finding(document, endpoint, &name, NO_SECURITY, 306);
            finding.title = format!("API endpoint `{name}` without authentication");
            finding.severity = if public {
                Severity::High
            } else {
                Severity::Medium
            };
            let exposure = if public {
                " A server of the API looks public."
            } else {
                ""
            };
            finding.message = format!(
                "`{name}` {why}: anyone who can reach the API can call it.{exposure} Add a \
                 `security` requirement, or confirm that it is meant to be public."
            );
            findings.push(finding);
        }
        if !endpoint.sensitive_fields.is_empty() {
            let fields = endpoint
                .sensitive_fields
                .iter()
                .map(|f| format!("`{f}`"))
                .collect::<Vec<_>>()
                .join(", ");
            let mut finding = finding(document, endpoint, &name, SENSITIVE_RESPONSE, 200);
            finding.title = format!("API endpoint `{name}` returns sensitive-looking fields");
            finding.severity = Severity::Low;
            finding.message = format!(
                "`{name}` returns fields that look sensitive: {fields}. Flagged for review: \
                 make sure a response never carries credentials or personal data it need not."
            );
            findings.push(finding);
        }
    }
    findings
}

fn finding(
    document: &ApiDocument,
    endpoint: &Endpoint,
    name: &str,
    rule: &str,
    cwe: u32,
) -> Finding {
    let mut finding = Finding::new(Kind::Api, TOOL, rule);
    finding.location = Some(Location::new(&document.file).with_lines(endpoint.line, endpoint.line));
    finding.cwes = vec![cwe];
    finding
        .fingerprints
        .insert(ENDPOINT_FINGERPRINT.to_string(), name.to_string());
    finding
}
