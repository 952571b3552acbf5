/* The inbound room's life cycle, the submit_sm_resp side of correlation
 * (inbound_on_accepted_w: normalise, hash, then stage.c's put; also in two
 * steps for a worker's batch: inbound_accepted_prepare / _commit_w), the timers
 * (inbound_tick_w), the shutdown flush (inbound_flush_w) and the stats.
 * inbound_on_deliver_w is in deliver.c; see inbound.h for the contract and
 * inbound_int.h for the file map and the lock order. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "inbound/inbound_int.h"

void inbound_config_init(struct smx_inbound_config *cfg)
{
        memset(cfg, 0, sizeof *cfg);
        cfg->corr_capacity = 1u << 20;
        cfg->corr_ttl_ms = 48u * 3600u * 1000u;
        cfg->park_capacity = 65536;
        cfg->park_timeout_ms = 60000;
        cfg->dedup_capacity = 1u << 20;
        cfg->dedup_window_ms = 600000;
        cfg->reasm_groups = 4096;
        cfg->reasm_timeout_ms = 60000;
}

struct smx_inbound *inbound_create(const struct smx_inbound_config *cfg)
{
        struct smx_inbound_config def;
        if (!cfg) {
                inbound_config_init(&def);
                cfg = &def;
        }
        if (cfg->corr_capacity == 0 || cfg->park_capacity == 0 || cfg->dedup_capacity == 0 ||
            cfg->reasm_groups == 0)
                return NULL;
        struct smx_inbound *in = calloc(1, sizeof *in);
        if (!in)
                return NULL;
        in->cfg = *cfg;
        smx_dcs_map_service(&in->service_map);
        struct smx_corr_config cc = { .capacity = cfg->corr_capacity, .ttl_ms = cfg->corr_ttl_ms };
        struct smx_dedup_config dc = { .capacity = cfg->dedup_capacity,
                                       .window_ms = cfg->dedup_window_ms };
        if (smx_corr_mem_open(&cc, &in->corr) != 0)
                goto fail;
        if (smx_dedup_mem_open(&dc, &in->dedup) != 0)
                goto fail;
        if (park_init(in) != 0 || mo_init(in) != 0 || stage_init(in) != 0)
                goto fail;
        return in;
fail:
        inbound_destroy(in);
        return NULL;
}

void inbound_destroy(struct smx_inbound *in)
{
        if (!in)
                return;
        if (in->corr.ops)
                in->corr.ops->destroy(in->corr.impl);
        if (in->dedup.ops)
                in->dedup.ops->destroy(in->dedup.impl);
        park_fini(in);
        mo_fini(in);
        stage_fini(in);
        free(in);
}

int inbound_accepted_prepare(struct smx_inbound *in, const struct smx_bind_info *bind,
                             const uint8_t *msgid, size_t msgid_len, const char *app_id,
                             size_t app_id_len, uint64_t mt_serial, uint16_t part,
                             uint16_t n_parts, struct smx_accepted_put *out)
{
        struct smx_id_norm rules;
        char norm[SMX_MSGID_CANON_MAX + 1];
        inbound_id_rules(bind, &rules);
        if (msgid_len == 0)
                return -EINVAL;         /* nothing a DR could ever name */
        int n = msgid_len > SMX_MSGID_MAX ? -1
                : smx_msgid_normalise(&rules, SMX_ID_FROM_RESP, msgid, msgid_len, norm, sizeof norm);
        if (n < 0) {
                /* B-03: accepted, but no DR can ever be matched to it */
                CNT_INC(in, id_too_long);
                return -E2BIG;
        }
        out->key = smx_hash128(norm, (size_t)n, 0);
        /* the put's one random probe of a big table: start it now, so that
         * a batch of puts overlaps its misses (commit) */
        if (in->corr.ops->prefetch)
                in->corr.ops->prefetch(in->corr.impl, &out->key);
        out->bind = bind;
        /* which rule sets stored correlations (inbound_corr_get); written
         * once per value, so the line stays shared */
        uint32_t bit = 1u << (bind->msgid_norm % SMX_MSGID_RULES);
        if (!(atomic_load_explicit(&in->rules_seen, memory_order_relaxed) & bit))
                atomic_fetch_or_explicit(&in->rules_seen, bit, memory_order_relaxed);
        struct smx_corr_val *v = &out->v;
        v->mt_serial = mt_serial;
        v->part = (uint16_t)(part + 1);  /* the store and the events count from 1 */
        v->n_parts = n_parts ? n_parts : 1;
        v->app_len = (uint8_t)(app_id_len > SMX_ID_MAX ? SMX_ID_MAX : app_id_len);
        if (v->app_len)
                memcpy(v->app_id, app_id, v->app_len);
        return 0;
}

