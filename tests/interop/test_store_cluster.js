#!/usr/bin/env node
// The deployment SERVICE.md R1 and docs/scale-out.md describe, against
// SMSCs that are not ours: two `smsmux pipe` instances (a, b) of one
// cluster sharing one redis-server (AOF, appendfsync always), each bound to
// two node-smpp SMSCs on two sites (s1@dc3, s2@bos; one system_id for all
// four binds, as a real account has). The two SMSCs act as one service
// (R3, R5): each DR and each MO goes out on a random live bind of either
// instance, on either SMSC; a quarter of the submit_sm_resps are 300 ms late
// (their DR races ahead, on another bind); a quarter of the DRs and of the
// MOs are sent a second time on another random bind after the first was
// acknowledged (as if its deliver_sm_resp was lost); a deliver_sm refused or
// unanswered when its bind drops is re-sent on another bind 500 ms later.
// The service recognises an MT by its identity TLV (0x1401): a repeat gets
// the first one's message_id and no second DR (no handset copy).
// Traffic flows continuously (MTs into both pipes, MOs); meanwhile:
//   1. steady state: every MT one `submitted` across the instances, every
//      DR once, at the instance that accepted its MT, correlated; every MO
//      once across the instances;
//   2. b SIGTERMed mid-traffic (the application stops writing to it), b
//      drains and exits 0, every MT it took gets its outcome there, and b
//      is started again under its name: the DRs of its MTs sent meanwhile
//      (on a's binds) reach the restarted b, once;
//   2b. b SIGTERMed while the DRs of 40 of its MTs are parked in Redis
//      (sent before their submit_sm_resps, which come 1.5 s late, in b's
//      drain), and 2c. the same with redis-server SIGSTOPped until 300 ms
//      into b's stop: each of those DRs reaches b correlated at once;
//   3. b SIGKILLed mid-traffic right after the SMSC had a burst of DRs for
//      b's MTs acknowledged while b's stdout was not being read (DRs
//      acknowledged to the SMSC, not yet given to the application); b
//      restarted under its name, the application resubmits (same ids) the
//      MTs that had no outcome: every MT exactly one `submitted`, none
//      twice at the handset (the service sees the same identity), every DR
//      once at b, correlated. Allowed, as docs/operating.md "A crash" says:
//      a DR shown by the killed b and again by the restarted one (its last
//      poll batch), and a DR delivered uncorrelated, once, when the killed
//      b printed its MT's `submitted` before the correlation reached Redis
//      (dr_park_timeout_ms is 15 s here so those show within the test);
//   3b. redis-server down, b shows `submitted` for 20 MTs, SIGKILL, Redis
//      and b back, then their DRs: each once (uncorrelated: the
//      correlations died with b), none lost;
//   4. redis-server SIGSTOPped 2 s, then SIGTERMed and restarted, then
//      SIGKILLed and restarted, mid-traffic with both instances running:
//      every count as in 1.
// Usage: test_store_cluster.js SMSMUX REDIS_SERVER (needs `npm install`
// here). Prints TAP.
'use strict';
const fs = require('fs');
const lib = require('./interop_lib');

// A DR whose correlation never comes is delivered uncorrelated after this
// (default 60 s; shorter so the SIGKILL round sees those within the test).
const PARK_MS = 15000;

const smpp = lib.requireSmpp();
const [smx, redisServer] = process.argv.slice(2);
const t = lib.tap('smx-store-cluster-');
const { ok } = t;
const { waitFor, sleep, textOf } = lib;

// ---- redis-server: one port for its whole life (restarts reuse it) ----
const redis = lib.redisServer(t, redisServer);

// ---- the service: two node-smpp SMSCs sharing one state ----
const svc = {
  sessions: new Set(),  // every bound session, both SMSCs
  byIdent: new Map(),   // identity TLV (hex) -> message_id
  mts: new Map(),       // message_id -> { app, ident }
  submits: new Map(),   // app id -> submit_sm received
  repeats: 0,           // submit_sm whose identity was seen before
  drAcked: new Map(),   // message_id -> DR copies acknowledged
  mosSent: 0,
  refused: 0,
  resent: 0,
  dupSent: 0,
  early: 0,
  noteAck: null,        // called with (message_id) on each DR acknowledged
  slowLabel: '',        // MTs with ids starting so: answered 1.5 s late
  holdLabel: '',        // MTs with ids starting so: their DRs kept in `held`
  held: [],
};
let seq = 0;
const rnd = (n) => Math.floor(Math.random() * n);
const live = () => [...svc.sessions].filter((s) => s.alive);
const pick = (not) => {
  const l = live();
  const others = l.filter((s) => s !== not);
  const from = others.length ? others : l;
  return from.length ? from[rnd(from.length)] : null;
};

