//! The report data that binds evidence to one challenge and one key.
//!
//! ```text
//! report_data = SHA-512( "cogito/v1 report-data" ‖ 0x00
//!                        ‖ u16be(len(nonce))      ‖ nonce
//!                        ‖ u16be(kem_id)
//!                        ‖ u16be(len(public_key)) ‖ public_key )
//! ```
//!
//! - `nonce` is the decoded bytes of the challenge's `nonce` field;
//! - `kem_id` is the RFC 9180 KEM identifier of the guest's key
//!   (0x0020 DHKEM(X25519, HKDF-SHA256), 0x0010 DHKEM(P-256, HKDF-SHA256));
//! - `public_key` is the key as HPKE serializes it (X25519: 32 bytes; P-256:
//!   the 65-byte uncompressed point).
//!
//! The label, which ends in a NUL byte, separates this hash from any other
//! use of SHA-512 over the same bytes; the lengths make the encoding
//! injective. The 64-byte result is exactly what the TEE reports carry:
//! SEV-SNP REPORT_DATA, TDX REPORTDATA, the CCA realm challenge.

use sha2::{Digest, Sha512};

use crate::seal::Kem;

/// The domain-separation label (its NUL terminator included).
pub const REPORT_DATA_LABEL: &[u8] = b"cogito/v1 report-data\0";

/// The 64 bytes of report data for a nonce and a guest key. `None` when a
/// part is longer than a u16 length can say (no real nonce or key is).
pub fn report_data(nonce: &[u8], kem: Kem, public_key: &[u8]) -> Option<[u8; 64]> {
    let nonce_len = u16::try_from(nonce.len()).ok()?;
    let key_len = u16::try_from(public_key.len()).ok()?;
    let mut h = Sha512::new();
    h.update(REPORT_DATA_LABEL);
    h.update(nonce_len.to_be_bytes());
    h.update(nonce);
    h.update(kem.id().to_be_bytes());
    h.update(key_len.to_be_bytes());
    h.update(public_key);
    Some(h.finalize().into())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A known answer, computed independently (Python hashlib):
    /// `sha512(b"cogito/v1 report-data\0" + b"\x00\x03" + b"abc"
    ///         + b"\x00\x20" + b"\x00\x04" + b"\x01\x02\x03\x04")`.
    #[test]
    fn known_answer() {
        let rd = report_data(b"abc", Kem::X25519, &[1, 2, 3, 4]).unwrap();
        assert_eq!(
            hex::encode(rd),
            "6eaaea0885abe5e111d739a6c97e4af7012f7c34b8398e55c41b6b33f60e8ab4b51c0abad6617523f687b6f2a126a46f5b234f929200eff7d1e68ddbf8e8c3f9"
        );
    }

    #[test]
    fn every_input_changes_the_result() {
        let base = report_data(b"nonce", Kem::X25519, &[7; 32]).unwrap();
        assert_ne!(base, report_data(b"nonce!", Kem::X25519, &[7; 32]).unwrap());
        assert_ne!(base, report_data(b"nonce", Kem::P256, &[7; 32]).unwrap());
        assert_ne!(base, report_data(b"nonce", Kem::X25519, &[8; 32]).unwrap());
        // Moving a byte from the nonce to the key is not a collision.
        assert_ne!(
            report_data(b"ab", Kem::X25519, b"c").unwrap(),
            report_data(b"a", Kem::X25519, b"bc").unwrap()
        );
        assert!(report_data(&vec![0; 70_000], Kem::X25519, &[1]).is_none());
    }
}
