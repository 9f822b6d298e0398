//! FAKE CCA keys (CPAK on P-256 or P-384, RAK on P-384), their JWK, PEM and
//! COSE_Key forms, and COSE_Sign1 (RFC 9052 §4.2) as the CCA token uses it.
//!
//! Keys are derived from labels (`cca/cpak/p384`), signatures are ECDSA
//! with RFC 6979 nonces: the same inputs always give the same bytes.

use super::cbor::{int_map, Cbor};
use crate::keys::EcKey;
use crate::pem;
use crate::tdx::pki::P256Key;

/// COSE tag of COSE_Sign1_Tagged (RFC 9052 §2).
pub const TAG_COSE_SIGN1: u64 = 18;
/// COSE algorithm ES256 (RFC 9053 §2.1).
pub const ES256: i64 = -7;
/// COSE algorithm ES384.
pub const ES384: i64 = -35;

/// The name of a COSE ECDSA algorithm (`ES384`); `None` for others.
pub fn alg_name(alg: i64) -> Option<&'static str> {
    match alg {
        -7 => Some("ES256"),
        -35 => Some("ES384"),
        -36 => Some("ES512"),
        _ => None,
    }
}

/// A FAKE ECDSA key on P-256 or P-384.
#[derive(Debug, Clone)]
pub enum Key {
    /// P-256: signs ES256.
    P256(P256Key),
    /// P-384: signs ES384.
    P384(EcKey),
}

impl Key {
    /// The deterministic P-256 key for `label`.
    pub fn p256(label: &str) -> Key {
        Key::P256(P256Key::derive(label))
    }

    /// The deterministic P-384 key for `label`.
    pub fn p384(label: &str) -> Key {
        Key::P384(EcKey::derive(label))
    }

    /// The JWK / COSE curve name.
    pub fn curve(&self) -> &'static str {
        match self {
            Key::P256(_) => "P-256",
            Key::P384(_) => "P-384",
        }
    }

    /// The COSE algorithm this key signs with.
    pub fn alg(&self) -> i64 {
        match self {
            Key::P256(_) => ES256,
            Key::P384(_) => ES384,
        }
    }

    /// Bytes of one coordinate.
    pub fn coordinate_len(&self) -> usize {
        match self {
            Key::P256(_) => 32,
            Key::P384(_) => 48,
        }
    }

    /// Uncompressed SEC1 point `04 ‖ X ‖ Y`.
    pub fn public_sec1(&self) -> Vec<u8> {
        match self {
            Key::P256(k) => k.public_sec1(),
            Key::P384(k) => k.public_sec1(),
        }
    }

    /// (X, Y).
    pub fn coordinates(&self) -> (Vec<u8>, Vec<u8>) {
        let p = self.public_sec1();
        let n = self.coordinate_len();
        (p[1..1 + n].to_vec(), p[1 + n..].to_vec())
    }

    /// SubjectPublicKeyInfo DER.
    pub fn spki_der(&self) -> Vec<u8> {
        match self {
            Key::P256(k) => k.spki_der(),
            Key::P384(k) => k.spki_der(),
        }
    }

    /// PEM `PUBLIC KEY`.
    pub fn spki_pem(&self) -> String {
        pem::encode("PUBLIC KEY", &self.spki_der())
    }

    /// ECDSA with the curve's hash (SHA-256 / SHA-384), RFC 6979; `r ‖ s`.
    pub fn sign(&self, message: &[u8]) -> Vec<u8> {
        match self {
            Key::P256(k) => k.sign_raw(message).to_vec(),
            Key::P384(k) => k.sign(message).to_vec(),
        }
    }

    /// The public JWK members as the vectors' files write them (`crv`,
    /// `kty`, `x`, `y`, then a `kid` that says FAKE), indented by
    /// `indent` spaces, without a trailing newline.
    pub fn jwk(&self, kid: &str, indent: usize) -> String {
        let (x, y) = self.coordinates();
        let pad = " ".repeat(indent);
        format!(
            "{{\n{pad}  \"crv\": \"{}\",\n{pad}  \"kty\": \"EC\",\n{pad}  \"x\": \"{}\",\n{pad}  \"y\": \"{}\",\n{pad}  \"kid\": \"{kid}\"\n{pad}}}",
            self.curve(),
            base64url(&x),
            base64url(&y),
        )
    }

    /// An EC2 COSE_Key (RFC 9053 §7.1.1) of the public key, in the order
    /// of the real realm tokens: `{1: 2, -1: crv, -2: x, -3: y}`.
    pub fn cose_key(&self) -> Cbor {
        let (x, y) = self.coordinates();
        let crv = match self {
            Key::P256(_) => 1,
            Key::P384(_) => 2,
        };
        int_map(vec![
            (1, Cbor::int(2)),
            (-1, Cbor::int(crv)),
            (-2, Cbor::Bytes(x)),
            (-3, Cbor::Bytes(y)),
        ])
    }
}

/// Unpadded base64url (RFC 4648 §5), as JWK requires.
pub fn base64url(data: &[u8]) -> String {
    pem::base64(data)
        .trim_end_matches('=')
        .replace('+', "-")
        .replace('/', "_")
}

/// The serialized protected header `{1: alg}`.
pub fn protected_header(alg: i64) -> Vec<u8> {
    int_map(vec![(1, Cbor::int(alg))]).encode()
}

/// `Sig_structure = ["Signature1", protected, external_aad = h'', payload]`
/// (RFC 9052 §4.4), encoded: the bytes ECDSA signs.
pub fn sig_structure(protected: &[u8], payload: &[u8]) -> Vec<u8> {
    Cbor::Array(vec![
        Cbor::text("Signature1"),
        Cbor::bytes(protected),
        Cbor::bytes(&[]),
        Cbor::bytes(payload),
    ])
    .encode()
}

/// A COSE_Sign1 before encoding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sign1 {
    /// The serialized protected header (bstr content).
    pub protected: Vec<u8>,
    /// The unprotected header map (empty in CCA tokens).
    pub unprotected: Cbor,
    /// The payload (bstr content).
    pub payload: Vec<u8>,
    /// `r ‖ s`.
    pub signature: Vec<u8>,
    /// Whether it carries tag 18.
    pub tagged: bool,
}

impl Sign1 {
    /// Signs `payload` with `key` under the protected header `{1: alg}`
    /// (`alg` is normally `key.alg()`).
    pub fn sign(key: &Key, alg: i64, payload: Vec<u8>) -> Sign1 {
        let protected = protected_header(alg);
        let signature = key.sign(&sig_structure(&protected, &payload));
        Sign1 {
            protected,
            unprotected: Cbor::Map(vec![]),
            payload,
            signature,
            tagged: true,
        }
    }

    /// The bytes the signature covers.
    pub fn to_be_signed(&self) -> Vec<u8> {
        sig_structure(&self.protected, &self.payload)
    }

    /// As a CBOR item: `18([protected, unprotected, payload, signature])`.
    pub fn to_cbor(&self) -> Cbor {
        let array = Cbor::Array(vec![
            Cbor::bytes(&self.protected),
            self.unprotected.clone(),
            Cbor::bytes(&self.payload),
            Cbor::bytes(&self.signature),
        ]);
        if self.tagged {
            Cbor::tag(TAG_COSE_SIGN1, array)
        } else {
            array
        }
    }

    /// Encoded.
    pub fn encode(&self) -> Vec<u8> {
        self.to_cbor().encode()
    }
}
