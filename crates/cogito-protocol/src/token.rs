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

/// The claims of a token that [`verify_token`] accepted.
#[derive(Debug, Clone)]
pub struct VerifiedToken {
    /// The signing key's id (the JWT header's `kid`).
    pub kid: String,
    /// Expiry, seconds since the epoch.
    pub exp: i64,
    /// The overall `ear_status`.
    pub status: String,
    /// The policies that appraised the guest (submod names less the
    /// `cogito:` prefix), each with its `ear_status`.
    pub appraisals: Vec<(String, String)>,
    /// The whole claims set.
    pub claims: serde_json::Value,
}

/// Why a token was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// Not three base64url parts with a JSON header and claims set.
    #[error("the token is not a JWS compact serialization: {0}")]
    Malformed(&'static str),
    /// The header names another algorithm.
    #[error("the token's alg is {0:?}; only ES256 is accepted")]
    Algorithm(String),
    /// The header has no `kid`, or one the key set does not hold.
    #[error("the token's kid {0:?} is not in the server's key set")]
    UnknownKey(String),
    /// The key set is not a JWKS of P-256 keys.
    #[error("the server's key set: {0}")]
    KeySet(String),
    /// The signature does not verify.
    #[error("the token's signature does not verify with key {0:?}")]
    Signature(String),
    /// `exp` has passed.
    #[error("the token expired at {exp} (now {now})")]
    Expired {
        /// Its `exp`.
        exp: i64,
        /// The time it was checked at.
        now: i64,
    },
    /// A claim is missing or has an unexpected value.
    #[error("claim {claim}: {problem}")]
    Claim {
        /// The claim's name.
        claim: &'static str,
        /// What is wrong with it.
        problem: String,
    },
}

fn b64url(part: &str) -> Option<Vec<u8>> {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(part)
        .ok()
}

/// The uncompressed P-256 point (`04 ‖ x ‖ y`) of the key `kid` in a JWKS.
fn jwks_key(jwks: &[u8], kid: &str) -> Result<Vec<u8>, TokenError> {
    let set: serde_json::Value =
        serde_json::from_slice(jwks).map_err(|e| TokenError::KeySet(format!("not JSON: {e}")))?;
    let keys = set
        .get("keys")
        .and_then(|k| k.as_array())
        .ok_or_else(|| TokenError::KeySet("no \"keys\" array".into()))?;
    let jwk = keys
        .iter()
        .find(|k| k.get("kid").and_then(|v| v.as_str()) == Some(kid))
        .ok_or_else(|| TokenError::UnknownKey(kid.to_string()))?;
    let field = |name: &str| jwk.get(name).and_then(|v| v.as_str());
    if field("kty") != Some("EC") || field("crv") != Some("P-256") {
        return Err(TokenError::KeySet(format!(
            "key {kid:?} is not an EC P-256 key"
        )));
    }
    let coordinate = |name: &str| {
        field(name)
            .and_then(b64url)
            .filter(|c| c.len() == 32)
            .ok_or_else(|| {
                TokenError::KeySet(format!("key {kid:?}: {name} is not 32 bytes of base64url"))
            })
    };
    let mut point = vec![4u8];
    point.extend(coordinate("x")?);
    point.extend(coordinate("y")?);
    Ok(point)
}

