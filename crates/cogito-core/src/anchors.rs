//! Trust anchors: the certificates a verification may end in.
//!
//! cogito pins vendor roots: AMD's ARK and the intermediate ASK (VCEK) and
//! ASVK (VLEK) keys per product line, and Intel's SGX Root CA. The built-in
//! set comes from the platform crates; operators and tests add more with
//! `--trust-anchors DIR`. Each certificate is recognised by its subject, so
//! files may have any name.

use std::fmt;

use serde::Serialize;
use x509_parser::prelude::{FromDer, X509Certificate};

/// An AMD EPYC product line with SEV-SNP.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum AmdProduct {
    /// 3rd generation EPYC (Zen 3).
    Milan,
    /// 4th generation EPYC (Zen 4), including the Zen 4c Bergamo and Siena parts.
    Genoa,
    /// 5th generation EPYC (Zen 5).
    Turin,
}

impl AmdProduct {
    /// All product lines cogito knows.
    pub const ALL: [AmdProduct; 3] = [AmdProduct::Milan, AmdProduct::Genoa, AmdProduct::Turin];

    /// The name AMD uses in certificate subjects and KDS URLs.
    pub fn as_str(self) -> &'static str {
        match self {
            AmdProduct::Milan => "Milan",
            AmdProduct::Genoa => "Genoa",
            AmdProduct::Turin => "Turin",
        }
    }

    /// Parses a product name case-insensitively. A stepping suffix as found
    /// in VCEK `productName` (`Milan-B0`) is accepted and ignored.
    pub fn from_name(name: &str) -> Option<AmdProduct> {
        let base = name.trim().split('-').next().unwrap_or("");
        AmdProduct::ALL
            .into_iter()
            .find(|p| p.as_str().eq_ignore_ascii_case(base))
    }
}

impl fmt::Display for AmdProduct {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The role of an AMD key in the SEV-SNP hierarchy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum AmdKeyRole {
    /// AMD Root Key (self-signed, `CN=ARK-<product>`).
    Ark,
    /// AMD SEV Key, issuer of VCEKs (`CN=SEV-<product>`).
    Ask,
    /// AMD SEV VLEK Key, issuer of VLEKs (`CN=SEV-VLEK-<product>`).
    Asvk,
}

impl AmdKeyRole {
    /// Upper-case name (`ARK`, `ASK`, `ASVK`).
    pub fn as_str(self) -> &'static str {
        match self {
            AmdKeyRole::Ark => "ARK",
            AmdKeyRole::Ask => "ASK",
            AmdKeyRole::Asvk => "ASVK",
        }
    }
}

/// What a trust anchor anchors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum AnchorRole {
    /// An AMD key for one product line.
    Amd {
        /// The product line.
        product: AmdProduct,
        /// The key's role.
        role: AmdKeyRole,
    },
    /// The Intel SGX Root CA (PCK chains, TCB info and QE identity).
    IntelSgxRoot,
}

impl fmt::Display for AnchorRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AnchorRole::Amd { product, role } => write!(f, "AMD {} {}", product, role.as_str()),
            AnchorRole::IntelSgxRoot => f.write_str("Intel SGX Root CA"),
        }
    }
}

/// One trusted certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustAnchor {
    /// What it anchors.
    pub role: AnchorRole,
    /// The certificate, DER.
    pub der: Vec<u8>,
    /// The subject, as text.
    pub subject: String,
    /// The SubjectPublicKeyInfo, DER: what a chain is pinned to (a supplied
    /// root is trusted when its key is an anchor's key, whatever its other
    /// bytes).
    pub spki: Vec<u8>,
    /// Whether it is one of cogito's built-in anchors (as opposed to one an
    /// operator or test supplied).
    pub builtin: bool,
}

