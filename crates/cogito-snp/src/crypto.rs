//! The signature and digest primitives cogito-snp needs, over one backend.
//!
//! aws-lc-rs is the default (its P-384 verification is several times faster
//! than ring's); the `ring` feature selects ring instead, even when
//! `aws-lc` is also enabled (feature unification must not silently undo an
//! explicit choice of ring). Both verify exactly
//! the same algorithms: ECDSA P-384 with SHA-384 (reports) and RSASSA-PSS
//! with SHA-384, MGF1-SHA-384 and a 48-byte salt (AMD certificates and CRLs).

#[cfg(all(feature = "aws-lc", not(feature = "ring")))]
use aws_lc_rs as backend;
#[cfg(feature = "ring")]
use ring as backend;

#[cfg(not(any(feature = "aws-lc", feature = "ring")))]
compile_error!("cogito-snp needs a crypto backend: enable feature `aws-lc` (default) or `ring`");

use backend::digest;
use backend::signature::{self, UnparsedPublicKey};

/// The name of the backend in use, for diagnostics and benchmarks.
pub const BACKEND: &str = if cfg!(feature = "ring") {
    "ring"
} else {
    "aws-lc-rs"
};

/// A signature that does not verify, or a key that is not valid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CryptoError;

impl std::fmt::Display for CryptoError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("signature or key rejected")
    }
}

impl std::error::Error for CryptoError {}

/// SHA-256.
pub fn sha256(data: &[u8]) -> [u8; 32] {
    let d = digest::digest(&digest::SHA256, data);
    let mut out = [0u8; 32];
    out.copy_from_slice(d.as_ref());
    out
}

/// SHA-256 over several parts, as if concatenated.
pub fn sha256_parts(parts: &[&[u8]]) -> [u8; 32] {
    let mut ctx = digest::Context::new(&digest::SHA256);
    for p in parts {
        // Length-prefix each part so that ("ab","c") and ("a","bc") differ.
        ctx.update(&u64::try_from(p.len()).unwrap_or(u64::MAX).to_le_bytes());
        ctx.update(p);
    }
    let mut out = [0u8; 32];
    out.copy_from_slice(ctx.finish().as_ref());
    out
}

/// SHA-384.
pub fn sha384(data: &[u8]) -> [u8; 48] {
    let d = digest::digest(&digest::SHA384, data);
    let mut out = [0u8; 48];
    out.copy_from_slice(d.as_ref());
    out
}

/// SHA-512.
pub fn sha512(data: &[u8]) -> [u8; 64] {
    let d = digest::digest(&digest::SHA512, data);
    let mut out = [0u8; 64];
    out.copy_from_slice(d.as_ref());
    out
}

/// Verifies an RSASSA-PSS signature with SHA-384, MGF1-SHA-384 and a salt
/// the length of the digest (48 bytes), as AMD signs its certificates
/// (AMD SEV-SNP ABI spec, "Certificates"; RFC 4055 §3.1). `public_key` is
/// the PKCS#1 `RSAPublicKey` from the certificate's SubjectPublicKeyInfo.
pub fn verify_rsa_pss_sha384(
    public_key: &[u8],
    message: &[u8],
    sig: &[u8],
) -> Result<(), CryptoError> {
    UnparsedPublicKey::new(&signature::RSA_PSS_2048_8192_SHA384, public_key)
        .verify(message, sig)
        .map_err(|_| CryptoError)
}

/// An ECDSA P-384 public key, parsed once so that repeated verifications
/// with a cached VCEK do not pay for decoding and validating the point.
pub struct P384Key {
    #[cfg(not(feature = "ring"))]
    parsed: signature::ParsedPublicKey,
    #[cfg(feature = "ring")]
    point: Vec<u8>,
}

impl std::fmt::Debug for P384Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("P384Key")
    }
}

impl P384Key {
    /// From an uncompressed SEC1 point (`04 ‖ X ‖ Y`, 97 bytes).
    pub fn from_sec1(point: &[u8]) -> Result<Self, CryptoError> {
        if point.len() != 97 || point.first() != Some(&0x04) {
            return Err(CryptoError);
        }
        #[cfg(not(feature = "ring"))]
        {
            let parsed =
                signature::ParsedPublicKey::new(&signature::ECDSA_P384_SHA384_FIXED, point)
                    .map_err(|_| CryptoError)?;
            Ok(P384Key { parsed })
        }
        #[cfg(feature = "ring")]
        {
            Ok(P384Key {
                point: point.to_vec(),
            })
        }
    }

    /// Verifies a fixed-width (`r ‖ s`, each 48 bytes big-endian) ECDSA
    /// P-384 signature over SHA-384(`message`).
    pub fn verify(&self, message: &[u8], fixed_sig: &[u8; 96]) -> Result<(), CryptoError> {
        #[cfg(not(feature = "ring"))]
        {
            self.parsed
                .verify_sig(message, fixed_sig)
                .map_err(|_| CryptoError)
        }
        #[cfg(feature = "ring")]
        {
            UnparsedPublicKey::new(&signature::ECDSA_P384_SHA384_FIXED, &self.point)
                .verify(message, fixed_sig)
                .map_err(|_| CryptoError)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backend_is_the_one_selected() {
        let expected = if cfg!(feature = "ring") {
            "ring"
        } else {
            "aws-lc-rs"
        };
        assert_eq!(BACKEND, expected);
        eprintln!("crypto backend: {BACKEND}");
    }

    #[test]
    fn digests_known_answers() {
        assert_eq!(
            hex::encode(sha256(b"abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(&hex::encode(sha384(b"abc"))[..16], "cb00753f45a35e8b");
        assert_eq!(&hex::encode(sha512(b"abc"))[..16], "ddaf35a193617aba");
    }

    #[test]
    fn p384_key_rejects_bad_points() {
        assert!(P384Key::from_sec1(&[0u8; 97]).is_err());
        assert!(P384Key::from_sec1(&[4u8; 65]).is_err());
    }
}
