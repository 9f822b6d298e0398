//! COSE_Sign1 (RFC 9052 §4.2) as the CCA token uses it: tagged (tag 18),
//! an ECDSA algorithm in the protected header, an attached payload, and a
//! fixed-width `r ‖ s` signature (RFC 9053 §2.1).

use std::collections::HashSet;
use std::ops::Range;

use serde::Serialize;

use crate::cbor::{self, Item, Value};
use crate::error::CcaError;
use crate::keys::Curve;

/// COSE tag for COSE_Sign1 (RFC 9052 §2, Table 1).
pub const TAG_COSE_SIGN1: u64 = 18;

/// The COSE ECDSA algorithms (RFC 9053 §2.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum CoseAlg {
    /// -7: ECDSA w/ SHA-256 on P-256.
    ES256,
    /// -35: ECDSA w/ SHA-384 on P-384.
    ES384,
    /// -36: ECDSA w/ SHA-512 on P-521.
    ES512,
}

impl CoseAlg {
    /// From a COSE algorithm identifier.
    pub fn from_id(id: i64) -> Option<CoseAlg> {
        match id {
            -7 => Some(CoseAlg::ES256),
            -35 => Some(CoseAlg::ES384),
            -36 => Some(CoseAlg::ES512),
            _ => None,
        }
    }

    /// The name (`ES384`).
    pub fn as_str(self) -> &'static str {
        match self {
            CoseAlg::ES256 => "ES256",
            CoseAlg::ES384 => "ES384",
            CoseAlg::ES512 => "ES512",
        }
    }

    /// The curve whose keys sign with this algorithm. RFC 9053 §2.1 only
    /// recommends the pairing; CCA verifiers enforce it (the hash must be
    /// as strong as the curve).
    pub fn curve(self) -> Curve {
        match self {
            CoseAlg::ES256 => Curve::P256,
            CoseAlg::ES384 => Curve::P384,
            CoseAlg::ES512 => Curve::P521,
        }
    }
}

/// A parsed COSE_Sign1; slices borrow from the token, ranges are offsets
/// into the whole token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CoseSign1<'a> {
    /// The signature algorithm (protected header label 1).
    pub alg: CoseAlg,
    /// The serialized protected header (bstr content), exactly as signed.
    pub protected: &'a [u8],
    /// The payload (bstr content), exactly as signed.
    pub payload: &'a [u8],
    /// The signature, `r ‖ s`.
    pub signature: &'a [u8],
    /// Where `protected` sits in the token.
    pub protected_span: Range<usize>,
    /// Where `payload` sits in the token.
    pub payload_span: Range<usize>,
}

