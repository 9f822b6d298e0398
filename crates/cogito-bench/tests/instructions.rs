//! The regression check on instruction counts (docs/performance.md,
//! "Regressions"): valgrind's callgrind counts the instructions of one
//! cached verification per case — inside `cogito_bench::measured`, and
//! nowhere else — and this test fails when a count grows by more than
//! 10 % over the figure committed in `instructions.toml`.
//!
//! Instruction counts do not wander with the machine's load as times do,
//! so a regression shows on CI's shared cores. What they do depend on:
//!
//! - the build: these are the test profile's binaries (`cargo test`
//!   builds them; the release figures of the performance page come from
//!   `scripts/bench`), with this toolchain and Cargo.lock;
//! - the CPU: AWS-LC picks its code by CPUID, so it is held to baseline
//!   x86-64 code here (`OPENSSL_ia32cap` masks AVX and every leaf-7
//!   feature), and the count is the same on any x86-64 host.
//!
//! A count that falls by more than 10 % is reported, not failed: commit
//! the lower figure (`COGITO_UPDATE_INSTRUCTIONS=1 cargo test -p
//! cogito-bench --test instructions` rewrites the file) in a commit that
//! says why, as for any change of the committed figures.
//!
//! Without valgrind or the real vectors the test skips with a notice,
//! except under `CI=true`, where both must be there.
// Test code: a panic is a failed test.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::as_conversions
)]

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

/// Verifications per valgrind run; the count is divided by it.
const N: u64 = 4;
/// The growth that fails the check.
const TOLERANCE: f64 = 0.10;
/// AWS-LC at baseline x86-64: `~` clears bits; the first word's bit 60 is
/// CPUID.1:ECX.AVX, the second word is CPUID.7 (AVX2, BMI, ADX, SHA, …).
const BASELINE_CPU: &str = "~0x1000000000000000:~0xffffffffffffffff";

fn ci() -> bool {
    std::env::var("CI").as_deref() == Ok("true")
}

fn skip(why: &str) {
    assert!(!ci(), "CI=true but {why}");
    eprintln!("skipping the instruction-count check: {why}");
}

/// Instructions of `n` cached verifications of `case`.
fn count(case: &str, n: u64, out: &Path) -> u64 {
    let file = out.join(format!("callgrind.{case}.{n}"));
    let status = Command::new("valgrind")
        .args([
            "--tool=callgrind",
            "--collect-atstart=no",
            "--toggle-collect=*cogito_bench*measured*",
        ])
        .arg(format!("--callgrind-out-file={}", file.display()))
        .arg(env!("CARGO_BIN_EXE_cogito-bench"))
        .args(["run", case, &n.to_string()])
        .env("OPENSSL_ia32cap", BASELINE_CPU)
        .output()
        .expect("valgrind runs");
    assert!(
        status.status.success(),
        "{case}: {}",
        String::from_utf8_lossy(&status.stderr)
    );
    let text = std::fs::read_to_string(&file).expect("callgrind output");
    text.lines()
        .find_map(|l| l.strip_prefix("totals:"))
        .expect("a totals line")
        .trim()
        .parse()
        .expect("a count")
}

#[test]
fn cached_verifications_do_not_grow_more_than_ten_percent_in_instructions() {
    if Command::new("valgrind").arg("--version").output().is_err() {
        skip("valgrind is not installed (scripts/test-all installs it)");
        return;
    }
    // A notice without the vectors; a panic under CI=true.
    if cogito_testkit::real_vectors::dir().is_none() {
        return;
    }
    let committed_path = Path::new(env!("CARGO_MANIFEST_DIR")).join("instructions.toml");
    let committed: BTreeMap<String, u64> = toml::from_str::<toml::Table>(
        &std::fs::read_to_string(&committed_path).expect("instructions.toml"),
    )
    .expect("instructions.toml is TOML")["test_profile"]
        .clone()
        .try_into()
        .expect("[test_profile] holds case = count");

    let dir = tempfile::tempdir().unwrap();
    let cases: Vec<String> = cogito_bench::case_names().map(str::to_string).collect();
    // Two at a time: CI has two cores, and counts do not mind the load.
    let measured: BTreeMap<String, u64> = std::thread::scope(|s| {
        let mut out = BTreeMap::new();
        for pair in cases.chunks(2) {
            let handles: Vec<_> = pair
                .iter()
                .map(|c| s.spawn(|| (c.clone(), count(c, N, dir.path()) / N)))
                .collect();
            out.extend(handles.into_iter().map(|h| h.join().unwrap()));
        }
        out
    });

    let mut failures = Vec::new();
    println!(
        "{:<14} {:>14} {:>14} {:>8}",
        "case", "committed", "now", "change"
    );
    for (case, now) in &measured {
        let Some(&was) = committed.get(case) else {
            failures.push(format!("{case}: no committed figure"));
            continue;
        };
        let change = *now as f64 / was as f64 - 1.0;
        println!("{case:<14} {was:>14} {now:>14} {:>+7.1}%", change * 100.0);
        if change > TOLERANCE {
            failures.push(format!(
                "{case}: {now} instructions per cached verification, {:.1} % over the committed {was}",
                change * 100.0
            ));
        } else if change < -TOLERANCE {
            println!("  {case} is faster: commit the new figure (see this file's header)");
        }
        assert!(
            *now > 1000,
            "{case}: the count did not see the verification"
        );
    }
    if std::env::var("COGITO_UPDATE_INSTRUCTIONS").as_deref() == Ok("1") {
        let mut text = String::from(HEADER);
        for (case, now) in &measured {
            text.push_str(&format!("{case} = {now}\n"));
        }
        std::fs::write(&committed_path, text).unwrap();
        println!("wrote {}", committed_path.display());
        return;
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

const HEADER: &str = "\
# Instructions per cached verification, counted by valgrind's callgrind in
# `cogito_bench::measured` with AWS-LC held to baseline x86-64 code
# (tests/instructions.rs explains). CI fails when one grows by more than
# 10 %. Change these figures only in a commit that says why.
#
# test_profile: the binaries `cargo test` builds (what CI measures).
[test_profile]
";
