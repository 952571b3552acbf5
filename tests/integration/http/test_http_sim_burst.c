/* smsc-sim's HTTP API side answers every MT of a burst whose requests are
 * all ready at once: 125..131 submits on kept-alive connections, each round
 * written while the simulator is stopped, so that its next epoll wait finds
 * them together. With libmicrohttpd's internal epoll thread (0.9.75),
 * exactly 128 ready events made it wait again until the connection timeout
 * (30 s) with all 128 requests unread, then close them unanswered
 * (src/http/http_mhd_loop.h); the simulator's sites now run their daemons
 * from threads of their own.
 *
 * The simulator runs in-process in a child forked before any thread exists,
 * so the test can stop it whole (SIGSTOP, waited for with WUNTRACED) while
 * it writes a round and continue it (SIGCONT) once every byte is queued in
 * the kernel. No wall-clock bound: a request left unread shows as its
 * connection closed without an answer (the read waits past the timeout). */
#include <signal.h>
#include <sys/wait.h>

#include "http_tlib.h"
#include "testlib.h"

enum { K_MAX = 131, K_MIN = 125, SIM_TIMEOUT_S = 30 };

static pid_t sim_pid = -1;
static int sim_quit_fd = -1;      /* closed by the test: the child stops the simulator */
static uint16_t sim_port;
static char sim_addr[16];

/* The child: start a one-site simulator, say its address and port on up_fd,
 * stop it once quit_fd reads EOF; exit status 0 when it started and stopped. */
static void sim_child(int up_fd, int quit_fd)
{
        struct http_sim_options o;
        http_sim_options_init(&o);
        o.sites = "dc3";
        struct http_sim *h = NULL;
        char err[200], name[32], addr[16] = "";
        uint16_t port = 0;
        int rc = http_sim_start(&o, &h, err, sizeof err);
        if (rc < 0)
                fprintf(stderr, "# %s\n", err);
        else
                http_sim_site(h, 0, name, addr, &port);
        char line[64];
        int n = snprintf(line, sizeof line, "%s %u\n", addr, (unsigned)port);
        int ok = write(up_fd, line, (size_t)n) == n;
        close(up_fd);   /* the line is all: the test reads to EOF */
        char c;
        while (read(quit_fd, &c, 1) > 0)
                ;
        http_sim_stop(h);
        curl_global_cleanup();
        exit(rc == 0 && ok ? 0 : 1);
}

static int start_sim(void)
{
        int up[2], quit[2];
        if (pipe(up) < 0 || pipe(quit) < 0)
                return -1;
        pid_t parent = getpid();
        sim_pid = fork();
        if (sim_pid == 0) {
                t_child_dies_with_parent(parent);
                close(up[0]);
                close(quit[1]);
                sim_child(up[1], quit[0]);
        }
        close(up[1]);
        close(quit[0]);
        sim_quit_fd = quit[1];
        char line[64];
        ssize_t n = t_read_all(up[0], line, sizeof line, 20000);
        close(up[0]);
        unsigned port = 0;
        if (sim_pid < 0 || n <= 0 || sscanf(line, "%15s %u", sim_addr, &port) != 2)
                return -1;
        sim_port = (uint16_t)port;
        return port ? 0 : -1;
}

/* Stop the child's simulator; its exit status (0: started and stopped). */
static int stop_sim(void)
{
        close(sim_quit_fd);
        int ws = 0;
        if (waitpid(sim_pid, &ws, 0) != sim_pid)
                return -1;
        return WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
}

/* Writes an MT submit (no receipt) of message_id `id` on fd; 0 when sent. */
static int send_mt(int fd, const char *id)
{
        char body[256];
        snprintf(body, sizeof body, "login=smsmux&password=secret&phone_number=447700900001"
                 "&sender=SIM&message=burst&message_id=%s", id);
        return t_send_form(fd, body);
}

/* 1 when the next answer on fd accepts message_id `id` as new: 200 with
 * result_code=0 and the id. */
static int accepted(int fd, const char *id, unsigned timeout_ms)
{
        char buf[1024], want[96];
        if (t_read_answer(fd, buf, sizeof buf, timeout_ms) != 200)
                return 0;
        snprintf(want, sizeof want, "result_code=0&message_id=%s", id);
        return strstr(buf, want) != NULL;
}

static void test_sim_answers_every_submit_of_a_burst_ready_at_once(void)
{
        static int fds[K_MAX];
        int warm = t_warm_connections(fds, K_MAX, sim_addr, sim_port, send_mt, accepted);
        CHECK_EQ(warm, K_MAX);
        int rounds_ok = 0;
        for (int k = K_MIN; k <= K_MAX && warm == K_MAX; k++) {
                int ws = 0;
                CHECK_EQ(kill(sim_pid, SIGSTOP), 0);
                CHECK(waitpid(sim_pid, &ws, WUNTRACED) == sim_pid && WIFSTOPPED(ws));
                int sent = t_send_burst(fds, k, k, send_mt);
                CHECK_EQ(kill(sim_pid, SIGCONT), 0);
                /* read past the simulator's connection timeout: a request
                 * left unread is closed at it, unanswered */
                int answered = t_burst_answered(fds, k, k, (SIM_TIMEOUT_S + 15) * 1000, accepted);
                CHECK_EQ(sent, k);
                CHECK_EQ(answered, k);
                if (answered != k) {
                        printf("# round of %d ready at once: %d answered\n", k, answered);
                        break;
                }
                rounds_ok++;
        }
        CHECK_EQ(rounds_ok, K_MAX - K_MIN + 1);
        for (int i = 0; i < K_MAX; i++)
                if (fds[i] >= 0)
                        close(fds[i]);
}

/* The simulator still stops when told, and its process exits 0 (an
 * ASan build's leak check included). */
static void test_sim_stops_cleanly_after_the_bursts(void)
{
        CHECK_EQ(stop_sim(), 0);
}

int main(void)
{
        signal(SIGPIPE, SIG_IGN);
        if (start_sim() < 0) {
                printf("Bail out! the simulator did not start\n");
                return 1;
        }
        RUN(test_sim_answers_every_submit_of_a_burst_ready_at_once);
        RUN(test_sim_stops_cleanly_after_the_bursts);
        return t_done();
}
