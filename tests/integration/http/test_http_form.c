/* H1 field encoding and the pure pieces of the HTTP transport: form
 * encoding/parsing/decoding, UTF-8 checks, answer classification and the
 * receiver's checks (http_rx_check_head, http_rx_parse,
 * http_rx_check_secret). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "http/http_form.h"
#include "http/http_mt.h"
#include "http/http_receiver.h"
#include "testlib.h"

static void encode(const char *key, const char *val, char *out, size_t cap)
{
        struct http_buf b = { out, 0, cap };
        out[0] = 0;
        CHECK_EQ(http_form_add(&b, key, val, strlen(val)), 0);
}

static void test_form_encodes_plus_ampersand_equals_and_space(void)
{
        char buf[128];
        encode("message", "a+b&c=d e", buf, sizeof buf);
        CHECK_STR(buf, "message=a%2Bb%26c%3Dd+e");
}

static void test_form_encodes_utf8_bytes_and_emoji(void)
{
        char buf[128];
        encode("message", "\xC3\xBC\xF0\x9F\x98\x80", buf, sizeof buf);   /* ü 😀 */
        CHECK_STR(buf, "message=%C3%BC%F0%9F%98%80");
}

static void test_form_keeps_unreserved_bytes(void)
{
        char buf[128];
        encode("k", "AZaz09-._~", buf, sizeof buf);
        CHECK_STR(buf, "k=AZaz09-._~");
}

static void test_form_joins_fields_with_ampersand(void)
{
        char buf[128];
        struct http_buf b = { buf, 0, sizeof buf };
        CHECK_EQ(http_form_add(&b, "a", "1", 1), 0);
        CHECK_EQ(http_form_add(&b, "b", "2", 1), 0);
        CHECK_STR(buf, "a=1&b=2");
        CHECK_EQ(b.len, 7);
}

static void test_form_add_refuses_overflow_and_leaves_buffer(void)
{
        char buf[12];
        struct http_buf b = { buf, 0, sizeof buf };
        CHECK_EQ(http_form_add(&b, "a", "1", 1), 0);
        CHECK_EQ(http_form_add(&b, "message", "\xF0\x9F\x98\x80", 4), -ENOSPC);
        CHECK_STR(buf, "a=1");
        CHECK_EQ(b.len, 3);
}

static void test_form_round_trips_hostile_text(void)
{
        const char *texts[] = { "+", "&", "=", "%", "a+b & c", "\xF0\x9F\x98\x80+\xF0\x9F\x8E\x89",
                                "100% sure & <ok>?", "" };
        for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
                char enc[256], dec[256];
                encode("m", texts[i], enc, sizeof enc);
                struct http_field f[4];
                int n = http_form_parse(enc, strlen(enc), f, 4);
                CHECK_EQ(n, 1);
                ssize_t l = http_form_decode(f[0].val, f[0].val_len, dec, sizeof dec);
                CHECK_EQ(l, (ssize_t)strlen(texts[i]));
                CHECK_STR(dec, texts[i]);
        }
}

static void test_parse_skips_empty_pairs_and_keeps_keys_without_values(void)
{
        const char *body = "a=1&&b&c=";
        struct http_field f[8];
        int n = http_form_parse(body, strlen(body), f, 8);
        CHECK_EQ(n, 3);
        CHECK_EQ(f[1].key_len, 1);
        CHECK_EQ(f[1].val_len, 0);
        CHECK(http_form_find(f, n, "c") != NULL);
        CHECK(http_form_find(f, n, "d") == NULL);
}

static void test_parse_refuses_too_many_fields(void)
{
        const char *body = "a=1&b=2&c=3";
        struct http_field f[2];
        CHECK_EQ(http_form_parse(body, strlen(body), f, 2), -E2BIG);
}

static void test_decode_refuses_broken_percent_escapes(void)
{
        char out[16];
        CHECK_EQ(http_form_decode("%", 1, out, sizeof out), -EINVAL);
        CHECK_EQ(http_form_decode("%4", 2, out, sizeof out), -EINVAL);
        CHECK_EQ(http_form_decode("%zz", 3, out, sizeof out), -EINVAL);
        CHECK_EQ(http_form_decode("abcdef", 6, out, 4), -ENOSPC);
}

