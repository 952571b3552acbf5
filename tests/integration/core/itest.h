/* Helpers for the dispatcher's integration tests: start smsc-sim in-process
 * on free ports, build a client bound to every simulated SMSC, pump events,
 * and read numbers out of the simulator's ledger summary (sim_summary_json).
 * Each test program includes this once. */
#ifndef SMX_ITEST_H
#define SMX_ITEST_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sim.h"
#include "smsmux.h"
#include "testlib.h"

#define IT_MAX_SMSC 16
#define IT_MAX_MT   200000

struct it_env {
        struct smsc_sim *sim;
        struct sim_smsc_info info[IT_MAX_SMSC];
        struct smx_smsc_config smsc[IT_MAX_SMSC];
        size_t n;
        struct smx_config cfg;
        smx_client *c;
        /* outcome bookkeeping, by MT number (ids are "mt-<n>") */
        uint8_t *outcome;          /* 0 none, 1 submitted, 2 failed */
        uint32_t *outcomes_seen;   /* count per MT: must end at exactly 1 */
        uint8_t *fail_reason;
        uint64_t submitted, failed, duplicates_outcome, drs, mos, binds_up, binds_down;
        uint64_t next_mt;
        uint64_t downs[IT_MAX_SMSC];       /* BIND down events per SMSC */
        char last_down_reason[IT_MAX_SMSC][64];
        char json[65536];
};

/* One MO event as the application saw it: its text (cut at IT_MO_TEXT - 1
 * bytes), how many parts it was reassembled from, and whether it was
 * delivered partial. */
#define IT_MO_TEXT 1024
struct it_mo {
        char text[IT_MO_TEXT];
        unsigned parts;
        int partial;
};

static inline void it_mo_record(struct it_mo *m, const struct smx_event *x)
{
        size_t l = x->text_len < IT_MO_TEXT - 1 ? x->text_len : IT_MO_TEXT - 1;
        memcpy(m->text, x->text, l);
        m->text[l] = 0;
        m->parts = x->parts;
        m->partial = x->partial;
}

/* The simulator's multipart MO text is "[MO s part k/N from NAME] ..." for
 * k = 1..N: whole means every part is there, in order, once, and the MO
 * says it was reassembled from N parts and is not partial. */
static inline int it_mo_whole(const struct it_mo *m)
{
        const char *p = strstr(m->text, " part 1/");
        if (!p)
                return 0;
        unsigned n = (unsigned)strtoul(p + 8, NULL, 10);
        if (n < 2 || m->parts != n || m->partial)
                return 0;
        const char *at = m->text;
        for (unsigned k = 1; k <= n; k++) {
                char pat[32];
                snprintf(pat, sizeof pat, " part %u/%u ", k, n);
                const char *q = strstr(at, pat);
                if (!q)
                        return 0;
                at = q + 1;
        }
        char pat[32];
        snprintf(pat, sizeof pat, " part 1/%u ", n);
        return strstr(strstr(m->text, pat) + 1, pat) == NULL;
}

/* What the application saw, for tests that number their MTs themselves
 * (ids PREFIX<k>, PREFIX three characters, k below IT_LEDGER_MT) and check
 * each DR against the MT it names: per MT, how many outcomes came and the
 * message_id and SMSC of its submit; every DR and MO in arrival order. A
 * test keeps one (static: it is large) and feeds it every event. */
#define IT_LEDGER_MT 2048
#define IT_LEDGER_DR 8192
#define IT_LEDGER_MO 512

/* One DR event as the application saw it. */
struct it_dr {
        long k;                         /* MT number, -1 when uncorrelated */
        char msgid[SMX_MSGID_MAX + 1];
        enum smx_dr_state state;
        char smsc[SMX_NAME_MAX + 1];
        unsigned part, parts;           /* per-part detail (smx_event.part, .parts) */
        int mt_final;
        enum smx_dr_state mt_state;
};

struct it_ledger {
        const char *prefix;
        uint32_t sub_seen[IT_LEDGER_MT];        /* SUBMITTED or FAILED events per MT */
        char sub_msgid[IT_LEDGER_MT][SMX_MSGID_MAX + 1];
        char sub_smsc[IT_LEDGER_MT][SMX_NAME_MAX + 1];
        struct it_dr drs[IT_LEDGER_DR];
        size_t n_drs, n_drs_lost, n_uncorrelated;       /* lost: past IT_LEDGER_DR */
        struct it_mo mos[IT_LEDGER_MO];
        size_t n_mos, n_mos_lost;
};

