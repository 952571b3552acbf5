#!/usr/bin/env node
// The two deployments docs/scale-out.md and docs/operating.md describe, with
// peers that are not ours: two `smsmux pipe` instances (a, b) of one cluster
// sharing DR/MO state through one redis-server (AOF, appendfsync always),
// bound over TLS (stunnel4 in TLS server mode; default settings plus
// --ca-file) to a node-smpp SMSC that acts as the service does (SERVICE.md
// R3, R5): it sends each MT's DR on the OTHER instance's bind, and re-sends
// a deliver_sm refused or left unanswered on another bind 500 ms later.
// Each instance binds with its own system_id, so the SMSC knows whose bind
// is whose. What it proves (each round: every MT one outcome):
//   1. every DR reaches the instance that sent the MT, once, correlated;
//   2. also when it comes before the submit_sm_resp (answered 300 ms late)
//      and is sent a second time on the MT's own bind;
//   2b. stunnel4 killed with submit_sm_resps outstanding (both TLS binds
//      drop) and restarted: the MTs in flight are sent again with the same
//      identity (TLV 0x1401), each DR once at its owner;
//   3. an MO sent on both binds reaches one instance once;
//   4. redis-server SIGKILLed mid-traffic and restarted once the SMSC saw
//      a deliver_sm refused (after hold_ms): MTs flow meanwhile, the DRs and MOs refused for want of
//      Redis are re-sent and each reaches its owner once after;
//   5. one SIGTERM to b with MTs waiting for their (late) answers: b drains,
//      each of its MTs gets the SMSC's answer (submitted) and it exits 0
//      (before the CLI read its signalfd, that SIGTERM counted twice and
//      every MT in flight failed "shutdown" although the SMSC took it);
//   6. the DRs of b's MTs, sent once b is gone (on a's bind, the only one
//      left): a takes b's stream over (owner_takeover_ms 3 s) and shows
//      each once; b restarted under its name shows none of them again, and
//      the two share DRs as before;
//   7. b stopped (one SIGTERM) while redis-server is down, with MTs whose
//      correlation writes wait in b: Redis back 2 s into b's drain, b
//      writes them before it exits, and its DRs (sent once it is gone)
//      reach a, taking over, correlated (before, the store's stop gave them
//      2 s and dropped them: each DR came uncorrelated after the park
//      timeout).
// Without stunnel4 the binds are plain (said in a comment line).
// Usage: test_store_interop.js SMSMUX REDIS_SERVER   (needs `npm install`
// here). Prints TAP.
'use strict';
const fs = require('fs');
const lib = require('./interop_lib');

const smpp = lib.requireSmpp();
const [smx, redisServer] = process.argv.slice(2);
const t = lib.tap('smx-store-interop-');
const { ok, file } = t;
const { waitFor, sleep, textOf } = lib;

// ---- redis-server: one port for its whole life (restarts reuse it) ----
const redis = lib.redisServer(t, redisServer);

// ---- the node-smpp SMSC ----
const smsc = {
  sessions: {},         // system_id -> its latest session
  lateRespMs: 0,        // submit_sm_resp this late (the DR goes out first)
  dupDr: false,         // each DR also on the MT's own bind
  holdFor: null,        // system_id whose MTs' DRs are kept back in `held`
  held: [],
  submits: 0,
  identities: {},       // "system_id to text" -> the identities it came with
  resubmits: 0,         // submit_sm of an MT seen before
  refused: 0,           // deliver_sm answered non-zero
  resent: 0,
};

const live = () => Object.values(smsc.sessions).filter((s) => s.alive);

// Send a deliver_sm on `session`; refused or unanswered when the session
// ends, it is re-sent 500 ms later on another live bind (the same if it is
// the only one; waits while none is).
function deliver(session, params) {
  lib.deliverResent(session, params, {
    pick: (not) => live().find((s) => s !== not) || live()[0], waitMs: 500, count: smsc,
  });
}

// A receipt as R6 has it: the id in the TLV, the carrier's own in the text.
function sendDr(session, msgId, mt) {
  deliver(session, { source_addr: mt.destination_addr, destination_addr: mt.source_addr,
    esm_class: 4, receipted_message_id: msgId, message_state: 2,
    short_message: `id:C${msgId} sub:001 dlvrd:001 submit date:2612060000 ` +
      'done date:2612060001 stat:DELIVRD err:000 text:' });
}

