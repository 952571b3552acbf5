/* Building the pipelined batch of one store-thread turn (rstore_batch.h):
 * XACK of released events (and now and then a trim of their stream), the
 * correlation writes (SET NX GET, or the routing script when DRs are
 * parked), the DR scripts (up to RS_DR_GROUP DRs a call) and one script
 * per MO, the stream reads (and XAUTOCLAIM of silent instances), and once
 * a second the heartbeat, the sweeps and the instance scan. Commands are
 * appended to the hiredis output buffer; nothing is sent here. Store
 * thread only. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/rstore_batch.h"

static int add_cmd(struct smx_rstore *rs, struct batch *b, uint8_t kind, uint16_t stream,
                   uint32_t n, int argc, const char **argv, const size_t *argvlen)
{
        if (b->n == b->cap)
                return -1;
        if (redisAppendCommandArgv(rs->rc, argc, argv, argvlen) != REDIS_OK)
                return -1;
        b->cmd[b->n++] = (struct cmd){ .kind = kind, .stream = stream, .n = n };
        return 0;
}

/* Stream ids "ms-seq": a < b */
static int id_less(const char *a, const char *b)
{
        char *ea, *eb;
        unsigned long long am = strtoull(a, &ea, 10), bm = strtoull(b, &eb, 10);
        if (am != bm)
                return am < bm;
        return strtoull(*ea == '-' ? ea + 1 : ea, NULL, 10) <
               strtoull(*eb == '-' ? eb + 1 : eb, NULL, 10);
}

/* XACK of released records (and of malformed entries), grouped by stream,
 * up to 256 ids a command; the entries are dropped later by the stream's
 * trim (rs_batch_trims), which is what their highest id is noted for. */
static int ack_ids(struct smx_rstore *rs, struct batch *b, uint16_t s, const char **ids,
                   size_t *idl, int n, const uint32_t *ack_to)
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
        if (ack_to) {
                b->cmd[b->n - 1].ack_to = *ack_to;
                b->cmd[b->n - 1].has_ack_to = 1;
        }
        struct rs_stream *st = &rs->streams[s];
        for (int i = 0; i < n; i++)
                if (!st->trim_to[0] || id_less(st->trim_to, ids[i]))
                        snprintf(st->trim_to, sizeof st->trim_to, "%s", ids[i]);
        st->untrimmed += (uint32_t)n;
        return 0;
}

/* Acknowledgements are built from ack_pos (what Redis confirmed) each
 * turn: a batch lost with its connection sends them again (XACK is
 * idempotent), so no released entry stays pending for ever - which would
 * also stop its stream's trimming below it. */
void rs_batch_acks(struct smx_rstore *rs, struct batch *b)
{
        static _Thread_local const char *ids[256];
        static _Thread_local size_t idl[256];
        /* the reack list: dropped when answered (run_batch) */
        for (uint32_t i = 0; i < rs->n_reack;) {
                uint16_t s = rs->reack[i].stream;
                int n = 0;
                while (i < rs->n_reack && n < 256 && rs->reack[i].stream == s) {
                        ids[n] = rs->reack[i].id;
                        idl[n] = strlen(rs->reack[i].id);
                        n++;
                        i++;
                }
                if (ack_ids(rs, b, s, ids, idl, n, NULL) < 0)
                        return;
                b->cmd[b->n - 1].reack = 1;
        }
        uint32_t head = rs->ev_pos - (rs->ring_cap - event_ring_space_w(rs->ring));
        uint32_t p = rs->ack_pos;
        struct cmd *last = NULL;        /* the last XACK of released records built */
        while (p != head) {
                struct rs_ack *a0 = &rs->ackv[p & (rs->ring_cap - 1)];
                if (a0->stream == RS_NO_STREAM) {
                        /* nothing to acknowledge: done with the XACK before it */
                        p++;
                        if (last)
                                last->ack_to = p;
                        else
                                rs->ack_pos = p;
                        continue;
                }
                uint16_t s = a0->stream;
                int n = 0;
                while (p != head && n < 256) {
                        struct rs_ack *a = &rs->ackv[p & (rs->ring_cap - 1)];
                        if (a->stream != s)
                                break;
                        ids[n] = a->id;
                        idl[n] = strlen(a->id);
                        n++;
                        p++;
                }
                if (ack_ids(rs, b, s, ids, idl, n, &p) < 0)
                        return;
                last = &b->cmd[b->n - 1];
        }
}

