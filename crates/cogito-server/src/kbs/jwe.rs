//! A resource for a KBS guest: a JWE (RFC 7516) in the flattened JSON
//! serialization (§7.2.2), content encrypted with A256GCM (RFC 7518 §5.3)
//! under a fresh content-encryption key (CEK), the CEK delivered to the
//! guest's `tee-pubkey`:
//!
//! - EC keys (P-256, P-384, P-521): `ECDH-ES+A256KW` (RFC 7518 §4.6): an
//!   ephemeral key pair on the guest's curve, its public half in the
//!   protected header's `epk`; the shared secret through the Concat KDF
//!   (NIST SP 800-56A §5.8.1, with RFC 7518 §4.6.2's fields: AlgorithmID
//!   `"ECDH-ES+A256KW"`, empty PartyUInfo and PartyVInfo, SuppPubInfo 256)
//!   into a key-encryption key that wraps the CEK with AES Key Wrap
//!   (RFC 3394);
//! - RSA keys: `RSA-OAEP-256` (RFC 7518 §4.3: OAEP with SHA-256 and MGF1
//!   with SHA-256) encrypts the CEK. `RSA1_5`, which upstream still
//!   accepts with a warning, is refused: PKCS #1 v1.5 encryption is
//!   deprecated for its padding oracles.
//!
//! The AAD of the content encryption is `ASCII(BASE64URL(protected
//! header))` (RFC 7516 §5.1 step 14), as Trustee computes it.
//! Everything here is AWS-LC through aws-lc-rs.

use aws_lc_rs::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM};
use aws_lc_rs::agreement::{self, EphemeralPrivateKey, UnparsedPublicKey};
use aws_lc_rs::key_wrap::{AesKek, KeyWrap as _, AES_256};
use base64::Engine as _;
use sha2::{Digest as _, Sha256};
use zeroize::Zeroizing;

/// `ECDH-ES+A256KW`.
pub const ECDH_ES_A256KW: &str = "ECDH-ES+A256KW";
/// `RSA-OAEP-256`.
pub const RSA_OAEP_256: &str = "RSA-OAEP-256";
/// `A256GCM`.
pub const A256GCM: &str = "A256GCM";

/// Why a resource could not be encrypted to a key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JweError {
    /// The key is not one this KBS encrypts to.
    #[error("tee-pubkey: {0}")]
    Key(String),
    /// The cryptographic library failed.
    #[error("encryption failed")]
    Crypto,
}

fn b64url(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn unb64url(field: &str, text: &str) -> Result<Vec<u8>, JweError> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(text)
        .map_err(|_| JweError::Key(format!("{field} is not base64url")))
}

/// The guest's key, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecipientKey {
    /// An EC public key: the curve's JOSE name and `04 ‖ x ‖ y`.
    Ec {
        /// `P-256`, `P-384` or `P-521`.
        crv: &'static str,
        /// The uncompressed point.
        point: Vec<u8>,
    },
    /// An RSA public key as SubjectPublicKeyInfo DER.
    Rsa {
        /// The DER.
        spki: Vec<u8>,
        /// The modulus length in bits.
        bits: usize,
    },
}

fn coordinate_len(crv: &str) -> Option<(&'static str, usize)> {
    match crv {
        "P-256" => Some(("P-256", 32)),
        "P-384" => Some(("P-384", 48)),
        "P-521" => Some(("P-521", 66)),
        _ => None,
    }
}

/// A DER length.
fn der_len(out: &mut Vec<u8>, len: usize) {
    if len < 0x80 {
        out.push(u8::try_from(len).unwrap_or(0));
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|b| **b == 0).count();
        let significant = bytes.get(skip..).unwrap_or_default();
        out.push(0x80 | u8::try_from(significant.len()).unwrap_or(0));
        out.extend_from_slice(significant);
    }
}

fn der(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(content.len() + 6);
    out.push(tag);
    der_len(&mut out, content.len());
    out.extend_from_slice(content);
    out
}

/// A DER INTEGER from unsigned big-endian bytes (leading zeros dropped, a
/// zero byte added where the top bit is set).
fn der_uint(bytes: &[u8]) -> Vec<u8> {
    let trimmed: &[u8] = match bytes.iter().position(|b| *b != 0) {
        Some(i) => bytes.get(i..).unwrap_or_default(),
        None => &[0],
    };
    let mut content = Vec::with_capacity(trimmed.len() + 1);
    if trimmed.first().is_some_and(|b| b & 0x80 != 0) {
        content.push(0);
    }
    content.extend_from_slice(trimmed);
    der(0x02, &content)
}

