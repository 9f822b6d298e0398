//! A soak run: four clients play a mix of good and bad requests against one
//! `cogito serve` for `COGITO_SOAK_SECS` seconds (60 by default, as CI runs
//! it; docs/security.md gives a longer run). Every answer must be the one
//! its case expects (no 5xx, no unexpected refusal), and the server's
//! resident memory must stay flat: measured once the caches are warm and
//! again at the end.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::as_conversions
)]

mod support;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use cogito_protocol::Kem;
use serde_json::json;
use support::*;

/// The cases, in the order the clients cycle through them.
const CASES: [&str; 10] = [
    "snp",
    "tdx",
    "cca",
    "replayed nonce",
    "tampered evidence",
    "malformed body",
    "unknown secret",
    "forged token",
    "token",
    "kbs auth",
];

fn clone_world(w: &World) -> World {
    World {
        snp: w.snp.clone(),
        tdx: w.tdx.clone(),
        cca: w.cca.clone(),
    }
}

/// Plays case `i`; `Err` names what was unexpected.
fn play(
    i: usize,
    c: &Client,
    world: &World,
    last: &mut Option<(cogito_protocol::AttestRequest, String)>,
) -> Result<(), String> {
    let expect = |a: &Answer, status: u16, code: &str| -> Result<(), String> {
        let got_code = if a.status == 200 {
            String::new()
        } else {
            a.problem().code
        };
        if a.status == status && (code.is_empty() || got_code == code) {
            Ok(())
        } else {
            Err(format!(
                "{}: expected {status} {code}, got {} {}",
                CASES[i],
                a.status,
                String::from_utf8_lossy(&a.body)
            ))
        }
    };
    match CASES[i] {
        tee @ ("snp" | "tdx" | "cca") => {
            let key = GuestKey::new(Kem::X25519);
            let nonce = c.challenge(tee);
            let (ev, table) = world.evidence(tee, &nonce, &key, None);
            let req = request(&nonce, &ev, &key, table.as_deref(), &["disk-key"]);
            let a = c.attest(&req);
            expect(&a, 200, "")?;
            let r: cogito_protocol::AttestResponse = serde_json::from_slice(&a.body).unwrap();
            if key.open(&r.secrets[0]).as_deref() != Some(b"soak".as_slice()) {
                return Err(format!("{tee}: the secret did not open"));
            }
            *last = Some((req, r.token));
            Ok(())
        }
        "replayed nonce" => match last {
            Some((req, _)) => expect(&c.attest(req), 409, "nonce.replayed"),
            None => Ok(()),
        },
        "tampered evidence" => {
            let key = GuestKey::new(Kem::X25519);
            let nonce = c.challenge("snp");
            let (mut ev, table) = world.evidence("snp", &nonce, &key, None);
            ev[0x1f] ^= 1;
            let a = c.attest(&request(&nonce, &ev, &key, table.as_deref(), &["disk-key"]));
            if a.status == 422 && a.problem().code.starts_with("snp.") {
                Ok(())
            } else {
                expect(&a, 422, "snp.*")
            }
        }
        "malformed body" => expect(
            &c.post_bytes("/v1/attest", br#"{"nonce": 1"#),
            400,
            "request.malformed",
        ),
        "unknown secret" => {
            let key = GuestKey::new(Kem::P256);
            let nonce = c.challenge("tdx");
            let (ev, _) = world.evidence("tdx", &nonce, &key, None);
            expect(
                &c.attest(&request(&nonce, &ev, &key, None, &["no-such-secret"])),
                404,
                "secret.unknown",
            )
        }
        "forged token" => expect(
            &c.get("/v1/secrets/disk-key", Some("eyJhbGciOiJub25lIn0.e30.")),
            401,
            "token.invalid",
        ),
        "token" => match last {
            Some((_, token)) => expect(&c.get("/v1/secrets/disk-key", Some(token)), 200, ""),
            None => Ok(()),
        },
        "kbs auth" => {
            let body = json!({
                "version": "0.4.0",
                "tee": "snp",
                "extra-params": { "supported-hash-algorithms": ["sha384"] },
            });
            expect(&c.post_json("/kbs/v0/auth", &body), 200, "")
        }
        other => unreachable!("{other}"),
    }
}

#[test]
fn a_mixed_load_keeps_memory_flat_and_answers_only_what_is_expected() {
    let secs: u64 = std::env::var("COGITO_SOAK_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(60);
    let tmp = tempfile::tempdir().unwrap();
    let world = World::new();
    let args = world.files(tmp.path());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let server = Served::start(&tmp.path().join("data"), &args);
    server.cli_ok(&[
        "collateral",
        "import",
        &tmp.path().join("tdx-bundle").display().to_string(),
    ]);
    server.fleet_secret(tmp.path(), "disk-key", b"soak");

    let stop = Arc::new(AtomicBool::new(false));
    let counts: Arc<Mutex<BTreeMap<&'static str, u64>>> = Arc::default();
    let errors: Arc<Mutex<Vec<String>>> = Arc::default();
    let clients: Vec<_> = (0..4)
        .map(|n| {
            let (c, world, stop, counts, errors) = (
                server.client(),
                clone_world(&world),
                stop.clone(),
                counts.clone(),
                errors.clone(),
            );
            std::thread::spawn(move || {
                let mut last = None;
                let mut i = n;
                while !stop.load(Ordering::SeqCst) {
                    let case = i % CASES.len();
                    match play(case, &c, &world, &mut last) {
                        Ok(()) => *counts.lock().unwrap().entry(CASES[case]).or_default() += 1,
                        Err(e) => {
                            let mut errors = errors.lock().unwrap();
                            if errors.len() < 20 {
                                errors.push(e);
                            }
                        }
                    }
                    i += 1;
                }
            })
        })
        .collect();

    // Warm: caches filled, pools grown, the allocator settled.
    let started = Instant::now();
    let warm = Duration::from_secs((secs / 5).max(5));
    std::thread::sleep(warm);
    let rss_warm = server.rss_kib();
    let mut rss_peak = rss_warm;
    while started.elapsed() < Duration::from_secs(secs) {
        std::thread::sleep(Duration::from_secs(1));
        rss_peak = rss_peak.max(server.rss_kib());
    }
    let rss_end = server.rss_kib();
    stop.store(true, Ordering::SeqCst);
    for c in clients {
        c.join().unwrap();
    }

    let counts = counts.lock().unwrap().clone();
    let total: u64 = counts.values().sum();
    eprintln!(
        "soak {secs} s: {total} requests ({:.0}/s), RSS {} KiB warm, {} KiB peak, {} KiB at the end; {counts:?}",
        total as f64 / secs as f64,
        rss_warm,
        rss_peak,
        rss_end
    );
    let errors = errors.lock().unwrap();
    assert!(errors.is_empty(), "unexpected answers: {errors:#?}");
    for case in CASES {
        assert!(
            counts.get(case).copied().unwrap_or(0) > 0,
            "{case} never ran"
        );
    }
    // Flat: the end within 10% (and 8 MiB for the allocator's slack) of
    // the warm figure. A leak of even a few hundred bytes per request over
    // tens of thousands of requests would show.
    let bound = rss_warm + rss_warm / 10 + 8 * 1024;
    assert!(
        rss_end <= bound,
        "RSS grew from {rss_warm} KiB to {rss_end} KiB (bound {bound} KiB)"
    );
}
