//! Go modules: `go.mod` (its `require` lines and blocks; `// indirect` marks what only
//! other modules need) and, for a directory without a `go.mod`, `go.sum` (the modules and
//! versions it holds hashes of, nothing more).

use crate::model::ComponentScope;

use super::{Declared, Unreadable};

pub(super) fn go_mod(text: &str) -> Result<Vec<Declared>, Unreadable> {
    let mut declared = Vec::new();
    // The directive of the open block (`require (`) and the line that opened it.
    let mut block: Option<(&str, usize)> = None;
    for (index, raw) in text.lines().enumerate() {
        let number = index + 1;
        let (code, comment) = match raw.find("//") {
            Some(i) => (&raw[..i], &raw[i + 2..]),
            None => (raw, ""),
        };
        let code = code.trim();
        let indirect = comment.trim().starts_with("indirect");
        if code.is_empty() {
            continue;
        }
        let column = raw.len() - raw.trim_start().len() + 1;
        let entry = match block {
            Some(_) if code == ")" => {
                block = None;
                continue;
            }
            Some((directive, _)) => (directive, code),
            None => {
                let (directive, rest) = code.split_once(char::is_whitespace).unwrap_or((code, ""));
                let rest = rest.trim();
                if rest == "(" {
                    block = Some((directive, number));
                    continue;
                }
                (directive, rest)
            }
        };
        let (directive, rest) = entry;
        if directive != "require" {
            continue;
        }
        let fields: Vec<&str> = rest.split_whitespace().collect();
        let [path, version] = fields[..] else {
            return Err(Unreadable::at(
                number,
                column,
                format!("a requirement is `module/path version`, not `{rest}`"),
            ));
        };
        let mut d = Declared::new(unquote(path), ComponentScope::Runtime);
        d.version = Some(version.to_string());
        d.direct = Some(!indirect);
        d.line = u32::try_from(number).ok();
        declared.push(d);
    }
    if let Some((directive, line)) = block {
        return Err(Unreadable::at(
            line,
            1,
            format!("`{directive} (` is never closed"),
        ));
    }
    Ok(declared)
}

/// The modules `go.sum` holds, each version once, in the file's order; lines for a
/// module's `go.mod` alone (`v1.2.3/go.mod`) are not a download of it.
pub(super) fn go_sum(text: &str) -> Vec<Declared> {
    let mut declared: Vec<Declared> = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let mut fields = line.split_whitespace();
        let (Some(path), Some(version)) = (fields.next(), fields.next()) else {
            continue;
        };
        if version.ends_with("/go.mod")
            || declared
                .iter()
                .any(|d| d.name == path && d.version.as_deref() == Some(version))
        {
            continue;
        }
        let mut d = Declared::new(path, ComponentScope::Runtime);
        d.version = Some(version.to_string());
        d.direct = None;
        d.line = u32::try_from(index + 1).ok();
        declared.push(d);
    }
    declared
}

fn unquote(path: &str) -> &str {
    path.trim_matches(['"', '`'])
}
