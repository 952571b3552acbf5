/* libFuzzer target: the HTTP MT engine's reading of the service's answer
 * (src/http/http_mt_answer.c, http_answer_classify), as http_mt_finish
 * calls it: the body as the engine kept it (at most RESP_CAP - 1 bytes,
 * the rest dropped by the write callback), and any status curl may report.
 * fuzz_http_form reaches the same function with statuses made from a
 * segment's length; here the status is the input's.
 *
 * Input: two bytes of status (big-endian, 0-65535; the top value stands
 * for -1), then the body, copied to a heap buffer of exactly its size so a
 * read past it is caught. Checks, beyond ASan/UBSan, the rules of
 * http_mt.h: a status below 200 (none, 1xx) or from 500 is abnormal, 408 and 429
 * transient, 3xx abnormal, whatever the body says; a code that is not the
 * status came from a result_code field and is at most 999; accepted only
 * from a 2xx with result_code 0 or none; duplicate only with result_code 7;
 * transient otherwise only with result_code 6 or 98; the body's bytes past
 * its length change nothing. And the round trip: a body made with the
 * engine's own form encoder ("result_code=N", a CRLF after it, other
 * fields around it) gives back N and its class. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/http_form.h"
#include "http/http_mt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A failed check: which one, then abort (libFuzzer keeps the input). */
#define FAIL() do { fprintf(stderr, "%s:%d: check failed\n", __FILE__, __LINE__); abort(); } while (0)

#define RESP_KEPT 511   /* RESP_CAP - 1 (http_mt_int.h) */

static void check_rules(long status, uint32_t code, int cls)
{
        if (cls < HTTP_ANS_ACCEPTED || cls > HTTP_ANS_ABNORMAL)
                FAIL();
        if ((status < 200 || status >= 500) && cls != HTTP_ANS_ABNORMAL)
                FAIL();
        if ((status == 408 || status == 429) && cls != HTTP_ANS_TRANSIENT)
                FAIL();
        if (status >= 300 && status < 400 && cls != HTTP_ANS_ABNORMAL)
                FAIL();
        int from_body = code != (uint32_t)status;
        if (from_body && code > 999)
                FAIL();
        switch (cls) {
        case HTTP_ANS_ACCEPTED:
                if (status < 200 || status >= 300 || (from_body && code != 0))
                        FAIL();
                break;
        case HTTP_ANS_DUPLICATE:
                if (code != 7)
                        FAIL();
                break;
        case HTTP_ANS_TRANSIENT:
                if (status != 408 && status != 429 && code != 6 && code != 98)
                        FAIL();
                break;
        case HTTP_ANS_PERMANENT:
                if (code == 7 || code == 6 || code == 98 || (code == 0 && status < 300))
                        FAIL();
                break;
        default:
                break;
        }
}

/* The classification of body[0..len) twice: from an exact-size copy and
 * from one with other bytes after it; both must agree. */
static int classify(long status, const uint8_t *body, size_t len, uint32_t *code)
{
        char *exact = malloc(len ? len : 1);
        char *padded = malloc(len + 8);
        if (!exact || !padded)
                abort();
        if (len) {
                memcpy(exact, body, len);
                memcpy(padded, body, len);
        }
        memcpy(padded + len, "&result_", 8);
        uint32_t c1 = 0xDEAD, c2 = 0xBEEF;
        int a = http_answer_classify(status, exact, len, &c1);
        int b = http_answer_classify(status, padded, len, &c2);
        free(exact);
        free(padded);
        if (a != b || c1 != c2)
                FAIL();
        *code = c1;
        return a;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        if (size < 2)
                return 0;
        unsigned raw = (unsigned)data[0] << 8 | data[1];
        long status = raw == 0xFFFF ? -1 : (long)raw;
        const uint8_t *body = data + 2;
        size_t len = size - 2;
        if (len > RESP_KEPT)
                len = RESP_KEPT;
        uint32_t code;
        int cls = classify(status, body, len, &code);
        check_rules(status, code, cls);

        /* round trip: result_code N (from the status bytes) in a body the
         * form encoder builds, around the input's first bytes as another
         * field's value */
        uint32_t n = raw % 1000;
        char buf[RESP_KEPT + 1];
        struct http_buf b = { buf, 0, sizeof buf };
        size_t other = len < 64 ? len : 64;
        char num[8];
        int nl = snprintf(num, sizeof num, "%u", n);
        if (http_form_add(&b, "message_id", (const char *)body, other) < 0 ||
            http_form_add(&b, "result_code", num, (size_t)nl) < 0)
                FAIL();
        if (b.len + 2 >= sizeof buf)
                FAIL();
        memcpy(buf + b.len, "\r\n", 2);
        b.len += 2;
        long ok_status = 200;
        uint32_t got;
        int rc = classify(ok_status, (const uint8_t *)buf, b.len, &got);
        if (got != n)
                FAIL();
        int want = n == 0 ? HTTP_ANS_ACCEPTED : n == 7 ? HTTP_ANS_DUPLICATE
                 : n == 6 || n == 98 ? HTTP_ANS_TRANSIENT : HTTP_ANS_PERMANENT;
        if (rc != want)
                FAIL();
        return 0;
}
