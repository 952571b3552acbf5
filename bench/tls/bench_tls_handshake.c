/* bench_tls_handshake: what a rebind storm costs in TLS handshakes. Our
 * client connection (src/tls, memory BIOs, exactly what a worker runs per
 * bind attempt) against an OpenSSL server in the same thread, bytes moved by
 * hand, N handshakes in a row: full ones (no session kept) and resumed ones
 * (the ticket of the previous handshake, as a rebind uses). Certificates
 * (P-256 CA and server) are made at start.
 *
 * Prints key=value lines: handshakes per second of the pair, and the
 * client's own CPU per handshake (thread CPU time spent inside our calls
 * only), whose inverse is how many bind attempts per second one worker
 * core could start. Not a test; bench/README.md holds the figures. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "tls/tls.h"
#include "tls_certs.h"

static uint64_t thread_ns(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
        return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t wall_ns(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t client_ns;      /* CPU spent in the client's calls */

/* One handshake: 0 done, -1 failed. */
static int handshake(struct smx_tls_ctx *ctx, SSL_CTX *sctx)
{
        struct smx_tls_conn t;
        uint64_t a = thread_ns();
        if (tls_conn_start(&t, ctx) < 0)
                return -1;
        client_ns += thread_ns() - a;
        SSL *srv = SSL_new(sctx);
        BIO *rb = BIO_new(BIO_s_mem()), *wb = BIO_new(BIO_s_mem());
        BIO_set_mem_eof_return(rb, -1);
        SSL_set_bio(srv, rb, wb);
        SSL_set_accept_state(srv);
        uint8_t buf[16384];
        int rc = -1;
        for (int round = 0; round < 20; round++) {
                size_t n;
                a = thread_ns();
                n = tls_conn_take(&t, buf, sizeof buf);
                client_ns += thread_ns() - a;
                if (n)
                        BIO_write(rb, buf, (int)n);
                SSL_do_handshake(srv);
                if (SSL_is_init_finished(srv)) {
                        size_t r;
                        SSL_read_ex(srv, buf, sizeof buf, &r);   /* nothing: sends tickets */
                }
                ERR_clear_error();
                int k;
                a = thread_ns();
                while ((k = BIO_read(wb, buf, sizeof buf)) > 0)
                        tls_conn_input(&t, buf, (size_t)k);
                if (t.state == TLS_HANDSHAKE)
                        tls_conn_handshake(&t);
                if (t.state == TLS_OPEN) {
                        uint8_t pt[64];
                        tls_conn_read(&t, pt, sizeof pt);       /* takes the tickets */
                }
                client_ns += thread_ns() - a;
                if (t.state == TLS_OPEN && SSL_is_init_finished(srv)) {
                        rc = 0;
                        break;
                }
                if (t.state == TLS_FAILED)
                        break;
        }
        a = thread_ns();
        tls_conn_end(&t);
        client_ns += thread_ns() - a;
        SSL_free(srv);
        return rc;
}

static void run(const char *name, struct smx_tls_ctx *ctx, SSL_CTX *sctx, int n, int resume)
{
        client_ns = 0;
        uint64_t resumed0 = ctx->resumed;
        uint64_t w0 = wall_ns();
        int ok = 0;
        for (int i = 0; i < n; i++) {
                if (!resume && ctx->resume) {
                        SSL_SESSION_free(ctx->resume);
                        ctx->resume = NULL;
                }
                ok += handshake(ctx, sctx) == 0;
        }
        double s = (double)(wall_ns() - w0) / 1e9;
        printf("%s_handshakes=%d\n%s_ok=%d\n%s_resumed=%llu\n", name, n, name, ok, name,
               (unsigned long long)(ctx->resumed - resumed0));
        printf("%s_pair_per_s=%.0f\n%s_client_us=%.1f\n%s_client_per_s=%.0f\n", name, ok / s, name,
               (double)client_ns / 1000.0 / (ok ? ok : 1), name,
               client_ns ? ok * 1e9 / (double)client_ns : 0.0);
}

int main(int argc, char **argv)
{
        int n = argc > 1 ? atoi(argv[1]) : 2000;
        char dir[] = "/tmp/smx-tls-bench-XXXXXX";
        if (!mkdtemp(dir))
                return 1;
        struct tc_cert ca, srv;
        if (tc_make(dir, "ca", "bench CA", NULL, -3600, 86400, NULL, &ca) < 0 ||
            tc_make(dir, "srv", "localhost", "DNS:localhost,IP:127.0.0.1", -3600, 86400, &ca,
                    &srv) < 0) {
                tc_rmdir(dir);
                return 1;
        }
        SSL_CTX *sctx = SSL_CTX_new(TLS_server_method());
        SSL_CTX_use_certificate(sctx, srv.x);
        SSL_CTX_use_PrivateKey(sctx, srv.key);
        struct smx_tls_cfg cfg = { .ca_file = ca.pem };
        struct smx_tls_ctx ctx;
        char err[256];
        if (tls_ctx_init(&ctx, &cfg, "localhost", err, sizeof err) < 0) {
                fprintf(stderr, "bench_tls_handshake: %s\n", err);
                tc_rmdir(dir);
                return 1;
        }
        printf("cert=P-256 ECDSA\nversion=TLSv1.3\n");
        run("full", &ctx, sctx, n, 0);
        run("resumed", &ctx, sctx, n, 1);
        tls_ctx_fini(&ctx);
        SSL_CTX_free(sctx);
        tc_free(&ca);
        tc_free(&srv);
        tc_rmdir(dir);
        return 0;
}
