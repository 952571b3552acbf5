#!/bin/sh
# `smsmux bench` (the command-line benchmark a user runs) against bench_e2e
# (the library driven by hand), back to back against the same peer, and the
# ratio of their MT/s: bench/README.md "smsmux bench vs bench_e2e".
#
#   bench/e2e/cli_vs_e2e.sh BUILD_DIR [REPS] [SECONDS]
#
# BUILD_DIR: a build with -Dbench=true. One `blast --sink` on CPU 0 serves
# every run; the client process (application thread + 1 worker) runs on
# CPU 1. Per repetition, alternating: `smsmux bench` (4 SMSCs on the sink,
# window 512, 1 worker, --seconds S; every MT asks for a DR, as an
# application's MTs do), bench_e2e with the same MTs' shape (--dr 1) and
# with no DR asked (--dr 0, run.sh's rows); bench_e2e's ingress is 4096,
# what `smsmux bench` sizes for 4 x 512 (twice the MTs in flight). Prints
# per run MT/s and CPU per MT (application thread / library threads, from
# /proc/self/task/*/schedstat in both programs: tools/common/thread_cpu.c),
# then the median ratios smsmux bench / bench_e2e. Raw outputs stay in $OUT.
set -eu

B=${1:?usage: cli_vs_e2e.sh BUILD_DIR [REPS] [SECONDS]}
REPS=${2:-3}
SECS=${3:-5}
SMX=$B/tools/smsmux/smsmux
E2E=$B/bench/e2e/bench_e2e
BLAST=$B/bench/blast/blast
for x in "$SMX" "$E2E" "$BLAST"; do
        [ -x "$x" ] || { echo "cli_vs_e2e.sh: $x not built (meson setup with -Dbench=true)" >&2; exit 2; }
done
OUT=$(mktemp -d /tmp/cli-vs-e2e.XXXXXX)
SINK_PID=
cleanup() {
        [ -n "$SINK_PID" ] && kill "$SINK_PID" 2>/dev/null || true
        wait 2>/dev/null || true
}
trap cleanup EXIT INT TERM

taskset -c 0 "$BLAST" --sink > "$OUT/sink.out" 2>&1 &
SINK_PID=$!
i=0
while ! grep -q '^ready' "$OUT/sink.out" 2>/dev/null; do
        i=$((i + 1)); [ $i -gt 100 ] && { echo "cli_vs_e2e.sh: sink did not start" >&2; exit 1; }
        sleep 0.05
done
PORT=$(awk '/^listening/{n=split($NF,a,":"); print a[n]; exit}' "$OUT/sink.out")
echo "raw outputs in $OUT; sink :$PORT on CPU 0, clients on CPU 1; nproc $(nproc)"
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"

SMSCS=
for k in 1 2 3 4; do
        [ $((k % 2)) = 1 ] && site=s1 || site=s2
        SMSCS="$SMSCS --smsc b$k@$site=127.0.0.1:$PORT"
done
kv() { sed -n "s/^$1=//p" "$2" | tail -1; }
printf '%-4s %-22s %12s %9s %9s\n' rep run mt/s app_ns lib_ns
: > "$OUT/ratios"
r=1
while [ $r -le "$REPS" ]; do
        f=$OUT/smx-$r
        # shellcheck disable=SC2086
        taskset -c 1 "$SMX" bench $SMSCS --window 512 --workers 1 --seconds "$SECS" > "$f" 2> "$f.err"
        m=$(kv mt_per_s "$f")
        cpu=$(sed -n 's/.*application thread \([0-9]*\) ns, library threads \([0-9]*\) ns.*/\1 \2/p' "$f.err")
        printf '%-4s %-22s %12s %9s %9s\n' $r "smsmux bench" "$m" $cpu
        for dr in 1 0; do
                g=$OUT/e2e-dr$dr-$r
                taskset -c 1 "$E2E" --port "$PORT" --binds 4 --workers 1 --window 512 --seconds "$SECS" \
                        --warmup 1 --ingress 4096 --dr $dr > "$g" 2> "$g.err"
                printf '%-4s %-22s %12s %9s %9s\n' $r "bench_e2e --dr $dr" "$(kv mt_per_s "$g")" \
                        "$(kv app_cpu_ns_per_mt "$g")" "$(kv lib_cpu_ns_per_mt "$g")"
        done
        echo "$r $(awk -v m="$m" -v a="$(kv mt_per_s "$OUT/e2e-dr1-$r")" -v b="$(kv mt_per_s "$OUT/e2e-dr0-$r")" \
                'BEGIN{printf "%.3f %.3f", (a > 0 ? m / a : 0), (b > 0 ? m / b : 0)}')" >> "$OUT/ratios"
        r=$((r + 1))
done
med() { cut -d' ' -f"$1" "$OUT/ratios" | sort -g | awk '{v[NR]=$1} END{print v[int((NR+1)/2)]}'; }
echo "per repetition (smsmux bench / bench_e2e --dr 1, / bench_e2e --dr 0): $(cut -d' ' -f2,3 "$OUT/ratios" | tr '\n' ';')"
echo "median ratio smsmux bench / bench_e2e --dr 1 (same MTs): $(med 2)"
echo "median ratio smsmux bench / bench_e2e --dr 0 (no DR asked): $(med 3)"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
