//! Response properties that look like they carry a credential or personal data: what makes
//! an endpoint worth a second look (`api/sensitive-response`, "flagged for review").
//!
//! A name is split into words (`_`, `-`, `.`, spaces and camelCase boundaries, `APIKey` →
//! `api key`) and is sensitive when its last words spell one of the terms: a password
//! (`password`, `passwd`, `passphrase`, `password_hash`), a `secret`, a `token`
//! (`access_token`, `refreshToken`, `id_token`), an API or private key (`api_key`, `apiKey`,
//! `X-API-Key`, `privateKey`), a social security number (`ssn`), a card number
//! (`card_number`, `cardNumber`, `credit_card`, `pan` as the whole name) or a card
//! verification code (`cvv`, `cvc`). Matching the *last* words is the guard against the
//! obvious false positives: `token_type`, `token_expires_in`, `password_policy`,
//! `passwordChangedAt`, `secretName` and `tokenUrl` describe the thing without holding it.
//! Also left out: pagination and anti-forgery tokens (`nextPageToken`, `continuation_token`,
//! `csrfToken`), names that say the value is masked (`maskedCardNumber`, `redactedSsn`),
//! and properties typed `boolean` (`hasPassword`, `secret: {type: boolean}`).
//!
//! Schemas are walked through `$ref`s (`#/components/schemas/…`, `#/definitions/…`), nested
//! `properties`, `items`, `additionalProperties` and `allOf`/`oneOf`/`anyOf`, with an
//! explicit stack and each node visited once, so recursive schemas end and deep ones cost
//! no recursion.

use std::collections::HashSet;
use std::rc::Rc;

use super::tree::{Node, follow};

/// Terms, as their words joined, that a name's last words may spell.
const TERMS: &[&str] = &[
    "password",
    "passwords",
    "passwd",
    "passphrase",
    "passwordhash",
    "passworddigest",
    "secret",
    "secrets",
    "token",
    "tokens",
    "accesstoken",
    "refreshtoken",
    "apikey",
    "apikeys",
    "privatekey",
    "secretkey",
    "ssn",
    "socialsecuritynumber",
    "cardnumber",
    "creditcard",
    "primaryaccountnumber",
    "cvv",
    "cvv2",
    "cvc",
    "cvc2",
];

/// Terms that are sensitive only as the whole name: `pan` is a primary account number, but
/// `cameraPan` is not.
const WHOLE_NAME_TERMS: &[&str] = &["pan"];

/// Words before a final `token` that make it a cursor or an anti-forgery token.
const HARMLESS_TOKENS: &[&str] = &[
    "page",
    "next",
    "prev",
    "previous",
    "continuation",
    "pagination",
    "cursor",
    "sync",
    "resume",
    "csrf",
    "xsrf",
];

/// Words saying the value shown is not the secret itself.
const MASKED: &[&str] = &["masked", "redacted", "obfuscated", "truncated"];

/// How many schema nodes one endpoint's walk visits at most.
const MAX_VISITS: usize = 50_000;
/// How many schema nodes the walks of one document visit at most, together: schemas shared
/// through `$ref` are walked again for every endpoint, so a hostile document of many
/// operations over one large schema would cost operations × schema otherwise.
pub const DOCUMENT_VISITS: usize = 1_000_000;

/// Splits a property name into lower-case words.
fn words(name: &str) -> Vec<String> {
    let mut words = Vec::new();
    for part in name.split(|c: char| !c.is_alphanumeric()) {
        let chars: Vec<char> = part.chars().collect();
        let mut word = String::new();
        for (i, &c) in chars.iter().enumerate() {
            let previous = i.checked_sub(1).map(|p| chars[p]);
            let next = chars.get(i + 1).copied();
            let boundary = c.is_uppercase()
                && previous.is_some_and(|p| {
                    p.is_lowercase()
                        || p.is_ascii_digit()
                        || (p.is_uppercase() && next.is_some_and(char::is_lowercase))
                });
            if boundary && !word.is_empty() {
                words.push(std::mem::take(&mut word));
            }
            word.extend(c.to_lowercase());
        }
        if !word.is_empty() {
            words.push(word);
        }
    }
    words
}

/// Whether a property called `name` looks like it holds a credential or personal data.
pub fn looks_sensitive(name: &str) -> bool {
    let words = words(name);
    let whole: String = words.concat();
    if WHOLE_NAME_TERMS.contains(&whole.as_str()) {
        return true;
    }
    if words.iter().any(|w| MASKED.contains(&w.as_str())) {
        return false;
    }
    let spelled = (0..words.len())
        .rev()
        .find(|&start| TERMS.contains(&words[start..].concat().as_str()));
    let Some(start) = spelled else {
        return false;
    };
    let is_token = words.last().is_some_and(|w| w == "token" || w == "tokens");
    let before = start.checked_sub(1).map(|i| words[i].as_str());
    !(is_token && before.is_some_and(|w| HARMLESS_TOKENS.contains(&w)))
}

