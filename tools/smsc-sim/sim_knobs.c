/* Behaviour knobs of each simulated SMSC: defaults and `key = value`
 * parsing, shared by the config file (sim_config.c) and the `set` control
 * command. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sim_internal.h"

void sim_knobs_default(struct sim_knobs *k, const struct sim_options *o)
{
        memset(k, 0, sizeof(*k));
        snprintf(k->system_id, sizeof(k->system_id), "%s", o->system_id ? o->system_id : "smsmux");
        snprintf(k->password, sizeof(k->password), "%s", o->password ? o->password : "secret");
        k->dr_delay_ms.lo = 50;
        k->dr_delay_ms.hi = 200;
        k->final_weight[SMPP_STATE_DELIVERED] = 100;
        k->deliver_timeout_ms = 10000;
        k->deliver_max_sends = 5;
        k->mo_dcs = SMPP_DCS_DEFAULT;
        snprintf(k->mo_from, sizeof(k->mo_from), "4477009");
        snprintf(k->mo_to, sizeof(k->mo_to), "12345");
        k->dcs_ok[SMPP_DCS_DEFAULT] = k->dcs_ok[SMPP_DCS_IA5] = k->dcs_ok[SMPP_DCS_GSM] = 1;
        k->dcs_ok[SMPP_DCS_LATIN1] = k->dcs_ok[SMPP_DCS_UCS2] = 1;
        k->msgid_style = SIM_MSGID_HEX_UPPER;
        k->msgid_width = 10;
        k->dr_msgid_style = SIM_MSGID_SAME;
        k->service_dedup = 1;
        k->kill_accept_close = 1;
        k->send_interface_version = 1;
}

static int parse_double(const char *v, double *out)
{
        char *end;
        errno = 0;
        double d = strtod(v, &end);
        if (errno || end == v || *end)
                return -EINVAL;
        *out = d;
        return 0;
}

static int parse_prob(const char *v, double *out)
{
        double d;
        if (parse_double(v, &d) < 0 || d < 0 || d > 1)
                return -EINVAL;
        *out = d;
        return 0;
}

static int parse_u32(const char *v, uint32_t *out)
{
        char *end;
        errno = 0;
        unsigned long x = strtoul(v, &end, 0);
        if (errno || end == v || *end || x > UINT32_MAX)
                return -EINVAL;
        *out = (uint32_t)x;
        return 0;
}

/* "N", "LO-HI" (uniform) or "exp:MEAN[:MAX]" (exponential), milliseconds */
static int parse_range(const char *v, struct sim_range *r)
{
        char *end;
        errno = 0;
        if (!strncmp(v, "exp:", 4)) {
                double mean = strtod(v + 4, &end), cap = 0;
                if (errno || end == v + 4 || mean <= 0)
                        return -EINVAL;
                if (*end == ':') {
                        const char *p = end + 1;
                        cap = strtod(p, &end);
                        if (end == p || cap < 0)
                                return -EINVAL;
                }
                if (*end)
                        return -EINVAL;
                r->lo = mean;
                r->hi = cap;
                r->exp = 1;
                return 0;
        }
        double lo = strtod(v, &end);
        if (errno || end == v || lo < 0)
                return -EINVAL;
        double hi = lo;
        if (*end == '-') {
                const char *p = end + 1;
                hi = strtod(p, &end);
                if (end == p || hi < lo)
                        return -EINVAL;
        }
        if (*end)
                return -EINVAL;
        r->lo = lo;
        r->hi = hi;
        r->exp = 0;
        return 0;
}

int sim_state_parse(const char *name, uint8_t *out)
{
        static const char *names[] = { "SCHEDULED", "ENROUTE", "DELIVERED", "EXPIRED", "DELETED",
                                       "UNDELIVERABLE", "ACCEPTED", "UNKNOWN", "REJECTED", "SKIPPED" };
        for (uint8_t i = 0; i < 10; i++) {
                if (!strcasecmp(name, names[i])) {
                        *out = i;
                        return 0;
                }
        }
        return -EINVAL;
}

