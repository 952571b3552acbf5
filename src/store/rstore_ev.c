/* What travels through Redis, and what comes out of it as events.
 *
 * Payloads are length-prefixed fields ("N:bytes", N decimal), built and
 * parsed here only; the scripts carry them as opaque strings, so any byte
 * (an address, an MO's binary payload) is safe in them.
 *   DR payload      state, message_id, err, from, to, receiving bind's name
 *   MO payload      bind name, from, to, dcs, packed, udh_len, bytes, and
 *                   for an MO of the HTTP API's receiver an 8th field, its
 *                   message_id (the bytes are then UTF-8 text)
 *   group header    bind name, from, to, dcs (the first part's)
 * Stream entries (see rstore_lua.c). A DR is one field v (one field, not
 * nine: Redis adds, reads and the scripts convert fewer strings):
 *   "D" fin mst \37 payload corr-value   correlated: fin '1' when it makes
 *                                        the MT final, mst the merged state
 *                                        (digits), corr-value as stored:
 *                                        mask \37 owner \37 part \37 parts
 *                                        \37 mt \37 app
 *   "U00" \37 payload                    uncorrelated
 * MOs have fields: t = M single MO (r payload), G reassembled MO / P
 * partial MO (h header, n parts, r the joined part bytes), and x the
 * instance that received it. DR entries of the earlier nine-field form
 * (t = D / U) are still read: a restart after an upgrade finds them
 * pending. The bind is looked up by name on the instance that shows
 * the event (instances of one cluster normally bind the same SMSCs); an
 * unknown name shows as no bind.
 * Entries are written by other instances: untrusted. An entry is read
 * whole or refused (rs_entry_to_event 0: acknowledged without an event):
 * every number is all digits within its range (a DR state 1-8, a final
 * DR's merged state a final state, part <= parts <= 65535, dcs <= 255,
 * packed 0/1, udh_len within the bytes) and an HTTP MO's text is UTF-8
 * (fuzz_store_entry, docs/fuzzing.md). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pdu/smpp_defs.h"
#include "store/rstore_int.h"
#include "text/text.h"

static void buf_need(struct rs_buf *b, size_t more)
{
        if (b->len + more + 1 <= b->cap)
                return;
        size_t nc = b->cap ? b->cap * 2 : 1024;
        while (nc < b->len + more + 1)
                nc *= 2;
        char *p = realloc(b->p, nc);
        if (!p)
                abort();        /* a few KiB: out of memory here is fatal */
        b->p = p;
        b->cap = nc;
}

void rs_buf_field(struct rs_buf *b, const void *data, size_t n)
{
        buf_need(b, n + 24);
        b->len += (size_t)snprintf(b->p + b->len, 24, "%zu:", n);
        if (n)
                memcpy(b->p + b->len, data, n);
        b->len += n;
        b->p[b->len] = 0;
}

void rs_buf_str(struct rs_buf *b, const char *s)
{
        rs_buf_field(b, s, strlen(s));
}

void rs_buf_u(struct rs_buf *b, unsigned long v)
{
        char t[24];
        int n = snprintf(t, sizeof t, "%lu", v);
        rs_buf_field(b, t, (size_t)n);
}

static const char *bind_name(struct smx_rstore *rs, unsigned index)
{
        const char *n = rs->host.bind_name ? rs->host.bind_name(rs->host.ctx, index) : NULL;
        return n ? n : "";
}

void rs_payload_dr(struct smx_rstore *rs, const struct rs_in_req *r, struct rs_buf *b)
{
        rs_buf_u(b, r->state);
        rs_buf_str(b, r->msgid);
        rs_buf_str(b, r->err);
        rs_buf_str(b, r->from);
        rs_buf_str(b, r->to_addr);
        rs_buf_str(b, bind_name(rs, r->to.bind));
}

void rs_payload_mo(struct smx_rstore *rs, const struct rs_in_req *r, struct rs_buf *b)
{
        rs_buf_str(b, bind_name(rs, r->to.bind));
        rs_buf_str(b, r->from);
        rs_buf_str(b, r->to_addr);
        rs_buf_u(b, r->dcs);
        rs_buf_u(b, r->packed);
        rs_buf_u(b, r->udh_len);
        rs_buf_field(b, r->data, r->len);
        if (r->http)
                rs_buf_str(b, r->msgid);
}

void rs_header_group(struct smx_rstore *rs, const struct rs_in_req *r, struct rs_buf *b)
{
        rs_buf_str(b, bind_name(rs, r->to.bind));
        rs_buf_str(b, r->from);
        rs_buf_str(b, r->to_addr);
        rs_buf_u(b, r->dcs);
}

