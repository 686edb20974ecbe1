//! Small text scanners over what tools write in free-form fields: CWE numbers in rule tags,
//! advisory ids (CVE, GHSA, …) inside rule ids and messages, `Key: value` lines in Trivy's and
//! Grype's messages, and SARIF's `{0}` message placeholders.

/// The CWE number a tag names: `external/cwe/cwe-079`, `CWE-79`, `cwe-89: SQL injection`.
pub(crate) fn cwe_number(tag: &str) -> Option<u32> {
    let lower = tag.to_ascii_lowercase();
    lower.match_indices("cwe").find_map(|(at, _)| {
        let rest = lower[at + 3..].trim_start_matches(['-', '_', ':', ' ']);
        let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
        digits.parse().ok()
    })
}

/// The CWE number of a value in a field that holds CWEs: a tag's spellings, or bare digits
/// (`502`, as SpotBugs names its CWE taxonomy entries).
pub(crate) fn cwe_id(value: &str) -> Option<u32> {
    cwe_number(value).or_else(|| value.trim().parse().ok())
}

/// Every distinct CWE number named by `tags`, in order of appearance.
pub(crate) fn cwes<'a>(tags: impl IntoIterator<Item = &'a str>) -> Vec<u32> {
    distinct(tags.into_iter().filter_map(cwe_number))
}

/// The distinct numbers, in order of first appearance.
pub(crate) fn distinct(numbers: impl IntoIterator<Item = u32>) -> Vec<u32> {
    let mut out = Vec::new();
    for number in numbers {
        if !out.contains(&number) {
            out.push(number);
        }
    }
    out
}

/// Advisory id prefixes recognised inside free text, with the shape of what follows them.
const ADVISORY_PREFIXES: [(&str, IdShape); 5] = [
    ("CVE-", IdShape::YearNumber),
    ("GHSA-", IdShape::Ghsa),
    ("PYSEC-", IdShape::YearNumber),
    ("RUSTSEC-", IdShape::YearNumber),
    ("GO-", IdShape::YearNumber),
];

#[derive(Clone, Copy)]
enum IdShape {
    /// `2021-3121`
    YearNumber,
    /// `c3h9-896r-86jm`
    Ghsa,
}

/// The advisory ids (CVE, GHSA, PYSEC, RUSTSEC, GO) found in `text`, in order, distinct.
pub(crate) fn advisory_ids(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for (prefix, shape) in ADVISORY_PREFIXES {
        for (at, _) in text.match_indices(prefix) {
            let preceded_by_word = text[..at]
                .chars()
                .next_back()
                .is_some_and(|c| c.is_ascii_alphanumeric());
            if preceded_by_word {
                continue;
            }
            if let Some(tail) = id_tail(&text[at + prefix.len()..], shape) {
                let id = format!("{prefix}{tail}");
                if !out.contains(&id) {
                    out.push(id);
                }
            }
        }
    }
    out.sort_by_key(|id| text.find(id.as_str()));
    out
}

fn id_tail(rest: &str, shape: IdShape) -> Option<&str> {
    match shape {
        IdShape::YearNumber => {
            let year = rest.get(..4)?;
            let after = rest.get(4..)?.strip_prefix('-')?;
            let digits = after.chars().take_while(char::is_ascii_digit).count();
            (year.chars().all(|c| c.is_ascii_digit()) && digits >= 1).then(|| &rest[..5 + digits])
        }
        IdShape::Ghsa => {
            let candidate = rest.get(..14)?;
            let well_formed = candidate.split('-').count() == 3
                && candidate
                    .split('-')
                    .all(|part| part.len() == 4 && part.chars().all(|c| c.is_ascii_alphanumeric()));
            well_formed.then_some(candidate)
        }
    }
}

/// The value of the first `Key: value` line whose key is one of `keys` (case-insensitive).
pub(crate) fn field<'a>(text: &'a str, keys: &[&str]) -> Option<&'a str> {
    text.lines().find_map(|line| {
        let (key, value) = line.split_once(':')?;
        let key = key.trim().trim_matches('*').trim();
        let value = value.trim();
        (keys.iter().any(|k| k.eq_ignore_ascii_case(key)) && !value.is_empty()).then_some(value)
    })
}

