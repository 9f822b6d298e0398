//! Recognising what a blob of evidence is.
//!
//! [`detect`] looks only at fixed headers and sizes; it does not validate.
//! The platform parser that the result names does the real parsing and
//! reports precise errors.

use crate::error::{CogitoError, ErrorClass};

/// Size of an AMD SEV-SNP ATTESTATION_REPORT (SNP ABI spec, Table 23).
pub const SNP_REPORT_LEN: usize = 0x4A0;

/// Intel's QE vendor id, at offset 12 of a DCAP quote header.
const INTEL_QE_VENDOR_ID: [u8; 16] = [
    0x93, 0x9a, 0x72, 0x33, 0xf7, 0x9c, 0x4c, 0xa9, 0x94, 0x0a, 0x0d, 0xb3, 0x95, 0x7f, 0x06, 0x07,
];

/// Offset of the SNP report inside an Azure HCL report ("HCLA" header).
pub const HCL_SNP_REPORT_OFFSET: usize = 0x20;

/// Evidence recognised from raw bytes; each variant borrows the bytes its
/// platform parser needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Evidence<'a> {
    /// A raw AMD SEV-SNP attestation report (1184 bytes).
    SnpReport(&'a [u8]),
    /// An Azure confidential VM HCL report wrapping an SNP report; `report`
    /// is the embedded SNP report and `hcl` the whole wrapper.
    AzureHclSnp {
        /// The embedded 1184-byte SNP report.
        report: &'a [u8],
        /// The whole HCL report.
        hcl: &'a [u8],
    },
    /// An Intel DCAP quote header: a TDX quote (version 4 or 5), or an SGX
    /// or older quote that the TDX parser refuses precisely.
    TdxQuote(&'a [u8]),
    /// An Arm CCA attestation token (CBOR tag 399 or 907).
    CcaToken(&'a [u8]),
}

impl Evidence<'_> {
    /// A short name for messages.
    pub fn kind(&self) -> &'static str {
        match self {
            Evidence::SnpReport(_) => "AMD SEV-SNP attestation report",
            Evidence::AzureHclSnp { .. } => "Azure HCL report with an AMD SEV-SNP report",
            Evidence::TdxQuote(_) => "Intel TDX quote",
            Evidence::CcaToken(_) => "Arm CCA attestation token",
        }
    }
}

/// The bytes are not any evidence cogito knows.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unrecognised evidence ({len} bytes): {hint}")]
pub struct DetectError {
    /// Input length.
    pub len: usize,
    /// What was looked for.
    pub hint: &'static str,
}

impl CogitoError for DetectError {
    fn code(&self) -> &'static str {
        "evidence.unrecognised"
    }
    fn class(&self) -> ErrorClass {
        ErrorClass::BadInput
    }
}

fn le_u16_at(bytes: &[u8], at: usize) -> Option<u16> {
    let b = bytes.get(at..at.checked_add(2)?)?;
    Some(u16::from_le_bytes(b.try_into().ok()?))
}

fn le_u32_at(bytes: &[u8], at: usize) -> Option<u32> {
    let b = bytes.get(at..at.checked_add(4)?)?;
    Some(u32::from_le_bytes(b.try_into().ok()?))
}

