//! Deterministic FAKE keys and signatures.
//!
//! Every key is derived from a label (`"milan/ark"`, `"genoa/vcek"`) by
//! seeding ChaCha20 with SHA-256 of the label, so the same label always
//! gives the same key, independent of the order keys are made in. RSA-PSS
//! signatures draw their salt from a ChaCha20 seeded with the hash of the
//! signed bytes and ECDSA is RFC 6979: regenerating gives identical bytes.

use p384::ecdsa::signature::{RandomizedSigner, SignatureEncoding, Signer};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use rsa::traits::PublicKeyParts;
use rsa::{RsaPrivateKey, RsaPublicKey};
use sha2::{Digest, Sha256, Sha384};

use crate::der;

/// Domain separation for every seed the testkit derives; bumping it
/// changes every key and signature.
const SEED_DOMAIN: &str = "cogito-testkit v1";

/// SHA-256.
pub fn sha256(data: &[u8]) -> [u8; 32] {
    Sha256::digest(data).into()
}

/// SHA-384.
pub fn sha384(data: &[u8]) -> [u8; 48] {
    Sha384::digest(data).into()
}

/// A ChaCha20 generator seeded from `purpose` and `label`.
pub fn seeded_rng(purpose: &str, label: &[u8]) -> ChaCha20Rng {
    let mut h = Sha256::new();
    h.update(SEED_DOMAIN.as_bytes());
    h.update([0]);
    h.update(purpose.as_bytes());
    h.update([0]);
    h.update(label);
    ChaCha20Rng::from_seed(h.finalize().into())
}

/// OIDs of the algorithms the FAKE hierarchy uses.
pub mod oids {
    /// rsaEncryption.
    pub const RSA_ENCRYPTION: &str = "1.2.840.113549.1.1.1";
    /// id-RSASSA-PSS.
    pub const RSASSA_PSS: &str = "1.2.840.113549.1.1.10";
    /// id-mgf1.
    pub const MGF1: &str = "1.2.840.113549.1.1.8";
    /// id-sha384.
    pub const SHA384: &str = "2.16.840.1.101.3.4.2.2";
    /// id-ecPublicKey.
    pub const EC_PUBLIC_KEY: &str = "1.2.840.10045.2.1";
    /// secp384r1.
    pub const SECP384R1: &str = "1.3.132.0.34";
}

/// How the PSS parameters spell the trailer field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trailer {
    /// `[3] INTEGER 1` written out, as in AMD's ARK/ASK/ASVK certificates.
    Explicit,
    /// Left out (DEFAULT 1), as in the VCEKs AMD's KDS issues.
    Default,
}

/// The RSASSA-PSS AlgorithmIdentifier with SHA-384, MGF1-SHA-384 and salt
/// length `salt` (RFC 4055 §3.1).
pub fn rsassa_pss_sha384_alg_id(salt: u8, trailer: Trailer) -> Vec<u8> {
    let sha384 = der::seq(&[der::oid(oids::SHA384), der::null()]);
    let mut params = vec![
        der::explicit(0, &sha384),
        der::explicit(1, &der::seq(&[der::oid(oids::MGF1), sha384.clone()])),
        der::explicit(2, &der::integer_u64(u64::from(salt))),
    ];
    if trailer == Trailer::Explicit {
        params.push(der::explicit(3, &der::integer_u64(1)));
    }
    der::seq(&[der::oid(oids::RSASSA_PSS), der::seq(&params)])
}

/// A FAKE RSA key (ARK, ASK, ASVK stand-ins).
#[derive(Clone)]
pub struct RsaKey {
    private: RsaPrivateKey,
}

impl std::fmt::Debug for RsaKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RsaKey({} bits)", self.private.size() * 8)
    }
}

/// Bits of the FAKE RSA keys: the smallest size cogito accepts, to keep
/// generation fast (AMD's keys are 4096 bits).
pub const RSA_BITS: usize = 2048;

impl RsaKey {
    /// The deterministic key for `label`.
    pub fn derive(label: &str) -> RsaKey {
        let mut rng = seeded_rng("rsa key", label.as_bytes());
        let private = RsaPrivateKey::new(&mut rng, RSA_BITS).expect("RSA key generation");
        RsaKey { private }
    }

