//! One review, end to end, on a local git repository: the edge where the CLI (and later the
//! server) gathers reports, config, diff, file contents and blame, then hands plain data to
//! the pure pipeline in [`crate::analyze`].

use std::borrow::Cow;
use std::collections::{BTreeSet, HashMap};
use std::path::PathBuf;

use chrono::NaiveDate;
use tracing::{info, warn};

use crate::analyze::owners::{self, CodeOwners};
use crate::analyze::{self, sources::Sources};
use crate::config::{self, Config, ConfigError};
use crate::git;
use crate::git::{GitError, LocalRepo, SourceRepo};
use crate::ingest::{self, IngestError, PathResolver, SecretHasher};
use crate::inventory::{self, Deployed, RepoInventory, openapi, policy};
use crate::model::{
    ChangeCommits, Component, ConfigChange, FailOn, Intel, Review, ReviewedFinding, Severity,
    Snapshot,
};
use crate::triage::TriageBook;

/// Source files larger than this are not read (their findings keep no content identity).
const MAX_SOURCE_BYTES: usize = 8 * 1024 * 1024;

/// What to review.
#[derive(Debug, Clone)]
pub struct Request {
    pub repo: PathBuf,
    pub base: String,
    pub head: String,
    pub base_reports: Vec<PathBuf>,
    pub head_reports: Vec<PathBuf>,
    /// A config file to use instead of `.posture.yml` (at base or head); no config change
    /// is then reported.
    pub config: Option<PathBuf>,
    /// Which revision's `.posture.yml` decides the gate: the target branch's (the trust
    /// rule), or the change's own (to try a config locally).
    pub config_from: ConfigFrom,
    /// Overrides the config's `fail_on`.
    pub fail_on: Option<FailOn>,
    pub today: NaiveDate,
    /// Decisions recorded by `/posture` commands (the server's store); VEX documents in the
    /// repository are added by the review itself.
    pub triage: TriageBook,
    /// Keys the hashes that stand in for secrets in the reports read from `base_reports`
    /// and `head_reports`.
    pub secrets: SecretHasher,
    /// What the repository's deployments run (the server's inventory; empty for the CLI).
    pub deployed: Deployed,
    /// Read head's components even without a component policy: the caller records the
    /// inventory ([`Outcome::inventory`]).
    pub read_inventory: bool,
}

/// Which `.posture.yml` a review applies.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum ConfigFrom {
    /// The file at the base (the target branch, or the merge-base the server passes): the
    /// change under review cannot switch its own gate off. Head's file is still validated,
    /// and what it would alter is listed in [`Review::config_changes`].
    #[default]
    Base,
    /// The file at head: the change's own config, for trying one out locally.
    Head,
}

/// The gate's threshold when neither the command line nor the config sets one.
pub const DEFAULT_FAIL_ON: FailOn = FailOn::AtOrAbove(Severity::High);

/// A finished review, and the reports that could not be read (the review ran without them).
#[derive(Debug)]
pub struct Outcome {
    pub review: Review,
    pub refused: Vec<IngestError>,
    /// `.posture.yml`'s cap on new inline comments per run, for publishing the review.
    pub max_inline_comments: Option<usize>,
    /// What head declares: its components (files and reports together) and APIs.
    pub inventory: RepoInventory,
}

