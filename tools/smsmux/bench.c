/* `smsmux bench`: push MTs as fast as the library takes them, to the SMSCs
 * given or to an embedded simulator, and measure MT/s, submit->accepted
 * latency (the latency_us of each SUBMITTED event) and CPU per MT.
 *
 * It drives the library the way a high-volume application should: MTs go in
 * through smx_submit_n() in runs of BENCH_SUBMIT_RUN (one slot reservation
 * and one ingress push per run), and unless --config sets another
 * ingress_capacity, the ingress is sized for the windows (twice the MTs all
 * binds keep in flight, a power of two, at least 1024) instead of the
 * 65536-slot default: enough for the workers never to wait for the
 * application, few enough slots to stay in cache (bench/README.md,
 * "smsmux bench vs bench_e2e"). Each MT has its own id ("b<N>"), recipient
 * and text ("bench message <N>"), formatted without printf.
 *
 * Timing starts at the first submit (once the binds are up) and ends at the
 * last outcome; mt_per_s counts accepted MTs over that span. CPU per MT is
 * the CPU time of this thread (the application's: submit, poll) and of the
 * threads the library started (workers), over the same span, divided by the
 * MTs accepted (tools/common/thread_cpu.h; an embedded simulator's threads
 * are left out). The human summary goes to stderr; the last line of stdout
 * is `mt_per_s=<number>` (../../../shared/CLI.md). */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli_client.h"
#include "cli_http.h"
#include "cli_sim.h"
#include "commands.h"
#include "tally.h"
#include "put_dec.h"
#include "thread_cpu.h"

#define BENCH_EV_BATCH 256
#define BENCH_SUBMIT_RUN 64      /* MTs per smx_submit_n call */

/* The run's counters; one thread (the application's). */
struct bench_run {
        smx_client *c;
        uint64_t sent, accepted, failed, drs, mos, binds_up, first_ms, last_outcome_ms;
        struct lat_samples lat;
        struct thread_cpu cpu;
        struct thread_cpu_snap cpu_first, cpu_last;   /* at the first submit, after the drain */
};

static void bench_poll(struct bench_run *b)
{
        struct smx_event ev[BENCH_EV_BATCH];
        size_t n;
        while ((n = smx_events_poll(b->c, ev, BENCH_EV_BATCH)) > 0) {
                int outcome = 0;
                for (size_t i = 0; i < n; i++) {
                        switch (ev[i].type) {
                        case SMX_EV_SUBMITTED:
                                b->accepted++;
                                lat_add(&b->lat, ev[i].latency_us);
                                outcome = 1;
                                break;
                        case SMX_EV_FAILED: b->failed++; outcome = 1; break;
                        case SMX_EV_DR: b->drs++; break;
                        case SMX_EV_MO: b->mos++; break;
                        case SMX_EV_BIND:
                                if (ev[i].up)
                                        b->binds_up++;
                                else if (b->binds_up)
                                        b->binds_up--;
                                break;
                        }
                }
                if (outcome)
                        b->last_outcome_ms = cli_now_ms();
                if (n < BENCH_EV_BATCH)
                        break;
        }
}

static void bench_summary(struct bench_run *b, double mt_per_s)
{
        double span = b->last_outcome_ms > b->first_ms ?
                      (double)(b->last_outcome_ms - b->first_ms) / 1000.0 : 0.0;
        double app_ns, lib_ns;
        thread_cpu_per_mt(&b->cpu_first, &b->cpu_last, b->accepted, &app_ns, &lib_ns);
        lat_sort(&b->lat);
        fprintf(stderr,
                "bench: %llu MTs sent, %llu accepted, %llu failed in %.3f s: %.1f MT/s\n"
                "bench: submit->accepted latency p50 %.3f ms, p99 %.3f ms, p99.9 %.3f ms "
                "(%zu samples)\n"
                "bench: CPU per accepted MT: application thread %.0f ns, library threads "
                "%.0f ns, %.0f ns in all\n"
                "bench: %llu DRs, %llu MOs received\n",
                (unsigned long long)b->sent, (unsigned long long)b->accepted,
                (unsigned long long)b->failed, span, mt_per_s,
                lat_pct(&b->lat, 50) / 1000.0, lat_pct(&b->lat, 99) / 1000.0,
                lat_pct(&b->lat, 99.9) / 1000.0, b->lat.n, app_ns, lib_ns, app_ns + lib_ns,
                (unsigned long long)b->drs, (unsigned long long)b->mos);
        struct smx_bind_stats st[CLI_MAX_SMSCS];
        size_t k = smx_client_binds(b->c, st, CLI_MAX_SMSCS);
        fprintf(stderr, "bench: %-16s %-8s %10s %10s %8s %8s %10s\n", "bind", "site",
                "accepted", "failed", "resent", "thrott", "drs");
        for (size_t i = 0; i < k && i < CLI_MAX_SMSCS; i++)
                fprintf(stderr, "bench: %-16s %-8s %10llu %10llu %8llu %8llu %10llu\n",
                        st[i].name, st[i].site, (unsigned long long)st[i].accepted,
                        (unsigned long long)st[i].failed, (unsigned long long)st[i].resent,
                        (unsigned long long)st[i].throttled, (unsigned long long)st[i].drs);
}

