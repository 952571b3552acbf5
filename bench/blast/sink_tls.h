/* TLS for the blast sink (sink_tls.c). One connection's TLS state. */
#ifndef BLAST_SINK_TLS_H
#define BLAST_SINK_TLS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define SINK_TLS_OUT_CAP (1u << 20)

struct sink_tls {
        void *ssl;                 /* SSL on memory BIOs, NULL: plain */
        uint8_t *cout;             /* records to send */
        size_t cout_off, cout_len;
        uint64_t bytes_in, bytes_out;   /* on the wire */
};

/* A server context (certificate chain and key, PEM), NULL on error. */
void *sink_tls_ctx(const char *cert, const char *key);
void sink_tls_ctx_free(void *ctx);
int sink_tls_accept(struct sink_tls *t, void *ctx);
void sink_tls_free(struct sink_tls *t);
/* recv() for a TLS connection: plaintext bytes into dst (> 0), 0 the peer
 * closed or the session ended, -1 with errno (EAGAIN: nothing yet). */
ssize_t sink_tls_recv(struct sink_tls *t, int fd, uint8_t *dst, size_t cap);
/* Encrypt n plaintext bytes (all taken) and send what records fit. 0, -1. */
int sink_tls_send(struct sink_tls *t, int fd, const uint8_t *p, size_t n);
/* Records still waiting to be sent. */
int sink_tls_pending(const struct sink_tls *t);

#endif
