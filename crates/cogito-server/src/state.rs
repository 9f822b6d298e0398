//! What every request shares: the configuration, the store, the keys, the
//! verifier with its caches, the collateral source, the verification pool,
//! the policy cache and the rate limiter.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::path::Path;
use std::sync::Arc;

use cogito_attest::{Anchors, Options, VendorSource, Verifier};
use cogito_collateral::{DiskCache, KdsClient, KdsConfig, PcsClient, PcsConfig};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::collateral::StoreSource;
use crate::config::Config;
use crate::error::StartError;
use crate::keys::{Kek, KeyRing};
use crate::policies::PolicyCache;
use crate::pool::VerifyPool;
use crate::store::{SqlStore, Store, TokenRow};

/// Now, in Unix seconds (the service's one clock).
pub fn now() -> i64 {
    cogito_core::VerificationTime::now().unix()
}

/// The shared state.
pub struct AppState {
    /// The configuration.
    pub config: Config,
    /// The store.
    pub store: Arc<dyn Store>,
    /// Keys.
    pub keys: KeyRing,
    /// The verifier (anchors and verified-chain caches).
    pub verifier: Verifier,
    /// Collateral: the store's cache, then the vendors.
    pub source: StoreSource,
    /// Where verification runs.
    pub pool: VerifyPool,
    /// Policies.
    pub policies: PolicyCache,
    /// Verification options (the policies decide).
    pub options: Options,
    /// Per-client rate limit.
    pub limiter: Option<DefaultKeyedRateLimiter<IpAddr>>,
    /// Secrets' rows, reused for a second.
    pub secrets: crate::cache::TtlCache<Option<crate::store::SecretRow>>,
    /// Used nonces, written in batches.
    pub nonces: crate::consume::NonceSink,
    /// KBS: the verification an attested session's resources are
    /// appraised against, kept by this replica so that a resource request
    /// does not verify the evidence again (another replica verifies once,
    /// from the session's stored evidence, then keeps it too).
    pub kbs_verified: cogito_core::lru::SharedLru<String, Arc<cogito_attest::Verification>>,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AppState")
    }
}

fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> StartError {
    let what = what.into();
    move |source| StartError::Io { what, source }
}

fn read(path: &Path) -> Result<Vec<u8>, StartError> {
    std::fs::read(path).map_err(io(format!("reading {}", path.display())))
}

/// The verifier's anchors from the configuration.
pub fn anchors(config: &Config) -> Result<Anchors, StartError> {
    let mut anchors = Anchors::builtin();
    if let Some(dir) = &config.anchors.dir {
        let mut paths: Vec<_> = std::fs::read_dir(dir)
            .map_err(io(format!("reading {}", dir.display())))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.is_file())
            .collect();
        paths.sort();
        for p in paths {
            anchors
                .x509
                .add_pem_or_der(&read(&p)?, false, &p.display().to_string())
                .map_err(|e| StartError::Config {
                    what: e.to_string(),
                })?;
        }
    }
    if let Some(p) = &config.anchors.cca {
        anchors.cca = Some(
            cogito_cca::CcaTrustAnchors::load(&read(p)?, &p.display().to_string()).map_err(
                |e| StartError::Config {
                    what: e.to_string(),
                },
            )?,
        );
    }
    Ok(anchors)
}

fn vendor(config: &Config) -> Result<Option<VendorSource>, StartError> {
    if !config.collateral.online {
        return Ok(None);
    }
    // Each replica keeps the vendors' answers on disk as well; the store
    // is the cache replicas share.
    let cache = || DiskCache::new(config.data_dir.join("collateral-cache"));
    let kds = KdsClient::new(
        KdsConfig {
            base_url: config.collateral.kds_url.trim_end_matches('/').to_string(),
            ..KdsConfig::default()
        },
        cache(),
    );
    let tls_roots = match &config.collateral.pccs_ca {
        Some(p) => Some(
            cogito_core::anchors::certificates_from_pem_or_der(&read(p)?).map_err(|e| {
                StartError::Config {
                    what: format!("pccs_ca {}: {e}", p.display()),
                }
            })?,
        ),
        None => None,
    };
    let pcs = PcsClient::new(
        PcsConfig {
            base_url: config
                .collateral
                .pccs_url
                .clone()
                .unwrap_or_else(|| cogito_collateral::pcs::INTEL_PCS.to_string())
                .trim_end_matches('/')
                .to_string(),
            tls_roots,
            ..PcsConfig::default()
        },
        cache(),
    );
    Ok(Some(VendorSource {
        kds: Some(kds),
        snp_crl: config.collateral.snp_crl,
        pcs: Some(pcs),
    }))
}

