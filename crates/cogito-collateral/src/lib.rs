//! Where verification collateral comes from: offline bundle directories,
//! AMD's Key Distribution Service (KDS), Intel's Provisioning Certification
//! Service (PCS) or a PCCS, and a content-addressed on-disk cache in
//! between. This crate is the edge where network and files live;
//! the platform crates stay pure.
//!
//! - [`bundle`]: read an offline bundle directory (`--certs DIR`).
//! - [`cache`]: the content-addressed disk cache.
//! - [`kds`]: the AMD KDS client (VCEK, cert_chain, CRL) with bounded
//!   backoff on 429/5xx and an offline mode.
//! - [`tdx_bundle`]: read Intel TDX collateral files (as Intel PCS serves
//!   them) from a directory.
//! - [`pcs`]: the Intel PCS / PCCS client (TCB Info, QE Identity, CRLs),
//!   with the same backoff, caching and offline mode.
//!
//! Deciding what a piece of evidence needs and asking these clients for it
//! is the pipeline's job (`cogito-attest`'s `CollateralSource`).
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

pub mod bundle;
pub mod cache;
pub mod error;
mod http;
pub mod kds;
pub mod pcs;
pub mod tdx_bundle;

pub use bundle::load_snp_bundle;
pub use cache::DiskCache;
pub use error::CollateralError;
pub use kds::{KdsClient, KdsConfig};
pub use pcs::{PckCa, PcsClient, PcsConfig, SignedObject};
pub use tdx_bundle::{load_tdx_bundle, TdxCollateralFiles};
