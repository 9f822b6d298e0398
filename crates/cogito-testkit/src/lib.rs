//! Test-only tooling for cogito: a FAKE AMD SEV-SNP key hierarchy and the
//! generator of `test-vectors/snp`.
//!
//! Nothing here is trustworthy, by design: every key is derived from a
//! public label, the roots say `O=cogito testkit`, and the crate must never
//! be a dependency of a shipped code path (only `[dev-dependencies]`).
//!
//! - [`der`] and [`pem`]: the small encoders certificates need.
//! - [`keys`]: deterministic RSA-2048 and P-384 keys and signatures.
//! - [`x509`]: certificates and CRLs shaped like AMD's.
//! - [`hierarchy`]: ARK → ASK/ASVK → VCEK/VLEK per product line.
//! - [`report`]: raw SEV-SNP reports (v2, v3, v5) with every field settable.
//! - [`vectors`]: the cases of `test-vectors/snp` and their manifest.
//! - [`vectorset`]: writing, and checking, a generated set on disk.
//! - [`mutate`]: the seeded PRNG of the verifiers' robustness tests.
//! - [`real_vectors`]: where the real evidence in `../shared/vectors` is.
//! - [`tdx`]: a FAKE Intel DCAP world (PCK chain, TCB Info, QE Identity,
//!   CRLs, quotes v4/v5) and the cases of `test-vectors/tdx`.
//! - [`cca`]: FAKE Arm CCA tokens (CBOR, COSE_Sign1, CPAK/RAK keys, tag 399
//!   and tag 907 envelopes) and the cases of `test-vectors/cca`.
//! - [`live`]: FAKE SNP, TDX and CCA platforms that make evidence on the
//!   fly, with certificates and collateral valid around a given `now`
//!   (end-to-end tests, load generation, demos).
#![forbid(unsafe_code)]
#![deny(missing_docs)]
// Test tooling over fixtures it builds itself: it signs FAKE evidence for
// tests and is never a dependency of shipped code, so a panic here fails a
// test (or the vector generator), never a verifier on untrusted input.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::as_conversions
)]

pub mod cca;
pub mod der;
pub mod hierarchy;
pub mod jcs;
pub mod keys;
pub mod live;
pub mod mutate;
pub mod pem;
pub mod real_vectors;
pub mod report;
pub mod tdx;
pub mod timing;
pub mod vectors;
pub mod vectorset;
pub mod x509;

pub use hierarchy::{LeafKind, LeafSpec, ProductCa};
pub use keys::{EcKey, RsaKey};
pub use live::{LiveCca, LiveSnp, LiveTdx};
pub use report::{ReportFields, Tcb};
pub use vectors::{generate, Case, Expected, VectorSet, World};
