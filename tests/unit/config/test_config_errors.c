/* A wrong config file gives a clear error: tests per kind of bad value
 * (unknown section or key, syntax, bad number, out of range, duplicate
 * name, missing site/host/port, bad boolean, bad enumeration, bad
 * transport, bad HTTP address), each asserting that the message starts with
 * "FILE:LINE: " for the line at fault and names the key (or section) and,
 * where it is not a secret, the value. */
#include <stdarg.h>

#include "config/config_file.h"
#include "testlib.h"

static char err[512];

/* Load text as "t.ini" and finish it. True when that fails with SMX_EINVAL
 * and a message starting "t.ini:LINE: " that holds every string of the
 * NULL-terminated list; otherwise the message is printed as a TAP comment. */
static int bad_config(const char *text, unsigned line, ...)
{
        struct smx_config_file f;
        smx_config_file_init(&f);
        err[0] = '\0';
        int rc = smx_config_file_load_string(&f, text, "t.ini", err, sizeof err);
        if (rc == 0)
                rc = smx_config_file_finish(&f, err, sizeof err);
        smx_config_file_free(&f);
        char prefix[32];
        snprintf(prefix, sizeof prefix, "t.ini:%u: ", line);
        int ok = rc == SMX_EINVAL && strncmp(err, prefix, strlen(prefix)) == 0;
        va_list ap;
        va_start(ap, line);
        for (const char *want; (want = va_arg(ap, const char *)) != NULL;)
                ok = ok && strstr(err, want) != NULL;
        va_end(ap);
        if (!ok)
                printf("# rc %d, message: %s\n", rc, err);
        return ok;
}

/* ---- an indented line continues the previous value (found by fuzz_config) ---- */

/* inih gives an indented line after a key line to that key as more value:
 * an indented password line became part of window's value and its error
 * quoted it ("window: 'password =ese2cretpw' is not a whole number"). */
static void test_indented_line_is_refused_without_quoting_it(void)
{
        CHECK(bad_config("[client]\nwindow  =5\n       password =ese2cretpw\n", 3,
                         "indented line continues the value of 'window'", NULL));
        CHECK(strstr(err, "ese2cretpw") == NULL);
        /* a string key would have taken the line silently as its value */
        CHECK(bad_config("[client]\nsystem_id = esme\n\tpassword = secret77\n", 3,
                         "continues the value of 'system_id'", NULL));
        CHECK(strstr(err, "secret77") == NULL);
}

static void test_indented_key_after_a_header_is_a_key(void)
{
        struct smx_config_file f;
        smx_config_file_init(&f);
        err[0] = '\0';
        int rc = smx_config_file_load_string(&f, "[client]\n  window = 7\nworkers = 1\n",
                                             "t.ini", err, sizeof err);
        if (rc != 0)
                printf("# %s\n", err);
        CHECK(rc == 0 && f.cfg.window == 7);
        smx_config_file_free(&f);
}

/* ---- unknown section or key ---- */

static void test_unknown_section_with_a_name_names_file_line(void)
{
        CHECK(bad_config("[client]\nwindow = 2\n\n[smsx a]\n", 4, "unknown section",
                         "[smsx a]", NULL));
}

static void test_unknown_section_names_file_line(void)
{
        CHECK(bad_config("[client]\nwindow = 2\n[clinet]\n", 3, "unknown section", "[clinet]",
                         NULL));
}

static void test_unknown_key_names_file_line_and_key(void)
{
        CHECK(bad_config("[client]\nwindow = 3\nwindw = 4\n", 3, "unknown key", "'windw'",
                         "[client]", NULL));
}

static void test_unknown_smsc_key_names_file_line_and_section(void)
{
        CHECK(bad_config("[smsc a]\nhost = h\nport = 1\nsite = s\ncolour = red\n", 5,
                         "unknown key", "'colour'", "[smsc a]", NULL));
}

static void test_unknown_key_in_site_names_file_line_and_key(void)
{
        CHECK(bad_config("[site dc3]\nweight = 2\ncolour = red\n", 3, "unknown key",
                         "'colour'", "[site dc3]", NULL));
}

static void test_unknown_key_in_http_names_file_line_and_key(void)
{
        CHECK(bad_config("[http]\nurl = http://a/x\nurls = http://b/y\n", 3, "unknown key",
                         "'urls'", "[http]", NULL));
}

static void test_section_name_with_a_space_inside_names_file_line(void)
{
        CHECK(bad_config("[client]\n[smsc a b]\n", 2, "[smsc a b]", "bad name", NULL));
}

static void test_section_name_with_at_sign_names_file_line(void)
{
        CHECK(bad_config("[site dc3@x]\nweight = 1\n", 1, "[site dc3@x]", "bad name", NULL));
}

