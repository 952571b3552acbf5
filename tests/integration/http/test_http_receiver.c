/* H4 receiver: hundreds of concurrent POSTs from several source addresses,
 * repeats, ring full, and hostile HTTP (oversized bodies, bad encodings,
 * header floods, garbage, slowloris), each ending in a clear 4xx or a closed
 * connection with the receiver still answering; answers deferred to
 * another thread (http_rx_defer/http_rx_answer, as a shared store gives
 * them). The deliver callback here stands in for the event ring: a set of
 * message_ids with a capacity. */
#include <pthread.h>
#include <stdatomic.h>

#include "http/http_receiver.h"
#include "http_tlib.h"
#include "testlib.h"

#define CAP_MAX 100000

/* The "ring": called on the receiver thread only. */
static struct {
        char ids[CAP_MAX][HTTP_RX_ID_MAX + 1];
        size_t n;
        size_t cap;                /* delivered beyond this -> BUSY */
        uint64_t calls;
        char last_text[HTTP_RX_TEXT_MAX + 1];
        unsigned sources;          /* bit per 127.0.0.2x source seen */
} ring;

static struct http_receiver *rx;

/* Deferred answers (http_rx_defer): tickets of "defer-N" messages, answered
 * by the test's own thread. */
static struct {
        pthread_mutex_t mu;
        void *tickets[64];
        int ids[64];
        int n;
} dq = { .mu = PTHREAD_MUTEX_INITIALIZER };

/* A "hold-N" message keeps the receiver thread in deliver while `hold`
 * is set (at most 20 s); `held` says it is there. */
static atomic_int hold, held;

static int deliver(void *arg, const struct http_rx_msg *m)
{
        (void)arg;
        if (!strncmp(m->message_id, "hold-", 5)) {
                atomic_store(&held, 1);
                for (int i = 0; i < 20000 && atomic_load(&hold); i++)
                        t_sleep_ms(1);
                atomic_store(&held, 0);
        }
        if (!strncmp(m->message_id, "defer-", 6)) {
                pthread_mutex_lock(&dq.mu);
                if (dq.n < 64) {
                        dq.ids[dq.n] = atoi(m->message_id + 6);
                        dq.tickets[dq.n++] = http_rx_defer(rx);
                }
                pthread_mutex_unlock(&dq.mu);
                return HTTP_RX_DEFER;
        }
        ring.calls++;
        for (size_t i = 0; i < ring.n; i++)
                if (strcmp(ring.ids[i], m->message_id) == 0)
                        return HTTP_RX_DUPLICATE;
        if (ring.n >= ring.cap)
                return HTTP_RX_BUSY;
        memcpy(ring.ids[ring.n++], m->message_id, sizeof ring.ids[0]);
        memcpy(ring.last_text, m->text, m->text_len + 1);
        uint32_t a = m->from.sa.sa_family == AF_INET ? ntohl(m->from.sin.sin_addr.s_addr) : 0;
        if ((a >> 8) == 0x7F0000 && (a & 0xFF) >= 20 && (a & 0xFF) < 30)
                ring.sources |= 1u << ((a & 0xFF) - 20);
        return HTTP_RX_OK;
}

static uint16_t port;
static char url[64];
static unsigned request_s;         /* max_request_s for the next start() (0: default) */

/* The start of every raw form POST below, up to its length header. */
/* A chunked form POST of `chunks` chunks of 2048 bytes into req; its
 * length. */
static size_t chunked_request(char *req, size_t cap, int chunks)
{
        int n = snprintf(req, cap, FORM_HEAD "Transfer-Encoding: chunked\r\n\r\n");
        for (int i = 0; i < chunks; i++) {
                n += snprintf(req + n, cap - (size_t)n, "800\r\n");
                memset(req + n, 'a', 2048);
                n += 2048;
                n += snprintf(req + n, cap - (size_t)n, "\r\n");
        }
        n += snprintf(req + n, cap - (size_t)n, "0\r\n\r\n");
        return (size_t)n;
}

static void start(const char *secret, const char *allow, unsigned idle_s)
{
        if (rx)
                http_rx_stop(rx);
        memset(&ring, 0, sizeof ring);
        ring.cap = CAP_MAX;
        struct http_rx_config c;
        http_rx_config_init(&c);
        c.listen = "127.0.0.1:0";
        c.secret = secret;
        c.allow = allow;
        c.max_body = 4096;
        if (idle_s)
                c.idle_timeout_s = idle_s;
        if (request_s)
                c.max_request_s = request_s;
        char err[160];
        int rc = http_rx_start(&c, deliver, NULL, &rx, err, sizeof err);
        if (rc < 0)
                printf("# %s\n", err);
        port = rx ? http_rx_port(rx) : 0;
        snprintf(url, sizeof url, "http://127.0.0.1:%u/httpapi/receiver", port);
}

