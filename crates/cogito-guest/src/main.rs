//! `cogito-guest`: the boot-time client. A thin layer over the library:
//! flags, progress lines on stderr, the output file, exit codes.
//!
//! Exit codes (docs/guest.md):
//!
//! | code | meaning |
//! |------|---------|
//! | 0 | done |
//! | 2 | usage: bad or missing flags |
//! | 3 | no TEE found, or the TEE did not produce evidence |
//! | 4 | the server could not be reached, its TLS certificate is not the pinned one, or 429/503 persisted through the retries |
//! | 5 | refused by the server (policy, evidence, unknown secret): final |
//! | 6 | the server's answer failed the guest's checks (token, unsealing) |
//! | 7 | the secret could not be written |
#![forbid(unsafe_code)]

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};
use cogito_guest::client::Step;
use cogito_guest::retry::Backoff;
use cogito_guest::{detect, Client, Detection, EvidenceError, FetchError, Paths, Tee, Tls};
use cogito_protocol::Kem;

const USAGE: u8 = 2;
const NO_TEE: u8 = 3;
const UNREACHABLE: u8 = 4;
const REFUSED: u8 = 5;
const BAD_ANSWER: u8 = 6;
const OUTPUT: u8 = 7;

#[derive(Parser)]
#[command(
    name = "cogito-guest",
    version,
    about = "Get this confidential VM's secrets from cogito serve: collect TEE evidence, attest, unseal",
    after_help = "Exit codes: 0 done, 2 usage, 3 no TEE or no evidence, 4 server unreachable or TLS pin mismatch, 5 refused by the server, 6 the server's answer failed verification, 7 the secret could not be written."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Attest to the server and write one secret it grants.
    Fetch(FetchArgs),
    /// Write raw evidence (and the SEV-SNP certificate table) for offline `cogito verify`.
    Evidence(EvidenceArgs),
    /// Say which TEE and interface this machine has, and why the others were not used.
    Detect(TeeArgs),
}

#[derive(Clone, Copy, ValueEnum)]
enum TeeArg {
    Snp,
    Tdx,
    Cca,
}

impl From<TeeArg> for Tee {
    fn from(t: TeeArg) -> Tee {
        match t {
            TeeArg::Snp => Tee::Snp,
            TeeArg::Tdx => Tee::Tdx,
            TeeArg::Cca => Tee::Cca,
        }
    }
}

#[derive(Clone, Copy, ValueEnum)]
enum KemArg {
    X25519,
    P256,
}

#[derive(Args)]
struct TeeArgs {
    /// Use only this platform's TEE.
    #[arg(long, value_enum)]
    tee: Option<TeeArg>,
    /// The configfs-tsm root.
    #[arg(long, value_name = "DIR", default_value = cogito_guest::tsm::DEFAULT_ROOT)]
    tsm_root: PathBuf,
    /// The SEV-SNP guest device (kernels without configfs-tsm).
    #[arg(long, value_name = "PATH", default_value = cogito_guest::sev_device::DEFAULT_DEVICE)]
    sev_device: PathBuf,
    /// The TDX guest device (kernels without configfs-tsm).
    #[arg(long, value_name = "PATH", default_value = cogito_guest::tdx_device::DEFAULT_DEVICE)]
    tdx_device: PathBuf,
    /// TDX: the CC event log sent with the quote, when readable.
    #[arg(
        long,
        value_name = "PATH",
        default_value = "/sys/firmware/acpi/tables/data/CCEL"
    )]
    event_log: PathBuf,
    /// SEV-SNP: the VMPL to ask for (configfs-tsm privlevel; not below privlevel_floor).
    #[arg(long, value_name = "N")]
    vmpl: Option<u32>,
    /// TDX with /dev/tdx_guest: the vsock port of the host's Quote Generation Service.
    #[arg(long, value_name = "PORT", default_value_t = cogito_guest::qgs::DEFAULT_PORT)]
    qgs_port: u32,
    /// INSECURE, tests and demos only: FAKE evidence from cogito-testkit's keys,
    /// which no server trusting AMD, Intel or Arm accepts.
    #[cfg(feature = "insecure-simulated-tee")]
    #[arg(long, value_enum, value_name = "TEE")]
    insecure_simulated_tee: Option<TeeArg>,
}

