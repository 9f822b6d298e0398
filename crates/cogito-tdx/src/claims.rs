//! The typed TDX claims (every quote field) and the normalized mapping.

use cogito_core::hexser::Hex;
use cogito_core::time::Window;
use cogito_core::{Claims, Signer, TcbStatus, Tee};
use serde::Serialize;

use crate::pck::SgxExtensions;
use crate::quote::Quote;
use crate::tcb::TcbEvaluation;

/// TDATTRIBUTES, raw and by bit (TDX Module ABI, "TDATTRIBUTES").
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TdAttributes {
    /// Raw 8 bytes, hex, quote byte order.
    pub raw: String,
    /// Bit 0: DEBUG — the TD's memory is not confidential.
    pub debug: bool,
    /// Bit 28: SEPT_VE_DISABLE.
    pub sept_ve_disable: bool,
    /// Bit 29: MIGRATABLE.
    pub migratable: bool,
    /// Bit 30: PKS.
    pub pks: bool,
    /// Bit 31: KL.
    pub kl: bool,
    /// Bit 63: PERFMON.
    pub perfmon: bool,
}

impl TdAttributes {
    /// Decodes the 8 TDATTRIBUTES bytes (a little-endian u64).
    pub fn new(raw: &[u8; 8]) -> Self {
        let v = u64::from_le_bytes(*raw);
        let bit = |n: u32| v >> n & 1 == 1;
        TdAttributes {
            raw: hex::encode(raw),
            debug: bit(0),
            sept_ve_disable: bit(28),
            migratable: bit(29),
            pks: bit(30),
            kl: bit(31),
            perfmon: bit(63),
        }
    }
}

/// The fields of a TD 1.5 extended body (v5 body type 4); see
/// [`crate::quote::Td15Ext`]. None of them enters the TCB status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Td15ExClaims {
    /// VMID: 0 = an unpartitioned TD or the L1 VMM, 1–3 = a TD VM (L2) of
    /// a partitioned TD.
    pub vmid: u8,
    /// TD_ID (regenerated on relaunch).
    pub td_id: Hex,
    /// DEV_INFO hash.
    pub dev_info: Hex,
    /// INIT_SERVTD_HASH.
    pub init_servicetd_hash: Hex,
    /// INIT_SERVTD_ATTR.
    pub init_servicetd_attributes: Hex,
    /// INIT_CPUSVN.
    pub init_cpusvn: Hex,
    /// INIT_TEE_TCB_SVN.
    pub init_tee_tcb_svn: Hex,
    /// INIT_TEE_FMSPC (12 bytes).
    pub init_tee_fmspc: Hex,
    /// CUR_SERVTD_HASH.
    pub cur_servicetd_hash: Hex,
    /// CUR_SERVTD_ATTR.
    pub cur_servicetd_attributes: Hex,
}

/// Every field of the quote body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BodyClaims {
    /// 2 = TD 1.0, 3 = TD 1.5, 4 = TD 1.5 extended.
    pub body_type: u16,
    /// TEE_TCB_SVN.
    pub tee_tcb_svn: Hex,
    /// MRSEAM.
    pub mrseam: Hex,
    /// MRSIGNERSEAM.
    pub mrsignerseam: Hex,
    /// SEAMATTRIBUTES.
    pub seam_attributes: Hex,
    /// TDATTRIBUTES.
    pub td_attributes: TdAttributes,
    /// XFAM.
    pub xfam: Hex,
    /// MRTD.
    pub mrtd: Hex,
    /// MRCONFIGID.
    pub mrconfigid: Hex,
    /// MROWNER.
    pub mrowner: Hex,
    /// MROWNERCONFIG.
    pub mrownerconfig: Hex,
    /// RTMR0–3.
    pub rtmr: Vec<Hex>,
    /// REPORTDATA.
    pub report_data: Hex,
    /// TEE_TCB_SVN2 (TD 1.5).
    pub tee_tcb_svn2: Option<Hex>,
    /// MRSERVICETD (TD 1.5).
    pub mrservicetd: Option<Hex>,
    /// The TD 1.5 extended fields (body type 4).
    pub td15ex: Option<Td15ExClaims>,
}

/// The quoting enclave.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct QeClaims {
    /// MRENCLAVE.
    pub mrenclave: Hex,
    /// MRSIGNER.
    pub mrsigner: Hex,
    /// ISVPRODID.
    pub isvprodid: u16,
    /// ISVSVN.
    pub isvsvn: u16,
}

