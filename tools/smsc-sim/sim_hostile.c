/* Hostile input an SMSC can send after a bind (../shared/HOSTILE.md), for the
 * `hostile` fault: each case is named by its HOSTILE.md id and built as raw
 * bytes here, because most are malformed on purpose and the codec's encoder
 * (rightly) refuses to produce them.
 *
 * `fatal` cases break the byte stream (bad command_length, non-SMPP bytes, a
 * PDU that never completes, unbind): a client is expected to close. H-09
 * leaves an MO group open until the client's reassembly timeout. `all`
 * sends every other case, in table order. Some cases are several PDUs.
 * Engine thread only. */
#include <string.h>

#include "sim_internal.h"

struct hb {
        uint8_t b[2048];
        size_t n;
        size_t start;           /* where the PDU being built begins */
};

static void put8(struct hb *h, uint8_t v)
{
        if (h->n < sizeof(h->b))
                h->b[h->n++] = v;
}
static void put16(struct hb *h, uint16_t v)
{
        put8(h, (uint8_t)(v >> 8));
        put8(h, (uint8_t)v);
}
static void put32(struct hb *h, uint32_t v)
{
        put16(h, (uint16_t)(v >> 16));
        put16(h, (uint16_t)v);
}
static void putmem(struct hb *h, const void *p, size_t n)
{
        for (size_t i = 0; i < n; i++)
                put8(h, ((const uint8_t *)p)[i]);
}
static void putcs(struct hb *h, const char *s)
{
        putmem(h, s, strlen(s) + 1);
}
static void header(struct hb *h, uint32_t id, uint32_t status, uint32_t seq)
{
        h->start = h->n;
        put32(h, 0);            /* patched by finish() */
        put32(h, id);
        put32(h, status);
        put32(h, seq);
}
static void finish(struct hb *h)
{
        if (h->n <= sizeof(h->b))
                smx_put_u32(h->b + h->start, (uint32_t)(h->n - h->start));
}
static void tlv(struct hb *h, uint16_t tag, uint16_t len, const void *v, size_t vn)
{
        put16(h, tag);
        put16(h, len);
        putmem(h, v, vn);
}

/* deliver_sm mandatory part up to and including sm_length + short_message,
 * from `src` */
static void sm_body_from(struct hb *h, const char *src, uint8_t esm, uint8_t dcs, const void *sm, size_t sm_len,
                         size_t declared)
{
        putcs(h, "");
        put8(h, 1);
        put8(h, 1);
        putcs(h, src);
        put8(h, 1);
        put8(h, 1);
        putcs(h, "12025550100");
        put8(h, esm);
        put8(h, 0);
        put8(h, 0);
        putcs(h, "");
        putcs(h, "");
        put8(h, 0);
        put8(h, 0);
        put8(h, dcs);
        put8(h, 0);
        put8(h, (uint8_t)declared);
        putmem(h, sm, sm_len);
}

static void sm_body(struct hb *h, uint8_t esm, uint8_t dcs, const void *sm, size_t sm_len, size_t declared)
{
        sm_body_from(h, "447700900000", esm, dcs, sm, sm_len, declared);
}

static const char dr_text[] =
        "id:0123456789 sub:001 dlvrd:001 submit date:2401011200 done date:2401011201 stat:DELIVRD err:000 text:hello";

enum {
        H_A01, H_A03, H_A05, H_A07_HTTP, H_A07_TLS, H_A09, H_A13, H_A15, H_A17, H_A19,
        H_B09, H_B11, H_B13, H_C01, H_C03, H_C05, H_C07, H_C09, H_C11, H_C13, H_D03,
        H_D09, H_D19, H_F01, H_F05, H_F15, H_F17, H_G01, H_G05, H_H01, H_H05, H_K03,
        H_B01, H_B15, H_B17, H_B19, H_E01, H_F09, H_F11, H_F13, H_G07, H_G09, H_H03, H_H07,
        H_H09, H_H11, H_H13, H_H15,
        H_COUNT
};

/* fatal: 1 breaks the stream, 2 leaves a group open until the client's
 * reassembly timeout; neither is part of `all`. */
