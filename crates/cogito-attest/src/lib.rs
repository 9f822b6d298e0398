//! The evidence pipeline: one typed request in, one verified outcome (or
//! one typed failure) out. The CLI, the service and the KBS endpoint all
//! call [`Verifier::verify`]; none of them holds verification logic of its
//! own.
//!
//! ```text
//! Request { evidence, collateral, at, options }
//!    ─ detect ─▶ SNP report | Azure HCL + SNP | TDX quote | CCA token
//!    ─ resolve collateral: the request's own, then the CollateralSource
//!      (bundle already loaded by the caller; cache; AMD KDS / Intel PCS)
//!    ─ verify with the platform crate (anchors, caches, time, options)
//!    ─ platform extras: the HCL runtime-data binding, the TDX event log replay
//!    ─▶ Verification { evidence kind, Outcome::{Snp, Tdx, Cca} }
//!    ─ appraise(&Policy) ─▶ Appraisal     (once per policy; the service
//!                                          appraises one verification
//!                                          against each secret's policy)
//! ```
//!
//! Everything here but the [`CollateralSource`] is a pure function of its
//! inputs: the time is an argument, files are read by the caller, and the
//! network is reached only through the source the caller passes (the CLI's
//! `--online`, the service's store-backed fetcher, or [`NoFetch`]).
//!
//! A [`Verifier`] owns the trust anchors and the caches of verified
//! certificate chains and collateral; it is `Send + Sync`, so a service
//! keeps one for its lifetime and shares it between threads.
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

mod error;
mod options;
mod outcome;
mod request;
mod source;
mod verifier;

pub use error::AttestError;
pub use options::{CcaOptions, Options, SnpOptions, TdxOptions};
pub use outcome::{EventLogReplay, EvidenceKind, Outcome, Verification};
pub use request::{Request, SuppliedCollateral};
pub use source::{CollateralSource, NoFetch, VendorSource};
pub use verifier::{Anchors, Verifier};

/// The platform the evidence is for, from its header alone (nothing is
/// verified): callers use it to pick which collateral files to load.
pub fn evidence_kind(evidence: &[u8]) -> Result<EvidenceKind, AttestError> {
    Ok(EvidenceKind::of(&cogito_core::detect(evidence)?))
}
