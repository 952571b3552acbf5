/* The config-file keys added for operations and content (src/config):
 * store sizes, log_level, admin_socket, metrics_addr, and per SMSC
 * segment_mode, data_coding, gsm_packed, msgid_norm. Good values reach the
 * public structs; each bad one is an error naming the file, line and key,
 * and a password never appears in a message. Also the data_coding table
 * text itself (dcs_spec) and what smx_client_create says about it. */
#include "config/config_file.h"
#include "config/dcs_spec.h"
#include "testlib.h"
#include "text/text.h"

static int load(struct smx_config_file *f, const char *text, char *err, size_t n)
{
        smx_config_file_init(f);
        err[0] = 0;
        return smx_config_file_load_string(f, text, "t.ini", err, n);
}

static void test_new_client_keys_reach_the_config(void)
{
        struct smx_config_file f;
        char err[256];
        int rc = load(&f, "[client]\ncorr_capacity = 1000\ncorr_ttl_ms = 5000\n"
                          "park_capacity = 64\ndedup_capacity = 2000\nreasm_groups = 10\n"
                          "reasm_timeout_ms = 7000\nlog_level = info\n"
                          "admin_socket = /run/smsmux.sock\nmetrics_addr = 127.0.0.1:9100\n",
                      err, sizeof err);
        CHECK_EQ(rc, 0);
        if (rc)
                printf("# %s\n", err);
        CHECK_EQ(f.cfg.corr_capacity, 1000);
        CHECK_EQ(f.cfg.corr_ttl_ms, 5000);
        CHECK_EQ(f.cfg.park_capacity, 64);
        CHECK_EQ(f.cfg.dedup_capacity, 2000);
        CHECK_EQ(f.cfg.reasm_groups, 10);
        CHECK_EQ(f.cfg.reasm_timeout_ms, 7000);
        CHECK_EQ(f.cfg.log_level, SMX_LOG_INFO);
        CHECK_STR(f.cfg.admin_socket, "/run/smsmux.sock");
        CHECK_STR(f.cfg.metrics_addr, "127.0.0.1:9100");
        smx_config_file_free(&f);
}

static void test_new_smsc_keys_reach_the_smsc(void)
{
        struct smx_config_file f;
        char err[256];
        int rc = load(&f, "[smsc a]\nsite = s\nhost = 127.0.0.1\nport = 1\n"
                          "segment_mode = sar\ndata_coding = generic,0x00=latin1, 240=binary\n"
                          "gsm_packed = yes\nmsgid_norm = case_fold, hex_to_dec\n",
                      err, sizeof err);
        CHECK_EQ(rc, 0);
        if (rc)
                printf("# %s\n", err);
        CHECK_EQ(smx_config_file_finish(&f, err, sizeof err), 0);
        const struct smx_smsc_config *s = &f.cfg.smscs[0];
        CHECK_EQ(s->segment_mode, SMX_SEGMENT_SAR);
        CHECK_STR(s->data_coding, "generic,0x00=latin1, 240=binary");
        CHECK_EQ(s->gsm_packed, 1);
        CHECK_EQ(s->msgid_norm, SMX_MSGID_NORM_CASE_FOLD | SMX_MSGID_NORM_HEX_TO_DEC);
        smx_config_file_free(&f);
        /* the default is auto (0); "auto" and "exact" say so explicitly */
        static const struct { const char *text; uint32_t want; } norms[] = {
                { "", SMX_MSGID_NORM_AUTO },
                { "msgid_norm = auto\n", SMX_MSGID_NORM_AUTO },
                { "msgid_norm = exact\n", SMX_MSGID_NORM_EXACT },
                { "msgid_norm = strip_zeros\n", SMX_MSGID_NORM_STRIP_ZEROS },
                /* resp id decimal, receipt text id hex (Kannel msg-id-type 2) */
                { "msgid_norm = dec_to_hex\n", SMX_MSGID_NORM_DEC_TO_HEX },
                { "msgid_norm = dec_to_hex, strip_zeros\n",
                  SMX_MSGID_NORM_DEC_TO_HEX | SMX_MSGID_NORM_STRIP_ZEROS },
        };
        for (unsigned i = 0; i < sizeof norms / sizeof norms[0]; i++) {
                char text[160];
                snprintf(text, sizeof text, "[smsc a]\nsite = s\nhost = 127.0.0.1\nport = 1\n%s",
                         norms[i].text);
                CHECK_EQ(load(&f, text, err, sizeof err), 0);
                CHECK_EQ(smx_config_file_finish(&f, err, sizeof err), 0);
                CHECK_EQ(f.cfg.smscs[0].msgid_norm, norms[i].want);
                smx_config_file_free(&f);
        }
}

