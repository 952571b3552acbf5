/* msgid_norm dec_to_hex against smsc-sim (SERVICE.md R3, R6; Kannel's
 * msg-id-type 2): every simulated SMSC answers submit_sm_resp with a decimal
 * id (msgid_style dec) and writes the id in upper-case hex in the receipt
 * text only (dr_msgid_style HEX, dr_msgid_in text: no receipted_message_id
 * TLV), as such SMSCs do; the client has msgid_norm = dec_to_hex on every
 * SMSC. Every DR must reach the application once, correlated to the MT that
 * produced it, with the hex id as the receipt wrote it:
 *   - DRs after their resp, half of them on the other site's bind;
 *   - DRs written before their resp (parked, then matched by the resp). */
#include "itest.h"

static struct it_env E;
static struct it_ledger L = { .prefix = "hx-" };
static uint64_t next_k;

static const char *t_site_of(const char *smsc)
{
        for (size_t i = 0; i < E.n; i++)
                if (!strcmp(E.info[i].name, smsc))
                        return E.info[i].site;
        return "?";
}

static void t_pump(void)
{
        it_ledger_pump(&L, E.c);
}

static double t_total(const char *key)
{
        return it_json_num(it_summary(&E), "\"totals\"", key);
}

/* The client's inbound counter `key` (smx_stats_render JSON). */
static double t_inbound(const char *key)
{
        char *json = NULL;
        if (smx_stats_render(E.c, SMX_STATS_JSON, &json, NULL) < 0 || !json)
                return -1;
        double v = it_json_num(json, "\"inbound\"", key);
        free(json);
        return v;
}

/* Submit n MTs numbered from next_k, wait for each one's outcome; returns
 * the first number. */
static uint64_t t_submit_n(uint64_t n)
{
        uint64_t first = next_k;
        for (uint64_t i = 0; i < n; i++, next_k++) {
                char id[32];
                snprintf(id, sizeof id, "%s%llu", L.prefix, (unsigned long long)next_k);
                struct smx_mt mt = { .id = id, .from = "12345", .to = "447700900001",
                                     .text = "hex receipt", .want_dr = 1 };
                CHECK_EQ(it_submit_pumping(E.c, &mt, t_pump), 0);
        }
        it_await_each_outcome(L.sub_seen, first, next_k, t_pump, 30000);
        return first;
}

/* Pump until `want` DRs came (or 20 s), then 500 ms more so a duplicate or
 * a late uncorrelated copy would show. */
static void t_settle(size_t want)
{
        uint64_t end = it_now_ms() + 20000;
        while (L.n_drs < want && it_now_ms() < end) {
                t_pump();
                it_sleep_ms(5);
        }
        uint64_t q = it_now_ms() + 500;
        while (it_now_ms() < q) {
                t_pump();
                it_sleep_ms(5);
        }
}

static int is_decimal(const char *s)
{
        if (!*s)
                return 0;
        for (; *s; s++)
                if (*s < '0' || *s > '9')
                        return 0;
        return 1;
}

/* The DR id is the resp's decimal id written in upper-case hex. */
static int hex_of(const char *hex, const char *dec)
{
        unsigned long long h = strtoull(hex, NULL, 16), d = strtoull(dec, NULL, 10);
        char again[32];
        snprintf(again, sizeof again, "%llX", h);
        return h == d && !strcmp(again, hex);
}

/* Every MT in [first, next_k) has one outcome and one DR, correlated to it,
 * its id the resp's decimal id in hex; returns how many crossed sites. */
