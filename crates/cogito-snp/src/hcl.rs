//! Azure confidential VM "HCL report": an SNP report wrapped by Azure's
//! paravisor, whose REPORT_DATA binds a runtime-claims JSON document.
//!
//! Layout: header `HCLA` (0x00–0x1F), the 1184-byte SNP report at 0x20, then
//! the runtime data header at 0x4C0 — data_size, version, report_type
//! (2 = SNP), hash_type (1 = SHA-256, 2 = SHA-384, 3 = SHA-512),
//! variable_data_size, each u32 LE — and the variable data (the runtime
//! claims JSON) at 0x4D4. REPORT_DATA starts with the hash of that data.

use cogito_core::Reader;

use crate::crypto;
use crate::error::SnpError;
use crate::report::REPORT_LEN;

/// A parsed HCL report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HclReport<'a> {
    /// The embedded SNP report.
    pub report: &'a [u8],
    /// hash_type: 1 = SHA-256, 2 = SHA-384, 3 = SHA-512.
    pub hash_type: u32,
    /// The variable data (runtime claims JSON).
    pub var_data: &'a [u8],
}

impl<'a> HclReport<'a> {
    /// Parses an HCL report.
    pub fn parse(bytes: &'a [u8]) -> Result<Self, SnpError> {
        let hcl = |reason: String| SnpError::Hcl { reason };
        let mut r = Reader::new(bytes);
        let magic = r
            .bytes("HCL signature", 4)
            .map_err(|e| hcl(e.to_string()))?;
        if magic != b"HCLA" {
            return Err(hcl("does not start with HCLA".into()));
        }
        r.skip("HCL header", 0x1C).map_err(|e| hcl(e.to_string()))?;
        let report = r
            .bytes("SNP report", REPORT_LEN)
            .map_err(|e| hcl(e.to_string()))?;
        r.skip("reserved (0x4C0 alignment)", 0x4C0 - 0x20 - REPORT_LEN)
            .map_err(|e| hcl(e.to_string()))?;
        let mut field = |name| r.u32_le(name).map_err(|e| hcl(e.to_string()));
        let _data_size = field("runtime data size")?;
        let _version = field("runtime data version")?;
        let report_type = field("report type")?;
        let hash_type = field("hash type")?;
        let var_len = field("variable data size")? as usize;
        if report_type != 2 {
            return Err(hcl(format!(
                "report type at 0x4C8 is {report_type}; only 2 (SEV-SNP) is supported"
            )));
        }
        let var_data = r
            .bytes("variable data", var_len)
            .map_err(|e| hcl(e.to_string()))?;
        Ok(HclReport {
            report,
            hash_type,
            var_data,
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
        let (head, tail) = report_data.split_at(digest.len());
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
