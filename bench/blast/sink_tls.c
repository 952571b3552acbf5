/* TLS for `blast --sink --tls-cert FILE --tls-key FILE`: the same trivial
 * SMSC behind TLS, so the dispatcher's TLS and plain binds can be measured
 * against the same sink in the same run. OpenSSL on memory BIOs: the sink
 * still does its own recv/send; received ciphertext goes into the SSL and
 * the plaintext out of it into the connection's input, the answers (the
 * connection's plaintext output) are encrypted into a record buffer that is
 * sent instead. Bytes on the wire are counted both ways. One thread. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "sink_tls.h"

#define RAW_CHUNK 65536

void *sink_tls_ctx(const char *cert, const char *key)
{
        SSL_CTX *c = SSL_CTX_new(TLS_server_method());
        if (!c)
                return NULL;
        SSL_CTX_set_min_proto_version(c, TLS1_2_VERSION);
        if (SSL_CTX_use_certificate_chain_file(c, cert) != 1 ||
            SSL_CTX_use_PrivateKey_file(c, key, SSL_FILETYPE_PEM) != 1) {
                SSL_CTX_free(c);
                return NULL;
        }
        return c;
}

void sink_tls_ctx_free(void *ctx)
{
        SSL_CTX_free(ctx);
}

int sink_tls_accept(struct sink_tls *t, void *ctx)
{
        memset(t, 0, sizeof *t);
        SSL *s = SSL_new(ctx);
        BIO *rb = BIO_new(BIO_s_mem()), *wb = BIO_new(BIO_s_mem());
        t->cout = malloc(SINK_TLS_OUT_CAP);
        if (!s || !rb || !wb || !t->cout) {
                SSL_free(s);
                BIO_free(rb);
                BIO_free(wb);
                free(t->cout);
                t->cout = NULL;
                return -1;
        }
        BIO_set_mem_eof_return(rb, -1);
        SSL_set_bio(s, rb, wb);
        SSL_set_accept_state(s);
        t->ssl = s;
        return 0;
}

void sink_tls_free(struct sink_tls *t)
{
        SSL_free(t->ssl);
        free(t->cout);
        t->ssl = NULL;
        t->cout = NULL;
}

/* Records OpenSSL wrote, into the record buffer (as much as fits). */
static void take_records(struct sink_tls *t)
{
        if (t->cout_off == t->cout_len)
                t->cout_off = t->cout_len = 0;
        BIO *wb = SSL_get_wbio(t->ssl);
        size_t got;
        while (t->cout_len < SINK_TLS_OUT_CAP && BIO_ctrl_pending(wb) > 0 &&
               BIO_read_ex(wb, t->cout + t->cout_len, SINK_TLS_OUT_CAP - t->cout_len, &got) == 1)
                t->cout_len += got;
}

ssize_t sink_tls_recv(struct sink_tls *t, int fd, uint8_t *dst, size_t cap)
{
        static uint8_t raw[RAW_CHUNK];
        ssize_t r = recv(fd, raw, sizeof raw, MSG_DONTWAIT);
        if (r <= 0)
                return r;
        t->bytes_in += (uint64_t)r;
        size_t done;
        if (BIO_write_ex(SSL_get_rbio(t->ssl), raw, (size_t)r, &done) != 1) {
                errno = ENOMEM;
                return -1;
        }
        if (!SSL_is_init_finished(t->ssl)) {
                int h = SSL_do_handshake(t->ssl);
                take_records(t);
                if (h != 1) {
                        int e = SSL_get_error(t->ssl, h);
                        ERR_clear_error();
                        errno = e == SSL_ERROR_WANT_READ ? EAGAIN : EPROTO;
                        return -1;
                }
        }
        size_t total = 0;
        while (total < cap) {
                size_t got = 0;
                if (SSL_read_ex(t->ssl, dst + total, cap - total, &got) != 1) {
                        int e = SSL_get_error(t->ssl, 0);
                        ERR_clear_error();
                        if (e == SSL_ERROR_WANT_READ)
                                break;
                        take_records(t);
                        return 0;       /* close_notify or a failure: the connection ends */
                }
                total += got;
        }
        take_records(t);
        if (total == 0) {
                errno = EAGAIN;
                return -1;
        }
        return (ssize_t)total;
}

int sink_tls_send(struct sink_tls *t, int fd, const uint8_t *p, size_t n)
{
        if (n && SSL_is_init_finished(t->ssl)) {
                size_t done = 0;
                if (SSL_write_ex(t->ssl, p, n, &done) != 1) {
                        ERR_clear_error();
                        return -1;
                }
        } else if (n) {
                return -1;
        }
        take_records(t);
        while (t->cout_len > t->cout_off) {
                ssize_t w = send(fd, t->cout + t->cout_off, t->cout_len - t->cout_off,
                                 MSG_DONTWAIT | MSG_NOSIGNAL);
                if (w <= 0)
                        break;
                t->cout_off += (size_t)w;
                t->bytes_out += (uint64_t)w;
                if (t->cout_off == t->cout_len)
                        take_records(t);
        }
        return 0;
}

int sink_tls_pending(const struct sink_tls *t)
{
        return t->cout_len > t->cout_off || BIO_ctrl_pending(SSL_get_wbio(t->ssl)) > 0;
}
