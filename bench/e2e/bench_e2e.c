/* bench_e2e: the dispatcher end to end, as an application embedding
 * libsmsmux sees it: smx_submit() from one application thread, the workers
 * (io_uring, binds, windows), an SMSC in ANOTHER process (smsc-sim or
 * `blast --sink`), SUBMITTED events polled back with smx_events_poll().
 *
 * One run = binds up, a warm-up, a measured window, then the outcomes still
 * due are collected. It prints `key=value` lines on stdout (run.sh parses
 * them); the last is `mt_per_s=`:
 *   - MT/s: MTs accepted by the SMSC (SUBMITTED events) in the measured
 *     window, divided by its length;
 *   - latency: the events' latency_us (smx_submit -> SUBMITTED committed
 *     by the worker) for the MTs accepted in the window, p50/p99/p999;
 *   - allocations: every malloc/calloc/realloc/aligned_alloc/posix_memalign
 *     and free made by this program or the library linked into it, counted
 *     per thread through -Wl,--wrap (see meson.build; OpenSSL's through
 *     CRYPTO_set_mem_functions) and divided by the MTs
 *     of the window (the application thread, which runs smx_submit and
 *     smx_events_poll, apart from the library's own threads);
 *   - CPU per MT: nanoseconds each thread spent on a CPU during the window
 *     (/proc/self/task/TID/schedstat, tools/common/thread_cpu.c, shared
 *     with `smsmux bench`), the application thread apart from
 *     the library's threads (the workers), divided by the window's MTs;
 *   - --rate R: submit at a fixed R MT/s instead of as fast as possible;
 *   - --tls-ca FILE: every bind over TLS (verified against the CA in FILE;
 *     the peer is `blast --sink --tls-cert ...` or a TLS smsc-sim), with
 *     the TLS handshakes and resumptions printed;
 *   - binds_up_ms: from the client's start until every bind is ACTIVE (all
 *     connect at once: with --binds 64 and --tls-ca, a handshake storm);
 *   - --text-len N: every MT's text is N bytes ("bench " repeated; default
 *     23, "bench bench bench bench"); over the slot's inline bytes it takes
 *     a block of the library's long-text pool;
 *   - --mem N: memory per in-flight MT. Against a stalled SMSC (nothing is
 *     answered), submit N MTs and report the process RSS before the client
 *     is created, after it is created and bound, and with the N MTs in
 *     flight (RSS from /proc/self/statm). `--after-bind CMD` runs CMD (e.g.
 *     `smsc-sim ctl ... stall all on`) once the binds are up.
 *
 * Syscalls are not counted here: run.sh attaches `perf stat` to this
 * process (the peer runs in its own process, so its syscalls stay apart).
 * `--app-cpu N` moves the application thread to CPU N after the workers
 * started (they keep the CPU set the process was started with), so a
 * worker can have a core to itself.
 * `--pause-file F` creates F when the measured window starts and removes it
 * when it ends, so a tool attached from outside can follow the window.
 *
 * Not a test: it asserts nothing beyond "every MT got an outcome" (exit 1
 * otherwise); bench/README.md holds the figures. */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "ingress/ingress.h"
#include "session/session.h"
#include <openssl/crypto.h>

#include "smsmux.h"
#include "put_dec.h"
#include "thread_cpu.h"

/* ---- allocation counting (-Wl,--wrap=malloc,...) ---- */

/* One thread's counters: written by that thread, read by main (relaxed). */
struct alloc_ctr {
        _Atomic uint64_t allocs, frees;
        long tid;
};

#define MAX_THREADS 64
static struct alloc_ctr g_ctr[MAX_THREADS];
static _Atomic int g_nctr;
static __thread struct alloc_ctr *t_ctr;

static struct alloc_ctr *ctr_self(void)
{
        if (!t_ctr) {
                int i = atomic_fetch_add(&g_nctr, 1);
                if (i >= MAX_THREADS)
                        i = MAX_THREADS - 1;   /* shared overflow bucket */
                t_ctr = &g_ctr[i];
                t_ctr->tid = syscall(SYS_gettid);
        }
        return t_ctr;
}

static inline void count_alloc(void)
{
        atomic_fetch_add_explicit(&ctr_self()->allocs, 1, memory_order_relaxed);
}

