//! The commit that introduced a finding: the newest commit among its lines' blame.

use crate::model::{FileBlame, Introduced};

/// The newest commit that touched any of lines `start..=end`. The range is clamped to the
/// file: a report may claim lines up to `u32::MAX`.
pub fn introduced_by(blame: &FileBlame, start: u32, end: u32) -> Option<Introduced> {
    let end = end.min(u32::try_from(blame.lines.len()).unwrap_or(u32::MAX));
    (start..=end)
        .filter_map(|line| blame.commit_at(line))
        .max_by_key(|c| c.date)
        .map(|c| Introduced {
            commit: c.sha.clone(),
            author: c.author.clone(),
            date: c.date,
            summary: c.summary.clone(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::CommitInfo;
    use chrono::{TimeZone, Utc};

    fn commit(sha: &str, day: u32) -> CommitInfo {
        CommitInfo {
            sha: sha.into(),
            author: format!("author-{sha}"),
            email: String::new(),
            date: Utc.with_ymd_and_hms(2024, 1, day, 0, 0, 0).unwrap(),
            summary: String::new(),
        }
    }

    #[test]
    fn picks_the_newest_commit_of_the_range() {
        let blame = FileBlame {
            commits: vec![commit("old", 1), commit("new", 9)],
            lines: vec![0, 1, 0],
        };
        assert_eq!(introduced_by(&blame, 1, 1).unwrap().commit, "old");
        // A report may claim lines to the end of numbers: clamped to the file, not walked.
        assert_eq!(introduced_by(&blame, 1, u32::MAX).unwrap().commit, "new");
        assert!(introduced_by(&blame, 4, u32::MAX).is_none());
        assert_eq!(introduced_by(&blame, 1, 3).unwrap().commit, "new");
        assert_eq!(introduced_by(&blame, 4, 4), None);
    }
}
