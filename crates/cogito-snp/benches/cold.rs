//! The SEV-SNP cold path next to the `sev` crate (virtee, 8.x with its
//! RustCrypto backend, which cogito-snp already depends on for AMD's root
//! certificates), on the same report, in the same run.
//!
//! - `cogito_cold`: `verify_report` with a fresh, empty cache each time
//!   (the first verification of a chip) — pinning, ARK→ASK,
//!   ASK→VCEK, the CRL (issuer, signature, window, revocation), the report
//!   signature and every binding check.
//! - `sev_chain_and_report`: `(&Chain, &AttestationReport).verify()` — ARK
//!   self-signature, ARK→ASK, ASK→VCEK and the report signature; no CRL, no
//!   pinning, no TCB or chip-id binding.
//!
//! Two reports: the testkit's `genoa-v5-crl-empty` (a v5 report with an
//! ARK-signed CRL, chained to the testkit's fake roots, which cogito trusts
//! explicitly here) and the real `snp-milan-v2-virtee` (no CRL published
//! with it, so cogito's cold path there is chain + report). After criterion,
//! an interleaved loop prints the median ratio cogito/sev per report; the
//! target is ≤ 0.5. The loop also times the cached path (a cache that
//! has seen the chip) for the warm ratio; with `COGITO_BENCH_OUT` set to
//! a folder, each report's medians are appended to its `peers.jsonl`
//! (scripts/bench).
//!
//! `cargo bench -p cogito-snp --bench cold`
// Bench code: a panic is a failed benchmark.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::as_conversions
)]

use cogito_testkit::timing::mean;
use std::hint::black_box;
use std::path::Path;
use std::time::Duration;

use cogito_core::anchors::certificates_from_pem_or_der;
use cogito_core::{TrustAnchors, VerificationTime};
use cogito_snp::{builtin_anchors, verify_report, Collateral, Options, VerifiedCache};
use criterion::Criterion;
use sev::certs::snp::{ca, Certificate, Chain, Verifiable};
use sev::firmware::guest::AttestationReport;
use sev::parser::ByteParser;

struct Case {
    name: &'static str,
    report: Vec<u8>,
    collateral: Collateral,
    anchors: TrustAnchors,
    at: VerificationTime,
    sev_chain: Chain,
    sev_report: AttestationReport,
}

fn case(name: &'static str, dir: &Path, crl: bool, extra_anchors: &[&Path], at: &str) -> Case {
    let read = |f: &str| std::fs::read(dir.join(f)).unwrap_or_else(|e| panic!("{f}: {e}"));
    let report = read("report.bin");
    let vcek = read("vcek.der");
    let chain = certificates_from_pem_or_der(&read("cert_chain.pem")).unwrap();
    let collateral = Collateral {
        vcek: Some(vcek.clone()),
        chain: chain.clone(),
        crls: if crl { vec![read("crl.der")] } else { vec![] },
        ..Collateral::default()
    };
    let mut anchors = builtin_anchors().clone();
    for a in extra_anchors {
        anchors
            .add_pem_or_der(&std::fs::read(a).unwrap(), false, "bench")
            .unwrap();
    }
    // cert_chain.pem is ASK then ARK.
    let sev_chain = Chain {
        ca: ca::Chain {
            ask: Certificate::from_der(&chain[0]).unwrap(),
            ark: Certificate::from_der(&chain[1]).unwrap(),
        },
        vek: Certificate::from_der(&vcek).unwrap(),
    };
    let sev_report = AttestationReport::from_bytes(&report).unwrap();
    Case {
        name,
        report,
        collateral,
        anchors,
        at: VerificationTime::parse_rfc3339(at).unwrap(),
        sev_chain,
        sev_report,
    }
}

