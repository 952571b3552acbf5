/* Client instances of one cluster sharing a real redis-server, against
 * smsc-sim, in one test process: the set-up and bookkeeping the store tests
 * with instances share (test_store_instances, _http, _idrules, _tls; the
 * log capture, store stats and single clients also test_store_outage and
 * _blockread).
 *
 * The test's main:
 *   rc = rt_start(per_site)            redis-server on a unix socket, smsc-sim
 *                                      (dc3,bos, per_site SMSCs each)
 *   ... sim knobs; rt_n = N; rt_start_instances(start_fn) (a, b, c, ...),
 *       rt_await_bound() (every one bound to every SMSC), the RUN()s ...
 *   return rt_finish();                instances, simulator, redis-server
 * Each instance records what its application polled (rt_pump_all): its
 * outcomes, its DRs (id, state, merged final, part) and MOs, and counts DRs
 * for another instance's MT (foreign: the id does not start "<name>-") and
 * DRs without an MT (uncorrelated). The test thread alone touches these. */
#ifndef SMX_RTEST_INST_H
#define SMX_RTEST_INST_H

#include <pthread.h>

#include "../core/itest.h"
#include "rtest.h"

#define RT_INST_MAX 3
#define RT_MAX_EV 4096
#define RT_MAX_MO 256

/* One DR event as the application saw it. */
struct rt_dr {
        char id[SMX_ID_MAX + 1];
        enum smx_dr_state state, mt_state;
        int mt_final;
        unsigned part, parts;
};

struct rt_inst {
        char name[8];
        smx_client *c;                  /* NULL while stopped */
        struct smx_config cfg;
        struct smx_http_config hc;      /* cfg.http points here when used */
        uint64_t outcomes, submitted, next_k;
        uint64_t foreign_drs, uncorrelated;
        uint64_t drs_http;              /* DRs from the HTTP receiver */
        uint64_t mos_not_http;          /* MOs not from the HTTP receiver */
        struct rt_dr drs[RT_MAX_EV];
        size_t n_drs;
        struct it_mo mos[RT_MAX_MO];
        size_t n_mos;
};

static struct it_env E;                 /* the simulator and its SMSC configs */
static struct rtest_redis R;
static struct rt_inst I[RT_INST_MAX];
static int rt_n;                        /* instances in I */
static char cluster[32];                /* store.cluster of every instance */

/* ---- what the applications polled ---- */

static inline void rt_pump_one(struct rt_inst *in)
{
        struct smx_event ev[128];
        size_t n;
        if (!in->c)
                return;
        while ((n = smx_events_poll(in->c, ev, 128)) > 0) {
                for (size_t i = 0; i < n; i++) {
                        const struct smx_event *x = &ev[i];
                        if (x->type == SMX_EV_SUBMITTED || x->type == SMX_EV_FAILED) {
                                in->outcomes++;
                                in->submitted += x->type == SMX_EV_SUBMITTED;
                        } else if (x->type == SMX_EV_DR) {
                                if (!x->id) {
                                        in->uncorrelated++;
                                        continue;
                                }
                                if (strncmp(x->id, in->name, strlen(in->name)) ||
                                    x->id[strlen(in->name)] != '-')
                                        in->foreign_drs++;
                                in->drs_http += x->smsc && !strcmp(x->smsc, "http");
                                if (in->n_drs < RT_MAX_EV) {
                                        struct rt_dr *d = &in->drs[in->n_drs++];
                                        snprintf(d->id, sizeof d->id, "%s", x->id);
                                        d->state = x->state;
                                        d->mt_final = x->mt_final;
                                        d->mt_state = x->mt_state;
                                        d->part = x->part;
                                        d->parts = x->parts;
                                }
                        } else if (x->type == SMX_EV_MO && in->n_mos < RT_MAX_MO) {
                                it_mo_record(&in->mos[in->n_mos++], x);
                                in->mos_not_http += !x->smsc || strcmp(x->smsc, "http");
                        }
                }
        }
}

static inline void rt_pump_all(void)
{
        for (int i = 0; i < rt_n; i++)
                rt_pump_one(&I[i]);
}

static inline size_t rt_total_drs(void)
{
        size_t n = 0;
        for (int i = 0; i < rt_n; i++)
                n += I[i].n_drs;
        return n;
}

static inline size_t rt_total_mos(void)
{
        size_t n = 0;
        for (int i = 0; i < rt_n; i++)
                n += I[i].n_mos;
        return n;
}

