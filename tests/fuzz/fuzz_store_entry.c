/* libFuzzer target: what the shared store does with the replies Redis sends
 * it (src/store/rstore_reply.c, rstore_ev.c, rstore_held.c). Stream entries
 * are written by OTHER instances of the cluster: a corrupt or hostile entry
 * is refused (acknowledged without an event), never read half, never a
 * crash. The store is made by rstore_create (never started: no thread, no
 * connection); its MO text goes through the inbound decoder as the client's
 * host callback sends it (src/core/shared_store.c).
 *
 * Input: one flag byte, then one reply in RESP2, parsed here into hiredis's
 * redisReply shape (strings NUL-terminated after len, as hiredis's reader
 * gives them; at most 1024 elements an array and 8 levels deep, so a header
 * cannot ask for gigabytes). The flag byte's low 2 bits pick what the reply
 * answers: 0 XREADGROUP of our own stream, 1 XREADGROUP of a taken-over
 * instance's stream, 2 XAUTOCLAIM (entries in element 1), 3 the instance
 * scan (name, heartbeat pairs); bit 2 whether the scan may judge now.
 *
 * Checks, beyond ASan/UBSan, on every event put in the ring: DR or MO only;
 * strings NUL-terminated within their arrays; text NUL-terminated at
 * text_len and valid UTF-8 (smx_event.text is UTF-8); bind one this
 * instance has, the HTTP transport or none; a DR's state an smx_dr_state,
 * a final DR's merged state a final state, a correlated DR's part within
 * 1..parts; an MO's parts >= 1; flags only those of its kind. Bookkeeping:
 * each entry the reply lists becomes an event or is acknowledged as
 * malformed (never both, never neither, up to RS_BAD_MAX); fed the same
 * reply again, no entry with a Redis-shaped id is shown twice (held); the
 * scan adds streams only within RS_STREAMS_MAX, never our own name. Then
 * every record is released and acknowledged, as the store thread does. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "inbound/inbound.h"
#include "log/log.h"
#include "store/rstore_batch.h"
#include "text/text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A failed check: which one, then abort (libFuzzer keeps the input). */
#define FAIL() do { fprintf(stderr, "%s:%d: check failed\n", __FILE__, __LINE__); abort(); } while (0)

/* ---- RESP2 into redisReply ---- */

#define MAX_ELEMENTS 1024
#define MAX_DEPTH 8

static void reply_free(redisReply *r)
{
        if (!r)
                return;
        for (size_t i = 0; i < r->elements; i++)
                reply_free(r->element[i]);
        free(r->element);
        free(r->str);
        free(r);
}

/* The line at p[*at..n) up to CRLF: its start and length; -1 if none. */
static int line(const uint8_t *p, size_t n, size_t *at, const char **s, size_t *len)
{
        for (size_t i = *at; i + 1 < n; i++)
                if (p[i] == '\r' && p[i + 1] == '\n') {
                        *s = (const char *)p + *at;
                        *len = i - *at;
                        *at = i + 2;
                        return 0;
                }
        return -1;
}

static int number(const char *s, size_t len, long long *v)
{
        char t[24];
        if (len == 0 || len >= sizeof t)
                return -1;
        memcpy(t, s, len);
        t[len] = 0;
        char *end;
        errno = 0;
        *v = strtoll(t, &end, 10);
        return *end || errno ? -1 : 0;
}

static char *dup_bytes(const void *p, size_t n)
{
        char *s = malloc(n + 1);
        if (!s)
                abort();
        memcpy(s, p, n);
        s[n] = 0;
        return s;
}