static int alive(void)
{
        char body[128];
        static unsigned k;
        snprintf(body, sizeof body, "type=MO&message_id=alive-%u&shortcode=1&phone_number=2&message=x", ++k);
        return t_post(url, NULL, body, NULL) == 200;
}

/* POST body: 1 when it got 400 and never reached deliver. */
static int refused_400(const char *body)
{
        uint64_t calls = ring.calls;
        return t_post(url, NULL, body, NULL) == 400 && ring.calls == calls;
}

static void test_receiver_delivers_400_parallel_posts_once_each(void)
{
        start(NULL, NULL, 0);
        enum { N = 400 };
        static char *bodies[N];
        static long st[N];
        const char *srcs[] = { "127.0.0.20", "127.0.0.21", "127.0.0.22", "127.0.0.23" };
        for (int i = 0; i < N; i++) {
                bodies[i] = malloc(160);
                snprintf(bodies[i], 160, "type=receipt&message_id=dr-%d&message_state=2&result_code=0", i);
        }
        t_burst(url, bodies, N, srcs, 4, st);
        int ok = 0;
        for (int i = 0; i < N; i++) {
                ok += st[i] == 200;
                free(bodies[i]);
        }
        CHECK_EQ(ok, N);
        CHECK_EQ(ring.n, N);
        CHECK_EQ(ring.sources, 0xF);
        CHECK_EQ(atomic_load(&http_rx_stats(rx)->delivered), N);
}

static void test_receiver_answers_repeats_2xx_without_delivering_again(void)
{
        start(NULL, NULL, 0);
        enum { N = 300 };
        static char *bodies[N];
        static long st[N];
        const char *srcs[] = { "127.0.0.24", "127.0.0.25" };
        for (int i = 0; i < N; i++) {
                bodies[i] = malloc(160);
                /* every id three times, the copies in flight together */
                snprintf(bodies[i], 160, "type=MO&message_id=mo-%d&shortcode=12345&phone_number=4477&message=m%d",
                         i % 100, i % 100);
        }
        t_burst(url, bodies, N, srcs, 2, st);
        int ok = 0;
        for (int i = 0; i < N; i++) {
                ok += st[i] == 200;
                free(bodies[i]);
        }
        CHECK_EQ(ok, N);
        CHECK_EQ(ring.n, 100);
        CHECK_EQ(atomic_load(&http_rx_stats(rx)->duplicates), 200);
}

static void test_receiver_answers_503_when_ring_is_full_then_2xx_on_retry(void)
{
        start(NULL, NULL, 0);
        ring.cap = 2;
        CHECK_EQ(t_post(url, NULL, "type=receipt&message_id=a&message_state=2", NULL), 200);
        CHECK_EQ(t_post(url, NULL, "type=receipt&message_id=b&message_state=2", NULL), 200);
        CHECK_EQ(t_post(url, NULL, "type=receipt&message_id=c&message_state=2", NULL), 503);
        CHECK_EQ(ring.n, 2);
        const char req[] = FORM_HEAD "Content-Length: 41\r\n\r\ntype=receipt&message_id=c&message_state=2";
        int fd = t_connect(NULL, NULL, port);
        CHECK(fd >= 0);
        CHECK_EQ(send(fd, req, sizeof req - 1, 0), (ssize_t)(sizeof req - 1));
        char buf[1024];
        t_read_all(fd, buf, sizeof buf, 2000);
        close(fd);
        CHECK_EQ(t_status(buf), 503);
        CHECK(strstr(buf, "Retry-After: 1") != NULL);
        ring.cap = 10;   /* the application polled: room again */
        CHECK_EQ(t_post(url, NULL, "type=receipt&message_id=c&message_state=2", NULL), 200);
        CHECK_EQ(ring.n, 3);
}

static void test_receiver_refuses_declared_oversized_body_with_413(void)
{
        start(NULL, NULL, 0);
        const char req[] = FORM_HEAD "Content-Length: 100000000\r\n\r\ntype=MO";
        CHECK_EQ(t_raw(port, NULL, req, sizeof req - 1, 3000), 413);
        CHECK(alive());
}