static void test_utf8_check_refuses_overlong_surrogate_and_truncated(void)
{
        CHECK(http_utf8_valid((const uint8_t *)"\xF0\x9F\x98\x80", 4));
        CHECK(!http_utf8_valid((const uint8_t *)"\xC0\xAF", 2));          /* overlong '/' */
        CHECK(!http_utf8_valid((const uint8_t *)"\xED\xA0\x80", 3));      /* surrogate */
        CHECK(!http_utf8_valid((const uint8_t *)"\xF0\x9F\x98", 3));      /* truncated */
        CHECK(!http_utf8_valid((const uint8_t *)"\xF4\x90\x80\x80", 4));  /* > U+10FFFF */
        CHECK(!http_utf8_valid((const uint8_t *)"\xFF", 1));
}

static void test_answer_duplicate_counts_as_accepted(void)
{
        uint32_t code;
        CHECK_EQ(http_answer_classify(200, "result_code=7&message_id=x", 26, &code), HTTP_ANS_DUPLICATE);
        CHECK_EQ(code, 7);
        CHECK_EQ(http_answer_classify(409, "result_code=7", 13, &code), HTTP_ANS_DUPLICATE);
}

static void test_answer_classes_follow_status_and_result_code(void)
{
        uint32_t code;
        CHECK_EQ(http_answer_classify(200, "result_code=0", 13, &code), HTTP_ANS_ACCEPTED);
        CHECK_EQ(http_answer_classify(200, "", 0, &code), HTTP_ANS_ACCEPTED);
        CHECK_EQ(http_answer_classify(429, "result_code=6", 13, &code), HTTP_ANS_TRANSIENT);
        CHECK_EQ(http_answer_classify(200, "result_code=98", 14, &code), HTTP_ANS_TRANSIENT);
        CHECK_EQ(http_answer_classify(401, "result_code=2", 13, &code), HTTP_ANS_PERMANENT);
        CHECK_EQ(code, 2);
        CHECK_EQ(http_answer_classify(400, "nonsense", 8, &code), HTTP_ANS_PERMANENT);
        CHECK_EQ(code, 400);
        CHECK_EQ(http_answer_classify(500, "result_code=98", 14, &code), HTTP_ANS_ABNORMAL);
        CHECK_EQ(http_answer_classify(503, "", 0, &code), HTTP_ANS_ABNORMAL);
        CHECK_EQ(http_answer_classify(302, "", 0, &code), HTTP_ANS_ABNORMAL);
        /* no status, or a 1xx one: no final answer, never accepted
         * (fuzz_http_answer found 100 with an empty body accepted) */
        CHECK_EQ(http_answer_classify(0, "", 0, &code), HTTP_ANS_ABNORMAL);
        CHECK_EQ(http_answer_classify(100, "", 0, &code), HTTP_ANS_ABNORMAL);
        CHECK_EQ(http_answer_classify(199, "result_code=0", 13, &code), HTTP_ANS_ABNORMAL);
        CHECK_EQ(http_answer_classify(200, "result_code=4\r\n", 15, &code), HTTP_ANS_PERMANENT);
}

static int rx_parse(const char *body, struct http_rx_msg *m, const char **why)
{
        struct http_rx_config c;
        http_rx_config_init(&c);
        return http_rx_parse(body, strlen(body), &c, m, why);
}

/* Each of bodies[0..n) gets 400 with the reason why_want (any reason when
 * NULL). */
static void check_refused(const char *const *bodies, size_t n, const char *why_want)
{
        static struct http_rx_msg m;
        for (size_t i = 0; i < n; i++) {
                const char *why = NULL;
                CHECK_EQ(rx_parse(bodies[i], &m, &why), 400);
                CHECK(why != NULL);
                if (why_want)
                        CHECK_STR(why, why_want);
        }
}

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

static void test_rx_parses_a_receipt(void)
{
        static struct http_rx_msg m;
        const char *why = NULL;
        CHECK_EQ(rx_parse("type=receipt&message_id=abc&message_state=2&result_code=0&app_id=x", &m, &why), 0);
        CHECK(m.is_dr);
        CHECK_STR(m.message_id, "abc");
        CHECK_EQ(m.state, 2);
        CHECK(m.has_result);
}

