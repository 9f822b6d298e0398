//! The TDX quote (Intel TDX DCAP Quoting Library API, "Quote Format"):
//! versions 4 and 5, ECDSA-256 attestation key, TD report bodies TD 1.0
//! (584 bytes), TD 1.5 (648 bytes) and TD 1.5 extended (v5 body type 4,
//! 885 bytes: the TD 1.5 body, then VMID, TD_ID, DEV_INFO and the initial
//! and current service-TD bindings; `sgx_report2_body_v1_5_ex_t` in Intel's
//! `sgx_quote_5.h`), and the ECDSA signature data with certification data
//! type 6 (QE report, QE report signature, QE authentication data, nested
//! type 5 PCK certificate chain).
//!
//! [`Quote::parse`] reads every field at its offset through
//! [`cogito_core::Reader`]; nothing here verifies a signature.

use cogito_core::{Reader, ReaderError};

use crate::error::TdxError;

/// Intel's QE vendor id (`939a7233-f79c-4ca9-940a-0db3957f0607`).
pub const INTEL_QE_VENDOR_ID: [u8; 16] = [
    0x93, 0x9a, 0x72, 0x33, 0xf7, 0x9c, 0x4c, 0xa9, 0x94, 0x0a, 0x0d, 0xb3, 0x95, 0x7f, 0x06, 0x07,
];
/// TEE type of TDX quotes.
pub const TEE_TYPE_TDX: u32 = 0x81;
/// Attestation key type ECDSA-256-with-P-256.
pub const ATT_KEY_ECDSA_P256: u16 = 2;
/// Header length.
pub const HEADER_LEN: usize = 48;
/// TD 1.0 report body length.
pub const TD10_LEN: usize = 584;
/// TD 1.5 report body length.
pub const TD15_LEN: usize = 648;
/// TD 1.5 extended report body length (v5 body type 4).
pub const TD15EX_LEN: usize = 885;

/// v5 body types (Intel `sgx_quote_5.h`; QVL `QuoteConstants.h`).
pub mod body_type {
    /// An SGX enclave report (not TDX evidence).
    pub const SGX: u16 = 1;
    /// TD 1.0.
    pub const TD10: u16 = 2;
    /// TD 1.5.
    pub const TD15: u16 = 3;
    /// TD 1.5 extended (TD partitioning, TD_ID).
    pub const TD15EX: u16 = 4;
}

/// The fields a TD 1.5 extended body (v5 body type 4) adds after the TD 1.5
/// body. Intel's QVL and dcap-qvl verify such a quote exactly like a TD 1.5
/// one: none of these fields enters the TCB status; they are signed claims
/// a policy may pin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Td15Ext {
    /// VMID: 0 for an unpartitioned TD or the L1 VMM, 1–3 for the TD VMs
    /// (L2 guests) of a partitioned TD.
    pub vmid: u8,
    /// TD_ID: statistically unique per TD instance; regenerated on
    /// relaunch, kept across TD-preserving updates and migration.
    pub td_id: [u8; 32],
    /// DEV_INFO: hash of the device information (TDX Connect).
    pub dev_info: [u8; 48],
    /// INIT_SERVTD_HASH: the initial service-TD binding hash (or the
    /// migration policy hash).
    pub init_service_td_hash: [u8; 48],
    /// INIT_SERVTD_ATTR.
    pub init_service_td_attributes: [u8; 8],
    /// INIT_CPUSVN: the CPUSVN the TD was created on.
    pub init_cpu_svn: [u8; 16],
    /// INIT_TEE_TCB_SVN: the TEE_TCB_SVN the TD was created on.
    pub init_tee_tcb_svn: [u8; 16],
    /// INIT_TEE_FMSPC: model information of the platform the TD was
    /// created on (12 bytes; not the PCK certificate's 6-byte FMSPC).
    pub init_tee_fmspc: [u8; 12],
    /// CUR_SERVTD_HASH: the current service-TD binding hash.
    pub cur_service_td_hash: [u8; 48],
    /// CUR_SERVTD_ATTR.
    pub cur_service_td_attributes: [u8; 8],
}
/// SGX report body length (the QE report).
pub const QE_REPORT_LEN: usize = 384;

