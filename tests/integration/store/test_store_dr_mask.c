/* The DR scripts of the Redis store (src/store/rstore_lua.c) against a real
 * redis-server: a correlated DR is deduplicated and made "MT final" through
 * the mask in its correlation value, not through keys of its own; every
 * path that routes (the DR script, the correlation script for parked DRs)
 * tests and sets the same bit, so a DR re-sent while its first copy is
 * parked is routed once; a replayed correlation write (SET NX) keeps the
 * mask; another MT's value under the key is replaced; a value written by
 * the previous version (no mask) is still routed; a DR that parks leaves a
 * placeholder in the correlation key, which the correlation write's SET NX
 * GET returns (no EXISTS per write) and the park sweep removes. */
#include <hiredis/hiredis.h>

#include "rtest.h"
#include "store/rstore_int.h"
#include "testlib.h"

#define STREAM "smsmux:{t}:s:a"
/* a message id's hash tag: always 22 characters (rs_tag), which the DR
 * script relies on to cut the cluster and the tag from its key */
#define TAG(n) "h" #n "aaaaaaaaaaaaaaaaaaaa"

static struct rtest_redis R;
static redisContext *C;
static char sha_dr[41], sha_corr[41], sha_sweep[41], sha_many[41];

static redisReply *cmd_argv(int argc, const char **argv)
{
        size_t lens[24];
        for (int i = 0; i < argc; i++)
                lens[i] = strlen(argv[i]);
        return redisCommandArgv(C, argc, argv, lens);
}

static long long reply_int(redisReply *r)
{
        long long v = r && r->type == REDIS_REPLY_INTEGER ? r->integer : -100;
        if (r && r->type == REDIS_REPLY_ERROR)
                printf("# %s\n", r->str);
        if (r)
                freeReplyObject(r);
        return v;
}

static long long simple(const char *a, const char *b, const char *c)
{
        const char *argv[] = { a, b, c };
        return reply_int(cmd_argv(c ? 3 : 2, argv));
}

static void set_corr(const char *h, const char *value)
{
        char k[64];
        snprintf(k, sizeof k, "smsmux:{t:%s}:c", h);
        const char *argv[] = { "SET", k, value, "PX", "100000" };
        redisReply *r = cmd_argv(5, argv);
        CHECK(r && r->type == REDIS_REPLY_STATUS);
        freeReplyObject(r);
}

/* the DR script: 0 duplicate, 1 routed, 2 parked (KEYS the correlation
 * key; ARGV state, payload, TTL, now \37 window \37 park timeout \37 us) */
static long long dr(const char *h, const char *state)
{
        char kc[64], pl[64];
        snprintf(kc, sizeof kc, "smsmux:{t:%s}:c", h);
        snprintf(pl, sizeof pl, "1:%s2:m10:0:0:0:", state);     /* state, msgid "m1", 4 empty */
        const char *argv[] = { "EVALSHA", sha_dr, "1", kc, state, pl, "100000",
                               "1000\x1f" "600000\x1f" "60000\x1f" "a" };
        return reply_int(cmd_argv(8, argv));
}

static long long corr_script(const char *h, const char *value)
{
        char kc[64], kp[64];
        snprintf(kc, sizeof kc, "smsmux:{t:%s}:c", h);
        snprintf(kp, sizeof kp, "smsmux:{t:%s}:p", h);
        const char *argv[] = { "EVALSHA", sha_corr, "2", kc, kp, "t", "1000", "100000", "a",
                               value, h };
        return reply_int(cmd_argv(11, argv));
}

/* the stream's DR entries for app id `app`: count, and their headers
 * ("D" fin mst) concatenated with '|' into hdrs */
static int entries_for(const char *app, char *hdrs, size_t cap)
{
        redisReply *r = redisCommand(C, "XRANGE " STREAM " - +");
        int n = 0;
        hdrs[0] = 0;
        for (size_t i = 0; r && r->type == REDIS_REPLY_ARRAY && i < r->elements; i++) {
                redisReply *fv = r->element[i]->element[1];
                const char *v = fv->element[1]->str;
                size_t vl = fv->element[1]->len, al = strlen(app);
                if (vl > al && !memcmp(v + vl - al, app, al) && v[vl - al - 1] == 0x1f) {
                        n++;
                        const char *sep = memchr(v, 0x1f, vl);
                        size_t used = strlen(hdrs);
                        snprintf(hdrs + used, cap - used, "%s%.*s", used ? "|" : "",
                                 (int)(sep ? sep - v : 0), v);
                }
        }
        if (r)
                freeReplyObject(r);
        return n;
}

