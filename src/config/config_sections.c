/* Config-file sections: a header starts [client], [http], [site NAME] or
 * [smsc NAME] (a new site or SMSC is created at its header line, a second
 * header of the same name is an error), and each key = value is looked up
 * in its section's table and applied. [client] keys are the fields of
 * struct smx_config, [smsc NAME] keys those of struct smx_smsc_config (but
 * name and site_weight), [site NAME] has only weight, [store] those of
 * struct smx_store_config; [http] is in config_http.c. */
#include <string.h>

#include "config/config_int.h"
#include "knobs/knobs.h"
#include "pdu/smpp_defs.h"

#define CK(field, kind, min, max) { #field, kind, offsetof(struct smx_config, field), min, max }
#define SK(field, kind, min, max) { #field, kind, offsetof(struct smx_smsc_config, field), min, max }

static const struct key_def client_keys[] = {
        CK(system_id, KEY_STR, 1, SMPP_SYSTEM_ID_MAX - 1),
        CK(password, KEY_SECRET, 0, SMPP_PASSWORD_MAX - 1),
        CK(workers, KEY_UNSIGNED, 0, 1024),
        CK(pin_workers, KEY_BOOL, 0, 1),
        CK(window, KEY_U32, 1, 65535),
        CK(ingress_capacity, KEY_POW2, 2, 1u << 24),
        CK(long_text_capacity, KEY_U32, 0, 1u << 24),
        CK(event_capacity, KEY_POW2, 128, 1u << 30),
        CK(rebind_interval_ms, KEY_U32, 0, U32_MAX),
        CK(rebind_jitter_ms, KEY_U32, 0, U32_MAX),
        CK(connect_timeout_ms, KEY_U32, 1, U32_MAX),
        CK(bind_timeout_ms, KEY_U32, 1, U32_MAX),
        CK(response_timeout_ms, KEY_U32, 1, U32_MAX),
        CK(enquire_link_interval_ms, KEY_U32, 1, U32_MAX),
        CK(enquire_link_timeout_ms, KEY_U32, 1, U32_MAX),
        CK(unbind_timeout_ms, KEY_U32, 0, U32_MAX),
        CK(pdu_read_timeout_ms, KEY_U32, 1, U32_MAX),
        CK(no_route_timeout_ms, KEY_U32, 0, U32_MAX),
        CK(retry_backoff_ms, KEY_U32, 0, U32_MAX),
        CK(max_attempts, KEY_U32, 1, U32_MAX),
        CK(max_pdu, KEY_U32, 1024, U32_MAX),
        CK(route_policy, KEY_POLICY, 0, 0),
        CK(dr_park_timeout_ms, KEY_U32, 0, U32_MAX),
        CK(dedup_window_ms, KEY_U32, 0, U32_MAX),
        CK(corr_capacity, KEY_U32, 1, 1u << 30),
        CK(corr_ttl_ms, KEY_U32, 1, U32_MAX),
        CK(park_capacity, KEY_U32, 1, 1u << 26),
        CK(dedup_capacity, KEY_U32, 1, 1u << 30),
        CK(reasm_groups, KEY_U32, 1, 1u << 24),
        CK(reasm_timeout_ms, KEY_U32, 1, U32_MAX),
        CK(spare_smscs, KEY_U32, 0, 4096),
        CK(log_level, KEY_LOG_LEVEL, 0, 0),
        CK(admin_socket, KEY_STR, 1, 107),
        CK(metrics_addr, KEY_ADDR, 0, SMX_KNOB_ADDR_MAX - 1),
};

static const struct key_def smsc_keys[] = {
        SK(site, KEY_STR, 1, SMX_NAME_MAX),
        SK(host, KEY_STR, 1, 253),
        SK(port, KEY_PORT, 1, 65535),
        SK(system_id, KEY_STR, 1, SMPP_SYSTEM_ID_MAX - 1),
        SK(password, KEY_SECRET, 0, SMPP_PASSWORD_MAX - 1),
        SK(system_type, KEY_STR, 0, SMPP_SYSTEM_TYPE_MAX - 1),
        SK(bind_mode, KEY_BIND_MODE, 0, 0),
        SK(window, KEY_U32, 1, 65535),
        SK(tps, KEY_U32, 0, U32_MAX),
        SK(segment_mode, KEY_SEG_MODE, 0, 0),
        SK(data_coding, KEY_DCS, 1, 1024),
        SK(gsm_packed, KEY_BOOL, 0, 1),
        SK(msgid_norm, KEY_MSGID, 0, 0),
        SK(tls, KEY_BOOL, 0, 1),
        SK(ca_file, KEY_STR, 1, 4095),
        SK(ca_path, KEY_STR, 1, 4095),
        SK(cert_file, KEY_STR, 1, 4095),
        SK(key_file, KEY_STR, 1, 4095),
        SK(server_name, KEY_STR, 1, 253),
        SK(insecure, KEY_BOOL, 0, 1),
};

/* [store]: the fields of struct smx_store_config (docs/scale-out.md). The
 * URL may carry a password (redis://USER:PASS@HOST:PORT): never echoed. */
