//! Collateral for the service: the store's content-addressed cache first,
//! then the vendors (AMD KDS, Intel PCS or a PCCS) when online fetching is
//! on. What one replica fetched, all replicas reuse, across restarts.
//!
//! - Keys name what an object is, not where it came from, so that objects
//!   imported from an offline bundle (`cogito collateral import`) and
//!   fetched ones are found alike: `snp/vcek/<hwid>/<bl>-<tee>-<snp>-<ucode>-<fmc>`,
//!   `snp/crl/<product>/<vcek|vlek>`, `tdx/<fmspc>/<platform|processor>`.
//! - VCEKs never change. CRLs and TDX collateral are fetched again when
//!   the stored copy is older than [`REFRESH_SECS`]; when that fails the
//!   stored copy is used and the verifier judges its validity window.
//! - Fetches are single-flight per key: concurrent verifications needing
//!   the same object wait for one fetch, and take its outcome. The clients
//!   retry busy vendors with bounded backoff within one fetch.
//! - After a fetch fails, that key is not fetched again for a while
//!   ([`BACKOFF_FIRST`], doubling up to [`BACKOFF_MAX`]): during an outage
//!   a stored copy keeps serving (the verifier judges its validity window)
//!   and without one the request fails at once, naming the last error.
//!   All fetches together are bounded too ([`FETCH_RATE`] per second):
//!   a VCEK is fetched before the report it verifies is trusted, so any
//!   client could otherwise make the service ask the vendor for made-up
//!   chips and spend the rate limit that real guests need.
//!
//! Verification runs on the verification pool's threads, outside the async
//! runtime, so the store is reached with `Handle::block_on`.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};

use cogito_core::lru::SharedLru;

use cogito_attest::{AttestError, CollateralSource, VendorSource};
use cogito_collateral::CollateralError;
use cogito_core::AmdProduct;
use cogito_snp::{SigningKey, TcbParts};
use cogito_tdx::PckCaKind;
use serde::{Deserialize, Serialize};

use crate::store::Store;

/// Seconds after which a stored CRL or TDX collateral is fetched again.
pub const REFRESH_SECS: i64 = 12 * 3600;

/// The store key of a VCEK.
pub fn vcek_key(hw_id: &[u8], tcb: &TcbParts) -> String {
    format!(
        "snp/vcek/{}/{}-{}-{}-{}-{}",
        hex::encode(hw_id),
        tcb.bootloader,
        tcb.tee,
        tcb.snp,
        tcb.microcode,
        tcb.fmc.map_or_else(|| "x".to_string(), |f| f.to_string())
    )
}

/// The store key of AMD's CRL.
pub fn snp_crl_key(product: AmdProduct, kind: SigningKey) -> String {
    let kind = match kind {
        SigningKey::Vlek => "vlek",
        _ => "vcek",
    };
    format!("snp/crl/{}/{kind}", product.as_str().to_lowercase())
}

/// The store key of Intel's collateral.
pub fn tdx_key(fmspc: &[u8; 6], ca: PckCaKind) -> String {
    let ca = match ca {
        PckCaKind::Platform => "platform",
        PckCaKind::Processor => "processor",
    };
    format!("tdx/{}/{ca}", hex::encode(fmspc))
}

/// TDX collateral as stored: the seven objects, base64 in JSON.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredTdx {
    /// `tcb_info.json` body.
    pub tcb_info: String,
    /// Its issuer chain (PEM).
    pub tcb_info_issuer_chain: String,
    /// `qe_identity.json` body.
    pub qe_identity: String,
    /// Its issuer chain (PEM).
    pub qe_identity_issuer_chain: String,
    /// The PCK CRL (DER).
    pub pck_crl: String,
    /// Its issuer chain (PEM).
    pub pck_crl_issuer_chain: String,
    /// The root CA CRL (DER).
    pub root_ca_crl: String,
}

impl StoredTdx {
    /// From collateral.
    pub fn new(c: &cogito_tdx::Collateral) -> StoredTdx {
        let b = cogito_protocol::encode_b64;
        StoredTdx {
            tcb_info: b(&c.tcb_info),
            tcb_info_issuer_chain: b(&c.tcb_info_issuer_chain),
            qe_identity: b(&c.qe_identity),
            qe_identity_issuer_chain: b(&c.qe_identity_issuer_chain),
            pck_crl: b(&c.pck_crl),
            pck_crl_issuer_chain: b(&c.pck_crl_issuer_chain),
            root_ca_crl: b(&c.root_ca_crl),
        }
    }

