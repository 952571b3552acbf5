// The C++ side of gbench_shim.h: maps the C calls onto benchmark::State and
// benchmark::RegisterBenchmark. This is the only C++ file of the benchmarks.
// The opaque `struct gbench_state` is the benchmark::State itself, so a C
// call costs one function call and nothing else.
#include "gbench_shim.h"

#include <benchmark/benchmark.h>

#include <string>

namespace {

benchmark::State &as_state(struct gbench_state *st)
{
        return *reinterpret_cast<benchmark::State *>(st);
}

const benchmark::State &as_state(const struct gbench_state *st)
{
        return *reinterpret_cast<const benchmark::State *>(st);
}

}  // namespace

extern "C" int gbench_register(const char *name, gbench_fn fn, void *arg)
{
        if (name == nullptr || *name == '\0' || fn == nullptr)
                return -1;
        benchmark::RegisterBenchmark(std::string(name).c_str(), [fn, arg](benchmark::State &state) {
                fn(reinterpret_cast<struct gbench_state *>(&state), arg);
        });
        return 0;
}

extern "C" int gbench_keep_running(struct gbench_state *st)
{
        return as_state(st).KeepRunning() ? 1 : 0;
}

extern "C" int gbench_keep_running_batch(struct gbench_state *st, int64_t n)
{
        return as_state(st).KeepRunningBatch(static_cast<benchmark::IterationCount>(n)) ? 1 : 0;
}

extern "C" int64_t gbench_iterations(const struct gbench_state *st)
{
        return static_cast<int64_t>(as_state(st).iterations());
}

extern "C" void gbench_set_items_processed(struct gbench_state *st, int64_t items)
{
        as_state(st).SetItemsProcessed(items);
}

extern "C" void gbench_set_bytes_processed(struct gbench_state *st, int64_t bytes)
{
        as_state(st).SetBytesProcessed(bytes);
}

extern "C" void gbench_set_label(struct gbench_state *st, const char *label)
{
        as_state(st).SetLabel(label != nullptr ? label : "");
}

extern "C" void gbench_set_counter(struct gbench_state *st, const char *name, double value)
{
        if (name != nullptr)
                as_state(st).counters[name] = benchmark::Counter(value);
}

extern "C" void gbench_skip_with_error(struct gbench_state *st, const char *msg)
{
        as_state(st).SkipWithError(msg != nullptr ? msg : "error");
}

extern "C" void gbench_pause_timing(struct gbench_state *st)
{
        as_state(st).PauseTiming();
}

extern "C" void gbench_resume_timing(struct gbench_state *st)
{
        as_state(st).ResumeTiming();
}

extern "C" int gbench_main(int argc, char **argv)
{
        benchmark::Initialize(&argc, argv);
        if (benchmark::ReportUnrecognizedArguments(argc, argv))
                return 1;
        benchmark::RunSpecifiedBenchmarks();
        benchmark::Shutdown();
        return 0;
}