static void test_receiver_refuses_chunked_body_over_the_limit_with_413(void)
{
        start(NULL, NULL, 0);
        static char req[16384];
        size_t n = chunked_request(req, sizeof req, 3);
        CHECK_EQ(t_raw(port, NULL, req, n, 3000), 413);
        CHECK_EQ(ring.calls, 0);
        CHECK(alive());
}

static void test_receiver_refuses_bad_percent_encoding_with_400(void)
{
        start(NULL, NULL, 0);
        CHECK(refused_400("type=MO&message_id=x&shortcode=1&phone_number=2&message=%G1"));
        CHECK(alive());
}

static void test_receiver_refuses_invalid_utf8_with_400(void)
{
        start(NULL, NULL, 0);
        CHECK(refused_400("type=MO&message_id=x&shortcode=1&phone_number=2&message=%FF%FE"));
        CHECK(refused_400("type=MO&message_id=%ED%A0%80&shortcode=1&phone_number=2"));
        CHECK(alive());
}

static void test_receiver_refuses_wrong_path_method_and_content_type(void)
{
        start(NULL, NULL, 0);
        char other[80];
        snprintf(other, sizeof other, "http://127.0.0.1:%u/other", port);
        CHECK_EQ(t_post(other, NULL, "type=MO", NULL), 404);
        const char get[] = "GET /httpapi/receiver?type=MO HTTP/1.1\r\nHost: x\r\n\r\n";
        CHECK_EQ(t_raw(port, NULL, get, sizeof get - 1, 2000), 405);
        CHECK_EQ(t_post(url, NULL, "{\"type\":\"MO\"}", "Content-Type: application/json"), 415);
        CHECK(alive());
}

static void test_receiver_refuses_too_many_header_lines(void)
{
        start(NULL, NULL, 0);
        static char req[8192];
        int n = snprintf(req, sizeof req, FORM_HEAD "Content-Length: 0\r\n");
        for (int i = 0; i < 100; i++)
                n += snprintf(req + n, sizeof req - (size_t)n, "X-Flood-%d: y\r\n", i);
        n += snprintf(req + n, sizeof req - (size_t)n, "\r\n");
        CHECK_EQ(t_raw(port, NULL, req, (size_t)n, 3000), 431);
        CHECK(alive());
}

static void test_receiver_closes_or_400s_garbage_and_huge_headers(void)
{
        start(NULL, NULL, 0);
        const char junk[] = "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03garbage\r\n\r\n";
        int st = t_raw(port, NULL, junk, sizeof junk - 1, 3000);
        CHECK(st == 0 || st == 400);
        static char big[70000];
        int n = snprintf(big, sizeof big, "POST /httpapi/receiver HTTP/1.1\r\nHost: x\r\nX-Big: ");
        memset(big + n, 'a', 65000);
        n += 65000;
        n += snprintf(big + n, sizeof big - (size_t)n, "\r\n\r\n");
        st = t_raw(port, NULL, big, (size_t)n, 3000);
        CHECK(st == 0 || st == 431 || st == 400 || st == 413);
        CHECK(alive());
}

static void test_receiver_stays_live_under_slowloris(void)
{
        start(NULL, NULL, 2);
        enum { SLOW = 60 };
        int fds[SLOW];
        const char head[] = "POST /httpapi/receiver HTTP/1.1\r\nHost: x\r\nX-a: ";
        for (int i = 0; i < SLOW; i++) {
                char src[16];
                snprintf(src, sizeof src, "127.0.0.%d", 40 + i % 4);
                fds[i] = t_connect(src, NULL, port);
                if (fds[i] >= 0)
                        send(fds[i], head, sizeof head - 1, MSG_NOSIGNAL);
        }
        /* trickle one byte per connection every 500 ms while a normal
         * client is served */
        uint64_t t0 = t_now_ms();
        int served = 0;
        for (int round = 0; round < 4; round++) {
                for (int i = 0; i < SLOW; i++)
                        if (fds[i] >= 0)
                                send(fds[i], "b", 1, MSG_NOSIGNAL);
                uint64_t a = t_now_ms();
                served += alive();
                CHECK(t_now_ms() - a < 1000);
                t_sleep_ms(500);
        }
        CHECK_EQ(served, 4);
        /* once they stop trickling, the idle timeout closes them */
        t_sleep_ms(3500);
        int closed = 0;
        for (int i = 0; i < SLOW; i++) {
                if (fds[i] < 0)
                        continue;
                char b[256];
                closed += t_read_all(fds[i], b, sizeof b, 200) >= 0;
                close(fds[i]);
        }
        CHECK_EQ(closed, SLOW);
        CHECK(t_now_ms() - t0 < 15000);
        CHECK(alive());
}