static void test_key_outside_any_section_names_file_line_and_key(void)
{
        CHECK(bad_config("window = 2\n", 1, "outside any section", "'window'", NULL));
}

static void test_syntax_error_names_its_line(void)
{
        CHECK(bad_config("[client]\nwindow = 2\njust words\n", 3, "syntax error", NULL));
}

/* ---- bad number ---- */

static void test_bad_number_names_file_line_key_and_value(void)
{
        CHECK(bad_config("[client]\n\nwindow = 12x\n", 3, "[client] window", "'12x'",
                         "whole number", NULL));
}

static void test_bad_number_in_smsc_names_file_line_key_and_value(void)
{
        CHECK(bad_config("[smsc a]\nsite = s\nwindow = ten\n", 3, "[smsc a]", "window",
                         "'ten'", "whole number", NULL));
}

static void test_negative_number_names_file_line_key_and_value(void)
{
        CHECK(bad_config("[client]\nmax_attempts = -3\n", 2, "max_attempts", "'-3'", NULL));
}

static void test_bad_site_weight_names_file_line_and_value(void)
{
        CHECK(bad_config("[site dc3]\n\nweight = heavy\n", 3, "[site dc3] weight", "'heavy'",
                         NULL));
}

static void test_bad_http_number_names_file_line_key_and_value(void)
{
        CHECK(bad_config("[http]\ntimeout_ms = 5s\n", 2, "[http] timeout_ms", "'5s'", NULL));
}

static void test_capacity_must_be_power_of_two(void)
{
        CHECK(bad_config("[client]\n\ningress_capacity = 1000\n", 3, "ingress_capacity",
                         "'1000'", "power of two", NULL));
}

/* ---- out of range ---- */

static void test_client_value_over_range_names_file_line_and_range(void)
{
        CHECK(bad_config("[client]\nwindow = 65536\n", 2, "window", "'65536'", "1..65535", NULL));
}

static void test_value_past_32_bits_names_file_line_and_key(void)
{
        CHECK(bad_config("[client]\n\n\nrebind_interval_ms = 4294967296\n", 4,
                         "rebind_interval_ms", "'4294967296'", NULL));
        CHECK(bad_config("[client]\nrebind_interval_ms = 99999999999999999999\n", 2,
                         "rebind_interval_ms", NULL));
}

static void test_port_over_range_names_file_line_and_range(void)
{
        CHECK(bad_config("[smsc a]\nport = 65536\n", 2, "port", "'65536'", "1..65535", NULL));
}

static void test_port_zero_names_file_line_and_range(void)
{
        CHECK(bad_config("[smsc a]\nport = 0\n", 2, "port", "'0'", "1..65535", NULL));
}

static void test_site_weight_zero_names_file_line_and_range(void)
{
        CHECK(bad_config("[site dc3]\nweight = 0\n", 2, "weight", "1..1000000", NULL));
}

static void test_resubmit_pause_takes_whole_seconds_in_range(void)
{
        CHECK(bad_config("[http]\nresubmit_pause = 30s\n", 2, "resubmit_pause", "'30s'",
                         "seconds", NULL));
        CHECK(bad_config("[http]\n\nresubmit_pause = 86401\n", 3, "resubmit_pause",
                         "0..86400", NULL));
}

static void test_http_value_under_range_names_file_line_and_range(void)
{
        CHECK(bad_config("[http]\nmax_host_conns = 0\n", 2, "max_host_conns", "1..65535", NULL));
        CHECK(bad_config("[http]\nreceiver_max_request_s = 0\n", 2, "receiver_max_request_s",
                         "1..86400", NULL));
}

static void test_string_too_long_names_file_line_and_length(void)
{
        CHECK(bad_config("[smsc a]\nsystem_id = abcdefghijklmnopqrstu\n", 2, "system_id",
                         "length 21", NULL));
}

/* ---- duplicate names ---- */

static void test_duplicate_smsc_section_is_rejected(void)
{
        CHECK(bad_config("[smsc a]\nport = 1\n[smsc a]\n", 3, "[smsc a]", "appears twice", NULL));
}

static void test_duplicate_smsc_names_the_second_header_line(void)
{
        CHECK(bad_config("[smsc a]\nsite = s\nhost = h\nport = 1\n\n[site s]\n[smsc a]\n", 7,
                         "[smsc a]", "appears twice", NULL));
}

static void test_duplicate_site_names_the_second_header_line(void)
{
        CHECK(bad_config("[site a]\nweight = 2\n[site a]\n", 3, "[site a]", "appears twice",
                         NULL));
}