static redisReply *parse(const uint8_t *p, size_t n, size_t *at, int depth)
{
        if (*at >= n || depth > MAX_DEPTH)
                return NULL;
        uint8_t kind = p[(*at)++];
        const char *s;
        size_t len;
        long long v;
        if (line(p, n, at, &s, &len) < 0)
                return NULL;
        redisReply *r = calloc(1, sizeof *r);
        if (!r)
                abort();
        switch (kind) {
        case '+':
        case '-':
                r->type = kind == '+' ? REDIS_REPLY_STATUS : REDIS_REPLY_ERROR;
                r->str = dup_bytes(s, len);
                r->len = len;
                return r;
        case ':':
                if (number(s, len, &v) < 0)
                        break;
                r->type = REDIS_REPLY_INTEGER;
                r->integer = v;
                return r;
        case '$':
                if (number(s, len, &v) < 0 || v < -1)
                        break;
                if (v == -1) {
                        r->type = REDIS_REPLY_NIL;
                        return r;
                }
                if ((unsigned long long)v > n - *at || n - *at - (size_t)v < 2 ||
                    p[*at + (size_t)v] != '\r' || p[*at + (size_t)v + 1] != '\n')
                        break;
                r->type = REDIS_REPLY_STRING;
                r->str = dup_bytes(p + *at, (size_t)v);
                r->len = (size_t)v;
                *at += (size_t)v + 2;
                return r;
        case '*':
                if (number(s, len, &v) < 0 || v < -1 || v > MAX_ELEMENTS)
                        break;
                if (v == -1) {
                        r->type = REDIS_REPLY_NIL;
                        return r;
                }
                r->type = REDIS_REPLY_ARRAY;
                if (v == 0)
                        return r;
                r->element = calloc((size_t)v, sizeof *r->element);
                if (!r->element)
                        abort();
                for (long long i = 0; i < v; i++) {
                        redisReply *el = parse(p, n, at, depth + 1);
                        if (!el) {
                                reply_free(r);
                                return NULL;
                        }
                        r->element[r->elements++] = el;
                }
                return r;
        default:
                break;
        }
        reply_free(r);
        return NULL;
}

/* ---- the host: two binds, MO text through the inbound decoder ---- */

static struct smx_inbound *inb;
static struct smx_dcs_map generic_map;
static const struct smx_bind_info binds[2] = {
        { .index = 0, .name = "dc3-1" },
        { .index = 1, .name = "bos-2", .dcs_map = &generic_map },
};

static int host_bind_by_name(void *ctx, const char *name)
{
        (void)ctx;
        for (unsigned i = 0; i < 2; i++)
                if (!strcmp(name, binds[i].name))
                        return (int)i;
        return strcmp(name, "http") == 0 ? (int)RS_BIND_HTTP : -1;
}

static const char *host_bind_name(void *ctx, unsigned index)
{
        (void)ctx;
        return index == RS_BIND_HTTP ? "http" : index < 2 ? binds[index].name : NULL;
}

static void host_mo_text(void *ctx, struct smx_ev_rec *e, unsigned index, uint8_t dcs,
                         int packed, size_t udh_len, const uint8_t *d, size_t len)
{
        (void)ctx;
        if (index == RS_BIND_HTTP) {
                inbound_mo_utf8(inb, e, d, len);
                return;
        }
        inbound_mo_text(inb, e, index < 2 ? &binds[index] : NULL, dcs, packed, udh_len, d, len);
}

static struct smx_rstore *rs;

static void setup(void)
{
        smx_log_level_set(SMX_LOG_ERROR);
        struct smx_inbound_config icfg;
        inbound_config_init(&icfg);
        icfg.corr_capacity = icfg.dedup_capacity = 1024;
        icfg.park_capacity = 64;
        icfg.reasm_groups = 16;
        inb = inbound_create(&icfg);
        smx_dcs_map_generic(&generic_map);
        struct rs_config cfg = {
                .url = "redis://127.0.0.1:1", .instance = "a", .cluster = "c",
                .buffer_bytes = 1u << 16, .event_capacity = 1024, .owner_takeover_ms = 30000,
        };
        struct rs_host host = {
                .bind_by_name = host_bind_by_name, .bind_name = host_bind_name,
                .mo_text = host_mo_text,
        };
        char err[256];
        if (!inb || rstore_create(&cfg, &host, &rs, err, sizeof err) < 0)
                abort();
        snprintf(rs->streams[1].name, sizeof rs->streams[1].name, "b");
        snprintf(rs->streams[1].key, sizeof rs->streams[1].key, "smsmux:{c}:s:b");
}

/* ---- checks ---- */

static void check_str(const char *s, size_t cap)
{
        if (!memchr(s, 0, cap))
                FAIL();
}

static void check_utf8(const char *s, size_t len)
{
        size_t i = 0;
        while (i < len) {
                uint32_t cp;
                int bad;
                i += smx_utf8_next((const uint8_t *)s + i, len - i, &cp, &bad);
                if (bad)
                        FAIL();
        }
}

