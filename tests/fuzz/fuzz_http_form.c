/* libFuzzer target: what the H4 receiver does with what a peer sends, minus
 * the sockets (src/http/http_rx_parse.c, http_form.c), plus the MT engine's
 * reading of an answer body (http_answer_classify).
 *
 * Input: one flag byte, then up to five segments separated by NUL bytes:
 * Content-Type, Content-Length, X-Smsmux-Secret, a query string and the
 * body. The flag byte picks the method, the path, whether the headers are
 * present, a secret and a small max_field. Each segment is copied to a heap
 * buffer of exactly its size (the strings the receiver gets from MHD are
 * NUL-terminated: those get one byte more), so any read past a view is
 * caught. Checks, beyond ASan/UBSan: every answer is one of the statuses the
 * receiver documents; a message taken has NUL-terminated, UTF-8, non-empty
 * required fields within their arrays, its message_id whole (no NUL byte cut
 * it short, the field came once, found by its decoded name), every field
 * name decodable, without a NUL byte, UTF-8 and at most 256 bytes; every
 * field the form parser returns
 * lies inside its input; decoding then re-encoding a value gives back the
 * same bytes. */
#include <stdlib.h>
#include <string.h>

#include "http/http_form.h"
#include "http/http_mt.h"
#include "http/http_receiver.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum { SEG_CT, SEG_CL, SEG_SECRET, SEG_QUERY, SEG_BODY, SEGS };

static char *copy(const uint8_t *p, size_t len, int nul)
{
        char *s = malloc(len + (nul ? 1 : 0) + (len || nul ? 0 : 1));
        if (!s)
                abort();
        if (len)
                memcpy(s, p, len);
        if (nul)
                s[len] = 0;
        return s;
}

/* A decoded string field: NUL within its array, valid UTF-8. */
static void check_str(const char *s, size_t cap, int required)
{
        const char *end = memchr(s, 0, cap);
        if (!end || (required && end == s))
                abort();
        if (!http_utf8_valid((const uint8_t *)s, (size_t)(end - s)))
                abort();
}

static void check_msg(const struct http_rx_msg *m)
{
        check_str(m->message_id, sizeof m->message_id, 1);
        check_str(m->app_id, sizeof m->app_id, 0);
        check_str(m->conversation_id, sizeof m->conversation_id, 0);
        check_str(m->carrier, sizeof m->carrier, 0);
        if (m->is_dr) {
                if (m->state < 1 || m->state > 8 || (m->has_result && m->result_code > 999))
                        abort();
                return;
        }
        check_str(m->phone_number, sizeof m->phone_number, 1);
        check_str(m->shortcode, sizeof m->shortcode, 1);
        if (m->text_len > HTTP_RX_TEXT_MAX || m->text[m->text_len] != 0 ||
            !http_utf8_valid((const uint8_t *)m->text, m->text_len))
                abort();
}

/* Field i's name decoded into name (cap bytes); its length or < 0. */
static ssize_t field_name(const struct http_field *f, char *name, size_t cap)
{
        return http_form_decode(f->key, f->key_len, name, cap);
}

/* A message taken from in[0..len): every field name decodes into at most
 * 256 bytes of UTF-8 without a NUL; its message_id is the whole decoded
 * field (no NUL cut it short), found by decoded name, and came once. The
 * raw CR/LF bytes ending a body are not part of the form (the receiver's
 * documented rule, src/http/http_rx_parse.c), so they are not read here
 * either. */
static void check_whole_id(const struct http_rx_msg *m, const char *in, size_t len)
{
        while (len > 0 && (in[len - 1] == '\n' || in[len - 1] == '\r'))
                len--;
        struct http_field f[32];
        int n = http_form_parse(in, len, f, 32);
        const struct http_field *id = NULL;
        for (int i = 0; i < n; i++) {
                char name[257];
                ssize_t nl = field_name(&f[i], name, sizeof name);
                if (nl < 0 || memchr(name, 0, (size_t)nl) ||
                    !http_utf8_valid((const uint8_t *)name, (size_t)nl))
                        abort();
                if (strcmp(name, "message_id") != 0)
                        continue;
                if (id)
                        abort();        /* given twice, yet taken */
                id = &f[i];
        }
        if (!id)
                abort();
        char dec[HTTP_RX_ID_MAX + 1];
        ssize_t dl = http_form_decode(id->val, id->val_len, dec, sizeof dec);
        if (dl < 0 || strlen(m->message_id) != (size_t)dl || memcmp(dec, m->message_id, (size_t)dl) != 0)
                abort();
}