/// The sensitive-looking property names under the schemas `roots`, each once, in the order
/// the walk meets them.
pub fn sensitive_fields<'a>(
    document: &Rc<Node>,
    roots: impl IntoIterator<Item = &'a Rc<Node>>,
    budget: &mut usize,
) -> Vec<String> {
    let mut stack: Vec<Rc<Node>> = roots.into_iter().cloned().collect();
    stack.reverse();
    let mut seen: HashSet<*const Node> = HashSet::new();
    let mut found: Vec<String> = Vec::new();
    while let Some(node) = stack.pop() {
        let schema = follow(document, &node);
        if *budget == 0 {
            break;
        }
        if !seen.insert(Rc::as_ptr(&schema)) || seen.len() > MAX_VISITS {
            continue;
        }
        *budget -= 1;
        let mut next: Vec<Rc<Node>> = Vec::new();
        for keyword in ["allOf", "oneOf", "anyOf"] {
            if let Some(items) = schema.get(keyword).and_then(|n| n.items()) {
                next.extend(items.iter().cloned());
            }
        }
        if let Some(properties) = schema.get("properties").and_then(|p| p.entries()) {
            for property in properties {
                let Some(name) = property.key.as_deref() else {
                    continue;
                };
                let value = follow(document, &property.value);
                let boolean = value.get("type").and_then(|t| t.as_str()) == Some("boolean");
                if !boolean && looks_sensitive(name) && !found.iter().any(|f| f == name) {
                    found.push(name.to_string());
                }
                next.push(Rc::clone(&property.value));
            }
        }
        for keyword in ["items", "additionalProperties"] {
            if let Some(child) = schema.get(keyword).filter(|c| c.entries().is_some()) {
                next.push(Rc::clone(child));
            }
        }
        stack.extend(next.into_iter().rev());
    }
    found
}

#[cfg(test)]
mod tests {
    use super::super::tree::parse;
    use super::*;

    #[test]
    fn names_are_split_into_words() {
        assert_eq!(words("refreshToken"), ["refresh", "token"]);
        assert_eq!(words("X-API-Key"), ["x", "api", "key"]);
        assert_eq!(words("APIKey"), ["api", "key"]);
        assert_eq!(words("card_number2"), ["card", "number2"]);
        assert_eq!(words("user.SSN"), ["user", "ssn"]);
    }

    #[test]
    fn credentials_and_personal_data_are_told_from_their_metadata() {
        for name in [
            "password",
            "Password",
            "passwd",
            "new_password",
            "userPassword",
            "password_hash",
            "secret",
            "client_secret",
            "clientSecret",
            "token",
            "access_token",
            "accessToken",
            "accesstoken",
            "refresh_token",
            "refresh-token",
            "id_token",
            "api_key",
            "apiKey",
            "apikey",
            "X-API-Key",
            "privateKey",
            "ssn",
            "social_security_number",
            "socialSecurityNumber",
            "card_number",
            "cardNumber",
            "credit_card",
            "creditCardNumber",
            "pan",
            "PAN",
            "cvv",
            "cvc",
            "CVV2",
        ] {
            assert!(looks_sensitive(name), "{name}");
        }
        for name in [
            "token_type",
            "tokenType",
            "token_expires_in",
            "tokenUrl",
            "password_policy",
            "passwordChangedAt",
            "password_last_set",
            "secretName",
            "nextPageToken",
            "next_token",
            "continuation_token",
            "csrfToken",
            "maskedCardNumber",
            "card_number_last4",
            "cameraPan",
            "span",
            "company",
            "passport",
            "keyboard",
            "name",
            "",
        ] {
            assert!(!looks_sensitive(name), "{name}");
        }
    }

    #[test]
    fn the_walk_follows_references_compositions_and_cycles() {
        let root = parse(concat!(
            "components:\n",
            "  schemas:\n",
            "    Session:\n",
            "      allOf:\n",
            "        - $ref: '#/components/schemas/Base'\n",
            "        - type: object\n",
            "          properties:\n",
            "            access_token: {type: string}\n",
            "            token_type: {type: string}\n",
            "            user: {$ref: '#/components/schemas/User'}\n",
            "    Base:\n",
            "      properties:\n",
            "        id: {type: string}\n",
            "    User:\n",
            "      properties:\n",
            "        friends:\n",
            "          type: array\n",
            "          items: {$ref: '#/components/schemas/User'}\n",
            "        has_password: {type: boolean}\n",
            "        cards:\n",
            "          type: array\n",
            "          items:\n",
            "            oneOf:\n",
            "              - properties: {cardNumber: {type: string}}\n",
            "        attributes:\n",
            "          additionalProperties:\n",
            "            properties: {ssn: {type: string}}\n",
            "response: {$ref: '#/components/schemas/Session'}\n",
        ))
        .unwrap();
        let response = root.get("response").unwrap();
        let mut budget = DOCUMENT_VISITS;
        let fields = sensitive_fields(&root, [response], &mut budget);
        assert_eq!(fields, ["access_token", "cardNumber", "ssn"]);
        let spent = DOCUMENT_VISITS - budget;
        assert!(spent > 3, "the walk is counted: {spent}");
        // A document's budget spent, the walks stop (shared schemas are not walked forever).
        let mut budget = 2;
        let fields = sensitive_fields(&root, [response], &mut budget);
        assert!(fields.len() < 3, "{fields:?}");
        assert_eq!(budget, 0);
    }
}
