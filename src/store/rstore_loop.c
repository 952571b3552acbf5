/* The store thread (rstore.h). One turn:
 *   1. take what the workers queued: correlation writes into the byte FIFO
 *      (bounded by buffer_bytes; past it counted and dropped), DRs/MOs into
 *      the in-queue (while it and the worker's reply ring have room);
 *   2. connected: one pipelined batch - XACK+XDEL of the events the
 *      application released, the correlation writes, one script per
 *      DR/MO, XREADGROUP of our stream (and of silent instances' streams,
 *      plus XAUTOCLAIM of their pending entries), and once a second the
 *      heartbeat, the park and MO-group sweeps and the instance scan; then
 *      the replies in order. A write or DR leaves its queue only when its
 *      reply came, so a connection lost mid-batch replays it (each script
 *      is idempotent: a replayed DR/MO finds its dedup key and is answered
 *      ROK; its first run already queued the event);
 *   3. not connected: reconnect with backoff (100 ms doubling to 2 s); a
 *      DR/MO waiting past hold_ms is answered ESME_RX_T_APPN (the SMSC
 *      re-sends); once Redis has been unreachable for local_after_ms, DRs
 *      are delivered uncorrelated and MOs as received on this instance
 *      (counted local_fallback) rather than refused for ever;
 *   4. nothing to do: sleep on the eventfd up to 2 ms.
 * At stop: a last bounded attempt (2 s) to write buffered correlations and
 * acknowledge released events. */
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log/log.h"
#include "pdu/smpp_defs.h"
#include "store/rstore_int.h"

#define CORR_BATCH 16384u       /* every buffered write goes before the DRs queued after it */
#define IN_BATCH 4096u
#define READ_MAX 512u
#define EV_RESERVE 64u          /* ring records kept for local events */
#define IDLE_MS 2

/* ---- events and acks ---- */

static struct smx_ev_rec *ev_reserve(struct smx_rstore *rs)
{
        return event_ring_reserve_w(rs->ring);
}

static void ev_commit(struct smx_rstore *rs, uint16_t stream, const char *id)
{
        struct rs_ack *a = &rs->ackv[rs->ev_pos & (rs->ring_cap - 1)];
        a->stream = stream;
        if (id)
                snprintf(a->id, sizeof a->id, "%s", id);
        event_ring_commit_w(rs->ring);
        rs->ev_pos++;
        RS_INC(rs, events);
}

/* ---- 3. offline ---- */

static int offline(struct smx_rstore *rs, uint64_t now)
{
        int work = 0;
        unsigned woken = 0;
        int local = rs->down_since_ms && now - rs->down_since_ms >= rs->cfg.local_after_ms;
        while (rs->in_head != rs->in_tail) {
                struct rs_in_req *r = &rs->inq[rs->in_head % RS_INQ];
                if (local) {
                        struct smx_ev_rec *e = event_ring_space_w(rs->ring) > 1 ? ev_reserve(rs)
                                                                               : NULL;
                        if (!e)
                                break;
                        rs_local_event(rs, r, e);
                        ev_commit(rs, RS_NO_STREAM, NULL);
                        RS_INC(rs, local_fallback);
                        rs_in_answer(rs, SMPP_ESME_ROK, &woken);
                } else if (now - r->t0_ms >= rs->cfg.hold_ms) {
                        RS_INC(rs, in_retry_later);
                        rs_in_answer(rs, SMPP_ESME_RX_T_APPN, &woken);
                } else {
                        break;
                }
                work = 1;
        }
        rs_wake_workers(rs, woken);
        if (work)
                rs->host.wake_app(rs->host.ctx);
        return work;
}

/* ---- 2. the batch ---- */

enum cmd_kind {
        K_ACK = 1, K_DEL, K_CORR_SET, K_CORR_CHECK, K_CORR_SCRIPT, K_IN, K_READ, K_CLAIM, K_HB,
        K_PARK_SWEEP, K_GROUP_SWEEP, K_SCAN,
};

