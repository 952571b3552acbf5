/* Unit tests of the pure parts of the smsmux CLI (tools/smsmux): flag
 * parsing, the flags-over-file overlay, event lines, MT request parsing, the
 * duplicate-id set and the latency percentiles. */
#include <unistd.h>

#include "cli_json.h"
#include "cli_opts.h"
#include "idset.h"
#include "tally.h"
#include "testlib.h"

static char err[512];

static int parse(struct cli_opts *o, enum cli_cmd cmd, const char *const *args)
{
        char *argv[32];
        int argc = 0;
        argv[argc++] = (char *)"cmd";
        for (; *args && argc < 31; args++)
                argv[argc++] = (char *)*args;
        argv[argc] = NULL;
        err[0] = '\0';
        return cli_opts_parse(o, cmd, argc, argv, err, sizeof err);
}

static void test_smsc_spec_splits_name_site_host_port(void)
{
        struct cli_smsc s;
        CHECK_EQ(cli_parse_smsc_spec("smsc1.dc3@dc3=127.0.0.1:2775", &s), 0);
        CHECK_STR(s.name, "smsc1.dc3");
        CHECK_STR(s.site, "dc3");
        CHECK_STR(s.host, "127.0.0.1");
        CHECK_EQ(s.port, 2775);
}

static void test_smsc_spec_takes_bracketed_ipv6(void)
{
        struct cli_smsc s;
        CHECK_EQ(cli_parse_smsc_spec("a@b=[::1]:10", &s), 0);
        CHECK_STR(s.host, "::1");
        CHECK_EQ(s.port, 10);
}

static void test_smsc_spec_rejects_malformed(void)
{
        struct cli_smsc s;
        CHECK_EQ(cli_parse_smsc_spec("a=h:1", &s), -1);
        CHECK_EQ(cli_parse_smsc_spec("a@b", &s), -1);
        CHECK_EQ(cli_parse_smsc_spec("@b=h:1", &s), -1);
        CHECK_EQ(cli_parse_smsc_spec("a@=h:1", &s), -1);
        CHECK_EQ(cli_parse_smsc_spec("a@b=h", &s), -1);
        CHECK_EQ(cli_parse_smsc_spec("a@b=h:0", &s), -1);
        CHECK_EQ(cli_parse_smsc_spec("a@b=h:65536", &s), -1);
        CHECK_EQ(cli_parse_smsc_spec("a@b=:5", &s), -1);
        CHECK_EQ(cli_parse_smsc_spec("a@b=[::1]5", &s), -1);
}

static void test_seconds_parse_whole_and_fractional(void)
{
        uint32_t ms = 0;
        CHECK_EQ(cli_parse_seconds("30", 100000, &ms), 0);
        CHECK_EQ(ms, 30000);
        CHECK_EQ(cli_parse_seconds("1.5", 100000, &ms), 0);
        CHECK_EQ(ms, 1500);
        CHECK_EQ(cli_parse_seconds("0.25", 100000, &ms), 0);
        CHECK_EQ(ms, 250);
        CHECK_EQ(cli_parse_seconds("", 100000, &ms), -1);
        CHECK_EQ(cli_parse_seconds(".", 100000, &ms), -1);
        CHECK_EQ(cli_parse_seconds("1s", 100000, &ms), -1);
        CHECK_EQ(cli_parse_seconds("-1", 100000, &ms), -1);
        CHECK_EQ(cli_parse_seconds("101", 100000, &ms), -1);
}

static void test_pipe_defaults(void)
{
        struct cli_opts o;
        const char *a[] = { NULL };
        CHECK_EQ(parse(&o, CLI_PIPE, a), 0);
        CHECK_EQ(o.drain_timeout_ms, 30000);
        CHECK_EQ(o.rebind_interval_ms, -1);
        CHECK_EQ(o.window, -1);
        CHECK_EQ(o.n_smscs, 0);
}

static void test_common_flags_are_read(void)
{
        struct cli_opts o;
        const char *a[] = { "--smsc", "a@s=h:1", "--smsc", "b@s=h:2", "--system-id", "me",
                            "--password", "pw", "--rebind-interval", "1.5", "--window", "7",
                            "--tps", "50", "--workers", "2", "--drain-timeout", "3", NULL };
        CHECK_EQ(parse(&o, CLI_PIPE, a), 0);
        CHECK_EQ(o.n_smscs, 2);
        CHECK_STR(o.smscs[1].name, "b");
        CHECK_STR(o.system_id, "me");
        CHECK_STR(o.password, "pw");
        CHECK_EQ(o.rebind_interval_ms, 1500);
        CHECK_EQ(o.window, 7);
        CHECK_EQ(o.tps, 50);
        CHECK_EQ(o.workers, 2);
        CHECK_EQ(o.drain_timeout_ms, 3000);
}

