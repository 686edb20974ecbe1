//! A YAML (and so JSON) document as a tree whose every node and mapping key knows its line.
//!
//! Built from `saphyr-parser`'s events, which carry a [`Marker`] (line and column) each:
//! serde_yaml_ng deserialises values but forgets where they were, and an OpenAPI finding
//! must point at the exact line of the operation. The parser is a state machine (no
//! recursion on nesting) and this builder keeps its own explicit stack, so a deeply nested
//! document is refused with an error at [`MAX_DEPTH`] instead of overflowing the stack.
//! Aliases share the anchored node (`Rc`), so a "billion laughs" document costs what its
//! text costs; an alias to an anchor not yet complete (a self-reference) is an error, so
//! the tree has no cycles.

use std::collections::HashMap;
use std::rc::Rc;

use saphyr_parser::{Event, Marker, Parser, ScanError};

/// How deep collections may nest. Real API descriptions stay well under 40.
pub const MAX_DEPTH: usize = 128;

/// A position in the text: 1-based line and column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    pub line: u32,
    pub column: u32,
}

impl Position {
    fn of(marker: &Marker) -> Position {
        Position {
            line: u32::try_from(marker.line()).unwrap_or(u32::MAX),
            column: u32::try_from(marker.col() + 1).unwrap_or(u32::MAX),
        }
    }
}

/// A node of the document.
#[derive(Debug)]
pub struct Node {
    pub at: Position,
    pub value: Value,
}

#[derive(Debug)]
pub enum Value {
    /// Any scalar, as written (`~`, `null` and an empty value are scalars too).
    Scalar(String),
    Sequence(Vec<Rc<Node>>),
    Mapping(Vec<Entry>),
}

/// One `key: value` pair of a mapping.
#[derive(Debug)]
pub struct Entry {
    /// The key's text; `None` for a key that is itself a collection (valid YAML, never
    /// OpenAPI).
    pub key: Option<String>,
    /// Where the key is written.
    pub at: Position,
    pub value: Rc<Node>,
}

impl Node {
    /// The value under `key`, when this node is a mapping holding it.
    pub fn get(&self, key: &str) -> Option<&Rc<Node>> {
        self.entry(key).map(|e| &e.value)
    }

    /// The entry of `key`, when this node is a mapping holding it.
    pub fn entry(&self, key: &str) -> Option<&Entry> {
        self.entries()?
            .iter()
            .find(|e| e.key.as_deref() == Some(key))
    }

    pub fn entries(&self) -> Option<&[Entry]> {
        match &self.value {
            Value::Mapping(entries) => Some(entries),
            _ => None,
        }
    }

    pub fn items(&self) -> Option<&[Rc<Node>]> {
        match &self.value {
            Value::Sequence(items) => Some(items),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::Scalar(text) => Some(text),
            _ => None,
        }
    }

    /// What the node is, for error messages.
    pub fn shape(&self) -> &'static str {
        match self.value {
            Value::Scalar(_) => "a scalar",
            Value::Sequence(_) => "a list",
            Value::Mapping(_) => "a mapping",
        }
    }
}

/// How many `$ref`s in a row [`follow`] takes before giving up (a chain that long is a loop).
const MAX_REF_HOPS: usize = 32;

/// The node a local `$ref` (`#/components/schemas/Pet`, `#/definitions/Pet`) names, following
/// chains of references; the node itself when it is no reference, or one this document
/// cannot resolve (another file, a URL, a broken or looping pointer).
pub fn follow(root: &Rc<Node>, node: &Rc<Node>) -> Rc<Node> {
    let mut current = Rc::clone(node);
    for _ in 0..MAX_REF_HOPS {
        let Some(target) = current
            .get("$ref")
            .and_then(|r| r.as_str())
            .and_then(|pointer| resolve(root, pointer))
        else {
            return current;
        };
        current = target;
    }
    current
}

/// The node at a local JSON pointer (`#/a/b~1c`, RFC 6901, percent-decoded as a URI fragment).
fn resolve(root: &Rc<Node>, pointer: &str) -> Option<Rc<Node>> {
    let path = pointer.strip_prefix('#')?;
    let path = percent_encoding::percent_decode_str(path)
        .decode_utf8()
        .ok()?;
    let mut current = Rc::clone(root);
    for token in path.split('/').skip(1) {
        let token = token.replace("~1", "/").replace("~0", "~");
        let next = match &current.value {
            Value::Mapping(_) => current.get(&token).cloned(),
            Value::Sequence(items) => token
                .parse::<usize>()
                .ok()
                .and_then(|i| items.get(i).cloned()),
            Value::Scalar(_) => None,
        }?;
        current = next;
    }
    Some(current)
}

/// Why a text is not a tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TreeError {
    Syntax {
        at: Position,
        message: String,
    },
    TooDeep {
        at: Position,
    },
    /// The text holds no document (empty, or only comments).
    Empty,
}

impl From<ScanError> for TreeError {
    fn from(error: ScanError) -> TreeError {
        let at = Position::of(error.marker());
        // The scanner has a nesting limit of its own for flow collections (`[[[…`), which
        // it may meet before this builder's.
        if error.info().contains("recursion limit") {
            return TreeError::TooDeep { at };
        }
        TreeError::Syntax {
            at,
            message: error.info().to_string(),
        }
    }
}

/// A collection being read.
enum Open {
    Sequence {
        anchor: usize,
        at: Position,
        items: Vec<Rc<Node>>,
    },
    Mapping {
        anchor: usize,
        at: Position,
        entries: Vec<Entry>,
        /// The key read, waiting for its value.
        key: Option<(Option<String>, Position)>,
    },
}

