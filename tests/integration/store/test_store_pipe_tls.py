#!/usr/bin/env python3
"""The shared store over TLS from the command line: two `smsmux pipe`
processes with `--store rediss://127.0.0.1:PORT/0` and the TLS keys, ACL
user and password in their `--config` file's [store], against a real
redis-server started here on a free port as a TLS-only server requiring
client certificates (certificates made here with the openssl command), and
one smsc-sim sending each DR on a random session (half the time the other
instance's):
 1. both connect (Redis lists two clients of the ACL user) and every DR
    reaches its owner's stdout once, correlated;
 2. `smsmux stats` shows the store's TLS version and cipher;
 3. a third pipe trusting another CA never connects: its stderr names the
    cause (certificate from unknown CA), and its MTs still get outcomes;
 4. no stderr line of any pipe shows the password.
Usage: test_store_pipe_tls.py SMSMUX SMSC_SIM"""
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "cli"))
from clitest import Tap, Sim, Pipe, dies_with_parent  # noqa: E402

SMX, SIM = sys.argv[1], sys.argv[2]
PW = "Cli-Tls-pw-4711"


def sh(*args, cwd=None):
    subprocess.run(args, cwd=cwd, check=True, capture_output=True, timeout=30)


def make_certs(d):
    """ca, other_ca, server (SAN 127.0.0.1, localhost), client, in d."""
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
    for ca in ("ca", "other_ca"):
        sh("openssl", "req", "-x509", *ec, "-keyout", f"{ca}.key", "-out", f"{ca}.pem",
           "-subj", f"/CN={ca}", "-days", "2", cwd=d)
    with open(os.path.join(d, "ext.cnf"), "w") as f:
        f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\n"
                "extendedKeyUsage=serverAuth,clientAuth\n")
    for leaf, cn in (("server", "localhost"), ("client", "smsmux")):
        sh("openssl", "req", *ec, "-keyout", f"{leaf}.key", "-out", f"{leaf}.csr",
           "-subj", f"/CN={cn}", cwd=d)
        sh("openssl", "x509", "-req", "-in", f"{leaf}.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
           "-CAcreateserial", "-out", f"{leaf}.pem", "-days", "2", "-extfile", "ext.cnf", cwd=d)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class TlsRedis:
    def __init__(self, d):
        self.dir = d
        self.sock = os.path.join(d, "redis.sock")
        self.p = None
        for _ in range(5):
            self.port = free_port()
            if self.start():
                return
        raise RuntimeError("redis-server (TLS) did not start")

    def start(self):
        d = self.dir
        self.p = subprocess.Popen(
            ["redis-server", "--port", "0", "--tls-port", str(self.port), "--bind", "127.0.0.1",
             "--tls-cert-file", f"{d}/server.pem", "--tls-key-file", f"{d}/server.key",
             "--tls-ca-cert-file", f"{d}/ca.pem", "--tls-auth-clients", "yes",
             "--unixsocket", self.sock, "--unixsocketperm", "700", "--dir", d, "--save", "",
             "--logfile", f"{d}/redis.log",
             "--user", "smx", "on", ">" + PW, "~*", "&*", "+@all"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, preexec_fn=dies_with_parent())
        for _ in range(500):
            if self.p.poll() is not None:
                return False
            if os.path.exists(self.sock) and self.cli("PING") == "PONG":
                return True
            time.sleep(0.01)
        return False

    def cli(self, *args):
        r = subprocess.run(["redis-cli", "-s", self.sock, *args], capture_output=True, text=True,
                           timeout=10)
        return r.stdout.strip()

    def stop(self):
        if self.p and self.p.poll() is None:
            self.p.terminate()
            self.p.wait(timeout=10)


def wait(pred, timeout):
    t0 = time.time()
    while time.time() - t0 < timeout:
        if pred():
            return True
        time.sleep(0.05)
    return pred()


def events_of(p, kind):
    with p.lock:
        return [e for e in p.events if e.get("event") == kind]


def main():
    tap = Tap()
    for prog in ("redis-server", "redis-cli", "openssl"):
        if not shutil.which(prog):
            print(f"1..0 # SKIP {prog} not installed (tools/bootstrap.sh)")
            return
    d = tempfile.mkdtemp(prefix="smx-redis-tls-")
    pipes = []
    red = sim = None
    try:
        make_certs(d)
        red = TlsRedis(d)
        sim = Sim(SIM, "--rebind-interval", "0", "--set", "other_site_prob=0.5",
                  "--set", "dr_before_resp_prob=0.2", "--set", "dr_delay_ms=50-300")
        url = f"rediss://127.0.0.1:{red.port}/0"

        def conf(name, ca):
            path = os.path.join(d, f"{name}.ini")
            with open(path, "w") as f:
                f.write(f"[client]\nadmin_socket = {d}/{name}.admin\n"
                        f"[store]\nca_file = {d}/{ca}.pem\ncert_file = {d}/client.pem\n"
                        f"key_file = {d}/client.key\nuser = smx\npassword = {PW}\n"
                        "hold_ms = 500\nlocal_after_ms = 2000\n")
            return path

        def start(name, ca="ca"):
            p = Pipe(SMX, sim.args() + ["--config", conf(name, ca), "--store", url,
                                        "--instance", name, "--cluster", "clitls",
                                        "--rebind-interval", "1", "--workers", "1"])
            pipes.append(p)
            ok = wait(lambda: sum(1 for e in events_of(p, "bind") if e.get("state") == "up")
                      >= len(sim.smscs), 20)
            return p, ok

        a, ok_a = start("a")
        b, ok_b = start("b")
        tap.ok(ok_a and ok_b, "two pipes bound every SMSC")
        tap.ok(wait(lambda: red.cli("CLIENT", "LIST").count("user=smx") >= 2, 15),
               "both connected to Redis over TLS as the ACL user")
        N = 50
        for i in range(N):
            a.send({"id": f"a-{i}", "from": "12345", "to": "447700900001", "text": "tls a"})
            b.send({"id": f"b-{i}", "from": "12345", "to": "447700900001", "text": "tls b"})

        def drs(p):
            return [e.get("id") for e in events_of(p, "dr")]

        ok = wait(lambda: len(drs(a)) + len(drs(b)) >= 2 * N, 60)
        time.sleep(1.5)
        da, db = drs(a), drs(b)
        tap.ok(ok and sorted(da) == sorted(f"a-{i}" for i in range(N))
               and sorted(db) == sorted(f"b-{i}" for i in range(N)),
               "every DR once at its owner, correlated", (len(da), len(db)))

        st = subprocess.run([SMX, "stats", "--json", "--admin", f"{d}/a.admin"],
                            capture_output=True, text=True, timeout=10).stdout
        tap.ok('"tls":true' in st and '"tls_version":"TLSv1.' in st,
               "smsmux stats shows the store's TLS version", st[st.find('"store"'):][:400])

        c, ok_c = start("c", ca="other_ca")
        tap.ok(ok_c, "a pipe trusting another CA binds its SMSCs")
        ok = wait(lambda: any("certificate from unknown CA" in ln for ln in c.err), 15)
        tap.ok(ok, "its stderr names the cause", "".join(c.err)[-400:])
        for ln in c.err:
            if "certificate from unknown CA" in ln:
                print("# " + ln.strip())
                break
        for i in range(10):
            c.send({"id": f"c-{i}", "from": "12345", "to": "447700900001", "text": "no store"})
        ok = wait(lambda: len(events_of(c, "submitted")) >= 10, 30)
        tap.ok(ok, "its MTs still get their outcomes", len(events_of(c, "submitted")))
        for p in pipes:
            p.p.stdin.close()
        for p in pipes:
            try:
                p.p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.p.kill()
        leaked = [ln for p in pipes for ln in p.err if PW in ln]
        tap.ok(not leaked, "no log line shows the password", leaked[:3])
    finally:
        for p in pipes:
            if p.p.poll() is None:
                p.p.kill()
        if sim:
            sim.stop()
        if red:
            red.stop()
        shutil.rmtree(d, ignore_errors=True)
    tap.done()


if __name__ == "__main__":
    main()
