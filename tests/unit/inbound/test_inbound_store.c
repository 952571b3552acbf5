/* The shared stores (src/store): correlation put/get/TTL/capacity, the
 * multipart merge, the dedup claim protocol, window and capacity, and the
 * N-13 parked-DR flood with bounded memory. */
#include <stdio.h>

#include "inbound_fixture.h"
#include "pdu/smpp_defs.h"
#include "store/store.h"

static struct smx_key128 key_of(const char *s)
{
        return smx_hash128(s, strlen(s), 0);
}

static struct smx_corr_val val_of(const char *app, uint64_t serial, uint16_t part, uint16_t n)
{
        struct smx_corr_val v;
        memset(&v, 0, sizeof v);
        v.mt_serial = serial;
        v.part = part;
        v.n_parts = n;
        v.app_len = (uint8_t)strlen(app);
        memcpy(v.app_id, app, v.app_len);
        return v;
}

static void test_corr_put_get_roundtrip_short_and_long_app_ids(void)
{
        struct smx_corr_store s;
        struct smx_corr_config c = { .capacity = 1000, .ttl_ms = 10000 };
        CHECK_EQ(smx_corr_mem_open(&c, &s), 0);
        static const char long_id[] = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
        struct smx_key128 k1 = key_of("a"), k2 = key_of("b");
        struct smx_corr_val v1 = val_of("short", 1, 1, 1), v2 = val_of(long_id, 2, 2, 3), got;
        CHECK_EQ(s.ops->put(s.impl, &k1, &v1, 0), 0);
        CHECK_EQ(s.ops->put(s.impl, &k2, &v2, 0), 0);
        CHECK_EQ(s.ops->get(s.impl, &k1, &got, 1), 1);
        CHECK_EQ(got.app_len, 5);
        CHECK_MEM(got.app_id, "short", 5);
        CHECK_EQ(got.mt_serial, 1);
        CHECK_EQ(s.ops->get(s.impl, &k2, &got, 1), 1);
        CHECK_EQ(got.app_len, 64);
        CHECK_MEM(got.app_id, long_id, 64);
        CHECK_EQ(got.part, 2);
        CHECK_EQ(got.n_parts, 3);
        struct smx_key128 k3 = key_of("c");
        CHECK_EQ(s.ops->get(s.impl, &k3, &got, 1), 0);
        s.ops->destroy(s.impl);
}

static void test_corr_entry_expires_after_ttl(void)
{
        struct smx_corr_store s;
        struct smx_corr_config c = { .capacity = 100, .ttl_ms = 500 };
        CHECK_EQ(smx_corr_mem_open(&c, &s), 0);
        struct smx_key128 k = key_of("x");
        struct smx_corr_val v = val_of("app", 1, 1, 1), got;
        CHECK_EQ(s.ops->put(s.impl, &k, &v, 1000), 0);
        CHECK_EQ(s.ops->get(s.impl, &k, &got, 1499), 1);
        CHECK_EQ(s.ops->get(s.impl, &k, &got, 1500), 0);
        CHECK_EQ(s.ops->expire(s.impl, 0, 1, 1500), 1);
        struct smx_corr_stats st;
        s.ops->stats(s.impl, &st);
        CHECK_EQ(st.entries, 0);
        CHECK_EQ(st.expired, 1);
        s.ops->destroy(s.impl);
}

static void test_corr_timer_sweeps_a_shard_at_most_once_a_second(void)
{
        struct smx_corr_store s;
        struct smx_corr_config c = { .capacity = 2000, .ttl_ms = 1000 };
        CHECK_EQ(smx_corr_mem_open(&c, &s), 0);
        char id[32];
        struct smx_corr_val v = val_of("a", 1, 1, 1), got;
        for (int i = 0; i < 1000; i++) {        /* expiries 1000 .. 1999 */
                snprintf(id, sizeof id, "t%d", i);
                struct smx_key128 k = key_of(id);
                CHECK_EQ(s.ops->put(s.impl, &k, &v, (uint64_t)i), 0);
        }
        CHECK_EQ(s.ops->expire(s.impl, 0, 1, 1500), 501);
        CHECK_EQ(s.ops->expire(s.impl, 0, 1, 1600), 0);        /* paced */
        struct smx_key128 k550 = key_of("t550");
        CHECK_EQ(s.ops->get(s.impl, &k550, &got, 1600), 0);    /* but already invisible */
        CHECK_EQ(s.ops->expire(s.impl, 0, 1, 2500), 499);
        s.ops->destroy(s.impl);
}

