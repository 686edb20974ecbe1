//! Letter grades: how a repository's open findings stand against their SLA, with the reason
//! in words, and the org's grade (its worst repository's).
//!
//! Over the findings open at `as_of` (past due: due date before `as_of`):
//!
//! * **F**: a critical finding, or any KEV-listed finding, is open past its due date;
//! * **D**: a high finding is open past its due date;
//! * **C**: a medium or low finding (or an informational one, when the policy gives those a
//!   due date) is open past its due date, or a critical finding is open within its SLA;
//! * **B**: a high finding is open within its SLA;
//! * **A**: otherwise.
//!
//! The org's grade is the worst of its repositories' (A without any repository).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::model::Severity;

/// A letter grade, ordered so that a worse grade is greater (`Grade::F > Grade::A`).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
pub enum Grade {
    #[default]
    A,
    B,
    C,
    D,
    F,
}

impl Grade {
    /// Every grade, best first.
    pub const ALL: [Grade; 5] = [Grade::A, Grade::B, Grade::C, Grade::D, Grade::F];

    pub fn as_str(self) -> &'static str {
        match self {
            Grade::A => "A",
            Grade::B => "B",
            Grade::C => "C",
            Grade::D => "D",
            Grade::F => "F",
        }
    }

    /// The worse of two grades.
    pub fn worse(self, other: Grade) -> Grade {
        self.max(other)
    }

    /// The worst of `grades`; A when there are none.
    pub fn worst(grades: impl IntoIterator<Item = Grade>) -> Grade {
        grades.into_iter().max().unwrap_or(Grade::A)
    }
}

impl fmt::Display for Grade {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Grade {
    type Err = String;

    fn from_str(s: &str) -> Result<Grade, String> {
        Grade::ALL
            .into_iter()
            .find(|g| g.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| format!("unknown grade `{s}` (expected A, B, C, D or F)"))
    }
}

/// What grading needs to know of one open finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct OpenFinding {
    /// Its severity at `as_of`.
    pub severity: Severity,
    pub kev: bool,
    /// Its due date is before `as_of`.
    pub past_due: bool,
}

/// A set of open findings graded: the grade and the counts that explain it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(super) struct Grading {
    pub grade: Grade,
    critical_past_due: u64,
    /// KEV-listed, past due and not critical (those are counted as critical).
    kev_past_due: u64,
    high_past_due: u64,
    medium_past_due: u64,
    low_past_due: u64,
    info_past_due: u64,
    critical_within: u64,
    high_within: u64,
}

impl Grading {
    /// Grades `findings`, the open findings of one repository.
    pub fn of(findings: impl IntoIterator<Item = OpenFinding>) -> Grading {
        let mut g = Grading::default();
        for f in findings {
            let count = match (f.severity, f.past_due) {
                (Severity::Critical, true) => &mut g.critical_past_due,
                (_, true) if f.kev => &mut g.kev_past_due,
                (Severity::High, true) => &mut g.high_past_due,
                (Severity::Medium, true) => &mut g.medium_past_due,
                (Severity::Low, true) => &mut g.low_past_due,
                (Severity::Info, true) => &mut g.info_past_due,
                (Severity::Critical, false) => &mut g.critical_within,
                (Severity::High, false) => &mut g.high_within,
                (_, false) => continue,
            };
            *count += 1;
        }
        g.grade = if g.critical_past_due + g.kev_past_due > 0 {
            Grade::F
        } else if g.high_past_due > 0 {
            Grade::D
        } else if g.lower_past_due() > 0 || g.critical_within > 0 {
            Grade::C
        } else if g.high_within > 0 {
            Grade::B
        } else {
            Grade::A
        };
        g
    }

    fn lower_past_due(&self) -> u64 {
        self.medium_past_due + self.low_past_due + self.info_past_due
    }

