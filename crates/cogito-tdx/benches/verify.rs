//! What a TDX quote verification costs next to the one ECDSA P-256
//! verification it cannot avoid (DESIGN.md principle 5: with the PCK chain,
//! QE report and collateral cached, the per-request cost should approach
//! that one signature).
//!
//! Group `tdx_verify`, all on the real `tdx-v4-uptodate-dcap-qvl` vector
//! with its full collateral at its `verify_at`:
//!
//! - `bare_ecdsa_p256_verify`: the quote signature over the signed bytes
//!   (header ‖ body) checked with the attestation key through aws-lc-rs
//!   directly (`ParsedPublicKey`, `ECDSA_P256_SHA256_FIXED`, key parsed
//!   once).
//! - `verify_quote_cached`: `verify_quote` with a warmed `VerifiedCache`.
//! - `verify_quote_cold`: `verify_quote` with `VerifiedCache::disabled()`
//!   (PCK chain, QE report signature and collateral verified every time).
//!
//! Group `tdx_verify_breakdown` times the pieces of the cached path that
//! are not the signature (parse, the SHA-256 cache keys) to show where any
//! overhead goes.
//!
//! After criterion, a plain interleaved timing loop prints
//! `ratio cached/bare`; the target is ≤ 2.5. Run with
//! `cargo bench -p cogito-tdx --bench verify`. The vectors are read from
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

use aws_lc_rs::digest;
use aws_lc_rs::signature::{ParsedPublicKey, ECDSA_P256_SHA256_FIXED};
use cogito_core::VerificationTime;
use cogito_tdx::{builtin_anchors, verify_quote, Collateral, Options, Quote, VerifiedCache};
use criterion::Criterion;

const CASE_ID: &str = "tdx-v4-uptodate-dcap-qvl";

struct Fixture {
    quote: Vec<u8>,
    collateral: Collateral,
    at: VerificationTime,
    /// Uncompressed SEC1 point of the attestation key.
    point: [u8; 65],
    /// Header ‖ body: what the quote signature covers.
    message: Vec<u8>,
    /// r ‖ s, big-endian.
    signature: [u8; 64],
}

fn fixture() -> Option<Fixture> {
    let root = cogito_testkit::real_vectors::dir()?;
    let manifest = std::fs::read_to_string(root.join("MANIFEST.toml")).expect("MANIFEST.toml");
    let manifest: toml::Table = toml::from_str(&manifest).expect("MANIFEST.toml is TOML");
    let case = manifest["vector"]
        .as_array()
        .expect("[[vector]]")
        .iter()
        .find(|v| v["id"].as_str() == Some(CASE_ID))
        .expect("tdx-v4-uptodate-dcap-qvl in MANIFEST.toml");
    let dir = root.join(case["dir"].as_str().expect("dir"));
    let at = VerificationTime::parse_rfc3339(case["verify_at"].as_str().expect("verify_at"))
        .expect("verify_at");
    let read = |f: &str| std::fs::read(dir.join(f)).expect(f);
    let quote = read("quote.bin");
    let collateral = Collateral {
        tcb_info: read("tcb_info.json"),
        tcb_info_issuer_chain: read("tcb_info_issuer_chain.pem"),
        qe_identity: read("qe_identity.json"),
        qe_identity_issuer_chain: read("qe_identity_issuer_chain.pem"),
        pck_crl: read("pck_crl.der"),
        pck_crl_issuer_chain: read("pck_crl_issuer_chain.pem"),
        root_ca_crl: read("root_ca_crl.der"),
    };
    let parsed = Quote::parse(&quote).expect("quote parses");
    let mut point = [4u8; 65];
    point[1..].copy_from_slice(&parsed.attestation_key);
    Some(Fixture {
        message: parsed.signed.to_vec(),
        signature: parsed.signature,
        point,
        quote,
        collateral,
        at,
    })
}

/// The SHA-256 of length-prefixed parts, as the cache keys are computed.
fn sha256_parts(parts: &[&[u8]]) -> digest::Digest {
    let mut ctx = digest::Context::new(&digest::SHA256);
    for p in parts {
        ctx.update(&(p.len() as u64).to_le_bytes());
        ctx.update(p);
    }
    ctx.finish()
}