    /// Back to collateral.
    pub fn collateral(&self) -> Option<cogito_tdx::Collateral> {
        let d = cogito_protocol::decode_b64;
        Some(cogito_tdx::Collateral {
            tcb_info: d(&self.tcb_info)?,
            tcb_info_issuer_chain: d(&self.tcb_info_issuer_chain)?,
            qe_identity: d(&self.qe_identity)?,
            qe_identity_issuer_chain: d(&self.qe_identity_issuer_chain)?,
            pck_crl: d(&self.pck_crl)?,
            pck_crl_issuer_chain: d(&self.pck_crl_issuer_chain)?,
            root_ca_crl: d(&self.root_ca_crl)?,
        })
    }
}

/// The first pause after a failed fetch of one object.
pub const BACKOFF_FIRST: Duration = Duration::from_secs(2);
/// The longest pause between fetches of one object that keep failing.
pub const BACKOFF_MAX: Duration = Duration::from_secs(300);
/// Vendor fetches per second, all objects together (and as many at once).
pub const FETCH_RATE: u32 = 20;
/// Keys whose fetch state is kept; past it, idle keys are forgotten.
const FLIGHTS_MAX: usize = 4096;

/// One object's fetches: held while fetching (single flight), and how the
/// last ones went.
#[derive(Debug, Default)]
struct Flight {
    /// Failures in a row.
    failures: u32,
    /// No fetch before this.
    not_before: Option<Instant>,
    /// The last failure, for the requests refused meanwhile.
    last_error: String,
}

impl Flight {
    fn failed(&mut self, error: String, now: Instant) {
        self.failures = self.failures.saturating_add(1);
        let exp = self.failures.saturating_sub(1).min(16);
        let pause = BACKOFF_FIRST.saturating_mul(1u32 << exp).min(BACKOFF_MAX);
        self.not_before = Some(now + pause);
        self.last_error = error;
    }

    fn succeeded(&mut self) {
        *self = Flight::default();
    }

    /// How long until the next fetch may go out.
    fn wait(&self, now: Instant) -> Option<Duration> {
        self.not_before
            .and_then(|t| t.checked_duration_since(now))
            .filter(|d| !d.is_zero())
    }
}

/// The store, then the vendors.
pub struct StoreSource {
    store: Arc<dyn Store>,
    vendor: Option<VendorSource>,
    runtime: tokio::runtime::Handle,
    flights: Mutex<HashMap<String, Arc<Mutex<Flight>>>>,
    budget: DefaultDirectRateLimiter,
    /// What the store answered (found or not), kept for [`MEMO_SECS`]:
    /// every verification asks for its collateral (a TDX quote's TCB Info
    /// and QE Identity, AMD's CRL), and a store query, its decoding and
    /// the thread hops they cost each time measured at more than the
    /// cached verification itself.
    memo: SharedLru<String, Memo>,
    /// Decoded TDX collateral, by the bytes' key, for as long.
    tdx_memo: SharedLru<String, (i64, Option<Arc<cogito_tdx::Collateral>>)>,
}

/// When the store was asked, and its answer: the object and when it was
/// fetched from the vendor, or nothing.
type Memo = (i64, Option<(Arc<Vec<u8>>, i64)>);

/// Seconds the store's answer about a collateral object is reused without
/// asking it again. Collateral changes by the day; an import through
/// another replica is seen within this time (through this one, at once).
pub const MEMO_SECS: i64 = 60;

impl std::fmt::Debug for StoreSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoreSource")
            .field("online", &self.vendor.is_some())
            .finish_non_exhaustive()
    }
}

fn now() -> i64 {
    cogito_core::VerificationTime::now().unix()
}

/// What a lookup that could not fetch answers: a stale copy beats none
/// (the verifier judges its window); without one, the reason.
fn stale_or(
    key: &str,
    stored: Option<(Vec<u8>, i64)>,
    e: AttestError,
) -> Result<Option<Vec<u8>>, AttestError> {
    match stored {
        Some((b, _)) => {
            tracing::warn!(key, error = %e, "using the stored copy");
            Ok(Some(b))
        }
        None => {
            metrics::counter!("cogito_collateral_fetch_failures_total").increment(1);
            Err(e)
        }
    }
}

