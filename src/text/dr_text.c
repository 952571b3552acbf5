/* Delivery-receipt text (SMPP 3.4 Appendix B, SMPP.md §7.2-7.3): tolerant
 * parsing of `id:... sub:... dlvrd:... submit date:... done date:...
 * stat:... err:... text:...` as SMSCs really send it.
 *
 * How: one scan finds every label (case-insensitive, at a word start,
 * optional blanks before ':'); the first occurrence of each label counts.
 * Labels are then ordered by position and each value runs from its ':' to
 * the next label, trimmed of blanks (space, tab, CR, LF). So field order,
 * case, extra spaces, tabs/CRLF and missing fields do not matter. The text
 * is only a fallback for correlation (R6): nothing here rejects a receipt.
 *
 * Fast path (smx_dr_text_parse_standard): most SMSCs send exactly the
 * Appendix B shape, lower-case labels in order, one space between fields.
 * That shape is matched literally, with every value but the last free of
 * ':' and blanks; such a value cannot hold a label (a label needs a ':'
 * after it, and what follows each value is a space and the next label,
 * never ':' or "date"), and after the eight labels every later one is a
 * repeat the scan ignores, so the views are exactly the scan's. Anything
 * else (another order or case, tabs, a missing field, a ':' in a value)
 * goes to the general scan. Both paths share what is derived from the
 * views (counts, dates, stat); tests/unit/text/test_text_dr.c and
 * tests/fuzz/fuzz_dr_text.c compare the two (bench/README.md "CPU per MT,
 * issue 16": the scan was 14-23 % of a DR-receiving run's samples). */
#include <string.h>

#include "text/text.h"

enum { L_ID, L_SUB, L_DLVRD, L_SUBMIT, L_DONE, L_STAT, L_ERR, L_TEXT, L_COUNT };

