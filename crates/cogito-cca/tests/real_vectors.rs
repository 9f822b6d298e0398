//! Every CCA token in ../shared/vectors gives exactly its manifest's outcome
//! and key claims; test keys are refused by default; truncated and mutated
//! tokens never panic and never verify once a signed byte changed.

// Test code: a panic is a failed test.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::as_conversions
)]

use std::path::{Path, PathBuf};

use cogito_cca::claims::LifecycleState;
use cogito_cca::{verify_token, CcaClaims, CcaToken, CcaTrustAnchors, Options, ReferenceValues};
use cogito_core::{CogitoError, ErrorClass, TcbStatus, Tee};

struct Vector {
    id: String,
    dir: PathBuf,
    files: Vec<String>,
    expected: String,
    expected_reason: Option<String>,
    key_claims: toml::Table,
}

fn vectors() -> Option<Vec<Vector>> {
    let root = cogito_testkit::real_vectors::dir()?;
    let manifest: toml::Value =
        toml::from_str(&std::fs::read_to_string(root.join("MANIFEST.toml")).unwrap()).unwrap();
    let mut out = Vec::new();
    for v in manifest["vector"].as_array().unwrap() {
        if v["platform"].as_str() != Some("cca") {
            continue;
        }
        let id = v["id"].as_str().unwrap().to_string();
        assert!(id.starts_with("cca-"), "{id}");
        out.push(Vector {
            dir: root.join(v["dir"].as_str().unwrap()),
            files: v["files"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| f.as_str().unwrap().to_string())
                .collect(),
            expected: v["expected"].as_str().unwrap().to_string(),
            expected_reason: v
                .get("expected_reason")
                .map(|r| r.as_str().unwrap().to_string()),
            key_claims: v["key_claims"].as_table().unwrap().clone(),
            id,
        });
    }
    assert!(
        out.len() >= 7,
        "expected the 7 CCA vectors, found {}",
        out.len()
    );
    Some(out)
}

fn read(dir: &Path, name: &str) -> Vec<u8> {
    std::fs::read(dir.join(name)).unwrap_or_else(|e| panic!("{}: {e}", dir.join(name).display()))
}

/// Every trust-anchor file the vector has, loaded (TA store, JWK, PEM).
fn anchor_sets(v: &Vector) -> Vec<(String, CcaTrustAnchors)> {
    let mut out = Vec::new();
    for f in &v.files {
        let loaded = match f.as_str() {
            "ta_store.json" => CcaTrustAnchors::from_ta_store_json(&read(&v.dir, f), f),
            "cpak.jwk" => CcaTrustAnchors::from_jwk(&read(&v.dir, f), f),
            "cpak.pem" => CcaTrustAnchors::from_spki(&read(&v.dir, f), f),
            _ => continue,
        };
        let anchors = loaded.unwrap_or_else(|e| panic!("{}: {f}: {e}", v.id));
        // The format detection of `load` agrees.
        assert_eq!(CcaTrustAnchors::load(&read(&v.dir, f), f).unwrap(), anchors);
        out.push((f.clone(), anchors));
    }
    assert!(!out.is_empty(), "{}: no CPAK file", v.id);
    out
}

fn test_options() -> Options {
    Options {
        allow_test_keys: true,
        ..Options::default()
    }
}

fn reason_code(reason: &str) -> &'static str {
    match reason {
        "binding mismatch: platform challenge != hash(RAK)" => "cca.binding",
        other => panic!("manifest reason {other:?} has no expected code in this test: add one"),
    }
}

/// One manifest key claim, from the typed claims. An unmapped key fails.
fn key_claim(c: &CcaClaims, key: &str) -> String {
    let p = &c.platform;
    let r = &c.realm;
    let rem = |i: usize| r.extensible_measurements[i].to_hex();
    match key {
        "envelope_tag" => c.envelope_tag.to_string(),
        "platform_alg" => p.alg.as_str().to_string(),
        "platform_profile" => p.profile.clone(),
        "platform_challenge" => p.challenge.to_hex(),
        "implementation_id" => p.implementation_id.to_hex(),
        "instance_id" => p.instance_id.to_hex(),
        "platform_config" => p.config.to_hex(),
        "lifecycle" => format!("{:#06x}", p.lifecycle.value),
        "platform_hash_algo" => p.hash_algo_id.clone(),
        "sw_component_count" => p.sw_components.len().to_string(),
        "verification_service" => p.verification_service.clone().unwrap_or_default(),
        "realm_alg" => r.alg.as_str().to_string(),
        "realm_profile" => r.profile.clone().unwrap_or_default(),
        "realm_challenge" => r.challenge.to_hex(),
        "realm_rim" => r.initial_measurement.to_hex(),
        "realm_rpv" => r.personalization_value.to_hex(),
        "realm_rem0" => rem(0),
        "realm_rem1" => rem(1),
        "realm_rem2" => rem(2),
        "realm_rem3" => rem(3),
        "realm_hash_algo" => r.hash_algo_id.clone(),
        "rak_hash_algo" => r.public_key_hash_algo_id.as_str().to_string(),
        "rak_encoding" => r.public_key_encoding.as_str().to_string(),
        "rak_claim_hash" => c.rak_claim_hash.to_hex(),
        other => panic!("manifest key claim {other:?} is not mapped in this test: add it"),
    }
}

