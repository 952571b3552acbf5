/* The admin control socket (protocol in admin.h): a unix stream socket
 * created with mode 0600 (umask 077 around bind, then chmod), served by one
 * thread that polls the listening socket and a stop eventfd. Each
 * connection sends one line (at most 1 KiB, read with a 2 s limit), gets
 * the answer and is closed; one connection at a time is plenty for an
 * operator tool and keeps the thread simple. */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "admin/admin.h"
#include "admin/admin_int.h"
#include "config/config_file.h"
#include "core/client_int.h"
#include "log/log.h"

#define ADMIN_LINE_MAX 1024

static char *dup_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *dup_printf(const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        char *s = NULL;
        if (vasprintf(&s, fmt, ap) < 0)
                s = NULL;
        va_end(ap);
        return s;
}

/* Split line into at most max words (spaces/tabs); words point into line. */
static int split_words(char *line, char **w, int max)
{
        int n = 0;
        char *p = line;
        while (*p && n < max) {
                while (*p == ' ' || *p == '\t')
                        p++;
                if (!*p)
                        break;
                w[n++] = p;
                while (*p && *p != ' ' && *p != '\t')
                        p++;
                if (*p)
                        *p++ = '\0';
        }
        return n;
}

static char *answer_knob(smx_client *c, char **w, int n)
{
        char buf[512];
        if (n == 2 && !strcmp(w[1], "list")) {
                size_t need = smx_knob_list(c, NULL, 0);
                char *body = malloc(need + 4);
                if (!body)
                        return NULL;
                memcpy(body, "ok\n", 3);
                smx_knob_list(c, body + 3, need + 1);
                return body;
        }
        if (n == 3 && !strcmp(w[1], "get")) {
                int r = smx_knob_get(c, w[2], buf, sizeof buf);
                return r < 0 ? dup_printf("error: %s\n", buf) : dup_printf("ok\n%s\n", buf);
        }
        if ((n == 4 || n == 3) && !strcmp(w[1], "set")) {
                /* an empty value (metrics_addr off) is "knob set NAME" */
                int r = smx_knob_set(c, w[2], n == 4 ? w[3] : "", buf, sizeof buf);
                return r < 0 ? dup_printf("error: %s\n", buf[0] ? buf : smx_strerror(r))
                             : dup_printf("ok\n");
        }
        return dup_printf("error: usage: knob get NAME | knob set NAME VALUE | knob list\n");
}

static char *answer_stats(smx_client *c, char **w, int n)
{
        enum smx_stats_format f = SMX_STATS_TABLE;
        if (n == 2 && !strcmp(w[1], "json"))
                f = SMX_STATS_JSON;
        else if (n == 2 && !strcmp(w[1], "prometheus"))
                f = SMX_STATS_PROMETHEUS;
        else if (n == 2 && strcmp(w[1], "table") != 0)
                return dup_printf("error: usage: stats [table|json|prometheus]\n");
        char *body = NULL;
        size_t len = 0;
        if (smx_stats_render(c, f, &body, &len) < 0)
                return NULL;
        char *out = malloc(len + 4);
        if (out) {
                memcpy(out, "ok\n", 3);
                memcpy(out + 3, body, len + 1);
        }
        free(body);
        return out;
}

/* "smsc add NAME@SITE=HOST:PORT [KEY=VALUE ...]": the keys of an [smsc]
 * section, parsed by the config loader so the same names, ranges and
 * messages apply. "=tls://HOST:PORT" is "tls = true" (CLI.md). */
static char *answer_add(smx_client *c, char **w, int n)
{
        char *at = n >= 3 ? strchr(w[2], '@') : NULL;
        char *eq = at ? strchr(at, '=') : NULL;
        char *colon = eq ? strrchr(eq, ':') : NULL;
        if (!colon)
                return dup_printf("error: usage: smsc add NAME@SITE=HOST:PORT [KEY=VALUE ...]\n");
        *at = *eq = *colon = '\0';
        const char *host = eq + 1;
        int tls = !strncmp(host, "tls://", 6);
        if (tls)
                host += 6;
        char ini[ADMIN_LINE_MAX + 256];
        int len = snprintf(ini, sizeof ini, "[smsc %s]\nsite = %s\nhost = %s\nport = %s\n%s",
                           w[2], at + 1, host, colon + 1, tls ? "tls = true\n" : "");
        for (int i = 3; i < n && len > 0 && (size_t)len < sizeof ini; i++) {
                char *kv = strchr(w[i], '=');
                if (!kv)
                        return dup_printf("error: '%s' is not KEY=VALUE\n", w[i]);
                *kv = '\0';
                len += snprintf(ini + len, sizeof ini - (size_t)len, "%s = %s\n", w[i], kv + 1);
        }
        struct smx_config_file f;
        char err[320];
        smx_config_file_init(&f);
        int rc = smx_config_file_load_string(&f, ini, "smsc add", err, sizeof err);
        if (rc == 0)
                rc = smx_config_file_finish(&f, err, sizeof err);
        if (rc == 0 && f.n_smscs != 1) {
                snprintf(err, sizeof err, "one SMSC expected");
                rc = SMX_EINVAL;
        }
        if (rc == 0)
                rc = smx_smsc_add(c, &f.smscs[0], err, sizeof err);
        smx_config_file_free(&f);
        return rc < 0 ? dup_printf("error: %s\n", err) : dup_printf("ok\n");
}