/// The TD report body (TDX Module spec, TDREPORT / TDINFO; quote "TD Quote Body").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TdReport {
    /// TEE_TCB_SVN (offset 0 of the body).
    pub tee_tcb_svn: [u8; 16],
    /// MRSEAM.
    pub mr_seam: [u8; 48],
    /// MRSIGNERSEAM.
    pub mr_signer_seam: [u8; 48],
    /// SEAMATTRIBUTES.
    pub seam_attributes: [u8; 8],
    /// TDATTRIBUTES.
    pub td_attributes: [u8; 8],
    /// XFAM.
    pub xfam: [u8; 8],
    /// MRTD.
    pub mr_td: [u8; 48],
    /// MRCONFIGID.
    pub mr_config_id: [u8; 48],
    /// MROWNER.
    pub mr_owner: [u8; 48],
    /// MROWNERCONFIG.
    pub mr_owner_config: [u8; 48],
    /// RTMR0–3.
    pub rtmr: [[u8; 48]; 4],
    /// REPORTDATA.
    pub report_data: [u8; 64],
    /// TEE_TCB_SVN2 (TD 1.5).
    pub tee_tcb_svn2: Option<[u8; 16]>,
    /// MRSERVICETD (TD 1.5).
    pub mr_service_td: Option<[u8; 48]>,
    /// The TD 1.5 extended fields (v5 body type 4).
    pub ext: Option<Td15Ext>,
}

/// The QE's SGX report body (SGX SDM, REPORTBODY).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QeReport {
    /// CPUSVN.
    pub cpu_svn: [u8; 16],
    /// MISCSELECT.
    pub misc_select: u32,
    /// ATTRIBUTES.
    pub attributes: [u8; 16],
    /// MRENCLAVE.
    pub mr_enclave: [u8; 32],
    /// MRSIGNER.
    pub mr_signer: [u8; 32],
    /// ISVPRODID.
    pub isv_prod_id: u16,
    /// ISVSVN.
    pub isv_svn: u16,
    /// REPORTDATA.
    pub report_data: [u8; 64],
}

/// A parsed quote, borrowing the input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quote<'a> {
    /// Header VERSION: 4 or 5.
    pub version: u16,
    /// Attestation key type (2).
    pub att_key_type: u16,
    /// TEE type (0x81).
    pub tee_type: u32,
    /// Header QE SVN field (reserved in v4/v5 headers; reported as is).
    pub qe_svn: u16,
    /// Header PCE SVN field (reserved in v4/v5 headers; reported as is).
    pub pce_svn: u16,
    /// QE vendor id.
    pub qe_vendor_id: [u8; 16],
    /// User data (first 16 bytes: platform identifier chosen by the QE).
    pub user_data: [u8; 20],
    /// Body type: 2 = TD 1.0, 3 = TD 1.5, 4 = TD 1.5 extended (v4 quotes
    /// are always TD 1.0).
    pub body_type: u16,
    /// The TD report body.
    pub body: TdReport,
    /// The bytes the quote signature covers: header ‖ (v5 descriptor) ‖ body.
    pub signed: &'a [u8],
    /// ECDSA P-256 quote signature, `r ‖ s`.
    pub signature: [u8; 64],
    /// ECDSA P-256 attestation public key, `x ‖ y`.
    pub attestation_key: [u8; 64],
    /// The QE report, raw (what the PCK signs).
    pub qe_report_raw: &'a [u8],
    /// The QE report, parsed.
    pub qe_report: QeReport,
    /// The QE report signature by the PCK key, `r ‖ s`.
    pub qe_report_signature: [u8; 64],
    /// QE authentication data.
    pub qe_auth_data: &'a [u8],
    /// Certification data type of the nested certification data (5 = PCK chain).
    pub cert_data_type: u16,
    /// The nested certification data (the PEM PCK chain for type 5),
    /// without trailing NUL padding.
    pub cert_data: &'a [u8],
    /// Zero bytes after the signature data (tolerated padding).
    pub trailing_padding: usize,
}

fn bad(field: &'static str, offset: usize, found: String, expected: &'static str) -> TdxError {
    TdxError::BadField {
        field,
        offset,
        found,
        expected,
    }
}