void *__real_malloc(size_t n);
void *__real_calloc(size_t k, size_t n);
void *__real_realloc(void *p, size_t n);
void *__real_aligned_alloc(size_t a, size_t n);
int __real_posix_memalign(void **p, size_t a, size_t n);
void __real_free(void *p);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t k, size_t n);
void *__wrap_realloc(void *p, size_t n);
void *__wrap_aligned_alloc(size_t a, size_t n);
int __wrap_posix_memalign(void **p, size_t a, size_t n);
void __wrap_free(void *p);

void *__wrap_malloc(size_t n)
{
        count_alloc();
        return __real_malloc(n);
}

void *__wrap_calloc(size_t k, size_t n)
{
        count_alloc();
        return __real_calloc(k, n);
}

void *__wrap_realloc(void *p, size_t n)
{
        count_alloc();
        return __real_realloc(p, n);
}

void *__wrap_aligned_alloc(size_t a, size_t n)
{
        count_alloc();
        return __real_aligned_alloc(a, n);
}

int __wrap_posix_memalign(void **p, size_t a, size_t n)
{
        count_alloc();
        return __real_posix_memalign(p, a, n);
}

void __wrap_free(void *p)
{
        if (p)
                atomic_fetch_add_explicit(&ctr_self()->frees, 1, memory_order_relaxed);
        __real_free(p);
}

/* OpenSSL (a shared library: its calls to malloc are not wrapped) allocates
 * through these, so a TLS run counts its allocations like the rest. */
static void *ossl_malloc(size_t n, const char *file, int line)
{
        (void)file;
        (void)line;
        return __wrap_malloc(n);
}

static void *ossl_realloc(void *p, size_t n, const char *file, int line)
{
        (void)file;
        (void)line;
        return __wrap_realloc(p, n);
}

static void ossl_free(void *p, const char *file, int line)
{
        (void)file;
        (void)line;
        __wrap_free(p);
}

struct alloc_snap {
        uint64_t app_allocs, app_frees, lib_allocs, lib_frees;
};

static void alloc_snapshot(long app_tid, struct alloc_snap *s)
{
        memset(s, 0, sizeof *s);
        int n = atomic_load(&g_nctr);
        for (int i = 0; i < n && i < MAX_THREADS; i++) {
                uint64_t a = atomic_load_explicit(&g_ctr[i].allocs, memory_order_relaxed);
                uint64_t f = atomic_load_explicit(&g_ctr[i].frees, memory_order_relaxed);
                if (g_ctr[i].tid == app_tid) {
                        s->app_allocs += a;
                        s->app_frees += f;
                } else {
                        s->lib_allocs += a;
                        s->lib_frees += f;
                }
        }
}

/* ---- helpers ---- */

