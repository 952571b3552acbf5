/* TLS on the MT path: peer verification is on by default, --ca-file makes a
 * private CA trusted, --insecure turns verification off. The peer is a
 * libmicrohttpd TLS server started here with a certificate made by openssl
 * for this run. */
#include <microhttpd.h>
#include <pthread.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "http/http_mt.h"
#include "http_tlib.h"
#include "mhd_tlib.h"
#include "smsmux.h"
#include "testlib.h"

static char dir[64], cert_path[96], key_path[96];
static char *cert_pem, *key_pem;
static struct MHD_Daemon *d;
static uint16_t port;
static char url[96];

static char *slurp(const char *path)
{
        FILE *f = fopen(path, "r");
        if (!f)
                return NULL;
        static char buf[2][16384];
        static int k;
        char *b = buf[k++ & 1];
        size_t n = fread(b, 1, sizeof buf[0] - 1, f);
        b[n] = 0;
        fclose(f);
        return b;
}

static enum MHD_Result answer(void *cls, struct MHD_Connection *c, const char *u, const char *m,
                              const char *v, const char *up, size_t *up_size, void **con_cls)
{
        (void)cls;
        (void)u;
        (void)m;
        (void)v;
        (void)up;
        if (t_mhd_reading(con_cls, up_size))
                return MHD_YES;
        static const char ok[] = "result_code=0";
        struct MHD_Response *r = MHD_create_response_from_buffer(sizeof ok - 1, (void *)ok,
                                                                 MHD_RESPMEM_PERSISTENT);
        enum MHD_Result ret = MHD_queue_response(c, 200, r);
        MHD_destroy_response(r);
        return ret;
}

static int setup(void)
{
        snprintf(dir, sizeof dir, "/tmp/smx-tls-%d", (int)getpid());
        mkdir(dir, 0700);
        snprintf(cert_path, sizeof cert_path, "%s/cert.pem", dir);
        snprintf(key_path, sizeof key_path, "%s/key.pem", dir);
        char cmd[512];
        snprintf(cmd, sizeof cmd,
                 "openssl req -x509 -newkey rsa:2048 -nodes -keyout %s -out %s -days 1 "
                 "-subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 >/dev/null 2>&1",
                 key_path, cert_path);
        if (system(cmd) != 0)
                return -1;
        cert_pem = slurp(cert_path);
        key_pem = slurp(key_path);
        if (!cert_pem || !key_pem)
                return -1;
        struct sockaddr_in sin;
        memset(&sin, 0, sizeof sin);
        sin.sin_family = AF_INET;
        inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
        d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_TLS, 0, NULL,
                             NULL, answer, NULL, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sin,
                             MHD_OPTION_HTTPS_MEM_KEY, key_pem, MHD_OPTION_HTTPS_MEM_CERT, cert_pem,
                             MHD_OPTION_END);
        if (!d)
                return -1;
        port = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT)->port;
        snprintf(url, sizeof url, "https://127.0.0.1:%u/httpapi/receiver", port);
        return 0;
}

static struct {
        pthread_mutex_t mu;
        int given, done;
        struct http_mt_outcome out;
} H = { .mu = PTHREAD_MUTEX_INITIALIZER };

static int pull(void *arg, struct http_buf *body, char msgid[HTTP_MSGID_MAX + 1], uint64_t *ref)
{
        (void)arg;
        pthread_mutex_lock(&H.mu);
        int give = !H.given;
        H.given = 1;
        pthread_mutex_unlock(&H.mu);
        if (!give)
                return 0;
        snprintf(msgid, HTTP_MSGID_MAX + 1, "tls-1");
        http_form_add(body, "message_id", "tls-1", 5);
        *ref = 1;
        return 1;
}

static void done(void *arg, uint64_t ref, const char *msgid, const struct http_mt_outcome *o)
{
        (void)arg;
        (void)ref;
        (void)msgid;
        pthread_mutex_lock(&H.mu);
        H.done++;
        H.out = *o;
        pthread_mutex_unlock(&H.mu);
}

static const struct http_mt_ops ops = { .pull = pull, .done = done };

/* Send one MT with the given TLS settings; its outcome. */
static struct http_mt_outcome one(const char *ca, int insecure)
{
        H.given = H.done = 0;
        struct http_mt_config c;
        http_mt_config_init(&c);
        c.urls[0] = url;
        c.n_urls = 1;
        c.ca_file = ca;
        c.insecure = insecure;
        c.retry_backoff_ms = 50;
        c.max_attempts = 2;
        struct http_mt *m = NULL;
        char err[160];
        if (http_mt_create(&c, &ops, NULL, &m, err, sizeof err) == 0) {
                http_mt_start(m);
                uint64_t end = t_now_ms() + 5000;
                while (!H.done && t_now_ms() < end)
                        t_sleep_ms(5);
                http_mt_destroy(m);
        }
        CHECK_EQ(H.done, 1);
        return H.out;
}

static void test_tls_peer_verification_is_on_by_default(void)
{
        struct http_mt_outcome o = one(NULL, 0);
        CHECK_EQ(o.accepted, 0);
        CHECK_EQ(o.reason, SMX_FAIL_ATTEMPTS);
        CHECK_EQ(o.attempts, 2);
}

static void test_tls_ca_file_makes_the_private_ca_trusted(void)
{
        struct http_mt_outcome o = one(cert_path, 0);
        CHECK_EQ(o.accepted, 1);
        CHECK_EQ(o.attempts, 1);
}

static void test_tls_insecure_skips_verification(void)
{
        struct http_mt_outcome o = one(NULL, 1);
        CHECK_EQ(o.accepted, 1);
}

int main(void)
{
        if (setup() < 0) {
                printf("1..0 # SKIP no TLS server (openssl or libmicrohttpd TLS missing)\n");
                return 0;
        }
        RUN(test_tls_peer_verification_is_on_by_default);
        RUN(test_tls_ca_file_makes_the_private_ca_trusted);
        RUN(test_tls_insecure_skips_verification);
        MHD_stop_daemon(d);
        unlink(cert_path);
        unlink(key_path);
        rmdir(dir);
        return t_done();
}
