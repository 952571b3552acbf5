/* `smsmux pipe`: MT requests as JSON lines on stdin, events as JSON lines on
 * stdout (contract: ../../../shared/CLI.md).
 *
 * One thread runs a poll loop over stdin, the client's event fd and a
 * signalfd. Each complete stdin line is parsed and submitted; when the
 * library pushes back (SMX_EAGAIN) the MT is held, events are polled and the
 * submit retried, and stdin is not read meanwhile, so nothing is dropped and
 * memory stays bounded. Every line gets one outcome: the library's, or one
 * the CLI decides (bad_request, duplicate_id). At stdin EOF (or SIGINT/
 * SIGTERM) it waits up to --drain-timeout for the outcomes still due while
 * printing whatever arrives, then drains (unbinds) the client, prints the
 * DRs still parked and MOs still incomplete that the drain delivers, and
 * exits 0: nothing acknowledged to an SMSC is left unprinted. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli_client.h"
#include "cli_json.h"
#include "idset.h"
#include "commands.h"

#define PIPE_LINE_MAX (1u << 20)   /* longest stdin line taken */
#define PIPE_EV_BATCH 64

/* Everything the pipe loop owns; one thread. */
struct pipe_state {
        smx_client *c;
        struct idset ids;
        struct jbuf out;
        uint64_t outstanding;       /* accepted by smx_submit, no outcome seen yet */
        uint64_t line_no;
        char *buf;                  /* stdin bytes not yet consumed */
        size_t len, cap;
        int skipping;               /* inside an over-long line: drop to '\n' */
        int eof, stopping;
        int has_pending;            /* pending waits for ingress room */
        struct cli_mt pending;
        int sig_fd;
};

static void emit(struct pipe_state *s)
{
        if (s->out.oom || !s->out.len)
                return;
        fwrite(s->out.p, 1, s->out.len, stdout);
}

static void emit_failed(struct pipe_state *s, const char *id, size_t id_len,
                        const char *reason, int permanent)
{
        if (cli_json_failed(&s->out, id, id_len, reason, permanent, s->line_no) == 0)
                emit(s);
}

/* Print every event waiting now. Polls until a poll finds none, because only
 * that arms the client's eventfd for the next wait (smx_events_poll): a wait
 * after a poll that returned events would sleep through the next ones until
 * stdin or the wait's timeout woke it. Returns 1 when it stopped at its cap
 * with events perhaps still waiting (the caller must not block), else 0. */
static int poll_events(struct pipe_state *s)
{
        struct smx_event ev[PIPE_EV_BATCH];
        size_t n, total = 0;
        do {
                n = smx_events_poll(s->c, ev, PIPE_EV_BATCH);
                for (size_t i = 0; i < n; i++) {
                        if ((ev[i].type == SMX_EV_SUBMITTED || ev[i].type == SMX_EV_FAILED) &&
                            ev[i].id && s->outstanding > 0)
                                s->outstanding--;
                        if (cli_json_event(&s->out, &ev[i]) == 0)
                                emit(s);
                }
                total += n;
        } while (n > 0 && total < 64 * PIPE_EV_BATCH);
        if (total)
                fflush(stdout);
        return n > 0;
}

/* Submit s->pending. Returns 0 when done with it, -1 while ingress is full. */
static int submit_pending(struct pipe_state *s)
{
        int rc = smx_submit(s->c, &s->pending.mt);
        if (rc == SMX_EAGAIN)
                return -1;
        if (rc == 0) {
                s->outstanding++;
        } else {
                fprintf(stderr, "smsmux pipe: line %llu: MT refused: %s\n",
                        (unsigned long long)s->line_no, smx_strerror(rc));
                emit_failed(s, s->pending.id, s->pending.id_len,
                            rc == SMX_EINVAL || rc == SMX_E2BIG ? "bad_request" : "shutdown",
                            rc == SMX_EINVAL || rc == SMX_E2BIG);
                fflush(stdout);
        }
        cli_mt_release(&s->pending);
        s->has_pending = 0;
        return 0;
}

static int blank(const char *p, size_t n)
{
        for (size_t i = 0; i < n; i++)
                if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r')
                        return 0;
        return 1;
}

/* Handle one stdin line (without its '\n'). */
static void take_line(struct pipe_state *s, const char *line, size_t len)
{
        char why[160];
        s->line_no++;
        if (blank(line, len))
                return;
        struct cli_mt mt;
        if (cli_mt_parse(line, len, &mt, why, sizeof why) < 0) {
                fprintf(stderr, "smsmux pipe: line %llu: bad request: %s\n",
                        (unsigned long long)s->line_no, why);
                if (mt.id)
                        idset_add(&s->ids, mt.id, mt.id_len);
                emit_failed(s, mt.id, mt.id_len, "bad_request", 1);
                fflush(stdout);
                cli_mt_release(&mt);
                return;
        }
        int added = idset_add(&s->ids, mt.id, mt.id_len);
        if (added <= 0) {
                if (added < 0)
                        fprintf(stderr, "smsmux pipe: out of memory for the id set\n");
                emit_failed(s, mt.id, mt.id_len, added == 0 ? "duplicate_id" : "shutdown", 1);
                fflush(stdout);
                cli_mt_release(&mt);
                return;
        }
        s->pending = mt;
        s->has_pending = 1;
        submit_pending(s);
}

