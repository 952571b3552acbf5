/* The store thread keeps taking the workers' correlation writes while it
 * reconnects to a Redis whose SYNs go unanswered (a plain redis:// URL).
 * Before, a plain TCP connect was hiredis's blocking one: the store thread
 * sat in it for up to timeout_ms per attempt and emptied no worker ring
 * meanwhile (the TCP connect of rediss:// already waited draining).
 *
 * Everything runs in a network namespace the test makes (and names
 * smxsc<pid>; its name is removed at once, the namespace itself ends with
 * the test process, so nothing is left behind even after a kill): a
 * redis-server on 127.0.0.1:6390 in it, smsc-sim on 127.0.0.1, one client
 * with timeout_ms 30 s. Needs root (CAP_NET_ADMIN), ip, ss and iptables; skips
 * with the reason otherwise.
 *   - connected, then a DROP rule for SYNs to port 6390 and redis-server
 *     killed: the store loses the connection and its reconnect hangs (no
 *     SYN-ACK, up to 30 s per attempt; the test waits until `ss` shows its
 *     socket in SYN-SENT);
 *   - during that attempt 200 MTs (DR wanted) get their submit_sm_resps and
 *     all 200 correlation writes reach the store's FIFO (corr_buffered)
 *     within 15 s, while the store is still not connected and has not yet
 *     logged a failed attempt. With the blocking connect they stayed in the
 *     worker's ring until the attempt ended (corr_buffered 0);
 *   - the rule removed and redis-server restarted: all 200 are written to
 *     Redis, none dropped. */
#include <fcntl.h>
#include <sched.h>

#include "rtest_inst.h"

#define REDIS_PORT 6390
#define N_MTS 200u
#define TIMEOUT_MS 30000u

static char ns_name[32];

