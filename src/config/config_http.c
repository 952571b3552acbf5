/* The [http] section of a config file: its key table (the fields the
 * --transport/--http-* flags set, under the flags' names, and the other
 * knobs of struct smx_http_config by field name) and the value checks only
 * it needs: a comma list of URLs and an IPv4:PORT receiver. */
#include <string.h>

#include "config/config_int.h"
#include "knobs/knobs.h"
#include "pdu/smpp_defs.h"

#define HK(field, kind, min, max) { #field, kind, offsetof(struct smx_http_config, field), min, max }
#define HK_AS(name, field, kind, min, max) \
        { name, kind, offsetof(struct smx_http_config, field), min, max }

/* [http]: the fields the --transport/--http-* flags set, under the flags'
 * names, and the other knobs of struct smx_http_config by field name. */
const struct key_def config_http_keys[] = {
        HK(transport, KEY_TRANSPORT, 0, 0),
        HK_AS("url", urls, KEY_URLS, 8, 2048),
        HK(login, KEY_STR, 1, SMPP_SYSTEM_ID_MAX - 1),
        HK(password, KEY_SECRET, 0, 255),
        HK(use_get, KEY_BOOL, 0, 1),
        HK(ca_file, KEY_STR, 1, 4095),
        HK(insecure, KEY_BOOL, 0, 1),
        HK(dns_server, KEY_ADDR, 1, SMX_KNOB_ADDR_MAX - 1),
        HK(max_host_conns, KEY_U32, 1, 65535),
        HK(max_in_flight, KEY_U32, 1, 1u << 24),
        HK(connect_timeout_ms, KEY_U32, 1, U32_MAX),
        HK(timeout_ms, KEY_U32, 1, U32_MAX),
        HK_AS("resubmit_pause", resubmit_pause_ms, KEY_SECS, 0, 86400),
        HK(resubmit_pause_ms, KEY_U32, 0, 86400000),
        HK(retry_backoff_ms, KEY_U32, 0, U32_MAX),
        HK(probe_interval_ms, KEY_U32, 1, U32_MAX),
        HK(primary_healthy_ms, KEY_U32, 0, U32_MAX),
        HK(dns_grace_ms, KEY_U32, 0, U32_MAX),
        HK(receiver, KEY_IPV4_ADDR, 1, SMX_KNOB_ADDR_MAX - 1),
        HK(receiver_secret, KEY_SECRET, 1, 255),
        HK(receiver_allow, KEY_STR, 1, 4095),
        HK(receiver_max_body, KEY_U32, 256, 1u << 24),
        HK(receiver_max_request_s, KEY_U32, 1, 86400),
};

const size_t config_n_http_keys = N_KEYS(config_http_keys);

/* "A.B.C.D:PORT" with each part in range and nothing else. */
int config_ipv4_addr_ok(const char *s)
{
        uint32_t v;
        char part[8];
        for (int i = 0; i < 5; i++) {
                size_t n = 0;
                while (s[n] >= '0' && s[n] <= '9' && n < sizeof part - 1)
                        n++;
                if (n == 0 || n == sizeof part - 1)
                        return 0;
                memcpy(part, s, n);
                part[n] = '\0';
                if (smx_config_parse_u32(part, 0, i < 4 ? 255 : 65535, &v) < 0)
                        return 0;
                s += n;
                if (i < 3 && *s++ != '.')
                        return 0;
                if (i == 3 && *s++ != ':')
                        return 0;
        }
        return *s == '\0';
}

/* Append each URL of a comma list to h->urls (spaces around items trimmed). */
void config_add_urls(struct load_ctx *x, struct smx_http_config *h, const char *section,
                     const struct key_def *def, const char *value)
{
        const char *p = value;
        for (;;) {
                const char *e = strchr(p, ',');
                size_t n = e ? (size_t)(e - p) : strlen(p);
                while (n && (*p == ' ' || *p == '\t'))
                        p++, n--;
                while (n && (p[n - 1] == ' ' || p[n - 1] == '\t'))
                        n--;
                int scheme = (n > 7 && !strncmp(p, "http://", 7)) ||
                             (n > 8 && !strncmp(p, "https://", 8));
                if (!scheme || n > def->max) {
                        config_fail(x, "[%s] %s: '%.*s' is not an http:// or https:// URL",
                                    section, def->name, (int)(n > 200 ? 200 : n), p);
                        return;
                }
                if (h->n_urls == SMX_HTTP_URLS_MAX) {
                        config_fail(x, "[%s] %s: at most %d URLs", section, def->name,
                                    SMX_HTTP_URLS_MAX);
                        return;
                }
                char buf[2049];
                memcpy(buf, p, n);
                buf[n] = '\0';
                char *copy = config_own_string(x->f, buf);
                if (!copy) {
                        config_fail(x, "out of memory");
                        x->err = SMX_ENOMEM;
                        return;
                }
                h->urls[h->n_urls++] = copy;
                if (!e)
                        return;
                p = e + 1;
        }
}
