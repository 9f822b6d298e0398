//! What a report verification costs next to the one ECDSA P-384
//! verification it cannot avoid (DESIGN.md principle 5: with the chain
//! cached, the per-request cost should approach that one signature).
//!
//! Group `snp_verify`, all on the real `snp-milan-v2-virtee` vector:
//!
//! - `bare_ecdsa_p384_verify`: the report signature checked with the VCEK
//!   key through the crypto backend directly (`P384Key`, key parsed once).
//! - `bare_ecdsa_p384_verify_unparsed`: the same with a fresh
//!   `UnparsedPublicKey` per call, i.e. paying for point decoding and
//!   validation each time.
//! - `verify_report_cached`: `verify_report` with a warmed `VerifiedCache`.
//! - `verify_report_cold`: `verify_report` with `VerifiedCache::disabled()`
//!   (chain verified every time).
//!
//! Group `snp_verify_breakdown` times the pieces of the cached path that
//! are not the signature (parse, claims) to show where any overhead goes.
//!
//! After criterion, a plain interleaved timing loop prints
//! `ratio cached/bare`; the target is ≤ 1.3. Run with
//! `cargo bench -p cogito-snp --bench verify`. The vectors are read from
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

use cogito_core::anchors::certificates_from_pem_or_der;
use cogito_core::VerificationTime;
use cogito_snp::claims::{normalized, ReportClaims};
use cogito_snp::{
    builtin_anchors, verify_report, Collateral, Options, Report, VerifiedCache, CRYPTO_BACKEND,
};
use criterion::Criterion;
use x509_parser::prelude::{FromDer, X509Certificate};

// The same backend cogito-snp uses (ring wins when both are on), called
// directly: the baseline is the bare primitive, not cogito's wrapper.
#[cfg(all(feature = "aws-lc", not(feature = "ring")))]
use aws_lc_rs::{
    digest,
    signature::{UnparsedPublicKey, ECDSA_P384_SHA384_FIXED},
};
#[cfg(feature = "ring")]
use ring::{
    digest,
    signature::{UnparsedPublicKey, ECDSA_P384_SHA384_FIXED},
};

/// An ECDSA P-384 key parsed once, as the cache holds the VCEK's.
struct P384Key {
    #[cfg(all(feature = "aws-lc", not(feature = "ring")))]
    parsed: aws_lc_rs::signature::ParsedPublicKey,
    #[cfg(feature = "ring")]
    point: Vec<u8>,
}

impl P384Key {
    fn from_sec1(point: &[u8]) -> Self {
        #[cfg(all(feature = "aws-lc", not(feature = "ring")))]
        {
            P384Key {
                parsed: aws_lc_rs::signature::ParsedPublicKey::new(&ECDSA_P384_SHA384_FIXED, point)
                    .expect("valid point"),
            }
        }
        #[cfg(feature = "ring")]
        {
            P384Key {
                point: point.to_vec(),
            }
        }
    }

    fn verify(&self, message: &[u8], sig: &[u8; 96]) -> Result<(), ()> {
        #[cfg(all(feature = "aws-lc", not(feature = "ring")))]
        {
            self.parsed.verify_sig(message, sig).map_err(|_| ())
        }
        #[cfg(feature = "ring")]
        {
            UnparsedPublicKey::new(&ECDSA_P384_SHA384_FIXED, &self.point)
                .verify(message, sig)
                .map_err(|_| ())
        }
    }
}

const CASE_ID: &str = "snp-milan-v2-virtee";

