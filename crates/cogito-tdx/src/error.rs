//! Errors of TDX quote verification, each with a stable code.

use cogito_core::{CogitoError, ErrorClass, ReaderError, TcbStatus, VerificationTime};

/// Collateral a quote needs that was not supplied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum MissingCollateral {
    /// Intel's TCB Info, QE Identity, PCK CRL and root CA CRL (needed
    /// unless only signatures are checked).
    TcbCollateral,
    /// The PCK certificate chain: the quote carries certification data of
    /// this type instead of a PCK chain (type 5).
    PckChain {
        /// The quote's certification data type.
        cert_data_type: u16,
    },
}

impl std::fmt::Display for MissingCollateral {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MissingCollateral::TcbCollateral => f.write_str(
                "Intel's TCB Info, QE Identity and CRLs, which the TCB status is evaluated from",
            ),
            MissingCollateral::PckChain { cert_data_type } => write!(
                f,
                "the PCK certificate chain: the quote carries certification data type {cert_data_type}, not a PCK chain (type 5)"
            ),
        }
    }
}

fn names(statuses: &[TcbStatus]) -> String {
    statuses
        .iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

fn advisory_list(ids: &[String]) -> String {
    if ids.is_empty() {
        "none".to_string()
    } else {
        ids.join(", ")
    }
}

/// Why a TDX quote was not verified.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TdxError {
    /// The quote bytes are malformed (truncated, a length out of range).
    #[error("TDX quote: {0}")]
    Malformed(#[from] ReaderError),
    /// A field holds a value the format does not allow.
    #[error("TDX quote: {field} at offset {offset:#x} is {found}; {expected}")]
    BadField {
        /// The field.
        field: &'static str,
        /// Its offset.
        offset: usize,
        /// What was found.
        found: String,
        /// What the spec allows.
        expected: &'static str,
    },
    /// Bytes after the quote that are not zero padding.
    #[error("TDX quote: {len} bytes after the signature data at offset {offset:#x} are not zero padding")]
    TrailingData {
        /// Offset of the first trailing byte.
        offset: usize,
        /// Number of trailing bytes.
        len: usize,
    },
    /// The quote (or QE report) signature does not verify.
    #[error("{what} does not verify")]
    BadSignature {
        /// Which signature (`quote signature by the attestation key`, …).
        what: &'static str,
    },
    /// The QE report does not bind the attestation key.
    #[error("QE report REPORTDATA does not bind the attestation key: {reason}")]
    QeBinding {
        /// What differs.
        reason: String,
    },
    /// A certificate, CRL or collateral document could not be parsed.
    #[error("{which}: malformed: {reason}")]
    MalformedCollateral {
        /// Which object.
        which: String,
        /// What is wrong.
        reason: String,
    },
    /// Required collateral was not supplied.
    #[error("missing collateral: {what}")]
    CollateralMissing {
        /// What is missing.
        what: MissingCollateral,
    },
    /// A chain does not end in a pinned Intel root.
    #[error("{which}: chain does not end in a pinned Intel SGX Root CA key ({detail})")]
    UntrustedRoot {
        /// Which chain.
        which: String,
        /// Detail.
        detail: String,
    },
    /// A certificate or CRL signature does not verify.
    #[error("{which}: signature by {issuer} does not verify")]
    BadCertificateSignature {
        /// The certificate.
        which: String,
        /// Its issuer.
        issuer: String,
    },
    /// A certificate violates a structural rule.
    #[error("{which}: {reason}")]
    CertificateConstraint {
        /// The certificate.
        which: String,
        /// The rule.
        reason: String,
    },
    /// A certificate, CRL or collateral document is outside its validity.
    #[error("{which} is not valid at {at}: valid from {not_before} to {not_after}")]
    OutsideValidity {
        /// The object.
        which: String,
        /// The verification time.
        at: VerificationTime,
        /// Start.
        not_before: VerificationTime,
        /// End.
        not_after: VerificationTime,
    },
    /// A certificate of a chain is revoked.
    #[error("{which} (serial {}) is revoked by the {crl}", hex::encode(.serial))]
    Revoked {
        /// The certificate.
        which: String,
        /// Its serial number (minimal big-endian bytes).
        serial: Vec<u8>,
        /// Which CRL.
        crl: &'static str,
    },
    /// A PCK certificate SGX extension is missing or malformed.
    #[error("PCK certificate: SGX extension {name} {problem}")]
    PckExtension {
        /// Extension name.
        name: &'static str,
        /// What is wrong.
        problem: String,
    },
    /// The collateral does not belong to this platform or is of the wrong kind.
    #[error("{which}: {field} is {found}, expected {expected}")]
    CollateralMismatch {
        /// `TCB Info` or `QE Identity`.
        which: &'static str,
        /// The field (fmspc, pceId, id, version, …).
        field: &'static str,
        /// Found.
        found: String,
        /// Expected.
        expected: String,
    },
    /// The QE is not Intel's TD quoting enclave.
    #[error("QE report {field} {detail} does not match the QE Identity")]
    QeIdentityMismatch {
        /// The field.
        field: &'static str,
        /// Detail.
        detail: String,
    },
    /// The TDX module does not match the TCB Info's module identity.
    #[error("TDX module: {detail}")]
    ModuleIdentity {
        /// Detail.
        detail: String,
    },
    /// No TCB level of the TCB Info matches the platform.
    #[error("no TCB level matches: {detail}")]
    NoTcbLevel {
        /// Which comparison failed.
        detail: String,
    },
    /// The converged TCB status is Revoked.
    #[error("TCB status is Revoked (advisories: {})", advisory_list(.advisories))]
    TcbRevoked {
        /// Advisory IDs.
        advisories: Vec<String>,
    },
    /// The converged TCB status is not one the caller allows.
    #[error("TCB status {} is not allowed (allowed: {}); advisories: {}", .status.as_str(), names(.allowed), advisory_list(.advisories))]
    TcbStatusNotAllowed {
        /// The status.
        status: TcbStatus,
        /// The allowed statuses.
        allowed: Vec<TcbStatus>,
        /// Advisory IDs.
        advisories: Vec<String>,
    },
    /// REPORTDATA differs from what the caller expected.
    #[error("REPORTDATA is {} but {} was expected", hex::encode(.found.as_slice()), hex::encode(.expected.as_slice()))]
    ReportDataMismatch {
        /// Expected (boxed: errors stay small on the happy path).
        expected: Box<[u8; 64]>,
        /// Found.
        found: Box<[u8; 64]>,
    },
}

impl CogitoError for TdxError {
    fn code(&self) -> &'static str {
        use TdxError::*;
        match self {
            Malformed(ReaderError::Truncated { .. }) => "tdx.quote.truncated",
            Malformed(_) => "tdx.quote.malformed",
            BadField { .. } => "tdx.quote.bad_field",
            TrailingData { .. } => "tdx.quote.trailing_data",
            BadSignature { .. } => "tdx.quote.bad_signature",
            QeBinding { .. } => "tdx.qe_report.binding",
            MalformedCollateral { .. } => "tdx.collateral.malformed",
            CollateralMissing { .. } => "tdx.collateral.missing",
            UntrustedRoot { .. } => "tdx.chain.untrusted_root",
            BadCertificateSignature { .. } => "tdx.chain.bad_signature",
            CertificateConstraint { .. } => "tdx.chain.constraint",
            OutsideValidity { .. } => "tdx.chain.outside_validity",
            Revoked { .. } => "tdx.chain.revoked",
            PckExtension { .. } => "tdx.pck.extension",
            CollateralMismatch { .. } => "tdx.collateral.mismatch",
            QeIdentityMismatch { .. } => "tdx.qe_identity.mismatch",
            ModuleIdentity { .. } => "tdx.module.identity",
            NoTcbLevel { .. } => "tdx.tcb.no_matching_level",
            TcbRevoked { .. } => "tdx.tcb.revoked",
            TcbStatusNotAllowed { .. } => "tdx.tcb.status_not_allowed",
            ReportDataMismatch { .. } => "tdx.report_data.mismatch",
        }
    }

    fn class(&self) -> ErrorClass {
        use TdxError::*;
        match self {
            Malformed(_) | BadField { .. } | TrailingData { .. } | MalformedCollateral { .. } => {
                ErrorClass::BadInput
            }
            CollateralMissing { .. } => ErrorClass::CollateralUnavailable,
            BadSignature { .. }
            | QeBinding { .. }
            | UntrustedRoot { .. }
            | BadCertificateSignature { .. }
            | CertificateConstraint { .. }
            | OutsideValidity { .. }
            | PckExtension { .. }
            | CollateralMismatch { .. }
            | QeIdentityMismatch { .. }
            | ModuleIdentity { .. } => ErrorClass::Authenticity,
            Revoked { .. } | TcbRevoked { .. } => ErrorClass::Revoked,
            NoTcbLevel { .. } | TcbStatusNotAllowed { .. } | ReportDataMismatch { .. } => {
                ErrorClass::Policy
            }
        }
    }
}
