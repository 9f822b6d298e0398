//! Raw TDX quotes, v4 and v5, every field settable (Intel TDX DCAP
//! Quoting Library API, "Quote Format"; the TD 1.5 extended body is
//! `sgx_report2_body_v1_5_ex_t` of Intel's `sgx_quote_5.h`). All integers
//! little-endian.
//!
//! ```text
//! header (48)  version u16 | att. key type u16 | TEE type u32 | QE SVN u16 | PCE SVN u16 | QE vendor id 16 | user data 20
//! v5 only      body type u16 (2 = TD 1.0, 3 = TD 1.5, 4 = TD 1.5 extended) | body size u32
//! body         TD report: 584 bytes (TD 1.0), 648 (TD 1.5) or 885 (TD 1.5 extended:
//!              the TD 1.5 body, VMID 1 | TD_ID 32 | DEV_INFO 48 | INIT_SERVTD_HASH 48 |
//!              INIT_SERVTD_ATTR 8 | INIT_CPUSVN 16 | INIT_TEE_TCB_SVN 16 | INIT_TEE_FMSPC 12 |
//!              CUR_SERVTD_HASH 48 | CUR_SERVTD_ATTR 8)
//! u32          signature data length
//! sig. data    quote signature r‖s 64 | attestation key x‖y 64 | cert. data type u16 = 6 | size u32 |
//!              QE report 384 | QE report signature 64 | QE auth data size u16 + bytes |
//!              cert. data type u16 = 5 | size u32 | PEM chain (PCK leaf, PCK CA, root)
//! ```
//!
//! The quote signature (attestation key) covers header ‖ [v5 descriptor] ‖
//! body; the QE report signature (PCK key) covers the 384-byte QE report,
//! whose REPORTDATA is SHA-256(attestation key ‖ QE auth data) ‖ 0^32.

use super::pki::P256Key;
use crate::keys::sha256;

/// Length of the quote header.
pub const HEADER_LEN: usize = 48;
/// Length of a TD 1.0 report body.
pub const TD10_BODY_LEN: usize = 584;
/// Length of a TD 1.5 report body.
pub const TD15_BODY_LEN: usize = 648;
/// Length of a TD 1.5 extended report body (v5 body type 4).
pub const TD15EX_BODY_LEN: usize = 885;
/// Length of the SGX report body (the QE report).
pub const QE_REPORT_LEN: usize = 384;
/// Intel's QE vendor id.
pub const INTEL_QE_VENDOR_ID: [u8; 16] = [
    0x93, 0x9a, 0x72, 0x33, 0xf7, 0x9c, 0x4c, 0xa9, 0x94, 0x0a, 0x0d, 0xb3, 0x95, 0x7f, 0x06, 0x07,
];
/// Attestation key type ECDSA-256 with P-256.
pub const ATT_KEY_ECDSA_P256: u16 = 2;
/// TEE type TDX.
pub const TEE_TYPE_TDX: u32 = 0x81;
/// v5 body type of a TD 1.0 report.
pub const BODY_TD10: u16 = 2;
/// v5 body type of a TD 1.5 report.
pub const BODY_TD15: u16 = 3;
/// v5 body type of a TD 1.5 extended report.
pub const BODY_TD15EX: u16 = 4;
/// Certification data type: QE report certification data.
pub const CERT_DATA_QE_REPORT: u16 = 6;
/// Certification data type: PCK certificate chain (PEM).
pub const CERT_DATA_PCK_CHAIN: u16 = 5;

