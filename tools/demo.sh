#!/usr/bin/env bash
# The README's main job: install what is missing, build (release), run
# `smsmux demo` (dispatcher + embedded multi-site simulator + fault plan).
# Extra arguments go to `smsmux demo`.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
tools/bootstrap.sh
[ -d build-rel ] || meson setup build-rel -Dbuildtype=release >&2
meson compile -C build-rel >&2
exec build-rel/tools/smsmux/smsmux demo "$@"