/* "DELIVERED:90,UNDELIVERABLE:5,EXPIRED:5" */
static int parse_mix(const char *v, uint32_t w[10])
{
        uint32_t nw[10] = { 0 };
        char tmp[256];
        snprintf(tmp, sizeof(tmp), "%s", v);
        char *save = NULL;
        for (char *tok = strtok_r(tmp, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
                char *colon = strchr(tok, ':');
                uint32_t weight = 1;
                if (colon) {
                        *colon = 0;
                        if (parse_u32(colon + 1, &weight) < 0)
                                return -EINVAL;
                }
                uint8_t st;
                if (sim_state_parse(tok, &st) < 0)
                        return -EINVAL;
                nw[st] += weight;
        }
        memcpy(w, nw, sizeof(nw));
        return 0;
}

static int parse_dcs_list(const char *v, uint8_t ok[256])
{
        uint8_t n[256] = { 0 };
        if (!strcasecmp(v, "all")) {
                memset(ok, 1, 256);
                return 0;
        }
        char tmp[512];
        snprintf(tmp, sizeof(tmp), "%s", v);
        char *save = NULL;
        for (char *tok = strtok_r(tmp, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
                uint32_t x;
                if (parse_u32(tok, &x) < 0 || x > 255)
                        return -EINVAL;
                n[x] = 1;
        }
        memcpy(ok, n, 256);
        return 0;
}

static int parse_digits(const char *v, char *out, size_t cap)
{
        size_t n = strlen(v);
        if (n == 0 || n >= cap || n > 16)
                return -EINVAL;
        for (size_t i = 0; i < n; i++)
                if (v[i] < '0' || v[i] > '9')
                        return -EINVAL;
        memcpy(out, v, n + 1);
        return 0;
}

int sim_knob_set(struct sim_knobs *k, const char *key, const char *v)
{
        uint32_t u;
        if (!strcmp(key, "system_id")) {
                if (strlen(v) >= SMPP_SYSTEM_ID_MAX)
                        return -EINVAL;
                snprintf(k->system_id, sizeof(k->system_id), "%s", v);
                return 0;
        }
        if (!strcmp(key, "password")) {
                if (strlen(v) >= SMPP_PASSWORD_MAX)
                        return -EINVAL;
                snprintf(k->password, sizeof(k->password), "%s", v);
                return 0;
        }
        if (!strcmp(key, "resp_latency_ms"))
                return parse_range(v, &k->resp_latency_ms);
        if (!strcmp(key, "dr_delay_ms"))
                return parse_range(v, &k->dr_delay_ms);
        if (!strcmp(key, "dr_accepted_prob"))
                return parse_prob(v, &k->dr_accepted_prob);
        if (!strcmp(key, "dr_final_mix"))
                return parse_mix(v, k->final_weight);
        if (!strcmp(key, "other_site_prob"))
                return parse_prob(v, &k->other_site_prob);
        if (!strcmp(key, "dr_before_resp_prob"))
                return parse_prob(v, &k->dr_before_resp_prob);
        if (!strcmp(key, "deliver_timeout_ms")) {
                if (parse_u32(v, &u) < 0 || u == 0)
                        return -EINVAL;
                k->deliver_timeout_ms = u;
                return 0;
        }
        if (!strcmp(key, "deliver_max_sends")) {
                if (parse_u32(v, &u) < 0 || u == 0)
                        return -EINVAL;
                k->deliver_max_sends = u;
                return 0;
        }
        if (!strcmp(key, "mo_rate")) {
                double d;
                if (parse_double(v, &d) < 0 || d < 0 || d > 1e6)
                        return -EINVAL;
                k->mo_rate = d;
                return 0;
        }
        if (!strcmp(key, "mo_multipart_prob"))
                return parse_prob(v, &k->mo_multipart_prob);
        if (!strcmp(key, "mo_sar_prob"))
                return parse_prob(v, &k->mo_sar_prob);
        if (!strcmp(key, "mo_out_of_order_prob"))
                return parse_prob(v, &k->mo_out_of_order_prob);
        if (!strcmp(key, "mo_udh16_prob"))
                return parse_prob(v, &k->mo_udh16_prob);
        if (!strcmp(key, "mo_text")) {
                if (strlen(v) >= sizeof(k->mo_text))
                        return -EINVAL;
                snprintf(k->mo_text, sizeof(k->mo_text), "%s", v);
                return 0;
        }
        if (!strcmp(key, "mo_dcs")) {
                if (parse_u32(v, &u) < 0 || u > 255)
                        return -EINVAL;
                k->mo_dcs = (uint8_t)u;
                return 0;
        }
        if (!strcmp(key, "mo_from"))
                return parse_digits(v, k->mo_from, sizeof(k->mo_from));
        if (!strcmp(key, "mo_to"))
                return parse_digits(v, k->mo_to, sizeof(k->mo_to));
        if (!strcmp(key, "dcs"))
                return parse_dcs_list(v, k->dcs_ok);
        if (!strcmp(key, "msgid_style") || !strcmp(key, "dr_msgid_style")) {
                static const char *names[SIM_MSGID_STYLES] = { "dec", "hex", "HEX", "dec0",
                                                               "hex0", "HEX0" };
                int dr = key[0] == 'd';
                if (dr && !strcmp(v, "same")) {
                        k->dr_msgid_style = SIM_MSGID_SAME;
                        return 0;
                }
                for (int i = 0; i < SIM_MSGID_STYLES; i++) {
                        if (!strcmp(v, names[i])) {
                                if (dr)
                                        k->dr_msgid_style = i;
                                else
                                        k->msgid_style = (enum sim_msgid_style)i;
                                return 0;
                        }
                }
                return -EINVAL;
        }
        if (!strcmp(key, "dr_msgid_in")) {
                if (!strcmp(v, "tlv") || !strcmp(v, "text")) {
                        k->dr_msgid_text = v[1] == 'e';
                        return 0;
                }
                return -EINVAL;
        }
        if (!strcmp(key, "msgid_width")) {
                if (parse_u32(v, &u) < 0 || u == 0 || u > 32)
                        return -EINVAL;
                k->msgid_width = u;
                return 0;
        }
        if (!strcmp(key, "service_dedup")) {
                if (parse_u32(v, &u) < 0 || u > 1)
                        return -EINVAL;
                k->service_dedup = (uint8_t)u;
                return 0;
        }
        if (!strcmp(key, "kill_mode")) {
                if (!strcmp(v, "accept-close"))
                        k->kill_accept_close = 1;
                else if (!strcmp(v, "close-listener"))
                        k->kill_accept_close = 0;
                else
                        return -EINVAL;
                return 0;
        }
        if (!strcmp(key, "unsupported_reply")) {
                if (!strcmp(v, "nack"))
                        k->unsupported_resp = 0;
                else if (!strcmp(v, "resp"))
                        k->unsupported_resp = 1;
                else
                        return -EINVAL;
                return 0;
        }
        if (!strcmp(key, "enquire_link_ms")) {
                if (parse_u32(v, &u) < 0)
                        return -EINVAL;
                k->enquire_link_ms = u;
                return 0;
        }
        if (!strcmp(key, "interface_version_tlv")) {
                if (parse_u32(v, &u) < 0 || u > 1)
                        return -EINVAL;
                k->send_interface_version = (uint8_t)u;
                return 0;
        }
        return -ENOENT;
}

int sim_status_parse(const char *txt, uint32_t *out)
{
        if (txt[0] >= '0' && txt[0] <= '9')
                return parse_u32(txt, out);
        for (uint32_t st = 1; st < 0x200; st++) {
                const char *n = smx_status_name(st);
                if (n && !strcasecmp(n, txt)) {
                        *out = st;
                        return 0;
                }
        }
        return -EINVAL;
}
