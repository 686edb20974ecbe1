//! The pure pipeline: correlate, attribute, prioritise, remediate, apply policy.
//!
//! Everything here takes plain data and returns plain data: no git, no network, no disk.
//! [`crate::review`] gathers the inputs at the edges and calls [`run`].

pub mod attribute;
pub mod comments;
pub mod correlate;
pub mod dedup;
pub mod diff;
pub mod feeds;
pub mod identity;
pub mod linehash;
pub mod lockfile;
pub mod manifest;
pub mod owners;
pub mod remediation;
pub mod rewrite;
pub mod risk;
pub mod scope;
pub mod similarity;
pub mod sources;
pub mod upgrade;
pub mod versions;
pub mod weakness;

use std::borrow::Cow;
use std::collections::{BTreeSet, HashMap};

use chrono::NaiveDate;

use crate::config::{Config, OnMissingReport};
use crate::model::{
    Advisory, ChangeCommits, ChangeSet, Dedup, Ecosystem, FailOn, FileBlame, Finding, FindingId,
    Gate, GateOutcome, Intel, Location, Review, ReviewedFinding, Snapshot, Status, Summary,
    TriageState,
};
use crate::triage::TriageBook;
use diff::DiffIndex;
use sources::Sources;

/// Everything the pipeline needs, gathered beforehand by the caller.
pub struct Input<'a> {
    /// The base and head revisions, resolved to commit ids.
    pub base: &'a str,
    pub head: &'a str,
    /// Findings at base (paths in base's tree) and at head.
    pub base_snapshot: Snapshot,
    pub head_snapshot: Snapshot,
    /// What this change did: merge-base → head.
    pub changes: &'a ChangeSet,
    /// How base's tree maps onto head's: base → head (the same as `changes` when base is the
    /// merge-base).
    pub baseline_diff: &'a ChangeSet,
    /// Files at base and at head that findings refer to (see [`files_to_read`]). Base's are
    /// needed only to correlate: given owned, they are freed right after.
    pub base_sources: Cow<'a, Sources>,
    pub head_sources: &'a Sources,
    /// Blame at head of the files in [`files_to_read`] of the head snapshot, by path.
    pub blame: &'a HashMap<String, FileBlame>,
    /// The change's commits (merge-base..head) in ancestry order, to attribute findings;
    /// `None` when the repository cannot list them (see [`attribute`]).
    pub change_commits: Option<&'a ChangeCommits>,
    pub config: &'a Config,
    /// KEV and EPSS records of (at least) the CVEs the head findings name.
    pub intel: &'a Intel,
    /// People's decisions (commands, VEX) about this repository's findings.
    pub triage: &'a TriageBook,
    /// The gate's threshold.
    pub fail_on: FailOn,
    pub today: NaiveDate,
    /// What the repository's deployments run (the "deployed to production" factor).
    pub deployed: &'a crate::inventory::Deployed,
}

/// The repository files the pipeline reads for `snapshot`'s findings.
pub fn files_to_read(snapshot: &Snapshot) -> BTreeSet<String> {
    let mut files = BTreeSet::new();
    for finding in &snapshot.findings {
        if let Some(location) = &finding.location
            && !location.outside_repo
        {
            files.insert(location.path.clone());
        }
        if let Some(package) = &finding.package {
            files.extend(upgrade::manifest_candidates(package));
        }
    }
    files
}

/// The CVE ids `snapshot`'s findings name (rules, advisory ids and aliases), upper-case:
/// what to look up in KEV and EPSS.
pub fn cve_ids(snapshot: &Snapshot) -> BTreeSet<String> {
    snapshot
        .findings
        .iter()
        .flat_map(Finding::advisory_ids)
        .filter(|id| crate::model::intel::is_cve(id))
        .collect()
}

