/* smx_text_gsm_plain_all (src/text/gsm_plain.h), the 16-at-a-time verdict
 * smx_submit uses to skip the count for a GSM-plain text, against the
 * count's own verdict (smx_text_choose_plain's *gsm_plain, the GSM table):
 * every octet value alone; every octet value at every position of texts of
 * every length 0..48 (otherwise GSM-plain; the word boundaries 15/16/17,
 * 31/32/33 and the overlapping last block included) at 16 start
 * alignments; texts of every length 0..40 ending at the last octet of a
 * page whose next page is unmapped and starting in the last 16 octets of a
 * page (the short form's 16-octet read must not cross); random texts of
 * ASCII, Latin-1, invalid UTF-8 (lone continuation octets, truncated
 * sequences, overlongs, 0xFF) and GSM-plain mixes. Wherever the verdict is
 * "plain", the count must also answer GSM, units = octets, for both SMX_ENC_GSM
 * and SMX_ENC_AUTO: what smx_submit then takes without calling it. */
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "testlib.h"
#include "text/gsm_plain.h"
#include "text/text.h"

static int ref_plain(const uint8_t *s, size_t len)
{
        size_t units = 0;
        int plain = 0;
        int enc = smx_text_choose_plain(s, len, SMX_ENC_GSM, &units, &plain);
        return enc == SMX_ENC_GSM && plain;
}

/* the verdict, and what smx_submit takes from it, against the count */
static long bad;
static void check(const uint8_t *s, size_t len)
{
        int got = smx_text_gsm_plain_all(s, len);
        if (got != ref_plain(s, len)) {
                bad++;
                return;
        }
        if (!got)
                return;
        for (int want = SMX_ENC_AUTO; want <= SMX_ENC_GSM; want++) {
                size_t units = 0;
                int plain = 0;
                int enc = smx_text_choose_plain(s, len, (enum smx_encoding)want, &units, &plain);
                if (enc != SMX_ENC_GSM || units != len || !plain)
                        bad++;
        }
}

static void test_every_octet_alone(void)
{
        int n_plain = 0;
        /* 16 octets: gcc sees the short form's 16-octet read (the page
         * test covers a read that must not cross) */
        uint8_t b[16] = { 0 };
        for (unsigned v = 0; v < 256; v++) {
                b[0] = (uint8_t)v;
                CHECK_EQ(smx_text_gsm_plain_octet(b[0]), ref_plain(b, 1));
                n_plain += smx_text_gsm_plain_octet(b[0]);
                check(b, 1);
        }
        /* LF, CR, space ! " #, % .. ?, A-Z, a-z */
        CHECK_EQ(n_plain, 2 + 4 + 27 + 26 + 26);
        CHECK_EQ(bad, 0);
}

static void test_every_octet_at_every_position(void)
{
        static uint8_t buf[128];
        const char *plain = "Hello world 12345, ok? (yes)!\nline 2: 100% #1 'q' \"x\" a*b+c-d/e;f<g>h=i.\r";
        bad = 0;
        for (size_t off = 0; off < 16; off++)
                for (size_t len = 0; len <= 48; len++) {
                        for (size_t i = 0; i < len; i++)
                                buf[off + i] = (uint8_t)plain[(i * 7 + off) % strlen(plain)];
                        check(buf + off, len);
                        for (size_t pos = 0; pos < len; pos++) {
                                uint8_t keep = buf[off + pos];
                                for (unsigned v = 0; v < 256; v++) {
                                        buf[off + pos] = (uint8_t)v;
                                        check(buf + off, len);
                                }
                                buf[off + pos] = keep;
                        }
                }
        CHECK_EQ(bad, 0);
}

static void test_page_ends(void)
{
        long pg = sysconf(_SC_PAGESIZE);
        uint8_t *m = mmap(NULL, (size_t)pg * 2, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                          -1, 0);
        CHECK(m != MAP_FAILED);
        if (m == MAP_FAILED)
                return;
        CHECK_EQ(mprotect(m + pg, (size_t)pg, PROT_NONE), 0);
        uint8_t *end = m + pg;
        bad = 0;
        for (size_t len = 0; len <= 40; len++) {
                memset(m, 'a', (size_t)pg);
                check(end - len, len);               /* plain, ending at the page's end */
                if (len) {
                        end[-1] = '@';
                        check(end - len, len);       /* its last octet not */
                        end[-1] = 'a';
                        end[-(long)len] = 0xC3;
                        check(end - len, len);       /* its first octet not */
                }
        }
        for (size_t back = 1; back <= 16; back++)
                for (size_t len = 0; len <= back; len++)
                        check(end - back, len);      /* short texts in the last 16 octets */
        CHECK_EQ(bad, 0);
        munmap(m, (size_t)pg * 2);
}

static uint64_t rng = 0x243F6A8885A308D3ull;
static unsigned rnd(unsigned n)
{
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        return (unsigned)(rng % n);
}

static void test_random_mixes(void)
{
        static const uint8_t bad_utf8[][4] = {
                { 0x80 }, { 0xBF }, { 0xC3 }, { 0xE2, 0x82 }, { 0xC0, 0xAF }, { 0xFF }, { 0xF8, 0x88 },
        };
        uint8_t t[300];
        long n_plain = 0;
        bad = 0;
        for (int i = 0; i < 200000; i++) {
                size_t len = rnd(4) ? rnd(40) : rnd(300);
                int mix = (int)rnd(4);
                size_t k = 0;
                while (k < len) {
                        unsigned r = rnd(100);
                        if (mix == 0 || r < 90) {   /* GSM-plain mostly */
                                static const char pl[] = "abcXYZ 0123456789.,!?\n\r%&'()*+-/:;<=>\"#";
                                t[k++] = (uint8_t)pl[rnd(sizeof pl - 1)];
                        } else if (mix == 1) {      /* any ASCII */
                                t[k++] = (uint8_t)rnd(128);
                        } else if (mix == 2 && k + 2 <= len) {   /* Latin-1 as UTF-8 */
                                t[k++] = 0xC3;
                                t[k++] = (uint8_t)(0x80 + rnd(64));
                        } else {                     /* invalid UTF-8 */
                                const uint8_t *b = bad_utf8[rnd(7)];
                                for (int j = 0; j < 4 && b[j] && k < len; j++)
                                        t[k++] = b[j];
                        }
                }
                n_plain += smx_text_gsm_plain_all(t, len);
                check(t, len);
        }
        printf("# %ld of 200000 random texts GSM-plain\n", n_plain);
        CHECK(n_plain > 20000);
        CHECK_EQ(bad, 0);
}

int main(void)
{
        RUN(test_every_octet_alone);
        RUN(test_every_octet_at_every_position);
        RUN(test_page_ends);
        RUN(test_random_mixes);
        return t_done();
}