int inbound_accepted_commit_w(struct smx_inbound *in, const struct smx_accepted_put *a,
                              struct smx_event_ring *ring, uint64_t now_ms)
{
        /* the put, never waiting behind a held shard lock, then the parked DRs */
        return stage_put_w(in, a->bind, &a->key, &a->v, ring, now_ms);
}

int inbound_on_accepted_w(struct smx_inbound *in, const struct smx_bind_info *bind,
                          const uint8_t *msgid, size_t msgid_len,
                          const char *app_id, size_t app_id_len, uint64_t mt_serial,
                          uint16_t part, uint16_t n_parts,
                          struct smx_event_ring *ring, uint64_t now_ms)
{
        struct smx_accepted_put a;
        int rc = inbound_accepted_prepare(in, bind, msgid, msgid_len, app_id, app_id_len,
                                          mt_serial, part, n_parts, &a);
        if (rc < 0)
                return rc;
        return inbound_accepted_commit_w(in, &a, ring, now_ms);
}

void inbound_tick_w(struct smx_inbound *in, unsigned worker, unsigned n_workers,
                    struct smx_event_ring *ring, uint64_t now_ms)
{
        if (n_workers == 0)
                n_workers = 1;
        if (stage_pending(in))
                stage_flush_w(in, ring, now_ms, 1);
        for (unsigned s = worker; s < in->n_park; s += n_workers)
                park_tick_w(in, s, ring, now_ms);
        for (unsigned s = worker; s < in->n_reasm; s += n_workers)
                mo_tick_w(in, s, ring, now_ms);
        in->corr.ops->expire(in->corr.impl, worker, n_workers, now_ms);
        in->dedup.ops->expire(in->dedup.impl, worker, n_workers, now_ms);
}

void inbound_flush_w(struct smx_inbound *in, unsigned worker, unsigned n_workers,
                     struct smx_event_ring *ring, uint64_t now_ms)
{
        if (n_workers == 0)
                n_workers = 1;
        /* puts first, so a DR parked for a staged put leaves correlated */
        if (stage_pending(in))
                stage_flush_w(in, ring, now_ms, 1);
        for (unsigned s = worker; s < in->n_park; s += n_workers)
                park_flush_w(in, s, ring, now_ms);
        for (unsigned s = worker; s < in->n_reasm; s += n_workers)
                mo_flush_w(in, s, ring);
}

uint64_t inbound_undelivered(const struct smx_inbound *in)
{
        return park_count(in) + mo_groups_open(in);
}

#define LOAD(f) atomic_load_explicit(&in->c.f, memory_order_relaxed)

void inbound_stats(const struct smx_inbound *in_c, struct smx_inbound_stats *st)
{
        struct smx_inbound *in = (struct smx_inbound *)in_c;  /* shard locks only */
        struct smx_corr_stats cs;
        struct smx_dedup_stats ds;
        memset(st, 0, sizeof *st);
        st->drs = LOAD(drs);
        st->mos = LOAD(mos);
        st->dr_duplicates = LOAD(dr_duplicates);
        st->mo_duplicates = LOAD(mo_duplicates);
        st->parked = LOAD(parked);
        st->park_matched = LOAD(park_matched);
        st->park_expired = LOAD(park_expired);
        st->uncorrelated = LOAD(uncorrelated);
        st->corr_full = LOAD(corr_full);
        st->ring_full = LOAD(ring_full);
        st->mo_partial = LOAD(mo_partial);
        st->tlv_text_mismatch = LOAD(tlv_text_mismatch);
        st->busy = LOAD(busy);
        st->park_evicted = LOAD(park_evicted);
        st->mt_final = LOAD(mt_final);
        st->merge_lost = LOAD(merge_lost);
        st->id_too_long = LOAD(id_too_long);
        st->mo_raw = LOAD(mo_raw);
        st->udh_sar_mismatch = LOAD(udh_sar_mismatch);
        st->dr_undecodable = LOAD(dr_undecodable);
        st->corr_staged = LOAD(corr_staged);
        st->corr_waited = LOAD(corr_waited);
        st->park_flushed = LOAD(park_flushed);
        st->mo_flushed = LOAD(mo_flushed);
        st->id_rules_crossed = LOAD(id_rules_crossed);
        st->park_now = park_count(in);
        st->mo_groups_open = mo_groups_open(in);
        in->corr.ops->stats(in->corr.impl, &cs);
        in->dedup.ops->stats(in->dedup.impl, &ds);
        st->corr_entries = cs.entries;
        st->corr_bytes = cs.bytes;
        st->dedup_entries = ds.entries;
        st->dedup_evicted = ds.evicted;
        st->dedup_bytes = ds.bytes;
}
