"""`meson install` puts a usable smsmux in place: into a scratch DESTDIR it
installs libsmsmux (shared and static), smsmux.h, smsmux.pc, smsmux and
smsc-sim; examples/embed.c is compiled against the installed pkg-config file
(linked shared, then static) and run against the installed smsc-sim.
TAP on stdout.

usage: test_install.py BUILD_DIR SOURCE_DIR [B_SANITIZE]"""
import glob
import os
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile

build, src = sys.argv[1], sys.argv[2]
# a sanitizer build installs instrumented libraries: the example needs the runtime too
sanitize = sys.argv[3] if len(sys.argv) > 3 and sys.argv[3] != "none" else None
san_flags = [f"-fsanitize={sanitize}"] if sanitize else []
n = failed = 0


def ok(cond, name, diag=None):
    global n, failed
    n += 1
    failed += not cond
    print(("ok" if cond else "not ok") + f" {n} - {name}", flush=True)
    if not cond and diag is not None:
        for line in str(diag).splitlines()[:25]:
            print(f"#   {line}", flush=True)


dest = tempfile.mkdtemp(prefix="smx-install-")
try:
    p = subprocess.run(["meson", "install", "-C", build, "--destdir", dest, "--no-rebuild",
                        "--quiet"], capture_output=True, text=True, timeout=300)
    ok(p.returncode == 0, "meson install --destdir succeeds", p.stdout + p.stderr)

    def find(pattern):
        hits = glob.glob(os.path.join(dest, "**", pattern), recursive=True)
        return hits[0] if hits else None

    header, pc = find("include/smsmux.h"), find("pkgconfig/smsmux.pc")
    shared, static = find("libsmsmux.so"), find("libsmsmux.a")
    smx_bin, sim_bin = find("bin/smsmux"), find("bin/smsc-sim")
    ok(all([header, pc, shared, static, smx_bin, sim_bin]),
       "installed: smsmux.h, smsmux.pc, libsmsmux.so, libsmsmux.a, smsmux, smsc-sim",
       [header, pc, shared, static, smx_bin, sim_bin])
    if not pc:
        raise SystemExit

    # the .pc says prefix=/usr/local (or so): point it into DESTDIR
    prefix = next(l.split("=", 1)[1].strip() for l in open(pc) if l.startswith("prefix="))
    env = dict(os.environ, PKG_CONFIG_PATH=os.path.dirname(pc))
    pkg = ["pkg-config", f"--define-variable=prefix={dest}{prefix}"]
    cflags = subprocess.run(pkg + ["--cflags", "smsmux"], capture_output=True, text=True,
                            env=env).stdout.split()
    libs = subprocess.run(pkg + ["--libs", "smsmux"], capture_output=True, text=True,
                          env=env).stdout.split()
    # static libsmsmux, shared system libraries: the .pc's Requires.private
    # (what the archive needs) resolved with their own shared --libs
    reqs = subprocess.run(pkg + ["--print-requires-private", "smsmux"], capture_output=True,
                          text=True, env=env).stdout.split()
    reqs = [r for r in reqs if r[0].isalpha()]
    slibs = subprocess.run(["pkg-config", "--libs", *reqs], capture_output=True,
                           text=True).stdout.split() + ["-lm", "-pthread"]
    ok("-lsmsmux" in libs and any(f.startswith("-I" + dest) for f in cflags),
       "pkg-config --cflags --libs smsmux point into the install", (cflags, libs))
    # the library must not change the embedding application's allocator:
    # nothing in Requires.private (linked into a static application ahead of
    # libc) nor in libsmsmux.so's NEEDED brings another malloc
    needed = subprocess.run(["readelf", "-d", shared], capture_output=True, text=True).stdout
    ok("jemalloc" not in " ".join(reqs + slibs) and "jemalloc" not in needed,
       "no jemalloc in smsmux.pc's Requires.private nor in libsmsmux.so's NEEDED",
       (reqs, slibs, needed))

    work = tempfile.mkdtemp(prefix="smx-embed-")
    example = os.path.join(src, "examples", "embed.c")
    exe_shared, exe_static = os.path.join(work, "embed"), os.path.join(work, "embed_static")
    cc = os.environ.get("CC", "cc")
    cflags = cflags + san_flags
    p = subprocess.run([cc, "-Wall", "-Wextra", "-Werror", example, "-o", exe_shared,
                        *cflags, *libs], capture_output=True, text=True)
    ok(p.returncode == 0, "examples/embed.c builds with the installed pkg-config file (shared)",
       p.stderr)
    rest = slibs
    p2 = subprocess.run([cc, "-Wall", "-Wextra", "-Werror", example, "-o", exe_static, *cflags,
                         static, *rest], capture_output=True, text=True)
    ok(p2.returncode == 0, "examples/embed.c links libsmsmux.a with the .pc's Requires.private",
       p2.stderr)
    if p.returncode or p2.returncode:
        raise SystemExit

    sim = subprocess.Popen([sim_bin, "--port-base", "0"], stdout=subprocess.PIPE,
                           stderr=subprocess.DEVNULL, text=True)
    smscs = []
    for line in sim.stdout:
        w = line.split()
        if w[:1] == ["ready"]:
            break
        if w[:1] == ["listening"]:
            smscs.append(f"{w[1]}@{w[2]}={w[3]}")
    try:
        lib_dir = os.path.dirname(shared)
        run_env = dict(os.environ, LD_LIBRARY_PATH=lib_dir)
        for exe, kind in ((exe_shared, "shared"), (exe_static, "static")):
            r = subprocess.run([exe, "200", *smscs], capture_output=True, text=True,
                               env=run_env, timeout=60)
            ok(r.returncode == 0 and "accepted=200 failed=0" in r.stdout
               and "retry_backoff_ms=100" in r.stdout and "smsc1.dc3" in r.stdout,
               f"the {kind} example sends 200 MTs through the installed smsc-sim",
               r.stdout[-800:] + r.stderr[-800:])
        ldd = subprocess.run(["ldd", exe_shared], capture_output=True, text=True,
                             env=run_env).stdout
        ok(lib_dir in ldd, "the shared example loads the installed libsmsmux.so", ldd)
        ldd = subprocess.run(["ldd", exe_static], capture_output=True, text=True).stdout
        ok("libsmsmux" not in ldd, "the static example carries libsmsmux inside", ldd)
        ok("jemalloc" not in ldd + subprocess.run(["ldd", exe_shared], capture_output=True,
                                                  text=True, env=run_env).stdout,
           "neither example (shared, static) loads another allocator than libc's", ldd)
    finally:
        sim.send_signal(signal.SIGTERM)
        try:
            sim.wait(timeout=10)
        except subprocess.TimeoutExpired:
            sim.kill()
    shutil.rmtree(work, ignore_errors=True)
except SystemExit:
    pass
finally:
    shutil.rmtree(dest, ignore_errors=True)
print(f"1..{n}")
sys.exit(1 if failed else 0)