/// A certificate that cannot serve as an anchor.
#[derive(Debug, thiserror::Error)]
pub enum AnchorError {
    /// The bytes are not an X.509 certificate (PEM or DER).
    #[error("{source_name}: not an X.509 certificate in PEM or DER: {reason}")]
    NotACertificate {
        /// File name or description.
        source_name: String,
        /// Parser message.
        reason: String,
    },
    /// The subject is not one cogito knows how to use.
    #[error("{source_name}: certificate subject {subject:?} is not a recognised trust anchor (expected CN=ARK-<product>, CN=SEV-<product>, CN=SEV-VLEK-<product> or CN=Intel SGX Root CA)")]
    UnrecognisedSubject {
        /// File name or description.
        source_name: String,
        /// The subject found.
        subject: String,
    },
}

impl crate::CogitoError for AnchorError {
    fn code(&self) -> &'static str {
        match self {
            AnchorError::NotACertificate { .. } => "anchors.not_a_certificate",
            AnchorError::UnrecognisedSubject { .. } => "anchors.unrecognised_subject",
        }
    }

    fn class(&self) -> crate::ErrorClass {
        crate::ErrorClass::BadInput
    }
}

/// The set of trusted anchors a verification may end in.
#[derive(Debug, Clone, Default)]
pub struct TrustAnchors {
    anchors: Vec<TrustAnchor>,
}

impl TrustAnchors {
    /// An empty set (trusts nothing).
    pub fn empty() -> Self {
        TrustAnchors::default()
    }

    /// All anchors.
    pub fn iter(&self) -> impl Iterator<Item = &TrustAnchor> {
        self.anchors.iter()
    }

    /// Number of anchors.
    pub fn len(&self) -> usize {
        self.anchors.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.anchors.is_empty()
    }

    /// Anchors with the given role.
    pub fn with_role(&self, role: AnchorRole) -> impl Iterator<Item = &TrustAnchor> {
        self.anchors.iter().filter(move |a| a.role == role)
    }

    /// Adds one DER certificate, recognised by its subject. Adding the same
    /// certificate twice keeps one copy.
    pub fn add_der(
        &mut self,
        der: &[u8],
        builtin: bool,
        source_name: &str,
    ) -> Result<AnchorRole, AnchorError> {
        let (rest, cert) =
            X509Certificate::from_der(der).map_err(|e| AnchorError::NotACertificate {
                source_name: source_name.to_string(),
                reason: e.to_string(),
            })?;
        if !rest.is_empty() {
            return Err(AnchorError::NotACertificate {
                source_name: source_name.to_string(),
                reason: format!(
                    "{} bytes of trailing data after the certificate",
                    rest.len()
                ),
            });
        }
        let subject = cert.subject().to_string();
        let cn = cert
            .subject()
            .iter_common_name()
            .next()
            .and_then(|cn| cn.as_str().ok())
            .unwrap_or("");
        let role = classify_common_name(cn).ok_or_else(|| AnchorError::UnrecognisedSubject {
            source_name: source_name.to_string(),
            subject: subject.clone(),
        })?;
        if !self.anchors.iter().any(|a| a.der == der) {
            self.anchors.push(TrustAnchor {
                role,
                der: der.to_vec(),
                spki: cert.tbs_certificate.subject_pki.raw.to_vec(),
                subject,
                builtin,
            });
        }
        Ok(role)
    }

    /// Adds every certificate in `bytes`, which may be DER or one or more PEM
    /// blocks. Returns the roles added.
    pub fn add_pem_or_der(
        &mut self,
        bytes: &[u8],
        builtin: bool,
        source_name: &str,
    ) -> Result<Vec<AnchorRole>, AnchorError> {
        let ders =
            certificates_from_pem_or_der(bytes).map_err(|reason| AnchorError::NotACertificate {
                source_name: source_name.to_string(),
                reason,
            })?;
        let mut roles = Vec::with_capacity(ders.len());
        for der in ders {
            roles.push(self.add_der(&der, builtin, source_name)?);
        }
        Ok(roles)
    }

