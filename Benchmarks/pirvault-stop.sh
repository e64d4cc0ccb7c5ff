#!/usr/bin/env bash
# Stop the `pirvault serve` started by pirvault-start.sh (SIGTERM: graceful, audit flushed).
set -euo pipefail
DIR="${1:-/tmp/peers/pirvault}"
[[ -f "$DIR/serve.pid" ]] || exit 0
PID=$(cat "$DIR/serve.pid")
if kill -0 "$PID" 2>/dev/null; then
  kill -TERM "$PID"
  for _ in $(seq 1 100); do kill -0 "$PID" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$PID" 2>/dev/null && kill -KILL "$PID"
fi
rm -f "$DIR/serve.pid" "$DIR/creds.env"
