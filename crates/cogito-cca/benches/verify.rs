//! What a CCA token verification costs next to the two ECDSA P-384
//! verifications it cannot avoid (DESIGN.md principle 5: the per-request
//! cost should approach that of the signatures).
//!
//! Group `cca_verify`, on two real ES384 tokens — `cca-token-01-rust-ccatoken`
//! (tag 399, raw RAK) and `cca-tag907-example-tf-m-tools` (tag 907,
//! COSE_Key RAK, 13 software components) — with the CPAK of their
//! `cpak.jwk` and `allow_test_keys` (the CPAK is a published test key):
//!
//! - `<token>/bare_2x_es384`: the platform Sig_structure checked with the
//!   CPAK and the realm Sig_structure with the RAK, through aws-lc-rs
//!   directly (`ParsedPublicKey`, `ECDSA_P384_SHA384_FIXED`, both keys
//!   parsed once). The Sig_structures are built from the token once.
//! - `<token>/bare_2x_es384_rak_parsed`: the same, parsing the RAK point
//!   every time — a verifier meets a new RAK with every realm, so this is
//!   the floor for a token whose RAK it has not seen.
//! - `<token>/verify_token`: `cogito_cca::verify_token` (strict CBOR parse,
//!   claims, CPAK lookup, both signatures, binding hash, lifecycle).
//!
//! After criterion, a plain interleaved timing loop prints the ratios
//! `verify_token / bare_2x_es384` per token. Run with
//! `cargo bench -p cogito-cca --bench verify`. The vectors are read from
//! `../shared/vectors` (or `$COGITO_VECTORS`); without them the benchmark
//! prints a notice and does nothing (under `CI=true` it fails).

// Test code: a panic is a failed test.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::as_conversions
)]

use cogito_testkit::timing::mean;
use std::hint::black_box;
use std::time::Duration;

use aws_lc_rs::signature::{ParsedPublicKey, ECDSA_P384_SHA384_FIXED};
use cogito_cca::{verify_token, CcaToken, CcaTrustAnchors, Options};
use criterion::Criterion;

const CASES: [(&str, &str); 2] = [
    ("token-01", "cca-token-01-rust-ccatoken"),
    ("tag907-example", "cca-tag907-example-tf-m-tools"),
];

struct Fixture {
    name: &'static str,
    token: Vec<u8>,
    anchors: CcaTrustAnchors,
    options: Options,
    cpak_point: Vec<u8>,
    rak_point: Vec<u8>,
    platform_tbs: Vec<u8>,
    platform_sig: Vec<u8>,
    realm_tbs: Vec<u8>,
    realm_sig: Vec<u8>,
}

fn fixtures() -> Option<Vec<Fixture>> {
    let root = cogito_testkit::real_vectors::dir()?;
    let manifest = std::fs::read_to_string(root.join("MANIFEST.toml")).expect("MANIFEST.toml");
    let manifest: toml::Table = toml::from_str(&manifest).expect("MANIFEST.toml is TOML");
    let vectors = manifest["vector"].as_array().expect("[[vector]]");
    let mut out = Vec::new();
    for (name, id) in CASES {
        let case = vectors
            .iter()
            .find(|v| v["id"].as_str() == Some(id))
            .unwrap_or_else(|| panic!("{id} in MANIFEST.toml"));
        let dir = root.join(case["dir"].as_str().expect("dir"));
        let token = std::fs::read(dir.join("token.cbor")).expect("token.cbor");
        let anchors = CcaTrustAnchors::from_jwk(
            &std::fs::read(dir.join("cpak.jwk")).expect("cpak.jwk"),
            "cpak.jwk",
        )
        .expect("JWK");
        let parsed = CcaToken::parse(&token).expect("token parses");
        assert_eq!(parsed.platform.alg.as_str(), "ES384", "{id}");
        assert_eq!(parsed.realm.alg.as_str(), "ES384", "{id}");
        out.push(Fixture {
            name,
            cpak_point: anchors.entries()[0].key.point().to_vec(),
            rak_point: parsed.rak.point().to_vec(),
            platform_tbs: parsed.platform.to_be_signed(),
            platform_sig: parsed.platform.signature.to_vec(),
            realm_tbs: parsed.realm.to_be_signed(),
            realm_sig: parsed.realm.signature.to_vec(),
            options: Options {
                allow_test_keys: true,
                ..Options::default()
            },
            anchors,
            token,
        });
    }
    Some(out)
}