/* Forget the DRs and MOs seen (outcomes and MT numbers stay). */
static inline void rt_reset_events(void)
{
        for (int i = 0; i < rt_n; i++) {
                I[i].n_drs = I[i].n_mos = 0;
                I[i].foreign_drs = I[i].uncorrelated = I[i].drs_http = I[i].mos_not_http = 0;
        }
}

/* How many records of every instance's list `recs` (I[i].recs, I[i].n_recs
 * of them) have the string `field` equal to `want`. */
#define RT_COUNT_EQUAL(recs, field, want) __extension__({                      \
        unsigned rt_eq_ = 0;                                                    \
        for (int rt_i_ = 0; rt_i_ < rt_n; rt_i_++)                              \
                for (size_t rt_j_ = 0; rt_j_ < I[rt_i_].n_##recs; rt_j_++)      \
                        rt_eq_ += !strcmp(I[rt_i_].recs[rt_j_].field, (want));  \
        rt_eq_;                                                                 \
})

/* How many DR events with this id every instance saw together. */
static inline unsigned rt_dr_count(const char *id)
{
        return RT_COUNT_EQUAL(drs, id, id);
}

/* How many MOs with this text every instance saw together. */
static inline unsigned rt_mo_count(const char *text)
{
        return RT_COUNT_EQUAL(mos, text, text);
}

/* Pump until `drs` DRs and `mos` MOs arrived in total, then `quiet_ms`
 * more so a duplicate would show. 1 when they arrived in timeout_ms. */
static inline int rt_settle(size_t drs, size_t mos, unsigned timeout_ms, unsigned quiet_ms)
{
        uint64_t end = it_now_ms() + timeout_ms;
        int ok = 0;
        while (it_now_ms() < end) {
                rt_pump_all();
                if (rt_total_drs() >= drs && rt_total_mos() >= mos) {
                        ok = 1;
                        break;
                }
                it_sleep_ms(5);
        }
        uint64_t q = it_now_ms() + quiet_ms;
        while (it_now_ms() < q) {
                rt_pump_all();
                it_sleep_ms(5);
        }
        return ok;
}

/* n MTs from `in` ("<name>-<k>", DR wanted), waiting out SMX_EAGAIN; how
 * many were accepted. */
static inline uint64_t rt_submit_n(struct rt_inst *in, unsigned n, const char *text)
{
        uint64_t ok = 0;
        for (unsigned i = 0; i < n; i++) {
                char id[64];
                snprintf(id, sizeof id, "%.24s-%llu", in->name, (unsigned long long)in->next_k);
                struct smx_mt mt = { .id = id, .from = "12345", .to = "447700900001",
                                     .text = text, .want_dr = 1 };
                int rc;
                while ((rc = smx_submit(in->c, &mt)) == SMX_EAGAIN) {
                        rt_pump_all();
                        it_sleep_ms(1);
                }
                if (rc == 0) {
                        in->next_k++;
                        ok++;
                }
        }
        return ok;
}

/* Every DR event of the instances, correlated or not. */
static inline size_t rt_all_dr_events(void)
{
        size_t n = 0;
        for (int i = 0; i < rt_n; i++)
                n += I[i].n_drs + I[i].uncorrelated;
        return n;
}

/* n MTs (text `text`) from each instance, DRs awaited (30 s), then quiet_ms
 * more so a duplicate or late copy shows: every MT got its outcome, and
 * every DR reached its MT's owner once, correlated. */
static inline void rt_check_drs_reach_owner(unsigned n, const char *text, unsigned quiet_ms)
{
        rt_reset_events();
        uint64_t k0[RT_INST_MAX], out0 = 0;
        for (int i = 0; i < rt_n; i++) {
                k0[i] = I[i].next_k;
                out0 += I[i].outcomes;
                CHECK_EQ(rt_submit_n(&I[i], n, text), n);
        }
        uint64_t end = it_now_ms() + 30000;
        while (it_now_ms() < end && rt_all_dr_events() < (size_t)rt_n * n) {
                rt_pump_all();
                it_sleep_ms(5);
        }
        rt_settle(0, 0, 0, quiet_ms);
        uint64_t outs = 0;
        for (int i = 0; i < rt_n; i++)
                outs += I[i].outcomes;
        CHECK_EQ(outs - out0, (uint64_t)rt_n * n);
        printf("# DRs:");
        for (int i = 0; i < rt_n; i++)
                printf(" %s %zu (uncorrelated %llu)", I[i].name, I[i].n_drs,
                       (unsigned long long)I[i].uncorrelated);
        printf("\n");
        unsigned missing = 0, twice = 0;
        for (int i = 0; i < rt_n; i++) {
                CHECK_EQ(I[i].uncorrelated, 0);
                CHECK_EQ(I[i].foreign_drs, 0);
                CHECK_EQ(I[i].n_drs, n);
                for (unsigned j = 0; j < n; j++) {
                        char id[32];
                        snprintf(id, sizeof id, "%.7s-%llu", I[i].name,
                                 (unsigned long long)(k0[i] + j));
                        unsigned c = rt_dr_count(id);
                        missing += c == 0;
                        twice += c > 1;
                }
        }
        CHECK_EQ(missing, 0);
        CHECK_EQ(twice, 0);
}

