//! Maven's version order: a port of `org.apache.maven.artifact.versioning.ComparableVersion`
//! as Maven 3.8 implements it, because that is the order Maven resolves ranges by and the
//! order OSV's Maven ranges are written in.
//!
//! A version is lower-cased and split into a tree of items: numbers, qualifiers and nested
//! lists. `.` separates items in one list; `-`, and a switch between digits and letters,
//! opens a nested list (`1.0rc2` → `[1, [rc, [2]]]`); a qualifier after a `.` at the end or
//! before a digit opens one too (`1.0.b1` → `[1, [beta, [1]]]`). Trailing "null" items — `0`,
//! the release qualifiers `ga`, `final`, `release`, empty lists — are dropped, so `1.0`,
//! `1.0.0` and `1.0-final` are equal. Qualifiers order `alpha < beta < milestone < rc
//! (cr) < snapshot < release < sp < anything else` (the rest alphabetically); `a1`, `b1`,
//! `m1` are `alpha-1`, `beta-1`, `milestone-1`. A number is above any qualifier and any list.
//!
//! The tests' expectations were produced by Maven 3.8.7's own `ComparableVersion`.

use std::cmp::Ordering;

/// Qualifiers in their order; the empty string is the release.
const QUALIFIERS: [&str; 7] = ["alpha", "beta", "milestone", "rc", "snapshot", "", "sp"];
const RELEASE_INDEX: usize = 5;

/// A parsed Maven version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MavenVersion {
    items: Vec<Item>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Item {
    /// Decimal digits without leading zeros (`""` is zero), so any length compares.
    Number(String),
    /// A qualifier after aliasing (`cr` → `rc`, `ga`/`final`/`release` → `""`).
    Qualifier(String),
    List(Vec<Item>),
}

impl Item {
    fn number(digits: &str) -> Item {
        Item::Number(digits.trim_start_matches('0').to_string())
    }

    fn qualifier(text: &str, followed_by_digit: bool) -> Item {
        let text = match (followed_by_digit, text) {
            (true, "a") => "alpha",
            (true, "b") => "beta",
            (true, "m") => "milestone",
            (_, "ga" | "final" | "release") => "",
            (_, "cr") => "rc",
            (_, other) => other,
        };
        Item::Qualifier(text.to_string())
    }

    fn parse(is_digit: bool, text: &str) -> Item {
        if is_digit {
            Item::number(text)
        } else {
            Item::qualifier(text, false)
        }
    }

    fn is_null(&self) -> bool {
        match self {
            Item::Number(digits) => digits.is_empty(),
            Item::Qualifier(text) => text.is_empty(),
            Item::List(items) => items.is_empty(),
        }
    }

    /// `ComparableVersion`'s `compareTo`, where `None` is a missing item.
    fn compare(&self, other: Option<&Item>) -> Ordering {
        match (self, other) {
            (Item::Number(digits), None) => {
                if digits.is_empty() {
                    Ordering::Equal
                } else {
                    Ordering::Greater
                }
            }
            (Item::Number(a), Some(Item::Number(b))) => {
                a.len().cmp(&b.len()).then_with(|| a.cmp(b))
            }
            (Item::Number(_), Some(_)) => Ordering::Greater,
            (Item::Qualifier(text), None) => {
                comparable_qualifier(text).cmp(&RELEASE_INDEX.to_string())
            }
            (Item::Qualifier(a), Some(Item::Qualifier(b))) => {
                comparable_qualifier(a).cmp(&comparable_qualifier(b))
            }
            (Item::Qualifier(_), Some(Item::Number(_) | Item::List(_))) => Ordering::Less,
            (Item::List(items), None) => items
                .first()
                .map_or(Ordering::Equal, |first| first.compare(None)),
            (Item::List(_), Some(Item::Number(_))) => Ordering::Less,
            (Item::List(_), Some(Item::Qualifier(_))) => Ordering::Greater,
            (Item::List(a), Some(Item::List(b))) => compare_lists(a, b),
        }
    }
}

fn compare_lists(a: &[Item], b: &[Item]) -> Ordering {
    let len = a.len().max(b.len());
    for i in 0..len {
        let ordering = match (a.get(i), b.get(i)) {
            (None, None) => Ordering::Equal,
            (None, Some(right)) => right.compare(None).reverse(),
            (Some(left), right) => left.compare(right),
        };
        if ordering.is_ne() {
            return ordering;
        }
    }
    Ordering::Equal
}

/// A qualifier's sort key: its index among the known ones, else `"7-name"`; compared as
/// strings, exactly as Maven does.
fn comparable_qualifier(text: &str) -> String {
    match QUALIFIERS.iter().position(|q| *q == text) {
        Some(index) => index.to_string(),
        None => format!("{}-{text}", QUALIFIERS.len()),
    }
}

