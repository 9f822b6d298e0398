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

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use cogito_core::lru::SharedLru;

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
    map: SharedLru<[u8; 32], Arc<VerifiedChain>>,
    hits: AtomicU64,
    misses: AtomicU64,
}

impl Default for VerifiedCache {
    fn default() -> Self {
        VerifiedCache::with_capacity(4096)
    }
}

impl VerifiedCache {
    /// A cache holding at most `capacity` chains (at least one); when full,
    /// inserting evicts the least recently used chain.
    pub fn with_capacity(capacity: usize) -> Self {
        VerifiedCache {
            map: SharedLru::new(capacity.max(1)),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }

    /// A cache that never remembers anything (each call verifies the chain).
    pub fn disabled() -> Self {
        VerifiedCache {
            map: SharedLru::new(0),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }

    pub(crate) fn get(&self, key: &[u8; 32]) -> Option<Arc<VerifiedChain>> {
        let found = self.map.get(key);
        match &found {
            Some(_) => self.hits.fetch_add(1, Ordering::Relaxed),
            None => self.misses.fetch_add(1, Ordering::Relaxed),
        };
        found
    }

    pub(crate) fn insert(&self, key: [u8; 32], chain: Arc<VerifiedChain>) {
        // Least recently used out: a flood of distinct certificates cannot
        // empty the cache of the chains other guests keep using.
        self.map.insert(key, chain);
    }

    /// Number of chains held.
    pub fn len(&self) -> usize {
        self.map.len()
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

    /// The P-384 base point: a valid public key for tests.
    fn generator_key() -> crate::crypto::P384Key {
        let point = hex::decode(concat!(
            "04",
            "aa87ca22be8b05378eb1c71ef320ad746e1d3b628ba79b9859f741e082542a385502f25dbf55296c3a545e3872760ab7",
            "3617de4a96262c6f5d9e98bf9292dc29f8f41dbd289a147ce9da3113b5f0b8c00a60b1ce1d7e819d7a431d7c90ea0e5f"
        ))
        .unwrap();
        crate::crypto::P384Key::from_sec1(&point).unwrap()
    }

    fn cert() -> CertificateClaims {
        CertificateClaims {
            role: "VCEK",
            subject: String::new(),
            serial: String::new(),
            validity: Window {
                not_before: cogito_core::VerificationTime::from_unix(0),
                not_after: cogito_core::VerificationTime::from_unix(1),
            },
            sha256: String::new(),
            builtin_anchor: false,
        }
    }

    #[test]
    fn full_cache_evicts_one_entry_not_all() {
        let c = VerifiedCache::with_capacity(2);
        let chain = |n: u8| {
            Arc::new(VerifiedChain {
                key: generator_key(),
                kind: SigningKey::Vcek,
                product: AmdProduct::Milan,
                extensions: VcekExtensions {
                    struct_version: None,
                    product_name: None,
                    bl_spl: n,
                    tee_spl: 0,
                    snp_spl: 0,
                    ucode_spl: 0,
                    fmc_spl: None,
                    hw_id: None,
                    csp_id: None,
                },
                window: Window {
                    not_before: cogito_core::VerificationTime::from_unix(0),
                    not_after: cogito_core::VerificationTime::from_unix(1),
                },
                issuer_der: vec![],
                root_der: vec![],
                certificates: [cert(), cert(), cert()],
                crls: vec![],
            })
        };
        c.insert([1; 32], chain(1));
        c.insert([2; 32], chain(2));
        // [1] is used again; [2] is then the least recently used.
        assert!(c.get(&[1; 32]).is_some());
        c.insert([3; 32], chain(3));
        assert_eq!(c.len(), 2);
        assert!(c.get(&[3; 32]).is_some());
        assert!(c.get(&[1; 32]).is_some());
        assert!(c.get(&[2; 32]).is_none());
    }

    #[test]
    fn disabled_cache_remembers_nothing() {
        let c = VerifiedCache::disabled();
        assert!(c.get(&[0; 32]).is_none());
        assert_eq!(c.stats(), (0, 1));
        assert!(c.is_empty());
    }
}
