#!/usr/bin/env bash
# Quick start: install what is missing, build pirvault, create a demo vault
# under .pirvault/ unlocked by a key file, register a sample customer, and
# print its service key. Run it again and it prints the same key.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/install-deps.sh
swift build -c release --product pirvault >&2
pirvault=.build/release/pirvault
mkdir -p .pirvault
chmod 700 .pirvault
export PIRVAULT_PATH=.pirvault/demo.db PIRVAULT_KEY_FILE=.pirvault/demo.key
[[ -f "$PIRVAULT_PATH" ]] || "$pirvault" init --key-file "$PIRVAULT_KEY_FILE" --generate-key >&2
if "$pirvault" instance show acme-orders >/dev/null 2>&1; then
  "$pirvault" instance key acme-orders
else
  "$pirvault" instance create acme-orders --customer "ACME Corp" --flow 'orders/*'
fi
echo "vault: $PIRVAULT_PATH (key file $PIRVAULT_KEY_FILE); try: PIRVAULT_PATH=$PIRVAULT_PATH PIRVAULT_KEY_FILE=$PIRVAULT_KEY_FILE $pirvault instance list" >&2
