//! A client for Intel's Provisioning Certification Service (PCS) v4, or
//! any PCCS (Provisioning Certificate Caching Service) serving the same
//! v4 API.
//!
//! Endpoints (Intel "Provisioning Certification Service for ECDSA
//! Attestation", API v4), relative to the base URL:
//!
//! - `GET /tdx/certification/v4/tcb?fmspc=<hex>` → TDX TCB Info,
//!   `{"tcbInfo":{…},"signature":"<hex>"}`, with the URL-encoded PEM issuer
//!   chain in `TCB-Info-Issuer-Chain` (some PCCS versions:
//!   `SGX-TCB-Info-Issuer-Chain`);
//! - `GET /tdx/certification/v4/qe/identity` → the TD QE Identity,
//!   `{"enclaveIdentity":{…},"signature":"<hex>"}`, chain in
//!   `SGX-Enclave-Identity-Issuer-Chain`;
//! - `GET /sgx/certification/v4/pckcrl?ca=platform|processor&encoding=der`
//!   → the PCK CRL, chain in `SGX-PCK-CRL-Issuer-Chain`;
//! - the Intel SGX Root CA CRL: from Intel PCS at
//!   [`INTEL_ROOT_CA_CRL`], from a PCCS at
//!   `/sgx/certification/v4/rootcacrl` (hex or DER; both are accepted).
//!
//! Every answer goes through the [`DiskCache`]: the body under its URL, the
//! issuer chain under the URL plus `#issuer-chain`. An answer is checked
//! for its shape before it is cached (a JSON document with its signature, a
//! CRL, a PEM chain), so an error page served with status 200 never
//! lands in the cache. A cached object is reused until its `nextUpdate`
//! (from the JSON, or from the CRL) and fetched again after; in offline
//! mode the cached one is used regardless and the verifier judges its
//! validity window. 429 and 5xx answers are retried with bounded
//! exponential backoff (honouring `Retry-After`), exactly as for the KDS.

use std::time::Duration;

use crate::cache::DiskCache;
use crate::error::CollateralError;
use crate::http::{now_unix, Http, Retry, Service};
use crate::tdx_bundle::{
    check_pem_chain, check_signed_json, crl_next_update, crl_to_der, json_next_update,
    TdxCollateralFiles,
};

/// Intel's production PCS.
pub const INTEL_PCS: &str = "https://api.trustedservices.intel.com";

/// Where Intel publishes the Intel SGX Root CA's CRL (DER).
pub const INTEL_ROOT_CA_CRL: &str =
    "https://certificates.trustedservices.intel.com/IntelSGXRootCA.der";

/// Suffix of the cache key under which an object's issuer chain is kept.
const CHAIN_SUFFIX: &str = "#issuer-chain";

const TCB_INFO_CHAIN_HEADERS: &[&str] = &["TCB-Info-Issuer-Chain", "SGX-TCB-Info-Issuer-Chain"];
const QE_IDENTITY_CHAIN_HEADERS: &[&str] = &["SGX-Enclave-Identity-Issuer-Chain"];
const PCK_CRL_CHAIN_HEADERS: &[&str] = &["SGX-PCK-CRL-Issuer-Chain"];

const PCS: Service = Service {
    name: "PCS",
    not_found_hint: " (no such object: check the FMSPC or CA type, and that the base URL is Intel PCS or a PCCS serving the v4 API)",
    give_up_hint: "Intel PCS/PCCS is busy or unreachable — wait and retry, or verify with collateral supplied offline",
};

/// Which PCK CA's CRL: the one that issued the quote's PCK certificate
/// ("Intel SGX PCK Platform CA" or "Intel SGX PCK Processor CA").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PckCa {
    /// Intel SGX PCK Platform CA (multi-package platforms, most TDX hosts).
    Platform,
    /// Intel SGX PCK Processor CA.
    Processor,
}

impl PckCa {
    /// The `ca=` query value.
    pub fn as_str(self) -> &'static str {
        match self {
            PckCa::Platform => "platform",
            PckCa::Processor => "processor",
        }
    }
}

