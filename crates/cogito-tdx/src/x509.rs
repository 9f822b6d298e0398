//! Intel's certificates and CRLs: ECDSA P-256 with SHA-256 throughout
//! (Intel SGX PCK Certificate and Certificate Revocation List Profile
//! Specification). The root is pinned by its public key, never its name.

use aws_lc_rs::signature::{self, UnparsedPublicKey};
use cogito_core::crl::Crl;
use cogito_core::time::Window;
use cogito_core::{AnchorRole, TrustAnchor, TrustAnchors, VerificationTime};
use x509_parser::oid_registry::{OID_KEY_TYPE_EC_PUBLIC_KEY, OID_SIG_ECDSA_WITH_SHA256};
use x509_parser::prelude::{FromDer, X509Certificate};

use crate::error::TdxError;

fn malformed(which: &str, reason: impl Into<String>) -> TdxError {
    TdxError::MalformedCollateral {
        which: which.to_string(),
        reason: reason.into(),
    }
}

/// Parses one DER certificate: strict DER envelope, no trailing bytes, no
/// repeated extensions (RFC 5280 §4.2).
pub fn parse_certificate<'a>(der: &'a [u8], which: &str) -> Result<X509Certificate<'a>, TdxError> {
    cogito_core::der::check_signed_envelope(der).map_err(|r| malformed(which, r))?;
    let (rest, cert) =
        X509Certificate::from_der(der).map_err(|e| malformed(which, e.to_string()))?;
    if !rest.is_empty() {
        return Err(malformed(which, "trailing data after the certificate"));
    }
    cert.tbs_certificate
        .extensions_map()
        .map_err(|e| malformed(which, format!("extensions: {e}")))?;
    Ok(cert)
}

/// Parses one DER CRL (the shared strict parser of `cogito-core`).
pub fn parse_crl<'a>(der: &'a [u8], which: &str) -> Result<Crl<'a>, TdxError> {
    Crl::parse(der).map_err(|r| malformed(which, r))
}

/// Checks that a DER AlgorithmIdentifier is ecdsa-with-SHA256 with absent
/// parameters (RFC 5758 §3.2), the only one Intel's PCK profile uses.
pub fn check_ecdsa_sha256(alg_der: &[u8], which: &str) -> Result<(), TdxError> {
    // SEQUENCE { OID 1.2.840.10045.4.3.2 }
    const ECDSA_WITH_SHA256: [u8; 12] = [
        0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02,
    ];
    if alg_der == ECDSA_WITH_SHA256 {
        Ok(())
    } else {
        Err(malformed(
            which,
            format!(
                "signature algorithm {} is not ecdsa-with-SHA256",
                hex::encode(alg_der)
            ),
        ))
    }
}

/// The uncompressed P-256 point of a certificate.
pub fn p256_point<'a>(cert: &'a X509Certificate<'_>, which: &str) -> Result<&'a [u8], TdxError> {
    let spki = &cert.tbs_certificate.subject_pki;
    if spki.algorithm.algorithm != OID_KEY_TYPE_EC_PUBLIC_KEY {
        return Err(malformed(which, "public key is not an EC key"));
    }
    let point: &[u8] = &spki.subject_public_key.data;
    if point.len() != 65 || point.first() != Some(&4) {
        return Err(malformed(
            which,
            "public key is not an uncompressed P-256 point",
        ));
    }
    Ok(point)
}

/// Verifies a DER (ASN.1) ECDSA P-256/SHA-256 signature.
pub fn verify_p256_asn1(point: &[u8], message: &[u8], sig: &[u8]) -> bool {
    UnparsedPublicKey::new(&signature::ECDSA_P256_SHA256_ASN1, point)
        .verify(message, sig)
        .is_ok()
}

/// Verifies a fixed `r ‖ s` ECDSA P-256/SHA-256 signature.
pub fn verify_p256_fixed(point: &[u8], message: &[u8], sig: &[u8]) -> bool {
    UnparsedPublicKey::new(&signature::ECDSA_P256_SHA256_FIXED, point)
        .verify(message, sig)
        .is_ok()
}