/// Runs the pipeline: the review of one change.
pub fn run(input: Input<'_>) -> Review {
    let changes = DiffIndex::new(input.changes);
    let baseline = DiffIndex::new(input.baseline_diff);
    let missing = MissingTools::of(&input.base_snapshot, &input.head_snapshot);
    let base = input.base_snapshot.findings;
    let head = input.head_snapshot.findings;
    // Each tool's results are matched against that tool's baseline first, then what
    // several tools said about one problem is merged: identity stays per tool, so a
    // second tool joining later cannot make an old problem look new.
    let matches = correlate::correlate(
        &base,
        &head,
        &baseline,
        &input.base_sources,
        input.head_sources,
    );
    drop(input.base_sources);
    let (at_head, fixed): (Vec<_>, Vec<_>) = matches.into_iter().partition(|m| m.head.is_some());
    // The base first: its findings are freed before the head's are regrouped, rather than
    // held through it.
    let fixed = merged(&fixed, base, |m| m.base);
    let head_results = head.len();
    let head_groups = merged(&at_head, head, |m| m.head);
    let head_dedup = Dedup {
        results: head_results,
        findings: head_groups.len(),
    };
    let mut records = head_groups;
    // Exactly: `extend` alone doubles the head's records, 100 MB at 100,000 findings.
    records.reserve_exact(fixed.len());
    records.extend(fixed);
    // Every head finding's declarations, and the advisories of each package pooled across
    // the findings and manifests that report it: one upgrade must clear them all.
    let mut declarations: Vec<Vec<upgrade::Declared>> = records
        .iter()
        .map(|r| {
            if r.status != Status::Fixed && !r.finding.suppressed {
                upgrade::declarations(&r.finding, input.head_sources)
            } else {
                Vec::new()
            }
        })
        .collect();
    let pooled = pooled_advisories(&records);

    let mut line_hashes: HashMap<&str, Vec<linehash::LineHash>> = HashMap::new();
    // Sized once: doubling a vector of 100,000 reviewed findings held both copies at its
    // last step, 144 of the review's 341 MB of peak heap.
    let mut findings = Vec::with_capacity(records.len());
    let mut suppressed = 0;
    // Popped (reversed first, so still in order), so the records' buffer shrinks as the
    // reviewed findings grow: iterated, it stayed whole until the last (52 MB at 100,000).
    records.reverse();
    declarations.reverse();
    while let Some(record) = records.pop() {
        let declared = declarations.pop().unwrap_or_default();
        if records.len() % SHRINK_EVERY == 0 {
            records.shrink_to_fit();
        }
        let Record {
            id,
            status,
            finding: owned,
            changed,
            previous_ids,
        } = record;
        let finding = &owned;
        let at_head = status != Status::Fixed;
        let status = missing.status(status, finding);
        if finding.suppressed {
            suppressed += 1;
            continue;
        }
        let in_diff = if at_head {
            touches_change(finding, &declared, &changes)
        } else {
            touched_in_base(finding, &baseline)
        };
        let mut status = status;
        // Without any baseline report, only what the diff touched can be new.
        if status == Status::New && !in_diff && input.base_snapshot.tools.is_empty() {
            status = Status::Existing;
        }
        let attributed = at_head
            .then(|| {
                attribution(
                    finding,
                    declared.first(),
                    input.blame,
                    input.change_commits,
                    status,
                )
            })
            .flatten();
        let (introduced_by, introduced_unknown) = match attributed {
            Some(attribute::Attribution::Commit(commit)) => (Some(commit), None),
            Some(attribute::Attribution::Unknown(reason)) => (None, Some(reason)),
            None => (None, None),
        };
        let dependency = match &finding.package {
            Some(package) if at_head && finding.kind.is_dependency() => {
                Some(scope::scope(package, &declared, input.head_sources))
            }
            _ => None,
        };
        let upgrade = at_head
            .then(|| {
                let package = finding.package.as_ref()?;
                let advisories = upgrade::package_key(package)
                    .and_then(|key| pooled.get(&key))
                    .map_or(finding.advisories.as_slice(), Vec::as_slice);
                let fix = remediation::minimal_fix(
                    &package.ecosystem,
                    package.version.as_deref()?,
                    advisories,
                )?;
                let via = (dependency.as_ref()?.direct == Some(false))
                    .then(|| scope::transitive(package, &declared, input.head_sources, &fix.to))
                    .flatten();
                upgrade::advise(finding, declared.first(), &fix, via)
            })
            .flatten();
        let context_path = declared
            .first()
            .map(|d| d.manifest.as_str())
            .or_else(|| finding.path().filter(|_| !outside_repo(finding)));
        let business = input.config.context_for(context_path);
        let risk = risk::score(
            finding,
            status,
            in_diff,
            &risk::Context {
                weights: &input.config.risk.weights,
                business: &business,
                intel: input.intel,
                dependency: dependency.as_ref(),
                deployed: finding
                    .package
                    .as_ref()
                    .and_then(|package| input.deployed.running(package)),
            },
        );
        let ignored = input
            .config
            .ignore_rule_for(finding, input.today)
            .map(|rule| rule.describe());
        let mut finding = owned;
        // A dependency is pointed at where it is declared: that is where the fix goes.
        if let Some(d) = declared.first() {
            finding.location = Some(Location::new(d.manifest.clone()).with_lines(d.line, d.line));
        }
        let line_hash = at_head
            .then(|| primary_line_hash(&finding, input.head_sources, &mut line_hashes))
            .flatten();
        // An acceptance past its last day no longer applies (the expiry job reopens it).
        let triage = at_head
            .then(|| input.triage.for_finding(&id, &previous_ids, &finding))
            .flatten()
            .filter(|t| t.state == TriageState::Pending || t.silences(input.today));
        // Only what an inline comment can show, and never a line that may hold a credential:
        // quoting it again would spread it.
        let snippet =
            (at_head && status == Status::New && in_diff && !finding.may_hold_a_credential())
                .then(|| sources::flagged_lines(finding.location.as_ref()?, input.head_sources))
                .flatten();
        findings.push(ReviewedFinding {
            id,
            status,
            in_diff,
            finding,
            line_hash,
            introduced_by,
            introduced_unknown,
            risk,
            upgrade: upgrade.map(Box::new),
            ignored,
            dependency,
            triage: triage.map(Box::new),
            changed: changed && status == Status::Existing,
            previous_ids,
            snippet,
            owner: None,
        });
    }
    // Sorted through their indices: a stable sort of the findings themselves takes scratch
    // room for half of them (40 MB at 100,000).
    let mut order: Vec<usize> = (0..findings.len()).collect();
    order.sort_by(|&a, &b| {
        let (a, b) = (&findings[a], &findings[b]);
        b.risk
            .score
            .cmp(&a.risk.score)
            .then_with(|| risk::total(&b.risk).cmp(&risk::total(&a.risk)))
            .then_with(|| status_rank(a.status).cmp(&status_rank(b.status)))
            .then_with(|| a.finding.path().cmp(&b.finding.path()))
            .then_with(|| start_line(&a.finding).cmp(&start_line(&b.finding)))
            .then_with(|| a.id.cmp(&b.id))
    });
    arrange(&mut findings, order);

    let shown = |f: &&ReviewedFinding| f.ignored.is_none() && !f.is_triaged_away();
    let blocking = findings
        .iter()
        .filter(shown)
        .filter(|f| f.status == Status::New)
        .filter(|f| input.fail_on.blocks(f.finding.severity))
        .count();
    let count = |status| {
        findings
            .iter()
            .filter(shown)
            .filter(|f| f.status == status)
            .count()
    };
    let outcome = if blocking > 0 {
        GateOutcome::Failed
    } else if !missing.is_empty() && input.config.gate.on_missing_report == OnMissingReport::Fail {
        GateOutcome::Incomplete
    } else {
        GateOutcome::Passed
    };
    let summary = Summary {
        new: count(Status::New),
        existing: count(Status::Existing),
        fixed: count(Status::Fixed),
        ignored: findings.iter().filter(|f| f.ignored.is_some()).count(),
        suppressed,
        triaged: findings
            .iter()
            .filter(|f| f.ignored.is_none() && f.is_triaged_away())
            .count(),
        not_scanned: count(Status::NotScanned),
        missing_tools: missing.names(),
        dedup: head_dedup,
        gate: Gate {
            passed: outcome == GateOutcome::Passed,
            outcome,
            fail_on: Some(input.fail_on),
            blocking,
        },
    };
    let mut warnings = input.config.expired_rules(input.today);
    warnings.extend(missing.warnings());
    if input.base_snapshot.tools.is_empty() {
        warnings.push(
            "no base report was given: findings outside the diff are counted as existing".into(),
        );
    }
    let upgrades = upgrade::suggestions(&findings);
    Review {
        base: input.base.to_string(),
        head: input.head.to_string(),
        merge_base: input.changes.base.clone(),
        summary,
        findings,
        warnings,
        upgrades,
        config_changes: Vec::new(),
    }
}

