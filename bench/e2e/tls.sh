#!/bin/sh
# SMPP over TLS vs plain, bench/README.md "SMPP over TLS".
#
#   bench/e2e/tls.sh BUILD_DIR [--quick]
#
# BUILD_DIR is a build with -Dbench=true. Makes a test CA and a server
# certificate (openssl CLI, P-256) in a temporary directory, starts two
# `blast --sink` on CPU 0 — one plain, one with --tls-cert/--tls-key — and
# runs bench_e2e (4 binds, 1 worker, window 512, ingress 4096; application
# thread and worker on CPU 1) against each, alternating, REPS times: the
# same sink program, the same run (each TLS row right after its plain row,
# so the median of the pairs' ratios resists a machine whose load moves).
# Reports per row MT/s, the library's and
# the application's CPU per MT (bench_e2e), the sink's CPU per MT (its
# /proc/PID/stat over the run) and, from the sinks' totals at the end, bytes
# on the wire per MT (both ways; the storm rows below are in the totals too,
# a few KB each). Then 64 binds connecting at once, plain and TLS (3 each):
# time until all are ACTIVE. Then bench_tls_handshake: full and resumed
# handshakes per second (what a rebind storm costs). Raw outputs kept in $OUT.
set -eu

B=$(cd "${1:?usage: tls.sh BUILD_DIR [--quick]}" && pwd)
QUICK=${2:-}
E2E=$B/bench/e2e/bench_e2e
BLAST=$B/bench/blast/blast
HS=$B/bench/tls/bench_tls_handshake
for x in "$E2E" "$BLAST" "$HS"; do
        [ -x "$x" ] || { echo "tls.sh: $x not built (meson setup with -Dbench=true)" >&2; exit 2; }
done
if [ "$QUICK" = "--quick" ]; then REPS=1; SECS=2; WARM=0.5; HSN=300
else REPS=5; SECS=3; WARM=1; HSN=2000; fi
OUT=$(mktemp -d /tmp/e2e-tls.XXXXXX)
echo "raw outputs in $OUT"

PLAIN_PID=; TLS_PID=
cleanup() {
        for p in $PLAIN_PID $TLS_PID; do kill "$p" 2>/dev/null || true; done
}
trap cleanup EXIT INT TERM

cd "$OUT"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key \
        -out ca.pem -days 2 -subj "/CN=bench CA" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout srv.key -out srv.csr \
        -subj "/CN=localhost" 2>/dev/null
printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' > ext.cnf
openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out srv.pem -days 2 \
        -extfile ext.cnf 2>/dev/null

taskset -c 0 "$BLAST" --sink > sink_plain.out 2>&1 &
PLAIN_PID=$!
taskset -c 0 "$BLAST" --sink --tls-cert srv.pem --tls-key srv.key > sink_tls.out 2>&1 &
TLS_PID=$!
for f in sink_plain.out sink_tls.out; do
        for _ in $(seq 50); do grep -q ready $f 2>/dev/null && break; sleep 0.1; done
done
PP=$(sed -n 's/^listening sink .*:\([0-9]*\)$/\1/p' sink_plain.out)
PT=$(sed -n 's/^listening sink .*:\([0-9]*\)$/\1/p' sink_tls.out)

ticks() { awk '{print $14 + $15}' /proc/$1/stat; }
HZ=$(getconf CLK_TCK)
val() { sed -n "s/^$1=//p" "$2"; }

echo "row   rep  MT/s       lib_ns/MT app_ns/MT sink_ns/MT"
for rep in $(seq "$REPS"); do
        for mode in plain tls; do
                if [ $mode = tls ]; then port=$PT; pid=$TLS_PID; extra="--tls-ca ca.pem"
                else port=$PP; pid=$PLAIN_PID; extra=""; fi
                t0=$(ticks $pid)
                taskset -c 1 "$E2E" --port "$port" --binds 4 --workers 1 --window 512 \
                        --seconds "$SECS" --warmup "$WARM" --ingress 4096 $extra \
                        > "$mode.$rep.out" 2> "$mode.$rep.err"
                t1=$(ticks $pid)
                mts=$(val total_accepted "$mode.$rep.out")
                sink_ns=$(awk -v d=$((t1 - t0)) -v hz="$HZ" -v n="$mts" \
                        'BEGIN { printf "%.1f", n ? d / hz * 1e9 / n : 0 }')
                echo "$sink_ns" > "$mode.$rep.sink_ns"
                printf '%-5s %-4s %-10s %-9s %-9s %s\n' $mode "$rep" \
                        "$(val mt_per_s "$mode.$rep.out")" "$(val lib_cpu_ns_per_mt "$mode.$rep.out")" \
                        "$(val app_cpu_ns_per_mt "$mode.$rep.out")" "$sink_ns"
        done