/* A body ended as a text line: the raw CR LF is not part of the last value
 * (the receipt is taken, not refused on every re-send); an encoded one in a
 * message stays. */
static void test_rx_ignores_a_trailing_line_break(void)
{
        static struct http_rx_msg m;
        const char *why = NULL;
        CHECK_EQ(rx_parse("type=receipt&message_id=abc&message_state=2&result_code=0\r\n", &m, &why), 0);
        CHECK_EQ(m.state, 2);
        CHECK(m.has_result);
        CHECK_EQ(m.result_code, 0);
        CHECK_EQ(rx_parse("type=receipt&message_id=abc&result_code=0&message_state=6\n", &m, &why), 0);
        CHECK_EQ(m.state, 6);
        CHECK_EQ(rx_parse("type=MO&message_id=m1&shortcode=1&phone_number=4&carrier=c&message=hi%0D%0A\r\n",
                          &m, &why), 0);
        CHECK_STR(m.text, "hi\r\n");
        CHECK_EQ(rx_parse("type=receipt&message_id=abc&message_state=2\r\n&result_code=0", &m, &why), 400);
}

static void test_rx_accepts_state_names(void)
{
        static struct http_rx_msg m;
        const char *why = NULL;
        CHECK_EQ(rx_parse("type=receipt&message_id=abc&message_state=UNDELIVERABLE", &m, &why), 0);
        CHECK_EQ(m.state, 5);
}

/* The type's value in any case (H4 writes `MO` and `receipt`). */
static void test_rx_takes_the_type_in_any_case(void)
{
        static struct http_rx_msg m;
        const char *why = NULL;
        CHECK_EQ(rx_parse("type=RECEIPT&message_id=abc&message_state=2", &m, &why), 0);
        CHECK(m.is_dr);
        CHECK_EQ(rx_parse("type=Receipt&message_id=abc&message_state=delivered", &m, &why), 0);
        CHECK(m.is_dr);
        CHECK_EQ(m.state, 2);
        CHECK_EQ(rx_parse("type=mo&message_id=m1&shortcode=1&phone_number=4&message=hi", &m, &why), 0);
        CHECK(!m.is_dr);
        CHECK_EQ(rx_parse("type=Mo&message_id=m1&shortcode=1&phone_number=4&message=hi", &m, &why), 0);
        CHECK(!m.is_dr);
        CHECK_EQ(rx_parse("type=mos&message_id=m1&shortcode=1&phone_number=4&message=hi", &m, &why), 400);
        CHECK_EQ(rx_parse("type=receipts&message_id=abc&message_state=2", &m, &why), 400);
}

static void test_rx_parses_an_mo_with_utf8_text(void)
{
        static struct http_rx_msg m;
        const char *why = NULL;
        CHECK_EQ(rx_parse("type=MO&message_id=m1&shortcode=12345&phone_number=447700900001"
                          "&carrier=c&message=hi+%F0%9F%98%80+%26+%2B", &m, &why), 0);
        CHECK(!m.is_dr);
        CHECK_STR(m.text, "hi \xF0\x9F\x98\x80 & +");
        CHECK_EQ(m.text_len, strlen("hi \xF0\x9F\x98\x80 & +"));
        CHECK_STR(m.phone_number, "447700900001");
}

static void test_rx_refuses_bad_fields_with_400(void)
{
        static const char *const bodies[] = {
                "message_id=a&message_state=2",                          /* no type */
                "type=other&message_id=a",
                "type=receipt&message_state=2",                          /* no id */
                "type=receipt&message_id=a&message_state=9",
                "type=receipt&message_id=a&message_state=FOO",
                "type=receipt&message_id=a&message_state=2&result_code=x",
                "type=MO&message_id=a&shortcode=1&phone_number=2&message=%ZZ",
                "type=MO&message_id=a&shortcode=1&phone_number=2&message=%C0%AF",
                "type=MO&message_id=a&phone_number=2",                   /* no shortcode */
                "type=receipt&message_id=",
        };
        check_refused(bodies, N_OF(bodies), NULL);
}

