//! `cogito-loadgen`: plays many guests against a `cogito serve` it starts
//! on loopback, and reports what the service sustains.
//!
//! Each round trip is what a booting guest does: `POST /v1/challenge`,
//! a fresh HPKE key, evidence bound to the nonce and key (signed on the
//! spot by the testkit's FAKE platform: SEV-SNP Genoa, Intel TDX or Arm
//! CCA), `POST /v1/attest`, and the secret opened. The report gives round
//! trips per second, the latency of a round trip (p50, p99), the server's
//! CPU time per round trip (from `/proc/<pid>/stat`), the generator's own
//! CPU time per round trip (it shares the machine's cores unless pinned:
//! signing evidence is not free), the server's resident memory (VmRSS and
//! its peak VmHWM, from `/proc/<pid>/status`), and, in the same run, the
//! verify-only ceiling: the service's verification step alone on as many
//! threads as the server verifies with (pinned to the server's CPUs under
//! `--server-cpus`), with no HTTP, store or sealing.
//!
//! `--server-cpus LIST` starts the server under `taskset -c LIST` with one
//! verification thread per CPU of the list; `--replicas 2` starts two
//! servers on one PostgreSQL store, sharing its KEK (the second is given
//! the first one's `kek` file, as operators are told to), and guest `i`
//! does its whole round trip at replica `i % 2`; `--out FILE` appends the
//! figures to FILE as one JSON line.
//!
//! FAKE evidence, real service: the server verifies it exactly as it
//! verifies real evidence, trusting the testkit's roots through
//! `--trust-anchors` (SEV-SNP, TDX) or its CPAK through
//! `--cca-trust-anchors` (CCA).

#![forbid(unsafe_code)]

use std::collections::BTreeSet;
use std::io::{BufRead as _, BufReader, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::{Parser, ValueEnum};
use cogito_core::{AmdProduct, VerificationTime};
use cogito_protocol::{
    decode_b64, encode_b64, report_data, AttestCollateral, AttestRequest, AttestResponse, GuestKey,
    Kem,
};
use cogito_testkit::{LiveCca, LiveSnp, LiveTdx};
use serde_json::{json, Value};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Tee {
    Snp,
    Tdx,
    Cca,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum KemArg {
    X25519,
    P256,
}

#[derive(Parser, Debug)]
#[command(
    about = "Load generator for cogito serve (FAKE testkit evidence on loopback)",
    args_override_self = true
)]
struct Args {
    /// The platform the guests play.
    #[arg(long, value_enum, default_value_t = Tee::Snp)]
    tee: Tee,
    /// The guests' HPKE KEM.
    #[arg(long, value_enum, default_value_t = KemArg::X25519)]
    kem: KemArg,
    /// Seconds of measured load.
    #[arg(long, default_value_t = 10)]
    duration: u64,
    /// Seconds of unmeasured warm-up first.
    #[arg(long, default_value_t = 2)]
    warmup: u64,
    /// Guests at once (each a thread with a keep-alive connection).
    #[arg(long, default_value_t = 16)]
    concurrency: usize,
    /// The server's store (default: its embedded SQLite file).
    #[arg(long, value_name = "URL")]
    store: Option<String>,
    /// The cogito binary [default: `cogito` next to this program].
    #[arg(long, value_name = "PATH")]
    bin: Option<PathBuf>,
    /// Verification threads of the server, and of the verify-only ceiling
    /// [default: one per CPU the server may use].
    #[arg(long)]
    verify_threads: Option<usize>,
    /// Start the server under `taskset -c LIST` (e.g. `0` or `0,1`), and
    /// run the verify-only ceiling on the same CPUs.
    #[arg(long, value_name = "LIST")]
    server_cpus: Option<String>,
    /// Servers on the one store: 2 needs a PostgreSQL `--store`; guest i
    /// does its round trips at replica i % 2.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u8).range(1..=2))]
    replicas: u8,
    /// Skip the verify-only ceiling.
    #[arg(long)]
    no_ceiling: bool,
    /// Append the figures to FILE as one JSON object on one line.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    /// Print the figures as one JSON object too (the line `--out` writes).
    #[arg(long)]
    json: bool,
    /// Internal: run only the verify-only ceiling for `--duration` seconds
    /// on `--verify-threads` threads (default: one per CPU this process
    /// may use) and print it as JSON; how the generator measures it on the
    /// server's CPUs, under taskset.
    #[arg(long, hide = true)]
    ceiling_only: bool,
}

type Result<T> = std::result::Result<T, String>;

