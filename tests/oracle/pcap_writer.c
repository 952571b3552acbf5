/* pcap_writer: encode a scripted SMPP session with OUR encoder and write it as
 * a classic libpcap capture, plus a JSON sidecar saying what every PDU holds,
 * so tshark's SMPP dissector can judge the encoder (check_tshark.py).
 *
 *   pcap_writer OUT.pcap OUT.json
 *
 * The capture is one TCP connection, 10.0.0.1:40000 (ESME) <-> 10.0.0.2:2775
 * (SMSC): a three-way handshake, then data segments with correct sequence and
 * acknowledgement numbers, checksums and lengths. Segments carry one PDU, or
 * several PDUs, or half of a PDU (the other half in the next segment, so the
 * dissector must reassemble). Every PDU type the service uses appears, with
 * addresses, short messages (including 0x00 octets), and the TLVs a receipt
 * or a segmented MT carries.
 *
 * The pcap format is written by hand (little-endian global header, magic
 * 0xa1b2c3d4, LINKTYPE_ETHERNET); no libpcap needed.
 *
 * Sidecar: {"fields": {name: "int"|"str"|"bytes"}, "packets": [{"frame": n,
 * "pdus": [{tshark field name: value, ...}]}]} where value is a decimal
 * integer, a string, or lowercase hex; a PDU lists the fields our encoder
 * wrote for it that tshark can show (empty C-strings are on the wire but
 * tshark shows no value for them; a response with a non-zero status shows
 * only its header). A PDU split over two segments is listed at the frame
 * that completes it (where tshark reports it). */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pdu/pdu.h"

#define SMSC_PORT 2775u
#define ESME_PORT 40000u
#define MAX_PDUS_PER_SEND 8
#define FIELD_MAX 48

/* ---- the sidecar record of one PDU ---- */

enum ftype { F_INT, F_STR, F_BYTES };

struct field {
        const char *name;
        enum ftype type;
        long long i;
        const uint8_t *p;
        size_t len;
};

struct pdu_rec {
        struct field f[FIELD_MAX];
        int n;
};

/* All field names the sidecar may use, with their type (for check_tshark.py). */
static const struct { const char *name; enum ftype type; } field_types[] = {
        { "smpp.command_length", F_INT }, { "smpp.command_id", F_INT },
        { "smpp.command_status", F_INT }, { "smpp.sequence_number", F_INT },
        { "smpp.system_id", F_STR }, { "smpp.password", F_STR }, { "smpp.system_type", F_STR },
        { "smpp.interface_version", F_INT }, { "smpp.addr_ton", F_INT }, { "smpp.addr_npi", F_INT },
        { "smpp.address_range", F_STR }, { "smpp.service_type", F_STR },
        { "smpp.source_addr_ton", F_INT }, { "smpp.source_addr_npi", F_INT },
        { "smpp.source_addr", F_STR }, { "smpp.dest_addr_ton", F_INT },
        { "smpp.dest_addr_npi", F_INT }, { "smpp.destination_addr", F_STR },
        { "smpp.protocol_id", F_INT }, { "smpp.priority_flag", F_INT },
        { "smpp.replace_if_present_flag", F_INT }, { "smpp.data_coding", F_INT },
        { "smpp.sm_default_msg_id", F_INT }, { "smpp.sm_length", F_INT },
        { "smpp.message", F_BYTES }, { "smpp.message_id", F_STR },
        { "smpp.receipted_message_id", F_STR }, { "smpp.message_state", F_INT },
        { "smpp.network_error.type", F_INT }, { "smpp.network_error.code", F_INT },
        { "smpp.message_payload", F_BYTES }, { "smpp.sar_msg_ref_num", F_INT },
        { "smpp.sar_total_segments", F_INT }, { "smpp.sar_segment_seqnum", F_INT },
        { "smpp.user_message_reference", F_INT }, { "smpp.SC_interface_version", F_INT },
        { "smpp.source_port", F_INT }, { "smpp.destination_port", F_INT },
        { "smpp.payload_type", F_INT }, { "smpp.more_messages_to_send", F_INT },
        { "smpp.delivery_failure_reason", F_INT },
        { "smpp.additional_status_info_text", F_STR }, { "smpp.opt_param_tag", F_INT },
        { "smpp.opt_param_len", F_INT }, { "smpp.esm.submit.msg_mode", F_INT },
        { "smpp.esm.submit.msg_type", F_INT }, { "smpp.esm.submit.features", F_INT },
        { "smpp.regdel.receipt", F_INT }, { "smpp.regdel.acks", F_INT },
        { "smpp.regdel.notif", F_INT }, { "smpp.vendor_op", F_BYTES },
};

/* registered_delivery bits 3-2, SME acknowledgement (3.4 §5.2.17) */
#define REGDEL_ACK_MASK 0x0Cu

static void rec_int(struct pdu_rec *r, const char *name, long long v)
{
        if (r->n == FIELD_MAX) {
                fprintf(stderr, "pcap_writer: too many fields\n");
                exit(2);
        }
        r->f[r->n++] = (struct field){ .name = name, .type = F_INT, .i = v };
}

