//! The `/posture …` commands people write in pull-request comments, parsed: pure, no I/O.
//!
//! One command per line; a line that does not start with `/posture` is conversation and
//! ignored. Words are case-insensitive. Findings are named by short id (`P-3f9a1c`); a
//! command in a reply to posture's own comment may leave them out. Everything after a
//! lone `--` is the comment kept with the decision.

use std::fmt;

use chrono::NaiveDate;

use crate::model::DismissReason;

/// The word that starts every command.
pub const PREFIX: &str = "/posture";

/// One command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Dismiss {
        reason: DismissReason,
        targets: Vec<String>,
        comment: Option<String>,
    },
    Accept {
        until: NaiveDate,
        targets: Vec<String>,
        comment: Option<String>,
    },
    Reopen {
        targets: Vec<String>,
    },
    Approve {
        targets: Vec<String>,
    },
    Reject {
        targets: Vec<String>,
    },
    Explain {
        targets: Vec<String>,
    },
    Rerun,
    Help,
}

impl Command {
    /// The short ids the command names (lower-case, `p-` prefix kept as `P-`).
    pub fn targets(&self) -> &[String] {
        match self {
            Command::Dismiss { targets, .. }
            | Command::Accept { targets, .. }
            | Command::Reopen { targets }
            | Command::Approve { targets }
            | Command::Reject { targets }
            | Command::Explain { targets } => targets,
            Command::Rerun | Command::Help => &[],
        }
    }

    /// Whether the command changes a decision (and so needs permission).
    pub fn decides(&self) -> bool {
        matches!(
            self,
            Command::Dismiss { .. }
                | Command::Accept { .. }
                | Command::Reopen { .. }
                | Command::Approve { .. }
                | Command::Reject { .. }
        )
    }

    /// The command's name as written.
    pub fn name(&self) -> &'static str {
        match self {
            Command::Dismiss { .. } => "dismiss",
            Command::Accept { .. } => "accept",
            Command::Reopen { .. } => "reopen",
            Command::Approve { .. } => "approve",
            Command::Reject { .. } => "reject",
            Command::Explain { .. } => "explain",
            Command::Rerun => "rerun",
            Command::Help => "help",
        }
    }
}

/// Why a command line could not be understood; the text is what posture replies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommandError {
    Unknown(String),
    MissingReason,
    UnknownReason(String),
    MissingUntil,
    BadDate(String),
    BadId(String),
    Unexpected { command: &'static str, word: String },
}

impl fmt::Display for CommandError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CommandError::Unknown(word) => {
                write!(f, "unknown command `{word}`: try `/posture help`")
            }
            CommandError::MissingReason => {
                write!(f, "`dismiss` needs a reason: one of {}", reasons())
            }
            CommandError::UnknownReason(word) => {
                write!(f, "unknown reason `{word}`: one of {}", reasons())
            }
            CommandError::MissingUntil => {
                write!(f, "`accept` needs `--until YYYY-MM-DD`")
            }
            CommandError::BadDate(word) => {
                write!(f, "`{word}` is not a date: write `--until YYYY-MM-DD`")
            }
            CommandError::BadId(word) => {
                write!(f, "`{word}` is not a finding id: ids look like `P-3f9a1c`")
            }
            CommandError::Unexpected { command, word } => {
                write!(f, "`{command}` does not take `{word}`")
            }
        }
    }
}

