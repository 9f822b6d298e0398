-- KBS protocol sessions (/kbs/v0): one row per auth, shared by every
-- replica on this store. `attested` goes from 0 to 1 once, in the one
-- statement that accepts an attestation; `state` is JSON (kbs/session.rs).
CREATE TABLE kbs_sessions (
    id TEXT PRIMARY KEY,
    expires BIGINT NOT NULL,
    attested BIGINT NOT NULL,
    state TEXT NOT NULL
);
CREATE INDEX kbs_sessions_expires ON kbs_sessions (expires);
