/* Taking a stats snapshot of a running client: every bind's atomics copied
 * with relaxed loads (each counter is exact, the set is not one instant),
 * summed per site and per worker, plus the client totals and the inbound
 * and HTTP counters. Never takes a lock a worker could wait on. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/client_int.h"
#include "log/log.h"
#include "stats/stats.h"

_Static_assert(SMX_FAIL_ENCODING + 1 == SMX_FAIL_REASONS, "SMX_FAIL_REASONS counts the reasons");

#define LD(x) atomic_load_explicit(&(x), memory_order_relaxed)

void stats_fill_bind(const struct smx_bind *b, struct smx_bind_stats *o, struct smx_lat_snap *lat)
{
        struct smx_lat_snap tmp;
        struct smx_lat_snap *l = lat ? lat : &tmp;
        o->admin = (enum smx_admin_state)LD(b->admin);
        o->worker = b->worker;
        for (unsigned r = 0; r < SMX_FAIL_REASONS; r++)
                o->failed_by[r] = LD(b->cnt.failed_by[r]);
        lat_hist_read(&b->lat, l);
        o->latency_count = l->count;
        o->latency_p50_us = lat_snap_quantile(l, 0.50);
        o->latency_p99_us = lat_snap_quantile(l, 0.99);
        o->latency_p999_us = lat_snap_quantile(l, 0.999);
        struct smx_bind_texts t;
        bind_texts_get(&b->texts, &t);
        memcpy(o->last_down, t.last_down, sizeof o->last_down);
        o->tls = b->tls_cfg != NULL;
        o->tls_handshakes = LD(b->cnt.tls_handshakes);
        o->tls_resumed = LD(b->cnt.tls_resumed);
        memcpy(o->tls_version, t.tls_version, sizeof o->tls_version);
        memcpy(o->tls_cipher, t.tls_cipher, sizeof o->tls_cipher);
}

static void sum_add(struct smx_stats_sum *s, const struct smx_stats_bind *b)
{
        const struct smx_bind_stats *p = &b->pub;
        s->binds++;
        s->binds_active += p->health == SMX_HEALTH_ACTIVE || p->health == SMX_HEALTH_THROTTLED;
        s->in_flight += p->in_flight;
        s->submitted += p->submitted;
        s->accepted += p->accepted;
        s->failed += p->failed;
        s->resent += p->resent;
        s->throttled += p->throttled;
        s->drs += p->drs;
        s->mos += p->mos;
        s->bind_attempts += p->bind_attempts;
        for (unsigned r = 0; r < SMX_FAIL_REASONS; r++)
                s->failed_by[r] += p->failed_by[r];
        lat_snap_add(&s->lat, &b->lat);
}

int stats_sum(struct smx_stats_snapshot *s, unsigned n_workers)
{
        size_t n = s->n_binds;
        s->sites = calloc(n ? n : 1, sizeof *s->sites);
        s->workers = calloc(n_workers ? n_workers : 1, sizeof *s->workers);
        if (!s->sites || !s->workers)
                return SMX_ENOMEM;
        s->n_workers = n_workers;
        for (unsigned k = 0; k < n_workers; k++)
                snprintf(s->workers[k].name, sizeof s->workers[k].name, "%u", k);
        for (size_t i = 0; i < n; i++) {
                const struct smx_stats_bind *b = &s->binds[i];
                size_t j = 0;
                while (j < s->n_sites && strcmp(s->sites[j].name, b->pub.site))
                        j++;
                if (j == s->n_sites) {
                        memcpy(s->sites[j].name, b->pub.site, sizeof s->sites[j].name);
                        s->n_sites++;
                }
                sum_add(&s->sites[j], b);
                if (b->pub.worker < n_workers)
                        sum_add(&s->workers[b->pub.worker], b);
        }
        return 0;
}

int stats_collect(struct smx_client *c, struct smx_stats_snapshot *s)
{
        memset(s, 0, sizeof *s);
        s->mts_decided = client_decided(c);
        s->mts_accepted = client_accepted(c, s->mts_decided);
        s->in_flight = s->mts_accepted - s->mts_decided;
        /* a counter: never report less than a reader reported before (the
         * count may run one re-push ahead for an instant, client_accepted) */
        uint64_t seen = atomic_load_explicit(&c->accepted_seen, memory_order_relaxed);
        while (seen < s->mts_accepted &&
               !atomic_compare_exchange_weak_explicit(&c->accepted_seen, &seen, s->mts_accepted,
                                                      memory_order_relaxed, memory_order_relaxed))
                ;
        if (seen > s->mts_accepted)
                s->mts_accepted = seen;
        s->queued = ingress_queued(&c->ing);
        s->active_binds = LD(c->active_binds);
        for (unsigned r = 0; r < SMX_FAIL_REASONS; r++)
                s->failed_nobind[r] = LD(c->failed_nobind[r]);
        s->log_suppressed = smx_log_suppressed_total();
        s->ktls = tls_ktls_probe(&s->ktls_note);
        s->binds = calloc(c->n_binds ? c->n_binds : 1, sizeof *s->binds);
        if (!s->binds)
                return SMX_ENOMEM;
        /* smx_client_binds lists the slots in use in index order */
        struct smx_bind_stats *tmp = calloc(c->n_binds ? c->n_binds : 1, sizeof *tmp);
        if (!tmp)
                return SMX_ENOMEM;
        size_t n = smx_client_binds(c, tmp, c->n_binds), j = 0;
        for (uint32_t i = 0; i < c->n_binds && j < n; i++) {
                if (!atomic_load_explicit(&c->binds[i].in_use, memory_order_acquire) ||
                    strcmp(c->binds[i].name, tmp[j].name) != 0)
                        continue;
                s->binds[j].pub = tmp[j];
                stats_fill_bind(&c->binds[i], &s->binds[j].pub, &s->binds[j].lat);
                j++;
        }
        free(tmp);
        s->n_binds = j;
        if (c->inbound) {
                inbound_stats(c->inbound, &s->inbound);
                s->has_inbound = 1;
        }
        smx_client_http_stats(c, &s->http);
        if (c->rstore) {
                rstore_stats(c->rstore, &s->store);
                s->has_store = 1;
        }
        return stats_sum(s, c->n_workers);
}

void stats_free(struct smx_stats_snapshot *s)
{
        free(s->binds);
        free(s->sites);
        free(s->workers);
        memset(s, 0, sizeof *s);
}

int smx_stats_render(smx_client *c, enum smx_stats_format fmt, char **out, size_t *len)
{
        if (!c || !out)
                return SMX_EINVAL;
        *out = NULL;
        struct smx_stats_snapshot s;
        int rc = stats_collect(c, &s);
        if (rc == 0)
                rc = stats_render(&s, fmt, out, len);
        stats_free(&s);
        return rc;
}