struct Fixture {
    report: Vec<u8>,
    collateral: Collateral,
    at: VerificationTime,
    /// Uncompressed SEC1 point of the VCEK.
    point: Vec<u8>,
    /// SHA-384 input: report bytes 0x000..0x2A0.
    message: Vec<u8>,
    /// r ‖ s, big-endian.
    signature: [u8; 96],
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
        .expect("snp-milan-v2-virtee in MANIFEST.toml");
    let dir = root.join(case["dir"].as_str().expect("dir"));
    let at = VerificationTime::parse_rfc3339(case["verify_at"].as_str().expect("verify_at"))
        .expect("verify_at");
    let read = |f: &str| std::fs::read(dir.join(f)).expect(f);
    let report = read("report.bin");
    let vcek = read("vcek.der");
    let collateral = Collateral {
        vcek: Some(vcek.clone()),
        chain: certificates_from_pem_or_der(&read("cert_chain.pem")).expect("chain"),
        ..Collateral::default()
    };
    let (_, cert) = X509Certificate::from_der(&vcek).expect("VCEK parses");
    let point = cert.public_key().subject_public_key.data.to_vec();
    let parsed = Report::parse(&report).expect("report parses");
    Some(Fixture {
        message: parsed.signed_bytes().to_vec(),
        signature: parsed.signature,
        report,
        collateral,
        at,
        point,
    })
}

fn benches(c: &mut Criterion, f: &Fixture) {
    let anchors = builtin_anchors();
    let options = Options::default();
    let key = P384Key::from_sec1(&f.point);
    key.verify(&f.message, &f.signature)
        .expect("genuine signature");

    let warm = VerifiedCache::default();
    verify_report(&f.report, &f.collateral, anchors, f.at, &options, &warm).expect("accept");
    let cold = VerifiedCache::disabled();

    let mut g = c.benchmark_group("snp_verify");
    g.bench_function("bare_ecdsa_p384_verify", |b| {
        b.iter(|| key.verify(black_box(&f.message), black_box(&f.signature)))
    });
    g.bench_function("bare_ecdsa_p384_verify_unparsed", |b| {
        b.iter(|| {
            UnparsedPublicKey::new(&ECDSA_P384_SHA384_FIXED, black_box(&f.point))
                .verify(black_box(&f.message), black_box(&f.signature))
        })
    });
    g.bench_function("verify_report_cached", |b| {
        b.iter(|| {
            verify_report(
                black_box(&f.report),
                &f.collateral,
                anchors,
                f.at,
                &options,
                &warm,
            )
        })
    });
    g.bench_function("verify_report_cold", |b| {
        b.iter(|| {
            verify_report(
                black_box(&f.report),
                &f.collateral,
                anchors,
                f.at,
                &options,
                &cold,
            )
        })
    });
    g.finish();

    let parsed = Report::parse(&f.report).expect("parse");
    let product = cogito_core::AmdProduct::Milan;
    let mut g = c.benchmark_group("snp_verify_breakdown");
    g.bench_function("report_parse", |b| {
        b.iter(|| Report::parse(black_box(&f.report)))
    });
    g.bench_function("report_claims", |b| {
        b.iter(|| {
            (
                ReportClaims::new(black_box(&parsed), product),
                normalized(black_box(&parsed), false),
            )
        })
    });
    g.bench_function("sha256_vcek_cache_key", |b| {
        let vcek = f.collateral.vcek.as_deref().unwrap_or_default();
        b.iter(|| digest::digest(&digest::SHA256, black_box(vcek)))
    });
    g.bench_function("sha384_signed_bytes", |b| {
        b.iter(|| digest::digest(&digest::SHA384, black_box(&f.message)))
    });
    g.finish();
}

/// Interleaved rounds of (a) and (b), so drift hits both alike; prints the
/// median of the per-round ratios.
fn print_ratio(f: &Fixture) {
    let anchors = builtin_anchors();
    let options = Options::default();
    let key = P384Key::from_sec1(&f.point);
    let warm = VerifiedCache::default();
    verify_report(&f.report, &f.collateral, anchors, f.at, &options, &warm).expect("accept");
    let mut rows = Vec::new();
    for _ in 0..7 {
        let a = mean(1000, || {
            let _ = black_box(key.verify(black_box(&f.message), black_box(&f.signature)));
        });
        let b = mean(1000, || {
            let _ = black_box(verify_report(
                black_box(&f.report),
                &f.collateral,
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
        "\nbackend {}: bare ECDSA P-384 verify {:.1} µs, verify_report (cached) {:.1} µs, ratio cached/bare = {ratio:.3} (target ≤ 1.3; median of 7 interleaved rounds of 1000)",
        CRYPTO_BACKEND,
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
