//! The service's configuration: built-in defaults, then a TOML file, then
//! `COGITO_*` environment variables, then command-line flags (the CLI
//! applies those last). docs/operations.md documents every key.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::StartError;

/// How much a policy refusal explains to the guest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Explain {
    /// The failed rules by name and actual value (the default).
    Rules,
    /// The failed rules with their expected values too.
    Full,
    /// Neither: the code and the secret only.
    None,
}

/// Log line format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// Request limits.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    /// Largest request body, bytes (413 above).
    pub max_body_bytes: usize,
    /// Largest decoded evidence, bytes.
    pub max_evidence_bytes: usize,
    /// Requests per second per client address (429 above); 0 disables.
    pub rate_per_second: u32,
    /// Burst per client address.
    pub rate_burst: u32,
    /// Seconds a request may take before the server answers 503.
    pub request_timeout_secs: u64,
    /// Verifications waiting or running at most (503 above).
    pub verify_queue: usize,
    /// Threads that verify evidence (0: one per core).
    pub verify_threads: usize,
    /// Secrets one `/v1/attest` may ask for (each is a store lookup and a
    /// policy appraisal before the answer; 400 above).
    pub max_secrets_per_request: usize,
    /// Deepest nesting of arrays and objects in a JSON body (400
    /// `request.too_deep` past it). cogito's own bodies nest four levels;
    /// KBS evidence and runtime data a few more.
    pub max_json_depth: usize,
    /// Largest total of a request's headers, each counted as
    /// `name: value` CRLF (431 past it). Tokens and cookies are the
    /// largest headers a client sends, a few KiB.
    pub max_header_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_body_bytes: 1 << 20,
            max_evidence_bytes: 256 << 10,
            rate_per_second: 200,
            rate_burst: 400,
            request_timeout_secs: 30,
            verify_queue: 1024,
            verify_threads: 0,
            max_secrets_per_request: 64,
            max_json_depth: 32,
            max_header_bytes: 16 << 10,
        }
    }
}

/// Where verification collateral comes from besides the guest.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CollateralConfig {
    /// Fetch missing collateral from AMD's KDS and Intel's PCS (or the
    /// PCCS), through the store's cache.
    pub online: bool,
    /// AMD KDS base URL.
    pub kds_url: String,
    /// An Intel PCCS base URL instead of Intel's PCS.
    pub pccs_url: Option<String>,
    /// PEM CA certificate(s) of the PCCS's TLS certificate.
    pub pccs_ca: Option<PathBuf>,
    /// Fetch and check AMD's CRL too.
    pub snp_crl: bool,
}

impl Default for CollateralConfig {
    fn default() -> Self {
        CollateralConfig {
            online: true,
            kds_url: cogito_collateral::kds::AMD_KDS.to_string(),
            pccs_url: None,
            pccs_ca: None,
            snp_crl: true,
        }
    }
}

/// Trust anchors beyond the built-in AMD and Intel roots.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AnchorsConfig {
    /// A directory of extra AMD ARK/ASK/ASVK and Intel SGX Root CA
    /// certificates (PEM or DER), as `cogito verify --trust-anchors` takes.
    pub dir: Option<PathBuf>,
    /// The CCA platform keys: a CPAK as JWK or PEM, or a trust-anchor store.
    pub cca: Option<PathBuf>,
    /// Accept CCA CPAKs that are published test keys (never in production).
    pub cca_allow_test_keys: bool,
}

/// The KBS protocol's operator side (docs/kbs-compat.md).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct KbsConfig {
    /// Public keys (PEM: Ed25519, P-256/P-384 or RSA) whose JWTs may upload
    /// resources with `POST /kbs/v0/resource/…`, as Trustee's `kbs-client
    /// set-resource` sends them. None: the upload path is closed.
    pub admin_keys: Vec<PathBuf>,
    /// Required `iss` of those JWTs, when set.
    pub admin_issuer: Option<String>,
    /// Required `aud` of those JWTs, when set.
    pub admin_audience: Option<String>,
    /// The policy of a resource uploaded under a name no secret has yet; an
    /// existing secret keeps its own. None: such uploads are refused.
    pub default_policy: Option<String>,
}

