/* The HTTP side of demo and bench (see cli_http.h): starts the simulator's
 * HTTP API beside its SMPP SMSCs when --transport asks for HTTP and names no
 * URL, plays the demo's HTTP fault steps, folds the HTTP handset counts into
 * the SMPP ledger, and prints what the HTTP transport did. */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "cli_http.h"

/* The HTTP faults of the demo, at a fraction (permille) of the run: the
 * primary site's API refuses connections, comes back, the alternate gets
 * slow for a while, MOs come in over HTTP. */
static const struct {
        unsigned permille;
        const char *cmd;
} http_plan[] = {
        { 100, "http down dc3 refuse" },
        { 300, "http mo 3" },
        { 450, "http up dc3" },
        { 600, "http slow bos 200" },
        { 700, "http slow bos 0" },
        { 820, "http mo 2" },
};
#define HTTP_PLAN_STEPS (sizeof http_plan / sizeof http_plan[0])

int cli_http_sim_start(struct cli_opts *o, struct smsc_sim *smpp, int two_sites,
                       struct cli_http_sim *hs)
{
        memset(hs, 0, sizeof *hs);
        if (!o->http_given || o->http.transport == SMX_TRANSPORT_SMPP || o->http.n_urls)
                return 0;
        struct http_sim_options ho;
        http_sim_options_init(&ho);
        ho.sites = two_sites ? "dc3,bos" : "dc3";
        ho.smpp = smpp;
        ho.dr_via_smpp = smpp ? 0.5 : 0;   /* half the DRs of HTTP MTs over SMPP binds */
        if (o->http.login || o->system_id)
                ho.login = o->http.login ? o->http.login : o->system_id;
        if (o->http.password || o->password)
                ho.password = o->http.password ? o->http.password : o->password;
        char err[200];
        if (http_sim_start(&ho, &hs->sim, err, sizeof err) < 0) {
                fprintf(stderr, "smsmux: cannot start the simulator's HTTP side: %s\n", err);
                return -1;
        }
        size_t n = two_sites ? 2 : 1;
        for (size_t i = 0; i < n; i++) {
                char name[32], addr[16];
                uint16_t port;
                http_sim_site(hs->sim, i, name, addr, &port);
                snprintf(hs->urls[i], sizeof hs->urls[i], "http://%s:%u/httpapi/receiver", addr, port);
                o->http.urls[i] = hs->urls[i];
        }
        o->http.n_urls = (unsigned)n;
        if (!o->http.receiver)
                o->http.receiver = "127.0.0.1:0";
        return 0;
}

int cli_http_sim_connect(struct cli_http_sim *hs, smx_client *c)
{
        if (!hs->sim)
                return 0;
        struct smx_http_stats st;
        smx_client_http_stats(c, &st);
        if (!st.receiver_port)
                return 0;
        char cmd[96], reply[128];
        snprintf(cmd, sizeof cmd, "http receiver http://127.0.0.1:%u/httpapi/receiver", st.receiver_port);
        return http_sim_ctl(hs->sim, cmd, reply, sizeof reply);
}

void cli_http_plan_tick(struct cli_http_sim *hs, uint64_t t_ms, uint32_t duration_ms)
{
        while (hs->sim && hs->plan_next < HTTP_PLAN_STEPS &&
               t_ms >= (uint64_t)duration_ms * http_plan[hs->plan_next].permille / 1000) {
                char reply[256];
                const char *cmd = http_plan[hs->plan_next++].cmd;
                int rc = http_sim_ctl(hs->sim, cmd, reply, sizeof reply);
                printf("[%3llus] plan: %s%s%s\n", (unsigned long long)(t_ms / 1000), cmd,
                       rc < 0 ? " -> " : "", rc < 0 ? reply : "");
        }
}

static void add_num(json_t *obj, const char *key, uint64_t v)
{
        json_t *cur = json_object_get(obj, key);
        uint64_t base = json_is_integer(cur) ? (uint64_t)json_integer_value(cur) : 0;
        json_object_set_new(obj, key, json_integer((json_int_t)(base + v)));
}

void cli_http_merge_ledger(struct cli_http_sim *hs, char *ledger, size_t cap)
{
        if (!hs->sim || !ledger)
                return;
        json_error_t jerr;
        json_t *root = json_loads(ledger, 0, &jerr);
        if (!root)
                return;
        struct http_sim_counts sc;
        http_sim_counts(hs->sim, &sc);
        json_t *handset = json_object_get(root, "handset");
        json_t *totals = json_object_get(root, "totals");
        if (json_is_object(handset)) {
                add_num(handset, "delivered", sc.handset_delivered);
                add_num(handset, "duplicates", sc.handset_duplicates);
        }
        if (json_is_object(totals)) {
                /* DRs of HTTP MTs sent over SMPP are in the SMPP counts already */
                add_num(totals, "dr_sent", sc.dr_pushed);
                add_num(totals, "mo_sent", sc.mo_pushed);
        }
        char *txt = json_dumps(root, JSON_COMPACT);
        if (txt && strlen(txt) < cap)
                memcpy(ledger, txt, strlen(txt) + 1);
        free(txt);
        json_decref(root);
}

void cli_http_report(struct cli_http_sim *hs, smx_client *c)
{
        struct smx_http_stats st;
        smx_client_http_stats(c, &st);
        if (!st.enabled)
                return;
        printf("\nHTTP: %llu requests, %llu accepted (%llu as duplicates), %llu failed; "
               "%llu resubmits after the pause, %llu switches to an alternate, %llu back to the "
               "primary; now on URL %u\n",
               (unsigned long long)st.sent, (unsigned long long)st.accepted,
               (unsigned long long)st.duplicates, (unsigned long long)st.failed,
               (unsigned long long)st.resubmits, (unsigned long long)st.switches,
               (unsigned long long)st.switch_backs, st.current_url);
        printf("HTTP receiver: %llu POSTs, %llu delivered, %llu repeats dropped, %llu busy, %llu bad\n",
               (unsigned long long)st.rx_requests, (unsigned long long)st.rx_delivered,
               (unsigned long long)st.rx_duplicates, (unsigned long long)st.rx_busy,
               (unsigned long long)st.rx_bad);
        if (hs && hs->sim) {
                struct http_sim_counts sc;
                http_sim_counts(hs->sim, &sc);
                printf("simulator HTTP side: %llu MTs to handsets, %llu repeats recognised, DR pushes "
                       "%llu (%llu acked), MO pushes %llu (%llu acked), DRs sent over SMPP %llu, from %u "
                       "source addresses\n",
                       (unsigned long long)sc.handset_delivered, (unsigned long long)sc.duplicates,
                       (unsigned long long)sc.dr_pushed, (unsigned long long)sc.dr_acked,
                       (unsigned long long)sc.mo_pushed, (unsigned long long)sc.mo_acked,
                       (unsigned long long)sc.dr_via_smpp, sc.sources_used);
        }
        fflush(stdout);
}

void cli_http_sim_stop(struct cli_http_sim *hs)
{
        if (hs->sim)
                http_sim_stop(hs->sim);
        hs->sim = NULL;
}
