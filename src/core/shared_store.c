/* The client side of the shared store (src/store/rstore.h): creating the
 * store thread from smx_config.store, and the callbacks it calls back into
 * the client with (wake a worker or the application, bind names, MO text
 * decoding with a bind's data_coding map, the answers to the HTTP
 * receiver's DRs/MOs). With store.url NULL or "memory" there is no store
 * thread and nothing here runs. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/client_int.h"
#include "http/http.h"

static void host_wake_worker(void *ctx, unsigned k)
{
        struct smx_client *c = ctx;
        if (k < c->n_workers)
                worker_wake(&c->workers[k]);
}

static void host_wake_app(void *ctx)
{
        struct smx_client *c = ctx;
        /* pairs with smx_events_poll's announcement (see worker_loop.c wake_app) */
        if (atomic_exchange(&c->app_sleeping, 0)) {
                uint64_t one = 1;
                ssize_t r = write(c->app_efd, &one, sizeof one);
                (void)r;
        }
}

_Static_assert(RS_BIND_HTTP == SMX_BIND_HTTP, "the store names HTTP events as the client does");

/* The HTTP transport's events travel under the bind name "http" (an SMPP
 * bind of that name wins the lookup). */
static int host_bind_by_name(void *ctx, const char *name)
{
        struct smx_client *c = ctx;
        for (uint32_t i = 0; i < c->n_binds; i++)
                if (atomic_load_explicit(&c->binds[i].in_use, memory_order_relaxed) &&
                    !strcmp(c->binds[i].name, name))
                        return (int)i;
        return strcmp(name, "http") == 0 ? (int)SMX_BIND_HTTP : -1;
}

static const char *host_bind_name(void *ctx, unsigned index)
{
        struct smx_client *c = ctx;
        if (index == SMX_BIND_HTTP)
                return "http";
        return index < c->n_binds ? c->binds[index].name : NULL;
}

static void host_mo_text(void *ctx, struct smx_ev_rec *e, unsigned index, uint8_t dcs,
                         int packed, size_t udh_len, const uint8_t *data, size_t len)
{
        struct smx_client *c = ctx;
        if (index == SMX_BIND_HTTP) {
                /* the HTTP API's MO text is UTF-8 already */
                inbound_mo_utf8(c->inbound, e, data, len);
                return;
        }
        const struct smx_bind_info *b = index < c->n_binds ? &c->binds[index].info : NULL;
        inbound_mo_text(c->inbound, e, b, dcs, packed, udh_len, data, len);
}

static void host_answer_ext(void *ctx, const struct rs_reply *r)
{
        struct smx_client *c = ctx;
        smx_http_store_answer(c->http, r->to.ext, r->status);
}

static int host_claim_ext(void *ctx, const struct rs_reply_to *to)
{
        struct smx_client *c = ctx;
        return smx_http_store_claim(c->http, to->ext);
}

int client_store_create(struct smx_client *c, const struct smx_config *cfg, char *err,
                        size_t err_len)
{
        const struct smx_store_config *sc = &cfg->store;
        int rc = rstore_url_check(sc->url, err, err_len);
        if (rc < 0)
                return rc == -ENOMEM ? SMX_ENOMEM : SMX_EINVAL;
        if (!rstore_url_is_shared(sc->url)) {
                if (sc->ca_file || sc->ca_path || sc->cert_file || sc->key_file ||
                    sc->server_name || sc->insecure) {
                        snprintf(err, err_len, "store: TLS settings given but the store url "
                                 "is not rediss://");
                        return SMX_EINVAL;
                }
                return 0;
        }
        struct rs_config rc_cfg = {
                .url = sc->url, .instance = sc->instance, .cluster = sc->cluster,
                .user = sc->user, .password = sc->password,
                .owner_takeover_ms = sc->owner_takeover_ms, .hold_ms = sc->hold_ms,
                .local_after_ms = sc->local_after_ms, .buffer_bytes = sc->buffer_bytes,
                .timeout_ms = sc->timeout_ms,
                .corr_ttl_ms = cfg->corr_ttl_ms, .park_timeout_ms = cfg->dr_park_timeout_ms,
                .dedup_window_ms = cfg->dedup_window_ms,
                .reasm_timeout_ms = cfg->reasm_timeout_ms,
                .event_capacity = cfg->event_capacity,
                .ca_file = sc->ca_file, .ca_path = sc->ca_path, .cert_file = sc->cert_file,
                .key_file = sc->key_file, .server_name = sc->server_name,
                .insecure = sc->insecure,
        };
        struct rs_host host = {
                .ctx = c, .n_workers = c->n_workers,
                .n_ext = c->http ? SMX_HTTP_STORE_QUEUES : 0,
                .wake_worker = host_wake_worker, .wake_app = host_wake_app,
                .answer_ext = host_answer_ext, .claim_ext = host_claim_ext,
                .bind_by_name = host_bind_by_name, .bind_name = host_bind_name,
                .mo_text = host_mo_text,
        };
        rc = rstore_create(&rc_cfg, &host, &c->rstore, err, err_len);
        if (rc < 0)
                return rc == -ENOMEM ? SMX_ENOMEM : SMX_EINVAL;
        /* the outcome gate: an MT's SUBMITTED is shown once its correlation
         * is in Redis (rstore.h); the rings of the producers that write
         * correlations (workers, the HTTP transport's MT thread) */
        for (unsigned k = 0; k < c->n_workers; k++)
                if (event_ring_gate(c->workers[k].evr, rstore_corr_count(c->rstore, k), k) < 0)
                        return SMX_ENOMEM;
        if (c->http) {
                unsigned q = c->n_workers + SMX_HTTP_STORE_Q_MT;
                if (event_ring_gate(smx_http_ring(c->http, 0), rstore_corr_count(c->rstore, q),
                                    q) < 0)
                        return SMX_ENOMEM;
        }
        const char *cl = rstore_cluster(c->rstore);
        c->ident_seed = smx_hash128(cl, strlen(cl), 0x1401);
        c->n_rings += 1;
        /* the application's strings are not kept */
        c->cfg.store.url = c->cfg.store.instance = c->cfg.store.cluster = NULL;
        c->cfg.store.user = c->cfg.store.password = NULL;
        c->cfg.store.ca_file = c->cfg.store.ca_path = c->cfg.store.cert_file = NULL;
        c->cfg.store.key_file = c->cfg.store.server_name = NULL;
        return 0;
}
