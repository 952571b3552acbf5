/* Codec micro benchmarks: our encoder/decoder/framer against libsmpp34
 * (osmocom; smpp34_pack / smpp34_unpack) on the same PDUs, in one binary, so
 * the ratio of the two comes from one run on one machine.
 *
 *   codec/encode_submit_sm/{ours,libsmpp34}     a typical MT with our 16-octet
 *                                               identity TLV, struct prebuilt,
 *                                               only the sequence number changes
 *   codec/decode_submit_sm_resp/{..}            36-char message_id
 *   codec/decode_deliver_sm_dr/{..}             receipt text + receipted_message_id,
 *                                               message_state, network_error_code
 *   codec/stream_1mib_mixed/{..}                frame and decode 1 MiB of mixed PDUs
 *                                               (submit_sm_resp, DRs, MOs,
 *                                               enquire_link(_resp), data_sm)
 *
 * Both sides get the most favourable fair setup: prebuilt structures, no
 * per-iteration memset. libsmpp34 allocates each unpacked TLV with malloc;
 * freeing them (destroy_tlv) is part of its decode, as it is for any user.
 * libsmpp34 has no framer, so its stream loop reads command_length itself.
 * Valid input only: libsmpp34 is unsafe on anything else (HOSTILE.md K-4).
 *
 * Run: bench_codec --benchmark_min_time=0.5 [--benchmark_out=x.json
 * --benchmark_out_format=json]; bench/codec/ratios.py turns the JSON into
 * the table in bench/README.md. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <smpp34.h>
#include <smpp34_structs.h>
#include <smpp34_params.h>

#include "gbench_shim.h"
#include "pdu/pdu.h"

#define BATCH 16
#define STREAM_BYTES (1u << 20)

static const char mt_text[] = "Your verification code is 482913. It expires in 10 minutes. "
                              "Do not share it with anyone.";
static const uint8_t identity[16] = { 0x5a, 0x11, 0x9c, 0x03, 0x7e, 0x42, 0x10, 0x01,
                                      0, 0, 0, 0, 0, 0x01, 0xe2, 0x40 };
static const char dr_text[] = "id:4f2a9c7e-1d2b-4c3a-9e8f-0123456789ab sub:001 dlvrd:001 "
                              "submit date:2611271200 done date:2611271201 stat:DELIVRD "
                              "err:000 text:Your verification co";
static const char msg_id[] = "4f2a9c7e-1d2b-4c3a-9e8f-0123456789ab";

static struct smx_bytes view(const char *s)
{
        return (struct smx_bytes){ .p = (const uint8_t *)s, .len = (uint16_t)strlen(s) };
}

static void die(const char *what)
{
        fprintf(stderr, "bench_codec: %s\n", what);
        exit(1);
}

/* ---- the PDUs, as our structs ---- */

static struct smx_pdu mt_pdu(void)
{
        struct smx_pdu p;
        memset(&p, 0, sizeof(p));
        p.h.command_id = SMPP_SUBMIT_SM;
        p.h.sequence_number = 1;
        p.u.sm.source_addr_ton = 1;
        p.u.sm.source_addr_npi = 1;
        p.u.sm.source_addr = view("4915550001");
        p.u.sm.dest_addr_ton = 1;
        p.u.sm.dest_addr_npi = 1;
        p.u.sm.destination_addr = view("4915550002");
        p.u.sm.registered_delivery = SMPP_REGDEL_FINAL;
        p.u.sm.data_coding = SMPP_DCS_DEFAULT;
        p.u.sm.short_message = view(mt_text);
        p.tlv.present = SMX_TLV_SMX_MSG_IDENTITY;
        p.tlv.smx_msg_identity = (struct smx_bytes){ .p = identity, .len = sizeof(identity) };
        return p;
}