/* Each bad file: the error starts with "t.ini:LINE:" and names the key. */
static void expect_bad(const char *text, unsigned line, const char *key)
{
        struct smx_config_file f;
        char err[256], want[32];
        CHECK_EQ(load(&f, text, err, sizeof err), SMX_EINVAL);
        snprintf(want, sizeof want, "t.ini:%u:", line);
        if (strncmp(err, want, strlen(want)) || !strstr(err, key)) {
                t_fail_at(__FILE__, __LINE__, "error '%s' lacks '%s' or '%s'", err, want, key);
        }
        smx_config_file_free(&f);
}

static void test_bad_values_name_file_line_and_key(void)
{
        expect_bad("[client]\nlog_level = loud\n", 2, "log_level");
        expect_bad("[client]\n\ncorr_capacity = 0\n", 3, "corr_capacity");
        expect_bad("[client]\nmetrics_addr = nowhere\n", 2, "metrics_addr");
        expect_bad("[client]\nadmin_socket = \n", 2, "admin_socket");
        expect_bad("[smsc a]\nsite=s\nsegment_mode = udh7\n", 3, "segment_mode");
        expect_bad("[smsc a]\ndata_coding = latin\n", 2, "data_coding");
        expect_bad("[smsc a]\ndata_coding = service,300=gsm\n", 2, "data_coding");
        expect_bad("[smsc a]\ndata_coding = service,8=klingon\n", 2, "data_coding");
        expect_bad("[smsc a]\ngsm_packed = maybe\n", 2, "gsm_packed");
        expect_bad("[smsc a]\nmsgid_norm = case_fold,upside_down\n", 2, "msgid_norm");
        expect_bad("[smsc a]\nmsgid_norm = exact, case_fold\n", 2, "msgid_norm");
        expect_bad("[smsc a]\nmsgid_norm = auto,strip_zeros\n", 2, "msgid_norm");
        /* opposite directions: which side is hex? */
        expect_bad("[smsc a]\nmsgid_norm = hex_to_dec, dec_to_hex\n", 2, "msgid_norm");
        expect_bad("[smsc a]\nmsgid_norm = exact, dec_to_hex\n", 2, "msgid_norm");
        expect_bad("[smsc a]\nreasm_groups = 5\n", 2, "reasm_groups");
}

static void test_password_never_appears_in_an_error(void)
{
        struct smx_config_file f;
        char err[256];
        CHECK_EQ(load(&f, "[client]\npassword = hunter2secret\n", err, sizeof err), SMX_EINVAL);
        CHECK(strstr(err, "hunter2") == NULL);
        CHECK(strstr(err, "password") != NULL);
        smx_config_file_free(&f);
        CHECK_EQ(load(&f, "[smsc a]\npassword = s3cr3t\npassword = s3cr3t s3cr3t\n", err,
                      sizeof err), SMX_EINVAL);
        CHECK(strstr(err, "s3cr3t") == NULL);
        smx_config_file_free(&f);
}

static void test_dcs_spec_builds_the_map(void)
{
        struct smx_dcs_map m;
        char err[160];
        CHECK_EQ(smx_dcs_spec_parse(NULL, &m, err, sizeof err), 0);
        CHECK_EQ(m.enc[0], SMX_ENC_UTF8);
        CHECK_EQ(smx_dcs_spec_parse("generic", &m, err, sizeof err), 0);
        CHECK_EQ(m.enc[0], SMX_ENC_GSM);
        CHECK_EQ(smx_dcs_spec_parse("service,0=gsm,0xF0=ucs2", &m, err, sizeof err), 0);
        CHECK_EQ(m.enc[0], SMX_ENC_GSM);
        CHECK_EQ(m.enc[0xF0], SMX_ENC_UCS2);
        CHECK_EQ(m.enc[2], SMX_ENC_GSM);
        CHECK_EQ(smx_dcs_for_encoding(&m, SMX_ENC_GSM), 0);
        CHECK_EQ(smx_dcs_spec_parse("service,=gsm", &m, err, sizeof err), SMX_EINVAL);
        CHECK_EQ(smx_dcs_spec_parse("service,256=gsm", &m, err, sizeof err), SMX_EINVAL);
        CHECK_EQ(smx_dcs_spec_parse("Service", &m, err, sizeof err), SMX_EINVAL);
        CHECK(strstr(err, "Service") != NULL);
}