function sendMo(session, k) {
  deliver(session, { source_addr: '447700900123', destination_addr: '12345', esm_class: 0,
    short_message: `interop mo ${k}` });
}

function onSession(session) {
  let name = null;
  lib.serveSession(session);
  for (const op of ['bind_transceiver', 'bind_transmitter', 'bind_receiver']) {
    session.on(op, (pdu) => {
      name = pdu.system_id;
      session.alive = true;
      smsc.sessions[name] = session;
      session.send(pdu.response({ system_id: 'node' }));
    });
  }
  session.on('submit_sm', (pdu) => {
    // the MT identity smsmux sends (TLV 0x1401, docs/scale-out.md), per MT
    const ident = pdu[0x1401] ? pdu[0x1401].toString('hex') : '';
    const key = `${name} ${pdu.destination_addr} ${textOf(pdu)}`;
    if (smsc.identities[key]) smsc.resubmits++;
    (smsc.identities[key] = smsc.identities[key] || new Set()).add(ident);
    const msgId = `N${++smsc.submits}`;
    const answer = () => session.send(pdu.response({ message_id: msgId }));
    if (!smsc.lateRespMs) answer();
    else setTimeout(answer, smsc.lateRespMs);
    if (!pdu.registered_delivery) return;
    if (smsc.holdFor === name) {
      smsc.held.push({ msgId, pdu });
      return;
    }
    setTimeout(() => {
      const other = live().find((s) => s !== session);
      sendDr(other || session, msgId, pdu);
      if (smsc.dupDr && other && session.alive) sendDr(session, msgId, pdu);
    }, 5);
  });
}

// ---- the instances ----
let smscAddr = '';
const instances = [];           // every pipe ever started, a restarted b too

function startInstance(name) {
  const conf = file(`${name}.ini`);
  fs.writeFileSync(conf, '[store]\nowner_takeover_ms = 3000\n');
  const tls = smscAddr.startsWith('tls://') ? ['--ca-file', file('ca.pem')] : [];
  const p = lib.pipe(t, smx, ['--config', conf, '--smsc', `node1@x=${smscAddr}`, ...tls,
    '--system-id', name, '--password', 'pw', '--rebind-interval', '1', '--drain-timeout', '20',
    '--store', `redis://127.0.0.1:${redis.port}/0`, '--instance', name, '--cluster', 'interop']);
  p.name = name;
  instances.push(p);
  return p;
}

// Every event of `type` every instance printed, each with `at` (its name).
const events = (type) => instances.flatMap((p) =>
  p.events.filter((e) => e.event === type).map((e) => ({ ...e, at: p.name })));

// MTs `${label}-${name}-${i}` (DR wanted) from each pipe; their ids.
function sendRound(label, per, pipes, from = 0) {
  const ids = [];
  for (let i = from; i < from + per; i++) {
    for (const p of pipes) {
      const id = `${label}-${p.name}-${i}`;
      ids.push(id);
      p.send({ id, from: '12345', to: `4477009${String(i).padStart(5, '0')}`, text: `interop ${id}` });
    }
  }
  return ids;
}

// id -> the names of the instances that printed a DR for it
function drsOf(label) {
  const at = {};
  for (const d of events('dr')) {
    if (d.id && d.id.startsWith(`${label}-`)) (at[d.id] = at[d.id] || []).push(d.at);
  }
  return at;
}

// Wait for a DR of every id (then 1.5 s more, so a repeat would show).
async function settleDrs(label, ids, ms) {
  await waitFor(() => ids.every((id) => drsOf(label)[id]), ms, 50);
  await sleep(1500);
}

// Every MT one `submitted`; every DR once, at `owner(id)` (default: the
// instance named in the id, that sent it; `where` says it in the check's name).
function checkRound(label, ids, owner = (id) => id.split('-')[1], where = 'the instance that sent the MT') {
  const oc = {};
  for (const e of [...events('submitted'), ...events('failed')]) {
    if (ids.includes(e.id)) (oc[e.id] = oc[e.id] || []).push(e);
  }
  const bad = ids.filter((id) => !oc[id] || oc[id].length !== 1 || oc[id][0].event !== 'submitted');
  ok(bad.length === 0, `${label}: every MT one submitted outcome`,
    { n: bad.length, bad: bad.slice(0, 4).map((id) => [id, oc[id]]) });
  const at = drsOf(label);
  const wrong = ids.filter((id) => !at[id] || at[id].length !== 1 || at[id][0] !== owner(id));
  ok(wrong.length === 0, `${label}: every DR once, at ${where}`,
    { n: wrong.length, wrong: wrong.slice(0, 6).map((id) => [id, at[id]]) });
}

