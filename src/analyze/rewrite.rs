//! The last pass of correlation: a base finding left `fixed` and a head finding of the same
//! rule left `new`, where the diff put the base finding's line, whose texts are one piece of
//! code rewritten (see [`super::similarity`]), are one finding that changed. A formatter
//! switching quote style or a moderniser turning `super(X, self)` into `super()` has not
//! fixed one problem and introduced another.
//!
//! Where the diff put a base line: the head line it maps to when the change left it alone
//! (a multi-line finding whose later lines changed), else the lines of the hunk that
//! replaced it. Only leftovers are looked at, grouped by path and rule and sorted by line,
//! and each base finding is compared with at most [`CANDIDATES`] head findings nearest the
//! line at its offset into the hunk: never all pairs, so a review of 100,000 findings a side
//! costs a sort more than before, and a formatter rewriting a whole file stays linear.
//! Findings about a package (dependency and component policy findings) are never paired.
//! Pairs are then taken best score first, nearest first, so the outcome does not depend on
//! the order of the reports.

use std::collections::HashMap;

use super::diff::DiffIndex;
use super::identity::{code_text, is_package_rule};
use super::similarity::{Tokens, rewrite_score};
use super::sources::Sources;
use crate::model::Finding;

/// How many head findings one base finding is compared with, at most.
pub const CANDIDATES: usize = 8;

/// A head finding still unmatched: path, rule, start line and its index, sortable.
type FreeHead<'a> = (&'a str, &'a str, u32, usize);

/// Pairs leftover base and head findings that are one rewritten finding, recording them in
/// `base_match` and `head_match`. Returns the paired head indices, sorted.
pub fn pair_rewrites(
    base: &[Finding],
    head: &[Finding],
    diff: &DiffIndex<'_>,
    base_sources: &Sources,
    head_sources: &Sources,
    base_match: &mut [Option<usize>],
    head_match: &mut [Option<usize>],
) -> Vec<usize> {
    let mut heads: Vec<FreeHead> = head
        .iter()
        .enumerate()
        .filter(|&(h, f)| head_match[h].is_none() && !by_package(f))
        .filter_map(|(h, f)| {
            let location = f.location.as_ref().filter(|l| !l.outside_repo)?;
            Some((
                location.path.as_str(),
                f.rule.as_str(),
                location.start_line?,
                h,
            ))
        })
        .collect();
    if heads.is_empty() {
        return Vec::new();
    }
    heads.sort_unstable();
    let mut head_tokens: HashMap<usize, Option<Tokens>> = HashMap::new();
    // (score, distance from the aligned line, base, head)
    let mut candidates: Vec<(f64, u32, usize, usize)> = Vec::new();
    for (b, finding) in base.iter().enumerate() {
        if base_match[b].is_some() || by_package(finding) {
            continue;
        }
        let Some(location) = finding.location.as_ref().filter(|l| !l.outside_repo) else {
            continue;
        };
        let (Some(start), Some(path)) = (location.start_line, diff.head_path(&location.path))
        else {
            continue;
        };
        let (first, last, aligned) = match diff.map_line(&location.path, start) {
            Some(line) => (line, line, line),
            None => match diff.replacement(&location.path, start) {
                Some(r) => (r.first, r.last, r.aligned),
                None => continue,
            },
        };
        let rule = finding.rule.as_str();
        let from = heads.partition_point(|&(p, r, line, _)| (p, r, line) < (path, rule, first));
        let to = heads.partition_point(|&(p, r, line, _)| (p, r, line) <= (path, rule, last));
        if from == to {
            continue;
        }
        let Some(base_tokens) = code_text(finding, base_sources).map(|t| Tokens::of(&t)) else {
            continue;
        };
        for &(_, _, line, h) in nearest(&heads[from..to], aligned) {
            if head[h].kind != finding.kind {
                continue;
            }
            let tokens = head_tokens
                .entry(h)
                .or_insert_with(|| code_text(&head[h], head_sources).map(|t| Tokens::of(&t)));
            if let Some(score) = tokens.as_ref().and_then(|t| rewrite_score(&base_tokens, t)) {
                candidates.push((score, line.abs_diff(aligned), b, h));
            }
        }
    }
    candidates.sort_by(|x, y| {
        y.0.total_cmp(&x.0)
            .then(x.1.cmp(&y.1))
            .then(x.2.cmp(&y.2))
            .then(x.3.cmp(&y.3))
    });
    let mut paired = Vec::new();
    for (_, _, b, h) in candidates {
        if base_match[b].is_none() && head_match[h].is_none() {
            base_match[b] = Some(h);
            head_match[h] = Some(b);
            paired.push(h);
        }
    }
    paired.sort_unstable();
    paired
}

/// Dependency and component policy findings are about a package, not a piece of code: a
/// rewrite never pairs them.
fn by_package(finding: &Finding) -> bool {
    finding.kind.is_dependency() || is_package_rule(finding.kind)
}

/// At most [`CANDIDATES`] of `heads` (sorted by line), those around `line`.
fn nearest<'h, 'a>(heads: &'h [FreeHead<'a>], line: u32) -> &'h [FreeHead<'a>] {
    if heads.len() <= CANDIDATES {
        return heads;
    }
    let at = heads.partition_point(|h| h.2 < line);
    let from = at
        .saturating_sub(CANDIDATES / 2)
        .min(heads.len() - CANDIDATES);
    &heads[from..from + CANDIDATES]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_takes_a_window_around_the_line() {
        let heads: Vec<FreeHead> = (1..=20)
            .map(|l| ("a.py", "r", l * 10, l as usize))
            .collect();
        let lines = |line| {
            nearest(&heads, line)
                .iter()
                .map(|h| h.2)
                .collect::<Vec<_>>()
        };
        assert_eq!(lines(100), [60, 70, 80, 90, 100, 110, 120, 130]);
        assert_eq!(lines(1), [10, 20, 30, 40, 50, 60, 70, 80]);
        assert_eq!(lines(999), [130, 140, 150, 160, 170, 180, 190, 200]);
        assert_eq!(nearest(&heads[..3], 5).len(), 3);
    }
}
