#!/usr/bin/env python3
"""smsc-sim's config file as the source of the topology: sites, SMSCs per
site, ports, hosts, credentials and per-SMSC behaviour from the file, flags
winning over it, and one FILE:LINE error per kind of mistake.
Usage: test_sim_config.py PATH_TO_SMSC_SIM (TAP on stdout)."""
import os
import socket
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from simlib import ESME_RINVPASWD, Esme, Sim, check, check_eq, smsc  # noqa: E402
from simlib import main as simlib_main  # noqa: E402

EXE = sys.argv[1] if len(sys.argv) > 1 else "smsc-sim"


def write_config(text):
    fd, path = tempfile.mkstemp(prefix="smsc-sim-cfg-", suffix=".ini")
    with os.fdopen(fd, "w") as f:
        f.write(text)
    return path


def free_ports(n):
    """n distinct ports free on 127.0.0.1 right now."""
    socks, ports = [], []
    for _ in range(n):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        socks.append(s)
        ports.append(s.getsockname()[1])
    for s in socks:
        s.close()
    return ports


def free_block(n):
    """A base port with n consecutive ports free."""
    for base in range(21000, 60000, 97):
        ok = True
        for p in range(base, base + n):
            s = socket.socket()
            try:
                s.bind(("127.0.0.1", p))
            except OSError:
                ok = False
            finally:
                s.close()
            if not ok:
                break
        if ok:
            return base
    raise RuntimeError("no free port block")


def with_config(text, *args, **kw):
    """A Sim started with this config; only the flags given here are passed."""
    path = write_config(text)
    try:
        return Sim(EXE, "--config", path, *args, topology_flags=False, **kw)
    finally:
        os.unlink(path)


def start_error(text, *args):
    """Start with a bad config: returns (exit status, stderr, config path).
    No --port-base: the file's own ports are what some cases check."""
    path = write_config(text)
    try:
        r = subprocess.run([EXE, "--config", path] + list(args), capture_output=True, text=True, timeout=5)
        return r.returncode, r.stderr, path
    finally:
        os.unlink(path)


def check_error(text, line, words, *args):
    rc, err, path = start_error(text, *args)
    check_eq(rc, 1, err)
    check("%s:%d: " % (path, line) in err, err)
    for w in words:
        check(w in err, "%r not in %r" % (w, err))


def test_file_sites_and_counts_make_the_topology():
    cfg = "[sim]\nsites = nyc, lon\nsmscs_per_site = 1\n\n[site lon]\nsmscs = 2\n"
    with with_config(cfg, "--port-base", "0") as s:
        check_eq(s.order, ["smsc1.nyc", "smsc1.lon", "smsc2.lon"])
        check_eq([s.smscs[n][2] for n in s.order], ["nyc", "lon", "lon"])
        check_eq(s.esme("smsc2.lon").submit(regdel=0).status, 0)


def test_global_port_base_numbers_smscs_site_by_site():
    base = free_block(3)
    with with_config("[sim]\nsites = a,b\nsmscs_per_site = 1\nport_base = %d\n[site b]\nsmscs = 2\n" % base) as s:
        check_eq([s.addr(n)[1] for n in s.order], [base, base + 1, base + 2])


def test_smsc_port_and_site_port_base_from_file():
    p1, p2 = free_ports(2)
    base = free_block(2)
    s = with_config("[sim]\nsites = dc3,bos\nsmscs_per_site = 2\n"
                    "[smsc1.dc3]\nport = %d\n[smsc2.dc3]\nport = %d\n"
                    "[site bos]\nport_base = %d\n" % (p1, p2, base))
    try:
        check_eq([s.addr(n)[1] for n in s.order], [p1, p2, base, base + 1])
    finally:
        s.stop()


def test_per_smsc_credentials_and_behaviour_from_file():
    s = with_config("[sim]\nsites = dc3\nsmscs_per_site = 2\nsystem_id = acme\npassword = pw1\n"
                    "[smsc2.dc3]\npassword = pw2\nmsgid_style = dec0\n", "--port-base", "0")
    try:
        check_eq(s.esme("smsc1.dc3", system_id="acme", password="pw1").submit(regdel=0).status, 0)
        h, p = s.addr("smsc2.dc3")
        e = Esme(h, p)
        check_eq(e.bind(system_id="acme", password="pw1").status, ESME_RINVPASWD)
        e.close()
        r = s.esme("smsc2.dc3", system_id="acme", password="pw2").submit(regdel=0)
        check(r.message_id().isdigit() and len(r.message_id()) == 10, r.message_id())
    finally:
        s.stop()


