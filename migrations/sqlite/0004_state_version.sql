-- pirvault schema, version 4: a counter that changes whenever something a
-- running server caches changes (instances, secrets, signing keys,
-- revocations), so `pirvault serve` notices CLI changes on the next request
-- without reloading on every audit commit.
CREATE TABLE state_version (
    singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
    version   INTEGER NOT NULL
) STRICT;
INSERT INTO state_version (singleton, version) VALUES (1, 1);

CREATE TRIGGER instances_changed_insert AFTER INSERT ON instances BEGIN UPDATE state_version SET version = version + 1; END;
CREATE TRIGGER instances_changed_update AFTER UPDATE ON instances BEGIN UPDATE state_version SET version = version + 1; END;
CREATE TRIGGER instances_changed_delete AFTER DELETE ON instances BEGIN UPDATE state_version SET version = version + 1; END;
CREATE TRIGGER credentials_changed_insert AFTER INSERT ON credentials BEGIN UPDATE state_version SET version = version + 1; END;
CREATE TRIGGER credentials_changed_update AFTER UPDATE ON credentials BEGIN UPDATE state_version SET version = version + 1; END;
CREATE TRIGGER credentials_changed_delete AFTER DELETE ON credentials BEGIN UPDATE state_version SET version = version + 1; END;
CREATE TRIGGER signing_keys_changed_insert AFTER INSERT ON signing_keys BEGIN UPDATE state_version SET version = version + 1; END;
CREATE TRIGGER signing_keys_changed_update AFTER UPDATE ON signing_keys BEGIN UPDATE state_version SET version = version + 1; END;
CREATE TRIGGER revoked_tokens_changed AFTER INSERT ON revoked_tokens BEGIN UPDATE state_version SET version = version + 1; END;