/* The MT number of a client id, -1 for none or another test's. */
static inline long it_ledger_k(const struct it_ledger *L, const char *id)
{
        if (!id || strncmp(id, L->prefix, 3))
                return -1;
        unsigned long k = strtoul(id + 3, NULL, 10);
        return k < IT_LEDGER_MT ? (long)k : -1;
}

static inline void it_ledger_record(struct it_ledger *L, const struct smx_event *x)
{
        if (x->type == SMX_EV_SUBMITTED || x->type == SMX_EV_FAILED) {
                long k = it_ledger_k(L, x->id);
                if (k < 0)
                        return;
                L->sub_seen[k]++;
                if (x->type == SMX_EV_SUBMITTED) {
                        snprintf(L->sub_msgid[k], sizeof L->sub_msgid[k], "%s",
                                 x->message_id ? x->message_id : "");
                        snprintf(L->sub_smsc[k], sizeof L->sub_smsc[k], "%s", x->smsc);
                }
        } else if (x->type == SMX_EV_DR) {
                if (L->n_drs == IT_LEDGER_DR) {
                        L->n_drs_lost++;
                        return;
                }
                struct it_dr *d = &L->drs[L->n_drs++];
                d->k = it_ledger_k(L, x->id);
                if (!x->id)
                        L->n_uncorrelated++;
                snprintf(d->msgid, sizeof d->msgid, "%s", x->message_id ? x->message_id : "");
                d->state = x->state;
                snprintf(d->smsc, sizeof d->smsc, "%s", x->smsc);
                d->part = x->part;
                d->parts = x->parts;
                d->mt_final = x->mt_final;
                d->mt_state = x->mt_state;
        } else if (x->type == SMX_EV_MO) {
                if (L->n_mos == IT_LEDGER_MO) {
                        L->n_mos_lost++;
                        return;
                }
                it_mo_record(&L->mos[L->n_mos++], x);
        }
}

/* Record every event c has now. */
static inline void it_ledger_pump(struct it_ledger *L, smx_client *c)
{
        struct smx_event ev[128];
        size_t n;
        while ((n = smx_events_poll(c, ev, 128)) > 0)
                for (size_t i = 0; i < n; i++)
                        it_ledger_record(L, &ev[i]);
}

static inline uint64_t it_now_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static inline void it_sleep_ms(unsigned ms)
{
        struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
        nanosleep(&ts, NULL);
}

/* Start the simulator (sites x per_site SMSCs on free ports). */
static inline int it_sim_start(struct it_env *e, const char *sites, unsigned per_site,
                               double rebind_interval_s)
{
        memset(e, 0, sizeof *e);
        struct sim_options o;
        sim_options_init(&o);
        o.sites = sites;
        o.smscs_per_site = per_site;
        o.port_base = 0;
        o.seed = 12345;
        char err[256];
        int rc = sim_start(&o, &e->sim, err, sizeof err);
        if (rc < 0) {
                printf("# sim_start: %s\n", err);
                return rc;
        }
        char cmd[64], reply[256];
        snprintf(cmd, sizeof cmd, "set sim rebind_interval %g", rebind_interval_s);
        sim_ctl(e->sim, cmd, reply, sizeof reply);
        e->n = sim_smscs(e->sim, e->info, IT_MAX_SMSC);
        for (size_t i = 0; i < e->n; i++) {
                e->smsc[i] = (struct smx_smsc_config){
                        .name = e->info[i].name, .site = e->info[i].site,
                        .host = e->info[i].host, .port = e->info[i].port,
                };
        }
        smx_config_init(&e->cfg);
        e->cfg.smscs = e->smsc;
        e->cfg.n_smscs = e->n;
        e->cfg.workers = 2;
        e->cfg.pin_workers = 0;
        e->cfg.ingress_capacity = 16384;
        e->cfg.event_capacity = 16384;
        e->cfg.rebind_interval_ms = (uint32_t)(rebind_interval_s * 1000);
        e->cfg.rebind_jitter_ms = 200;
        e->cfg.response_timeout_ms = 2000;
        e->cfg.enquire_link_interval_ms = 1000;
        e->cfg.enquire_link_timeout_ms = 1500;
        e->cfg.bind_timeout_ms = 3000;
        e->cfg.connect_timeout_ms = 2000;
        e->cfg.unbind_timeout_ms = 1000;
        e->cfg.retry_backoff_ms = 50;
        e->cfg.max_attempts = 50;
        e->outcome = calloc(IT_MAX_MT, 1);
        e->outcomes_seen = calloc(IT_MAX_MT, sizeof *e->outcomes_seen);
        e->fail_reason = calloc(IT_MAX_MT, 1);
        return 0;
}

