/* The content layer: character sets, segmentation, UDH, delivery-receipt text
 * and MO reassembly (SMPP.md §6.3, §7, §9; HOSTILE.md groups F, G, H).
 *
 * Everything here is a pure function over caller-owned memory: no I/O, no
 * locks, no allocation (the reassembly table allocates once, at create time,
 * and is single-threaded: the inbound room shards and locks it). Inputs are
 * byte strings with a length, never C strings: GSM '@' is 0x00 (G-05).
 *
 * Output to a caller buffer is always bounded by its capacity; when it does
 * not fit, output stops at a character boundary and SMX_TEXT_F_TRUNCATED is
 * set. Nothing here NUL-terminates unless it says so.
 *
 * Wire forms used below:
 *   GSM unpacked  one septet (0x00-0x7F) per octet; an extension character is
 *                 two septets, 0x1B then its code (SMPP.md §9.1).
 *   GSM packed    septets packed 8-in-7, LSB first (SMPP.md §9.2).
 *   UCS-2         UTF-16BE; characters above U+FFFF as surrogate pairs.
 *   Latin-1, ASCII (IA5), UTF-8 (this service's data_coding 0, R9). */
#ifndef SMX_TEXT_H
#define SMX_TEXT_H

#include <stddef.h>
#include <stdint.h>

#include "smsmux.h"
#include "pdu/smpp_defs.h"

/* A view of bytes owned by someone else (pointer + length). */
struct smx_text_view {
        const uint8_t *p;
        size_t len;
};

/* ---- result flags (OR-ed into a `flags` word) ---- */
enum {
        SMX_TEXT_F_TRUNCATED   = 1u << 0, /* output buffer too small; cut at a char boundary */
        SMX_TEXT_F_REPLACED    = 1u << 1, /* invalid input became U+FFFD (G-01, G-11) */
        SMX_TEXT_F_ODD_LENGTH  = 1u << 2, /* UCS-2 with an odd octet count (G-01) */
        SMX_TEXT_F_RAW         = 1u << 3, /* output is the input as hex: binary or unknown DCS */
        SMX_TEXT_F_UNKNOWN_DCS = 1u << 4, /* data_coding not in the map (with F_RAW) */
        SMX_TEXT_F_PAD_STRIPPED = 1u << 5, /* packed GSM: '@' made of fill bits removed (G-09) */
        SMX_TEXT_F_ESC_UNDEFINED = 1u << 6, /* GSM ESC + undefined code or ESC ESC (G-07) */
        SMX_TEXT_F_HIGH_SEPTET = 1u << 7, /* unpacked GSM octet > 0x7F (masked to 7 bits) */
        SMX_TEXT_F_BOM         = 1u << 8, /* UCS-2 byte-order mark removed (FE FF or FF FE) */
        SMX_TEXT_F_LITTLE_ENDIAN = 1u << 9, /* UCS-2 started with FF FE: read little-endian */
};

/* ---- UTF-8 ---- */

/* Read one code point from s[0..len) (len > 0). Returns the octets consumed
 * (1..4). Invalid or truncated sequences (overlong, surrogates, > U+10FFFF,
 * `c0 80`, `e2 82`) yield U+FFFD and consume the maximal invalid subpart
 * (at least 1 octet); *bad is set to 1 then, else 0. */
size_t smx_utf8_next(const uint8_t *s, size_t len, uint32_t *cp, int *bad);

/* Write cp as UTF-8 into out[0..cap). Returns octets written (1..4), or 0
 * when it does not fit (nothing written). Invalid cp are written as U+FFFD. */
size_t smx_utf8_put(uint32_t cp, uint8_t *out, size_t cap);

/* Copy UTF-8 from in to out, replacing invalid sequences with U+FFFD.
 * Returns octets written; *flags gets F_REPLACED / F_TRUNCATED. */
size_t smx_utf8_sanitize(const uint8_t *in, size_t len, uint8_t *out, size_t cap,
                         unsigned *flags);

/* ---- GSM 03.38 default alphabet + extension table ---- */

/* Septets a code point takes in GSM 7-bit: 1 (default table), 2 (extension
 * table, ESC + code) or 0 when it has no GSM representation. */
