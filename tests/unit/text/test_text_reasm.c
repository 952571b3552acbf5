/* MO reassembly table (SMPP.md §9.4; HOSTILE G-03, H-07, H-09, H-11). */
#include "testlib.h"
#include "text/text.h"

static uint8_t out[64 * 1024];

static struct smx_reasm_key key(const char *src, uint16_t ref, uint8_t total)
{
        return (struct smx_reasm_key){
                .src = (const uint8_t *)src, .src_len = strlen(src),
                .dst = (const uint8_t *)"12025550100", .dst_len = 11,
                .ref = ref, .total = total,
        };
}

static int add(struct smx_reasm *r, const struct smx_reasm_key *k, uint8_t seq, const char *s,
               uint64_t now, struct smx_reasm_msg *m)
{
        return smx_reasm_add(r, k, seq, SMPP_DCS_IA5, (const uint8_t *)s, strlen(s), now, m,
                             out, sizeof(out));
}

static void test_reasm_joins_parts_in_order(void)
{
        struct smx_reasm *r = smx_reasm_create(NULL);
        struct smx_reasm_key k = key("447700900000", 0x2A, 3);
        struct smx_reasm_msg m;
        CHECK_EQ(add(r, &k, 1, "Hello, ", 0, &m), SMX_REASM_HELD);
        CHECK_EQ(add(r, &k, 2, "wide ", 1, &m), SMX_REASM_HELD);
        CHECK_EQ(add(r, &k, 3, "world", 2, &m), SMX_REASM_DONE);
        CHECK_EQ(m.len, 17);
        CHECK_MEM(out, "Hello, wide world", 17);
        CHECK_EQ(m.flags, 0);
        CHECK_EQ(m.parts, 3);
        CHECK_EQ(m.ref, 0x2A);
        CHECK_EQ(m.src_len, 12);
        CHECK_MEM(m.src, "447700900000", 12);
        CHECK_EQ(m.dcs, SMPP_DCS_IA5);
        CHECK_EQ(smx_reasm_open(r), 0);
        smx_reasm_destroy(r);
}

static void test_reasm_accepts_parts_out_of_order(void)
{
        struct smx_reasm *r = smx_reasm_create(NULL);
        struct smx_reasm_key k = key("447700900000", 7, 3);
        struct smx_reasm_msg m;
        CHECK_EQ(add(r, &k, 3, "C", 0, &m), SMX_REASM_HELD);
        CHECK_EQ(add(r, &k, 1, "A", 0, &m), SMX_REASM_HELD);
        CHECK_EQ(add(r, &k, 2, "B", 0, &m), SMX_REASM_DONE);
        CHECK_EQ(m.len, 3);
        CHECK_MEM(out, "ABC", 3);
        smx_reasm_destroy(r);
}

static void test_h07_duplicate_part_is_dropped(void)
{
        struct smx_reasm *r = smx_reasm_create(NULL);
        struct smx_reasm_key k = key("447700900000", 9, 3);
        struct smx_reasm_msg m;
        CHECK_EQ(add(r, &k, 1, "one ", 0, &m), SMX_REASM_HELD);
        CHECK_EQ(add(r, &k, 1, "one ", 1, &m), SMX_REASM_DUP);
        CHECK_EQ(add(r, &k, 2, "two ", 2, &m), SMX_REASM_HELD);
        CHECK_EQ(add(r, &k, 2, "two ", 2, &m), SMX_REASM_DUP);
        CHECK_EQ(add(r, &k, 3, "three", 3, &m), SMX_REASM_DONE);
        CHECK_EQ(m.len, 13);
        CHECK_MEM(out, "one two three", 13);
        smx_reasm_destroy(r);
}

