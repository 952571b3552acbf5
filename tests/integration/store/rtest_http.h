/* The HTTP simulator (tools/smsc-sim http_sim) the HTTP store tests point
 * their instances at: H, started once from main with the test's options,
 * and http_urls, the receiver URL of each of its two sites (what an
 * instance's HTTP transport posts MTs to); the simulator's control words
 * (rt_hctl), the instances' own receivers it pushes DRs and MOs to in turn
 * (rt_http_push_to_receivers) and the end of such a test (rt_http_finish:
 * the instances stop before the simulator they post to). Main thread only. */
#ifndef RTEST_HTTP_H
#define RTEST_HTTP_H

#include <stdio.h>

#include "http_sim.h"
#include "rtest_inst.h"

static struct http_sim *H;
static char http_urls[2][96];

/* Start H with `ho` and fill http_urls: 0, or 1 after a "Bail out!" line. */
static inline int rt_http_sim_start(struct http_sim_options *ho)
{
        char err[256];
        if (http_sim_start(ho, &H, err, sizeof err) < 0) {
                printf("Bail out! http sim: %s\n", err);
                return 1;
        }
        for (size_t i = 0; i < 2; i++) {
                char name[32], addr[16];
                uint16_t port;
                http_sim_site(H, i, name, addr, &port);
                snprintf(http_urls[i], sizeof http_urls[i], "http://%s:%u/httpapi/receiver",
                         addr, port);
        }
        return 0;
}

/* The instance's HTTP transport posts to both of H's sites. */
static inline void rt_http_post_to_sim(struct rt_inst *in)
{
        in->hc.urls[0] = http_urls[0];
        in->hc.urls[1] = http_urls[1];
        in->hc.n_urls = 2;
}

/* Send a control line to H (http_sim_ctl); a refusal is printed. */
static inline void rt_hctl(const char *cmd)
{
        char r[512];
        if (http_sim_ctl(H, cmd, r, sizeof r) < 0)
                printf("# http sim: %s: %s\n", cmd, r);
}

/* The port instance I[i]'s HTTP receiver listens on. */
static inline uint16_t rt_rx_port(int i)
{
        struct smx_http_stats st;
        smx_client_http_stats(I[i].c, &st);
        return (uint16_t)st.receiver_port;
}

/* H pushes its DRs and MOs to the receivers of I[first..first+n-1] in turn
 * (a load balancer in front of them). */
static inline void rt_http_push_to_receivers(int first, int n)
{
        char cmd[64 + RT_INST_MAX * 48];
        int len = snprintf(cmd, sizeof cmd, "http receiver ");
        for (int i = first; i < first + n; i++)
                len += snprintf(cmd + len, sizeof cmd - (size_t)len,
                                "%shttp://127.0.0.1:%u/httpapi/receiver", i > first ? "," : "",
                                rt_rx_port(i));
        rt_hctl(cmd);
}

/* H's MOs k0+1..k0+n (their text "mo text N"): how many reached no
 * instance's application, how many reached one more than once. */
static inline void rt_http_mos_once(unsigned k0, unsigned n, unsigned *missing, unsigned *twice)
{
        *missing = *twice = 0;
        for (unsigned k = 1; k <= n; k++) {
                char t[64];
                snprintf(t, sizeof t, "mo text %u", k0 + k);
                unsigned c = rt_mo_count(t);
                *missing += c == 0;
                *twice += c > 1;
        }
}

/* Stop the instances still running, then H, then the rest (rt_finish): the
 * TAP plan and exit status. */
static inline int rt_http_finish(void)
{
        for (int i = 0; i < rt_n; i++)
                if (I[i].c) {
                        smx_client_destroy(I[i].c);
                        I[i].c = NULL;
                }
        http_sim_stop(H);
        return rt_finish();
}

#endif
