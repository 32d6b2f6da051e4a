//! The records of a CloudTrail `LookupEvents` read, made ready for the log reader.
//!
//! Each event `LookupEvents` returns carries the record a trail would have written to S3 as
//! JSON text in its `CloudTrailEvent` field (AWS CloudTrail API Reference, "Event",
//! <https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_Event.html>); the field
//! is optional. An event without it, or whose text is not a JSON record, may be a call by an
//! analyzed identity in the window: it is reported as missing evidence, never dropped
//! silently.

use crate::model::SkippedSource;

/// The name under which `LookupEvents` appears as a log source (`--cloudtrail lookup-events`).
pub const LOOKUP_EVENTS: &str = "lookup-events";

/// The records to read, and the evidence that is missing.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LookupRecords {
    /// The parsed `CloudTrailEvent` records, in the order returned.
    pub records: Vec<serde_json::Value>,
    /// One entry per kind of loss (records that are not JSON; events without a record),
    /// sourced [`LOOKUP_EVENTS`]; empty when every event had a readable record.
    pub missing: Vec<SkippedSource>,
}

/// Parses the `CloudTrailEvent` texts of a lookup. `events_without_record` counts the events
/// the API returned without the field.
pub fn lookup_records(events: &[String], events_without_record: usize) -> LookupRecords {
    let mut result = LookupRecords::default();
    let mut unparsed = 0usize;
    let mut first_error = None;
    for event in events {
        match serde_json::from_str::<serde_json::Value>(event) {
            Ok(record) if record.is_object() => result.records.push(record),
            Ok(_) => {
                unparsed += 1;
                first_error.get_or_insert_with(|| "not a JSON object".to_owned());
            }
            Err(error) => {
                unparsed += 1;
                first_error.get_or_insert_with(|| error.to_string());
            }
        }
    }
    if let Some(error) = first_error {
        result.missing.push(SkippedSource::new(
            LOOKUP_EVENTS,
            format!(
                "{unparsed} event(s) whose `CloudTrailEvent` record could not be read (first: \
                 {error}): their calls are missing"
            ),
        ));
    }
    if events_without_record > 0 {
        result.missing.push(SkippedSource::new(
            LOOKUP_EVENTS,
            format!(
                "{events_without_record} event(s) returned without a `CloudTrailEvent` record: \
                 their calls are missing"
            ),
        ));
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    const RECORD: &str = r#"{"eventVersion":"1.08","eventName":"GetObject"}"#;

    #[test]
    fn lookup_events_records_that_do_not_parse_are_reported_as_missing_evidence() {
        let events = vec![
            RECORD.to_owned(),
            "{\"eventName\":".to_owned(),
            "[1, 2]".to_owned(),
        ];
        let read = lookup_records(&events, 0);
        assert_eq!(read.records.len(), 1);
        assert_eq!(read.missing.len(), 1);
        assert_eq!(read.missing[0].source, LOOKUP_EVENTS);
        assert!(
            read.missing[0]
                .reason
                .starts_with("2 event(s) whose `CloudTrailEvent`"),
            "{}",
            read.missing[0].reason
        );
    }

    #[test]
    fn lookup_events_without_a_record_are_reported_as_missing_evidence() {
        let read = lookup_records(&[RECORD.to_owned()], 3);
        assert_eq!(read.records.len(), 1);
        assert_eq!(
            read.missing,
            vec![SkippedSource::new(
                LOOKUP_EVENTS,
                "3 event(s) returned without a `CloudTrailEvent` record: their calls are missing"
            )]
        );
    }

    #[test]
    fn a_complete_lookup_reports_nothing_missing() {
        let read = lookup_records(&[RECORD.to_owned(), RECORD.to_owned()], 0);
        assert_eq!(read.records.len(), 2);
        assert!(read.missing.is_empty());
    }
}