static int final_state(unsigned s)
{
        return s >= 2 && s <= 8 && s != 6;
}

static void check_event(const struct smx_ev_rec *e)
{
        check_str(e->id, sizeof e->id);
        check_str(e->message_id, sizeof e->message_id);
        check_str(e->err, sizeof e->err);
        check_str(e->from, sizeof e->from);
        check_str(e->to, sizeof e->to);
        if (!e->text_heap && e->text_len >= SMX_EV_TEXT_INLINE)
                FAIL();
        const char *t = event_rec_text(e);
        if (t[e->text_len] != 0)
                FAIL();
        check_utf8(t, e->text_len);
        if (e->bind != 0xFFFF && e->bind != RS_BIND_HTTP && e->bind >= 2)
                FAIL();
        if (e->type == SMX_EV_DR) {
                if (e->state < SMX_DR_ENROUTE || e->state > SMX_DR_REJECTED)
                        FAIL();
                if (e->flags & ~(SMX_EVF_HAS_ID | SMX_EVF_MT_FINAL))
                        FAIL();
                if ((e->flags & SMX_EVF_MT_FINAL) && !final_state(e->mt_state))
                        FAIL();
                if ((e->flags & SMX_EVF_MT_FINAL) && !(e->flags & SMX_EVF_HAS_ID))
                        FAIL();
                if (e->part < 1 || e->part > e->parts)
                        FAIL();
                if (e->text_len)
                        FAIL();
        } else if (e->type == SMX_EV_MO) {
                if (e->parts < 1 || (e->flags & ~(SMX_EVF_PARTIAL | SMX_EVF_HTTP | SMX_EVF_RAW)))
                        FAIL();
                /* the HTTP transport's MOs, and only they, are its bind's */
                if (!(e->flags & SMX_EVF_HTTP) != (e->bind != RS_BIND_HTTP))
                        FAIL();
        } else {
                FAIL();
        }
}

/* An id as Redis makes them: ms-seq, each a 64-bit decimal. */
static int redis_id(const char *id)
{
        const char *dash = strchr(id, '-');
        if (!dash || dash == id || !dash[1] || strlen(id) > 41)
                return 0;
        for (const char *q = id; *q; q++)
                if (q != dash && !isdigit((unsigned char)*q))
                        return 0;
        char *end;
        errno = 0;
        (void)strtoull(id, &end, 10);
        (void)strtoull(dash + 1, &end, 10);
        return errno == 0;
}

/* The entries' array of the reply, as the store finds it (NULL: none). */
static const redisReply *entries_of(const redisReply *r, int action)
{
        if (action == 2)
                return r->type == REDIS_REPLY_ARRAY && r->elements >= 2 ? r->element[1] : NULL;
        if (r->type == REDIS_REPLY_ARRAY && r->elements >= 1 &&
            r->element[0]->type == REDIS_REPLY_ARRAY && r->element[0]->elements == 2)
                return r->element[0]->element[1];
        return NULL;
}

/* Entries of a listable shape (an id string and something after it). */
static size_t listed(const redisReply *ents)
{
        size_t n = 0;
        if (!ents || ents->type != REDIS_REPLY_ARRAY)
                return 0;
        for (size_t i = 0; i < ents->elements; i++) {
                const redisReply *en = ents->element[i];
                n += en->type == REDIS_REPLY_ARRAY && en->elements >= 2 &&
                     en->element[0]->type == REDIS_REPLY_STRING;
        }
        return n;
}

/* Whether the listed entries' ids are Redis ids, all different. */
static int distinct_ids(const redisReply *ents)
{
        if (!ents || ents->type != REDIS_REPLY_ARRAY)
                return 1;
        for (size_t i = 0; i < ents->elements; i++) {
                const redisReply *a = ents->element[i];
                if (a->type != REDIS_REPLY_ARRAY || a->elements < 2 ||
                    a->element[0]->type != REDIS_REPLY_STRING)
                        continue;
                if (!redis_id(a->element[0]->str))
                        return 0;
                unsigned long long am = strtoull(a->element[0]->str, NULL, 10);
                unsigned long long as = strtoull(strchr(a->element[0]->str, '-') + 1, NULL, 10);
                for (size_t j = 0; j < i; j++) {
                        const redisReply *b = ents->element[j];
                        if (b->type != REDIS_REPLY_ARRAY || b->elements < 2 ||
                            b->element[0]->type != REDIS_REPLY_STRING)
                                continue;
                        if (strtoull(b->element[0]->str, NULL, 10) == am &&
                            strtoull(strchr(b->element[0]->str, '-') + 1, NULL, 10) == as)
                                return 0;
                }
        }
        return 1;
}

