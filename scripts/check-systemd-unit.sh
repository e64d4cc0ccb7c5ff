#!/usr/bin/env bash
# Checks deploy/pirvault.service:
#  1. `systemd-analyze verify` accepts it, with ExecStart pointed at a built
#     pirvault (verify insists that the binary exists);
#  2. pirvault runs under MemoryDenyWriteExecute=yes: it starts a server on a
#     throw-away vault under PR_SET_MDWE (Linux >= 6.3), the kernel rule
#     systemd enforces with its seccomp filter, and asks it for a token, a
#     gateway call, the key set and the metrics.
# Usage: scripts/check-systemd-unit.sh [PIRVAULT_BINARY]   (default: .build/debug/pirvault, else release)
# Exit 0 when both pass, 1 when one fails, 77 when systemd-analyze is missing.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN="${1:-}"
if [[ -z "$BIN" ]]; then
  for candidate in "$ROOT/.build/debug/pirvault" "$ROOT/.build/release/pirvault"; do
    [[ -x "$candidate" ]] && { BIN="$candidate"; break; }
  done
fi
[[ -x "$BIN" ]] || { echo "no pirvault binary: build it (swift build) or name it" >&2; exit 1; }
BIN="$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")"
command -v systemd-analyze >/dev/null || { echo "systemd-analyze missing (Debian package systemd): skipped" >&2; exit 77; }
WORK=$(mktemp -d /tmp/pirvault-unit.XXXXXX)
server=""
cleanup() { [[ -n "$server" ]] && kill "$server" 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT

# 1. The unit as shipped, but with ExecStart at the binary just built.
sed "s|^ExecStart=/usr/local/bin/pirvault|ExecStart=$BIN|" "$ROOT/deploy/pirvault.service" > "$WORK/pirvault.service"
if ! out=$(systemd-analyze verify "$WORK/pirvault.service" 2>&1); then
  echo "systemd-analyze verify refused deploy/pirvault.service:" >&2
  echo "$out" >&2
  exit 1
fi
# verify also prints warnings about other units on this machine; only ours count.
if grep -F "pirvault.service" <<<"$out" >&2; then
  echo "systemd-analyze verify warned about deploy/pirvault.service (above)" >&2
  exit 1
fi
echo "systemd-analyze verify: deploy/pirvault.service accepted"

# 2. W^X: the server under PR_SET_MDWE (kept across exec).
export PIRVAULT_PATH="$WORK/vault.db" PIRVAULT_KEY_FILE="$WORK/vault.key"
"$BIN" init --key-file "$WORK/vault.key" --generate-key >/dev/null
"$BIN" instance create mdwe --customer MDWE --flow '*' > "$WORK/key.json"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
python3 - "$BIN" serve --listen "127.0.0.1:$port" > "$WORK/serve.out" 2> "$WORK/serve.err" <<'PY' &
import ctypes, os, sys
PR_SET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN = 65, 1
if ctypes.CDLL(None, use_errno=True).prctl(PR_SET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN, 0, 0, 0) != 0:
    print("PR_SET_MDWE is not available (Linux < 6.3)", file=sys.stderr)
    sys.exit(77)
os.execv(sys.argv[1], sys.argv[1:])
PY
server=$!
for _ in $(seq 100); do grep -q listening "$WORK/serve.out" 2>/dev/null && break; kill -0 "$server" 2>/dev/null || break; sleep 0.1; done
if ! grep -q listening "$WORK/serve.out"; then
  wait "$server" && status=0 || status=$?
  server=""
  [[ $status == 77 ]] && { cat "$WORK/serve.err" >&2; echo "W^X check skipped"; exit 0; }
  echo "pirvault serve did not start under PR_SET_MDWE (exit $status):" >&2
  cat "$WORK/serve.err" >&2
  exit 1
fi
base="http://127.0.0.1:$port"
# The secret goes to curl in its config on stdin, not on the command line.
token=$(python3 -c 'import json,sys; k=json.load(open(sys.argv[1]))["oauth"]; print("user = \"%s:%s\"" % (k["clientid"], k["clientsecret"]))' "$WORK/key.json" \
  | curl -sS -m 10 -K - -X POST "$base/oauth/token?grant_type=client_credentials" \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
gateway=$(printf 'header = "Authorization: Bearer %s"\n' "$token" | curl -sS -m 10 -K - -o /dev/null -w '%{http_code}' "$base/http/orders/1")
jwks=$(curl -sS -m 10 -o /dev/null -w '%{http_code}' "$base/token_keys")
metrics=$(curl -sS -m 10 -o /dev/null -w '%{http_code}' "$base/metrics")
kill "$server"; wait "$server" || true; server=""
[[ "$gateway $jwks $metrics" == "200 200 200" ]] \
  || { echo "under PR_SET_MDWE: gateway $gateway, token_keys $jwks, metrics $metrics" >&2; cat "$WORK/serve.err" >&2; exit 1; }
echo "MemoryDenyWriteExecute: pirvault serve issued a token and answered the gateway, token_keys and metrics under PR_SET_MDWE"
