//! A client for AMD's Key Distribution Service (KDS).
//!
//! Endpoints (AMD publication 57230, "VCEK Certificate and KDS Interface"):
//!
//! - `GET /vcek/v1/{product}/{hwid}?blSPL=…&teeSPL=…&snpSPL=…&ucodeSPL=…`
//!   (Turin: 8-byte hwid and `fmcSPL`) → the VCEK, DER;
//! - `GET /{vcek|vlek}/v1/{product}/cert_chain` → ASK/ASVK and ARK, PEM;
//! - `GET /{vcek|vlek}/v1/{product}/crl` → the CRL, DER.
//!
//! Every answer goes through the [`DiskCache`]: a VCEK or chain is fetched
//! once, ever; a CRL again only once the cached one is past its nextUpdate.
//! The KDS rate-limits: 429 and 5xx answers are retried with bounded
//! exponential backoff (honouring `Retry-After`), then reported with a
//! clear message. In offline mode the client answers from the cache only.

use std::sync::Arc;
use std::time::Duration;

use cogito_core::AmdProduct;
use cogito_snp::{SigningKey, TcbParts};

use crate::cache::DiskCache;
use crate::error::CollateralError;

/// AMD's production KDS.
pub const AMD_KDS: &str = "https://kdsintf.amd.com";

/// Client settings.
#[derive(Debug, Clone)]
pub struct KdsConfig {
    /// Base URL, without a trailing slash.
    pub base_url: String,
    /// Never use the network; answer from the cache only.
    pub offline: bool,
    /// Attempts per object (first try included).
    pub attempts: u32,
    /// First backoff; doubles each retry.
    pub initial_backoff: Duration,
    /// Cap on one backoff (and on a `Retry-After` the server asks for).
    pub max_backoff: Duration,
    /// Timeout for one request.
    pub timeout: Duration,
}

impl Default for KdsConfig {
    fn default() -> Self {
        KdsConfig {
            base_url: AMD_KDS.to_string(),
            offline: false,
            attempts: 4,
            initial_backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(10),
            timeout: Duration::from_secs(30),
        }
    }
}

/// The KDS client.
pub struct KdsClient {
    config: KdsConfig,
    cache: DiskCache,
    agent: ureq::Agent,
}

impl std::fmt::Debug for KdsClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KdsClient")
            .field("config", &self.config)
            .field("cache", &self.cache)
            .finish()
    }
}

fn family(kind: SigningKey) -> &'static str {
    match kind {
        SigningKey::Vlek => "vlek",
        SigningKey::Vcek | SigningKey::None => "vcek",
    }
}

