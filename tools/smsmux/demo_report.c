/* The final table of `smsmux demo` and the numbers its exit status rests on.
 *
 * lost       = MTs smx_submit() accepted that got no outcome event, plus MTs
 *              reported submitted that the simulated handsets never received
 *              (submitted - handset deliveries, when positive);
 * duplicated = handset duplicates (the simulator's ledger) + outcome events
 *              beyond the first for one MT + a DR state reported twice for
 *              one MT.
 * The shortest spacing between bind attempts comes from the simulator
 * (authoritative: it sees every attempt) and from the library's stats. */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "demo.h"

static uint64_t jnum(json_t *obj, const char *key)
{
        json_t *v = json_object_get(obj, key);
        return json_is_integer(v) && json_integer_value(v) > 0 ?
               (uint64_t)json_integer_value(v) : 0;
}

static double jspacing(json_t *obj)
{
        json_t *v = json_object_get(obj, "min_attempt_spacing_s");
        return json_is_number(v) ? json_number_value(v) : -1.0;
}

static json_t *sim_smsc(json_t *smscs, const char *name)
{
        size_t i;
        json_t *e;
        json_array_foreach(smscs, i, e) {
                json_t *n = json_object_get(e, "name");
                if (json_is_string(n) && !strcmp(json_string_value(n), name))
                        return e;
        }
        return NULL;
}

static void print_spacing(double s)
{
        if (s < 0)
                printf(" %9s", "-");
        else
                printf(" %9.1f", s);
}

/* One row per bind: the library's and the simulator's view of it; records
 * the library's shortest attempt spacing in r. */
static void report_smscs(const struct demo_book *b, smx_client *c, json_t *smscs,
                         struct demo_result *r)
{
        struct smx_bind_stats st[64];
        size_t k = smx_client_binds(c, st, 64);
        if (k > 64)
                k = 64;
        printf("\n%-12s %-5s %8s %9s %9s %9s %8s %6s %9s %8s\n", "SMSC", "site", "attempts",
               "min gap s", "sim acc", "submitted", "DRs", "MOs", "handset", "resent");
        for (size_t i = 0; i < k; i++) {
                json_t *s = sim_smsc(smscs, st[i].name);
                const struct smsc_tally *t = NULL;
                for (size_t j = 0; j < b->per.n; j++)
                        if (!strcmp(b->per.s[j].name, st[i].name))
                                t = &b->per.s[j];
                printf("%-12s %-5s %8llu", st[i].name, st[i].site,
                       (unsigned long long)(s ? jnum(s, "bind_attempts") : st[i].bind_attempts));
                print_spacing(s ? jspacing(s) : -1.0);
                printf(" %9llu %9llu %8llu %6llu %9llu %8llu\n",
                       (unsigned long long)(s ? jnum(s, "submit_sm_accepted") : 0),
                       (unsigned long long)(t ? t->submitted : 0),
                       (unsigned long long)(t ? t->drs : 0), (unsigned long long)(t ? t->mos : 0),
                       (unsigned long long)(s ? jnum(s, "handset_delivered") : 0),
                       (unsigned long long)st[i].resent);
                if (st[i].bind_attempts > 1 && st[i].min_attempt_spacing_ms &&
                    (r->lib_min_spacing_s < 0 ||
                     st[i].min_attempt_spacing_ms / 1000.0 < r->lib_min_spacing_s))
                        r->lib_min_spacing_s = st[i].min_attempt_spacing_ms / 1000.0;
        }
}

/* The numbers the verdict rests on, from the book and the ledger (root may
 * be NULL: then nothing counts as delivered). */
static void report_count(const struct demo_book *b, json_t *root, struct demo_result *r)
{
        json_t *handset = root ? json_object_get(root, "handset") : NULL;
        json_t *totals = root ? json_object_get(root, "totals") : NULL;
        for (size_t i = 0; i < b->n; i++) {
                if (b->outcomes[i] == 0)
                        r->no_outcome++;
                else if (b->outcomes[i] > 1)
                        r->extra_outcomes += b->outcomes[i] - 1u;
        }
        r->handset_delivered = jnum(handset, "delivered");
        r->handset_dups = jnum(handset, "duplicates");
        r->never_delivered = b->submitted > r->handset_delivered ?
                             b->submitted - r->handset_delivered : 0;
        r->lost = r->no_outcome + r->never_delivered;
        r->duplicated = r->handset_dups + r->extra_outcomes + b->dr_dups;
        r->sim_min_spacing_s = totals ? jspacing(totals) : -1.0;
        r->violations = root ? jnum(root, "violation_count") : 0;
        if (!root)     /* without the ledger nothing can be shown to be delivered */
                r->lost += b->submitted;
}

