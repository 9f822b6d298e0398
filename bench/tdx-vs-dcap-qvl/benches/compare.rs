//! cogito-tdx against dcap-qvl on the same real quote and collateral
//! (`tdx-v4-uptodate-dcap-qvl`, at its `verify_at`).
//!
//! - `cogito_verify_quote_cached`: `cogito_tdx::verify_quote` with full
//!   collateral and a warmed `VerifiedCache` (a server verifying quotes of
//!   known platforms).
//! - `cogito_verify_quote_cold`: the same with a fresh, empty
//!   `VerifiedCache` each time (the first quote of a platform).
//! - `dcap_qvl_verify`: `dcap_qvl::verify::verify(quote, &collateral,
//!   now_secs)` (dcap-qvl keeps no cache: every call verifies the chains,
//!   CRLs, TCB Info and QE Identity).
//!
//! Before timing, both must accept the quote as UpToDate. After criterion,
//! an interleaved timing loop prints the speed-up of cached cogito over
//! dcap-qvl; the target is ≥ 5×. Run with `cargo bench` in this folder.

use std::hint::black_box;
use std::time::Duration;

use cogito_testkit::timing::mean;

use cogito_core::TcbStatus;
use cogito_tdx::{builtin_anchors, verify_quote, Options, VerifiedCache};
use criterion::Criterion;
use tdx_vs_dcap_qvl::{fixture, now_secs, Fixture};

fn check_both_accept(f: &Fixture) {
    let v = verify_quote(
        &f.quote,
        Some(&f.collateral),
        builtin_anchors(),
        f.at,
        &Options::default(),
        &VerifiedCache::disabled(),
    )
    .expect("cogito accepts");
    assert_eq!(v.claims.tcb_status, TcbStatus::UpToDate, "cogito status");
    let r = dcap_qvl::verify::verify(&f.quote, &f.dcap, now_secs(f)).expect("dcap-qvl accepts");
    assert_eq!(r.status, "UpToDate", "dcap-qvl status");
    println!(
        "both accept: cogito {:?}, dcap-qvl {} (advisories {:?})",
        v.claims.tcb_status, r.status, r.advisory_ids
    );
}

fn benches(c: &mut Criterion, f: &Fixture) {
    let anchors = builtin_anchors();
    let options = Options::default();
    let col = Some(&f.collateral);
    let warm = VerifiedCache::default();
    verify_quote(&f.quote, col, anchors, f.at, &options, &warm).expect("accept");
    let now = now_secs(f);

    let mut g = c.benchmark_group("tdx_vs_dcap_qvl");
    g.bench_function("cogito_verify_quote_cached", |b| {
        b.iter(|| verify_quote(black_box(&f.quote), col, anchors, f.at, &options, &warm))
    });
    g.bench_function("cogito_verify_quote_cold", |b| {
        b.iter(|| {
            verify_quote(
                black_box(&f.quote),
                col,
                anchors,
                f.at,
                &options,
                &VerifiedCache::default(),
            )
        })
    });
    g.bench_function("dcap_qvl_verify", |b| {
        b.iter(|| dcap_qvl::verify::verify(black_box(&f.quote), &f.dcap, now))
    });
    g.finish();
}

/// Interleaved rounds, so drift hits all alike; prints the medians.
fn print_speedup(f: &Fixture) {
    let anchors = builtin_anchors();
    let options = Options::default();
    let col = Some(&f.collateral);
    let warm = VerifiedCache::default();
    verify_quote(&f.quote, col, anchors, f.at, &options, &warm).expect("accept");
    let now = now_secs(f);
    let mut rows = Vec::new();
    for _ in 0..7 {
        let cached = mean(500, || {
            let _ = black_box(verify_quote(
                black_box(&f.quote),
                col,
                anchors,
                f.at,
                &options,
                &warm,
            ));
        });
        // Fresh caches, made before the clock starts: a server makes its
        // cache once; making one allocates its maps, which verifies nothing.
        let fresh: Vec<VerifiedCache> = (0..100).map(|_| VerifiedCache::default()).collect();
        let mut next = fresh.iter();
        let uncached = mean(100, || {
            let Some(cache) = next.next() else { return };
            let _ = black_box(verify_quote(
                black_box(&f.quote),
                col,
                anchors,
                f.at,
                &options,
                cache,
            ));
        });
        let dcap = mean(100, || {
            let _ = black_box(dcap_qvl::verify::verify(black_box(&f.quote), &f.dcap, now));
        });
        rows.push((cached, uncached, dcap));
    }
    let median = |k: fn(&(Duration, Duration, Duration)) -> f64| {
        let mut v: Vec<f64> = rows.iter().map(k).collect();
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let cached = median(|r| r.0.as_secs_f64());
    let uncached = median(|r| r.1.as_secs_f64());
    let dcap = median(|r| r.2.as_secs_f64());
    let speedup = median(|r| r.2.as_secs_f64() / r.0.as_secs_f64());
    let cold_speedup = median(|r| r.2.as_secs_f64() / r.1.as_secs_f64());
    println!(
        "\ncogito cached {:.1} µs, cogito cold {:.1} µs, dcap-qvl {:.1} µs; dcap-qvl/cogito-cached = {speedup:.1}× (target ≥ 5×), dcap-qvl/cogito-cold = {cold_speedup:.2}× (medians of 7 interleaved rounds)",
        cached * 1e6,
        uncached * 1e6,
        dcap * 1e6,
    );
    if let Some(dir) = std::env::var_os("COGITO_BENCH_OUT") {
        // A row of scripts/bench's peer table (docs/performance.md).
        let row = format!(
            concat!(
                r#"{{"section":"peer","platform":"tdx","case":"tdx-v4-uptodate-dcap-qvl","peer":"dcap-qvl 0.7","#,
                r#""cogito_warm_us":{:.2},"cogito_cold_us":{:.2},"peer_us":{:.2},"warm_ratio":{:.3},"cold_ratio":{:.3}}}"#,
                "\n"
            ),
            cached * 1e6,
            uncached * 1e6,
            dcap * 1e6,
            speedup,
            cold_speedup
        );
        use std::io::Write as _;
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(std::path::Path::new(&dir).join("peers.jsonl"))
            .and_then(|mut f| f.write_all(row.as_bytes()))
            .expect("COGITO_BENCH_OUT/peers.jsonl");
    }
}

fn main() {
    let Some(f) = fixture() else { return };
    check_both_accept(&f);
    let mut c = Criterion::default().configure_from_args();
    benches(&mut c, &f);
    c.final_summary();
    if !std::env::args().any(|a| a == "--test" || a == "--list") {
        print_speedup(&f);
    }
}