static void test_corr_full_refuses_then_reuses_expired_space(void)
{
        struct smx_corr_store s;
        struct smx_corr_config c = { .capacity = 200, .ttl_ms = 1000 };
        CHECK_EQ(smx_corr_mem_open(&c, &s), 0);
        char id[32];
        struct smx_corr_val v = val_of("a-rather-long-application-id-1234", 1, 1, 1), got;
        for (int i = 0; i < 200; i++) {
                snprintf(id, sizeof id, "id%d", i);
                struct smx_key128 k = key_of(id);
                CHECK_EQ(s.ops->put(s.impl, &k, &v, (uint64_t)i), 0);
        }
        struct smx_key128 extra = key_of("one-too-many");
        CHECK_EQ(s.ops->put(s.impl, &extra, &v, 500), -ENOSPC);
        struct smx_corr_stats st;
        s.ops->stats(s.impl, &st);
        CHECK_EQ(st.full, 1);
        CHECK_EQ(st.entries, 200);
        /* entries 0..9 expire at 1000..1009: the put evicts what expired */
        CHECK_EQ(s.ops->put(s.impl, &extra, &v, 1005), 0);
        CHECK_EQ(s.ops->get(s.impl, &extra, &got, 1005), 1);
        struct smx_key128 k0 = key_of("id0"), k199 = key_of("id199");
        CHECK_EQ(s.ops->get(s.impl, &k0, &got, 1005), 0);
        CHECK_EQ(s.ops->get(s.impl, &k199, &got, 1005), 1);
        s.ops->stats(s.impl, &st);
        CHECK_EQ(st.entries, 200 - 6 + 1);
        s.ops->destroy(s.impl);
}

static void test_corr_slot_is_64_bytes_and_load_at_most_two_thirds(void)
{
        struct smx_corr_store s;
        struct smx_corr_config c = { .capacity = 1u << 16, .ttl_ms = 1000 };
        CHECK_EQ(smx_corr_mem_open(&c, &s), 0);
        struct smx_corr_stats st;
        s.ops->stats(s.impl, &st);
        CHECK(st.capacity >= (1u << 16));
        CHECK(st.capacity * 3 <= st.slots * 2);   /* a full shard's runs stay short */
        /* slots at 64 B plus small per-shard overhead */
        CHECK(st.bytes >= st.slots * 64);
        CHECK(st.bytes < st.slots * 64 + (1u << 16));
        s.ops->destroy(s.impl);
}

static void test_corr_put_same_key_replaces(void)
{
        struct smx_corr_store s;
        struct smx_corr_config c = { .capacity = 100, .ttl_ms = 1000 };
        CHECK_EQ(smx_corr_mem_open(&c, &s), 0);
        struct smx_key128 k = key_of("dup");
        struct smx_corr_val v1 = val_of("first-app-id-that-is-long-enough", 1, 1, 1);
        struct smx_corr_val v2 = val_of("second", 2, 1, 1), got;
        CHECK_EQ(s.ops->put(s.impl, &k, &v1, 0), 0);
        CHECK_EQ(s.ops->put(s.impl, &k, &v2, 0), 0);
        CHECK_EQ(s.ops->get(s.impl, &k, &got, 0), 1);
        CHECK_EQ(got.mt_serial, 2);
        CHECK_MEM(got.app_id, "second", 6);
        struct smx_corr_stats st;
        s.ops->stats(s.impl, &st);
        CHECK_EQ(st.entries, 1);
        s.ops->destroy(s.impl);
}

static void test_corr_deletes_keep_probe_chains_intact(void)
{
        /* many entries in one small shard, half expire, the rest still found */
        struct smx_corr_store s;
        struct smx_corr_config c = { .capacity = 256, .ttl_ms = 100 };
        CHECK_EQ(smx_corr_mem_open(&c, &s), 0);
        char id[32];
        struct smx_corr_val v = val_of("a", 0, 1, 1), got;
        for (int i = 0; i < 256; i++) {
                snprintf(id, sizeof id, "k%d", i);
                struct smx_key128 k = key_of(id);
                v.mt_serial = (uint64_t)i;
                CHECK_EQ(s.ops->put(s.impl, &k, &v, (i % 2) ? 1000 : 0), 0);
        }
        CHECK_EQ(s.ops->expire(s.impl, 0, 1, 500), 128);
        int found = 0;
        for (int i = 0; i < 256; i++) {
                snprintf(id, sizeof id, "k%d", i);
                struct smx_key128 k = key_of(id);
                int hit = s.ops->get(s.impl, &k, &got, 500);
                CHECK_EQ(hit, i % 2);
                if (hit) {
                        CHECK_EQ(got.mt_serial, (uint64_t)i);
                        found++;
                }
        }
        CHECK_EQ(found, 128);
        s.ops->destroy(s.impl);
}

