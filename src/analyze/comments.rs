//! Which lines of a flagged range are only a comment (or blank), per language, so that a
//! finding's identity does not change when someone adds or deletes a `# TODO` inside it.
//!
//! Only whole lines are judged: a line of code with a trailing comment stays as it is,
//! because telling a comment from a `#` or `//` inside a string literal needs a real lexer,
//! and the issue this answers is about comment-only lines. The language comes from the file
//! extension; an unknown one has no comments, which leaves the identity as it always was.
//!
//! The scan starts at the range's first line, not at the top of the file: a range that
//! starts inside a block comment sees its continuation lines as code. Scanning every file
//! from the top for every finding would cost far more than this rare case is worth, and
//! the error is on the safe side (the identity keeps those lines, as it did before).

/// How a language writes comments that fill a whole line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommentSyntax {
    /// `#` to the end of the line (Python, Ruby, shell, YAML, …). Python's triple-quoted
    /// strings are tracked so that a docstring line starting with `#` stays text.
    Hash { triple_quotes: bool },
    /// `//` to the end of the line and `/* … */` blocks (C, Java, JS/TS, Go, Rust, …).
    Slash,
    /// Both of the above (HCL / Terraform).
    HashAndSlash,
    /// Unknown: nothing is a comment.
    None,
}

impl CommentSyntax {
    /// The comment syntax of the file at `path`, by its extension (or name, for the few
    /// files that have none).
    pub fn for_path(path: &str) -> CommentSyntax {
        let name = path.rsplit('/').next().unwrap_or(path);
        if matches!(
            name,
            "Dockerfile" | "Containerfile" | "Makefile" | "Gemfile" | "Rakefile"
        ) {
            return CommentSyntax::Hash {
                triple_quotes: false,
            };
        }
        let Some((_, extension)) = name.rsplit_once('.') else {
            return CommentSyntax::None;
        };
        // Lower-cased only when it needs to be: this runs for every finding of a review.
        let extension = if extension.bytes().any(|b| b.is_ascii_uppercase()) {
            std::borrow::Cow::Owned(extension.to_ascii_lowercase())
        } else {
            std::borrow::Cow::Borrowed(extension)
        };
        match extension.as_ref() {
            "py" | "pyi" | "pyw" => CommentSyntax::Hash {
                triple_quotes: true,
            },
            "rb" | "rake" | "gemspec" | "sh" | "bash" | "zsh" | "ksh" | "yaml" | "yml" | "toml"
            | "r" | "pl" | "pm" | "ps1" | "cmake" | "dockerfile" | "tcl" | "nix" => {
                CommentSyntax::Hash {
                    triple_quotes: false,
                }
            }
            "js" | "mjs" | "cjs" | "jsx" | "ts" | "mts" | "cts" | "tsx" | "go" | "java" | "c"
            | "h" | "cc" | "cpp" | "cxx" | "hh" | "hpp" | "hxx" | "m" | "mm" | "cs" | "kt"
            | "kts" | "swift" | "rs" | "php" | "scala" | "sc" | "groovy" | "gradle" | "dart"
            | "proto" | "sol" | "zig" | "v" | "sv" => CommentSyntax::Slash,
            "tf" | "tfvars" | "hcl" => CommentSyntax::HashAndSlash,
            _ => CommentSyntax::None,
        }
    }

    fn hash(self) -> bool {
        matches!(
            self,
            CommentSyntax::Hash { .. } | CommentSyntax::HashAndSlash
        )
    }

    fn slash(self) -> bool {
        matches!(self, CommentSyntax::Slash | CommentSyntax::HashAndSlash)
    }
}

/// Where a scan of consecutive lines is: in code, in a `/* … */` block, or in a Python
/// triple-quoted string (whose delimiter it remembers).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Code,
    Block,
    Triple(&'static str),
}

/// The lines of `lines` (consecutive, in order) that are neither blank nor only a comment.
pub fn code_lines<'a>(lines: &[&'a str], syntax: CommentSyntax) -> Vec<&'a str> {
    let mut state = State::Code;
    let mut kept = Vec::with_capacity(lines.len());
    for &line in lines {
        let (comment_only, next) = judge(line, syntax, state);
        state = next;
        if !comment_only && !line.trim().is_empty() {
            kept.push(line);
        }
    }
    kept
}

