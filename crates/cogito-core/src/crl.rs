//! X.509 certificate revocation lists (RFC 5280 §5), parsed strictly, for
//! both AMD's and Intel's chains. Nothing here verifies a signature: each
//! platform crate checks the issuer's signature over [`Crl::tbs`] with its
//! vendor's algorithm, the issuer name against its CA, and the window
//! against its verification time.

use x509_parser::prelude::FromDer;
use x509_parser::revocation_list::CertificateRevocationList;

use crate::der::{check_signed_envelope, der_tlv};
use crate::time::{VerificationTime, Window};

/// A parsed CRL, borrowing its DER.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Crl<'a> {
    /// The tbsCertList, DER: the bytes the signature covers.
    pub tbs: &'a [u8],
    /// The signatureAlgorithm AlgorithmIdentifier, DER (byte-identical to
    /// the signature field inside the tbsCertList; the envelope check
    /// insists).
    pub signature_algorithm: &'a [u8],
    /// The signature bits.
    pub signature: Vec<u8>,
    /// The issuer Name, DER; compare it with the issuing certificate's
    /// subject (RFC 5280 §6.3.3 (b)).
    pub issuer_der: Vec<u8>,
    /// The issuer, as text.
    pub issuer: String,
    /// thisUpdate.
    pub this_update: VerificationTime,
    /// nextUpdate; a CRL without one cannot be judged fresh.
    pub next_update: Option<VerificationTime>,
    /// Revoked serial numbers, normalized ([`normalize_serial`]).
    pub revoked: Vec<Vec<u8>>,
}

/// Strips leading zero bytes, so that serial numbers compare by value (a
/// certificate's serial INTEGER and a CRL entry's may differ in a leading
/// zero that only marks a positive number).
pub fn normalize_serial(raw: &[u8]) -> &[u8] {
    let first = raw.iter().position(|b| *b != 0).unwrap_or(raw.len());
    raw.get(first..).unwrap_or_default()
}

impl<'a> Crl<'a> {
    /// Parses one DER CRL: strict signed envelope, nothing after it.
    pub fn parse(der: &'a [u8]) -> Result<Crl<'a>, String> {
        check_signed_envelope(der)?;
        let (rest, crl) = CertificateRevocationList::from_der(der).map_err(|e| e.to_string())?;
        if !rest.is_empty() {
            return Err(format!(
                "{} bytes of trailing data after the CRL",
                rest.len()
            ));
        }
        // The envelope was checked above: SEQUENCE { tbs, alg, sig }.
        let (_, _, content, _) = der_tlv(der).ok_or("not strict DER: outer SEQUENCE")?;
        let (_, tbs, _, rest) = der_tlv(content).ok_or("not strict DER: signed part")?;
        let (_, signature_algorithm, _, _) =
            der_tlv(rest).ok_or("not strict DER: signatureAlgorithm")?;
        Ok(Crl {
            tbs,
            signature_algorithm,
            signature: crl.signature_value.data.to_vec(),
            issuer_der: crl.issuer().as_raw().to_vec(),
            issuer: crl.issuer().to_string(),
            this_update: VerificationTime::from_unix(crl.last_update().timestamp()),
            next_update: crl
                .next_update()
                .map(|t| VerificationTime::from_unix(t.timestamp())),
            revoked: crl
                .iter_revoked_certificates()
                .map(|r| normalize_serial(r.raw_serial()).to_vec())
                .collect(),
        })
    }

    /// thisUpdate … nextUpdate, when there is a nextUpdate.
    pub fn window(&self) -> Option<Window> {
        self.next_update.map(|next| Window {
            not_before: self.this_update,
            not_after: next,
        })
    }

    /// Whether the certificate with this serial number (raw INTEGER
    /// content) is listed.
    pub fn revokes(&self, raw_serial: &[u8]) -> bool {
        let s = normalize_serial(raw_serial);
        self.revoked.iter().any(|r| r == s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serials_compare_by_value() {
        assert_eq!(normalize_serial(&[0, 0, 0x80, 1]), &[0x80, 1]);
        assert_eq!(normalize_serial(&[0]), &[] as &[u8]);
        assert_eq!(normalize_serial(&[]), &[] as &[u8]);
    }

    #[test]
    fn garbage_and_trailing_bytes_are_refused() {
        assert!(Crl::parse(&[]).is_err());
        assert!(Crl::parse(&[0x30, 0x00]).is_err());
        assert!(Crl::parse(&[0x30, 0x03, 0x02, 0x01, 0x00, 0x00]).is_err());
    }
}