static void test_rx_refuses_overlong_message_id(void)
{
        static struct http_rx_msg m;
        char body[256] = "type=receipt&message_state=2&message_id=";
        size_t l = strlen(body);
        memset(body + l, 'x', 65);
        body[l + 65] = 0;
        const char *why = NULL;
        CHECK_EQ(rx_parse(body, &m, &why), 400);
}

static int head(const char *path, const char *method, const char *ct, const char *cl, unsigned nh,
                const char **why)
{
        struct http_rx_config c;
        http_rx_config_init(&c);
        struct http_rx_head h = { path, method, ct, cl, nh };
        *why = NULL;
        return http_rx_check_head(&h, &c, why);
}

static void test_rx_head_takes_a_form_post_to_the_receiver_path(void)
{
        const char *why;
        CHECK_EQ(head(HTTP_RX_PATH, "POST", "application/x-www-form-urlencoded", "10", 3, &why), 0);
        CHECK_EQ(head(HTTP_RX_PATH, "POST", "Application/X-WWW-Form-Urlencoded; charset=UTF-8", NULL, 3, &why), 0);
}

/* Whitespace around the media type (RFC 9110: OWS before ';' and at the
 * end of a field value is not part of it) is taken; another type is not. */
static void test_rx_head_takes_whitespace_around_the_content_type(void)
{
        const char *why;
        CHECK_EQ(head(HTTP_RX_PATH, "POST", "application/x-www-form-urlencoded ", "10", 3, &why), 0);
        CHECK_EQ(head(HTTP_RX_PATH, "POST", "application/x-www-form-urlencoded\t; charset=UTF-8", "10", 3, &why), 0);
        CHECK_EQ(head(HTTP_RX_PATH, "POST", "application/x-www-form-urlencoded x", "10", 3, &why), 415);
        CHECK_EQ(head(HTTP_RX_PATH, "POST", "application/x-www-form-urlencodedx", "10", 3, &why), 415);
}

/* The request target in absolute form (RFC 9112 3.2.2: a server must
 * accept it) names the same path; another path or a bare authority is 404. */
static void test_rx_head_takes_an_absolute_form_target(void)
{
        const char *why;
        const char *ct = "application/x-www-form-urlencoded";
        CHECK_EQ(head("http://127.0.0.1:8080" HTTP_RX_PATH, "POST", ct, "10", 3, &why), 0);
        CHECK_EQ(head("HTTPS://rx.example.com" HTTP_RX_PATH, "POST", ct, "10", 3, &why), 0);
        CHECK_EQ(head("http://127.0.0.1:8080/other", "POST", ct, "10", 3, &why), 404);
        CHECK_EQ(head("http://127.0.0.1:8080", "POST", ct, "10", 3, &why), 404);
        CHECK_EQ(head("http:" HTTP_RX_PATH, "POST", ct, "10", 3, &why), 404);
        CHECK_EQ(head("ftp://h" HTTP_RX_PATH, "POST", ct, "10", 3, &why), 404);
}

static void test_rx_head_answers_path_method_headers_type_length_in_order(void)
{
        const char *why;
        CHECK_EQ(head("/other", "GET", NULL, NULL, 100, &why), 404);
        CHECK(why != NULL);
        CHECK_EQ(head(HTTP_RX_PATH, "GET", NULL, NULL, 100, &why), 405);
        CHECK_EQ(head(HTTP_RX_PATH, "POST", NULL, "99999", 65, &why), 431);
        CHECK_EQ(head(HTTP_RX_PATH, "POST", NULL, "99999", 64, &why), 415);
        CHECK_EQ(head(HTTP_RX_PATH, "POST", "application/json", "10", 3, &why), 415);
        CHECK_EQ(head(HTTP_RX_PATH, "POST", "application/x-www-form-urlencodedx", "10", 3, &why), 415);
        CHECK_EQ(head(HTTP_RX_PATH, "POST", "application/x-www-form-urlencoded", "16385", 3, &why), 413);
        CHECK_EQ(head(HTTP_RX_PATH, "POST", "application/x-www-form-urlencoded", "16384", 3, &why), 0);
}

static int secret(const char *header, const char *body, const char **why)
{
        *why = NULL;
        return http_rx_check_secret("s3cret", 6, header, body, strlen(body), why);
}

