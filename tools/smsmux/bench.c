/* `smsmux bench`: push MTs as fast as the library takes them, to the SMSCs
 * given or to an embedded simulator, and measure MT/s and submit->accepted
 * latency (the latency_us of each SUBMITTED event).
 *
 * Timing starts at the first smx_submit() (once the binds are up) and ends
 * at the last outcome; mt_per_s counts accepted MTs over that span. The
 * human summary goes to stderr; the last line of stdout is
 * `mt_per_s=<number>` (../../../shared/CLI.md). */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli_client.h"
#include "cli_http.h"
#include "cli_sim.h"
#include "commands.h"
#include "tally.h"

#define BENCH_EV_BATCH 256

/* The run's counters; one thread. */
struct bench_run {
        smx_client *c;
        uint64_t sent, accepted, failed, drs, mos, binds_up, first_ms, last_outcome_ms;
        struct lat_samples lat;
        struct tally per;
};

static void bench_poll(struct bench_run *b)
{
        struct smx_event ev[BENCH_EV_BATCH];
        size_t n;
        while ((n = smx_events_poll(b->c, ev, BENCH_EV_BATCH)) > 0) {
                int outcome = 0;
                for (size_t i = 0; i < n; i++) {
                        tally_event(&b->per, &ev[i]);
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
        lat_sort(&b->lat);
        fprintf(stderr,
                "bench: %llu MTs sent, %llu accepted, %llu failed in %.3f s: %.1f MT/s\n"
                "bench: submit->accepted latency p50 %.3f ms, p99 %.3f ms, p99.9 %.3f ms "
                "(%zu samples)\n"
                "bench: %llu DRs, %llu MOs received\n",
                (unsigned long long)b->sent, (unsigned long long)b->accepted,
                (unsigned long long)b->failed, span, mt_per_s,
                lat_pct(&b->lat, 50) / 1000.0, lat_pct(&b->lat, 99) / 1000.0,
                lat_pct(&b->lat, 99.9) / 1000.0, b->lat.n,
                (unsigned long long)b->drs, (unsigned long long)b->mos);
        struct smx_bind_stats st[CLI_MAX_SMSCS];
        size_t k = smx_client_binds(b->c, st, CLI_MAX_SMSCS);
        fprintf(stderr, "bench: %-16s %-8s %10s %10s %8s %8s %10s\n", "bind", "site",
                "accepted", "failed", "resent", "thrott", "drs");
        for (size_t i = 0; i < k && i < CLI_MAX_SMSCS; i++) {
                struct smsc_tally *t = tally_get(&b->per, st[i].name);
                fprintf(stderr, "bench: %-16s %-8s %10llu %10llu %8llu %8llu %10llu\n",
                        st[i].name, st[i].site,
                        (unsigned long long)(t ? t->submitted : 0),
                        (unsigned long long)(t ? t->failed : 0),
                        (unsigned long long)st[i].resent, (unsigned long long)st[i].throttled,
                        (unsigned long long)(t ? t->drs : 0));
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
        fprintf(stderr, "bench: %llu of %zu binds up, sending\n",
                (unsigned long long)b->binds_up, n_binds);
        return stop;
}

/* Submit MTs until --count are sent or --seconds are over (or a signal or
 * an error stops it), polling events as the ring fills. */
static void bench_send(struct bench_run *b, const struct cli_opts *o, int sig_fd, int stop)
{
        b->first_ms = cli_now_ms();
        uint64_t until = o->seconds_ms ? b->first_ms + o->seconds_ms : 0;
        char id[32], to[24], text[48];
        struct smx_mt mt = { .from = "12345", .to = to, .text = text, .want_dr = 1 };
        while (!stop) {
                if (o->count ? b->sent >= o->count : cli_now_ms() >= until)
                        break;
                int idn = snprintf(id, sizeof id, "b%llu", (unsigned long long)b->sent);
                snprintf(to, sizeof to, "4477009%05llu", (unsigned long long)(b->sent % 100000));
                snprintf(text, sizeof text, "bench message %llu", (unsigned long long)b->sent);
                mt.id = id;
                mt.id_len = (size_t)idn;
                int r = smx_submit(b->c, &mt);
                if (r == 0) {
                        b->sent++;
                        if ((b->sent & 255) == 0)
                                bench_poll(b);
                } else if (r == SMX_EAGAIN) {
                        bench_poll(b);
                        if (cli_wait(b->c, sig_fd, -1, 1) & 2)
                                stop = 1;
                } else {
                        fprintf(stderr, "bench: smx_submit: %s\n", smx_strerror(r));
                        break;
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
        int rc = cli_client_open(o, extra, n_extra, &b.c);
        if (rc != 0) {
                cli_http_sim_stop(&hs);
                if (sim)
                        sim_stop(sim);
                return rc;
        }
        cli_http_sim_connect(&hs, b.c);
        bench_send(&b, o, sig_fd, bench_wait_binds(&b, sig_fd));
        bench_drain(&b, o, sig_fd);
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
