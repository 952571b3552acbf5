#!/usr/bin/env bash
# Runs every test smsmux has, the way CI does:
#   1. installs what is missing (tools/bootstrap.sh, idempotent),
#   2. release build (-Werror) + the whole meson test suite,
#   3. ASan+UBSan build + the whole suite again,
#   4. every libFuzzer target for FUZZ_SECONDS (default 60) each, on a copy
#      of tests/fuzz/corpus/<target>/ with tests/fuzz/<target>.dict if present,
# and ends with one line: "tests: N passed, M failed". Exit status 0 only when
# nothing failed. Build folders: build-rel, build-asan, build-fuzz (reused).
#
# Environment: FUZZ_SECONDS (default 60), SKIP_ASAN=1, SKIP_FUZZ=1 (local use),
# MESON_TEST_ARGS (extra args to `meson test`, e.g. --suite unit).
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
fuzz_seconds=${FUZZ_SECONDS:-60}
pass=0
fail=0

log() { printf '== %s\n' "$*" >&2; }
add_counts() { # add "P F" to the totals
  local p f
  read -r p f <<<"$1"
  pass=$((pass + p)); fail=$((fail + f))
}

tools/bootstrap.sh --interop || { log "bootstrap failed"; echo "tests: 0 passed, 1 failed"; exit 1; }

run_build() { # name, meson setup args...
  local dir=$1; shift
  log "configure $dir"
  if [ -d "$dir" ]; then
    meson setup --reconfigure "$dir" "$@" >&2 || { add_counts "0 1"; return; }
  else
    meson setup "$dir" "$@" >&2 || { add_counts "0 1"; return; }
  fi
  log "build $dir"
  if ! meson compile -C "$dir" >&2; then
    log "build $dir FAILED"; add_counts "0 1"; return
  fi
  log "test $dir"
  rm -f "$dir/meson-logs/testlog.json"
  # shellcheck disable=SC2086
  meson test -C "$dir" --print-errorlogs --num-processes 2 ${MESON_TEST_ARGS:-} >&2
  add_counts "$(python3 tests/count.py "$dir/meson-logs/testlog.json")"
}

run_build build-rel -Dbuildtype=release -Dwerror=true

if [ "${SKIP_ASAN:-0}" != 1 ]; then
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    run_build build-asan -Dbuildtype=debugoptimized -Dwerror=true \
      -Db_sanitize=address,undefined -Db_lundef=false -Dbench=false
fi

if [ "${SKIP_FUZZ:-0}" != 1 ]; then
  log "configure build-fuzz (clang, libFuzzer)"
  # Only the fuzz executables are built here (the rest was built twice already).
  if { [ -d build-fuzz ] || CC=clang CXX=clang++ meson setup build-fuzz -Dfuzz=true -Dbench=false \
         -Dtests=true -Dbuildtype=debugoptimized >&2; } &&
     fuzz_targets=$(ninja -C build-fuzz -t targets all 2>/dev/null | grep -Eo '^tests/fuzz/fuzz_[a-z0-9_]+:' | tr -d :) &&
     [ -n "$fuzz_targets" ] && ninja -C build-fuzz $fuzz_targets >&2; then
    for t in build-fuzz/tests/fuzz/fuzz_*; do
      [ -f "$t" ] && [ -x "$t" ] || continue
      name=$(basename "$t")
      corpus=$(mktemp -d)
      [ -d "tests/fuzz/corpus/$name" ] && cp -r "tests/fuzz/corpus/$name/." "$corpus/"
      dict=()
      [ -f "tests/fuzz/$name.dict" ] && dict=(-dict="tests/fuzz/$name.dict")
      log "fuzz $name for ${fuzz_seconds}s"
      if "$t" -max_total_time="$fuzz_seconds" -rss_limit_mb=2048 -print_final_stats=1 \
           "${dict[@]}" "$corpus" >"build-fuzz/$name.log" 2>&1; then
        execs=$(grep -Eo 'stat::number_of_executed_units: *[0-9]+' "build-fuzz/$name.log" | grep -Eo '[0-9]+$')
        log "fuzz $name ok: ${execs:-?} executions"
        echo "ok - fuzz $name (${execs:-?} executions)"
        add_counts "1 0"
      else
        log "fuzz $name FAILED"; tail -40 "build-fuzz/$name.log" >&2
        add_counts "0 1"
      fi
      rm -rf "$corpus"
    done
  else
    log "fuzz build FAILED"; add_counts "0 1"
  fi
fi

echo "tests: $pass passed, $fail failed"
[ "$fail" -eq 0 ] && [ "$pass" -gt 0 ]
