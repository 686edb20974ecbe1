//! What a change to `policy:` would alter, for [`super::change`]: one
//! [`ConfigChange`] per licence whose verdict or listing moves, per scope, per exception and
//! per banned package.
//!
//! A policy change **loosens** the gate when a component could pass that the base's policy
//! flags, or be flagged less severely:
//!
//! | setting | loosens when |
//! |---|---|
//! | `policy.licenses` | the section is removed (no licence judged), or a licence's verdict (lists, `unknown`, bare entries covering `WITH` forms all counted) falls: deny → review, review → allow, … |
//! | `policy.licenses.unknown` | the verdict falls |
//! | `policy.licenses.scopes` | a scope is removed |
//! | `policy.licenses.exceptions` | an exception is added, or one now covers every licence of its package |
//! | `policy.packages.deny` | a banned package is removed, or its version range changes to anything but every version |

use std::collections::BTreeSet;

use super::policy::{LicenseException, LicensePolicy, PackageRule, PolicyConfig};
use crate::inventory::license::{self, LicenseTerm};
use crate::model::ConfigChange;

/// Every change `head`'s policy makes to `base`'s.
pub(crate) fn changes(base: &PolicyConfig, head: &PolicyConfig, out: &mut Vec<ConfigChange>) {
    licenses(base.licenses.as_ref(), head.licenses.as_ref(), out);
    packages(&base.packages.deny, &head.packages.deny, out);
}

fn change(setting: &str, description: String, loosens: bool) -> ConfigChange {
    ConfigChange {
        setting: setting.to_string(),
        description,
        loosens,
    }
}

fn licenses(
    base: Option<&LicensePolicy>,
    head: Option<&LicensePolicy>,
    out: &mut Vec<ConfigChange>,
) {
    let (b, h) = match (base, head) {
        (None, None) => return,
        (None, Some(h)) => {
            out.push(change(
                "policy.licenses",
                format!(
                    "licences would be judged: {} allowed, {} to review, {} denied, others {}",
                    h.allow.len(),
                    h.review.len(),
                    h.deny.len(),
                    h.unknown
                ),
                false,
            ));
            return;
        }
        (Some(_), None) => {
            out.push(change(
                "policy.licenses",
                "licences would no longer be judged".into(),
                true,
            ));
            return;
        }
        (Some(b), Some(h)) => (b, h),
    };
    let mut terms: Vec<&LicenseTerm> = Vec::new();
    for term in [&b.allow, &b.review, &b.deny, &h.allow, &h.review, &h.deny]
        .into_iter()
        .flatten()
    {
        if !terms.contains(&term) {
            terms.push(term);
        }
    }
    let listing = |policy: &LicensePolicy, term: &LicenseTerm| {
        policy
            .listed(term)
            .map_or("unlisted".to_string(), |v| v.as_str().to_string())
    };
    for term in terms {
        let text = term.to_string();
        let before = license::judge(Some(&text), b).verdict;
        let after = license::judge(Some(&text), h).verdict;
        let (was, is) = (listing(b, term), listing(h, term));
        if was == is && before == after {
            continue;
        }
        let effect = if before == after {
            format!(" (still {after})")
        } else {
            format!(": {before} → {after}")
        };
        out.push(change(
            "policy.licenses",
            format!("`{text}` {was} → {is}{effect}"),
            after < before,
        ));
    }
    if b.unknown != h.unknown {
        out.push(change(
            "policy.licenses.unknown",
            format!(
                "{} → {}: licences no list names (or none) would be judged {}",
                b.unknown, h.unknown, h.unknown
            ),
            h.unknown < b.unknown,
        ));
    }
    for scope in &b.scopes {
        if !h.scopes.contains(scope) {
            out.push(change(
                "policy.licenses.scopes",
                format!("{scope} dependencies' licences would no longer be judged"),
                true,
            ));
        }
    }
    for scope in &h.scopes {
        if !b.scopes.contains(scope) {
            out.push(change(
                "policy.licenses.scopes",
                format!("{scope} dependencies' licences would be judged too"),
                false,
            ));
        }
    }
    exceptions(&b.exceptions, &h.exceptions, out);
}