static void rec_view(struct pdu_rec *r, const char *name, enum ftype t, struct smx_bytes v)
{
        if (v.len == 0)
                return; /* tshark shows no value for an empty string or octet string */
        if (r->n == FIELD_MAX) {
                fprintf(stderr, "pcap_writer: too many fields\n");
                exit(2);
        }
        r->f[r->n++] = (struct field){ .name = name, .type = t, .p = v.p, .len = v.len };
}

static struct smx_bytes S(const char *s)
{
        return (struct smx_bytes){ .p = (const uint8_t *)s, .len = (uint16_t)strlen(s) };
}

static struct smx_bytes B(const void *p, size_t n)
{
        return (struct smx_bytes){ .p = p, .len = (uint16_t)n };
}

/* Record what the sidecar should say about `pdu` (the model we encoded). */
static void describe(const struct smx_pdu *p, uint32_t wire_len, struct pdu_rec *r)
{
        r->n = 0;
        rec_int(r, "smpp.command_length", wire_len);
        rec_int(r, "smpp.command_id", p->h.command_id);
        /* Wireshark shows command_status ("Result") for responses only */
        if (p->h.command_id & SMPP_RESP_BIT)
                rec_int(r, "smpp.command_status", p->h.command_status);
        rec_int(r, "smpp.sequence_number", p->h.sequence_number);
        /* Wireshark does not dissect the body of a response whose status is
         * not 0, so for those only the header can be compared. */
        if ((p->h.command_id & SMPP_RESP_BIT) && p->h.command_status != SMPP_ESME_ROK)
                return;
        switch (p->h.command_id) {
        case SMPP_BIND_TRANSMITTER:
        case SMPP_BIND_RECEIVER:
        case SMPP_BIND_TRANSCEIVER:
                rec_view(r, "smpp.system_id", F_STR, p->u.bind.system_id);
                rec_view(r, "smpp.password", F_STR, p->u.bind.password);
                rec_view(r, "smpp.system_type", F_STR, p->u.bind.system_type);
                rec_int(r, "smpp.interface_version", p->u.bind.interface_version);
                rec_int(r, "smpp.addr_ton", p->u.bind.addr_ton);
                rec_int(r, "smpp.addr_npi", p->u.bind.addr_npi);
                rec_view(r, "smpp.address_range", F_STR, p->u.bind.address_range);
                break;
        case SMPP_BIND_TRANSMITTER_RESP:
        case SMPP_BIND_RECEIVER_RESP:
        case SMPP_BIND_TRANSCEIVER_RESP:
                rec_view(r, "smpp.system_id", F_STR, p->u.bind_resp.system_id);
                break;
        case SMPP_OUTBIND:
                rec_view(r, "smpp.system_id", F_STR, p->u.outbind.system_id);
                rec_view(r, "smpp.password", F_STR, p->u.outbind.password);
                break;
        case SMPP_SUBMIT_SM:
        case SMPP_DELIVER_SM:
        case SMPP_DATA_SM: {
                const struct smx_body_sm *b = &p->u.sm;
                /* Wireshark names an empty service_type "(Default)" */
                rec_view(r, "smpp.service_type", F_STR, b->service_type.len ? b->service_type
                                                                              : S("(Default)"));
                rec_int(r, "smpp.source_addr_ton", b->source_addr_ton);
                rec_int(r, "smpp.source_addr_npi", b->source_addr_npi);
                rec_view(r, "smpp.source_addr", F_STR, b->source_addr);
                rec_int(r, "smpp.dest_addr_ton", b->dest_addr_ton);
                rec_int(r, "smpp.dest_addr_npi", b->dest_addr_npi);
                rec_view(r, "smpp.destination_addr", F_STR, b->destination_addr);
                /* Wireshark splits esm_class and registered_delivery into
                 * their bit fields (3.4 §5.2.12, §5.2.17) */
                rec_int(r, "smpp.esm.submit.msg_mode", b->esm_class & SMPP_ESM_MODE_MASK);
                rec_int(r, "smpp.esm.submit.msg_type", (b->esm_class & SMPP_ESM_TYPE_MASK) >> 2);
                rec_int(r, "smpp.esm.submit.features",
                        (b->esm_class & (SMPP_ESM_UDHI | SMPP_ESM_REPLY_PATH)) >> 6);
                rec_int(r, "smpp.regdel.receipt", b->registered_delivery & SMPP_REGDEL_RECEIPT_MASK);
                rec_int(r, "smpp.regdel.acks", (b->registered_delivery & REGDEL_ACK_MASK) >> 2);
                rec_int(r, "smpp.regdel.notif", (b->registered_delivery & SMPP_REGDEL_INTERMEDIATE) >> 4);
                rec_int(r, "smpp.data_coding", b->data_coding);
                if (p->h.command_id == SMPP_DATA_SM)
                        break;
                rec_int(r, "smpp.protocol_id", b->protocol_id);
                rec_int(r, "smpp.priority_flag", b->priority_flag);
                rec_int(r, "smpp.replace_if_present_flag", b->replace_if_present_flag);
                rec_int(r, "smpp.sm_default_msg_id", b->sm_default_msg_id);
                rec_int(r, "smpp.sm_length", b->short_message.len);
                rec_view(r, "smpp.message", F_BYTES, b->short_message);
                break;
        }
        case SMPP_SUBMIT_SM_RESP:
        case SMPP_DATA_SM_RESP:
                rec_view(r, "smpp.message_id", F_STR, p->u.sm_resp.message_id);
                break;
        default:
                break;
        }
        const struct smx_tlvs *t = &p->tlv;
        /* TLVs go on the wire in SMX_TLV_* bit order (pdu.h); opt_param_tag
         * and opt_param_len list them in that order. */
        for (unsigned bit = 0; bit < 32; bit++) {
                uint32_t m = 1u << bit;
                if (!(t->present & m))
                        continue;
                switch (m) {
                case SMX_TLV_RECEIPTED_MESSAGE_ID:
                        rec_int(r, "smpp.opt_param_tag", SMPP_TAG_RECEIPTED_MESSAGE_ID);
                        rec_int(r, "smpp.opt_param_len", t->receipted_message_id.len + 1);
                        rec_view(r, "smpp.receipted_message_id", F_STR, t->receipted_message_id);
                        break;
                case SMX_TLV_MESSAGE_STATE:
                        rec_int(r, "smpp.opt_param_tag", SMPP_TAG_MESSAGE_STATE);
                        rec_int(r, "smpp.opt_param_len", 1);
                        rec_int(r, "smpp.message_state", t->message_state);
                        break;
                case SMX_TLV_NETWORK_ERROR_CODE:
                        rec_int(r, "smpp.opt_param_tag", SMPP_TAG_NETWORK_ERROR_CODE);
                        rec_int(r, "smpp.opt_param_len", 3);
                        rec_int(r, "smpp.network_error.type", t->network_error_type);
                        rec_int(r, "smpp.network_error.code", t->network_error_code);
                        break;
                case SMX_TLV_MESSAGE_PAYLOAD:
                        rec_int(r, "smpp.opt_param_tag", SMPP_TAG_MESSAGE_PAYLOAD);
                        rec_int(r, "smpp.opt_param_len", t->message_payload.len);
                        rec_view(r, "smpp.message_payload", F_BYTES, t->message_payload);
                        break;
                case SMX_TLV_SAR_MSG_REF_NUM:
                        rec_int(r, "smpp.opt_param_tag", SMPP_TAG_SAR_MSG_REF_NUM);
                        rec_int(r, "smpp.opt_param_len", 2);
                        rec_int(r, "smpp.sar_msg_ref_num", t->sar_msg_ref_num);
                        break;
                case SMX_TLV_SAR_TOTAL_SEGMENTS:
                        rec_int(r, "smpp.opt_param_tag", SMPP_TAG_SAR_TOTAL_SEGMENTS);
                        rec_int(r, "smpp.opt_param_len", 1);
                        rec_int(r, "smpp.sar_total_segments", t->sar_total_segments);
                        break;
                case SMX_TLV_SAR_SEGMENT_SEQNUM:
                        rec_int(r, "smpp.opt_param_tag", SMPP_TAG_SAR_SEGMENT_SEQNUM);
                        rec_int(r, "smpp.opt_param_len", 1);
                        rec_int(r, "smpp.sar_segment_seqnum", t->sar_segment_seqnum);
                        break;
                case SMX_TLV_SC_INTERFACE_VERSION:
                        rec_int(r, "smpp.opt_param_tag", SMPP_TAG_SC_INTERFACE_VERSION);
                        rec_int(r, "smpp.opt_param_len", 1);
                        rec_int(r, "smpp.SC_interface_version", t->sc_interface_version);
                        break;
                case SMX_TLV_USER_MESSAGE_REFERENCE:
                        rec_int(r, "smpp.opt_param_tag", SMPP_TAG_USER_MESSAGE_REFERENCE);
                        rec_int(r, "smpp.opt_param_len", 2);
                        rec_int(r, "smpp.user_message_reference", t->user_message_reference);
                        break;
                case SMX_TLV_SOURCE_PORT:
                        rec_int(r, "smpp.opt_param_tag", SMPP_TAG_SOURCE_PORT);
                        rec_int(r, "smpp.opt_param_len", 2);
                        rec_int(r, "smpp.source_port", t->source_port);
                        break;
                case SMX_TLV_DESTINATION_PORT:
                        rec_int(r, "smpp.opt_param_tag", SMPP_TAG_DESTINATION_PORT);
                        rec_int(r, "smpp.opt_param_len", 2);
                        rec_int(r, "smpp.destination_port", t->destination_port);
                        break;
                case SMX_TLV_PAYLOAD_TYPE:
                        rec_int(r, "smpp.opt_param_tag", SMPP_TAG_PAYLOAD_TYPE);
                        rec_int(r, "smpp.opt_param_len", 1);
                        rec_int(r, "smpp.payload_type", t->payload_type);
                        break;
                case SMX_TLV_MORE_MESSAGES_TO_SEND:
                        rec_int(r, "smpp.opt_param_tag", SMPP_TAG_MORE_MESSAGES_TO_SEND);
                        rec_int(r, "smpp.opt_param_len", 1);
                        rec_int(r, "smpp.more_messages_to_send", t->more_messages_to_send);
                        break;
                case SMX_TLV_DELIVERY_FAILURE_REASON:
                        rec_int(r, "smpp.opt_param_tag", SMPP_TAG_DELIVERY_FAILURE_REASON);
                        rec_int(r, "smpp.opt_param_len", 1);
                        rec_int(r, "smpp.delivery_failure_reason", t->delivery_failure_reason);
                        break;
                case SMX_TLV_ADDITIONAL_STATUS_INFO_TEXT:
                        rec_int(r, "smpp.opt_param_tag", SMPP_TAG_ADDITIONAL_STATUS_INFO_TEXT);
                        rec_int(r, "smpp.opt_param_len", t->additional_status_info_text.len + 1);
                        rec_view(r, "smpp.additional_status_info_text", F_STR,
                                 t->additional_status_info_text);
                        break;
                case SMX_TLV_SMX_MSG_IDENTITY:
                        /* vendor-range tag: tshark shows the raw value */
                        rec_int(r, "smpp.opt_param_tag", SMPP_TAG_SMX_MSG_IDENTITY);
                        rec_int(r, "smpp.opt_param_len", t->smx_msg_identity.len);
                        rec_view(r, "smpp.vendor_op", F_BYTES, t->smx_msg_identity);
                        break;
                default:
                        fprintf(stderr, "pcap_writer: TLV bit %08x not described\n", m);
                        exit(2);
                }
        }
}

