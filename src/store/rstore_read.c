/* The read connection (rstore_int.h): our own stream's DRs/MOs reach the
 * store thread through a second connection to Redis that waits in
 * `XREADGROUP GROUP g INSTANCE COUNT n BLOCK 2000 STREAMS KEY >`, so an
 * idle store sends about no commands (a read every RS_READ_BLOCK_MS and the
 * main connection's heartbeat) and an entry the DR script adds wakes the
 * store thread as soon as Redis has it, instead of being found by the next
 * 2 ms poll.
 *
 * Same thread: the loop (rstore_loop.c) polls this connection's socket
 * with its eventfd; one read is outstanding at a time, its reply taken
 * apart by rs_on_read like the batch's. Why not a blocking call on a
 * thread of its own: the entries go into the event ring, whose writer is
 * the store thread, and the ring room a read may fill (rd_want, counted out
 * of what the batch's reads and local events may use) is the store
 * thread's to share; a second thread would need a lock or a ring between
 * the two for every entry.
 *
 * Set up like the main connection (rs_conn_open: its own TCP or unix
 * connection and, for rediss://, its own TLS session from the same context;
 * AUTH, SELECT, CLIENT SETNAME smsmux:CLUSTER:INSTANCE:read) plus XGROUP
 * CREATE ... MKSTREAM (a Redis restarted empty has no group) and the data
 * set's generation (rstore_fence.c: the entries it reads carry it). It is
 * opened only while
 * the main connection is up (nothing to gain from a second failing
 * handshake) and reconnects with its own backoff (100 ms doubling to 2 s).
 * While it is down the main batch reads our stream itself, without
 * blocking, as before (rs_batch_reads): the store degrades to polling, it
 * never stops reading.
 *
 * Loss: a read whose reply never came may have moved entries into our
 * pending list (consumer group: delivered to us, not acknowledged), so
 * after a loss the next reads (on whichever connection) ask for our pending
 * entries after the last one put in the ring (rs_own_reread: id own_last,
 * no BLOCK) until none is left, then new ones again; entries already in
 * the ring are held (rstore_held.c) and never put in twice. Nothing is lost
 * or doubled (test_store_blockread kills this connection with CLIENT KILL).
 *
 * BLOCK is 2 s, or owner_takeover_ms / 4 when shorter: what a read brings
 * has its lease (rstore_fence.c) counted from the read's sending, so an
 * entry Redis hands over at the end of the BLOCK still has at least half
 * of it left.
 *
 * The next read goes out as soon as a reply is in: under load a read
 * brings one or a few entries (about one read per DR at 5 000 DRs/s).
 * Holding it back to gather more (tried: 250 us, 1 ms) saves up to 1.3
 * commands per MT but adds its wait to every DR's latency (bench/README.md
 * "Shared store"), and latency is what this connection is for.
 *
 * Shutdown: the loop closes this connection first (a blocked read holds
 * nothing: Redis keeps what it had sent us pending for the next start).
 * Store thread only. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "log/log.h"
#include "store/rstore_batch.h"

static uint64_t mono_us(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

int rs_read_connect(struct smx_rstore *rs, uint64_t now_ms)
{
        if (rs->rd)
                return 0;
        if (!rs->rc || now_ms < rs->rd_next_connect_ms)
                return -1;
        redisContext *c = rs_conn_open(rs, RS_READ, now_ms);
        if (!c)
                return -1;
        redisReply *r = rs_io_command(rs, RS_READ, c, "XGROUP CREATE %s g 0 MKSTREAM",
                                      rs->streams[0].key);
        if (!r || (r->type == REDIS_REPLY_ERROR && strncmp(r->str, "BUSYGROUP", 9) != 0))
                return rs_conn_fail(rs, RS_READ, c, r, "XGROUP CREATE", now_ms);
        freeReplyObject(r);
        if (rs_gen_setup(rs, RS_READ, c, now_ms) < 0)
                return -1;
        rs->rd = c;
        rs->rd_want = 0;
        RS_INC(rs, read_connects);
        RS_SET(rs, read_connected, 1);
        if (rs->rd_down_since_ms)
                smx_logf(SMX_LOG_WARN, NULL, NULL, "store %s: read connection up after %llu ms",
                         rs->shown_url, (unsigned long long)(now_ms - rs->rd_down_since_ms));
        rs->rd_down_since_ms = 0;
        rs->rd_backoff_ms = 0;
        return 0;
}

void rs_read_disconnect(struct smx_rstore *rs, const char *why, uint64_t now_ms)
{
        if (!rs->rd)
                return;
        smx_logf(SMX_LOG_WARN, NULL, NULL, "store %s: read connection lost (%s)",
                 rs->shown_url, why);
        rs_io_close(rs, RS_READ, rs->rd);
        rs->rd = NULL;
        RS_INC(rs, read_disconnects);
        RS_SET(rs, read_connected, 0);
        /* a reply lost with it: those entries are pending for us */
        if (rs->rd_want)
                rs_own_reread(rs);
        rs->rd_want = 0;
        rs_retry_later(rs, RS_READ, now_ms);
}

