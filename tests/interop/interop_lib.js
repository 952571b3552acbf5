// What the node interop tests share: children tied to the test's life, the
// node-smpp module (or a TAP skip when it is not installed), TAP lines, a
// temporary directory, waiting for a condition, free ports, a test CA and a
// server certificate made with the openssl CLI, stunnel4 in TLS server mode,
// a running `smsmux pipe` whose JSON events are parsed as they come, a
// redis-server started and stopped on one port for the test's life, the
// text of a node-smpp PDU's short_message, and a node-smpp SMSC's
// deliver_sm re-sent on another bind as the service does (serveSession: the
// session's life around it).
// One test process each; every helper runs on node's event loop thread.
'use strict';
const { spawn, execFileSync } = require('child_process');
const fs = require('fs');
const net = require('net');
const os = require('os');
const path = require('path');
const readline = require('readline');

// A child of this test (smsc-sim, smsmux, stunnel4, redis-server) must not
// outlive it when the test is killed from outside (meson's timeout: no
// clean-up runs): setpriv (util-linux) sets PR_SET_PDEATHSIG SIGKILL and
// execs the program, so the kernel kills it when this process ends.
function spawnTied(cmd, args, opts) {
  return spawn('setpriv', ['--pdeathsig', 'KILL', '--', cmd, ...args], opts);
}

// node-smpp from ./node_modules; without it the test is skipped (exit 0).
function requireSmpp() {
  try {
    return require(path.join(__dirname, 'node_modules', 'smpp'));
  } catch (e) {
    console.log('1..0 # SKIP node-smpp not installed (tools/bootstrap.sh --interop)');
    process.exit(0);
  }
  return null;
}

// TAP for one test: ok/skip lines, its temporary directory and children;
// finish() kills the children, removes the directory, prints the plan and
// exits (1 when a check failed or `code` says so).
function tap(prefix) {
  const t = { n: 0, failed: 0, children: [], dir: fs.mkdtempSync(path.join(os.tmpdir(), prefix)) };
  t.file = (name) => path.join(t.dir, name);
  t.ok = (cond, name, info) => {
    t.n++;
    console.log(`${cond ? 'ok' : 'not ok'} ${t.n} - ${name}`);
    if (!cond) {
      t.failed++;
      if (info !== undefined) console.log(`# ${JSON.stringify(info).slice(0, 1500)}`);
    }
    return cond;
  };
  t.skip = (name, why) => {
    t.n++;
    console.log(`ok ${t.n} - ${name} # SKIP ${why}`);
  };
  t.spawn = (cmd, args, opts) => {
    const child = spawnTied(cmd, args, opts);
    t.children.push(child);
    return child;
  };
  t.finish = (code) => {
    for (const c of t.children) { try { c.kill('SIGKILL'); } catch (e) { /* gone */ } }
    fs.rmSync(t.dir, { recursive: true, force: true });
    console.log(`1..${t.n}`);
    process.exit(code || (t.failed ? 1 : 0));
  };
  // main() under a guard of `ms`: a hang or an exception is a failed check
  t.run = (main, ms) => {
    const guard = setTimeout(() => { t.ok(false, `finished within ${ms / 1000} s`); t.finish(1); }, ms);
    main().then(() => { clearTimeout(guard); t.finish(0); },
      (e) => { clearTimeout(guard); t.ok(false, `exception: ${e.stack}`); t.finish(1); });
  };
  return t;
}

// Resolves with pred()'s last value once it is true or `ms` passed.
function waitFor(pred, ms, every = 20) {
  return new Promise((resolve) => {
    const t0 = Date.now();
    const tick = () => {
      if (pred() || Date.now() - t0 > ms) return resolve(pred());
      setTimeout(tick, every);
    };
    tick();
  });
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// A TCP port free on 127.0.0.1 now.
function freePort() {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => { const p = srv.address().port; srv.close(() => resolve(p)); });
  });
}

