//! `cogito-bench`: the verification rows of docs/performance.md.
//!
//! - `cogito-bench table [--rounds N] [--out FILE]`: for every case, the
//!   floor, the cached and the cold verification timed in interleaved
//!   rounds (drift on a shared machine hits all three alike), their
//!   medians and the median ratio cached/floor against its target. With
//!   `--out`, one JSON object per case is appended to FILE.
//! - `cogito-bench run CASE N [--cold]`: loads CASE, then makes N cached
//!   verifications in `cogito_bench::measured` (cold ones in
//!   `measured_cold`) — what valgrind counts (instructions with callgrind,
//!   allocations with DHAT).
//! - `cogito-bench protocol [--out FILE]`: what a round trip of the
//!   service costs besides verification, in cryptography alone: sealing a
//!   secret to a guest's X25519 key (`cogito_protocol::seal`: the key
//!   check, HPKE's key generation and agreement, HKDF and AES-GCM) and one
//!   ES256 signature (the EAR, as the service's signing key makes it).
//! - `cogito-bench list`: the case names.
//!
//! Without the real vectors (`$COGITO_VECTORS`, else `../shared/vectors`)
//! it prints a notice and exits 0, except under `CI=true` (a failure).

#![forbid(unsafe_code)]

use std::io::Write as _;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use cogito_testkit::timing::{mean, median};

use cogito_bench::{load_all, measured, measured_cold, Case, Paths, Platform};

/// The target of cached/floor per platform (issue 14).
fn target(p: Platform) -> f64 {
    match p {
        Platform::Snp | Platform::Cca => 1.3,
        Platform::Tdx => 2.5,
    }
}

/// Calls of `op` that take about `budget`.
fn calibrate(budget: Duration, mut op: impl FnMut()) -> u32 {
    let one = mean(3, &mut op).max(Duration::from_nanos(100));
    let n = budget.as_nanos() / one.as_nanos().max(1);
    u32::try_from(n).unwrap_or(u32::MAX).clamp(3, 1_000_000)
}

fn us(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

struct Row {
    floor_us: f64,
    cached_us: f64,
    cold_us: f64,
    ratio: f64,
}

/// Microseconds per call of the `n` calls `op` makes; `op` says how many
/// succeeded, and all must (timing refusals would time the wrong thing).
fn per_call(n: u32, op: impl FnOnce() -> usize) -> Result<f64, String> {
    let start = Instant::now();
    let ok = op();
    let t = us(start.elapsed()) / f64::from(n.max(1));
    if usize::try_from(n).is_ok_and(|n| n == ok) {
        Ok(t)
    } else {
        Err(format!("{ok} of {n} verifications succeeded"))
    }
}

fn time_case(case: &Case, rounds: usize) -> Result<Row, String> {
    let budget = Duration::from_millis(40);
    let n_floor = calibrate(budget, || {
        std::hint::black_box(case.floor());
    });
    let n_cached = calibrate(budget, || {
        let _ = std::hint::black_box(case.verify_cached());
    });
    let n_cold = calibrate(budget, || {
        let _ = std::hint::black_box(case.verify_cold());
    });
    let (mut floor, mut cached, mut cold, mut ratio) = (vec![], vec![], vec![], vec![]);
    for _ in 0..rounds {
        let f = us(mean(n_floor, || {
            std::hint::black_box(case.floor());
        }));
        // The functions valgrind counts, timed.
        let c = per_call(n_cached, || measured(case, n_cached))?;
        // Fresh caches for this round's cold runs, made before its clock starts.
        let fresh: Vec<_> = (0..n_cold).map(|_| case.empty_cache()).collect();
        let k = per_call(n_cold, || measured_cold(case, &fresh))?;
        floor.push(f);
        cached.push(c);
        cold.push(k);
        ratio.push(c / f);
    }
    Ok(Row {
        floor_us: median(floor),
        cached_us: median(cached),
        cold_us: median(cold),
        ratio: median(ratio),
    })
}

fn table(cases: &[Case], rounds: usize, out: Option<&str>) -> Result<(), String> {
    let mut file = out.map(append).transpose()?;
    println!(
        "{:<32} {:>16} {:>10} {:>11} {:>10} {:>14}  ",
        "case", "floor", "floor µs", "cached µs", "cold µs", "cached/floor"
    );
    for case in cases {
        let r = time_case(case, rounds).map_err(|e| format!("{}: {e}", case.name))?;
        let t = target(case.platform);
        println!(
            "{:<32} {:>16} {:>10.1} {:>11.1} {:>10.1} {:>8.2} (≤ {t}) {}",
            case.label,
            case.floor_label,
            r.floor_us,
            r.cached_us,
            r.cold_us,
            r.ratio,
            if r.ratio <= t { "met" } else { "NOT met" }
        );
        if let Some(f) = file.as_mut() {
            let row = serde_json::json!({
                "section": "verify",
                "case": case.name,
                "label": case.label,
                "platform": case.platform.as_str(),
                "source": case.source,
                "floor": case.floor_label,
                "floor_us": r.floor_us,
                "cached_us": r.cached_us,
                "cold_us": r.cold_us,
                "ratio": r.ratio,
                "target": t,
                "rounds": rounds,
            });
            writeln!(f, "{row}").map_err(|e| e.to_string())?;
        }
    }
    println!("(medians of {rounds} interleaved rounds of about 40 ms each)");
    Ok(())
}

/// Opens FILE for appending JSON lines.
fn append(path: &str) -> Result<std::fs::File, String> {
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|e| format!("{path}: {e}"))
}

