/* Unit tests of the config-file loader (src/config): a good file, defaults,
 * a real file on disk, command-line values laid over the file, the [http]
 * section, and secrets kept out of messages. Each kind of bad value has its
 * test in test_config_errors.c. */
#include <unistd.h>

#include "config/config_file.h"
#include "testlib.h"

static char err[512];

/* Load text as "t.ini"; returns the loader's code. f must be freed. */
static int load(struct smx_config_file *f, const char *text)
{
        err[0] = '\0';
        smx_config_file_init(f);
        int rc = smx_config_file_load_string(f, text, "t.ini", err, sizeof err);
        if (rc == 0)
                rc = smx_config_file_finish(f, err, sizeof err);
        return rc;
}

static const char good[] =
        "; a full file\n"
        "[client]\n"
        "system_id = acme\n"
        "password = s3cret\n"
        "workers = 3\n"
        "pin_workers = false\n"
        "window = 20\n"
        "ingress_capacity = 1024\n"
        "event_capacity = 2048\n"
        "rebind_interval_ms = 31000\n"
        "rebind_jitter_ms = 500\n"
        "connect_timeout_ms = 1001\n"
        "bind_timeout_ms = 1002\n"
        "response_timeout_ms = 1003\n"
        "enquire_link_interval_ms = 1004\n"
        "enquire_link_timeout_ms = 1005\n"
        "unbind_timeout_ms = 1006\n"
        "pdu_read_timeout_ms = 1007\n"
        "no_route_timeout_ms = 1008\n"
        "retry_backoff_ms = 1009\n"
        "max_attempts = 7\n"
        "max_pdu = 4096\n"
        "route_policy = site_weighted\n"
        "dr_park_timeout_ms = 1010\n"
        "dedup_window_ms = 1011\n"
        "\n"
        "[site dc3]\n"
        "weight = 3\n"
        "\n"
        "[smsc smsc1.dc3]\n"
        "site = dc3\n"
        "host = 127.0.0.1\n"
        "port = 2775\n"
        "system_id = other\n"
        "password = pw2\n"
        "system_type = VMA\n"
        "bind_mode = tx\n"
        "window = 5\n"
        "tps = 100\n"
        "\n"
        "[smsc smsc1.bos]\n"
        "site = bos\n"
        "host = ::1\n"
        "port = 2777\n";

static void test_good_file_sets_every_client_key(void)
{
        struct smx_config_file f;
        CHECK_EQ(load(&f, good), 0);
        const struct smx_config *c = &f.cfg;
        CHECK_STR(c->system_id, "acme");
        CHECK_STR(c->password, "s3cret");
        CHECK_EQ(c->workers, 3);
        CHECK_EQ(c->pin_workers, 0);
        CHECK_EQ(c->window, 20);
        CHECK_EQ(c->ingress_capacity, 1024);
        CHECK_EQ(c->event_capacity, 2048);
        CHECK_EQ(c->rebind_interval_ms, 31000);
        CHECK_EQ(c->rebind_jitter_ms, 500);
        CHECK_EQ(c->connect_timeout_ms, 1001);
        CHECK_EQ(c->bind_timeout_ms, 1002);
        CHECK_EQ(c->response_timeout_ms, 1003);
        CHECK_EQ(c->enquire_link_interval_ms, 1004);
        CHECK_EQ(c->enquire_link_timeout_ms, 1005);
        CHECK_EQ(c->unbind_timeout_ms, 1006);
        CHECK_EQ(c->pdu_read_timeout_ms, 1007);
        CHECK_EQ(c->no_route_timeout_ms, 1008);
        CHECK_EQ(c->retry_backoff_ms, 1009);
        CHECK_EQ(c->max_attempts, 7);
        CHECK_EQ(c->max_pdu, 4096);
        CHECK_EQ(c->route_policy, SMX_ROUTE_SITE_WEIGHTED);
        CHECK_EQ(c->dr_park_timeout_ms, 1010);
        CHECK_EQ(c->dedup_window_ms, 1011);
        smx_config_file_free(&f);
}