unsigned smx_gsm7_cp_septets(uint32_t cp);

/* Encode UTF-8 into unpacked septets (one per octet). Returns the septets
 * written (>= 0), SMX_EINVAL if a character has no GSM form (*bad_at = its
 * octet offset in the input, if bad_at is not NULL), SMX_E2BIG if out is too
 * small (nothing partial is promised). Invalid UTF-8 counts as U+FFFD, which
 * GSM cannot hold. */
long smx_gsm7_from_utf8(const uint8_t *in, size_t len, uint8_t *out, size_t cap,
                        size_t *bad_at);

/* Decode n unpacked septets to UTF-8. 0x00 is '@' (G-05). ESC + undefined
 * code gives the default-table character for the code; ESC ESC is dropped and
 * the next septet is read from the default table (G-07); a trailing lone ESC
 * is dropped; these set F_ESC_UNDEFINED. Octets > 0x7F are masked and flagged
 * F_HIGH_SEPTET. Returns octets written. */
size_t smx_gsm7_to_utf8(const uint8_t *septets, size_t n, uint8_t *out, size_t cap,
                        unsigned *flags);

/* Pack n septets 8-in-7, LSB first, after `fill_bits` (0..6) zero bits (used
 * after a UDH so the text starts on a septet boundary). Returns the octets
 * written, ceil((fill_bits + 7n) / 8), or 0 when cap is too small. Packing
 * in place (out == septets) is allowed. */
size_t smx_gsm7_pack(const uint8_t *septets, size_t n, unsigned fill_bits,
                     uint8_t *out, size_t cap);

/* Septets packed data of `len` octets can hold after `fill_bits` bits. */
size_t smx_gsm7_packed_capacity(size_t len, unsigned fill_bits);

/* Unpack `septets` septets (at most smx_gsm7_packed_capacity()) from packed
 * data that starts with `fill_bits` padding bits. Returns septets written
 * (min(septets, capacity, cap)). */
size_t smx_gsm7_unpack(const uint8_t *in, size_t len, unsigned fill_bits, size_t septets,
                       uint8_t *out, size_t cap);

/* Septet count of packed data when the sender did not say (SMPP carries no
 * septet count, G-09): all whole septets, less a final 0x00 septet when the
 * padding was exactly 7 bits (the sender had 7 septets' worth of room and
 * left zero fill); sets F_PAD_STRIPPED when it strips. */
size_t smx_gsm7_packed_septets(const uint8_t *in, size_t len, unsigned fill_bits,
                               unsigned *flags);

/* Bits of padding before the first septet when a UDH of `udh_len` octets
 * (UDHL byte included) precedes packed text: (7 - udh_len*8 % 7) % 7. */
unsigned smx_gsm7_fill_bits(size_t udh_len);

/* ---- UCS-2 / UTF-16BE ---- */

/* Encode UTF-8 to UTF-16BE (surrogate pairs above U+FFFF). Returns octets
 * written or SMX_E2BIG. Invalid UTF-8 becomes U+FFFD. */
long smx_ucs2_from_utf8(const uint8_t *in, size_t len, uint8_t *out, size_t cap);

/* Decode UTF-16BE to UTF-8. An odd final octet becomes U+FFFD with
 * F_ODD_LENGTH|F_REPLACED (G-01); unpaired surrogates become U+FFFD with
 * F_REPLACED. A leading byte-order mark is removed (F_BOM); FF FE (which
 * big-endian would read as the non-character U+FFFE) switches to
 * little-endian (F_LITTLE_ENDIAN), as some SMSCs send. Returns octets
 * written. */
size_t smx_ucs2_to_utf8(const uint8_t *in, size_t len, uint8_t *out, size_t cap,
                        unsigned *flags);

/* ---- Latin-1 and ASCII (IA5) ---- */

/* Encode UTF-8 to Latin-1 (max_cp 0xFF) or ASCII (max_cp 0x7F). Returns
 * octets written, SMX_EINVAL if a character is above max_cp (*bad_at = its
 * offset), SMX_E2BIG if out is too small. */
long smx_latin1_from_utf8(const uint8_t *in, size_t len, uint32_t max_cp,
                          uint8_t *out, size_t cap, size_t *bad_at);

