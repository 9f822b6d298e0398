//! The store: key material, versioned policies and reference-value files,
//! envelope-encrypted secrets, used nonces, admin tokens, the collateral
//! cache and the audit log.
//!
//! One [`Store`] trait; one SQL implementation over sqlx's `Any` driver,
//! so SQLite (the embedded default, one file, WAL) and PostgreSQL (replicas
//! behind a load balancer) run the same statements against the same
//! schema (`migrations/sqlite`, `migrations/postgres`). Statements that
//! decide a race are single statements: a nonce is consumed by one
//! `INSERT … ON CONFLICT DO NOTHING`, so two replicas racing on it see
//! exactly one row inserted; a new version is `MAX(version) + 1` inside the
//! insert, retried on a primary-key conflict.

use std::str::FromStr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, Row};

/// A store failure (the request is answered 503; details go to the log).
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub struct StoreError(String);

impl StoreError {
    /// A failure described in words.
    pub fn new(what: impl Into<String>) -> StoreError {
        StoreError(what.into())
    }
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        StoreError(e.to_string())
    }
}

impl From<sqlx::migrate::MigrateError> for StoreError {
    fn from(e: sqlx::migrate::MigrateError) -> Self {
        StoreError(e.to_string())
    }
}

/// A key the store holds, wrapped by the KEK.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyRow {
    /// Key id (`kid` in the JWKS).
    pub kid: String,
    /// `signing` (ES256, the tokens) or `nonce` (HMAC, the challenges).
    pub purpose: String,
    /// The private key, wrapped.
    pub wrapped: Vec<u8>,
    /// The public key (signing keys), empty otherwise.
    pub public: Vec<u8>,
    /// Created at (Unix seconds).
    pub created: i64,
    /// No longer used to sign since (Unix seconds).
    pub retired: Option<i64>,
}

/// The kinds of versioned documents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocKind {
    /// A policy (cogito-policy TOML).
    Policy,
    /// A reference-value file a policy includes.
    RefValues,
}

impl DocKind {
    fn as_str(self) -> &'static str {
        match self {
            DocKind::Policy => "policy",
            DocKind::RefValues => "refvalues",
        }
    }
}

/// One version of a policy or reference-value file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocRow {
    /// Name.
    pub name: String,
    /// Version, from 1.
    pub version: i64,
    /// The text.
    pub text: String,
    /// SHA-256 of the text (for a policy: over the text and its includes).
    pub digest: String,
    /// Created at (Unix seconds).
    pub created: i64,
    /// Who created it (admin token id).
    pub author: String,
}

/// One version of a secret, encrypted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretRow {
    /// Name.
    pub name: String,
    /// Version, from 1.
    pub version: i64,
    /// The policy that must accept a guest.
    pub policy: String,
    /// A pinned policy version; `None` follows the latest.
    pub policy_version: Option<i64>,
    /// The data key, wrapped by the KEK.
    pub wrapped_dek: Vec<u8>,
    /// The value, encrypted with the data key.
    pub ciphertext: Vec<u8>,
    /// Created at (Unix seconds).
    pub created: i64,
    /// Who created it.
    pub author: String,
}

/// An admin token, stored by the hash of its secret part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRow {
    /// Public id.
    pub id: String,
    /// SHA-256 of the token.
    pub hash: Vec<u8>,
    /// `admin`, `read`, `policies` or `secrets`.
    pub scope: String,
    /// What it is for.
    pub note: String,
    /// Created at.
    pub created: i64,
    /// Revoked at.
    pub revoked: Option<i64>,
}

/// An audit record written in the same transaction as the change it
/// records, so that a crash leaves both or neither.
#[derive(Debug, Clone)]
pub struct AuditNote<'a> {
    /// Who.
    pub actor: &'a str,
    /// What (`secret.put`, `policy.put`, …).
    pub action: &'a str,
    /// On what.
    pub target: &'a str,
    /// Details; `{version}` is replaced by the new version.
    pub detail: String,
}

/// One audit record.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AuditRow {
    /// Sequence number.
    pub id: i64,
    /// When (Unix seconds).
    pub at: i64,
    /// Who (admin token id, or `service`).
    pub actor: String,
    /// What (`policy.put`, `secret.delete`, …).
    pub action: String,
    /// On what (a name).
    pub target: String,
    /// Details (versions, the previous version).
    pub detail: String,
}