/// What stops a review from running at all.
#[derive(Debug, thiserror::Error)]
pub enum ReviewError {
    #[error(transparent)]
    Git(#[from] GitError),
    #[error(transparent)]
    Config(#[from] ConfigError),
}

/// Where a review finds KEV and EPSS records: given the CVE ids the head findings name
/// (upper-case), their records. An [`Intel`] answers from memory; the store answers from
/// its cached feeds.
pub trait IntelLookup {
    fn lookup(&self, cves: &BTreeSet<String>) -> Result<Intel, String>;
}

impl IntelLookup for Intel {
    fn lookup(&self, cves: &BTreeSet<String>) -> Result<Intel, String> {
        Ok(self.restricted_to(cves.iter().map(String::as_str)))
    }
}

/// Runs the review of `request` on the local repository at `request.repo`.
pub fn run(request: &Request) -> Result<Outcome, ReviewError> {
    run_with_intel(request, &Intel::default())
}

/// [`run`], with exploitation intelligence for the risk score.
pub fn run_with_intel(request: &Request, intel: &dyn IntelLookup) -> Result<Outcome, ReviewError> {
    review_repo_with_intel(&LocalRepo::open(&request.repo)?, request, intel)
}

/// Runs the review of `request` on any repository behind [`SourceRepo`].
pub fn review_repo(repo: &dyn SourceRepo, request: &Request) -> Result<Outcome, ReviewError> {
    review_repo_with_intel(repo, request, &Intel::default())
}

/// [`review_repo`], with exploitation intelligence for the risk score. A lookup that fails
/// is a warning: the review runs without it.
pub fn review_repo_with_intel(
    repo: &dyn SourceRepo,
    request: &Request,
    intel: &dyn IntelLookup,
) -> Result<Outcome, ReviewError> {
    // The sides are independent: read at once, on two cores the longest step of a large
    // review takes half the time.
    let (base, head) = std::thread::scope(|scope| {
        let base = scope.spawn(|| ingest_side(&request.base_reports, &request.secrets));
        let head = ingest_side(&request.head_reports, &request.secrets);
        let base = base
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (base, head)
    });
    let mut ingested = Ingested {
        base: base.snapshot,
        head: head.snapshot,
        refused: base.refused,
        warnings: base.warnings,
    };
    ingested.refused.extend(head.refused);
    ingested.warnings.extend(head.warnings);
    review_snapshots(repo, request, ingested, intel)
}

/// Both sides' findings, already ingested (from files, CI artifacts or a stored snapshot),
/// with the reports that were refused and the warnings ingestion gave.
#[derive(Debug, Default)]
pub struct Ingested {
    pub base: Snapshot,
    pub head: Snapshot,
    pub refused: Vec<IngestError>,
    pub warnings: Vec<String>,
}

/// Ingests reports held in memory (a CI artifact's files) into one snapshot, secret hashes
/// keyed with `secrets`; a report that cannot be read is set aside with its error.
pub fn ingest_bytes<'a>(
    reports: impl IntoIterator<Item = (&'a str, &'a [u8])>,
    secrets: &SecretHasher,
    refused: &mut Vec<IngestError>,
    warnings: &mut Vec<String>,
) -> Snapshot {
    let mut snapshot = Snapshot::default();
    for (name, bytes) in reports {
        absorb(
            &mut snapshot,
            name,
            ingest::parse(name, bytes, secrets),
            refused,
            warnings,
        );
    }
    snapshot
}

/// Runs the review of `request` with findings already ingested; `request`'s report lists
/// are not read.
pub fn review_snapshots(
    repo: &dyn SourceRepo,
    request: &Request,
    ingested: Ingested,
    intel: &dyn IntelLookup,
) -> Result<Outcome, ReviewError> {
    let Ingested {
        base: mut base_snapshot,
        head: mut head_snapshot,
        refused,
        mut warnings,
    } = ingested;
    let base = repo.resolve(&request.base)?;
    let head = repo.resolve(&request.head)?;
    let merge_base = repo.merge_base(&base, &head)?;
    let change_commits = repo
        .change_commits(&merge_base, &head)?
        .map(ChangeCommits::new);
    let Policy {
        config,
        changes: config_changes,
        rev: policy_rev,
    } = load_policy(repo, &base, &head, request, &mut warnings)?;
    let triage = triage_book(repo, &policy_rev, &config, &request.triage, &mut warnings);
    let fail_on = request
        .fail_on
        .or(config.fail_on)
        .unwrap_or(DEFAULT_FAIL_ON);

    for error in &refused {
        warn!("refused report: {error}");
    }

    let base_list = repo.list_files(&base)?;
    let head_list = repo.list_files(&head)?;
    // Components are read for the policy, or for an inventory the caller records; API
    // documents always (an endpoint a change adds without security is a finding).
    let wanted = git::inventory::Wanted {
        components: !config.policy.is_empty() || request.read_inventory,
        apis: true,
    };
    let base_inventory = git::inventory::read(repo, &base, &base_list, wanted);
    let head_inventory = git::inventory::read(repo, &head, &head_list, wanted);
    let head_inventory = judge_inventory(
        &config,
        (base_inventory, &mut base_snapshot),
        (head_inventory, &mut head_snapshot),
        &mut warnings,
    );
    let base_files = PathResolver::new(base_list);
    let head_files = PathResolver::new(head_list);
    warnings.extend(ingest::resolve_paths(
        &mut base_snapshot.findings,
        &base_files,
    ));
    warnings.extend(ingest::resolve_paths(
        &mut head_snapshot.findings,
        &head_files,
    ));

    let changes = repo.changes(&merge_base, &head)?;
    let baseline_diff = if base == merge_base {
        changes.clone()
    } else {
        repo.changes(&base, &head)?
    };
    info!(
        files = changes.files.len(),
        base = %short(&base),
        head = %short(&head),
        merge_base = %short(&merge_base),
        "diffed"
    );

    let base_sources = read_sources(repo, &base, &analyze::files_to_read(&base_snapshot))?;
    let head_paths = analyze::files_to_read(&head_snapshot);
    let head_sources = read_sources(repo, &head, &head_paths)?;
    let blame = blame_files(repo, &head, &head_sources, &head_paths);
    info!(files = blame.len(), "blamed");
    let intel = match intel.lookup(&analyze::cve_ids(&head_snapshot)) {
        Ok(intel) => intel,
        Err(error) => {
            warnings.push(format!(
                "exploitation data (KEV, EPSS) unavailable, ranked without it: {error}"
            ));
            Intel::default()
        }
    };

    let mut review = analyze::run(analyze::Input {
        base: &base,
        head: &head,
        base_snapshot,
        head_snapshot,
        changes: &changes,
        baseline_diff: &baseline_diff,
        base_sources: Cow::Owned(base_sources),
        head_sources: &head_sources,
        blame: &blame,
        change_commits: change_commits.as_ref(),
        config: &config,
        intel: &intel,
        triage: &triage,
        fail_on,
        today: request.today,
        deployed: &request.deployed,
    });
    assign_owners(repo, &head, &mut review.findings, &mut warnings);
    warnings.append(&mut review.warnings);
    review.warnings = warnings;
    review.config_changes = config_changes;
    Ok(Outcome {
        review,
        refused,
        max_inline_comments: config.max_inline_comments,
        inventory: head_inventory,
    })
}

/// The findings the repository's own files raise, added to each side's snapshot: the
/// component policy's violations (`license`, `policy`) over the components of the side's
/// manifests, lockfiles and reports, and the API endpoints its OpenAPI documents declare
/// without security (`api`). Both sides are judged by the one policy in force, so only what
/// the change introduces is new. Returns head's inventory, its components merged with what
/// the reports list.
fn judge_inventory(
    config: &Config,
    (base, base_snapshot): (RepoInventory, &mut Snapshot),
    (head, head_snapshot): (RepoInventory, &mut Snapshot),
    warnings: &mut Vec<String>,
) -> RepoInventory {
    let judged = !config.policy.is_empty() || !base.apis.is_empty() || !head.apis.is_empty();
    let mut base_components = inventory::merge(base.components, &base_snapshot.components);
    let mut head_components = inventory::merge(head.components, &head_snapshot.components);
    // A version's licence is the same on both sides: what one side's reports say of it holds
    // for the other (a base read from the store has no report components).
    inventory::add_licenses(&mut base_components, &head_components);
    inventory::add_licenses(&mut head_components, &base_components);
    let judge =
        |components: &[Component], apis: &[openapi::ApiDocument], snapshot: &mut Snapshot| {
            // A stored snapshot already holds the findings this judged: judged again here, once.
            snapshot
                .findings
                .retain(|finding| finding.tools.iter().any(|tool| tool != inventory::TOOL));
            snapshot.tools.remove(inventory::TOOL);
            if judged {
                let violations = policy::evaluate(&config.policy, components);
                snapshot.findings.extend(policy::findings(&violations));
                for document in apis {
                    snapshot.findings.extend(openapi::findings(document));
                }
                snapshot.tools.insert(inventory::TOOL.to_owned());
            }
        };
    judge(&base_components, &base.apis, base_snapshot);
    judge(&head_components, &head.apis, head_snapshot);
    warnings.extend(head.warnings.iter().cloned());
    RepoInventory {
        components: head_components,
        apis: head.apis,
        warnings: head.warnings,
    }
}

/// Ranks the findings of reports uploaded without their repository (`POST /api/v1/scans`):
/// no diff, no source files, no blame, no `.posture.yml`; paths stay as the reports give
/// them. Every finding is present at `commit`.
pub fn review_upload(
    commit: &str,
    snapshot: Snapshot,
    intel: &Intel,
    deployed: &Deployed,
    today: NaiveDate,
) -> Review {
    let nothing = crate::model::ChangeSet {
        base: commit.to_owned(),
        head: commit.to_owned(),
        files: Vec::new(),
    };
    let base_snapshot = Snapshot {
        tools: snapshot.tools.clone(),
        ..Snapshot::default()
    };
    analyze::run(analyze::Input {
        base: commit,
        head: commit,
        base_snapshot,
        head_snapshot: snapshot,
        changes: &nothing,
        baseline_diff: &nothing,
        base_sources: Cow::Owned(Sources::default()),
        head_sources: &Sources::default(),
        blame: &HashMap::new(),
        change_commits: None,
        config: &Config::default(),
        intel,
        triage: &TriageBook::default(),
        fail_on: DEFAULT_FAIL_ON,
        today,
        deployed,
    })
}

/// The config a review applies, what head's own file would change, and the revision the
/// config (and so the VEX documents it names) is read at.
struct Policy {
    config: Config,
    changes: Vec<ConfigChange>,
    rev: String,
}

/// Loads the policy: `--config FILE` if given, else `.posture.yml` at base (or at head with
/// [`ConfigFrom::Head`]). Head's file is always parsed when present, so a broken one is an
/// error naming line and column even though base's applies. A broken file at base is a
/// warning and posture's defaults apply: the change that repairs it must be reviewable.
fn load_policy(
    repo: &dyn SourceRepo,
    base: &str,
    head: &str,
    request: &Request,
    warnings: &mut Vec<String>,
) -> Result<Policy, ReviewError> {
    let rev = match request.config_from {
        ConfigFrom::Base => base,
        ConfigFrom::Head => head,
    }
    .to_string();
    if let Some(path) = &request.config {
        return Ok(Policy {
            config: Config::load(path)?,
            changes: Vec::new(),
            rev,
        });
    }
    let head_config = read_config(repo, head)?;
    if request.config_from == ConfigFrom::Head {
        return Ok(Policy {
            config: head_config,
            changes: Vec::new(),
            rev,
        });
    }
    let base_config = match read_config(repo, base) {
        Ok(config) => config,
        Err(ReviewError::Config(error)) => {
            warnings.push(format!(
                "{} at base ({}) is invalid, so posture's defaults applied: {error}",
                config::FILE_NAME,
                short(base)
            ));
            Config::default()
        }
        Err(other) => return Err(other),
    };
    let changes = config::change::changes(&base_config, &head_config);
    Ok(Policy {
        config: base_config,
        changes,
        rev,
    })
}

/// `.posture.yml` at `rev`, or the defaults when there is none.
fn read_config(repo: &dyn SourceRepo, rev: &str) -> Result<Config, ReviewError> {
    match repo.read_file(rev, config::FILE_NAME)? {
        None => Ok(Config::default()),
        Some(bytes) => {
            let text = String::from_utf8(bytes).map_err(|e| ConfigError {
                file: config::FILE_NAME.into(),
                position: None,
                message: format!("not UTF-8 (byte {})", e.utf8_error().valid_up_to()),
            })?;
            Ok(Config::parse(config::FILE_NAME, &text)?)
        }
    }
}

/// The decisions the review applies: `recorded` (the store's), plus the statements of the
/// VEX documents the config names, read at `rev` (the config's revision). A document that
/// is absent is skipped; one that cannot be read or parsed is a warning, never fatal.
fn triage_book(
    repo: &dyn SourceRepo,
    rev: &str,
    config: &Config,
    recorded: &TriageBook,
    warnings: &mut Vec<String>,
) -> TriageBook {
    let mut book = recorded.clone();
    for path in config.triage.vex_paths() {
        match repo.read_file(rev, &path) {
            Ok(None) => {}
            Ok(Some(bytes)) => match crate::triage::vex::parse_openvex(&path, &bytes) {
                Ok(statements) => {
                    info!(document = %path, statements = statements.len(), "read VEX");
                    book.vex.extend(statements);
                }
                // The error names the file and the position.
                Err(error) => warnings.push(format!("VEX document not applied: {error}")),
            },
            Err(error) => warnings.push(format!(
                "VEX document {path} could not be read, so it was not applied: {error}"
            )),
        }
    }
    book
}

/// One side's reports, ingested.
#[derive(Default)]
struct Side {
    snapshot: Snapshot,
    refused: Vec<IngestError>,
    warnings: Vec<String>,
}

/// Ingests one side's reports; a report that cannot be read is set aside, not fatal.
fn ingest_side(paths: &[PathBuf], secrets: &SecretHasher) -> Side {
    let mut side = Side::default();
    for path in paths {
        let name = path.display().to_string();
        absorb(
            &mut side.snapshot,
            &name,
            ingest::read_report(path, secrets),
            &mut side.refused,
            &mut side.warnings,
        );
    }
    side
}

/// Adds one report's findings to a side, or sets the report aside with its error.
fn absorb(
    snapshot: &mut Snapshot,
    name: &str,
    report: Result<ingest::Report, IngestError>,
    refused: &mut Vec<IngestError>,
    warnings: &mut Vec<String>,
) {
    match report {
        Ok(report) => {
            info!(report = name, format = %report.format, findings = report.findings.len(), "ingested");
            snapshot.tools.extend(report.tools);
            // A component the report places nowhere is listed by the report itself.
            snapshot
                .components
                .extend(report.components.into_iter().map(|mut component| {
                    if component.package.manifest.is_none() {
                        component.package.manifest = Some(report.source.clone());
                    }
                    component
                }));
            if snapshot.findings.is_empty() {
                // Taken as it is: extending an empty vector copied it, both held at once.
                snapshot.findings = report.findings;
            } else {
                snapshot.findings.extend(report.findings);
            }
            warnings.extend(report.warnings);
        }
        Err(error) => refused.push(error),
    }
}

/// Sets each finding's owner ([`ReviewedFinding::owner`]) from the `CODEOWNERS` file at
/// its introducing commit, or at head when blame named none: the team that owned the file
/// when the finding came in. Each commit's file is read and parsed once, from where head's
/// was found first. A repository without the file at head is taken to have none at the
/// introducing commits either: over a forge, looking for it in four places at every
/// introducing commit of a repository that has none would cost thousands of requests a
/// baseline (a file deleted since is the price). A file that cannot be read leaves its
/// findings without owner, with a warning; head's malformed lines are review warnings,
/// older commits' are logged (they cannot be fixed any more).
fn assign_owners(
    repo: &dyn SourceRepo,
    head: &str,
    findings: &mut [ReviewedFinding],
    warnings: &mut Vec<String>,
) {
    if findings.iter().all(|f| f.finding.path().is_none()) {
        return;
    }
    let Some((location, at_head)) = read_codeowners(repo, head, None, true, warnings) else {
        return;
    };
    let mut files: HashMap<String, Option<CodeOwners>> = HashMap::new();
    files.insert(head.to_owned(), Some(at_head));
    for finding in findings {
        let Some(path) = finding.finding.path() else {
            continue;
        };
        let commit = finding
            .introduced_by
            .as_ref()
            .map_or(head, |by| by.commit.as_str());
        if !files.contains_key(commit) {
            let file = read_codeowners(repo, commit, Some(location), false, warnings);
            files.insert(commit.to_owned(), file.map(|(_, file)| file));
        }
        finding.owner = files
            .get(commit)
            .and_then(Option::as_ref)
            .and_then(|file| file.accountable_of(path))
            .map(|owner| owner.as_str().to_owned());
    }
}

/// The `CODEOWNERS` file at `rev` and where it was: the first of [`owners::LOCATIONS`]
/// that exists, `first` tried before them. `None` when there is none or it cannot be read.
fn read_codeowners(
    repo: &dyn SourceRepo,
    rev: &str,
    first: Option<&'static str>,
    at_head: bool,
    warnings: &mut Vec<String>,
) -> Option<(&'static str, CodeOwners)> {
    let locations = first
        .into_iter()
        .chain(owners::LOCATIONS.into_iter().filter(|l| Some(*l) != first));
    for location in locations {
        let bytes = match repo.read_file(rev, location) {
            Ok(None) => continue,
            Ok(Some(bytes)) => bytes,
            Err(error) => {
                warnings.push(format!(
                    "{location} at {} could not be read, so its findings have no owner: {error}",
                    short(rev)
                ));
                return None;
            }
        };
        let Ok(text) = String::from_utf8(bytes) else {
            warnings.push(format!(
                "{location} at {} is not UTF-8, so its findings have no owner",
                short(rev)
            ));
            return None;
        };
        let (file, skipped) = CodeOwners::parse(location, &text);
        for warning in skipped {
            if at_head {
                warnings.push(warning.to_string());
            } else {
                warn!(commit = %short(rev), "{warning}");
            }
        }
        return Some((location, file));
    }
    None
}

fn read_sources<'a>(
    repo: &dyn SourceRepo,
    rev: &str,
    paths: impl IntoIterator<Item = &'a String>,
) -> Result<Sources, GitError> {
    let mut sources = Sources::default();
    for path in paths {
        let Some(bytes) = repo.read_file(rev, path)? else {
            continue;
        };
        if bytes.len() > MAX_SOURCE_BYTES {
            continue;
        }
        if let Ok(text) = String::from_utf8(bytes) {
            sources.insert(path.clone(), text);
        }
    }
    Ok(sources)
}

