#!/usr/bin/env bash
# One node on the SQLite file against two nodes on one PostgreSQL, in one run
# on this machine (goal: two nodes ≥ 0.5× one, BENCHMARKS.md): tokens/s and gateway calls/s with
# durable audit, wrk 10 s, 32 connections in all, loopback only. With two
# nodes, two wrk processes (1 thread, 16 connections each) load both at once
# and their rates are added. Afterwards every acknowledged (2xx) answer must be
# in the audit log, and `audit verify` must pass.
# PostgreSQL is a throw-away server in a temporary folder, with the default
# durability (fsync on, synchronous_commit on). Run as root or as a user who
# can run initdb.
# Usage: Benchmarks/nodes-bench.sh   (needs wrk, postgresql; builds pirvault)
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SCRATCH="${SCRATCH:-$HERE/../.build}"
(cd "$HERE/.." && swift build -c release --product pirvault --scratch-path "$SCRATCH" >&2)
BIN="$SCRATCH/release/pirvault"
PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
OUT=$(mktemp -d /tmp/pirvault-nodes-bench.XXXXXX)
chmod 755 "$OUT"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
as_pg() { if [[ "$(id -u)" == 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi; }
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  as_pg "$PGBIN/pg_ctl" -D "$OUT/pg/data" -m fast stop >/dev/null 2>&1 || true
}
trap cleanup EXIT

# A throw-away PostgreSQL with password authentication.
mkdir -p "$OUT/pg"
python3 -c 'import secrets; print(secrets.token_urlsafe(24))' > "$OUT/pg/pw"
[[ "$(id -u)" == 0 ]] && chown -R postgres "$OUT/pg"
PGPORT=$(free_port)
as_pg "$PGBIN/initdb" -D "$OUT/pg/data" --auth=scram-sha-256 --username=postgres --pwfile="$OUT/pg/pw" >/dev/null
as_pg "$PGBIN/pg_ctl" -D "$OUT/pg/data" -l "$OUT/pg/log" -w start \
  -o "-p $PGPORT -k $OUT/pg -c listen_addresses=127.0.0.1 -c max_connections=50" >/dev/null
export PGPASSWORD=$(cat "$OUT/pg/pw")
psql -h 127.0.0.1 -p "$PGPORT" -U postgres -qc "CREATE DATABASE vault" >/dev/null

# start_node NAME PORT: serve in the background with the exported vault settings.
start_node() {
  nohup "$BIN" serve --listen "127.0.0.1:$2" --issuer "http://pirvault.bench" > "$OUT/$1.out" 2> "$OUT/$1.err" < /dev/null &
  pids+=($!)
  for _ in $(seq 1 100); do curl -sf -o /dev/null "http://127.0.0.1:$2/healthz" && return; sleep 0.1; done
  echo "node $1 did not start" >&2; cat "$OUT/$1.err" >&2; exit 1
}
# setup_vault: init, one instance; sets CLIENT_ID and CLIENT_SECRET.
setup_vault() {
  "$BIN" init --key-file "$PIRVAULT_KEY_FILE" --generate-key >/dev/null
  local key
  key=$("$BIN" instance create bench --customer Bench)
  CLIENT_ID=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["oauth"]["clientid"])' <<<"$key")
  CLIENT_SECRET=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["oauth"]["clientsecret"])' <<<"$key")
  export CLIENT_ID CLIENT_SECRET
}
# load NAME SCRIPT PATH PORT...: wrk on every port at once, 32 connections in all;
# prints "rps acknowledged non2xx".
load() {
  local name=$1 script=$2 path=$3; shift 3
  local n=$# files=()
  for port in "$@"; do
    wrk -t$((2 / n)) -c$((32 / n)) -d10s --latency -s "$script" "http://127.0.0.1:$port$path" > "$OUT/$name-$port.txt" &
    files+=("$OUT/$name-$port.txt")
  done
  wait  # this runs in a subshell: it waits for its wrk processes only
  python3 - "${files[@]}" <<'PY'
import re, sys
rps = ack = non2xx = 0
for path in sys.argv[1:]:
    text = open(path).read()
    rps += float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
    total = int(re.search(r"(\d+) requests in", text).group(1))
    bad = int(re.search(r"NON2XX=(\d+)", text).group(1))
    non2xx += bad
    ack += total - bad
print(f"{rps:.0f} {ack} {non2xx}")
PY
}
audited() { "$BIN" audit list --json --event "$1" | python3 -c 'import json,sys; print(sum(1 for e in json.load(sys.stdin) if e["outcome"]=="allowed"))'; }
token_for() { curl -s -u "$CLIENT_ID:$CLIENT_SECRET" -X POST "http://127.0.0.1:$1/oauth/token?grant_type=client_credentials" | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])'; }

