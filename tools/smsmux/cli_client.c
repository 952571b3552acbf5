/* Client set-up and the waiting helpers shared by the subcommands (see
 * cli_client.h): the config from the file and flags handed to
 * smx_client_create/start, a monotonic clock, a signalfd for SIGINT and
 * SIGTERM, and one poll over the client's event fd, the signal fd and an
 * optional input fd. */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "cli_client.h"

uint64_t cli_now_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

int cli_client_open(const struct cli_opts *o, const struct cli_smsc *extra, size_t n_extra,
                    smx_client **out)
{
        return cli_client_open_tuned(o, extra, n_extra, NULL, out);
}

int cli_client_open_tuned(const struct cli_opts *o, const struct cli_smsc *extra, size_t n_extra,
                          void (*tune)(struct smx_config *cfg), smx_client **out)
{
        struct smx_config_file f;
        char err[512];
        smx_config_file_init(&f);
        for (size_t i = 0; i < n_extra; i++) {
                if (smx_config_file_add_smsc(&f, extra[i].name, extra[i].site, extra[i].host,
                                             extra[i].port, err, sizeof err) < 0) {
                        fprintf(stderr, "smsmux: %s\n", err);
                        smx_config_file_free(&f);
                        return CLI_EXIT_USAGE;
                }
        }
        if (cli_build_config(o, &f, err, sizeof err) < 0) {
                fprintf(stderr, "smsmux: %s\n", err);
                smx_config_file_free(&f);
                return CLI_EXIT_USAGE;
        }
        int http_alone = f.cfg.http && f.cfg.http->transport == SMX_TRANSPORT_HTTP;
        if (f.cfg.n_smscs == 0 && !http_alone) {
                fprintf(stderr, "smsmux: no SMSC given (--smsc NAME@SITE=HOST:PORT or "
                        "--config FILE)\n");
                smx_config_file_free(&f);
                return CLI_EXIT_USAGE;
        }
        if (tune)
                tune(&f.cfg);
        smx_client *c = NULL;
        int rc = smx_client_create(&f.cfg, &c, err, sizeof err);
        smx_config_file_free(&f);       /* the client copied what it needs */
        if (rc < 0) {
                fprintf(stderr, "smsmux: bad configuration: %s\n", err);
                return CLI_EXIT_USAGE;
        }
        rc = smx_client_start(c);
        if (rc < 0) {
                fprintf(stderr, "smsmux: cannot start the client: %s\n", smx_strerror(rc));
                smx_client_destroy(c);
                return CLI_EXIT_USAGE;
        }
        *out = c;
        return 0;
}

int cli_signals_fd(void)
{
        sigset_t set;
        sigemptyset(&set);
        sigaddset(&set, SIGINT);
        sigaddset(&set, SIGTERM);
        if (pthread_sigmask(SIG_BLOCK, &set, NULL) != 0)
                return -1;
        signal(SIGPIPE, SIG_IGN);
        return signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
}

int cli_signal_read(int fd)
{
        struct signalfd_siginfo si;
        return fd >= 0 && read(fd, &si, sizeof si) == (ssize_t)sizeof si;
}

int cli_wait(smx_client *c, int sig_fd, int in_fd, int timeout_ms)
{
        struct pollfd p[3];
        int n = 0, ev_i = -1, sig_i = -1, in_i = -1;
        int efd = c ? smx_events_fd(c) : -1;
        if (efd >= 0) { p[n] = (struct pollfd){ .fd = efd, .events = POLLIN }; ev_i = n++; }
        if (sig_fd >= 0) { p[n] = (struct pollfd){ .fd = sig_fd, .events = POLLIN }; sig_i = n++; }
        if (in_fd >= 0) { p[n] = (struct pollfd){ .fd = in_fd, .events = POLLIN }; in_i = n++; }
        int r = poll(p, (nfds_t)n, timeout_ms);
        if (r <= 0)
                return 0;
        int out = 0;
        if (ev_i >= 0 && (p[ev_i].revents & POLLIN)) {
                uint64_t v;     /* reset the eventfd; the caller polls the events next */
                ssize_t got = read(efd, &v, sizeof v);
                (void)got;      /* EAGAIN: another reader reset it first */
        }
        if (in_i >= 0 && (p[in_i].revents & (POLLIN | POLLHUP | POLLERR)))
                out |= 1;
        /* read the signal, so that each one is reported once: left in the
         * signalfd, the SIGTERM that began a drain would read as the second
         * one that cuts it short at the next wait */
        if (sig_i >= 0 && (p[sig_i].revents & POLLIN) && cli_signal_read(sig_fd))
                out |= 2;
        return out;
}
