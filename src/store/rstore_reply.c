/* The replies that carry data back (rstore_batch.h): stream entries (from
 * XREADGROUP and XAUTOCLAIM) into event records of the ring, each with the
 * stream and entry id it is acknowledged by once the application released
 * it, and the instance scan that marks silent instances for takeover.
 * Store thread only. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log/log.h"
#include "store/rstore_batch.h"

/* ackv keeps a released record's id until its XACK was answered (to send
 * it again after a lost connection); a record needed again before that
 * (local events while Redis is down) moves its id to the reack list. */
struct smx_ev_rec *rs_ev_reserve(struct smx_rstore *rs)
{
        if (rs->ev_pos - rs->ack_pos >= rs->ring_cap) {
                struct rs_ack *a = &rs->ackv[rs->ack_pos & (rs->ring_cap - 1)];
                if (a->stream != RS_NO_STREAM) {
                        if (rs->n_reack >= rs->ring_cap + RS_BAD_MAX)
                                return NULL;
                        rs->reack[rs->n_reack++] = *a;
                }
                rs->ack_pos++;
        }
        return event_ring_reserve_w(rs->ring);
}

void rs_ev_commit(struct smx_rstore *rs, uint16_t stream, const char *id)
{
        struct rs_ack *a = &rs->ackv[rs->ev_pos & (rs->ring_cap - 1)];
        a->stream = stream;
        a->lease_from = rs->entries_from_ms;
        a->gen = rs->entries_gen;
        /* the next epoch write holds its read (rstore_epoch.c) */
        a->need = rs->ep_next;
        a->rolled = 0;
        if (stream != RS_NO_STREAM)
                rs->ep_want = 1;
        /* its lease (rstore_fence.c), published with the record by the commit */
        atomic_store_explicit(&rs->lease[rs->ev_pos & (rs->ring_cap - 1)],
                              stream == RS_NO_STREAM ? RS_LEASE_ALWAYS
                              : rs_lease_until(rs, a->lease_from),
                              memory_order_relaxed);
        if (id) {
                snprintf(a->id, sizeof a->id, "%s", id);
                rs_held_add(rs, stream, a->id);
        }
        event_ring_commit_w(rs->ring);
        rs->ev_pos++;
        RS_INC(rs, events);
}

/* The instance list: silent ones (heartbeat older than the takeover time)
 * are read and claimed from; ones that came back are left alone. */
void rs_on_scan(struct smx_rstore *rs, const redisReply *r, uint64_t now)
{
        if (r->type != REDIS_REPLY_ARRAY)
                return;
        for (size_t i = 0; i + 1 < r->elements; i += 2) {
                const redisReply *nm = r->element[i], *hb = r->element[i + 1];
                if (nm->type != REDIS_REPLY_STRING || hb->type != REDIS_REPLY_STRING ||
                    nm->len > RS_NAME_MAX || !strcmp(nm->str, rs->instance))
                        continue;
                uint64_t t = strtoull(hb->str, NULL, 10);
                int dead = t + rs->cfg.owner_takeover_ms < now;
                /* Redis was away (or paused) for us too: then every heartbeat
                 * is stale, and the others may not have written one since it
                 * came back, live or not. Judging them silent then took a
                 * live instance over until the next scan: DRs routed to it
                 * meanwhile reached us, not their owner (test_store_claim).
                 * A stale heartbeat changes nothing until owner_takeover_ms
                 * after we got Redis back. */
                int judging = now >= rs->judge_from_ms;
                unsigned s;
                for (s = 1; s < rs->n_streams; s++)
                        if (!strcmp(rs->streams[s].name, nm->str))
                                break;
                if (s == rs->n_streams) {
                        if (!dead || !judging || s == RS_STREAMS_MAX)
                                continue;
                        struct rs_stream *st = &rs->streams[s];
                        snprintf(st->name, sizeof st->name, "%s", nm->str);
                        snprintf(st->key, sizeof st->key, "smsmux:{%s}:s:%s", rs->cluster, nm->str);
                        rs->n_streams++;
                }
                if (dead && !judging)
                        continue;       /* the stream keeps its state */
                if (rs->streams[s].dead != dead)
                        smx_logf(SMX_LOG_WARN, NULL, NULL, dead
                                 ? "store: instance %s silent for %u ms: taking over its DRs/MOs"
                                 : "store: instance %s is back", nm->str,
                                 rs->cfg.owner_takeover_ms);
                rs->streams[s].dead = (uint8_t)dead;
        }
}

/* Entries [[id, [field, value, ...]], ...] into the ring. */
int rs_on_entries(struct smx_rstore *rs, uint16_t s, const redisReply *ents)
{
        int n = 0;
        if (!ents || ents->type != REDIS_REPLY_ARRAY)
                return 0;
        for (size_t i = 0; i < ents->elements; i++) {
                const redisReply *en = ents->element[i];
                if (en->type != REDIS_REPLY_ARRAY || en->elements < 2 ||
                    en->element[0]->type != REDIS_REPLY_STRING)
                        continue;
                const char *id = en->element[0]->str;
                if (rs_held_has(rs, s, id)) {
                        /* read or claimed again while we hold it (rstore_held.c) */
                        if (s == 0)
                                snprintf(rs->own_last, sizeof rs->own_last, "%s", id);
                        n++;
                        continue;
                }
                struct smx_ev_rec *e = rs_ev_reserve(rs);
                if (!e) {
                        /* reads are within the ring's room (rs_read_reserved);
                         * were it ever full, ours are pending for us: read
                         * again after the last one put in */
                        if (s == 0)
                                snprintf(rs->own_from, sizeof rs->own_from, "%s",
                                         rs->own_last[0] ? rs->own_last : "0");
                        break;
                }
                if (rs_entry_to_event(rs, en->element[1], e)) {
                        rs_ev_commit(rs, s, id);
                        if (s > 0)
                                RS_INC(rs, taken_over);
                } else if (rs->n_reack < RS_BAD_MAX) {
                        /* malformed: acknowledged without an event */
                        rs->reack[rs->n_reack].stream = s;
                        snprintf(rs->reack[rs->n_reack].id, sizeof rs->reack[0].id, "%s", id);
                        rs->n_reack++;
                }
                if (s == 0)
                        snprintf(rs->own_last, sizeof rs->own_last, "%s", id);
                n++;
        }
        return n;
}

int rs_on_read(struct smx_rstore *rs, uint16_t s, const redisReply *r)
{
        int n = 0;
        if (r->type == REDIS_REPLY_ARRAY && r->elements >= 1) {
                const redisReply *st = r->element[0];
                if (st->type == REDIS_REPLY_ARRAY && st->elements == 2)
                        n = rs_on_entries(rs, s, st->element[1]);
        }
        if (s == 0 && rs->own_from[0]) {
                /* reading our pending entries: go on after the last one, and
                 * switch to new entries when there are none left */
                if (n == 0) {
                        rs->own_from[0] = 0;
                        rs->own_history_done = 1;
                } else {
                        snprintf(rs->own_from, sizeof rs->own_from, "%s", rs->own_last);
                }
        }
        return n;
}
