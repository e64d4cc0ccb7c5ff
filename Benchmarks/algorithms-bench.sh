#!/usr/bin/env bash
# The token endpoint per signing algorithm (issue 17), in one run: for RS256,
# ES256 and EdDSA, a release `pirvault serve` on a vault that signs with it
# and the authlib peer signing the same algorithm (AUTHLIB_ALG), each driven
# by the peers' bench-token.sh (wrk 10 s, 2 threads, 32 connections, loopback,
# CPU accounted per process). The raw sign rate per core comes from
# `pirvault-bench algorithms` in the same run (the library that signs:
# swift-crypto for RS256 and ES256, libsodium for EdDSA). Prints per algorithm
#   endpoint req/s, the cores the server used, raw sign/s on those cores,
#   endpoint / raw (goal >= 0.80x), and pirvault / authlib.
# Usage: PEERS_DIR=DIR Benchmarks/algorithms-bench.sh   (env PIRVAULT_BIN, BENCH_BIN, ALGS="RS256 ES256 EdDSA")
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
[[ -n "${PEERS_DIR:-}" && -f "$PEERS_DIR/bench-token.sh" ]] \
  || { echo "set PEERS_DIR to the peers folder (with bench-token.sh and authlib-start.sh)" >&2; exit 2; }
command -v wrk >/dev/null || { echo "wrk missing: apt-get install -y wrk" >&2; exit 1; }
if [[ -z "${PIRVAULT_BIN:-}" || -z "${BENCH_BIN:-}" ]]; then
  (cd "$HERE/.." && swift build -c release --product pirvault >&2 && swift build -c release --product pirvault-bench >&2)
  PIRVAULT_BIN="${PIRVAULT_BIN:-$HERE/../.build/release/pirvault}"
  BENCH_BIN="${BENCH_BIN:-$HERE/../.build/release/pirvault-bench}"
fi
export PIRVAULT_BIN
ALGS="${ALGS:-RS256 ES256 EdDSA}"
OUT=$(mktemp -d /tmp/pirvault-algorithms-bench.XXXXXX)

"$BENCH_BIN" algorithms > "$OUT/in-process.txt"
cat "$OUT/in-process.txt"
raw_rate() {  # the raw sign rate per second of algorithm $1, from the in-process run
  awk -v alg="$1" '$1 == alg && $2 == "raw" { for (i = 3; i <= NF; i++) if ($(i + 1) == "/s") { print $i; exit } }' "$OUT/in-process.txt"
}
# "server_cpu=N%" in bench-token's SUMMARY is a share of both cores.
server_cores() { sed -E 's/.*server_cpu=([0-9]+)%.*/\1/' <<<"$1" | awk '{ printf "%.2f", $1 * 2 / 100 }'; }
rps() { sed -E 's/.* rps=([^ ]*) .*/\1/' <<<"$1"; }

rows=()
for alg in $ALGS; do
  raw=$(raw_rate "$alg")
  [[ -n "$raw" ]] || { echo "no raw sign rate for $alg in the in-process run" >&2; exit 1; }
  # pirvault
  unset CLIENT_ID CLIENT_SECRET TOKEN_URL SCOPE JWKS_URL
  line=$(PIRVAULT_SIGNING_ALG="$alg" bash "$HERE/pirvault-start.sh" "$OUT/pirvault-$alg" | grep '^CLIENT_ID=')
  for kv in $line; do export "${kv?}"; done
  alg_seen=$(curl -s -u "$CLIENT_ID:$CLIENT_SECRET" -X POST "$TOKEN_URL?grant_type=client_credentials" \
    | python3 -c 'import base64,json,sys; h=json.load(sys.stdin)["access_token"].split(".")[0]; print(json.loads(base64.urlsafe_b64decode(h + "=" * (-len(h) % 4)))["alg"])')
  [[ "$alg_seen" == "$alg" ]] || { echo "pirvault signed $alg_seen, not $alg" >&2; exit 1; }
  ours=$(BENCH_OUT="$OUT/pirvault-$alg.txt" WAIT_IDLE_S=30 bash "$PEERS_DIR/bench-token.sh" "$TOKEN_URL" | grep '^SUMMARY')
  bash "$HERE/pirvault-stop.sh" "$OUT/pirvault-$alg"
  # authlib, the same algorithm
  unset CLIENT_ID CLIENT_SECRET TOKEN_URL SCOPE JWKS_URL
  peer_rps="-"
  if pline=$(AUTHLIB_ALG="$alg" bash "$PEERS_DIR/authlib-start.sh" "$OUT/authlib-$alg" | grep '^CLIENT_ID=' | tail -1); then
    for kv in $pline; do export "${kv?}"; done
    peer=$(BENCH_OUT="$OUT/authlib-$alg.txt" WAIT_IDLE_S=30 bash "$PEERS_DIR/bench-token.sh" "$TOKEN_URL" | grep '^SUMMARY')
    peer_rps=$(rps "$peer")
  else
    echo "authlib ($alg) did not start; skipped" >&2
  fi
  bash "$PEERS_DIR/authlib-stop.sh" "$OUT/authlib-$alg" || true
  rows+=("$alg $(rps "$ours") $(server_cores "$ours") $raw $peer_rps")
  echo "$ours" >&2
done

printf '%-6s %12s %12s %16s %12s %14s %16s\n' alg "tokens/s" "server cores" "raw sign/s there" "endpoint/raw" "authlib tok/s" "pirvault/authlib"
for r in "${rows[@]}"; do
  python3 - $r <<'PY'
import sys
alg, rps, cores, raw, peer = sys.argv[1:6]
rps, cores, raw = float(rps), float(cores), float(raw)
capacity = raw * cores
ratio = rps / capacity
goal = "met" if ratio >= 0.80 else "NOT met"
vs = f"{rps / float(peer):.1f}x" if peer != "-" else "-"
print(f"{alg:<6} {rps:>12.0f} {cores:>12.2f} {capacity:>16.0f} {ratio:>7.2f}x {goal:<4} {peer:>14} {vs:>16}")
PY
done
echo "raw wrk output: $OUT"