/// Drops trailing null items, looking past nested lists as Maven does.
fn normalize(items: &mut Vec<Item>) {
    let mut i = items.len();
    while i > 0 {
        i -= 1;
        if let Item::List(inner) = &mut items[i] {
            normalize(inner);
        }
        if items[i].is_null() {
            items.remove(i);
        } else if !matches!(items[i], Item::List(_)) {
            break;
        }
    }
}

/// The list being filled: a path of indices into nested lists.
struct Builder {
    root: Vec<Item>,
    /// Indices of the nested lists from the root down to the current one.
    path: Vec<usize>,
}

impl Builder {
    fn current(&mut self) -> &mut Vec<Item> {
        let mut list = &mut self.root;
        for &index in &self.path {
            list = match &mut list[index] {
                Item::List(inner) => inner,
                // The path only ever names lists it created.
                _ => unreachable_list(),
            };
        }
        list
    }

    fn add(&mut self, item: Item) {
        self.current().push(item);
    }

    /// Opens a nested list in the current one and makes it current.
    fn open(&mut self) {
        let list = self.current();
        list.push(Item::List(Vec::new()));
        let index = list.len() - 1;
        self.path.push(index);
    }
}

/// The builder's path always points at lists; this is never reached.
fn unreachable_list() -> ! {
    unreachable!("the builder's path names only lists")
}

impl MavenVersion {
    /// Parses any text, as Maven does (every string is a Maven version); `None` only for
    /// text that does not start with a digit (after an optional `v`), which is never a
    /// version posture could compare meaningfully.
    pub fn parse(text: &str) -> Option<MavenVersion> {
        let text = text.trim();
        let text = text.strip_prefix(['v', 'V']).unwrap_or(text);
        if !text.starts_with(|c: char| c.is_ascii_digit()) {
            return None;
        }
        Some(MavenVersion::parse_any(text))
    }

    /// `ComparableVersion.parseVersion`.
    fn parse_any(text: &str) -> MavenVersion {
        let version = text.to_lowercase();
        let chars: Vec<(usize, char)> = version.char_indices().collect();
        let mut builder = Builder {
            root: Vec::new(),
            path: Vec::new(),
        };
        let mut is_digit = false;
        let mut start = 0;
        for &(i, c) in &chars {
            if c == '.' || c == '-' {
                if i == start {
                    builder.add(Item::number("0"));
                } else {
                    builder.add(Item::parse(is_digit, &version[start..i]));
                }
                start = i + c.len_utf8();
                if c == '-' {
                    builder.open();
                }
            } else if c.is_ascii_digit() {
                if !is_digit && i > start {
                    // `1.0.0.X1 < 1.0.0-X2`: `.X` is treated as `-X`.
                    if !builder.current().is_empty() {
                        builder.open();
                    }
                    builder.add(Item::qualifier(&version[start..i], true));
                    start = i;
                    builder.open();
                }
                is_digit = true;
            } else {
                if is_digit && i > start {
                    builder.add(Item::parse(true, &version[start..i]));
                    start = i;
                    builder.open();
                }
                is_digit = false;
            }
        }
        if version.len() > start {
            if !is_digit && !builder.current().is_empty() {
                builder.open();
            }
            builder.add(Item::parse(is_digit, &version[start..]));
        }
        let mut items = builder.root;
        normalize(&mut items);
        MavenVersion { items }
    }

    /// The first number, the component a compatible upgrade keeps.
    pub fn first_number(&self) -> Option<u64> {
        match self.items.first() {
            Some(Item::Number(digits)) if digits.is_empty() => Some(0),
            Some(Item::Number(digits)) => digits.parse().ok(),
            None => Some(0),
            // `0-rc`, normalised to `[[rc]]`: major zero.
            Some(Item::List(_)) => Some(0),
            Some(Item::Qualifier(_)) => None,
        }
    }

    /// Holds a qualifier below the release (`alpha`, `beta`, `milestone`, `rc`, `snapshot`).
    pub fn is_prerelease(&self) -> bool {
        fn any(items: &[Item]) -> bool {
            items.iter().any(|item| match item {
                Item::Qualifier(text) => QUALIFIERS
                    .iter()
                    .position(|q| q == text)
                    .is_some_and(|index| index < RELEASE_INDEX),
                Item::List(inner) => any(inner),
                Item::Number(_) => false,
            })
        }
        any(&self.items)
    }
}

impl Ord for MavenVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        compare_lists(&self.items, &other.items)
    }
}

