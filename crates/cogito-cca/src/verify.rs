//! Verifying a CCA attestation token: a pure function of (token bytes,
//! CPAK trust anchors, options).
//!
//! [`verify_token`] performs, in order — a caller must not skip any:
//!
//! 1. Parse ([`CcaToken::parse`]): strict CBOR, tag 399 or 907 envelope, two
//!    tagged COSE_Sign1 with ES256/ES384/ES512, every mandatory platform and
//!    realm claim with its type and size, a known profile.
//! 2. Find the CPAK by instance id / implementation id
//!    ([`CcaTrustAnchors::find`]); refuse a published test key unless
//!    [`Options::allow_test_keys`].
//! 3. Platform COSE_Sign1 signature by the CPAK; the algorithm must be the
//!    one of the CPAK's curve.
//! 4. Realm COSE_Sign1 signature by the RAK in claim 44237; the algorithm
//!    must be the one of the RAK's curve.
//! 5. Binding: platform challenge (claim 10) == H(exact bytes of claim
//!    44237) with H from claim 44240 (draft-ffm-rats-cca-token, "Binding
//!    of the two tokens").
//! 6. Lifecycle: the state must be allowed (default: secured only).
//! 7. Realm challenge equals the expected one, when given.
//!
//! No step needs the time: a CCA token carries no validity period.

use cogito_core::claims::Check;
use cogito_core::hexser::Hex;
use cogito_core::{VerificationTime, Verified};

use crate::claims::{CcaClaims, LifecycleState};
use crate::error::CcaError;
use crate::keys::{test_key, CcaTrustAnchors, CpakInfo};
use crate::token::CcaToken;

/// What the verifier requires beyond authenticity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// Accept a CPAK that is a published test key ([`crate::keys::TEST_KEYS`]).
    pub allow_test_keys: bool,
    /// Lifecycle states to accept (default: secured only).
    pub allowed_lifecycles: Vec<LifecycleState>,
    /// The exact realm challenge (claim 10) expected.
    pub expected_realm_challenge: Option<[u8; 64]>,
    /// Recorded as [`Verified::verified_at`]; no CCA check depends on it.
    pub at: VerificationTime,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            allow_test_keys: false,
            allowed_lifecycles: vec![LifecycleState::Secured],
            expected_realm_challenge: None,
            at: VerificationTime::from_unix(0),
        }
    }
}

/// Verifies a CCA attestation token (see the module documentation for the
/// checks, in order).
pub fn verify_token(
    bytes: &[u8],
    anchors: &CcaTrustAnchors,
    options: &Options,
) -> Result<Verified<CcaClaims>, CcaError> {
    // Step 1: parse.
    let token = CcaToken::parse(bytes)?;
    let mut checks = vec![Check {
        name: "token_format",
        detail: format!(
            "tag {} envelope, platform profile {}, realm profile {}",
            token.envelope_tag,
            token.platform_claims.profile,
            token
                .realm_claims
                .profile
                .as_deref()
                .unwrap_or("none (RMM 1.0)")
        ),
    }];
    let p = &token.platform_claims;

    // Step 2: the CPAK.
    let (entry, matched_by) = anchors.find(&p.instance_id.0, &p.implementation_id.0)?;
    let cpak = &entry.key;
    let fingerprint = hex::encode(cpak.fingerprint());
    let test = test_key(cpak);
    if let (Some(t), false) = (test, options.allow_test_keys) {
        return Err(CcaError::TestKey {
            fingerprint,
            name: t.name,
        });
    }

    // Step 3: platform signature.
    if token.platform.alg.curve() != cpak.curve() {
        return Err(CcaError::AlgorithmKeyMismatch {
            part: "platform",
            alg: token.platform.alg.as_str(),
            key: "CPAK",
            curve: cpak.curve().as_str(),
        });
    }
    if !cpak.verify(&token.platform.to_be_signed(), token.platform.signature) {
        return Err(CcaError::PlatformSignature {
            alg: token.platform.alg.as_str(),
            cpak_fingerprint: fingerprint,
        });
    }
    checks.push(Check {
        name: "platform_signature",
        detail: format!(
            "{} COSE_Sign1 by the CPAK {fingerprint} ({}, matched by {:?}){}",
            token.platform.alg.as_str(),
            entry.label,
            matched_by,
            if test.is_some() {
                ", a published TEST key"
            } else {
                ""
            }
        ),
    });

    // Step 4: realm signature by the RAK it carries.
    if token.realm.alg.curve() != token.rak.curve() {
        return Err(CcaError::AlgorithmKeyMismatch {
            part: "realm",
            alg: token.realm.alg.as_str(),
            key: "RAK",
            curve: token.rak.curve().as_str(),
        });
    }
    if !token
        .rak
        .verify(&token.realm.to_be_signed(), token.realm.signature)
    {
        return Err(CcaError::RealmSignature {
            alg: token.realm.alg.as_str(),
        });
    }
    checks.push(Check {
        name: "realm_signature",
        detail: format!(
            "{} COSE_Sign1 by the RAK in claim 44237 ({})",
            token.realm.alg.as_str(),
            token.realm_claims.public_key_encoding.as_str()
        ),
    });

    // Step 5: binding.
    let hash_alg = token.realm_claims.public_key_hash_algo_id;
    let rak_hash = hash_alg.digest(token.rak_claim);
    if rak_hash != p.challenge.0 {
        return Err(CcaError::Binding {
            alg: hash_alg.as_str(),
            challenge: p.challenge.to_hex(),
            expected: hex::encode(&rak_hash),
        });
    }
    checks.push(Check {
        name: "binding",
        detail: format!(
            "platform challenge == {}(realm public key claim, {} bytes)",
            hash_alg.as_str(),
            token.rak_claim.len()
        ),
    });

    // Step 6: lifecycle.
    let lc = p.lifecycle;
    if !options.allowed_lifecycles.contains(&lc.state) {
        return Err(CcaError::Lifecycle {
            value: lc.value,
            state: lc.state.as_str(),
            allowed: options
                .allowed_lifecycles
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        });
    }
    checks.push(Check {
        name: "lifecycle",
        detail: format!("{:#06x} ({}) is allowed", lc.value, lc.state.as_str()),
    });

    // Step 7: realm challenge.
    if let Some(expected) = &options.expected_realm_challenge {
        if token.realm_claims.challenge.0 != expected[..] {
            return Err(CcaError::ChallengeMismatch {
                expected: hex::encode(expected),
                found: token.realm_claims.challenge.to_hex(),
            });
        }
        checks.push(Check {
            name: "realm_challenge",
            detail: "equals the expected challenge".into(),
        });
    }

    let mut claims = token.claims();
    claims.cpak = Some(CpakInfo {
        fingerprint: Hex(cpak.fingerprint().to_vec()),
        curve: cpak.curve(),
        matched_by,
        label: entry.label.clone(),
        test_key: test.map(|t| t.name),
    });
    Ok(Verified {
        claims: claims.normalized(),
        platform: claims,
        checks,
        verified_at: options.at,
    })
}