/// The signatures verified during one verification. Intel's collateral
/// repeats certificates: the TCB Signing certificate signs both TCB Info and
/// QE Identity and comes with each, and the PCK CA that issued the quote's
/// PCK certificate also issues the PCK CRL and comes with it. Each such
/// signature is verified once per verification; a repeat is recognised by
/// its exact bytes (key, message and signature), never assumed.
#[derive(Debug, Default)]
pub struct SigMemo {
    verified: std::sync::Mutex<Vec<VerifiedSignature>>,
    /// TCB Signing chains verified, by their exact PEM bytes (TCB Info and
    /// QE Identity usually come with the same one).
    signers: std::sync::Mutex<Vec<(Vec<u8>, VerifiedSigner)>>,
}

/// A verified TCB Signing certificate: its key, serial (for the root CA
/// CRL), the window of its chain and the anchor it ended in.
#[derive(Debug, Clone)]
pub struct VerifiedSigner {
    /// Uncompressed P-256 point.
    pub point: Vec<u8>,
    /// Raw serial number.
    pub serial: Vec<u8>,
    /// The chain's validity window.
    pub window: Window,
    /// The pinned anchor, DER.
    pub anchor_der: Vec<u8>,
}

/// (key, message, signature) of a signature that verified.
type VerifiedSignature = (Vec<u8>, Vec<u8>, Vec<u8>);

impl SigMemo {
    fn seen(&self, point: &[u8], message: &[u8], sig: &[u8]) -> bool {
        self.verified.lock().is_ok_and(|v| {
            v.iter()
                .any(|(p, m, s)| s == sig && p == point && m == message)
        })
    }

    fn remember(&self, point: &[u8], message: &[u8], sig: &[u8]) {
        if let Ok(mut v) = self.verified.lock() {
            v.push((point.to_vec(), message.to_vec(), sig.to_vec()));
        }
    }

    /// The signer verified for this exact issuer chain, if any.
    pub fn signer(&self, chain_pem: &[u8]) -> Option<VerifiedSigner> {
        self.signers.lock().ok().and_then(|v| {
            v.iter()
                .find(|(pem, _)| pem == chain_pem)
                .map(|(_, s)| s.clone())
        })
    }

    /// Remembers a verified signer chain.
    pub fn remember_signer(&self, chain_pem: &[u8], signer: VerifiedSigner) {
        if let Ok(mut v) = self.signers.lock() {
            v.push((chain_pem.to_vec(), signer));
        }
    }

    /// [`verify_p256_asn1`], once per (key, message, signature).
    pub fn verify_p256_asn1(&self, point: &[u8], message: &[u8], sig: &[u8]) -> bool {
        if self.seen(point, message, sig) {
            return true;
        }
        let ok = verify_p256_asn1(point, message, sig);
        if ok {
            self.remember(point, message, sig);
        }
        ok
    }
}

/// Verifies that `issuer` signed `child` (names equal, ecdsa-with-SHA256 in
/// both AlgorithmIdentifiers, signature valid).
pub fn verify_issued_by(
    child: &X509Certificate<'_>,
    child_name: &str,
    issuer: &X509Certificate<'_>,
    issuer_name: &str,
    memo: &SigMemo,
) -> Result<(), TdxError> {
    if child.issuer().as_raw() != issuer.subject().as_raw() {
        return Err(TdxError::CertificateConstraint {
            which: child_name.to_string(),
            reason: format!("issuer {} is not {}", child.issuer(), issuer.subject()),
        });
    }
    if child.signature_algorithm.algorithm != OID_SIG_ECDSA_WITH_SHA256 {
        return Err(malformed(
            child_name,
            "signature algorithm is not ecdsa-with-SHA256",
        ));
    }
    let point = p256_point(issuer, issuer_name)?;
    if memo.verify_p256_asn1(
        point,
        child.tbs_certificate.as_ref(),
        &child.signature_value.data,
    ) {
        Ok(())
    } else {
        Err(TdxError::BadCertificateSignature {
            which: child_name.to_string(),
            issuer: issuer_name.to_string(),
        })
    }
}

/// The validity window.
pub fn validity(cert: &X509Certificate<'_>) -> Window {
    Window {
        not_before: VerificationTime::from_unix(cert.validity().not_before.timestamp()),
        not_after: VerificationTime::from_unix(cert.validity().not_after.timestamp()),
    }
}

