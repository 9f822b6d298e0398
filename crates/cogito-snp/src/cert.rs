//! AMD certificates: ARK, ASK/ASVK and VCEK/VLEK.
//!
//! AMD signs every certificate and CRL with RSASSA-PSS, SHA-384, MGF1 with
//! SHA-384 and a 48-byte salt (AMD SEV-SNP ABI spec §2.3 and the VCEK
//! specification, publication 57230). The VCEK/VLEK carries its TCB and chip
//! identity in private extensions under 1.3.6.1.4.1.3704.1 (57230 §3.1).

use cogito_core::time::Window;
use cogito_core::{AmdProduct, VerificationTime};
use serde::Serialize;
use x509_parser::oid_registry::{
    OID_KEY_TYPE_EC_PUBLIC_KEY, OID_NIST_EC_P384, OID_NIST_HASH_SHA384, OID_PKCS1_RSAENCRYPTION,
    OID_PKCS1_RSASSAPSS,
};
use x509_parser::prelude::{FromDer, X509Certificate};
use x509_parser::signature_algorithm::SignatureAlgorithm;
use x509_parser::x509::AlgorithmIdentifier;

use crate::crypto;
use crate::error::SnpError;

/// id-mgf1 (RFC 4055 §2.2).
const OID_MGF1: &str = "1.2.840.113549.1.1.8";

/// Checks the signed envelope of a certificate or CRL in strict DER (see
/// [`cogito_core::der::check_signed_envelope`]): without this check one
/// real certificate could be re-encoded into endless distinct byte strings.
pub fn check_signed_envelope(der: &[u8], which: &str) -> Result<(), SnpError> {
    cogito_core::der::check_signed_envelope(der).map_err(|reason| SnpError::MalformedCertificate {
        which: which.to_string(),
        reason,
    })
}

/// Parses one DER certificate; trailing bytes are an error.
pub fn parse_certificate<'a>(der: &'a [u8], which: &str) -> Result<X509Certificate<'a>, SnpError> {
    check_signed_envelope(der, which)?;
    let (rest, cert) =
        X509Certificate::from_der(der).map_err(|e| SnpError::MalformedCertificate {
            which: which.to_string(),
            reason: e.to_string(),
        })?;
    if !rest.is_empty() {
        return Err(SnpError::MalformedCertificate {
            which: which.to_string(),
            reason: format!(
                "{} bytes of trailing data after the certificate",
                rest.len()
            ),
        });
    }
    // RFC 5280 §4.2: "A certificate MUST NOT include more than one instance
    // of a particular extension." A repeated SPL could otherwise be read
    // one way here and another way elsewhere.
    if let Err(e) = cert.tbs_certificate.extensions_map() {
        return Err(SnpError::MalformedCertificate {
            which: which.to_string(),
            reason: format!("extensions: {e}"),
        });
    }
    Ok(cert)
}

/// Checks that `alg` is RSASSA-PSS with SHA-384, MGF1-SHA-384, salt 48 and
/// trailer field 1 — the only signature algorithm AMD uses.
pub fn check_rsa_pss_sha384(alg: &AlgorithmIdentifier<'_>, which: &str) -> Result<(), SnpError> {
    const EXPECTED: &str = "RSASSA-PSS with SHA-384, MGF1-SHA-384, salt length 48";
    let unexpected = |found: String| SnpError::UnexpectedAlgorithm {
        which: which.to_string(),
        what: "signature algorithm",
        found,
        expected: EXPECTED,
    };
    match SignatureAlgorithm::try_from(alg) {
        Ok(SignatureAlgorithm::RSASSA_PSS(params)) => {
            let hash = params.hash_algorithm_oid();
            if *hash != OID_NIST_HASH_SHA384 {
                return Err(unexpected(format!("RSASSA-PSS with hash {hash}")));
            }
            let mgf = params.mask_gen_algorithm().map_err(|e| {
                unexpected(format!(
                    "RSASSA-PSS with a bad mask generation algorithm ({e})"
                ))
            })?;
            if mgf.mgf.to_id_string() != OID_MGF1 || mgf.hash != OID_NIST_HASH_SHA384 {
                return Err(unexpected(format!(
                    "RSASSA-PSS with mask generation {} over {}",
                    mgf.mgf, mgf.hash
                )));
            }
            if params.salt_length() != 48 {
                return Err(unexpected(format!(
                    "RSASSA-PSS with salt length {}",
                    params.salt_length()
                )));
            }
            if params.trailer_field() != 1 {
                return Err(unexpected(format!(
                    "RSASSA-PSS with trailer field {}",
                    params.trailer_field()
                )));
            }
            Ok(())
        }
        Ok(_) | Err(_) => Err(unexpected(alg.algorithm.to_id_string())),
    }
}

