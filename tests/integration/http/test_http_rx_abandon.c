/* The receiver's close gives up on deferred answers that do not come within
 * close_wait_ms (here 50 ms) and answers them 503 itself, racing the
 * answerer's late http_rx_answer / http_rx_claim for the same request. Each
 * round: a receiver, senders POSTing DRs on kept-alive connections, every
 * DR deferred to an answerer thread that answers it 0-200 ms later (so some
 * answers come before the deadline, some around it, some long after the
 * receiver is freed), half of them through http_rx_claim first (as the
 * store does before delivering a DR itself), then the receiver is stopped.
 * What must hold, per message:
 *   - the HTTP answer the sender saw is the one the race gave: 200 only
 *     when the answerer's http_rx_answer(OK) returned 1 (it "delivered"
 *     it), 503 when it returned 0 or its claim returned 0 (abandoned: the
 *     service re-sends, so delivering it too would duplicate it) or when it
 *     answered BUSY itself;
 *   - the stop returns although answers are still out (bounded), and every
 *     ticket is answered once, also after the stop: an abandoned ticket
 *     stays valid until its late answer (ASan: no use after free, no leak).
 * Before the bound the close waited for every answer (a store that never
 * answers hung the stop: test_store_http_stop). */
#include <pthread.h>
#include <stdatomic.h>

#include "http/http_receiver.h"
#include "http_tlib.h"
#include "testlib.h"

enum {
        ROUNDS = 12,
        SENDERS = 8,
        MSG_MAX = 65536,
        CLOSE_WAIT_MS = 50,
        DELAY_MAX_MS = 200,
};

static struct http_receiver *rx;
static _Atomic uint16_t port;

/* Per message (m<i>): the status the sender saw (0: none) and the one the
 * answerer's race result says it must be (-1: never deferred). */
static _Atomic int seen[MSG_MAX], expect[MSG_MAX];
static _Atomic unsigned next_msg;

struct pending {
        void *ticket;
        unsigned msg;
        uint64_t due_ms;
};
static struct {
        pthread_mutex_t mu;
        struct pending p[MSG_MAX];
        unsigned n;
        uint64_t deferred, answered, abandoned, given;
        unsigned seed;
} tq = { .mu = PTHREAD_MUTEX_INITIALIZER, .seed = 12345 };

static int deliver(void *arg, const struct http_rx_msg *m)
{
        (void)arg;
        unsigned i;
        if (sscanf(m->message_id, "m%u", &i) != 1 || i >= MSG_MAX)
                return HTTP_RX_BUSY;
        pthread_mutex_lock(&tq.mu);
        tq.seed = tq.seed * 1103515245u + 12345u;
        tq.p[tq.n++] = (struct pending){ http_rx_defer(rx), i,
                                         t_now_ms() + (tq.seed >> 16) % DELAY_MAX_MS };
        tq.deferred++;
        pthread_mutex_unlock(&tq.mu);
        return HTTP_RX_DEFER;
}

/* Answer one ticket and note what its HTTP answer must be. */
static void answer_one(const struct pending *p)
{
        int status;
        if (p->msg % 2 == 0) {
                /* the store's local delivery: claim, then answer OK */
                if (http_rx_claim(p->ticket)) {
                        int r = http_rx_answer(p->ticket, HTTP_RX_OK);
                        status = r ? 200 : -2;  /* a claimed ticket cannot be abandoned */
                        tq.given++;
                } else {
                        status = 503;
                        tq.abandoned++;
                }
        } else {
                int res = p->msg % 4 == 1 ? HTTP_RX_OK : HTTP_RX_BUSY;
                if (http_rx_answer(p->ticket, res)) {
                        status = res == HTTP_RX_OK ? 200 : 503;
                        tq.given++;
                } else {
                        status = 503;
                        tq.abandoned++;
                }
        }
        atomic_store(&expect[p->msg], status);
        tq.answered++;
}

static atomic_int answerer_stop;

/* Answers each ticket when it is due; at the end, all that are left. */
static void *answerer_main(void *arg)
{
        (void)arg;
        for (;;) {
                int stop = atomic_load(&answerer_stop);
                pthread_mutex_lock(&tq.mu);
                uint64_t now = t_now_ms();
                for (unsigned i = 0; i < tq.n;) {
                        if (stop || tq.p[i].due_ms <= now) {
                                answer_one(&tq.p[i]);
                                tq.p[i] = tq.p[--tq.n];
                        } else {
                                i++;
                        }
                }
                pthread_mutex_unlock(&tq.mu);
                if (stop)
                        return NULL;
                t_sleep_ms(1);
        }
}

