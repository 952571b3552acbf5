/* bench_store: MTs with want_dr and every DR coming back, through the
 * in-process store or a shared Redis store, with 1 or several instances
 * (clients) in this process against the in-process smsc-sim (every SMSC
 * sends each DR on a random session of its system_id: with N instances,
 * N-1 times in N on an instance that did not send the MT).
 *
 *   bench_store [--store memory|redis|redis-tcp|redis-tls] [--instances N]
 *               [--mts M] [--no-drs] [--window W] [--rate MT_PER_S] [--idle-s S]
 *
 * Starts its own redis-server (no persistence) for the redis stores: on a
 * unix socket (redis), or on 127.0.0.1 with a plain port and a TLS port
 * (certificates made here, tests/tls_certs.h) for the same-run comparison
 * of redis:// (redis-tcp) and rediss:// (redis-tls, verified, TLS 1.3). Prints: MT/s from the first submit to the last DR event (or the
 * last outcome with --no-drs), DR latency p50/p99 (from the moment the
 * simulator sends the DR to the moment smx_events_poll hands it over: with
 * Redis this includes the script, the owner's stream and its read), Redis
 * commands and round trips per MT (the store threads' counters), and with
 * --no-drs (the simulator swallows every DR, so each MT leaves one pending
 * correlation) Redis used_memory growth per MT, and redis-server's CPU
 * time per MT (INFO cpu, user + system, over the run), and the commands
 * redis-server processed per MT (INFO stats total_commands_processed: every
 * connection, the bench's own INFO calls included). With --idle-s S, after
 * the run the instances stay up S seconds with no traffic (the application
 * polling every 10 ms) and the commands per second Redis processed then
 * (idle_redis_cmds_per_s) and the store threads counted
 * (idle_store_cmds_per_s) are printed too. One line of key=value on
 * stdout; the rest on stderr. Not a timed test: figures go to
 * bench/README.md with the machine and the command. */
#include <getopt.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <netinet/in.h>
#include <sys/socket.h>

#include "rtest.h"
#include "sim.h"
#include "tls_certs.h"
#include "smsmux.h"
#include "store/rstore.h"

#define MAX_INST 8

static uint64_t now_ns(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* DR send time by message id (msgid_style dec: the id is a serial). */
static _Atomic uint64_t *dr_sent_ns;
static uint64_t n_slots;
static int swallow;

static int dr_hook(void *arg, const char *message_id, uint8_t st)
{
        (void)arg;
        (void)st;
        uint64_t id = strtoull(message_id, NULL, 10);
        if (id < n_slots)
                atomic_store_explicit(&dr_sent_ns[id], now_ns(), memory_order_relaxed);
        return swallow;
}

static int cmp_u64(const void *a, const void *b)
{
        uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
        return x < y ? -1 : x > y;
}

static long long redis_used_memory(const struct rtest_redis *r)
{
        redisContext *c = redisConnectUnix(r->sock);
        long long v = -1;
        if (c && !c->err) {
                redisReply *rep = redisCommand(c, "INFO memory");
                if (rep && rep->type == REDIS_REPLY_STRING) {
                        const char *p = strstr(rep->str, "used_memory:");
                        if (p)
                                v = atoll(p + 12);
                }
                if (rep)
                        freeReplyObject(rep);
        }
        if (c)
                redisFree(c);
        return v;
}

/* redis-server's total_commands_processed so far (INFO stats), -1 */
static long long redis_commands(const struct rtest_redis *r)
{
        redisContext *c = redisConnectUnix(r->sock);
        long long v = -1;
        if (c && !c->err) {
                redisReply *rep = redisCommand(c, "INFO stats");
                if (rep && rep->type == REDIS_REPLY_STRING) {
                        const char *p = strstr(rep->str, "total_commands_processed:");
                        if (p)
                                v = atoll(p + 25);
                }
                if (rep)
                        freeReplyObject(rep);
        }
        if (c)
                redisFree(c);
        return v;
}

/* The store threads' "commands" counters, summed over the instances. */
static uint64_t store_commands(smx_client **c, unsigned n)
{
        uint64_t cmds = 0;
        for (unsigned k = 0; k < n; k++) {
                char *txt = NULL;
                if (smx_stats_render(c[k], SMX_STATS_JSON, &txt, NULL) == 0 && txt) {
                        const char *p = strstr(txt, "\"store\":{");
                        const char *q = p ? strstr(p, "\"commands\":") : NULL;
                        if (q)
                                cmds += strtoull(q + 11, NULL, 10);
                }
                free(txt);
        }
        return cmds;
}

/* redis-server's CPU time so far (user + system, all its threads), us */
static double redis_cpu_us(const struct rtest_redis *r)
{
        redisContext *c = redisConnectUnix(r->sock);
        double v = -1;
        if (c && !c->err) {
                redisReply *rep = redisCommand(c, "INFO cpu");
                if (rep && rep->type == REDIS_REPLY_STRING) {
                        const char *s = strstr(rep->str, "used_cpu_sys:");
                        const char *u = strstr(rep->str, "used_cpu_user:");
                        if (s && u)
                                v = (atof(s + 13) + atof(u + 14)) * 1e6;
                }
                if (rep)
                        freeReplyObject(rep);
        }
        if (c)
                redisFree(c);
        return v;
}

static int free_port(void)
{
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        socklen_t al = sizeof a;
        int port = -1;
        if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
            getsockname(fd, (struct sockaddr *)&a, &al) == 0)
                port = ntohs(a.sin_port);
        if (fd >= 0)
                close(fd);
        return port;
}

