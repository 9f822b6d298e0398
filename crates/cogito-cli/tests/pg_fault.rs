//! PostgreSQL goes away in the middle of a load run and comes back. The
//! test owns that server: a private PostgreSQL (initdb/pg_ctl, as the
//! `postgres` user when run as root) on its own port and data directory,
//! never the machine's shared one. Meanwhile guests are refused fast with
//! 503 and a code that says why; no nonce is accepted twice; no secret
//! version the service acknowledged is lost; and the same service process
//! serves again once the database is back.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::as_conversions
)]

mod support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine as _;
use cogito_protocol::{AttestRequest, Kem};
use serde_json::json;
use support::*;

const PG_BIN: &str = "/usr/lib/postgresql/15/bin";

/// A PostgreSQL of this test's own, stopped and its files removed on drop.
struct PrivatePg {
    dir: PathBuf,
    port: u16,
    as_postgres: bool,
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

impl PrivatePg {
    /// `None` (with a notice) where PostgreSQL's binaries are missing,
    /// outside CI.
    fn start() -> Option<PrivatePg> {
        if !Path::new(PG_BIN).join("initdb").exists() {
            assert!(!in_ci(), "CI=true and {PG_BIN}/initdb is missing");
            eprintln!("NOTICE: skipping the PostgreSQL fault test: no {PG_BIN}/initdb");
            return None;
        }
        let as_postgres = is_root();
        // A directory the postgres user may own (initdb refuses root).
        let dir = std::env::temp_dir().join(format!("cogito-pgfault-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        if as_postgres {
            let ok = Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(&dir)
                .status()
                .unwrap()
                .success();
            assert!(ok, "chown {dir:?} to postgres");
        }
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let pg = PrivatePg {
            dir,
            port,
            as_postgres,
        };
        pg.run(
            "initdb",
            &[
                "-D",
                &pg.data().display().to_string(),
                "-U",
                "postgres",
                "--auth=trust",
                "--no-sync",
            ],
        );
        pg.ctl_start();
        Some(pg)
    }

    fn data(&self) -> PathBuf {
        self.dir.join("data")
    }

    /// PostgreSQL's `tool` with `args`, as the `postgres` user when this
    /// test runs as root (its tools refuse root).
    fn command(&self, tool: &str, args: &[&str]) -> Command {
        let bin = Path::new(PG_BIN).join(tool);
        let mut c = if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(bin);
            c
        } else {
            Command::new(bin)
        };
        c.args(args);
        c
    }