/* Send the next read: our pending entries after own_from (no BLOCK: Redis
 * answers at once) or, once none is left, new entries (BLOCK). */
static int send_read(struct smx_rstore *rs, uint64_t now_ms)
{
        uint32_t space = event_ring_space_w(rs->ring);
        if (space <= RS_EV_RESERVE)
                return 0;       /* the application has not polled: its poll wakes us */
        uint32_t want = space - RS_EV_RESERVE < RS_READ_MAX ? space - RS_EV_RESERVE : RS_READ_MAX;
        char count[16], block[16];
        snprintf(count, sizeof count, "%u", want);
        snprintf(block, sizeof block, "%u", rs_read_block_ms(rs));
        int blocking = !rs->own_from[0];
        const char *argv[] = { "XREADGROUP", "GROUP", "g", rs->instance, "COUNT", count,
                               "BLOCK", block, "STREAMS", rs->streams[0].key,
                               blocking ? ">" : rs->own_from };
        size_t lens[11];
        for (int j = 0; j < 11; j++)
                lens[j] = strlen(argv[j]);
        /* without BLOCK: the argv minus "BLOCK ms" */
        const char *nb[9];
        size_t nbl[9];
        if (!blocking) {
                for (int j = 0, k = 0; j < 11; j++)
                        if (j != 6 && j != 7) {
                                nb[k] = argv[j];
                                nbl[k++] = lens[j];
                        }
        }
        if ((blocking ? redisAppendCommandArgv(rs->rd, 11, argv, lens)
                      : redisAppendCommandArgv(rs->rd, 9, nb, nbl)) != REDIS_OK) {
                rs_read_disconnect(rs, "out of memory", now_ms);
                return 0;
        }
        rs->io_err[0] = 0;
        if (rs_io_flush(rs, RS_READ, rs->rd) != 0) {
                rs_read_disconnect(rs, rs->io_err[0] ? rs->io_err : "write", now_ms);
                return 0;
        }
        rs->rd_want = want;
        rs->rd_deadline_us = mono_us() +
                             ((blocking ? rs_read_block_ms(rs) : 0) + (uint64_t)rs->cfg.timeout_ms) * 1000u;
        rs->rd_sent_ms = rs_mono_ms();
        RS_INC(rs, reads);
        RS_INC(rs, round_trips);
        RS_INC(rs, commands);
        return 0;
}

int rs_read_turn(struct smx_rstore *rs, uint64_t now_ms, int readable)
{
        if (!rs->rd)
                return 0;
        int got = 0;
        if (rs->rd_want) {
                void *rp = NULL;
                if (readable) {
                        rs->io_err[0] = 0;
                        if (rs_io_fill(rs, RS_READ, rs->rd) != 0) {
                                rs_read_disconnect(rs, rs->io_err[0] ? rs->io_err : "read",
                                                   now_ms);
                                return 0;
                        }
                }
                if (redisGetReplyFromReader(rs->rd, &rp) != REDIS_OK) {
                        rs_read_disconnect(rs, rs->rd->errstr[0] ? rs->rd->errstr
                                           : "protocol error", now_ms);
                        return 0;
                }
                if (!rp) {
                        if (mono_us() >= rs->rd_deadline_us)
                                rs_read_disconnect(rs, "no answer", now_ms);
                        return 0;
                }
                redisReply *r = rp;
                if (r->type == REDIS_REPLY_ERROR) {
                        /* NOGROUP (Redis restarted empty, the key deleted):
                         * the reconnect creates the group again */
                        char why[96];
                        snprintf(why, sizeof why, "%.80s", r->str ? r->str : "error");
                        freeReplyObject(r);
                        rs_read_disconnect(rs, why, now_ms);
                        return 0;
                }
                rs->entries_from_ms = rs->rd_sent_ms;   /* their lease (rstore_fence.c) */
                rs->entries_gen = rs->gen[RS_READ];     /* and their data set's generation */
                got = rs_on_read(rs, 0, r);
                freeReplyObject(r);
                rs->rd_want = 0;
        }
        send_read(rs, now_ms);
        return got > 0;
}