/// Offsets of the TD report body fields, relative to the body.
pub mod td_offset {
    /// TEE_TCB_SVN (16).
    pub const TEE_TCB_SVN: usize = 0;
    /// MRSEAM (48).
    pub const MRSEAM: usize = 16;
    /// MRSIGNERSEAM (48).
    pub const MRSIGNERSEAM: usize = 64;
    /// SEAMATTRIBUTES (8).
    pub const SEAM_ATTRIBUTES: usize = 112;
    /// TDATTRIBUTES (8).
    pub const TD_ATTRIBUTES: usize = 120;
    /// XFAM (8).
    pub const XFAM: usize = 128;
    /// MRTD (48).
    pub const MRTD: usize = 136;
    /// MRCONFIGID (48).
    pub const MRCONFIGID: usize = 184;
    /// MROWNER (48).
    pub const MROWNER: usize = 232;
    /// MROWNERCONFIG (48).
    pub const MROWNERCONFIG: usize = 280;
    /// RTMR0 (4 × 48).
    pub const RTMR0: usize = 328;
    /// REPORTDATA (64).
    pub const REPORT_DATA: usize = 520;
    /// TEE_TCB_SVN2 (16, TD 1.5).
    pub const TEE_TCB_SVN2: usize = 584;
    /// MRSERVICETD (48, TD 1.5).
    pub const MRSERVICETD: usize = 600;
    /// VMID (u8, TD 1.5 extended).
    pub const VMID: usize = 648;
    /// TD_ID (32, TD 1.5 extended).
    pub const TD_ID: usize = 649;
    /// DEV_INFO (48, TD 1.5 extended).
    pub const DEV_INFO: usize = 681;
    /// INIT_SERVTD_HASH (48, TD 1.5 extended).
    pub const INIT_SERVTD_HASH: usize = 729;
    /// INIT_SERVTD_ATTR (8, TD 1.5 extended).
    pub const INIT_SERVTD_ATTR: usize = 777;
    /// INIT_CPUSVN (16, TD 1.5 extended).
    pub const INIT_CPUSVN: usize = 785;
    /// INIT_TEE_TCB_SVN (16, TD 1.5 extended).
    pub const INIT_TEE_TCB_SVN: usize = 801;
    /// INIT_TEE_FMSPC (12, TD 1.5 extended).
    pub const INIT_TEE_FMSPC: usize = 817;
    /// CUR_SERVTD_HASH (48, TD 1.5 extended).
    pub const CUR_SERVTD_HASH: usize = 829;
    /// CUR_SERVTD_ATTR (8, TD 1.5 extended).
    pub const CUR_SERVTD_ATTR: usize = 877;

    /// The TD 1.5 extended fields: name (as in `sgx_quote_5.h`), offset
    /// in the body, length.
    pub const TD15EX_FIELDS: [(&str, usize, usize); 10] = [
        ("VMID", VMID, 1),
        ("TD_ID", TD_ID, 32),
        ("DEV_INFO", DEV_INFO, 48),
        ("INIT_SERVTD_HASH", INIT_SERVTD_HASH, 48),
        ("INIT_SERVTD_ATTR", INIT_SERVTD_ATTR, 8),
        ("INIT_CPUSVN", INIT_CPUSVN, 16),
        ("INIT_TEE_TCB_SVN", INIT_TEE_TCB_SVN, 16),
        ("INIT_TEE_FMSPC", INIT_TEE_FMSPC, 12),
        ("CUR_SERVTD_HASH", CUR_SERVTD_HASH, 48),
        ("CUR_SERVTD_ATTR", CUR_SERVTD_ATTR, 8),
    ];
}

/// Offsets of the QE report (SGX report body) fields.
pub mod qe_offset {
    /// CPUSVN (16).
    pub const CPUSVN: usize = 0;
    /// MISCSELECT (u32).
    pub const MISCSELECT: usize = 16;
    /// ATTRIBUTES (16).
    pub const ATTRIBUTES: usize = 48;
    /// MRENCLAVE (32).
    pub const MRENCLAVE: usize = 64;
    /// MRSIGNER (32).
    pub const MRSIGNER: usize = 128;
    /// ISVPRODID (u16).
    pub const ISVPRODID: usize = 256;
    /// ISVSVN (u16).
    pub const ISVSVN: usize = 258;
    /// REPORTDATA (64).
    pub const REPORT_DATA: usize = 320;
}

