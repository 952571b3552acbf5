#!/usr/bin/env bash
# Fuzz coverage: which code in src/pdu and src/text the fuzz corpora reach.
#
# Builds every libFuzzer target (tests/fuzz/meson.build) a second time with
# clang source-based coverage (-fprofile-instr-generate -fcoverage-mapping)
# on top of the usual fuzzer+ASan+UBSan flags, in its own build folder, and
# replays a copy of each target's corpus once through the same harness
# (`<target> -runs=0 DIR`: libFuzzer runs every input once and stops; no
# mutation, so the figures describe the corpus, not luck). The raw profiles
# are merged with llvm-profdata and read back with llvm-cov over all the
# target binaries at once, restricted to src/pdu and src/text:
#   OUT            llvm-cov report per file (regions, functions, lines,
#                  branches), the same TOTAL per target, and the list of
#                  functions never entered and branch directions never taken
#                  (from `llvm-cov export`, tools/fuzz_unreached.py);
#   OUT-show.txt   `llvm-cov show -show-branches=count` (annotated source).
# Usage: tools/fuzz-coverage.sh [CORPUS_ROOT [OUT]]
#   CORPUS_ROOT default tests/fuzz/corpus (one folder per target, named like
#   the target; a missing folder replays nothing for that target);
#   OUT default bench/fuzz/coverage-<UTC date>.txt.
#   BUILD=dir (default build-fuzzcov), LLVM_SUFFIX (default -14: llvm-cov-14,
#   llvm-profdata-14, the versions matching Debian's clang).
# The corpus is copied first: a running fuzzer may be writing into it.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
corpus_root=$(realpath "${1:-tests/fuzz/corpus}")
out=${2:-bench/fuzz/coverage-$(date -u +%Y-%m-%d).txt}
build=${BUILD:-build-fuzzcov}
sfx=${LLVM_SUFFIX--14}
llvm_cov=llvm-cov$sfx
llvm_profdata=llvm-profdata$sfx
for t in clang "$llvm_cov" "$llvm_profdata"; do
  command -v "$t" >/dev/null || { echo "fuzz-coverage: $t missing (tools/bootstrap.sh installs clang and llvm)" >&2; exit 2; }
done
[ -d "$corpus_root" ] || { echo "fuzz-coverage: no corpus folder $corpus_root" >&2; exit 2; }

log() { printf '== %s\n' "$*" >&2; }

cov_flags='-fprofile-instr-generate -fcoverage-mapping'
if [ ! -d "$build" ]; then
  log "configure $build (clang, libFuzzer, source-based coverage)"
  # (meson's compiler checks run a program built with these flags: its
  # profile goes nowhere instead of default.profraw in the tree)
  LLVM_PROFILE_FILE=/dev/null CC=clang CXX=clang++ meson setup "$build" -Dfuzz=true -Dtests=true -Dbench=false \
    -Dbuildtype=debug -Dc_args="$cov_flags" -Dc_link_args="$cov_flags" >&2
fi
targets=$(ninja -C "$build" -t targets all 2>/dev/null | grep -Eo '^tests/fuzz/fuzz_[a-z0-9_]+:' | tr -d :)
[ -n "$targets" ] || { echo "fuzz-coverage: no fuzz targets in $build" >&2; exit 2; }
log "build $(echo "$targets" | wc -l) targets"
# shellcheck disable=SC2086
LLVM_PROFILE_FILE=/dev/null ninja -C "$build" $targets >&2

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
objects=()
declare -A inputs
for t in $targets; do
  name=$(basename "$t")
  exe="$build/$t"
  objects+=("$exe")
  mkdir -p "$work/corpus/$name" "$work/prof/$name"
  # A running fuzzer deletes inputs it replaced by smaller ones: a file gone
  # between listing and copying is skipped.
  [ -d "$corpus_root/$name" ] && { cp -r "$corpus_root/$name/." "$work/corpus/$name/" 2>/dev/null || true; }
  inputs[$name]=$(find "$work/corpus/$name" -type f | wc -l)
  log "replay $name: ${inputs[$name]} inputs"
  # -runs=0: run each corpus input once, no fuzzing. Output kept for a failure.
  if ! LLVM_PROFILE_FILE="$work/prof/$name/%p.profraw" "$exe" -runs=0 -timeout=30 \
         -rss_limit_mb=2048 "$work/corpus/$name" >"$work/$name.log" 2>&1; then
    tail -30 "$work/$name.log" >&2
    echo "fuzz-coverage: replaying $name failed (an input in the corpus crashes the target)" >&2
    exit 1
  fi
  "$llvm_profdata" merge -sparse "$work/prof/$name"/*.profraw -o "$work/$name.profdata"
done
"$llvm_profdata" merge -sparse "$work"/*.profdata -o "$work/all.profdata"

obj_args=("${objects[0]}")
for o in "${objects[@]:1}"; do obj_args+=(-object "$o"); done
# llvm-cov 14 filters by file, not by folder, and by the name as compiled:
# meson compiles ../src/x.c (or ../../top/src/x.c from a build folder
# elsewhere) from the build folder, so the coverage mapping says
# BUILD/../src/x.c, which a filter never matches (llvm-cov then shows every
# file): map that prefix to the source tree.
build_abs=$(cd "$build" && pwd)
rel=$(python3 -c 'import os, sys; print(os.path.relpath(sys.argv[1], sys.argv[2]))' "$top" "$build_abs")
cov_args=("${obj_args[@]}" -path-equivalence="$build_abs/$rel,$top")
mapfile -t srcs < <(ls "$top"/src/pdu/*.[ch] "$top"/src/text/*.[ch])

mkdir -p "$(dirname "$out")"
show_out=${out%.txt}-show.txt
{
  echo "Fuzz coverage of src/pdu and src/text (tools/fuzz-coverage.sh)"
  echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')   commit: $(git rev-parse --short HEAD)   $(clang --version | head -1)"
  echo "corpus: $corpus_root (copied, each input run once with -runs=0)"
  for t in $targets; do name=$(basename "$t"); printf '  %-20s %6s inputs\n' "$name" "${inputs[$name]}"; done
  echo
  echo "== All targets together: llvm-cov report (per file; Missed = never executed)"
  "$llvm_cov" report "${cov_args[@]}" -instr-profile="$work/all.profdata" "${srcs[@]}" \
    | sed "s|$top/||"
  echo
  echo "== Each target alone: TOTAL over src/pdu + src/text"
  printf '%-20s %s\n' target "regions missed cover | functions missed executed | lines missed cover | branches missed cover"
  for t in $targets; do
    name=$(basename "$t")
    total=$("$llvm_cov" report "$build/$t" -path-equivalence="$build_abs/$rel,$top" -instr-profile="$work/$name.profdata" "${srcs[@]}" | { grep "^TOTAL" || true; } |
            awk '{print $2, $3, $4, "|", $5, $6, $7, "|", $8, $9, $10, "|", $11, $12, $13}')
    printf '%-20s %s\n' "$name" "$total"
  done
  echo
  echo "== Never reached (functions never entered; branch directions never taken)"
  "$llvm_cov" export "${cov_args[@]}" -instr-profile="$work/all.profdata" "${srcs[@]}" \
    | python3 tools/fuzz_unreached.py "$top"
} >"$out"
"$llvm_cov" show "${cov_args[@]}" -instr-profile="$work/all.profdata" -show-branches=count \
  -show-line-counts-or-regions "${srcs[@]}" | sed "s|$top/||" >"$show_out"
log "wrote $out and $show_out"
grep '^TOTAL' "$out" >&2
