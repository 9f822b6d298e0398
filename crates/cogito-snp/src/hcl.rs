//! Azure confidential VM "HCL report": an SNP report wrapped by Azure's
//! paravisor (OpenHCL), whose REPORT_DATA binds a runtime-claims JSON
//! document. It is what the vTPM NV index 0x01400001 holds.
//!
//! Layout (OpenHCL `IgvmAttestRequestHeader`, `IgvmAttestRequestData`; all
//! u32 little-endian):
//!
//! | offset | field |
//! |---|---|
//! | 0x00 | signature `HCLA` |
//! | 0x04 | version (1 or 2 are in use) |
//! | 0x08 | report_size: the bytes that follow are padding |
//! | 0x0C | request_type (2: attestation-key certificate request) |
//! | 0x10 | status (0) |
//! | 0x14 | reserved, 3 × u32, zero |
//! | 0x20 | the hardware report, 0x4A0 bytes (an SNP report) |
//! | 0x4C0 | data_size (20 + variable_data_size) |
//! | 0x4C4 | runtime data version (1) |
//! | 0x4C8 | report_type (2 = SEV-SNP, 4 = TDX) |
//! | 0x4CC | hash_type (1 = SHA-256, 2 = SHA-384, 3 = SHA-512) |
//! | 0x4D0 | variable_data_size |
//! | 0x4D4 | the variable data (the runtime claims JSON) |
//!
//! The NV index is a fixed-size area, so the report is followed by zero
//! padding up to the end of the blob; any non-zero byte there is refused.
//! REPORT_DATA starts with the hash of the variable data.

use cogito_core::{Reader, ReaderError};

use crate::crypto;
use crate::error::SnpError;
use crate::report::REPORT_LEN;

/// The header's signature, `HCLA`.
const SIGNATURE: &[u8; 4] = b"HCLA";
/// Offset of the runtime data (after the header and the report).
const RUNTIME_DATA_OFFSET: usize = 0x4C0;
/// Length of the runtime data header.
const RUNTIME_HEADER_LEN: u32 = 20;
/// The request type of the user-visible report (an AK certificate request).
const REQUEST_TYPE_AK_CERT: u32 = 2;
/// `report_type` of an SEV-SNP hardware report.
const REPORT_TYPE_SNP: u32 = 2;

/// A parsed HCL report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HclReport<'a> {
    /// The header version (1 or 2).
    pub version: u32,
    /// The embedded SNP report.
    pub report: &'a [u8],
    /// hash_type: 1 = SHA-256, 2 = SHA-384, 3 = SHA-512.
    pub hash_type: u32,
    /// The variable data (runtime claims JSON).
    pub var_data: &'a [u8],
    /// Zero bytes after the report (the rest of the NV index).
    pub padding: usize,
}

fn hcl(reason: String) -> SnpError {
    SnpError::Hcl { reason }
}

fn read(e: ReaderError) -> SnpError {
    hcl(e.to_string())
}

/// Checks a u32 field against what the layout allows.
fn expect(field: &str, at: usize, value: u32, ok: bool, allowed: &str) -> Result<(), SnpError> {
    if ok {
        Ok(())
    } else {
        Err(hcl(format!(
            "{field} at offset {at:#x} is {value}; expected {allowed}"
        )))
    }
}

impl<'a> HclReport<'a> {
    /// Parses an HCL report: every header field is checked, the sizes must
    /// agree with each other, and only zero padding may follow.
    pub fn parse(bytes: &'a [u8]) -> Result<Self, SnpError> {
        let mut r = Reader::new(bytes);
        let magic = r.bytes("HCL signature", 4).map_err(read)?;
        if magic != SIGNATURE {
            return Err(hcl("does not start with HCLA".into()));
        }
        let version = r.u32_le("HCL version").map_err(read)?;
        expect(
            "HCL version",
            0x4,
            version,
            matches!(version, 1 | 2),
            "1 or 2",
        )?;
        let report_size = r.u32_le("HCL report size").map_err(read)?;
        let request_type = r.u32_le("HCL request type").map_err(read)?;
        expect(
            "HCL request type",
            0xC,
            request_type,
            request_type == REQUEST_TYPE_AK_CERT,
            "2 (attestation-key certificate request)",
        )?;
        let status = r.u32_le("HCL status").map_err(read)?;
        expect("HCL status", 0x10, status, status == 0, "0 (success)")?;
        r.zeros("HCL reserved", 12).map_err(read)?;
        let report = r.bytes("SNP report", REPORT_LEN).map_err(read)?;
        debug_assert_eq!(r.offset(), RUNTIME_DATA_OFFSET);
        let data_size = r.u32_le("runtime data size").map_err(read)?;
        let data_version = r.u32_le("runtime data version").map_err(read)?;
        expect(
            "runtime data version",
            0x4C4,
            data_version,
            data_version == 1,
            "1",
        )?;
        let report_type = r.u32_le("report type").map_err(read)?;
        expect(
            "report type",
            0x4C8,
            report_type,
            report_type == REPORT_TYPE_SNP,
            "2 (SEV-SNP; only SNP-based HCL reports are supported)",
        )?;
        let hash_type = r.u32_le("hash type").map_err(read)?;
        expect(
            "hash type",
            0x4CC,
            hash_type,
            matches!(hash_type, 1..=3),
            "1 (SHA-256), 2 (SHA-384) or 3 (SHA-512)",
        )?;
        let var_len = r.u32_le("variable data size").map_err(read)?;
        expect(
            "runtime data size",
            0x4C0,
            data_size,
            Some(data_size) == var_len.checked_add(RUNTIME_HEADER_LEN),
            "20 + the variable data size",
        )?;
        let var_data = r
            .bytes(
                "variable data",
                usize::try_from(var_len).unwrap_or(usize::MAX),
            )
            .map_err(read)?;
        let end = r.offset();
        expect(
            "HCL report size",
            0x8,
            report_size,
            usize::try_from(report_size).is_ok_and(|s| s == end),
            "the size of the header, report and runtime data",
        )?;
        let padding = r.remaining();
        r.zeros("padding after the HCL report", padding)
            .map_err(read)?;
        Ok(HclReport {
            version,
            report,
            hash_type,
            var_data,
            padding,
        })
    }

