/* `smsmux pipe` over HTTP (CLI.md): the same event contract as over SMPP.
 * Runs the smsmux program (path in argv[1]) against the simulator's HTTP
 * side started here: every MT line gets one `submitted` with "smsc":"http",
 * DRs pushed to --http-receiver come out as `dr` events with the MT's id,
 * MOs as `mo` events; bad HTTP flags are usage errors (exit 2). */
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>

#include "http_sim.h"
#include "http_tlib.h"
#include "testlib.h"

static const char *smsmux;

/* Run smsmux with args, feed `in` on stdin, collect stdout into out.
 * Returns the exit status (or -1). `during` runs once the child started.
 * Stdin stays open (DRs and MOs still arrive) until `enough` says the
 * output so far has everything expected, or hold_ms passed (a deadline,
 * not a wait: on a loaded machine the DRs come late, not lost). */
static int run(char *const args[], const char *in, char *out, size_t cap, unsigned timeout_ms,
               void (*during)(void *), void *arg, unsigned hold_ms, int (*enough)(const char *out))
{
        int to_child, from_child;
        pid_t pid = spawn_piped(smsmux, args, &to_child, &from_child);
        if (pid < 0)
                return -1;
        if (during)
                during(arg);
        size_t off = 0, len = strlen(in);
        while (off < len) {
                ssize_t w = write(to_child, in + off, len - off);
                if (w <= 0)
                        break;
                off += (size_t)w;
        }
        size_t n = 0;
        uint64_t hold_end = t_now_ms() + hold_ms;
        while (enough && !enough(out)) {
                struct pollfd p = { from_child, POLLIN, 0 };
                uint64_t now = t_now_ms();
                if (now >= hold_end || poll(&p, 1, (int)(hold_end - now)) < 0)
                        break;
                if (!p.revents)
                        continue;
                ssize_t r = read(from_child, out + n, cap - 1 - n);
                if (r <= 0)
                        break;
                n += (size_t)r;
                out[n] = 0;
        }
        close(to_child);
        uint64_t end = t_now_ms() + timeout_ms;
        for (;;) {
                struct pollfd p = { from_child, POLLIN, 0 };
                uint64_t now = t_now_ms();
                if (now >= end || poll(&p, 1, (int)(end - now)) <= 0)
                        break;
                ssize_t r = read(from_child, out + n, cap - 1 - n);
                if (r <= 0)
                        break;
                n += (size_t)r;
        }
        out[n] = 0;
        close(from_child);
        int st = 0;
        if (t_now_ms() >= end)
                kill(pid, SIGKILL);
        waitpid(pid, &st, 0);
        return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int count_str(const char *hay, const char *needle)
{
        int n = 0;
        for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
                n++;
        return n;
}

static struct http_sim *sim;
static uint16_t rx_port;

static void point_sim(void *arg)
{
        (void)arg;
        char cmd[96], r[128];
        snprintf(cmd, sizeof cmd, "http receiver http://127.0.0.1:%u/httpapi/receiver", rx_port);
        http_sim_ctl(sim, cmd, r, sizeof r);
        http_sim_ctl(sim, "http dup-push on", r, sizeof r);
        http_sim_ctl(sim, "http mo 3", r, sizeof r);
}

static uint16_t free_tcp_port(void)
{
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in a;
        memset(&a, 0, sizeof a);
        a.sin_family = AF_INET;
        inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
        bind(fd, (struct sockaddr *)&a, sizeof a);
        socklen_t l = sizeof a;
        getsockname(fd, (struct sockaddr *)&a, &l);
        close(fd);
        return ntohs(a.sin_port);
}

/* Every MT's DR and the 3 MOs printed: stdin may close. */
static int all_drs_and_mos(const char *out)
{
        return count_str(out, "\"event\":\"dr\"") >= 50 && count_str(out, "\"event\":\"mo\"") >= 3;
}

static void test_pipe_over_http_keeps_the_event_contract(void)
{
        struct http_sim_options o;
        http_sim_options_init(&o);
        char err[160];
        CHECK_EQ(http_sim_start(&o, &sim, err, sizeof err), 0);
        char u1[96], u2[96], rx[32];
        t_sim_site_url(sim, 0, u1, sizeof u1);
        t_sim_site_url(sim, 1, u2, sizeof u2);
        rx_port = free_tcp_port();
        snprintf(rx, sizeof rx, "127.0.0.1:%u", rx_port);
        char *args[] = { "smsmux", "pipe", "--transport", "http", "--http-url", u1, "--http-url", u2,
                         "--http-receiver", rx, "--http-resubmit-pause", "0.5", "--drain-timeout", "3",
                         NULL };
        static char in[65536], out[1 << 20];
        size_t n = 0;
        for (int i = 0; i < 50; i++)
                n += (size_t)snprintf(in + n, sizeof in - n,
                                      "{\"id\":\"p-%d\",\"from\":\"12345\",\"to\":\"447700900001\","
                                      "\"text\":\"a+b & \\u00fc \\ud83d\\ude00\"}\n", i);
        n += (size_t)snprintf(in + n, sizeof in - n,
                              "{\"id\":\"p-0\",\"from\":\"12345\",\"to\":\"447700900001\",\"text\":\"again\"}\n");
        n += (size_t)snprintf(in + n, sizeof in - n, "not json\n");
        /* stdin stays open until every DR and MO came (up to 30 s): the
         * pipe answers the service's pushes until it exits, so a DR pushed
         * late, after its last poll, would be acknowledged and not printed */
        out[0] = 0;
        int st = run(args, in, out, sizeof out, 20000, point_sim, NULL, 30000, all_drs_and_mos);
        CHECK_EQ(st, 0);
        CHECK_EQ(count_str(out, "\"event\":\"submitted\""), 50);
        CHECK_EQ(count_str(out, "\"event\":\"submitted\",\"id\":\"p-"), 50);
        CHECK_EQ(count_str(out, "\"smsc\":\"http\",\"message_id\":\""), 50);
        CHECK_EQ(count_str(out, "\"reason\":\"duplicate_id\""), 1);
        CHECK_EQ(count_str(out, "\"reason\":\"bad_request\""), 1);
        int drs = count_str(out, "\"event\":\"dr\"");
        int mos = count_str(out, "\"event\":\"mo\"");
        printf("# %d DR events, %d MO events over HTTP\n", drs, mos);
        CHECK_EQ(drs, 50);                           /* pushed twice each, shown once */
        CHECK_EQ(count_str(out, "\"event\":\"dr\",\"id\":\"p-"), 50);
        CHECK_EQ(mos, 3);
        struct http_sim_seen s;
        struct http_sim_counts sc;
        http_sim_counts(sim, &sc);
        printf("# sim: dr_pushed %llu dr_acked %llu mo_acked %llu push_failures %llu pending %llu\n",
               (unsigned long long)sc.dr_pushed, (unsigned long long)sc.dr_acked,
               (unsigned long long)sc.mo_acked, (unsigned long long)sc.push_failures,
               (unsigned long long)sc.pending_pushes);
        for (int i = 0; i < 50; i++) {
                char want[48];
                snprintf(want, sizeof want, "\"event\":\"dr\",\"id\":\"p-%d\"", i);
                if (!strstr(out, want))
                        printf("# no dr for p-%d\n", i);
        }
        CHECK_EQ(sc.handset_delivered, 50);
        (void)s;
        http_sim_stop(sim);
        sim = NULL;
}

static void test_pipe_http_flags_are_checked(void)
{
        static char out[4096];
        char *a1[] = { "smsmux", "pipe", "--transport", "carrier-pigeon", NULL };
        CHECK_EQ(run(a1, "", out, sizeof out, 5000, NULL, NULL, 0, NULL), 2);
        char *a2[] = { "smsmux", "pipe", "--transport", "http", NULL };
        CHECK_EQ(run(a2, "", out, sizeof out, 5000, NULL, NULL, 0, NULL), 2);
        char *a3[] = { "smsmux", "pipe", "--http-url", "ftp://x/", NULL };
        CHECK_EQ(run(a3, "", out, sizeof out, 5000, NULL, NULL, 0, NULL), 2);
        char *a4[] = { "smsmux", "pipe", "--transport", "http", "--http-url", "http://127.0.0.1:1/",
                       "--http-resubmit-pause", "soon", NULL };
        CHECK_EQ(run(a4, "", out, sizeof out, 5000, NULL, NULL, 0, NULL), 2);
}

int main(int argc, char **argv)
{
        signal(SIGPIPE, SIG_IGN);
        if (argc < 2) {
                printf("1..0 # SKIP no smsmux path given\n");
                return 0;
        }
        smsmux = argv[1];
        RUN(test_pipe_over_http_keeps_the_event_contract);
        RUN(test_pipe_http_flags_are_checked);
        return t_done();
}
