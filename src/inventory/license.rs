//! Judging a component's licence (an SPDX expression) against the licence lists of
//! `.posture.yml` (`policy.licenses`, [`LicensePolicy`]).
//!
//! Parsing is the `spdx` crate's. What package metadata says is read leniently (the crate's
//! lax mode: `Apache 2.0`, `MIT/X11`, `BSD`, lower-case operators, deprecated ids such as
//! `GPL-2.0`, `GPL-2.0+`); the lists of the config are read strictly (only `+` on a GNU
//! licence and deprecated ids are tolerated there).
//!
//! How an expression is judged:
//!
//! - `A OR B` takes the best branch's verdict (it passes when one branch is allowed);
//!   `A AND B` the worst (it passes only when every part is allowed).
//! - A term is looked up in the lists, most specific entry first. `L WITH E` is matched as
//!   a unit: an entry `GPL-2.0-only WITH Classpath-exception-2.0` judges exactly that. When
//!   no list names the pair, the bare licence's entry judges it too (an SPDX exception only
//!   grants permissions, so it never makes a licence worse): `GPL-2.0-only` in `deny` also
//!   denies `GPL-2.0-only WITH Classpath-exception-2.0` unless that pair is listed, e.g. in
//!   `allow`. This is how an exception is allowed explicitly.
//! - `+` and `-or-later` are one thing: `GPL-2.0+`, `GPL-2.0-or-later` and an entry
//!   `GPL-2.0-or-later` match each other, as do `LGPL-2.1+` and an entry
//!   `LGPL-2.1-or-later`; `MPL-2.0+` matches an entry `MPL-2.0+`. An or-later term that no
//!   entry names as such is judged by the entry of its own version (`LGPL-2.1-only`,
//!   `MPL-2.0`), which the licensee may always choose. An `-only` term is never judged by an
//!   `-or-later` entry. A deprecated bare GNU id (`GPL-2.0`) is its `-only` form.
//! - A term in no list, a `LicenseRef-…` no list names, no licence at all (absent, empty,
//!   `NOASSERTION`, `NONE`), or text that is no SPDX expression even leniently get the
//!   policy's `unknown` verdict, and the reason says which it was.

use std::fmt;

use serde::{Deserialize, Serialize};
use spdx::expression::{ExprNode, Operator};
use spdx::{AdditionItem, Expression, LicenseItem, LicenseReq, ParseMode};

use crate::config::policy::LicensePolicy;

/// What the policy says of a licence; worse is greater. The default, `review`, is what
/// `unknown` is when the file does not say.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Allow,
    #[default]
    Review,
    Deny,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Allow => "allow",
            Verdict::Review => "review",
            Verdict::Deny => "deny",
        }
    }

    /// How a reason says it: `MIT is allowed`, `MPL-2.0 needs review`.
    fn phrase(self) -> &'static str {
        match self {
            Verdict::Allow => "is allowed",
            Verdict::Review => "needs review",
            Verdict::Deny => "is denied",
        }
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The verdict on one licence expression, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Judgement {
    pub verdict: Verdict,
    /// `AGPL-3.0-only is denied`, `no licence stated`, …
    pub reason: String,
    /// The verdict is the policy's `unknown` one: no list decided it.
    pub unknown: bool,
}

/// One licence as a list names it or an expression holds it: an SPDX id or `LicenseRef-…`,
/// whether later versions are allowed, and an optional `WITH` exception. GNU ids are kept in
/// their `-only` form with `or_later` saying which one was meant.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LicenseTerm {
    license: String,
    or_later: bool,
    gnu: bool,
    exception: Option<String>,
}

impl LicenseTerm {
    /// Parses a list entry: one licence, optionally `+`/`-or-later` and `WITH <exception>`,
    /// validated against the SPDX list. The error says what is wrong, naming the entry.
    pub fn parse(text: &str) -> Result<LicenseTerm, String> {
        let expression = LicenseExpression::parse(text)?;
        match expression.nodes.as_slice() {
            [Node::Term(term)] => Ok(term.clone()),
            _ => Err(format!(
                "`{}` combines licences; list each licence (or `X WITH Y`) on its own",
                shorten(text)
            )),
        }
    }

