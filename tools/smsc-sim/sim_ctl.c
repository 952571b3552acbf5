/* The control language (`smsc-sim ctl`, sim_ctl(), fault plans), the unix
 * control socket, and the fault-plan player.
 *
 * One command per line: `VERB TARGET [ARGS]`, TARGET = an SMSC name
 * (smsc1.dc3), `site NAME` (or a bare site name), or `all`. Replies are one
 * line, `ok ...` or `error: ...`; `summary` replies with the ledger JSON.
 * Everything here runs with the engine lock held (engine thread, or a caller
 * of sim_ctl). */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "http_sim.h"
#include "sim_internal.h"

#define MAX_TOK 12

static const char help_text[] =
        "commands: summary | mts | status | help | kill T | restore T | stall T [on|off] |"
        " throttle T on|off|TPS | queue-full T [on|off] | drop-resp T N [KIND...] | slow T BYTES_PER_S|off |"
        " reset T | refuse-bind T STATUS|off | hostile T CASE|all|off | hostile-list |"
        " mo T [COUNT [PARTS [SENT]]] | dr T MESSAGE_ID [STATE] | set T KEY VALUE |"
        " set sim rebind_interval S | tls-fault T badcert|stall|off | tls-alert T |"
        " tls-truncate T ;"
        " T = SMSC name | site NAME | all";

static int reply_f(char *reply, size_t len, int rc, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));
static int reply_f(char *reply, size_t len, int rc, const char *fmt, ...)
{
        if (reply && len) {
                va_list ap;
                va_start(ap, fmt);
                vsnprintf(reply, len, fmt, ap);
                va_end(ap);
        }
        return rc;
}

/* Parse a target at tok[*i]; marks sel[] and advances *i. Returns the number
 * of SMSCs selected, or -1 if the target names nothing. */
static int parse_target(struct smsc_sim *s, char **tok, int ntok, int *i, uint8_t *sel)
{
        memset(sel, 0, SIM_MAX_SMSCS);
        if (*i >= ntok)
                return -1;
        const char *t = tok[*i];
        int n = 0;
        if (!strcmp(t, "all")) {
                (*i)++;
                for (int k = 0; k < s->n_smsc; k++)
                        sel[k] = 1;
                return s->n_smsc;
        }
        const char *site = NULL;
        if (!strcmp(t, "site")) {
                if (*i + 1 >= ntok)
                        return -1;
                site = tok[*i + 1];
                *i += 2;
        } else {
                for (int k = 0; k < s->n_smsc; k++) {
                        if (!strcmp(s->smsc[k].name, t)) {
                                sel[k] = 1;
                                (*i)++;
                                return 1;
                        }
                }
                site = t;
                (*i)++;
        }
        for (int k = 0; k < s->n_smsc; k++) {
                if (!strcmp(s->smsc[k].site, site)) {
                        sel[k] = 1;
                        n++;
                }
        }
        return n ? n : -1;
}

static int parse_onoff(const char *v, int *out)
{
        if (!v || !strcmp(v, "on") || !strcmp(v, "1")) {
                *out = 1;
                return 0;
        }
        if (!strcmp(v, "off") || !strcmp(v, "0")) {
                *out = 0;
                return 0;
        }
        return -EINVAL;
}

static int sessions_of(struct smsc_sim *s, int smsc)
{
        int n = 0;
        for (int i = 0; i < SIM_MAX_SESS; i++)
                if (s->sess[i].fd >= 0 && s->sess[i].smsc == smsc)
                        n++;
        return n;
}

static int cmd_status(struct smsc_sim *s, char *reply, size_t len)
{
        size_t w = 0;
        w += (size_t)snprintf(reply + w, len - w, "ok");
        for (int k = 0; k < s->n_smsc && w < len; k++) {
                const struct sim_smsc *m = &s->smsc[k];
                w += (size_t)snprintf(reply + w, len - w, " %s=%s%s%s%s sessions=%d;", m->name,
                                      m->f.killed ? "killed" : "up", m->f.stalled ? ",stalled" : "",
                                      m->f.throttled ? ",throttled" : "", m->f.queue_full ? ",queue-full" : "",
                                      sessions_of(s, k));
        }
        return 0;
}

