//! The attestation-result token: an EAR (draft-ietf-rats-ear) claims set
//! in a JWT signed with ES256 by one of the keys at `/v1/keys`.
//!
//! JSON member names as draft-ietf-rats-ear-04 and Veraison's `ear` crate
//! write them:
//!
//! - `eat_profile`: [`EAR_PROFILE`];
//! - `iat`, `exp`: issue and expiry (seconds since the epoch);
//! - `ear_verifier_id`: `{ "build": "cogito <version>", "developer": "cogito" }`;
//! - `submods`: one appraisal per policy that accepted the evidence, named
//!   [`submod_name`]`(policy)`, each with `ear_status`,
//!   `ear_trustworthiness_vector`, `ear_appraisal_policy_ids`
//!   (`["policy:<name>#sha256:<digest>"]`), the normalized claims under
//!   `ear_attester_claims."cogito.claims"`, and the guest's public key as
//!   `ear_veraison_key_attestation.akpub` (base64url of
//!   [`key_attestation_bytes`]);
//! - `ear_status`: the worst of the submods' statuses.
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