static struct smx_pdu dr_pdu(uint32_t seq)
{
        struct smx_pdu p;
        memset(&p, 0, sizeof(p));
        p.h.command_id = SMPP_DELIVER_SM;
        p.h.sequence_number = seq;
        p.u.sm.source_addr_ton = 1;
        p.u.sm.source_addr_npi = 1;
        p.u.sm.source_addr = view("4915550002");
        p.u.sm.dest_addr_ton = 1;
        p.u.sm.dest_addr_npi = 1;
        p.u.sm.destination_addr = view("4915550001");
        p.u.sm.esm_class = SMPP_ESM_TYPE_SMSC_DR;
        p.u.sm.short_message = view(dr_text);
        p.tlv.present = SMX_TLV_RECEIPTED_MESSAGE_ID | SMX_TLV_MESSAGE_STATE | SMX_TLV_NETWORK_ERROR_CODE;
        p.tlv.receipted_message_id = view(msg_id);
        p.tlv.message_state = SMPP_STATE_DELIVERED;
        p.tlv.network_error_type = 3;
        p.tlv.network_error_code = 0;
        return p;
}

static struct smx_pdu mo_pdu(uint32_t seq)
{
        struct smx_pdu p = dr_pdu(seq);
        p.u.sm.esm_class = 0;
        p.u.sm.source_addr = view("4915550009");
        p.u.sm.short_message = view("STOP");
        p.tlv.present = 0;
        return p;
}

static struct smx_pdu data_sm_pdu(uint32_t seq)
{
        struct smx_pdu p;
        memset(&p, 0, sizeof(p));
        p.h.command_id = SMPP_DATA_SM;
        p.h.sequence_number = seq;
        p.u.sm.source_addr_ton = 1;
        p.u.sm.source_addr_npi = 1;
        p.u.sm.source_addr = view("4915550002");
        p.u.sm.dest_addr_ton = 1;
        p.u.sm.dest_addr_npi = 1;
        p.u.sm.destination_addr = view("4915550001");
        p.u.sm.esm_class = SMPP_ESM_TYPE_SMSC_DR;
        p.tlv.present = SMX_TLV_RECEIPTED_MESSAGE_ID | SMX_TLV_MESSAGE_STATE | SMX_TLV_MESSAGE_PAYLOAD;
        p.tlv.receipted_message_id = view(msg_id);
        p.tlv.message_state = SMPP_STATE_UNDELIVERABLE;
        p.tlv.message_payload = view("id:4f2a9c7e stat:UNDELIV err:001");
        return p;
}

static struct smx_pdu submit_resp_pdu(uint32_t seq)
{
        struct smx_pdu p;
        memset(&p, 0, sizeof(p));
        p.h.command_id = SMPP_SUBMIT_SM_RESP;
        p.h.sequence_number = seq;
        p.u.sm_resp.message_id = view(msg_id);
        return p;
}

static size_t encode_or_die(uint8_t *buf, size_t cap, const struct smx_pdu *p)
{
        ssize_t n = smx_pdu_encode(buf, cap, p, NULL, 0);
        if (n < (ssize_t)SMPP_HEADER_LEN)
                die("smx_pdu_encode failed on a benchmark PDU");
        return (size_t)n;
}

/* ---- the same PDUs, as libsmpp34 structs ---- */

static void lib_cpy(uint8_t *dst, size_t cap, const char *s)
{
        snprintf((char *)dst, cap, "%s", s);
}

static void lib_mt(submit_sm_t *s, tlv_t *ident)
{
        memset(s, 0, sizeof(*s));
        s->command_id = SUBMIT_SM;
        s->sequence_number = 1;
        s->source_addr_ton = 1;
        s->source_addr_npi = 1;
        lib_cpy(s->source_addr, sizeof(s->source_addr), "4915550001");
        s->dest_addr_ton = 1;
        s->dest_addr_npi = 1;
        lib_cpy(s->destination_addr, sizeof(s->destination_addr), "4915550002");
        s->registered_delivery = SMPP_REGDEL_FINAL;
        s->sm_length = (uint8_t)strlen(mt_text);
        memcpy(s->short_message, mt_text, s->sm_length);
        memset(ident, 0, sizeof(*ident));
        ident->tag = SMPP_TAG_SMX_MSG_IDENTITY;
        ident->length = sizeof(identity);
        memcpy(ident->value.octet, identity, sizeof(identity));
        s->tlv = ident;
}

/* Room for whatever smpp34_unpack2 writes for the PDUs used here. */
union lib_any {
        generic_nack_t h;
        submit_sm_resp_t submit_resp;
        deliver_sm_t deliver;
        data_sm_t data;
        enquire_link_t el;
};

/* libsmpp34's TLV loop prepends to whatever the list head already holds, and
 * the heads of different PDU structs sit at different offsets of the union:
 * clear both before every unpack. */