done
grep -h "^tls_version=\|^tls_cipher=" tls.1.out | tr '\n' ' '; echo

# a bind storm: 64 binds connecting at once (over TLS: 64 full handshakes
# on the one worker), time until the last is ACTIVE
for rep in 1 2 3; do
        for mode in plain tls; do
                if [ $mode = tls ]; then port=$PT; extra="--tls-ca ca.pem"
                else port=$PP; extra=""; fi
                taskset -c 1 "$E2E" --port "$port" --binds 64 --workers 1 --window 64 \
                        --seconds 0.5 --warmup 0 --ingress 4096 $extra > "storm.$mode.$rep.out" 2>&1
                ms=$(val binds_up_ms "storm.$mode.$rep.out")
                awk -v m=$mode -v r=$rep -v ms="$ms" 'BEGIN {
                        printf "storm %-5s %s: 64 binds ACTIVE in %s ms (%.0f binds/s)\n", m, r, ms,
                               (ms > 0 ? 64000 / ms : 0) }'
        done
done

kill -TERM $PLAIN_PID $TLS_PID
wait $PLAIN_PID $TLS_PID 2>/dev/null || true
PLAIN_PID=; TLS_PID=
for mode in plain tls; do
        n=$(val submit_sm sink_$mode.out); bi=$(val bytes_in sink_$mode.out)
        bo=$(val bytes_out sink_$mode.out)
        awk -v m=$mode -v n="$n" -v i="$bi" -v o="$bo" 'BEGIN {
                printf "%s: %d submit_sm, wire bytes per MT: to the SMSC %.1f, back %.1f\n",
                       m, n, n ? i / n : 0, n ? o / n : 0 }'
done
median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
mp=$(for r in $(seq "$REPS"); do val mt_per_s plain.$r.out; done | median)
mt=$(for r in $(seq "$REPS"); do val mt_per_s tls.$r.out; done | median)
lp=$(for r in $(seq "$REPS"); do val lib_cpu_ns_per_mt plain.$r.out; done | median)
lt=$(for r in $(seq "$REPS"); do val lib_cpu_ns_per_mt tls.$r.out; done | median)
ap=$(for r in $(seq "$REPS"); do val app_cpu_ns_per_mt plain.$r.out; done | median)
at=$(for r in $(seq "$REPS"); do val app_cpu_ns_per_mt tls.$r.out; done | median)
pr=$(for r in $(seq "$REPS"); do
        awk -v p="$(val mt_per_s plain.$r.out)" -v t="$(val mt_per_s tls.$r.out)" \
                'BEGIN { printf "%.3f\n", p ? t / p : 0 }'
done | median)
awk -v mp="$mp" -v mt="$mt" -v lp="$lp" -v lt="$lt" -v ap="$ap" -v at="$at" -v pr="$pr" 'BEGIN {
        printf "median MT/s plain %d, tls %d; median of the pairs\047 ratios tls/plain %.2f\n", mp, mt, pr
        printf "median CPU per MT, library: plain %.0f ns, tls %.0f ns (x%.2f); application: plain %.0f, tls %.0f\n",
               lp, lt, lp ? lt / lp : 0, ap, at
        printf "dispatcher CPU per MT (library + application) ratio plain/tls: %.2f\n",
               (lt + at) ? (lp + ap) / (lt + at) : 0 }'
taskset -c 1 "$HS" "$HSN" > handshake.out
cat handshake.out