static int is_blank(uint8_t c)
{
        return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static int is_word(uint8_t c)
{
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
               c == '_';
}

static uint8_t lower(uint8_t c)
{
        return (c >= 'A' && c <= 'Z') ? (uint8_t)(c + 32) : c;
}

/* s[i..len) starts with word w (case-insensitive)? */
static int word_at(const uint8_t *s, size_t len, size_t i, const char *w)
{
        size_t k = 0;
        for (; w[k]; k++)
                if (i + k >= len || lower(s[i + k]) != (uint8_t)w[k])
                        return 0;
        return (int)k;
}

/* If a label starts at s[i] (i < len), return its L_* and set *val to the
 * offset just after its ':'; else -1. "submit date" / "done date" accept
 * any blanks or '_' (or nothing) between the words. Only the labels whose
 * first letter is s[i]'s are tried, in the same order (word_at would refuse
 * the others at their first letter): a receipt's other words (dates, stat
 * values, the text) cost one test each (bench/README.md "CPU per MT, issue
 * 16": this scan was 23 % of a DR-receiving run's samples). */
static int label_at(const uint8_t *s, size_t len, size_t i, size_t *val)
{
        static const char *const first[L_COUNT] = {
                "id", "sub", "dlvrd", "submit", "done", "stat", "err", "text",
        };
        uint8_t c = lower(s[i]);
        if (c != 'i' && c != 's' && c != 'd' && c != 'e' && c != 't')
                return -1;
        for (int l = 0; l < L_COUNT; l++) {
                if ((uint8_t)first[l][0] != c)
                        continue;
                int n = word_at(s, len, i, first[l]);
                if (!n)
                        continue;
                size_t j = i + (size_t)n;
                if (l == L_SUBMIT || l == L_DONE) {
                        while (j < len && (s[j] == ' ' || s[j] == '\t' || s[j] == '_'))
                                j++;
                        int d = word_at(s, len, j, "date");
                        if (!d)
                                continue;
                        j += (size_t)d;
                }
                while (j < len && (s[j] == ' ' || s[j] == '\t'))
                        j++;
                if (j < len && s[j] == ':') {
                        *val = j + 1;
                        return l;
                }
        }
        return -1;
}

static struct smx_text_view trim(const uint8_t *s, size_t a, size_t b)
{
        while (a < b && is_blank(s[a]))
                a++;
        while (b > a && is_blank(s[b - 1]))
                b--;
        return (struct smx_text_view){ .p = s + a, .len = b - a };
}

/* A decimal count of up to 9 digits, else -1. */
static int32_t parse_count(struct smx_text_view v)
{
        int32_t n = 0;
        if (v.len == 0 || v.len > 9)
                return -1;
        for (size_t i = 0; i < v.len; i++) {
                if (v.p[i] < '0' || v.p[i] > '9')
                        return -1;
                n = n * 10 + (v.p[i] - '0');
        }
        return n;
}

static unsigned two(const uint8_t *p)
{
        return (unsigned)(p[0] - '0') * 10 + (unsigned)(p[1] - '0');
}

static int days_in(unsigned year, unsigned month)
{
        static const uint8_t d[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
        if (month == 2 && ((year % 4 == 0 && year % 100 != 0) || year % 400 == 0))
                return 29;
        return d[month - 1];
}

/* YYMMDDhhmm, YYMMDDhhmmss or YYYYMMDDhhmmss; anything else, or an
 * impossible date, is null (F-11). */
static struct smx_dr_date parse_date(struct smx_text_view v)
{
        struct smx_dr_date d = {0};
        const uint8_t *p = v.p;
        unsigned year;

        if (v.len != 10 && v.len != 12 && v.len != 14)
                return d;
        for (size_t i = 0; i < v.len; i++)
                if (p[i] < '0' || p[i] > '9')
                        return d;
        if (v.len == 14) {
                year = two(p) * 100 + two(p + 2);
                p += 4;
        } else {
                year = 2000 + two(p);
                p += 2;
        }
        unsigned mo = two(p), day = two(p + 2), h = two(p + 4), mi = two(p + 6);
        unsigned sec = v.len == 10 ? 0 : two(p + 8);
        if (mo < 1 || mo > 12 || day < 1 || (int)day > days_in(year, mo) || h > 23 || mi > 59 ||
            sec > 59)
                return d;
        d.year = (uint16_t)year;
        d.month = (uint8_t)mo;
        d.day = (uint8_t)day;
        d.hour = (uint8_t)h;
        d.minute = (uint8_t)mi;
        d.second = (uint8_t)sec;
        d.valid = 1;
        return d;
}

static uint64_t date_key(const struct smx_dr_date *d)
{
        return ((((((uint64_t)d->year * 13 + d->month) * 32 + d->day) * 24 + d->hour) * 60 +
                 d->minute) * 60) + d->second;
}

int smx_dr_stat_state(const uint8_t *w, size_t len)
{
        static const struct { const char *word; int state; } words[] = {
                {"enroute", SMPP_STATE_ENROUTE},
                {"delivrd", SMPP_STATE_DELIVERED}, {"delivered", SMPP_STATE_DELIVERED},
                {"expired", SMPP_STATE_EXPIRED},
                {"deleted", SMPP_STATE_DELETED},
                {"undeliv", SMPP_STATE_UNDELIVERABLE},
                {"undeliverable", SMPP_STATE_UNDELIVERABLE},
                {"undelivered", SMPP_STATE_UNDELIVERABLE},
                {"failed", SMPP_STATE_UNDELIVERABLE},
                {"acceptd", SMPP_STATE_ACCEPTED}, {"accepted", SMPP_STATE_ACCEPTED},
                {"unknown", SMPP_STATE_UNKNOWN},
                {"rejectd", SMPP_STATE_REJECTED}, {"rejected", SMPP_STATE_REJECTED},
                {"scheduled", SMPP_STATE_SCHEDULED},
                {"skipped", SMPP_STATE_SKIPPED},
        };
        /* the common word as SMSCs send it: what the table below gives too */
        if (len == 7 && memcmp(w, "DELIVRD", 7) == 0)
                return SMPP_STATE_DELIVERED;
        for (size_t k = 0; k < sizeof(words) / sizeof(words[0]); k++) {
                size_t n = 0;
                while (words[k].word[n])
                        n++;
                if (n == len && word_at(w, len, 0, words[k].word))
                        return words[k].state;
        }
        return -1;
}

/* What follows from the views: the state, and with `full` the counts and
 * dates. */
static int derive(struct smx_dr_text *out, int found, int full)
{
        if (out->present & SMX_DR_HAS_STAT) {
                out->state = smx_dr_stat_state(out->stat.p, out->stat.len);
                if (out->state < 0)
                        out->flags |= SMX_DR_F_UNKNOWN_STAT;
        }
        if (!full)
                return found;
        if (out->present & SMX_DR_HAS_SUB) {
                out->sub_n = parse_count(out->sub);
                if (out->sub_n < 0)
                        out->flags |= SMX_DR_F_BAD_COUNT;
        }
        if (out->present & SMX_DR_HAS_DLVRD) {
                out->dlvrd_n = parse_count(out->dlvrd);
                if (out->dlvrd_n < 0)
                        out->flags |= SMX_DR_F_BAD_COUNT;
        }
        if (out->present & SMX_DR_HAS_SUBMIT) {
                out->submit = parse_date(out->submit_date);
                if (!out->submit.valid)
                        out->flags |= SMX_DR_F_BAD_SUBMIT_DATE;
        }
        if (out->present & SMX_DR_HAS_DONE) {
                out->done = parse_date(out->done_date);
                if (!out->done.valid)
                        out->flags |= SMX_DR_F_BAD_DONE_DATE;
                else if (out->submit.valid && date_key(&out->done) < date_key(&out->submit)) {
                        out->done.valid = 0;    /* done before submit (F-11) */
                        out->flags |= SMX_DR_F_BAD_DONE_DATE;
                }
        }
        return found;
}

static int parse_general(const uint8_t *s, size_t len, struct smx_dr_text *out, int full)
{
        size_t start[L_COUNT], val[L_COUNT];
        int order[L_COUNT], found = 0;

        *out = (struct smx_dr_text){ .sub_n = -1, .dlvrd_n = -1, .state = -1 };
        if (!s)
                return 0;
        for (size_t i = 0; i < len; i++) {
                size_t v;
                int l;
                if (i > 0 && is_word(s[i - 1]))
                        continue;
                l = label_at(s, len, i, &v);
                if (l < 0 || (out->present & (1u << l)))
                        continue;
                out->present |= 1u << l;
                start[l] = i;
                val[l] = v;
                order[found++] = l;
                i = v - 1;
        }
        /* Labels were found in position order; each value ends at the next. */
        for (int k = 0; k < found; k++) {
                int l = order[k];
                size_t end = k + 1 < found ? start[order[k + 1]] : len;
                struct smx_text_view v = trim(s, val[l], end);
                switch (l) {
                case L_ID: out->id = v; break;
                case L_SUB: out->sub = v; break;
                case L_DLVRD: out->dlvrd = v; break;
                case L_SUBMIT: out->submit_date = v; break;
                case L_DONE: out->done_date = v; break;
                case L_STAT: out->stat = v; break;
                case L_ERR: out->err = v; break;
                default: out->text = v; break;
                }
        }
        return derive(out, found, full);
}

/* Octets that end a value of the standard shape (' ') or refuse the shape
 * (':' and the other blanks). */
static const uint8_t std_stop[256] = {
        [' '] = 1, [':'] = 2, ['\t'] = 2, ['\r'] = 2, ['\n'] = 2,
};

/* s[*i..len) starts with the label lit (n octets, a constant, so the
 * compare is inlined): *i moves past it. */
static inline __attribute__((always_inline)) int std_label(const uint8_t *s, size_t len,
                                                           size_t *i, const char *lit, size_t n)
{
        if (len - *i < n || memcmp(s + *i, lit, n) != 0)
                return 0;
        *i += n;
        return 1;
}

/* A value of the standard shape at s[*i..len): one or more octets up to a
 * space or the end, none of them ':' or another blank. */
static inline int std_value(const uint8_t *s, size_t len, size_t *i, struct smx_text_view *v)
{
        size_t a = *i, j = a;
        while (j < len && !std_stop[s[j]])
                j++;
        if (j == a || (j < len && s[j] != ' '))
                return 0;
        *v = (struct smx_text_view){ .p = s + a, .len = j - a };
        *i = j;
        return 1;
}

static int parse_standard(const uint8_t *s, size_t len, struct smx_dr_text *out, int full)
{
        size_t i = 0;

        *out = (struct smx_dr_text){ .sub_n = -1, .dlvrd_n = -1, .state = -1 };
        if (!s)
                return -1;
#define STD_FIELD(lit, view) (std_label(s, len, &i, lit, sizeof lit - 1) && std_value(s, len, &i, view))
        if (!STD_FIELD("id:", &out->id) || !STD_FIELD(" sub:", &out->sub) ||
            !STD_FIELD(" dlvrd:", &out->dlvrd) || !STD_FIELD(" submit date:", &out->submit_date) ||
            !STD_FIELD(" done date:", &out->done_date) || !STD_FIELD(" stat:", &out->stat) ||
            !STD_FIELD(" err:", &out->err))
                goto general;
#undef STD_FIELD
        out->present = SMX_DR_HAS_ID | SMX_DR_HAS_SUB | SMX_DR_HAS_DLVRD | SMX_DR_HAS_SUBMIT |
                       SMX_DR_HAS_DONE | SMX_DR_HAS_STAT | SMX_DR_HAS_ERR;
        if (i == len)
                return derive(out, L_COUNT - 1, full);  /* no text: err ran to the end */
        if (!std_label(s, len, &i, " text:", 6))
                goto general;
        out->text = trim(s, i, len);
        out->present |= SMX_DR_HAS_TEXT;
        return derive(out, L_COUNT, full);
general:
        *out = (struct smx_dr_text){ .sub_n = -1, .dlvrd_n = -1, .state = -1 };
        return -1;
}

int smx_dr_text_parse_standard(const uint8_t *s, size_t len, struct smx_dr_text *out)
{
        return parse_standard(s, len, out, 1);
}

int smx_dr_text_parse_general(const uint8_t *s, size_t len, struct smx_dr_text *out)
{
        return parse_general(s, len, out, 1);
}

int smx_dr_text_parse(const uint8_t *s, size_t len, struct smx_dr_text *out)
{
        int n = parse_standard(s, len, out, 1);
        return n >= 0 ? n : parse_general(s, len, out, 1);
}

int smx_dr_text_scan(const uint8_t *s, size_t len, struct smx_dr_text *out)
{
        int n = parse_standard(s, len, out, 0);
        return n >= 0 ? n : parse_general(s, len, out, 0);
}
