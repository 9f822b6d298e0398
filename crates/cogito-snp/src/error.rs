//! Errors of SEV-SNP verification, each with a stable code.

use cogito_core::{AmdProduct, CogitoError, ErrorClass, ReaderError, VerificationTime};

use crate::report::FirmwareVersion;
use crate::tcb::TcbVersion;

/// Collateral a report needs that was not supplied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum MissingCollateral {
    /// The VCEK for the report's chip and REPORTED_TCB (AMD's KDS has it).
    Vcek,
    /// The VLEK: only the host has it (the certificate table, or a bundle).
    Vlek,
    /// The VCEK of a report that masks CHIP_ID: it cannot be looked up,
    /// so it must be supplied.
    VcekOfMaskedChip,
}

impl std::fmt::Display for MissingCollateral {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            MissingCollateral::Vcek => "the VCEK certificate for this chip and REPORTED_TCB (from the host's certificate table, a bundle, or AMD's KDS)",
            MissingCollateral::Vlek => "the VLEK certificate (only the host has it: its certificate table or a bundle)",
            MissingCollateral::VcekOfMaskedChip => "the VCEK certificate: the report masks CHIP_ID, so the VCEK cannot be looked up and must be supplied",
        })
    }
}

/// Why an SEV-SNP report was not verified.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SnpError {
    /// The report bytes are malformed (truncated, trailing data, non-zero MBZ).
    #[error("SNP report: {0}")]
    Malformed(#[from] ReaderError),
    /// VERSION is not one cogito parses.
    #[error("SNP report: VERSION at offset 0x0 is {found}; supported versions are 2, 3 and 5")]
    UnknownVersion {
        /// The version found.
        found: u32,
    },
    /// SIGNATURE_ALGO is not ECDSA P-384 with SHA-384.
    #[error("SNP report: SIGNATURE_ALGO at offset 0x34 is {found}; only 1 (ECDSA P-384 with SHA-384) is defined")]
    UnknownSignatureAlgo {
        /// The value found.
        found: u32,
    },
    /// SIGNING_KEY holds a reserved value.
    #[error("SNP report: SIGNING_KEY (bits 4:2 at offset 0x48) is {found}, a reserved value (0 = VCEK, 1 = VLEK, 7 = none)")]
    ReservedSigningKey {
        /// The value found.
        found: u32,
    },
    /// Reserved bits inside a field are set.
    #[error("SNP report: reserved bits of {field} at offset {offset:#x} are set ({value:#x})")]
    ReservedBits {
        /// The field.
        field: &'static str,
        /// Its offset.
        offset: usize,
        /// The offending bits.
        value: u64,
    },
    /// The report says it is not signed (SIGNING_KEY = 7).
    #[error("SNP report is unsigned (SIGNING_KEY = 7): nothing to verify")]
    Unsigned,
    /// A signature component is not a P-384 scalar (bytes 48..72 not zero).
    #[error("SNP report: SIGNATURE {component} at offset {offset:#x} is wider than 48 bytes (bytes 48..72 must be zero)")]
    SignatureComponentTooWide {
        /// `R` or `S`.
        component: &'static str,
        /// Offset of the first non-zero high byte.
        offset: usize,
    },
    /// CPUID_FAM_ID / CPUID_MOD_ID name no known SEV-SNP product.
    #[error("SNP report: CPUID family {family:#04x} model {model:#04x} (offsets 0x188/0x189) is not a known SEV-SNP product (Milan, Genoa, Turin)")]
    UnknownCpuid {
        /// CPUID family.
        family: u8,
        /// CPUID model.
        model: u8,
    },
    /// The product line cannot be determined.
    #[error("cannot tell the product line of this version {version} report: it carries no CPUID and no VCEK/VLEK productName was supplied; the product line must be given")]
    ProductUnknown {
        /// Report version.
        version: u32,
    },
    /// Two sources disagree about the product line.
    #[error("product mismatch: {first_source} says {first}, {second_source} says {second}")]
    ProductMismatch {
        /// First source (e.g. `report CPUID`).
        first_source: &'static str,
        /// Its product.
        first: AmdProduct,
        /// Second source (e.g. `VCEK productName`).
        second_source: &'static str,
        /// Its product.
        second: AmdProduct,
    },
    /// Required collateral was not supplied.
    #[error("missing collateral: {what}")]
    CollateralMissing {
        /// What is missing.
        what: MissingCollateral,
    },
    /// A certificate or CRL could not be parsed.
    #[error("{which}: malformed: {reason}")]
    MalformedCertificate {
        /// Which certificate (`VCEK`, `ASK`, `CRL`, …).
        which: String,
        /// Parser message.
        reason: String,
    },
    /// The certificate table is malformed.
    #[error("certificate table: {reason}")]
    MalformedCertTable {
        /// What is wrong.
        reason: String,
    },
    /// An Azure HCL report is malformed or does not bind its runtime data.
    #[error("Azure HCL report: {reason}")]
    Hcl {
        /// What is wrong.
        reason: String,
    },
    /// A certificate uses an algorithm AMD does not use.
    #[error("{which}: {what} is {found}; expected {expected}")]
    UnexpectedAlgorithm {
        /// Which certificate.
        which: String,
        /// Which algorithm field.
        what: &'static str,
        /// What was found.
        found: String,
        /// What AMD uses.
        expected: &'static str,
    },
    /// A supplied intermediate or root is not a pinned AMD key.
    #[error("{which} supplied for {product} ({subject}) is not a pinned trust anchor: the chain does not end in AMD's keys")]
    NotPinned {
        /// ASK, ASVK or ARK.
        which: &'static str,
        /// Product line.
        product: AmdProduct,
        /// Its subject.
        subject: String,
    },
    /// No pinned key of the right role issued this certificate.
    #[error("{which} (issuer {issuer}) was not issued by any pinned {product} {expected_issuer}")]
    UntrustedIssuer {
        /// The certificate.
        which: &'static str,
        /// Its issuer name.
        issuer: String,
        /// Product line.
        product: AmdProduct,
        /// ASK, ASVK or ARK.
        expected_issuer: &'static str,
    },
    /// A certificate signature does not verify.
    #[error("{which}: signature by {issuer} does not verify")]
    BadCertificateSignature {
        /// The certificate.
        which: String,
        /// The issuer.
        issuer: String,
    },
    /// A certificate violates a structural rule (CA flag, key usage, name).
    #[error("{which}: {reason}")]
    CertificateConstraint {
        /// The certificate.
        which: String,
        /// The rule.
        reason: String,
    },
    /// A certificate or CRL is not valid at the verification time.
    #[error("{which} is not valid at {at}: valid from {not_before} to {not_after}")]
    OutsideValidity {
        /// The certificate or CRL.
        which: String,
        /// The verification time.
        at: VerificationTime,
        /// Start of validity.
        not_before: VerificationTime,
        /// End of validity.
        not_after: VerificationTime,
    },
    /// The report's signature does not verify with the VCEK/VLEK.
    #[error("report signature does not verify with the {key} public key")]
    BadReportSignature {
        /// VCEK or VLEK.
        key: &'static str,
    },
    /// The report is signed by one key kind but a certificate of another was supplied.
    #[error("report SIGNING_KEY says {report} but only a {supplied} certificate was supplied")]
    KeyKindMismatch {
        /// What the report says.
        report: &'static str,
        /// What was supplied.
        supplied: &'static str,
    },
    /// A required VCEK/VLEK extension is missing or malformed.
    #[error("{which}: extension {name} ({oid}) {problem}")]
    Extension {
        /// VCEK or VLEK.
        which: &'static str,
        /// Extension name (`blSPL`, `hwID`, …).
        name: &'static str,
        /// Its OID.
        oid: &'static str,
        /// What is wrong.
        problem: String,
    },
    /// REPORTED_TCB differs from the TCB the certificate was issued for.
    #[error("REPORTED_TCB {component} is {report} but the {which} certifies {cert}")]
    TcbMismatch {
        /// VCEK or VLEK.
        which: &'static str,
        /// TCB component.
        component: &'static str,
        /// Value in the report.
        report: u8,
        /// Value in the certificate.
        cert: u8,
    },
    /// CHIP_ID differs from the VCEK's hwID.
    #[error("CHIP_ID {report_prefix}… does not match the VCEK hwID {cert_prefix}…")]
    ChipIdMismatch {
        /// First bytes of CHIP_ID (hex).
        report_prefix: String,
        /// First bytes of hwID (hex).
        cert_prefix: String,
    },
    /// Two TCB values in the report are inconsistent.
    #[error("{lower_name} {component} ({lower}) is above {upper_name} {component} ({upper})")]
    TcbInconsistent {
        /// The TCB that must be lower or equal.
        lower_name: &'static str,
        /// The TCB that must be higher or equal.
        upper_name: &'static str,
        /// Component name.
        component: &'static str,
        /// Its value in the lower TCB.
        lower: u8,
        /// Its value in the upper TCB.
        upper: u8,
    },
    /// The firmware is running a provisional (uncommitted) version.
    #[error("provisional firmware: COMMITTED_TCB {} / version {committed_version} differ from CURRENT_TCB {} / version {current_version}", .committed.hex(), .current.hex())]
    ProvisionalFirmware {
        /// COMMITTED_TCB.
        committed: TcbVersion,
        /// CURRENT_TCB.
        current: TcbVersion,
        /// Committed firmware version.
        committed_version: FirmwareVersion,
        /// Current firmware version.
        current_version: FirmwareVersion,
    },
    /// REPORT_DATA differs from what the caller expected.
    #[error("REPORT_DATA is {} but {} was expected", hex::encode(.found.as_slice()), hex::encode(.expected.as_slice()))]
    ReportDataMismatch {
        /// Expected (boxed: errors stay small on the happy path).
        expected: Box<[u8; 64]>,
        /// Found.
        found: Box<[u8; 64]>,
    },
    /// A certificate in the chain is revoked.
    #[error("{which} (serial {}) is revoked by the CRL issued by {crl_issuer}", hex::encode(.serial))]
    Revoked {
        /// The revoked certificate.
        which: &'static str,
        /// Its serial number (minimal big-endian bytes).
        serial: Vec<u8>,
        /// CRL issuer.
        crl_issuer: String,
    },
    /// A CRL was supplied that no certificate of the chain issued.
    #[error("CRL issued by {issuer} does not belong to this chain (expected one issued by the ARK or the {product} ASK/ASVK)")]
    UnrelatedCrl {
        /// The CRL's issuer.
        issuer: String,
        /// Product line.
        product: AmdProduct,
    },
}

