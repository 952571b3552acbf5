/* Inbound path against smsc-sim (SERVICE.md R3, R5, R6): DRs arriving on
 * binds of another site, DRs written before their submit_sm_resp, deliver_sm
 * re-sent by the service on another bind, multipart MTs (UDH 8/16-bit, SAR,
 * message_payload), multipart MOs out of order across binds, and message_id
 * styles that differ per SMSC. Every test records each event the library
 * hands out (it_ledger, itest.h) and checks it against the simulator's ledger: every DR reaches
 * the application once, correlated to the MT that produced it, and every MO
 * once, whole. */
#include "itest.h"

static struct it_env E;
static struct it_ledger L = { .prefix = "in-" };
static uint64_t next_k;

static void t_reset(void)
{
        memset(L.sub_seen, 0, sizeof L.sub_seen);
        memset(L.sub_msgid, 0, sizeof L.sub_msgid);
        L.n_drs = L.n_drs_lost = L.n_uncorrelated = 0;
        L.n_mos = L.n_mos_lost = 0;
}

static void t_pump(void)
{
        it_ledger_pump(&L, E.c);
}

/* Pump until at least `want_drs` DRs and `want_mos` MOs came (or the
 * timeout), then keep pumping `quiet_ms` so a duplicate would show. */
static int t_settle(size_t want_drs, size_t want_mos, unsigned timeout_ms, unsigned quiet_ms)
{
        uint64_t end = it_now_ms() + timeout_ms;
        int ok = 0;
        while (it_now_ms() < end) {
                t_pump();
                if (L.n_drs >= want_drs && L.n_mos >= want_mos) {
                        ok = 1;
                        break;
                }
                it_sleep_ms(5);
        }
        uint64_t q = it_now_ms() + quiet_ms;
        while (it_now_ms() < q) {
                t_pump();
                it_sleep_ms(5);
        }
        return ok;
}

static double t_total(const char *key)
{
        return it_json_num(it_summary(&E), "\"totals\"", key);
}

static int t_submit(uint64_t k, const char *text)
{
        char id[32];
        snprintf(id, sizeof id, "%s%llu", L.prefix, (unsigned long long)k);
        struct smx_mt mt = { .id = id, .from = "12345", .to = "447700900001",
                             .text = text, .want_dr = 1 };
        return it_submit_pumping(E.c, &mt, t_pump);
}

/* Submit n MTs; returns the first MT number. Waits for every outcome. */
static uint64_t t_submit_n(uint64_t n, const char *text)
{
        uint64_t first = next_k;
        for (uint64_t i = 0; i < n; i++)
                CHECK_EQ(t_submit(next_k++, text), 0);
        it_await_each_outcome(L.sub_seen, first, next_k, t_pump, 30000);
        return first;
}

/* Every MT in [first, next_k) has exactly one SUBMITTED outcome. */
static void t_check_one_outcome(uint64_t first)
{
        uint64_t bad = 0;
        for (uint64_t k = first; k < next_k; k++)
                if (L.sub_seen[k] != 1 || !L.sub_msgid[k][0])
                        bad++;
        CHECK_EQ(bad, 0);
}

/* How many DRs share (message_id, state) with DR i (itself included). */
static size_t t_same_dr(size_t i)
{
        size_t c = 0;
        for (size_t j = 0; j < L.n_drs; j++)
                c += L.drs[j].state == L.drs[i].state && !strcmp(L.drs[j].msgid, L.drs[i].msgid);
        return c;
}

static const char *t_site_of(const char *smsc)
{
        for (size_t b = 0; b < E.n; b++)
                if (!strcmp(E.info[b].name, smsc))
                        return E.info[b].site;
        return "";
}

static int t_exact_id(const char *a, const char *b)
{
        return strcmp(a, b) == 0;
}

/* a and b name the same number: equal but for case and leading zeros */
static int t_same_id(const char *a, const char *b)
{
        while (*a == '0' && a[1])
                a++;
        while (*b == '0' && b[1])
                b++;
        return strcasecmp(a, b) == 0;
}

