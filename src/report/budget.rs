//! Rendering within a size limit. A forge refuses a body over its limit (GitHub: 65,536
//! characters per comment and 65,535 per check-run summary; GitLab: 1,000,000 per note), and a
//! review of 30,000 findings renders to megabytes. Rather than cut the text mid-finding, the
//! renderer is asked for fewer findings until the body fits: the header and the notes are
//! always rendered, the findings come highest risk first, and the body says how many it
//! left out.

/// How large a rendered body may be, in its reader's unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    /// Unicode scalar values, as GitHub and GitLab count a comment's length.
    Chars(usize),
    /// UTF-8 bytes: the CLI's `--max-bytes`, and GitHub's check-run summary (documented in
    /// characters, enforced in bytes).
    Bytes(usize),
}

impl Limit {
    /// A GitHub issue or review comment.
    pub const GITHUB_COMMENT: Limit = Limit::Chars(65_536);
    /// A GitHub check run's `output.summary`.
    pub const GITHUB_CHECK_SUMMARY: Limit = Limit::Bytes(65_535);
    /// A GitLab note (merge request note or discussion note).
    pub const GITLAB_NOTE: Limit = Limit::Chars(1_000_000);
    /// The CLI's markdown, unless `--max-bytes` says otherwise.
    pub const CLI_DEFAULT: Limit = Limit::Bytes(65_536);

    /// `text`'s size in this limit's unit.
    pub fn size(self, text: &str) -> usize {
        match self {
            Limit::Chars(_) => text.chars().count(),
            Limit::Bytes(_) => text.len(),
        }
    }

    pub fn max(self) -> usize {
        match self {
            Limit::Chars(max) | Limit::Bytes(max) => max,
        }
    }

    pub fn fits(self, text: &str) -> bool {
        // A text of `max` bytes or fewer has at most `max` characters: no count needed.
        text.len() <= self.max() || self.size(text) <= self.max()
    }

    /// The same unit with `used` of it already spent (a prefix the body follows).
    pub fn less(self, used: usize) -> Limit {
        match self {
            Limit::Chars(max) => Limit::Chars(max.saturating_sub(used)),
            Limit::Bytes(max) => Limit::Bytes(max.saturating_sub(used)),
        }
    }

    /// `text` cut on a character boundary to fit, ending with `note` when cut: the last
    /// resort when even a body without findings is too large (thousands of notes).
    pub fn cut(self, text: &str, note: &str) -> String {
        if self.fits(text) {
            return text.to_owned();
        }
        let room = self.max().saturating_sub(self.size(note));
        let end = match self {
            Limit::Chars(_) => text.char_indices().nth(room).map_or(text.len(), |(i, _)| i),
            Limit::Bytes(_) => {
                let mut end = room.min(text.len());
                while !text.is_char_boundary(end) {
                    end -= 1;
                }
                end
            }
        };
        let mut out = String::with_capacity(end + note.len());
        out.push_str(&text[..end]);
        if self.fits(&format!("{out}{note}")) {
            out.push_str(note);
        }
        out
    }
}

/// What [`fit`] chose: the body, and how many of the `total` items it holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fitted {
    pub body: String,
    pub kept: usize,
}

/// The note a hard cut ends with.
pub const CUT_NOTE: &str = "\n\n… (cut here: too long for the forge)";

/// The body that `render(kept)` gives for the largest `kept` (at most `total`) that fits
/// `limit`. `render(k)` must render the first `k` items (highest risk first) and the rest of
/// the body, its size growing with `k`. Probes double from a small count and then bisect, so
/// a body that fits a hundred findings is never rendered with thirty thousand.
pub fn fit<E>(
    total: usize,
    limit: Limit,
    mut render: impl FnMut(usize) -> Result<String, E>,
) -> Result<Fitted, E> {
    const FIRST_PROBE: usize = 64;
    let mut probe = total.min(FIRST_PROBE);
    // The largest count known to fit, with its body, and the smallest known not to, with
    // its size.
    let mut good: Option<Fitted> = None;
    let (mut bad, mut bad_size);
    loop {
        let body = render(probe)?;
        if limit.fits(&body) {
            if probe == total {
                return Ok(Fitted { body, kept: probe });
            }
            good = Some(Fitted { body, kept: probe });
            probe = (probe * 2).min(total);
        } else {
            (bad, bad_size) = (probe, limit.size(&body));
            break;
        }
    }
    let mut good = match good {
        Some(good) => good,
        None => {
            let body = render(0)?;
            if !limit.fits(&body) {
                return Ok(Fitted {
                    body: limit.cut(&body, CUT_NOTE),
                    kept: 0,
                });
            }
            Fitted { body, kept: 0 }
        }
    };
    let mut good_size = limit.size(&good.body);
    while bad - good.kept > 1 {
        // Findings render to similar sizes: interpolate between the two bounds (a few
        // renders of a megabyte rather than a dozen), bisecting only when that stalls.
        let per_item = (bad_size - good_size) as f64 / (bad - good.kept) as f64;
        let guess = good.kept + ((limit.max() - good_size) as f64 / per_item.max(1.0)) as usize;
        let middle = if guess > good.kept && guess < bad {
            guess
        } else {
            good.kept + (bad - good.kept) / 2
        };
        let body = render(middle)?;
        let size = limit.size(&body);
        if limit.fits(&body) {
            good_size = size;
            good = Fitted { body, kept: middle };
        } else {
            (bad, bad_size) = (middle, size);
        }
    }
    Ok(good)
}

/// `12345` → `12,345`: counts in notes read at a glance.
pub fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(k: usize) -> Result<String, ()> {
        Ok(format!("head\n{}", "item\n".repeat(k)))
    }

    #[test]
    fn the_largest_count_that_fits_is_chosen_without_rendering_everything() {
        let mut largest = 0;
        let fitted = fit(30_000, Limit::Bytes(5 + 5 * 100), |k| {
            largest = largest.max(k);
            lines(k)
        })
        .unwrap();
        assert_eq!(fitted.kept, 100);
        assert_eq!(fitted.body.len(), 505);
        assert!(largest <= 256, "probed up to {largest}");
        // Everything fits: rendered once, whole.
        let fitted = fit(10, Limit::Bytes(1_000), lines).unwrap();
        assert_eq!(fitted.kept, 10);
    }

    #[test]
    fn a_skeleton_too_large_is_cut_on_a_character_boundary() {
        let fitted = fit(3, Limit::Chars(50), |_| Ok::<_, ()>("é".repeat(80))).unwrap();
        assert_eq!(fitted.kept, 0);
        assert!(Limit::Chars(50).fits(&fitted.body));
        assert!(fitted.body.ends_with(CUT_NOTE), "{}", fitted.body);
        let cut = Limit::Bytes(7).cut("ééééé", "");
        assert_eq!(cut, "ééé");
    }

    #[test]
    fn characters_and_bytes_are_counted_apart() {
        assert!(Limit::Chars(3).fits("ééé"));
        assert!(!Limit::Bytes(3).fits("ééé"));
        assert_eq!(Limit::Chars(10).less(4), Limit::Chars(6));
        assert_eq!(thousands(29_950), "29,950");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_000_000), "1,000,000");
    }
}