impl KdsClient {
    /// A client with `config`, caching in `cache`.
    pub fn new(config: KdsConfig, cache: DiskCache) -> Self {
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let tls = ureq::tls::TlsConfig::builder()
            .provider(ureq::tls::TlsProvider::Rustls)
            .unversioned_rustls_crypto_provider(provider)
            .root_certs(ureq::tls::RootCerts::WebPki)
            .build();
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(config.timeout))
            .user_agent(concat!("cogito/", env!("CARGO_PKG_VERSION")))
            .tls_config(tls)
            .build()
            .into();
        KdsClient {
            config,
            cache,
            agent,
        }
    }

    /// The URL of the VCEK for a chip and TCB.
    pub fn vcek_url(&self, product: AmdProduct, hw_id: &[u8], tcb: &TcbParts) -> String {
        let mut url = format!(
            "{}/vcek/v1/{}/{}?blSPL={}&teeSPL={}&snpSPL={}&ucodeSPL={}",
            self.config.base_url,
            product.as_str(),
            hex::encode(hw_id),
            tcb.bootloader,
            tcb.tee,
            tcb.snp,
            tcb.microcode
        );
        if let Some(fmc) = tcb.fmc {
            url.push_str(&format!("&fmcSPL={fmc}"));
        }
        url
    }

    /// The URL of the ASK/ASVK + ARK chain.
    pub fn cert_chain_url(&self, product: AmdProduct, kind: SigningKey) -> String {
        format!(
            "{}/{}/v1/{}/cert_chain",
            self.config.base_url,
            family(kind),
            product.as_str()
        )
    }

    /// The URL of the CRL.
    pub fn crl_url(&self, product: AmdProduct, kind: SigningKey) -> String {
        format!(
            "{}/{}/v1/{}/crl",
            self.config.base_url,
            family(kind),
            product.as_str()
        )
    }

    /// The VCEK (DER) for a chip and TCB. Turin takes the first 8 bytes of
    /// the chip id; pass exactly what [`cogito_snp::CollateralRequest::Vcek`] says.
    pub fn vcek(
        &self,
        product: AmdProduct,
        hw_id: &[u8],
        tcb: &TcbParts,
    ) -> Result<Vec<u8>, CollateralError> {
        self.get_immutable(&self.vcek_url(product, hw_id, tcb))
    }

    /// The ASK/ASVK + ARK chain (PEM).
    pub fn cert_chain(
        &self,
        product: AmdProduct,
        kind: SigningKey,
    ) -> Result<Vec<u8>, CollateralError> {
        self.get_immutable(&self.cert_chain_url(product, kind))
    }

    /// The CRL (DER). A cached CRL is reused until its nextUpdate.
    pub fn crl(&self, product: AmdProduct, kind: SigningKey) -> Result<Vec<u8>, CollateralError> {
        let url = self.crl_url(product, kind);
        if let Some(c) = self.cache.get(&url) {
            let fresh = cogito_snp::crl::parse_crl(&c.bytes)
                .ok()
                .and_then(|crl| crl.next_update())
                .map(|next| next.timestamp() > now_unix())
                .unwrap_or(false);
            if fresh || self.config.offline {
                return Ok(c.bytes);
            }
        }
        self.fetch_and_store(&url)
    }

    fn get_immutable(&self, url: &str) -> Result<Vec<u8>, CollateralError> {
        if let Some(c) = self.cache.get(url) {
            return Ok(c.bytes);
        }
        self.fetch_and_store(url)
    }

    fn fetch_and_store(&self, url: &str) -> Result<Vec<u8>, CollateralError> {
        if self.config.offline {
            return Err(CollateralError::NotCached {
                url: url.to_string(),
                cache: self.cache.root().display().to_string(),
            });
        }
        let bytes = self.fetch(url)?;
        self.cache.put(url, &bytes)?;
        Ok(bytes)
    }

    /// One object over HTTP, with bounded retries on 429 and 5xx.
    fn fetch(&self, url: &str) -> Result<Vec<u8>, CollateralError> {
        let attempts = self.config.attempts.max(1);
        let mut backoff = self.config.initial_backoff;
        let mut last = String::new();
        for attempt in 1..=attempts {
            tracing::debug!(url, attempt, "GET");
            match self.agent.get(url).call() {
                Ok(mut resp) => {
                    let status = resp.status().as_u16();
                    if status == 200 {
                        return resp
                            .body_mut()
                            .with_config()
                            .limit(16 << 20)
                            .read_to_vec()
                            .map_err(|e| CollateralError::Fetch {
                                url: url.to_string(),
                                reason: format!("reading the body: {e}"),
                            });
                    }
                    let retry_after = resp
                        .headers()
                        .get("retry-after")
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| v.trim().parse::<u64>().ok())
                        .map(Duration::from_secs);
                    if status == 429 || (500..600).contains(&status) {
                        last = format!("HTTP {status}");
                        if attempt < attempts {
                            let wait = retry_after.unwrap_or(backoff).min(self.config.max_backoff);
                            tracing::warn!(url, status, ?wait, "KDS busy, retrying");
                            std::thread::sleep(wait);
                            backoff = (backoff * 2).min(self.config.max_backoff);
                            continue;
                        }
                    } else {
                        let hint = if status == 404 {
                            " (no such object: check the product line, the chip id and the TCB)"
                        } else {
                            ""
                        };
                        return Err(CollateralError::Fetch {
                            url: url.to_string(),
                            reason: format!("HTTP {status}{hint}"),
                        });
                    }
                }
                Err(e) => {
                    last = e.to_string();
                    if attempt < attempts {
                        std::thread::sleep(backoff.min(self.config.max_backoff));
                        backoff = (backoff * 2).min(self.config.max_backoff);
                        continue;
                    }
                }
            }
        }
        Err(CollateralError::Fetch {
            url: url.to_string(),
            reason: format!(
                "gave up after {attempts} attempts (last: {last}); AMD's KDS rate-limits requests — wait and retry, or verify offline with --certs DIR"
            ),
        })
    }
}

fn now_unix() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}
