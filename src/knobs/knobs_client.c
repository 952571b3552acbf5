/* Publishing knob snapshots to a running client (see knobs_client.h) and the
 * public smx_knob_* functions.
 *
 * A set: take the lock, build the new snapshot from the current one
 * (knobs_with), apply what takes effect outside the workers (log level,
 * metrics listener), publish it with one seq_cst pointer store, retire the
 * old one, and free every retired snapshot older than what each worker has
 * recorded in seen[k]. A worker records the gen of the snapshot it loaded
 * after loading it, so a snapshot older than every seen[k] is held by no
 * worker: worker k holds either the snapshot of gen seen[k] or a newer one
 * it loaded and has not recorded yet. Readers outside the workers (get,
 * list, stats) hold the lock, so nothing they read is freed under them.
 *
 * Why not ck_epoch: a worker would have to stay in an epoch section for its
 * whole loop turn (it keeps using w->kn), i.e. ck_epoch_end + ck_epoch_begin
 * (an atomic exchange) every turn: 12.5 ns against 2 ns for the load and
 * compare here, and 104 vs 24 ns per set (bench/ck/bench_ck "knob_turn",
 * "knob_set", same run; bench/README.md "ck or ours"). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin/admin.h"
#include "core/client_int.h"
#include "knobs/knobs_client.h"
#include "log/log.h"

int knobs_client_init(struct smx_client *c, const struct smx_config *cfg)
{
        struct smx_knob_state *ks = calloc(1, sizeof *ks);
        if (!ks)
                return SMX_ENOMEM;
        c->ks = ks;
        pthread_mutex_init(&ks->lock, NULL);
        uint32_t n = c->n_binds;
        ks->names = calloc(n ? n : 1, sizeof *ks->names);
        ks->sites = calloc(n ? n : 1, sizeof *ks->sites);
        ks->n_workers = c->n_workers;
        ks->seen = calloc(c->n_workers ? c->n_workers : 1, sizeof *ks->seen);
        if (!ks->names || !ks->sites || !ks->seen)
                return SMX_ENOMEM;
        for (uint32_t i = 0; i < n; i++) {
                ks->names[i] = c->binds[i].name;
                ks->sites[i] = c->binds[i].site;
        }
        if (cfg->admin_socket)
                snprintf(ks->admin_socket, sizeof ks->admin_socket, "%s", cfg->admin_socket);
        c->cfg.admin_socket = ks->admin_socket[0] ? ks->admin_socket : NULL;
        c->cfg.metrics_addr = NULL;   /* the knob holds it */
        struct smx_config kc = *cfg;
        if (kc.log_level < 0 || kc.log_level > SMX_LOG_DEBUG)
                kc.log_level = smx_log_level_get();
        struct smx_knobs *k = knobs_from_config(&kc, cfg->smscs, cfg->n_smscs, n, ks->names,
                                                ks->sites, cfg->window);
        if (!k)
                return SMX_ENOMEM;
        atomic_store(&ks->cur, k);
        return 0;
}

void knobs_client_fini(struct smx_client *c)
{
        struct smx_knob_state *ks = c->ks;
        if (!ks)
                return;
        free(atomic_load(&ks->cur));
        for (size_t i = 0; i < ks->n_retired; i++)
                free(ks->retired[i]);
        free(ks->retired);
        free(ks->names);
        free(ks->sites);
        free(ks->seen);
        pthread_mutex_destroy(&ks->lock);
        free(ks);
        c->ks = NULL;
}

/* Lock held: free the retired snapshots no worker can hold any more. Before
 * the workers run (seen all 0) nothing is freed until destroy. */
static void reclaim(struct smx_knob_state *ks)
{
        uint64_t min = UINT64_MAX;
        for (unsigned k = 0; k < ks->n_workers; k++) {
                uint64_t s = atomic_load(&ks->seen[k]);
                if (s < min)
                        min = s;
        }
        size_t j = 0;
        for (size_t i = 0; i < ks->n_retired; i++) {
                if (ks->retired[i]->gen < min)
                        free(ks->retired[i]);
                else
                        ks->retired[j++] = ks->retired[i];
        }
        ks->n_retired = j;
}

/* Lock held: publish next (built from the current snapshot). */
static int publish_locked(struct smx_client *c, struct smx_knobs *next)
{
        struct smx_knob_state *ks = c->ks;
        if (ks->n_retired == ks->cap_retired) {
                size_t cap = ks->cap_retired ? ks->cap_retired * 2 : 8;
                struct smx_knobs **r = realloc(ks->retired, cap * sizeof *r);
                if (!r)
                        return SMX_ENOMEM;
                ks->retired = r;
                ks->cap_retired = cap;
        }
        struct smx_knobs *old = atomic_load(&ks->cur);
        next->gen = old->gen + 1;
        atomic_store(&ks->cur, next);
        ks->retired[ks->n_retired++] = old;
        reclaim(ks);
        return 0;
}