run_setup() {  # run_setup LABEL PORT...: token then gateway load; prints one result line per load
  local label=$1; shift
  read -r tok_rps tok_ack tok_bad < <(load "$label-token" "$HERE/token.lua" /oauth/token "$@")
  TOKEN=$(token_for "$1"); export TOKEN
  read -r gw_rps gw_ack gw_bad < <(load "$label-gateway" "$HERE/gateway.lua" /http/orders/1 "$@")
  local tok_audited gw_audited
  tok_audited=$(audited token.issue); gw_audited=$(audited gateway.call)
  echo "$label $tok_rps $tok_ack $tok_bad $tok_audited $gw_rps $gw_ack $gw_bad $gw_audited"
}

# 1. One node on the SQLite file.
mkdir -p "$OUT/sqlite"
export PIRVAULT_PATH="$OUT/sqlite/vault.db" PIRVAULT_KEY_FILE="$OUT/sqlite/vault.key"
setup_vault
P1=$(free_port); start_node sqlite "$P1"
sqlite_line=$(run_setup sqlite "$P1")
kill "${pids[-1]}"; wait "${pids[-1]}" 2>/dev/null || true
sqlite_verify=$("$BIN" audit verify)

# 2. Two nodes on one PostgreSQL database.
mkdir -p "$OUT/postgres"
export PIRVAULT_PATH="postgres://postgres@127.0.0.1:$PGPORT/vault" PIRVAULT_KEY_FILE="$OUT/postgres/vault.key"
setup_vault
P2=$(free_port); start_node node-a "$P2"
P3=$(free_port); start_node node-b "$P3"
pg_line=$(run_setup postgres "$P2" "$P3")
kill "${pids[-1]}" "${pids[-2]}"; wait 2>/dev/null || true
pg_verify=$("$BIN" audit verify)

python3 - "$sqlite_line" "$pg_line" <<'PY'
import sys
rows = [line.split() for line in sys.argv[1:]]
print(f"{'setup (wrk 10 s, 32 connections)':38} {'tokens/s':>9} {'lost':>5} {'non-2xx':>8} {'calls/s':>9} {'lost':>5} {'non-2xx':>8}")
for label, tr, ta, tb, tau, gr, ga, gb, gau in rows:
    name = {"sqlite": "1 node, SQLite file", "postgres": "2 nodes, one PostgreSQL"}[label]
    print(f"{name:38} {tr:>9} {max(0, int(ta) - int(tau)):>5} {tb:>8} {gr:>9} {max(0, int(ga) - int(gau)):>5} {gb:>8}")
(s_tok, s_gw), (p_tok, p_gw) = [(float(r[1]), float(r[5])) for r in rows]
verdict = lambda ok: "met" if ok else "NOT met"
print(f"tokens: 2 PostgreSQL nodes / 1 SQLite node = {p_tok / s_tok:.2f}x (goal >= 0.5x: {verdict(p_tok / s_tok >= 0.5)})")
print(f"gateway: 2 PostgreSQL nodes / 1 SQLite node = {p_gw / s_gw:.2f}x")
PY
echo "SQLite: $sqlite_verify"
echo "PostgreSQL: $pg_verify"
echo "raw output: $OUT"
