/* embed.c — the smallest useful program that embeds libsmsmux.
 *
 * It binds to the SMSCs named on the command line, sends COUNT MTs, waits
 * for every outcome (and the delivery receipts that arrive meanwhile),
 * turns one knob while running, prints the stats table and exits 0 when
 * every MT was accepted.
 *
 *   cc embed.c $(pkg-config --cflags --libs smsmux) -o embed
 *   ./embed COUNT NAME@SITE=HOST:PORT [NAME@SITE=HOST:PORT ...]
 *
 * The whole API is in <smsmux.h>; docs/operating.md explains the knobs and
 * the stats. */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <smsmux.h>

#define MAX_SMSCS 16

/* Split NAME@SITE=HOST:PORT in place. */
static int parse_smsc(char *spec, struct smx_smsc_config *s)
{
        char *at = strchr(spec, '@'), *eq = at ? strchr(at, '=') : NULL;
        char *colon = eq ? strrchr(eq, ':') : NULL;
        if (!at || !eq || !colon)
                return -1;
        *at = *eq = *colon = '\0';
        memset(s, 0, sizeof *s);
        s->name = spec;
        s->site = at + 1;
        s->host = eq + 1;
        s->port = (uint16_t)atoi(colon + 1);
        return s->port ? 0 : -1;
}

int main(int argc, char **argv)
{
        if (argc < 3) {
                fprintf(stderr, "usage: %s COUNT NAME@SITE=HOST:PORT ...\n", argv[0]);
                return 2;
        }
        long count = atol(argv[1]);
        struct smx_smsc_config smscs[MAX_SMSCS];
        size_t n = 0;
        for (int i = 2; i < argc && n < MAX_SMSCS; i++)
                if (parse_smsc(argv[i], &smscs[n++]) < 0) {
                        fprintf(stderr, "bad SMSC '%s'\n", argv[i]);
                        return 2;
                }

        smx_log_configure(SMX_LOG_WARN, NULL, NULL);      /* warnings to stderr */
        struct smx_config cfg;
        smx_config_init(&cfg);
        cfg.smscs = smscs;
        cfg.n_smscs = n;
        cfg.workers = 1;
        smx_client *c;
        char err[256];
        if (smx_client_create(&cfg, &c, err, sizeof err) < 0 || smx_client_start(c) < 0) {
                fprintf(stderr, "cannot start: %s\n", err);
                return 1;
        }

        long accepted = 0, failed = 0, drs = 0, sent = 0;
        struct smx_event ev[64];
        while (accepted + failed < count) {
                /* queue as many as the library takes now */
                while (sent < count) {
                        char id[32];
                        snprintf(id, sizeof id, "example-%ld", sent);
                        struct smx_mt mt = { .id = id, .from = "12345", .to = "447700900001",
                                             .text = "hello from embed.c", .want_dr = 1 };
                        int rc = smx_submit(c, &mt);
                        if (rc == SMX_EAGAIN)
                                break;             /* backpressure: poll events first */
                        if (rc < 0) {
                                fprintf(stderr, "submit: %s\n", smx_strerror(rc));
                                return 1;
                        }
                        if (++sent == count / 2)   /* a live knob change, mid-run */
                                smx_knob_set(c, "retry_backoff_ms", "100", NULL, 0);
                }
                struct pollfd p = { .fd = smx_events_fd(c), .events = POLLIN };
                poll(&p, 1, 100);
                size_t got = smx_events_poll(c, ev, 64);
                for (size_t i = 0; i < got; i++) {
                        if (ev[i].type == SMX_EV_SUBMITTED)
                                accepted++;
                        else if (ev[i].type == SMX_EV_FAILED)
                                failed++;
                        else if (ev[i].type == SMX_EV_DR)
                                drs++;
                }
        }

        char backoff[32];
        smx_knob_get(c, "retry_backoff_ms", backoff, sizeof backoff);
        char *table = NULL;
        if (smx_stats_render(c, SMX_STATS_TABLE, &table, NULL) == 0)
                fputs(table, stdout);
        free(table);
        printf("embed: accepted=%ld failed=%ld drs=%ld retry_backoff_ms=%s\n", accepted, failed,
               drs, backoff);
        /* Shutdown that loses nothing: drain (outcomes, unbind; DRs still
         * waiting for a resp and MOs missing parts become events), then take
         * every event the library still holds before destroying it. */
        smx_client_drain(c, 5000);
        for (;;) {
                size_t got = smx_events_poll(c, ev, 64);
                for (size_t i = 0; i < got; i++)
                        drs += ev[i].type == SMX_EV_DR;
                if (got == 0 && smx_client_in_flight(c) == 0 && smx_client_undelivered(c) == 0)
                        break;
                if (got == 0) {
                        struct pollfd p = { .fd = smx_events_fd(c), .events = POLLIN };
                        poll(&p, 1, 50);
                }
        }
        printf("embed: drs after the drain included: %ld\n", drs);
        smx_client_destroy(c);
        return failed == 0 && accepted == count ? 0 : 1;
}
