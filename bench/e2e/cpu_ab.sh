#!/bin/sh
# CPU per MT of two builds of the dispatcher, A/B alternating, against one
# sink, and the CPU per PDU of `blast --encode` in the same run:
# bench/README.md "CPU per MT, issue 16".
#
#   bench/e2e/cpu_ab.sh DIR_A DIR_B [REPS] [SECONDS] [DR...]
#
# DIR_A / DIR_B: each a directory holding a `bench_e2e` binary (the library
# is linked in statically, so a copy of build/bench/e2e/bench_e2e is a frozen
# build; a build directory works too: its bench/e2e/bench_e2e is used).
# `blast` comes from DIR_B (or DIR_B/bench/blast). One `blast --sink` on
# CPU 0 serves every run; bench_e2e (application thread + 1 worker) and the
# blast client run on CPU 1. Per repetition and per DR setting (default
# "0 1": MTs asking no DR, and MTs asking one), A then B (B then A on even
# repetitions, so a drift of the machine's load hits both alike), then one
# `blast --encode` (4 connections, window 512, batch 64). Prints per run the
# CPU per MT (application thread / library threads, schedstat, kernel time
# included), allocations per MT, MT/s; then the medians and the ratio of
# each build's total CPU per MT to blast --encode's CPU per PDU (median of
# the per-repetition ratios). Raw outputs stay in $OUT. EXTRA_A / EXTRA_B
# (environment) add bench_e2e options to A's / B's runs, so one binary can
# be compared with itself under two settings (e.g. EXTRA_B="--events 4096").
# SINK_OPTS (environment) adds `blast --sink` options, e.g.
# SINK_OPTS="--dr-lag 4096": the sink sends a receipt for each DR-asking MT,
# so the --dr 1 rows measure the whole DR path, not puts into a store that
# fills up and refuses (bench/README.md "CPU per MT, issue 16").
# E2E_CPUS (environment, default 1) is bench_e2e's taskset list: with
# E2E_CPUS=0,1 EXTRA_A="--app-cpu 1 --pin 1" EXTRA_B="--app-cpu 1 --pin 1"
# the worker runs on CPU 0 (beside the sink) and the application thread
# alone on CPU 1, i.e. on different CPUs (bench/README.md, "lanes").
set -eu

