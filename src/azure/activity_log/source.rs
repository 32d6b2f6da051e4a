//! The Activity Log reader behind the neutral log-source seam ([`UsageSource`]).

use super::{ActivityLogError, ActivityLogUsage, TimeWindow, read_path};
use crate::model::{Coverage, ObservedUsage, Provider, UsageSource};
use chrono::{DateTime, Utc};
use std::path::PathBuf;

/// A local copy of the `insights-activity-logs` container, or an `az monitor activity-log
/// list` file.
#[derive(Debug, Clone)]
pub struct ActivityLogFolder {
    pub path: PathBuf,
}

impl ActivityLogUsage {
    /// The neutral coverage of this read (`containers` empty: not counted per subscription
    /// yet, see [`Coverage::covers_container`]).
    pub fn neutral_coverage(&self) -> Coverage {
        let coverage = &self.coverage;
        Coverage {
            sources_read: coverage.files_read,
            sources_skipped: coverage.files_skipped.to_vec(),
            events_read: coverage.records_read,
            events_in_window: coverage
                .records_read
                .saturating_sub(coverage.records_outside_window),
            first_event: coverage.first_record,
            last_event: coverage.last_record,
            containers: Default::default(),
        }
    }
}

impl UsageSource for ActivityLogFolder {
    type Error = ActivityLogError;

    fn provider(&self) -> Provider {
        Provider::Azure
    }

    fn describe(&self) -> String {
        self.path.display().to_string()
    }

    fn read(
        &self,
        since: Option<DateTime<Utc>>,
        until: Option<DateTime<Utc>>,
    ) -> Result<ObservedUsage, ActivityLogError> {
        let read = read_path(&self.path, TimeWindow { since, until }, None)?;
        let coverage = read.neutral_coverage();
        Ok(ObservedUsage {
            usage: read.usage,
            coverage,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_seam_gives_the_reader_usage_and_its_coverage() {
        let dir = tempfile::tempdir().unwrap();
        let record = r#"{"time": "2026-11-02T10:11:12Z", "resourceId": "/SUBSCRIPTIONS/S/RESOURCEGROUPS/RG",
            "operationName": "MICROSOFT.WEB/SITES/WRITE", "category": "Administrative",
            "resultType": "Success", "correlationId": "c1",
            "identity": {"authorization": {"action": "Microsoft.Web/sites/write", "scope": "/subscriptions/S/resourceGroups/rg"},
                         "claims": {"oid": "11111111-2222-3333-4444-555555555555", "appid": "a"}},
            "properties": {"eventCategory": "Administrative"}}"#;
        std::fs::write(
            dir.path().join("PT1H.json"),
            format!("{}\n", record.replace('\n', " ")),
        )
        .unwrap();
        std::fs::write(dir.path().join("broken.json"), "{").unwrap();
        let source = ActivityLogFolder {
            path: dir.path().to_path_buf(),
        };
        let observed = source.read(None, None).unwrap();
        assert_eq!(observed.usage.len(), 1, "{observed:?}");
        assert_eq!(observed.coverage.sources_skipped.len(), 1);
        assert_eq!(source.provider(), Provider::Azure);
    }
}