/// What an exception covers: its package, and its licence if it names one.
fn covers(a: &LicenseException, b: &LicenseException) -> bool {
    a.package.ecosystem == b.package.ecosystem
        && a.package.name == b.package.name
        && (a.license.is_none() || a.license == b.license)
}

fn describe_exception(e: &LicenseException) -> String {
    let mut text = format!("`{}`", e.package);
    match &e.license {
        Some(license) => text.push_str(&format!(" under `{license}`")),
        None => text.push_str(" under any licence"),
    }
    if let Some(reason) = &e.reason {
        text.push_str(&format!(" (\"{reason}\")"));
    }
    text
}

fn exceptions(base: &[LicenseException], head: &[LicenseException], out: &mut Vec<ConfigChange>) {
    let same = |a: &LicenseException, b: &LicenseException| covers(a, b) && covers(b, a);
    for e in head {
        if base.iter().any(|b| same(b, e)) {
            continue;
        }
        let covered = base.iter().any(|b| covers(b, e));
        let description = if covered {
            format!(
                "narrower licence exception {} (a base exception already covers it)",
                describe_exception(e)
            )
        } else {
            format!(
                "new licence exception {}: its licence would pass",
                describe_exception(e)
            )
        };
        out.push(change("policy.licenses.exceptions", description, !covered));
    }
    for e in base {
        if !head.iter().any(|h| same(h, e)) {
            out.push(change(
                "policy.licenses.exceptions",
                format!("removes licence exception {}", describe_exception(e)),
                false,
            ));
        }
    }
}

