#!/usr/bin/env python3
"""Forges hostile variants of a genuine pirvault JWT for the bad-input table,
with nothing but the standard library: each one is what an attacker who holds
a valid token and the public JWKS can build.

Usage: hostile_tokens.py < input     (input: a genuine JWT on the first line, then the JWKS JSON)
Prints one JSON object {name: token}.
"""
import base64
import hashlib
import hmac
import json
import sys


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


token, jwks_text = sys.stdin.read().split("\n", 1)
header_b64, payload_b64, signature_b64 = token.split(".")
header, payload = json.loads(unb64(header_b64)), json.loads(unb64(payload_b64))
jwk = next(key for key in json.loads(jwks_text)["keys"] if key["kid"] == header["kid"])
public_member = jwk.get("n") or jwk["x"]


def encode(h: dict, p: dict) -> str:
    return b64(json.dumps(h, separators=(",", ":")).encode()) + "." + b64(json.dumps(p, separators=(",", ":")).encode())


def hs256(h: dict, p: dict, key: bytes) -> str:
    signing_input = encode(h, p)
    return signing_input + "." + b64(hmac.new(key, signing_input.encode(), hashlib.sha256).digest())


hs_header = dict(header, alg="HS256")
forged = {
    # RFC 8725 §2.1: "none" must never be accepted.
    "alg_none": encode(dict(header, alg="none"), payload) + ".",
    "alg_none_keeping_signature": encode(dict(header, alg="none"), payload) + "." + signature_b64,
    # Key confusion: HMAC keyed with the public key an attacker can read from the JWKS
    # (the RSA modulus or the curve point, the PEM in `value`, the whole JWK).
    "alg_hs256_public_key_bytes": hs256(hs_header, payload, unb64(public_member)),
    "alg_hs256_public_key_text": hs256(hs_header, payload, public_member.encode()),
    "alg_hs256_pem_value": hs256(hs_header, payload, jwk["value"].encode()),
    "alg_hs256_jwk_json": hs256(hs_header, payload, json.dumps(jwk).encode()),
    # Another asymmetric algorithm named over the genuine signature.
    "alg_swapped": encode(dict(header, alg="ES256" if header["alg"] != "ES256" else "RS256"), payload) + "." + signature_b64,
    # The genuine signature over changed claims.
    "huge_exp": encode(header, dict(payload, exp=10**20)) + "." + signature_b64,
    "exp_float": encode(header, dict(payload, exp=float(payload["exp"]) + 0.5)) + "." + signature_b64,
    "other_customer": encode(header, dict(payload, ext_attr=dict(payload.get("ext_attr", {}), customer="GLOBEX"))) + "." + signature_b64,
    "wider_scope": encode(header, dict(payload, scope=payload.get("scope", []) + ["admin"])) + "." + signature_b64,
    "unknown_kid": encode(dict(header, kid="no-such-key"), payload) + "." + signature_b64,
    "crit_header": encode(dict(header, crit=["exp"]), payload) + "." + signature_b64,
    "jku_elsewhere": encode(dict(header, jku="https://attacker.example/jwks"), payload) + "." + signature_b64,
    "embedded_jwk": encode(dict(header, jwk=jwk), payload) + "." + signature_b64,
    # Structure.
    "signature_stripped": header_b64 + "." + payload_b64 + ".",
    "four_segments": token + ".AAAA",
    "signature_truncated": token[:-4],
    "padding_added": token + "==",
    "header_not_json": b64(b"not json") + "." + payload_b64 + "." + signature_b64,
    "payload_array": header_b64 + "." + b64(b"[1,2,3]") + "." + signature_b64,
}
print(json.dumps(forged))
