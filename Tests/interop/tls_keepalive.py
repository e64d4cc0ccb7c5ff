"""One keep-alive HTTPS connection held open across a certificate renewal.

Usage: tls_keepalive.py PORT CAFILE GOFILE

Connects to https://127.0.0.1:PORT (verifying against CAFILE), asks for
/healthz, prints {"ready": true, "fingerprint": ...} (the SHA-256 of the
certificate this connection got), then waits (at most 30 s) for GOFILE to
exist and asks again on the same connection: it never reconnects, so a
closed connection fails the second request. Prints the final JSON line.
"""
import hashlib
import http.client
import json
import os
import ssl
import sys
import time

port, cafile, gofile = int(sys.argv[1]), sys.argv[2], sys.argv[3]
context = ssl.create_default_context(cafile=cafile)
connection = http.client.HTTPSConnection("127.0.0.1", port, context=context, timeout=10)
connection.auto_open = 0  # a closed connection must fail, not be opened again
connection.connect()
fingerprint = hashlib.sha256(connection.sock.getpeercert(binary_form=True)).hexdigest()
local = connection.sock.getsockname()
connection.request("GET", "/healthz")
first = connection.getresponse()
first.read()
print(json.dumps({"ready": True, "fingerprint": fingerprint}), flush=True)
deadline = time.time() + 30
while not os.path.exists(gofile) and time.time() < deadline:
    time.sleep(0.05)
try:
    connection.request("GET", "/healthz")
    second = connection.getresponse()
    second.read()
    second_status = second.status
except Exception as error:  # the connection was dropped
    second_status = f"{type(error).__name__}: {error}"
print(json.dumps({
    "first_status": first.status,
    "second_status": second_status,
    "same_connection": connection.sock is not None and connection.sock.getsockname() == local,
    "fingerprint": fingerprint,
    "tls_version": connection.sock.version() if connection.sock else None,
}), flush=True)
