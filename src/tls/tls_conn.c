/* One TLS client connection on memory BIOs (see tls.h): the worker pushes
 * the ciphertext its multishot recv got into the read BIO and takes the
 * records OpenSSL wrote out of the write BIO to send them itself, so OpenSSL
 * never touches the socket and never waits.
 *
 * Every failure ends with a short reason (it goes into the BIND event, the
 * log and `smsmux stats`) that names the cause the operator has to fix, and
 * a longer detail for the log with OpenSSL's own words:
 *   tls: certificate from unknown CA        the chain does not end at a trusted CA
 *   tls: certificate is for another host    server_name (or host) not in it
 *   tls: certificate expired / not yet valid
 *   tls: client certificate refused         the SMSC sent a certificate alert
 *   tls: SMSC does not speak TLS            a plain SMPP port answered
 *   tls: SMSC sent alert <name>             any other alert from the SMSC
 *   tls: bad record (integrity check)       a record failed its MAC / AEAD tag
 *   tls: truncated record                   the connection ended inside a record
 * ("SMSC" is the context's `peer`: "Redis" for the shared store's
 * connection, src/store/rstore_io.c.)
 * Owned by the worker thread of its bind (or the store thread). */
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include "tls/tls.h"

int tls_conn_start(struct smx_tls_conn *t, struct smx_tls_ctx *ctx)
{
        memset(t, 0, sizeof *t);
        t->ctx = ctx;
        ERR_clear_error();
        SSL *ssl = SSL_new(ctx->ssl_ctx);
        BIO *rb = BIO_new(BIO_s_mem()), *wb = BIO_new(BIO_s_mem());
        if (!ssl || !rb || !wb) {
                SSL_free(ssl);
                BIO_free(rb);
                BIO_free(wb);
                snprintf(t->reason, sizeof t->reason, "tls: out of memory");
                t->state = TLS_FAILED;
                return -1;
        }
        BIO_set_mem_eof_return(rb, -1);         /* empty: "retry", not end of file */
        SSL_set_bio(ssl, rb, wb);               /* the SSL owns both now */
        t->ssl = ssl;
        t->rbio = rb;
        t->wbio = wb;
        const char *sn = ctx->server_name;
        if (*sn) {
                /* SNI only for a name (RFC 6066: never an IP literal) */
                int literal = strspn(sn, "0123456789.") == strlen(sn) || strchr(sn, ':');
                if (!literal)
                        SSL_set_tlsext_host_name(ssl, sn);
                if (ctx->verify)
                        SSL_set1_host(ssl, sn); /* names and IP literals alike */
        }
        if (ctx->resume)
                SSL_set_session(ssl, ctx->resume);
        SSL_set_connect_state(ssl);
        t->state = TLS_HANDSHAKE;
        tls_conn_handshake(t);                  /* queues the ClientHello */
        return t->state == TLS_FAILED ? -1 : 0;
}

void tls_conn_end(struct smx_tls_conn *t)
{
        /* OpenSSL drops the session of a connection freed without a
         * close_notify; ours ends without one whenever the SMSC closes or
         * the bind is lost, so the session is kept for the next bind unless
         * the connection failed (a session must not be resumed after a fatal
         * alert or a verification failure) */
        if (t->ssl && t->state != TLS_FAILED)
                SSL_set_shutdown(t->ssl, SSL_get_shutdown(t->ssl) | SSL_SENT_SHUTDOWN);
        if (t->ssl)
                SSL_free(t->ssl);               /* frees both BIOs */
        t->ssl = t->rbio = t->wbio = NULL;
}

int tls_conn_input(struct smx_tls_conn *t, const uint8_t *p, size_t n)
{
        size_t done = 0;
        if (!t->ssl || n == 0)
                return 0;
        if (BIO_write_ex(t->rbio, p, n, &done) != 1 || done != n) {
                snprintf(t->reason, sizeof t->reason, "tls: out of memory");
                t->state = TLS_FAILED;
                return -1;
        }
        return 0;
}

static int is_cert_alert(int alert)
{
        switch (alert) {
        case SSL_AD_BAD_CERTIFICATE: case SSL_AD_UNSUPPORTED_CERTIFICATE:
        case SSL_AD_CERTIFICATE_REVOKED: case SSL_AD_CERTIFICATE_EXPIRED:
        case SSL_AD_CERTIFICATE_UNKNOWN: case SSL_AD_UNKNOWN_CA: case SSL_AD_ACCESS_DENIED:
        case SSL_AD_CERTIFICATE_REQUIRED:
                return 1;
        default:
                return 0;
        }
}