static void test_rx_secret_from_header_or_field(void)
{
        const char *why;
        CHECK_EQ(secret("s3cret", "type=MO", &why), 0);
        CHECK_EQ(secret(NULL, "type=MO&secret=s3cret", &why), 0);
        CHECK_EQ(secret(NULL, "type=MO&secret=s3%63ret", &why), 0);
        CHECK_EQ(http_rx_check_secret("", 0, NULL, "type=MO", 7, &why), 0);
}

static void test_rx_secret_refuses_wrong_missing_or_longer_with_403(void)
{
        const char *why;
        CHECK_EQ(secret(NULL, "type=MO", &why), 403);
        CHECK(why != NULL);
        CHECK_EQ(secret("s3cre", "type=MO&secret=s3cret", &why), 403);   /* header wins */
        CHECK_EQ(secret("s3cretX", "type=MO", &why), 403);
        CHECK_EQ(secret(NULL, "type=MO&secret=s3cret%00", &why), 403);
        CHECK_EQ(secret(NULL, "type=MO&secret=%ZZ", &why), 403);
}

static void test_rx_refuses_nul_byte_in_fields_kept_as_strings(void)
{
        static const char *const bodies[] = {
                "type=receipt%00x&message_id=a&message_state=2",        /* once read as "receipt" */
                "type=receipt&message_id=a%00b&message_state=2",        /* once read as "a" */
                "type=receipt&message_id=a&message_state=2%00&result_code=0",
                "type=MO&message_id=a&shortcode=1%002&phone_number=2",
        };
        check_refused(bodies, N_OF(bodies), "field holds a NUL byte");
}

static void test_rx_keeps_a_nul_byte_in_message_text_with_its_length(void)
{
        static struct http_rx_msg m;
        const char *why = NULL;
        CHECK_EQ(rx_parse("type=MO&message_id=a&shortcode=1&phone_number=2&message=a%00b", &m, &why), 0);
        CHECK_EQ(m.text_len, 3);
        CHECK(memcmp(m.text, "a\0b", 4) == 0);
}

static void test_rx_refuses_a_field_it_reads_given_twice(void)
{
        static const char *const bodies[] = {
                "type=receipt&message_id=a&message_id=b&message_state=2",
                "type=MO&type=receipt&message_id=a&message_state=2&shortcode=1&phone_number=2",
                "type=receipt&message_id=a&message_state=2&message_state=5",
                "type=MO&message_id=a&shortcode=1&phone_number=2&message=x&message=y",
                "type=receipt&message_id=a&message_state=2&secret=s&secret=t",
        };
        check_refused(bodies, N_OF(bodies), "duplicate field");
}

static void test_rx_ignores_unknown_fields_given_twice(void)
{
        static struct http_rx_msg m;
        const char *why = NULL;
        CHECK_EQ(rx_parse("type=receipt&x=1&message_id=a&x=2&message_state=2", &m, &why), 0);
        CHECK_STR(m.message_id, "a");
}

static void test_rx_decodes_percent_escaped_field_names(void)
{
        static struct http_rx_msg m;
        const char *why = NULL;
        CHECK_EQ(rx_parse("typ%65=MO&message%5Fid=esc-1&short%63ode=1&phone_number=2&mess%61ge=hi", &m,
                          &why), 0);
        CHECK_STR(m.message_id, "esc-1");
        CHECK_STR(m.shortcode, "1");
        CHECK_EQ(m.text_len, 2);
        CHECK_STR(m.text, "hi");
        CHECK_EQ(rx_parse("type=receipt&message%5fid=esc-2&message%5Fstate=DELIVERED", &m, &why), 0);
        CHECK_STR(m.message_id, "esc-2");
        CHECK_EQ(m.state, 2);
}

static void test_rx_counts_an_escaped_name_and_its_plain_twin_as_a_duplicate(void)
{
        static const char *const bodies[] = {
                "type=receipt&message_id=a&message%5Fid=b&message_state=2",
                "type=receipt&message%5Fid=a&message%5fid=b&message_state=2",
                "type=MO&message_id=a&shortcode=1&phone_number=2&secret=s&%73ecret=t",
        };
        check_refused(bodies, N_OF(bodies), "duplicate field");
}