static void test_good_file_sets_every_smsc_key_and_site_weight(void)
{
        struct smx_config_file f;
        CHECK_EQ(load(&f, good), 0);
        CHECK_EQ(f.cfg.n_smscs, 2);
        CHECK(f.cfg.smscs == f.smscs);
        const struct smx_smsc_config *s = &f.cfg.smscs[0];
        CHECK_STR(s->name, "smsc1.dc3");
        CHECK_STR(s->site, "dc3");
        CHECK_STR(s->host, "127.0.0.1");
        CHECK_EQ(s->port, 2775);
        CHECK_STR(s->system_id, "other");
        CHECK_STR(s->password, "pw2");
        CHECK_STR(s->system_type, "VMA");
        CHECK_EQ(s->bind_mode, SMX_BIND_TX);
        CHECK_EQ(s->window, 5);
        CHECK_EQ(s->tps, 100);
        CHECK_EQ(s->site_weight, 3);
        s = &f.cfg.smscs[1];
        CHECK_STR(s->name, "smsc1.bos");
        CHECK_STR(s->host, "::1");
        CHECK(s->system_id == NULL);          /* client default */
        CHECK_EQ(s->bind_mode, SMX_BIND_TRX);
        CHECK_EQ(s->site_weight, 1);          /* no [site bos] */
        smx_config_file_free(&f);
}

static void test_keys_left_out_keep_library_defaults(void)
{
        struct smx_config_file f;
        struct smx_config def;
        smx_config_init(&def);
        CHECK_EQ(load(&f, "[client]\nwindow = 3\n"), 0);
        CHECK_EQ(f.cfg.window, 3);
        CHECK_EQ(f.cfg.rebind_interval_ms, def.rebind_interval_ms);
        CHECK_EQ(f.cfg.response_timeout_ms, def.response_timeout_ms);
        CHECK_EQ(f.cfg.n_smscs, 0);
        smx_config_file_free(&f);
}

static void test_password_never_appears_in_messages(void)
{
        struct smx_config_file f;
        CHECK_EQ(load(&f, "[client]\npassword = topsecretvalue\n"), SMX_EINVAL);
        CHECK(strstr(err, "password") != NULL);
        CHECK(strstr(err, "topsecretvalue") == NULL);
        smx_config_file_free(&f);
}

static void test_load_reads_a_real_file_and_reports_its_path(void)
{
        char path[] = "/tmp/smx-config-XXXXXX";
        int fd = mkstemp(path);
        CHECK(fd >= 0);
        if (fd < 0)
                return;
        static const char text[] = "[client]\nwindow = 9\n[smsc a]\nsite = s\nhost = h\nport = 7\nbogus = 1\n";
        CHECK_EQ(write(fd, text, sizeof text - 1), (long long)(sizeof text - 1));
        close(fd);
        struct smx_config_file f;
        smx_config_file_init(&f);
        CHECK_EQ(smx_config_file_load(&f, path, err, sizeof err), SMX_EINVAL);
        CHECK(strncmp(err, path, strlen(path)) == 0);
        CHECK(strstr(err, ":7:") != NULL);
        smx_config_file_free(&f);
        unlink(path);
}

static void test_missing_file_is_an_error_naming_it(void)
{
        struct smx_config_file f;
        smx_config_file_init(&f);
        CHECK_EQ(smx_config_file_load(&f, "/nonexistent/smx.ini", err, sizeof err), SMX_EINVAL);
        CHECK(strstr(err, "/nonexistent/smx.ini") != NULL);
        smx_config_file_free(&f);
}

