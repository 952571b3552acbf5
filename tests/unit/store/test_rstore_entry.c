/* The store's stream entries read back as events (src/store/rstore_ev.c,
 * rs_entry_to_event), without Redis: the entry as XREADGROUP returns it (a
 * [field, value, ...] array) is built here by hand, its payloads with the
 * store's own builders (rs_buf_*). Each kind: the packed DR (correlated,
 * merged final or not, uncorrelated), the earlier nine-field DR left
 * pending by a previous version (correlated, uncorrelated), the single MO
 * (SMPP and HTTP), the reassembled and the partial group; and entries that
 * are malformed in each part are refused (0), not read half: a state that
 * is no DR state, a part past the parts, a number that is not one, an HTTP
 * MO's text that is not UTF-8 (another instance wrote them: untrusted). */
#include <hiredis/hiredis.h>

#include "store/rstore_int.h"
#include "testlib.h"

/* ---- the host: bind names, and what mo_text was given ---- */

static int bind_by_name(void *ctx, const char *name)
{
        (void)ctx;
        return !strcmp(name, "dc3-1") ? 4 : !strcmp(name, "bos-2") ? 7
               : !strcmp(name, "http") ? (int)RS_BIND_HTTP : -1;   /* as the client's host */
}

static struct {
        int calls;
        unsigned index;
        uint8_t dcs;
        int packed;
        size_t udh_len;
        char data[64];
        size_t len;
} mo;

static void mo_text(void *ctx, struct smx_ev_rec *e, unsigned index, uint8_t dcs, int packed,
                    size_t udh_len, const uint8_t *data, size_t len)
{
        (void)ctx;
        (void)e;
        mo.calls++;
        mo.index = index;
        mo.dcs = dcs;
        mo.packed = packed;
        mo.udh_len = udh_len;
        mo.len = len < sizeof mo.data ? len : sizeof mo.data - 1;
        memcpy(mo.data, data, mo.len);
        mo.data[mo.len] = 0;
}

static struct smx_rstore rs;

/* ---- entries ---- */

/* An entry's field array: up to 9 (field, value) pairs. */
struct entry {
        redisReply arr, el[18];
        redisReply *elp[18];
};

static void entry_init(struct entry *en)
{
        memset(en, 0, sizeof *en);
        en->arr.type = REDIS_REPLY_ARRAY;
        en->arr.element = en->elp;
}

static void entry_add(struct entry *en, const char *field, const char *value, size_t len)
{
        size_t i = en->arr.elements;
        en->el[i] = (redisReply){ .type = REDIS_REPLY_STRING, .str = (char *)field, .len = strlen(field) };
        en->el[i + 1] = (redisReply){ .type = REDIS_REPLY_STRING, .str = (char *)value, .len = len };
        en->elp[i] = &en->el[i];
        en->elp[i + 1] = &en->el[i + 1];
        en->arr.elements += 2;
}

/* The DR payload fields after the state: message_id, err, from, to, bind. */
static void dr_fields(struct rs_buf *b, const char *bind)
{
        rs_buf_str(b, "0A1B");
        rs_buf_str(b, "000");
        rs_buf_str(b, "447700900001");
        rs_buf_str(b, "12345");
        rs_buf_str(b, bind);
}

/* Read entry en into a fresh record; rs_entry_to_event's answer. */
static int read_entry(struct entry *en, struct smx_ev_rec *e)
{
        memset(e, 0, sizeof *e);
        memset(&mo, 0, sizeof mo);
        return rs_entry_to_event(&rs, &en->arr, e);
}

/* Append bytes as they are (no length prefix). */
static void raw(struct rs_buf *b, const char *s)
{
        size_t n = strlen(s);
        b->p = realloc(b->p, b->len + n + 1);
        memcpy(b->p + b->len, s, n);
        b->len += n;
        b->p[b->len] = 0;
        b->cap = b->len + 1;
}

/* A packed DR entry's v: head ("D" fin mst / "U00"), \37, the payload
 * (state 2), then tail (the correlation value) as it is. */
