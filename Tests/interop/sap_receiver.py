#!/usr/bin/env python3
"""A receiving application as a BTP developer writes it: every token is
checked with SAP's own library, sap.xssec.create_security_context(token,
binding), exactly as it would check an XSUAA token. Run it with the python of
scripts/sap-venv.sh (sap-xssec 4.5.0).

Usage:
  sap_receiver.py [--cacert CA.pem] REQUEST.json      (or - for stdin)
  sap_receiver.py [--cacert CA.pem] --stream REQUEST.json

REQUEST.json: {"binding": {...}, "tokens": {"name": "<jwt>", ...},
               "checks": ["ESBMessaging.send", ...]}
"tokens" may be left out with --stream, which then also reads one JSON
object {"name": ..., "token": ...} per line of stdin and answers each at once,
so that one process (and sap-xssec's key cache, shared by all its contexts)
lives across a key rotation.

Prints one JSON line per token: name, ok, error ("<exception class>: <message>"
or null), clientid, zone_id, grant_type, subdomain and local_scopes
({check: check_local_scope(check)}); the last five are null when ok is false.
Tokens are never printed. Exit 0 when it ran, whatever the verdicts; 2 on bad
input.

sap-xssec fetches https://<uaadomain>/token_keys?zid=<zid> with httpx, which
trusts certifi's CA list, or only the file in SSL_CERT_FILE when that is set:
--cacert sets SSL_CERT_FILE for this process.
"""
import argparse
import json
import os
import sys


def fail(message):
    print(f"sap_receiver: {message}", file=sys.stderr)
    sys.exit(2)


def read_request(path):
    try:
        request = json.load(sys.stdin if path == "-" else open(path))
    except (OSError, ValueError) as e:
        fail(f"cannot read {path}: {e}")
    if not isinstance(request, dict) or not isinstance(request.get("binding"), dict):
        fail('the request must be a JSON object with a "binding" object')
    checks = request.get("checks", [])
    if not isinstance(checks, list) or not all(isinstance(c, str) and c for c in checks):
        fail('"checks" must be a list of role names')
    tokens = request.get("tokens", {})
    if not isinstance(tokens, dict) or not all(isinstance(t, str) for t in tokens.values()):
        fail('"tokens" must be an object of name: token strings')
    return request["binding"], tokens, checks


def verdict(name, token, binding, checks):
    from sap.xssec import create_security_context

    line = {"name": name, "ok": False, "error": None, "clientid": None, "zone_id": None,
            "grant_type": None, "subdomain": None, "local_scopes": None}
    try:
        context = create_security_context(token, binding)
        line.update(ok=True, clientid=context.get_clientid(), zone_id=context.get_zone_id(),
                    grant_type=context.get_grant_type(), subdomain=context.get_subdomain(),
                    local_scopes={c: context.check_local_scope(c) for c in checks})
    except Exception as e:  # every refusal is a verdict, whatever its class
        message = str(e).replace(token, "<token>") if token else str(e)
        line["error"] = f"{type(e).__name__}: {message}"
    print(json.dumps(line), flush=True)


def main():
    parser = argparse.ArgumentParser(description="Check tokens with sap-xssec as a receiving application.")
    parser.add_argument("request", help="request JSON file, or - for stdin")
    parser.add_argument("--cacert", help="PEM file of the CA that signed the key server's certificate")
    parser.add_argument("--stream", action="store_true", help="then read {name, token} lines from stdin")
    args = parser.parse_args()
    if args.stream and args.request == "-":
        fail("--stream reads tokens from stdin, so the request must be a file")
    if args.cacert:
        if not os.path.isfile(args.cacert):
            fail(f"no such CA file: {args.cacert}")
        os.environ["SSL_CERT_FILE"] = args.cacert
    # A proxy from the environment must not carry a request to the loopback key server.
    no_proxy = ",".join(filter(None, [os.environ.get("no_proxy"), os.environ.get("NO_PROXY"), "127.0.0.1,localhost,::1"]))
    os.environ["no_proxy"] = os.environ["NO_PROXY"] = no_proxy

    binding, tokens, checks = read_request(args.request)
    for name, token in tokens.items():
        verdict(name, token, binding, checks)
    if args.stream:
        for number, raw in enumerate(sys.stdin, 1):
            if not raw.strip():
                continue
            try:
                item = json.loads(raw)
                name, token = item["name"], item["token"]
                if not isinstance(name, str) or not isinstance(token, str):
                    raise TypeError
            except (ValueError, KeyError, TypeError):
                fail(f"stdin line {number} is not a JSON object with string name and token")
            verdict(name, token, binding, checks)


if __name__ == "__main__":
    main()