/* On a failure: the library's inbound counters and each bind's health. */
static void t_print_inbound_stats(void)
{
        char *out = NULL;
        size_t len = 0;
        if (smx_stats_render(E.c, SMX_STATS_JSON, &out, &len) == 0) {
                const char *in = strstr(out, "\"inbound\"");
                printf("# %.1500s\n", in ? in : out);
                free(out);
        }
        const char *j = it_summary(&E), *tot = strstr(j, "\"totals\""),
                   *viol = strstr(j, "\"violations\"");
        printf("# sim %.900s\n# sim %.700s\n", tot ? tot : j, viol ? viol : "");
        struct smx_bind_stats st[IT_MAX_SMSC];
        size_t n = smx_client_binds(E.c, st, IT_MAX_SMSC);
        for (size_t i = 0; i < n && i < IT_MAX_SMSC; i++)
                printf("# bind %s (worker %u) health %d submitted %llu drs %llu last down: %s\n",
                       st[i].name, st[i].worker, (int)st[i].health,
                       (unsigned long long)st[i].submitted, (unsigned long long)st[i].drs,
                       st[i].last_down);
}

/* Single-part MTs of [first, next_k): every DR is correlated to one of them
 * whose resp id same_id() accepts as the DR's id, is part 1 of 1 and its
 * one final DR completes it; each MT got exactly one DR (no ACCEPTED before
 * it). Returns how many DRs were written differently from their resp id;
 * *cross (when given) counts those that crossed sites. */
static size_t t_check_drs_by(uint64_t first, int (*same_id)(const char *, const char *),
                             size_t *cross)
{
        uint64_t per[IT_LEDGER_MT] = { 0 };
        size_t wrong = 0, differ = 0, crossed = 0;
        for (size_t i = 0; i < L.n_drs; i++) {
                long k = L.drs[i].k;
                if (k < (long)first || k >= (long)next_k ||
                    !same_id(L.drs[i].msgid, L.sub_msgid[k])) {
                        if (wrong++ < 5)
                                printf("# DR %s on %s: k=%ld submitted id %s\n", L.drs[i].msgid,
                                       L.drs[i].smsc, k, k >= 0 ? L.sub_msgid[k] : "-");
                        continue;
                }
                per[k]++;
                differ += strcmp(L.drs[i].msgid, L.sub_msgid[k]) != 0;
                crossed += strcmp(t_site_of(L.drs[i].smsc), t_site_of(L.sub_smsc[k])) != 0;
                if (L.drs[i].part != 1 || L.drs[i].parts != 1 || !L.drs[i].mt_final ||
                    L.drs[i].mt_state != L.drs[i].state)
                        wrong++;
        }
        CHECK_EQ(wrong, 0);
        uint64_t not_once = 0;
        for (uint64_t k = first; k < next_k; k++) {
                if (per[k] != 1 && not_once < 10)
                        printf("# MT %llu (resp id %s on %s): %llu DRs\n", (unsigned long long)k,
                               L.sub_msgid[k], L.sub_smsc[k], (unsigned long long)per[k]);
                not_once += per[k] != 1;
        }
        if (not_once)
                t_print_inbound_stats();
        CHECK_EQ(not_once, 0);
        CHECK_EQ(L.n_uncorrelated, 0);
        if (cross)
                *cross = crossed;
        return differ;
}

/* Each DR carries its MT's message_id exactly as the submit_sm_resp had it. */
static void t_check_single_part_drs(uint64_t first)
{
        t_check_drs_by(first, t_exact_id, NULL);
}

