/* A real redis-server for the store tests: started by the test on a unix
 * socket in a fresh temporary directory (no port to collide with), stopped
 * (and its files removed) after. Killed with SIGKILL and restarted on the
 * same directory (AOF everysec) or paused with SIGSTOP to play failures. */
#ifndef SMX_RTEST_H
#define SMX_RTEST_H

#include <hiredis/hiredis.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

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

static inline int rtest_redis_ping(const struct rtest_redis *r)
{
        struct timeval tv = { 0, 200000 };
        redisContext *c = redisConnectUnixWithTimeout(r->sock, tv);
        int ok = 0;
        if (c && !c->err) {
                redisReply *rep = redisCommand(c, "PING");
                ok = rep && rep->type == REDIS_REPLY_STATUS;
                if (rep)
                        freeReplyObject(rep);
        }
        if (c)
                redisFree(c);
        return ok;
}

/* Start (or restart, same directory) redis-server. 0, or -1 (printed). */
static inline int rtest_redis_spawn(struct rtest_redis *r)
{
        pid_t pid = fork();
        if (pid < 0)
                return -1;
        if (pid == 0) {
                execlp("redis-server", "redis-server", "--port", "0", "--unixsocket", r->sock,
                       "--unixsocketperm", "700", "--dir", r->dir, "--save", "",
                       "--appendonly", r->aof ? "yes" : "no", "--appendfsync", "everysec",
                       "--logfile", r->log, "--daemonize", "no", (char *)NULL);
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

static inline int rtest_redis_start(struct rtest_redis *r, int aof)
{
        memset(r, 0, sizeof *r);
        r->aof = aof;
        snprintf(r->dir, sizeof r->dir, "/tmp/smx-redis-XXXXXX");
        if (!mkdtemp(r->dir))
                return -1;
        snprintf(r->sock, sizeof r->sock, "%s/redis.sock", r->dir);
        snprintf(r->log, sizeof r->log, "%s/redis.log", r->dir);
        snprintf(r->url, sizeof r->url, "unix://%s", r->sock);
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
