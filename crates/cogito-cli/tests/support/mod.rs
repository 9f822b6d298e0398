//! Shared by the service's end-to-end tests: start the real `cogito serve`
//! on a loopback port, play a guest (testkit evidence, an HPKE key of an
//! independent implementation), drive the admin CLI, and make a private
//! PostgreSQL database.
#![allow(dead_code)]

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use cogito_core::{AmdProduct, VerificationTime};
use cogito_protocol::{
    decode_b64, encode_b64, report_data, AttestCollateral, AttestRequest, AttestResponse, Kem,
    Problem, PublicKey, SealedSecret,
};
use cogito_testkit::{LiveCca, LiveSnp, LiveTdx};
use hpke_rs::prelude::*;
use hpke_rs_crypto::types::{AeadAlgorithm, KdfAlgorithm, KemAlgorithm};
use serde_json::Value;

pub const BIN: &str = env!("CARGO_BIN_EXE_cogito");

/// A `cogito serve` child process, killed on drop.
pub struct Served {
    child: Child,
    pub url: String,
    pub data_dir: PathBuf,
    pub log: Arc<Mutex<Vec<String>>>,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Served {
    /// Starts `cogito serve` on 127.0.0.1 (a port the kernel picks) with
    /// JSON logs, and waits for its "serving" line.
    pub fn start(data_dir: &Path, args: &[&str]) -> Served {
        Served::start_logging(data_dir, args, "info,sqlx=warn")
    }

    /// [`Served::start`] with this `COGITO_LOG` filter.
    pub fn start_logging(data_dir: &Path, args: &[&str], filter: &str) -> Served {
        std::fs::create_dir_all(data_dir).unwrap();
        let mut child = Command::new(BIN)
            .args([
                "serve",
                "--listen",
                "127.0.0.1:0",
                "--log-format",
                "json",
                "--data-dir",
            ])
            .arg(data_dir)
            .args(args)
            .env_remove("COGITO_KEK")
            .env("COGITO_LOG", filter)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start cogito serve");
        let stderr = child.stderr.take().unwrap();
        let log = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = std::sync::mpsc::channel();
        let sink = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Ok(v) = serde_json::from_str::<Value>(&line) {
                    if v["message"] == "serving" {
                        let _ = tx.send(v["url"].as_str().unwrap_or_default().to_string());
                    }
                }
                sink.lock().unwrap().push(line);
            }
        });
        let url = match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(u) => u,
            Err(_) => {
                let _ = child.kill();
                panic!(
                    "cogito serve did not start:\n{}",
                    log.lock().unwrap().join("\n")
                );
            }
        };
        Served {
            child,
            url,
            data_dir: data_dir.to_path_buf(),
            log,
        }
    }

    /// Pushes the fleet policy [`World::files`] wrote under `dir` and
    /// stores secret `name` = `value` under it.
    pub fn fleet_secret(&self, dir: &Path, name: &str, value: &[u8]) {
        let fleet = dir.join("policies/fleet.toml").display().to_string();
        self.cli_ok(&["policy", "push", &fleet]);
        let (code, _, err) = self.cli_with(
            &["secret", "put", name, "--policy", "fleet"],
            &[],
            Some(value),
        );
        assert_eq!(code, 0, "{err}");
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Its resident set size, KiB (`VmRSS` of /proc/PID/status).
    pub fn rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).unwrap();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("VmRSS")
    }

    /// `kill -9`: the process gets no chance to finish anything.
    pub fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// A client that trusts this server's self-signed certificate.
    pub fn client(&self) -> Client {
        Client::new(&self.url, &self.data_dir.join("tls/cert.pem"))
    }

    /// The first admin token the server wrote.
    pub fn admin_token(&self) -> String {
        std::fs::read_to_string(self.data_dir.join("admin-token"))
            .unwrap()
            .trim()
            .to_string()
    }

    /// Runs the admin CLI against this server: (exit code, stdout, stderr).
    pub fn cli(&self, args: &[&str]) -> (i32, String, String) {
        self.cli_with(args, &[], None)
    }

    /// The CLI with extra environment and standard input.
    pub fn cli_with(
        &self,
        args: &[&str],
        env: &[(&str, &str)],
        stdin: Option<&[u8]>,
    ) -> (i32, String, String) {
        let mut cmd = Command::new(BIN);
        cmd.args(args)
            .env("COGITO_URL", &self.url)
            .env("COGITO_DATA_DIR", &self.data_dir)
            .env_remove("COGITO_TOKEN")
            .env_remove("COGITO_CA")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().unwrap();
        let mut input = child.stdin.take().unwrap();
        if let Some(bytes) = stdin {
            input.write_all(bytes).unwrap();
        }
        drop(input);
        let out = child.wait_with_output().unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).to_string(),
            String::from_utf8_lossy(&out.stderr).to_string(),
        )
    }

    /// The CLI, which must succeed; its stdout.
    pub fn cli_ok(&self, args: &[&str]) -> String {
        let (code, out, err) = self.cli(args);
        assert_eq!(code, 0, "cogito {args:?} failed:\n{out}\n{err}");
        out
    }
}