// In t.dir: ca.pem (a test CA) and srv.pem/srv.key (CN localhost, SAN
// localhost and 127.0.0.1, signed by it).
function makeCerts(t) {
  const openssl = (...args) => execFileSync('openssl', args,
    { cwd: t.dir, stdio: ['ignore', 'ignore', 'pipe'] });
  openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
    '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=interop test CA');
  openssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
    '-keyout', 'srv.key', '-out', 'srv.csr', '-subj', '/CN=localhost');
  fs.writeFileSync(t.file('ext.cnf'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\n');
  openssl('x509', '-req', '-in', 'srv.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key',
    '-CAcreateserial', '-out', 'srv.pem', '-days', '2', '-extfile', 'ext.cnf');
}

// The stunnel program on PATH (Debian: stunnel4), or null.
function stunnelProgram() {
  for (const c of ['stunnel4', 'stunnel']) {
    try { execFileSync('sh', ['-c', `command -v ${c}`]); return c; } catch (e) { /* next */ }
  }
  return null;
}

// stunnel in TLS server mode (makeCerts' srv.pem) on `port` (default: a
// free one) in front of the plain 127.0.0.1:`to`: { child, port, up, err }
// (up: it said it runs).
async function startStunnel(t, prog, to, port = 0) {
  if (!port) port = await freePort();
  const conf = t.file(`stunnel-${port}.conf`);   // rewritten on a restart
  fs.writeFileSync(conf, `foreground = yes\npid =\n[smpp]\naccept = 127.0.0.1:${port}\n` +
    `connect = 127.0.0.1:${to}\ncert = ${t.file('srv.pem')}\nkey = ${t.file('srv.key')}\n`);
  const child = t.spawn(prog, [conf], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr.on('data', (d) => { err += d.toString(); });
  const up = await waitFor(() => /Configuration successful/.test(err), 10000);
  return { child, port, up, err: () => err };
}

// A running `smsmux pipe` with `args`: events parsed from stdout (p.events),
// stderr kept (p.err), p.exited its exit status once it ended (the
// signal's name, e.g. 'SIGKILL', when a signal ended it).
function pipe(t, smx, args) {
  const child = t.spawn(smx, ['pipe', ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  const p = { child, events: [], err: '', exited: null };
  readline.createInterface({ input: child.stdout }).on('line', (line) => {
    try { p.events.push(JSON.parse(line)); } catch (e) { p.events.push({ bad: line }); }
  });
  child.stderr.on('data', (d) => { p.err += d.toString(); });
  child.on('exit', (code, sig) => { p.exited = code === null ? sig : code; });
  p.send = (obj) => child.stdin.write(`${JSON.stringify(obj)}\n`);
  p.bound = () => p.events.some((e) => e.event === 'bind' && e.state === 'up');
  // the submitted/failed events of each MT id
  p.outcomes = () => {
    const m = {};
    for (const e of p.events) {
      if (e.event === 'submitted' || e.event === 'failed') (m[e.id] = m[e.id] || []).push(e);
    }
    return m;
  };
  // stdin closed: resolves with the exit status (null: still running after 20 s)
  p.close = async () => {
    child.stdin.end();
    await waitFor(() => p.exited !== null, 20000);
    return p.exited;
  };
  return p;
}

// The text of a node-smpp PDU's short_message (a Buffer, or decoded into
// { message }).
const textOf = (pdu) => (Buffer.isBuffer(pdu.short_message) ? pdu.short_message.toString()
  : pdu.short_message.message !== undefined ? String(pdu.short_message.message)
    : String(pdu.short_message));

// redis-server (the program at `program`, a child of t, AOF with appendfsync
// always in t's directory) on one free port for the test's whole life:
// start() (again after a stop: the same port) resolves once it accepts
// connections and throws when it does not within 15 s; stop(sig, ms) sends
// sig and waits up to ms for its exit. exited: its exit code or signal.
function redisServer(t, program) {
  const redis = { port: 0, child: null, exited: null };
  redis.start = async () => {
    if (!redis.port) redis.port = await freePort();
    const child = t.spawn(program, ['--port', String(redis.port), '--bind', '127.0.0.1',
      '--save', '', '--appendonly', 'yes', '--appendfsync', 'always', '--dir', t.dir],
    { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => { out += d.toString(); });
    redis.child = child;
    redis.exited = null;
    child.on('exit', (code, sig) => { redis.exited = code === null ? sig : code; });
    if (!await waitFor(() => /Ready to accept connections/.test(out), 15000)) {
      throw new Error(`redis-server did not start: ${out.slice(-500)}`);
    }
  };
  redis.stop = async (sig, ms = 15000) => {
    redis.child.kill(sig);
    await waitFor(() => redis.exited !== null, ms);
  };
  return redis;
}

// A deliver_sm as the service sends it, on a node-smpp `session` that has
// a Set `unanswered`: refused, or left unanswered when the session ends
// (resendUnanswered), it goes out again 500 ms later on o.pick(session)
// (asked again every o.waitMs while that is null). o.count.refused and
// o.count.resent count those; o.onAck(session), if given, runs once, when
// one copy was answered 0.
function deliverResent(session, params, o) {
  let settled = false;
  const again = () => {
    if (settled) return;
    settled = true;
    o.count.resent++;
    const retry = () => {
      const to = o.pick(session);
      if (to) deliverResent(to, params, o);
      else setTimeout(retry, o.waitMs);
    };
    setTimeout(retry, 500);
  };
  session.unanswered.add(again);
  session.deliver_sm(params, (r) => {
    session.unanswered.delete(again);
    if (r.command_status) {
      o.count.refused++;
      again();
    } else if (!settled) {
      settled = true;
      if (o.onAck) o.onAck(session);
    }
  });
}

// `session` ended: each deliver_sm it left unanswered goes out again.
function resendUnanswered(session) {
  const pending = [...session.unanswered];
  session.unanswered.clear();
  for (const again of pending) again();
}

// The service's side of a node-smpp SMSC `session` whose deliver_sm go
// through deliverResent, up to the bind (the test's own): it starts not
// alive with no deliver_sm unanswered; enquire_link and unbind are answered;
// when it ends (closed, failed or unbound) it is no longer alive, onEnd
// (if given) runs, and each deliver_sm it left unanswered goes out again.
function serveSession(session, onEnd) {
  session.alive = false;
  session.unanswered = new Set();
  const gone = () => {
    session.alive = false;
    if (onEnd) onEnd(session);
    resendUnanswered(session);
  };
  session.on('close', gone);
  session.on('error', gone);
  session.on('enquire_link', (pdu) => session.send(pdu.response()));
  session.on('unbind', (pdu) => { session.send(pdu.response()); gone(); session.close(); });
}

module.exports = {
  spawnTied, requireSmpp, tap, waitFor, sleep, freePort, makeCerts, stunnelProgram,
  startStunnel, pipe, textOf, redisServer, deliverResent, resendUnanswered, serveSession,
};