/// SubjectPublicKeyInfo for rsaEncryption (RFC 8017 A.1.1, RFC 5280 §4.1).
fn rsa_spki(n: &[u8], e: &[u8]) -> Vec<u8> {
    // AlgorithmIdentifier { rsaEncryption (1.2.840.113549.1.1.1), NULL }
    const ALGORITHM: &[u8] = &[
        0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00,
    ];
    let mut key = der_uint(n);
    key.extend(der_uint(e));
    let rsa_public_key = der(0x30, &key);
    let mut bits = vec![0u8];
    bits.extend(rsa_public_key);
    let mut spki = ALGORITHM.to_vec();
    spki.extend(der(0x03, &bits));
    der(0x30, &spki)
}

impl RecipientKey {
    /// From a `tee-pubkey` JWK (`{"kty":"EC","crv","x","y"}` or
    /// `{"kty":"RSA","n","e"}`). An EC point must be on its curve; an RSA
    /// modulus must be 2048 to 8192 bits.
    pub fn from_jwk(jwk: &serde_json::Value) -> Result<RecipientKey, JweError> {
        let field = |name: &str| jwk.get(name).and_then(|v| v.as_str());
        match field("kty") {
            Some("EC") => {
                let crv = field("crv").unwrap_or_default();
                let (crv, len) = coordinate_len(crv).ok_or_else(|| {
                    JweError::Key(format!("curve {crv:?}; P-256, P-384 or P-521 expected"))
                })?;
                let x = unb64url("x", field("x").unwrap_or_default())?;
                let y = unb64url("y", field("y").unwrap_or_default())?;
                if x.len() != len || y.len() != len {
                    return Err(JweError::Key(format!(
                        "{crv} coordinates are {len} bytes; got {} and {}",
                        x.len(),
                        y.len()
                    )));
                }
                let mut point = Vec::with_capacity(1 + 2 * len);
                point.push(4);
                point.extend(x);
                point.extend(y);
                // On the curve: AWS-LC parses (and checks) the point.
                let alg = match crv {
                    "P-256" => &aws_lc_rs::signature::ECDSA_P256_SHA256_FIXED,
                    "P-384" => &aws_lc_rs::signature::ECDSA_P384_SHA384_FIXED,
                    _ => &aws_lc_rs::signature::ECDSA_P521_SHA512_FIXED,
                };
                aws_lc_rs::signature::ParsedPublicKey::new(alg, &point)
                    .map_err(|_| JweError::Key(format!("not a point on {crv}")))?;
                Ok(RecipientKey::Ec { crv, point })
            }
            Some("RSA") => {
                let n = unb64url("n", field("n").unwrap_or_default())?;
                let e = unb64url("e", field("e").unwrap_or_default())?;
                let spki = rsa_spki(&n, &e);
                let key = aws_lc_rs::rsa::PublicEncryptingKey::from_der(&spki)
                    .map_err(|_| JweError::Key("not a usable RSA public key".into()))?;
                let bits = key.key_size_bits();
                if !(2048..=8192).contains(&bits) {
                    return Err(JweError::Key(format!(
                        "an RSA key of {bits} bits; 2048 to 8192 expected"
                    )));
                }
                Ok(RecipientKey::Rsa { spki, bits })
            }
            other => Err(JweError::Key(format!("kty {other:?}; EC or RSA expected"))),
        }
    }

    /// The `alg` used for this key.
    pub fn alg(&self) -> &'static str {
        match self {
            RecipientKey::Ec { .. } => ECDH_ES_A256KW,
            RecipientKey::Rsa { .. } => RSA_OAEP_256,
        }
    }
}

/// The Concat KDF of RFC 7518 §4.6.2 for `ECDH-ES+A256KW` (one SHA-256
/// round gives the 256 bits).
fn concat_kdf_a256kw(z: &[u8]) -> Zeroizing<[u8; 32]> {
    let alg = ECDH_ES_A256KW.as_bytes();
    let mut h = Sha256::new();
    h.update(1u32.to_be_bytes()); // round counter
    h.update(z);
    h.update(u32::try_from(alg.len()).unwrap_or(0).to_be_bytes());
    h.update(alg);
    h.update(0u32.to_be_bytes()); // PartyUInfo: empty
    h.update(0u32.to_be_bytes()); // PartyVInfo: empty
    h.update(256u32.to_be_bytes()); // SuppPubInfo: keydatalen in bits
    Zeroizing::new(h.finalize().into())
}

fn ec_agreement(crv: &str) -> &'static agreement::Algorithm {
    match crv {
        "P-256" => &agreement::ECDH_P256,
        "P-384" => &agreement::ECDH_P384,
        _ => &agreement::ECDH_P521,
    }
}

