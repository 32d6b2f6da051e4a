//! Synthetic CloudTrail sets (being written).