/* The summary lines and the RESULT line. */
static void report_summary(const struct demo_book *b, json_t *totals, double rebind_interval_s,
                           const struct demo_result *r)
{
        printf("\nMTs: %zu accepted by the library, %llu submitted, %llu failed "
               "(no_route %llu, rejected %llu, attempts %llu, shutdown %llu, encoding %llu)\n",
               b->n, (unsigned long long)b->submitted, (unsigned long long)b->failed,
               (unsigned long long)b->fail_by_reason[SMX_FAIL_NO_ROUTE],
               (unsigned long long)b->fail_by_reason[SMX_FAIL_REJECTED],
               (unsigned long long)b->fail_by_reason[SMX_FAIL_ATTEMPTS],
               (unsigned long long)b->fail_by_reason[SMX_FAIL_SHUTDOWN],
               (unsigned long long)b->fail_by_reason[SMX_FAIL_ENCODING]);
        printf("DRs: %llu (%llu uncorrelated; simulator sent %llu)   MOs: %llu (longest %llu "
               "parts; simulator sent %llu)   handset deliveries: %llu\n",
               (unsigned long long)b->drs, (unsigned long long)b->dr_uncorrelated,
               (unsigned long long)jnum(totals, "dr_sent"),
               (unsigned long long)b->mos, (unsigned long long)b->mo_parts_max,
               (unsigned long long)jnum(totals, "mo_sent"),
               (unsigned long long)r->handset_delivered);
        printf("lost: %llu   (no outcome %llu, submitted but not delivered %llu)\n",
               (unsigned long long)r->lost, (unsigned long long)r->no_outcome,
               (unsigned long long)r->never_delivered);
        printf("duplicated: %llu   (handset %llu, extra outcomes %llu, repeated DRs %llu)\n",
               (unsigned long long)r->duplicated, (unsigned long long)r->handset_dups,
               (unsigned long long)r->extra_outcomes, (unsigned long long)b->dr_dups);
        if (r->sim_min_spacing_s >= 0)
                printf("shortest spacing between bind attempts to one SMSC: %.1f s "
                       "(rebind interval %g s): R2 %s\n", r->sim_min_spacing_s, rebind_interval_s,
                       r->sim_min_spacing_s > rebind_interval_s ? "kept" : "VIOLATED");
        else
                printf("shortest spacing between bind attempts to one SMSC: - (no SMSC saw "
                       "two attempts)\n");
        if (r->lib_min_spacing_s >= 0)
                printf("        library's own record: %.1f s\n", r->lib_min_spacing_s);
        printf("simulator rule violations: %llu\n", (unsigned long long)r->violations);
        if (b->unknown_ids)
                printf("events naming ids never sent: %llu\n", (unsigned long long)b->unknown_ids);
        printf("%s\n", r->lost == 0 && r->duplicated == 0 ? "RESULT: nothing lost, nothing duplicated"
                                                           : "RESULT: FAILED");
        fflush(stdout);
}

void demo_report(const struct demo_book *b, smx_client *c, const char *ledger_json,
                 double rebind_interval_s, struct demo_result *r)
{
        memset(r, 0, sizeof *r);
        r->sim_min_spacing_s = r->lib_min_spacing_s = -1.0;
        json_error_t jerr;
        json_t *root = json_loads(ledger_json, 0, &jerr);
        if (!root)
                fprintf(stderr, "demo: cannot read the simulator's ledger: %s\n", jerr.text);
        report_smscs(b, c, root ? json_object_get(root, "smscs") : NULL, r);
        report_count(b, root, r);
        report_summary(b, root ? json_object_get(root, "totals") : NULL, rebind_interval_s, r);
        json_decref(root);
}