/// The TD report body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TdReport {
    /// TEE_TCB_SVN.
    pub tee_tcb_svn: [u8; 16],
    /// MRSEAM.
    pub mrseam: [u8; 48],
    /// MRSIGNERSEAM (zero for Intel's TDX module).
    pub mrsignerseam: [u8; 48],
    /// SEAMATTRIBUTES.
    pub seam_attributes: [u8; 8],
    /// TDATTRIBUTES.
    pub td_attributes: [u8; 8],
    /// XFAM.
    pub xfam: [u8; 8],
    /// MRTD.
    pub mrtd: [u8; 48],
    /// MRCONFIGID.
    pub mrconfigid: [u8; 48],
    /// MROWNER.
    pub mrowner: [u8; 48],
    /// MROWNERCONFIG.
    pub mrownerconfig: [u8; 48],
    /// RTMR0..3.
    pub rtmr: [[u8; 48]; 4],
    /// REPORTDATA.
    pub report_data: [u8; 64],
    /// TEE_TCB_SVN2 and MRSERVICETD: `Some` makes a TD 1.5 body.
    pub td15: Option<([u8; 16], [u8; 48])>,
    /// The TD 1.5 extended fields: `Some` (with `td15`) makes a TD 1.5
    /// extended body.
    pub td15ex: Option<Td15ExFields>,
}

/// The fields a TD 1.5 extended body (v5 body type 4) adds after the TD 1.5
/// body, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Td15ExFields {
    /// VMID: 0 = an unpartitioned TD or the L1 VMM, 1–3 = a TD VM.
    pub vmid: u8,
    /// TD_ID.
    pub td_id: [u8; 32],
    /// DEV_INFO (hash of the device information).
    pub dev_info: [u8; 48],
    /// INIT_SERVTD_HASH.
    pub init_servtd_hash: [u8; 48],
    /// INIT_SERVTD_ATTR.
    pub init_servtd_attr: [u8; 8],
    /// INIT_CPUSVN.
    pub init_cpusvn: [u8; 16],
    /// INIT_TEE_TCB_SVN.
    pub init_tee_tcb_svn: [u8; 16],
    /// INIT_TEE_FMSPC (12 bytes).
    pub init_tee_fmspc: [u8; 12],
    /// CUR_SERVTD_HASH.
    pub cur_servtd_hash: [u8; 48],
    /// CUR_SERVTD_ATTR.
    pub cur_servtd_attr: [u8; 8],
}

impl Td15ExFields {
    /// The 237 bytes that follow the TD 1.5 body.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut b = Vec::with_capacity(TD15EX_BODY_LEN - TD15_BODY_LEN);
        b.push(self.vmid);
        b.extend_from_slice(&self.td_id);
        b.extend_from_slice(&self.dev_info);
        b.extend_from_slice(&self.init_servtd_hash);
        b.extend_from_slice(&self.init_servtd_attr);
        b.extend_from_slice(&self.init_cpusvn);
        b.extend_from_slice(&self.init_tee_tcb_svn);
        b.extend_from_slice(&self.init_tee_fmspc);
        b.extend_from_slice(&self.cur_servtd_hash);
        b.extend_from_slice(&self.cur_servtd_attr);
        b
    }
}

impl TdReport {
    /// The natural v5 body type: 4 with the extended fields, 3 with the
    /// TD 1.5 fields, else 2.
    pub fn body_type(&self) -> u16 {
        match (&self.td15, &self.td15ex) {
            (Some(_), Some(_)) => BODY_TD15EX,
            (Some(_), None) => BODY_TD15,
            (None, _) => BODY_TD10,
        }
    }

    /// The body bytes (584, 648 or 885).
    ///
    /// # Panics
    /// When the extended fields are set without the TD 1.5 ones.
    pub fn to_bytes(&self) -> Vec<u8> {
        assert!(
            self.td15ex.is_none() || self.td15.is_some(),
            "a TD 1.5 extended body needs TEE_TCB_SVN2 and MRSERVICETD"
        );
        let mut b = Vec::with_capacity(TD15EX_BODY_LEN);
        b.extend_from_slice(&self.tee_tcb_svn);
        b.extend_from_slice(&self.mrseam);
        b.extend_from_slice(&self.mrsignerseam);
        b.extend_from_slice(&self.seam_attributes);
        b.extend_from_slice(&self.td_attributes);
        b.extend_from_slice(&self.xfam);
        b.extend_from_slice(&self.mrtd);
        b.extend_from_slice(&self.mrconfigid);
        b.extend_from_slice(&self.mrowner);
        b.extend_from_slice(&self.mrownerconfig);
        for r in &self.rtmr {
            b.extend_from_slice(r);
        }
        b.extend_from_slice(&self.report_data);
        if let Some((svn2, service_td)) = &self.td15 {
            b.extend_from_slice(svn2);
            b.extend_from_slice(service_td);
        }
        if let Some(ex) = &self.td15ex {
            b.extend_from_slice(&ex.to_bytes());
        }
        b
    }
}