static void test_flag_smsc_overrides_address_and_keeps_file_settings(void)
{
        struct smx_config_file f;
        smx_config_file_init(&f);
        CHECK_EQ(smx_config_file_load_string(&f, good, "t.ini", err, sizeof err), 0);
        CHECK_EQ(smx_config_file_add_smsc(&f, "smsc1.dc3", "dc3", "10.0.0.1", 3000, err, sizeof err), 0);
        CHECK_EQ(smx_config_file_add_smsc(&f, "new.x", "x", "10.0.0.2", 3001, err, sizeof err), 0);
        CHECK_EQ(smx_config_file_finish(&f, err, sizeof err), 0);
        CHECK_EQ(f.cfg.n_smscs, 3);
        CHECK_STR(f.cfg.smscs[0].host, "10.0.0.1");
        CHECK_EQ(f.cfg.smscs[0].port, 3000);
        CHECK_STR(f.cfg.smscs[0].system_id, "other");   /* kept from the file */
        CHECK_EQ(f.cfg.smscs[0].window, 5);
        CHECK_STR(f.cfg.smscs[2].name, "new.x");
        CHECK_EQ(f.cfg.smscs[2].port, 3001);
        smx_config_file_free(&f);
}

static void test_flag_smsc_with_bad_name_is_rejected(void)
{
        struct smx_config_file f;
        smx_config_file_init(&f);
        CHECK_EQ(smx_config_file_add_smsc(&f, "", "dc3", "h", 1, err, sizeof err), SMX_EINVAL);
        CHECK_EQ(smx_config_file_add_smsc(&f, "a b", "dc3", "h", 1, err, sizeof err), SMX_EINVAL);
        CHECK_EQ(smx_config_file_add_smsc(&f, "a", "dc3", "h", 0, err, sizeof err), SMX_EINVAL);
        CHECK_EQ(f.n_smscs, 0);
        smx_config_file_free(&f);
}

static void test_http_section_reaches_the_http_config(void)
{
        struct smx_config_file f;
        CHECK_EQ(load(&f, "[http]\n"
                          "transport = both\n"
                          "url = https://a.example/api, http://b.example/api\n"
                          "url = http://c.example/api\n"
                          "login = acme\n"
                          "password = hpw\n"
                          "use_get = yes\n"
                          "ca_file = /etc/ca.pem\n"
                          "insecure = true\n"
                          "dns_server = 127.0.0.1:5353\n"
                          "max_host_conns = 4\n"
                          "max_in_flight = 64\n"
                          "connect_timeout_ms = 700\n"
                          "timeout_ms = 900\n"
                          "stall_ms = 1200\n"
                          "resubmit_pause = 12\n"
                          "retry_backoff_ms = 250\n"
                          "probe_interval_ms = 333\n"
                          "primary_healthy_ms = 4444\n"
                          "dns_grace_ms = 555\n"
                          "receiver = 127.0.0.1:8080\n"
                          "receiver_secret = rs\n"
                          "receiver_allow = 10.0.0.0/8\n"
                          "receiver_max_body = 4096\n"
                          "receiver_max_request_s = 7\n"), 0);
        const struct smx_http_config *h = f.cfg.http;
        CHECK(h == &f.http);
        if (!h) {
                smx_config_file_free(&f);
                return;
        }
        CHECK_EQ(h->transport, SMX_TRANSPORT_BOTH);
        CHECK_EQ(h->n_urls, 3);
        CHECK_STR(h->urls[0], "https://a.example/api");
        CHECK_STR(h->urls[1], "http://b.example/api");
        CHECK_STR(h->urls[2], "http://c.example/api");
        CHECK_STR(h->login, "acme");
        CHECK_STR(h->password, "hpw");
        CHECK_EQ(h->use_get, 1);
        CHECK_STR(h->ca_file, "/etc/ca.pem");
        CHECK_EQ(h->insecure, 1);
        CHECK_STR(h->dns_server, "127.0.0.1:5353");
        CHECK_EQ(h->max_host_conns, 4);
        CHECK_EQ(h->max_in_flight, 64);
        CHECK_EQ(h->connect_timeout_ms, 700);
        CHECK_EQ(h->timeout_ms, 900);
        CHECK_EQ(h->stall_ms, 1200);
        CHECK_EQ(h->resubmit_pause_ms, 12000);
        CHECK_EQ(h->retry_backoff_ms, 250);
        CHECK_EQ(h->probe_interval_ms, 333);
        CHECK_EQ(h->primary_healthy_ms, 4444);
        CHECK_EQ(h->dns_grace_ms, 555);
        CHECK_STR(h->receiver, "127.0.0.1:8080");
        CHECK_STR(h->receiver_secret, "rs");
        CHECK_STR(h->receiver_allow, "10.0.0.0/8");
        CHECK_EQ(h->receiver_max_body, 4096);
        CHECK_EQ(h->receiver_max_request_s, 7);
        smx_config_file_free(&f);
}