static uint64_t now_us(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static long rss_kib(void)
{
        FILE *f = fopen("/proc/self/statm", "r");
        long size = 0, res = 0;
        if (!f)
                return -1;
        if (fscanf(f, "%ld %ld", &size, &res) != 2)
                res = -1;
        fclose(f);
        return res < 0 ? -1 : res * (sysconf(_SC_PAGESIZE) / 1024);
}

static int cmp_u32(const void *a, const void *b)
{
        uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
        return x < y ? -1 : x > y;
}

static uint32_t pct(const uint32_t *v, size_t n, double p)
{
        if (n == 0)
                return 0;
        size_t i = (size_t)(p / 100.0 * (double)(n - 1) + 0.5);
        return v[i < n ? i : n - 1];
}

/* ---- the run ---- */

struct opts {
        const char *host;
        unsigned port, binds, workers, window, dr;
        double seconds, warmup, rate;
        uint32_t ingress;
        uint64_t mem;
        const char *pause_file;
        const char *after_bind;
        int app_cpu;
        uint32_t events;           /* --events: event_capacity, 0 = library default */
        size_t text_len;           /* --text-len: bytes of every MT's text */
        unsigned submit_batch;     /* --submit-batch: smx_submit_n runs of N (<= 1: smx_submit) */
        const char *tls_ca;        /* --tls-ca: TLS binds verified against this CA */
        int pin;                   /* --pin: pin_workers (default 0: run.sh places with taskset) */
};

/* Every MT's text: "bench " repeated, o.text_len bytes of it. */
static char bench_text[SMX_TEXT_MAX];

/* The application thread's view of the run. */
struct run {
        smx_client *c;
        uint64_t sent, accepted, failed, binds_up;
        uint64_t drs, drs_correlated;   /* DR events (a sink with --dr-lag sends them) */
        int measuring;
        uint64_t win_accepted;
        uint32_t *lat;
        size_t n_lat, cap_lat;
};

#define EV_BATCH 256

static size_t drain_events(struct run *r)
{
        static struct smx_event ev[EV_BATCH];
        size_t total = 0, n;
        while ((n = smx_events_poll(r->c, ev, EV_BATCH)) > 0) {
                total += n;
                for (size_t i = 0; i < n; i++) {
                        switch (ev[i].type) {
                        case SMX_EV_SUBMITTED:
                                r->accepted++;
                                if (r->measuring) {
                                        r->win_accepted++;
                                        if (r->n_lat < r->cap_lat)
                                                r->lat[r->n_lat++] = ev[i].latency_us > UINT32_MAX ?
                                                        UINT32_MAX : (uint32_t)ev[i].latency_us;
                                }
                                break;
                        case SMX_EV_FAILED:
                                r->failed++;
                                break;
                        case SMX_EV_DR:
                                r->drs++;
                                r->drs_correlated += ev[i].id != NULL;
                                break;
                        case SMX_EV_BIND:
                                if (ev[i].up)
                                        r->binds_up++;
                                else if (r->binds_up)
                                        r->binds_up--;
                                break;
                        default:
                                break;
                        }
                }
                if (n < EV_BATCH)
                        break;
        }
        return total;
}

/* The correlation store after the window (`corr_entries=`, `corr_full=`:
 * puts refused by a full store), from the Prometheus rendering: with
 * `--dr 1` and a peer that sends no receipts, nothing ever leaves the store,
 * so past corr_capacity (default 2^20) MTs every put probes a full table and
 * is refused; a figure of the DR path has to be read with these two. */
static void print_corr_store(smx_client *c)
{
        char *txt = NULL;
        if (smx_stats_render(c, SMX_STATS_PROMETHEUS, &txt, NULL) != 0 || !txt)
                return;
        static const char *const keys[][2] = {
                { "\nsmsmux_correlation_entries ", "corr_entries" },
                { "\nsmsmux_correlation_full_total ", "corr_full" },
        };
        for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) {
                const char *p = strstr(txt, keys[k][0]);
                if (p)
                        printf("%s=%llu\n", keys[k][1],
                               strtoull(p + strlen(keys[k][0]), NULL, 10));
        }
        free(txt);
}

/* Wait (app thread) until events may be there, at most ms. */
static void wait_events(struct run *r, int ms)
{
        struct pollfd p = { .fd = smx_events_fd(r->c), .events = POLLIN };
        if (poll(&p, 1, ms) < 0 && errno != EINTR)
                perror("poll");
}

/* Submit MTs until t_end_us: as fast as the library takes them (rate 0),
 * or paced at `rate` MT/s. */
/* --submit-batch N: up to 256 MTs per turn through smx_submit_n in runs of
 * N (each with its own id buffer). Returns 1 when the ingress was full. */
#define MAX_SUBMIT_BATCH 256
static int submit_batch(struct run *r, const struct opts *o, const struct smx_mt *tmpl,
                        uint64_t due)
{
        static char ids[MAX_SUBMIT_BATCH][32];
        static struct smx_mt mts[MAX_SUBMIT_BATCH];
        uint64_t left = due > r->sent ? due - r->sent : 0;
        if (left > 256)
                left = 256;
        while (left > 0) {
                unsigned n = left < o->submit_batch ? (unsigned)left : o->submit_batch;
                for (unsigned i = 0; i < n; i++) {
                        mts[i] = *tmpl;
                        ids[i][0] = 'm';
                        mts[i].id = ids[i];
                        mts[i].id_len = 1 + put_dec(ids[i] + 1, r->sent + i);
                }
                int err = 0;
                int ok = smx_submit_n(r->c, mts, n, &err);
                r->sent += (uint64_t)ok;
                left -= (uint64_t)ok;
                if (err == SMX_EAGAIN)
                        return 1;
                if (err != 0) {
                        fprintf(stderr, "bench_e2e: smx_submit_n: %s\n", smx_strerror(err));
                        exit(1);
                }
        }
        return 0;
}

