// Benchmark (run on demand): Modbus read figures.
//  1. samples per second for one meter over Modbus TCP on loopback against meter-sim;
//  2. Modbus transactions per sample for each built-in profile;
//  3. bus time per sample at 9600 and 19200 baud (8E1, from the bytes on the wire), against the
//     minimum for the registers needed if they were one contiguous block.
// Usage: modbus_bench [SECONDS]   (default 5 s of polling)
#include <chrono>
#include <cstdio>
#include <string>

#include "gw/drivers/bus_poller.hpp"
#include "gw/drivers/profile.hpp"
#include "process.hpp"

using namespace std::chrono;

namespace {

/// RTU bytes of one read of n registers: request 8, reply 5 + 2n, and 3.5 character times of
/// silence before each frame.
double rtu_chars(unsigned n) {
    return 8 + 5 + 2.0 * n + 2 * 3.5;
}
double ms_at(double chars, int baud) {
    return chars * 11.0 / baud * 1000.0;
}  // 8E1: 11 bits a character

}  // namespace

int main(int argc, char** argv) {
    const int seconds_to_run = argc > 1 ? std::atoi(argv[1]) : 5;
    std::printf(
        "modbus_bench\n\n1. one meter over Modbus TCP on 127.0.0.1 (eastron-sdm630, meter-sim, %d "
        "s)\n",
        seconds_to_run);
    {
        gw::test::Process sim(
            {GW_METER_SIM, "--tcp", "127.0.0.1:0", "--scenario", "fixed", "--print-s", "0"});
        auto line = sim.wait_for_line("listening", seconds{5});
        if (!line) {
            std::fprintf(stderr, "meter-sim did not start\n");
            return 1;
        }
        gw::LinkConfig link;
        link.id = "lan";
        link.host = "127.0.0.1";
        link.port = static_cast<std::uint16_t>(std::stoi(line->substr(line->rfind(':') + 1)));
        gw::MeterConfig m;
        m.meter_ean = *gw::Ean18::parse("871685900000000028");
        m.registers = gw::find_profile("eastron-sdm630")->map;
        const gw::SystemClock clock;
        gw::BusPoller poller(link, {m}, clock, [](gw::PollResult&&) {});
        std::uint64_t ok = 0, failed = 0;
        const auto t0 = steady_clock::now();
        const auto end = t0 + seconds{seconds_to_run};
        while (steady_clock::now() < end) {
            auto r = poller.poll_once(0);
            (r.sample ? ok : failed)++;
        }
        const double s = duration<double>(steady_clock::now() - t0).count();
        std::printf(
            "   %llu samples (%llu failed) in %.2f s: %.0f samples/s, %.0f us per sample, %zu "
            "transactions each\n",
            static_cast<unsigned long long>(ok), static_cast<unsigned long long>(failed), s,
            static_cast<double>(ok) / s, s * 1e6 / static_cast<double>(ok),
            poller.plan(0).transactions());
    }

    std::printf(
        "\n2./3. per profile (gap tolerance 8 registers): transactions and RTU bus time per "
        "sample\n");
    std::printf("   %-20s %5s %6s %6s | %9s %9s | %9s %9s | %s\n", "profile", "reads", "regs",
                "needed", "9600 ms", "min ms", "19200 ms", "min ms", "overhead");
    for (const auto& p : gw::builtin_profiles()) {
        gw::MeterConfig m;
        m.registers = p.map;
        const auto wanted = gw::needed_registers(m);
        const auto plan = gw::plan_reads(m.registers, wanted, 8);
        unsigned needed = 0;
        for (gw::Reg r : wanted) needed += gw::register_count(m.registers[r]->type);
        double chars = 0;
        for (const auto& b : plan.blocks) chars += rtu_chars(b.count);
        const double min_chars = rtu_chars(needed);
        std::printf("   %-20s %5zu %6u %6u | %9.1f %9.1f | %9.1f %9.1f | %+.0f%%\n",
                    std::string(p.name).c_str(), plan.transactions(), plan.registers(), needed,
                    ms_at(chars, 9600), ms_at(min_chars, 9600), ms_at(chars, 19200),
                    ms_at(min_chars, 19200), (chars / min_chars - 1) * 100);
    }
    std::printf(
        "\n   (bus time excludes the meter's own turnaround, typically 5-50 ms a request)\n");
    return 0;
}