static inline int it_client_start(struct it_env *e)
{
        char err[256] = "";
        int rc = smx_client_create(&e->cfg, &e->c, err, sizeof err);
        if (rc < 0) {
                printf("# smx_client_create: %s (%s)\n", smx_strerror(rc), err);
                return rc;
        }
        return smx_client_start(e->c);
}

/* Drain and account every event now available. */
static inline size_t it_pump(struct it_env *e)
{
        struct smx_event ev[256];
        size_t total = 0, n;
        while ((n = smx_events_poll(e->c, ev, 256)) > 0) {
                total += n;
                for (size_t i = 0; i < n; i++) {
                        const struct smx_event *x = &ev[i];
                        switch (x->type) {
                        case SMX_EV_SUBMITTED:
                        case SMX_EV_FAILED: {
                                unsigned long k = x->id && !strncmp(x->id, "mt-", 3)
                                                          ? strtoul(x->id + 3, NULL, 10) : IT_MAX_MT;
                                if (k >= IT_MAX_MT)
                                        break;
                                if (e->outcomes_seen[k]++)
                                        e->duplicates_outcome++;
                                e->outcome[k] = x->type == SMX_EV_SUBMITTED ? 1 : 2;
                                e->fail_reason[k] = (uint8_t)x->reason;
                                if (x->type == SMX_EV_SUBMITTED)
                                        e->submitted++;
                                else
                                        e->failed++;
                                break;
                        }
                        case SMX_EV_DR: e->drs++; break;
                        case SMX_EV_MO: e->mos++; break;
                        case SMX_EV_BIND:
                                if (x->up) {
                                        e->binds_up++;
                                        break;
                                }
                                e->binds_down++;
                                for (size_t b = 0; b < e->n; b++) {
                                        if (strcmp(x->smsc, e->info[b].name))
                                                continue;
                                        e->downs[b]++;
                                        snprintf(e->last_down_reason[b], sizeof e->last_down_reason[b],
                                                 "%s", x->bind_reason ? x->bind_reason : "");
                                }
                                break;
                        }
                }
        }
        return total;
}

static inline size_t it_index(struct it_env *e, const char *name)
{
        for (size_t i = 0; i < e->n; i++)
                if (!strcmp(e->info[i].name, name))
                        return i;
        return 0;
}

/* Pump events for `ms`; returns the BIND down events seen for `name`. */
static inline uint64_t it_downs_during(struct it_env *e, const char *name, unsigned ms)
{
        size_t b = it_index(e, name);
        uint64_t before = e->downs[b], end = it_now_ms() + ms;
        while (it_now_ms() < end) {
                it_pump(e);
                it_sleep_ms(5);
        }
        return e->downs[b] - before;
}

static inline size_t it_active_binds(struct it_env *e)
{
        struct smx_bind_stats st[IT_MAX_SMSC];
        size_t n = smx_client_binds(e->c, st, IT_MAX_SMSC), a = 0;
        for (size_t i = 0; i < n && i < IT_MAX_SMSC; i++)
                a += st[i].health == SMX_HEALTH_ACTIVE || st[i].health == SMX_HEALTH_THROTTLED;
        return a;
}

/* Wait until `want` binds are ACTIVE (pumping events). 1 = reached. */
static inline int it_wait_active(struct it_env *e, size_t want, unsigned timeout_ms)
{
        uint64_t end = it_now_ms() + timeout_ms;
        while (it_now_ms() < end) {
                it_pump(e);
                if (it_active_binds(e) >= want)
                        return 1;
                it_sleep_ms(5);
        }
        return 0;
}

/* The MT the tests send as number k ("mt-k", id written into id[32]). */
static inline struct smx_mt it_mt(uint64_t k, char id[32], const char *text)
{
        snprintf(id, 32, "mt-%llu", (unsigned long long)k);
        return (struct smx_mt){ .id = id, .from = "12345", .to = "447700900001",
                                .text = text, .want_dr = 1 };
}

/* Submit MT number k ("mt-k"), retrying on backpressure. */
static inline int it_submit(struct it_env *e, uint64_t k, const char *text)
{
        char id[32];
        struct smx_mt mt = it_mt(k, id, text);
        for (int tries = 0; tries < 20000; tries++) {
                int rc = smx_submit(e->c, &mt);
                if (rc != SMX_EAGAIN)
                        return rc;
                it_pump(e);
                it_sleep_ms(1);
        }
        return SMX_EAGAIN;
}

/* Submit mt on c, retrying on backpressure (up to 20000 times, pump()
 * and 1 ms between tries): for tests that poll events with a pump of their
 * own. smx_submit's last answer. */
