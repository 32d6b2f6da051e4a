//! Where a store is: a local directory, or an object-storage URL (`s3://bucket/prefix`,
//! `gs://bucket/prefix`, `az://container/prefix`, …) kept through a local cache directory.
//!
//! Pure: the text of `--store` / `[store] path` and the environment's values come in, a
//! [`StoreLocation`] and cache directory come out.

use super::SnapshotError;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// The environment variable naming the cache root of remote stores (wins over `[store] cache`).
pub const CACHE_ENV: &str = "PIPELEASH_STORE_CACHE";

/// The file in a remote store's cache directory that names the store's URL.
pub const CACHE_MARKER: &str = ".pipeleash-store";

/// A store given on the command line or in `[store] path`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreLocation {
    /// A local directory of snapshots.
    Local(PathBuf),
    /// An object-storage URL, trailing `/` removed (`s3://bucket/prefix`).
    Remote(String),
}

impl StoreLocation {
    /// Reads `--store` / `[store] path`: `scheme://…` is a URL, anything else a directory.
    ///
    /// Errors: [`SnapshotError::RemoteNotBuilt`] for a URL when this build lacks the
    /// `object-store` feature; [`SnapshotError::BadStoreUrl`] for a URL without a bucket.
    pub fn parse(location: &Path) -> Result<Self, SnapshotError> {
        let Some(text) = location.to_str() else {
            return Ok(Self::Local(location.to_path_buf()));
        };
        let Some(scheme) = url_scheme(text) else {
            return Ok(Self::Local(location.to_path_buf()));
        };
        if !cfg!(feature = "object-store") {
            return Err(SnapshotError::RemoteNotBuilt {
                url: text.to_owned(),
            });
        }
        // `scheme://` then the bucket; the `//` is never trimmed away with trailing slashes.
        let rest = text[scheme.len() + 3..].trim_end_matches('/');
        let url = &text[..scheme.len() + 3 + rest.len()];
        let bucket = rest.split('/').next().unwrap_or_default();
        if bucket.is_empty() {
            return Err(SnapshotError::BadStoreUrl {
                url: text.to_owned(),
                reason: "it names no bucket or container".to_owned(),
            });
        }
        Ok(Self::Remote(url.to_owned()))
    }
}

/// The scheme of `text` when it has the shape `scheme://…` (RFC 3986 scheme characters), in
/// lowercase.
pub fn url_scheme(text: &str) -> Option<String> {
    let (scheme, _) = text.split_once("://")?;
    let mut chars = scheme.chars();
    let first = chars.next()?;
    let fine = first.is_ascii_alphabetic()
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    fine.then(|| scheme.to_ascii_lowercase())
}

/// The root under which each remote store gets its cache directory: `$PIPELEASH_STORE_CACHE`,
/// else `configured` (`[store] cache`), else `$XDG_CACHE_HOME/pipeleash/stores`, else
/// `$HOME/.cache/pipeleash/stores` (the XDG Base Directory default). `env` looks a variable
/// up; empty values count as unset, and a relative `XDG_CACHE_HOME` is ignored as the
/// specification asks (<https://specifications.freedesktop.org/basedir-spec/latest/>).
pub fn cache_root(
    configured: Option<&Path>,
    env: impl Fn(&str) -> Option<OsString>,
) -> Option<PathBuf> {
    let set = |name: &str| {
        env(name)
            .filter(|value| !value.is_empty())
            .map(PathBuf::from)
    };
    if let Some(root) = set(CACHE_ENV) {
        return Some(root);
    }
    if let Some(root) = configured {
        return Some(root.to_path_buf());
    }
    if let Some(xdg) = set("XDG_CACHE_HOME").filter(|path| path.is_absolute()) {
        return Some(xdg.join("pipeleash").join("stores"));
    }
    set("HOME").map(|home| home.join(".cache").join("pipeleash").join("stores"))
}

/// The cache directory of the store `url` under `root`: `<root>/<16 hex digits>`, the
/// 64-bit FNV-1a hash of the URL (stable across builds and platforms).
pub fn cache_dir(root: &Path, url: &str) -> PathBuf {
    root.join(format!("{:016x}", fnv1a64(url.as_bytes())))
}

