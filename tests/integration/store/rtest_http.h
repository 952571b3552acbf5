/* The HTTP simulator (tools/smsc-sim http_sim) the HTTP store tests point
 * their instances at: H, started once from main with the test's options,
 * and http_urls, the receiver URL of each of its two sites (what an
 * instance's HTTP transport posts MTs to). Main thread only. */
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

#endif