/// The tools that reported on one side only. Their findings are `not_scanned`: a tool
/// that did not run at head has fixed nothing, and one that did not run at base has
/// introduced nothing anyone can tell. A base with no reports at all is a different case
/// (baseline unknown), handled by the caller.
struct MissingTools {
    at_head: BTreeSet<String>,
    at_base: BTreeSet<String>,
}

impl MissingTools {
    fn of(base: &Snapshot, head: &Snapshot) -> MissingTools {
        if base.tools.is_empty() {
            return MissingTools {
                at_head: BTreeSet::new(),
                at_base: BTreeSet::new(),
            };
        }
        MissingTools {
            at_head: base.tools.difference(&head.tools).cloned().collect(),
            at_base: head.tools.difference(&base.tools).cloned().collect(),
        }
    }

    fn is_empty(&self) -> bool {
        self.at_head.is_empty() && self.at_base.is_empty()
    }

    /// The status of a correlated finding once missing reports are taken into account: a
    /// finding gone at head whose tools all did not run there, or new at head from tools
    /// that all did not run at base, is `not_scanned`.
    fn status(&self, status: Status, finding: &Finding) -> Status {
        let all_in = |set: &BTreeSet<String>| {
            !finding.tools.is_empty() && finding.tools.iter().all(|t| set.contains(t))
        };
        match status {
            Status::Fixed if all_in(&self.at_head) => Status::NotScanned,
            Status::New if all_in(&self.at_base) => Status::NotScanned,
            other => other,
        }
    }