static void test_rx_refuses_field_names_that_would_be_refused_as_values(void)
{
        static const char *const nul[] = {
                "type=receipt&message_id=a&message_state=2&message%00_id=b",
                "type=receipt&message_id%00=b&message_state=2",
        };
        check_refused(nul, N_OF(nul), "field holds a NUL byte");
        static const char *const esc[] = {
                "type=receipt&message_id=a&message_state=2&x%ZZ=1",
                "type=receipt&message_id=a&message_state=2&x%4=1",
        };
        check_refused(esc, N_OF(esc), "bad percent-encoding");
        static const char *const utf8[] = { "type=receipt&message_id=a&message_state=2&%C0%AF=1" };
        check_refused(utf8, N_OF(utf8), "field is not UTF-8");
        /* a name longer than max_field (decoded), like a value; the limit
         * never falls below the longest name read, conversation_id */
        static struct http_rx_msg m;
        struct http_rx_config c;
        http_rx_config_init(&c);
        c.max_field = 16;
        const char *why = NULL;
        const char *ok = "type=MO&message_id=a&shortcode=1&phone_number=2&x%41%41%41%41%41%41%41"
                         "%41%41%41%41%41%41%41%41=1";
        CHECK_EQ(http_rx_parse(ok, strlen(ok), &c, &m, &why), 0);          /* 16 bytes */
        const char *bad = "type=MO&message_id=a&shortcode=1&phone_number=2&x%41%41%41%41%41%41%41"
                          "%41%41%41%41%41%41%41%41%41=1";
        CHECK_EQ(http_rx_parse(bad, strlen(bad), &c, &m, &why), 400);      /* 17 bytes */
        CHECK_STR(why, "field too long");
        c.max_field = 4;
        const char *conv = "type=MO&message_id=a&shortcode=1&phone_number=2&conversation_id=c";
        CHECK_EQ(http_rx_parse(conv, strlen(conv), &c, &m, &why), 0);
        CHECK_STR(m.conversation_id, "c");
        /* and never longer than 256 bytes, whatever max_field */
        c.max_field = 100000;
        char body[600] = "type=MO&message_id=a&shortcode=1&phone_number=2&";
        size_t l = strlen(body);
        memset(body + l, 'n', 257);
        memcpy(body + l + 257, "=1", 3);
        CHECK_EQ(http_rx_parse(body, strlen(body), &c, &m, &why), 400);
        memcpy(body + l + 256, "=1", 3);
        CHECK_EQ(http_rx_parse(body, strlen(body), &c, &m, &why), 0);
}

static void test_rx_secret_field_is_found_by_its_decoded_name(void)
{
        const char *why;
        CHECK_EQ(secret(NULL, "type=MO&secre%74=s3cret", &why), 0);
        CHECK_EQ(secret(NULL, "type=MO&secre%74=wrong", &why), 403);
}

static void test_rx_refuses_each_missing_required_field(void)
{
        static const char *const dr[] = { "type=receipt", "message_id=a", "message_state=2" };
        static const char *const mo[] = { "type=MO", "message_id=a", "shortcode=1", "phone_number=2" };
        static struct http_rx_msg m;
        for (int set = 0; set < 2; set++) {
                const char *const *f = set ? mo : dr;
                size_t n = set ? 4 : 3;
                for (size_t skip = 0; skip <= n; skip++) {
                        char body[128] = "";
                        for (size_t i = 0; i < n; i++) {
                                if (i == skip)
                                        continue;
                                if (body[0])
                                        strcat(body, "&");
                                strcat(body, f[i]);
                        }
                        const char *why = NULL;
                        CHECK_EQ(rx_parse(body, &m, &why), skip == n ? 0 : 400);
                }
        }
}

