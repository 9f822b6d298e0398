//! Secrets sealed to the guest's ephemeral key: HPKE (RFC 9180) in base
//! mode, with
//!
//! - KEM: DHKEM(X25519, HKDF-SHA256) (0x0020) or DHKEM(P-256, HKDF-SHA256)
//!   (0x0010), the guest's choice;
//! - KDF: HKDF-SHA256 (0x0001);
//! - AEAD: AES-256-GCM (0x0002);
//! - `info`: [`HPKE_INFO`], `"cogito/v1 secret"`;
//! - `aad`: the secret's name, UTF-8, so that a ciphertext of one secret
//!   cannot be passed off as another.
//!
//! The guest makes a key pair for one attestation and throws it away after;
//! the private key never leaves it.
//!
//! The implementation is rustls's HPKE over AWS-LC (the one rustls uses for
//! Encrypted Client Hello, checked there against RFC 9180's test vectors):
//! the same cryptographic library as the rest of cogito, and several times
//! faster at X25519 than the pure-Rust `hpke` crate, which measured at a
//! tenth of the service's CPU per round trip. The tests check every seal
//! against an independent implementation (Cryspen's hpke-rs).

use rustls::crypto::aws_lc_rs::hpke::{
    DH_KEM_P256_HKDF_SHA256_AES_256, DH_KEM_X25519_HKDF_SHA256_AES_256,
};
use rustls::crypto::hpke::{EncapsulatedSecret, Hpke, HpkePrivateKey, HpkePublicKey};

/// The `info` of every seal: binds the context to this protocol.
pub const HPKE_INFO: &[u8] = b"cogito/v1 secret";

/// The guest's KEM.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Kem {
    /// DHKEM(X25519, HKDF-SHA256); 32-byte keys.
    X25519,
    /// DHKEM(P-256, HKDF-SHA256); 65-byte uncompressed points.
    P256,
}

impl Kem {
    /// The RFC 9180 KEM identifier.
    pub fn id(self) -> u16 {
        match self {
            Kem::X25519 => 0x0020,
            Kem::P256 => 0x0010,
        }
    }

    /// From an RFC 9180 KEM identifier.
    pub fn from_id(id: u16) -> Option<Kem> {
        match id {
            0x0020 => Some(Kem::X25519),
            0x0010 => Some(Kem::P256),
            _ => None,
        }
    }

    /// The name on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Kem::X25519 => "x25519",
            Kem::P256 => "p256",
        }
    }
}

/// Why sealing or opening failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SealError {
    /// The public or private key is not a valid key of its KEM.
    #[error("the {kem} key is not a valid {kem} key")]
    BadKey {
        /// The KEM.
        kem: &'static str,
    },
    /// The encapsulated key or the ciphertext is malformed, or does not
    /// open with this key, info and name.
    #[error("the sealed secret does not open with this key and name")]
    Open,
    /// HPKE refused to seal (an all-zero shared secret).
    #[error("HPKE sealing failed")]
    Seal,
}

/// A secret sealed to a guest key: the encapsulated key and the
/// ciphertext (with its 16-byte tag).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sealed {
    /// The KEM's encapsulated key (`enc`).
    pub enc: Vec<u8>,
    /// AES-256-GCM ciphertext ‖ tag.
    pub ciphertext: Vec<u8>,
}

fn suite(kem: Kem) -> &'static dyn Hpke {
    match kem {
        Kem::X25519 => DH_KEM_X25519_HKDF_SHA256_AES_256,
        Kem::P256 => DH_KEM_P256_HKDF_SHA256_AES_256,
    }
}

/// Checks that `public_key` is a valid public key of `kem` as HPKE
/// serializes it (X25519: 32 bytes, not of small order; P-256: an
/// uncompressed point on the curve), so that a request is refused before a
/// nonce is spent on it.
pub fn check_public_key(kem: Kem, public_key: &[u8]) -> Result<(), SealError> {
    use aws_lc_rs::agreement::{ParsedPublicKey, UnparsedPublicKey, ECDH_P256};
    let ok = match kem {
        Kem::X25519 => public_key.len() == 32 && x25519_agrees(public_key),
        // SEC 1 §2.3.4: 0x04 ‖ X ‖ Y, the point on the curve.
        Kem::P256 => {
            public_key.len() == 65
                && public_key.first() == Some(&4)
                && ParsedPublicKey::try_from(&UnparsedPublicKey::new(&ECDH_P256, public_key))
                    .is_ok()
        }
    };
    if ok {
        Ok(())
    } else {
        Err(SealError::BadKey { kem: kem.as_str() })
    }
}