    fn names(&self) -> Vec<String> {
        self.at_head.union(&self.at_base).cloned().collect()
    }

    fn warnings(&self) -> Vec<String> {
        let list = |set: &BTreeSet<String>| set.iter().cloned().collect::<Vec<_>>().join(", ");
        let mut warnings = Vec::new();
        if !self.at_head.is_empty() {
            warnings.push(format!(
                "no report at head from {}: its base findings are not_scanned, not fixed",
                list(&self.at_head)
            ));
        }
        if !self.at_base.is_empty() {
            warnings.push(format!(
                "no report at base from {}: its findings are not_scanned, not new",
                list(&self.at_base)
            ));
        }
        warnings
    }
}

fn outside_repo(finding: &Finding) -> bool {
    finding.location.as_ref().is_some_and(|l| l.outside_repo)
}

/// The advisories of every package at head, pooled by ecosystem, name and version, each id
/// once.
fn pooled_advisories(records: &[Record]) -> HashMap<(Ecosystem, String, String), Vec<Advisory>> {
    let mut pooled: HashMap<(Ecosystem, String, String), Vec<Advisory>> = HashMap::new();
    for record in records {
        if record.status == Status::Fixed || record.finding.suppressed {
            continue;
        }
        let Some(key) = record
            .finding
            .package
            .as_deref()
            .and_then(upgrade::package_key)
        else {
            continue;
        };
        let advisories = pooled.entry(key).or_default();
        for advisory in &record.finding.advisories {
            if !advisories.iter().any(|a| a.id == advisory.id) {
                advisories.push(advisory.clone());
            }
        }
    }
    pooled
}

/// How many records are taken between two shrinks of their buffer.
const SHRINK_EVERY: usize = 8192;

/// Puts `items` in `order` (`order[k]` is the index of the item that goes to position `k`)
/// in place, by following the permutation's cycles.
fn arrange<T>(items: &mut [T], mut order: Vec<usize>) {
    for start in 0..items.len() {
        let mut current = start;
        while order[current] != start && order[current] != current {
            let next = order[current];
            items.swap(current, next);
            order[current] = current;
            current = next;
        }
        order[current] = current;
    }
}

/// A correlated and de-duplicated finding, before attribution, ranking and policy.
struct Record {
    id: FindingId,
    status: Status,
    finding: Finding,
    /// Existing, and every member that was existing had its code rewritten.
    changed: bool,
    /// The members' previous ids, and the other members' ids.
    previous_ids: Vec<FindingId>,
}