// Send a deliver_sm on `session`; refused or unanswered when the session
// ends, it is re-sent 500 ms later on another live bind (waits while none
// is). onAck runs once, when one copy was answered 0.
function deliver(session, params, onAck) {
  lib.deliverResent(session, params, { pick, waitMs: 200, count: svc, onAck });
}

// Whether the DR of the next MT is sent twice (every 4th).
let drCount = 0;

// A receipt as R6 has it: the id in the TLV, the carrier's own in the text;
// every 4th is sent again on another bind once the first copy was taken.
function sendDr(session, msgId, mt, dup) {
  const params = { source_addr: mt.destination_addr, destination_addr: mt.source_addr,
    esm_class: 4, receipted_message_id: msgId, message_state: 2,
    short_message: `id:C${msgId} sub:001 dlvrd:001 submit date:2612060000 ` +
      'done date:2612060001 stat:DELIVRD err:000 text:' };
  deliver(session, params, (s) => {
    svc.drAcked.set(msgId, (svc.drAcked.get(msgId) || 0) + 1);
    if (svc.noteAck) svc.noteAck(msgId);
    if (dup) {
      svc.dupSent++;
      setTimeout(() => {
        const to = pick(s);
        if (to) sendDr(to, msgId, mt, false);
      }, 20 + rnd(200));
    }
  });
}

let moK = 0;
function sendMo() {
  const s = pick(null);
  if (!s) return;
  const k = moK++;
  svc.mosSent++;
  const params = { source_addr: '447700900123', destination_addr: '12345', esm_class: 0,
    short_message: `cluster mo ${k}` };
  deliver(s, params, (first) => {
    if (k % 4 === 0) {
      setTimeout(() => { const to = pick(first); if (to) deliver(to, params); }, 20 + rnd(200));
    }
  });
}

// Each SMSC's sessions: bind, submit_sm (identity dedup), late answers.
function onSession(site) {
  return (session) => {
    lib.serveSession(session, () => svc.sessions.delete(session));
    for (const op of ['bind_transceiver', 'bind_transmitter', 'bind_receiver']) {
      session.on(op, (pdu) => {
        session.alive = true;
        svc.sessions.add(session);
        session.send(pdu.response({ system_id: `node-${site}` }));
      });
    }
    session.on('submit_sm', (pdu) => {
      const ident = pdu[0x1401] ? pdu[0x1401].toString('hex') : '';
      const app = textOf(pdu).replace(/^cluster /, '');
      svc.submits.set(app, (svc.submits.get(app) || 0) + 1);
      if (ident && svc.byIdent.has(ident)) {
        // a resubmission: the service drops it, answering as the first time
        svc.repeats++;
        session.send(pdu.response({ message_id: svc.byIdent.get(ident) }));
        return;
      }
      const msgId = `${site === 'dc3' ? 'D' : 'B'}${(++seq).toString(16).toUpperCase()}`;
      if (ident) svc.byIdent.set(ident, msgId);
      svc.mts.set(msgId, { app, ident });
      const slow = svc.slowLabel && app.startsWith(svc.slowLabel);
      const late = slow || seq % 4 === 1;
      const answer = () => { if (session.alive) session.send(pdu.response({ message_id: msgId })); };
      if (late) { svc.early++; setTimeout(answer, slow ? 1500 : 300); } else answer();
      if (!pdu.registered_delivery) return;
      if (svc.holdLabel && app.startsWith(svc.holdLabel)) {
        svc.held.push({ msgId, pdu });
        return;
      }
      const dup = !slow && drCount++ % 4 === 2;
      setTimeout(() => {
        const to = pick(late ? session : null);
        if (to) sendDr(to, msgId, pdu, dup);
        else svc.mts.get(msgId).noDr = true;
      }, late ? 5 : 20 + rnd(300));
    });
  };
}

// ---- the instances ----
const smscArgs = [];
const runs = { a: [], b: [] };   // every incarnation of each instance, in order