static void test_h09_incomplete_group_times_out_as_partial(void)
{
        struct smx_reasm_config c = { .timeout_ms = 1000 };
        struct smx_reasm *r = smx_reasm_create(&c);
        struct smx_reasm_key k = key("447700900000", 1, 3);
        struct smx_reasm_msg m;
        CHECK_EQ(add(r, &k, 1, "first ", 100, &m), SMX_REASM_HELD);
        CHECK_EQ(add(r, &k, 3, "third", 200, &m), SMX_REASM_HELD);
        CHECK_EQ(smx_reasm_expire(r, 1099, &m, out, sizeof(out)), 0);
        CHECK_EQ(smx_reasm_expire(r, 1100, &m, out, sizeof(out)), 1);
        CHECK(m.flags & SMX_REASM_F_PARTIAL);
        CHECK(m.flags & SMX_REASM_F_TIMEOUT);
        CHECK_EQ(m.parts, 2);
        CHECK_EQ(m.total, 3);
        CHECK_EQ(m.missing_first, 2);
        CHECK_EQ(m.len, 11);
        CHECK_MEM(out, "first third", 11);
        CHECK_EQ(smx_reasm_open(r), 0);
        CHECK_EQ(smx_reasm_expire(r, 5000, &m, out, sizeof(out)), 0);
        smx_reasm_destroy(r);
}

static void test_h11_ref_reuse_after_completion_is_a_new_message(void)
{
        struct smx_reasm *r = smx_reasm_create(NULL);
        struct smx_reasm_key k = key("447700900000", 0x2A, 2);
        struct smx_reasm_msg m;
        CHECK_EQ(add(r, &k, 1, "AA", 0, &m), SMX_REASM_HELD);
        CHECK_EQ(add(r, &k, 2, "BB", 0, &m), SMX_REASM_DONE);
        CHECK_EQ(add(r, &k, 2, "DD", 60000, &m), SMX_REASM_HELD);
        CHECK_EQ(add(r, &k, 1, "CC", 60001, &m), SMX_REASM_DONE);
        CHECK_EQ(m.len, 4);
        CHECK_MEM(out, "CCDD", 4);
        smx_reasm_destroy(r);
}

static void test_h11_ref_reuse_after_window_is_not_spliced(void)
{
        struct smx_reasm_config c = { .timeout_ms = 30000 };
        struct smx_reasm *r = smx_reasm_create(&c);
        struct smx_reasm_key k = key("447700900000", 0x2A, 2);
        struct smx_reasm_msg m;
        CHECK_EQ(add(r, &k, 1, "old", 0, &m), SMX_REASM_HELD);
        /* A minute later the same sender reuses ref 0x2A: the old part must
         * leave as partial and not be joined with the new message. */
        CHECK_EQ(add(r, &k, 2, "NEW2", 60000, &m), SMX_REASM_FLUSHED);
        CHECK(m.flags & SMX_REASM_F_PARTIAL);
        CHECK_EQ(m.len, 3);
        CHECK_MEM(out, "old", 3);
        CHECK_EQ(add(r, &k, 1, "NEW1", 60001, &m), SMX_REASM_DONE);
        CHECK_EQ(m.len, 8);
        CHECK_MEM(out, "NEW1NEW2", 8);
        smx_reasm_destroy(r);
}

static void test_key_separates_senders_and_totals(void)
{
        struct smx_reasm *r = smx_reasm_create(NULL);
        struct smx_reasm_key a = key("111", 5, 2), b = key("222", 5, 2), c = key("111", 5, 3);
        struct smx_reasm_msg m;
        CHECK_EQ(add(r, &a, 1, "a1", 0, &m), SMX_REASM_HELD);
        CHECK_EQ(add(r, &b, 1, "b1", 0, &m), SMX_REASM_HELD);
        CHECK_EQ(add(r, &c, 1, "c1", 0, &m), SMX_REASM_HELD);
        CHECK_EQ(smx_reasm_open(r), 3);
        CHECK_EQ(add(r, &b, 2, "b2", 0, &m), SMX_REASM_DONE);
        CHECK_MEM(out, "b1b2", 4);
        CHECK_EQ(add(r, &a, 2, "a2", 0, &m), SMX_REASM_DONE);
        CHECK_MEM(out, "a1a2", 4);
        smx_reasm_destroy(r);
}

