//! The fixed token-signing key of the `token` and `jwk` targets: a P-256
//! key made for fuzzing only (its scalar is SHA-256 of
//! "cogito fuzz token key (public, test only)" reduced mod n, so
//! `seed_corpus.py` signs its seed tokens with the same key), the JWKS the
//! service would publish for it, and an independent check of an ES256
//! signature by it. Each target uses only some of it.
#![allow(dead_code)]

use aws_lc_rs::signature::{
    EcdsaKeyPair, KeyPair as _, UnparsedPublicKey, ECDSA_P256_SHA256_FIXED,
    ECDSA_P256_SHA256_FIXED_SIGNING,
};
use base64::Engine as _;

/// PKCS#8 DER of the key.
pub const PKCS8_HEX: &str = "308187020100301306072a8648ce3d020106082a8648ce3d030107046d306b020101042081ff15b7a983aa9c875e49c623b12e385fcd0d8053a6b3458b9f8b9035198549a14403420004d8a83b1242ed3e24309512a3bcb39d561924a0d1066cb53a0f60fd73b172485910ba29873097187d108ffc59192a3c5429ded66d16b65663509beece6b1cbef5";

/// Its key id as the service computes it (keys.rs `kid_of`: the first 16
/// hex digits of the SHA-256 of the uncompressed point).
pub const KID: &str = "6b31702440a5736f";

/// The time the targets check tokens at, and the service's token lifetime.
pub const NOW: i64 = 1_800_000_000;
/// Seconds.
pub const LIFETIME: i64 = 600;

pub fn pkcs8() -> Vec<u8> {
    (0..PKCS8_HEX.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&PKCS8_HEX[i..i + 2], 16).expect("hex"))
        .collect()
}

pub fn key_pair() -> &'static EcdsaKeyPair {
    static PAIR: std::sync::OnceLock<EcdsaKeyPair> = std::sync::OnceLock::new();
    PAIR.get_or_init(|| {
        EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &pkcs8())
            .expect("the fixed key loads")
    })
}

/// `04 ‖ x ‖ y`.
pub fn public_point() -> &'static [u8] {
    key_pair().public_key().as_ref()
}

pub fn b64url(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

pub fn unb64url(text: &str) -> Option<Vec<u8>> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(text)
        .ok()
}

/// The JWKS `/v1/keys` serves for the key.
pub fn jwks() -> Vec<u8> {
    let p = public_point();
    serde_json::to_vec(&serde_json::json!({"keys": [{
        "kty": "EC", "crv": "P-256", "alg": "ES256", "use": "sig",
        "kid": KID, "x": b64url(&p[1..33]), "y": b64url(&p[33..65]),
    }]}))
    .expect("a JWKS serializes")
}

/// An ES256 JWS of `header` and `claims` by the key.
pub fn sign(header: &serde_json::Value, claims: &serde_json::Value) -> String {
    let signed = format!(
        "{}.{}",
        b64url(&serde_json::to_vec(header).expect("JSON")),
        b64url(&serde_json::to_vec(claims).expect("JSON"))
    );
    let sig = key_pair()
        .sign(&aws_lc_rs::rand::SystemRandom::new(), signed.as_bytes())
        .expect("signing works");
    format!("{signed}.{}", b64url(sig.as_ref()))
}

/// Whether `token` is three dot-separated parts whose third is an ES256
/// signature (`r ‖ s`, base64url) by the key over the first two, as they
/// stand in the token: checked here with AWS-LC directly, apart from the
/// code under test.
pub fn signed_by_us(token: &str) -> bool {
    let parts: Vec<&str> = token.split('.').collect();
    let [h, p, s] = parts[..] else {
        return false;
    };
    let Some(sig) = unb64url(s) else {
        return false;
    };
    let signed = &token[..h.len() + 1 + p.len()];
    UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, public_point())
        .verify(signed.as_bytes(), &sig)
        .is_ok()
}
