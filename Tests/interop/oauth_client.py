#!/usr/bin/env python3
"""A real OAuth 2.0 client (authlib, which pirvault did not write) against a
running `pirvault serve`: fetch a client_credentials token, verify it with
joserfc using only /token_keys, call an allowed and a forbidden flow.

Usage: oauth_client.py BASE_URL ALLOWED_FLOW FORBIDDEN_FLOW   (CLIENT_ID, CLIENT_SECRET in the environment)
Prints one JSON line with what it saw; exits non-zero on any surprise.
"""
import json
import os
import sys
import warnings

import requests
from authlib.integrations.requests_client import OAuth2Session
from joserfc import jwt
from joserfc.jwk import KeySet

warnings.filterwarnings("ignore", message=".*RFC 9864.*")

base, allowed_flow, forbidden_flow = sys.argv[1:4]
client_id, client_secret = os.environ["CLIENT_ID"], os.environ["CLIENT_SECRET"]

session = OAuth2Session(client_id, client_secret, token_endpoint_auth_method="client_secret_basic")
token = session.fetch_token(base + "/oauth/token", grant_type="client_credentials")
assert token["token_type"].lower() == "bearer", token

jwks = requests.get(base + "/token_keys", timeout=10).json()
keys = KeySet.import_key_set(jwks)
claims = jwt.decode(token["access_token"], keys, algorithms=sorted({key["alg"] for key in jwks["keys"]})).claims
assert claims["client_id"] == client_id and claims["iss"] == base + "/oauth/token", claims

# The same token through client_secret_post, as another client library would send it.
post = OAuth2Session(client_id, client_secret, token_endpoint_auth_method="client_secret_post")
assert post.fetch_token(base + "/oauth/token", grant_type="client_credentials")["access_token"]

ok = session.post(base + allowed_flow, data="<order/>", headers={"Content-Type": "application/xml"}, timeout=10)
denied = session.get(base + forbidden_flow, timeout=10)
print(json.dumps({"scope": claims["scope"], "allowed_status": ok.status_code, "receipt": ok.json(),
                  "denied_status": denied.status_code, "denied_reason": denied.json().get("reason")}))
assert ok.status_code == 200 and denied.status_code == 403
