/* The HTTP transport as the client core sees it (src/core/client.c): one
 * object per client that owns the MT engine (http_mt.h) and the receiver
 * (http_receiver.h) and connects them to the client's ingress ring, the
 * inbound path (correlation, dedup: src/inbound) and two event rings of its
 * own, which smx_events_poll reads like the workers' rings:
 *   ring 0: MT outcomes and DRs parked for them (producer: the MT thread);
 *   ring 1: DRs and MOs from the receiver (producer: the receiver thread).
 * Events from HTTP carry bind index SMX_BIND_HTTP (shown as smsc "http"). */
#ifndef SMX_HTTP_H
#define SMX_HTTP_H

#include "events/event_ring.h"
#include "smsmux.h"

#define SMX_BIND_HTTP 0xFFFEu
#define SMX_HTTP_RINGS 2

struct smx_client;
struct smx_http;

/* Check cfg and build the transport (nothing runs yet). */
int smx_http_create(struct smx_client *c, const struct smx_http_config *cfg, struct smx_http **out,
                    char *err, size_t err_len);
/* Start the receiver and the MT thread. */
int smx_http_start(struct smx_http *h);
/* The client drained: the receiver acknowledges nothing new (503, the
 * service re-sends), and returns once everything it did acknowledge is in
 * ring 1 (or, with a shared store, in Redis). Control thread. */
void smx_http_close_receiver(struct smx_http *h);
/* Stop both threads (MTs still held fail with reason shutdown) and free. */
void smx_http_destroy(struct smx_http *h);
/* New MTs are waiting (called by smx_submit; cheap unless the thread sleeps). */
void smx_http_wake(struct smx_http *h);
/* Its event rings (SMX_HTTP_RINGS of them). */
struct smx_event_ring *smx_http_ring(struct smx_http *h, unsigned i);
/* 1 when only HTTP may carry MTs (transport http): workers must not take
 * them. h may be NULL (0). */
int smx_http_exclusive(const struct smx_http *h);
/* 1 when HTTP may carry MTs (transport http or both): no ACTIVE SMPP bind is
 * then no reason to fail MTs with no_route. h may be NULL (0). */
int smx_http_carries_mts(const struct smx_http *h);
void smx_http_stats_fill(struct smx_http *h, struct smx_http_stats *st);

/* With a shared store (src/store/rstore.h) the HTTP threads are two of its
 * extra producers, queues n_workers + these: the MT thread writes the
 * accepted MTs' correlations through one, the receiver hands its DRs/MOs
 * through the other (core/shared_store.c). */
#define SMX_HTTP_STORE_Q_MT 0u
#define SMX_HTTP_STORE_Q_RX 1u
#define SMX_HTTP_STORE_QUEUES 2u
/* The store thread ran (or gave up on) a DR/MO the receiver handed it:
 * answer its HTTP request by the deliver_sm status it would get (ESME_ROK:
 * 200, anything else: 503, the service re-sends). Store thread. */
void smx_http_store_answer(struct smx_http *h, void *ticket, uint32_t status);
/* The store thread, before it delivers a receiver's DR/MO itself (Redis
 * away past local_after_ms): 1 when it may (the answer follows at once), 0
 * when the receiver's close answered it 503 already (the service re-sends
 * it: delivering it too would duplicate it; the ticket is gone). h may be
 * NULL (the transport destroyed). */
int smx_http_store_claim(struct smx_http *h, void *ticket);

#endif