static inline int it_submit_pumping(smx_client *c, const struct smx_mt *mt, void (*pump)(void))
{
        for (int tries = 0; tries < 20000; tries++) {
                int rc = smx_submit(c, mt);
                if (rc != SMX_EAGAIN)
                        return rc;
                pump();
                it_sleep_ms(1);
        }
        return SMX_EAGAIN;
}

/* Run pump() until every MT k in [first, last) has had an outcome
 * (seen[k] > 0, the test's own count per MT number) or timeout_ms passed. */
static inline void it_await_each_outcome(const uint32_t *seen, uint64_t first, uint64_t last,
                                         void (*pump)(void), unsigned timeout_ms)
{
        uint64_t end = it_now_ms() + timeout_ms;
        for (;;) {
                pump();
                uint64_t have = 0;
                for (uint64_t k = first; k < last; k++)
                        have += seen[k] > 0;
                if (have == last - first || it_now_ms() > end)
                        break;
                it_sleep_ms(2);
        }
}

/* Submit n MTs numbered from e->next_mt. Returns how many were accepted;
 * e->next_mt counts accepted MTs only (a number whose submission failed is
 * used again), so waiting for e->next_mt outcomes waits for accepted MTs. */
static inline uint64_t it_submit_n(struct it_env *e, uint64_t n, const char *text)
{
        uint64_t ok = 0;
        for (uint64_t i = 0; i < n; i++)
                if (it_submit(e, e->next_mt, text) == 0) {
                        e->next_mt++;
                        ok++;
                }
        return ok;
}

/* Like it_submit_n without waiting: stops at the first SMX_EAGAIN (ingress
 * full), so the caller's own schedule goes on. Returns how many went in. */
static inline uint64_t it_try_submit_n(struct it_env *e, uint64_t n, const char *text)
{
        uint64_t ok = 0;
        for (; ok < n; ok++) {
                char id[32];
                struct smx_mt mt = it_mt(e->next_mt, id, text);
                if (smx_submit(e->c, &mt) != 0)
                        break;
                e->next_mt++;
        }
        return ok;
}

/* Pump until every accepted MT has an outcome or the timeout passes. */
static inline int it_wait_outcomes(struct it_env *e, uint64_t total, unsigned timeout_ms)
{
        uint64_t end = it_now_ms() + timeout_ms;
        while (it_now_ms() < end) {
                it_pump(e);
                if (e->submitted + e->failed >= total)
                        return 1;
                it_sleep_ms(2);
        }
        return 0;
}

/* MTs (0..n) with no outcome or more than one. */
static inline uint64_t it_bad_outcomes(struct it_env *e, uint64_t n)
{
        uint64_t bad = 0;
        for (uint64_t k = 0; k < n && k < IT_MAX_MT; k++)
                if (e->outcomes_seen[k] != 1)
                        bad++;
        return bad;
}

static inline const char *it_summary(struct it_env *e)
{
        int r = sim_summary_json(e->sim, e->json, sizeof e->json);
        if (r < 0)
                e->json[0] = 0;
        return e->json;
}

/* The number after "key": inside the object that follows `scope` (NULL =
 * the first occurrence anywhere). -1 when missing. */
static inline double it_json_num(const char *json, const char *scope, const char *key)
{
        const char *p = json;
        if (scope) {
                p = strstr(json, scope);
                if (!p)
                        return -1;
        }
        char pat[96];
        snprintf(pat, sizeof pat, "\"%s\":", key);
        p = strstr(p, pat);
        if (!p)
                return -1;
        p += strlen(pat);
        if (!strncmp(p, "null", 4))
                return -1;
        return strtod(p, NULL);
}

/* Print the simulator's violation list (for a failing check). */
static inline void it_print_violations(struct it_env *e)
{
        const char *j = it_summary(e);
        const char *v = strstr(j, "\"violations\":");
        printf("# %.*s\n", v ? 600 : 0, v ? v : "");
}

static inline void it_sim_ctl(struct it_env *e, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));
static inline void it_sim_ctl(struct it_env *e, const char *fmt, ...)
{
        char cmd[256], reply[512];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(cmd, sizeof cmd, fmt, ap);
        va_end(ap);
        int rc = sim_ctl(e->sim, cmd, reply, sizeof reply);
        if (rc < 0)
                printf("# sim_ctl %s: %s\n", cmd, reply);
}

static inline void it_stop(struct it_env *e)
{
        if (e->c)
                smx_client_destroy(e->c);
        e->c = NULL;
        if (e->sim)
                sim_stop(e->sim);
        e->sim = NULL;
        free(e->outcome);
        free(e->outcomes_seen);
        free(e->fail_reason);
}

#endif