/// Client settings.
#[derive(Debug, Clone)]
pub struct PcsConfig {
    /// Base URL: [`INTEL_PCS`] or a PCCS such as `https://pccs.example:8081`.
    pub base_url: String,
    /// Where to get the root CA CRL. `None`: [`INTEL_ROOT_CA_CRL`] when
    /// `base_url` is [`INTEL_PCS`], else `<base_url>/sgx/certification/v4/rootcacrl`.
    pub root_ca_crl_url: Option<String>,
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
    /// The CA certificates (DER) that authenticate the server's TLS
    /// certificate — for a PCCS behind a private or self-signed CA. When
    /// set they replace the public WebPKI roots; `None` keeps WebPKI,
    /// which is right for Intel's PCS.
    pub tls_roots: Option<Vec<Vec<u8>>>,
}

impl Default for PcsConfig {
    fn default() -> Self {
        PcsConfig {
            base_url: INTEL_PCS.to_string(),
            root_ca_crl_url: None,
            offline: false,
            attempts: 4,
            initial_backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(10),
            timeout: Duration::from_secs(30),
            tls_roots: None,
        }
    }
}

/// A signed object and the PEM chain of the key that signed it, as the
/// PCS returns them (body, issuer-chain header).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedObject {
    /// The body, byte for byte (a CRL: DER).
    pub body: Vec<u8>,
    /// The PEM issuer chain, URL-decoded from its header.
    pub issuer_chain: Vec<u8>,
}

/// What an answer must be.
#[derive(Debug, Clone, Copy)]
enum Kind {
    /// A signed JSON document whose inner object is under this key.
    Json(&'static str),
    /// A CRL (DER, PEM or hex; cached as DER).
    Crl,
}

impl Kind {
    fn next_update(self, bytes: &[u8]) -> Option<i64> {
        match self {
            Kind::Json(key) => json_next_update(bytes, key),
            Kind::Crl => crl_next_update(bytes),
        }
    }

    /// The bytes to keep: JSON as it is, CRLs as DER.
    fn check(self, bytes: &[u8]) -> Result<Vec<u8>, String> {
        match self {
            Kind::Json(key) => check_signed_json(bytes, key).map(|()| bytes.to_vec()),
            Kind::Crl => crl_to_der(bytes),
        }
    }
}

/// The PCS / PCCS client.
pub struct PcsClient {
    config: PcsConfig,
    cache: DiskCache,
    http: Http,
}

impl std::fmt::Debug for PcsClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PcsClient")
            .field("config", &self.config)
            .field("cache", &self.cache)
            .finish()
    }
}

impl PcsClient {
    /// A client with `config`, caching in `cache`.
    pub fn new(config: PcsConfig, cache: DiskCache) -> Self {
        let retry = Retry {
            attempts: config.attempts,
            initial_backoff: config.initial_backoff,
            max_backoff: config.max_backoff,
        };
        let http = Http::new(config.timeout, retry, PCS, config.tls_roots.as_deref());
        PcsClient {
            config,
            cache,
            http,
        }
    }

    fn base(&self) -> &str {
        self.config.base_url.trim_end_matches('/')
    }

    /// The URL of the TDX TCB Info for an FMSPC (upper-case hex, as in the
    /// TCB Info itself).
    pub fn tcb_info_url(&self, fmspc: &[u8; 6]) -> String {
        format!(
            "{}/tdx/certification/v4/tcb?fmspc={}",
            self.base(),
            hex::encode_upper(fmspc)
        )
    }

    /// The URL of the TD QE Identity.
    pub fn qe_identity_url(&self) -> String {
        format!("{}/tdx/certification/v4/qe/identity", self.base())
    }

    /// The URL of a PCK CA's CRL, DER-encoded.
    pub fn pck_crl_url(&self, ca: PckCa) -> String {
        format!(
            "{}/sgx/certification/v4/pckcrl?ca={}&encoding=der",
            self.base(),
            ca.as_str()
        )
    }

    /// The URL of the Intel SGX Root CA CRL (see [`PcsConfig::root_ca_crl_url`]).
    pub fn root_ca_crl_url(&self) -> String {
        match &self.config.root_ca_crl_url {
            Some(url) => url.clone(),
            None if self.base() == INTEL_PCS => INTEL_ROOT_CA_CRL.to_string(),
            None => format!("{}/sgx/certification/v4/rootcacrl", self.base()),
        }
    }