/// The FAKE platform the guests run on.
enum World {
    Snp(Box<LiveSnp>),
    Tdx(Box<LiveTdx>),
    Cca(Box<LiveCca>),
}

const MEASUREMENT: [u8; 48] = [0x5a; 48];
const SECRET: &[u8] = b"the fleet's disk key, 32 bytes!!";

impl World {
    fn new(tee: Tee) -> World {
        let now = VerificationTime::now().unix();
        match tee {
            Tee::Snp => World::Snp(Box::new(LiveSnp::new(AmdProduct::Genoa, now))),
            Tee::Tdx => World::Tdx(Box::new(LiveTdx::new(now))),
            Tee::Cca => World::Cca(Box::new(LiveCca::new())),
        }
    }

    fn evidence(&self, report_data: [u8; 64]) -> (Vec<u8>, Option<Vec<u8>>) {
        match self {
            World::Snp(l) => {
                let (r, t) = l.evidence(report_data, MEASUREMENT);
                (r, Some(t))
            }
            World::Tdx(l) => (l.quote(report_data, MEASUREMENT), None),
            World::Cca(l) => (l.token(report_data, MEASUREMENT), None),
        }
    }

    fn tee(&self) -> &'static str {
        match self {
            World::Snp(_) => "snp",
            World::Tdx(_) => "tdx",
            World::Cca(_) => "cca",
        }
    }

    /// The X.509 roots the server must trust (none for CCA).
    fn anchors_pem(&self) -> Vec<(String, String)> {
        match self {
            World::Snp(l) => l.anchors_pem(),
            World::Tdx(l) => l.anchors_pem(),
            World::Cca(_) => Vec::new(),
        }
    }

    /// The policy that accepts the guests.
    fn policy(&self) -> String {
        let hex: String = MEASUREMENT.iter().map(|b| format!("{b:02x}")).collect();
        let section = match self {
            World::Snp(_) => format!("[snp]\nmeasurements = [\"{hex}\"]"),
            World::Tdx(_) => format!("[tdx]\nmrtd = [\"{hex}\"]"),
            World::Cca(_) => format!("[cca]\nrim = [\"{hex}\"]"),
        };
        format!("[policy]\nname = \"bench\"\n{section}\n")
    }

    /// The TDX collateral bundle, decoded (None for the other platforms).
    fn tdx_collateral(&self) -> Result<Option<cogito_collateral::TdxCollateralFiles>> {
        let World::Tdx(l) = self else {
            return Ok(None);
        };
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        for (name, bytes) in l.collateral_files() {
            std::fs::write(dir.path().join(name), bytes).map_err(|e| e.to_string())?;
        }
        Ok(Some(
            cogito_collateral::load_tdx_bundle(dir.path())
                .map_err(|e| e.to_string())?
                .ok_or("the testkit's TDX bundle is incomplete")?,
        ))
    }
}

/// One server child, killed on drop.
struct Server {
    child: Child,
    url: String,
    data: PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    fn pid(&self) -> String {
        self.child.id().to_string()
    }

    /// The server's TLS certificate (self-signed, its own per replica).
    fn ca(&self) -> PathBuf {
        self.data.join("tls/cert.pem")
    }
}

/// How many CPUs a taskset list (`0`, `0,1`, `0-3`, `0-7:2`) names.
fn cpu_count(list: &str) -> Result<usize> {
    let bad = || format!("--server-cpus {list:?}: not a CPU list such as 0 or 0,1 or 0-3");
    let mut cpus = BTreeSet::new();
    for part in list.split(',') {
        let (range, stride) = match part.split_once(':') {
            Some((r, s)) => (r, s.parse::<usize>().map_err(|_| bad())?),
            None => (part, 1),
        };
        let (first, last) = match range.split_once('-') {
            Some((a, b)) => (
                a.trim().parse::<usize>().map_err(|_| bad())?,
                b.trim().parse::<usize>().map_err(|_| bad())?,
            ),
            None => {
                let a = range.trim().parse::<usize>().map_err(|_| bad())?;
                (a, a)
            }
        };
        if stride == 0 || last < first {
            return Err(bad());
        }
        cpus.extend((first..=last).step_by(stride));
    }
    if cpus.is_empty() {
        return Err(bad());
    }
    Ok(cpus.len())
}

/// `program`, under `taskset -c LIST` when `--server-cpus LIST` pins the
/// server (the server itself and its verify-only ceiling alike).
fn on_server_cpus(args: &Args, program: &Path) -> Command {
    match &args.server_cpus {
        Some(list) => {
            let mut c = Command::new("taskset");
            c.arg("-c").arg(list).arg(program);
            c
        }
        None => Command::new(program),
    }
}

