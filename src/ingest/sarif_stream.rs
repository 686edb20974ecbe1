//! Streams the results of a SARIF log one at a time, so that a large report is read in
//! memory bounded by its findings, not by a tree of every result's JSON.
//!
//! Run headers (tool, rules, URI bases) are read in a first pass that skips `results`, since
//! tools write `tool` after `results` as often as before it (Semgrep sorts its keys). The
//! second pass visits `$.runs[i].results[j]` in order and hands each result to a callback.

use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::json::strip_bom;
use super::sarif_schema::SarifResult;

/// Receives `(run index, result)`; an `Err` stops the stream with that message.
pub(crate) type OnResult<'a> = dyn FnMut(usize, SarifResult) -> Result<(), String> + 'a;

/// Visits every result of every run in document order.
pub(crate) fn for_each_result(
    bytes: &[u8],
    on_result: &mut OnResult<'_>,
) -> Result<(), serde_json::Error> {
    let mut de = serde_json::Deserializer::from_slice(strip_bom(bytes));
    de.deserialize_map(LogVisitor(on_result))?;
    de.end()
}

struct LogVisitor<'c, 'a>(&'c mut OnResult<'a>);

impl<'de> Visitor<'de> for LogVisitor<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a SARIF log object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<String>()? {
            if key == "runs" {
                map.next_value_seed(Runs(&mut *self.0))?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(())
    }
}

struct Runs<'c, 'a>(&'c mut OnResult<'a>);

impl<'de> DeserializeSeed<'de> for Runs<'_, '_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Runs<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of runs")
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut index = 0;
        while seq
            .next_element_seed(RunResults {
                run: index,
                on_result: &mut *self.0,
            })?
            .is_some()
        {
            index += 1;
        }
        Ok(())
    }
}

struct RunResults<'c, 'a> {
    run: usize,
    on_result: &'c mut OnResult<'a>,
}

impl<'de> DeserializeSeed<'de> for RunResults<'_, '_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for RunResults<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a SARIF run object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<String>()? {
            if key == "results" {
                map.next_value_seed(Results {
                    run: self.run,
                    on_result: &mut *self.on_result,
                })?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(())
    }
}

struct Results<'c, 'a> {
    run: usize,
    on_result: &'c mut OnResult<'a>,
}

impl<'de> DeserializeSeed<'de> for Results<'_, '_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Results<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of results")
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(result) = seq.next_element::<SarifResult>()? {
            (self.on_result)(self.run, result).map_err(de::Error::custom)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn visits_results_of_every_run_in_order_whatever_the_key_order() {
        let log = br#"{"runs":[{"results":[{"ruleId":"a"},{"ruleId":"b"}],"tool":{}},
                       {"tool":{},"results":null},{"tool":{},"results":[{"ruleId":"c"}]}],
                       "version":"2.1.0"}"#;
        let mut seen = Vec::new();
        for_each_result(log, &mut |run, r| {
            seen.push((run, r.rule_id.unwrap_or_default()));
            Ok(())
        })
        .unwrap();
        assert_eq!(seen, [(0, "a".into()), (0, "b".into()), (2, "c".into())]);
    }

    #[test]
    fn the_callback_can_stop_the_stream() {
        let log = br#"{"runs":[{"results":[{"ruleId":"a"},{"ruleId":"b"}]}]}"#;
        let mut count = 0;
        let error = for_each_result(log, &mut |_, _| {
            count += 1;
            Err("too many".into())
        })
        .unwrap_err();
        assert_eq!(count, 1);
        assert!(error.to_string().contains("too many"));
    }
}