/* Decode Latin-1 to UTF-8 (every octet is a character). Returns octets
 * written. */
size_t smx_latin1_to_utf8(const uint8_t *in, size_t len, uint8_t *out, size_t cap,
                          unsigned *flags);

/* Decode ASCII to UTF-8; octets > 0x7F become U+FFFD (F_REPLACED). */
size_t smx_ascii_to_utf8(const uint8_t *in, size_t len, uint8_t *out, size_t cap,
                         unsigned *flags);

/* ---- data_coding map (per SMSC, SMPP.md §6.3 policy) ---- */

/* Map entries beyond enum smx_encoding: */
#define SMX_TEXT_ENC_BINARY  0xFEu /* 8-bit data: reported as hex, F_RAW */
#define SMX_TEXT_ENC_UNKNOWN 0xFFu /* not mapped: reported as hex, F_RAW|F_UNKNOWN_DCS */

/* data_coding value -> enum smx_encoding (or SMX_TEXT_ENC_*). One per SMSC,
 * filled by one of the functions below and adjusted from configuration. */
struct smx_dcs_map {
        uint8_t enc[256];
};

/* This service (SERVICE.md R9): 0 UTF-8, 1 ASCII, 2 GSM 03.38, 3 Latin-1,
 * 4 binary, 8 UCS-2; every other value unknown. */
void smx_dcs_map_service(struct smx_dcs_map *m);

/* Generic SMPP 3.4 + 3GPP 23.038: 0 GSM, 1 ASCII, 2 and 4 binary, 3 Latin-1,
 * 8 UCS-2; general coding groups 0x10-0x1F and 0x40-0x4F (uncompressed) by
 * bits 3-2 (GSM / binary / UCS-2); message waiting 0xC0-0xDF GSM, 0xE0-0xEF
 * UCS-2; 0xF0-0xFF by bit 2 (GSM / binary). Everything else unknown. */
void smx_dcs_map_generic(struct smx_dcs_map *m);

/* The data_coding to send for enc on this SMSC: the lowest value the map
 * sends to enc, or SMX_EINVAL when none does (e.g. UTF-8 on a generic map). */
int smx_dcs_for_encoding(const struct smx_dcs_map *m, enum smx_encoding enc);

/* ---- decoding inbound text (MO, receipt text) ---- */

/* How to read one short_message / message_payload. Zero = service map,
 * unpacked GSM, no UDH. */
struct smx_text_decode_opts {
        const struct smx_dcs_map *map; /* NULL: smx_dcs_map_service() */
        uint8_t gsm_packed;            /* the SMSC sends GSM packed 8-in-7 (knob) */
        size_t udh_len;                /* octets of UDH at the start of the data to skip
                                          (for packed GSM the fill bits are derived) */
        size_t septets;                /* packed GSM: septet count of the text after
                                          the UDH if known, 0 = derive (G-09) */
};

/* What smx_text_decode did. */
struct smx_text_result {
        size_t len;      /* octets written to out */
        unsigned flags;  /* SMX_TEXT_F_* */
        uint8_t enc;     /* enum smx_encoding or SMX_TEXT_ENC_* used */
};

/* Decode `in` with data_coding `dcs` to UTF-8 in out[0..cap). Binary or
 * unmapped data_coding is never guessed: the bytes are written as upper-case
 * hex with F_RAW (and F_UNKNOWN_DCS). Never writes past cap; never fails
 * (returns 0) except SMX_EINVAL for a NULL out with cap > 0. */
int smx_text_decode(uint8_t dcs, const uint8_t *in, size_t len,
                    const struct smx_text_decode_opts *opts,
                    uint8_t *out, size_t cap, struct smx_text_result *res);

/* Write in[0..len) as upper-case hex; returns octets written (even count,
 * stops before overflowing; F_TRUNCATED in *flags if cut). */
size_t smx_text_hex(const uint8_t *in, size_t len, uint8_t *out, size_t cap,
                    unsigned *flags);

/* ---- choosing the encoding of an MT ---- */