    /// Why the grade is what it is, without the letter or the repository: "2 high findings
    /// open past their SLA".
    pub fn detail(&self) -> String {
        match self.grade {
            Grade::F => {
                let parts = [
                    counted(self.critical_past_due, "critical"),
                    counted(self.kev_past_due, "KEV-listed"),
                ];
                past_sla(&parts, self.critical_past_due + self.kev_past_due)
            }
            Grade::D => past_sla(&[counted(self.high_past_due, "high")], self.high_past_due),
            Grade::C => {
                let mut parts = Vec::new();
                if self.lower_past_due() > 0 {
                    let levels: Vec<&str> = [
                        (self.medium_past_due, "medium"),
                        (self.low_past_due, "low"),
                        (self.info_past_due, "info"),
                    ]
                    .into_iter()
                    .filter(|(n, _)| *n > 0)
                    .map(|(_, level)| level)
                    .collect();
                    parts.push(past_sla(
                        &[counted(self.lower_past_due(), &either(&levels))],
                        self.lower_past_due(),
                    ));
                }
                if self.critical_within > 0 {
                    parts.push(within_sla(
                        &counted(self.critical_within, "critical"),
                        self.critical_within,
                    ));
                }
                parts.join(" and ")
            }
            Grade::B => within_sla(&counted(self.high_within, "high"), self.high_within),
            Grade::A => "no critical or high findings open and none past its SLA".to_owned(),
        }
    }

    /// The reason of a repository's grade: "D: 2 high findings open past their SLA in
    /// acme/shop".
    pub fn reason(&self, repository: &str) -> String {
        format!("{}: {} in {repository}", self.grade, self.detail())
    }
}

/// The org's grade and reason from its repositories' gradings, given worst first (the order
/// of the summary's repositories). The reason names at most three of the worst repositories.
pub(super) fn org_grade(repositories: &[(&str, Grading)]) -> (Grade, String) {
    const NAMED: usize = 3;
    let grade = Grade::worst(repositories.iter().map(|(_, g)| g.grade));
    if grade == Grade::A {
        let scope = match repositories.len() {
            0 => "no repository has findings".to_owned(),
            1 => format!(
                "no critical or high findings open and none past its SLA in {}",
                repositories[0].0
            ),
            n => format!(
                "no critical or high findings open and none past its SLA in any of {n} repositories"
            ),
        };
        return (grade, format!("A: {scope}"));
    }
    let worst: Vec<&(&str, Grading)> = repositories
        .iter()
        .filter(|(_, g)| g.grade == grade)
        .collect();
    let named: Vec<String> = worst
        .iter()
        .take(NAMED)
        .map(|(repository, g)| format!("{} in {repository}", g.detail()))
        .collect();
    let mut reason = format!("{grade}: {}", named.join("; "));
    let more = worst.len().saturating_sub(NAMED);
    if more > 0 {
        let noun = if more == 1 {
            "repository"
        } else {
            "repositories"
        };
        reason.push_str(&format!("; and {more} more {noun}"));
    }
    (grade, reason)
}

/// "1 critical finding", "3 high findings"; empty when `n` is 0.
fn counted(n: u64, what: &str) -> String {
    match n {
        0 => String::new(),
        1 => format!("1 {what} finding"),
        n => format!("{n} {what} findings"),
    }
}

