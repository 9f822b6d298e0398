//! `cogito_cca::CcaToken::parse` and `verify_token` on arbitrary token
//! bytes, with the CPAKs of the real CCA vectors as trust anchors (the
//! TF-M/TF-A P-384 key of `cca-token-01-rust-ccatoken` and the Veraison
//! P-256 key of `cca-token-02-rust-ccatoken`, each as a sole bare JWK) and
//! `allow_test_keys`, since both are published test keys.
//!
//! The keys and every real token are read at startup from the shared
//! vectors folder (`$COGITO_VECTORS`, else `../../shared/vectors` beside
//! the checkout) and never copied into the repository; without them the
//! target still fuzzes parsing and the no-CPAK path.
//!
//! What parses must describe the input: the protected headers and payloads
//! it reports are the bytes at its spans. An accepted input is a forgery —
//! a crash — unless both its signed parts (protected header ‖ payload of
//! the platform and of the realm COSE_Sign1) are byte for byte those of a
//! real token that verifies with the same anchors. What may differ is what
//! no signature covers: the envelope (tag 399 or 907 around the same
//! COSE_Sign1s), the unprotected headers, and the encoding of an equivalent
//! ECDSA signature. Each part is judged on its own: two real tokens that
//! carry the same RAK (token-01 and the tag-907 legacy-profile token) make
//! a valid platform/realm pair across tokens, which the CCA binding (the
//! platform challenge is the hash of the RAK claim, nothing more) allows.
#![no_main]

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::OnceLock;

use cogito_cca::cose::CoseSign1;
use cogito_cca::{verify_token, CcaToken, CcaTrustAnchors, Options};
use libfuzzer_sys::fuzz_target;

/// Cases whose `cpak.jwk` is trusted (one anchor set each).
const ANCHOR_CASES: [&str; 2] = ["cca/token-01-rust-ccatoken", "cca/token-02-rust-ccatoken"];

/// What a COSE_Sign1 signature covers, length-prefixed.
fn signed(c: &CoseSign1<'_>) -> Vec<u8> {
    let mut v = (c.protected.len() as u64).to_le_bytes().to_vec();
    v.extend_from_slice(c.protected);
    v.extend_from_slice(c.payload);
    v
}

struct Fixture {
    anchors: Vec<CcaTrustAnchors>,
    /// Signed parts of the real platform tokens that verify.
    platform: HashSet<Vec<u8>>,
    /// Signed parts of the real realm tokens that verify.
    realm: HashSet<Vec<u8>>,
    options: Options,
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let root = std::env::var_os("COGITO_VECTORS")
            .map(PathBuf::from)
            .unwrap_or_else(|| {
                PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/vectors"))
            });
        let options = Options {
            allow_test_keys: true,
            ..Options::default()
        };
        let mut anchors = Vec::new();
        for case in ANCHOR_CASES {
            let path = root.join(case).join("cpak.jwk");
            match std::fs::read(&path)
                .map_err(|e| e.to_string())
                .and_then(|b| CcaTrustAnchors::from_jwk(&b, case).map_err(|e| e.to_string()))
            {
                Ok(a) => anchors.push(a),
                Err(e) => eprintln!("cca_token: {} not usable ({e})", path.display()),
            }
        }
        // An empty store too: the no-CPAK path after a full parse.
        anchors.push(CcaTrustAnchors::new());
        let mut platform = HashSet::new();
        let mut realm = HashSet::new();
        let mut genuine = 0;
        if let Ok(entries) = std::fs::read_dir(root.join("cca")) {
            for e in entries.flatten() {
                let Ok(bytes) = std::fs::read(e.path().join("token.cbor")) else {
                    continue;
                };
                let Ok(t) = CcaToken::parse(&bytes) else {
                    continue;
                };
                if anchors
                    .iter()
                    .any(|a| verify_token(&bytes, a, &options).is_ok())
                {
                    platform.insert(signed(&t.platform));
                    realm.insert(signed(&t.realm));
                    genuine += 1;
                }
            }
        }
        eprintln!(
            "cca_token: {} anchor sets, {genuine} real tokens verify",
            anchors.len()
        );
        Fixture {
            anchors,
            platform,
            realm,
            options,
        }
    })
}

fuzz_target!(|data: &[u8]| {
    let f = fixture();
    if let Ok(t) = CcaToken::parse(data) {
        // The spans are where the signed bytes are.
        for c in [&t.platform, &t.realm] {
            assert_eq!(&data[c.protected_span.clone()], c.protected);
            assert_eq!(&data[c.payload_span.clone()], c.payload);
            let _ = c.to_be_signed();
        }
        let claims = t.claims();
        assert_eq!(claims.realm.challenge.0.len(), 64);
        assert_eq!(claims.platform.instance_id.0.len(), 33);
        assert!(claims.realm.public_key.0 == t.rak_claim);
        let _ = claims.normalized();
    }
    for anchors in &f.anchors {
        if let Ok(v) = verify_token(data, anchors, &f.options) {
            let t = CcaToken::parse(data).expect("an accepted token parses");
            assert!(
                f.platform.contains(&signed(&t.platform)) && f.realm.contains(&signed(&t.realm)),
                "verify_token accepted a token whose signed parts are not a real token's (RIM {:?})",
                v.claims.launch_measurement
            );
        }
    }
});