/* The encoding the text will be sent in: for SMX_ENC_AUTO, GSM if every
 * character is in the GSM default or extension table, else UCS-2; an
 * explicit choice is returned as is when the text fits it, SMX_EINVAL when
 * it does not (emoji in Latin-1, é in ASCII, invalid UTF-8 in anything but
 * UCS-2/UTF-8). *units (may be NULL) gets the length in that encoding's
 * units: septets (GSM), 16-bit units (UCS-2), octets (others). */
int smx_text_choose(const uint8_t *utf8, size_t len, enum smx_encoding want,
                    size_t *units);

/* smx_text_choose that also says (*gsm_plain = 1) when the text goes out
 * in GSM and is GSM-plain: every octet is a character whose GSM 7-bit
 * septet is that octet itself (LF, CR, space, digits, A-Z, a-z and the
 * ASCII punctuation but $ @ [ \ ] ^ _ ` { | } ~), so its unpacked septets
 * are its octets. Found in the counting pass at no extra scan; the worker
 * then copies the text instead of mapping it octet by octet
 * (smx_seg_opts.gsm_plain). *gsm_plain is 0 otherwise (and on error). */
int smx_text_choose_plain(const uint8_t *utf8, size_t len, enum smx_encoding want,
                          size_t *units, int *gsm_plain);

/* ---- segmenting an MT (SMPP.md §9.3-9.5) ---- */

enum smx_seg_mode {
        SMX_SEG_UDH8 = 0,  /* concatenation UDH, 8-bit reference (IEI 0x00) */
        SMX_SEG_UDH16,     /* concatenation UDH, 16-bit reference (IEI 0x08) */
        SMX_SEG_SAR,       /* sar_* TLVs; the SMSC builds the UDH */
        SMX_SEG_PAYLOAD,   /* one message_payload TLV (up to 64 KiB) */
};

#define SMX_SEG_MAX_PARTS   255u
#define SMX_SEG_PAYLOAD_MAX 65535u
#define SMX_SEG_PART_BYTES_MAX 160u /* buffer octets one short_message part can take */

/* Units per part (SMPP.md §9.3). SAR parts are sized for a 16-bit reference
 * UDH (152/66/133): the SMSC chooses which concatenation IE it builds. */
#define SMX_SEG_GSM_SINGLE   160u
#define SMX_SEG_GSM_UDH8     153u
#define SMX_SEG_GSM_UDH16    152u
#define SMX_SEG_UCS2_SINGLE  70u
#define SMX_SEG_UCS2_UDH8    67u
#define SMX_SEG_UCS2_UDH16   66u
#define SMX_SEG_OCTET_SINGLE 140u
#define SMX_SEG_OCTET_UDH8   134u
#define SMX_SEG_OCTET_UDH16  133u

struct smx_seg_opts {
        enum smx_encoding enc;         /* SMX_ENC_AUTO or explicit */
        enum smx_seg_mode mode;
        uint16_t ref;                  /* concatenation reference (UDH8 uses the low 8 bits) */
        uint8_t gsm_packed;            /* SMSC wants GSM packed 8-in-7 (knob) */
        const struct smx_dcs_map *map; /* data_coding per encoding; NULL: service map */
        size_t units;                  /* non-zero with an explicit enc: the text's units in
                                          enc as smx_text_choose counted them, so the text
                                          is not scanned again to count; 0: count here */
        uint8_t gsm_plain;             /* with enc GSM and units: smx_text_choose_plain found
                                          the text GSM-plain, so its septets are copied, not
                                          mapped (the same octets); ignored otherwise */
};

/* One submit_sm worth of content. `sm` points into the caller's buffer. */
struct smx_seg_part {
        const uint8_t *sm;      /* short_message bytes (UDH first in UDH modes), or the
                                   message_payload value when `payload` is 1 */
        uint32_t len;           /* <= 254 for short_message, <= 65535 for payload */
        uint16_t units;         /* text units in this part (septets / UTF-16 units / octets) */
        uint8_t esm_class;      /* bits to OR into esm_class: SMPP_ESM_UDHI in UDH modes */
        uint8_t data_coding;
        uint8_t payload;        /* 1: send in message_payload, sm_length 0 */
        uint8_t sar;            /* 1: send the three sar_* TLVs below */
        uint16_t sar_msg_ref_num;
        uint8_t sar_total_segments, sar_segment_seqnum;
};