static void test_receiver_requires_the_shared_secret(void)
{
        start("s3cret", NULL, 0);
        const char *b = "type=receipt&message_id=q1&message_state=2";
        CHECK_EQ(t_post(url, NULL, b, NULL), 403);
        CHECK_EQ(t_post(url, NULL, b, "X-Smsmux-Secret: wrong"), 403);
        CHECK_EQ(ring.n, 0);
        CHECK_EQ(t_post(url, NULL, b, "X-Smsmux-Secret: s3cret"), 200);
        CHECK_EQ(t_post(url, NULL, "type=receipt&message_id=q2&message_state=2&secret=s3cret", NULL), 200);
        CHECK_EQ(ring.n, 2);
}

static void test_receiver_closes_connections_from_outside_the_allow_list(void)
{
        start(NULL, "127.0.0.30/31", 0);
        const char *b = "type=receipt&message_id=z&message_state=2";
        CHECK_EQ(t_post(url, "127.0.0.32", b, NULL), -1);
        CHECK_EQ(ring.n, 0);
        CHECK_EQ(t_post(url, "127.0.0.31", b, NULL), 200);
        CHECK_EQ(ring.n, 1);
        CHECK(atomic_load(&http_rx_stats(rx)->forbidden) >= 1);
}

static void test_receiver_closes_an_endless_chunked_body_without_reading_it(void)
{
        start(NULL, NULL, 0);
        enum { CHUNKS = 512 };                      /* 1 MiB against max_body 4096 */
        static char req[CHUNKS * 2056 + 256];
        size_t n = chunked_request(req, sizeof req, CHUNKS);
        CHECK_EQ(t_raw(port, NULL, req, n, 5000), 0);   /* closed, no answer */
        CHECK_EQ(atomic_load(&http_rx_stats(rx)->too_large), 1);
        CHECK_EQ(ring.calls, 0);
        CHECK(alive());
}

static void test_receiver_closes_a_body_trickled_past_the_deadline(void)
{
        request_s = 1;
        start(NULL, NULL, 3);
        request_s = 0;
        int fd = t_connect(NULL, NULL, port);
        CHECK(fd >= 0);
        const char head[] = FORM_HEAD "Content-Length: 200\r\n\r\nt";
        send(fd, head, sizeof head - 1, MSG_NOSIGNAL);
        uint64_t t0 = t_now_ms();
        int closed = 0;
        /* one byte every 200 ms: never idle, and 200 bytes would take 40 s */
        while (!closed && t_now_ms() - t0 < 5000) {
                t_sleep_ms(200);
                struct pollfd p = { fd, POLLIN, 0 };
                char b[256];
                if (poll(&p, 1, 0) > 0 && read(fd, b, sizeof b) <= 0)
                        closed = 1;
                else if (send(fd, "y", 1, MSG_NOSIGNAL) < 0)
                        closed = 1;
        }
        uint64_t took = t_now_ms() - t0;
        close(fd);
        CHECK(closed);
        CHECK(took < 3000);
        CHECK_EQ(atomic_load(&http_rx_stats(rx)->too_slow), 1);
        CHECK_EQ(ring.calls, 0);
        CHECK(alive());
}

static void test_receiver_refuses_duplicated_fields_and_nul_bytes_with_400(void)
{
        start(NULL, NULL, 0);
        CHECK(refused_400("type=receipt&message_id=a&message_id=b&message_state=2"));
        CHECK(refused_400("type=receipt%00x&message_id=a&message_state=2"));
        CHECK_EQ(t_post(url, NULL, "type=receipt&message_id=a&message_state=2", NULL), 200);
        CHECK_EQ(ring.calls, 1);
}

static void test_receiver_decodes_escaped_field_names_over_the_wire(void)
{
        start(NULL, NULL, 0);
        CHECK_EQ(t_post(url, NULL, "type=MO&message%5Fid=esc-9&short%63ode=1&phone_number=2&"
                        "message=hi", NULL), 200);
        CHECK_EQ(ring.n, 1);
        CHECK_STR(ring.ids[0], "esc-9");
        CHECK_STR(ring.last_text, "hi");
        CHECK(refused_400("type=receipt&message_id=a&message%5Fid=b&message_state=2"));
        CHECK(refused_400("type=receipt&message_id=a&message_state=2&ab%00c=1"));
        CHECK_EQ(ring.calls, 1);
}