/// Everything the service keeps.
#[async_trait]
pub trait Store: Send + Sync {
    /// Whether the store answers.
    async fn ping(&self) -> Result<(), StoreError>;
    /// Keys of a purpose, newest first.
    async fn keys(&self, purpose: &str) -> Result<Vec<KeyRow>, StoreError>;
    /// Adds a key; `false` when its kid exists (another replica won).
    async fn insert_key(&self, key: &KeyRow) -> Result<bool, StoreError>;
    /// Marks a key retired.
    async fn retire_key(&self, kid: &str, at: i64) -> Result<(), StoreError>;

    /// Adds a new version of a document; returns the version.
    async fn put_doc(
        &self,
        kind: DocKind,
        name: &str,
        text: &str,
        digest: &str,
        at: i64,
        audit: &AuditNote<'_>,
    ) -> Result<i64, StoreError>;
    /// The latest version, or a given one.
    async fn doc(
        &self,
        kind: DocKind,
        name: &str,
        version: Option<i64>,
    ) -> Result<Option<DocRow>, StoreError>;
    /// Every version of a document, oldest first.
    async fn doc_history(&self, kind: DocKind, name: &str) -> Result<Vec<DocRow>, StoreError>;
    /// The latest version of every document of a kind.
    async fn docs(&self, kind: DocKind) -> Result<Vec<DocRow>, StoreError>;

    /// Adds a new version of a secret; returns the version.
    async fn put_secret(
        &self,
        secret: &SecretRow,
        audit: &AuditNote<'_>,
    ) -> Result<i64, StoreError>;
    /// The latest version of a secret that is not deleted.
    async fn secret(&self, name: &str) -> Result<Option<SecretRow>, StoreError>;
    /// The latest version of every secret that is not deleted.
    async fn secrets(&self) -> Result<Vec<SecretRow>, StoreError>;
    /// Deletes a secret (every version); `false` when there was none.
    async fn delete_secret(&self, name: &str, at: i64) -> Result<bool, StoreError>;

    /// Consumes a nonce: `true` the first time, `false` ever after.
    async fn consume_nonce(&self, id: &[u8], expires: i64) -> Result<bool, StoreError>;
    /// Consumes distinct nonces in one statement: for each, `true` when
    /// this call consumed it, `false` when it was consumed before.
    async fn consume_nonces(&self, nonces: &[(Vec<u8>, i64)]) -> Result<Vec<bool>, StoreError>;
    /// Forgets used nonces that have expired; returns how many.
    async fn purge_nonces(&self, now: i64) -> Result<u64, StoreError>;

    /// Adds a KBS session (not yet attested). `state` is the JSON of
    /// `kbs::Session` (in `kbs/mod.rs`; migration 0002 names a file that
    /// was never written, and an applied migration is never edited).
    async fn insert_kbs_session(
        &self,
        id: &str,
        expires: i64,
        state: &str,
    ) -> Result<(), StoreError>;
    /// A KBS session: (expires, attested, state).
    async fn kbs_session(&self, id: &str) -> Result<Option<(i64, bool, String)>, StoreError>;
    /// Marks a session attested with its new state and expiry, in one
    /// statement that succeeds once: `false` when it was attested already
    /// (or is gone).
    async fn attest_kbs_session(
        &self,
        id: &str,
        expires: i64,
        state: &str,
    ) -> Result<bool, StoreError>;
    /// Forgets expired KBS sessions; returns how many.
    async fn purge_kbs_sessions(&self, now: i64) -> Result<u64, StoreError>;

    /// Adds an admin token.
    async fn insert_token(&self, token: &TokenRow) -> Result<(), StoreError>;
    /// The token with this hash.
    async fn token_by_hash(&self, hash: &[u8]) -> Result<Option<TokenRow>, StoreError>;
    /// Every admin token.
    async fn tokens(&self) -> Result<Vec<TokenRow>, StoreError>;
    /// Revokes a token; `false` when there is none (or it is revoked).
    async fn revoke_token(&self, id: &str, at: i64) -> Result<bool, StoreError>;