void rs_batch_trims(struct smx_rstore *rs, struct batch *b, int all)
{
        for (unsigned s = 0; s < rs->n_streams; s++) {
                struct rs_stream *st = &rs->streams[s];
                if (st->untrimmed == 0 || (!all && st->untrimmed < RS_TRIM_EVERY))
                        continue;
                const char *argv[] = { "EVALSHA", rs->sha[RS_LUA_TRIM], "1", st->key, st->trim_to };
                size_t lens[5];
                for (int j = 0; j < 5; j++)
                        lens[j] = strlen(argv[j]);
                if (add_cmd(rs, b, K_TRIM, (uint16_t)s, 0, 5, argv, lens) < 0)
                        return;
                st->untrimmed = 0;
        }
}

/* The correlation value: mask 0 (no DR yet, rstore_lua.c), owner, part,
 * parts, the MT's merge-record name, app id; a single-part MT leaves part,
 * parts and merge record empty (read as 1, 1, none), which keeps the value
 * in the same Redis allocation size as before the mask (bench/README.md). */
int rs_corr_value(struct smx_rstore *rs, const struct rs_corr_req *r, char *val, size_t cap)
{
        char mt[33] = "";
        int vl;
        if (r->n_parts > 1) {
                struct smx_key128 mk = smx_hash128(r->app, r->app_len, 0x6d74);
                rs_tag(&mk, mt);
                vl = snprintf(val, cap, "0\x1f%s\x1f%u\x1f%u\x1f%s\x1f", rs->instance, r->part,
                              r->n_parts, mt);
        } else {
                vl = snprintf(val, cap, "0\x1f%s\x1f\x1f\x1f\x1f", rs->instance);
        }
        memcpy(val + vl, r->app, r->app_len);
        return vl + r->app_len;
}

/* A correlation write is one SET NX GET: Redis runs it atomically, so a DR
 * that parked before it left its placeholder in the key (the DR script)
 * and the SET returns it, and one that comes after it finds the
 * correlation (the DR script checks before it parks). NX: a write replayed
 * after a lost connection keeps the value's mask (the DRs already routed);
 * the value it returns is compared, and when the key held another MT's
 * correlation (a reused message id) or the placeholder, the correlation
 * script stores ours and routes the parked DRs (K_CORR_SCRIPT, from
 * rs->late). Before the placeholder an EXISTS of the park list followed
 * every SET (a command per MT; bench/README.md). */
