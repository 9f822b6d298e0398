-- cogito store, version 1 (SQLite). migrations/postgres/0001_initial.sql is
-- the same schema in PostgreSQL's types; a test keeps the two in step.
CREATE TABLE keys (
    kid TEXT PRIMARY KEY,
    purpose TEXT NOT NULL,
    wrapped BLOB NOT NULL,
    public BLOB NOT NULL,
    created BIGINT NOT NULL,
    retired BIGINT
);
CREATE TABLE documents (
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    version BIGINT NOT NULL,
    text TEXT NOT NULL,
    digest TEXT NOT NULL,
    created BIGINT NOT NULL,
    author TEXT NOT NULL,
    PRIMARY KEY (kind, name, version)
);
CREATE TABLE secrets (
    name TEXT NOT NULL,
    version BIGINT NOT NULL,
    policy TEXT NOT NULL,
    policy_version BIGINT,
    wrapped_dek BLOB NOT NULL,
    ciphertext BLOB NOT NULL,
    created BIGINT NOT NULL,
    author TEXT NOT NULL,
    deleted BIGINT,
    PRIMARY KEY (name, version)
);
CREATE TABLE used_nonces (
    id BLOB PRIMARY KEY,
    expires BIGINT NOT NULL
);
CREATE INDEX used_nonces_expires ON used_nonces (expires);
CREATE TABLE admin_tokens (
    id TEXT PRIMARY KEY,
    hash BLOB NOT NULL UNIQUE,
    scope TEXT NOT NULL,
    note TEXT NOT NULL,
    created BIGINT NOT NULL,
    revoked BIGINT
);
CREATE TABLE collateral (
    key TEXT PRIMARY KEY,
    body BLOB NOT NULL,
    fetched BIGINT NOT NULL
);
CREATE TABLE audit (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at BIGINT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT NOT NULL,
    detail TEXT NOT NULL
);