struct cmd {
        uint8_t kind;
        uint16_t stream;
        uint32_t n;             /* K_ACK/K_DEL: ids; K_CORR/K_IN: 1 */
};

struct batch {
        struct cmd *cmd;
        unsigned n, cap;
        uint32_t read_budget;
};

static int add_cmd(struct smx_rstore *rs, struct batch *b, uint8_t kind, uint16_t stream,
                   uint32_t n, int argc, const char **argv, const size_t *argvlen)
{
        if (b->n == b->cap)
                return -1;
        if (redisAppendCommandArgv(rs->rc, argc, argv, argvlen) != REDIS_OK)
                return -1;
        b->cmd[b->n++] = (struct cmd){ kind, stream, n };
        return 0;
}

/* XACK + XDEL of released records (and of malformed entries), grouped by
 * stream, up to 256 ids a command. */
static int ack_ids(struct smx_rstore *rs, struct batch *b, uint16_t s, const char **ids,
                   size_t *idl, int n)
{
        static _Thread_local const char *argv[3 + 256];
        static _Thread_local size_t lens[3 + 256];
        memcpy(argv + 3, ids, (size_t)n * sizeof *ids);
        memcpy(lens + 3, idl, (size_t)n * sizeof *idl);
        argv[0] = "XACK";
        argv[1] = rs->streams[s].key;
        argv[2] = "g";
        lens[0] = 4;
        lens[1] = strlen(argv[1]);
        lens[2] = 1;
        if (add_cmd(rs, b, K_ACK, s, (uint32_t)n, 3 + n, argv, lens) < 0)
                return -1;
        argv[1] = "XDEL";
        argv[2] = rs->streams[s].key;
        lens[1] = 4;
        lens[2] = strlen(argv[2]);
        return add_cmd(rs, b, K_DEL, s, (uint32_t)n, 2 + n, argv + 1, lens + 1);
}

static void batch_acks(struct smx_rstore *rs, struct batch *b)
{
        static _Thread_local const char *ids[256];
        static _Thread_local size_t idl[256];
        for (unsigned i = 0; i < rs->n_bad; i++) {
                ids[0] = rs->bad[i].id;
                idl[0] = strlen(rs->bad[i].id);
                if (ack_ids(rs, b, rs->bad[i].stream, ids, idl, 1) < 0)
                        return;
        }
        rs->n_bad = 0;
        uint32_t head = rs->ev_pos - (rs->ring_cap - event_ring_space_w(rs->ring));
        while (rs->ack_pos != head) {
                struct rs_ack *a0 = &rs->ackv[rs->ack_pos & (rs->ring_cap - 1)];
                if (a0->stream == RS_NO_STREAM) {
                        rs->ack_pos++;
                        continue;
                }
                uint16_t s = a0->stream;
                int n = 0;
                uint32_t p = rs->ack_pos;
                while (p != head && n < 256) {
                        struct rs_ack *a = &rs->ackv[p & (rs->ring_cap - 1)];
                        if (a->stream != s)
                                break;
                        ids[n] = a->id;
                        idl[n] = strlen(a->id);
                        n++;
                        p++;
                }
                if (ack_ids(rs, b, s, ids, idl, n) < 0)
                        return;
                rs->ack_pos = p;
        }
}

/* ARGV 1-4 of every script: cluster, now, TTL, instance. */
struct common {
        char now[24], ttl[16];
};

/* The correlation value: owner, part, parts, the MT's merge-record name
 * (multipart only), app id. */
static int corr_value(struct smx_rstore *rs, const struct rs_corr_req *r, char *val, size_t cap)
{
        char mt[33] = "";
        if (r->n_parts > 1) {
                struct smx_key128 mk = smx_hash128(r->app, r->app_len, 0x6d74);
                rs_tag(&mk, mt);
        }
        int vl = snprintf(val, cap, "%s\x1f%u\x1f%u\x1f%s\x1f", rs->instance, r->part,
                          r->n_parts, mt);
        memcpy(val + vl, r->app, r->app_len);
        return vl + r->app_len;
}

