/* The simulator engine started in-process (sim.h), as `smsmux demo` and the
 * dispatcher tests use it: start on free ports, bind and submit over a real
 * socket, drive faults with sim_ctl(), read the summary, play a plan, stop
 * and find the ledger file. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "testlib.h"
#include "sim.h"
#include "pdu/pdu.h"

static struct smsc_sim *start(struct sim_options *o)
{
        struct smsc_sim *s = NULL;
        char err[256];
        int rc = sim_start(o, &s, err, sizeof(err));
        if (rc < 0)
                printf("# sim_start: %s\n", err);
        return s;
}

static struct smsc_sim *start_default(void)
{
        struct sim_options o;
        sim_options_init(&o);
        o.port_base = 0;
        o.seed = 1;
        return start(&o);
}

static int connect_to(uint16_t port)
{
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
        inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
        if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
                close(fd);
                return -1;
        }
        struct timeval tv = { 2, 0 };
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        return fd;
}

/* Read one PDU into buf; returns its length or -1. */
static ssize_t read_pdu(int fd, uint8_t *buf, size_t cap)
{
        size_t have = 0;
        for (;;) {
                ssize_t n = smx_frame_peek(buf, have, 0);
                if (n != 0)
                        return n;
                ssize_t r = recv(fd, buf + have, cap - have, 0);
                if (r <= 0)
                        return -1;
                have += (size_t)r;
        }
}

static uint32_t bind_trx(int fd, const char *sysid, const char *pw)
{
        struct smx_pdu p;
        memset(&p, 0, sizeof(p));
        p.h.command_id = SMPP_BIND_TRANSCEIVER;
        p.h.sequence_number = 1;
        p.u.bind.system_id.p = (const uint8_t *)sysid;
        p.u.bind.system_id.len = (uint16_t)strlen(sysid);
        p.u.bind.password.p = (const uint8_t *)pw;
        p.u.bind.password.len = (uint16_t)strlen(pw);
        p.u.bind.interface_version = SMPP_VERSION_34;
        uint8_t buf[256];
        ssize_t n = smx_pdu_encode(buf, sizeof(buf), &p, NULL, 0);
        if (n <= 0 || send(fd, buf, (size_t)n, 0) != n)
                return 0xffffffff;
        n = read_pdu(fd, buf, sizeof(buf));
        if (n < 16 || smx_get_u32(buf + 4) != SMPP_BIND_TRANSCEIVER_RESP)
                return 0xffffffff;
        return smx_get_u32(buf + 8);
}

/* submit_sm; returns the resp status, message_id copied into id. */
static uint32_t submit(int fd, uint32_t seq, char *id, size_t idcap)
{
        struct smx_pdu p;
        memset(&p, 0, sizeof(p));
        p.h.command_id = SMPP_SUBMIT_SM;
        p.h.sequence_number = seq;
        p.u.sm.source_addr.p = (const uint8_t *)"12345";
        p.u.sm.source_addr.len = 5;
        p.u.sm.destination_addr.p = (const uint8_t *)"447700900001";
        p.u.sm.destination_addr.len = 12;
        p.u.sm.short_message.p = (const uint8_t *)"hi";
        p.u.sm.short_message.len = 2;
        uint8_t buf[512];
        ssize_t n = smx_pdu_encode(buf, sizeof(buf), &p, NULL, 0);
        if (n <= 0 || send(fd, buf, (size_t)n, 0) != n)
                return 0xffffffff;
        n = read_pdu(fd, buf, sizeof(buf));
        if (n < 16 || smx_get_u32(buf + 4) != SMPP_SUBMIT_SM_RESP || smx_get_u32(buf + 12) != seq)
                return 0xffffffff;
        size_t l = 0;
        while (16 + l < (size_t)n && buf[16 + l] && l + 1 < idcap) {
                id[l] = (char)buf[16 + l];
                l++;
        }
        id[l] = 0;
        return smx_get_u32(buf + 8);
}

static void test_start_reports_four_smscs_on_distinct_ports(void)
{
        struct smsc_sim *s = start_default();
        CHECK(s != NULL);
        if (!s)
                return;
        struct sim_smsc_info info[8];
        size_t n = sim_smscs(s, info, 8);
        CHECK_EQ(n, 4);
        CHECK_STR(info[0].name, "smsc1.dc3");
        CHECK_STR(info[1].name, "smsc2.dc3");
        CHECK_STR(info[2].name, "smsc1.bos");
        CHECK_STR(info[3].site, "bos");
        for (size_t i = 0; i < 4; i++) {
                CHECK_NE(info[i].port, 0);
                for (size_t j = i + 1; j < 4; j++)
                        CHECK_NE(info[i].port, info[j].port);
        }
        sim_stop(s);
}