fn fetch_error(what: &str, e: impl std::fmt::Display) -> AttestError {
    AttestError::Collateral(CollateralError::Fetch {
        url: what.to_string(),
        reason: e.to_string(),
    })
}

impl StoreSource {
    /// A source over `store`; `vendor` fetches what the store lacks
    /// (`None`: offline, the store only).
    pub fn new(
        store: Arc<dyn Store>,
        vendor: Option<VendorSource>,
        runtime: tokio::runtime::Handle,
    ) -> StoreSource {
        StoreSource {
            store,
            vendor,
            runtime,
            flights: Mutex::new(HashMap::new()),
            budget: RateLimiter::direct(Quota::per_second(
                NonZeroU32::new(FETCH_RATE).unwrap_or(NonZeroU32::MIN),
            )),
            memo: SharedLru::new(4096),
            tdx_memo: SharedLru::new(1024),
        }
    }

    /// Forgets what the store said about `key` (after an import).
    pub fn forget(&self, key: &str) {
        self.memo.remove(&key.to_string());
        self.tdx_memo.remove(&key.to_string());
    }

    fn stored(&self, key: &str) -> Option<(Vec<u8>, i64)> {
        let now = now();
        if let Some((at, found)) = self.memo.get(&key.to_string()) {
            if now.saturating_sub(at) < MEMO_SECS {
                return found.map(|(b, t)| (b.to_vec(), t));
            }
        }
        match self.runtime.block_on(self.store.collateral(key)) {
            Ok(found) => {
                self.memo.insert(
                    key.to_string(),
                    (now, found.clone().map(|(b, t)| (Arc::new(b), t))),
                );
                found
            }
            Err(e) => {
                tracing::warn!(key, error = %e, "collateral cache lookup failed");
                metrics::counter!("cogito_store_errors_total").increment(1);
                None
            }
        }
    }

    fn put(&self, key: &str, body: &[u8], at: i64) {
        self.forget(key);
        if let Err(e) = self
            .runtime
            .block_on(self.store.put_collateral(key, body, at))
        {
            tracing::warn!(key, error = %e, "could not cache collateral");
            metrics::counter!("cogito_store_errors_total").increment(1);
        }
    }

    /// The object under `key`: from the store when present (and fresh,
    /// when `refresh` says how fresh), else from `fetch`, which is then
    /// stored. One fetch per key at a time.
    ///
    /// `provides` says whether the vendor source fetches this kind of
    /// object at all (AMD's CRL may be off, a vendor's client absent);
    /// when it does not, the store's copy is all there is, and no fetch
    /// state or budget is touched.
    fn get(
        &self,
        key: &str,
        refresh: bool,
        provides: impl FnOnce(&VendorSource) -> bool,
        fetch: impl FnOnce(&VendorSource) -> Result<Option<Vec<u8>>, AttestError>,
    ) -> Result<Option<Vec<u8>>, AttestError> {
        let fresh =
            |(body, at): (Vec<u8>, i64)| (!refresh || now() - at < REFRESH_SECS).then_some(body);
        let first = self.stored(key);
        if let Some(body) = first.clone().and_then(fresh) {
            metrics::counter!("cogito_collateral_cache_hits_total").increment(1);
            return Ok(Some(body));
        }
        let Some(vendor) = self.vendor.as_ref().filter(|v| provides(v)) else {
            // Offline: a stale copy is all there is.
            return Ok(first.map(|(b, _)| b));
        };
        let flight = self.flight(key)?;
        let mut flight = flight
            .lock()
            .map_err(|_| fetch_error(key, "lock poisoned"))?;
        // Another thread may have fetched it while this one waited.
        if let Some(body) = self.stored(key).and_then(fresh) {
            metrics::counter!("cogito_collateral_cache_hits_total").increment(1);
            return Ok(Some(body));
        }
        if let Some(wait) = flight.wait(Instant::now()) {
            metrics::counter!("cogito_collateral_fetches_deferred_total").increment(1);
            return stale_or(
                key,
                first,
                fetch_error(
                    key,
                    format!(
                        "{} (not asked again for another {} s)",
                        flight.last_error,
                        wait.as_secs().max(1)
                    ),
                ),
            );
        }
        if self.budget.check().is_err() {
            metrics::counter!("cogito_collateral_fetches_deferred_total").increment(1);
            return stale_or(key, first, fetch_error(
                key,
                format!("more than {FETCH_RATE} vendor fetches a second are under way; try again shortly"),
            ));
        }
        metrics::counter!("cogito_collateral_fetches_total").increment(1);
        match fetch(vendor) {
            Ok(Some(body)) => {
                flight.succeeded();
                self.put(key, &body, now());
                Ok(Some(body))
            }
            Ok(None) => {
                flight.succeeded();
                Ok(first.map(|(b, _)| b))
            }
            Err(e) => {
                flight.failed(e.to_string(), Instant::now());
                stale_or(key, first, e)
            }
        }
    }

