-- pirvault schema, version 6: failed client authentications, so that the
-- limit on them counts across every server (node) of the vault. A key names
-- what is limited: "client:<client id>" or "address:<remote address>".
-- Rows older than the limit's window are deleted by the servers.
CREATE TABLE authentication_failures (
    id    INTEGER PRIMARY KEY AUTOINCREMENT,
    key   TEXT    NOT NULL,
    at_us INTEGER NOT NULL
) STRICT;
CREATE INDEX authentication_failures_by_time ON authentication_failures (at_us);
