#!/usr/bin/env python3
"""A client for the stall tests: workers ask every node for tokens, back to
back, and write down how long each answer took, so the test can check that a
stalled database gives 503 within the server's deadline and never a hang.

Usage: deadline_client.py LOG_FILE SECONDS CLIENT_TIMEOUT WORKERS BASE_URL...
CLIENT_ID and CLIENT_SECRET come from the environment (never the command line).

Each answer becomes one line of LOG_FILE, written with one O_APPEND write:
    <node> <sent, Unix seconds> <elapsed seconds> <status|timeout|error> <request-id> <jti|->
where <node> indexes BASE_URL. A request still unanswered after CLIENT_TIMEOUT
seconds is written as "timeout" (set it well past the deadline under test).
Runs for at most SECONDS, or until LOG_FILE.stop exists.
"""
import http.client
import os
import sys
import threading
import time
import urllib.parse

from token_request import basic_credentials, request_token

log_path, seconds, client_timeout, workers = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
nodes = [urllib.parse.urlsplit(url) for url in sys.argv[5:]]
basic = basic_credentials()
end = time.monotonic() + seconds
stop_path = log_path + ".stop"
log = os.open(log_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)


def worker(node, number):
    target = nodes[node]
    connection = None
    sequence = 0
    while time.monotonic() < end and not os.path.exists(stop_path):
        sequence += 1
        request_id = f"stall-{node}-{number}-{sequence}"
        sent, started = time.time(), time.monotonic()
        status, jti = "error", "-"
        try:
            if connection is None:
                connection = http.client.HTTPConnection(target.hostname, target.port, timeout=client_timeout)
            code, answer = request_token(connection, basic, request_id)
            status = str(code)
            if answer is not None:
                jti = answer["jti"]
        except TimeoutError:
            status = "timeout"
        except (OSError, http.client.HTTPException):
            pass
        if status in ("timeout", "error") and connection is not None:
            connection.close()
            connection = None
        os.write(log, f"{node} {sent:.3f} {time.monotonic() - started:.3f} {status} {request_id} {jti}\n".encode())
        time.sleep(0.05)


threads = [threading.Thread(target=worker, args=(node, number)) for node in range(len(nodes)) for number in range(workers)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
