/* smsc-sim's HTTP side with `threads` = 3 (http_sim_options.threads: three
 * libmicrohttpd daemons per site sharing the site's port through
 * SO_REUSEPORT), in-process, with a DR receiver of the test's own:
 *   - each site has three listening sockets on its address:port (the
 *     kernel's /proc/net/tcp);
 *   - 6 client threads send 1 200 MTs (receipt=TRUE) over 240 short
 *     kept-alive connections, to both sites at once: every MT is answered
 *     exactly once, accepted, with its own message_id; the ledger counts
 *     exactly 1 200 requests, accepted MTs and handset deliveries, no
 *     duplicate; every DR reaches the receiver exactly once and the ledger
 *     counts 1 200 pushed and acknowledged;
 *   - every one of a site's three daemons took some of the connections (its
 *     own request count, also in the ledger JSON as "daemon_requests"), and
 *     the counts add up to the site's requests: with the option ignored (one
 *     daemon) the counts of daemons 2 and 3 stay 0 and the listeners are one;
 *   - a site taken down and up again comes back with three listeners, and
 *     its three daemons all serve again;
 *   - stopped, the simulator leaves no listener behind. */
#include <microhttpd.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>

#include "http_sim.h"
#include "http_tlib.h"
#include "testlib.h"

enum { THREADS = 3, CLIENTS = 6, PER_CLIENT = 200, PER_CONN = 5, N_SITES = 2 };
#define N_MT (CLIENTS * PER_CLIENT)

static struct http_sim *sim;
static char site_name[N_SITES][32], site_addr[N_SITES][16];
static uint16_t site_port;

/* ---- the DR receiver: DRs by MT (client, number) ---- */

static _Atomic unsigned dr_seen[CLIENTS][PER_CLIENT];
static _Atomic unsigned dr_unknown, dr_total;

struct rx_req {
        size_t len;
        char body[2048];
};

/* "c<client>-<i>" -> 0 and the numbers, else -1. */
static int parse_id(const char *id, size_t len, int *client, int *i)
{
        char buf[32];
        if (len == 0 || len >= sizeof buf)
                return -1;
        memcpy(buf, id, len);
        buf[len] = 0;
        char tail;
        if (sscanf(buf, "c%d-%d%c", client, i, &tail) != 2)
                return -1;
        return *client >= 0 && *client < CLIENTS && *i >= 0 && *i < PER_CLIENT ? 0 : -1;
}

static enum MHD_Result rx_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload,
                                  size_t *upload_size, void **con_cls)
{
        (void)cls;
        (void)url;
        (void)method;
        (void)version;
        struct rx_req *q = *con_cls;
        if (!q) {
                q = calloc(1, sizeof *q);
                *con_cls = q;
                return q ? MHD_YES : MHD_NO;
        }
        if (*upload_size) {
                size_t n = *upload_size;
                if (n > sizeof q->body - 1 - q->len)
                        n = sizeof q->body - 1 - q->len;
                memcpy(q->body + q->len, upload, n);
                q->len += n;
                *upload_size = 0;
                return MHD_YES;
        }
        q->body[q->len] = 0;
        const char *m = strstr(q->body, "message_id=");
        int cl, i;
        if (strstr(q->body, "type=receipt") && m &&
            parse_id(m + 11, strcspn(m + 11, "&"), &cl, &i) == 0)
                atomic_fetch_add(&dr_seen[cl][i], 1);
        else
                atomic_fetch_add(&dr_unknown, 1);
        atomic_fetch_add(&dr_total, 1);
        static const char ok[] = "OK";
        struct MHD_Response *r = MHD_create_response_from_buffer(2, (void *)ok,
                                                                 MHD_RESPMEM_PERSISTENT);
        enum MHD_Result ret = MHD_queue_response(c, 200, r);
        MHD_destroy_response(r);
        return ret;
}

static void rx_done(void *cls, struct MHD_Connection *c, void **con_cls,
                    enum MHD_RequestTerminationCode toe)
{
        (void)cls;
        (void)c;
        (void)toe;
        free(*con_cls);
        *con_cls = NULL;
}

/* ---- the clients ---- */

static _Atomic unsigned answered[CLIENTS][PER_CLIENT];
static _Atomic unsigned connect_failures;

/* MT "c<client>-<i>" (a DR asked for) on fd; 0 when sent. */
static int send_mt(int fd, const char *id)
{
        char body[256];
        snprintf(body, sizeof body, "login=smsmux&password=secret&phone_number=447700900001"
                 "&sender=SIM&message=threads&receipt=TRUE&message_id=%s", id);
        return t_send_form(fd, body);
}

struct client {
        int index, round;
        const char *addr;
};

/* PER_CLIENT MTs, a new connection every PER_CONN (the kernel picks the
 * daemon per connection); each answer is checked against its MT's id. */