/// Starts `cogito serve` in `data`, trusting what `files` holds; `kek`
/// (the first replica's) for a second replica.
fn start_server(
    bin: &Path,
    files: &Path,
    data: PathBuf,
    world: &World,
    args: &Args,
    verify_threads: Option<usize>,
    kek: Option<&Path>,
) -> Result<Server> {
    let mut cmd = on_server_cpus(args, bin);
    cmd.args([
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--offline",
        "--rate-limit",
        "0",
    ])
    .args(["--log-format", "json", "--data-dir"])
    .arg(&data)
    .env("COGITO_LOG", "info,sqlx=warn")
    .env_remove("COGITO_KEK")
    .env_remove("COGITO_VERIFY_THREADS")
    .stdout(Stdio::null())
    .stderr(Stdio::piped());
    match world {
        World::Cca(_) => cmd.arg("--cca-trust-anchors").arg(files.join("cpak.jwk")),
        World::Snp(_) | World::Tdx(_) => cmd.arg("--trust-anchors").arg(files.join("anchors")),
    };
    if let Some(s) = &args.store {
        cmd.args(["--store", s]);
    }
    if let Some(k) = kek {
        cmd.arg("--kek-file").arg(k);
    }
    if let Some(t) = verify_threads {
        cmd.env("COGITO_VERIFY_THREADS", t.to_string());
    }
    let what = if args.server_cpus.is_some() {
        "taskset"
    } else {
        "cogito"
    };
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("starting {what} ({}): {e}", bin.display()))?;
    let stderr = child.stderr.take().ok_or("no stderr")?;
    let (tx, rx) = std::sync::mpsc::channel();
    // Reads the log to its end: the server must never block on a full pipe.
    std::thread::spawn(move || {
        let mut sent = false;
        for line in BufReader::new(stderr)
            .lines()
            .map_while(std::result::Result::ok)
        {
            if !sent {
                if let Ok(v) = serde_json::from_str::<Value>(&line) {
                    if v.get("message").and_then(Value::as_str) == Some("serving") {
                        let url = v.get("url").and_then(Value::as_str).unwrap_or_default();
                        let _ = tx.send(Ok(url.to_string()));
                        sent = true;
                    } else if v.get("level").and_then(Value::as_str) == Some("ERROR") {
                        let _ = tx.send(Err(line.clone()));
                    }
                } else {
                    let _ = tx.send(Err(line.clone()));
                }
            }
        }
    });
    let url = match rx.recv_timeout(Duration::from_secs(60)) {
        Ok(Ok(u)) => u,
        Ok(Err(line)) => {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!("cogito serve: {line}"));
        }
        Err(_) => {
            let _ = child.kill();
            let _ = child.wait();
            return Err("cogito serve did not start in 60 s".into());
        }
    };
    Ok(Server { child, url, data })
}

/// Writes what the servers trust (the X.509 roots, the CPAK) under `dir`.
fn write_trust(dir: &Path, world: &World) -> Result<()> {
    let anchors = dir.join("anchors");
    std::fs::create_dir_all(&anchors).map_err(|e| e.to_string())?;
    for (name, pem) in world.anchors_pem() {
        std::fs::write(anchors.join(format!("{name}.pem")), pem).map_err(|e| e.to_string())?;
    }
    if let World::Cca(l) = world {
        std::fs::write(dir.join("cpak.jwk"), l.cpak_jwk()).map_err(|e| e.to_string())?;
    }
    Ok(())
}

fn agent(ca: &Path) -> Result<ureq::Agent> {
    let pem = std::fs::read(ca).map_err(|e| format!("{}: {e}", ca.display()))?;
    let ders = cogito_core::anchors::certificates_from_pem_or_der(&pem)?;
    let tls = ureq::tls::TlsConfig::builder()
        .provider(ureq::tls::TlsProvider::Rustls)
        .unversioned_rustls_crypto_provider(Arc::new(rustls::crypto::aws_lc_rs::default_provider()))
        .root_certs(ureq::tls::RootCerts::Specific(Arc::new(
            ders.iter()
                .map(|d| ureq::tls::Certificate::from_der(d).to_owned())
                .collect(),
        )))
        .build();
    Ok(ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .tls_config(tls)
        .build()
        .into())
}

