#!/bin/sh
# Reproduce every figure of bench/README.md "Dispatcher (end to end)".
#
#   bench/e2e/run.sh BUILD_DIR [--quick]
#
# BUILD_DIR is a build with -Dbench=true (bench_e2e, blast, smsc-sim built).
# The peers (blast --sink, smsc-sim) run in their own processes pinned to
# CPU 0; bench_e2e (the application thread + the workers) and the raw blast
# client are pinned to CPU 1 for 1 worker and to CPUs 0-1 for 2 workers (on
# a 2-core machine there is no third core: with 2 workers the dispatcher
# shares CPU 0 with the peer, and so does blast in that row).
#
# Sections: (1) MT/s, bench_e2e vs blast against the same peer, one run,
# alternating, REPS times; blast twice: the memcpy of one pre-encoded PDU
# (the original baseline) and --encode (each submit_sm encoded afresh, as a
# real pipelined client does), each with its own ratio; (2) latency at saturation and at 50 % of the
# measured maximum; (3) syscalls per MT (perf stat on the bench_e2e process
# only, per thread) and allocations per MT (counted inside bench_e2e);
# (4) memory per in-flight MT against a stalled smsc-sim.
# Output: human-readable lines; every raw key=value output is kept in $OUT.
set -eu

B=${1:?usage: run.sh BUILD_DIR [--quick]}
QUICK=${2:-}
E2E=$B/bench/e2e/bench_e2e
BLAST=$B/bench/blast/blast
SIM=$B/tools/smsc-sim/smsc-sim
for x in "$E2E" "$BLAST" "$SIM"; do
        [ -x "$x" ] || { echo "run.sh: $x not built (meson setup with -Dbench=true)" >&2; exit 2; }
done
if [ "$QUICK" = "--quick" ]; then REPS=1; SECS=2; WARM=0.5; MEMN=20000
else REPS=3; SECS=5; WARM=1; MEMN=200000; fi
BINDS=4
WINDOW=512
OUT=$(mktemp -d /tmp/e2e-run.XXXXXX)
PEER_CPU=0
echo "raw outputs in $OUT"

SINK_PID=; SIM_PID=
cleanup() {
        [ -n "$SINK_PID" ] && kill "$SINK_PID" 2>/dev/null || true
        [ -n "$SIM_PID" ] && kill "$SIM_PID" 2>/dev/null || true
        wait 2>/dev/null || true
}
trap cleanup EXIT INT TERM

# ---- machine ----
echo "== machine"
echo "nproc $(nproc); $(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //'); kernel $(uname -r)"
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "bench: $BINDS binds x window W; blast: $BINDS connections x window W (batch 64 at W=512, 1 at W=10)"

# ---- peers ----
wait_port() {   # file -> port of its `listening` line
        i=0
        while ! grep -q '^ready' "$1" 2>/dev/null; do
                i=$((i + 1)); [ $i -gt 100 ] && { echo "run.sh: peer did not start" >&2; exit 1; }
                sleep 0.05
        done
        awk '/^listening/{n=split($NF,a,":"); print a[n]; exit}' "$1"
}
taskset -c $PEER_CPU "$BLAST" --sink > "$OUT/sink.out" 2>&1 &
SINK_PID=$!
SINK_PORT=$(wait_port "$OUT/sink.out")
# smsc-sim keeps a ledger record per MT (~17 B each; blast sends tens of
# millions per run), so it is restarted before every use to keep its RSS small.
start_sim() {
        stop_sim
        rm -f "$OUT/sim.out" "$OUT/sim.sock"
        taskset -c $PEER_CPU "$SIM" --port-base 0 --sites dc3 --smscs-per-site 1 --ledger /dev/null \
                --control "$OUT/sim.sock" > "$OUT/sim.out" 2>>"$OUT/sim.err" &
        SIM_PID=$!
        SIM_PORT=$(wait_port "$OUT/sim.out")
}
stop_sim() {
        if [ -n "$SIM_PID" ]; then
                kill "$SIM_PID" 2>/dev/null || true
                wait "$SIM_PID" 2>/dev/null || true
                SIM_PID=
        fi
}
start_sim
echo "peers: blast --sink on :$SINK_PORT, smsc-sim (1 SMSC, fresh for each run), both on CPU $PEER_CPU"

kv() { sed -n "s/^$1=//p" "$2" | tail -1; }

cpus_for() { [ "$1" = 1 ] && echo 1 || echo 0-1; }

# ---- (1) throughput ----
echo "== (1) MT/s: smsmux (bench_e2e) vs raw blast client, same peer, same run (alternating)"
echo "   (ingress: the application's ingress_capacity; cpu: ns of CPU per MT of the application"
echo "   thread and of the library's threads in the window, from /proc/self/task/*/schedstat)"
printf '%-5s %-7s %-6s %-7s %-4s %12s %12s %7s %12s %7s %7s %7s\n' peer workers window ingress rep \
        smsmux_mt/s blast_sub/s ratio blast_enc/s ratio_enc app_cpu lib_cpu