/// The QE report (an SGX report body).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QeReport {
    /// CPUSVN.
    pub cpusvn: [u8; 16],
    /// MISCSELECT.
    pub miscselect: u32,
    /// ATTRIBUTES.
    pub attributes: [u8; 16],
    /// MRENCLAVE.
    pub mrenclave: [u8; 32],
    /// MRSIGNER.
    pub mrsigner: [u8; 32],
    /// ISVPRODID.
    pub isvprodid: u16,
    /// ISVSVN.
    pub isvsvn: u16,
}

impl QeReport {
    /// The 384 bytes with the given REPORTDATA.
    pub fn to_bytes(&self, report_data: &[u8; 64]) -> [u8; QE_REPORT_LEN] {
        let mut b = [0u8; QE_REPORT_LEN];
        b[qe_offset::CPUSVN..][..16].copy_from_slice(&self.cpusvn);
        b[qe_offset::MISCSELECT..][..4].copy_from_slice(&self.miscselect.to_le_bytes());
        b[qe_offset::ATTRIBUTES..][..16].copy_from_slice(&self.attributes);
        b[qe_offset::MRENCLAVE..][..32].copy_from_slice(&self.mrenclave);
        b[qe_offset::MRSIGNER..][..32].copy_from_slice(&self.mrsigner);
        b[qe_offset::ISVPRODID..][..2].copy_from_slice(&self.isvprodid.to_le_bytes());
        b[qe_offset::ISVSVN..][..2].copy_from_slice(&self.isvsvn.to_le_bytes());
        b[qe_offset::REPORT_DATA..][..64].copy_from_slice(report_data);
        b
    }
}

/// QE REPORTDATA binding an attestation key: SHA-256(key ‖ auth data) ‖ 0^32.
pub fn qe_report_data(attestation_key: &[u8; 64], auth_data: &[u8]) -> [u8; 64] {
    let mut msg = attestation_key.to_vec();
    msg.extend_from_slice(auth_data);
    let mut out = [0u8; 64];
    out[..32].copy_from_slice(&sha256(&msg));
    out
}

/// Everything in a quote.
#[derive(Debug, Clone)]
pub struct QuoteSpec {
    /// Header version (4 or 5).
    pub version: u16,
    /// Attestation key type.
    pub att_key_type: u16,
    /// TEE type.
    pub tee_type: u32,
    /// Header reserved word 1 (QE SVN).
    pub qe_svn: u16,
    /// Header reserved word 2 (PCE SVN).
    pub pce_svn: u16,
    /// QE vendor id.
    pub qe_vendor_id: [u8; 16],
    /// User data.
    pub user_data: [u8; 20],
    /// v5 body type; `None` uses the body's own (2, 3 or 4).
    pub body_type: Option<u16>,
    /// v5 body size; `None` uses the body's length.
    pub body_size: Option<u32>,
    /// The TD report.
    pub td: TdReport,
    /// The QE report (REPORTDATA is computed).
    pub qe: QeReport,
    /// QE auth data.
    pub qe_auth_data: Vec<u8>,
    /// The key the QE report binds; `None`: the attestation key.
    pub qe_bound_key: Option<[u8; 64]>,
    /// The PEM chain in certification data type 5 (with any NUL padding).
    pub pck_chain: Vec<u8>,
    /// Zero bytes appended after the signature data.
    pub padding: usize,
}

/// Where the parts of a built quote are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuoteLayout {
    /// Start of the body.
    pub body: usize,
    /// Start of the signature data (after its u32 length).
    pub sig_data: usize,
    /// Start of the attestation key.
    pub att_key: usize,
    /// Start of the QE report.
    pub qe_report: usize,
    /// Start of the QE auth data bytes (after their u16 length).
    pub qe_auth_data: usize,
    /// End of the signature data (before padding).
    pub end: usize,
}