int sim_ctl_locked(struct smsc_sim *s, const char *command, char *reply, size_t reply_len)
{
        char line[1024];
        char dummy[8];
        if (!reply || !reply_len) {
                reply = dummy;
                reply_len = sizeof(dummy);
        }
        reply[0] = 0;
        /* the HTTP API side has its own command words (http_sim.h); it
         * never takes this engine\'s lock, so calling it here is safe */
        if (s->http && command && !strncmp(command, "http ", 5))
                return http_sim_ctl(s->http, command, reply, reply_len);
        snprintf(line, sizeof(line), "%s", command ? command : "");
        char *tok[MAX_TOK];
        int ntok = 0;
        char *save = NULL;
        for (char *t = strtok_r(line, " \t\r\n", &save); t && ntok < MAX_TOK; t = strtok_r(NULL, " \t\r\n", &save))
                tok[ntok++] = t;
        if (!ntok)
                return reply_f(reply, reply_len, -EINVAL, "error: empty command");
        const char *verb = tok[0];
        if (!strcmp(verb, "help"))
                return reply_f(reply, reply_len, 0, "ok %s", help_text);
        if (!strcmp(verb, "summary")) {
                int n = sim_ledger_json(s, reply, reply_len, 0);
                return n < 0 ? n : 0;
        }
        if (!strcmp(verb, "status"))
                return cmd_status(s, reply, reply_len);
        if (!strcmp(verb, "mts")) {
                int n = sim_ledger_mts_json(s, reply, reply_len);
                return n < 0 ? n : 0;
        }
        if (!strcmp(verb, "hostile-list")) {
                size_t w = (size_t)snprintf(reply, reply_len, "ok");
                for (size_t i = 0; i < sim_hostile_count() && w < reply_len; i++)
                        w += (size_t)snprintf(reply + w, reply_len - w, " %s", sim_hostile_name(i));
                return 0;
        }
        if (!strcmp(verb, "set") && ntok >= 2 && !strcmp(tok[1], "sim")) {
                if (ntok != 4 || strcmp(tok[2], "rebind_interval"))
                        return reply_f(reply, reply_len, -EINVAL, "error: usage: set sim rebind_interval SECONDS");
                char *end;
                double d = strtod(tok[3], &end);
                if (*end || d < 0)
                        return reply_f(reply, reply_len, -EINVAL, "error: bad seconds");
                s->rebind_interval_s = d;
                return reply_f(reply, reply_len, 0, "ok");
        }

        uint8_t sel[SIM_MAX_SMSCS];
        int i = 1;
        if (parse_target(s, tok, ntok, &i, sel) < 0)
                return reply_f(reply, reply_len, -ENOENT, "error: %s: unknown or missing target", verb);
        const char *a1 = i < ntok ? tok[i] : NULL;
        const char *a2 = i + 1 < ntok ? tok[i + 1] : NULL;
        int on = 0;
        uint32_t u = 0;
        int rc = 0;

        if (!strcmp(verb, "kill") || !strcmp(verb, "restore")) {
                for (int k = 0; k < s->n_smsc; k++) {
                        if (!sel[k])
                                continue;
                        int r = verb[0] == 'k' ? sim_smsc_kill(s, &s->smsc[k]) : sim_smsc_restore(s, &s->smsc[k]);
                        if (r < 0)
                                rc = r;
                }
                if (rc < 0)
                        return reply_f(reply, reply_len, rc, "error: %s: %s", verb, strerror(-rc));
        } else if (!strcmp(verb, "stall") || !strcmp(verb, "queue-full")) {
                if (parse_onoff(a1, &on) < 0)
                        return reply_f(reply, reply_len, -EINVAL, "error: %s: expected on|off", verb);
                for (int k = 0; k < s->n_smsc; k++) {
                        if (!sel[k])
                                continue;
                        if (verb[0] == 's')
                                s->smsc[k].f.stalled = (uint8_t)on;
                        else
                                s->smsc[k].f.queue_full = (uint8_t)on;
                }
                if (verb[0] == 's' && !on && s->n_pending)
                        sim_on_timer_dlv_retry(s);
        } else if (!strcmp(verb, "throttle")) {
                double tps = 0;
                if (!a1)
                        return reply_f(reply, reply_len, -EINVAL, "error: throttle: expected on|off|TPS");
                if (parse_onoff(a1, &on) < 0) {
                        char *end;
                        tps = strtod(a1, &end);
                        if (*end || tps <= 0)
                                return reply_f(reply, reply_len, -EINVAL, "error: throttle: expected on|off|TPS");
                        on = 1;
                }
                for (int k = 0; k < s->n_smsc; k++) {
                        if (!sel[k])
                                continue;
                        s->smsc[k].f.throttled = (uint8_t)on;
                        s->smsc[k].f.throttle_tps = tps;
                        s->smsc[k].f.tps_tokens = tps;
                        s->smsc[k].f.tps_last_ns = sim_now_ns();
                }
        } else if (!strcmp(verb, "drop-resp")) {
                /* drop-resp T N [KIND...]: no KIND is submit_sm (the old form) */
                char *end;
                uint8_t kinds[SIM_DROP_KINDS] = { [SIM_DROP_SUBMIT] = 1 };
                if (!a1 || (u = (uint32_t)strtoul(a1, &end, 10), *end || end == a1))
                        return reply_f(reply, reply_len, -EINVAL, "error: drop-resp: expected a count");
                if (a2 && sim_drop_kinds_parse(command + (a2 - line), kinds) < 0)
                        return reply_f(reply, reply_len, -EINVAL, "error: drop-resp: unknown kind in %s"
                                       " (submit_sm bind_transmitter bind_receiver bind_transceiver bind"
                                       " enquire_link unbind data_sm deliver_sm unsupported generic_nack all)",
                                       command + (a2 - line));
                for (int k = 0; k < s->n_smsc; k++)
                        for (int d = 0; d < SIM_DROP_KINDS && sel[k]; d++)
                                if (kinds[d])
                                        s->smsc[k].f.drop_resp[d] = u;
        } else if (!strcmp(verb, "slow")) {
                char *end;
                if (!a1)
                        return reply_f(reply, reply_len, -EINVAL, "error: slow: expected BYTES_PER_S|off");
                if (!strcmp(a1, "off"))
                        u = 0;
                else if (u = (uint32_t)strtoul(a1, &end, 10), *end || !u)
                        return reply_f(reply, reply_len, -EINVAL, "error: slow: expected BYTES_PER_S|off");
                for (int k = 0; k < s->n_smsc; k++)
                        if (sel[k])
                                s->smsc[k].f.slow_bps = u;
                if (u)
                        sim_arm_drip(s);
                else
                        for (int j = 0; j < SIM_MAX_SESS; j++)
                                if (s->sess[j].fd >= 0 && sel[s->sess[j].smsc] && s->sess[j].out_len)
                                        sim_out_commit(s, &s->sess[j], 0);
        } else if (!strcmp(verb, "tls-fault")) {
                uint8_t f;
                if (a1 && !strcmp(a1, "badcert"))
                        f = SIM_TLS_BADCERT;
                else if (a1 && !strcmp(a1, "stall"))
                        f = SIM_TLS_STALL;
                else if (a1 && !strcmp(a1, "off"))
                        f = SIM_TLS_NONE;
                else
                        return reply_f(reply, reply_len, -EINVAL,
                                       "error: tls-fault: expected badcert|stall|off");
                for (int k = 0; k < s->n_smsc; k++) {
                        if (!sel[k])
                                continue;
                        if (!s->smsc[k].tls_ctx)
                                return reply_f(reply, reply_len, -EINVAL,
                                               "error: tls-fault: %s is not a TLS listener",
                                               s->smsc[k].name);
                        s->smsc[k].f.tls_fault = f;
                }
        } else if (!strcmp(verb, "tls-alert") || !strcmp(verb, "tls-truncate")) {
                int n = 0;
                for (int j = 0; j < SIM_MAX_SESS; j++) {
                        struct sim_sess *ss = &s->sess[j];
                        if (ss->fd < 0 || !sel[ss->smsc] || !ss->tls || !ss->tls_ready)
                                continue;
                        if (verb[4] == 'a')
                                sim_tls_alert(s, ss);
                        else
                                sim_tls_truncate(s, ss);
                        n++;
                }
                sim_flush_all(s);
                return reply_f(reply, reply_len, 0, "ok %s on %d sessions", verb, n);
        } else if (!strcmp(verb, "reset")) {
                int n = 0;
                for (int j = 0; j < SIM_MAX_SESS; j++) {
                        if (s->sess[j].fd >= 0 && sel[s->sess[j].smsc]) {
                                sim_sess_reset(s, &s->sess[j]);
                                n++;
                        }
                }
                return reply_f(reply, reply_len, 0, "ok reset %d sessions", n);
        } else if (!strcmp(verb, "refuse-bind")) {
                if (!a1)
                        return reply_f(reply, reply_len, -EINVAL, "error: refuse-bind: expected STATUS|off");
                if (!strcmp(a1, "off"))
                        u = 0;
                else if (sim_status_parse(a1, &u) < 0 || !u)
                        return reply_f(reply, reply_len, -EINVAL, "error: refuse-bind: unknown status %s", a1);
                for (int k = 0; k < s->n_smsc; k++)
                        if (sel[k])
                                s->smsc[k].f.refuse_bind = u;
        } else if (!strcmp(verb, "hostile")) {
                int which;
                if (!a1)
                        return reply_f(reply, reply_len, -EINVAL, "error: hostile: expected CASE|all|off");
                if (!strcmp(a1, "off"))
                        which = -1;
                else if (!strcmp(a1, "all"))
                        which = -2;
                else if ((which = sim_hostile_lookup(a1)) < 0)
                        return reply_f(reply, reply_len, -ENOENT, "error: hostile: unknown case %s", a1);
                int n = 0;
                for (int k = 0; k < s->n_smsc; k++) {
                        if (!sel[k])
                                continue;
                        s->smsc[k].f.hostile_case = which;
                        if (which == -1)
                                continue;
                        /* sessions already bound get it now; new binds get it after bind_resp */
                        for (int j = 0; j < SIM_MAX_SESS; j++) {
                                struct sim_sess *ss = &s->sess[j];
                                if (ss->fd >= 0 && ss->smsc == k && ss->state != SIM_SESS_OPEN &&
                                    ss->state != SIM_SESS_CLOSING) {
                                        sim_hostile_send(s, ss, which);
                                        n++;
                                }
                        }
                }
                return reply_f(reply, reply_len, 0, "ok sent to %d sessions", n);
        } else if (!strcmp(verb, "mo")) {
                unsigned count = 1, parts = 0, sent = 0;
                const char *a3 = i + 2 < ntok ? tok[i + 2] : NULL;
                char *end;
                if (a1 && (count = (unsigned)strtoul(a1, &end, 10), *end || !count || count > 100000))
                        return reply_f(reply, reply_len, -EINVAL, "error: mo: bad COUNT");
                if (a2 && (parts = (unsigned)strtoul(a2, &end, 10), *end || !parts || parts > 255))
                        return reply_f(reply, reply_len, -EINVAL, "error: mo: bad PARTS");
                if (a3 && (!parts || (sent = (unsigned)strtoul(a3, &end, 10), *end || !sent ||
                                      sent > parts)))
                        return reply_f(reply, reply_len, -EINVAL, "error: mo: bad SENT");
                for (int k = 0; k < s->n_smsc; k++)
                        if (sel[k])
                                for (unsigned c = 0; c < count; c++)
                                        if ((rc = sim_mo_generate_some(s, &s->smsc[k], parts, sent)) < 0)
                                                return reply_f(reply, reply_len, rc, "error: mo: %s", strerror(-rc));
        } else if (!strcmp(verb, "dr")) {
                uint8_t st = SMPP_STATE_DELIVERED;
                if (!a1 || !*a1)
                        return reply_f(reply, reply_len, -EINVAL, "error: dr: expected MESSAGE_ID [STATE]");
                if (a2 && sim_state_parse(a2, &st) < 0)
                        return reply_f(reply, reply_len, -EINVAL, "error: dr: unknown state %s", a2);
                for (int k = 0; k < s->n_smsc; k++)
                        if (sel[k] && (rc = sim_dr_inject(s, &s->smsc[k], a1, st)) < 0)
                                return reply_f(reply, reply_len, rc, "error: dr: %s", strerror(-rc));
        } else if (!strcmp(verb, "set")) {
                if (!a1 || !a2)
                        return reply_f(reply, reply_len, -EINVAL, "error: set: usage: set TARGET KEY VALUE");
                /* the value is the rest of the line (mo_text may hold spaces) */
                char value[256];
                snprintf(value, sizeof(value), "%s", command + (a2 - line));
                size_t vl = strlen(value);
                while (vl && (value[vl - 1] == '\n' || value[vl - 1] == '\r' || value[vl - 1] == ' '))
                        value[--vl] = 0;
                for (int k = 0; k < s->n_smsc; k++) {
                        if (!sel[k])
                                continue;
                        struct sim_knobs nk = s->smsc[k].k;
                        rc = sim_knob_set(&nk, a1, value);
                        if (rc < 0)
                                return reply_f(reply, reply_len, rc, "error: set: %s %s: %s", a1, value,
                                               rc == -ENOENT ? "unknown key" : "bad value");
                        s->smsc[k].k = nk;
                        sim_mo_arm(s, &s->smsc[k]);
                        sim_elink_arm(s, &s->smsc[k]);
                }
        } else {
                return reply_f(reply, reply_len, -EINVAL, "error: unknown command %s (try help)", verb);
        }
        return reply_f(reply, reply_len, 0, "ok");
}

