/* The read connection of the Redis store (src/store/rstore_read.c) against a
 * real redis-server and smsc-sim:
 *   - an idle store makes almost no commands: over 3 s without traffic
 *     Redis runs at most a few XREADGROUPs (INFO commandstats; one blocking
 *     read per RS_READ_BLOCK_MS, where polling made one every 2 ms) and
 *     the store's own command counter grows by the heartbeat's handful a
 *     second; a DR for an MT sent then still arrives, through the blocked
 *     read (at most two more XREADGROUPs), and stats show the read
 *     connection up;
 *   - the read connection killed over and over with CLIENT KILL (found by
 *     its name, smsmux:CLUSTER:INSTANCE:read, in CLIENT LIST) while DRs
 *     flow: every DR reaches the application exactly once, none is left
 *     pending in Redis, and the store counts the losses and reconnects;
 *   - the store stops while its read is blocked in Redis (no hang);
 *   - a read whose reply is lost after Redis ran it: 300 DRs left pending
 *     for an instance that stopped before its application polled them; it
 *     restarts while Redis's output-buffer limit is so low that it closes
 *     any connection with a reply over 16 KB + 4 KB queued (the read of
 *     the pending entries: Redis ran it, the reply never comes) until the
 *     limit is lifted: every DR reaches the application once, none twice,
 *     nothing left pending;
 *   - the same for a read of new entries (">"): 300 DRs routed by another
 *     instance to a stopped one's stream, never read; it restarts under
 *     the low limit, so Redis hands the entries to it (pending) and closes
 *     the connection instead of sending them: after the limit is lifted
 *     they are read again from the pending list, each shown once. */
#include "store/rstore.h"
#include "rtest_inst.h"

#define CLUSTER "blk"
#define N_FLOW 600

static uint16_t *dr_seen;       /* DRs per MT number */
static uint64_t dr_uncorrelated;

/* Like it_pump, counting each DR by its MT. */
static void pump(void)
{
        struct smx_event ev[256];
        size_t n;
        while ((n = smx_events_poll(E.c, ev, 256)) > 0) {
                for (size_t i = 0; i < n; i++) {
                        const struct smx_event *x = &ev[i];
                        if (x->type == SMX_EV_SUBMITTED || x->type == SMX_EV_FAILED) {
                                unsigned long k = x->id ? strtoul(x->id + 3, NULL, 10) : IT_MAX_MT;
                                if (k < IT_MAX_MT) {
                                        E.outcomes_seen[k]++;
                                        E.outcome[k] = x->type == SMX_EV_SUBMITTED ? 1 : 2;
                                }
                                x->type == SMX_EV_SUBMITTED ? E.submitted++ : E.failed++;
                        } else if (x->type == SMX_EV_DR) {
                                E.drs++;
                                unsigned long k = x->id && !strncmp(x->id, "mt-", 3)
                                                  ? strtoul(x->id + 3, NULL, 10) : IT_MAX_MT;
                                if (k < IT_MAX_MT)
                                        dr_seen[k]++;
                                else
                                        dr_uncorrelated++;
                        }
                }
        }
}

/* A field of INFO SECTION (e.g. "cmdstat_xreadgroup:calls="), -1 if absent. */
static long long redis_info(const char *section, const char *field)
{
        redisContext *c = redisConnectUnix(R.sock);
        long long v = -1;
        if (c && !c->err) {
                redisReply *rep = redisCommand(c, "INFO %s", section);
                if (rep && rep->type == REDIS_REPLY_STRING) {
                        const char *p = strstr(rep->str, field);
                        v = p ? atoll(p + strlen(field)) : 0;
                }
                if (rep)
                        freeReplyObject(rep);
        }
        if (c)
                redisFree(c);
        return v;
}

