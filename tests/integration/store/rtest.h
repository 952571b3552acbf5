/* A real redis-server for the store tests: started by the test on a unix
 * socket in a fresh temporary directory (no port to collide with), stopped
 * (and its files removed) after. Killed with SIGKILL and restarted on the
 * same directory (AOF with appendfsync no: Redis writes the AOF before it
 * answers and a killed process loses nothing; everysec postpones that write
 * behind a slow background fsync yet answers, so a SIGKILL could lose
 * acknowledged writes, and always makes every batch wait for an fsync,
 * past timeout_ms on a busy disk) or paused with SIGSTOP to play failures.
 * Also the opening and end of a test's main (TAP skip without
 * redis-server), and commands on a connection of the test's own.
 * Tests with client instances on the store: rtest_inst.h. */
#ifndef SMX_RTEST_H
#define SMX_RTEST_H

#include <hiredis/hiredis.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "child_tlib.h"

/* What a test's start returns when the test goes on; anything else is the
 * exit status main returns at once. */
#define RTEST_GO (-1)

struct rtest_redis {
        pid_t pid;
        int aof;
        char dir[64], sock[128], url[160], log[128];
};

static inline void rtest_sleep_ms(unsigned ms)
{
        struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
        nanosleep(&ts, NULL);
}

/* 1 when Redis answers cmd, on a connection of its own to r->sock, with a
 * status reply ("OK", "PONG"). */
static inline int rtest_redis_ok(const struct rtest_redis *r, const char *cmd)
{
        struct timeval tv = { 0, 200000 };
        redisContext *c = redisConnectUnixWithTimeout(r->sock, tv);
        int ok = 0;
        if (c && !c->err) {
                redisReply *rep = redisCommand(c, cmd);
                ok = rep && rep->type == REDIS_REPLY_STATUS;
                if (rep)
                        freeReplyObject(rep);
        }
        if (c)
                redisFree(c);
        return ok;
}

static inline int rtest_redis_ping(const struct rtest_redis *r)
{
        return rtest_redis_ok(r, "PING");
}

/* Run redis-server with argv (argv[0] "redis-server"; it must serve
 * r->sock) and wait until it answers there. 0, or -1 (printed). */
static inline int rtest_redis_run(struct rtest_redis *r, char *const argv[])
{
        pid_t parent = getpid();
        pid_t pid = fork();
        if (pid < 0)
                return -1;
        if (pid == 0) {
                t_child_dies_with_parent(parent);   /* never outlives a killed test */
                execvp("redis-server", argv);
                _exit(127);
        }
        r->pid = pid;
        for (int i = 0; i < 500; i++) {
                if (rtest_redis_ping(r))
                        return 0;
                int st;
                if (waitpid(pid, &st, WNOHANG) == pid) {
                        printf("# redis-server exited at start (see %s)\n", r->log);
                        r->pid = 0;
                        return -1;
                }
                rtest_sleep_ms(10);
        }
        printf("# redis-server did not answer on %s\n", r->sock);
        return -1;
}

/* Start (or restart, same directory) redis-server on r->sock only. 0, or
 * -1 (printed). */
static inline int rtest_redis_spawn(struct rtest_redis *r)
{
        char *const argv[] = {
                "redis-server", "--port", "0", "--unixsocket", r->sock,
                "--unixsocketperm", "700", "--dir", r->dir, "--save", "",
                "--appendonly", r->aof ? "yes" : "no", "--appendfsync", "no",
                "--logfile", r->log, "--daemonize", "no", NULL,
        };
        return rtest_redis_run(r, argv);
}

/* A fresh directory /tmp/<prefix>-XXXXXX and the socket, log and URL in
 * it; nothing started. 0, or -1. */
static inline int rtest_redis_dir(struct rtest_redis *r, int aof, const char *prefix)
{
        memset(r, 0, sizeof *r);
        r->aof = aof;
        snprintf(r->dir, sizeof r->dir, "/tmp/%s-XXXXXX", prefix);
        if (!mkdtemp(r->dir))
                return -1;
        snprintf(r->sock, sizeof r->sock, "%s/redis.sock", r->dir);
        snprintf(r->log, sizeof r->log, "%s/redis.log", r->dir);
        snprintf(r->url, sizeof r->url, "unix://%s", r->sock);
        return 0;
}

static inline int rtest_redis_start(struct rtest_redis *r, int aof)
{
        if (rtest_redis_dir(r, aof, "smx-redis") < 0)
                return -1;
        return rtest_redis_spawn(r);
}

static inline void rtest_redis_kill(struct rtest_redis *r, int sig)
{
        if (r->pid <= 0)
                return;
        kill(r->pid, sig);
        if (sig == SIGKILL || sig == SIGTERM) {
                waitpid(r->pid, NULL, 0);
                r->pid = 0;
        }
}

static inline void rtest_redis_stop(struct rtest_redis *r)
{
        if (r->pid > 0) {
                kill(r->pid, SIGCONT);
                rtest_redis_kill(r, SIGTERM);
        }
        char cmd[160];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", r->dir);
        if (r->dir[0] && system(cmd) != 0)
                printf("# could not remove %s\n", r->dir);
}

/* A copy of r's data set as of now, kept aside as `name` in r's directory:
 * SAVE (on a connection of its own), then dump.rdb copied. 0, or -1. */
