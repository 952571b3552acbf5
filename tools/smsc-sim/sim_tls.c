/* TLS listeners of the simulator: an SMSC with a certificate and key (the
 * --tls-cert/--tls-key flags for every SMSC, or tls_cert/tls_key in its
 * config section, its site's or [sim]) speaks SMPP over TLS only. OpenSSL
 * works on memory BIOs: the engine still reads and writes the socket
 * itself, ciphertext in from recv, plaintext into the session's input for
 * the usual framing, and each session's plaintext output is encrypted just
 * before its flush into the session's record buffer.
 *
 * Faults (`smsc-sim ctl ... tls-fault TARGET badcert|stall|off`, sticky for
 * new connections): `badcert` presents a self-signed certificate made at
 * start (no CA trusts it), `stall` reads the ClientHello and never answers.
 * One-shot, on the sessions open now: `tls-alert TARGET` sends a fatal TLS
 * alert (bad_record_mac) and closes; `tls-truncate TARGET` sends half of
 * one record and closes. Engine thread only (the contexts are made at
 * start and only read afterwards). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "sim_engine.h"

#define SIM_TLS_CHUNK 16384

static SSL_CTX *server_ctx(const char *cert, const char *key, const char *client_ca, char *err,
                           size_t err_len)
{
        SSL_CTX *c = SSL_CTX_new(TLS_server_method());
        if (!c) {
                snprintf(err, err_len, "TLS context: out of memory");
                return NULL;
        }
        SSL_CTX_set_min_proto_version(c, TLS1_2_VERSION);
        if (SSL_CTX_use_certificate_chain_file(c, cert) != 1 ||
            SSL_CTX_use_PrivateKey_file(c, key, SSL_FILETYPE_PEM) != 1 ||
            SSL_CTX_check_private_key(c) != 1) {
                unsigned long e = ERR_peek_last_error();
                snprintf(err, err_len, "TLS certificate %s / key %s: %s", cert, key,
                         e ? ERR_reason_error_string(e) : "unusable");
                ERR_clear_error();
                SSL_CTX_free(c);
                return NULL;
        }
        if (client_ca) {
                if (SSL_CTX_load_verify_locations(c, client_ca, NULL) != 1) {
                        snprintf(err, err_len, "TLS client CA %s cannot be loaded", client_ca);
                        ERR_clear_error();
                        SSL_CTX_free(c);
                        return NULL;
                }
                SSL_CTX_set_verify(c, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
        }
        return c;
}

/* A throwaway self-signed certificate (P-256) for the badcert fault. */
static SSL_CTX *bad_ctx(void)
{
        EVP_PKEY *k = EVP_EC_gen("P-256");
        X509 *x = X509_new();
        SSL_CTX *c = SSL_CTX_new(TLS_server_method());
        int ok = k && x && c;
        if (ok) {
                X509_set_version(x, 2);
                ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
                X509_gmtime_adj(X509_getm_notBefore(x), -3600);
                X509_gmtime_adj(X509_getm_notAfter(x), 86400);
                X509_set_pubkey(x, k);
                X509_NAME *n = X509_get_subject_name(x);
                X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC,
                                           (const unsigned char *)"smsc-sim bad certificate", -1, -1, 0);
                X509_set_issuer_name(x, n);
                ok = X509_sign(x, k, EVP_sha256()) > 0 && SSL_CTX_use_certificate(c, x) == 1 &&
                     SSL_CTX_use_PrivateKey(c, k) == 1;
        }
        X509_free(x);
        EVP_PKEY_free(k);
        if (!ok) {
                SSL_CTX_free(c);
                return NULL;
        }
        return c;
}

/* The last value of key in section (NULL: none). */
static const char *cfg_val(const struct sim_cfg *cf, const char *section, const char *key)
{
        const char *v = NULL;
        for (size_t i = 0; cf && i < cf->n; i++)
                if (cf->e[i].key && !strcmp(cf->e[i].key, key) && !strcmp(cf->e[i].section, section))
                        v = cf->e[i].val;
        return v;
}

