"""Keeps docs/openapi.yaml true: validates it, then drives a live server with
requests that schemathesis generates from it.

    python3 openapi_check.py SPEC BASE_URL [--max-examples N] [--time-limit S] < credentials.json

Credentials come from stdin (or --credentials FILE, which must be 0600),
never from the command line: a JSON object
{"client_id", "client_secret", "token"} of an integration-flow instance that
may call every flow (`*`) and has the `password` grant type, and a live
access token of it. They are put into the generated requests so that the
success paths are exercised too: HTTP Basic or the form fields (alternately)
at the OAuth endpoints, the Bearer token (or Basic) at the gateway and
/authorize. Some cases go without credentials on purpose, to reach the 401s;
none sends a wrong secret, which would count against the server's
failed-authentication limit and turn the following answers into 429s.

Every answer must conform to the description (status code, content type,
headers, body schema) and none may be a 5xx. Generation is derandomized, so
a run is repeatable, and bounded by --max-examples per operation and mode and
by --time-limit overall. Prints one JSON summary on stdout; exit 0 when every
check passed, 1 when one failed, 2 when the spec is invalid or the driver
could not run.
"""

import argparse
import base64
import collections
import json
import os
import shutil
import stat
import sys
import tempfile
import time

import requests
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.configuration import set_hypothesis_home_dir
from openapi_spec_validator import validate
from openapi_spec_validator.readers import read_from_filename

import schemathesis
from schemathesis import GenerationMode, checks
from schemathesis.core import NOT_SET

CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_headers_conformance,
    checks.response_schema_conformance,
]
OAUTH_PATHS = {"/oauth/token", "/oauth/introspect", "/oauth/revoke"}
GATEWAY_PATHS = {"/http/{flow}", "/authorize"}


def describe(error):
    """A check failure's text; a group (several checks failed) lists each."""
    if isinstance(error, BaseExceptionGroup):
        return "\n".join(describe(inner) for inner in error.exceptions)
    return f"{type(error).__name__}: {error}"


def read_credentials(path):
    if path is None:
        return json.load(sys.stdin)
    mode = os.stat(path).st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise SystemExit(f"{path} is readable by others; chmod 600 it")
    with open(path) as handle:
        return json.load(handle)