fn check_key_claims(v: &Vector, c: &CcaClaims) {
    for (k, want) in &v.key_claims {
        let want = match want {
            toml::Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        assert_eq!(key_claim(c, k), want, "{}: key claim {k}", v.id);
    }
}

#[test]
fn every_cca_vector_gives_its_manifest_outcome_and_key_claims() {
    let Some(vectors) = vectors() else {
        return;
    };
    for v in &vectors {
        let token = read(&v.dir, "token.cbor");
        // Parsing alone yields every key claim, whatever the verdict.
        let parsed = CcaToken::parse(&token).unwrap_or_else(|e| panic!("{}: {e}", v.id));
        check_key_claims(v, &parsed.claims());
        for (file, anchors) in anchor_sets(v) {
            let r = verify_token(&token, &anchors, &test_options());
            match v.expected.as_str() {
                "accept" => {
                    let verified = r.unwrap_or_else(|e| panic!("{} with {file}: {e}", v.id));
                    let c = &verified.platform;
                    check_key_claims(v, c);
                    let cpak = c.cpak.as_ref().unwrap();
                    assert!(
                        cpak.test_key.is_some(),
                        "{}: every vector CPAK is a test key",
                        v.id
                    );
                    // Normalized claims (DESIGN.md table).
                    let n = &verified.claims;
                    assert_eq!(n.tee, Tee::Cca);
                    assert_eq!(n.launch_measurement, c.realm.initial_measurement);
                    assert_eq!(n.runtime_measurements, c.realm.extensible_measurements);
                    assert_eq!(n.report_data, c.realm.challenge);
                    assert_eq!(n.report_data.0.len(), 64);
                    assert_eq!(n.init_data, c.realm.personalization_value);
                    assert!(!n.debug);
                    assert_eq!(n.tcb_status, TcbStatus::NotEvaluated);
                    assert_eq!(n.platform_instance.as_ref(), Some(&c.platform.instance_id));
                    assert!(!n.signer.is_empty());
                    for s in &n.signer {
                        assert!(c
                            .platform
                            .sw_components
                            .iter()
                            .any(|x| x.signer_id == s.value));
                    }
                    let names: Vec<_> = verified.checks.iter().map(|c| c.name).collect();
                    assert_eq!(
                        names,
                        [
                            "token_format",
                            "platform_signature",
                            "realm_signature",
                            "binding",
                            "lifecycle"
                        ]
                    );
                    serde_json::to_string(&verified).unwrap();
                }
                "reject" => {
                    let e = r
                        .err()
                        .unwrap_or_else(|| panic!("{} with {file}: verified", v.id));
                    let reason = v.expected_reason.as_deref().unwrap();
                    assert_eq!(e.code(), reason_code(reason), "{}: {e}", v.id);
                    assert_eq!(e.class(), ErrorClass::Authenticity);
                    assert!(e.to_string().contains("44237"), "{e}");
                }
                other => panic!("{}: expected {other:?}", v.id),
            }
            // Without allow_test_keys every vector is refused as a test key,
            // before any other verdict.
            let e = verify_token(&token, &anchors, &Options::default()).unwrap_err();
            assert_eq!(e.code(), "cca.key.test_key", "{}: {e}", v.id);
            assert_eq!(e.class(), ErrorClass::Policy);
            assert!(e.to_string().contains("published test key"), "{e}");
        }
    }
}

#[test]
fn envelopes_and_rak_encodings_seen_in_the_vectors() {
    let Some(vectors) = vectors() else {
        return;
    };
    let mut seen = std::collections::BTreeSet::new();
    for v in &vectors {
        let token = read(&v.dir, "token.cbor");
        let c = CcaToken::parse(&token).unwrap().claims();
        seen.insert((
            c.envelope_tag,
            c.realm.public_key_encoding.as_str(),
            c.platform.alg.as_str(),
        ));
        // Realm 2024 profile tokens carry an instance id (256) and a MEC
        // policy (44243, an integer in shipping tokens): typed, not extras.
        if c.envelope_tag == 907 {
            assert!(c.realm.extra.is_empty(), "{}: {:?}", v.id, c.realm.extra);
            assert!(c.realm.instance_id.is_some(), "{}", v.id);
            assert!(
                matches!(c.realm.mec_policy, Some(cogito_cca::MecPolicy::Int(_))),
                "{}",
                v.id
            );
        }
    }
    assert!(seen.len() >= 4, "{seen:?}");
}

fn vector<'a>(vectors: &'a [Vector], id: &str) -> &'a Vector {
    vectors.iter().find(|v| v.id == id).unwrap()
}

