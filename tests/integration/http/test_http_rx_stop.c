/* The receiver stopped while DRs/MOs keep coming and every one of them is
 * deferred to another thread that answers late (as a shared store does with
 * Redis slow): each round starts a receiver, keeps a stream of POSTs going
 * from several kept-alive connections, stops the receiver in the middle of
 * it, and only then stops the senders. Every request must get 200 or 503
 * or see its connection closed (never hang), libmicrohttpd must not abort
 * ("MHD_stop_daemon() called while we have suspended connections": a
 * message deferred while the stop was under way), and no ticket may be left
 * unanswered once the stop returned (answering it would touch the freed
 * receiver). Run under ASan too (use after free, leaks). */
#include <pthread.h>
#include <stdatomic.h>

#include "http/http_receiver.h"
#include "http_tlib.h"
#include "testlib.h"

enum {
        ROUNDS = 25,
        SENDERS = 6,
        ANSWER_EVERY_MS = 40,   /* the "store" answers all it holds this often */
        TICKETS_MAX = 4096,
};

static struct http_receiver *rx;
static _Atomic uint16_t port;

/* Tickets handed over by deliver (receiver thread) to the answerer. */
static struct {
        pthread_mutex_t mu;
        void *t[TICKETS_MAX];
        int n;
        uint64_t deferred, answered;
} tq = { .mu = PTHREAD_MUTEX_INITIALIZER };

static int deliver(void *arg, const struct http_rx_msg *m)
{
        (void)arg;
        (void)m;
        pthread_mutex_lock(&tq.mu);
        if (tq.n >= TICKETS_MAX) {
                pthread_mutex_unlock(&tq.mu);
                return HTTP_RX_BUSY;
        }
        tq.t[tq.n++] = http_rx_defer(rx);
        tq.deferred++;
        pthread_mutex_unlock(&tq.mu);
        return HTTP_RX_DEFER;
}

static atomic_int answerer_stop;

/* Every ANSWER_EVERY_MS, answers all tickets held (alternately 200 and
 * 503): between two such moments the receiver has none pending and new
 * ones come in at once, which is what the stop must cope with. */
static void *answerer_main(void *arg)
{
        (void)arg;
        for (;;) {
                t_sleep_ms(ANSWER_EVERY_MS);
                pthread_mutex_lock(&tq.mu);
                int stop = atomic_load(&answerer_stop);
                for (int i = 0; i < tq.n; i++)
                        http_rx_answer(tq.t[i], tq.answered++ % 2 ? HTTP_RX_BUSY : HTTP_RX_OK);
                tq.n = 0;
                pthread_mutex_unlock(&tq.mu);
                if (stop)
                        return NULL;
        }
}

static atomic_int senders_stop;
static _Atomic uint64_t n_ok, n_busy, n_closed, n_hung, n_other;

/* POSTs one DR after the other on a kept-alive connection, reconnecting
 * when it is closed (or refused: the receiver is gone), until told. */
static void *sender_main(void *arg)
{
        int id = (int)(intptr_t)arg, fd = -1;
        unsigned k = 0;
        char body[160], buf[4096];
        while (!atomic_load(&senders_stop)) {
                if (fd < 0 && (fd = t_connect(NULL, NULL, atomic_load(&port))) < 0) {
                        t_sleep_ms(1);
                        continue;
                }
                snprintf(body, sizeof body, "type=receipt&message_id=s%d-%u&message_state=2&"
                         "result_code=0", id, ++k);
                if (t_send_form(fd, body) < 0) {
                        atomic_fetch_add(&n_closed, 1);
                        close(fd);
                        fd = -1;
                        continue;
                }
                int st = t_read_answer(fd, buf, sizeof buf, 20000);
                if (st == 200 || st == 503) {
                        atomic_fetch_add(st == 200 ? &n_ok : &n_busy, 1);
                        continue;
                }
                atomic_fetch_add(st == 0 ? &n_closed : st < 0 ? &n_hung : &n_other, 1);
                close(fd);
                fd = -1;
        }
        if (fd >= 0)
                close(fd);
        return NULL;
}

static void test_stop_under_a_stream_of_deferred_posts_answers_or_closes_each(void)
{
        atomic_store(&answerer_stop, 0);
        pthread_t answerer;
        pthread_create(&answerer, NULL, answerer_main, NULL);
        uint64_t stops_with_tickets = 0, rounds_with_deferrals = 0;
        for (int round = 0; round < ROUNDS; round++) {
                struct http_rx_config c;
                http_rx_config_init(&c);
                c.listen = "127.0.0.1:0";
                char err[160];
                if (http_rx_start(&c, deliver, NULL, &rx, err, sizeof err) < 0) {
                        printf("# %s\n", err);
                        CHECK(0);
                        break;
                }
                atomic_store(&port, http_rx_port(rx));
                pthread_mutex_lock(&tq.mu);
                uint64_t d0 = tq.deferred;
                pthread_mutex_unlock(&tq.mu);
                atomic_store(&senders_stop, 0);
                pthread_t s[SENDERS];
                for (int i = 0; i < SENDERS; i++)
                        pthread_create(&s[i], NULL, sender_main, (void *)(intptr_t)(round * 100 + i));
                /* the stream is on: a few answer moments have passed */
                t_wait_locked_growth(&tq.mu, &tq.deferred, d0, 3 * SENDERS, 20000);
                t_sleep_ms((unsigned)(round * 7) % ANSWER_EVERY_MS);  /* vary the phase */
                http_rx_stop(rx);
                /* the receiver is gone: nothing may still wait for an answer */
                pthread_mutex_lock(&tq.mu);
                if (tq.n)
                        stops_with_tickets++;
                if (tq.deferred - d0 >= 3 * SENDERS)
                        rounds_with_deferrals++;
                tq.n = 0;       /* never answer them: the receiver is freed */
                pthread_mutex_unlock(&tq.mu);
                rx = NULL;
                t_sleep_ms(20);         /* the senders meet the closed port */
                atomic_store(&senders_stop, 1);
                for (int i = 0; i < SENDERS; i++)
                        pthread_join(s[i], NULL);
        }
        atomic_store(&answerer_stop, 1);
        pthread_join(answerer, NULL);
        printf("# %d rounds: %llu answered 200, %llu 503, %llu closed, %llu hung, %llu other\n",
               ROUNDS, (unsigned long long)n_ok, (unsigned long long)n_busy,
               (unsigned long long)n_closed, (unsigned long long)n_hung,
               (unsigned long long)n_other);
        CHECK_EQ(stops_with_tickets, 0);
        CHECK_EQ(rounds_with_deferrals, ROUNDS);        /* the stream really ran */
        CHECK_EQ(n_hung, 0);
        CHECK_EQ(n_other, 0);
        CHECK(n_ok > 0);
        CHECK_EQ(tq.deferred, tq.answered);
}

int main(void)
{
        RUN(test_stop_under_a_stream_of_deferred_posts_answers_or_closes_each);
        return t_done();
}