static void test_unknown_flag_is_a_usage_error(void)
{
        struct cli_opts o;
        const char *a[] = { "--bogus", NULL };
        CHECK_EQ(parse(&o, CLI_PIPE, a), -1);
        CHECK(strstr(err, "--bogus") != NULL);
}

static void test_flag_of_another_command_is_refused(void)
{
        struct cli_opts o;
        const char *a[] = { "--count", "5", NULL };
        CHECK_EQ(parse(&o, CLI_PIPE, a), -1);
        CHECK(strstr(err, "count") != NULL);
        CHECK_EQ(parse(&o, CLI_BENCH, a), 0);
        CHECK_EQ(o.count, 5);
}

static void test_flag_without_value_is_a_usage_error(void)
{
        struct cli_opts o;
        const char *a[] = { "--window", NULL };
        CHECK_EQ(parse(&o, CLI_PIPE, a), -1);
        CHECK(strstr(err, "--window") != NULL);
}

static void test_bad_values_are_usage_errors(void)
{
        struct cli_opts o;
        const char *a1[] = { "--smsc", "nonsense", NULL };
        CHECK_EQ(parse(&o, CLI_PIPE, a1), -1);
        const char *a2[] = { "--window", "0", NULL };
        CHECK_EQ(parse(&o, CLI_PIPE, a2), -1);
        const char *a3[] = { "--rebind-interval", "soon", NULL };
        CHECK_EQ(parse(&o, CLI_PIPE, a3), -1);
        const char *a4[] = { "extra", NULL };
        CHECK_EQ(parse(&o, CLI_PIPE, a4), -1);
}

static void test_bench_count_and_seconds_exclude_each_other(void)
{
        struct cli_opts o;
        const char *a[] = { "--count", "5", "--seconds", "2", NULL };
        CHECK_EQ(parse(&o, CLI_BENCH, a), -1);
        const char *b[] = { NULL };
        CHECK_EQ(parse(&o, CLI_BENCH, b), 0);
        CHECK_EQ(o.count, 100000);
        const char *c[] = { "--seconds", "2", NULL };
        CHECK_EQ(parse(&o, CLI_BENCH, c), 0);
        CHECK_EQ(o.count, 0);
        CHECK_EQ(o.seconds_ms, 2000);
}

static void test_demo_takes_duration_and_rate(void)
{
        struct cli_opts o;
        const char *a[] = { "--duration", "12", "--rate", "50", NULL };
        CHECK_EQ(parse(&o, CLI_DEMO, a), 0);
        CHECK_EQ(o.duration_ms, 12000);
        CHECK_EQ(o.rate, 50);
        const char *b[] = { NULL };
        CHECK_EQ(parse(&o, CLI_DEMO, b), 0);
        CHECK_EQ(o.duration_ms, 90000);
}

static void test_demo_refuses_smsc_and_config(void)
{
        struct cli_opts o;
        const char *a[] = { "--smsc", "a@b=h:1", NULL };
        CHECK_EQ(parse(&o, CLI_DEMO, a), -1);
        CHECK(strstr(err, "smsc") != NULL);
        const char *b[] = { "--config", "x.ini", NULL };
        CHECK_EQ(parse(&o, CLI_DEMO, b), -1);
        CHECK_EQ(parse(&o, CLI_BENCH, a), 0);
}

/* Write text into a fresh temporary file named by path (a mkstemp
 * template); 0, or -1 after failing the check. */
static int write_config(char *path, const char *text, size_t len)
{
        int fd = mkstemp(path);
        CHECK(fd >= 0);
        if (fd < 0)
                return -1;
        CHECK_EQ(write(fd, text, len), (long long)len);
        close(fd);
        return 0;
}