/// FNV-1a, 64 bits (<http://www.isthe.com/chongo/tech/comp/fnv/index.html>).
fn fnv1a64(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_path_without_a_scheme_is_a_local_store() {
        for text in [
            ".pipeleash/snapshots",
            "/data/snapshots",
            "C:\\stores\\x",
            "s3:bucket",
            "dir/with://inside",
        ] {
            assert_eq!(
                StoreLocation::parse(Path::new(text)).unwrap(),
                StoreLocation::Local(PathBuf::from(text)),
                "{text}"
            );
        }
    }

    #[cfg(feature = "object-store")]
    #[test]
    fn object_storage_urls_are_remote_stores_without_a_trailing_slash() {
        for (text, url) in [
            ("s3://bucket/prefix/", "s3://bucket/prefix"),
            ("gs://bucket/a/b", "gs://bucket/a/b"),
            ("az://container/prefix", "az://container/prefix"),
            (
                "abfss://container@account.dfs.core.windows.net/prefix",
                "abfss://container@account.dfs.core.windows.net/prefix",
            ),
            ("s3://bucket", "s3://bucket"),
        ] {
            assert_eq!(
                StoreLocation::parse(Path::new(text)).unwrap(),
                StoreLocation::Remote(url.to_owned()),
                "{text}"
            );
        }
    }

    #[cfg(feature = "object-store")]
    #[test]
    fn a_url_without_a_bucket_is_refused_naming_it() {
        let error = StoreLocation::parse(Path::new("s3:///prefix")).unwrap_err();
        assert!(matches!(error, SnapshotError::BadStoreUrl { .. }));
        assert!(error.to_string().contains("`s3:///prefix`"), "{error}");
        // Nothing after the scheme at all, with or without trailing slashes: the same error,
        // never a slice out of range.
        for url in ["s3://", "gs://", "az://", "abfss://", "s3:////", "azure://"] {
            let error = StoreLocation::parse(Path::new(url)).unwrap_err();
            assert!(
                matches!(error, SnapshotError::BadStoreUrl { .. }),
                "{url}: {error}"
            );
        }
        assert!(matches!(
            StoreLocation::parse(Path::new("s3://bucket/prefix/")).unwrap(),
            StoreLocation::Remote(url) if url == "s3://bucket/prefix"
        ));
    }

    #[cfg(not(feature = "object-store"))]
    #[test]
    fn a_url_without_the_object_store_feature_is_an_error_saying_how_to_rebuild() {
        let error = StoreLocation::parse(Path::new("s3://bucket/prefix")).unwrap_err();
        let message = error.to_string();
        assert!(message.contains("`s3://bucket/prefix`"), "{message}");
        assert!(message.contains("--features object-store"), "{message}");
    }

    #[test]
    fn the_cache_root_prefers_the_variable_then_the_configuration_then_xdg_then_home() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                pairs
                    .iter()
                    .find(|(key, _)| *key == name)
                    .map(|(_, value)| OsString::from(value))
            }
        };
        let all: &[(&str, &str)] = &[
            (CACHE_ENV, "/cache/env"),
            ("XDG_CACHE_HOME", "/xdg"),
            ("HOME", "/home/u"),
        ];
        let configured = Path::new("/cache/config");
        assert_eq!(
            cache_root(Some(configured), env(all)),
            Some(PathBuf::from("/cache/env"))
        );
        let no_env: &[(&str, &str)] = &[(CACHE_ENV, ""), ("XDG_CACHE_HOME", "/xdg")];
        assert_eq!(
            cache_root(Some(configured), env(no_env)),
            Some(configured.to_path_buf())
        );
        assert_eq!(
            cache_root(None, env(no_env)),
            Some(PathBuf::from("/xdg/pipeleash/stores"))
        );
        let relative_xdg: &[(&str, &str)] = &[("XDG_CACHE_HOME", "rel"), ("HOME", "/home/u")];
        assert_eq!(
            cache_root(None, env(relative_xdg)),
            Some(PathBuf::from("/home/u/.cache/pipeleash/stores"))
        );
        assert_eq!(cache_root(None, env(&[])), None);
    }

    #[test]
    fn each_store_url_has_its_own_stable_cache_directory() {
        let root = Path::new("/c");
        let a = cache_dir(root, "s3://bucket/prefix");
        assert_eq!(a, cache_dir(root, "s3://bucket/prefix"));
        assert_ne!(a, cache_dir(root, "s3://bucket/prefix2"));
        assert_ne!(a, cache_dir(root, "gs://bucket/prefix"));
        // The FNV-1a test vector of the empty input: the hash never changes between builds.
        assert_eq!(cache_dir(root, ""), PathBuf::from("/c/cbf29ce484222325"));
        assert_eq!(a.parent(), Some(root));
        assert_eq!(a.file_name().map(|name| name.len()), Some(16));
    }
}
