/* `smsmux demo`: the README's main job. Starts the embedded simulator (2
 * sites x 2 SMSCs on free ports), binds the library to all four, and sends
 * --rate MTs per second for --duration while a fault plan plays on a
 * timeline scaled to the duration: site bos dies and comes back, smsc1.dc3
 * stalls, smsc2.dc3 throttles, MOs (one of them in 3 parts) are sent. One
 * progress line per second; at the end a summary (demo_report.c) built from
 * the application's own bookkeeping and the simulator's ledger. Exit 0 when
 * nothing was lost or duplicated.
 *
 * With the default 30 s rebind interval the plan makes R2 visible: bos dies
 * at 9% of the run and returns at 44%, so (90 s run) its binds are retried
 * about 30 s after the first bind (site still down) and again 30 s later,
 * when the site is back. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli_client.h"
#include "cli_http.h"
#include "cli_sim.h"
#include "commands.h"
#include "demo.h"

#define DEMO_EV_BATCH 256

/* One step of the fault plan, at a fraction of the run. */
struct plan_step {
        unsigned permille;
        const char *cmd;            /* simulator control command */
};

static const struct plan_step plan[] = {
        { 60, "mo all 1" },
        { 90, "kill site bos" },
        { 170, "mo smsc1.dc3 1 3" },
        { 220, "stall smsc1.dc3 on" },
        { 390, "stall smsc1.dc3 off" },
        { 440, "restore site bos" },
        { 560, "throttle smsc2.dc3 on" },
        { 720, "throttle smsc2.dc3 off" },
        { 800, "mo all 1" },
        { 850, "mo smsc2.bos 1 2" },
};
#define PLAN_STEPS (sizeof plan / sizeof plan[0])

static int book_grow(struct demo_book *b)
{
        if (b->n < b->cap)
                return 0;
        size_t cap = b->cap ? b->cap * 2 : 65536;
        uint8_t *o = realloc(b->outcomes, cap);
        if (!o)
                return -1;
        b->outcomes = o;
        uint8_t *d = realloc(b->dr_seen, cap);
        if (!d)
                return -1;
        b->dr_seen = d;
        memset(b->outcomes + b->cap, 0, cap - b->cap);
        memset(b->dr_seen + b->cap, 0, cap - b->cap);
        b->cap = cap;
        return 0;
}

/* The index of an id "d<N>" we sent, or -1. */
static long book_index(const struct demo_book *b, const char *id)
{
        if (!id || id[0] != 'd' || !id[1])
                return -1;
        char *end;
        unsigned long v = strtoul(id + 1, &end, 10);
        if (*end || v >= b->n)
                return -1;
        return (long)v;
}

static void book_event(struct demo_book *b, const struct smx_event *ev)
{
        long i;
        tally_event(&b->per, ev);
        switch (ev->type) {
        case SMX_EV_SUBMITTED:
        case SMX_EV_FAILED:
                i = book_index(b, ev->id);
                if (i < 0) {
                        b->unknown_ids++;
                        break;
                }
                if (b->outcomes[i] < 255)
                        b->outcomes[i]++;
                if (ev->type == SMX_EV_SUBMITTED) {
                        b->submitted++;
                } else {
                        b->failed++;
                        b->fail_by_reason[(unsigned)ev->reason < 8 ? (unsigned)ev->reason : 0]++;
                }
                break;
        case SMX_EV_DR:
                b->drs++;
                if (!ev->id) {
                        b->dr_uncorrelated++;
                        break;
                }
                i = book_index(b, ev->id);
                if (i < 0) {
                        b->unknown_ids++;
                        break;
                }
                if (ev->state >= 1 && ev->state <= 8) {
                        uint8_t bit = (uint8_t)(1u << (ev->state - 1));
                        if (b->dr_seen[i] & bit)
                                b->dr_dups++;
                        b->dr_seen[i] |= bit;
                }
                break;
        case SMX_EV_MO:
                b->mos++;
                if (ev->parts > b->mo_parts_max)
                        b->mo_parts_max = ev->parts;
                break;
        case SMX_EV_BIND:
                if (b->quiet)
                        break;
                if (ev->up)
                        printf("        bind %s (%s) up\n", ev->smsc, ev->site);
                else
                        printf("        bind %s (%s) down: %s\n", ev->smsc, ev->site,
                               ev->bind_reason && *ev->bind_reason ? ev->bind_reason : "?");
                break;
        }
}