/// Checks `at` against a window.
pub fn check_window(window: &Window, which: &str, at: VerificationTime) -> Result<(), TdxError> {
    if window.contains(at) {
        Ok(())
    } else {
        Err(TdxError::OutsideValidity {
            which: which.to_string(),
            at,
            not_before: window.not_before,
            not_after: window.not_after,
        })
    }
}

/// Checks that a certificate may issue certificates (basicConstraints cA).
pub fn check_ca(cert: &X509Certificate<'_>, which: &str) -> Result<(), TdxError> {
    match cert.basic_constraints() {
        Ok(Some(bc)) if bc.value.ca => Ok(()),
        _ => Err(TdxError::CertificateConstraint {
            which: which.to_string(),
            reason: "is not a CA (basicConstraints cA is not TRUE)".into(),
        }),
    }
}

/// A verified chain `[leaf, (intermediate,) root]` ending in a pinned root.
pub struct CheckedChain<'a> {
    /// The certificates, leaf first; the last is the pinned anchor.
    pub certs: Vec<X509Certificate<'a>>,
    /// The intersection of their validity windows.
    pub window: Window,
}

/// Splits a PEM bundle (NUL padding allowed) into DER certificates.
pub fn pem_chain(pem: &[u8], which: &str) -> Result<Vec<Vec<u8>>, TdxError> {
    let end = pem.iter().rposition(|b| *b != 0).map_or(0, |i| i + 1);
    let text = pem.get(..end).unwrap_or_default();
    cogito_core::anchors::certificates_from_pem_or_der(text).map_err(|r| malformed(which, r))
}

/// Verifies a chain given leaf first (`ders`), whose last certificate must
/// carry the public key of a pinned Intel SGX Root CA anchor. The anchor
/// itself stands in for the supplied root (its key is what is trusted).
/// Every certificate must be valid at `at`; all but the leaf must be CAs.
pub fn verify_chain<'a>(
    ders: &'a [Vec<u8>],
    names: &[&str],
    anchors: &'a TrustAnchors,
    at: VerificationTime,
    memo: &SigMemo,
) -> Result<(CheckedChain<'a>, &'a TrustAnchor), TdxError> {
    let which = names.first().copied().unwrap_or("chain");
    if ders.len() < 2 || ders.len() > 3 || names.len() != ders.len() {
        return Err(malformed(
            which,
            format!(
                "chain has {} certificates; expected 2 or 3 ending in the root",
                ders.len()
            ),
        ));
    }
    let mut certs = Vec::with_capacity(ders.len());
    for (der, name) in ders.iter().zip(names) {
        certs.push(parse_certificate(der, name)?);
    }
    let supplied_root = certs.pop().ok_or_else(|| malformed(which, "empty chain"))?;
    let root_spki = supplied_root.tbs_certificate.subject_pki.raw;
    let anchor = anchors
        .with_role(AnchorRole::IntelSgxRoot)
        .find(|a| a.spki == root_spki)
        .ok_or_else(|| TdxError::UntrustedRoot {
            which: which.to_string(),
            detail: format!(
                "root {} has a key that is not pinned",
                supplied_root.subject()
            ),
        })?;
    // A trust anchor is an input to path validation, not a certificate to
    // validate (RFC 5280 §6.1.1 (d)); its self-signature is checked once,
    // by the built-in anchor's test, not on every chain.
    let root = parse_certificate(&anchor.der, "Intel SGX Root CA")?;
    check_ca(&root, "Intel SGX Root CA")?;
    certs.push(root);
    // Each certificate is issued by the next; all but the leaf and the
    // anchor (checked above) must be CAs.
    let mut window = match certs.last() {
        Some(root) => validity(root),
        None => return Err(malformed(which, "empty chain")),
    };
    let last = certs.len().saturating_sub(1);
    for (i, pair) in certs.windows(2).enumerate() {
        let [child, issuer] = pair else { continue };
        let child_name = names.get(i).copied().unwrap_or("certificate");
        let issuer_name = names.get(i + 1).copied().unwrap_or("issuer");
        verify_issued_by(child, child_name, issuer, issuer_name, memo)?;
        if i + 1 < last {
            check_ca(issuer, issuer_name)?;
        }
        window = window.intersect(&validity(child));
    }
    for (c, name) in certs.iter().zip(names) {
        check_window(&validity(c), name, at)?;
    }
    Ok((CheckedChain { certs, window }, anchor))
}
