#!/usr/bin/env bash
# Installs every Debian package smsmux needs to build, test, fuzz and benchmark.
# Idempotent: asks apt only for what is missing, so a second run is a no-op.
# Usage: tools/bootstrap.sh            (build + test dependencies)
#        tools/bootstrap.sh --interop  (also the npm peer used by interop tests)
set -euo pipefail

packages=(
  build-essential pkg-config meson ninja-build clang libclang-rt-14-dev llvm
  liburing-dev libck-dev libjemalloc-dev libssl-dev libbenchmark-dev
  libinih-dev libjansson-dev libcurl4-openssl-dev libc-ares-dev libmicrohttpd-dev
  libsmpp34-dev tshark dnsmasq wrk libnet-smpp-perl python3 jq python3-prometheus-client
  iproute2 iptables nftables tcpdump gnuplot-nox stunnel4 openssl
  libhiredis-dev redis-server
)

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done

if [ ${#missing[@]} -gt 0 ]; then
  echo "bootstrap: installing ${missing[*]}" >&2
  $sudo apt-get update -qq
  # tshark asks whether non-root users may capture; answer no, non-interactively.
  echo "wireshark-common wireshark-common/install-setuid boolean false" | $sudo debconf-set-selections
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi

if [ "${1:-}" = "--interop" ]; then
  here=$(cd "$(dirname "$0")/.." && pwd)
  if [ -f "$here/tests/interop/package.json" ] && [ ! -d "$here/tests/interop/node_modules/smpp" ]; then
    command -v npm >/dev/null || { $sudo apt-get install -y -qq npm >&2; }
    (cd "$here/tests/interop" && npm install --no-audit --no-fund --silent >&2)
  fi
fi