/* The chain or the host check failed: which of them. */
static const char *verify_reason(long vr)
{
        switch (vr) {
        case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
        case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
        case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
        case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
        case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
        case X509_V_ERR_CERT_UNTRUSTED:
                return "tls: certificate from unknown CA";
        case X509_V_ERR_HOSTNAME_MISMATCH:
        case X509_V_ERR_IP_ADDRESS_MISMATCH:
                return "tls: certificate is for another host";
        case X509_V_ERR_CERT_HAS_EXPIRED:
                return "tls: certificate expired";
        case X509_V_ERR_CERT_NOT_YET_VALID:
                return "tls: certificate not yet valid";
        default:
                return "tls: certificate rejected";
        }
}

/* Who the server is in reasons: "SMSC" unless the context says. */
static const char *peer(const struct smx_tls_conn *t)
{
        return t->ctx && t->ctx->peer ? t->ctx->peer : "SMSC";
}

/* Fill reason and detail from OpenSSL's error queue and the verify result. */
static void set_failure(struct smx_tls_conn *t, const char *when)
{
        SSL *ssl = t->ssl;
        unsigned long e = ERR_peek_error();
        int reason = ERR_GET_REASON(e);
        const char *estr = e ? ERR_reason_error_string(e) : NULL;
        if (!estr)
                estr = "unknown error";
        long vr = SSL_get_verify_result(ssl);
        int in_hs = t->state == TLS_HANDSHAKE;
        t->state = TLS_FAILED;
        if (reason == SSL_R_CERTIFICATE_VERIFY_FAILED && vr != X509_V_OK) {
                snprintf(t->reason, sizeof t->reason, "%s", verify_reason(vr));
                snprintf(t->detail, sizeof t->detail, "%s: certificate verify failed: %s "
                         "(expected name %.80s)", when, X509_verify_cert_error_string(vr),
                         t->ctx->server_name[0] ? t->ctx->server_name : "none");
        } else if (ERR_GET_LIB(e) == ERR_LIB_SSL && reason >= SSL_AD_REASON_OFFSET &&
                   reason < SSL_AD_REASON_OFFSET + 256) {
                int alert = reason - SSL_AD_REASON_OFFSET;
                const char *an = SSL_alert_desc_string_long(alert);
                if (is_cert_alert(alert))
                        snprintf(t->reason, sizeof t->reason, "tls: client certificate refused");
                else
                        snprintf(t->reason, sizeof t->reason, "tls: %s sent alert %s", peer(t),
                                 an);
                snprintf(t->detail, sizeof t->detail, "%s: the %s sent the fatal alert \"%s\"%s%s%s",
                         when, peer(t), an, is_cert_alert(alert)
                         ? " about our client certificate (check cert_file/key_file and "
                           "that the " : "", is_cert_alert(alert) ? peer(t) : "",
                         is_cert_alert(alert) ? " trusts its CA)" : "");
        } else if (in_hs && (reason == SSL_R_WRONG_VERSION_NUMBER ||
                             reason == SSL_R_PACKET_LENGTH_TOO_LONG ||
                             reason == SSL_R_UNKNOWN_PROTOCOL ||
                             reason == SSL_R_RECORD_LENGTH_MISMATCH)) {
                snprintf(t->reason, sizeof t->reason, "tls: %s does not speak TLS", peer(t));
                snprintf(t->detail, sizeof t->detail, "%s: %s: the port answered with no TLS "
                         "record (a plain port? %s)", when, estr,
                         t->ctx && t->ctx->peer ? "use its TLS port"
                                                : "set tls off or use its TLS port");
        } else if (reason == SSL_R_UNSUPPORTED_PROTOCOL || reason == SSL_R_VERSION_TOO_LOW ||
                   reason == SSL_R_NO_PROTOCOLS_AVAILABLE) {
                snprintf(t->reason, sizeof t->reason, "tls: %s offers TLS below 1.2", peer(t));
                snprintf(t->detail, sizeof t->detail, "%s: %s", when, estr);
        } else if (reason == SSL_R_DECRYPTION_FAILED_OR_BAD_RECORD_MAC ||
                   reason == SSL_R_DECRYPTION_FAILED) {
                snprintf(t->reason, sizeof t->reason, "tls: bad record (integrity check)");
                snprintf(t->detail, sizeof t->detail, "%s: %s", when, estr);
        } else if (reason == SSL_R_UNEXPECTED_EOF_WHILE_READING) {
                snprintf(t->reason, sizeof t->reason, "tls: truncated record");
                snprintf(t->detail, sizeof t->detail, "%s: the connection ended inside a record",
                         when);
        } else {
                snprintf(t->reason, sizeof t->reason, "tls: %s", estr);
                snprintf(t->detail, sizeof t->detail, "%s: %s", when, estr);
        }
        ERR_clear_error();
}