impl PartialOrd for MavenVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(text: &str) -> MavenVersion {
        MavenVersion::parse_any(text)
    }

    /// Each list is in ascending order, as Maven 3.8.7's `ComparableVersion` printed it
    /// (`java -cp maven-artifact-3.x.jar org.apache.maven.artifact.versioning.ComparableVersion …`).
    #[test]
    fn orders_as_maven_3_8_does() {
        let ascending: &[&[&str]] = &[
            &[
                "1-alpha2snapshot",
                "1-alpha2",
                "1-alpha-123",
                "1-beta-2",
                "1-beta123",
                "1-m2",
                "1-m11",
                "1-rc",
                "1-cr2",
                "1-rc123",
                "1-SNAPSHOT",
                "1",
                "1-sp",
                "1-sp2",
                "1-sp123",
                "1-abc",
                "1-def",
                "1-pom-1",
                "1-1-snapshot",
                "1-1",
                "1-2",
                "1-123",
            ],
            &[
                "2.0.a", "2-1", "2.0.2", "2.0.123", "2.1.0", "2.1-a", "2.1b", "2.1-c", "2.1-1",
                "2.1.0.1", "2.2", "2.123", "11.a2", "11.a11", "11.b2", "11.b11", "11.m2", "11.m11",
                "11", "11.a", "11b", "11c", "11m",
            ],
            &[
                "1.0-alpha-1",
                "1.0-beta-1",
                "1.0rc2",
                "1.0-rc-10",
                "1.0-SNAPSHOT",
                "1.0",
                "1.0-sp1",
                "1.0.1",
                "2.0.0.M1",
                "2.0.0.RC1",
                "2.0.0.RELEASE",
                "2.0.0.BUILD-SNAPSHOT",
                "2.9.10.8",
                "2.10",
                "2.12.7.1",
                "2.13.0",
                "2.17.0-rc1",
                "2.17.1",
                "5.3.18",
                "31.1-jre",
                "32.0.0-android",
                "32.0.0-jre",
                "32.0.1-jre",
            ],
        ];
        for list in ascending {
            for (i, a) in list.iter().enumerate() {
                for b in &list[i + 1..] {
                    assert_eq!(v(a).cmp(&v(b)), Ordering::Less, "{a} < {b}");
                    assert_eq!(v(b).cmp(&v(a)), Ordering::Greater, "{b} > {a}");
                }
            }
        }
    }

    #[test]
    fn equal_spellings() {
        let equal: &[&[&str]] = &[
            &[
                "1",
                "1.0",
                "1.0.0",
                "1.0-final",
                "1.0-ga",
                "1.0.Final",
                "1-0-0",
            ],
            &["2.0.a", "2.0.0.a", "2-a"],
            &["5.3.18", "5.3.18.RELEASE"],
            &["1.0-b", "1.0.b"],
            &["1.0.0-SNAPSHOT", "1.0.SNAPSHOT", "1-snapshot"],
            &["1.a1", "1-alpha-1", "1.0-alpha1"],
            &["1..2", "1.0.2"],
        ];
        for group in equal {
            for a in *group {
                for b in *group {
                    assert_eq!(v(a).cmp(&v(b)), Ordering::Equal, "{a} == {b}");
                }
            }
        }
    }

    #[test]
    fn token_trees_match_maven() {
        fn show(items: &[Item]) -> String {
            let parts: Vec<String> = items
                .iter()
                .map(|item| match item {
                    Item::Number(d) if d.is_empty() => "0".to_string(),
                    Item::Number(d) => d.clone(),
                    Item::Qualifier(q) => q.clone(),
                    Item::List(inner) => show(inner),
                })
                .collect();
            format!("[{}]", parts.join(", "))
        }
        let cases = [
            ("2.0.a", "[2, [a]]"),
            ("11.a2", "[11, [alpha, [2]]]"),
            ("1.0rc2", "[1, [rc, [2]]]"),
            ("2.0.0.BUILD-SNAPSHOT", "[2, 0, 0, build, [snapshot]]"),
            ("5.3.18.RELEASE", "[5, 3, 18]"),
            ("1-.2", "[1, [0, 2]]"),
            ("1.0-final-1", "[1, [[1]]]"),
            ("32.0.0-jre", "[32, [jre]]"),
            ("1.0.a.1", "[1, 0, a, 1]"),
            ("1.a.b", "[1, a, [b]]"),
            ("1.0.0.RELEASE.x", "[1, [x]]"),
            ("1-alpha2snapshot", "[1, [alpha, [2, [snapshot]]]]"),
        ];
        for (text, expected) in cases {
            assert_eq!(show(&v(text).items), expected, "{text}");
        }
    }

    #[test]
    fn huge_numbers_compare_by_value() {
        assert_eq!(
            v("1.123456789012345678901").cmp(&v("1.99")),
            Ordering::Greater
        );
        assert_eq!(v("1.0007").cmp(&v("1.7")), Ordering::Equal);
    }

    #[test]
    fn prereleases_and_majors() {
        assert!(v("2.17.0-rc1").is_prerelease());
        assert!(v("1.0-SNAPSHOT").is_prerelease());
        assert!(!v("31.1-jre").is_prerelease());
        assert!(!v("1.0-sp1").is_prerelease());
        assert_eq!(v("2.17.1").first_number(), Some(2));
        assert_eq!(v("0.9").first_number(), Some(0));
        assert_eq!(MavenVersion::parse("${log4j.version}"), None);
    }
}