static void test_full_table_evicts_oldest_group_as_partial(void)
{
        struct smx_reasm_config c = { .max_groups = 2 };
        struct smx_reasm *r = smx_reasm_create(&c);
        struct smx_reasm_key a = key("1", 1, 2), b = key("2", 2, 2), d = key("3", 3, 2);
        struct smx_reasm_msg m;
        CHECK_EQ(add(r, &a, 1, "a", 0, &m), SMX_REASM_HELD);
        CHECK_EQ(add(r, &b, 1, "b", 1, &m), SMX_REASM_HELD);
        CHECK_EQ(add(r, &d, 1, "d", 2, &m), SMX_REASM_FLUSHED);
        CHECK(m.flags & SMX_REASM_F_EVICTED);
        CHECK(m.flags & SMX_REASM_F_PARTIAL);
        CHECK_EQ(m.ref, 1);
        CHECK_MEM(out, "a", 1);
        CHECK_EQ(smx_reasm_open(r), 2);
        CHECK_EQ(add(r, &b, 2, "B", 3, &m), SMX_REASM_DONE);
        CHECK_MEM(out, "bB", 2);
        smx_reasm_destroy(r);
}

static void test_part_pool_exhaustion_evicts_another_group(void)
{
        /* 255 slots (the minimum); group A holds 200 parts, B grows to need more. */
        struct smx_reasm_config c = { .max_groups = 4, .max_parts = 1 };
        struct smx_reasm *r = smx_reasm_create(&c);
        struct smx_reasm_key a = key("1", 1, 250), b = key("2", 2, 250);
        struct smx_reasm_msg m;
        int flushed = 0;
        for (int i = 1; i <= 200; i++)
                CHECK_EQ(add(r, &a, (uint8_t)i, "a", 0, &m), SMX_REASM_HELD);
        for (int i = 1; i <= 100; i++) {
                int rc = add(r, &b, (uint8_t)i, "b", 1, &m);
                if (rc == SMX_REASM_FLUSHED) {
                        flushed++;
                        CHECK_EQ(m.ref, 1);
                        CHECK_EQ(m.parts, 200);
                        CHECK(m.flags & SMX_REASM_F_EVICTED);
                } else {
                        CHECK_EQ(rc, SMX_REASM_HELD);
                }
        }
        CHECK_EQ(flushed, 1);
        CHECK_EQ(smx_reasm_open(r), 1);
        smx_reasm_destroy(r);
}

static void test_g03_surrogate_split_across_parts_decodes_once_joined(void)
{
        struct smx_reasm *r = smx_reasm_create(NULL);
        struct smx_reasm_key k = key("447700900000", 3, 2);
        struct smx_reasm_msg m;
        const uint8_t p1[] = {0x00, 0x41, 0xD8, 0x3D};
        const uint8_t p2[] = {0xDE, 0x00};
        uint8_t text[16];
        struct smx_text_result res;
        CHECK_EQ(smx_reasm_add(r, &k, 1, SMPP_DCS_UCS2, p1, 4, 0, &m, out, sizeof(out)), SMX_REASM_HELD);
        CHECK_EQ(smx_reasm_add(r, &k, 2, SMPP_DCS_UCS2, p2, 2, 0, &m, out, sizeof(out)), SMX_REASM_DONE);
        CHECK_EQ(smx_text_decode(m.dcs, out, m.len, NULL, text, sizeof(text), &res), 0);
        CHECK_EQ(res.len, 5);
        CHECK_MEM(text, "A\xF0\x9F\x98\x80", 5);
        CHECK_EQ(res.flags, 0);
        smx_reasm_destroy(r);
}

