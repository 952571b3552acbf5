/* The stream trim of the Redis store (src/store/rstore_lua.c, lua_trim), run
 * against a real redis-server: acknowledged entries are dropped (a stream
 * does not grow with every DR/MO it ever carried), and never an entry that
 * is still pending - for the reading consumer or for another one that
 * claimed it - nor one nobody has read yet, whatever id the caller passes
 * as the highest it acknowledged (the store passes the highest id it
 * acknowledged; the script also bounds it by the group's last delivered
 * entry and its oldest pending one). */
#include <hiredis/hiredis.h>

#include "rtest.h"
#include "store/rstore_int.h"
#include "testlib.h"

#define N 1000
#define KEY "smsmux:{t}:s:a"

static struct rtest_redis R;
static redisContext *C;
static char ids[N][RS_ID_MAX];

#define cmd(...) rtest_cmd(C, __VA_ARGS__)

static long long cmd_int(const char *fmt, const char *a, const char *b)
{
        redisReply *r = cmd(fmt, a, b);
        long long v = r && r->type == REDIS_REPLY_INTEGER ? r->integer : -1;
        if (r && r->type == REDIS_REPLY_ERROR)
                printf("# %s\n", r->str);
        if (r)
                freeReplyObject(r);
        return v;
}

/* entries from ids[from] to the end still in the stream, in order */
static long long present_from(int from)
{
        redisReply *r = cmd("XRANGE " KEY " %s +", ids[from]);
        long long n = -1;
        if (r && r->type == REDIS_REPLY_ARRAY) {
                n = 0;
                for (size_t i = 0; i < r->elements; i++)
                        if (!strcmp(r->element[i]->element[0]->str, ids[from + (int)i]))
                                n++;
        }
        if (r)
                freeReplyObject(r);
        return n;
}

static long long xlen(void)
{
        return cmd_int("XLEN " KEY, NULL, NULL);
}

static long long trim(int acked_upto)
{
        return cmd_int("EVAL %s 1 " KEY " %s", rs_lua[RS_LUA_TRIM], ids[acked_upto]);
}

static void ack(int i)
{
        CHECK_EQ(cmd_int("XACK " KEY " g %s", ids[i], NULL), 1);
}

static int setup_stream(void)
{
        redisReply *r = cmd("DEL " KEY);
        freeReplyObject(r);
        r = cmd("XGROUP CREATE " KEY " g 0 MKSTREAM");
        int ok = r && r->type == REDIS_REPLY_STATUS;
        freeReplyObject(r);
        for (int i = 0; i < N && ok; i++) {
                r = cmd("XADD " KEY " * v entry-%d", i);
                ok = r && r->type == REDIS_REPLY_STRING;
                if (ok)
                        snprintf(ids[i], sizeof ids[i], "%s", r->str);
                freeReplyObject(r);
        }
        return ok;
}

static void test_trim_keeps_pending_and_unread_entries_drops_acknowledged(void)
{
        CHECK(setup_stream());
        /* consumer a reads the first 700; b claims entry 300 */
        redisReply *r = cmd("XREADGROUP GROUP g a COUNT 700 STREAMS " KEY " >");
        CHECK(r && r->type == REDIS_REPLY_ARRAY);
        freeReplyObject(r);
        r = cmd("XCLAIM " KEY " g b 0 %s", ids[300]);
        CHECK(r && r->type == REDIS_REPLY_ARRAY && r->elements == 1);
        freeReplyObject(r);
        for (int i = 0; i < 700; i++)
                if (i != 150 && i != 300)
                        ack(i);
        /* 150 pending for a: nothing from it on goes */
        CHECK(trim(699) >= 0);
        CHECK_EQ(present_from(150), N - 150);
        CHECK(xlen() < N);                      /* acknowledged nodes below it went */
        /* 150 acknowledged, 300 still pending for b */
        ack(150);
        CHECK(trim(699) >= 0);
        CHECK_EQ(present_from(300), N - 300);
        CHECK(xlen() < N - 150);
        /* all read ones acknowledged: the unread ones (700..) all stay */
        CHECK_EQ(cmd_int("XACK " KEY " g %s", ids[300], NULL), 1);
        CHECK(trim(699) >= 0);
        CHECK_EQ(present_from(699), N - 699);
        CHECK(xlen() <= N - 700 + 100);         /* at most the node holding 699 is left */
        /* even told an unread id, the trim keeps it and what follows */
        CHECK(trim(N - 1) >= 0);
        CHECK_EQ(present_from(700), N - 700);
}

static void test_trim_with_nothing_pending_keeps_everything_unread(void)
{
        CHECK(setup_stream());
        redisReply *r = cmd("XREADGROUP GROUP g a COUNT 500 STREAMS " KEY " >");
        freeReplyObject(r);
        for (int i = 0; i < 500; i++)
                ack(i);
        CHECK(trim(499) >= 0);
        CHECK_EQ(present_from(499), N - 499);
        CHECK(xlen() <= N - 500 + 100);
        /* the group still reads the rest, in order, from entry 500 */
        r = cmd("XREADGROUP GROUP g a COUNT 1 STREAMS " KEY " >");
        CHECK(r && r->type == REDIS_REPLY_ARRAY && r->elements == 1);
        if (r && r->type == REDIS_REPLY_ARRAY && r->elements == 1)
                CHECK(!strcmp(r->element[0]->element[1]->element[0]->element[0]->str, ids[500]));
        freeReplyObject(r);
}

int main(void)
{
        int rc = rtest_start_connected(&R, &C);
        if (rc != RTEST_GO)
                return rc;
        RUN(test_trim_keeps_pending_and_unread_entries_drops_acknowledged);
        RUN(test_trim_with_nothing_pending_keeps_everything_unread);
        rtest_stop_connected(&R, C);
        return t_done();
}