static void test_client_create_refuses_bad_content_settings(void)
{
        struct smx_smsc_config s = { .name = "a", .site = "s", .host = "127.0.0.1", .port = 1,
                                     .data_coding = "generic,9=nope" };
        struct smx_config cfg;
        smx_config_init(&cfg);
        cfg.smscs = &s;
        cfg.n_smscs = 1;
        smx_client *c = NULL;
        char err[256] = "";
        CHECK_EQ(smx_client_create(&cfg, &c, err, sizeof err), SMX_EINVAL);
        CHECK(strstr(err, "SMSC a") && strstr(err, "data_coding"));
        s.data_coding = NULL;
        s.msgid_norm = 1u << 7;
        CHECK_EQ(smx_client_create(&cfg, &c, err, sizeof err), SMX_EINVAL);
        s.msgid_norm = SMX_MSGID_NORM_EXACT | SMX_MSGID_NORM_CASE_FOLD;
        CHECK_EQ(smx_client_create(&cfg, &c, err, sizeof err), SMX_EINVAL);
        CHECK(strstr(err, "msgid_norm") != NULL);
        s.msgid_norm = SMX_MSGID_NORM_HEX_TO_DEC | SMX_MSGID_NORM_DEC_TO_HEX;
        err[0] = 0;
        CHECK_EQ(smx_client_create(&cfg, &c, err, sizeof err), SMX_EINVAL);
        CHECK(strstr(err, "hex_to_dec and dec_to_hex") != NULL);
        s.msgid_norm = SMX_MSGID_NORM_EXACT | SMX_MSGID_NORM_DEC_TO_HEX;
        CHECK_EQ(smx_client_create(&cfg, &c, err, sizeof err), SMX_EINVAL);
        s.msgid_norm = 1u << 5;         /* past the last flag (DEC_TO_HEX) */
        CHECK_EQ(smx_client_create(&cfg, &c, err, sizeof err), SMX_EINVAL);
        CHECK(strstr(err, "unknown msgid_norm") != NULL);
        s.msgid_norm = 0;
        cfg.metrics_addr = "no-port";
        CHECK_EQ(smx_client_create(&cfg, &c, err, sizeof err), SMX_EINVAL);
        CHECK(strstr(err, "metrics_addr") != NULL);
        cfg.metrics_addr = NULL;
        cfg.park_capacity = 0;
        CHECK_EQ(smx_client_create(&cfg, &c, err, sizeof err), SMX_EINVAL);
        cfg.park_capacity = 16;
        CHECK_EQ(smx_client_create(&cfg, &c, err, sizeof err), 0);
        smx_client_destroy(c);
}

static void test_store_section_reaches_the_config_and_hides_secrets(void)
{
        struct smx_config_file f;
        char err[256];
        int rc = load(&f, "[store]\nurl = redis://u:s3cr3t@10.0.0.5:6380/2\ninstance = app-1\n"
                          "cluster = prod\nuser = smx\npassword = pw123\n"
                          "owner_takeover_ms = 4000\nhold_ms = 700\nlocal_after_ms = 9000\n"
                          "buffer_bytes = 65536\ntimeout_ms = 300\n",
                      err, sizeof err);
        CHECK_EQ(rc, 0);
        CHECK(f.cfg.store.url && !strcmp(f.cfg.store.url, "redis://u:s3cr3t@10.0.0.5:6380/2"));
        CHECK(f.cfg.store.instance && !strcmp(f.cfg.store.instance, "app-1"));
        CHECK(f.cfg.store.cluster && !strcmp(f.cfg.store.cluster, "prod"));
        CHECK(f.cfg.store.user && !strcmp(f.cfg.store.user, "smx"));
        CHECK(f.cfg.store.password && !strcmp(f.cfg.store.password, "pw123"));
        CHECK_EQ(f.cfg.store.owner_takeover_ms, 4000);
        CHECK_EQ(f.cfg.store.hold_ms, 700);
        CHECK_EQ(f.cfg.store.local_after_ms, 9000);
        CHECK_EQ(f.cfg.store.buffer_bytes, 65536);
        CHECK_EQ(f.cfg.store.timeout_ms, 300);
        CHECK(!f.cfg.store.ca_file && !f.cfg.store.cert_file && !f.cfg.store.insecure);
        smx_config_file_free(&f);
        /* TLS to Redis: the SMSC TLS keys under the same names */
        rc = load(&f, "[store]\nurl = rediss://10.0.0.5:6380/2\nca_file = /etc/r/ca.pem\n"
                      "ca_path = /etc/r/certs\ncert_file = /etc/r/c.pem\nkey_file = /etc/r/c.key\n"
                      "server_name = redis.internal\ninsecure = true\n", err, sizeof err);
        CHECK_EQ(rc, 0);
        CHECK(f.cfg.store.ca_file && !strcmp(f.cfg.store.ca_file, "/etc/r/ca.pem"));
        CHECK(f.cfg.store.ca_path && !strcmp(f.cfg.store.ca_path, "/etc/r/certs"));
        CHECK(f.cfg.store.cert_file && !strcmp(f.cfg.store.cert_file, "/etc/r/c.pem"));
        CHECK(f.cfg.store.key_file && !strcmp(f.cfg.store.key_file, "/etc/r/c.key"));
        CHECK(f.cfg.store.server_name && !strcmp(f.cfg.store.server_name, "redis.internal"));
        CHECK_EQ(f.cfg.store.insecure, 1);
        smx_config_file_free(&f);
        /* an unknown key names file, line and key; a bad password value is
         * never echoed */
        CHECK(load(&f, "[store]\nurl = memory\nbogus = 1\n", err, sizeof err) < 0);
        CHECK(strstr(err, "t.ini:3") && strstr(err, "bogus"));
        smx_config_file_free(&f);
        CHECK(load(&f, "[store]\nbuffer_bytes = 12\n", err, sizeof err) < 0);
        CHECK(strstr(err, "buffer_bytes") != NULL);
        smx_config_file_free(&f);
}