/* CLIENT KILL ID of the client named `name` (CLIENT LIST): 1 killed, 0 not found. */
static int kill_client(const char *name)
{
        redisContext *c = redisConnectUnix(R.sock);
        int killed = 0;
        redisReply *rep = c && !c->err ? redisCommand(c, "CLIENT LIST") : NULL;
        if (rep && rep->type == REDIS_REPLY_STRING) {
                char pat[128];
                snprintf(pat, sizeof pat, " name=%s ", name);
                for (char *line = rep->str; line && *line;) {
                        char *nl = strchr(line, '\n');
                        if (nl)
                                *nl = 0;
                        if (strstr(line, pat) && !strncmp(line, "id=", 3)) {
                                redisReply *k = redisCommand(c, "CLIENT KILL ID %lld",
                                                             atoll(line + 3));
                                killed = k && k->type == REDIS_REPLY_INTEGER && k->integer == 1;
                                if (k)
                                        freeReplyObject(k);
                                break;
                        }
                        line = nl ? nl + 1 : NULL;
                }
        }
        if (rep)
                freeReplyObject(rep);
        if (c)
                redisFree(c);
        return killed;
}

/* Pump for ms milliseconds (late or repeated DRs show). */
static void pump_for(unsigned ms)
{
        uint64_t end = it_now_ms() + ms;
        while (it_now_ms() < end) {
                pump();
                it_sleep_ms(10);
        }
}

/* How many of the MTs first..first+n-1 had a DR. */
static unsigned drs_seen(uint64_t first, uint64_t n)
{
        unsigned done = 0;
        for (uint64_t k = first; k < first + n; k++)
                done += dr_seen[k] > 0;
        return done;
}

/* The MTs first..first+n-1 without a DR and with more than one. */
static void count_drs(uint64_t first, unsigned n, unsigned *missing, unsigned *twice)
{
        *missing = *twice = 0;
        for (uint64_t k = first; k < first + n; k++) {
                *missing += dr_seen[k] == 0;
                *twice += dr_seen[k] > 1;
        }
}

/* Pump until DRs first..first+n-1 were all seen (or 30 s), then 1 s
 * more for late repeats; the MTs missing and the ones seen twice. */
static void settle_drs(uint64_t first, unsigned n, unsigned *missing, unsigned *twice)
{
        uint64_t end = it_now_ms() + 30000;
        while (it_now_ms() < end && drs_seen(first, n) < n) {
                pump();
                it_sleep_ms(10);
        }
        pump_for(1000);
        count_drs(first, n, missing, twice);
}

/* Pump until Redis holds no entry pending (read, not acknowledged) in the
 * stream of instance `inst` (or 5 s): how many are, -1 if XPENDING gave no
 * answer. */
static long long wait_nothing_pending(const char *inst)
{
        long long pending = -1;
        uint64_t end = it_now_ms() + 5000;
        while (it_now_ms() < end) {
                redisContext *c = redisConnectUnix(R.sock);
                redisReply *rep = c && !c->err
                        ? redisCommand(c, "XPENDING smsmux:{" CLUSTER "}:s:%s g", inst) : NULL;
                pending = rep && rep->type == REDIS_REPLY_ARRAY && rep->elements >= 1 &&
                          rep->element[0]->type == REDIS_REPLY_INTEGER
                          ? rep->element[0]->integer : -1;
                if (rep)
                        freeReplyObject(rep);
                if (c)
                        redisFree(c);
                if (pending == 0)
                        break;
                pump();
                it_sleep_ms(50);
        }
        return pending;
}

static smx_client *make(const char *inst)
{
        struct smx_config cfg = rt_store_config(R.url, inst, CLUSTER);
        return rt_client(&cfg);
}

