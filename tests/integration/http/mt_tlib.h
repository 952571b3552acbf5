/* A paced MT source for the HTTP MT engine tests: after t_mt_run(limit,
 * every_ms) the engine may pull MT i (a form to 447700900002 whose text is
 * the tag and whose message_id is "<tag>-<i>-<start ms>") no sooner than
 * start + i * every_ms; each outcome is recorded with the time it came.
 * t_mt_engine() starts an engine on one URL that pulls from this source. */
#ifndef MT_TLIB_H
#define MT_TLIB_H

#include <pthread.h>

#include "http/http_mt.h"
#include "http_tlib.h"

#define T_MT_MAX 4000

/* What the source released and what came back; shared by the test thread
 * and the engine's thread, under mu. */
static struct {
        pthread_mutex_t mu;
        const char *tag;            /* message text and message_id prefix */
        int n;                      /* MTs released so far */
        int limit;                  /* stop releasing at */
        uint64_t start_ms;
        unsigned every_ms;
        int done[T_MT_MAX];         /* outcomes seen per MT (1: exactly once) */
        int accepted;               /* outcomes that were accepted */
        struct http_mt_outcome out[T_MT_MAX];
        uint64_t done_ms[T_MT_MAX];
} t_mt = { .mu = PTHREAD_MUTEX_INITIALIZER, .tag = "mt" };

static int t_mt_pull(void *arg, struct http_buf *body, char msgid[HTTP_MSGID_MAX + 1], uint64_t *ref)
{
        (void)arg;
        pthread_mutex_lock(&t_mt.mu);
        int i = -1;
        if (t_mt.n < t_mt.limit && t_now_ms() >= t_mt.start_ms + (uint64_t)t_mt.n * t_mt.every_ms)
                i = t_mt.n++;
        pthread_mutex_unlock(&t_mt.mu);
        if (i < 0)
                return 0;
        snprintf(msgid, HTTP_MSGID_MAX + 1, "%s-%d-%llu", t_mt.tag, i,
                 (unsigned long long)t_mt.start_ms);
        http_form_add(body, "phone_number", "447700900002", 12);
        http_form_add(body, "message", t_mt.tag, strlen(t_mt.tag));
        http_form_add(body, "message_id", msgid, strlen(msgid));
        *ref = (uint64_t)i;
        return 1;
}

static void t_mt_done(void *arg, uint64_t ref, const char *msgid, const struct http_mt_outcome *o)
{
        (void)arg;
        (void)msgid;
        pthread_mutex_lock(&t_mt.mu);
        t_mt.done[ref]++;
        t_mt.out[ref] = *o;
        t_mt.done_ms[ref] = t_now_ms();
        t_mt.accepted += o->accepted;
        pthread_mutex_unlock(&t_mt.mu);
}

static const struct http_mt_ops t_mt_ops = { .pull = t_mt_pull, .done = t_mt_done };

/* Release `limit` MTs from now on, one every every_ms (0: all at once). */
static inline void t_mt_run(int limit, unsigned every_ms)
{
        pthread_mutex_lock(&t_mt.mu);
        memset(t_mt.done, 0, sizeof t_mt.done);
        t_mt.n = 0;
        t_mt.accepted = 0;
        t_mt.limit = limit;
        t_mt.every_ms = every_ms;
        t_mt.start_ms = t_now_ms();
        pthread_mutex_unlock(&t_mt.mu);
}

/* How many of the MTs of this run have an outcome: exactly one when `once`,
 * at least one otherwise. */
static inline int t_mt_count(int once)
{
        pthread_mutex_lock(&t_mt.mu);
        int k = 0;
        for (int i = 0; i < t_mt.limit; i++)
                k += once ? t_mt.done[i] == 1 : t_mt.done[i] > 0;
        pthread_mutex_unlock(&t_mt.mu);
        return k;
}

/* Wait up to ms for t_mt_count(once) to reach n. */
static inline void t_mt_wait(int n, unsigned ms, int once)
{
        uint64_t end = t_now_ms() + ms;
        while (t_mt_count(once) < n && t_now_ms() < end)
                t_sleep_ms(10);
}

/* An engine made from c with the t_mt_ops callbacks, started; NULL (reason
 * printed) when http_mt_create refused c. */
static inline struct http_mt *t_mt_started(const struct http_mt_config *c)
{
        struct http_mt *m = NULL;
        char err[160];
        if (http_mt_create(c, &t_mt_ops, NULL, &m, err, sizeof err) < 0)
                printf("# %s\n", err);
        else
                http_mt_start(m);
        return m;
}

/* A started engine sending to url as smsmux/secret (retry backoff 100 ms,
 * timeout 1 s), resolving through dns_server when given, with a DNS grace
 * of grace_ms (0: the default); NULL (reason printed) when refused. */
static inline struct http_mt *t_mt_engine(const char *url, const char *dns_server, uint32_t grace_ms)
{
        struct http_mt_config c;
        http_mt_config_init(&c);
        c.urls[0] = url;
        c.n_urls = 1;
        c.login = "smsmux";
        c.password = "secret";
        c.dns_server = dns_server;
        if (grace_ms)
                c.dns_grace_ms = grace_ms;
        c.retry_backoff_ms = 100;
        c.timeout_ms = 1000;
        return t_mt_started(&c);
}

#endif
