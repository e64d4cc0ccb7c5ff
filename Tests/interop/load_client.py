#!/usr/bin/env python3
"""A load client for the crash and concurrency tests: workers fetch tokens from
a running `pirvault serve` and call a flow with them, and write down every 200
answer they receive, so the test can check each one against the audit log.

Usage: load_client.py BASE_URL FLOW_PATH ACKS_FILE SECONDS WORKERS
CLIENT_ID and CLIENT_SECRET come from the environment (never the command line).

Each acknowledged answer becomes one line of ACKS_FILE, written with a single
O_APPEND write as soon as the answer arrived:
    token <request-id> <jti>
    call <request-id> <status>
Every request carries a unique X-Request-ID, which pirvault records in the
audit event. A refused connection (the server is down or restarting) is
retried after a short pause; non-200 answers are counted on stdout at the end
but not acknowledged. Runs for at most SECONDS, or until ACKS_FILE.stop
exists, then prints one JSON summary of what it counted.
"""
import http.client
import json
import os
import sys
import threading
import time
import urllib.parse

from token_request import basic_credentials, request_token

base, flow, acks_path, seconds, workers = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4]), int(sys.argv[5])
basic = basic_credentials()
target = urllib.parse.urlsplit(base)
deadline = time.monotonic() + seconds
stop_path = acks_path + ".stop"
acks = os.open(acks_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
counts = {"token": 0, "call": 0, "refused": 0, "other_status": 0}
lock = threading.Lock()


def count(name):
    with lock:
        counts[name] += 1


def worker(number):
    connection = None
    sequence = 0
    token = None
    while time.monotonic() < deadline and not os.path.exists(stop_path):
        sequence += 1
        request_id = f"load-{os.getpid()}-{number}-{sequence}"
        try:
            if connection is None:
                connection = http.client.HTTPConnection(target.hostname, target.port, timeout=5)
            if token is None or sequence % 4 == 0:
                _, answer = request_token(connection, basic, request_id)
                if answer is not None:
                    token = answer["access_token"]
                    os.write(acks, f"token {request_id} {answer['jti']}\n".encode())
                    count("token")
                else:
                    count("other_status")
            else:
                connection.request("GET", flow, headers={"Authorization": "Bearer " + token, "X-Request-ID": request_id})
                response = connection.getresponse()
                response.read()
                if response.status == 200:
                    os.write(acks, f"call {request_id} {response.status}\n".encode())
                    count("call")
                else:
                    count("other_status")
                    token = None
        except (OSError, http.client.HTTPException):
            # The server was killed or is restarting: reconnect after a pause.
            count("refused")
            if connection is not None:
                connection.close()
            connection = None
            time.sleep(0.02)


threads = [threading.Thread(target=worker, args=(n,)) for n in range(workers)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
print(json.dumps(counts))