/// The PKCS#1 RSAPublicKey of an AMD CA certificate.
pub fn rsa_public_key<'a>(
    cert: &'a X509Certificate<'_>,
    which: &str,
) -> Result<&'a [u8], SnpError> {
    let spki = &cert.tbs_certificate.subject_pki;
    let alg = &spki.algorithm.algorithm;
    if *alg != OID_PKCS1_RSAENCRYPTION && *alg != OID_PKCS1_RSASSAPSS {
        return Err(SnpError::UnexpectedAlgorithm {
            which: which.to_string(),
            what: "public key algorithm",
            found: alg.to_id_string(),
            expected: "RSA",
        });
    }
    Ok(&spki.subject_public_key.data)
}

/// The uncompressed P-384 point of a VCEK/VLEK.
pub fn p384_public_key<'a>(
    cert: &'a X509Certificate<'_>,
    which: &str,
) -> Result<&'a [u8], SnpError> {
    let spki = &cert.tbs_certificate.subject_pki;
    let curve = spki
        .algorithm
        .parameters
        .as_ref()
        .and_then(|p| p.as_oid().ok());
    if spki.algorithm.algorithm != OID_KEY_TYPE_EC_PUBLIC_KEY
        || curve.as_ref() != Some(&OID_NIST_EC_P384)
    {
        return Err(SnpError::UnexpectedAlgorithm {
            which: which.to_string(),
            what: "public key algorithm",
            found: format!(
                "{} {}",
                spki.algorithm.algorithm,
                curve.map(|c| c.to_id_string()).unwrap_or_default()
            ),
            expected: "EC public key on secp384r1 (P-384)",
        });
    }
    Ok(&spki.subject_public_key.data)
}

/// Verifies that `issuer` signed `child`: the child's issuer name equals the
/// issuer's subject (RFC 5280 §6.1.3 (a)(4)), both signature algorithm
/// fields are AMD's RSASSA-PSS (§4.1.1.2 requires them equal) and the
/// signature over the TBSCertificate verifies with the issuer's RSA key.
pub fn verify_issued_by(
    child: &X509Certificate<'_>,
    child_name: &str,
    issuer: &X509Certificate<'_>,
    issuer_name: &str,
) -> Result<(), SnpError> {
    if child.issuer().as_raw() != issuer.subject().as_raw() {
        return Err(SnpError::CertificateConstraint {
            which: child_name.to_string(),
            reason: format!(
                "issuer {} is not the subject of the {issuer_name} ({})",
                child.issuer(),
                issuer.subject()
            ),
        });
    }
    check_rsa_pss_sha384(&child.signature_algorithm, child_name)?;
    check_rsa_pss_sha384(&child.tbs_certificate.signature, child_name)?;
    let key = rsa_public_key(issuer, issuer_name)?;
    crypto::verify_rsa_pss_sha384(
        key,
        child.tbs_certificate.as_ref(),
        &child.signature_value.data,
    )
    .map_err(|_| SnpError::BadCertificateSignature {
        which: child_name.to_string(),
        issuer: issuer_name.to_string(),
    })
}

/// The certificate's validity window.
pub fn validity(cert: &X509Certificate<'_>) -> Window {
    let v = cert.validity();
    Window {
        not_before: VerificationTime::from_unix(v.not_before.timestamp()),
        not_after: VerificationTime::from_unix(v.not_after.timestamp()),
    }
}

/// Checks that `t` lies within `window`.
pub fn check_window(window: &Window, which: &str, t: VerificationTime) -> Result<(), SnpError> {
    if window.contains(t) {
        Ok(())
    } else {
        Err(SnpError::OutsideValidity {
            which: which.to_string(),
            at: t,
            not_before: window.not_before,
            not_after: window.not_after,
        })
    }
}

