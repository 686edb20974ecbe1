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

#[cfg(test)]
mod tests {
    use super::*;

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