/* The form layer alone: views inside the input, decode/encode round trip. */
static void form_round_trip(const char *in, size_t len)
{
        struct http_field f[32];
        int n = http_form_parse(in, len, f, 32);
        for (int i = 0; i < n; i++) {
                if (f[i].key < in || f[i].key + f[i].key_len > in + len ||
                    f[i].val < in || f[i].val + f[i].val_len > in + len)
                        abort();
                char dec[512], enc[1600], again[512];
                ssize_t dl = http_form_decode(f[i].val, f[i].val_len, dec, sizeof dec);
                if (dl < 0)
                        continue;
                if ((size_t)dl >= sizeof dec || dec[dl] != 0)
                        abort();
                struct http_buf b = { enc, 0, sizeof enc };
                if (http_form_add(&b, "k", dec, (size_t)dl) < 0)
                        abort();       /* 3 bytes per byte always fit */
                ssize_t al = http_form_decode(enc + 2, b.len - 2, again, sizeof again);
                if (al != dl || memcmp(again, dec, (size_t)dl) != 0)
                        abort();
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static struct http_rx_msg m;
        if (size == 0)
                return 0;
        uint8_t flags = data[0];
        const uint8_t *seg[SEGS] = { 0 };
        size_t seg_len[SEGS] = { 0 };
        size_t at = 1;
        for (int s = 0; s < SEGS; s++) {
                const uint8_t *p = data + at;
                size_t left = size - at;
                const uint8_t *z = s < SEGS - 1 ? memchr(p, 0, left) : NULL;
                seg[s] = p;
                seg_len[s] = z ? (size_t)(z - p) : left;
                at += seg_len[s] + (z ? 1 : 0);
                if (!z)
                        break;
        }

        struct http_rx_config cfg;
        http_rx_config_init(&cfg);
        if (flags & 0x40)
                cfg.max_field = 8;
        char *ct = copy(seg[SEG_CT], seg_len[SEG_CT], 1);
        char *cl = copy(seg[SEG_CL], seg_len[SEG_CL], 1);
        char *sh = copy(seg[SEG_SECRET], seg_len[SEG_SECRET], 1);
        char *query = copy(seg[SEG_QUERY], seg_len[SEG_QUERY], 0);
        char *body = copy(seg[SEG_BODY], seg_len[SEG_BODY], 0);
        static const char *const paths[] = { HTTP_RX_PATH, "/", "/httpapi/receiver/", "" };
        static const char *const methods[] = { "POST", "GET", "post", "PUT" };
        struct http_rx_head h = {
                .path = paths[flags & 3], .method = methods[(flags >> 2) & 3],
                .content_type = flags & 0x10 ? NULL : ct,
                .content_length = flags & 0x20 ? NULL : cl,
                .n_headers = seg_len[SEG_CL] & 0x7F,
        };
        const char *why = NULL;
        int st = http_rx_check_head(&h, &cfg, &why);
        if (st != 0 && st != 400 && st != 404 && st != 405 && st != 413 && st != 415 && st != 431)
                abort();
        if (st && !why)
                abort();

        for (int pass = 0; pass < 2; pass++) {
                const char *in = pass ? query : body;
                size_t len = seg_len[pass ? SEG_QUERY : SEG_BODY];
                why = NULL;
                st = http_rx_parse(in, len, &cfg, &m, &why);
                if (st == 0) {
                        check_msg(&m);
                        check_whole_id(&m, in, len);
                }
                else if (st != 400 || !why)
                        abort();
                form_round_trip(in, len);
        }

        static const char secret[] = "s3cret";
        why = NULL;
        st = http_rx_check_secret(flags & 0x80 ? secret : "", flags & 0x80 ? sizeof secret - 1 : 0,
                                  flags & 0x10 ? sh : NULL, body, seg_len[SEG_BODY], &why);
        if (st != 0 && (st != 403 || !why || !(flags & 0x80)))
                abort();

        uint32_t code = 0;
        long status = (long)(seg_len[SEG_CT] * 7 % 700);
        int cls = http_answer_classify(status, body, seg_len[SEG_BODY], &code);
        if (cls < HTTP_ANS_ACCEPTED || cls > HTTP_ANS_ABNORMAL)
                abort();

        free(ct);
        free(cl);
        free(sh);
        free(query);
        free(body);
        return 0;
}