: > "$OUT/ratios"
for CONF in "1 512 64 65536" "1 512 64 4096" "2 512 64 4096" "1 10 1 65536"; do
        set -- $CONF
        W=$1; WIN=$2; BAT=$3; ING=$4
        SUF=; [ "$ING" != 65536 ] && SUF=-ing$ING
        CPUS=$(cpus_for $W)
        for PEER in sink sim; do
                r=1
                while [ $r -le $REPS ]; do
                        f=$OUT/tp-$PEER-w$W-win$WIN$SUF-$r
                        [ $PEER = sim ] && start_sim
                        [ $PEER = sink ] && PORT=$SINK_PORT || PORT=$SIM_PORT
                        taskset -c "$CPUS" "$E2E" --port "$PORT" --binds $BINDS --workers $W \
                                --window $WIN --seconds $SECS --warmup $WARM --ingress $ING \
                                > "$f.e2e" 2>"$f.e2e.err"
                        taskset -c "$CPUS" "$BLAST" --port "$PORT" --connections $BINDS --window $WIN \
                                --batch $BAT --seconds $SECS > "$f.blast" 2>"$f.blast.err"
                        [ $PEER = sim ] && { start_sim; PORT=$SIM_PORT; }
                        taskset -c "$CPUS" "$BLAST" --port "$PORT" --connections $BINDS --window $WIN \
                                --batch $BAT --seconds $SECS --encode > "$f.blaste" 2>"$f.blaste.err"
                        m=$(kv mt_per_s "$f.e2e"); bl=$(kv submit_per_s "$f.blast")
                        be=$(kv submit_per_s "$f.blaste")
                        ra=$(awk -v a="$m" -v b="$bl" 'BEGIN{printf "%.3f", (b > 0 ? a / b : 0)}')
                        re=$(awk -v a="$m" -v b="$be" 'BEGIN{printf "%.3f", (b > 0 ? a / b : 0)}')
                        printf '%-5s %-7s %-6s %-7s %-4s %12s %12s %7s %12s %7s %7s %7s\n' $PEER $W \
                                $WIN $ING $r "$m" "$bl" "$ra" "$be" "$re" \
                                "$(kv app_cpu_ns_per_mt "$f.e2e")" "$(kv lib_cpu_ns_per_mt "$f.e2e")"
                        echo "$PEER-w$W-win$WIN$SUF $m $bl $ra $be $re" >> "$OUT/ratios"
                        r=$((r + 1))
                done
        done
done
echo "medians (smsmux MT/s, blast submit/s, ratio, blast --encode submit/s, ratio to it):"
for k in $(cut -d' ' -f1 "$OUT/ratios" | sort -u); do
        med() { grep "^$k " "$OUT/ratios" | cut -d' ' -f"$1" | sort -g | awk '{v[NR]=$1} END{print v[int((NR+1)/2)]}'; }
        echo "   $k: $(med 2) $(med 3) $(med 4) $(med 5) $(med 6)"
        echo "$k $(med 2)" >> "$OUT/medians"
done
echo "load after (1): $(cut -d' ' -f1-3 /proc/loadavg)"

# ---- (2) latency ----
echo "== (2) submit->accepted latency, 1 worker, window $WINDOW (us)"
echo "   saturated: the application keeps the ingress full (Little: latency ~ ingress_capacity / rate);"
echo "   fixed rates: 25 % and 50 % of the median saturated MT/s of (1); the worker alone on CPU 1,"
echo "   the application thread on CPU 0 with the peer (--app-cpu 0), and once with both on CPU 1"
printf '%-5s %-26s %10s %9s %9s %9s %9s\n' peer load mt/s p50 p99 p999 samples
lat_row() {   # peer label file
        printf '%-5s %-26s %10s %9s %9s %9s %9s\n' "$1" "$2" "$(kv mt_per_s "$3")" "$(kv lat_p50_us "$3")" \
                "$(kv lat_p99_us "$3")" "$(kv lat_p999_us "$3")" "$(kv lat_samples "$3")"
}
for PEER in sink sim; do
        [ $PEER = sim ] && start_sim
        [ $PEER = sink ] && PORT=$SINK_PORT || PORT=$SIM_PORT
        max=$(sed -n "s/^$PEER-w1-win$WINDOW //p" "$OUT/medians")
        lat_row $PEER "saturated, ingress 65536" "$OUT/tp-$PEER-w1-win$WINDOW-1.e2e"
        g=$OUT/lat-$PEER-sat4096
        taskset -c 1 "$E2E" --port "$PORT" --binds $BINDS --workers 1 --window $WINDOW \
                --seconds $SECS --warmup $WARM --ingress 4096 > "$g" 2>"$g.err"
        lat_row $PEER "saturated, ingress 4096" "$g"
        for pc in 25 50; do
                rate=$(awk -v m="$max" -v p=$pc 'BEGIN{printf "%.0f", m*p/100}')
                g=$OUT/lat-$PEER-$pc
                taskset -c 1 "$E2E" --port "$PORT" --binds $BINDS --workers 1 --window $WINDOW \
                        --seconds $SECS --warmup $WARM --rate "$rate" --app-cpu 0 > "$g" 2>"$g.err"
                lat_row $PEER "rate $rate ($pc %)" "$g"
        done
        g=$OUT/lat-$PEER-50-samecpu
        taskset -c 1 "$E2E" --port "$PORT" --binds $BINDS --workers 1 --window $WINDOW \
                --seconds $SECS --warmup $WARM --rate "$rate" > "$g" 2>"$g.err"
        lat_row $PEER "rate $rate, app on CPU 1" "$g"
