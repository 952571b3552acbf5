/* The drop-resp fault: per SMSC, per kind of request, how many of the next
 * responses the service swallows (the request is handled, its answer is
 * never written). A kind is named by the request the response answers, so
 * `drop-resp smsc1.dc3 1 enquire_link` loses the next enquire_link_resp and
 * `drop-resp smsc1.dc3 2 bind` the next two bind_*_resp of any bind type.
 * `generic_nack` covers requests the service cannot read at all (unknown
 * command_id, unusable header) whose answer is a generic_nack; a request of a
 * known kind answered by generic_nack (e.g. data_sm) counts as its own kind.
 * Engine thread (or under the lock). */
#include <errno.h>
#include <string.h>

#include "sim_internal.h"

static const char *const kind_names[SIM_DROP_KINDS] = {
        [SIM_DROP_SUBMIT] = "submit_sm",
        [SIM_DROP_BIND_TX] = "bind_transmitter",
        [SIM_DROP_BIND_RX] = "bind_receiver",
        [SIM_DROP_BIND_TRX] = "bind_transceiver",
        [SIM_DROP_ENQUIRE_LINK] = "enquire_link",
        [SIM_DROP_UNBIND] = "unbind",
        [SIM_DROP_DATA_SM] = "data_sm",
        [SIM_DROP_DELIVER_SM] = "deliver_sm",
        [SIM_DROP_UNSUPPORTED] = "unsupported",
        [SIM_DROP_NACK] = "generic_nack",
};

const char *sim_drop_kind_name(int kind)
{
        return kind >= 0 && kind < SIM_DROP_KINDS ? kind_names[kind] : "?";
}

int sim_drop_kind_of(uint32_t request_id)
{
        switch (request_id) {
        case SMPP_SUBMIT_SM: return SIM_DROP_SUBMIT;
        case SMPP_BIND_TRANSMITTER: return SIM_DROP_BIND_TX;
        case SMPP_BIND_RECEIVER: return SIM_DROP_BIND_RX;
        case SMPP_BIND_TRANSCEIVER: return SIM_DROP_BIND_TRX;
        case SMPP_ENQUIRE_LINK: return SIM_DROP_ENQUIRE_LINK;
        case SMPP_UNBIND: return SIM_DROP_UNBIND;
        case SMPP_DATA_SM: return SIM_DROP_DATA_SM;
        case SMPP_DELIVER_SM: return SIM_DROP_DELIVER_SM;
        case SMPP_QUERY_SM:
        case SMPP_CANCEL_SM:
        case SMPP_REPLACE_SM:
        case SMPP_SUBMIT_MULTI:
                return SIM_DROP_UNSUPPORTED;
        default:
                return SIM_DROP_NACK;
        }
}

/* One word: a kind name (with or without `_resp`), `bind` (the three bind
 * kinds), one of the R7 operations (`unsupported`) or `all`. Sets the selected kinds in sel[]. */
static int parse_word(const char *w, size_t n, uint8_t sel[SIM_DROP_KINDS])
{
        if (n > 5 && !memcmp(w + n - 5, "_resp", 5))
                n -= 5;
        if (n == 3 && !memcmp(w, "all", 3)) {
                memset(sel, 1, SIM_DROP_KINDS);
                return 0;
        }
        if (n == 4 && !memcmp(w, "bind", 4)) {
                sel[SIM_DROP_BIND_TX] = sel[SIM_DROP_BIND_RX] = sel[SIM_DROP_BIND_TRX] = 1;
                return 0;
        }
        static const char *const unsupported[] = { "query_sm", "cancel_sm", "replace_sm", "submit_multi" };
        for (size_t i = 0; i < sizeof(unsupported) / sizeof(unsupported[0]); i++) {
                if (strlen(unsupported[i]) == n && !memcmp(w, unsupported[i], n)) {
                        sel[SIM_DROP_UNSUPPORTED] = 1;
                        return 0;
                }
        }
        for (int k = 0; k < SIM_DROP_KINDS; k++) {
                if (strlen(kind_names[k]) == n && !memcmp(w, kind_names[k], n)) {
                        sel[k] = 1;
                        return 0;
                }
        }
        return -EINVAL;
}

int sim_drop_kinds_parse(const char *list, uint8_t sel[SIM_DROP_KINDS])
{
        memset(sel, 0, SIM_DROP_KINDS);
        if (!list)
                return -EINVAL;
        const char *p = list;
        while (*p) {
                size_t n = strcspn(p, ", \t\r\n");
                if (n && parse_word(p, n, sel) < 0)
                        return -EINVAL;
                p += n;
                p += strspn(p, ", \t\r\n");
        }
        for (int k = 0; k < SIM_DROP_KINDS; k++)
                if (sel[k])
                        return 0;
        return -EINVAL;
}

int sim_resp_drop(struct sim_smsc *m, uint32_t request_id)
{
        int kind = sim_drop_kind_of(request_id);
        if (!m->f.drop_resp[kind])
                return 0;
        m->f.drop_resp[kind]--;
        m->c.resp_dropped++;
        m->c.resp_dropped_kind[kind]++;
        return 1;
}
