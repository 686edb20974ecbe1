//! Escaping for HTML and XML (the dashboard, its SVG charts, the setup and sign-in pages):
//! one function, so every page escapes alike.

/// `text` safe in HTML or XML text and in single- or double-quoted attribute values;
/// control characters XML 1.0 forbids become U+FFFD.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            // Control characters are not allowed in XML 1.0.
            c if c.is_control() && !matches!(c, '\n' | '\t') => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_quotes_and_controls_are_neutralised() {
        assert_eq!(
            escape("<a href=\"x\">'&\u{1}\n"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;\u{fffd}\n"
        );
    }
}