/* Summary of a segmentation. */
struct smx_seg_info {
        enum smx_encoding enc;  /* encoding chosen */
        size_t units;           /* total text units */
        size_t bytes;           /* octets of buf used */
};

/* Encode and split UTF-8 text into parts. A text that fits one short_message
 * gives one part with no UDH/SAR whatever the mode. Parts never split an ESC
 * pair, a surrogate pair or a UTF-8 sequence. The bytes of every part are
 * written to buf[0..cap): SMX_SEG_PART_BYTES_MAX octets per part are always
 * enough; SMX_SEG_PAYLOAD needs the whole encoded text.
 * Returns the number of parts, or SMX_EINVAL (text not representable in
 * opts->enc, or no data_coding for it in the map), SMX_E2BIG (more than
 * max_parts or 255 parts, payload over 64 KiB, buf too small). */
int smx_text_segment(const uint8_t *utf8, size_t len, const struct smx_seg_opts *opts,
                     uint8_t *buf, size_t cap, struct smx_seg_part *parts,
                     size_t max_parts, struct smx_seg_info *info);

/* The single-part case of smx_text_segment written straight into dst (the
 * worker encodes a short MT into its submit_sm this way): when opts carries
 * an explicit encoding with the text's units counted (opts->units != 0) and
 * they fit one short_message without UDH, writes the part's octets to
 * dst[0..room) and returns their number, *data_coding set; the octets and
 * data_coding are exactly those of smx_text_segment's one part (mode and ref
 * do not matter for a single part). A negative return means "not done here"
 * (uncounted text, more than one part, room too small, a character with no
 * form in the encoding): call smx_text_segment, which decides (and reports
 * any error). dst[0..room) may have been written either way. */
long smx_text_single_part(const uint8_t *utf8, size_t len, const struct smx_seg_opts *opts,
                          uint8_t *dst, size_t room, uint8_t *data_coding);

/* ---- UDH parser (3GPP 23.040 §9.2.3.24; HOSTILE H-01..H-05) ---- */

enum {
        SMX_UDH_F_EMPTY       = 1u << 0, /* UDHI set but no octet to read (H-01): no UDH */
        SMX_UDH_F_UDHL_OVER   = 1u << 1, /* UDHL past the data: all of it is header, no text */
        SMX_UDH_F_IE_OVER     = 1u << 2, /* an IE ran past the UDHL: parsing stopped (H-03) */
        SMX_UDH_F_CONCAT_BAD  = 1u << 3, /* concat IE with total 0 / part 0 / part > total (H-05) */
        SMX_UDH_F_CONCAT_REPEAT = 1u << 4, /* more than one concat IE: the last valid one used */
        SMX_UDH_F_IE_BAD_LEN  = 1u << 5, /* a known IE with the wrong IEDL: ignored */
        SMX_UDH_F_NATIONAL    = 1u << 6, /* national language shift IE (0x24/0x25): the text
                                            uses tables smx_text_decode does not have */
};

/* The user data header of one short_message, as views into it. */
struct smx_udh {
        size_t hdr_len;                 /* UDHL + 1 octets (0: no UDH) */
        struct smx_text_view payload;   /* the text after the header */
        uint8_t has_concat, concat_16;  /* concat IE found (8- or 16-bit reference) */
        uint16_t ref;
        uint8_t total, seq;
        uint8_t has_ports, ports_16;    /* application port IE (0x04 or 0x05) */
        uint16_t dst_port, src_port;
        uint8_t has_single_shift, single_shift;   /* IEI 0x24: 23.038 language id */
        uint8_t has_locking_shift, locking_shift; /* IEI 0x25 (1 Turkish, 2 Spanish, ...) */
        uint8_t ie_count;               /* IEs walked */
        unsigned flags;                 /* SMX_UDH_F_* */
};

/* Parse the UDH at the start of sm[0..len) (call only when esm_class has
 * SMPP_ESM_UDHI). Never reads past len. Returns 0; *out always filled. */
int smx_udh_parse(const uint8_t *sm, size_t len, struct smx_udh *out);