static char warned[512];

static void capture_warn(enum smx_log_level level, const char *line, void *arg)
{
        (void)arg;
        if (level == SMX_LOG_WARN && strstr(line, "msgid_norm"))
                snprintf(warned, sizeof warned, "%s", line);
}

/* SMSCs a (site s) and b (site t) with default settings in cfg, and the
 * warnings captured into `warned` (empty now). */
static void two_smscs_warned(struct smx_smsc_config s[2], struct smx_config *cfg)
{
        s[0] = (struct smx_smsc_config){ .name = "a", .site = "s", .host = "127.0.0.1", .port = 1 };
        s[1] = (struct smx_smsc_config){ .name = "b", .site = "t", .host = "127.0.0.1", .port = 2 };
        smx_config_init(cfg);
        cfg->smscs = s;
        cfg->n_smscs = 2;
        smx_log_configure(SMX_LOG_WARN, capture_warn, NULL);
        warned[0] = 0;
}

/* Two SMSCs (which deliver each other's DRs, R3) with different msgid_norm
 * get a warning at create; the same rules (the default) get none. */
static void test_mixed_msgid_norm_is_warned_at_create(void)
{
        struct smx_smsc_config s[2];
        struct smx_config cfg;
        two_smscs_warned(s, &cfg);
        smx_client *c = NULL;
        char err[256] = "";
        CHECK_EQ(smx_client_create(&cfg, &c, err, sizeof err), 0);
        smx_client_destroy(c);
        CHECK_STR(warned, "");
        s[1].msgid_norm = SMX_MSGID_NORM_HEX_TO_DEC;
        CHECK_EQ(smx_client_create(&cfg, &c, err, sizeof err), 0);
        smx_client_destroy(c);
        CHECK(strstr(warned, "a and b have different msgid_norm") != NULL);
        CHECK(strstr(warned, "different bases") != NULL);
        /* the reverse rule too, beside an SMSC on auto: ids of digits only
         * can name another MT when a DR crosses, and the warning says so */
        warned[0] = 0;
        s[1].msgid_norm = SMX_MSGID_NORM_DEC_TO_HEX;
        CHECK_EQ(smx_client_create(&cfg, &c, err, sizeof err), 0);
        smx_client_destroy(c);
        CHECK(strstr(warned, "a and b have different msgid_norm") != NULL);
        CHECK(strstr(warned, "another MT") != NULL);
        /* the same base rule with other flags: the milder warning */
        warned[0] = 0;
        s[0].msgid_norm = SMX_MSGID_NORM_DEC_TO_HEX | SMX_MSGID_NORM_CASE_FOLD;
        CHECK_EQ(smx_client_create(&cfg, &c, err, sizeof err), 0);
        smx_client_destroy(c);
        CHECK(strstr(warned, "a and b have different msgid_norm") != NULL);
        CHECK(strstr(warned, "different bases") == NULL);
        /* both dec_to_hex: the same rules, no warning */
        warned[0] = 0;
        s[0].msgid_norm = SMX_MSGID_NORM_DEC_TO_HEX;
        CHECK_EQ(smx_client_create(&cfg, &c, err, sizeof err), 0);
        smx_client_destroy(c);
        CHECK_STR(warned, "");
        smx_log_configure(SMX_LOG_ERROR, NULL, NULL);
}