fn parse_td_report(r: &mut Reader<'_>, body_type: u16) -> Result<TdReport, ReaderError> {
    let td15 = body_type >= body_type::TD15;
    let tee_tcb_svn = r.array("TEE_TCB_SVN")?;
    let mr_seam = r.array("MRSEAM")?;
    let mr_signer_seam = r.array("MRSIGNERSEAM")?;
    let seam_attributes = r.array("SEAMATTRIBUTES")?;
    let td_attributes = r.array("TDATTRIBUTES")?;
    let xfam = r.array("XFAM")?;
    let mr_td = r.array("MRTD")?;
    let mr_config_id = r.array("MRCONFIGID")?;
    let mr_owner = r.array("MROWNER")?;
    let mr_owner_config = r.array("MROWNERCONFIG")?;
    let rtmr = [
        r.array("RTMR0")?,
        r.array("RTMR1")?,
        r.array("RTMR2")?,
        r.array("RTMR3")?,
    ];
    let report_data = r.array("REPORTDATA")?;
    let (tee_tcb_svn2, mr_service_td) = if td15 {
        (
            Some(r.array("TEE_TCB_SVN2")?),
            Some(r.array("MRSERVICETD")?),
        )
    } else {
        (None, None)
    };
    let ext = if body_type == body_type::TD15EX {
        Some(Td15Ext {
            vmid: r.u8("VMID")?,
            td_id: r.array("TD_ID")?,
            dev_info: r.array("DEV_INFO")?,
            init_service_td_hash: r.array("INIT_SERVTD_HASH")?,
            init_service_td_attributes: r.array("INIT_SERVTD_ATTR")?,
            init_cpu_svn: r.array("INIT_CPUSVN")?,
            init_tee_tcb_svn: r.array("INIT_TEE_TCB_SVN")?,
            init_tee_fmspc: r.array("INIT_TEE_FMSPC")?,
            cur_service_td_hash: r.array("CUR_SERVTD_HASH")?,
            cur_service_td_attributes: r.array("CUR_SERVTD_ATTR")?,
        })
    } else {
        None
    };
    Ok(TdReport {
        tee_tcb_svn,
        mr_seam,
        mr_signer_seam,
        seam_attributes,
        td_attributes,
        xfam,
        mr_td,
        mr_config_id,
        mr_owner,
        mr_owner_config,
        rtmr,
        report_data,
        tee_tcb_svn2,
        mr_service_td,
        ext,
    })
}

impl QeReport {
    /// Parses a 384-byte SGX report body.
    pub fn parse(bytes: &[u8]) -> Result<QeReport, ReaderError> {
        QeReport::parse_at(bytes, 0)
    }

    /// Parses a 384-byte SGX report body found at `offset` of a quote
    /// (errors name offsets in the quote).
    pub fn parse_at(bytes: &[u8], offset: usize) -> Result<QeReport, ReaderError> {
        let mut r = Reader::at_offset(bytes, offset);
        let cpu_svn = r.array("QE report CPUSVN")?;
        let misc_select = r.u32_le("QE report MISCSELECT")?;
        r.skip("QE report reserved (20)", 28)?;
        let attributes = r.array("QE report ATTRIBUTES")?;
        let mr_enclave = r.array("QE report MRENCLAVE")?;
        r.skip("QE report reserved (96)", 32)?;
        let mr_signer = r.array("QE report MRSIGNER")?;
        r.skip("QE report reserved (160)", 96)?;
        let isv_prod_id = r.u16_le("QE report ISVPRODID")?;
        let isv_svn = r.u16_le("QE report ISVSVN")?;
        r.skip("QE report reserved (260)", 60)?;
        let report_data = r.array("QE report REPORTDATA")?;
        r.finish()?;
        Ok(QeReport {
            cpu_svn,
            misc_select,
            attributes,
            mr_enclave,
            mr_signer,
            isv_prod_id,
            isv_svn,
            report_data,
        })
    }
}

/// A name for a body type, for messages.
pub fn body_name(body_type: u16) -> &'static str {
    match body_type {
        body_type::TD10 => "TD 1.0",
        body_type::TD15 => "TD 1.5",
        body_type::TD15EX => "TD 1.5 extended",
        _ => "unknown",
    }
}

