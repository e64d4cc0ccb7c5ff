-- pirvault schema, version 7: signing keys of three algorithms, published
-- before they sign (staged rotation), and the vault as one tenant.

-- RS256, ES256 or EdDSA; every key before this version is EdDSA. A key signs
-- from activates_at_us until retired_at_us (the next key's activation), and
-- is published from its creation until published_until_us. A key made
-- before this version signed from its creation.
ALTER TABLE signing_keys ADD COLUMN algorithm TEXT NOT NULL DEFAULT 'EdDSA'
    CHECK (algorithm IN ('RS256', 'ES256', 'EdDSA'));
ALTER TABLE signing_keys ADD COLUMN activates_at_us INTEGER NOT NULL DEFAULT 0;
UPDATE signing_keys SET activates_at_us = created_at_us;

-- The tenant: its subdomain, and the n of its xsappnames it-rt-<subdomain>!b<n>
-- (the runtime, for integration-flow instances) and it!b<n> (management, for
-- api-plan instances). A vault made before this version gets a subdomain from
-- its id and a random n; it may choose its subdomain once (vault set-subdomain).
ALTER TABLE vault_header ADD COLUMN subdomain TEXT NOT NULL DEFAULT '';
ALTER TABLE vault_header ADD COLUMN app_index INTEGER NOT NULL DEFAULT 0;
ALTER TABLE vault_header ADD COLUMN subdomain_chosen INTEGER NOT NULL DEFAULT 0;
UPDATE vault_header SET subdomain = 'vault-' || substr(vault_id, 1, 8), app_index = 10000 + abs(random() % 90000);

-- A rotation may withdraw a staged key that never signed: servers must notice.
CREATE TRIGGER signing_keys_changed_delete AFTER DELETE ON signing_keys BEGIN UPDATE state_version SET version = version + 1; END;
