//! `cogito serve`: the attestation service. Configuration comes from the
//! built-in defaults, then `--config FILE` (or `COGITO_CONFIG`), then the
//! `COGITO_*` environment, then these flags; docs/operations.md lists
//! every key.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, ValueEnum};
use cogito_server::config::{Explain, LogFormat};
use cogito_server::Config;

use crate::out::errln;

#[derive(Debug, Clone, Copy, ValueEnum)]
enum ExplainArg {
    Rules,
    Full,
    None,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum LogFormatArg {
    Text,
    Json,
}

#[derive(Args, Debug)]
pub struct ServeArgs {
    /// A TOML configuration file [env: COGITO_CONFIG].
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Address to listen on [default: 127.0.0.1:8443].
    #[arg(long, value_name = "ADDR")]
    listen: Option<SocketAddr>,
    /// Data directory: the SQLite store, the KEK, the first admin token and
    /// the self-signed certificate [default: $XDG_DATA_HOME/cogito].
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// The store: postgres://… for replicas, sqlite://FILE [default: a
    /// SQLite file in the data directory].
    #[arg(long, value_name = "URL")]
    store: Option<String>,
    /// TLS certificate chain, PEM (with --tls-key) [default: a self-signed
    /// certificate kept in the data directory].
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// TLS private key, PEM.
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Serve plain HTTP, for a TLS-terminating proxy in front.
    #[arg(long, conflicts_with_all = ["tls_cert", "tls_key"])]
    insecure_http: bool,
    /// The key-encryption key file [default: DATA_DIR/kek, created 0600].
    /// COGITO_KEK (64 hex digits) takes precedence.
    #[arg(long, value_name = "FILE")]
    kek_file: Option<PathBuf>,
    /// Extra AMD and Intel root certificates to trust (a directory, as
    /// `cogito verify --trust-anchors` takes).
    #[arg(long, value_name = "DIR")]
    trust_anchors: Option<PathBuf>,
    /// The CCA platform keys (a CPAK as JWK or PEM, or a trust-anchor
    /// store), as `cogito verify --cca-trust-anchors` takes.
    #[arg(long, value_name = "FILE")]
    cca_trust_anchors: Option<PathBuf>,
    /// Accept CCA CPAKs that are published test keys (development only).
    #[arg(long)]
    allow_test_keys: bool,
    /// Never fetch collateral from AMD or Intel: use what guests send,
    /// what the store holds and what `cogito collateral import` loaded.
    #[arg(long)]
    offline: bool,
    /// Fetch Intel collateral from this PCCS instead of Intel's PCS.
    #[arg(long, value_name = "URL")]
    pccs_url: Option<String>,
    /// CA certificate(s) of the PCCS's TLS certificate, PEM.
    #[arg(long, value_name = "FILE")]
    pccs_ca: Option<PathBuf>,
    /// AMD KDS base URL.
    #[arg(long, value_name = "URL", hide = true)]
    kds_url: Option<String>,
    /// Also serve the policies in this directory (NAME.toml), reloaded on
    /// change and validated before the swap.
    #[arg(long, value_name = "DIR")]
    policy_dir: Option<PathBuf>,
    /// What a policy refusal tells the guest [default: rules].
    #[arg(long, value_enum)]
    explain: Option<ExplainArg>,
    /// Log line format [default: text].
    #[arg(long, value_enum)]
    log_format: Option<LogFormatArg>,
    /// Seconds an attestation token is valid [default: 600].
    #[arg(long, value_name = "SECS")]
    token_lifetime: Option<u64>,
    /// Seconds a challenge is valid [default: 120].
    #[arg(long, value_name = "SECS")]
    nonce_lifetime: Option<u64>,
    /// Requests per second per client address, 0 for none [default: 200].
    #[arg(long, value_name = "N")]
    rate_limit: Option<u32>,
    /// A public key (PEM) whose JWTs may upload KBS resources
    /// (`kbs-client set-resource`); repeatable.
    #[arg(long, value_name = "FILE")]
    kbs_admin_key: Vec<PathBuf>,
    /// The policy of a KBS resource uploaded under a new name.
    #[arg(long, value_name = "POLICY")]
    kbs_default_policy: Option<String>,
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

/// The configuration these flags describe (defaults, file, environment,
/// flags, in that order).
pub fn config(args: &ServeArgs) -> Result<Config, String> {
    let file = args.config.clone().or_else(|| {
        env("COGITO_CONFIG")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    });
    let mut c = Config::load(file.as_deref(), &env).map_err(|e| e.to_string())?;
    if let Some(v) = args.listen {
        c.listen = v;
    }
    if let Some(v) = &args.data_dir {
        c.data_dir.clone_from(v);
    }
    if let Some(v) = &args.store {
        c.store = Some(v.clone());
    }
    if args.tls_cert.is_some() {
        c.tls_cert.clone_from(&args.tls_cert);
        c.tls_key.clone_from(&args.tls_key);
    }
    if args.insecure_http {
        c.insecure_http = true;
    }
    if let Some(v) = &args.kek_file {
        c.kek_file = Some(v.clone());
    }
    if let Some(v) = &args.trust_anchors {
        c.anchors.dir = Some(v.clone());
    }
    if let Some(v) = &args.cca_trust_anchors {
        c.anchors.cca = Some(v.clone());
    }
    if args.allow_test_keys {
        c.anchors.cca_allow_test_keys = true;
    }
    if args.offline {
        c.collateral.online = false;
    }
    if let Some(v) = &args.pccs_url {
        c.collateral.pccs_url = Some(v.clone());
    }
    if let Some(v) = &args.pccs_ca {
        c.collateral.pccs_ca = Some(v.clone());
    }
    if let Some(v) = &args.kds_url {
        c.collateral.kds_url.clone_from(v);
    }
    if let Some(v) = &args.policy_dir {
        c.policy_dir = Some(v.clone());
    }
    if !args.kbs_admin_key.is_empty() {
        c.kbs.admin_keys.clone_from(&args.kbs_admin_key);
    }
    if let Some(v) = &args.kbs_default_policy {
        c.kbs.default_policy = Some(v.clone());
    }
    if let Some(v) = args.explain {
        c.explain = match v {
            ExplainArg::Rules => Explain::Rules,
            ExplainArg::Full => Explain::Full,
            ExplainArg::None => Explain::None,
        };
    }
    if let Some(v) = args.log_format {
        c.log_format = match v {
            LogFormatArg::Text => LogFormat::Text,
            LogFormatArg::Json => LogFormat::Json,
        };
    }
    if let Some(v) = args.token_lifetime {
        c.token_lifetime_secs = v;
    }
    if let Some(v) = args.nonce_lifetime {
        c.nonce_lifetime_secs = v;
    }
    if let Some(v) = args.rate_limit {
        c.limits.rate_per_second = v;
    }
    c.validate().map_err(|e| e.to_string())?;
    Ok(c)
}

/// Runs the service until SIGINT or SIGTERM. Exit 2 for a configuration
/// error, 1 when the service cannot start or fails.
pub fn run(args: &ServeArgs, log_filter: &str) -> i32 {
    let config = match config(args) {
        Ok(c) => c,
        Err(e) => {
            errln!("cogito serve: {e}");
            return 2;
        }
    };
    cogito_server::init_logging(config.log_format, log_filter);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("cogito-io")
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            errln!("cogito serve: starting the runtime: {e}");
            return 1;
        }
    };
    match runtime.block_on(cogito_server::serve(config)) {
        Ok(()) => 0,
        Err(e) => {
            errln!("cogito serve: {e}");
            1
        }
    }
}