fn cases() -> Vec<Case> {
    let testkit = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../test-vectors/snp");
    let mut out = vec![case(
        "testkit_genoa_v5_crl",
        &testkit.join("genoa-v5-crl-empty"),
        true,
        &[
            &testkit.join("anchors/genoa-ark.pem"),
            &testkit.join("anchors/genoa-ask.pem"),
        ],
        "2025-06-01T00:00:00Z",
    )];
    if let Some(root) = cogito_testkit::real_vectors::dir() {
        let v = cogito_testkit::real_vectors::manifest_vectors(&root)
            .into_iter()
            .find(|v| v["id"].as_str() == Some("snp-milan-v2-virtee"))
            .unwrap();
        out.push(case(
            "real_milan_v2",
            &root.join(v["dir"].as_str().unwrap()),
            false,
            &[],
            v["verify_at"].as_str().unwrap(),
        ));
    }
    out
}

fn cogito_cold(c: &Case, cache: &VerifiedCache) {
    verify_report(
        black_box(&c.report),
        &c.collateral,
        &c.anchors,
        c.at,
        &Options::default(),
        cache,
    )
    .expect("cogito accepts");
}

fn sev_verify(c: &Case) {
    (black_box(&c.sev_chain), black_box(&c.sev_report))
        .verify()
        .expect("sev accepts");
}

fn main() {
    let cases = cases();
    for c in &cases {
        cogito_cold(c, &VerifiedCache::default());
        sev_verify(c);
    }
    let mut crit = Criterion::default().configure_from_args();
    let mut g = crit.benchmark_group("snp_cold_vs_sev");
    for c in &cases {
        g.bench_function(format!("{}/cogito_cold", c.name), |b| {
            b.iter(|| cogito_cold(c, &VerifiedCache::default()))
        });
        g.bench_function(format!("{}/sev_chain_and_report", c.name), |b| {
            b.iter(|| sev_verify(c))
        });
    }
    g.finish();
    crit.final_summary();
    if std::env::args().any(|a| a == "--test" || a == "--list") {
        return;
    }
    let out = std::env::var_os("COGITO_BENCH_OUT").map(std::path::PathBuf::from);
    for c in &cases {
        // The cached path for the warm ratio: a cache that has seen this
        // chip, as a server's has after its first guest.
        let warm = VerifiedCache::default();
        cogito_cold(c, &warm);
        let mut rows: Vec<(Duration, Duration, Duration)> = (0..7)
            .map(|_| {
                (
                    {
                        // Fresh caches, made before the clock starts (a
                        // server makes its cache once).
                        let fresh: Vec<VerifiedCache> =
                            (0..50).map(|_| VerifiedCache::default()).collect();
                        let mut next = fresh.iter();
                        mean(50, || {
                            if let Some(cache) = next.next() {
                                cogito_cold(c, cache)
                            }
                        })
                    },
                    mean(20, || sev_verify(c)),
                    mean(100, || cogito_cold(c, &warm)),
                )
            })
            .collect();
        rows.sort_by(|x, y| {
            (x.0.as_secs_f64() / x.1.as_secs_f64())
                .total_cmp(&(y.0.as_secs_f64() / y.1.as_secs_f64()))
        });
        let (a, b, w) = rows[rows.len() / 2];
        let us = |d: Duration| d.as_secs_f64() * 1e6;
        println!(
            "{}: cogito cold {:.1} µs, cached {:.1} µs, sev chain+report {:.1} µs, ratio cogito cold/sev = {:.3} (target ≤ 0.5; median of 7 interleaved rounds)",
            c.name,
            us(a),
            us(w),
            us(b),
            a.as_secs_f64() / b.as_secs_f64()
        );
        if let Some(dir) = &out {
            // A row of scripts/bench's peer table (docs/performance.md).
            let row = format!(
                concat!(
                    r#"{{"section":"peer","platform":"snp","case":"{}","peer":"sev 8 (virtee, chain + report)","#,
                    r#""cogito_warm_us":{:.2},"cogito_cold_us":{:.2},"peer_us":{:.2},"warm_ratio":{:.3},"cold_ratio":{:.3}}}"#,
                    "\n"
                ),
                c.name,
                us(w),
                us(a),
                us(b),
                us(b) / us(w),
                us(b) / us(a)
            );
            use std::io::Write as _;
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(dir.join("peers.jsonl"))
                .and_then(|mut f| f.write_all(row.as_bytes()))
                .expect("COGITO_BENCH_OUT/peers.jsonl");
        }
    }
}