#[derive(Args)]
struct FetchArgs {
    /// The server, https://host:port.
    #[arg(long, env = "COGITO_SERVER", value_name = "URL")]
    server: String,
    /// The secret to get.
    #[arg(long, env = "COGITO_SECRET", value_name = "NAME")]
    secret: String,
    /// Write the secret to this file (atomically, mode 0600).
    #[arg(
        long,
        value_name = "FILE",
        conflicts_with = "stdout",
        required_unless_present = "stdout"
    )]
    out: Option<PathBuf>,
    /// Write the secret's bytes to standard output, and nothing else.
    #[arg(long)]
    stdout: bool,
    /// Pin the server by this CA certificate (PEM or DER).
    #[arg(
        long,
        env = "COGITO_CA",
        value_name = "FILE",
        conflicts_with = "fingerprint"
    )]
    ca: Option<PathBuf>,
    /// Pin the server by its certificate's SHA-256 fingerprint (hex, as cogito serve prints it).
    #[arg(long, env = "COGITO_FINGERPRINT", value_name = "HEX")]
    fingerprint: Option<String>,
    /// The KEM of the ephemeral key the secret is sealed to.
    #[arg(long, value_enum, default_value = "x25519")]
    kem: KemArg,
    /// Attempts per request for transient failures (connection errors, 429, 503).
    #[arg(long, value_name = "N", default_value_t = 6)]
    attempts: u32,
    /// Seconds one request may take.
    #[arg(long, value_name = "SECS", default_value_t = 30)]
    timeout: u64,
    /// No progress lines.
    #[arg(long)]
    quiet: bool,
    #[command(flatten)]
    tee: TeeArgs,
}

#[derive(Args)]
struct EvidenceArgs {
    /// The report data: up to 64 bytes as hex, zero-padded (default: 64 zero bytes).
    #[arg(long, value_name = "HEX")]
    report_data: Option<String>,
    /// Write the evidence here (the certificate table to FILE.certs, the event log to
    /// FILE.eventlog); default: the evidence to standard output.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    #[command(flatten)]
    tee: TeeArgs,
}

/// A failure with its exit code.
struct Failure(u8, String);

fn say(line: &str) {
    let _ = writeln!(std::io::stderr(), "cogito-guest: {line}");
}

fn step_number(step: Step) -> u8 {
    match step {
        Step::Detect => 1,
        Step::Challenge => 2,
        Step::Evidence => 3,
        Step::Attest => 4,
        Step::Token => 5,
        Step::Unseal | Step::Secret => 6,
    }
}

fn paths(t: &TeeArgs) -> Paths {
    Paths {
        tsm_root: t.tsm_root.clone(),
        sev_device: t.sev_device.clone(),
        tdx_device: t.tdx_device.clone(),
        event_log: Some(t.event_log.clone()),
        vmpl: t.vmpl,
        qgs_port: t.qgs_port,
    }
}

/// The attester, with the lines that say what was found.
fn attester(t: &TeeArgs) -> Result<Detection, EvidenceError> {
    #[cfg(feature = "insecure-simulated-tee")]
    if let Some(sim) = t.insecure_simulated_tee {
        say("WARNING: --insecure-simulated-tee: the evidence is FAKE, made with cogito-testkit's keys; only a server that trusts the testkit's roots accepts it");
        let a = cogito_guest::simulated::SimulatedAttester::new(sim.into());
        return Ok(Detection {
            attester: Box::new(a),
            report: vec![("simulated".into(), "used (INSECURE)".into())],
        });
    }
    detect(&paths(t), t.tee.map(Tee::from))
}

fn evidence_failure(e: EvidenceError) -> Failure {
    Failure(NO_TEE, e.to_string())
}

fn fetch_failure(e: FetchError) -> Failure {
    let code = match &e {
        FetchError::Settings(_) => USAGE,
        FetchError::Evidence { .. } => NO_TEE,
        FetchError::Unreachable { .. } | FetchError::Tls { .. } => UNREACHABLE,
        FetchError::Refused { .. } => REFUSED,
        FetchError::BadAnswer { .. } => BAD_ANSWER,
    };
    Failure(code, e.to_string())
}