impl QuoteSpec {
    /// The quote signed by `att_key`, its QE report by `pck_key`.
    pub fn build(&self, att_key: &P256Key, pck_key: &P256Key) -> (Vec<u8>, QuoteLayout) {
        let body = self.td.to_bytes();
        let mut q = Vec::with_capacity(6000);
        q.extend_from_slice(&self.version.to_le_bytes());
        q.extend_from_slice(&self.att_key_type.to_le_bytes());
        q.extend_from_slice(&self.tee_type.to_le_bytes());
        q.extend_from_slice(&self.qe_svn.to_le_bytes());
        q.extend_from_slice(&self.pce_svn.to_le_bytes());
        q.extend_from_slice(&self.qe_vendor_id);
        q.extend_from_slice(&self.user_data);
        if self.version >= 5 {
            let natural = self.td.body_type();
            q.extend_from_slice(&self.body_type.unwrap_or(natural).to_le_bytes());
            let size = self.body_size.unwrap_or(body.len() as u32);
            q.extend_from_slice(&size.to_le_bytes());
        }
        let body_at = q.len();
        q.extend_from_slice(&body);
        let signature = att_key.sign_raw(&q);
        let att_pub = att_key.public_xy();

        let bound = self.qe_bound_key.unwrap_or(att_pub);
        let qe_report = self
            .qe
            .to_bytes(&qe_report_data(&bound, &self.qe_auth_data));
        let qe_sig = pck_key.sign_raw(&qe_report);

        let mut cert_data = Vec::new();
        cert_data.extend_from_slice(&qe_report);
        cert_data.extend_from_slice(&qe_sig);
        cert_data.extend_from_slice(&(self.qe_auth_data.len() as u16).to_le_bytes());
        cert_data.extend_from_slice(&self.qe_auth_data);
        cert_data.extend_from_slice(&CERT_DATA_PCK_CHAIN.to_le_bytes());
        cert_data.extend_from_slice(&(self.pck_chain.len() as u32).to_le_bytes());
        cert_data.extend_from_slice(&self.pck_chain);

        let mut sig_data = Vec::new();
        sig_data.extend_from_slice(&signature);
        sig_data.extend_from_slice(&att_pub);
        sig_data.extend_from_slice(&CERT_DATA_QE_REPORT.to_le_bytes());
        sig_data.extend_from_slice(&(cert_data.len() as u32).to_le_bytes());
        sig_data.extend_from_slice(&cert_data);

        q.extend_from_slice(&(sig_data.len() as u32).to_le_bytes());
        let sig_at = q.len();
        q.extend_from_slice(&sig_data);
        let end = q.len();
        q.resize(end + self.padding, 0);
        let qe_report_at = sig_at + 64 + 64 + 6;
        let layout = QuoteLayout {
            body: body_at,
            sig_data: sig_at,
            att_key: sig_at + 64,
            qe_report: qe_report_at,
            qe_auth_data: qe_report_at + QE_REPORT_LEN + 64 + 2,
            end,
        };
        (q, layout)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_offsets_add_up() {
        assert_eq!(td_offset::RTMR0 + 4 * 48, td_offset::REPORT_DATA);
        assert_eq!(td_offset::REPORT_DATA + 64, TD10_BODY_LEN);
        assert_eq!(td_offset::MRSERVICETD + 48, TD15_BODY_LEN);
        assert_eq!(qe_offset::REPORT_DATA + 64, QE_REPORT_LEN);
        // The extended fields follow the TD 1.5 body back to back and end
        // the 885-byte body.
        let mut at = TD15_BODY_LEN;
        for (name, offset, len) in td_offset::TD15EX_FIELDS {
            assert_eq!(offset, at, "{name}");
            at += len;
        }
        assert_eq!(at, TD15EX_BODY_LEN);
        assert_eq!(td_offset::CUR_SERVTD_ATTR + 8, TD15EX_BODY_LEN);
        // The offsets Intel's sgx_quote_5.h gives (and the brief of the
        // format): VMID 648, TD_ID 649, DEV_INFO 681, INIT_SERVTD_HASH 729,
        // INIT_SERVTD_ATTR 777, INIT_CPUSVN 785, INIT_TEE_TCB_SVN 801,
        // INIT_TEE_FMSPC 817, CUR_SERVTD_HASH 829, CUR_SERVTD_ATTR 877.
        let offsets: Vec<usize> = td_offset::TD15EX_FIELDS.iter().map(|f| f.1).collect();
        assert_eq!(offsets, [648, 649, 681, 729, 777, 785, 801, 817, 829, 877]);
    }

    fn report(td15: bool, ex: Option<Td15ExFields>) -> TdReport {
        TdReport {
            tee_tcb_svn: [1; 16],
            mrseam: [2; 48],
            mrsignerseam: [0; 48],
            seam_attributes: [0; 8],
            td_attributes: [0; 8],
            xfam: [3; 8],
            mrtd: [4; 48],
            mrconfigid: [5; 48],
            mrowner: [6; 48],
            mrownerconfig: [7; 48],
            rtmr: [[8; 48]; 4],
            report_data: [9; 64],
            td15: td15.then_some(([0x0a; 16], [0x0b; 48])),
            td15ex: ex,
        }
    }

    fn ext() -> Td15ExFields {
        Td15ExFields {
            vmid: 0x21,
            td_id: [0x22; 32],
            dev_info: [0x23; 48],
            init_servtd_hash: [0x24; 48],
            init_servtd_attr: [0x25; 8],
            init_cpusvn: [0x26; 16],
            init_tee_tcb_svn: [0x27; 16],
            init_tee_fmspc: [0x28; 12],
            cur_servtd_hash: [0x29; 48],
            cur_servtd_attr: [0x2a; 8],
        }
    }

    #[test]
    fn extended_body_puts_every_field_at_its_offset() {
        let b = report(true, Some(ext())).to_bytes();
        assert_eq!(b.len(), TD15EX_BODY_LEN);
        // The TD 1.5 body comes first, unchanged.
        assert_eq!(
            &b[..TD15_BODY_LEN],
            report(true, None).to_bytes().as_slice()
        );
        for (i, (name, offset, len)) in td_offset::TD15EX_FIELDS.into_iter().enumerate() {
            let want = 0x21 + u8::try_from(i).unwrap();
            assert!(
                b[offset..offset + len].iter().all(|x| *x == want),
                "{name} at {offset}"
            );
        }
        assert_eq!(report(true, Some(ext())).body_type(), BODY_TD15EX);
        assert_eq!(report(true, None).body_type(), BODY_TD15);
        assert_eq!(report(false, None).body_type(), BODY_TD10);
        assert_eq!(report(false, None).to_bytes().len(), TD10_BODY_LEN);
    }

    #[test]
    #[should_panic(expected = "needs TEE_TCB_SVN2")]
    fn extended_fields_need_the_td15_fields() {
        let _ = report(false, Some(ext())).to_bytes();
    }

    #[test]
    fn v5_descriptor_names_the_extended_body() {
        let key = P256Key::derive("tdx/quote test");
        let spec = QuoteSpec {
            version: 5,
            att_key_type: ATT_KEY_ECDSA_P256,
            tee_type: TEE_TYPE_TDX,
            qe_svn: 0,
            pce_svn: 0,
            qe_vendor_id: INTEL_QE_VENDOR_ID,
            user_data: [0; 20],
            body_type: None,
            body_size: None,
            td: report(true, Some(ext())),
            qe: QeReport {
                cpusvn: [0; 16],
                miscselect: 0,
                attributes: [0; 16],
                mrenclave: [0; 32],
                mrsigner: [0; 32],
                isvprodid: 2,
                isvsvn: 1,
            },
            qe_auth_data: Vec::new(),
            qe_bound_key: None,
            pck_chain: b"x\0".to_vec(),
            padding: 0,
        };
        let (q, layout) = spec.build(&key, &key);
        assert_eq!(&q[48..50], &BODY_TD15EX.to_le_bytes());
        assert_eq!(&q[50..54], &885u32.to_le_bytes());
        assert_eq!(layout.body, HEADER_LEN + 6);
        assert_eq!(q[layout.body + td_offset::VMID], 0x21);
        assert_eq!(
            &q[layout.body + TD15EX_BODY_LEN..][..4],
            &u32::try_from(layout.end - layout.sig_data)
                .unwrap()
                .to_le_bytes()
        );
    }
}
