/* data_coding -> character set, per SMSC (SMPP.md §6.3 policy). The meaning
 * of data_coding 0 (and 2) differs between this service and the spec, so an
 * SMSC's map is data, chosen by configuration; nothing here guesses. */
#include "text/text_internal.h"

/* The service map as a constant, for callers that pass no map (no per-call
 * table building on the MT path). Same content as smx_dcs_map_service(). */
static const struct smx_dcs_map service_map = {{
        [SMPP_DCS_DEFAULT] = SMX_ENC_UTF8,
        [SMPP_DCS_IA5] = SMX_ENC_ASCII,
        [SMPP_DCS_GSM] = SMX_ENC_GSM,
        [SMPP_DCS_LATIN1] = SMX_ENC_LATIN1,
        [SMPP_DCS_BINARY] = SMX_TEXT_ENC_BINARY,
        [SMPP_DCS_BINARY + 1 ... SMPP_DCS_UCS2 - 1] = SMX_TEXT_ENC_UNKNOWN,
        [SMPP_DCS_UCS2] = SMX_ENC_UCS2,
        [SMPP_DCS_UCS2 + 1 ... 255] = SMX_TEXT_ENC_UNKNOWN,
}};

const struct smx_dcs_map *smx_text_service_map(void)
{
        return &service_map;
}

static void map_clear(struct smx_dcs_map *m)
{
        for (unsigned i = 0; i < 256; i++)
                m->enc[i] = SMX_TEXT_ENC_UNKNOWN;
}

void smx_dcs_map_service(struct smx_dcs_map *m)
{
        *m = service_map;
}

/* 23.038 alphabet bits 3-2 of the general and automatic-deletion groups. */
static uint8_t alphabet_bits(unsigned dcs)
{
        switch ((dcs >> 2) & 3) {
        case 0: return SMX_ENC_GSM;
        case 1: return SMX_TEXT_ENC_BINARY;
        case 2: return SMX_ENC_UCS2;
        default: return SMX_TEXT_ENC_UNKNOWN;   /* reserved */
        }
}

void smx_dcs_map_generic(struct smx_dcs_map *m)
{
        map_clear(m);
        m->enc[0x00] = SMX_ENC_GSM;
        m->enc[0x01] = SMX_ENC_ASCII;
        m->enc[0x02] = SMX_TEXT_ENC_BINARY;
        m->enc[0x03] = SMX_ENC_LATIN1;
        m->enc[0x04] = SMX_TEXT_ENC_BINARY;
        m->enc[0x08] = SMX_ENC_UCS2;
        /* 00xx general (0x10-0x1F: with message class) and 01xx automatic
         * deletion (0x40-0x4F); the compressed halves stay unknown. */
        for (unsigned d = 0x10; d <= 0x1F; d++)
                m->enc[d] = alphabet_bits(d);
        for (unsigned d = 0x40; d <= 0x4F; d++)
                m->enc[d] = alphabet_bits(d);
        for (unsigned d = 0xC0; d <= 0xDF; d++) /* message waiting, GSM 7-bit */
                m->enc[d] = SMX_ENC_GSM;
        for (unsigned d = 0xE0; d <= 0xEF; d++) /* message waiting, UCS-2 */
                m->enc[d] = SMX_ENC_UCS2;
        for (unsigned d = 0xF0; d <= 0xFF; d++) /* message class: bit 2 = 8-bit */
                m->enc[d] = (d & 0x04) ? SMX_TEXT_ENC_BINARY : SMX_ENC_GSM;
}

int smx_dcs_for_encoding(const struct smx_dcs_map *m, enum smx_encoding enc)
{
        if (enc == SMX_ENC_AUTO)
                return SMX_EINVAL;
        for (unsigned d = 0; d < 256; d++)
                if (m->enc[d] == (uint8_t)enc)
                        return (int)d;
        return SMX_EINVAL;
}
