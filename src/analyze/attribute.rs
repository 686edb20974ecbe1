//! The commit that introduced a finding: the newest commit *in ancestry* among its lines'
//! blame, never the one with the latest author date (in a rebased series author dates run
//! backwards, and the latest one can belong to a commit older than the change).
//!
//! "Newest in ancestry" is decided by, in turn:
//! 1. the commit's rank in the change (merge-base..head, topologically ordered): a commit of
//!    the change is never an ancestor of one outside it (those are all ancestors of the
//!    merge-base), so any commit of the change beats any other, and among the change's, the
//!    rank is exact;
//! 2. outside the change, or when the repository cannot list the change's commits (a forge
//!    whose list may be cut or lacks the parents that order it), the commit date, which
//!    rebases and cherry-picks rewrite and so follows ancestry except under clock skew; then
//!    the author date, then the sha, so the choice never depends on blame's line order.
//!
//! Two rules then apply, each giving a reason rather than a wrong name:
//! * a commit at a shallow clone's boundary stands for all the history not fetched: unknown;
//! * a `new` finding's introducing commit is always inside the change: when its lines were
//!   last touched before it (the rule or the scanner changed), no commit is named.

use std::cmp::Reverse;

use chrono::{DateTime, Utc};

use crate::model::{ChangeCommits, CommitInfo, FileBlame, Introduced, Status, Unattributed};

/// What blame says about who introduced a finding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attribution {
    Commit(Introduced),
    Unknown(Unattributed),
}

/// The introducing commit of lines `start..=end` of a finding with `status`. `change` holds
/// the change's commits in ancestry order; `None` when the repository cannot list them. The
/// range is clamped to the file: a report may claim lines up to `u32::MAX`. `None` when
/// blame covers none of the lines.
pub fn introduced_by(
    blame: &FileBlame,
    start: u32,
    end: u32,
    change: Option<&ChangeCommits>,
    status: Status,
) -> Option<Attribution> {
    let end = end.min(u32::try_from(blame.lines.len()).unwrap_or(u32::MAX));
    let newest = (start..=end)
        .filter_map(|line| blame.commit_at(line))
        .min_by_key(|c| newest_first(c, change))?;
    if newest.shallow_boundary {
        return Some(Attribution::Unknown(Unattributed::ShallowClone));
    }
    let outside_change = change.is_some_and(|c| c.rank(&newest.sha).is_none());
    if status == Status::New && outside_change {
        return Some(Attribution::Unknown(Unattributed::BeforeChange));
    }
    Some(Attribution::Commit(Introduced {
        commit: newest.sha.clone(),
        author: newest.author.clone(),
        date: newest.date,
        summary: newest.summary.clone(),
    }))
}

/// A sort key, newest in ancestry first: rank in the change, commit date, author date, sha.
type Age<'c> = (
    usize,
    Reverse<DateTime<Utc>>,
    Reverse<DateTime<Utc>>,
    &'c str,
);