static void test_rx_percent_decoding_edges(void)
{
        static struct http_rx_msg m;
        const char *why = NULL;
        CHECK_EQ(rx_parse("type=MO&message_id=%61%62&shortcode=1&phone_number=%2B44&message=%c3%bc+%2b%25", &m, &why), 0);
        CHECK_STR(m.message_id, "ab");
        CHECK_STR(m.phone_number, "+44");
        CHECK_STR(m.text, "\xC3\xBC +%");
        static const char *const bad[] = {
                "type=MO&message_id=a&shortcode=1&phone_number=2&message=%",
                "type=MO&message_id=a&shortcode=1&phone_number=2&message=%4",
                "type=MO&message_id=a&shortcode=1&phone_number=2&message=%%41",
                "type=MO&message_id=a&shortcode=1&phone_number=2&message=%+1",
                "type=MO&message_id=a&shortcode=1&phone_number=2&message=%C0%80",    /* overlong NUL */
                "type=MO&message_id=a&shortcode=1&phone_number=2&message=%F4%90%80%80", /* > U+10FFFF */
                "type=MO&message_id=a&shortcode=1&phone_number=2&message=%E2%82",    /* cut short */
        };
        check_refused(bad, N_OF(bad), NULL);
}

static void test_rx_takes_4096_bytes_of_text_and_refuses_4097(void)
{
        static char body[16384];
        static struct http_rx_msg m;
        for (int extra = 0; extra < 2; extra++) {
                int n = snprintf(body, sizeof body, "type=MO&message_id=a&shortcode=1&phone_number=2&message=");
                for (int i = 0; i < HTTP_RX_TEXT_MAX / 2 - 1; i++)
                        n += snprintf(body + n, sizeof body - (size_t)n, "%%C3%%BC");   /* 2 bytes each */
                n += snprintf(body + n, sizeof body - (size_t)n, extra ? "abc" : "ab");
                const char *why = NULL;
                CHECK_EQ(rx_parse(body, &m, &why), extra ? 400 : 0);
                if (!extra)
                        CHECK_EQ(m.text_len, HTTP_RX_TEXT_MAX);
                else
                        CHECK_STR(why, "field too long");
        }
}

static void test_rx_max_field_at_uint32_max_still_bounds_by_the_arrays(void)
{
        static struct http_rx_msg m;
        struct http_rx_config c;
        http_rx_config_init(&c);
        c.max_field = UINT32_MAX;     /* max_field + 1 once wrapped to 0: every field "too long" */
        const char *why = NULL;
        const char *ok = "type=receipt&message_id=abc&message_state=2";
        CHECK_EQ(http_rx_parse(ok, strlen(ok), &c, &m, &why), 0);
        CHECK_STR(m.message_id, "abc");
        char body[256] = "type=receipt&message_state=2&message_id=";
        size_t l = strlen(body);
        memset(body + l, 'x', HTTP_RX_ID_MAX + 1);
        body[l + HTTP_RX_ID_MAX + 1] = 0;
        CHECK_EQ(http_rx_parse(body, strlen(body), &c, &m, &why), 400);
}

static void test_rx_head_content_length_bad_huge_and_zero_padded(void)
{
        const char *why;
        const char *form = "application/x-www-form-urlencoded";
        CHECK_EQ(head(HTTP_RX_PATH, "POST", form, "abc", 3, &why), 400);
        CHECK_STR(why, "bad Content-Length");
        CHECK_EQ(head(HTTP_RX_PATH, "POST", form, "-1", 3, &why), 400);
        CHECK_EQ(head(HTTP_RX_PATH, "POST", form, "", 3, &why), 400);
        CHECK_EQ(head(HTTP_RX_PATH, "POST", form, "12 ", 3, &why), 400);
        CHECK_EQ(head(HTTP_RX_PATH, "POST", form, "99999999999999999999", 3, &why), 413);
        CHECK_EQ(head(HTTP_RX_PATH, "POST", form, "4294967296", 3, &why), 413);
        CHECK_EQ(head(HTTP_RX_PATH, "POST", form, "000000000000000012", 3, &why), 0);
        CHECK_EQ(head(HTTP_RX_PATH, "POST", form, "0", 3, &why), 0);
}

/* Mutated and random bodies: the parser answers 0 or 400 for every one and
 * never reads outside the body (ASan run). */