/* ---- pcap / Ethernet / IPv4 / TCP ---- */

struct flow {
        FILE *f;
        uint32_t seq[2];        /* next sequence number per direction (0 = ESME->SMSC) */
        uint16_t ip_id;
        uint32_t ts_usec;
        unsigned frames;        /* frames written so far */
};

static void le32(uint8_t *p, uint32_t v)
{
        p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); p[2] = (uint8_t)(v >> 16); p[3] = (uint8_t)(v >> 24);
}

static void le16(uint8_t *p, uint16_t v)
{
        p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8);
}

static uint32_t csum_add(uint32_t sum, const uint8_t *p, size_t n)
{
        for (size_t i = 0; i + 1 < n; i += 2)
                sum += (uint32_t)(p[i] << 8 | p[i + 1]);
        if (n & 1)
                sum += (uint32_t)p[n - 1] << 8;
        return sum;
}

static uint16_t csum_fold(uint32_t sum)
{
        while (sum >> 16)
                sum = (sum & 0xFFFF) + (sum >> 16);
        return (uint16_t)~sum;
}

static void write_all(FILE *f, const void *p, size_t n)
{
        if (fwrite(p, 1, n, f) != n) {
                perror("pcap_writer: write");
                exit(1);
        }
}

static void pcap_global_header(FILE *f)
{
        uint8_t h[24];
        le32(h, 0xa1b2c3d4u);   /* microsecond timestamps */
        le16(h + 4, 2);
        le16(h + 6, 4);
        le32(h + 8, 0);         /* thiszone */
        le32(h + 12, 0);        /* sigfigs */
        le32(h + 16, 65535);    /* snaplen */
        le32(h + 20, 1);        /* LINKTYPE_ETHERNET */
        write_all(f, h, sizeof(h));
}

