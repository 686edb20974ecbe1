//! Where a reader learns more about a finding: the rule's help page (the report's `helpUri`,
//! else the tool's documented URL pattern for its rule ids), an advisory's page, and a CWE's
//! page at MITRE. Links are markdown built here, from scanner text, so every part is made
//! safe: link text cannot close its brackets and a URL cannot leave its parentheses.

use crate::model::Finding;

/// The page that explains `finding`'s rule, when one is known.
pub fn rule_help(finding: &Finding) -> Option<String> {
    if let Some(uri) = finding.help_uri.as_deref().filter(|u| is_web(u)) {
        return Some(uri.to_owned());
    }
    if let Some(url) = finding
        .advisories
        .iter()
        .find(|a| a.id.eq_ignore_ascii_case(&finding.rule))
        .and_then(|a| a.url.as_deref())
        .filter(|u| is_web(u))
    {
        return Some(url.to_owned());
    }
    let rule = finding.rule.trim();
    if rule.is_empty() || rule.chars().any(char::is_whitespace) {
        return None;
    }
    let tools: Vec<String> = finding
        .tools
        .iter()
        .map(|t| t.to_ascii_lowercase())
        .collect();
    let by = |name: &str| tools.iter().any(|t| t.contains(name));
    let upper = rule.to_ascii_uppercase();
    // Advisory ids name their own databases, whichever tool reported them.
    if upper.starts_with("GHSA-") {
        return Some(format!("https://github.com/advisories/{rule}"));
    }
    if upper.starts_with("CVE-") {
        return Some(format!("https://nvd.nist.gov/vuln/detail/{upper}"));
    }
    if ["PYSEC-", "RUSTSEC-", "GO-", "OSV-", "MAL-"]
        .iter()
        .any(|prefix| upper.starts_with(prefix))
    {
        return Some(format!("https://osv.dev/vulnerability/{rule}"));
    }
    if by("semgrep") && rule.contains('.') {
        return Some(format!("https://semgrep.dev/r/{rule}"));
    }
    if by("bandit") && upper.starts_with('B') && rule[1..].chars().all(|c| c.is_ascii_digit()) {
        return Some(format!(
            "https://bandit.readthedocs.io/en/latest/search.html?q={rule}"
        ));
    }
    if by("hadolint") && upper.starts_with("DL") {
        return Some(format!("https://github.com/hadolint/hadolint/wiki/{rule}"));
    }
    if upper.starts_with("SC") && rule[2..].chars().all(|c| c.is_ascii_digit()) && rule.len() > 2 {
        return Some(format!("https://www.shellcheck.net/wiki/{upper}"));
    }
    if by("trivy") && (upper.starts_with("AVD-") || upper.starts_with("DS")) {
        return Some(format!(
            "https://avd.aquasec.com/misconfig/{}",
            rule.to_ascii_lowercase()
        ));
    }
    if by("gitleaks") {
        return Some(
            "https://github.com/gitleaks/gitleaks/blob/master/config/gitleaks.toml".into(),
        );
    }
    None
}

/// MITRE's page for CWE `number`.
pub fn cwe_page(number: u32) -> String {
    format!("https://cwe.mitre.org/data/definitions/{number}.html")
}

/// `[`text`](url)`: the text as code (so markdown inside it is inert), the URL with the
/// characters that would end or break the link percent-encoded.
pub fn code_link(text: &str, url: Option<&str>) -> String {
    let code = inline_code(text);
    match url {
        Some(url) => format!("[{code}]({})", safe_url(url)),
        None => code,
    }
}

/// `[text](url)` for text posture wrote itself.
pub fn plain_link(text: &str, url: &str) -> String {
    format!("[{text}]({})", safe_url(url))
}

/// `text` as inline code, with a backtick run longer than any inside it.
pub fn inline_code(text: &str) -> String {
    let text = text.replace(['\n', '\r'], " ");
    let longest = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let ticks = "`".repeat(longest + 1);
    // A code span that starts or ends with a backtick needs a space to keep them apart.
    let pad = if text.starts_with('`') || text.ends_with('`') {
        " "
    } else {
        ""
    };
    format!("{ticks}{pad}{}{pad}{ticks}", escape_html(&text))
}

fn is_web(url: &str) -> bool {
    let lower = url.trim().to_ascii_lowercase();
    lower.starts_with("https://") || lower.starts_with("http://")
}

fn safe_url(url: &str) -> String {
    let mut out = String::with_capacity(url.len());
    for c in url.trim().chars() {
        match c {
            ' ' => out.push_str("%20"),
            '(' => out.push_str("%28"),
            ')' => out.push_str("%29"),
            '<' => out.push_str("%3C"),
            '>' => out.push_str("%3E"),
            '"' => out.push_str("%22"),
            '`' => out.push_str("%60"),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// Code spans show `<` literally on GitHub but GitLab's sanitiser still sees tags: escape.
fn escape_html(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Finding, Kind};

    fn finding(tool: &str, rule: &str) -> Finding {
        Finding::new(Kind::Sast, tool, rule)
    }

    #[test]
    fn the_report_s_help_uri_wins_then_the_tool_s_pattern() {
        let mut f = finding("Bandit", "B602");
        f.help_uri = Some("https://bandit.readthedocs.io/en/1.8.6/plugins/b602.html".into());
        assert_eq!(
            rule_help(&f).as_deref(),
            Some("https://bandit.readthedocs.io/en/1.8.6/plugins/b602.html")
        );
        f.help_uri = Some("javascript:alert(1)".into());
        assert!(
            rule_help(&f)
                .unwrap()
                .starts_with("https://bandit.readthedocs.io/")
        );
        assert_eq!(
            rule_help(&finding("semgrep", "python.lang.x.y")).as_deref(),
            Some("https://semgrep.dev/r/python.lang.x.y")
        );
        assert_eq!(
            rule_help(&finding("osv-scanner", "GHSA-462w-v97r-4m45")).as_deref(),
            Some("https://github.com/advisories/GHSA-462w-v97r-4m45")
        );
        assert_eq!(
            rule_help(&finding("grype", "cve-2021-44228")).as_deref(),
            Some("https://nvd.nist.gov/vuln/detail/CVE-2021-44228")
        );
        assert_eq!(rule_help(&finding("custom", "my rule")), None);
        assert_eq!(rule_help(&finding("custom", "x")), None);
    }

    #[test]
    fn links_cannot_be_broken_out_of() {
        assert_eq!(
            code_link("a`b", Some("https://x/y (z)")),
            "[``a`b``](https://x/y%20%28z%29)"
        );
        assert_eq!(inline_code("`x"), "`` `x ``");
        assert_eq!(inline_code("<!--"), "`&lt;!--`");
        assert_eq!(
            cwe_page(78),
            "https://cwe.mitre.org/data/definitions/78.html"
        );
    }
}
