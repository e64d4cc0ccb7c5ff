#!/usr/bin/env python3
"""A receiving application that caches the key set as SAP's Java security
library does: the whole /token_keys set is fetched once and kept for
--cache-seconds (SAP's libraries: 10 to 30 minutes), and a token whose kid is
not in the cached set is refused without fetching again (Java does not refetch
for an unknown kid). It takes tokens from the token endpoint for
--seconds and verifies each one with PyJWT against the cached set.

Usage (the client's id and secret on stdin, one per line, never in argv):
  caching_verifier.py TOKEN_URL JWKS_URL --cache-seconds N --seconds S [--cacert CA]

Prints one JSON object: tokens (fetched), verified, refused (by the cache:
unknown kid or bad signature), fetch_errors (the token endpoint did not
answer 200), kids (every kid seen in a token, in order of first sight) and
refusals (up to five reasons). Exit 0 when it ran; 2 on bad input.
"""
import argparse
import json
import sys
import time

import httpx
import jwt


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("token_url")
    parser.add_argument("jwks_url")
    parser.add_argument("--cache-seconds", type=float, required=True)
    parser.add_argument("--seconds", type=float, required=True)
    parser.add_argument("--cacert")
    args = parser.parse_args()
    lines = sys.stdin.read().split("\n")
    if len(lines) < 2 or not lines[0] or not lines[1]:
        print("caching_verifier: give the client id and secret on stdin, one per line", file=sys.stderr)
        sys.exit(2)
    client_id, secret = lines[0], lines[1]
    http = httpx.Client(verify=args.cacert or True, timeout=10)

    cached, fetched_at = {}, None

    def key_set():
        nonlocal cached, fetched_at
        if fetched_at is None or time.monotonic() - fetched_at >= args.cache_seconds:
            entries = http.get(args.jwks_url).json()["keys"]
            cached = {entry["kid"]: entry for entry in entries}
            fetched_at = time.monotonic()
        return cached

    result = {"tokens": 0, "verified": 0, "refused": 0, "fetch_errors": 0, "kids": [], "refusals": []}
    end = time.monotonic() + args.seconds
    while time.monotonic() < end:
        answer = http.post(args.token_url, data={"grant_type": "client_credentials"}, auth=(client_id, secret))
        if answer.status_code != 200:
            result["fetch_errors"] += 1
            continue
        token = answer.json()["access_token"]
        result["tokens"] += 1
        kid = jwt.get_unverified_header(token)["kid"]
        if kid not in result["kids"]:
            result["kids"].append(kid)
        entry = key_set().get(kid)
        try:
            if entry is None:
                raise jwt.InvalidKeyError(f"kid {kid} is not in the cached key set")
            key = jwt.PyJWK(entry).key
            jwt.decode(token, key, algorithms=[entry["alg"]], options={"verify_aud": False})
            result["verified"] += 1
        except jwt.PyJWTError as error:
            result["refused"] += 1
            if len(result["refusals"]) < 5:
                result["refusals"].append(f"{type(error).__name__}: {error}")
        time.sleep(0.02)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
