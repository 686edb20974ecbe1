//! Test support: real repositories built with the `git` CLI in temporary directories, with
//! fixed identities and dates so commit ids and blame are deterministic.

use std::path::Path;
use std::process::Command;

use tempfile::TempDir;

use super::LocalRepo;

/// Who makes a commit, and when (seconds since the epoch, UTC).
#[derive(Debug, Clone, Copy)]
pub struct Author {
    pub name: &'static str,
    pub email: &'static str,
    pub time: i64,
}

pub const ALICE: Author = Author {
    name: "Alice Example",
    email: "alice@example.com",
    time: 1_700_000_000,
};

pub const BOB: Author = Author {
    name: "Bob Example",
    email: "bob@example.com",
    time: 1_710_000_000,
};

/// A throwaway repository on branch `main`.
pub struct TestRepo {
    dir: TempDir,
}

impl TestRepo {
    pub fn new() -> Self {
        let repo = Self {
            dir: TempDir::new().unwrap(),
        };
        repo.git(&["init", "--quiet"], ALICE);
        repo
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn open(&self) -> LocalRepo {
        LocalRepo::open(self.path()).unwrap()
    }

    /// Runs git in the repository as `author`, returning trimmed stdout; panics on failure.
    pub fn git(&self, args: &[&str], author: Author) -> String {
        let date = format!("{} +0000", author.time);
        let output = Command::new("git")
            .current_dir(self.path())
            .args([
                "-c",
                "init.defaultBranch=main",
                "-c",
                "commit.gpgsign=false",
            ])
            .args(args)
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_AUTHOR_NAME", author.name)
            .env("GIT_AUTHOR_EMAIL", author.email)
            .env("GIT_AUTHOR_DATE", &date)
            .env("GIT_COMMITTER_NAME", author.name)
            .env("GIT_COMMITTER_EMAIL", author.email)
            .env("GIT_COMMITTER_DATE", &date)
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "git {args:?} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).unwrap().trim().to_owned()
    }

    /// Writes a file (creating parent directories) in the working tree.
    pub fn write(&self, path: &str, contents: impl AsRef<[u8]>) {
        let full = self.path().join(path);
        std::fs::create_dir_all(full.parent().unwrap()).unwrap();
        std::fs::write(full, contents).unwrap();
    }

    /// Stages everything and commits it, returning the new commit id.
    pub fn commit(&self, message: &str, author: Author) -> String {
        self.git(&["add", "-A"], author);
        self.git(&["commit", "--quiet", "-m", message], author);
        self.git(&["rev-parse", "HEAD"], author)
    }
}
