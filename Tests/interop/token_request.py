"""The token request that the load clients (load_client.py, deadline_client.py)
send: client_credentials with HTTP Basic from CLIENT_ID and CLIENT_SECRET in
the environment (never the command line), and an X-Request-ID that pirvault
records in the audit event."""
import base64
import json
import os


def basic_credentials():
    """The Basic credentials of CLIENT_ID and CLIENT_SECRET."""
    return base64.b64encode(f"{os.environ['CLIENT_ID']}:{os.environ['CLIENT_SECRET']}".encode()).decode()


def request_token(connection, basic, request_id):
    """Asks for a token on `connection` (an http.client connection, kept
    alive); returns the HTTP status and, for a 200, the parsed answer."""
    connection.request(
        "POST", "/oauth/token", body="grant_type=client_credentials",
        headers={"Authorization": "Basic " + basic, "X-Request-ID": request_id,
                 "Content-Type": "application/x-www-form-urlencoded"})
    response = connection.getresponse()
    body = response.read()
    return response.status, (json.loads(body) if response.status == 200 else None)