fn packages(base: &[PackageRule], head: &[PackageRule], out: &mut Vec<ConfigChange>) {
    let key = |r: &PackageRule| (r.package.ecosystem.to_string(), r.package.name.clone());
    for rule in head {
        match base.iter().find(|b| key(b) == key(rule)) {
            None => out.push(change(
                "policy.packages.deny",
                format!("bans `{}` (versions {})", rule.package, rule.versions),
                false,
            )),
            Some(before) if before.versions.text != rule.versions.text => {
                let loosens = !rule.versions.is_every();
                out.push(change(
                    "policy.packages.deny",
                    format!(
                        "`{}`: banned versions {} → {}{}",
                        rule.package,
                        before.versions,
                        rule.versions,
                        if loosens {
                            ": some versions banned before may pass"
                        } else {
                            ""
                        }
                    ),
                    loosens,
                ));
            }
            Some(before) if before.reason != rule.reason => out.push(change(
                "policy.packages.deny",
                format!("`{}`: new reason", rule.package),
                false,
            )),
            Some(_) => {}
        }
    }
    let head_keys: BTreeSet<_> = head.iter().map(key).collect();
    for rule in base {
        if !head_keys.contains(&key(rule)) {
            out.push(change(
                "policy.packages.deny",
                format!(
                    "`{}` (versions {}) would no longer be banned",
                    rule.package, rule.versions
                ),
                true,
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::config::change::changes as all_changes;

    fn diff(base: &str, head: &str) -> Vec<ConfigChange> {
        let parse = |text: &str| Config::parse(".posture.yml", text).unwrap();
        all_changes(&parse(base), &parse(head))
    }

    fn only(base: &str, head: &str) -> ConfigChange {
        let changes = diff(base, head);
        assert_eq!(changes.len(), 1, "{changes:#?}");
        changes.into_iter().next().unwrap()
    }

    const BASE: &str = r#"policy:
  licenses:
    allow: [MIT, Apache-2.0, "GPL-2.0-only WITH Classpath-exception-2.0"]
    review: ["LGPL-2.1-or-later", "MPL-2.0"]
    deny: [AGPL-3.0-only, GPL-2.0-only]
    unknown: review
    exceptions: [{package: "pkg:maven/com.mysql/mysql-connector-j", license: "GPL-2.0-only WITH Universal-FOSS-exception-1.0", reason: "vendor exception"}]
  packages:
    deny: [{package: "pkg:npm/event-stream", versions: "=3.3.6", reason: "compromised release"}]
"#;

    #[test]
    fn an_unchanged_policy_changes_nothing() {
        assert!(diff(BASE, BASE).is_empty());
        // Spelled differently, the same policy.
        let respelled = BASE
            .replace("\"LGPL-2.1-or-later\"", "\"LGPL-2.1+\"")
            .replace("GPL-2.0-only]", "GPL-2.0]");
        assert!(
            diff(BASE, &respelled).is_empty(),
            "{:#?}",
            diff(BASE, &respelled)
        );
    }

    #[test]
    fn lowered_verdicts_loosen() {
        let c = only(BASE, &BASE.replace("deny: [AGPL-3.0-only, ", "deny: ["));
        assert_eq!(c.setting, "policy.licenses");
        assert_eq!(
            c.description,
            "`AGPL-3.0-only` deny → unlisted: deny → review"
        );
        assert!(c.loosens);
        let c = only(BASE, &BASE.replace("allow: [MIT, ", "allow: [MIT, ISC, "));
        assert!(
            c.loosens && c.description.contains("unlisted → allow"),
            "{c:?}"
        );
        // Moving an entry to deny tightens.
        let c = only(
            BASE,
            &BASE
                .replace(", \"MPL-2.0\"]", "]")
                .replace("deny: [AGPL", "deny: [MPL-2.0, AGPL"),
        );
        assert!(
            !c.loosens && c.description.ends_with("review → deny"),
            "{c:?}"
        );
        // Dropping the WITH pair leaves it to the bare licence's deny: tighter.
        let c = only(
            BASE,
            &BASE.replace(", \"GPL-2.0-only WITH Classpath-exception-2.0\"", ""),
        );
        assert!(
            !c.loosens && c.description.ends_with("allow → deny"),
            "{c:?}"
        );
        let c = only(BASE, &BASE.replace("unknown: review", "unknown: allow"));
        assert_eq!(c.setting, "policy.licenses.unknown");
        assert!(c.loosens);
    }

    #[test]
    fn sections_scopes_exceptions_and_bans() {
        let c = only(
            BASE,
            "policy:\n  packages:\n    deny: [{package: \"pkg:npm/event-stream\", versions: \"=3.3.6\", reason: \"compromised release\"}]\n",
        );
        assert_eq!((c.setting.as_str(), c.loosens), ("policy.licenses", true));
        assert!(!only("", "policy:\n  licenses: {}\n").loosens);
        let c = only(
            BASE,
            &BASE.replace(
                "unknown: review",
                "unknown: review\n    scopes: [runtime, dev]",
            ),
        );
        assert!(!c.loosens && c.setting == "policy.licenses.scopes", "{c:?}");
        let c = only(
            &BASE.replace(
                "unknown: review",
                "unknown: review\n    scopes: [runtime, dev]",
            ),
            BASE,
        );
        assert!(
            c.loosens && c.description.starts_with("dev dependencies"),
            "{c:?}"
        );
        // An exception for every licence of the package is wider: loosens.
        let wider = BASE.replace(
            ", license: \"GPL-2.0-only WITH Universal-FOSS-exception-1.0\"",
            "",
        );
        let changes = diff(BASE, &wider);
        assert_eq!(changes.len(), 2, "{changes:#?}");
        assert!(changes[0].loosens && changes[0].description.contains("under any licence"));
        assert!(!changes[1].loosens && changes[1].description.starts_with("removes"));
        // Bans: removed loosens, added does not, a narrower range loosens.
        let c = only(BASE, &BASE.replace("  packages:\n    deny: [{package: \"pkg:npm/event-stream\", versions: \"=3.3.6\", reason: \"compromised release\"}]\n", ""));
        assert!(c.loosens && c.setting == "policy.packages.deny", "{c:?}");
        let c = only(BASE, &BASE.replace("versions: \"=3.3.6\", ", ""));
        assert!(!c.loosens && c.description.contains("=3.3.6 → *"), "{c:?}");
        let c = only(&BASE.replace("versions: \"=3.3.6\", ", ""), BASE);
        assert!(c.loosens, "{c:?}");
        let c = only(
            BASE,
            &BASE.replace("deny: [{", "deny: [{package: \"pkg:npm/left-pad\"}, {"),
        );
        assert!(
            !c.loosens && c.description == "bans `pkg:npm/left-pad` (versions *)",
            "{c:?}"
        );
    }
}