/* ---- parsing ---- */

struct view {
        const char *p;
        size_t n;
};

/* The "N:bytes" field of p[0..n) at *i into *out, *i moved past it. 0, or
 * -1 malformed (no digits, more than 12, no ':', N past the end). */
static int take_field(const char *p, size_t n, size_t *i, struct view *out)
{
        size_t len = 0, j = *i;
        while (j < n && p[j] >= '0' && p[j] <= '9' && j - *i < 12)
                len = len * 10 + (size_t)(p[j++] - '0');
        if (j == *i || j >= n || p[j] != ':' || len > n - j - 1)
                return -1;
        out->p = p + j + 1;
        out->n = len;
        *i = j + 1 + len;
        return 0;
}

/* Split a payload into up to max fields; returns how many, -1 malformed. */
static int split(const char *p, size_t n, struct view *f, int max)
{
        int k = 0;
        size_t i = 0;
        while (i < n && k < max)
                if (take_field(p, n, &i, &f[k++]) < 0)
                        return -1;
        return i == n ? k : -1;
}

static void copy_view(char *dst, size_t cap, struct view v)
{
        event_copy_str(dst, cap, v.p, v.n);
}

/* A decimal field of at most `max`: 0, or -1 when empty, not all digits
 * or larger (another instance wrote it: trusted for nothing). */
static int view_num(struct view v, unsigned max, unsigned *out)
{
        unsigned long x = 0;
        if (v.n == 0 || v.n > 10)
                return -1;
        for (size_t i = 0; i < v.n; i++) {
                if (v.p[i] < '0' || v.p[i] > '9')
                        return -1;
                x = x * 10 + (unsigned long)(v.p[i] - '0');
        }
        if (x > max)
                return -1;
        *out = (unsigned)x;
        return 0;
}

/* A part number or count: empty or 0 read as 1 (a single-part MT's value
 * leaves them empty). */
static int view_part(struct view v, unsigned *out)
{
        if (v.n == 0) {
                *out = 1;
                return 0;
        }
        if (view_num(v, 0xFFFF, out) < 0)
                return -1;
        if (*out == 0)
                *out = 1;
        return 0;
}

static int state_ok(unsigned s)
{
        return s >= SMX_DR_ENROUTE && s <= SMX_DR_REJECTED;
}

/* A state that makes a part final (ENROUTE and ACCEPTED do not). */
static int final_ok(unsigned s)
{
        return state_ok(s) && s != SMX_DR_ENROUTE && s != SMX_DR_ACCEPTED;
}

static int utf8_ok(struct view v)
{
        for (size_t i = 0; i < v.n;) {
                uint32_t cp;
                int bad;
                i += smx_utf8_next((const uint8_t *)v.p + i, v.n - i, &cp, &bad);
                if (bad)
                        return 0;
        }
        return 1;
}

static uint16_t bind_of(struct smx_rstore *rs, struct view name)
{
        char nm[SMX_NAME_MAX + 1];
        copy_view(nm, sizeof nm, name);
        int i = nm[0] && rs->host.bind_by_name ? rs->host.bind_by_name(rs->host.ctx, nm) : -1;
        return i < 0 ? 0xFFFF : (uint16_t)i;
}

/* The bind of an SMPP MO (its bytes have a data_coding): the HTTP
 * transport's name "http" shows as no bind, its MO text is decoded as
 * SMPP bytes, never taken as UTF-8 as it is (an 8-field MO is the HTTP
 * API's, its text checked). */
static uint16_t smpp_bind_of(struct smx_rstore *rs, struct view name)
{
        uint16_t b = bind_of(rs, name);
        return b == RS_BIND_HTTP ? 0xFFFF : b;
}

/* The value of field `name` in an entry's [field, value, ...] array. */
static int get(const redisReply *fv, const char *name, struct view *out)
{
        for (size_t i = 0; i + 1 < fv->elements; i += 2) {
                const redisReply *k = fv->element[i], *v = fv->element[i + 1];
                if (k->type == REDIS_REPLY_STRING && v->type == REDIS_REPLY_STRING &&
                    !strcmp(k->str, name)) {
                        out->p = v->str;
                        out->n = v->len;
                        return 1;
                }
        }
        return 0;
}

/* Split the leading `max` fields of a payload; the bytes after them in
 * *rest. 0, or -1 malformed. */
static int split_head(const char *p, size_t n, struct view *f, int max, struct view *rest)
{
        size_t i = 0;
        for (int k = 0; k < max; k++)
                if (take_field(p, n, &i, &f[k]) < 0)
                        return -1;
        rest->p = p + i;
        rest->n = n - i;
        return 0;
}

