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
//! - [`resolve_snp`]: combine them into the [`cogito_snp::Collateral`] a
//!   report needs.
#![forbid(unsafe_code)]
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

use cogito_core::AmdProduct;
use cogito_snp::{Collateral, CollateralRequest, Report};

/// Completes `collateral` with what `report` still needs, from `kds` when
/// given (which itself may be offline and answer from its cache only).
///
/// A VCEK/VLEK already present is kept. CRLs are fetched only when
/// `fetch_crl` is set and none was supplied. Missing items that cannot be
/// fetched are left missing: the verifier then names exactly what is
/// missing.
pub fn resolve_snp(
    report: &Report,
    product: Option<AmdProduct>,
    mut collateral: Collateral,
    kds: Option<&KdsClient>,
    fetch_crl: bool,
) -> Result<Collateral, CollateralError> {
    let Some(kds) = kds else {
        return Ok(collateral);
    };
    // The product may also come from a supplied certificate, but then the
    // VCEK is already here and nothing needs a product.
    let needs = match report.collateral_needed(product) {
        Ok(n) => n,
        Err(e) if collateral.vcek.is_some() || collateral.vlek.is_some() => {
            tracing::debug!("not resolving further collateral: {e}");
            return Ok(collateral);
        }
        Err(e) => return Err(CollateralError::Snp(e)),
    };
    for need in needs {
        match need {
            CollateralRequest::Vcek {
                product,
                hw_id,
                tcb,
            } => {
                if collateral.vcek.is_none() && collateral.vlek.is_none() {
                    collateral.vcek = Some(kds.vcek(product, &hw_id, &tcb)?);
                }
            }
            CollateralRequest::Vlek { .. } => {}
            CollateralRequest::Crl { product, kind } => {
                if fetch_crl && collateral.crls.is_empty() {
                    collateral.crls.push(kds.crl(product, kind)?);
                }
            }
        }
    }
    Ok(collateral)
}