/* An SMSC added at run time (smx_smsc_add, the admin socket's "smsc add")
 * is checked against the SMSCs configured at that moment, with the same
 * warning as at create: none for the same rules, the base one for a
 * dec_to_hex SMSC beside auto ones, the milder one for other flags; a
 * removed SMSC no longer counts. */
static void test_mixed_msgid_norm_is_warned_at_smsc_add(void)
{
        struct smx_smsc_config s[2];
        struct smx_config cfg;
        two_smscs_warned(s, &cfg);
        smx_client *c = NULL;
        char err[256] = "";
        CHECK_EQ(smx_client_create(&cfg, &c, err, sizeof err), 0);
        CHECK_STR(warned, "");
        struct smx_smsc_config same = { .name = "c", .site = "s", .host = "127.0.0.1", .port = 3 };
        CHECK_EQ(smx_smsc_add(c, &same, err, sizeof err), 0);
        CHECK_STR(warned, "");
        struct smx_smsc_config d2h = same;
        d2h.name = "d";
        d2h.msgid_norm = SMX_MSGID_NORM_DEC_TO_HEX;
        CHECK_EQ(smx_smsc_add(c, &d2h, err, sizeof err), 0);
        CHECK(strstr(warned, "SMSCs a and d have different msgid_norm") != NULL);
        CHECK(strstr(warned, "different bases") != NULL);
        CHECK(strstr(warned, "another MT") != NULL);
        /* folding case beside auto: the milder warning */
        warned[0] = 0;
        struct smx_smsc_config fold = same;
        fold.name = "e";
        fold.msgid_norm = SMX_MSGID_NORM_CASE_FOLD;
        CHECK_EQ(smx_smsc_add(c, &fold, err, sizeof err), 0);
        CHECK(strstr(warned, "SMSCs a and e have different msgid_norm") != NULL);
        CHECK(strstr(warned, "different bases") == NULL);
        /* a refused add says nothing about ids */
        warned[0] = 0;
        CHECK_EQ(smx_smsc_add(c, &fold, err, sizeof err), SMX_EINVAL);
        CHECK_STR(warned, "");
        smx_client_destroy(c);

        /* a on exact, b on auto (warned at create): once b is removed, an
         * exact SMSC matches everything configured and is quiet, an auto
         * one is warned about against a */
        s[0].msgid_norm = SMX_MSGID_NORM_EXACT;
        warned[0] = 0;
        CHECK_EQ(smx_client_create(&cfg, &c, err, sizeof err), 0);
        CHECK(strstr(warned, "SMSCs a and b have different msgid_norm") != NULL);
        CHECK_EQ(smx_smsc_set_admin(c, "b", SMX_ADMIN_REMOVED), 0);
        warned[0] = 0;
        struct smx_smsc_config ex = same;
        ex.msgid_norm = SMX_MSGID_NORM_EXACT;
        CHECK_EQ(smx_smsc_add(c, &ex, err, sizeof err), 0);
        CHECK_STR(warned, "");
        struct smx_smsc_config au = same;
        au.name = "f";
        CHECK_EQ(smx_smsc_add(c, &au, err, sizeof err), 0);
        CHECK(strstr(warned, "SMSCs a and f have different msgid_norm") != NULL);
        smx_client_destroy(c);
        smx_log_configure(SMX_LOG_ERROR, NULL, NULL);
}

int main(void)
{
        RUN(test_new_client_keys_reach_the_config);
        RUN(test_new_smsc_keys_reach_the_smsc);
        RUN(test_bad_values_name_file_line_and_key);
        RUN(test_password_never_appears_in_an_error);
        RUN(test_store_section_reaches_the_config_and_hides_secrets);
        RUN(test_dcs_spec_builds_the_map);
        RUN(test_client_create_refuses_bad_content_settings);
        RUN(test_mixed_msgid_norm_is_warned_at_create);
        RUN(test_mixed_msgid_norm_is_warned_at_smsc_add);
        return t_done();
}
