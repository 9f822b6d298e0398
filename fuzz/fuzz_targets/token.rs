//! Attestation-result tokens presented back to the service (the bearer
//! token of `GET /v1/secrets/{name}` and `/kbs/v0/resource`) and checked
//! by a relying party:
//!
//! - `cogito_server::token::verify_signed` and `token::check` with a
//!   `KeyRing` of the one fixed key of `common/token_key.rs`
//!   (`KeyRing::with_signing_key`, no store);
//! - `cogito_protocol::verify_token` against that key's JWKS, without and
//!   with the guest key the seed tokens carry.
//!
//! The fuzzer cannot sign, so every token it makes is a forgery unless its
//! signed part is one the key signed (the seeds of `seed_corpus.py`, made
//! with the same key). An accepted token whose third part is not an ES256
//! signature by the fixed key over its first two parts, as they stand —
//! checked with AWS-LC directly — is a crash; so are claims other than its
//! payload's, an expiry not after now, a `check` that names keys the
//! submods do not, and a token a relying party accepts that the service
//! would refuse.
#![no_main]

#[path = "common/token_key.rs"]
mod token_key;

use std::sync::OnceLock;

use cogito_protocol::token::parse_key_attestation;
use cogito_protocol::Kem;
use cogito_server::keys::{Kek, KeyRing};
use cogito_server::token::{check, verify_signed};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

use token_key::{LIFETIME, NOW};

/// The guest key of the seed tokens (X25519, 32 bytes of 7).
const GUEST: [u8; 32] = [7; 32];

struct Fixture {
    ring: KeyRing,
    jwks: Vec<u8>,
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let kek = Kek::from_bytes(&[0x4b; 32]).expect("a KEK");
        let ring = KeyRing::with_signing_key(kek, &token_key::pkcs8(), NOW - 3600)
            .expect("the fixed key makes a ring");
        let keys = ring.verifying_keys(NOW, LIFETIME);
        assert_eq!(keys.len(), 1);
        assert_eq!(
            keys[0].0,
            token_key::KID,
            "kid_of changed: update KID and the seeds"
        );
        assert_eq!(keys[0].1, token_key::public_point());
        Fixture {
            ring,
            jwks: token_key::jwks(),
        }
    })
}

/// The token's payload, decoded, when it is base64url JSON.
fn payload(token: &str) -> Option<Value> {
    let p = token.split('.').nth(1)?;
    serde_json::from_slice(&token_key::unb64url(p)?).ok()
}

fuzz_target!(|data: &[u8]| {
    let f = fixture();
    let Ok(token) = std::str::from_utf8(data) else {
        return;
    };

    let server = verify_signed(&f.ring, token, NOW, LIFETIME);
    if let Ok(claims) = &server {
        assert!(
            token_key::signed_by_us(token),
            "verify_signed accepted a token the fixed key did not sign"
        );
        assert_eq!(Some(claims), payload(token).as_ref());
        let exp = claims["exp"].as_i64().expect("an accepted token has exp");
        assert!(exp > NOW);
    }
    if let Ok(view) = check(&f.ring, token, NOW, LIFETIME) {
        let claims = server
            .as_ref()
            .expect("check accepted what verify_signed refused");
        let submods = claims["submods"].as_object().expect("submods");
        assert_eq!(view.accepted.len(), submods.len());
        assert!(!submods.is_empty());
        for sub in submods.values() {
            let akpub = sub["ear_veraison_key_attestation"]["akpub"]
                .as_str()
                .and_then(token_key::unb64url)
                .expect("every submod has a key");
            assert_eq!(
                parse_key_attestation(&akpub),
                Some((view.kem, view.public_key.as_slice()))
            );
        }
    }

    for guest in [None, Some((Kem::X25519, &GUEST[..]))] {
        if let Ok(v) = cogito_protocol::verify_token(token, &f.jwks, NOW, guest) {
            assert!(
                token_key::signed_by_us(token),
                "verify_token accepted a token the fixed key did not sign"
            );
            assert_eq!(v.kid, token_key::KID);
            assert!(v.exp > NOW);
            assert_eq!(Some(&v.claims), payload(token).as_ref());
            assert!(!v.appraisals.is_empty());
            // What a relying party accepts, the service honours.
            assert!(
                server.is_ok(),
                "verify_token accepted a token verify_signed refuses: {:?}",
                server.as_ref().err()
            );
        }
    }
});
