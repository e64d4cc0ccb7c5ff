#!/usr/bin/env bash
# `audit export` and `audit verify` on a large log against `sha256sum` over
# the export file, in one run (the targets in BENCHMARKS.md: export ≤ 1.5× and verify ≤ 0.75×
# sha256sum, ≤ 256 MiB resident). Builds release, makes a vault of EVENTS
# gateway-like events with `pirvault-bench make-audit-log` (group commits,
# ~30 s per million), then RUNS rounds of: export (jsonl, to a file),
# sha256sum of that file, verify (the vault), verify --export (offline).
# Prints the median wall time of each, its ratio to sha256sum, and the peak
# resident set over all rounds (/usr/bin/time).
# Usage: Benchmarks/audit-bench.sh [EVENTS]   (default 1000000)
# Environment: RUNS (default 3); AUDIT_BENCH_DIR keeps the vault there and
# reuses it next time (otherwise a temporary folder, removed at the end);
# SCRATCH, the build folder (default .build-release); BASELINE_BIN, another
# pirvault binary (say, a build of the previous commit) timed in the same
# rounds on the same vault, for before/after figures from one run;
# EXPORT_DIR, where the export file goes (default /dev/shm: this shared VM's
# disk writes ~50 MB/s while other builds run, and the figure is meant to
# measure pirvault, not the disk; the vault stays where AUDIT_BENCH_DIR is).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
EVENTS="${1:-1000000}"
RUNS="${RUNS:-3}"
SCRATCH="${SCRATCH:-$HERE/../.build-release}"
(cd "$HERE/.." && swift build -c release --scratch-path "$SCRATCH" --product pirvault >&2 \
  && swift build -c release --scratch-path "$SCRATCH" --product pirvault-bench >&2)
BIN="$SCRATCH/release/pirvault"
if [[ -n "${AUDIT_BENCH_DIR:-}" ]]; then
  DIR="$AUDIT_BENCH_DIR"
  mkdir -p "$DIR"
else
  DIR=$(mktemp -d /tmp/pirvault-audit-bench.XXXXXX)
fi
EXPORT_FILE="$(mktemp -d "${EXPORT_DIR:-/dev/shm}/pirvault-audit-bench.XXXXXX")/export.jsonl"
trap 'rm -rf "$(dirname "$EXPORT_FILE")"; [[ -n "${AUDIT_BENCH_DIR:-}" ]] || rm -rf "$DIR"' EXIT
[[ -f "$DIR/vault.db" ]] || "$SCRATCH/release/pirvault-bench" make-audit-log --events "$EVENTS" --dir "$DIR" >&2
export PIRVAULT_PATH="$DIR/vault.db" PIRVAULT_KEY_FILE="$DIR/vault.key"
"$BIN" audit public-key > "$DIR/audit.pub"

: > "$DIR/results"
# measure NAME COMMAND...: appends "NAME seconds peak-KiB" to the results.
measure() {
  local name=$1
  shift
  /usr/bin/time -f '%e %M' -o "$DIR/time" "$@" > /dev/null
  echo "$name $(cat "$DIR/time")" >> "$DIR/results"
}
# round PREFIX BINARY: one export, sha256sum of it, verify, verify --export.
round() {
  rm -f "$EXPORT_FILE"
  measure "${1}export" "$2" audit export --format jsonl --output "$EXPORT_FILE"
  measure "${1}sha256sum" sha256sum "$EXPORT_FILE"
  measure "${1}verify" "$2" audit verify
  measure "${1}verify-export" "$2" audit verify --export "$EXPORT_FILE" --public-key "$DIR/audit.pub"
}
for _ in $(seq "$RUNS"); do
  [[ -z "${BASELINE_BIN:-}" ]] || round baseline- "$BASELINE_BIN"
  round "" "$BIN"
done

events=$("$BIN" audit verify | sed -E 's/^audit log OK: ([0-9]+) events.*/\1/')
bytes=$(stat -c %s "$EXPORT_FILE")
python3 - "$DIR/results" "$events" "$bytes" "$RUNS" <<'PY'
import statistics, sys
results, events, size, runs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
times, peaks = {}, {}
for line in open(results):
    name, seconds, kib = line.split()
    times.setdefault(name, []).append(float(seconds))
    peaks[name] = max(peaks.get(name, 0), int(kib))
goals = {"export": 1.5, "verify": 0.75}
print(f"{events:,} events, export file {size / 2**30:.2f} GiB, median of {runs} rounds")
print(f"{'what':<52} {'seconds':>8} {'× sha256sum':>12} {'peak RSS':>10}  goal")
labels = {
    "sha256sum": "sha256sum over the export file",
    "export": "pirvault audit export --format jsonl",
    "verify": "pirvault audit verify",
    "verify-export": "pirvault audit verify --export",
}
for prefix in ["baseline-", ""]:
    for name, label in labels.items():
        key = prefix + name
        if key not in times:
            continue
        t = statistics.median(times[key])
        base = statistics.median(times[prefix + "sha256sum"])
        goal = ""
        if name in goals:
            met = t / base <= goals[name] and peaks[key] <= 256 * 1024
            goal = f"≤ {goals[name]}×, ≤ 256 MiB: {'met' if met else 'NOT met'}"
        shown = ("baseline: " if prefix else "") + label
        print(f"{shown:<52} {t:8.2f} {t / base:11.2f}× {peaks[key] / 1024:7.0f} MiB  {goal}")
PY
