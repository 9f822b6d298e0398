//! cogito-cca against Veraison's ccatoken on the same real CCA tokens
//! (`cca-token-01-rust-ccatoken`, and `cca-tag907-example-tf-m-tools` when
//! ccatoken accepts it).
//!
//! - `<case>/cogito_verify_token`: `cogito_cca::verify_token` with the CPAK
//!   of `cpak.jwk` and `allow_test_keys` (strict parse, CPAK lookup, both
//!   signatures, binding, lifecycle). cogito keeps no cache for CCA: warm
//!   and cold are the same call.
//! - `<case>/ccatoken_verify`: `Evidence::decode` then `Evidence::verify`
//!   with a `MemoTrustAnchorStore` (CPAK lookup by instance id, both
//!   signatures, binding). Appraisal against reference values is not
//!   timed: cogito's `verify_token` does nothing like it.
//!
//! Before timing, both must verify each compared token (platform by the
//! CPAK, realm by the RAK). After criterion, an interleaved timing loop
//! prints ccatoken / cogito, and with `COGITO_BENCH_OUT=<dir>` appends one
//! JSON line per token to `<dir>/peers.jsonl`. Run with `cargo bench` in
//! this folder.

use std::hint::black_box;
use std::io::Write;
use std::time::Duration;

use cogito_testkit::timing::mean;

use cca_vs_ccatoken::{
    ccatoken_outcome, ccatoken_verify, cogito_verify, fixtures, Fixture, CASES, CCATOKEN_VERSION,
};
use criterion::Criterion;

/// Asserts that cogito accepts every token and returns those ccatoken
/// verifies too. ccatoken must verify `CASES[0]`, its own test token; a
/// later case it refuses is reported and left out of the comparison.
fn check_both_accept(fixtures: &[Fixture]) -> Vec<&Fixture> {
    let mut compared = Vec::new();
    for f in fixtures {
        let v = cogito_verify(f, &f.token).unwrap_or_else(|e| panic!("{}: cogito: {e}", f.id));
        let c = &v.platform;
        let peer = ccatoken_verify(f, &f.token)
            .map_err(|e| format!("{e}"))
            .and_then(|e| ccatoken_outcome(&e));
        match peer {
            Ok(()) => {
                println!(
                    "{}: both accept ({} bytes): cogito lifecycle {:?}, {} checks; ccatoken {CCATOKEN_VERSION} platform and realm trustworthy (store: {})",
                    f.id,
                    f.token.len(),
                    c.platform.lifecycle,
                    v.checks.len(),
                    f.store_source,
                );
                compared.push(f);
            }
            Err(e) => {
                assert_ne!(f.id, CASES[0], "ccatoken refuses its own test token: {e}");
                println!(
                    "{}: cogito accepts; ccatoken {CCATOKEN_VERSION} refuses it ({e}): not compared",
                    f.id
                );
            }
        }
    }
    compared
}

fn benches(c: &mut Criterion, compared: &[&Fixture]) {
    let mut g = c.benchmark_group("cca_vs_ccatoken");
    for f in compared {
        g.bench_function(format!("{}/cogito_verify_token", f.id), |b| {
            b.iter(|| cogito_verify(f, black_box(&f.token)))
        });
        g.bench_function(format!("{}/ccatoken_verify", f.id), |b| {
            b.iter(|| ccatoken_verify(f, black_box(&f.token)))
        });
    }
    g.finish();
}

/// Interleaved rounds, so drift hits both alike; prints the medians and,
/// with `COGITO_BENCH_OUT`, appends them to `peers.jsonl`.
fn print_ratios(compared: &[&Fixture]) {
    println!();
    let mut lines = Vec::new();
    for f in compared {
        let mut rows = Vec::new();
        for _ in 0..7 {
            let cogito = mean(200, || {
                let _ = black_box(cogito_verify(f, black_box(&f.token)));
            });
            let peer = mean(200, || {
                let _ = black_box(ccatoken_verify(f, black_box(&f.token)));
            });
            rows.push((cogito, peer));
        }
        let median = |k: fn(&(Duration, Duration)) -> Duration| {
            let mut v: Vec<f64> = rows.iter().map(|r| k(r).as_secs_f64() * 1e6).collect();
            v.sort_by(f64::total_cmp);
            v[v.len() / 2]
        };
        let cogito_us = median(|r| r.0);
        let peer_us = median(|r| r.1);
        let ratio = peer_us / cogito_us;
        println!(
            "{}: cogito verify_token {cogito_us:.1} µs, ccatoken {CCATOKEN_VERSION} decode+verify {peer_us:.1} µs; ccatoken/cogito = {ratio:.2}× (medians of 7 interleaved rounds of 200; cogito has no CCA cache, so warm = cold)",
            f.id
        );
        lines.push(format!(
            r#"{{"section":"peer","platform":"cca","case":"{}","peer":"ccatoken {CCATOKEN_VERSION}","cogito_warm_us":{cogito_us:.3},"cogito_cold_us":{cogito_us:.3},"peer_us":{peer_us:.3},"warm_ratio":{ratio:.4},"cold_ratio":{ratio:.4}}}"#,
            f.id
        ));
    }
    if let Some(dir) = std::env::var_os("COGITO_BENCH_OUT") {
        let dir = std::path::PathBuf::from(dir);
        std::fs::create_dir_all(&dir).expect("COGITO_BENCH_OUT directory");
        let path = dir.join("peers.jsonl");
        let mut out = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        for l in &lines {
            writeln!(out, "{l}").expect("write peers.jsonl");
        }
        println!("appended {} line(s) to {}", lines.len(), path.display());
    }
}

fn main() {
    let Some(fixtures) = fixtures() else { return };
    let compared = check_both_accept(&fixtures);
    let mut c = Criterion::default().configure_from_args();
    benches(&mut c, &compared);
    c.final_summary();
    // `cargo bench -- --test` runs each benchmark once; the timing loop is
    // only for real runs.
    if !std::env::args().any(|a| a == "--test" || a == "--list") {
        print_ratios(&compared);
    }
}
