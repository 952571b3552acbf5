#!/usr/bin/env python3
"""Sum test results from one or more meson testlog.json files.

Each test program prints TAP, so a subtest ("ok 3 - name" / "not ok 3 - name")
counts as one test. A program that crashed, timed out or failed without a
"not ok" line counts as one failure; a program with no TAP lines counts as one
test by its exit status. Prints "PASSED FAILED" on stdout; the failures'
names on stderr."""
import json
import re
import sys

TAP = re.compile(r'^(not ok|ok)\b(?:\s+\d+)?(?:\s*-\s*(.*))?', re.M)

passed = failed = 0
for path in sys.argv[1:]:
    try:
        lines = open(path, encoding='utf-8', errors='replace').read().splitlines()
    except OSError as e:
        print(f'count.py: {path}: {e}', file=sys.stderr)
        failed += 1
        continue
    for line in lines:
        if not line.strip():
            continue
        t = json.loads(line)
        res = t.get('result', '')
        out = t.get('stdout') or ''
        subs = TAP.findall(out)
        ok = sum(1 for s in subs if s[0] == 'ok')
        bad = [s[1] for s in subs if s[0] == 'not ok']
        if subs:
            passed += ok
            failed += len(bad)
            for b in bad:
                print(f'FAIL {t["name"]}: {b}', file=sys.stderr)
            if res not in ('OK', 'SKIP', 'EXPECTEDFAIL') and not bad:
                failed += 1
                print(f'FAIL {t["name"]}: {res} after {ok} passing subtests', file=sys.stderr)
        elif res in ('OK', 'EXPECTEDFAIL'):
            passed += 1
        elif res == 'SKIP':
            pass
        else:
            failed += 1
            print(f'FAIL {t["name"]}: {res}', file=sys.stderr)
print(passed, failed)