#define TK(field, kind, min, max) { #field, kind, offsetof(struct smx_store_config, field), min, max }
static const struct key_def store_keys[] = {
        TK(url, KEY_SECRET, 1, 1023),
        TK(instance, KEY_STR, 1, 64),
        TK(cluster, KEY_STR, 1, 64),
        TK(user, KEY_STR, 1, 127),
        TK(password, KEY_SECRET, 1, 255),
        TK(owner_takeover_ms, KEY_U32, 1, U32_MAX),
        TK(hold_ms, KEY_U32, 1, U32_MAX),
        TK(local_after_ms, KEY_U32, 1, U32_MAX),
        TK(buffer_bytes, KEY_U32, 4096, U32_MAX),
        TK(timeout_ms, KEY_U32, 1, U32_MAX),
        TK(ca_file, KEY_STR, 1, 4095),          /* TLS (rediss://): as an SMSC's */
        TK(ca_path, KEY_STR, 1, 4095),
        TK(cert_file, KEY_STR, 1, 4095),
        TK(key_file, KEY_STR, 1, 4095),
        TK(server_name, KEY_STR, 1, 253),
        TK(insecure, KEY_BOOL, 0, 1),
};

static const struct key_def *find_key(const struct key_def *t, size_t n, const char *name)
{
        for (size_t i = 0; i < n; i++)
                if (!strcmp(t[i].name, name))
                        return &t[i];
        return NULL;
}

/* A section header was read: "[client]", "[site NAME]" or "[smsc NAME]". */
void config_section_begin(struct load_ctx *x, const char *sect)
{
        x->sect_kind = SECT_BAD;
        if (!strcmp(sect, "client")) {
                x->sect_kind = SECT_CLIENT;
                return;
        }
        if (!strcmp(sect, "store")) {
                x->sect_kind = SECT_STORE;
                return;
        }
        if (!strcmp(sect, "http")) {
                x->sect_kind = SECT_HTTP;
                x->f->http_set = 1;
                return;
        }
        int is_smsc = !strncmp(sect, "smsc ", 5), is_site = !strncmp(sect, "site ", 5);
        if (!is_smsc && !is_site) {
                config_fail(x, "unknown section [%s] (expected [client], [http], [store], "
                            "[site NAME] or [smsc NAME])", sect);
                return;
        }
        const char *name = sect + 5;
        while (*name == ' ')
                name++;
        if (!config_name_ok(name)) {
                config_fail(x, "[%s]: bad name (1..%d characters, no spaces, '@', '=')",
                            sect, SMX_NAME_MAX);
                return;
        }
        ssize_t i = is_smsc ? config_find_smsc(x->f, name) : config_find_site(x->f, name);
        if (i >= 0) {
                config_fail(x, "[%s] appears twice", sect);
                return;
        }
        i = is_smsc ? config_smsc_new(x->f, name, x->line) : config_site_new(x->f, name, x->line);
        if (i < 0) {
                config_fail(x, "out of memory");
                x->err = SMX_ENOMEM;
                return;
        }
        x->sect_kind = is_smsc ? SECT_SMSC : SECT_SITE;
        x->sect_index = (size_t)i;
}

/* A key of [site NAME]: only weight. */
static void site_key(struct load_ctx *x, const char *section, const char *key,
                     const char *value)
{
        uint32_t w;
        if (strcmp(key, "weight") != 0) {
                config_fail(x, "unknown key '%s' in [%s] (only 'weight')", key, section);
                return;
        }
        if (smx_config_parse_u32(value, 1, 1000000, &w) < 0) {
                config_fail(x, "[%s] weight: '%s' is not a whole number in 1..1000000",
                            section, value);
                return;
        }
        x->f->sites[x->sect_index].weight = w;
}

/* inih calls this for every key = value: the current section's table says
 * what the key is and which struct it sets. */
int config_on_key(void *user, const char *section, const char *key, const char *value)
{
        struct load_ctx *x = user;
        const struct key_def *t = NULL;
        size_t n = 0;
        void *base = NULL;
        if (x->err)
                return 0;
        switch (x->sect_kind) {
        case SECT_NONE:
                config_fail(x, "key '%s' outside any section", key);
                return 0;
        case SECT_BAD:
                return 0;   /* the section header already failed */
        case SECT_SITE:
                site_key(x, section, key, value);
                return x->err ? 0 : 1;
        case SECT_CLIENT:
                t = client_keys, n = N_KEYS(client_keys), base = &x->f->cfg;
                break;
        case SECT_HTTP:
                t = config_http_keys, n = config_n_http_keys, base = &x->f->http;
                break;
        case SECT_STORE:
                t = store_keys, n = N_KEYS(store_keys), base = &x->f->cfg.store;
                break;
        case SECT_SMSC:
                t = smsc_keys, n = N_KEYS(smsc_keys), base = &x->f->smscs[x->sect_index];
                break;
        }
        const struct key_def *d = find_key(t, n, key);
        if (!d) {
                config_fail(x, "unknown key '%s' in [%s]", key, section);
                return 0;
        }
        config_apply_key(x, d, base, section, value);
        return x->err ? 0 : 1;
}
