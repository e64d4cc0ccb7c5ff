#!/usr/bin/env bash
# The token endpoint over TLS 1.3 against the same endpoint over plain HTTP,
# in one run (issue 17): one vault, two `pirvault serve` on loopback (one
# plain, one with a throw-away certificate), both driven by wrk with
# keep-alive (token.lua, 2 threads, 32 connections), in alternating rounds so
# that drift on a shared machine falls on both alike. Prints each round, the
# means and the ratio TLS/plain (goal >= 0.85x). wrk speaks TLS for https://
# URLs without verifying the certificate (1.3 with this server's OpenSSL).
# Usage: Benchmarks/tls-bench.sh   (env PIRVAULT_BIN, ROUNDS=3, DURATION=10s, PLAIN_PORT=4597, TLS_PORT=4598)
# serve-bench.sh runs it and prints its last line.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
command -v wrk >/dev/null || { echo "wrk missing: apt-get install -y wrk" >&2; exit 1; }
if [[ -z "${PIRVAULT_BIN:-}" ]]; then
  (cd "$HERE/.." && swift build -c release --product pirvault >&2)
  PIRVAULT_BIN="$HERE/../.build/release/pirvault"
fi
ROUNDS="${ROUNDS:-3}"; DURATION="${DURATION:-10s}"
PLAIN_PORT="${PLAIN_PORT:-4597}"; TLS_PORT="${TLS_PORT:-4598}"
OUT=$(mktemp -d /tmp/pirvault-tls-bench.XXXXXX)
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done; }
trap cleanup EXIT
export PIRVAULT_PATH="$OUT/vault.db" PIRVAULT_KEY_FILE="$OUT/vault.key"
"$PIRVAULT_BIN" init --key-file "$PIRVAULT_KEY_FILE" --generate-key >/dev/null
key=$("$PIRVAULT_BIN" instance create bench --customer Bench)
export CLIENT_ID=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["oauth"]["clientid"])' <<<"$key")
export CLIENT_SECRET=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["oauth"]["clientsecret"])' <<<"$key")
export SCOPE=""
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=127.0.0.1 \
  -addext subjectAltName=IP:127.0.0.1 -keyout "$OUT/tls.key" -out "$OUT/tls.pem" 2>/dev/null
chmod 600 "$OUT/tls.key"

start() {  # start PORT [TLS options...]: wait until it issues a token
  local port=$1; shift
  local scheme=http; [[ $# -gt 0 ]] && scheme=https
  "$PIRVAULT_BIN" serve --listen "127.0.0.1:$port" "$@" > "$OUT/serve-$port.out" 2> "$OUT/serve-$port.err" < /dev/null &
  pids+=($!)
  for _ in $(seq 100); do
    code=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$OUT/tls.pem" -u "$CLIENT_ID:$CLIENT_SECRET" \
      -X POST "$scheme://127.0.0.1:$port/oauth/token?grant_type=client_credentials" || true)
    [[ "$code" == 200 ]] && return 0
    sleep 0.1
  done
  echo "serve on $port did not issue a token" >&2; cat "$OUT/serve-$port.err" >&2; exit 1
}
start "$PLAIN_PORT"
start "$TLS_PORT" --tls-cert "$OUT/tls.pem" --tls-key "$OUT/tls.key"
version=$(curl -sv -o /dev/null --cacert "$OUT/tls.pem" "https://127.0.0.1:$TLS_PORT/healthz" 2>&1 \
  | sed -n 's/.*SSL connection using \(TLSv[0-9.]*\).*/\1/p' | head -1 || true)
rps() { awk '/^Requests\/sec:/{print $2}' "$1"; }
p99() { awk '$1=="99%"{print $2}' "$1"; }
printf '%-8s %-14s %10s %10s %8s\n' round kind req/s p99 non-2xx
# Per round: tokens plain, tokens TLS, then /healthz both ways (no vault
# work: the bare cost of TLS per request, for context).
for round in $(seq "$ROUNDS"); do
  for kind in plain tls healthz-plain healthz-tls; do
    case $kind in
      plain) url="http://127.0.0.1:$PLAIN_PORT/oauth/token"; script=(-s "$HERE/token.lua") ;;
      tls) url="https://127.0.0.1:$TLS_PORT/oauth/token"; script=(-s "$HERE/token.lua") ;;
      healthz-plain) url="http://127.0.0.1:$PLAIN_PORT/healthz"; script=() ;;
      healthz-tls) url="https://127.0.0.1:$TLS_PORT/healthz"; script=() ;;
    esac
    wrk -t2 -c32 -d"$DURATION" --latency "${script[@]}" "$url" > "$OUT/$kind-$round.txt"
    printf '%-8s %-14s %10s %10s %8s\n' "$round" "$kind" "$(rps "$OUT/$kind-$round.txt")" "$(p99 "$OUT/$kind-$round.txt")" \
      "$(awk -F= '/^NON2XX=/{print $2}' "$OUT/$kind-$round.txt")"
  done
done
python3 - "$OUT" "$ROUNDS" "${version:-?}" <<'PY'
import re, sys
out, rounds, version = sys.argv[1], int(sys.argv[2]), sys.argv[3]
def rps(kind, r):
    return float(re.search(r"^Requests/sec:\s+([0-9.]+)", open(f"{out}/{kind}-{r}.txt").read(), re.M).group(1))
plain = [rps("plain", r) for r in range(1, rounds + 1)]
tls = [rps("tls", r) for r in range(1, rounds + 1)]
p, t = sum(plain) / rounds, sum(tls) / rounds
hp = sum(rps("healthz-plain", r) for r in range(1, rounds + 1)) / rounds
ht = sum(rps("healthz-tls", r) for r in range(1, rounds + 1)) / rounds
print(f"/healthz for context: plain {hp:.0f} req/s, TLS {ht:.0f} req/s, {ht / hp:.2f}x")
print(f"tokens: mean plain {p:.0f} req/s, TLS ({version}) {t:.0f} req/s")
print(f"tokens over TLS vs plain HTTP, keep-alive: {t / p:.2f}x (goal >= 0.85x: {'met' if t / p >= 0.85 else 'NOT met'})")
PY
echo "raw wrk output: $OUT"