/* redis-server with a plain TCP port, a TLS port (no client certificates)
 * and the unix socket for INFO; certificates in r->dir. The store url in
 * url (tls: rediss://, ca_file the CA). 0 or -1. */
static int redis_start_tcp(struct rtest_redis *r, int tls, char *url, size_t url_len,
                           char *ca_file, size_t ca_len)
{
        memset(r, 0, sizeof *r);
        snprintf(r->dir, sizeof r->dir, "/tmp/smx-redis-XXXXXX");
        if (!mkdtemp(r->dir))
                return -1;
        snprintf(r->sock, sizeof r->sock, "%s/redis.sock", r->dir);
        snprintf(r->log, sizeof r->log, "%s/redis.log", r->dir);
        struct tc_cert ca, srv;
        if (tc_make(r->dir, "ca", "bench CA", NULL, -3600, 86400, NULL, &ca) < 0 ||
            tc_make(r->dir, "server", "localhost", "DNS:localhost,IP:127.0.0.1", -3600, 86400,
                    &ca, &srv) < 0)
                return -1;
        snprintf(ca_file, ca_len, "%s", ca.pem);
        char port[16], tls_port[16];
        int p = free_port(), q = free_port();
        snprintf(port, sizeof port, "%d", p);
        snprintf(tls_port, sizeof tls_port, "%d", q);
        pid_t pid = fork();
        if (pid < 0)
                return -1;
        if (pid == 0) {
                execlp("redis-server", "redis-server", "--port", port, "--tls-port", tls_port,
                       "--bind", "127.0.0.1", "--tls-cert-file", srv.pem, "--tls-key-file",
                       srv.keyfile, "--tls-auth-clients", "no", "--unixsocket", r->sock,
                       "--unixsocketperm", "700", "--dir", r->dir, "--save", "",
                       "--appendonly", "no", "--logfile", r->log, "--daemonize", "no",
                       (char *)NULL);
                _exit(127);
        }
        r->pid = pid;
        tc_free(&ca);
        tc_free(&srv);
        snprintf(url, url_len, "%s://127.0.0.1:%d/0", tls ? "rediss" : "redis", tls ? q : p);
        for (int i = 0; i < 500; i++) {
                if (rtest_redis_ping(r))
                        return 0;
                rtest_sleep_ms(10);
        }
        return -1;
}

