/* One SMSC's TLS settings and the SSL_CTX made from them (see tls.h).
 *
 * The context is built by the worker that owns the bind, the first time it
 * connects, so it belongs to that thread like the rest of the bind; the
 * client checks the same settings when it is created (tls_cfg_check), so a
 * missing CA file or a key that does not match its certificate is a config
 * error, not a bind that never comes up. Verification is on unless the SMSC
 * says `insecure`: the chain against ca_file/ca_path (or the system store),
 * and the host name (or server_name) against the certificate. The client
 * keeps the last session it was given (a TLS 1.3 ticket or a TLS 1.2
 * session) to resume the next bind with it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "tls/tls.h"

static char *dup_or_null(const char *s, int *oom)
{
        if (!s || !*s)
                return NULL;
        char *d = strdup(s);
        if (!d)
                *oom = 1;
        return d;
}

struct smx_tls_cfg *tls_cfg_new(const struct smx_smsc_config *s, int *oom)
{
        *oom = 0;
        if (!s->tls)
                return NULL;
        struct smx_tls_cfg *t = calloc(1, sizeof *t);
        if (!t) {
                *oom = 1;
                return NULL;
        }
        t->ca_file = dup_or_null(s->ca_file, oom);
        t->ca_path = dup_or_null(s->ca_path, oom);
        t->cert_file = dup_or_null(s->cert_file, oom);
        t->key_file = dup_or_null(s->key_file, oom);
        t->server_name = dup_or_null(s->server_name, oom);
        t->insecure = s->insecure != 0;
        if (*oom) {
                tls_cfg_free(t);
                return NULL;
        }
        return t;
}

struct smx_tls_cfg *tls_cfg_new_fields(const char *ca_file, const char *ca_path,
                                       const char *cert_file, const char *key_file,
                                       const char *server_name, int insecure, int *oom)
{
        *oom = 0;
        struct smx_tls_cfg *t = calloc(1, sizeof *t);
        if (!t) {
                *oom = 1;
                return NULL;
        }
        t->ca_file = dup_or_null(ca_file, oom);
        t->ca_path = dup_or_null(ca_path, oom);
        t->cert_file = dup_or_null(cert_file, oom);
        t->key_file = dup_or_null(key_file, oom);
        t->server_name = dup_or_null(server_name, oom);
        t->insecure = insecure != 0;
        if (*oom) {
                tls_cfg_free(t);
                return NULL;
        }
        return t;
}

void tls_cfg_free(struct smx_tls_cfg *t)
{
        if (!t)
                return;
        free(t->ca_file);
        free(t->ca_path);
        free(t->cert_file);
        free(t->key_file);
        free(t->server_name);
        free(t);
}

/* OpenSSL's reason for the last failure, without the queue's other lines. */
static const char *ossl_reason(void)
{
        unsigned long e = ERR_peek_last_error();
        const char *r = e ? ERR_reason_error_string(e) : NULL;
        return r ? r : "unknown error";
}

/* A client SSL_CTX is handed each session the server gives: keep the newest
 * for the next connection of this SMSC. */
static int on_new_session(SSL *ssl, SSL_SESSION *sess)
{
        struct smx_tls_ctx *ctx = SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl));
        if (!ctx || !SSL_SESSION_is_resumable(sess))
                return 0;
        if (ctx->resume)
                SSL_SESSION_free(ctx->resume);
        ctx->resume = sess;
        return 1;       /* we hold the reference now */
}

