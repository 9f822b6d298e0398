//! `/dev/sev-guest`, for kernels without configfs-tsm: the
//! `SNP_GET_EXT_REPORT` ioctl (the report and the host's certificate
//! table), falling back to `SNP_GET_REPORT` when the hypervisor does not
//! support extended requests. Firmware errors are named as the SEV-SNP
//! Firmware ABI Specification (AMD 56860, "Status Codes") names them.

use std::path::{Path, PathBuf};

use crate::attester::{check_evidence, Attester, Evidence, EvidenceError, Tee, SNP_REPORT_LEN};
use crate::ioctl::{
    address_of, ioctl, SnpExtReportReq, SnpGuestRequest, SnpReportReq, SnpReportResp,
    SNP_GET_EXT_REPORT, SNP_GET_REPORT,
};

/// The default device.
pub const DEFAULT_DEVICE: &str = "/dev/sev-guest";

/// The certificate buffer: the kernel's maximum (SEV_FW_BLOB_MAX_SIZE,
/// 16 KiB), a multiple of the page size as it requires.
const CERTS_LEN: usize = 16 * 1024;

/// The firmware's status code names (SEV-SNP ABI, Table "Status Codes";
/// MSG_REPORT_RSP's own status uses 0x16 and 0x27 of the same table).
pub fn firmware_status_name(code: u32) -> &'static str {
    match code {
        0x00 => "SUCCESS",
        0x01 => "INVALID_PLATFORM_STATE",
        0x02 => "INVALID_GUEST_STATE",
        0x03 => "INVALID_CONFIG",
        0x04 => "INVALID_LENGTH",
        0x05 => "ALREADY_OWNED",
        0x06 => "INVALID_CERTIFICATE",
        0x07 => "POLICY_FAILURE",
        0x08 => "INACTIVE",
        0x09 => "INVALID_ADDRESS",
        0x0A => "BAD_SIGNATURE",
        0x0B => "BAD_MEASUREMENT",
        0x0C => "ASID_OWNED",
        0x0D => "INVALID_ASID",
        0x0E => "WBINVD_REQUIRED",
        0x0F => "DFFLUSH_REQUIRED",
        0x10 => "INVALID_GUEST",
        0x11 => "INVALID_COMMAND",
        0x12 => "ACTIVE",
        0x13 => "HWERROR_PLATFORM",
        0x14 => "HWERROR_UNSAFE",
        0x15 => "UNSUPPORTED",
        0x16 => "INVALID_PARAM",
        0x17 => "RESOURCE_LIMIT",
        0x18 => "SECURE_DATA_INVALID",
        0x19 => "INVALID_PAGE_SIZE",
        0x1A => "INVALID_PAGE_STATE",
        0x1B => "INVALID_MDATA_ENTRY",
        0x1C => "INVALID_PAGE_OWNER",
        0x1D => "AEAD_OFLOW",
        0x1F => "RMP_INIT_REQUIRED",
        0x20 => "BAD_SVN",
        0x21 => "BAD_VERSION",
        0x22 => "SHUTDOWN_REQUIRED",
        0x23 => "UPDATE_FAILED",
        0x24 => "RESTORE_REQUIRED",
        0x25 => "RMP_INITIALIZATION_FAILED",
        0x26 => "INVALID_KEY",
        0x27 => "INVALID_KEY_SELECTION",
        _ => "an unknown status",
    }
}

/// The hypervisor's error codes in the high half of `exitinfo2`
/// (`<uapi/linux/sev-guest.h>`).
pub fn vmm_error_name(code: u32) -> Option<&'static str> {
    match code {
        0 => None,
        1 => Some("refused the certificate buffer's length (SNP_GUEST_VMM_ERR_INVALID_LEN)"),
        2 => Some("is busy (SNP_GUEST_VMM_ERR_BUSY)"),
        _ => Some("answered an unknown error"),
    }
}

/// The `/dev/sev-guest` attester.
#[derive(Debug, Clone)]
pub struct SevDeviceAttester {
    device: PathBuf,
    vmpl: u32,
}

impl SevDeviceAttester {
    /// Uses `device` (normally [`DEFAULT_DEVICE`]); fails when it cannot be
    /// opened.
    pub fn open(device: &Path) -> Result<SevDeviceAttester, EvidenceError> {
        crate::attester::open_device(device)?;
        Ok(SevDeviceAttester {
            device: device.to_path_buf(),
            vmpl: 0,
        })
    }

    /// Asks for reports at this VMPL (default 0).
    pub fn with_vmpl(mut self, vmpl: Option<u32>) -> SevDeviceAttester {
        self.vmpl = vmpl.unwrap_or(0);
        self
    }

    fn firmware_error(&self, exitinfo2: u64) -> EvidenceError {
        let fw = u32::try_from(exitinfo2 & 0xFFFF_FFFF).unwrap_or(u32::MAX);
        let vmm = u32::try_from(exitinfo2 >> 32).unwrap_or(u32::MAX);
        EvidenceError::Firmware {
            device: self.device.display().to_string(),
            code: fw,
            name: firmware_status_name(fw),
            vmm: vmm_error_name(vmm),
        }
    }
}

