/* MTs whose submit_sm body smx_submit pre-encoded (src/core/mt_pre.h) keep
 * their identity when they are re-sent, whichever bind re-sends them: one
 * whose settings match the client's profile (the body sent as is) or one
 * whose data_coding map differs (the worker encodes the MT from the slot's
 * fields, read back out of the body). Against smsc-sim, whose service
 * deduplicates by the identity TLV (R5): a re-sent copy with another
 * identity would be a new message, delivered to the handset a second time.
 *
 * Two sites of two SMSCs; the SMSCs of the site the first SMSC is not on
 * use the generic data_coding map (GSM is data_coding 0 there, 2 on the
 * service map of the first site), so a GSM text is pre-encoded for the first
 * site only, and a UCS-2 text (data_coding 8 on both maps) for both. The
 * first site drops submit_sm responses, then is killed: its MTs in flight,
 * those already delivered among them, go to the other site. */
#include "itest.h"

static struct it_env E;

static uint64_t handset_delivered(void)
{
        return (uint64_t)it_json_num(it_summary(&E), "\"handset\"", "delivered");
}

static void submit_texts(uint64_t n, const char *text, enum smx_encoding enc, int want_dr)
{
        for (uint64_t i = 0; i < n; i++) {
                char id[32];
                struct smx_mt mt = it_mt(E.next_mt, id, text);
                mt.encoding = enc;
                mt.want_dr = want_dr;
                mt.priority = (uint8_t)(i % 4);
                int rc;
                while ((rc = smx_submit(E.c, &mt)) == SMX_EAGAIN) {
                        it_pump(&E);
                        it_sleep_ms(1);
                }
                CHECK_EQ(rc, 0);
                if (rc == 0)
                        E.next_mt++;
        }
}

static void test_resent_pre_encoded_mts_keep_their_identity_on_every_bind(void)
{
        CHECK_EQ(it_wait_active(&E, E.n, 10000), 1);
        const char *site0 = E.info[0].site;
        struct smx_bind_stats a[IT_MAX_SMSC], b[IT_MAX_SMSC];
        smx_client_binds(E.c, a, IT_MAX_SMSC);
        uint64_t base = E.next_mt, delivered0 = handset_delivered();
        for (size_t i = 0; i < E.n; i++)
                if (!strcmp(E.info[i].site, site0))
                        it_sim_ctl(&E, "drop-resp %s 40", E.info[i].name);
        uint64_t n = 0;
        submit_texts(300, "pre-encoded resend 1234", SMX_ENC_AUTO, 1);    /* GSM-plain */
        submit_texts(100, "\xd0\x96uk {pre} \xe2\x82\xac", SMX_ENC_AUTO, 0); /* UCS-2 */
        submit_texts(100, "pre \xc3\xa9t\xc3\xa9 latin", SMX_ENC_LATIN1, 1);
        n = E.next_mt - base;
        /* let the first site take its share (and drop its answers), then
         * kill it: what it held moves to the other site */
        it_wait_outcomes(&E, base + n - 100, 1500);
        for (size_t i = 0; i < E.n; i++)
                if (!strcmp(E.info[i].site, site0))
                        it_sim_ctl(&E, "kill %s", E.info[i].name);
        CHECK_EQ(it_wait_outcomes(&E, base + n, 40000), 1);
        CHECK_EQ(E.failed, 0);
        CHECK_EQ(it_bad_outcomes(&E, E.next_mt), 0);
        const char *j = it_summary(&E);
        CHECK(it_json_num(j, "\"totals\"", "resp_dropped") >= 1);
        CHECK(it_json_num(j, "\"handset\"", "service_duplicates") >= 1);
        /* each MT reached the handset exactly once: every re-sent copy was
         * recognised by its identity, on whichever site it arrived */
        CHECK_EQ(handset_delivered() - delivered0, n);
        CHECK_EQ(it_json_num(j, "\"handset\"", "duplicates"), 0);
        CHECK_EQ(it_json_num(j, NULL, "violation_count"), 0);
        if (it_json_num(j, NULL, "violation_count") != 0)
                it_print_violations(&E);
        smx_client_binds(E.c, b, IT_MAX_SMSC);
        uint64_t other = 0, resent = 0;
        for (size_t i = 0; i < E.n; i++) {
                if (strcmp(E.info[i].site, site0))
                        other += b[i].accepted - a[i].accepted;
                resent += b[i].resent - a[i].resent;
        }
        CHECK(other >= 1);      /* the other site (generic map) carried MTs */
        CHECK(resent >= 1);
        for (size_t i = 0; i < E.n; i++)
                if (!strcmp(E.info[i].site, site0))
                        it_sim_ctl(&E, "restore %s", E.info[i].name);
        CHECK_EQ(it_wait_active(&E, E.n, 10000), 1);
}

int main(void)
{
        if (it_sim_start(&E, "dc3,bos", 2, 2.0) < 0) {
                printf("not ok 1 - setup\n1..1\n");
                return 1;
        }
        for (size_t i = 0; i < E.n; i++)
                if (strcmp(E.info[i].site, E.info[0].site))
                        E.smsc[i].data_coding = "generic";
        if (it_client_start(&E) < 0) {
                printf("not ok 1 - setup\n1..1\n");
                return 1;
        }
        RUN(test_resent_pre_encoded_mts_keep_their_identity_on_every_bind);
        smx_client_drain(E.c, 5000);
        it_stop(&E);
        return t_done();
}