static SSL_CTX *build(const struct smx_tls_cfg *cfg, char *err, size_t err_len)
{
        ERR_clear_error();
        SSL_CTX *c = SSL_CTX_new(TLS_client_method());
        if (!c) {
                snprintf(err, err_len, "TLS context: %s", ossl_reason());
                return NULL;
        }
        SSL_CTX_set_min_proto_version(c, TLS1_2_VERSION);
        /* renegotiation refused (TLS 1.2; TLS 1.3 has none); no compression */
        SSL_CTX_set_options(c, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION);
        SSL_CTX_set_mode(c, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
        SSL_CTX_set_session_cache_mode(c, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
        SSL_CTX_sess_set_new_cb(c, on_new_session);
        if (cfg->ca_file || cfg->ca_path) {
                if (SSL_CTX_load_verify_locations(c, cfg->ca_file, cfg->ca_path) != 1) {
                        snprintf(err, err_len, "CA %s%s%s cannot be loaded: %s",
                                 cfg->ca_file ? cfg->ca_file : "",
                                 cfg->ca_file && cfg->ca_path ? " / " : "",
                                 cfg->ca_path ? cfg->ca_path : "", ossl_reason());
                        SSL_CTX_free(c);
                        return NULL;
                }
        } else if (SSL_CTX_set_default_verify_paths(c) != 1) {
                snprintf(err, err_len, "the system CA store cannot be loaded: %s", ossl_reason());
                SSL_CTX_free(c);
                return NULL;
        }
        if (cfg->cert_file || cfg->key_file) {
                if (!cfg->cert_file || !cfg->key_file) {
                        snprintf(err, err_len, "cert_file and key_file go together");
                        SSL_CTX_free(c);
                        return NULL;
                }
                if (SSL_CTX_use_certificate_chain_file(c, cfg->cert_file) != 1) {
                        snprintf(err, err_len, "cert_file %s cannot be loaded: %s",
                                 cfg->cert_file, ossl_reason());
                        SSL_CTX_free(c);
                        return NULL;
                }
                if (SSL_CTX_use_PrivateKey_file(c, cfg->key_file, SSL_FILETYPE_PEM) != 1) {
                        if (ERR_GET_REASON(ERR_peek_last_error()) == X509_R_KEY_VALUES_MISMATCH)
                                snprintf(err, err_len, "key_file %s does not match cert_file %s",
                                         cfg->key_file, cfg->cert_file);
                        else
                                snprintf(err, err_len, "key_file %s cannot be loaded: %s",
                                         cfg->key_file, ossl_reason());
                        SSL_CTX_free(c);
                        return NULL;
                }
                if (SSL_CTX_check_private_key(c) != 1) {
                        snprintf(err, err_len, "key_file %s does not match cert_file %s",
                                 cfg->key_file, cfg->cert_file);
                        SSL_CTX_free(c);
                        return NULL;
                }
        }
        SSL_CTX_set_verify(c, cfg->insecure ? SSL_VERIFY_NONE : SSL_VERIFY_PEER, NULL);
        return c;
}

int tls_cfg_check(const struct smx_smsc_config *s, char *err, size_t err_len)
{
        if (!s->tls) {
                if (s->ca_file || s->ca_path || s->cert_file || s->key_file || s->server_name ||
                    s->insecure) {
                        snprintf(err, err_len, "TLS settings given but tls is off");
                        return -1;
                }
                return 0;
        }
        if (s->server_name && (!*s->server_name || strlen(s->server_name) > 253)) {
                snprintf(err, err_len, "server_name must be 1..253 characters");
                return -1;
        }
        int oom;
        struct smx_tls_cfg *t = tls_cfg_new(s, &oom);
        if (!t) {
                snprintf(err, err_len, "out of memory");
                return -1;
        }
        SSL_CTX *c = build(t, err, err_len);
        tls_cfg_free(t);
        if (!c)
                return -1;
        SSL_CTX_free(c);
        return 0;
}

int tls_ctx_init(struct smx_tls_ctx *ctx, const struct smx_tls_cfg *cfg, const char *host,
                 char *err, size_t err_len)
{
        memset(ctx, 0, sizeof *ctx);
        SSL_CTX *c = build(cfg, err, err_len);
        if (!c)
                return -1;
        SSL_CTX_set_app_data(c, ctx);
        ctx->ssl_ctx = c;
        const char *sn = cfg->server_name ? cfg->server_name : host;
        snprintf(ctx->server_name, sizeof ctx->server_name, "%s", sn ? sn : "");
        ctx->verify = !cfg->insecure;
        return 0;
}

void tls_ctx_fini(struct smx_tls_ctx *ctx)
{
        if (ctx->resume)
                SSL_SESSION_free(ctx->resume);
        if (ctx->ssl_ctx)
                SSL_CTX_free(ctx->ssl_ctx);
        ctx->resume = ctx->ssl_ctx = NULL;
}

int tls_ktls_probe(const char **why)
{
        FILE *f = fopen("/proc/sys/net/ipv4/tcp_available_ulp", "r");
        char line[256] = "";
        if (f) {
                if (!fgets(line, sizeof line, f))
                        line[0] = '\0';
                fclose(f);
        }
        /* the list is space-separated: look for the word "tls" */
        int has = 0;
        char *save = NULL;
        for (char *p = strtok_r(line, " \n", &save); p; p = strtok_r(NULL, " \n", &save))
                has |= !strcmp(p, "tls");
        if (why)
                *why = has ? "kernel offers kTLS; records are still made by OpenSSL in user "
                             "space (memory buffers on the io_uring path)"
                           : "kernel has no kTLS (no tls ULP); records made by OpenSSL in user "
                             "space (memory buffers on the io_uring path)";
        return has;
}