    fn of(req: &LicenseReq) -> LicenseTerm {
        let exception = req.addition.as_ref().map(AdditionItem::to_string);
        match &req.license {
            LicenseItem::Spdx { id, or_later } if id.is_gnu() => {
                let (license, later) = gnu_form(*id);
                LicenseTerm {
                    license,
                    or_later: later || *or_later,
                    gnu: true,
                    exception,
                }
            }
            LicenseItem::Spdx { id, or_later } => LicenseTerm {
                license: id.name.to_string(),
                or_later: *or_later,
                gnu: false,
                exception,
            },
            LicenseItem::Other(reference) => LicenseTerm {
                license: reference.to_string(),
                or_later: false,
                gnu: false,
                exception,
            },
        }
    }

    /// A `LicenseRef-…`, not a licence of the SPDX list.
    fn is_reference(&self) -> bool {
        self.license.starts_with("LicenseRef-") || self.license.starts_with("DocumentRef-")
    }

    fn without_exception(&self) -> LicenseTerm {
        LicenseTerm {
            exception: None,
            ..self.clone()
        }
    }

    fn this_version_only(&self) -> LicenseTerm {
        LicenseTerm {
            or_later: false,
            ..self.clone()
        }
    }

    /// The entries that may judge this term, most specific first (see the module doc): the
    /// term itself, without its exception, then the same for its own version alone.
    fn candidates(&self) -> Vec<LicenseTerm> {
        let mut versions = vec![self.clone()];
        if self.or_later {
            versions.push(self.this_version_only());
        }
        let mut out = Vec::new();
        for term in versions {
            let bare = term.without_exception();
            if bare != term {
                out.push(term);
            }
            out.push(bare);
        }
        out
    }
}

impl fmt::Display for LicenseTerm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.or_later, self.gnu) {
            (false, _) => f.write_str(&self.license)?,
            (true, true) => {
                let base = self.license.strip_suffix("-only").unwrap_or(&self.license);
                write!(f, "{base}-or-later")?;
            }
            (true, false) => write!(f, "{}+", self.license)?,
        }
        if let Some(exception) = &self.exception {
            write!(f, " WITH {exception}")?;
        }
        Ok(())
    }
}

/// A GNU id in its `-only` form and whether it meant "or later": `GPL-2.0` → (`GPL-2.0-only`,
/// false), `GPL-2.0-or-later` → (`GPL-2.0-only`, true). Ids without an `-only` sibling
/// (`GPL-2.0-with-GCC-exception`) stay as they are.
fn gnu_form(id: spdx::LicenseId) -> (String, bool) {
    let name = id.name;
    if let Some(base) = name.strip_suffix("-or-later") {
        return match spdx::gnu_license_id(base, false) {
            Some(only) => (only.name.to_string(), true),
            None => (name.to_string(), false),
        };
    }
    if name.ends_with("-only") {
        return (name.to_string(), false);
    }
    match spdx::gnu_license_id(name, false) {
        Some(only) => (only.name.to_string(), false),
        None => (name.to_string(), false),
    }
}

/// A parsed, normalised licence expression, compared term by term as written (postfix):
/// what an exception's `license` is matched against.
#[derive(Debug, Clone)]
pub struct LicenseExpression {
    /// As written, for messages.
    text: String,
    nodes: Vec<Node>,
}

impl PartialEq for LicenseExpression {
    fn eq(&self, other: &Self) -> bool {
        self.nodes == other.nodes
    }
}

impl Eq for LicenseExpression {}

impl fmt::Display for LicenseExpression {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Node {
    Term(LicenseTerm),
    And,
    Or,
}

/// How the config's licences are read: SPDX, tolerating `+` on GNU ids and deprecated ids.
const CONFIG_MODE: ParseMode = ParseMode {
    allow_slash_as_or_operator: false,
    allow_imprecise_license_names: false,
    allow_postfix_plus_on_gpl: true,
    allow_deprecated: true,
    allow_unknown: false,
};

impl LicenseExpression {
    /// Parses a licence expression of the config (strictly, see [`CONFIG_MODE`]).
    pub fn parse(text: &str) -> Result<LicenseExpression, String> {
        Expression::parse_mode(text.trim(), CONFIG_MODE)
            .map(|e| LicenseExpression::of(text, &e))
            .map_err(|e| describe_error(text, &e))
    }

