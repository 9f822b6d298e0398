//! Key material.
//!
//! - The **KEK** (key-encryption key, 32 bytes) never enters the store: it
//!   comes from `COGITO_KEK` (64 hex digits) or a file (`kek` in the data
//!   directory, created 0600 at first start, or the configured one). A
//!   dump of the store without it reveals no secret and no private key.
//! - Everything else lives in the store, wrapped by the KEK
//!   (AES-256-GCM, a random 96-bit nonce, the purpose and key id as
//!   associated data), so every replica with the same KEK signs and checks
//!   alike: the **token-signing keys** (ES256) and the **nonce MAC key**
//!   (HMAC-SHA256).
//! - A rotated signing key stops signing but stays in the JWKS until the
//!   tokens it signed have expired.

use std::path::Path;
use std::sync::RwLock;

use aws_lc_rs::aead::{self, Aad, LessSafeKey, Nonce, UnboundKey};
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use aws_lc_rs::signature::{EcdsaKeyPair, KeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
use aws_lc_rs::{digest, hmac};

use crate::error::StartError;
use crate::store::{KeyRow, Store};

/// Format version of wrapped blobs.
const WRAP_VERSION: u8 = 1;

/// The key-encryption key.
pub struct Kek {
    key: LessSafeKey,
}

impl std::fmt::Debug for Kek {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Kek(…)")
    }
}

/// A blob that does not unwrap: another KEK, or tampering.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a wrapped key does not unwrap with this KEK (another KEK, or a damaged store)")]
pub struct UnwrapError;

/// Fills a buffer from the system's random source.
pub fn random<const N: usize>() -> Result<[u8; N], StartError> {
    let mut out = [0u8; N];
    SystemRandom::new()
        .fill(&mut out)
        .map_err(|_| StartError::Keys {
            what: "the system random source failed".into(),
        })?;
    Ok(out)
}

impl Kek {
    /// From 32 bytes.
    pub fn from_bytes(bytes: &[u8; 32]) -> Result<Kek, StartError> {
        let key = UnboundKey::new(&aead::AES_256_GCM, bytes).map_err(|_| StartError::Keys {
            what: "the KEK is not a valid AES-256 key".into(),
        })?;
        Ok(Kek {
            key: LessSafeKey::new(key),
        })
    }

    /// `COGITO_KEK` when set (64 hex digits); else the file, created with
    /// 32 random bytes and mode 0600 when it does not exist.
    pub fn load(env_hex: Option<&str>, file: &Path) -> Result<(Kek, String), StartError> {
        if let Some(h) = env_hex {
            let bytes: [u8; 32] = hex::decode(h.trim())
                .ok()
                .and_then(|v| v.try_into().ok())
                .ok_or_else(|| StartError::Keys {
                    what: "COGITO_KEK must be 64 hex digits (32 bytes)".into(),
                })?;
            return Ok((Kek::from_bytes(&bytes)?, "COGITO_KEK".into()));
        }
        match std::fs::read(file) {
            Ok(b) => {
                refuse_shared_kek_file(file)?;
                let bytes: [u8; 32] = b.try_into().map_err(|_| StartError::Keys {
                    what: format!("{}: a KEK file holds exactly 32 bytes", file.display()),
                })?;
                Ok((Kek::from_bytes(&bytes)?, file.display().to_string()))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let bytes = random::<32>()?;
                write_private(file, &bytes)?;
                tracing::warn!(
                    path = %file.display(),
                    "created a new key-encryption key; back it up: without it the store's secrets cannot be read"
                );
                Ok((Kek::from_bytes(&bytes)?, file.display().to_string()))
            }
            Err(e) => Err(StartError::Io {
                what: format!("reading the KEK {}", file.display()),
                source: e,
            }),
        }
    }

