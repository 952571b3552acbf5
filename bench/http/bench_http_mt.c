/* HTTP MT throughput: the MT engine (src/http/http_mt.c, one thread, the
 * "worker" of the HTTP transport) pushing MTs as fast as it can to the
 * simulator's HTTP side over keep-alive HTTP/1.1, for --seconds S.
 *
 *   bench_http_mt [--seconds S] [--conns N] [--in-flight N] [--sim-threads N]
 *
 * Prints a summary to stderr and, as the last line of stdout,
 * mt_per_s=<number>. Every MT is checked: accepted once, none failed, and
 * the simulator's handset count equals the MTs accepted. */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "http/http_mt.h"
#include "http_sim.h"
#include "smsmux.h"

static _Atomic uint64_t pulled, accepted, failed;
static _Atomic int stop;

static uint64_t now_us(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static int pull(void *arg, struct http_buf *body, char msgid[HTTP_MSGID_MAX + 1], uint64_t *ref)
{
        (void)arg;
        if (atomic_load_explicit(&stop, memory_order_relaxed))
                return 0;
        uint64_t k = atomic_fetch_add_explicit(&pulled, 1, memory_order_relaxed);
        int n = snprintf(msgid, HTTP_MSGID_MAX + 1, "b%016llx", (unsigned long long)k);
        http_form_add(body, "phone_number", "447700900001", 12);
        http_form_add(body, "sender", "12345", 5);
        http_form_add(body, "message", "benchmark message, a typical short text", 39);
        http_form_add(body, "message_id", msgid, (size_t)n);
        http_form_add(body, "receipt", "FALSE", 5);
        *ref = k;
        return 1;
}

static void done(void *arg, uint64_t ref, const char *msgid, const struct http_mt_outcome *o)
{
        (void)arg;
        (void)ref;
        (void)msgid;
        atomic_fetch_add_explicit(o->accepted ? &accepted : &failed, 1, memory_order_relaxed);
}

static const struct http_mt_ops ops = { .pull = pull, .done = done };

int main(int argc, char **argv)
{
        double seconds = 5;
        unsigned conns = 32, in_flight = 256, sim_threads = 1;
        for (int i = 1; i + 1 < argc; i += 2) {
                if (!strcmp(argv[i], "--seconds"))
                        seconds = atof(argv[i + 1]);
                else if (!strcmp(argv[i], "--conns"))
                        conns = (unsigned)atoi(argv[i + 1]);
                else if (!strcmp(argv[i], "--in-flight"))
                        in_flight = (unsigned)atoi(argv[i + 1]);
                else if (!strcmp(argv[i], "--sim-threads"))
                        sim_threads = (unsigned)atoi(argv[i + 1]);
        }
        struct http_sim_options so;
        http_sim_options_init(&so);
        so.sites = "dc3";
        so.threads = sim_threads;
        struct http_sim *sim;
        char err[200];
        if (http_sim_start(&so, &sim, err, sizeof err) < 0) {
                fprintf(stderr, "%s\n", err);
                return 1;
        }
        char name[32], addr[16], url[96];
        uint16_t port;
        http_sim_site(sim, 0, name, addr, &port);
        snprintf(url, sizeof url, "http://%s:%u/httpapi/receiver", addr, port);
        struct http_mt_config c;
        http_mt_config_init(&c);
        c.urls[0] = url;
        c.n_urls = 1;
        c.login = "smsmux";
        c.password = "secret";
        c.max_host_conns = conns;
        c.max_in_flight = in_flight;
        struct http_mt *m;
        if (http_mt_create(&c, &ops, NULL, &m, err, sizeof err) < 0) {
                fprintf(stderr, "%s\n", err);
                return 1;
        }
        uint64_t t0 = now_us();
        http_mt_start(m);
        usleep((useconds_t)(seconds * 1e6));
        atomic_store(&stop, 1);
        uint64_t a_at_stop = atomic_load(&accepted);
        uint64_t t1 = now_us();
        while (atomic_load(&accepted) + atomic_load(&failed) < atomic_load(&pulled) &&
               now_us() - t1 < 10000000)
                usleep(1000);
        http_mt_destroy(m);
        struct http_sim_counts sc;
        http_sim_counts(sim, &sc);
        double s = (double)(t1 - t0) / 1e6;
        double rate = (double)a_at_stop / s;
        fprintf(stderr, "http mt: %llu accepted in %.2f s over %u connections, %u in flight: %.0f MT/s; "
                "failed %llu; simulator handset %llu, duplicates %llu\n",
                (unsigned long long)a_at_stop, s, conns, in_flight, rate,
                (unsigned long long)atomic_load(&failed), (unsigned long long)sc.handset_delivered,
                (unsigned long long)sc.duplicates);
        int ok = atomic_load(&failed) == 0 && sc.handset_delivered == atomic_load(&accepted);
        http_sim_stop(sim);
        printf("mt_per_s=%.0f\n", rate);
        return ok ? 0 : 1;
}