/* Write a concatenation UDH (`05 00 03 RR TT SS` or `06 08 04 RRRR TT SS`)
 * to out; returns its length (6 or 7) or 0 when cap is too small. */
size_t smx_udh_write_concat(int ref16, uint16_t ref, uint8_t total, uint8_t seq,
                            uint8_t *out, size_t cap);

/* Concatenation info of one inbound part, from its UDH or its SAR TLVs. */
struct smx_concat {
        uint8_t present;        /* 1: part `seq` of `total` (>= 2) messages; reassemble */
        uint8_t from_udh;       /* 1: from the UDH, 0: from SAR TLVs */
        uint8_t mismatch;       /* both present and they disagree (H-15): UDH used */
        uint8_t sar_invalid;    /* SAR TLVs present but total/seq impossible: ignored */
        uint16_t ref;
        uint8_t total, seq;
};

/* Pick the concatenation info of a part: the UDH concat IE when there is a
 * valid one (udh may be NULL), else the SAR triple when sar_present and valid
 * (total >= 1, 1 <= seq <= total; else ignored as H-05). total 1 is a single
 * message: present stays 0. Policy H-15: the UDH wins and a disagreeing SAR
 * triple sets `mismatch`. */
void smx_concat_pick(const struct smx_udh *udh, int sar_present, uint16_t sar_ref,
                     uint8_t sar_total, uint8_t sar_seq, struct smx_concat *out);

/* ---- delivery-receipt text (SMPP.md §7.2-7.3; HOSTILE F-09..F-13) ---- */

/* A receipt date; valid = 0 means null (absent, garbage, impossible). */
struct smx_dr_date {
        uint16_t year;          /* full year (YY -> 2000 + YY) */
        uint8_t month, day, hour, minute, second;
        uint8_t valid;
};

enum {
        SMX_DR_HAS_ID     = 1u << 0,
        SMX_DR_HAS_SUB    = 1u << 1,
        SMX_DR_HAS_DLVRD  = 1u << 2,
        SMX_DR_HAS_SUBMIT = 1u << 3,
        SMX_DR_HAS_DONE   = 1u << 4,
        SMX_DR_HAS_STAT   = 1u << 5,
        SMX_DR_HAS_ERR    = 1u << 6,
        SMX_DR_HAS_TEXT   = 1u << 7,
};

enum {
        SMX_DR_F_BAD_SUBMIT_DATE = 1u << 0, /* submit date present but not a date (F-11) */
        SMX_DR_F_BAD_DONE_DATE   = 1u << 1, /* done date present but not a date, or before submit */
        SMX_DR_F_UNKNOWN_STAT    = 1u << 2, /* stat present, not a known word: state -1 */
        SMX_DR_F_BAD_COUNT       = 1u << 3, /* sub/dlvrd present but not a number */
};

/* A parsed receipt text. Views point into the parsed buffer. */
struct smx_dr_text {
        unsigned present;               /* SMX_DR_HAS_* */
        unsigned flags;                 /* SMX_DR_F_* */
        struct smx_text_view id, sub, dlvrd, submit_date, done_date, stat, err, text;
        int32_t sub_n, dlvrd_n;         /* -1 when absent or not a number */
        struct smx_dr_date submit, done;
        int state;                      /* SMPP_STATE_* from stat, -1 unknown/absent */
};

/* Parse receipt text s[0..len) tolerantly: labels id, sub, dlvrd, submit
 * date, done date, stat, err, text in any order and any case, separated by
 * any whitespace (tabs, CR/LF); a value runs to the next label (the first
 * occurrence of a label wins; text runs to the end unless another unseen
 * label follows). Dates of 10/12/14 digits; stat as 7-letter code, full word
 * or lower case. Returns the number of labels found (0: not receipt text);
 * never reads past len. */
int smx_dr_text_parse(const uint8_t *s, size_t len, struct smx_dr_text *out);

/* smx_dr_text_parse less what a DR event does not carry: the same return,
 * present bits, views and state (SMX_DR_F_UNKNOWN_STAT included), but the
 * counts and dates are not read (sub_n = dlvrd_n = -1, dates not valid,
 * no count or date flag). The DR path (src/inbound) uses this. */
int smx_dr_text_scan(const uint8_t *s, size_t len, struct smx_dr_text *out);

