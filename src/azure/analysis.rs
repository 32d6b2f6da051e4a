//! PLACEHOLDER (not committed)
use crate::azure::activity_log::ActivityLogUsage;
use crate::azure::inventory::AzureInventory;
pub struct AzureEvidence<'a> {
    pub inventories: &'a [AzureInventory],
    pub usage: Option<&'a ActivityLogUsage>,
}
pub fn analyze(
    _evidence: &AzureEvidence<'_>,
    _window: crate::model::ObservationWindow,
    _options: crate::analysis::Options,
) -> anyhow::Result<crate::analysis::Analysis> {
    anyhow::bail!("placeholder")
}