    /// Reads what package metadata states, leniently; `None` when even that fails.
    pub fn read(text: &str) -> Option<LicenseExpression> {
        lenient(text).ok().map(|e| LicenseExpression::of(text, &e))
    }

    fn of(text: &str, expression: &Expression) -> LicenseExpression {
        let nodes = expression
            .iter()
            .map(|node| match node {
                ExprNode::Req(req) => Node::Term(LicenseTerm::of(&req.req)),
                ExprNode::Op(Operator::And) => Node::And,
                ExprNode::Op(Operator::Or) => Node::Or,
            })
            .collect();
        LicenseExpression {
            text: text.trim().to_string(),
            nodes,
        }
    }
}

/// The crate's lax mode, then once more without a trailing "License" (`MIT License`).
fn lenient(text: &str) -> Result<Expression, spdx::ParseError> {
    let text = text.trim();
    let first = Expression::parse_mode(text, ParseMode::LAX);
    if first.is_ok() {
        return first;
    }
    let stripped = text
        .strip_suffix(" License")
        .or_else(|| text.strip_suffix(" license"))
        .map(str::trim_end);
    match stripped {
        Some(stripped) if !stripped.is_empty() => {
            Expression::parse_mode(stripped, ParseMode::LAX).or(first)
        }
        _ => first,
    }
}

fn describe_error(text: &str, error: &spdx::ParseError) -> String {
    let text = text.trim();
    let at = text
        .get(error.span.clone())
        .filter(|t| !t.trim().is_empty())
        .map(|t| format!(" at `{}`", shorten(t)))
        .unwrap_or_default();
    format!(
        "`{}` is not a valid SPDX licence: {}{at}",
        shorten(text),
        error.reason
    )
}

/// Long texts (a whole licence pasted into package.json) are cut in messages.
fn shorten(text: &str) -> String {
    const MAX: usize = 80;
    match text.char_indices().nth(MAX) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_string(),
    }
}

/// Judges `expression` (a component's effective licence) under `policy`.
pub fn judge(expression: Option<&str>, policy: &LicensePolicy) -> Judgement {
    let text = expression.map(str::trim).filter(|t| !t.is_empty());
    let Some(text) = text else {
        return unknown(policy, "no licence stated".into());
    };
    if matches!(text, "NOASSERTION" | "NONE") {
        return unknown(policy, format!("no licence stated ({text})"));
    }
    let expression = match lenient(text) {
        Ok(expression) => LicenseExpression::of(text, &expression),
        Err(error) => return unknown(policy, describe_error(text, &error)),
    };
    let mut stack: Vec<Judgement> = Vec::new();
    for node in expression.nodes {
        let judged = match node {
            Node::Term(term) => judge_term(&term, policy),
            Node::And | Node::Or => {
                // The parser builds well-formed postfix: every operator has two operands.
                let (Some(b), Some(a)) = (stack.pop(), stack.pop()) else {
                    return unknown(policy, format!("`{}` could not be read", shorten(text)));
                };
                combine(a, b, node == Node::Or)
            }
        };
        stack.push(judged);
    }
    match (stack.pop(), stack.is_empty()) {
        (Some(judgement), true) => judgement,
        _ => unknown(policy, format!("`{}` could not be read", shorten(text))),
    }
}

fn unknown(policy: &LicensePolicy, reason: String) -> Judgement {
    Judgement {
        verdict: policy.unknown,
        reason,
        unknown: true,
    }
}

fn judge_term(term: &LicenseTerm, policy: &LicensePolicy) -> Judgement {
    for candidate in term.candidates() {
        if let Some(verdict) = policy.listed(&candidate) {
            let via = if candidate == *term {
                String::new()
            } else {
                format!(" (listed as {candidate})")
            };
            return Judgement {
                verdict,
                reason: format!("{term} {}{via}", verdict.phrase()),
                unknown: false,
            };
        }
    }
    let what = if term.is_reference() {
        "is not an SPDX licence and is in no list of the policy"
    } else {
        "is in no list of the policy"
    };
    unknown(policy, format!("{term} {what}"))
}