static void test_flags_win_over_the_config_file(void)
{
        char path[] = "/tmp/smx-cli-XXXXXX";
        static const char text[] =
                "[client]\nsystem_id = filesys\nrebind_interval_ms = 45000\nwindow = 4\n"
                "[smsc s1]\nsite = x\nhost = 10.1.1.1\nport = 100\nwindow = 9\ntps = 5\n"
                "system_id = own\n";
        if (write_config(path, text, sizeof text - 1) < 0)
                return;
        struct cli_opts o;
        const char *a[] = { "--config", path, "--system-id", "flagsys", "--rebind-interval", "2",
                            "--window", "20", "--tps", "0", "--smsc", "s1@x=127.0.0.1:200",
                            "--smsc", "s2@y=127.0.0.1:201", NULL };
        CHECK_EQ(parse(&o, CLI_PIPE, a), 0);
        struct smx_config_file f;
        smx_config_file_init(&f);
        CHECK_EQ(cli_build_config(&o, &f, err, sizeof err), 0);
        CHECK_STR(f.cfg.system_id, "flagsys");
        CHECK_EQ(f.cfg.rebind_interval_ms, 2000);
        CHECK_EQ(f.cfg.window, 20);
        CHECK_EQ(f.cfg.n_smscs, 2);
        CHECK_STR(f.cfg.smscs[0].host, "127.0.0.1");
        CHECK_EQ(f.cfg.smscs[0].port, 200);
        CHECK_EQ(f.cfg.smscs[0].window, 0);          /* the flag's client window */
        CHECK_EQ(f.cfg.smscs[0].tps, 0);
        CHECK_STR(f.cfg.smscs[0].system_id, "own");  /* per-SMSC credentials stay */
        CHECK_STR(f.cfg.smscs[1].name, "s2");
        smx_config_file_free(&f);
        unlink(path);
}

static void test_http_flags_win_over_the_http_section(void)
{
        char path[] = "/tmp/smx-cli-XXXXXX";
        static const char text[] =
                "[http]\ntransport = both\nurl = http://file1/a, http://file2/a\n"
                "login = filelogin\nresubmit_pause = 40\ntimeout_ms = 1234\n"
                "receiver = 127.0.0.1:9000\n";
        if (write_config(path, text, sizeof text - 1) < 0)
                return;
        struct cli_opts o;
        const char *a[] = { "--config", path, "--transport", "http", "--http-url", "http://flag/a",
                            "--http-resubmit-pause", "5", NULL };
        CHECK_EQ(parse(&o, CLI_PIPE, a), 0);
        struct smx_config_file f;
        smx_config_file_init(&f);
        CHECK_EQ(cli_build_config(&o, &f, err, sizeof err), 0);
        const struct smx_http_config *h = f.cfg.http;
        CHECK(h != NULL);
        if (h) {
                CHECK_EQ(h->transport, SMX_TRANSPORT_HTTP);        /* flags */
                CHECK_EQ(h->n_urls, 1);
                CHECK_STR(h->urls[0], "http://flag/a");
                CHECK_EQ(h->resubmit_pause_ms, 5000);
                CHECK_STR(h->login, "filelogin");                  /* file, no flag */
                CHECK_EQ(h->timeout_ms, 1234);
                CHECK_STR(h->receiver, "127.0.0.1:9000");
        }
        smx_config_file_free(&f);
        unlink(path);
}

static void test_smsc_spec_takes_tls_scheme(void)
{
        struct cli_smsc s;
        CHECK_EQ(cli_parse_smsc_spec("a@b=tls://smsc.example:3550", &s), 0);
        CHECK_EQ(s.tls, 1);
        CHECK_STR(s.host, "smsc.example");
        CHECK_EQ(s.port, 3550);
        CHECK_EQ(cli_parse_smsc_spec("a@b=tls://[::1]:3550", &s), 0);
        CHECK_EQ(s.tls, 1);
        CHECK_STR(s.host, "::1");
        CHECK_EQ(cli_parse_smsc_spec("a@b=10.0.0.1:2775", &s), 0);
        CHECK_EQ(s.tls, 0);
        CHECK_EQ(cli_parse_smsc_spec("a@b=tls://:1", &s), -1);
}

/* The TLS flags go to every TLS SMSC (file or flag), over the file's own
 * settings; a plain --smsc over a file's TLS SMSC makes it plain. */
