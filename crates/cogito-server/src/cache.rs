//! Store reads reused for a second: what every attestation reads (a
//! secret's row) is asked of the store at most once per second per name
//! and replica. A change made through this replica is seen at once (the
//! admin API forgets the entry); one made through another replica within
//! [`TTL_SECS`].

use cogito_core::lru::SharedLru;

/// Seconds an entry is reused.
pub const TTL_SECS: i64 = 1;

/// A bounded map whose entries expire.
pub struct TtlCache<V: Clone> {
    map: SharedLru<String, (i64, V)>,
}

impl<V: Clone> std::fmt::Debug for TtlCache<V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TtlCache")
            .field("len", &self.map.len())
            .finish()
    }
}

impl<V: Clone> Default for TtlCache<V> {
    fn default() -> Self {
        TtlCache {
            map: SharedLru::new(4096),
        }
    }
}

impl<V: Clone> TtlCache<V> {
    /// The value stored for `key` less than [`TTL_SECS`] before `now`.
    pub fn get(&self, key: &str, now: i64) -> Option<V> {
        self.map
            .get(&key.to_string())
            .filter(|(at, _)| now.saturating_sub(*at) < TTL_SECS)
            .map(|(_, v)| v)
    }

    /// Stores `value` as read at `now`.
    pub fn put(&self, key: &str, now: i64, value: V) {
        self.map.insert(key.to_string(), (now, value));
    }

    /// Forgets `key` (after a change through this replica).
    pub fn forget(&self, key: &str) {
        self.map.remove(&key.to_string());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_expire_and_can_be_forgotten() {
        let c = TtlCache::default();
        c.put("a", 100, 1);
        assert_eq!(c.get("a", 100), Some(1));
        assert_eq!(c.get("a", 101), None);
        c.put("b", 100, 2);
        c.forget("b");
        assert_eq!(c.get("b", 100), None);
    }
}
