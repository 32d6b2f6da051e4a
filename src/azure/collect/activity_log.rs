//! The Activity Log's management events through the REST API, for subscriptions small enough
//! that a diagnostic setting's export is not set up: `Activity Logs - List`,
//! `GET /subscriptions/{id}/providers/Microsoft.Insights/eventtypes/management/values`
//! (api-version 2015-04-01) with `$filter=eventTimestamp ge '…' and eventTimestamp le '…'`,
//! every page (`nextLink`) read. The items are `EventData` in the REST shape, which the
//! Activity Log reader takes as it takes `az monitor activity-log list` output.
//!
//! The API keeps 90 days of events and needs both ends of the window in the filter
//! (<https://learn.microsoft.com/rest/api/monitor/activity-logs/list>). Reading it needs
//! `Microsoft.Insights/eventtypes/values/read`, which `Reader` includes.

use super::client::{ApiClient, CallError};
use chrono::{DateTime, SecondsFormat, Utc};
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};

/// The API version of `Activity Logs - List`.
pub const ACTIVITY_LOG_API: &str = "2015-04-01";

/// How far back the Activity Log keeps events.
pub const RETENTION_DAYS: i64 = 90;

/// The permission the call needs, as recorded with a failure.
pub const CALL: &str = "Microsoft.Insights/eventtypes/values/read";

/// The management events of subscription `id` between `since` and `until` (both inclusive,
/// as the API's `ge`/`le` are), in the order the pages give them.
pub async fn management_events(
    arm: &ApiClient,
    id: &str,
    since: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Result<Vec<serde_json::Value>, CallError> {
    let at = |time: DateTime<Utc>| time.to_rfc3339_opts(SecondsFormat::Secs, true);
    let filter = format!(
        "eventTimestamp ge '{}' and eventTimestamp le '{}'",
        at(since),
        at(until)
    );
    let url = arm.url(&format!(
        "/subscriptions/{id}/providers/Microsoft.Insights/eventtypes/management/values?api-version={ACTIVITY_LOG_API}&$filter={}",
        utf8_percent_encode(&filter, NON_ALPHANUMERIC)
    ))?;
    arm.get_all(url, "nextLink").await
}