/* The piece of *v before the next \37 into *out, consumed with the \37;
 * 0 if there is no \37 (nothing consumed). */
static int next_piece(struct view *v, struct view *out)
{
        const char *sep = memchr(v->p, 0x1f, v->n);
        if (!sep)
                return 0;
        out->p = v->p;
        out->n = (size_t)(sep - v->p);
        v->n -= out->n + 1;
        v->p = sep + 1;
        return 1;
}

/* A DR of `state` whose payload fields after the state are f[0..4]
 * (message_id, err, from, to, receiving bind's name); single part until
 * its MT says otherwise. 0 when the state is not an smx_dr_state. */
static int dr_payload(struct smx_rstore *rs, struct smx_ev_rec *e, struct view state,
                      const struct view f[5])
{
        unsigned st;
        if (view_num(state, SMX_DR_REJECTED, &st) < 0 || !state_ok(st))
                return 0;
        e->type = SMX_EV_DR;
        e->state = (uint8_t)st;
        copy_view(e->message_id, sizeof e->message_id, f[0]);
        copy_view(e->err, sizeof e->err, f[1]);
        copy_view(e->from, sizeof e->from, f[2]);
        copy_view(e->to, sizeof e->to, f[3]);
        e->bind = bind_of(rs, f[4]);
        e->parts = e->part = 1;
        return 1;
}

/* A correlated DR's MT: its app id, part and parts (0 or empty: 1), and
 * when the DR makes the MT final, the merged state mst. 0 when a number
 * is not one, the part is past the parts or mst is not a final state. */
static int dr_mt(struct smx_ev_rec *e, struct view id, struct view part, struct view parts,
                 int fin, struct view mst)
{
        unsigned p, n, m = 0;
        if (view_part(part, &p) < 0 || view_part(parts, &n) < 0 || p > n ||
            view_num(mst, SMX_DR_REJECTED, &m) < 0 || (fin && !final_ok(m)))
                return 0;
        e->flags |= SMX_EVF_HAS_ID;
        copy_view(e->id, sizeof e->id, id);
        e->part = (uint16_t)p;
        e->parts = (uint16_t)n;
        if (fin) {
                e->flags |= SMX_EVF_MT_FINAL;
                e->mt_state = (uint8_t)m;
        }
        return 1;
}

/* A DR entry's field v (the header above). */
static int fill_dr(struct smx_rstore *rs, struct view v, struct smx_ev_rec *e)
{
        if (v.n < 4 || (v.p[0] != 'D' && v.p[0] != 'U') || (v.p[1] != '0' && v.p[1] != '1'))
                return 0;
        int corr = v.p[0] == 'D', fin = v.p[1] == '1';
        struct view h = { v.p + 2, v.n - 2 }, mst, f[6], cv;
        unsigned m;
        if (!next_piece(&h, &mst) || view_num(mst, SMX_DR_REJECTED, &m) < 0 ||
            split_head(h.p, h.n, f, 6, &cv) < 0 || (!corr && cv.n) ||
            !dr_payload(rs, e, f[0], f + 1))
                return 0;
        if (!corr)
                return 1;
        struct view mask, owner, p, n, mt;
        if (!next_piece(&cv, &mask) || !next_piece(&cv, &owner) || !next_piece(&cv, &p) ||
            !next_piece(&cv, &n) || !next_piece(&cv, &mt))
                return 0;
        return dr_mt(e, cv, p, n, fin, mst);    /* the app id: the rest, any bytes */
}

/* A DR entry in the earlier nine-field form (t D/U, a, p, n, f, m, s,
 * r = the payload without the state, x), left pending in Redis by the
 * previous version: read after an upgrade restart. */
static int fill_dr_fields(struct smx_rstore *rs, const redisReply *fv, struct smx_ev_rec *e,
                          int corr)
{
        struct view r, s, f[5];
        if (!get(fv, "r", &r) || !get(fv, "s", &s) || split(r.p, r.n, f, 5) != 5 ||
            !dr_payload(rs, e, s, f))
                return 0;
        if (!corr)
                return 1;
        struct view a, p, n, fin, m;
        unsigned final;
        if (!get(fv, "a", &a) || !get(fv, "p", &p) || !get(fv, "n", &n) ||
            !get(fv, "f", &fin) || !get(fv, "m", &m) || view_num(fin, 1, &final) < 0)
                return 0;
        return dr_mt(e, a, p, n, (int)final, m);
}

