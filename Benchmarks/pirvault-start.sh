#!/usr/bin/env bash
# Start a release `pirvault serve` for side-by-side benchmarks, following the
# peers' start-script contract (serve-bench.sh): idempotent, background, pid
# recorded, waits until the token endpoint issues a token, then prints
#   CLIENT_ID=... CLIENT_SECRET=... TOKEN_URL=... SCOPE=... JWKS_URL=...
# Usage: pirvault-start.sh [WORKDIR]   (default /tmp/peers/pirvault; port PIRVAULT_PORT, default 4595;
#        PIRVAULT_SIGNING_ALG RS256 (default) | ES256 | EdDSA for the new vault; set it empty
#        for a binary older than --signing-alg, which makes EdDSA vaults)
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
DIR="${1:-/tmp/peers/pirvault}"
PORT="${PIRVAULT_PORT:-4595}"
BASE="http://127.0.0.1:${PORT}"
BIN="${PIRVAULT_BIN:-$HERE/../.build/release/pirvault}"
log() { echo "[pirvault-start] $*" >&2; }
[[ -x "$BIN" ]] || { log "build first: swift build -c release --product pirvault"; exit 1; }
mkdir -p "$DIR"
export PIRVAULT_PATH="$DIR/vault.db" PIRVAULT_KEY_FILE="$DIR/vault.key"
if [[ -f "$DIR/serve.pid" ]] && kill -0 "$(cat "$DIR/serve.pid")" 2>/dev/null && [[ -f "$DIR/creds.env" ]]; then
  log "already running (pid $(cat "$DIR/serve.pid"))"; cat "$DIR/creds.env"; exit 0
fi
rm -f "$DIR/vault.db" "$DIR/vault.db-wal" "$DIR/vault.db-shm" "$DIR/vault.key"
alg="${PIRVAULT_SIGNING_ALG-RS256}"
"$BIN" init --key-file "$PIRVAULT_KEY_FILE" --generate-key ${alg:+--signing-alg "$alg"} >&2
key=$("$BIN" instance create bench --customer Bench --url "$BASE" --token-url "$BASE/oauth/token")
CLIENT_ID=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["oauth"]["clientid"])' <<<"$key")
CLIENT_SECRET=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["oauth"]["clientsecret"])' <<<"$key")
nohup "$BIN" serve --listen "127.0.0.1:${PORT}" --issuer "$BASE" > "$DIR/serve.out" 2> "$DIR/serve.err" < /dev/null &
echo $! > "$DIR/serve.pid"
for _ in $(seq 1 100); do
  code=$(curl -s -o /dev/null -w '%{http_code}' -u "${CLIENT_ID}:${CLIENT_SECRET}" -X POST "$BASE/oauth/token?grant_type=client_credentials" || true)
  [[ "$code" == "200" ]] && break
  sleep 0.1
done
[[ "$code" == "200" ]] || { log "token endpoint answered $code"; cat "$DIR/serve.err" >&2; exit 1; }
echo "CLIENT_ID=${CLIENT_ID} CLIENT_SECRET=${CLIENT_SECRET} TOKEN_URL=${BASE}/oauth/token SCOPE=ESBMessaging.send JWKS_URL=${BASE}/token_keys" | tee "$DIR/creds.env"
