/* H4 receiver throughput, measured with wrk (Debian) in one run against
 *   1. a trivial libmicrohttpd server that reads the body and answers 200
 *      (same daemon flags as the receiver: internal thread, epoll, turbo);
 *   2. the smsmux receiver: a client with only an HTTP receiver, every POST
 *      parsed, deduplicated, put in the event ring before its 200, and an
 *      application thread polling the events.
 *
 *   bench_http_rx [--seconds S] [--conns N] [--wrk-threads N] [--script PATH]
 *
 * Prints both figures and, as the last line of stdout, rx_ratio=<number>.
 * Exit 1 when a request failed or the events polled differ from the 2xx. */
#include <arpa/inet.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "smsmux.h"
#include "mhd_tlib.h"

static enum MHD_Result trivial(void *cls, struct MHD_Connection *c, const char *url,
                               const char *method, const char *version, const char *upload,
                               size_t *upload_size, void **con_cls)
{
        struct MHD_Response *ok = cls;
        (void)url;
        (void)method;
        (void)version;
        (void)upload;
        if (t_mhd_reading(con_cls, upload_size))
                return MHD_YES;
        return MHD_queue_response(c, MHD_HTTP_OK, ok);
}

/* Run wrk against port; returns requests/s (0 on failure), non-2xx count. */
static double run_wrk(uint16_t port, const char *script, const char *prefix, unsigned secs,
                      unsigned conns, unsigned threads, long *non2xx, long *errors)
{
        char url[80], d[16], c[16], t[16];
        snprintf(url, sizeof url, "http://127.0.0.1:%u/httpapi/receiver", port);
        snprintf(d, sizeof d, "%us", secs);
        snprintf(c, sizeof c, "%u", conns);
        snprintf(t, sizeof t, "%u", threads);
        int pfd[2];
        if (pipe(pfd) < 0)
                return 0;
        pid_t pid = fork();
        if (pid == 0) {
                dup2(pfd[1], 1);
                close(pfd[0]);
                execlp("wrk", "wrk", "-t", t, "-c", c, "-d", d, "-s", script, url, "--", prefix,
                       (char *)NULL);
                _exit(127);
        }
        close(pfd[1]);
        static char out[8192];
        size_t n = 0;
        ssize_t r;
        while ((r = read(pfd[0], out + n, sizeof out - 1 - n)) > 0)
                n += (size_t)r;
        out[n] = 0;
        close(pfd[0]);
        waitpid(pid, NULL, 0);
        fprintf(stderr, "%s", out);
        const char *rq = strstr(out, "Requests/sec:");
        const char *nx = strstr(out, "Non-2xx or 3xx responses:");
        const char *se = strstr(out, "Socket errors:");
        *non2xx = nx ? atol(nx + 25) : 0;
        *errors = 0;
        if (se) {
                long a = 0, b = 0, e1 = 0, e2 = 0;
                sscanf(se, "Socket errors: connect %ld, read %ld, write %ld, timeout %ld", &a, &b, &e1, &e2);
                *errors = a + b + e1 + e2;
        }
        return rq ? atof(rq + 13) : 0;
}

static _Atomic int polling = 1;
static _Atomic uint64_t polled;

static void *poller(void *arg)
{
        smx_client *c = arg;
        struct smx_event ev[256];
        while (atomic_load(&polling)) {
                size_t n = smx_events_poll(c, ev, 256);
                if (n)
                        atomic_fetch_add(&polled, n);
                else
                        usleep(200);
        }
        return NULL;
}

int main(int argc, char **argv)
{
        unsigned secs = 5, conns = 64, threads = 1;
        const char *script = "wrk_post.lua";
        for (int i = 1; i + 1 < argc; i += 2) {
                if (!strcmp(argv[i], "--seconds"))
                        secs = (unsigned)atoi(argv[i + 1]);
                else if (!strcmp(argv[i], "--conns"))
                        conns = (unsigned)atoi(argv[i + 1]);
                else if (!strcmp(argv[i], "--wrk-threads"))
                        threads = (unsigned)atoi(argv[i + 1]);
                else if (!strcmp(argv[i], "--script"))
                        script = argv[i + 1];
        }
        char prefix[32];
        snprintf(prefix, sizeof prefix, "%ld", (long)time(NULL));

        /* 1. the trivial server */
        static const char body[] = "result_code=0\n";
        struct MHD_Response *ok = MHD_create_response_from_buffer(sizeof body - 1, (void *)body,
                                                                  MHD_RESPMEM_PERSISTENT);
        struct sockaddr_in sin;
        memset(&sin, 0, sizeof sin);
        sin.sin_family = AF_INET;
        inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
        struct MHD_Daemon *d = MHD_start_daemon(
                MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_TURBO, 0, NULL, NULL,
                trivial, ok, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sin,
                MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)8192,
                MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024u, MHD_OPTION_END);
        if (!d) {
                fprintf(stderr, "cannot start the trivial server\n");
                return 1;
        }
        uint16_t tport = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT)->port;
        long t_non2xx, t_err;
        double trivial_rps = run_wrk(tport, script, prefix, secs, conns, threads, &t_non2xx, &t_err);
        MHD_stop_daemon(d);
        MHD_destroy_response(ok);

        /* 2. the receiver in a client */
        struct smx_http_config hc;
        smx_http_config_init(&hc);
        hc.receiver = "127.0.0.1:0";
        /* transport http with a URL nothing is sent to: the client needs no
         * SMSC and no MT goes out; only the receiver works */
        hc.transport = SMX_TRANSPORT_HTTP;
        hc.urls[0] = "http://127.0.0.1:9/httpapi/receiver";
        hc.n_urls = 1;
        struct smx_config cfg;
        smx_config_init(&cfg);
        cfg.http = &hc;
        cfg.workers = 1;
        cfg.pin_workers = 0;
        cfg.dedup_window_ms = 600000;
        smx_client *c;
        char err[256];
        if (smx_client_create(&cfg, &c, err, sizeof err) < 0 || smx_client_start(c) < 0) {
                fprintf(stderr, "client: %s\n", err);
                return 1;
        }
        struct smx_http_stats st;
        smx_client_http_stats(c, &st);
        pthread_t th;
        pthread_create(&th, NULL, poller, c);
        char p2[40];
        snprintf(p2, sizeof p2, "%s-rx", prefix);
        long r_non2xx, r_err;
        double rx_rps = run_wrk(st.receiver_port, script, p2, secs, conns, threads, &r_non2xx, &r_err);
        usleep(200000);
        atomic_store(&polling, 0);
        pthread_join(th, NULL);
        smx_client_http_stats(c, &st);
        uint64_t got = atomic_load(&polled);
        smx_client_destroy(c);

        double ratio = trivial_rps > 0 ? rx_rps / trivial_rps : 0;
        fprintf(stderr, "trivial MHD: %.0f req/s (non-2xx %ld, errors %ld)\n", trivial_rps, t_non2xx, t_err);
        fprintf(stderr, "receiver:    %.0f req/s (non-2xx %ld, errors %ld; delivered %llu, events polled %llu, "
                "busy %llu)\nratio %.2f\n", rx_rps, r_non2xx, r_err,
                (unsigned long long)st.rx_delivered, (unsigned long long)got,
                (unsigned long long)st.rx_busy, ratio);
        printf("trivial_req_per_s=%.0f\nreceiver_req_per_s=%.0f\nrx_ratio=%.2f\n", trivial_rps, rx_rps, ratio);
        int okk = r_non2xx == 0 && t_non2xx == 0 && got == st.rx_delivered && rx_rps > 0;
        return okk ? 0 : 1;
}
