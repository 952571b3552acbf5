/* Helpers shared between the files of src/text; not part of the API. */
#ifndef SMX_TEXT_INTERNAL_H
#define SMX_TEXT_INTERNAL_H

#include "text/text.h"

/* Decode n septets of GSM text, unpacked (packed = 0) or packed after `fill`
 * padding bits, to UTF-8 in out[0..cap). n must not exceed what `in` holds. */
size_t smx_text_gsm_decode(const uint8_t *in, size_t len, int packed, unsigned fill,
                           size_t n, uint8_t *out, size_t cap, unsigned *flags);

/* The map smx_dcs_map_service() fills, as a shared constant. */
const struct smx_dcs_map *smx_text_service_map(void);

/* GSM code of a code point: the septet (0..0x7F), SMX_TEXT_GSM_EXT | code
 * for the extension table (sent as ESC, code), or -1 when GSM has none. */
#define SMX_TEXT_GSM_EXT 0x100
int smx_text_gsm_code(uint32_t cp);

/* Encode one code point in enc into tmp[0..4): returns octets (or septets,
 * for GSM: 1 or 2, ESC first) and *units (septets / UTF-16 units / octets);
 * 0 when enc cannot hold cp. */
size_t smx_text_enc_cp(enum smx_encoding enc, uint32_t cp, uint8_t tmp[4], unsigned *units);

#endif