/// "medium", "medium or low", "medium, low or info".
fn either(levels: &[&str]) -> String {
    match levels {
        [] => String::new(),
        [only] => (*only).to_owned(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

/// "… open past its SLA" for `total` findings described by the non-empty `parts`.
fn past_sla(parts: &[String], total: u64) -> String {
    let described: Vec<&str> = parts
        .iter()
        .filter(|p| !p.is_empty())
        .map(String::as_str)
        .collect();
    let pronoun = if total == 1 { "its" } else { "their" };
    format!("{} open past {pronoun} SLA", described.join(" and "))
}

/// "… open within its SLA".
fn within_sla(described: &str, total: u64) -> String {
    let pronoun = if total == 1 { "its" } else { "their" };
    format!("{described} open within {pronoun} SLA")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn open(severity: Severity, kev: bool, past_due: bool) -> OpenFinding {
        OpenFinding {
            severity,
            kev,
            past_due,
        }
    }

    #[test]
    fn grades_follow_the_worst_finding() {
        let cases = [
            (vec![], Grade::A),
            (vec![open(Severity::Medium, false, false)], Grade::A),
            (vec![open(Severity::High, false, false)], Grade::B),
            (vec![open(Severity::Critical, false, false)], Grade::C),
            (vec![open(Severity::Low, false, true)], Grade::C),
            (
                vec![
                    open(Severity::High, false, true),
                    open(Severity::Critical, false, false),
                ],
                Grade::D,
            ),
            (vec![open(Severity::Critical, false, true)], Grade::F),
            (vec![open(Severity::Low, true, true)], Grade::F),
            (vec![open(Severity::Low, true, false)], Grade::A),
        ];
        for (findings, grade) in cases {
            assert_eq!(Grading::of(findings.clone()).grade, grade, "{findings:?}");
        }
    }

    #[test]
    fn reasons_name_counts_and_the_repository() {
        let d = Grading::of([
            open(Severity::High, false, true),
            open(Severity::High, false, true),
            open(Severity::Critical, false, false),
        ]);
        assert_eq!(
            d.reason("acme/shop"),
            "D: 2 high findings open past their SLA in acme/shop"
        );
        let f = Grading::of([
            open(Severity::Critical, true, true),
            open(Severity::Low, true, true),
            open(Severity::Medium, true, true),
        ]);
        assert_eq!(
            f.reason("acme/api"),
            "F: 1 critical finding and 2 KEV-listed findings open past their SLA in acme/api"
        );
        let c = Grading::of([
            open(Severity::Medium, false, true),
            open(Severity::Low, false, true),
            open(Severity::Critical, false, false),
        ]);
        assert_eq!(
            c.reason("acme/web"),
            "C: 2 medium or low findings open past their SLA and 1 critical finding open \
             within its SLA in acme/web"
        );
        assert_eq!(
            Grading::of([]).reason("acme/shop"),
            "A: no critical or high findings open and none past its SLA in acme/shop"
        );
        assert_eq!(
            Grading::of([open(Severity::High, false, false)]).reason("x/y"),
            "B: 1 high finding open within its SLA in x/y"
        );
    }

    #[test]
    fn the_org_grade_is_the_worst_repositorys_and_names_at_most_three() {
        let f = |n: usize| Grading::of((0..n).map(|_| open(Severity::Critical, false, true)));
        let b = Grading::of([open(Severity::High, false, false)]);
        let repositories = [
            ("acme/api", f(1)),
            ("acme/shop", f(3)),
            ("acme/web", f(2)),
            ("acme/ops", f(1)),
            ("acme/docs", f(1)),
            ("acme/blog", b),
        ];
        let (grade, reason) = org_grade(&repositories);
        assert_eq!(grade, Grade::F);
        assert_eq!(
            reason,
            "F: 1 critical finding open past its SLA in acme/api; 3 critical findings open \
             past their SLA in acme/shop; 2 critical findings open past their SLA in \
             acme/web; and 2 more repositories"
        );
        let (grade, reason) = org_grade(&[("acme/blog", b)]);
        assert_eq!(grade, Grade::B);
        assert_eq!(reason, "B: 1 high finding open within its SLA in acme/blog");
        assert_eq!(
            org_grade(&[]),
            (Grade::A, "A: no repository has findings".into())
        );
    }

    #[test]
    fn grades_order_worse_as_greater_and_read_back() {
        assert!(Grade::F > Grade::D && Grade::D > Grade::C && Grade::B > Grade::A);
        assert_eq!(Grade::worst([Grade::B, Grade::D, Grade::A]), Grade::D);
        assert_eq!(Grade::worst([]), Grade::A);
        assert_eq!(Grade::C.worse(Grade::B), Grade::C);
        assert_eq!(serde_json::to_string(&Grade::F).unwrap(), "\"F\"");
        assert_eq!(serde_json::from_str::<Grade>("\"B\"").unwrap(), Grade::B);
        assert_eq!("d".parse::<Grade>(), Ok(Grade::D));
        assert!(
            "E".parse::<Grade>()
                .unwrap_err()
                .contains("A, B, C, D or F")
        );
        assert_eq!(Grade::C.to_string(), "C");
    }
}
