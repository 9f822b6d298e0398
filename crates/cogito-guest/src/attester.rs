//! Evidence collection: one trait, one result type, and the sanity checks
//! every interface's output goes through before it leaves the guest.

use cogito_protocol::TeeName;

/// A platform.
pub type Tee = TeeName;

/// What a TEE produced for one request.
#[derive(Clone, PartialEq, Eq)]
pub struct Evidence {
    /// The platform.
    pub tee: Tee,
    /// The interface that produced it, for people (`configfs-tsm
    /// (sev_guest)`, `/dev/sev-guest`, …).
    pub interface: String,
    /// The evidence: an SEV-SNP report, a TDX quote or a CCA token.
    pub evidence: Vec<u8>,
    /// SEV-SNP: the host's certificate table (configfs-tsm `auxblob`, the
    /// extended report's certificates), when the host provides one.
    pub cert_table: Option<Vec<u8>>,
    /// TDX: the CC event log (the ACPI CCEL table's data), when readable.
    pub event_log: Option<Vec<u8>>,
}

impl std::fmt::Debug for Evidence {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Evidence")
            .field("tee", &self.tee)
            .field("interface", &self.interface)
            .field("evidence_len", &self.evidence.len())
            .field("cert_table_len", &self.cert_table.as_ref().map(Vec::len))
            .field("event_log_len", &self.event_log.as_ref().map(Vec::len))
            .finish()
    }
}

/// Why no evidence came back.
#[derive(Debug, thiserror::Error)]
pub enum EvidenceError {
    /// No TEE interface was found; names every place looked at.
    #[error("no TEE found; looked at: {}", .looked.join("; "))]
    NoTee {
        /// Each place, with why it was not used.
        looked: Vec<String>,
    },
    /// A file or device of the interface could not be used.
    #[error("{path}: {what}: {source}")]
    Io {
        /// The path.
        path: String,
        /// What was being done.
        what: &'static str,
        /// The system's error.
        source: std::io::Error,
    },
    /// The interface answered something that is not what it should be.
    #[error("{interface}: {problem}")]
    Interface {
        /// The interface.
        interface: String,
        /// What was wrong.
        problem: String,
    },
    /// configfs-tsm's `generation` changed by more than our own writes: a
    /// concurrent writer used the same report directory (retried once).
    #[error("{path}: generation went from {before} to {after}, expected {expected}: another writer used this report directory")]
    ConcurrentWriter {
        /// The report directory.
        path: String,
        /// `generation` before our writes.
        before: u64,
        /// After reading `outblob`.
        after: u64,
        /// What our writes alone make it.
        expected: u64,
    },
    /// The SEV-SNP firmware refused the request.
    #[error("{device}: the SEV-SNP firmware answered {name} (0x{code:x}){}", vmm.map(|v| format!(", the hypervisor {v}")).unwrap_or_default())]
    Firmware {
        /// The device.
        device: String,
        /// The firmware status code.
        code: u32,
        /// Its name in the SEV-SNP ABI specification.
        name: &'static str,
        /// The hypervisor's error, when it gave one.
        vmm: Option<&'static str>,
    },
    /// TDX: the quote needs the host's Quote Generation Service.
    #[error("{interface}: the TD report was made, but the quote needs the host's Quote Generation Service at {address}, which is unreachable ({problem}). Is QGS running on the host, and does the VM have a vsock device? Or use configfs-tsm (Linux 6.7 and later), where the kernel asks the host")]
    QuoteServiceUnreachable {
        /// The interface.
        interface: String,
        /// The vsock address tried.
        address: String,
        /// What happened.
        problem: String,
    },
    /// The TEE's evidence does not carry the report data asked for.
    #[error(
        "{interface}: the evidence does not carry the report data that was asked for ({where_})"
    )]
    ReportDataMismatch {
        /// The interface.
        interface: String,
        /// Where it was looked for.
        where_: String,
    },
    /// A request the interface cannot serve (a VMPL below the floor, a
    /// platform it does not provide).
    #[error("{0}")]
    Unsupported(String),
}

/// Opens a guest device for reading and writing, naming it on failure.
pub(crate) fn open_device(device: &std::path::Path) -> Result<std::fs::File, EvidenceError> {
    std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(device)
        .map_err(|source| EvidenceError::Io {
            path: device.display().to_string(),
            what: "opening",
            source,
        })
}

/// A source of evidence.
pub trait Attester: Send + Sync {
    /// The platform.
    fn tee(&self) -> Tee;
    /// The interface, for people.
    fn interface(&self) -> String;
    /// Evidence over these 64 bytes of report data.
    fn evidence(&self, report_data: &[u8; 64]) -> Result<Evidence, EvidenceError>;
}

