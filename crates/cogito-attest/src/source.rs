//! Where missing collateral comes from.
//!
//! The platform crates say what a piece of evidence needs
//! ([`cogito_snp::Report::collateral_needed`],
//! [`cogito_tdx::collateral_request`]); a [`CollateralSource`] provides it.
//! The pipeline asks only for what the request did not carry, and a source
//! that has nothing answers `None`: the verifier then names exactly what is
//! missing. This trait is the pipeline's one door to I/O.

use cogito_collateral::{KdsClient, PckCa, PcsClient};
use cogito_core::AmdProduct;
use cogito_snp::{SigningKey, TcbParts};
use cogito_tdx::PckCaKind;

use crate::error::AttestError;

/// Provides collateral the request did not carry. Every method may answer
/// `Ok(None)` ("not from me"); an `Err` ends the verification (the source
/// was asked and failed, e.g. offline and not cached).
pub trait CollateralSource: Send + Sync {
    /// Whether this source can provide anything at all. When it can, and
    /// the evidence does not say enough to ask for its collateral (an SNP
    /// report of unknown product line), that is the error reported;
    /// otherwise the verifier reports the missing collateral itself.
    fn provides(&self) -> bool {
        false
    }

    /// The VCEK (DER) of a chip at a TCB.
    fn snp_vcek(
        &self,
        _product: AmdProduct,
        _hw_id: &[u8],
        _tcb: &TcbParts,
    ) -> Result<Option<Vec<u8>>, AttestError> {
        Ok(None)
    }

    /// AMD's CRL (DER) for a product line and key family.
    fn snp_crl(
        &self,
        _product: AmdProduct,
        _kind: SigningKey,
    ) -> Result<Option<Vec<u8>>, AttestError> {
        Ok(None)
    }

    /// Intel's collateral for an FMSPC and PCK CA: TCB Info, QE Identity,
    /// the PCK CRL and the root CA CRL, with their issuer chains.
    fn tdx_collateral(
        &self,
        _fmspc: &[u8; 6],
        _ca: PckCaKind,
    ) -> Result<Option<cogito_tdx::Collateral>, AttestError> {
        Ok(None)
    }
}

/// A source that has nothing: verification uses only what the request
/// carried.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoFetch;

impl CollateralSource for NoFetch {}

/// The vendors' services through `cogito-collateral`'s clients (AMD KDS,
/// Intel PCS or a PCCS), each with its content-addressed cache; either may
/// be absent, and either may be in offline mode (cache only).
#[derive(Default)]
pub struct VendorSource {
    /// AMD's Key Distribution Service.
    pub kds: Option<KdsClient>,
    /// Fetch AMD's CRL as well (on by default in the CLI; the CRL is then
    /// checked for the chain's revocation).
    pub snp_crl: bool,
    /// Intel's PCS or a PCCS.
    pub pcs: Option<PcsClient>,
}

impl std::fmt::Debug for VendorSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VendorSource")
            .field("kds", &self.kds.is_some())
            .field("snp_crl", &self.snp_crl)
            .field("pcs", &self.pcs.is_some())
            .finish()
    }
}

impl CollateralSource for VendorSource {
    fn provides(&self) -> bool {
        self.kds.is_some() || self.pcs.is_some()
    }

    fn snp_vcek(
        &self,
        product: AmdProduct,
        hw_id: &[u8],
        tcb: &TcbParts,
    ) -> Result<Option<Vec<u8>>, AttestError> {
        match &self.kds {
            Some(kds) => Ok(Some(kds.vcek(product, hw_id, tcb)?)),
            None => Ok(None),
        }
    }

    fn snp_crl(
        &self,
        product: AmdProduct,
        kind: SigningKey,
    ) -> Result<Option<Vec<u8>>, AttestError> {
        match &self.kds {
            Some(kds) if self.snp_crl => Ok(Some(kds.crl(product, kind)?)),
            _ => Ok(None),
        }
    }

    fn tdx_collateral(
        &self,
        fmspc: &[u8; 6],
        ca: PckCaKind,
    ) -> Result<Option<cogito_tdx::Collateral>, AttestError> {
        let Some(pcs) = &self.pcs else {
            return Ok(None);
        };
        let ca = match ca {
            PckCaKind::Platform => PckCa::Platform,
            PckCaKind::Processor => PckCa::Processor,
        };
        Ok(Some(pcs.fetch_all(fmspc, ca)?.collateral))
    }
}