int smx_knob_set(smx_client *c, const char *name, const char *value, char *err, size_t err_len)
{
        if (err && err_len)
                err[0] = '\0';
        if (!c || !c->ks || !name || !value) {
                if (err && err_len)
                        snprintf(err, err_len, "knob name and value needed");
                return SMX_EINVAL;
        }
        struct smx_knob_state *ks = c->ks;
        pthread_mutex_lock(&ks->lock);
        struct smx_knobs *old = atomic_load(&ks->cur), *next = NULL;
        int rc = knobs_with(old, name, value, &next, err, err_len);
        /* the listener moves first: a bad address leaves everything as it was */
        if (rc == 0 && strcmp(old->metrics_addr, next->metrics_addr) != 0)
                rc = admin_metrics_listen(c, next->metrics_addr, err, err_len);
        int log_changed = rc == 0 && next->log_level != old->log_level;
        if (rc == 0) {
                rc = publish_locked(c, next);
                if (rc < 0 && err && err_len)
                        snprintf(err, err_len, "out of memory");
        }
        if (log_changed && rc == 0)
                smx_log_level_set((enum smx_log_level)next->log_level);
        pthread_mutex_unlock(&ks->lock);
        if (rc < 0) {
                free(next);
                return rc;
        }
        smx_logf(SMX_LOG_INFO, NULL, NULL, "knob %s = %s", name, value);
        for (unsigned k = 0; k < c->n_workers; k++)
                worker_wake(&c->workers[k]);
        return 0;
}

int smx_knob_get(smx_client *c, const char *name, char *out, size_t out_len)
{
        if (!c || !c->ks || !name || !out || !out_len)
                return SMX_EINVAL;
        if (!strcmp(name, "metrics_listening")) {
                char a[80];
                admin_metrics_address(c, a, sizeof a);
                return snprintf(out, out_len, "%s", a);
        }
        pthread_mutex_lock(&c->ks->lock);
        int rc = knobs_get(atomic_load(&c->ks->cur), name, out, out_len);
        pthread_mutex_unlock(&c->ks->lock);
        return rc;
}

size_t smx_knob_list(smx_client *c, char *out, size_t out_len)
{
        if (!c || !c->ks)
                return 0;
        pthread_mutex_lock(&c->ks->lock);
        size_t n = knobs_list(atomic_load(&c->ks->cur), out, out_len);
        pthread_mutex_unlock(&c->ks->lock);
        return n;
}

/* Lock held: the first free bind slot for a new SMSC named name, or a
 * negative code with the reason in err (the name is taken, even by a
 * removed SMSC; or no spare slot is left). */
static int free_slot_locked(struct smx_client *c, const struct smx_knobs *cur, const char *name,
                            char *err, size_t err_len)
{
        int slot = -1;
        for (uint32_t i = 0; i < c->n_binds; i++) {
                if (!atomic_load(&c->binds[i].in_use)) {
                        if (slot < 0)
                                slot = (int)i;
                } else if (!strcmp(c->binds[i].name, name)) {
                        snprintf(err, err_len, "an SMSC named '%s' exists%s", name,
                                 cur->bind[i].admin == SMX_ADMIN_REMOVED
                                         ? " (removed; names are not reused)" : "");
                        return SMX_EINVAL;
                }
        }
        if (slot < 0) {
                snprintf(err, err_len, "no spare slot left (config spare_smscs)");
                return SMX_ENOMEM;
        }
        return slot;
}

int smx_smsc_add(smx_client *c, const struct smx_smsc_config *s, char *err, size_t err_len)
{
        char dummy[8];
        if (!err || !err_len) {
                err = dummy;
                err_len = sizeof dummy;
        }
        err[0] = '\0';
        if (!c || !c->ks || !s)
                return SMX_EINVAL;
        int rc = client_smsc_check(&c->cfg, s, err, err_len);
        if (rc < 0)
                return rc;
        if (s->window > c->cfg.window) {
                snprintf(err, err_len, "SMSC %s: window %u is over the client's window %u "
                         "(spare slots are sized for it)", s->name, s->window, c->cfg.window);
                return SMX_EINVAL;
        }
        struct smx_knob_state *ks = c->ks;
        pthread_mutex_lock(&ks->lock);
        struct smx_knobs *cur = atomic_load(&ks->cur);
        int slot = free_slot_locked(c, cur, s->name, err, err_len);
        struct smx_knobs *next = slot >= 0 ? knobs_copy(cur) : NULL;
        if (!next) {
                if (slot >= 0)
                        snprintf(err, err_len, "out of memory");
                pthread_mutex_unlock(&ks->lock);
                return slot >= 0 ? SMX_ENOMEM : slot;
        }
        /* the SMSC configured now whose ids the new one compares
         * differently (warned once the add succeeds, outside the lock) */
        int differs = -1;
        for (uint32_t i = 0; i < c->n_binds && differs < 0; i++)
                if (atomic_load(&c->binds[i].in_use) && cur->bind[i].admin != SMX_ADMIN_REMOVED &&
                    c->binds[i].info.msgid_norm != s->msgid_norm)
                        differs = (int)i;
        struct smx_bind *b = &c->binds[slot];
        /* the owning worker does not touch a spare slot (retired, no socket)
         * until a snapshot marks it in use */
        if (client_bind_setup(c, b, s, (uint16_t)slot) < 0) {
                free(next);
                snprintf(err, err_len, "out of memory");
                pthread_mutex_unlock(&ks->lock);
                return SMX_ENOMEM;
        }
        struct smx_bind_knobs *bk = &next->bind[slot];
        bk->in_use = 1;
        bk->tps = s->tps;
        bk->window = s->window ? s->window : c->cfg.window;
        bk->window_max = c->cfg.window;
        bk->weight = s->site_weight ? s->site_weight : 1;
        bk->admin = SMX_ADMIN_ENABLED;
        rc = publish_locked(c, next);
        if (rc == 0)
                atomic_store_explicit(&b->in_use, 1, memory_order_release);
        pthread_mutex_unlock(&ks->lock);
        if (rc < 0) {
                free(next);
                snprintf(err, err_len, "out of memory");
                return rc;
        }
        smx_logf(SMX_LOG_INFO, b->name, b->site, "added: %s:%u", b->host, b->port);
        if (differs >= 0)   /* binds are never freed before destroy, nor renamed */
                client_warn_msgid_norm_mix(c->binds[differs].name,
                                           c->binds[differs].info.msgid_norm, b->name,
                                           b->info.msgid_norm);
        for (unsigned k = 0; k < c->n_workers; k++)
                worker_wake(&c->workers[k]);
        return 0;
}