static void test_receiver_answers_huge_and_bad_content_length(void)
{
        start(NULL, NULL, 0);
        const char huge[] = FORM_HEAD "Content-Length: 99999999999999999999999\r\n\r\ntype=MO";
        int st = t_raw(port, NULL, huge, sizeof huge - 1, 3000);
        CHECK(st == 413 || st == 400);
        const char bad[] = FORM_HEAD "Content-Length: 12abc\r\n\r\ntype=MO";
        CHECK_EQ(t_raw(port, NULL, bad, sizeof bad - 1, 3000), 400);
        CHECK_EQ(ring.calls, 0);
        CHECK(alive());
}

/* Writes a form POST of message_id `id` on fd (keep-alive); 0 when sent. */
static int send_post(int fd, const char *id)
{
        char body[128];
        snprintf(body, sizeof body, "type=MO&message_id=%s&shortcode=1&phone_number=2&message=x", id);
        return t_send_form(fd, body);
}

/* The status of the next answer on fd (0: closed, -1: none in timeout_ms). */
static int read_answer(int fd, unsigned timeout_ms)
{
        char buf[1024];
        return t_read_answer(fd, buf, sizeof buf, timeout_ms);
}

/* 1 when the next answer on fd within timeout_ms is a 200 (any id). */
static int answered_200(int fd, const char *id, unsigned timeout_ms)
{
        (void)id;
        return read_answer(fd, timeout_ms) == 200;
}

/* Requests that become readable together, on kept-alive connections, while
 * the receiver thread is busy: its next epoll wait reports them all at
 * once. With libmicrohttpd's internal epoll thread, exactly 128 ready
 * events made it wait again until the idle timeout with all 128 unread, and
 * close them unanswered. Each count around 128 is tried (the connection
 * held in deliver may add an event); every request must be answered (the
 * idle timeout is long enough for the warm connections to stay open while
 * the rounds run). */
static void test_receiver_answers_every_request_of_a_burst_ready_at_once(void)
{
        enum { K_MAX = 131, IDLE_S = 20 };
        start(NULL, NULL, IDLE_S);
        static int fds[K_MAX];
        int opened = t_warm_connections(fds, K_MAX, NULL, port, send_post, answered_200);
        CHECK_EQ(opened, K_MAX);
        int rounds_ok = 0;
        for (int k = 125; k <= K_MAX && opened == K_MAX; k++) {
                char id[32];
                snprintf(id, sizeof id, "hold-%d", k);
                int hfd = t_connect(NULL, NULL, port);
                atomic_store(&hold, 1);
                CHECK(hfd >= 0 && send_post(hfd, id) == 0);
                for (int i = 0; i < 10000 && !atomic_load(&held); i++)
                        t_sleep_ms(1);
                CHECK(atomic_load(&held));
                int sent = t_send_burst(fds, k, k, send_post);
                atomic_store(&hold, 0);
                /* read past the idle timeout: a request left unread is
                 * closed at it, unanswered (status 0) */
                int answered = t_burst_answered(fds, k, k, (IDLE_S + 10) * 1000, answered_200);
                CHECK_EQ(read_answer(hfd, 10000), 200);
                close(hfd);
                CHECK_EQ(sent, k);
                CHECK_EQ(answered, k);
                rounds_ok += answered == k;
                if (answered != k)
                        break;
        }
        CHECK_EQ(rounds_ok, K_MAX - 125 + 1);
        for (int k = 0; k < K_MAX; k++)
                if (fds[k] >= 0)
                        close(fds[k]);
}

/* Answers the one pending ticket 300 ms from now. */
static void *late_answer_main(void *arg)
{
        (void)arg;
        t_sleep_ms(300);
        pthread_mutex_lock(&dq.mu);
        for (int i = 0; i < dq.n; i++)
                http_rx_answer(dq.tickets[i], HTTP_RX_OK);
        dq.n = 0;
        pthread_mutex_unlock(&dq.mu);
        return NULL;
}

/* A POST of "defer-N" on its own thread: the status it got. */
struct defer_post {
        pthread_t th;
        int k;
        long status;
};

static void *defer_post_main(void *arg)
{
        struct defer_post *p = arg;
        char body[128];
        snprintf(body, sizeof body, "type=MO&message_id=defer-%d&shortcode=1&phone_number=2&"
                 "message=x", p->k);
        p->status = t_post(url, NULL, body, NULL);
        return NULL;
}

