//! `cogito`: verify confidential-computing attestation evidence.
//!
//! A thin layer over the cogito libraries: argument parsing, reading files,
//! the clock and the network live here; verification is in the libraries.
#![forbid(unsafe_code)]
// Test code may panic (a panic is a failed test); shipped code may not.
#![cfg_attr(
    test,
    allow(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::indexing_slicing,
        clippy::as_conversions
    )
)]
// Everything printed goes through `out`, which ends quietly on a closed pipe.
#![deny(clippy::print_stdout, clippy::print_stderr)]

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod demo;
mod demo_service;
mod eventlog;
mod evidence;
mod failure;
mod files;
mod manage;
mod measure;
mod out;
mod output;
mod policy;
mod remote;
mod serve;
mod verify;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Exit codes, shared by every command (also in docs/cli.md).
pub const EXIT_CODES_HELP: &str = "\
Exit codes:
  0  verified
  1  internal error (a bug, or a cache that cannot be written)
  2  usage error (bad arguments)
  3  bad input: malformed, truncated or unknown evidence or files
  4  authenticity: a signature, the certificate chain, pinning, validity,
     or the binding of the report to its certificate (TCB, chip id) failed
  5  collateral unavailable: a needed certificate or CRL was not supplied
     and could not be fetched
  6  revoked: a certificate of the chain is revoked by a valid CRL
  7  policy: authentic, but refused (a policy rule, provisional firmware,
     report data)";

#[derive(Parser, Debug)]
#[command(
    name = "cogito",
    version,
    about = "Verify confidential-computing attestation evidence (AMD SEV-SNP, Intel TDX, Arm CCA) and appraise it against policies",
    after_help = EXIT_CODES_HELP
)]
struct Cli {
    /// Log verbosity (error, warn, info, debug, trace); also RUST_LOG.
    #[arg(long, global = true, default_value = "warn")]
    log: String,
    #[command(subcommand)]
    command: Command,
}

// Parsed once per process; the size of the flag structs does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand, Debug)]
enum Command {
    /// Verify one piece of evidence (its type is detected from the bytes).
    Verify(Box<verify::VerifyArgs>),
    /// Compute the measurements a policy should expect (SEV-SNP launch
    /// digest, TDX MRTD/RTMRs) from the images a guest boots.
    Measure(measure::MeasureArgs),
    /// Write, validate and test policy files (check, test, init).
    Policy(policy::PolicyArgs),
    /// Replay a TDX CC event log into RTMR0–3 and list its events.
    Eventlog(eventlog::EventlogArgs),
    /// Verify cogito's embedded example evidence: a report signed by the
    /// testkit's fake AMD roots, two forgeries that must be refused, the
    /// report appraised against two policies, then the service releasing a
    /// secret to a simulated guest.
    Demo(demo::DemoArgs),
    /// Run the attestation service: guests attest and receive the secrets
    /// their policies grant (see docs/protocol.md, docs/operations.md).
    Serve(Box<serve::ServeArgs>),
    /// Manage the service's secrets (put, get, list, rm).
    Secret(manage::SecretArgs),
    /// Manage the service's admin tokens (create, list, revoke).
    Token(manage::TokenArgs),
    /// Show the service's audit log.
    Audit(manage::AuditArgs),
    /// Service administration (rotate-signing-key, new-token).
    Admin(manage::AdminArgs),
    /// Preload offline collateral into the service's store.
    Collateral(manage::CollateralArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Command::Serve(args) = &cli.command {
        // The service sets up its own logging (text or JSON, info by
        // default); --log still chooses the level when given.
        let level = if cli.log == "warn" {
            "info,sqlx=warn"
        } else {
            &cli.log
        };
        let code = serve::run(args, level);
        return ExitCode::from(u8::try_from(code).unwrap_or(1));
    }
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(&cli.log));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
    let code = match cli.command {
        Command::Serve(_) => 2,
        Command::Secret(args) => manage::secret(&args),
        Command::Token(args) => manage::token(&args),
        Command::Audit(args) => manage::audit(&args),
        Command::Admin(args) => manage::admin(&args),
        Command::Collateral(args) => manage::collateral(&args),
        Command::Verify(args) => verify::run(&args),
        Command::Demo(args) => demo::run(&args),
        Command::Eventlog(args) => eventlog::run(&args),
        Command::Policy(args) => policy::run(&args),
        Command::Measure(args) => measure::run(&args),
    };
    ExitCode::from(u8::try_from(code).unwrap_or(1))
}
