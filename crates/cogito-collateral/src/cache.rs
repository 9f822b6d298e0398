//! A content-addressed on-disk cache of fetched collateral.
//!
//! ```text
//! <root>/objects/<sha256 of content>   the bytes, written once
//! <root>/refs/<sha256 of URL>          "<content sha256> <fetched unix time>\n<URL>\n"
//! ```
//!
//! Objects are immutable and shared by every reference to equal bytes;
//! references say which object a URL last returned and when. Writes go to
//! a temporary file that is renamed into place, so concurrent processes
//! never see a partial object.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::CollateralError;

/// A cache directory.
#[derive(Debug, Clone)]
pub struct DiskCache {
    root: PathBuf,
}

/// A cached answer for a URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cached {
    /// The bytes.
    pub bytes: Vec<u8>,
    /// When they were fetched (Unix seconds).
    pub fetched_at: i64,
}

fn sha256_hex(data: &[u8]) -> String {
    use sha2::Digest as _;
    hex::encode(sha2::Sha256::digest(data))
}

fn now_unix() -> i64 {
    cogito_core::VerificationTime::now().unix()
}

impl DiskCache {
    /// A cache rooted at `root` (created on first write).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        DiskCache { root: root.into() }
    }

    /// The default location: `$COGITO_CACHE_DIR`, else
    /// `$XDG_CACHE_HOME/cogito`, else `$HOME/.cache/cogito`.
    pub fn default_location() -> PathBuf {
        if let Some(d) = std::env::var_os("COGITO_CACHE_DIR") {
            return PathBuf::from(d);
        }
        if let Some(d) = std::env::var_os("XDG_CACHE_HOME") {
            return PathBuf::from(d).join("cogito");
        }
        if let Some(h) = std::env::var_os("HOME") {
            return PathBuf::from(h).join(".cache").join("cogito");
        }
        PathBuf::from(".cogito-cache")
    }

    /// The root directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    fn err(&self, path: &Path, source: std::io::Error) -> CollateralError {
        CollateralError::Cache {
            path: path.to_path_buf(),
            source,
        }
    }

    /// Looks up the last answer for `url`. A reference whose object is
    /// missing or does not hash to its name counts as absent.
    pub fn get(&self, url: &str) -> Option<Cached> {
        let r = std::fs::read_to_string(self.root.join("refs").join(sha256_hex(url.as_bytes())))
            .ok()?;
        let mut first = r.lines().next()?.split(' ');
        let object = first.next()?;
        let fetched_at = first.next()?.parse().ok()?;
        let bytes = std::fs::read(self.root.join("objects").join(object)).ok()?;
        (sha256_hex(&bytes) == object).then_some(Cached { bytes, fetched_at })
    }

    /// Stores `bytes` as the answer for `url`.
    pub fn put(&self, url: &str, bytes: &[u8]) -> Result<(), CollateralError> {
        let object = sha256_hex(bytes);
        let objects = self.root.join("objects");
        let refs = self.root.join("refs");
        for d in [&objects, &refs] {
            std::fs::create_dir_all(d).map_err(|e| self.err(d, e))?;
        }
        let object_path = objects.join(&object);
        if !object_path.exists() {
            self.write_atomic(&object_path, bytes)?;
        }
        let reference = format!("{object} {}\n{url}\n", now_unix());
        self.write_atomic(&refs.join(sha256_hex(url.as_bytes())), reference.as_bytes())
    }

    fn write_atomic(&self, path: &Path, bytes: &[u8]) -> Result<(), CollateralError> {
        let tmp = path.with_extension(format!("tmp.{}", std::process::id()));
        let mut f = std::fs::File::create(&tmp).map_err(|e| self.err(&tmp, e))?;
        f.write_all(bytes).map_err(|e| self.err(&tmp, e))?;
        f.sync_all().map_err(|e| self.err(&tmp, e))?;
        std::fs::rename(&tmp, path).map_err(|e| self.err(path, e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn put_then_get() {
        let d = tempfile::tempdir().unwrap();
        let c = DiskCache::new(d.path());
        assert!(c.get("https://x/a").is_none());
        c.put("https://x/a", b"hello").unwrap();
        assert_eq!(c.get("https://x/a").unwrap().bytes, b"hello");
        // Equal content is stored once.
        c.put("https://x/b", b"hello").unwrap();
        assert_eq!(
            std::fs::read_dir(d.path().join("objects")).unwrap().count(),
            1
        );
    }

    #[test]
    fn corrupted_object_is_a_miss() {
        let d = tempfile::tempdir().unwrap();
        let c = DiskCache::new(d.path());
        c.put("u", b"hello").unwrap();
        let obj = d.path().join("objects").join(sha256_hex(b"hello"));
        std::fs::write(obj, b"tampered").unwrap();
        assert!(c.get("u").is_none());
    }
}