/* Answers given later, from another thread (a shared store's): the
 * connection waits suspended while the receiver serves other requests,
 * then gets 200 or 503 by the answer; the stop waits for a pending one. */
static void test_receiver_deferred_answers_come_later_from_another_thread(void)
{
        start(NULL, NULL, 0);
        enum { N = 8 };
        static struct defer_post p[N];
        for (int i = 0; i < N; i++) {
                p[i].k = i;
                pthread_create(&p[i].th, NULL, defer_post_main, &p[i]);
        }
        uint64_t end = t_now_ms() + 10000;
        for (;;) {
                pthread_mutex_lock(&dq.mu);
                int n = dq.n;
                pthread_mutex_unlock(&dq.mu);
                if (n == N || t_now_ms() > end)
                        break;
                t_sleep_ms(5);
        }
        CHECK_EQ(dq.n, N);
        /* every one of them waits; the receiver still serves others */
        CHECK(alive());
        for (int i = 0; i < N; i++)
                CHECK_EQ(p[i].status, 0);       /* not answered yet (threads still wait) */
        pthread_mutex_lock(&dq.mu);
        for (int i = 0; i < dq.n; i++)
                http_rx_answer(dq.tickets[i], dq.ids[i] % 2 ? HTTP_RX_BUSY : HTTP_RX_OK);
        dq.n = 0;
        pthread_mutex_unlock(&dq.mu);
        for (int i = 0; i < N; i++) {
                pthread_join(p[i].th, NULL);
                CHECK_EQ(p[i].status, i % 2 ? 503 : 200);
        }
        const struct http_rx_stats *st = http_rx_stats(rx);
        CHECK_EQ(atomic_load(&st->deferred), N);
        CHECK_EQ(atomic_load(&st->busy), N / 2);
        CHECK_EQ(atomic_load(&st->delivered), N / 2 + 1);      /* + alive() */
        /* one still pending at stop: the stop waits for its answer */
        struct defer_post last = { .k = 100 };
        pthread_create(&last.th, NULL, defer_post_main, &last);
        end = t_now_ms() + 10000;
        while (t_now_ms() < end) {
                pthread_mutex_lock(&dq.mu);
                int n = dq.n;
                pthread_mutex_unlock(&dq.mu);
                if (n == 1)
                        break;
                t_sleep_ms(5);
        }
        CHECK_EQ(dq.n, 1);
        pthread_t answerer;
        pthread_create(&answerer, NULL, late_answer_main, NULL);
        uint64_t t0 = t_now_ms();
        http_rx_stop(rx);
        rx = NULL;
        CHECK(t_now_ms() - t0 >= 250);          /* it waited for the answer */
        pthread_join(answerer, NULL);
        pthread_join(last.th, NULL);
        CHECK_EQ(last.status, 200);
}

int main(void)
{
        curl_global_init(CURL_GLOBAL_DEFAULT);
        RUN(test_receiver_delivers_400_parallel_posts_once_each);
        RUN(test_receiver_answers_repeats_2xx_without_delivering_again);
        RUN(test_receiver_answers_503_when_ring_is_full_then_2xx_on_retry);
        RUN(test_receiver_refuses_declared_oversized_body_with_413);
        RUN(test_receiver_refuses_chunked_body_over_the_limit_with_413);
        RUN(test_receiver_refuses_bad_percent_encoding_with_400);
        RUN(test_receiver_refuses_invalid_utf8_with_400);
        RUN(test_receiver_refuses_wrong_path_method_and_content_type);
        RUN(test_receiver_refuses_too_many_header_lines);
        RUN(test_receiver_closes_or_400s_garbage_and_huge_headers);
        RUN(test_receiver_stays_live_under_slowloris);
        RUN(test_receiver_requires_the_shared_secret);
        RUN(test_receiver_closes_connections_from_outside_the_allow_list);
        RUN(test_receiver_decodes_escaped_field_names_over_the_wire);
        RUN(test_receiver_closes_an_endless_chunked_body_without_reading_it);
        RUN(test_receiver_closes_a_body_trickled_past_the_deadline);
        RUN(test_receiver_refuses_duplicated_fields_and_nul_bytes_with_400);
        RUN(test_receiver_answers_huge_and_bad_content_length);
        RUN(test_receiver_deferred_answers_come_later_from_another_thread);
        RUN(test_receiver_answers_every_request_of_a_burst_ready_at_once);
        http_rx_stop(rx);
        curl_global_cleanup();
        return t_done();
}
