//! AMD certificate revocation lists.
//!
//! AMD's KDS publishes one CRL per product and key family
//! (`/vcek/v1/{product}/crl`, `/vlek/v1/{product}/crl`), signed by the ARK;
//! it lists revoked ASK/ASVK serials. RFC 5280 §5 scopes a CRL to the
//! certificates its issuer issued, so a CRL signed by the ARK revokes
//! intermediates, and one signed by an ASK/ASVK (should AMD publish one)
//! revokes VCEKs/VLEKs. cogito accepts both and applies each to the right
//! certificate.

pub use cogito_core::crl::normalize_serial;
use cogito_core::crl::Crl;
use cogito_core::time::Window;
use cogito_core::VerificationTime;
use serde::Serialize;
use x509_parser::prelude::{AlgorithmIdentifier, FromDer, X509Certificate};

use crate::cert::{check_rsa_pss_sha384, check_window, rsa_public_key};
use crate::crypto;
use crate::error::SnpError;

/// A CRL whose signature, issuer and validity were checked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CheckedCrl {
    /// The issuer's subject, as text.
    pub issuer: String,
    /// thisUpdate … nextUpdate.
    pub window: Window,
    /// Revoked serial numbers, minimal big-endian bytes.
    #[serde(skip)]
    pub revoked: Vec<Vec<u8>>,
    /// Number of revoked entries.
    pub revoked_count: usize,
}

/// Parses a DER CRL (the shared strict parser of `cogito-core`).
pub fn parse_crl(der: &[u8]) -> Result<Crl<'_>, SnpError> {
    Crl::parse(der).map_err(|reason| SnpError::MalformedCertificate {
        which: "CRL".into(),
        reason,
    })
}

/// Verifies `crl` as issued by `issuer` and current at `at`: issuer name
/// (RFC 5280 §6.3.3 (b)), signature algorithm and signature (§6.3.3 (f),
/// (g)), and thisUpdate ≤ at ≤ nextUpdate (§6.3.3 (a)); a CRL without
/// nextUpdate is refused because its freshness cannot be judged.
pub fn verify_crl(
    crl: &Crl<'_>,
    issuer: &X509Certificate<'_>,
    issuer_name: &str,
    at: VerificationTime,
) -> Result<CheckedCrl, SnpError> {
    let which = format!("CRL of {issuer_name}");
    if crl.issuer_der != issuer.subject().as_raw() {
        return Err(SnpError::CertificateConstraint {
            which,
            reason: format!("issuer {} is not {}", crl.issuer, issuer.subject()),
        });
    }
    // The outer and inner AlgorithmIdentifier are byte-identical (the
    // envelope check), so one check covers both.
    let alg = AlgorithmIdentifier::from_der(crl.signature_algorithm)
        .map(|(_, a)| a)
        .map_err(|e| SnpError::MalformedCertificate {
            which: which.clone(),
            reason: format!("signatureAlgorithm: {e}"),
        })?;
    check_rsa_pss_sha384(&alg, &which)?;
    let key = rsa_public_key(issuer, issuer_name)?;
    crypto::verify_rsa_pss_sha384(key, crl.tbs, &crl.signature).map_err(|_| {
        SnpError::BadCertificateSignature {
            which: which.clone(),
            issuer: issuer_name.to_string(),
        }
    })?;
    let window = crl
        .window()
        .ok_or_else(|| SnpError::CertificateConstraint {
            which: which.clone(),
            reason: "has no nextUpdate, so its freshness cannot be judged".into(),
        })?;
    check_window(&window, &which, at)?;
    Ok(CheckedCrl {
        issuer: issuer.subject().to_string(),
        window,
        revoked_count: crl.revoked.len(),
        revoked: crl.revoked.clone(),
    })
}

impl CheckedCrl {
    /// Whether `raw_serial` is listed.
    pub fn revokes(&self, raw_serial: &[u8]) -> bool {
        let s = normalize_serial(raw_serial);
        self.revoked.iter().any(|r| r == s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_crl_is_malformed() {
        assert!(matches!(
            parse_crl(&[0x30, 0x00]),
            Err(SnpError::MalformedCertificate { .. })
        ));
    }
}