A=${1:?usage: cpu_ab.sh DIR_A DIR_B [REPS] [SECONDS] [DR...]}
B=${2:?usage: cpu_ab.sh DIR_A DIR_B [REPS] [SECONDS] [DR...]}
REPS=${3:-3}
SECS=${4:-4}
shift 2; [ $# -gt 0 ] && shift; [ $# -gt 0 ] && shift
DRS=${*:-0 1}
bin() {   # dir name subdir -> path
        if [ -x "$1/$2" ]; then echo "$1/$2"; else echo "$1/$3/$2"; fi
}
EA=$(bin "$A" bench_e2e bench/e2e)
EB=$(bin "$B" bench_e2e bench/e2e)
BLAST=$(bin "$B" blast bench/blast)
for x in "$EA" "$EB" "$BLAST"; do
        [ -x "$x" ] || { echo "cpu_ab.sh: $x missing" >&2; exit 2; }
done
EXTRA_A=${EXTRA_A:-}
EXTRA_B=${EXTRA_B:-}
OUT=$(mktemp -d /tmp/cpu-ab.XXXXXX)
SINK_PID=
cleanup() {
        [ -n "$SINK_PID" ] && kill "$SINK_PID" 2>/dev/null || true
        wait 2>/dev/null || true
}
trap cleanup EXIT INT TERM

# shellcheck disable=SC2086
taskset -c 0 "$BLAST" --sink ${SINK_OPTS:-} > "$OUT/sink.out" 2>&1 &
SINK_PID=$!
i=0
while ! grep -q '^ready' "$OUT/sink.out" 2>/dev/null; do
        i=$((i + 1)); [ $i -gt 100 ] && { echo "cpu_ab.sh: sink did not start" >&2; exit 1; }
        sleep 0.05
done
PORT=$(awk '/^listening/{n=split($NF,a,":"); print a[n]; exit}' "$OUT/sink.out")
echo "raw outputs in $OUT; A=$EA $EXTRA_A B=$EB $EXTRA_B; sink :$PORT ${SINK_OPTS:-} on CPU 0, clients on CPU 1"
echo "nproc $(nproc); $(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //'); load before: $(cut -d' ' -f1-3 /proc/loadavg)"
kv() { sed -n "s/^$1=//p" "$2" | tail -1; }
e2e() {   # binary dr file name extra-options
        # shellcheck disable=SC2086
        taskset -c "${E2E_CPUS:-1}" "$1" --port "$PORT" --binds 4 --workers 1 --window 512 --seconds "$SECS" \
                --warmup 1 --ingress 4096 --dr "$2" $5 > "$3" 2> "$3.err" || true
        printf '%-4s %-3s %-6s %9s %9s %9s %10s %10s\n' "$r" "$2" "$4" "$(kv app_cpu_ns_per_mt "$3")" \
                "$(kv lib_cpu_ns_per_mt "$3")" \
                "$(awk -v a="$(kv app_cpu_ns_per_mt "$3")" -v b="$(kv lib_cpu_ns_per_mt "$3")" 'BEGIN{printf "%.1f", a + b}')" \
                "$(kv lib_allocs_per_mt "$3")" "$(kv mt_per_s "$3")"
}
printf '%-4s %-3s %-6s %9s %9s %9s %10s %10s\n' rep dr build app_ns lib_ns total_ns allocs/MT mt/s
: > "$OUT/rows"
r=1
while [ "$r" -le "$REPS" ]; do
        for dr in $DRS; do
                if [ $((r % 2)) = 1 ]; then order="A B"; else order="B A"; fi
                for x in $order; do
                        if [ "$x" = A ]; then e2e "$EA" "$dr" "$OUT/A-dr$dr-$r" A "$EXTRA_A"
                        else e2e "$EB" "$dr" "$OUT/B-dr$dr-$r" B "$EXTRA_B"; fi
                done
        done
        taskset -c 1 "$BLAST" --port "$PORT" --connections 4 --window 512 --batch 64 --seconds "$SECS" \
                --encode > "$OUT/blast-$r" 2> "$OUT/blast-$r.err" || true
        bc=$(kv cpu_ns_per_pdu "$OUT/blast-$r")
        printf '%-4s %-3s %-6s %29s %10s %10s\n' "$r" - blast "$bc" - "$(kv submit_per_s "$OUT/blast-$r")"
        for dr in $DRS; do
                for x in A B; do
                        f=$OUT/$x-dr$dr-$r
                        echo "$x $dr $(kv app_cpu_ns_per_mt "$f") $(kv lib_cpu_ns_per_mt "$f") $bc" >> "$OUT/rows"
                done
        done
        r=$((r + 1))
done
echo "medians (app / lib / total ns per MT; total / blast --encode CPU per PDU, median of the repetitions' ratios):"
for dr in $DRS; do
        for x in A B; do
                awk -v x="$x" -v dr="$dr" 'BEGIN { n = 0 } $1 == x && $2 == dr { a[n] = $3; l[n] = $4; t[n] = $3 + $4;
                        q[n] = ($5 > 0 ? ($3 + $4) / $5 : 0); n++ }
                        function med(v, k,   i, j, s) { for (i = 0; i < k; i++) for (j = i + 1; j < k; j++)
                                if (v[j] < v[i]) { s = v[i]; v[i] = v[j]; v[j] = s }
                                return v[int((k - 1) / 2)] }
                        END { printf "dr %s %s: %.1f / %.1f / %.1f ns, ratio %.2f\n", dr, x, med(a, n),
                                med(l, n), med(t, n), med(q, n) }' "$OUT/rows"
        done
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