impl CogitoError for SnpError {
    fn code(&self) -> &'static str {
        use SnpError::*;
        match self {
            Malformed(ReaderError::Truncated { .. }) => "snp.report.truncated",
            Malformed(ReaderError::TrailingData { .. }) => "snp.report.trailing_data",
            Malformed(ReaderError::NotZero { .. }) => "snp.report.reserved_not_zero",
            UnknownVersion { .. } => "snp.report.unknown_version",
            UnknownSignatureAlgo { .. } => "snp.report.unknown_signature_algo",
            ReservedSigningKey { .. } => "snp.report.reserved_signing_key",
            ReservedBits { .. } => "snp.report.reserved_bits",
            Unsigned => "snp.report.unsigned",
            SignatureComponentTooWide { .. } => "snp.report.signature_too_wide",
            UnknownCpuid { .. } => "snp.product.unknown_cpuid",
            ProductUnknown { .. } => "snp.product.unknown",
            ProductMismatch { .. } => "snp.product.mismatch",
            CollateralMissing { .. } => "snp.collateral.missing",
            MalformedCertificate { .. } => "snp.cert.malformed",
            MalformedCertTable { .. } => "snp.cert_table.malformed",
            Hcl { .. } => "snp.hcl.invalid",
            UnexpectedAlgorithm { .. } => "snp.cert.unexpected_algorithm",
            NotPinned { .. } => "snp.chain.not_pinned",
            UntrustedIssuer { .. } => "snp.chain.untrusted_issuer",
            BadCertificateSignature { .. } => "snp.chain.bad_signature",
            CertificateConstraint { .. } => "snp.chain.constraint",
            OutsideValidity { .. } => "snp.chain.outside_validity",
            BadReportSignature { .. } => "snp.report.bad_signature",
            KeyKindMismatch { .. } => "snp.chain.key_kind_mismatch",
            Extension { .. } => "snp.cert.extension",
            TcbMismatch { .. } => "snp.tcb.mismatch",
            ChipIdMismatch { .. } => "snp.chip_id.mismatch",
            TcbInconsistent { .. } => "snp.tcb.inconsistent",
            ProvisionalFirmware { .. } => "snp.tcb.provisional_firmware",
            ReportDataMismatch { .. } => "snp.report_data.mismatch",
            Revoked { .. } => "snp.chain.revoked",
            UnrelatedCrl { .. } => "snp.crl.unrelated",
        }
    }

    fn class(&self) -> ErrorClass {
        use SnpError::*;
        match self {
            Malformed(_)
            | UnknownVersion { .. }
            | UnknownSignatureAlgo { .. }
            | ReservedSigningKey { .. }
            | ReservedBits { .. }
            | Unsigned
            | SignatureComponentTooWide { .. }
            | UnknownCpuid { .. }
            | ProductUnknown { .. }
            | ProductMismatch { .. }
            | MalformedCertificate { .. }
            | MalformedCertTable { .. }
            | Hcl { .. } => ErrorClass::BadInput,
            CollateralMissing { .. } => ErrorClass::CollateralUnavailable,
            UnexpectedAlgorithm { .. }
            | NotPinned { .. }
            | UntrustedIssuer { .. }
            | BadCertificateSignature { .. }
            | CertificateConstraint { .. }
            | OutsideValidity { .. }
            | BadReportSignature { .. }
            | KeyKindMismatch { .. }
            | Extension { .. }
            | TcbMismatch { .. }
            | ChipIdMismatch { .. }
            | TcbInconsistent { .. }
            | UnrelatedCrl { .. } => ErrorClass::Authenticity,
            Revoked { .. } => ErrorClass::Revoked,
            ProvisionalFirmware { .. } | ReportDataMismatch { .. } => ErrorClass::Policy,
        }
    }
}