static void submit_loop(struct run *r, const struct opts *o, uint64_t t_end_us)
{
        char id[32] = "m";
        struct smx_mt mt = {
                .id = id, .from = "12345", .to = "447700900001",
                .text = bench_text, .text_len = o->text_len, .want_dr = (int)o->dr,
        };
        uint64_t t0 = now_us(), sent0 = r->sent;
        for (;;) {
                uint64_t t = now_us();
                if (t >= t_end_us)
                        break;
                uint64_t due = o->rate > 0 ? sent0 + (uint64_t)((double)(t - t0) * o->rate / 1e6)
                                           : UINT64_MAX;
                int full = 0;
                if (o->submit_batch > 1) {
                        full = submit_batch(r, o, &mt, due);
                        goto events;
                }
                for (int k = 0; k < 256 && r->sent < due; k++) {
                        mt.id_len = 1 + put_dec(id + 1, r->sent);
                        int rc = smx_submit(r->c, &mt);
                        if (rc == SMX_EAGAIN) {
                                full = 1;
                                break;
                        }
                        if (rc != 0) {
                                fprintf(stderr, "bench_e2e: smx_submit: %s\n", smx_strerror(rc));
                                exit(1);
                        }
                        r->sent++;
                }
        events:;
                size_t got = drain_events(r);
                if (o->rate > 0 && r->sent >= due && !got) {
                        /* ahead of schedule: nap ~50 us (app side only) */
                        struct timespec ts = { 0, 50000 };
                        nanosleep(&ts, NULL);
                } else if (full && !got) {
                        wait_events(r, 1);
                }
        }
}

static int collect_outcomes(struct run *r, uint64_t timeout_us)
{
        uint64_t end = now_us() + timeout_us;
        while (r->accepted + r->failed < r->sent && now_us() < end) {
                if (!drain_events(r))
                        wait_events(r, 5);
        }
        return r->accepted + r->failed == r->sent ? 0 : -1;
}

static int run_mem(struct run *r, const struct opts *o, long rss_pre, long rss_created)
{
        long rss_bound = rss_kib();
        struct smx_mt mt = {
                .from = "12345", .to = "447700900001",
                .text = bench_text, .text_len = o->text_len, .want_dr = (int)o->dr,
        };
        char id[32] = "m";
        mt.id = id;
        uint64_t t0 = now_us();
        while (r->sent < o->mem && now_us() - t0 < 20000000u) {
                mt.id_len = 1 + put_dec(id + 1, r->sent);
                int rc = smx_submit(r->c, &mt);
                if (rc == 0)
                        r->sent++;
                else if (rc == SMX_EAGAIN)
                        wait_events(r, 1);
                else
                        break;
                if ((r->sent & 1023) == 0)
                        drain_events(r);
        }
        /* let the workers move them into the binds' windows */
        struct timespec ts = { 1, 0 };
        nanosleep(&ts, NULL);
        drain_events(r);
        struct smx_bind_stats st[64];
        size_t nb = smx_client_binds(r->c, st, 64);
        uint64_t on_wire = 0;
        for (size_t i = 0; i < nb && i < 64; i++)
                on_wire += st[i].in_flight;
        long rss_loaded = rss_kib();
        uint64_t in_flight = smx_client_in_flight(r->c);
        uint32_t req_cells = session_table_size(o->window + 64);
        printf("slot_size=%u\n", SMX_SLOT_SIZE);
        printf("slot_header=%zu\n", sizeof(struct smx_slot));
        printf("slot_text_inline=%zu\n", (size_t)SMX_SLOT_TEXT_INLINE);
        printf("text_len=%zu\n", o->text_len);
        printf("ring_bytes_per_slot=%zu\n", (size_t)SMX_INGRESS_RING_BYTES_PER_SLOT);
        printf("req_entry=%zu\n", sizeof(struct smx_req));
        printf("req_cells_per_bind=%u\n", req_cells);
        printf("req_bytes_per_window_slot=%.1f\n",
               (double)req_cells * sizeof(struct smx_req) / o->window);
        printf("ingress_capacity=%u\n", o->ingress);
        printf("rss_kib_before_create=%ld\n", rss_pre);
        printf("rss_kib_created=%ld\n", rss_created);
        printf("rss_kib_bound=%ld\n", rss_bound);
        printf("rss_kib_loaded=%ld\n", rss_loaded);
        printf("mts_in_flight=%llu\n", (unsigned long long)in_flight);
        printf("mts_on_wire=%llu\n", (unsigned long long)on_wire);
        printf("create_bytes_per_slot=%.1f\n",
               (double)(rss_created - rss_pre) * 1024.0 / o->ingress);
        printf("rss_growth_bytes_per_mt=%.1f\n",
               in_flight ? (double)(rss_loaded - rss_bound) * 1024.0 / (double)in_flight : 0.0);
        return 0;
}