static void t_knobs_default(void)
{
        it_sim_ctl(&E, "set all other_site_prob 0");
        it_sim_ctl(&E, "set all dr_before_resp_prob 0");
        it_sim_ctl(&E, "set all dr_accepted_prob 0");
        it_sim_ctl(&E, "set all dr_delay_ms 20-80");
        it_sim_ctl(&E, "set all deliver_timeout_ms 10000");
        it_sim_ctl(&E, "set all deliver_max_sends 5");
        it_sim_ctl(&E, "set all mo_multipart_prob 0");
        it_sim_ctl(&E, "set all mo_sar_prob 0");
        it_sim_ctl(&E, "set all mo_udh16_prob 0");
        it_sim_ctl(&E, "set all mo_out_of_order_prob 0");
        it_sim_ctl(&E, "set all msgid_style HEX");
        it_sim_ctl(&E, "set all dr_msgid_style same");
        it_sim_ctl(&E, "set all dr_msgid_in tlv");
        it_sim_ctl(&E, "set all dr_final_mix DELIVERED:100");
}

static void test_cross_site_drs_correlate_to_their_mt_once(void)
{
        CHECK_EQ(it_wait_active(&E, E.n, 10000), 1);
        t_knobs_default();
        t_reset();
        it_sim_ctl(&E, "set all other_site_prob 0.9");
        double dr0 = t_total("dr_sent");
        uint64_t first = t_submit_n(200, "cross-site receipt");
        t_check_one_outcome(first);
        CHECK_EQ(t_settle(200, 0, 15000, 500), 1);
        CHECK_EQ(t_total("dr_sent") - dr0, 200);
        CHECK_EQ(L.n_drs, 200);
        t_check_single_part_drs(first);
        size_t cross = 0;
        for (size_t i = 0; i < L.n_drs; i++)
                if (L.drs[i].k >= 0 &&
                    strcmp(t_site_of(L.drs[i].smsc), t_site_of(L.sub_smsc[L.drs[i].k])))
                        cross++;
        CHECK(cross >= 100);   /* the knob did send most of them to the other site */
}

static void test_dr_before_resp_is_parked_and_matched(void)
{
        t_knobs_default();
        t_reset();
        it_sim_ctl(&E, "set all dr_before_resp_prob 1");
        it_sim_ctl(&E, "set all dr_delay_ms 0");
        it_sim_ctl(&E, "set all other_site_prob 0.5");
        double dr0 = t_total("dr_sent");
        uint64_t first = t_submit_n(200, "early receipt");
        t_check_one_outcome(first);
        CHECK_EQ(t_settle(200, 0, 15000, 500), 1);
        CHECK_EQ(t_total("dr_sent") - dr0, 200);
        CHECK_EQ(L.n_drs, 200);
        t_check_single_part_drs(first);
}

/* How often the service sends one deliver_sm in the re-send tests before it
 * gives up on it. Each send waits 150 ms for our resp, so most copies put on a
 * dripping bind time out and go out again; a copy is only lost when every
 * send of it went to a dripping bind and that bind is then closed with the
 * copy still queued in the service (our enquire_link, answered behind the
 * drip, times out: HOSTILE D-15). With 4 sends that happened to a few DRs
 * per run on a loaded machine (the service gave up on them: its ledger's
 * deliver_unacked; our `drs` counter never saw them), a loss in the test's
 * set-up, not in the library. With 16 a copy reaches a bind that is not
 * dripping (p ~ 0.4^15 that none does). */
#define T_RESEND_MAX_SENDS 16u