static void test_idle_store_makes_almost_no_commands_and_a_dr_still_arrives(void)
{
        E.c = make("idle");
        CHECK(E.c != NULL);
        if (!E.c)
                return;
        CHECK_EQ(it_wait_active(&E, E.n, 10000), 1);
        CHECK_EQ(rt_wait_store(E.c, "read_connected", 1, 10000), 1);
        /* one MT and its DR first: the stream and every path warmed up */
        CHECK_EQ(it_submit_n(&E, 1, "warm up"), 1);
        uint64_t end = it_now_ms() + 20000;
        while (it_now_ms() < end && dr_seen[0] < 1) {
                pump();
                it_sleep_ms(10);
        }
        CHECK_EQ(dr_seen[0], 1);
        it_sleep_ms(1500);
        pump();
        long long x0 = redis_info("commandstats", "cmdstat_xreadgroup:calls=");
        long long s0 = rt_store_num(E.c, "commands");
        long long r0 = rt_store_num(E.c, "reads");
        pump_for(3000);                 /* an application polling, nothing to get */
        long long x1 = redis_info("commandstats", "cmdstat_xreadgroup:calls=");
        long long s1 = rt_store_num(E.c, "commands");
        long long r1 = rt_store_num(E.c, "reads");
        printf("# idle 3 s: XREADGROUP %lld, store commands %lld (reads %lld)\n", x1 - x0,
               s1 - s0, r1 - r0);
        CHECK(x0 >= 0 && x1 - x0 <= 4);        /* polling every 2 ms: about 1 500 */
        CHECK(s1 - s0 <= 30);                  /* the heartbeat's few a second */
        CHECK(r1 - r0 >= 1);                   /* the blocking reads go on */
        /* an MT now: its DR comes through the blocked read */
        uint64_t t0 = it_now_ms();
        CHECK_EQ(it_submit_n(&E, 1, "while idle"), 1);
        end = it_now_ms() + 20000;
        while (it_now_ms() < end && dr_seen[1] < 1) {
                pump();
                it_sleep_ms(1);
        }
        long long x2 = redis_info("commandstats", "cmdstat_xreadgroup:calls=");
        printf("# DR after an idle spell: %llu ms from submit, %lld XREADGROUP\n",
               (unsigned long long)(it_now_ms() - t0), x2 - x1);
        CHECK_EQ(dr_seen[1], 1);
        CHECK(x2 - x1 <= 4);                    /* found by the blocked read, not a poll */
        CHECK_EQ(rt_store_num(E.c, "read_connected"), 1);
        CHECK_EQ(rt_store_num(E.c, "read_disconnects"), 0);
        char *txt = NULL;
        CHECK_EQ(smx_stats_render(E.c, SMX_STATS_PROMETHEUS, &txt, NULL), 0);
        CHECK(txt && strstr(txt, "smsmux_store_read_connected 1"));
        free(txt);
        txt = NULL;
        CHECK_EQ(smx_stats_render(E.c, SMX_STATS_TABLE, &txt, NULL), 0);
        CHECK(txt && strstr(txt, "read connection 1"));
        free(txt);
        /* stopping while the read is blocked in Redis: no hang */
        t0 = it_now_ms();
        smx_client_destroy(E.c);
        E.c = NULL;
        printf("# stopped in %llu ms\n", (unsigned long long)(it_now_ms() - t0));
}

