//! (being written)

pub mod cloudtrail;
