//! GitHub code scanning's `primaryLocationLineHash`, computed exactly as codeql-action does.
//!
//! GitHub identifies an alert across commits by a rolling hash of the 100 significant
//! characters starting at the flagged line (spaces and tabs dropped, CR/CRLF read as LF),
//! over UTF-16 code units, with `:n` numbering repeats of the same hash in the file. We
//! compute the same value so the SARIF we upload keeps GitHub's alert identity, and so our
//! own correlation agrees with GitHub's.

use std::collections::HashMap;

const BLOCK_SIZE: usize = 100;
const MOD: i64 = 37;
const TAB: u32 = '\t' as u32;
const SPACE: u32 = ' ' as u32;
const LF: u32 = '\n' as u32;
const CR: u32 = '\r' as u32;
/// codeql-action feeds this sentinel after the last character.
const EOF: u32 = 65535;

/// One line's hash and its number among the file's lines of that hash; displayed as
/// codeql-action writes it (`a7f2ff13bc495cf2:6`). Kept as numbers: a string per line of
/// every flagged file cost 22 MB in a review of 1,000 files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LineHash {
    value: u64,
    count: u32,
}

impl std::fmt::Display for LineHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:x}:{}", self.value, self.count)
    }
}

/// The hash of every line of `content`, index 0 for line 1. Like codeql-action, a trailing
/// newline yields one more (empty) line.
pub fn line_hashes(content: &str) -> Vec<LineHash> {
    let mut hasher = RollingHasher::new();
    for unit in content.encode_utf16() {
        hasher.process(u32::from(unit));
    }
    hasher.process(EOF);
    hasher.finish()
}

/// The hash of one 1-based line, or `None` when the file has no such line.
pub fn line_hash(content: &str, line: u32) -> Option<String> {
    let index = usize::try_from(line).ok()?.checked_sub(1)?;
    line_hashes(content).get(index).map(LineHash::to_string)
}

struct RollingHasher {
    window: [u32; BLOCK_SIZE],
    /// The line that starts at each window slot, if one does.
    line_numbers: [Option<usize>; BLOCK_SIZE],
    hash: i64,
    first_mod: i64,
    index: usize,
    line_number: usize,
    line_start: bool,
    prev_cr: bool,
    counts: HashMap<u64, u32>,
    out: Vec<LineHash>,
}

impl RollingHasher {
    fn new() -> Self {
        RollingHasher {
            window: [0; BLOCK_SIZE],
            line_numbers: [None; BLOCK_SIZE],
            hash: 0,
            first_mod: (0..BLOCK_SIZE).fold(1i64, |acc, _| acc.wrapping_mul(MOD)),
            index: 0,
            line_number: 0,
            line_start: true,
            prev_cr: false,
            counts: HashMap::new(),
            out: Vec::new(),
        }
    }

    fn process(&mut self, mut current: u32) {
        if current == SPACE || current == TAB || (self.prev_cr && current == LF) {
            self.prev_cr = false;
            return;
        }
        if current == CR {
            current = LF;
            self.prev_cr = true;
        } else {
            self.prev_cr = false;
        }
        if self.line_numbers[self.index].is_some() {
            self.output();
        }
        if self.line_start {
            self.line_start = false;
            self.line_number += 1;
            self.line_numbers[self.index] = Some(self.line_number);
        }
        if current == LF {
            self.line_start = true;
        }
        self.update(current);
    }

    fn update(&mut self, current: u32) {
        let begin = self.window[self.index];
        self.window[self.index] = current;
        self.hash = MOD
            .wrapping_mul(self.hash)
            .wrapping_add(i64::from(current))
            .wrapping_sub(self.first_mod.wrapping_mul(i64::from(begin)));
        self.index = (self.index + 1) % BLOCK_SIZE;
    }

    fn output(&mut self) {
        // Reinterpreting the bits is the point: codeql-action prints the unsigned value.
        let value = self.hash as u64;
        let count = self.counts.entry(value).or_insert(0);
        *count += 1;
        self.out.push(LineHash {
            value,
            count: *count,
        });
        self.line_numbers[self.index] = None;
    }

    fn finish(mut self) -> Vec<LineHash> {
        for _ in 0..BLOCK_SIZE {
            if self.line_numbers[self.index].is_some() {
                self.output();
            }
            self.update(0);
        }
        self.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// codeql-action's own vectors (src/fingerprints.test.ts).
    #[test]
    fn matches_codeql_action_vectors() {
        let cases: &[(&str, &[&str])] = &[
            ("", &["c129715d7a2bc9a3:1"]),
            (
                " a\nb\n  \t\tc\n d",
                &[
                    "271789c17abda88f:1",
                    "54703d4cd895b18:1",
                    "180aee12dab6264:1",
                    "a23a3dc5e078b07b:1",
                ],
            ),
            (
                " hello; \t\nworld!!!\n\n\n  \t\tGreetings\n End",
                &[
                    "8b7cf3e952e7aeb2:1",
                    "b1ae1287ec4718d9:1",
                    "bff680108adb0fcc:1",
                    "c6805c5e1288b612:1",
                    "b86d3392aea1be30:1",
                    "e6ceba753e1a442:1",
                ],
            ),
            (
                " hello; \t\nworld!!!\r\n\n\r  \t\tGreetings\r End\r\n",
                &[
                    "e9496ae3ebfced30:1",
                    "fb7c023a8b9ccb3f:1",
                    "ce8ba1a563dcdaca:1",
                    "e20e36e16fcb0cc8:1",
                    "b3edc88f2938467e:1",
                    "c8e28b0b4002a3a0:1",
                    "c129715d7a2bc9a3:1",
                ],
            ),
            (
                "x = 2\nx = 1\nprint(x)\nx = 3\nprint(x)\nx = 4\nprint(x)\n",
                &[
                    "e54938cc54b302f1:1",
                    "bb609acbe9138d60:1",
                    "1131fd5871777f34:1",
                    "5c482a0f8b35ea28:1",
                    "54517377da7028d2:1",
                    "2c644846cb18d53e:1",
                    "f1b89f20de0d133:1",
                    "c129715d7a2bc9a3:1",
                ],
            ),
        ];
        for (input, expected) in cases {
            let hashes: Vec<String> = line_hashes(input).iter().map(ToString::to_string).collect();
            assert_eq!(hashes, *expected, "input {input:?}");
        }
    }

    #[test]
    fn repeated_lines_are_numbered() {
        let hashes: Vec<String> = line_hashes(&"Lorem ipsum dolor sit amet.\n".repeat(10))
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(hashes[0], "a7f2ff13bc495cf2:1");
        assert_eq!(hashes[5], "a7f2ff13bc495cf2:6");
        assert_eq!(hashes[6], "a7f2ff1481e87703:1");
        assert_eq!(hashes.len(), 11);
    }

    #[test]
    fn crlf_and_lf_agree_and_line_lookup_is_one_based() {
        let lf = "alpha\nbeta\nalpha\n";
        assert_eq!(
            line_hashes(lf),
            line_hashes(" a l p h a \r\n\tbeta\r\nalpha\r\n")
        );
        assert_eq!(line_hash(lf, 2).as_deref(), Some("ca140c3f893ffa65:1"));
        assert_eq!(line_hash(lf, 0), None);
        assert_eq!(line_hash(lf, 9), None);
    }
}
