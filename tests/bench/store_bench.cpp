// Benchmark (run on demand): write a month of 5-minute intervals for two meters, one durable
// transaction each as the daemon does, then read one day and the whole month back.
// Usage: store_bench [DIR]   (DIR: where the database goes; default /tmp)
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>

#include "gw/store/store.hpp"

using namespace std::chrono;

int main(int argc, char** argv) {
    const std::string dir = argc > 1 ? argv[1] : "/tmp";
    const std::string path = dir + "/store-bench-" + std::to_string(::getpid()) + ".db";
    auto opened = gw::Store::open(path);
    if (!opened) {
        std::fprintf(stderr, "store_bench: %s\n", opened.error().message.c_str());
        return 1;
    }
    gw::Store& store = **opened;
    const gw::Ean18 meters[2] = {*gw::Ean18::parse("871685900000000028"),
                                 *gw::Ean18::parse("871685900000000035")};
    const gw::SysS start{seconds{1'795'435'200}};
    constexpr int k_per_day = 288, k_days = 31;

    const auto t0 = steady_clock::now();
    for (int i = 1; i <= k_per_day * k_days; ++i) {
        for (const auto& m : meters) {
            gw::IntervalRecord r{m, start + minutes{5 * i}};
            r.p_w = -1'000'000.0 + i;
            r.q_var = 12'000.0;
            r.u1_v = 231.35;
            r.u2_v = 230.9;
            r.u3_v = 231.0;
            r.samples = 300;
            r.coverage = 1.0;
            gw::EnergyReading e{m, r.end, 1e6 + i, 2e6 + i, 3e5, 4e5};
            if (auto st =
                    store.commit_interval(r, &e, true, {}, gw::SysMs{r.end.time_since_epoch()});
                !st) {
                std::fprintf(stderr, "store_bench: %s\n", st.error().message.c_str());
                return 1;
            }
        }
    }
    const auto t1 = steady_clock::now();
    const int writes = 2 * k_per_day * k_days;

    auto time_read = [&](gw::SysS from, gw::SysS to, int reps, std::size_t& rows) {
        const auto a = steady_clock::now();
        for (int r = 0; r < reps; ++r) {
            auto res = store.intervals(meters[1], from, to, 0, 100'000);
            rows = res ? res->size() : 0;
        }
        return duration<double, std::micro>(steady_clock::now() - a).count() / reps;
    };
    std::size_t day_rows = 0, month_rows = 0;
    const gw::SysS mid = start + days{15};
    const double day_us = time_read(mid, mid + days{1}, 200, day_rows);
    const double month_us = time_read(start, start + days{k_days}, 20, month_rows);
    const auto stats = store.stats();

    std::printf("store_bench: %s\n", path.c_str());
    std::printf("  write: %d intervals (2 meters x 31 days x 288), one fsync'd transaction each\n",
                writes);
    std::printf("         %.1f s total, %.2f ms per interval, %.0f intervals/s\n",
                duration<double>(t1 - t0).count(),
                duration<double, std::milli>(t1 - t0).count() / writes,
                writes / duration<double>(t1 - t0).count());
    std::printf("  read one day   (%zu rows): %.0f us\n", day_rows, day_us);
    std::printf("  read the month (%zu rows): %.0f us\n", month_rows, month_us);
    std::printf("  file size: %.1f MiB\n",
                stats ? static_cast<double>(stats->file_bytes) / 1048576.0 : 0.0);
    opened->reset();
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);
    return 0;
}