fn benches(c: &mut Criterion, f: &Fixture) {
    let anchors = builtin_anchors();
    let options = Options::default();
    let key = ParsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, f.point).expect("valid point");
    key.verify_sig(&f.message, &f.signature)
        .expect("genuine signature");

    let warm = VerifiedCache::default();
    let col = Some(&f.collateral);
    let v = verify_quote(&f.quote, col, anchors, f.at, &options, &warm).expect("accept");
    assert_eq!(v.claims.tcb_status, cogito_core::TcbStatus::UpToDate);
    let cold = VerifiedCache::disabled();
    verify_quote(&f.quote, col, anchors, f.at, &options, &cold).expect("accept (cold)");

    let mut g = c.benchmark_group("tdx_verify");
    g.bench_function("bare_ecdsa_p256_verify", |b| {
        b.iter(|| key.verify_sig(black_box(&f.message), black_box(&f.signature)))
    });
    g.bench_function("verify_quote_cached", |b| {
        b.iter(|| verify_quote(black_box(&f.quote), col, anchors, f.at, &options, &warm))
    });
    g.bench_function("verify_quote_cold", |b| {
        b.iter(|| verify_quote(black_box(&f.quote), col, anchors, f.at, &options, &cold))
    });
    g.finish();

    let parsed = Quote::parse(&f.quote).expect("parse");
    let k = &f.collateral;
    let mut g = c.benchmark_group("tdx_verify_breakdown");
    g.bench_function("quote_parse", |b| {
        b.iter(|| Quote::parse(black_box(&f.quote)))
    });
    g.bench_function("sha256_pck_chain_cache_key", |b| {
        b.iter(|| sha256_parts(&[black_box(parsed.cert_data)]))
    });
    g.bench_function("sha256_collateral_cache_key", |b| {
        b.iter(|| {
            sha256_parts(&[
                black_box(&k.tcb_info),
                &k.tcb_info_issuer_chain,
                &k.qe_identity,
                &k.qe_identity_issuer_chain,
                &k.pck_crl,
                &k.pck_crl_issuer_chain,
                &k.root_ca_crl,
            ])
        })
    });
    g.bench_function("sha256_qe_binding", |b| {
        b.iter(|| sha256_parts(&[black_box(&parsed.attestation_key), parsed.qe_auth_data]))
    });
    g.finish();
}

/// Interleaved rounds of (a) and (b), so drift hits both alike; prints the
/// median of the per-round ratios.
fn print_ratio(f: &Fixture) {
    let anchors = builtin_anchors();
    let options = Options::default();
    let key = ParsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, f.point).expect("valid point");
    let warm = VerifiedCache::default();
    let col = Some(&f.collateral);
    verify_quote(&f.quote, col, anchors, f.at, &options, &warm).expect("accept");
    let mut rows = Vec::new();
    for _ in 0..7 {
        let a = mean(1000, || {
            let _ = black_box(key.verify_sig(black_box(&f.message), black_box(&f.signature)));
        });
        let b = mean(1000, || {
            let _ = black_box(verify_quote(
                black_box(&f.quote),
                col,
                anchors,
                f.at,
                &options,
                &warm,
            ));
        });
        rows.push((a, b, b.as_secs_f64() / a.as_secs_f64()));
    }
    rows.sort_by(|x, y| x.2.total_cmp(&y.2));
    let (a, b, ratio) = rows[rows.len() / 2];
    println!(
        "\nbare ECDSA P-256 verify {:.1} µs, verify_quote (cached, full collateral) {:.1} µs, ratio cached/bare = {ratio:.3} (target ≤ 2.5; median of 7 interleaved rounds of 1000)",
        a.as_secs_f64() * 1e6,
        b.as_secs_f64() * 1e6,
    );
}

fn main() {
    let Some(f) = fixture() else { return };
    let mut c = Criterion::default().configure_from_args();
    benches(&mut c, &f);
    c.final_summary();
    // `cargo test --benches` runs each benchmark once with `--test`; the
    // timing loop is only for real runs.
    if !std::env::args().any(|a| a == "--test" || a == "--list") {
        print_ratio(&f);
    }
}
