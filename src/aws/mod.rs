//! (being written)

#[cfg(feature = "aws")]
pub mod collect;
