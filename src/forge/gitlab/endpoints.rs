//! Endpoints the `gitlab` crate lacks, or builds in a way posture cannot use, written against
//! its `Endpoint` trait so they run through the same client, paging and error handling:
//!
//! * file blame, the legacy `…/changes` of a merge request;
//! * the repository tree (the crate's `Tree` sends `ref`, `path` and `recursive` as a form
//!   body on a GET, which GitLab ignores);
//! * diff discussions with a JSON `position` (the crate's form encoding cannot express a
//!   `line_range` end's line numbers), notes added to a discussion, editing a discussion
//!   note, and resolving a discussion.

use gitlab::api::common::{NameOrId, path_escaped};
use gitlab::api::endpoint_prelude::*;
use serde_json::{Value, json};

/// `GET /projects/:id/repository/files/:file_path/blame?ref=…`
pub(super) struct FileBlame<'a> {
    pub project: NameOrId<'a>,
    pub path: &'a str,
    pub sha: &'a str,
}

impl Endpoint for FileBlame<'_> {
    fn method(&self) -> Method {
        Method::GET
    }

    fn endpoint(&self) -> Cow<'static, str> {
        format!(
            "projects/{}/repository/files/{}/blame",
            self.project,
            path_escaped(self.path)
        )
        .into()
    }

    fn parameters(&self) -> QueryParams<'_> {
        let mut params = QueryParams::default();
        params.push("ref", self.sha);
        params
    }
}

/// `GET /projects/:id/repository/tree?recursive=true&ref=…`, keyset-paged.
pub(super) struct RepositoryTree<'a> {
    pub project: NameOrId<'a>,
    pub sha: &'a str,
}

impl Endpoint for RepositoryTree<'_> {
    fn method(&self) -> Method {
        Method::GET
    }

    fn endpoint(&self) -> Cow<'static, str> {
        format!("projects/{}/repository/tree", self.project).into()
    }

    fn parameters(&self) -> QueryParams<'_> {
        let mut params = QueryParams::default();
        params.push("recursive", true).push("ref", self.sha);
        params
    }
}

impl Pageable for RepositoryTree<'_> {
    fn use_keyset_pagination(&self) -> bool {
        true
    }
}

/// `GET /projects/:id/merge_requests/:iid/changes`: the diffs on instances older than the
/// `…/diffs` endpoint (GitLab 15.7).
pub(super) struct MergeRequestChanges<'a> {
    pub project: NameOrId<'a>,
    pub iid: u64,
}

impl Endpoint for MergeRequestChanges<'_> {
    fn method(&self) -> Method {
        Method::GET
    }

    fn endpoint(&self) -> Cow<'static, str> {
        format!(
            "projects/{}/merge_requests/{}/changes",
            self.project, self.iid
        )
        .into()
    }
}

/// `POST /projects/:id/merge_requests/:iid/discussions` with a JSON body (`body` and a
/// `position`).
pub(super) struct CreateDiffDiscussion<'a> {
    pub project: NameOrId<'a>,
    pub iid: u64,
    pub body: Value,
}

impl Endpoint for CreateDiffDiscussion<'_> {
    fn method(&self) -> Method {
        Method::POST
    }

    fn endpoint(&self) -> Cow<'static, str> {
        format!(
            "projects/{}/merge_requests/{}/discussions",
            self.project, self.iid
        )
        .into()
    }

    fn body(&self) -> Result<Option<(&'static str, Vec<u8>)>, BodyError> {
        JsonParams::into_body(&self.body)
    }
}

/// `POST /projects/:id/merge_requests/:iid/discussions/:discussion_id/notes`
pub(super) struct AddDiscussionNote<'a> {
    pub project: NameOrId<'a>,
    pub iid: u64,
    pub discussion: &'a str,
    pub body: &'a str,
}

impl Endpoint for AddDiscussionNote<'_> {
    fn method(&self) -> Method {
        Method::POST
    }

    fn endpoint(&self) -> Cow<'static, str> {
        format!(
            "projects/{}/merge_requests/{}/discussions/{}/notes",
            self.project,
            self.iid,
            path_escaped(self.discussion)
        )
        .into()
    }

    fn body(&self) -> Result<Option<(&'static str, Vec<u8>)>, BodyError> {
        JsonParams::into_body(&json!({ "body": self.body }))
    }
}

/// `PUT /projects/:id/merge_requests/:iid/discussions/:discussion_id/notes/:note_id`
pub(super) struct EditDiscussionNote<'a> {
    pub project: NameOrId<'a>,
    pub iid: u64,
    pub discussion: &'a str,
    pub note: u64,
    pub body: &'a str,
}

impl Endpoint for EditDiscussionNote<'_> {
    fn method(&self) -> Method {
        Method::PUT
    }

    fn endpoint(&self) -> Cow<'static, str> {
        format!(
            "projects/{}/merge_requests/{}/discussions/{}/notes/{}",
            self.project,
            self.iid,
            path_escaped(self.discussion),
            self.note
        )
        .into()
    }

    fn body(&self) -> Result<Option<(&'static str, Vec<u8>)>, BodyError> {
        JsonParams::into_body(&json!({ "body": self.body }))
    }
}

/// `PUT /projects/:id/merge_requests/:iid/discussions/:discussion_id?resolved=true`
pub(super) struct ResolveDiscussion<'a> {
    pub project: NameOrId<'a>,
    pub iid: u64,
    pub discussion: &'a str,
}

impl Endpoint for ResolveDiscussion<'_> {
    fn method(&self) -> Method {
        Method::PUT
    }

    fn endpoint(&self) -> Cow<'static, str> {
        format!(
            "projects/{}/merge_requests/{}/discussions/{}",
            self.project,
            self.iid,
            path_escaped(self.discussion)
        )
        .into()
    }

    fn parameters(&self) -> QueryParams<'_> {
        let mut params = QueryParams::default();
        params.push("resolved", true);
        params
    }
}