static void test_tls_flags_win_over_the_smsc_sections(void)
{
        char path[] = "/tmp/smx-cli-XXXXXX";
        static const char text[] =
                "[smsc f1]\nsite = x\nhost = h1\nport = 1\ntls = true\nca_file = /file/ca.pem\n"
                "server_name = file.example\n"
                "[smsc f2]\nsite = x\nhost = h2\nport = 2\ntls = true\nca_file = /f2/ca.pem\n";
        if (write_config(path, text, sizeof text - 1) < 0)
                return;
        struct cli_opts o;
        const char *a[] = { "--config", path, "--ca-file", "/flag/ca.pem", "--tls-server-name",
                            "flag.example", "--cert-file", "/c.pem", "--key-file", "/c.key",
                            "--smsc", "s1@y=tls://127.0.0.1:200", "--smsc", "f2@x=h2:2", NULL };
        CHECK_EQ(parse(&o, CLI_PIPE, a), 0);
        struct smx_config_file f;
        smx_config_file_init(&f);
        CHECK_EQ(cli_build_config(&o, &f, err, sizeof err), 0);
        CHECK_EQ(f.cfg.n_smscs, 3);
        const struct smx_smsc_config *f1 = &f.cfg.smscs[0], *f2 = &f.cfg.smscs[1],
                                     *s1 = &f.cfg.smscs[2];
        CHECK_EQ(f1->tls, 1);
        CHECK_STR(f1->ca_file, "/flag/ca.pem");
        CHECK_STR(f1->server_name, "flag.example");
        CHECK_STR(f1->cert_file, "/c.pem");
        CHECK_STR(f1->key_file, "/c.key");
        CHECK_EQ(f2->tls, 0);                       /* the plain flag wins ... */
        CHECK(f2->ca_file == NULL);                 /* ... with no TLS settings left */
        CHECK_EQ(s1->tls, 1);
        CHECK_STR(s1->ca_file, "/flag/ca.pem");
        CHECK(f.cfg.http == NULL);                  /* --ca-file alone makes no HTTP transport */
        smx_config_file_free(&f);
        unlink(path);
        const char *b[] = { "--smsc", "s@y=tls://h:1", "--cert-file", "/c.pem", NULL };
        CHECK_EQ(parse(&o, CLI_PIPE, b), -1);       /* a certificate without its key */
}

static void test_config_error_is_reported(void)
{
        struct cli_opts o;
        const char *a[] = { "--config", "/nonexistent/x.ini", NULL };
        CHECK_EQ(parse(&o, CLI_PIPE, a), 0);
        struct smx_config_file f;
        smx_config_file_init(&f);
        CHECK_EQ(cli_build_config(&o, &f, err, sizeof err), -1);
        CHECK(strstr(err, "/nonexistent/x.ini") != NULL);
        smx_config_file_free(&f);
}

static struct jbuf jb;

static const char *line(void)
{
        static char s[2048];
        size_t n = jb.len < sizeof s - 1 ? jb.len : sizeof s - 1;
        memcpy(s, jb.p, n);
        s[n] = '\0';
        return s;
}

static void test_submitted_event_line_matches_contract(void)
{
        struct smx_event ev = { .type = SMX_EV_SUBMITTED, .id = "app-1", .smsc = "smsc1.dc3",
                                .message_id = "A1B2" };
        CHECK_EQ(cli_json_event(&jb, &ev), 0);
        CHECK_STR(line(), "{\"event\":\"submitted\",\"id\":\"app-1\",\"smsc\":\"smsc1.dc3\","
                          "\"message_id\":\"A1B2\"}\n");
}

static void test_failed_event_line_matches_contract(void)
{
        struct smx_event ev = { .type = SMX_EV_FAILED, .id = "app-1", .reason = SMX_FAIL_NO_ROUTE };
        CHECK_EQ(cli_json_event(&jb, &ev), 0);
        CHECK_STR(line(), "{\"event\":\"failed\",\"id\":\"app-1\",\"reason\":\"no_route\","
                          "\"permanent\":false}\n");
        ev.reason = SMX_FAIL_REJECTED;
        ev.permanent = 1;
        CHECK_EQ(cli_json_event(&jb, &ev), 0);
        CHECK_STR(line(), "{\"event\":\"failed\",\"id\":\"app-1\",\"reason\":\"rejected\","
                          "\"permanent\":true}\n");
}

static void test_dr_event_line_matches_contract(void)
{
        struct smx_event ev = { .type = SMX_EV_DR, .id = "app-1", .message_id = "A1B2",
                                .state = SMX_DR_DELIVERED, .smsc = "smsc2.bos" };
        CHECK_EQ(cli_json_event(&jb, &ev), 0);
        CHECK_STR(line(), "{\"event\":\"dr\",\"id\":\"app-1\",\"message_id\":\"A1B2\","
                          "\"state\":\"DELIVERED\",\"smsc\":\"smsc2.bos\"}\n");
}

static void test_uncorrelated_dr_has_null_id(void)
{
        struct smx_event ev = { .type = SMX_EV_DR, .id = NULL, .message_id = "X",
                                .state = SMX_DR_UNDELIVERABLE, .smsc = "s" };
        CHECK_EQ(cli_json_event(&jb, &ev), 0);
        CHECK_STR(line(), "{\"event\":\"dr\",\"id\":null,\"message_id\":\"X\","
                          "\"state\":\"UNDELIVERABLE\",\"smsc\":\"s\"}\n");
}

/* A binary MO's text is its bytes as hex: the line says so, so it cannot be
 * taken for a handset's text "DEAD". */