#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_PSH 0x08
#define TCP_ACK 0x10

/* Write one Ethernet/IPv4/TCP frame in direction dir (0: ESME->SMSC) with
 * `flags` and payload; advances that direction's sequence number. */
static void tcp_frame(struct flow *fl, int dir, uint8_t flags, const uint8_t *payload, size_t n)
{
        static uint8_t fr[14 + 20 + 20 + 65536];
        static const uint8_t esme_mac[6] = { 0x02, 0, 0, 0, 0, 0x01 };
        static const uint8_t smsc_mac[6] = { 0x02, 0, 0, 0, 0, 0x02 };
        static const uint8_t esme_ip[4] = { 10, 0, 0, 1 }, smsc_ip[4] = { 10, 0, 0, 2 };
        const uint8_t *sip = dir ? smsc_ip : esme_ip, *dip = dir ? esme_ip : smsc_ip;
        uint8_t *eth = fr, *ip = fr + 14, *tcp = fr + 34;
        size_t ip_len = 20 + 20 + n;

        memcpy(eth, dir ? esme_mac : smsc_mac, 6);
        memcpy(eth + 6, dir ? smsc_mac : esme_mac, 6);
        eth[12] = 0x08; eth[13] = 0x00;

        memset(ip, 0, 20);
        ip[0] = 0x45;
        smx_put_u16(ip + 2, (uint16_t)ip_len);
        smx_put_u16(ip + 4, fl->ip_id++);
        ip[6] = 0x40;           /* DF */
        ip[8] = 64;
        ip[9] = 6;              /* TCP */
        memcpy(ip + 12, sip, 4);
        memcpy(ip + 16, dip, 4);
        smx_put_u16(ip + 10, csum_fold(csum_add(0, ip, 20)));

        memset(tcp, 0, 20);
        smx_put_u16(tcp, (uint16_t)(dir ? SMSC_PORT : ESME_PORT));
        smx_put_u16(tcp + 2, (uint16_t)(dir ? ESME_PORT : SMSC_PORT));
        smx_put_u32(tcp + 4, fl->seq[dir]);
        smx_put_u32(tcp + 8, (flags & TCP_ACK) ? fl->seq[!dir] : 0);
        tcp[12] = 5 << 4;
        tcp[13] = flags;
        smx_put_u16(tcp + 14, 65535);
        if (n)
                memcpy(tcp + 20, payload, n);
        uint8_t pseudo[12];
        memcpy(pseudo, sip, 4);
        memcpy(pseudo + 4, dip, 4);
        pseudo[8] = 0;
        pseudo[9] = 6;
        smx_put_u16(pseudo + 10, (uint16_t)(20 + n));
        smx_put_u16(tcp + 16, csum_fold(csum_add(csum_add(0, pseudo, 12), tcp, 20 + n)));

        fl->seq[dir] += (uint32_t)n + ((flags & (TCP_SYN | TCP_FIN)) ? 1u : 0u);

        uint8_t rec[16];
        size_t caplen = 14 + ip_len;
        fl->ts_usec += 1000;
        le32(rec, 1796212800u + fl->ts_usec / 1000000u);
        le32(rec + 4, fl->ts_usec % 1000000u);
        le32(rec + 8, (uint32_t)caplen);
        le32(rec + 12, (uint32_t)caplen);
        write_all(fl->f, rec, sizeof(rec));
        write_all(fl->f, fr, caplen);
        fl->frames++;
}

