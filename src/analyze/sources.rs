//! File contents handed to the pure pipeline, indexed by line.

use std::collections::HashMap;

/// One text file, with its line starts precomputed so any line is an O(1) slice.
#[derive(Debug, Clone)]
pub struct SourceFile {
    text: String,
    line_starts: Vec<usize>,
}

impl SourceFile {
    pub fn new(text: String) -> Self {
        let line_starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        SourceFile { text, line_starts }
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    /// Line `n` (1-based) without its line ending.
    pub fn line(&self, n: u32) -> Option<&str> {
        let index = usize::try_from(n).ok()?.checked_sub(1)?;
        let start = *self.line_starts.get(index)?;
        let end = self
            .line_starts
            .get(index + 1)
            .map_or(self.text.len(), |&next| next - 1);
        if start > self.text.len() || (start == self.text.len() && index + 1 > 1) {
            // The empty "line" after a final newline does not exist.
            return None;
        }
        self.text
            .get(start..end)
            .map(|l| l.strip_suffix('\r').unwrap_or(l))
    }

    /// Lines `start..=end`, `None` when any is missing.
    pub fn lines(&self, start: u32, end: u32) -> Option<Vec<&str>> {
        (start..=end).map(|n| self.line(n)).collect()
    }
}

/// The files of one revision that the findings refer to, by repository-relative path.
#[derive(Debug, Clone, Default)]
pub struct Sources {
    files: HashMap<String, SourceFile>,
}

impl Sources {
    pub fn insert(&mut self, path: impl Into<String>, text: String) {
        self.files.insert(path.into(), SourceFile::new(text));
    }

    pub fn get(&self, path: &str) -> Option<&SourceFile> {
        self.files.get(path)
    }

    /// The stored path and file, so callers can key caches by a borrowed path.
    pub fn get_key_value(&self, path: &str) -> Option<(&str, &SourceFile)> {
        self.files.get_key_value(path).map(|(k, v)| (k.as_str(), v))
    }
}

/// The most lines, and characters per line, a comment quotes of the flagged code.
pub const SNIPPET_LINES: u32 = 5;
const SNIPPET_LINE_CHARS: usize = 200;

/// The flagged lines of `location` as they read in `sources` (the first
/// [`SNIPPET_LINES`], each cut to a readable width), for a comment to quote. `None` when the
/// file or the lines are not there, or the path is outside the repository.
pub fn flagged_lines(location: &crate::model::Location, sources: &Sources) -> Option<Box<str>> {
    if location.outside_repo {
        return None;
    }
    let (start, end) = location.lines()?;
    let end = end.min(start.saturating_add(SNIPPET_LINES - 1));
    let lines = sources.get(&location.path)?.lines(start, end)?;
    let mut out = String::new();
    for (i, line) in lines.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        match line.char_indices().nth(SNIPPET_LINE_CHARS) {
            Some((cut, _)) => {
                out.push_str(&line[..cut]);
                out.push('…');
            }
            None => out.push_str(line),
        }
    }
    (!out.trim().is_empty()).then(|| out.into_boxed_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flagged_lines_quote_at_most_five_lines_of_the_head_file() {
        use crate::model::Location;
        let mut sources = Sources::default();
        let text: String = (1..=9).map(|n| format!("line {n}\n")).collect();
        sources.insert("a.py", text);
        sources.insert("long.py", format!("{}\n", "x".repeat(300)));
        let at = |path: &str, start, end| Location::new(path).with_lines(start, end);
        assert_eq!(
            flagged_lines(&at("a.py", 2, 3), &sources).as_deref(),
            Some("line 2\nline 3")
        );
        assert_eq!(
            flagged_lines(&at("a.py", 2, u32::MAX), &sources).as_deref(),
            Some("line 2\nline 3\nline 4\nline 5\nline 6")
        );
        let long = flagged_lines(&at("long.py", 1, 1), &sources).unwrap();
        assert_eq!(long.chars().count(), 201);
        assert!(long.ends_with('…'));
        assert_eq!(flagged_lines(&at("a.py", 20, 20), &sources), None);
        assert_eq!(flagged_lines(&at("gone.py", 1, 1), &sources), None);
        let mut outside = at("a.py", 1, 1);
        outside.outside_repo = true;
        assert_eq!(flagged_lines(&outside, &sources), None);
    }

    #[test]
    fn lines_are_one_based_and_strip_line_endings() {
        let file = SourceFile::new("a\r\nb\n\nd\n".to_string());
        assert_eq!(file.line(1), Some("a"));
        assert_eq!(file.line(2), Some("b"));
        assert_eq!(file.line(3), Some(""));
        assert_eq!(file.line(4), Some("d"));
        assert_eq!(file.line(5), None);
        assert_eq!(file.line(0), None);
        assert_eq!(file.lines(1, 2), Some(vec!["a", "b"]));
        assert_eq!(file.lines(4, 5), None);
        let no_newline = SourceFile::new("x\ny".to_string());
        assert_eq!(no_newline.line(2), Some("y"));
        assert_eq!(SourceFile::new(String::new()).line(1), Some(""));
    }
}
