//! DCAP collateral: TCB Info (v3, id "TDX"), QE Identity (v2, id
//! "TD_QE"), the PCK CRL and the root CA CRL, as Intel PCS v4 serves them
//! (Intel "Provisioning Certification Service API", v4; TCB Info and
//! Enclave Identity JSON schemas).
//!
//! The signed JSON documents are verified over the exact bytes of the inner
//! object as they appear in the file — never a re-serialisation — by the
//! TCB Signing certificate, which must be issued directly by the pinned
//! root.

use std::collections::BTreeMap;

use cogito_core::time::Window;
use cogito_core::{TcbStatus, TrustAnchors, VerificationTime};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::error::TdxError;
use crate::x509::{self, pem_chain, SigMemo, VerifiedSigner};

/// The collateral of one quote, as the files/PCS answers hold it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Collateral {
    /// `tcb_info.json`: `{"tcbInfo":{…},"signature":"<hex>"}`.
    pub tcb_info: Vec<u8>,
    /// TCB Signing certificate, then the root (PEM).
    pub tcb_info_issuer_chain: Vec<u8>,
    /// `qe_identity.json`: `{"enclaveIdentity":{…},"signature":"<hex>"}`.
    pub qe_identity: Vec<u8>,
    /// TCB Signing certificate, then the root (PEM).
    pub qe_identity_issuer_chain: Vec<u8>,
    /// The PCK CRL (DER), issued by the PCK Platform or Processor CA.
    pub pck_crl: Vec<u8>,
    /// The PCK CA, then the root (PEM).
    pub pck_crl_issuer_chain: Vec<u8>,
    /// The root CA CRL (DER).
    pub root_ca_crl: Vec<u8>,
}

fn malformed(which: &str, reason: impl Into<String>) -> TdxError {
    TdxError::MalformedCollateral {
        which: which.to_string(),
        reason: reason.into(),
    }
}

fn parse_time(which: &str, field: &str, s: &str) -> Result<VerificationTime, TdxError> {
    OffsetDateTime::parse(s, &Rfc3339)
        .map(|t| VerificationTime::from_unix(t.unix_timestamp()))
        .map_err(|e| malformed(which, format!("{field} {s:?} is not RFC 3339: {e}")))
}

fn parse_status(which: &str, s: &str) -> Result<TcbStatus, TdxError> {
    Ok(match s {
        "UpToDate" => TcbStatus::UpToDate,
        "SWHardeningNeeded" => TcbStatus::SWHardeningNeeded,
        "ConfigurationNeeded" => TcbStatus::ConfigurationNeeded,
        "ConfigurationAndSWHardeningNeeded" => TcbStatus::ConfigurationAndSWHardeningNeeded,
        "OutOfDate" => TcbStatus::OutOfDate,
        "OutOfDateConfigurationNeeded" => TcbStatus::OutOfDateConfigurationNeeded,
        "Revoked" => TcbStatus::Revoked,
        "TDRelaunchAdvised" => TcbStatus::TDRelaunchAdvised,
        "TDRelaunchAdvisedConfigurationNeeded" => TcbStatus::TDRelaunchAdvisedConfigurationNeeded,
        other => return Err(malformed(which, format!("unknown tcbStatus {other:?}"))),
    })
}

fn hex_array<const N: usize>(which: &str, field: &str, s: &str) -> Result<[u8; N], TdxError> {
    let v = hex::decode(s).map_err(|_| malformed(which, format!("{field} is not hex")))?;
    v.try_into()
        .map_err(|_| malformed(which, format!("{field} is not {N} bytes")))
}

/// A verified signed document: the exact text of its inner object, the
/// window of its issuer chain, the signer's serial and the anchor DER.
type SignedJson<'a> = (&'a str, Window, Vec<u8>, Vec<u8>);

/// Verifies a signed collateral document and returns the exact bytes of
/// its inner object and the window of its issuer chain.
fn verify_signed_json<'a>(
    body: &'a [u8],
    key: &str,
    issuer_chain: &[u8],
    which: &str,
    anchors: &TrustAnchors,
    at: VerificationTime,
    memo: &SigMemo,
) -> Result<SignedJson<'a>, TdxError> {
    let outer: BTreeMap<&str, &RawValue> =
        serde_json::from_slice(body).map_err(|e| malformed(which, e.to_string()))?;
    if outer.len() != 2 {
        return Err(malformed(
            which,
            format!("expected exactly {key:?} and \"signature\""),
        ));
    }
    let inner = outer
        .get(key)
        .ok_or_else(|| malformed(which, format!("no {key:?}")))?
        .get();
    let sig_hex: String = outer
        .get("signature")
        .ok_or_else(|| malformed(which, "no \"signature\""))
        .and_then(|v| serde_json::from_str(v.get()).map_err(|e| malformed(which, e.to_string())))?;
    let sig: [u8; 64] = hex_array(which, "signature", &sig_hex)?;

    let signer = match memo.signer(issuer_chain) {
        Some(s) => s,
        None => {
            let s = verify_tcb_signer(issuer_chain, which, anchors, at, memo)?;
            memo.remember_signer(issuer_chain, s.clone());
            s
        }
    };
    if !x509::verify_p256_fixed(&signer.point, inner.as_bytes(), &sig) {
        return Err(TdxError::BadCertificateSignature {
            which: which.to_string(),
            issuer: "the TCB Signing certificate".into(),
        });
    }
    Ok((inner, signer.window, signer.serial, signer.anchor_der))
}