static const struct {
        const char *name;
        int fatal;
} cases[H_COUNT] = {
        [H_A01] = { "A-01", 1 }, [H_A03] = { "A-03", 0 }, [H_A05] = { "A-05", 1 },
        [H_A07_HTTP] = { "A-07", 1 }, [H_A07_TLS] = { "A-07-tls", 1 }, [H_A09] = { "A-09", 1 },
        [H_A13] = { "A-13", 0 }, [H_A15] = { "A-15", 0 }, [H_A17] = { "A-17", 0 },
        [H_A19] = { "A-19", 0 }, [H_B09] = { "B-09", 0 }, [H_B11] = { "B-11", 0 },
        [H_B13] = { "B-13", 0 }, [H_C01] = { "C-01", 0 }, [H_C03] = { "C-03", 0 },
        [H_C05] = { "C-05", 0 }, [H_C07] = { "C-07", 0 }, [H_C09] = { "C-09", 0 },
        [H_C11] = { "C-11", 0 }, [H_C13] = { "C-13", 0 }, [H_D03] = { "D-03", 0 },
        [H_D09] = { "D-09", 1 }, [H_D19] = { "D-19", 0 }, [H_F01] = { "F-01", 0 },
        [H_F05] = { "F-05", 0 }, [H_F15] = { "F-15", 0 }, [H_F17] = { "F-17", 0 },
        [H_G01] = { "G-01", 0 }, [H_G05] = { "G-05", 0 }, [H_H01] = { "H-01", 0 },
        [H_H05] = { "H-05", 0 }, [H_K03] = { "K-03", 0 },
        [H_B01] = { "B-01", 0 }, [H_B15] = { "B-15", 0 }, [H_B17] = { "B-17", 0 },
        [H_B19] = { "B-19", 0 }, [H_E01] = { "E-01", 0 }, [H_F09] = { "F-09", 0 },
        [H_F11] = { "F-11", 0 }, [H_F13] = { "F-13", 0 }, [H_G07] = { "G-07", 0 },
        [H_G09] = { "G-09", 0 }, [H_H03] = { "H-03", 0 }, [H_H07] = { "H-07", 0 },
        [H_H09] = { "H-09", 2 }, [H_H11] = { "H-11", 0 }, [H_H13] = { "H-13", 0 },
        [H_H15] = { "H-15", 0 },
};

int sim_hostile_lookup(const char *name)
{
        for (int i = 0; i < H_COUNT; i++)
                if (!strcmp(cases[i].name, name))
                        return i;
        return -1;
}

size_t sim_hostile_count(void)
{
        return H_COUNT;
}

const char *sim_hostile_name(size_t i)
{
        return i < H_COUNT ? cases[i].name : NULL;
}

static void dr(struct hb *h, uint32_t seq, const char *text, uint8_t esm)
{
        header(h, SMPP_DELIVER_SM, 0, seq);
        sm_body(h, esm, 0, text, strlen(text), strlen(text));
}

static uint32_t next_seq(struct sim_sess *ss)
{
        uint32_t seq = ss->seq++;
        if (ss->seq > SMPP_SEQ_MAX)
                ss->seq = SMPP_SEQ_MIN;
        return seq;
}

/* A UDH concat part (8-bit ref) as an MO deliver_sm from `src`. */
static void udh_part(struct hb *h, struct sim_sess *ss, const char *src, uint8_t ref, uint8_t total, uint8_t part,
                     const char *text)
{
        uint8_t sm[64] = { 5, 0, 3, ref, total, part };
        size_t n = strlen(text);
        memcpy(sm + 6, text, n);
        header(h, SMPP_DELIVER_SM, 0, next_seq(ss));
        sm_body_from(h, src, SMPP_ESM_UDHI, 0, sm, 6 + n, 6 + n);
        finish(h);
}

