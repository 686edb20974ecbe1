//! Test harness: real git repositories built with the `git` CLI in temporary directories,
//! scanner reports in the shape real tools write them, and a runner for the `posture` binary.

#![allow(dead_code)]

pub mod forge;
pub mod github;
pub mod gitlab;
pub mod org;
pub mod postgres;
pub mod server;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::{Value, json};
use tempfile::TempDir;

pub fn fixture(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(path)
}

/// A git repository in a temporary directory.
pub struct Repo {
    dir: TempDir,
    clock: u32,
}

impl Repo {
    pub fn new() -> Repo {
        let repo = Repo {
            dir: TempDir::new().unwrap(),
            clock: 0,
        };
        repo.git(&["init", "-q", "-b", "main", "."]);
        repo
    }

    /// The demo repository of the README, built by its own script.
    pub fn demo() -> Repo {
        Repo::built("demo/build-repo.sh")
    }

    /// The repository a fixture script (`fixtures/SCRIPT DIR`) builds.
    pub fn built(script: &str) -> Repo {
        let repo = Repo {
            dir: TempDir::new().unwrap(),
            clock: 0,
        };
        let status = Command::new("bash")
            .arg(fixture(script))
            .arg(repo.path())
            .status()
            .unwrap();
        assert!(status.success(), "build-repo.sh failed");
        repo
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn git(&self, args: &[&str]) -> String {
        let output = Command::new("git")
            .args(args)
            .current_dir(self.path())
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_CONFIG_SYSTEM", "/dev/null")
            .env("GIT_AUTHOR_NAME", "Tess Tester")
            .env("GIT_AUTHOR_EMAIL", "tess@example.com")
            .env("GIT_COMMITTER_NAME", "Tess Tester")
            .env("GIT_COMMITTER_EMAIL", "tess@example.com")
            .env(
                "GIT_AUTHOR_DATE",
                format!("2024-01-{:02}T12:00:00Z", self.clock + 1),
            )
            .env(
                "GIT_COMMITTER_DATE",
                format!("2024-01-{:02}T12:00:00Z", self.clock + 1),
            )
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).unwrap()
    }

    pub fn write(&self, path: &str, content: &str) -> &Repo {
        let full = self.path().join(path);
        std::fs::create_dir_all(full.parent().unwrap()).unwrap();
        std::fs::write(full, content).unwrap();
        self
    }

    /// Commits everything as `author` (one commit a day, so blame dates differ).
    pub fn commit(&mut self, author: &str, message: &str) -> String {
        self.clock += 1;
        self.git(&["add", "-A"]);
        self.git(&[
            "-c",
            &format!("user.name={author}"),
            "-c",
            "user.email=dev@example.com",
            "commit",
            "-q",
            "--author",
            &format!("{author} <dev@example.com>"),
            "-m",
            message,
        ]);
        self.git(&["rev-parse", "HEAD"]).trim().to_string()
    }

    /// Writes a report file into a directory outside the repository and returns its path.
    pub fn report(&self, name: &str, value: &Value) -> PathBuf {
        let dir = self.path().parent().unwrap().join(format!(
            "{}-reports",
            self.path().file_name().unwrap().to_string_lossy()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(name);
        std::fs::write(&path, serde_json::to_vec_pretty(value).unwrap()).unwrap();
        path
    }
}

/// A SARIF log as Semgrep writes it: relative URIs under `%SRCROOT%` (undefined), and the
/// same useless fingerprint on every result.
pub fn semgrep_sarif(results: &[(&str, &str, u32)]) -> Value {
    let results: Vec<Value> = results
        .iter()
        .map(|(rule, path, line)| {
            json!({
                "fingerprints": {"matchBasedId/v1": "requires login"},
                "locations": [{"physicalLocation": {
                    "artifactLocation": {"uri": path, "uriBaseId": "%SRCROOT%"},
                    "region": {"startLine": line, "endLine": line, "startColumn": 5, "endColumn": 20}
                }}],
                "message": {"text": format!("{rule} found")},
                "properties": {},
                "ruleId": rule,
            })
        })
        .collect();
    json!({
        "$schema": "https://docs.oasis-open.org/sarif/sarif/v2.1.0/os/schemas/sarif-schema-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "results": results,
            "tool": {"driver": {"name": "Semgrep OSS", "semanticVersion": "1.182.0", "rules": [
                {"id": "eval", "shortDescription": {"text": "Use of eval"},
                 "properties": {"security-severity": "HIGH", "tags": ["CWE-95", "security"]}},
                {"id": "md5", "shortDescription": {"text": "Weak hash"},
                 "properties": {"security-severity": "MEDIUM", "tags": ["CWE-327"]}}
            ]}}
        }]
    })
}