static void test_resent_deliver_sm_reaches_app_once(void)
{
        t_knobs_default();
        t_reset();
        /* one SMSC per site drips its output at 400 B/s while the service
         * waits only 150 ms for our deliver_sm_resp: a deliver_sm still
         * trickling out is re-sent on another bind, then arrives twice */
        it_sim_ctl(&E, "set all deliver_timeout_ms 150");
        it_sim_ctl(&E, "set all deliver_max_sends %u", T_RESEND_MAX_SENDS);
        it_sim_ctl(&E, "set all dr_delay_ms 400-800");
        it_sim_ctl(&E, "set all other_site_prob 0.3");
        double dr0 = t_total("dr_sent"), mo0 = t_total("mo_sent");
        double rs0 = t_total("deliver_sm_resent");
        uint64_t first = t_submit_n(150, "resent receipt");
        it_sim_ctl(&E, "slow %s 400", E.info[0].name);
        it_sim_ctl(&E, "slow %s 400", E.info[2].name);
        it_sim_ctl(&E, "mo all 10");
        t_check_one_outcome(first);
        /* The re-sends happen while the drip runs; a copy still trickling
         * out of a slow bind may take longer than any fixed wait on a loaded
         * machine, so the drip is stopped before the counts are awaited:
         * what is asserted is "each once", not how fast the drip is. */
        t_settle(150, 10 * E.n, 20000, 0);
        it_sim_ctl(&E, "slow all off");
        CHECK_EQ(t_settle(150, 10 * E.n, 30000, 3000), 1);
        double resent = t_total("deliver_sm_resent") - rs0;
        printf("# deliver_sm re-sent by the service: %.0f\n", resent);
        CHECK(resent >= 20);
        CHECK_EQ(t_total("dr_sent") - dr0, 150);
        CHECK_EQ(t_total("mo_sent") - mo0, 10 * E.n);
        CHECK_EQ(L.n_drs, 150);
        CHECK_EQ(L.n_mos, 10 * E.n);
        t_check_single_part_drs(first);
        size_t dup = 0;
        for (size_t i = 0; i < L.n_drs; i++)
                dup += t_same_dr(i) != 1;
        CHECK_EQ(dup, 0);
        size_t mo_dup = 0;
        for (size_t i = 0; i < L.n_mos; i++)
                for (size_t j = i + 1; j < L.n_mos; j++)
                        mo_dup += !strcmp(L.mos[i].text, L.mos[j].text);
        CHECK_EQ(mo_dup, 0);
}

/* Segments per SMSC (the order of E.smsc): set in main. */
static const enum smx_segment_mode seg_modes[4] = {
        SMX_SEGMENT_UDH8, SMX_SEGMENT_SAR, SMX_SEGMENT_PAYLOAD, SMX_SEGMENT_UDH16,
};

static unsigned t_parts_on(const char *smsc)
{
        for (size_t b = 0; b < E.n && b < 4; b++)
                if (!strcmp(E.info[b].name, smsc))
                        return seg_modes[b] == SMX_SEGMENT_PAYLOAD ? 1 : 3;
        return 0;
}

