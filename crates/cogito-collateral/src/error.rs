//! Errors while gathering collateral.

use std::path::PathBuf;

use cogito_core::{CogitoError, ErrorClass};

/// Why collateral could not be read or fetched.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CollateralError {
    /// A bundle file or directory could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A bundle file is not what its name says.
    #[error("{path}: {reason}")]
    BadFile {
        /// The path.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// A bundle holds some of a set of files that only make sense
    /// together (the TDX collateral), but not all.
    #[error("{path}: incomplete collateral: missing {}; supply all of them, or none for a signature-only check", missing.join(", "))]
    IncompleteBundle {
        /// The bundle directory.
        path: PathBuf,
        /// The missing file names.
        missing: Vec<String>,
    },
    /// The vendor service could not provide an object.
    #[error("fetching {url}: {reason}")]
    Fetch {
        /// The URL.
        url: String,
        /// What went wrong, with a hint.
        reason: String,
    },
    /// Offline mode and the object is not in the cache.
    #[error("offline: {url} is not in the cache at {cache}")]
    NotCached {
        /// The URL that would have been fetched.
        url: String,
        /// The cache directory.
        cache: String,
    },
    /// The cache directory failed.
    #[error("cache {path}: {source}")]
    Cache {
        /// The path.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
}

impl CogitoError for CollateralError {
    fn code(&self) -> &'static str {
        match self {
            CollateralError::Io { .. } => "collateral.io",
            CollateralError::BadFile { .. } => "collateral.bad_file",
            CollateralError::IncompleteBundle { .. } => "collateral.incomplete_bundle",
            CollateralError::Fetch { .. } => "collateral.fetch_failed",
            CollateralError::NotCached { .. } => "collateral.not_cached",
            CollateralError::Cache { .. } => "collateral.cache",
        }
    }

    fn class(&self) -> ErrorClass {
        match self {
            CollateralError::Io { .. }
            | CollateralError::BadFile { .. }
            | CollateralError::IncompleteBundle { .. } => ErrorClass::BadInput,
            CollateralError::Fetch { .. } | CollateralError::NotCached { .. } => {
                ErrorClass::CollateralUnavailable
            }
            CollateralError::Cache { .. } => ErrorClass::Internal,
        }
    }
}
