/* The per-SMSC data_coding table as text (smx_smsc_config.data_coding):
 * "BASE[,VALUE=CHARSET...]" with BASE "service" or "generic" and CHARSET one
 * of utf8 ascii gsm latin1 ucs2 binary unknown; VALUE is 0..255 in decimal
 * or 0x hex. Pure; used by the client (validation, the bind's map) and the
 * config loader (errors at load time). */
#ifndef SMX_DCS_SPEC_H
#define SMX_DCS_SPEC_H

#include <stddef.h>

struct smx_dcs_map;

/* Fill m from spec (NULL or "" = "service"). Returns 0, or SMX_EINVAL with
 * the offending part named in err. */
int smx_dcs_spec_parse(const char *spec, struct smx_dcs_map *m, char *err, size_t err_len);

#endif