int rs_batch_corr(struct smx_rstore *rs, struct batch *b, const struct common *cm)
{
        uint32_t n = 0;
        char h[33], k1[RS_NAME_MAX + 48], k2[RS_NAME_MAX + 48];
        char val[RS_NAME_MAX + SMX_ID_MAX + 64];
        for (unsigned i = 0; i < rs->n_late; i++) {
                const struct rs_corr_req *r = &rs->late[i];
                rs_tag(&r->key, h);
                snprintf(k1, sizeof k1, "smsmux:{%s:%s}:c", rs->cluster, h);
                snprintf(k2, sizeof k2, "smsmux:{%s:%s}:p", rs->cluster, h);
                int vl = rs_corr_value(rs, r, val, sizeof val);
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
        for (size_t i = 0; i < rs->f_n && i < RS_CORR_BATCH; i++) {
                struct rs_corr_req r;
                size_t skipped;
                off += rs_fifo_at(rs, &off, &r, &skipped);
                rs_tag(&r.key, h);
                snprintf(k1, sizeof k1, "smsmux:{%s:%s}:c", rs->cluster, h);
                int vl = rs_corr_value(rs, &r, val, sizeof val);
                const char *sv[] = { "SET", k1, val, "NX", "GET", "PX", cm->ttl };
                size_t sl[7] = { 3, strlen(k1), (size_t)vl, 2, 3, 2, strlen(cm->ttl) };
                if (add_cmd(rs, b, K_CORR_SET, 0, 1, 7, sv, sl) < 0)
                        break;
                n++;
        }
        return (int)n;
}

/* Consecutive DRs without other rules' keys from inq[i], up to
 * RS_DR_GROUP (and `room`), in one call of the many-DR script (one script
 * call and two arguments per DR instead of a call and five arguments
 * each: bench/README.md). Returns how many, -1 when the batch is full. */
static int add_dr_group(struct smx_rstore *rs, struct batch *b, const struct common *cm,
                        const char *dr_rest, uint32_t i, uint32_t room)
{
        static _Thread_local char keys[RS_DR_GROUP][RS_NAME_MAX + 48], st[RS_DR_GROUP][8];
        static _Thread_local size_t off[RS_DR_GROUP], len[RS_DR_GROUP];
        static _Thread_local const char *argv[5 + 3 * RS_DR_GROUP];
        static _Thread_local size_t lens[5 + 3 * RS_DR_GROUP];
        struct rs_buf *pl = &rs->pl;
        unsigned g = 0;
        pl->len = 0;
        for (; g < RS_DR_GROUP && g < room && i + g != rs->in_tail; g++) {
                const struct rs_in_req *r = &rs->inq[(i + g) % RS_INQ];
                if (r->kind != RS_IN_DR || r->n_alt != 0)
                        break;
                char h[33];
                rs_tag(&r->key, h);
                snprintf(keys[g], sizeof keys[g], "smsmux:{%s:%s}:c", rs->cluster, h);
                snprintf(st[g], sizeof st[g], "%u", r->state);
                off[g] = pl->len;
                rs_payload_dr(rs, r, pl);
                len[g] = pl->len - off[g];
        }
        char nk[8];
        snprintf(nk, sizeof nk, "%u", g);
        int ac = 0;
        argv[ac++] = "EVALSHA";
        argv[ac++] = rs->sha[RS_LUA_DR_MANY];
        argv[ac++] = nk;
        for (unsigned j = 0; j < g; j++)
                argv[ac++] = keys[j];
        argv[ac++] = cm->ttl;
        argv[ac++] = dr_rest;
        for (int j = 0; j < ac; j++)
                lens[j] = strlen(argv[j]);
        for (unsigned j = 0; j < g; j++) {
                argv[ac] = st[j];
                lens[ac++] = strlen(st[j]);
                argv[ac] = pl->p + off[j];      /* pl->p is final: no append after this */
                lens[ac++] = len[j];
        }
        if (add_cmd(rs, b, K_IN_MANY, 0, g, ac, argv, lens) < 0)
                return -1;
        return (int)g;
}

int rs_batch_in(struct smx_rstore *rs, struct batch *b, const struct common *cm)
{
        struct rs_buf *pl = &rs->pl, *hd = &rs->hd;
        char window[16], reasm[16];
        snprintf(window, sizeof window, "%u", rs->cfg.dedup_window_ms);
        snprintf(reasm, sizeof reasm, "%u", rs->cfg.reasm_timeout_ms);
        char dr_rest[RS_NAME_MAX + 64];
        snprintf(dr_rest, sizeof dr_rest, "%s\x1f%u\x1f%u\x1f%s", cm->now, rs->cfg.dedup_window_ms,
                 rs->cfg.park_timeout_ms, rs->instance);
        uint32_t n = 0;
        for (uint32_t i = rs->in_head; i != rs->in_tail && n < RS_IN_BATCH; i++, n++) {
                struct rs_in_req *r = &rs->inq[i % RS_INQ];
                if (r->kind == RS_IN_DR && r->n_alt == 0) {
                        int g = add_dr_group(rs, b, cm, dr_rest, i, RS_IN_BATCH - n);
                        if (g < 0)
                                break;
                        i += (uint32_t)g - 1;   /* the loop adds the last one */
                        n += (uint32_t)g - 1;
                        continue;
                }
                char h[33], id[33], k1[RS_NAME_MAX + 120], k2[RS_NAME_MAX + 80], st[8], seq[8],
                     tot[8];
                rs_tag(&r->key, h);
                rs_tag(&r->ident, id);
                pl->len = 0;
                int rc;
                if (r->kind == RS_IN_DR) {
                        /* a DR with the id's keys under the other SMSCs'
                         * msgid_norm rules (rstore_lua.c): KEYS the correlation
                         * key, then those; ARGV state, payload, TTL, and what a
                         * DR that parks needs (dr_rest) */
                        rs_payload_dr(rs, r, pl);
                        snprintf(st, sizeof st, "%u", r->state);
                        snprintf(k1, sizeof k1, "smsmux:{%s:%s}:c", rs->cluster, h);
                        char ak[RS_ALT_MAX][2 * RS_NAME_MAX + 64], at[33], nk[4];
                        unsigned na = r->n_alt < RS_ALT_MAX ? r->n_alt : RS_ALT_MAX;
                        snprintf(nk, sizeof nk, "%u", 1 + na);
                        const char *argv[7 + RS_ALT_MAX] = { "EVALSHA", rs->sha[RS_LUA_DR], nk, k1 };
                        int ac = 4;
                        for (unsigned j = 0; j < na; j++) {
                                rs_tag(&r->alt[j], at);
                                snprintf(ak[j], sizeof ak[j], "smsmux:{%s:%s}:c", rs->cluster, at);
                                argv[ac++] = ak[j];
                        }
                        int payload_at = ac + 1;
                        argv[ac++] = st;
                        argv[ac++] = pl->p;
                        argv[ac++] = cm->ttl;
                        argv[ac++] = dr_rest;
                        size_t lens[7 + RS_ALT_MAX];
                        for (int j = 0; j < ac; j++)
                                lens[j] = j == payload_at ? pl->len : strlen(argv[j]);
                        rc = add_cmd(rs, b, K_IN, 0, 1, ac, argv, lens);
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

void rs_batch_reads(struct smx_rstore *rs, struct batch *b)
{
        /* the room an outstanding read of the read connection may fill is not ours */
        uint32_t space = event_ring_space_w(rs->ring), out = rs_read_reserved(rs);
        space = space > out ? space - out : 0;
        b->read_budget = space > RS_EV_RESERVE ? space - RS_EV_RESERVE : 0;
        uint32_t budget = b->read_budget;
        char count[16], idle[16];
        for (unsigned s = 0; s < rs->n_streams && budget > 0; s++) {
                struct rs_stream *st = &rs->streams[s];
                /* our stream: read by the read connection (rstore_read.c)
                 * while it is up; here only while it is down */
                int read_it = s > 0 || !rs->rd;
                if (s > 0 && !st->dead)
                        continue;
                if (!read_it && !b->claim_own)
                        continue;
                uint32_t want = budget < RS_READ_MAX ? budget : RS_READ_MAX;
                snprintf(count, sizeof count, "%u", want);
                if (s > 0 || b->claim_own) {
                        /* a silent instance's entries: its pending ones idle past
                         * the takeover time, then the ones nobody read yet; ours
                         * (every heartbeat): entries of ours that an instance
                         * took over and left (rstore_held.c) */
                        snprintf(idle, sizeof idle, "%u", rs->cfg.owner_takeover_ms);
                        const char *cv[] = { "XAUTOCLAIM", st->key, "g", rs->instance, idle, "0-0",
                                             "COUNT", count };
                        size_t cl[8];
                        for (int j = 0; j < 8; j++)
                                cl[j] = strlen(cv[j]);
                        if (add_cmd(rs, b, K_CLAIM, (uint16_t)s, 0, 8, cv, cl) < 0)
                                return;
                        budget -= want;
                        if (budget == 0 || !read_it)
                                continue;
                        want = budget < RS_READ_MAX ? budget : RS_READ_MAX;
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

/* The park sweep: every heartbeat, and every turn while the last call
 * swept its whole RS_SWEEP_IDS (rs->sweep_more: a backlog of DRs past their
 * park timeout, e.g. after correlations were lost). One call per turn keeps
 * each script short (a few ms of Redis) and the turn itself, which serves
 * the workers' rings, going; before, 64 ids per heartbeat let a backlog of
 * thousands drain over minutes. */
static void park_sweep(struct smx_rstore *rs, struct batch *b, const struct common *cm)
{
        char lim[12];
        snprintf(lim, sizeof lim, "%u", RS_SWEEP_IDS);
        const char *ps[] = { "EVALSHA", rs->sha[RS_LUA_PARK_SWEEP], "0", rs->cluster, cm->now,
                             cm->ttl, rs->instance, lim };
        size_t pl[8];
        for (int j = 0; j < 8; j++)
                pl[j] = strlen(ps[j]);
        if (add_cmd(rs, b, K_PARK_SWEEP, 0, 0, 8, ps, pl) == 0)
                rs->sweep_more = 0;     /* set again by a full reply (run_batch) */
}

void rs_batch_periodic(struct smx_rstore *rs, struct batch *b, const struct common *cm,
                       uint64_t now)
{
        if (now < rs->next_hb_ms) {
                if (rs->sweep_more)
                        park_sweep(rs, b, cm);
                return;
        }
        rs->next_hb_ms = now + rs_heartbeat_ms(rs);
        RS_INC(rs, heartbeats);
        char ikey[RS_NAME_MAX + 24], lim[8] = "64";
        snprintf(ikey, sizeof ikey, "smsmux:{%s}:inst", rs->cluster);
        const char *hb[] = { "HSET", ikey, rs->instance, cm->now };
        size_t hl[4] = { 4, strlen(ikey), strlen(rs->instance), strlen(cm->now) };
        add_cmd(rs, b, K_HB, 0, 0, 4, hb, hl);
        park_sweep(rs, b, cm);
        const char *ps[] = { "EVALSHA", rs->sha[RS_LUA_GROUP_SWEEP], "0", rs->cluster, cm->now,
                             cm->ttl, rs->instance, lim };
        size_t pl[8];
        for (int j = 0; j < 8; j++)
                pl[j] = strlen(ps[j]);
        add_cmd(rs, b, K_GROUP_SWEEP, 0, 0, 8, ps, pl);
        const char *sc[] = { "HGETALL", ikey };
        size_t sl[2] = { 7, strlen(ikey) };
        add_cmd(rs, b, K_SCAN, 0, 0, 2, sc, sl);
}

int rs_batch_add(struct smx_rstore *rs, struct batch *b, uint8_t kind, uint16_t stream,
                 int argc, const char **argv, const size_t *argvlen)
{
        return add_cmd(rs, b, kind, stream, 0, argc, argv, argvlen);
}

uint32_t rs_heartbeat_ms(const struct smx_rstore *rs)
{
        uint32_t q = rs->cfg.owner_takeover_ms / 4;
        return q < 1000 ? (q ? q : 1) : 1000;
}