/// A new admin token: (row to store, the token itself).
pub fn new_admin_token(
    scope: &str,
    note: &str,
    now: i64,
) -> Result<(TokenRow, String), StartError> {
    let id = hex::encode(crate::keys::random::<6>()?);
    let secret = hex::encode(crate::keys::random::<32>()?);
    let token = format!("cgt_{id}_{secret}");
    Ok((
        TokenRow {
            id,
            hash: token_hash(&token),
            scope: scope.to_string(),
            note: note.to_string(),
            created: now,
            revoked: None,
        },
        token,
    ))
}

/// How admin tokens are stored.
pub fn token_hash(token: &str) -> Vec<u8> {
    use sha2::Digest as _;
    sha2::Sha256::digest(token.as_bytes()).to_vec()
}

impl AppState {
    /// Opens everything the service needs. `log` receives the lines worth
    /// telling the operator at start (where the admin token is).
    pub async fn open(config: Config, log: &dyn Fn(String)) -> Result<Arc<AppState>, StartError> {
        config.validate()?;
        std::fs::create_dir_all(&config.data_dir)
            .map_err(io(format!("creating {}", config.data_dir.display())))?;
        let store: Arc<dyn Store> = Arc::new(SqlStore::open(&config.store_url()).await?);
        let kek_file = config
            .kek_file
            .clone()
            .unwrap_or_else(|| config.data_dir.join("kek"));
        let env_kek = std::env::var("COGITO_KEK").ok().filter(|v| !v.is_empty());
        let (kek, kek_source) = Kek::load(env_kek.as_deref(), &kek_file)?;
        tracing::info!(source = %kek_source, "key-encryption key loaded");
        let keys = KeyRing::open(kek, &*store, now()).await?;

        // Never open by default: the first start makes an admin token.
        if store.tokens().await?.is_empty() {
            let (row, token) = new_admin_token("admin", "created at first start", now())?;
            store.insert_token(&row).await?;
            let path = config.data_dir.join("admin-token");
            let _ = std::fs::remove_file(&path);
            crate::keys::write_private(&path, format!("{token}\n").as_bytes())?;
            store
                .audit(
                    now(),
                    "service",
                    "token.create",
                    &row.id,
                    "scope admin (first start)",
                )
                .await?;
            log(format!(
                "created the first admin token (scope admin); it is in {} (mode 0600)",
                path.display()
            ));
        }

        let verifier = Verifier::new(anchors(&config)?);
        let source = StoreSource::new(
            store.clone(),
            vendor(&config)?,
            tokio::runtime::Handle::current(),
        );
        let pool = VerifyPool::new(config.limits.verify_threads, config.limits.verify_queue)
            .map_err(io("starting the verification threads"))?;
        let policies = PolicyCache::new(config.policy_dir.clone());
        for e in policies.reload_dir() {
            tracing::warn!(error = %e, "a policy file does not load; it is not served");
        }
        let limiter = NonZeroU32::new(config.limits.rate_per_second).map(|rate| {
            let burst = NonZeroU32::new(config.limits.rate_burst).unwrap_or(rate);
            RateLimiter::keyed(Quota::per_second(rate).allow_burst(burst))
        });
        let options = crate::attest::service_options(config.anchors.cca_allow_test_keys);
        let nonces = crate::consume::NonceSink::start(store.clone());
        Ok(Arc::new(AppState {
            config,
            store,
            keys,
            verifier,
            source,
            pool,
            policies,
            options,
            limiter,
            secrets: crate::cache::TtlCache::default(),
            kbs_verified: cogito_core::lru::SharedLru::new(4096),
            nonces,
        }))
    }
}
