//! The generated CCA vectors (test-vectors/cca) through the library: every
//! case gives exactly its manifest outcome, code and class, with the
//! trust-anchor file and options the manifest names, and its key claims
//! (verified claims for accepts, parsed claims for rejects whose token
//! parses). The FAKE CPAKs are not published test keys, so nothing here
//! needs `allow_test_keys`.

// Test code: a panic is a failed test.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::as_conversions
)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use cogito_cca::claims::LifecycleState;
use cogito_cca::{verify_token, CcaClaims, CcaToken, CcaTrustAnchors, Options};
use cogito_core::{CogitoError, TcbStatus, Tee};

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../test-vectors/cca")
}

fn cases() -> Vec<toml::Value> {
    let manifest: toml::Value =
        toml::from_str(&std::fs::read_to_string(dir().join("MANIFEST.toml")).unwrap()).unwrap();
    assert_eq!(manifest["platform"].as_str(), Some("cca"));
    manifest["case"].as_array().unwrap().clone()
}

fn str_of<'a>(case: &'a toml::Value, key: &str) -> &'a str {
    case[key]
        .as_str()
        .unwrap_or_else(|| panic!("{key} in {case:?}"))
}

/// The trust anchors of a case, loaded by the loader its file name calls
/// for; `CcaTrustAnchors::load`'s format detection must agree.
fn anchors(folder: &Path, file: &str) -> CcaTrustAnchors {
    let bytes = std::fs::read(folder.join(file)).unwrap();
    let loaded = match file {
        "cpak.jwk" => CcaTrustAnchors::from_jwk(&bytes, file),
        "ta_store.json" => CcaTrustAnchors::from_ta_store_json(&bytes, file),
        "cpak.pem" => CcaTrustAnchors::from_spki(&bytes, file),
        other => panic!("anchors file {other}"),
    }
    .unwrap_or_else(|e| panic!("{}: {e}", folder.join(file).display()));
    assert_eq!(CcaTrustAnchors::load(&bytes, file).unwrap(), loaded);
    loaded
}

fn options(case: &toml::Value) -> Options {
    let mut o = Options {
        allow_test_keys: case["allow_test_keys"].as_bool().unwrap(),
        ..Options::default()
    };
    if let Some(l) = case.get("allowed_lifecycles") {
        o.allowed_lifecycles = l
            .as_array()
            .unwrap()
            .iter()
            .map(|s| LifecycleState::from_name(s.as_str().unwrap()).unwrap())
            .collect();
    }
    if let Some(c) = case.get("expected_realm_challenge") {
        let bytes = hex::decode(c.as_str().unwrap()).unwrap();
        o.expected_realm_challenge = Some(bytes.try_into().unwrap());
    }
    o
}

/// One manifest key claim, from the typed claims. An unmapped key fails.
fn key_claim(c: &CcaClaims, key: &str) -> String {
    let p = &c.platform;
    let r = &c.realm;
    match key {
        "envelope_tag" => c.envelope_tag.to_string(),
        "platform_alg" => p.alg.as_str().to_string(),
        "platform_profile" => p.profile.clone(),
        "platform_challenge" => p.challenge.to_hex(),
        "implementation_id" => p.implementation_id.to_hex(),
        "instance_id" => p.instance_id.to_hex(),
        "lifecycle" => format!("{:#06x}", p.lifecycle.value),
        "realm_profile" => r.profile.clone().unwrap_or_default(),
        "realm_challenge" => r.challenge.to_hex(),
        "realm_rim" => r.initial_measurement.to_hex(),
        "rak_encoding" => r.public_key_encoding.as_str().to_string(),
        "rak_hash_algo" => r.public_key_hash_algo_id.as_str().to_string(),
        "realm_instance_id" => r
            .instance_id
            .as_ref()
            .map(|i| i.to_hex())
            .unwrap_or_default(),
        "realm_mec_policy" => serde_json::to_string(&r.mec_policy).unwrap(),
        other => panic!("manifest key claim {other:?} is not mapped in this test: add it"),
    }
}