    /// Wraps `plain` for `context` (the purpose and id it is bound to).
    pub fn wrap(&self, context: &str, plain: &[u8]) -> Result<Vec<u8>, UnwrapError> {
        let nonce_bytes = random::<12>().map_err(|_| UnwrapError)?;
        let mut buf = plain.to_vec();
        self.key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce_bytes),
                Aad::from(context.as_bytes()),
                &mut buf,
            )
            .map_err(|_| UnwrapError)?;
        let mut out = Vec::with_capacity(1 + 12 + buf.len());
        out.push(WRAP_VERSION);
        out.extend_from_slice(&nonce_bytes);
        out.extend_from_slice(&buf);
        Ok(out)
    }

    /// Unwraps what [`Kek::wrap`] made for the same `context`.
    pub fn unwrap(&self, context: &str, wrapped: &[u8]) -> Result<Vec<u8>, UnwrapError> {
        let (version, rest) = wrapped.split_first().ok_or(UnwrapError)?;
        if *version != WRAP_VERSION {
            return Err(UnwrapError);
        }
        let (nonce, sealed) = rest.split_first_chunk::<12>().ok_or(UnwrapError)?;
        let mut buf = sealed.to_vec();
        let plain = self
            .key
            .open_in_place(
                Nonce::assume_unique_for_key(*nonce),
                Aad::from(context.as_bytes()),
                &mut buf,
            )
            .map_err(|_| UnwrapError)?;
        Ok(plain.to_vec())
    }
}

/// Writes a file readable by its owner only (0600), refusing to replace
/// one.
pub fn write_private(path: &Path, bytes: &[u8]) -> Result<(), StartError> {
    use std::io::Write as _;
    #[cfg(unix)]
    use std::os::unix::fs::OpenOptionsExt as _;
    let io = |e| StartError::Io {
        what: format!("writing {}", path.display()),
        source: e,
    };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(io)?;
    }
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    opts.mode(0o600);
    let mut f = opts.open(path).map_err(io)?;
    f.write_all(bytes).map_err(io)?;
    f.sync_all().map_err(io)
}

/// One token-signing key.
pub struct SigningKey {
    /// Key id.
    pub kid: String,
    /// PKCS#8 DER of the private key.
    pkcs8: Vec<u8>,
    pair: EcdsaKeyPair,
    /// The uncompressed public point.
    pub public: Vec<u8>,
    /// Created at.
    pub created: i64,
    /// Retired at.
    pub retired: Option<i64>,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .field("retired", &self.retired)
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    /// The PKCS#8 DER, for the JWT encoder.
    pub fn pkcs8(&self) -> &[u8] {
        &self.pkcs8
    }

    /// Signs (ES256, fixed `r ‖ s`).
    pub fn sign(&self, message: &[u8]) -> Option<Vec<u8>> {
        self.pair
            .sign(&SystemRandom::new(), message)
            .ok()
            .map(|s| s.as_ref().to_vec())
    }
}

/// The key id of a public key: the first 16 hex digits of its SHA-256.
fn kid_of(public: &[u8]) -> String {
    let d = digest::digest(&digest::SHA256, public);
    hex::encode(d.as_ref().get(..8).unwrap_or_default())
}

/// The keys the service signs tokens and MACs nonces with.
pub struct KeyRing {
    kek: Kek,
    signing: RwLock<Vec<SigningKey>>,
    nonce: RwLock<Vec<(String, hmac::Key)>>,
    /// When the keys were last read from the store (Unix seconds).
    loaded_at: std::sync::atomic::AtomicI64,
}

/// Seconds between the background reloads of the keys (`lib.rs`), and so
/// the longest a replica may go on signing with a key another replica has
/// retired.
pub const RELOAD_SECS: i64 = 30;

impl std::fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("KeyRing")
    }
}

fn keys_err(e: impl std::fmt::Display) -> StartError {
    StartError::Keys {
        what: e.to_string(),
    }
}

impl KeyRing {
    /// Loads the keys from the store, creating a signing key and a nonce
    /// key at first start.
    pub async fn open(kek: Kek, store: &dyn Store, now: i64) -> Result<KeyRing, StartError> {
        let ring = KeyRing {
            kek,
            signing: RwLock::new(Vec::new()),
            nonce: RwLock::new(Vec::new()),
            loaded_at: std::sync::atomic::AtomicI64::new(0),
        };
        if store.keys("signing").await?.is_empty() {
            ring.create_signing_key(store, now).await?;
        }
        if store.keys("nonce").await?.is_empty() {
            let key = random::<32>()?;
            let row = KeyRow {
                // One well-known id: replicas starting together insert the
                // same row, and all but one insert nothing.
                kid: "nonce-1".into(),
                purpose: "nonce".into(),
                wrapped: ring.kek.wrap("nonce/nonce-1", &key).map_err(keys_err)?,
                public: Vec::new(),
                created: now,
                retired: None,
            };
            store.insert_key(&row).await?;
        }
        ring.reload(store).await?;
        Ok(ring)
    }

