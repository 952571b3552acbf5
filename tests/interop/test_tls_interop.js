#!/usr/bin/env node
// Interop of SMPP over TLS with peers that are not ours (issue 14):
//   1. `smsmux pipe` against node-smpp's TLS server (smpp.createServer({key,
//      cert})): binds verified against the test CA, every MT one outcome;
//      the server drops the first session, the rebind resumes the TLS
//      session (node's socket.isSessionReused()).
//   2. node-smpp's ssmpp:// client against smsc-sim's TLS listener: bind,
//      submit_sm answered with a message_id, unbind.
//   3. `smsmux pipe` against a plain smsc-sim behind stunnel4 (TLS server
//      mode): binds, MTs answered; the ledger counts them.
//   4. `smsmux pipe` refuses node-smpp's TLS server when the CA is not
//      trusted (the default system store): bind down with the reason.
// Certificates are made here with the openssl CLI in a temporary directory.
// Usage: test_tls_interop.js SMSMUX SMSC_SIM   (needs `npm install` here;
// stunnel4 for part 3). Prints TAP.
'use strict';
const fs = require('fs');
const readline = require('readline');
const lib = require('./interop_lib');

const smpp = lib.requireSmpp();
const [smx, sim] = process.argv.slice(2);
const t = lib.tap('smx-tls-interop-');
const { ok, skip, file } = t;
const { waitFor } = lib;
const pipe = (args) => lib.pipe(t, smx, args);

const mt = (i) => ({ id: `t${i}`, from: '12345', to: `447700900${String(i % 1000).padStart(3, '0')}`,
  text: `tls interop ${i}` });

function listen(server) {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server.address().port)));
}

// A node-smpp TLS SMSC: answers binds, submit_sm (message ids), enquire_link,
// unbind; closes the first session after `dropAfter` submits.
async function nodeServer(dropAfter) {
  const st = { sessions: 0, reused: [], submits: 0, binds: 0 };
  const server = smpp.createServer({ key: fs.readFileSync(file('srv.key')),
    cert: fs.readFileSync(file('srv.pem')) }, (session) => {
    const idx = st.sessions++;
    const sock = session.socket;
    const seen = () => st.reused.push(sock.isSessionReused());
    if (sock.encrypted && sock._secureEstablished) seen();
    else sock.once('secure', seen);
    for (const op of ['bind_transceiver', 'bind_transmitter', 'bind_receiver']) {
      session.on(op, (pdu) => { st.binds++; session.send(pdu.response({ system_id: 'node' })); });
    }
    session.on('enquire_link', (pdu) => session.send(pdu.response()));
    session.on('unbind', (pdu) => { session.send(pdu.response()); session.close(); });
    let here = 0;
    session.on('submit_sm', (pdu) => {
      here++;
      if (idx === 0 && dropAfter && here > dropAfter) return;   // dropped: never answered
      st.submits++;
      session.send(pdu.response({ message_id: `node${st.submits}` }));
      if (idx === 0 && here === dropAfter) session.close();     // the rest are resent
    });
    session.on('error', () => {});
  });
  server.on('tlsClientError', () => {});
  const port = await listen(server);
  return { server, port, st };
}

async function partNodeServer() {
  const { server, port, st } = await nodeServer(5);
  const p = pipe(['--smsc', `node1@x=tls://127.0.0.1:${port}`, '--ca-file', file('ca.pem'),
    '--rebind-interval', '1', '--drain-timeout', '10']);
  const up = await waitFor(() => p.events.some((e) => e.event === 'bind' && e.state === 'up'), 15000);
  ok(up, 'smsmux binds to node-smpp\'s TLS server (verified against the test CA)', p.err);
  for (let i = 0; i < 40; i++) p.send(mt(i));
  await waitFor(() => Object.keys(p.outcomes()).length >= 40, 30000);
  const rc = await p.close();
  const oc = p.outcomes();
  const bad = Object.entries(oc).filter(([, v]) => v.length !== 1 || v[0].event !== 'submitted');
  ok(Object.keys(oc).length === 40 && bad.length === 0,
    'every MT one submitted outcome across the dropped session', { bad, err: p.err });
  ok(st.sessions >= 2 && st.reused.length >= 2 && st.reused[0] === false && st.reused[1] === true,
    'the rebind resumed the TLS session (node isSessionReused)', st);
  ok(rc === 0, 'smsmux pipe exits 0', { rc, err: p.err });
  server.close();
}

async function partUntrusted() {
  const { server, port } = await nodeServer(0);
  const p = pipe(['--smsc', `node2@x=tls://127.0.0.1:${port}`, '--rebind-interval', '1',
    '--drain-timeout', '1']);
  const down = await waitFor(() => p.events.some((e) => e.event === 'bind' && e.state === 'down'),
    15000);
  const ev = p.events.find((e) => e.event === 'bind' && e.state === 'down');
  ok(down && JSON.stringify(ev).includes('tls: certificate from unknown CA'),
    'without the CA (system store) the bind goes down naming the unknown CA', { ev, err: p.err });
  ok(!/BEGIN|PRIVATE/.test(p.err), 'no certificate or key in the log');
  await p.close();
  server.close();
}