static void demo_poll(struct demo_book *b, smx_client *c)
{
        struct smx_event ev[DEMO_EV_BATCH];
        size_t n;
        while ((n = smx_events_poll(c, ev, DEMO_EV_BATCH)) > 0) {
                for (size_t i = 0; i < n; i++)
                        book_event(b, &ev[i]);
                if (n < DEMO_EV_BATCH)
                        break;
        }
}

static void progress(const struct demo_book *b, smx_client *c, uint64_t t_ms, uint64_t per_s)
{
        struct smx_bind_stats st[8];
        size_t k = smx_client_binds(c, st, 8);
        printf("[%3llus] %5llu MT/s  sent %7zu  submitted %7llu  failed %4llu  in flight %5llu  "
               "DRs %7llu  MOs %3llu |", (unsigned long long)(t_ms / 1000),
               (unsigned long long)per_s, b->n, (unsigned long long)b->submitted,
               (unsigned long long)b->failed, (unsigned long long)smx_client_in_flight(c),
               (unsigned long long)b->drs, (unsigned long long)b->mos);
        for (size_t i = 0; i < k && i < 8; i++)
                printf(" %s %s", st[i].name, smx_health_name(st[i].health));
        printf("\n");
        fflush(stdout);
}

static void run_step(struct smsc_sim *sim, const struct plan_step *p, uint64_t t_ms)
{
        char reply[256];
        int rc = sim_ctl(sim, p->cmd, reply, sizeof reply);
        printf("[%3llus] plan: %s%s%s\n", (unsigned long long)(t_ms / 1000), p->cmd,
               rc < 0 ? " -> " : "", rc < 0 ? reply : "");
}

/* The once-a-second progress line's clock; the demo's main thread. */
struct demo_clock {
        uint64_t start, next_progress, last_submitted;
};

/* A progress line when a second has passed since the last one. */
static void demo_tick(struct demo_book *b, smx_client *c, struct demo_clock *k, uint64_t t)
{
        if (t < k->next_progress)
                return;
        progress(b, c, t, b->submitted - k->last_submitted);
        k->last_submitted = b->submitted;
        k->next_progress += 1000;
}

static void demo_announce(const struct cli_opts *o, const struct cli_http_sim *hs,
                          const struct cli_smsc *smscs, size_t n_smscs, double ri_s)
{
        if (hs->sim)
                printf("smsmux demo: MTs over HTTP (%s), primary %s, alternate %s\n",
                       o->http.transport == SMX_TRANSPORT_HTTP ? "--transport http" : "--transport both",
                       o->http.urls[0], o->http.urls[1]);
        printf("smsmux demo: %zu SMSCs on 2 sites (embedded simulator), %u MT/s for %.0f s, "
               "rebind interval %g s\n", n_smscs, o->rate, o->duration_ms / 1000.0, ri_s);
        for (size_t i = 0; i < n_smscs; i++)
                printf("        %s (%s) at %s:%u\n", smscs[i].name, smscs[i].site,
                       smscs[i].host, smscs[i].port);
        fflush(stdout);
}

/* --rate MTs per second for --duration while the fault plan (SMPP and
 * HTTP) plays; stops early on a signal. */
static void demo_traffic(struct demo_book *b, smx_client *c, const struct cli_opts *o,
                         struct smsc_sim *sim, struct cli_http_sim *hs, int sig_fd,
                         struct demo_clock *k)
{
        size_t step = 0;
        char id[24], to[24], text[64];
        struct smx_mt mt = { .id = id, .from = "12345", .to = to, .text = text, .want_dr = 1 };
        for (;;) {
                uint64_t t = cli_now_ms() - k->start;
                if (t >= o->duration_ms)
                        break;
                while (step < PLAN_STEPS &&
                       t >= (uint64_t)o->duration_ms * plan[step].permille / 1000)
                        run_step(sim, &plan[step++], t);
                cli_http_plan_tick(hs, t, o->duration_ms);
                uint64_t due = (uint64_t)o->rate * t / 1000;
                while (b->n < due && book_grow(b) == 0) {
                        mt.id_len = (size_t)snprintf(id, sizeof id, "d%zu", b->n);
                        snprintf(to, sizeof to, "4477009%05zu", b->n % 100000);
                        snprintf(text, sizeof text, "demo message %zu", b->n);
                        int r = smx_submit(c, &mt);
                        if (r != 0) {
                                if (r != SMX_EAGAIN)
                                        fprintf(stderr, "demo: smx_submit: %s\n", smx_strerror(r));
                                break;      /* backpressure: this id again next turn */
                        }
                        b->n++;
                }
                demo_poll(b, c);
                demo_tick(b, c, k, t);
                if (cli_wait(c, sig_fd, -1, 10) & 2) {
                        fprintf(stderr, "demo: signal: stopping the traffic\n");
                        break;
                }
        }
}