fn send(
    agent: &ureq::Agent,
    method: &str,
    url: &str,
    bearer: Option<&str>,
    body: &[u8],
) -> Result<(u16, Vec<u8>)> {
    let mut req = ureq::http::Request::builder()
        .method(method)
        .uri(url)
        .header("content-type", "application/json");
    if let Some(t) = bearer {
        req = req.header("authorization", format!("Bearer {t}"));
    }
    let req = req.body(body.to_vec()).map_err(|e| e.to_string())?;
    let mut resp = agent.run(req).map_err(|e| format!("{url}: {e}"))?;
    let status = resp.status().as_u16();
    let body = resp
        .body_mut()
        .with_config()
        .limit(16 << 20)
        .read_to_vec()
        .map_err(|e| format!("{url}: {e}"))?;
    Ok((status, body))
}

fn expect_2xx(what: &str, (status, body): (u16, Vec<u8>)) -> Result<Vec<u8>> {
    if (200..300).contains(&status) {
        Ok(body)
    } else {
        Err(format!(
            "{what}: HTTP {status}: {}",
            String::from_utf8_lossy(&body)
        ))
    }
}

/// The policy, the secret and (TDX) the collateral, through the admin API
/// of `server` (the store holds them for every replica).
fn provision(agent: &ureq::Agent, server: &Server, world: &World) -> Result<()> {
    let token = std::fs::read_to_string(server.data.join("admin-token"))
        .map_err(|e| e.to_string())?
        .trim()
        .to_string();
    let u = &server.url;
    expect_2xx(
        "policy",
        send(
            agent,
            "PUT",
            &format!("{u}/v1/admin/policies/bench"),
            Some(&token),
            world.policy().as_bytes(),
        )?,
    )?;
    let secret = json!({ "policy": "bench", "value": encode_b64(SECRET) });
    expect_2xx(
        "secret",
        send(
            agent,
            "PUT",
            &format!("{u}/v1/admin/secrets/disk-key"),
            Some(&token),
            secret.to_string().as_bytes(),
        )?,
    )?;
    if let Some(files) = world.tdx_collateral()? {
        let body = json!({ "tdx": cogito_server::collateral::StoredTdx::new(&files.collateral) });
        expect_2xx(
            "collateral",
            send(
                agent,
                "PUT",
                &format!("{u}/v1/admin/collateral"),
                Some(&token),
                body.to_string().as_bytes(),
            )?,
        )?;
    }
    Ok(())
}

/// One guest's round trip.
fn round_trip(agent: &ureq::Agent, url: &str, world: &World, kem: Kem) -> Result<()> {
    let challenge = expect_2xx(
        "challenge",
        send(
            agent,
            "POST",
            &format!("{url}/v1/challenge"),
            None,
            format!("{{\"tee\":\"{}\"}}", world.tee()).as_bytes(),
        )?,
    )?;
    let challenge: Value = serde_json::from_slice(&challenge).map_err(|e| e.to_string())?;
    let nonce = challenge
        .get("nonce")
        .and_then(Value::as_str)
        .and_then(decode_b64)
        .ok_or("challenge: no nonce")?;
    let key = GuestKey::generate(kem).map_err(|e| e.to_string())?;
    let rd = report_data(&nonce, kem, &key.public).ok_or("report data")?;
    let (evidence, table) = world.evidence(rd);
    let request = AttestRequest {
        nonce: encode_b64(&nonce),
        evidence: encode_b64(&evidence),
        public_key: cogito_protocol::PublicKey {
            kem,
            key: encode_b64(&key.public),
        },
        collateral: table.map(|t| AttestCollateral {
            cert_table: Some(encode_b64(&t)),
            event_log: None,
        }),
        secrets: vec!["disk-key".into()],
    };
    let body = serde_json::to_vec(&request).map_err(|e| e.to_string())?;
    let answer = expect_2xx(
        "attest",
        send(agent, "POST", &format!("{url}/v1/attest"), None, &body)?,
    )?;
    let answer: AttestResponse = serde_json::from_slice(&answer).map_err(|e| e.to_string())?;
    let sealed = answer.secrets.first().ok_or("attest: no secret")?;
    let opened = key
        .open(
            &sealed.name,
            &decode_b64(&sealed.enc).ok_or("enc")?,
            &decode_b64(&sealed.ciphertext).ok_or("ciphertext")?,
        )
        .map_err(|e| e.to_string())?;
    if opened != SECRET {
        return Err("the secret opened to other bytes".into());
    }
    Ok(())
}