function startSim(args) {
  return new Promise((resolve, reject) => {
    const child = t.spawn(sim, ['--sites', 'x', '--smscs-per-site', '1', '--port-base', '0',
      '--rebind-interval', '0', '--control', file(`ctl${t.children.length}`), ...args],
    { stdio: ['ignore', 'pipe', 'inherit'] });
    let port = 0;
    let ledger = '';
    let ready = false;
    readline.createInterface({ input: child.stdout }).on('line', (line) => {
      const m = /^listening \S+ \S+ (tls:\/\/)?127\.0\.0\.1:(\d+)$/.exec(line);
      if (m) port = { port: Number(m[2]), tls: !!m[1] };
      else if (line === 'ready') { ready = true; resolve({ child, port, ledger: () => ledger }); }
      else if (ready) ledger += line;
    });
    child.on('exit', (code) => { if (!ready) reject(new Error(`smsc-sim exited ${code}`)); });
  });
}

function stopSim(s) {
  return new Promise((resolve) => {
    s.child.on('exit', () => resolve(JSON.parse(s.ledger() || '{}')));
    s.child.kill('SIGTERM');
  });
}

function call(session, op, params) {
  return new Promise((resolve) => session[op](params, (pdu) => resolve(pdu)));
}

async function partNodeClient() {
  const s = await startSim(['--tls-cert', file('srv.pem'), '--tls-key', file('srv.key')]);
  ok(s.port.tls, 'smsc-sim prints tls:// for its TLS listener');
  const session = smpp.connect({ url: `ssmpp://127.0.0.1:${s.port.port}`,
    ca: fs.readFileSync(file('ca.pem')), servername: 'localhost', auto_enquire_link_period: 0 });
  let unbound = false;
  // after the unbind the simulator closes; a reset then is not a failure
  session.on('error', (e) => { if (!unbound) ok(false, 'node-smpp session error', String(e)); });
  await new Promise((resolve) => session.on('secureConnect', resolve));
  ok(session.socket.authorized === true, 'node-smpp verified smsc-sim\'s certificate');
  const b = await call(session, 'bind_transceiver', { system_id: 'smsmux', password: 'secret' });
  ok(b.command_status === 0, 'node-smpp binds over TLS (ssmpp://)', b.command_status);
  const r = await call(session, 'submit_sm', { source_addr: '12345',
    destination_addr: '447700900001', short_message: 'hello over ssmpp' });
  ok(r.command_status === 0 && r.message_id, 'submit_sm answered with a message_id', r);
  unbound = true;
  const u = await call(session, 'unbind', {});
  ok(u.command_status === 0, 'unbind answered');
  session.close();
  const ledger = await stopSim(s);
  const t = ledger.totals || {};
  ok(t.tls_handshakes >= 1 && t.submit_sm_received === 1, 'the ledger counts the TLS bind and the MT',
    t);
}

async function partStunnel() {
  const stunnel = lib.stunnelProgram();
  if (!stunnel) {
    skip('smsmux through stunnel4 to a plain smsc-sim', 'stunnel4 not installed (tools/bootstrap.sh)');
    return;
  }
  const s = await startSim([]);
  const st = await lib.startStunnel(t, stunnel, s.port.port);
  const free = st.port;
  ok(st.up, 'stunnel4 is up', st.err().slice(-400));
  const p = pipe(['--smsc', `tun@x=tls://127.0.0.1:${free}`, '--ca-file', file('ca.pem'),
    '--tls-server-name', 'localhost', '--rebind-interval', '1', '--drain-timeout', '10']);
  const up = await waitFor(() => p.events.some((e) => e.event === 'bind' && e.state === 'up'), 15000);
  ok(up, 'smsmux binds through stunnel4 to a plain smsc-sim', p.err);
  for (let i = 0; i < 30; i++) p.send(mt(i));
  await waitFor(() => Object.keys(p.outcomes()).length >= 30, 30000);
  await p.close();
  const oc = p.outcomes();
  ok(Object.keys(oc).length === 30 && Object.values(oc).every((v) => v.length === 1 &&
    v[0].event === 'submitted'), 'every MT through stunnel4 one submitted outcome', p.err);
  st.child.kill('SIGTERM');
  const ledger = await stopSim(s);
  ok((ledger.totals || {}).submit_sm_received === 30, 'the plain simulator got the 30 submit_sm',
    ledger.totals);
}

async function main() {
  lib.makeCerts(t);
  await partNodeServer();
  await partUntrusted();
  await partNodeClient();
  await partStunnel();
}

t.run(main, 100000);