int main(int argc, char **argv)
{
        const char *store = "memory";
        unsigned n_inst = 1, window = 64;
        uint64_t rate = 0;      /* MTs per second, 0: as fast as taken */
        uint64_t mts = 100000;
        unsigned idle_s = 0;
        static const struct option opts[] = {
                { "store", required_argument, NULL, 's' },
                { "instances", required_argument, NULL, 'i' },
                { "mts", required_argument, NULL, 'm' },
                { "no-drs", no_argument, NULL, 'n' },
                { "window", required_argument, NULL, 'w' },
                { "rate", required_argument, NULL, 'r' },
                { "idle-s", required_argument, NULL, 'I' },
                { NULL, 0, NULL, 0 },
        };
        int o;
        while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
                switch (o) {
                case 's': store = optarg; break;
                case 'i': n_inst = (unsigned)atoi(optarg); break;
                case 'm': mts = strtoull(optarg, NULL, 10); break;
                case 'n': swallow = 1; break;
                case 'w': window = (unsigned)atoi(optarg); break;
                case 'r': rate = strtoull(optarg, NULL, 10); break;
                case 'I': idle_s = (unsigned)atoi(optarg); break;
                default:
                        fprintf(stderr, "usage: bench_store [--store memory|redis|redis-tcp|redis-tls] [--instances N] "
                                        "[--mts M] [--no-drs] [--window W] [--rate MT_PER_S] [--idle-s S]\n");
                        return 2;
                }
        }
        if (n_inst < 1 || n_inst > MAX_INST || mts == 0)
                return 2;
        int redis = !strncmp(store, "redis", 5);
        int tcp = !strcmp(store, "redis-tcp"), tls = !strcmp(store, "redis-tls");
        if (redis && !tcp && !tls && strcmp(store, "redis"))
                return 2;
        struct rtest_redis R;
        memset(&R, 0, sizeof R);
        char url[160] = "", ca_file[512] = "";
        if (redis && !(tcp || tls) && rtest_redis_start(&R, 0) != 0)
                return 1;
        if (tcp || tls) {
                if (redis_start_tcp(&R, tls, url, sizeof url, ca_file, sizeof ca_file) != 0) {
                        fprintf(stderr, "redis-server (tcp/tls) did not start\n");
                        rtest_redis_stop(&R);
                        return 1;
                }
        } else {
                snprintf(url, sizeof url, "%s", R.url);
        }

        n_slots = mts * 2 + 1024;
        dr_sent_ns = calloc(n_slots, sizeof *dr_sent_ns);
        uint64_t *lat = calloc(mts + 1, sizeof *lat);
        struct sim_options so;
        sim_options_init(&so);
        so.sites = "dc3,bos";
        so.smscs_per_site = 2;
        so.port_base = 0;
        so.seed = 7;
        struct smsc_sim *sim;
        char err[256], reply[256];
        if (sim_start(&so, &sim, err, sizeof err) < 0) {
                fprintf(stderr, "sim: %s\n", err);
                return 1;
        }
        sim_ctl(sim, "set all msgid_style dec", reply, sizeof reply);
        sim_ctl(sim, "set all dr_delay_ms 0", reply, sizeof reply);
        sim_ctl(sim, "set all other_site_prob 0.5", reply, sizeof reply);
        /* the simulator has no deliver window: a DR it cannot get answered
         * (ESME_RX_T_APPN while our rings are full) is re-sent, never given up */
        sim_ctl(sim, "set all deliver_max_sends 100000", reply, sizeof reply);
        sim_set_dr_hook(sim, dr_hook, NULL);
        struct sim_smsc_info info[8];
        size_t n = sim_smscs(sim, info, 8);
        struct smx_smsc_config sc[8];
        for (size_t i = 0; i < n; i++)
                sc[i] = (struct smx_smsc_config){ .name = info[i].name, .site = info[i].site,
                                                  .host = info[i].host, .port = info[i].port };
        smx_client *c[MAX_INST];
        char names[MAX_INST][8];
        char cluster[32];
        snprintf(cluster, sizeof cluster, "bench%d", (int)getpid());
        for (unsigned k = 0; k < n_inst; k++) {
                struct smx_config cfg;
                smx_config_init(&cfg);
                cfg.smscs = sc;
                cfg.n_smscs = n;
                cfg.workers = 1;
                cfg.pin_workers = 0;
                cfg.window = window;
                cfg.rebind_interval_ms = 1000;
                snprintf(names[k], sizeof names[k], "i%u", k);
                if (redis) {
                        cfg.store.url = url;
                        if (tls)
                                cfg.store.ca_file = ca_file;
                        cfg.store.instance = names[k];
                        cfg.store.cluster = cluster;
                }
                if (smx_client_create(&cfg, &c[k], err, sizeof err) < 0 ||
                    smx_client_start(c[k]) < 0) {
                        fprintf(stderr, "client: %s\n", err);
                        return 1;
                }
        }
        /* every bind of every instance up */
        for (int tries = 0; tries < 1000; tries++) {
                size_t up = 0;
                for (unsigned k = 0; k < n_inst; k++) {
                        struct smx_bind_stats st[8];
                        size_t nb = smx_client_binds(c[k], st, 8);
                        for (size_t b = 0; b < nb; b++)
                                up += st[b].health == SMX_HEALTH_ACTIVE;
                }
                struct smx_event ev[64];
                for (unsigned k = 0; k < n_inst; k++)
                        while (smx_events_poll(c[k], ev, 64) > 0)
                                ;
                if (up == n * n_inst)
                        break;
                struct timespec ts = { 0, 10000000 };
                nanosleep(&ts, NULL);
        }
        long long mem0 = redis ? redis_used_memory(&R) : 0;
        double cpu0 = redis ? redis_cpu_us(&R) : 0;
        long long rcmd0 = redis ? redis_commands(&R) : 0;
        uint64_t sent = 0, outcomes = 0, drs = 0, n_lat = 0, t_last = 0;
        uint64_t t0 = now_ns(), t_dbg = t0;
        uint64_t deadline = t0 + 300ull * 1000000000ull;
        char id[32];
        unsigned k_next = 0;
        struct smx_event ev[256];
        while (now_ns() < deadline) {
                /* submit until the ingress says wait */
                uint64_t allowed = rate ? (now_ns() - t0) * rate / 1000000000ull + 1 : mts;
                for (int burst = 0; burst < 256 && sent < mts && sent < allowed; burst++) {
                        /* 20-byte MT ids, as the memory goal counts them */
                        snprintf(id, sizeof id, "m%019llu", (unsigned long long)sent);
                        struct smx_mt mt = { .id = id, .from = "12345", .to = "447700900001",
                                             .text = "bench store", .want_dr = 1 };
                        if (smx_submit(c[k_next], &mt) != 0)
                                break;
                        sent++;
                        k_next = (k_next + 1) % n_inst;
                }
                size_t got = 0;
                for (unsigned k = 0; k < n_inst; k++) {
                        size_t m;
                        while ((m = smx_events_poll(c[k], ev, 256)) > 0) {
                                got += m;
                                uint64_t t = now_ns();
                                for (size_t i = 0; i < m; i++) {
                                        if (ev[i].type == SMX_EV_SUBMITTED ||
                                            ev[i].type == SMX_EV_FAILED) {
                                                outcomes++;
                                                t_last = t;
                                        } else if (ev[i].type == SMX_EV_DR) {
                                                drs++;
                                                t_last = t;
                                                uint64_t mid = strtoull(ev[i].message_id, NULL, 10);
                                                uint64_t s = mid < n_slots ? atomic_load(&dr_sent_ns[mid]) : 0;
                                                if (s && t > s && n_lat < mts)
                                                        lat[n_lat++] = t - s;
                                        }
                                }
                        }
                }
                if (outcomes >= mts && (swallow || drs >= mts))
                        break;
                if (getenv("BENCH_STORE_DEBUG") && now_ns() - t_dbg > 2000000000ull) {
                        t_dbg = now_ns();
                        char *txt = NULL;
                        smx_stats_render(c[0], SMX_STATS_JSON, &txt, NULL);
                        const char *p = txt ? strstr(txt, "\"store\"") : NULL;
                        const char *q = txt ? strstr(txt, "\"inbound\"") : NULL;
                        fprintf(stderr, "sent %llu outcomes %llu drs %llu %.400s\n%.600s\n",
                                (unsigned long long)sent, (unsigned long long)outcomes,
                                (unsigned long long)drs, p ? p : "", q ? q : "");
                        char sum[8192];
                        sim_summary_json(sim, sum, sizeof sum);
                        const char *tt = strstr(sum, "\"totals\"");
                        fprintf(stderr, "sim %.700s\n", tt ? tt : "");
                        free(txt);
                }
                if (!got && (sent == mts || sent >= allowed)) {
                        struct timespec ts = { 0, 200000 };
                        nanosleep(&ts, NULL);
                }
        }
        double secs = (double)(t_last - t0) / 1e9;
        qsort(lat, n_lat, sizeof *lat, cmp_u64);
        double p50 = n_lat ? (double)lat[n_lat / 2] / 1000.0 : 0;
        double p99 = n_lat ? (double)lat[n_lat * 99 / 100] / 1000.0 : 0;
        uint64_t cmds = 0, rtts = 0, dropped = 0;
        for (unsigned k = 0; k < n_inst; k++) {
                char *txt = NULL;
                if (smx_stats_render(c[k], SMX_STATS_JSON, &txt, NULL) == 0 && txt) {
                        const char *p = strstr(txt, "\"store\":{");
                        if (p) {
                                const char *q;
                                if ((q = strstr(p, "\"commands\":")))
                                        cmds += strtoull(q + 11, NULL, 10);
                                if ((q = strstr(p, "\"round_trips\":")))
                                        rtts += strtoull(q + 14, NULL, 10);
                                if ((q = strstr(p, "\"corr_dropped\":")))
                                        dropped += strtoull(q + 15, NULL, 10);
                        }
                }
                free(txt);
        }
        long long mem1 = redis ? redis_used_memory(&R) : 0;
        double cpu1 = redis ? redis_cpu_us(&R) : 0;
        long long rcmd1 = redis ? redis_commands(&R) : 0;
        if (redis) {
                /* where Redis spent its time: per command, calls and usec per call */
                redisContext *rc = redisConnectUnix(R.sock);
                redisReply *rep = rc && !rc->err ? redisCommand(rc, "INFO commandstats") : NULL;
                if (rep && rep->type == REDIS_REPLY_STRING)
                        fprintf(stderr, "%s", rep->str);
                if (rep)
                        freeReplyObject(rep);
                if (rc)
                        redisFree(rc);
        }
        fprintf(stderr, "store %s, %u instance(s), %llu MTs: %llu outcomes, %llu DRs in %.2f s\n",
                store, n_inst, (unsigned long long)mts, (unsigned long long)outcomes,
                (unsigned long long)drs, secs);
        printf("store=%s instances=%u mts=%llu outcomes=%llu drs=%llu mt_per_s=%.0f "
               "dr_lat_p50_us=%.0f dr_lat_p99_us=%.0f redis_cmds_per_mt=%.2f "
               "redis_round_trips_per_mt=%.3f corr_dropped=%llu",
               store, n_inst, (unsigned long long)mts, (unsigned long long)outcomes,
               (unsigned long long)drs, secs > 0 ? (double)mts / secs : 0, p50, p99,
               (double)cmds / (double)mts, (double)rtts / (double)mts,
               (unsigned long long)dropped);
        if (redis && cpu0 >= 0 && cpu1 > cpu0)
                printf(" redis_cpu_us_per_mt=%.2f", (cpu1 - cpu0) / (double)mts);
        if (redis && swallow && mem0 > 0 && mem1 > 0)
                printf(" redis_bytes_per_pending_corr=%.0f", (double)(mem1 - mem0) / (double)mts);
        if (redis && rcmd0 >= 0 && rcmd1 > rcmd0)
                printf(" redis_server_cmds_per_mt=%.2f", (double)(rcmd1 - rcmd0) / (double)mts);
        if (redis && idle_s) {
                /* no traffic: what the instances still ask of Redis */
                uint64_t scmd0 = store_commands(c, n_inst);
                long long i0 = redis_commands(&R);
                uint64_t end = now_ns() + (uint64_t)idle_s * 1000000000ull;
                while (now_ns() < end) {
                        for (unsigned k = 0; k < n_inst; k++)
                                while (smx_events_poll(c[k], ev, 256) > 0)
                                        ;
                        struct timespec ts = { 0, 10000000 };
                        nanosleep(&ts, NULL);
                }
                long long i1 = redis_commands(&R);
                uint64_t scmd1 = store_commands(c, n_inst);
                /* the two INFO calls of this measurement are not the store's */
                printf(" idle_redis_cmds_per_s=%.1f idle_store_cmds_per_s=%.1f",
                       (double)(i1 - i0 - 1) / idle_s, (double)(scmd1 - scmd0) / idle_s);
        }
        printf("\n");
        for (unsigned k = 0; k < n_inst; k++)
                smx_client_destroy(c[k]);
        sim_stop(sim);
        if (redis)
                rtest_redis_stop(&R);
        free(lat);
        free(dr_sent_ns);
        return 0;
}