/// Checks that an ARK/ASK/ASVK may issue certificates: basicConstraints
/// with cA = TRUE (RFC 5280 §4.2.1.9), and keyCertSign if keyUsage is
/// present (§4.2.1.3).
pub fn check_ca(cert: &X509Certificate<'_>, which: &str) -> Result<(), SnpError> {
    let constraint = |reason: String| SnpError::CertificateConstraint {
        which: which.to_string(),
        reason,
    };
    match cert.basic_constraints() {
        Ok(Some(bc)) if bc.value.ca => {}
        Ok(_) => {
            return Err(constraint(
                "is not a CA (basicConstraints cA is not TRUE)".into(),
            ))
        }
        Err(e) => return Err(constraint(format!("bad basicConstraints: {e}"))),
    }
    match cert.key_usage() {
        Ok(Some(ku)) if !ku.value.key_cert_sign() => {
            Err(constraint("keyUsage does not allow keyCertSign".into()))
        }
        Ok(_) => Ok(()),
        Err(e) => Err(constraint(format!("bad keyUsage: {e}"))),
    }
}

/// Checks that a VCEK/VLEK is not a CA.
pub fn check_not_ca(cert: &X509Certificate<'_>, which: &str) -> Result<(), SnpError> {
    match cert.basic_constraints() {
        Ok(Some(bc)) if bc.value.ca => Err(SnpError::CertificateConstraint {
            which: which.to_string(),
            reason: "an endorsement key certificate must not be a CA".into(),
        }),
        Ok(_) => Ok(()),
        Err(e) => Err(SnpError::CertificateConstraint {
            which: which.to_string(),
            reason: format!("bad basicConstraints: {e}"),
        }),
    }
}

/// The AMD-specific extensions of a VCEK or VLEK (VCEK spec 57230 §3.1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VcekExtensions {
    /// structVersion (…1.1): 0 on Milan/Genoa, 1 on Turin.
    pub struct_version: Option<u8>,
    /// productName (…1.2), e.g. `Milan-B0`.
    pub product_name: Option<String>,
    /// blSPL (…1.3.1).
    pub bl_spl: u8,
    /// teeSPL (…1.3.2).
    pub tee_spl: u8,
    /// snpSPL (…1.3.3).
    pub snp_spl: u8,
    /// ucodeSPL (…1.3.8).
    pub ucode_spl: u8,
    /// fmcSPL (…1.3.9), Turin.
    pub fmc_spl: Option<u8>,
    /// hwID (…1.4): the CHIP_ID the VCEK belongs to (VCEK only).
    #[serde(serialize_with = "cogito_core::hexser::serialize_opt")]
    pub hw_id: Option<Vec<u8>>,
    /// cspID (…1.5): the cloud provider a VLEK was issued to (VLEK only).
    pub csp_id: Option<String>,
}

const OID_STRUCT_VERSION: &str = "1.3.6.1.4.1.3704.1.1";
const OID_PRODUCT_NAME: &str = "1.3.6.1.4.1.3704.1.2";
const OID_BL_SPL: &str = "1.3.6.1.4.1.3704.1.3.1";
const OID_TEE_SPL: &str = "1.3.6.1.4.1.3704.1.3.2";
const OID_SNP_SPL: &str = "1.3.6.1.4.1.3704.1.3.3";
const OID_UCODE_SPL: &str = "1.3.6.1.4.1.3704.1.3.8";
const OID_FMC_SPL: &str = "1.3.6.1.4.1.3704.1.3.9";
const OID_HW_ID: &str = "1.3.6.1.4.1.3704.1.4";
const OID_CSP_ID: &str = "1.3.6.1.4.1.3704.1.5";

/// Decodes a DER INTEGER holding an SPL (0..=255).
fn der_u8(value: &[u8]) -> Result<u8, String> {
    match value {
        [0x02, 1, v] if *v < 0x80 => Ok(*v),
        [0x02, 2, 0x00, v] if *v >= 0x80 => Ok(*v),
        [0x02, ..] => Err("is not a DER INTEGER in 0..=255".into()),
        _ => Err("is not a DER INTEGER".into()),
    }
}