static void test_correlated_dr_once_per_state_final_once_no_keys_of_its_own(void)
{
        char hdrs[128];
        set_corr(TAG(1), "0\x1f" "a\x1f" "1\x1f" "1\x1f\x1f" "app1");
        CHECK_EQ(dr(TAG(1), "6"), 1);             /* ACCEPTED */
        CHECK_EQ(dr(TAG(1), "6"), 0);
        CHECK_EQ(dr(TAG(1), "2"), 1);             /* DELIVERED: the MT's final */
        CHECK_EQ(dr(TAG(1), "2"), 0);
        CHECK_EQ(dr(TAG(1), "5"), 1);             /* another final state: not final again */
        CHECK_EQ(entries_for("app1", hdrs, sizeof hdrs), 3);
        CHECK(!strcmp(hdrs, "D00|D12|D00"));
        CHECK_EQ(simple("EXISTS", "smsmux:{t:" TAG(1) "}:d2", NULL), 0);
        CHECK_EQ(simple("EXISTS", "smsmux:{t:" TAG(1) "}:f", NULL), 0);
        long long ttl = simple("PTTL", "smsmux:{t:" TAG(1) "}:c", NULL);
        CHECK(ttl > 0 && ttl <= 100000);        /* the rewrite kept the TTL */
        /* a replayed correlation write (SET NX) leaves the mask: still a duplicate */
        const char *argv[] = { "SET", "smsmux:{t:" TAG(1) "}:c", "0\x1f" "a\x1f" "1\x1f" "1\x1f\x1f" "app1",
                               "NX", "GET", "PX", "100000" };
        redisReply *r = cmd_argv(7, argv);
        CHECK(r && r->type == REDIS_REPLY_STRING);
        freeReplyObject(r);
        CHECK_EQ(dr(TAG(1), "2"), 0);
        CHECK_EQ(entries_for("app1", hdrs, sizeof hdrs), 3);
}

static void test_parked_dr_resent_after_correlation_routed_once(void)
{
        char hdrs[128];
        CHECK_EQ(dr(TAG(2), "2"), 2);             /* no correlation yet: parked */
        CHECK_EQ(dr(TAG(2), "2"), 0);             /* re-sent while parked */
        /* parked under its tag, due at now + park timeout; its dedup key */
        redisReply *z = redisCommand(C, "ZSCORE smsmux:{t}:parked %s", TAG(2));
        CHECK(z && z->type == REDIS_REPLY_STRING && !strcmp(z->str, "61000"));
        if (z)
                freeReplyObject(z);
        CHECK_EQ(simple("EXISTS", "smsmux:{t:" TAG(2) "}:d2", NULL), 1);
        CHECK_EQ(simple("LLEN", "smsmux:{t:" TAG(2) "}:p", NULL), 1);
        set_corr(TAG(2), "0\x1f" "a\x1f" "1\x1f" "1\x1f\x1f" "app2");
        CHECK_EQ(dr(TAG(2), "2"), 1);             /* re-sent once the correlation is in: routed */
        CHECK_EQ(corr_script(TAG(2), "0\x1f" "a\x1f" "1\x1f" "1\x1f\x1f" "app2"), 0);
        CHECK_EQ(simple("EXISTS", "smsmux:{t:" TAG(2) "}:p", NULL), 0);
        CHECK_EQ(entries_for("app2", hdrs, sizeof hdrs), 1);
        CHECK(!strcmp(hdrs, "D12"));
}

static void test_parked_dr_routed_by_correlation_script_then_resend_is_duplicate(void)
{
        char hdrs[128];
        CHECK_EQ(dr(TAG(3), "2"), 2);
        set_corr(TAG(3), "0\x1f" "a\x1f" "1\x1f" "1\x1f\x1f" "app3");
        CHECK_EQ(corr_script(TAG(3), "0\x1f" "a\x1f" "1\x1f" "1\x1f\x1f" "app3"), 1);
        CHECK_EQ(dr(TAG(3), "2"), 0);
        CHECK_EQ(entries_for("app3", hdrs, sizeof hdrs), 1);
        CHECK(!strcmp(hdrs, "D12"));
}