#[test]
fn policy_and_key_refusals() {
    let Some(vectors) = vectors() else {
        return;
    };
    let v1 = vector(&vectors, "cca-token-01-rust-ccatoken");
    let v2 = vector(&vectors, "cca-token-02-rust-ccatoken");
    let token = read(&v1.dir, "token.cbor");
    let anchors =
        CcaTrustAnchors::from_ta_store_json(&read(&v1.dir, "ta_store.json"), "ta").unwrap();

    // Lifecycle: secured (0x3003) is refused when only debug states are allowed.
    let opts = Options {
        allowed_lifecycles: vec![LifecycleState::NonCcaPlatformDebug],
        ..test_options()
    };
    let e = verify_token(&token, &anchors, &opts).unwrap_err();
    assert_eq!(e.code(), "cca.lifecycle");
    assert!(e.to_string().contains("0x3003 (secured)"), "{e}");

    // Expected realm challenge.
    let mut challenge = [0xab; 64];
    let ok = Options {
        expected_realm_challenge: Some(challenge),
        ..test_options()
    };
    let verified = verify_token(&token, &anchors, &ok).unwrap();
    assert_eq!(verified.checks.last().unwrap().name, "realm_challenge");
    challenge[63] = 0;
    let bad = Options {
        expected_realm_challenge: Some(challenge),
        ..test_options()
    };
    let e = verify_token(&token, &anchors, &bad).unwrap_err();
    assert_eq!(
        (e.code(), e.class()),
        ("cca.challenge.mismatch", ErrorClass::Policy)
    );

    // A store for another platform: no CPAK.
    let other =
        CcaTrustAnchors::from_ta_store_json(&read(&v2.dir, "ta_store.json"), "ta-02").unwrap();
    let e = verify_token(&token, &other, &test_options()).unwrap_err();
    assert_eq!(
        (e.code(), e.class()),
        ("cca.key.unknown", ErrorClass::CollateralUnavailable)
    );
    let e = verify_token(&token, &CcaTrustAnchors::new(), &test_options()).unwrap_err();
    assert_eq!(e.code(), "cca.key.unknown");

    // A single key of the wrong curve: ES384 token, P-256 CPAK.
    let p256 = CcaTrustAnchors::from_jwk(&read(&v2.dir, "cpak.jwk"), "p256").unwrap();
    let e = verify_token(&token, &p256, &test_options()).unwrap_err();
    assert_eq!(
        (e.code(), e.class()),
        ("cca.key.algorithm_mismatch", ErrorClass::Authenticity)
    );

    // The right instance id bound to another implementation id.
    let store = String::from_utf8(read(&v1.dir, "ta_store.json"))
        .unwrap()
        .replace("7f454c46", "7f454c47");
    let wrong_impl = CcaTrustAnchors::from_ta_store_json(store.as_bytes(), "ta").unwrap();
    let e = verify_token(&token, &wrong_impl, &test_options()).unwrap_err();
    assert_eq!(e.code(), "cca.key.implementation_mismatch");
}

#[test]
fn flipped_signature_bytes_name_the_token() {
    let Some(vectors) = vectors() else {
        return;
    };
    for v in &vectors {
        let token = read(&v.dir, "token.cbor");
        let (_, anchors) = anchor_sets(v).remove(0);
        let parsed = CcaToken::parse(&token).unwrap();
        let sig_at = |c: &cogito_cca::cose::CoseSign1<'_>| {
            c.signature.as_ptr() as usize - token.as_ptr() as usize
        };
        let find = |needle: &[u8], within: &std::ops::Range<usize>| {
            within.start
                + token[within.clone()]
                    .windows(needle.len())
                    .position(|w| w == needle)
                    .unwrap()
        };
        let c = parsed.claims();
        for (at, code) in [
            (sig_at(&parsed.platform), "cca.signature.platform"),
            (sig_at(&parsed.realm) + 5, "cca.signature.realm"),
            // A claim byte inside each payload: the challenges.
            (
                find(&c.platform.challenge.0, &parsed.platform.payload_span) + 3,
                "cca.signature.platform",
            ),
            (
                find(&c.realm.challenge.0, &parsed.realm.payload_span) + 60,
                "cca.signature.realm",
            ),
        ] {
            let mut m = token.clone();
            m[at] ^= 0x01;
            let e = verify_token(&m, &anchors, &test_options()).unwrap_err();
            assert_eq!(e.code(), code, "{} byte {at:#x}: {e}", v.id);
            assert_eq!(e.class(), ErrorClass::Authenticity);
        }
    }
}