static inline int rtest_redis_snapshot(const struct rtest_redis *r, const char *name)
{
        if (!rtest_redis_ok(r, "SAVE"))
                return -1;
        char cmd[384];
        snprintf(cmd, sizeof cmd, "cp '%s/dump.rdb' '%s/%s'", r->dir, r->dir, name);
        return system(cmd) == 0 ? 0 : -1;
}

/* redis-server killed, `down_ms` later started again from the snapshot
 * `name` (rtest_redis_snapshot) instead of its own files: its data set as
 * it was then (a restart from an older RDB, a replica promoted with
 * replication lag). No AOF may be in use (it would be loaded instead).
 * 0, or -1 (printed). */
static inline int rtest_redis_restart_from(struct rtest_redis *r, const char *name,
                                           unsigned down_ms)
{
        if (r->aof)
                return -1;
        rtest_redis_kill(r, SIGKILL);
        rtest_sleep_ms(down_ms);
        char cmd[384];
        snprintf(cmd, sizeof cmd, "cp '%s/%s' '%s/dump.rdb'", r->dir, name, r->dir);
        if (system(cmd) != 0) {
                printf("# %s\n", cmd);
                return -1;
        }
        return rtest_redis_spawn(r);
}

/* redis-server stopped by SHUTDOWN SAVE (its data set saved as it is,
 * nothing written after) and, `down_ms` later, started again from that:
 * a restart that loses nothing. No AOF may be in use. 0, or -1. */
static inline int rtest_redis_restart_saved(struct rtest_redis *r, unsigned down_ms)
{
        if (r->aof || r->pid <= 0)
                return -1;
        redisContext *c = redisConnectUnix(r->sock);
        if (!c || c->err) {
                if (c)
                        redisFree(c);
                return -1;
        }
        redisReply *rep = redisCommand(c, "SHUTDOWN SAVE");    /* no reply: it exits */
        if (rep)
                freeReplyObject(rep);
        redisFree(c);
        int st;
        if (waitpid(r->pid, &st, 0) != r->pid)
                return -1;
        r->pid = 0;
        rtest_sleep_ms(down_ms);
        return rtest_redis_spawn(r);
}

/* The TAP skip when redis-server is not installed: 0 (and the line
 * printed), else 1. */
static inline int rtest_have_redis(void)
{
        if (system("command -v redis-server >/dev/null 2>&1") == 0)
                return 1;
        printf("1..0 # SKIP redis-server not installed (tools/bootstrap.sh)\n");
        return 0;
}

/* The start of a test that talks to Redis itself: redis-server started in
 * r and *c connected to it. RTEST_GO, or the exit status (skip: 0; bail
 * out, printed: 1). */
static inline int rtest_start_connected(struct rtest_redis *r, redisContext **c)
{
        if (!rtest_have_redis())
                return 0;
        if (rtest_redis_start(r, 0) != 0) {
                printf("Bail out! redis-server did not start\n");
                return 1;
        }
        *c = redisConnectUnix(r->sock);
        if (!*c || (*c)->err) {
                printf("Bail out! no connection to redis-server\n");
                rtest_redis_stop(r);
                return 1;
        }
        return RTEST_GO;
}

/* The end of such a test: c closed, redis-server stopped. */
static inline void rtest_stop_connected(struct rtest_redis *r, redisContext *c)
{
        redisFree(c);
        rtest_redis_stop(r);
}

/* A command on c (hiredis format); the reply, NULL on a broken connection. */
static inline redisReply *rtest_cmd(redisContext *c, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        redisReply *r = redisvCommand(c, fmt, ap);
        va_end(ap);
        return r;
}

/* Add to the stream `key` an uncorrelated DR entry (the encoding of
 * rstore_ev.c) whose message_id is "m<i>"; a refusal is printed. */
static inline void rtest_xadd_dr(redisContext *c, const char *key, unsigned i)
{
        char mid[16], v[128];
        int ml = snprintf(mid, sizeof mid, "m%u", i);
        int vl = snprintf(v, sizeof v, "U00\x1f" "1:2%d:%s0:0:0:0:", ml, mid);
        redisReply *r = redisCommand(c, "XADD %s * v %b", key, v, (size_t)vl);
        if (!r || r->type == REDIS_REPLY_ERROR)
                printf("# XADD %s: %s\n", key, r ? r->str : "no reply");
        if (r)
                freeReplyObject(r);
}

/* How many entries of the stream `key` are pending in its group g
 * (XPENDING), -1 on error. */
static inline long long rtest_pending(redisContext *c, const char *key)
{
        redisReply *r = redisCommand(c, "XPENDING %s g", key);
        long long n = -1;
        if (r && r->type == REDIS_REPLY_ARRAY && r->elements >= 1 &&
            r->element[0]->type == REDIS_REPLY_INTEGER)
                n = r->element[0]->integer;
        if (r)
                freeReplyObject(r);
        return n;
}

/* One command's integer reply (-1 on error): for checks on Redis state. */
static inline long long rtest_redis_int(const struct rtest_redis *r, const char *cmd)
{
        redisContext *c = redisConnectUnix(r->sock);
        long long v = -1;
        if (c && !c->err) {
                redisReply *rep = redisCommand(c, cmd);
                if (rep && rep->type == REDIS_REPLY_INTEGER)
                        v = rep->integer;
                if (rep)
                        freeReplyObject(rep);
        }
        if (c)
                redisFree(c);
        return v;
}

#endif