/* An SSL call returned r <= 0: 0 when it only needs more bytes, else -1. */
static int after_call(struct smx_tls_conn *t, int r, const char *when)
{
        int e = SSL_get_error(t->ssl, r);
        if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
                ERR_clear_error();
                return 0;
        }
        if (e == SSL_ERROR_ZERO_RETURN) {
                t->peer_notified = 1;
                t->state = TLS_CLOSED;
                snprintf(t->reason, sizeof t->reason, "tls: %s sent close_notify", peer(t));
                snprintf(t->detail, sizeof t->detail, "%s: the %s closed the TLS session", when,
                         peer(t));
                return -1;
        }
        set_failure(t, when);
        return -1;
}

int tls_conn_handshake(struct smx_tls_conn *t)
{
        if (t->state == TLS_OPEN)
                return 1;
        if (t->state != TLS_HANDSHAKE)
                return -1;
        ERR_clear_error();
        int r = SSL_do_handshake(t->ssl);
        if (r == 1) {
                t->state = TLS_OPEN;
                t->resumed = SSL_session_reused(t->ssl);
                snprintf(t->version, sizeof t->version, "%s", SSL_get_version(t->ssl));
                const char *cn = SSL_get_cipher_name(t->ssl);
                snprintf(t->cipher, sizeof t->cipher, "%s", cn ? cn : "?");
                t->ctx->handshakes++;
                if (t->resumed)
                        t->ctx->resumed++;
                return 1;
        }
        return after_call(t, r, "handshake");
}

long tls_conn_read(struct smx_tls_conn *t, uint8_t *buf, size_t cap)
{
        if (t->state != TLS_OPEN)
                return t->state == TLS_HANDSHAKE ? 0 : -1;
        size_t got = 0;
        ERR_clear_error();
        int r = SSL_read_ex(t->ssl, buf, cap, &got);
        if (r == 1)
                return (long)got;
        return after_call(t, r, "read") < 0 ? -1 : 0;
}

int tls_conn_write(struct smx_tls_conn *t, const uint8_t *p, size_t n)
{
        if (t->state != TLS_OPEN)
                return -1;
        while (n > 0) {
                size_t done = 0;
                ERR_clear_error();
                int r = SSL_write_ex(t->ssl, p, n, &done);
                if (r != 1) {
                        /* a memory BIO never asks to retry a write: a failure */
                        if (after_call(t, r, "write") == 0)
                                set_failure(t, "write");
                        return -1;
                }
                p += done;
                n -= done;
        }
        return 0;
}

size_t tls_conn_pending(const struct smx_tls_conn *t)
{
        return t->wbio ? BIO_ctrl_pending(t->wbio) : 0;
}

size_t tls_conn_take(struct smx_tls_conn *t, uint8_t *dst, size_t cap)
{
        size_t got = 0;
        if (!t->wbio || cap == 0 || BIO_ctrl_pending(t->wbio) == 0)
                return 0;
        if (BIO_read_ex(t->wbio, dst, cap, &got) != 1)
                return 0;
        return got;
}

int tls_conn_can_notify(const struct smx_tls_conn *t)
{
        return !t->notify_sent && (t->state == TLS_OPEN ||
                                   (t->state == TLS_CLOSED && t->peer_notified));
}

void tls_conn_shutdown(struct smx_tls_conn *t)
{
        if (!tls_conn_can_notify(t))
                return;
        ERR_clear_error();
        SSL_shutdown(t->ssl);           /* queues close_notify; we do not wait for theirs */
        ERR_clear_error();
        t->notify_sent = 1;
}

size_t tls_conn_buffered(const struct smx_tls_conn *t)
{
        if (!t->ssl)
                return 0;
        return BIO_ctrl_pending(t->rbio) + (size_t)SSL_has_pending(t->ssl);
}

const char *tls_conn_eof_reason(struct smx_tls_conn *t)
{
        if (t->peer_notified) {
                snprintf(t->reason, sizeof t->reason, "tls: %s sent close_notify", peer(t));
                return t->reason;
        }
        if (t->state == TLS_HANDSHAKE) {
                snprintf(t->reason, sizeof t->reason, "tls: %s closed during handshake", peer(t));
                snprintf(t->detail, sizeof t->detail, "handshake: the %s closed the "
                         "connection (not a TLS port, or it refused us without an alert)",
                         peer(t));
                return t->reason;
        }
        if (tls_conn_buffered(t)) {
                snprintf(t->reason, sizeof t->reason, "tls: truncated record");
                snprintf(t->detail, sizeof t->detail, "read: the connection ended inside a "
                         "record (%zu bytes of it received)", BIO_ctrl_pending(t->rbio));
                return t->reason;
        }
        snprintf(t->reason, sizeof t->reason, "tls: closed without close_notify");
        snprintf(t->detail, sizeof t->detail, "read: the %s closed the connection without "
                 "ending the TLS session", peer(t));
        return t->reason;
}