/* ---- instances ---- */

/* A client of its own (not in I): the simulator's config with one worker,
 * on the store at url as `instance` of cluster `cl`. */
static inline struct smx_config rt_store_config(const char *url, const char *instance,
                                                const char *cl)
{
        struct smx_config cfg = E.cfg;
        cfg.workers = 1;
        cfg.store.url = url;
        cfg.store.instance = instance;
        cfg.store.cluster = cl;
        return cfg;
}

/* The client of cfg, started; NULL (the reason printed) when refused. */
static inline smx_client *rt_client(const struct smx_config *cfg)
{
        smx_client *c = NULL;
        char err[256] = "";
        int rc = smx_client_create(cfg, &c, err, sizeof err);
        if (rc < 0) {
                printf("# create: %s (%s)\n", smx_strerror(rc), err);
                return NULL;
        }
        smx_client_start(c);
        return c;
}

/* in named `name`, its config made from the simulator's (one worker, the
 * shared store); the caller adds its own settings, then rt_inst_launch. */
static inline struct smx_config *rt_inst_config(struct rt_inst *in, const char *name)
{
        snprintf(in->name, sizeof in->name, "%s", name);
        in->cfg = rt_store_config(R.url, in->name, cluster);
        return &in->cfg;
}

/* Create and start the client of in->cfg. 0, or the error (printed). */
static inline int rt_inst_launch(struct rt_inst *in)
{
        char err[256] = "";
        int rc = smx_client_create(&in->cfg, &in->c, err, sizeof err);
        if (rc < 0) {
                printf("# smx_client_create %s: %s (%s)\n", in->name, smx_strerror(rc), err);
                return rc;
        }
        return smx_client_start(in->c);
}

/* 1 once every running instance has every SMSC's bind ACTIVE (15 s). */
static inline int rt_all_active(void)
{
        uint64_t end = it_now_ms() + 15000;
        while (it_now_ms() < end) {
                rt_pump_all();
                int ok = 1;
                for (int i = 0; i < rt_n; i++) {
                        if (!I[i].c)
                                continue;
                        struct smx_bind_stats st[IT_MAX_SMSC];
                        size_t n = smx_client_binds(I[i].c, st, IT_MAX_SMSC), a = 0;
                        for (size_t b = 0; b < n; b++)
                                a += st[b].health == SMX_HEALTH_ACTIVE;
                        ok &= a == E.n;
                }
                if (ok)
                        return 1;
                it_sleep_ms(10);
        }
        return 0;
}

/* ---- main's start and end ---- */

/* redis-server (no AOF) and smsc-sim (dc3,bos, per_site SMSCs each).
 * RTEST_GO, or the exit status (skip: 0; bail out, printed: 1). */
static inline int rt_start(unsigned per_site)
{
        if (!rtest_have_redis())
                return 0;
        if (rtest_redis_start(&R, 0) != 0 || it_sim_start(&E, "dc3,bos", per_site, 1.0) != 0) {
                printf("Bail out! redis-server or smsc-sim did not start\n");
                rtest_redis_stop(&R);
                return 1;
        }
        return RTEST_GO;
}

/* Start instances "a", "b", ... (rt_n of them) with start(in, name, i).
 * RTEST_GO, or 1 (bail out, printed). */
static inline int rt_start_instances(int (*start)(struct rt_inst *in, const char *name, int i))
{
        static const char *names[RT_INST_MAX] = { "a", "b", "c" };
        for (int i = 0; i < rt_n; i++)
                if (start(&I[i], names[i], i) != 0) {
                        printf("Bail out! instance %s did not start\n", names[i]);
                        return 1;
                }
        return RTEST_GO;
}

