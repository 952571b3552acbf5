/* smsc-sim as a library: the multi-site SMSC simulator engine, startable
 * in-process on its own threads (for `smsmux demo` and tests) exactly as the
 * `smsc-sim` program runs it. See ../shared/CLI.md for the program contract.
 *
 * This header is the whole in-process API; the engine's internals are in the
 * other files of tools/smsc-sim/. */
#ifndef SMSC_SIM_H
#define SMSC_SIM_H

#include <stddef.h>
#include <stdint.h>

struct smsc_sim;

/* Start-up options (the CLI flags). Initialise with sim_options_init(). */
struct sim_options {
        const char *config_file;   /* NULL: none; topology and knobs (README.md) */
        const char *sites;         /* comma list, default "dc3,bos" */
        unsigned smscs_per_site;   /* default 2 */
        const char *host;          /* default "127.0.0.1" */
        unsigned port_base;        /* default 2775; 0 = free ports */
        const char *system_id;     /* default "smsmux" */
        const char *password;      /* default "secret" */
        const char *control_path;  /* unix control socket, NULL: none */
        const char *ledger_path;   /* ledger JSON at stop, NULL: none (program: stdout) */
        uint32_t seed;             /* random seed for behaviour knobs, 0 = time */
        const char *plan_path;     /* fault plan played from start, NULL: none */
        double rebind_interval_s;  /* R2 check in the ledger, default 30 */
        size_t mt_records_max;     /* records kept of MTs without the identity TLV
                                      (sim_mts.c), default 100000 */
        const char *tls_cert;      /* PEM certificate (chain) and key: every SMSC */
        const char *tls_key;       /* listens with TLS only (sim_tls.c); NULL: per config */
        const char *tls_client_ca; /* TLS listeners demand a client certificate from
                                      this CA (PEM); NULL: per config, else none */
        /* With a config file: the fields whose bit is set win over the file
         * (the program sets one per flag given); the others only give
         * defaults the file may change. Without a file it changes nothing. */
        unsigned given;
};

enum {
        SIM_GIVEN_SITES = 1u << 0,
        SIM_GIVEN_PER_SITE = 1u << 1,
        SIM_GIVEN_HOST = 1u << 2,
        SIM_GIVEN_PORT_BASE = 1u << 3,
        SIM_GIVEN_SYSTEM_ID = 1u << 4,
        SIM_GIVEN_PASSWORD = 1u << 5,
        SIM_GIVEN_REBIND = 1u << 6,
};

void sim_options_init(struct sim_options *o);

/* Start every SMSC listening and the engine threads. On error returns a
 * negative errno and writes a message into err. */
int sim_start(const struct sim_options *o, struct smsc_sim **out, char *err, size_t err_len);

/* One SMSC as started. */
struct sim_smsc_info {
        char name[32];     /* "smsc1.dc3" */
        char site[32];     /* "dc3" */
        char host[64];
        uint16_t port;     /* the real port (also with port_base 0) */
        int tls;           /* the listener speaks TLS */
};
size_t sim_smscs(const struct smsc_sim *s, struct sim_smsc_info *out, size_t max);

/* Run one control command, the same language as `smsc-sim ctl` (e.g.
 * "kill smsc1.dc3", "restore site bos", "throttle smsc2.bos on", "summary").
 * The reply (JSON for summary) goes to reply. Returns 0 or a negative errno. */
int sim_ctl(struct smsc_sim *s, const char *command, char *reply, size_t reply_len);

/* The ledger summary as one JSON object (the same as `ctl summary`). Returns
 * the length written (truncated to cap-1, NUL-terminated) or negative errno. */
int sim_summary_json(struct smsc_sim *s, char *buf, size_t cap);

/* Play a fault plan (lines `T_SECONDS COMMAND ARGS`, '#' comments; T counts
 * from this call) on the engine thread. Replaces a plan already playing.
 * Returns 0 or a negative errno with a message in err. */
int sim_plan_start(struct smsc_sim *s, const char *path, char *err, size_t err_len);

/* Offer each DR the engine is about to send to `hook` (engine thread, engine
 * lock held: the hook must not call back into this API). When it returns 1
 * the DR was taken (sent another way, e.g. by the HTTP side, http_sim.h) and
 * does not go out over SMPP; the ledger counts it as `dr_handed_off`. NULL
 * clears the hook. */
typedef int (*sim_dr_hook_fn)(void *arg, const char *message_id, uint8_t message_state);
void sim_set_dr_hook(struct smsc_sim *s, sim_dr_hook_fn hook, void *arg);

/* Stop every SMSC, write the ledger if a path was given ("-": stdout),
 * free everything. */
void sim_stop(struct smsc_sim *s);

#endif
