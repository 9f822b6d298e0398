//! Verifying a TDX quote: a pure function of (quote, collateral, anchors,
//! time, options), with a cache of what was already verified.
//!
//! [`verify_quote`] performs, in order — a caller must not skip any:
//!
//! 1. Parse the quote ([`Quote::parse`]): version 4/5, ECDSA-256 key, TEE
//!    type 0x81, Intel QE vendor, body type and size, certification data
//!    type 6 with a nested PCK chain; only zero padding may follow.
//! 2. PCK chain: leaf → PCK Platform/Processor CA → a root whose public key
//!    is a pinned Intel SGX Root CA key; signatures, names, CA constraints,
//!    validity at `at`; the leaf's SGX extensions.
//! 3. QE report signed by the PCK key; its REPORTDATA is
//!    SHA-256(attestation key ‖ QE auth data) followed by 32 zero bytes.
//! 4. The quote signature by the attestation key over header ‖ (v5 body
//!    descriptor) ‖ body.
//! 5. Unless signature-only: the collateral — root CA CRL and PCK CRL
//!    (issuer, signature, window; revoked PCK CA, PCK leaf or TCB Signing
//!    certificate refused), TCB Info and QE Identity (signer chain,
//!    signature over the exact bytes, window, id/version), FMSPC and PCE-ID
//!    equal to the PCK certificate's.
//! 6. QE identity: MRSIGNER, ISVPRODID, MISCSELECT and ATTRIBUTES under
//!    their masks.
//! 7. TDX module identity (MRSIGNERSEAM, SEAMATTRIBUTES), platform TCB
//!    level, module and QE TCB levels, converged status; no level is a
//!    refusal; Revoked is refused; any other status must be allowed by the
//!    caller (default: UpToDate only).
//! 8. REPORTDATA equals the expected value, when given.
//!
//! Steps 2, 3 and 5 are remembered in a [`VerifiedCache`] by the SHA-256 of
//! their inputs and used only inside their validity windows, so a quote
//! from a known platform costs the quote signature plus comparisons.

use std::sync::Arc;

use cogito_core::lru::SharedLru;

use aws_lc_rs::digest;
use aws_lc_rs::signature::{self, ParsedPublicKey};
use cogito_core::claims::Check;
use cogito_core::time::Window;
use cogito_core::{AnchorRole, TcbStatus, TrustAnchors, VerificationTime, Verified};

use crate::claims::{normalized, tdx_claims, CollateralClaims, TdxClaims};
use crate::collateral::{Collateral, QeIdentity, TcbInfo};
use crate::error::{MissingCollateral, TdxError};
use crate::pck::SgxExtensions;
use crate::quote::Quote;
use crate::tcb;
use crate::x509::{self, pem_chain, SigMemo};

/// What the verifier requires beyond authenticity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// Verify only the quote signature, the QE report and its binding, and
    /// the PCK chain to the pinned root; TCB status is not evaluated.
    pub signature_only: bool,
    /// TCB statuses to accept (default: UpToDate only).
    pub allowed_statuses: Vec<TcbStatus>,
    /// The exact REPORTDATA expected.
    pub expected_report_data: Option<[u8; 64]>,
    /// A PCK certificate chain (PEM) for quotes that do not embed one.
    pub pck_cert_chain: Option<Vec<u8>>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            signature_only: false,
            allowed_statuses: vec![TcbStatus::UpToDate],
            expected_report_data: None,
            pck_cert_chain: None,
        }
    }
}

/// A verified PCK chain.
struct VerifiedPck {
    leaf_point: Vec<u8>,
    leaf_serial: Vec<u8>,
    ca_subject: Vec<u8>,
    ca_point: Vec<u8>,
    ca_serial: Vec<u8>,
    extensions: SgxExtensions,
    window: Window,
    anchor_der: Vec<u8>,
}

/// Verified collateral.
struct VerifiedCollateral {
    tcb_info: TcbInfo,
    qe_identity: QeIdentity,
    root_revoked: Vec<Vec<u8>>,
    pck_crl_issuer: Vec<u8>,
    pck_crl_issuer_point: Vec<u8>,
    pck_revoked: Vec<Vec<u8>>,
    window: Window,
    anchor_ders: Vec<Vec<u8>>,
}