/// An HTTP client of the service.
pub struct Client {
    pub url: String,
    agent: ureq::Agent,
}

/// An answer: status and body.
pub struct Answer {
    pub status: u16,
    pub headers: ureq::http::HeaderMap,
    pub body: Vec<u8>,
}

impl Answer {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "HTTP {} body is not JSON ({e}): {}",
                self.status,
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    /// The problem document of a refusal, checked for its content type.
    pub fn problem(&self) -> Problem {
        let ct = self
            .headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        assert!(
            ct.starts_with("application/problem+json"),
            "HTTP {}: content type {ct:?}: {}",
            self.status,
            String::from_utf8_lossy(&self.body)
        );
        serde_json::from_slice(&self.body).unwrap()
    }
}

impl Client {
    pub fn new(url: &str, ca: &Path) -> Client {
        let roots = if url.starts_with("https") {
            let pem = std::fs::read(ca).unwrap();
            let ders = cogito_core::anchors::certificates_from_pem_or_der(&pem).unwrap();
            ureq::tls::RootCerts::Specific(Arc::new(
                ders.iter()
                    .map(|d| ureq::tls::Certificate::from_der(d).to_owned())
                    .collect(),
            ))
        } else {
            ureq::tls::RootCerts::WebPki
        };
        let tls = ureq::tls::TlsConfig::builder()
            .provider(ureq::tls::TlsProvider::Rustls)
            .unversioned_rustls_crypto_provider(Arc::new(
                rustls::crypto::aws_lc_rs::default_provider(),
            ))
            .root_certs(roots)
            .build();
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(60)))
            .tls_config(tls)
            .build()
            .into();
        Client {
            url: url.to_string(),
            agent,
        }
    }

    fn answer(r: Result<ureq::http::Response<ureq::Body>, ureq::Error>) -> Answer {
        let mut r = r.unwrap();
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        let body = r
            .body_mut()
            .with_config()
            .limit(64 << 20)
            .read_to_vec()
            .unwrap();
        Answer {
            status,
            headers,
            body,
        }
    }

    pub fn get(&self, path: &str, bearer: Option<&str>) -> Answer {
        let mut req = self.agent.get(format!("{}{path}", self.url));
        if let Some(t) = bearer {
            req = req.header("authorization", format!("Bearer {t}"));
        }
        Self::answer(req.call())
    }

    pub fn post_json(&self, path: &str, body: &Value) -> Answer {
        Self::answer(
            self.agent
                .post(format!("{}{path}", self.url))
                .header("content-type", "application/json")
                .send(serde_json::to_vec(body).unwrap().as_slice()),
        )
    }

    pub fn post_bytes(&self, path: &str, body: &[u8]) -> Answer {
        Self::answer(
            self.agent
                .post(format!("{}{path}", self.url))
                .header("content-type", "application/json")
                .send(body),
        )
    }

    /// A JSON request with these extra headers and, when given, a bearer
    /// token.
    fn request(
        &self,
        method: &str,
        path: &str,
        bearer: Option<&str>,
        headers: &[(&str, &str)],
        body: Option<&[u8]>,
    ) -> ureq::http::Request<Vec<u8>> {
        let mut req = ureq::http::Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.url))
            .header("content-type", "application/json");
        if let Some(t) = bearer {
            req = req.header("authorization", format!("Bearer {t}"));
        }
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        req.body(body.unwrap_or_default().to_vec()).unwrap()
    }

    pub fn send(
        &self,
        method: &str,
        path: &str,
        bearer: Option<&str>,
        body: Option<&[u8]>,
    ) -> Answer {
        Self::answer(
            self.agent
                .run(self.request(method, path, bearer, &[], body)),
        )
    }

    /// A request with these extra headers.
    pub fn send_with(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&[u8]>,
    ) -> Answer {
        Self::answer(
            self.agent
                .run(self.request(method, path, None, headers, body)),
        )
    }

    /// [`Client::send`], `None` when the connection fails (a server being
    /// killed under the request).
    pub fn try_send(
        &self,
        method: &str,
        path: &str,
        bearer: Option<&str>,
        body: Option<&[u8]>,
    ) -> Option<Answer> {
        let req = self.request(method, path, bearer, &[], body);
        let mut r = self.agent.run(req).ok()?;
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        let body = r.body_mut().read_to_vec().ok()?;
        Some(Answer {
            status,
            headers,
            body,
        })
    }

    /// `POST /v1/challenge`: the nonce, decoded.
    pub fn challenge(&self, tee: &str) -> Vec<u8> {
        let a = self.post_json("/v1/challenge", &serde_json::json!({ "tee": tee }));
        assert_eq!(a.status, 200, "{}", String::from_utf8_lossy(&a.body));
        decode_b64(a.json()["nonce"].as_str().unwrap()).unwrap()
    }

    /// `POST /v1/attest`.
    pub fn attest(&self, req: &AttestRequest) -> Answer {
        self.post_json("/v1/attest", &serde_json::to_value(req).unwrap())
    }
}