/// `OR` keeps the better branch, `AND` the worse; on a tie the reasons are joined (every
/// part of an `AND`, every branch of an `OR` that fails alike).
fn combine(a: Judgement, b: Judgement, or: bool) -> Judgement {
    use std::cmp::Ordering;
    match (a.verdict.cmp(&b.verdict), or) {
        (Ordering::Less, true) | (Ordering::Greater, false) => a,
        (Ordering::Less, false) | (Ordering::Greater, true) => b,
        (Ordering::Equal, true) if a.verdict == Verdict::Allow => a,
        (Ordering::Equal, _) => Judgement {
            verdict: a.verdict,
            reason: format!("{}; {}", a.reason, b.reason),
            unknown: a.unknown && b.unknown,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::policy::PolicyConfig;

    fn policy(yaml: &str) -> LicensePolicy {
        let config: PolicyConfig = serde_yaml_ng::from_str(yaml).unwrap();
        config.licenses.unwrap()
    }

    const POLICY: &str = "licenses:
  allow: [MIT, Apache-2.0, BSD-2-Clause, BSD-3-Clause, ISC, X11, MPL-2.0+, LicenseRef-Acme-Internal,
          \"GPL-2.0-only WITH Classpath-exception-2.0\"]
  review: [LGPL-2.1-or-later, MPL-2.0]
  deny: [AGPL-3.0-only, SSPL-1.0, GPL-2.0-only, GPL-3.0-only]
  unknown: review
";

    #[test]
    fn expressions_are_judged_by_the_table() {
        let policy = policy(POLICY);
        use Verdict::*;
        // (expression, verdict, unknown, reason contains)
        let cases: &[(Option<&str>, Verdict, bool, &str)] = &[
            (Some("MIT"), Allow, false, "MIT is allowed"),
            (Some("MIT OR AGPL-3.0-only"), Allow, false, "MIT is allowed"),
            (Some("AGPL-3.0-only OR MIT"), Allow, false, "MIT is allowed"),
            (
                Some("MIT AND AGPL-3.0-only"),
                Deny,
                false,
                "AGPL-3.0-only is denied",
            ),
            (
                Some("(MIT OR Apache-2.0) AND MPL-2.0"),
                Review,
                false,
                "MPL-2.0 needs review",
            ),
            (
                Some("AGPL-3.0-only OR SSPL-1.0"),
                Deny,
                false,
                "AGPL-3.0-only is denied; SSPL-1.0 is denied",
            ),
            // WITH as a unit: the listed pair is allowed although the bare licence is denied.
            (
                Some("GPL-2.0-only WITH Classpath-exception-2.0"),
                Allow,
                false,
                "GPL-2.0-only WITH Classpath-exception-2.0 is allowed",
            ),
            // An unlisted pair is judged by its bare licence.
            (
                Some("GPL-3.0-only WITH GCC-exception-3.1"),
                Deny,
                false,
                "(listed as GPL-3.0-only)",
            ),
            (Some("GPL-2.0-only"), Deny, false, "GPL-2.0-only is denied"),
            // `+` is `-or-later`; the deprecated bare GNU id is `-only`.
            (
                Some("LGPL-2.1+"),
                Review,
                false,
                "LGPL-2.1-or-later needs review",
            ),
            (Some("GPL-2.0"), Deny, false, "GPL-2.0-only is denied"),
            (
                Some("GPL-3.0+"),
                Deny,
                false,
                "GPL-3.0-or-later is denied (listed as GPL-3.0-only)",
            ),
            (Some("MPL-2.0+"), Allow, false, "MPL-2.0+ is allowed"),
            // An or-later term falls back to its own version; an -only term is never judged
            // by an -or-later entry.
            (Some("Apache-2.0+"), Allow, false, "(listed as Apache-2.0)"),
            (
                Some("LGPL-2.1-only"),
                Review,
                true,
                "LGPL-2.1-only is in no list",
            ),
            // Unknown: a licence in no list, a LicenseRef, nothing, garbage.
            (
                Some("Zlib"),
                Review,
                true,
                "Zlib is in no list of the policy",
            ),
            (
                Some("LicenseRef-Proprietary"),
                Review,
                true,
                "LicenseRef-Proprietary is not an SPDX licence",
            ),
            (Some("LicenseRef-Acme-Internal"), Allow, false, "is allowed"),
            (Some("NOASSERTION"), Review, true, "no licence stated"),
            (Some("NONE"), Review, true, "no licence stated"),
            (None, Review, true, "no licence stated"),
            (Some("  "), Review, true, "no licence stated"),
            (
                Some("SEE LICENSE IN LICENSE.md"),
                Review,
                true,
                "is not a valid SPDX licence",
            ),
            (Some("UNLICENSED"), Review, true, "`UNLICENSED`"),
            (Some("MIT AND"), Review, true, "not a valid SPDX licence"),
            // A known licence AND an unknown one: the unknown part decides.
            (Some("MIT AND Zlib"), Review, true, "Zlib is in no list"),
            // Lax spellings real packages use.
            (Some("Apache 2.0"), Allow, false, "Apache-2.0 is allowed"),
            (Some("MIT/X11"), Allow, false, "MIT is allowed"),
            (Some("BSD"), Allow, false, "BSD-2-Clause is allowed"),
            (Some("MIT License"), Allow, false, "MIT is allowed"),
            (Some("mit or Apache-2.0"), Allow, false, "is allowed"),
        ];
        for (expression, verdict, unknown, reason) in cases {
            let judged = judge(*expression, &policy);
            assert_eq!(judged.verdict, *verdict, "{expression:?}: {judged:?}");
            assert_eq!(judged.unknown, *unknown, "{expression:?}: {judged:?}");
            assert!(
                judged.reason.contains(reason),
                "{expression:?}: {judged:?} lacks {reason:?}"
            );
        }
    }

    #[test]
    fn the_unknown_verdict_is_the_policys() {
        let deny = policy("licenses:\n  allow: [MIT]\n  unknown: deny\n");
        let judged = judge(Some("Unlicense"), &deny);
        assert_eq!((judged.verdict, judged.unknown), (Verdict::Deny, true));
        let allow = policy("licenses:\n  deny: [AGPL-3.0-only]\n  unknown: allow\n");
        assert_eq!(judge(Some("Unlicense"), &allow).verdict, Verdict::Allow);
        assert_eq!(judge(Some("AGPL-3.0-only"), &allow).verdict, Verdict::Deny);
        // A known deny and an unknown deny: the known one names the rule.
        let deny = policy("licenses:\n  allow: [MIT]\n  deny: [AGPL-3.0-only]\n  unknown: deny\n");
        let judged = judge(Some("AGPL-3.0-only AND Unlicense"), &deny);
        assert_eq!((judged.verdict, judged.unknown), (Verdict::Deny, false));
    }

    #[test]
    fn verdicts_order_worse_as_greater() {
        assert!(Verdict::Allow < Verdict::Review && Verdict::Review < Verdict::Deny);
    }

    #[test]
    fn list_entries_are_validated_and_normalised() {
        let term = LicenseTerm::parse("GPL-2.0+").unwrap();
        assert_eq!(term.to_string(), "GPL-2.0-or-later");
        assert_eq!(term, LicenseTerm::parse("GPL-2.0-or-later").unwrap());
        assert_eq!(
            LicenseTerm::parse("LGPL-2.1+").unwrap(),
            LicenseTerm::parse("LGPL-2.1-or-later").unwrap()
        );
        assert_eq!(
            LicenseTerm::parse("GPL-2.0-only WITH Universal-FOSS-exception-1.0")
                .unwrap()
                .to_string(),
            "GPL-2.0-only WITH Universal-FOSS-exception-1.0"
        );
        for (text, needle) in [
            (
                "MIT-ish",
                "`MIT-ish` is not a valid SPDX licence: unknown term",
            ),
            ("Apache 2.0", "not a valid SPDX licence"),
            ("MIT OR Apache-2.0", "combines licences"),
            ("GPL-2.0-only WITH Nope-exception", "at `Nope-exception`"),
            ("", "empty expression"),
        ] {
            let err = LicenseTerm::parse(text).unwrap_err();
            assert!(err.contains(needle), "{text:?}: {err}");
        }
    }

    #[test]
    fn expressions_compare_after_normalisation() {
        assert_eq!(
            LicenseExpression::read("GPL-2.0 WITH Classpath-exception-2.0"),
            LicenseExpression::parse("GPL-2.0-only WITH Classpath-exception-2.0").ok()
        );
        assert_ne!(
            LicenseExpression::read("MIT OR Apache-2.0"),
            LicenseExpression::read("MIT AND Apache-2.0")
        );
        assert_eq!(LicenseExpression::read("no such thing"), None);
    }
}