static void test_raw_mo_line_says_raw(void)
{
        struct smx_event ev = { .type = SMX_EV_MO, .from = "4477", .to = "123", .text = "DEAD",
                                .text_len = 4, .smsc = "s", .raw = 1 };
        CHECK_EQ(cli_json_event(&jb, &ev), 0);
        CHECK_STR(line(), "{\"event\":\"mo\",\"from\":\"4477\",\"to\":\"123\",\"text\":\"DEAD\","
                          "\"smsc\":\"s\",\"raw\":true}\n");
        ev.raw = 0;
        CHECK_EQ(cli_json_event(&jb, &ev), 0);
        CHECK_STR(line(), "{\"event\":\"mo\",\"from\":\"4477\",\"to\":\"123\",\"text\":\"DEAD\","
                          "\"smsc\":\"s\"}\n");
}

/* A receipt with neither id nor state keeps its bytes on the line. */
static void test_raw_dr_line_carries_its_bytes(void)
{
        struct smx_event ev = { .type = SMX_EV_DR, .id = NULL, .message_id = "",
                                .state = SMX_DR_UNKNOWN, .smsc = "s", .raw = 1,
                                .text = "6869", .text_len = 4 };
        CHECK_EQ(cli_json_event(&jb, &ev), 0);
        CHECK_STR(line(), "{\"event\":\"dr\",\"id\":null,\"message_id\":\"\","
                          "\"state\":\"UNKNOWN\",\"smsc\":\"s\",\"raw\":true,\"text\":\"6869\"}\n");
}

static void test_single_part_dr_line_has_no_part_or_final(void)
{
        struct smx_event ev = { .type = SMX_EV_DR, .id = "app-1", .message_id = "A1B2",
                                .state = SMX_DR_DELIVERED, .smsc = "smsc2.bos", .part = 1,
                                .parts = 1, .mt_final = 1, .mt_state = SMX_DR_DELIVERED };
        CHECK_EQ(cli_json_event(&jb, &ev), 0);
        CHECK_STR(line(), "{\"event\":\"dr\",\"id\":\"app-1\",\"message_id\":\"A1B2\","
                          "\"state\":\"DELIVERED\",\"smsc\":\"smsc2.bos\"}\n");
}

static void test_multipart_dr_line_has_part_and_final_on_the_merging_dr(void)
{
        struct smx_event ev = { .type = SMX_EV_DR, .id = "app-7", .message_id = "C3",
                                .state = SMX_DR_DELIVERED, .smsc = "smsc1.dc3", .part = 2,
                                .parts = 3 };
        CHECK_EQ(cli_json_event(&jb, &ev), 0);
        CHECK_STR(line(), "{\"event\":\"dr\",\"id\":\"app-7\",\"message_id\":\"C3\","
                          "\"state\":\"DELIVERED\",\"smsc\":\"smsc1.dc3\",\"part\":2}\n");
        ev.part = 3;
        ev.state = SMX_DR_EXPIRED;
        ev.mt_final = 1;
        ev.mt_state = SMX_DR_EXPIRED;
        CHECK_EQ(cli_json_event(&jb, &ev), 0);
        CHECK_STR(line(), "{\"event\":\"dr\",\"id\":\"app-7\",\"message_id\":\"C3\","
                          "\"state\":\"EXPIRED\",\"smsc\":\"smsc1.dc3\",\"part\":3,"
                          "\"final\":true,\"mt_state\":\"EXPIRED\"}\n");
}

static void test_mo_event_line_has_parts_only_when_more_than_one(void)
{
        struct smx_event ev = { .type = SMX_EV_MO, .from = "447700900001", .to = "12345",
                                .text = "hi", .text_len = 2, .smsc = "smsc1.bos", .parts = 1 };
        CHECK_EQ(cli_json_event(&jb, &ev), 0);
        CHECK_STR(line(), "{\"event\":\"mo\",\"from\":\"447700900001\",\"to\":\"12345\","
                          "\"text\":\"hi\",\"smsc\":\"smsc1.bos\"}\n");
        ev.parts = 3;
        CHECK_EQ(cli_json_event(&jb, &ev), 0);
        CHECK_STR(line(), "{\"event\":\"mo\",\"from\":\"447700900001\",\"to\":\"12345\","
                          "\"text\":\"hi\",\"smsc\":\"smsc1.bos\",\"parts\":3}\n");
}

