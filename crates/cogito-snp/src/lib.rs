//! AMD SEV-SNP attestation report verification, without I/O.
//!
//! A verification is a pure function of the report bytes, the endorsement
//! [`Collateral`] (VCEK/VLEK, optional chain and CRLs), the
//! [`TrustAnchors`](cogito_core::TrustAnchors), a
//! [`VerificationTime`](cogito_core::VerificationTime) and [`Options`]:
//!
//! ```no_run
//! # use cogito_snp::*;
//! # fn f(bytes: &[u8], collateral: &Collateral) -> Result<(), SnpError> {
//! let anchors = builtin_anchors();
//! let cache = VerifiedCache::default();
//! let at = cogito_core::VerificationTime::parse_rfc3339("2025-01-01T00:00:00Z").unwrap();
//! let verified = verify_report(bytes, collateral, anchors, at, &Options::default(), &cache)?;
//! println!("{}", hex::encode(&verified.claims.launch_measurement));
//! # Ok(()) }
//! ```
//!
//! See [`verify_report`] for the exact steps.
#![forbid(unsafe_code)]
// Test code may panic (a panic is a failed test); shipped code may not.
#![cfg_attr(
    test,
    allow(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::indexing_slicing,
        clippy::as_conversions
    )
)]
#![deny(missing_docs)]

// One concept per module; the types callers use are re-exported below and
// the modules stay private, so no x509-parser type is part of this crate's
// interface.
mod builtin;
mod cache;
mod cert;
mod cert_table;
pub mod claims;
mod crl;
mod crypto;
mod error;
mod hcl;
mod report;
mod tcb;
mod verify;

pub use builtin::builtin_anchors;
pub use cache::VerifiedCache;
pub use cert::VcekExtensions;
pub use cert_table::{build_cert_table, parse_cert_table, CertTableEntry, CertTableKind};
pub use claims::{ReportClaims, SnpClaims, TcbClaims};
pub use crypto::BACKEND as CRYPTO_BACKEND;
pub use error::{MissingCollateral, SnpError};
pub use hcl::HclReport;
pub use report::{
    Cpuid, FirmwareVersion, GuestPolicy, PlatformInfo, Report, SigningKey, REPORT_LEN, SIGNED_LEN,
};
pub use tcb::{TcbParts, TcbVersion};
pub use verify::{
    verify_parsed, verify_report, Collateral, CollateralRequest, Options, TableEncoding,
};