/// The cryptography of a round trip besides verification (see the
/// module documentation), timed over about 200 ms each.
fn protocol(out: Option<&str>) -> Result<(), String> {
    use aws_lc_rs::rand::SystemRandom;
    use aws_lc_rs::signature::{EcdsaKeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
    use cogito_protocol::{seal, GuestKey, Kem};

    let guest = GuestKey::generate(Kem::X25519).map_err(|e| e.to_string())?;
    let secret = [7u8; 32];
    let rng = SystemRandom::new();
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
        .map_err(|_| "P-256 key generation failed")?;
    let key = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref())
        .map_err(|_| "P-256 key")?;
    // About the size of an EAR's signed header and claims.
    let claims = [b'x'; 900];
    let budget = Duration::from_millis(200);
    let seal_us = {
        let n = calibrate(budget, || {
            let _ = std::hint::black_box(seal(Kem::X25519, &guest.public, "disk-key", &secret));
        });
        us(mean(n, || {
            let _ = std::hint::black_box(seal(Kem::X25519, &guest.public, "disk-key", &secret));
        }))
    };
    let sign_us = {
        let n = calibrate(budget, || {
            let _ = std::hint::black_box(key.sign(&rng, &claims));
        });
        us(mean(n, || {
            let _ = std::hint::black_box(key.sign(&rng, &claims));
        }))
    };
    println!("HPKE seal of a 32-byte secret to an X25519 key: {seal_us:.1} µs");
    println!("ES256 signature of 900 bytes:                    {sign_us:.1} µs");
    if let Some(p) = out {
        let row = serde_json::json!({
            "section": "protocol", "seal_us": seal_us, "sign_us": sign_us,
        });
        writeln!(append(p)?, "{row}").map_err(|e| e.to_string())?;
    }
    Ok(())
}

fn run() -> Result<(), String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    // Without the vectors: a notice, and nothing to do (a panic under
    // CI=true, where they must be there).
    let Some(paths) = Paths::locate() else {
        return Ok(());
    };
    match args.first().map(String::as_str) {
        Some("protocol") => {
            let out = match (args.get(1).map(String::as_str), args.get(2)) {
                (Some("--out"), Some(p)) => Some(p.as_str()),
                (None, _) => None,
                _ => return Err("usage: cogito-bench protocol [--out FILE]".into()),
            };
            protocol(out)
        }
        Some("list") => {
            for n in cogito_bench::case_names() {
                println!("{n}");
            }
            Ok(())
        }
        Some("run") => {
            let name = args.get(1).ok_or("run CASE N")?;
            let n: u32 = args
                .get(2)
                .ok_or("run CASE N")?
                .parse()
                .map_err(|e| format!("N: {e}"))?;
            let cases = load_all(&paths)?;
            let case = cases
                .iter()
                .find(|c| c.name == name.as_str())
                .ok_or_else(|| format!("no case {name}"))?;
            let ok = if args.get(3).map(String::as_str) == Some("--cold") {
                let caches: Vec<_> = (0..n).map(|_| case.empty_cache()).collect();
                measured_cold(case, &caches)
            } else {
                measured(case, n)
            };
            if usize::try_from(n).is_ok_and(|n| n == ok) {
                Ok(())
            } else {
                Err(format!("{name}: {ok} of {n} verifications succeeded"))
            }
        }
        Some("table") => {
            let mut rounds = 9usize;
            let mut out = None;
            let mut it = args.iter().skip(1);
            while let Some(a) = it.next() {
                match a.as_str() {
                    "--rounds" => {
                        rounds = it
                            .next()
                            .ok_or("--rounds N")?
                            .parse()
                            .map_err(|e| format!("--rounds: {e}"))?;
                    }
                    "--out" => out = Some(it.next().ok_or("--out FILE")?.as_str()),
                    other => return Err(format!("unknown argument {other}")),
                }
            }
            let cases = load_all(&paths)?;
            table(&cases, rounds.max(1), out)
        }
        _ => Err(
            "usage: cogito-bench table [--rounds N] [--out FILE] | run CASE N [--cold] | protocol [--out FILE] | list"
                .into(),
        ),
    }
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("cogito-bench: {e}");
            ExitCode::FAILURE
        }
    }
}
