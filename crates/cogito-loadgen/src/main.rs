//! `cogito-loadgen`: plays many guests against a `cogito serve` it starts
//! on loopback, and reports what the service sustains.
//!
//! Each round trip is what a booting guest does: `POST /v1/challenge`,
//! a fresh HPKE key, evidence bound to the nonce and key (signed on the
//! spot by the testkit's FAKE platform: SEV-SNP Genoa or Intel TDX), `POST
//! /v1/attest`, and the secret opened. The report gives round trips per
//! second, the latency of a round trip (p50, p99), the server's CPU time
//! per round trip (from `/proc/<pid>/stat`), the generator's own CPU time
//! per round trip (it shares the machine's cores: signing evidence is not
//! free), and, in the same run, the verify-only ceiling: the service's
//! verification step alone on every core, with no HTTP, store or sealing.
//!
//! FAKE evidence, real service: the server verifies it exactly as it
//! verifies real evidence, trusting the testkit's roots through
//! `--trust-anchors`.

#![forbid(unsafe_code)]

use std::io::{BufRead as _, BufReader};
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
use cogito_testkit::{LiveSnp, LiveTdx};
use serde_json::{json, Value};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Tee {
    Snp,
    Tdx,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum KemArg {
    X25519,
    P256,
}

#[derive(Parser, Debug)]
#[command(about = "Load generator for cogito serve (FAKE testkit evidence on loopback)")]
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
    /// Verification threads of the server [default: one per core].
    #[arg(long)]
    verify_threads: Option<usize>,
    /// Skip the verify-only ceiling.
    #[arg(long)]
    no_ceiling: bool,
    /// Print the figures as one JSON object too.
    #[arg(long)]
    json: bool,
}

type Result<T> = std::result::Result<T, String>;

/// The FAKE platform the guests run on.
enum World {
    Snp(LiveSnp),
    Tdx(LiveTdx),
}

const MEASUREMENT: [u8; 48] = [0x5a; 48];
const SECRET: &[u8] = b"the fleet's disk key, 32 bytes!!";

impl World {
    fn evidence(&self, report_data: [u8; 64]) -> (Vec<u8>, Option<Vec<u8>>) {
        match self {
            World::Snp(l) => {
                let (r, t) = l.evidence(report_data, MEASUREMENT);
                (r, Some(t))
            }
            World::Tdx(l) => (l.quote(report_data, MEASUREMENT), None),
        }
    }

    fn tee(&self) -> &'static str {
        match self {
            World::Snp(_) => "snp",
            World::Tdx(_) => "tdx",
        }
    }
}

/// The server child, killed on drop.
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

fn start_server(bin: &Path, dir: &Path, world: &World, args: &Args) -> Result<Server> {
    let anchors = dir.join("anchors");
    std::fs::create_dir_all(&anchors).map_err(|e| e.to_string())?;
    let pems = match world {
        World::Snp(l) => l.anchors_pem(),
        World::Tdx(l) => l.anchors_pem(),
    };
    for (name, pem) in pems {
        std::fs::write(anchors.join(format!("{name}.pem")), pem).map_err(|e| e.to_string())?;
    }
    let data = dir.join("data");
    let mut cmd = Command::new(bin);
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
    .arg("--trust-anchors")
    .arg(&anchors)
    .env("COGITO_LOG", "info,sqlx=warn")
    .env_remove("COGITO_KEK")
    .stdout(Stdio::null())
    .stderr(Stdio::piped());
    if let Some(s) = &args.store {
        cmd.args(["--store", s]);
    }
    if let Some(t) = args.verify_threads {
        cmd.env("COGITO_VERIFY_THREADS", t.to_string());
    }
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("starting {}: {e}", bin.display()))?;
    let stderr = child.stderr.take().ok_or("no stderr")?;
    let (tx, rx) = std::sync::mpsc::channel();
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
            return Err(format!("cogito serve: {line}"));
        }
        Err(_) => {
            let _ = child.kill();
            return Err("cogito serve did not start in 60 s".into());
        }
    };
    Ok(Server { child, url, data })
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