/* ---- control socket ---- */

int sim_ctl_listen(struct smsc_sim *s, const char *path, char *err, size_t err_len)
{
        struct sockaddr_un a = { .sun_family = AF_UNIX };
        if (strlen(path) >= sizeof(a.sun_path)) {
                snprintf(err, err_len, "control path too long: %s", path);
                return -ENAMETOOLONG;
        }
        snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        unlink(path);
        if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(fd, 16) < 0) {
                int e = errno;
                close(fd);
                snprintf(err, err_len, "control socket %s: %s", path, strerror(e));
                return -e;
        }
        s->ctl_fd = fd;
        snprintf(s->ctl_path, sizeof(s->ctl_path), "%s", path);
        return 0;
}

void sim_ctl_on_accept(struct smsc_sim *s)
{
        for (;;) {
                int fd = accept4(s->ctl_fd, NULL, NULL, SOCK_CLOEXEC);
                if (fd < 0)
                        return;
                struct timeval tv = { 1, 0 };
                setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
                setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
                char line[1024];
                size_t n = 0;
                while (n < sizeof(line) - 1) {
                        ssize_t r = recv(fd, line + n, sizeof(line) - 1 - n, 0);
                        if (r <= 0)
                                break;
                        n += (size_t)r;
                        if (memchr(line, '\n', n))
                                break;
                }
                line[n] = 0;
                char *nl = strchr(line, '\n');
                if (nl)
                        *nl = 0;
                size_t cap = 1u << 20;
                char *reply = malloc(cap);
                if (reply) {
                        sim_ctl_locked(s, line, reply, cap);
                        size_t len = strlen(reply);
                        if (len + 1 < cap)
                                reply[len++] = '\n';
                        size_t off = 0;
                        while (off < len) {
                                ssize_t w = send(fd, reply + off, len - off, MSG_NOSIGNAL);
                                if (w <= 0)
                                        break;
                                off += (size_t)w;
                        }
                        free(reply);
                }
                close(fd);
        }
}

