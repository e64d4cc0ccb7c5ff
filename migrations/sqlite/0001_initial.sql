-- pirvault schema, version 1.
-- A migration never changes once shipped: add a new numbered file instead.
-- Secret columns are named sealed_* and hold XChaCha20-Poly1305 ciphertexts
-- whose associated data names their table, row and column.

-- One row: the vault's identity and how to unlock it.
CREATE TABLE vault_header (
    singleton           INTEGER PRIMARY KEY CHECK (singleton = 1),
    vault_id            TEXT    NOT NULL,
    unlock_method       TEXT    NOT NULL CHECK (unlock_method IN ('key-file', 'passphrase')),
    kdf_algorithm       TEXT    CHECK (kdf_algorithm IN ('argon2id13')),
    kdf_opslimit        INTEGER,
    kdf_memlimit        INTEGER,
    kdf_salt            BLOB,
    -- vault key, sealed under the unlock key (key file or Argon2id of the passphrase)
    sealed_vault_key    BLOB    NOT NULL,
    -- key of the keyed-BLAKE2b client-secret verifiers, sealed under the vault key
    sealed_verifier_key BLOB    NOT NULL,
    created_at          TEXT    NOT NULL
) STRICT;

CREATE TABLE customers (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    name       TEXT    NOT NULL UNIQUE,
    created_at TEXT    NOT NULL
) STRICT;

-- One Process Integration Runtime instance = one client identity.
CREATE TABLE instances (
    id                    INTEGER PRIMARY KEY AUTOINCREMENT,
    name                  TEXT    NOT NULL UNIQUE,
    customer_id           INTEGER NOT NULL REFERENCES customers (id),
    clientid              TEXT    NOT NULL UNIQUE,
    plan                  TEXT    NOT NULL,
    roles                 TEXT    NOT NULL, -- JSON array of strings
    grant_types           TEXT    NOT NULL, -- JSON array of strings
    redirect_uris         TEXT    NOT NULL, -- JSON array of strings
    flows                 TEXT    NOT NULL, -- JSON array of patterns relative to /http/
    token_ttl             INTEGER NOT NULL,
    token_format          TEXT    NOT NULL CHECK (token_format IN ('jwt', 'opaque')),
    url                   TEXT    NOT NULL,
    tokenurl              TEXT    NOT NULL,
    origin                TEXT    NOT NULL CHECK (origin IN ('generated', 'imported')),
    status                TEXT    NOT NULL CHECK (status IN ('active', 'revoked')),
    -- bumped by a revocation; tokens carry it, so old ones stop verifying at once
    credential_generation INTEGER NOT NULL DEFAULT 1,
    -- the instance's data key, sealed under the vault key; deleting the row shreds it
    sealed_data_key       BLOB    NOT NULL,
    created_at            TEXT    NOT NULL,
    updated_at            TEXT    NOT NULL
) STRICT;
CREATE INDEX instances_by_customer ON instances (customer_id);

-- Client secrets of an instance: the current one, plus the previous one during a rotation's grace period.
CREATE TABLE credentials (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    instance_id   INTEGER NOT NULL REFERENCES instances (id) ON DELETE CASCADE,
    -- the secret, sealed under the instance's data key
    sealed_secret BLOB    NOT NULL,
    -- keyed BLAKE2b-256 of the secret, checked in constant time
    verifier      BLOB    NOT NULL,
    created_at    TEXT    NOT NULL,
    -- NULL while current; the end of the grace period once rotated out (microseconds since 1970)
    expires_at_us INTEGER
) STRICT;
CREATE INDEX credentials_by_instance ON credentials (instance_id);

-- Append-only audit trail; seq is the 0-based leaf index of the Merkle log.
-- canonical holds the RFC 8785 bytes of the event, leaf_hash = SHA-256(0x00 || canonical).
CREATE TABLE audit_events (
    seq         INTEGER PRIMARY KEY,
    time_us     INTEGER NOT NULL,
    event       TEXT    NOT NULL,
    outcome     TEXT    NOT NULL CHECK (outcome IN ('allowed', 'denied', 'error')),
    reason      TEXT,
    customer    TEXT,
    instance    TEXT,
    clientid    TEXT,
    flow        TEXT,
    method      TEXT,
    status      INTEGER,
    remote_addr TEXT,
    request_id  TEXT,
    latency_us  INTEGER,
    canonical   BLOB,
    leaf_hash   BLOB    NOT NULL
) STRICT;
CREATE INDEX audit_events_by_time ON audit_events (time_us);