static void lib_prepare(union lib_any *u)
{
        u->deliver.tlv = NULL;
        u->data.tlv = NULL;
}

/* Free what libsmpp34 allocated while unpacking `id`. */
static void lib_release(uint32_t id, union lib_any *u)
{
        if (id == DELIVER_SM)
                destroy_tlv(u->deliver.tlv);
        else if (id == DATA_SM)
                destroy_tlv(u->data.tlv);
}

/* ---- benchmarks ---- */

static void bm_encode_submit_sm_ours(struct gbench_state *st, void *arg)
{
        static uint8_t buf[1024];
        struct smx_pdu p = mt_pdu();
        int64_t bytes = 0;
        while (gbench_keep_running_batch(st, BATCH)) {
                for (int i = 0; i < BATCH; i++) {
                        p.h.sequence_number++;
                        ssize_t n = smx_pdu_encode(buf, sizeof(buf), &p, NULL, 0);
                        gbench_do_not_optimize(buf);
                        bytes += n;
                }
        }
        gbench_set_items_processed(st, gbench_iterations(st));
        gbench_set_bytes_processed(st, bytes);
}

static void bm_encode_submit_sm_lib(struct gbench_state *st, void *arg)
{
        static uint8_t buf[1024];
        static submit_sm_t s;
        static tlv_t ident;
        lib_mt(&s, &ident);
        int64_t bytes = 0;
        while (gbench_keep_running_batch(st, BATCH)) {
                for (int i = 0; i < BATCH; i++) {
                        int n = 0;
                        s.sequence_number++;
                        if (smpp34_pack(SUBMIT_SM, buf, sizeof(buf), &n, &s) != 0) {
                                gbench_skip_with_error(st, "smpp34_pack failed");
                                return;
                        }
                        gbench_do_not_optimize(buf);
                        bytes += n;
                }
        }
        gbench_set_items_processed(st, gbench_iterations(st));
        gbench_set_bytes_processed(st, bytes);
}

/* One prebuilt PDU, decoded over and over. */
struct one_pdu {
        uint8_t buf[1024];
        size_t len;
        uint32_t id;
};

static void bm_decode_one_ours(struct gbench_state *st, void *arg)
{
        const struct one_pdu *in = arg;
        struct smx_pdu d;
        struct smx_pdu_verdict v;
        while (gbench_keep_running_batch(st, BATCH)) {
                for (int i = 0; i < BATCH; i++) {
                        if (smx_pdu_decode(in->buf, in->len, NULL, &d, &v) != SMX_PDU_OK) {
                                gbench_skip_with_error(st, "smx_pdu_decode refused the PDU");
                                return;
                        }
                        gbench_do_not_optimize(&d);
                }
        }
        gbench_set_items_processed(st, gbench_iterations(st));
        gbench_set_bytes_processed(st, gbench_iterations(st) * (int64_t)in->len);
}

static void bm_decode_one_lib(struct gbench_state *st, void *arg)
{
        const struct one_pdu *in = arg;
        static union lib_any u;
        memset(&u, 0, sizeof(u));
        while (gbench_keep_running_batch(st, BATCH)) {
                for (int i = 0; i < BATCH; i++) {
                        lib_prepare(&u);
                        if (smpp34_unpack(in->id, &u, in->buf, (int)in->len) != 0) {
                                gbench_skip_with_error(st, "smpp34_unpack refused the PDU");
                                return;
                        }
                        gbench_do_not_optimize(&u);
                        lib_release(in->id, &u);
                }
        }
        gbench_set_items_processed(st, gbench_iterations(st));
        gbench_set_bytes_processed(st, gbench_iterations(st) * (int64_t)in->len);
}

/* 1 MiB of whole PDUs, a mix of what an ESME reads from an SMSC. */
struct stream {
        uint8_t *buf;
        size_t len;
        int64_t pdus;
};