    /// The TDX TCB Info for `fmspc` (body byte for byte) and its issuer
    /// chain. Cached until its `nextUpdate`.
    pub fn tcb_info(&self, fmspc: &[u8; 6]) -> Result<SignedObject, CollateralError> {
        self.object(
            &self.tcb_info_url(fmspc),
            Kind::Json("tcbInfo"),
            TCB_INFO_CHAIN_HEADERS,
        )
    }

    /// The TD QE Identity (body byte for byte) and its issuer chain.
    /// Cached until its `nextUpdate`.
    pub fn qe_identity(&self) -> Result<SignedObject, CollateralError> {
        self.object(
            &self.qe_identity_url(),
            Kind::Json("enclaveIdentity"),
            QE_IDENTITY_CHAIN_HEADERS,
        )
    }

    /// The PCK CRL of `ca` (DER) and its issuer chain. Cached until its
    /// `nextUpdate`.
    pub fn pck_crl(&self, ca: PckCa) -> Result<SignedObject, CollateralError> {
        self.object(&self.pck_crl_url(ca), Kind::Crl, PCK_CRL_CHAIN_HEADERS)
    }

    /// The Intel SGX Root CA CRL (DER; a PCCS's hex answer is decoded).
    /// Cached until its `nextUpdate`.
    pub fn root_ca_crl(&self) -> Result<Vec<u8>, CollateralError> {
        let url = self.root_ca_crl_url();
        Ok(self.object(&url, Kind::Crl, &[])?.body)
    }

    /// Everything a TDX quote with an embedded PCK chain needs, for the
    /// platform `fmspc` whose PCK certificate was issued by `ca`.
    /// `pck_cert_chain` is left `None`.
    pub fn fetch_all(
        &self,
        fmspc: &[u8; 6],
        ca: PckCa,
    ) -> Result<TdxCollateralFiles, CollateralError> {
        let tcb_info = self.tcb_info(fmspc)?;
        let qe_identity = self.qe_identity()?;
        let pck_crl = self.pck_crl(ca)?;
        let root_ca_crl = self.root_ca_crl()?;
        Ok(TdxCollateralFiles {
            collateral: cogito_tdx::Collateral {
                tcb_info: tcb_info.body,
                tcb_info_issuer_chain: tcb_info.issuer_chain,
                qe_identity: qe_identity.body,
                qe_identity_issuer_chain: qe_identity.issuer_chain,
                pck_crl: pck_crl.body,
                pck_crl_issuer_chain: pck_crl.issuer_chain,
                root_ca_crl,
            },
            pck_cert_chain: None,
        })
    }

    /// One object (and, when `chain_headers` is not empty, its issuer
    /// chain): from the cache while fresh (or offline), else fetched,
    /// checked and cached.
    fn object(
        &self,
        url: &str,
        kind: Kind,
        chain_headers: &[&str],
    ) -> Result<SignedObject, CollateralError> {
        let chain_key = format!("{url}{CHAIN_SUFFIX}");
        let wants_chain = !chain_headers.is_empty();
        let body = self.cache.get(url);
        let chain = if wants_chain {
            self.cache.get(&chain_key).map(|c| c.bytes)
        } else {
            Some(Vec::new())
        };
        if let (Some(body), Some(chain)) = (&body, &chain) {
            let fresh = kind
                .next_update(&body.bytes)
                .is_some_and(|next| next > now_unix());
            if fresh || self.config.offline {
                return Ok(SignedObject {
                    body: body.bytes.clone(),
                    issuer_chain: chain.clone(),
                });
            }
            tracing::debug!(url, "cached object is past its nextUpdate, fetching again");
        }
        if self.config.offline {
            let missing = if body.is_some() { &chain_key } else { url };
            return Err(CollateralError::NotCached {
                url: missing.to_string(),
                cache: self.cache.root().display().to_string(),
            });
        }
        let resp = self.http.get(url)?;
        let bad = |reason: String| CollateralError::Fetch {
            url: url.to_string(),
            reason,
        };
        let body = kind
            .check(&resp.body)
            .map_err(|e| bad(format!("unexpected answer: {e}")))?;
        let issuer_chain = if wants_chain {
            let (name, value) = chain_headers
                .iter()
                .find_map(|h| resp.header(h).map(|v| (*h, v)))
                .ok_or_else(|| {
                    bad(format!(
                        "no {} header (expected the URL-encoded PEM issuer chain)",
                        chain_headers.join(" or ")
                    ))
                })?;
            let pem = percent_decode(value).map_err(|e| bad(format!("header {name}: {e}")))?;
            check_pem_chain(&pem).map_err(|e| bad(format!("header {name}: {e}")))?;
            self.cache.put(&chain_key, &pem)?;
            pem
        } else {
            Vec::new()
        };
        self.cache.put(url, &body)?;
        Ok(SignedObject { body, issuer_chain })
    }
}