static void test_multipart_mt_one_outcome_one_dr_per_part_one_merged_final(void)
{
        t_knobs_default();
        t_reset();
        char text[401];
        for (int i = 0; i < 400; i++)
                text[i] = (char)('a' + i % 26);
        text[400] = 0;          /* 400 GSM characters: 3 parts of 153 (or one payload) */
        it_sim_ctl(&E, "set all dr_final_mix DELIVERED:70,UNDELIVERABLE:30");
        double acc0 = t_total("submit_sm_accepted"), dr0 = t_total("dr_sent");
        /* Each worker routes only over its own binds (worker 0: the UDH8
         * and payload SMSCs, worker 1: SAR and UDH16), and on a loaded
         * machine the worker already running takes a whole batch (seen: 8
         * batches of 40 in a row to worker 1, no payload MT). So each worker
         * gets a batch of its own: the other worker's SMSCs are DRAINING
         * meanwhile (a worker with no ready bind takes no MT), and every
         * segment mode is used. */
        uint64_t first = next_k;
        size_t want = 0, modes_seen[2] = { 0, 0 };
        struct smx_bind_stats st[IT_MAX_SMSC];
        size_t nb = smx_client_binds(E.c, st, IT_MAX_SMSC);
        for (unsigned wk = 0; wk < 2; wk++) {
                char knob[SMX_NAME_MAX + 16], err[128];
                for (size_t b = 0; b < nb && b < IT_MAX_SMSC; b++) {
                        snprintf(knob, sizeof knob, "smsc.%.*s.admin", (int)SMX_NAME_MAX, st[b].name);
                        if (st[b].worker != wk)
                                CHECK_EQ(smx_knob_set(E.c, knob, "draining", err, sizeof err), 0);
                }
                uint64_t from = t_submit_n(20, text);
                for (size_t b = 0; b < nb && b < IT_MAX_SMSC; b++) {
                        snprintf(knob, sizeof knob, "smsc.%.*s.admin", (int)SMX_NAME_MAX, st[b].name);
                        CHECK_EQ(smx_knob_set(E.c, knob, "enabled", err, sizeof err), 0);
                }
                size_t elsewhere = 0;   /* on a DRAINING SMSC: must be none */
                for (uint64_t k = from; k < next_k; k++) {
                        unsigned p = t_parts_on(L.sub_smsc[k]);
                        want += p;
                        modes_seen[p == 1]++;
                        for (size_t b = 0; b < nb && b < IT_MAX_SMSC; b++)
                                elsewhere += !strcmp(st[b].name, L.sub_smsc[k]) &&
                                             st[b].worker != wk;
                }
                CHECK_EQ(elsewhere, 0);
        }
        t_check_one_outcome(first);
        if (!(modes_seen[0] > 0 && modes_seen[1] > 0))
                t_print_inbound_stats();
        CHECK(modes_seen[0] > 0 && modes_seen[1] > 0);
        CHECK_EQ(t_total("submit_sm_accepted") - acc0, want);
        CHECK_EQ(t_settle(want, 0, 15000, 500), 1);
        CHECK_EQ(t_total("dr_sent") - dr0, want);
        CHECK_EQ(L.n_drs, want);
        CHECK_EQ(L.n_uncorrelated, 0);
        uint64_t bad = 0, finals_wrong = 0, undeliverable_mts = 0;
        for (uint64_t k = first; k < next_k; k++) {
                unsigned p = t_parts_on(L.sub_smsc[k]), got = 0, first_part = 0, finals = 0;
                unsigned part_seen[4] = { 0 };
                enum smx_dr_state worst = SMX_DR_DELIVERED, merged = 0;
                for (size_t i = 0; i < L.n_drs; i++) {
                        if (L.drs[i].k != (long)k)
                                continue;
                        got++;
                        first_part += !strcmp(L.drs[i].msgid, L.sub_msgid[k]);
                        if (t_same_dr(i) != 1 || L.drs[i].parts != p || L.drs[i].part < 1 ||
                            L.drs[i].part > 3)
                                bad++;
                        else
                                part_seen[L.drs[i].part]++;
                        if (L.drs[i].part == 1 && strcmp(L.drs[i].msgid, L.sub_msgid[k]))
                                bad++;   /* part 1's DR carries the MT's (part 1's) id */
                        if (L.drs[i].state == SMX_DR_UNDELIVERABLE)
                                worst = SMX_DR_UNDELIVERABLE;
                        if (L.drs[i].mt_final) {
                                finals++;
                                merged = L.drs[i].mt_state;
                        }
                }
                for (unsigned q = 1; q <= p; q++)
                        if (part_seen[q] != 1)
                                bad++;
                undeliverable_mts += worst == SMX_DR_UNDELIVERABLE;
                if (finals != 1 || merged != worst) {
                        if (finals_wrong++ < 5)
                                printf("# MT %llu (%u parts): %u DRs flagged final, merged %d, worst %d\n",
                                       (unsigned long long)k, p, finals, (int)merged, (int)worst);
                }
                if (got != p || first_part != 1) {
                        if (bad++ < 5)
                                printf("# MT %llu on %s: %u DRs for %u parts, %u with part 1's id\n",
                                       (unsigned long long)k, L.sub_smsc[k], got, p, first_part);
                }
        }
        CHECK_EQ(finals_wrong, 0);
        CHECK(undeliverable_mts > 0);   /* the merge had a worst state to pick */
        CHECK_EQ(bad, 0);
}

