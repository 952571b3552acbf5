#!/usr/bin/env python3
"""Turn bench_codec's JSON output into the bench/README.md table.

    bench_codec --benchmark_out=codec.json --benchmark_out_format=json ...
    bench/codec/ratios.py codec.json

For every codec/<op>/ours + codec/<op>/libsmpp34 pair, prints ns per
operation (CPU time; per PDU for single-PDU ops, per 1 MiB pass for the
stream), items/s, and the speed-up libsmpp34 time / our time. With
repetitions, the *_median aggregate is used when present.
"""
import json
import sys


def main():
    if len(sys.argv) != 2:
        print("usage: ratios.py BENCH.json", file=sys.stderr)
        return 2
    with open(sys.argv[1]) as f:
        data = json.load(f)
    runs = {}
    for b in data["benchmarks"]:
        name = b.get("run_name", b["name"])
        kind = b.get("aggregate_name", "")
        if kind not in ("", "median"):
            continue
        if kind == "" and name in runs:
            continue  # keep the median if both exist
        runs[name] = b
    ops = []
    for name in runs:
        parts = name.split("/")
        if len(parts) == 3 and parts[0] == "codec" and parts[1] not in ops:
            ops.append(parts[1])
    print("| operation | ours ns/op | libsmpp34 ns/op | ours items/s | libsmpp34 items/s | speed-up |")
    print("|---|---:|---:|---:|---:|---:|")
    worst = None
    for op in ops:
        ours = runs.get("codec/%s/ours" % op)
        lib = runs.get("codec/%s/libsmpp34" % op)
        if not ours or not lib:
            continue
        r = lib["cpu_time"] / ours["cpu_time"]
        worst = r if worst is None else min(worst, r)
        print("| %s | %.1f | %.1f | %.3g | %.3g | **%.1fx** |" % (
            op, ours["cpu_time"], lib["cpu_time"], ours.get("items_per_second", 0),
            lib.get("items_per_second", 0), r))
    if worst is not None:
        print("\nsmallest speed-up: %.1fx (goal >= 5x)" % worst)
    return 0


if __name__ == "__main__":
    sys.exit(main())
