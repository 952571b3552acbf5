/* src/tls on its own: our client connection (memory BIOs) against an
 * OpenSSL server in the same process, bytes moved by hand between them, so
 * each failure can be made exactly and its reason checked: verification
 * (unknown CA, wrong host, expired, insecure), client certificates, a peer
 * that is not TLS, close_notify, a truncated record, session resumption,
 * renegotiation refused, and the settings check. Certificates are made by
 * the test (tests/tls_certs.h) in a temporary directory. */
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "testlib.h"
#include "tls_certs.h"
#include "tls/tls.h"

static char dir[64];
static struct tc_cert ca, other_ca, good, expired, wronghost, client, rogue;

/* A server: the certificate it presents, optionally demanding a client
 * certificate from require_ca, optionally at most TLS 1.2. */
static SSL *server_new(const struct tc_cert *cert, const struct tc_cert *require_ca, int max12)
{
        SSL_CTX *c = SSL_CTX_new(TLS_server_method());
        SSL_CTX_use_certificate(c, cert->x);
        SSL_CTX_use_PrivateKey(c, cert->key);
        if (require_ca) {
                X509_STORE_add_cert(SSL_CTX_get_cert_store(c), require_ca->x);
                SSL_CTX_set_verify(c, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
        }
        if (max12)
                SSL_CTX_set_max_proto_version(c, TLS1_2_VERSION);
        SSL *s = SSL_new(c);
        SSL_CTX_free(c);        /* the SSL keeps its reference */
        BIO *rb = BIO_new(BIO_s_mem()), *wb = BIO_new(BIO_s_mem());
        BIO_set_mem_eof_return(rb, -1);
        SSL_set_bio(s, rb, wb);
        SSL_set_accept_state(s);
        return s;
}

/* Move bytes both ways until nothing moves; the server's handshake and
 * reads are driven as it goes (what it read is appended to got). */
static void pump(struct smx_tls_conn *t, SSL *srv, char *got, size_t cap)
{
        uint8_t buf[65536];
        for (int round = 0; round < 50; round++) {
                int moved = 0;
                size_t n = tls_conn_take(t, buf, sizeof buf);
                if (n) {
                        BIO_write(SSL_get_rbio(srv), buf, (int)n);
                        moved = 1;
                }
                if (!SSL_is_init_finished(srv))
                        SSL_do_handshake(srv);
                else {
                        size_t r = 0, len = got ? strlen(got) : 0;
                        char tmp[4096];
                        while (SSL_read_ex(srv, tmp, sizeof tmp - 1, &r) == 1 && got) {
                                if (len + r < cap) {
                                        memcpy(got + len, tmp, r);
                                        len += r;
                                        got[len] = '\0';
                                }
                        }
                }
                ERR_clear_error();
                BIO *wb = SSL_get_wbio(srv);
                while ((n = (size_t)BIO_read(wb, buf, sizeof buf)) > 0 && n <= sizeof buf) {
                        tls_conn_input(t, buf, n);
                        moved = 1;
                }
                if (t->state == TLS_HANDSHAKE)
                        tls_conn_handshake(t);
                if (!moved)
                        break;
        }
}

/* A client context for `server_name` (NULL: "localhost") trusting ca_pem. */
static int client_ctx(struct smx_tls_ctx *ctx, const char *ca_pem, const char *server_name,
                      const struct tc_cert *cert, int insecure)
{
        struct smx_tls_cfg cfg = { 0 };
        cfg.ca_file = (char *)ca_pem;
        cfg.server_name = (char *)server_name;
        cfg.insecure = insecure;
        if (cert) {
                cfg.cert_file = (char *)cert->pem;
                cfg.key_file = (char *)cert->keyfile;
        }
        char err[256] = "";
        int rc = tls_ctx_init(ctx, &cfg, "localhost", err, sizeof err);
        if (rc < 0)
                printf("# tls_ctx_init: %s\n", err);
        return rc;
}

/* Connect to a server presenting cert; returns the client's state after. */
static enum tls_conn_state connect_to(struct smx_tls_ctx *ctx, struct smx_tls_conn *t, SSL *srv)
{
        CHECK_EQ(tls_conn_start(t, ctx), 0);
        pump(t, srv, NULL, 0);
        return t->state;
}

static void test_handshake_verified_and_data_both_ways(void)
{
        struct smx_tls_ctx ctx;
        struct smx_tls_conn t;
        CHECK_EQ(client_ctx(&ctx, ca.pem, NULL, NULL, 0), 0);
        SSL *srv = server_new(&good, NULL, 0);
        CHECK_EQ(connect_to(&ctx, &t, srv), TLS_OPEN);
        CHECK_STR(t.version, "TLSv1.3");
        CHECK_EQ(t.resumed, 0);
        char got[256] = "";
        CHECK_EQ(tls_conn_write(&t, (const uint8_t *)"bind_transmitter", 16), 0);
        pump(&t, srv, got, sizeof got);
        CHECK_STR(got, "bind_transmitter");
        size_t w = 0;
        CHECK_EQ(SSL_write_ex(srv, "bind_transmitter_resp", 21, &w), 1);
        pump(&t, srv, NULL, 0);
        uint8_t buf[64];
        long n = tls_conn_read(&t, buf, sizeof buf);
        CHECK_EQ(n, 21);
        CHECK(n == 21 && !memcmp(buf, "bind_transmitter_resp", 21));
        CHECK_EQ(tls_conn_read(&t, buf, sizeof buf), 0);   /* nothing more: not an error */
        CHECK_EQ(ctx.handshakes, 1);
        tls_conn_end(&t);
        SSL_free(srv);
        tls_ctx_fini(&ctx);
}

static void expect_failure(const char *ca_pem, const char *server_name,
                           const struct tc_cert *server_cert, const char *reason)
{
        struct smx_tls_ctx ctx;
        struct smx_tls_conn t;
        CHECK_EQ(client_ctx(&ctx, ca_pem, server_name, NULL, 0), 0);
        SSL *srv = server_new(server_cert, NULL, 0);
        CHECK_EQ(connect_to(&ctx, &t, srv), TLS_FAILED);
        CHECK_STR(t.reason, reason);
        CHECK(t.detail[0] != '\0');
        CHECK(!strstr(t.detail, "BEGIN"));
        CHECK_EQ(ctx.handshakes, 0);
        tls_conn_end(&t);
        SSL_free(srv);
        tls_ctx_fini(&ctx);
}

static void test_unknown_ca_is_named(void)
{
        expect_failure(other_ca.pem, NULL, &good, "tls: certificate from unknown CA");
}

static void test_wrong_host_is_named(void)
{
        expect_failure(ca.pem, NULL, &wronghost, "tls: certificate is for another host");
        expect_failure(ca.pem, "smsc.example", &good, "tls: certificate is for another host");
}

static void test_expired_certificate_is_named(void)
{
        expect_failure(ca.pem, NULL, &expired, "tls: certificate expired");
}

static void test_insecure_skips_verification(void)
{
        struct smx_tls_ctx ctx;
        struct smx_tls_conn t;
        CHECK_EQ(client_ctx(&ctx, other_ca.pem, "smsc.example", NULL, 1), 0);
        SSL *srv = server_new(&expired, NULL, 0);
        CHECK_EQ(connect_to(&ctx, &t, srv), TLS_OPEN);
        tls_conn_end(&t);
        SSL_free(srv);
        tls_ctx_fini(&ctx);
}

/* TLS 1.3: the client finishes first; the server's verdict on our
 * certificate arrives as an alert at the first read. */
static enum tls_conn_state with_client_cert(const struct tc_cert *cert, char *reason, size_t cap)
{
        struct smx_tls_ctx ctx;
        struct smx_tls_conn t;
        CHECK_EQ(client_ctx(&ctx, ca.pem, NULL, cert, 0), 0);
        SSL *srv = server_new(&good, &ca, 0);
        connect_to(&ctx, &t, srv);
        if (t.state == TLS_OPEN) {
                tls_conn_write(&t, (const uint8_t *)"x", 1);
                pump(&t, srv, NULL, 0);
                uint8_t buf[64];
                tls_conn_read(&t, buf, sizeof buf);
        }
        enum tls_conn_state st = t.state;
        snprintf(reason, cap, "%s", t.reason);
        tls_conn_end(&t);
        SSL_free(srv);
        tls_ctx_fini(&ctx);
        return st;
}

static void test_client_certificate_accepted_or_refused(void)
{
        char reason[64];
        CHECK_EQ(with_client_cert(&client, reason, sizeof reason), TLS_OPEN);
        CHECK_EQ(with_client_cert(NULL, reason, sizeof reason), TLS_FAILED);
        CHECK_STR(reason, "tls: client certificate refused");
        CHECK_EQ(with_client_cert(&rogue, reason, sizeof reason), TLS_FAILED);
        CHECK_STR(reason, "tls: client certificate refused");
}

static void test_plain_smpp_peer_is_not_tls(void)
{
        struct smx_tls_ctx ctx;
        struct smx_tls_conn t;
        CHECK_EQ(client_ctx(&ctx, ca.pem, NULL, NULL, 0), 0);
        CHECK_EQ(tls_conn_start(&t, &ctx), 0);
        uint8_t drop[4096];
        tls_conn_take(&t, drop, sizeof drop);
        /* what a plain SMPP server answers a ClientHello with: generic_nack */
        static const uint8_t nack[16] = { 0, 0, 0, 16, 0x80, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0 };
        tls_conn_input(&t, nack, sizeof nack);
        CHECK_EQ(tls_conn_handshake(&t), -1);
        CHECK_STR(t.reason, "tls: SMSC does not speak TLS");
        tls_conn_end(&t);
        /* a plain server that just closes */
        CHECK_EQ(tls_conn_start(&t, &ctx), 0);
        CHECK_STR(tls_conn_eof_reason(&t), "tls: SMSC closed during handshake");
        tls_conn_end(&t);
        tls_ctx_fini(&ctx);
}

static void test_close_notify_reaches_the_server(void)
{
        struct smx_tls_ctx ctx;
        struct smx_tls_conn t;
        CHECK_EQ(client_ctx(&ctx, ca.pem, NULL, NULL, 0), 0);
        SSL *srv = server_new(&good, NULL, 0);
        CHECK_EQ(connect_to(&ctx, &t, srv), TLS_OPEN);
        tls_conn_shutdown(&t);
        CHECK(tls_conn_pending(&t) > 0);
        pump(&t, srv, NULL, 0);
        CHECK(SSL_get_shutdown(srv) & SSL_RECEIVED_SHUTDOWN);
        tls_conn_end(&t);
        SSL_free(srv);
        tls_ctx_fini(&ctx);
}

static void test_truncated_record_and_alert_are_named(void)
{
        struct smx_tls_ctx ctx;
        struct smx_tls_conn t;
        CHECK_EQ(client_ctx(&ctx, ca.pem, NULL, NULL, 0), 0);
        SSL *srv = server_new(&good, NULL, 0);
        CHECK_EQ(connect_to(&ctx, &t, srv), TLS_OPEN);
        uint8_t rec[512], buf[64];
        size_t w = 0;
        SSL_write_ex(srv, "enquire_link....", 16, &w);
        int n = BIO_read(SSL_get_wbio(srv), rec, sizeof rec);
        CHECK(n > 10);
        tls_conn_input(&t, rec, (size_t)n / 2);
        CHECK_EQ(tls_conn_read(&t, buf, sizeof buf), 0);
        CHECK_STR(tls_conn_eof_reason(&t), "tls: truncated record");
        tls_conn_end(&t);
        SSL_free(srv);
        /* a record that fails its integrity check: named, and the server's
         * fatal alert in answer to ours is named on its side too */
        srv = server_new(&good, NULL, 0);
        CHECK_EQ(connect_to(&ctx, &t, srv), TLS_OPEN);
        SSL_write_ex(srv, "enquire_link....", 16, &w);
        n = BIO_read(SSL_get_wbio(srv), rec, sizeof rec);
        rec[n - 3] ^= 0x55;
        tls_conn_input(&t, rec, (size_t)n);
        CHECK_EQ(tls_conn_read(&t, buf, sizeof buf), -1);
        CHECK_STR(t.reason, "tls: bad record (integrity check)");
        tls_conn_end(&t);
        SSL_free(srv);
        /* the server's fatal alert mid-session */
        srv = server_new(&good, NULL, 0);
        CHECK_EQ(connect_to(&ctx, &t, srv), TLS_OPEN);
        uint8_t bogus[37] = { 0x17, 0x03, 0x03, 0x00, 0x20 };
        BIO_write(SSL_get_rbio(srv), bogus, sizeof bogus);
        char sink[64];
        size_t r;
        CHECK_EQ(SSL_read_ex(srv, sink, sizeof sink, &r), 0);
        ERR_clear_error();
        pump(&t, srv, NULL, 0);
        CHECK_EQ(tls_conn_read(&t, buf, sizeof buf), -1);
        CHECK_STR(t.reason, "tls: SMSC sent alert bad record mac");
        tls_conn_end(&t);
        SSL_free(srv);
        tls_ctx_fini(&ctx);
}

static void test_session_resumed_on_the_next_connection(void)
{
        struct smx_tls_ctx ctx;
        struct smx_tls_conn t;
        CHECK_EQ(client_ctx(&ctx, ca.pem, NULL, NULL, 0), 0);
        SSL_CTX *sctx = NULL;
        SSL *srv = server_new(&good, NULL, 0);
        sctx = SSL_get_SSL_CTX(srv);
        SSL_CTX_up_ref(sctx);
        CHECK_EQ(connect_to(&ctx, &t, srv), TLS_OPEN);
        uint8_t buf[64];
        tls_conn_read(&t, buf, sizeof buf);   /* takes the tickets */
        CHECK(ctx.resume != NULL);
        tls_conn_end(&t);
        SSL_free(srv);
        /* same server context (its ticket keys) */
        srv = SSL_new(sctx);
        BIO *rb = BIO_new(BIO_s_mem()), *wb = BIO_new(BIO_s_mem());
        BIO_set_mem_eof_return(rb, -1);
        SSL_set_bio(srv, rb, wb);
        SSL_set_accept_state(srv);
        CHECK_EQ(connect_to(&ctx, &t, srv), TLS_OPEN);
        CHECK_EQ(t.resumed, 1);
        CHECK_EQ(ctx.handshakes, 2);
        CHECK_EQ(ctx.resumed, 1);
        tls_conn_end(&t);
        SSL_free(srv);
        SSL_CTX_free(sctx);
        tls_ctx_fini(&ctx);
}

static void test_renegotiation_refused(void)
{
        struct smx_tls_ctx ctx;
        struct smx_tls_conn t;
        CHECK_EQ(client_ctx(&ctx, ca.pem, NULL, NULL, 0), 0);
        SSL *srv = server_new(&good, NULL, 1);
        CHECK_EQ(connect_to(&ctx, &t, srv), TLS_OPEN);
        CHECK_STR(t.version, "TLSv1.2");
        CHECK_EQ(SSL_renegotiate(srv), 1);
        SSL_do_handshake(srv);          /* queues the HelloRequest */
        ERR_clear_error();
        pump(&t, srv, NULL, 0);
        uint8_t buf[64];
        tls_conn_read(&t, buf, sizeof buf);
        pump(&t, srv, NULL, 0);
        CHECK_EQ(ctx.handshakes, 1);    /* no second handshake took place */
        CHECK_EQ(SSL_renegotiate_pending(srv), 1);
        tls_conn_end(&t);
        SSL_free(srv);
        tls_ctx_fini(&ctx);
}

static void test_settings_checked_at_create(void)
{
        struct smx_smsc_config s = { .name = "x", .host = "h", .port = 1, .tls = 1 };
        char err[256];
        CHECK_EQ(tls_cfg_check(&s, err, sizeof err), 0);     /* the system store */
        s.ca_file = "/nonexistent/ca.pem";
        CHECK_EQ(tls_cfg_check(&s, err, sizeof err), -1);
        CHECK(strstr(err, "/nonexistent/ca.pem") != NULL);
        s.ca_file = ca.pem;
        s.cert_file = client.pem;
        CHECK_EQ(tls_cfg_check(&s, err, sizeof err), -1);    /* no key */
        s.key_file = rogue.keyfile;
        CHECK_EQ(tls_cfg_check(&s, err, sizeof err), -1);    /* not its key */
        CHECK(strstr(err, "does not match") != NULL);
        CHECK(!strstr(err, "BEGIN"));
        s.key_file = client.keyfile;
        CHECK_EQ(tls_cfg_check(&s, err, sizeof err), 0);
        struct smx_smsc_config plain = { .name = "x", .host = "h", .port = 1, .ca_file = ca.pem };
        CHECK_EQ(tls_cfg_check(&plain, err, sizeof err), -1); /* TLS settings, tls off */
}

int main(void)
{
        snprintf(dir, sizeof dir, "/tmp/smx-tls-unit-XXXXXX");
        if (!mkdtemp(dir)) {
                printf("Bail out! mkdtemp\n");
                return 1;
        }
        const char *san = "DNS:localhost,IP:127.0.0.1";
        if (tc_make(dir, "ca", "test CA", NULL, -3600, 86400, NULL, &ca) < 0 ||
            tc_make(dir, "other_ca", "other CA", NULL, -3600, 86400, NULL, &other_ca) < 0 ||
            tc_make(dir, "good", "localhost", san, -3600, 86400, &ca, &good) < 0 ||
            tc_make(dir, "expired", "localhost", san, -172800, -86400, &ca, &expired) < 0 ||
            tc_make(dir, "wronghost", "other", "DNS:other.example", -3600, 86400, &ca,
                    &wronghost) < 0 ||
            tc_make(dir, "client", "esme", NULL, -3600, 86400, &ca, &client) < 0 ||
            tc_make(dir, "rogue", "rogue", NULL, -3600, 86400, &other_ca, &rogue) < 0) {
                printf("Bail out! certificates\n");
                tc_rmdir(dir);
                return 1;
        }
        RUN(test_handshake_verified_and_data_both_ways);
        RUN(test_unknown_ca_is_named);
        RUN(test_wrong_host_is_named);
        RUN(test_expired_certificate_is_named);
        RUN(test_insecure_skips_verification);
        RUN(test_client_certificate_accepted_or_refused);
        RUN(test_plain_smpp_peer_is_not_tls);
        RUN(test_close_notify_reaches_the_server);
        RUN(test_truncated_record_and_alert_are_named);
        RUN(test_session_resumed_on_the_next_connection);
        RUN(test_renegotiation_refused);
        RUN(test_settings_checked_at_create);
        struct tc_cert *all[] = { &ca, &other_ca, &good, &expired, &wronghost, &client, &rogue };
        for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
                tc_free(all[i]);
        tc_rmdir(dir);
        return t_done();
}