/// The first non-empty line of `text`, trimmed.
pub(crate) fn first_line(text: &str) -> Option<&str> {
    text.lines().map(str::trim).find(|line| !line.is_empty())
}

/// SARIF message placeholders `{0}`, `{1}`, … replaced by `arguments`; `{{`/`}}` unescaped.
pub(crate) fn substitute(template: &str, arguments: &[String]) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(open) = rest.find(['{', '}']) {
        out.push_str(&rest[..open]);
        let tail = &rest[open..];
        if let Some(after) = tail.strip_prefix("{{") {
            out.push('{');
            rest = after;
        } else if let Some(after) = tail.strip_prefix("}}") {
            out.push('}');
            rest = after;
        } else if let Some((argument, after)) = placeholder(tail, arguments) {
            out.push_str(argument);
            rest = after;
        } else {
            out.push_str(&tail[..1]);
            rest = &tail[1..];
        }
    }
    out.push_str(rest);
    out
}

/// `{N}` at the start of `tail` with an argument N: the argument and the text after it.
fn placeholder<'a, 't>(tail: &'t str, arguments: &'a [String]) -> Option<(&'a str, &'t str)> {
    let inner = tail.strip_prefix('{')?;
    let close = inner.find('}')?;
    let index: usize = inner[..close].parse().ok()?;
    Some((arguments.get(index)?.as_str(), &inner[close + 1..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cwe_tags_in_the_spellings_tools_use() {
        assert_eq!(cwe_number("external/cwe/cwe-079"), Some(79));
        assert_eq!(cwe_number("CWE-79"), Some(79));
        assert_eq!(cwe_number("cwe-89: SQL injection"), Some(89));
        assert_eq!(cwe_number("CWE_22"), Some(22));
        assert_eq!(cwe_number("security"), None);
        assert_eq!(cwe_number("external/cwe"), None);
        assert_eq!(cwe_number("502"), None, "bare digits in a tag name no CWE");
        assert_eq!(cwe_id("502"), Some(502));
        assert_eq!(cwe_id("CWE-79"), Some(79));
        assert_eq!(cwe_id("none"), None);
        assert_eq!(
            cwes(["CWE-79", "x", "external/cwe/cwe-079", "CWE-89"]),
            vec![79, 89]
        );
    }

    #[test]
    fn advisory_ids_inside_rule_ids_and_messages() {
        assert_eq!(
            advisory_ids("CVE-2008-0732-geronimo-j2ee-management_1.1_spec"),
            vec!["CVE-2008-0732"]
        );
        assert_eq!(
            advisory_ids("[MEDIUM] CVE-2019-1549"),
            vec!["CVE-2019-1549"]
        );
        assert_eq!(
            advisory_ids("ANCHOREVULN_CVE-2019-18276_dpkg_bash"),
            vec!["CVE-2019-18276"]
        );
        assert_eq!(
            advisory_ids("GHSA-c3h9-896r-86jm, see also CVE-2021-3121"),
            vec!["GHSA-c3h9-896r-86jm", "CVE-2021-3121"]
        );
        assert!(advisory_ids("py/sql-injection").is_empty());
        assert!(advisory_ids("XCVE-2019-1").is_empty());
    }

    #[test]
    fn key_value_fields() {
        let text = "Package: libcrypto1.1\nInstalled Version: 1.1.1c-r0\nFixed Version: ";
        assert_eq!(field(text, &["package"]), Some("libcrypto1.1"));
        assert_eq!(
            field(text, &["version", "installed version"]),
            Some("1.1.1c-r0")
        );
        assert_eq!(field(text, &["fixed version"]), None);
    }

    #[test]
    fn placeholders_are_substituted() {
        let args = vec!["ptr".to_string(), "0".to_string()];
        assert_eq!(
            substitute("Variable \"{0}\" declared [here]({1}). {{x}} {2}", &args),
            "Variable \"ptr\" declared [here](0). {x} {2}"
        );
    }
}
