#!/usr/bin/env node
// Interop: node-smpp (npm `smpp`) as the ESME against smsc-sim. Binds,
// submits with registered_delivery (ACCEPTED then DELIVERED DRs, matched by
// receipted_message_id), receives a single and a 2-part UDH MO, enquire_link,
// unbind; then checks the simulator's ledger. Prints TAP.
// Usage: test_node_smpp.js PATH/TO/smsc-sim   (needs `npm install` here)
'use strict';
const { execFileSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const readline = require('readline');
const { spawnTied, requireSmpp, waitFor } = require('./interop_lib');

const smpp = requireSmpp();
const sim = process.argv[2];
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'smsc-sim-node-'));
const ctlPath = path.join(dir, 'ctl.sock');
const ledgerPath = path.join(dir, 'ledger.json');
let n = 0;
let failed = 0;

function ok(cond, name) {
  n++;
  console.log(`${cond ? 'ok' : 'not ok'} ${n} - ${name}`);
  if (!cond) failed++;
}

function ctl(...words) {
  return execFileSync(sim, ['ctl', '--control', ctlPath, ...words]).toString().trim();
}

function startSim() {
  return new Promise((resolve, reject) => {
    const child = spawnTied(sim, ['--port-base', '0', '--control', ctlPath, '--ledger', ledgerPath,
      '--rebind-interval', '0', '--set', 'dr_delay_ms=10-30', '--set', 'dr_accepted_prob=1'],
    { stdio: ['ignore', 'pipe', 'inherit'] });
    const ports = {};
    const rl = readline.createInterface({ input: child.stdout });
    rl.on('line', (line) => {
      const m = /^listening (\S+) \S+ 127\.0\.0\.1:(\d+)$/.exec(line);
      if (m) ports[m[1]] = Number(m[2]);
      if (line === 'ready') resolve({ child, ports });
    });
    child.on('exit', (code) => reject(new Error(`smsc-sim exited ${code}`)));
  });
}

function call(session, op, params) {
  return new Promise((resolve) => session[op](params, (pdu) => resolve(pdu)));
}

async function main() {
  const { child, ports } = await startSim();
  ok(Object.keys(ports).length === 4, 'simulator lists four SMSCs');

  const session = smpp.connect({ url: `smpp://127.0.0.1:${ports['smsc2.bos']}`, auto_enquire_link_period: 0 });
  await new Promise((resolve) => session.on('connect', resolve));
  const delivered = [];
  session.on('deliver_sm', (pdu) => {
    delivered.push(pdu);
    session.send(pdu.response());
  });

  const bad = smpp.connect({ url: `smpp://127.0.0.1:${ports['smsc1.dc3']}`, auto_enquire_link_period: 0 });
  await new Promise((resolve) => bad.on('connect', resolve));
  const badResp = await call(bad, 'bind_transceiver', { system_id: 'intruder', password: 'secret' });
  ok(badResp.command_status === smpp.ESME_RINVSYSID, 'unknown system_id gets ESME_RINVSYSID');
  bad.close();

  const bindResp = await call(session, 'bind_transceiver', { system_id: 'smsmux', password: 'secret' });
  ok(bindResp.command_status === 0, 'bind_transceiver accepted');
  ok(bindResp.system_id === 'smsc2.bos', 'bind_resp names the SMSC');

  const sub = await call(session, 'submit_sm', {
    source_addr: '12345', destination_addr: '447700900002', short_message: 'hello from node',
    registered_delivery: 1,
  });
  ok(sub.command_status === 0 && sub.message_id.length > 0, 'submit_sm answered with a message_id');

  await waitFor(() => delivered.length >= 2, 3000, 10);
  const drs = delivered.filter((p) => p.receipted_message_id);
  ok(drs.length === 2, 'two DRs arrive');
  ok(drs.every((p) => p.receipted_message_id === sub.message_id), 'DRs carry the submit_sm_resp id');
  ok(drs.map((p) => p.message_state).join(',') === '6,2', 'ACCEPTED then DELIVERED');
  ok(drs.every((p) => (p.esm_class & 0x3c) === 0x04), 'DR esm_class says SMSC delivery receipt');

  delivered.length = 0;
  ok(ctl('mo', 'smsc2.bos') === 'ok', 'ctl mo accepted');
  ok(ctl('mo', 'smsc2.bos', '1', '2') === 'ok', 'ctl mo multipart accepted');
  await waitFor(() => delivered.length >= 3, 3000, 10);
  ok(delivered.length === 3, 'three MO deliver_sm arrive');
  const single = delivered.find((p) => !(p.esm_class & 0x40));
  const text = single && (typeof single.short_message === 'object' && single.short_message.message !== undefined
    ? single.short_message.message : String(single.short_message));
  ok(single && /^MO 1 from smsc2\.bos/.test(text), 'single MO text');
  const parts = delivered.filter((p) => p.esm_class & 0x40);
  ok(parts.length === 2, 'two UDH parts');

  const el = await call(session, 'enquire_link', {});
  ok(el.command_status === 0, 'enquire_link answered');
  const ub = await call(session, 'unbind', {});
  ok(ub.command_status === 0, 'unbind answered');
  session.close();

  await new Promise((resolve) => { child.removeAllListeners('exit'); child.on('exit', resolve); child.kill('SIGTERM'); });
  const led = JSON.parse(fs.readFileSync(ledgerPath, 'utf8'));
  ok(led.totals.submit_sm_accepted === 1, 'ledger: one submit accepted');
  ok(led.totals.dr_sent === 2 && led.totals.mo_sent === 2, 'ledger: two DRs and two MOs sent');
  ok(led.totals.deliver_sm_acked === 5, 'ledger: every deliver_sm acknowledged');
  ok(led.violations.length === 0, 'ledger: no violations');
  fs.rmSync(dir, { recursive: true, force: true });
}

const timer = setTimeout(() => { ok(false, 'finished within 20 s'); console.log(`1..${n}`); process.exit(1); }, 20000);
main().then(() => {
  clearTimeout(timer);
  console.log(`1..${n}`);
  process.exit(failed ? 1 : 0);
}, (e) => {
  clearTimeout(timer);
  ok(false, `exception: ${e.message}`);
  console.log(`1..${n}`);
  process.exit(1);
});
