//! A bounded, thread-safe least-recently-used map for the verifiers'
//! caches of verified chains and collateral.
//!
//! The service shares one verifier (and so one cache) between all its
//! verification threads. When the cache is full, the entry used longest ago
//! goes: a flood of distinct certificates then evicts itself rather than
//! the chains every other guest needs, and nothing is ever wiped at once.
//! A lookup moves its entry to the front, so it takes the lock for writing;
//! both operations are a hash and a few pointer moves, far below the cost
//! of the signature checks the cache saves.

use std::hash::Hash;
use std::num::NonZeroUsize;
use std::sync::Mutex;

/// The map. A capacity of 0 makes a cache that remembers nothing.
pub struct SharedLru<K: Hash + Eq, V: Clone> {
    inner: Option<Mutex<lru::LruCache<K, V>>>,
}

impl<K: Hash + Eq, V: Clone> std::fmt::Debug for SharedLru<K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharedLru")
            .field("len", &self.len())
            .field("capacity", &self.capacity())
            .finish()
    }
}

/// Policies and such: 4096 entries.
impl<K: Hash + Eq, V: Clone> Default for SharedLru<K, V> {
    fn default() -> Self {
        SharedLru::new(4096)
    }
}

impl<K: Hash + Eq, V: Clone> SharedLru<K, V> {
    /// A map of at most `capacity` entries.
    pub fn new(capacity: usize) -> Self {
        SharedLru {
            inner: NonZeroUsize::new(capacity).map(|c| Mutex::new(lru::LruCache::new(c))),
        }
    }

    /// The value under `key`, now the most recently used.
    pub fn get(&self, key: &K) -> Option<V> {
        self.inner
            .as_ref()?
            .lock()
            .ok()
            .and_then(|mut m| m.get(key).cloned())
    }

    /// Whether `key` is present (marking it used).
    pub fn contains(&self, key: &K) -> bool {
        self.get(key).is_some()
    }

    /// Inserts, evicting the least recently used entry when full.
    pub fn insert(&self, key: K, value: V) {
        if let Some(m) = &self.inner {
            if let Ok(mut m) = m.lock() {
                m.put(key, value);
            }
        }
    }

    /// Removes `key`.
    pub fn remove(&self, key: &K) {
        if let Some(m) = &self.inner {
            if let Ok(mut m) = m.lock() {
                m.pop(key);
            }
        }
    }

    /// Entries held.
    pub fn len(&self) -> usize {
        self.inner
            .as_ref()
            .and_then(|m| m.lock().ok().map(|m| m.len()))
            .unwrap_or(0)
    }

    /// Whether nothing is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The bound (0: disabled).
    pub fn capacity(&self) -> usize {
        self.inner
            .as_ref()
            .and_then(|m| m.lock().ok().map(|m| m.cap().get()))
            .unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_least_recently_used_entry_goes_first() {
        let c = SharedLru::new(2);
        c.insert(1, "a");
        c.insert(2, "b");
        // 1 is used again, so 2 is now the oldest.
        assert_eq!(c.get(&1), Some("a"));
        c.insert(3, "c");
        assert_eq!(c.len(), 2);
        assert_eq!(c.get(&2), None);
        assert_eq!(c.get(&1), Some("a"));
        assert_eq!(c.get(&3), Some("c"));
    }

    #[test]
    fn a_flood_of_new_keys_is_bounded_and_keeps_what_is_in_use() {
        let c = SharedLru::new(64);
        c.insert(u32::MAX, "hot");
        for k in 0..10_000u32 {
            c.insert(k, "cold");
            // The hot entry is used between floods: it survives.
            assert!(c.contains(&u32::MAX), "evicted at {k}");
        }
        assert_eq!(c.len(), 64);
    }

    #[test]
    fn zero_capacity_remembers_nothing() {
        let c = SharedLru::new(0);
        c.insert(1, 1);
        assert_eq!(c.get(&1), None);
        assert!(c.is_empty());
        assert_eq!(c.capacity(), 0);
    }

    #[test]
    fn is_shareable_across_threads() {
        fn send_sync<T: Send + Sync>() {}
        send_sync::<SharedLru<[u8; 32], std::sync::Arc<Vec<u8>>>>();
    }
}