/// Verifies the issuer chain of TCB Info or QE Identity: the TCB Signing
/// certificate, issued by a pinned Intel SGX Root CA key and valid at `at`.
fn verify_tcb_signer(
    issuer_chain: &[u8],
    which: &str,
    anchors: &TrustAnchors,
    at: VerificationTime,
    memo: &SigMemo,
) -> Result<VerifiedSigner, TdxError> {
    let chain = pem_chain(issuer_chain, &format!("{which} issuer chain"))?;
    let (checked, anchor) = x509::verify_chain(
        &chain,
        &["TCB Signing certificate", "Intel SGX Root CA"],
        anchors,
        at,
        memo,
    )?;
    let signer = checked
        .certs
        .first()
        .ok_or_else(|| malformed(which, "empty issuer chain"))?;
    let cn = signer
        .subject()
        .iter_common_name()
        .next()
        .and_then(|c| c.as_str().ok())
        .unwrap_or("");
    if cn != "Intel SGX TCB Signing" {
        return Err(TdxError::CertificateConstraint {
            which: format!("{which} signer"),
            reason: format!("is {cn:?}, not the Intel SGX TCB Signing certificate"),
        });
    }
    Ok(VerifiedSigner {
        point: x509::p256_point(signer, "TCB Signing certificate")?.to_vec(),
        serial: signer.raw_serial().to_vec(),
        window: checked.window,
        anchor_der: anchor.der.clone(),
    })
}

// ---- TCB Info -------------------------------------------------------------

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawTcbInfo {
    id: String,
    version: u32,
    issue_date: String,
    next_update: String,
    fmspc: String,
    pce_id: String,
    tcb_type: u32,
    tcb_evaluation_data_number: u32,
    tdx_module: Option<RawModule>,
    #[serde(default)]
    tdx_module_identities: Vec<RawModuleIdentity>,
    tcb_levels: Vec<RawTcbLevel>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawModule {
    mrsigner: String,
    attributes: String,
    attributes_mask: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawModuleIdentity {
    id: String,
    mrsigner: String,
    attributes: String,
    attributes_mask: String,
    tcb_levels: Vec<RawIsvLevel>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawIsvLevel {
    tcb: RawIsvSvn,
    tcb_date: String,
    tcb_status: String,
    #[serde(default, rename = "advisoryIDs")]
    advisory_ids: Vec<String>,
}

#[derive(Deserialize)]
struct RawIsvSvn {
    isvsvn: u16,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawTcbLevel {
    tcb: RawTcb,
    tcb_date: String,
    tcb_status: String,
    #[serde(default, rename = "advisoryIDs")]
    advisory_ids: Vec<String>,
}

#[derive(Deserialize)]
struct RawTcb {
    sgxtcbcomponents: Vec<RawSvn>,
    pcesvn: u16,
    tdxtcbcomponents: Vec<RawSvn>,
}

#[derive(Deserialize)]
struct RawSvn {
    svn: u8,
}

/// The TDX module identity expected by the TCB Info.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ModuleIdentity {
    /// `TDX_%02X`, or `tdxModule` for the base entry.
    pub id: String,
    /// Expected MRSIGNERSEAM.
    #[serde(serialize_with = "cogito_core::hexser::serialize")]
    pub mrsigner: [u8; 48],
    /// Expected SEAMATTRIBUTES (under the mask).
    #[serde(serialize_with = "cogito_core::hexser::serialize")]
    pub attributes: [u8; 8],
    /// Mask.
    #[serde(serialize_with = "cogito_core::hexser::serialize")]
    pub attributes_mask: [u8; 8],
    /// Module TCB levels (by `TEE_TCB_SVN[0]`).
    pub tcb_levels: Vec<IsvTcbLevel>,
}

/// A TCB level keyed by an ISV SVN (QE identity, TDX module identity).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IsvTcbLevel {
    /// Minimum ISVSVN.
    pub isvsvn: u16,
    /// tcbDate.
    pub tcb_date: String,
    /// Status.
    pub tcb_status: TcbStatus,
    /// Advisory IDs.
    pub advisory_ids: Vec<String>,
}

/// A platform TCB level.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TcbLevel {
    /// Minimum SGX TCB components.
    pub sgx_components: [u8; 16],
    /// Minimum PCESVN.
    pub pcesvn: u16,
    /// Minimum TDX TCB components (compared with TEE_TCB_SVN).
    pub tdx_components: [u8; 16],
    /// tcbDate.
    pub tcb_date: String,
    /// Status.
    pub tcb_status: TcbStatus,
    /// Advisory IDs.
    pub advisory_ids: Vec<String>,
}

/// A verified TCB Info.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TcbInfo {
    /// issueDate … nextUpdate.
    pub window: Window,
    /// FMSPC, lower-case hex.
    pub fmspc: String,
    /// PCE-ID, lower-case hex.
    pub pce_id: String,
    /// tcbEvaluationDataNumber.
    pub tcb_evaluation_data_number: u32,
    /// The base `tdxModule` identity.
    pub tdx_module: Option<ModuleIdentity>,
    /// `tdxModuleIdentities`.
    pub tdx_module_identities: Vec<ModuleIdentity>,
    /// Platform TCB levels, in file (descending) order.
    pub tcb_levels: Vec<TcbLevel>,
}