static void test_another_mts_value_is_replaced_by_the_correlation_script(void)
{
        char hdrs[128];
        set_corr(TAG(4), "32772\x1f" "b\x1f" "1\x1f" "1\x1f\x1f" "old4");
        CHECK_EQ(corr_script(TAG(4), "0\x1f" "a\x1f" "1\x1f" "1\x1f\x1f" "new4"), 0);
        CHECK_EQ(dr(TAG(4), "2"), 1);             /* a fresh mask: routed, final */
        CHECK_EQ(entries_for("new4", hdrs, sizeof hdrs), 1);
        CHECK(!strcmp(hdrs, "D12"));
}

static void test_value_of_previous_version_without_mask_is_routed_once(void)
{
        char hdrs[128];
        set_corr(TAG(5), "a\x1f" "1\x1f" "1\x1f\x1f" "app5");
        CHECK_EQ(dr(TAG(5), "2"), 1);
        CHECK_EQ(dr(TAG(5), "2"), 0);
        CHECK_EQ(entries_for("app5", hdrs, sizeof hdrs), 1);
        CHECK(!strcmp(hdrs, "D12"));
}

static void test_parked_dr_leaves_placeholder_seen_by_the_correlation_write(void)
{
        char hdrs[128];
        CHECK_EQ(dr(TAG(6), "2"), 2);             /* parked: the placeholder in the key */
        redisReply *r = redisCommand(C, "GET smsmux:{t:%s}:c", TAG(6));
        CHECK(r && r->type == REDIS_REPLY_STRING && !strcmp(r->str, "P"));
        if (r)
                freeReplyObject(r);
        long long ttl = simple("PTTL", "smsmux:{t:" TAG(6) "}:c", NULL);
        CHECK(ttl > 0 && ttl <= 100000);        /* it expires with the park list */
        /* the correlation write (SET NX GET) is refused and returns it: the
         * store then runs the correlation script, which routes the DR */
        const char *argv[] = { "SET", "smsmux:{t:" TAG(6) "}:c", "0\x1f" "a\x1f\x1f\x1f\x1f" "app6",
                               "NX", "GET", "PX", "100000" };
        r = cmd_argv(7, argv);
        CHECK(r && r->type == REDIS_REPLY_STRING && !strcmp(r->str, "P"));
        if (r)
                freeReplyObject(r);
        CHECK_EQ(entries_for("app6", hdrs, sizeof hdrs), 0);
        CHECK_EQ(corr_script(TAG(6), "0\x1f" "a\x1f\x1f\x1f\x1f" "app6"), 1);
        CHECK_EQ(entries_for("app6", hdrs, sizeof hdrs), 1);
        CHECK(!strcmp(hdrs, "D12"));
        r = redisCommand(C, "GET smsmux:{t:%s}:c", TAG(6));
        CHECK(r && r->type == REDIS_REPLY_STRING && !strncmp(r->str, "32772\x1f" "a\x1f", 7));
        if (r)
                freeReplyObject(r);
        CHECK_EQ(dr(TAG(6), "2"), 0);             /* and a re-send is a duplicate */
}

static void test_park_sweep_drops_the_placeholder_of_an_uncorrelated_dr(void)
{
        CHECK_EQ(dr(TAG(7), "2"), 2);
        CHECK_EQ(simple("EXISTS", "smsmux:{t:" TAG(7) "}:c", NULL), 1);
        /* past the park timeout (now 1000 + 60000): delivered uncorrelated on
         * the instance that received it, park list and placeholder gone */
        const char *argv[] = { "EVALSHA", sha_sweep, "0", "t", "70000", "100000", "a", "64" };
        /* {DRs released, ids swept} */
        redisReply *sw = cmd_argv(8, argv);
        CHECK(sw && sw->type == REDIS_REPLY_ARRAY && sw->elements == 2);
        if (sw && sw->type == REDIS_REPLY_ARRAY && sw->elements == 2) {
                CHECK_EQ(sw->element[0]->integer, 1);
                CHECK_EQ(sw->element[1]->integer, 1);
        }
        if (sw)
                freeReplyObject(sw);
        CHECK_EQ(simple("EXISTS", "smsmux:{t:" TAG(7) "}:c", NULL), 0);
        CHECK_EQ(simple("EXISTS", "smsmux:{t:" TAG(7) "}:p", NULL), 0);
        /* a correlation written after that is a plain write */
        const char *sv[] = { "SET", "smsmux:{t:" TAG(7) "}:c", "0\x1f" "a\x1f\x1f\x1f\x1f" "app7",
                             "NX", "GET", "PX", "100000" };
        redisReply *r = cmd_argv(7, sv);
        CHECK(r && r->type == REDIS_REPLY_NIL);
        if (r)
                freeReplyObject(r);
}

