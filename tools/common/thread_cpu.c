/* CPU time per thread group from /proc/self/task/TID/schedstat (see
 * thread_cpu.h). The groups are decided by thread id: the caller of
 * thread_cpu_init(), the threads alive at that moment, everything later. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "thread_cpu.h"

void thread_cpu_init(struct thread_cpu *t)
{
        memset(t, 0, sizeof *t);
        t->app_tid = syscall(SYS_gettid);
        DIR *d = opendir("/proc/self/task");
        if (!d)
                return;
        struct dirent *e;
        while ((e = readdir(d)) != NULL && t->n_others < THREAD_CPU_MAX_OTHERS) {
                long tid = atol(e->d_name);
                if (tid > 0 && tid != t->app_tid)
                        t->others[t->n_others++] = tid;
        }
        closedir(d);
}

static int is_other(const struct thread_cpu *t, long tid)
{
        for (size_t i = 0; i < t->n_others; i++)
                if (t->others[i] == tid)
                        return 1;
        return 0;
}

void thread_cpu_snapshot(const struct thread_cpu *t, struct thread_cpu_snap *s)
{
        memset(s, 0, sizeof *s);
        DIR *d = opendir("/proc/self/task");
        if (!d)
                return;
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
                long tid = atol(e->d_name);
                if (tid <= 0)
                        continue;
                char path[64];
                snprintf(path, sizeof path, "/proc/self/task/%ld/schedstat", tid);
                FILE *f = fopen(path, "r");
                if (!f)
                        continue;
                unsigned long long ns = 0;
                if (fscanf(f, "%llu", &ns) == 1) {
                        if (tid == t->app_tid)
                                s->app_ns += ns;
                        else if (is_other(t, tid))
                                s->other_ns += ns;
                        else
                                s->lib_ns += ns;
                }
                fclose(f);
        }
        closedir(d);
}

void thread_cpu_per_mt(const struct thread_cpu_snap *earlier, const struct thread_cpu_snap *later,
                       uint64_t mts, double *app_ns, double *lib_ns)
{
        double per = mts ? 1.0 / (double)mts : 0.0;
        *app_ns = (double)(later->app_ns - earlier->app_ns) * per;
        *lib_ns = (double)(later->lib_ns - earlier->lib_ns) * per;
}