/// CPU seconds (user + system) of a process, from /proc (USER_HZ = 100 on
/// Linux).
fn cpu_seconds(pid: &str) -> Result<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).map_err(|e| e.to_string())?;
    // Fields after the command name, which is in parentheses.
    let after = stat.rsplit_once(')').map(|(_, r)| r).ok_or("stat")?;
    let fields: Vec<&str> = after.split_whitespace().collect();
    let tick = |i: usize| -> Result<f64> {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .ok_or_else(|| "stat field".to_string())
    };
    // utime and stime are fields 14 and 15 of stat; here 11 and 12.
    Ok((tick(11)? + tick(12)?) / 100.0)
}

/// CPU seconds every core of the machine has been busy (user, nice,
/// system, irq, softirq, steal), from /proc/stat.
fn machine_busy_seconds() -> Result<f64> {
    let stat = std::fs::read_to_string("/proc/stat").map_err(|e| e.to_string())?;
    let line = stat.lines().next().ok_or("/proc/stat is empty")?;
    let v: Vec<f64> = line
        .split_whitespace()
        .skip(1)
        .filter_map(|f| f.parse().ok())
        .collect();
    // user nice system idle iowait irq softirq steal
    let busy = [0usize, 1, 2, 5, 6, 7]
        .iter()
        .filter_map(|i| v.get(*i))
        .sum::<f64>();
    Ok(busy / 100.0)
}

/// A process's resident memory now and at its peak (VmRSS, VmHWM), MiB,
/// from /proc/<pid>/status.
fn memory_mib(pid: &str) -> Result<(f64, f64)> {
    let status =
        std::fs::read_to_string(format!("/proc/{pid}/status")).map_err(|e| e.to_string())?;
    let field = |name: &str| -> Result<f64> {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|kib| kib.parse::<f64>().ok())
            .map(|kib| kib / 1024.0)
            .ok_or_else(|| format!("/proc/{pid}/status: no {name}"))
    };
    Ok((field("VmRSS:")?, field("VmHWM:")?))
}

struct Phase {
    round_trips: u64,
    errors: u64,
    first_error: Option<String>,
    latencies_us: Vec<u32>,
    /// Round trips done at each replica.
    per_replica: Vec<u64>,
}

/// One replica as the guests see it: its URL and its TLS certificate.
struct Target {
    url: String,
    ca: PathBuf,
}

/// `concurrency` guests for `seconds`; guest i at `targets[i % len]`.
fn run_phase(
    targets: &[Target],
    world: &Arc<World>,
    kem: Kem,
    concurrency: usize,
    seconds: u64,
) -> Result<Phase> {
    let stop = Arc::new(AtomicBool::new(false));
    let mut handles = Vec::new();
    for g in 0..concurrency {
        let replica = g % targets.len().max(1);
        let target = targets.get(replica).ok_or("no server")?;
        let agent = agent(&target.ca)?;
        let (url, world, stop) = (target.url.clone(), world.clone(), stop.clone());
        handles.push(std::thread::spawn(move || {
            let mut p = Phase {
                round_trips: 0,
                errors: 0,
                first_error: None,
                latencies_us: Vec::with_capacity(1 << 16),
                per_replica: Vec::new(),
            };
            while !stop.load(Ordering::Relaxed) {
                let t = Instant::now();
                match round_trip(&agent, &url, &world, kem) {
                    Ok(()) => {
                        p.round_trips += 1;
                        p.latencies_us
                            .push(u32::try_from(t.elapsed().as_micros()).unwrap_or(u32::MAX));
                    }
                    Err(e) => {
                        p.errors += 1;
                        p.first_error.get_or_insert(e);
                    }
                }
            }
            (replica, p)
        }));
    }
    std::thread::sleep(Duration::from_secs(seconds));
    stop.store(true, Ordering::Relaxed);
    let mut all = Phase {
        round_trips: 0,
        errors: 0,
        first_error: None,
        latencies_us: Vec::new(),
        per_replica: vec![0; targets.len()],
    };
    for h in handles {
        let (replica, p) = h.join().map_err(|_| "a guest thread panicked")?;
        all.round_trips += p.round_trips;
        all.errors += p.errors;
        if let Some(n) = all.per_replica.get_mut(replica) {
            *n += p.round_trips;
        }
        if all.first_error.is_none() {
            all.first_error = p.first_error;
        }
        all.latencies_us.extend(p.latencies_us);
    }
    all.latencies_us.sort_unstable();
    Ok(all)
}

/// The `p`th percentile (nearest rank below), milliseconds.
fn percentile(sorted: &[u32], p: usize) -> f64 {
    let last = sorted.len().saturating_sub(1);
    let i = (last.saturating_mul(p) / 100).min(last);
    sorted.get(i).map_or(0.0, |v| f64::from(*v) / 1000.0)
}