static void packed_dr(struct rs_buf *b, const char *head, const char *bind, const char *tail)
{
        b->len = 0;
        raw(b, head);
        raw(b, "\037");
        rs_buf_u(b, 2);
        dr_fields(b, bind);
        raw(b, tail);
}

/* Read the packed DR entry made of head, bind and tail into e;
 * rs_entry_to_event's answer. */
static int read_packed(const char *head, const char *bind, const char *tail, struct smx_ev_rec *e)
{
        struct rs_buf b = { 0 };
        packed_dr(&b, head, bind, tail);
        struct entry en;
        entry_init(&en);
        entry_add(&en, "v", b.p, b.len);
        int rc = read_entry(&en, e);
        free(b.p);
        return rc;
}

static void check_dr_payload(const struct smx_ev_rec *e, uint16_t bind)
{
        CHECK_EQ(e->type, SMX_EV_DR);
        CHECK_EQ(e->state, 2);
        CHECK_STR(e->message_id, "0A1B");
        CHECK_STR(e->err, "000");
        CHECK_STR(e->from, "447700900001");
        CHECK_STR(e->to, "12345");
        CHECK_EQ(e->bind, bind);
}

static void test_packed_correlated_dr_final_reads_every_field(void)
{
        struct smx_ev_rec e;
        CHECK_EQ(read_packed("D15", "dc3-1", "m\037own\0372\0373\037mt\037app-7\037x", &e), 1);
        check_dr_payload(&e, 4);
        CHECK_EQ(e.flags, SMX_EVF_HAS_ID | SMX_EVF_MT_FINAL);
        CHECK_STR(e.id, "app-7\037x");          /* the app id: the rest, any bytes */
        CHECK_EQ(e.part, 2);
        CHECK_EQ(e.parts, 3);
        CHECK_EQ(e.mt_state, 5);
}

static void test_packed_correlated_dr_not_final_empty_parts_read_as_one(void)
{
        struct smx_ev_rec e;
        CHECK_EQ(read_packed("D07", "nobody", "m\037own\037\037\037mt\037a", &e), 1);
        check_dr_payload(&e, 0xFFFF);           /* a bind this instance does not have */
        CHECK_EQ(e.flags, SMX_EVF_HAS_ID);
        CHECK_STR(e.id, "a");
        CHECK_EQ(e.part, 1);
        CHECK_EQ(e.parts, 1);
        CHECK_EQ(e.mt_state, 0);
}

static void test_packed_uncorrelated_dr_and_malformed_packed_drs(void)
{
        struct entry en;
        struct smx_ev_rec e;
        CHECK_EQ(read_packed("U00", "bos-2", "", &e), 1);
        check_dr_payload(&e, 7);
        CHECK_EQ(e.flags, 0);
        CHECK_EQ(e.part, 1);
        CHECK_EQ(e.parts, 1);
        /* malformed: bytes after an uncorrelated payload, a correlation
         * value with a piece missing, no separator after mst, a bad
         * length prefix, an unknown kind, too short */
        static const char *const tails[][2] = {
                { "U00", "junk" },
                { "D15", "m\037own\0372\0373\037app" },
        };
        for (size_t i = 0; i < sizeof tails / sizeof tails[0]; i++) {
                CHECK_EQ(read_packed(tails[i][0], "dc3-1", tails[i][1], &e), 0);
        }
        static const char *const bad[] = { "D15", "D1\0379:abc", "X00\0371:2", "D1" };
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
                entry_init(&en);
                entry_add(&en, "v", bad[i], strlen(bad[i]));
                CHECK_EQ(read_entry(&en, &e), 0);
        }
}