/* ---- JSON sidecar ---- */

static void json_str(FILE *f, const uint8_t *p, size_t n)
{
        fputc('"', f);
        for (size_t i = 0; i < n; i++) {
                if (p[i] == '"' || p[i] == '\\')
                        fprintf(f, "\\%c", p[i]);
                else if (p[i] < 0x20 || p[i] > 0x7e)
                        fprintf(f, "\\u%04x", p[i]);
                else
                        fputc(p[i], f);
        }
        fputc('"', f);
}

static void json_pdu(FILE *f, const struct pdu_rec *r)
{
        fputs("{", f);
        /* a name may repeat (opt_param_tag): emit each name once with a list */
        int first = 1;
        for (int i = 0; i < r->n; i++) {
                int seen = 0;
                for (int j = 0; j < i; j++)
                        if (strcmp(r->f[j].name, r->f[i].name) == 0)
                                seen = 1;
                if (seen)
                        continue;
                fprintf(f, "%s\"%s\": [", first ? "" : ", ", r->f[i].name);
                first = 0;
                int k = 0;
                for (int j = i; j < r->n; j++) {
                        const struct field *x = &r->f[j];
                        if (strcmp(x->name, r->f[i].name) != 0)
                                continue;
                        fputs(k++ ? ", " : "", f);
                        if (x->type == F_INT) {
                                fprintf(f, "\"%lld\"", x->i);
                        } else if (x->type == F_STR) {
                                json_str(f, x->p, x->len);
                        } else {
                                fputc('"', f);
                                for (size_t b = 0; b < x->len; b++)
                                        fprintf(f, "%02x", x->p[b]);
                                fputc('"', f);
                        }
                }
                fputs("]", f);
        }
        fputs("}", f);
}

/* ---- the session script ---- */

struct sender {
        struct flow fl;
        FILE *json;
        int packets_out;
};

/* Encode the PDUs, send them in one segment (or, with split, the single PDU
 * over two segments) and record them in the sidecar. */
static void send_pdus(struct sender *s, int dir, const struct smx_pdu *const *pdus,
                      const struct smx_tlv_raw *extra, size_t n_extra, int n, int split)
{
        static uint8_t seg[65536];
        struct pdu_rec recs[MAX_PDUS_PER_SEND];
        size_t used = 0;
        for (int i = 0; i < n; i++) {
                ssize_t w = smx_pdu_encode(seg + used, sizeof(seg) - used, pdus[i],
                                           i == 0 ? extra : NULL, i == 0 ? n_extra : 0);
                if (w < (ssize_t)SMPP_HEADER_LEN) {
                        fprintf(stderr, "pcap_writer: smx_pdu_encode(%s) failed: %zd\n",
                                smx_command_name(pdus[i]->h.command_id), w);
                        exit(1);
                }
                describe(pdus[i], (uint32_t)w, &recs[i]);
                used += (size_t)w;
        }
        if (split) {
                size_t half = used / 2;
                tcp_frame(&s->fl, dir, TCP_ACK, seg, half);
                tcp_frame(&s->fl, dir, TCP_PSH | TCP_ACK, seg + half, used - half);
        } else {
                tcp_frame(&s->fl, dir, TCP_PSH | TCP_ACK, seg, used);
        }
        fprintf(s->json, "%s\n  {\"frame\": %u, \"pdus\": [", s->packets_out++ ? "," : "", s->fl.frames);
        for (int i = 0; i < n; i++) {
                fputs(i ? ", " : "", s->json);
                json_pdu(s->json, &recs[i]);
        }
        fputs("]}", s->json);
}

static void send1(struct sender *s, int dir, const struct smx_pdu *p)
{
        send_pdus(s, dir, &p, NULL, 0, 1, 0);
}

static struct smx_pdu hdr(uint32_t id, uint32_t status, uint32_t seq)
{
        struct smx_pdu p;
        memset(&p, 0, sizeof(p));
        p.h.command_id = id;
        p.h.command_status = status;
        p.h.sequence_number = seq;
        return p;
}