/// Writes `bytes` to `path` atomically with mode 0600: a new temporary
/// file in the same folder, synced, renamed over `path`; the folder
/// synced. Nothing is left behind on failure.
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt as _;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::InvalidInput, "not a file name"))?;
    let mut random = [0u8; 6];
    aws_lc_rs::rand::fill(&mut random).map_err(|_| std::io::Error::other("no random bytes"))?;
    let tmp = dir.join(format!(
        ".{}.{}.tmp",
        name.to_string_lossy(),
        hex::encode(random)
    ));
    let result = (|| {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        drop(f);
        std::fs::rename(&tmp, path)?;
        std::fs::File::open(&dir)?.sync_all()
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

fn fetch(a: FetchArgs) -> Result<(), Failure> {
    let progress = !a.quiet;
    // The TEE first: a guest without one has nothing to ask for.
    let Detection {
        attester,
        report: found,
    } = attester(&a.tee).map_err(evidence_failure)?;
    if progress {
        let used = found
            .iter()
            .find(|(_, why)| why.starts_with("used"))
            .map(|(name, why)| format!("{name}: {why}"))
            .unwrap_or_default();
        say(&format!("[1/7] detect: {used}"));
    }
    let tls = match (&a.ca, &a.fingerprint) {
        (Some(ca), None) => {
            let bytes = std::fs::read(ca)
                .map_err(|e| Failure(USAGE, format!("--ca {}: {e}", ca.display())))?;
            Tls::ca_from_bytes(&ca.display().to_string(), &bytes)
                .map_err(|e| Failure(USAGE, e.to_string()))?
        }
        (None, Some(fp)) => {
            Tls::fingerprint(fp).map_err(|e| Failure(USAGE, format!("--fingerprint: {e}")))?
        }
        (None, None) => {
            return Err(Failure(
                USAGE,
                "pin the server with --ca FILE or --fingerprint HEX (what cogito serve prints at start): a guest must know whom it sends evidence to".into(),
            ))
        }
        (Some(_), Some(_)) => {
            return Err(Failure(USAGE, "--ca and --fingerprint exclude each other".into()))
        }
    };
    let mut client = Client::new(&a.server, tls)
        .map_err(fetch_failure)?
        .with_kem(match a.kem {
            KemArg::X25519 => Kem::X25519,
            KemArg::P256 => Kem::P256,
        })
        .with_timeout(Duration::from_secs(a.timeout.max(1)))
        .with_backoff(Backoff {
            attempts: a.attempts.max(1),
            ..Backoff::default()
        });
    if progress {
        client = client.with_progress(Box::new(|step, line| {
            say(&format!("[{}/7] {step}: {line}", step_number(step)));
        }));
    }
    let fetched = client
        .with_attester(attester)
        .fetch_secrets(&[a.secret.as_str()])
        .map_err(fetch_failure)?;
    let value = fetched.secret(&a.secret).ok_or_else(|| {
        Failure(
            BAD_ANSWER,
            format!("secret {} missing after unsealing", a.secret),
        )
    })?;
    match &a.out {
        Some(path) => {
            write_private(path, value)
                .map_err(|e| Failure(OUTPUT, format!("writing {}: {e}", path.display())))?;
            if progress {
                say(&format!(
                    "[7/7] write: {} ({} bytes, mode 0600)",
                    path.display(),
                    value.len()
                ));
            }
        }
        None => {
            let mut out = std::io::stdout().lock();
            out.write_all(value)
                .and_then(|()| out.flush())
                .map_err(|e| Failure(OUTPUT, format!("writing to standard output: {e}")))?;
            if progress {
                say(&format!(
                    "[7/7] write: standard output ({} bytes)",
                    value.len()
                ));
            }
        }
    }
    Ok(())
}

fn evidence(a: EvidenceArgs) -> Result<(), Failure> {
    let mut rd = [0u8; 64];
    if let Some(text) = &a.report_data {
        let bytes = hex::decode(text.trim())
            .map_err(|_| Failure(USAGE, format!("--report-data {text:?}: not hex")))?;
        let slot = rd.get_mut(..bytes.len()).ok_or_else(|| {
            Failure(
                USAGE,
                format!("--report-data: {} bytes; at most 64", bytes.len()),
            )
        })?;
        slot.copy_from_slice(&bytes);
    }
    let attester = attester(&a.tee).map_err(evidence_failure)?.attester;
    let e = attester.evidence(&rd).map_err(evidence_failure)?;
    say(&format!(
        "{} evidence, {} bytes, from {}",
        e.tee.as_str(),
        e.evidence.len(),
        e.interface
    ));
    match &a.out {
        None => {
            let mut out = std::io::stdout().lock();
            out.write_all(&e.evidence)
                .and_then(|()| out.flush())
                .map_err(|err| Failure(OUTPUT, format!("writing to standard output: {err}")))?;
            if e.cert_table.is_some() || e.event_log.is_some() {
                say("the certificate table or event log is only written with --out");
            }
        }
        Some(path) => {
            let write = |p: &Path, b: &[u8]| {
                write_private(p, b)
                    .map_err(|err| Failure(OUTPUT, format!("writing {}: {err}", p.display())))
            };
            write(path, &e.evidence)?;
            say(&format!("wrote {}", path.display()));
            let with = |ext: &str| {
                let mut s = path.as_os_str().to_owned();
                s.push(ext);
                PathBuf::from(s)
            };
            if let Some(t) = &e.cert_table {
                let p = with(".certs");
                write(&p, t)?;
                say(&format!(
                    "wrote {} (the host's certificate table)",
                    p.display()
                ));
            }
            if let Some(l) = &e.event_log {
                let p = with(".eventlog");
                write(&p, l)?;
                say(&format!("wrote {} (the CC event log)", p.display()));
            }
        }
    }
    Ok(())
}

fn detect_command(t: TeeArgs) -> Result<(), Failure> {
    match attester(&t) {
        Ok(d) => {
            let mut out = std::io::stdout().lock();
            let _ = writeln!(
                out,
                "{}: {}",
                d.attester.tee().as_str(),
                d.attester.interface()
            );
            for (name, why) in d.report {
                let _ = writeln!(out, "  {name}: {why}");
            }
            Ok(())
        }
        Err(e) => Err(evidence_failure(e)),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Fetch(a) => fetch(a),
        Command::Evidence(a) => evidence(a),
        Command::Detect(t) => detect_command(t),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure(code, message)) => {
            say(&format!("error: {message}"));
            ExitCode::from(code)
        }
    }
}