fn components(which: &str, v: &[RawSvn], field: &str) -> Result<[u8; 16], TdxError> {
    if v.len() != 16 {
        return Err(malformed(
            which,
            format!("{field} has {} entries, expected 16", v.len()),
        ));
    }
    let mut out = [0u8; 16];
    for (o, s) in out.iter_mut().zip(v) {
        *o = s.svn;
    }
    Ok(out)
}

fn isv_levels(which: &str, v: Vec<RawIsvLevel>) -> Result<Vec<IsvTcbLevel>, TdxError> {
    v.into_iter()
        .map(|l| {
            Ok(IsvTcbLevel {
                isvsvn: l.tcb.isvsvn,
                tcb_date: l.tcb_date,
                tcb_status: parse_status(which, &l.tcb_status)?,
                advisory_ids: l.advisory_ids,
            })
        })
        .collect()
}

fn module(
    which: &str,
    id: String,
    m: &RawModule,
    levels: Vec<IsvTcbLevel>,
) -> Result<ModuleIdentity, TdxError> {
    Ok(ModuleIdentity {
        id,
        mrsigner: hex_array(which, "mrsigner", &m.mrsigner)?,
        attributes: hex_array(which, "attributes", &m.attributes)?,
        attributes_mask: hex_array(which, "attributesMask", &m.attributes_mask)?,
        tcb_levels: levels,
    })
}

impl TcbInfo {
    /// Verifies and parses `tcb_info.json`: signer chain to the pinned root,
    /// signature over the exact `tcbInfo` bytes, id "TDX", version 3,
    /// tcbType 0, issueDate ≤ at ≤ nextUpdate. Returns it with the TCB
    /// Signing certificate's serial (for the root CA CRL) and the anchor
    /// its chain ended in.
    pub fn verify(
        body: &[u8],
        issuer_chain: &[u8],
        anchors: &TrustAnchors,
        at: VerificationTime,
        memo: &SigMemo,
    ) -> Result<(TcbInfo, Vec<u8>, Vec<u8>), TdxError> {
        const W: &str = "TCB Info";
        let (inner, chain_window, signer_serial, anchor) =
            verify_signed_json(body, "tcbInfo", issuer_chain, W, anchors, at, memo)?;
        let raw: RawTcbInfo =
            serde_json::from_str(inner).map_err(|e| malformed(W, e.to_string()))?;
        let mismatch =
            |field: &'static str, found: String, expected: &str| TdxError::CollateralMismatch {
                which: W,
                field,
                found,
                expected: expected.to_string(),
            };
        if raw.id != "TDX" {
            return Err(mismatch("id", raw.id, "TDX"));
        }
        if raw.version != 3 {
            return Err(mismatch("version", raw.version.to_string(), "3"));
        }
        if raw.tcb_type != 0 {
            return Err(mismatch("tcbType", raw.tcb_type.to_string(), "0"));
        }
        let window = Window {
            not_before: parse_time(W, "issueDate", &raw.issue_date)?,
            not_after: parse_time(W, "nextUpdate", &raw.next_update)?,
        };
        x509::check_window(&window, W, at)?;
        let tdx_module = raw
            .tdx_module
            .as_ref()
            .map(|m| module(W, "tdxModule".into(), m, Vec::new()))
            .transpose()?;
        let mut identities = Vec::with_capacity(raw.tdx_module_identities.len());
        for m in raw.tdx_module_identities {
            let levels = isv_levels(W, m.tcb_levels)?;
            let base = RawModule {
                mrsigner: m.mrsigner,
                attributes: m.attributes,
                attributes_mask: m.attributes_mask,
            };
            identities.push(module(W, m.id, &base, levels)?);
        }
        let mut levels = Vec::with_capacity(raw.tcb_levels.len());
        for l in raw.tcb_levels {
            levels.push(TcbLevel {
                sgx_components: components(W, &l.tcb.sgxtcbcomponents, "sgxtcbcomponents")?,
                pcesvn: l.tcb.pcesvn,
                tdx_components: components(W, &l.tcb.tdxtcbcomponents, "tdxtcbcomponents")?,
                tcb_date: l.tcb_date,
                tcb_status: parse_status(W, &l.tcb_status)?,
                advisory_ids: l.advisory_ids,
            });
        }
        Ok((
            TcbInfo {
                window: window.intersect(&chain_window),
                fmspc: raw.fmspc.to_ascii_lowercase(),
                pce_id: raw.pce_id.to_ascii_lowercase(),
                tcb_evaluation_data_number: raw.tcb_evaluation_data_number,
                tdx_module,
                tdx_module_identities: identities,
                tcb_levels: levels,
            },
            signer_serial,
            anchor,
        ))
    }
}

