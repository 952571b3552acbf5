#!/usr/bin/env bash
# Soak: `smsmux pipe` at half its measured max rate for MINUTES with random
# network faults (site namespaces: blackhole, RST storm, loss, bandwidth
# collapse, namespace deleted) and simulator faults, DRs and MOs on; one CSV
# row every 10 s (RSS, fds, in flight, queued, parked, correlation and dedup
# entries, MT/s, p50/p99 outcome latency) and a gnuplot PNG.
# Pass (exit 0): nothing lost or duplicated, RSS and fds flat after warm-up
# (+-5 %), latency not drifting. Needs root (network namespaces).
# Usage: tools/soak.sh MINUTES [OUTDIR]
#   OUTDIR default bench/soak/<date>; BUILD=dir (default build),
#   SOAK_MAX_RATE=N caps the MT rate, SOAK_SEED=N replays a fault sequence.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
minutes=${1:?usage: tools/soak.sh MINUTES [OUTDIR]}
out=${2:-$here/bench/soak/$(date -u +%Y%m%dT%H%M%SZ)}
build=${BUILD:-$here/build}
for exe in "$build/tools/smsmux/smsmux" "$build/tools/smsc-sim/smsc-sim"; do
  [ -x "$exe" ] || { echo "soak: $exe missing: build first (meson compile -C $build)" >&2; exit 2; }
done
args=(--minutes "$minutes" --out "$out" --smsmux "$build/tools/smsmux/smsmux"
      --sim "$build/tools/smsc-sim/smsc-sim")
[ -n "${SOAK_MAX_RATE:-}" ] && args+=(--max-rate "$SOAK_MAX_RATE")
[ -n "${SOAK_SEED:-}" ] && args+=(--seed "$SOAK_SEED")
exec python3 "$here/tests/integration/net/soak.py" "${args[@]}"
