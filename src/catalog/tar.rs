//! Just enough of the tar format to read an npm package tarball (`.tgz`): regular files with
//! ustar, GNU long-name and pax path headers. npm writes nothing more exotic, and a full tar
//! crate would be a dependency for one import path.

use std::collections::BTreeMap;

const BLOCK: usize = 512;

/// The regular files of an (already decompressed) tar archive, by path.
pub(crate) fn files(archive: &[u8]) -> Result<BTreeMap<String, Vec<u8>>, String> {
    let mut files = BTreeMap::new();
    let mut offset = 0;
    // A name announced by a GNU `L` or pax `x` header for the entry that follows it.
    let mut long_name: Option<String> = None;
    while offset + BLOCK <= archive.len() {
        let header = &archive[offset..offset + BLOCK];
        if header.iter().all(|&byte| byte == 0) {
            break;
        }
        let size = octal(&header[124..136])
            .ok_or_else(|| format!("entry at byte {offset} has an unreadable size"))?;
        let start = offset + BLOCK;
        let end = start
            .checked_add(size)
            .filter(|&end| end <= archive.len())
            .ok_or_else(|| format!("entry at byte {offset} runs past the end of the archive"))?;
        let body = &archive[start..end];
        match header[156] {
            b'0' | 0 => {
                let name = match long_name.take() {
                    Some(name) => name,
                    None => {
                        let prefix = text(&header[345..500]);
                        let name = text(&header[0..100]);
                        if prefix.is_empty() {
                            name
                        } else {
                            format!("{prefix}/{name}")
                        }
                    }
                };
                files.insert(name, body.to_vec());
            }
            b'L' => long_name = Some(text(body)),
            b'x' => long_name = pax_path(body).or(long_name),
            _ => {}
        }
        offset = start + size.div_ceil(BLOCK) * BLOCK;
    }
    Ok(files)
}

fn text(bytes: &[u8]) -> String {
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    String::from_utf8_lossy(&bytes[..end]).into_owned()
}

fn octal(bytes: &[u8]) -> Option<usize> {
    let digits = text(bytes);
    let digits = digits.trim_matches(|c: char| c == ' ' || c == '\0');
    if digits.is_empty() {
        return Some(0);
    }
    usize::from_str_radix(digits, 8).ok()
}

/// The `path` record of a pax extended header (`<length> path=<value>\n` records).
fn pax_path(body: &[u8]) -> Option<String> {
    let body = String::from_utf8_lossy(body);
    body.lines().find_map(|record| {
        let (_, pair) = record.split_once(' ')?;
        pair.strip_prefix("path=").map(str::to_string)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(name: &str, kind: u8, body: &[u8]) -> Vec<u8> {
        let mut header = vec![0u8; BLOCK];
        header[..name.len()].copy_from_slice(name.as_bytes());
        let size = format!("{:011o}\0", body.len());
        header[124..136].copy_from_slice(size.as_bytes());
        header[156] = kind;
        let mut out = header;
        out.extend_from_slice(body);
        out.resize(out.len().div_ceil(BLOCK) * BLOCK, 0);
        out
    }

    #[test]
    fn reads_plain_and_long_names() {
        let mut archive = entry("package/a.json", b'0', b"{}");
        archive.extend(entry("././@LongLink", b'L', b"package/long/name.json\0"));
        archive.extend(entry("package/long/na", b'0', b"[1]"));
        archive.extend(entry("PaxHeader", b'x', b"30 path=package/pax/path.json\n"));
        archive.extend(entry("package/pax/pa", b'0', b"[2]"));
        archive.extend(vec![0u8; BLOCK * 2]);
        let files = files(&archive).expect("reads");
        assert_eq!(
            files.get("package/a.json").map(Vec::as_slice),
            Some(&b"{}"[..])
        );
        assert_eq!(
            files.get("package/long/name.json").map(Vec::as_slice),
            Some(&b"[1]"[..])
        );
        assert_eq!(
            files.get("package/pax/path.json").map(Vec::as_slice),
            Some(&b"[2]"[..])
        );
    }

    #[test]
    fn truncated_archives_are_refused() {
        let mut archive = entry("package/a.json", b'0', &[b'x'; 600]);
        archive.truncate(BLOCK + 100);
        assert!(files(&archive).is_err());
    }
}
