//! JWKs from the network, both ways:
//!
//! - a KBS guest's `tee-pubkey`: `kbs::jwe::RecipientKey::from_jwk` on the
//!   input as JSON; what it accepts must be the key the JWK says (the
//!   point's coordinates, an RSA modulus of 2048 to 8192 bits) and one the
//!   service can encrypt a resource to: `jwe::encrypt` must then succeed
//!   and give a flattened JWE whose protected header names the key's
//!   `alg`, `A256GCM` and, for EC, an ephemeral key on the guest's curve,
//!   with a 40-byte wrapped key (EC) or one modulus-sized OAEP block (RSA),
//!   a 12-byte IV, a 16-byte tag and the plaintext's length;
//! - the service's JWKS as a guest reads it in
//!   `cogito_protocol::verify_token`: the input as the key set (and, when
//!   it is one JSON object, as the set's only key) for a token genuinely
//!   signed by the fixed key of `common/token_key.rs`; a set under which
//!   that token verifies must hold the fixed key's coordinates as the
//!   first key of its `kid`.
#![no_main]

#[path = "common/token_key.rs"]
mod token_key;

use std::sync::OnceLock;

use cogito_server::kbs::jwe::{self, RecipientKey};
use libfuzzer_sys::fuzz_target;
use serde_json::{json, Value};

const PLAINTEXT: &[u8] = b"a resource for the guest";

fn token() -> &'static str {
    static T: OnceLock<String> = OnceLock::new();
    T.get_or_init(|| {
        token_key::sign(
            &json!({"typ": "JWT", "alg": "ES256", "kid": token_key::KID}),
            &json!({
                "eat_profile": cogito_protocol::token::EAR_PROFILE,
                "iat": token_key::NOW - 60,
                "exp": token_key::NOW + token_key::LIFETIME,
                "ear_status": "affirming",
                "submods": {"cogito:fleet": {"ear_status": "affirming"}},
            }),
        )
    })
}

fn check_recipient(jwk: &Value) {
    let Ok(key) = RecipientKey::from_jwk(jwk) else {
        return;
    };
    let coordinate = |name: &str| {
        jwk.get(name)
            .and_then(Value::as_str)
            .and_then(token_key::unb64url)
            .expect("an accepted JWK has this coordinate")
    };
    let (alg, key_len) = match &key {
        RecipientKey::Ec { crv, point } => {
            assert_eq!(jwk["crv"].as_str(), Some(*crv));
            let len = match *crv {
                "P-256" => 32,
                "P-384" => 48,
                "P-521" => 66,
                other => panic!("curve {other}"),
            };
            assert_eq!(point.len(), 1 + 2 * len);
            assert_eq!(point[0], 4);
            assert_eq!(point[1..1 + len], coordinate("x")[..]);
            assert_eq!(point[1 + len..], coordinate("y")[..]);
            (jwe::ECDH_ES_A256KW, 40)
        }
        RecipientKey::Rsa { bits, .. } => {
            assert!((2048..=8192).contains(bits), "{bits}-bit RSA key accepted");
            (jwe::RSA_OAEP_256, bits.div_ceil(8))
        }
    };
    assert_eq!(key.alg(), alg);
    let out = match jwe::encrypt(&key, PLAINTEXT) {
        Ok(out) => out,
        Err(e) => panic!("an accepted key does not encrypt: {e}"),
    };
    let part = |name: &str| {
        out.get(name)
            .and_then(Value::as_str)
            .and_then(token_key::unb64url)
            .expect("a JWE member in base64url")
    };
    let header: Value = serde_json::from_slice(&part("protected")).expect("a JSON header");
    assert_eq!(header["alg"], alg);
    assert_eq!(header["enc"], jwe::A256GCM);
    if let RecipientKey::Ec { crv, point } = &key {
        let epk = &header["epk"];
        assert_eq!(epk["kty"], "EC");
        assert_eq!(epk["crv"].as_str(), Some(*crv));
        let mut epk_point = vec![4u8];
        for c in ["x", "y"] {
            let v = epk[c]
                .as_str()
                .and_then(token_key::unb64url)
                .expect("epk coordinate");
            assert_eq!(v.len(), (point.len() - 1) / 2);
            epk_point.extend(v);
        }
        let alg = match *crv {
            "P-256" => &aws_lc_rs::signature::ECDSA_P256_SHA256_FIXED,
            "P-384" => &aws_lc_rs::signature::ECDSA_P384_SHA384_FIXED,
            _ => &aws_lc_rs::signature::ECDSA_P521_SHA512_FIXED,
        };
        assert!(
            aws_lc_rs::signature::ParsedPublicKey::new(alg, &epk_point).is_ok(),
            "the ephemeral key is not on {crv}"
        );
    }
    assert_eq!(part("encrypted_key").len(), key_len);
    assert_eq!(part("iv").len(), 12);
    assert_eq!(part("tag").len(), 16);
    assert_eq!(part("ciphertext").len(), PLAINTEXT.len());
}

fn check_jwks(jwks: &[u8]) {
    let Ok(v) = cogito_protocol::verify_token(token(), jwks, token_key::NOW, None) else {
        return;
    };
    assert_eq!(v.kid, token_key::KID);
    let set: Value = serde_json::from_slice(jwks).expect("an accepted key set is JSON");
    let key = set["keys"]
        .as_array()
        .and_then(|keys| keys.iter().find(|k| k["kid"] == token_key::KID))
        .expect("an accepted key set has the token's kid");
    let coordinate = |c: &str| key[c].as_str().and_then(token_key::unb64url);
    let p = token_key::public_point();
    assert_eq!(coordinate("x").as_deref(), Some(&p[1..33]));
    assert_eq!(coordinate("y").as_deref(), Some(&p[33..65]));
}

fuzz_target!(|data: &[u8]| {
    check_jwks(data);
    let Ok(value) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    check_recipient(&value);
    if value.is_object() {
        let set = serde_json::to_vec(&json!({ "keys": [value] })).expect("JSON");
        check_jwks(&set);
    }
});
