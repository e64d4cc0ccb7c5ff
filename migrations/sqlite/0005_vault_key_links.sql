-- pirvault schema, version 5: running servers follow vault-key rotations.
-- Each rotation seals the new vault key under the previous one (a link), so
-- a server or node that still holds the previous key can take the new one
-- without being unlocked again. Links are deleted a day after they are made
-- (docs/key-management.md says why that window and what it means).
ALTER TABLE vault_header ADD COLUMN vault_key_epoch INTEGER NOT NULL DEFAULT 1;

CREATE TABLE vault_key_links (
    -- the vault key of this epoch, sealed under the key of epoch - 1
    epoch         INTEGER PRIMARY KEY,
    sealed_key    BLOB    NOT NULL,
    created_at_us INTEGER NOT NULL
) STRICT;

-- A header change (new vault key, new unlock secret) is state a server holds.
CREATE TRIGGER vault_header_changed AFTER UPDATE ON vault_header BEGIN UPDATE state_version SET version = version + 1; END;