static void test_corr_part_final_merges_worst_state(void)
{
        struct smx_corr_store s;
        struct smx_corr_config c = { .capacity = 100, .ttl_ms = 10000 };
        CHECK_EQ(smx_corr_mem_open(&c, &s), 0);
        struct smx_key128 a = key_of("pa"), b = key_of("pb");
        struct smx_corr_val va = val_of("mt", 5, 1, 2), vb = val_of("mt", 5, 2, 2);
        struct smx_corr_final f;
        CHECK_EQ(s.ops->put(s.impl, &a, &va, 0), 0);
        CHECK_EQ(s.ops->put(s.impl, &b, &vb, 0), 0);
        CHECK_EQ(s.ops->part_final(s.impl, &a, SMPP_STATE_ENROUTE, 1, &f), 1);
        CHECK_EQ(f.newly_final, 0);
        CHECK_EQ(s.ops->part_final(s.impl, &a, SMPP_STATE_REJECTED, 1, &f), 1);
        CHECK_EQ(f.newly_final, 1);
        CHECK_EQ(f.mt_final, 0);
        CHECK_EQ(s.ops->part_final(s.impl, &b, SMPP_STATE_DELIVERED, 1, &f), 1);
        CHECK_EQ(f.mt_final, 1);
        CHECK_EQ(f.mt_state, SMPP_STATE_REJECTED);
        struct smx_key128 unknown = key_of("zz");
        CHECK_EQ(s.ops->part_final(s.impl, &unknown, SMPP_STATE_DELIVERED, 1, &f), 0);
        s.ops->destroy(s.impl);
}

static void test_state_rank_order(void)
{
        CHECK(smx_corr_state_rank(SMPP_STATE_REJECTED) > smx_corr_state_rank(SMPP_STATE_UNDELIVERABLE));
        CHECK(smx_corr_state_rank(SMPP_STATE_UNDELIVERABLE) > smx_corr_state_rank(SMPP_STATE_EXPIRED));
        CHECK(smx_corr_state_rank(SMPP_STATE_EXPIRED) > smx_corr_state_rank(SMPP_STATE_DELETED));
        CHECK(smx_corr_state_rank(SMPP_STATE_DELETED) > smx_corr_state_rank(SMPP_STATE_UNKNOWN));
        CHECK(smx_corr_state_rank(SMPP_STATE_UNKNOWN) > smx_corr_state_rank(SMPP_STATE_DELIVERED));
        CHECK(!smx_corr_state_is_final(SMPP_STATE_ENROUTE));
        CHECK(!smx_corr_state_is_final(SMPP_STATE_ACCEPTED));
}

static void test_dedup_claim_busy_commit_seen(void)
{
        struct smx_dedup_store d;
        struct smx_dedup_config c = { .capacity = 100, .window_ms = 1000 };
        CHECK_EQ(smx_dedup_mem_open(&c, &d), 0);
        struct smx_key128 k = key_of("dr");
        CHECK_EQ(d.ops->claim(d.impl, &k, 0), SMX_DEDUP_NEW);
        CHECK_EQ(d.ops->claim(d.impl, &k, 0), SMX_DEDUP_BUSY);
        d.ops->commit(d.impl, &k, 0);
        CHECK_EQ(d.ops->claim(d.impl, &k, 999), SMX_DEDUP_SEEN);
        CHECK_EQ(d.ops->claim(d.impl, &k, 1000), SMX_DEDUP_NEW);     /* window over */
        d.ops->destroy(d.impl);
}

static void test_dedup_abort_leaves_no_trace(void)
{
        struct smx_dedup_store d;
        struct smx_dedup_config c = { .capacity = 100, .window_ms = 1000 };
        CHECK_EQ(smx_dedup_mem_open(&c, &d), 0);
        struct smx_key128 k = key_of("mo");
        CHECK_EQ(d.ops->claim(d.impl, &k, 0), SMX_DEDUP_NEW);
        d.ops->abort(d.impl, &k);
        struct smx_dedup_stats st;
        d.ops->stats(d.impl, &st);
        CHECK_EQ(st.entries, 0);
        CHECK_EQ(d.ops->claim(d.impl, &k, 1), SMX_DEDUP_NEW);
        d.ops->destroy(d.impl);
}