/* "smsc drain NAME" -> knob smsc.NAME.admin = draining (and site ...). */
static char *answer_admin(smx_client *c, char **w, int n)
{
        if (n >= 2 && !strcmp(w[0], "smsc") && !strcmp(w[1], "add"))
                return answer_add(c, w, n);
        static const struct { const char *verb, *state; } verbs[] = {
                { "drain", "draining" }, { "enable", "enabled" }, { "remove", "removed" },
        };
        if (n != 3)
                return dup_printf("error: usage: %s drain|enable|remove NAME\n", w[0]);
        for (size_t i = 0; i < 3; i++) {
                if (strcmp(w[1], verbs[i].verb))
                        continue;
                char name[SMX_NAME_MAX * 2 + 16], err[256];
                snprintf(name, sizeof name, "%s.%s.admin", w[0], w[2]);
                int r = smx_knob_set(c, name, verbs[i].state, err, sizeof err);
                return r < 0 ? dup_printf("error: %s\n", err) : dup_printf("ok\n");
        }
        return dup_printf("error: usage: %s drain|enable|remove NAME\n", w[0]);
}

char *admin_answer(smx_client *c, const char *line)
{
        char copy[ADMIN_LINE_MAX + 1];
        size_t len = strnlen(line, ADMIN_LINE_MAX);
        memcpy(copy, line, len);
        copy[len] = '\0';
        while (len && (copy[len - 1] == '\n' || copy[len - 1] == '\r'))
                copy[--len] = '\0';
        char *w[24];
        int n = split_words(copy, w, 24);
        if (n == 0)
                return dup_printf("error: empty request\n");
        if (!strcmp(w[0], "knob"))
                return answer_knob(c, w, n);
        if (!strcmp(w[0], "stats"))
                return answer_stats(c, w, n);
        if (!strcmp(w[0], "smsc") || !strcmp(w[0], "site"))
                return answer_admin(c, w, n);
        return dup_printf("error: unknown request '%s' (knob, stats, smsc, site)\n", w[0]);
}

static uint64_t mono_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* One connection: read a line (2 s limit), answer, close. */
static void serve_one(struct smx_admin *a, int fd)
{
        char line[ADMIN_LINE_MAX + 1];
        size_t len = 0;
        uint64_t deadline = mono_ms() + 2000;
        while (len < ADMIN_LINE_MAX && !memchr(line, '\n', len)) {
                uint64_t now = mono_ms();
                if (now >= deadline)
                        break;
                struct pollfd p = { .fd = fd, .events = POLLIN };
                if (poll(&p, 1, (int)(deadline - now)) <= 0)
                        break;
                ssize_t r = read(fd, line + len, ADMIN_LINE_MAX - len);
                if (r <= 0)
                        break;
                len += (size_t)r;
        }
        line[len] = '\0';
        char *nl = memchr(line, '\n', len);
        if (!nl && len == ADMIN_LINE_MAX) {
                static const char big[] = "error: request line too long\n";
                ssize_t w = write(fd, big, sizeof big - 1);
                (void)w;
                return;
        }
        if (nl)
                *nl = '\0';
        char *ans = admin_answer(a->c, line);
        const char *out = ans ? ans : "error: out of memory\n";
        size_t left = strlen(out), off = 0;
        while (left > 0) {
                ssize_t w = send(fd, out + off, left, MSG_NOSIGNAL);
                if (w < 0 && errno == EINTR)
                        continue;
                if (w <= 0)
                        break;
                off += (size_t)w;
                left -= (size_t)w;
        }
        free(ans);
}

static void *admin_thread(void *arg)
{
        struct smx_admin *a = arg;
        for (;;) {
                struct pollfd p[2] = {
                        { .fd = a->lfd, .events = POLLIN },
                        { .fd = a->stop_fd, .events = POLLIN },
                };
                int r = poll(p, 2, -1);
                if (r < 0 && errno == EINTR)
                        continue;
                if (r < 0 || (p[1].revents & POLLIN))
                        break;
                if (!(p[0].revents & POLLIN))
                        continue;
                int fd = accept4(a->lfd, NULL, NULL, SOCK_CLOEXEC);
                if (fd < 0)
                        continue;
                serve_one(a, fd);
                close(fd);
        }
        return NULL;
}

