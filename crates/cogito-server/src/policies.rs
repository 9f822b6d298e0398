//! Policies as the service appraises with them: loaded from the store (and,
//! with `policy_dir`, from files), included reference-value files resolved
//! from the store, parsed once and kept for [`TTL_SECS`] per (name,
//! version) request, so a policy change reaches every replica within that
//! time without a store read per attestation.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};

use cogito_core::lru::SharedLru;
use cogito_policy::Policy;

use crate::store::{DocKind, Store, StoreError};

/// Seconds a resolved policy is reused before the store is asked again.
pub const TTL_SECS: i64 = 1;

/// A policy ready to appraise with.
#[derive(Debug)]
pub struct LoadedPolicy {
    /// The name.
    pub name: String,
    /// The version (0 for a policy served from `policy_dir`).
    pub version: i64,
    /// The parsed policy.
    pub policy: Policy,
}

impl LoadedPolicy {
    /// `policy:<name>#sha256:<digest>`, as the EAR names it.
    pub fn id(&self) -> String {
        format!("policy:{}#sha256:{}", self.policy.name, self.policy.digest)
    }
}

/// Why a policy could not be had.
#[derive(Debug, thiserror::Error)]
pub enum PolicyLoadError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The stored text does not load (should not happen: uploads are
    /// validated).
    #[error("{0}")]
    Invalid(String),
}

type Entry = (i64, Option<Arc<LoadedPolicy>>);

/// The cache.
#[derive(Default)]
pub struct PolicyCache {
    entries: SharedLru<(String, Option<i64>), Entry>,
    /// Policies from `policy_dir`, by name; they win over the store.
    files: RwLock<HashMap<String, Arc<LoadedPolicy>>>,
    dir: Option<PathBuf>,
}

impl std::fmt::Debug for PolicyCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PolicyCache")
    }
}

/// The `[policy] include` list of a policy text (empty when absent or
/// unreadable; the loader then reports the problem itself).
pub fn includes_of(text: &str) -> Vec<String> {
    toml::from_str::<toml::Table>(text)
        .ok()
        .and_then(|t| t.get("policy").and_then(|p| p.get("include")).cloned())
        .and_then(|v| v.as_array().cloned())
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// Loads a policy text with its includes taken from `refvalues`.
pub fn load_with(
    name: &str,
    text: &str,
    refvalues: &HashMap<String, String>,
) -> Result<Policy, cogito_policy::PolicyError> {
    cogito_policy::load(name, text, &mut |inc: &str| {
        refvalues
            .get(inc)
            .cloned()
            .ok_or_else(|| format!("no reference-value file named {inc:?} in the store"))
    })
}

/// Fetches the latest version of every reference-value file `text`
/// includes.
pub async fn includes_from_store(
    store: &dyn Store,
    text: &str,
) -> Result<HashMap<String, String>, StoreError> {
    let mut out = HashMap::new();
    for inc in includes_of(text) {
        if let Some(doc) = store.doc(DocKind::RefValues, &inc, None).await? {
            out.insert(inc, doc.text);
        }
    }
    Ok(out)
}

impl PolicyCache {
    /// A cache that also serves the policies of `dir`.
    pub fn new(dir: Option<PathBuf>) -> PolicyCache {
        PolicyCache {
            dir,
            ..PolicyCache::default()
        }
    }

    /// The policy `name` (`version`: a pinned one, or the latest), or
    /// `None` when there is no such policy.
    pub async fn get(
        &self,
        store: &dyn Store,
        name: &str,
        version: Option<i64>,
        now: i64,
    ) -> Result<Option<Arc<LoadedPolicy>>, PolicyLoadError> {
        if version.is_none() {
            if let Some(p) = self.files.read().ok().and_then(|f| f.get(name).cloned()) {
                return Ok(Some(p));
            }
        }
        let key = (name.to_string(), version);
        if let Some((at, p)) = self.entries.get(&key) {
            if now - at < TTL_SECS {
                return Ok(p);
            }
        }
        let loaded = match store.doc(DocKind::Policy, name, version).await? {
            None => None,
            Some(row) => {
                // Reuse the parsed policy when the version and its
                // includes are what the cache already holds.
                let refvalues = includes_from_store(store, &row.text).await?;
                let policy = load_with(name, &row.text, &refvalues)
                    .map_err(|e| PolicyLoadError::Invalid(e.to_string()))?;
                let cached = self.entries.get(&key).and_then(|(_, p)| {
                    p.filter(|p| p.version == row.version && p.policy.digest == policy.digest)
                });
                Some(cached.unwrap_or_else(|| {
                    Arc::new(LoadedPolicy {
                        name: name.to_string(),
                        version: row.version,
                        policy,
                    })
                }))
            }
        };
        self.entries.insert(key, (now, loaded.clone()));
        Ok(loaded)
    }

    /// Forgets what was read of policy `name` (after an upload through
    /// this replica, which then serves the new version at once).
    pub fn forget(&self, name: &str) {
        self.entries.remove(&(name.to_string(), None));
    }

    /// Reads `policy_dir` again: every `NAME.toml` that loads replaces the
    /// served version of NAME; one that does not is reported and the
    /// previous version stays; a deleted file is served no longer. Returns
    /// the errors.
    pub fn reload_dir(&self) -> Vec<String> {
        let Some(dir) = &self.dir else {
            return Vec::new();
        };
        let mut errors = Vec::new();
        let entries = match std::fs::read_dir(dir) {
            Ok(e) => e,
            Err(e) => return vec![format!("{}: {e}", dir.display())],
        };
        let mut loaded = HashMap::new();
        let mut present = std::collections::HashSet::new();
        for entry in entries.flatten() {
            let path = entry.path();
            if path.extension().is_none_or(|x| x != "toml") {
                continue;
            }
            let Some(name) = path
                .file_stem()
                .and_then(|s| s.to_str())
                .map(str::to_string)
            else {
                continue;
            };
            present.insert(name.clone());
            let text = match std::fs::read_to_string(&path) {
                Ok(t) => t,
                Err(e) => {
                    errors.push(format!("{}: {e}", path.display()));
                    continue;
                }
            };
            let base = path.parent().map(PathBuf::from).unwrap_or_default();
            let result = cogito_policy::load(&path.display().to_string(), &text, &mut |inc| {
                std::fs::read_to_string(base.join(inc)).map_err(|e| e.to_string())
            });
            match result {
                Ok(policy) => {
                    loaded.insert(
                        name.clone(),
                        Arc::new(LoadedPolicy {
                            name,
                            version: 0,
                            policy,
                        }),
                    );
                }
                Err(e) => errors.push(e.to_string()),
            }
        }
        if let Ok(mut f) = self.files.write() {
            // A deleted file's policy is no longer served; a file that
            // does not load keeps its previous version.
            f.retain(|name, _| present.contains(name));
            for (name, p) in loaded {
                f.insert(name, p);
            }
        }
        errors
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn includes_are_read_from_the_policy_table() {
        assert_eq!(
            includes_of("[policy]\nname = \"x\"\ninclude = [\"a.toml\", \"b\"]\n[snp]\n"),
            vec!["a.toml", "b"]
        );
        assert!(includes_of("not toml [").is_empty());
        assert!(includes_of("[policy]\nname = \"x\"\n").is_empty());
    }
}