/* ---- fault plans ---- */

static void plan_arm(struct smsc_sim *s)
{
        if (s->plan_next >= s->n_plan)
                return;
        uint64_t at = s->plan_start_ns + (uint64_t)(s->plan[s->plan_next].t * 1e9);
        sim_timer_add(s, at, SIM_T_PLAN, 0, NULL, s->plan_gen);
}

void sim_on_timer_plan(struct smsc_sim *s, struct sim_timer *t)
{
        if (t->a != s->plan_gen)
                return;
        double now = (double)(sim_now_ns() - s->plan_start_ns) / 1e9;
        while (s->plan_next < s->n_plan && s->plan[s->plan_next].t <= now + 1e-6) {
                char reply[256];
                const struct sim_plan_step *st = &s->plan[s->plan_next++];
                sim_ctl_locked(s, st->cmd, reply, sizeof(reply));
                fprintf(stderr, "smsc-sim plan t=%.3f at=%.3f %s -> %s\n", st->t, now, st->cmd,
                        reply);
        }
        plan_arm(s);
}

/* Stable insertion sort by time: steps at the same time keep file order. */
static void steps_sort(struct sim_plan_step *st, size_t n)
{
        for (size_t i = 1; i < n; i++) {
                struct sim_plan_step x = st[i];
                size_t j = i;
                while (j > 0 && st[j - 1].t > x.t) {
                        st[j] = st[j - 1];
                        j--;
                }
                st[j] = x;
        }
}