static int socket_listen(struct smx_admin *a, const char *path, char *err, size_t err_len)
{
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        if (strlen(path) >= sizeof sa.sun_path) {
                snprintf(err, err_len, "admin_socket '%s': path longer than %zu", path,
                         sizeof sa.sun_path - 1);
                return SMX_EINVAL;
        }
        memcpy(sa.sun_path, path, strlen(path) + 1);
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0) {
                snprintf(err, err_len, "admin_socket: %s", strerror(errno));
                return -errno;
        }
        /* a stale socket from a previous run is replaced; a live one (another
         * process answers on it) or any other file is not */
        struct stat st;
        if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode)) {
                int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
                int live = probe >= 0 && connect(probe, (struct sockaddr *)&sa, sizeof sa) == 0;
                if (probe >= 0)
                        close(probe);
                if (live) {
                        snprintf(err, err_len, "admin_socket '%s': in use by a running process",
                                 path);
                        close(fd);
                        return -EADDRINUSE;
                }
                unlink(path);
        }
        mode_t old = umask(077);   /* created 0600: only the owner may connect */
        int rc = bind(fd, (struct sockaddr *)&sa, sizeof sa);
        umask(old);
        if (rc < 0 || chmod(path, 0600) < 0 || listen(fd, 8) < 0) {
                int e = errno;
                snprintf(err, err_len, "admin_socket '%s': %s", path, strerror(e));
                close(fd);
                return -e;
        }
        a->lfd = fd;
        memcpy(a->path, path, strlen(path) + 1);
        return 0;
}

int admin_start(struct smx_client *c, const char *socket_path, const char *metrics_addr,
                char *err, size_t err_len)
{
        char dummy[8];
        if (!err || !err_len) {
                err = dummy;
                err_len = sizeof dummy;
        }
        struct smx_admin *a = calloc(1, sizeof *a);
        if (!a)
                return SMX_ENOMEM;
        a->c = c;
        a->lfd = a->stop_fd = -1;
        pthread_mutex_init(&a->mlock, NULL);
        c->admin = a;
        if (metrics_addr && *metrics_addr) {
                int rc = metrics_start(a, metrics_addr, err, err_len);
                if (rc < 0)
                        return rc;
                smx_logf(SMX_LOG_INFO, NULL, NULL, "metrics on http://%s/metrics",
                         a->metrics_bound);
        }
        if (!socket_path || !*socket_path)
                return 0;
        int rc = socket_listen(a, socket_path, err, err_len);
        if (rc < 0)
                return rc;
        a->stop_fd = eventfd(0, EFD_CLOEXEC);
        if (a->stop_fd < 0)
                return -errno;
        if (pthread_create(&a->thread, NULL, admin_thread, a) != 0)
                return SMX_ENOMEM;
        a->thread_started = 1;
        smx_logf(SMX_LOG_INFO, NULL, NULL, "admin socket %s", a->path);
        return 0;
}

void admin_stop(struct smx_client *c)
{
        struct smx_admin *a = c->admin;
        if (!a)
                return;
        if (a->thread_started) {
                uint64_t one = 1;
                ssize_t w = write(a->stop_fd, &one, sizeof one);
                (void)w;
                pthread_join(a->thread, NULL);
        }
        if (a->lfd >= 0) {
                close(a->lfd);
                unlink(a->path);
        }
        if (a->stop_fd >= 0)
                close(a->stop_fd);
        pthread_mutex_lock(&a->mlock);
        metrics_stop(a);
        pthread_mutex_unlock(&a->mlock);
        pthread_mutex_destroy(&a->mlock);
        free(a);
        c->admin = NULL;
}

int admin_metrics_listen(struct smx_client *c, const char *addr, char *err, size_t err_len)
{
        struct smx_admin *a = c->admin;
        if (!a)
                return 0;   /* not started yet: admin_start uses the knob's value */
        pthread_mutex_lock(&a->mlock);
        int rc = 0;
        if (!addr || !*addr)
                metrics_stop(a);
        else
                rc = metrics_start(a, addr, err, err_len);
        pthread_mutex_unlock(&a->mlock);
        return rc;
}

void admin_metrics_address(struct smx_client *c, char *out, size_t len)
{
        struct smx_admin *a = c->admin;
        if (!len)
                return;
        out[0] = '\0';
        if (!a)
                return;
        pthread_mutex_lock(&a->mlock);
        snprintf(out, len, "%s", a->metrics_bound);
        pthread_mutex_unlock(&a->mlock);
}