/// Encrypts `plaintext` to `key`: the flattened JWE JSON.
pub fn encrypt(key: &RecipientKey, plaintext: &[u8]) -> Result<serde_json::Value, JweError> {
    let rng = aws_lc_rs::rand::SystemRandom::new();
    let mut cek = Zeroizing::new([0u8; 32]);
    aws_lc_rs::rand::fill(cek.as_mut_slice()).map_err(|_| JweError::Crypto)?;

    let (header, encrypted_key) = match key {
        RecipientKey::Ec { crv, point } => {
            let alg = ec_agreement(crv);
            let ephemeral =
                EphemeralPrivateKey::generate(alg, &rng).map_err(|_| JweError::Crypto)?;
            let epk = ephemeral
                .compute_public_key()
                .map_err(|_| JweError::Crypto)?;
            let epk = epk.as_ref();
            let half = epk.len().saturating_sub(1) / 2;
            let (x, y) = epk
                .get(1..)
                .map(|c| c.split_at(half))
                .ok_or(JweError::Crypto)?;
            let kek = agreement::agree_ephemeral(
                ephemeral,
                UnparsedPublicKey::new(alg, point),
                JweError::Crypto,
                |z| Ok(concat_kdf_a256kw(z)),
            )?;
            let kek = AesKek::new(&AES_256, kek.as_slice()).map_err(|_| JweError::Crypto)?;
            let mut wrapped = [0u8; 40];
            let wrapped = kek
                .wrap(cek.as_slice(), &mut wrapped)
                .map_err(|_| JweError::Crypto)?
                .to_vec();
            (
                serde_json::json!({
                    "alg": ECDH_ES_A256KW,
                    "enc": A256GCM,
                    "epk": { "kty": "EC", "crv": crv, "x": b64url(x), "y": b64url(y) },
                }),
                wrapped,
            )
        }
        RecipientKey::Rsa { spki, .. } => {
            let public = aws_lc_rs::rsa::PublicEncryptingKey::from_der(spki)
                .map_err(|_| JweError::Crypto)?;
            let oaep = aws_lc_rs::rsa::OaepPublicEncryptingKey::new(public)
                .map_err(|_| JweError::Crypto)?;
            let mut out = vec![0u8; oaep.ciphertext_size()];
            let n = oaep
                .encrypt(
                    &aws_lc_rs::rsa::OAEP_SHA256_MGF1SHA256,
                    cek.as_slice(),
                    &mut out,
                    None,
                )
                .map_err(|_| JweError::Crypto)?
                .len();
            out.truncate(n);
            (
                serde_json::json!({ "alg": RSA_OAEP_256, "enc": A256GCM }),
                out,
            )
        }
    };

    let protected = b64url(&serde_json::to_vec(&header).map_err(|_| JweError::Crypto)?);
    let mut iv = [0u8; 12];
    aws_lc_rs::rand::fill(&mut iv).map_err(|_| JweError::Crypto)?;
    let content_key = LessSafeKey::new(
        UnboundKey::new(&AES_256_GCM, cek.as_slice()).map_err(|_| JweError::Crypto)?,
    );
    let mut ciphertext = plaintext.to_vec();
    let tag = content_key
        .seal_in_place_separate_tag(
            Nonce::assume_unique_for_key(iv),
            Aad::from(protected.as_bytes()),
            &mut ciphertext,
        )
        .map_err(|_| JweError::Crypto)?;
    Ok(serde_json::json!({
        "protected": protected,
        "encrypted_key": b64url(&encrypted_key),
        "iv": b64url(&iv),
        "ciphertext": b64url(&ciphertext),
        "tag": b64url(tag.as_ref()),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn der_integers_and_lengths() {
        assert_eq!(der_uint(&[0, 0, 1]), vec![2, 1, 1]);
        assert_eq!(der_uint(&[0x80]), vec![2, 2, 0, 0x80]);
        assert_eq!(der_uint(&[]), vec![2, 1, 0]);
        let mut out = vec![];
        der_len(&mut out, 300);
        assert_eq!(out, vec![0x82, 1, 44]);
    }

    #[test]
    fn keys_are_checked() {
        let bad_point =
            serde_json::json!({"kty":"EC","crv":"P-256","x": b64url(&[1;32]),"y": b64url(&[2;32])});
        assert!(RecipientKey::from_jwk(&bad_point).is_err());
        let curve = serde_json::json!({"kty":"EC","crv":"secp256k1","x":"","y":""});
        assert!(RecipientKey::from_jwk(&curve).is_err());
        let oct = serde_json::json!({"kty":"oct","k":"AA"});
        assert!(RecipientKey::from_jwk(&oct).is_err());
        let small = serde_json::json!({"kty":"RSA","n": b64url(&[0xc5; 64]),"e":"AQAB"});
        assert!(RecipientKey::from_jwk(&small).is_err());
    }
}