/// The policy, the secret and (TDX) the collateral, through the admin API.
fn provision(agent: &ureq::Agent, server: &Server, world: &World) -> Result<()> {
    let token = std::fs::read_to_string(server.data.join("admin-token"))
        .map_err(|e| e.to_string())?
        .trim()
        .to_string();
    let hex: String = MEASUREMENT.iter().map(|b| format!("{b:02x}")).collect();
    let policy = match world {
        World::Snp(_) => format!("[policy]\nname = \"bench\"\n[snp]\nmeasurements = [\"{hex}\"]\n"),
        World::Tdx(_) => format!("[policy]\nname = \"bench\"\n[tdx]\nmrtd = [\"{hex}\"]\n"),
    };
    let u = &server.url;
    expect_2xx(
        "policy",
        send(
            agent,
            "PUT",
            &format!("{u}/v1/admin/policies/bench"),
            Some(&token),
            policy.as_bytes(),
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
    if let World::Tdx(l) = world {
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        for (name, bytes) in l.collateral_files() {
            std::fs::write(dir.path().join(name), bytes).map_err(|e| e.to_string())?;
        }
        let files = cogito_collateral::load_tdx_bundle(dir.path())
            .map_err(|e| e.to_string())?
            .ok_or("the testkit's TDX bundle is incomplete")?;
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

struct Phase {
    round_trips: u64,
    errors: u64,
    first_error: Option<String>,
    latencies_us: Vec<u32>,
}

fn run_phase(
    url: &str,
    ca: &Path,
    world: &Arc<World>,
    kem: Kem,
    concurrency: usize,
    seconds: u64,
) -> Result<Phase> {
    let stop = Arc::new(AtomicBool::new(false));
    let mut handles = Vec::new();
    for _ in 0..concurrency {
        let agent = agent(ca)?;
        let (url, world, stop) = (url.to_string(), world.clone(), stop.clone());
        handles.push(std::thread::spawn(move || {
            let mut p = Phase {
                round_trips: 0,
                errors: 0,
                first_error: None,
                latencies_us: Vec::with_capacity(1 << 16),
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
            p
        }));
    }
    std::thread::sleep(Duration::from_secs(seconds));
    stop.store(true, Ordering::Relaxed);
    let mut all = Phase {
        round_trips: 0,
        errors: 0,
        first_error: None,
        latencies_us: Vec::new(),
    };
    for h in handles {
        let p = h.join().map_err(|_| "a guest thread panicked")?;
        all.round_trips += p.round_trips;
        all.errors += p.errors;
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

/// The service's verification step alone, on every core, for `seconds`:
/// the ceiling an attestation service on this machine cannot pass.
fn ceiling(world: &World, seconds: u64) -> Result<(f64, f64, usize)> {
    let mut anchors = cogito_attest::Anchors::builtin();
    let pems = match world {
        World::Snp(l) => l.anchors_pem(),
        World::Tdx(l) => l.anchors_pem(),
    };
    for (name, pem) in pems {
        anchors
            .x509
            .add_pem_or_der(pem.as_bytes(), false, &name)
            .map_err(|e| e.to_string())?;
    }
    let verifier = Arc::new(cogito_attest::Verifier::new(anchors));
    let options = Arc::new(cogito_server::attest::service_options(false));
    let mut collateral = cogito_attest::SuppliedCollateral::default();
    if let World::Tdx(l) = world {
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        for (name, bytes) in l.collateral_files() {
            std::fs::write(dir.path().join(name), bytes).map_err(|e| e.to_string())?;
        }
        collateral.tdx = cogito_collateral::load_tdx_bundle(dir.path())
            .map_err(|e| e.to_string())?
            .map(|f| f.collateral);
    }
    // Distinct evidence, made before the clock starts.
    let items: Vec<(Vec<u8>, cogito_attest::SuppliedCollateral)> = (0..512u16)
        .map(|i| {
            let mut rd = [0u8; 64];
            rd[..2].copy_from_slice(&i.to_be_bytes());
            let (ev, table) = world.evidence(rd);
            let mut c = collateral.clone();
            c.snp_cert_table = table;
            (ev, c)
        })
        .collect();
    let items = Arc::new(items);
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
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
                    let ok = cogito_server::attest::verify_evidence(
                        &verifier,
                        &cogito_attest::NoFetch,
                        &options,
                        ev,
                        c,
                        VerificationTime::now(),
                    )
                    .is_ok();
                    if !ok {
                        return Err("the ceiling's evidence does not verify".to_string());
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
    let n = float(total);
    Ok((n / wall, cpu / n * 1000.0, threads))
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
    let bin = match &args.bin {
        Some(b) => b.clone(),
        None => std::env::current_exe()
            .map_err(|e| e.to_string())?
            .with_file_name("cogito"),
    };
    let now = VerificationTime::now().unix();
    eprintln!(
        "FAKE evidence: the testkit's {} platform signs every report; the server trusts its roots.",
        match args.tee {
            Tee::Snp => "SEV-SNP Genoa",
            Tee::Tdx => "Intel TDX",
        }
    );
    let world = Arc::new(match args.tee {
        Tee::Snp => World::Snp(LiveSnp::new(AmdProduct::Genoa, now)),
        Tee::Tdx => World::Tdx(LiveTdx::new(now)),
    });
    let kem = match args.kem {
        KemArg::X25519 => Kem::X25519,
        KemArg::P256 => Kem::P256,
    };
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let server = start_server(&bin, dir.path(), &world, &args)?;
    let ca = server.data.join("tls/cert.pem");
    provision(&agent(&ca)?, &server, &world)?;
    // A first round trip proves the set-up before any figure is taken.
    round_trip(&agent(&ca)?, &server.url, &world, kem)?;
    if args.warmup > 0 {
        run_phase(&server.url, &ca, &world, kem, args.concurrency, args.warmup)?;
    }
    let pid = server.child.id().to_string();
    let (srv0, gen0, all0) = (
        cpu_seconds(&pid)?,
        cpu_seconds("self")?,
        machine_busy_seconds()?,
    );
    let started = Instant::now();
    let phase = run_phase(
        &server.url,
        &ca,
        &world,
        kem,
        args.concurrency,
        args.duration,
    )?;
    let wall = started.elapsed().as_secs_f64();
    let (srv, gen) = (cpu_seconds(&pid)? - srv0, cpu_seconds("self")? - gen0);
    let others = (machine_busy_seconds()? - all0 - srv - gen).max(0.0);
    drop(server);
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
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
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
        "  machine          {cores} cores; {} guests at once; {:.1} s measured after {} s warm-up",
        args.concurrency, wall, args.warmup
    );
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
    if let Some(e) = &phase.first_error {
        println!("  first error      {e}");
    }
    let ceiling = if args.no_ceiling {
        None
    } else {
        Some(ceiling(&world, args.duration.div_ceil(2).max(2))?)
    };
    if let Some((per_s, cpu_ms, threads)) = ceiling {
        println!("  verify-only      {per_s:.0} verifications/s on {threads} threads ({cpu_ms:.3} ms CPU each): the ceiling without HTTP, store, token and sealing");
    }
    let figures = json!({
        "tee": world.tee(), "store": store, "cores": cores, "concurrency": args.concurrency,
        "seconds": wall, "round_trips": phase.round_trips, "errors": phase.errors,
        "round_trips_per_s": n / wall,
        "p50_ms": percentile(&phase.latencies_us, 50), "p99_ms": percentile(&phase.latencies_us, 99),
        "server_cpu_ms_per_rt": srv / n * 1000.0, "generator_cpu_ms_per_rt": gen / n * 1000.0,
        "other_cpu_ms_per_rt": others / n * 1000.0,
        "verify_only_per_s": ceiling.map(|c| c.0), "verify_only_cpu_ms": ceiling.map(|c| c.1),
    });
    if args.json {
        println!("{figures}");
    }
    Ok(())
}
