/* SMPP over TLS, without sockets: OpenSSL 3 works on two memory BIOs per
 * connection, so the worker's io_uring keeps doing every socket read and
 * write and nothing here ever blocks. Received ciphertext goes in with
 * tls_conn_input, plaintext comes out of tls_conn_read; plaintext goes in
 * with tls_conn_write and the records to send come out of tls_conn_take.
 *
 *   tls_ctx.c   the per-SMSC settings (struct smx_tls_cfg), the SSL_CTX built
 *               from them (TLS 1.2 minimum, OpenSSL's default ciphers, peer
 *               and host verification unless `insecure`, client certificate,
 *               session tickets kept for the next bind, renegotiation
 *               refused), the check made when the client is created, and
 *               the kTLS probe (reported, not used: OpenSSL hands keys to the
 *               kernel only on its socket BIOs, and the ring owns the
 *               socket; records are made in user space either way);
 *   tls_conn.c  one connection: handshake, records in and out, close_notify,
 *               and every failure turned into a short reason naming its cause
 *               (unknown CA, wrong host name, expired certificate, client
 *               certificate refused, not TLS, alert, truncated record).
 *
 * Certificates, keys and passwords never reach a log line or a reason: only
 * file names, the server name and OpenSSL's error texts do.
 *
 * A struct smx_tls_ctx and its connections belong to one thread (the worker
 * owning the bind, or the shared store's thread: src/store/rstore_tls.c
 * drives the same connections over its own socket to Redis); the settings
 * are immutable after setup. */
#ifndef SMX_TLS_H
#define SMX_TLS_H

#include <stddef.h>
#include <stdint.h>

#include "smsmux.h"

/* One SMSC's TLS settings, owned copies (tls_cfg_new / tls_cfg_free). */
struct smx_tls_cfg {
        char *ca_file, *ca_path;           /* NULL both: the system store */
        char *cert_file, *key_file;        /* client certificate, NULL: none */
        char *server_name;                 /* SNI and host check; NULL: the host */
        int insecure;                      /* no peer or host verification */
};

/* Copies of s's TLS settings (NULL when s is not TLS or out of memory; *oom
 * says which). */
struct smx_tls_cfg *tls_cfg_new(const struct smx_smsc_config *s, int *oom);
void tls_cfg_free(struct smx_tls_cfg *t);

/* The same from separate settings (the shared store's [store] keys); NULL
 * with *oom set when out of memory. */
struct smx_tls_cfg *tls_cfg_new_fields(const char *ca_file, const char *ca_path,
                                       const char *cert_file, const char *key_file,
                                       const char *server_name, int insecure, int *oom);

/* Check s's TLS settings can be used (CA, certificate and key readable, the
 * key matching the certificate): 0, or -1 with the reason in err. */
int tls_cfg_check(const struct smx_smsc_config *s, char *err, size_t err_len);

/* The SSL_CTX of one SMSC and the session kept for resumption. */
struct smx_tls_ctx {
        void *ssl_ctx;                     /* SSL_CTX */
        void *resume;                      /* SSL_SESSION of the last handshake, NULL none */
        char server_name[256];             /* what SNI sends and the host check wants */
        int verify;                        /* 0: insecure */
        const char *peer;                  /* the server in reasons: NULL "SMSC", or
                                              e.g. "Redis" (a static string) */
        uint64_t handshakes, resumed;      /* owner thread writes */
};

/* Build ctx for one SMSC (host: its configured host, the default server
 * name). 0, or -1 with the reason in err. */
int tls_ctx_init(struct smx_tls_ctx *ctx, const struct smx_tls_cfg *cfg, const char *host,
                 char *err, size_t err_len);
void tls_ctx_fini(struct smx_tls_ctx *ctx);

/* Whether the kernel offers kTLS (the "tls" TCP upper layer protocol): 1 or
 * 0, and a sentence saying what the TLS records go through (for stats). */
int tls_ktls_probe(const char **why);

enum tls_conn_state { TLS_HANDSHAKE = 0, TLS_OPEN, TLS_CLOSED, TLS_FAILED };

/* One connection. */
struct smx_tls_conn {
        void *ssl;                         /* SSL, NULL: none */
        void *rbio, *wbio;                 /* ciphertext in / out (memory BIOs) */
        struct smx_tls_ctx *ctx;
        enum tls_conn_state state;
        uint8_t notify_sent;               /* our close_notify is queued */
        uint8_t peer_notified;             /* the peer's close_notify arrived */
        char reason[48];                   /* why it failed or closed (BIND event, stats) */
        char detail[320];                  /* longer version for the log */
        char version[16], cipher[64];      /* after the handshake */
        int resumed;                       /* the handshake resumed a session */
};

/* Start a client connection: the ClientHello is queued (tls_conn_take).
 * 0, or -1 (out of memory; reason set). */
int tls_conn_start(struct smx_tls_conn *t, struct smx_tls_ctx *ctx);
/* Free everything of the connection (no close_notify: see tls_conn_shutdown). */
void tls_conn_end(struct smx_tls_conn *t);

/* Ciphertext received from the socket. 0, or -1 (out of memory). */
int tls_conn_input(struct smx_tls_conn *t, const uint8_t *p, size_t n);
/* Drive the handshake with what was received: 1 done (state TLS_OPEN), 0
 * more bytes needed, -1 failed (state TLS_FAILED, reason/detail set). */
int tls_conn_handshake(struct smx_tls_conn *t);
/* Plaintext received, up to cap bytes: > 0 bytes, 0 none yet, -1 the
 * connection failed or the peer closed it (reason set; state TLS_FAILED or
 * TLS_CLOSED). */
long tls_conn_read(struct smx_tls_conn *t, uint8_t *buf, size_t cap);
/* Encrypt n plaintext bytes (all of them). 0, or -1 (reason set). */
int tls_conn_write(struct smx_tls_conn *t, const uint8_t *p, size_t n);
/* Records waiting to be sent. */
size_t tls_conn_pending(const struct smx_tls_conn *t);
/* Copy up to cap bytes of the records waiting into dst; returns how many. */
size_t tls_conn_take(struct smx_tls_conn *t, uint8_t *dst, size_t cap);
/* Our close_notify is still due: the connection is open, or the peer's
 * close_notify came first (ours answers it). */
int tls_conn_can_notify(const struct smx_tls_conn *t);
/* Queue our close_notify (once, when tls_conn_can_notify). */
void tls_conn_shutdown(struct smx_tls_conn *t);
/* The socket reached end of file: the reason for it (a record cut short,
 * the peer's close_notify, or a close without one). */
const char *tls_conn_eof_reason(struct smx_tls_conn *t);
/* Records received but not yet whole (a partial record waiting). */
size_t tls_conn_buffered(const struct smx_tls_conn *t);

#endif
