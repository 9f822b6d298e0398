//! What a policy appraisal costs next to the verification it follows: the
//! service appraises every attestation, so appraisal must stay a small
//! fraction of `verify_report` even with a chain cache.
//!
//! On the real `snp-milan-v2-virtee` vector:
//!
//! - `verify_report_cached`: `verify_report` with a warmed cache (the
//!   per-request cost of verification);
//! - `appraise_pinned`: `appraise` against the policy `policy init` writes
//!   for this report (every value pinned, 30-odd rules);
//! - `appraise_fleet`: against a policy with 200 allowed measurements, the
//!   one matching listed last;
//! - `load_pinned`: loading the pinned policy from its text (what the
//!   service does once per policy upload, not per request).
//!
//! After criterion, an interleaved loop prints `ratio appraise/verify`.
//! Run with `cargo bench -p cogito-policy --bench appraise`. Needs
//! ../shared/vectors (or $COGITO_VECTORS); without them it prints a notice.

// Test code: a panic is a failed test.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::as_conversions
)]

use std::hint::black_box;
use std::time::Instant;

use cogito_core::anchors::certificates_from_pem_or_der;
use cogito_core::VerificationTime;
use cogito_policy::{appraise, load, Input};
use cogito_snp::{builtin_anchors, verify_report, Collateral, Options, VerifiedCache};
use criterion::Criterion;

const CASE_ID: &str = "snp-milan-v2-virtee";

fn main() {
    let Some(root) = cogito_testkit::real_vectors::dir() else {
        return;
    };
    let manifest: toml::Table =
        toml::from_str(&std::fs::read_to_string(root.join("MANIFEST.toml")).expect("manifest"))
            .expect("toml");
    let case = manifest["vector"]
        .as_array()
        .expect("[[vector]]")
        .iter()
        .find(|v| v["id"].as_str() == Some(CASE_ID))
        .expect("vector");
    let dir = root.join(case["dir"].as_str().expect("dir"));
    let at = VerificationTime::parse_rfc3339(case["verify_at"].as_str().expect("verify_at"))
        .expect("time");
    let read = |f: &str| std::fs::read(dir.join(f)).expect(f);
    let report = read("report.bin");
    let collateral = Collateral {
        vcek: Some(read("vcek.der")),
        chain: certificates_from_pem_or_der(&read("cert_chain.pem")).expect("chain"),
        ..Collateral::default()
    };
    let anchors = builtin_anchors();
    let options = Options::default();
    let cache = VerifiedCache::default();
    let verified =
        verify_report(&report, &collateral, anchors, at, &options, &cache).expect("verifies");

    let pinned_text = cogito_policy::init::policy_from_evidence(
        Input::Snp(&verified),
        "bench",
        "report.bin",
        "now",
    );
    let no_inc = &mut |_: &str| Err::<String, String>("none".into());
    let pinned = load("pinned.toml", &pinned_text, no_inc).expect("pinned loads");
    assert!(appraise(&pinned, Input::Snp(&verified)).accepted);
    let measurement = hex::encode(&report[0x90..0xC0]);
    let mut fleet_text = String::from(
        "[policy]\nname = \"fleet\"\n[common]\ndebug_allowed = true\n[snp]\nmeasurements = [\n",
    );
    for i in 0..199u32 {
        fleet_text.push_str(&format!("  \"{:096x}\",\n", u128::from(i) + 1));
    }
    fleet_text.push_str(&format!(
        "  {{ value = \"{measurement}\", expires = 2099-01-01 }},\n]\n"
    ));
    let fleet = load("fleet.toml", &fleet_text, no_inc).expect("fleet loads");
    assert!(appraise(&fleet, Input::Snp(&verified)).accepted);

    let mut c = Criterion::default().configure_from_args();
    let mut g = c.benchmark_group("policy");
    g.bench_function("verify_report_cached", |b| {
        b.iter(|| {
            verify_report(
                black_box(&report),
                &collateral,
                anchors,
                at,
                &options,
                &cache,
            )
            .expect("verifies")
        })
    });
    g.bench_function("appraise_pinned", |b| {
        b.iter(|| appraise(black_box(&pinned), Input::Snp(black_box(&verified))))
    });
    g.bench_function("appraise_fleet", |b| {
        b.iter(|| appraise(black_box(&fleet), Input::Snp(black_box(&verified))))
    });
    g.bench_function("load_pinned", |b| {
        b.iter(|| {
            load("pinned.toml", black_box(&pinned_text), &mut |_: &str| {
                Err("none".into())
            })
            .expect("loads")
        })
    });
    g.finish();
    c.final_summary();

    // Interleaved, so both see the same machine state.
    let (mut tv, mut ta) = (0u128, 0u128);
    for _ in 0..2_000 {
        let t = Instant::now();
        black_box(
            verify_report(&report, &collateral, anchors, at, &options, &cache).expect("verifies"),
        );
        tv += t.elapsed().as_nanos();
        let t = Instant::now();
        black_box(appraise(&pinned, Input::Snp(&verified)));
        ta += t.elapsed().as_nanos();
    }
    println!(
        "interleaved: verify_report_cached {:.1} µs, appraise_pinned {:.1} µs, ratio appraise/verify {:.3}",
        tv as f64 / 2_000_000.0,
        ta as f64 / 2_000_000.0,
        ta as f64 / tv as f64
    );
}