    /// The public key.
    pub fn public(&self) -> RsaPublicKey {
        self.private.to_public_key()
    }

    /// PKCS#1 RSAPublicKey, DER.
    pub fn pkcs1_public_der(&self) -> Vec<u8> {
        let p = self.public();
        der::seq(&[
            der::integer_unsigned(&p.n().to_bytes_be()),
            der::integer_unsigned(&p.e().to_bytes_be()),
        ])
    }

    /// SubjectPublicKeyInfo with rsaEncryption (as AMD's certificates).
    pub fn spki_der(&self) -> Vec<u8> {
        der::seq(&[
            der::seq(&[der::oid(oids::RSA_ENCRYPTION), der::null()]),
            der::bit_string(&self.pkcs1_public_der()),
        ])
    }

    /// RSASSA-PSS with SHA-384 / MGF1-SHA-384 and a `salt_len`-byte salt
    /// drawn deterministically from the message.
    pub fn sign_pss_sha384(&self, message: &[u8], salt_len: usize) -> Vec<u8> {
        let key = rsa::pss::SigningKey::<Sha384>::new_with_salt_len(self.private.clone(), salt_len);
        let mut rng = seeded_rng("pss salt", message);
        key.sign_with_rng(&mut rng, message).to_vec()
    }
}

/// A FAKE ECDSA P-384 key (VCEK and VLEK stand-ins).
#[derive(Clone)]
pub struct EcKey {
    signing: p384::ecdsa::SigningKey,
}

impl std::fmt::Debug for EcKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("EcKey(P-384)")
    }
}

impl EcKey {
    /// The deterministic key for `label`.
    pub fn derive(label: &str) -> EcKey {
        let mut rng = seeded_rng("p384 key", label.as_bytes());
        EcKey {
            signing: p384::ecdsa::SigningKey::random(&mut rng),
        }
    }

    /// Uncompressed SEC1 point (`04 ‖ X ‖ Y`).
    pub fn public_sec1(&self) -> Vec<u8> {
        self.signing
            .verifying_key()
            .to_encoded_point(false)
            .as_bytes()
            .to_vec()
    }

    /// SubjectPublicKeyInfo: id-ecPublicKey on secp384r1.
    pub fn spki_der(&self) -> Vec<u8> {
        der::seq(&[
            der::seq(&[der::oid(oids::EC_PUBLIC_KEY), der::oid(oids::SECP384R1)]),
            der::bit_string(&self.public_sec1()),
        ])
    }

    /// The private scalar, big-endian: for handing the key to another ECDSA
    /// implementation (see [`crate::live`]).
    pub fn private_scalar(&self) -> [u8; 48] {
        self.signing.to_bytes().into()
    }

    /// ECDSA P-384 over SHA-384(`message`), RFC 6979; `r ‖ s`, each 48
    /// bytes big-endian.
    pub fn sign(&self, message: &[u8]) -> [u8; 96] {
        let sig: p384::ecdsa::Signature = self.signing.sign(message);
        let mut out = [0u8; 96];
        out.copy_from_slice(&sig.to_bytes());
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ec_keys_and_signatures_are_deterministic() {
        let a = EcKey::derive("x");
        let b = EcKey::derive("x");
        assert_eq!(a.public_sec1(), b.public_sec1());
        assert_ne!(a.public_sec1(), EcKey::derive("y").public_sec1());
        assert_eq!(a.sign(b"m"), b.sign(b"m"));
        assert_eq!(a.public_sec1().len(), 97);
    }

    #[test]
    fn pss_alg_id_matches_amd_encoding() {
        // The outer AlgorithmIdentifier of AMD's Turin VCEK (KDS), byte for byte.
        let amd_vcek = "304106092a864886f70d01010a3034a00f300d06096086480165030402020500a11c301a06092a864886f70d010108300d06096086480165030402020500a203020130";
        let mine = rsassa_pss_sha384_alg_id(48, Trailer::Default);
        assert_eq!(hex(&mine), amd_vcek);
        // AMD's ARK/ASK spell out the trailer field: 5 more bytes.
        assert_eq!(
            rsassa_pss_sha384_alg_id(48, Trailer::Explicit).len(),
            mine.len() + 5
        );
    }

    fn hex(b: &[u8]) -> String {
        b.iter().map(|x| format!("{x:02x}")).collect()
    }
}
