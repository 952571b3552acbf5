#!/usr/bin/env node
// `smsmux pipe` with default settings against SMSCs that are not ours:
// node-smpp servers (npm `smpp`) on 127.0.0.1, two "sites", each scenario
// played the way a real peer behaves, and the pipe's stdout checked for
// exactly-once outcomes, DRs and MOs and their correlation:
//   1. message ids in another case / with leading zeros in the receipt,
//      receipts with only receipted_message_id or only the text, a receipt
//      on the other site before the submit_sm_resp;
//   2. the SMSC sends unbind with submit_sm outstanding and answers them
//      after the unbind: the accepted MTs are not sent again (their ids
//      kept, their DRs correlated), the unbind_resp comes after the answers;
//   3. generic_nack ESME_RINVBNDSTS to one submit_sm followed, in the same
//      write and later, by submit_sm_resp ROK for the others: those answers
//      are taken (smsmux unbinds instead of dropping the connection);
//   4. ESME_RTHROTTLED and ESME_RMSGQFUL for a while: every MT submitted
//      once, none failed; the SMSC drops the connection mid-window, refuses
//      connections, comes back: every MT once, attempts apart per R2;
//      enquire_link from the SMSC answered;
//   4b. a 3-part MT whose part 1 is throttled and parts 2, 3 accepted: the
//      DRs of those accepted parts are correlated to the MT;
//   5. MOs: UCS2 with a 16-bit reference split across the sites out of order
//      with a part re-sent on the other site, SAR TLVs, message_payload, the
//      same text sent twice by the user (new user_message_reference) and
//      re-sent once (same reference), a binary MO marked "raw" (its text is
//      hex) unlike a handset's text that looks the same;
//   6. stdin EOF with MTs in flight: a DR on the other site before its
//      submit_sm_resp during the drain leaves correlated, an MO part still
//      waiting for its other part is flushed as partial; a DR and an MO the
//      SMSC sends in reply to our unbind (before its unbind_resp) are taken
//      and printed once.
// Usage: test_node_smsc.js PATH/TO/smsmux   (needs `npm install` here). TAP.
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const lib = require('./interop_lib');

// A child must not outlive this test when meson's timeout kills it
// (interop_lib.spawnTied: PR_SET_PDEATHSIG SIGKILL).
const { spawnTied, textOf } = lib;
const smpp = lib.requireSmpp();

const smx = process.argv[2];
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'smx-node-smsc-'));
const children = [];
const servers = [];
let n = 0;
let failed = 0;

function ok(cond, name, info) {
  n++;
  console.log(`${cond ? 'ok' : 'not ok'} ${n} - ${name}`);
  if (!cond) {
    failed++;
    if (info !== undefined) console.log(`# ${JSON.stringify(info).slice(0, 1500)}`);
  }
}

