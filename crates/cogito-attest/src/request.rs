//! One verification request.

use cogito_core::VerificationTime;

use crate::options::Options;

/// Collateral the caller already holds: what came with the evidence (the
/// host's certificate table, the CC event log) and what an operator
/// supplied (an offline bundle). What is missing is asked of the
/// [`CollateralSource`](crate::CollateralSource).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SuppliedCollateral {
    /// SEV-SNP certificates and CRLs (an offline bundle: VCEK/VLEK, chain,
    /// CRLs).
    pub snp: cogito_snp::Collateral,
    /// An SNP host certificate table (the extended report's GUID table,
    /// configfs-tsm `auxblob`), raw.
    pub snp_cert_table: Option<Vec<u8>>,
    /// Intel TDX collateral (TCB Info, QE Identity, CRLs and their chains).
    pub tdx: Option<cogito_tdx::Collateral>,
    /// A PCK certificate chain (PEM) for quotes that do not embed one.
    pub tdx_pck_chain: Option<Vec<u8>>,
    /// A TDX CC event log (CCEL data) to replay against RTMR0–3.
    pub event_log: Option<Vec<u8>>,
}

/// Everything one verification depends on besides the [`Verifier`]'s
/// anchors and caches.
///
/// [`Verifier`]: crate::Verifier
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    /// The evidence bytes, untrusted: an SEV-SNP report, an Azure HCL
    /// report, a TDX quote or a CCA token (detected from the bytes).
    pub evidence: &'a [u8],
    /// Collateral the caller holds.
    pub collateral: &'a SuppliedCollateral,
    /// The time the verification is judged at: certificates, CRLs and
    /// collateral must be valid then.
    pub at: VerificationTime,
    /// What the verifiers require beyond authenticity.
    pub options: &'a Options,
}
