#!/usr/bin/env bash
# Creates or updates the Python virtual environment in which SAP's own token
# library, sap-xssec 4.5.0 from PyPI, checks pirvault's tokens as a BTP
# receiving application would (Tests/interop/sap_receiver.py). It needs
# cryptography >= 49, newer than Debian's, hence a venv of its own.
#
#   PIRVAULT_SAP_VENV  where the venv lives (default: .venv-sap/ in the repo)
#   PYTHON             the interpreter that creates it (default: python3)
#
# Prints the venv's python path on stdout, and nothing else there; progress
# goes to stderr. Safe to run again, and by several processes at once: a venv
# that already holds the pinned packages is left as it is. On Debian the
# python3-venv package is needed (it brings ensurepip).
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${PIRVAULT_SAP_VENV:-$repo/.venv-sap}"
python="${PYTHON:-python3}"
# sap-xssec pulls in PyJWT (the verifier it calls), cryptography and httpx
# (its key fetch); joserfc lets the tests check the same tokens and key set
# with a JOSE implementation that is not SAP's.
requirements=("sap-xssec==4.5.0" "PyJWT>=2.13" "joserfc>=1.0")
check='import importlib.metadata as m, sys, sap.xssec, jwt, joserfc, cryptography
sys.exit(m.version("sap-xssec") != "4.5.0" or int(m.version("cryptography").split(".")[0]) < 49)'

mkdir -p "$(dirname "$venv")"
exec 9>"$venv.lock"
flock 9

if ! "$venv/bin/python" -c "$check" >/dev/null 2>&1; then
  if ! "$venv/bin/python" -m pip --version >/dev/null 2>&1; then
    # Missing, or half made (no pip: python3-venv was absent), or its
    # interpreter has gone: make it anew.
    rm -rf "$venv"
    if ! "$python" -m venv "$venv" >&2; then
      rm -rf "$venv"
      echo "sap-venv: '$python -m venv' failed; on Debian: apt-get install python3-venv" >&2
      exit 1
    fi
  fi
  echo "sap-venv: installing ${requirements[*]} into $venv" >&2
  "$venv/bin/python" -m pip install -q --disable-pip-version-check "${requirements[@]}" >&2
  "$venv/bin/python" -c "$check" || { echo "sap-venv: $venv still lacks sap-xssec 4.5.0 with cryptography >= 49" >&2; exit 1; }
fi
echo "$venv/bin/python"
