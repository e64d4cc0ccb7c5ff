#!/usr/bin/env bash
# Side-by-side benchmark of `pirvault serve` (issue 4): in one run, start the
# release pirvault and the peer OAuth servers of a peers folder, drive each with wrk
# (10 s, 2 threads, 32 connections, loopback only), and print a table:
# pirvault /oauth/token, /healthz, the gateway with a valid token, and each
# peer's token endpoint, with the ratios BENCHMARKS.md sets goals for, and
# the token endpoint over TLS 1.3 against plain HTTP (tls-bench.sh).
# Usage: PEERS_DIR=DIR Benchmarks/serve-bench.sh [PEER ...]   (default peers: authlib glewlwyd)
# DIR holds bench-token.sh and <peer>-start.sh / <peer>-stop.sh for each peer
# (the start-script contract that Benchmarks/pirvault-start.sh follows).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
[[ -n "${PEERS_DIR:-}" && -f "$PEERS_DIR/bench-token.sh" ]] \
  || { echo "set PEERS_DIR to the peers folder (with bench-token.sh and <peer>-start.sh)" >&2; exit 2; }
command -v wrk >/dev/null || { echo "wrk missing: apt-get install -y wrk" >&2; exit 1; }
# PIRVAULT_BIN: a release binary built elsewhere (e.g. with --scratch-path); else build one.
if [[ -z "${PIRVAULT_BIN:-}" ]]; then
  (cd "$HERE/.." && swift build -c release --product pirvault >&2)
  export PIRVAULT_BIN="$HERE/../.build/release/pirvault"
fi
[[ $# -gt 0 ]] || set -- authlib glewlwyd
OUT=$(mktemp -d /tmp/pirvault-serve-bench.XXXXXX)
summary() { grep '^SUMMARY' "$1" | sed -E 's/.* rps=([^ ]*) p50=([^ ]*) p99=([^ ]*) non2xx=([^ ]*).*/\1 \2 \3 \4/'; }

# pirvault: token endpoint, healthz, gateway
line=$(bash "$HERE/pirvault-start.sh" "$OUT/pirvault" | grep '^CLIENT_ID=')
for kv in $line; do export "${kv?}"; done
BENCH_OUT="$OUT/token.txt" WAIT_IDLE_S=30 bash "$PEERS_DIR/bench-token.sh" "$TOKEN_URL" >/dev/null
BASE="${TOKEN_URL%/oauth/token}"
wrk -t2 -c32 -d10s --latency "$BASE/healthz" > "$OUT/healthz.txt"
export TOKEN=$(curl -s -u "$CLIENT_ID:$CLIENT_SECRET" -X POST "$TOKEN_URL?grant_type=client_credentials" | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
wrk -t2 -c32 -d10s --latency -s "$HERE/gateway.lua" "$BASE/http/orders/1" > "$OUT/gateway.txt"
events=$(PIRVAULT_PATH="$OUT/pirvault/vault.db" PIRVAULT_KEY_FILE="$OUT/pirvault/vault.key" "$PIRVAULT_BIN" audit list --json --event gateway.call | grep -c '"gateway.call"' || true)
bash "$HERE/pirvault-stop.sh" "$OUT/pirvault"
verify=$(PIRVAULT_PATH="$OUT/pirvault/vault.db" PIRVAULT_KEY_FILE="$OUT/pirvault/vault.key" "$PIRVAULT_BIN" audit verify)

read -r tok_rps tok_p50 tok_p99 tok_non2xx < <(summary "$OUT/token.txt")
health_rps=$(awk '/^Requests\/sec:/{print $2}' "$OUT/healthz.txt"); health_p99=$(awk '$1=="99%"{print $2}' "$OUT/healthz.txt")
gw_rps=$(awk '/^Requests\/sec:/{print $2}' "$OUT/gateway.txt"); gw_p99=$(awk '$1=="99%"{print $2}' "$OUT/gateway.txt")
gw_non2xx=$(awk -F= '/^NON2XX=/{print $2}' "$OUT/gateway.txt")

best_peer=0; peer_rows=""
for peer in "$@"; do
  unset CLIENT_ID CLIENT_SECRET TOKEN_URL SCOPE JWKS_URL
  pline=$(bash "$PEERS_DIR/$peer-start.sh" "$OUT/$peer" | grep '^CLIENT_ID=' | tail -1) || true
  [[ -n "$pline" ]] || { echo "peer $peer did not start; skipped" >&2; continue; }
  for kv in $pline; do export "${kv?}"; done
  BENCH_OUT="$OUT/$peer.txt" WAIT_IDLE_S=30 bash "$PEERS_DIR/bench-token.sh" "$TOKEN_URL" >/dev/null
  bash "$PEERS_DIR/$peer-stop.sh" "$OUT/$peer" || true
  read -r rps p50 p99 non2xx < <(summary "$OUT/$peer.txt")
  peer_rows+=$(printf '%-34s %10s %10s %8s\n' "$peer /oauth/token" "$rps" "$p99" "$non2xx")$'\n'
  best_peer=$(python3 -c "print(max($best_peer, $rps))")
done

printf '%-34s %10s %10s %8s\n' "what (wrk 10 s, t2 c32)" "req/s" "p99" "non-2xx"
printf '%-34s %10s %10s %8s\n' "pirvault /oauth/token" "$tok_rps" "$tok_p99" "$tok_non2xx"
printf '%-34s %10s %10s %8s\n' "pirvault /healthz" "$health_rps" "$health_p99" "0"
printf '%-34s %10s %10s %8s\n' "pirvault gateway (valid token)" "$gw_rps" "$gw_p99" "${gw_non2xx:-?}"
printf '%s' "$peer_rows"
python3 - "$tok_rps" "$health_rps" "$gw_rps" "$best_peer" "$tok_p99" "$gw_p99" <<'PY'
import sys
tok, health, gw, peer = map(float, sys.argv[1:5])
def goal(ok): return "met" if ok else "NOT met"
print(f"tokens vs own /healthz: {tok / health:.2f}x (goal >= 0.45x: {goal(tok / health >= 0.45)}); p99 {sys.argv[5]} (goal <= 10 ms)")
if peer: print(f"tokens vs fastest peer: {tok / peer:.1f}x (goal >= 8x: {goal(tok / peer >= 8)})")
print(f"gateway vs own /healthz: {gw / health:.2f}x (goal >= 0.60x: {goal(gw / health >= 0.60)}); p99 {sys.argv[6]} (goal <= 10 ms)")
PY
echo "gateway calls audited: $events; $verify"
# The token endpoint over TLS 1.3 against plain HTTP (Benchmarks/tls-bench.sh: its own vault and ports).
ROUNDS="${TLS_ROUNDS:-2}" bash "$HERE/tls-bench.sh" > "$OUT/tls.txt"
tail -4 "$OUT/tls.txt" | head -3
echo "raw wrk output: $OUT"