/// Takes the report out of a MSG_REPORT_RSP (SEV-SNP ABI, Table
/// "MSG_REPORT_RSP Message Structure"): status (u32) at 0, REPORT_SIZE
/// (u32) at 4, the report at 0x20.
fn report_from_response(device: &str, resp: &[u8]) -> Result<Vec<u8>, EvidenceError> {
    let word = |at: usize| {
        resp.get(at..at + 4)
            .and_then(|b| b.try_into().ok())
            .map(u32::from_le_bytes)
            .unwrap_or(u32::MAX)
    };
    let status = word(0);
    if status != 0 {
        return Err(EvidenceError::Firmware {
            device: device.to_string(),
            code: status,
            name: firmware_status_name(status),
            vmm: None,
        });
    }
    let size = usize::try_from(word(4)).unwrap_or(usize::MAX);
    if size != SNP_REPORT_LEN {
        return Err(EvidenceError::Interface {
            interface: device.to_string(),
            problem: format!("MSG_REPORT_RSP says REPORT_SIZE {size}; expected {SNP_REPORT_LEN}"),
        });
    }
    resp.get(0x20..0x20 + size)
        .map(<[u8]>::to_vec)
        .ok_or_else(|| EvidenceError::Interface {
            interface: device.to_string(),
            problem: "MSG_REPORT_RSP shorter than its report".into(),
        })
}

impl Attester for SevDeviceAttester {
    fn tee(&self) -> Tee {
        Tee::Snp
    }

    fn interface(&self) -> String {
        self.device.display().to_string()
    }

    fn evidence(&self, report_data: &[u8; 64]) -> Result<Evidence, EvidenceError> {
        let file = crate::attester::open_device(&self.device)?;
        let device = self.interface();
        let mut resp = SnpReportResp { data: [0; 4000] };
        let mut certs = vec![0u8; CERTS_LEN];
        let mut ext = SnpExtReportReq {
            data: SnpReportReq {
                user_data: *report_data,
                vmpl: self.vmpl,
                rsvd: [0; 28],
            },
            certs_address: 0,
            certs_len: u32::try_from(CERTS_LEN).unwrap_or(0),
        };
        ext.certs_address = address_of(&mut *certs);
        let mut req = SnpGuestRequest {
            msg_version: 1,
            req_data: address_of(&mut ext),
            resp_data: address_of(&mut resp),
            exitinfo2: 0,
        };
        let cert_table = match ioctl(&file, SNP_GET_EXT_REPORT, &mut req) {
            Ok(()) => {
                let used = usize::try_from(ext.certs_len).unwrap_or(0).min(certs.len());
                certs.truncate(used);
                Some(certs).filter(|c| c.iter().any(|&b| b != 0))
            }
            // A hypervisor without extended requests: the plain report,
            // and the server finds the certificates itself.
            Err(e) if e.raw_os_error() == Some(libc::ENOTTY) || req.exitinfo2 == 0 => {
                let mut plain = SnpReportReq {
                    user_data: *report_data,
                    vmpl: self.vmpl,
                    rsvd: [0; 28],
                };
                let mut req = SnpGuestRequest {
                    msg_version: 1,
                    req_data: address_of(&mut plain),
                    resp_data: address_of(&mut resp),
                    exitinfo2: 0,
                };
                ioctl(&file, SNP_GET_REPORT, &mut req).map_err(|source| {
                    if req.exitinfo2 != 0 {
                        self.firmware_error(req.exitinfo2)
                    } else {
                        EvidenceError::Io {
                            path: device.clone(),
                            what: "SNP_GET_REPORT",
                            source,
                        }
                    }
                })?;
                None
            }
            Err(_) => return Err(self.firmware_error(req.exitinfo2)),
        };
        let report = report_from_response(&device, &resp.data)?;
        check_evidence(Tee::Snp, &device, &report, report_data)?;
        Ok(Evidence {
            tee: Tee::Snp,
            interface: device,
            evidence: report,
            cert_table,
            event_log: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn firmware_errors_are_named() {
        assert_eq!(firmware_status_name(0x16), "INVALID_PARAM");
        assert_eq!(firmware_status_name(0x27), "INVALID_KEY_SELECTION");
        assert_eq!(firmware_status_name(0x99), "an unknown status");
        let e = SevDeviceAttester {
            device: "/dev/sev-guest".into(),
            vmpl: 0,
        }
        .firmware_error(0x0000_0001_0000_0016);
        let text = e.to_string();
        assert!(text.contains("INVALID_PARAM (0x16)"), "{text}");
        assert!(text.contains("SNP_GUEST_VMM_ERR_INVALID_LEN"), "{text}");
    }

    #[test]
    fn report_response_is_parsed_and_checked() {
        let mut resp = vec![0u8; 4000];
        resp[4..8].copy_from_slice(&0x4A0u32.to_le_bytes());
        resp[0x20] = 5;
        let r = report_from_response("d", &resp).unwrap();
        assert_eq!(r.len(), 0x4A0);
        assert_eq!(r[0], 5);
        resp[0..4].copy_from_slice(&0x16u32.to_le_bytes());
        assert!(matches!(
            report_from_response("d", &resp),
            Err(EvidenceError::Firmware { code: 0x16, .. })
        ));
        resp[0..4].copy_from_slice(&0u32.to_le_bytes());
        resp[4..8].copy_from_slice(&100u32.to_le_bytes());
        assert!(report_from_response("d", &resp).is_err());
    }
}
