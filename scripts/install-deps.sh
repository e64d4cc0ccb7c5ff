#!/usr/bin/env bash
# Installs the Debian packages pirvault needs to build and test, if missing.
# Uses sudo when not run as root. Safe to run again. chromium renders the
# audit report page in its test (headless); postgresql is the throw-away
# database server the tests of the PostgreSQL backend start; systemd brings
# systemd-analyze, which checks the example unit in deploy/; openssl makes the
# throw-away certificates of the TLS tests and is their TLS 1.1 client; the
# sqlite3 shell checks what `vault copy` wrote.
set -euo pipefail
packages=(libsodium-dev libsqlite3-dev sqlite3 pkg-config python3 python3-venv curl nginx-light postgresql chromium systemd openssl)
missing=()
for p in "${packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if ((${#missing[@]})); then
  sudo=""
  [[ "$(id -u)" == 0 ]] || sudo="sudo"
  echo "installing: ${missing[*]}" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >&2
fi
# The tests check tokens, the server and audit exports with implementations
# pirvault did not write: joserfc (JOSE), cryptography (Ed25519), authlib and
# requests (an OAuth client), openapi-spec-validator and schemathesis (the
# OpenAPI description and a live server against it), prometheus_client (the
# metrics text) from PyPI.
python_packages=(joserfc cryptography authlib requests openapi-spec-validator schemathesis prometheus_client)
if ! python3 -c 'import joserfc, cryptography, authlib, requests, openapi_spec_validator, schemathesis, prometheus_client' 2>/dev/null; then
  echo "installing Python packages: ${python_packages[*]}" >&2
  python3 -m pip install -q "${python_packages[@]}" >&2 \
    || python3 -m pip install -q --break-system-packages "${python_packages[@]}" >&2
fi
command -v swift >/dev/null || { echo "swift is not on PATH; install Swift 6.x from swift.org first" >&2; exit 1; }
# SAP's own token library (sap-xssec 4.5.0, which needs a newer cryptography
# than Debian's) in its own venv, .venv-sap/; the tests that use it run this
# script again, which then changes nothing.
bash "$(dirname "${BASH_SOURCE[0]}")/sap-venv.sh" >/dev/null