def test_flags_win_over_the_file():
    base = free_block(4)
    s = with_config("[sim]\nsites = nyc\nsmscs_per_site = 3\nport_base = %d\nsystem_id = acme\n"
                    "rebind_interval = 7\n[site nyc]\nmo_rate = 1\n[smsc3.nyc]\nport = %d\n" % (base, base + 3),
                    "--sites", "dc3", "--smscs-per-site", "1", "--port-base", "0", "--system-id", "smsmux",
                    rebind_interval=2)
    try:
        check_eq(s.order, ["smsc1.dc3"])
        check(s.addr("smsc1.dc3")[1] not in range(base, base + 4))
        check_eq(s.esme("smsc1.dc3").submit(regdel=0).status, 0)
        check_eq(s.summary()["rebind_interval_s"], 2)
    finally:
        s.stop()


def test_file_rebind_interval_without_the_flag():
    with with_config("[sim]\nrebind_interval = 7\n", "--port-base", "0") as s:
        check_eq(s.summary()["rebind_interval_s"], 7)
        check_eq(s.order, ["smsc1.dc3", "smsc2.dc3", "smsc1.bos", "smsc2.bos"])


def test_http_sites_follow_the_file_topology():
    with with_config("[sim]\nsites = nyc,lon\nsmscs_per_site = 1\n", "--port-base", "0", "--http-port", "0") as s:
        http = [ln.split()[1] for ln in s.lines if ln.startswith("http ")]
        check_eq(http, ["nyc", "lon"])


def error_case(name, text, line, words):
    """A test: starting with this config fails with FILE:LINE: and words."""
    def test():
        check_error(text, line, words)
    test.__name__ = "test_error_" + name
    return test


# name: (config, line of the error, words the message holds)
ERRORS = {
    "syntax": ("[sim]\nsites = dc3\nthis is not a key\n", 3, ["syntax error"]),
    "unknown_section": ("[all]\nmo_rate = 1\n\n[smsc-one]\n", 4, ["unknown section [smsc-one]"]),
    "unknown_key": ("[all]\nmo_rate = 1\nmo_rat = 2\n", 3, ["[all] mo_rat = 2: unknown key"]),
    "bad_knob_value": ("[site bos]\ndr_delay_ms = soon\n", 2, ["[site bos] dr_delay_ms = soon: bad value"]),
    "unknown_sim_key": ("[sim]\nsites = dc3\nport_bsae = 2775\n", 3, ["[sim] port_bsae = 2775: unknown key"]),
    "site_not_in_the_list": ("[sim]\nsites = dc3,bos\n[site nyc]\nmo_rate = 1\n", 3,
                             ["site nyc is not one of the sites (dc3,bos)"]),
    "smsc_beyond_its_site_count": ("[sim]\nsites = dc3\n[site dc3]\nsmscs = 2\n[smsc3.dc3]\nport = 4000\n", 5,
                                   ["[smsc3.dc3]: no such SMSC (site dc3 has 2)"]),
    "misplaced_topology_key": ("[all]\nport = 4000\n", 2, ["[all] port: belongs in [smscK.SITE]"]),
    "bad_site_name": ("\n[sim]\nsites = dc3,b/s\n", 3, ["bad site name 'b/s' in sites"]),
    "site_count_out_of_range": ("[site bos]\nsmscs = 0\n", 2, ["[site bos] smscs = 0: expected 1..64"]),
    "bad_host": ("[sim]\nhost = localhost\n", 2, ["[sim] host = localhost: an IPv4 address expected"]),
    "port_out_of_range": ("[smsc1.bos]\nport = 70000\n", 2, ["[smsc1.bos] port = 70000: expected 1..65535"]),
}
for _name, (_text, _line, _words) in ERRORS.items():
    globals()["test_error_" + _name] = error_case(_name, _text, _line, _words)


def test_error_duplicate_port():
    p, = free_ports(1)
    check_error("[sim]\nsites = dc3\n[smsc1.dc3]\nport = %d\n[smsc2.dc3]\nport = %d\n" % (p, p), 6,
                ["smsc2.dc3: port %d on 127.0.0.1 is smsc1.dc3's already" % p])


def test_error_missing_file():
    r = subprocess.run([EXE, "--config", "/nonexistent/sim.ini"], capture_output=True, text=True, timeout=10)
    check_eq(r.returncode, 1)
    check("cannot open /nonexistent/sim.ini" in r.stderr, r.stderr)


if __name__ == "__main__":
    simlib_main(globals())