static size_t t_check(uint64_t first, uint64_t n)
{
        unsigned per[IT_LEDGER_MT] = { 0 };
        size_t bad = 0, uncorrelated = 0, cross = 0, written_unlike = 0;
        for (uint64_t k = first; k < next_k; k++)
                if (L.sub_seen[k] != 1 || !is_decimal(L.sub_msgid[k]))
                        bad++;
        CHECK_EQ(bad, 0);
        CHECK_EQ(L.n_drs, n);
        CHECK_EQ(L.n_drs_lost, 0);
        for (size_t i = 0; i < L.n_drs; i++) {
                long k = L.drs[i].k;
                if (k < 0) {
                        uncorrelated++;
                        continue;
                }
                if (k < (long)first || k >= (long)next_k ||
                    !hex_of(L.drs[i].msgid, L.sub_msgid[k])) {
                        printf("# DR %s k=%ld: resp id %s\n", L.drs[i].msgid, k,
                               k >= 0 && k < IT_LEDGER_MT ? L.sub_msgid[k] : "-");
                        bad++;
                        continue;
                }
                per[k]++;
                written_unlike += strcmp(L.drs[i].msgid, L.sub_msgid[k]) != 0;
                cross += strcmp(t_site_of(L.drs[i].smsc), t_site_of(L.sub_smsc[k])) != 0;
        }
        CHECK_EQ(uncorrelated, 0);
        CHECK_EQ(bad, 0);
        size_t not_once = 0;
        for (uint64_t k = first; k < next_k; k++)
                not_once += per[k] != 1;
        CHECK_EQ(not_once, 0);
        /* ids past 9 are written differently in hex: nearly all of them */
        CHECK(written_unlike + 10 >= L.n_drs);
        printf("# %zu DRs, %zu written unlike their resp id, %zu crossed sites\n", L.n_drs,
               written_unlike, cross);
        return cross;
}

static void t_knobs(double other_site, double before_resp)
{
        L.n_drs = L.n_drs_lost = 0;
        it_sim_ctl(&E, "set all msgid_style dec");
        it_sim_ctl(&E, "set all dr_msgid_style HEX");
        it_sim_ctl(&E, "set all dr_msgid_in text");
        it_sim_ctl(&E, "set all dr_accepted_prob 0");
        it_sim_ctl(&E, "set all dr_final_mix DELIVERED:100");
        it_sim_ctl(&E, "set all dr_delay_ms %s", before_resp > 0 ? "0" : "20-80");
        it_sim_ctl(&E, "set all other_site_prob %g", other_site);
        it_sim_ctl(&E, "set all dr_before_resp_prob %g", before_resp);
}

static void test_hex_text_receipts_of_decimal_resp_ids_correlate(void)
{
        t_knobs(0.5, 0);
        double dr0 = t_total("dr_sent");
        uint64_t first = t_submit_n(200);
        t_settle(200);
        CHECK_EQ(t_total("dr_sent") - dr0, 200);
        CHECK(t_check(first, 200) >= 40);       /* the knob sent many to the other site */
        CHECK_EQ(t_inbound("uncorrelated"), 0);
}

static void test_hex_receipts_before_the_resp_are_parked_then_matched(void)
{
        double parked0 = t_inbound("parked"), matched0 = t_inbound("park_matched");
        t_knobs(0.5, 1);
        double dr0 = t_total("dr_sent");
        uint64_t first = t_submit_n(150);
        t_settle(150);
        CHECK_EQ(t_total("dr_sent") - dr0, 150);
        t_check(first, 150);
        double parked = t_inbound("parked") - parked0, matched = t_inbound("park_matched") - matched0;
        printf("# parked %.0f, matched from the park %.0f\n", parked, matched);
        /* the resp waits >= 50 ms after its DR: most DRs had to wait for it */
        CHECK(parked >= 75);
        CHECK(matched >= 75);
        CHECK_EQ(t_inbound("uncorrelated"), 0);
}

int main(void)
{
        if (it_sim_start(&E, "dc3,bos", 1, 1.0) < 0 || E.n != 2) {
                printf("not ok 1 - setup\n1..1\n");
                return 1;
        }
        for (size_t b = 0; b < E.n; b++)
                E.smsc[b].msgid_norm = SMX_MSGID_NORM_DEC_TO_HEX;
        if (it_client_start(&E) < 0 || !it_wait_active(&E, E.n, 15000)) {
                printf("not ok 1 - setup\n1..1\n");
                return 1;
        }
        smx_log_configure(SMX_LOG_ERROR, NULL, NULL);
        RUN(test_hex_text_receipts_of_decimal_resp_ids_correlate);
        RUN(test_hex_receipts_before_the_resp_are_parked_then_matched);
        smx_client_drain(E.c, 3000);
        t_pump();
        CHECK_EQ(L.n_drs_lost, 0);
        it_stop(&E);
        return t_done();
}
