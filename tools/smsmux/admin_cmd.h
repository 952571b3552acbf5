/* `smsmux knob`, `stats`, `smsc`, `site`: talk to a running smsmux's admin socket.
 * argv[0] is the subcommand name; each returns the exit status. */
#ifndef SMX_CLI_ADMIN_CMD_H
#define SMX_CLI_ADMIN_CMD_H

int cli_knob(int argc, char **argv);
int cli_stats(int argc, char **argv);
int cli_smsc(int argc, char **argv);   /* also `smsmux site ...` */

#endif