/// The whole configuration.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// The address to listen on.
    pub listen: SocketAddr,
    /// The data directory: the SQLite store, the KEK file, the admin token
    /// file and the self-signed TLS certificate live here.
    pub data_dir: PathBuf,
    /// The store: `sqlite:///path/file.db` or `postgres://…`; default a
    /// SQLite file in the data directory.
    pub store: Option<String>,
    /// TLS certificate chain (PEM); with `tls_key`.
    pub tls_cert: Option<PathBuf>,
    /// TLS private key (PEM).
    pub tls_key: Option<PathBuf>,
    /// Serve plain HTTP (only behind a TLS-terminating proxy).
    pub insecure_http: bool,
    /// The key-encryption key file (32 random bytes); default `kek` in the
    /// data directory, created 0600 at first start. `COGITO_KEK` (64 hex
    /// digits) takes precedence.
    pub kek_file: Option<PathBuf>,
    /// Trust anchors.
    pub anchors: AnchorsConfig,
    /// Collateral sources.
    pub collateral: CollateralConfig,
    /// Seconds an attestation-result token is valid.
    pub token_lifetime_secs: u64,
    /// Seconds a challenge nonce is valid.
    pub nonce_lifetime_secs: u64,
    /// What a policy refusal tells the guest.
    pub explain: Explain,
    /// Also serve the policies in this directory (`NAME.toml`), reloaded
    /// when they change and validated before they replace the old ones.
    pub policy_dir: Option<PathBuf>,
    /// Log format.
    pub log_format: LogFormat,
    /// Limits.
    pub limits: Limits,
    /// The KBS protocol's operator side.
    pub kbs: KbsConfig,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 8443)),
            data_dir: default_data_dir(),
            store: None,
            tls_cert: None,
            tls_key: None,
            insecure_http: false,
            kek_file: None,
            anchors: AnchorsConfig::default(),
            collateral: CollateralConfig::default(),
            token_lifetime_secs: 600,
            nonce_lifetime_secs: 120,
            explain: Explain::Rules,
            policy_dir: None,
            log_format: LogFormat::Text,
            limits: Limits::default(),
            kbs: KbsConfig::default(),
        }
    }
}

/// `$XDG_DATA_HOME/cogito`, else `~/.local/share/cogito`, else
/// `./cogito-data`.
pub fn default_data_dir() -> PathBuf {
    if let Some(x) = std::env::var_os("XDG_DATA_HOME").filter(|v| !v.is_empty()) {
        return PathBuf::from(x).join("cogito");
    }
    if let Some(h) = std::env::var_os("HOME").filter(|v| !v.is_empty()) {
        return PathBuf::from(h).join(".local/share/cogito");
    }
    PathBuf::from("cogito-data")
}