fn check_key_claims(id: &str, case: &toml::Value, c: &CcaClaims) {
    let table = case["key_claims"].as_table().unwrap();
    // The 2024 realm profile's claims are listed exactly when present.
    let rmm11 =
        usize::from(c.realm.instance_id.is_some()) + usize::from(c.realm.mec_policy.is_some());
    assert_eq!(table.len(), 12 + rmm11, "{id}: every key claim is listed");
    for (k, want) in table {
        let want = match want {
            toml::Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        assert_eq!(key_claim(c, k), want, "{id}: key claim {k}");
    }
}

#[test]
fn every_case_gives_its_manifest_outcome_code_class_and_key_claims() {
    let dir = dir();
    let cases = cases();
    assert!(cases.len() >= 50, "{} cases", cases.len());
    let mut accepted = 0;
    for case in &cases {
        let id = str_of(case, "id");
        let folder = dir.join(str_of(case, "dir"));
        let token = std::fs::read(folder.join("token.cbor")).unwrap();
        let anchors = anchors(&folder, str_of(case, "anchors"));
        let opts = options(case);
        assert!(!opts.allow_test_keys, "{id}: FAKE keys are not test keys");
        let result = verify_token(&token, &anchors, &opts);
        match str_of(case, "expected") {
            "accept" => {
                accepted += 1;
                let v = result.unwrap_or_else(|e| panic!("{id}: {} {e}", e.code()));
                let c = &v.platform;
                check_key_claims(id, case, c);
                let cpak = c.cpak.as_ref().unwrap();
                assert_eq!(cpak.test_key, None, "{id}");
                // The checks, in order.
                let mut want = vec![
                    "token_format",
                    "platform_signature",
                    "realm_signature",
                    "binding",
                    "lifecycle",
                ];
                if opts.expected_realm_challenge.is_some() {
                    want.push("realm_challenge");
                }
                let names: Vec<_> = v.checks.iter().map(|c| c.name).collect();
                assert_eq!(names, want, "{id}");
                // Normalized claims.
                let n = &v.claims;
                assert_eq!(n.tee, Tee::Cca);
                assert_eq!(n.launch_measurement, c.realm.initial_measurement);
                assert_eq!(n.report_data, c.realm.challenge);
                assert_eq!(n.runtime_measurements.len(), 4);
                assert_eq!(n.debug, c.platform.lifecycle.state.is_debug(), "{id}");
                assert_eq!(n.tcb_status, TcbStatus::NotEvaluated);
                assert_eq!(n.platform_instance.as_ref(), Some(&c.platform.instance_id));
                assert_eq!(c.rak_claim_hash, c.platform.challenge, "{id}: binding");
                serde_json::to_string(&v).unwrap();
            }
            "reject" => {
                let e = result
                    .err()
                    .unwrap_or_else(|| panic!("{id}: verified, expected a reject"));
                assert_eq!(
                    (e.code(), e.class().as_str()),
                    (
                        str_of(case, "expected_code"),
                        str_of(case, "expected_class")
                    ),
                    "{id}: {e}"
                );
                match case.get("key_claims") {
                    Some(_) => {
                        let parsed = CcaToken::parse(&token)
                            .unwrap_or_else(|e| panic!("{id}: does not parse: {e}"));
                        check_key_claims(id, case, &parsed.claims());
                    }
                    None => assert_eq!(e.class().as_str(), "bad_input", "{id}"),
                }
            }
            other => panic!("{id}: expected {other:?}"),
        }
    }
    eprintln!("{} CCA testkit cases, {accepted} accepted", cases.len());
}

#[test]
fn the_cases_cover_every_envelope_profile_curve_and_refusal() {
    let cases = cases();
    let mut accepts = BTreeSet::new();
    let mut codes = BTreeSet::new();
    for case in &cases {
        if str_of(case, "expected") == "accept" {
            let k = case["key_claims"].as_table().unwrap();
            accepts.insert((
                k["envelope_tag"].as_integer().unwrap(),
                k["platform_profile"].as_str().unwrap().to_string(),
                k["platform_alg"].as_str().unwrap().to_string(),
                k["rak_encoding"].as_str().unwrap().to_string(),
            ));
        } else {
            codes.insert(str_of(case, "expected_code").to_string());
        }
    }
    for tag in [399, 907] {
        for profile in [
            "tag:arm.com,2023:cca_platform#1.0.0",
            "http://arm.com/CCA-SSD/1.0.0",
        ] {
            for alg in ["ES256", "ES384"] {
                assert!(
                    accepts
                        .iter()
                        .any(|(t, p, a, _)| *t == tag && p == profile && a == alg),
                    "no accepted tag {tag} {profile} {alg} case"
                );
            }
        }
    }
    assert!(accepts.iter().any(|a| a.3 == "cose-key"));
    assert!(accepts.iter().any(|a| a.3 == "raw-sec1"));
    for code in [
        "cca.signature.platform",
        "cca.signature.realm",
        "cca.binding",
        "cca.lifecycle",
        "cca.key.unknown",
        "cca.key.implementation_mismatch",
        "cca.key.algorithm_mismatch",
        "cca.challenge.mismatch",
        "cca.cbor.truncated",
        "cca.cbor.duplicate_key",
        "cca.cbor.non_minimal",
        "cca.cbor.trailing_data",
        "cca.cbor.indefinite_length",
        "cca.token.cose",
        "cca.token.envelope",
        "cca.token.unsupported_algorithm",
        "cca.claim.missing",
        "cca.claim.invalid",
        "cca.claim.unknown_profile",
    ] {
        assert!(codes.contains(code), "no case rejected with {code}");
    }
}

/// Every accepted token needs its own CPAK: an empty store finds none, and
/// the published TF-M test key as the sole CPAK is refused by name before
/// any signature is checked (the FAKE keys are found by the store, not by
/// accident).
#[test]
fn accepted_tokens_are_refused_by_an_empty_store_and_by_a_test_key() {
    let dir = dir();
    let p384_test_key = r#"{"crv":"P-384","kty":"EC","x":"IShnxS4rlQiwpCCpBWDzlNLfqiG911FP8akBr-fh94uxHU5m-Kijivp2r2oxxN6M","y":"hM4tr8mWQli1P61xh3T0ViDREbF26DGOEYfbAjWjGNN7pZf-6A4OTHYqEryz6m7U"}"#;
    let test_key = CcaTrustAnchors::from_jwk(p384_test_key.as_bytes(), "test key").unwrap();
    for case in cases().iter().filter(|c| str_of(c, "expected") == "accept") {
        let id = str_of(case, "id");
        let token = std::fs::read(dir.join(str_of(case, "dir")).join("token.cbor")).unwrap();
        let opts = options(case);
        let e = verify_token(&token, &CcaTrustAnchors::new(), &opts).unwrap_err();
        assert_eq!(e.code(), "cca.key.unknown", "{id}");
        // The published TF-M test key as the sole CPAK: refused by name
        // before any signature is checked.
        let e = verify_token(&token, &test_key, &opts).unwrap_err();
        assert_eq!(e.code(), "cca.key.test_key", "{id}");
    }
}