static atomic_int senders_stop;

static void *sender_main(void *arg)
{
        (void)arg;
        int fd = -1;
        char body[160], buf[4096];
        while (!atomic_load(&senders_stop)) {
                if (fd < 0 && (fd = t_connect(NULL, NULL, atomic_load(&port))) < 0) {
                        t_sleep_ms(1);
                        continue;
                }
                unsigned i = atomic_fetch_add(&next_msg, 1);
                if (i >= MSG_MAX)
                        break;
                snprintf(body, sizeof body, "type=receipt&message_id=m%u&message_state=2&"
                         "result_code=0", i);
                if (t_send_form(fd, body) < 0) {
                        close(fd);
                        fd = -1;
                        continue;
                }
                int st = t_read_answer(fd, buf, sizeof buf, 20000);
                if (st == 200 || st == 503) {
                        atomic_store(&seen[i], st);
                        if (st == 503)
                                t_sleep_ms(2);  /* the closing receiver: no spin */
                        continue;
                }
                atomic_store(&seen[i], st < 0 ? -1 : 0);        /* -1: hung */
                close(fd);
                fd = -1;
        }
        if (fd >= 0)
                close(fd);
        return NULL;
}

static void test_close_abandons_late_answers_each_message_answered_as_the_race_says(void)
{
        for (unsigned i = 0; i < MSG_MAX; i++)
                atomic_store(&expect[i], -1);
        pthread_t answerer;
        pthread_create(&answerer, NULL, answerer_main, NULL);
        unsigned slow_stops = 0;
        for (int round = 0; round < ROUNDS; round++) {
                struct http_rx_config c;
                http_rx_config_init(&c);
                c.listen = "127.0.0.1:0";
                c.close_wait_ms = CLOSE_WAIT_MS;
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
                        pthread_create(&s[i], NULL, sender_main, NULL);
                t_wait_locked_growth(&tq.mu, &tq.deferred, d0, 4 * SENDERS, 20000);
                t_sleep_ms((unsigned)(round * 13) % DELAY_MAX_MS);
                uint64_t t0 = t_now_ms();
                http_rx_stop(rx);
                /* bounded: 50 ms of waiting, the answers given out (<= 1 s) */
                slow_stops += t_now_ms() - t0 > 10000;
                rx = NULL;
                t_sleep_ms(20);
                atomic_store(&senders_stop, 1);
                for (int i = 0; i < SENDERS; i++)
                        pthread_join(s[i], NULL);
        }
        atomic_store(&answerer_stop, 1);
        pthread_join(answerer, NULL);
        unsigned wrong = 0, hung = 0, ok200 = 0, busy503 = 0, claimed_lost = 0, undeferred = 0;
        unsigned n = atomic_load(&next_msg) < MSG_MAX ? atomic_load(&next_msg) : MSG_MAX;
        for (unsigned i = 0; i < n; i++) {
                int sn = atomic_load(&seen[i]), ex = atomic_load(&expect[i]);
                hung += sn == -1;
                claimed_lost += ex == -2;
                if (ex == -1) {
                        /* never deferred (the close answered it 503 at once) */
                        undeferred++;
                        wrong += sn == 200;
                        continue;
                }
                if (sn == 0 || sn == -1)
                        continue;       /* its connection closed before the answer came */
                ok200 += sn == 200;
                busy503 += sn == 503;
                if (sn != ex) {
                        if (wrong < 5)
                                printf("# m%u: saw %d, the race says %d\n", i, sn, ex);
                        wrong++;
                }
        }
        printf("# %u messages: %llu deferred, %llu answered (%llu given, %llu abandoned), "
               "%u seen 200, %u seen 503, %u never deferred\n", n,
               (unsigned long long)tq.deferred, (unsigned long long)tq.answered,
               (unsigned long long)tq.given, (unsigned long long)tq.abandoned, ok200, busy503,
               undeferred);
        CHECK_EQ(wrong, 0);
        CHECK_EQ(hung, 0);
        CHECK_EQ(claimed_lost, 0);
        CHECK_EQ(slow_stops, 0);
        CHECK_EQ(tq.answered, tq.deferred);     /* every ticket answered once */
        CHECK(tq.abandoned > 0);                /* the race was run: both sides won */
        CHECK(tq.given > 0);
        CHECK(ok200 > 0);
}

int main(void)
{
        RUN(test_close_abandons_late_answers_each_message_answered_as_the_race_says);
        return t_done();
}