static void test_nine_field_drs_of_the_previous_version_are_read(void)
{
        struct rs_buf r = { 0 };
        dr_fields(&r, "dc3-1");
        struct entry en;
        struct smx_ev_rec e;
        entry_init(&en);
        entry_add(&en, "t", "D", 1);
        entry_add(&en, "a", "app-9", 5);
        entry_add(&en, "p", "2", 1);
        entry_add(&en, "n", "3", 1);
        entry_add(&en, "f", "1", 1);
        entry_add(&en, "m", "5", 1);
        entry_add(&en, "s", "2", 1);
        entry_add(&en, "r", r.p, r.len);
        entry_add(&en, "x", "b", 1);
        CHECK_EQ(read_entry(&en, &e), 1);
        check_dr_payload(&e, 4);
        CHECK_EQ(e.flags, SMX_EVF_HAS_ID | SMX_EVF_MT_FINAL);
        CHECK_STR(e.id, "app-9");
        CHECK_EQ(e.part, 2);
        CHECK_EQ(e.parts, 3);
        CHECK_EQ(e.mt_state, 5);
        /* not final, part and parts "0": read as 1 */
        en.el[5].str = (char *)"0";
        en.el[7].str = (char *)"0";
        en.el[9].str = (char *)"0";
        CHECK_EQ(read_entry(&en, &e), 1);
        CHECK_EQ(e.flags, SMX_EVF_HAS_ID);
        CHECK_EQ(e.part, 1);
        CHECK_EQ(e.parts, 1);
        /* part 2 of 1 (parts "0"), final flag "2": refused */
        en.el[5].str = (char *)"2";
        CHECK_EQ(read_entry(&en, &e), 0);
        en.el[5].str = (char *)"1";
        en.el[9].str = (char *)"2";
        CHECK_EQ(read_entry(&en, &e), 0);
        en.el[9].str = (char *)"0";
        /* correlated without its app id: refused */
        en.el[2].str = (char *)"z";
        CHECK_EQ(read_entry(&en, &e), 0);
        /* uncorrelated: t U, s and r only */
        entry_init(&en);
        entry_add(&en, "t", "U", 1);
        entry_add(&en, "s", "2", 1);
        entry_add(&en, "r", r.p, r.len);
        CHECK_EQ(read_entry(&en, &e), 1);
        check_dr_payload(&e, 4);
        CHECK_EQ(e.flags, 0);
        CHECK_EQ(e.parts, 1);
        /* a payload of 4 fields: refused */
        struct rs_buf r4 = { 0 };
        rs_buf_str(&r4, "0A1B");
        rs_buf_str(&r4, "000");
        rs_buf_str(&r4, "447700900001");
        rs_buf_str(&r4, "12345");
        entry_init(&en);
        entry_add(&en, "t", "U", 1);
        entry_add(&en, "s", "2", 1);
        entry_add(&en, "r", r4.p, r4.len);
        CHECK_EQ(read_entry(&en, &e), 0);
        free(r.p);
        free(r4.p);
}