async function main() {
  await redis.start();
  const server = smpp.createServer(onSession);
  const port = await new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve(server.address().port)));
  smscAddr = `127.0.0.1:${port}`;
  const stunnel = lib.stunnelProgram();
  let tun = null;
  if (stunnel) {
    lib.makeCerts(t);
    tun = await lib.startStunnel(t, stunnel, port);
    if (!tun.up) throw new Error(`stunnel did not start: ${tun.err().slice(-400)}`);
    smscAddr = `tls://127.0.0.1:${tun.port}`;
  } else {
    console.log('# stunnel4 not installed (tools/bootstrap.sh): plain SMPP');
  }
  const a = startInstance('a');
  let b = startInstance('b');
  ok(await waitFor(() => a.bound() && b.bound() && smsc.sessions.a && smsc.sessions.b, 30000),
    `both instances bound to node-smpp (${stunnel ? 'TLS through stunnel4' : 'plain'})`,
    { a: a.err.slice(-400), b: b.err.slice(-400) });

  // 1. each DR on the other instance's bind
  let ids = sendRound('r1', 40, [a, b]);
  await settleDrs('r1', ids, 30000);
  checkRound('r1', ids);
  ok(events('dr').every((d) => d.id !== null), 'no DR uncorrelated');

  // 2. the DR before the submit_sm_resp, and again on the MT's own bind
  smsc.lateRespMs = 300;
  smsc.dupDr = true;
  ids = sendRound('r2', 30, [a, b]);
  await settleDrs('r2', ids, 30000);
  checkRound('r2', ids);
  smsc.lateRespMs = 0;
  smsc.dupDr = false;

  // 2b. stunnel4 killed with submit_sm_resps outstanding (both TLS binds
  // drop at once) and started again on its port: the MTs in flight are
  // sent again with the identity they had (TLV 0x1401), each gets one
  // outcome, each DR once at its owner
  if (tun) {
    smsc.lateRespMs = 300;
    const before = smsc.submits;
    ids = sendRound('r2b', 30, [a, b]);
    await waitFor(() => smsc.submits >= before + 20, 10000, 5);
    tun.child.kill('SIGKILL');
    await sleep(300);
    const again = await lib.startStunnel(t, stunnel, port, tun.port);
    smsc.lateRespMs = 0;
    ok(again.up, 'stunnel4 restarted on its port', again.err().slice(-300));
    await settleDrs('r2b', ids, 60000);
    checkRound('r2b', ids);
    const moved = Object.entries(smsc.identities).filter(([, v]) => v.size > 1);
    ok(moved.length === 0 && smsc.resubmits > 0,
      'an MT sent again after the binds dropped kept its identity',
      { resubmits: smsc.resubmits, moved: moved.slice(0, 3).map(([k, v]) => [k, [...v]]) });
  }

  // 3. MOs, each on both binds
  let mo0 = events('mo').length;
  for (let k = 0; k < 20; k++) {
    sendMo(smsc.sessions.a, k);
    sendMo(smsc.sessions.b, k);
  }
  await waitFor(() => events('mo').length - mo0 >= 20, 20000, 50);
  await sleep(1500);
  let texts = events('mo').slice(mo0).map((m) => m.text);
  ok(texts.length === 20 && new Set(texts).size === 20, 'MOs sent on both binds: each once',
    texts);

  // 4. redis-server killed mid-traffic, back after 7 s (hold_ms is 5 s)
  ids = sendRound('r4', 20, [a, b]);
  await sleep(100);
  await redis.stop('SIGKILL', 5000);
  ids.push(...sendRound('r4', 20, [a, b], 20));
  mo0 = events('mo').length;
  for (let k = 100; k < 110; k++) sendMo(smsc.sessions.a, k);
  const refused0 = smsc.refused;
  const refusedSeen = await waitFor(() => smsc.refused > refused0, 20000, 50);
  await sleep(1000);
  ok(refusedSeen && events('mo').length === mo0,
    'Redis down: no MO delivered, DRs/MOs refused after hold_ms', { refused: smsc.refused - refused0 });
  await redis.start();
  await waitFor(() => events('mo').length - mo0 >= 10, 30000, 50);
  await settleDrs('r4', ids, 40000);
  checkRound('r4', ids);
  texts = events('mo').slice(mo0).map((m) => m.text);
  ok(texts.length === 10 && new Set(texts).size === 10,
    'r4: the MOs refused while Redis was down, re-sent: each once after', texts);

  // 5. one SIGTERM to b while its MTs wait for late answers; the DRs of
  // b's MTs are kept back until b is gone
  smsc.lateRespMs = 400;
  smsc.holdFor = 'b';
  ids = sendRound('r5', 30, [a, b]);
  await waitFor(() => smsc.held.length >= 30, 20000);
  const mo5 = events('mo').length;
  const bSession = smsc.sessions.b;
  let moK = 200;
  const moTimer = setInterval(() => {     // MOs on both binds while b drains
    if (moK >= 240) return;
    sendMo(moK % 2 && bSession.alive ? bSession : smsc.sessions.a, moK);
    moK++;
  }, 10);
  b.child.kill('SIGTERM');
  await waitFor(() => b.exited !== null, 40000);
  ok(b.exited === 0 && !/second signal/.test(b.err), 'b drains on one SIGTERM and exits 0',
    { rc: b.exited, err: b.err.slice(-600) });
  await waitFor(() => moK >= 240, 10000);
  clearInterval(moTimer);
  await waitFor(() => events('mo').length - mo5 >= 40, 30000, 50);
  await sleep(1500);
  texts = events('mo').slice(mo5).map((m) => m.text);
  ok(texts.length === 40 && new Set(texts).size === 40,
    'r5: MOs sent on both binds while b drains: each once', { n: texts.length, moK });
  smsc.lateRespMs = 0;
  smsc.holdFor = null;
  const aIds = ids.filter((id) => id.startsWith('r5-a-'));
  const bIds = ids.filter((id) => id.startsWith('r5-b-'));
  await settleDrs('r5', aIds, 30000);

  // 6. b's DRs on a's bind: a takes b's stream over and shows them once
  const held = smsc.held.splice(0);
  for (const h of held) sendDr(smsc.sessions.a, h.msgId, h.pdu);
  await settleDrs('r5', bIds, 40000);
  checkRound('r5', ids, () => 'a', 'a (its own, and b\'s taken over)');
  b = startInstance('b');
  ok(await waitFor(() => b.bound() && smsc.sessions.b.alive, 30000), 'b restarted under its name binds',
    b.err.slice(-400));
  await sleep(2000);
  ok(b.events.filter((e) => e.event === 'dr').length === 0,
    'the restarted b shows none of the DRs a took over');
  ids = sendRound('r6', 20, [a, b]);
  await settleDrs('r6', ids, 30000);
  checkRound('r6', ids);

  // 7. Redis killed, b's MTs answered (their correlation writes wait in b),
  // b SIGTERMed, Redis back 2 s later: b's drain writes them before it
  // exits, so b's DRs, sent once it is gone, reach a (taking over) correlated
  await redis.stop('SIGKILL', 5000);
  smsc.holdFor = 'b';
  ids = sendRound('r7', 20, [b]);
  await waitFor(() => smsc.held.length >= 20 && ids.every((id) => b.outcomes()[id]), 20000);
  b.child.kill('SIGTERM');
  await sleep(2000);
  await redis.start();
  await waitFor(() => b.exited !== null, 40000);
  ok(b.exited === 0 && !/not written at stop/.test(b.err),
    'b stopped while Redis was away writes its buffered correlations once it is back',
    b.err.split('\n').filter((l) => /store|drain/.test(l)).slice(-6));
  smsc.holdFor = null;
  for (const h of smsc.held.splice(0)) sendDr(smsc.sessions.a, h.msgId, h.pdu);
  await settleDrs('r7', ids, 40000);
  checkRound('r7', ids, () => 'a', 'a (b\'s, taken over, correlated)');
  ok(events('dr').every((d) => d.id !== null), 'no DR uncorrelated in any round',
    events('dr').filter((d) => d.id === null).length);

  ok(await a.close() === 0, 'a exits 0 at EOF');
  console.log(`# SMSC: ${smsc.submits} submits, ${smsc.refused} deliver_sm refused, ` +
    `${smsc.resent} re-sent`);
  server.close();
}

t.run(main, 170000);