    fn run(&self, tool: &str, args: &[&str]) {
        let out = self.command(tool, args).output().unwrap();
        assert!(
            out.status.success(),
            "{tool} {args:?}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn ctl_start(&self) {
        let opts = format!(
            "-p {} -c listen_addresses=127.0.0.1 -k {} -c fsync=off",
            self.port,
            self.dir.display()
        );
        self.run(
            "pg_ctl",
            &[
                "-D",
                &self.data().display().to_string(),
                "-l",
                &self.dir.join("log").display().to_string(),
                "-o",
                &opts,
                "-w",
                "start",
            ],
        );
    }

    /// Stops it as a crash would: no checkpoint, connections cut.
    fn ctl_stop_immediate(&self) {
        self.run(
            "pg_ctl",
            &[
                "-D",
                &self.data().display().to_string(),
                "-m",
                "immediate",
                "-w",
                "stop",
            ],
        );
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }
}

impl Drop for PrivatePg {
    fn drop(&mut self) {
        let data = self.data().display().to_string();
        let _ = self
            .command("pg_ctl", &["-D", &data, "-m", "immediate", "stop"])
            .output();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A refusal: status, code, when the attempt started, how long it took.
type Refusal = (u16, String, Instant, Duration);

/// One guest's attempt; the request is kept to be replayed later.
fn attempt(c: &Client, world: &World) -> Option<(AttestRequest, Answer, Instant, Duration)> {
    let started = Instant::now();
    let key = GuestKey::new(Kem::X25519);
    // The challenge needs no store: a MAC'd nonce.
    let nonce = c.try_send("POST", "/v1/challenge", None, Some(br#"{"tee":"snp"}"#))?;
    if nonce.status != 200 {
        return None;
    }
    let nonce = cogito_protocol::decode_b64(nonce.json()["nonce"].as_str()?)?;
    let (evidence, table) = world.evidence("snp", &nonce, &key, None);
    let req = request(&nonce, &evidence, &key, table.as_deref(), &["disk-key"]);
    let body = serde_json::to_vec(&req).unwrap();
    let a = c.try_send("POST", "/v1/attest", None, Some(&body))?;
    Some((req, a, started, started.elapsed()))
}

#[test]
fn postgres_stops_mid_load_and_returns_without_a_restart() {
    let Some(pg) = PrivatePg::start() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let world = World::new();
    let mut args = world.files(tmp.path());
    args.extend(["--store".to_string(), pg.url()]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let server = Served::start(&tmp.path().join("data"), &args);
    server.fleet_secret(tmp.path(), "disk-key", b"v0");
    let admin = server.admin_token();

    let stop = Arc::new(AtomicBool::new(false));
    // Accepted requests (to replay), and every refusal seen: (status, code,
    // how long it took).
    let accepted: Arc<Mutex<Vec<AttestRequest>>> = Arc::default();
    let refusals: Arc<Mutex<Vec<Refusal>>> = Arc::default();
    let guests: Vec<_> = (0..3)
        .map(|_| {
            let (c, stop, accepted, refusals) = (
                server.client(),
                stop.clone(),
                accepted.clone(),
                refusals.clone(),
            );
            let world = World {
                snp: world.snp.clone(),
                tdx: world.tdx.clone(),
                cca: world.cca.clone(),
            };
            std::thread::spawn(move || {
                while !stop.load(Ordering::SeqCst) {
                    let Some((req, a, started, took)) = attempt(&c, &world) else {
                        std::thread::sleep(Duration::from_millis(20));
                        continue;
                    };
                    if a.status == 200 {
                        accepted.lock().unwrap().push(req);
                    } else {
                        let code = a.problem().code;
                        refusals
                            .lock()
                            .unwrap()
                            .push((a.status, code, started, took));
                    }
                }
            })
        })
        .collect();
    // An operator writing secret versions throughout: name → acknowledged.
    let acked: Arc<Mutex<BTreeMap<i64, String>>> = Arc::default();
    let writer = {
        let (c, stop, acked, admin) = (server.client(), stop.clone(), acked.clone(), admin.clone());
        std::thread::spawn(move || {
            let mut n = 0u64;
            while !stop.load(Ordering::SeqCst) {
                n += 1;
                let value = format!("write {n}");
                let body = json!({
                    "policy": "fleet",
                    "value": base64::engine::general_purpose::STANDARD.encode(&value),
                });
                if let Some(a) = c.try_send(
                    "PUT",
                    "/v1/admin/secrets/rolling",
                    Some(&admin),
                    Some(&serde_json::to_vec(&body).unwrap()),
                ) {
                    if matches!(a.status, 200 | 201) {
                        let v = a.json()["version"].as_i64().unwrap();
                        acked.lock().unwrap().insert(v, value);
                    }
                }
                std::thread::sleep(Duration::from_millis(30));
            }
        })
    };

    let c = server.client();
    std::thread::sleep(Duration::from_secs(2));
    let before = accepted.lock().unwrap().len();
    assert!(before > 0, "nothing was accepted before the outage");

    // The outage.
    pg.ctl_stop_immediate();
    let down_at = Instant::now();
    std::thread::sleep(Duration::from_secs(1));
    let ready = c.get("/readyz", None);
    assert_eq!(ready.status, 503, "readyz during the outage");
    std::thread::sleep(Duration::from_secs(6));
    let during: Vec<_> = refusals
        .lock()
        .unwrap()
        .iter()
        .filter(|r| r.2 > down_at)
        .cloned()
        .collect();
    assert!(!during.is_empty(), "no refusal while the database was down");
    for (status, code, _, _) in &during {
        assert_eq!(*status, 503, "{code}");
        assert!(
            matches!(code.as_str(), "store.unavailable" | "service.saturated"),
            "during the outage: {status} {code}"
        );
    }
    // Once the health probe has seen the outage (it probes every 500 ms and
    // waits 1 s for an answer), requests fail fast instead of each waiting
    // out the pool's acquire timeout.
    let settled = down_at + Duration::from_secs(2);
    let fast: Vec<Duration> = during
        .iter()
        .filter(|r| r.2 > settled)
        .map(|r| r.3)
        .collect();
    assert!(
        fast.len() > 10,
        "only {} refusals after the probe saw the outage",
        fast.len()
    );
    let slowest_fast = fast.iter().max().copied().unwrap_or_default();
    assert!(
        slowest_fast < Duration::from_millis(500),
        "a refusal took {slowest_fast:?}: not failing fast"
    );

    // Back.
    pg.ctl_start();
    let back_at = Instant::now();
    let accepted_when_back = accepted.lock().unwrap().len();
    let mut recovered = None;
    while back_at.elapsed() < Duration::from_secs(30) {
        if accepted.lock().unwrap().len() > accepted_when_back + 3 {
            recovered = Some(back_at.elapsed());
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let recovered = recovered.expect("the service did not serve again within 30 s");
    assert_eq!(c.get("/readyz", None).status, 200);
    stop.store(true, Ordering::SeqCst);
    for g in guests {
        g.join().unwrap();
    }
    writer.join().unwrap();

    // No nonce accepted twice: every accepted request, replayed, is 409.
    let accepted = accepted.lock().unwrap().clone();
    for req in &accepted {
        refused(&c.attest(req), 409, "nonce.replayed");
    }
    // No acknowledged secret version lost: the latest is at least the
    // highest acknowledged, holds what was written for it, and the audit
    // log has one record per version (none acknowledged and then undone).
    let acked = acked.lock().unwrap().clone();
    let (&top, top_value) = acked.iter().next_back().expect("no version acknowledged");
    let info = c.get("/v1/admin/secrets/rolling", Some(&admin)).json();
    let latest = info["version"].as_i64().unwrap();
    assert!(latest >= top, "version {latest}, {top} was acknowledged");
    if latest == top {
        let got = base64::engine::general_purpose::STANDARD
            .decode(info["value"].as_str().unwrap())
            .unwrap();
        assert_eq!(String::from_utf8(got).unwrap(), *top_value);
    }
    let audit = c.get("/v1/admin/audit?limit=10000", Some(&admin)).json();
    let records = audit
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["action"] == "secret.put" && r["target"] == "rolling")
        .count();
    assert_eq!(records as i64, latest, "versions and their audit records");
    let slowest = during.iter().map(|r| r.3).max().unwrap_or_default();
    eprintln!(
        "outage {:?}, recovered {recovered:?} after restart; {} accepted ({before} before), {} refused during (slowest {slowest:?}, slowest once detected {slowest_fast:?}), {} versions acknowledged",
        back_at - down_at,
        accepted.len(),
        during.len(),
        acked.len()
    );
}