/// Recognises evidence by its header and size.
///
/// - Azure HCL: magic `HCLA` at offset 0, an SNP report at 0x20 and report
///   type 2 (SNP) in the runtime-data header at 0x4C8.
/// - Intel quote: header version 3–5 with TEE type 0x81 (TDX) or 0 (SGX)
///   at offset 4 (at exactly 1184 bytes, also Intel's QE vendor id).
/// - CCA: CBOR tag 399 (`d9 01 8f`) or 907 (`d9 03 8b`).
/// - SNP: exactly 1184 bytes (the SNP parser judges the version).
pub fn detect(bytes: &[u8]) -> Result<Evidence<'_>, DetectError> {
    if bytes.starts_with(b"HCLA") {
        let end = HCL_SNP_REPORT_OFFSET + SNP_REPORT_LEN;
        // The HCL report type lives in the runtime-data header that follows
        // the hardware report (offset 0x4C0 + 8): 2 = SNP, 4 = TDX.
        let report_type = le_u32_at(bytes, 0x4C8);
        return match (bytes.get(HCL_SNP_REPORT_OFFSET..end), report_type) {
            (Some(report), Some(2)) => Ok(Evidence::AzureHclSnp { report, hcl: bytes }),
            _ => Err(DetectError {
                len: bytes.len(),
                hint: "Azure HCL report (HCLA) without an SNP report (only SNP-based HCL reports are supported)",
            }),
        };
    }
    if let (true, Some(version), Some(tee_type)) =
        (bytes.len() >= 48, le_u16_at(bytes, 0), le_u32_at(bytes, 4))
    {
        let intel_vendor = bytes.get(12..28) == Some(&INTEL_QE_VENDOR_ID[..]);
        // Any Intel DCAP quote header (versions 3–5, TEE type SGX or TDX)
        // goes to the TDX parser, which refuses what is not a TDX quote
        // with the precise field and offset. At exactly the SNP report
        // size, Intel's QE vendor id must be there too.
        if (3..=5).contains(&version)
            && (tee_type == 0x81 || tee_type == 0)
            && (bytes.len() != SNP_REPORT_LEN || intel_vendor)
        {
            return Ok(Evidence::TdxQuote(bytes));
        }
    }
    if bytes.starts_with(&[0xd9, 0x01, 0x8f]) || bytes.starts_with(&[0xd9, 0x03, 0x8b]) {
        return Ok(Evidence::CcaToken(bytes));
    }
    if bytes.len() == SNP_REPORT_LEN {
        return Ok(Evidence::SnpReport(bytes));
    }
    Err(DetectError {
        len: bytes.len(),
        hint: "expected a 1184-byte SEV-SNP report, an Azure HCL report, a TDX quote (v4/v5, TEE type 0x81) or a CCA token (CBOR tag 399/907)",
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snp_by_size() {
        let r = vec![0u8; SNP_REPORT_LEN];
        assert!(matches!(detect(&r), Ok(Evidence::SnpReport(_))));
    }

    #[test]
    fn tdx_by_header() {
        let mut q = vec![0u8; 100];
        q[0] = 3;
        q[4] = 0x81;
        assert!(matches!(detect(&q), Ok(Evidence::TdxQuote(_))));
        q[4] = 0x80;
        assert!(detect(&q).is_err());
        q[0] = 4;
        q[2] = 2;
        q[4] = 0x81;
        assert!(matches!(detect(&q), Ok(Evidence::TdxQuote(_))));
    }

    #[test]
    fn quote_of_snp_size_needs_intel_vendor_id() {
        let mut q = vec![0u8; SNP_REPORT_LEN];
        q[0] = 4;
        q[4] = 0x81;
        assert!(matches!(detect(&q), Ok(Evidence::SnpReport(_))));
        q[12..28].copy_from_slice(&INTEL_QE_VENDOR_ID);
        assert!(matches!(detect(&q), Ok(Evidence::TdxQuote(_))));
    }

    #[test]
    fn cca_by_tag() {
        assert!(matches!(
            detect(&[0xd9, 0x01, 0x8f, 0xa2]),
            Ok(Evidence::CcaToken(_))
        ));
        assert!(matches!(
            detect(&[0xd9, 0x03, 0x8b, 0xa2]),
            Ok(Evidence::CcaToken(_))
        ));
    }

    #[test]
    fn hcl_needs_snp_type() {
        let mut h = vec![0u8; 0x4D4];
        h[..4].copy_from_slice(b"HCLA");
        assert!(detect(&h).is_err());
        h[0x4C8] = 2;
        match detect(&h) {
            Ok(Evidence::AzureHclSnp { report, .. }) => assert_eq!(report.len(), SNP_REPORT_LEN),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn truncated_snp_is_unrecognised_with_length() {
        let e = detect(&[0u8; 1183]).unwrap_err();
        assert_eq!(e.len, 1183);
        assert_eq!(e.code(), "evidence.unrecognised");
    }

    #[test]
    fn empty_is_unrecognised() {
        assert!(detect(&[]).is_err());
    }
}
