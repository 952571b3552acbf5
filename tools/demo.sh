#!/usr/bin/env bash
# The README's main job: install what is missing, build (release), run
# `smsmux demo` (dispatcher + embedded multi-site simulator + fault plan).
# Extra arguments go to `smsmux demo`.
# `tools/demo.sh --instances N [--duration S] [--rate R]` instead starts a
# redis-server, one smsc-sim and N `smsmux pipe` instances sharing the store
# (docs/scale-out.md) and ends with the lost/duplicated summary across them
# (tools/demo_instances.py).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
tools/bootstrap.sh
[ -d build-rel ] || meson setup build-rel -Dbuildtype=release >&2
meson compile -C build-rel >&2
if [ "${1:-}" = "--instances" ]; then
  exec python3 tools/demo_instances.py build-rel/tools/smsmux/smsmux \
    build-rel/tools/smsc-sim/smsc-sim "$@"
fi
exec build-rel/tools/smsmux/smsmux demo "$@"
