/* The [http] section of a config file: its key table (the fields the
 * --transport/--http-* flags set, under the flags' names, and the other
 * knobs of struct smx_http_config by field name) and the value checks only
 * it needs: a comma list of URLs and a receiver "A.B.C.D:PORT" or
 * "[IPv6]:PORT". */
#include <arpa/inet.h>
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
        HK(stall_ms, KEY_U32, 1, U32_MAX),
        HK_AS("resubmit_pause", resubmit_pause_ms, KEY_SECS, 0, 86400),
        HK(resubmit_pause_ms, KEY_U32, 0, 86400000),
        HK(retry_backoff_ms, KEY_U32, 0, U32_MAX),
        HK(probe_interval_ms, KEY_U32, 1, U32_MAX),
        HK(primary_healthy_ms, KEY_U32, 0, U32_MAX),
        HK(dns_grace_ms, KEY_U32, 0, U32_MAX),
        HK(receiver, KEY_LISTEN_ADDR, 1, SMX_KNOB_ADDR_MAX - 1),
        HK(receiver_secret, KEY_SECRET, 1, 255),
        HK(receiver_allow, KEY_STR, 1, 4095),
        HK(receiver_max_body, KEY_U32, 256, 1u << 24),
        HK(receiver_max_request_s, KEY_U32, 1, 86400),
};

const size_t config_n_http_keys = N_KEYS(config_http_keys);

/* "A.B.C.D:PORT" with each part in range and nothing else. */
static int ipv4_addr_ok(const char *s)
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

/* "[IPv6]:PORT": an IPv6 literal in brackets, a port 0..65535. */
static int ipv6_addr_ok(const char *s)
{
        const char *close = strchr(s, ']');
        if (s[0] != '[' || !close || close[1] != ':')
                return 0;
        size_t n = (size_t)(close - s - 1);
        char host[INET6_ADDRSTRLEN];
        struct in6_addr a;
        if (n == 0 || n >= sizeof host)
                return 0;
        memcpy(host, s + 1, n);
        host[n] = '\0';
        uint32_t port;
        const char *p = close + 2;
        return inet_pton(AF_INET6, host, &a) == 1 && *p && strspn(p, "0123456789") == strlen(p) &&
               strlen(p) <= 5 && smx_config_parse_u32(p, 0, 65535, &port) == 0;
}

/* A listen address: "A.B.C.D:PORT" or "[IPv6]:PORT". */
int config_listen_addr_ok(const char *s)
{
        return ipv4_addr_ok(s) || ipv6_addr_ok(s);
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
