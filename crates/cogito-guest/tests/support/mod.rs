//! The guest's test harness:
//!
//! - [`FakeTsm`]: a directory that plays the kernel's part of
//!   configfs-tsm for the real `TsmAttester` code: when the guest makes a
//!   report directory, it fills it with the attributes (`inblob`, `outblob`
//!   and `auxblob` as FIFOs, so that the guest's write and reads meet this
//!   thread as they would meet the kernel), answers the `inblob` write with
//!   testkit evidence, bumps `generation`, and can misbehave;
//! - [`Service`]: the real `cogito serve` code (`cogito_server::start`, the
//!   function the binary runs) on a loopback port, trusting the testkit's
//!   FAKE roots, with a policy directory and secrets put through the admin
//!   API.
#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::as_conversions
)]

use std::collections::HashSet;
use std::io::{Read as _, Write as _};
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use cogito_core::{AmdProduct, VerificationTime};
use cogito_testkit::{LiveCca, LiveSnp, LiveTdx};

pub const GUEST: &str = env!("CARGO_BIN_EXE_cogito-guest");

/// How the fake kernel misbehaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Misbehave {
    /// Not at all.
    None,
    /// `outblob` is cut to 100 bytes.
    ShortBlob,
    /// Another writer bumps `generation` in this many requests.
    RacingWriter(usize),
    /// The report directory never gets a `provider`.
    NoProvider,
}

pub type Maker = Arc<dyn Fn(&[u8; 64]) -> (Vec<u8>, Option<Vec<u8>>) + Send + Sync>;