    /// Adds all anchors of `other`.
    pub fn extend(&mut self, other: TrustAnchors) {
        for a in other.anchors {
            if !self.anchors.iter().any(|b| b.der == a.der) {
                self.anchors.push(a);
            }
        }
    }
}

/// Maps an anchor's common name to its role.
fn classify_common_name(cn: &str) -> Option<AnchorRole> {
    if cn == "Intel SGX Root CA" {
        return Some(AnchorRole::IntelSgxRoot);
    }
    let (role, product) = if let Some(p) = cn.strip_prefix("ARK-") {
        (AmdKeyRole::Ark, p)
    } else if let Some(p) = cn.strip_prefix("SEV-VLEK-") {
        (AmdKeyRole::Asvk, p)
    } else if let Some(p) = cn.strip_prefix("SEV-") {
        (AmdKeyRole::Ask, p)
    } else {
        return None;
    };
    let product = AmdProduct::ALL
        .into_iter()
        .find(|x| x.as_str() == product)?;
    Some(AnchorRole::Amd { product, role })
}

/// Splits `bytes` into DER certificates: a single DER certificate, or any
/// number of PEM `CERTIFICATE` blocks (other PEM blocks are ignored; text
/// around the blocks is allowed). An input with no certificate is an error.
pub fn certificates_from_pem_or_der(bytes: &[u8]) -> Result<Vec<Vec<u8>>, String> {
    let looks_like_pem = bytes
        .windows(b"-----BEGIN".len())
        .any(|w| w == b"-----BEGIN");
    if !looks_like_pem {
        return if bytes.first() == Some(&0x30) {
            Ok(vec![bytes.to_vec()])
        } else {
            Err("neither a PEM block nor a DER SEQUENCE".to_string())
        };
    }
    let mut out = Vec::new();
    for pem in x509_parser::pem::Pem::iter_from_buffer(bytes) {
        let pem = pem.map_err(|e| format!("bad PEM: {e}"))?;
        if pem.label == "CERTIFICATE" {
            out.push(pem.contents);
        }
    }
    if out.is_empty() {
        return Err("no PEM CERTIFICATE block".to_string());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_amd_and_intel_names() {
        assert_eq!(
            classify_common_name("ARK-Milan"),
            Some(AnchorRole::Amd {
                product: AmdProduct::Milan,
                role: AmdKeyRole::Ark
            })
        );
        assert_eq!(
            classify_common_name("SEV-Genoa"),
            Some(AnchorRole::Amd {
                product: AmdProduct::Genoa,
                role: AmdKeyRole::Ask
            })
        );
        assert_eq!(
            classify_common_name("SEV-VLEK-Turin"),
            Some(AnchorRole::Amd {
                product: AmdProduct::Turin,
                role: AmdKeyRole::Asvk
            })
        );
        assert_eq!(
            classify_common_name("Intel SGX Root CA"),
            Some(AnchorRole::IntelSgxRoot)
        );
        assert_eq!(classify_common_name("SEV-Venice"), None);
        assert_eq!(classify_common_name("ARK-"), None);
        assert_eq!(classify_common_name("Something"), None);
    }

    #[test]
    fn product_names_accept_stepping_suffix() {
        assert_eq!(AmdProduct::from_name("Milan-B0"), Some(AmdProduct::Milan));
        assert_eq!(AmdProduct::from_name("genoa"), Some(AmdProduct::Genoa));
        assert_eq!(AmdProduct::from_name("Turin"), Some(AmdProduct::Turin));
        assert_eq!(AmdProduct::from_name("Rome"), None);
    }

    #[test]
    fn garbage_is_not_a_certificate() {
        let mut a = TrustAnchors::empty();
        assert!(a.add_pem_or_der(b"hello", false, "x").is_err());
        assert!(a
            .add_pem_or_der(&[0x30, 0x03, 0x02, 0x01], false, "x")
            .is_err());
        assert!(a.is_empty());
    }
}