static void build_stream(struct stream *s)
{
        s->buf = malloc(STREAM_BYTES);
        if (!s->buf)
                die("out of memory");
        s->len = 0;
        s->pdus = 0;
        for (uint32_t seq = 1;; seq++) {
                struct smx_pdu p;
                uint8_t tmp[1024];
                switch (seq % 8) {
                case 0: case 2: case 4: p = submit_resp_pdu(seq); break;
                case 1: case 5: p = dr_pdu(seq); break;
                case 3: p = mo_pdu(seq); break;
                case 6: p = data_sm_pdu(seq); break;
                default:
                        memset(&p, 0, sizeof(p));
                        p.h.command_id = (seq & 8) ? SMPP_ENQUIRE_LINK : SMPP_ENQUIRE_LINK_RESP;
                        p.h.sequence_number = seq;
                        break;
                }
                size_t n = encode_or_die(tmp, sizeof(tmp), &p);
                if (s->len + n > STREAM_BYTES)
                        break;
                memcpy(s->buf + s->len, tmp, n);
                s->len += n;
                s->pdus++;
        }
}

static void bm_stream_ours(struct gbench_state *st, void *arg)
{
        const struct stream *s = arg;
        struct smx_pdu d;
        struct smx_pdu_verdict v;
        while (gbench_keep_running(st)) {
                size_t off = 0;
                int64_t n = 0;
                while (off < s->len) {
                        ssize_t len = smx_frame_peek(s->buf + off, s->len - off, 0);
                        if (len <= 0 || smx_pdu_decode(s->buf + off, (size_t)len, NULL, &d, &v) != SMX_PDU_OK) {
                                gbench_skip_with_error(st, "our framer/decoder refused the stream");
                                return;
                        }
                        gbench_do_not_optimize(&d);
                        off += (size_t)len;
                        n++;
                }
                if (n != s->pdus) {
                        gbench_skip_with_error(st, "PDU count mismatch");
                        return;
                }
        }
        gbench_set_items_processed(st, gbench_iterations(st) * s->pdus);
        gbench_set_bytes_processed(st, gbench_iterations(st) * (int64_t)s->len);
}

static void bm_stream_lib(struct gbench_state *st, void *arg)
{
        const struct stream *s = arg;
        static union lib_any u;
        memset(&u, 0, sizeof(u));
        while (gbench_keep_running(st)) {
                size_t off = 0;
                while (off < s->len) {
                        /* no framer in libsmpp34: read command_length ourselves */
                        if (s->len - off < SMPP_HEADER_LEN) {
                                gbench_skip_with_error(st, "truncated stream");
                                return;
                        }
                        uint32_t len = smx_get_u32(s->buf + off);
                        uint32_t id = smx_get_u32(s->buf + off + 4);
                        lib_prepare(&u);
                        if (len < SMPP_HEADER_LEN || len > s->len - off ||
                            smpp34_unpack2(&u, s->buf + off, (int)len) != 0) {
                                gbench_skip_with_error(st, "libsmpp34 refused the stream");
                                return;
                        }
                        gbench_do_not_optimize(&u);
                        lib_release(id, &u);
                        off += len;
                }
        }
        gbench_set_items_processed(st, gbench_iterations(st) * s->pdus);
        gbench_set_bytes_processed(st, gbench_iterations(st) * (int64_t)s->len);
}

int main(int argc, char **argv)
{
        static struct one_pdu resp, dr;
        static struct stream stream;

        struct smx_pdu p = submit_resp_pdu(42);
        resp.len = encode_or_die(resp.buf, sizeof(resp.buf), &p);
        resp.id = SMPP_SUBMIT_SM_RESP;
        p = dr_pdu(43);
        dr.len = encode_or_die(dr.buf, sizeof(dr.buf), &p);
        dr.id = SMPP_DELIVER_SM;
        build_stream(&stream);

        gbench_register("codec/encode_submit_sm/ours", bm_encode_submit_sm_ours, NULL);
        gbench_register("codec/encode_submit_sm/libsmpp34", bm_encode_submit_sm_lib, NULL);
        gbench_register("codec/decode_submit_sm_resp/ours", bm_decode_one_ours, &resp);
        gbench_register("codec/decode_submit_sm_resp/libsmpp34", bm_decode_one_lib, &resp);
        gbench_register("codec/decode_deliver_sm_dr/ours", bm_decode_one_ours, &dr);
        gbench_register("codec/decode_deliver_sm_dr/libsmpp34", bm_decode_one_lib, &dr);
        gbench_register("codec/stream_1mib_mixed/ours", bm_stream_ours, &stream);
        gbench_register("codec/stream_1mib_mixed/libsmpp34", bm_stream_lib, &stream);
        int rc = gbench_main(argc, argv);
        free(stream.buf);
        return rc;
}
