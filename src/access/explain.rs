//! What `posture auth check` prints: for each org, what someone reads and why (which
//! token, team, group or forge permission), and what was not granted and why, so nobody has
//! to guess why a page is empty. Pure: the [`OrgAccess`]es come in.

use serde_json::{Value, json};

use super::{OrgAccess, Reach};

/// The text form, one block per org.
pub fn text(who: &str, orgs: &[OrgAccess]) -> String {
    let mut out = format!("{who}\n");
    if orgs.is_empty() {
        out.push_str("  reads nothing: posture knows no org, and the settings file names none\n");
    }
    for access in orgs {
        let readable = readable(access);
        let reach = match &access.reach {
            Reach::Everything => "every repository".to_owned(),
            Reach::Only(_) if readable.is_empty() => "nothing".to_owned(),
            Reach::Only(repositories) => format!(
                "{} of {} repositories asked about",
                repositories.len(),
                access.asked.len()
            ),
        };
        out.push_str(&format!("\n{}: {reach}\n", access.org));
        for why in &access.why {
            out.push_str(&format!("  because: {why}\n"));
        }
        if access.why.is_empty() {
            out.push_str(
                "  because: no role applies (the org's roles name no team or group of theirs)\n",
            );
        }
        for (repository, answer) in &access.asked {
            let line = match answer {
                Ok(true) => "reads (the forge gives them access)".to_owned(),
                Ok(false) => "not readable (the forge gives them no access)".to_owned(),
                Err(error) => format!("not readable: the forge could not say ({error})"),
            };
            out.push_str(&format!("  {repository}: {line}\n"));
        }
        for problem in &access.problems {
            out.push_str(&format!("  problem: {problem}\n"));
        }
    }
    out
}

/// The JSON form: `{"who", "orgs": [{"org", "reach", "repositories", "why", "asked",
/// "problems"}]}`.
pub fn json(who: &str, orgs: &[OrgAccess]) -> Value {
    let orgs: Vec<Value> = orgs
        .iter()
        .map(|access| {
            let asked: Vec<Value> = access
                .asked
                .iter()
                .map(|(repository, answer)| match answer {
                    Ok(readable) => json!({"repository": repository, "readable": readable}),
                    Err(error) => json!({
                        "repository": repository,
                        "readable": false,
                        "error": error,
                    }),
                })
                .collect();
            json!({
                "org": access.org,
                "reach": match access.reach {
                    Reach::Everything => "everything",
                    Reach::Only(_) => "repositories",
                },
                // Every repository of the org: `null`, not a list.
                "repositories": match access.reach {
                    Reach::Everything => Value::Null,
                    Reach::Only(_) => json!(readable(access)),
                },
                "why": access.why,
                "asked": asked,
                "problems": access.problems,
            })
        })
        .collect();
    json!({ "who": who, "orgs": orgs })
}

fn readable(access: &OrgAccess) -> Vec<String> {
    match &access.reach {
        Reach::Everything => Vec::new(),
        Reach::Only(repositories) => repositories.iter().cloned().collect(),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};

    use super::*;
    use crate::access::{Role, Why};

    #[test]
    fn every_grant_and_refusal_is_explained() {
        let orgs = vec![
            OrgAccess {
                org: "acme".into(),
                reach: Reach::Everything,
                why: vec![Why::Team {
                    role: Role::Security,
                    team: "acme/appsec".into(),
                }],
                asked: BTreeMap::new(),
                problems: Vec::new(),
            },
            OrgAccess {
                org: "beta".into(),
                reach: Reach::Only(BTreeSet::from(["beta/api".to_owned()])),
                why: vec![Why::Viewer],
                asked: BTreeMap::from([
                    ("beta/api".to_owned(), Ok(true)),
                    ("beta/web".to_owned(), Ok(false)),
                    ("beta/old".to_owned(), Err("GitHub unavailable".to_owned())),
                ]),
                problems: vec!["team beta/appsec (role security) not granted: 502".into()],
            },
        ];
        let text = text("octocat (github)", &orgs);
        assert!(
            text.contains("acme: every repository\n  because: role security from team acme/appsec"),
            "{text}"
        );
        assert!(
            text.contains("beta: 1 of 3 repositories asked about"),
            "{text}"
        );
        assert!(
            text.contains("beta/api: reads (the forge gives them access)"),
            "{text}"
        );
        assert!(
            text.contains("beta/web: not readable (the forge gives them no access)"),
            "{text}"
        );
        assert!(
            text.contains("beta/old: not readable: the forge could not say (GitHub unavailable)"),
            "{text}"
        );
        assert!(text.contains("problem: team beta/appsec"), "{text}");
        let json = json("octocat (github)", &orgs);
        assert_eq!(json["orgs"][0]["reach"], "everything");
        assert_eq!(json["orgs"][0]["why"][0]["because"], "team");
        assert_eq!(
            json["orgs"][1]["repositories"],
            serde_json::json!(["beta/api"])
        );
        assert_eq!(json["orgs"][1]["asked"][1]["readable"], false);
        assert!(json["orgs"][0]["repositories"].is_null());
    }
}