/// Whether `line` is only a comment, and the state after it.
fn judge(line: &str, syntax: CommentSyntax, state: State) -> (bool, State) {
    let trimmed = line.trim();
    match state {
        State::Block => match trimmed.find("*/") {
            None => (true, State::Block),
            Some(at) => {
                let rest = trimmed[at + 2..].trim();
                if rest.is_empty() {
                    (true, State::Code)
                } else {
                    // Code after the block's end, or another comment opening: judge the rest.
                    let (only, next) = judge(rest, syntax, State::Code);
                    (only, next)
                }
            }
        },
        State::Triple(delimiter) => {
            let next = if trimmed.matches(delimiter).count() % 2 == 1 {
                State::Code
            } else {
                state
            };
            (false, next)
        }
        State::Code => {
            if syntax.slash() && trimmed.starts_with("//") {
                return (true, State::Code);
            }
            if syntax.hash() && trimmed.starts_with('#') {
                return (true, State::Code);
            }
            if syntax.slash()
                && let Some(body) = trimmed.strip_prefix("/*")
            {
                return match body.find("*/") {
                    None => (true, State::Block),
                    Some(at) => {
                        let rest = body[at + 2..].trim();
                        if rest.is_empty() {
                            (true, State::Code)
                        } else {
                            judge(rest, syntax, State::Code)
                        }
                    }
                };
            }
            if let CommentSyntax::Hash {
                triple_quotes: true,
            } = syntax
            {
                return (false, after_triple_quotes(trimmed));
            }
            (false, State::Code)
        }
    }
}

/// The state after a Python code line: inside a triple-quoted string when the line opens
/// one (an odd number of one delimiter) and does not close it.
fn after_triple_quotes(line: &str) -> State {
    for delimiter in ["\"\"\"", "'''"] {
        if line.matches(delimiter).count() % 2 == 1 {
            return State::Triple(delimiter);
        }
    }
    State::Code
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kept(path: &str, text: &str) -> Vec<String> {
        let lines: Vec<&str> = text.lines().collect();
        code_lines(&lines, CommentSyntax::for_path(path))
            .into_iter()
            .map(|l| l.trim().to_string())
            .collect()
    }

    #[test]
    fn hash_languages_drop_comment_and_blank_lines() {
        let text = "try:\n    run()\nexcept Exception:\n    # TODO: log it\n\n    pass\n";
        assert_eq!(
            kept("a.py", text),
            ["try:", "run()", "except Exception:", "pass"]
        );
        assert_eq!(
            kept("deploy/app.yaml", "a: 1\n# note\nb: 2\n"),
            ["a: 1", "b: 2"]
        );
        assert_eq!(
            kept("lib/x.rb", "begin\n  # why\n  x\nend\n"),
            ["begin", "x", "end"]
        );
        assert_eq!(kept("run.sh", "set -e\n  # hi\necho\n"), ["set -e", "echo"]);
        assert_eq!(
            kept("Dockerfile", "FROM x\n# pin\nRUN y\n"),
            ["FROM x", "RUN y"]
        );
    }

    #[test]
    fn slash_languages_drop_line_and_block_comments() {
        let text =
            "try {\n  run();\n} catch (e) {\n  // TODO\n  /* one */\n  /*\n   * two\n   */\n}\n";
        for path in [
            "a.js", "a.ts", "a.tsx", "a.go", "A.java", "a.c", "a.cpp", "a.cs", "a.rs",
        ] {
            assert_eq!(
                kept(path, text),
                ["try {", "run();", "} catch (e) {", "}"],
                "{path}"
            );
        }
        // A block comment followed by code on its line is code.
        assert_eq!(kept("a.c", "/* x */ run();\n"), ["/* x */ run();"]);
        assert_eq!(kept("a.c", "/*\n x */ run();\n"), ["x */ run();"]);
        // `#` is not a comment in C-like languages (preprocessor, PHP attributes).
        assert_eq!(kept("a.c", "#include <x.h>\n"), ["#include <x.h>"]);
        assert_eq!(kept("main.tf", "# a\n// b\nx = 1\n"), ["x = 1"]);
    }

    #[test]
    fn trailing_comments_docstrings_and_unknown_languages_are_kept() {
        // Code with a trailing comment stays whole: `#` may be inside a string.
        assert_eq!(kept("a.py", "x = '#'  # note\n"), ["x = '#'  # note"]);
        assert_eq!(
            kept("a.js", "u = 'http://x' // y\n"),
            ["u = 'http://x' // y"]
        );
        // A docstring is text, even a line of it starting with `#`.
        let doc =
            "def f():\n    \"\"\"Run.\n    # not a comment\n    \"\"\"\n    # a comment\n    x()\n";
        assert_eq!(
            kept("a.py", doc),
            ["def f():", "\"\"\"Run.", "# not a comment", "\"\"\"", "x()"]
        );
        // A one-line docstring does not open a string.
        assert_eq!(
            kept("a.py", "\"\"\"Doc.\"\"\"\n# c\nx\n"),
            ["\"\"\"Doc.\"\"\"", "x"]
        );
        assert_eq!(kept("notes.txt", "# a\n\nb\n"), ["# a", "b"]);
        assert_eq!(kept("Makefile", "# a\nb\n"), ["b"]);
        assert_eq!(kept("SRC/APP.PY", "# a\nb\n"), ["b"]);
    }
}