function startInstance(name, drainTimeout = '20') {
  const conf = t.file('smsmux.ini');
  fs.writeFileSync(conf, `[client]\ndr_park_timeout_ms = ${PARK_MS}\n`);
  const p = lib.pipe(t, smx, ['--config', conf, ...smscArgs, '--system-id', 'smsmux', '--password', 'pw',
    '--rebind-interval', '1', '--drain-timeout', drainTimeout,
    '--store', `redis://127.0.0.1:${redis.port}/0`, '--instance', name, '--cluster', 'cl']);
  p.name = name;
  p.sent = [];
  runs[name].push(p);
  return p;
}
const current = (name) => runs[name][runs[name].length - 1];
const allRuns = () => [...runs.a, ...runs.b];
const events = (type) => allRuns().flatMap((p) =>
  p.events.filter((e) => e.event === type).map((e) => ({ ...e, at: p })));
const upBinds = (p) => {
  const st = {};
  for (const e of p.events) if (e.event === 'bind') st[e.smsc] = e.state;
  return Object.values(st).filter((s) => s === 'up').length;
};

// ---- the application: MTs into each running instance ----
const app = { ids: new Map(), n: 0, paused: new Set(), timer: null };  // id -> owner name

function sendMt(p, id) {
  p.sent.push(id);
  p.send({ id, from: '12345', to: `4477009${String(app.n % 100000).padStart(5, '0')}`,
    text: `cluster ${id}` });
}

function traffic(label, on) {
  if (app.timer) clearInterval(app.timer);
  app.timer = null;
  if (!on) return;
  let k = 0;
  app.timer = setInterval(() => {
    for (const name of ['a', 'b']) {
      if (app.paused.has(name)) continue;
      const p = current(name);
      if (p.exited !== null) continue;
      const id = `${label}-${name}-${k}`;
      app.ids.set(id, name);
      app.n++;
      sendMt(p, id);
    }
    if (k % 3 === 0) sendMo();
    k++;
  }, 25);
}

// MTs `p` accepted but gave no outcome for before it ended: resubmitted to
// the next incarnation (same ids), as an application does after a crash.
function resubmitLost(dead, next) {
  const seen = new Set(dead.events.filter((e) => e.event === 'submitted' || e.event === 'failed')
    .map((e) => e.id));
  const lost = dead.sent.filter((id) => !seen.has(id));
  for (const id of lost) sendMt(next, id);
  return lost.length;
}

// ---- checks over everything so far ----
function outcomes() {
  const m = new Map();
  for (const e of [...events('submitted'), ...events('failed')]) {
    if (!m.has(e.id)) m.set(e.id, []);
    m.get(e.id).push(e);
  }
  return m;
}

// app id -> the DR events for it
function drsByApp() {
  const m = new Map();
  for (const d of events('dr')) {
    if (!m.has(d.id)) m.set(d.id, []);
    m.get(d.id).push(d);
  }
  return m;
}

// Every MT with an acknowledged DR has one at the app; wait for that.
function drsIn() {
  const by = drsByApp();
  const nulls = new Set((by.get(null) || []).map((d) => d.message_id));
  for (const [msgId, mt] of svc.mts) {
    if (svc.drAcked.get(msgId) && !by.has(mt.app) && !nulls.has(msgId)) return false;
  }
  return true;
}

async function settle(label, ms) {
  traffic(label, false);
  const ids = [...app.ids.keys()];
  await waitFor(() => {
    const oc = outcomes();
    return ids.every((id) => oc.has(id)) && svc.mts.size && [...svc.mts.keys()]
      .every((m) => svc.drAcked.get(m) || svc.mts.get(m).noDr) && drsIn() &&
      events('mo').length >= moK;
  }, ms, 100);
  await sleep(1500);       // a repeat would show by now
}