static void test_rx_parse_survives_100k_mutated_bodies(void)
{
        static const char *seeds[] = {
                "type=receipt&message_id=abc&message_state=2&result_code=0&app_id=x",
                "type=MO&message_id=m1&shortcode=12345&phone_number=447700900001&message=hi+%F0%9F%98%80",
        };
        static const char alphabet[] = "=&%+aZ09\xF0\x80\xC3\xFF";
        uint64_t x = 0x9E3779B97F4A7C15ull;
        int bad = 0, ok = 0;
        for (int i = 0; i < 100000; i++) {
                char buf[256];
                const char *seed = seeds[i & 1];
                size_t n = strlen(seed);
                memcpy(buf, seed, n);
                int edits = 1 + (int)(x % 8);
                for (int k = 0; k < edits; k++) {
                        x ^= x << 13;
                        x ^= x >> 7;
                        x ^= x << 17;
                        size_t at = (size_t)(x >> 8) % n;
                        switch ((x >> 40) % 3) {
                        case 0:
                                buf[at] = alphabet[(x >> 20) % (sizeof alphabet - 1)];
                                break;
                        case 1:
                                n = at;                          /* truncate */
                                break;
                        default:
                                buf[at] = (char)(x >> 32);       /* any byte */
                                break;
                        }
                        if (n == 0)
                                break;
                }
                /* the parser takes a view: no NUL after it */
                char *heap = malloc(n ? n : 1);
                memcpy(heap, buf, n);
                static struct http_rx_msg m;
                const char *why = NULL;
                struct http_rx_config c;
                http_rx_config_init(&c);
                int rc = http_rx_parse(heap, n, &c, &m, &why);
                free(heap);
                if (rc == 0)
                        ok++;
                else if (rc == 400 && why)
                        bad++;
        }
        CHECK_EQ(ok + bad, 100000);
        CHECK(ok > 0);
        CHECK(bad > 0);
}

int main(void)
{
        RUN(test_form_encodes_plus_ampersand_equals_and_space);
        RUN(test_form_encodes_utf8_bytes_and_emoji);
        RUN(test_form_keeps_unreserved_bytes);
        RUN(test_form_joins_fields_with_ampersand);
        RUN(test_form_add_refuses_overflow_and_leaves_buffer);
        RUN(test_form_round_trips_hostile_text);
        RUN(test_parse_skips_empty_pairs_and_keeps_keys_without_values);
        RUN(test_parse_refuses_too_many_fields);
        RUN(test_decode_refuses_broken_percent_escapes);
        RUN(test_utf8_check_refuses_overlong_surrogate_and_truncated);
        RUN(test_answer_duplicate_counts_as_accepted);
        RUN(test_answer_classes_follow_status_and_result_code);
        RUN(test_rx_parses_a_receipt);
        RUN(test_rx_ignores_a_trailing_line_break);
        RUN(test_rx_accepts_state_names);
        RUN(test_rx_takes_the_type_in_any_case);
        RUN(test_rx_parses_an_mo_with_utf8_text);
        RUN(test_rx_refuses_bad_fields_with_400);
        RUN(test_rx_refuses_overlong_message_id);
        RUN(test_rx_parse_survives_100k_mutated_bodies);
        RUN(test_rx_head_takes_a_form_post_to_the_receiver_path);
        RUN(test_rx_head_takes_an_absolute_form_target);
        RUN(test_rx_head_takes_whitespace_around_the_content_type);
        RUN(test_rx_head_answers_path_method_headers_type_length_in_order);
        RUN(test_rx_secret_from_header_or_field);
        RUN(test_rx_secret_refuses_wrong_missing_or_longer_with_403);
        RUN(test_rx_refuses_nul_byte_in_fields_kept_as_strings);
        RUN(test_rx_decodes_percent_escaped_field_names);
        RUN(test_rx_counts_an_escaped_name_and_its_plain_twin_as_a_duplicate);
        RUN(test_rx_refuses_field_names_that_would_be_refused_as_values);
        RUN(test_rx_secret_field_is_found_by_its_decoded_name);
        RUN(test_rx_keeps_a_nul_byte_in_message_text_with_its_length);
        RUN(test_rx_refuses_a_field_it_reads_given_twice);
        RUN(test_rx_ignores_unknown_fields_given_twice);
        RUN(test_rx_refuses_each_missing_required_field);
        RUN(test_rx_percent_decoding_edges);
        RUN(test_rx_takes_4096_bytes_of_text_and_refuses_4097);
        RUN(test_rx_max_field_at_uint32_max_still_bounds_by_the_arrays);
        RUN(test_rx_head_content_length_bad_huge_and_zero_padded);
        return t_done();
}
