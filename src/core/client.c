/* The public client API: configuration defaults, create/start/drain/destroy
 * and introspection. smx_submit is in submit.c, smx_events_poll in
 * events_poll.c. */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "admin/admin.h"
#include "config/dcs_spec.h"
#include "core/client_int.h"
#include "http/http.h"
#include "log/log.h"
#include "stats/stats.h"

uint64_t smx_now_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

uint64_t smx_now_us(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* bind_info.msgid_norm is the public SMX_MSGID_NORM_* value, copied as is */
_Static_assert(SMX_MSGID_AUTO == SMX_MSGID_NORM_AUTO && SMX_MSGID_EXACT == SMX_MSGID_NORM_EXACT &&
               SMX_MSGID_CASE_FOLD == SMX_MSGID_NORM_CASE_FOLD &&
               SMX_MSGID_STRIP_ZEROS == SMX_MSGID_NORM_STRIP_ZEROS &&
               SMX_MSGID_HEX_TO_DEC == SMX_MSGID_NORM_HEX_TO_DEC &&
               SMX_MSGID_DEC_TO_HEX == SMX_MSGID_NORM_DEC_TO_HEX, "msgid_norm values");

void smx_config_init(struct smx_config *cfg)
{
        memset(cfg, 0, sizeof *cfg);
        cfg->system_id = "smsmux";
        cfg->password = "secret";
        cfg->workers = 0;
        cfg->pin_workers = 1;
        cfg->window = 10;
        cfg->ingress_capacity = 65536;
        cfg->long_text_capacity = 0;   /* ingress_capacity / 8 */
        cfg->event_capacity = 65536;
        cfg->rebind_interval_ms = 30000;
        cfg->rebind_jitter_ms = 2000;
        cfg->connect_timeout_ms = 10000;
        cfg->bind_timeout_ms = 15000;
        cfg->response_timeout_ms = 30000;
        cfg->enquire_link_interval_ms = 30000;
        cfg->enquire_link_timeout_ms = 10000;
        cfg->unbind_timeout_ms = 5000;
        cfg->pdu_read_timeout_ms = 30000;
        cfg->no_route_timeout_ms = 60000;
        cfg->retry_backoff_ms = 200;
        cfg->max_attempts = 10;
        cfg->max_pdu = SMPP_DEFAULT_MAX_PDU;
        cfg->route_policy = SMX_ROUTE_ROUND_ROBIN;
        cfg->dr_park_timeout_ms = 60000;
        cfg->dedup_window_ms = 600000;
        cfg->corr_capacity = 1u << 20;
        cfg->corr_ttl_ms = 48u * 3600u * 1000u;
        cfg->park_capacity = 65536;
        cfg->dedup_capacity = 1u << 20;
        cfg->reasm_groups = 4096;
        cfg->reasm_timeout_ms = 60000;
        cfg->log_level = -1;
        cfg->spare_smscs = 4;
}

static int is_pow2(uint32_t v)
{
        return v >= 2 && (v & (v - 1)) == 0;
}

static int cfg_err(char *errbuf, size_t len, const char *fmt, const char *what)
{
        if (errbuf && len)
                snprintf(errbuf, len, fmt, what ? what : "");
        return SMX_EINVAL;
}

static int copy_field(char *dst, size_t cap, const char *src)
{
        size_t n = src ? strlen(src) : 0;
        if (n >= cap)
                return -1;
        if (n)
                memcpy(dst, src, n);
        dst[n] = 0;
        return 0;
}

/* Check the configuration; fills errbuf on error. */
static int validate(const struct smx_config *cfg, char *errbuf, size_t len)
{
        int http_only = cfg->http && cfg->http->transport == SMX_TRANSPORT_HTTP;
        if ((!cfg->smscs || cfg->n_smscs == 0) && !http_only)
                return cfg_err(errbuf, len, "no SMSC configured%s", NULL);
        if (cfg->n_smscs > 0xFFFE || cfg->spare_smscs > 4096 ||
            cfg->n_smscs + cfg->spare_smscs > 0xFFFE)
                return cfg_err(errbuf, len, "too many SMSCs (with spare_smscs)%s", NULL);
        if (!is_pow2(cfg->ingress_capacity) || cfg->ingress_capacity > (1u << 24))
                return cfg_err(errbuf, len, "ingress_capacity must be a power of two <= 2^24%s", NULL);
        if (!is_pow2(cfg->event_capacity) || cfg->event_capacity < 128)
                return cfg_err(errbuf, len, "event_capacity must be a power of two >= 128%s", NULL);
        if (cfg->window == 0 || cfg->window > 65536)
                return cfg_err(errbuf, len, "window must be 1..65536%s", NULL);
        if (cfg->max_pdu < 1024)
                return cfg_err(errbuf, len, "max_pdu must be at least 1024%s", NULL);
        if (cfg->max_attempts == 0)
                return cfg_err(errbuf, len, "max_attempts must be at least 1%s", NULL);
        if (cfg->corr_capacity == 0 || cfg->park_capacity == 0 || cfg->dedup_capacity == 0 ||
            cfg->reasm_groups == 0)
                return cfg_err(errbuf, len, "store sizes (corr_capacity, park_capacity, "
                               "dedup_capacity, reasm_groups) must be at least 1%s", NULL);
        if (cfg->admin_socket && strlen(cfg->admin_socket) >= 108)
                return cfg_err(errbuf, len, "admin_socket: path longer than 107 bytes%s", NULL);
        if (cfg->metrics_addr && !knobs_addr_ok(cfg->metrics_addr))
                return cfg_err(errbuf, len, "metrics_addr '%s' is not HOST:PORT", cfg->metrics_addr);
        if (cfg->log_level > SMX_LOG_DEBUG)
                return cfg_err(errbuf, len, "log_level must be -1 or a smx_log_level%s", NULL);
        for (size_t i = 0; i < cfg->n_smscs; i++) {
                int rc = client_smsc_check(cfg, &cfg->smscs[i], errbuf, len);
                if (rc < 0)
                        return rc;
        }
        return 0;
}

int client_smsc_check(const struct smx_config *cfg, const struct smx_smsc_config *s,
                      char *errbuf, size_t len)
{
        if (!s->name || !*s->name || strlen(s->name) > SMX_NAME_MAX)
                return cfg_err(errbuf, len, "SMSC name missing or longer than 32%s", NULL);
        if (s->site && strlen(s->site) > SMX_NAME_MAX)
                return cfg_err(errbuf, len, "site name of %s longer than 32", s->name);
        if (!s->host || !*s->host || strlen(s->host) >= 256)
                return cfg_err(errbuf, len, "SMSC %s: host missing", s->name);
        if (s->port == 0)
                return cfg_err(errbuf, len, "SMSC %s: port missing", s->name);
        const char *sid = s->system_id ? s->system_id : cfg->system_id;
        const char *pw = s->password ? s->password : cfg->password;
        if (!sid || strlen(sid) >= SMPP_SYSTEM_ID_MAX)
                return cfg_err(errbuf, len, "SMSC %s: system_id missing or over 15 characters", s->name);
        if (!pw || strlen(pw) >= SMPP_PASSWORD_MAX)
                return cfg_err(errbuf, len, "SMSC %s: password missing or over 8 characters", s->name);
        if (s->system_type && strlen(s->system_type) >= SMPP_SYSTEM_TYPE_MAX)
                return cfg_err(errbuf, len, "SMSC %s: system_type over 12 characters", s->name);
        if ((unsigned)s->bind_mode > SMX_BIND_RX)
                return cfg_err(errbuf, len, "SMSC %s: bad bind_mode", s->name);
        if ((unsigned)s->segment_mode > SMX_SEGMENT_PAYLOAD)
                return cfg_err(errbuf, len, "SMSC %s: bad segment_mode", s->name);
        struct smx_dcs_map m;
        char why[160];
        if (smx_dcs_spec_parse(s->data_coding, &m, why, sizeof why) < 0) {
                if (errbuf && len)
                        snprintf(errbuf, len, "SMSC %s: %s", s->name, why);
                return SMX_EINVAL;
        }
        if (s->msgid_norm & ~(SMX_MSGID_NORM_CASE_FOLD | SMX_MSGID_NORM_STRIP_ZEROS |
                              SMX_MSGID_NORM_HEX_TO_DEC | SMX_MSGID_NORM_DEC_TO_HEX |
                              SMX_MSGID_NORM_EXACT))
                return cfg_err(errbuf, len, "SMSC %s: unknown msgid_norm flags", s->name);
        if ((s->msgid_norm & SMX_MSGID_NORM_HEX_TO_DEC) && (s->msgid_norm & SMX_MSGID_NORM_DEC_TO_HEX))
                return cfg_err(errbuf, len, "SMSC %s: msgid_norm hex_to_dec and dec_to_hex are "
                               "opposite (ids hex on both sides need neither: auto)", s->name);
        if ((s->msgid_norm & SMX_MSGID_NORM_EXACT) && s->msgid_norm != SMX_MSGID_NORM_EXACT)
                return cfg_err(errbuf, len, "SMSC %s: msgid_norm exact combined with other rules",
                               s->name);
        if (tls_cfg_check(s, why, sizeof why) < 0) {
                if (errbuf && len)
                        snprintf(errbuf, len, "SMSC %s: tls: %s", s->name, why);
                return SMX_EINVAL;
        }
        return 0;
}

/* The profile smx_submit pre-encodes submit_sm bodies with (core/mt_pre.h):
 * the first SMSC's data_coding map and GSM packing. A bind whose settings
 * give other octets for an encoding (client_bind_setup's pre_mask) encodes
 * such MTs itself, as every bind did before. */
static void client_pre_profile(struct smx_client *c, const struct smx_config *cfg)
{
        c->pre_on = 0;
        smx_dcs_map_service(&c->pre_map);
        c->pre_gsm_dcs = -1;
        c->pre_packed = 0;
        if (cfg->n_smscs == 0 || (cfg->http && cfg->http->transport == SMX_TRANSPORT_HTTP))
                return;
        smx_dcs_spec_parse(cfg->smscs[0].data_coding, &c->pre_map, NULL, 0);   /* validated */
        c->pre_packed = cfg->smscs[0].gsm_packed != 0;
        c->pre_on = 1;
        c->pre_gsm_dcs = smx_dcs_for_encoding(&c->pre_map, SMX_ENC_GSM);
}

int client_bind_setup(struct smx_client *c, struct smx_bind *b, const struct smx_smsc_config *s,
                      uint16_t index)
{
        const struct smx_config *cfg = &c->cfg;
        int oom;
        tls_cfg_free(b->tls_cfg);
        b->tls_cfg = tls_cfg_new(s, &oom);
        if (oom)
                return SMX_ENOMEM;      /* never a plain bind for a TLS SMSC */
        b->index = index;
        copy_field(b->name, sizeof b->name, s->name);
        copy_field(b->site, sizeof b->site, s->site ? s->site : "");
        copy_field(b->host, sizeof b->host, s->host);
        b->port = s->port;
        b->weight = s->site_weight ? s->site_weight : 1;
        b->tps = s->tps;
        b->seg_mode = (uint8_t)s->segment_mode;
        copy_field(b->system_id, sizeof b->system_id, s->system_id ? s->system_id : cfg->system_id);
        copy_field(b->password, sizeof b->password, s->password ? s->password : cfg->password);
        copy_field(b->system_type, sizeof b->system_type, s->system_type ? s->system_type : "");
        struct smx_session_cfg *sc = &b->scfg;
        sc->system_id = b->system_id;
        sc->password = b->password;
        sc->system_type = b->system_type;
        sc->bind_mode = s->bind_mode;
        sc->window = s->window ? s->window : cfg->window;
        sc->bind_timeout_ms = cfg->bind_timeout_ms;
        sc->response_timeout_ms = cfg->response_timeout_ms;
        sc->enquire_link_interval_ms = cfg->enquire_link_interval_ms;
        sc->enquire_link_timeout_ms = cfg->enquire_link_timeout_ms;
        sc->unbind_timeout_ms = cfg->unbind_timeout_ms;
        sc->throttle_base_ms = cfg->retry_backoff_ms ? cfg->retry_backoff_ms : 100;
        sc->throttle_max_ms = 10000;
        sc->max_pdu = cfg->max_pdu;
        smx_dcs_spec_parse(s->data_coding, &b->dcs, NULL, 0);   /* validated */
        b->info.index = index;
        b->info.name = b->name;
        b->info.site = b->site;
        b->info.msgid_norm = s->msgid_norm;
        b->info.gsm_packed = s->gsm_packed != 0;
        b->info.dcs_map = &b->dcs;
        /* the encodings whose pre-encoded body (the client's profile) is
         * exactly what this SMSC's settings would encode */
        b->pre_mask = 0;
        for (int e = SMX_ENC_GSM; e <= SMX_ENC_UTF8; e++) {
                int mine = smx_dcs_for_encoding(&b->dcs, (enum smx_encoding)e);
                if (mine >= 0 && mine == smx_dcs_for_encoding(&c->pre_map, (enum smx_encoding)e) &&
                    (e != SMX_ENC_GSM || b->info.gsm_packed == c->pre_packed))
                        b->pre_mask |= (uint8_t)(1u << e);
        }
        rebind_init(&b->clk);
        atomic_store(&b->cnt.min_spacing_ms, UINT64_MAX);
        return 0;
}

/* workers = 0: one per CPU the calling thread may run on (its taskset /
 * cgroup cpuset, not every online core), less one left to the application
 * thread that submits and polls, at least one. On 2 CPUs that is 1: with
 * the application thread, 2 workers and a peer on 2 cores, 2 workers cost
 * about twice the CPU per MT of 1 and ran at 0.27-0.60 of its MT/s on a
 * quiet machine (docs/tuning.md, bench/README.md "Worker count"). */
static unsigned default_workers(void)
{
        cpu_set_t set;
        int n = 0;
        if (sched_getaffinity(0, sizeof set, &set) == 0)
                n = CPU_COUNT(&set);
        if (n <= 0) {
                long online = sysconf(_SC_NPROCESSORS_ONLN);
                n = online > 0 ? (int)online : 1;
        }
        return n > 1 ? (unsigned)(n - 1) : 1u;
}

/* A DR is normalised with the rules of the SMSC it arrives on, its MT's id
 * with those of the SMSC that accepted it; SMSCs that deliver each other's
 * DRs (R3) but compare ids differently can miss each other's receipts
 * (docs/operating.md "Message ids"). When one of them reads an id in a
 * base (hex_to_dec, dec_to_hex) and the other does not read it the same
 * way, worse: a receipt id of digits only ("18", hex for 24) crossing to
 * the other SMSC is a valid id there too and can name another MT. Said
 * once per client at create (the first SMSC against each other one) and
 * once per smx_smsc_add (the new SMSC against those configured then). */
int client_warn_msgid_norm_mix(const char *a, uint32_t a_norm, const char *b, uint32_t b_norm)
{
        const uint32_t base_rules = SMX_MSGID_NORM_HEX_TO_DEC | SMX_MSGID_NORM_DEC_TO_HEX;
        if (a_norm == b_norm)
                return 0;
        if ((a_norm & base_rules) != (b_norm & base_rules)) {
                smx_logf(SMX_LOG_WARN, NULL, NULL,
                         "SMSCs %s and %s have different msgid_norm and read message ids "
                         "in different bases (hex_to_dec / dec_to_hex): a DR crossing "
                         "between them can be matched to another MT or wait out "
                         "dr_park_timeout_ms; give every SMSC whose DRs can arrive on "
                         "the other the same rule (docs/operating.md, Message ids)",
                         a ? a : "?", b ? b : "?");
                return 1;
        }
        smx_logf(SMX_LOG_WARN, NULL, NULL,
                 "SMSCs %s and %s have different msgid_norm: a DR crossing between them "
                 "that comes before its resp waits out dr_park_timeout_ms, a re-sent "
                 "copy may be delivered twice (docs/operating.md, Message ids)",
                 a ? a : "?", b ? b : "?");
        return 1;
}

static void warn_msgid_norm_mix(const struct smx_config *cfg)
{
        for (size_t i = 1; i < cfg->n_smscs; i++) {
                const struct smx_smsc_config *a = &cfg->smscs[0], *b = &cfg->smscs[i];
                if (client_warn_msgid_norm_mix(a->name, a->msgid_norm, b->name, b->msgid_norm))
                        return;
        }
}

int smx_client_create(const struct smx_config *cfg, smx_client **out, char *errbuf,
                      size_t errbuf_len)
{
        if (!cfg || !out)
                return SMX_EINVAL;
        *out = NULL;
        int rc = validate(cfg, errbuf, errbuf_len);
        if (rc < 0)
                return rc;
        warn_msgid_norm_mix(cfg);
        smx_stamp_init();
        struct smx_client *c = calloc(1, sizeof *c);
        if (!c)
                return SMX_ENOMEM;
        c->cfg = *cfg;
        copy_field(c->def_system_id, sizeof c->def_system_id, cfg->system_id);
        copy_field(c->def_password, sizeof c->def_password, cfg->password);
        c->cfg.system_id = c->def_system_id;
        c->cfg.password = c->def_password;
        c->cfg.smscs = NULL;   /* copied into the binds */
        c->app_efd = -1;
        c->n_workers = cfg->workers ? cfg->workers : default_workers();
        if (c->n_workers > cfg->n_smscs)
                c->n_workers = (unsigned)cfg->n_smscs;
        if (c->n_workers == 0)
                c->n_workers = 1;   /* HTTP only: one idle worker keeps the code paths uniform */
        c->n_binds = (uint32_t)(cfg->n_smscs + cfg->spare_smscs);
        c->binds = calloc(c->n_binds ? c->n_binds : 1, sizeof *c->binds);
        c->workers = calloc(c->n_workers, sizeof *c->workers);
        c->held = calloc(c->n_workers + SMX_HTTP_RINGS + 1, sizeof *c->held);
        c->n_rings = c->n_workers;
        if (!c->binds || !c->workers || !c->held) {
                rc = SMX_ENOMEM;
                goto fail;
        }
        client_pre_profile(c, cfg);
        for (uint32_t i = 0; i < c->n_binds; i++) {
                /* a spare slot: sized like the others, never connected until
                 * smx_smsc_add fills it */
                static const struct smx_smsc_config spare = { .name = "", .host = "" };
                struct smx_bind *b = &c->binds[i];
                b->fd = -1;   /* here, not in client_bind_setup: a worker reads it */
                rc = client_bind_setup(c, b, i < cfg->n_smscs ? &cfg->smscs[i] : &spare,
                                       (uint16_t)i);
                if (rc < 0)
                        goto fail;
                atomic_store(&b->in_use, i < cfg->n_smscs);
                b->spare = i >= cfg->n_smscs;
                b->retired = b->spare;
        }
        rc = knobs_client_init(c, cfg);
        if (rc < 0)
                goto fail;
        rc = ingress_init(&c->ing, cfg->ingress_capacity);
        if (rc < 0)
                goto fail;
        rc = ingress_text_init(&c->ing, cfg->long_text_capacity);   /* freed by ingress_fini */
        if (rc < 0)
                goto fail;
        static _Atomic uint64_t serials;
        c->serial = atomic_fetch_add(&serials, 1) + 1;
        if (pthread_key_create(&c->lane_key, client_lane_exit) != 0) {
                rc = SMX_ENOMEM;
                goto fail;
        }
        c->lane_key_ok = 1;
        struct smx_inbound_config ic;
        inbound_config_init(&ic);
        ic.park_timeout_ms = cfg->dr_park_timeout_ms;
        ic.dedup_window_ms = cfg->dedup_window_ms;
        ic.corr_capacity = cfg->corr_capacity;
        ic.corr_ttl_ms = cfg->corr_ttl_ms;
        ic.park_capacity = cfg->park_capacity;
        ic.dedup_capacity = cfg->dedup_capacity;
        ic.reasm_groups = cfg->reasm_groups;
        ic.reasm_timeout_ms = cfg->reasm_timeout_ms;
        c->inbound = inbound_create(&ic);
        if (!c->inbound) {
                rc = SMX_ENOMEM;
                goto fail;
        }
        /* the id rule sets a shared store's DR lookup tries (SMSCs added at
         * run time are noted at their first accepted MT) */
        for (size_t i = 0; i < cfg->n_smscs; i++)
                inbound_note_bind_rules(c->inbound, cfg->smscs[i].msgid_norm);
        if (getrandom(c->nonce, sizeof c->nonce, 0) != sizeof c->nonce) {
                uint64_t t = smx_now_us() ^ (uint64_t)getpid() << 40;
                memcpy(c->nonce, &t, sizeof c->nonce);
        }
        c->app_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (c->app_efd < 0) {
                rc = -errno;
                goto fail;
        }
        for (unsigned k = 0; k < c->n_workers; k++) {
                rc = worker_init(&c->workers[k], c, k);
                if (rc < 0) {
                        if (errbuf && errbuf_len)
                                snprintf(errbuf, errbuf_len, "worker %u: %s", k, smx_strerror(rc));
                        goto fail;
                }
        }
        if (cfg->http) {
                rc = smx_http_create(c, cfg->http, &c->http, errbuf, errbuf_len);
                if (rc < 0)
                        goto fail;
                c->n_rings = c->n_workers + SMX_HTTP_RINGS;
                c->http_carries_mts = cfg->http->transport != SMX_TRANSPORT_SMPP;
        }
        rc = client_store_create(c, cfg, errbuf, errbuf_len);
        if (rc < 0)
                goto fail;
        c->cfg.http = NULL;   /* the application's struct is not kept */
        atomic_store(&c->no_route_since_ms, smx_now_ms());
        *out = c;
        return 0;
fail:
        smx_client_destroy(c);
        return rc;
}

/* A start that failed with the first n_started workers running: stop and
 * join them (their handles cleared, so smx_client_destroy does not join
 * them again) and leave the client STOPPED. */
static void start_unwind(smx_client *c, unsigned n_started)
{
        atomic_store(&c->stop, 1);
        for (unsigned k = 0; k < n_started; k++) {
                worker_wake(&c->workers[k]);
                pthread_join(c->workers[k].thread, NULL);
                c->workers[k].thread = 0;
        }
        atomic_store(&c->state, SMX_CS_STOPPED);
}

int smx_client_start(smx_client *c)
{
        if (!c)
                return SMX_EINVAL;
        int expect = SMX_CS_CREATED;
        if (!atomic_compare_exchange_strong(&c->state, &expect, SMX_CS_RUNNING))
                return SMX_ESTATE;
        atomic_store(&c->no_route_since_ms, smx_now_ms());
        if (c->cfg.log_level >= 0)
                smx_log_level_set((enum smx_log_level)c->cfg.log_level);
        char aerr[256] = "";
        int arc = admin_start(c, c->cfg.admin_socket, atomic_load(&c->ks->cur)->metrics_addr,
                              aerr, sizeof aerr);
        if (arc < 0) {
                smx_logf(SMX_LOG_ERROR, NULL, NULL, "cannot start: %s", aerr);
                admin_stop(c);
                atomic_store(&c->state, SMX_CS_CREATED);
                return arc;
        }
        for (unsigned k = 0; k < c->n_workers; k++) {
                struct smx_worker *w = &c->workers[k];
                int rc = pthread_create(&w->thread, NULL, worker_main, w);
                if (rc != 0) {
                        w->thread = 0;
                        start_unwind(c, k);
                        return -rc;
                }
        }
        if (c->rstore) {
                int rc = rstore_start(c->rstore);
                if (rc < 0) {
                        start_unwind(c, c->n_workers);
                        return rc;
                }
        }
        if (c->http) {
                int rc = smx_http_start(c->http);
                if (rc < 0) {
                        start_unwind(c, c->n_workers);
                        return rc;
                }
        }
        smx_logf(SMX_LOG_INFO, NULL, NULL, "started: %u SMSCs, %u workers%s", c->n_binds,
                 c->n_workers, c->http ? ", HTTP transport" : "");
        return 0;
}

static void wake_all(struct smx_client *c)
{
        for (unsigned k = 0; k < c->n_workers; k++) {
                struct smx_worker *w = &c->workers[k];
                atomic_store(&w->sleeping, 1);
                worker_wake(w);
        }
}

static void sleep_ms(unsigned ms)
{
        struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
        nanosleep(&ts, NULL);
}

/* Wait until the store thread has no correlation write buffered (every one
 * written to Redis), or the deadline passes. */
static void wait_store_written(smx_client *c, uint64_t deadline)
{
        for (;;) {
                struct rs_stats st;
                rstore_stats(c->rstore, &st);
                if (st.corr_buffered == 0 || smx_now_ms() >= deadline)
                        return;
                sleep_ms(5);
        }
}

int smx_client_drain(smx_client *c, uint32_t timeout_ms)
{
        if (!c)
                return SMX_EINVAL;
        int st = atomic_load(&c->state);
        if (st == SMX_CS_CREATED) {
                atomic_store(&c->state, SMX_CS_STOPPED);
                return 0;
        }
        if (st != SMX_CS_RUNNING)
                return SMX_ESTATE;
        atomic_store(&c->state, SMX_CS_DRAINING);
        int rc = 0;
        uint64_t deadline = smx_now_ms() + timeout_ms;
        while (smx_client_in_flight(c) > 0 && smx_now_ms() < deadline)
                sleep_ms(2);
        if (smx_client_in_flight(c) > 0) {
                rc = SMX_ETIMEDOUT;
                atomic_store(&c->fail_all, 1);
                wake_all(c);
                uint64_t limit = smx_now_ms() + 5000;
                while (smx_client_in_flight(c) > 0 && smx_now_ms() < limit)
                        sleep_ms(2);
        }
        atomic_store(&c->unbind_all, 1);
        wake_all(c);
        uint64_t limit = smx_now_ms() + c->cfg.unbind_timeout_ms + 2000;
        for (;;) {
                int up = 0;
                for (uint32_t i = 0; i < c->n_binds; i++)
                        if (atomic_load_explicit(&c->binds[i].health, memory_order_relaxed) !=
                            SMX_HEALTH_DOWN)
                                up++;
                if (!up || smx_now_ms() >= limit)
                        break;
                sleep_ms(2);
        }
        /* A shared store's correlation writes buffered while Redis is slow
         * or away (store thread, docs/scale-out.md) get what is left of the
         * timeout to reach it: the store's stop gives them only 2 s, and a
         * dropped one makes its MT's DRs arrive uncorrelated, so an instance
         * stopped while Redis restarts keeps them if Redis is back in time. */
        if (c->rstore)
                wait_store_written(c, deadline);
        /* Every MT has its outcome and the binds are down: no resp can come,
         * so parked DRs (and MO groups missing parts) will never complete.
         * Each was answered ESME_ROK: the workers deliver them now (DRs
         * uncorrelated unless their id turned up, MOs partial), and so does
         * the HTTP receiver for what it still takes until it is closed below.
         * Wait a little for them to reach the rings; a full ring delays the
         * rest until the application polls. */
        atomic_store(&c->inbound_flush, 1);
        wake_all(c);
        limit = smx_now_ms() + 2000;
        while (inbound_undelivered(c->inbound) > 0 && smx_now_ms() < limit)
                sleep_ms(2);
        /* Like the unbound SMPP binds, the HTTP receiver acknowledges nothing
         * new from here (503: the service re-sends it later or elsewhere,
         * H4); what it did acknowledge is in its ring (or, with a shared
         * store, in Redis) when this returns, so the application's polls
         * after the drain see all of it. A DR it took during the wait above
         * may still sit in the park for a moment: it counts in
         * smx_client_undelivered, which the application polls down to 0. */
        if (c->http)
                smx_http_close_receiver(c->http);
        smx_logf(SMX_LOG_INFO, NULL, NULL, "drained%s", rc ? " (timeout: the rest failed)" : "");
        return rc;
}

uint64_t smx_client_undelivered(smx_client *c)
{
        if (!c || !c->inbound)
                return 0;
        uint64_t n = inbound_undelivered(c->inbound);
        for (unsigned k = 0; c->workers && k < c->n_workers; k++)
                n += atomic_load_explicit(&c->workers[k].n_pend, memory_order_acquire);
        return n;
}

void smx_client_destroy(smx_client *c)
{
        if (!c)
                return;
        if (c->inbound && c->workers && atomic_load(&c->state) != SMX_CS_CREATED) {
                /* what the header says is lost here: say it in the log too */
                uint64_t held = inbound_undelivered(c->inbound), unpolled = 0;
                uint64_t outcomes = smx_client_undelivered(c) - held;
                for (unsigned k = 0; k < c->n_workers; k++)
                        unpolled += event_ring_used(c->workers[k].evr) - c->held[k];
                for (unsigned i = 0; c->http && i < SMX_HTTP_RINGS; i++)
                        unpolled += event_ring_used(smx_http_ring(c->http, i)) -
                                    c->held[c->n_workers + i];
                if (held || unpolled || outcomes)
                        smx_logf(SMX_LOG_WARN, NULL, NULL,
                                 "destroy: %llu events not polled, %llu acknowledged DRs/MO "
                                 "groups and %llu MT outcomes not yet in a ring are discarded",
                                 (unsigned long long)unpolled, (unsigned long long)held,
                                 (unsigned long long)outcomes);
        }
        admin_stop(c);   /* its threads read the client: stop them first */
        if (c->workers) {
                atomic_store_explicit(&c->stop, 1, memory_order_release);
                for (unsigned k = 0; k < c->n_workers; k++) {
                        struct smx_worker *w = &c->workers[k];
                        if (w->thread) {
                                atomic_store(&w->sleeping, 1);
                                worker_wake(w);
                                pthread_join(w->thread, NULL);
                        }
                }
        }
        /* the HTTP threads use the ingress pool, inbound and rings: stop them
         * before anything they touch is freed */
        if (c->http)
                smx_http_destroy(c->http);
        c->http = NULL;
        /* the store thread reads the binds and the inbound room (MO text) */
        if (c->rstore)
                rstore_destroy(c->rstore);
        c->rstore = NULL;
        if (c->workers)
                for (unsigned k = 0; k < c->n_workers; k++)
                        worker_fini(&c->workers[k]);
        atomic_store(&c->state, SMX_CS_STOPPED);
        if (c->inbound)
                inbound_destroy(c->inbound);
        /* threads still holding a lane of this client keep nothing of it:
         * with the key deleted their exit runs no destructor, and the
         * lanes (their cached slots are in the slot region) go with the
         * ingress */
        if (c->lane_key_ok)
                pthread_key_delete(c->lane_key);
        ingress_fini(&c->ing);
        if (c->app_efd >= 0)
                close(c->app_efd);
        knobs_client_fini(c);
        if (c->binds)
                for (uint32_t i = 0; i < c->n_binds; i++)
                        tls_cfg_free(c->binds[i].tls_cfg);
        free(c->binds);
        free(c->workers);
        free(c->held);
        free(c);
}

/* ---- introspection ---- */

size_t smx_client_binds(smx_client *c, struct smx_bind_stats *st, size_t max)
{
        if (!c)
                return 0;
        size_t n = 0;
        for (uint32_t i = 0; i < c->n_binds; i++) {
                struct smx_bind *b = &c->binds[i];
                if (!atomic_load_explicit(&b->in_use, memory_order_acquire))
                        continue;   /* a spare slot */
                if (!st || n >= max) {
                        n++;
                        continue;
                }
                struct smx_bind_stats *o = &st[n++];
                memset(o, 0, sizeof *o);
                copy_field(o->name, sizeof o->name, b->name);
                copy_field(o->site, sizeof o->site, b->site);
                o->health = (enum smx_bind_health)atomic_load_explicit(&b->health, memory_order_relaxed);
                o->in_flight = atomic_load_explicit(&b->cnt.in_flight, memory_order_relaxed);
                o->submitted = atomic_load_explicit(&b->cnt.submitted, memory_order_relaxed);
                o->accepted = atomic_load_explicit(&b->cnt.accepted, memory_order_relaxed);
                o->failed = atomic_load_explicit(&b->cnt.failed, memory_order_relaxed);
                o->resent = atomic_load_explicit(&b->cnt.resent, memory_order_relaxed);
                o->throttled = atomic_load_explicit(&b->cnt.throttled, memory_order_relaxed);
                o->drs = atomic_load_explicit(&b->cnt.drs, memory_order_relaxed);
                o->mos = atomic_load_explicit(&b->cnt.mos, memory_order_relaxed);
                o->bind_attempts = atomic_load_explicit(&b->cnt.attempts, memory_order_relaxed);
                o->min_attempt_spacing_ms = atomic_load_explicit(&b->cnt.min_spacing_ms,
                                                                 memory_order_relaxed);
                stats_fill_bind(b, o, NULL);
        }
        return n;
}

void smx_client_http_stats(struct smx_client *c, struct smx_http_stats *st)
{
        if (!st)
                return;
        memset(st, 0, sizeof *st);
        if (c && c->http)
                smx_http_stats_fill(c->http, st);
}
