//! A guard in front of the YAML parser. libyaml's scanner (under serde_yaml_ng) keeps a
//! possible key per open flow collection and walks them all at each token, so `key: [[[[…`
//! costs time quadratic in the nesting: 80,000 brackets took 11 s, 300 KB minutes, on the
//! job's thread. No configuration nests flow collections (`[…]`, `{…}`) deeply, so text
//! that does is refused by a linear scan before the parser sees it.

/// Flow collections nested deeper than this are refused.
pub const MAX_FLOW_DEPTH: usize = 64;

/// More `[` and `{` than this in all are refused, wherever they are. The depth scan follows
/// quotes the way a YAML reader would only roughly (a `"` inside a plain scalar is just a
/// character, and would hide what follows from it); this bound holds whatever the quoting,
/// and at this many libyaml's worst case costs milliseconds.
pub const MAX_FLOW_INDICATORS: usize = 10_000;

/// Where the flow nesting of `text` first passes [`MAX_FLOW_DEPTH`], as a 1-based line and
/// column; `None` when it never does.
///
/// Quoted scalars and comments are skipped; brackets inside block scalars are counted, which
/// only matters to a block scalar holding more than 64 unclosed brackets.
pub fn too_deep(text: &str) -> Option<(usize, usize)> {
    if let Some((at, _)) = text.match_indices(['[', '{']).nth(MAX_FLOW_INDICATORS) {
        let line = text[..at].matches('\n').count() + 1;
        let column = at - text[..at].rfind('\n').map_or(0, |n| n + 1) + 1;
        return Some((line, column));
    }
    let mut depth = 0usize;
    let (mut line, mut column) = (1, 0);
    let mut chars = text.chars().peekable();
    let mut previous = '\n';
    while let Some(c) = chars.next() {
        column += 1;
        match c {
            '\n' => {
                line += 1;
                column = 0;
            }
            '#' if previous.is_whitespace() => {
                // A comment runs to the end of the line.
                while chars.next_if(|&next| next != '\n').is_some() {}
            }
            '"' => {
                // Double quotes end at an unescaped `"`.
                while let Some(inner) = chars.next() {
                    match inner {
                        '\\' => {
                            chars.next();
                        }
                        '"' => break,
                        '\n' => {
                            line += 1;
                            column = 0;
                        }
                        _ => {}
                    }
                }
            }
            '\'' if !previous.is_alphanumeric() => {
                // Single quotes end at a `'` not doubled.
                while let Some(inner) = chars.next() {
                    match inner {
                        '\'' if chars.peek() == Some(&'\'') => {
                            chars.next();
                        }
                        '\'' => break,
                        '\n' => {
                            line += 1;
                            column = 0;
                        }
                        _ => {}
                    }
                }
            }
            '[' | '{' => {
                depth += 1;
                if depth > MAX_FLOW_DEPTH {
                    return Some((line, column));
                }
            }
            ']' | '}' => depth = depth.saturating_sub(1),
            _ => {}
        }
        previous = c;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deep_flow_nesting_is_found_where_it_passes_the_limit() {
        let deep = format!("version: 1\nfail_on: {}", "[".repeat(100));
        assert_eq!(too_deep(&deep), Some((2, 10 + MAX_FLOW_DEPTH)));
        let huge = format!("version: 1\nfail_on: {}", "[".repeat(300_000));
        assert!(too_deep(&huge).is_some());
        let maps = format!("reports: {}", "{a: ".repeat(100));
        assert!(too_deep(&maps).is_some());
    }

    #[test]
    fn a_stray_quote_does_not_hide_what_follows() {
        // In YAML the `"` of a plain scalar is a character, not a quote: the depth scan
        // would read the rest as quoted, the total bound still holds.
        let text = format!("x: a\"\ny: {}", "[".repeat(20_000));
        assert_eq!(too_deep(&text), Some((2, 4 + MAX_FLOW_INDICATORS)));
    }

    #[test]
    fn brackets_in_quotes_and_comments_and_closed_ones_do_not_count() {
        let brackets = "[".repeat(100);
        let text = format!(
            "reports: [\"{brackets}\", '{brackets}', 'it''s {brackets}']\n# {brackets}\n\
             ignore: [{}]\n",
            "[a], ".repeat(1_000)
        );
        assert_eq!(too_deep(&text), None);
    }
}