static void test_mos_and_groups_are_read(void)
{
        struct rs_buf r = { 0 };
        rs_buf_str(&r, "bos-2");
        rs_buf_str(&r, "447700900001");
        rs_buf_str(&r, "12345");
        rs_buf_u(&r, 8);
        rs_buf_u(&r, 1);
        rs_buf_u(&r, 2);          /* udh_len: within the bytes */
        rs_buf_field(&r, "hello", 5);
        struct entry en;
        struct smx_ev_rec e;
        entry_init(&en);
        entry_add(&en, "t", "M", 1);
        entry_add(&en, "r", r.p, r.len);
        CHECK_EQ(read_entry(&en, &e), 1);
        CHECK_EQ(e.type, SMX_EV_MO);
        CHECK_EQ(e.bind, 7);
        CHECK_STR(e.from, "447700900001");
        CHECK_STR(e.to, "12345");
        CHECK_EQ(e.parts, 1);
        CHECK_EQ(e.flags, 0);
        CHECK_EQ(mo.calls, 1);
        CHECK_EQ(mo.index, 7);
        CHECK_EQ(mo.dcs, 8);
        CHECK_EQ(mo.packed, 1);
        CHECK_EQ(mo.udh_len, 2);
        CHECK_STR(mo.data, "hello");
        /* the HTTP API's MO: an 8th field, its message_id */
        rs_buf_str(&r, "svc-42");
        entry_init(&en);
        entry_add(&en, "t", "M", 1);
        entry_add(&en, "r", r.p, r.len);
        CHECK_EQ(read_entry(&en, &e), 1);
        CHECK_EQ(e.bind, RS_BIND_HTTP);
        CHECK_EQ(e.flags, SMX_EVF_HTTP);
        CHECK_STR(e.message_id, "svc-42");
        CHECK_EQ(mo.index, RS_BIND_HTTP);
        /* a group: header, part count, the joined bytes */
        struct rs_buf h = { 0 };
        rs_buf_str(&h, "dc3-1");
        rs_buf_str(&h, "447700900001");
        rs_buf_str(&h, "12345");
        rs_buf_u(&h, 0);
        for (int partial = 0; partial <= 1; partial++) {
                entry_init(&en);
                entry_add(&en, "t", partial ? "P" : "G", 1);
                entry_add(&en, "h", h.p, h.len);
                entry_add(&en, "n", "3", 1);
                entry_add(&en, "r", "abcdef", 6);
                CHECK_EQ(read_entry(&en, &e), 1);
                CHECK_EQ(e.type, SMX_EV_MO);
                CHECK_EQ(e.bind, 4);
                CHECK_EQ(e.parts, 3);
                CHECK_EQ(e.flags, partial ? SMX_EVF_PARTIAL : 0);
                CHECK_EQ(mo.packed, 0);
                CHECK_STR(mo.data, "abcdef");
        }
        /* an MO of 6 fields, an unknown kind, no kind: refused */
        struct rs_buf r6 = { 0 };
        for (int i = 0; i < 6; i++)
                rs_buf_str(&r6, "x");
        entry_init(&en);
        entry_add(&en, "t", "M", 1);
        entry_add(&en, "r", r6.p, r6.len);
        CHECK_EQ(read_entry(&en, &e), 0);
        entry_init(&en);
        entry_add(&en, "t", "Q", 1);
        CHECK_EQ(read_entry(&en, &e), 0);
        entry_init(&en);
        entry_add(&en, "r", r.p, r.len);
        CHECK_EQ(read_entry(&en, &e), 0);
        free(r.p);
        free(h.p);
        free(r6.p);
}

/* Entries another instance wrote wrong (found by fuzz_store_entry): each
 * refused whole, none read with a state, part or text the application
 * cannot get from an SMSC. */
