//! Checks of the CCA encoders with independent code (p256/p384
//! verification, serde_json), not with the code that wrote them, plus the
//! shape of the generated set.

use p256::ecdsa::signature::Verifier;

use super::cbor::Cbor;
use super::cose::{base64url, protected_header, sig_structure, Key, Sign1};
use super::token::{digest, Envelope, PLATFORM_PROFILE_2023, PLATFORM_PROFILE_SSD};
use super::vectors::{generate, CcaWorld};
use crate::vectors::Expected;

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn verify(key: &Key, message: &[u8], sig: &[u8]) -> bool {
    match key {
        Key::P256(_) => {
            let vk = p256::ecdsa::VerifyingKey::from_sec1_bytes(&key.public_sec1()).unwrap();
            let sig = p256::ecdsa::Signature::from_slice(sig).unwrap();
            vk.verify(message, &sig).is_ok()
        }
        Key::P384(_) => {
            let vk = p384::ecdsa::VerifyingKey::from_sec1_bytes(&key.public_sec1()).unwrap();
            let sig = p384::ecdsa::Signature::from_slice(sig).unwrap();
            vk.verify(message, &sig).is_ok()
        }
    }
}

#[test]
fn protected_headers_and_sig_structure_match_the_real_tokens() {
    // The real ES384 tokens' protected header is a1 01 38 22, ES256's a1 01 26.
    assert_eq!(hex(&protected_header(-35)), "a1013822");
    assert_eq!(hex(&protected_header(-7)), "a10126");
    // RFC 9052 §4.4 Sig_structure for Sign1 with an empty external_aad.
    let tbs = sig_structure(&[0xa1, 0x01, 0x26], &[0xa0]);
    assert_eq!(hex(&tbs), "846a5369676e61747572653143a101264041a0");
}

#[test]
fn sign1_signatures_verify_with_p256_and_p384() {
    let w = CcaWorld::new();
    for key in [&w.cpak_p256, &w.cpak_p384, &w.rak] {
        let s = Sign1::sign(key, key.alg(), b"payload".to_vec());
        assert_eq!(s.signature.len(), 2 * key.coordinate_len());
        assert!(verify(key, &s.to_be_signed(), &s.signature));
        assert!(key.curve() == "P-256" || !verify(&w.other_p384, &s.to_be_signed(), &s.signature));
        // Deterministic (RFC 6979).
        assert_eq!(s, Sign1::sign(key, key.alg(), b"payload".to_vec()));
        let enc = s.encode();
        assert_eq!(enc[0], 0xd2, "tag 18");
        assert_eq!(enc[1], 0x84, "array of 4");
    }
}

#[test]
fn jwk_and_cose_key_carry_the_point() {
    let w = CcaWorld::new();
    for key in [&w.cpak_p256, &w.cpak_p384] {
        let jwk: serde_json::Value = serde_json::from_str(&key.jwk("k", 0)).unwrap();
        let (x, y) = key.coordinates();
        assert_eq!(jwk["kty"], "EC");
        assert_eq!(jwk["crv"], key.curve());
        assert_eq!(jwk["x"], base64url(&x));
        assert_eq!(jwk["y"], base64url(&y));
        assert!(!jwk["x"].as_str().unwrap().contains(['=', '+', '/']));
    }
    let cose = w.rak.cose_key().encode();
    // {1: 2, -1: 2, -2: h'<48>', -3: h'<48>'}, as in the tag-907 token.
    assert_eq!(hex(&cose[..7]), "a4010220022158");
    assert_eq!(cose.len(), 107);
    assert_eq!(base64url(&[0xfb, 0xff]), "-_8");
}

#[test]
fn built_tokens_have_the_real_shapes_and_bindings() {
    let w = CcaWorld::new();
    for (envelope, head) in [
        (Envelope::Tag399, "d9018fa2"),
        (Envelope::Tag907, "d9038ba2"),
    ] {
        for profile in [PLATFORM_PROFILE_2023, PLATFORM_PROFILE_SSD] {
            let spec = w.spec("x", envelope, profile, &w.cpak_p384);
            let t = spec.build();
            assert_eq!(hex(&t.bytes[..4]), head);
            // 44234 (19 acca) first.
            assert_eq!(hex(&t.bytes[4..7]), "19acca");
            assert_eq!(
                t.platform_challenge,
                digest("sha-256", &t.rak_claim),
                "binding"
            );
            let raw = profile == PLATFORM_PROFILE_SSD;
            assert_eq!(t.rak_claim.len(), if raw { 97 } else { 107 });
            assert!(verify(
                &w.cpak_p384,
                &t.platform.to_be_signed(),
                &t.platform.signature
            ));
            assert!(verify(&w.rak, &t.realm.to_be_signed(), &t.realm.signature));
            // The signed payloads appear verbatim in the token.
            t.find(&t.platform.payload);
            t.find(&t.realm.payload);
            if envelope == Envelope::Tag907 {
                // [263, bstr]: 82 19 0107 59 ...
                assert_eq!(hex(&t.bytes[7..11]), "82190107");
            }
        }
    }
}

#[test]
fn hash_algorithms() {
    assert_eq!(digest("sha-256", b"").len(), 32);
    assert_eq!(hex(&digest("sha-384", b"abc"))[..16], *"cb00753f45a35e8b");
    assert_eq!(digest("sha-512", b"").len(), 64);
}

#[test]
fn encodings_are_shortest_form() {
    // Lengths of the real claim values use their shortest heads.
    assert_eq!(hex(&Cbor::bytes(&[0; 64]).encode()[..2]), "5840");
    assert_eq!(hex(&Cbor::Uint(0x3000).encode()), "193000");
}

#[test]
fn the_set_is_complete_and_consistent() {
    let set = generate();
    let ids: std::collections::BTreeSet<&str> = set.cases.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(ids.len(), set.cases.len(), "unique ids");
    let mut accepts = 0;
    for c in &set.cases {
        assert!(!c.allow_test_keys);
        assert!(
            set.files.contains_key(&format!("{}/token.cbor", c.dir)),
            "{}",
            c.id
        );
        assert!(
            set.files.contains_key(&format!("{}/{}", c.dir, c.anchors)),
            "{}",
            c.id
        );
        for f in &c.files {
            assert!(
                set.files.contains_key(&format!("{}/{f}", c.dir)),
                "{}: {f}",
                c.id
            );
        }
        match &c.expected {
            Expected::Accept => {
                accepts += 1;
                assert!(c.claims.is_some(), "{}", c.id);
            }
            Expected::Reject { code, class } => {
                assert!(code.starts_with("cca."), "{}", c.id);
                assert_eq!(c.claims.is_some(), *class != "bad_input", "{}", c.id);
            }
        }
    }
    // 2 envelopes × 2 platform profiles × 2 CPAK curves, each with a JWK
    // and a TA store, at least.
    assert!(accepts >= 16, "{accepts}");
    // Deterministic.
    assert_eq!(set.all_files(), generate().all_files());
    // Every CPAK JWK is one of the FAKE keys.
    for (path, bytes) in &set.files {
        if path.ends_with("cpak.jwk") {
            let jwk: serde_json::Value = serde_json::from_slice(bytes).unwrap();
            assert!(jwk["kid"].as_str().unwrap().contains("FAKE"), "{path}");
        }
        if path.ends_with("ta_store.json") {
            let store: serde_json::Value = serde_json::from_slice(bytes).unwrap();
            assert!(!store.as_array().unwrap().is_empty(), "{path}");
        }
    }
}