static void test_read_connection_killed_loses_and_doubles_nothing(void)
{
        E.c = make("killed");
        CHECK(E.c != NULL);
        if (!E.c)
                return;
        E.next_mt = 100;        /* apart from the first test's MTs */
        uint64_t first = E.next_mt;
        CHECK_EQ(it_wait_active(&E, E.n, 10000), 1);
        CHECK_EQ(rt_wait_store(E.c, "read_connected", 1, 10000), 1);
        int kills = 0;
        uint64_t next_kill = it_now_ms() + 100;
        uint64_t end = it_now_ms() + 60000;
        /* N_FLOW MTs, 10 every 20 ms; the read connection killed every
         * 150 ms while their DRs come back */
        while (it_now_ms() < end) {
                if (E.next_mt < first + N_FLOW)
                        it_try_submit_n(&E, 10, "killed reads");
                pump();
                if (E.next_mt >= first + N_FLOW && drs_seen(first, N_FLOW) == N_FLOW)
                        break;
                if (it_now_ms() >= next_kill && E.next_mt < first + N_FLOW) {
                        kills += kill_client("smsmux:" CLUSTER ":killed:read");
                        next_kill = it_now_ms() + 150;
                }
                it_sleep_ms(20);
        }
        /* re-sent DRs (the sim re-sends until answered) settle */
        pump_for(1500);
        unsigned missing, twice;
        count_drs(first, N_FLOW, &missing, &twice);
        printf("# %d kills of the read connection, %llu MTs: %u DRs missing, %u twice, "
               "%llu uncorrelated; read_disconnects %lld, read_connects %lld\n", kills,
               (unsigned long long)(E.next_mt - first), missing, twice,
               (unsigned long long)dr_uncorrelated, rt_store_num(E.c, "read_disconnects"),
               rt_store_num(E.c, "read_connects"));
        CHECK(kills >= 5);
        CHECK_EQ(E.next_mt - first, N_FLOW);
        CHECK_EQ(missing, 0);
        CHECK_EQ(twice, 0);
        CHECK_EQ(dr_uncorrelated, 0);
        CHECK(rt_store_num(E.c, "read_disconnects") >= kills);
        CHECK_EQ(rt_wait_store(E.c, "read_connected", 1, 10000), 1);
        CHECK(rt_store_num(E.c, "read_connects") >= kills + 1);
        /* nothing left pending: every entry read was acknowledged */
        CHECK_EQ(wait_nothing_pending("killed"), 0);
        smx_client_destroy(E.c);
        E.c = NULL;
}

/* CONFIG SET client-output-buffer-limit LIMITS */
static void output_limit(const char *limits)
{
        redisContext *c = redisConnectUnix(R.sock);
        redisReply *rep = c && !c->err
                ? redisCommand(c, "CONFIG SET client-output-buffer-limit %s", limits) : NULL;
        if (!rep || rep->type == REDIS_REPLY_ERROR)
                printf("# %s: %s\n", limits, rep && rep->str ? rep->str : "no answer");
        if (rep)
                freeReplyObject(rep);
        if (c)
                redisFree(c);
}

/* Start instance `inst` again while Redis closes any connection whose
 * reply leaves more than 16 KB + 4 KB queued, until its read connection
 * lost two replies (Redis ran the read, the reply never came); then lift
 * the limit and settle DRs first..first+n-1 (settle_drs). The replies lost
 * (read_disconnects), -1 if the client did not start. */
static long long restart_under_low_output_limit(const char *inst, uint64_t first, unsigned n,
                                                unsigned *missing, unsigned *twice)
{
        output_limit("normal 4096 4096 0");
        E.c = make(inst);
        CHECK(E.c != NULL);
        if (!E.c) {
                output_limit("normal 0 0 0");
                return -1;
        }
        CHECK_EQ(rt_wait_store(E.c, "read_disconnects", 2, 20000), 1);
        long long lost = rt_store_num(E.c, "read_disconnects");
        output_limit("normal 0 0 0");
        settle_drs(first, n, missing, twice);
        return lost;
}

static void test_lost_read_reply_loses_and_doubles_nothing(void)
{
        E.c = make("lost");
        CHECK(E.c != NULL);
        if (!E.c)
                return;
        E.next_mt = 1000;
        uint64_t first = E.next_mt;
        CHECK_EQ(it_wait_active(&E, E.n, 10000), 1);
        CHECK_EQ(rt_wait_store(E.c, "read_connected", 1, 10000), 1);
        /* 300 DRs read into the store's ring, never polled: pending in Redis */
        CHECK_EQ(it_submit_n(&E, 300, "lost replies"), 300);
        CHECK_EQ(rt_wait_store(E.c, "events", 300, 30000), 1);
        smx_client_destroy(E.c);
        E.c = NULL;
        unsigned missing, twice;
        long long lost = restart_under_low_output_limit("lost", first, 300, &missing, &twice);
        if (lost < 0)
                return;
        printf("# read replies lost (connection closed by Redis): %lld; DRs missing %u, "
               "twice %u, uncorrelated %llu\n", lost, missing, twice,
               (unsigned long long)dr_uncorrelated);
        CHECK(lost >= 2);
        CHECK_EQ(missing, 0);
        CHECK_EQ(twice, 0);
        CHECK_EQ(dr_uncorrelated, 0);
        CHECK_EQ(wait_nothing_pending("lost"), 0);
        smx_client_destroy(E.c);
        E.c = NULL;
}

