//! Blame through GitHub's GraphQL API (REST has none): one query per file gives the ranges
//! of lines and the commit behind each, which become a [`FileBlame`] with one entry per line
//! and each commit once.
//!
//! The ranges carry no ancestry (their `age` is a coarse 1–10 recency bucket), so each
//! commit keeps its `committedDate`: the order attribution falls back to when the change's
//! commits are not listed (see [`crate::analyze::attribute`]).

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::json;

use super::client::{FORGE, Http, protocol, split_repository};
use crate::forge::{ForgeError, ForgeResult};
use crate::model::{CommitInfo, FileBlame};

pub(crate) const BLAME_QUERY: &str = "query($owner: String!, $name: String!, $oid: GitObjectID!, $path: String!) { \
repository(owner: $owner, name: $name) { object(oid: $oid) { ... on Commit { blame(path: $path) { \
ranges { startingLine endingLine commit { oid messageHeadline committedDate author { name email date } } } \
} } } } }";

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Range {
    starting_line: usize,
    ending_line: usize,
    commit: Commit,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Commit {
    oid: String,
    #[serde(default)]
    message_headline: String,
    committed_date: Option<DateTime<Utc>>,
    author: Option<Author>,
}

#[derive(Debug, Deserialize)]
struct Author {
    name: Option<String>,
    email: Option<String>,
    date: Option<DateTime<Utc>>,
}

pub(crate) async fn blame(
    http: &Http<'_>,
    repository: &str,
    sha: &str,
    path: &str,
) -> ForgeResult<FileBlame> {
    let (owner, name) = split_repository(repository)?;
    let what = format!("blaming {path} at {sha} in {repository}");
    let data = http
        .graphql(
            BLAME_QUERY,
            json!({ "owner": owner, "name": name, "oid": sha, "path": path }),
            "graphql_blame",
            &what,
            false,
        )
        .await?;
    let not_found = || ForgeError::NotFound {
        forge: FORGE,
        what: what.clone(),
    };
    let object = data
        .pointer("/repository/object")
        .filter(|o| !o.is_null())
        .ok_or_else(not_found)?;
    let ranges = object
        .pointer("/blame/ranges")
        .cloned()
        .ok_or_else(|| protocol(&what, format!("{sha} is not a commit")))?;
    let ranges: Vec<Range> =
        serde_json::from_value(ranges).map_err(|e| protocol(&what, e.to_string()))?;
    to_file_blame(ranges).map_err(|message| protocol(&what, message))
}

fn to_file_blame(mut ranges: Vec<Range>) -> Result<FileBlame, String> {
    ranges.sort_by_key(|r| r.starting_line);
    let mut blame = FileBlame::default();
    let mut index_of: HashMap<String, usize> = HashMap::new();
    for range in ranges {
        if range.starting_line != blame.lines.len() + 1 || range.ending_line < range.starting_line {
            return Err(format!(
                "blame ranges do not cover the file: lines {}-{} after line {}",
                range.starting_line,
                range.ending_line,
                blame.lines.len()
            ));
        }
        let index = match index_of.get(&range.commit.oid) {
            Some(index) => *index,
            None => {
                let info = commit_info(&range.commit)?;
                blame.commits.push(info);
                index_of.insert(range.commit.oid.clone(), blame.commits.len() - 1);
                blame.commits.len() - 1
            }
        };
        let count = range.ending_line - range.starting_line + 1;
        blame.lines.extend(std::iter::repeat_n(index, count));
    }
    Ok(blame)
}

fn commit_info(commit: &Commit) -> Result<CommitInfo, String> {
    let author = commit.author.as_ref();
    let date = author
        .and_then(|a| a.date)
        .or(commit.committed_date)
        .ok_or_else(|| format!("commit {} has no date", commit.oid))?;
    Ok(CommitInfo {
        sha: commit.oid.clone(),
        author: author.and_then(|a| a.name.clone()).unwrap_or_default(),
        email: author.and_then(|a| a.email.clone()).unwrap_or_default(),
        date,
        committed: commit.committed_date.unwrap_or(date),
        summary: commit.message_headline.clone(),
        // GitHub blames its own complete history.
        shallow_boundary: false,
    })
}