// After a SIGKILL (docs/operating.md "A crash"): allowTwice(first, second)
// says a DR printed twice is the at-least-once repeat (printed by the killed
// run, again by the restarted one); allowNull(msgId) that a DR may come
// uncorrelated, once, because its MT's `submitted` was printed by the killed
// run before its correlation reached Redis.
function check(label, allowTwice = () => false, allowNull = () => false) {
  const oc = outcomes();
  const ids = [...app.ids.keys()];
  const badOc = ids.filter((id) => !oc.has(id) || oc.get(id).filter((e) => e.event === 'submitted')
    .length !== 1 || oc.get(id).length !== 1);
  ok(badOc.length === 0, `${label}: every MT exactly one outcome, submitted (${ids.length} MTs)`,
    { n: badOc.length, bad: badOc.slice(0, 4).map((id) => [id, (oc.get(id) || [])
      .map((e) => [e.event, e.reason, e.at.name])]) });
  const idents = new Map();
  for (const [msgId, mt] of svc.mts) {
    if (!idents.has(mt.app)) idents.set(mt.app, []);
    idents.get(mt.app).push(msgId);
  }
  const twiceAtHandset = [...idents].filter(([, v]) => v.length !== 1);
  const notThere = ids.filter((id) => !idents.has(id));
  ok(twiceAtHandset.length === 0 && notThere.length === 0,
    `${label}: every MT reached the service once (${svc.repeats} resubmissions recognised by identity)`,
    { twice: twiceAtHandset.slice(0, 4), missing: notThere.slice(0, 4) });
  const by = drsByApp();
  const nulls = by.get(null) || [];
  const badNulls = nulls.filter((d) => !allowNull(d.message_id));
  const nullOf = new Map();
  for (const d of nulls) nullOf.set(d.message_id, (nullOf.get(d.message_id) || 0) + 1);
  const okNulls = nulls.length - badNulls.length;
  ok(badNulls.length === 0, `${label}: no DR uncorrelated` + (okNulls ? ` but ${okNulls} ` +
    'whose MT\'s submitted the killed instance printed before its correlation reached Redis' : ''),
  badNulls.slice(0, 3).map((d) => d.message_id));
  const wrong = [];
  const twice = [];
  let allowed = 0;
  for (const [msgId, mt] of svc.mts) {
    if (mt.noDr) continue;
    const got = by.get(mt.app) || [];
    if (nullOf.has(msgId) && !badNulls.some((d) => d.message_id === msgId)) {
      if (nullOf.get(msgId) !== 1 || got.length !== 0) twice.push([mt.app, 'uncorrelated', got.length]);
      continue;
    }
    const owner = app.ids.get(mt.app);
    if (got.length === 0 || got.some((d) => d.at.name !== owner || d.message_id !== msgId)) {
      wrong.push([mt.app, msgId, got.map((d) => [d.at.name, d.message_id])]);
    } else if (got.length === 2 && allowTwice(got[0].at, got[1].at)) {
      allowed++;
    } else if (got.length > 1) {
      twice.push([mt.app, got.map((d) => runs[d.at.name].indexOf(d.at))]);
    }
  }
  ok(wrong.length === 0, `${label}: every DR reached the instance that accepted its MT, correlated`,
    { n: wrong.length, wrong: wrong.slice(0, 5) });
  ok(twice.length === 0, `${label}: no DR printed twice${allowed ? ` (${allowed} shown again ` +
    'after SIGKILL by the restarted instance, printed by the killed one)' : ''}`,
    { n: twice.length, twice: twice.slice(0, 5) });
  const texts = events('mo').map((m) => m.text);
  const moSet = new Set(texts);
  ok(texts.length === moK && moSet.size === moK,
    `${label}: every MO once across the instances (${moK} sent, ${svc.mosSent} + copies)`,
    { printed: texts.length, distinct: moSet.size, sent: moK });
  return allowed;
}

async function main() {
  await redis.start();
  for (const site of ['dc3', 'bos']) {
    const server = smpp.createServer(onSession(site));
    const port = await new Promise((resolve) =>
      server.listen(0, '127.0.0.1', () => resolve(server.address().port)));
    smscArgs.push('--smsc', `s${smscArgs.length / 2 + 1}@${site}=127.0.0.1:${port}`);
  }
  startInstance('a');
  startInstance('b');
  ok(await waitFor(() => upBinds(current('a')) === 2 && upBinds(current('b')) === 2 &&
    live().length === 4, 30000), 'two instances, each bound to both SMSCs',
  { a: current('a').err.slice(-300), b: current('b').err.slice(-300) });

  // 1. steady state
  traffic('r1', true);
  await sleep(2000);
  await settle('r1', 30000);
  check('1 steady');

  // 2. b SIGTERMed mid-traffic, restarted under its name
  traffic('r2', true);
  await sleep(1500);
  app.paused.add('b');
  const b1 = current('b');
  b1.child.kill('SIGTERM');
  await waitFor(() => b1.exited !== null, 30000);
  ok(b1.exited === 0, 'b drains on SIGTERM and exits 0', b1.err.slice(-400));
  await sleep(1500);                     // a carries everything; b's DRs wait in Redis
  const b2 = startInstance('b');
  ok(resubmitLost(b1, b2) === 0, 'SIGTERM: every MT b read got its outcome there');
  ok(await waitFor(() => upBinds(b2) === 2, 30000), 'b restarted, bound to both SMSCs');
  app.paused.delete('b');
  await sleep(1500);
  await settle('r2', 40000);
  check('2 SIGTERM + restart');

  // 2b. b SIGTERMed while the DRs of its MTs are parked in Redis (they came
  // before the submit_sm_resps, which come 1.5 s late, during b's drain);
  // 2c. the same with redis-server SIGSTOPped from before the resps until
  // 300 ms after the SIGTERM (b's drain waits for the writes); 2d. the same
  // with b's --drain-timeout 0.5 s and Redis back 1.5 s after the SIGTERM:
  // the drain gives up on the buffered writes and the store's stop (2 s)
  // writes them, finding the parked DRs' placeholder. Each time a
  // correlation write that finds DRs parked for it must run the correlation
  // script before b's store stops, so the DRs reach b (this run or the
  // restarted one) correlated at once, not uncorrelated after
  // dr_park_timeout_ms (before, 2d's stop ended with its SETs answered and
  // the scripts they called for never sent)
  for (const [label, pauseMs] of [['r2b', 0], ['r2c', 300], ['r2d', 1500]]) {
    const pauseRedis = pauseMs > 0;
    svc.slowLabel = `${label}-`;
    const bx = current('b');
    const slowIds = [];
    for (let i = 0; i < 40; i++) {
      const id = `${label}-b-${i}`;
      app.ids.set(id, 'b');
      slowIds.push(id);
      sendMt(bx, id);
    }
    const slowMsgIds = () => [...svc.mts].filter(([, mt]) => mt.app.startsWith(`${label}-`))
      .map(([m]) => m);
    ok(await waitFor(() => slowMsgIds().length === 40 &&
      slowMsgIds().every((m) => svc.drAcked.get(m)), 10000, 10),
    `${label}: the DRs of 40 MTs of b acknowledged before their submit_sm_resps`);
    if (pauseRedis) redis.child.kill('SIGSTOP');
    app.paused.add('b');
    if (pauseRedis) await waitFor(() => slowIds.every((id) => outcomes().has(id)), 10000, 5);
    bx.child.kill('SIGTERM');
    if (pauseRedis) {
      await sleep(pauseMs);
      redis.child.kill('SIGCONT');
    }
    await waitFor(() => bx.exited !== null, 30000);
    svc.slowLabel = '';
    ok(bx.exited === 0 && slowIds.every((id) => outcomes().has(id)),
      `${label}: b drains (each MT answered) and exits 0`, bx.err.slice(-400));
    const by = startInstance('b', label === 'r2c' ? '0.5' : '20');   // 2d's b
    ok(await waitFor(() => upBinds(by) === 2, 30000), `${label}: b restarted`);
    app.paused.delete('b');
    await waitFor(() => slowIds.every((id) => drsByApp().has(id)), 15000, 50);
    const missing = slowIds.filter((id) => !(drsByApp().get(id) || []).some((d) => d.at.name === 'b'));
    ok(missing.length === 0, `${label}: the DRs parked before their resps reach b, ` +
      'correlated, within 15 s', { n: missing.length, missing: missing.slice(0, 5),
      err: bx.err.split('\n').filter((l) => /store/.test(l)).slice(-4) });
  }

  // 3. b's stdout not read, a burst of DRs for b's MTs acknowledged, SIGKILL
  traffic('r3', true);
  await sleep(1500);
  const b3 = current('b');
  b3.child.stdout.pause();                // the application is slow ...
  const fill = (label, n) => {            // ... and b's stdout pipe fills up
    for (let i = 0; i < n; i++) {
      const id = `${label}-b-${i}`;
      app.ids.set(id, 'b');
      sendMt(b3, id);
    }
  };
  let acked = 0;
  svc.noteAck = (msgId) => { if (svc.mts.get(msgId).app.startsWith('r3x-')) acked++; };
  fill('r3x', 400);
  await waitFor(() => acked >= 150, 20000, 10);
  app.paused.add('b');
  b3.child.kill('SIGKILL');
  svc.noteAck = null;
  await waitFor(() => b3.exited !== null, 10000);
  b3.child.stdout.resume();               // what b wrote before it died
  await sleep(500);
  const printedByKilled = new Set(runs.b.flatMap((r) => r.events)
    .filter((e) => e.event === 'dr').map((e) => e.id));
  const ackedNotShown = [...svc.mts].filter(([msgId, mt]) => app.ids.get(mt.app) === 'b' &&
    svc.drAcked.get(msgId) && !printedByKilled.has(mt.app)).length;
  console.log(`# SIGKILL: ${acked} DRs of b's burst acknowledged, ${ackedNotShown} of b's ` +
    'acknowledged DRs not printed by the killed b');
  await sleep(1500);                      // R2: restart no sooner than the rebind interval
  const b4 = startInstance('b');
  const lost = resubmitLost(b3, b4);
  console.log(`# SIGKILL: ${lost} MTs without an outcome resubmitted to the restarted b`);
  ok(await waitFor(() => upBinds(b4) === 2, 30000), 'b restarted after SIGKILL, bound to both SMSCs');
  app.paused.delete('b');
  await sleep(1500);
  await settle('r3', 60000);
  const killedShown = new Set(b3.events.filter((e) => e.event === 'submitted').map((e) => e.message_id));
  const killed = new Map([[b3, b4]]);     // killed run -> the run restarted after it
  const afterKill = [(first, second) => killed.get(first) === second, (m) => killedShown.has(m)];
  const again = check('3 SIGKILL + restart', ...afterKill);
  ok(ackedNotShown > 0, 'SIGKILL hit DRs acknowledged to the SMSC but not printed (the case tested)',
    ackedNotShown);
  console.log(`# SIGKILL: ${again} DRs shown by the killed b and again by the restarted one`);

  // 3b. the correlation-write window made wide: redis-server down, b shows
  // `submitted` for 20 MTs (their correlation writes wait in b), b is
  // SIGKILLed, Redis and b come back, then the service sends the DRs: the
  // correlations died with b, so each DR parks and leaves uncorrelated after
  // dr_park_timeout_ms, once, at the instance that received it (not lost,
  // not doubled; docs/operating.md "A crash")
  svc.holdLabel = 'r3k-';
  await redis.stop('SIGKILL');
  const kIds = [];
  for (let i = 0; i < 20; i++) {
    const id = `r3k-b-${i}`;
    app.ids.set(id, 'b');
    kIds.push(id);
    sendMt(b4, id);
  }
  ok(await waitFor(() => kIds.every((id) => outcomes().has(id)) && svc.held.length === 20, 20000),
    '3b: Redis down, b shows submitted for 20 MTs');
  for (const e of b4.events) if (e.event === 'submitted') killedShown.add(e.message_id);
  b4.child.kill('SIGKILL');
  await waitFor(() => b4.exited !== null, 10000);
  await redis.start();
  await sleep(1500);
  const b5 = startInstance('b');
  killed.set(b4, b5);
  ok(resubmitLost(b4, b5) === 0 && await waitFor(() => upBinds(b5) === 2, 30000),
    '3b: b restarted after SIGKILL, nothing to resubmit');
  svc.holdLabel = '';
  for (const h of svc.held.splice(0)) sendDr(pick(null), h.msgId, h.pdu, false);
  await settle('r3k', 40000);
  check('3b SIGKILL with correlations unwritten', ...afterKill);
  const kNull = (drsByApp().get(null) || []).filter((d) =>
    kIds.includes((svc.mts.get(d.message_id) || {}).app)).length;
  console.log(`# SIGKILL with Redis down: ${kNull} of 20 DRs uncorrelated (their MT's ` +
    'correlation died with the process), the rest correlated');

  // 4. redis-server paused, restarted (SIGTERM), killed (SIGKILL) mid-traffic
  traffic('r4', true);
  await sleep(1000);
  redis.child.kill('SIGSTOP');
  await sleep(2000);
  redis.child.kill('SIGCONT');
  await sleep(1500);
  await redis.stop('SIGTERM');
  await sleep(1000);
  await redis.start();
  await sleep(1500);
  await redis.stop('SIGKILL');
  await sleep(1000);
  await redis.start();
  await sleep(1500);
  await settle('r4', 60000);
  check('4 Redis paused, restarted, killed', ...afterKill);

  const rcs = await Promise.all([current('a').close(), current('b').close()]);
  ok(rcs[0] === 0 && rcs[1] === 0, 'both instances exit 0 at EOF', rcs);
  console.log(`# service: ${seq} MTs, ${svc.repeats} repeats, ${svc.early} answered late, ` +
    `${svc.dupSent} DRs sent twice, ${moK} MOs, ${svc.refused} refused, ${svc.resent} re-sent`);
}

t.run(main, 115000);