static void build(struct hb *h, int which, struct sim_sess *ss)
{
        uint32_t seq = next_seq(ss);
        static const uint8_t rid[] = "4f2a9c";
        static const uint8_t st2 = SMPP_STATE_DELIVERED;
        switch (which) {
        case H_A01:
                header(h, SMPP_DELIVER_SM, 0, seq);
                break;          /* command_length stays 0 */
        case H_A03:
                header(h, SMPP_DELIVER_SM, 0, seq);
                finish(h);
                break;
        case H_A05:
                header(h, SMPP_DELIVER_SM, 0, seq);
                smx_put_u32(h->b, 0x40000000u);
                break;
        case H_A07_HTTP:
                putmem(h, "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n", 47);
                break;
        case H_A07_TLS: {
                static const uint8_t alert[] = { 0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x46 };
                putmem(h, alert, sizeof(alert));
                break;
        }
        case H_A09:
                header(h, SMPP_DELIVER_SM, 0, seq);
                smx_put_u32(h->b, 200);
                putmem(h, "\0\1\1" "447700900000" "\0\1\1", 18);
                break;
        case H_A13:
                header(h, 0x00000099u, 0, seq);
                finish(h);
                break;
        case H_A15:
                header(h, 0, 0, seq);
                finish(h);
                break;
        case H_A17:
                header(h, SMPP_DELIVER_SM, SMPP_ESME_RSYSERR, seq);
                sm_body(h, 0, 0, "hi", 2, 2);
                finish(h);
                break;
        case H_A19:
                header(h, SMPP_ENQUIRE_LINK, 0, seq);
                put32(h, 0);
                finish(h);
                break;
        case H_B09: {
                uint8_t sm[255];
                memset(sm, 'x', sizeof(sm));
                header(h, SMPP_DELIVER_SM, 0, seq);
                sm_body(h, 0, 0, sm, sizeof(sm), 255);
                finish(h);
                break;
        }
        case H_B11:
                header(h, SMPP_DELIVER_SM, 0, seq);
                sm_body(h, 0, 0, "", 0, 0);
                finish(h);
                break;
        case H_B13:
                header(h, SMPP_DELIVER_SM, 0, seq);
                putcs(h, "");
                put8(h, 1);
                put8(h, 1);
                putcs(h, "447700900000");
                put8(h, 1);
                put8(h, 1);
                finish(h);
                break;
        case H_C01:
                header(h, SMPP_DELIVER_SM, 0, seq);
                sm_body(h, 0, 0, "hi", 2, 2);
                tlv(h, 0x1403, 4, "\1\2\3\4", 4);
                tlv(h, 0x4000, 0, NULL, 0);
                tlv(h, 0xffff, 1, "\0", 1);
                finish(h);
                break;
        case H_C03:
                header(h, SMPP_DELIVER_SM, 0, seq);
                sm_body(h, 0, 0, "", 0, 0);
                tlv(h, SMPP_TAG_MESSAGE_PAYLOAD, 0x01f4, "twenty bytes of text", 20);
                finish(h);
                break;
        case H_C05:
                dr(h, seq, dr_text, SMPP_ESM_TYPE_SMSC_DR);
                tlv(h, SMPP_TAG_RECEIPTED_MESSAGE_ID, 7, rid, 7);
                tlv(h, SMPP_TAG_MESSAGE_STATE, 0, NULL, 0);
                finish(h);
                break;
        case H_C07:
                dr(h, seq, dr_text, SMPP_ESM_TYPE_SMSC_DR);
                tlv(h, SMPP_TAG_RECEIPTED_MESSAGE_ID, 4, "aaa", 4);
                tlv(h, SMPP_TAG_RECEIPTED_MESSAGE_ID, 4, "bbb", 4);
                tlv(h, SMPP_TAG_MESSAGE_STATE, 1, &st2, 1);
                finish(h);
                break;
        case H_C09:
                dr(h, seq, dr_text, SMPP_ESM_TYPE_SMSC_DR);
                tlv(h, SMPP_TAG_RECEIPTED_MESSAGE_ID, 6, rid, 6);
                tlv(h, SMPP_TAG_MESSAGE_STATE, 1, &st2, 1);
                finish(h);
                break;
        case H_C11: {
                uint8_t longid[300];
                memset(longid, 'A', sizeof(longid) - 1);
                longid[299] = 0;
                dr(h, seq, dr_text, SMPP_ESM_TYPE_SMSC_DR);
                tlv(h, SMPP_TAG_RECEIPTED_MESSAGE_ID, 300, longid, 300);
                tlv(h, SMPP_TAG_MESSAGE_STATE, 1, &st2, 1);
                finish(h);
                break;
        }
        case H_C13:
                dr(h, seq, dr_text, SMPP_ESM_TYPE_SMSC_DR);
                tlv(h, SMPP_TAG_RECEIPTED_MESSAGE_ID, 7, rid, 7);
                tlv(h, SMPP_TAG_NETWORK_ERROR_CODE, 2, "\1\2", 2);
                tlv(h, SMPP_TAG_MESSAGE_STATE, 1, &st2, 1);
                finish(h);
                break;
        case H_D03:
                header(h, SMPP_SUBMIT_SM, 0, seq);
                sm_body(h, 0, 0, "hi", 2, 2);
                finish(h);
                break;
        case H_D09:
                header(h, SMPP_UNBIND, 0, seq);
                finish(h);
                break;
        case H_D19:
                header(h, SMPP_DATA_SM, 0, seq);
                putcs(h, "");
                put8(h, 1);
                put8(h, 1);
                putcs(h, "447700900000");
                put8(h, 1);
                put8(h, 1);
                putcs(h, "12025550100");
                put8(h, SMPP_ESM_TYPE_SMSC_DR);
                put8(h, 0);
                put8(h, 0);
                tlv(h, SMPP_TAG_RECEIPTED_MESSAGE_ID, 7, rid, 7);
                tlv(h, SMPP_TAG_MESSAGE_STATE, 1, &st2, 1);
                finish(h);
                break;
        case H_F01:
                dr(h, seq, dr_text, SMPP_ESM_TYPE_SMSC_DR);
                tlv(h, SMPP_TAG_RECEIPTED_MESSAGE_ID, 11, "NEVERSENT1", 11);
                tlv(h, SMPP_TAG_MESSAGE_STATE, 1, &st2, 1);
                finish(h);
                break;
        case H_F05: {
                char t[sizeof(dr_text)];
                memcpy(t, dr_text, sizeof(t));
                char *p = strstr(t, "DELIVRD");
                if (p)
                        memcpy(p, "UNDELIV", 7);
                dr(h, seq, t, SMPP_ESM_TYPE_SMSC_DR);
                tlv(h, SMPP_TAG_RECEIPTED_MESSAGE_ID, 7, rid, 7);
                tlv(h, SMPP_TAG_MESSAGE_STATE, 1, &st2, 1);
                finish(h);
                break;
        }
        case H_F15:
                dr(h, seq, "id:4f2a9c sub:001 dlvrd:001 submit date:2401011200 done date:2401011201 stat:DELIVRD err:000 text:",
                   0);
                finish(h);
                break;
        case H_F17: {
                static const uint8_t enroute = SMPP_STATE_ENROUTE;
                dr(h, seq, "id:0123456789 sub:001 dlvrd:000 submit date:2401011200 done date:2401011201 stat:ENROUTE err:000 text:hello",
                   SMPP_ESM_TYPE_INTERMEDIATE);
                tlv(h, SMPP_TAG_RECEIPTED_MESSAGE_ID, 7, rid, 7);
                tlv(h, SMPP_TAG_MESSAGE_STATE, 1, &enroute, 1);
                finish(h);
                break;
        }
        case H_G01:
                header(h, SMPP_DELIVER_SM, 0, seq);
                sm_body(h, 0, SMPP_DCS_UCS2, "\0H\0i\0", 5, 5);
                finish(h);
                break;
        case H_G05:
                header(h, SMPP_DELIVER_SM, 0, seq);
                sm_body(h, 0, SMPP_DCS_GSM, "\0H\0", 3, 3);
                finish(h);
                break;
        case H_H01:
                header(h, SMPP_DELIVER_SM, 0, seq);
                sm_body(h, SMPP_ESM_UDHI, 0, "", 0, 0);
                finish(h);
                break;
        case H_H05:
                header(h, SMPP_DELIVER_SM, 0, seq);
                sm_body(h, SMPP_ESM_UDHI, 0, "\5\0\3\52\0\1hi", 8, 8);
                finish(h);
                break;
        case H_K03:
                header(h, SMPP_DELIVER_SM, 0, seq);
                sm_body(h, 0, 0, "hi", 2, 2);
                for (int i = 0; i < 30; i++)
                        tlv(h, 0x1400, 0, NULL, 0);
                finish(h);
                break;
        case H_B01:     /* source_addr with no NUL before the end of the PDU */
                header(h, SMPP_DELIVER_SM, 0, seq);
                putcs(h, "");
                put8(h, 1);
                put8(h, 1);
                putmem(h, "44770090000044770090000", 23);
                finish(h);
                break;
        case H_B15: {   /* validity_period of 10 characters */
                header(h, SMPP_DELIVER_SM, 0, seq);
                putcs(h, "");
                put8(h, 1);
                put8(h, 1);
                putcs(h, "447700900000");
                put8(h, 1);
                put8(h, 1);
                putcs(h, "12025550100");
                put8(h, 0);
                put8(h, 0);
                put8(h, 0);
                putcs(h, "");
                putcs(h, "2401011200");
                put8(h, 0);
                put8(h, 0);
                put8(h, 0);
                put8(h, 0);
                put8(h, 2);
                putmem(h, "hi", 2);
                finish(h);
                break;
        }
        case H_B17:
                header(h, SMPP_DELIVER_SM, 0, seq);
                sm_body(h, 0xFF, 0, "odd esm", 7, 7);
                finish(h);
                break;
        case H_B19:     /* TON 7, NPI 15 */
                header(h, SMPP_DELIVER_SM, 0, seq);
                putcs(h, "");
                put8(h, 7);
                put8(h, 15);
                putcs(h, "447700900000");
                put8(h, 7);
                put8(h, 15);
                putcs(h, "12025550100");
                put8(h, 0);
                put8(h, 0);
                put8(h, 0);
                putcs(h, "");
                putcs(h, "");
                put8(h, 0);
                put8(h, 0);
                put8(h, 0);
                put8(h, 0);
                put8(h, 2);
                putmem(h, "hi", 2);
                finish(h);
                break;
        case H_E01:     /* a response to a request the client never sent */
                header(h, SMPP_SUBMIT_SM_RESP, 0, 0x7FFFFF00u);
                putcs(h, "NOSUCHREQ");
                finish(h);
                break;
        case H_F09:
                dr(h, seq, "Text:hello ID:0123456789\tSUB:001 DLVRD:001\r\nSUBMIT DATE:240101120000 "
                   "DONE DATE:20240101120100 STAT:DELIVRD ERR:000", SMPP_ESM_TYPE_SMSC_DR);
                tlv(h, SMPP_TAG_RECEIPTED_MESSAGE_ID, 7, rid, 7);
                tlv(h, SMPP_TAG_MESSAGE_STATE, 1, &st2, 1);
                finish(h);
                break;
        case H_F11:
                dr(h, seq, "id:0123456789 sub:001 dlvrd:001 submit date:0000000000 done date:2413011201 "
                   "stat:DELIVRD err:000 text:hello", SMPP_ESM_TYPE_SMSC_DR);
                tlv(h, SMPP_TAG_RECEIPTED_MESSAGE_ID, 7, rid, 7);
                tlv(h, SMPP_TAG_MESSAGE_STATE, 1, &st2, 1);
                finish(h);
                break;
        case H_F13: {
                static const uint8_t undeliv = SMPP_STATE_UNDELIVERABLE;
                dr(h, seq, "id:0123456789 sub:001 dlvrd:000 submit date:2401011200 done date:2401011201 "
                   "stat:UNDELIV err:0x1F text:hello", SMPP_ESM_TYPE_SMSC_DR);
                tlv(h, SMPP_TAG_RECEIPTED_MESSAGE_ID, 7, rid, 7);
                tlv(h, SMPP_TAG_MESSAGE_STATE, 1, &undeliv, 1);
                finish(h);
                break;
        }
        case H_G07:     /* ESC + undefined code, ESC ESC */
                header(h, SMPP_DELIVER_SM, 0, seq);
                sm_body(h, 0, SMPP_DCS_GSM, "\x1b\x41\x1b\x1b\x41", 5, 5);
                finish(h);
                break;
        case H_G09:     /* "1234567" packed in 7 octets (as an 8-bit binary MO) */
                header(h, SMPP_DELIVER_SM, 0, seq);
                sm_body(h, 0, SMPP_DCS_GSM, "\x31\xd9\x8c\x56\xb3\xdd\x00", 7, 7);
                finish(h);
                break;
        case H_H03:     /* concat IE claims 7 octets inside a 5-octet UDH */
                header(h, SMPP_DELIVER_SM, 0, seq);
                sm_body(h, SMPP_ESM_UDHI, 0, "\x05\x00\x07\x2a\x02\x01hi", 8, 8);
                finish(h);
                break;
        case H_H07:     /* part 1 twice, then part 2: one message */
                ss->seq--;
                udh_part(h, ss, "447700900071", 0x2B, 2, 1, "dup-");
                udh_part(h, ss, "447700900071", 0x2B, 2, 1, "dup-");
                udh_part(h, ss, "447700900071", 0x2B, 2, 2, "licate");
                break;
        case H_H09:     /* parts 1 and 3 of 3: never completes */
                ss->seq--;
                udh_part(h, ss, "447700900072", 0x2C, 3, 1, "one ");
                udh_part(h, ss, "447700900072", 0x2C, 3, 3, "three");
                break;
        case H_H11:     /* the same 8-bit ref for two whole messages */
                ss->seq--;
                udh_part(h, ss, "447700900073", 0x2A, 2, 1, "first ");
                udh_part(h, ss, "447700900073", 0x2A, 2, 2, "message");
                udh_part(h, ss, "447700900073", 0x2A, 2, 1, "second ");
                udh_part(h, ss, "447700900073", 0x2A, 2, 2, "message");
                break;
        case H_H13:     /* sar_total_segments with length 2: SAR ignored */
                header(h, SMPP_DELIVER_SM, 0, seq);
                sm_body(h, 0, 0, "sar", 3, 3);
                tlv(h, SMPP_TAG_SAR_MSG_REF_NUM, 2, "\x00\x07", 2);
                tlv(h, SMPP_TAG_SAR_TOTAL_SEGMENTS, 2, "\x01\x00", 2);
                tlv(h, SMPP_TAG_SAR_SEGMENT_SEQNUM, 1, "\x01", 1);
                finish(h);
                break;
        case H_H15: {   /* UDH and SAR disagree on the order; each is complete */
                static const uint8_t p1[] = { 5, 0, 3, 0x2D, 2, 1, 'u', 'd', 'h', '-' };
                static const uint8_t p2[] = { 5, 0, 3, 0x2D, 2, 2, 'w', 'i', 'n', 's' };
                header(h, SMPP_DELIVER_SM, 0, seq);
                sm_body_from(h, "447700900075", SMPP_ESM_UDHI, 0, p1, sizeof(p1), sizeof(p1));
                tlv(h, SMPP_TAG_SAR_MSG_REF_NUM, 2, "\x00\x09", 2);
                tlv(h, SMPP_TAG_SAR_TOTAL_SEGMENTS, 1, "\x02", 1);
                tlv(h, SMPP_TAG_SAR_SEGMENT_SEQNUM, 1, "\x02", 1);
                finish(h);
                header(h, SMPP_DELIVER_SM, 0, next_seq(ss));
                sm_body_from(h, "447700900075", SMPP_ESM_UDHI, 0, p2, sizeof(p2), sizeof(p2));
                tlv(h, SMPP_TAG_SAR_MSG_REF_NUM, 2, "\x00\x09", 2);
                tlv(h, SMPP_TAG_SAR_TOTAL_SEGMENTS, 1, "\x02", 1);
                tlv(h, SMPP_TAG_SAR_SEGMENT_SEQNUM, 1, "\x01", 1);
                finish(h);
                break;
        }
        default:
                break;
        }
}

void sim_hostile_send(struct smsc_sim *s, struct sim_sess *ss, int which)
{
        struct hb h;
        for (int i = 0; i < H_COUNT; i++) {
                if (which >= 0 ? i != which : cases[i].fatal)
                        continue;
                h.n = h.start = 0;
                build(&h, i, ss);
                if (h.n && h.n <= sizeof(h.b) && sim_out_append(s, ss, h.b, h.n) == 0)
                        s->smsc[ss->smsc].c.hostile_sent++;
        }
}