    /// A cached collateral object and when it was fetched.
    async fn collateral(&self, key: &str) -> Result<Option<(Vec<u8>, i64)>, StoreError>;
    /// Caches a collateral object.
    async fn put_collateral(&self, key: &str, body: &[u8], at: i64) -> Result<(), StoreError>;

    /// Appends to the audit log.
    async fn audit(
        &self,
        at: i64,
        actor: &str,
        action: &str,
        target: &str,
        detail: &str,
    ) -> Result<(), StoreError>;
    /// The newest audit records, newest first.
    async fn audit_log(&self, limit: i64) -> Result<Vec<AuditRow>, StoreError>;
}

/// The backend behind a store URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// `sqlite://…`
    Sqlite,
    /// `postgres://…` or `postgresql://…`
    Postgres,
}

/// The SQL store.
#[derive(Debug, Clone)]
pub struct SqlStore {
    pool: AnyPool,
    backend: Backend,
    /// Set while PostgreSQL fails its health probe: queries are refused at
    /// once instead of each waiting out the pool's acquire timeout, so
    /// that guests hear 503 `store.unavailable` in milliseconds during an
    /// outage. Cleared by the first probe that succeeds.
    down: Arc<AtomicBool>,
}

/// How often a PostgreSQL store is probed (`SELECT 1`), and how long a
/// probe may take before the database counts as unreachable.
pub const PROBE_EVERY: Duration = Duration::from_millis(500);
/// See [`PROBE_EVERY`].
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(1);

static SQLITE: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

impl SqlStore {
    /// Opens (creating a SQLite file when needed) and migrates a store.
    pub async fn open(url: &str) -> Result<SqlStore, StoreError> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Backend::Postgres
        } else {
            return Err(StoreError(format!(
                "unsupported store URL {:?}: use sqlite://PATH or postgres://…",
                redact(url)
            )));
        };
        let url = match backend {
            // Create the file when it does not exist.
            Backend::Sqlite if !url.contains('?') => format!("{url}?mode=rwc"),
            _ => url.to_string(),
        };
        let opts = AnyConnectOptions::from_str(&url)?;
        let pool = AnyPoolOptions::new()
            .max_connections(match backend {
                // One writer at a time anyway; readers in WAL mode do not
                // wait for it.
                Backend::Sqlite => 4,
                Backend::Postgres => 16,
            })
            .acquire_timeout(std::time::Duration::from_secs(5))
            // A SQLite connection is a file handle in this process; it
            // cannot have gone away, and pinging it before every use cost
            // a thread round trip per query. A PostgreSQL connection can.
            .test_before_acquire(backend == Backend::Postgres)
            .after_connect(move |conn, _meta| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        // Write-ahead log: readers do not block the writer;
                        // a busy database is waited on, not failed at once.
                        sqlx::query("PRAGMA journal_mode = WAL")
                            .execute(&mut *conn)
                            .await?;
                        sqlx::query("PRAGMA synchronous = NORMAL")
                            .execute(&mut *conn)
                            .await?;
                        sqlx::query("PRAGMA busy_timeout = 5000")
                            .execute(&mut *conn)
                            .await?;
                    }
                    Ok(())
                })
            })
            .connect_with(opts)
            .await?;
        match backend {
            Backend::Sqlite => SQLITE.run(&pool).await?,
            Backend::Postgres => POSTGRES.run(&pool).await?,
        }
        let down = Arc::new(AtomicBool::new(false));
        // A SQLite file cannot go away under the process; a PostgreSQL
        // server can.
        if backend == Backend::Postgres {
            tokio::spawn(probe(pool.clone(), down.clone()));
        }
        Ok(SqlStore {
            pool,
            backend,
            down,
        })
    }

    /// The pool, unless the database failed its last health probe.
    fn pool(&self) -> Result<&AnyPool, StoreError> {
        if self.down.load(Ordering::Acquire) {
            return Err(StoreError(
                "the database failed its last health probe; refused without waiting for it"
                    .to_string(),
            ));
        }
        Ok(&self.pool)
    }

    /// The backend.
    pub fn backend(&self) -> Backend {
        self.backend
    }
}

