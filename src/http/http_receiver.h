/* The MO/DR receiver (SERVICE.md H4): an HTTP server on libmicrohttpd.
 *
 * One MHD daemon on epoll, run by the receiver's own thread (not MHD's
 * internal polling thread, whose epoll drain can sleep until the idle
 * timeout with requests unread: http_mhd_loop.h): many concurrent
 * connections from many source addresses, one thread running the handler,
 * so the deliver callback is always called from that single thread (it can
 * be the producer of an SPSC event ring).
 *
 * A request is POST /httpapi/receiver with an application/x-www-form-urlencoded
 * body of the H4 fields. The body is collected into a fixed buffer of
 * max_body bytes (never sized by the peer), parsed (http_form.h), checked and
 * handed to `deliver`; the answer follows what deliver says:
 *   HTTP_RX_OK / HTTP_RX_DUPLICATE -> 200 (the event is in the ring, or was
 *   delivered before: the service stops re-sending); HTTP_RX_BUSY -> 503 with
 *   Retry-After (ring full: the service re-sends later); HTTP_RX_DEFER (the
 *   callback called http_rx_defer) -> the connection is suspended (MHD
 *   suspend/resume: the receiver thread serves the others meanwhile) until
 *   http_rx_answer, from any thread, gives one of the three answers above.
 *   A shared store uses it: 200 only once Redis has the DR/MO. Closed
 *   (http_rx_close: the client drained) or stopping, the receiver answers
 *   every new message 503 at once (nothing more is delivered or deferred,
 *   also none racing with the close), then waits for every deferred answer
 *   (MHD may not be stopped with a suspended connection), which the store
 *   gives within its hold_ms: close the receiver before the store stops.
 * Everything wrong gets a 4xx with a one-line reason and never reaches
 * deliver: 404 other paths, 405 other methods, 415 another content type,
 * 413 body over max_body, 431 more than max_headers header lines, 400 bad
 * percent-encoding, invalid UTF-8, a field over max_field, a NUL byte in a
 * field other than message, a field name that breaks any of these rules
 * (names are decoded like values; their limit is max_field within 15..256
 * bytes), a field the receiver reads given twice, a missing
 * or bad field, a Content-Length that is not a number, 403 a wrong shared
 * secret. Connections from addresses outside the allow list are closed at
 * accept. Idle connections are closed after idle_timeout_s; a body still
 * coming max_request_s after the headers, or more than max_body bytes over
 * the limit (an endless chunked body), closes the connection without an
 * answer; total and per-address connection counts are capped, so slow
 * senders cannot starve the others. */
#ifndef SMX_HTTP_RECEIVER_H
#define SMX_HTTP_RECEIVER_H

#include <netinet/in.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#define HTTP_RX_PATH      "/httpapi/receiver"
#define HTTP_RX_ID_MAX    64
#define HTTP_RX_ADDR_MAX  64
#define HTTP_RX_TEXT_MAX  4096
#define HTTP_RX_SECRET_HEADER "X-Smsmux-Secret"

struct http_rx_config {
        const char *listen;          /* "A.B.C.D:PORT" or "[IPv6]:PORT" (port 0 = any free) */
        const char *secret;          /* NULL/"": none; else field `secret` or header */
        const char *allow;           /* NULL/"": any; else "ADDR[/N],..." with IPv4 or
                                        IPv6 addresses (an IPv4-mapped IPv6 source
                                        is matched as IPv4) */
        uint32_t max_body;           /* default 16384 */
        uint32_t max_field;          /* decoded bytes per field except message (default 256) */
        uint32_t max_headers;        /* default 64 */
        uint32_t idle_timeout_s;     /* default 15 */
        uint32_t max_conns;          /* default 4096 */
        uint32_t max_conns_per_ip;   /* default 512 */
        uint32_t max_request_s;      /* body phase, from the headers in (default 30) */
        uint32_t close_wait_ms;      /* http_rx_close waits this long for deferred
                                        answers, then answers them 503 itself
                                        (default HTTP_RX_CLOSE_WAIT_MS) */
};

#define HTTP_RX_CLOSE_WAIT_MS 5000u

void http_rx_config_init(struct http_rx_config *c);