static void test_reasm_rejects_bad_seq_total_and_long_parts(void)
{
        struct smx_reasm *r = smx_reasm_create(NULL);
        struct smx_reasm_key k = key("1", 1, 2), one = key("1", 1, 1);
        struct smx_reasm_msg m;
        uint8_t big[300] = {0};
        CHECK_EQ(add(r, &k, 0, "x", 0, &m), SMX_EINVAL);
        CHECK_EQ(add(r, &k, 3, "x", 0, &m), SMX_EINVAL);
        CHECK_EQ(add(r, &one, 1, "x", 0, &m), SMX_EINVAL);
        CHECK_EQ(smx_reasm_add(r, &k, 1, 0, big, sizeof(big), 0, &m, out, sizeof(out)), SMX_E2BIG);
        CHECK_EQ(smx_reasm_open(r), 0);
        smx_reasm_destroy(r);
}

static void test_reasm_small_output_buffer_truncates_with_flag(void)
{
        struct smx_reasm *r = smx_reasm_create(NULL);
        struct smx_reasm_key k = key("1", 1, 2);
        struct smx_reasm_msg m;
        uint8_t small[5];
        smx_reasm_add(r, &k, 1, 0, (const uint8_t *)"abcd", 4, 0, &m, small, sizeof(small));
        CHECK_EQ(smx_reasm_add(r, &k, 2, 0, (const uint8_t *)"efgh", 4, 0, &m, small, sizeof(small)),
                 SMX_REASM_DONE);
        CHECK_EQ(m.len, 5);
        CHECK(m.flags & SMX_REASM_F_TRUNCATED);
        CHECK_MEM(small, "abcde", 5);
        smx_reasm_destroy(r);
}

static void test_parts_with_different_data_coding_are_flagged(void)
{
        struct smx_reasm *r = smx_reasm_create(NULL);
        struct smx_reasm_key k = key("1", 1, 2);
        struct smx_reasm_msg m;
        smx_reasm_add(r, &k, 1, SMPP_DCS_GSM, (const uint8_t *)"ab", 2, 0, &m, out, sizeof(out));
        CHECK_EQ(smx_reasm_add(r, &k, 2, SMPP_DCS_UCS2, (const uint8_t *)"cd", 2, 0, &m, out,
                               sizeof(out)), SMX_REASM_DONE);
        CHECK(m.flags & SMX_REASM_F_DCS_MIXED);
        CHECK_EQ(m.dcs, SMPP_DCS_GSM);
        smx_reasm_destroy(r);
}

static void test_expire_goes_oldest_first(void)
{
        struct smx_reasm_config c = { .timeout_ms = 10 };
        struct smx_reasm *r = smx_reasm_create(&c);
        struct smx_reasm_key a = key("1", 1, 2), b = key("2", 2, 2);
        struct smx_reasm_msg m;
        add(r, &a, 1, "a", 0, &m);
        add(r, &b, 1, "b", 5, &m);
        CHECK_EQ(smx_reasm_expire(r, 12, &m, out, sizeof(out)), 1);
        CHECK_EQ(m.ref, 1);
        CHECK_EQ(smx_reasm_expire(r, 12, &m, out, sizeof(out)), 0);
        CHECK_EQ(smx_reasm_expire(r, 15, &m, out, sizeof(out)), 1);
        CHECK_EQ(m.ref, 2);
        smx_reasm_destroy(r);
}

int main(void)
{
        RUN(test_reasm_joins_parts_in_order);
        RUN(test_reasm_accepts_parts_out_of_order);
        RUN(test_h07_duplicate_part_is_dropped);
        RUN(test_h09_incomplete_group_times_out_as_partial);
        RUN(test_h11_ref_reuse_after_completion_is_a_new_message);
        RUN(test_h11_ref_reuse_after_window_is_not_spliced);
        RUN(test_key_separates_senders_and_totals);
        RUN(test_full_table_evicts_oldest_group_as_partial);
        RUN(test_part_pool_exhaustion_evicts_another_group);
        RUN(test_g03_surrogate_split_across_parts_decodes_once_joined);
        RUN(test_reasm_rejects_bad_seq_total_and_long_parts);
        RUN(test_reasm_small_output_buffer_truncates_with_flag);
        RUN(test_parts_with_different_data_coding_are_flagged);
        RUN(test_expire_goes_oldest_first);
        return t_done();
}
