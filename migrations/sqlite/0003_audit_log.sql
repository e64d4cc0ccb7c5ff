-- pirvault schema, version 3: the audit trail as a Merkle tree log.

-- The Ed25519 key that signs checkpoints (a C2SP signed-note key), sealed under the vault key.
CREATE TABLE audit_signing_key (
    singleton          INTEGER PRIMARY KEY CHECK (singleton = 1),
    public_key         BLOB    NOT NULL,
    sealed_private_key BLOB    NOT NULL,
    created_at_us      INTEGER NOT NULL
) STRICT;

-- Signed tree heads. frontier is the right edge of the tree at tree_size
-- (enough to extend it without rereading older leaves).
CREATE TABLE audit_checkpoints (
    tree_size     INTEGER PRIMARY KEY,
    root_hash     BLOB    NOT NULL,
    frontier      BLOB    NOT NULL,
    note          TEXT    NOT NULL,
    created_at_us INTEGER NOT NULL
) STRICT;