static void test_http_receiver_may_be_an_ipv6_literal_in_brackets(void)
{
        struct smx_config_file f;
        CHECK_EQ(load(&f, "[http]\nreceiver = [::1]:8080\nreceiver_allow = ::1/128,10.0.0.0/8\n"), 0);
        CHECK(f.cfg.http != NULL);
        if (f.cfg.http) {
                CHECK_STR(f.cfg.http->receiver, "[::1]:8080");
                CHECK_STR(f.cfg.http->receiver_allow, "::1/128,10.0.0.0/8");
        }
        smx_config_file_free(&f);
        CHECK_EQ(load(&f, "[http]\nreceiver = [2001:db8::5]:0\n"), 0);
        smx_config_file_free(&f);
}

static void test_no_http_section_leaves_http_unset(void)
{
        struct smx_config_file f;
        CHECK_EQ(load(&f, "[client]\nwindow = 3\n"), 0);
        CHECK(f.cfg.http == NULL);
        smx_config_file_free(&f);
}

static void test_http_password_never_appears_in_messages(void)
{
        struct smx_config_file f;
        char text[512] = "[http]\npassword = ";
        size_t n = strlen(text);
        memset(text + n, 'Q', 20);
        memcpy(text + n + 20, "\nbogus = 1\n", 12);  /* a later error must not echo it */
        CHECK_EQ(load(&f, text), SMX_EINVAL);
        CHECK(strstr(err, "bogus") != NULL);
        CHECK(strstr(err, "QQQQ") == NULL);
        smx_config_file_free(&f);
        memset(text + n, 'Q', 300);     /* too long for a line: still not echoed */
        text[n + 300] = '\n';
        text[n + 301] = '\0';
        CHECK_EQ(load(&f, text), SMX_EINVAL);
        CHECK(strstr(err, "QQQQ") == NULL);
        smx_config_file_free(&f);
        CHECK_EQ(load(&f, "[http]\nreceiver_secret = \n"), SMX_EINVAL);
        CHECK(strstr(err, "receiver_secret") != NULL);
        smx_config_file_free(&f);
}

static void test_parse_u32_takes_only_whole_decimal_numbers(void)
{
        uint32_t v = 0;
        CHECK_EQ(smx_config_parse_u32("4294967295", 0, 0xFFFFFFFFu, &v), 0);
        CHECK_EQ(v, 4294967295u);
        CHECK_EQ(smx_config_parse_u32("", 0, 10, &v), SMX_EINVAL);
        CHECK_EQ(smx_config_parse_u32("+1", 0, 10, &v), SMX_EINVAL);
        CHECK_EQ(smx_config_parse_u32("1 ", 0, 10, &v), SMX_EINVAL);
        CHECK_EQ(smx_config_parse_u32("11", 0, 10, &v), SMX_EINVAL);
        CHECK_EQ(smx_config_parse_u32("0", 1, 10, &v), SMX_EINVAL);
}

int main(void)
{
        RUN(test_good_file_sets_every_client_key);
        RUN(test_good_file_sets_every_smsc_key_and_site_weight);
        RUN(test_keys_left_out_keep_library_defaults);
        RUN(test_password_never_appears_in_messages);
        RUN(test_load_reads_a_real_file_and_reports_its_path);
        RUN(test_missing_file_is_an_error_naming_it);
        RUN(test_flag_smsc_overrides_address_and_keeps_file_settings);
        RUN(test_flag_smsc_with_bad_name_is_rejected);
        RUN(test_parse_u32_takes_only_whole_decimal_numbers);
        RUN(test_http_section_reaches_the_http_config);
        RUN(test_http_receiver_may_be_an_ipv6_literal_in_brackets);
        RUN(test_no_http_section_leaves_http_unset);
        RUN(test_http_password_never_appears_in_messages);
        return t_done();
}