// ---- QE Identity ------------------------------------------------------------

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawQeIdentity {
    id: String,
    version: u32,
    issue_date: String,
    next_update: String,
    tcb_evaluation_data_number: u32,
    miscselect: String,
    miscselect_mask: String,
    attributes: String,
    attributes_mask: String,
    mrsigner: String,
    isvprodid: u16,
    tcb_levels: Vec<RawIsvLevel>,
}

/// A verified QE Identity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct QeIdentity {
    /// issueDate … nextUpdate.
    pub window: Window,
    /// tcbEvaluationDataNumber.
    pub tcb_evaluation_data_number: u32,
    /// MISCSELECT (under the mask).
    pub miscselect: u32,
    /// Mask.
    pub miscselect_mask: u32,
    /// ATTRIBUTES (under the mask).
    #[serde(serialize_with = "cogito_core::hexser::serialize")]
    pub attributes: [u8; 16],
    /// Mask.
    #[serde(serialize_with = "cogito_core::hexser::serialize")]
    pub attributes_mask: [u8; 16],
    /// MRSIGNER.
    #[serde(serialize_with = "cogito_core::hexser::serialize")]
    pub mrsigner: [u8; 32],
    /// ISVPRODID.
    pub isvprodid: u16,
    /// QE TCB levels.
    pub tcb_levels: Vec<IsvTcbLevel>,
}

impl QeIdentity {
    /// Verifies and parses `qe_identity.json` (id "TD_QE", version 2).
    pub fn verify(
        body: &[u8],
        issuer_chain: &[u8],
        anchors: &TrustAnchors,
        at: VerificationTime,
        memo: &SigMemo,
    ) -> Result<(QeIdentity, Vec<u8>, Vec<u8>), TdxError> {
        const W: &str = "QE Identity";
        let (inner, chain_window, signer_serial, anchor) =
            verify_signed_json(body, "enclaveIdentity", issuer_chain, W, anchors, at, memo)?;
        let raw: RawQeIdentity =
            serde_json::from_str(inner).map_err(|e| malformed(W, e.to_string()))?;
        if raw.id != "TD_QE" {
            return Err(TdxError::CollateralMismatch {
                which: W,
                field: "id",
                found: raw.id,
                expected: "TD_QE".into(),
            });
        }
        if raw.version != 2 {
            return Err(TdxError::CollateralMismatch {
                which: W,
                field: "version",
                found: raw.version.to_string(),
                expected: "2".into(),
            });
        }
        let window = Window {
            not_before: parse_time(W, "issueDate", &raw.issue_date)?,
            not_after: parse_time(W, "nextUpdate", &raw.next_update)?,
        };
        x509::check_window(&window, W, at)?;
        let u32_hex = |field: &str, s: &str| -> Result<u32, TdxError> {
            Ok(u32::from_be_bytes(hex_array::<4>(W, field, s)?))
        };
        Ok((
            QeIdentity {
                window: window.intersect(&chain_window),
                tcb_evaluation_data_number: raw.tcb_evaluation_data_number,
                miscselect: u32_hex("miscselect", &raw.miscselect)?,
                miscselect_mask: u32_hex("miscselectMask", &raw.miscselect_mask)?,
                attributes: hex_array(W, "attributes", &raw.attributes)?,
                attributes_mask: hex_array(W, "attributesMask", &raw.attributes_mask)?,
                mrsigner: hex_array(W, "mrsigner", &raw.mrsigner)?,
                isvprodid: raw.isvprodid,
                tcb_levels: isv_levels(W, raw.tcb_levels)?,
            },
            signer_serial,
            anchor,
        ))
    }
}
