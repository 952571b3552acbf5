#!/usr/bin/env node
// `smsmux pipe --transport http` with default settings against an HTTP API
// service that is not ours: a peer written here on node's plain `http`
// module, implementing SERVICE.md's H1 (MT answers, deduplicating by
// message_id as the service does: a repeat is answered result_code=7 and not
// delivered again) and H4 (DR and MO pushes to smsmux's receiver, re-sent on
// any non-2xx or network error), and behaving as a real service does at its
// edges. The pipe's stdout is checked for one outcome per MT, each DR/MO
// exactly once and correlated, and the peer's "handset" for each MT at most
// once:
// The URL names the service `localhost` (a hosts-file name, as a new user
// writes it; no DNS server needs to know it).
//   1. plain MTs, the DR pushed after the answer; a DR (ACCEPTED) pushed and
//      answered before the MT's own answer goes out;
//   2. slow answers (1 s and 2 s), answers with a JSON body, extra headers;
//      every answer 4.5 s late (past stall_ms): each MT accepted, not failed
//      after max_attempts stalls;
//   3. 503 then 429 (with Retry-After) for a while, then normal: every MT
//      submitted once, none failed;
//   4. keep-alive connections closed unexpectedly: after the answer (the
//      next request may race the close) and before it (the request taken,
//      the socket destroyed unanswered: the resend is answered duplicate);
//   5. the same DR and MO pushed twice (the first push's answer not read, as
//      after a timeout) and pushes with odd but legal HTTP: chunked body
//      with a chunk extension, header names in other cases, a charset on
//      the content type, Expect: 100-continue, extra headers, fields in
//      another order, a body ending in CR LF, two pushes pipelined, HTTP/1.0,
//      a query string on the path, an absolute-form request target,
//      whitespace around the content type's parameter;
//      5b: 100 DRs and 100 MOs each pushed twice at once from 4 source
//      addresses over keep-alive connections: each printed once;
//   6. stdin EOF while answers are held 4.5 s (past stall_ms) and DRs are
//      pushed before them: every MT gets its outcome, every DR is printed
//      once, exit 0;
//   7. strategy B (two URLs) with both sites answering every request 4.5 s
//      late: each MT submitted once, not failed after max_attempts stalls.
// Usage: test_node_http.js PATH/TO/smsmux. TAP.
'use strict';
const http = require('http');
const net = require('net');
const { tap, waitFor, sleep, freePort, pipe } = require('./interop_lib');

const smx = process.argv[2];
const t = tap('smx-node-http-');
const STATES = { ENROUTE: 1, DELIVERED: 2, EXPIRED: 3, DELETED: 4, UNDELIVERABLE: 5,
  ACCEPTED: 6, UNKNOWN: 7, REJECTED: 8 };

// ---- the service's side ----------------------------------------------------

// The HTTP API. mode(req, form) picks how one MT request is answered; the
// service keeps every message_id it accepted (handset[mid] counts deliveries,
// a repeat is answered result_code=7 and not delivered again).
function service() {
  const s = { requests: 0, byMid: {}, handset: {}, textOf: {}, mode: null, bad: [] };
  s.server = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (d) => { body += d; });
    req.on('end', () => {
      s.requests++;
      const url = new URL(req.url, 'http://x');
      if (url.pathname !== '/httpapi/receiver') { res.writeHead(404); res.end(); return; }
      const form = req.method === 'GET' ? url.searchParams : new URLSearchParams(body);
      const mid = form.get('message_id');
      if (req.method === 'GET' && !mid) { res.end('ok\n'); return; }   // a probe
      if (!mid || !form.get('phone_number') || !form.get('login')) {
        s.bad.push(body);
        res.writeHead(400); res.end('result_code=99\n'); return;
      }
      s.byMid[mid] = (s.byMid[mid] || 0) + 1;
      s.textOf[mid] = form.get('message');
      const accept = () => {
        if (s.handset[mid]) return 'result_code=7\n';
        s.handset[mid] = 1;
        return 'result_code=0\n';
      };
      const how = s.mode ? s.mode(req, res, form, mid, accept) : null;
      if (how === 'handled') return;
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      res.end(accept());
    });
  });
  s.server.keepAliveTimeout = 5000;
  s.listen = (port) => new Promise((r) => s.server.listen(port, '127.0.0.1', r));
  s.close = () => { s.server.closeAllConnections(); s.server.close(); };
  return s;
}