impl<'a> Quote<'a> {
    /// Parses a quote. Zero padding after the signature data is tolerated
    /// (quotes are often delivered in fixed-size buffers); any other
    /// trailing byte is an error.
    pub fn parse(bytes: &'a [u8]) -> Result<Quote<'a>, TdxError> {
        let mut r = Reader::new(bytes);
        let version = r.u16_le("VERSION")?;
        if version != 4 && version != 5 {
            return Err(bad("VERSION", 0, version.to_string(), "4 or 5"));
        }
        let att_key_type = r.u16_le("ATT_KEY_TYPE")?;
        if att_key_type != ATT_KEY_ECDSA_P256 {
            return Err(bad(
                "ATT_KEY_TYPE",
                2,
                att_key_type.to_string(),
                "2 (ECDSA-256-with-P-256)",
            ));
        }
        let tee_type = r.u32_le("TEE_TYPE")?;
        if tee_type != TEE_TYPE_TDX {
            return Err(bad(
                "TEE_TYPE",
                4,
                format!("{tee_type:#x}"),
                "0x81 (TDX); SGX quotes are not TDX evidence",
            ));
        }
        let qe_svn = r.u16_le("QE_SVN")?;
        let pce_svn = r.u16_le("PCE_SVN")?;
        let qe_vendor_id: [u8; 16] = r.array("QE_VENDOR_ID")?;
        if qe_vendor_id != INTEL_QE_VENDOR_ID {
            return Err(bad(
                "QE_VENDOR_ID",
                0xc,
                hex::encode(qe_vendor_id),
                "939a7233f79c4ca9940a0db3957f0607 (Intel)",
            ));
        }
        let user_data = r.array("USER_DATA")?;
        let body_type = if version == 5 {
            let at = r.offset();
            let body_type = r.u16_le("BODY_TYPE")?;
            let body_size = r.u32_len("BODY_SIZE")?;
            let expected = match body_type {
                body_type::TD10 => TD10_LEN,
                body_type::TD15 => TD15_LEN,
                body_type::TD15EX => TD15EX_LEN,
                body_type::SGX => {
                    return Err(bad(
                        "BODY_TYPE",
                        at,
                        "1 (SGX enclave report)".into(),
                        "2 (TD 1.0), 3 (TD 1.5) or 4 (TD 1.5 extended)",
                    ))
                }
                other => {
                    return Err(bad(
                        "BODY_TYPE",
                        at,
                        other.to_string(),
                        "2 (TD 1.0), 3 (TD 1.5) or 4 (TD 1.5 extended); other body types are not in the quote format revision cogito implements",
                    ))
                }
            };
            // The size must be the type's exact size (Intel QVL
            // Quote.cpp; dcap-qvl quote.rs): a body is never padded.
            if body_size != expected {
                return Err(bad(
                    "BODY_SIZE",
                    at + 2,
                    body_size.to_string(),
                    "584 for TD 1.0, 648 for TD 1.5, 885 for TD 1.5 extended",
                ));
            }
            body_type
        } else {
            2
        };
        let body = parse_td_report(&mut r, body_type)?;
        let signed_len = r.offset();
        let signed = bytes.get(..signed_len).unwrap_or_default();

        let sig_len = r.u32_len("QUOTE_SIGNATURE_DATA_LEN")?;
        let mut s = r.nested("QUOTE_SIGNATURE_DATA", sig_len)?;
        let signature = s.array("QUOTE_SIGNATURE")?;
        let attestation_key = s.array("ATTESTATION_KEY")?;
        let cert_type_at = s.offset();
        let cert_type = s.u16_le("CERTIFICATION_DATA_TYPE")?;
        if cert_type != 6 {
            return Err(bad(
                "CERTIFICATION_DATA_TYPE",
                cert_type_at,
                cert_type.to_string(),
                "6 (QE report certification data)",
            ));
        }
        let cert_size = s.u32_len("CERTIFICATION_DATA_SIZE")?;
        let mut c = s.nested("CERTIFICATION_DATA", cert_size)?;
        s.finish()?;

        let qe_report_at = c.offset();
        let qe_report_raw = c.bytes("QE_REPORT", QE_REPORT_LEN)?;
        let qe_report = QeReport::parse_at(qe_report_raw, qe_report_at)?;
        let qe_report_signature = c.array("QE_REPORT_SIGNATURE")?;
        let auth_len = usize::from(c.u16_le("QE_AUTH_DATA_SIZE")?);
        let qe_auth_data = c.bytes("QE_AUTH_DATA", auth_len)?;
        let inner_type = c.u16_le("QE_CERTIFICATION_DATA_TYPE")?;
        let inner_size = c.u32_len("QE_CERTIFICATION_DATA_SIZE")?;
        let inner = c.bytes("QE_CERTIFICATION_DATA", inner_size)?;
        c.finish()?;
        // The chain may be NUL-padded; keep what precedes the padding.
        let kept = inner
            .iter()
            .rposition(|b| *b != 0)
            .map_or(0, |last| last + 1);
        let cert_data = inner.get(..kept).unwrap_or_default();

        let rest_at = r.offset();
        let rest = bytes.get(rest_at..).unwrap_or_default();
        if rest.iter().any(|b| *b != 0) {
            return Err(TdxError::TrailingData {
                offset: rest_at,
                len: rest.len(),
            });
        }
        Ok(Quote {
            version,
            att_key_type,
            tee_type,
            qe_svn,
            pce_svn,
            qe_vendor_id,
            user_data,
            body_type,
            body,
            signed,
            signature,
            attestation_key,
            qe_report_raw,
            qe_report,
            qe_report_signature,
            qe_auth_data,
            cert_data_type: inner_type,
            cert_data,
            trailing_padding: rest.len(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(version: u16) -> Vec<u8> {
        let mut h = Vec::new();
        h.extend_from_slice(&version.to_le_bytes());
        h.extend_from_slice(&2u16.to_le_bytes());
        h.extend_from_slice(&0x81u32.to_le_bytes());
        h.extend_from_slice(&[0; 4]);
        h.extend_from_slice(&INTEL_QE_VENDOR_ID);
        h.extend_from_slice(&[0; 20]);
        h
    }

    /// A structurally valid quote with zero signatures.
    fn quote(version: u16, body_type: u16) -> Vec<u8> {
        let mut q = header(version);
        let body_len = match body_type {
            3 => TD15_LEN,
            4 => TD15EX_LEN,
            _ => TD10_LEN,
        };
        if version == 5 {
            q.extend_from_slice(&body_type.to_le_bytes());
            q.extend_from_slice(&(body_len as u32).to_le_bytes());
        }
        q.extend(std::iter::repeat_n(0u8, body_len));
        let pem = b"-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n\0\0";
        let mut cert = vec![0u8; QE_REPORT_LEN + 64];
        cert.extend_from_slice(&2u16.to_le_bytes());
        cert.extend_from_slice(&[0xaa, 0xbb]);
        cert.extend_from_slice(&5u16.to_le_bytes());
        cert.extend_from_slice(&(pem.len() as u32).to_le_bytes());
        cert.extend_from_slice(pem);
        let mut sig = vec![0u8; 128];
        sig.extend_from_slice(&6u16.to_le_bytes());
        sig.extend_from_slice(&(cert.len() as u32).to_le_bytes());
        sig.extend_from_slice(&cert);
        q.extend_from_slice(&(sig.len() as u32).to_le_bytes());
        q.extend_from_slice(&sig);
        q
    }

    #[test]
    fn parses_v4_and_v5_bodies() {
        let q4 = quote(4, 2);
        let p = Quote::parse(&q4).unwrap();
        assert_eq!((p.version, p.body_type, p.signed.len()), (4, 2, 48 + 584));
        assert_eq!(p.qe_auth_data, &[0xaa, 0xbb]);
        assert!(p.cert_data.ends_with(b"-----\n"));
        let q5 = quote(5, 3);
        let p = Quote::parse(&q5).unwrap();
        assert_eq!(
            (p.version, p.body_type, p.signed.len()),
            (5, 3, 48 + 6 + 648)
        );
        assert!(p.body.tee_tcb_svn2.is_some());
    }

    #[test]
    fn parses_td15_extended_bodies_field_by_field() {
        let mut q = quote(5, 4);
        let body = 54;
        q[body + 648] = 2; // VMID
        q[body + 649] = 0xd1; // TD_ID[0]
        q[body + 681 + 47] = 0xde; // DEV_INFO[47]
        q[body + 729] = 0x11; // INIT_SERVTD_HASH[0]
        q[body + 777] = 0x22; // INIT_SERVTD_ATTR[0]
        q[body + 785] = 0x33; // INIT_CPUSVN[0]
        q[body + 801] = 0x44; // INIT_TEE_TCB_SVN[0]
        q[body + 817 + 11] = 0x55; // INIT_TEE_FMSPC[11]
        q[body + 829] = 0x66; // CUR_SERVTD_HASH[0]
        q[body + 884] = 0x77; // CUR_SERVTD_ATTR[7], the body's last byte
        let p = Quote::parse(&q).unwrap();
        assert_eq!((p.body_type, p.signed.len()), (4, 48 + 6 + 885));
        let e = p.body.ext.unwrap();
        assert_eq!(e.vmid, 2);
        assert_eq!(e.td_id[0], 0xd1);
        assert_eq!(e.dev_info[47], 0xde);
        assert_eq!(e.init_service_td_hash[0], 0x11);
        assert_eq!(e.init_service_td_attributes[0], 0x22);
        assert_eq!(e.init_cpu_svn[0], 0x33);
        assert_eq!(e.init_tee_tcb_svn[0], 0x44);
        assert_eq!(e.init_tee_fmspc[11], 0x55);
        assert_eq!(e.cur_service_td_hash[0], 0x66);
        assert_eq!(e.cur_service_td_attributes[7], 0x77);
        assert!(p.body.tee_tcb_svn2.is_some() && p.body.mr_service_td.is_some());
        assert!(Quote::parse(&quote(5, 3)).unwrap().body.ext.is_none());
    }

    #[test]
    fn td15_extended_needs_its_exact_size() {
        for size in [648u32, 884, 886, 0] {
            let mut q = quote(5, 4);
            q[50..54].copy_from_slice(&size.to_le_bytes());
            assert!(
                matches!(
                    Quote::parse(&q),
                    Err(TdxError::BadField {
                        field: "BODY_SIZE",
                        offset: 50,
                        ..
                    })
                ),
                "size {size}"
            );
        }
        // A type 3 descriptor over a type 4 body misreads the rest.
        let mut q = quote(5, 4);
        q[48] = 3;
        q[50..54].copy_from_slice(&648u32.to_le_bytes());
        assert!(Quote::parse(&q).is_err());
    }

    #[test]
    fn errors_inside_the_signature_data_name_offsets_in_the_quote() {
        let q = quote(4, 2);
        // Cut inside the QE report: the error names its quote offset.
        let qe_report_at = 48 + 584 + 4 + 128 + 6;
        let e = Quote::parse(&q[..qe_report_at + 10]).unwrap_err();
        match e {
            TdxError::Malformed(ReaderError::Truncated { offset, .. }) => {
                assert_eq!(
                    offset,
                    48 + 584 + 4,
                    "the signature data length is read first"
                )
            }
            other => panic!("{other:?}"),
        }
        // Shrink CERTIFICATION_DATA_SIZE by 20: the signature data then
        // holds 20 bytes after the certification data, and the error gives
        // their offset in the quote, not in the signature data.
        let mut q = quote(4, 2);
        let cert_size_at = 48 + 584 + 4 + 128 + 2;
        let cert_size = u32::from_le_bytes(q[cert_size_at..cert_size_at + 4].try_into().unwrap());
        q[cert_size_at..cert_size_at + 4].copy_from_slice(&(cert_size - 20).to_le_bytes());
        let expected = cert_size_at + 4 + cert_size as usize - 20;
        assert_eq!(
            Quote::parse(&q).unwrap_err(),
            TdxError::Malformed(ReaderError::TrailingData {
                offset: expected,
                len: 20
            })
        );
    }

    #[test]
    fn header_fields_are_checked() {
        for (offset, byte) in [(0usize, 3u8), (2, 3), (4, 0), (12, 0)] {
            let mut q = quote(4, 2);
            q[offset] = byte;
            assert!(
                matches!(Quote::parse(&q), Err(TdxError::BadField { .. })),
                "offset {offset}"
            );
        }
    }

    #[test]
    fn unknown_body_types_and_sizes_are_rejected() {
        let mut q = quote(5, 2);
        q[48] = 5;
        assert!(matches!(
            Quote::parse(&q),
            Err(TdxError::BadField {
                field: "BODY_TYPE",
                ..
            })
        ));
        let mut q = quote(5, 2);
        q[50] = 0;
        assert!(matches!(
            Quote::parse(&q),
            Err(TdxError::BadField {
                field: "BODY_SIZE",
                ..
            })
        ));
    }

    #[test]
    fn zero_padding_is_tolerated_other_trailing_bytes_are_not() {
        let mut q = quote(4, 2);
        q.extend_from_slice(&[0; 70]);
        assert_eq!(Quote::parse(&q).unwrap().trailing_padding, 70);
        q.push(1);
        assert!(matches!(
            Quote::parse(&q),
            Err(TdxError::TrailingData { .. })
        ));
    }

    #[test]
    fn every_truncation_is_an_error() {
        let q = quote(5, 3);
        for len in 0..q.len() {
            assert!(Quote::parse(&q[..len]).is_err(), "len {len}");
        }
    }

    #[test]
    fn certification_data_type_must_be_6() {
        let mut q = quote(4, 2);
        let at = 48 + 584 + 4 + 128;
        q[at] = 5;
        assert!(matches!(
            Quote::parse(&q),
            Err(TdxError::BadField {
                field: "CERTIFICATION_DATA_TYPE",
                ..
            })
        ));
    }
}