class Driver:
    def __init__(self, base_url, credentials, deadline):
        self.base_url = base_url.rstrip("/")
        self.client_id = credentials["client_id"]
        self.client_secret = credentials["client_secret"]
        self.token = credentials["token"]
        self.deadline = deadline
        self.session = requests.Session()
        self.cases = 0
        self.statuses = collections.Counter()
        self.per_operation = collections.defaultdict(collections.Counter)
        self.failures = []
        self.skipped = []

    def basic(self):
        raw = f"{self.client_id}:{self.client_secret}".encode()
        return "Basic " + base64.b64encode(raw).decode()

    def fresh_token(self):
        """A token of our own client for /oauth/revoke, so that the one the
        gateway cases use stays valid."""
        try:
            answer = self.session.post(
                self.base_url + "/oauth/token",
                data={"grant_type": "client_credentials"},
                headers={"Authorization": self.basic()},
                timeout=10,
            )
            return answer.json().get("access_token", "none") if answer.status_code == 200 else "none"
        except (requests.RequestException, ValueError):
            return "none"  # the case itself then shows what went wrong

    def authenticate(self, case):
        """Puts valid credentials into a generated case (all but every
        seventh, which goes without, to reach the 401s)."""
        path = case.operation.path
        n = self.cases
        headers = dict(case.headers or {})
        headers.pop("Authorization", None)
        without = n % 7 == 6
        if path in OAUTH_PATHS:
            if case.body is NOT_SET and n % 3 != 0:
                case.body = {}
                case.media_type = "application/x-www-form-urlencoded"
            form = case.body if isinstance(case.body, dict) else None
            if form is not None:
                for name in ("client_id", "client_secret"):
                    form.pop(name, None)
                if path == "/oauth/introspect" and n % 2 == 0:
                    form["token"] = self.token
                if path == "/oauth/revoke" and n % 2 == 0:
                    form["token"] = self.fresh_token()
            if without:
                pass
            elif form is not None and n % 2 == 1:
                form["client_id"] = self.client_id
                form["client_secret"] = self.client_secret
            else:
                headers["Authorization"] = self.basic()
        elif path in GATEWAY_PATHS:
            if path == "/authorize" and n % 2 == 0:
                headers["X-Original-URI"] = "/http/orders/7?x=1"
            if not without:
                headers["Authorization"] = self.basic() if n % 5 == 4 else "Bearer " + self.token
        case.headers = headers

    def run_case(self, case):
        if time.monotonic() > self.deadline:
            return
        self.authenticate(case)
        self.cases += 1
        try:
            response = case.call(base_url=self.base_url, session=self.session, timeout=10)
        except Exception as error:  # no answer at all is a failure too
            self.record(case, case.operation.label, None, f"no answer: {type(error).__name__}: {error}")
            return
        self.check(case, response)

    def check(self, case, response, expected_status=None):
        label = case.operation.label
        self.per_operation[label][response.status_code] += 1
        self.statuses[response.status_code] += 1
        try:
            case.validate_response(response, checks=CHECKS)
        except (Exception, BaseExceptionGroup) as error:
            self.record(case, label, response.status_code, describe(error))
        if expected_status is not None and response.status_code != expected_status:
            self.record(case, label, response.status_code, f"expected {expected_status}")

    def run_limits(self, operation):
        """The answers every route may give besides its own, sent by hand:
        431 for header fields over 16 KiB, 413 for a body over the route's
        limit (16 KiB; 1 MiB at the gateway)."""
        gateway = operation.path == "/http/{flow}"
        path = operation.path.replace("{flow}", "orders/7")
        limit = (1 << 20) if gateway else 16 * 1024
        authorization = {"Authorization": "Bearer " + self.token} if operation.path in GATEWAY_PATHS else {}
        for status, headers, body in (
            (431, {"X-Padding": "a" * (16 * 1024 + 1)}, None),
            (413, {"Content-Type": "application/octet-stream"}, b"x" * (limit + 1)),
        ):
            case = operation.Case(path_parameters={"flow": "orders/7"} if gateway else None)
            self.cases += 1
            try:
                response = self.session.request(
                    operation.method.upper(), self.base_url + path, headers={**headers, **authorization}, data=body, timeout=10
                )
            except Exception as error:
                self.record(case, operation.label, None, f"no answer: {type(error).__name__}: {error}")
                continue
            self.check(case, response, expected_status=status)

    def run_failure_limit(self, operation):
        """More failed client authentications than the limit (10 a minute)
        answer 429 with Retry-After. Run last: it locks this address out of
        client authentication for a minute."""
        case = operation.Case()
        for attempt in range(12):
            self.cases += 1
            try:
                response = self.session.post(
                    self.base_url + operation.path,
                    data={"grant_type": "client_credentials"},
                    auth=(self.client_id, "wrong-" + str(attempt)),
                    timeout=10,
                )
            except requests.RequestException as error:
                self.record(case, operation.label, None, f"no answer: {type(error).__name__}: {error}")
                return
            self.check(case, response, expected_status=401 if attempt < 10 else 429)

    def record(self, case, label, status, message):
        if len(self.failures) < 20:
            body = case.body if case.body is not NOT_SET else None
            safe_headers = {k: v for k, v in (case.headers or {}).items() if k.lower() != "authorization"}
            self.failures.append(
                {
                    "operation": label,
                    "status": status,
                    "message": message.replace(self.client_secret, "<secret>").replace(self.token, "<token>")[:2000],
                    "path_parameters": case.path_parameters,
                    "query": case.query,
                    "headers": safe_headers,
                    "body": repr(body)[:500].replace(self.client_secret, "<secret>").replace(self.token, "<token>"),
                }
            )

    def run_operation(self, operation, mode, max_examples):
        if time.monotonic() > self.deadline:
            self.skipped.append(f"{operation.label} {mode.value}: the time limit was reached")
            return
        try:
            strategy = operation.as_strategy(generation_mode=mode)
        except Exception as error:
            self.skipped.append(f"{operation.label} {mode.value}: {type(error).__name__}: {error}")
            return

        @settings(
            max_examples=max_examples,
            deadline=None,
            database=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
            phases=[Phase.explicit, Phase.generate],
            report_multiple_bugs=False,
            print_blob=False,
        )
        @given(case=strategy)
        def test(case):
            self.run_case(case)

        try:
            test()
        except (Exception, BaseExceptionGroup) as error:
            # Generation itself gave up (e.g. no negative variant of an
            # operation without parameters): say so, do not fail the run.
            self.skipped.append(f"{operation.label} {mode.value}: {describe(error)[:300]}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("spec")
    parser.add_argument("base_url")
    parser.add_argument("--max-examples", type=int, default=25, help="per operation and generation mode")
    parser.add_argument("--time-limit", type=float, default=90, help="seconds for the whole run")
    parser.add_argument("--credentials", help="a 0600 JSON file instead of stdin")
    arguments = parser.parse_args()
    started = time.monotonic()

    try:
        document, _ = read_from_filename(arguments.spec)
        validate(document)
    except Exception as error:
        print(json.dumps({"passed": False, "spec_valid": False, "error": str(error)[:2000]}))
        return 2
    credentials = read_credentials(arguments.credentials)

    schema = schemathesis.openapi.from_path(arguments.spec)
    driver = Driver(arguments.base_url, credentials, started + arguments.time_limit)
    operations = []
    for result in schema.get_all_operations():
        operations.append(result.ok())
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
        for operation in operations:
            driver.run_operation(operation, mode, arguments.max_examples)
    for operation in operations:
        driver.run_limits(operation)
    driver.run_failure_limit(next(op for op in operations if op.path == "/oauth/token"))

    seconds = time.monotonic() - started
    untested = [op.label for op in operations if not driver.per_operation[op.label]]
    summary = {
        "passed": not driver.failures and not untested,
        "spec_valid": True,
        "schemathesis": schemathesis.__version__,
        "cases": driver.cases,
        "seconds": round(seconds, 1),
        "timed_out": time.monotonic() > driver.deadline,
        "operations": len(operations),
        "untested_operations": untested,
        "statuses": {str(k): v for k, v in sorted(driver.statuses.items())},
        "per_operation": {
            label: {str(k): v for k, v in sorted(counts.items())} for label, counts in sorted(driver.per_operation.items())
        },
        "skipped": driver.skipped,
        "failures": driver.failures,
    }
    print(json.dumps(summary, indent=1))
    return 0 if summary["passed"] else 1


if __name__ == "__main__":
    # Hypothesis keeps caches in ./.hypothesis; a run leaves none behind.
    home = tempfile.mkdtemp(prefix="openapi-check-")
    set_hypothesis_home_dir(home)
    try:
        status = main()
    finally:
        shutil.rmtree(home, ignore_errors=True)
    sys.exit(status)
