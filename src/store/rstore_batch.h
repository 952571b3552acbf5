/* The pipelined batch of one store-thread turn (rstore_loop.c runs it):
 * the commands and, for each, what its reply means. Built by
 * rstore_batch.c, whose replies rstore_reply.c and run_batch take apart.
 * Store thread only. */
#ifndef SMX_RSTORE_BATCH_H
#define SMX_RSTORE_BATCH_H

#include "store/rstore_int.h"

#define RS_CORR_BATCH 16384u    /* every buffered write goes before the DRs queued after it */
#define RS_IN_BATCH 4096u
#define RS_DR_GROUP 32u         /* DRs per call of the many-DR script */
#define RS_READ_MAX 512u
#define RS_EV_RESERVE 64u       /* ring records kept for local events */
#define RS_TRIM_EVERY 256u      /* acknowledgements between two trims of a stream */
#define RS_SWEEP_IDS 256u       /* parked ids per park-sweep call (one call a turn
                                   while a backlog is past its park timeout) */

enum cmd_kind {
        K_ACK = 1, K_TRIM, K_CORR_SET, K_CORR_SCRIPT, K_IN, K_IN_MANY, K_READ, K_CLAIM, K_HB,
        K_PARK_SWEEP, K_GROUP_SWEEP, K_SCAN, K_REFRESH, K_GEN,
};

struct cmd {
        uint8_t kind;
        uint16_t stream;
        uint32_t n;             /* K_ACK: ids; K_CORR/K_IN: 1; K_IN_MANY: DRs */
        uint32_t ack_to;        /* K_ACK of released records: ack_pos once answered;
                                   K_REFRESH: its first position in rs->refresh_pos */
        uint8_t has_ack_to;
        uint8_t reack;          /* K_ACK of the first `n` ids left in rs->reack;
                                   K_REFRESH: of reack ids (no positions) */
};

struct batch {
        struct cmd *cmd;
        unsigned n, cap;
        uint32_t read_budget;
        uint8_t claim_own;      /* XAUTOCLAIM our own stream too (rstore_held.c) */
};

/* ARGV 1-4 of every script: cluster, now, TTL, instance. */
struct common {
        char now[24], ttl[16];
};

/* rstore_batch.c: append to the batch (each returns/notes what it added) */
void rs_batch_acks(struct smx_rstore *rs, struct batch *b);
/* The correlation value of a write into val (cap bytes); its length. */
int rs_corr_value(struct smx_rstore *rs, const struct rs_corr_req *r, char *val, size_t cap);
/* XTRIM below what is acknowledged, for each stream with RS_TRIM_EVERY
 * acknowledgements since its last trim (any with `all`). */
void rs_batch_trims(struct smx_rstore *rs, struct batch *b, int all);
int rs_batch_corr(struct smx_rstore *rs, struct batch *b, const struct common *cm);
int rs_batch_in(struct smx_rstore *rs, struct batch *b, const struct common *cm);
void rs_batch_reads(struct smx_rstore *rs, struct batch *b);
/* Every heartbeat: the heartbeat, the park and MO-group sweeps, the
 * instance scan; between heartbeats the park sweep again while the last
 * one found more than it took (rs->sweep_more). */
void rs_batch_periodic(struct smx_rstore *rs, struct batch *b, const struct common *cm,
                       uint64_t now);
/* One command (argv) of `kind` for stream s: 0, or -1 when the batch is full. */
int rs_batch_add(struct smx_rstore *rs, struct batch *b, uint8_t kind, uint16_t stream,
                 int argc, const char **argv, const size_t *argvlen);
/* The heartbeat's period: 1 s, or owner_takeover_ms / 4 when shorter. */
uint32_t rs_heartbeat_ms(const struct smx_rstore *rs);

/* rstore_fence.c: with the heartbeat, the refresh of the held entries
 * whose lease is due (before the reads: no XAUTOCLAIM here or elsewhere
 * finds them idle), and claim_own set for rs_batch_reads. */
void rs_batch_refresh(struct smx_rstore *rs, struct batch *b, uint64_t now);
/* rstore_fence.c: with the heartbeat, the data set's generation marker
 * (read, made if missing: rs_gen_learn takes the reply). */
void rs_batch_gen(struct smx_rstore *rs, struct batch *b);
/* rstore_fence.c: a refresh's reply (c->n flags, 1: still ours, its
 * lease renewed from sent_ms; 0: another's, the record dropped; 3: pending
 * for nobody, shown or dropped by its lease and generation; then the
 * data set's generation). */
void rs_on_refresh(struct smx_rstore *rs, const struct cmd *c, const redisReply *r,
                   uint64_t sent_ms);

/* rstore_reply.c: event records and the replies that carry stream entries */
struct smx_ev_rec *rs_ev_reserve(struct smx_rstore *rs);
void rs_ev_commit(struct smx_rstore *rs, uint16_t stream, const char *id);
void rs_on_scan(struct smx_rstore *rs, const redisReply *r, uint64_t now);
int rs_on_entries(struct smx_rstore *rs, uint16_t s, const redisReply *ents);
int rs_on_read(struct smx_rstore *rs, uint16_t s, const redisReply *r);

#endif