/* An MO entry's r: bind name, from, to, dcs, packed (0/1), udh_len (within
 * the bytes), bytes, and for the HTTP API's MO its message_id (the bytes
 * are then UTF-8 text: refused when they are not). */
static int fill_mo(struct smx_rstore *rs, const redisReply *fv, struct smx_ev_rec *e)
{
        struct view r, f[8];
        unsigned dcs, packed, udh_len;
        int nf;
        if (!get(fv, "r", &r) || ((nf = split(r.p, r.n, f, 8)) != 7 && nf != 8) ||
            view_num(f[3], 255, &dcs) < 0 || view_num(f[4], 1, &packed) < 0 ||
            view_num(f[5], 255, &udh_len) < 0 || udh_len > f[6].n ||
            (nf == 8 && !utf8_ok(f[6])))
                return 0;
        e->type = SMX_EV_MO;
        e->bind = smpp_bind_of(rs, f[0]);
        copy_view(e->from, sizeof e->from, f[1]);
        copy_view(e->to, sizeof e->to, f[2]);
        e->parts = 1;
        if (nf == 8) {
                /* the HTTP API's MO: UTF-8 text and the service's message_id */
                e->bind = RS_BIND_HTTP;
                e->flags |= SMX_EVF_HTTP;
                copy_view(e->message_id, sizeof e->message_id, f[7]);
        }
        rs->host.mo_text(rs->host.ctx, e, e->bind, (uint8_t)dcs, (int)packed, udh_len,
                         (const uint8_t *)f[6].p, f[6].n);
        return 1;
}

static int fill_group(struct smx_rstore *rs, const redisReply *fv, struct smx_ev_rec *e,
                      int partial)
{
        struct view h, n, r, f[4];
        unsigned dcs, parts;
        if (!get(fv, "h", &h) || !get(fv, "n", &n) || !get(fv, "r", &r) ||
            split(h.p, h.n, f, 4) != 4 || view_num(f[3], 255, &dcs) < 0 ||
            view_part(n, &parts) < 0)
                return 0;
        e->type = SMX_EV_MO;
        e->bind = smpp_bind_of(rs, f[0]);
        copy_view(e->from, sizeof e->from, f[1]);
        copy_view(e->to, sizeof e->to, f[2]);
        e->parts = (uint16_t)parts;
        /* parts were stored unpacked (septets for GSM) */
        rs->host.mo_text(rs->host.ctx, e, e->bind, (uint8_t)dcs, 0, 0, (const uint8_t *)r.p, r.n);
        if (partial)
                e->flags |= SMX_EVF_PARTIAL;
        return 1;
}

int rs_entry_to_event(struct smx_rstore *rs, const redisReply *fv, struct smx_ev_rec *e)
{
        struct view t;
        if (fv->type != REDIS_REPLY_ARRAY)
                return 0;
        if (get(fv, "v", &t))
                return fill_dr(rs, t, e);
        if (!get(fv, "t", &t) || t.n != 1)
                return 0;
        switch (t.p[0]) {
        case 'D':
                return fill_dr_fields(rs, fv, e, 1);
        case 'U':
                return fill_dr_fields(rs, fv, e, 0);
        case 'M':
                return fill_mo(rs, fv, e);
        case 'G':
                return fill_group(rs, fv, e, 0);
        case 'P':
                return fill_group(rs, fv, e, 1);
        default:
                return 0;
        }
}

void rs_local_event(struct smx_rstore *rs, const struct rs_in_req *r, struct smx_ev_rec *e)
{
        e->bind = r->to.bind;
        memcpy(e->from, r->from, sizeof e->from);
        memcpy(e->to, r->to_addr, sizeof e->to);
        if (r->kind == RS_IN_DR) {
                e->type = SMX_EV_DR;
                e->state = r->state;
                e->parts = e->part = 1;
                memcpy(e->message_id, r->msgid, sizeof e->message_id);
                memcpy(e->err, r->err, sizeof e->err);
                return;
        }
        e->type = SMX_EV_MO;
        e->parts = 1;
        if (r->http) {
                e->flags |= SMX_EVF_HTTP;
                memcpy(e->message_id, r->msgid, sizeof e->message_id);
        }
        rs->host.mo_text(rs->host.ctx, e, r->to.bind, r->dcs,
                         r->kind == RS_IN_MO_ONE ? r->packed : 0,
                         r->kind == RS_IN_MO_ONE ? r->udh_len : 0, r->data, r->len);
        if (r->kind == RS_IN_MO_PART)
                e->flags |= SMX_EVF_PARTIAL;
}
