#!/usr/bin/env bash
# Fuzzes pirvault's parsers and verifiers with libFuzzer, each target for a
# bounded time over its committed corpus (Fuzz/corpus/<target>/).
#
#   scripts/fuzz.sh [seconds-per-target] [target...]    (default: 60 s, all targets)
#
# Targets: jwt form service-key time export (see docs/fuzzing.md). New
# inputs the fuzzer finds stay in a scratch folder; with FUZZ_UPDATE_CORPUS=1
# each target's corpus is replaced by a small set of the old corpus and them
# that still reaches every code edge they reach (hit counts ignored, so the
# committed corpus stays small: about a hundred files per target at most). A crash or broken invariant is written to Fuzz/crashes/<target>/ and
# makes the script exit 1; once fixed, move the file to Fuzz/regressions/<target>/
# so `swift test` replays it forever.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

seconds="${1:-60}"
shift || true
targets=("$@")
((${#targets[@]})) || targets=(jwt form service-key time export)

# Every module gets AddressSanitizer and libFuzzer's coverage instrumentation
# (what -sanitize=fuzzer turns on); only the fuzz executable itself is built
# with -sanitize=fuzzer (Fuzz/Package.swift), because that also links
# libFuzzer's main, which the build's helper tool MigrationEmbedder must not get.
log="$(mktemp)"
work="$(mktemp -d)"
trap 'rm -rf "$log" "$work"' EXIT
started=$SECONDS
if ! swift build -c release --package-path Fuzz -Xswiftc -sanitize=address \
  -Xswiftc -sanitize-coverage=edge,indirect-calls,trace-cmp,inline-8bit-counters,pc-table >"$log" 2>&1; then
  # gold warns about every ASan helper symbol; the real error is elsewhere.
  grep -v "ld.gold: warning: Cannot export local symbol" "$log" >&2
  exit 1
fi
echo "built the fuzzer in $((SECONDS - started)) s"
fuzzer="$(swift build -c release --package-path Fuzz --show-bin-path)/pirvault-fuzz"

max_len() {
  case "$1" in
    jwt) echo 10000 ;;  # over JWT.maximumLength (8192), so the length check is reached
    form) echo 2048 ;;
    service-key) echo 4096 ;;
    time) echo 64 ;;
    export) echo 16384 ;;  # the fixture export is 7 KiB
  esac
}

failed=()
printf '%-12s %12s %8s %6s %7s %7s %8s\n' target executions exec/s cov ft corpus crashes
for target in "${targets[@]}"; do
  [[ -n "$(max_len "$target")" ]] || { echo "unknown target $target" >&2; exit 2; }
  crashes="Fuzz/crashes/$target"
  mkdir -p "$crashes" "$work/$target"
  before=$(find "$crashes" -type f | wc -l)
  output="$work/$target.log"
  # New inputs go to the scratch folder (listed first); past findings are
  # replayed too. Swift's own crash reporter would make libFuzzer wait on
  # every crash.
  corpora=("Fuzz/corpus/$target")
  [[ ! -d "Fuzz/regressions/$target" ]] || corpora+=("Fuzz/regressions/$target")
  status=0
  PIRVAULT_FUZZ_TARGET="$target" SWIFT_BACKTRACE=enable=no \
    "$fuzzer" "$work/$target" "${corpora[@]}" \
    -max_total_time="$seconds" -max_len="$(max_len "$target")" -rss_limit_mb=2048 -timeout=10 \
    -artifact_prefix="$crashes/" -print_final_stats=1 >"$output" 2>&1 || status=$?
  found=$(($(find "$crashes" -type f | wc -l) - before))
  last=$(grep -E '^#[0-9]+' "$output" | tail -1 || true)
  progress() { sed -nE "s/.* $1: ([0-9]+).*/\1/p" <<<"$last"; }
  final_stat() { sed -nE "s/^stat::$1: *([0-9]+).*/\1/p" "$output"; }
  printf '%-12s %12s %8s %6s %7s %7s %8s\n' "$target" "$(final_stat number_of_executed_units)" \
    "$(final_stat average_exec_per_sec)" "$(progress cov)" "$(progress ft)" "$(progress corp)" "$found"
  if ((status != 0 || found > 0)); then
    failed+=("$target")
    grep -v "ld.gold" "$output" | grep -E -A3 "ERROR|Fatal error|fatal error|SUMMARY|Test unit written" >&2 || tail -20 "$output" >&2
  fi
  if [[ "${FUZZ_UPDATE_CORPUS:-}" == 1 ]]; then
    merged="$work/$target.merged"
    mkdir -p "$merged"
    PIRVAULT_FUZZ_TARGET="$target" SWIFT_BACKTRACE=enable=no \
      "$fuzzer" -set_cover_merge=1 -use_counters=0 -max_len="$(max_len "$target")" \
      "$merged" "Fuzz/corpus/$target" "$work/$target" >/dev/null 2>&1
    rm -rf "Fuzz/corpus/$target"
    mv "$merged" "Fuzz/corpus/$target"
    echo "  corpus of $target: $(find "Fuzz/corpus/$target" -type f | wc -l) files"
  fi
done
if ((${#failed[@]})); then
  echo "fuzzing found problems in: ${failed[*]} (inputs in Fuzz/crashes/)" >&2
  exit 1
fi
