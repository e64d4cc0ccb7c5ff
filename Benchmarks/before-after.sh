#!/usr/bin/env bash
# The token endpoint and the gateway of two release binaries, measured in one
# run (issue 18: "before and after, same run"): for each of ROUNDS rounds,
# each binary gets a fresh EdDSA vault (the algorithm both support) and wrk
# (10 s, 2 threads, 32 connections, loopback) on /oauth/token, the gateway
# with a valid token and /healthz. Rounds alternate the binaries, so a
# change in the machine's load hits both; the table shows each figure's
# median and after/before.
# Usage: Benchmarks/before-after.sh BEFORE_BIN AFTER_BIN [ROUNDS]   (default 3 rounds)
# BEFORE_BIN may predate `init --signing-alg` (a3537fc): its vaults are EdDSA by default.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
BEFORE="${1:?usage: before-after.sh BEFORE_BIN AFTER_BIN [ROUNDS]}"
AFTER="${2:?usage: before-after.sh BEFORE_BIN AFTER_BIN [ROUNDS]}"
ROUNDS="${3:-3}"
command -v wrk >/dev/null || { echo "wrk missing: apt-get install -y wrk" >&2; exit 1; }
for bin in "$BEFORE" "$AFTER"; do [[ -x "$bin" ]] || { echo "$bin is not an executable" >&2; exit 2; }; done
OUT=$(mktemp -d /tmp/pirvault-before-after.XXXXXX)
rps() { awk '/^Requests\/sec:/{print $2}' "$1"; }
p99() { awk '$1=="99%"{print $2}' "$1"; }
non2xx() { awk -F= '/^NON2XX=/{print $2}' "$1"; }

measure() {  # label binary signing-alg round
  local label=$1 bin=$2 alg=$3 round=$4 dir="$OUT/$1-$4"
  local line; line=$(PIRVAULT_BIN="$bin" PIRVAULT_SIGNING_ALG="$alg" bash "$HERE/pirvault-start.sh" "$dir" | grep '^CLIENT_ID=')
  local kv; for kv in $line; do export "${kv?}"; done
  local base="${TOKEN_URL%/oauth/token}"
  wrk -t2 -c32 -d10s --latency -s "$HERE/token.lua" "$TOKEN_URL" > "$dir/token.txt"
  TOKEN=$(curl -s -u "$CLIENT_ID:$CLIENT_SECRET" -X POST "$TOKEN_URL?grant_type=client_credentials" \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])') \
    wrk -t2 -c32 -d10s --latency -s "$HERE/gateway.lua" "$base/http/orders/1" > "$dir/gateway.txt"
  wrk -t2 -c32 -d10s --latency "$base/healthz" > "$dir/healthz.txt"
  bash "$HERE/pirvault-stop.sh" "$dir"
  local verify; verify=$(PIRVAULT_PATH="$dir/vault.db" PIRVAULT_KEY_FILE="$dir/vault.key" "$bin" audit verify)
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$label" "$round" \
    "$(rps "$dir/token.txt")" "$(p99 "$dir/token.txt")" "$(non2xx "$dir/token.txt")" \
    "$(rps "$dir/gateway.txt")" "$(p99 "$dir/gateway.txt")" "$(non2xx "$dir/gateway.txt")" \
    "$(rps "$dir/healthz.txt")" "$verify" | tee -a "$OUT/rows.tsv"
}

echo -e "binary\tround\ttoken/s\ttoken p99\tnon-2xx\tgateway/s\tgateway p99\tnon-2xx\thealthz/s\taudit verify"
for round in $(seq 1 "$ROUNDS"); do
  measure before "$BEFORE" "" "$round"
  measure after "$AFTER" EdDSA "$round"
done
python3 - "$OUT/rows.tsv" <<'PY'
import statistics, sys
rows = [line.rstrip("\n").split("\t") for line in open(sys.argv[1])]
def median(label, column): return statistics.median(float(r[column]) for r in rows if r[0] == label)
print(f"{'median':24} {'before':>10} {'after':>10} {'after/before':>13}")
for name, column in (("token endpoint req/s", 2), ("gateway req/s", 5), ("/healthz req/s", 8)):
    before, after = median("before", column), median("after", column)
    print(f"{name:24} {before:10.0f} {after:10.0f} {after / before:12.2f}x")
for label in ("before", "after"):
    tok = median(label, 2) / median(label, 8); gw = median(label, 5) / median(label, 8)
    print(f"{label}: tokens {tok:.2f}x and gateway {gw:.2f}x of its own /healthz")
PY
echo "raw wrk output: $OUT"