/// Decodes a DER IA5String or UTF8String.
fn der_string(value: &[u8]) -> Result<String, String> {
    match value {
        [tag @ (0x16 | 0x0c), len, rest @ ..] if usize::from(*len) == rest.len() && *len < 0x80 => {
            let s = std::str::from_utf8(rest).map_err(|_| "is not valid text".to_string())?;
            if *tag == 0x16 && !s.is_ascii() {
                return Err("is an IA5String with non-ASCII bytes".into());
            }
            Ok(s.to_string())
        }
        _ => Err("is not a short DER IA5String or UTF8String".into()),
    }
}

impl VcekExtensions {
    /// Parses a VCEK/VLEK certificate (DER) and reads its extensions, as
    /// [`verify_report`](crate::verify_report) does before it verifies the
    /// chain; nothing is verified.
    pub fn from_certificate(der: &[u8], which: &'static str) -> Result<Self, SnpError> {
        VcekExtensions::parse(&parse_certificate(der, which)?, which)
    }

    /// Reads the extensions of a VCEK/VLEK (`which` names it in errors).
    /// Requires blSPL, teeSPL, snpSPL and ucodeSPL; the caller checks
    /// the product-specific ones (fmcSPL on Turin, hwID on VCEKs).
    pub(crate) fn parse(cert: &X509Certificate<'_>, which: &'static str) -> Result<Self, SnpError> {
        let find = |oid: &'static str| -> Option<&[u8]> {
            cert.extensions()
                .iter()
                .find(|e| e.oid.to_id_string() == oid)
                .map(|e| e.value)
        };
        let bad = |name: &'static str, oid: &'static str, problem: String| SnpError::Extension {
            which,
            name,
            oid,
            problem,
        };
        let spl = |name: &'static str, oid: &'static str| -> Result<Option<u8>, SnpError> {
            find(oid)
                .map(der_u8)
                .transpose()
                .map_err(|p| bad(name, oid, p))
        };
        let required = |name: &'static str, oid: &'static str| -> Result<u8, SnpError> {
            spl(name, oid)?.ok_or_else(|| bad(name, oid, "is missing".into()))
        };
        Ok(VcekExtensions {
            struct_version: spl("structVersion", OID_STRUCT_VERSION)?,
            product_name: find(OID_PRODUCT_NAME)
                .map(der_string)
                .transpose()
                .map_err(|p| bad("productName", OID_PRODUCT_NAME, p))?,
            bl_spl: required("blSPL", OID_BL_SPL)?,
            tee_spl: required("teeSPL", OID_TEE_SPL)?,
            snp_spl: required("snpSPL", OID_SNP_SPL)?,
            ucode_spl: required("ucodeSPL", OID_UCODE_SPL)?,
            fmc_spl: spl("fmcSPL", OID_FMC_SPL)?,
            // hwID is the raw chip id in the extension value, not DER-wrapped.
            hw_id: find(OID_HW_ID).map(<[u8]>::to_vec),
            csp_id: find(OID_CSP_ID)
                .map(der_string)
                .transpose()
                .map_err(|p| bad("cspID", OID_CSP_ID, p))?,
        })
    }

    /// The product line named by productName, if present and known.
    pub fn product(&self) -> Option<AmdProduct> {
        self.product_name.as_deref().and_then(AmdProduct::from_name)
    }
}

/// The OID of the hwID extension, for messages.
pub const HW_ID_OID: &str = OID_HW_ID;
/// The OID of the fmcSPL extension, for messages.
pub const FMC_SPL_OID: &str = OID_FMC_SPL;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn der_integers() {
        assert_eq!(der_u8(&[2, 1, 0]), Ok(0));
        assert_eq!(der_u8(&[2, 1, 0x73]), Ok(0x73));
        assert_eq!(der_u8(&[2, 2, 0, 0xdc]), Ok(0xdc));
        assert!(der_u8(&[2, 1, 0x80]).is_err()); // negative
        assert!(der_u8(&[2, 2, 0, 0x10]).is_err()); // non-minimal
        assert!(der_u8(&[2, 2, 1, 0]).is_err()); // > 255
        assert!(der_u8(&[4, 1, 0]).is_err());
        assert!(der_u8(&[]).is_err());
    }

    #[test]
    fn der_strings() {
        assert_eq!(der_string(b"\x16\x08Milan-B0"), Ok("Milan-B0".to_string()));
        assert!(der_string(b"\x16\x09Milan-B0").is_err());
        assert!(der_string(b"\x04\x01a").is_err());
        assert!(der_string(&[0x16, 1, 0xff]).is_err());
    }
}