/* A correlation write is SET (the value) and EXISTS (the park list), two
 * plain commands: Redis runs each atomically and in order, so a DR that
 * parked before the SET is seen by the EXISTS, and one that comes after it
 * finds the correlation (the DR script checks before it parks). Only when
 * DRs are parked does the write run the script that routes them
 * (K_CORR_SCRIPT, from rs->late). */
static int batch_corr(struct smx_rstore *rs, struct batch *b, const struct common *cm)
{
        uint32_t n = 0;
        char h[33], k1[RS_NAME_MAX + 48], k2[RS_NAME_MAX + 48];
        char val[RS_NAME_MAX + SMX_ID_MAX + 64];
        for (unsigned i = 0; i < rs->n_late; i++) {
                const struct rs_corr_req *r = &rs->late[i];
                rs_tag(&r->key, h);
                snprintf(k1, sizeof k1, "smsmux:{%s:%s}:c", rs->cluster, h);
                snprintf(k2, sizeof k2, "smsmux:{%s:%s}:p", rs->cluster, h);
                int vl = corr_value(rs, r, val, sizeof val);
                const char *argv[] = { "EVALSHA", rs->sha[RS_LUA_CORR], "2", k1, k2,
                                       rs->cluster, cm->now, cm->ttl, rs->instance, val, h };
                size_t lens[11];
                for (int j = 0; j < 11; j++)
                        lens[j] = j == 9 ? (size_t)vl : strlen(argv[j]);
                if (add_cmd(rs, b, K_CORR_SCRIPT, 0, 1, 11, argv, lens) < 0)
                        return (int)n;
                n++;
        }
        size_t off = rs->f_head;
        for (size_t i = 0; i < rs->f_n && i < CORR_BATCH; i++) {
                struct rs_corr_req r;
                size_t skipped;
                off += rs_fifo_at(rs, &off, &r, &skipped);
                rs_tag(&r.key, h);
                snprintf(k1, sizeof k1, "smsmux:{%s:%s}:c", rs->cluster, h);
                snprintf(k2, sizeof k2, "smsmux:{%s:%s}:p", rs->cluster, h);
                int vl = corr_value(rs, &r, val, sizeof val);
                const char *sv[] = { "SET", k1, val, "PX", cm->ttl };
                size_t sl[5] = { 3, strlen(k1), (size_t)vl, 2, strlen(cm->ttl) };
                const char *ev[] = { "EXISTS", k2 };
                size_t el[2] = { 6, strlen(k2) };
                if (b->n + 2 > b->cap || add_cmd(rs, b, K_CORR_SET, 0, 1, 5, sv, sl) < 0 ||
                    add_cmd(rs, b, K_CORR_CHECK, 0, 1, 2, ev, el) < 0)
                        break;
                n++;
        }
        return (int)n;
}

