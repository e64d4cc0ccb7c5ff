#!/usr/bin/env python3
"""Verify pirvault tokens of every algorithm against a key set as XSUAA writes it,
with joserfc and cryptography (code pirvault did not write).

Usage: verify_token_keys.py JWKS_FILE TOKEN...

For each token:
- the JWKS entry its kid names has the token's alg, `use` "sig", and a `value`
  PEM (SubjectPublicKeyInfo) that holds the same public key as its JWK members;
- joserfc verifies it with that entry's JWK, and again with a key read from the
  PEM alone (as SAP's libraries do);
- joserfc refuses it with one flipped signature bit, and under every other
  entry's key.
Prints one JSON line per token; exits 0 only if every token passes.
"""
import json
import sys
import warnings

from joserfc import jwt
from joserfc.errors import BadSignatureError, JoseError
from joserfc.jwk import JWKRegistry, KeySet

warnings.filterwarnings("ignore", message=".*RFC 9864.*")  # joserfc: "EdDSA" is deprecated in favour of "Ed25519"

PUBLIC_MEMBERS = {"RSA": ("n", "e"), "EC": ("crv", "x", "y"), "OKP": ("crv", "x")}

jwks_file, *tokens = sys.argv[1:]
with open(jwks_file) as f:
    entries = json.load(f)["keys"]
keys = KeySet.import_key_set({"keys": entries})


def refused(token, key, alg):
    try:
        jwt.decode(token, key, algorithms=[alg])
    except (BadSignatureError, JoseError, ValueError):
        return True
    return False


for token in tokens:
    head, payload, signature = token.split(".")
    header = jwt.decode(token, keys, algorithms=["RS256", "ES256", "EdDSA"]).header
    alg, kid = header["alg"], header["kid"]
    [entry] = [e for e in entries if e["kid"] == kid]
    assert entry["alg"] == alg and entry["use"] == "sig", entry
    assert set(entry) == {"kty", "kid", "use", "alg", "value", *PUBLIC_MEMBERS[entry["kty"]]}, sorted(entry)

    # The PEM alone gives the same key, and verifies the token by itself.
    from_pem = JWKRegistry.import_key(entry["value"], entry["kty"])
    from_pem_members = from_pem.as_dict(private=False)
    for name in PUBLIC_MEMBERS[entry["kty"]]:
        assert from_pem_members[name] == entry[name], (name, from_pem_members[name], entry[name])
    claims = jwt.decode(token, from_pem, algorithms=[alg]).claims

    flipped = ("B" if signature[0] == "A" else "A") + signature[1:]
    if not refused(".".join([head, payload, flipped]), keys, alg):
        sys.exit(f"{alg}: a token with a flipped signature was ACCEPTED")
    for other in entries:
        if other["kid"] != kid and other["kty"] == entry["kty"]:
            if not refused(token, JWKRegistry.import_key(other), alg):
                sys.exit(f"{alg}: the token verified under another key ({other['kid']})")
    print(json.dumps({"alg": alg, "kid": kid, "client_id": claims["client_id"]}, sort_keys=True))