/// The fake configfs-tsm.
pub struct FakeTsm {
    pub root: PathBuf,
    /// `inblob` writes answered.
    pub requests: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for FakeTsm {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn mkfifo(path: &Path) {
    let ok = std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .unwrap()
        .success();
    assert!(ok, "mkfifo {}", path.display());
}

/// Writes a whole file by renaming a finished one into place, so that the
/// guest never reads it half written.
fn put(dir: &Path, name: &str, bytes: &[u8]) {
    let tmp = dir.join(format!(".{name}.new"));
    std::fs::write(&tmp, bytes).unwrap();
    std::fs::rename(&tmp, dir.join(name)).unwrap();
}

/// Opens a FIFO without blocking on a partner that never comes: for
/// reading, polls until data arrived and the writer closed; for writing,
/// until a reader opened it. `None` after `patience`.
fn read_fifo(path: &Path, patience: Duration, stop: &AtomicBool) -> Option<Vec<u8>> {
    let mut f = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
        .ok()?;
    let deadline = Instant::now() + patience;
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match f.read(&mut buf) {
            Ok(0) if !out.is_empty() => return Some(out),
            Ok(0) => {}
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(_) => return None,
        }
        if Instant::now() > deadline || stop.load(Ordering::SeqCst) {
            return None;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}

fn write_fifo(path: &Path, bytes: &[u8], patience: Duration, stop: &AtomicBool) -> bool {
    let deadline = Instant::now() + patience;
    loop {
        match std::fs::OpenOptions::new()
            .write(true)
            .custom_flags(libc::O_NONBLOCK)
            .open(path)
        {
            Ok(mut f) => return write_all_nonblocking(&mut f, bytes),
            Err(e) if e.raw_os_error() == Some(libc::ENXIO) => {}
            Err(_) => return false,
        }
        if Instant::now() > deadline || stop.load(Ordering::SeqCst) {
            return false;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}

fn write_all_nonblocking(f: &mut std::fs::File, bytes: &[u8]) -> bool {
    // A non-blocking write to a pipe may take part of a large blob;
    // write what it takes and wait for the rest.
    let mut rest = bytes;
    let deadline = Instant::now() + Duration::from_secs(10);
    while !rest.is_empty() {
        match f.write(rest) {
            Ok(n) => rest = &rest[n..],
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                std::thread::sleep(Duration::from_millis(1))
            }
            Err(_) => return false,
        }
        if Instant::now() > deadline {
            return false;
        }
    }
    true
}

impl FakeTsm {
    /// A fake configfs-tsm under `root` whose provider is `provider`;
    /// `make` answers each report request.
    pub fn start(root: &Path, provider: &str, make: Maker, misbehave: Misbehave) -> FakeTsm {
        let report = root.join("report");
        std::fs::create_dir_all(&report).unwrap();
        let requests = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let racing_left = Arc::new(Mutex::new(match misbehave {
            Misbehave::RacingWriter(n) => n,
            _ => 0,
        }));
        let (rq, st, provider) = (requests.clone(), stop.clone(), provider.to_string());
        let thread = std::thread::spawn(move || {
            let mut seen = HashSet::new();
            let mut handlers = Vec::new();
            while !st.load(Ordering::SeqCst) {
                for entry in std::fs::read_dir(&report).unwrap().flatten() {
                    let dir = entry.path();
                    if !seen.insert(dir.clone()) {
                        continue;
                    }
                    let (rq, st, make, provider, racing_left) = (
                        rq.clone(),
                        st.clone(),
                        make.clone(),
                        provider.clone(),
                        racing_left.clone(),
                    );
                    handlers.push(std::thread::spawn(move || {
                        serve_one(&dir, &provider, &make, misbehave, &racing_left, &rq, &st)
                    }));
                }
                std::thread::sleep(Duration::from_millis(1));
            }
            for h in handlers {
                let _ = h.join();
            }
        });
        FakeTsm {
            root: root.to_path_buf(),
            requests,
            stop,
            thread: Some(thread),
        }
    }

    /// Report directories still there (a real configfs removes one with
    /// `rmdir`; here this fake removes each once it is done with it).
    pub fn leftover(&self) -> usize {
        std::fs::read_dir(self.root.join("report")).unwrap().count()
    }
}

fn serve_one(
    dir: &Path,
    provider: &str,
    make: &Maker,
    misbehave: Misbehave,
    racing_left: &Mutex<usize>,
    requests: &AtomicUsize,
    stop: &AtomicBool,
) {
    // The attributes, `provider` last: the guest waits for it.
    put(dir, "generation", b"0\n");
    put(dir, "privlevel_floor", b"0\n");
    std::fs::write(dir.join("privlevel"), b"").unwrap();
    for fifo in ["inblob", "outblob", "auxblob"] {
        if fifo == "auxblob" && provider != "sev_guest" {
            continue;
        }
        mkfifo(&dir.join(fifo));
    }
    if misbehave != Misbehave::NoProvider {
        put(dir, "provider", format!("{provider}\n").as_bytes());
    }
    // A directory made only to read `provider` gets no inblob.
    if let Some(inblob) = read_fifo(&dir.join("inblob"), Duration::from_secs(3), stop) {
        requests.fetch_add(1, Ordering::SeqCst);
        let rd: [u8; 64] = inblob
            .as_slice()
            .try_into()
            .expect("64 bytes of report data");
        let (mut out, aux) = make(&rd);
        if misbehave == Misbehave::ShortBlob {
            out.truncate(100);
        }
        let privlevel_written = !std::fs::read(dir.join("privlevel")).unwrap().is_empty();
        let mut generation = 1 + u64::from(privlevel_written);
        {
            let mut left = racing_left.lock().unwrap();
            if *left > 0 {
                *left -= 1;
                generation += 1;
            }
        }
        put(dir, "generation", format!("{generation}\n").as_bytes());
        let patience = Duration::from_secs(10);
        if write_fifo(&dir.join("outblob"), &out, patience, stop) && provider == "sev_guest" {
            write_fifo(
                &dir.join("auxblob"),
                &aux.unwrap_or_default(),
                patience,
                stop,
            );
        }
        // Give the guest its last read of `generation`.
        std::thread::sleep(Duration::from_millis(300));
    }
    let _ = std::fs::remove_dir_all(dir);
}

/// The FAKE platforms of a test.
pub struct World {
    pub snp: LiveSnp,
    pub tdx: LiveTdx,
    pub cca: LiveCca,
}

impl World {
    pub fn new() -> Arc<World> {
        let now = VerificationTime::now().unix();
        Arc::new(World {
            snp: LiveSnp::new(AmdProduct::Genoa, now),
            tdx: LiveTdx::new(now),
            cca: LiveCca::new(),
        })
    }

    /// What the fake kernel answers for `provider`, with the launch
    /// measurement the fleet policy expects.
    pub fn maker(self: &Arc<World>, provider: &str) -> Maker {
        let w = self.clone();
        match provider {
            "sev_guest" => Arc::new(move |rd| {
                let (r, t) = w.snp.evidence(*rd, LiveSnp::measurement_default());
                (r, Some(t))
            }),
            "tdx_guest" => Arc::new(move |rd| (w.tdx.quote(*rd, LiveTdx::mrtd_default()), None)),
            "arm_cca_guest" => Arc::new(move |rd| (w.cca.token(*rd, LiveCca::rim_default()), None)),
            other => panic!("{other}"),
        }
    }
}

pub fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// The real service on a loopback port.
pub struct Service {
    pub url: String,
    pub fingerprint: String,
    pub cert_pem: PathBuf,
    pub admin_token: String,
    server: Option<cogito_server::Server>,
    rt: tokio::runtime::Runtime,
}

impl Drop for Service {
    fn drop(&mut self) {
        if let Some(s) = self.server.take() {
            let _ = self.rt.block_on(s.shutdown(Duration::from_secs(1)));
        }
    }
}

impl Service {
    /// Starts the service in `dir`, trusting the testkit's FAKE roots when
    /// `trust_testkit`, else only the vendors' built-in roots.
    pub fn start(world: &World, dir: &Path, trust_testkit: bool) -> Service {
        let anchors = dir.join("anchors");
        std::fs::create_dir_all(&anchors).unwrap();
        for (name, pem) in world
            .snp
            .anchors_pem()
            .into_iter()
            .chain(world.tdx.anchors_pem())
        {
            std::fs::write(anchors.join(name), pem).unwrap();
        }
        std::fs::write(dir.join("cpak.jwk"), world.cca.cpak_jwk()).unwrap();
        let policies = dir.join("policies");
        std::fs::create_dir_all(&policies).unwrap();
        std::fs::write(
            policies.join("fleet.toml"),
            format!(
                "[policy]\nname = \"fleet\"\n[snp]\nmeasurements = [\"{}\"]\n[tdx]\nmrtd = [\"{}\"]\n[cca]\nrim = [\"{}\"]\n",
                hex(&LiveSnp::measurement_default()),
                hex(&LiveTdx::mrtd_default()),
                hex(&LiveCca::rim_default())
            ),
        )
        .unwrap();
        // Accepts no SEV-SNP guest: its one allowed measurement is zeros.
        std::fs::write(
            policies.join("nobody.toml"),
            format!(
                "[policy]\nname = \"nobody\"\n[snp]\nmeasurements = [\"{}\"]\n",
                "00".repeat(48)
            ),
        )
        .unwrap();
        let mut config = cogito_server::config::Config {
            listen: "127.0.0.1:0".parse().unwrap(),
            data_dir: dir.join("data"),
            policy_dir: Some(policies),
            ..Default::default()
        };
        config.collateral.online = false;
        config.limits.rate_per_second = 0;
        if trust_testkit {
            config.anchors.dir = Some(anchors);
            config.anchors.cca = Some(dir.join("cpak.jwk"));
        }
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let server = rt
            .block_on(cogito_server::start(config, &|_line| {}))
            .expect("the service starts");
        let data = dir.join("data");
        let s = Service {
            url: server.url(),
            fingerprint: server.fingerprint.clone().expect("TLS"),
            cert_pem: data.join("tls/cert.pem"),
            admin_token: std::fs::read_to_string(data.join("admin-token"))
                .unwrap()
                .trim()
                .to_string(),
            server: Some(server),
            rt,
        };
        // TDX collateral for the testkit's platform, as an operator
        // imports an offline bundle.
        let bundle = dir.join("tdx-bundle");
        std::fs::create_dir_all(&bundle).unwrap();
        for (name, bytes) in world.tdx.collateral_files() {
            std::fs::write(bundle.join(name), bytes).unwrap();
        }
        let files = cogito_collateral::load_tdx_bundle(&bundle)
            .unwrap()
            .unwrap();
        let tdx = cogito_server::collateral::StoredTdx::new(&files.collateral);
        s.admin(
            "PUT",
            "/v1/admin/collateral",
            &serde_json::json!({ "tdx": tdx }),
        );
        s
    }

    /// An admin API call; panics unless it succeeds.
    pub fn admin(&self, method: &str, path: &str, body: &serde_json::Value) -> serde_json::Value {
        let pem = std::fs::read(&self.cert_pem).unwrap();
        let certs: Vec<_> = rustls_pki_types::pem::PemObject::pem_slice_iter(&pem)
            .map(|c: Result<rustls_pki_types::CertificateDer<'static>, _>| {
                ureq::tls::Certificate::from_der(c.unwrap().as_ref()).to_owned()
            })
            .collect();
        let tls = ureq::tls::TlsConfig::builder()
            .provider(ureq::tls::TlsProvider::Rustls)
            .unversioned_rustls_crypto_provider(Arc::new(
                rustls::crypto::aws_lc_rs::default_provider(),
            ))
            .root_certs(ureq::tls::RootCerts::Specific(Arc::new(certs)))
            .build();
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .tls_config(tls)
            .build()
            .into();
        let req = ureq::http::Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.url))
            .header("authorization", format!("Bearer {}", self.admin_token))
            .header("content-type", "application/json")
            .body(serde_json::to_vec(body).unwrap())
            .unwrap();
        let mut resp = agent.run(req).unwrap();
        let status = resp.status().as_u16();
        let text = resp.body_mut().read_to_string().unwrap();
        assert!(
            (200..300).contains(&status),
            "{method} {path}: {status} {text}"
        );
        serde_json::from_str(&text).unwrap_or(serde_json::Value::Null)
    }

    /// Stores a secret under a policy.
    pub fn put_secret(&self, name: &str, policy: &str, value: &[u8]) {
        use base64::Engine as _;
        self.admin(
            "PUT",
            &format!("/v1/admin/secrets/{name}"),
            &serde_json::json!({
                "policy": policy,
                "value": base64::engine::general_purpose::STANDARD.encode(value),
            }),
        );
    }
}

/// Runs the guest binary: (exit code, stdout bytes, stderr text).
pub fn run_guest(args: &[&str]) -> (i32, Vec<u8>, String) {
    let out = std::process::Command::new(GUEST)
        .args(args)
        .env_remove("COGITO_SERVER")
        .env_remove("COGITO_SECRET")
        .env_remove("COGITO_CA")
        .env_remove("COGITO_FINGERPRINT")
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        out.stdout,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}
