/* The embedded simulator for `bench` (with no SMSC given) and `demo`:
 * start tools/smsc-sim in-process and list its SMSCs as --smsc entries. */
#ifndef SMX_CLI_SIM_H
#define SMX_CLI_SIM_H

#include <stddef.h>

#include "cli_opts.h"
#include "smsc-sim/sim.h"

/* Start the simulator with so; fill smscs[0..*n) with where it listens.
 * Returns 0, or prints why on stderr and returns -1. */
int cli_sim_start(const struct sim_options *so, struct smsc_sim **out,
                  struct cli_smsc *smscs, size_t max, size_t *n);

#endif