done

# ---- (3) syscalls and allocations per MT ----
echo "== (3) syscalls per MT (perf stat, bench_e2e process only, per thread) and allocations per MT"
syscalls_run() {   # peer port workers rate tag
        g=$OUT/sys-$5
        rm -f "$g.win"
        taskset -c "$(cpus_for $3)" "$E2E" --port "$2" --binds $BINDS --workers "$3" --window $WINDOW \
                --seconds $((SECS + 2)) --warmup $WARM --rate "$4" --pause-file "$g.win" > "$g" 2>"$g.err" &
        BP=$!
        while [ ! -e "$g.win" ]; do sleep 0.02; done
        sleep 0.5
        perf stat -e 'syscalls:sys_enter_*' --per-thread -p $BP -x, -o "$g.perf" -- sleep $SECS 2>/dev/null
        wait $BP
        m=$(kv mt_per_s "$g")
        echo "-- $1, $3 worker(s), rate ${4:-max} (0 = as fast as possible): $m MT/s;" \
             "perf window $SECS s ~ $(awk -v m="$m" -v s=$SECS 'BEGIN{printf "%.0f", m*s}') MTs"
        echo "   thread $BP is the application thread (smx_submit, smx_events_poll, its own poll() wait);" \
             "the others are the library's workers"
        grep -v '^#' "$g.perf" | awk -F, -v m="$m" -v s=$SECS '$2+0>0 {
                sub(/syscalls:sys_enter_/, "", $4);
                printf "   %-22s %-16s %10d  %.5f per MT\n", $1, $4, $2, $2/(m*s) }'
        echo "   allocations per MT in the window: library threads $(kv lib_allocs_per_mt "$g")" \
             "(frees $(kv lib_frees_per_mt "$g")), application thread $(kv app_allocs_per_mt "$g")" \
             "(frees $(kv app_frees_per_mt "$g")); window counts lib $(kv lib_allocs_window "$g")," \
             "app $(kv app_allocs_window "$g")"
}
syscalls_run sink "$SINK_PORT" 1 0 sink-w1
start_sim
syscalls_run sim "$SIM_PORT" 1 0 sim-w1
syscalls_run sink "$SINK_PORT" 2 0 sink-w2
start_sim
syscalls_run sim "$SIM_PORT" 2 0 sim-w2
half=$(awk -v m="$(sed -n "s/^sink-w1-win$WINDOW //p" "$OUT/medians")" 'BEGIN{printf "%.0f", m/2}')
syscalls_run sink "$SINK_PORT" 1 "$half" sink-w1-half

# ---- (4) memory per in-flight MT ----
echo "== (4) memory per in-flight MT (smsc-sim stalled: nothing answered)"
start_sim
for ING in 65536 262144; do
        n=$MEMN; [ "$n" -gt "$ING" ] && n=$((ING - 1024))
        [ $ING = 65536 ] && n=$((ING / 2))
        g=$OUT/mem-$ING
        taskset -c 1 "$E2E" --port "$SIM_PORT" --binds $BINDS --workers 1 --window 16384 \
                --ingress $ING --mem "$n" \
                --after-bind "$SIM ctl --control $OUT/sim.sock stall all on >/dev/null" > "$g" 2>"$g.err"
        "$SIM" ctl --control "$OUT/sim.sock" stall all off > /dev/null
        echo "-- ingress_capacity $ING, window 16384 x $BINDS binds, $n MTs submitted:"
        sed 's/^/   /' "$g"
done
a=$(kv rss_kib_created "$OUT/mem-65536"); b=$(kv rss_kib_created "$OUT/mem-262144")
echo "RSS at create, per slot of ingress capacity (262144 vs 65536 slots):" \
     "$(awk -v a="$a" -v b="$b" 'BEGIN{printf "%.1f", (b-a)*1024/(262144-65536)}') B"
echo "load at end: $(cut -d' ' -f1-3 /proc/loadavg)"