/// TCB results from collateral.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CollateralClaims {
    /// The evaluation.
    #[serde(flatten)]
    pub evaluation: TcbEvaluation,
    /// tcbEvaluationDataNumber of the TCB Info.
    pub tcb_evaluation_data_number: u32,
    /// tcbEvaluationDataNumber of the QE Identity.
    pub qe_identity_tcb_evaluation_data_number: u32,
    /// The window in which every piece of collateral is valid; its end is
    /// the earliest collateral expiry (a policy can bound collateral age).
    pub collateral_validity: Window,
}

/// Everything cogito knows about a verified TDX quote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TdxClaims {
    /// Quote version (4 or 5).
    pub quote_version: u16,
    /// QE vendor id.
    pub qe_vendor_id: Hex,
    /// Header user data.
    pub user_data: Hex,
    /// The TD report body.
    pub body: BodyClaims,
    /// The QE.
    pub qe: QeClaims,
    /// The PCK certificate's SGX extensions.
    pub pck: SgxExtensions,
    /// TCB evaluation, absent in signature-only mode.
    pub tcb: Option<CollateralClaims>,
    /// Bytes of zero padding after the quote.
    pub trailing_padding: usize,
}

/// Builds the typed claims.
pub fn tdx_claims(q: &Quote<'_>, pck: &SgxExtensions, tcb: Option<CollateralClaims>) -> TdxClaims {
    let b = &q.body;
    TdxClaims {
        quote_version: q.version,
        qe_vendor_id: Hex::from_slice(&q.qe_vendor_id),
        user_data: Hex::from_slice(&q.user_data),
        body: BodyClaims {
            body_type: q.body_type,
            tee_tcb_svn: Hex::from_slice(&b.tee_tcb_svn),
            mrseam: Hex::from_slice(&b.mr_seam),
            mrsignerseam: Hex::from_slice(&b.mr_signer_seam),
            seam_attributes: Hex::from_slice(&b.seam_attributes),
            td_attributes: TdAttributes::new(&b.td_attributes),
            xfam: Hex::from_slice(&b.xfam),
            mrtd: Hex::from_slice(&b.mr_td),
            mrconfigid: Hex::from_slice(&b.mr_config_id),
            mrowner: Hex::from_slice(&b.mr_owner),
            mrownerconfig: Hex::from_slice(&b.mr_owner_config),
            rtmr: b.rtmr.iter().map(|r| Hex::from_slice(r)).collect(),
            report_data: Hex::from_slice(&b.report_data),
            tee_tcb_svn2: b.tee_tcb_svn2.map(|v| Hex::from_slice(&v)),
            mrservicetd: b.mr_service_td.map(|v| Hex::from_slice(&v)),
            td15ex: b.ext.as_ref().map(|e| Td15ExClaims {
                vmid: e.vmid,
                td_id: Hex::from_slice(&e.td_id),
                dev_info: Hex::from_slice(&e.dev_info),
                init_servicetd_hash: Hex::from_slice(&e.init_service_td_hash),
                init_servicetd_attributes: Hex::from_slice(&e.init_service_td_attributes),
                init_cpusvn: Hex::from_slice(&e.init_cpu_svn),
                init_tee_tcb_svn: Hex::from_slice(&e.init_tee_tcb_svn),
                init_tee_fmspc: Hex::from_slice(&e.init_tee_fmspc),
                cur_servicetd_hash: Hex::from_slice(&e.cur_service_td_hash),
                cur_servicetd_attributes: Hex::from_slice(&e.cur_service_td_attributes),
            }),
        },
        qe: QeClaims {
            mrenclave: Hex::from_slice(&q.qe_report.mr_enclave),
            mrsigner: Hex::from_slice(&q.qe_report.mr_signer),
            isvprodid: q.qe_report.isv_prod_id,
            isvsvn: q.qe_report.isv_svn,
        },
        pck: pck.clone(),
        tcb,
        trailing_padding: q.trailing_padding,
    }
}

/// Maps a quote into the normalized claims.
pub fn normalized(q: &Quote<'_>, pck: &SgxExtensions, status: TcbStatus) -> Claims {
    let b = &q.body;
    let mut signer = vec![Signer {
        kind: "mrsignerseam",
        value: Hex::from_slice(&b.mr_signer_seam),
    }];
    if b.mr_owner.iter().any(|x| *x != 0) {
        signer.push(Signer {
            kind: "mrowner",
            value: Hex::from_slice(&b.mr_owner),
        });
    }
    Claims {
        tee: Tee::Tdx,
        launch_measurement: Hex::from_slice(&b.mr_td),
        runtime_measurements: b.rtmr.iter().map(|r| Hex::from_slice(r)).collect(),
        report_data: Hex::from_slice(&b.report_data),
        init_data: Hex::from_slice(&b.mr_config_id),
        debug: TdAttributes::new(&b.td_attributes).debug,
        tcb_status: status,
        platform_instance: hex::decode(&pck.ppid).ok().map(Hex),
        signer,
    }
}
