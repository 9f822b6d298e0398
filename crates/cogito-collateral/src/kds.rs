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

use std::time::Duration;

use cogito_core::AmdProduct;
use cogito_snp::{SigningKey, TcbParts};

use crate::cache::DiskCache;
use crate::error::CollateralError;
use crate::http::{now_unix, Http, Retry, Service};

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
    http: Http,
}

const KDS: Service = Service {
    name: "KDS",
    not_found_hint: " (no such object: check the product line, the chip id and the TCB)",
    give_up_hint:
        "AMD's KDS rate-limits requests — wait and retry, or verify with collateral supplied offline",
};

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
        let retry = Retry {
            attempts: config.attempts,
            initial_backoff: config.initial_backoff,
            max_backoff: config.max_backoff,
        };
        let http = Http::new(config.timeout, retry, KDS, None);
        KdsClient {
            config,
            cache,
            http,
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
            let fresh =
                crate::tdx_bundle::crl_next_update(&c.bytes).is_some_and(|next| next > now_unix());
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
        let bytes = self.http.get(url)?.body;
        self.cache.put(url, &bytes)?;
        Ok(bytes)
    }
}