static void test_bind_and_submit_over_socket(void)
{
        struct smsc_sim *s = start_default();
        if (!s) {
                CHECK(0);
                return;
        }
        struct sim_smsc_info info[4];
        sim_smscs(s, info, 4);
        int fd = connect_to(info[2].port);
        CHECK(fd >= 0);
        CHECK_EQ(bind_trx(fd, "smsmux", "secret"), SMPP_ESME_ROK);
        char id[80];
        CHECK_EQ(submit(fd, 2, id, sizeof(id)), SMPP_ESME_ROK);
        CHECK(id[0] != 0);
        close(fd);
        sim_stop(s);
}

static void test_wrong_password_is_refused(void)
{
        struct smsc_sim *s = start_default();
        if (!s) {
                CHECK(0);
                return;
        }
        struct sim_smsc_info info[4];
        sim_smscs(s, info, 4);
        int fd = connect_to(info[0].port);
        CHECK_EQ(bind_trx(fd, "smsmux", "nope"), SMPP_ESME_RINVPASWD);
        close(fd);
        sim_stop(s);
}

static void test_ctl_throttle_changes_answers(void)
{
        struct smsc_sim *s = start_default();
        if (!s) {
                CHECK(0);
                return;
        }
        struct sim_smsc_info info[4];
        sim_smscs(s, info, 4);
        char reply[128], id[80];
        CHECK_EQ(sim_ctl(s, "throttle smsc1.dc3 on", reply, sizeof(reply)), 0);
        CHECK_STR(reply, "ok");
        int fd = connect_to(info[0].port);
        CHECK_EQ(bind_trx(fd, "smsmux", "secret"), SMPP_ESME_ROK);
        CHECK_EQ(submit(fd, 2, id, sizeof(id)), SMPP_ESME_RTHROTTLED);
        CHECK_EQ(sim_ctl(s, "throttle smsc1.dc3 off", reply, sizeof(reply)), 0);
        CHECK_EQ(submit(fd, 3, id, sizeof(id)), SMPP_ESME_ROK);
        close(fd);
        sim_stop(s);
}

static void test_ctl_rejects_unknown_target(void)
{
        struct smsc_sim *s = start_default();
        if (!s) {
                CHECK(0);
                return;
        }
        char reply[128];
        CHECK(sim_ctl(s, "kill smsc7.mars", reply, sizeof(reply)) < 0);
        CHECK(strncmp(reply, "error:", 6) == 0);
        sim_stop(s);
}

static void test_summary_counts_submits(void)
{
        struct smsc_sim *s = start_default();
        if (!s) {
                CHECK(0);
                return;
        }
        struct sim_smsc_info info[4];
        sim_smscs(s, info, 4);
        int fd = connect_to(info[1].port);
        bind_trx(fd, "smsmux", "secret");
        char id[80];
        for (uint32_t q = 2; q < 7; q++)
                submit(fd, q, id, sizeof(id));
        char *json = malloc(1 << 16);
        int n = sim_summary_json(s, json, 1 << 16);
        CHECK(n > 0);
        CHECK(strstr(json, "\"totals\":{\"submit_sm_received\":5,\"submit_sm_accepted\":5") != NULL);
        CHECK(strstr(json, "\"violations\":[]") != NULL);
        free(json);
        close(fd);
        sim_stop(s);
}

static void test_summary_truncates_to_cap(void)
{
        struct smsc_sim *s = start_default();
        if (!s) {
                CHECK(0);
                return;
        }
        char small[64];
        int n = sim_summary_json(s, small, sizeof(small));
        CHECK_EQ(n, 63);
        CHECK_EQ(strlen(small), 63);
        sim_stop(s);
}

static void test_plan_start_kills_on_schedule(void)
{
        struct smsc_sim *s = start_default();
        if (!s) {
                CHECK(0);
                return;
        }
        char path[] = "/tmp/sim-plan-XXXXXX";
        int pfd = mkstemp(path);
        const char plan[] = "0.1 kill site dc3\n";
        CHECK_EQ(write(pfd, plan, sizeof(plan) - 1), (ssize_t)(sizeof(plan) - 1));
        close(pfd);
        char err[128];
        CHECK_EQ(sim_plan_start(s, path, err, sizeof(err)), 0);
        struct timespec ts = { 0, 300 * 1000 * 1000 };
        nanosleep(&ts, NULL);
        char reply[512];
        sim_ctl(s, "status", reply, sizeof(reply));
        CHECK(strstr(reply, "smsc1.dc3=killed") != NULL);
        CHECK(strstr(reply, "smsc1.bos=up") != NULL);
        unlink(path);
        sim_stop(s);
}

static void test_plan_start_rejects_missing_file(void)
{
        struct smsc_sim *s = start_default();
        if (!s) {
                CHECK(0);
                return;
        }
        char err[128] = "";
        CHECK(sim_plan_start(s, "/nonexistent/plan", err, sizeof(err)) < 0);
        CHECK(err[0] != 0);
        sim_stop(s);
}