/// Reads the first document of `text`.
pub fn parse(text: &str) -> Result<Rc<Node>, TreeError> {
    let mut stack: Vec<Open> = Vec::new();
    let mut anchors: HashMap<usize, Rc<Node>> = HashMap::new();
    for event in Parser::new_from_str(text) {
        let (event, span) = event?;
        let at = Position::of(&span.start);
        let (node, anchor) = match event {
            Event::StreamEnd | Event::DocumentEnd => break,
            Event::Nothing | Event::StreamStart | Event::DocumentStart(_) => continue,
            Event::SequenceStart(..) | Event::MappingStart(..) if stack.len() >= MAX_DEPTH => {
                return Err(TreeError::TooDeep { at });
            }
            Event::SequenceStart(anchor, _) => {
                stack.push(Open::Sequence {
                    anchor,
                    at,
                    items: Vec::new(),
                });
                continue;
            }
            Event::MappingStart(anchor, _) => {
                stack.push(Open::Mapping {
                    anchor,
                    at,
                    entries: Vec::new(),
                    key: None,
                });
                continue;
            }
            Event::SequenceEnd | Event::MappingEnd => match stack.pop() {
                Some(Open::Sequence { anchor, at, items }) => (
                    Rc::new(Node {
                        at,
                        value: Value::Sequence(items),
                    }),
                    anchor,
                ),
                Some(Open::Mapping {
                    anchor,
                    at,
                    entries,
                    ..
                }) => (
                    Rc::new(Node {
                        at,
                        value: Value::Mapping(entries),
                    }),
                    anchor,
                ),
                // The parser pairs every end with its start.
                None => return Err(syntax(at, "a collection ends that never started")),
            },
            Event::Scalar(text, _, anchor, _) => (
                Rc::new(Node {
                    at,
                    value: Value::Scalar(text.into_owned()),
                }),
                anchor,
            ),
            Event::Alias(anchor) => match anchors.get(&anchor) {
                Some(node) => (Rc::clone(node), 0),
                None => return Err(syntax(at, "an alias to an anchor not yet complete")),
            },
        };
        if anchor != 0 {
            anchors.insert(anchor, Rc::clone(&node));
        }
        match stack.last_mut() {
            None => return Ok(node),
            Some(Open::Sequence { items, .. }) => items.push(node),
            Some(Open::Mapping { entries, key, .. }) => match key.take() {
                None => *key = Some((node.as_str().map(str::to_string), node.at)),
                Some((key, key_at)) => entries.push(Entry {
                    key,
                    at: key_at,
                    value: node,
                }),
            },
        }
    }
    Err(TreeError::Empty)
}

fn syntax(at: Position, message: &str) -> TreeError {
    TreeError::Syntax {
        at,
        message: message.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_know_their_lines_in_yaml_and_json() {
        let yaml = parse("a:\n  b: 1\n  c:\n    - x\n").unwrap();
        let a = yaml.entry("a").unwrap();
        assert_eq!(a.at, Position { line: 1, column: 1 });
        let c = a.value.entry("c").unwrap();
        assert_eq!(c.at, Position { line: 3, column: 3 });
        assert_eq!(c.value.items().unwrap()[0].as_str(), Some("x"));

        let json = parse("{\n  \"a\": {\n    \"b\": [1, 2]\n  }\n}").unwrap();
        let b = json.get("a").unwrap().entry("b").unwrap();
        assert_eq!(b.at, Position { line: 3, column: 5 });
        assert_eq!(b.value.items().unwrap().len(), 2);
    }

    #[test]
    fn references_are_followed_and_loops_stop() {
        let root = parse(concat!(
            "definitions:\n",
            "  A: {$ref: '#/definitions/B'}\n",
            "  B: {type: object}\n",
            "  a/b: {type: string}\n",
            "  Loop: {$ref: '#/definitions/Loop'}\n",
            "use: {$ref: '#/definitions/A'}\n",
            "slash: {$ref: '#/definitions/a~1b'}\n",
            "external: {$ref: 'other.yaml#/Pet'}\n",
        ))
        .unwrap();
        let kind = |key: &str| {
            let node = follow(&root, root.get(key).unwrap());
            node.get("type")
                .and_then(|t| t.as_str())
                .map(str::to_string)
        };
        assert_eq!(kind("use").as_deref(), Some("object"));
        assert_eq!(kind("slash").as_deref(), Some("string"));
        assert_eq!(kind("external"), None);
        let looping = root.get("definitions").unwrap().get("Loop").unwrap();
        assert!(follow(&root, looping).get("$ref").is_some());
    }

    #[test]
    fn aliases_share_their_anchor() {
        let tree = parse("base: &b {x: 1}\nother: *b\n").unwrap();
        let base = tree.get("base").unwrap();
        let other = tree.get("other").unwrap();
        assert!(Rc::ptr_eq(base, other));
    }

    #[test]
    fn syntax_errors_and_nesting_are_refused_with_a_position() {
        match parse("a: [1, 2\nb: 3\n") {
            Err(TreeError::Syntax { at, .. }) => assert!(at.line >= 2, "{at:?}"),
            other => panic!("{other:?}"),
        }
        let deep = format!("{}{}", "[".repeat(MAX_DEPTH + 1), "]".repeat(MAX_DEPTH + 1));
        assert_eq!(
            parse(&deep).unwrap_err(),
            TreeError::TooDeep {
                at: Position {
                    line: 1,
                    column: MAX_DEPTH as u32 + 1
                }
            }
        );
        assert_eq!(parse("# nothing\n").unwrap_err(), TreeError::Empty);
    }
}