/* Release every event and acknowledge what the store holds; returns how
 * many events there were. */
static uint32_t drain(void)
{
        uint32_t n = 0;
        struct smx_ev_rec *e;
        while ((e = event_ring_peek(rs->ring)) != NULL) {
                check_event(e);
                event_ring_release(rs->ring);
                n++;
        }
        return n;
}

static void acknowledge_all(void)
{
        for (uint32_t p = rs->ack_pos; p != rs->ev_pos; p++) {
                const struct rs_ack *a = &rs->ackv[p & (rs->ring_cap - 1)];
                rs_held_drop(rs, a->stream, a->id);
        }
        rs->ack_pos = rs->ev_pos;
        rs->n_reack = 0;
}

/* Feed the entries reply once; events and malformed entries it made. */
static void feed(const redisReply *r, int action, uint16_t s, uint32_t *events, uint32_t *bad)
{
        uint32_t reack0 = rs->n_reack, pos0 = rs->ev_pos;
        if (action == 2) {
                const redisReply *ents = entries_of(r, 2);
                if (ents)
                        rs_on_entries(rs, s, ents);
        } else {
                rs_on_read(rs, s, r);
        }
        *events = rs->ev_pos - pos0;
        *bad = rs->n_reack - reack0;
        if (drain() != *events)
                FAIL();
        if (getenv("FUZZ_STORE_VERBOSE"))
                fprintf(stderr, "events %u, malformed %u\n", *events, *bad);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        if (!rs)
                setup();
        if (size < 1)
                return 0;
        int action = data[0] & 3;
        size_t at = 1;
        redisReply *r = parse(data, size, &at, 0);
        if (!r)
                return 0;
        rs->n_streams = 2;
        rs->own_from[0] = rs->own_last[0] = 0;
        if (action == 3) {
                uint64_t now = 1000000;
                rs->judge_from_ms = data[0] & 4 ? 0 : now + 1;
                rs_on_scan(rs, r, now);
                if (rs->n_streams < 2 || rs->n_streams > RS_STREAMS_MAX)
                        FAIL();
                for (unsigned i = 1; i < rs->n_streams; i++)
                        if (!strcmp(rs->streams[i].name, rs->instance) ||
                            !memchr(rs->streams[i].key, 0, sizeof rs->streams[i].key))
                                FAIL();
                reply_free(r);
                return 0;
        }
        uint16_t s = action == 1 ? 1 : (uint16_t)((data[0] >> 2) & 1);
        const redisReply *ents = entries_of(r, action);
        uint32_t events, bad;
        feed(r, action, s, &events, &bad);
        size_t n = listed(ents);
        /* each listed entry: an event, or acknowledged as malformed (while
         * the list has room: RS_BAD_MAX), or skipped as held already (an id
         * listed twice); with distinct ids, nothing is skipped */
        if (events + bad > n || (n <= RS_BAD_MAX && distinct_ids(ents) && events + bad != n))
                FAIL();
        /* the same reply again while the events are held: nothing new from
         * an entry Redis could have sent */
        uint32_t again, bad2;
        uint32_t from = rs->ev_pos;
        feed(r, action, s, &again, &bad2);
        for (uint32_t p = from; p != rs->ev_pos; p++)
                if (redis_id(rs->ackv[p & (rs->ring_cap - 1)].id))
                        FAIL();
        /* acknowledged: nothing is held any more */
        acknowledge_all();
        for (size_t i = 0; ents && ents->type == REDIS_REPLY_ARRAY && i < ents->elements; i++) {
                const redisReply *en = ents->element[i];
                if (en->type == REDIS_REPLY_ARRAY && en->elements >= 2 &&
                    en->element[0]->type == REDIS_REPLY_STRING && redis_id(en->element[0]->str) &&
                    rs_held_has(rs, s, en->element[0]->str))
                        FAIL();
        }
        reply_free(r);
        return 0;
}
