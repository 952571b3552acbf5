/* Operator access to a running client: the admin control socket (a unix
 * socket, mode 0600, one request line per connection; `smsmux knob|stats`
 * speak it) and the Prometheus metrics listener (libmicrohttpd, GET
 * /metrics). Both run on their own threads and only call the public knob
 * and stats functions, so they never touch a worker's data.
 *
 * Admin protocol, one line in, the answer then EOF:
 *   knob get NAME | knob set NAME VALUE | knob list
 *   stats [table|json|prometheus]
 *   smsc drain|enable|remove NAME  |  site drain|enable|remove NAME
 * The answer's first line is "ok" or "error: WHY"; a body follows "ok". */
#ifndef SMX_ADMIN_H
#define SMX_ADMIN_H

#include <stddef.h>

#include "smsmux.h"

struct smx_client;
struct smx_admin;

/* Start the admin socket (cfg admin_socket) and the metrics listener (the
 * knob metrics_addr) if configured. 0 or a negative code, message in err. */
int admin_start(struct smx_client *c, const char *socket_path, const char *metrics_addr,
                char *err, size_t err_len);

/* Stop both and free what they hold. Safe when never started. */
void admin_stop(struct smx_client *c);

/* (Re)start the metrics listener on addr ("" stops it). On failure the old
 * listener keeps running and err says why. Called with the knob lock held. */
int admin_metrics_listen(struct smx_client *c, const char *addr, char *err, size_t err_len);

/* "HOST:PORT" the metrics listener is bound to, "" if none. */
void admin_metrics_address(struct smx_client *c, char *out, size_t len);

/* Answer one admin request line into a malloc'd string (the protocol
 * above). Used by the socket thread; pure over the public API. */
char *admin_answer(smx_client *c, const char *line);

#endif