/* The ingress the client was created with, and whether bench sized it. */
static uint32_t bench_ingress;
static int bench_ingress_sized;

/* The ingress for the windows (see the opening comment): applied unless the
 * config file chose an ingress_capacity, and not with an HTTP transport
 * (its requests in flight are not bounded by a window). */
static void bench_size_ingress(struct smx_config *cfg)
{
        struct smx_config def;
        smx_config_init(&def);
        bench_ingress = cfg->ingress_capacity;
        if (cfg->ingress_capacity != def.ingress_capacity || cfg->http || !cfg->n_smscs)
                return;
        uint64_t in_flight = 0;
        for (size_t i = 0; i < cfg->n_smscs; i++)
                in_flight += cfg->smscs[i].window ? cfg->smscs[i].window : cfg->window;
        uint32_t cap = 1024;
        while (cap < 2 * in_flight && cap < def.ingress_capacity)
                cap *= 2;
        cfg->ingress_capacity = bench_ingress = cap;
        bench_ingress_sized = 1;
}

/* One run of MTs for smx_submit_n: each with its own buffers. */
struct bench_batch {
        struct smx_mt mt[BENCH_SUBMIT_RUN];
        char id[BENCH_SUBMIT_RUN][24], to[BENCH_SUBMIT_RUN][16], text[BENCH_SUBMIT_RUN][40];
};

/* Fill mts [0, n) as MTs number first, first + 1, ...: id "b<N>", to
 * "4477009" and N mod 100000 in 5 digits, text "bench message <N>". */
static void bench_fill(struct bench_batch *bb, uint64_t first, unsigned n)
{
        static const char prefix[] = "bench message ";
        for (unsigned i = 0; i < n; i++) {
                uint64_t k = first + i;
                struct smx_mt *m = &bb->mt[i];
                memset(m, 0, sizeof *m);
                bb->id[i][0] = 'b';
                m->id = bb->id[i];
                m->id_len = 1 + put_dec(bb->id[i] + 1, k);
                memcpy(bb->to[i], "4477009", 7);
                uint32_t r = (uint32_t)(k % 100000);
                for (int d = 11; d >= 7; d--, r /= 10)
                        bb->to[i][d] = (char)('0' + r % 10);
                bb->to[i][12] = 0;
                m->to = bb->to[i];
                memcpy(bb->text[i], prefix, sizeof prefix - 1);
                m->text_len = sizeof prefix - 1 + put_dec(bb->text[i] + sizeof prefix - 1, k);
                m->text = bb->text[i];
                m->from = "12345";
                m->want_dr = 1;
        }
}

/* SMSCs named by --smsc and --config together (0 also when the config is
 * bad: cli_client_open() reports that). */
static size_t bench_smscs_given(const struct cli_opts *o)
{
        if (o->n_smscs || !o->config_path)
                return o->n_smscs;
        struct smx_config_file f;
        char err[256];
        smx_config_file_init(&f);
        size_t n = smx_config_file_load(&f, o->config_path, err, sizeof err) == 0 ? f.n_smscs : 1;
        smx_config_file_free(&f);
        return n;
}

/* Let the binds come up (at most 10 s) so the clock measures sending.
 * Returns 1 when a signal asked to stop. */
static int bench_wait_binds(struct bench_run *b, int sig_fd)
{
        size_t n_binds = smx_client_binds(b->c, NULL, 0);
        uint64_t t0 = cli_now_ms();
        int stop = 0;
        while (b->binds_up < n_binds && cli_now_ms() - t0 < 10000 && !stop) {
                if (cli_wait(b->c, sig_fd, -1, 100) & 2)
                        stop = 1;
                bench_poll(b);
        }
        fprintf(stderr, "bench: %llu of %zu binds up, sending through smx_submit_n "
                "(ingress_capacity %u%s)\n", (unsigned long long)b->binds_up, n_binds,
                bench_ingress, bench_ingress_sized ? ", twice the windows" : "");
        return stop;
}

/* Submit MTs through smx_submit_n until --count are sent or --seconds are
 * over (or a signal or an error stops it), polling events after every
 * 256 MTs and whenever the ingress is full. */