/// Whether an X25519 agreement with `public_key` gives a shared secret:
/// a point of small order (the all-zero key among them) gives the all-zero
/// value, which RFC 7748 §6.1 and RFC 9180 §7.1.4 refuse and AWS-LC's
/// X25519 fails on, so [`seal`] could never seal to it. Any private key
/// finds them: X25519 clamps every scalar to a multiple of the cofactor, so
/// the result is zero exactly for the points of small order.
fn x25519_agrees(public_key: &[u8]) -> bool {
    use aws_lc_rs::agreement::{agree, PrivateKey, UnparsedPublicKey, X25519};
    let Ok(probe) = PrivateKey::from_private_key(&X25519, &[0x5a; 32]) else {
        return false;
    };
    agree(
        &probe,
        UnparsedPublicKey::new(&X25519, public_key),
        (),
        |_| Ok(()),
    )
    .is_ok()
}

/// Seals `plaintext` to `public_key` (serialized as HPKE serializes it).
pub fn seal(
    kem: Kem,
    public_key: &[u8],
    name: &str,
    plaintext: &[u8],
) -> Result<Sealed, SealError> {
    check_public_key(kem, public_key)?;
    let (enc, ciphertext) = suite(kem)
        .seal(
            HPKE_INFO,
            name.as_bytes(),
            plaintext,
            &HpkePublicKey(public_key.to_vec()),
        )
        .map_err(|_| SealError::Seal)?;
    Ok(Sealed {
        enc: enc.0,
        ciphertext,
    })
}

/// Opens a secret sealed to this guest key.
pub fn open(
    kem: Kem,
    private_key: &[u8],
    name: &str,
    enc: &[u8],
    ciphertext: &[u8],
) -> Result<Vec<u8>, SealError> {
    suite(kem)
        .open(
            &EncapsulatedSecret(enc.to_vec()),
            HPKE_INFO,
            name.as_bytes(),
            ciphertext,
            &HpkePrivateKey::from(private_key.to_vec()),
        )
        .map_err(|_| SealError::Open)
}

/// An ephemeral guest key pair (for the guest client and tests).
pub struct GuestKey {
    /// The KEM.
    pub kem: Kem,
    private: Vec<u8>,
    /// The public key, serialized as HPKE does.
    pub public: Vec<u8>,
}

impl std::fmt::Debug for GuestKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GuestKey")
            .field("kem", &self.kem)
            .field("public", &self.public)
            .finish_non_exhaustive()
    }
}

impl GuestKey {
    /// A fresh key pair from the system's random source.
    pub fn generate(kem: Kem) -> Result<GuestKey, SealError> {
        let (public, private) = suite(kem)
            .generate_key_pair()
            .map_err(|_| SealError::BadKey { kem: kem.as_str() })?;
        Ok(GuestKey {
            kem,
            private: private.secret_bytes().to_vec(),
            public: public.0,
        })
    }

    /// Opens a secret sealed to this key.
    pub fn open(&self, name: &str, enc: &[u8], ciphertext: &[u8]) -> Result<Vec<u8>, SealError> {
        open(self.kem, &self.private, name, enc, ciphertext)
    }
}

impl Drop for GuestKey {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.private);
    }
}

#[cfg(test)]
mod tests {
    use super::{check_public_key, seal, GuestKey, Kem, SealError, HPKE_INFO};
    use hpke_rs::prelude::*;
    use hpke_rs_crypto::types::{AeadAlgorithm, KdfAlgorithm, KemAlgorithm};

    fn independent(kem: KemAlgorithm) -> Hpke<hpke_rs_rust_crypto::HpkeRustCrypto> {
        Hpke::new(
            HpkeMode::Base,
            kem,
            KdfAlgorithm::HkdfSha256,
            AeadAlgorithm::Aes256Gcm,
        )
    }

    #[test]
    fn seal_then_open_with_both_kems() {
        for kem in [Kem::X25519, Kem::P256] {
            let g = GuestKey::generate(kem).unwrap();
            let s = seal(kem, &g.public, "disk-key", b"s3cret").unwrap();
            assert_eq!(
                g.open("disk-key", &s.enc, &s.ciphertext).unwrap(),
                b"s3cret"
            );
            // The name is bound: another name does not open it.
            assert_eq!(g.open("other", &s.enc, &s.ciphertext), Err(SealError::Open));
            // Nor does another key.
            let h = GuestKey::generate(kem).unwrap();
            assert!(h.open("disk-key", &s.enc, &s.ciphertext).is_err());
        }
    }