static int batch_in(struct smx_rstore *rs, struct batch *b, const struct common *cm)
{
        struct rs_buf *pl = &rs->pl, *hd = &rs->hd;
        char window[16], park[16], reasm[16];
        snprintf(window, sizeof window, "%u", rs->cfg.dedup_window_ms);
        snprintf(park, sizeof park, "%u", rs->cfg.park_timeout_ms);
        snprintf(reasm, sizeof reasm, "%u", rs->cfg.reasm_timeout_ms);
        uint32_t n = 0;
        for (uint32_t i = rs->in_head; i != rs->in_tail && n < IN_BATCH; i++, n++) {
                struct rs_in_req *r = &rs->inq[i % RS_INQ];
                char h[33], id[33], k1[RS_NAME_MAX + 120], k2[RS_NAME_MAX + 80],
                     k3[RS_NAME_MAX + 80], st[8], seq[8], tot[8];
                rs_tag(&r->key, h);
                rs_tag(&r->ident, id);
                pl->len = 0;
                int rc;
                if (r->kind == RS_IN_DR) {
                        rs_payload_dr(rs, r, pl);
                        snprintf(st, sizeof st, "%u", r->state);
                        snprintf(k1, sizeof k1, "smsmux:{%s:%s}:d%u", rs->cluster, h, r->state);
                        snprintf(k2, sizeof k2, "smsmux:{%s:%s}:c", rs->cluster, h);
                        snprintf(k3, sizeof k3, "smsmux:{%s:%s}:p", rs->cluster, h);
                        const char *argv[] = { "EVALSHA", rs->sha[RS_LUA_DR], "3", k1, k2, k3,
                                               rs->cluster, cm->now, cm->ttl, rs->instance,
                                               st, pl->p, h, window, park };
                        size_t lens[15];
                        for (int j = 0; j < 15; j++)
                                lens[j] = j == 11 ? pl->len : strlen(argv[j]);
                        rc = add_cmd(rs, b, K_IN, 0, 1, 15, argv, lens);
                } else if (r->kind == RS_IN_MO_ONE) {
                        rs_payload_mo(rs, r, pl);
                        snprintf(k1, sizeof k1, "smsmux:{%s:o:%s}", rs->cluster, id);
                        const char *argv[] = { "EVALSHA", rs->sha[RS_LUA_MO_ONE], "1", k1,
                                               rs->cluster, cm->now, cm->ttl, rs->instance,
                                               pl->p, window };
                        size_t lens[10];
                        for (int j = 0; j < 10; j++)
                                lens[j] = j == 8 ? pl->len : strlen(argv[j]);
                        rc = add_cmd(rs, b, K_IN, 0, 1, 10, argv, lens);
                } else {
                        hd->len = 0;
                        rs_header_group(rs, r, hd);
                        snprintf(k1, sizeof k1, "smsmux:{%s:g:%s}:d:%s", rs->cluster, h, id);
                        snprintf(k2, sizeof k2, "smsmux:{%s:g:%s}:g", rs->cluster, h);
                        snprintf(seq, sizeof seq, "%u", r->seq);
                        snprintf(tot, sizeof tot, "%u", r->total);
                        const char *argv[] = { "EVALSHA", rs->sha[RS_LUA_MO_PART], "2", k1, k2,
                                               rs->cluster, cm->now, cm->ttl, rs->instance,
                                               seq, r->data ? (const char *)r->data : "", tot,
                                               hd->p, h, window, reasm };
                        size_t lens[16];
                        for (int j = 0; j < 16; j++)
                                lens[j] = j == 10 ? r->len : j == 12 ? hd->len : strlen(argv[j]);
                        rc = add_cmd(rs, b, K_IN, 0, 1, 16, argv, lens);
                }
                if (rc < 0)
                        break;
        }
        return (int)n;
}

static void batch_reads(struct smx_rstore *rs, struct batch *b)
{
        uint32_t space = event_ring_space_w(rs->ring);
        b->read_budget = space > EV_RESERVE ? space - EV_RESERVE : 0;
        uint32_t budget = b->read_budget;
        char count[16], idle[16];
        for (unsigned s = 0; s < rs->n_streams && budget > 0; s++) {
                struct rs_stream *st = &rs->streams[s];
                if (s > 0 && !st->dead)
                        continue;
                uint32_t want = budget < READ_MAX ? budget : READ_MAX;
                snprintf(count, sizeof count, "%u", want);
                if (s > 0) {
                        /* a silent instance's entries: its pending ones idle past
                         * the takeover time, then the ones nobody read yet */
                        snprintf(idle, sizeof idle, "%u", rs->cfg.owner_takeover_ms);
                        const char *cv[] = { "XAUTOCLAIM", st->key, "g", rs->instance, idle, "0-0",
                                             "COUNT", count };
                        size_t cl[8];
                        for (int j = 0; j < 8; j++)
                                cl[j] = strlen(cv[j]);
                        if (add_cmd(rs, b, K_CLAIM, (uint16_t)s, 0, 8, cv, cl) < 0)
                                return;
                        budget -= want;
                        if (budget == 0)
                                break;
                        want = budget < READ_MAX ? budget : READ_MAX;
                        snprintf(count, sizeof count, "%u", want);
                }
                const char *from = s == 0 && rs->own_from[0] ? rs->own_from : ">";
                const char *argv[] = { "XREADGROUP", "GROUP", "g", rs->instance, "COUNT", count,
                                       "STREAMS", st->key, from };
                size_t lens[9];
                for (int j = 0; j < 9; j++)
                        lens[j] = strlen(argv[j]);
                if (add_cmd(rs, b, K_READ, (uint16_t)s, 0, 9, argv, lens) < 0)
                        return;
                budget -= want;
        }
}