static void bench_send(struct bench_run *b, const struct cli_opts *o, int sig_fd, int stop)
{
        static struct bench_batch bb;
        b->first_ms = cli_now_ms();
        thread_cpu_snapshot(&b->cpu, &b->cpu_first);
        uint64_t until = o->seconds_ms ? b->first_ms + o->seconds_ms : 0;
        uint64_t since_poll = 0;
        while (!stop) {
                uint64_t left = BENCH_SUBMIT_RUN;
                if (o->count)
                        left = o->count - b->sent;
                else if (cli_now_ms() >= until)
                        break;
                if (left == 0)
                        break;
                unsigned n = left < BENCH_SUBMIT_RUN ? (unsigned)left : BENCH_SUBMIT_RUN;
                bench_fill(&bb, b->sent, n);
                int err = 0;
                int ok = smx_submit_n(b->c, bb.mt, n, &err);
                b->sent += (uint64_t)ok;
                since_poll += (uint64_t)ok;
                if (err == SMX_EAGAIN) {
                        bench_poll(b);
                        since_poll = 0;
                        if (cli_wait(b->c, sig_fd, -1, 1) & 2)
                                stop = 1;
                } else if (err != 0) {
                        fprintf(stderr, "bench: smx_submit_n: %s\n", smx_strerror(err));
                        break;
                } else if (since_poll >= 256) {
                        bench_poll(b);
                        since_poll = 0;
                }
        }
}

/* Wait (at most --drain-timeout) for the outcomes still due. */
static void bench_drain(struct bench_run *b, const struct cli_opts *o, int sig_fd)
{
        uint64_t deadline = cli_now_ms() + o->drain_timeout_ms;
        bench_poll(b);
        while (b->accepted + b->failed < b->sent && cli_now_ms() < deadline) {
                if (cli_wait(b->c, sig_fd, -1, 50) & 2)
                        break;
                bench_poll(b);
        }
}

int cli_bench(const struct cli_opts *o)
{
        struct bench_run b;
        memset(&b, 0, sizeof b);
        lat_init(&b.lat, 1u << 24);
        int sig_fd = cli_signals_fd();
        struct smsc_sim *sim = NULL;
        struct cli_smsc extra[CLI_MAX_SMSCS];
        size_t n_extra = 0;
        if (bench_smscs_given(o) == 0) {
                struct sim_options so;
                sim_options_init(&so);
                so.port_base = 0;
                if (o->system_id)
                        so.system_id = o->system_id;
                if (o->password)
                        so.password = o->password;
                if (cli_sim_start(&so, &sim, extra, CLI_MAX_SMSCS, &n_extra) < 0)
                        return CLI_EXIT_USAGE;
                fprintf(stderr, "bench: embedded simulator with %zu SMSCs\n", n_extra);
        }
        /* --transport http|both without --http-url: the simulator's HTTP side */
        static struct cli_opts oh;
        static struct cli_http_sim hs;
        oh = *o;
        if (cli_http_sim_start(&oh, sim, 0, &hs) < 0) {
                if (sim)
                        sim_stop(sim);
                return CLI_EXIT_USAGE;
        }
        o = &oh;
        thread_cpu_init(&b.cpu);       /* the simulator's threads are not the library's */
        int rc = cli_client_open_tuned(o, extra, n_extra, bench_size_ingress, &b.c);
        if (rc != 0) {
                cli_http_sim_stop(&hs);
                if (sim)
                        sim_stop(sim);
                return rc;
        }
        cli_http_sim_connect(&hs, b.c);
        bench_send(&b, o, sig_fd, bench_wait_binds(&b, sig_fd));
        bench_drain(&b, o, sig_fd);
        thread_cpu_snapshot(&b.cpu, &b.cpu_last);
        double span = b.last_outcome_ms > b.first_ms ?
                      (double)(b.last_outcome_ms - b.first_ms) / 1000.0 : 0.0;
        double mt_per_s = span > 0 ? (double)b.accepted / span : 0.0;
        bench_summary(&b, mt_per_s);
        smx_client_drain(b.c, 0);
        bench_poll(&b);
        if (o->http_given && o->http.transport != SMX_TRANSPORT_SMPP) {
                fflush(stdout);
                int out = dup(1);      /* the HTTP block goes to stderr: stdout ends with mt_per_s */
                dup2(2, 1);
                cli_http_report(&hs, b.c);
                dup2(out, 1);
                close(out);
        }
        smx_client_destroy(b.c);
        cli_http_sim_stop(&hs);
        if (sim)
                sim_stop(sim);
        lat_free(&b.lat);
        if (sig_fd >= 0)
                close(sig_fd);
        printf("mt_per_s=%.1f\n", mt_per_s);
        fflush(stdout);
        return CLI_EXIT_OK;
}