/* The two ways smx_dr_text_parse takes, for the tests and the fuzz target
 * that compare them. _standard reads only the Appendix B shape as most
 * SMSCs send it (`id:X sub:N dlvrd:N submit date:D done date:D stat:W
 * err:E text:T`, lower-case labels in that order, one space between fields,
 * no ':' or blank inside a value but the text, text optional) and returns
 * -1 for anything else, with *out reset; _general is the tolerant scan.
 * Where _standard returns >= 0, both fill *out identically. */
int smx_dr_text_parse_standard(const uint8_t *s, size_t len, struct smx_dr_text *out);
int smx_dr_text_parse_general(const uint8_t *s, size_t len, struct smx_dr_text *out);

/* message_state for a stat word (case-insensitive; DELIVRD, DELIVERED,
 * UNDELIV, UNDELIVERABLE, FAILED, ...), -1 if unknown. */
int smx_dr_stat_state(const uint8_t *w, size_t len);

/* ---- message id normalisation for correlation (F-07) ---- */

enum smx_id_source {
        SMX_ID_FROM_RESP = 0,   /* submit_sm_resp message_id / receipted_message_id */
        SMX_ID_FROM_DR_TEXT,    /* the id: of the receipt text */
};

/* Per-SMSC rules. All zero = exact match (the inbound room maps an SMSC's
 * default, SMX_MSGID_NORM_AUTO, to digits_auto = 1). */
struct smx_id_norm {
        uint8_t fold_case;      /* ASCII upper -> lower */
        uint8_t strip_zeros;    /* remove leading '0's (one "0" stays for all-zero ids) */
        uint8_t resp_base;      /* 0 opaque, 10 or 16: the id from a resp is a number */
        uint8_t dr_base;        /* same for the receipt text id */
        uint8_t digits_auto;    /* an id of hex digits only (0-9a-fA-F, so decimal ids
                                   too) is folded to lower case and loses its leading
                                   zeros; any other id stays exact. Depends on the id
                                   alone, so every bind canonicalises it alike */
};

/* Longest canonical form of an id of at most SMX_MSGID_MAX characters: a
 * number read as hex is rewritten in decimal, and 64 hex digits make up to
 * 78 decimal ones (16^64 < 10^78). Buffers for normalised ids are this + 1. */
#define SMX_MSGID_CANON_MAX 80
_Static_assert(SMX_MSGID_MAX <= 64, "SMX_MSGID_CANON_MAX covers a 64-hex-digit id in decimal");

/* Canonical form of a message id, written to out[0..cap) and NUL-terminated.
 * Numeric ids (base 10 or 16 for that source) are rewritten in decimal with
 * no leading zeros, so a hex resp id and a decimal receipt id compare equal;
 * an id that is not a number in its base is kept as text (case and zero
 * rules still apply). With digits_auto, an id that is a hex digit string
 * (any length) is lower-cased without leading zeros, any other kept as is;
 * the base rules, when set, come first. The same function serves resp ids
 * and receipt ids.
 * Returns the length (without NUL) or SMX_E2BIG when it does not fit. */
int smx_msgid_normalise(const struct smx_id_norm *n, enum smx_id_source src,
                        const uint8_t *id, size_t len, char *out, size_t cap);

/* ---- MO reassembly (SMPP.md §9.4; HOSTILE G-03, H-07..H-11) ---- */

#define SMX_REASM_ADDR_MAX 65u   /* longest address kept in a key (data_sm: 65) */
#define SMX_REASM_PART_MAX 254u  /* longest part payload stored */

/* The identity of one concatenated message: (source, destination, reference,
 * total) plus a time window. Address views are copied into the table. */
struct smx_reasm_key {
        const uint8_t *src;
        size_t src_len;
        const uint8_t *dst;
        size_t dst_len;
        uint16_t ref;
        uint8_t total;
};

struct smx_reasm_config {
        uint32_t max_groups;    /* open groups at once (0 = 1024) */
        uint32_t max_parts;     /* part slots shared by all groups (0 = 4 * max_groups) */
        uint32_t timeout_ms;    /* group window and partial-delivery timeout (0 = 60000) */
};