static void batch_periodic(struct smx_rstore *rs, struct batch *b, const struct common *cm,
                           uint64_t now)
{
        if (now < rs->next_hb_ms)
                return;
        rs->next_hb_ms = now + 1000;
        char ikey[RS_NAME_MAX + 24], lim[8] = "64";
        snprintf(ikey, sizeof ikey, "smsmux:{%s}:inst", rs->cluster);
        const char *hb[] = { "HSET", ikey, rs->instance, cm->now };
        size_t hl[4] = { 4, strlen(ikey), strlen(rs->instance), strlen(cm->now) };
        add_cmd(rs, b, K_HB, 0, 0, 4, hb, hl);
        const char *ps[] = { "EVALSHA", rs->sha[RS_LUA_PARK_SWEEP], "0", rs->cluster, cm->now,
                             cm->ttl, rs->instance, lim };
        size_t pl[8];
        for (int j = 0; j < 8; j++)
                pl[j] = strlen(ps[j]);
        add_cmd(rs, b, K_PARK_SWEEP, 0, 0, 8, ps, pl);
        ps[1] = rs->sha[RS_LUA_GROUP_SWEEP];
        add_cmd(rs, b, K_GROUP_SWEEP, 0, 0, 8, ps, pl);
        const char *sc[] = { "HGETALL", ikey };
        size_t sl[2] = { 7, strlen(ikey) };
        add_cmd(rs, b, K_SCAN, 0, 0, 2, sc, sl);
}

/* ---- replies ---- */

/* The instance list: silent ones (heartbeat older than the takeover time)
 * are read and claimed from; ones that came back are left alone. */
static void on_scan(struct smx_rstore *rs, const redisReply *r, uint64_t now)
{
        if (r->type != REDIS_REPLY_ARRAY)
                return;
        for (size_t i = 0; i + 1 < r->elements; i += 2) {
                const redisReply *nm = r->element[i], *hb = r->element[i + 1];
                if (nm->type != REDIS_REPLY_STRING || hb->type != REDIS_REPLY_STRING ||
                    nm->len > RS_NAME_MAX || !strcmp(nm->str, rs->instance))
                        continue;
                uint64_t t = strtoull(hb->str, NULL, 10);
                int dead = t + rs->cfg.owner_takeover_ms < now;
                unsigned s;
                for (s = 1; s < rs->n_streams; s++)
                        if (!strcmp(rs->streams[s].name, nm->str))
                                break;
                if (s == rs->n_streams) {
                        if (!dead || s == RS_STREAMS_MAX)
                                continue;
                        struct rs_stream *st = &rs->streams[s];
                        snprintf(st->name, sizeof st->name, "%s", nm->str);
                        snprintf(st->key, sizeof st->key, "smsmux:{%s}:s:%s", rs->cluster, nm->str);
                        rs->n_streams++;
                }
                if (rs->streams[s].dead != dead)
                        smx_logf(SMX_LOG_WARN, NULL, NULL, dead
                                 ? "store: instance %s silent for %u ms: taking over its DRs/MOs"
                                 : "store: instance %s is back", nm->str,
                                 rs->cfg.owner_takeover_ms);
                rs->streams[s].dead = (uint8_t)dead;
        }
}

