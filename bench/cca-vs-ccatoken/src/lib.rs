//! The fixtures shared by the comparison benchmark: real CCA tokens from
//! the shared vectors, with their CPAK in cogito's form (a
//! `CcaTrustAnchors` from `cpak.jwk`) and in Veraison ccatoken's (a
//! `MemoTrustAnchorStore` loaded from the vector's `ta_store.json`), and
//! the two verifications being compared.

use ccatoken::store::MemoTrustAnchorStore;
use ccatoken::token::Evidence;
use cogito_cca::{verify_token, CcaClaims, CcaError, CcaTrustAnchors, Options};
use cogito_core::Verified;
use ear::claim::{CRYPTO_VALIDATION_FAILED, TRUSTWORTHY_INSTANCE};
use ear::TrustVector;

/// The ccatoken release this crate pins (the only one on crates.io).
pub const CCATOKEN_VERSION: &str = "0.1.0";

/// The vectors tried, by manifest id. `cca-token-01-rust-ccatoken` is
/// rust-ccatoken's own test token (its `ta_store.json` and
/// `reference_values.json` are rust-ccatoken's test data too); the tag-907
/// token is compared only if ccatoken accepts it.
pub const CASES: [&str; 2] = [
    "cca-token-01-rust-ccatoken",
    "cca-tag907-example-tf-m-tools",
];

/// One token with what each verifier needs to verify it.
pub struct Fixture {
    /// The manifest id.
    pub id: &'static str,
    /// `token.cbor`.
    pub token: Vec<u8>,
    /// cogito's trust anchors: the CPAK of `cpak.jwk`.
    pub anchors: CcaTrustAnchors,
    /// cogito's options: defaults (lifecycle "secured" only) plus
    /// `allow_test_keys` (the CPAK is a published test key).
    pub options: Options,
    /// ccatoken's trust-anchor store.
    pub store: MemoTrustAnchorStore,
    /// Where `store` came from.
    pub store_source: &'static str,
}

/// Loads every case of [`CASES`], or `None` without the vectors.
pub fn fixtures() -> Option<Vec<Fixture>> {
    // `$COGITO_VECTORS`, else `../shared/vectors`; a notice when absent.
    let root = cogito_testkit::real_vectors::dir()?;
    let vectors = cogito_testkit::real_vectors::manifest_vectors(&root);
    let mut out = Vec::new();
    for id in CASES {
        let case = vectors
            .iter()
            .find(|v| v["id"].as_str() == Some(id))
            .unwrap_or_else(|| panic!("{id} in MANIFEST.toml"));
        let dir = root.join(case["dir"].as_str().expect("dir"));
        let read = |f: &str| std::fs::read(dir.join(f)).unwrap_or_else(|e| panic!("{id}/{f}: {e}"));
        let cpak = read("cpak.jwk");
        let anchors = CcaTrustAnchors::from_jwk(&cpak, "cpak.jwk").expect("cpak.jwk");
        // ccatoken looks the CPAK up by instance id in a JSON store of
        // {pkey, implementation-id, instance-id} entries. A vector without
        // the published store gets the one-entry store of its CPAK bound to
        // its manifest instance and implementation ids.
        let (store_json, store_source) = if dir.join("ta_store.json").is_file() {
            (
                String::from_utf8(read("ta_store.json")).expect("ta_store.json is UTF-8"),
                "ta_store.json",
            )
        } else {
            let claims = &case["key_claims"];
            (
                format!(
                    r#"[{{"pkey":{},"implementation-id":"{}","instance-id":"{}"}}]"#,
                    String::from_utf8(cpak).expect("cpak.jwk is UTF-8"),
                    claims["implementation_id"]
                        .as_str()
                        .expect("implementation_id"),
                    claims["instance_id"].as_str().expect("instance_id"),
                ),
                "cpak.jwk + manifest instance/implementation ids",
            )
        };
        let mut store = MemoTrustAnchorStore::new();
        store
            .load_json(&store_json)
            .unwrap_or_else(|e| panic!("{id}: ccatoken trust-anchor store: {e:?}"));
        out.push(Fixture {
            id,
            token: read("token.cbor"),
            anchors,
            options: Options {
                allow_test_keys: true,
                ..Options::default()
            },
            store,
            store_source,
        });
    }
    Some(out)
}

/// cogito's full verification: `cogito_cca::verify_token` (strict parse,
/// CPAK lookup, platform and realm signatures, binding, lifecycle).
pub fn cogito_verify(f: &Fixture, token: &[u8]) -> Result<Verified<CcaClaims>, CcaError> {
    verify_token(token, &f.anchors, &f.options)
}

/// ccatoken's equivalent: `Evidence::decode` then `Evidence::verify`
/// against the trust-anchor store (CPAK lookup by instance id, platform
/// signature by the CPAK, realm signature by the RAK, binding). `verify`
/// reports its outcome in the trust vectors, not in its result: see
/// [`ccatoken_outcome`].
pub fn ccatoken_verify(f: &Fixture, token: &Vec<u8>) -> Result<Evidence, ccatoken::token::Error> {
    let mut e = Evidence::decode(token)?;
    e.verify(&f.store)?;
    Ok(e)
}

/// Whether ccatoken's verification succeeded: `verify` returns `Ok` even
/// for an unknown CPAK or a bad signature and records the failure in the
/// AR4SI trust vectors. Both tokens verified means both vectors' instance
/// identity is "trustworthy instance" (2) — the platform's is set once the
/// CPAK verified the platform signature, the realm's once the RAK verified
/// the realm signature — and no tier says "cryptographic validation
/// failed" (99; a binding mismatch sets every realm tier to it).
pub fn ccatoken_outcome(e: &Evidence) -> Result<(), String> {
    let (platform, realm) = e.get_trust_vectors();
    let tiers = |t: &TrustVector| {
        [
            t.instance_identity.get(),
            t.configuration.get(),
            t.executables.get(),
            t.file_system.get(),
            t.hardware.get(),
            t.runtime_opaque.get(),
            t.storage_opaque.get(),
            t.sourced_data.get(),
        ]
    };
    for (name, t) in [("platform", &platform), ("realm", &realm)] {
        if t.instance_identity.get() != TRUSTWORTHY_INSTANCE {
            return Err(format!(
                "{name} instance identity is {} ({}), not trustworthy",
                t.instance_identity.get(),
                t.instance_identity.value_name()
            ));
        }
        if tiers(t).contains(&CRYPTO_VALIDATION_FAILED) {
            return Err(format!(
                "{name} trust vector has crypto validation failed: {:?}",
                tiers(t)
            ));
        }
    }
    Ok(())
}