impl<'a> CoseSign1<'a> {
    /// Parses a tagged COSE_Sign1 item; `part` (`platform`/`realm`) names it
    /// in errors.
    pub fn from_item(item: &Item<'a>, part: &'static str) -> Result<Self, CcaError> {
        let err = |offset: usize, detail: String| CcaError::Cose {
            part,
            offset,
            detail,
        };
        let inner = match &item.value {
            Value::Tag(TAG_COSE_SIGN1, inner) => inner,
            _ => {
                return Err(err(
                    item.start,
                    format!(
                        "found {}; expected COSE_Sign1_Tagged (tag 18)",
                        item.describe()
                    ),
                ))
            }
        };
        let [protected, unprotected, payload, signature] = match inner.as_array() {
            Some([a, b, c, d]) => [a, b, c, d],
            _ => {
                return Err(err(
                    inner.start,
                    format!(
                    "found {}; expected an array of 4 (protected, unprotected, payload, signature)",
                    inner.describe()
                ),
                ))
            }
        };
        // [0] protected: bstr .cbor header_map (RFC 9052 §3).
        let protected_bytes = protected.as_bytes().ok_or_else(|| {
            err(
                protected.start,
                format!(
                    "protected header is {}; expected a bstr",
                    protected.describe()
                ),
            )
        })?;
        // RFC 9052 §3: an empty protected header is a zero-length bstr, not
        // an encoded empty map; decoding it as CBOR would report a
        // truncation and hide what is really wrong.
        if protected_bytes.is_empty() {
            return Err(CcaError::NoAlgorithm {
                part,
                detail: "its protected header is empty",
            });
        }
        let context = if part == "platform" {
            "platform protected header"
        } else {
            "realm protected header"
        };
        let pmap = cbor::decode(protected_bytes, protected.content_start())
            .map_err(|error| CcaError::Cbor { context, error })?;
        let pentries = pmap.as_map().ok_or_else(|| {
            err(
                pmap.start,
                format!("protected header is {}; expected a map", pmap.describe()),
            )
        })?;
        let mut alg = None;
        let mut labels: HashSet<String> = HashSet::new();
        for (k, v) in pentries {
            labels.insert(k.key_text());
            match k.as_i64() {
                Some(1) => {
                    let id = v.as_i64().ok_or_else(|| {
                        err(
                            v.start,
                            format!("alg (label 1) is {}; expected an integer", v.describe()),
                        )
                    })?;
                    alg = Some(
                        CoseAlg::from_id(id)
                            .ok_or(CcaError::UnsupportedAlgorithm { part, alg: id })?,
                    );
                }
                // RFC 9052 §3.1: a recipient must reject critical headers it
                // does not understand; this verifier understands none.
                Some(2) => {
                    return Err(err(
                        k.start,
                        "protected header lists critical headers (label 2), which this verifier does not process".into(),
                    ))
                }
                _ => {}
            }
        }
        let alg = alg.ok_or(CcaError::NoAlgorithm {
            part,
            detail: "its protected header has no alg (label 1)",
        })?;
        // [1] unprotected: header_map; no label may repeat a protected one
        // (RFC 9052 §3).
        let uentries = unprotected.as_map().ok_or_else(|| {
            err(
                unprotected.start,
                format!(
                    "unprotected header is {}; expected a map",
                    unprotected.describe()
                ),
            )
        })?;
        for (k, _) in uentries {
            if labels.contains(&k.key_text()) {
                return Err(err(
                    k.start,
                    format!(
                        "unprotected header repeats label {} of the protected header",
                        k.key_text()
                    ),
                ));
            }
        }
        // [2] payload: attached bstr (a detached nil payload has no claims).
        let payload_bytes = payload.as_bytes().ok_or_else(|| {
            err(
                payload.start,
                format!(
                    "payload is {}; expected an attached bstr",
                    payload.describe()
                ),
            )
        })?;
        // [3] signature: r ‖ s, each the curve's size (RFC 9053 §2.1).
        let sig = signature.as_bytes().ok_or_else(|| {
            err(
                signature.start,
                format!("signature is {}; expected a bstr", signature.describe()),
            )
        })?;
        let want = 2 * alg.curve().coordinate_len();
        if sig.len() != want {
            return Err(err(
                signature.start,
                format!(
                    "signature is {} bytes; {} needs {want} (r ‖ s)",
                    sig.len(),
                    alg.as_str()
                ),
            ));
        }
        Ok(CoseSign1 {
            alg,
            protected: protected_bytes,
            payload: payload_bytes,
            signature: sig,
            protected_span: protected.content_start()..protected.end,
            payload_span: payload.content_start()..payload.end,
        })
    }

