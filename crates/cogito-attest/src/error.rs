//! Why a request was not verified.
//!
//! Each variant keeps the platform crate's typed error, so a caller can
//! match on it (which certificate, which time, which status); `code()` and
//! `class()` are the platform's own. The messages name no command-line
//! flag: the CLI adds such hints from the code.

use cogito_core::{CogitoError, DetectError, ErrorClass};

/// A failed verification.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AttestError {
    /// The bytes are no evidence cogito knows.
    #[error(transparent)]
    Detect(#[from] DetectError),
    /// SEV-SNP verification failed.
    #[error(transparent)]
    Snp(#[from] cogito_snp::SnpError),
    /// Intel TDX verification failed.
    #[error(transparent)]
    Tdx(#[from] cogito_tdx::TdxError),
    /// The TDX CC event log is malformed.
    #[error(transparent)]
    EventLog(#[from] cogito_tdx::eventlog::EventLogError),
    /// Arm CCA verification failed.
    #[error(transparent)]
    Cca(#[from] cogito_cca::CcaError),
    /// Collateral could not be fetched or read.
    #[error(transparent)]
    Collateral(#[from] cogito_collateral::CollateralError),
    /// A CCA token, but no platform attestation key (CPAK) is configured.
    #[error("a CCA token needs its platform's CPAK, and no CCA trust anchors are configured (a JWK, a PEM key or a trust-anchor store)")]
    CcaAnchorsMissing,
    /// Collateral was supplied that the evidence's platform does not use
    /// (an SNP certificate table with a TDX quote, say): refused rather
    /// than ignored, since the caller meant something by it.
    #[error("{what} was supplied, but the evidence is {evidence}")]
    CollateralForOtherPlatform {
        /// The collateral (`an SNP certificate table`, `a CC event log`, …).
        what: &'static str,
        /// The evidence kind.
        evidence: &'static str,
    },
}

impl CogitoError for AttestError {
    fn code(&self) -> &'static str {
        match self {
            AttestError::Detect(e) => e.code(),
            AttestError::Snp(e) => e.code(),
            AttestError::Tdx(e) => e.code(),
            AttestError::EventLog(e) => e.code(),
            AttestError::Cca(e) => e.code(),
            AttestError::Collateral(e) => e.code(),
            AttestError::CcaAnchorsMissing => "cca.key.none_configured",
            AttestError::CollateralForOtherPlatform { .. } => {
                "attest.collateral_for_other_platform"
            }
        }
    }

    fn class(&self) -> ErrorClass {
        match self {
            AttestError::Detect(e) => e.class(),
            AttestError::Snp(e) => e.class(),
            AttestError::Tdx(e) => e.class(),
            AttestError::EventLog(e) => e.class(),
            AttestError::Cca(e) => e.class(),
            AttestError::Collateral(e) => e.class(),
            AttestError::CcaAnchorsMissing => ErrorClass::CollateralUnavailable,
            AttestError::CollateralForOtherPlatform { .. } => ErrorClass::Usage,
        }
    }
}