/// A guest's ephemeral HPKE key, made and used by Cryspen's hpke-rs: an
/// implementation the service does not use.
pub struct GuestKey {
    pub kem: Kem,
    pub public: Vec<u8>,
    secret: HpkePrivateKey,
}

fn suite(kem: Kem) -> Hpke<hpke_rs_rust_crypto::HpkeRustCrypto> {
    let alg = match kem {
        Kem::X25519 => KemAlgorithm::DhKem25519,
        Kem::P256 => KemAlgorithm::DhKemP256,
    };
    Hpke::new(
        HpkeMode::Base,
        alg,
        KdfAlgorithm::HkdfSha256,
        AeadAlgorithm::Aes256Gcm,
    )
}

impl GuestKey {
    pub fn new(kem: Kem) -> GuestKey {
        let (secret, public) = suite(kem).generate_key_pair().unwrap().into_keys();
        GuestKey {
            kem,
            public: public.as_slice().to_vec(),
            secret,
        }
    }

    pub fn public_key(&self) -> PublicKey {
        PublicKey {
            kem: self.kem,
            key: encode_b64(&self.public),
        }
    }

    /// RFC 9180 base-mode open with the protocol's info and the name as
    /// associated data.
    pub fn open(&self, sealed: &SealedSecret) -> Option<Vec<u8>> {
        suite(self.kem)
            .open(
                &decode_b64(&sealed.enc)?,
                &self.secret,
                cogito_protocol::HPKE_INFO,
                sealed.name.as_bytes(),
                &decode_b64(&sealed.ciphertext)?,
                None,
                None,
                None,
            )
            .ok()
    }

    pub fn report_data(&self, nonce: &[u8]) -> [u8; 64] {
        report_data(nonce, self.kem, &self.public).unwrap()
    }
}

/// An attest request.
pub fn request(
    nonce: &[u8],
    evidence: &[u8],
    key: &GuestKey,
    cert_table: Option<&[u8]>,
    secrets: &[&str],
) -> AttestRequest {
    AttestRequest {
        nonce: encode_b64(nonce),
        evidence: encode_b64(evidence),
        public_key: key.public_key(),
        collateral: cert_table.map(|t| AttestCollateral {
            cert_table: Some(encode_b64(t)),
            event_log: None,
        }),
        secrets: secrets.iter().map(|s| s.to_string()).collect(),
    }
}

/// The accepted answer, parsed.
pub fn accepted(a: &Answer) -> AttestResponse {
    assert_eq!(
        a.status,
        200,
        "attest refused: {}",
        String::from_utf8_lossy(&a.body)
    );
    serde_json::from_slice(&a.body).unwrap()
}

/// Asserts a refusal's status and code.
pub fn refused(a: &Answer, status: u16, code: &str) -> Problem {
    let p = a.problem();
    assert_eq!(
        (a.status, p.code.as_str()),
        (status, code),
        "{}",
        String::from_utf8_lossy(&a.body)
    );
    assert_eq!(p.status, status);
    p
}