static void *client_main(void *arg)
{
        const struct client *cl = arg;
        int fd = -1;
        for (int i = 0; i < PER_CLIENT; i++) {
                if (i % PER_CONN == 0) {
                        if (fd >= 0)
                                close(fd);
                        fd = t_connect(NULL, cl->addr, site_port);
                        if (fd < 0)
                                atomic_fetch_add(&connect_failures, 1);
                }
                char id[32], buf[1024], want[96];
                snprintf(id, sizeof id, "%sc%d-%d", cl->round ? "r" : "", cl->index, i);
                if (fd < 0 || send_mt(fd, id) != 0)
                        continue;
                if (t_read_answer(fd, buf, sizeof buf, 20000) != 200)
                        continue;
                snprintf(want, sizeof want, "result_code=0&message_id=%s", id);
                if (strstr(buf, want))
                        atomic_fetch_add(&answered[cl->index][i], 1);
        }
        if (fd >= 0)
                close(fd);
        return NULL;
}

/* CLIENTS threads at once, client c on site c % N_SITES; round 1 uses
 * other message_ids ("rc..."). 0 when every thread ran. */
static int run_clients(int round)
{
        pthread_t t[CLIENTS];
        struct client cl[CLIENTS];
        int started = 0;
        for (int c = 0; c < CLIENTS; c++) {
                cl[c] = (struct client){ c, round, site_addr[c % N_SITES] };
                started += pthread_create(&t[c], NULL, client_main, &cl[c]) == 0;
        }
        for (int c = 0; c < started; c++)
                pthread_join(t[c], NULL);
        return started == CLIENTS ? 0 : -1;
}

/* ---- what the kernel and the simulator show ---- */

/* Listening TCP sockets on addr:port (/proc/net/tcp, this network namespace). */
static int listeners(const char *addr, uint16_t port)
{
        struct in_addr a;
        if (inet_pton(AF_INET, addr, &a) != 1)
                return -1;
        char want[32];
        /* the address as the kernel prints it: the 32-bit word in host order */
        snprintf(want, sizeof want, "%08X:%04X", (unsigned)a.s_addr, port);
        FILE *f = fopen("/proc/net/tcp", "r");
        if (!f)
                return -1;
        char line[512];
        int n = 0;
        while (fgets(line, sizeof line, f)) {
                char local[64], remote[64], state[8];
                if (sscanf(line, " %*d: %63s %63s %7s", local, remote, state) == 3 &&
                    !strcmp(local, want) && !strcmp(state, "0A"))
                        n++;
        }
        fclose(f);
        return n;
}

/* Site s's per-daemon requests into d[THREADS]; their sum. -1 when the
 * simulator does not report THREADS daemons. */
static long long daemon_requests(int s, uint64_t d[THREADS])
{
        uint64_t tmp[16] = { 0 };
        int n = http_sim_site_daemon_requests(sim, site_name[s], tmp, 16);
        if (n != THREADS) {
                printf("# %s: %d daemons reported\n", site_name[s], n);
                return -1;
        }
        long long sum = 0;
        for (int k = 0; k < THREADS; k++) {
                d[k] = tmp[k];
                sum += (long long)tmp[k];
        }
        printf("# %s: requests by daemon %llu %llu %llu\n", site_name[s],
               (unsigned long long)d[0], (unsigned long long)d[1], (unsigned long long)d[2]);
        return sum;
}

/* ---- tests ---- */

static void test_each_site_listens_with_three_sockets_on_one_port(void)
{
        for (int s = 0; s < N_SITES; s++)
                CHECK_EQ(listeners(site_addr[s], site_port), THREADS);
}

static void test_concurrent_clients_get_every_mt_answered_once_and_every_dr_once(void)
{
        CHECK_EQ(run_clients(0), 0);
        CHECK_EQ(atomic_load(&connect_failures), 0);
        unsigned once = 0, other = 0;
        for (int c = 0; c < CLIENTS; c++)
                for (int i = 0; i < PER_CLIENT; i++) {
                        once += answered[c][i] == 1;
                        other += answered[c][i] != 1;
                }
        CHECK_EQ(once, N_MT);
        CHECK_EQ(other, 0);
        /* DRs: each pushed once, acknowledged by our receiver */
        struct http_sim_counts sc;
        uint64_t end = t_now_ms() + 60000;
        do {
                http_sim_counts(sim, &sc);
                if (sc.dr_acked >= N_MT && atomic_load(&dr_total) >= N_MT)
                        break;
                t_sleep_ms(20);
        } while (t_now_ms() < end);
        t_sleep_ms(500);        /* a second copy of a DR would show by now */
        http_sim_counts(sim, &sc);
        unsigned dr_once = 0, dr_other = 0;
        for (int c = 0; c < CLIENTS; c++)
                for (int i = 0; i < PER_CLIENT; i++) {
                        dr_once += dr_seen[c][i] == 1;
                        dr_other += dr_seen[c][i] != 1;
                }
        printf("# ledger: requests %llu accepted %llu duplicates %llu handset %llu/%llu dup; "
               "DRs pushed %llu acked %llu, push attempts %llu; receiver: %u DRs, %u unknown\n",
               (unsigned long long)sc.requests, (unsigned long long)sc.accepted,
               (unsigned long long)sc.duplicates, (unsigned long long)sc.handset_delivered,
               (unsigned long long)sc.handset_duplicates, (unsigned long long)sc.dr_pushed,
               (unsigned long long)sc.dr_acked, (unsigned long long)sc.push_attempts,
               atomic_load(&dr_total), atomic_load(&dr_unknown));
        CHECK_EQ(sc.requests, N_MT);
        CHECK_EQ(sc.accepted, N_MT);
        CHECK_EQ(sc.duplicates, 0);
        CHECK_EQ(sc.rejected, 0);
        CHECK_EQ(sc.handset_delivered, N_MT);
        CHECK_EQ(sc.handset_duplicates, 0);
        CHECK_EQ(sc.dr_pushed, N_MT);
        CHECK_EQ(sc.dr_acked, N_MT);
        CHECK_EQ(dr_once, N_MT);
        CHECK_EQ(dr_other, 0);
        CHECK_EQ(atomic_load(&dr_unknown), 0);
        CHECK_EQ(atomic_load(&dr_total), N_MT);
}

