//! The `POSTURE_*` environment variables posture reads, and a warning for any other: a typo
//! such as `POSTURE_LISTN` would otherwise be ignored without a word.

/// Every variable posture (the server, the CLI, its tests and benches) reads.
pub const KNOWN: &[&str] = &[
    "POSTURE_ACCESS_CACHE_SECONDS",
    "POSTURE_ALERT_MAX_ATTEMPTS",
    "POSTURE_ALERT_RETRY",
    "POSTURE_BENCH_DATABASE_URL",
    "POSTURE_BODY_TIMEOUT",
    "POSTURE_CONFIG",
    "POSTURE_DATABASE_URL",
    "POSTURE_GITHUB_API_URL",
    "POSTURE_GITHUB_APP_ID",
    "POSTURE_GITHUB_CLIENT_ID",
    "POSTURE_GITHUB_CLIENT_SECRET",
    "POSTURE_GITHUB_PRIVATE_KEY_FILE",
    "POSTURE_GITHUB_TOKEN",
    "POSTURE_GITHUB_WEBHOOK_SECRET",
    "POSTURE_GITHUB_WEB_URL",
    "POSTURE_GITLAB_CLIENT_ID",
    "POSTURE_GITLAB_CLIENT_SECRET",
    "POSTURE_GITLAB_TOKEN",
    "POSTURE_GITLAB_URL",
    "POSTURE_GITLAB_WEBHOOK_TOKEN",
    "POSTURE_HEADER_TIMEOUT",
    "POSTURE_INTEL_EPSS",
    "POSTURE_INTEL_KEV",
    "POSTURE_INTEL_REFRESH_HOURS",
    "POSTURE_JOB_LEASE_SECONDS",
    "POSTURE_LISTEN",
    "POSTURE_LOG",
    "POSTURE_MAX_CONNECTIONS",
    "POSTURE_MAX_INLINE_COMMENTS",
    "POSTURE_MEMORY_BUDGET",
    "POSTURE_METRICS_LISTEN",
    "POSTURE_OIDC_CLIENT_ID",
    "POSTURE_OIDC_CLIENT_SECRET",
    "POSTURE_OIDC_FORGE",
    "POSTURE_OIDC_FORGE_LOGIN_CLAIM",
    "POSTURE_OIDC_GROUPS_CLAIM",
    "POSTURE_OIDC_ISSUER",
    "POSTURE_OIDC_SCOPES",
    "POSTURE_PUBLIC_URL",
    "POSTURE_RECONCILE_MINUTES",
    "POSTURE_RETAIN_DAYS",
    "POSTURE_REVIEW_TIMEOUT",
    "POSTURE_SECRET_KEY",
    "POSTURE_SERVER",
    "POSTURE_SESSION_HOURS",
    "POSTURE_SETTINGS_FILE",
    "POSTURE_SETUP_TOKEN",
    "POSTURE_SHUTDOWN_GRACE",
    "POSTURE_TEST_DATABASE_URL",
    "POSTURE_TOKEN",
    "POSTURE_TRUSTED_PROXIES",
    "POSTURE_WORKERS",
];

/// The `POSTURE_*` names among `names` that posture does not know, each with the known name
/// it most likely meant (within two edits), sorted.
pub fn unknown<I, S>(names: I) -> Vec<(String, Option<&'static str>)>
where
    I: IntoIterator<Item = S>,
    S: Into<String>,
{
    let mut unknown: Vec<(String, Option<&'static str>)> = names
        .into_iter()
        .map(Into::into)
        .filter(|name| name.starts_with("POSTURE_") && !KNOWN.contains(&name.as_str()))
        .map(|name| {
            let guess = KNOWN
                .iter()
                .map(|known| (edit_distance(&name, known), *known))
                .filter(|(distance, _)| *distance <= 2)
                .min()
                .map(|(_, known)| known);
            (name, guess)
        })
        .collect();
    unknown.sort();
    unknown
}

/// The warning lines for the unknown variables of this process's environment (names only:
/// values may be secrets), except those `named_elsewhere` (the settings file's secrets).
pub fn warnings(named_elsewhere: &[&str]) -> Vec<String> {
    unknown(
        std::env::vars_os()
            .filter_map(|(name, _)| name.into_string().ok())
            .filter(|name| !named_elsewhere.contains(&name.as_str())),
    )
    .into_iter()
    .map(|(name, guess)| match guess {
        Some(guess) => format!("unknown variable {name} is ignored; did you mean {guess}?"),
        None => format!("unknown variable {name} is ignored"),
    })
    .collect()
}

/// Levenshtein distance over bytes (the names are ASCII).
fn edit_distance(a: &str, b: &str) -> usize {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, &ca) in a.iter().enumerate() {
        let mut current = vec![i + 1];
        for (j, &cb) in b.iter().enumerate() {
            let substitute = previous[j] + usize::from(ca != cb);
            current.push(substitute.min(previous[j + 1] + 1).min(current[j] + 1));
        }
        previous = current;
    }
    previous[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_typo_is_named_with_its_likely_meaning_and_known_names_pass() {
        let found = unknown([
            "POSTURE_LISTN",
            "POSTURE_LISTEN",
            "PATH",
            "POSTURE_SOMETHING_ELSE",
        ]);
        assert_eq!(
            found,
            [
                ("POSTURE_LISTN".to_owned(), Some("POSTURE_LISTEN")),
                ("POSTURE_SOMETHING_ELSE".to_owned(), None),
            ]
        );
    }

    #[test]
    fn every_variable_the_sources_name_is_known() {
        fn sources(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    sources(&path, out);
                } else if path.extension().is_some_and(|e| e == "rs")
                    && !path.ends_with("variables.rs")
                {
                    out.push(path);
                }
            }
        }
        let mut files = Vec::new();
        sources(
            &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
            &mut files,
        );
        let mut seen = 0;
        for file in files {
            let source = std::fs::read_to_string(&file).unwrap();
            for (at, _) in source.match_indices("\"POSTURE_") {
                let name: String = source[at + 1..]
                    .chars()
                    .take_while(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || *c == '_')
                    .collect();
                // A prefix (`"POSTURE_GITHUB_"`), not a name.
                if name.ends_with('_') {
                    continue;
                }
                seen += 1;
                assert!(
                    KNOWN.contains(&name.as_str()),
                    "{name} ({}) is not in KNOWN",
                    file.display()
                );
            }
        }
        assert!(seen > 20, "the scan found the crate's variables ({seen})");
    }

    #[test]
    fn edit_distance_counts_insertions_deletions_and_substitutions() {
        assert_eq!(edit_distance("LISTN", "LISTEN"), 1);
        assert_eq!(edit_distance("abc", "abc"), 0);
        assert_eq!(edit_distance("abc", "xbcd"), 2);
    }
}