/// The size of an SEV-SNP attestation report (SEV-SNP ABI, Table 22).
pub const SNP_REPORT_LEN: usize = 0x4A0;
/// REPORT_DATA's offset in an SEV-SNP report (SEV-SNP ABI, Table 22).
const SNP_REPORT_DATA: usize = 0x50;
/// The TDX quote header's size (Intel TDX DCAP Quoting Library API, A.3).
const TDX_HEADER_LEN: usize = 48;
/// REPORTDATA's offset in a TD report body (ibid., A.3.2: 16 + 48·2 + 8·3
/// + 48·4 + 48·4).
const TDX_BODY_REPORT_DATA: usize = 520;

/// Checks that evidence from an interface has the shape of its platform's
/// and carries `report_data` where that platform puts it, so that a
/// broken interface, a racing writer or a short read fails here, on the
/// guest, with a message that says so, and not as a signature error on
/// the server.
pub fn check_evidence(
    tee: Tee,
    interface: &str,
    evidence: &[u8],
    report_data: &[u8; 64],
) -> Result<(), EvidenceError> {
    let bad = |problem: String| EvidenceError::Interface {
        interface: interface.to_string(),
        problem,
    };
    let mismatch = |where_: &str| EvidenceError::ReportDataMismatch {
        interface: interface.to_string(),
        where_: where_.to_string(),
    };
    match tee {
        TeeName::Snp => {
            if evidence.len() != SNP_REPORT_LEN {
                return Err(bad(format!(
                    "the report is {} bytes; an SEV-SNP attestation report is {SNP_REPORT_LEN}",
                    evidence.len()
                )));
            }
            if evidence.get(SNP_REPORT_DATA..SNP_REPORT_DATA + 64) != Some(report_data.as_slice()) {
                return Err(mismatch("REPORT_DATA at offset 0x50"));
            }
        }
        TeeName::Tdx => {
            let version = evidence
                .first_chunk::<2>()
                .map(|v| u16::from_le_bytes(*v))
                .ok_or_else(|| bad(format!("the quote is {} bytes", evidence.len())))?;
            // Version 5 puts a body type (u16) and size (u32) before the
            // body (A.4); version 4 starts the body after the header.
            let body = match version {
                4 => TDX_HEADER_LEN,
                5 => TDX_HEADER_LEN + 6,
                v => return Err(bad(format!("quote version {v}; expected 4 or 5"))),
            };
            let at = body + TDX_BODY_REPORT_DATA;
            match evidence.get(at..at + 64) {
                None => {
                    return Err(bad(format!(
                        "the quote is {} bytes, too short for a TD report body",
                        evidence.len()
                    )))
                }
                Some(rd) if rd != report_data.as_slice() => {
                    return Err(mismatch(&format!("REPORTDATA at offset {at}")))
                }
                Some(_) => {}
            }
        }
        TeeName::Cca => {
            // The realm challenge is a 64-byte CBOR byte string inside the
            // realm token (claim 10); without a CBOR parser in the guest,
            // the bytes must at least appear.
            if evidence.len() < 64 || !evidence.windows(64).any(|w| w == report_data) {
                return Err(mismatch("the realm challenge"));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snp_shape_and_binding() {
        let rd = [5u8; 64];
        let mut r = vec![0u8; SNP_REPORT_LEN];
        r[0x50..0x90].copy_from_slice(&rd);
        check_evidence(Tee::Snp, "t", &r, &rd).unwrap();
        assert!(matches!(
            check_evidence(Tee::Snp, "t", &r[..100], &rd),
            Err(EvidenceError::Interface { .. })
        ));
        r[0x50] ^= 1;
        assert!(matches!(
            check_evidence(Tee::Snp, "t", &r, &rd),
            Err(EvidenceError::ReportDataMismatch { .. })
        ));
    }

    #[test]
    fn tdx_v4_and_v5_offsets() {
        let rd = [9u8; 64];
        let mut q4 = vec![0u8; 1024];
        q4[0] = 4;
        q4[568..632].copy_from_slice(&rd);
        check_evidence(Tee::Tdx, "t", &q4, &rd).unwrap();
        let mut q5 = vec![0u8; 1024];
        q5[0] = 5;
        q5[574..638].copy_from_slice(&rd);
        check_evidence(Tee::Tdx, "t", &q5, &rd).unwrap();
        assert!(check_evidence(Tee::Tdx, "t", &q4[..600], &rd).is_err());
        q4[0] = 3;
        assert!(check_evidence(Tee::Tdx, "t", &q4, &rd).is_err());
    }

    #[test]
    fn cca_challenge_must_appear() {
        let rd = [3u8; 64];
        let mut t = vec![0u8; 200];
        assert!(check_evidence(Tee::Cca, "t", &t, &rd).is_err());
        t[70..134].copy_from_slice(&rd);
        check_evidence(Tee::Cca, "t", &t, &rd).unwrap();
    }
}