static void test_smsc_and_site_may_share_a_name(void)
{
        struct smx_config_file f;
        smx_config_file_init(&f);
        CHECK_EQ(smx_config_file_load_string(&f, "[site a]\nweight = 4\n[smsc a]\nsite = a\n"
                                             "host = h\nport = 1\n", "t.ini", err, sizeof err), 0);
        CHECK_EQ(smx_config_file_finish(&f, err, sizeof err), 0);
        CHECK_EQ(f.cfg.n_smscs, 1);
        CHECK_EQ(f.cfg.smscs[0].site_weight, 4);
        smx_config_file_free(&f);
}

/* ---- missing site, host or port (reported at the section's header) ---- */

static void test_missing_site_names_section_line(void)
{
        CHECK(bad_config("[client]\nwindow = 2\n[smsc c]\nhost = h\nport = 1\n", 3,
                         "[smsc c]", "missing key 'site'", NULL));
}

static void test_missing_host_names_the_second_smsc_line(void)
{
        CHECK(bad_config("[smsc a]\nsite = s\nhost = h\nport = 1\n[smsc b]\nsite = s\nport = 2\n",
                         5, "[smsc b]", "missing key 'host'", NULL));
}

static void test_missing_host_names_section_line(void)
{
        CHECK(bad_config("[client]\nwindow = 2\n\n[smsc b]\nsite = x\nport = 2775\n", 4,
                         "[smsc b]", "missing key 'host'", NULL));
}

static void test_missing_port_names_section_line(void)
{
        CHECK(bad_config("\n[smsc d]\nsite = s\nhost = h\n", 2, "[smsc d]",
                         "missing key 'port'", NULL));
        CHECK(bad_config("[smsc b]\nsite = x\nhost = h\n", 1, "[smsc b]", "'port'", NULL));
}

static void test_empty_smsc_section_is_reported(void)
{
        CHECK(bad_config("[client]\n[smsc empty]\n", 2, "[smsc empty]", "missing key", NULL));
}

/* ---- bad boolean ---- */

static void test_bad_client_bool_names_file_line_key_and_value(void)
{
        CHECK(bad_config("[client]\nwindow = 2\npin_workers = maybe\n", 3, "pin_workers",
                         "'maybe'", "boolean", NULL));
}

static void test_bad_smsc_bool_names_file_line_key_and_value(void)
{
        CHECK(bad_config("[smsc a]\ngsm_packed = 2\n", 2, "gsm_packed", "'2'", "boolean", NULL));
}

static void test_bad_http_bool_names_file_line_key_and_value(void)
{
        CHECK(bad_config("[http]\ninsecure = sometimes\n", 2, "insecure", "'sometimes'",
                         "boolean", NULL));
}

static void test_bool_takes_each_documented_word_in_any_case(void)
{
        static const char *const words[] = { "1", "TRUE", "Yes", "on", "0", "false", "NO", "Off" };
        for (size_t i = 0; i < 8; i++) {
                char text[64];
                snprintf(text, sizeof text, "[client]\npin_workers = %s\n", words[i]);
                struct smx_config_file f;
                smx_config_file_init(&f);
                CHECK_EQ(smx_config_file_load_string(&f, text, "t.ini", err, sizeof err), 0);
                CHECK_EQ(f.cfg.pin_workers, i < 4 ? 1 : 0);
                smx_config_file_free(&f);
        }
}

/* ---- bad enumeration or transport ---- */

static void test_bad_route_policy_names_file_line_and_choices(void)
{
        CHECK(bad_config("[client]\n\nroute_policy = random\n", 3, "route_policy", "'random'",
                         "round_robin, least_outstanding, site_weighted", NULL));
}

static void test_bad_bind_mode_names_file_line_and_choices(void)
{
        CHECK(bad_config("[smsc a]\nbind_mode = both\n", 2, "bind_mode", "'both'",
                         "trx, tx, rx", NULL));
}

static void test_bad_transport_names_file_line_and_choices(void)
{
        CHECK(bad_config("[http]\n\ntransport = carrier-pigeon\n", 3, "transport",
                         "'carrier-pigeon'", "smpp, http, both", NULL));
        CHECK(bad_config("[http]\nurl = http://a/x\ntransport = pigeon\n", 3, "transport",
                         "'pigeon'", NULL));
}

static void test_transport_in_capitals_is_rejected(void)
{
        CHECK(bad_config("[http]\ntransport = HTTP\n", 2, "transport", "'HTTP'", NULL));
}

/* ---- bad HTTP addresses ---- */

static void test_receiver_without_port_names_file_line_and_key(void)
{
        CHECK(bad_config("[http]\nreceiver = 127.0.0.1\n", 2, "receiver", "IPv4:PORT", NULL));
}

static void test_receiver_octet_over_255_names_file_line_and_key(void)
{
        CHECK(bad_config("[http]\nreceiver = 300.0.0.1:80\n", 2, "receiver", "'300.0.0.1:80'",
                         NULL));
}

