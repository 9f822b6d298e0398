//! The attestation-result token: an EAR (draft-ietf-rats-ear) claims set
//! in a JWT signed with ES256 by one of the keys at `/v1/keys`.
//!
//! - `eat_profile`: [`EAR_PROFILE`];
//! - `iat`, `exp`: issue and expiry (seconds since the epoch);
//! - `ear.verifier-id`: `{ "build": "cogito <version>", "developer": … }`;
//! - `submods`: one appraisal per policy that accepted the evidence, named
//!   [`submod_name`]`(policy)`, each with `ear.status`,
//!   `ear.trustworthiness-vector`, `ear.appraisal-policy-id`
//!   (`policy:<name>#sha256:<digest>`), the normalized claims as
//!   `ear.veraison.annotated-evidence`, and the guest's public key as
//!   `ear.veraison.key-attestation` ([`key_attestation_bytes`]);
//! - `ear.status`: the worst of the submods' statuses.
//!
//! The token authorizes `GET /v1/secrets/{name}` for a secret whose
//! current policy is one of its submods with an affirming or warning
//! status; the secret is sealed to the key in that submod, so a token that
//! leaks is of no use to anyone but its guest.

use crate::seal::Kem;

/// The EAR profile.
pub const EAR_PROFILE: &str = "tag:github.com,2023:veraison/ear";

/// The submod that carries the appraisal by one policy.
pub fn submod_name(policy: &str) -> String {
    format!("cogito:{policy}")
}

/// The `ear.veraison.key-attestation` `pub-key` bytes: the RFC 9180 KEM
/// identifier (u16, big-endian) followed by the serialized public key.
pub fn key_attestation_bytes(kem: Kem, public_key: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(2 + public_key.len());
    out.extend_from_slice(&kem.id().to_be_bytes());
    out.extend_from_slice(public_key);
    out
}

/// Splits [`key_attestation_bytes`] back into the KEM and the key.
pub fn parse_key_attestation(bytes: &[u8]) -> Option<(Kem, &[u8])> {
    let (id, key) = bytes.split_first_chunk::<2>()?;
    Some((Kem::from_id(u16::from_be_bytes(*id))?, key))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_attestation_round_trip() {
        let b = key_attestation_bytes(Kem::P256, &[4, 1, 2]);
        assert_eq!(b, [0, 0x10, 4, 1, 2]);
        assert_eq!(
            parse_key_attestation(&b),
            Some((Kem::P256, &[4u8, 1, 2][..]))
        );
        assert_eq!(parse_key_attestation(&[0]), None);
        assert_eq!(parse_key_attestation(&[0, 0x11, 1]), None);
    }
}