static void test_dedup_at_capacity_forgets_oldest_and_stays_bounded(void)
{
        struct smx_dedup_store d;
        struct smx_dedup_config c = { .capacity = 256, .window_ms = 100000 };
        CHECK_EQ(smx_dedup_mem_open(&c, &d), 0);
        char id[32];
        for (int i = 0; i < 5000; i++) {
                snprintf(id, sizeof id, "i%d", i);
                struct smx_key128 k = key_of(id);
                CHECK_EQ(d.ops->claim(d.impl, &k, (uint64_t)i), SMX_DEDUP_NEW);
                d.ops->commit(d.impl, &k, (uint64_t)i);
        }
        struct smx_dedup_stats st;
        d.ops->stats(d.impl, &st);
        CHECK(st.entries <= 256);
        CHECK(st.evicted >= 5000 - 256);
        /* the newest are still remembered, the oldest forgotten */
        struct smx_key128 newest = key_of("i4999"), oldest = key_of("i0");
        CHECK_EQ(d.ops->claim(d.impl, &newest, 5000), SMX_DEDUP_SEEN);
        CHECK_EQ(d.ops->claim(d.impl, &oldest, 5000), SMX_DEDUP_NEW);
        d.ops->destroy(d.impl);
}

static void test_accepted_with_full_store_returns_enospc_and_counts(void)
{
        struct smx_inbound_config c;
        inbound_config_init(&c);
        c.corr_capacity = 256;
        c.corr_ttl_ms = 100000;
        struct smx_inbound *in = inbound_create(&c);
        struct smx_event_ring *ring = event_ring_create(16);
        struct smx_bind_info b = { 0 };
        char id[32];
        int rc = 0;
        for (int i = 0; i < 257 && rc == 0; i++) {
                snprintf(id, sizeof id, "%d", i);
                rc = inbound_on_accepted_w(in, &b, (const uint8_t *)id, strlen(id), "a", 1,
                                           (uint64_t)i, 0, 1, ring, 0);
        }
        CHECK_EQ(rc, -ENOSPC);
        struct smx_inbound_stats st;
        inbound_stats(in, &st);
        CHECK_EQ(st.corr_full, 1);
        CHECK_EQ(st.corr_entries, 256);
        event_ring_destroy(ring);
        inbound_destroy(in);
}

static void test_park_full_of_holes_compacts_instead_of_evicting(void)
{
        struct smx_inbound_config c;
        inbound_config_init(&c);
        c.park_capacity = 8;                    /* one shard of 8 */
        struct smx_inbound *in = inbound_create(&c);
        struct smx_event_ring *ring = event_ring_create(64);
        struct smx_bind_info b = { 0 };
        struct smx_pdu p;
        char id[32];
        /* park 8, then match 7 of them (holes), keeping the oldest */
        for (int i = 0; i < 8; i++) {
                snprintf(id, sizeof id, "h%d", i);
                fx_dr(&p, id, SMPP_STATE_DELIVERED, NULL);
                CHECK_EQ(inbound_on_deliver_w(in, &b, &p, ring, 1000), SMPP_ESME_ROK);
        }
        for (int i = 1; i < 8; i++) {
                snprintf(id, sizeof id, "h%d", i);
                CHECK_EQ(inbound_on_accepted_w(in, &b, (const uint8_t *)id, strlen(id), "x", 1,
                                               (uint64_t)i, 0, 1, ring, 1001), 1);
        }
        CHECK_EQ(fx_discard(ring), 7);
        /* 7 new ones fit without pushing h0 out */
        for (int i = 8; i < 15; i++) {
                snprintf(id, sizeof id, "h%d", i);
                fx_dr(&p, id, SMPP_STATE_DELIVERED, NULL);
                CHECK_EQ(inbound_on_deliver_w(in, &b, &p, ring, 1002), SMPP_ESME_ROK);
        }
        CHECK_EQ(fx_discard(ring), 0);
        struct smx_inbound_stats st;
        inbound_stats(in, &st);
        CHECK_EQ(st.park_evicted, 0);
        CHECK_EQ(st.park_now, 8);
        /* the ninth live one pushes out the oldest, h0, uncorrelated */
        fx_dr(&p, "h15", SMPP_STATE_DELIVERED, NULL);
        CHECK_EQ(inbound_on_deliver_w(in, &b, &p, ring, 1003), SMPP_ESME_ROK);
        struct smx_ev_rec *e = event_ring_peek(ring);
        CHECK(e != NULL);
        if (e) {
                CHECK_STR(e->message_id, "h0");
                CHECK(!(e->flags & SMX_EVF_HAS_ID));
                event_ring_release(ring);
        }
        /* and the rest still match */
        CHECK_EQ(inbound_on_accepted_w(in, &b, (const uint8_t *)"h12", 3, "x", 1, 12, 0, 1,
                                       ring, 1004), 1);
        event_ring_destroy(ring);
        inbound_destroy(in);
}

