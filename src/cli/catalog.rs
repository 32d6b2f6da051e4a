//! `pipeleash catalog …`: placeholder until the catalog lands.

use super::{Exit, GlobalArgs};

#[derive(Debug, clap::Subcommand)]
pub enum CatalogCommand {}

pub fn run(
    command: CatalogCommand,
    _global: &GlobalArgs,
    _out: &mut dyn std::io::Write,
) -> anyhow::Result<Exit> {
    match command {}
}