/// Merges the matches of one side that report one problem: the lead's id, and `existing`
/// when any member was in the baseline.
/// The matched findings merged per problem, each taken (not copied) from `findings`: a
/// review of 100,000 findings holds each once.
fn merged(
    matches: &[correlate::Match],
    findings: Vec<Finding>,
    index: impl Fn(&correlate::Match) -> Option<usize>,
) -> Vec<Record> {
    let pairs: Vec<(&correlate::Match, usize)> = matches
        .iter()
        .filter_map(|m| Some((m, index(m).filter(|&i| i < findings.len())?)))
        .collect();
    let members: Vec<&Finding> = pairs.iter().map(|&(_, i)| &findings[i]).collect();
    let groups = dedup::groups(&members);
    let mut slots: Vec<Option<Finding>> = findings.into_iter().map(Some).collect();
    // Sized up front: collecting grew the vector by doubling, both copies held at each step.
    let mut records = Vec::with_capacity(groups.len());
    for group in groups {
        let Some(&(lead, _)) = group.first().map(|&first| &pairs[first]) else {
            continue;
        };
        let existing = || {
            group
                .iter()
                .map(|&i| pairs[i].0)
                .filter(|m| m.status == Status::Existing)
        };
        let status = if existing().next().is_some() {
            Status::Existing
        } else {
            lead.status
        };
        let changed = existing().next().is_some() && existing().all(|m| m.changed);
        // Comments and triage may name any member: the lead's id stands for them all.
        let mut previous_ids: Vec<FindingId> = Vec::new();
        for m in group.iter().map(|&i| pairs[i].0) {
            let ids = std::iter::once(&m.id).chain(&m.previous_ids);
            for id in ids {
                if *id != lead.id && !previous_ids.contains(id) {
                    previous_ids.push(id.clone());
                }
            }
        }
        if let Some(finding) = dedup::merge(group.iter().filter_map(|&i| slots[pairs[i].1].take()))
        {
            records.push(Record {
                id: lead.id.clone(),
                status,
                finding,
                changed,
                previous_ids,
            });
        }
    }
    records
}

fn status_rank(status: Status) -> u8 {
    match status {
        Status::New => 0,
        Status::Existing => 1,
        Status::NotScanned => 2,
        Status::Fixed => 3,
    }
}

fn start_line(finding: &Finding) -> Option<u32> {
    finding.location.as_ref().and_then(|l| l.start_line)
}

fn touches_change(finding: &Finding, declared: &[upgrade::Declared], changes: &DiffIndex) -> bool {
    if finding.kind.is_dependency() {
        return declared
            .iter()
            .any(|d| changes.touches(&d.manifest, d.line, d.line));
    }
    let Some(location) = finding.location.as_ref().filter(|l| !l.outside_repo) else {
        return false;
    };
    match location.lines() {
        Some((start, end)) => changes.touches(&location.path, start, end),
        None => changes.is_new_file(&location.path),
    }
}

/// A fixed finding was fixed by this change when the change rewrote its lines.
fn touched_in_base(finding: &Finding, baseline: &DiffIndex) -> bool {
    let Some(location) = finding.location.as_ref().filter(|l| !l.outside_repo) else {
        return false;
    };
    match location.lines() {
        Some((start, end)) => baseline.touches_base(&location.path, start, end),
        None => baseline.head_path(&location.path).is_none(),
    }
}

fn primary_line_hash<'s>(
    finding: &Finding,
    sources: &'s Sources,
    cache: &mut HashMap<&'s str, Vec<linehash::LineHash>>,
) -> Option<String> {
    let location = finding.location.as_ref().filter(|l| !l.outside_repo)?;
    let line = location.start_line?;
    let (path, file) = sources.get_key_value(&location.path)?;
    let hashes = cache
        .entry(path)
        .or_insert_with(|| linehash::line_hashes(file.text()));
    hashes
        .get(usize::try_from(line).ok()?.checked_sub(1)?)
        .map(ToString::to_string)
}

fn attribution(
    finding: &Finding,
    declared: Option<&upgrade::Declared>,
    blame: &HashMap<String, FileBlame>,
    change: Option<&ChangeCommits>,
    status: Status,
) -> Option<attribute::Attribution> {
    if let Some(d) = declared {
        let manifest = blame.get(&d.manifest)?;
        return attribute::introduced_by(manifest, d.line, d.line, change, status);
    }
    let location = finding.location.as_ref().filter(|l| !l.outside_repo)?;
    let (start, end) = location.lines()?;
    attribute::introduced_by(blame.get(&location.path)?, start, end, change, status)
}

#[cfg(test)]
mod tests {
    use super::arrange;

    #[test]
    fn arrange_puts_items_in_the_given_order() {
        // Cycles of one, two and four items.
        let order = vec![0, 2, 1, 6, 3, 4, 5];
        let items: Vec<char> = "abcdefg".chars().collect();
        let expected: Vec<char> = order.iter().map(|&i| items[i]).collect();
        let mut arranged = items.clone();
        arrange(&mut arranged, order);
        assert_eq!(arranged, expected);
        assert_eq!(arranged.iter().collect::<String>(), "acbgdef");
    }
}