static void test_dns_server_without_port_names_file_line_and_key(void)
{
        CHECK(bad_config("[http]\ntransport = http\ndns_server = nohostport\n", 3, "dns_server",
                         "HOST:PORT", NULL));
}

static void test_receiver_ipv6_without_brackets_names_file_line_and_key(void)
{
        CHECK(bad_config("[http]\nreceiver = ::1:8080\n", 2, "receiver", "[IPv6]:PORT", NULL));
        CHECK(bad_config("[http]\nreceiver = [::1]\n", 2, "receiver", "'[::1]'", NULL));
        CHECK(bad_config("[http]\nreceiver = [::g]:80\n", 2, "receiver", "'[::g]:80'", NULL));
        CHECK(bad_config("[http]\nreceiver = [::1]:65536\n", 2, "receiver", "'[::1]:65536'", NULL));
}

static void test_url_not_http_names_file_line_and_url(void)
{
        CHECK(bad_config("[http]\nurl = http://a/x, ftp://b/y\n", 2, "url", "'ftp://b/y'", NULL));
}

/* ---- which error is reported ---- */

static void test_first_bad_value_is_the_one_reported(void)
{
        CHECK(bad_config("[client]\nwindow = x\nworkers = y\n", 2, "window", "'x'", NULL));
        CHECK(strstr(err, "workers") == NULL);
}

static void test_syntax_error_before_a_bad_value_is_the_one_reported(void)
{
        CHECK(bad_config("[client]\nno equals sign\nwindow = x\n", 2, "syntax error", NULL));
}

int main(void)
{
        RUN(test_indented_line_is_refused_without_quoting_it);
        RUN(test_indented_key_after_a_header_is_a_key);
        RUN(test_unknown_section_names_file_line);
        RUN(test_unknown_section_with_a_name_names_file_line);
        RUN(test_unknown_key_names_file_line_and_key);
        RUN(test_unknown_smsc_key_names_file_line_and_section);
        RUN(test_unknown_key_in_site_names_file_line_and_key);
        RUN(test_unknown_key_in_http_names_file_line_and_key);
        RUN(test_section_name_with_a_space_inside_names_file_line);
        RUN(test_section_name_with_at_sign_names_file_line);
        RUN(test_key_outside_any_section_names_file_line_and_key);
        RUN(test_syntax_error_names_its_line);
        RUN(test_bad_number_names_file_line_key_and_value);
        RUN(test_bad_number_in_smsc_names_file_line_key_and_value);
        RUN(test_negative_number_names_file_line_key_and_value);
        RUN(test_bad_site_weight_names_file_line_and_value);
        RUN(test_bad_http_number_names_file_line_key_and_value);
        RUN(test_capacity_must_be_power_of_two);
        RUN(test_client_value_over_range_names_file_line_and_range);
        RUN(test_value_past_32_bits_names_file_line_and_key);
        RUN(test_port_over_range_names_file_line_and_range);
        RUN(test_port_zero_names_file_line_and_range);
        RUN(test_site_weight_zero_names_file_line_and_range);
        RUN(test_resubmit_pause_takes_whole_seconds_in_range);
        RUN(test_http_value_under_range_names_file_line_and_range);
        RUN(test_string_too_long_names_file_line_and_length);
        RUN(test_duplicate_smsc_section_is_rejected);
        RUN(test_duplicate_smsc_names_the_second_header_line);
        RUN(test_duplicate_site_names_the_second_header_line);
        RUN(test_smsc_and_site_may_share_a_name);
        RUN(test_missing_site_names_section_line);
        RUN(test_missing_host_names_section_line);
        RUN(test_missing_host_names_the_second_smsc_line);
        RUN(test_missing_port_names_section_line);
        RUN(test_empty_smsc_section_is_reported);
        RUN(test_bad_client_bool_names_file_line_key_and_value);
        RUN(test_bad_smsc_bool_names_file_line_key_and_value);
        RUN(test_bad_http_bool_names_file_line_key_and_value);
        RUN(test_bool_takes_each_documented_word_in_any_case);
        RUN(test_bad_route_policy_names_file_line_and_choices);
        RUN(test_bad_bind_mode_names_file_line_and_choices);
        RUN(test_bad_transport_names_file_line_and_choices);
        RUN(test_transport_in_capitals_is_rejected);
        RUN(test_receiver_without_port_names_file_line_and_key);
        RUN(test_receiver_octet_over_255_names_file_line_and_key);
        RUN(test_dns_server_without_port_names_file_line_and_key);
        RUN(test_receiver_ipv6_without_brackets_names_file_line_and_key);
        RUN(test_url_not_http_names_file_line_and_url);
        RUN(test_first_bad_value_is_the_one_reported);
        RUN(test_syntax_error_before_a_bad_value_is_the_one_reported);
        return t_done();
}