/* Wait until every instance bound every SMSC. RTEST_GO, or 1 (bail out,
 * printed). */
static inline int rt_await_bound(void)
{
        if (rt_all_active())
                return RTEST_GO;
        printf("Bail out! not every instance bound every SMSC\n");
        return 1;
}

/* Stop what is running (instances, simulator, redis-server); the TAP plan
 * and exit status. */
static inline int rt_finish(void)
{
        for (int i = 0; i < rt_n; i++)
                if (I[i].c)
                        smx_client_destroy(I[i].c);
        E.c = NULL;
        it_stop(&E);
        rtest_redis_stop(&R);
        return t_done();
}

/* ---- the library's log and the store's stats ---- */

/* A number of instance i's store stats (JSON "store"), -1 when absent. */
static inline double rt_store_stat(int i, const char *key)
{
        char *txt = NULL;
        double v = -1;
        if (smx_stats_render(I[i].c, SMX_STATS_JSON, &txt, NULL) == 0 && txt)
                v = it_json_num(txt, "\"store\"", key);
        free(txt);
        return v;
}

/* The sum of rt_store_stat over the instances. */
static inline double rt_store_sum(const char *key)
{
        double s = 0;
        for (int i = 0; i < rt_n; i++)
                s += rt_store_stat(i, key);
        return s;
}

/* Every log line, kept for log_has (smx_log_configure(level, rt_log_capture, NULL)). */
static char rt_logbuf[1 << 17];
static size_t rt_loglen;
static pthread_mutex_t rt_logmu = PTHREAD_MUTEX_INITIALIZER;

static inline void rt_log_capture(enum smx_log_level level, const char *line, void *arg)
{
        (void)level;
        (void)arg;
        pthread_mutex_lock(&rt_logmu);
        size_t n = strlen(line);
        if (rt_loglen + n + 2 < sizeof rt_logbuf) {
                memcpy(rt_logbuf + rt_loglen, line, n);
                rt_loglen += n;
                rt_logbuf[rt_loglen++] = '\n';
                rt_logbuf[rt_loglen] = 0;
        }
        pthread_mutex_unlock(&rt_logmu);
}

/* 1 when a captured log line contains s. */
static inline int rt_log_has(const char *s)
{
        pthread_mutex_lock(&rt_logmu);
        int r = strstr(rt_logbuf, s) != NULL;
        pthread_mutex_unlock(&rt_logmu);
        return r;
}

/* A whole-number field of c's store stats (JSON "store":{...}), -1 when
 * absent. */
static inline long long rt_store_num(smx_client *c, const char *key)
{
        char *txt = NULL;
        long long v = -1;
        if (smx_stats_render(c, SMX_STATS_JSON, &txt, NULL) == 0 && txt) {
                const char *p = strstr(txt, "\"store\":{");
                char pat[64];
                snprintf(pat, sizeof pat, "\"%s\":", key);
                const char *q = p ? strstr(p, pat) : NULL;
                if (q)
                        v = strtoll(q + strlen(pat), NULL, 10);
        }
        free(txt);
        return v;
}

/* 1 once rt_store_num(c, key) reached at_least (within ms). */
static inline int rt_wait_store(smx_client *c, const char *key, long long at_least, unsigned ms)
{
        uint64_t end = it_now_ms() + ms;
        while (it_now_ms() < end) {
                if (rt_store_num(c, key) >= at_least)
                        return 1;
                it_sleep_ms(20);
        }
        return rt_store_num(c, key) >= at_least;
}

/* rt_check_drs_reach_owner with smsc-sim writing every DR before its
 * submit_sm_resp (dr_before_resp_prob 1, back to 0 after): how many DRs
 * the instances' stores parked meanwhile (the caller says how many must). */
static inline double rt_check_early_drs_reach_owner(unsigned n, const char *text,
                                                    unsigned quiet_ms)
{
        it_sim_ctl(&E, "set all dr_before_resp_prob 1");
        double parked0 = rt_store_sum("parked");
        rt_check_drs_reach_owner(n, text, quiet_ms);
        double parked = rt_store_sum("parked") - parked0;
        printf("# parked %.0f\n", parked);
        it_sim_ctl(&E, "set all dr_before_resp_prob 0");
        return parked;
}

#endif