static void test_every_daemon_of_each_site_served_requests(void)
{
        struct http_sim_counts sc;
        http_sim_counts(sim, &sc);
        long long all = 0;
        for (int s = 0; s < N_SITES; s++) {
                uint64_t d[THREADS];
                long long sum = daemon_requests(s, d);
                CHECK(sum > 0);
                all += sum;
                for (int k = 0; k < THREADS; k++)
                        CHECK(d[k] > 0);
        }
        CHECK_EQ(all, sc.requests);
        /* the ledger JSON shows the same three counts per site */
        static char json[8192];
        CHECK(http_sim_summary_json(sim, json, sizeof json) > 0);
        const char *p = strstr(json, "\"daemon_requests\":[");
        unsigned long long a = 0, b = 0, c = 0;
        CHECK(p && sscanf(p, "\"daemon_requests\":[%llu,%llu,%llu]", &a, &b, &c) == 3);
        CHECK(a > 0 && b > 0 && c > 0);
}

static void test_a_site_down_and_up_again_serves_on_three_daemons(void)
{
        char r[256];
        uint64_t before[THREADS], after[THREADS];
        CHECK(daemon_requests(0, before) > 0);
        char cmd[96];
        snprintf(cmd, sizeof cmd, "http down %s refuse", site_name[0]);
        CHECK_EQ(http_sim_ctl(sim, cmd, r, sizeof r), 0);
        CHECK_EQ(listeners(site_addr[0], site_port), 0);
        snprintf(cmd, sizeof cmd, "http up %s", site_name[0]);
        CHECK_EQ(http_sim_ctl(sim, cmd, r, sizeof r), 0);
        CHECK_EQ(listeners(site_addr[0], site_port), THREADS);
        memset(answered, 0, sizeof answered);
        CHECK_EQ(run_clients(1), 0);
        unsigned once = 0;
        for (int c = 0; c < CLIENTS; c++)
                for (int i = 0; i < PER_CLIENT; i++)
                        once += answered[c][i] == 1;
        CHECK_EQ(once, N_MT);
        CHECK(daemon_requests(0, after) > 0);
        for (int k = 0; k < THREADS; k++)
                CHECK(after[k] > before[k]);
}

static void test_stopped_simulator_leaves_no_listener(void)
{
        http_sim_stop(sim);
        sim = NULL;
        for (int s = 0; s < N_SITES; s++)
                CHECK_EQ(listeners(site_addr[s], site_port), 0);
}

int main(void)
{
        signal(SIGPIPE, SIG_IGN);
        struct MHD_Daemon *rx = MHD_start_daemon(
                MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION | MHD_USE_POLL,
                0, NULL, NULL, rx_request, NULL, MHD_OPTION_NOTIFY_COMPLETED, rx_done, NULL,
                MHD_OPTION_CONNECTION_TIMEOUT, 60u, MHD_OPTION_END);
        const union MHD_DaemonInfo *di = rx ? MHD_get_daemon_info(rx, MHD_DAEMON_INFO_BIND_PORT)
                                            : NULL;
        if (!di) {
                printf("Bail out! the DR receiver did not start\n");
                return 1;
        }
        char url[96], err[256];
        snprintf(url, sizeof url, "http://127.0.0.1:%u/httpapi/receiver", di->port);
        struct http_sim_options o;
        http_sim_options_init(&o);
        o.threads = THREADS;
        o.receiver_url = url;
        if (http_sim_start(&o, &sim, err, sizeof err) < 0) {
                printf("Bail out! %s\n", err);
                MHD_stop_daemon(rx);
                return 1;
        }
        for (int s = 0; s < N_SITES; s++)
                http_sim_site(sim, (size_t)s, site_name[s], site_addr[s], &site_port);
        RUN(test_each_site_listens_with_three_sockets_on_one_port);
        RUN(test_concurrent_clients_get_every_mt_answered_once_and_every_dr_once);
        RUN(test_every_daemon_of_each_site_served_requests);
        RUN(test_a_site_down_and_up_again_serves_on_three_daemons);
        RUN(test_stopped_simulator_leaves_no_listener);
        MHD_stop_daemon(rx);
        return t_done();
}
