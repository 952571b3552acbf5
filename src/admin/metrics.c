/* The Prometheus metrics listener: libmicrohttpd on its own thread, one
 * route, GET /metrics, answered with smx_stats_render(SMX_STATS_PROMETHEUS)
 * as text exposition format 0.0.4. Anything else is 404 (405 for another
 * method). The address comes from the knob metrics_addr; changing the knob
 * starts the new listener before the old one is stopped, so a bad address
 * leaves the old one serving. */
#include <arpa/inet.h>
#include <microhttpd.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin/admin.h"
#include "admin/admin_int.h"
#include "core/client_int.h"

static enum MHD_Result reply(struct MHD_Connection *conn, unsigned status, const char *type,
                             char *body, size_t len, int take)
{
        struct MHD_Response *rs = MHD_create_response_from_buffer(
                len, body, take ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_MUST_COPY);
        if (!rs) {
                if (take)
                        free(body);
                return MHD_NO;
        }
        MHD_add_response_header(rs, MHD_HTTP_HEADER_CONTENT_TYPE, type);
        enum MHD_Result r = MHD_queue_response(conn, status, rs);
        MHD_destroy_response(rs);
        return r;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version,
                                  const char *upload, size_t *upload_len, void **con_cls)
{
        struct smx_admin *a = cls;
        (void)version;
        (void)upload;
        (void)con_cls;
        if (*upload_len)
                *upload_len = 0;       /* no body is read */
        if (strcmp(url, "/metrics") != 0) {
                static char nf[] = "not found; try /metrics\n";
                return reply(conn, MHD_HTTP_NOT_FOUND, "text/plain", nf, sizeof nf - 1, 0);
        }
        if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0) {
                static char na[] = "GET only\n";
                return reply(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "text/plain", na, sizeof na - 1, 0);
        }
        char *body = NULL;
        size_t len = 0;
        if (smx_stats_render(a->c, SMX_STATS_PROMETHEUS, &body, &len) < 0) {
                static char oom[] = "out of memory\n";
                return reply(conn, MHD_HTTP_SERVICE_UNAVAILABLE, "text/plain", oom,
                             sizeof oom - 1, 0);
        }
        return reply(conn, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8", body, len, 1);
}

/* Resolve "HOST:PORT" / "[V6]:PORT" into ss. 0 or -1. */
static int parse_addr(const char *addr, struct sockaddr_storage *ss, char *host, size_t host_cap,
                      uint16_t *port)
{
        const char *colon = strrchr(addr, ':');
        if (!colon || colon == addr)
                return -1;
        const char *h = addr, *he = colon;
        if (*h == '[') {
                h++;
                if (he[-1] != ']')
                        return -1;
                he--;
        }
        size_t hl = (size_t)(he - h);
        if (hl == 0 || hl >= host_cap)
                return -1;
        memcpy(host, h, hl);
        host[hl] = '\0';
        char *end;
        unsigned long p = strtoul(colon + 1, &end, 10);
        if (*end || p > 65535)
                return -1;
        *port = (uint16_t)p;
        struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV };
        struct addrinfo *res = NULL;
        if (getaddrinfo(host, colon + 1, &hints, &res) != 0 || !res)
                return -1;
        memset(ss, 0, sizeof *ss);
        memcpy(ss, res->ai_addr, res->ai_addrlen);
        freeaddrinfo(res);
        return 0;
}

int metrics_start(struct smx_admin *a, const char *addr, char *err, size_t err_len)
{
        struct sockaddr_storage ss;
        char host[64];
        uint16_t port;
        if (parse_addr(addr, &ss, host, sizeof host, &port) < 0) {
                if (err && err_len)
                        snprintf(err, err_len, "metrics_addr '%s': cannot resolve HOST:PORT", addr);
                return SMX_EINVAL;
        }
        unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL;
        if (ss.ss_family == AF_INET6)
                flags |= MHD_USE_IPv6;
        struct MHD_Daemon *d = MHD_start_daemon(
                flags, port, NULL, NULL, on_request, a,
                MHD_OPTION_SOCK_ADDR, (const struct sockaddr *)&ss,
                MHD_OPTION_CONNECTION_LIMIT, (unsigned)16,
                MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)10,
                MHD_OPTION_END);   /* no SO_REUSEPORT: a port in use is an error */
        if (!d) {
                if (err && err_len)
                        snprintf(err, err_len, "metrics_addr '%s': cannot listen there", addr);
                return SMX_EINVAL;
        }
        const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
        uint16_t bound = info ? info->port : port;
        struct MHD_Daemon *old = a->mhd;
        a->mhd = d;
        if (ss.ss_family == AF_INET6)
                snprintf(a->metrics_bound, sizeof a->metrics_bound, "[%s]:%u", host, bound);
        else
                snprintf(a->metrics_bound, sizeof a->metrics_bound, "%s:%u", host, bound);
        if (old)
                MHD_stop_daemon(old);
        return 0;
}

void metrics_stop(struct smx_admin *a)
{
        if (a->mhd)
                MHD_stop_daemon(a->mhd);
        a->mhd = NULL;
        a->metrics_bound[0] = '\0';
}