/// Sorts newest in ancestry first (see the module doc).
fn newest_first<'c>(commit: &'c CommitInfo, change: Option<&ChangeCommits>) -> Age<'c> {
    (
        change
            .and_then(|c| c.rank(&commit.sha))
            .unwrap_or(usize::MAX),
        Reverse(commit.committed),
        Reverse(commit.date),
        &commit.sha,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    /// A commit authored on January `authored` and committed on January `committed`.
    fn commit(sha: &str, authored: u32, committed: u32) -> CommitInfo {
        CommitInfo {
            sha: sha.into(),
            author: format!("author-{sha}"),
            email: String::new(),
            date: Utc.with_ymd_and_hms(2024, 1, authored, 0, 0, 0).unwrap(),
            committed: Utc.with_ymd_and_hms(2024, 1, committed, 0, 0, 0).unwrap(),
            summary: String::new(),
            shallow_boundary: false,
        }
    }

    fn sha(attribution: Option<Attribution>) -> Option<String> {
        match attribution? {
            Attribution::Commit(introduced) => Some(introduced.commit),
            Attribution::Unknown(reason) => Some(reason.describe().to_owned()),
        }
    }

    #[test]
    fn without_the_change_the_newest_commit_date_wins_and_the_range_is_clamped() {
        let blame = FileBlame {
            commits: vec![commit("old", 1, 1), commit("new", 9, 9)],
            lines: vec![0, 1, 0],
        };
        let at = |start, end| sha(introduced_by(&blame, start, end, None, Status::Existing));
        assert_eq!(at(1, 1).as_deref(), Some("old"));
        // A report may claim lines to the end of numbers: clamped to the file, not walked.
        assert_eq!(at(1, u32::MAX).as_deref(), Some("new"));
        assert_eq!(at(4, u32::MAX), None);
        assert_eq!(at(1, 3).as_deref(), Some("new"));
        assert_eq!(at(4, 4), None);
    }

    #[test]
    fn the_commit_date_not_the_author_date_orders_commits_outside_the_change() {
        // Rebased: "later" was written first (January 2) but committed on top (January 9).
        let blame = FileBlame {
            commits: vec![commit("earlier", 8, 8), commit("later", 2, 9)],
            lines: vec![0, 1],
        };
        let got = introduced_by(&blame, 1, 2, None, Status::Existing);
        assert_eq!(sha(got).as_deref(), Some("later"));
    }

    #[test]
    fn the_change_s_ancestry_beats_every_date() {
        // A rebase within one second: equal commit dates, author dates backwards.
        let blame = FileBlame {
            commits: vec![
                commit("first", 9, 5),
                commit("second", 3, 5),
                commit("base", 20, 20),
            ],
            lines: vec![0, 1, 2],
        };
        let change = ChangeCommits::new(["second".to_owned(), "first".to_owned()]);
        let at = |start, end, status| sha(introduced_by(&blame, start, end, Some(&change), status));
        assert_eq!(at(1, 2, Status::New).as_deref(), Some("second"));
        // A commit of the change beats an older one whatever its dates say.
        assert_eq!(at(1, 3, Status::New).as_deref(), Some("second"));
        assert_eq!(at(3, 3, Status::Existing).as_deref(), Some("base"));
    }

    #[test]
    fn a_new_finding_on_lines_older_than_the_change_names_no_commit() {
        let blame = FileBlame {
            commits: vec![commit("base", 1, 1), commit("change", 2, 2)],
            lines: vec![0, 1],
        };
        let change = ChangeCommits::new(["change".to_owned()]);
        assert_eq!(
            introduced_by(&blame, 1, 1, Some(&change), Status::New),
            Some(Attribution::Unknown(Unattributed::BeforeChange))
        );
        // Existing and not-scanned findings keep the older commit: it is their history.
        for status in [Status::Existing, Status::NotScanned] {
            let got = introduced_by(&blame, 1, 1, Some(&change), status);
            assert_eq!(sha(got).as_deref(), Some("base"), "{status:?}");
        }
        // Without the change's commits the rule cannot be checked: the newest is named.
        let got = introduced_by(&blame, 1, 1, None, Status::New);
        assert_eq!(sha(got).as_deref(), Some("base"));
    }

    #[test]
    fn a_shallow_boundary_names_no_commit_unless_a_newer_one_touched_the_range() {
        let mut boundary = commit("boundary", 1, 1);
        boundary.shallow_boundary = true;
        let blame = FileBlame {
            commits: vec![boundary, commit("change", 2, 2)],
            lines: vec![0, 1],
        };
        let change = ChangeCommits::new(["change".to_owned()]);
        for status in [Status::New, Status::Existing] {
            assert_eq!(
                introduced_by(&blame, 1, 1, Some(&change), status),
                Some(Attribution::Unknown(Unattributed::ShallowClone))
            );
        }
        let got = introduced_by(&blame, 1, 2, Some(&change), Status::New);
        assert_eq!(sha(got).as_deref(), Some("change"));
    }
}