/* several DRs in one call of the many-DR script: each gets the code the
 * one-DR script gives it, in order, also a copy of a DR earlier in the same
 * call and one that parks */
static void test_many_dr_script_codes_per_dr_in_order(void)
{
        char hdrs[128];
        set_corr(TAG(8), "0\x1f" "a\x1f\x1f\x1f\x1f" "app8");
        set_corr(TAG(9), "0\x1f" "a\x1f\x1f\x1f\x1f" "app9");
        const char *pl2 = "1:22:m10:0:0:0:", *pl6 = "1:62:m10:0:0:0:";
        const char *argv[] = { "EVALSHA", sha_many, "5",
                               "smsmux:{t:" TAG(8) "}:c", "smsmux:{t:" TAG(8) "}:c",
                               "smsmux:{t:" TAG(10) "}:c", "smsmux:{t:" TAG(9) "}:c",
                               "smsmux:{t:" TAG(8) "}:c",
                               "100000", "1000\x1f" "600000\x1f" "60000\x1f" "a",
                               "2", pl2, "2", pl2, "2", pl2, "6", pl6, "6", pl6 };
        redisReply *r = cmd_argv(20, argv);
        CHECK(r && r->type == REDIS_REPLY_ARRAY && r->elements == 5);
        if (r && r->type == REDIS_REPLY_ARRAY && r->elements == 5) {
                static const long long want[5] = { 1, 0, 2, 1, 1 };
                for (int i = 0; i < 5; i++)
                        CHECK(r->element[i]->type == REDIS_REPLY_INTEGER &&
                              r->element[i]->integer == want[i]);
        }
        if (r)
                freeReplyObject(r);
        CHECK_EQ(entries_for("app8", hdrs, sizeof hdrs), 2);
        CHECK(!strcmp(hdrs, "D12|D00"));
        CHECK_EQ(entries_for("app9", hdrs, sizeof hdrs), 1);
        CHECK(!strcmp(hdrs, "D00"));
        /* the parked one as lua_dr parks: placeholder, park list, index */
        r = redisCommand(C, "GET smsmux:{t:%s}:c", TAG(10));
        CHECK(r && r->type == REDIS_REPLY_STRING && !strcmp(r->str, "P"));
        if (r)
                freeReplyObject(r);
        CHECK_EQ(simple("LLEN", "smsmux:{t:" TAG(10) "}:p", NULL), 1);
        CHECK_EQ(dr(TAG(8), "2"), 0);   /* the one-DR script sees the same mask */
}

static int load(const char *src, char *sha)
{
        redisReply *r = redisCommand(C, "SCRIPT LOAD %s", src);
        int ok = r && r->type == REDIS_REPLY_STRING && r->len == 40;
        if (ok)
                memcpy(sha, r->str, 41);
        if (r)
                freeReplyObject(r);
        return ok;
}

int main(void)
{
        int rc = rtest_start_connected(&R, &C);
        if (rc != RTEST_GO)
                return rc;
        if (!load(rs_lua[RS_LUA_DR], sha_dr) || !load(rs_lua[RS_LUA_CORR], sha_corr) ||
            !load(rs_lua[RS_LUA_PARK_SWEEP], sha_sweep) || !load(rs_lua[RS_LUA_DR_MANY], sha_many)) {
                printf("Bail out! scripts not loaded\n");
                rtest_stop_connected(&R, C);
                return 1;
        }
        RUN(test_correlated_dr_once_per_state_final_once_no_keys_of_its_own);
        RUN(test_parked_dr_resent_after_correlation_routed_once);
        RUN(test_parked_dr_routed_by_correlation_script_then_resend_is_duplicate);
        RUN(test_another_mts_value_is_replaced_by_the_correlation_script);
        RUN(test_value_of_previous_version_without_mask_is_routed_once);
        RUN(test_parked_dr_leaves_placeholder_seen_by_the_correlation_write);
        RUN(test_park_sweep_drops_the_placeholder_of_an_uncorrelated_dr);
        RUN(test_many_dr_script_codes_per_dr_in_order);
        rtest_stop_connected(&R, C);
        return t_done();
}