/// Verifies an attestation-result token against the server's JWKS (the
/// body of `/v1/keys`) at `now_unix`, as docs/protocol.md tells a relying
/// party to:
///
/// 1. the header's `alg` is `ES256` and its `kid` is in the key set;
/// 2. the ES256 signature (`r ‖ s`, 64 bytes) verifies over
///    `header.payload`;
/// 3. `exp` is after `now_unix` and `eat_profile` is [`EAR_PROFILE`];
/// 4. `ear_status` and every submod's status is `affirming` or `warning`;
/// 5. when `key` is given, every submod's
///    `ear_veraison_key_attestation.akpub` is that key
///    ([`key_attestation_bytes`]): the token speaks of this guest.
///
/// No step may be skipped: a token is only as good as the last check it
/// passed.
pub fn verify_token(
    token: &str,
    jwks: &[u8],
    now_unix: i64,
    key: Option<(Kem, &[u8])>,
) -> Result<VerifiedToken, TokenError> {
    let mut parts = token.split('.');
    let (Some(h), Some(p), Some(s), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(TokenError::Malformed("not three dot-separated parts"));
    };
    let header: serde_json::Value = b64url(h)
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or(TokenError::Malformed("the header is not base64url JSON"))?;
    let alg = header.get("alg").and_then(|v| v.as_str()).unwrap_or("");
    if alg != "ES256" {
        return Err(TokenError::Algorithm(alg.to_string()));
    }
    let kid = header
        .get("kid")
        .and_then(|v| v.as_str())
        .ok_or_else(|| TokenError::UnknownKey(String::new()))?
        .to_string();
    let point = jwks_key(jwks, &kid)?;
    let signature = b64url(s).ok_or(TokenError::Malformed("the signature is not base64url"))?;
    let signed_len = h.len().saturating_add(1).saturating_add(p.len());
    let signed = token
        .get(..signed_len)
        .ok_or(TokenError::Malformed("no signed part"))?;
    aws_lc_rs::signature::UnparsedPublicKey::new(
        &aws_lc_rs::signature::ECDSA_P256_SHA256_FIXED,
        &point,
    )
    .verify(signed.as_bytes(), &signature)
    .map_err(|_| TokenError::Signature(kid.clone()))?;

    let claims: serde_json::Value = b64url(p)
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or(TokenError::Malformed("the claims are not base64url JSON"))?;
    let exp = claims
        .get("exp")
        .and_then(|v| v.as_i64())
        .ok_or(TokenError::Claim {
            claim: "exp",
            problem: "missing or not an integer".into(),
        })?;
    if exp <= now_unix {
        return Err(TokenError::Expired { exp, now: now_unix });
    }
    let profile = claims.get("eat_profile").and_then(|v| v.as_str());
    if profile != Some(EAR_PROFILE) {
        return Err(TokenError::Claim {
            claim: "eat_profile",
            problem: format!("{profile:?}, expected {EAR_PROFILE:?}"),
        });
    }
    let acceptable = |s: Option<&str>| matches!(s, Some("affirming") | Some("warning"));
    let status = claims.get("ear_status").and_then(|v| v.as_str());
    if !acceptable(status) {
        return Err(TokenError::Claim {
            claim: "ear_status",
            problem: format!("{status:?}, expected affirming or warning"),
        });
    }
    let submods = claims
        .get("submods")
        .and_then(|v| v.as_object())
        .filter(|m| !m.is_empty())
        .ok_or(TokenError::Claim {
            claim: "submods",
            problem: "missing or empty".into(),
        })?;
    let mut appraisals = Vec::with_capacity(submods.len());
    for (name, submod) in submods {
        let sub_status = submod.get("ear_status").and_then(|v| v.as_str());
        if !acceptable(sub_status) {
            return Err(TokenError::Claim {
                claim: "submods.ear_status",
                problem: format!("{name}: {sub_status:?}, expected affirming or warning"),
            });
        }
        if let Some((kem, public_key)) = key {
            let akpub = submod
                .get("ear_veraison_key_attestation")
                .and_then(|k| k.get("akpub"))
                .and_then(|v| v.as_str())
                .and_then(b64url);
            if akpub.as_deref() != Some(key_attestation_bytes(kem, public_key).as_slice()) {
                return Err(TokenError::Claim {
                    claim: "submods.ear_veraison_key_attestation.akpub",
                    problem: format!("{name}: not this guest's key"),
                });
            }
        }
        let policy = name.strip_prefix("cogito:").unwrap_or(name);
        appraisals.push((
            policy.to_string(),
            sub_status.unwrap_or_default().to_string(),
        ));
    }
    Ok(VerifiedToken {
        kid,
        exp,
        status: status.unwrap_or_default().to_string(),
        appraisals,
        claims,
    })
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

    mod verify {
        use super::super::*;
        use aws_lc_rs::signature::{EcdsaKeyPair, KeyPair as _, ECDSA_P256_SHA256_FIXED_SIGNING};
        use base64::Engine as _;

        fn url(b: &[u8]) -> String {
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
        }

        struct Signer {
            key: EcdsaKeyPair,
            kid: String,
        }

        impl Signer {
            fn new(kid: &str) -> Signer {
                let rng = aws_lc_rs::rand::SystemRandom::new();
                let pkcs8 =
                    EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
                Signer {
                    key: EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref())
                        .unwrap(),
                    kid: kid.into(),
                }
            }
            fn jwks(&self) -> Vec<u8> {
                let p = self.key.public_key().as_ref();
                serde_json::to_vec(&serde_json::json!({"keys": [{
                    "kty": "EC", "crv": "P-256", "kid": self.kid, "alg": "ES256",
                    "x": url(&p[1..33]), "y": url(&p[33..65]),
                }]}))
                .unwrap()
            }
            fn sign(&self, header: serde_json::Value, claims: serde_json::Value) -> String {
                let signed = format!(
                    "{}.{}",
                    url(&serde_json::to_vec(&header).unwrap()),
                    url(&serde_json::to_vec(&claims).unwrap())
                );
                let rng = aws_lc_rs::rand::SystemRandom::new();
                let sig = self.key.sign(&rng, signed.as_bytes()).unwrap();
                format!("{signed}.{}", url(sig.as_ref()))
            }
            fn header(&self) -> serde_json::Value {
                serde_json::json!({"typ": "JWT", "alg": "ES256", "kid": self.kid})
            }
        }

        const GUEST: &[u8] = &[7u8; 32];

        fn claims(status: &str) -> serde_json::Value {
            serde_json::json!({
                "eat_profile": EAR_PROFILE, "iat": 1000, "exp": 2000, "ear_status": status,
                "submods": {"cogito:fleet": {
                    "ear_status": status,
                    "ear_veraison_key_attestation": {"akpub": url(&key_attestation_bytes(Kem::X25519, GUEST))},
                }},
            })
        }

        #[test]
        fn a_good_token_verifies_and_names_its_appraisals() {
            let s = Signer::new("k1");
            let t = s.sign(s.header(), claims("affirming"));
            let v = verify_token(&t, &s.jwks(), 1500, Some((Kem::X25519, GUEST))).unwrap();
            assert_eq!(v.kid, "k1");
            assert_eq!(v.exp, 2000);
            assert_eq!(
                v.appraisals,
                vec![("fleet".to_string(), "affirming".to_string())]
            );
        }

        #[test]
        fn every_defect_is_refused_by_name() {
            let s = Signer::new("k1");
            let jwks = s.jwks();
            let good = s.sign(s.header(), claims("affirming"));
            let guest = Some((Kem::X25519, GUEST));
            // Another key under the same kid.
            let other = Signer::new("k1");
            assert_eq!(
                verify_token(&good, &other.jwks(), 1500, guest).unwrap_err(),
                TokenError::Signature("k1".into())
            );
            // An unknown kid, and none at all.
            let t = s.sign(
                serde_json::json!({"alg": "ES256", "kid": "k9"}),
                claims("affirming"),
            );
            assert_eq!(
                verify_token(&t, &jwks, 1500, guest).unwrap_err(),
                TokenError::UnknownKey("k9".into())
            );
            // alg none, with or without a signature.
            let t = s.sign(
                serde_json::json!({"alg": "none", "kid": "k1"}),
                claims("affirming"),
            );
            assert_eq!(
                verify_token(&t, &jwks, 1500, guest).unwrap_err(),
                TokenError::Algorithm("none".into())
            );
            // A payload changed after signing.
            let mut parts: Vec<String> = good.split('.').map(String::from).collect();
            let mut c = claims("affirming");
            c["exp"] = serde_json::json!(9999);
            parts[1] = url(&serde_json::to_vec(&c).unwrap());
            assert!(matches!(
                verify_token(&parts.join("."), &jwks, 1500, guest),
                Err(TokenError::Signature(_))
            ));
            // Expired: exp is not after now.
            assert_eq!(
                verify_token(&good, &jwks, 2000, guest).unwrap_err(),
                TokenError::Expired {
                    exp: 2000,
                    now: 2000
                }
            );
            // Another guest's key.
            assert!(matches!(
                verify_token(&good, &jwks, 1500, Some((Kem::X25519, &[8u8; 32]))),
                Err(TokenError::Claim {
                    claim: "submods.ear_veraison_key_attestation.akpub",
                    ..
                })
            ));
            // A contraindicated appraisal.
            let t = s.sign(s.header(), claims("contraindicated"));
            assert!(matches!(
                verify_token(&t, &jwks, 1500, guest),
                Err(TokenError::Claim {
                    claim: "ear_status",
                    ..
                })
            ));
            // Another profile.
            let mut c = claims("affirming");
            c["eat_profile"] = serde_json::json!("tag:example.com,2020:other");
            let t = s.sign(s.header(), c);
            assert!(matches!(
                verify_token(&t, &jwks, 1500, guest),
                Err(TokenError::Claim {
                    claim: "eat_profile",
                    ..
                })
            ));
            // Not a JWS.
            assert!(matches!(
                verify_token("a.b", &jwks, 1500, guest),
                Err(TokenError::Malformed(_))
            ));
            assert!(matches!(
                verify_token(&format!("{good}.x"), &jwks, 1500, guest),
                Err(TokenError::Malformed(_))
            ));
            assert!(matches!(
                verify_token(&good, b"{}", 1500, guest),
                Err(TokenError::KeySet(_))
            ));
        }
    }
}