/// Blames each file once (`paths` is a set); a file that cannot be blamed only loses its attribution.
fn blame_files<'a>(
    repo: &dyn SourceRepo,
    head: &str,
    sources: &Sources,
    paths: impl IntoIterator<Item = &'a String>,
) -> HashMap<String, crate::model::FileBlame> {
    let mut blame = HashMap::new();
    for path in paths.into_iter().filter(|p| sources.get(p).is_some()) {
        match repo.blame(head, path) {
            Ok(b) => {
                blame.insert(path.clone(), b);
            }
            Err(error) => warn!(path = %path, "cannot blame: {error}"),
        }
    }
    blame
}

fn short(sha: &str) -> &str {
    sha.get(..12).unwrap_or(sha)
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;

    use super::*;
    use crate::git::testing::{ALICE, TestRepo};
    use crate::model::{ChangeSet, FileBlame};

    /// Records every blame request it forwards.
    struct CountingRepo {
        inner: LocalRepo,
        blamed: RefCell<Vec<String>>,
    }

    impl SourceRepo for CountingRepo {
        fn resolve(&self, rev: &str) -> Result<String, GitError> {
            self.inner.resolve(rev)
        }
        fn merge_base(&self, a: &str, b: &str) -> Result<String, GitError> {
            self.inner.merge_base(a, b)
        }
        fn changes(&self, base: &str, head: &str) -> Result<ChangeSet, GitError> {
            self.inner.changes(base, head)
        }
        fn read_file(&self, rev: &str, path: &str) -> Result<Option<Vec<u8>>, GitError> {
            self.inner.read_file(rev, path)
        }
        fn list_files(&self, rev: &str) -> Result<Vec<String>, GitError> {
            self.inner.list_files(rev)
        }
        fn blame(&self, rev: &str, path: &str) -> Result<FileBlame, GitError> {
            self.blamed.borrow_mut().push(path.to_string());
            self.inner.blame(rev, path)
        }
    }

    /// A SARIF report with one `eval` result on each (path, line).
    fn sarif(results: &[(&str, u32)]) -> String {
        let results: Vec<String> = results
            .iter()
            .map(|(path, line)| {
                format!(
                    r#"{{"ruleId":"eval","message":{{"text":"m"}},"locations":[{{"physicalLocation":{{"artifactLocation":{{"uri":"{path}"}},"region":{{"startLine":{line}}}}}}}]}}"#
                )
            })
            .collect();
        format!(
            r#"{{"version":"2.1.0","runs":[{{"tool":{{"driver":{{"name":"t"}}}},"results":[{}]}}]}}"#,
            results.join(",")
        )
    }

    fn request(repo: &TestRepo, head: String, reports: Vec<PathBuf>) -> Request {
        Request {
            repo: repo.path().to_path_buf(),
            base: head.clone(),
            head,
            base_reports: vec![],
            head_reports: reports,
            config: None,
            config_from: ConfigFrom::Base,
            fail_on: None,
            today: NaiveDate::from_ymd_opt(2025, 1, 1).unwrap(),
            triage: TriageBook::default(),
            secrets: SecretHasher::default(),
            deployed: Deployed::default(),
            read_inventory: false,
        }
    }

    #[test]
    fn each_finding_is_owned_as_codeowners_read_at_its_introducing_commit() {
        let repo = TestRepo::new();
        repo.write(
            ".github/CODEOWNERS",
            "* @acme/platform\n/api/ @acme/api @alice\n",
        );
        repo.write("api/a.py", "eval(x)\n");
        repo.write("web/w.py", "eval(w)\n");
        repo.commit("first", ALICE);
        // The file changes hands: later findings belong to the new owners, earlier ones
        // stay with the team that owned them when they came in.
        repo.write(".github/CODEOWNERS", "* @acme/platform\n/api/ @bob\n");
        repo.write("api/b.py", "eval(y)\n");
        let head = repo.commit("second", ALICE);
        let report = repo.path().join("r.sarif");
        std::fs::write(
            &report,
            sarif(&[("api/a.py", 1), ("api/b.py", 1), ("web/w.py", 1)]),
        )
        .unwrap();
        let outcome = run(&request(&repo, head, vec![report])).unwrap();
        let owner = |path: &str| {
            outcome
                .review
                .findings
                .iter()
                .find(|f| f.finding.path() == Some(path))
                .and_then(|f| f.owner.clone())
        };
        assert_eq!(owner("api/a.py").as_deref(), Some("@acme/api"));
        assert_eq!(owner("api/b.py").as_deref(), Some("@bob"));
        assert_eq!(owner("web/w.py").as_deref(), Some("@acme/platform"));
    }

    #[test]
    fn a_codeowners_file_deleted_since_is_not_looked_for() {
        let repo = TestRepo::new();
        repo.write("CODEOWNERS", "* @acme/old\n");
        repo.write("a.py", "eval(x)\n");
        repo.commit("code", ALICE);
        repo.git(&["rm", "-q", "CODEOWNERS"], ALICE);
        let head = repo.commit("no owners", ALICE);
        let report = repo.path().join("r.sarif");
        std::fs::write(&report, sarif(&[("a.py", 1)])).unwrap();
        let outcome = run(&request(&repo, head, vec![report])).unwrap();
        assert_eq!(outcome.review.findings.len(), 1);
        assert_eq!(outcome.review.findings[0].owner, None);
    }

    #[test]
    fn a_malformed_line_at_head_is_a_review_warning() {
        let repo = TestRepo::new();
        repo.write("docs/CODEOWNERS", "* @acme/all\nsrc/ not-an-owner\n");
        repo.write("src/a.py", "eval(x)\n");
        let head = repo.commit("code", ALICE);
        let report = repo.path().join("r.sarif");
        std::fs::write(&report, sarif(&[("src/a.py", 1)])).unwrap();
        let outcome = run(&request(&repo, head, vec![report])).unwrap();
        assert_eq!(
            outcome.review.findings[0].owner.as_deref(),
            Some("@acme/all")
        );
        assert!(
            outcome
                .review
                .warnings
                .iter()
                .any(|w| w.starts_with("docs/CODEOWNERS:2: `not-an-owner` is not an owner")),
            "{:?}",
            outcome.review.warnings
        );
    }

    #[test]
    fn without_codeowners_findings_have_no_owner() {
        let repo = TestRepo::new();
        repo.write("a.py", "eval(x)\n");
        let head = repo.commit("code", ALICE);
        let report = repo.path().join("r.sarif");
        std::fs::write(&report, sarif(&[("a.py", 1)])).unwrap();
        let outcome = run(&request(&repo, head, vec![report])).unwrap();
        assert_eq!(outcome.review.findings.len(), 1);
        assert_eq!(outcome.review.findings[0].owner, None);
    }

    #[test]
    fn each_file_is_blamed_once_however_many_findings_it_holds() {
        let repo = TestRepo::new();
        repo.write("a.py", "eval(x)\n".repeat(50));
        repo.write("b.py", "eval(y)\n");
        let head = repo.commit("code", ALICE);
        let results: Vec<String> = (1..=50)
            .map(|line| ("a.py", line))
            .chain([("b.py", 1)])
            .map(|(path, line)| {
                format!(
                    r#"{{"ruleId":"eval","message":{{"text":"m"}},"locations":[{{"physicalLocation":{{"artifactLocation":{{"uri":"{path}"}},"region":{{"startLine":{line}}}}}}}]}}"#
                )
            })
            .collect();
        let sarif = format!(
            r#"{{"version":"2.1.0","runs":[{{"tool":{{"driver":{{"name":"t"}}}},"results":[{}]}}]}}"#,
            results.join(",")
        );
        let report = repo.path().join("r.sarif");
        std::fs::write(&report, sarif).unwrap();
        let counting = CountingRepo {
            inner: repo.open(),
            blamed: RefCell::new(Vec::new()),
        };
        let request = Request {
            repo: repo.path().to_path_buf(),
            base: head.clone(),
            head,
            base_reports: vec![],
            head_reports: vec![report],
            config: None,
            config_from: ConfigFrom::Base,
            fail_on: None,
            today: NaiveDate::from_ymd_opt(2025, 1, 1).unwrap(),
            triage: TriageBook::default(),
            secrets: SecretHasher::default(),
            deployed: Deployed::default(),
            read_inventory: false,
        };
        let outcome = review_repo(&counting, &request).unwrap();
        assert_eq!(outcome.review.findings.len(), 51);
        assert!(
            outcome
                .review
                .findings
                .iter()
                .all(|f| f.introduced_by.is_some())
        );
        assert_eq!(
            *counting.blamed.borrow(),
            vec!["a.py".to_string(), "b.py".to_string()]
        );
    }
}
