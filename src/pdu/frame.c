/* Framing of an SMPP byte stream, and safe rendering of peer bytes for logs.
 *
 * SMPP frames itself with the 4-octet command_length, so the framer only has
 * to look at those 4 octets: below 16 or above the cap, the stream cannot be
 * resynchronised (HOSTILE.md ); otherwise it says whether the whole
 * PDU is already in the buffer. The length is compared as an unsigned 32-bit
 * value, so 0x80000000 and above are "too long", never negative (SMPP.md §1).
 * The sniffer turns an absurd length into a hint for the log: a TLS record,
 * an HTTP or SSH banner, an AMQP header or an RDP TPKT are the usual
 * "wrong port / wrong TLS setting" peers (A-07, N-09). */
#include "pdu.h"

ssize_t smx_frame_peek(const uint8_t *buf, size_t len, uint32_t max_pdu)
{
        uint32_t clen, cap = max_pdu ? max_pdu : SMPP_DEFAULT_MAX_PDU;

        if (len < 4)
                return 0;
        clen = smx_get_u32(buf);
        if (clen < SMPP_HEADER_LEN)
                return SMX_PDU_E_SHORT;
        if (clen > cap)
                return SMX_PDU_E_TOO_LONG;
        if (len < clen)
                return 0;
        return (ssize_t)clen;
}

static int starts(const uint8_t *buf, size_t len, const char *s, size_t n)
{
        if (len < n)
                return 0;
        for (size_t i = 0; i < n; i++)
                if (buf[i] != (uint8_t)s[i])
                        return 0;
        return 1;
}

const char *smx_frame_sniff(const uint8_t *buf, size_t len)
{
        /* TLS record types 0x14..0x17 (0x15 alert, 0x16 handshake), version 3.x */
        if (len >= 2 && buf[1] == 0x03 && buf[0] >= 0x14 && buf[0] <= 0x17)
                return "TLS";
        if (starts(buf, len, "HTTP", 4) || starts(buf, len, "GET ", 4) ||
            starts(buf, len, "POST", 4))
                return "HTTP";
        if (starts(buf, len, "SSH-", 4))
                return "SSH";
        if (starts(buf, len, "AMQP", 4))
                return "AMQP";
        if (len >= 2 && buf[0] == 0x03 && buf[1] == 0x00)
                return "RDP/TPKT";
        if (starts(buf, len, "220 ", 4) || starts(buf, len, "220-", 4))
                return "SMTP/FTP";
        return NULL;
}

size_t smx_escape(const uint8_t *in, size_t n, char *out, size_t cap)
{
        static const char hex[] = "0123456789abcdef";
        size_t o = 0;

        if (cap == 0)
                return 0;
        for (size_t i = 0; i < n; i++) {
                uint8_t c = in[i];

                if (c >= 0x20 && c < 0x7f && c != '\\') {
                        if (o + 1 >= cap)
                                break;
                        out[o++] = (char)c;
                } else if (c == '\\') {
                        if (o + 2 >= cap)
                                break;
                        out[o++] = '\\';
                        out[o++] = '\\';
                } else {
                        if (o + 4 >= cap)
                                break;
                        out[o++] = '\\';
                        out[o++] = 'x';
                        out[o++] = hex[c >> 4];
                        out[o++] = hex[c & 15];
                }
        }
        out[o] = 0;
        return o;
}