static void test_hostile_numbers_and_text_are_refused(void)
{
        struct smx_ev_rec e;
        /* the seed's entry is read; each variant below is refused */
        CHECK_EQ(read_packed("D12", "dc3-1", "m\037own\0371\0372\037mt\037app", &e), 1);
        CHECK_EQ(e.mt_state, 2);
        static const char *const heads[] = {
                "D1=", "D10", "D16", "D11", "D19", "D1", "D2", "Dx2", "D0x", "U0x",
        };
        for (size_t i = 0; i < sizeof heads / sizeof heads[0]; i++)
                CHECK_EQ(read_packed(heads[i], "dc3-1", "m\037own\0371\0372\037mt\037app", &e), 0);
        static const char *const tails[] = {
                "m\037own\0373\0372\037mt\037app",         /* part 3 of 2 */
                "m\037own\0372\037\037mt\037app",          /* part 2 of 1 */
                "m\037own\0371\03765536\037mt\037app",     /* parts past 16 bits */
                "m\037own\0371x\0372\037mt\037app",        /* not a number */
                "m\037own\037-1\0372\037mt\037app",
        };
        for (size_t i = 0; i < sizeof tails / sizeof tails[0]; i++)
                CHECK_EQ(read_packed("D12", "dc3-1", tails[i], &e), 0);
        /* the payload's own state: 0, 9, empty, not a number */
        static const char *const states[] = { "0", "9", "", "2x", "02x" };
        struct rs_buf b = { 0 };
        struct entry en;
        for (size_t i = 0; i < sizeof states / sizeof states[0]; i++) {
                b.len = 0;
                raw(&b, "U00\037");
                rs_buf_str(&b, states[i]);
                dr_fields(&b, "dc3-1");
                entry_init(&en);
                entry_add(&en, "v", b.p, b.len);
                CHECK_EQ(read_entry(&en, &e), 0);
        }
        /* MOs: dcs past 255, packed not 0/1, a UDH longer than the bytes,
         * an HTTP MO's text not UTF-8; a group's dcs or part count wrong */
        static const char *const mos[][5] = {
                { "256", "0", "0", "hello", NULL },
                { "0", "2", "0", "hello", NULL },
                { "0", "0", "6", "hello", NULL },
                { "0", "0", "x", "hello", NULL },
                { "0", "0", "0", "h\xc3llo", "svc-1" },
                { "0", "0", "0", "\xed\xa0\x80", "svc-1" },
        };
        for (size_t i = 0; i < sizeof mos / sizeof mos[0]; i++) {
                b.len = 0;
                rs_buf_str(&b, "bos-2");
                rs_buf_str(&b, "447700900001");
                rs_buf_str(&b, "12345");
                for (int k = 0; k < 4; k++)
                        rs_buf_str(&b, mos[i][k]);
                if (mos[i][4])
                        rs_buf_str(&b, mos[i][4]);
                entry_init(&en);
                entry_add(&en, "t", "M", 1);
                entry_add(&en, "r", b.p, b.len);
                CHECK_EQ(read_entry(&en, &e), 0);
                CHECK_EQ(mo.calls, 0);
        }
        /* an SMPP MO (7 fields) or group under the HTTP transport's bind
         * name: its bytes are decoded as SMPP bytes (no bind), never
         * passed on as UTF-8 text (found by fuzz_store_entry) */
        b.len = 0;
        rs_buf_str(&b, "http");
        rs_buf_str(&b, "447700900001");
        rs_buf_str(&b, "12345");
        rs_buf_u(&b, 4);
        rs_buf_u(&b, 0);
        rs_buf_u(&b, 0);
        rs_buf_field(&b, "\xff\xfe", 2);
        entry_init(&en);
        entry_add(&en, "t", "M", 1);
        entry_add(&en, "r", b.p, b.len);
        CHECK_EQ(read_entry(&en, &e), 1);
        CHECK_EQ(e.bind, 0xFFFF);
        CHECK_EQ(e.flags, 0);
        CHECK_EQ(mo.index, 0xFFFF);
        CHECK_EQ(mo.dcs, 4);
        b.len = 0;
        rs_buf_str(&b, "http");
        rs_buf_str(&b, "447700900001");
        rs_buf_str(&b, "12345");
        rs_buf_u(&b, 4);
        entry_init(&en);
        entry_add(&en, "t", "G", 1);
        entry_add(&en, "h", b.p, b.len);
        entry_add(&en, "n", "2", 1);
        entry_add(&en, "r", "\xff\xfe", 2);
        CHECK_EQ(read_entry(&en, &e), 1);
        CHECK_EQ(e.bind, 0xFFFF);
        CHECK_EQ(mo.index, 0xFFFF);
        static const char *const groups[][2] = { { "300", "3" }, { "0", "x" }, { "0", "70000" } };
        for (size_t i = 0; i < sizeof groups / sizeof groups[0]; i++) {
                b.len = 0;
                rs_buf_str(&b, "dc3-1");
                rs_buf_str(&b, "447700900001");
                rs_buf_str(&b, "12345");
                rs_buf_str(&b, groups[i][0]);
                entry_init(&en);
                entry_add(&en, "t", "G", 1);
                entry_add(&en, "h", b.p, b.len);
                entry_add(&en, "n", groups[i][1], strlen(groups[i][1]));
                entry_add(&en, "r", "abc", 3);
                CHECK_EQ(read_entry(&en, &e), 0);
                CHECK_EQ(mo.calls, 0);
        }
        free(b.p);
}

int main(void)
{
        rs.host.bind_by_name = bind_by_name;
        rs.host.mo_text = mo_text;
        RUN(test_packed_correlated_dr_final_reads_every_field);
        RUN(test_packed_correlated_dr_not_final_empty_parts_read_as_one);
        RUN(test_packed_uncorrelated_dr_and_malformed_packed_drs);
        RUN(test_nine_field_drs_of_the_previous_version_are_read);
        RUN(test_mos_and_groups_are_read);
        RUN(test_hostile_numbers_and_text_are_refused);
        return t_done();
}