/// Probes `pool` every [`PROBE_EVERY`] until the store is dropped (only
/// this task holds `down` then) or closed, and logs each transition.
async fn probe(pool: AnyPool, down: Arc<AtomicBool>) {
    let mut tick = tokio::time::interval(PROBE_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if Arc::strong_count(&down) == 1 || pool.is_closed() {
            return;
        }
        let answered = tokio::time::timeout(PROBE_TIMEOUT, sqlx::query("SELECT 1").execute(&pool))
            .await
            .is_ok_and(|r| r.is_ok());
        let was_down = down.swap(!answered, Ordering::AcqRel);
        if was_down && answered {
            tracing::warn!("the database answers again; serving");
        } else if !was_down && !answered {
            metrics::counter!("cogito_store_errors_total").increment(1);
            tracing::error!(
                "the database did not answer a health probe within {} ms; refusing requests that need it until it does",
                PROBE_TIMEOUT.as_millis()
            );
        }
    }
}

/// A store URL with its password hidden, for messages and logs.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = url.get(s + 3..at).unwrap_or_default();
            match creds.split_once(':') {
                Some((user, _)) => format!(
                    "{}{user}:***{}",
                    url.get(..s + 3).unwrap_or_default(),
                    url.get(at..).unwrap_or_default()
                ),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

fn doc_row(r: &sqlx::any::AnyRow) -> Result<DocRow, StoreError> {
    Ok(DocRow {
        name: r.try_get("name")?,
        version: r.try_get("version")?,
        text: r.try_get("text")?,
        digest: r.try_get("digest")?,
        created: r.try_get("created")?,
        author: r.try_get("author")?,
    })
}

fn secret_row(r: &sqlx::any::AnyRow) -> Result<SecretRow, StoreError> {
    Ok(SecretRow {
        name: r.try_get("name")?,
        version: r.try_get("version")?,
        policy: r.try_get("policy")?,
        policy_version: r.try_get("policy_version")?,
        wrapped_dek: r.try_get("wrapped_dek")?,
        ciphertext: r.try_get("ciphertext")?,
        created: r.try_get("created")?,
        author: r.try_get("author")?,
    })
}

fn token_row(r: &sqlx::any::AnyRow) -> Result<TokenRow, StoreError> {
    Ok(TokenRow {
        id: r.try_get("id")?,
        hash: r.try_get("hash")?,
        scope: r.try_get("scope")?,
        note: r.try_get("note")?,
        created: r.try_get("created")?,
        revoked: r.try_get("revoked")?,
    })
}

/// The audit record of a change, in the change's transaction.
async fn insert_audit(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    at: i64,
    note: &AuditNote<'_>,
    version: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO audit (at, actor, action, target, detail) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(at)
    .bind(note.actor)
    .bind(note.action)
    .bind(note.target)
    .bind(note.detail.replace("{version}", &version.to_string()))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

fn is_conflict(e: &sqlx::Error) -> bool {
    e.as_database_error()
        .is_some_and(|d| d.is_unique_violation())
}

#[async_trait]
impl Store for SqlStore {
    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(self.pool()?).await?;
        Ok(())
    }

    async fn keys(&self, purpose: &str) -> Result<Vec<KeyRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT kid, purpose, wrapped, public, created, retired FROM keys \
             WHERE purpose = $1 ORDER BY created DESC, kid DESC",
        )
        .bind(purpose)
        .fetch_all(self.pool()?)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(KeyRow {
                    kid: r.try_get("kid")?,
                    purpose: r.try_get("purpose")?,
                    wrapped: r.try_get("wrapped")?,
                    public: r.try_get("public")?,
                    created: r.try_get("created")?,
                    retired: r.try_get("retired")?,
                })
            })
            .collect()
    }

    async fn insert_key(&self, key: &KeyRow) -> Result<bool, StoreError> {
        let r = sqlx::query(
            "INSERT INTO keys (kid, purpose, wrapped, public, created, retired) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (kid) DO NOTHING",
        )
        .bind(&key.kid)
        .bind(&key.purpose)
        .bind(&key.wrapped)
        .bind(&key.public)
        .bind(key.created)
        .bind(key.retired)
        .execute(self.pool()?)
        .await?;
        Ok(r.rows_affected() == 1)
    }

    async fn retire_key(&self, kid: &str, at: i64) -> Result<(), StoreError> {
        sqlx::query("UPDATE keys SET retired = $1 WHERE kid = $2 AND retired IS NULL")
            .bind(at)
            .bind(kid)
            .execute(self.pool()?)
            .await?;
        Ok(())
    }

    async fn put_doc(
        &self,
        kind: DocKind,
        name: &str,
        text: &str,
        digest: &str,
        at: i64,
        audit: &AuditNote<'_>,
    ) -> Result<i64, StoreError> {
        // The next version in the insert itself; two writers racing on a
        // name collide on the primary key, and the loser tries again. The
        // audit record goes in the same transaction.
        for _ in 0..8 {
            let mut tx = self.pool()?.begin().await?;
            let r = sqlx::query(
                "INSERT INTO documents (kind, name, version, text, digest, created, author) \
                 SELECT $1, $2, COALESCE(MAX(version), 0) + 1, $3, $4, $5, $6 \
                 FROM documents WHERE kind = $1 AND name = $2 \
                 RETURNING version",
            )
            .bind(kind.as_str())
            .bind(name)
            .bind(text)
            .bind(digest)
            .bind(at)
            .bind(audit.actor)
            .fetch_one(&mut *tx)
            .await;
            match r {
                Ok(row) => {
                    let version: i64 = row.try_get("version")?;
                    insert_audit(&mut tx, at, audit, version).await?;
                    tx.commit().await?;
                    return Ok(version);
                }
                Err(e) if is_conflict(&e) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(StoreError(format!(
            "could not add a version of {name}: too many concurrent writers"
        )))
    }

    async fn doc(
        &self,
        kind: DocKind,
        name: &str,
        version: Option<i64>,
    ) -> Result<Option<DocRow>, StoreError> {
        let row = match version {
            Some(v) => {
                sqlx::query(
                    "SELECT name, version, text, digest, created, author FROM documents \
                     WHERE kind = $1 AND name = $2 AND version = $3",
                )
                .bind(kind.as_str())
                .bind(name)
                .bind(v)
                .fetch_optional(self.pool()?)
                .await?
            }
            None => {
                sqlx::query(
                    "SELECT name, version, text, digest, created, author FROM documents \
                     WHERE kind = $1 AND name = $2 ORDER BY version DESC LIMIT 1",
                )
                .bind(kind.as_str())
                .bind(name)
                .fetch_optional(self.pool()?)
                .await?
            }
        };
        row.as_ref().map(doc_row).transpose()
    }

    async fn doc_history(&self, kind: DocKind, name: &str) -> Result<Vec<DocRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT name, version, text, digest, created, author FROM documents \
             WHERE kind = $1 AND name = $2 ORDER BY version",
        )
        .bind(kind.as_str())
        .bind(name)
        .fetch_all(self.pool()?)
        .await?;
        rows.iter().map(doc_row).collect()
    }

    async fn docs(&self, kind: DocKind) -> Result<Vec<DocRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT d.name, d.version, d.text, d.digest, d.created, d.author FROM documents d \
             WHERE d.kind = $1 AND d.version = \
               (SELECT MAX(version) FROM documents e WHERE e.kind = d.kind AND e.name = d.name) \
             ORDER BY d.name",
        )
        .bind(kind.as_str())
        .fetch_all(self.pool()?)
        .await?;
        rows.iter().map(doc_row).collect()
    }

    async fn put_secret(&self, s: &SecretRow, audit: &AuditNote<'_>) -> Result<i64, StoreError> {
        for _ in 0..8 {
            let mut tx = self.pool()?.begin().await?;
            let r = sqlx::query(
                "INSERT INTO secrets (name, version, policy, policy_version, wrapped_dek, \
                 ciphertext, created, author, deleted) \
                 SELECT $1, COALESCE(MAX(version), 0) + 1, $2, $3, $4, $5, $6, $7, NULL \
                 FROM secrets WHERE name = $1 RETURNING version",
            )
            .bind(&s.name)
            .bind(&s.policy)
            .bind(s.policy_version)
            .bind(&s.wrapped_dek)
            .bind(&s.ciphertext)
            .bind(s.created)
            .bind(&s.author)
            .fetch_one(&mut *tx)
            .await;
            match r {
                Ok(row) => {
                    let version: i64 = row.try_get("version")?;
                    insert_audit(&mut tx, s.created, audit, version).await?;
                    tx.commit().await?;
                    return Ok(version);
                }
                Err(e) if is_conflict(&e) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(StoreError(format!(
            "could not add a version of secret {}: too many concurrent writers",
            s.name
        )))
    }

    async fn secret(&self, name: &str) -> Result<Option<SecretRow>, StoreError> {
        let row = sqlx::query(
            "SELECT name, version, policy, policy_version, wrapped_dek, ciphertext, created, \
             author FROM secrets WHERE name = $1 AND deleted IS NULL \
             ORDER BY version DESC LIMIT 1",
        )
        .bind(name)
        .fetch_optional(self.pool()?)
        .await?;
        row.as_ref().map(secret_row).transpose()
    }

    async fn secrets(&self) -> Result<Vec<SecretRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT s.name, s.version, s.policy, s.policy_version, s.wrapped_dek, s.ciphertext, \
             s.created, s.author FROM secrets s WHERE s.deleted IS NULL AND s.version = \
               (SELECT MAX(version) FROM secrets t WHERE t.name = s.name) ORDER BY s.name",
        )
        .fetch_all(self.pool()?)
        .await?;
        rows.iter().map(secret_row).collect()
    }

    async fn delete_secret(&self, name: &str, at: i64) -> Result<bool, StoreError> {
        let r = sqlx::query("UPDATE secrets SET deleted = $1 WHERE name = $2 AND deleted IS NULL")
            .bind(at)
            .bind(name)
            .execute(self.pool()?)
            .await?;
        Ok(r.rows_affected() > 0)
    }

    async fn consume_nonce(&self, id: &[u8], expires: i64) -> Result<bool, StoreError> {
        let r = sqlx::query(
            "INSERT INTO used_nonces (id, expires) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING",
        )
        .bind(id)
        .bind(expires)
        .execute(self.pool()?)
        .await?;
        Ok(r.rows_affected() == 1)
    }

    async fn consume_nonces(&self, nonces: &[(Vec<u8>, i64)]) -> Result<Vec<bool>, StoreError> {
        if nonces.is_empty() {
            return Ok(Vec::new());
        }
        // One statement, so one transaction: a row is inserted only if no
        // statement (of any replica) inserted it before, and RETURNING
        // names exactly the rows this one inserted.
        let mut sql = String::from("INSERT INTO used_nonces (id, expires) VALUES ");
        for i in 0..nonces.len() {
            let a = i.saturating_mul(2).saturating_add(1);
            if i > 0 {
                sql.push_str(", ");
            }
            sql.push_str(&format!("(${a}, ${})", a.saturating_add(1)));
        }
        sql.push_str(" ON CONFLICT (id) DO NOTHING RETURNING id");
        // The statement text holds placeholders only; every value is bound.
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for (id, expires) in nonces {
            q = q.bind(id.clone()).bind(*expires);
        }
        let rows = q.fetch_all(self.pool()?).await?;
        let mut inserted = std::collections::HashSet::new();
        for r in &rows {
            inserted.insert(r.try_get::<Vec<u8>, _>(0)?);
        }
        Ok(nonces.iter().map(|(id, _)| inserted.contains(id)).collect())
    }

    async fn purge_nonces(&self, now: i64) -> Result<u64, StoreError> {
        let r = sqlx::query("DELETE FROM used_nonces WHERE expires < $1")
            .bind(now)
            .execute(self.pool()?)
            .await?;
        Ok(r.rows_affected())
    }

    async fn insert_kbs_session(
        &self,
        id: &str,
        expires: i64,
        state: &str,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO kbs_sessions (id, expires, attested, state) VALUES ($1, $2, 0, $3)",
        )
        .bind(id)
        .bind(expires)
        .bind(state)
        .execute(self.pool()?)
        .await?;
        Ok(())
    }

    async fn kbs_session(&self, id: &str) -> Result<Option<(i64, bool, String)>, StoreError> {
        let row = sqlx::query("SELECT expires, attested, state FROM kbs_sessions WHERE id = $1")
            .bind(id)
            .fetch_optional(self.pool()?)
            .await?;
        row.map(|r| {
            Ok((
                r.try_get::<i64, _>(0)?,
                r.try_get::<i64, _>(1)? != 0,
                r.try_get::<String, _>(2)?,
            ))
        })
        .transpose()
        .map_err(|e: sqlx::Error| StoreError::from(e))
    }

    async fn attest_kbs_session(
        &self,
        id: &str,
        expires: i64,
        state: &str,
    ) -> Result<bool, StoreError> {
        let r = sqlx::query(
            "UPDATE kbs_sessions SET attested = 1, expires = $2, state = $3 WHERE id = $1 AND attested = 0",
        )
        .bind(id)
        .bind(expires)
        .bind(state)
        .execute(self.pool()?)
        .await?;
        Ok(r.rows_affected() == 1)
    }

    async fn purge_kbs_sessions(&self, now: i64) -> Result<u64, StoreError> {
        let r = sqlx::query("DELETE FROM kbs_sessions WHERE expires < $1")
            .bind(now)
            .execute(self.pool()?)
            .await?;
        Ok(r.rows_affected())
    }

    async fn insert_token(&self, t: &TokenRow) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO admin_tokens (id, hash, scope, note, created, revoked) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&t.id)
        .bind(&t.hash)
        .bind(&t.scope)
        .bind(&t.note)
        .bind(t.created)
        .bind(t.revoked)
        .execute(self.pool()?)
        .await?;
        Ok(())
    }

    async fn token_by_hash(&self, hash: &[u8]) -> Result<Option<TokenRow>, StoreError> {
        let row = sqlx::query(
            "SELECT id, hash, scope, note, created, revoked FROM admin_tokens WHERE hash = $1",
        )
        .bind(hash)
        .fetch_optional(self.pool()?)
        .await?;
        row.as_ref().map(token_row).transpose()
    }

    async fn tokens(&self) -> Result<Vec<TokenRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, hash, scope, note, created, revoked FROM admin_tokens ORDER BY created, id",
        )
        .fetch_all(self.pool()?)
        .await?;
        rows.iter().map(token_row).collect()
    }

    async fn revoke_token(&self, id: &str, at: i64) -> Result<bool, StoreError> {
        let r =
            sqlx::query("UPDATE admin_tokens SET revoked = $1 WHERE id = $2 AND revoked IS NULL")
                .bind(at)
                .bind(id)
                .execute(self.pool()?)
                .await?;
        Ok(r.rows_affected() > 0)
    }

    async fn collateral(&self, key: &str) -> Result<Option<(Vec<u8>, i64)>, StoreError> {
        let row = sqlx::query("SELECT body, fetched FROM collateral WHERE key = $1")
            .bind(key)
            .fetch_optional(self.pool()?)
            .await?;
        row.map(|r| Ok((r.try_get("body")?, r.try_get("fetched")?)))
            .transpose()
    }

    async fn put_collateral(&self, key: &str, body: &[u8], at: i64) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO collateral (key, body, fetched) VALUES ($1, $2, $3) \
             ON CONFLICT (key) DO UPDATE SET body = excluded.body, fetched = excluded.fetched",
        )
        .bind(key)
        .bind(body)
        .bind(at)
        .execute(self.pool()?)
        .await?;
        Ok(())
    }

    async fn audit(
        &self,
        at: i64,
        actor: &str,
        action: &str,
        target: &str,
        detail: &str,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO audit (at, actor, action, target, detail) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(at)
        .bind(actor)
        .bind(action)
        .bind(target)
        .bind(detail)
        .execute(self.pool()?)
        .await?;
        Ok(())
    }

    async fn audit_log(&self, limit: i64) -> Result<Vec<AuditRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, at, actor, action, target, detail FROM audit ORDER BY id DESC LIMIT $1",
        )
        .bind(limit)
        .fetch_all(self.pool()?)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(AuditRow {
                    id: r.try_get("id")?,
                    at: r.try_get("at")?,
                    actor: r.try_get("actor")?,
                    action: r.try_get("action")?,
                    target: r.try_get("target")?,
                    detail: r.try_get("detail")?,
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(
            redact("postgres://u:secret@h:5432/db"),
            "postgres://u:***@h:5432/db"
        );
        assert_eq!(redact("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(redact("sqlite:///x.db"), "sqlite:///x.db");
    }

    /// A store that applied a migration refuses to start when the file
    /// changes afterwards (sqlx checks each applied migration's checksum):
    /// a comment edited in 0002 once stopped a store made the day before.
    /// Applied migrations are never edited; a change is a new migration.
    #[test]
    fn applied_migrations_are_never_edited() {
        use sha2::Digest as _;
        let pinned = [
            (
                include_str!("../migrations/sqlite/0001_initial.sql"),
                "64db8edb70417b27fbd13db7ff5b696efe606241128348023917f6c4124a76ba",
            ),
            (
                include_str!("../migrations/postgres/0001_initial.sql"),
                "7730d7899ef135dddccfd5bfae01f6410b19f7a3d1f5bbc32ffad4760114e62c",
            ),
            (
                include_str!("../migrations/sqlite/0002_kbs_sessions.sql"),
                "8f22ba09ebfac8ca86a8763183fed1f91a6f4f55c6075ee20d7e03a11f70ac73",
            ),
            (
                include_str!("../migrations/postgres/0002_kbs_sessions.sql"),
                "8f22ba09ebfac8ca86a8763183fed1f91a6f4f55c6075ee20d7e03a11f70ac73",
            ),
        ];
        for (i, (text, digest)) in pinned.iter().enumerate() {
            assert_eq!(
                hex::encode(sha2::Sha256::digest(text.as_bytes())),
                *digest,
                "migration {i} of this list changed: add a new migration instead"
            );
        }
    }

    #[test]
    fn the_two_schemas_say_the_same_thing() {
        let norm = |s: &str| {
            s.lines()
                .filter(|l| !l.trim_start().starts_with("--"))
                .collect::<Vec<_>>()
                .join("\n")
                .replace("BYTEA", "BLOB")
                .replace("BIGSERIAL PRIMARY KEY", "INTEGER PRIMARY KEY AUTOINCREMENT")
        };
        let a = include_str!("../migrations/sqlite/0001_initial.sql");
        let b = include_str!("../migrations/postgres/0001_initial.sql");
        assert_eq!(norm(a), norm(b));
        let a = include_str!("../migrations/sqlite/0002_kbs_sessions.sql");
        let b = include_str!("../migrations/postgres/0002_kbs_sessions.sql");
        assert_eq!(norm(a), norm(b));
    }

    #[tokio::test]
    async fn a_change_and_its_audit_record_are_one_transaction() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("s.db").display());
        let store = SqlStore::open(&url).await.unwrap();
        let row = |created| SecretRow {
            name: "default/key/a".into(),
            version: 0,
            policy: "fleet".into(),
            policy_version: None,
            wrapped_dek: vec![1],
            ciphertext: vec![2],
            created,
            author: "ops".into(),
        };
        for expected in 1..=3 {
            let note = AuditNote {
                actor: "ops",
                action: "secret.put",
                target: "default/key/a",
                detail: "version {version}".into(),
            };
            let v = store.put_secret(&row(expected), &note).await.unwrap();
            assert_eq!(v, expected);
        }
        let note = AuditNote {
            actor: "ops",
            action: "policy.put",
            target: "fleet",
            detail: "version {version} of the policy".into(),
        };
        let v = store
            .put_doc(DocKind::Policy, "fleet", "[policy]", "d", 9, &note)
            .await
            .unwrap();
        assert_eq!(v, 1);
        assert_eq!(
            store
                .doc(DocKind::Policy, "fleet", None)
                .await
                .unwrap()
                .unwrap()
                .author,
            "ops"
        );
        let log = store.audit_log(10).await.unwrap();
        let details: Vec<&str> = log.iter().map(|r| r.detail.as_str()).collect();
        assert_eq!(
            details,
            [
                "version 1 of the policy",
                "version 3",
                "version 2",
                "version 1"
            ],
            "one record per version, the version filled in, newest first"
        );
    }
}
