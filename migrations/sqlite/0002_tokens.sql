-- pirvault schema, version 2: access tokens, signing keys, revocation.

-- Ed25519 signing keys. The active key has retired_at_us NULL. A retired key
-- stays published (JWKS) until published_until_us, by when every token it
-- signed has expired.
CREATE TABLE signing_keys (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    kid                 TEXT    NOT NULL UNIQUE,  -- RFC 7638 thumbprint
    public_key          BLOB    NOT NULL,
    -- the 32-byte seed, sealed under the vault key
    sealed_private_key  BLOB    NOT NULL,
    created_at_us       INTEGER NOT NULL,
    retired_at_us       INTEGER,
    published_until_us  INTEGER
) STRICT;
CREATE UNIQUE INDEX signing_keys_one_active ON signing_keys (retired_at_us IS NULL) WHERE retired_at_us IS NULL;

-- Single revoked tokens, kept until they would have expired anyway.
CREATE TABLE revoked_tokens (
    jti           TEXT    PRIMARY KEY,
    instance_id   INTEGER,
    revoked_at_us INTEGER NOT NULL,
    expires_at_us INTEGER NOT NULL
) STRICT;

-- Opaque (reference) tokens: only a keyed hash of the token is stored.
CREATE TABLE opaque_tokens (
    token_hash            BLOB    PRIMARY KEY,
    jti                   TEXT    NOT NULL UNIQUE,
    instance_id           INTEGER NOT NULL REFERENCES instances (id) ON DELETE CASCADE,
    credential_id         INTEGER NOT NULL,
    credential_generation INTEGER NOT NULL,
    scope                 TEXT    NOT NULL, -- JSON array of scopes
    issued_at_us          INTEGER NOT NULL,
    expires_at_us         INTEGER NOT NULL
) STRICT;
CREATE INDEX opaque_tokens_by_expiry ON opaque_tokens (expires_at_us);

-- The token id an audit event concerns (never the token itself).
ALTER TABLE audit_events ADD COLUMN jti TEXT;