/* Take complete lines from the buffer until one waits for ingress room. */
static void take_lines(struct pipe_state *s)
{
        size_t off = 0;
        while (!s->has_pending && off < s->len) {
                char *nl = memchr(s->buf + off, '\n', s->len - off);
                if (!nl)
                        break;
                size_t n = (size_t)(nl - (s->buf + off));
                if (s->skipping)
                        s->skipping = 0;
                else
                        take_line(s, s->buf + off, n);
                off += n + 1;
        }
        if (!s->has_pending && s->eof && off < s->len) {
                if (!s->skipping)              /* last line without '\n' */
                        take_line(s, s->buf + off, s->len - off);
                off = s->len;
        }
        memmove(s->buf, s->buf + off, s->len - off);
        s->len -= off;
        if (s->len == s->cap) {                 /* a line longer than we take */
                s->line_no++;
                fprintf(stderr, "smsmux pipe: line %llu: longer than %u bytes\n",
                        (unsigned long long)s->line_no, PIPE_LINE_MAX);
                emit_failed(s, NULL, 0, "bad_request", 1);
                fflush(stdout);
                s->len = 0;
                s->skipping = 1;
        }
}

static void read_stdin(struct pipe_state *s)
{
        ssize_t n = read(STDIN_FILENO, s->buf + s->len, s->cap - s->len);
        if (n > 0)
                s->len += (size_t)n;
        else if (n == 0 || (errno != EINTR && errno != EAGAIN))
                s->eof = 1;
}

/* Stdin is done (EOF or a signal): wait for the outcomes still due, then
 * drain the client and print what it still reports. */
static void finish(struct pipe_state *s, uint32_t drain_timeout_ms)
{
        uint64_t deadline = cli_now_ms() + drain_timeout_ms;
        int cut = 0;
        poll_events(s);
        while (s->outstanding > 0 && !cut) {
                uint64_t now = cli_now_ms();
                if (now >= deadline)
                        break;
                uint64_t left = deadline - now;
                if (cli_wait(s->c, s->sig_fd, -1, left < 100 ? (int)left : 100) & 2) {
                        fprintf(stderr, "smsmux pipe: second signal, stopping now\n");
                        cut = 1;
                }
                poll_events(s);
        }
        uint64_t now = cli_now_ms();
        uint32_t left = cut || now >= deadline ? 0 : (uint32_t)(deadline - now);
        if (s->outstanding > 0)
                fprintf(stderr, "smsmux pipe: %llu MTs without an outcome at the drain "
                        "deadline\n", (unsigned long long)s->outstanding);
        int rc = smx_client_drain(s->c, left);
        if (rc < 0 && rc != SMX_ETIMEDOUT)
                fprintf(stderr, "smsmux pipe: drain: %s\n", smx_strerror(rc));
        /* The drain has given every MT its outcome and turned every DR still
         * parked and every MO still missing parts into an event; print them
         * all (and the binds going down) before the client is destroyed. */
        uint64_t stop = cli_now_ms() + 5000;
        poll_events(s);
        while ((s->outstanding > 0 || smx_client_undelivered(s->c) > 0) && cli_now_ms() < stop) {
                cli_wait(s->c, -1, -1, 50);
                poll_events(s);
        }
        /* until a poll returns nothing (one call takes a bounded batch):
         * the drained receiver and the unbound binds take nothing new, so
         * this ends */
        while (poll_events(s))
                ;
        uint64_t unprinted = smx_client_undelivered(s->c);
        if (unprinted)
                fprintf(stderr, "smsmux pipe: %llu received DRs/MOs could not be printed\n",
                        (unsigned long long)unprinted);
}

int cli_pipe(const struct cli_opts *o)
{
        struct pipe_state s = { .sig_fd = -1 };
        s.sig_fd = cli_signals_fd();
        int rc = cli_client_open(o, NULL, 0, &s.c);
        if (rc != 0) {
                if (s.sig_fd >= 0)
                        close(s.sig_fd);
                return rc;
        }
        idset_init(&s.ids);
        s.cap = PIPE_LINE_MAX;
        s.buf = malloc(s.cap);
        if (!s.buf) {
                fprintf(stderr, "smsmux pipe: out of memory\n");
                s.stopping = 1;
        }
        while (!s.stopping) {
                int more = poll_events(&s);
                if (s.has_pending && submit_pending(&s) < 0) {
                        if (cli_wait(s.c, s.sig_fd, -1, 1) & 2)
                                s.stopping = 1;
                        continue;
                }
                take_lines(&s);
                if (s.has_pending)
                        continue;
                if (s.eof && s.len == 0)
                        break;
                int r = cli_wait(s.c, s.sig_fd, s.eof ? -1 : STDIN_FILENO, more ? 0 : 1000);
                if (r & 2)
                        s.stopping = 1;
                else if (r & 1)
                        read_stdin(&s);
        }
        if (s.has_pending) {            /* read but never queued: it fails here */
                emit_failed(&s, s.pending.id, s.pending.id_len, "shutdown", 0);
                cli_mt_release(&s.pending);
                s.has_pending = 0;
        }
        if (s.stopping)
                fprintf(stderr, "smsmux pipe: signal: no more MTs, draining\n");
        finish(&s, o->drain_timeout_ms);
        fflush(stdout);
        smx_client_destroy(s.c);
        /* What the duplicate-id set held at the end (tests/integration/net/
         * soak.py checks its RSS accounting of the set against this line). */
        fprintf(stderr, "smsmux pipe: id set: %zu ids, %zu bytes\n", s.ids.n,
                idset_bytes(&s.ids));
        idset_free(&s.ids);
        jbuf_free(&s.out);
        free(s.buf);
        if (s.sig_fd >= 0)
                close(s.sig_fd);
        return CLI_EXIT_OK;
}