static void test_bind_event_lines_match_contract(void)
{
        struct smx_event ev = { .type = SMX_EV_BIND, .smsc = "smsc1.bos", .site = "bos", .up = 1 };
        CHECK_EQ(cli_json_event(&jb, &ev), 0);
        CHECK_STR(line(), "{\"event\":\"bind\",\"smsc\":\"smsc1.bos\",\"site\":\"bos\","
                          "\"state\":\"up\"}\n");
        ev.up = 0;
        ev.bind_reason = "connection reset";
        CHECK_EQ(cli_json_event(&jb, &ev), 0);
        CHECK_STR(line(), "{\"event\":\"bind\",\"smsc\":\"smsc1.bos\",\"site\":\"bos\","
                          "\"state\":\"down\",\"reason\":\"connection reset\"}\n");
}

static void test_strings_are_escaped_and_utf8_passes(void)
{
        jbuf_reset(&jb);
        static const char in[] = "a\"b\\c\n\x01\xc3\xa9\xe2\x82\xac";
        jbuf_str(&jb, in, sizeof in - 1);
        CHECK_STR(line(), "\"a\\\"b\\\\c\\n\\u0001\xc3\xa9\xe2\x82\xac\"");
}

static void test_invalid_utf8_becomes_replacement_character(void)
{
        jbuf_reset(&jb);
        jbuf_str(&jb, "x\xff\xc3", 3);
        CHECK_STR(line(), "\"x\xef\xbf\xbd\xef\xbf\xbd\"");
        jbuf_reset(&jb);
        jbuf_str(&jb, "\xed\xa0\x80", 3);          /* a UTF-16 surrogate: invalid */
        CHECK_STR(line(), "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"");
}

static void test_nul_in_mo_text_is_escaped(void)
{
        jbuf_reset(&jb);
        jbuf_str(&jb, "a\0b", 3);
        CHECK_STR(line(), "\"a\\u0000b\"");
}

static void test_cli_failed_line_carries_line_number_without_id(void)
{
        CHECK_EQ(cli_json_failed(&jb, NULL, 0, "bad_request", 1, 7), 0);
        CHECK_STR(line(), "{\"event\":\"failed\",\"id\":null,\"reason\":\"bad_request\","
                          "\"permanent\":true,\"line\":7}\n");
        CHECK_EQ(cli_json_failed(&jb, "x", 1, "duplicate_id", 1, 7), 0);
        CHECK_STR(line(), "{\"event\":\"failed\",\"id\":\"x\",\"reason\":\"duplicate_id\","
                          "\"permanent\":true}\n");
}

static int mt_parse(const char *s, struct cli_mt *mt)
{
        char why[160];
        return cli_mt_parse(s, strlen(s), mt, why, sizeof why);
}

static void test_mt_line_is_parsed_with_defaults(void)
{
        struct cli_mt mt;
        CHECK_EQ(mt_parse("{\"id\":\"app-1\",\"from\":\"12345\",\"to\":\"447700900001\","
                          "\"text\":\"hello\"}", &mt), 0);
        CHECK_STR(mt.mt.id, "app-1");
        CHECK_EQ(mt.id_len, 5);
        CHECK_STR(mt.mt.from, "12345");
        CHECK_STR(mt.mt.to, "447700900001");
        CHECK_STR(mt.mt.text, "hello");
        CHECK_EQ(mt.mt.text_len, 5);
        CHECK_EQ(mt.mt.want_dr, 1);
        CHECK_EQ(mt.mt.encoding, SMX_ENC_AUTO);
        CHECK_EQ(mt.mt.priority, 0);
        cli_mt_release(&mt);
}

static void test_mt_optional_fields_are_read(void)
{
        struct cli_mt mt;
        CHECK_EQ(mt_parse("{\"id\":\"a\",\"from\":\"1\",\"to\":\"2\",\"text\":\"t\","
                          "\"dr\":false,\"encoding\":\"ucs2\",\"priority\":2}", &mt), 0);
        CHECK_EQ(mt.mt.want_dr, 0);
        CHECK_EQ(mt.mt.encoding, SMX_ENC_UCS2);
        CHECK_EQ(mt.mt.priority, 2);
        cli_mt_release(&mt);
}

static void test_mt_not_json_has_no_id(void)
{
        struct cli_mt mt;
        CHECK_EQ(mt_parse("not json", &mt), -1);
        CHECK(mt.id == NULL);
        cli_mt_release(&mt);
        CHECK_EQ(mt_parse("[1,2]", &mt), -1);
        CHECK(mt.id == NULL);
        cli_mt_release(&mt);
        CHECK_EQ(mt_parse("{\"id\":5,\"from\":\"1\",\"to\":\"2\",\"text\":\"t\"}", &mt), -1);
        CHECK(mt.id == NULL);
        cli_mt_release(&mt);
}

static void test_mt_missing_field_keeps_the_id(void)
{
        struct cli_mt mt;
        CHECK_EQ(mt_parse("{\"id\":\"k\",\"from\":\"1\",\"text\":\"t\"}", &mt), -1);
        CHECK(mt.id != NULL);
        CHECK_EQ(mt.id_len, 1);
        cli_mt_release(&mt);
        CHECK_EQ(mt_parse("{\"id\":\"k\",\"from\":\"1\",\"to\":\"2\"}", &mt), -1);
        CHECK(mt.id != NULL);
        cli_mt_release(&mt);
}

static void test_mt_bad_optional_fields_are_bad_requests(void)
{
        struct cli_mt mt;
        CHECK_EQ(mt_parse("{\"id\":\"a\",\"from\":\"1\",\"to\":\"2\",\"text\":\"t\",\"dr\":1}", &mt), -1);
        cli_mt_release(&mt);
        CHECK_EQ(mt_parse("{\"id\":\"a\",\"from\":\"1\",\"to\":\"2\",\"text\":\"t\","
                          "\"encoding\":\"ebcdic\"}", &mt), -1);
        cli_mt_release(&mt);
        CHECK_EQ(mt_parse("{\"id\":\"a\",\"from\":\"1\",\"to\":\"2\",\"text\":\"t\","
                          "\"priority\":4}", &mt), -1);
        cli_mt_release(&mt);
}

static void test_mt_id_longer_than_limit_is_refused(void)
{
        char buf[256];
        char id[SMX_ID_MAX + 2];
        memset(id, 'x', sizeof id - 1);
        id[sizeof id - 1] = '\0';
        snprintf(buf, sizeof buf, "{\"id\":\"%s\",\"from\":\"1\",\"to\":\"2\",\"text\":\"t\"}", id);
        struct cli_mt mt;
        CHECK_EQ(mt_parse(buf, &mt), -1);
        CHECK(mt.id == NULL);
        cli_mt_release(&mt);
}

static void test_mt_text_may_hold_nul(void)
{
        struct cli_mt mt;
        CHECK_EQ(mt_parse("{\"id\":\"a\",\"from\":\"1\",\"to\":\"2\",\"text\":\"a\\u0000b\"}", &mt), 0);
        CHECK_EQ(mt.mt.text_len, 3);
        cli_mt_release(&mt);
}

static void test_idset_reports_repeats(void)
{
        struct idset s;
        idset_init(&s);
        CHECK_EQ(idset_add(&s, "a", 1), 1);
        CHECK_EQ(idset_add(&s, "b", 1), 1);
        CHECK_EQ(idset_add(&s, "a", 1), 0);
        CHECK_EQ(idset_add(&s, "ab", 2), 1);
        CHECK_EQ(idset_has(&s, "ab", 2), 1);
        CHECK_EQ(idset_has(&s, "c", 1), 0);
        idset_free(&s);
}

static void test_idset_keeps_every_id_across_growth(void)
{
        struct idset s;
        char id[16];
        idset_init(&s);
        for (int i = 0; i < 20000; i++) {
                int n = snprintf(id, sizeof id, "id%d", i);
                CHECK_EQ(idset_add(&s, id, (size_t)n), 1);
        }
        int missing = 0;
        for (int i = 0; i < 20000; i++) {
                int n = snprintf(id, sizeof id, "id%d", i);
                missing += !idset_has(&s, id, (size_t)n);
        }
        CHECK_EQ(missing, 0);
        CHECK_EQ(s.n, 20000);
        idset_free(&s);
}

/* Ids that fill several arena chunks (none crosses a chunk's end) are all
 * found again, repeats refused, and idset_bytes() is the documented sum:
 * table slots + whole chunks + the chunk list (soak.py relies on it). */
static void test_idset_packs_ids_into_chunks_and_counts_its_bytes(void)
{
        struct idset s;
        static char id[40000];
        idset_init(&s);
        CHECK_EQ(idset_bytes(&s), 0);
        for (int i = 0; i < 200; i++) {
                memset(id, 'a' + i % 26, sizeof id);
                int n = snprintf(id, 16, "%d", i);
                id[n] = '-';
                CHECK_EQ(idset_add(&s, id, sizeof id), 1);
        }
        size_t per_chunk = IDSET_CHUNK / (sizeof id + 2);
        size_t chunks = (200 + per_chunk - 1) / per_chunk;
        CHECK_EQ(s.n_chunks, chunks);
        CHECK_EQ(idset_bytes(&s), IDSET_MIN_CAP * 8 + chunks * IDSET_CHUNK + 16 * sizeof(char *));
        int found = 0, refused = 0;
        for (int i = 0; i < 200; i++) {
                memset(id, 'a' + i % 26, sizeof id);
                int n = snprintf(id, 16, "%d", i);
                id[n] = '-';
                found += idset_has(&s, id, sizeof id);
                refused += idset_add(&s, id, sizeof id) == 0;
                found -= idset_has(&s, id, sizeof id - 1);      /* a prefix is another id */
        }
        CHECK_EQ(found, 200);
        CHECK_EQ(refused, 200);
        CHECK_EQ(idset_add(&s, "", 0), 1);
        CHECK_EQ(idset_add(&s, "", 0), 0);
        idset_free(&s);
}

static void test_latency_percentiles_are_nearest_rank(void)
{
        struct lat_samples l;
        lat_init(&l, 1 << 20);
        for (uint32_t i = 1000; i >= 1; i--)
                lat_add(&l, i);
        lat_sort(&l);
        CHECK_EQ(lat_pct(&l, 50), 500);
        CHECK_EQ(lat_pct(&l, 99), 990);
        CHECK_EQ(lat_pct(&l, 99.9), 999);
        CHECK_EQ(lat_pct(&l, 100), 1000);
        lat_free(&l);
}

static void test_tally_counts_events_per_smsc(void)
{
        struct tally t;
        memset(&t, 0, sizeof t);
        struct smx_event ev = { .type = SMX_EV_SUBMITTED, .smsc = "a" };
        tally_event(&t, &ev);
        tally_event(&t, &ev);
        ev.type = SMX_EV_DR;
        ev.smsc = "b";
        tally_event(&t, &ev);
        ev.smsc = "";
        tally_event(&t, &ev);
        CHECK_EQ(t.n, 2);
        CHECK_EQ(tally_get(&t, "a")->submitted, 2);
        CHECK_EQ(tally_get(&t, "b")->drs, 1);
        CHECK_EQ(t.other, 1);
}

int main(void)
{
        RUN(test_smsc_spec_splits_name_site_host_port);
        RUN(test_smsc_spec_takes_bracketed_ipv6);
        RUN(test_smsc_spec_rejects_malformed);
        RUN(test_smsc_spec_takes_tls_scheme);
        RUN(test_tls_flags_win_over_the_smsc_sections);
        RUN(test_seconds_parse_whole_and_fractional);
        RUN(test_pipe_defaults);
        RUN(test_common_flags_are_read);
        RUN(test_unknown_flag_is_a_usage_error);
        RUN(test_flag_of_another_command_is_refused);
        RUN(test_flag_without_value_is_a_usage_error);
        RUN(test_bad_values_are_usage_errors);
        RUN(test_bench_count_and_seconds_exclude_each_other);
        RUN(test_demo_takes_duration_and_rate);
        RUN(test_demo_refuses_smsc_and_config);
        RUN(test_flags_win_over_the_config_file);
        RUN(test_http_flags_win_over_the_http_section);
        RUN(test_config_error_is_reported);
        RUN(test_submitted_event_line_matches_contract);
        RUN(test_failed_event_line_matches_contract);
        RUN(test_dr_event_line_matches_contract);
        RUN(test_uncorrelated_dr_has_null_id);
        RUN(test_raw_mo_line_says_raw);
        RUN(test_raw_dr_line_carries_its_bytes);
        RUN(test_single_part_dr_line_has_no_part_or_final);
        RUN(test_multipart_dr_line_has_part_and_final_on_the_merging_dr);
        RUN(test_mo_event_line_has_parts_only_when_more_than_one);
        RUN(test_bind_event_lines_match_contract);
        RUN(test_strings_are_escaped_and_utf8_passes);
        RUN(test_invalid_utf8_becomes_replacement_character);
        RUN(test_nul_in_mo_text_is_escaped);
        RUN(test_cli_failed_line_carries_line_number_without_id);
        RUN(test_mt_line_is_parsed_with_defaults);
        RUN(test_mt_optional_fields_are_read);
        RUN(test_mt_not_json_has_no_id);
        RUN(test_mt_missing_field_keeps_the_id);
        RUN(test_mt_bad_optional_fields_are_bad_requests);
        RUN(test_mt_id_longer_than_limit_is_refused);
        RUN(test_mt_text_may_hold_nul);
        RUN(test_idset_reports_repeats);
        RUN(test_idset_keeps_every_id_across_growth);
        RUN(test_idset_packs_ids_into_chunks_and_counts_its_bytes);
        RUN(test_latency_percentiles_are_nearest_rank);
        RUN(test_tally_counts_events_per_smsc);
        jbuf_free(&jb);
        return t_done();
}