/* Entries [[id, [field, value, ...]], ...] into the ring. */
static int on_entries(struct smx_rstore *rs, uint16_t s, const redisReply *ents)
{
        int n = 0;
        if (!ents || ents->type != REDIS_REPLY_ARRAY)
                return 0;
        for (size_t i = 0; i < ents->elements; i++) {
                const redisReply *en = ents->element[i];
                if (en->type != REDIS_REPLY_ARRAY || en->elements < 2 ||
                    en->element[0]->type != REDIS_REPLY_STRING)
                        continue;
                const char *id = en->element[0]->str;
                struct smx_ev_rec *e = ev_reserve(rs);
                if (!e)
                        break;          /* cannot happen: reads are within the ring's room */
                if (rs_entry_to_event(rs, en->element[1], e)) {
                        ev_commit(rs, s, id);
                        if (s > 0)
                                RS_INC(rs, taken_over);
                } else if (rs->n_bad < RS_BAD_MAX) {
                        /* malformed: acknowledged without an event */
                        rs->bad[rs->n_bad].stream = s;
                        snprintf(rs->bad[rs->n_bad].id, sizeof rs->bad[0].id, "%s", id);
                        rs->n_bad++;
                }
                if (s == 0)
                        snprintf(rs->own_last, sizeof rs->own_last, "%s", id);
                n++;
        }
        return n;
}

static int on_read(struct smx_rstore *rs, uint16_t s, const redisReply *r)
{
        int n = 0;
        if (r->type == REDIS_REPLY_ARRAY && r->elements >= 1) {
                const redisReply *st = r->element[0];
                if (st->type == REDIS_REPLY_ARRAY && st->elements == 2)
                        n = on_entries(rs, s, st->element[1]);
        }
        if (s == 0 && rs->own_from[0]) {
                /* reading our pending entries: go on after the last one, and
                 * switch to new entries when there are none left */
                if (n == 0) {
                        rs->own_from[0] = 0;
                        rs->own_history_done = 1;
                } else {
                        snprintf(rs->own_from, sizeof rs->own_from, "%s", rs->own_last);
                }
        }
        return n;
}

static void rtt_note(struct smx_rstore *rs, uint64_t us)
{
        static const uint64_t le[7] = { 100, 250, 500, 1000, 2500, 10000, 100000 };
        unsigned i = 0;
        while (i < 7 && us > le[i])
                i++;
        RS_INC(rs, rtt_bucket[i]);
        RS_SET(rs, rtt_last_us, us);
        if (us > atomic_load_explicit(&rs->c.rtt_max_us, memory_order_relaxed))
                RS_SET(rs, rtt_max_us, us);
}