fn key(point: &[u8]) -> ParsedPublicKey {
    ParsedPublicKey::new(&ECDSA_P384_SHA384_FIXED, point).expect("valid P-384 point")
}

/// Both bare verifications with parsed keys.
fn bare(cpak: &ParsedPublicKey, rak: &ParsedPublicKey, f: &Fixture) -> bool {
    cpak.verify_sig(black_box(&f.platform_tbs), black_box(&f.platform_sig))
        .is_ok()
        & rak
            .verify_sig(black_box(&f.realm_tbs), black_box(&f.realm_sig))
            .is_ok()
}

fn benches(c: &mut Criterion, fixtures: &[Fixture]) {
    let mut g = c.benchmark_group("cca_verify");
    for f in fixtures {
        let cpak = key(&f.cpak_point);
        let rak = key(&f.rak_point);
        assert!(bare(&cpak, &rak, f), "{}: genuine signatures", f.name);
        verify_token(&f.token, &f.anchors, &f.options).expect("accept");
        g.bench_function(format!("{}/bare_2x_es384", f.name), |b| {
            b.iter(|| bare(&cpak, &rak, f))
        });
        g.bench_function(format!("{}/bare_2x_es384_rak_parsed", f.name), |b| {
            b.iter(|| bare(&cpak, &key(black_box(&f.rak_point)), f))
        });
        g.bench_function(format!("{}/verify_token", f.name), |b| {
            b.iter(|| verify_token(black_box(&f.token), &f.anchors, &f.options))
        });
    }
    g.finish();
}

/// Interleaved rounds of (bare, bare with RAK parsing, verify_token), so
/// drift hits all alike; prints the medians of the per-round ratios.
fn print_ratios(fixtures: &[Fixture]) {
    println!();
    for f in fixtures {
        let cpak = key(&f.cpak_point);
        let rak = key(&f.rak_point);
        let mut rows = Vec::new();
        for _ in 0..7 {
            let a = mean(500, || {
                black_box(bare(&cpak, &rak, f));
            });
            let p = mean(500, || {
                black_box(bare(&cpak, &key(black_box(&f.rak_point)), f));
            });
            let v = mean(500, || {
                let _ = black_box(verify_token(black_box(&f.token), &f.anchors, &f.options));
            });
            rows.push((a, p, v));
        }
        let median = |mut xs: Vec<f64>| {
            xs.sort_by(f64::total_cmp);
            xs[xs.len() / 2]
        };
        let us = |d: Duration| d.as_secs_f64() * 1e6;
        let a = median(rows.iter().map(|r| us(r.0)).collect());
        let p = median(rows.iter().map(|r| us(r.1)).collect());
        let v = median(rows.iter().map(|r| us(r.2)).collect());
        let ratio = median(
            rows.iter()
                .map(|r| r.2.as_secs_f64() / r.0.as_secs_f64())
                .collect(),
        );
        let ratio_parsed = median(
            rows.iter()
                .map(|r| r.2.as_secs_f64() / r.1.as_secs_f64())
                .collect(),
        );
        println!(
            "{}: {} bytes; bare 2x ES384 verify {a:.1} µs (RAK parsed per call {p:.1} µs), verify_token {v:.1} µs; ratio verify_token/bare = {ratio:.3}, verify_token/bare with RAK parsing = {ratio_parsed:.3} (medians of 7 interleaved rounds of 500)",
            f.name,
            f.token.len(),
        );
    }
}

fn main() {
    let Some(fixtures) = fixtures() else { return };
    let mut c = Criterion::default().configure_from_args();
    benches(&mut c, &fixtures);
    c.final_summary();
    // `cargo test --benches` runs each benchmark once with `--test`; the
    // timing loop is only for real runs.
    if !std::env::args().any(|a| a == "--test" || a == "--list") {
        print_ratios(&fixtures);
    }
}