impl Config {
    /// Defaults, then the file (when given), then the environment.
    pub fn load(
        file: Option<&Path>,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Config, StartError> {
        let mut c = match file {
            None => Config::default(),
            Some(p) => {
                let text = std::fs::read_to_string(p).map_err(|e| StartError::Config {
                    what: format!("{}: {e}", p.display()),
                })?;
                Config::from_toml(&text, &p.display().to_string())?
            }
        };
        c.apply_env(env)?;
        Ok(c)
    }

    /// The file's text over the defaults, without the environment;
    /// `origin` names the file in errors. What [`Config::load`] reads a
    /// file with (the fuzz target `server_config` runs it on arbitrary
    /// text).
    pub fn from_toml(text: &str, origin: &str) -> Result<Config, StartError> {
        toml::from_str(text).map_err(|e| StartError::Config {
            what: format!("{origin}: {e}"),
        })
    }

    /// `COGITO_*` variables (each documented in docs/operations.md).
    pub fn apply_env(&mut self, env: &dyn Fn(&str) -> Option<String>) -> Result<(), StartError> {
        fn parse<T: std::str::FromStr>(name: &str, v: &str) -> Result<T, StartError> {
            v.trim().parse().map_err(|_| StartError::Config {
                what: format!("{name}={v:?} is not valid"),
            })
        }
        fn flag(name: &str, v: &str) -> Result<bool, StartError> {
            match v.trim() {
                "1" | "true" | "yes" | "on" => Ok(true),
                "0" | "false" | "no" | "off" => Ok(false),
                _ => Err(StartError::Config {
                    what: format!("{name}={v:?}: expected true or false"),
                }),
            }
        }
        let get = |n: &str| env(n).filter(|v| !v.is_empty());
        if let Some(v) = get("COGITO_LISTEN") {
            self.listen = parse("COGITO_LISTEN", &v)?;
        }
        if let Some(v) = get("COGITO_DATA_DIR") {
            self.data_dir = PathBuf::from(v);
        }
        if let Some(v) = get("COGITO_STORE") {
            self.store = Some(v);
        }
        if let Some(v) = get("COGITO_TLS_CERT") {
            self.tls_cert = Some(PathBuf::from(v));
        }
        if let Some(v) = get("COGITO_TLS_KEY") {
            self.tls_key = Some(PathBuf::from(v));
        }
        if let Some(v) = get("COGITO_INSECURE_HTTP") {
            self.insecure_http = flag("COGITO_INSECURE_HTTP", &v)?;
        }
        if let Some(v) = get("COGITO_KEK_FILE") {
            self.kek_file = Some(PathBuf::from(v));
        }
        if let Some(v) = get("COGITO_TRUST_ANCHORS") {
            self.anchors.dir = Some(PathBuf::from(v));
        }
        if let Some(v) = get("COGITO_CCA_TRUST_ANCHORS") {
            self.anchors.cca = Some(PathBuf::from(v));
        }
        if let Some(v) = get("COGITO_CCA_ALLOW_TEST_KEYS") {
            self.anchors.cca_allow_test_keys = flag("COGITO_CCA_ALLOW_TEST_KEYS", &v)?;
        }
        if let Some(v) = get("COGITO_ONLINE") {
            self.collateral.online = flag("COGITO_ONLINE", &v)?;
        }
        if let Some(v) = get("COGITO_KDS_URL") {
            self.collateral.kds_url = v;
        }
        if let Some(v) = get("COGITO_PCCS_URL") {
            self.collateral.pccs_url = Some(v);
        }
        if let Some(v) = get("COGITO_PCCS_CA") {
            self.collateral.pccs_ca = Some(PathBuf::from(v));
        }
        if let Some(v) = get("COGITO_TOKEN_LIFETIME") {
            self.token_lifetime_secs = parse("COGITO_TOKEN_LIFETIME", &v)?;
        }
        if let Some(v) = get("COGITO_NONCE_LIFETIME") {
            self.nonce_lifetime_secs = parse("COGITO_NONCE_LIFETIME", &v)?;
        }
        if let Some(v) = get("COGITO_EXPLAIN") {
            self.explain = match v.trim() {
                "rules" => Explain::Rules,
                "full" => Explain::Full,
                "none" => Explain::None,
                _ => {
                    return Err(StartError::Config {
                        what: format!("COGITO_EXPLAIN={v:?}: expected rules, full or none"),
                    })
                }
            };
        }
        if let Some(v) = get("COGITO_POLICY_DIR") {
            self.policy_dir = Some(PathBuf::from(v));
        }
        if let Some(v) = get("COGITO_LOG_FORMAT") {
            self.log_format = match v.trim() {
                "text" => LogFormat::Text,
                "json" => LogFormat::Json,
                _ => {
                    return Err(StartError::Config {
                        what: format!("COGITO_LOG_FORMAT={v:?}: expected text or json"),
                    })
                }
            };
        }
        if let Some(v) = get("COGITO_RATE_LIMIT") {
            self.limits.rate_per_second = parse("COGITO_RATE_LIMIT", &v)?;
        }
        if let Some(v) = get("COGITO_VERIFY_THREADS") {
            self.limits.verify_threads = parse("COGITO_VERIFY_THREADS", &v)?;
        }
        if let Some(v) = get("COGITO_VERIFY_QUEUE") {
            self.limits.verify_queue = parse("COGITO_VERIFY_QUEUE", &v)?;
        }
        Ok(())
    }

    /// The store URL, defaulting to a SQLite file in the data directory.
    pub fn store_url(&self) -> String {
        match &self.store {
            Some(s) => s.clone(),
            None => format!("sqlite://{}", self.data_dir.join("cogito.db").display()),
        }
    }

    /// Checks what a value cannot say by itself.
    pub fn validate(&self) -> Result<(), StartError> {
        let bad = |what: &str| {
            Err(StartError::Config {
                what: what.to_string(),
            })
        };
        if self.tls_cert.is_some() != self.tls_key.is_some() {
            return bad("tls_cert and tls_key go together");
        }
        if self.insecure_http && self.tls_cert.is_some() {
            return bad("insecure_http and a TLS certificate contradict each other");
        }
        if self.token_lifetime_secs == 0 || self.nonce_lifetime_secs == 0 {
            return bad("token and nonce lifetimes must be at least one second");
        }
        if self.limits.verify_queue == 0
            || self.limits.max_body_bytes == 0
            || self.limits.max_secrets_per_request == 0
        {
            return bad("limits.verify_queue, limits.max_body_bytes and limits.max_secrets_per_request must be positive");
        }
        // Below these, the service's own requests would be refused: its
        // bodies nest four levels and KBS evidence a few more; a token
        // header alone takes about a kilobyte.
        if self.limits.max_json_depth < 8 {
            return bad("limits.max_json_depth must be at least 8");
        }
        if !(4096..=(1 << 20)).contains(&self.limits.max_header_bytes) {
            return bad("limits.max_header_bytes must be between 4096 and 1048576");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_then_environment() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("c.toml");
        std::fs::write(
            &f,
            "listen = \"127.0.0.1:9000\"\nexplain = \"full\"\n[limits]\nrate_per_second = 5\n",
        )
        .unwrap();
        let env = |n: &str| (n == "COGITO_LISTEN").then(|| "127.0.0.1:9001".to_string());
        let c = Config::load(Some(&f), &env).unwrap();
        assert_eq!(c.listen.port(), 9001, "the environment wins over the file");
        assert_eq!(c.explain, Explain::Full);
        assert_eq!(c.limits.rate_per_second, 5);
        assert_eq!(c.limits.rate_burst, Limits::default().rate_burst);
    }

    #[test]
    fn unknown_keys_and_bad_values_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("c.toml");
        std::fs::write(&f, "lisen = \"x\"\n").unwrap();
        assert!(Config::load(Some(&f), &|_| None).is_err());
        let env = |n: &str| (n == "COGITO_EXPLAIN").then(|| "all".to_string());
        assert!(Config::load(None, &env).is_err());
        let c = Config {
            tls_cert: Some("a".into()),
            ..Config::default()
        };
        assert!(c.validate().is_err());
    }
}