static void test_multipart_mos_reassembled_once(void)
{
        t_knobs_default();
        t_reset();
        it_sim_ctl(&E, "set all mo_multipart_prob 1");
        it_sim_ctl(&E, "set all mo_sar_prob 0.4");
        it_sim_ctl(&E, "set all mo_udh16_prob 0.3");
        it_sim_ctl(&E, "set all mo_out_of_order_prob 0.5");
        it_sim_ctl(&E, "set all other_site_prob 0.6");
        it_sim_ctl(&E, "set all mo_text hello from the handset");
        double mo0 = t_total("mo_sent");
        it_sim_ctl(&E, "mo all 15");
        size_t want = 15 * E.n;
        CHECK_EQ(t_settle(0, want, 15000, 500), 1);
        CHECK_EQ(t_total("mo_sent") - mo0, want);
        CHECK_EQ(L.n_mos, want);
        size_t broken = 0, dup = 0;
        for (size_t i = 0; i < L.n_mos; i++) {
                if (!it_mo_whole(&L.mos[i]) && broken++ < 5)
                        printf("# MO parts=%u partial=%d: %.200s\n", L.mos[i].parts,
                               L.mos[i].partial, L.mos[i].text);
                for (size_t j = i + 1; j < L.n_mos; j++)
                        dup += !strcmp(L.mos[i].text, L.mos[j].text);
        }
        CHECK_EQ(broken, 0);
        CHECK_EQ(dup, 0);
}

static void test_mixed_message_id_styles_correlate(void)
{
        t_knobs_default();
        t_reset();
        static const char *styles[4] = { "dec", "hex0", "HEX", "dec0" };
        for (size_t b = 0; b < E.n && b < 4; b++)
                it_sim_ctl(&E, "set %s msgid_style %s", E.info[b].name, styles[b]);
        it_sim_ctl(&E, "set all other_site_prob 0.7");
        it_sim_ctl(&E, "set all dr_before_resp_prob 0.3");
        double dr0 = t_total("dr_sent");
        uint64_t first = t_submit_n(200, "styled ids");
        t_check_one_outcome(first);
        CHECK_EQ(t_settle(200, 0, 15000, 500), 1);
        CHECK_EQ(t_total("dr_sent") - dr0, 200);
        CHECK_EQ(L.n_drs, 200);
        t_check_single_part_drs(first);
        int zero = 0, lower = 0, upper = 0;
        for (uint64_t k = first; k < next_k; k++) {
                const char *m = L.sub_msgid[k];
                zero |= m[0] == '0';
                for (; *m; m++) {
                        lower |= *m >= 'a' && *m <= 'f';
                        upper |= *m >= 'A' && *m <= 'F';
                }
        }
        CHECK(zero && lower && upper);
}

/* Issue 12: each SMSC writes the id differently in its submit_sm_resp and
 * in its DRs (as third-party SMSCs do), the client has the DEFAULT
 * msgid_norm (auto) everywhere. Resp / DR styles per SMSC: */
static const char *style_pairs[4][3] = {
        { "HEX0", "hex", "tlv" },       /* 00004B2F1E -> 4b2f1e */
        { "hex", "HEX", "tlv" },        /* 4b2f1 -> 4B2F1 */
        { "dec0", "dec", "tlv" },       /* 000000102345 -> 102345 */
        { "dec", "dec0", "text" },      /* 102345 -> id:0000102345 in the text only */
};

static void t_set_id_styles(void)
{
        for (size_t b = 0; b < E.n && b < 4; b++) {
                it_sim_ctl(&E, "set %s msgid_style %s", E.info[b].name, style_pairs[b][0]);
                it_sim_ctl(&E, "set %s dr_msgid_style %s", E.info[b].name, style_pairs[b][1]);
                it_sim_ctl(&E, "set %s dr_msgid_in %s", E.info[b].name, style_pairs[b][2]);
        }
}

