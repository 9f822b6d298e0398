//! The cache of verified endorsement chains.
//!
//! Verifying an SNP report costs one ECDSA P-384 verification; verifying
//! its chain (ARK self-signature, ARK→ASK, ASK→VCEK, CRLs: four RSA-4096
//! PSS verifications plus X.509 parsing) costs far more and its result only
//! depends on the certificate and CRL bytes and the time. [`VerifiedCache`]
//! remembers verified chains keyed by the SHA-256 of the leaf certificate
//! and CRL bytes; an entry is used only inside the chain's validity window
//! and only while the anchors it ended in are still trusted. It is an
//! in-memory structure the caller passes in: no I/O.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use cogito_core::time::Window;
use cogito_core::AmdProduct;

use crate::cert::VcekExtensions;
use crate::claims::{CertificateClaims, CrlClaims};
use crate::crypto::P384Key;
use crate::report::SigningKey;

/// A chain that was verified once.
#[derive(Debug)]
pub struct VerifiedChain {
    /// The leaf's public key, parsed.
    pub key: P384Key,
    /// VCEK or VLEK.
    pub kind: SigningKey,
    /// The product the chain was verified for.
    pub product: AmdProduct,
    /// The leaf's AMD extensions.
    pub extensions: VcekExtensions,
    /// The intersection of every certificate's and CRL's validity window.
    pub window: Window,
    /// The pinned issuer (ASK/ASVK) the leaf chains to, DER.
    pub issuer_der: Vec<u8>,
    /// The pinned ARK, DER.
    pub root_der: Vec<u8>,
    /// Leaf, issuer and root, for claims.
    pub certificates: [CertificateClaims; 3],
    /// The CRLs that were checked.
    pub crls: Vec<CrlClaims>,
}

/// A thread-safe cache of verified chains (see the module docs).
#[derive(Debug)]
pub struct VerifiedCache {
    map: RwLock<HashMap<[u8; 32], Arc<VerifiedChain>>>,
    capacity: usize,
    hits: AtomicU64,
    misses: AtomicU64,
}

impl Default for VerifiedCache {
    fn default() -> Self {
        VerifiedCache::with_capacity(4096)
    }
}

impl VerifiedCache {
    /// A cache holding at most `capacity` chains (when full it starts over,
    /// which bounds memory without an eviction policy on the hot path).
    pub fn with_capacity(capacity: usize) -> Self {
        VerifiedCache {
            map: RwLock::new(HashMap::new()),
            capacity: capacity.max(1),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }

    /// A cache that never remembers anything (each call verifies the chain).
    pub fn disabled() -> Self {
        VerifiedCache {
            map: RwLock::new(HashMap::new()),
            capacity: 0,
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }

    pub(crate) fn get(&self, key: &[u8; 32]) -> Option<Arc<VerifiedChain>> {
        let found = self.map.read().ok().and_then(|m| m.get(key).cloned());
        match &found {
            Some(_) => self.hits.fetch_add(1, Ordering::Relaxed),
            None => self.misses.fetch_add(1, Ordering::Relaxed),
        };
        found
    }

    pub(crate) fn insert(&self, key: [u8; 32], chain: Arc<VerifiedChain>) {
        if self.capacity == 0 {
            return;
        }
        if let Ok(mut m) = self.map.write() {
            if m.len() >= self.capacity {
                m.clear();
            }
            m.insert(key, chain);
        }
    }

    /// Number of chains held.
    pub fn len(&self) -> usize {
        self.map.read().map(|m| m.len()).unwrap_or(0)
    }

    /// Whether no chain is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// (hits, misses) since creation.
    pub fn stats(&self) -> (u64, u64) {
        (
            self.hits.load(Ordering::Relaxed),
            self.misses.load(Ordering::Relaxed),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The service shares one cache between request handlers.
    #[test]
    fn cache_is_shareable_across_threads() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<VerifiedCache>();
        assert_send_sync::<Arc<VerifiedChain>>();
    }

    #[test]
    fn disabled_cache_remembers_nothing() {
        let c = VerifiedCache::disabled();
        assert!(c.get(&[0; 32]).is_none());
        assert_eq!(c.stats(), (0, 1));
        assert!(c.is_empty());
    }
}