    /// The fetch state of `key`, made when absent. Past [`FLIGHTS_MAX`]
    /// keys, those no thread holds and that are not pausing are dropped.
    fn flight(&self, key: &str) -> Result<Arc<Mutex<Flight>>, AttestError> {
        let mut flights = self
            .flights
            .lock()
            .map_err(|_| fetch_error(key, "single-flight lock poisoned"))?;
        if flights.len() >= FLIGHTS_MAX && !flights.contains_key(key) {
            let now = Instant::now();
            flights.retain(|_, f| {
                Arc::strong_count(f) > 1
                    || f.try_lock().map_or(true, |state| state.wait(now).is_some())
            });
        }
        Ok(flights.entry(key.to_string()).or_default().clone())
    }
}

impl CollateralSource for StoreSource {
    fn provides(&self) -> bool {
        true
    }

    fn snp_vcek(
        &self,
        product: AmdProduct,
        hw_id: &[u8],
        tcb: &TcbParts,
    ) -> Result<Option<Vec<u8>>, AttestError> {
        self.get(
            &vcek_key(hw_id, tcb),
            false,
            |v| v.kds.is_some(),
            |v| v.snp_vcek(product, hw_id, tcb),
        )
    }

    fn snp_crl(
        &self,
        product: AmdProduct,
        kind: SigningKey,
    ) -> Result<Option<Vec<u8>>, AttestError> {
        self.get(
            &snp_crl_key(product, kind),
            true,
            |v| v.snp_crl && v.kds.is_some(),
            |v| v.snp_crl(product, kind),
        )
    }

    fn tdx_collateral(
        &self,
        fmspc: &[u8; 6],
        ca: PckCaKind,
    ) -> Result<Option<cogito_tdx::Collateral>, AttestError> {
        let key = tdx_key(fmspc, ca);
        let now = now();
        if let Some((at, found)) = self.tdx_memo.get(&key) {
            // Fresh by the store's measure too: past REFRESH_SECS the
            // vendor is asked again, through `get`.
            let fresh = found.is_some() || self.vendor.as_ref().is_none_or(|v| v.pcs.is_none());
            if fresh && now.saturating_sub(at) < MEMO_SECS {
                if found.is_some() {
                    metrics::counter!("cogito_collateral_cache_hits_total").increment(1);
                }
                return Ok(found.map(|c| (*c).clone()));
            }
        }
        let body = self.get(
            &key,
            true,
            |v| v.pcs.is_some(),
            |v| {
                Ok(v.tdx_collateral(fmspc, ca)?
                    .and_then(|c| serde_json::to_vec(&StoredTdx::new(&c)).ok()))
            },
        )?;
        let decoded = body
            .and_then(|b| serde_json::from_slice::<StoredTdx>(&b).ok())
            .and_then(|s| s.collateral());
        self.tdx_memo
            .insert(key, (now, decoded.clone().map(Arc::new)));
        Ok(decoded)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failing_object_pauses_doubling_to_the_cap_and_a_success_clears_it() {
        let t0 = Instant::now();
        let mut f = Flight::default();
        assert_eq!(f.wait(t0), None, "a new object may be fetched");
        let mut pauses = Vec::new();
        for _ in 0..12 {
            f.failed("KDS: 503".into(), t0);
            pauses.push(f.wait(t0).unwrap().as_secs());
        }
        assert_eq!(pauses, [2, 4, 8, 16, 32, 64, 128, 256, 300, 300, 300, 300]);
        assert_eq!(f.last_error, "KDS: 503");
        // Past the pause the next fetch may go out.
        assert_eq!(f.wait(t0 + BACKOFF_MAX), None);
        f.succeeded();
        assert_eq!(f.failures, 0);
        assert_eq!(f.wait(t0), None);
    }
}
