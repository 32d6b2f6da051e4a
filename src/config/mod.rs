//! `pipeleash.toml`.