/// A SARIF log as CodeQL writes it on a CI runner: `%SRCROOT%` defined as the runner's
/// checkout, as an absolute `file://` URI.
pub fn codeql_sarif(checkout: &str, results: &[(&str, &str, u32)]) -> Value {
    let results: Vec<Value> = results
        .iter()
        .map(|(rule, uri, line)| {
            json!({
                "ruleId": rule,
                "message": {"text": "This expression flows to a sink."},
                "locations": [{"physicalLocation": {
                    "artifactLocation": {"uri": uri, "uriBaseId": "%SRCROOT%", "index": 0},
                    "region": {"startLine": line, "startColumn": 1, "endColumn": 10}
                }}]
            })
        })
        .collect();
    json!({
        "$schema": "https://raw.githubusercontent.com/oasis-tcs/sarif-spec/master/Schemata/sarif-schema-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "CodeQL", "semanticVersion": "2.15.0", "rules": [
                {"id": "py/code-injection", "name": "py/code-injection",
                 "shortDescription": {"text": "Code injection"},
                 "defaultConfiguration": {"level": "error"},
                 "properties": {"security-severity": "9.3", "tags": ["security", "external/cwe/cwe-094"]}}
            ]}},
            "originalUriBaseIds": {"%SRCROOT%": {"uri": format!("file://{checkout}/")}},
            "results": results
        }]
    })
}

/// An osv-scanner report for PyPI packages declared in `manifest` (as the absolute path of
/// the machine that ran it), each with one OSV record.
pub fn osv_report(manifest: &str, packages: &[(&str, &str, &str, &[&str], &str)]) -> Value {
    let packages: Vec<Value> = packages
        .iter()
        .map(|(name, version, id, aliases, fixed)| {
            json!({
                "package": {"name": name, "version": version, "ecosystem": "PyPI"},
                "vulnerabilities": [{
                    "id": id, "aliases": aliases, "summary": format!("{name} is vulnerable"),
                    "affected": [{"package": {"ecosystem": "PyPI", "name": name},
                                  "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": fixed}]}]}],
                    "database_specific": {"severity": "HIGH"}
                }],
                "groups": [{"ids": [id], "aliases": aliases, "max_severity": "7.5"}]
            })
        })
        .collect();
    json!({"results": [{"source": {"path": manifest, "type": "lockfile"}, "packages": packages}]})
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}\nstderr: {}", self.stdout, self.stderr))
    }
}

/// The `posture` binary with none of this process's `POSTURE_*` variables: what a test sets is
/// all the command sees.
pub fn posture_command() -> std::process::Command {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_posture"));
    for (key, _) in std::env::vars() {
        if key.starts_with("POSTURE_") {
            command.env_remove(key);
        }
    }
    command
}

/// Runs `posture` with only `env` among `POSTURE_*` variables (see [`posture_command`]).
pub fn posture_with_env(args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut command = posture_command();
    command.args(args);
    command.envs(env.iter().copied());
    let output = command.output().unwrap();
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8(output.stdout).unwrap(),
        stderr: String::from_utf8(output.stderr).unwrap(),
    }
}

pub fn posture(args: &[&str]) -> Run {
    let Output {
        status,
        stdout,
        stderr,
    } = assert_cmd::Command::cargo_bin("posture")
        .unwrap()
        .args(args)
        .output()
        .unwrap();
    Run {
        code: status.code().unwrap_or(-1),
        stdout: String::from_utf8(stdout).unwrap(),
        stderr: String::from_utf8(stderr).unwrap(),
    }
}

/// The finding of a JSON review at `path:line`.
pub fn at<'a>(review: &'a Value, path: &str, line: u64) -> &'a Value {
    review["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["path"] == path && f["line"] == line)
        .unwrap_or_else(|| panic!("no finding at {path}:{line} in {review:#}"))
}
