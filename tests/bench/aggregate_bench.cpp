// Benchmark (run on demand, under callgrind): instructions per sample and per closed interval.
// Usage: valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file=F aggregate_bench MODE N
// DIR
//   MODE samples:   N samples decoded from register words, turned into samples and aggregated
//   MODE intervals: N intervals closed and committed to SQLite (one fsync'd transaction each)
// tests/bench/cpu_bench runs both and prints the figures.
#include <valgrind/callgrind.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "gw/aggregation/aggregator.hpp"
#include "gw/drivers/decode.hpp"
#include "gw/drivers/profile.hpp"
#include "gw/store/store.hpp"

using namespace std::chrono;

int main(int argc, char** argv) {
    if (argc < 4) {
        std::fprintf(stderr, "usage: aggregate_bench samples|intervals N DIR\n");
        return 2;
    }
    const std::string mode = argv[1];
    const long n = std::atol(argv[2]);
    const std::string db = std::string(argv[3]) + "/aggregate-bench.db";
    gw::MeterConfig m;
    m.meter_ean = *gw::Ean18::parse("871685900000000028");
    m.registers = gw::find_profile("eastron-sdm630")->map;
    const auto plan = gw::plan_reads(m.registers, gw::needed_registers(m), 8);
    // Register words as a meter would return them.
    std::vector<std::vector<std::uint16_t>> words(plan.blocks.size());
    for (std::size_t b = 0; b < plan.blocks.size(); ++b) {
        words[b].assign(plan.blocks[b].count, 0);
        for (gw::Reg r : plan.blocks[b].members) {
            const auto& spec = *m.registers[r];
            const auto w = gw::encode_value(spec, r == gw::Reg::p_total ? -48'300.0 : 231.4);
            std::copy(w.begin(), w.end(), words[b].begin() + (spec.address - plan.blocks[b].start));
        }
    }
    std::filesystem::remove(db);
    auto store = gw::Store::open(db);
    if (!store) return 1;
    gw::IntervalAggregator agg(m, 300);
    const gw::SysMs t0{seconds{1'795'435'200}};
    const gw::SteadyMs s0{};

    if (mode == "samples") {
        CALLGRIND_START_INSTRUMENTATION;
        for (long i = 0; i < n; ++i) {
            std::optional<gw::Error> err;
            const auto raw = gw::decode_blocks(m.registers, plan, words, err);
            auto s =
                gw::make_sample(m, raw, t0 + milliseconds{i * 1000}, s0 + milliseconds{i * 1000});
            if (s) agg.add(*s);
        }
        CALLGRIND_STOP_INSTRUMENTATION;
    } else {
        // Fill n intervals with one sample each, then measure closing and committing them.
        for (long i = 0; i < n; ++i) {
            gw::Sample s;
            s.at = t0 + seconds{300 * i};
            s.steady = s0 + seconds{300 * i};
            s.p_w = -48'300;
            s.u_v = {231.4, 231.4, 231.4};
            s.e_import_wh = 1e6;
            s.e_export_wh = 2e6;
            agg.add(s);
        }
        CALLGRIND_START_INSTRUMENTATION;
        for (auto& c : agg.close_due(t0 + seconds{300 * n + 10}, milliseconds{1500}))
            (void)(*store)->commit_interval(c.record, c.energy ? &*c.energy : nullptr, true,
                                            c.events, t0);
        CALLGRIND_STOP_INSTRUMENTATION;
    }
    store->reset();
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(db + suffix);
    return 0;
}
