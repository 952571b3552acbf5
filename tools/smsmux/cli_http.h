/* The HTTP side of `smsmux demo` and `smsmux bench` with --transport
 * http|both: the embedded simulator's HTTP API (tools/smsc-sim/http_sim.h)
 * next to its SMPP SMSCs, the URLs and receiver the client gets when the
 * flags name none, an HTTP fault plan for the demo, and the HTTP numbers in
 * the report. */
#ifndef SMX_CLI_HTTP_H
#define SMX_CLI_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "cli_opts.h"
#include "smsc-sim/http_sim.h"
#include "smsc-sim/sim.h"
#include "smsmux.h"

/* The simulator's HTTP side for one demo or bench run; owned by its main thread. */
struct cli_http_sim {
        struct http_sim *sim;         /* NULL: no HTTP side (transport smpp) */
        char urls[2][96];
        size_t plan_next;
};

/* When o asks for HTTP and names no URL: start the simulator's HTTP side
 * (attached to smpp for cross-transport DRs, may be NULL) and fill o's URLs
 * (two sites: strategy B dc3 then bos; one: dc3 only) and, if none, a
 * receiver on 127.0.0.1 (any port). Returns 0 or -1 (reason on stderr). */
int cli_http_sim_start(struct cli_opts *o, struct smsc_sim *smpp, int two_sites,
                       struct cli_http_sim *hs);
/* Tell the simulator where the client's receiver listens. */
int cli_http_sim_connect(struct cli_http_sim *hs, smx_client *c);
/* Demo: play the HTTP fault steps due at t_ms of a run of duration_ms. */
void cli_http_plan_tick(struct cli_http_sim *hs, uint64_t t_ms, uint32_t duration_ms);
/* Fold the HTTP side's handset and DR/MO counts into the SMPP ledger JSON
 * (ledger, cap bytes) so the report counts both transports. */
void cli_http_merge_ledger(struct cli_http_sim *hs, char *ledger, size_t cap);
/* One stderr/stdout block with what the HTTP transport did. */
void cli_http_report(struct cli_http_sim *hs, smx_client *c);
void cli_http_sim_stop(struct cli_http_sim *hs);

#endif
