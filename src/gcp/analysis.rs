//! PLACEHOLDER (not committed)
use crate::gcp::audit_log::AuditLogUsage;
use crate::gcp::inventory::GcpInventory;
pub struct GcpEvidence<'a> {
    pub inventories: &'a [GcpInventory],
    pub usage: Option<&'a AuditLogUsage>,
}
pub fn analyze(
    _evidence: &GcpEvidence<'_>,
    _window: crate::model::ObservationWindow,
    _options: crate::analysis::Options,
) -> anyhow::Result<crate::analysis::Analysis> {
    anyhow::bail!("placeholder")
}
