/* Message id normalisation for DR correlation (HOSTILE F-07, SMPP.md §7.3):
 * some SMSCs return an id in hex in submit_sm_resp and in decimal in the
 * receipt text, or pad it with zeros, or change its case. Per SMSC, each
 * source of ids is declared opaque or a number in base 10/16; numbers are
 * rewritten as decimal without leading zeros (any length: the conversion is
 * done on a digit array, not in a machine word), so both sides compare
 * equal. The default rule (digits_auto) needs no declaration: an id made
 * only of hex digits is a number in some base written in some case with
 * some padding, so it is lower-cased and loses its leading zeros; any other
 * id is opaque and compared exactly. It looks at the id alone, never at
 * which SMSC or source it came from, so resp and receipt ids canonicalise
 * alike on every bind. One function for every id, so resp and receipt ids
 * cannot drift. */
#include "text/text.h"

#define ID_DIGITS_MAX 128   /* longest numeric id converted (hex digits) */
#define LIMB 1000000000u    /* decimal limbs of 9 digits */
#define LIMBS 18            /* 128 hex digits < 155 decimal digits < 18*9 */

static int digit_value(uint8_t c, unsigned base)
{
        int v;
        if (c >= '0' && c <= '9')
                v = c - '0';
        else if (c >= 'a' && c <= 'f')
                v = c - 'a' + 10;
        else if (c >= 'A' && c <= 'F')
                v = c - 'A' + 10;
        else
                return -1;
        return (unsigned)v < base ? v : -1;
}

static int put_char(char *out, size_t cap, size_t *o, char c)
{
        if (*o + 1 >= cap)
                return -1;
        out[(*o)++] = c;
        return 0;
}

/* Decimal form of a hex number (digits validated by the caller). */
static int hex_to_decimal(const uint8_t *id, size_t len, char *out, size_t cap)
{
        uint32_t limb[LIMBS] = {0};
        size_t used = 1, o = 0;

        for (size_t i = 0; i < len; i++) {
                uint64_t carry = (uint64_t)digit_value(id[i], 16);
                for (size_t k = 0; k < used; k++) {
                        uint64_t x = (uint64_t)limb[k] * 16 + carry;
                        limb[k] = (uint32_t)(x % LIMB);
                        carry = x / LIMB;
                }
                if (carry && used < LIMBS)
                        limb[used++] = (uint32_t)carry;
        }
        while (used > 1 && limb[used - 1] == 0)
                used--;
        /* Most significant limb without padding, the rest as 9 digits. */
        char tmp[10];
        for (size_t k = used; k-- > 0;) {
                uint32_t v = limb[k];
                int n = 0;
                do {
                        tmp[n++] = (char)('0' + v % 10);
                        v /= 10;
                } while (v || (k != used - 1 && n < 9));
                while (n > 0)
                        if (put_char(out, cap, &o, tmp[--n]) < 0)
                                return SMX_E2BIG;
        }
        out[o] = '\0';
        return (int)o;
}

int smx_msgid_normalise(const struct smx_id_norm *n, enum smx_id_source src,
                        const uint8_t *id, size_t len, char *out, size_t cap)
{
        static const struct smx_id_norm exact;
        const struct smx_id_norm *rules = n ? n : &exact;
        unsigned base = src == SMX_ID_FROM_DR_TEXT ? rules->dr_base : rules->resp_base;
        size_t o = 0, i = 0;

        if (!out || cap == 0)
                return SMX_E2BIG;
        if (!id)
                len = 0;
        if ((base == 10 || base == 16) && len > 0 && len <= ID_DIGITS_MAX) {
                size_t k = 0;
                while (k < len && digit_value(id[k], base) >= 0)
                        k++;
                if (k == len) {
                        while (i + 1 < len && id[i] == '0')
                                i++;
                        if (base == 16)
                                return hex_to_decimal(id + i, len - i, out, cap);
                        for (; i < len; i++)
                                if (put_char(out, cap, &o, (char)id[i]) < 0)
                                        return SMX_E2BIG;
                        out[o] = '\0';
                        return (int)o;
                }
        }
        /* Default: a hex digit string folds case and loses its zeros; any
         * other id is compared exactly (the flags below still apply). */
        int fold = rules->fold_case, strip = rules->strip_zeros;
        if (rules->digits_auto && len > 0) {
                size_t k = 0;
                while (k < len && digit_value(id[k], 16) >= 0)
                        k++;
                if (k == len)
                        fold = strip = 1;
        }
        /* Opaque id (or not a number in its declared base). */
        if (strip)
                while (i + 1 < len && id[i] == '0')
                        i++;
        for (; i < len; i++) {
                uint8_t c = id[i];
                if (fold && c >= 'A' && c <= 'Z')
                        c = (uint8_t)(c + 32);
                if (put_char(out, cap, &o, (char)c) < 0)
                        return SMX_E2BIG;
        }
        out[o] = '\0';
        return (int)o;
}