static struct smx_pdu bind_pdu(uint32_t id, uint32_t seq, const char *sys, const char *pw,
                               const char *type, const char *range)
{
        struct smx_pdu p = hdr(id, 0, seq);
        p.u.bind.system_id = S(sys);
        p.u.bind.password = S(pw);
        p.u.bind.system_type = S(type);
        p.u.bind.interface_version = SMPP_VERSION_34;
        p.u.bind.addr_ton = 1;
        p.u.bind.addr_npi = 1;
        p.u.bind.address_range = S(range);
        return p;
}

static struct smx_pdu bind_resp(uint32_t id, uint32_t seq, const char *sys, int with_version)
{
        struct smx_pdu p = hdr(id, 0, seq);
        p.u.bind_resp.system_id = S(sys);
        if (with_version) {
                p.tlv.present |= SMX_TLV_SC_INTERFACE_VERSION;
                p.tlv.sc_interface_version = SMPP_VERSION_34;
        }
        return p;
}

static struct smx_pdu sm_pdu(uint32_t id, uint32_t seq, const char *src, const char *dst,
                             struct smx_bytes text)
{
        struct smx_pdu p = hdr(id, 0, seq);
        p.u.sm.service_type = S(id == SMPP_SUBMIT_SM ? "CMT" : "");
        p.u.sm.source_addr_ton = 1;
        p.u.sm.source_addr_npi = 1;
        p.u.sm.source_addr = S(src);
        p.u.sm.dest_addr_ton = 1;
        p.u.sm.dest_addr_npi = 1;
        p.u.sm.destination_addr = S(dst);
        if (id != SMPP_DATA_SM) {
                p.u.sm.protocol_id = 0;
                p.u.sm.priority_flag = 1;
                p.u.sm.short_message = text;
        }
        p.u.sm.registered_delivery = id == SMPP_SUBMIT_SM ? SMPP_REGDEL_FINAL : 0;
        return p;
}

static struct smx_pdu resp_pdu(uint32_t id, uint32_t status, uint32_t seq, const char *msgid)
{
        struct smx_pdu p = hdr(id, status, seq);
        p.u.sm_resp.message_id = S(msgid);
        return p;
}