/// A count as a float (counts here stay far below 2^32).
fn float(n: u64) -> f64 {
    f64::from(u32::try_from(n).unwrap_or(u32::MAX))
}

/// `x` to three decimals, for the JSON line.
fn r3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// The verify-only ceiling: verifications per second, CPU milliseconds
/// per verification, threads.
#[derive(Clone, Copy)]
struct Ceiling {
    per_s: f64,
    cpu_ms: f64,
    threads: usize,
}

/// The service's verification step alone, on `threads` threads, for
/// `seconds`: the ceiling an attestation service on these cores cannot
/// pass.
fn ceiling(world: &World, threads: usize, seconds: u64) -> Result<Ceiling> {
    let mut anchors = cogito_attest::Anchors::builtin();
    for (name, pem) in world.anchors_pem() {
        anchors
            .x509
            .add_pem_or_der(pem.as_bytes(), false, &name)
            .map_err(|e| e.to_string())?;
    }
    if let World::Cca(l) = world {
        anchors.cca = Some(
            cogito_cca::CcaTrustAnchors::load(l.cpak_jwk().as_bytes(), "the testkit's CPAK")
                .map_err(|e| e.to_string())?,
        );
    }
    let verifier = Arc::new(cogito_attest::Verifier::new(anchors));
    let options = Arc::new(cogito_server::attest::service_options(false));
    let mut collateral = cogito_attest::SuppliedCollateral::default();
    collateral.tdx = world.tdx_collateral()?.map(|f| f.collateral);
    // Distinct evidence, made before the clock starts.
    let items: Vec<(Vec<u8>, cogito_attest::SuppliedCollateral)> = (0..512u16)
        .map(|i| {
            let mut rd = [0u8; 64];
            let [hi, lo] = i.to_be_bytes();
            rd[0] = hi;
            rd[1] = lo;
            let (ev, table) = world.evidence(rd);
            let mut c = collateral.clone();
            c.snp_cert_table = table;
            (ev, c)
        })
        .collect();
    let items = Arc::new(items);
    let threads = threads.max(1);
    let stop = Arc::new(AtomicBool::new(false));
    let cpu0 = cpu_seconds("self")?;
    let started = Instant::now();
    let handles: Vec<_> = (0..threads)
        .map(|t| {
            let (verifier, options, items, stop) = (
                verifier.clone(),
                options.clone(),
                items.clone(),
                stop.clone(),
            );
            std::thread::spawn(move || {
                let mut n = 0u64;
                let mut i = t;
                while !stop.load(Ordering::Relaxed) {
                    let Some((ev, c)) = items.get(i % items.len()) else {
                        break;
                    };
                    if let Err(e) = cogito_server::attest::verify_evidence(
                        &verifier,
                        &cogito_attest::NoFetch,
                        &options,
                        ev,
                        c,
                        VerificationTime::now(),
                    ) {
                        return Err(format!("the ceiling's evidence does not verify: {e}"));
                    }
                    n += 1;
                    i += 1;
                }
                Ok(n)
            })
        })
        .collect();
    std::thread::sleep(Duration::from_secs(seconds));
    stop.store(true, Ordering::Relaxed);
    let mut total = 0u64;
    for h in handles {
        total += h.join().map_err(|_| "a ceiling thread panicked")??;
    }
    let wall = started.elapsed().as_secs_f64();
    let cpu = cpu_seconds("self")? - cpu0;
    let n = float(total).max(1.0);
    Ok(Ceiling {
        per_s: float(total) / wall,
        cpu_ms: cpu / n * 1000.0,
        threads,
    })
}

/// The ceiling in a child process of this program (`--ceiling-only`),
/// under `taskset -c LIST` when the server is pinned, so that it runs on
/// the server's CPUs with the server's number of threads.
fn ceiling_child(args: &Args, world: &World, threads: usize, seconds: u64) -> Result<Ceiling> {
    let me = std::env::current_exe().map_err(|e| e.to_string())?;
    let out = on_server_cpus(args, &me)
        .args(["--ceiling-only", "--tee", world.tee()])
        .arg("--duration")
        .arg(seconds.to_string())
        .arg("--verify-threads")
        .arg(threads.to_string())
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("starting the ceiling ({}): {e}", me.display()))?;
    if !out.status.success() {
        return Err(format!("the ceiling failed ({})", out.status));
    }
    let v: Value =
        serde_json::from_slice(&out.stdout).map_err(|e| format!("the ceiling's answer: {e}"))?;
    let num = |k: &str| {
        v.get(k)
            .and_then(Value::as_f64)
            .ok_or_else(|| format!("the ceiling's answer has no {k}"))
    };
    Ok(Ceiling {
        per_s: num("per_s")?,
        cpu_ms: num("cpu_ms")?,
        threads: v
            .get("threads")
            .and_then(Value::as_u64)
            .and_then(|t| usize::try_from(t).ok())
            .ok_or("the ceiling's answer has no threads")?,
    })
}

