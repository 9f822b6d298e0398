//! X.509 v3 certificates and v2 CRLs shaped like AMD's, signed with
//! RSASSA-PSS SHA-384 by a FAKE key.

use crate::der;
use crate::keys::{rsassa_pss_sha384_alg_id, RsaKey, Trailer};

/// Standard extension OIDs.
pub mod oids {
    /// basicConstraints.
    pub const BASIC_CONSTRAINTS: &str = "2.5.29.19";
    /// keyUsage.
    pub const KEY_USAGE: &str = "2.5.29.15";
    /// cRLNumber.
    pub const CRL_NUMBER: &str = "2.5.29.20";
}

/// keyUsage bit numbers (RFC 5280 §4.2.1.3).
pub mod key_usage {
    /// digitalSignature.
    pub const DIGITAL_SIGNATURE: u8 = 0;
    /// keyCertSign.
    pub const KEY_CERT_SIGN: u8 = 5;
    /// cRLSign.
    pub const CRL_SIGN: u8 = 6;
}

/// One extension: its OID, criticality and the raw extnValue contents
/// (the bytes inside the OCTET STRING).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Extension {
    /// Dotted OID.
    pub oid: String,
    /// critical flag (written only when TRUE, as DER requires).
    pub critical: bool,
    /// extnValue contents.
    pub value: Vec<u8>,
}

impl Extension {
    /// A non-critical extension.
    pub fn new(oid: &str, value: Vec<u8>) -> Extension {
        Extension {
            oid: oid.to_string(),
            critical: false,
            value,
        }
    }

    /// basicConstraints, critical: cA TRUE (with an optional pathLen) or
    /// an empty SEQUENCE (cA FALSE is the DEFAULT and left out).
    pub fn basic_constraints(ca: bool, path_len: Option<u64>) -> Extension {
        let mut parts = Vec::new();
        if ca {
            parts.push(der::boolean(true));
            if let Some(n) = path_len {
                parts.push(der::integer_u64(n));
            }
        }
        Extension {
            oid: oids::BASIC_CONSTRAINTS.to_string(),
            critical: true,
            value: der::seq(&parts),
        }
    }

    /// keyUsage, critical, with the given bit numbers set.
    pub fn key_usage(bits: &[u8]) -> Extension {
        Extension {
            oid: oids::KEY_USAGE.to_string(),
            critical: true,
            value: der::named_bits(bits),
        }
    }

    fn encode(&self) -> Vec<u8> {
        let mut parts = vec![der::oid(&self.oid)];
        if self.critical {
            parts.push(der::boolean(true));
        }
        parts.push(der::octet_string(&self.value));
        der::seq(&parts)
    }
}

/// How a certificate or CRL is signed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PssParams {
    /// Salt length, written in the AlgorithmIdentifier and used to sign.
    /// AMD: 48.
    pub salt_len: u8,
    /// Whether the trailer field is spelled out.
    pub trailer: Trailer,
}

impl PssParams {
    /// AMD's CA certificates and CRLs: salt 48, trailer field written out.
    pub const AMD_CA: PssParams = PssParams {
        salt_len: 48,
        trailer: Trailer::Explicit,
    };
    /// AMD's VCEK/VLEK: salt 48, trailer field left to its DEFAULT of 1.
    pub const AMD_LEAF: PssParams = PssParams {
        salt_len: 48,
        trailer: Trailer::Default,
    };

    fn alg_id(&self) -> Vec<u8> {
        rsassa_pss_sha384_alg_id(self.salt_len, self.trailer)
    }
}

/// Everything in a TBSCertificate.
#[derive(Debug, Clone)]
pub struct CertificateTemplate {
    /// serialNumber, big-endian magnitude (AMD's VCEKs use 0).
    pub serial: Vec<u8>,
    /// Issuer Name, DER.
    pub issuer: Vec<u8>,
    /// Subject Name, DER.
    pub subject: Vec<u8>,
    /// notBefore, Unix seconds.
    pub not_before: i64,
    /// notAfter, Unix seconds.
    pub not_after: i64,
    /// SubjectPublicKeyInfo, DER.
    pub spki: Vec<u8>,
    /// Extensions, in order.
    pub extensions: Vec<Extension>,
    /// Signature parameters (in both AlgorithmIdentifier fields).
    pub pss: PssParams,
}

impl CertificateTemplate {
    /// The DER TBSCertificate.
    pub fn tbs(&self) -> Vec<u8> {
        let alg = self.pss.alg_id();
        let mut parts = vec![
            der::explicit(0, &der::integer_u64(2)), // v3
            der::integer_unsigned(&self.serial),
            alg,
            self.issuer.clone(),
            der::seq(&[
                der::x509_time(self.not_before),
                der::x509_time(self.not_after),
            ]),
            self.subject.clone(),
            self.spki.clone(),
        ];
        if !self.extensions.is_empty() {
            let exts: Vec<Vec<u8>> = self.extensions.iter().map(Extension::encode).collect();
            parts.push(der::explicit(3, &der::seq(&exts)));
        }
        der::seq(&parts)
    }

    /// The signed certificate, DER.
    pub fn sign(&self, issuer_key: &RsaKey) -> Vec<u8> {
        let tbs = self.tbs();
        let sig = issuer_key.sign_pss_sha384(&tbs, usize::from(self.pss.salt_len));
        der::seq(&[tbs, self.pss.alg_id(), der::bit_string(&sig)])
    }
}

/// A revoked certificate entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Revoked {
    /// Serial, big-endian magnitude.
    pub serial: Vec<u8>,
    /// revocationDate, Unix seconds.
    pub date: i64,
}

/// Everything in a TBSCertList (RFC 5280 §5.1).
#[derive(Debug, Clone)]
pub struct CrlTemplate {
    /// Issuer Name, DER.
    pub issuer: Vec<u8>,
    /// thisUpdate.
    pub this_update: i64,
    /// nextUpdate (RFC 5280 requires it; `None` only for negative tests).
    pub next_update: Option<i64>,
    /// Revoked certificates; an empty list leaves `revokedCertificates`
    /// out, as RFC 5280 §5.1.2.6 requires.
    pub revoked: Vec<Revoked>,
    /// cRLNumber extension value.
    pub crl_number: u64,
    /// Signature parameters.
    pub pss: PssParams,
}

impl CrlTemplate {
    /// The DER TBSCertList.
    pub fn tbs(&self) -> Vec<u8> {
        let mut parts = vec![
            der::integer_u64(1), // v2
            self.pss.alg_id(),
            self.issuer.clone(),
            der::x509_time(self.this_update),
        ];
        if let Some(next) = self.next_update {
            parts.push(der::x509_time(next));
        }
        if !self.revoked.is_empty() {
            let entries: Vec<Vec<u8>> = self
                .revoked
                .iter()
                .map(|r| der::seq(&[der::integer_unsigned(&r.serial), der::x509_time(r.date)]))
                .collect();
            parts.push(der::seq(&entries));
        }
        let number = Extension::new(oids::CRL_NUMBER, der::integer_u64(self.crl_number));
        parts.push(der::explicit(0, &der::seq(&[number.encode()])));
        der::seq(&parts)
    }

    /// The signed CRL, DER.
    pub fn sign(&self, issuer_key: &RsaKey) -> Vec<u8> {
        let tbs = self.tbs();
        let sig = issuer_key.sign_pss_sha384(&tbs, usize::from(self.pss.salt_len));
        der::seq(&[tbs, self.pss.alg_id(), der::bit_string(&sig)])
    }
}