/// A thread-safe cache of verified PCK chains, QE report signatures and
/// collateral sets, keyed by the SHA-256 of their bytes; each bounded, the
/// least recently used entry evicted first.
pub struct VerifiedCache {
    pck: SharedLru<[u8; 32], Arc<VerifiedPck>>,
    qe_reports: SharedLru<[u8; 32], ()>,
    collateral: SharedLru<[u8; 32], Arc<VerifiedCollateral>>,
}

impl Default for VerifiedCache {
    fn default() -> Self {
        VerifiedCache::with_capacity(CAPACITY)
    }
}

impl std::fmt::Debug for VerifiedCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("VerifiedCache")
    }
}

/// Default bound on each map; a full map evicts its least recently used
/// entry.
const CAPACITY: usize = 4096;

impl VerifiedCache {
    /// A cache that remembers nothing.
    pub fn disabled() -> Self {
        VerifiedCache::with_capacity(0)
    }

    /// A cache of at most `capacity` PCK chains, QE reports and collateral
    /// sets each (0: remembers nothing).
    pub fn with_capacity(capacity: usize) -> Self {
        VerifiedCache {
            pck: SharedLru::new(capacity),
            qe_reports: SharedLru::new(capacity),
            collateral: SharedLru::new(capacity),
        }
    }

    /// (PCK chains, QE reports, collateral sets) held.
    pub fn len(&self) -> (usize, usize, usize) {
        (self.pck.len(), self.qe_reports.len(), self.collateral.len())
    }
}

fn sha256_parts(parts: &[&[u8]]) -> [u8; 32] {
    let mut ctx = digest::Context::new(&digest::SHA256);
    for p in parts {
        ctx.update(&u64::try_from(p.len()).unwrap_or(u64::MAX).to_le_bytes());
        ctx.update(p);
    }
    let mut out = [0u8; 32];
    out.copy_from_slice(ctx.finish().as_ref());
    out
}

fn normalize_serial(raw: &[u8]) -> Vec<u8> {
    cogito_core::crl::normalize_serial(raw).to_vec()
}

fn anchors_hold(anchors: &TrustAnchors, ders: &[Vec<u8>]) -> bool {
    ders.iter().all(|d| anchors.iter().any(|a| &a.der == d))
}

fn verify_pck(
    pem: &[u8],
    anchors: &TrustAnchors,
    at: VerificationTime,
    memo: &SigMemo,
) -> Result<VerifiedPck, TdxError> {
    let ders = pem_chain(pem, "PCK certificate chain")?;
    let (chain, anchor) = x509::verify_chain(
        &ders,
        &["PCK certificate", "PCK CA", "Intel SGX Root CA"],
        anchors,
        at,
        memo,
    )?;
    if chain.certs.len() != 3 {
        return Err(TdxError::MalformedCollateral {
            which: "PCK certificate chain".into(),
            reason: "expected leaf, PCK CA and root".into(),
        });
    }
    let [leaf, ca, _root] = chain.certs.as_slice() else {
        return Err(TdxError::MalformedCollateral {
            which: "PCK certificate chain".into(),
            reason: "expected leaf, PCK CA and root".into(),
        });
    };
    Ok(VerifiedPck {
        leaf_point: x509::p256_point(leaf, "PCK certificate")?.to_vec(),
        leaf_serial: normalize_serial(leaf.raw_serial()),
        ca_subject: ca.subject().as_raw().to_vec(),
        ca_point: x509::p256_point(ca, "PCK CA")?.to_vec(),
        ca_serial: normalize_serial(ca.raw_serial()),
        extensions: SgxExtensions::parse(leaf)?,
        window: chain.window,
        anchor_der: anchor.der.clone(),
    })
}

