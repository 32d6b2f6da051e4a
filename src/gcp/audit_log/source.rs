//! The GCP audit-log reader behind the neutral log-source seam ([`UsageSource`]).

use super::{AuditLogUsage, IngestError, ingest_path};
use crate::model::TimeWindow;
use crate::model::{Coverage, ObservedUsage, Provider, UsageSource};
use chrono::{DateTime, Utc};
use std::path::PathBuf;

/// A local copy of a Cloud Logging sink's bucket, or a `gcloud logging read --format=json`
/// file.
#[derive(Debug, Clone)]
pub struct GcpAuditLogFolder {
    pub path: PathBuf,
}

impl AuditLogUsage {
    /// The neutral coverage of this read. Audit log records name their project, but the
    /// reader does not count per project yet, so `containers` is empty (see
    /// [`Coverage::covers_container`]).
    pub fn neutral_coverage(&self) -> Coverage {
        let coverage = &self.coverage;
        Coverage {
            sources_read: coverage.files_read,
            sources_skipped: coverage.files_skipped.to_vec(),
            events_read: coverage.entries_read,
            events_in_window: coverage.entries_in_window,
            first_event: coverage.first_entry,
            last_event: coverage.last_entry,
            containers: Default::default(),
        }
    }
}

impl UsageSource for GcpAuditLogFolder {
    type Error = IngestError;

    fn provider(&self) -> Provider {
        Provider::Gcp
    }

    fn describe(&self) -> String {
        self.path.display().to_string()
    }

    fn read(
        &self,
        since: Option<DateTime<Utc>>,
        until: Option<DateTime<Utc>>,
    ) -> Result<ObservedUsage, IngestError> {
        let read = ingest_path(&self.path, TimeWindow { since, until })?;
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
        let entry = r#"[{"protoPayload": {"@type": "type.googleapis.com/google.cloud.audit.AuditLog",
            "authenticationInfo": {"principalEmail": "ci@p.iam.gserviceaccount.com"},
            "serviceName": "run.googleapis.com", "methodName": "m", "resourceName": "projects/p",
            "authorizationInfo": [{"resource": "projects/p", "permission": "run.services.update", "granted": true}]},
            "timestamp": "2026-11-02T10:11:12Z", "insertId": "a",
            "logName": "projects/p/logs/cloudaudit.googleapis.com%2Factivity"}]"#;
        std::fs::write(dir.path().join("entries.json"), entry).unwrap();
        std::fs::write(dir.path().join("broken.json"), "{").unwrap();
        let source = GcpAuditLogFolder {
            path: dir.path().to_path_buf(),
        };
        let observed = source.read(None, None).unwrap();
        assert_eq!(observed.usage.len(), 1);
        assert_eq!(observed.coverage.events_in_window, 1);
        assert_eq!(observed.coverage.sources_skipped.len(), 1);
        assert!(observed.coverage.is_incomplete());
        assert_eq!(source.provider(), Provider::Gcp);
    }
}
