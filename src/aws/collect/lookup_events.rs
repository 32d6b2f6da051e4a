//! Reads management events through CloudTrail `LookupEvents`, for accounts small enough that
//! the last 90 days of management events are the usage evidence.
//!
//! `LookupEvents` is slow (2 calls per second per account and region) and pages by
//! `NextToken`; the SDK's adaptive retries absorb its throttling. Each event's
//! `CloudTrailEvent` field is the same JSON record a trail writes to S3, so it is handed on as
//! text to the CloudTrail parser rather than interpreted here.

use super::sdk_error::describe;
use aws_sdk_cloudtrail::Client;
use aws_sdk_cloudtrail::primitives::DateTime;
use aws_sdk_cloudtrail::types::{LookupAttribute, LookupAttributeKey};

/// What to look up. Every field narrows the lookup; the default reads everything CloudTrail
/// keeps for the region.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LookupEventsQuery {
    /// Inclusive start, seconds since the Unix epoch.
    pub start_time: Option<i64>,
    /// Inclusive end, seconds since the Unix epoch.
    pub end_time: Option<i64>,
    /// One attribute filter, as the API allows only one: key (`Username`, `EventSource`,
    /// `AccessKeyId`, `EventName`, `ResourceName`, …) and value.
    pub attribute: Option<(String, String)>,
    /// Events per page (the API allows at most 50).
    pub page_size: Option<i32>,
}

/// What a lookup read, and why it stopped early if it did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LookupEventsOutcome {
    /// The `CloudTrailEvent` JSON text of every event read, most recent first as the API
    /// returns them.
    pub events: Vec<String>,
    /// Pages read successfully.
    pub pages: usize,
    /// Events the API returned without a `CloudTrailEvent` record.
    pub events_without_record: usize,
    /// Set when the lookup stopped before the last page: the events above are a prefix.
    pub error: Option<LookupEventsError>,
}

/// A `LookupEvents` call that failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "`cloudtrail:LookupEvents` failed after {pages} page(s): {reason}; the events read so far \
     are kept, rerun or narrow the time window to read the rest"
)]
pub struct LookupEventsError {
    pub pages: usize,
    pub code: Option<String>,
    pub reason: String,
}

/// Reads every page of a lookup.
pub async fn lookup_events(client: &Client, query: &LookupEventsQuery) -> LookupEventsOutcome {
    let mut outcome = LookupEventsOutcome::default();
    let attribute = match &query.attribute {
        None => None,
        Some((key, value)) => {
            let built = LookupAttribute::builder()
                .attribute_key(LookupAttributeKey::from(key.as_str()))
                .attribute_value(value)
                .build();
            match built {
                Ok(attribute) => Some(attribute),
                // Dropping the filter would read far more than asked: stop instead.
                Err(error) => {
                    outcome.error = Some(LookupEventsError {
                        pages: 0,
                        code: None,
                        reason: format!("lookup attribute `{key}`: {error}"),
                    });
                    return outcome;
                }
            }
        }
    };
    let mut pages = client
        .lookup_events()
        .set_start_time(query.start_time.map(DateTime::from_secs))
        .set_end_time(query.end_time.map(DateTime::from_secs))
        .set_lookup_attributes(attribute.map(|attribute| vec![attribute]))
        .set_max_results(query.page_size)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        match page {
            Ok(page) => {
                outcome.pages += 1;
                for event in page.events() {
                    match event.cloud_trail_event() {
                        Some(record) => outcome.events.push(record.to_owned()),
                        None => outcome.events_without_record += 1,
                    }
                }
            }
            Err(error) => {
                let described = describe(&error);
                outcome.error = Some(LookupEventsError {
                    pages: outcome.pages,
                    code: described.code,
                    reason: described.reason,
                });
                break;
            }
        }
    }
    outcome
}