/* A shell command, quiet; its exit status. */
static int sh(const char *fmt, ...)
{
        char cmd[512];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(cmd, sizeof cmd, fmt, ap);
        va_end(ap);
        char full[600];
        snprintf(full, sizeof full, "%s >/dev/null 2>&1", cmd);
        int st = system(full);
        return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Move this process (no thread started yet) into a fresh namespace with lo
 * up and delete its name at once. NULL, or why not (a skip). */
static const char *enter_namespace(void)
{
        if (geteuid() != 0)
                return "not root: a network namespace needs CAP_NET_ADMIN";
        if (sh("command -v ip") != 0 || sh("command -v iptables") != 0)
                return "ip or iptables not installed (tools/bootstrap.sh installs them)";
        if (!rtest_have_redis())
                return NULL;    /* the skip line is printed */
        snprintf(ns_name, sizeof ns_name, "smxsc%d", (int)getpid());
        sh("ip netns del %s", ns_name);         /* a stale one of a recycled pid */
        if (sh("ip netns add %s", ns_name) != 0)
                return "cannot create a network namespace (ip netns add failed)";
        char path[64];
        snprintf(path, sizeof path, "/run/netns/%s", ns_name);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        int rc = fd >= 0 ? setns(fd, CLONE_NEWNET) : -1;
        if (fd >= 0)
                close(fd);
        sh("ip netns del %s", ns_name);         /* lives on while we are in it */
        if (rc != 0)
                return "setns into the new namespace failed";
        if (sh("ip link set lo up") != 0)
                return "cannot bring lo up in the namespace";
        if (sh("iptables -S") != 0)
                return "iptables does not work in a namespace";
        return NULL;
}

/* redis-server on 127.0.0.1:REDIS_PORT (and R.sock for the test's pings),
 * in R.dir. 0, or -1 (printed). */
static int redis_tcp_start(void)
{
        char port[8];
        snprintf(port, sizeof port, "%d", REDIS_PORT);
        char *const argv[] = {
                "redis-server", "--port", port, "--bind", "127.0.0.1",
                "--unixsocket", R.sock, "--unixsocketperm", "700", "--dir", R.dir,
                "--save", "", "--appendonly", "no", "--logfile", R.log,
                "--daemonize", "no", NULL,
        };
        return rtest_redis_run(&R, argv);
}

/* Sockets of this namespace in SYN-SENT to Redis's port: a connect the
 * store has under way (its SYNs dropped). */
static int syn_sent_to_redis(void)
{
        char cmd[128];
        snprintf(cmd, sizeof cmd, "ss -Htn state syn-sent '( dport = :%d )' 2>/dev/null",
                 REDIS_PORT);
        FILE *f = popen(cmd, "r");
        if (!f)
                return 0;
        int n = 0;
        char line[256];
        while (fgets(line, sizeof line, f))
                n++;
        pclose(f);
        return n;
}

static void submit_n(smx_client *c, unsigned n)
{
        for (unsigned i = 0; i < n; i++) {
                char id[32];
                snprintf(id, sizeof id, "a-%u", i);
                struct smx_mt mt = { .id = id, .from = "12345", .to = "447700900001",
                                     .text = "connect drain", .want_dr = 1 };
                int rc;
                while ((rc = smx_submit(c, &mt)) == SMX_EAGAIN) {
                        rt_pump_all();
                        it_sleep_ms(1);
                }
                CHECK_EQ(rc, 0);
        }
}

static void test_writes_drained_while_connect_hangs(void)
{
        struct smx_config cfg = rt_store_config("redis://127.0.0.1:6390", "a", "conn");
        cfg.store.timeout_ms = TIMEOUT_MS;
        cfg.store.hold_ms = 60000;
        cfg.store.local_after_ms = 120000;
        I[0].c = rt_client(&cfg);
        snprintf(I[0].name, sizeof I[0].name, "a");
        rt_n = 1;
        CHECK(I[0].c != NULL);
        if (!I[0].c)
                return;
        smx_client *c = I[0].c;
        CHECK(rt_wait_store(c, "connected", 1, 20000));
        CHECK(rt_all_active());
        /* SYNs to Redis unanswered from now on; the connection up is cut */
        CHECK_EQ(sh("iptables -A INPUT -p tcp --dport %d --syn -j DROP", REDIS_PORT), 0);
        rtest_redis_kill(&R, SIGKILL);
        CHECK(rt_wait_store(c, "disconnects", 1, 20000));
        /* the reconnect (100 ms after the loss) is under way: its SYN sent */
        uint64_t t0 = it_now_ms();
        while (!syn_sent_to_redis() && it_now_ms() - t0 < 10000)
                it_sleep_ms(10);
        CHECK(syn_sent_to_redis() > 0);
        t0 = it_now_ms();
        CHECK_EQ(rt_store_num(c, "connected"), 0);
        long long connects = rt_store_num(c, "connects");

        submit_n(c, N_MTS);
        uint64_t end = t0 + TIMEOUT_MS / 2;
        while (it_now_ms() < end && (I[0].outcomes < N_MTS ||
                                     rt_store_num(c, "corr_buffered") < N_MTS)) {
                rt_pump_all();
                it_sleep_ms(10);
        }
        long long buffered = rt_store_num(c, "corr_buffered");
        printf("# %llu ms into the reconnect: %llu outcomes, %lld correlation writes taken "
               "(corr_buffered), connected %lld\n", (unsigned long long)(it_now_ms() - t0),
               (unsigned long long)I[0].outcomes, buffered, rt_store_num(c, "connected"));
        CHECK_EQ(I[0].submitted, N_MTS);
        CHECK_EQ(buffered, N_MTS);
        /* still within the first attempt: not connected, none failed yet */
        CHECK_EQ(rt_store_num(c, "connected"), 0);
        CHECK_EQ(rt_store_num(c, "connects"), connects);
        CHECK(!rt_log_has("cannot connect"));

        /* Redis reachable again: every write gets there, once */
        CHECK_EQ(sh("iptables -D INPUT -p tcp --dport %d --syn -j DROP", REDIS_PORT), 0);
        CHECK_EQ(redis_tcp_start(), 0);
        CHECK(rt_wait_store(c, "corr_writes", N_MTS, 90000));
        CHECK_EQ(rt_store_num(c, "corr_writes"), N_MTS);
        CHECK_EQ(rt_store_num(c, "corr_dropped"), 0);
        CHECK_EQ(rt_store_num(c, "corr_buffered"), 0);
}

int main(void)
{
        const char *why = enter_namespace();
        if (why) {
                printf("1..0 # SKIP %s\n", why);
                return 0;
        }
        if (!ns_name[0])
                return 0;       /* no redis-server: skipped */
        smx_log_configure(SMX_LOG_INFO, rt_log_capture, NULL);
        if (rtest_redis_dir(&R, 0, "smx-conn") != 0 || redis_tcp_start() != 0 ||
            it_sim_start(&E, "dc3", 1, 1.0) != 0) {
                printf("Bail out! redis-server or smsc-sim did not start\n");
                rtest_redis_stop(&R);
                return 1;
        }
        RUN(test_writes_drained_while_connect_hangs);
        return rt_finish();
}