/* Traffic over: wait for every outcome (bounded by --drain-timeout), then
 * two seconds more for DRs. */
static void demo_settle(struct demo_book *b, smx_client *c, const struct cli_opts *o,
                        int sig_fd, struct demo_clock *k)
{
        printf("[%3llus] traffic stopped after %zu MTs; waiting for outcomes\n",
               (unsigned long long)((cli_now_ms() - k->start) / 1000), b->n);
        uint64_t deadline = cli_now_ms() + o->drain_timeout_ms;
        while (b->submitted + b->failed < b->n && cli_now_ms() < deadline) {
                if (cli_wait(c, sig_fd, -1, 100) & 2)
                        break;
                demo_poll(b, c);
                demo_tick(b, c, k, cli_now_ms() - k->start);
        }
        uint64_t settle = cli_now_ms() + 2000;
        while (cli_now_ms() < settle) {
                cli_wait(c, -1, -1, 100);
                demo_poll(b, c);
        }
}

int cli_demo(const struct cli_opts *o)
{
        struct demo_book b;
        memset(&b, 0, sizeof b);
        int sig_fd = cli_signals_fd();
        double ri_s = o->rebind_interval_ms >= 0 ? (double)o->rebind_interval_ms / 1000.0 : 30.0;

        struct sim_options so;
        sim_options_init(&so);
        so.sites = "dc3,bos";
        so.smscs_per_site = 2;
        so.port_base = 0;
        so.rebind_interval_s = ri_s;
        if (o->system_id)
                so.system_id = o->system_id;
        if (o->password)
                so.password = o->password;
        struct smsc_sim *sim = NULL;
        struct cli_smsc smscs[CLI_MAX_SMSCS];
        size_t n_smscs = 0;
        if (cli_sim_start(&so, &sim, smscs, CLI_MAX_SMSCS, &n_smscs) < 0)
                return CLI_EXIT_USAGE;
        /* --transport http|both: the simulator's HTTP side too (cli_http.h) */
        static struct cli_opts oh;
        static struct cli_http_sim hs;
        oh = *o;
        if (cli_http_sim_start(&oh, sim, 1, &hs) < 0) {
                sim_stop(sim);
                return CLI_EXIT_USAGE;
        }
        o = &oh;
        smx_client *c = NULL;
        int rc = cli_client_open(o, smscs, n_smscs, &c);
        if (rc != 0) {
                cli_http_sim_stop(&hs);
                sim_stop(sim);
                return rc;
        }
        cli_http_sim_connect(&hs, c);
        demo_announce(o, &hs, smscs, n_smscs, ri_s);
        struct demo_clock k = { .start = cli_now_ms(), .next_progress = 1000 };
        demo_traffic(&b, c, o, sim, &hs, sig_fd, &k);
        demo_settle(&b, c, o, sig_fd, &k);
        /* Unbind (whatever still has no outcome fails "shutdown" and counts as
         * lost), then read the simulator's ledger and report. */
        b.quiet = 1;
        smx_client_drain(c, 0);
        /* the drain also delivered the DRs still parked and the MOs still
         * missing parts: take them all before the report (and destroy) */
        demo_poll(&b, c);
        uint64_t settle = cli_now_ms() + 5000;
        while ((smx_client_in_flight(c) > 0 || smx_client_undelivered(c) > 0) &&
               cli_now_ms() < settle) {
                cli_wait(c, -1, -1, 50);
                demo_poll(&b, c);
        }
        demo_poll(&b, c);
        char *ledger = malloc(1 << 20);
        if (ledger && sim_summary_json(sim, ledger, 1 << 20) < 0)
                ledger[0] = '\0';
        cli_http_merge_ledger(&hs, ledger, 1 << 20);
        cli_http_report(&hs, c);
        struct demo_result res;
        demo_report(&b, c, ledger ? ledger : "", ri_s, &res);
        free(ledger);
        smx_client_destroy(c);
        cli_http_sim_stop(&hs);
        sim_stop(sim);
        free(b.outcomes);
        free(b.dr_seen);
        if (sig_fd >= 0)
                close(sig_fd);
        return res.lost == 0 && res.duplicated == 0 ? CLI_EXIT_OK : CLI_EXIT_FAIL;
}