    /// A ring of one active signing key (PKCS#8 DER of a P-256 key,
    /// created at `created`) and no nonce key, without a store: for tests
    /// and the fuzz target `token`, which check tokens against a fixed
    /// key. The service builds its ring with [`KeyRing::open`].
    #[doc(hidden)]
    pub fn with_signing_key(kek: Kek, pkcs8: &[u8], created: i64) -> Result<KeyRing, StartError> {
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8)
            .map_err(|_| keys_err("the signing key is not a P-256 PKCS#8 key"))?;
        let public = pair.public_key().as_ref().to_vec();
        let key = SigningKey {
            kid: kid_of(&public),
            pkcs8: pkcs8.to_vec(),
            pair,
            public,
            created,
            retired: None,
        };
        Ok(KeyRing {
            kek,
            signing: RwLock::new(vec![key]),
            nonce: RwLock::new(Vec::new()),
            loaded_at: std::sync::atomic::AtomicI64::new(created),
        })
    }

    /// The KEK.
    pub fn kek(&self) -> &Kek {
        &self.kek
    }

    /// Makes a new signing key and stores it; returns its kid.
    pub async fn create_signing_key(
        &self,
        store: &dyn Store,
        now: i64,
    ) -> Result<String, StartError> {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
            .map_err(|_| keys_err("could not generate a P-256 key"))?;
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref())
            .map_err(|_| keys_err("generated P-256 key does not load"))?;
        let public = pair.public_key().as_ref().to_vec();
        let kid = kid_of(&public);
        let row = KeyRow {
            kid: kid.clone(),
            purpose: "signing".into(),
            wrapped: self
                .kek
                .wrap(&format!("signing/{kid}"), pkcs8.as_ref())
                .map_err(keys_err)?,
            public,
            created: now,
            retired: None,
        };
        store.insert_key(&row).await?;
        Ok(kid)
    }

    /// Re-reads the keys from the store (another replica may have rotated).
    pub async fn reload(&self, store: &dyn Store) -> Result<(), StartError> {
        let mut signing = Vec::new();
        for row in store.keys("signing").await? {
            let pkcs8 = self
                .kek
                .unwrap(&format!("signing/{}", row.kid), &row.wrapped)
                .map_err(keys_err)?;
            let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &pkcs8)
                .map_err(|_| keys_err(format!("signing key {} does not load", row.kid)))?;
            signing.push(SigningKey {
                kid: row.kid,
                pkcs8,
                pair,
                public: row.public,
                created: row.created,
                retired: row.retired,
            });
        }
        let mut nonce = Vec::new();
        for row in store.keys("nonce").await? {
            let key = self
                .kek
                .unwrap(&format!("nonce/{}", row.kid), &row.wrapped)
                .map_err(keys_err)?;
            nonce.push((row.kid, hmac::Key::new(hmac::HMAC_SHA256, &key)));
        }
        // The oldest active key signs, so that replicas that created keys
        // at the same first start agree on one.
        signing.sort_by(|a, b| (a.created, &a.kid).cmp(&(b.created, &b.kid)));
        if let Ok(mut s) = self.signing.write() {
            *s = signing;
        }
        if let Ok(mut n) = self.nonce.write() {
            *n = nonce;
        }
        self.loaded_at.store(
            cogito_core::VerificationTime::now().unix(),
            std::sync::atomic::Ordering::Relaxed,
        );
        Ok(())
    }

    /// Reloads unless the keys were read in the last second: a token
    /// signed by a key another replica just made is then honoured at once,
    /// and unknown key ids cannot make every request read the store.
    pub async fn reload_if_stale(&self, store: &dyn Store, now: i64) -> bool {
        let last = self.loaded_at.load(std::sync::atomic::Ordering::Relaxed);
        if now.saturating_sub(last) < 1 {
            return false;
        }
        self.reload(store).await.is_ok()
    }

    /// Runs `f` with the signing key in use.
    pub fn with_signer<T>(&self, f: impl FnOnce(&SigningKey) -> T) -> Option<T> {
        let keys = self.signing.read().ok()?;
        keys.iter().find(|k| k.retired.is_none()).map(f)
    }

    /// The public keys a token may be signed with: the active ones, and
    /// the retired ones whose tokens may not have expired at `now`. A
    /// replica may sign with a retired key until its next reload, so a
    /// retired key stays for the token lifetime plus two reload periods.
    pub fn verifying_keys(&self, now: i64, token_lifetime: i64) -> Vec<(String, Vec<u8>)> {
        let keep = token_lifetime.saturating_add(2 * RELOAD_SECS);
        self.signing
            .read()
            .map(|keys| {
                keys.iter()
                    .filter(|k| k.retired.is_none_or(|r| r.saturating_add(keep) >= now))
                    .map(|k| (k.kid.clone(), k.public.clone()))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// MACs with the current nonce key: (key id, tag).
    pub fn nonce_mac(&self, message: &[u8]) -> Option<[u8; 32]> {
        let keys = self.nonce.read().ok()?;
        let (_, key) = keys.first()?;
        hmac::sign(key, message).as_ref().try_into().ok()
    }

    /// Checks a nonce MAC against every nonce key.
    pub fn nonce_mac_ok(&self, message: &[u8], tag: &[u8]) -> bool {
        self.nonce
            .read()
            .map(|keys| {
                keys.iter()
                    .any(|(_, k)| hmac::verify(k, message, tag).is_ok())
            })
            .unwrap_or(false)
    }
}

/// Refuses a KEK file that its group or others may read or write (as
/// OpenSSH refuses a private key): whoever reads it and the store reads
/// every secret. The fix is named in the error.
#[cfg(unix)]
fn refuse_shared_kek_file(file: &Path) -> Result<(), StartError> {
    use std::os::unix::fs::PermissionsExt as _;
    let mode = std::fs::metadata(file)
        .map_err(|source| StartError::Io {
            what: format!("reading the KEK {}", file.display()),
            source,
        })?
        .permissions()
        .mode();
    if mode & 0o077 != 0 {
        return Err(StartError::Keys {
            what: format!(
                "{}: mode {:03o} lets others than its owner read or write the KEK; run chmod 600 on it",
                file.display(),
                mode & 0o777
            ),
        });
    }
    Ok(())
}

#[cfg(not(unix))]
fn refuse_shared_kek_file(_: &Path) -> Result<(), StartError> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrap_binds_the_context_and_the_kek() {
        let k = Kek::from_bytes(&[7; 32]).unwrap();
        let w = k.wrap("secret/a/1", b"data key").unwrap();
        assert_eq!(k.unwrap("secret/a/1", &w).unwrap(), b"data key");
        assert_eq!(k.unwrap("secret/b/1", &w), Err(UnwrapError));
        let other = Kek::from_bytes(&[8; 32]).unwrap();
        assert_eq!(other.unwrap("secret/a/1", &w), Err(UnwrapError));
        let mut t = w.clone();
        *t.last_mut().unwrap() ^= 1;
        assert_eq!(k.unwrap("secret/a/1", &t), Err(UnwrapError));
        assert_eq!(k.unwrap("secret/a/1", &w[..5]), Err(UnwrapError));
        assert_ne!(k.wrap("x", b"same").unwrap(), k.wrap("x", b"same").unwrap());
    }

    #[test]
    fn kek_file_is_created_0600_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("sub/kek");
        let (a, _) = Kek::load(None, &f).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&f).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
        let (b, _) = Kek::load(None, &f).unwrap();
        let w = a.wrap("c", b"x").unwrap();
        assert_eq!(b.unwrap("c", &w).unwrap(), b"x");
        assert!(Kek::load(Some("abcd"), &f).is_err());
        assert!(Kek::load(Some(&"11".repeat(32)), &f).is_ok());
    }

    #[test]
    #[cfg(unix)]
    fn a_kek_file_others_may_read_is_refused() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("kek");
        Kek::load(None, &f).unwrap();
        for (mode, ok) in [
            (0o600, true),
            (0o400, true),
            (0o640, false),
            (0o604, false),
            (0o620, false),
        ] {
            std::fs::set_permissions(&f, std::fs::Permissions::from_mode(mode)).unwrap();
            let r = Kek::load(None, &f);
            assert_eq!(r.is_ok(), ok, "mode {mode:o}");
            if let Err(e) = r {
                assert!(e.to_string().contains("chmod 600"), "{e}");
            }
        }
        // The environment variable does not look at the file.
        assert!(Kek::load(Some(&"11".repeat(32)), &f).is_ok());
    }
}