int sim_tls_setup(struct smsc_sim *s, const struct sim_options *o, const struct sim_cfg *cf,
                  char *err, size_t err_len)
{
        for (int i = 0; i < s->n_smsc; i++) {
                struct sim_smsc *m = &s->smsc[i];
                char site_sec[64];
                snprintf(site_sec, sizeof site_sec, "site %s", m->site);
                const char *cert = o->tls_cert, *key = o->tls_key, *cca = o->tls_client_ca;
                const char *const secs[] = { m->name, site_sec, "sim" };
                for (int j = 0; j < 3 && !cert; j++) {
                        cert = cfg_val(cf, secs[j], "tls_cert");
                        key = cfg_val(cf, secs[j], "tls_key");
                }
                for (int j = 0; j < 3 && !cca; j++)
                        cca = cfg_val(cf, secs[j], "tls_client_ca");
                if (!cert && !key)
                        continue;
                if (!cert || !key) {
                        snprintf(err, err_len, "%s: tls_cert and tls_key go together", m->name);
                        return -EINVAL;
                }
                m->tls_ctx = server_ctx(cert, key, cca, err, err_len);
                if (!m->tls_ctx)
                        return -EINVAL;
                if (!s->tls_bad_ctx && !(s->tls_bad_ctx = bad_ctx())) {
                        snprintf(err, err_len, "TLS: cannot make the bad certificate");
                        return -ENOMEM;
                }
        }
        return 0;
}

void sim_tls_free(struct smsc_sim *s)
{
        for (int i = 0; i < s->n_smsc; i++) {
                SSL_CTX_free(s->smsc[i].tls_ctx);
                s->smsc[i].tls_ctx = NULL;
        }
        SSL_CTX_free(s->tls_bad_ctx);
        s->tls_bad_ctx = NULL;
}

int sim_tls_accept(struct smsc_sim *s, struct sim_smsc *m, struct sim_sess *ss)
{
        if (!m->tls_ctx)
                return 0;
        if (m->f.tls_fault == SIM_TLS_STALL) {
                ss->tls_stall = 1;
                return 0;
        }
        SSL *ssl = SSL_new(m->f.tls_fault == SIM_TLS_BADCERT ? s->tls_bad_ctx : m->tls_ctx);
        BIO *rb = BIO_new(BIO_s_mem()), *wb = BIO_new(BIO_s_mem());
        if (!ssl || !rb || !wb) {
                SSL_free(ssl);
                BIO_free(rb);
                BIO_free(wb);
                return -ENOMEM;
        }
        BIO_set_mem_eof_return(rb, -1);
        SSL_set_bio(ssl, rb, wb);
        SSL_set_accept_state(ssl);
        ss->tls = ssl;
        return 0;
}

void sim_tls_end(struct sim_sess *ss)
{
        SSL_free(ss->tls);
        ss->tls = NULL;
        ss->tls_ready = ss->tls_stall = ss->tls_fin = 0;
        free(ss->cout);
        ss->cout = NULL;
        ss->cout_off = ss->cout_len = ss->cout_cap = 0;
}

/* Append records (or any raw bytes) to the session's record buffer. */
static int cout_append(struct sim_sess *ss, const uint8_t *p, size_t n)
{
        if (ss->cout_off && ss->cout_off == ss->cout_len)
                ss->cout_off = ss->cout_len = 0;
        if (ss->cout_len + n > ss->cout_cap) {
                if (ss->cout_off) {
                        memmove(ss->cout, ss->cout + ss->cout_off, ss->cout_len - ss->cout_off);
                        ss->cout_len -= ss->cout_off;
                        ss->cout_off = 0;
                }
                size_t nc = ss->cout_cap ? ss->cout_cap : 64 * 1024;
                while (nc < ss->cout_len + n)
                        nc *= 2;
                if (nc != ss->cout_cap) {
                        uint8_t *q = realloc(ss->cout, nc);
                        if (!q)
                                return -ENOMEM;
                        ss->cout = q;
                        ss->cout_cap = nc;
                }
        }
        memcpy(ss->cout + ss->cout_len, p, n);
        ss->cout_len += n;
        return 0;
}

/* Move what OpenSSL wrote into the record buffer. */
static int drain_wbio(struct sim_sess *ss)
{
        uint8_t buf[SIM_TLS_CHUNK];
        BIO *wb = SSL_get_wbio(ss->tls);
        size_t got;
        while (BIO_ctrl_pending(wb) > 0 && BIO_read_ex(wb, buf, sizeof buf, &got) == 1 && got)
                if (cout_append(ss, buf, got) < 0)
                        return -ENOMEM;
        return 0;
}

int sim_tls_encrypt(struct smsc_sim *s, struct sim_sess *ss)
{
        (void)s;
        if (!ss->tls)
                return 0;
        if (ss->tls_ready && ss->out_len > ss->out_off) {
                size_t done = 0;
                if (SSL_write_ex(ss->tls, ss->out + ss->out_off, ss->out_len - ss->out_off,
                                 &done) != 1) {
                        ERR_clear_error();
                        return -EIO;
                }
                ss->out_off = ss->out_len = 0;
        }
        return drain_wbio(ss);
}