static long rss_kb(void)
{
        FILE *f = fopen("/proc/self/statm", "r");
        long pages = 0, rss = 0;
        if (!f)
                return 0;
        if (fscanf(f, "%ld %ld", &pages, &rss) != 2)
                rss = 0;
        fclose(f);
        return rss * 4;
}

static void test_parked_dr_flood_is_bounded_and_delivered_oldest_first(void)
{
        /* N-13: DRs for ids never submitted; park holds 1024, the rest push
         * the oldest out as uncorrelated events; memory stays flat. */
        struct smx_inbound_config c;
        inbound_config_init(&c);
        c.park_capacity = 1024;
        c.dedup_capacity = 1u << 14;
        c.corr_capacity = 1u << 12;
        struct smx_inbound *in = inbound_create(&c);
        struct smx_event_ring *ring = event_ring_create(1024);
        struct smx_bind_info b = { 0 };
        struct smx_pdu p;
        char id[32];
        const int n = 300000;
        long rss_mid = 0;
        int first_ok = 1;
        uint64_t events = 0;
        for (int i = 0; i < n; i++) {
                snprintf(id, sizeof id, "flood-%d", i);
                fx_dr(&p, id, SMPP_STATE_DELIVERED, NULL);
                CHECK_EQ(inbound_on_deliver_w(in, &b, &p, ring, (uint64_t)i / 100), SMPP_ESME_ROK);
                struct smx_ev_rec *e;
                while ((e = event_ring_peek(ring)) != NULL) {
                        /* the first evicted is one of the very first parked */
                        if (events == 0) {
                                int num = atoi(e->message_id + 6);
                                first_ok = num < 1024;
                        }
                        if (e->flags & SMX_EVF_HAS_ID)
                                first_ok = 0;
                        events++;
                        event_ring_release(ring);
                }
                if (i == n / 3)
                        rss_mid = rss_kb();
        }
        long rss_end = rss_kb();
        struct smx_inbound_stats st;
        inbound_stats(in, &st);
        CHECK(first_ok);
        CHECK(st.park_now <= 1024);
        CHECK_EQ(st.park_evicted + st.park_now, (uint64_t)n);
        CHECK_EQ(events, st.park_evicted);
        CHECK(st.dedup_entries <= (1u << 14));
        /* flat: no growth between a third and the end of the flood */
        CHECK(rss_end - rss_mid < 2048);
        printf("# flood: %d DRs, parked %llu, evicted %llu, rss %ld -> %ld kB\n", n,
               (unsigned long long)st.park_now, (unsigned long long)st.park_evicted,
               rss_mid, rss_end);
        event_ring_destroy(ring);
        inbound_destroy(in);
}

int main(void)
{
        RUN(test_corr_put_get_roundtrip_short_and_long_app_ids);
        RUN(test_corr_entry_expires_after_ttl);
        RUN(test_corr_timer_sweeps_a_shard_at_most_once_a_second);
        RUN(test_corr_full_refuses_then_reuses_expired_space);
        RUN(test_corr_slot_is_64_bytes_and_load_at_most_two_thirds);
        RUN(test_corr_put_same_key_replaces);
        RUN(test_corr_deletes_keep_probe_chains_intact);
        RUN(test_corr_part_final_merges_worst_state);
        RUN(test_state_rank_order);
        RUN(test_dedup_claim_busy_commit_seen);
        RUN(test_dedup_abort_leaves_no_trace);
        RUN(test_dedup_at_capacity_forgets_oldest_and_stays_bounded);
        RUN(test_accepted_with_full_store_returns_enospc_and_counts);
        RUN(test_park_full_of_holes_compacts_instead_of_evicting);
        RUN(test_parked_dr_flood_is_bounded_and_delivered_oldest_first);
        return t_done();
}
