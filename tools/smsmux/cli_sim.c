/* Starting the embedded simulator (see cli_sim.h): tools/smsc-sim runs in
 * this process on free ports, and each of its SMSCs becomes one --smsc
 * entry (NAME@SITE=127.0.0.1:PORT) for the client. */
#include <stdio.h>
#include <string.h>

#include "cli_sim.h"

int cli_sim_start(const struct sim_options *so, struct smsc_sim **out,
                  struct cli_smsc *smscs, size_t max, size_t *n)
{
        char err[256];
        struct smsc_sim *sim = NULL;
        int rc = sim_start(so, &sim, err, sizeof err);
        if (rc < 0) {
                fprintf(stderr, "smsmux: cannot start the embedded simulator: %s\n", err);
                return -1;
        }
        struct sim_smsc_info info[CLI_MAX_SMSCS];
        size_t k = sim_smscs(sim, info, CLI_MAX_SMSCS);
        if (k > max)
                k = max;
        for (size_t i = 0; i < k; i++) {
                struct cli_smsc *c = &smscs[i];
                memset(c, 0, sizeof *c);
                snprintf(c->name, sizeof c->name, "%.*s", SMX_NAME_MAX, info[i].name);
                snprintf(c->site, sizeof c->site, "%.*s", SMX_NAME_MAX, info[i].site);
                snprintf(c->host, sizeof c->host, "%.*s", (int)sizeof info[i].host - 1,
                         info[i].host);
                c->port = info[i].port;
        }
        *n = k;
        *out = sim;
        return 0;
}