int sim_tls_input(struct smsc_sim *s, struct sim_sess *ss, const uint8_t *p, size_t n)
{
        if (ss->tls_stall)
                return 0;       /* the stall fault: the ClientHello is never answered */
        size_t done;
        if (BIO_write_ex(SSL_get_rbio(ss->tls), p, n, &done) != 1)
                return -ENOMEM;
        if (!ss->tls_ready) {
                int r = SSL_do_handshake(ss->tls);
                if (r != 1) {
                        int e = SSL_get_error(ss->tls, r);
                        ERR_clear_error();
                        drain_wbio(ss);         /* the handshake's records, or its alert */
                        if (e == SSL_ERROR_WANT_READ)
                                return 0;
                        s->smsc[ss->smsc].c.tls_failed++;
                        return -EPROTO;         /* the alert goes out, then close */
                }
                ss->tls_ready = 1;
                s->smsc[ss->smsc].c.tls_handshakes++;
                if (SSL_session_reused(ss->tls))
                        s->smsc[ss->smsc].c.tls_resumed++;
                drain_wbio(ss);
        }
        return 1;
}

long sim_tls_read(struct smsc_sim *s, struct sim_sess *ss, uint8_t *buf, size_t cap)
{
        size_t got = 0;
        if (!ss->tls || !ss->tls_ready || cap == 0)
                return 0;
        int r = SSL_read_ex(ss->tls, buf, cap, &got);
        if (r == 1)
                return (long)got;
        int e = SSL_get_error(ss->tls, r);
        if (e == SSL_ERROR_ZERO_RETURN)
                s->smsc[ss->smsc].c.tls_close_notify++;
        ERR_clear_error();
        drain_wbio(ss);                         /* an alert of ours, a ticket */
        return e == SSL_ERROR_WANT_READ ? 0 : -1;
}

void sim_tls_alert(struct smsc_sim *s, struct sim_sess *ss)
{
        if (!ss->tls || !ss->tls_ready)
                return;
        sim_tls_encrypt(s, ss);                 /* what was due goes first */
        /* a record that cannot decrypt: OpenSSL answers it with a fatal
         * bad_record_mac alert, encrypted like any record of the session */
        uint8_t bogus[5 + 32] = { 0x17, 0x03, 0x03, 0x00, 0x20 };
        memset(bogus + 5, 0xA5, 32);
        size_t done;
        BIO_write_ex(SSL_get_rbio(ss->tls), bogus, sizeof bogus, &done);
        uint8_t sink[256];
        sim_tls_read(s, ss, sink, sizeof sink);
        ss->tls_fin = SIM_FIN_FAULT;
        ss->state = SIM_SESS_CLOSING;
        sim_sess_mark_dirty(s, ss);
}

void sim_tls_truncate(struct smsc_sim *s, struct sim_sess *ss)
{
        if (!ss->tls || !ss->tls_ready)
                return;
        sim_tls_encrypt(s, ss);
        uint8_t hdr[SMPP_HEADER_LEN];
        if (smx_pdu_encode_header_only(hdr, sizeof hdr, SMPP_ENQUIRE_LINK, SMPP_ESME_ROK,
                                       ss->seq++) <= 0)
                return;
        size_t done = 0;
        if (SSL_write_ex(ss->tls, hdr, sizeof hdr, &done) != 1) {
                ERR_clear_error();
                return;
        }
        uint8_t rec[256];
        size_t got = 0;
        BIO_read_ex(SSL_get_wbio(ss->tls), rec, sizeof rec, &got);
        if (got > 6)
                cout_append(ss, rec, got / 2);  /* half a record, then the end */
        ss->tls_fin = SIM_FIN_FAULT;
        ss->state = SIM_SESS_CLOSING;
        sim_sess_mark_dirty(s, ss);
}

void sim_tls_close_notify(struct sim_sess *ss)
{
        if (!ss->tls || !ss->tls_ready)
                return;
        SSL_shutdown(ss->tls);
        ERR_clear_error();
        drain_wbio(ss);
}

void sim_tls_after_fin(struct smsc_sim *s, struct sim_sess *ss, const uint8_t *p, size_t n)
{
        if (!ss->tls || !ss->tls_ready || ss->tls_fin == SIM_FIN_FAULT)
                return;
        size_t done;
        if (BIO_write_ex(SSL_get_rbio(ss->tls), p, n, &done) != 1)
                return;
        uint8_t sink[4096];
        while (sim_tls_read(s, ss, sink, sizeof sink) > 0)
                ;
        /* whatever OpenSSL answers now has nowhere to go: our side is shut */
        BIO *wb = SSL_get_wbio(ss->tls);
        (void)BIO_reset(wb);
}
