//! Orders a change request's commits newest first in ancestry from the parents the forge
//! lists with them, for both forges. Neither forge's list order can be trusted for this:
//! GitHub lists a pull request's commits oldest first by date and GitLab newest first by
//! date, and dates are what a rebase leaves backwards. Only the parent links are exact.
//!
//! The walk is Kahn's: from the head, a commit comes out once every listed child of it has,
//! so each commit comes before its parents. A list that the walk cannot cover entirely
//! (capped by the forge, without the head, with parents missing, or with commits the head
//! does not reach) is [partial](ChangeCommitList::Partial): ranking part of a change would
//! pass its missing commits off as older than the change.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, HashSet};

use super::{ChangeCommitList, ListGap};

/// One commit of a forge's list with the parents it gives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ListedCommit {
    pub sha: String,
    pub parents: Vec<String>,
}

/// The change's commits from `head`, newest first in ancestry; `capped` when the forge's
/// list stopped at its limit. `listed` is in the forge's order, newest listed first: that
/// order only breaks ties between commits ancestry does not order (two merged branches).
pub(crate) fn order(head: &str, listed: Vec<ListedCommit>, capped: bool) -> ChangeCommitList {
    // The same commit twice (a page boundary that moved): its first listing counts.
    let mut seen = HashSet::new();
    let commits: Vec<ListedCommit> = listed
        .into_iter()
        .filter(|c| seen.insert(c.sha.clone()))
        .collect();
    let partial = |commits: &[ListedCommit], gap| ChangeCommitList::Partial {
        listed: commits.iter().map(|c| c.sha.clone()).collect(),
        gap,
    };
    if capped {
        return partial(&commits, ListGap::Capped);
    }
    let position: HashMap<&str, usize> = commits
        .iter()
        .enumerate()
        .map(|(at, c)| (c.sha.as_str(), at))
        .collect();
    let Some(&head_at) = position.get(head) else {
        return partial(&commits, ListGap::HeadNotListed);
    };
    // More than one commit and one without parents: a root commit inside a change is
    // possible (unrelated histories) but indistinguishable from parents left out.
    if commits.len() > 1 && commits.iter().any(|c| c.parents.is_empty()) {
        return partial(&commits, ListGap::NoAncestry);
    }
    // Each commit's parents among the listed, once each, and how many listed children wait.
    let parents: Vec<Vec<usize>> = commits
        .iter()
        .map(|c| {
            let mut within: Vec<usize> = c
                .parents
                .iter()
                .filter_map(|p| position.get(p.as_str()).copied())
                .collect();
            within.sort_unstable();
            within.dedup();
            within
        })
        .collect();
    let mut waiting = vec![0usize; commits.len()];
    for &parent in parents.iter().flatten() {
        waiting[parent] += 1;
    }
    if waiting[head_at] > 0 {
        // A listed commit on top of the head: the list is of a later head.
        return partial(&commits, ListGap::NoAncestry);
    }
    let mut ready = BinaryHeap::from([Reverse(head_at)]);
    let mut out = Vec::with_capacity(commits.len());
    while let Some(Reverse(at)) = ready.pop() {
        out.push(at);
        for &parent in &parents[at] {
            waiting[parent] -= 1;
            if waiting[parent] == 0 {
                ready.push(Reverse(parent));
            }
        }
    }
    // Commits the head does not reach (or a cycle, which git cannot make) never come out.
    if out.len() != commits.len() {
        return partial(&commits, ListGap::NoAncestry);
    }
    ChangeCommitList::Complete(out.into_iter().map(|at| commits[at].sha.clone()).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn commit(sha: &str, parents: &[&str]) -> ListedCommit {
        ListedCommit {
            sha: sha.to_owned(),
            parents: parents.iter().map(|p| (*p).to_owned()).collect(),
        }
    }

    fn complete(list: ChangeCommitList) -> Vec<String> {
        match list {
            ChangeCommitList::Complete(commits) => commits,
            other => panic!("expected a complete list, got {other:?}"),
        }
    }

    fn gap(list: ChangeCommitList) -> ListGap {
        match list {
            ChangeCommitList::Partial { gap, .. } => gap,
            other => panic!("expected a partial list, got {other:?}"),
        }
    }

    #[test]
    fn parents_order_the_list_whatever_order_it_comes_in() {
        // base <- a <- b <- c (head), listed in an order no date sort would give.
        let listed = vec![
            commit("b", &["a"]),
            commit("c", &["b"]),
            commit("a", &["base"]),
        ];
        assert_eq!(complete(order("c", listed, false)), ["c", "b", "a"]);
    }

    #[test]
    fn a_merge_comes_before_both_branches_and_each_branch_before_its_parents() {
        // base <- a <- b ----- m (head)
        //            \       /
        //             x <- y
        let listed = vec![
            commit("a", &["base"]),
            commit("y", &["x"]),
            commit("m", &["b", "y"]),
            commit("x", &["a"]),
            commit("b", &["a"]),
        ];
        let got = complete(order("m", listed, false));
        let rank = |sha: &str| got.iter().position(|c| c == sha).unwrap();
        assert_eq!(got.len(), 5);
        assert_eq!(rank("m"), 0);
        assert!(rank("b") < rank("a") && rank("y") < rank("x") && rank("x") < rank("a"));
        assert_eq!(got.last().map(String::as_str), Some("a"));
        // Merging the target branch in: its commits are not listed, and that is no gap.
        let listed = vec![commit("m", &["a", "target-tip"]), commit("a", &["base"])];
        assert_eq!(complete(order("m", listed, false)), ["m", "a"]);
    }

    #[test]
    fn a_capped_list_is_partial_even_when_it_walks_entirely() {
        let listed = vec![commit("b", &["a"]), commit("a", &["z"])];
        let list = order("b", listed, true);
        assert_eq!(
            list,
            ChangeCommitList::Partial {
                listed: vec!["b".into(), "a".into()],
                gap: ListGap::Capped
            }
        );
    }

    #[test]
    fn lists_the_walk_cannot_cover_are_partial() {
        // Not the head reviewed (force-pushed since).
        let listed = vec![commit("q", &["base"])];
        assert_eq!(gap(order("c", listed, false)), ListGap::HeadNotListed);
        // A newer head on top of the one reviewed.
        let listed = vec![commit("d", &["c"]), commit("c", &["base"])];
        assert_eq!(gap(order("c", listed, false)), ListGap::NoAncestry);
        // GitLab's database-backed lists: no parents at all.
        let listed = vec![commit("c", &[]), commit("b", &[])];
        assert_eq!(gap(order("c", listed, false)), ListGap::NoAncestry);
        // A commit the head does not reach.
        let listed = vec![commit("c", &["base"]), commit("stray", &["base"])];
        assert_eq!(gap(order("c", listed, false)), ListGap::NoAncestry);
        // A cycle (no git history has one; a broken answer might).
        let listed = vec![
            commit("c", &["b"]),
            commit("b", &["a"]),
            commit("a", &["b"]),
        ];
        assert_eq!(gap(order("c", listed, false)), ListGap::NoAncestry);
    }

    #[test]
    fn one_commit_needs_no_parents_and_duplicates_count_once() {
        assert_eq!(complete(order("c", vec![commit("c", &[])], false)), ["c"]);
        let listed = vec![
            commit("c", &["b", "b"]),
            commit("b", &["base"]),
            commit("c", &["b"]),
        ];
        assert_eq!(complete(order("c", listed, false)), ["c", "b"]);
    }
}
