//! Parser errors that never quote the input. serde's data errors repeat the offending value
//! (`invalid type: string "AKIA…", expected a sequence`), and the value may be a secret: a
//! secret scanner's snippet in a report, a token pasted into the settings file. Reports,
//! `.posture.yml`, the settings file and VEX documents word their shape errors through
//! [`without_values`], which keeps the path and what was expected, and names only the kind
//! of what was found.

/// The serde phrases that quote a value, and where each begins.
const QUOTING: [&str; 4] = [
    "invalid type: ",
    "invalid value: ",
    "unknown variant ",
    "invalid length ",
];

/// `message` with serde's quoted value replaced by its kind: `at $.x: invalid type: string
/// "s3cr3t", expected u32` → `at $.x: expected an integer, found a string`. Messages
/// without such a phrase are returned as they are.
pub fn without_values(message: &str) -> String {
    let Some(at) = QUOTING
        .iter()
        .filter_map(|phrase| message.find(phrase))
        .min()
    else {
        return message.to_owned();
    };
    let (prefix, error) = message.split_at(at);
    format!("{prefix}{}", describe(error))
}

/// A serde data error as "expected X, found Y".
fn describe(error: &str) -> String {
    // The expected part comes from posture's own types, never from the input.
    let Some((head, expected)) = error.rsplit_once(", expected ") else {
        return String::from("invalid value");
    };
    let found = if let Some(kind) = head
        .strip_prefix("invalid type: ")
        .or_else(|| head.strip_prefix("invalid value: "))
    {
        [
            ("string", "a string"),
            ("boolean", "a boolean"),
            ("integer", "an integer"),
            ("floating point", "a number"),
            ("null", "null"),
            ("unit", "null"),
            ("sequence", "an array"),
            ("map", "an object"),
        ]
        .into_iter()
        .find(|(prefix, _)| kind.starts_with(prefix))
        .map_or("a value of another type", |(_, name)| name)
    } else if head.starts_with("unknown variant") {
        "an unknown value"
    } else {
        "another length"
    };
    let found = if head.starts_with("invalid value: ") && found != "a value of another type" {
        // The right type, but a value out of range or refused.
        "another value"
    } else {
        found
    };
    format!("expected {}, found {found}", expected_type(expected))
}

/// serde's name of an expected type, in JSON's and YAML's words.
fn expected_type(expected: &str) -> String {
    match expected {
        "a sequence" => "an array".to_string(),
        "a map" => "an object".to_string(),
        "a borrowed string" => "a string".to_string(),
        e if e.starts_with("struct ") => "an object".to_string(),
        "u8" | "u16" | "u32" | "u64" | "u128" | "usize" | "i8" | "i16" | "i32" | "i64" | "i128"
        | "isize" => "an integer".to_string(),
        e => e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_named_by_kind_only() {
        for (message, expected) in [
            (
                r#"invalid type: string "AKIAIOSFODNN7EXAMPLE", expected a sequence"#,
                "expected an array, found a string",
            ),
            (
                "sla.high: invalid type: string \"c2Vj=\", expected u32",
                "sla.high: expected an integer, found a string",
            ),
            (
                "invalid value: integer `-5`, expected u32",
                "expected an integer, found another value",
            ),
            (
                "unknown variant `hunter2`, expected one of `low`, `high`",
                "expected one of `low`, `high`, found an unknown value",
            ),
            (
                "invalid length 3, expected a tuple of size 2",
                "expected a tuple of size 2, found another length",
            ),
            // A value holding ", expected " cannot move the split: the last one is serde's.
            (
                r#"invalid type: string "a, expected b", expected struct Rule"#,
                "expected an object, found a string",
            ),
        ] {
            let redacted = without_values(message);
            assert_eq!(redacted, expected);
            for secret in ["AKIA", "c2Vj", "-5", "hunter2", "a, expected b"] {
                assert!(!redacted.contains(secret), "{redacted}");
            }
        }
        assert_eq!(
            without_values("missing field `name`"),
            "missing field `name`"
        );
    }
}