static void write_session(struct sender *s)
{
        struct flow *fl = &s->fl;
        /* handshake */
        fl->seq[0] = 0x1000A000u;
        fl->seq[1] = 0x7FFFF000u;
        tcp_frame(fl, 0, TCP_SYN, NULL, 0);
        tcp_frame(fl, 1, TCP_SYN | TCP_ACK, NULL, 0);
        tcp_frame(fl, 0, TCP_ACK, NULL, 0);

        struct smx_pdu a, b, c, d;

        a = bind_pdu(SMPP_BIND_TRANSCEIVER, 1, "smsmux", "secret", "", "");
        send1(s, 0, &a);
        a = bind_resp(SMPP_BIND_TRANSCEIVER_RESP, 1, "SMSC01", 1);
        send1(s, 1, &a);

        /* one MT with a user_message_reference and a vendor TLV */
        static const uint8_t identity[16] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15 };
        a = sm_pdu(SMPP_SUBMIT_SM, 2, "4915550001", "4915550002", S("Hello world"));
        a.u.sm.data_coding = SMPP_DCS_IA5;
        a.u.sm.esm_class = 0x03 | SMPP_ESM_REPLY_PATH;   /* store and forward, reply path */
        a.u.sm.registered_delivery = SMPP_REGDEL_FINAL | 0x04 | SMPP_REGDEL_INTERMEDIATE;
        a.tlv.present = SMX_TLV_USER_MESSAGE_REFERENCE | SMX_TLV_SMX_MSG_IDENTITY;
        a.tlv.user_message_reference = 0x1234;
        a.tlv.smx_msg_identity = B(identity, sizeof(identity));
        send1(s, 0, &a);
        a = resp_pdu(SMPP_SUBMIT_SM_RESP, 0, 2, "msg-0001");
        send1(s, 1, &a);

        /* several PDUs in one segment: two SAR parts, a payload MT, enquire_link */
        static const uint8_t part1[] = { 'P', 'a', 'r', 't', ' ', 'o', 'n', 'e', ' ', 0x00, '@' };
        static const uint8_t ucs2[] = { 0x00, 'H', 0x00, 'i', 0x20, 0xAC };
        static uint8_t payload[600];
        for (size_t i = 0; i < sizeof(payload); i++)
                payload[i] = (uint8_t)('a' + i % 26);
        a = sm_pdu(SMPP_SUBMIT_SM, 3, "ACME", "4915550003", B(part1, sizeof(part1)));
        a.u.sm.source_addr_ton = 5;
        a.u.sm.source_addr_npi = 0;
        a.u.sm.data_coding = SMPP_DCS_BINARY;
        a.tlv.present = SMX_TLV_SAR_MSG_REF_NUM | SMX_TLV_SAR_TOTAL_SEGMENTS | SMX_TLV_SAR_SEGMENT_SEQNUM;
        a.tlv.sar_msg_ref_num = 0xBEEF;
        a.tlv.sar_total_segments = 2;
        a.tlv.sar_segment_seqnum = 1;
        b = a;
        b.h.sequence_number = 4;
        b.u.sm.short_message = B(ucs2, sizeof(ucs2));
        b.u.sm.data_coding = SMPP_DCS_UCS2;
        b.tlv.sar_segment_seqnum = 2;
        c = sm_pdu(SMPP_SUBMIT_SM, 5, "4915550001", "4915550004", (struct smx_bytes){ 0 });
        c.u.sm.validity_period = S("000001000000000R");
        c.tlv.present = SMX_TLV_MESSAGE_PAYLOAD | SMX_TLV_SOURCE_PORT | SMX_TLV_DESTINATION_PORT |
                        SMX_TLV_PAYLOAD_TYPE | SMX_TLV_MORE_MESSAGES_TO_SEND;
        c.tlv.message_payload = B(payload, sizeof(payload));
        c.tlv.source_port = 16000;
        c.tlv.destination_port = 2948;
        c.tlv.payload_type = 0;
        c.tlv.more_messages_to_send = 1;
        d = hdr(SMPP_ENQUIRE_LINK, 0, 6);
        {
                const struct smx_pdu *v[] = { &a, &b, &c, &d };
                send_pdus(s, 0, v, NULL, 0, 4, 0);
        }
        a = resp_pdu(SMPP_SUBMIT_SM_RESP, 0, 3, "msg-0002");
        b = resp_pdu(SMPP_SUBMIT_SM_RESP, 0, 4, "msg-0003");
        c = resp_pdu(SMPP_SUBMIT_SM_RESP, 0, 5, "4f2a9c7e-1d2b-4c3a-9e8f-0123456789ab");
        d = hdr(SMPP_ENQUIRE_LINK_RESP, 0, 6);
        {
                const struct smx_pdu *v[] = { &a, &b, &c, &d };
                send_pdus(s, 1, v, NULL, 0, 4, 0);
        }

        /* a delivery receipt in deliver_sm */
        static const char dr_text[] = "id:msg-0001 sub:001 dlvrd:001 submit date:2611271200 "
                                      "done date:2611271201 stat:DELIVRD err:000 text:Hello world";
        a = sm_pdu(SMPP_DELIVER_SM, 100, "4915550002", "4915550001", S(dr_text));
        a.u.sm.esm_class = SMPP_ESM_TYPE_SMSC_DR;
        a.tlv.present = SMX_TLV_RECEIPTED_MESSAGE_ID | SMX_TLV_MESSAGE_STATE | SMX_TLV_NETWORK_ERROR_CODE |
                        SMX_TLV_USER_MESSAGE_REFERENCE;
        a.tlv.receipted_message_id = S("msg-0001");
        a.tlv.message_state = SMPP_STATE_DELIVERED;
        a.tlv.network_error_type = 3;
        a.tlv.network_error_code = 0x0102;
        a.tlv.user_message_reference = 0x1234;
        send1(s, 1, &a);
        a = hdr(SMPP_DELIVER_SM_RESP, 0, 100);
        send1(s, 0, &a);

        /* an MO, split over two segments */
        a = sm_pdu(SMPP_DELIVER_SM, 101, "4915550009", "4915550001", S("Reply text from a handset"));
        a.u.sm.data_coding = SMPP_DCS_LATIN1;
        {
                const struct smx_pdu *v[] = { &a };
                send_pdus(s, 1, v, NULL, 0, 1, 1);
        }
        a = hdr(SMPP_DELIVER_SM_RESP, SMPP_ESME_RX_T_APPN, 101);
        send1(s, 0, &a);

        /* a receipt in data_sm (jasmin style) with a long source address */
        a = sm_pdu(SMPP_DATA_SM, 102, "491555000200000000000000000000000000000001", "4915550001",
                   (struct smx_bytes){ 0 });
        a.u.sm.esm_class = SMPP_ESM_TYPE_SMSC_DR;
        a.tlv.present = SMX_TLV_RECEIPTED_MESSAGE_ID | SMX_TLV_MESSAGE_STATE | SMX_TLV_MESSAGE_PAYLOAD;
        a.tlv.receipted_message_id = S("msg-0002");
        a.tlv.message_state = SMPP_STATE_UNDELIVERABLE;
        a.tlv.message_payload = S("id:msg-0002 stat:UNDELIV err:001");
        send1(s, 1, &a);
        a = resp_pdu(SMPP_DATA_SM_RESP, 0, 102, "");
        send1(s, 0, &a);

        /* an MT from us via data_sm, answered with failure details */
        a = sm_pdu(SMPP_DATA_SM, 7, "4915550001", "4915550005", (struct smx_bytes){ 0 });
        a.tlv.present = SMX_TLV_MESSAGE_PAYLOAD | SMX_TLV_SAR_MSG_REF_NUM | SMX_TLV_SAR_TOTAL_SEGMENTS |
                        SMX_TLV_SAR_SEGMENT_SEQNUM;
        a.tlv.message_payload = S("data_sm text");
        a.tlv.sar_msg_ref_num = 7;
        a.tlv.sar_total_segments = 1;
        a.tlv.sar_segment_seqnum = 1;
        send1(s, 0, &a);
        a = resp_pdu(SMPP_DATA_SM_RESP, SMPP_ESME_RDELIVERYFAILURE, 7, "msg-0004");
        a.tlv.present = SMX_TLV_DELIVERY_FAILURE_REASON | SMX_TLV_NETWORK_ERROR_CODE |
                        SMX_TLV_ADDITIONAL_STATUS_INFO_TEXT;
        a.tlv.delivery_failure_reason = 3;
        a.tlv.network_error_type = 3;
        a.tlv.network_error_code = 27;
        a.tlv.additional_status_info_text = S("absent subscriber");
        send1(s, 1, &a);

        /* data_sm answered with status 0 and the resp TLVs (Wireshark shows a
         * resp body only when the status is 0) */
        a = sm_pdu(SMPP_DATA_SM, 14, "4915550001", "4915550007", (struct smx_bytes){ 0 });
        a.tlv.present = SMX_TLV_MESSAGE_PAYLOAD;
        a.tlv.message_payload = S("second data_sm");
        send1(s, 0, &a);
        a = resp_pdu(SMPP_DATA_SM_RESP, SMPP_ESME_ROK, 14, "msg-0005");
        a.tlv.present = SMX_TLV_DELIVERY_FAILURE_REASON | SMX_TLV_NETWORK_ERROR_CODE |
                        SMX_TLV_ADDITIONAL_STATUS_INFO_TEXT;
        a.tlv.delivery_failure_reason = 0;
        a.tlv.network_error_type = 8;
        a.tlv.network_error_code = 0xFFFE;
        a.tlv.additional_status_info_text = S("accepted for delivery");
        send1(s, 1, &a);

        /* an MT split over two segments, refused with a throttling error */
        a = sm_pdu(SMPP_SUBMIT_SM, 8, "4915550001", "4915550006", S("Throttled one"));
        {
                const struct smx_pdu *v[] = { &a };
                send_pdus(s, 0, v, NULL, 0, 1, 1);
        }
        a = resp_pdu(SMPP_SUBMIT_SM_RESP, SMPP_ESME_RTHROTTLED, 8, "");
        send1(s, 1, &a);
        a = hdr(SMPP_GENERIC_NACK, SMPP_ESME_RINVCMDID, 9);
        send1(s, 1, &a);

        /* the other bind kinds, two in one segment, and their answers */
        a = bind_pdu(SMPP_BIND_TRANSMITTER, 10, "tx-user", "pw1", "VMA", "");
        b = bind_pdu(SMPP_BIND_RECEIVER, 11, "rx-user", "pw2", "", "^49.*");
        {
                const struct smx_pdu *v[] = { &a, &b };
                send_pdus(s, 0, v, NULL, 0, 2, 0);
        }
        a = bind_resp(SMPP_BIND_TRANSMITTER_RESP, 10, "SMSC01", 0);
        b = bind_resp(SMPP_BIND_RECEIVER_RESP, 11, "SMSC02", 1);
        b.tlv.sc_interface_version = SMPP_VERSION_50;
        {
                const struct smx_pdu *v[] = { &a, &b };
                send_pdus(s, 1, v, NULL, 0, 2, 0);
        }

        /* outbind, SMSC-side enquire_link, unbind */
        a = hdr(SMPP_OUTBIND, 0, 12);
        a.u.outbind.system_id = S("SMSC01");
        a.u.outbind.password = S("obpw");
        send1(s, 1, &a);
        a = hdr(SMPP_ENQUIRE_LINK, 0, 103);
        send1(s, 1, &a);
        a = hdr(SMPP_ENQUIRE_LINK_RESP, 0, 103);
        send1(s, 0, &a);
        a = hdr(SMPP_UNBIND, 0, 13);
        send1(s, 0, &a);
        a = hdr(SMPP_UNBIND_RESP, 0, 13);
        send1(s, 1, &a);
}