    /// Our seal opens with Cryspen's hpke-rs, and theirs with our open: the
    /// suite, info and aad are RFC 9180's, not an agreement of one library
    /// with itself.
    #[test]
    fn interoperates_with_an_independent_implementation() {
        for (kem, alg) in [
            (Kem::X25519, KemAlgorithm::DhKem25519),
            (Kem::P256, KemAlgorithm::DhKemP256),
        ] {
            let mut theirs = independent(alg);
            let kp = theirs.generate_key_pair().unwrap();
            let (sk, pk) = kp.into_keys();
            let s = seal(kem, pk.as_slice(), "name", b"payload").unwrap();
            let opened = theirs
                .open(
                    &s.enc,
                    &sk,
                    HPKE_INFO,
                    b"name",
                    &s.ciphertext,
                    None,
                    None,
                    None,
                )
                .unwrap();
            assert_eq!(opened, b"payload");

            let g = GuestKey::generate(kem).unwrap();
            let their_pk = HpkePublicKey::new(g.public.clone());
            let (enc, ct) = theirs
                .seal(&their_pk, HPKE_INFO, b"name", b"back", None, None, None)
                .unwrap();
            assert_eq!(g.open("name", &enc, &ct).unwrap(), b"back");
        }
    }

    #[test]
    fn public_keys_are_checked_on_the_curve() {
        let g = GuestKey::generate(Kem::P256).unwrap();
        assert!(check_public_key(Kem::P256, &g.public).is_ok());
        // 65 bytes with the 0x04 prefix, not on the curve.
        let mut off = g.public.clone();
        off[64] ^= 1;
        assert!(check_public_key(Kem::P256, &off).is_err());
        assert!(check_public_key(Kem::X25519, &[9; 32]).is_ok());
        assert!(check_public_key(Kem::X25519, &[9; 33]).is_err());
    }

    /// Found by the fuzz target `v1_bodies`: an all-zero X25519 key passed
    /// the check, and `/v1/attest` verified the evidence, appraised and
    /// signed a token before sealing failed ("HPKE sealing failed"). Every
    /// point of small order is refused up front now; sealing to an
    /// accepted key works.
    #[test]
    fn x25519_key_of_small_order_is_refused_before_sealing() {
        let small_order: [[u8; 32]; 4] = [
            // The fuzzer's case: the all-zero key.
            [0; 32],
            // u = 1 (order 4) and a point of order 8 (RFC 7748's list).
            {
                let mut k = [0; 32];
                k[0] = 1;
                k
            },
            hex::decode("e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800")
                .unwrap()
                .try_into()
                .unwrap(),
            // u = p (2^255 - 19), a non-canonical encoding of 0.
            hex::decode("edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f")
                .unwrap()
                .try_into()
                .unwrap(),
        ];
        for key in small_order {
            assert_eq!(
                check_public_key(Kem::X25519, &key),
                Err(SealError::BadKey { kem: "x25519" }),
                "{}",
                hex::encode(key)
            );
            assert!(matches!(
                seal(Kem::X25519, &key, "disk-key", b"s"),
                Err(SealError::BadKey { .. })
            ));
        }
        let g = GuestKey::generate(Kem::X25519).unwrap();
        assert!(check_public_key(Kem::X25519, &g.public).is_ok());
        assert!(seal(Kem::X25519, &g.public, "disk-key", b"s").is_ok());
    }

    #[test]
    fn malformed_keys_and_ciphertexts_are_errors_not_panics() {
        assert!(matches!(
            seal(Kem::P256, &[4; 10], "n", b"x"),
            Err(SealError::BadKey { .. })
        ));
        assert!(seal(Kem::X25519, &[1; 31], "n", b"x").is_err());
        let g = GuestKey::generate(Kem::X25519).unwrap();
        assert!(g.open("n", &[], &[]).is_err());
        assert!(g.open("n", &[0; 32], &[0; 15]).is_err());
        assert!(Kem::from_id(0x0011).is_none());
        assert_eq!(Kem::from_id(Kem::P256.id()), Some(Kem::P256));
    }
}
