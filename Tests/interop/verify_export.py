#!/usr/bin/env python3
"""Verify a pirvault audit export without pirvault's code.

Usage: verify_export.py EXPORT_JSONL VERIFIER_KEY_FILE

Follows RFC 9162 §2.1 (SHA-256 Merkle tree hashing and inclusion proof
verification), C2SP signed-note (Ed25519 signature lines, key hash) and C2SP
tlog-checkpoint (origin, size, base64 root), using only hashlib, base64, json
and the `cryptography` package. Each event must be RFC 8785 canonical JSON
(for pirvault's events, which hold only strings and integers, that is
json.dumps with sorted keys, no spaces, non-ASCII kept). Prints one summary
line; exits 1 on the first problem.
"""
import base64
import hashlib
import json
import sys

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey


def fail(message):
    print("FAIL: " + message)
    sys.exit(1)


def node(left, right):
    return hashlib.sha256(b"\x01" + left + right).digest()


def verify_inclusion(leaf, index, size, proof, root):
    # RFC 9162 §2.1.3.2, step by step.
    if index >= size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node(p, r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = node(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


export_path, key_path = sys.argv[1], sys.argv[2]
name, key_hash_hex, key_b64 = open(key_path).read().strip().split("+", 2)
key_data = base64.b64decode(key_b64, validate=True)
if key_data[0] != 0x01 or len(key_data) != 33:
    fail("verifier key is not an Ed25519 signed-note key")
expected_hash = hashlib.sha256(name.encode() + b"\n" + key_data).digest()[:4]
if expected_hash.hex() != key_hash_hex:
    fail("verifier key hash does not match its key")
public_key = Ed25519PublicKey.from_public_bytes(key_data[1:])

with open(export_path, "rb") as f:
    lines = [line for line in f.read().split(b"\n") if line]
note = json.loads(lines[-1])["checkpoint"]
text, _, signatures = note.partition("\n\n")
text += "\n"
verified = False
for line in signatures.splitlines():
    if not line.startswith("\u2014 "):
        fail("malformed signature line")
    signer, sig_b64 = line[2:].split(" ")
    blob = base64.b64decode(sig_b64, validate=True)
    if signer == name and blob[:4] == expected_hash:
        try:
            public_key.verify(blob[4:], text.encode())
            verified = True
        except InvalidSignature:
            fail("checkpoint signature is invalid")
if not verified:
    fail("no signature by this key on the checkpoint")
origin, size_text, root_b64 = text.split("\n")[:3]
size, root = int(size_text), base64.b64decode(root_b64, validate=True)

for number, line in enumerate(lines[:-1], start=1):
    entry = json.loads(line)
    event_bytes = json.dumps(entry["event"], sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    if event_bytes not in line:
        fail(f"line {number}: event is not canonical JSON")
    leaf = hashlib.sha256(b"\x00" + event_bytes).digest()
    proof = [base64.b64decode(p, validate=True) for p in entry["proof"]]
    if entry["event"].get("seq") != entry["index"]:
        fail(f"line {number}: seq differs from index")
    if not verify_inclusion(leaf, entry["index"], size, proof, root):
        fail(f"line {number}: inclusion proof for index {entry['index']} does not verify")
print(f"OK {len(lines) - 1} events, tree size {size}, origin {origin}")