    /// Checks that REPORT_DATA begins with the hash of the variable data
    /// and that the rest of REPORT_DATA is zero.
    pub fn check_binding(&self, report_data: &[u8; 64]) -> Result<(), SnpError> {
        let digest: Vec<u8> = match self.hash_type {
            1 => crypto::sha256(self.var_data).to_vec(),
            2 => crypto::sha384(self.var_data).to_vec(),
            3 => crypto::sha512(self.var_data).to_vec(),
            other => {
                return Err(SnpError::Hcl {
                    reason: format!("unknown hash type {other}"),
                })
            }
        };
        let (head, tail) = report_data
            .split_at_checked(digest.len())
            .unwrap_or((report_data.as_slice(), &[]));
        if head != digest.as_slice() || tail.iter().any(|b| *b != 0) {
            return Err(SnpError::Hcl {
                reason: format!(
                    "REPORT_DATA does not bind the runtime data: expected {} followed by zeros, found {}",
                    hex::encode(&digest),
                    hex::encode(report_data)
                ),
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An HCL report around a zero SNP report, with `var` as runtime data,
    /// padded with zeros to `total` bytes.
    fn hcl_report(var: &[u8], total: usize) -> Vec<u8> {
        let mut b = Vec::new();
        b.extend_from_slice(b"HCLA");
        let size = (0x4D4 + var.len()) as u32;
        for v in [2u32, size, 2, 0, 0, 0, 0] {
            b.extend_from_slice(&v.to_le_bytes());
        }
        b.resize(0x4C0, 0);
        let var_len = var.len() as u32;
        for v in [20 + var_len, 1, 2, 1, var_len] {
            b.extend_from_slice(&v.to_le_bytes());
        }
        b.extend_from_slice(var);
        b.resize(total.max(b.len()), 0);
        b
    }

    fn reason(bytes: &[u8]) -> String {
        match HclReport::parse(bytes) {
            Err(SnpError::Hcl { reason }) => reason,
            other => panic!("expected an HCL error, got {other:?}"),
        }
    }

    #[test]
    fn parses_a_padded_report() {
        let b = hcl_report(b"{\"keys\":[]}", 2600);
        let h = HclReport::parse(&b).unwrap();
        assert_eq!((h.version, h.hash_type), (2, 1));
        assert_eq!(h.var_data, b"{\"keys\":[]}");
        assert_eq!(h.padding, 2600 - 0x4D4 - 11);
        assert_eq!(h.report.len(), REPORT_LEN);
    }

    #[test]
    fn each_header_field_is_checked_by_name_and_offset() {
        let good = hcl_report(b"{}", 2600);
        for (at, value, field) in [
            (0x4usize, 3u32, "HCL version at offset 0x4"),
            (0xC, 1, "HCL request type at offset 0xc"),
            (0x10, 5, "HCL status at offset 0x10"),
            (0x4C4, 2, "runtime data version at offset 0x4c4"),
            (0x4C8, 4, "report type at offset 0x4c8"),
            (0x4CC, 9, "hash type at offset 0x4cc"),
            (0x4C0, 99, "runtime data size at offset 0x4c0"),
            (0x8, 0x4D0, "HCL report size at offset 0x8"),
        ] {
            let mut b = good.clone();
            b[at..at + 4].copy_from_slice(&value.to_le_bytes());
            let r = reason(&b);
            assert!(r.contains(field), "{field}: {r}");
        }
        let mut b = good.clone();
        b[0x18] = 1;
        assert!(reason(&b).contains("HCL reserved"));
    }

    #[test]
    fn trailing_non_zero_bytes_are_refused() {
        let mut b = hcl_report(b"{}", 2600);
        b[2599] = 1;
        let r = reason(&b);
        assert!(
            r.contains("padding after the HCL report") && r.contains("0xa27"),
            "{r}"
        );
    }

    #[test]
    fn a_variable_data_size_beyond_the_input_is_a_truncation() {
        let mut b = hcl_report(b"{}", 0);
        b[0x4D0..0x4D4].copy_from_slice(&u32::MAX.to_le_bytes());
        b[0x4C0..0x4C4].copy_from_slice(&19u32.to_le_bytes());
        assert!(HclReport::parse(&b).is_err());
        for len in 0..b.len() {
            assert!(HclReport::parse(&b[..len]).is_err(), "prefix {len}");
        }
    }
}
