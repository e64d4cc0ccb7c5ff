#!/usr/bin/env bash
# Remakes Fuzz/fixture/ (the vault the jwt and export fuzz targets check
# against) and the seed inputs in Fuzz/corpus/ that come from it (replacing
# the jwt and export corpora, adding a service key), with the real CLI: a
# vault with three instances, tokens they were issued (two of them revoked),
# and an audit export. The key file is committed on purpose:
# this vault holds nothing but fuzzing fixtures.
#
# The harness verifies tokens as of the fixture's last audit event, so the
# tokens stay valid however old the fixture is. Run it again after a change
# to the token or export format, then run scripts/fuzz.sh.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

swift build --product pirvault >&2
pirvault="$(swift build --show-bin-path)/pirvault"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
export PIRVAULT_PATH="$work/vault.db" PIRVAULT_KEY_FILE="$work/vault.key"
fixture=Fuzz/fixture
corpus=Fuzz/corpus

"$pirvault" init --key-file "$PIRVAULT_KEY_FILE" --generate-key >/dev/null
"$pirvault" instance create orders-acme --customer acme --flow 'orders/*' >"$work/orders.json"
"$pirvault" instance create api-acme --customer acme --plan api >"$work/api.json"
"$pirvault" instance create opaque-globex --customer globex --token-format opaque >"$work/opaque.json"

field() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["oauth"][sys.argv[2]])' "$1" "$2"; }
issue() { field "$1" clientsecret | "$pirvault" token issue --client-id "$(field "$1" clientid)" "${@:2}"; }

valid=("$(issue "$work/orders.json")" "$(issue "$work/orders.json" --scope ESBMessaging.send)"
  "$(issue "$work/api.json")" "$(issue "$work/opaque.json")" "$(issue "$work/orders.json" --format opaque)")
revoked=("$(issue "$work/orders.json")" "$(issue "$work/opaque.json")")
for token in "${revoked[@]}"; do "$pirvault" token revoke "$token" >/dev/null; done

# Seeds signed by the previous fixture vault would only be refused now.
rm -rf "$fixture" "$corpus/jwt" "$corpus/export"
mkdir -p "$fixture" "$corpus/jwt" "$corpus/export" "$corpus/service-key"
"$pirvault" audit export --format jsonl --output "$fixture/export.jsonl"
"$pirvault" audit public-key >"$fixture/audit-public-key.txt"
printf '%s\n' "${valid[@]}" >"$fixture/valid-tokens.txt"
printf '%s\n' "${revoked[@]}" >"$fixture/revoked-tokens.txt"
cp "$work/vault.db" "$work/vault.key" "$fixture/"
[[ ! -e "$work/vault.db-wal" ]] || { echo "the vault was left with a WAL file; the copy would be incomplete" >&2; exit 1; }

n=0
for token in "${valid[@]}" "${revoked[@]}"; do printf '%s' "$token" >"$corpus/jwt/token-$((n += 1))"; done
printf '%s\n%s' "${valid[0]}" /http/orders/42 >"$corpus/jwt/token-with-flow"
printf '%s\n%s' "${valid[0]}" /http/invoices/1 >"$corpus/jwt/token-with-other-flow"
cp "$fixture/export.jsonl" "$corpus/export/export.jsonl"
cp "$work/orders.json" "$corpus/service-key/service-key.json"
echo "remade $fixture and the jwt, export and service-key seeds" >&2