static uint64_t mono_us(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* The late list after a batch: the first `done` ran their script (gone),
 * `added` new ones were appended after the old ones. */
static void late_settle(struct smx_rstore *rs, unsigned done, unsigned added)
{
        unsigned total = rs->n_late + added;
        if (done)
                memmove(rs->late, rs->late + done, (total - done) * sizeof *rs->late);
        rs->n_late = total - done;
}

/* The next reply of the batch. While it is not in yet, the workers' rings
 * are drained into the FIFO and in-queue (so a slow Redis never makes them
 * overflow); no reply within timeout_ms: -1 (the caller disconnects). */
static int get_reply(struct smx_rstore *rs, redisReply **out, uint64_t now)
{
        void *r = NULL;
        uint64_t limit = mono_us() + (uint64_t)rs->cfg.timeout_ms * 1000u;
        for (;;) {
                if (redisGetReplyFromReader(rs->rc, &r) != REDIS_OK)
                        return -1;
                if (r) {
                        *out = r;
                        return 0;
                }
                uint64_t t = mono_us();
                if (t >= limit)
                        return -1;
                struct pollfd p = { rs->rc->fd, POLLIN, 0 };
                int rc = poll(&p, 1, 1);        /* 1 ms at a time, draining between */
                if (rc == 0) {
                        rs_drain_workers(rs, now);
                        continue;
                }
                if (rc < 0)
                        continue;
                if (redisBufferRead(rs->rc) != REDIS_OK)
                        return -1;
        }
}

static int run_batch(struct smx_rstore *rs, uint64_t now, int final)
{
        static _Thread_local struct cmd cmds[65536];
        struct batch b = { .cmd = cmds, .n = 0, .cap = sizeof cmds / sizeof cmds[0], .read_budget = 0 };
        struct common cm;
        snprintf(cm.now, sizeof cm.now, "%llu", (unsigned long long)now);
        snprintf(cm.ttl, sizeof cm.ttl, "%u", rs->cfg.corr_ttl_ms);
        batch_acks(rs, &b);
        int n_corr = batch_corr(rs, &b, &cm);
        int n_in = final ? 0 : batch_in(rs, &b, &cm);
        if (!final) {
                batch_reads(rs, &b);
                batch_periodic(rs, &b, &cm, now);
        }
        if (b.n == 0)
                return 0;
        int done = 0;
        while (!done)
                if (redisBufferWrite(rs->rc, &done) != REDIS_OK) {
                        rs_disconnect(rs, rs->rc->errstr[0] ? rs->rc->errstr : "write", now);
                        return 1;
                }
        uint64_t t0 = mono_us();
        int got = 0;
        unsigned woken = 0, late_done = 0, late_new = 0;
        for (unsigned i = 0; i < b.n; i++) {
                redisReply *r = NULL;
                if (get_reply(rs, &r, now) != 0) {
                        /* what has no reply yet stays queued and is replayed */
                        late_settle(rs, late_done, late_new);
                        rs_disconnect(rs, rs->rc->errstr[0] ? rs->rc->errstr : "no reply", now);
                        rs_wake_workers(rs, woken);
                        return 1;
                }
                struct cmd *c = &b.cmd[i];
                int err = r->type == REDIS_REPLY_ERROR;
                if ((i & 255) == 255)
                        rs_drain_workers(rs, now);  /* keep the workers' rings from filling */
                if (err && r->str && !strncmp(r->str, "NOSCRIPT", 8)) {
                        /* the server lost its scripts (restarted): reconnect loads them */
                        freeReplyObject(r);
                        late_settle(rs, late_done, late_new);
                        rs_disconnect(rs, "scripts missing", now);
                        rs_wake_workers(rs, woken);
                        return 1;
                }
                switch (c->kind) {
                case K_CORR_SCRIPT:
                        if (err)
                                smx_logf(SMX_LOG_WARN, NULL, NULL, "store: correlation write: %s",
                                         r->str);
                        else if (r->type == REDIS_REPLY_INTEGER && r->integer > 0)
                                RS_ADD(rs, drs_routed, (uint64_t)r->integer);
                        late_done++;
                        break;
                case K_CORR_SET:
                        if (err) {
                                smx_logf(SMX_LOG_WARN, NULL, NULL, "store: correlation write: %s",
                                         r->str);
                                RS_INC(rs, corr_dropped);
                        } else {
                                RS_INC(rs, corr_writes);
                        }
                        break;
                case K_CORR_CHECK:
                        if (!err && r->type == REDIS_REPLY_INTEGER && r->integer > 0) {
                                /* DRs are parked for it: the script routes them */
                                struct rs_corr_req cr;
                                size_t off = rs->f_head, skipped;
                                rs_fifo_at(rs, &off, &cr, &skipped);
                                if (rs->n_late + late_new < RS_LATE_MAX)
                                        rs->late[rs->n_late + late_new++] = cr;
                                else
                                        rs_fifo_put(rs, &cr);      /* written again, then routed */
                        }
                        rs_fifo_pop(rs);
                        break;
                case K_IN: {
                        struct rs_in_req *q = &rs->inq[rs->in_head % RS_INQ];
                        uint32_t status = SMPP_ESME_ROK;
                        if (err) {
                                smx_logf(SMX_LOG_WARN, NULL, NULL, "store: DR/MO script: %s",
                                         r->str);
                                status = SMPP_ESME_RX_T_APPN;
                        } else if (r->type == REDIS_REPLY_INTEGER) {
                                long long v = r->integer;
                                if (v == 0 || v == 3)
                                        RS_INC(rs, duplicates);
                                else if (q->kind == RS_IN_DR)
                                        v == 2 ? RS_INC(rs, parked) : RS_INC(rs, drs_routed);
                                else if (v == 1)
                                        RS_INC(rs, mos);
                        }
                        rs_in_answer(rs, status, &woken);
                        break;
                }
                case K_READ:
                        if (!err) {
                                got += on_read(rs, c->stream, r);
                        } else if (r->str && !strncmp(r->str, "NOGROUP", 7) && c->stream > 0) {
                                rs->streams[c->stream].dead = 0;        /* never started */
                        }
                        break;
                case K_CLAIM:
                        if (!err && r->type == REDIS_REPLY_ARRAY && r->elements >= 2)
                                got += on_entries(rs, c->stream, r->element[1]);
                        break;
                case K_SCAN:
                        if (!err)
                                on_scan(rs, r, rs_now_ms());
                        break;
                case K_ACK:
                        if (!err && r->type == REDIS_REPLY_INTEGER)
                                RS_ADD(rs, acks, (uint64_t)r->integer);
                        break;
                default:
                        break;
                }
                freeReplyObject(r);
        }
        late_settle(rs, late_done, late_new);
        RS_INC(rs, round_trips);
        RS_ADD(rs, commands, b.n);
        rtt_note(rs, mono_us() - t0);
        rs_wake_workers(rs, woken);
        return n_corr > 0 || n_in > 0 || got > 0;
}

static void idle_wait(struct smx_rstore *rs)
{
        atomic_store(&rs->sleeping, 1);
        for (unsigned k = 0; k < rs->host.n_workers; k++)
                if (spsc_count(&rs->wq[k].in) || spsc_count(&rs->wq[k].corr)) {
                        atomic_store(&rs->sleeping, 0);
                        return;
                }
        struct pollfd p = { rs->efd, POLLIN, 0 };
        if (poll(&p, 1, IDLE_MS) > 0) {
                uint64_t v;
                ssize_t n = read(rs->efd, &v, sizeof v);
                (void)n;
        }
        atomic_store(&rs->sleeping, 0);
}

void *rs_main(void *arg)
{
        struct smx_rstore *rs = arg;
        /* hiredis writes with write(2): a write to a connection Redis closed
         * must fail with EPIPE, not kill the application with SIGPIPE. The
         * signal is thread-directed, so blocking it here is enough. */
        sigset_t pipe_set;
        sigemptyset(&pipe_set);
        sigaddset(&pipe_set, SIGPIPE);
        pthread_sigmask(SIG_BLOCK, &pipe_set, NULL);
        uint32_t last_events = 0;
        while (!atomic_load_explicit(&rs->stop, memory_order_acquire)) {
                uint64_t now = rs_now_ms();
                int work = rs_drain_workers(rs, now);
                if (!rs->rc && now >= rs->next_connect_ms)
                        rs_connect(rs, now);
                if (rs->rc) {
                        work |= run_batch(rs, now, 0);
                } else {
                        work |= offline(rs, now);
                }
                if (rs->ev_pos != last_events) {
                        last_events = rs->ev_pos;
                        rs->host.wake_app(rs->host.ctx);
                }
                if (!work)
                        idle_wait(rs);
        }
        /* stop: the buffered correlations and the acks, for up to 2 s */
        uint64_t limit = rs_now_ms() + 2000;
        for (;;) {
                uint64_t now = rs_now_ms();
                rs_drain_workers(rs, now);
                if (now >= limit)
                        break;
                if (!rs->rc) {
                        if (now >= rs->next_connect_ms)
                                rs_connect(rs, now);
                        if (!rs->rc) {
                                struct timespec ts = { 0, 20 * 1000000L };
                                nanosleep(&ts, NULL);
                                continue;
                        }
                }
                run_batch(rs, now, 1);
                if (rs->rc && rs->f_n == 0)
                        break;
        }
        if (rs->f_n)
                smx_logf(SMX_LOG_WARN, NULL, NULL, "store: %zu correlation writes not written "
                         "at stop (their DRs will arrive uncorrelated)", rs->f_n);
        return NULL;
}
