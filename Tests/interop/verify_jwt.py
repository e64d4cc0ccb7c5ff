#!/usr/bin/env python3
"""Verify pirvault access tokens with an implementation pirvault did not write.

Usage: verify_jwt.py JWKS_FILE ISSUER TOKEN...   (tokens may also come one per line on stdin with "-")

For each token: verify the signature with joserfc using only the JWKS (the
algorithms allowed are exactly those the JWKS keys announce),
check iss/exp/iat, print the claims as JSON, and check that a copy with one
flipped signature bit is rejected. Exit 0 only if every token passes.
"""
import json
import sys
import time
import warnings

from joserfc import jwt
from joserfc.errors import BadSignatureError
from joserfc.jwk import KeySet

warnings.filterwarnings("ignore", message=".*RFC 9864.*")  # joserfc: "EdDSA" is deprecated in favour of "Ed25519"

jwks_file, issuer, *tokens = sys.argv[1:]
if tokens == ["-"]:
    tokens = [line.strip() for line in sys.stdin if line.strip()]
with open(jwks_file) as f:
    jwks = json.load(f)
keys = KeySet.import_key_set(jwks)
algorithms = sorted({key["alg"] for key in jwks["keys"]})

for token in tokens:
    decoded = jwt.decode(token, keys, algorithms=algorithms)
    claims, header = decoded.claims, decoded.header
    now = int(time.time())
    assert header["alg"] in algorithms and header["typ"] == "JWT", header
    assert header["jku"] == issuer + "/token_keys", header
    assert claims["iss"] == issuer + "/oauth/token", claims["iss"]
    assert claims["iat"] <= now + 60 and claims["exp"] > now, (claims["iat"], claims["exp"], now)
    assert claims["sub"] == claims["client_id"] == claims["cid"] == claims["azp"]
    assert claims["client_id"] in claims["aud"]
    head, payload, signature = token.split(".")
    flipped = ("B" if signature[0] == "A" else "A") + signature[1:]
    try:
        jwt.decode(".".join([head, payload, flipped]), keys, algorithms=algorithms)
        sys.exit("a token with a flipped signature was ACCEPTED")
    except BadSignatureError:
        pass
    print(json.dumps({"kid": header["kid"], "claims": claims}, sort_keys=True))