enum {
        SMX_REASM_F_PARTIAL = 1u << 0, /* parts missing: timed out or evicted (H-09) */
        SMX_REASM_F_TIMEOUT = 1u << 1, /* flushed because its window passed */
        SMX_REASM_F_EVICTED = 1u << 2, /* flushed to make room for a newer group */
        SMX_REASM_F_TRUNCATED = 1u << 3, /* the caller's buffer was too small */
        SMX_REASM_F_DCS_MIXED = 1u << 4, /* parts came with different data_coding: the
                                            joined bytes are decoded with `dcs` anyway */
        SMX_REASM_F_FLUSHED = 1u << 5, /* flushed by smx_reasm_flush (shutdown) */
};

/* One message leaving the table: complete, or partial with a flag. The
 * joined part payloads (in part order, bytes as received: decode AFTER
 * joining, G-03) are in the caller's buffer. */
struct smx_reasm_msg {
        uint8_t src[SMX_REASM_ADDR_MAX], dst[SMX_REASM_ADDR_MAX];
        uint8_t src_len, dst_len;
        uint16_t ref;
        uint8_t total;          /* parts announced */
        uint8_t parts;          /* parts present */
        uint8_t dcs;            /* data_coding of the first part received */
        uint8_t missing_first;  /* partial: lowest missing part number (0 = none) */
        size_t len;             /* octets written to the caller's buffer */
        unsigned flags;         /* SMX_REASM_F_* */
        uint64_t first_ms;      /* arrival of the first part */
};

/* Results of smx_reasm_add (>= 0). */
enum {
        SMX_REASM_HELD = 0,     /* stored; the message is not complete yet */
        SMX_REASM_DONE,         /* this part completed it: *msg and buf hold the message */
        SMX_REASM_DUP,          /* this part was already held: dropped (H-07) */
        SMX_REASM_FLUSHED,      /* stored; to make room (or because the key's window had
                                   passed, H-11) an OLDER group was flushed as partial
                                   into *msg and buf: deliver it */
};

/* A reassembly table. Single-threaded: one owner at a time. */
struct smx_reasm;

/* Allocate a table (the only allocation); NULL on bad config or no memory. */
struct smx_reasm *smx_reasm_create(const struct smx_reasm_config *cfg);
void smx_reasm_destroy(struct smx_reasm *r);

/* Octets a caller buffer needs to hold any message this table emits. */
size_t smx_reasm_buf_size(void);

/* Add part `seq` of key (1 <= seq <= total, total >= 2; part bytes are the
 * payload after any UDH; for packed GSM unpack to septets first so parts
 * join). `now_ms` is a monotonic clock. Returns SMX_REASM_* or SMX_EINVAL
 * (bad seq/total, address longer than SMX_REASM_ADDR_MAX) or SMX_E2BIG (part
 * longer than SMX_REASM_PART_MAX): deliver such a part on its own. (The
 * table is sized so that SMX_ENOMEM, "no slot and nothing to evict", cannot
 * happen; it is returned rather than corrupting state if it ever did.) */
int smx_reasm_add(struct smx_reasm *r, const struct smx_reasm_key *key, uint8_t seq,
                  uint8_t dcs, const uint8_t *data, size_t len, uint64_t now_ms,
                  struct smx_reasm_msg *msg, uint8_t *buf, size_t cap);

/* Flush one group whose window (timeout_ms since its first part) has passed
 * at now_ms, oldest first, as partial with F_TIMEOUT. Returns 1 with *msg and
 * buf filled, 0 when none is due. Call in a loop. */
int smx_reasm_expire(struct smx_reasm *r, uint64_t now_ms, struct smx_reasm_msg *msg,
                     uint8_t *buf, size_t cap);

/* Flush the oldest open group whatever its age (the client is draining:
 * what arrived is delivered, flagged partial when parts are missing), with
 * F_FLUSHED. Returns 1 with *msg and buf filled, 0 when no group is open.
 * Call in a loop. */
int smx_reasm_flush(struct smx_reasm *r, struct smx_reasm_msg *msg, uint8_t *buf, size_t cap);

/* Open groups right now. */
size_t smx_reasm_open(const struct smx_reasm *r);

#endif