/// Under CI=true a test that needs something must not skip.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

/// A database of its own on the shared PostgreSQL, dropped on drop.
pub struct PgDb {
    pub url: String,
    name: String,
}

const PG_ADMIN: &str = "postgres://postgres@127.0.0.1:5432/test";

fn pg_exec(sql: &str) -> Result<(), String> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        use sqlx::Connection as _;
        let mut c = sqlx::PgConnection::connect(PG_ADMIN)
            .await
            .map_err(|e| e.to_string())?;
        sqlx::query(sqlx::AssertSqlSafe(sql.to_string()))
            .execute(&mut c)
            .await
            .map_err(|e| e.to_string())?;
        Ok(())
    })
}

impl PgDb {
    /// `None` (with a notice) when PostgreSQL is unreachable outside CI.
    pub fn create(tag: &str) -> Option<PgDb> {
        static N: AtomicUsize = AtomicUsize::new(0);
        let name = format!(
            "cogito_{tag}_{}_{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        );
        match pg_exec(&format!("CREATE DATABASE {name}")) {
            Ok(()) => Some(PgDb {
                url: format!("postgres://postgres@127.0.0.1:5432/{name}"),
                name,
            }),
            Err(e) if in_ci() => panic!("CI=true and PostgreSQL is unreachable: {e}"),
            Err(e) => {
                eprintln!("NOTICE: skipping a PostgreSQL test, {PG_ADMIN} is unreachable: {e}");
                None
            }
        }
    }
}

impl Drop for PgDb {
    fn drop(&mut self) {
        let _ = pg_exec(&format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            self.name
        ));
    }
}

/// A mock AMD KDS on loopback that serves one VCEK and counts requests.
pub struct MockKds {
    pub url: String,
    /// VCEKs served.
    pub vcek_requests: Arc<AtomicUsize>,
    /// Every request, whatever the answer.
    pub requests: Arc<AtomicUsize>,
    /// What it answers: [`MockKds::UP`], [`MockKds::DOWN`] (503) or
    /// [`MockKds::BUSY`] (429).
    pub mode: Arc<AtomicUsize>,
}

impl MockKds {
    pub const UP: usize = 0;
    pub const DOWN: usize = 1;
    pub const BUSY: usize = 2;

    /// Serves `vcek` for any chip.
    pub fn start(vcek: Vec<u8>) -> MockKds {
        Self::start_for(vcek, None)
    }

    /// Serves `vcek` for the chip whose hex id is `chip` (404 for others,
    /// as AMD's KDS answers for a chip it does not know), or any chip.
    /// 503 and 429 answers carry `Retry-After: 0`, so that the service's
    /// client retries at once and a test does not wait out its backoff.
    pub fn start_for(vcek: Vec<u8>, chip: Option<String>) -> MockKds {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let count = Arc::new(AtomicUsize::new(0));
        let requests = Arc::new(AtomicUsize::new(0));
        let mode = Arc::new(AtomicUsize::new(Self::UP));
        let (c, r, m) = (count.clone(), requests.clone(), mode.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut s) = stream else { continue };
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                let started = Instant::now();
                while !buf.windows(4).any(|w| w == b"\r\n\r\n")
                    && started.elapsed() < Duration::from_secs(5)
                {
                    match s.read(&mut chunk) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => buf.extend_from_slice(&chunk[..n]),
                    }
                }
                r.fetch_add(1, Ordering::SeqCst);
                let head = String::from_utf8_lossy(&buf).to_string();
                let path = head
                    .split_whitespace()
                    .nth(1)
                    .unwrap_or_default()
                    .to_string();
                let known = chip.as_ref().is_none_or(|c| path.contains(c.as_str()));
                let (status, body) = match m.load(Ordering::SeqCst) {
                    Self::DOWN => ("503 Service Unavailable", Vec::new()),
                    Self::BUSY => ("429 Too Many Requests", Vec::new()),
                    _ if path.starts_with("/vcek/v1/") && path.contains("blSPL=") && known => {
                        c.fetch_add(1, Ordering::SeqCst);
                        ("200 OK", vcek.clone())
                    }
                    _ => ("404 Not Found", Vec::new()),
                };
                let _ = write!(
                    s,
                    "HTTP/1.1 {status}\r\ncontent-type: application/octet-stream\r\ncontent-length: {}\r\nretry-after: 0\r\nconnection: close\r\n\r\n",
                    body.len()
                );
                let _ = s.write_all(&body);
            }
        });
        MockKds {
            url,
            vcek_requests: count,
            requests,
            mode,
        }
    }
}