static void test_lost_new_entries_reply_loses_and_doubles_nothing(void)
{
        smx_client *other = make("other");
        E.c = make("lost2");
        CHECK(E.c != NULL && other != NULL);
        if (!E.c || !other)
                return;
        E.next_mt = 2000;
        uint64_t first = E.next_mt;
        CHECK_EQ(it_wait_active(&E, E.n, 10000), 1);
        CHECK_EQ(rt_wait_store(E.c, "read_connected", 1, 10000), 1);
        /* DRs come 1.5-2 s after the MT, on a session of either instance:
         * lost2 stops first, so `other` routes them to lost2's stream */
        it_sim_ctl(&E, "set all dr_delay_ms 1500-2000");
        CHECK_EQ(it_submit_n(&E, 300, "new entries lost"), 300);
        unsigned outs = 0;
        for (uint64_t end = it_now_ms() + 10000; it_now_ms() < end && outs < 300;) {
                pump();
                outs = 0;
                for (uint64_t k = first; k < first + 300; k++)
                        outs += E.outcome[k] != 0;
                it_sleep_ms(2);
        }
        CHECK_EQ(outs, 300);
        smx_client_destroy(E.c);
        E.c = NULL;
        CHECK_EQ(rt_wait_store(other, "drs_routed", 300, 30000), 1);
        it_sim_ctl(&E, "set all dr_delay_ms 5-50");
        unsigned missing, twice;
        long long lost = restart_under_low_output_limit("lost2", first, 300, &missing, &twice);
        if (lost < 0)
                return;
        printf("# read replies lost: %lld (main connection: %lld, other instance's %lld); "
               "DRs missing %u, twice %u, uncorrelated %llu\n", lost,
               rt_store_num(E.c, "disconnects"), rt_store_num(other, "disconnects"), missing,
               twice, (unsigned long long)dr_uncorrelated);
        CHECK_EQ(missing, 0);
        CHECK_EQ(twice, 0);
        CHECK_EQ(dr_uncorrelated, 0);
        CHECK_EQ(wait_nothing_pending("lost2"), 0);
        smx_client_destroy(E.c);
        E.c = NULL;
        smx_client_destroy(other);
}

int main(void)
{
        int rc = rt_start(1);
        if (rc != RTEST_GO)
                return rc;
        dr_seen = calloc(IT_MAX_MT, sizeof *dr_seen);
        if (!dr_seen) {
                printf("Bail out! out of memory\n");
                return 1;
        }
        it_sim_ctl(&E, "set all dr_accepted_prob 0");
        it_sim_ctl(&E, "set all dr_final_mix DELIVERED:100");
        it_sim_ctl(&E, "set all dr_delay_ms 5-50");
        it_sim_ctl(&E, "set all mo_rate 0");
        RUN(test_idle_store_makes_almost_no_commands_and_a_dr_still_arrives);
        RUN(test_read_connection_killed_loses_and_doubles_nothing);
        RUN(test_lost_read_reply_loses_and_doubles_nothing);
        RUN(test_lost_new_entries_reply_loses_and_doubles_nothing);
        it_stop(&E);
        rtest_redis_stop(&R);
        free(dr_seen);
        return t_done();
}
