/* An SMSC that accepts TCP and never answers (D-07), next to working ones:
 * its bind times out in BINDING and is retried only at the rebind spacing
 * (R2), it never carries an MT (R4), and the working binds carry them all. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "itest.h"

static struct it_env E;
static int silent_fd = -1;
static uint16_t silent_port;

static int open_silent_listener(void)
{
        silent_fd = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        socklen_t len = sizeof a;
        if (silent_fd < 0 || bind(silent_fd, (struct sockaddr *)&a, sizeof a) < 0 ||
            listen(silent_fd, 16) < 0 || getsockname(silent_fd, (struct sockaddr *)&a, &len) < 0)
                return -1;
        silent_port = ntohs(a.sin_port);
        return 0;
}

static void test_silent_smsc_times_out_in_binding_and_keeps_spacing(void)
{
        CHECK_EQ(it_wait_active(&E, E.n - 1, 10000), 1);
        size_t s = E.n - 1;
        uint64_t downs = it_downs_during(&E, "silent.x", 4500);
        CHECK(downs >= 1);
        CHECK(downs <= 5);   /* one per attempt, attempts > 1 s apart */
        CHECK(strstr(E.last_down_reason[s], "bind_resp") != NULL);
        struct smx_bind_stats st[IT_MAX_SMSC];
        smx_client_binds(E.c, st, IT_MAX_SMSC);
        CHECK(st[s].health != SMX_HEALTH_ACTIVE);
        if (st[s].bind_attempts >= 2)
                CHECK(st[s].min_attempt_spacing_ms > 1000);
}

static void test_silent_smsc_never_carries_an_mt(void)
{
        uint64_t n = 1000;
        CHECK_EQ(it_submit_n(&E, n, "not there"), n);
        CHECK_EQ(it_wait_outcomes(&E, n, 20000), 1);
        CHECK_EQ(E.submitted, n);
        struct smx_bind_stats st[IT_MAX_SMSC];
        smx_client_binds(E.c, st, IT_MAX_SMSC);
        CHECK_EQ(st[E.n - 1].submitted, 0);
        CHECK_EQ(st[E.n - 1].accepted, 0);
}

int main(void)
{
        if (it_sim_start(&E, "dc3", 2, 1.0) < 0 || open_silent_listener() < 0) {
                printf("not ok 1 - setup\n1..1\n");
                return 1;
        }
        snprintf(E.info[E.n].name, sizeof E.info[E.n].name, "silent.x");
        snprintf(E.info[E.n].site, sizeof E.info[E.n].site, "x");
        E.smsc[E.n] = (struct smx_smsc_config){ .name = "silent.x", .site = "x",
                                                .host = "127.0.0.1", .port = silent_port };
        E.n++;
        E.cfg.n_smscs = E.n;
        E.cfg.rebind_interval_ms = 1000;
        E.cfg.bind_timeout_ms = 1000;
        if (it_client_start(&E) < 0) {
                printf("not ok 1 - setup\n1..1\n");
                return 1;
        }
        smx_log_configure(SMX_LOG_ERROR, NULL, NULL);
        RUN(test_silent_smsc_times_out_in_binding_and_keeps_spacing);
        RUN(test_silent_smsc_never_carries_an_mt);
        smx_client_drain(E.c, 3000);
        it_stop(&E);
        close(silent_fd);
        return t_done();
}
