/* What every smsmux subcommand does around the library: build the config
 * from flags, create and start the client, wait for events with a timeout,
 * and catch SIGINT/SIGTERM through a signalfd. */
#ifndef SMX_CLI_CLIENT_H
#define SMX_CLI_CLIENT_H

#include <stdint.h>

#include "cli_opts.h"
#include "smsmux.h"

/* Exit statuses of the smsmux program. */
enum { CLI_EXIT_OK = 0, CLI_EXIT_FAIL = 1, CLI_EXIT_USAGE = 2 };

/* Create and start a client from the flags (and --config). With extra SMSCs
 * given (e.g. an embedded simulator's), they are added before the flags'.
 * Returns 0, or prints the reason on stderr and returns CLI_EXIT_USAGE. */
int cli_client_open(const struct cli_opts *o, const struct cli_smsc *extra, size_t n_extra,
                    smx_client **out);

/* The same, with tune (if not NULL) called on the finished configuration
 * just before the client is created: a subcommand's own defaults over what
 * the file and flags left unset. */
int cli_client_open_tuned(const struct cli_opts *o, const struct cli_smsc *extra, size_t n_extra,
                          void (*tune)(struct smx_config *cfg), smx_client **out);

/* Monotonic milliseconds. */
uint64_t cli_now_ms(void);

/* Block SIGINT and SIGTERM (before any thread starts, so every thread
 * inherits the mask) and return a signalfd that reads them, or -1. */
int cli_signals_fd(void);

/* True when a signal is waiting on fd (consumes it). */
int cli_signal_read(int fd);

/* Sleep until the client may have events, a signal arrived on sig_fd
 * (-1: none), in_fd is readable (-1: none), or timeout_ms passed.
 * Returns a bit set: 1 = in_fd readable, 2 = signal (read from sig_fd:
 * each signal is reported once, so a second one is a new signal). */
int cli_wait(smx_client *c, int sig_fd, int in_fd, int timeout_ms);

#endif