// Pushes `fields` (H4) to the receiver until it answers 2xx, as the service
// does: any other answer or a network error is re-sent after 200 ms.
// opts.chunked / opts.headers / opts.expect shape the request.
async function push(port, fields, opts = {}) {
  const body = new URLSearchParams(fields).toString();
  for (let attempt = 0; attempt < 100; attempt++) {
    const st = await new Promise((resolve) => {
      const headers = Object.assign({}, opts.headers ||
        { 'Content-Type': 'application/x-www-form-urlencoded' });
      if (!opts.chunked) headers['Content-Length'] = Buffer.byteLength(body);
      if (opts.expect) headers.Expect = '100-continue';
      const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/httpapi/receiver',
        headers, agent: opts.agent || false, localAddress: opts.localAddress }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode));
      });
      req.setTimeout(10000, () => req.destroy(new Error('timeout')));
      req.on('error', () => resolve(0));
      const send = () => {
        if (opts.chunked) { req.write(body.slice(0, 7)); req.write(body.slice(7)); } else req.write(body);
        req.end();
      };
      if (opts.expect) req.on('continue', send); else send();
    });
    if (st >= 200 && st < 300) return st;
    await sleep(200);
  }
  return 0;
}

// The first push of a retry after a timeout: the whole request is written,
// the connection closed before the answer is read (the service does not know
// whether it was taken). Resolves once the receiver had time to read it.
function pushUnread(port, fields) {
  const body = new URLSearchParams(fields).toString();
  return new Promise((resolve) => {
    const c = net.connect(port, '127.0.0.1', () => {
      c.write(`POST /httpapi/receiver HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n` +
        `Content-Type: application/x-www-form-urlencoded\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
      setTimeout(() => { c.destroy(); resolve(); }, 50);
    });
    c.on('error', () => resolve());
  });
}

// A push written by hand: chunked with a chunk extension, header names in
// odd case, charset parameter, extra headers; resolves with the status line.
function pushRaw(port, fields) {
  const body = new URLSearchParams(fields).toString();
  const a = body.slice(0, 10);
  const b = body.slice(10);
  const req = `POST /httpapi/receiver HTTP/1.1\r\nhOsT: 127.0.0.1:${port}\r\n` +
    'user-agent: ServiceGateway/4.2\r\nX-Request-ID: 8d1f0c2e\r\nX-Forwarded-For: 10.0.0.7\r\n' +
    'CONTENT-TYPE: application/x-www-form-urlencoded;charset=UTF-8\r\n' +
    'transfer-encoding: chunked\r\naccept: */*\r\n\r\n' +
    `${a.length.toString(16)};site=bos\r\n${a}\r\n${b.length.toString(16).toUpperCase()}\r\n${b}\r\n0\r\n\r\n`;
  return new Promise((resolve) => {
    let got = '';
    const c = net.connect(port, '127.0.0.1', () => c.write(req));
    c.on('data', (d) => {
      got += d.toString();
      if (/\r\n\r\n/.test(got)) { c.destroy(); resolve(got.split('\r\n')[0]); }
    });
    c.on('error', () => resolve(got.split('\r\n')[0] || 'error'));
    c.setTimeout(10000, () => { c.destroy(); resolve('timeout'); });
  });
}

// A push whose body ends in a line break (as a sender writing the form as a
// text line does): Content-Length counts the CR LF. Resolves with the
// status line.
function pushLine(port, fields) {
  const body = `${new URLSearchParams(fields).toString()}\r\n`;
  return new Promise((resolve) => {
    let got = '';
    const c = net.connect(port, '127.0.0.1', () => c.write(`POST /httpapi/receiver HTTP/1.1\r\n` +
      `Host: 127.0.0.1:${port}\r\nContent-Type: application/x-www-form-urlencoded\r\n` +
      `Content-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`));
    c.on('data', (d) => { got += d.toString(); });
    c.on('end', () => resolve(got.split('\r\n')[0]));
    c.on('error', () => resolve(got.split('\r\n')[0] || 'error'));
    c.setTimeout(10000, () => { c.destroy(); resolve('timeout'); });
  });
}

// Raw bytes to the receiver (connection closed by the last request's
// Connection: close); resolves with every status line answered.
function rawPush(port, text) {
  return new Promise((resolve) => {
    let got = '';
    const c = net.connect(port, '127.0.0.1', () => c.write(text));
    c.on('data', (d) => { got += d.toString(); });
    // a status line follows the previous answer's body (no line break after it)
    const done = () => resolve(got.match(/HTTP\/1\.[01] \d{3}/g) || []);
    c.on('end', done);
    c.on('error', done);
    c.setTimeout(10000, () => { c.destroy(); done(); });
  });
}
const rawReq = (body, { ver = '1.1', path = '/httpapi/receiver', extra = '' } = {}) =>
  `POST ${path} HTTP/${ver}\r\nHost: smsmux\r\nContent-Type: application/x-www-form-urlencoded\r\n` +
  `Content-Length: ${Buffer.byteLength(body)}\r\n${extra}\r\n${body}`;
const formOf = (o) => new URLSearchParams(o).toString();

const dr = (mid, state) => ({ type: 'receipt', message_id: mid, message_state: String(STATES[state]),
  result_code: '0' });

// ---- checks on the pipe's stdout --------------------------------------------

function checkOutcomes(p, ids, name) {
  const out = p.outcomes();
  const one = ids.every((id) => out[id] && out[id].length === 1);
  t.ok(one, `${name}: every MT has exactly one outcome`,
    ids.filter((id) => !out[id] || out[id].length !== 1).map((id) => [id, out[id]]));
  const sub = ids.every((id) => out[id] && out[id][0].event === 'submitted');
  t.ok(sub, `${name}: every MT submitted`, ids.map((id) => out[id]).filter((o) => !o || o[0].event !== 'submitted'));
}

function drsOf(p, id) { return p.events.filter((e) => e.event === 'dr' && e.id === id); }

async function main() {
  const svcPort = await freePort();
  const rxPort = await freePort();
  const svc = service();
  await svc.listen(svcPort);
  const p = pipe(t, smx, ['--transport', 'http', '--http-url', `http://localhost:${svcPort}/httpapi/receiver`,
    '--http-receiver', `127.0.0.1:${rxPort}`, '--system-id', 'acme', '--password', 'pw']);
  // the receiver is up once a push is answered
  t.ok(await waitFor(() => p.exited === null, 100), 'smsmux pipe runs');
  const midOf = {};   // app id -> H1 message_id the service saw
  const appOf = {};
  svc.onMt = null;
  const origMode = (req, res, form, mid) => {
    const text = form.get('message');
    midOf[text] = mid;
    appOf[mid] = text;
    return svc.onMt ? svc.onMt(req, res, form, mid) : null;
  };
  svc.mode = (req, res, form, mid, accept) => {
    const r = origMode(req, res, form, mid);
    if (r && r.then) { r.then(() => { if (!res.writableEnded) { res.writeHead(200); res.end(accept()); } }); return 'handled'; }
    if (r === 'handled') return 'handled';
    if (typeof r === 'function') { r(accept); return 'handled'; }
    return null;
  };

  // 1. plain MTs, DRs after the answer; a DR before the answer
  const ids1 = [];
  for (let i = 0; i < 20; i++) { ids1.push(`p-${i}`); p.send({ id: `p-${i}`, from: '12345', to: '447700900001', text: `p-${i}` }); }
  t.ok(await waitFor(() => ids1.every((id) => p.outcomes()[id]), 20000), '1: outcomes for 20 MTs');
  checkOutcomes(p, ids1, '1');
  for (const id of ids1) await push(rxPort, dr(midOf[id], 'DELIVERED'));
  t.ok(await waitFor(() => ids1.every((id) => drsOf(p, id).length === 1), 10000), '1: each DR printed, correlated');
  const sub1 = p.outcomes()['p-3'][0];
  t.ok(sub1.message_id && sub1.message_id.toLowerCase() === midOf['p-3'].toLowerCase(),
    '1: submitted carries the H1 message_id', [sub1, midOf['p-3']]);

  svc.onMt = (req, res, form, mid) => (accept) => {
    // the DR (ACCEPTED) reaches the receiver and is answered 200 before the MT's answer
    push(rxPort, dr(mid, 'ACCEPTED')).then(() => sleep(100)).then(() => {
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      res.end(accept());
      push(rxPort, dr(mid, 'DELIVERED'));
    });
  };
  const ids1b = [];
  for (let i = 0; i < 10; i++) { ids1b.push(`e-${i}`); p.send({ id: `e-${i}`, from: '12345', to: '447700900002', text: `e-${i}` }); }
  t.ok(await waitFor(() => ids1b.every((id) => drsOf(p, id).length >= 2), 20000), '1: early DRs and late DRs printed');
  checkOutcomes(p, ids1b, '1 early DR');
  t.ok(ids1b.every((id) => drsOf(p, id).map((e) => e.state).sort().join() === 'ACCEPTED,DELIVERED'),
    '1: each MT has its ACCEPTED and DELIVERED DR once', ids1b.map((id) => drsOf(p, id)));

  // 2. slow answers, JSON body, extra headers
  svc.onMt = (req, res, form, mid) => {
    const n = Number(form.get('message').split('-')[1]);
    return (accept) => setTimeout(() => {
      const a = accept();
      if (n % 2) {
        res.writeHead(200, { 'content-type': 'application/json', 'X-Backend': 'bos-7', 'Cache-Control': 'no-store' });
        res.end(JSON.stringify({ status: 'queued', message_id: mid }));
      } else {
        res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' });
        res.end(a);
      }
    }, n % 3 === 0 ? 2000 : 1000);
  };
  const ids2 = [];
  for (let i = 0; i < 12; i++) { ids2.push(`s-${i}`); p.send({ id: `s-${i}`, from: '12345', to: '447700900003', text: `s-${i}` }); }
  t.ok(await waitFor(() => ids2.every((id) => p.outcomes()[id]), 20000), '2: outcomes for slow MTs');
  checkOutcomes(p, ids2, '2');

  // 2b. a service slow at every answer, past stall_ms (3 s): each request,
  // and each resend, answered 4.5 s after it came; the service took the
  // first, so a resend is answered duplicate (accepted)
  svc.onMt = (req, res) => (accept) => {
    const a = accept();
    setTimeout(() => { res.writeHead(200, { 'Content-Type': 'text/plain' }); res.end(a); }, 4500);
  };
  const ids2b = [];
  for (let i = 0; i < 5; i++) { ids2b.push(`w-${i}`); p.send({ id: `w-${i}`, from: '12345', to: '447700900007', text: `w-${i}` }); }
  t.ok(await waitFor(() => ids2b.every((id) => p.outcomes()[id]), 40000), '2b: outcomes for MTs answered in 4.5 s');
  checkOutcomes(p, ids2b, '2b');

  // 3. 503, then 429 with Retry-After, then normal
  const t3 = Date.now();
  let n503 = 0;
  let n429 = 0;
  svc.onMt = (req, res) => {
    const dt = Date.now() - t3;
    if (dt < 2500) { n503++; res.writeHead(503, { 'Retry-After': '1' }); res.end('maintenance\n'); return 'handled'; }
    if (dt < 5000) { n429++; res.writeHead(429, { 'Retry-After': '1' }); res.end('result_code=6\n'); return 'handled'; }
    return null;
  };
  const ids3 = [];
  for (let i = 0; i < 20; i++) { ids3.push(`t-${i}`); p.send({ id: `t-${i}`, from: '12345', to: '447700900004', text: `t-${i}` }); }
  t.ok(await waitFor(() => ids3.every((id) => p.outcomes()[id]), 40000), '3: outcomes for throttled MTs');
  checkOutcomes(p, ids3, '3');
  t.ok(n503 > 0 && n429 > 0, '3: the service answered 503 and 429', [n503, n429]);

  // 4. connections closed unexpectedly: after the answer (keep-alive timeout
  // of 1 ms, the next request races it) and before it (request destroyed)
  svc.server.keepAliveTimeout = 1;
  let cut = 0;
  svc.onMt = (req, res, form, mid) => {
    const n = Number(form.get('message').split('-')[1]);
    if (n % 3 === 0 && svc.byMid[mid] === 1) {
      // taken by the service, then the connection dies before the answer
      if (!svc.handset[mid]) svc.handset[mid] = 1;
      cut++;
      req.socket.destroy();
      return 'handled';
    }
    return null;
  };
  const ids4 = [];
  for (let i = 0; i < 30; i++) {
    ids4.push(`k-${i}`);
    p.send({ id: `k-${i}`, from: '12345', to: '447700900005', text: `k-${i}` });
    if (i % 5 === 4) await sleep(30);
  }
  t.ok(await waitFor(() => ids4.every((id) => p.outcomes()[id]), 40000), '4: outcomes with connections cut');
  checkOutcomes(p, ids4, '4');
  t.ok(cut === 10, '4: 10 requests cut before their answer', cut);
  svc.server.keepAliveTimeout = 5000;
  svc.onMt = null;

  // every MT so far delivered once at the service's handset
  const all = [...ids1, ...ids1b, ...ids2, ...ids2b, ...ids3, ...ids4];
  t.ok(all.every((id) => midOf[id] && svc.handset[midOf[id]] === 1), 'handset: each MT once',
    all.filter((id) => !midOf[id] || svc.handset[midOf[id]] !== 1));
  t.ok(svc.bad.length === 0, 'service: every MT request well formed', svc.bad);

  // 5. DR and MO pushed twice (first answer unread), odd HTTP
  await pushUnread(rxPort, dr(midOf['p-0'], 'ENROUTE'));
  await push(rxPort, dr(midOf['p-0'], 'ENROUTE'));
  const mo1 = { type: 'MO', message_id: 'mo-0001', shortcode: '12345', phone_number: '447700900009',
    carrier: 'vodafone', message: 'hello & good+bye é 😀' };
  await pushUnread(rxPort, mo1);
  await push(rxPort, mo1);
  await push(rxPort, mo1);
  t.ok(await waitFor(() => p.events.some((e) => e.event === 'mo' && e.text === mo1.message), 10000), '5: MO printed');
  const st1 = await pushRaw(rxPort, dr(midOf['p-1'], 'ENROUTE'));
  const st2 = await pushRaw(rxPort, { message: 'chunked mo', phone_number: '447700900010', type: 'MO',
    carrier: 'o2', shortcode: '12345', message_id: 'mo-0002' });
  t.ok(/^HTTP\/1\.[01] 200/.test(st1) && /^HTTP\/1\.[01] 200/.test(st2), '5: chunked odd-case pushes answered 200', [st1, st2]);
  const st3 = await push(rxPort, dr(midOf['p-2'], 'ENROUTE'), { expect: true, chunked: true,
    headers: { 'content-type': 'Application/X-WWW-Form-Urlencoded; Charset="utf-8"', 'X-Trace': 'a,b' } });
  t.ok(st3 === 200, '5: Expect: 100-continue push answered 200', st3);
  await push(rxPort, dr(midOf['p-2'], 'ENROUTE'));
  const st4 = await pushLine(rxPort, dr(midOf['p-3'], 'ENROUTE'));
  t.ok(/^HTTP\/1\.[01] 200/.test(st4), '5: push whose body ends in CR LF answered 200', st4);
  // two pushes pipelined on one connection, one over HTTP/1.0, one with a
  // query string on the path
  const pl = await rawPush(rxPort, rawReq(formOf(dr(midOf['p-4'], 'ENROUTE'))) +
    rawReq(formOf(dr(midOf['p-5'], 'ENROUTE')), { extra: 'Connection: close\r\n' }));
  const h10 = await rawPush(rxPort, rawReq(formOf(dr(midOf['p-6'], 'ENROUTE')), { ver: '1.0' }));
  const qs = await rawPush(rxPort, rawReq(formOf(dr(midOf['p-7'], 'ENROUTE')),
    { path: '/httpapi/receiver?site=bos&attempt=1', extra: 'Connection: close\r\n' }));
  // the request target in absolute form (as through a proxy; RFC 9112 3.2.2)
  const abs = await rawPush(rxPort, rawReq(formOf(dr(midOf['p-8'], 'ENROUTE')),
    { path: `http://127.0.0.1:${rxPort}/httpapi/receiver`, extra: 'Connection: close\r\n' }));
  t.ok(abs.length === 1 && / 200$/.test(abs[0]), '5: absolute-form target push answered 200', abs);
  // whitespace before the parameter and at the end of the content type
  const ows = await rawPush(rxPort, rawReq(formOf(dr(midOf['p-9'], 'ENROUTE')), { extra: 'Connection: close\r\n' })
    .replace('Content-Type: application/x-www-form-urlencoded\r\n',
      'Content-Type: application/x-www-form-urlencoded ; charset=UTF-8 \r\n'));
  t.ok(ows.length === 1 && / 200$/.test(ows[0]), '5: content type with OWS answered 200', ows);
  const is200 = (l) => / 200$/.test(l || '');
  t.ok(pl.length === 2 && pl.every(is200) && h10.length === 1 && is200(h10[0]) && qs.length === 1 && is200(qs[0]),
    '5: pipelined, HTTP/1.0 and query-string pushes answered 200', [pl, h10, qs]);
  t.ok(await waitFor(() => ['p-0', 'p-1', 'p-2', 'p-3', 'p-4', 'p-5', 'p-6', 'p-7', 'p-8', 'p-9'].every((id) => drsOf(p, id).some((e) => e.state === 'ENROUTE')) &&
    p.events.some((e) => e.event === 'mo' && e.text === 'chunked mo'), 10000), '5: pushed DRs and MO printed');
  await sleep(500);
  for (const id of ['p-0', 'p-1', 'p-2', 'p-3', 'p-4', 'p-5', 'p-6', 'p-7', 'p-8', 'p-9']) {
    t.ok(drsOf(p, id).filter((e) => e.state === 'ENROUTE').length === 1, `5: ENROUTE DR of ${id} once`, drsOf(p, id));
  }
  const mos = p.events.filter((e) => e.event === 'mo');
  t.ok(mos.filter((e) => e.text === mo1.message).length === 1, '5: MO pushed three times printed once', mos);
  const m1 = mos.find((e) => e.text === mo1.message);
  t.ok(m1 && m1.from === '447700900009' && m1.to === '12345' && m1.smsc === 'http', '5: MO fields', m1);
  t.ok(mos.filter((e) => e.text === 'chunked mo').length === 1, '5: chunked MO printed once', mos);

  // 5b. pushes from 4 source addresses at once over keep-alive connections:
  // 100 DRs and 100 MOs, each pushed twice from two addresses concurrently
  const ids5 = [];
  for (let i = 0; i < 100; i++) { ids5.push(`c-${i}`); p.send({ id: `c-${i}`, from: '12345', to: '447700900008', text: `c-${i}` }); }
  t.ok(await waitFor(() => ids5.every((id) => p.outcomes()[id]), 20000), '5b: outcomes for 100 MTs');
  const agents = [0, 1, 2, 3].map(() => new http.Agent({ keepAlive: true, maxSockets: 8 }));
  const from = (k) => ({ localAddress: `127.0.0.${k + 1}`, agent: agents[k] });
  const pushes = [];
  for (let i = 0; i < 100; i++) {
    const d = dr(midOf[`c-${i}`], 'DELIVERED');
    const mo = { type: 'MO', message_id: `mo-c-${i}`, shortcode: '12345', phone_number: '447700900011',
      carrier: 'ee', message: `burst ${i}` };
    pushes.push(push(rxPort, d, from(i % 4)), push(rxPort, d, from((i + 1) % 4)),
      push(rxPort, mo, from((i + 2) % 4)), push(rxPort, mo, from((i + 3) % 4)));
  }
  const sts = await Promise.all(pushes);
  for (const a of agents) a.destroy();
  t.ok(sts.every((x) => x === 200), '5b: 400 concurrent pushes answered 200', sts.filter((x) => x !== 200));
  await sleep(300);
  t.ok(ids5.every((id) => drsOf(p, id).length === 1), '5b: each DR printed once, correlated',
    ids5.filter((id) => drsOf(p, id).length !== 1));
  const burst = p.events.filter((e) => e.event === 'mo' && /^burst /.test(e.text));
  t.ok(burst.length === 100 && new Set(burst.map((e) => e.text)).size === 100, '5b: each MO printed once', burst.length);

  // 6. stdin EOF while answers are held 4.5 s (past stall_ms: each MT is
  // sent again, answered duplicate) and DRs are pushed before them (again
  // for the resend: the repeat is not printed)
  let held = 0;
  svc.onMt = (req, res, form, mid) => (accept) => {
    held++;
    push(rxPort, dr(mid, 'ACCEPTED')).then(() => sleep(4500)).then(() => {
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      res.end(accept());
      push(rxPort, dr(mid, 'DELIVERED'));
    });
  };
  const ids6 = [];
  for (let i = 0; i < 10; i++) { ids6.push(`d-${i}`); p.send({ id: `d-${i}`, from: '12345', to: '447700900006', text: `d-${i}` }); }
  await waitFor(() => held >= 10, 10000);
  const code = await p.close();
  t.ok(code === 0, 'drain: pipe exits 0', [code, p.err.slice(-2000)]);
  checkOutcomes(p, ids6, '6');
  t.ok(ids6.every((id) => svc.handset[midOf[id]] === 1 && svc.byMid[midOf[id]] >= 2),
    '6: each MT sent again after the stall and delivered once', ids6.map((id) => [svc.byMid[midOf[id]], svc.handset[midOf[id]]]));
  t.ok(ids6.every((id) => drsOf(p, id).filter((e) => e.state === 'ACCEPTED').length === 1),
    '6: each early ACCEPTED DR printed once, correlated', ids6.map((id) => drsOf(p, id)));
  const dup = {};
  for (const e of p.events.filter((x) => x.event === 'dr')) {
    const k = `${e.id}/${e.state}`;
    dup[k] = (dup[k] || 0) + 1;
  }
  t.ok(Object.values(dup).every((v) => v === 1), 'no DR printed twice', Object.entries(dup).filter(([, v]) => v > 1));
  t.ok(!p.events.some((e) => e.event === 'dr' && e.id === null), 'every DR correlated',
    p.events.filter((e) => e.event === 'dr' && e.id === null));
  t.ok(!p.events.some((e) => e.bad), 'stdout: every line JSON', p.events.filter((e) => e.bad));
  svc.close();

  // 7. strategy B (two URLs, pause 1 s) and both sites slow at every
  // answer, past stall_ms: each request answered 4.5 s after it came, the
  // service deduplicating message_ids across its sites as one service does
  const slowA = service();
  const slowB = service();
  slowB.handset = slowA.handset;   // one service behind both URLs
  const portA = await freePort();
  const portB = await freePort();
  await slowA.listen(portA);
  await slowB.listen(portB);
  for (const s of [slowA, slowB]) {
    s.mode = (req, res, form, mid, accept) => {
      const a = accept();
      setTimeout(() => { if (!res.destroyed) { res.writeHead(200, { 'Content-Type': 'text/plain' }); res.end(a); } }, 4500);
      return 'handled';
    };
  }
  const rx7 = await freePort();
  const p7 = pipe(t, smx, ['--transport', 'http', '--http-url', `http://127.0.0.1:${portA}/httpapi/receiver`,
    '--http-url', `http://127.0.0.1:${portB}/httpapi/receiver`, '--http-resubmit-pause', '1',
    '--http-receiver', `127.0.0.1:${rx7}`, '--system-id', 'acme', '--password', 'pw']);
  const ids7 = [];
  for (let i = 0; i < 5; i++) { ids7.push(`b-${i}`); p7.send({ id: `b-${i}`, from: '12345', to: '447700900008', text: `b-${i}` }); }
  t.ok(await waitFor(() => ids7.every((id) => p7.outcomes()[id]), 60000), '7: outcomes for MTs answered in 4.5 s at both sites');
  const out7 = p7.outcomes();
  t.ok(ids7.every((id) => out7[id] && out7[id].length === 1 && out7[id][0].event === 'submitted'),
    '7: strategy B, both sites slow: every MT submitted once, not failed after max_attempts stalls',
    ids7.map((id) => out7[id]));
  const mids7 = Object.keys(slowA.textOf).concat(Object.keys(slowB.textOf));
  t.ok(new Set(mids7).size === 5 && [...new Set(mids7)].every((m) => slowA.handset[m] === 1),
    '7: each MT delivered once', [mids7, slowA.handset]);
  t.ok(await p7.close() === 0, '7: pipe exits 0', p7.err.slice(-2000));
  slowA.close();
  slowB.close();
}

t.run(main, 170000);
