#!/usr/bin/env python3
"""What the fuzz corpora never reach, from `llvm-cov export` JSON on stdin.

Used by tools/fuzz-coverage.sh. Prints, per source file under the folders
given to llvm-cov: the functions never entered, then each branch with a
direction never taken (file:line, which side, the source line) outside those
functions (a function never entered has all its branches unreached; listing
them again says nothing). Files in src/pdu and src/text that no fuzz target
links at all are listed first: llvm-cov cannot see them.
Usage: llvm-cov export ... | tools/fuzz_unreached.py TOP
"""
import json
import os
import sys


def main():
    top = os.path.realpath(sys.argv[1])
    data = json.load(sys.stdin)["data"][0]
    rel = lambda f: os.path.relpath(f, top)

    seen_files = {rel(f["filename"]) for f in data["files"]}
    on_disk = sorted(
        os.path.join(d, n)
        for d in ("src/pdu", "src/text")
        for n in os.listdir(os.path.join(top, d))
        if n.endswith(".c"))
    unlinked = [f for f in on_disk if f not in seen_files]
    print("files linked by no fuzz target:", ", ".join(unlinked) if unlinked else "none")

    # Functions: the same function may come from several binaries; it is
    # reached if any binary ran it.
    funcs = {}
    for fn in data["functions"]:
        fname = rel(fn["filenames"][0])
        if fname not in seen_files or not fn["regions"]:
            continue
        start, end = fn["regions"][0][0], fn["regions"][0][2]
        key = (fname, fn["name"].split(":")[-1], start)
        prev = funcs.get(key)
        funcs[key] = (max(fn["count"], prev[0]) if prev else fn["count"], end)

    dead = {}
    for (fname, name, start), (count, end) in funcs.items():
        if count == 0:
            dead.setdefault(fname, []).append((start, end, name))

    lines_cache = {}

    def src_line(fname, n):
        if fname not in lines_cache:
            with open(os.path.join(top, fname), encoding="utf-8", errors="replace") as fh:
                lines_cache[fname] = fh.read().splitlines()
        lines = lines_cache[fname]
        return lines[n - 1].strip() if 0 < n <= len(lines) else ""

    total_funcs = total_dirs = 0
    for f in sorted(data["files"], key=lambda f: rel(f["filename"])):
        fname = rel(f["filename"])
        dfun = sorted(dead.get(fname, []))
        # branch tuple: line_start, col_start, line_end, col_end,
        # true_count, false_count, file_id, expanded_file_id, kind
        by_pos = {}
        for b in f.get("branches", []):
            pos = (b[0], b[1])
            t, fl = by_pos.get(pos, (0, 0))
            by_pos[pos] = (t + b[4], fl + b[5])
        missing = []
        for (line, col), (t, fl) in sorted(by_pos.items()):
            if any(s <= line <= e for s, e, _ in dfun):
                continue
            if t == 0 and fl == 0:
                side = "never evaluated"
            elif t == 0:
                side = "never true "
            elif fl == 0:
                side = "never false"
            else:
                continue
            missing.append((line, col, side))
        if not dfun and not missing:
            continue
        print(f"\n{fname}")
        for s, e, name in dfun:
            print(f"  function {name} (lines {s}-{e}) never entered")
        for line, col, side in missing:
            print(f"  {line:4d}:{col:<3d} {side}  {src_line(fname, line)[:90]}")
        total_funcs += len(dfun)
        total_dirs += len(missing)
    print(f"\n{total_funcs} functions never entered; {total_dirs} branch conditions "
          "with a direction never taken outside them")


if __name__ == "__main__":
    main()
