/* Message ids as each simulated SMSC formats them: decimal, lower or upper
 * hex, with or without leading zeros (the msgid_style knob; dr_msgid_style
 * for the id in its DRs, which real SMSCs often write differently). The serial is
 * global across SMSCs, so ids are unique across the whole service. Written
 * by hand (no printf) because it runs once per submit_sm. */
#include "sim_internal.h"

size_t sim_msgid_format_style(enum sim_msgid_style style, uint32_t msgid_width, uint64_t serial,
                              char *out)
{
        static const char lower[] = "0123456789abcdef", upper[] = "0123456789ABCDEF";
        char tmp[32];
        size_t n = 0;
        int hex = style != SIM_MSGID_DEC && style != SIM_MSGID_DEC_ZEROS;
        const char *digits = style == SIM_MSGID_HEX_UPPER || style == SIM_MSGID_HEX_UPPER_ZEROS
                             ? upper : lower;
        unsigned base = hex ? 16 : 10;
        do {
                tmp[n++] = digits[serial % base];
                serial /= base;
        } while (serial && n < sizeof(tmp));
        size_t width = 0;
        if (style == SIM_MSGID_DEC_ZEROS || style == SIM_MSGID_HEX_ZEROS ||
            style == SIM_MSGID_HEX_UPPER_ZEROS)
                width = msgid_width < sizeof(tmp) ? msgid_width : sizeof(tmp);
        size_t w = 0;
        for (size_t i = n; i < width; i++)
                out[w++] = '0';
        while (n)
                out[w++] = tmp[--n];
        out[w] = 0;
        return w;
}

size_t sim_msgid_format(const struct sim_knobs *k, uint64_t serial, char *out)
{
        return sim_msgid_format_style(k->msgid_style, k->msgid_width, serial, out);
}