fn reasons() -> String {
    DismissReason::ALL
        .iter()
        .map(|r| format!("`{r}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// One line of a comment that is a command: its text and what it came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub text: String,
    pub command: Result<Command, CommandError>,
}

/// Every command in a comment, in order. Lines inside fenced code blocks and quotes
/// (`>`) are not commands: quoting someone's command does not run it again.
pub fn parse(body: &str) -> Vec<Line> {
    let mut in_fence = false;
    let mut lines = Vec::new();
    for raw in body.lines() {
        let line = raw.trim();
        if line.starts_with("```") || line.starts_with("~~~") {
            in_fence = !in_fence;
            continue;
        }
        if in_fence || !is_command(line) {
            continue;
        }
        lines.push(Line {
            text: line.to_string(),
            command: parse_line(line),
        });
    }
    lines
}

/// Whether a comment holds at least one command (the webhook router's test).
pub fn has_command(body: &str) -> bool {
    !parse(body).is_empty()
}

fn is_command(line: &str) -> bool {
    line.get(..PREFIX.len())
        .is_some_and(|p| p.eq_ignore_ascii_case(PREFIX))
        && line[PREFIX.len()..]
            .chars()
            .next()
            .is_none_or(char::is_whitespace)
}

fn parse_line(line: &str) -> Result<Command, CommandError> {
    let rest = &line[PREFIX.len()..];
    let (words, comment) = match rest.split_once(" -- ") {
        Some((words, comment)) => (words, Some(comment.trim().to_string())),
        None => match rest.strip_suffix(" --") {
            Some(words) => (words, None),
            None => (rest, None),
        },
    };
    let comment = comment.filter(|c| !c.is_empty());
    let mut words = words.split_whitespace();
    let Some(verb) = words.next() else {
        return Ok(Command::Help);
    };
    let verb = verb.to_ascii_lowercase();
    let rest: Vec<&str> = words.collect();
    match verb.as_str() {
        "dismiss" => {
            let (reason, ids) = rest.split_first().ok_or(CommandError::MissingReason)?;
            if is_id(reason) {
                return Err(CommandError::MissingReason);
            }
            let reason = reason
                .parse::<DismissReason>()
                .map_err(|_| CommandError::UnknownReason(reason.to_ascii_lowercase()))?;
            Ok(Command::Dismiss {
                reason,
                targets: ids_of("dismiss", ids)?,
                comment,
            })
        }
        "accept" => {
            let mut until = None;
            let mut ids = Vec::new();
            let mut words = rest.iter();
            while let Some(word) = words.next() {
                if let Some(date) = word.strip_prefix("--until=") {
                    until = Some(date_of(date)?);
                } else if word.eq_ignore_ascii_case("--until") {
                    let date = words.next().ok_or(CommandError::MissingUntil)?;
                    until = Some(date_of(date)?);
                } else {
                    ids.push(*word);
                }
            }
            Ok(Command::Accept {
                until: until.ok_or(CommandError::MissingUntil)?,
                targets: ids_of("accept", &ids)?,
                comment,
            })
        }
        "reopen" => Ok(Command::Reopen {
            targets: ids_of("reopen", &rest)?,
        }),
        "approve" => Ok(Command::Approve {
            targets: ids_of("approve", &rest)?,
        }),
        "reject" => Ok(Command::Reject {
            targets: ids_of("reject", &rest)?,
        }),
        "explain" => Ok(Command::Explain {
            targets: ids_of("explain", &rest)?,
        }),
        "rerun" => none_but("rerun", &rest).map(|()| Command::Rerun),
        "help" => Ok(Command::Help),
        _ => Err(CommandError::Unknown(verb)),
    }
}

fn date_of(word: &str) -> Result<NaiveDate, CommandError> {
    NaiveDate::parse_from_str(word, "%Y-%m-%d").map_err(|_| CommandError::BadDate(word.into()))
}

fn is_id(word: &str) -> bool {
    word.get(..2).is_some_and(|p| p.eq_ignore_ascii_case("p-"))
}

fn ids_of(command: &'static str, words: &[&str]) -> Result<Vec<String>, CommandError> {
    words
        .iter()
        .map(|word| {
            let hex =
                word.get(2..)
                    .filter(|_| is_id(word))
                    .ok_or_else(|| CommandError::Unexpected {
                        command,
                        word: word.to_string(),
                    })?;
            if hex.len() < 4 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
                return Err(CommandError::BadId(word.to_string()));
            }
            Ok(format!("P-{}", hex.to_ascii_lowercase()))
        })
        .collect()
}

fn none_but(command: &'static str, words: &[&str]) -> Result<(), CommandError> {
    match words.first() {
        Some(word) => Err(CommandError::Unexpected {
            command,
            word: word.to_string(),
        }),
        None => Ok(()),
    }
}

/// The `/posture help` answer.
pub const HELP: &str = "\
| command | effect |
|---|---|
| `/posture dismiss <reason> [P-…] [-- comment]` | reason: `false_positive`, `used_in_tests`, `not_affected`, `mitigated` or `wont_fix` |
| `/posture accept --until YYYY-MM-DD [P-…] [-- comment]` | accepts the risk until that date (at most `triage.max_accept_days` ahead, 90 by default) |
| `/posture reopen [P-…]` | undoes a dismissal or acceptance |
| `/posture approve [P-…]` / `/posture reject [P-…]` | decides a request that needs a second person's approval |
| `/posture explain [P-…]` | the finding's risk factors, introducing commit, fix and exploitation facts |
| `/posture rerun` | reviews the head again |
| `/posture help` | this table |

In a reply to posture's comment the finding is that comment's; elsewhere name findings by the short id every posture comment shows (`P-3f9a1c`). One command per line.";

#[cfg(test)]
mod tests {
    use super::*;

    fn one(body: &str) -> Result<Command, CommandError> {
        let mut lines = parse(body);
        assert_eq!(lines.len(), 1, "{body:?}");
        lines.remove(0).command
    }

    #[test]
    fn dismiss_with_reason_ids_and_comment() {
        assert_eq!(
            one("/posture dismiss false_positive P-3f9a1c p-0B2E77 -- test data"),
            Ok(Command::Dismiss {
                reason: DismissReason::FalsePositive,
                targets: vec!["P-3f9a1c".into(), "P-0b2e77".into()],
                comment: Some("test data".into()),
            })
        );
        assert_eq!(
            one("/POSTURE Dismiss Used_In_Tests"),
            Ok(Command::Dismiss {
                reason: DismissReason::UsedInTests,
                targets: vec![],
                comment: None,
            })
        );
    }

    #[test]
    fn accept_needs_a_date() {
        assert_eq!(
            one("/posture accept --until 2027-01-31 -- vendor fix due"),
            Ok(Command::Accept {
                until: "2027-01-31".parse().unwrap(),
                targets: vec![],
                comment: Some("vendor fix due".into()),
            })
        );
        assert_eq!(
            one("/posture accept P-abcdef --until=2027-01-31"),
            Ok(Command::Accept {
                until: "2027-01-31".parse().unwrap(),
                targets: vec!["P-abcdef".into()],
                comment: None,
            })
        );
        assert_eq!(one("/posture accept"), Err(CommandError::MissingUntil));
        assert_eq!(
            one("/posture accept --until tomorrow"),
            Err(CommandError::BadDate("tomorrow".into()))
        );
    }

    #[test]
    fn errors_say_what_is_wrong() {
        assert_eq!(
            one("/posture dismiss because"),
            Err(CommandError::UnknownReason("because".into()))
        );
        assert_eq!(one("/posture dismiss"), Err(CommandError::MissingReason));
        assert_eq!(
            one("/posture dismiss P-abcdef"),
            Err(CommandError::MissingReason)
        );
        assert_eq!(
            one("/posture frobnicate"),
            Err(CommandError::Unknown("frobnicate".into()))
        );
        assert_eq!(
            one("/posture reopen P-xyz123"),
            Err(CommandError::BadId("P-xyz123".into()))
        );
        assert_eq!(
            one("/posture rerun now"),
            Err(CommandError::Unexpected {
                command: "rerun",
                word: "now".into()
            })
        );
        let message = CommandError::UnknownReason("because".into()).to_string();
        assert!(
            message.contains("`false_positive`, `used_in_tests`"),
            "{message}"
        );
    }

    #[test]
    fn one_command_per_line_and_conversation_ignored() {
        let lines = parse(
            "Thanks!\n/posture explain P-abcdef\nsome words /posture help\n/posture approve\n/posturex\n",
        );
        let commands: Vec<_> = lines.iter().map(|l| l.command.clone()).collect();
        assert_eq!(
            commands,
            vec![
                Ok(Command::Explain {
                    targets: vec!["P-abcdef".into()]
                }),
                Ok(Command::Approve { targets: vec![] }),
            ]
        );
        assert_eq!(one("/posture"), Ok(Command::Help));
    }

    #[test]
    fn quoted_and_fenced_commands_do_not_run() {
        assert!(parse("> /posture dismiss wont_fix\n```\n/posture rerun\n```\n").is_empty());
        assert!(!has_command("please see /posture help"));
        assert!(has_command("LGTM\n/posture rerun"));
    }
}