function waitFor(pred, ms) {
  return new Promise((resolve) => {
    const t0 = Date.now();
    const tick = () => {
      if (pred() || Date.now() - t0 > ms) return resolve(pred());
      setTimeout(tick, 20);
    };
    tick();
  });
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// One node-smpp SMSC named `name`. onSubmit(smsc, session, pdu) answers a
// submit_sm (default: ROK with the next id). accepted[text] counts the ROK
// answers per MT text: what a handset would receive from an SMSC that does
// not deduplicate.
async function nodeSmsc(name, onSubmit) {
  const s = { name, sessions: [], binds: 0, accepted: {}, unbindResp: 0, counter: 0, owed: [] };
  s.nextId = () => `${name}-${++s.counter}`;
  s.accept = (pdu, id) => {
    const t = textOf(pdu);
    s.accepted[t] = (s.accepted[t] || 0) + 1;
    return pdu.response({ message_id: id === undefined ? s.nextId() : id });
  };
  s.server = smpp.createServer((session) => {
    s.sessions.push(session);
    session.on('error', () => {});
    session.on('close', () => { s.sessions = s.sessions.filter((x) => x !== session); });
    for (const op of ['bind_transceiver', 'bind_transmitter', 'bind_receiver']) {
      session.on(op, (pdu) => {
        s.binds++;
        session.bound = true;
        session.send(pdu.response({ system_id: name }));
      });
    }
    session.on('enquire_link', (pdu) => session.send(pdu.response()));
    // answers still owed go out before the unbind_resp (s.owed: functions)
    session.on('unbind', (pdu) => {
      for (const f of s.owed.splice(0)) f();
      const done = () => { session.send(pdu.response()); session.close(); };
      if (s.onUnbind) s.onUnbind(session, done);    // e.g. a DR still queued goes first
      else done();
    });
    session.on('unbind_resp', () => { s.unbindResp++; session.close(); });
    session.on('submit_sm', (pdu) => {
      if (onSubmit) onSubmit(s, session, pdu);
      else session.send(s.accept(pdu));
    });
  });
  servers.push(s.server);
  await new Promise((r) => s.server.listen(0, '127.0.0.1', r));
  s.port = s.server.address().port;
  s.bound = () => s.sessions.find((x) => x.bound);
  // a deliver_sm on the bound session; resolves with the deliver_sm_resp status
  s.deliver = (params) => new Promise((resolve) => {
    const sess = s.bound();
    if (!sess) return resolve(-1);
    sess.deliver_sm(Object.assign({ source_addr: '447700900001', destination_addr: '12345' }, params),
      (r) => resolve(r.command_status));
  });
  // a receipt: rid = receipted_message_id TLV (null: none), state = message_state TLV
  s.dr = (rid, state, text) => {
    const p = { esm_class: 4, short_message: Buffer.from(text || '') };
    if (rid !== null) p.receipted_message_id = rid;
    if (state !== null) p.message_state = state;
    return s.deliver(p);
  };
  return s;
}

// `smsmux pipe` with the SMSCs given (name@site), default settings apart from
// `ini` ([client] keys, for short timings) and the rebind interval.
function pipe(smscs, ini, drainS, rebindS) {
  const args = ['pipe', '--rebind-interval', String(rebindS || 1), '--drain-timeout', String(drainS || 10)];
  for (const [s, site] of smscs) args.push('--smsc', `${s.name}@${site}=127.0.0.1:${s.port}`);
  if (ini) {
    const f = path.join(dir, `c${children.length}.ini`);
    fs.writeFileSync(f, ini);
    args.push('--config', f);
  }
  // interop_lib's pipe, its children killed with this test's at the end
  const p = lib.pipe({ spawn: (cmd, a, o) => { const ch = spawnTied(cmd, a, o); children.push(ch); return ch; } },
    smx, args.slice(1));
  const { child } = p;
  p.sendAll = (objs) => child.stdin.write(objs.map((o) => `${JSON.stringify(o)}\n`).join(''));
  p.ev = (type) => p.events.filter((e) => e.event === type);
  p.outcomes = () => {
    const m = {};
    for (const e of p.events) {
      if ((e.event === 'submitted' || e.event === 'failed') && e.id) (m[e.id] = m[e.id] || []).push(e);
    }
    return m;
  };
  p.allUp = () => waitFor(() => smscs.every(([s]) => {
    let st = null;
    for (const e of p.events) if (e.event === 'bind' && e.smsc === s.name) st = e.state;
    return st === 'up';
  }), 20000);
  p.close = async () => {
    child.stdin.end();
    await waitFor(() => p.exited !== null, 60000);
    return p.exited;
  };
  return p;
}

const mt = (i, pfx) => ({ id: `${pfx}${i}`, from: '12345', to: `447700900${String(i % 1000).padStart(3, '0')}`,
  text: `${pfx} mt ${i}` });

// every id in ids has exactly one outcome, `submitted`
function oneSubmittedEach(p, ids) {
  const oc = p.outcomes();
  return ids.every((id) => oc[id] && oc[id].length === 1 && oc[id][0].event === 'submitted') &&
    Object.keys(oc).length === ids.length;
}

function count(list, key) {
  const m = {};
  for (const x of list) { const k = key(x); m[k] = (m[k] || 0) + 1; }
  return m;
}

async function partIds() {
  // a accepts MTs with ids in the shapes real SMSCs use; b is receive-only
  const ids = ['4F2A9C', '00004b2f1e', '102345', 'ABCDEF01', 'E6A1'];
  let heldLast = null;
  const A = await nodeSmsc('ida', (s, sess, pdu) => {
    const i = Number(/ mt (\d+)$/.exec(textOf(pdu))[1]);
    if (i === 4) { heldLast = () => sess.send(s.accept(pdu, ids[i])); return; }
    sess.send(s.accept(pdu, ids[i]));
  });
  const B = await nodeSmsc('idb');
  const ini = `[smsc idb]\nsite = bos\nhost = 127.0.0.1\nport = ${B.port}\nbind_mode = rx\n`;
  const p = pipe([[A, 'dc3']], ini);
  ok(await p.allUp() && await waitFor(() => p.ev('bind').some((e) => e.smsc === 'idb' && e.state === 'up'), 20000),
    'ids: smsmux binds to both node-smpp SMSCs', p.err);
  for (let i = 0; i < 5; i++) p.send(mt(i, 'id'));
  await waitFor(() => p.ev('submitted').length >= 4 && heldLast, 10000);
  const st = [];
  const rt = (id, stat) => `id:${id} sub:001 dlvrd:001 submit date:2401011200 done date:2401011201 stat:${stat} err:000 text:x`;
  st.push(await B.dr('4f2a9c', 2, rt('77001', 'DELIVRD')));          // TLV lower case, text: carrier id
  st.push(await B.dr('4B2F1E', 2, ''));                               // TLV only, no zeros, upper case
  st.push(await B.dr(null, null, rt('0000102345', 'DELIVRD')));       // text only, zero-padded
  st.push(await B.dr('abcdef01', 6, rt('9', 'ACCEPTD')));             // ACCEPTED then DELIVERED
  st.push(await B.dr('abcdef01', 2, rt('9', 'DELIVRD')));
  st.push(await B.dr('abcdef01', 2, rt('9', 'DELIVRD')));             // re-sent: dropped (R5)
  st.push(await B.dr('e6a1', 5, rt('e6a1', 'UNDELIV')));              // before its submit_sm_resp
  await sleep(200);
  heldLast();
  ok(st.every((x) => x === 0), 'ids: every receipt acknowledged ROK', st);
  await waitFor(() => p.ev('dr').length >= 6, 10000);
  const rc = await p.close();
  ok(rc === 0 && oneSubmittedEach(p, ['id0', 'id1', 'id2', 'id3', 'id4']), 'ids: every MT one submitted outcome',
    { rc, ev: p.events });
  const got = p.ev('dr').map((e) => `${e.id}:${e.state}`).sort();
  const want = ['id0:DELIVERED', 'id1:DELIVERED', 'id2:DELIVERED', 'id3:ACCEPTED', 'id3:DELIVERED',
    'id4:UNDELIVERABLE'].sort();
  ok(JSON.stringify(got) === JSON.stringify(want),
    'ids: each receipt once, correlated across case, padding, TLV-only, text-only, other site, before the resp',
    { got, err: p.err });
}

// The SMSC sends unbind while it holds `k` submit_sm, then answers them.
async function partPeerUnbind() {
  const held = [];
  let unbound = false;
  const A = await nodeSmsc('ua', (s, sess, pdu) => {
    if (unbound) { sess.send(s.accept(pdu)); return; }
    held.push({ sess, pdu });
    if (held.length === 6) {
      unbound = true;
      sess.unbind({});
      for (const h of held) h.sess.send(s.accept(h.pdu));
    }
  });
  const B = await nodeSmsc('ub');
  const p = pipe([[A, 'dc3'], [B, 'bos']]);
  ok(await p.allUp(), 'unbind: smsmux binds to both node-smpp SMSCs', p.err);
  const N = 24;
  const ids = [];
  const mts = [];
  for (let i = 0; i < N; i++) { mts.push(mt(i, 'ub')); ids.push(`ub${i}`); }
  p.sendAll(mts);
  await waitFor(() => Object.keys(p.outcomes()).length >= N, 20000);
  const onA = p.ev('submitted').filter((e) => e.smsc === 'ua');
  // a receipt for every MT accepted on ua, sent on ub
  const st = [];
  for (const e of onA) st.push(await B.dr(e.message_id, 2, ''));
  await waitFor(() => p.ev('dr').length >= onA.length, 5000);
  const rc = await p.close();
  ok(rc === 0 && oneSubmittedEach(p, ids), 'unbind: every MT one submitted outcome', p.outcomes());
  const twice = Object.entries(Object.assign({}, A.accepted)).concat(Object.entries(B.accepted))
    .reduce((m, [t, c]) => { m[t] = (m[t] || 0) + c; return m; }, {});
  const dups = Object.entries(twice).filter(([, c]) => c !== 1);
  ok(held.length === 6 && Object.keys(twice).length === N && dups.length === 0,
    'unbind: no MT the SMSC accepted after its unbind is sent again', { held: held.length, dups });
  ok(onA.length >= 6 && onA.every((e) => /^ua-\d+$/.test(e.message_id)),
    'unbind: the MTs answered after the unbind keep that SMSC\'s message ids', onA);
  ok(A.unbindResp === 1, 'unbind: the SMSC\'s unbind is answered with unbind_resp', A.unbindResp);
  const drs = p.ev('dr');
  ok(st.every((x) => x === 0) && drs.length === onA.length && drs.every((d) => d.id !== null) &&
    JSON.stringify(drs.map((d) => d.id).sort()) === JSON.stringify(onA.map((e) => e.id).sort()),
  'unbind: their receipts reach the app correlated, once each', { drs, onA });
  ok(A.binds >= 1 && p.ev('bind').some((e) => e.smsc === 'ua' && e.state === 'down' &&
    e.reason === 'unbind from SMSC'), 'unbind: the bind goes down "unbind from SMSC"', p.ev('bind'));
}

// generic_nack ESME_RINVBNDSTS to the first submit_sm, ROK answers to two
// more in the same write, and to the last two 150 ms later (or before the
// unbind_resp if smsmux unbinds first).
async function partNackThenAnswers() {
  const held = [];
  let fired = false;
  const A = await nodeSmsc('na', (s, sess, pdu) => {
    if (fired) { sess.send(s.accept(pdu)); return; }
    held.push(pdu);
    if (held.length < 5) return;
    fired = true;
    const bufs = [new smpp.PDU('generic_nack', { sequence_number: held[0].sequence_number,
      command_status: smpp.ESME_RINVBNDSTS }).toBuffer()];
    for (const h of held.slice(1, 3)) bufs.push(s.accept(h).toBuffer());
    sess.socket.write(Buffer.concat(bufs));
    const later = () => { for (const h of held.slice(3)) sess.send(s.accept(h)); };
    s.owed.push(later);
    setTimeout(() => { const i = s.owed.indexOf(later); if (i >= 0) { s.owed.splice(i, 1); later(); } }, 150);
  });
  const B = await nodeSmsc('nb');
  const p = pipe([[A, 'dc3'], [B, 'bos']], '[client]\nwindow = 5\n');
  ok(await p.allUp(), 'nack: smsmux binds to both node-smpp SMSCs', p.err);
  // round robin: five of the ten MTs fill na's window of 5
  const N = 10;
  const ids = [];
  const mts = [];
  for (let i = 0; i < N; i++) { mts.push(mt(i, 'nk')); ids.push(`nk${i}`); }
  p.sendAll(mts);
  await waitFor(() => Object.keys(p.outcomes()).length >= N, 20000);
  const rc = await p.close();
  ok(rc === 0 && oneSubmittedEach(p, ids), 'nack: every MT one submitted outcome', p.outcomes());
  const all = Object.entries(A.accepted).concat(Object.entries(B.accepted));
  const per = all.reduce((m, [t, c]) => { m[t] = (m[t] || 0) + c; return m; }, {});
  const dups = Object.entries(per).filter(([, c]) => c !== 1);
  ok(fired && Object.keys(per).length === N && dups.length === 0,
    'nack: the answers after the generic_nack (same read and later) are taken, no MT sent twice',
    { fired, dups });
  const onA = p.ev('submitted').filter((e) => e.smsc === 'na');
  ok(onA.length === 4, 'nack: the four MTs the SMSC accepted are submitted on it', onA);
  ok(p.ev('bind').some((e) => e.smsc === 'na' && e.state === 'down' &&
    e.reason === 'SMSC says the bind is not usable'), 'nack: the bind goes down naming the reason',
  p.ev('bind'));
}

// ESME_RTHROTTLED then ESME_RMSGQFUL for the first 12 submit_sm of each SMSC.
async function partPushback() {
  const mk = (name, status) => {
    let left = 12;
    return nodeSmsc(name, (s, sess, pdu) => {
      if (left-- > 0) sess.send(pdu.response({ command_status: status }));
      else sess.send(s.accept(pdu));
    });
  };
  const A = await mk('ta', smpp.ESME_RTHROTTLED);
  const B = await mk('tb', smpp.ESME_RMSGQFUL);
  const p = pipe([[A, 'dc3'], [B, 'bos']]);
  ok(await p.allUp(), 'pushback: smsmux binds to both node-smpp SMSCs', p.err);
  const N = 40;
  const ids = [];
  for (let i = 0; i < N; i++) { p.send(mt(i, 'tp')); ids.push(`tp${i}`); }
  await waitFor(() => Object.keys(p.outcomes()).length >= N, 40000);
  const rc = await p.close();
  ok(rc === 0 && oneSubmittedEach(p, ids), 'pushback: every MT one submitted outcome, none failed',
    { oc: p.outcomes(), err: p.err.slice(-500) });
  const per = Object.entries(A.accepted).concat(Object.entries(B.accepted))
    .reduce((m, [t, c]) => { m[t] = (m[t] || 0) + c; return m; }, {});
  ok(Object.keys(per).length === N && Object.values(per).every((c) => c === 1),
    'pushback: each MT accepted once');
}

// The SMSC drops the TCP connection with MTs unanswered, refuses
// connections for a while, then comes back: every MT one outcome, none
// accepted twice, connect attempts at least the rebind interval apart (R2,
// --rebind-interval 2 here; the default is 30 s). Also an enquire_link from
// the SMSC is answered.
async function partDropAndReturn() {
  let dropping = true;
  const held = [];
  const A = await nodeSmsc('da', (s, sess, pdu) => {
    if (dropping) { held.push(pdu); return; }
    sess.send(s.accept(pdu));
  });
  const connects = [];
  let refuse = false;
  A.server.on('connection', (sock) => { connects.push(Date.now()); if (refuse) sock.destroy(); });
  const B = await nodeSmsc('db');
  const p = pipe([[A, 'dc3'], [B, 'bos']], null, 20, 2);
  ok(await p.allUp(), 'drop: smsmux binds to both node-smpp SMSCs', p.err);
  const el = await new Promise((resolve) => B.bound().enquire_link({}, (r) => resolve(r.command_status)));
  ok(el === 0, 'drop: an enquire_link from the SMSC is answered ROK', el);
  const ids = [];
  for (let i = 0; i < 10; i++) { p.send(mt(i, 'dr')); ids.push(`dr${i}`); }
  await waitFor(() => held.length >= 3, 10000);
  refuse = true;
  dropping = false;
  for (const x of A.sessions) x.destroy();       // mid-window: those MTs were never answered
  for (let i = 10; i < 20; i++) { p.send(mt(i, 'dr')); ids.push(`dr${i}`); }
  await sleep(4500);
  refuse = false;
  const back = await waitFor(() => p.ev('bind').filter((e) => e.smsc === 'da' && e.state === 'up').length >= 2,
    15000);
  ok(back, 'drop: the bind comes back when the SMSC does', p.ev('bind'));
  for (let i = 20; i < 30; i++) { p.send(mt(i, 'dr')); ids.push(`dr${i}`); }
  await waitFor(() => Object.keys(p.outcomes()).length >= 30, 20000);
  const rc = await p.close();
  ok(rc === 0 && oneSubmittedEach(p, ids), 'drop: every MT one submitted outcome', p.outcomes());
  const per = Object.entries(A.accepted).concat(Object.entries(B.accepted))
    .reduce((m, [t, c]) => { m[t] = (m[t] || 0) + c; return m; }, {});
  ok(Object.keys(per).length === 30 && Object.values(per).every((c) => c === 1),
    'drop: each MT accepted once (the unanswered ones resent)', per);
  const gaps = connects.slice(1).map((t, i) => t - connects[i]);
  ok(connects.length >= 3 && gaps.every((g) => g >= 1900), 'drop: connect attempts ~2 s apart or more (R2; 100 ms for timestamp jitter)',
    { gaps });
}

// A 3-part MT: the SMSC answers part 1 with ESME_RTHROTTLED and accepts
// parts 2 and 3, 100 ms later; the MT is sent again whole. The message ids
// of the first attempt's accepted parts are kept: their DRs (the handset got
// those parts) reach the app correlated to the MT, like the second
// attempt's.
async function partLongMtPartFails() {
  let n = 0;
  const A = await nodeSmsc('la', (s, sess, pdu) => {
    n++;
    if (n === 1) { sess.send(pdu.response({ command_status: smpp.ESME_RTHROTTLED })); return; }
    const resp = s.accept(pdu, `la-${n}`);
    if (n <= 3) setTimeout(() => sess.send(resp), 100);
    else sess.send(resp);
  });
  const p = pipe([[A, 'dc3']]);
  ok(await p.allUp(), 'long MT: smsmux binds to the node-smpp SMSC', p.err);
  p.send({ id: 'lm0', from: '12345', to: '447700900001', text: 'z'.repeat(400) });
  await waitFor(() => Object.keys(p.outcomes()).length >= 1 && n >= 6, 10000);
  await sleep(300);
  const st = [];
  for (let i = 2; i <= n; i++) st.push(await A.dr(`la-${i}`, 2, ''));
  await waitFor(() => p.ev('dr').length >= n - 1, 5000);
  const rc = await p.close();
  ok(rc === 0 && oneSubmittedEach(p, ['lm0']) && n === 6, 'long MT: one submitted outcome after the resend',
    { n, oc: p.outcomes() });
  const drs = p.ev('dr');
  ok(st.every((x) => x === 0) && drs.length === 5 && drs.every((d) => d.id === 'lm0'),
    'long MT: the DRs of the parts accepted in the first attempt are correlated too', drs);
}

async function partMo() {
  const A = await nodeSmsc('ma');
  const B = await nodeSmsc('mb');
  const p = pipe([[A, 'dc3'], [B, 'bos']]);
  ok(await p.allUp(), 'mo: smsmux binds to both node-smpp SMSCs', p.err);
  const u = (s) => Buffer.from(s, 'utf16le').swap16();
  const udh16 = (seq) => Buffer.from([6, 8, 4, 0x12, 0x34, 3, seq]);
  const st = [];
  st.push(await A.deliver({ data_coding: 8, short_message: u('caf\u00e9 \u20ac') }));
  st.push(await B.deliver({ esm_class: 0x40, data_coding: 8, short_message: Buffer.concat([udh16(3), u('C\u00e7')]) }));
  st.push(await A.deliver({ esm_class: 0x40, data_coding: 8, short_message: Buffer.concat([udh16(1), u('A\u4e2d')]) }));
  st.push(await A.deliver({ esm_class: 0x40, data_coding: 8, short_message: Buffer.concat([udh16(2), u('B\u00fc')]) }));
  st.push(await B.deliver({ esm_class: 0x40, data_coding: 8, short_message: Buffer.concat([udh16(2), u('B\u00fc')]) }));
  st.push(await B.deliver({ short_message: Buffer.alloc(0), message_payload: Buffer.from('payload '.repeat(40)) }));
  st.push(await A.deliver({ sar_msg_ref_num: 77, sar_total_segments: 2, sar_segment_seqnum: 2,
    short_message: Buffer.from('sar two') }));
  st.push(await B.deliver({ sar_msg_ref_num: 77, sar_total_segments: 2, sar_segment_seqnum: 1,
    short_message: Buffer.from('sar one, ') }));
  // the user sends YES twice (TP-MR 5, 6: user_message_reference); the
  // second is re-sent on the other site
  st.push(await A.deliver({ short_message: Buffer.from('YES'), user_message_reference: 5 }));
  st.push(await A.deliver({ short_message: Buffer.from('YES'), user_message_reference: 6 }));
  st.push(await B.deliver({ short_message: Buffer.from('YES'), user_message_reference: 6 }));
  // binary (data_coding 4) de ad, and a handset's text "DEAD"
  st.push(await A.deliver({ data_coding: 4, short_message: Buffer.from([0xde, 0xad]) }));
  st.push(await B.deliver({ short_message: Buffer.from('DEAD') }));
  ok(st.every((x) => x === 0), 'mo: every deliver_sm acknowledged ROK', st);
  await waitFor(() => p.ev('mo').length >= 8, 5000);
  await p.close();
  const got = p.ev('mo').map((e) => `${e.text}|${e.parts || 1}|${e.partial ? 'partial' : ''}` +
    `${e.raw ? '|raw' : ''}`).sort();
  const want = ['caf\u00e9 \u20ac|1|', 'A\u4e2dB\u00fcC\u00e7|3|', `${'payload '.repeat(40)}|1|`,
    'sar one, sar two|2|', 'YES|1|', 'YES|1|', 'DEAD|1||raw', 'DEAD|1|'].sort();
  ok(JSON.stringify(got) === JSON.stringify(want),
    'mo: UCS2, 16-bit UDH parts across sites (one re-sent), message_payload, SAR, the same text ' +
    'sent twice by the user (re-sent once), binary (raw hex) vs text: each once', got);
}

async function partShutdown() {
  const held = [];
  let hold = true;
  const onSubmit = (s, sess, pdu) => {
    if (hold) held.push({ s, sess, pdu });
    else sess.send(s.accept(pdu, `${s.name}x${pdu.sequence_number}`));
  };
  const A = await nodeSmsc('sa', onSubmit);
  const B = await nodeSmsc('sb', onSubmit);
  const p = pipe([[A, 'dc3'], [B, 'bos']], null, 20);
  ok(await p.allUp(), 'shutdown: smsmux binds to both node-smpp SMSCs', p.err);
  const N = 8;
  const ids = [];
  for (let i = 0; i < N; i++) { p.send(mt(i, 'sd')); ids.push(`sd${i}`); }
  await waitFor(() => held.length >= N, 10000);
  p.child.stdin.end();                      // EOF with every MT in flight
  await sleep(300);
  const st = [];
  // receipts on the other site before their submit_sm_resp, during the drain
  for (const h of held) {
    const other = h.s === A ? B : A;
    st.push(await other.dr(`${h.s.name}x${h.pdu.sequence_number}`, 6, ''));
  }
  st.push(await A.deliver({ esm_class: 0x40, short_message: Buffer.concat([Buffer.from([5, 0, 3, 0x2b, 2, 1]),
    Buffer.from('first half')]) }));
  hold = false;
  for (const h of held) h.sess.send(h.s.accept(h.pdu, `${h.s.name}x${h.pdu.sequence_number}`));
  await waitFor(() => p.exited !== null, 40000);
  ok(p.exited === 0 && oneSubmittedEach(p, ids), 'shutdown: every MT in flight at EOF one submitted outcome',
    { rc: p.exited, oc: p.outcomes() });
  ok(st.every((x) => x === 0), 'shutdown: the DRs and the MO part during the drain acknowledged ROK', st);
  const drs = p.ev('dr');
  ok(drs.length === N && JSON.stringify(drs.map((d) => d.id).sort()) === JSON.stringify(ids.slice().sort()) &&
    drs.every((d) => d.state === 'ACCEPTED'),
  'shutdown: each early DR reaches stdout once, correlated', drs);
  const mos = p.ev('mo');
  ok(mos.length === 1 && mos[0].partial === true && mos[0].text === 'first half',
    'shutdown: the MO part left waiting is flushed as partial', mos);
}

// Our unbind at stdin EOF crosses a DR and an MO the SMSC had queued: it
// sends them before its unbind_resp. They are taken (ROK) and printed once.
async function partDeliverAtUnbind() {
  const A = await nodeSmsc('ca');
  const st = [];
  A.onUnbind = (sess, done) => {
    sess.deliver_sm({ source_addr: '447700900001', destination_addr: '12345', esm_class: 4,
      receipted_message_id: 'ca-1', message_state: 2, short_message: Buffer.from('') }, (r) => {
      st.push(r.command_status);
      sess.deliver_sm({ source_addr: '447700900001', destination_addr: '12345',
        short_message: Buffer.from('mo at the unbind') }, (r2) => { st.push(r2.command_status); done(); });
    });
  };
  const p = pipe([[A, 'dc3']]);
  ok(await p.allUp(), 'unbind crossing: smsmux binds to the node-smpp SMSC', p.err);
  p.send(mt(0, 'cu'));
  await waitFor(() => p.ev('submitted').length >= 1, 10000);
  const rc = await p.close();
  ok(rc === 0 && oneSubmittedEach(p, ['cu0']), 'unbind crossing: the MT one submitted outcome', p.events);
  ok(st.length === 2 && st.every((x) => x === 0), 'unbind crossing: the DR and the MO answered ROK', st);
  const drs = p.ev('dr');
  const mos = p.ev('mo');
  ok(drs.length === 1 && drs[0].id === 'cu0' && drs[0].state === 'DELIVERED' && mos.length === 1 &&
    mos[0].text === 'mo at the unbind', 'unbind crossing: the DR (correlated) and the MO printed once',
  { drs, mos });
}

async function main() {
  await partIds();
  await partPeerUnbind();
  await partNackThenAnswers();
  await partPushback();
  await partDropAndReturn();
  await partLongMtPartFails();
  await partMo();
  await partShutdown();
  await partDeliverAtUnbind();
}

const guard = setTimeout(() => {
  ok(false, 'finished within 110 s');
  finish(1);
}, 110000);

function finish(code) {
  clearTimeout(guard);
  for (const c of children) { try { c.kill('SIGKILL'); } catch (e) { /* gone */ } }
  for (const s of servers) { try { s.close(); } catch (e) { /* closed */ } }
  fs.rmSync(dir, { recursive: true, force: true });
  console.log(`1..${n}`);
  process.exit(code || (failed ? 1 : 0));
}

main().then(() => finish(0), (e) => { ok(false, `exception: ${e.stack}`); finish(1); });