/// Decodes `%XX` escapes (RFC 3986). `+` stays `+`: the PCS encodes the
/// base64 `+` as `%2B`, and a header is not a form.
pub(crate) fn percent_decode(input: &[u8]) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(input.len());
    let mut i = 0;
    while let Some(&c) = input.get(i) {
        if c == b'%' {
            let digit = |at: usize| input.get(at).and_then(|&d| char::from(d).to_digit(16));
            let byte = match (digit(i + 1), digit(i + 2)) {
                // Two hex digits: always below 256.
                (Some(hi), Some(lo)) => u8::try_from(hi * 16 + lo).ok(),
                _ => None,
            };
            let Some(byte) = byte else {
                return Err(format!("bad percent-encoding at byte {i}"));
            };
            out.push(byte);
            i += 3;
        } else {
            out.push(c);
            i += 1;
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_decoding() {
        assert_eq!(percent_decode(b"").unwrap(), b"");
        assert_eq!(
            percent_decode(b"-----BEGIN%20CERTIFICATE-----%0AMII%2Bab/c+d%3D%3D%0a").unwrap(),
            b"-----BEGIN CERTIFICATE-----\nMII+ab/c+d==\n"
        );
        assert_eq!(percent_decode(b"%41%7e%7E").unwrap(), b"A~~");
        for bad in [&b"%"[..], b"%4", b"abc%zz", b"%+1", b"%-1", b"%\xff\xff"] {
            assert!(percent_decode(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn urls() {
        let d = tempfile::tempdir().unwrap();
        let pcs = PcsClient::new(PcsConfig::default(), DiskCache::new(d.path()));
        let fmspc = [0xb0, 0xc0, 0x6f, 0, 0, 0];
        assert_eq!(
            pcs.tcb_info_url(&fmspc),
            "https://api.trustedservices.intel.com/tdx/certification/v4/tcb?fmspc=B0C06F000000"
        );
        assert_eq!(
            pcs.qe_identity_url(),
            "https://api.trustedservices.intel.com/tdx/certification/v4/qe/identity"
        );
        assert_eq!(
            pcs.pck_crl_url(PckCa::Processor),
            "https://api.trustedservices.intel.com/sgx/certification/v4/pckcrl?ca=processor&encoding=der"
        );
        assert_eq!(pcs.root_ca_crl_url(), INTEL_ROOT_CA_CRL);

        let pccs = PcsClient::new(
            PcsConfig {
                base_url: "https://pccs.example:8081/".into(),
                ..PcsConfig::default()
            },
            DiskCache::new(d.path()),
        );
        assert_eq!(
            pccs.pck_crl_url(PckCa::Platform),
            "https://pccs.example:8081/sgx/certification/v4/pckcrl?ca=platform&encoding=der"
        );
        assert_eq!(
            pccs.root_ca_crl_url(),
            "https://pccs.example:8081/sgx/certification/v4/rootcacrl"
        );
        let explicit = PcsClient::new(
            PcsConfig {
                root_ca_crl_url: Some("https://mirror.example/root.crl".into()),
                ..PcsConfig::default()
            },
            DiskCache::new(d.path()),
        );
        assert_eq!(
            explicit.root_ca_crl_url(),
            "https://mirror.example/root.crl"
        );
    }
}