static void test_stop_writes_ledger_file(void)
{
        char path[] = "/tmp/sim-ledger-XXXXXX";
        int lfd = mkstemp(path);
        close(lfd);
        struct sim_options o;
        sim_options_init(&o);
        o.port_base = 0;
        o.ledger_path = path;
        o.sites = "a";
        o.smscs_per_site = 3;
        struct smsc_sim *s = start(&o);
        CHECK(s != NULL);
        sim_stop(s);
        FILE *f = fopen(path, "r");
        char buf[8192] = "";
        size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;
        buf[n] = 0;
        if (f)
                fclose(f);
        CHECK(strstr(buf, "\"name\":\"smsc3.a\"") != NULL);
        CHECK(strstr(buf, "\"final\":true") != NULL);
        unlink(path);
}

static void test_start_fails_on_busy_port(void)
{
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in a = { .sin_family = AF_INET };
        inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
        bind(fd, (struct sockaddr *)&a, sizeof(a));
        listen(fd, 1);
        socklen_t al = sizeof(a);
        getsockname(fd, (struct sockaddr *)&a, &al);
        struct sim_options o;
        sim_options_init(&o);
        o.port_base = ntohs(a.sin_port);
        struct smsc_sim *s = NULL;
        char err[256] = "";
        int rc = sim_start(&o, &s, err, sizeof(err));
        CHECK(rc < 0);
        CHECK(strstr(err, "cannot listen") != NULL);
        close(fd);
}


struct hook_seen {
        int calls;
        char msgid[80];
        uint8_t state;
};

static int take_every_dr(void *arg, const char *message_id, uint8_t message_state)
{
        struct hook_seen *h = arg;
        h->calls++;
        snprintf(h->msgid, sizeof(h->msgid), "%s", message_id);
        h->state = message_state;
        return 1;
}

static void test_dr_hook_takes_drs_off_smpp(void)
{
        struct smsc_sim *s = start_default();
        if (!s) {
                CHECK(0);
                return;
        }
        struct hook_seen seen = { 0 };
        sim_set_dr_hook(s, take_every_dr, &seen);
        char reply[64];
        sim_ctl(s, "set all dr_delay_ms 5", reply, sizeof(reply));
        struct sim_smsc_info info[4];
        sim_smscs(s, info, 4);
        int fd = connect_to(info[0].port);
        CHECK_EQ(bind_trx(fd, "smsmux", "secret"), SMPP_ESME_ROK);
        struct smx_pdu p;
        memset(&p, 0, sizeof(p));
        p.h.command_id = SMPP_SUBMIT_SM;
        p.h.sequence_number = 2;
        p.u.sm.source_addr.p = (const uint8_t *)"12345";
        p.u.sm.source_addr.len = 5;
        p.u.sm.destination_addr.p = (const uint8_t *)"447700900001";
        p.u.sm.destination_addr.len = 12;
        p.u.sm.registered_delivery = SMPP_REGDEL_FINAL;
        uint8_t buf[512];
        ssize_t n = smx_pdu_encode(buf, sizeof(buf), &p, NULL, 0);
        CHECK(n > 0 && send(fd, buf, (size_t)n, 0) == n);
        n = read_pdu(fd, buf, sizeof(buf));
        CHECK(n > 17);
        char id[80] = "";
        for (size_t k = 0; n > 17 && k + 1 < sizeof(id) && 16 + k < (size_t)n && buf[16 + k]; k++) {
                id[k] = (char)buf[16 + k];
                id[k + 1] = 0;
        }
        struct timespec ts = { 0, 100 * 1000 * 1000 };
        nanosleep(&ts, NULL);
        char *json = malloc(1 << 16);
        sim_summary_json(s, json, 1 << 16);
        CHECK_EQ(seen.calls, 1);
        CHECK_STR(seen.msgid, id);
        CHECK_EQ(seen.state, SMPP_STATE_DELIVERED);
        CHECK(strstr(json, "\"dr_sent\":0,") != NULL);
        CHECK(strstr(json, "\"dr_handed_off\":1") != NULL);
        free(json);
        close(fd);
        sim_stop(s);
}

int main(void)
{
        RUN(test_start_reports_four_smscs_on_distinct_ports);
        RUN(test_bind_and_submit_over_socket);
        RUN(test_wrong_password_is_refused);
        RUN(test_ctl_throttle_changes_answers);
        RUN(test_ctl_rejects_unknown_target);
        RUN(test_summary_counts_submits);
        RUN(test_summary_truncates_to_cap);
        RUN(test_plan_start_kills_on_schedule);
        RUN(test_plan_start_rejects_missing_file);
        RUN(test_stop_writes_ledger_file);
        RUN(test_start_fails_on_busy_port);
        RUN(test_dr_hook_takes_drs_off_smpp);
        return t_done();
}
