#!/usr/bin/env bash
# Adds gateway traffic to the quick-start demo vault (.pirvault/demo.db, made
# by scripts/quickstart.sh), writes its audit report to .pirvault/report.html
# and renders docs/audit-report.png with headless chromium. PIRVAULT names the
# binary (default: the release build quickstart.sh makes).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
pirvault=${PIRVAULT:-.build/release/pirvault}
export PIRVAULT_PATH=.pirvault/demo.db PIRVAULT_KEY_FILE=.pirvault/demo.key
[[ -f "$PIRVAULT_PATH" ]] || { echo "no demo vault; run scripts/quickstart.sh first" >&2; exit 1; }

# The service key of instance $1 (customer $2, flags after), created if missing.
service_key() {
  local name=$1 customer=$2
  shift 2
  "$pirvault" instance key "$name" 2>/dev/null || "$pirvault" instance create "$name" --customer "$customer" "$@"
}
token() {
  jq -r .oauth.clientsecret <<<"$1" | "$pirvault" token issue --client-id "$(jq -r .oauth.clientid <<<"$1")" || true
}
acme=$(service_key acme-orders "ACME Corp" --flow 'orders/*')
globex=$(service_key globex-products Globex --flow 'products/*')
initech=$(service_key initech-all Initech)
for key in "$acme" "$globex" "$globex"; do
  echo not-the-secret | "$pirvault" token issue --client-id "$(jq -r .oauth.clientid <<<"$key")" >/dev/null 2>&1 || true
done
acme_token=$(token "$acme")
globex_token=$(token "$globex")
initech_token=$(token "$initech")

port=18080
# Tokens name the CLI's default issuer; the server must expect the same.
"$pirvault" serve --listen "127.0.0.1:$port" --issuer http://127.0.0.1:8080 >/dev/null 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true' EXIT
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.2; done
call() { # token, path, times
  for _ in $(seq "$3"); do curl -s -o /dev/null -H "Authorization: Bearer $1" "http://127.0.0.1:$port/http/$2"; done
}
call "$acme_token" orders/1 12
call "$acme_token" orders/2 5
call "$acme_token" products/details 3
call "$globex_token" products/details 9
call "$globex_token" orders/7 2
call "$initech_token" orders/1 4
"$pirvault" credentials revoke initech-all >/dev/null
call "$initech_token" orders/1 3
call not-a-token orders/1 2
"$pirvault" credentials rotate acme-orders --grace 1h >/dev/null
kill "$server"
wait "$server" 2>/dev/null || true
trap - EXIT

"$pirvault" audit report --output .pirvault/report.html
# chromium's complaints about a missing D-Bus are noise here.
chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --screenshot=docs/audit-report.png \
  --window-size=1280,2000 "file://$PWD/.pirvault/report.html" 2>/dev/null
[[ -s docs/audit-report.png ]] || { echo "chromium wrote no docs/audit-report.png" >&2; exit 1; }
echo "wrote docs/audit-report.png" >&2