static void test_dr_ids_written_unlike_resp_ids_match_by_default(void)
{
        t_knobs_default();
        t_reset();
        t_set_id_styles();
        it_sim_ctl(&E, "set all other_site_prob 0.6");
        it_sim_ctl(&E, "set all dr_before_resp_prob 0.3");
        double dr0 = t_total("dr_sent");
        uint64_t first = t_submit_n(240, "styled receipt");
        t_check_one_outcome(first);
        CHECK_EQ(t_settle(240, 0, 15000, 500), 1);
        CHECK_EQ(t_total("dr_sent") - dr0, 240);
        CHECK_EQ(L.n_drs, 240);
        size_t cross = 0;
        size_t differ = t_check_drs_by(first, t_same_id, &cross);
        printf("# %zu of %zu DR ids written unlike their resp id, %zu crossed sites\n", differ,
               L.n_drs, cross);
        /* most are written differently (hex ids without a letter look alike
         * in both cases) */
        CHECK(differ * 2 >= L.n_drs);
        CHECK(cross >= 60);
}

/* The same styles while the service re-sends deliver_sm on other binds:
 * still one DR per MT. */
static void test_resent_styled_drs_reach_app_once(void)
{
        t_knobs_default();
        t_reset();
        t_set_id_styles();
        it_sim_ctl(&E, "set all deliver_timeout_ms 150");
        it_sim_ctl(&E, "set all deliver_max_sends %u", T_RESEND_MAX_SENDS);
        it_sim_ctl(&E, "set all dr_delay_ms 400-800");
        it_sim_ctl(&E, "set all other_site_prob 0.5");
        it_sim_ctl(&E, "set all dr_before_resp_prob 0.2");
        double dr0 = t_total("dr_sent"), rs0 = t_total("deliver_sm_resent");
        uint64_t first = t_submit_n(150, "styled resent");
        it_sim_ctl(&E, "slow %s 400", E.info[1].name);
        it_sim_ctl(&E, "slow %s 400", E.info[3].name);
        t_check_one_outcome(first);
        t_settle(150, 0, 20000, 0);          /* re-sends happen meanwhile */
        it_sim_ctl(&E, "slow all off");
        CHECK_EQ(t_settle(150, 0, 30000, 3000), 1);
        double resent = t_total("deliver_sm_resent") - rs0;
        printf("# styled deliver_sm re-sent by the service: %.0f\n", resent);
        CHECK(resent >= 10);
        CHECK_EQ(t_total("dr_sent") - dr0, 150);
        CHECK_EQ(L.n_drs, 150);
        size_t cross = 0;
        CHECK(t_check_drs_by(first, t_same_id, &cross) * 2 >= L.n_drs);
}

int main(void)
{
        if (it_sim_start(&E, "dc3,bos", 2, 1.0) < 0 || E.n != 4) {
                printf("not ok 1 - setup\n1..1\n");
                return 1;
        }
        for (size_t b = 0; b < E.n; b++)
                E.smsc[b].segment_mode = seg_modes[b];
        E.cfg.rebind_interval_ms = 1000;
        if (it_client_start(&E) < 0) {
                printf("not ok 1 - setup\n1..1\n");
                return 1;
        }
        smx_log_configure(SMX_LOG_ERROR, NULL, NULL);
        RUN(test_cross_site_drs_correlate_to_their_mt_once);
        RUN(test_dr_before_resp_is_parked_and_matched);
        RUN(test_resent_deliver_sm_reaches_app_once);
        RUN(test_multipart_mt_one_outcome_one_dr_per_part_one_merged_final);
        RUN(test_multipart_mos_reassembled_once);
        RUN(test_mixed_message_id_styles_correlate);
        RUN(test_dr_ids_written_unlike_resp_ids_match_by_default);
        RUN(test_resent_styled_drs_reach_app_once);
        CHECK_EQ(L.n_drs_lost + L.n_mos_lost, 0);
        smx_client_drain(E.c, 3000);
        it_stop(&E);
        return t_done();
}