/// Verifies a CRL signed by `issuer_point` whose issuer name is
/// `issuer_subject`; returns its revoked serials and window.
fn verify_crl(
    der: &[u8],
    which: &str,
    issuer_subject: &[u8],
    issuer_point: &[u8],
    at: VerificationTime,
    memo: &SigMemo,
) -> Result<(Vec<Vec<u8>>, Window), TdxError> {
    let crl = x509::parse_crl(der, which)?;
    if crl.issuer_der != issuer_subject {
        return Err(TdxError::CertificateConstraint {
            which: which.to_string(),
            reason: format!("is issued by {}, not by the expected CA", crl.issuer),
        });
    }
    x509::check_ecdsa_sha256(crl.signature_algorithm, which)?;
    if !memo.verify_p256_asn1(issuer_point, crl.tbs, &crl.signature) {
        return Err(TdxError::BadCertificateSignature {
            which: which.to_string(),
            issuer: "its CA".into(),
        });
    }
    let window = crl
        .window()
        .ok_or_else(|| TdxError::CertificateConstraint {
            which: which.to_string(),
            reason: "has no nextUpdate".into(),
        })?;
    x509::check_window(&window, which, at)?;
    Ok((crl.revoked, window))
}

fn verify_collateral(
    c: &Collateral,
    anchors: &TrustAnchors,
    at: VerificationTime,
    memo: &SigMemo,
) -> Result<VerifiedCollateral, TdxError> {
    let (tcb_info, tcb_signer, tcb_anchor) =
        TcbInfo::verify(&c.tcb_info, &c.tcb_info_issuer_chain, anchors, at, memo)?;
    let (qe_identity, qe_signer, qe_anchor) = QeIdentity::verify(
        &c.qe_identity,
        &c.qe_identity_issuer_chain,
        anchors,
        at,
        memo,
    )?;

    // The root CA CRL, signed by a pinned root.
    let crl = x509::parse_crl(&c.root_ca_crl, "root CA CRL")?;
    let crl_issuer = crl.issuer_der;
    let mut root_result = None;
    let mut anchor_ders = vec![tcb_anchor, qe_anchor];
    for a in anchors.with_role(AnchorRole::IntelSgxRoot) {
        let root = x509::parse_certificate(&a.der, "Intel SGX Root CA")?;
        if root.subject().as_raw() != crl_issuer.as_slice() {
            continue;
        }
        let point = x509::p256_point(&root, "Intel SGX Root CA")?;
        if let Ok(r) = verify_crl(
            &c.root_ca_crl,
            "root CA CRL",
            root.subject().as_raw(),
            point,
            at,
            memo,
        ) {
            root_result = Some(r);
            anchor_ders.push(a.der.clone());
            break;
        }
    }
    let (root_revoked, root_window) = root_result.ok_or_else(|| TdxError::UntrustedRoot {
        which: "root CA CRL".into(),
        detail: "not signed by a pinned root, or outside its validity".into(),
    })?;
    for (serial, which) in [
        (&tcb_signer, "TCB Signing certificate (TCB Info)"),
        (&qe_signer, "TCB Signing certificate (QE Identity)"),
    ] {
        let s = normalize_serial(serial);
        if root_revoked.contains(&s) {
            return Err(TdxError::Revoked {
                which: which.into(),
                serial: s,
                crl: "root CA CRL",
            });
        }
    }

    // The PCK CRL, signed by the PCK CA of its issuer chain.
    let chain = pem_chain(&c.pck_crl_issuer_chain, "PCK CRL issuer chain")?;
    let (checked, anchor) =
        x509::verify_chain(&chain, &["PCK CA", "Intel SGX Root CA"], anchors, at, memo)?;
    anchor_ders.push(anchor.der.clone());
    let ca = checked
        .certs
        .first()
        .ok_or_else(|| TdxError::MalformedCollateral {
            which: "PCK CRL issuer chain".into(),
            reason: "is empty".into(),
        })?;
    let ca_point = x509::p256_point(ca, "PCK CA")?.to_vec();
    if root_revoked.contains(&normalize_serial(ca.raw_serial())) {
        return Err(TdxError::Revoked {
            which: format!("PCK CRL issuer {}", ca.subject()),
            serial: normalize_serial(ca.raw_serial()),
            crl: "root CA CRL",
        });
    }
    let (pck_revoked, pck_window) = verify_crl(
        &c.pck_crl,
        "PCK CRL",
        ca.subject().as_raw(),
        &ca_point,
        at,
        memo,
    )?;

    let window = tcb_info
        .window
        .intersect(&qe_identity.window)
        .intersect(&root_window)
        .intersect(&pck_window)
        .intersect(&checked.window);
    Ok(VerifiedCollateral {
        tcb_info,
        qe_identity,
        root_revoked,
        pck_crl_issuer: ca.subject().as_raw().to_vec(),
        pck_crl_issuer_point: ca_point,
        pck_revoked,
        window,
        anchor_ders,
    })
}