int sim_plan_load(struct smsc_sim *s, const char *path, char *err, size_t err_len)
{
        char dummy[8];
        if (!err) {
                err = dummy;
                err_len = sizeof(dummy);
        }
        FILE *f = fopen(path, "r");
        if (!f) {
                snprintf(err, err_len, "plan: cannot open %s", path);
                return -ENOENT;
        }
        struct sim_plan_step *steps = NULL;
        size_t n = 0, cap = 0;
        char line[512];
        int lineno = 0, rc = 0;
        while (fgets(line, sizeof(line), f)) {
                lineno++;
                char *p = line;
                while (*p == ' ' || *p == '\t')
                        p++;
                char *hash = strchr(p, '#');
                if (hash)
                        *hash = 0;
                size_t l = strlen(p);
                while (l && (p[l - 1] == '\n' || p[l - 1] == '\r' || p[l - 1] == ' ' || p[l - 1] == '\t'))
                        p[--l] = 0;
                if (!l)
                        continue;
                char *end;
                double t = strtod(p, &end);
                if (end == p || t < 0 || (*end != ' ' && *end != '\t')) {
                        snprintf(err, err_len, "plan: %s:%d: expected `T_SECONDS COMMAND ARGS`", path, lineno);
                        rc = -EINVAL;
                        break;
                }
                while (*end == ' ' || *end == '\t')
                        end++;
                if (n == cap) {
                        cap = cap ? cap * 2 : 16;
                        struct sim_plan_step *ns = realloc(steps, cap * sizeof(*ns));
                        if (!ns) {
                                rc = -ENOMEM;
                                break;
                        }
                        steps = ns;
                }
                steps[n].t = t;
                snprintf(steps[n].cmd, sizeof(steps[n].cmd), "%s", end);
                n++;
        }
        fclose(f);
        if (rc < 0) {
                free(steps);
                return rc;
        }
        steps_sort(steps, n);
        free(s->plan);
        s->plan = steps;
        s->n_plan = n;
        s->plan_next = 0;
        s->plan_gen++;
        s->plan_start_ns = sim_now_ns();
        plan_arm(s);
        return 0;
}
