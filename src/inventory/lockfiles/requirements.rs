//! pip's `requirements*.txt`: one requirement a line (PEP 508: `name[extras]==1.2.3 ;
//! marker`), comments, line continuations, and options (`-r`, `-c`, `-e`, `--hash`, `-i`, …)
//! skipped. A version only when pinned (`==`, `===`); the scope from the file's name
//! (`requirements-dev.txt` → dev, `requirements-test.txt` → test).

use crate::model::ComponentScope;

use super::{Declared, Unreadable, file_name};

/// The requirements of one file, and the first line that is not one (the others are still
/// read).
pub(super) fn read(path: &str, text: &str) -> (Vec<Declared>, Option<Unreadable>) {
    let scope = scope_of(file_name(path));
    let mut declared = Vec::new();
    let mut problem = None;
    let mut logical = String::new();
    let mut first_line = 0;
    for (index, raw) in text.lines().enumerate() {
        if logical.is_empty() {
            first_line = index + 1;
        }
        let line = strip_comment(raw);
        if let Some(continued) = line.trim_end().strip_suffix('\\') {
            logical.push_str(continued);
            logical.push(' ');
            continue;
        }
        logical.push_str(line);
        let entry = std::mem::take(&mut logical);
        let entry = entry.trim();
        if entry.is_empty() || entry.starts_with('-') {
            continue;
        }
        // Options after the requirement (`--hash=…`) are not part of it.
        let spec = entry.split(" --").next().unwrap_or(entry);
        match pep508(spec) {
            Some((name, version)) => {
                let mut d = Declared::new(&name, scope);
                d.version = version;
                d.line = u32::try_from(first_line).ok();
                declared.push(d);
            }
            // A URL or path; `…#egg=name` names the package.
            None if entry.contains("://") || entry.starts_with(['.', '/']) => {
                let name: String = entry
                    .split("#egg=")
                    .nth(1)
                    .unwrap_or_default()
                    .chars()
                    .take_while(|&c| is_name_char(c))
                    .collect();
                if !name.is_empty() {
                    let mut d = Declared::new(&name, scope);
                    d.line = u32::try_from(first_line).ok();
                    declared.push(d);
                }
            }
            None if problem.is_none() => {
                let column = raw.len() - raw.trim_start().len() + 1;
                problem = Some(Unreadable::at(
                    first_line,
                    column,
                    format!("not a requirement: `{}`", truncate(entry)),
                ));
            }
            None => {}
        }
    }
    (declared, problem)
}

/// The scope a requirements file's name gives: `…dev…` dev, `…test…` test, else runtime.
fn scope_of(name: &str) -> ComponentScope {
    let name = name.to_ascii_lowercase();
    if name.contains("test") {
        ComponentScope::Test
    } else if name.contains("dev") || name.contains("lint") || name.contains("docs") {
        ComponentScope::Dev
    } else {
        ComponentScope::Runtime
    }
}

/// The line without a comment (`#` at the start or after whitespace; `#egg=` is kept).
fn strip_comment(line: &str) -> &str {
    if line.trim_start().starts_with('#') {
        return "";
    }
    match line.find(" #").or_else(|| line.find("\t#")) {
        Some(i) => &line[..i],
        None => line,
    }
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')
}

fn truncate(text: &str) -> String {
    text.chars().take(60).collect()
}

/// The name and pinned version of a PEP 508 requirement (`requests[socks]==2.31.0 ;
/// python_version < "3.12"`); the version only for `==`/`===` without a wildcard. `None`
/// when it does not start with a name.
pub(super) fn pep508(spec: &str) -> Option<(String, Option<String>)> {
    let spec = spec.split(';').next().unwrap_or(spec).trim();
    if !spec.starts_with(|c: char| c.is_ascii_alphanumeric()) {
        return None;
    }
    let end = spec.find(|c: char| !is_name_char(c)).unwrap_or(spec.len());
    let name = spec[..end].to_string();
    let mut rest = spec[end..].trim_start();
    if rest.starts_with('[') {
        rest = rest
            .split_once(']')
            .map_or("", |(_, after)| after)
            .trim_start();
    }
    let rest = rest.trim_start_matches('(').trim_end_matches(')').trim();
    if !rest.is_empty() && !rest.starts_with(['=', '<', '>', '~', '!', '@', ',']) {
        return None;
    }
    let version = rest
        .strip_prefix("===")
        .or_else(|| rest.strip_prefix("=="))
        .map(|v| v.split([',', ' ']).next().unwrap_or(v).trim().to_string())
        .filter(|v| !v.is_empty() && !v.contains('*'));
    Some((name, version))
}