pub fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// The FAKE platforms of one test run, and the files the server needs to
/// trust them.
pub struct World {
    pub snp: LiveSnp,
    pub tdx: LiveTdx,
    pub cca: LiveCca,
}

impl World {
    pub fn new() -> World {
        let now = VerificationTime::now().unix();
        World {
            snp: LiveSnp::new(AmdProduct::Genoa, now),
            tdx: LiveTdx::new(now),
            cca: LiveCca::new(),
        }
    }

    /// Writes the anchors, the CPAK, the TDX collateral bundle and the
    /// policies under `dir`; returns the serve flags that trust them.
    pub fn files(&self, dir: &Path) -> Vec<String> {
        let anchors = dir.join("anchors");
        std::fs::create_dir_all(&anchors).unwrap();
        for (name, pem) in self
            .snp
            .anchors_pem()
            .into_iter()
            .chain(self.tdx.anchors_pem())
        {
            std::fs::write(anchors.join(format!("{name}.pem")), pem).unwrap();
        }
        std::fs::write(dir.join("cpak.jwk"), self.cca.cpak_jwk()).unwrap();
        let bundle = dir.join("tdx-bundle");
        std::fs::create_dir_all(&bundle).unwrap();
        for (name, bytes) in self.tdx.collateral_files() {
            std::fs::write(bundle.join(name), bytes).unwrap();
        }
        let policies = dir.join("policies");
        std::fs::create_dir_all(&policies).unwrap();
        std::fs::create_dir_all(policies.join("refvalues")).unwrap();
        std::fs::write(
            policies.join("refvalues/measurements.toml"),
            format!(
                "note = \"the fleet's images\"\n[snp]\nmeasurements = [\"{}\"]\n[tdx]\nmrtd = [\"{}\"]\n[cca]\nrim = [\"{}\"]\n",
                hex(&LiveSnp::measurement_default()),
                hex(&LiveTdx::mrtd_default()),
                hex(&LiveCca::rim_default())
            ),
        )
        .unwrap();
        std::fs::write(
            policies.join("fleet.toml"),
            "[policy]\nname = \"fleet\"\ninclude = [\"refvalues/measurements.toml\"]\n[snp]\n[tdx]\n[cca]\n",
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
        vec![
            "--offline".into(),
            "--trust-anchors".into(),
            anchors.display().to_string(),
            "--cca-trust-anchors".into(),
            dir.join("cpak.jwk").display().to_string(),
            "--rate-limit".into(),
            "0".into(),
        ]
    }

    /// [`World::files`] for a server that fetches collateral online from a
    /// (mock) KDS at `kds_url`, without AMD's CRL (a mock serves none):
    /// `--offline` dropped, a configuration file written and named.
    pub fn online_files(&self, dir: &Path, kds_url: &str) -> Vec<String> {
        let mut files: Vec<String> = self
            .files(dir)
            .into_iter()
            .filter(|a| a != "--offline")
            .collect();
        let config = dir.join("cogito.toml");
        std::fs::write(
            &config,
            format!("[collateral]\nonline = true\nsnp_crl = false\nkds_url = \"{kds_url}\"\n"),
        )
        .unwrap();
        files.extend(["--config".to_string(), config.display().to_string()]);
        files
    }

    /// Evidence for `tee` bound to (nonce, key), with the launch
    /// measurement given (or the one the policy expects).
    pub fn evidence(
        &self,
        tee: &str,
        nonce: &[u8],
        key: &GuestKey,
        measurement: Option<[u8; 48]>,
    ) -> (Vec<u8>, Option<Vec<u8>>) {
        let rd = key.report_data(nonce);
        match tee {
            "snp" => {
                let (report, table) = self
                    .snp
                    .evidence(rd, measurement.unwrap_or(LiveSnp::measurement_default()));
                (report, Some(table))
            }
            "tdx" => (
                self.tdx
                    .quote(rd, measurement.unwrap_or(LiveTdx::mrtd_default())),
                None,
            ),
            "cca" => (
                self.cca
                    .token(rd, measurement.unwrap_or(LiveCca::rim_default())),
                None,
            ),
            other => panic!("{other}"),
        }
    }
}