    /// The bytes that are signed: `Sig_structure = ["Signature1",
    /// body_protected, external_aad = h'', payload]` (RFC 9052 §4.4).
    pub fn to_be_signed(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.protected.len() + self.payload.len() + 24);
        cbor::write_head(&mut out, 4, 4);
        cbor::write_text(&mut out, "Signature1");
        cbor::write_bytes(&mut out, self.protected);
        cbor::write_bytes(&mut out, &[]);
        cbor::write_bytes(&mut out, self.payload);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(bytes: &[u8]) -> Result<CoseSign1<'_>, CcaError> {
        let item = cbor::decode(bytes, 0).unwrap();
        CoseSign1::from_item(&item, "platform")
    }

    fn sign1(protected: &[u8], unprotected: &[u8], sig_len: usize) -> Vec<u8> {
        let mut b = vec![0xd2, 0x84];
        cbor::write_bytes(&mut b, protected);
        b.extend_from_slice(unprotected);
        cbor::write_bytes(&mut b, &[0xa0]);
        cbor::write_bytes(&mut b, &vec![0; sig_len]);
        b
    }

    #[test]
    fn parses_and_builds_sig_structure() {
        let b = sign1(&[0xa1, 0x01, 0x38, 0x22], &[0xa0], 96);
        let c = parse(&b).unwrap();
        assert_eq!(c.alg, CoseAlg::ES384);
        assert_eq!(c.protected_span, 3..7);
        assert_eq!(c.payload_span, 9..10);
        let tbs = c.to_be_signed();
        let mut want = vec![0x84, 0x6a];
        want.extend_from_slice(b"Signature1");
        want.extend_from_slice(&[0x44, 0xa1, 0x01, 0x38, 0x22, 0x40, 0x41, 0xa0]);
        assert_eq!(tbs, want);
    }

    /// Regression: an unsigned token from a development platform has an
    /// empty protected header (a zero-length bstr) and was refused as
    /// `cca.cbor.truncated`, naming a CBOR problem the token does not have.
    #[test]
    fn empty_protected_header_is_no_algorithm_not_truncated_cbor() {
        let e = parse(&sign1(&[], &[0xa0], 0)).unwrap_err();
        assert_eq!(
            e,
            CcaError::NoAlgorithm {
                part: "platform",
                detail: "its protected header is empty"
            }
        );
        assert_eq!(cogito_core::CogitoError::code(&e), "cca.token.no_algorithm");
        assert!(e.to_string().contains("unsigned"), "{e}");
    }

    #[test]
    fn refusals_name_what_is_wrong() {
        let e = parse(&sign1(&[0xa1, 0x01, 0x27], &[0xa0], 96)).unwrap_err();
        assert_eq!(
            e,
            CcaError::UnsupportedAlgorithm {
                part: "platform",
                alg: -8
            }
        );
        let e = parse(&sign1(&[0xa1, 0x01, 0x38, 0x22], &[0xa0], 64)).unwrap_err();
        assert!(e.to_string().contains("ES384 needs 96"), "{e}");
        let e = parse(&sign1(&[0xa0], &[0xa0], 96)).unwrap_err();
        assert!(e.to_string().contains("no alg"), "{e}");
        assert_eq!(cogito_core::CogitoError::code(&e), "cca.token.no_algorithm");
        let e = parse(&sign1(&[0xa2, 0x01, 0x26, 0x02, 0x80], &[0xa0], 64)).unwrap_err();
        assert!(e.to_string().contains("critical"), "{e}");
        let e = parse(&sign1(&[0xa1, 0x01, 0x26], &[0xa1, 0x01, 0x26], 64)).unwrap_err();
        assert!(e.to_string().contains("repeats label 1"), "{e}");
        let e = parse(&sign1(&[0xa1, 0x01, 0x26], &[0x80], 64)).unwrap_err();
        assert!(e.to_string().contains("unprotected header is array"), "{e}");
        // Untagged COSE_Sign1.
        let b = sign1(&[0xa1, 0x01, 0x26], &[0xa0], 64);
        let e = parse(&b[1..]).unwrap_err();
        assert!(e.to_string().contains("tag 18"), "{e}");
        // Duplicate label in the protected header.
        let e = parse(&sign1(&[0xa2, 0x01, 0x26, 0x01, 0x26], &[0xa0], 64)).unwrap_err();
        assert_eq!(cogito_core::CogitoError::code(&e), "cca.cbor.duplicate_key");
    }
}