/// Verifies a TDX quote; see the module documentation for the steps.
pub fn verify_quote(
    bytes: &[u8],
    collateral: Option<&Collateral>,
    anchors: &TrustAnchors,
    at: VerificationTime,
    options: &Options,
    cache: &VerifiedCache,
) -> Result<Verified<TdxClaims>, TdxError> {
    let q = Quote::parse(bytes)?;
    // Certificates that appear in more than one chain of this quote and its
    // collateral are verified once (see SigMemo).
    let memo = SigMemo::default();
    let mut checks = Vec::with_capacity(10);
    checks.push(Check {
        name: "quote_format",
        detail: format!(
            "quote v{}, {} body, ECDSA P-256 attestation key, Intel QE",
            q.version,
            crate::quote::body_name(q.body_type)
        ),
    });

    // Step 2: the PCK chain.
    let pem: &[u8] = match (q.cert_data_type, &options.pck_cert_chain) {
        (_, Some(pem)) => pem,
        (5, None) => q.cert_data,
        (t, None) => {
            return Err(TdxError::CollateralMissing {
                what: MissingCollateral::PckChain { cert_data_type: t },
            })
        }
    };
    let pck_key = sha256_parts(&[pem]);
    let cached = cache.pck.get(&pck_key).filter(|p| {
        p.window.contains(at) && anchors_hold(anchors, std::slice::from_ref(&p.anchor_der))
    });
    let pck = match cached {
        Some(p) => p,
        None => {
            let p = Arc::new(verify_pck(pem, anchors, at, &memo)?);
            cache.pck.insert(pck_key, p.clone());
            p
        }
    };
    checks.push(Check {
        name: "pck_chain",
        detail: format!(
            "PCK certificate → PCK CA → pinned Intel SGX Root CA key, ECDSA P-256 signatures and validity at {at}; FMSPC {}",
            pck.extensions.fmspc
        ),
    });

    // Step 3: the QE report.
    let qe_key = sha256_parts(&[q.qe_report_raw, &q.qe_report_signature, &pck.leaf_point]);
    let known = cache.qe_reports.contains(&qe_key);
    if !known {
        if !x509::verify_p256_fixed(&pck.leaf_point, q.qe_report_raw, &q.qe_report_signature) {
            return Err(TdxError::BadSignature {
                what: "QE report signature by the PCK key",
            });
        }
        cache.qe_reports.insert(qe_key, ());
    }
    let mut ctx = digest::Context::new(&digest::SHA256);
    ctx.update(&q.attestation_key);
    ctx.update(q.qe_auth_data);
    let expected = ctx.finish();
    let (head, tail) = q.qe_report.report_data.split_at(32);
    if head != expected.as_ref() || tail.iter().any(|b| *b != 0) {
        return Err(TdxError::QeBinding {
            reason: format!(
                "expected SHA-256(attestation key ‖ QE auth data) = {} followed by zeros, found {}",
                hex::encode(expected.as_ref()),
                hex::encode(q.qe_report.report_data)
            ),
        });
    }
    checks.push(Check {
        name: "qe_report",
        detail: "QE report signed by the PCK key and binding the attestation key".into(),
    });

    // Step 4: the quote signature.
    let mut point = [0u8; 65];
    point[0] = 4;
    point[1..].copy_from_slice(&q.attestation_key);
    let key = ParsedPublicKey::new(&signature::ECDSA_P256_SHA256_FIXED, point).map_err(|_| {
        TdxError::BadSignature {
            what: "attestation key (not a valid P-256 point)",
        }
    })?;
    key.verify_sig(q.signed, &q.signature)
        .map_err(|_| TdxError::BadSignature {
            what: "quote signature by the attestation key",
        })?;
    checks.push(Check {
        name: "quote_signature",
        detail: "ECDSA P-256/SHA-256 over header and body by the attestation key".into(),
    });

    // Steps 5–7: collateral and TCB.
    let (tcb_claims, status) = match (collateral, options.signature_only) {
        (None, true) => (None, TcbStatus::NotEvaluated),
        (None, false) => {
            return Err(TdxError::CollateralMissing {
                what: MissingCollateral::TcbCollateral,
            })
        }
        (Some(c), _) => {
            let ckey = sha256_parts(&[
                &c.tcb_info,
                &c.tcb_info_issuer_chain,
                &c.qe_identity,
                &c.qe_identity_issuer_chain,
                &c.pck_crl,
                &c.pck_crl_issuer_chain,
                &c.root_ca_crl,
            ]);
            let cached = cache
                .collateral
                .get(&ckey)
                .filter(|v| v.window.contains(at) && anchors_hold(anchors, &v.anchor_ders));
            let vc = match cached {
                Some(v) => v,
                None => {
                    let v = Arc::new(verify_collateral(c, anchors, at, &memo)?);
                    cache.collateral.insert(ckey, v.clone());
                    v
                }
            };
            let claims = evaluate(&q, &pck, &vc, options)?;
            checks.push(Check {
                name: "collateral",
                detail: format!(
                    "TCB Info and QE Identity signed by the TCB Signing key and current; PCK CRL and root CA CRL current; no certificate revoked; valid until {}",
                    vc.window.not_after
                ),
            });
            checks.push(Check {
                name: "tcb",
                detail: format!(
                    "platform {:?}, module {}, QE {:?} → {:?} (allowed: {})",
                    claims.evaluation.platform_status,
                    claims
                        .evaluation
                        .module_status
                        .map_or_else(|| "-".to_string(), |m| format!("{m:?}")),
                    claims.evaluation.qe_status,
                    claims.evaluation.status,
                    options
                        .allowed_statuses
                        .iter()
                        .map(|s| format!("{s:?}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            });
            let status = claims.evaluation.status;
            (Some(claims), status)
        }
    };

    if let Some(expected) = &options.expected_report_data {
        if expected != &q.body.report_data {
            return Err(TdxError::ReportDataMismatch {
                expected: Box::new(*expected),
                found: Box::new(q.body.report_data),
            });
        }
        checks.push(Check {
            name: "report_data",
            detail: "REPORTDATA equals the expected value".into(),
        });
    }
    Ok(Verified {
        claims: normalized(&q, &pck.extensions, status),
        platform: tdx_claims(&q, &pck.extensions, tcb_claims),
        checks,
        verified_at: at,
    })
}

/// Steps 5 (per quote), 6 and 7.
fn evaluate(
    q: &Quote<'_>,
    pck: &VerifiedPck,
    vc: &VerifiedCollateral,
    options: &Options,
) -> Result<CollateralClaims, TdxError> {
    // Revocation of this quote's chain.
    if vc.pck_crl_issuer != pck.ca_subject || vc.pck_crl_issuer_point != pck.ca_point {
        return Err(TdxError::CollateralMismatch {
            which: "PCK CRL",
            field: "issuer",
            found: "another PCK CA".into(),
            expected: "the PCK CA that issued the quote's PCK certificate".into(),
        });
    }
    if vc.pck_revoked.contains(&pck.leaf_serial) {
        return Err(TdxError::Revoked {
            which: "PCK certificate".into(),
            serial: pck.leaf_serial.clone(),
            crl: "PCK CRL",
        });
    }
    if vc.root_revoked.contains(&pck.ca_serial) {
        return Err(TdxError::Revoked {
            which: "PCK CA".into(),
            serial: pck.ca_serial.clone(),
            crl: "root CA CRL",
        });
    }
    let ext = &pck.extensions;
    let tcb_info = &vc.tcb_info;
    if tcb_info.fmspc != ext.fmspc {
        return Err(TdxError::CollateralMismatch {
            which: "TCB Info",
            field: "fmspc",
            found: tcb_info.fmspc.clone(),
            expected: ext.fmspc.clone(),
        });
    }
    if tcb_info.pce_id != ext.pce_id {
        return Err(TdxError::CollateralMismatch {
            which: "TCB Info",
            field: "pceId",
            found: tcb_info.pce_id.clone(),
            expected: ext.pce_id.clone(),
        });
    }
    // Step 6: the QE is Intel's TD QE.
    let qe = &vc.qe_identity;
    let r = &q.qe_report;
    if r.mr_signer != qe.mrsigner {
        return Err(TdxError::QeIdentityMismatch {
            field: "MRSIGNER",
            detail: hex::encode(r.mr_signer),
        });
    }
    if r.isv_prod_id != qe.isvprodid {
        return Err(TdxError::QeIdentityMismatch {
            field: "ISVPRODID",
            detail: r.isv_prod_id.to_string(),
        });
    }
    if r.misc_select & qe.miscselect_mask != qe.miscselect & qe.miscselect_mask {
        return Err(TdxError::QeIdentityMismatch {
            field: "MISCSELECT",
            detail: format!(
                "{:#010x} under mask {:#010x}",
                r.misc_select, qe.miscselect_mask
            ),
        });
    }
    if r.attributes
        .iter()
        .zip(qe.attributes.iter().zip(qe.attributes_mask.iter()))
        .any(|(a, (e, m))| a & m != e & m)
    {
        return Err(TdxError::QeIdentityMismatch {
            field: "ATTRIBUTES",
            detail: hex::encode(r.attributes),
        });
    }
    // Step 7.
    let b = &q.body;
    let module = tcb::check_module(
        tcb_info,
        &b.tee_tcb_svn,
        &b.mr_signer_seam,
        &b.seam_attributes,
    )?;
    let evaluation = tcb::evaluate(
        tcb_info,
        qe,
        ext,
        &b.tee_tcb_svn,
        b.tee_tcb_svn2.as_ref(),
        module,
        r.isv_svn,
    )?;
    if evaluation.status == TcbStatus::Revoked {
        return Err(TdxError::TcbRevoked {
            advisories: evaluation.advisory_ids,
        });
    }
    if !options.allowed_statuses.contains(&evaluation.status) {
        return Err(TdxError::TcbStatusNotAllowed {
            status: evaluation.status,
            allowed: options.allowed_statuses.clone(),
            advisories: evaluation.advisory_ids,
        });
    }
    Ok(CollateralClaims {
        evaluation,
        tcb_evaluation_data_number: tcb_info.tcb_evaluation_data_number,
        qe_identity_tcb_evaluation_data_number: qe.tcb_evaluation_data_number,
        collateral_validity: vc.window,
    })
}

/// Which PCK CA issued the PCK certificate (it names the PCK CRL to fetch).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PckCaKind {
    /// `Intel SGX PCK Platform CA`.
    Platform,
    /// `Intel SGX PCK Processor CA`.
    Processor,
}

/// What a collateral resolver must fetch for this quote: the FMSPC (TCB
/// Info) and the PCK CA kind (PCK CRL). Reads the quote's embedded PCK
/// chain (or `pck_cert_chain`) without verifying anything.
pub fn collateral_request(
    bytes: &[u8],
    pck_cert_chain: Option<&[u8]>,
) -> Result<([u8; 6], PckCaKind), TdxError> {
    let q = Quote::parse(bytes)?;
    let pem = match (pck_cert_chain, q.cert_data_type) {
        (Some(p), _) => p,
        (None, 5) => q.cert_data,
        (None, t) => {
            return Err(TdxError::CollateralMissing {
                what: MissingCollateral::PckChain { cert_data_type: t },
            })
        }
    };
    let ders = pem_chain(pem, "PCK certificate chain")?;
    let leaf = x509::parse_certificate(
        ders.first().ok_or_else(|| TdxError::MalformedCollateral {
            which: "PCK certificate chain".into(),
            reason: "is empty".into(),
        })?,
        "PCK certificate",
    )?;
    let ext = SgxExtensions::parse(&leaf)?;
    let fmspc: [u8; 6] = hex::decode(&ext.fmspc)
        .ok()
        .and_then(|v| v.try_into().ok())
        .ok_or_else(|| TdxError::PckExtension {
            name: "FMSPC",
            problem: "is not 6 bytes".into(),
        })?;
    let issuer = leaf.issuer().to_string();
    let kind = if issuer.contains("Processor CA") {
        PckCaKind::Processor
    } else {
        PckCaKind::Platform
    };
    Ok((fmspc, kind))
}
