/* Private to the engine's own files (sim_engine.c: the loop and the public
 * API; sim_timer.c: clock, random draws, timer heap; sim_sess.c: sessions,
 * output buffers, input framing; sim_listen.c: listeners, accept, kill and
 * restore). The rest of the simulator uses sim_internal.h only. Everything
 * here runs on the engine thread or under the engine lock. */
#ifndef SIM_ENGINE_H
#define SIM_ENGINE_H

#include "sim_internal.h"

/* epoll tags: the type in the high 32 bits, an index in the low ones */
enum { EP_LISTEN = 1, EP_SESS, EP_WAKE, EP_CTL };

#define EP_TAG(type, idx) (((uint64_t)(type) << 32) | (uint32_t)(idx))

/* sim_timer.c */
void sim_timer_pop(struct smsc_sim *s, struct sim_timer *out);

/* sim_sess.c */
void sim_sess_mark_dirty(struct smsc_sim *s, struct sim_sess *ss);
void sim_sess_on_readable(struct smsc_sim *s, struct sim_sess *ss);
void sim_on_drip(struct smsc_sim *s);

/* sim_listen.c */
int sim_listen_on(struct smsc_sim *s, struct sim_smsc *m, char *err, size_t err_len);
void sim_on_accept(struct smsc_sim *s, struct sim_smsc *m);

#endif