#[test]
fn reference_values_of_token_01_match() {
    let Some(vectors) = vectors() else {
        return;
    };
    let v = vector(&vectors, "cca-token-01-rust-ccatoken");
    let rv = ReferenceValues::from_json(&read(&v.dir, "reference_values.json"), "rv").unwrap();
    let c = CcaToken::parse(&read(&v.dir, "token.cbor"))
        .unwrap()
        .claims();
    let p = rv.appraise_platform(&c.platform);
    assert_eq!(p.len(), 1);
    assert!(p[0].matches, "{p:?}");
    assert_eq!(p[0].config_matches, Some(true));
    assert_eq!(p[0].components.len(), 4);
    let r = rv.appraise_realm(&c.realm);
    assert!(r[0].matches, "{r:?}");
    assert_eq!(r[0].rpv_matches, Some(true));
    // Another token's platform has no reference for its implementation id.
    let other = vector(&vectors, "cca-token-02-rust-ccatoken");
    let c2 = CcaToken::parse(&read(&other.dir, "token.cbor"))
        .unwrap()
        .claims();
    assert!(rv.appraise_platform(&c2.platform).is_empty());
}

/// xorshift64: deterministic, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

#[test]
fn truncations_and_mutations_never_panic_nor_verify_changed_signed_bytes() {
    let Some(vectors) = vectors() else {
        return;
    };
    const MUTATIONS: usize = 4000;
    for (n, v) in vectors.iter().enumerate() {
        let token = read(&v.dir, "token.cbor");
        let (_, anchors) = anchor_sets(v).remove(0);
        let opts = test_options();
        let original = verify_token(&token, &anchors, &opts)
            .ok()
            .map(|x| x.platform);
        let parsed = CcaToken::parse(&token).unwrap();
        let signed = [
            parsed.platform.protected_span.clone(),
            parsed.platform.payload_span.clone(),
            parsed.realm.protected_span.clone(),
            parsed.realm.payload_span.clone(),
        ];

        // Every truncation is a CBOR truncation (the envelope spans the input).
        for len in 0..token.len() {
            let e = verify_token(&token[..len], &anchors, &opts).unwrap_err();
            assert_eq!(e.code(), "cca.cbor.truncated", "{} cut at {len}: {e}", v.id);
        }
        // Trailing data is its own error.
        let mut longer = token.clone();
        longer.push(0);
        let e = verify_token(&longer, &anchors, &opts).unwrap_err();
        assert_eq!(e.code(), "cca.cbor.trailing_data");

        let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ (n as u64 + 1));
        let mut verified = 0;
        let mut codes = std::collections::BTreeMap::<&'static str, usize>::new();
        for _ in 0..MUTATIONS {
            let mut m = token.clone();
            let at = rng.below(m.len());
            let kind = rng.below(10);
            match kind {
                // Flip one byte (most mutations).
                0..=6 => m[at] ^= (rng.below(255) + 1) as u8,
                // Insert a byte.
                7 => m.insert(at, rng.next() as u8),
                // Delete a byte.
                8 => {
                    m.remove(at);
                }
                // Overwrite a run of bytes.
                _ => {
                    let end = (at + 1 + rng.below(16)).min(m.len());
                    for b in &mut m[at..end] {
                        *b = rng.next() as u8;
                    }
                }
            }
            if m == token {
                continue;
            }
            // Parsing alone never panics either.
            let _ = CcaToken::parse(&m);
            let ok = match verify_token(&m, &anchors, &opts) {
                Ok(ok) => ok,
                Err(e) => {
                    *codes.entry(e.code()).or_default() += 1;
                    continue;
                }
            };
            verified += 1;
            // Whatever verifies carries exactly the original, signed claims …
            assert_eq!(
                Some(&ok.platform),
                original.as_ref(),
                "{}: mutation at {at:#x}",
                v.id
            );
            // … and a flip that verifies touched no signed byte.
            if kind <= 6 {
                assert!(
                    !signed.iter().any(|s| s.contains(&at)),
                    "{}: flip at {at:#x} in a signed span verified",
                    v.id
                );
            }
        }
        eprintln!("{}: {MUTATIONS} mutations refused with {codes:?}", v.id);
        assert_eq!(verified, 0, "{}: {verified} mutated tokens verified", v.id);
    }
}
