#!/usr/bin/env python3
"""`tools/demo.sh --instances N`: N `smsmux pipe` instances of one cluster
sharing a redis-server (started here on a unix socket), all bound to every
SMSC of one smsc-sim (2 sites x 2 SMSCs) that sends each DR and MO on a
random session, so most DRs land on an instance that did not send the MT,
some before its submit_sm_resp, and multipart MOs are split across
instances. Sends --rate MTs per second per instance for --duration seconds,
one progress line per second, then a summary across instances from the
pipes' outputs and the simulator's ledger: MTs, DRs and MOs lost or
duplicated, DRs not at their owner. Exit 0 when nothing was lost or
duplicated. Usage: demo_instances.py SMSMUX SMSC_SIM [--instances N]
[--duration S] [--rate R]"""
import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("smsmux")
    ap.add_argument("sim")
    ap.add_argument("--instances", type=int, default=3)
    ap.add_argument("--duration", type=float, default=20)
    ap.add_argument("--rate", type=int, default=100)
    a = ap.parse_args()
    if not shutil.which("redis-server"):
        sys.exit("demo: redis-server is not installed (tools/bootstrap.sh installs it)")
    tmp = tempfile.mkdtemp(prefix="smsmux-demo-")
    sock = os.path.join(tmp, "redis.sock")
    # AOF with appendfsync no, the setting docs/scale-out.md recommends at
    # least: Redis writes the AOF before it answers, so a killed redis-server
    # loses no acknowledged write. everysec does not guarantee even that: while
    # a background fsync is slow Redis 7.0 postpones its AOF write for up to
    # 2 s yet answers, and kill -9 then loses acknowledged writes (measured: 2
    # of 80 kills lost some). always (also a machine crash) makes every batch
    # wait for an fsync, past timeout_ms on the busy disk of a demo box.
    red = subprocess.Popen(["redis-server", "--port", "0", "--unixsocket", sock,
                            "--unixsocketperm", "700", "--dir", tmp, "--save", "",
                            "--appendonly", "yes", "--appendfsync", "no",
                            "--logfile", os.path.join(tmp, "redis.log")],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(500):
        if os.path.exists(sock):
            break
        time.sleep(0.01)
    ledger = os.path.join(tmp, "ledger.json")
    ctl = os.path.join(tmp, "sim.ctl")
    sim = subprocess.Popen([a.sim, "--port-base", "0", "--ledger", ledger, "--rebind-interval", "0",
                            "--control", ctl,
                            "--set", "other_site_prob=0.5", "--set", "dr_before_resp_prob=0.2",
                            "--set", "dr_delay_ms=100-1500", "--set", "mo_rate=1",
                            "--set", "mo_multipart_prob=0.5"],
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    smscs = []
    for line in sim.stdout:
        w = line.split()
        if w[:1] == ["ready"]:
            break
        if w[:1] == ["listening"] and len(w) == 4:
            smscs += ["--smsc", f"{w[1]}@{w[2]}={w[3]}"]
    print(f"demo: redis-server on {sock}, smsc-sim with {len(smscs) // 2} SMSCs, "
          f"{a.instances} instances (cluster demo), {a.rate} MT/s each for {a.duration:g} s",
          flush=True)

    names = [f"app{i + 1}" for i in range(a.instances)]
    pipes, events, locks = {}, {}, {}

    def reader(name, p):
        for line in p.stdout:
            try:
                e = json.loads(line)
            except ValueError:
                continue
            with locks[name]:
                events[name].append(e)

    for n in names:
        p = subprocess.Popen([a.smsmux, "pipe", *smscs, "--store", "unix://" + sock,
                              "--instance", n, "--cluster", "demo", "--rebind-interval", "1",
                              "--workers", "1"],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL, text=True)
        pipes[n], events[n], locks[n] = p, [], threading.Lock()
        threading.Thread(target=reader, args=(n, p), daemon=True).start()

    def count(n, kind):
        with locks[n]:
            return sum(1 for e in events[n] if e.get("event") == kind)

    time.sleep(1.5)          # binds
    sent = {n: 0 for n in names}
    t0 = time.time()
    next_report = t0 + 1
    while time.time() - t0 < a.duration:
        due = int((time.time() - t0) * a.rate)
        for n in names:
            while sent[n] < due:
                mid = f"{n}-{sent[n]}"
                pipes[n].stdin.write(json.dumps({"id": mid, "from": "12345",
                                                 "to": "4477009%05d" % (sent[n] % 100000),
                                                 "text": "scale-out demo " + mid}) + "\n")
                sent[n] += 1
            pipes[n].stdin.flush()
        if time.time() >= next_report:
            next_report += 1
            print(f"t={time.time() - t0:4.0f}s " + "  ".join(
                f"{n}: sent {sent[n]} out {count(n, 'submitted') + count(n, 'failed')} "
                f"dr {count(n, 'dr')} mo {count(n, 'mo')}" for n in names), flush=True)
        time.sleep(0.01)

    # no more MOs; let the last DRs and MOs come, then close every pipe
    # (drain) and the simulator
    subprocess.run([a.sim, "ctl", "--control", ctl, "set", "all", "mo_rate", "0"],
                   capture_output=True, timeout=10)
    total = sum(sent.values())

    def sim_totals():
        r = subprocess.run([a.sim, "ctl", "--control", ctl, "summary"], capture_output=True,
                           text=True, timeout=10)
        try:
            return json.loads(r.stdout).get("totals", {})
        except ValueError:
            return {}

    deadline = time.time() + 30
    while time.time() < deadline:
        t = sim_totals()
        if (sum(count(n, "dr") for n in names) >= max(total, t.get("dr_sent", 0)) and
                sum(count(n, "mo") for n in names) >= t.get("mo_sent", 0)):
            break
        time.sleep(0.2)
    time.sleep(1)
    for n in names:
        pipes[n].stdin.close()
    for n in names:
        try:
            pipes[n].wait(timeout=60)
        except subprocess.TimeoutExpired:
            pipes[n].kill()
    time.sleep(0.5)
    sim.send_signal(signal.SIGTERM)
    sim.wait(timeout=15)
    red.terminate()
    red.wait(timeout=10)
    try:
        with open(ledger) as f:
            led = json.load(f)
    except (OSError, ValueError):
        led = {}
    shutil.rmtree(tmp, ignore_errors=True)

    # ---- summary across instances ----
    outcomes, drs, mos = {}, {}, []
    not_owner = uncorrelated = 0
    for n in names:
        for e in events[n]:
            k = e.get("event")
            if k in ("submitted", "failed"):
                outcomes[e["id"]] = outcomes.get(e["id"], 0) + 1
            elif k == "dr":
                i = e.get("id")
                if not i:
                    uncorrelated += 1
                    continue
                drs[(i, e.get("state"))] = drs.get((i, e.get("state")), 0) + 1
                if not i.startswith(n + "-"):
                    not_owner += 1
            elif k == "mo":
                mos.append(e.get("text", ""))
    all_ids = {f"{n}-{i}" for n in names for i in range(sent[n])}
    mt_lost = len(all_ids - set(outcomes))
    mt_dup = sum(1 for v in outcomes.values() if v > 1)
    tot = led.get("totals", {})
    dr_sent, mo_sent = tot.get("dr_sent", 0), tot.get("mo_sent", 0)
    dr_dup = sum(v - 1 for v in drs.values() if v > 1)
    dr_lost = max(0, dr_sent - len(drs) - uncorrelated)
    mo_dup = len(mos) - len(set(mos))
    mo_lost = max(0, mo_sent - len(set(mos)))
    hs = led.get("handset", {}).get("duplicates", 0)
    print("\nsummary across instances")
    print(f"  MTs  sent {total}, outcomes {len(outcomes)}: lost {mt_lost}, duplicated {mt_dup}, "
          f"handset duplicates {hs}")
    print(f"  DRs  service sent {dr_sent}, delivered {len(drs) + uncorrelated}: lost {dr_lost}, "
          f"duplicated {dr_dup}, not at their owner {not_owner}, uncorrelated {uncorrelated}")
    print(f"  MOs  service sent {mo_sent}, delivered {len(mos)}: lost {mo_lost}, "
          f"duplicated {mo_dup}")
    per = ", ".join(f"{n} {sum(1 for e in events[n] if e.get('event') == 'dr')}" for n in names)
    print(f"  DRs per instance: {per}")
    bad = mt_lost or mt_dup or hs or dr_lost or dr_dup or not_owner or mo_lost or mo_dup
    print("result: " + ("FAIL" if bad else "nothing lost, nothing duplicated"))
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
