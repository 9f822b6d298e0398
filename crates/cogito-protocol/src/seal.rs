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

/// The encodings of the X25519 points of small order, on the curve and on
/// its twist (u = 0, 1, the two points of order 8, p − 1, and the
/// non-canonical p and p + 1), as libsodium lists them. An agreement with
/// any of them gives the all-zero value — X25519 clamps every scalar to a
/// multiple of the cofactor — which RFC 7748 §6.1 and RFC 9180 §7.1.4
/// refuse and AWS-LC's X25519 fails on, so [`seal`] could never seal to
/// it. No other point gives zero, and no other encoding of these exists
/// below 2^255: the test `small_order_table_is_exactly_what_an_agreement_refuses`
/// checks the table against a real agreement.
///
/// Looking the key up replaces that probing agreement: it cost one X25519
/// multiplication (about 19 µs) on every check, and the service checks each
/// guest key twice (on arrival and before sealing).
const X25519_SMALL_ORDER: [[u8; 32]; 7] = [
    [0; 32],
    [
        1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0,
    ],
    [
        0xe0, 0xeb, 0x7a, 0x7c, 0x3b, 0x41, 0xb8, 0xae, 0x16, 0x56, 0xe3, 0xfa, 0xf1, 0x9f, 0xc4,
        0x6a, 0xda, 0x09, 0x8d, 0xeb, 0x9c, 0x32, 0xb1, 0xfd, 0x86, 0x62, 0x05, 0x16, 0x5f, 0x49,
        0xb8, 0x00,
    ],
    [
        0x5f, 0x9c, 0x95, 0xbc, 0xa3, 0x50, 0x8c, 0x24, 0xb1, 0xd0, 0xb1, 0x55, 0x9c, 0x83, 0xef,
        0x5b, 0x04, 0x44, 0x5c, 0xc4, 0x58, 0x1c, 0x8e, 0x86, 0xd8, 0x22, 0x4e, 0xdd, 0xd0, 0x9f,
        0x11, 0x57,
    ],
    // p − 1, p, p + 1 (p = 2^255 − 19), little-endian.
    [
        0xec, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 0x7f,
    ],
    [
        0xed, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 0x7f,
    ],
    [
        0xee, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 0x7f,
    ],
];

/// Whether an X25519 agreement with `public_key` (32 bytes) gives a shared
/// secret: false for the points of small order. RFC 7748 §5: the most
/// significant bit of the encoding is ignored, so it is masked here too.
fn x25519_agrees(public_key: &[u8]) -> bool {
    let Ok(mut u) = <[u8; 32]>::try_from(public_key) else {
        return false;
    };
    if let Some(last) = u.last_mut() {
        *last &= 0x7f;
    }
    !X25519_SMALL_ORDER.contains(&u)
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

    /// What the table replaced: an agreement with a fixed private key,
    /// which fails exactly for the points of small order.
    fn agreement_fails(public_key: &[u8]) -> bool {
        use aws_lc_rs::agreement::{agree, PrivateKey, UnparsedPublicKey, X25519};
        let probe = PrivateKey::from_private_key(&X25519, &[0x5a; 32]).unwrap();
        agree(
            &probe,
            UnparsedPublicKey::new(&X25519, public_key),
            (),
            |_| Ok(()),
        )
        .is_err()
    }

    #[test]
    fn small_order_table_is_exactly_what_an_agreement_refuses() {
        for entry in super::X25519_SMALL_ORDER {
            for top in [0u8, 0x80] {
                let mut key = entry;
                key[31] |= top;
                assert!(agreement_fails(&key), "{}", hex::encode(key));
                assert!(check_public_key(Kem::X25519, &key).is_err());
            }
        }
        // Keys that differ from an entry in one bit, and fresh keys: the
        // agreement succeeds, and the table lets them through.
        let mut keys: Vec<[u8; 32]> = Vec::new();
        for entry in super::X25519_SMALL_ORDER {
            for bit in 0..255 {
                let mut key = entry;
                key[bit / 8] ^= 1 << (bit % 8);
                keys.push(key);
            }
        }
        for _ in 0..64 {
            let g = GuestKey::generate(Kem::X25519).unwrap();
            keys.push(g.public.clone().try_into().unwrap());
        }
        for key in keys {
            let listed = {
                let mut k = key;
                k[31] &= 0x7f;
                super::X25519_SMALL_ORDER.contains(&k)
            };
            assert_eq!(agreement_fails(&key), listed, "{}", hex::encode(key));
            assert_eq!(check_public_key(Kem::X25519, &key).is_err(), listed);
        }
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