/* One accepted H4 message, decoded (strings NUL-terminated, UTF-8). */
struct http_rx_msg {
        int is_dr;                   /* type=receipt; else type=MO */
        char message_id[HTTP_RX_ID_MAX + 1];
        uint8_t state;               /* DR: message_state 1..8 (R6) */
        int has_result;
        uint32_t result_code;
        char app_id[HTTP_RX_ID_MAX + 1], conversation_id[HTTP_RX_ID_MAX + 1];
        char shortcode[HTTP_RX_ADDR_MAX + 1], phone_number[HTTP_RX_ADDR_MAX + 1];
        char carrier[HTTP_RX_ADDR_MAX + 1];
        size_t text_len;
        char text[HTTP_RX_TEXT_MAX + 1];
        union {
                struct sockaddr sa;
                struct sockaddr_in sin;   /* sa.sa_family AF_INET */
                struct sockaddr_in6 sin6; /* AF_INET6 */
        } from;                      /* the peer (family 0 when unknown) */
};

enum { HTTP_RX_OK = 0, HTTP_RX_DUPLICATE, HTTP_RX_BUSY, HTTP_RX_DEFER };

/* Called on the receiver thread for every well-formed message. */
typedef int (*http_rx_deliver_fn)(void *arg, const struct http_rx_msg *m);

struct http_rx_stats {
        _Atomic uint64_t requests, delivered, duplicates, busy, bad, forbidden, too_large,
                         too_slow;
        _Atomic uint64_t deferred;      /* answers that waited for http_rx_answer */
        _Atomic uint64_t abandoned;     /* ...of which answered 503 by the close, the
                                           answer not having come in close_wait_ms */
};

struct http_receiver;

int http_rx_start(const struct http_rx_config *cfg, http_rx_deliver_fn fn, void *arg,
                  struct http_receiver **out, char *err, size_t err_len);
/* The port actually listened on. */
uint16_t http_rx_port(const struct http_receiver *r);
/* From the deliver callback only, for the message it was called with: its
 * answer comes later, by exactly one http_rx_answer(ticket, ...). The
 * callback then returns HTTP_RX_DEFER. */
void *http_rx_defer(struct http_receiver *r);
/* Any thread, once per ticket: HTTP_RX_OK, HTTP_RX_DUPLICATE or
 * HTTP_RX_BUSY for the deferred message. 1 when that is the answer sent; 0
 * when the close abandoned the message first (it was answered 503, the
 * service re-sends it): the ticket is gone, nothing else may be done for
 * the message on the strength of this answer. The receiver may be freed
 * by then: only the ticket is touched. */
int http_rx_answer(void *ticket, int result);
/* Any thread, before an answerer does something it cannot take back for
 * the message (delivering it itself): 1 when the ticket is now its to
 * answer (the close waits for that answer, which must follow at once, by
 * http_rx_answer); 0 when the close abandoned it (answered 503: the
 * message must not be delivered; the ticket is gone, no answer follows). */
int http_rx_claim(void *ticket);
/* Control thread: stop acknowledging. From the call on, every message gets
 * 503 with Retry-After at once and never reaches deliver (the service
 * re-sends it, H4); returns once deliver has returned for every message
 * that came before, and every deferred answer was given, or, for those
 * whose answer had not come within close_wait_ms, the message was answered
 * 503 here (abandoned: http_rx_answer / http_rx_claim). So every message
 * answered 200 was handed over by deliver before the return. The client
 * calls it at the end of smx_client_drain; idempotent. */
void http_rx_close(struct http_receiver *r);
/* http_rx_close, then let the answers given go out (up to 1 s), stop the
 * thread and the daemon, free. */
void http_rx_stop(struct http_receiver *r);
const struct http_rx_stats *http_rx_stats(const struct http_receiver *r);

/* The pure checks of http_rx_parse.c: the receiver calls them in this
 * order, and so can a test or a fuzz target, without a socket. Each returns
 * 0 or the HTTP status to answer, with a one-line reason in *why. */

/* What is known of a request once its headers are in: views the caller
 * owns, NUL-terminated; content_type / content_length NULL when absent. */
struct http_rx_head {
        const char *path, *method;
        const char *content_type, *content_length;
        unsigned n_headers;
};

/* Before the body: 404 path, 405 method, 431 header lines over
 * cfg->max_headers, 415 content type, 413 a declared body over
 * cfg->max_body. */
int http_rx_check_head(const struct http_rx_head *h, const struct http_rx_config *cfg,
                       const char **why);

/* Check and decode a form body body[0..len) into m. 400 on any field
 * error. */
int http_rx_parse(const char *body, size_t len, const struct http_rx_config *cfg,
                  struct http_rx_msg *m, const char **why);

/* The shared secret want[0..want_len) (want_len 0: none needed) against the
 * header value (NUL-terminated; NULL when absent), else the body's `secret`
 * field. 403 when it does not match. */
int http_rx_check_secret(const char *want, size_t want_len, const char *header, const char *body,
                         size_t len, const char **why);

#endif
