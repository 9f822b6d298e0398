//! `kill -9` of `cogito serve` while an operator writes secrets and
//! policies, again and again at random moments, on SQLite and on
//! PostgreSQL: after each restart every secret's latest version decrypts
//! to a value that was written (never a torn one), no acknowledged version
//! is lost, and the audit log holds exactly one record per version (it
//! agrees with the data).
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
use std::time::Duration;

use base64::Engine as _;
use serde_json::{json, Value};
use support::*;

const ROUNDS: usize = 50;
const NAMES: [&str; 3] = ["alpha", "beta", "default/key/gamma"];

/// A small deterministic generator (no dependency): the kill moments.
struct Lcg(u64);
impl Lcg {
    fn next(&mut self, below: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % below
    }
}

fn crash_rounds(tag: &str, store: &[String]) {
    let tmp = tempfile::tempdir().unwrap();
    let world = World::new();
    let mut args = world.files(tmp.path());
    args.extend(store.iter().cloned());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let data = tmp.path().join(format!("data-{tag}"));
    let mut server = Served::start(&data, &args);
    let fleet = tmp.path().join("policies/fleet.toml").display().to_string();
    server.cli_ok(&["policy", "push", &fleet]);
    let admin = format!("Bearer {}", server.admin_token());
    // What the service acknowledged: name → highest version.
    let acked: Arc<Mutex<BTreeMap<String, i64>>> = Arc::default();
    let mut rng = Lcg(0x5eed ^ tag.len() as u64);

    for round in 0..ROUNDS {
        let c = server.client();
        let stop = Arc::new(AtomicBool::new(false));
        let writer = {
            let (stop, acked, admin) = (stop.clone(), acked.clone(), admin.clone());
            std::thread::spawn(move || {
                let mut n = 0u64;
                while !stop.load(Ordering::SeqCst) {
                    n += 1;
                    let name = NAMES[(n as usize) % NAMES.len()];
                    let value = format!("round {round} write {n} of {name}");
                    let body = json!({
                        "policy": "fleet",
                        "value": base64::engine::general_purpose::STANDARD.encode(&value),
                    });
                    let Some(a) = c.try_send(
                        "PUT",
                        &format!("/v1/admin/secrets/{name}"),
                        Some(admin.trim_start_matches("Bearer ")),
                        Some(&serde_json::to_vec(&body).unwrap()),
                    ) else {
                        // Killed under the request: not acknowledged.
                        continue;
                    };
                    if matches!(a.status, 200 | 201) {
                        let v = a.json()["version"].as_i64().unwrap();
                        let mut m = acked.lock().unwrap();
                        let e = m.entry(name.to_string()).or_insert(0);
                        *e = (*e).max(v);
                    }
                    if n.is_multiple_of(7) {
                        // A policy version too.
                        let text = format!(
                            "[policy]\nname = \"fleet\"\n# round {round} write {n}\ninclude = [\"refvalues/measurements.toml\"]\n[snp]\n[tdx]\n[cca]\n"
                        );
                        let _ = c.try_send(
                            "PUT",
                            "/v1/admin/policies/fleet",
                            Some(admin.trim_start_matches("Bearer ")),
                            Some(text.as_bytes()),
                        );
                    }
                }
            })
        };
        std::thread::sleep(Duration::from_millis(5 + rng.next(60)));
        server.kill9();
        stop.store(true, Ordering::SeqCst);
        let _ = writer.join();
        server = Served::start(&data, &args);

        // Every secret: the latest version decrypts to a value written for
        // it, no acknowledged version is lost, one audit record per version.
        let c = server.client();
        let audit = c
            .get(
                "/v1/admin/audit?limit=10000",
                Some(admin.trim_start_matches("Bearer ")),
            )
            .json();
        let audit = audit.as_array().unwrap();
        for name in NAMES {
            let a = c.get(
                &format!("/v1/admin/secrets/{name}"),
                Some(admin.trim_start_matches("Bearer ")),
            );
            let acked_v = acked.lock().unwrap().get(name).copied().unwrap_or(0);
            if a.status == 404 {
                assert_eq!(
                    acked_v, 0,
                    "{tag} round {round}: {name} acknowledged, then lost"
                );
                continue;
            }
            assert_eq!(a.status, 200, "{tag} round {round}: {name}");
            let info: Value = a.json();
            let version = info["version"].as_i64().unwrap();
            assert!(
                version >= acked_v,
                "{tag} round {round}: {name} at version {version}, {acked_v} was acknowledged"
            );
            let value = base64::engine::general_purpose::STANDARD
                .decode(info["value"].as_str().unwrap())
                .unwrap();
            let value = String::from_utf8(value).unwrap();
            assert!(
                value.starts_with("round ") && value.ends_with(&format!(" of {name}")),
                "{tag} round {round}: {name} holds {value:?}"
            );
            let records = audit
                .iter()
                .filter(|r| r["action"] == "secret.put" && r["target"] == name)
                .count();
            assert_eq!(
                records as i64, version,
                "{tag} round {round}: {name} has {version} versions and {records} audit records"
            );
        }
        let policy_versions = audit
            .iter()
            .filter(|r| r["action"] == "policy.put" && r["target"] == "fleet")
            .count();
        let history = c
            .get(
                "/v1/admin/policies/fleet/history",
                Some(admin.trim_start_matches("Bearer ")),
            )
            .json();
        assert_eq!(
            history.as_array().map_or(0, Vec::len),
            policy_versions,
            "{tag} round {round}: policy versions and their audit records"
        );
        if round + 1 == ROUNDS {
            // The rounds did write: many versions of each, and of the policy.
            let written: i64 = acked.lock().unwrap().values().sum();
            eprintln!("{tag}: {written} acknowledged secret versions, {policy_versions} policy versions over {ROUNDS} kills");
            assert!(written >= ROUNDS as i64, "{tag}: only {written} writes");
            assert!(policy_versions > 1, "{tag}: the policy was never rewritten");
        }
    }
}

#[test]
fn kill_9_during_updates_on_sqlite_leaves_whole_versions_and_an_agreeing_audit_log() {
    crash_rounds("sqlite", &[]);
}

#[test]
fn kill_9_during_updates_on_postgres_leaves_whole_versions_and_an_agreeing_audit_log() {
    let Some(db) = PgDb::create("crash") else {
        return;
    };
    crash_rounds("postgres", &["--store".into(), db.url.clone()]);
}
