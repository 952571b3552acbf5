/* Test certificates made at run time with OpenSSL's API (never committed):
 * a CA, leaf certificates it signs (server or client, with subjectAltName,
 * valid from/until any offset from now, so an expired one is easy), each
 * written as NAME.pem / NAME.key into a directory the test made. Include
 * once per test program. */
#ifndef SMX_TLS_CERTS_H
#define SMX_TLS_CERTS_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

struct tc_cert {
        EVP_PKEY *key;
        X509 *x;
        char pem[512], keyfile[512];
};

static inline int tc_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
        X509V3_CTX v;
        X509V3_set_ctx(&v, issuer ? issuer : x, x, NULL, NULL, 0);
        X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, &v, nid, value);
        if (!e)
                return -1;
        int ok = X509_add_ext(x, e, -1);
        X509_EXTENSION_free(e);
        return ok ? 0 : -1;
}

/* Make dir/NAME.pem and dir/NAME.key: a CA when issuer is NULL (self-signed),
 * else a leaf signed by issuer with subjectAltName san (e.g.
 * "DNS:localhost,IP:127.0.0.1", NULL none), valid from now+from_s to
 * now+to_s seconds. 0 or -1. */
static inline int tc_make(const char *dir, const char *name, const char *cn, const char *san,
                          long from_s, long to_s, const struct tc_cert *issuer,
                          struct tc_cert *out)
{
        static long serial = 1;
        memset(out, 0, sizeof *out);
        out->key = EVP_EC_gen("P-256");
        out->x = X509_new();
        if (!out->key || !out->x)
                return -1;
        X509 *x = out->x;
        X509_set_version(x, 2);
        ASN1_INTEGER_set(X509_get_serialNumber(x), serial++ + (long)getpid() * 1000);
        X509_gmtime_adj(X509_getm_notBefore(x), from_s);
        X509_gmtime_adj(X509_getm_notAfter(x), to_s);
        X509_set_pubkey(x, out->key);
        X509_NAME *n = X509_get_subject_name(x);
        X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
        X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer->x) : n);
        if (!issuer) {
                if (tc_ext(x, NULL, NID_basic_constraints, "critical,CA:TRUE") < 0 ||
                    tc_ext(x, NULL, NID_key_usage, "critical,keyCertSign,cRLSign") < 0 ||
                    tc_ext(x, NULL, NID_subject_key_identifier, "hash") < 0)
                        return -1;
        } else {
                if (tc_ext(x, issuer->x, NID_basic_constraints, "CA:FALSE") < 0 ||
                    tc_ext(x, issuer->x, NID_ext_key_usage, "serverAuth,clientAuth") < 0 ||
                    tc_ext(x, issuer->x, NID_authority_key_identifier, "keyid") < 0 ||
                    (san && tc_ext(x, issuer->x, NID_subject_alt_name, san) < 0))
                        return -1;
        }
        if (X509_sign(x, issuer ? issuer->key : out->key, EVP_sha256()) <= 0)
                return -1;
        snprintf(out->pem, sizeof out->pem, "%s/%s.pem", dir, name);
        snprintf(out->keyfile, sizeof out->keyfile, "%s/%s.key", dir, name);
        FILE *f = fopen(out->pem, "w");
        if (!f || PEM_write_X509(f, x) != 1) {
                if (f)
                        fclose(f);
                return -1;
        }
        fclose(f);
        f = fopen(out->keyfile, "w");
        if (!f || PEM_write_PrivateKey(f, out->key, NULL, NULL, 0, NULL, NULL) != 1) {
                if (f)
                        fclose(f);
                return -1;
        }
        fclose(f);
        return 0;
}

static inline void tc_free(struct tc_cert *c)
{
        X509_free(c->x);
        EVP_PKEY_free(c->key);
        c->x = NULL;
        c->key = NULL;
}

/* Remove the files a test made in dir, then dir. */
static inline void tc_rmdir(const char *dir)
{
        char cmd[600];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
        if (system(cmd) != 0)
                fprintf(stderr, "# could not remove %s\n", dir);
}

#endif