static void usage(FILE *f)
{
        fprintf(f,
                "usage: bench_e2e --port P [--host 127.0.0.1] [--binds 4] [--workers 1]\n"
                "                 [--window 512] [--seconds 5] [--warmup 1] [--rate MT_PER_S]\n"
                "                 [--dr 0|1] [--ingress 65536] [--events 65536] [--submit-batch N] [--mem N] [--pause-file F]\n"
                "                 [--after-bind CMD] [--app-cpu N] [--text-len 23] [--tls-ca FILE]\n"
                "                 [--pin 0|1]\n"
                "  --workers 0: the library's default count; --pin 1: pin_workers (the default\n"
                "  config's), else the workers stay where the process was placed\n");
}

static void mark(const char *path, int on)
{
        if (!path)
                return;
        if (on) {
                FILE *f = fopen(path, "w");
                if (f)
                        fclose(f);
        } else {
                unlink(path);
        }
}

int main(int argc, char **argv)
{
        CRYPTO_set_mem_functions(ossl_malloc, ossl_realloc, ossl_free);   /* before any use */
        struct opts o = { "127.0.0.1", 0, 4, 1, 512, 0, 5.0, 1.0, 0.0, 65536, 0, NULL, NULL, -1, 0, 23, 0, NULL, 0 };
        static const struct option lo[] = {
                { "host", required_argument, NULL, 'H' }, { "port", required_argument, NULL, 'p' },
                { "binds", required_argument, NULL, 'b' }, { "workers", required_argument, NULL, 'w' },
                { "window", required_argument, NULL, 'W' }, { "seconds", required_argument, NULL, 's' },
                { "warmup", required_argument, NULL, 'u' }, { "rate", required_argument, NULL, 'r' },
                { "dr", required_argument, NULL, 'd' }, { "ingress", required_argument, NULL, 'i' },
                { "events", required_argument, NULL, 'E' },
                { "submit-batch", required_argument, NULL, 'B' },
                { "mem", required_argument, NULL, 'm' }, { "pause-file", required_argument, NULL, 'f' },
                { "after-bind", required_argument, NULL, 'a' },
                { "app-cpu", required_argument, NULL, 'c' },
                { "text-len", required_argument, NULL, 'T' },
                { "tls-ca", required_argument, NULL, 'L' },
                { "pin", required_argument, NULL, 'P' },
                { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
        };
        int ch;
        while ((ch = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
                switch (ch) {
                case 'H': o.host = optarg; break;
                case 'p': o.port = (unsigned)strtoul(optarg, NULL, 10); break;
                case 'b': o.binds = (unsigned)strtoul(optarg, NULL, 10); break;
                case 'w': o.workers = (unsigned)strtoul(optarg, NULL, 10); break;
                case 'W': o.window = (unsigned)strtoul(optarg, NULL, 10); break;
                case 's': o.seconds = strtod(optarg, NULL); break;
                case 'u': o.warmup = strtod(optarg, NULL); break;
                case 'r': o.rate = strtod(optarg, NULL); break;
                case 'd': o.dr = (unsigned)strtoul(optarg, NULL, 10) != 0; break;
                case 'i': o.ingress = (uint32_t)strtoul(optarg, NULL, 10); break;
                case 'E': o.events = (uint32_t)strtoul(optarg, NULL, 10); break;
                case 'B':
                        o.submit_batch = (unsigned)strtoul(optarg, NULL, 10);
                        if (o.submit_batch > MAX_SUBMIT_BATCH)
                                o.submit_batch = MAX_SUBMIT_BATCH;
                        break;
                case 'm': o.mem = strtoull(optarg, NULL, 10); break;
                case 'f': o.pause_file = optarg; break;
                case 'a': o.after_bind = optarg; break;
                case 'c': o.app_cpu = atoi(optarg); break;
                case 'T': o.text_len = (size_t)strtoul(optarg, NULL, 10); break;
                case 'L': o.tls_ca = optarg; break;
                case 'P': o.pin = atoi(optarg) != 0; break;
                case 'h': usage(stdout); return 0;
                default: usage(stderr); return 2;
                }
        }
        if (!o.port || !o.binds || o.binds > 64 || o.seconds <= 0 ||
            !o.text_len || o.text_len > SMX_TEXT_MAX) {
                usage(stderr);
                return 2;
        }
        for (size_t i = 0; i < o.text_len; i++)
                bench_text[i] = "bench "[i % 6];
        long app_tid = syscall(SYS_gettid);
        ctr_self();
        struct thread_cpu cpu;
        thread_cpu_init(&cpu);     /* no thread but this one yet: every later one is the library's */
        long rss_pre = rss_kib();

        struct smx_smsc_config sc[64];
        char names[64][16];
        memset(sc, 0, sizeof sc);
        for (unsigned i = 0; i < o.binds; i++) {
                snprintf(names[i], sizeof names[i], "b%u", i + 1);
                sc[i].name = names[i];
                sc[i].site = i % 2 ? "s2" : "s1";
                sc[i].host = o.host;
                sc[i].port = (uint16_t)o.port;
                sc[i].tls = o.tls_ca != NULL;
                sc[i].ca_file = o.tls_ca;
        }
        struct smx_config cfg;
        smx_config_init(&cfg);
        cfg.smscs = sc;
        cfg.n_smscs = o.binds;
        cfg.workers = o.workers;
        cfg.pin_workers = o.pin;      /* 0 by default: run.sh places the process with taskset */
        cfg.window = o.window;
        cfg.ingress_capacity = o.ingress;
        if (o.events)
                cfg.event_capacity = o.events;
        cfg.spare_smscs = 0;
        struct run r;
        memset(&r, 0, sizeof r);
        char err[256];
        int rc = smx_client_create(&cfg, &r.c, err, sizeof err);
        if (rc < 0) {
                fprintf(stderr, "bench_e2e: %s\n", err);
                return 2;
        }
        if ((rc = smx_client_start(r.c)) < 0) {
                fprintf(stderr, "bench_e2e: start: %s\n", smx_strerror(rc));
                return 1;
        }
        long rss_created = rss_kib();
        if (o.app_cpu >= 0) {
                /* the workers keep the process's CPU set (taskset); only
                 * this application thread moves */
                cpu_set_t set;
                CPU_ZERO(&set);
                CPU_SET(o.app_cpu, &set);
                int e = pthread_setaffinity_np(pthread_self(), sizeof set, &set);
                if (e)
                        fprintf(stderr, "bench_e2e: --app-cpu %d: %s\n", o.app_cpu, strerror(e));
        }
        uint64_t t = now_us();
        while (r.binds_up < o.binds && now_us() - t < 10000000u) {
                drain_events(&r);
                wait_events(&r, 10);
        }
        if (r.binds_up < o.binds) {
                fprintf(stderr, "bench_e2e: only %llu of %u binds up\n",
                        (unsigned long long)r.binds_up, o.binds);
                return 1;
        }
        /* every bind connecting at once (a bind storm; over TLS, a full
         * handshake each): how long until the last is ACTIVE */
        printf("binds_up_ms=%.1f\n", (double)(now_us() - t) / 1000.0);
        if (o.after_bind && system(o.after_bind) != 0) {
                fprintf(stderr, "bench_e2e: --after-bind command failed\n");
                return 1;
        }
        if (o.mem) {
                run_mem(&r, &o, rss_pre, rss_created);
                smx_client_destroy(r.c);
                return 0;
        }
        /* room for every latency sample of the window, allocated and its
         * pages touched before it: a memset(0) after malloc is turned into
         * calloc by gcc, which writes nothing on fresh mmap'd memory, and the
         * array's first-touch page faults then fell in the window, charged
         * to the application thread (~2 000 a second, 2 % of the samples) */
        r.cap_lat = 20u * 1000u * 1000u;
        r.lat = malloc(r.cap_lat * sizeof *r.lat);
        if (!r.lat)
                return 1;
        for (size_t i = 0; i < r.cap_lat; i += 1024)
                ((volatile uint32_t *)r.lat)[i] = 0;

        submit_loop(&r, &o, now_us() + (uint64_t)(o.warmup * 1e6));
        struct alloc_snap a0, a1;
        struct thread_cpu_snap c0, c1;
        thread_cpu_snapshot(&cpu, &c0);
        alloc_snapshot(app_tid, &a0);
        uint64_t acc0 = r.accepted, sent0 = r.sent, w0 = now_us();
        r.measuring = 1;
        mark(o.pause_file, 1);
        submit_loop(&r, &o, w0 + (uint64_t)(o.seconds * 1e6));
        drain_events(&r);
        uint64_t w1 = now_us();
        mark(o.pause_file, 0);
        r.measuring = 0;
        alloc_snapshot(app_tid, &a1);
        thread_cpu_snapshot(&cpu, &c1);
        uint64_t win_acc = r.accepted - acc0, win_sent = r.sent - sent0;
        int complete = collect_outcomes(&r, 30000000u) == 0;

        double span = (double)(w1 - w0) / 1e6;
        qsort(r.lat, r.n_lat, sizeof *r.lat, cmp_u32);
        double per = win_acc ? 1.0 / (double)win_acc : 0.0;
        struct smx_bind_stats bst[64];
        size_t nbst = smx_client_binds(r.c, bst, 64);
        unsigned running = 0;
        for (size_t i = 0; i < nbst && i < 64; i++)
                if (bst[i].worker + 1 > running)
                        running = bst[i].worker + 1;
        printf("workers=%u\nworkers_running=%u\nbinds=%u\nwindow=%u\nrate=%.0f\n", o.workers,
               running, o.binds, o.window, o.rate);
        printf("window_s=%.3f\nwindow_sent=%llu\nwindow_accepted=%llu\n", span,
               (unsigned long long)win_sent, (unsigned long long)win_acc);
        printf("total_sent=%llu\ntotal_accepted=%llu\ntotal_failed=%llu\n",
               (unsigned long long)r.sent, (unsigned long long)r.accepted,
               (unsigned long long)r.failed);
        printf("lat_samples=%zu\nlat_p50_us=%u\nlat_p99_us=%u\nlat_p999_us=%u\nlat_max_us=%u\n",
               r.n_lat, pct(r.lat, r.n_lat, 50), pct(r.lat, r.n_lat, 99),
               pct(r.lat, r.n_lat, 99.9), r.n_lat ? r.lat[r.n_lat - 1] : 0);
        printf("app_allocs_per_mt=%.6f\napp_frees_per_mt=%.6f\n",
               (double)(a1.app_allocs - a0.app_allocs) * per,
               (double)(a1.app_frees - a0.app_frees) * per);
        printf("lib_allocs_per_mt=%.6f\nlib_frees_per_mt=%.6f\n",
               (double)(a1.lib_allocs - a0.lib_allocs) * per,
               (double)(a1.lib_frees - a0.lib_frees) * per);
        printf("lib_allocs_window=%llu\napp_allocs_window=%llu\n",
               (unsigned long long)(a1.lib_allocs - a0.lib_allocs),
               (unsigned long long)(a1.app_allocs - a0.app_allocs));
        double app_ns, lib_ns;
        thread_cpu_per_mt(&c0, &c1, win_acc, &app_ns, &lib_ns);
        printf("app_cpu_ns_per_mt=%.1f\nlib_cpu_ns_per_mt=%.1f\n", app_ns, lib_ns);
        printf("outcomes_complete=%d\n", complete);
        print_corr_store(r.c);
        printf("dr_events=%llu\ndr_events_correlated=%llu\n", (unsigned long long)r.drs,
               (unsigned long long)r.drs_correlated);
        if (o.tls_ca) {
                struct smx_bind_stats bs[64];
                size_t nb = smx_client_binds(r.c, bs, 64);
                uint64_t hs = 0, res = 0;
                for (size_t i = 0; i < nb && i < 64; i++) {
                        hs += bs[i].tls_handshakes;
                        res += bs[i].tls_resumed;
                }
                printf("tls=1\ntls_version=%s\ntls_cipher=%s\ntls_handshakes=%llu\n"
                       "tls_resumed=%llu\n", nb ? bs[0].tls_version : "",
                       nb ? bs[0].tls_cipher : "", (unsigned long long)hs,
                       (unsigned long long)res);
        }
        printf("mt_per_s=%.0f\n", span > 0 ? (double)win_acc / span : 0.0);
        fflush(stdout);
        smx_client_drain(r.c, 2000);
        drain_events(&r);
        smx_client_destroy(r.c);
        free(r.lat);
        return complete ? 0 : 1;
}