/* Set the admin knob of one SMSC or site: "SCOPE.NAME.admin". */
static int set_admin(smx_client *c, const char *scope, const char *name,
                     enum smx_admin_state st)
{
        char knob[SMX_NAME_MAX + 16];
        if (!name || strlen(name) > SMX_NAME_MAX)
                return SMX_EINVAL;
        snprintf(knob, sizeof knob, "%s.%s.admin", scope, name);
        return smx_knob_set(c, knob, smx_admin_state_name(st), NULL, 0);
}

int smx_smsc_set_admin(smx_client *c, const char *smsc, enum smx_admin_state st)
{
        return set_admin(c, "smsc", smsc, st);
}

int smx_site_set_admin(smx_client *c, const char *site, enum smx_admin_state st)
{
        return set_admin(c, "site", site, st);
}

void knobs_with_current(struct smx_client *c,
                        void (*fn)(const struct smx_knobs *k, void *arg), void *arg)
{
        pthread_mutex_lock(&c->ks->lock);
        fn(atomic_load(&c->ks->cur), arg);
        pthread_mutex_unlock(&c->ks->lock);
}

/* Apply one bind's knobs; its owning worker only. */
static void apply_bind_w(struct smx_worker *w, struct smx_bind *b, const struct smx_knobs *k)
{
        const struct smx_bind_knobs *bk = &k->bind[b->index];
        if (!bk->in_use)
                return;   /* a spare slot */
        if (b->spare) {
                /* filled by smx_smsc_add before this snapshot was published
                 * (the acquire load in knobs_sync_w orders those writes) */
                b->spare = 0;
                b->retired = 0;
                smx_logf(SMX_LOG_INFO, b->name, b->site, "added at runtime");
        }
        b->tps = bk->tps;
        b->weight = bk->weight;
        b->scfg.window = bk->window;
        b->scfg.response_timeout_ms = k->response_timeout_ms;
        b->scfg.enquire_link_interval_ms = k->enquire_link_interval_ms;
        b->scfg.enquire_link_timeout_ms = k->enquire_link_timeout_ms;
        uint8_t was = atomic_load_explicit(&b->admin, memory_order_relaxed);
        if (bk->admin != was) {
                smx_logf(SMX_LOG_INFO, b->name, b->site, "admin: %s -> %s",
                         smx_admin_state_name((enum smx_admin_state)was),
                         smx_admin_state_name((enum smx_admin_state)bk->admin));
                atomic_store_explicit(&b->admin, bk->admin, memory_order_relaxed);
        }
        if (bk->admin == SMX_ADMIN_REMOVED && !b->retired) {
                /* unbound for good: the session unbinds (in-flight MTs are
                 * handed back and resent elsewhere) and is never reconnected */
                b->retired = 1;
                if (b->fd >= 0)
                        session_unbind(&b->sess, w->now_ms);
        }
}

void knobs_sync_w(struct smx_worker *w)
{
        struct smx_client *c = w->c;
        struct smx_knobs *k = atomic_load(&c->ks->cur);
        if (k == w->kn)
                return;
        /* seq_cst, after the load above: see reclaim() */
        atomic_store(&c->ks->seen[w->k], k->gen);
        w->kn = k;
        for (unsigned i = 0; i < w->n_binds; i++)
                apply_bind_w(w, w->binds[i], k);
        if ((enum smx_route_policy)k->route_policy != w->router.policy)
                route_init(&w->router, (enum smx_route_policy)k->route_policy);
}
