//! The state an incremental log read leaves for the next one, inside a snapshot
//! ([`crate::incremental::ReadState`]: `usage/aws-read-state.json.gz`,
//! `usage/gcp-read-state.json.gz`, `usage/azure-read-state.json.gz`), listed in the manifest
//! with the state's kind and, as `id`, the log source as the user gave it.

use super::{Snapshot, SnapshotError, SnapshotWriter, Source, check_relative, io_error};
use crate::incremental::{LogLayout, ReadState};
use std::path::Path;

/// Writes the state an incremental read of `source` left into the snapshot being written, so
/// that the next read continues it.
pub fn write_read_state<L: LogLayout>(
    writer: &mut SnapshotWriter,
    source: &str,
    state: &ReadState<L>,
) -> Result<(), SnapshotError> {
    writer.write_file(Path::new(L::PATH), &state.to_bytes())?;
    writer.manifest_mut().sources.push(Source {
        provider: L::PROVIDER.to_owned(),
        kind: L::KIND.to_owned(),
        id: source.to_owned(),
        path: L::PATH.to_owned(),
        format_version: L::FORMAT_VERSION,
    });
    Ok(())
}

/// Whether the snapshot lists a read state of this kind (of any source): it can take no
/// other, a snapshot is never changed.
pub fn lists_read_state<L: LogLayout>(snapshot: &Snapshot) -> bool {
    snapshot
        .manifest()
        .sources
        .iter()
        .any(|listed| listed.kind == L::KIND)
}

/// The read state of `source` the snapshot holds: `Ok(None)` when it holds none for that
/// source, an error when it lists one that cannot be read.
pub fn read_read_state<L: LogLayout>(
    snapshot: &Snapshot,
    source: &str,
) -> Result<Option<ReadState<L>>, SnapshotError> {
    let Some(listed) = snapshot
        .manifest()
        .sources
        .iter()
        .find(|listed| listed.kind == L::KIND && listed.id == source)
    else {
        return Ok(None);
    };
    check_relative(Path::new(&listed.path))?;
    let path = snapshot.dir().join(&listed.path);
    if listed.format_version > L::FORMAT_VERSION {
        return Err(SnapshotError::UnsupportedVersion {
            path,
            found: listed.format_version,
            supported: L::FORMAT_VERSION,
        });
    }
    let bytes = read_listed_file(&path)?;
    ReadState::<L>::from_bytes(&bytes)
        .map(Some)
        .map_err(|error| SnapshotError::BadReadState {
            path,
            reason: error.to_string(),
        })
}

/// The bytes of a file the manifest lists; a missing one is named as such.
pub(super) fn read_listed_file(path: &Path) -> Result<Vec<u8>, SnapshotError> {
    std::fs::read(path).map_err(|error| {
        if error.kind() == std::io::ErrorKind::NotFound {
            SnapshotError::MissingFile {
                path: path.to_path_buf(),
            }
        } else {
            io_error("read", path)(error)
        }
    })
}