int main(int argc, char **argv)
{
        if (argc != 3) {
                fprintf(stderr, "usage: %s OUT.pcap OUT.json\n", argv[0]);
                return 2;
        }
        struct sender s;
        memset(&s, 0, sizeof(s));
        s.fl.f = fopen(argv[1], "wb");
        s.json = fopen(argv[2], "w");
        if (!s.fl.f || !s.json) {
                fprintf(stderr, "pcap_writer: cannot open output: %s\n", strerror(errno));
                return 1;
        }
        pcap_global_header(s.fl.f);
        fprintf(s.json, "{\"port\": %u,\n \"fields\": {", SMSC_PORT);
        for (size_t i = 0; i < sizeof(field_types) / sizeof(field_types[0]); i++)
                fprintf(s.json, "%s\"%s\": \"%s\"", i ? ", " : "", field_types[i].name,
                        field_types[i].type == F_INT ? "int" : field_types[i].type == F_STR ? "str" : "bytes");
        fputs("},\n \"packets\": [", s.json);
        write_session(&s);
        fprintf(s.json, "\n ],\n \"frames\": %u}\n", s.fl.frames);
        if (fclose(s.fl.f) != 0 || fclose(s.json) != 0) {
                perror("pcap_writer: close");
                return 1;
        }
        return 0;
}