fn main() -> std::process::ExitCode {
    match run() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("cogito-loadgen: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn run() -> Result<()> {
    let args = Args::parse();
    let world = Arc::new(World::new(args.tee));
    // The CPUs this process may use (its affinity, which a server started
    // without taskset inherits).
    let allowed = std::thread::available_parallelism().map_or(1, |n| n.get());
    if args.ceiling_only {
        let c = ceiling(
            &world,
            args.verify_threads.unwrap_or(allowed),
            args.duration.max(1),
        )?;
        println!(
            "{}",
            json!({ "per_s": c.per_s, "cpu_ms": c.cpu_ms, "threads": c.threads })
        );
        return Ok(());
    }
    let postgres = args
        .store
        .as_deref()
        .is_some_and(|s| s.starts_with("postgres://") || s.starts_with("postgresql://"));
    if args.replicas > 1 && !postgres {
        return Err(format!(
            "--replicas {} needs a PostgreSQL --store (postgres://…): replicas share one \
             PostgreSQL database; the embedded SQLite store belongs to one server",
            args.replicas
        ));
    }
    let pinned = args.server_cpus.as_deref().map(cpu_count).transpose()?;
    let cores = pinned.unwrap_or(allowed);
    let verify_threads = args.verify_threads.or(pinned);
    let bin = match &args.bin {
        Some(b) => b.clone(),
        None => std::env::current_exe()
            .map_err(|e| e.to_string())?
            .with_file_name("cogito"),
    };
    eprintln!(
        "FAKE evidence: the testkit's {} platform signs every report; the server trusts its roots.",
        match args.tee {
            Tee::Snp => "SEV-SNP Genoa",
            Tee::Tdx => "Intel TDX",
            Tee::Cca => "Arm CCA",
        }
    );
    let kem = match args.kem {
        KemArg::X25519 => Kem::X25519,
        KemArg::P256 => Kem::P256,
    };
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    write_trust(dir.path(), &world)?;
    let first = start_server(
        &bin,
        dir.path(),
        dir.path().join("data-1"),
        &world,
        &args,
        verify_threads,
        None,
    )?;
    // The first replica made the KEK that wraps the signing and nonce keys
    // in the store; the second is given its file (docs/operations.md,
    // "Stores and replicas").
    let kek = first.data.join("kek");
    let mut servers = vec![first];
    for r in 2..=args.replicas {
        servers.push(start_server(
            &bin,
            dir.path(),
            dir.path().join(format!("data-{r}")),
            &world,
            &args,
            verify_threads,
            Some(&kek),
        )?);
    }
    let targets: Vec<Target> = servers
        .iter()
        .map(|s| Target {
            url: s.url.clone(),
            ca: s.ca(),
        })
        .collect();
    let first = servers.first().ok_or("no server")?;
    provision(&agent(&first.ca())?, first, &world)?;
    // A first round trip at each replica proves the set-up before any
    // figure is taken.
    for t in &targets {
        round_trip(&agent(&t.ca)?, &t.url, &world, kem)?;
    }
    if args.warmup > 0 {
        run_phase(&targets, &world, kem, args.concurrency, args.warmup)?;
    }
    let pids: Vec<String> = servers.iter().map(Server::pid).collect();
    let server_cpu = || -> Result<f64> { pids.iter().map(|p| cpu_seconds(p)).sum::<Result<f64>>() };
    let (srv0, gen0, all0) = (server_cpu()?, cpu_seconds("self")?, machine_busy_seconds()?);
    let started = Instant::now();
    let phase = run_phase(&targets, &world, kem, args.concurrency, args.duration)?;
    let wall = started.elapsed().as_secs_f64();
    let (srv, gen) = (server_cpu()? - srv0, cpu_seconds("self")? - gen0);
    let others = (machine_busy_seconds()? - all0 - srv - gen).max(0.0);
    let (mut rss, mut peak) = (0.0f64, 0.0f64);
    for p in &pids {
        let (now, high) = memory_mib(p)?;
        rss += now;
        peak = peak.max(high);
    }
    drop(servers);
    if phase.round_trips == 0 {
        return Err(format!(
            "no round trip succeeded: {}",
            phase.first_error.unwrap_or_default()
        ));
    }
    let n = float(phase.round_trips);
    let store = args.store.as_deref().map_or(
        "SQLite (embedded)".to_string(),
        cogito_server::store::redact,
    );
    println!(
        "cogito-loadgen: {} round trips (challenge, FAKE evidence, attest, unseal), {} KEM",
        world.tee(),
        match kem {
            Kem::X25519 => "X25519",
            Kem::P256 => "P-256",
        }
    );
    println!("  store            {store}");
    println!(
        "  machine          {allowed} CPU(s) usable by the generator; {} guests at once; {:.1} s measured after {} s warm-up",
        args.concurrency, wall, args.warmup
    );
    let threads = verify_threads.map_or("one verification thread per core".to_string(), |t| {
        format!("{t} verification thread(s)")
    });
    let replicas = if phase.per_replica.len() > 1 {
        let each: Vec<String> = phase.per_replica.iter().map(u64::to_string).collect();
        format!(
            "{} replicas on one store (round trips at each: {}); ",
            phase.per_replica.len(),
            each.join(" + ")
        )
    } else {
        String::new()
    };
    match &args.server_cpus {
        Some(list) => println!(
            "  server           {replicas}pinned to CPU(s) {list} ({cores} CPU(s), taskset); {threads}"
        ),
        None => println!("  server           {replicas}{cores} cores; {threads}"),
    }
    println!(
        "  round trips/s    {:.0}  ({} ok, {} failed)",
        n / wall,
        phase.round_trips,
        phase.errors
    );
    println!(
        "  latency          p50 {:.2} ms, p99 {:.2} ms",
        percentile(&phase.latencies_us, 50),
        percentile(&phase.latencies_us, 99)
    );
    println!(
        "  server CPU       {:.3} ms per round trip ({:.2} cores busy)",
        srv / n * 1000.0,
        srv / wall
    );
    println!("  generator CPU    {:.3} ms per round trip ({:.2} cores busy: signing evidence, HPKE, HTTP)", gen / n * 1000.0, gen / wall);
    println!("  other processes  {:.3} ms per round trip ({:.2} cores busy: the database server, when there is one, and the rest of the machine)", others / n * 1000.0, others / wall);
    println!(
        "  server memory    {rss:.1} MiB resident at the end (VmRSS{}), {peak:.1} MiB at the peak (VmHWM{})",
        if pids.len() > 1 { ", summed over replicas" } else { "" },
        if pids.len() > 1 { ", the larger replica's" } else { "" },
    );
    if let Some(e) = &phase.first_error {
        println!("  first error      {e}");
    }
    let ceiling = if args.no_ceiling {
        None
    } else {
        Some(ceiling_child(
            &args,
            &world,
            verify_threads.unwrap_or(cores),
            args.duration.div_ceil(2).max(2),
        )?)
    };
    if let Some(c) = ceiling {
        let on = args
            .server_cpus
            .as_deref()
            .map_or(String::new(), |l| format!(" pinned to CPU(s) {l}"));
        println!(
            "  verify-only      {:.0} verifications/s on {} thread(s){on} ({:.3} ms CPU each): the ceiling without HTTP, store, token and sealing",
            c.per_s, c.threads, c.cpu_ms
        );
    }
    let figures = json!({
        "section": "load",
        "tee": world.tee(),
        "store": if postgres { "postgres" } else { "sqlite" },
        "replicas": args.replicas,
        "server_cpus": args.server_cpus,
        "cores": cores,
        "concurrency": args.concurrency,
        "seconds": args.duration,
        "round_trips": phase.round_trips,
        "rt_per_s": r3(n / wall),
        "p50_ms": r3(percentile(&phase.latencies_us, 50)),
        "p99_ms": r3(percentile(&phase.latencies_us, 99)),
        "server_cpu_ms": r3(srv / n * 1000.0),
        "generator_cpu_ms": r3(gen / n * 1000.0),
        "other_cpu_ms": r3(others / n * 1000.0),
        "rss_mib": r3(rss),
        "peak_rss_mib": r3(peak),
        "ceiling_per_s": ceiling.map(|c| r3(c.per_s)),
        "ceiling_cpu_ms": ceiling.map(|c| r3(c.cpu_ms)),
        "errors": phase.errors,
    });
    if args.json {
        println!("{figures}");
    }
    if let Some(path) = &args.out {
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|e| format!("{}: {e}", path.display()))?;
        writeln!(f, "{figures}").map_err(|e| format!("{}: {e}", path.display()))?;
    }
    Ok(())
}
